#!/usr/bin/env bash
# Deploys the dev stack to the local Docker engine: no Pulumi account, no
# separate CLI install, and the same `fleet up` as every other deploy
# (preflight with fleet doctor and the policy pack, the update, verification,
# and a rollback of anything it broke).
#
# - State goes to .pulumi-state/ in this checkout (Pulumi.yaml's backend.url)
#   unless PULUMI_BACKEND_URL is set; the passphrase comes from stacks/dev.env
#   unless PULUMI_CONFIG_PASSPHRASE is set. The stack is created on the first run.
# - The Docker provider ignores Docker contexts, so DOCKER_HOST is taken from
#   the current context when unset (Colima, Rancher Desktop, Podman); fleet
#   doctor checks the engine's version.
# Any extra arguments go to `fleet up` (e.g. --agent jarvis, --json).
set -euo pipefail
cd "$(dirname "$0")/.."

if [ -z "${DOCKER_HOST:-}" ] && command -v docker >/dev/null 2>&1; then
    context_host="$(docker context inspect --format '{{.Endpoints.docker.Host}}' 2>/dev/null || true)"
    if [ -n "$context_host" ] && [ "$context_host" != "unix:///var/run/docker.sock" ]; then
        export DOCKER_HOST="$context_host"
        echo "deploy-dev: using DOCKER_HOST=$DOCKER_HOST from the current Docker context"
    fi
fi

# The sample agent's image copies its bundle (server.js with prom-client): rebuild it from the current source.
npm run --silent build:agents

# The fleet CLI itself, with node_modules/.bin first on PATH (the `pulumi` npm package's CLI), as `npx fleet`
# runs it. Not through npx: run for the project's own bin in a copy whose policies/node_modules is a
# symlink (as the e2e suites make), `npx --no-install fleet` replaced the link with the directory it
# pointed at, emptying the original checkout's (npm 11).
export PATH="$PWD/node_modules/.bin:$PATH"
exec node cli/fleet.js up --stack dev --create-stack "$@"
