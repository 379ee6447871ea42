#!/usr/bin/env bash
# The cv node (issue 17): grouped, stratified k-fold cross-validation written
# once and expanded into ordinary nodes, one split, model and evaluator per
# fold, and an evaluator/cv that gives the mean, the spread and a t-based 95%
# interval of every fold metric. Folds are cached like any node; a tuner's
# objective can be the CV mean, its space set a fold node's params in every
# fold; bad settings are validation errors naming the node.
source "$(dirname "$0")/lib.sh"
cp "$LATHE_SOURCE_DIR/examples/iris/iris.csv" "$TMP/"
cat >"$TMP/cv.json" <<'JSON'
{"lathe": 1, "name": "iris-cv", "seed": 7, "nodes": [
  {"id": "data", "use": "source/csv", "with": {"path": "iris.csv", "label": "species"}},
  {"id": "cv", "use": "cv", "in": {"data": "data"}, "with": {"folds": 3, "seed": 1, "grouped": false},
   "fold": {"nodes": [
     {"id": "model", "use": "model/logreg", "in": {"train": "split.train"}},
     {"id": "eval", "use": "evaluator/classification", "in": {"model": "model", "data": "split.test"}}],
    "output": "eval"}}]}
JSON
run_lathe "$TMP/r1" run --json -j 2 --store "$TMP/s" "$TMP/cv.json"
expect_code "$TMP/r1" 0 "a 3-fold CV of iris"
expect_py "$TMP/r1.out" "sorted(n['id'] for n in d['nodes']) == sorted(['data', 'cv'] + ['cv-%d-%s' % (i, k) for i in (1, 2, 3) for k in ('split', 'model', 'eval')])" \
  "each fold is a split, a model and an evaluator node"
# Mean, sample standard deviation and the t interval (t(0.975, 2) = 4.302653), by hand.
expect_py "$TMP/r1.out" "(lambda a: abs(d['metrics']['cv.accuracy.mean'] - sum(a) / 3) < 1e-12 and abs(d['metrics']['cv.accuracy.std'] - (sum((x - sum(a) / 3) ** 2 for x in a) / 2) ** 0.5) < 1e-12 and abs(d['metrics']['cv.accuracy.ci95_low'] - (sum(a) / 3 - 4.302652729911275 * (sum((x - sum(a) / 3) ** 2 for x in a) / 2) ** 0.5 / 3 ** 0.5)) < 1e-6 and d['metrics']['cv.accuracy.min'] == min(a) and d['metrics']['cv.accuracy.max'] == max(a))([d['metrics']['cv-%d-eval.accuracy' % i] for i in (1, 2, 3)])" \
  "evaluator/cv: mean, std, min, max and the 95% interval of the folds' accuracy"
expect_py "$TMP/r1.out" "'cv.macro_f1.mean' in d['metrics'] and 0.9 < d['metrics']['cv.accuracy.mean'] <= 1" \
  "every numeric metric of the folds is summarised"
run_lathe "$TMP/r2" run --json -j 2 --store "$TMP/s" "$TMP/cv.json"
expect_py "$TMP/r2.out" "all(n['status'] == 'cached' for n in d['nodes']) and d['metrics']['cv.accuracy.mean'] == $(json_get "$TMP/r1.out" "d['metrics']['cv.accuracy.mean']")" \
  "a second run takes every fold from the cache"

# A tuner whose objective is the CV mean; "cv-model.l2" sets l2 in every fold.
cat >"$TMP/tune.json" <<'JSON'
{"lathe": 1, "name": "iris-cv-tune", "seed": 7, "nodes": [
  {"id": "data", "use": "source/csv", "with": {"path": "iris.csv", "label": "species"}},
  {"id": "tune", "use": "tuner/grid",
   "with": {"objective": "cv.accuracy.mean", "direction": "maximize", "space": {"cv-model.l2": [0.001, 10.0]}},
   "trial": {"nodes": [
     {"id": "cv", "use": "cv", "in": {"data": "data"}, "with": {"folds": 3, "seed": 1, "grouped": false},
      "fold": {"nodes": [
        {"id": "model", "use": "model/logreg", "in": {"train": "split.train"}},
        {"id": "eval", "use": "evaluator/classification", "in": {"model": "model", "data": "split.test"}}],
       "output": "eval"}}], "output": "cv-1-model"}}]}
JSON
run_lathe "$TMP/t" run --json --store "$TMP/st" "$TMP/tune.json"
expect_code "$TMP/t" 0 "a study whose objective is the CV mean"
expect_py "$TMP/t.out" "d['metrics']['tune.n_trials'] == 2 and d['metrics']['tune.best_trial'] == 0 and d['metrics']['tune.best_value'] == $(json_get "$TMP/r1.out" "d['metrics']['cv.accuracy.mean']")" \
  "the best trial's objective is the same CV mean as the plain run (l2 0.001 is logreg's default)"
trun=$(json_get "$TMP/t.out" "d['run_id']")
run_lathe "$TMP/ts" study show --json --store "$TMP/st" "$trun/tune"
expect_py "$TMP/ts.out" "d['trials'][1]['params'] == {'cv-model.l2': 10} and d['trials'][1]['values']['objective'] < d['trials'][0]['values']['objective'] - 0.05" \
  "l2 = 10 reached every fold's model: a clearly lower CV mean"

# stratify_key reaches every fold's split (only when given: older pipelines
# keep their expanded graph and cache keys).
sed 's/"grouped": false}/"grouped": false, "stratify_key": true}/' "$TMP/cv.json" >"$TMP/skey.json"
run_lathe "$TMP/sk" run --json -j 2 --store "$TMP/s" "$TMP/skey.json"
expect_code "$TMP/sk" 0 "a cv node with stratify_key"
expect_py "$TMP/sk.out" "d['metrics']['cv.accuracy.mean'] == $(json_get "$TMP/r1.out" "d['metrics']['cv.accuracy.mean']") and any(n['id'] == 'cv-1-split' and n['status'] != 'cached' for n in d['nodes'])" \
  "stratify_key is a param of the fold splits (new cache keys), ungrouped it changes no fold"

# Bad settings: validation errors naming the cv node.
sed 's/"folds": 3/"folds": 1/' "$TMP/cv.json" >"$TMP/bad1.json"
run_lathe "$TMP/b1" validate "$TMP/bad1.json"
expect_code "$TMP/b1" 2 "folds 1 is a validation error"
expect_err "$TMP/b1" "cv node 'cv': \"folds\" must be an integer from 2 to 10" "folds names the node"
sed 's/"seed": 1,/"sed": 1,/' "$TMP/cv.json" >"$TMP/bad2.json"
run_lathe "$TMP/b2" validate "$TMP/bad2.json"
expect_code "$TMP/b2" 2 "an unknown cv param is a validation error"
expect_err "$TMP/b2" "cv node 'cv': unknown param 'sed'" "the unknown param is named"
sed 's/"output": "eval"/"output": "nope"/' "$TMP/cv.json" >"$TMP/bad3.json"
run_lathe "$TMP/b3" validate "$TMP/bad3.json"
expect_code "$TMP/b3" 2 "a fold output that is no fold node"
expect_err "$TMP/b3" "cv node 'cv': fold output 'nope' is not a fold node" "the output is named"
finish
