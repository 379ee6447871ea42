#!/usr/bin/env bash
# Every validation problem, each with its message and exit code 2, and all of
# them reported together.
source "$(dirname "$0")/lib.sh"
export LATHE_PLUGIN_PATH="$LATHE_TESTKIT_DIR"

printf '{"lathe": 1,\n "nodes": [\n  {"id": "a", "use": "transform/noop",}\n ]}\n' >"$TMP/syntax.json"
run_lathe "$TMP/r" validate "$TMP/syntax.json"
expect_code "$TMP/r" 2 "JSON syntax error"
expect_err "$TMP/r" "$TMP/syntax.json:3:" "JSON syntax error names file:line"

write_pipeline "$TMP/bad.json" <<'JSON'
{"lathe": 1, "seed": 3, "nodes": [
  {"id": "a", "use": "transform/noop"},
  {"id": "a", "use": "transform/noop"},
  {"id": "b", "use": "transfrom/noop"},
  {"id": "c", "use": "transform/sleep", "with": {"secnds": 1}},
  {"id": "d", "use": "transform/sleep", "with": {"seconds": "long"}},
  {"id": "e", "use": "transform/sleep", "with": {"seconds": -5}},
  {"id": "f", "use": "transform/noop", "in": {"data": "splt"}},
  {"id": "g", "use": "transform/noop", "in": {"data": "a.model"}},
  {"id": "h", "use": "evaluator/classification", "in": {"data": "a"}},
  {"id": "i", "use": "evaluator/classification", "in": {"model": "a", "data": "a"}},
  {"id": "x", "use": "transform/noop", "in": {"data": "y"}},
  {"id": "y", "use": "transform/noop", "in": {"data": "z"}},
  {"id": "z", "use": "transform/noop", "in": {"data": "x"}}
]}
JSON
run_lathe "$TMP/r" validate "$TMP/bad.json"
expect_code "$TMP/r" 2 "invalid pipeline"
expect_err "$TMP/r" "/nodes/1/id: duplicate node id 'a'" "duplicate id"
expect_err "$TMP/r" "/nodes/2/use: unknown plugin component 'transfrom/noop' (did you mean 'transform/noop'?)" "unknown plugin with did-you-mean"
expect_err "$TMP/r" "/nodes/3/with/secnds: unknown param 'secnds' for transform/sleep (did you mean 'seconds'?)" "unknown param with did-you-mean"
expect_err "$TMP/r" "/nodes/4/with/seconds: param 'seconds' of transform/sleep: expected float, got a string" "wrong type"
expect_err "$TMP/r" "/nodes/5/with/seconds: param 'seconds' of transform/sleep: -5 is out of bounds [0, 3600]" "out of bounds"
expect_err "$TMP/r" "/nodes/6/in/data: unknown node 'splt'" "unknown input node"
expect_err "$TMP/r" "/nodes/7/in/data: node 'a' (transform/noop) has no output 'model'" "unknown output"
expect_err "$TMP/r" "/nodes/8: node 'h' (evaluator/classification) needs input 'model' (model)" "missing required input"
expect_err "$TMP/r" "/nodes/9/in/model: input 'model' takes a model but a.data gives a dataset" "type mismatch"
expect_err "$TMP/r" "cycle: " "cycle detected"
if grep -qE "cycle: (z -> y -> x -> z|y -> x -> z -> y|x -> z -> y -> x);" "$TMP/r.err"; then pass "cycle names its nodes"; else fail "cycle names its nodes: $(grep cycle "$TMP/r.err")"; fi
n=$(grep -c "bad.json: /" "$TMP/r.err")
[ "$n" -ge 10 ] && pass "every problem reported ($n lines)" || fail "only $n problems reported"

run_lathe "$TMP/j" validate --json "$TMP/bad.json"
expect_code "$TMP/j" 2 "validate --json on invalid"
expect_py "$TMP/j.out" "d['valid'] is False and len(d['problems']) >= 10 and all(p['pointer'] for p in d['problems'])" "--json lists problems with pointers"

write_pipeline "$TMP/when.json" <<'JSON'
{"nodes": [{"id": "a", "use": "transform/metric"},
  {"id": "b", "use": "transform/noop", "in": {"data": "a"}, "when": "a.value >> 3"},
  {"id": "c", "use": "transform/noop", "when": "nope.value > 1"}]}
JSON
run_lathe "$TMP/w" validate "$TMP/when.json"
expect_code "$TMP/w" 2 "bad conditions"
expect_err "$TMP/w" "/nodes/1/when: cannot read condition" "unreadable condition"
expect_err "$TMP/w" "/nodes/2/when: condition names unknown node 'nope'" "condition with unknown node"

# Issue 11: inputs that crashed the validator, or a `when` that was ignored
# (the node ran unconditionally), are refused: exit 2, one line each, no
# Json-CRITICAL, nothing run.
refuse() { # JSON expected-line what
  printf '%s' "$1" >"$TMP/x.json"
  run_lathe "$TMP/x" run --store "$TMP/xstore" "$TMP/x.json"
  expect_code "$TMP/x" 2 "$3"
  expect_err "$TMP/x" "$2" "$3: says so"
  grep -q CRITICAL "$TMP/x.err" && fail "$3: a CRITICAL" || pass "$3: no CRITICAL"
  [ ! -e "$TMP/xstore/lathe.db" ] && pass "$3: nothing ran" || fail "$3: a run was recorded"
}
refuse '{"nodes":[1]}' "/nodes/0: a node is an object" "a node that is a number"
refuse '{"nodes":[null]}' "/nodes/0: a node is an object" "a node that is null"
refuse '{"nodes":[{"id":"a","use":"transform/metric"},{"id":"b","use":"transform/noop","when":{"$gte":2}}]}' \
  '/nodes/1/when: "when" is a condition string such as "eval.accuracy >= 0.9", not an object' "an object when"
refuse '{"nodes":[{"id":"a","use":"transform/metric"},{"id":"b","use":"transform/noop","when":2}]}' \
  '/nodes/1/when: "when" is a condition string' "a number when"
refuse '{"nodes":[{"id":"a","use":"transform/metric","when":"a.value > 1"}]}' "cycle: a -> a" "a when on the node's own metric"
refuse '{"name":3,"nodes":[{"id":"a","use":"transform/noop"}]}' '/name: "name" is a string, not a number' "a number name"
$PY -c "print('{\"nodes\": ' + '[' * 100000 + ']' * 100000 + '}')" >"$TMP/deep.json"
run_lathe "$TMP/d" validate "$TMP/deep.json"
expect_code "$TMP/d" 2 "100,000 levels of nesting"
expect_err "$TMP/d" "$TMP/deep.json:1:522: nested deeper than 512 levels of [ and {" "the depth limit is named, at its line:column"
[ "$(wc -l <"$TMP/d.err")" -eq 1 ] && pass "depth: one line" || fail "depth: $(head -c 300 "$TMP/d.err")"

run_lathe "$TMP/s" run --set nosuch.x=1 "$TMP/when.json"
expect_code "$TMP/s" 2 "--set on an unknown node"
expect_err "$TMP/s" "no node 'nosuch'" "--set names the node"

run_lathe "$TMP/m" run "$TMP/missing.json"
expect_code "$TMP/m" 2 "missing pipeline file"
expect_err "$TMP/m" "$TMP/missing.json: cannot read the pipeline" "missing file is named, with what went wrong"
expect_err "$TMP/m" "No such file or directory" "and why"
[ "$(wc -l < "$TMP/m.err")" -eq 1 ] && pass "one line" || fail "missing file: $(wc -l < "$TMP/m.err") lines"

mkdir -p "$TMP/badstore"
echo garbage >"$TMP/badstore/lathe.db"
run_lathe "$TMP/bs" run --store "$TMP/badstore" "$LATHE_SOURCE_DIR/examples/iris/pipeline.json"
expect_code "$TMP/bs" 1 "a corrupt run store"
expect_err "$TMP/bs" "is not a usable Lathe run store (move it away, or choose another place with --store)" "corrupt store: says what to do"
[ "$(cat "$TMP/badstore/lathe.db")" = garbage ] && pass "corrupt store left as it was" || fail "corrupt store was modified"

run_lathe "$TMP/u" run
expect_code "$TMP/u" 2 "run without a pipeline"
run_lathe "$TMP/u2" frobnicate
expect_code "$TMP/u2" 2 "unknown command"
run_lathe "$TMP/u3" run --jobs x "$TMP/when.json"
expect_code "$TMP/u3" 2 "bad option value"
for j in 0 -1 1025; do
  run_lathe "$TMP/j$j" run --jobs "$j" "$TMP/when.json"
  expect_code "$TMP/j$j" 2 "--jobs $j is refused"
  grep -q "^lathe: --jobs must be between 1 and 1024" "$TMP/j$j.err" && pass "--jobs $j: one line says the range" || fail "--jobs $j: $(head -c 200 "$TMP/j$j.err")"
done
finish
