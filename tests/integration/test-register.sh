#!/usr/bin/env bash
# An alias never moves in a run that fails (issue 11): the register node runs
# after every other node of the run, and only when none failed. Before, a
# run whose unrelated branch failed registered a new version and moved
# `candidate`, because the register node's own inputs had succeeded.
source "$(dirname "$0")/lib.sh"
export LATHE_PLUGIN_PATH="$LATHE_TESTKIT_DIR:$LATHE_BUILD_DIR/plugins"
cp "$LATHE_SOURCE_DIR/examples/iris/iris.csv" "$TMP/"
cd "$TMP"

# pipeline FILE L2 BRANCH: iris, a model, its evaluation, a register node
# moving `candidate`, and BRANCH (extra nodes, JSON) that reads nothing of them.
pipeline() {
  cat >"$1" <<JSON
{"lathe": 1, "name": "reg", "seed": 3, "nodes": [
  {"id": "data", "use": "source/csv", "with": {"path": "iris.csv", "label": "species"}},
  {"id": "split", "use": "transform/split", "in": {"data": "data"}},
  {"id": "model", "use": "model/logreg", "in": {"train": "split.train"}, "with": {"l2": $2}},
  {"id": "eval", "use": "evaluator/classification", "in": {"model": "model", "data": "split.test"}},
  {"id": "register", "use": "registry/local", "in": {"model": "model", "metrics": "eval"},
   "with": {"name": "iris", "alias": "candidate"}}$3
]}
JSON
}

pipeline ok.json 0.01 ""
run_lathe "$TMP/r1" run --json ok.json
expect_code "$TMP/r1" 0 "a run that succeeds"
expect_py "$TMP/r1.out" "d['metrics']['register.version'] == 1" "registers version 1"

# The failing branch is independent of the register node, and quick: it
# fails while the model trains.
pipeline bad.json 0.1 ',
  {"id": "boom", "use": "transform/fail", "with": {"message": "unrelated branch broke"}},
  {"id": "after", "use": "transform/noop", "in": {"data": "boom"}}'
run_lathe "$TMP/r2" run --json bad.json
expect_code "$TMP/r2" 1 "a run with a failed branch fails"
expect_py "$TMP/r2.out" "(lambda n: n['model']['status'] != 'failed' and n['eval']['status'] != 'failed' and n['boom']['status'] == 'failed')({x['id']: x for x in d['nodes']})" "the register node's own inputs succeeded"
expect_py "$TMP/r2.out" "(lambda r: r['status'] == 'skipped' and 'a node of the run failed' in r['error'])([x for x in d['nodes'] if x['id'] == 'register'][0])" "the register node is skipped, saying why"
expect_py "$TMP/r2.out" "'register.version' not in d['metrics']" "no version reported"
run_lathe "$TMP/m" models list --json
expect_code "$TMP/m" 0 "models list"
expect_py "$TMP/m.out" "len(d) == 1 and d[0]['version'] == 1 and d[0]['aliases'] == ['candidate']" "no new version; candidate still on version 1"

# A register node waits for the whole run, not only its inputs: it is the
# last to start even when nothing fails.
pipeline slow.json 0.2 ',
  {"id": "nap", "use": "transform/sleep", "with": {"seconds": 0.5}}'
run_lathe "$TMP/r3" run --json --jobs 4 slow.json
expect_code "$TMP/r3" 0 "a run with a slow unrelated branch"
run3=$(json_get "$TMP/r3.out" "d['run_id']")
run_lathe "$TMP/s3" runs show --json "$run3"
expect_py "$TMP/s3.out" "(lambda n: n['register']['started'] >= n['nap']['ended'])({x['id']: x for x in d['nodes']})" "register starts after the unrelated branch ended"
run_lathe "$TMP/m3" models list --json
expect_py "$TMP/m3.out" "len(d) == 2 and [v['aliases'] for v in d if v['version'] == 2] == [['candidate']]" "then version 2 is registered and candidate moves"
finish
