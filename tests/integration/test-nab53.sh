#!/usr/bin/env bash
# examples/nab on the 53 development files (issue 17): every pipeline of the
# example validates, and the figures the README reports for the best designs
# (Fisher's combination of the windowed-Gaussian scales, designs 28 and 31;
# with conformal ranks that start with their detectors, design 37; Fisher's
# p-value held for k rows, designs 47 and 49) are what nab53.py prints: the detectors are deterministic, so a changed
# figure means the README no longer tells the truth (update both). compare.py
# runs its bootstrap on the same evaluator. Skipped (exit 77) when
# ../shared/data/nab-more is absent.
source "$(dirname "$0")/lib.sh"
NAB="${LATHE_SHARED_DATA:-}/nab-more"
if [ -z "${LATHE_SHARED_DATA:-}" ] || [ ! -d "$NAB" ]; then
  echo "skip - NAB series not found at '$NAB' (set LATHE_SHARED_DATA to the folder holding nab/ and nab-more/)"
  exit 77
fi
EX="$LATHE_SOURCE_DIR/examples/nab"

for p in "$EX"/pipeline*.json; do
  run_lathe "$TMP/v" validate "$p"
  expect_code "$TMP/v" 0 "$(basename "$p") validates"
done

$PY "$EX/nab53.py" "$LATHE_BIN" --pipeline pipeline-53-fisher.json >"$TMP/f.out" 2>"$TMP/f.err"
if [ $? -eq 0 ]; then pass "nab53.py runs pipeline-53-fisher.json"; else fail "nab53.py: $(tail -c 600 "$TMP/f.err")"; fi
expect_row() { # node figures what
  if grep -qE "^$1 +standard $2 +reward_low_FP $3 +reward_low_FN $4\$" "$TMP/f.out"; then
    pass "$1: $2 / $3 / $4, as the README says"
  else
    fail "$1: expected $2 / $3 / $4 (README); got: $(grep "^$1 " "$TMP/f.out")"
  fi
}
expect_row nab_sp_fisher6 70.7 58.7 76.3
expect_row nab_sp_fisher6r 71.9 56.0 75.4

$PY "$EX/nab53.py" "$LATHE_BIN" --pipeline pipeline-53-conformal.json >"$TMP/f.out" 2>"$TMP/f.err"
if [ $? -eq 0 ]; then pass "nab53.py runs pipeline-53-conformal.json"; else fail "nab53.py: $(tail -c 600 "$TMP/f.err")"; fi
expect_row nab_sp_fisher6w 72.8 63.4 77.2

$PY "$EX/nab53.py" "$LATHE_BIN" --pipeline pipeline-53-persist.json >"$TMP/f.out" 2>"$TMP/f.err"
if [ $? -eq 0 ]; then pass "nab53.py runs pipeline-53-persist.json"; else fail "nab53.py: $(tail -c 600 "$TMP/f.err")"; fi
expect_row nab_persist6w 75.3 68.4 79.6
expect_row nab_persist6p 79.9 73.6 82.3
expect_row nab_persist6c 78.7 74.7 82.5
grep -q "^ARTime .* 76.9 " "$TMP/f.out" && pass "the published table follows" \
  || fail "published table missing: $(tail -12 "$TMP/f.out")"

$PY "$EX/compare.py" "$LATHE_BIN" --pipeline pipeline-53-fisher.json --evaluator nab_sp_fisher6r \
  --resamples 200 >"$TMP/c.out" 2>"$TMP/c.err"
if [ $? -eq 0 ]; then pass "compare.py runs"; else fail "compare.py: $(tail -c 600 "$TMP/c.err")"; fi
grep -qE "^standard +ARTime +71\.9 +76\.9 +-5\.0 " "$TMP/c.out" \
  && pass "compare.py: the design against ARTime, standard, -5.0" \
  || fail "compare.py ARTime row: $(grep ARTime "$TMP/c.out")"
vs_artime() { # design, node, then its standard and reward_low_FN figures and differences (regexes)
  $PY "$EX/compare.py" "$LATHE_BIN" --pipeline pipeline-53-persist.json --evaluator "$2" \
    --resamples 200 >"$TMP/c.out" 2>"$TMP/c.err"
  if grep -qE "^standard +ARTime +$3 +76\.9 +$4 " "$TMP/c.out" \
    && grep -qE "^reward_low_FN +ARTime +$5 +82\.4 +$6 " "$TMP/c.out"; then
    pass "compare.py: design $1 against ARTime on both profiles, as the README says"
  else
    fail "compare.py design $1 ARTime rows: $(grep ARTime "$TMP/c.out") $(tail -c 300 "$TMP/c.err")"
  fi
}
vs_artime 47 nab_persist6p '79\.9' '\+3\.0' '82\.3' '-0\.1'
vs_artime 49 nab_persist6c '78\.7' '\+1\.8' '82\.5' '\+0\.1'
finish
