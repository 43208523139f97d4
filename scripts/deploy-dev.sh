#!/usr/bin/env bash
# Deploys the dev stack to the local Docker engine: no Pulumi account, no
# separate CLI install. State goes to .pulumi-state/ in this checkout and
# secrets use a passphrase ("dev" unless PULUMI_CONFIG_PASSPHRASE is set).
set -euo pipefail
cd "$(dirname "$0")/.."

export PULUMI_BACKEND_URL="file://$PWD/.pulumi-state"
export PULUMI_CONFIG_PASSPHRASE="${PULUMI_CONFIG_PASSPHRASE-dev}"
mkdir -p .pulumi-state

# The `pulumi` npm package runs the Pulumi CLI (fetching it on first use).
npx --no-install pulumi stack select dev --create
npx --no-install pulumi up --stack dev --yes "$@"
