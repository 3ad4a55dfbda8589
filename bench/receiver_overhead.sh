#!/usr/bin/env bash
# The OTLP receiver's cost on a scenario: the kill scenario (SIGKILL 500 ms into a 30 s step,
# bench/kill_vs_docker.sh's suite) through `clnrm run` without the receiver (the fast path:
# no network) and with `[otel] receive = true` (a network of its own, the receiver on its
# gateway, the OTEL variables in the container, the flush: SIGTERM, then app_quiet_ms).
# Runs alternate, one untimed warm-up of each first; medians, the difference and the ratio,
# then `@bench <key> <value>` lines for `cargo xtask bench`.
#
# Usage: bench/receiver_overhead.sh   (needs target/release/clnrm, target/plugins, clnrm-base)
# Env:   CLNRM=path/to/clnrm  RUNS=5  IMAGE=clnrm-base:latest
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
clnrm="${CLNRM:-$root/target/release/clnrm}"
runs="${RUNS:-5}"
image="${IMAGE:-clnrm-base:latest}"

die() { echo "receiver_overhead: $*" >&2; exit 1; }
[ -x "$clnrm" ] || die "$clnrm not found; build it with \`cargo build --release -p clnrm\`"
[ -d "$root/target/plugins" ] || die "$root/target/plugins not found; run \`cargo xtask plugins\`"

tmp="$(mktemp -d "${TMPDIR:-/tmp}/clnrm-bench-recv.XXXXXX")"
trap 'rm -rf "$tmp"' EXIT
trap 'exit 130' INT TERM

suite() {   # $1: name, $2: the [otel] receive value
    cat >"$tmp/$1.clnrm.toml" <<EOT
[meta]
name = "$1"

[otel]
receive = $2

[service.app]
image = "$image"

[[scenario]]
name = "container_killed_mid_step"
service = "app"
run = "echo started; sleep 30; echo never-printed"
expect_failure = true
chaos_injection = { type = "kill_container", delay_ms = 500, signal = "SIGKILL" }
EOT
}
suite kill_off false
suite kill_on true

export CLNRM_PLUGIN_DIR="$root/target/plugins"
export CLNRM_CACHE_DIR="$tmp/cache"
now_ms() { echo $(( $(date +%s%N) / 1000000 )); }

run_one() {   # $1: suite name; sets $took
    local t0 t1
    t0=$(now_ms)
    "$clnrm" run "$tmp/$1.clnrm.toml" --report-dir "$tmp/r-$1" >"$tmp/$1.log" 2>&1 \
        || { cat "$tmp/$1.log" >&2; die "clnrm run $1 failed"; }
    t1=$(now_ms)
    took=$((t1 - t0))
}
median() { sort -n | awk '{ v[NR] = $1 } END { if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

echo "receiver_overhead: $runs runs each, alternating; clnrm = $clnrm"
took=0
run_one kill_off; run_one kill_on
grep -q '"clnrm.otel.receive"' "$tmp/r-kill_on/kill_on.report.json" || die "no clnrm.otel.receive span with receive = true"
! grep -q '"clnrm.otel.receive"' "$tmp/r-kill_off/kill_off.report.json" || die "a receive span with receive = false"
off=() on=()
for i in $(seq 1 "$runs"); do
    if [ $((i % 2)) = 0 ]; then run_one kill_off; a=$took; run_one kill_on; b=$took
    else run_one kill_on; b=$took; run_one kill_off; a=$took; fi
    off+=("$a") on+=("$b")
    printf '  run %d: without the receiver %5d ms | with it %5d ms\n' "$i" "$a" "$b"
done
m_off=$(printf '%s\n' "${off[@]}" | median)
m_on=$(printf '%s\n' "${on[@]}" | median)
awk -v a="$m_off" -v b="$m_on" 'BEGIN {
    printf "median: without %.0f ms, with the receiver %.0f ms: %+.0f ms, %.2fx\n", a, b, b - a, b / a
    printf "@bench kill_receiver_off_ms %.0f\n@bench kill_receiver_on_ms %.0f\n", a, b
}'
