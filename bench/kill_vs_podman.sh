#!/usr/bin/env bash
# The kill scenario on Podman (issue 24): wall time of `clnrm --engine podman run` on a suite
# with only the kill scenario (SIGKILL 500 ms into a 30 s step) vs the same steps by hand with
# the podman CLI:
#   podman run -d (keep-alive, --network none, the ulimits this machine grants) ;
#   podman exec sh -c 'sleep 30' & ; sleep 0.5 ; podman kill -s KILL ; podman wait
#   (exit code must be 137, checked) ; podman rm -f
# clnrm runs the one-service scenario without a network too. Runs alternate, one untimed
# warm-up of each first. Prints every run, the medians, the ratio and the overhead, then
# `@bench <key> <value>` lines for `cargo xtask bench`. Skipped (exit 0, said) when Podman's
# API does not answer on /run/podman/podman.sock (`cargo xtask podman` starts it).
#
# Usage: bench/kill_vs_podman.sh   Env: CLNRM=path/to/clnrm  RUNS=5  IMAGE=clnrm-base:latest
# Everything started by hand is labelled clnrm.bench=1 and removed, also on failure or Ctrl-C.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
clnrm="${CLNRM:-$root/target/release/clnrm}"
runs="${RUNS:-5}"
image="${IMAGE:-clnrm-base:latest}"
keepalive="trap 'exit 0' TERM; while :; do sleep 3600 & wait \$!; done"
step_cmd='echo started; sleep 30; echo never-printed'

die() { echo "kill_vs_podman: $*" >&2; exit 1; }
[ -x "$clnrm" ] || die "$clnrm not found; build it with \`cargo build --release -p clnrm\`"
if ! command -v podman >/dev/null || ! curl -sf --unix-socket /run/podman/podman.sock http://d/_ping >/dev/null 2>&1; then
    echo "kill_vs_podman: SKIPPED: Podman's API does not answer on /run/podman/podman.sock (cargo xtask podman starts it)"
    exit 0
fi
podman image exists "$image" || die "image $image missing in Podman; \`docker save $image | podman load\`"
# Podman's default ulimits are above what runc may set here (the podman process lowers its own
# nproc on start): the values that work by hand on such machines (docs/engines.md).
ulimits=(--ulimit nofile=1024:1024 --ulimit nproc=4096:4096)

tmp="$(mktemp -d "${TMPDIR:-/tmp}/clnrm-bench-killp.XXXXXX")"
current=""
cleanup() {
    if [ -n "$current" ]; then podman rm -f -t 0 "$current" >/dev/null 2>&1 || true; fi
    rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

cat >"$tmp/kill.clnrm.toml" <<TOML
[meta]
name = "bench_kill_podman"

[service.app]
image = "$image"

[[scenario]]
name = "container_killed_mid_step"
service = "app"
run = "$step_cmd"
expect_failure = true
chaos_injection = { type = "kill_container", delay_ms = 500, signal = "SIGKILL" }
TOML

export CLNRM_PLUGIN_DIR="$root/target/plugins"
export CLNRM_CACHE_DIR="$tmp/cache"
now_ms() { echo $(( $(date +%s%N) / 1000000 )); }

run_clnrm() {
    local i="$1" t0 t1 rc=0
    t0=$(now_ms)
    "$clnrm" --engine podman run "$tmp/kill.clnrm.toml" --report-dir "$tmp/report-$i" >"$tmp/clnrm-$i.log" 2>&1 || rc=$?
    t1=$(now_ms)
    [ "$rc" -eq 0 ] || { cat "$tmp/clnrm-$i.log" >&2; die "clnrm run exited $rc (run $i)"; }
    took=$((t1 - t0))
}

run_by_hand() {
    local t0 t1 t2 t3 t4 exec_pid code state id
    t0=$(now_ms)
    # Named first: a container that fails to start is still removed by the EXIT trap.
    current="clnrm-bench-$$-$RANDOM"
    podman run -d --name "$current" --label clnrm.bench=1 --network none "${ulimits[@]}" "$image" sh -c "$keepalive" >/dev/null
    t1=$(now_ms)
    podman exec "$current" sh -c "$step_cmd" >/dev/null 2>&1 &
    exec_pid=$!
    sleep 0.5
    t2=$(now_ms)
    podman kill -s KILL "$current" >/dev/null
    code="$(podman wait "$current")"
    wait "$exec_pid" || true
    t3=$(now_ms)
    state="$(podman inspect -f '{{.State.ExitCode}} {{.State.Running}}' "$current")"
    podman rm -f -t 0 "$current" >/dev/null
    id="$current" current=""
    t4=$(now_ms)
    [ "$code" = 137 ] || die "by hand: podman wait said exit code $code, expected 137 ($id)"
    [ "$state" = "137 false" ] || die "by hand: podman inspect said '$state', expected '137 false' ($id)"
    took=$((t4 - t0))
    phases="run -d $((t1 - t0)), exec+sleep $((t2 - t1)), kill+wait $((t3 - t2)), inspect+rm $((t4 - t3))"
}

median() { sort -n | awk '{ v[NR] = $1 } END { if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

echo "kill_vs_podman: $runs runs each, alternating; clnrm = $clnrm"
took=0 phases=""
run_clnrm warmup
run_by_hand
ours=() raw=()
for i in $(seq 1 "$runs"); do
    if [ $((i % 2)) -eq 0 ]; then run_clnrm "$i"; a=$took; run_by_hand; b=$took
    else run_by_hand; b=$took; run_clnrm "$i"; a=$took; fi
    ours+=("$a") raw+=("$b")
    printf '  run %d: clnrm on podman %5d ms | podman CLI by hand %5d ms (%s)  [exit 137 verified]\n' "$i" "$a" "$b" "$phases"
done
m_ours=$(printf '%s\n' "${ours[@]}" | median)
m_raw=$(printf '%s\n' "${raw[@]}" | median)
awk -v a="$m_ours" -v b="$m_raw" 'BEGIN {
    printf "median: clnrm on podman %.0f ms, by hand (podman CLI) %.0f ms: ratio %.2fx, overhead %+.0f ms\n", a, b, a / b, a - b
    printf "@bench kill_podman_clnrm_ms %.0f\n@bench kill_podman_cli_ms %.0f\n", a, b
}'
left="$(podman ps -aq --filter label=clnrm.bench=1)"
[ -z "$left" ] || die "by-hand containers left behind: $left"
