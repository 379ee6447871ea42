#!/usr/bin/env bash
# `lathe runs search` and `lathe runs compare` on real runs of the iris
# example (its data is in examples/, so nothing is skipped): runs with
# different --set values, found again by metric, param and attribute,
# ordered, limited, as JSON, and compared side by side.
source "$(dirname "$0")/lib.sh"
cp -r "$LATHE_SOURCE_DIR/examples/iris" "$TMP/iris"
rm -rf "$TMP/iris/.lathe"
cd "$TMP/iris"

run_lathe "$TMP/r1" run --json pipeline.json
expect_code "$TMP/r1" 0 "run 1 (defaults)"
run_lathe "$TMP/r2" run --json --set split.test_fraction=0.3 pipeline.json
expect_code "$TMP/r2" 0 "run 2 (split.test_fraction=0.3)"
run_lathe "$TMP/r3" run --json --set holdout.test_fraction=0.3 pipeline.json
expect_code "$TMP/r3" 0 "run 3 (holdout.test_fraction=0.3)"
run_lathe "$TMP/r4" run --json --set data.path=missing.csv pipeline.json
expect_code "$TMP/r4" 1 "run 4 fails (no such file)"
r1=$(json_get "$TMP/r1.out" "d['run_id']"); r2=$(json_get "$TMP/r2.out" "d['run_id']")
r3=$(json_get "$TMP/r3.out" "d['run_id']"); r4=$(json_get "$TMP/r4.out" "d['run_id']")

# ids FILE: the run ids of a search's JSON, in order, space-separated.
ids() { json_get "$1" "' '.join(r['run_id'] for r in d)"; }
expect_ids() { # prefix "ids" what
  local got; got=$(ids "$1.out")
  if [ "$got" = "$2" ]; then pass "$3"; else fail "$3: got '$got', expected '$2'; stderr: $(head -c 400 "$1.err")"; fi
}

# By metric: the runs whose eval.accuracy (as `lathe run --json` printed it) passes.
want=$(for r in 1 2 3; do json_get "$TMP/r$r.out" "d['run_id'] if d['metrics']['eval.accuracy'] >= 0.95 else ''"; done | grep . | sort | tr '\n' ' ')
run_lathe "$TMP/s1" runs search --json 'metrics.eval.accuracy >= 0.95'
expect_code "$TMP/s1" 0 "search by metric"
got=$(json_get "$TMP/s1.out" "' '.join(sorted(r['run_id'] for r in d))")
[ "$got " = "$want" ] && pass "metric filter finds exactly the runs with eval.accuracy >= 0.95 ($got)" || fail "metric filter: got '$got', want '$want'"
expect_py "$TMP/s1.out" "all(r['metrics']['eval.accuracy'] >= 0.95 and r['params']['split.test_fraction'] in (0.2, 0.3) for r in d)" "each row carries its metrics and params"

# By param: as text (MLflow's way) and as a number.
run_lathe "$TMP/s2" runs search --json "params.split.test_fraction = '0.3'"
expect_ids "$TMP/s2" "$r2" "param as text"
run_lathe "$TMP/s3" runs search --json 'params.split.test_fraction > 0.25'
expect_ids "$TMP/s3" "$r2" "param as a number"
run_lathe "$TMP/s4" runs search --json 'params.holdout.test_fraction = 0.3 and metrics.eval.accuracy > 0'
expect_ids "$TMP/s4" "$r3" "param AND metric"
run_lathe "$TMP/s5" runs search --json 'params.data.path LIKE "%.csv" AND params.data.path != "missing.csv"'
expect_ids "$TMP/s5" "$r3 $r2 $r1" "LIKE and != on a param, newest first"

# By attribute.
run_lathe "$TMP/s6" runs search --json "attributes.status = 'failed'"
expect_ids "$TMP/s6" "$r4" "attributes.status"
run_lathe "$TMP/s7" runs search --json "run_id IN ('$r1', '$r3') and run_name = 'iris'"
expect_ids "$TMP/s7" "$r3 $r1" "run_id IN, bare attribute names"
run_lathe "$TMP/s8" runs search --json "status NOT IN ('failed') AND attributes.start_time > 0"
expect_ids "$TMP/s8" "$r3 $r2 $r1" "NOT IN, start_time"

# Order and limits.
run_lathe "$TMP/o1" runs search --json --order-by 'params.split.test_fraction DESC' --order-by attributes.start_time "status = 'succeeded'"
expect_ids "$TMP/o1" "$r2 $r1 $r3" "--order-by twice: param DESC, then start_time"
run_lathe "$TMP/o2" runs search --json --order-by 'attributes.start_time ASC' --max-results 2
expect_ids "$TMP/o2" "$r1 $r2" "--max-results 2"
run_lathe "$TMP/o3" runs search --json --order-by 'metrics.eval.accuracy DESC'
expect_py "$TMP/o3.out" "len(d) == 4 and d[-1]['run_id'] == '$r4' and [r['metrics']['eval.accuracy'] for r in d[:3]] == sorted((r['metrics']['eval.accuracy'] for r in d[:3]), reverse=True)" "order by a metric: the failed run (no metric) last"

# For people: a table with the columns the filter names.
run_lathe "$TMP/t1" runs search --order-by 'metrics.eval.accuracy DESC' "params.split.test_fraction < 0.25 and status = 'succeeded'"
expect_code "$TMP/t1" 0 "search, text"
head -1 "$TMP/t1.out" | grep -q "params.split.test_fraction *metrics.eval.accuracy" && pass "text: columns for the filter's and order's keys" || fail "text header: $(head -1 "$TMP/t1.out")"
[ "$(grep -c '^[0-9a-f]\{8\} ' "$TMP/t1.out")" = 2 ] && pass "text: one line a run" || fail "text: $(cat "$TMP/t1.out")"
run_lathe "$TMP/t2" runs search 'metrics.eval.accuracy > 2'
grep -q "no runs match" "$TMP/t2.out" && pass "text: no runs match" || fail "text, none: $(cat "$TMP/t2.out")"

# Errors: one line, the column, exit 2.
run_lathe "$TMP/e1" runs search 'metrics.eval.accuracy foo 1'
expect_code "$TMP/e1" 2 "a bad filter"
expect_err "$TMP/e1" "lathe: filter: column 23: expected a comparator (= != < <= > >= LIKE ILIKE IN NOT IN) after 'metrics.eval.accuracy', got 'foo'" "the error names the column and what was expected"
[ "$(wc -l <"$TMP/e1.err")" = 1 ] && pass "one line" || fail "error lines: $(cat "$TMP/e1.err")"
run_lathe "$TMP/e2" runs search 'metrics.a > 1 or metrics.b > 1'
expect_code "$TMP/e2" 2 "OR"
expect_err "$TMP/e2" "column 15: OR is not supported" "OR is refused"
run_lathe "$TMP/e3" runs search --order-by 'metrics.a SIDEWAYS'
expect_code "$TMP/e3" 2 "a bad --order-by"
expect_err "$TMP/e3" "order-by 'metrics.a SIDEWAYS': column 11" "order-by error names its text"
run_lathe "$TMP/e4" runs search --max-results 0
expect_code "$TMP/e4" 2 "--max-results 0"
run_lathe "$TMP/e5" runs search metrics.a '>' 1
expect_code "$TMP/e5" 2 "a filter in pieces"
expect_err "$TMP/e5" "quote it whole" "asks for one quoted filter"
run_lathe "$TMP/e6" runs search --store "$TMP/nowhere" ''
expect_code "$TMP/e6" 2 "no store"
mkdir -p "$TMP/empty"
run_lathe "$TMP/e7" runs search --json --store "$TMP/empty" 'metrics.a > 1'
expect_code "$TMP/e7" 0 "a store with no runs yet"
expect_py "$TMP/e7.out" "d == []" "no runs yet: []"
run_lathe "$TMP/e8" runs search --store "$TMP/empty" 'metrics.a >'
expect_code "$TMP/e8" 2 "a store with no runs yet still checks the filter"
sqlite3 .lathe/lathe.db "SELECT count(*) FROM runs" | grep -qx 4 && pass "the store still has its 4 runs" || fail "runs table changed"

# compare: the differing param marked, the same data version not.
run_lathe "$TMP/c1" runs compare "$r1" "${r2:0:6}"
expect_code "$TMP/c1" 0 "runs compare (an id and a prefix)"
grep -q '^\* split\.test_fraction  *0\.2  *0\.3$' "$TMP/c1.out" && pass "the differing param is marked" || fail "compare text: $(grep test_fraction "$TMP/c1.out")"
grep -q '^  holdout\.test_fraction  *0\.25  *0\.25$' "$TMP/c1.out" && pass "an equal param is not" || fail "compare text: $(grep holdout.test_fraction "$TMP/c1.out")"
grep -q '^  data  .*iris\.csv sha256:[0-9a-f]\{12\} ' "$TMP/c1.out" && pass "the data version, unmarked" || fail "compare data: $(grep -A2 'data versions' "$TMP/c1.out")"
sha=$(sha256sum iris.csv | cut -d' ' -f1)
run_lathe "$TMP/c2" runs compare --json "$r1" "$r2" "$r3"
expect_code "$TMP/c2" 0 "runs compare --json, three runs"
expect_py "$TMP/c2.out" "[r['run_id'] for r in d['runs']] == ['$r1', '$r2', '$r3']" "one column a run, in order"
expect_py "$TMP/c2.out" "(lambda rows: rows[('param', 'split.test_fraction')] == ([0.2, 0.3, 0.2], True) and rows[('param', 'holdout.test_fraction')] == ([0.25, 0.25, 0.3], True) and rows[('param', 'data.label')] == (['species'] * 3, False))({(r['kind'], r['key']): (r['values'], r['differs']) for r in d['rows']})" "params: values and differs"
expect_py "$TMP/c2.out" "(lambda rows: rows[('data', 'data')][1] is False and all(v[0]['digest'] == '$sha' for v in rows[('data', 'data')][0]) and rows[('metric', 'split.n_test')] == ([30, 45, 30], True))({(r['kind'], r['key']): (r['values'], r['differs']) for r in d['rows']})" "data versions and metrics"
run_lathe "$TMP/c3" runs compare --json --differences "$r1" "$r3"
expect_py "$TMP/c3.out" "d['rows'] and all(r['differs'] for r in d['rows']) and ('param', 'holdout.test_fraction') in [(r['kind'], r['key']) for r in d['rows']]" "--differences keeps only the differing rows"
run_lathe "$TMP/c4" runs compare "$r1"
expect_code "$TMP/c4" 2 "compare needs two runs"
run_lathe "$TMP/c5" runs compare "$r1" nosuchrun
expect_code "$TMP/c5" 2 "compare an unknown run"
expect_err "$TMP/c5" "no run 'nosuchrun'" "names the unknown run"
finish
