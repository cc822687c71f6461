#!/usr/bin/env bash
# Stops the one-node cluster of tests/cluster/slurm-up.sh (slurmd, slurmctld, munged) and removes
# its folder. Safe to run when nothing is up.
set -uo pipefail
dir=${GRADFLOW_SLURM_DIR:-/tmp/gradflow-slurm}
[ -d "$dir" ] || exit 0

stop() {  # pid file, name
  [ -f "$1" ] || return 0
  local pid
  pid=$(cat "$1")
  kill "$pid" 2>/dev/null || return 0
  for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || return 0; sleep 0.1; done
  echo "slurm-down: $2 ($pid) did not stop on SIGTERM; killing it" >&2
  kill -9 "$pid" 2>/dev/null || true
}
stop "$dir/slurmd.pid" slurmd
stop "$dir/slurmctld.pid" slurmctld
stop "$dir/munge/munged.pid" munged
rm -rf "$dir"
