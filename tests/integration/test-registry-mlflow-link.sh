#!/usr/bin/env bash
# The registered version linked to the run people read in MLflow (issue 13):
# with tracker/mlflow and registry/mlflow on one MLflow test server, the model
# version's run_id is the MLflow run that holds the run's metrics (read from
# the server's state, not from Lathe's output); registry/local keeps the
# trackers' run ids in the version's metadata; a tracker that cannot start
# the run (runs/create refused with 503, or the server down) costs the
# registration only its link: exit 0, one warning line, no wait.
source "$(dirname "$0")/lib.sh"
source "$LATHE_SOURCE_DIR/tests/mlflow/mlflow-env.sh"
trap 'mlflow_stop; rm -rf "$TMP"' EXIT
unset MLFLOW_TRACKING_TOKEN MLFLOW_TRACKING_USERNAME MLFLOW_TRACKING_PASSWORD MLFLOW_EXPERIMENT_NAME LATHE_TRACKER
export LATHE_MLFLOW_CONNECT_TIMEOUT_MS=1000 LATHE_MLFLOW_TOTAL_TIMEOUT_MS=3000 LATHE_MLFLOW_BACKOFF_MS=50
# A working tracker has the run long before the register node on any
# machine; the cases where it cannot must not sit out this bound either.
export LATHE_TRACKER_FLUSH_MS=30000
mlflow_start "$TMP/mlf" || { fail "the MLflow test server did not start"; finish; }
cp -r "$LATHE_SOURCE_DIR/examples/iris" "$TMP/iris"
rm -rf "$TMP/iris/.lathe"
cd "$TMP/iris"
# examples/iris (a study whose trials are nested runs, then eval and register)
# registering into MLflow.
registry_mlflow pipeline.json mlflow.json
state() { curl -s "$MLFLOW_CONTROL_URL/state" >"$TMP/$1.json"; }
# linked STATE MODEL VERSION LATHE_RUN: the version's run_id is the MLflow run
# tagged with LATHE_RUN, top level (not a trial), holding eval.accuracy as the
# run measured it ($acc).
linked() {
  $PY - "$@" <<'EOF'
import json, sys
d = json.load(open(sys.argv[1]))
v = d['registered_models'][sys.argv[2]]['versions'][sys.argv[3]]
rid = v.get('run_id')
run = d['tracking']['runs'].get(rid or '')
tags = {t['key']: t['value'] for t in v['tags']}
ok = (run is not None and run['tags'].get('lathe.run_id') == sys.argv[4]
      and 'mlflow.parentRunId' not in run['tags']
      and any(m['key'] == 'eval.accuracy' and m['value'] == float(sys.argv[5]) for m in run['metrics'])
      and tags.get('lathe.run_id') == sys.argv[4]
      and json.loads(tags['lathe.tracker_runs'])['tracker/mlflow'] == rid)
print(ok, rid)
EOF
}

# a. Both on the server: the version links the run, as MLflow shows it.
run_lathe "$TMP/up" run --json --store "$TMP/s1" --tracker mlflow mlflow.json
expect_code "$TMP/up" 0 "iris with tracker/mlflow and registry/mlflow"
lathe_run=$(json_get "$TMP/up.out" "d['run_id']")
acc=$(json_get "$TMP/up.out" "repr(d['metrics']['eval.accuracy'])")
expect_py "$TMP/up.out" "d['metrics']['register.version'] == 1" "registered as iris version 1"
state st1
read -r ok rid < <(linked "$TMP/st1.json" iris 1 "$lathe_run" "$acc")
[ "$ok" = True ] && pass "version 1's run_id is the MLflow run ($rid) tagged with the Lathe run and holding its eval.accuracy" \
  || fail "version 1 is not linked to the run's MLflow run: run_id $rid"
expect_py "$TMP/st1.json" "sum(1 for r in d['tracking']['runs'].values() if r['tags'].get('lathe.run_id') == '$lathe_run') == 1" \
  "the run is in MLflow once"
grep -q "has not started run" "$TMP/up.err" && fail "a warning about the link: $(cat "$TMP/up.err")" \
  || pass "no warning when the link is made"
run_lathe "$TMP/show" models show iris 1 --json --store "$TMP/s1" --registry registry/mlflow
expect_py "$TMP/show.out" "d['mlflow_run_id'] == '$rid' and d['metadata']['tracker_runs'] == {'tracker/mlflow': '$rid'}" \
  "models show: the version's MLflow run and the trackers' run ids"

# b. registry/local keeps the trackers' run ids too (two trackers at once).
run_lathe "$TMP/loc" run --json --store "$TMP/s2" --tracker sqlite --tracker mlflow pipeline.json
expect_code "$TMP/loc" 0 "iris with both trackers and registry/local"
loc_run=$(json_get "$TMP/loc.out" "d['run_id']")
loc_acc=$(json_get "$TMP/loc.out" "repr(d['metrics']['eval.accuracy'])")
run_lathe "$TMP/lshow" models show iris 1 --json --store "$TMP/s2"
expect_code "$TMP/lshow" 0 "models show in registry/local"
state st2
loc_rid=$(json_get "$TMP/lshow.out" "d['metadata']['tracker_runs']['tracker/mlflow']")
expect_py "$TMP/st2.json" "d['tracking']['runs']['$loc_rid']['tags']['lathe.run_id'] == '$loc_run' and any(m['key'] == 'eval.accuracy' and m['value'] == $loc_acc for m in d['tracking']['runs']['$loc_rid']['metrics'])" \
  "registry/local: tracker/mlflow's run id in the metadata is the MLflow run holding the metrics"
expect_py "$TMP/lshow.out" "set(d['metadata']['tracker_runs']) == {'tracker/sqlite', 'tracker/mlflow'} and d['metadata']['run_id'] == '$loc_run'" \
  "registry/local: both trackers' run ids, and Lathe's"

# c. The tracker cannot start the run (runs/create answers 503): the version
# is registered unlinked, at once, with one warning line.
curl -s -X POST "$MLFLOW_CONTROL_URL/faults" -d '{"kind": "fail", "status": 503, "count": -1, "match": "^createRun$"}' >/dev/null
start=$(date +%s)
LATHE_MLFLOW_MAX_ATTEMPTS=1 run_lathe "$TMP/nr" run --json --store "$TMP/s3" --tracker mlflow mlflow.json
took=$(( $(date +%s) - start ))
curl -s -X DELETE "$MLFLOW_CONTROL_URL/faults" >/dev/null
expect_code "$TMP/nr" 0 "runs/create refused: the run still succeeds"
nr_run=$(json_get "$TMP/nr.out" "d['run_id']")
expect_py "$TMP/nr.out" "d['metrics']['register.version'] == 2" "registered as iris version 2"
state st3
expect_py "$TMP/st3.json" "'run_id' not in d['registered_models']['iris']['versions']['2'] and {t['key']: t['value'] for t in d['registered_models']['iris']['versions']['2']['tags']}['lathe.run_id'] == '$nr_run'" \
  "version 2 has no run_id, and its lathe.run_id tag names the Lathe run"
[ "$(grep -c "has not started run $nr_run" "$TMP/nr.err")" = 1 ] && pass "one line says the version is not linked" \
  || fail "no single line about the missing link: $(cat "$TMP/nr.err")"
expect_err "$TMP/nr" "warning: [register] tracker/mlflow has not started run" "the line names the node and the tracker"
[ "$took" -lt 20 ] && pass "no wait for a tracker that cannot start the run (${took}s)" \
  || fail "the run took ${took}s: it waited for a tracker out of reach"

# d. The tracker's server down, registry/local: registered without the link.
port=$($PY -c "import socket; s = socket.socket(); s.bind(('127.0.0.1', 0)); print(s.getsockname()[1])")
start=$(date +%s)
MLFLOW_TRACKING_URI="http://127.0.0.1:$port" run_lathe "$TMP/dn" run --json --store "$TMP/s4" --tracker mlflow pipeline.json
took=$(( $(date +%s) - start ))
expect_code "$TMP/dn" 0 "tracker/mlflow's server down: the run still succeeds"
run_lathe "$TMP/dshow" models show iris 1 --json --store "$TMP/s4"
expect_py "$TMP/dshow.out" "'tracker_runs' not in d['metadata'] and d['metadata']['run_id'] == '$(json_get "$TMP/dn.out" "d['run_id']")'" \
  "registered in registry/local without tracker run ids"
expect_err "$TMP/dn" "tracker/mlflow has not started run" "the missing link is said"
[ "$took" -lt 20 ] && pass "no wait for a server that is down (${took}s)" || fail "the run took ${took}s with the server down"
finish
