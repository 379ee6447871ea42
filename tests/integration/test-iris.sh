#!/usr/bin/env bash
# The iris example end to end: accuracy, registration under a `when`
# condition, lineage in the run store, the models and runs commands, and the
# tracker.
source "$(dirname "$0")/lib.sh"
cp -r "$LATHE_SOURCE_DIR/examples/iris" "$TMP/iris"
rm -rf "$TMP/iris/.lathe"
cd "$TMP/iris"
run_lathe "$TMP/r" run --json pipeline.json
expect_code "$TMP/r" 0 "iris pipeline"
expect_py "$TMP/r.out" "d['status'] == 'succeeded' and d['metrics']['eval.accuracy'] >= 0.9" "held-out accuracy >= 0.9"
expect_py "$TMP/r.out" "d['metrics']['tune.n_trials'] == 5 and d['metrics']['tune.n_failed'] == 0" "grid ran 5 trials"
expect_py "$TMP/r.out" "sum(1 for n in d['nodes'] if n['id'].startswith('tune/')) == 10" "each trial's nodes are nodes of the run"
expect_py "$TMP/r.out" "d['metrics']['register.version'] == 1" "registered as version 1"

run_lathe "$TMP/m" models list --json
expect_code "$TMP/m" 0 "models list"
expect_py "$TMP/m.out" "d[0]['name'] == 'iris' and d[0]['version'] == 1 and d[0]['aliases'] == ['candidate']" "iris v1 has alias candidate"
run_id=$(json_get "$TMP/r.out" "d['run_id']")
expect_py "$TMP/m.out" "d[0]['metadata']['run_id'] == '$run_id' and d[0]['metadata']['metrics']['accuracy'] >= 0.9" "the version records its run and metrics"
sha=$(sha256sum iris.csv | cut -d' ' -f1)
expect_py "$TMP/m.out" "any(v['digest'] == '$sha' for v in d[0]['metadata']['data_versions'])" "the version records the data's SHA-256"
run_lathe "$TMP/a" models alias iris production 1
expect_code "$TMP/a" 0 "models alias"
run_lathe "$TMP/m2" models list --json
expect_py "$TMP/m2.out" "sorted(d[0]['aliases']) == ['candidate', 'production']" "alias production set"
run_lathe "$TMP/a2" models alias iris production 7
expect_code "$TMP/a2" 2 "alias to a missing version"

run_lathe "$TMP/s" runs show --json "$run_id"
expect_code "$TMP/s" 0 "runs show"
expect_py "$TMP/s.out" "(lambda n: n['data']['data_versions'][0]['digest'] == '$sha' and len(n['data']['outputs']['data']) == 64 and n['eval']['inputs']['model'] == n['tune']['outputs']['model'] and n['eval']['metrics']['accuracy'] >= 0.9 and n['tune/0/model']['params']['l2'] == 0.0001 and n['data']['cache'] == 'miss')({x['id']: x for x in d['nodes']})" "runs show: data versions, digests, params, metrics, lineage"
expect_py "$TMP/s.out" "(lambda r: len(r) > 3 and all(x['name'] == 'loss' for x in r) and [x['step'] for x in r] == sorted(x['step'] for x in r))([x for x in d['nodes'] if x['id'] == 'tune/0/model'][0]['reports'])" "per-step reports (loss) are recorded with their steps"
run_lathe "$TMP/rl" runs list --json
expect_py "$TMP/rl.out" "len(d) == 1 and d[0]['run_id'] == '$run_id' and d[0]['status'] == 'succeeded'" "runs list"
run_lathe "$TMP/sh" runs show "$run_id"
grep -q "tune/4/model" "$TMP/sh.out" && pass "runs show (text) lists trial nodes" || fail "runs show text"

n=$(sqlite3 .lathe/tracking.db "SELECT count(*) FROM metrics WHERE key = 'eval.accuracy' AND run_uuid = '$run_id'")
[ "$n" = "1" ] && pass "tracker recorded eval.accuracy" || fail "tracker has $n eval.accuracy rows"
n=$(sqlite3 .lathe/tracking.db "SELECT count(*) FROM metrics m JOIN tags t ON t.run_uuid = m.run_uuid AND t.key = 'mlflow.parentRunId' AND t.value = '$run_id' WHERE m.key = 'eval.accuracy'")
[ "$n" = "5" ] && pass "each of the 5 trials is a child run with its own eval.accuracy" || fail "child runs have $n eval.accuracy rows"
finish
