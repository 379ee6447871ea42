#!/usr/bin/env bash
# Issue 14: `lathe predict NAME@ALIAS DATA` on iris. examples/iris registers
# iris@candidate (its model from a tuner's trial); predict scores iris.csv
# with and without its label column, and the predictions agree; a pipeline
# with transform/standardize records the fitted statistics and predict
# applies them; errors: an unknown model or alias (exit 1), a version without
# an input pipeline (exit 2, naming it), a missing or misplaced column (exit
# 2, naming it).
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/serve-lib.sh"
cp -r "$LATHE_SOURCE_DIR/examples/iris" "$TMP/iris"
rm -rf "$TMP/iris/.lathe"
cd "$TMP/iris"
run_lathe "$TMP/r" run --json pipeline.json
expect_code "$TMP/r" 0 "examples/iris runs and registers iris@candidate"
run_lathe "$TMP/v" models show --json iris candidate
expect_py "$TMP/v.out" "d['metadata']['input_pipeline']['source']['use'] == 'source/csv' and d['metadata']['input_pipeline']['steps'] == []" \
  "the input pipeline is the CSV source, traced through the tuner's trial"

run_lathe "$TMP/p" predict --json -o "$TMP/p.csv" iris@candidate iris.csv
expect_code "$TMP/p" 0 "predict on the labelled CSV"
expect_py "$TMP/p.out" "d['rows'] == 150 and d['metrics']['accuracy'] > 0.9 and d['metrics']['confusion_matrix'][0][0] == 50 and d['version'] == 1" \
  "150 predictions, accuracy and the confusion matrix"
head -1 "$TMP/p.csv" | grep -qx 'row,label,predicted,pred_setosa,pred_versicolor,pred_virginica' \
  && pass "predictions CSV header" || fail "predictions CSV header: $(head -1 "$TMP/p.csv")"
[ "$(wc -l <"$TMP/p.csv")" = 151 ] && pass "one CSV line per row" || fail "CSV has $(wc -l <"$TMP/p.csv") lines"
run_lathe "$TMP/t" predict iris@candidate iris.csv
expect_code "$TMP/t" 0 "predict, text summary"
grep -q "confusion matrix" "$TMP/t.out" && grep -q "accuracy" "$TMP/t.out" && pass "text summary shows metrics and the matrix" \
  || fail "text summary: $(cat "$TMP/t.out")"

# Without the label column (and the columns in the file's order).
$PY -c "
import csv, sys
r = list(csv.reader(open('iris.csv')))
i = r[0].index('species')
w = csv.writer(open(sys.argv[1], 'w', newline=''))
for row in r: w.writerow(row[:i] + row[i + 1:])
" "$TMP/nolabel.csv"
run_lathe "$TMP/n" predict --json -o "$TMP/n.csv" iris@candidate "$TMP/nolabel.csv"
expect_code "$TMP/n" 0 "predict on the CSV without labels"
expect_py "$TMP/n.out" "d['metrics'] is None and d['rows'] == 150" "no labels: no metrics"
$PY -c "
import csv, sys
a = [(r['predicted'], r['pred_setosa']) for r in csv.DictReader(open(sys.argv[1]))]
b = [(r['predicted'], r['pred_setosa']) for r in csv.DictReader(open(sys.argv[2]))]
print(a == b and len(a) == 150)" "$TMP/p.csv" "$TMP/n.csv" >"$TMP/same"
[ "$(cat "$TMP/same")" = True ] && pass "same predictions with and without the label column" || fail "predictions differ without labels"

# Errors.
run_lathe "$TMP/e1" predict iris@nosuchalias iris.csv
expect_code "$TMP/e1" 1 "unknown alias"
[ "$(wc -l <"$TMP/e1.err")" = 1 ] && pass "unknown alias: one line" || fail "unknown alias: $(cat "$TMP/e1.err")"
run_lathe "$TMP/e2" predict nosuchmodel@candidate iris.csv
expect_code "$TMP/e2" 1 "unknown model"
$PY -c "
import csv, sys
r = list(csv.reader(open('iris.csv')))
i = r[0].index('petal_width') if 'petal_width' in r[0] else 3
w = csv.writer(open(sys.argv[1], 'w', newline=''))
for row in r: w.writerow(row[:i] + row[i + 1:])
print(r[0][i])
" "$TMP/missing.csv" >"$TMP/missing.col"
run_lathe "$TMP/e3" predict iris@candidate "$TMP/missing.csv"
expect_code "$TMP/e3" 2 "a missing column"
expect_err "$TMP/e3" "no column '$(cat "$TMP/missing.col")'" "the error names the missing column"
$PY -c "
import csv, sys
r = list(csv.reader(open('iris.csv')))
w = csv.writer(open(sys.argv[1], 'w', newline=''))
for row in r: w.writerow([row[1], row[0]] + row[2:])
" "$TMP/swapped.csv"
run_lathe "$TMP/e4" predict iris@candidate "$TMP/swapped.csv"
expect_code "$TMP/e4" 2 "columns out of order"
expect_err "$TMP/e4" "feature 1 is 'sepal_width' but the model's pipeline takes 'sepal_length' there" "the error names the misplaced column"
run_lathe "$TMP/e5" predict iris@candidate "$TMP/nosuchfile.csv"
expect_code "$TMP/e5" 2 "data that does not exist"
run_lathe "$TMP/e6" predict iris iris.csv
expect_code "$TMP/e6" 2 "a model without @ALIAS"

# A standardised pipeline: the fitted statistics travel with the version.
# The same transform inside a trial cannot be traced: registered without an
# input pipeline (a warning), and predict refuses it with exit 2.
cat >std.json <<'JSON'
{"lathe": 1, "name": "iris-std", "seed": 7, "nodes": [
  {"id": "data", "use": "source/csv", "with": {"path": "iris.csv", "label": "species"}},
  {"id": "split", "use": "transform/split", "in": {"data": "data"}, "with": {"test_fraction": 0.3, "stratify": true}},
  {"id": "std", "use": "transform/standardize", "in": {"train": "split.train", "test": "split.test"}},
  {"id": "model", "use": "model/logreg", "in": {"train": "std.train"}},
  {"id": "eval", "use": "evaluator/classification", "in": {"model": "model", "data": "std.test"}},
  {"id": "register", "use": "registry/local", "in": {"model": "model", "metrics": "eval"},
   "with": {"name": "iris-std", "alias": "candidate"}}]}
JSON
run_lathe "$TMP/s" run --json std.json
expect_code "$TMP/s" 0 "standardised iris pipeline runs"
run_lathe "$TMP/sv" models show --json iris-std candidate
expect_py "$TMP/sv.out" "[s['id'] for s in d['metadata']['input_pipeline']['steps']] == ['std'] and len(d['metadata']['input_pipeline']['steps'][0]['with']['state']['mean']) == 4" \
  "the input pipeline holds standardize with its fitted means"
run_lathe "$TMP/sp" predict --json iris-std@candidate iris.csv
expect_code "$TMP/sp" 0 "predict through the standardisation"
expect_py "$TMP/sp.out" "d['metrics']['accuracy'] > 0.85" "standardised predictions are accurate"
expect_py "$TMP/sv.out" "d['metadata']['input_pipeline']['source']['columns'] == ['sepal_length', 'sepal_width', 'petal_length', 'petal_width']" \
  "the columns the source read are recorded"
# A bundle carries the input pipeline: another store, with no access to this
# one, scores the raw CSV the same way.
run_lathe "$TMP/bx" models export iris-std@candidate -o "$TMP/std.bundle"
expect_code "$TMP/bx" 0 "export the standardised version"
mkdir -p "$TMP/serving" && cp iris.csv "$TMP/serving/"
(cd "$TMP/serving" && run_lathe "$TMP/bi" models import "$TMP/std.bundle" --alias production &&
  run_lathe "$TMP/bp" predict --json iris-std@production iris.csv)
expect_code "$TMP/bi" 0 "import it into a fresh store"
expect_code "$TMP/bp" 0 "predict from the imported bundle"
expect_py "$TMP/bp.out" "d['metrics'] == json.load(open('$TMP/sp.out'))['metrics']" \
  "the imported version gives the same metrics as the original"
# `lathe serve` takes the same raw rows: the version's input pipeline (the
# standardisation fitted in training) runs on each request, and every row
# gets the class `lathe predict` gave it; the shadow replays raw rows too.
run_lathe "$TMP/po" predict --json -o "$TMP/std-pred.csv" iris-std@candidate iris.csv
expect_code "$TMP/po" 0 "predict to a CSV"
start_server "$TMP/srv" iris-std@candidate --poll-seconds 0
[ -n "$URL" ] && pass "serve the standardised version" || fail "serve iris-std@candidate did not start"
$PY - "$URL" iris.csv "$TMP/std-pred.csv" "$TMP/served.json" <<'PY'
import csv, json, sys
from serve_client import call, predict, iris_rows
url, data, pred, out = sys.argv[1:5]
rows = [x for x, _ in iris_rows(data)]
want = [r["predicted"] for r in csv.DictReader(open(pred))]
code, _, d = predict(url, rows)
code2, _, m = call(url + "/v2/models/iris-std")
json.dump({"code": code, "got": d.get("predictions"), "want": want,
           "columns": m["inputs"][0]["columns"] if code2 == 200 else None}, open(out, "w"))
PY
expect_py "$TMP/served.json" "d['code'] == 200 and len(d['got']) == 150 and d['got'] == d['want']" \
  "serve on raw rows answers what predict gave, row for row"
expect_py "$TMP/served.json" "d['columns'] == ['sepal_length', 'sepal_width', 'petal_length', 'petal_width']" \
  "the served model's inputs are the raw columns"
stop_server "$SERVER_PID" "serve iris-std"
# A column missing ahead of a transform: named from the recorded source columns.
run_lathe "$TMP/e8" predict iris-std@candidate "$TMP/missing.csv"
expect_code "$TMP/e8" 2 "a missing column ahead of standardize"
expect_err "$TMP/e8" "no column '$(cat "$TMP/missing.col")'" "that error names the column too"
# An extra column is dropped, not fed to the model.
$PY -c "
import csv, sys
r = list(csv.reader(open('iris.csv')))
w = csv.writer(open(sys.argv[1], 'w', newline=''))
for i, row in enumerate(r): w.writerow(row + (['note'] if i == 0 else ['x']))
" "$TMP/extra.csv"
run_lathe "$TMP/x" predict --json iris-std@candidate "$TMP/extra.csv"
expect_code "$TMP/x" 0 "an extra column is dropped"
expect_py "$TMP/x.out" "d['metrics']['accuracy'] == $(json_get "$TMP/sp.out" "d['metrics']['accuracy']")" "with the same predictions"

cat >trial.json <<'JSON'
{"lathe": 1, "name": "iris-trial", "seed": 7, "nodes": [
  {"id": "data", "use": "source/csv", "with": {"path": "iris.csv", "label": "species"}},
  {"id": "tune", "use": "tuner/grid", "with": {"objective": "eval.accuracy", "direction": "maximize",
     "space": {"model.l2": [0.01, 0.1]}},
   "trial": {"nodes": [
     {"id": "std", "use": "transform/standardize", "in": {"train": "data"}},
     {"id": "model", "use": "model/logreg", "in": {"train": "std.train"}},
     {"id": "eval", "use": "evaluator/classification", "in": {"model": "model", "data": "std.train"}}],
     "output": "model"}},
  {"id": "register", "use": "registry/local", "in": {"model": "tune.model"},
   "with": {"name": "iris-trial", "alias": "candidate"}}]}
JSON
run_lathe "$TMP/tr" run trial.json
expect_code "$TMP/tr" 0 "pipeline with the transform inside the trial runs"
expect_err "$TMP/tr" "without its input pipeline" "registering says the input pipeline is missing"
run_lathe "$TMP/e7" predict iris-trial@candidate iris.csv
expect_code "$TMP/e7" 2 "a version without an input pipeline"
expect_err "$TMP/e7" "iris-trial@candidate (version 1) has no input pipeline" "the error names the version"
expect_err "$TMP/e7" "re-register" "and says to re-register"
finish
