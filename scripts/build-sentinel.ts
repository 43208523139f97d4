/**
 * Bundles the sentinel (agents/sentinel/src, the shared alerts/ and contract/
 * code, and dockerode) into one file, agents/sentinel/dist/sentinel.js, which
 * its Dockerfile copies. One file means the image needs no npm and no
 * registry: it builds on any base that has `node`, like the sample agent.
 *
 *   npm run build:sentinel
 */
import * as path from "path";
import { build } from "esbuild";

export const SENTINEL_DIR = path.join(__dirname, "..", "agents", "sentinel");
export const SENTINEL_BUNDLE = path.join(SENTINEL_DIR, "dist", "sentinel.js");

export async function buildSentinelBundle(): Promise<string> {
    await build({
        entryPoints: [path.join(SENTINEL_DIR, "src", "main.ts")],
        outfile: SENTINEL_BUNDLE,
        bundle: true,
        platform: "node",
        target: "node20",
        // ssh2 (which dockerode loads for ssh:// hosts) is bundled as JavaScript; its optional native addons are
        // loaded in try/catch and left out, so the bundle runs on any node.
        external: ["cpu-features", "*.node"],
        legalComments: "none",
        logLevel: "warning",
    });
    return SENTINEL_BUNDLE;
}

if (require.main === module) {
    buildSentinelBundle().then((file) => process.stdout.write(`built ${path.relative(process.cwd(), file)}\n`), (error: unknown) => {
        process.stderr.write(`build:sentinel failed: ${error instanceof Error ? error.message : String(error)}\n`);
        process.exitCode = 1;
    });
}
