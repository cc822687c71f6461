#!/usr/bin/env bash
# Submits the sweep array and a merge job that runs once every task has succeeded.
#
#   docs/cluster/submit-slurm.sh SHARDS CONFIG.json OUTDIR [more sweep options]
#   e.g. docs/cluster/submit-slurm.sh 16 configs/sweeps/phase-tanh.json runs
# Result: OUTDIR.jsonl, the merged records. Environment: GRADFLOW (default: gradflow on PATH).
set -euo pipefail
shards=${1:?usage: submit-slurm.sh SHARDS CONFIG.json OUTDIR [sweep options]}
config=${2:?usage: submit-slurm.sh SHARDS CONFIG.json OUTDIR [sweep options]}
outdir=${3:?usage: submit-slurm.sh SHARDS CONFIG.json OUTDIR [sweep options]}
shift 3
here=$(cd "$(dirname "$0")" && pwd)
gradflow=${GRADFLOW:-gradflow}
array=$(sbatch --parsable --array="1-${shards}" "$here/sweep.slurm" "$config" "$outdir" "$@")
merge=$(sbatch --parsable --dependency="afterok:${array}" --job-name=gradflow-merge \
  --wrap "$gradflow merge $outdir/shard-*.jsonl -o $outdir.jsonl")
echo "sweep array ${array}, merge ${merge}: records will be in ${outdir}.jsonl"
