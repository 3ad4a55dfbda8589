#!/usr/bin/env bash
# Cleanup of 1 and of 5 containers (plus the scenario network): clnrm's own
# cleanup (removal in parallel, then the network, then verification, read from
# <name>.cleanup.json) vs removing the same by hand with the docker CLI
# (`docker rm -f` of all ids in one call, then `docker network rm`), and vs the
# by-hand removal done in parallel (one `docker rm -f` per container at once).
# Prints every run, medians and ratios, then `@bench <key> <value>` lines.
#
# Usage: bench/cleanup_vs_docker.sh   (needs target/release/clnrm or CLNRM=..., plugins, image)
# Env:   CLNRM=path/to/clnrm  RUNS=5  IMAGE=clnrm-base:latest
# Everything started by hand is labelled clnrm.bench=1 and removed, also on failure.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
clnrm="${CLNRM:-$root/target/release/clnrm}"
runs="${RUNS:-5}"
image="${IMAGE:-clnrm-base:latest}"
keepalive="trap 'exit 0' TERM; while :; do sleep 3600 & wait \$!; done"

die() { echo "cleanup_vs_docker: $*" >&2; exit 1; }
[ -x "$clnrm" ] || die "$clnrm not found; build it with \`cargo build --release -p clnrm\`"
docker image inspect "$image" >/dev/null 2>&1 || die "image $image missing; run \`cargo xtask image\`"

tmp="$(mktemp -d "${TMPDIR:-/tmp}/clnrm-bench-cleanup.XXXXXX")"
cleanup() {
  docker ps -aq -f label=clnrm.bench=1 | xargs -r docker rm -f >/dev/null 2>&1 || true
  docker network ls -q -f label=clnrm.bench=1 | xargs -r docker network rm >/dev/null 2>&1 || true
  rm -rf "$tmp"
}
trap cleanup EXIT

now_ms() { date +%s%3N; }
median() { sort -n | awk '{a[NR]=$1} END {if (NR%2) print a[(NR+1)/2]; else print (a[NR/2]+a[NR/2+1])/2}'; }

# A suite with n services started at once, each running `true`. `network =
# "own"`: a one-service scenario would otherwise get no network, and the
# by-hand side removes one.
suite() {
  local n=$1 f="$tmp/cleanup$1.clnrm.toml"
  {
    echo '[meta]'; echo "name = \"cleanup$n\""
    for i in $(seq 1 "$n"); do echo "[service.s$i]"; echo "image = \"$image\""; done
    echo '[[scenario]]'; echo 'name = "c"'; echo 'network = "own"'; echo 'parallel_services = true'
    echo 'run = ['
    for i in $(seq 1 "$n"); do echo "  { service = \"s$i\", command = \"true\" },"; done
    echo ']'
  } > "$f"
  echo "$f"
}

clnrm_cleanup_ms() {
  local n=$1 f; f="$(suite "$n")"
  "$clnrm" run "$f" --report-dir "$tmp/rep" --otel-exporter none >/dev/null
  python3 -c "import json,sys; s=json.load(open(sys.argv[1]))['scenarios'][0]; assert s['success'] and not s['unexpected'], s; print(s['duration_ms'])" "$tmp/rep/cleanup$n.cleanup.json"
}

by_hand_ms() {
  local n=$1 mode=$2 net ids=() t0 t1
  net="$(docker network create --label clnrm.bench=1 "clnrm-bench-$$-$n" )"
  for i in $(seq 1 "$n"); do
    ids+=("$(docker run -d --label clnrm.bench=1 --network "$net" "$image" sh -c "$keepalive")")
  done
  t0=$(now_ms)
  if [ "$mode" = parallel ]; then
    for id in "${ids[@]}"; do docker rm -f "$id" >/dev/null & done; wait
  else
    docker rm -f "${ids[@]}" >/dev/null
  fi
  docker network rm "$net" >/dev/null
  t1=$(now_ms)
  [ -z "$(docker ps -aq -f label=clnrm.bench=1)" ] || die "by-hand removal left containers"
  echo $((t1 - t0))
}

for n in 1 5; do
  ours=(); seq_=(); par=()
  clnrm_cleanup_ms "$n" >/dev/null; by_hand_ms "$n" serial >/dev/null   # warm-up
  for r in $(seq 1 "$runs"); do
    ours+=("$(clnrm_cleanup_ms "$n")"); seq_+=("$(by_hand_ms "$n" serial)"); par+=("$(by_hand_ms "$n" parallel)")
    echo "n=$n run $r: clnrm cleanup ${ours[-1]} ms, docker rm -f (one call) ${seq_[-1]} ms, docker rm -f (parallel) ${par[-1]} ms"
  done
  mo=$(printf '%s\n' "${ours[@]}" | median); ms=$(printf '%s\n' "${seq_[@]}" | median); mp=$(printf '%s\n' "${par[@]}" | median)
  echo "n=$n median: clnrm ${mo} ms (remove + network + verification), docker CLI one call ${ms} ms, parallel ${mp} ms; ratio clnrm/CLI $(awk -v a="$mo" -v b="$ms" 'BEGIN{printf "%.2f", a/b}')x"
  echo "@bench cleanup_${n}_clnrm_ms $mo"
  echo "@bench cleanup_${n}_docker_ms $ms"
  echo "@bench cleanup_${n}_docker_parallel_ms $mp"
done
left="$(docker ps -aq -f label=clnrm | wc -l)"
[ "$left" = 0 ] || die "clnrm left $left container(s)"
