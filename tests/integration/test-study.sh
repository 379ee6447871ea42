#!/usr/bin/env bash
# Studies: a tuner node's trials persist across runs. A raised max_trials
# resumes the study (completed trials kept, not rerun); a killed run's running
# trial is interrupted, not failed, and runs again; failed and NaN trials count toward
# max_failed_trials and never become the best; constraints, goal and the
# objective-metric check; `lathe study list|show`.
source "$(dirname "$0")/lib.sh"
export LATHE_PLUGIN_PATH="$LATHE_TESTKIT_DIR"

# pipeline FILE SPACE [EXTRA_WITH] [TRIAL_WITH]
pipeline() {
  cat >"$1" <<JSON
{"name": "quad", "seed": 3, "nodes": [
  {"id": "tune", "use": "tuner/grid",
   "with": {"objective": "f.value", "direction": "minimize", "space": $2, "parallel_trials": 1 ${3:-}},
   "trial": {"nodes": [{"id": "f", "use": "transform/objective", "with": {${4:-}}}]}}]}
JSON
}
xs='{"f.x": [0.0, 0.1, 0.2, 0.3, 0.4, 0.5]}'
pipeline "$TMP/p.json" "$xs"
run_lathe "$TMP/r1" run --json --store "$TMP/s" --set tune.max_trials=2 "$TMP/p.json"
expect_code "$TMP/r1" 0 "first run, 2 trials"
expect_py "$TMP/r1.out" "d['metrics']['tune.n_trials'] == 2 and d['metrics']['tune.n_resumed'] == 0" "2 trials, none resumed"
run1=$(json_get "$TMP/r1.out" "d['run_id']")
kids=$(sqlite3 "$TMP/s/tracking.db" "SELECT r.run_uuid || ':' || r.name || ':' || t.value || ':' || r.status FROM runs r JOIN tags t ON t.run_uuid = r.run_uuid AND t.key = 'mlflow.parentRunId' ORDER BY r.run_uuid" | tr '\n' ' ')
[ "$kids" = "$run1-tune-0:tune/0:$run1:FINISHED $run1-tune-1:tune/1:$run1:FINISHED " ] && pass "each trial is a child run in the tracker" || fail "tracker child runs: $kids"
p0=$(sqlite3 "$TMP/s/tracking.db" "SELECT value FROM params WHERE run_uuid = '$run1-tune-0' AND key = 'f.x'")
m0=$(sqlite3 "$TMP/s/tracking.db" "SELECT value FROM latest_metrics WHERE run_uuid = '$run1-tune-0' AND key = 'objective'")
[ "$p0" = "0" ] && [ "$m0" = "0.13" ] && pass "the child run has the trial's params and objective" || fail "child run: f.x=$p0 objective=$m0"
run_lathe "$TMP/r2" run --json --store "$TMP/s" --set tune.max_trials=4 "$TMP/p.json"
expect_code "$TMP/r2" 0 "second run, budget 4"
expect_py "$TMP/r2.out" "d['metrics']['tune.n_trials'] == 4 and d['metrics']['tune.n_resumed'] == 2" "resumes with the 2 completed trials and adds 2"
expect_py "$TMP/r2.out" "sorted(n['id'] for n in d['nodes'] if n['id'].startswith('tune/')) == ['tune/2/f', 'tune/3/f']" \
  "only the new trials ran"
expect_py "$TMP/r2.out" "abs(d['metrics']['tune.best_value'] - 0.04) < 1e-12 and d['metrics']['tune.best_trial'] == 3" "best is x = 0.3 (trial 3)"
run2=$(json_get "$TMP/r2.out" "d['run_id']")
run_lathe "$TMP/show" study show --json --store "$TMP/s" "$run2/tune"
expect_code "$TMP/show" 0 "study show RUN/NODE"
expect_py "$TMP/show.out" "[t['number'] for t in d['trials']] == [0, 1, 2, 3] and [t['state'] for t in d['trials']] == ['complete'] * 4" "four complete trials"
expect_py "$TMP/show.out" "d['best']['number'] == 3 and d['best']['params'] == {'f.x': 0.3}" "best trial and params"
expect_py "$TMP/show.out" "[round(v, 6) for v in d['best_so_far']] == [0.13, 0.08, 0.05, 0.04]" "convergence: best so far per trial"
expect_py "$TMP/show.out" "len({t['run_id'] for t in d['trials']}) == 2" "trials remember their run"
run_lathe "$TMP/show-t" study show --store "$TMP/s" "$run2/tune"
grep -q "^best: trial 3, f.value = 0" "$TMP/show-t.out" && pass "text show names the best trial" || fail "text show: $(cat "$TMP/show-t.out")"
run_lathe "$TMP/list" study list --json --store "$TMP/s"
expect_py "$TMP/list.out" "len(d) == 1 and d[0]['trials'] == 4 and d[0]['states'] == {'complete': 4} and d[0]['tuner'] == 'tuner/grid'" "study list"
run_lathe "$TMP/bad" study show --store "$TMP/s" "$run2/nosuch"
expect_code "$TMP/bad" 2 "an unknown study"
expect_err "$TMP/bad" "no study of a tuner node 'nosuch'" "names the node"
# Another seed is another study.
run_lathe "$TMP/r3" run --json --store "$TMP/s" --set tune.max_trials=5 --set tune.timeout=600 "$TMP/p.json"
expect_py "$TMP/r3.out" "d['metrics']['tune.n_resumed'] == 4 and d['metrics']['tune.n_trials'] == 5" "changed budgets keep the study"
sed 's/"seed": 3/"seed": 4/' "$TMP/p.json" >"$TMP/p4.json"
run_lathe "$TMP/r4" run --json --store "$TMP/s" --set tune.max_trials=1 "$TMP/p4.json"
expect_py "$TMP/r4.out" "d['metrics']['tune.n_resumed'] == 0" "another seed starts another study"

# A killed run: its running trial is interrupted when the study is next
# opened, and runs again, same number and point (it used to stay failed).
pipeline "$TMP/k.json" "$xs" "" '"steps": 20, "step_seconds": 0.05'
"$LATHE_BIN" run --jobs 1 --store "$TMP/k" "$TMP/k.json" >/dev/null 2>&1 &
pid=$!
for _ in $(seq 1 200); do
  n=$([ -s "$TMP/k/lathe.db" ] && sqlite3 "$TMP/k/lathe.db" "SELECT count(*) FROM trial_events WHERE number = 1 AND state = 'running'" 2>/dev/null || echo 0)
  [ "$n" = "1" ] && break
  sleep 0.1
done
[ "$n" = "1" ] && pass "trial 1 started" || fail "trial 1 never started"
kill -9 $pid; wait $pid 2>/dev/null
run_lathe "$TMP/k2" run --json --store "$TMP/k" --set tune.max_trials=3 "$TMP/k.json"
expect_code "$TMP/k2" 0 "rerun after the kill"
expect_py "$TMP/k2.out" "d['metrics']['tune.n_resumed'] == 1 and d['metrics']['tune.n_failed'] == 0 and d['metrics']['tune.n_trials'] == 3" \
  "the killed trial is not failed, the completed one kept, and the budget goes on"
expect_py "$TMP/k2.out" "sorted(n['id'] for n in d['nodes'] if n['id'].startswith('tune/')) == ['tune/1/f', 'tune/2/f']" \
  "the killed trial runs again, then the next one"
k2=$(json_get "$TMP/k2.out" "d['run_id']")
run_lathe "$TMP/ks" study show --json --store "$TMP/k" "$k2/tune"
expect_py "$TMP/ks.out" "[(t['number'], t['state'], t['params']['f.x']) for t in d['trials']] == [(0, 'complete', 0.0), (1, 'complete', 0.1), (2, 'complete', 0.2)]" \
  "trial 1 completed at its own point"
ev=$(sqlite3 "$TMP/k/lathe.db" "SELECT state || ':' || coalesce(error, '') FROM trial_events WHERE number = 1 ORDER BY id" | tr '\n' '|')
case "$ev" in
running:\|interrupted:*"ended while the trial ran (interrupted)"*\|running:\|complete:\|) pass "trial 1's history: running, interrupted (saying why), running, complete" ;;
*) fail "trial 1's history: $ev" ;;
esac
ic=$(sqlite3 "$TMP/k/lathe.db" "PRAGMA integrity_check")
[ "$ic" = "ok" ] && pass "integrity_check after SIGKILL" || fail "integrity_check: $ic"

# Failures and NaN: counted, never best; max_failed_trials stops the study.
pipeline "$TMP/f.json" "$xs" "" '"fail_above": 0.05, "nan_above": 0.35'
run_lathe "$TMP/f" run --json --store "$TMP/f" "$TMP/f.json"
expect_code "$TMP/f" 0 "a study with failures"
expect_py "$TMP/f.out" "d['metrics']['tune.n_failed'] == 5 and d['metrics']['tune.best_trial'] == 0" "failed and NaN trials count as failed, and x = 0 is best"
run_lathe "$TMP/f2" run --json --store "$TMP/f2" --set tune.max_failed_trials=2 "$TMP/f.json"
expect_code "$TMP/f2" 1 "too many failed trials fail the run"
expect_py "$TMP/f2.out" "[n['error'] for n in d['nodes'] if n['id'] == 'tune'][0].startswith('3 trials failed, more than max_failed_trials (2)')" "says why"
f2=$(json_get "$TMP/f2.out" "d['run_id']")
run_lathe "$TMP/f2s" study show --json --store "$TMP/f2" "$f2/tune"
expect_py "$TMP/f2s.out" "[t['state'] for t in d['trials']] == ['complete', 'failed', 'failed', 'failed'] and 'above fail_above' in d['trials'][1]['error']" \
  "it stopped after the third failure, and records why each failed"

# Median stopping: trials whose curve is worse than the median of the
# completed ones at the same step stop early and are recorded as pruned.
pipeline "$TMP/pr.json" '{"f.x": [0.3, 0.2, 0.4, 0.9, 1.5, 0.35]}' \
  ', "pruner": {"rule": "median", "metric": "f.loss", "n_startup_trials": 2}' '"steps": 10, "step_seconds": 0.01'
run_lathe "$TMP/pr" run --json --store "$TMP/pr" "$TMP/pr.json"
expect_code "$TMP/pr" 0 "a study with a median pruner"
expect_py "$TMP/pr.out" "d['metrics']['tune.n_pruned'] == 3 and d['metrics']['tune.n_failed'] == 0 and d['metrics']['tune.best_trial'] == 0" "three trials pruned, none failed"
pr=$(json_get "$TMP/pr.out" "d['run_id']")
run_lathe "$TMP/prs" study show --json --store "$TMP/pr" "$pr/tune"
expect_py "$TMP/prs.out" "[t['state'] for t in d['trials']] == ['complete', 'complete', 'pruned', 'pruned', 'pruned', 'complete'] and d['trials'][3]['error'].startswith('pruned at step 0 by the median rule (f.loss = 0.76')" \
  "the worse-than-median trials are pruned at their first step"
expect_py "$TMP/prs.out" "[s for s, v in d['trials'][5]['intermediate']['f.loss']] == list(range(10)) and [s for s, v in d['trials'][3]['intermediate']['f.loss']] == [0] and abs(d['trials'][3]['intermediate']['f.loss'][0][1] - 0.76) < 1e-9" \
  "study show has each trial's intermediate values, up to where it was pruned"
stored_reports "$TMP/pr/lathe.db" loss tune/5/f >"$TMP/n5"
[ "$(cat "$TMP/n5")" = "10" ] && pass "a trial that is not pruned reports all its steps" || fail "trial 5 reported $(cat "$TMP/n5") steps"
# Resumed trials vote with the curves they reported in their own run: with
# n_startup_trials 2, trial 2 can only be pruned if trials 0 and 1 count.
run_lathe "$TMP/prr1" run --json --store "$TMP/prr" --set tune.max_trials=2 "$TMP/pr.json"
run_lathe "$TMP/prr2" run --json --store "$TMP/prr" --set tune.max_trials=3 "$TMP/pr.json"
expect_py "$TMP/prr2.out" "d['metrics']['tune.n_resumed'] == 2 and d['metrics']['tune.n_pruned'] == 1" \
  "a resumed study prunes with the earlier run's curves"
pipeline "$TMP/pb.json" "$xs" ', "pruner": {"rule": "mean", "metric": "g.loss", "n_warmup_steps": -1}'
run_lathe "$TMP/pb" validate "$TMP/pb.json"
expect_code "$TMP/pb" 2 "a bad pruner is a validation error"
expect_err "$TMP/pb" "/nodes/0/with/pruner: pruner: \"rule\" is median or halving, not 'mean'" "rule"
expect_err "$TMP/pb" "pruner: \"n_warmup_steps\" is an integer >= 0" "option"

# Two objectives: the study keeps the Pareto front.
cat >"$TMP/mo.json" <<'JSON'
{"name": "quad", "seed": 3, "nodes": [
  {"id": "tune", "use": "tuner/grid",
   "with": {"objectives": {"f.value": "minimize", "f.x": "maximize"},
            "space": {"f.x": [0.0, 0.1, 0.2, 0.3, 0.4, 0.5], "f.y": [0.0, -0.2]}},
   "trial": {"nodes": [{"id": "f", "use": "transform/objective"}]}}]}
JSON
run_lathe "$TMP/mo" run --json --store "$TMP/mo" "$TMP/mo.json"
expect_code "$TMP/mo" 0 "a two-objective study"
expect_py "$TMP/mo.out" "d['metrics']['tune.n_front'] == 3" "three trials on the front"
mo=$(json_get "$TMP/mo.out" "d['run_id']")
run_lathe "$TMP/mos" study show --json --store "$TMP/mo" "$mo/tune"
expect_py "$TMP/mos.out" "[(t['params']['f.x'], t['params']['f.y']) for t in d['pareto_front']] == [(0.3, -0.2), (0.4, -0.2), (0.5, -0.2)]" \
  "the front: the non-dominated (value, x) trade-offs"
run_lathe "$TMP/mos-t" study show --store "$TMP/mo" "$mo/tune"
grep -q "^Pareto front (minimize f.value, maximize f.x), 3 trials:" "$TMP/mos-t.out" && pass "text show prints the front" || fail "no front in: $(tail -5 "$TMP/mos-t.out")"
sed 's/"objectives": {"f.value": "minimize", "f.x": "maximize"}/"objective": "f.value", "objectives": {"f.value": "down", "g.x": "maximize"}/' "$TMP/mo.json" >"$TMP/mob.json"
run_lathe "$TMP/mob" validate "$TMP/mob.json"
expect_code "$TMP/mob" 2 "bad objectives are validation errors"
expect_err "$TMP/mob" "a tuner needs \"objective\" (one NODE.METRIC) or \"objectives\" ({\"NODE.METRIC\": \"maximize\", ...}), not both" "objective and objectives"

# Constraints and goal.
pipeline "$TMP/c.json" "$xs" ', "constraints": ["f.x <= 0.2"], "metrics": ["f.x"]'
run_lathe "$TMP/c" run --json --store "$TMP/c" "$TMP/c.json"
expect_py "$TMP/c.out" "d['metrics']['tune.best_trial'] == 2" "an infeasible better trial is not the best"
pipeline "$TMP/g.json" "$xs" ', "goal": 0.06'
run_lathe "$TMP/g" run --json --store "$TMP/g" "$TMP/g.json"
expect_py "$TMP/g.out" "d['metrics']['tune.n_trials'] == 3" "the study stops at its goal"

# An objective metric the trial never produces: one line naming node and param.
pipeline "$TMP/o.json" "$xs"
sed -i 's/"f.value"/"f.valeu"/' "$TMP/o.json"
run_lathe "$TMP/o" run --json --store "$TMP/o" "$TMP/o.json"
expect_code "$TMP/o" 1 "a missing objective metric"
expect_py "$TMP/o.out" "[n['error'] for n in d['nodes'] if n['id'] == 'tune'] == [\"param 'objective': trial node 'f' produces no metric 'valeu' (it produces: value, x); fix the objective\"]" "names the node, the param and what exists"
expect_py "$TMP/o.out" "len([n for n in d['nodes'] if n['id'].startswith('tune/')]) == 1" "and stops after the first trial"
pipeline "$TMP/v.json" "$xs" ', "constraints": ["f.x ~ 2"], "metrics": ["nosuch.x"]'
run_lathe "$TMP/v" validate "$TMP/v.json"
expect_code "$TMP/v" 2 "bad constraints and metrics are validation errors"
expect_err "$TMP/v" "/nodes/0/with/constraints/0: 'f.x ~ 2' is not \"NODE.METRIC OP NUMBER\"" "constraint syntax"
expect_err "$TMP/v" "/nodes/0/with/metrics/0: 'nosuch.x' names no node of this trial" "metric node"
finish
