#!/usr/bin/env bash
# tracker/mlflow end to end through the host journal (issue 13), against the
# strict MLflow test server (tests/mlflow): examples/iris with tracker/sqlite,
# tracker/mlflow and both at once records the same params, metrics and tags
# in both; `runs export --format mlflow` replays older runs once; a token in
# the environment never reaches the store, the outputs or the errors.
# An outage in the middle of a study: test-tracker-mlflow-outage.sh; kill -9
# while shipping to a slow server: test-tracker-mlflow-kill.sh.
source "$(dirname "$0")/lib.sh"
source "$LATHE_SOURCE_DIR/tests/mlflow/mlflow-env.sh"
trap 'mlflow_stop; rm -rf "$TMP"' EXIT
export LATHE_MLFLOW_CONNECT_TIMEOUT_MS=1000 LATHE_MLFLOW_TOTAL_TIMEOUT_MS=5000 LATHE_MLFLOW_BACKOFF_MS=50
unset MLFLOW_TRACKING_USERNAME MLFLOW_TRACKING_PASSWORD MLFLOW_EXPERIMENT_NAME LATHE_TRACKER
SECRET="lathe-secret-$$-$RANDOM-x7q"
export MLFLOW_TRACKING_TOKEN="$SECRET"
COMPARE="$LATHE_SOURCE_DIR/tests/integration/tracker-compare.py"
cp -r "$LATHE_SOURCE_DIR/examples/iris" "$TMP/iris"
rm -rf "$TMP/iris/.lathe"
cd "$TMP/iris"
# compare NAME STORE RUN: tracker/sqlite's rows vs MLflow's state for RUN
compare() {
  curl -s "$MLFLOW_CONTROL_URL/state" >"$TMP/state-$1.json"
  $PY "$COMPARE" "$2/tracking.db" "$TMP/state-$1.json" "$3" >"$TMP/cmp-$1.json" 2>"$TMP/cmp-$1.err" || cat "$TMP/cmp-$1.err"
}

mlflow_start "$TMP/srv" --token "$SECRET" || { fail "the MLflow test server did not start"; finish; }

# a. Both at once: the same run, the same rows in both trackers.
run_lathe "$TMP/both" run --json --store "$TMP/s" --tracker sqlite --tracker mlflow pipeline.json
expect_code "$TMP/both" 0 "iris with tracker/sqlite and tracker/mlflow"
run_both=$(json_get "$TMP/both.out" "d['run_id']")
run_lathe "$TMP/sy" tracker sync --json --store "$TMP/s"
expect_code "$TMP/sy" 0 "sync: nothing left to ship"
compare both "$TMP/s" "$run_both"
expect_py "$TMP/cmp-both.json" "len(d['sqlite']) == 6 and len(d['mlflow']) == 6" "the run and its 5 trials in each tracker"
expect_py "$TMP/cmp-both.json" "d['sqlite'] == d['mlflow']" "the same params, metric values and lathe.* tags in both"
expect_py "$TMP/cmp-both.json" "all(s['params'] for s in d['mlflow']) and sum(len(s['metrics']) for s in d['mlflow']) > 6" "params and metrics were recorded (not two empty sides)"

# The list form in the pipeline does the same.
$PY - pipeline.json "$TMP/iris/list.json" <<'PYEOF'
import json, sys
p = json.load(open(sys.argv[1]))
p["tracker"] = [{"use": "tracker/sqlite"}, {"use": "tracker/mlflow"}]
json.dump(p, open(sys.argv[2], "w"))
PYEOF
run_lathe "$TMP/lst" run --json --store "$TMP/s3" list.json
expect_code "$TMP/lst" 0 "a tracker list in the pipeline"
run_list=$(json_get "$TMP/lst.out" "d['run_id']")
run_lathe "$TMP/sy2" tracker sync --store "$TMP/s3"
compare list "$TMP/s3" "$run_list"
expect_py "$TMP/cmp-list.json" "len(d['mlflow']) == 6 and d['sqlite'] == d['mlflow']" "the list: the same rows in both"

# Each alone: the same params and metric values (their Lathe ids differ).
run_lathe "$TMP/sq" run --json --store "$TMP/s1" --tracker sqlite pipeline.json
run_lathe "$TMP/ml" run --json --store "$TMP/s2" --tracker mlflow pipeline.json
expect_code "$TMP/sq" 0 "iris with tracker/sqlite alone"
expect_code "$TMP/ml" 0 "iris with tracker/mlflow alone"
run_lathe "$TMP/sy3" tracker sync --store "$TMP/s2"
compare sq "$TMP/s1" "$(json_get "$TMP/sq.out" "d['run_id']")"
compare ml "$TMP/s" "$(json_get "$TMP/ml.out" "d['run_id']")"
$PY -c 'import json,sys
strip = lambda runs: sorted(json.dumps({"params": r["params"], "metrics": r["metrics"], "tags": sorted(r["tags"])}, sort_keys=True) for r in runs)
a = json.load(open(sys.argv[1]))["sqlite"]; b = json.load(open(sys.argv[2]))["mlflow"]
sys.exit(0 if len(a) == 6 and strip(a) == strip(b) else 1)' "$TMP/cmp-sq.json" "$TMP/cmp-ml.json" \
  && pass "alone: the same params, metric values and tag keys" || fail "alone: tracker/sqlite and tracker/mlflow differ"
curl -s "$MLFLOW_CONTROL_URL/state" >"$TMP/state-a.json"
expect_py "$TMP/state-a.json" "len(d['tracking']['runs']) == 18" "three runs of 6 in MLflow: no duplicates"

# d. runs export replays the older runs (tracker/sqlite only) into a fresh server, once.
mlflow_stop
mlflow_start "$TMP/srv2" --token "$SECRET" || { fail "the MLflow test server did not restart"; finish; }
run_lathe "$TMP/ex1" runs export --json --format mlflow --store "$TMP/s1"
expect_code "$TMP/ex1" 0 "runs export --format mlflow"
curl -s "$MLFLOW_CONTROL_URL/state" >"$TMP/state-ex1.json"
run_sq=$(json_get "$TMP/sq.out" "d['run_id']")
compare ex "$TMP/s1" "$run_sq"
expect_py "$TMP/cmp-ex.json" "len(d['mlflow']) == 6 and d['sqlite'] == d['mlflow']" "the export: the same rows as tracker/sqlite recorded"
run_lathe "$TMP/ex2" runs export --json --format mlflow --store "$TMP/s1"
expect_code "$TMP/ex2" 0 "a second export"
curl -s "$MLFLOW_CONTROL_URL/state" >"$TMP/state-ex2.json"
$PY -c 'import json,sys
n = lambda f: sum(len(r["metrics"]) + len(r["params"]) for r in json.load(open(f))["tracking"]["runs"].values())
r = lambda f: len(json.load(open(f))["tracking"]["runs"])
sys.exit(0 if r(sys.argv[1]) == r(sys.argv[2]) == 6 and n(sys.argv[1]) == n(sys.argv[2]) else 1)' "$TMP/state-ex1.json" "$TMP/state-ex2.json" \
  && pass "a second export adds nothing" || fail "a second export added runs or points"

mlflow_stop

# e. The token never reaches the store, the outputs or the errors.
hits=0
for s in "$TMP/s" "$TMP/s1" "$TMP/s2" "$TMP/s3"; do
  for db in "$s"/*.db; do
    sqlite3 "$db" .dump | grep -qF "$SECRET" && { hits=$((hits + 1)); echo "# in $db"; }
  done
  grep -rlaF "$SECRET" "$s" && hits=$((hits + 1))
done
grep -laF "$SECRET" "$TMP"/*.out "$TMP"/*.err "$TMP/iris" -r && hits=$((hits + 1))
[ "$hits" = 0 ] && pass "the token is nowhere in the stores, outputs or errors" || fail "the token leaked ($hits)"
finish
