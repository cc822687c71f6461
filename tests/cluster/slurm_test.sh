#!/usr/bin/env bash
# The Slurm recipe of docs/cluster/, on a real Slurm (tests/cluster/slurm-up.sh):
#  1. submit-slurm.sh submits the sweep as a job array and the merge job that waits for it; the
#     merged records equal a single-process sweep's, byte for byte.
#  2. one array task is cancelled with scancel while it runs and then requeued; --resume finishes
#     its shard, and the merged records again equal the single-process sweep's: nothing lost,
#     nothing twice.
# Usage: slurm_test.sh BUILD_DIR SOURCE_DIR (the binary is BUILD_DIR/gradflow). Exit 0 passed, 1 failed, 77 skipped (no
# cluster: SLURM_CONF unset or sinfo does not answer), always with a message saying which.
set -euo pipefail
gradflow=$(cd "${1:?usage: slurm_test.sh BUILD_DIR SOURCE_DIR}" && pwd)/gradflow
src=$(cd "${2:?usage: slurm_test.sh BUILD_DIR SOURCE_DIR}" && pwd)

skip() { echo "SKIPPED: $*" >&2; exit 77; }
fail() { echo "FAILED: $*" >&2; exit 1; }
[ -n "${SLURM_CONF:-}" ] || skip "no Slurm cluster: SLURM_CONF is unset (as root: tests/cluster/slurm-up.sh, then export SLURM_CONF=/tmp/gradflow-slurm/slurm.conf; .ci/run does this)"
command -v sbatch >/dev/null || skip "no Slurm cluster: sbatch is missing (Debian package slurm-client)"
sinfo --noheader >/dev/null 2>&1 || skip "no Slurm cluster: sinfo gets no answer from the controller of $SLURM_CONF"

work=$(mktemp -d /tmp/gradflow-slurm-test.XXXXXX)
trap 'rm -rf "$work"' EXIT
cd "$work"
export GRADFLOW="$gradflow"
# One CPU per task, so two tasks run at once on a 2-CPU node.
export GRADFLOW_SBATCH_OPTIONS="--cpus-per-task=1 --mem-per-cpu=500M --time=10:00"

# The state of a job or array task ("COMPLETED", "RUNNING", ...); of an array, one line per task.
states() { scontrol show job "$1" -o 2>/dev/null | grep -o 'JobState=[A-Z_]*' | cut -d= -f2; }
# Waits until none of the jobs is pending or running (at most $2 seconds).
wait_done() {
  local t
  for ((t = 0; t < $2; t++)); do
    if ! states "$1" | grep -E 'PENDING|RUNNING|CONFIGURING|COMPLETING|REQUEUED|RESIZING|SUSPENDED' >/dev/null; then return 0; fi
    sleep 1
  done
  fail "job $1 still not done after $2 s: $(states "$1" | tr '\n' ' ')"
}
all_completed() { ! states "$1" | grep -v COMPLETED >/dev/null; }
same_records() {  # FILE_A FILE_B: the same records, each byte-identical (order aside)
  cmp -s <(LC_ALL=C sort "$1") <(LC_ALL=C sort "$2")
}

echo "== 1. submit-slurm.sh: a job array of 3 shards and a dependent merge job"
cat > sweep.json <<'JSON'
{"activation": ["sigmoid", "tanh", "relu"], "depth": "2:5", "width": 16, "batch": 8, "seed": "0:2"}
JSON
"$gradflow" sweep --config sweep.json -q > single.jsonl
[ "$(wc -l < single.jsonl)" -eq 36 ] || fail "the single-process sweep wrote $(wc -l < single.jsonl) records, not 36"
out=$("$src/docs/cluster/submit-slurm.sh" 3 sweep.json runs)
echo "$out"
array=$(echo "$out" | sed -n 's/^sweep array \([0-9]*\), merge \([0-9]*\):.*/\1/p')
merge=$(echo "$out" | sed -n 's/^sweep array \([0-9]*\), merge \([0-9]*\):.*/\2/p')
[ -n "$array" ] && [ -n "$merge" ] || fail "submit-slurm.sh printed no job ids: $out"
wait_done "$array" 120
wait_done "$merge" 60
all_completed "$array" || fail "array $array: tasks $(states "$array" | tr '\n' ' ') (logs: $(cat gradflow-sweep-*.log))"
all_completed "$merge" || fail "merge job $merge: $(states "$merge")"
for k in 1 2 3; do
  [ "$(wc -l < "runs/shard-$k.jsonl")" -eq 12 ] || fail "shard $k holds $(wc -l < "runs/shard-$k.jsonl") records, not 12"
done
same_records runs.jsonl single.jsonl || fail "the merged records differ from the single-process sweep's: $(diff <(sort runs.jsonl) <(sort single.jsonl) | head -5)"
echo "merged $(wc -l < runs.jsonl) records, equal to the single-process sweep's"

echo "== 2. scancel of a running task, requeue, --resume ($SECONDS s in)"
# Runs of about 0.15 s each on a quiet machine, 24 per shard: the task is cancelled between
# records, seconds before it would end.
cat > slow.json <<'JSON'
{"activation": ["tanh", "relu"], "depth": 40, "width": 512, "batch": 256, "seed": "0:23"}
JSON
"$gradflow" sweep --config slow.json -q > slow-single.jsonl
out=$("$src/docs/cluster/submit-slurm.sh" 2 slow.json slow)
echo "$out"
array=$(echo "$out" | sed -n 's/^sweep array \([0-9]*\), merge \([0-9]*\):.*/\1/p')
merge=$(echo "$out" | sed -n 's/^sweep array \([0-9]*\), merge \([0-9]*\):.*/\2/p')
# Cancel task 1 once it has written its first record, while it still runs.
task="${array}_1"
# While the array is pending as a whole, `scontrol show job` of one task may list every task (one
# state a line), so only an ended state stops the wait early.
for ((t = 0; t < 600; t++)); do
  [ -s slow/shard-1.jsonl ] && break
  case "$(states "$task" | tr '\n' ' ')" in *COMPLETED* | *FAILED* | *CANCELLED* | *TIMEOUT*) break ;; esac
  sleep 0.1
done
[ -s slow/shard-1.jsonl ] || fail "task $task wrote no record within 60 s: $(states "$task" | tr '\n' ' ')"
[ "$(states "$task")" = RUNNING ] || fail "task $task was not running when it should be cancelled: $(states "$task")"
scancel "$task"
wait_done "$task" 60
[ "$(states "$task")" = CANCELLED ] || fail "task $task: $(states "$task") after scancel, not CANCELLED"
before=$(wc -l < slow/shard-1.jsonl)
[ "$before" -ge 1 ] && [ "$before" -lt 24 ] || fail "the cancelled shard holds $before of 24 records: not cancelled mid-run"
cp slow/shard-1.jsonl cancelled.jsonl
echo "($SECONDS s) task $task cancelled with $before of 24 records written; requeueing it"
scontrol requeue "$task"
# A requeued job may start only 2 minutes later (Slurm sets its begin time); start it now.
scontrol update jobid="$task" starttime=now
wait_done "$array" 300
all_completed "$array" || fail "array $array after the requeue: $(states "$array" | tr '\n' ' ') (logs: $(tail -n 5 gradflow-sweep-*.log))"
[ "$(wc -l < slow/shard-1.jsonl)" -eq 24 ] || fail "shard 1 holds $(wc -l < slow/shard-1.jsonl) records after the requeue, not 24"
[ "$(sort -u slow/shard-1.jsonl | wc -l)" -eq 24 ] || fail "shard 1 holds a record twice after the requeue"
cmp -s cancelled.jsonl <(head -n "$before" slow/shard-1.jsonl) ||
  fail "the requeued task rewrote the $before records it had written instead of resuming after them"
# The merge job waited with afterok on an array one of whose tasks was cancelled: Slurm never
# starts it. The documented remedy is to submit the same command again: every task resumes with
# nothing left to run, and the new merge job runs.
case "$(states "$merge")" in
  PENDING | CANCELLED) ;;
  *) fail "merge job $merge is $(states "$merge") although task $task had been cancelled" ;;
esac
scancel "$merge" 2>/dev/null || true
out=$("$src/docs/cluster/submit-slurm.sh" 2 slow.json slow)
echo "submitted again: $out"
array=$(echo "$out" | sed -n 's/^sweep array \([0-9]*\), merge \([0-9]*\):.*/\1/p')
merge=$(echo "$out" | sed -n 's/^sweep array \([0-9]*\), merge \([0-9]*\):.*/\2/p')
wait_done "$array" 120
wait_done "$merge" 60
all_completed "$array" && all_completed "$merge" || fail "resubmission: array $(states "$array" | tr '\n' ' '), merge $(states "$merge")"
same_records slow.jsonl slow-single.jsonl || fail "after cancel + requeue the merged records differ from the single-process sweep's"
echo "after cancel + requeue + resubmission: $(wc -l < slow.jsonl) records, equal to the single-process sweep's"
echo "PASSED in $SECONDS s: real Slurm job array, dependent merge, cancel + requeue + --resume"
