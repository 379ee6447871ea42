#!/usr/bin/env bash
# examples/ideko/pipeline.json reduced to a few recordings per class: the four
# families train in parallel, each is evaluated on recordings the grouped
# split held out, the best is registered as ideko-failure@candidate. Asserts
# real learning (held-out accuracy well above the 1/3 of chance), not a number
# tuned to this data. Skipped (exit 77) when ../shared/data/ideko is absent.
source "$(dirname "$0")/lib.sh"
IDEKO="${LATHE_SHARED_DATA:-}/ideko"
if [ -z "${LATHE_SHARED_DATA:-}" ] || [ ! -d "$IDEKO" ]; then
  echo "skip - IDEKO recordings not found at '$IDEKO' (set LATHE_SHARED_DATA to the folder holding ideko/)"
  exit 77
fi

mkdir -p "$TMP/p"
$PY - "$LATHE_SOURCE_DIR/examples/ideko/pipeline.json" "$IDEKO" >"$TMP/p/pipeline.json" <<'PYEOF'
import json, sys
p = json.load(open(sys.argv[1]))
for n in p["nodes"]:
    if n["use"] == "source/recordings":
        n["with"].update(path=sys.argv[2], max_per_class=10)
    if n["use"].startswith("model/"):
        n["with"].update(epochs=12)
    if n["use"] == "transform/split":
        n["with"]["test_fraction"] = 0.3
print(json.dumps(p))
PYEOF

cd "$TMP/p"
run_lathe "$TMP/r" run --json -j 2 pipeline.json
expect_code "$TMP/r" 0 "reduced IDEKO pipeline runs"
expect_py "$TMP/r.out" "d['status'] == 'succeeded'" "run succeeded"
for f in mlp cnn rnn lstm; do
  expect_py "$TMP/r.out" "'eval_$f.accuracy' in d['metrics'] and 'eval_$f.macro_f1' in d['metrics']" \
    "$f trained and evaluated on held-out recordings"
done
# 30 recordings, 9 held out (3 per class): chance is 1/3.
expect_py "$TMP/r.out" "d['metrics']['split_full.n_test'] == 9 and d['metrics']['split_10hz.n_test'] == 9" \
  "the grouped split holds out 9 whole recordings"
expect_py "$TMP/r.out" "max(d['metrics']['eval_' + f + '.accuracy'] for f in ['mlp', 'cnn', 'rnn', 'lstm']) >= 0.66" \
  "best held-out accuracy is well above chance (1/3)"
expect_py "$TMP/r.out" "d['metrics']['compare.best_value'] == max(d['metrics']['eval_' + f + '.macro_f1'] for f in ['mlp', 'cnn', 'rnn', 'lstm'])" \
  "compare picked the family with the best macro-F1"
expect_py "$TMP/r.out" "d['metrics']['register.version'] == 1" "best family registered"

RUN=$(json_get "$TMP/r.out" "d['run_id']")
run_lathe "$TMP/s" runs show --json "$RUN"
expect_code "$TMP/s" 0 "runs show"
expect_py "$TMP/s.out" "(lambda r: len([x for x in r if x['name'] == 'val_loss']) >= 2)([x for x in d['nodes'] if x['id'] == 'cnn'][0]['reports'])" \
  "per-epoch val_loss reports are recorded for the CNN"

run_lathe "$TMP/m" models list --json
expect_py "$TMP/m.out" "any(v['name'] == 'ideko-failure' and 'candidate' in v['aliases'] for v in d)" \
  "registered as ideko-failure@candidate"
finish
