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
#   github           github.com/pulumi/pulumi-github/provider/v6, bridging
#                    github.com/integrations/terraform-provider-github/v6
#
# A piece whose module the Go module proxy does not serve is reported as
# blocked (with the exact error) and skipped; the rest are still built. The
# proxy refuses the language host and both providers, so their sources come
# from checkouts: ENGINE_LANGUAGE_NODEJS_SRC (sdk/nodejs/cmd/pulumi-language-nodejs),
# ENGINE_DOCKER_PROVIDER_SRC (pulumi-docker's provider/) and
# ENGINE_GITHUB_PROVIDER_SRC (pulumi-github's provider/). scripts/engine.sh
# (`npm run engine`, and CI) verifies and unpacks them from ../shared/engine-src
# and passes them here with ENGINE_REQUIRE_ALL=1, which turns a blocked piece
# into a failure. None of them is ever committed.
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
# A piece built from a local source is stamped from its committed go.mod (without the
# replace), so the next run without that source reuses it.
stamp_of() {
    local mod="engine/$1/go.mod"
    [ -f "$OUT/$1.go.mod.orig" ] && [[ " ${EDITED[*]} " == *" $1 "* ]] && mod="$OUT/$1.go.mod.orig"
    cat "$mod" engine/versions.env | sha256sum | cut -c1-16
}
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

# Bridged providers: their main packages embed a schema that each repository generates at
# release time and does not commit to the module, so a module download cannot build them.
# build_provider <piece> <module> <local source> <version> <build args...> embeds the
# module's committed schema.json with the plugin version set, then builds engine/<piece>.
build_provider() {
    local piece="$1" module="$2" src="$3" version="$4"; shift 4
    local binary="pulumi-resource-$piece"
    with_local_source "$piece" "$module" "$src"
    if is_current "$piece" "$binary"; then record "reused  $piece ($binary)"; return 0; fi
    local schema_dir
    schema_dir="$(cd "engine/$piece" && go list -m -f '{{.Dir}}' "$module" 2>"$OUT/$piece.log")" || schema_dir=""
    local schema="$schema_dir/cmd/$binary/schema.json"
    if [ -z "$schema_dir" ] || [ ! -f "$schema" ]; then
        record "blocked $piece: $(grep -m1 -E 'Forbidden|not available|error' "$OUT/$piece.log" || echo "module $module not found")"
        return 1
    fi
    node -e 'const fs=require("fs");const s=JSON.parse(fs.readFileSync(process.argv[1],"utf8"));s.version=process.argv[2];fs.writeFileSync(process.argv[3],JSON.stringify(s));' \
        "$schema" "$version" "engine/$piece/schema-embed.json"
    build "$piece" "$binary" -ldflags "-X $module/pkg/version.Version=$version" "$@" .
}

# 3. The Docker provider, bridging kreuzwerker/terraform-provider-docker.
build_provider docker github.com/pulumi/pulumi-docker/provider/v5 "${ENGINE_DOCKER_PROVIDER_SRC:-}" "$DOCKER_PROVIDER_VERSION" -tags no_compose || true

# 4. The GitHub provider, bridging integrations/terraform-provider-github (for the governance test).
build_provider github github.com/pulumi/pulumi-github/provider/v6 "${ENGINE_GITHUB_PROVIDER_SRC:-}" "$GITHUB_PROVIDER_VERSION" || true

# Lay the binaries out as the `pulumi` npm launcher and the engine expect them.
for binary in pulumi pulumi-language-nodejs; do
    [ -x "$BIN/$binary" ] && ln -sf "$BIN/$binary" "$VERSION_BIN/$binary"
done
# The dynamic-provider plugin the Pulumi CLI ships beside the language host: a two-line launcher of
# the SDK's own dynamic provider (the edge's routes are a dynamic resource). Written here because
# the CLI's release tarball, not its Go modules, carries it.
printf '#!/bin/sh\nexec node ./node_modules/@pulumi/pulumi/cmd/dynamic-provider "$@"\n' >"$VERSION_BIN/pulumi-resource-pulumi-nodejs"
chmod +x "$VERSION_BIN/pulumi-resource-pulumi-nodejs"
install_plugin() {
    local name="$1" version="$2"
    if [ -x "$BIN/pulumi" ] && [ -x "$BIN/pulumi-resource-$name" ]; then
        "$BIN/pulumi" plugin install resource "$name" "$version" --file "$BIN/pulumi-resource-$name" --reinstall >/dev/null
        record "installed $name plugin $version into $PULUMI_HOME/plugins"
    fi
}
install_plugin docker "$DOCKER_PROVIDER_VERSION"
install_plugin github "$GITHUB_PROVIDER_VERSION"

cat > "$OUT/env.sh" <<EOF
# Generated by scripts/build-engine.sh: the locally built Pulumi engine first on PATH.
export PULUMI_HOME="$PULUMI_HOME"
export PATH="$VERSION_BIN:\$PATH"
export PULUMI_SKIP_UPDATE_CHECK=true
EOF

[ -x "$BIN/pulumi" ] || { log "the CLI did not build; see $OUT/cli.log"; exit 1; }
# scripts/engine.sh (CI, `npm run engine`) hands over every source, so there a blocked piece is a failure.
if [ "${ENGINE_REQUIRE_ALL:-}" = "1" ] && grep -q '^blocked' "$OUT/status"; then
    log "every piece was required, but some did not build:"; grep '^blocked' "$OUT/status" >&2; exit 1
fi
log "done; run '. .engine/env.sh' to use it"
