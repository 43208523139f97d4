/**
 * The GitHub side of the fleet on the real engine: the real program, with a
 * stack that opts into governance (`agent-fleet:github`) and an agent that
 * takes a GitHub webhook, deployed by the GitHub provider (built from its Go
 * module, see docs/contributing.md) against a local stand-in for
 * GitHub's REST API (test/support/github-api.ts) at the provider's base URL.
 *
 * Skipped, saying why, without the CLI, the language host, or the docker and
 * github plugins at the program's versions.
 */
import { createHmac, randomUUID } from "node:crypto";
import { promises as fs } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { FLEET_LABELS } from "../../components";
import { LABELS } from "../../contract";
import { buildSampleAgentImage, dockerClient, requireDocker } from "../support/docker";
import { GitHubApiStandIn } from "../support/github-api";
import { skipUnlessAvailable } from "../support/requirements";
import { DOCKER_PLUGIN_VERSION, GITHUB_PLUGIN_VERSION, Workspace, expectOk, missingForDeployments, pulumiOnPath } from "./workspace";

const STEP_TIMEOUT = 600_000;
const STACK = "github";
const OWNER = "acme";
const FLEET_REPOSITORY = `${OWNER}/agent-fleet`;
const HOOK_REPOSITORY = `${OWNER}/research`;
const BASE_URL = "https://hooks.e2e.example";
/** Seeded values: none may show up in state, the stack file or anything the CLI prints. */
const TOKEN = "e2e-SEEDED-github-token-4b7d1e";
const PASSPHRASE = "e2e-SEEDED-actions-passphrase-91b2c0";
const ROTATED_PASSPHRASE = "e2e-SEEDED-actions-passphrase-rotated-77aa10";
const HOOK_SECRET = "e2e-SEEDED-hook-secret-5d0c3f";
const SEEDED = [TOKEN, PASSPHRASE, ROTATED_PASSPHRASE, HOOK_SECRET];

const cli = pulumiOnPath();
const skip = skipUnlessAvailable("test/e2e/github",
    cli ? missingForDeployments([{ name: "docker", version: DOCKER_PLUGIN_VERSION }, { name: "github", version: GITHUB_PLUGIN_VERSION }]) : ["a `pulumi` CLI on PATH"]);

/** The stack file: one agent with a GitHub webhook, and the governance opt-in, as docs/guides/github.md shows them (no `github:owner`: the repositories name it). */
function stackFile(image: string, waitMinutes: number, events: readonly string[]): string {
    return [
        "config:",
        "  agent-fleet:fleet:",
        "    environment: dev",
        `    webhookBaseUrl: ${BASE_URL}`,
        "    agentDefaults:",
        "      tier: 1",
        "      port: 8080",
        "      memory: 128Mi",
        '      healthcheck: { interval: "2s", timeout: "2s", retries: 2, startPeriod: "1s" }',
        "      waitTimeout: 30s",
        "    agents:",
        "      research:",
        `        image: ${image}`,
        '        owner: "@acme/research-eng"',
        "        webhooks:",
        "          - name: github-push",
        "            source: github",
        "            path: /webhooks/github",
        "            secret: researchHookSecret",
        `            repository: ${HOOK_REPOSITORY}`,
        `            events: [${events.join(", ")}]`,
        "  agent-fleet:github:",
        `    repository: ${FLEET_REPOSITORY}`,
        "    productionReviewers: { users: [1001], teams: [2002] }",
        `    productionWaitMinutes: ${waitMinutes}`,
        "    actionsSecrets:",
        "      PULUMI_CONFIG_PASSPHRASE: ciPassphrase",
        "    actionsVariables:",
        "      FLEET_STACKS: staging,production",
        "",
    ].join("\n");
}

describe.skipIf(skip).sequential(`the GitHub side of the fleet on the real engine (${cli})`, () => {
    let ws: Workspace;
    let github: GitHubApiStandIn;
    let env: Record<string, string>;
    let image: string;
    let hookIdAfterCreate: number;
    let labelIdsAfterCreate: number[];

    const pulumi = (...args: string[]) => ws.pulumiOnWith(STACK, env, ...args);
    const fleetRepo = () => github.repository(FLEET_REPOSITORY);
    const hookRepo = () => github.repository(HOOK_REPOSITORY);

    beforeAll(async () => {
        await requireDocker();
        image = await buildSampleAgentImage();
        github = new GitHubApiStandIn(TOKEN, [FLEET_REPOSITORY, HOOK_REPOSITORY], [OWNER]);
        // The provider reads its base URL and token from the environment, as a user's CI would set them.
        env = { GITHUB_TOKEN: TOKEN, GITHUB_BASE_URL: await github.start() };
        ws = await Workspace.create();
        await fs.writeFile(path.join(ws.dir, "stacks", `Pulumi.${STACK}.yaml`), stackFile(image, 10, ["push", "pull_request"]));
        expectOk(await pulumi("stack", "init", "--secrets-provider", "passphrase"), "pulumi stack init");
        expectOk(await pulumi("config", "set", "--secret", "ciPassphrase", PASSPHRASE), "pulumi config set --secret ciPassphrase");
        expectOk(await pulumi("config", "set", "--secret", "researchHookSecret", HOOK_SECRET), "pulumi config set --secret researchHookSecret");
    }, STEP_TIMEOUT);

    afterAll(async () => {
        if (ws) {
            await pulumi("destroy", "--yes", "--skip-preview").catch(() => undefined);
            await ws.remove();
        }
        await github?.stop();
        // The agent runs with environment dev, like the dev suite's: a failed destroy must not leave it to that suite.
        const docker = dockerClient();
        const mine = { label: [`${LABELS.stack}=${STACK}`] };
        for (const c of await docker.listContainers({ all: true, filters: mine })) await docker.getContainer(c.Id).remove({ force: true });
        for (const n of await docker.listNetworks({ filters: mine })) await docker.getNetwork(n.Id).remove();
    }, STEP_TIMEOUT);

    it("1. pulumi up declares the environments, the Actions secret and variable, the labels and the webhook, as GitHub would hold them; the agent accepts a delivery signed with the registered secret", async () => {
        expectOk(await pulumi("up", "--yes", "--skip-preview"), "pulumi up");
        expect(github.refused).toEqual([]);
        // Every call carried the token.
        expect(github.seen.length).toBeGreaterThan(0);
        expect(github.seen.filter((r) => !r.auth?.endsWith(TOKEN))).toEqual([]);

        const environments = fleetRepo().environments;
        expect([...environments.keys()].sort()).toEqual(["production", "staging"]);
        const production = environments.get("production")!;
        expect({
            waitTimer: production.waitTimer, preventSelfReview: production.preventSelfReview, canAdminsBypass: production.canAdminsBypass,
            reviewers: [...production.reviewers].sort((a, b) => a.id - b.id), policy: production.deploymentBranchPolicy,
            branches: [...production.branchPolicies.values()].map((p) => ({ name: p.name, type: p.type })),
        }).toEqual({
            waitTimer: 10, preventSelfReview: true, canAdminsBypass: false,
            reviewers: [{ type: "User", id: 1001 }, { type: "Team", id: 2002 }], policy: { protected_branches: false, custom_branch_policies: true },
            branches: [{ name: "main", type: "branch" }],
        });
        const staging = environments.get("staging")!;
        expect({ waitTimer: staging.waitTimer, reviewers: staging.reviewers, policy: staging.deploymentBranchPolicy }).toEqual({ waitTimer: 0, reviewers: [], policy: null });

        // The Actions secret arrived sealed to the repository's public key, and opens to the configured value.
        expect(fleetRepo().secrets.get("PULUMI_CONFIG_PASSPHRASE")?.plaintext).toBe(PASSPHRASE);
        const secretPut = github.seen.find((r) => r.method === "PUT" && r.path.endsWith("/actions/secrets/PULUMI_CONFIG_PASSPHRASE"));
        expect(secretPut?.body).toMatchObject({ key_id: expect.any(String), encrypted_value: expect.any(String) });
        expect(JSON.stringify(github.seen.map((r) => r.body))).not.toContain(PASSPHRASE);
        expect(fleetRepo().variables.get("FLEET_STACKS")?.value).toBe("staging,production");

        expect([...fleetRepo().labels.values()].map((l) => ({ name: l.name, color: l.color, description: l.description })).sort((a, b) => a.name.localeCompare(b.name)))
            .toEqual(FLEET_LABELS.map((l) => ({ name: l.name, color: l.color, description: l.description })).sort((a, b) => a.name.localeCompare(b.name)));
        labelIdsAfterCreate = [...fleetRepo().labels.values()].map((l) => l.id).sort();

        // The agent's webhook: on its own repository, through the provider for that owner.
        const hooks = [...hookRepo().hooks.values()];
        expect(hooks).toHaveLength(1);
        expect({ ...hooks[0], events: [...hooks[0].events].sort() }).toMatchObject({
            active: true, events: ["pull_request", "push"],
            config: { url: `${BASE_URL}/webhooks/github`, content_type: "json", insecure_ssl: "0", secret: HOOK_SECRET },
        });
        hookIdAfterCreate = hooks[0].id;
        expect([...fleetRepo().hooks.values()]).toEqual([]);

        // Both ends hold one secret: a delivery signed as GitHub signs it, with the secret GitHub was given,
        // is accepted by the deployed agent; one signed otherwise is refused.
        const agents = JSON.parse((await pulumi("stack", "output", "agents", "--json")).stdout) as Record<string, { healthUrls: string[] }>;
        const hookUrl = agents.research.healthUrls[0].replace(/\/health$/, "/webhooks/github");
        const deliver = async (secret: string) => {
            const body = JSON.stringify({ ref: "refs/heads/main", repository: { full_name: HOOK_REPOSITORY } });
            const signature = `sha256=${createHmac("sha256", secret).update(body).digest("hex")}`;
            const res = await fetch(hookUrl, {
                method: "POST", body, signal: AbortSignal.timeout(10_000),
                headers: { "content-type": "application/json", "x-github-event": "push", "x-github-delivery": randomUUID(), "x-hub-signature-256": signature },
            });
            return res.status;
        };
        expect(await deliver(hooks[0].config.secret!)).toBe(202);
        expect(await deliver("not-the-registered-secret")).toBe(401);
    }, STEP_TIMEOUT);

    it("2. a refreshed preview straight after finds no change: everything reads back as written; every policy, made mandatory, passes on the real resources", async () => {
        const preview = await pulumi("preview", "--refresh", "--expect-no-changes", "--diff");
        expectOk(preview, "pulumi preview --refresh --expect-no-changes");
        expect(github.refused).toEqual([]);
        // webhook-signing reads the registration's secret and TLS setting as the real engine hands them over.
        await fs.writeFile(path.join(ws.dir, "stacks", `policy.${STACK}.json`), JSON.stringify({ all: "mandatory" }));
        const policed = await pulumi("preview", "--policy-pack", "policies", "--policy-pack-config", `stacks/policy.${STACK}.json`);
        expectOk(policed, "pulumi preview with the policy pack, every policy mandatory");
        expect(policed.stdout).not.toMatch(/mandatory|advisory/i);
    }, STEP_TIMEOUT);

    it("3. a longer wait, one more event and a rotated secret update in place: same hook, same labels, the new value sealed; the token and base URL now from stack config", async () => {
        // As a user without the environment variables would: both providers (governance's and the webhook's) must pick these up.
        expectOk(await pulumi("config", "set", "--secret", "github:token", TOKEN), "pulumi config set --secret github:token");
        expectOk(await pulumi("config", "set", "github:baseUrl", env.GITHUB_BASE_URL), "pulumi config set github:baseUrl");
        env = { GITHUB_TOKEN: "", GITHUB_BASE_URL: "" };
        const seenBefore = github.seen.length;
        await ws.editStack(STACK, (doc) => {
            doc.setIn(["config", "agent-fleet:github", "productionWaitMinutes"], 15);
            doc.setIn(["config", "agent-fleet:fleet", "agents", "research", "webhooks", 0, "events"], ["push", "pull_request", "release"]);
        });
        expectOk(await pulumi("config", "set", "--secret", "ciPassphrase", ROTATED_PASSPHRASE), "pulumi config set --secret ciPassphrase");
        const up = await pulumi("up", "--yes", "--skip-preview");
        expectOk(up, "pulumi up");
        expect(up.stdout).not.toMatch(/replaced/);
        expect(github.refused).toEqual([]);
        expect(github.seen.length).toBeGreaterThan(seenBefore);
        expect(fleetRepo().environments.get("production")?.waitTimer).toBe(15);
        expect([...fleetRepo().environments.get("production")!.branchPolicies.values()].map((p) => p.name)).toEqual(["main"]);
        expect(fleetRepo().secrets.get("PULUMI_CONFIG_PASSPHRASE")?.plaintext).toBe(ROTATED_PASSPHRASE);
        const hooks = [...hookRepo().hooks.values()];
        expect(hooks.map((h) => ({ id: h.id, events: [...h.events].sort() }))).toEqual([{ id: hookIdAfterCreate, events: ["pull_request", "push", "release"] }]);
        expect([...fleetRepo().labels.values()].map((l) => l.id).sort()).toEqual(labelIdsAfterCreate);
        expectOk(await pulumi("preview", "--refresh", "--expect-no-changes"), "pulumi preview --refresh --expect-no-changes after the update");
    }, STEP_TIMEOUT);

    it("4. no seeded secret reaches the state, the stack file or the CLI's output", async () => {
        const state = await ws.stateText();
        const stack = await fs.readFile(path.join(ws.dir, "stacks", `Pulumi.${STACK}.yaml`), "utf8");
        const printed = ws.transcript.join("\n");
        for (const seeded of SEEDED) {
            expect(state.includes(seeded), `state holds ${seeded}`).toBe(false);
            expect(stack.includes(seeded), `stack file holds ${seeded}`).toBe(false);
            expect(printed.includes(seeded), `CLI output holds ${seeded}`).toBe(false);
        }
    }, STEP_TIMEOUT);

    it("5. pulumi destroy removes everything it made on GitHub", async () => {
        expectOk(await pulumi("destroy", "--yes", "--skip-preview"), "pulumi destroy");
        expect(github.refused).toEqual([]);
        expect({
            environments: fleetRepo().environments.size, secrets: fleetRepo().secrets.size, variables: fleetRepo().variables.size,
            labels: fleetRepo().labels.size, hooks: hookRepo().hooks.size,
        }).toEqual({ environments: 0, secrets: 0, variables: 0, labels: 0, hooks: 0 });
    }, STEP_TIMEOUT);
});
