#!/usr/bin/env bash
# examples/ideko/pipeline.json reduced to a few recordings per class: the four
# families train in parallel, each is evaluated on recordings the grouped
# split held out, the best is registered as ideko-failure@candidate. Asserts
# real learning (held-out accuracy well above the 1/3 of chance), not a number
# tuned to this data. Skipped (exit 77) when ../shared/data/ideko is absent.
source "$(dirname "$0")/lib.sh"
ideko_or_skip

mkdir -p "$TMP/p"
ideko_reduced "$TMP/p/pipeline.json"

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
expect_py "$TMP/m.out" "(lambda s: s['channels'] and s['seq_len'] > 1 and 'columns' not in s)(d[0]['metadata']['signature'])" \
  "the winner's signature is a sequence: channels and a length, not thousands of columns"

# Signatures (issue 14): the families take differently shaped inputs, so a
# second registration of another family under candidate is refused; every
# other node is served from the cache.
WINNER=$(json_get "$TMP/m.out" "d[0]['metadata']['model']['component']")
OTHER=$([ "$WINNER" = model/mlp ] && echo cnn || echo mlp)
# edit_register IN OUT PYTHON: OUT is IN with the register node `n` changed.
edit_register() {
  $PY -c "import json, sys
p = json.load(open(sys.argv[1]))
n = [x for x in p['nodes'] if x['id'] == 'register'][0]
$3
json.dump(p, open(sys.argv[2], 'w'))" "$1" "$2"
}
edit_register pipeline.json other.json "n['in']['model'] = '$OTHER'"
run_lathe "$TMP/o" run -j 2 other.json
expect_code "$TMP/o" 1 "another family's shape may not take over candidate"
cp "$TMP/o.out" "$TMP/oo.err"
expect_err "$TMP/oo" "ideko-failure@candidate points at version 1, which takes sequences of" "the refusal names the alias and the shapes"
edit_register other.json other-ok.json "n['with']['allow_signature_change'] = True"
run_lathe "$TMP/o2" run --json -j 2 other-ok.json
expect_code "$TMP/o2" 0 "allowed, it registers"
expect_py "$TMP/o2.out" "d['metrics']['register.version'] == 2" "as version 2"
finish
