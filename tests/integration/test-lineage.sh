#!/usr/bin/env bash
# `lathe lineage` (issue 12): from a registered model version, or a run's
# node, back through the executions and artifacts that made it, down to the
# data file and its SHA-256; the same leaves for a fully cached rerun; and
# one-line usage errors with exit 2.
source "$(dirname "$0")/lib.sh"
export LATHE_PLUGIN_PATH="$LATHE_TESTKIT_DIR:$LATHE_BUILD_DIR/plugins"
# The data sits under a folder whose name holds an escape sequence: the tree
# prints the path, escaped like every other command's terminal output.
DATA="$TMP/d"$'\e'"[31m"
mkdir -p "$DATA"
cp "$LATHE_SOURCE_DIR/examples/iris/pipeline.json" "$LATHE_SOURCE_DIR/examples/iris/iris.csv" "$DATA/"
csv_sha=$(sha256sum "$DATA/iris.csv" | cut -d' ' -f1)
cd "$DATA"

# leaves FILE: the data versions of a --json tree, "uri digest" sorted; and
# nodes FILE: every node it names.
PYTREE='
import json, sys
def walk(n, f):
    f(n)
    for c in n["inputs"]:
        walk(c, f)
d = json.load(open(sys.argv[2]))
out = set()
if sys.argv[1] == "leaves":
    walk(d, lambda n: out.update(v["uri"] + " " + v["digest"] for v in n["data_versions"]))
elif sys.argv[1] == "nodes":
    def add(n):
        e = n["execution"]
        if e:
            out.add(e["node"])
            if "trial" in e:
                out.add(e["trial"]["node"])
    walk(d, add)
elif sys.argv[1] == "runs":
    walk(d, lambda n: out.add("%s cached=%s" % (n["execution"]["run_id"], n["execution"]["cached"])))
print("\n".join(sorted(out)))
'
tree() { $PY -c "$PYTREE" "$@"; }

run_lathe "$TMP/r1" run --json pipeline.json
expect_code "$TMP/r1" 0 "iris runs"
run1=$(json_get "$TMP/r1.out" "d['run_id']")
expect_py "$TMP/r1.out" "d['metrics']['register.version'] == 1" "iris registers version 1 as candidate"

# MODEL@ALIAS and MODEL/VERSION: the same tree, down to the CSV.
run_lathe "$TMP/a" lineage iris@candidate
expect_code "$TMP/a" 0 "lineage iris@candidate"
run_lathe "$TMP/v" lineage iris/1
expect_code "$TMP/v" 0 "lineage iris/1"
cmp -s "$TMP/a.out" "$TMP/v.out" && pass "MODEL@ALIAS and MODEL/VERSION give the same tree" \
  || fail "the alias and version trees differ: $(diff "$TMP/a.out" "$TMP/v.out" | head -5)"
grep -q "^model iris/1 (sha256 " "$TMP/a.out" && pass "the root names the model version" \
  || fail "root line: $(head -1 "$TMP/a.out")"
grep -qF "iris.csv sha256 $csv_sha" "$TMP/a.out" && pass "the tree ends at the CSV with its SHA-256" \
  || fail "no 'iris.csv sha256 $csv_sha' in: $(cat "$TMP/a.out")"
for n in "run $run1/tune (tuner/grid" "trial tune/" "(model/logreg)" "<- holdout (transform/split" \
         "<- split (transform/split" "<- data (source/csv"; do
  grep -qF -- "$n" "$TMP/a.out" && pass "the tree names '$n'" || fail "the tree lacks '$n': $(cat "$TMP/a.out")"
done
if grep -q $'\e' "$TMP/a.out"; then fail "a raw escape byte reached the terminal"
else grep -qF 'd\x1b[31m/iris.csv' "$TMP/a.out" && pass "the data path is escaped" \
  || fail "escaped path missing: $(grep iris.csv "$TMP/a.out" | head -1)"; fi

# --json: the nested structure, parsed and checked.
run_lathe "$TMP/j" lineage --json iris@candidate
expect_code "$TMP/j" 0 "lineage --json"
expect_py "$TMP/j.out" "d['model']['name'] == 'iris' and d['model']['version'] == 1 and d['model']['run_id'] == '$run1'" "--json names the model version and its run"
expect_py "$TMP/j.out" "d['artifact']['type'] == 'model' and len(d['artifact']['digest']) == 64 and d['artifact']['port'] == 'model'" "--json root artifact {digest, type, port}"
expect_py "$TMP/j.out" "d['execution']['node'] == 'tune' and d['execution']['component'] == 'tuner/grid' and len(d['execution']['plugin_digest']) == 64 and d['execution']['cached'] is False and d['execution']['run_id'] == '$run1'" "--json root execution {run_id, node, component, plugin_digest, cached}"
expect_py "$TMP/j.out" "d['execution']['trial']['component'] == 'model/logreg' and d['execution']['trial']['node'].startswith('tune/')" "--json names the trial that trained the model"
model_digest=$(json_get "$TMP/j.out" "d['artifact']['digest']")
run_lathe "$TMP/ms" models show iris candidate --json
expect_py "$TMP/ms.out" "d['digest'] == '$model_digest'" "the root digest is the registered model's"
leaves=$(tree leaves "$TMP/j.out")
[ "$leaves" = "$DATA/iris.csv $csv_sha" ] && pass "--json leaves: the CSV and its SHA-256" \
  || fail "--json leaves: $leaves"
nodes=$(tree nodes "$TMP/j.out" | tr '\n' ' ')
for n in data split holdout tune; do
  case " $nodes " in *" $n "*) pass "--json names node $n" ;; *) fail "--json lacks node $n: $nodes" ;; esac
done

# RUN/NODE for an evaluator (a run-id prefix, as `runs show` takes), and
# RUN/NODE.PORT for its metrics output.
run_lathe "$TMP/e" lineage --json "${run1:0:4}/eval"
expect_code "$TMP/e" 0 "lineage RUN/NODE (run-id prefix)"
expect_py "$TMP/e.out" "d['artifact'] is None and d['execution']['node'] == 'eval' and d['execution']['component'] == 'evaluator/classification' and [o['port'] for o in d['outputs']] == ['metrics'] and d['outputs'][0]['type'] == 'metrics'" "RUN/NODE: rooted at the evaluator, listing its metrics output"
expect_py "$TMP/e.out" "sorted(c['artifact']['port'] for c in d['inputs']) == ['data', 'model'] and [c['execution']['node'] for c in d['inputs'] if c['artifact']['port'] == 'data'] == ['split']" "the evaluator read the model and split's test set"
[ "$(tree leaves "$TMP/e.out")" = "$DATA/iris.csv $csv_sha" ] && pass "the evaluator's leaves: the CSV" \
  || fail "evaluator leaves: $(tree leaves "$TMP/e.out")"
run_lathe "$TMP/ep" lineage --json "$run1/eval.metrics"
expect_code "$TMP/ep" 0 "lineage RUN/NODE.PORT"
expect_py "$TMP/ep.out" "d['artifact']['port'] == 'metrics' and d['artifact']['type'] == 'metrics' and d['artifact']['digest'] == [o['digest'] for o in d['outputs']][0]" "RUN/NODE.PORT: rooted at the metrics artifact"
run_lathe "$TMP/et" lineage "$run1/eval.metrics"
grep -q "^metrics: metrics .* <- run $run1/eval (evaluator/classification" "$TMP/et.out" \
  && pass "RUN/NODE.PORT tree root" || fail "RUN/NODE.PORT root: $(head -1 "$TMP/et.out")"

# A fully cached rerun: its own executions, cached, and the same leaves.
run_lathe "$TMP/r2" run --json pipeline.json
expect_code "$TMP/r2" 0 "the rerun"
run2=$(json_get "$TMP/r2.out" "d['run_id']")
expect_py "$TMP/r2.out" "all(n['status'] == 'cached' for n in d['nodes'])" "the rerun is fully cached"
run_lathe "$TMP/c1" lineage --json "$run1/register"
run_lathe "$TMP/c2" lineage --json "$run2/register"
expect_code "$TMP/c2" 0 "lineage of the cached register node"
[ -n "$(tree leaves "$TMP/c2.out")" ] && [ "$(tree leaves "$TMP/c1.out")" = "$(tree leaves "$TMP/c2.out")" ] \
  && pass "the cached rerun's register node has the same leaves" \
  || fail "leaves differ: '$(tree leaves "$TMP/c1.out")' vs '$(tree leaves "$TMP/c2.out")'"
[ "$(tree nodes "$TMP/c1.out")" = "$(tree nodes "$TMP/c2.out")" ] && pass "and names the same nodes" \
  || fail "nodes differ: $(tree nodes "$TMP/c1.out" | tr '\n' ' ') vs $(tree nodes "$TMP/c2.out" | tr '\n' ' ')"
[ "$(tree runs "$TMP/c2.out")" = "$run2 cached=True" ] && pass "every execution followed is the rerun's own, cached" \
  || fail "executions followed: $(tree runs "$TMP/c2.out" | tr '\n' ' ')"
expect_py "$TMP/c2.out" "d['inputs'][0]['execution']['original']['run_id'] == '$run1'" "a cached execution names the run that made its outputs"
run_lathe "$TMP/c2t" lineage "$run2/register"
grep -qF "cached from run $run1" "$TMP/c2t.out" && pass "the tree says where cached outputs came from" \
  || fail "no 'cached from run $run1': $(head -3 "$TMP/c2t.out")"

# Errors: one line, exit 2, a suggestion where one is near.
one_line() { # prefix what
  [ "$(wc -l <"$1.err")" = "1" ] && pass "$2: one line" || fail "$2: stderr is $(wc -l <"$1.err") lines: $(cat "$1.err")"
}
run_lathe "$TMP/x1" lineage iris@production
expect_code "$TMP/x1" 2 "unknown alias"
expect_err "$TMP/x1" "no alias 'production'" "unknown alias: says so"
one_line "$TMP/x1" "unknown alias"
run_lathe "$TMP/x2" lineage iris@candidat
expect_err "$TMP/x2" "did you mean 'candidate'?" "a misspelt alias gets a suggestion"
run_lathe "$TMP/x3" lineage irs/1
expect_code "$TMP/x3" 2 "unknown model"
expect_err "$TMP/x3" "did you mean 'iris'?" "a misspelt model gets a suggestion"
run_lathe "$TMP/x4" lineage iris/9
expect_code "$TMP/x4" 2 "unknown version"
one_line "$TMP/x4" "unknown version"
run_lathe "$TMP/x5" lineage "$run1/evl"
expect_code "$TMP/x5" 2 "unknown node"
expect_err "$TMP/x5" "did you mean 'eval'?" "a misspelt node gets a suggestion"
one_line "$TMP/x5" "unknown node"
run_lathe "$TMP/x6" lineage nosuchrun/eval
expect_code "$TMP/x6" 2 "unknown run"
one_line "$TMP/x6" "unknown run"
run_lathe "$TMP/x7" lineage "$run1/eval.nope"
expect_code "$TMP/x7" 2 "unknown output port"
expect_err "$TMP/x7" "(outputs: metrics)" "an unknown port lists the outputs"
run_lathe "$TMP/x8" lineage iris
expect_code "$TMP/x8" 2 "a reference of no known form"
run_lathe "$TMP/x9" lineage iris@candidate --store "$TMP/none"
expect_code "$TMP/x9" 2 "a missing store"
[ ! -e "$TMP/none" ] && pass "lineage creates no store" || fail "lineage created $TMP/none"

# Pass-through nodes output the digest they read: the walk follows the
# node that made it, and ends (no cycle through the pass-throughs).
cat >"$TMP/pass.json" <<'JSON'
{"nodes": [{"id": "first", "use": "transform/noop", "with": {"value": 4}},
  {"id": "a", "use": "transform/noop", "in": {"data": "first"}},
  {"id": "b", "use": "transform/noop", "in": {"data": "a"}}]}
JSON
run_lathe "$TMP/p" run --json --store "$TMP/ps" "$TMP/pass.json"
expect_code "$TMP/p" 0 "the pass-through pipeline runs"
prun=$(json_get "$TMP/p.out" "d['run_id']")
run_lathe "$TMP/pl" lineage --json --store "$TMP/ps" "$prun/b"
expect_code "$TMP/pl" 0 "lineage through pass-throughs ends"
expect_py "$TMP/pl.out" "d['execution']['node'] == 'b' and len(d['inputs']) == 1 and d['inputs'][0]['execution']['node'] == 'first' and d['inputs'][0]['inputs'] == []" "b's input is traced to the node that made it"
finish
