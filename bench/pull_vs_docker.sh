#!/usr/bin/env bash
# A pull of an image already present: `clnrm pull` on a suite whose service says
# `pull = "always"` vs `docker pull` of the same reference. Both ask the registry for the
# manifest and download nothing. The registry is Debian's `docker-registry`, started here
# on 127.0.0.1:<free port> and stopped on exit; the image is clnrm-base:latest pushed to it.
# Also: `pull = "missing"` (the default), where clnrm only inspects the local image.
# Runs alternate, one untimed warm-up of each first; prints every run, the medians and the
# ratio clnrm/docker, then `@bench <key> <value>` lines for `cargo xtask bench`.
#
# Usage: bench/pull_vs_docker.sh   (needs target/release/clnrm, clnrm-base:latest,
#                                   docker-registry: apt-get install docker-registry)
# Env:   CLNRM=path/to/clnrm  RUNS=9
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
clnrm="${CLNRM:-$root/target/release/clnrm}"
runs="${RUNS:-9}"

die() { echo "pull_vs_docker: $*" >&2; exit 1; }
[ -x "$clnrm" ] || die "$clnrm not found; build it with \`cargo build --release -p clnrm\`"
command -v docker-registry >/dev/null || die "docker-registry missing: apt-get install -y docker-registry"
docker image inspect clnrm-base:latest >/dev/null 2>&1 || die "clnrm-base:latest missing; run \`cargo xtask image\`"

tmp="$(mktemp -d "${TMPDIR:-/tmp}/clnrm-bench-pull.XXXXXX")"
reg_pid=""
image=""
cleanup() {
    if [ -n "$reg_pid" ]; then kill "$reg_pid" 2>/dev/null || true; wait "$reg_pid" 2>/dev/null || true; fi
    if [ -n "$image" ]; then docker rmi "$image" >/dev/null 2>&1 || true; fi
    rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')"
printf 'version: 0.1\nlog:\n  level: error\nstorage:\n  filesystem:\n    rootdirectory: %s\nhttp:\n  addr: 127.0.0.1:%s\n' \
    "$tmp/registry" "$port" >"$tmp/registry.yml"
docker-registry serve "$tmp/registry.yml" >"$tmp/registry.log" 2>&1 &
reg_pid=$!
for _ in $(seq 100); do
    (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break
    sleep 0.05
done
image="127.0.0.1:$port/clnrm-bench/base:latest"
docker tag clnrm-base:latest "$image"
docker push "$image" >/dev/null || die "push to the registry failed"

for policy in always missing; do
    printf '[service.app]\nimage = "%s"\npull = "%s"\n[[scenario]]\nname = "never_run"\nservice = "app"\nrun = "true"\n' \
        "$image" "$policy" >"$tmp/$policy.clnrm.toml"
done

now_ms() { echo $(( $(date +%s%N) / 1000000 )); }
time_clnrm() {
    local t0; t0=$(now_ms)
    "$clnrm" pull "$tmp/$1.clnrm.toml" >"$tmp/clnrm.log" 2>&1 || { cat "$tmp/clnrm.log" >&2; die "clnrm pull failed"; }
    took=$(( $(now_ms) - t0 ))
}
time_docker() {
    local t0; t0=$(now_ms)
    docker pull "$image" >"$tmp/docker.log" 2>&1 || { cat "$tmp/docker.log" >&2; die "docker pull failed"; }
    took=$(( $(now_ms) - t0 ))
}
median() { sort -n | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }

time_clnrm always; time_docker; time_clnrm missing   # warm-up
grep -q "present, nothing pulled" "$tmp/clnrm.log" || { cat "$tmp/clnrm.log" >&2; die "clnrm did not find the image present"; }
c=(); d=(); m=()
for i in $(seq "$runs"); do
    if [ $((i % 2)) -eq 0 ]; then
        time_docker; d+=("$took"); time_clnrm always; c+=("$took")
    else
        time_clnrm always; c+=("$took"); time_docker; d+=("$took")
    fi
    time_clnrm missing; m+=("$took")
    echo "run $i: clnrm pull (always) ${c[-1]} ms, docker pull ${d[-1]} ms, clnrm pull (missing) ${m[-1]} ms"
done
cm="$(printf '%s\n' "${c[@]}" | median)"
dm="$(printf '%s\n' "${d[@]}" | median)"
mm="$(printf '%s\n' "${m[@]}" | median)"
ratio="$(awk -v a="$cm" -v b="$dm" 'BEGIN {printf "%.3f", a/b}')"
echo "median: clnrm pull (always) ${cm} ms, docker pull ${dm} ms, ratio ${ratio}x; clnrm pull (missing) ${mm} ms"
echo "@bench pull_clnrm_ms $cm"
echo "@bench pull_docker_ms $dm"
echo "@bench pull_missing_clnrm_ms $mm"
