#!/usr/bin/env bash
# tracker/mlflow and journal rows of many points (issue 13): a metrics row of
# ~1900 points goes to MLflow split across several runs/log-batch calls (at
# most 1000 metrics each); when a later part is applied but its answer is lost,
# the row stays pending (nothing of it acked) and the next sync resends it
# whole without a duplicate point; the rows of a run fill log-batch calls to
# MLflow's limits instead of one call per row.
source "$(dirname "$0")/lib.sh"
source "$LATHE_SOURCE_DIR/tests/mlflow/mlflow-env.sh"
trap 'mlflow_stop; rm -rf "$TMP"' EXIT
export LATHE_PLUGIN_PATH="$LATHE_TESTKIT_DIR"
export LATHE_MLFLOW_CONNECT_TIMEOUT_MS=1000 LATHE_MLFLOW_TOTAL_TIMEOUT_MS=5000 LATHE_MLFLOW_BACKOFF_MS=50
export LATHE_MLFLOW_MAX_ATTEMPTS=1 MLFLOW_EXPERIMENT_NAME=big-rows
unset MLFLOW_TRACKING_TOKEN MLFLOW_TRACKING_USERNAME MLFLOW_TRACKING_PASSWORD LATHE_TRACKER
MERGE="$LATHE_SOURCE_DIR/tests/integration/tracker-merge-rows.py"
cd "$TMP"
write_pipeline p.json <<'EOF'
{"name": "big", "seed": 1, "nodes": [
  {"id": "f", "use": "transform/objective", "with": {"x": 0.5, "steps": 2000}}]}
EOF
closed=$(standin_free_port)
# points KEY...: how many points of those keys MLflow holds, over all runs
points() {
  curl -s "$MLFLOW_CONTROL_URL/state" >"$TMP/state.json"
  $PY -c 'import json,sys
d = json.load(open(sys.argv[1]))
print(sum(1 for r in d["tracking"]["runs"].values() for m in r["metrics"] if m["key"] in sys.argv[2:]))' \
    "$TMP/state.json" "$@"
}
log_batches() { curl -s "$MLFLOW_CONTROL_URL/counts" | $PY -c 'import json,sys; print(json.load(sys.stdin).get("logBatch", 0))'; }

# 1. Recorded with the server out of reach, then the journal rewritten so
# that the run's points sit in a few big rows.
MLFLOW_TRACKING_URI="http://127.0.0.1:$closed" run_lathe "$TMP/run" run --json --store "$TMP/s" --tracker mlflow p.json
expect_code "$TMP/run" 0 "the run with MLflow out of reach"
$PY "$MERGE" "$TMP/s" 5000 >"$TMP/merge.json"
expect_py "$TMP/merge.json" "d['rows_after'] <= d['rows_before']" "the journal's metrics rows merged into a few big ones"
$PY -c 'import sqlite3,json,sys
sys.path.insert(0, sys.argv[2])
from store_points import journal_points
c = sqlite3.connect(sys.argv[1] + "/lathe.db")
print(max(len(journal_points(c, json.loads(p))) for (p,) in c.execute("SELECT payload FROM tracker_journal WHERE kind = \"metrics\"")))' "$TMP/s" "$LATHE_SOURCE_DIR/tests/common" >"$TMP/biggest"
big=$(cat "$TMP/biggest")
[ "$big" -gt 1000 ] && pass "one row carries $big points, more than one log-batch takes" || fail "the biggest row has $big points"

mlflow_start "$TMP/srv" || { fail "the MLflow test server did not start"; finish; }
# 2. The second part of the big batch is applied, then its answer lost: the
# first log-batch carries the run's tags and the big row's first 1000
# metrics, the second its next part.
curl -s -X POST "$MLFLOW_CONTROL_URL/faults" -d '{"kind": "drop_after", "match": "logBatch", "skip": 1, "count": 1}' >/dev/null
run_lathe "$TMP/sy1" tracker sync --json --store "$TMP/s"
expect_code "$TMP/sy1" 1 "sync with a lost answer: events stay pending"
got=$(points f.loss)
[ "$got" -ge 1000 ] && [ "$got" -lt 2000 ] && pass "MLflow holds part of the row ($got of 2000 loss points)" \
  || fail "MLflow holds $got loss points after the lost answer (expected part of 2000)"
[ "$(log_batches)" = 2 ] && pass "two log-batch calls, the second lost" || fail "log-batch calls: $(log_batches), expected 2"
run_lathe "$TMP/st" tracker status --json --store "$TMP/s"
$PY -c 'import sqlite3,json,sys
c = sqlite3.connect(sys.argv[1] + "/lathe.db")
n = c.execute("SELECT count(*) FROM tracker_journal WHERE kind = \"metrics\" AND state != \"pending\"").fetchone()[0]
print(json.dumps({"acked_metrics_rows": n}))' "$TMP/s" >"$TMP/acked.json"
expect_py "$TMP/acked.json" "d['acked_metrics_rows'] == 0" "no metrics row acked while a part of it went unanswered"

# 3. The next sync resends the rows whole: every point once.
curl -s -X DELETE "$MLFLOW_CONTROL_URL/faults" >/dev/null
curl -s -X DELETE "$MLFLOW_CONTROL_URL/counts" >/dev/null
run_lathe "$TMP/sy2" tracker sync --json --store "$TMP/s"
expect_code "$TMP/sy2" 0 "the next sync ships the rest"
expect_py "$TMP/sy2.out" "d['pending'] == 0" "nothing pending"
got=$(points f.loss)
[ "$got" = 2000 ] && pass "2000 loss points in MLflow, none doubled" || fail "MLflow holds $got loss points, not 2000"
curl -s "$MLFLOW_CONTROL_URL/state" >"$TMP/state.json"
expect_py "$TMP/state.json" "len(d['tracking']['runs']) == 1" "one MLflow run: the start was not sent twice"
expect_py "$TMP/state.json" "sorted(m['step'] for r in d['tracking']['runs'].values() for m in r['metrics'] if m['key'] == 'f.loss') == list(range(2000))" "f.loss: steps 0..1999, each once"
# The resend filled log-batch calls: ~2000 metrics in 3 calls, not one a row.
n=$(log_batches)
[ "$n" -le 4 ] && pass "the resend took $n log-batch calls" || fail "the resend took $n log-batch calls (expected <= 4)"

# 4. Rows as the recorder writes them (a chunk of a node's reports each,
# unmerged) fill log-batch calls too: ~2000 points of one run in a few calls.
mlflow_stop
MLFLOW_TRACKING_URI="http://127.0.0.1:$closed" run_lathe "$TMP/run2" run --json --store "$TMP/s2" --tracker mlflow p.json
mlflow_start "$TMP/srv2" || { fail "the MLflow test server did not restart"; finish; }
run_lathe "$TMP/sy3" tracker sync --json --store "$TMP/s2"
expect_code "$TMP/sy3" 0 "sync of the unmerged journal"
got=$(points f.loss)
[ "$got" = 2000 ] && pass "2000 loss points from the rows as recorded" || fail "MLflow holds $got loss points, not 2000"
n=$(log_batches)
[ "$n" -le 8 ] && pass "the rows as recorded went in $n log-batch calls" || fail "the rows as recorded took $n log-batch calls (expected <= 8 for 2000 points)"
# 5. More points than a round takes (about 20000): 24 trials of 1000 points in
# rows of 1000, a lost answer half-way (rounds read ahead are then dropped and
# read again), then the rest: every point once.
mlflow_stop
$PY - "$TMP/many.json" <<'PYEOF'
import json, sys
xs = [round(0.01 * (i + 1), 3) for i in range(24)]
json.dump({"name": "many", "seed": 1, "nodes": [
    {"id": "tune", "use": "tuner/grid",
     "with": {"objective": "f.value", "direction": "minimize", "space": {"f.x": xs}, "parallel_trials": 2},
     "trial": {"nodes": [{"id": "f", "use": "transform/objective", "with": {"steps": 1000}}]}}]},
    open(sys.argv[1], "w"))
PYEOF
MLFLOW_TRACKING_URI="http://127.0.0.1:$closed" run_lathe "$TMP/run3" run --json --store "$TMP/s3" --tracker mlflow many.json
expect_code "$TMP/run3" 0 "24 trials with MLflow out of reach"
$PY "$MERGE" "$TMP/s3" 1000 >/dev/null
mlflow_start "$TMP/srv3" || { fail "the MLflow test server did not restart"; finish; }
curl -s -X POST "$MLFLOW_CONTROL_URL/faults" -d '{"kind": "drop_after", "match": "logBatch", "skip": 30, "count": 1}' >/dev/null
run_lathe "$TMP/sy4" tracker sync --json --store "$TMP/s3"
expect_code "$TMP/sy4" 1 "a lost answer half-way: events stay pending"
got=$(points f.loss)
[ "$got" -gt 0 ] && [ "$got" -lt 24000 ] && pass "half-way: $got of 24000 points in MLflow" || fail "half-way: $got points in MLflow"
curl -s -X DELETE "$MLFLOW_CONTROL_URL/faults" >/dev/null
run_lathe "$TMP/sy5" tracker sync --json --store "$TMP/s3"
expect_code "$TMP/sy5" 0 "the rest shipped"
expect_py "$TMP/sy5.out" "d['pending'] == 0" "nothing pending after 24 trials"
curl -s "$MLFLOW_CONTROL_URL/state" >"$TMP/state3.json"
expect_py "$TMP/state3.json" "len(d['tracking']['runs']) == 25" "25 MLflow runs (the study and 24 trials), none doubled"
expect_py "$TMP/state3.json" "all(sorted(m['step'] for m in r['metrics'] if m['key'] == 'f.loss') == list(range(1000)) for r in d['tracking']['runs'].values() if r['run_name'].startswith('tune/'))" "each trial: f.loss steps 0..999, each once"
if grep -q "Traceback" "$TMP/srv/server.log" "$TMP/srv2/server.log" "$TMP/srv3/server.log"; then
  fail "the server logged a traceback"
else
  pass "no traceback in the server logs"
fi
finish
