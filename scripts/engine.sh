#!/usr/bin/env bash
# Test infrastructure only: the whole Pulumi engine for the real-engine tests
# in one command (`npm run engine`; CI's .ci/run runs the same). Users never
# need it: they get the CLI from the `pulumi` npm package and the plugins from
# Pulumi.
#
#   1. finds the engine sources: $FLEET_ENGINE_SOURCES, else ../shared/engine-src
#      next to the project's root, else next to the checkout this clone came
#      from (a clean clone in a temp dir, as docs/contributing.md describes);
#   2. verifies every archive engine/sources.lock pins: present, with the
#      SHA-256 pinned there and the same line in that folder's SHA256SUMS;
#   3. unpacks each into the git-ignored .engine/src/<folder> (only when the
#      archive changed since the last unpack);
#   4. runs scripts/build-engine.sh with ENGINE_*_SRC pointing at them, which
#      builds what is missing or stale and reuses the rest.
#
# Exits 2, naming the file, when a source is missing or does not match.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT="$PWD"
LOCK="engine/sources.lock"
UNPACKED="$ROOT/.engine/src"

die() { echo "engine: $*" >&2; exit 2; }

sources_dir() {
    if [ -n "${FLEET_ENGINE_SOURCES:-}" ]; then echo "$FLEET_ENGINE_SOURCES"; return; fi
    local candidates=("$ROOT/../shared/engine-src")
    local origin
    origin="$(git config --get remote.origin.url 2>/dev/null || true)"
    # A clone of a local checkout: that checkout's neighbour holds the sources.
    if [ -n "$origin" ] && [ -d "$origin" ]; then candidates+=("$origin/../shared/engine-src"); fi
    for dir in "${candidates[@]}"; do
        if [ -d "$dir" ]; then (cd "$dir" && pwd); return; fi
    done
    echo "${candidates[0]}"
}

SOURCES="$(sources_dir)"
[ -d "$SOURCES" ] || die "no engine sources at $SOURCES (set FLEET_ENGINE_SOURCES to the folder holding the archives that $LOCK names)"
[ -f "$SOURCES/SHA256SUMS" ] || die "$SOURCES/SHA256SUMS is missing"

mkdir -p "$UNPACKED"
declare -a build_env=()
while read -r sum archive folder variable; do
    case "$sum" in ''|'#'*) continue ;; esac
    file="$SOURCES/$archive"
    [ -f "$file" ] || die "$file is missing ($LOCK pins it for $variable)"
    grep -qxF "$sum  $archive" "$SOURCES/SHA256SUMS" \
        || die "$SOURCES/SHA256SUMS has no line '$sum  $archive': the folder holds other sources than $LOCK pins"
    actual="$(sha256sum "$file" | cut -d' ' -f1)"
    [ "$actual" = "$sum" ] || die "$file has SHA-256 $actual; $LOCK and SHA256SUMS pin $sum (a damaged or replaced archive)"

    target="$UNPACKED/$folder"
    if [ "$(cat "$target.sha256" 2>/dev/null)" != "$sum" ] || [ ! -d "$target" ]; then
        # Unpack beside the target, then move it into place: a killed run leaves no half-unpacked source.
        staging="$(mktemp -d "$UNPACKED/.unpack.XXXXXX")"
        tar -xzf "$file" -C "$staging"
        [ -d "$staging/$folder" ] || die "$file does not unpack into $folder/ as $LOCK expects"
        rm -rf "$target" "$target.sha256"
        mv "$staging/$folder" "$target"
        rm -rf "$staging"
        echo "$sum" > "$target.sha256"
        echo "engine: unpacked $archive into .engine/src/$folder"
    fi
    build_env+=("$variable=$target")
done < "$LOCK"

echo "engine: sources verified (${#build_env[@]} archives from $SOURCES)"
env ENGINE_REQUIRE_ALL=1 "${build_env[@]}" bash scripts/build-engine.sh
