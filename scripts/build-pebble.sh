#!/usr/bin/env bash
# Builds Pebble, Let's Encrypt's ACME test CA, and its mock DNS server
# (pebble-challtestsrv) from the Go module proxy into .engine/pebble/. Test
# infrastructure only: the edge's ACME suite (test/e2e/edge-acme.test.ts)
# obtains a real certificate from it. Reuses what is current.
set -euo pipefail
cd "$(dirname "$0")/.."

# Pinned: the suite reads this version's config format and log lines.
PEBBLE_VERSION=v2.10.3
out=.engine/pebble
if [ -x "$out/pebble" ] && [ -x "$out/pebble-challtestsrv" ] && [ "$(cat "$out/version" 2>/dev/null)" = "$PEBBLE_VERSION" ]; then
    echo "pebble: $PEBBLE_VERSION is built"
    exit 0
fi
mkdir -p "$out"
rm -f "$out/version"
GOBIN="$PWD/$out" CGO_ENABLED=0 GOFLAGS=-mod=mod go install \
    "github.com/letsencrypt/pebble/v2/cmd/pebble@$PEBBLE_VERSION" \
    "github.com/letsencrypt/pebble/v2/cmd/pebble-challtestsrv@$PEBBLE_VERSION"
echo "$PEBBLE_VERSION" > "$out/version"
echo "pebble: built $PEBBLE_VERSION into $out"
