#!/usr/bin/env bash
# `lathe run --executor slurm` against the one-node Slurm cluster of
# tests/slurm/slurm-cluster.sh (issue 15): the IDEKO example's four families
# as four Slurm jobs (the same metrics as under threads), a tuner study with 2
# parallel trials as jobs, a job scancelled from outside and retried,
# slurmctld away for 20 s mid-run, a node over its time limit, and no job
# left queued when the run ends (nor after Ctrl-C, nor after lathe was killed:
# the next run cancels its orphans). Skipped (77) while
# `lathe run` has no --executor (the engine side of issue 15), and where the
# cluster cannot start (not root, slurm-wlm missing); the IDEKO part is left
# out without the recordings.
source "$(dirname "$0")/lib.sh"

if ! "$LATHE_BIN" run --help 2>&1 | grep -q -- '--executor'; then
  echo "skip - lathe run has no --executor yet (the engine side of issue 15)"
  exit 77
fi
CLUSTER="$LATHE_SOURCE_DIR/tests/slurm/slurm-cluster.sh"
"$CLUSTER" start
rc=$?
if [ $rc -eq 77 ]; then
  echo "skip - the one-node Slurm cluster cannot start here (see above)"
  exit 77
fi
[ $rc -eq 0 ] || { echo "FAIL - slurm-cluster.sh start: exit $rc"; exit 1; }
eval "$("$CLUSTER" env)"
# The testkit's components and executor/slurm (sbatch passes the environment
# on, so the task's `lathe exec-task` finds them too).
export LATHE_PLUGIN_PATH="$LATHE_TESTKIT_DIR:$LATHE_BUILD_DIR/plugins/executor-slurm"

# Jobs of ours still queued or running (the run must leave none).
our_jobs() { squeue -h -o '%j %T' 2>/dev/null | grep -c '^lathe-' || true; }
# Every job of ours Slurm still remembers (finished ones for MinJobAge, 120 s).
seen_jobs() { squeue -h -t all -o '%j %T' 2>/dev/null | grep '^lathe-' || true; }

# --- a tuner study, 2 trials at a time, each trial's nodes as jobs ---------
cat >"$TMP/study.json" <<'JSON'
{"name": "quad", "seed": 3, "nodes": [
  {"id": "tune", "use": "tuner/grid",
   "with": {"objective": "f.value", "direction": "minimize", "max_trials": 4, "parallel_trials": 2,
            "space": {"f.x": [0.0, 0.1, 0.2, 0.3]}},
   "trial": {"nodes": [
     {"id": "wait", "use": "transform/sleep", "with": {"seconds": 4}},
     {"id": "f", "use": "transform/objective", "in": {"data": "wait"}}]}}]}
JSON
# Sample squeue while the study runs: two trials' jobs must run at once.
"$LATHE_BIN" run --json --executor slurm --jobs 2 --store "$TMP/s" "$TMP/study.json" \
  >"$TMP/st.out" 2>"$TMP/st.err" &
pid=$!
max_running=0
while kill -0 $pid 2>/dev/null; do
  n=$(squeue -h -t RUNNING -o '%j' 2>/dev/null | grep -c '^lathe-.*tune' || true)
  [ "$n" -gt "$max_running" ] && max_running=$n
  sleep 0.5
done
wait $pid
code=$?
[ $code = 0 ] && pass "study under slurm: exit 0" || fail "study under slurm: exit $code; $(head -c 600 "$TMP/st.err")"
expect_py "$TMP/st.out" "d['status'] == 'succeeded' and d['metrics']['tune.n_trials'] == 4" "4 trials ran"
expect_py "$TMP/st.out" "abs(d['metrics']['tune.best_value'] - 0.04) < 1e-9" "the best trial is the same as under threads"
[ "$max_running" -ge 2 ] && pass "2 trials ran as Slurm jobs at once ($max_running)" ||
  fail "at most $max_running trial job(s) running at once"
n=$(seen_jobs | grep -c 'tune' || true)
[ "$n" -ge 8 ] && pass "every trial node was a Slurm job ($n)" || fail "only $n trial jobs in squeue: $(seen_jobs | tr '\n' ';')"
[ "$(our_jobs)" = 0 ] && pass "no job left queued after the study" || fail "jobs left: $(squeue -h -o '%j %T')"

# --- scancel from outside: the node is retried, and the run succeeds -------
cat >"$TMP/retry.json" <<'JSON'
{"name": "retry", "nodes": [
  {"id": "slow", "use": "transform/sleep", "with": {"seconds": 20},
   "retry": {"max": 2, "delay": "1s", "on": ["lost", "crash", "error", "timeout"]}}]}
JSON
"$LATHE_BIN" run --json --executor slurm --store "$TMP/r" "$TMP/retry.json" >"$TMP/rt.out" 2>"$TMP/rt.err" &
pid=$!
id=""
for _ in $(seq 1 120); do
  id=$(squeue -h -t RUNNING -o '%i %j' 2>/dev/null | awk '$2 ~ /^lathe-.*slow/ {print $1; exit}')
  [ -n "$id" ] && break
  sleep 0.5
done
[ -n "$id" ] && pass "the node runs as Slurm job $id" || fail "no running job for node slow"
[ -n "$id" ] && scancel "$id"
wait $pid
code=$?
[ $code = 0 ] && pass "scancelled job retried: exit 0" || fail "after scancel: exit $code; $(head -c 600 "$TMP/rt.err")"
expect_py "$TMP/rt.out" "d['status'] == 'succeeded'" "the run succeeds on the retry"
run_lathe "$TMP/show" runs show --json --store "$TMP/r" "$(json_get "$TMP/rt.out" "d['run_id']")"
grep -q "CANCELLED by an outside scancel" "$TMP/show.out" && pass "the first attempt says CANCELLED by an outside scancel" ||
  fail "runs show lacks the outside scancel: $(head -c 800 "$TMP/show.out")"

# --- Ctrl-C: lathe scancels its jobs ---------------------------------------
cat >"$TMP/int.json" <<'JSON'
{"name": "int", "nodes": [
  {"id": "a", "use": "transform/sleep", "with": {"seconds": 120}},
  {"id": "b", "use": "transform/sleep", "with": {"seconds": 120}}]}
JSON
"$LATHE_BIN" run --json --executor slurm --jobs 2 --store "$TMP/i" "$TMP/int.json" >"$TMP/int.out" 2>&1 &
pid=$!
for _ in $(seq 1 120); do
  [ "$(our_jobs)" -ge 2 ] && break
  sleep 0.5
done
kill -INT $pid
wait $pid
for _ in $(seq 1 20); do
  [ "$(our_jobs)" = 0 ] && break
  sleep 0.5
done
[ "$(our_jobs)" = 0 ] && pass "Ctrl-C: no job left queued" || fail "Ctrl-C left: $(squeue -h -o '%j %T')"

# --- lathe killed while its jobs run: the next run cancels them ------------
"$LATHE_BIN" run --json --executor slurm --jobs 2 --store "$TMP/k" "$TMP/int.json" >"$TMP/k.out" 2>&1 &
pid=$!
for _ in $(seq 1 120); do
  [ "$(our_jobs)" -ge 2 ] && break
  sleep 0.5
done
kill -9 $pid
wait $pid 2>/dev/null
[ "$(our_jobs)" -ge 2 ] && pass "SIGKILL: the jobs outlive lathe" || fail "SIGKILL: $(our_jobs) job(s) left running"
echo '{"name": "next", "nodes": [{"id": "q", "use": "transform/noop"}]}' >"$TMP/next.json"
run_lathe "$TMP/nx" run --json --executor slurm --store "$TMP/k" "$TMP/next.json"
expect_code "$TMP/nx" 0 "the next run in that store"
for _ in $(seq 1 20); do
  [ "$(our_jobs)" = 0 ] && break
  sleep 0.5
done
[ "$(our_jobs)" = 0 ] && pass "the next run cancelled the orphaned jobs" ||
  fail "orphans left: $(squeue -h -o '%j %T')"

# --- slurmctld away for 20 s mid-run: waited for, then continued ------------
cat >"$TMP/away.json" <<'JSON'
{"name": "away", "nodes": [
  {"id": "long", "use": "transform/sleep", "with": {"seconds": 40}},
  {"id": "after", "use": "transform/noop", "in": {"data": "long"}}]}
JSON
"$LATHE_BIN" run --json --executor slurm --store "$TMP/a" "$TMP/away.json" >"$TMP/aw.out" 2>"$TMP/aw.err" &
pid=$!
for _ in $(seq 1 120); do
  squeue -h -t RUNNING -o '%j' 2>/dev/null | grep -q '^lathe-.*-long' && break
  sleep 0.5
done
"$CLUSTER" stop-controller
sleep 20
"$CLUSTER" start
wait $pid
code=$?
[ $code = 0 ] && pass "controller away 20 s: the run waits, then succeeds" ||
  fail "controller away: exit $code; $(head -c 600 "$TMP/aw.err")"
expect_py "$TMP/aw.out" "{n['id']: n['status'] for n in d['nodes']} == {'long': 'succeeded', 'after': 'succeeded'}" \
  "controller away: both nodes succeeded"
grep -q "the Slurm controller does not answer" "$TMP/aw.err" && pass "controller away: the wait was said" ||
  fail "controller away: stderr does not say the controller was away"

# --- a node over its time limit: TIMEOUT from Slurm -------------------------
cat >"$TMP/time.json" <<'JSON'
{"name": "time", "nodes": [
  {"id": "hang", "use": "transform/sleep", "with": {"seconds": 600}, "resources": {"time": "30s"}}]}
JSON
run_lathe "$TMP/tm" run --json --executor slurm --store "$TMP/t" "$TMP/time.json"
expect_code "$TMP/tm" 1 "a node over its time limit fails the run"
expect_py "$TMP/tm.out" "'TIMEOUT: timed out after 30 s' in [n for n in d['nodes'] if n['id'] == 'hang'][0].get('error', '')" \
  "its error says TIMEOUT"
[ "$(our_jobs)" = 0 ] && pass "no job left queued after the timeout" || fail "jobs left: $(squeue -h -o '%j %T')"

# --- IDEKO: the four families as four jobs ---------------------------------
IDEKO="${LATHE_SHARED_DATA:-}/ideko"
if [ -n "${LATHE_SHARED_DATA:-}" ] && [ -d "$IDEKO" ]; then
  mkdir -p "$TMP/p"
  ideko_reduced "$TMP/p/pipeline.json"
  # The built plugins as the host finds them by default (the models).
  unset LATHE_PLUGIN_PATH
  (cd "$TMP/p" && run_lathe "$TMP/ik" run --json --executor slurm -j 4 pipeline.json)
  expect_code "$TMP/ik" 0 "IDEKO under slurm"
  for f in mlp cnn rnn lstm; do
    expect_py "$TMP/ik.out" "'eval_$f.accuracy' in d['metrics']" "$f trained and evaluated"
    seen_jobs | grep -qE "^lathe-[^ ]*-$f COMPLETED" && pass "$f ran as a Slurm job" ||
      fail "no completed job for $f: $(seen_jobs | tr '\n' ';')"
  done
  # The same digests as under the host's threads.
  (cd "$TMP/p" && run_lathe "$TMP/it" run --json --no-cache -j 4 pipeline.json)
  expect_code "$TMP/it" 0 "IDEKO under threads"
  $PY - "$TMP/ik.out" "$TMP/it.out" <<'PYEOF' && pass "identical metrics under slurm and threads" || fail "metrics differ"
import json, sys
# register.version counts registrations in the shared store: 1, then 2.
a, b = ({k: v for k, v in json.load(open(f))['metrics'].items() if k != 'register.version'}
        for f in sys.argv[1:3])
sys.exit(0 if a == b else 1)
PYEOF
  [ "$(our_jobs)" = 0 ] && pass "no job left queued after IDEKO" || fail "jobs left: $(squeue -h -o '%j %T')"
else
  echo "skip - IDEKO recordings not found at '$IDEKO': the four-families part is left out"
fi
finish
