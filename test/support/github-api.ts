/**
 * A stateful local stand-in for the parts of GitHub's REST API that the
 * GitHub provider calls for the fleet's resources: repositories, environments
 * and their deployment branch policies, Actions secrets (sealed with a real
 * public key) and variables, labels and repository webhooks. It answers on
 * GitHub Enterprise Server's paths (`/api/v3/...`), which is what the
 * provider uses for any base URL other than github.com.
 *
 * Written by hand: no maintained library fakes GitHub's REST API with state
 * (Octokit's fixtures replay recorded calls; they cannot answer a provider's
 * read-back of what it just wrote). Shapes and refusals follow GitHub's REST
 * reference for each endpoint, so a request GitHub would refuse is refused
 * here too (422), and anything unknown is a 404 the test sees in `seen`.
 */
import sodium from "libsodium-wrappers";
import { GitHubStub, Send, StubRequest } from "./github-stub";

export interface StandInEnvironment {
    readonly name: string;
    readonly waitTimer: number;
    readonly preventSelfReview: boolean;
    readonly canAdminsBypass: boolean;
    readonly reviewers: readonly { readonly type: "User" | "Team"; readonly id: number }[];
    readonly deploymentBranchPolicy: { readonly protected_branches: boolean; readonly custom_branch_policies: boolean } | null;
    readonly branchPolicies: Map<number, { readonly id: number; name: string; readonly type: "branch" | "tag" }>;
}

export interface StandInSecret {
    /** What the sealed box opened to with the repository's private key. */
    readonly plaintext: string;
    readonly createdAt: string;
    updatedAt: string;
}

export interface StandInHook {
    readonly id: number;
    active: boolean;
    events: string[];
    config: { url: string; content_type: string; insecure_ssl: string; secret?: string };
}

export interface StandInRepository {
    readonly id: number;
    readonly owner: string;
    readonly name: string;
    readonly environments: Map<string, StandInEnvironment>;
    readonly secrets: Map<string, StandInSecret>;
    readonly variables: Map<string, { value: string; readonly createdAt: string; updatedAt: string }>;
    readonly labels: Map<string, { readonly id: number; name: string; color: string; description: string }>;
    readonly hooks: Map<number, StandInHook>;
}

const API_PREFIX = "/api/v3";
const COLOR_RE = /^[0-9a-fA-F]{6}$/;
/** A subset of GitHub's webhook event names, enough to refuse a misspelt one. */
const KNOWN_EVENTS = new Set(["*", "push", "pull_request", "pull_request_review", "issues", "issue_comment", "release", "workflow_run", "deployment", "deployment_status", "check_run", "check_suite", "create", "delete", "ping"]);

export class GitHubApiStandIn extends GitHubStub {
    readonly repositories = new Map<string, StandInRepository>();
    private nextId = 1000;
    private keyPair?: { readonly keyId: string; readonly publicKey: Uint8Array; readonly privateKey: Uint8Array };

    constructor(
        /** The token every request must carry. */
        private readonly token: string,
        /** The repositories that exist, "owner/name". */
        repositories: readonly string[],
        /** Organisations (GET /orgs/{org} answers for these; anything else is a user). */
        private readonly organizations: readonly string[],
    ) {
        super();
        for (const full of repositories) {
            const [owner, name] = full.split("/");
            this.repositories.set(full.toLowerCase(), {
                id: this.id(), owner, name, environments: new Map(), secrets: new Map(), variables: new Map(), labels: new Map(), hooks: new Map(),
            });
        }
    }

    /** Starts the server; returns the base URL for the provider (`baseUrl` / GITHUB_BASE_URL). */
    override async start(): Promise<string> {
        await sodium.ready;
        const pair = sodium.crypto_box_keypair();
        this.keyPair = { keyId: "568250167242549743", publicKey: pair.publicKey, privateKey: pair.privateKey };
        return `${await super.start()}/`;
    }

    repository(full: string): StandInRepository {
        const repository = this.repositories.get(full.toLowerCase());
        if (!repository) throw new Error(`the stand-in has no repository ${full}`);
        return repository;
    }

    /** Requests that got an answer of 400 or more, for assertions that nothing was refused. */
    readonly refused: { method: string; path: string; status: number; message: string }[] = [];

    private id(): number {
        return this.nextId++;
    }

    protected route(request: StubRequest, send: Send): void {
        const reply: Send = (status, body, headers) => {
            if (status >= 400) this.refused.push({ method: request.method, path: request.url.pathname, status, message: (body as { message?: string }).message ?? "" });
            send(status, body, headers);
        };
        const auth = this.seen[this.seen.length - 1]?.auth ?? "";
        if (auth !== `Bearer ${this.token}` && auth !== `token ${this.token}`) return reply(401, { message: "Bad credentials" });
        if (!request.url.pathname.startsWith(`${API_PREFIX}/`)) return reply(404, { message: "Not Found" });
        const path = request.url.pathname.slice(API_PREFIX.length);
        const body = (request.text ? JSON.parse(request.text) : {}) as Record<string, unknown>;
        const parts = path.split("/").slice(1).map(decodeURIComponent);
        const method = request.method;

        if (method === "GET" && parts[0] === "user" && parts.length === 1) return reply(200, { login: "fleet-bot", id: 1, type: "User" });
        if (method === "GET" && parts[0] === "orgs" && parts.length === 2) {
            const org = this.organizations.find((o) => o.toLowerCase() === parts[1].toLowerCase());
            return org ? reply(200, { login: org, id: 42, type: "Organization" }) : reply(404, { message: "Not Found" });
        }
        if (parts[0] !== "repos" || parts.length < 3) return reply(404, { message: "Not Found" });
        const repository = this.repositories.get(`${parts[1]}/${parts[2]}`.toLowerCase());
        if (!repository) return reply(404, { message: "Not Found" });
        const rest = parts.slice(3);
        if (rest.length === 0 && method === "GET") return reply(200, this.repositoryJson(repository));
        switch (rest[0]) {
            case "environments": return this.environments(repository, method, rest.slice(1), body, reply);
            case "actions": return this.actions(repository, method, rest.slice(1), body, reply);
            case "labels": return this.labels(repository, method, rest.slice(1), body, reply);
            case "hooks": return this.hooks(repository, method, rest.slice(1), body, reply);
            default: return reply(404, { message: "Not Found" });
        }
    }

    private repositoryJson(repository: StandInRepository): Record<string, unknown> {
        return { id: repository.id, name: repository.name, full_name: `${repository.owner}/${repository.name}`, owner: { login: repository.owner }, private: true, default_branch: "main" };
    }

    private environments(repository: StandInRepository, method: string, rest: string[], body: Record<string, unknown>, reply: Send): void {
        const [name, sub, policyId] = rest;
        if (!name) return reply(method === "GET" ? 200 : 404, method === "GET" ? { total_count: repository.environments.size, environments: [...repository.environments.values()].map((e) => this.environmentJson(e)) } : { message: "Not Found" });
        const environment = repository.environments.get(name);
        if (!sub) {
            if (method === "GET") return environment ? reply(200, this.environmentJson(environment)) : reply(404, { message: "Not Found" });
            if (method === "DELETE") return environment ? (repository.environments.delete(name), reply(204, {})) : reply(404, { message: "Not Found" });
            if (method !== "PUT") return reply(404, { message: "Not Found" });
            const waitTimer = (body.wait_timer as number | undefined) ?? 0;
            if (!Number.isInteger(waitTimer) || waitTimer < 0 || waitTimer > 43_200) return reply(422, { message: "wait_timer must be an integer from 0 to 43200" });
            const reviewers = (body.reviewers as { type: string; id: number }[] | undefined) ?? [];
            if (reviewers.length > 6) return reply(422, { message: "reviewers: at most 6" });
            if (reviewers.some((r) => (r.type !== "User" && r.type !== "Team") || !Number.isInteger(r.id))) return reply(422, { message: "reviewers: each needs a type of User or Team and an id" });
            const policy = (body.deployment_branch_policy as StandInEnvironment["deploymentBranchPolicy"] | undefined) ?? null;
            if (policy && policy.protected_branches === policy.custom_branch_policies) {
                return reply(422, { message: "Exactly one of protected_branches or custom_branch_policies must be true; send null for all branches" });
            }
            const next: StandInEnvironment = {
                name,
                waitTimer,
                preventSelfReview: body.prevent_self_review === true,
                canAdminsBypass: body.can_admins_bypass !== false,
                reviewers: reviewers.map((r) => ({ type: r.type as "User" | "Team", id: r.id })),
                deploymentBranchPolicy: policy,
                // GitHub drops the custom policies when the environment stops using them.
                branchPolicies: policy?.custom_branch_policies ? environment?.branchPolicies ?? new Map() : new Map(),
            };
            repository.environments.set(name, next);
            return reply(200, this.environmentJson(next));
        }
        if (sub !== "deployment-branch-policies" || !environment) return reply(404, { message: "Not Found" });
        if (!environment.deploymentBranchPolicy?.custom_branch_policies) {
            return reply(404, { message: "Not Found: custom_branch_policies is not enabled for this environment" });
        }
        if (!policyId) {
            if (method === "GET") return reply(200, { total_count: environment.branchPolicies.size, branch_policies: [...environment.branchPolicies.values()] });
            if (method !== "POST") return reply(404, { message: "Not Found" });
            const type = (body.type as "branch" | "tag" | undefined) ?? "branch";
            if (typeof body.name !== "string" || !body.name) return reply(422, { message: "name is required" });
            if ([...environment.branchPolicies.values()].some((p) => p.name === body.name && p.type === type)) return reply(303, { message: "already exists" });
            const created = { id: this.id(), name: body.name, type };
            environment.branchPolicies.set(created.id, created);
            return reply(200, created);
        }
        const existing = environment.branchPolicies.get(Number(policyId));
        if (!existing) return reply(404, { message: "Not Found" });
        if (method === "GET") return reply(200, existing);
        if (method === "PUT") {
            existing.name = String(body.name);
            return reply(200, existing);
        }
        if (method === "DELETE") return (environment.branchPolicies.delete(existing.id), reply(204, {}));
        return reply(404, { message: "Not Found" });
    }

    private environmentJson(environment: StandInEnvironment): Record<string, unknown> {
        const rules: Record<string, unknown>[] = [];
        if (environment.waitTimer > 0) rules.push({ id: 1, node_id: "GA_wait", type: "wait_timer", wait_timer: environment.waitTimer });
        if (environment.reviewers.length > 0) {
            rules.push({
                id: 2, node_id: "GA_reviewers", type: "required_reviewers", prevent_self_review: environment.preventSelfReview,
                reviewers: environment.reviewers.map((r) => ({ type: r.type, reviewer: r.type === "User" ? { id: r.id, login: `user-${r.id}`, type: "User" } : { id: r.id, name: `team-${r.id}`, slug: `team-${r.id}` } })),
            });
        }
        if (environment.deploymentBranchPolicy) rules.push({ id: 3, node_id: "GA_branch", type: "branch_policy" });
        return {
            id: 7, node_id: `EN_${environment.name}`, name: environment.name, can_admins_bypass: environment.canAdminsBypass,
            created_at: "2026-11-22T00:00:00Z", updated_at: "2026-11-22T00:00:00Z",
            protection_rules: rules, deployment_branch_policy: environment.deploymentBranchPolicy,
        };
    }

    private actions(repository: StandInRepository, method: string, rest: string[], body: Record<string, unknown>, reply: Send): void {
        const [kind, name] = rest;
        const now = new Date().toISOString().replace(/\.\d+Z$/, "Z");
        if (kind === "secrets") {
            if (name === "public-key" && method === "GET") {
                return reply(200, { key_id: this.keyPair!.keyId, key: sodium.to_base64(this.keyPair!.publicKey, sodium.base64_variants.ORIGINAL) });
            }
            const secret = name ? repository.secrets.get(name) : undefined;
            if (method === "GET") return secret ? reply(200, { name, created_at: secret.createdAt, updated_at: secret.updatedAt }) : reply(404, { message: "Not Found" });
            if (method === "DELETE") return secret ? (repository.secrets.delete(name), reply(204, {})) : reply(404, { message: "Not Found" });
            if (method !== "PUT" || !name) return reply(404, { message: "Not Found" });
            if (body.key_id !== this.keyPair!.keyId) return reply(422, { message: "key_id does not match the repository's public key" });
            let plaintext: string;
            try {
                const sealed = sodium.from_base64(String(body.encrypted_value), sodium.base64_variants.ORIGINAL);
                plaintext = sodium.to_string(sodium.crypto_box_seal_open(sealed, this.keyPair!.publicKey, this.keyPair!.privateKey));
            } catch {
                return reply(422, { message: "encrypted_value is not a sealed box for the repository's public key" });
            }
            repository.secrets.set(name, { plaintext, createdAt: secret?.createdAt ?? now, updatedAt: now });
            return reply(secret ? 204 : 201, {});
        }
        if (kind === "variables") {
            const variable = name ? repository.variables.get(name) : undefined;
            if (!name) {
                if (method !== "POST") return reply(404, { message: "Not Found" });
                const variableName = String(body.name ?? "");
                if (repository.variables.has(variableName)) return reply(409, { message: "Already exists" });
                if (typeof body.value !== "string") return reply(422, { message: "value is required" });
                repository.variables.set(variableName, { value: body.value, createdAt: now, updatedAt: now });
                return reply(201, {});
            }
            if (!variable) return reply(404, { message: "Not Found" });
            if (method === "GET") return reply(200, { name, value: variable.value, created_at: variable.createdAt, updated_at: variable.updatedAt });
            if (method === "PATCH") {
                if (typeof body.value === "string") variable.value = body.value;
                variable.updatedAt = now;
                return reply(204, {});
            }
            if (method === "DELETE") return (repository.variables.delete(name), reply(204, {}));
        }
        return reply(404, { message: "Not Found" });
    }

    private labels(repository: StandInRepository, method: string, rest: string[], body: Record<string, unknown>, reply: Send): void {
        const [name] = rest;
        const json = (label: { id: number; name: string; color: string; description: string }) => ({ ...label, node_id: `LA_${label.id}`, url: `https://ghe.local/api/v3/repos/${repository.owner}/${repository.name}/labels/${encodeURIComponent(label.name)}`, default: false });
        const byName = (n: string) => [...repository.labels.values()].find((l) => l.name.toLowerCase() === n.toLowerCase());
        if (!name) {
            if (method === "GET") return reply(200, [...repository.labels.values()].map(json));
            if (method !== "POST") return reply(404, { message: "Not Found" });
            if (typeof body.name !== "string" || !body.name) return reply(422, { message: "name is required" });
            if (typeof body.color !== "string" || !COLOR_RE.test(body.color)) return reply(422, { message: "color must be 6 hex digits without #" });
            if (byName(body.name)) return reply(422, { message: "Validation Failed", errors: [{ resource: "Label", code: "already_exists", field: "name" }] });
            const label = { id: this.id(), name: body.name, color: body.color, description: typeof body.description === "string" ? body.description : "" };
            repository.labels.set(label.name, label);
            return reply(201, json(label), { etag: `W/"${label.id}-${label.color}"` });
        }
        const label = byName(name);
        if (!label) return reply(404, { message: "Not Found" });
        if (method === "GET") return reply(200, json(label), { etag: `W/"${label.id}-${label.color}"` });
        if (method === "PATCH") {
            if (typeof body.color === "string") {
                if (!COLOR_RE.test(body.color)) return reply(422, { message: "color must be 6 hex digits without #" });
                label.color = body.color;
            }
            if (typeof body.description === "string") label.description = body.description;
            if (typeof body.new_name === "string" && body.new_name !== label.name) {
                repository.labels.delete(label.name);
                label.name = body.new_name;
                repository.labels.set(label.name, label);
            }
            return reply(200, json(label), { etag: `W/"${label.id}-${label.color}"` });
        }
        if (method === "DELETE") return (repository.labels.delete(label.name), reply(204, {}));
        return reply(404, { message: "Not Found" });
    }

    private hooks(repository: StandInRepository, method: string, rest: string[], body: Record<string, unknown>, reply: Send): void {
        const [id] = rest;
        const json = (hook: StandInHook) => ({
            id: hook.id, type: "Repository", name: "web", active: hook.active, events: hook.events,
            // GitHub never returns a hook's secret, only that there is one.
            config: { ...hook.config, ...(hook.config.secret ? { secret: "********" } : {}) },
            created_at: "2026-11-22T00:00:00Z", updated_at: "2026-11-22T00:00:00Z",
            url: `https://ghe.local/api/v3/repos/${repository.owner}/${repository.name}/hooks/${hook.id}`,
        });
        const configOf = (value: unknown, previous?: StandInHook["config"]): StandInHook["config"] | string => {
            const config = { ...(previous ?? {}), ...(value as Record<string, unknown> | undefined ?? {}) };
            if (typeof config.url !== "string" || !/^https?:\/\//.test(config.url)) return "config.url must be an http(s) URL";
            if (config.content_type !== undefined && config.content_type !== "json" && config.content_type !== "form") return "config.content_type must be json or form";
            const insecure = config.insecure_ssl === undefined ? "0" : String(config.insecure_ssl);
            if (insecure !== "0" && insecure !== "1") return "config.insecure_ssl must be 0 or 1";
            return { url: config.url, content_type: (config.content_type as string | undefined) ?? "form", insecure_ssl: insecure, ...(typeof config.secret === "string" && config.secret ? { secret: config.secret } : {}) };
        };
        const eventsOf = (value: unknown): string[] | string => {
            const events = (value as string[] | undefined) ?? ["push"];
            const unknown = events.filter((e) => !KNOWN_EVENTS.has(e));
            return unknown.length > 0 ? `unknown events: ${unknown.join(", ")}` : [...events];
        };
        if (!id) {
            if (method === "GET") return reply(200, [...repository.hooks.values()].map(json));
            if (method !== "POST") return reply(404, { message: "Not Found" });
            const config = configOf(body.config);
            const events = eventsOf(body.events);
            if (typeof config === "string" || typeof events === "string") return reply(422, { message: typeof config === "string" ? config : events as string });
            if ([...repository.hooks.values()].some((h) => h.config.url === config.url)) return reply(422, { message: "Hook already exists on this repository" });
            const hook: StandInHook = { id: this.id(), active: body.active !== false, events, config };
            repository.hooks.set(hook.id, hook);
            return reply(201, json(hook));
        }
        const hook = repository.hooks.get(Number(id));
        if (!hook) return reply(404, { message: "Not Found" });
        if (method === "GET") return reply(200, json(hook));
        if (method === "PATCH") {
            const config = body.config === undefined ? hook.config : configOf(body.config, hook.config);
            const events = body.events === undefined ? hook.events : eventsOf(body.events);
            if (typeof config === "string" || typeof events === "string") return reply(422, { message: typeof config === "string" ? config : events as string });
            hook.config = config;
            hook.events = events;
            if (typeof body.active === "boolean") hook.active = body.active;
            return reply(200, json(hook));
        }
        if (method === "DELETE") return (repository.hooks.delete(hook.id), reply(204, {}));
        return reply(404, { message: "Not Found" });
    }
}
