#!/usr/bin/env bash
# Wall time of the container suite (tests/chaos/container_failures.clnrm.toml) with
# `clnrm run -j 1` vs `-j 4`: scenarios one after another vs up to four at once, each
# in its own network with its own containers. Both runs must pass with the same digest.
# Prints every run, the medians and the ratio, then `@bench <key> <value>` lines for
# `cargo xtask bench`.
#
# Usage: bench/jobs_container.sh   (needs target/release/clnrm, target/plugins, clnrm-base:latest)
# Env:   CLNRM=path/to/clnrm  RUNS=3
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
clnrm="${CLNRM:-$root/target/release/clnrm}"
runs="${RUNS:-3}"
suite="$root/tests/chaos/container_failures.clnrm.toml"
die() { echo "jobs_container: $*" >&2; exit 1; }
[ -x "$clnrm" ] || die "$clnrm not found; build it with \`cargo build --release -p clnrm\`"

tmp="$(mktemp -d "${TMPDIR:-/tmp}/clnrm-bench-jobs.XXXXXX")"
trap 'rm -rf "$tmp"' EXIT
export CLNRM_PLUGIN_DIR="$root/target/plugins"
export CLNRM_CACHE_DIR="$tmp/cache"

now_ms() { echo $(( $(date +%s%N) / 1000000 )); }
median() { sort -n | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }

# Warm-up (fills the plugin compile cache), untimed.
"$clnrm" run -j 4 "$suite" --report-dir "$tmp/warm" >/dev/null 2>&1 || die "warm-up run failed"

digest_of() { sed -n 's/^  trace digest \([0-9a-f]*\).*/\1/p' "$1"; }
: >"$tmp/j1"; : >"$tmp/j4"; first=""
for i in $(seq "$runs"); do
    for j in 1 4; do
        t0=$(now_ms)
        "$clnrm" run -j "$j" "$suite" --report-dir "$tmp/r$j-$i" >"$tmp/out$j-$i" 2>&1 \
            || { cat "$tmp/out$j-$i" >&2; die "-j $j failed (run $i)"; }
        took=$(( $(now_ms) - t0 ))
        d="$(digest_of "$tmp/out$j-$i")"
        [ -n "$first" ] || first="$d"
        [ "$d" = "$first" ] || die "-j $j gave digest $d, -j 1 gave $first"
        echo "$took" >>"$tmp/j$j"
        echo "run $i  -j $j  ${took} ms  digest ${d:0:12}"
    done
done
m1=$(median <"$tmp/j1"); m4=$(median <"$tmp/j4")
ratio=$(awk -v a="$m4" -v b="$m1" 'BEGIN {printf "%.2f", a/b}')
echo "median: -j 1 ${m1} ms, -j 4 ${m4} ms, ratio ${ratio} (same digest ${first:0:12})"
echo "@bench jobs_j1_ms $m1"
echo "@bench jobs_j4_ms $m4"
