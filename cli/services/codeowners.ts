/**
 * `fleet codeowners [--check]`: CODEOWNERS entries for each agent's own files
 * (its build context), from the agents' `owner` fields in every stack, so
 * that an agent's owners review changes to it.
 *
 * A command that writes the file, not a resource of the GitHub governance
 * component: CODEOWNERS takes effect from the default branch, so it belongs
 * in a reviewed commit like any other change. A `github.RepositoryFile`
 * would commit straight to main from a deploy, past branch protection, with
 * a token allowed to write contents, and would fight every local edit.
 * `--check` keeps it honest in CI: it fails when the file and the owners differ.
 */
import { promises as fs } from "fs";
import * as path from "path";
import { FleetSpec, openStackViews } from "../../config";
import { EXIT, UserError, Output, asCommand } from "../output";

const CODEOWNERS_FILE = ".github/CODEOWNERS";
const BLOCK_BEGIN = "# BEGIN agent-fleet: written by `npx fleet codeowners` from the agents' owner fields; edit those, not these lines";
const BLOCK_END = "# END agent-fleet";

/** What CODEOWNERS accepts as an owner: @user, @org/team, or an email. */
const OWNER_RE = /^(@[A-Za-z0-9-]+(\/[A-Za-z0-9._-]+)?|[^@\s]+@[^@\s]+\.[^@\s]+)$/;

interface CodeownersEntry {
    /** "/agents/sample-agent/": anchored at the repository root, a directory. */
    readonly path: string;
    readonly owners: readonly string[];
    /** "<stack>/<agent>" of every agent that builds from it, for the reader. */
    readonly agents: readonly string[];
}

export interface CodeownersOptions {
    readonly cwd?: string;
    /** Compare instead of writing: exit 1 when the file differs. */
    readonly check?: boolean;
    readonly json?: boolean;
}

/** One entry per build context that an agent with an owner builds from, in path order. */
function codeownersEntries(stacks: readonly FleetSpec[]): CodeownersEntry[] {
    const byPath = new Map<string, { owners: Set<string>; agents: Set<string> }>();
    for (const spec of stacks) {
        for (const agent of spec.agents) {
            if (!agent.owner || !agent.build) continue;
            if (!OWNER_RE.test(agent.owner)) {
                throw new UserError(`${spec.stackFile}: fleet.agents.${agent.name}.owner: expected a GitHub user, team or email CODEOWNERS accepts ("@acme/sales-eng"), got ${JSON.stringify(agent.owner)}`);
            }
            const dir = `/${path.posix.normalize(agent.build.context.replace(/\\/g, "/")).replace(/^\.?\/+/, "").replace(/\/+$/, "")}/`;
            const entry = byPath.get(dir) ?? { owners: new Set<string>(), agents: new Set<string>() };
            entry.owners.add(agent.owner);
            entry.agents.add(`${spec.stack}/${agent.name}`);
            byPath.set(dir, entry);
        }
    }
    return [...byPath].sort(([a], [b]) => a.localeCompare(b)).map(([p, e]) => ({ path: p, owners: [...e.owners].sort(), agents: [...e.agents].sort() }));
}

/** The managed block: one comment naming the agents, then the rule, per entry. */
function codeownersBlock(entries: readonly CodeownersEntry[]): string {
    const lines = entries.flatMap((e) => [`# ${e.agents.join(", ")}`, `${e.path} ${e.owners.join(" ")}`]);
    return [BLOCK_BEGIN, ...lines, BLOCK_END].join("\n");
}

/** The file with its managed block replaced (or appended); lines outside the block are kept as they are. */
function withBlock(existing: string, block: string): string {
    const begin = existing.indexOf(BLOCK_BEGIN);
    const end = existing.indexOf(BLOCK_END, begin);
    if (begin >= 0 && end >= 0) return `${existing.slice(0, begin)}${block}${existing.slice(end + BLOCK_END.length)}`;
    const head = existing.trimEnd();
    return `${head ? `${head}\n\n` : ""}${block}\n`;
}

function stackSpecs(cwd: string): FleetSpec[] {
    return openStackViews(cwd).map((view) => view.spec());
}

export function runCodeowners(options: CodeownersOptions, output: Output): Promise<number> {
    return asCommand(output, async () => {
        const cwd = options.cwd ?? process.cwd();
        const entries = codeownersEntries(stackSpecs(cwd));
        const file = path.join(cwd, CODEOWNERS_FILE);
        const existing = await fs.readFile(file, "utf8").catch(() => "");
        const wanted = withBlock(existing, codeownersBlock(entries));
        const current = existing === wanted;
        if (options.json) {
            output.out(JSON.stringify({ file: CODEOWNERS_FILE, current, entries }, null, 2));
        }
        if (options.check) {
            if (!options.json) output.out(current ? `${CODEOWNERS_FILE} matches the agents' owners.` : `${CODEOWNERS_FILE} differs from the agents' owners; run \`npx fleet codeowners\` and commit it.`);
            return current ? EXIT.ok : EXIT.failed;
        }
        if (!current) {
            await fs.mkdir(path.dirname(file), { recursive: true });
            await fs.writeFile(`${file}.tmp`, wanted);
            await fs.rename(`${file}.tmp`, file);
        }
        if (!options.json) output.out(`${current ? "unchanged" : "wrote"} ${CODEOWNERS_FILE}: ${entries.map((e) => `${e.path} ${e.owners.join(" ")}`).join("; ") || "no agent with an owner builds from this repository"}`);
        return EXIT.ok;
    });
}
