#!/usr/bin/env bash
# `lathe report` of the IDEKO example (reduced: lib.sh ideko_reduced) in
# headless Chromium: a chart of training curves per model (a curve per
# reported metric), n x n cells per confusion matrix (counts and
# normalised) for each of the four evaluators, no console line, no URL.
source "$(dirname "$0")/lib.sh"
ideko_or_skip
B="$LATHE_SOURCE_DIR/tests/browser/browser.py"
ideko_reduced "$TMP/p.json"
run_lathe "$TMP/run" run --json --store "$TMP/s" "$TMP/p.json"
expect_code "$TMP/run" 0 "the reduced IDEKO example runs"
rid=$(json_get "$TMP/run.out" "d['run_id']")
run_lathe "$TMP/show" runs show --json --store "$TMP/s" "$rid"
cells=$(json_get "$TMP/show.out" "sum(2 * len(n['classification']['classes'])**2 for n in d['nodes'] if 'classification' in n and '/' not in n['id'])")
curves=$(json_get "$TMP/show.out" "sum(len({r['name'] for r in n['reports']}) for n in d['nodes'] if n['reports'])")
models=$(json_get "$TMP/show.out" "sum(1 for n in d['nodes'] if n['reports'])")
[ "$models" -ge 4 ] && pass "four models report curves" || fail "$models models with reports"
run_lathe "$TMP/rep" report --store "$TMP/s" "$rid" -o "$TMP/ideko.html"
expect_code "$TMP/rep" 0 "lathe report of IDEKO"
grep -qE 'https?://' "$TMP/ideko.html" && fail "an external URL" || pass "no external URL"
$PY "$B" load "$TMP/ideko.html" --dom "$TMP/dom.html" --shot "$TMP/shot.png" --size 1200,2400 --console "$TMP/console" >"$TMP/load" 2>&1
rc=$?
[ $rc = 77 ] && { echo "skip - Chromium is absent"; exit 77; }
[ $rc = 0 ] && pass "no console line" || fail "the page logged: $(head -c 600 "$TMP/console" "$TMP/load")"
v=$($PY "$B" variance "$TMP/shot.png")
$PY -c "import sys; sys.exit(0 if float('$v') > 300 else 1)" && pass "screenshot variance $v" || fail "variance $v"
n=$($PY "$B" count "$TMP/dom.html" rect cm-cell)
[ "$n" = "$cells" ] && pass "n x n cells per confusion matrix, twice ($n)" || fail "$n cm cells, expected $cells"
n=$($PY "$B" count "$TMP/dom.html" path curve)
[ "$n" = "$curves" ] && pass "a curve per model and reported metric ($n)" || fail "$n curves, expected $curves"
n=$($PY "$B" count "$TMP/dom.html" svg chart)
[ "$n" = "$models" ] && pass "a curves chart per model ($n)" || fail "$n charts, expected $models"
finish
