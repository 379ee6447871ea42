#!/usr/bin/env bash
# Bad input on the sequence path, through the lathe binary: each case fails
# with one line that names the node (or file and line) and the cause, with
# exit 1 for a failed run and 2 for a pipeline the validator refuses, and the
# run store stays usable afterwards.
source "$(dirname "$0")/lib.sh"
cd "$TMP"
# Tiny recordings: <class>/<file>.csv, 20 rows each, "time;f1" like IDEKO.
$PY - <<'PYEOF'
import os, math
for cls, files in (("a", 3), ("b", 3)):
    for i in range(files):
        os.makedirs("rec/%s" % cls, exist_ok=True)
        with open("rec/%s/r%d.csv" % (cls, i), "w") as f:
            f.write("time;f1\n")
            for t in range(20):
                f.write("%g;%g\n" % (t * 0.002, math.sin(t / 3.0) + (2 if cls == "b" else 0) + i * 0.01))
os.makedirs("other/c", exist_ok=True)
with open("other/c/r0.csv", "w") as f:
    f.write("time;f1\n" + "".join("%g;%g\n" % (t * 0.002, 5.0) for t in range(20)))
os.makedirs("bad/a", exist_ok=True)
with open("bad/a/r0.csv", "w") as f:
    f.write("time;f1\n0;1\n0.002;nan\n")
PYEOF

# A failed node's error is on its row of the run table (stdout).
expect_out() { # prefix fixed-string what
  if grep -qF -- "$2" "$1.out"; then pass "$3"; else fail "$3: stdout lacks '$2'; got: $(head -c 800 "$1.out")"; fi
}
pipeline() { # FILE NODES_JSON
  printf '{"lathe": 1, "name": "e", "seed": 1, "nodes": [%s]}\n' "$2" >"$1"
}
SRC='{"id": "rec", "use": "source/recordings", "with": {"path": "rec"}}'
PAD='{"id": "pad", "use": "transform/pad", "in": {"data": "rec"}}'

pipeline short.json "$SRC, {\"id\": \"win\", \"use\": \"transform/window\", \"in\": {\"data\": \"rec\"}, \"with\": {\"seq_len\": 50}}"
run_lathe short run short.json
expect_code short 1 "recording shorter than seq_len"
expect_out short "transform/window (node win): recording 'a/r0.csv' has 20 rows, fewer than seq_len 50" "names the node, the recording and the fix"

pipeline empty.json "$SRC, $PAD, {\"id\": \"net\", \"use\": \"model/lstm\", \"in\": {\"train\": \"pad\"}, \"with\": {\"units\": []}}"
run_lathe empty run empty.json
expect_code empty 1 "empty layer list"
expect_out empty "node 'net'" "empty layer list names the node"
expect_out empty "'units' is empty" "empty layer list says what is wrong"

pipeline zero.json "$SRC, $PAD, {\"id\": \"net\", \"use\": \"model/rnn\", \"in\": {\"train\": \"pad\"}, \"with\": {\"units\": [8, 0]}}"
run_lathe zero validate zero.json
expect_code zero 2 "a non-positive layer size is a validation error"
expect_err zero "zero.json: /nodes/2/with/units: param 'units' of model/rnn: item 1: 0 is out of bounds" "the validation error names the file, node and param"

pipeline unseen.json "$SRC, $PAD, {\"id\": \"net\", \"use\": \"model/mlp\", \"in\": {\"train\": \"pad\"}, \"with\": {\"units\": [4], \"epochs\": 2}},
  {\"id\": \"other\", \"use\": \"source/recordings\", \"with\": {\"path\": \"other\"}},
  {\"id\": \"opad\", \"use\": \"transform/pad\", \"in\": {\"data\": \"other\"}},
  {\"id\": \"eval\", \"use\": \"evaluator/classification\", \"in\": {\"model\": \"net\", \"data\": \"opad\"}}"
run_lathe unseen run unseen.json
expect_code unseen 1 "a label never seen in training"
expect_out unseen "(node eval): class 'c' of the data (1 rows) was never seen in training" "names the node and the class"

pipeline nan.json '{"id": "rec", "use": "source/recordings", "with": {"path": "bad"}}'
run_lathe nan run nan.json
expect_code nan 1 "NaN in a recording"
expect_out nan "a/r0.csv:3" "names the file and line of the NaN"

# One line each: the failed node's row holds the whole message.
for c in short empty unseen nan; do
  n=$(grep -c " failed " "$c.out" || true)
  [ "$n" = 1 ] && pass "$c: one failed row" || fail "$c: $n failed rows"
done

run_lathe list runs list --json
expect_code list 0 "the run store is still usable"
expect_py list.out "len(d) >= 4 and all(r['status'] == 'failed' for r in d)" "every failed run is recorded as failed"
finish
