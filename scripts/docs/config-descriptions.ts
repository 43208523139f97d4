/**
 * What each config key means, for docs/reference/config.md. The keys, their
 * types and which are required come from the zod schemas (config/schema.ts,
 * config/github.ts); this file adds the words and the defaults the loader
 * applies. A description set on the schema itself (`.meta({ description })`)
 * wins over the one here. `npm run docs` fails when a key has no description,
 * or when an entry here names a key the schema no longer has.
 */
import { TIERS, TIER_NUMBERS } from "../../config";
import type { TierPolicy } from "../../config";

export interface KeyDoc {
    readonly description: string;
    /** The value the loader (or the component) uses when the key is left out. */
    readonly default?: string;
    /** For a key the schema types loosely (`unknown`, checked elsewhere): what it holds. */
    readonly type?: string;
}

/** A default that comes from the agent's tier (config/tiers.ts): one value when every tier agrees, else one per tier. */
function tierDefault(pick: (tier: TierPolicy) => string | number | undefined): string {
    const values = TIER_NUMBERS.map((n) => pick(TIERS[n]));
    const shown = values.map((v) => (v === undefined ? "none" : `\`${v}\``));
    if (new Set(shown).size === 1) return shown[0];
    return TIER_NUMBERS.map((n, i) => `tier ${n}: ${shown[i]}`).join(", ");
}

const BUILD: Record<string, KeyDoc> = {
    "build": { description: "Build the image locally from a context instead of pulling it: dev only, refused in staging and production, which run the images a release pipeline built and pushed. `false` pulls `image` even when `agentDefaults` builds, so one agent can run a released image beside agents that build." },
    "build.context": { description: "Build context directory, relative to the project root." },
    "build.dockerfile": { description: "Dockerfile path, relative to the context." },
    "build.args": { description: "Build args (name → string value). The policy pack refuses credentials here." },
};

/** `agent-fleet:fleet` in a stack file. */
export const FLEET_KEYS: Readonly<Record<string, KeyDoc>> = {
    "environment": { description: "The environment the stack runs as. In a stack named `dev`, `staging` or `production`, the stricter of this and the stack name applies; other stack names (`preview-42`) run as declared.", default: "the stack name" },
    "runtime": { description: "How every agent of the stack runs: one `docker.Container` per replica on one engine, or one `docker.Service` per agent on a Docker Swarm. See [Runtimes](../guides/runtimes.md).", default: "`container`" },
    "channels": { description: "Alert channels, by name (lower-case letters, digits and dashes).", type: "map: channel name → [channel](#channel-fields)" },
    "agentDefaults": { description: "Agent fields every agent of this stack takes: above the catalog, below the agent's own entry.", type: "[agent fields](#agent-fields)" },
    "agents": { description: "The agents the stack deploys: exactly these. Each entry merges over the catalog's entry of that name and `agentDefaults`; in dev, `{}` is enough.", type: "map: agent name → [agent fields](#agent-fields)" },
    "allowEmpty": { description: "Says an empty `agents` map is intended: in staging and production an empty fleet deletes every running agent (policy `fleet-not-empty`).", default: "`false`" },
    "sentinel": { description: "The sentinel that watches the fleet after go-live (`agents/sentinel`). See [Alerts and the sentinel](../guides/alerts-and-sentinel.md)." },
    "sentinel.enabled": { description: "Deploy the sentinel.", default: "on when the fleet declares a channel" },
    "sentinel.image": { description: "Its image. An image without `build` is pulled (staging and production pull the release pipeline's).", default: "`agent-fleet/sentinel:local`, built from `agents/sentinel`" },
    "sentinel.build": { description: "How to build it; `false` pulls `image`.", default: "`{ context: agents/sentinel }` when `image` is not given" },
    "sentinel.build.context": { description: "Build context directory, relative to the project root.", default: "`agents/sentinel`" },
    "sentinel.build.dockerfile": { description: "Dockerfile path, relative to the context." },
    "sentinel.build.args": { description: "Build args (name → string value)." },
    "sentinel.reminderAfter": { description: "A problem still present this long gets a reminder.", default: "`30m`" },
    "sentinel.dockerSocket": { description: "The host's Docker socket, mounted read-only into the sentinel's docker proxy, never into the sentinel itself.", default: "`/var/run/docker.sock`" },
    "sentinel.socketGroup": { description: "The numeric group id that may read the socket: the docker proxy then runs as `nobody` in that group.", default: "the proxy runs as root, so it reads the socket whatever its group on each host" },
    "sentinel.proxyImage": { description: "The image of the sentinel's docker proxy (Caddy with `agents/docker-proxy/Caddyfile`), pulled. The proxy passes only the read endpoints the sentinel uses (ping, version, events, container list, inspect) and refuses everything else with 403. Pin it by digest.", default: "`agent-fleet/docker-proxy:local`, built from `agents/docker-proxy` on each host" },
    "hosts": { description: "The servers the stack deploys to, by name (lower-case letters, digits and dashes; it becomes part of resource and container names). Each gets its own Docker provider, network, images and sentinel; every verb reaches each one over its own address. Under `runtime: swarm`, one host: the manager. Without it the stack has one engine: `docker:host`, else `DOCKER_HOST`, else the local socket; with it, `docker:host` is refused. See [Servers](../guides/servers.md).", type: "map: host name → { docker }", default: "one engine" },
    "hosts.<name>.docker": { description: "How the host's engine is reached: `ssh://user@host[:port]` (the system `ssh`, with `~/.ssh/config`, keys, agent, `ProxyJump` and strict `known_hosts`), `unix:///path`, or `tcp://` on loopback only (plain tcp gives the Docker API, root on the server, to the network). No password in the address." },
    "registries": { description: "Registry logins every host's provider pulls with, by the registry address image references start with (`registry.acme.dev`, `10.0.0.5:5000`). The password reaches the daemon through the provider and is stored only encrypted in state. Needs `fleet.hosts`. See [Servers](../guides/servers.md).", type: "map: registry address → { username, passwordSecret }" },
    "registries.<name>.username": { description: "The user the hosts log in as." },
    "registries.<name>.passwordSecret": { description: "The secret stack config key holding the password or token (`pulumi config set --secret <key> …`)." },
    "edge": { description: "The HTTPS edge (Caddy) on each host that exposed agents are reached through (on the swarm, a global service). See [The edge](../guides/edge.md)." },
    "edge.hostname": { description: "The edge's own public name: agents exposed by a path prefix live under it, and anything not exposed gets its 404." },
    "edge.tls": { description: "Where certificates come from: `acme` (Let's Encrypt, or `acmeCa`) or `internal` (the edge's own CA, which clients must be told to trust).", default: "`internal` in dev, `acme` elsewhere" },
    "edge.acmeEmail": { description: "The ACME account's contact address." },
    "edge.acmeCa": { description: "The ACME directory URL.", default: "Let's Encrypt's" },
    "edge.image": { description: "The edge's image; pin it by digest outside dev.", default: "`caddy:2-alpine`" },
    "edge.httpPort": { description: "The host port that answers HTTP (redirects to HTTPS).", default: "`80`" },
    "edge.httpsPort": { description: "The host port that answers HTTPS.", default: "`443`" },
    "edge.listenAddress": { description: "The host address the edge's ports listen on. Runtime container only: Swarm publishes a task's ports on every address of its node.", default: "`0.0.0.0`" },
    "edge.placementConstraints": { description: "Runtime swarm only: the nodes the edge's global service runs on (one task per node, publishing the ports there). Routes are loaded through the engine the deploy reaches, so each must be that node (`[\"node.hostname==edge-1\"]` pins one).", default: "`[\"node.role==manager\"]`" },
    "edge.acmeCaRoot": { description: "For a private ACME CA (step-ca, Pebble): the PEM text of the root its directory's own TLS chains to, in a block scalar (`acmeCaRoot: |`). The edge trusts it for talking to `acmeCa`; the certificates it obtains chain to whatever that CA issues under.", default: "the system's roots" },
    "edge.maxBodySize": { description: "The largest request body the edge passes to an agent, in `KiB` or `MiB`. A larger one gets the edge's own 413 (`request body larger than the edge takes`), without the agent's name: a declared length before a byte reaches the agent, a chunked body once it passes the limit. Agents keep limits of their own (the sample agent takes 64 KiB).", default: "`1MiB`" },
    "webhookBaseUrl": { description: "The public URL the webhook paths of agents not exposed through `fleet.edge` are reachable under, behind your own proxy or tunnel; no user or password in it (refused, never echoed). An exposed agent's webhooks are registered under its public URL at the edge instead. Needed when an unexposed agent registers GitHub webhooks; https in staging and production (policy `webhook-https`). See [Webhooks](../guides/webhooks.md)." },
};

/** An agent: `fleet.agents.<name>`, `fleet.agentDefaults`, and `agents.<name>` in stacks/catalog.yaml. */
export const AGENT_KEYS: Readonly<Record<string, KeyDoc>> = {
    "tier": { description: "The deployment tier: what the agent needs before it ships, and how it rolls back. See [Tiers](tiers.md)." },
    "owner": { description: "Who owns the agent: `@user`, `@org/team` or an email (policy `agent-owner`). `fleet codeowners` writes CODEOWNERS entries from it." },
    "image": { description: "Image reference: a tag or a digest (`repo:1.4.2@sha256:…`). Staging and production need a version tag or a digest (policy `pinned-images`)." },
    ...BUILD,
    "rollbackImage": { description: "The previous known-good image: the rollback plan. Staging and production need one, pinned and different from `image` (policy `rollback-image`); `fleet release` sets it." },
    "version": { description: "The version the agent reports (`AGENT_VERSION`, the `agent-fleet.version` label).", default: "the image's tag, else a short digest; an agent that builds reports the commit it was built from" },
    "port": { description: "The port the agent listens on inside its container (`PORT`)." },
    "hostPort": { description: "A fixed host port. Forces delete-first replacement; left out, Docker picks one. Refused with more than one replica." },
    "containerName": { description: "A fixed container name. Forces delete-first replacement; left out, Pulumi names it. Refused with more than one replica." },
    "healthcheck": { description: "The agent's healthcheck. Fields left out take the tier's defaults." },
    "healthcheck.path": { description: "The HTTP path the default probe asks (it runs the image's own `node`).", default: tierDefault((t) => t.healthcheck.path) },
    "healthcheck.interval": { description: "Time between probes: a duration above zero, at most 60s (policy `agent-healthcheck`).", default: tierDefault((t) => t.healthcheck.interval) },
    "healthcheck.timeout": { description: "How long one probe may take: a duration above zero.", default: tierDefault((t) => t.healthcheck.timeout) },
    "healthcheck.retries": { description: "Consecutive failures before the agent counts as unhealthy; at least the tier's minimum (policy `agent-healthcheck`).", default: tierDefault((t) => t.healthcheck.retries) },
    "healthcheck.startPeriod": { description: "Grace period after start before failures count: a duration above zero.", default: tierDefault((t) => t.healthcheck.startPeriod) },
    "healthcheck.startInterval": { description: "How often to probe while the agent starts, so a ready agent turns healthy within about this long instead of one `interval` after it starts. Docker 25 and later (API 1.44) probe at it during `startPeriod`. On older engines and Swarm services only an agent that sets it itself gets it: there the interval itself becomes this, at least the tier's floor (`2s`), with retries raised to keep startPeriod + interval × retries, so it costs a probe that often for the agent's life ([deploy speed](../guides/deploy-speed.md)). As long as `interval`: off.", default: tierDefault((t) => t.healthcheck.startInterval) },
    "healthcheck.command": { description: "An exec-form test command (`[\"CMD\", \"curl\", \"-f\", …]`) that replaces the default node probe, for images without node." },
    "env": { description: "Plain environment variables (quote numbers and booleans). The policy pack refuses credentials here: they belong in `secrets`. The names the fleet sets itself are refused: `AGENT_NAME`, `AGENT_VERSION`, `FLEET_ENVIRONMENT`, `PORT`, `FEATURE_FLAGS`, `WEBHOOKS`, each webhook's `WEBHOOK_<NAME>_SECRET`, and under Swarm `<SECRET>_FILE` for each of `secrets` (one list: `contract/agent-env.ts`)." },
    "secrets": { description: "Env var → the secret stack config key holding its value (`pulumi config set --secret <key> <value>`). Under `runtime: swarm` the agent gets a file instead: `<ENV_NAME>_FILE`." },
    "memory": { description: "Memory limit, in `Mi` or `Gi`; swap is set equal to it. Production needs one (policy `production-memory-limits`)." },
    "cpus": { description: "CPU limit: a count the provider reads back unchanged (`0.05` reads back as `0.1`, so it is refused)." },
    "replicas": { description: "How many instances: containers under `runtime: container`, tasks under `swarm`.", default: "`1`" },
    "alertChannels": { description: "Channels that hear the agent. The loader adds the channels that route to it by tier or by name." },
    "monitorWindow": { description: "How long the agent is watched after a deploy: the sentinel's watch window, counted from the container's creation. At least the tier's minimum in production (policy `tier-monitoring`).", default: tierDefault((t) => t.monitorWindow) },
    "waitTimeout": { description: "How long `pulumi up` waits for the agent to turn healthy.", default: `startPeriod + interval × retries + the tier's margin (${tierDefault((t) => t.waitTimeoutMargin)})` },
    "errorRateLimit": { description: "Percent of 5xx answers (over a sliding 5 minutes) above which the sentinel alerts `error_rate.exceeded` in the monitor window; at most the tier's maximum (policy `tier-monitoring`).", default: tierDefault((t) => (t.errorRateLimitPercent === undefined ? undefined : `${t.errorRateLimitPercent}`)) },
    "smokeChecks": { description: "HTTP checks of key flows: run on each replica by `fleet verify`, and every 60 s by the sentinel in the monitor window. Tiers 2 and 3 need one." },
    "smokeChecks[].name": { description: "The check's name, in reports and alerts.", default: "`<method> <path>`" },
    "smokeChecks[].method": { description: "HTTP method.", default: "`GET`" },
    "smokeChecks[].path": { description: "HTTP path, on the agent's port." },
    "smokeChecks[].expectStatus": { description: "The status that passes.", default: "`200`" },
    "smokeChecks[].body": { description: "Request body." },
    "featureFlags": { description: "Feature flags; tier 3 ships behind one. The agent gets each flag's current stage in `FEATURE_FLAGS`. Move them with `fleet flag`." },
    "featureFlags[].name": { description: "The flag's name: lower-case letters, digits and dashes." },
    "featureFlags[].stages": { description: "The rollout plan. Each stage is a string (`off`, `team`, `10%`, `100%`) or `{ stage, soak }`.", default: "the tier's rollout (tier 3's for a tier without one)" },
    "featureFlags[].stages[].stage": { description: "Who sees the flag: `off`, `team` or a percentage." },
    "featureFlags[].stages[].soak": { description: "How long the stage must run before the next one." },
    "featureFlags[].currentStage": { description: "The stage the agent runs now.", default: "the first stage" },
    "featureFlags[].history": { description: "Each stage the flag entered and when, oldest first; written by `fleet flag` (policy `flag-rollout-history`)." },
    "featureFlags[].history[].stage": { description: "The stage entered." },
    "featureFlags[].history[].since": { description: "When, in UTC (`2026-11-22T10:00:00Z`)." },
    "featureFlags[].history[].forced": { description: "Set when `fleet flag --force` skipped a stage or cut a soak short.", default: "`false`" },
    "stopGracePeriod": { description: "How long a stopping agent gets to drain before it is killed (`destroyGraceSeconds`/`stopTimeout`).", default: tierDefault((t) => t.stopGracePeriod) },
    "user": { description: "The user the agent runs as.", default: "`1000:1000`" },
    "readOnlyRootFilesystem": { description: "A read-only root filesystem, with a `/tmp` tmpfs.", default: "`true`" },
    "webhooks": { description: "Inbound webhooks the agent takes. See [Webhooks](../guides/webhooks.md)." },
    "webhooks[].name": { description: "Lower-case letters, digits and dashes, unique per agent. The agent gets its secret as `WEBHOOK_<NAME>_SECRET`." },
    "webhooks[].source": { description: "Who sends it: `github` (registered on the repository by the program) or `generic` (any other sender that signs its calls)." },
    "webhooks[].path": { description: "Where the agent serves it: under its public URL when the edge exposes it, else under `fleet.webhookBaseUrl`." },
    "webhooks[].secret": { description: "The secret stack config key holding the shared signing secret." },
    "webhooks[].repository": { description: "`github` only: the repository, `owner/name`." },
    "webhooks[].events": { description: "`github` only: the events GitHub sends (`push`, `pull_request`, `*`)." },
    "hosts": { description: "Which hosts of `fleet.hosts` run the agent, `replicas` on each. Refused without `fleet.hosts` and under `runtime: swarm` (Swarm places tasks: use `placementConstraints`). Moving an agent between hosts does not change its spec hash.", default: "every host of `fleet.hosts`" },
    "expose": { description: "How the agent is reached from outside through `fleet.edge`: a hostname of its own (`pesti.acme.dev`), a path prefix under the edge's hostname (`/api/agents/pesti`, stripped before the agent sees it), or `false`. Its public URL is `https://` that address (with the edge's `httpsPort` when not 443); its webhooks are registered there, `fleet verify` asks for it there, `fleet status` shows it. Not part of the spec hash: exposing an agent changes the edge's routes, never its container.", default: "`false`" },
    "placementConstraints": { description: "Where Swarm may place the agent's tasks (`node.role==worker`, `node.labels.zone==eu`). `runtime: swarm` only; refused under `container`." },
};

/** An alert channel: `fleet.channels.<name>`. */
export const CHANNEL_KEYS: Readonly<Record<string, KeyDoc>> = {
    "type": { description: "The message format: Slack incoming-webhook JSON, a Discord webhook message, or plain signed JSON." },
    "urlSecret": { description: "The secret stack config key holding the channel's URL." },
    "signingSecret": { description: "The secret stack config key holding the HMAC signing secret; a `webhook` channel must name one, of its own: never a key that holds a channel's URL (its own or another's), which would let anyone holding that URL sign." },
    "minSeverity": { description: "The lowest severity the channel hears (info < warning < error < critical).", default: "`warning`" },
    "tiers": { description: "Tiers whose every agent the channel hears, besides the agents that list it in `alertChannels`." },
    "agents": { description: "Agents the channel hears by name, besides the agents that list it in `alertChannels`." },
};

/** `agent-fleet:github` in one stack file: the opt-in GitHub side. */
export const GITHUB_KEYS: Readonly<Record<string, KeyDoc>> = {
    "repository": { description: "The repository that holds the fleet, `owner/name`; its owner is the owner the GitHub provider works for. Only one stack file may name it." },
    "productionReviewers": { description: "Who approves production deploys: at least one, at most 6 users and teams together." },
    "productionReviewers.users": { description: "GitHub user ids." },
    "productionReviewers.teams": { description: "GitHub team ids (`gh api orgs/acme/teams/sre --jq .id`)." },
    "productionWaitMinutes": { description: "The production environment's wait timer, in minutes.", default: "`5`" },
    "productionBranch": { description: "The one branch the production environment's deployment branch policy admits.", default: "`main`" },
    "actionsSecrets": { description: "Actions secret name → the secret stack config key holding its value; kept a Pulumi secret." },
    "actionsVariables": { description: "Actions variable name → its plain value." },
};
