#!/usr/bin/env bash
# Parallel nodes, failure isolation and `when` conditions, read from the
# start and end times recorded in the run store.
source "$(dirname "$0")/lib.sh"
export LATHE_PLUGIN_PATH="$LATHE_TESTKIT_DIR"

cat >"$TMP/par.json" <<'JSON'
{"nodes": [{"id": "a", "use": "transform/sleep", "with": {"seconds": 0.6}},
           {"id": "b", "use": "transform/sleep", "with": {"seconds": 0.6, "value": 1}}]}
JSON
overlap() { # run json -> overlap seconds of a and b
  local id; id=$(json_get "$1" "d['run_id']")
  "$LATHE_BIN" runs show --json --store "$TMP/store" "$id" >"$1.show"
  json_get "$1.show" "(lambda n: min(n['a']['ended'], n['b']['ended']) - max(n['a']['started'], n['b']['started']))({x['id']: x for x in d['nodes']})"
}
run_lathe "$TMP/p2" run --json --no-cache --jobs 2 --store "$TMP/store" "$TMP/par.json"
expect_code "$TMP/p2" 0 "parallel run"
o=$(overlap "$TMP/p2.out")
$PY -c "import sys; sys.exit(0 if float('$o') > 0.4 else 1)" && pass "--jobs 2: sleeps overlap (${o}s)" || fail "--jobs 2: overlap only ${o}s"
run_lathe "$TMP/p1" run --json --no-cache --jobs 1 --store "$TMP/store" "$TMP/par.json"
o=$(overlap "$TMP/p1.out")
$PY -c "import sys; sys.exit(0 if float('$o') <= 0 else 1)" && pass "--jobs 1: sleeps in sequence" || fail "--jobs 1: overlap ${o}s"

cat >"$TMP/fail.json" <<'JSON'
{"nodes": [{"id": "src", "use": "transform/noop"},
  {"id": "bad", "use": "transform/fail", "in": {"data": "src"}, "with": {"message": "boom here"}},
  {"id": "after", "use": "transform/noop", "in": {"data": "bad"}},
  {"id": "later", "use": "transform/noop", "in": {"data": "after"}},
  {"id": "side", "use": "transform/sleep", "with": {"seconds": 0.2}},
  {"id": "side2", "use": "transform/noop", "in": {"data": "side"}}]}
JSON
run_lathe "$TMP/f" run --json --store "$TMP/store" "$TMP/fail.json"
expect_code "$TMP/f" 1 "a failed node fails the run"
expect_py "$TMP/f.out" "d['status'] == 'failed'" "run status failed"
expect_py "$TMP/f.out" "{n['id']: n['status'] for n in d['nodes']} == {'src': 'succeeded', 'bad': 'failed', 'after': 'skipped', 'later': 'skipped', 'side': 'succeeded', 'side2': 'succeeded'}" "dependents skipped, independent branch finished"
expect_py "$TMP/f.out" "[n for n in d['nodes'] if n['id'] == 'bad'][0]['error'] == 'boom here'" "the node's error is reported"

cat >"$TMP/when.json" <<'JSON'
{"nodes": [{"id": "m", "use": "transform/metric", "with": {"value": 0.5}},
  {"id": "hi", "use": "transform/noop", "in": {"data": "m"}, "when": "m.value >= 0.9"},
  {"id": "lo", "use": "transform/noop", "in": {"data": "m"}, "when": "m.value < 0.9 && m.value > 0.1"},
  {"id": "after_hi", "use": "transform/noop", "in": {"data": "hi"}}]}
JSON
run_lathe "$TMP/w" run --json --store "$TMP/store" "$TMP/when.json"
expect_code "$TMP/w" 0 "a false condition is not a failure"
expect_py "$TMP/w.out" "{n['id']: n['status'] for n in d['nodes']} == {'m': 'succeeded', 'hi': 'skipped', 'lo': 'succeeded', 'after_hi': 'skipped'}" "when: false skips, true runs"
run_lathe "$TMP/w2" run --json --store "$TMP/store" --set m.value=0.95 "$TMP/when.json"
expect_py "$TMP/w2.out" "{n['id']: n['status'] for n in d['nodes']}['hi'] == 'succeeded'" "--set flips the condition"
finish
