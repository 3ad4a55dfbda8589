#!/usr/bin/env bash
# The kill scenario through clnrm vs by hand with the podman CLI: bench/kill_vs_engine.sh podman
# (what it measures, its usage and environment are described there).
exec "$(dirname "${BASH_SOURCE[0]}")/kill_vs_engine.sh" podman "$@"
