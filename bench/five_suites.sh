#!/usr/bin/env bash
# Wall time of the five chaos suites of tests/chaos in one `clnrm run` (default -j: one
# scenario per CPU), as `cargo xtask chaos` runs them. Every suite must pass. Prints the
# time and each suite's digest, then `@bench suites_wall_ms <ms>` for `cargo xtask bench`.
#
# Usage: bench/five_suites.sh   (needs target/release/clnrm, target/plugins, clnrm-base:latest)
# Env:   CLNRM=path/to/clnrm
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
clnrm="${CLNRM:-$root/target/release/clnrm}"
die() { echo "five_suites: $*" >&2; exit 1; }
[ -x "$clnrm" ] || die "$clnrm not found; build it with \`cargo build --release -p clnrm\`"

tmp="$(mktemp -d "${TMPDIR:-/tmp}/clnrm-bench-suites.XXXXXX")"
trap 'rm -rf "$tmp"' EXIT
export CLNRM_PLUGIN_DIR="$root/target/plugins"
export CLNRM_CACHE_DIR="$tmp/cache"
suites=("$root"/tests/chaos/*.clnrm.toml)
[ "${#suites[@]}" -eq 5 ] || die "expected five suites in tests/chaos, found ${#suites[@]}"

# The plugin compile cache is filled by `clnrm validate` (no Docker), not by a timed run.
"$clnrm" validate "${suites[@]}" >/dev/null 2>&1 || die "the suites do not validate"

now_ms() { echo $(( $(date +%s%N) / 1000000 )); }
t0=$(now_ms)
"$clnrm" run "${suites[@]}" --report-dir "$tmp/r" >"$tmp/out" 2>&1 \
    || { cat "$tmp/out" >&2; die "a suite failed"; }
took=$(( $(now_ms) - t0 ))
grep -E '^(PASS|FAIL) |trace digest' "$tmp/out" | sed 's/^/  /'
echo "five suites in one run: ${took} ms"
echo "@bench suites_wall_ms $took"
