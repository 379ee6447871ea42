#!/usr/bin/env bash
# A 30 s MLflow outage in the middle of a study (issue 13), against the strict
# MLflow test server (tests/mlflow) and tracker/mlflow: the run succeeds, is
# not slowed by the outage, says so once; after the server is back, the
# server holds every point the store holds, once, in one MLflow run per Lathe
# run, the trials nested under the study's run. The server's own /state is
# compared with the store (tracker-mlflow-check.py), never lathe's report.
source "$(dirname "$0")/lib.sh"
source "$LATHE_SOURCE_DIR/tests/mlflow/mlflow-env.sh"
trap 'mlflow_stop; rm -rf "$TMP"' EXIT
export LATHE_PLUGIN_PATH="$LATHE_TESTKIT_DIR"
# MLflow's client settings as users have them: the HTTP layer's own retries,
# timeouts and the default final flush.
unset MLFLOW_TRACKING_TOKEN MLFLOW_TRACKING_USERNAME MLFLOW_TRACKING_PASSWORD MLFLOW_EXPERIMENT_NAME \
  LATHE_TRACKER LATHE_TRACKER_FLUSH_MS LATHE_MLFLOW_CONNECT_TIMEOUT_MS LATHE_MLFLOW_TOTAL_TIMEOUT_MS \
  LATHE_MLFLOW_BACKOFF_MS LATHE_MLFLOW_MAX_ATTEMPTS LATHE_MLFLOW_IDLE_TIMEOUT_MS
CHECK="$LATHE_SOURCE_DIR/tests/integration/tracker-mlflow-check.py"
OUTAGE=30
TRIALS=4 STEPS=50 STEP_S=0.2
STUDY=$($PY -c "print($TRIALS * $STEPS * $STEP_S)") # the study's own length, in seconds of sleep
cat >"$TMP/p.json" <<JSON
{"name": "outage", "seed": 3, "nodes": [
  {"id": "tune", "use": "tuner/grid",
   "with": {"objective": "f.value", "direction": "minimize", "space": {"f.x": [0.1, 0.2, 0.3, 0.4]},
            "parallel_trials": 1},
   "trial": {"nodes": [{"id": "f", "use": "transform/objective",
                        "with": {"steps": $STEPS, "step_seconds": $STEP_S}}]}}]}
JSON
# loss points the server holds; the store's journaled loss reports
server_points() {
  curl -s --max-time 5 "$MLFLOW_CONTROL_URL/state" |
    $PY -c 'import json,sys; print(sum(m["key"] == "f.loss" for r in json.load(sys.stdin)["tracking"]["runs"].values() for m in r["metrics"]))' 2>/dev/null || echo 0
}
journal_points() {
  if [ -s "$TMP/s/lathe.db" ]; then journaled_reports "$TMP/s/lathe.db" f.loss; else echo 0; fi
}
alive() { kill -0 "$1" 2>/dev/null; }

mlflow_start "$TMP/srv" || { fail "the MLflow test server did not start"; finish; }
t0=$(date +%s.%N)
"$LATHE_BIN" run --json --store "$TMP/s" --tracker mlflow "$TMP/p.json" >"$TMP/r.out" 2>"$TMP/r.err" &
pid=$!
# The outage starts once the server holds some of the first trial's points.
n=0
for _ in $(seq 1 150); do
  n=$(server_points)
  [ "$n" -ge 5 ] && break
  alive $pid || break
  sleep 0.2
done
[ "$n" -ge 5 ] && pass "shipping under way before the outage ($n points on the server)" || fail "shipping never started ($n points)"
# 30 s without the server: first it accepts connections and closes them
# unanswered (also the open keep-alive ones), then it refuses them (the
# listener closed); it comes back on the same port with its state.
api() { curl -s --max-time 5 -o /dev/null "$MLFLOW_TRACKING_URI/api/2.0/mlflow/experiments/search"; }
down() { curl -s --max-time 5 -X POST "$MLFLOW_CONTROL_URL/down" -d "{\"seconds\": $1, \"mode\": \"$2\"}" >/dev/null; }
down $((OUTAGE / 2 + 2)) close
tdown=$(date +%s.%N)
j0=$(journal_points)
api
rc=$?
[ $rc != 0 ] && [ $rc != 7 ] && pass "the server closes connections unanswered" || fail "during the outage the API gave curl exit $rc"
sleep $((OUTAGE / 2))
down $((OUTAGE - OUTAGE / 2)) refuse
api
[ $? = 7 ] && pass "then refuses them" || fail "the API still takes connections during the outage"
# The study goes on while the server is down: its points reach the store.
sleep $((OUTAGE - OUTAGE / 2 - 5))
j1=$(journal_points)
[ "$j1" -ge $((j0 + 50)) ] && pass "the study went on during the outage ($j0 -> $j1 journaled points)" \
  || fail "the study stalled during the outage ($j0 -> $j1 journaled points)"
for _ in $(seq 1 100); do
  api && break
  sleep 0.1
done
tup=$(date +%s.%N)
alive $pid && pass "the run still going when the server is back (the outage was mid-study)" \
  || fail "the run ended before the outage did"
# Bounded: the study's length and a generous margin, then it is killed.
for _ in $(seq 1 $(((${STUDY%.*} + 60) * 10))); do alive $pid || break; sleep 0.1; done
alive $pid && { kill -9 $pid; fail "the run did not end (killed)"; }
wait $pid
code=$?
t1=$(date +%s.%N)
[ "$code" = 0 ] && pass "the run succeeds through the outage" || fail "run: exit $code; $(head -c 600 "$TMP/r.err")"
wall=$($PY -c "print(round($t1 - $t0, 1))")
outage=$($PY -c "print(round($tup - $tdown, 1))")
# A run that waited on the server would take the study's length plus the outage.
$PY -c "import sys; sys.exit(0 if $wall < $STUDY + 15 and $outage >= $OUTAGE - 1 else 1)" \
  && pass "not slowed: $wall s for a study of $STUDY s, through a $outage s outage" \
  || fail "the run took $wall s for a study of $STUDY s through a $outage s outage"
nw=$(grep -ci "tracker" "$TMP/r.err")
[ "$nw" = 1 ] && pass "one warning about the tracker" || fail "$nw warning lines about the tracker: $(cat "$TMP/r.err")"
expect_err "$TMP/r" "lathe tracker sync" "it says what ships the rest"
echo "# $(cat "$TMP/r.err")"
run1=$(json_get "$TMP/r.out" "d['run_id']")
# The run's own shipper took up again once the server was back, well before the study's end.
run_lathe "$TMP/st0" tracker status --json --store "$TMP/s"
expect_py "$TMP/st0.out" "len(d) == $((TRIALS + 1)) and sum(r['pending'] for r in d) == 0" "the run shipped everything itself once the server was back"

run_lathe "$TMP/sy" tracker sync --store "$TMP/s"
expect_code "$TMP/sy" 0 "tracker sync with the server back"
run_lathe "$TMP/st" tracker status --json --store "$TMP/s"
expect_code "$TMP/st" 0 "tracker status --json"
expect_py "$TMP/st.out" "len(d) == $((TRIALS + 1)) and all(r['pending'] == 0 and r['refused'] == 0 for r in d)" "status: nothing pending, nothing refused"
curl -s --max-time 10 "$MLFLOW_CONTROL_URL/state" >"$TMP/state.json"
$PY "$CHECK" "$TMP/s" "$TMP/state.json" >"$TMP/c.json" 2>"$TMP/c.err" || cat "$TMP/c.err"
cat "$TMP/c.json"; echo
expect_py "$TMP/c.json" "d['points'] >= $((TRIALS * STEPS)) and d['n_missing'] == 0 and d['extra'] == []" "every journaled point on the server, nothing else"
expect_py "$TMP/c.json" "d['stored'] >= $((TRIALS * STEPS)) and d['n_stored_missing'] == 0" "every metric the store holds on the server (0 lost)"
expect_py "$TMP/c.json" "d['dup_points'] == [] and d['dup_steps'] == []" "no point twice (run, key, step, timestamp)"
expect_py "$TMP/c.json" "d['params'] > 0 and d['params_bad'] == []" "every param, with its value"
expect_py "$TMP/c.json" "d['runs'] == $((TRIALS + 1)) and d['dup_runs'] == [] and d['unmapped'] == [] and d['mlflow_runs'] == $((TRIALS + 1))" "one MLflow run per Lathe run, no duplicate"
expect_py "$TMP/c.json" "d['nested'] == $TRIALS and d['orphans'] == []" "the trials nested under the study's run (mlflow.parentRunId)"
expect_py "$TMP/state.json" "sorted(r['status'] for r in d['tracking']['runs'].values()) == ['FINISHED'] * $((TRIALS + 1))" "every MLflow run finished"
expect_py "$TMP/state.json" "[r['tags'].get('lathe.best_trial') for r in d['tracking']['runs'].values() if r['tags'].get('lathe.run_id') == '$run1'] == ['tune/2']" "the study's best trial tagged on its run"
finish
