#!/usr/bin/env bash
# The kill scenario (SIGKILL 500 ms into a 30 s step) through `clnrm --engine ENGINE run` vs the
# same steps by hand with that engine's CLI; ENGINE is docker or podman. bench/kill_vs_docker.sh
# and bench/kill_vs_podman.sh call this with their engine (their `@bench` keys are unchanged).
#   ENGINE run -d (keep-alive) ; ENGINE exec sh -c 'sleep 30' & ; sleep 0.5 ;
#   ENGINE kill -s KILL ; ENGINE wait (exit code must be 137, checked) ; ENGINE rm -f
# clnrm runs this one-service scenario without any network (network.mode = "none").
#   docker: the plain by-hand run uses Docker's default bridge, as it always did, and a second
#           by-hand variant also isolates the container the way clnrm did for every scenario
#           until 2026-11-30 (and still does for one that needs a network of its own):
#           `docker network create` first, `--network` on the container, `docker network rm` last.
#           Then the fixed cost of a clnrm process (`clnrm validate`, no engine).
#   podman: by hand with `--network none` and the ulimits this machine grants (Podman's default
#           ulimits are above what runc may set here, docs/engines.md). Skipped (exit 0, said)
#           when Podman's API does not answer on /run/podman/podman.sock (`cargo xtask podman`
#           starts it).
# Runs alternate (the order rotates every round), one untimed warm-up of each first. Prints every
# run, the medians, the ratio clnrm/by-hand and the overhead (on Docker also where the last clnrm
# run's time went, bench/phases.py), then `@bench <key> <value>` lines for `cargo xtask bench`.
#
# Usage: bench/kill_vs_engine.sh docker|podman   (needs target/release/clnrm, target/plugins,
#                                                 clnrm-base:latest in the engine)
# Env:   CLNRM=path/to/clnrm  RUNS=5  IMAGE=clnrm-base:latest
# Everything started by hand is labelled clnrm.bench=1 and removed, also on failure or Ctrl-C.
set -euo pipefail

engine="${1:-}"
me="kill_vs_${engine:-engine}"
die() { echo "$me: $*" >&2; exit 1; }
case "$engine" in
    docker)
        hand_args=()
        rm_args=(rm -f)
        keys=(kill_clnrm_ms kill_docker_ms)
        variants=(clnrm hand net) ;;
    podman)
        hand_args=(--network none --ulimit nofile=1024:1024 --ulimit nproc=4096:4096)
        rm_args=(rm -f -t 0)
        keys=(kill_podman_clnrm_ms kill_podman_cli_ms)
        variants=(clnrm hand) ;;
    *) echo "usage: bench/kill_vs_engine.sh docker|podman" >&2; exit 2 ;;
esac

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
clnrm="${CLNRM:-$root/target/release/clnrm}"
runs="${RUNS:-5}"
image="${IMAGE:-clnrm-base:latest}"
keepalive="trap 'exit 0' TERM; while :; do sleep 3600 & wait \$!; done"   # what clnrm runs as PID 1
step_cmd='echo started; sleep 30; echo never-printed'

[ -x "$clnrm" ] || die "$clnrm not found; build it with \`cargo build --release -p clnrm\`"
[ -d "$root/target/plugins" ] || die "$root/target/plugins not found; run \`cargo xtask plugins\`"
if [ "$engine" = podman ]; then
    if ! command -v podman >/dev/null || ! curl -sf --unix-socket /run/podman/podman.sock http://d/_ping >/dev/null 2>&1; then
        echo "$me: SKIPPED: Podman's API does not answer on /run/podman/podman.sock (cargo xtask podman starts it)"
        exit 0
    fi
    podman image exists "$image" || die "image $image missing in Podman; \`docker save $image | podman load\`"
else
    docker image inspect "$image" >/dev/null 2>&1 || die "image $image missing; run \`cargo xtask image\`"
fi

tmp="$(mktemp -d "${TMPDIR:-/tmp}/clnrm-bench-kill-$engine.XXXXXX")"
current=""       # the by-hand container in flight, removed on any exit
current_net=""   # the by-hand network in flight, likewise
cleanup() {
    if [ -n "$current" ]; then "$engine" "${rm_args[@]}" "$current" >/dev/null 2>&1 || true; fi
    if [ -n "$current_net" ]; then "$engine" network rm "$current_net" >/dev/null 2>&1 || true; fi
    rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

cat >"$tmp/kill.clnrm.toml" <<TOML
[meta]
name = "bench_kill"
version = "0.1.0"
description = "bench/kill_vs_engine.sh: the kill scenario alone, no expectations"

[service.app]
type = "generic_container"
image = "$image"

[[scenario]]
name = "container_killed_mid_step"
service = "app"
run = "$step_cmd"
expect_failure = true
chaos_injection = { type = "kill_container", delay_ms = 500, signal = "SIGKILL" }
TOML

# Plugins from this checkout; a private compile cache (filled by the warm-up run).
export CLNRM_PLUGIN_DIR="$root/target/plugins"
export CLNRM_CACHE_DIR="$tmp/cache"

now_ms() { echo $(( $(date +%s%N) / 1000000 )); }

# The functions below set $took (ms) and $phases instead of printing: no subshell, so the
# EXIT trap sees $current / $current_net and removes them if anything fails.

# One clnrm run. Fails if clnrm fails or leaves a container behind.
run_clnrm() {
    local i="$1" t0 t1 pid rc=0 left
    t0=$(now_ms)
    "$clnrm" --engine "$engine" run "$tmp/kill.clnrm.toml" --report-dir "$tmp/report-$i" >"$tmp/clnrm-$i.log" 2>&1 &
    pid=$!
    wait "$pid" || rc=$?
    t1=$(now_ms)
    if [ "$rc" -ne 0 ]; then
        cat "$tmp/clnrm-$i.log" >&2
        die "clnrm run exited $rc (run $i)"
    fi
    left="$("$engine" ps -aq --filter "label=clnrm.pid=$pid")"
    if [ -n "$left" ]; then
        "$engine" "${rm_args[@]}" $left >/dev/null 2>&1 || true
        die "clnrm run $i left container(s) behind: $left (removed)"
    fi
    took=$((t1 - t0))
    last_report="$tmp/report-$i/bench_kill.report.json" last_t0=$t0 last_t1=$t1
}

# The same steps by hand; with "net", on a network of its own like clnrm's scenarios.
# Fails unless the container's exit code is 137 (wait and inspect agree).
run_by_hand() {
    local mode="${1:-}" t0 tn t1 t2 t3 t4 t5 exec_pid code state id net_args=()
    t0=$(now_ms)
    if [ "$mode" = net ]; then
        current_net="clnrm-bench-$$-$RANDOM"
        "$engine" network create --label clnrm.bench=1 "$current_net" >/dev/null
        net_args=(--network "$current_net")
    fi
    tn=$(now_ms)
    # Named first: a container that fails to start is still removed by the EXIT trap.
    current="clnrm-bench-$$-$RANDOM"
    "$engine" run -d --name "$current" --label clnrm.bench=1 "${hand_args[@]}" "${net_args[@]}" "$image" sh -c "$keepalive" >/dev/null
    t1=$(now_ms)
    "$engine" exec "$current" sh -c "$step_cmd" >/dev/null 2>&1 &
    exec_pid=$!
    sleep 0.5
    t2=$(now_ms)
    "$engine" kill -s KILL "$current" >/dev/null
    code="$("$engine" wait "$current")"
    wait "$exec_pid" || true   # the exec client returns once the container is gone
    t3=$(now_ms)
    state="$("$engine" inspect -f '{{.State.ExitCode}} {{.State.Running}}' "$current")"
    "$engine" "${rm_args[@]}" "$current" >/dev/null
    id="$current"
    current=""
    t4=$(now_ms)
    if [ -n "$current_net" ]; then
        "$engine" network rm "$current_net" >/dev/null
        current_net=""
    fi
    t5=$(now_ms)
    [ "$code" = 137 ] || die "by hand: $engine wait said exit code $code, expected 137 ($id)"
    [ "$state" = "137 false" ] || die "by hand: $engine inspect said '$state', expected '137 false' ($id)"
    took=$((t5 - t0))
    phases="run -d $((t1 - tn)), exec+sleep $((t2 - t1)), kill+wait $((t3 - t2)), inspect+rm $((t4 - t3))"
    [ "$mode" != net ] || phases="net create $((tn - t0)), $phases, net rm $((t5 - t4))"
}

median() { sort -n | awk '{ v[NR] = $1 } END { if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

echo "$me: $runs runs each, alternating; clnrm = $clnrm"
echo "warm-up (untimed): fills the plugin cache and the engine's page cache"
took=0 phases=""
run_clnrm warmup
for v in "${variants[@]:1}"; do [ "$v" = net ] && run_by_hand net || run_by_hand; done

n=${#variants[@]}
ours=() raw=() rawnet=() a=0 b=0 c=0 pb="" pc=""
for i in $(seq 1 "$runs"); do
    # Rotate the order so no variant always runs first (or right after another one).
    for k in $(seq 0 $((n - 1))); do
        case "${variants[$(( (i + k) % n ))]}" in
            clnrm) run_clnrm "$i"; a=$took ;;
            hand) run_by_hand; b=$took; pb="$phases" ;;
            net) run_by_hand net; c=$took; pc="$phases" ;;
        esac
    done
    ours+=("$a") raw+=("$b") rawnet+=("$c")
    line=$(printf 'run %d: clnrm on %s %5d ms | by hand (%s CLI) %5d ms (%s)' "$i" "$engine" "$a" "$engine" "$b" "$pb")
    [ "$n" -lt 3 ] || line+=$(printf ' | by hand + network %5d ms (%s)' "$c" "$pc")
    echo "  $line  [exit 137 verified]"
done

m_ours=$(printf '%s\n' "${ours[@]}" | median)
m_raw=$(printf '%s\n' "${raw[@]}" | median)
awk -v a="$m_ours" -v b="$m_raw" -v e="$engine" -v ka="${keys[0]}" -v kb="${keys[1]}" 'BEGIN {
    printf "median: clnrm on %s %.0f ms, by hand (%s CLI) %.0f ms: ratio clnrm/by-hand %.2fx, overhead %+.0f ms\n", e, a, e, b, a / b, a - b
    printf "@bench %s %.0f\n@bench %s %.0f\n", ka, a, kb, b
}'
if [ "$engine" = docker ]; then
    m_rawnet=$(printf '%s\n' "${rawnet[@]}" | median)
    awk -v a="$m_ours" -v c="$m_rawnet" 'BEGIN {
        printf "        by hand with a network of its own %.0f ms: ratio %.2fx, overhead %+.0f ms\n", c, a / c, a - c
        printf "@bench kill_docker_net_ms %.0f\n", c
    }'
    # Fixed cost of a clnrm process without an engine: start, parse, resolve plugins (cache
    # hits). Timed in µs with bash's own clock ($EPOCHREALTIME): `date` would add a process
    # start of its own (about 1 ms) to a figure of a few ms. Cheap, so 21 runs whatever RUNS says.
    startup=()
    for i in $(seq 1 21); do
        t0=${EPOCHREALTIME/./}
        "$clnrm" validate "$tmp/kill.clnrm.toml" >/dev/null 2>&1 || die "clnrm validate failed"
        t1=${EPOCHREALTIME/./}
        startup+=($((t1 - t0)))
    done
    m_startup=$(printf '%s\n' "${startup[@]}" | median | awk '{printf "%.1f", $1 / 1000}')
    echo "clnrm validate on the same suite (process start + parse + plugin resolve, no engine): median ${m_startup} ms"
    echo "@bench clnrm_validate_ms $m_startup"
    # Its `@bench phase_*` keys are Docker's figures in `cargo xtask bench`'s table.
    echo "  where the last clnrm run's time went (bench/phases.py, from its own spans):"
    python3 "$root/bench/phases.py" "$last_report" "$last_t0" "$last_t1" \
        || die "bench/phases.py could not read $last_report"
fi

left="$("$engine" ps -aq --filter label=clnrm.bench=1) $("$engine" network ls -q --filter label=clnrm.bench=1)"
[ -z "${left// /}" ] || die "by-hand containers or networks left behind: $left"
