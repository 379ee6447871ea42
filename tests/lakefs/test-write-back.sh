#!/usr/bin/env bash
# sink/lakefs from the CLI (issue 12), against the lakeFS test server behind
# Prism: an iris pipeline (csv -> split -> logreg -> evaluator -> sink ->
# register) writes its test split, model and metrics to a new branch; the run
# store records the commit as the sink's data versions, the commit carries
# the run id, the registry's lineage names it; a rerun runs the sink again
# (never cached) and records the same commit ("no changes"); lathe reproduce
# after the branch moved writes nothing and finds every output identical;
# two sinks on one branch in parallel stay consistent; credentials in
# a pipeline and bad names are validation errors; wrong credentials fail the
# run in one line without the secret.
source "$LATHE_SOURCE_DIR/tests/integration/lib.sh"
source "$LATHE_SOURCE_DIR/tests/lakefs/lakefs-env.sh"
trap 'lakefs_stop; rm -rf "$TMP"' EXIT
export LATHE_PLUGIN_PATH="$LATHE_BUILD_DIR/plugins"
if ! lakefs_start "$TMP/lakefs"; then
  echo "Bail out! the lakeFS test server or Prism did not start"
  exit 1
fi
cp "$LATHE_SOURCE_DIR/examples/iris/iris.csv" "$TMP/"
cd "$TMP"
mkdir seed && echo "iris experiments" >seed/README.md
main_head=$(lakefs_import \
  --repository iris --create --message "seed" seed) && pass "repository iris with main at $main_head" \
  || fail "import: $main_head"

# api PATH: GET through the front (JSON through Prism), the body on stdout.
api() {
  $PY - "$LAKEFS_ENDPOINT$1" <<'PY'
import base64, os, sys, urllib.request
auth = base64.b64encode(("%s:%s" % (os.environ["LAKECTL_CREDENTIALS_ACCESS_KEY_ID"],
                                    os.environ["LAKECTL_CREDENTIALS_SECRET_ACCESS_KEY"])).encode())
req = urllib.request.Request(sys.argv[1], headers={"Authorization": "Basic " + auth.decode()})
sys.stdout.buffer.write(urllib.request.urlopen(req, timeout=10).read())
PY
}

cat >p.json <<'JSON'
{"lathe": 1, "name": "write-back", "seed": 3, "nodes": [
  {"id": "data", "use": "source/csv", "with": {"path": "iris.csv", "label": "species"}},
  {"id": "split", "use": "transform/split", "in": {"data": "data"}},
  {"id": "model", "use": "model/logreg", "in": {"train": "split.train"}},
  {"id": "eval", "use": "evaluator/classification", "in": {"model": "model", "data": "split.test"}},
  {"id": "sink", "use": "sink/lakefs",
   "in": {"data": "split.test", "model": "model", "metrics": "eval"},
   "with": {"repository": "iris", "branch": "exp-1", "path": "exp-1/", "tag": "exp-1-v1"}},
  {"id": "register", "use": "registry/local", "in": {"model": "model", "metrics": "eval"},
   "with": {"name": "iris", "alias": "candidate"}}
]}
JSON

run_lathe r1 run --json p.json
expect_code r1 0 "the pipeline writes back"
run1=$(json_get r1.out "d['run_id']")
expect_py r1.out "{n['id']: n['status'] for n in d['nodes']}['sink'] == 'succeeded'" "sink succeeded"
expect_err r1 "created branch exp-1 from main" "the branch was created from main"

run_lathe s1 runs show "$run1" --json
expect_code s1 0 "runs show"
commit=$(json_get s1.out "[n for n in d['nodes'] if n['id'] == 'sink'][0]['data_versions'][0]['uri'].split('/')[3]")
expect_py s1.out "sorted(v['uri'] for v in [n for n in d['nodes'] if n['id'] == 'sink'][0]['data_versions']) == sorted('lakefs://iris/$commit/exp-1/' + f for f in ('data.csv', 'model.model', 'metrics.json'))" \
  "runs show: the sink's data versions are lakefs://iris/COMMIT/exp-1/{data.csv,model.model,metrics.json}"
expect_py s1.out "[n for n in d['nodes'] if n['id'] == 'sink'][0]['cache'] == 'off'" "the sink is never cached (cache off)"

api "/repositories/iris/branches/exp-1" >b.json
expect_py b.json "d['commit_id'] == '$commit'" "branch exp-1 is at the recorded commit"
api "/repositories/iris/commits/$commit" >c.json
expect_py c.json "d['metadata'] == {'lathe_run_id': '$run1', 'pipeline': 'p.json', 'node': 'sink'} and d['parents'] == ['$main_head']" \
  "the commit's metadata: lathe_run_id, pipeline, node; its parent is main"
expect_py c.json "d['message'] == 'lathe: p.json sink'" "the default commit message"
api "/repositories/iris/tags/exp-1-v1" >t.json
expect_py t.json "d['commit_id'] == '$commit'" "the tag points at the commit"
api "/repositories/iris/refs/$commit/objects?path=exp-1/data.csv" >data.csv
if $PY -c "import sys; l = open('data.csv').read().splitlines(); sys.exit(not (l[0] == 'sepal_length,sepal_width,petal_length,petal_width,label' and len(l) == 31))"; then
  pass "data.csv: the header and the 30 test rows"
else
  fail "data.csv: $(head -c 300 data.csv)"
fi
api "/repositories/iris/refs/$commit/objects?path=exp-1/metrics.json" >metrics.json
expect_py metrics.json "d['accuracy'] == $(json_get r1.out "d['metrics']['eval.accuracy']")" "metrics.json holds the evaluation"

# The written CSV is a dataset again: source/csv reads it back.
cat >back.json <<'JSON'
{"lathe": 1, "nodes": [{"id": "back", "use": "source/csv", "with": {"path": "data.csv", "label": "label"}}]}
JSON
run_lathe back run --json back.json
expect_code back 0 "source/csv reads the written CSV back"

run_lathe lm models list --json
expect_code lm 0 "models list"
if grep -q "lakefs://iris/$commit/exp-1/model.model" lm.out; then
  pass "the registry's lineage of iris v1 holds the sink's commit"
else
  fail "models list --json lacks lakefs://iris/$commit/...: $(head -c 600 lm.out)"
fi

# Rerun: every other node is cached, the sink runs again; the same bytes
# are no change in lakeFS, so the head is recorded and no commit is made.
run_lathe r2 run --json p.json
expect_code r2 0 "rerun"
st=$(json_get r2.out "' '.join(n['id'] + '=' + n['status'] for n in d['nodes'])")
[ "$st" = "data=cached split=cached model=cached eval=cached sink=succeeded register=cached" ] \
  && pass "rerun: the sink runs again, the rest is cached" || fail "rerun: $st"
expect_err r2 "no changes" "rerun: lakeFS found no changes, said so"
run2=$(json_get r2.out "d['run_id']")
run_lathe s2 runs show "$run2" --json
expect_py s2.out "all('/$commit/' in v['uri'] for v in [n for n in d['nodes'] if n['id'] == 'sink'][0]['data_versions'])" \
  "rerun: the same commit is recorded"
api "/repositories/iris/branches/exp-1" >b2.json
expect_py b2.json "d['commit_id'] == '$commit'" "rerun: no new commit"

# lathe reproduce of the first run, after exp-1 has moved on: the sink
# writes nothing (no upload, no commit), checks the recorded commit byte for
# byte, and its output is the original's.
mkdir later && echo "a later change" >later/NOTE.md
lakefs_import \
  --repository iris --branch exp-1 --message "later" later >later.id
api "/repositories/iris/branches/exp-1" >b3.json
expect_py b3.json "d['commit_id'] == '$(cat later.id)' != '$commit'" "exp-1 moved on to a later commit"
run_lathe rep reproduce --json "$run1"
expect_code rep 0 "reproduce the write-back run"
expect_py rep.out "d['identical'] and [r['identical'] for r in d['outputs'] if r['node'] == 'sink' and r['output'] == 'commit'] == [True]" \
  "reproduce: every output identical, the sink's commit output included"
expect_err rep "match, byte for byte; nothing written" "reproduce: the sink checked the recorded commit"
api "/repositories/iris/branches/exp-1" >b4.json
expect_py b4.json "d['commit_id'] == '$(cat later.id)'" "reproduce: no commit on exp-1"

# Two sinks on one branch at once: whichever commits first takes the other's
# staged objects, and the other then finds no changes and records that
# commit; either way every recorded version is at a commit that holds it.
cat >two.json <<'JSON'
{"lathe": 1, "name": "two-sinks", "seed": 3, "nodes": [
  {"id": "data", "use": "source/csv", "with": {"path": "iris.csv", "label": "species"}},
  {"id": "split", "use": "transform/split", "in": {"data": "data"}},
  {"id": "model", "use": "model/logreg", "in": {"train": "split.train"}},
  {"id": "eval", "use": "evaluator/classification", "in": {"model": "model", "data": "split.test"}},
  {"id": "a", "use": "sink/lakefs", "in": {"data": "split.train", "metrics": "eval"},
   "with": {"repository": "iris", "branch": "shared"}},
  {"id": "b", "use": "sink/lakefs", "in": {"data": "split.test", "model": "model"},
   "with": {"repository": "iris", "branch": "shared"}}
]}
JSON
run_lathe two run --json -j 2 two.json
expect_code two 0 "two sinks on one branch in parallel"
run_lathe stwo runs show "$(json_get two.out "d['run_id']")" --json
json_get stwo.out "'\\n'.join(v['uri'] + ' ' + v['digest'] for n in d['nodes'] if n['id'] in ('a', 'b') for v in n['data_versions'])" >two.versions
n_ok=0
while read -r uri digest; do
  rest=${uri#lakefs://iris/}; c=${rest%%/*}; path=${rest#*/}
  got=$(api "/repositories/iris/refs/$c/objects/stat?path=$path" | $PY -c "import json,sys; print(json.load(sys.stdin)['checksum'])")
  [ "$got" = "$digest" ] && n_ok=$((n_ok + 1))
done <two.versions
[ "$n_ok" = 4 ] && pass "both sinks' 4 versions are at commits holding those bytes" \
  || fail "$n_ok of 4 versions hold: $(cat two.versions)"

# Credentials never in a pipeline; lakeFS's names: validation errors (exit 2).
sed 's/"tag": "exp-1-v1"/"secret_access_key": "hunter2-in-file"/' p.json >secret.json
run_lathe v1 validate secret.json
expect_code v1 2 "a secret in the pipeline"
expect_err v1 "credentials never go in a pipeline: set LAKECTL_CREDENTIALS_ACCESS_KEY_ID and LAKECTL_CREDENTIALS_SECRET_ACCESS_KEY or ~/.lakectl.yaml" \
  "the refusal says where credentials go"
if grep -q hunter2 v1.out v1.err; then fail "the secret was printed"; else pass "the secret is never printed"; fi
sed 's/"branch": "exp-1"/"branch": "exp\/1"/' p.json >badname.json
run_lathe v2 validate badname.json
expect_code v2 2 "a branch name lakeFS refuses"
expect_err v2 "branch name" "the refusal names the rule"

# Wrong credentials: the run fails (exit 1) in one line, without the secret.
LAKECTL_CREDENTIALS_SECRET_ACCESS_KEY=wrong-secret-value "$LATHE_BIN" run --json p.json >w.out 2>w.err
echo $? >w.code
expect_code w 1 "wrong credentials"
expect_py w.out "'401' in [n for n in d['nodes'] if n['id'] == 'sink'][0]['error'] and '\n' not in [n for n in d['nodes'] if n['id'] == 'sink'][0]['error']" \
  "the sink's error is one line with the 401"
if grep -q wrong-secret-value w.out w.err; then fail "the secret was printed"; else pass "the wrong secret is never printed"; fi
finish
