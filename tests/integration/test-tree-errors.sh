#!/usr/bin/env bash
# Issue 4's bad inputs through the CLI, each a one-line error that names the
# node and the cause: max_depth 0, n_estimators 0, max_features above the
# column count or malformed, contamination outside (0, 0.5], a label column
# with one class, NaN features, and a NAB file whose timestamps go back.
# Values the pipeline alone shows to be wrong are validation errors (exit 2,
# nothing runs); values wrong only for this data fail the node (exit 1).
source "$(dirname "$0")/lib.sh"
IRIS="$LATHE_SOURCE_DIR/examples/iris/iris.csv"

# model NAME COMPONENT WITH [CSV]
model() {
  cat >"$TMP/$1.json" <<JSON
{"nodes": [{"id": "data", "use": "source/csv", "with": {"path": "${4:-$IRIS}", "label": "species"}},
 {"id": "forest", "use": "$2", "in": {"train": "data"}, "with": $3}]}
JSON
  run_lathe "$TMP/$1" run --store "$TMP/store-$1" "$TMP/$1.json"
}
one_line() { [ "$(grep -c . "$1.err")" -le 1 ] && pass "$2: one line" || fail "$2: $(cat "$1.err")"; }

model depth0 model/forest '{"max_depth": 0}'
expect_code "$TMP/depth0" 2 "max_depth 0"
expect_err "$TMP/depth0" "/nodes/1/with/max_depth: param 'max_depth' of model/forest: 0 is not a depth" "max_depth 0 names the param"
one_line "$TMP/depth0" "max_depth 0"
[ -e "$TMP/store-depth0" ] && fail "a validation error opened the store" || pass "nothing ran"

model trees0 model/forest '{"n_estimators": 0}'
expect_code "$TMP/trees0" 2 "n_estimators 0"
expect_err "$TMP/trees0" "/nodes/1/with/n_estimators: param 'n_estimators' of model/forest: 0 is out of bounds [1, 100000]" "n_estimators 0 names the param"

model feat9 model/forest '{"max_features": 9}'
expect_code "$TMP/feat9" 1 "max_features above the 4 columns (known only with the data)"
grep -q "forest .*failed.*max_features 9 is above the 4 feature columns" "$TMP/feat9.out" \
  && pass "max_features 9 names the node and the column count" || fail "feat9: $(grep forest "$TMP/feat9.out")"
model feathalf model/forest '{"max_features": 0.5}'
expect_code "$TMP/feathalf" 0 "max_features as a JSON number (a fraction)"
model featbad model/forest '{"max_features": "half"}'
expect_code "$TMP/featbad" 2 "a malformed max_features"
expect_err "$TMP/featbad" "/nodes/1/with/max_features: param 'max_features' of model/forest: 'half' is not valid" "names the param"

for c in 0.7 0 -0.1; do
  model "cont$c" model/iforest "{\"contamination\": $c}"
  expect_code "$TMP/cont$c" 2 "contamination $c"
  expect_err "$TMP/cont$c" "/nodes/1/with/contamination: param 'contamination' of model/iforest: $c is outside (0, 0.5]" "contamination $c names the param"
  one_line "$TMP/cont$c" "contamination $c"
done
model cont05 model/iforest '{"contamination": 0.5}'
expect_code "$TMP/cont05" 0 "contamination 0.5 is allowed"
model contauto model/iforest '{"contamination": "auto"}'
expect_code "$TMP/contauto" 0 "contamination auto"

head -1 "$IRIS" >"$TMP/one.csv"; grep setosa "$IRIS" | head -20 >>"$TMP/one.csv"
model oneclass model/forest '{}' "$TMP/one.csv"
expect_code "$TMP/oneclass" 1 "one class"
grep -q "forest .*failed.*model/forest (node forest): every training row has class 'setosa'; a classifier needs at least 2 classes" "$TMP/oneclass.out" \
  && pass "one class names the node and the class" || fail "oneclass: $(grep forest "$TMP/oneclass.out")"

head -5 "$IRIS" >"$TMP/nan.csv"; echo "nan,3.0,1.4,0.2,setosa" >>"$TMP/nan.csv"; tail -5 "$IRIS" >>"$TMP/nan.csv"
model nan model/forest '{}' "$TMP/nan.csv"
expect_code "$TMP/nan" 1 "NaN features"
grep -q "data .*failed.*nan.csv:6:1: 'nan' is not a number (column 'sepal_length')" "$TMP/nan.out" \
  && pass "NaN names the file, line, column and value" || fail "nan: $(grep data "$TMP/nan.out")"

mkdir -p "$TMP/nab"
printf 'timestamp,value\n2014-01-01 00:00:00,1\n2014-01-01 00:05:00,2\n2014-01-01 00:03:00,3\n2014-01-01 00:10:00,4\n' >"$TMP/nab/back.csv"
cat >"$TMP/ts.json" <<JSON
{"nodes": [{"id": "series", "use": "source/timeseries", "with": {"path": "$TMP/nab", "files": ["back.csv"]}}]}
JSON
run_lathe "$TMP/ts" run --store "$TMP/store-ts" "$TMP/ts.json"
expect_code "$TMP/ts" 1 "timestamps that go back"
grep -q "series .*failed.*back.csv:4" "$TMP/ts.out" && pass "names the file and line" || fail "ts: $(grep series "$TMP/ts.out")"
finish
