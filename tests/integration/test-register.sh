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
# Signatures (issue 14): a model taking other inputs may not take over
# `candidate` unless allowed; nothing is registered when it is refused.
cut -d, -f2- iris.csv >iris3.csv
sigpipe() { # FILE CSV EXTRA_WITH
  cat >"$1" <<JSON
{"lathe": 1, "name": "sig", "seed": 3, "nodes": [
  {"id": "data", "use": "source/csv", "with": {"path": "$2", "label": "species"}},
  {"id": "split", "use": "transform/split", "in": {"data": "data"}},
  {"id": "model", "use": "model/logreg", "in": {"train": "split.train"}},
  {"id": "register", "use": "registry/local", "in": {"model": "model", "reference": "split.train"},
   "with": {"name": "iris", "alias": "candidate"$3}}
]}
JSON
}
sigpipe sig3.json iris3.csv ""
run_lathe "$TMP/s1" run sig3.json
expect_code "$TMP/s1" 1 "a model with three inputs may not take over candidate"
cp "$TMP/s1.out" "$TMP/s1o.err" # the run's table holds the node's error
expect_err "$TMP/s1o" "iris@candidate points at version 2, which takes 4 columns (sepal_length, sepal_width, petal_length, petal_width); the new model takes 3 columns (sepal_width, petal_length, petal_width)" \
  "the refusal names the alias and both signatures"
expect_err "$TMP/s1o" "allow the change with the register node param allow_signature_change" "and the param that allows it"
run_lathe "$TMP/m4" models list --json
expect_py "$TMP/m4.out" "len(d) == 2" "the refused model registered nothing"
sigpipe sig3ok.json iris3.csv ', "allow_signature_change": true'
run_lathe "$TMP/s2" run --json sig3ok.json
expect_code "$TMP/s2" 0 "allow_signature_change registers it"
expect_py "$TMP/s2.out" "d['metrics']['register.version'] == 3" "as version 3"
run_lathe "$TMP/sh3" models show iris candidate --json
expect_py "$TMP/sh3.out" "d['metadata']['signature']['columns'] == ['sepal_width', 'petal_length', 'petal_width'] and [f['name'] for f in d['metadata']['reference']['features']] == ['sepal_width', 'petal_length', 'petal_width']" \
  "version 3 records its signature and reference statistics"

# The CLI: alias and promote check signatures too; history tells every move.
run_lathe "$TMP/a1" models alias iris production 2 --json
expect_code "$TMP/a1" 0 "alias production -> 2"
run_lathe "$TMP/p1" models promote iris candidate production
expect_code "$TMP/p1" 2 "promote refuses a signature change"
expect_err "$TMP/p1" "iris@production points at version 2, which takes 4 columns" "promote names the alias"
expect_err "$TMP/p1" "--allow-signature-change" "promote names the flag"
run_lathe "$TMP/a2" models alias iris production 3
expect_code "$TMP/a2" 2 "alias refuses a signature change"
run_lathe "$TMP/p2" models promote iris candidate production --allow-signature-change --json
expect_code "$TMP/p2" 0 "promote with --allow-signature-change"
expect_py "$TMP/p2.out" "d == {'name': 'iris', 'from': 'candidate', 'alias': 'production', 'version': 3}" "promote reports the move"
run_lathe "$TMP/h1" models history iris --alias production --json
expect_py "$TMP/h1.out" "[(h['reason'], h['previous_version'], h['version']) for h in d] == [('manual', None, 2), ('promotion', 2, 3)] and d[1]['figures'] == {'from_alias': 'candidate'} and all(h['user'] for h in d)" \
  "history: the manual move, then the promotion"
run_lathe "$TMP/h2" models history iris --json
expect_py "$TMP/h2.out" "[h['reason'] for h in d if h['alias'] == 'candidate'] == ['register', 'register', 'register'] and all(h['run_id'] for h in d if h['alias'] == 'candidate')" \
  "history: candidate moved by each registering run, with its run id"
run_lathe "$TMP/h3" models history nosuch
expect_code "$TMP/h3" 2 "history of an unknown model"
expect_err "$TMP/h3" "no model named 'nosuch'" "names the unknown model"
run_lathe "$TMP/p3" models promote iris staging production
expect_code "$TMP/p3" 2 "promote from an alias not set"
expect_err "$TMP/p3" "has no alias 'staging'" "names the missing alias"
run_lathe "$TMP/p4" models promote iris production production
expect_code "$TMP/p4" 2 "promote onto itself"
run_lathe "$TMP/d1" models delete-alias iris production --json
expect_code "$TMP/d1" 0 "delete-alias"
expect_py "$TMP/d1.out" "d['deleted'] is True" "delete-alias reports it"
run_lathe "$TMP/d2" models delete-alias iris production
expect_code "$TMP/d2" 2 "delete-alias of an alias not set"
run_lathe "$TMP/x1" models list --allow-signature-change
expect_code "$TMP/x1" 2 "--allow-signature-change outside alias and promote"
finish
