#!/usr/bin/env bash
# Brings up a one-node Slurm cluster on this machine, for tests/cluster/slurm_test.sh: munged,
# slurmctld and slurmd (Debian's munge and slurm-wlm packages), configured with this machine's
# CPUs and memory, listening on loopback only, with all their state in one folder. Waits until
# `sinfo` shows the node idle. Needs root (slurmd starts jobs as their user).
#
#   tests/cluster/slurm-up.sh        # then: export SLURM_CONF=$GRADFLOW_SLURM_DIR/slurm.conf
#   tests/cluster/slurm-down.sh      # stops them again
#
# ctest does this itself around slurm_test (a fixture, see CMakeLists.txt).
# Environment: GRADFLOW_SLURM_DIR (default /tmp/gradflow-slurm), GRADFLOW_SLURM_PORT (slurmctld's
# port, default 16817; slurmd uses the next one). Exit 0 when the node is idle; 77 when it cannot
# be tried (not root, a package missing); 1 when it failed, with the reason and the daemons' logs
# on stderr.
set -euo pipefail
dir=${GRADFLOW_SLURM_DIR:-/tmp/gradflow-slurm}
port=${GRADFLOW_SLURM_PORT:-16817}
fail() { echo "slurm-up: $*" >&2; exit 1; }
skip() { echo "SKIPPED: slurm-up: $*" >&2; exit 77; }

[ "$(id -u)" -eq 0 ] || skip "cannot start Slurm without root (slurmd starts each job as its user); running as $(id -un)"
for cmd in munged mungekey slurmctld slurmd sinfo sbatch; do
  command -v "$cmd" >/dev/null || skip "$cmd is missing: .ci/setup --tests installs Debian's munge, slurmctld, slurmd and slurm-client"
done
# What an earlier run left running in this folder goes first.
GRADFLOW_SLURM_DIR=$dir "$(dirname "$0")/slurm-down.sh"

rm -rf "$dir"
mkdir -p -m 0700 "$dir" "$dir/munge" "$dir/state" "$dir/spool"
# munged checks that its key, socket folder and log are private.
mungekey --create --keyfile="$dir/munge/munge.key" 2>/dev/null ||
  dd if=/dev/urandom of="$dir/munge/munge.key" bs=1024 count=1 status=none
chmod 0400 "$dir/munge/munge.key"
munged --force --key-file="$dir/munge/munge.key" --socket="$dir/munge/munge.socket" \
  --pid-file="$dir/munge/munged.pid" --log-file="$dir/munge/munged.log" \
  --seed-file="$dir/munge/munged.seed" || fail "munged did not start: $(tail -3 "$dir/munge/munged.log" 2>/dev/null)"

host=$(hostname -s)
cpus=$(nproc)
# slurmd refuses a node that claims more memory than it has; leave some for the system.
mem_mb=$(awk '/MemTotal/ {print int($2 / 1024 * 0.9)}' /proc/meminfo)
cat > "$dir/slurm.conf" <<CONF
# Written by tests/cluster/slurm-up.sh: a one-node cluster on loopback for gradflow's tests.
ClusterName=gradflow-test
SlurmctldHost=${host}(127.0.0.1)
SlurmctldPort=${port}
SlurmdPort=$((port + 1))
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
AuthInfo=socket=${dir}/munge/munge.socket
CredType=cred/munge
StateSaveLocation=${dir}/state
SlurmdSpoolDir=${dir}/spool
SlurmctldPidFile=${dir}/slurmctld.pid
SlurmdPidFile=${dir}/slurmd.pid
SlurmctldLogFile=${dir}/slurmctld.log
SlurmdLogFile=${dir}/slurmd.log
# No cgroups or accounting daemon needed: processes are tracked through /proc.
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
MpiDefault=none
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
ReturnToService=2
# Scheduling passes every second, so a short test does not wait for Slurm's defaults.
SchedulerParameters=sched_interval=1,bf_interval=1
MinJobAge=300
NodeName=${host} NodeAddr=127.0.0.1 CPUs=${cpus} RealMemory=${mem_mb} State=UNKNOWN
PartitionName=test Nodes=${host} Default=YES MaxTime=INFINITE State=UP
CONF
export SLURM_CONF="$dir/slurm.conf"

slurmctld -i || fail "slurmctld did not start: $(tail -5 "$dir/slurmctld.log" 2>/dev/null)"
slurmd || fail "slurmd did not start: $(tail -5 "$dir/slurmd.log" 2>/dev/null)"

for _ in $(seq 60); do
  state=$(sinfo --noheader --format=%t 2>/dev/null | head -1 || true)
  if [ "$state" = idle ]; then
    echo "slurm-up: node ${host} idle (${cpus} CPUs, ${mem_mb} MB); export SLURM_CONF=$SLURM_CONF" >&2
    exit 0
  fi
  sleep 1
done
echo "slurm-up: the node did not become idle within 60 s (state: '${state:-none}')" >&2
tail -5 "$dir/slurmctld.log" "$dir/slurmd.log" >&2 || true
exit 1
