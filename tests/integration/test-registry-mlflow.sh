#!/usr/bin/env bash
# registry/mlflow end to end, against the MLflow test server (tests/mlflow):
# examples/iris-ab with its registry node and its "registry" setting on
# registry/mlflow. evaluator/ab reads production back through the plugin,
# promotion moves the alias in MLflow, `lathe models` (list, rollback, show,
# unalias) works unchanged with --registry, every move is recorded with its
# reason, and a wrong token or a server that is down fail in one line.
source "$(dirname "$0")/lib.sh"
source "$LATHE_SOURCE_DIR/tests/mlflow/mlflow-env.sh"
trap 'mlflow_stop; rm -rf "$TMP"' EXIT
mlflow_start "$TMP/mlf" || { echo "FAIL - the MLflow test server did not start"; exit 1; }
unset MLFLOW_TRACKING_TOKEN MLFLOW_TRACKING_USERNAME MLFLOW_TRACKING_PASSWORD
# A server that is down must be reported quickly.
export LATHE_MLFLOW_TOTAL_TIMEOUT_MS=3000 LATHE_MLFLOW_BACKOFF_MS=50
copy_iris_ab
cd "$TMP/iris-ab"
registry_mlflow pipeline.json pipeline.json

M=(--registry registry/mlflow)
state() { curl -s "$MLFLOW_CONTROL_URL/state" >"$TMP/state.json"; }

before=none
moves=0          # alias moves so far, each must be in the history
declare -A acc   # version -> the accuracy its run measured on the test split
for variant in conservative shallow_wide deep_forest; do
  run_lathe "$TMP/$variant" run --json pipeline.json --preset "$variant"
  expect_code "$TMP/$variant" 0 "$variant run"
  promote=$(json_get "$TMP/$variant.out" "int(d['metrics']['ab.promote'])")
  after=$(production "${M[@]}")
  if [ "$before" = none ]; then
    expect_py "$TMP/$variant.out" "d['metrics']['ab.production_version'] == 0" \
      "$variant: no production in MLflow yet"
  else
    expect_py "$TMP/$variant.out" "d['metrics']['ab.production_version'] == $before" \
      "$variant: compared against production version $before, read from MLflow"
    # evaluator/ab scored the bytes registry/mlflow gave back: the same model
    # scores exactly what it scored when it was the candidate.
    expect_py "$TMP/$variant.out" "d['metrics']['ab.production_accuracy'] == ${acc[$before]}" \
      "$variant: production version $before scores as it did when registered"
  fi
  if [ "$promote" = 1 ]; then
    registered=$(json_get "$TMP/$variant.out" "int(d['metrics']['promote.version'])")
    acc[$registered]=$(json_get "$TMP/$variant.out" "repr(d['metrics']['ab.candidate_accuracy'])")
    [ "$after" = "$registered" ] && pass "$variant: promoted, production -> version $registered in MLflow" \
      || fail "$variant: promoted but production is $after, registered $registered"
    moves=$((moves + 1))
  else
    [ "$after" = "$before" ] && pass "$variant: kept, production stays at $before" \
      || fail "$variant: kept but production moved from $before to $after"
  fi
  before=$after
done
run_lathe "$TMP/weak" run --json pipeline.json --preset conservative --set model.n_estimators=1 --set model.max_depth=1
expect_code "$TMP/weak" 0 "weak run"
expect_py "$TMP/weak.out" "d['metrics']['ab.promote'] == 0" "a one-stump forest is kept"
[ "$(production "${M[@]}")" = "$before" ] && pass "weak run: production unchanged" || fail "weak run moved production"

# Nothing went to the embedded registry.
run_lathe "$TMP/local" models list --json
expect_py "$TMP/local.out" "d == []" "registry/local stays empty"

# The versions in MLflow: the model blob by content, tags for metrics, lineage, run.
state
expect_py "$TMP/state.json" "all(v['source'].startswith('mlflow-artifacts:/lathe/models/sha256/') and v.get('status') == 'READY' for v in d['registered_models']['iris']['versions'].values())" \
  "every version's source is the uploaded model artifact"
expect_py "$TMP/state.json" "all({'lathe.run_id', 'lathe.node', 'lathe.pipeline', 'lathe.data_versions', 'lathe.metric.candidate_accuracy', 'lathe.load.component'} <= {t['key'] for t in v['tags']} for v in d['registered_models']['iris']['versions'].values())" \
  "every version carries run, node, pipeline, data versions, metrics and what loads it as tags"
for f in "$TMP"/mlf/data/artifacts/lathe/models/sha256/*/model.lathe; do
  d=$(basename "$(dirname "$f")")
  [ "$(sha256sum "$f" | cut -d' ' -f1)" = "$d" ] && pass "blob $d matches its name" || fail "blob $d is damaged"
done
run_lathe "$TMP/sh" models show iris production --json "${M[@]}"
expect_code "$TMP/sh" 0 "show by alias"
expect_py "$TMP/sh.out" "d['version'] == $before and 'production' in d['aliases'] and d['metadata']['model_digest'] == d['digest'] and bool(d['metadata']['run_id'])" \
  "show gives production's version, digest and run from MLflow"

# Rollback through the history record, then undo it.
if [ "$moves" -ge 2 ]; then
  current=$(production "${M[@]}")
  run_lathe "$TMP/rb" models rollback iris --json "${M[@]}"
  expect_code "$TMP/rb" 0 "rollback"
  expect_py "$TMP/rb.out" "d['from'] == $current and d['alias'] == 'production'" "rollback reports where it came from"
  back=$(json_get "$TMP/rb.out" "d['version']")
  [ "$(production "${M[@]}")" = "$back" ] && [ "$back" != "$current" ] && pass "rollback moved production to $back in MLflow" \
    || fail "rollback: production is $(production "${M[@]}")"
  run_lathe "$TMP/rb2" models rollback iris "${M[@]}"
  expect_code "$TMP/rb2" 0 "second rollback"
  [ "$(production "${M[@]}")" = "$current" ] && pass "a second rollback undoes the first" || fail "second rollback: $(production "${M[@]}")"
  moves=$((moves + 2))
else
  fail "production moved only $moves time(s); rollback needs two"
fi
# Every move, in order, with its reason, in the registered model's tags.
state
expect_py "$TMP/state.json" "(lambda h: len(h) == $moves and [x['reason'] for x in h][-2:] == ['rollback', 'rollback'] and all(x['reason'] == 'promotion by evaluator/ab' and x['run_id'] and 'candidate_accuracy' in x['figures'] for x in h[:-2]) and all(h[i]['previous'] == h[i-1]['version'] for i in range(1, len(h))) and h[0]['previous'] is None)([json.loads(t['value']) for t in sorted(d['registered_models']['iris']['tags'], key=lambda t: t['key']) if t['key'].startswith('lathe.alias_history.production.')])" \
  "the history holds all $moves moves with their reasons, each from the previous one"

run_lathe "$TMP/hist" models history iris --alias production --json "${M[@]}"
expect_code "$TMP/hist" 0 "history through registry/mlflow"
expect_py "$TMP/hist.out" "len(d) == $moves and [h['reason'] for h in d][-2:] == ['rollback', 'rollback'] and all(h['user'] for h in d) and all(h['figures']['n_rows'] == 30 for h in d[:-2])" \
  "history gives every move with its reason, user and figures"
# The version's signature, reference statistics and load identity survive
# MLflow's tags (long values split into parts).
expect_py "$TMP/state.json" "all({'lathe.signature', 'lathe.reference', 'lathe.load'} <= {t['key'] for t in v['tags']} and all(len(t['value']) <= 5000 for t in v['tags']) for v in d['registered_models']['iris']['versions'].values())" \
  "every version carries its signature, reference and load tags, each within MLflow's limit"
run_lathe "$TMP/sh3" models show iris production --json "${M[@]}"
expect_py "$TMP/sh3.out" "(lambda m: len(m['signature']['columns']) == 4 and len(m['reference']['features']) == 4 and sum(m['reference']['classes'].values()) == 120 and len(m['load']['plugin_digest']) == 64)(d['metadata'])" \
  "show reads them back whole"
run_lathe "$TMP/pr" models promote iris production staging --json "${M[@]}"
expect_code "$TMP/pr" 0 "promote through registry/mlflow"
run_lathe "$TMP/hs" models history iris --alias staging --json "${M[@]}"
expect_py "$TMP/hs.out" "len(d) == 1 and d[0]['reason'] == 'promotion' and d[0]['figures'] == {'from_alias': 'production'}" \
  "the promotion is in staging's history"

# unalias: gone from MLflow; the history stays, so rollback still knows.
run_lathe "$TMP/ua" models unalias iris production --json "${M[@]}"
expect_code "$TMP/ua" 0 "unalias"
[ "$(production "${M[@]}")" = none ] && pass "production is gone in MLflow" || fail "production is still $(production "${M[@]}")"
run_lathe "$TMP/ua2" models unalias iris production "${M[@]}"
expect_code "$TMP/ua2" 2 "unalias of an alias not set"
expect_err "$TMP/ua2" "has no alias 'production'" "unalias names the missing alias"
run_lathe "$TMP/sh2" models show iris 9 "${M[@]}"
expect_code "$TMP/sh2" 2 "show of a missing version"
expect_err "$TMP/sh2" "has no version 9" "show names the missing version"

# A wrong token: one line naming the variable, never the token.
curl -s -X POST "$MLFLOW_CONTROL_URL/faults" -d '{"kind": "unauth", "count": -1}' >/dev/null
MLFLOW_TRACKING_TOKEN=tok-SECRET-9431 run_lathe "$TMP/auth" models list "${M[@]}"
curl -s -X DELETE "$MLFLOW_CONTROL_URL/faults" >/dev/null
expect_code "$TMP/auth" 1 "a refused token"
expect_err "$TMP/auth" "MLFLOW_TRACKING_TOKEN" "the 401 names the variable to fix"
[ "$(wc -l <"$TMP/auth.err")" -eq 1 ] && pass "the 401 is one line" || fail "the 401 took $(wc -l <"$TMP/auth.err") lines"
grep -q "tok-SECRET-9431" "$TMP/auth.err" "$TMP/auth.out" && fail "the token was printed" || pass "the token is not printed"

# The server down: the run fails (registration is part of its outcome), in one line.
cat >"$TMP/iris-ab/reg-only.json" <<'EOF'
{"lathe": 1, "name": "reg-only", "seed": 1,
 "nodes": [
  {"id": "data", "use": "source/csv", "with": {"path": "../iris/iris.csv", "label": "species"}},
  {"id": "model", "use": "model/forest", "in": {"train": "data"}, "with": {"n_estimators": 5}},
  {"id": "reg", "use": "registry/mlflow", "in": {"model": "model"}, "with": {"name": "iris2", "alias": "candidate"}, "cache": false}
 ]}
EOF
curl -s -X POST "$MLFLOW_CONTROL_URL/down" -d '{"seconds": 60, "mode": "refuse"}' >/dev/null
start=$(date +%s)
run_lathe "$TMP/down" run --json reg-only.json
took=$(( $(date +%s) - start ))
curl -s -X POST "$MLFLOW_CONTROL_URL/up" >/dev/null
expect_code "$TMP/down" 1 "a registration with the server down fails the run"
expect_py "$TMP/down.out" "d['status'] == 'failed' and [n['status'] for n in d['nodes'] if n['id'] == 'reg'] == ['failed']" \
  "the register node failed, and with it the run"
expect_py "$TMP/down.out" "(lambda e: e.startswith('registry/mlflow: ') and 'MLFLOW_TRACKING_URI' in e and '\\n' not in e)([n for n in d['nodes'] if n['id'] == 'reg'][0]['error'])" \
  "the failure is one line naming the registry and the variable to check"
[ "$took" -lt 30 ] && pass "reported in ${took}s" || fail "the run waited ${took}s for a server that is down"
run_lathe "$TMP/up" run --json reg-only.json
expect_code "$TMP/up" 0 "the same run once the server is back"
expect_py "$TMP/up.out" "d['metrics']['reg.version'] == 1" "registered as iris2 version 1"
finish
