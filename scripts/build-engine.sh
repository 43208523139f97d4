#!/usr/bin/env bash
# Test infrastructure only: builds the Pulumi engine pieces the real-engine
# tests (test/e2e) need from their Go modules, for machines that cannot
# download them from Pulumi (CI has no network but package registries).
# Users never need this: they get the CLI from the `pulumi` npm package and
# the Docker plugin from Pulumi's plugin service.
#
#   bash scripts/build-engine.sh     build what is missing, then print a summary
#   . .engine/env.sh                 put the result on PATH (PULUMI_HOME, PATH)
#
# Pieces, each from a wrapper module of ours in engine/ that pins it:
#   cli              github.com/pulumi/pulumi/pkg/v3 cmd/pulumi
#   language-nodejs  github.com/pulumi/pulumi/sdk/nodejs/cmd/pulumi-language-nodejs/v3
#   docker           github.com/pulumi/pulumi-docker/provider/v5, bridging
#                    github.com/kreuzwerker/terraform-provider-docker
#
# A piece whose module the Go module proxy does not serve is reported as
# blocked (with the exact error) and skipped; the rest are still built. For a
# local build of a blocked piece, point ENGINE_LANGUAGE_NODEJS_SRC at a
# checkout of sdk/nodejs/cmd/pulumi-language-nodejs or ENGINE_DOCKER_PROVIDER_SRC
# at a checkout of pulumi-docker's provider/ folder (neither is committed).
#
# Output (git-ignored): .engine/bin, .engine/home (PULUMI_HOME with
# versions/<v>/bin for the `pulumi` npm launcher, and the installed plugin),
# .engine/env.sh and .engine/status. Present binaries of the pinned versions
# are reused, so a warm run takes seconds.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT="$PWD"
# shellcheck source=/dev/null
. engine/versions.env

OUT="$ROOT/.engine"
BIN="$OUT/bin"
export PULUMI_HOME="$OUT/home"
VERSION_BIN="$PULUMI_HOME/versions/$PULUMI_VERSION/bin"
mkdir -p "$BIN" "$VERSION_BIN"
: > "$OUT/status"

export CGO_ENABLED=0 GOTOOLCHAIN=local GOFLAGS=-mod=mod PULUMI_SKIP_UPDATE_CHECK=true
VERSION_FLAG="-X github.com/pulumi/pulumi/sdk/v3/go/common/version.Version=v$PULUMI_VERSION"

log() { echo "build-engine: $*"; }
record() { echo "$1" >> "$OUT/status"; log "$1"; }

# Stamps record which module versions a binary was built from, so a pin change rebuilds it.
stamp_of() { sha256sum "engine/$1/go.mod" engine/versions.env | sha256sum | cut -c1-16; }
is_current() { [ -x "$BIN/$2" ] && [ "$(cat "$BIN/$2.stamp" 2>/dev/null)" = "$(stamp_of "$1")" ]; }

# build <piece> <binary> <go build args...>: builds in engine/<piece>, records built or blocked.
build() {
    local piece="$1" binary="$2"; shift 2
    if is_current "$piece" "$binary"; then record "reused  $piece ($binary)"; return 0; fi
    local started=$SECONDS logfile="$OUT/$piece.log"
    log "building $piece ..."
    if (cd "engine/$piece" && go build -trimpath -o "$BIN/$binary" "$@") >"$logfile" 2>&1; then
        stamp_of "$piece" > "$BIN/$binary.stamp"
        record "built   $piece ($binary, $(du -m "$BIN/$binary" | cut -f1) MB) in $((SECONDS - started)) s"
    else
        record "blocked $piece: $(grep -m1 -E 'Forbidden|not available|error|cannot' "$logfile" || tail -1 "$logfile")"
        return 1
    fi
}

# Adds a local replace for a blocked module when a source checkout is given. The wrapper's
# go.mod and go.sum are restored on exit, so the replace is never committed.
EDITED=()
restore_edited() { for piece in "${EDITED[@]}"; do cp "$OUT/$piece.go.mod.orig" "engine/$piece/go.mod"; cp "$OUT/$piece.go.sum.orig" "engine/$piece/go.sum"; done; }
trap restore_edited EXIT
with_local_source() {
    local piece="$1" module="$2" src="$3"
    [ -n "$src" ] || return 0
    [ -d "$src" ] || { log "$src does not exist"; exit 2; }
    cp "engine/$piece/go.mod" "$OUT/$piece.go.mod.orig"; cp "engine/$piece/go.sum" "$OUT/$piece.go.sum.orig"
    EDITED+=("$piece")
    (cd "engine/$piece" && go mod edit -replace "$module=$(cd "$src" && pwd)")
}

command -v go >/dev/null || { log "Go is required (https://go.dev/dl/)"; exit 2; }

# 1. The CLI.
build cli pulumi -ldflags "$VERSION_FLAG" github.com/pulumi/pulumi/pkg/v3/cmd/pulumi || true

# 2. The Node.js language host, next to the CLI (the CLI looks there first).
with_local_source language-nodejs github.com/pulumi/pulumi/sdk/nodejs/cmd/pulumi-language-nodejs/v3 "${ENGINE_LANGUAGE_NODEJS_SRC:-}"
build language-nodejs pulumi-language-nodejs -ldflags "$VERSION_FLAG" github.com/pulumi/pulumi/sdk/nodejs/cmd/pulumi-language-nodejs/v3 || true

# 3. The Docker provider. Its schema is generated at release time and not in the module:
#    embed the module's committed schema.json with the plugin version set.
with_local_source docker github.com/pulumi/pulumi-docker/provider/v5 "${ENGINE_DOCKER_PROVIDER_SRC:-}"
if ! is_current docker pulumi-resource-docker; then
    schema_dir="$(cd engine/docker && go list -m -f '{{.Dir}}' github.com/pulumi/pulumi-docker/provider/v5 2>"$OUT/docker.log")" || schema_dir=""
    if [ -n "$schema_dir" ] && [ -f "$schema_dir/cmd/pulumi-resource-docker/schema.json" ]; then
        node -e 'const fs=require("fs");const s=JSON.parse(fs.readFileSync(process.argv[1],"utf8"));s.version=process.argv[2];fs.writeFileSync(process.argv[3],JSON.stringify(s));' \
            "$schema_dir/cmd/pulumi-resource-docker/schema.json" "$DOCKER_PROVIDER_VERSION" engine/docker/schema-embed.json
        build docker pulumi-resource-docker -tags no_compose \
            -ldflags "-X github.com/pulumi/pulumi-docker/provider/v5/pkg/version.Version=$DOCKER_PROVIDER_VERSION" . || true
    else
        record "blocked docker: $(grep -m1 -E 'Forbidden|not available|error' "$OUT/docker.log" || echo "module github.com/pulumi/pulumi-docker/provider/v5 not found")"
    fi
else
    record "reused  docker (pulumi-resource-docker)"
fi

# Lay the binaries out as the `pulumi` npm launcher and the engine expect them.
for binary in pulumi pulumi-language-nodejs; do
    [ -x "$BIN/$binary" ] && ln -sf "$BIN/$binary" "$VERSION_BIN/$binary"
done
if [ -x "$BIN/pulumi" ] && [ -x "$BIN/pulumi-resource-docker" ]; then
    "$BIN/pulumi" plugin install resource docker "$DOCKER_PROVIDER_VERSION" --file "$BIN/pulumi-resource-docker" --reinstall >/dev/null
    record "installed docker plugin $DOCKER_PROVIDER_VERSION into $PULUMI_HOME/plugins"
fi

cat > "$OUT/env.sh" <<EOF
# Generated by scripts/build-engine.sh: the locally built Pulumi engine first on PATH.
export PULUMI_HOME="$PULUMI_HOME"
export PATH="$VERSION_BIN:\$PATH"
export PULUMI_SKIP_UPDATE_CHECK=true
EOF

[ -x "$BIN/pulumi" ] || { log "the CLI did not build; see $OUT/cli.log"; exit 1; }
log "done; run '. .engine/env.sh' to use it"
