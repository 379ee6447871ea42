#!/usr/bin/env bash
# tracker/mlflow under `lathe run`, against the strict MLflow test server
# (tests/mlflow): a study's run and its trials as nested MLflow runs; a server
# that is down, a wrong token, a bad URI and credentials in the pipeline never
# fail the run (or fail validation, for the last) and say what to set.
source "$(dirname "$0")/lib.sh"
source "$LATHE_SOURCE_DIR/tests/mlflow/mlflow-env.sh"
trap 'mlflow_stop; rm -rf "$TMP"' EXIT
export LATHE_PLUGIN_PATH="$LATHE_TESTKIT_DIR"
export LATHE_MLFLOW_CONNECT_TIMEOUT_MS=1000 LATHE_MLFLOW_TOTAL_TIMEOUT_MS=3000 LATHE_MLFLOW_BACKOFF_MS=50
unset MLFLOW_TRACKING_TOKEN MLFLOW_TRACKING_USERNAME MLFLOW_TRACKING_PASSWORD MLFLOW_EXPERIMENT_NAME

pipeline() { # FILE TRACKER_WITH
  cat >"$1" <<JSON
{"name": "quad", "seed": 3,
 "tracker": {"use": "tracker/mlflow", "with": $2},
 "nodes": [
  {"id": "tune", "use": "tuner/grid",
   "with": {"objective": "f.value", "direction": "minimize", "space": {"f.x": [0.0, 0.1]},
            "parallel_trials": 1, "max_trials": 2},
   "trial": {"nodes": [{"id": "f", "use": "transform/objective"}]}}]}
JSON
}
pipeline "$TMP/p.json" '{}'

mlflow_start "$TMP/srv" || { fail "the MLflow test server did not start"; finish; }
run_lathe "$TMP/r1" run --json --store "$TMP/s" "$TMP/p.json"
expect_code "$TMP/r1" 0 "a study logged to MLflow"
run1=$(json_get "$TMP/r1.out" "d['run_id']")
curl -s "$MLFLOW_CONTROL_URL/state" >"$TMP/state.json"
expect_py "$TMP/state.json" "[r['tags'].get('lathe.pipeline') for r in d['tracking']['runs'].values() if r['tags'].get('lathe.run_id') == '$run1'] == ['$TMP/p.json']" "the run is in MLflow, tagged with its Lathe id and pipeline"
expect_py "$TMP/state.json" "[(r['status'], r['tags']['mlflow.source.name'], r['tags']['mlflow.source.type'], d['tracking']['experiments'][r['experiment_id']]['name']) for r in d['tracking']['runs'].values() if r['tags'].get('lathe.run_id') == '$run1'] == [('FINISHED', '$TMP/p.json', 'LOCAL', 'quad')]" "finished, with MLflow's source tags, in the pipeline's experiment"
expect_py "$TMP/state.json" "sorted((r['tags']['mlflow.runName'], r['params']['f.x'], r['status'], 'objective' in [m['key'] for m in r['metrics']]) for r in d['tracking']['runs'].values() if d['tracking']['runs'].get(r['tags'].get('mlflow.parentRunId', ''), {}).get('tags', {}).get('lathe.run_id') == '$run1') == [('tune/0', '0', 'FINISHED', True), ('tune/1', '0.10000000000000001', 'FINISHED', True)]" "each trial is a nested MLflow run with its param and objective"
expect_py "$TMP/state.json" "len(d['tracking']['runs']) == 3" "no duplicate runs"

# Credentials in the pipeline: validation refuses them (the tracker's param
# check, run by the host), naming the variable, before anything runs.
pipeline "$TMP/secret.json" '{"token": "abc123"}'
run_lathe "$TMP/vv" validate --json "$TMP/secret.json"
expect_code "$TMP/vv" 2 "lathe validate refuses a token in the pipeline"
run_lathe "$TMP/v" run --json --store "$TMP/s" "$TMP/secret.json"
expect_code "$TMP/v" 2 "lathe run refuses it too"
expect_err "$TMP/v" "set MLFLOW_TRACKING_TOKEN in the environment" "the refusal names MLFLOW_TRACKING_TOKEN"
grep -q "abc123" "$TMP/v.err" "$TMP/v.out" "$TMP/vv.err" "$TMP/vv.out" && fail "the token was printed" || pass "the token is not printed"
curl -s "$MLFLOW_CONTROL_URL/state" >"$TMP/state2.json"
expect_py "$TMP/state2.json" "len(d['tracking']['runs']) == 3" "nothing logged with a refused setting"

# A wrong token: the run goes on; one line names the variable, no secret.
mlflow_stop
mlflow_start "$TMP/srv2" --token right-token-42 || { fail "the MLflow test server did not start"; finish; }
export MLFLOW_TRACKING_TOKEN=wrong-token-17
run_lathe "$TMP/a" run --json --store "$TMP/s" "$TMP/p.json"
expect_code "$TMP/a" 0 "a wrong token does not fail the run"
expect_err "$TMP/a" "MLFLOW_TRACKING_TOKEN" "the warning names MLFLOW_TRACKING_TOKEN"
grep -q "token-42\|token-17" "$TMP/a.err" "$TMP/a.out" && fail "a token was printed" || pass "no token printed"
unset MLFLOW_TRACKING_TOKEN

# A server answering 503: after a failed call the shipper rests (2 s) before
# it tries again, rather than sending a request at every poll.
cat >"$TMP/slow.json" <<'JSON'
{"name": "rest", "nodes": [
  {"id": "tune", "use": "tuner/grid",
   "with": {"objective": "f.value", "direction": "minimize", "space": {"f.x": [0.1]}},
   "trial": {"nodes": [{"id": "f", "use": "transform/objective", "with": {"steps": 30, "step_seconds": 0.1}}]}}]}
JSON
curl -s -X POST "$MLFLOW_CONTROL_URL/faults" -d '{"kind": "fail", "status": 503, "match": "logBatch", "count": -1}' >/dev/null
curl -s -X DELETE "$MLFLOW_CONTROL_URL/counts" >/dev/null
t0=$(date +%s)
MLFLOW_TRACKING_TOKEN=right-token-42 LATHE_MLFLOW_MAX_ATTEMPTS=1 LATHE_TRACKER_FLUSH_MS=1 \
  run_lathe "$TMP/rest" run --json --store "$TMP/s-rest" --tracker mlflow "$TMP/slow.json"
t1=$(date +%s)
expect_code "$TMP/rest" 0 "a run with a server answering 503"
n=$(curl -s "$MLFLOW_CONTROL_URL/counts" | $PY -c 'import json,sys; print(json.load(sys.stdin).get("logBatch", 0))')
[ "$n" -ge 1 ] && [ "$n" -le $(((t1 - t0) / 2 + 3)) ] && pass "the shipper rests between tries ($n log-batch calls in $((t1 - t0)) s)" \
  || fail "$n log-batch calls in $((t1 - t0)) s"
curl -s -X DELETE "$MLFLOW_CONTROL_URL/faults" >/dev/null

# A server that takes a batch and never answers: the run waits for it no
# longer than its final flush (2 s), not the HTTP layer's time budget; the
# call is cut short and its events stay pending.
curl -s -X POST "$MLFLOW_CONTROL_URL/faults" -d '{"kind": "delay", "ms": 60000, "match": "logBatch", "count": -1}' >/dev/null
t0=$(date +%s)
MLFLOW_TRACKING_TOKEN=right-token-42 LATHE_MLFLOW_TOTAL_TIMEOUT_MS=120000 LATHE_MLFLOW_IDLE_TIMEOUT_MS=90000 \
  run_lathe "$TMP/hang" run --json --store "$TMP/s-hang" --tracker mlflow "$TMP/slow.json"
t1=$(date +%s)
expect_code "$TMP/hang" 0 "a run with a server that never answers"
[ $((t1 - t0)) -lt 15 ] && pass "the run did not wait for the answer ($((t1 - t0)) s for a study of 3 s)" \
  || fail "the run took $((t1 - t0)) s for a study of 3 s"
expect_err "$TMP/hang" "pending; \`lathe tracker sync\` ships" "it says what is left pending"
curl -s -X DELETE "$MLFLOW_CONTROL_URL/faults" >/dev/null
MLFLOW_TRACKING_TOKEN=right-token-42 run_lathe "$TMP/hangs" tracker sync --store "$TMP/s-hang"
expect_code "$TMP/hangs" 0 "sync ships it once the server answers"

# The server down: the run goes on, quickly, with a warning.
mlflow_stop
t0=$(date +%s)
run_lathe "$TMP/d" run --json --store "$TMP/s" "$TMP/p.json"
t1=$(date +%s)
expect_code "$TMP/d" 0 "the server down does not fail the run"
expect_err "$TMP/d" "warning: tracker" "a tracker warning"
[ $((t1 - t0)) -lt 30 ] && pass "the run did not wait out the outage ($((t1 - t0)) s)" || fail "the run took $((t1 - t0)) s"

# Bad URIs: the run goes on and the warning says what to set.
for uri in "file:///tmp/mlruns" "not a url"; do
  MLFLOW_TRACKING_URI="$uri" run_lathe "$TMP/u" run --json --store "$TMP/s" "$TMP/p.json"
  expect_code "$TMP/u" 0 "MLFLOW_TRACKING_URI=$uri does not fail the run"
  expect_err "$TMP/u" "MLFLOW_TRACKING_URI is not an http(s) URL" "it says to set MLFLOW_TRACKING_URI"
done
# Something that is not MLflow (a login page): refused, saying what to check.
mkdir -p "$TMP/www/api/2.0/mlflow/experiments"
echo '<html><body>Please log in</body></html>' >"$TMP/www/api/2.0/mlflow/experiments/get-by-name"
$PY -c 'import http.server, socketserver, sys, os
os.chdir(sys.argv[1])
s = socketserver.TCPServer(("127.0.0.1", 0), http.server.SimpleHTTPRequestHandler)
open(sys.argv[2], "w").write(str(s.server_address[1]))
s.serve_forever()' "$TMP/www" "$TMP/www.port.tmp" 2>/dev/null &
www=$!
for _ in $(seq 1 50); do [ -s "$TMP/www.port.tmp" ] && break; sleep 0.1; done
MLFLOW_TRACKING_URI="http://127.0.0.1:$(cat "$TMP/www.port.tmp")" run_lathe "$TMP/h" run --json --store "$TMP/s" "$TMP/p.json"
kill "$www"; wait "$www" 2>/dev/null
expect_code "$TMP/h" 0 "a server that is not MLflow does not fail the run"
expect_err "$TMP/h" "not MLflow's JSON: check that MLFLOW_TRACKING_URI points at an MLflow tracking server" "it says the answer is not MLflow's"
finish
