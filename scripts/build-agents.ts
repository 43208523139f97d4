/**
 * Bundles each of the repository's own images' programs into one JavaScript
 * file that its Dockerfile copies: the sample agent (server.js and
 * prom-client) into agents/sample-agent/dist/server.js, and the sentinel
 * (agents/sentinel/src, the shared alerts/ and contract/ code, and dockerode)
 * into agents/sentinel/dist/sentinel.js. One file means an image needs no npm
 * and no registry: it builds on any base that has `node`.
 *
 *   npm run build:agents      (npm install runs it too)
 */
import { promises as fs } from "fs";
import * as path from "path";
import { build } from "esbuild";

const AGENTS_DIR = path.join(__dirname, "..", "agents");

/** A bundled image program: its Docker build context, entry point and output. */
export interface AgentBundle {
    readonly context: string;
    readonly entry: string;
    readonly outfile: string;
}

export const SAMPLE_AGENT: AgentBundle = {
    context: path.join(AGENTS_DIR, "sample-agent"),
    entry: path.join(AGENTS_DIR, "sample-agent", "server.js"),
    outfile: path.join(AGENTS_DIR, "sample-agent", "dist", "server.js"),
};

export const SENTINEL: AgentBundle = {
    context: path.join(AGENTS_DIR, "sentinel"),
    entry: path.join(AGENTS_DIR, "sentinel", "src", "main.ts"),
    outfile: path.join(AGENTS_DIR, "sentinel", "dist", "sentinel.js"),
};

export async function bundle(target: AgentBundle): Promise<string> {
    const result = await build({
        entryPoints: [target.entry],
        outfile: target.outfile,
        write: false,
        bundle: true,
        platform: "node",
        target: "node20",
        // ssh2 (which dockerode loads for ssh:// hosts) is bundled as JavaScript; its optional native addons are
        // loaded in try/catch and left out, so the bundle runs on any node.
        external: ["cpu-features", "*.node"],
        legalComments: "none",
        logLevel: "warning",
    });
    // Written aside and renamed into place: a build or a copy of the context running at the same time
    // (two test suites, or `npm install` beside a deploy) reads the old bundle or the new one, never half of one.
    await fs.mkdir(path.dirname(target.outfile), { recursive: true });
    for (const file of result.outputFiles) {
        const aside = `${file.path}.${process.pid}.tmp`;
        await fs.writeFile(aside, file.contents);
        await fs.rename(aside, file.path);
    }
    return target.outfile;
}

if (require.main === module) {
    Promise.all([SAMPLE_AGENT, SENTINEL].map(bundle)).then((files) => {
        for (const file of files) process.stdout.write(`built ${path.relative(process.cwd(), file)}\n`);
    }, (error: unknown) => {
        process.stderr.write(`build:agents failed: ${error instanceof Error ? error.message : String(error)}\n`);
        process.exitCode = 1;
    });
}
