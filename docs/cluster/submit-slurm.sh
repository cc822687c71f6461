#!/usr/bin/env bash
# Submits the sweep array and a merge job that runs once every task has succeeded.
#
#   docs/cluster/submit-slurm.sh SHARDS CONFIG.json OUTDIR [more sweep options]
#   e.g. docs/cluster/submit-slurm.sh 16 configs/sweeps/phase-tanh.json runs
# Result: OUTDIR.jsonl, the merged records. Prints the two job ids.
# Environment: GRADFLOW (default: gradflow on PATH); GRADFLOW_SBATCH_OPTIONS, more sbatch options
# for both jobs, which override sweep.slurm's #SBATCH lines (e.g. "--cpus-per-task=2 -p short").
set -euo pipefail
shards=${1:?usage: submit-slurm.sh SHARDS CONFIG.json OUTDIR [sweep options]}
config=${2:?usage: submit-slurm.sh SHARDS CONFIG.json OUTDIR [sweep options]}
outdir=${3:?usage: submit-slurm.sh SHARDS CONFIG.json OUTDIR [sweep options]}
shift 3
here=$(cd "$(dirname "$0")" && pwd)
gradflow=${GRADFLOW:-gradflow}
# shellcheck disable=SC2086
read -r -a options <<< "${GRADFLOW_SBATCH_OPTIONS:-}"
array=$(sbatch --parsable "${options[@]}" --array="1-${shards}" "$here/sweep.slurm" "$config" "$outdir" "$@")
merge=$(sbatch --parsable "${options[@]}" --dependency="afterok:${array}" --job-name=gradflow-merge \
  --wrap "$gradflow merge $outdir/shard-*.jsonl -o $outdir.jsonl")
echo "sweep array ${array}, merge ${merge}: records will be in ${outdir}.jsonl"
