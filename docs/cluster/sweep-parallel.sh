#!/usr/bin/env bash
# A gradflow sweep in shards run by GNU parallel, on this machine or across hosts, then merged.
#
#   docs/cluster/sweep-parallel.sh SHARDS OUTPUT.jsonl [gradflow sweep options...]
#
# Example (8 shards on the local cores):
#   docs/cluster/sweep-parallel.sh 8 runs.jsonl --config configs/sweeps/phase-tanh.json
# Across hosts over ssh (gradflow on each host's PATH; OUTPUT without a directory part; the
# config copied to each host once by --basefile; each shard file copied back by --return):
#   PARALLEL_OPTS="--sshlogin 4/alice@node1,4/alice@node2 --workdir . --basefile phase-tanh.json --return {shardfile} --cleanup" \
#     docs/cluster/sweep-parallel.sh 16 runs.jsonl --config phase-tanh.json
#
# Shard K writes OUTPUT-without-.jsonl.shard-K.jsonl (runs.shard-3.jsonl) with --resume, so
# rerunning this script after a crash or a kill finishes only what is missing. The shards are
# then merged into OUTPUT (each run once; the same run with different results is an error).
#
# Environment:
#   GRADFLOW        the gradflow binary (default: gradflow on PATH)
#   PARALLEL_OPTS   extra GNU parallel options (--sshlogin, --jobs, ...); {shardfile} is replaced
#                   by the shard's file name, relative to the current directory
#   SHARD_JOBS      gradflow -j inside each shard (default 1: GNU parallel runs one shard per core)
set -euo pipefail

if [ $# -lt 2 ]; then
  sed -n '2,23p' "$0" >&2
  exit 2
fi
shards=$1
output=$2
shift 2
gradflow=${GRADFLOW:-gradflow}
stem="${output%.jsonl}"
shardfile="$stem.shard-{}.jsonl"
opts=${PARALLEL_OPTS:-}
opts=${opts//\{shardfile\}/$shardfile}

# -q: quote every argument, so options with spaces survive the shell (and ssh).
# --halt now,fail=1: one failed shard stops the others (rerun this script to resume).
# shellcheck disable=SC2086
parallel --will-cite -q --halt now,fail=1 $opts \
  "$gradflow" sweep "$@" --shard "{}/$shards" -j "${SHARD_JOBS:-1}" --quiet --resume -o "$shardfile" \
  ::: $(seq 1 "$shards")

shard_files=()
for k in $(seq 1 "$shards"); do shard_files+=("$stem.shard-$k.jsonl"); done
"$gradflow" merge "${shard_files[@]}" -o "$output"
