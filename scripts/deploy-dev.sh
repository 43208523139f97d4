#!/usr/bin/env bash
# Deploys the dev stack to the local Docker engine: no Pulumi account, no
# separate CLI install, and the policy pack applied with dev's policy config.
#
# - State goes to .pulumi-state/ in this checkout unless PULUMI_BACKEND_URL is set.
# - Secrets use the passphrase "dev". The dev stack file carries the matching
#   encryptionsalt, so the first deploy writes nothing into tracked files.
# - The Docker provider ignores Docker contexts, so DOCKER_HOST is taken from
#   the current context when unset (Colima, Rancher Desktop, Podman).
# Any extra arguments go to `pulumi up`.
set -euo pipefail
cd "$(dirname "$0")/.."

# Oldest engine the fleet is tested on. Engines before 27.5 that use the
# containerd image store also fail the provider's tar-context builds.
MIN_DOCKER_VERSION="20.10"
CONTAINERD_STORE_MIN_VERSION="27.5"

die() { echo "deploy-dev: $*" >&2; exit 1; }

version_lt() { [ "$1" != "$2" ] && [ "$(printf '%s\n%s\n' "$1" "$2" | sort -V | head -n1)" = "$1" ]; }

if [ -z "${DOCKER_HOST:-}" ] && command -v docker >/dev/null 2>&1; then
    context_host="$(docker context inspect --format '{{.Endpoints.docker.Host}}' 2>/dev/null || true)"
    if [ -n "$context_host" ] && [ "$context_host" != "unix:///var/run/docker.sock" ]; then
        export DOCKER_HOST="$context_host"
        echo "deploy-dev: using DOCKER_HOST=$DOCKER_HOST from the current Docker context"
    fi
fi

if command -v docker >/dev/null 2>&1; then
    server_version="$(docker version --format '{{.Server.Version}}' 2>/dev/null)" \
        || die "no Docker engine answers at ${DOCKER_HOST:-unix:///var/run/docker.sock}; start Docker (or set DOCKER_HOST) and retry"
    server_version="${server_version%%[-+]*}"
    version_lt "$server_version" "$MIN_DOCKER_VERSION" \
        && die "Docker engine $server_version is older than $MIN_DOCKER_VERSION; upgrade it"
    driver_status="$(docker info --format '{{json .DriverStatus}}' 2>/dev/null || true)"
    if [[ "$driver_status" == *"io.containerd.snapshotter"* ]] && version_lt "$server_version" "$CONTAINERD_STORE_MIN_VERSION"; then
        die "Docker engine $server_version uses the containerd image store, which fails image builds before $CONTAINERD_STORE_MIN_VERSION; upgrade Docker or turn the containerd store off"
    fi
fi

export PULUMI_BACKEND_URL="${PULUMI_BACKEND_URL:-file://$PWD/.pulumi-state}"
export PULUMI_CONFIG_PASSPHRASE="dev"
unset PULUMI_CONFIG_PASSPHRASE_FILE
export PULUMI_SKIP_UPDATE_CHECK=true
if [[ "$PULUMI_BACKEND_URL" == file://* ]]; then mkdir -p "${PULUMI_BACKEND_URL#file://}"; fi

# The sample agent's image copies its bundle (server.js with prom-client): rebuild it from the current source.
npm run --silent build:agents

# The `pulumi` npm package runs the Pulumi CLI (fetching it on first use).
npx --no-install pulumi stack select dev --create
npx --no-install pulumi up --stack dev --yes \
    --policy-pack policies --policy-pack-config stacks/policy.dev.json "$@"
