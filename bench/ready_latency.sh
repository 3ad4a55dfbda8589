#!/usr/bin/env bash
# Readiness latency: how long after a service says it is listening `clnrm.service.ready` ends.
# The service prints `listening` and then execs `nc -ll -p 8080` (the port opens a moment after
# the line); clnrm probes it with `ready = { tcp = 8080 }`. Measured from Docker's own timestamp
# of that log line (`docker logs --timestamps`, the daemon's receive time) to the end of the
# ready span (the run's epoch + end_ns, same host clock). The bound in issue 20: within 50 ms.
# The containers are kept (`[cleanup] containers = "never"`) to read their logs, then removed
# here by id; everything carries the run's labels, so `clnrm gc` finds any survivor too.
# Prints every run, the median and the max, then `@bench <key> <value>` lines for
# `cargo xtask bench`.
#
# Usage: bench/ready_latency.sh   (needs target/release/clnrm, target/plugins, clnrm-base:latest)
# Env:   CLNRM=path/to/clnrm  RUNS=5  IMAGE=clnrm-base:latest
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
clnrm="${CLNRM:-$root/target/release/clnrm}"
runs="${RUNS:-5}"
image="${IMAGE:-clnrm-base:latest}"
die() { echo "ready_latency: $*" >&2; exit 1; }
[ -x "$clnrm" ] || die "$clnrm not found; build it with \`cargo build --release -p clnrm\`"
docker image inspect "$image" >/dev/null 2>&1 || die "image $image missing; run \`cargo xtask image\`"

tmp="$(mktemp -d "${TMPDIR:-/tmp}/clnrm-bench-ready.XXXXXX")"
kept=""
cleanup() {
    if [ -n "$kept" ]; then docker rm -f $kept >/dev/null 2>&1 || true; fi
    rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
export CLNRM_PLUGIN_DIR="$root/target/plugins"
export CLNRM_CACHE_DIR="$tmp/cache"

cat >"$tmp/ready.clnrm.toml" <<EOF
[meta]
name = "bench_ready"

[cleanup]
containers = "never"
networks = "never"

[service.app]
image = "$image"
args = ["sh", "-c", "sleep 1; echo listening; exec nc -ll -p 8080 -e echo up"]
ready = { tcp = 8080 }

[[scenario]]
name = "ready"
service = "app"
run = "true"
EOF

figures=()
for i in $(seq "$runs"); do
    out="$tmp/run$i"
    "$clnrm" run "$tmp/ready.clnrm.toml" --report-dir "$out" >"$tmp/log$i" 2>&1 \
        || { cat "$tmp/log$i" >&2; die "run $i failed"; }
    id="$(python3 -c '
import json, sys
r = json.load(open(sys.argv[1]))
s = [s for s in r["spans"] if s["name"] == "clnrm.service.start"][0]
print([v for k, v in s["attrs"] if k == "container.id"][0])' "$out/bench_ready.report.json")"
    kept="$kept $id"
    docker logs --timestamps "$id" >"$tmp/dlog$i" 2>&1
    ms="$(python3 -c '
import json, sys, datetime
r = json.load(open(sys.argv[1]))
s = [s for s in r["spans"] if s["name"] == "clnrm.service.ready"][0]
end = r["epoch_unix_ns"] + s["end_ns"]
line = [l for l in open(sys.argv[2]) if l.rstrip().endswith(" listening")][0]
ts = line.split()[0]                      # 2026-12-06T19:00:00.123456789Z
whole, frac = ts.rstrip("Z").split(".")
sec = datetime.datetime.strptime(whole, "%Y-%m-%dT%H:%M:%S").replace(tzinfo=datetime.timezone.utc).timestamp()
logged = int(sec) * 10**9 + int((frac + "000000000")[:9])
print("%.1f" % ((end - logged) / 1e6))' "$out/bench_ready.report.json" "$tmp/dlog$i")"
    echo "run $i: ready span ended ${ms} ms after the service's log line"
    figures+=("$ms")
    docker rm -f "$id" >/dev/null 2>&1 || true
    kept=""
done
median="$(printf '%s\n' "${figures[@]}" | sort -n | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}')"
max="$(printf '%s\n' "${figures[@]}" | sort -n | tail -1)"
echo "median ${median} ms, max ${max} ms (bound: 50 ms)"
echo "@bench ready_after_log_ms $median"
echo "@bench ready_after_log_max_ms $max"
