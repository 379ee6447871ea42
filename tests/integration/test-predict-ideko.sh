#!/usr/bin/env bash
# Issue 14: a registered version carries its input pipeline. The IDEKO example
# (reduced to a few recordings per class, as test-ideko.sh does) registers the
# best of four families as ideko-failure@candidate; a transform/predict node
# per family scores the split's held-out recordings inside the pipeline.
# `lathe predict ideko-failure@candidate` then scores those recordings from
# their raw zips alone (rolling, downsample, pad length and standardisation
# coming from the version) and must give the same probabilities, recording by
# recording, as the pipeline gave with the winning model; then the same
# through zips named on the command line (no labels: no metrics). Skipped
# (exit 77) when ../shared/data/ideko is absent.
source "$(dirname "$0")/lib.sh"
ideko_or_skip

mkdir -p "$TMP/p"
$PY - "$LATHE_SOURCE_DIR/examples/ideko/pipeline.json" "$IDEKO" >"$TMP/p/pipeline.json" <<'PYEOF'
import json, sys
p = json.load(open(sys.argv[1]))
data = {"mlp": "std_full", "cnn": "std_50hz", "rnn": "std_10hz", "lstm": "std_10hz"}
for n in p["nodes"]:
    if n["use"] == "source/recordings":
        n["with"].update(path=sys.argv[2], max_per_class=10)
    if n["use"].startswith("model/"):
        n["with"].update(epochs=8)
    if n["use"] == "transform/split":
        n["with"]["test_fraction"] = 0.3
for m, d in data.items():
    p["nodes"].append({"id": "pred_" + m, "use": "transform/predict",
                       "in": {"model": m, "data": d + ".test"}, "with": {"keep": False}})
print(json.dumps(p))
PYEOF

cd "$TMP/p"
run_lathe "$TMP/r" run --json -j 2 pipeline.json
expect_code "$TMP/r" 0 "reduced IDEKO pipeline with predict nodes runs"
run_lathe "$TMP/show" runs show --json "$(json_get "$TMP/r.out" "d['run_id']")"
run_lathe "$TMP/v" models show --json ideko-failure candidate
expect_code "$TMP/v" 0 "ideko-failure@candidate is registered"
expect_py "$TMP/v.out" "[s['use'] for s in d['metadata']['input_pipeline']['steps']][-2:] == ['transform/pad', 'transform/standardize']" \
  "its input pipeline ends with pad and standardize"
expect_py "$TMP/v.out" "d['metadata']['input_pipeline']['steps'][-1]['with']['state']['mean'] and d['metadata']['input_pipeline']['steps'][-2]['with']['length'] > 0" \
  "the fitted standardisation and pad length are recorded"

# The winning family's held-out predictions, as the pipeline made them; and
# its held-out recordings laid out as <class>/.../<file>.zip.
$PY - "$TMP/show.out" "$TMP/v.out" "$TMP/p/.lathe" "$IDEKO" "$TMP/heldout" >"$TMP/pipeline-preds.json" <<'PYEOF'
import json, os, struct, sys
run = json.load(open(sys.argv[1])); ver = json.load(open(sys.argv[2]))
store, ideko, out = sys.argv[3], sys.argv[4], sys.argv[5]
nodes = {n["id"]: n for n in run["nodes"]}
want = ver["metadata"]["model_digest"] if "model_digest" in ver["metadata"] else ver["digest"]
winner = [m for m in ("mlp", "cnn", "rnn", "lstm") if nodes[m]["outputs"]["model"].split(":")[-1] == want.split(":")[-1]]
assert len(winner) >= 1, (want, {m: nodes[m]["outputs"] for m in ("mlp", "cnn", "rnn", "lstm")})
digest = nodes["pred_" + winner[0]]["outputs"]["data"].split(":")[-1]
b = open(os.path.join(store, "artifacts", "sha256", digest[:2], digest[2:]), "rb").read()
assert b[:8] == b"LATHEDS1"
pos = 8
def u32():
    global pos
    v = struct.unpack_from("<I", b, pos)[0]; pos += 4; return v
def strs(n):
    global pos
    r = []
    for _ in range(n):
        l = u32(); r.append(b[pos:pos + l].decode()); pos += l
    return r
rows, cols, ncls, ngrp, flags = u32(), u32(), u32(), u32(), u32()
if flags & 4: u32()
names = strs(cols); strs(ncls) if flags & 1 else None
groups = strs(ngrp) if flags & 2 else []
x = struct.unpack_from("<%df" % (rows * cols), b, pos); pos += 4 * rows * cols
if flags & 1: pos += 4 * rows
g = struct.unpack_from("<%di" % rows, b, pos)
preds = {}
for r in range(rows):
    name = groups[g[r]]
    preds[name] = list(x[r * cols:(r + 1) * cols])
    dst = os.path.join(out, name)
    os.makedirs(os.path.dirname(dst), exist_ok=True)
    os.symlink(os.path.join(ideko, name), dst)
print(json.dumps({"winner": winner[0], "columns": names, "preds": preds}))
PYEOF
[ -s "$TMP/pipeline-preds.json" ] && pass "held-out predictions of the winner read from the run ($(json_get "$TMP/pipeline-preds.json" "d['winner']"), $(json_get "$TMP/pipeline-preds.json" "len(d['preds'])") recordings)" \
  || fail "could not read the pipeline's held-out predictions"

cd "$TMP"
run_lathe "$TMP/pr" predict --store "$TMP/p/.lathe" --json -o "$TMP/pred.csv" ideko-failure@candidate "$TMP/heldout"
expect_code "$TMP/pr" 0 "lathe predict ideko-failure@candidate on the held-out recordings"
same() { # CSV: every recording's probabilities equal the pipeline's
  $PY - "$1" "$TMP/pipeline-preds.json" <<'PYEOF'
import csv, json, sys
want = json.load(open(sys.argv[2]))
got = {r["group"]: r for r in csv.DictReader(open(sys.argv[1]))}
assert set(got) == set(want["preds"]), (sorted(got)[:3], sorted(want["preds"])[:3])
bad = 0
for name, p in want["preds"].items():
    q = [float(got[name][c]) for c in want["columns"]]
    if any(abs(a - b) > 1e-5 for a, b in zip(p, q)):
        bad += 1
        print(name, p, q, file=sys.stderr)
    best = max(range(len(p)), key=lambda i: p[i])
    assert got[name]["predicted"] == want["columns"][best][len("pred_"):], name
print("True" if bad == 0 else "False")
PYEOF
}
[ "$(same "$TMP/pred.csv")" = "True" ] && pass "lathe predict gives the pipeline's predictions, recording by recording" \
  || fail "lathe predict's predictions differ from the pipeline's"
expect_py "$TMP/pr.out" "d['rows'] == $(json_get "$TMP/pipeline-preds.json" "len(d['preds'])") and 0 <= d['metrics']['accuracy'] <= 1 and len(d['metrics']['confusion_matrix']) == 3" \
  "labelled held-out data: metrics and a 3x3 confusion matrix"

# The same recordings as zips named one by one: no class folders, no labels.
mapfile -t zips < <(find "$TMP/heldout" -name '*.zip' | sort)
run_lathe "$TMP/pz" predict --store "$TMP/p/.lathe" --json -o "$TMP/predz.csv" ideko-failure@candidate "${zips[@]}"
expect_code "$TMP/pz" 0 "lathe predict on zips named on the command line"
expect_py "$TMP/pz.out" "d['metrics'] is None and d['rows'] == ${#zips[@]}" "unlabelled zips: predictions only"
$PY - "$TMP/predz.csv" "$TMP/pred.csv" >"$TMP/zsame" <<'PYEOF'
import csv, os, sys
z = {os.path.basename(r["group"]): r["predicted"] for r in csv.DictReader(open(sys.argv[1]))}
f = {os.path.basename(r["group"]): r["predicted"] for r in csv.DictReader(open(sys.argv[2]))}
print(z == f)
PYEOF
[ "$(cat "$TMP/zsame")" = "True" ] && pass "zips alone give the same predicted classes" || fail "zips alone predict differently"

# One class's folder (dated subfolders, which are not classes): unlabelled.
run_lathe "$TMP/c" predict --store "$TMP/p/.lathe" --json ideko-failure@candidate "$TMP/heldout/not_anomalous"
expect_code "$TMP/c" 0 "predict on one class's folder"
expect_py "$TMP/c.out" "d['metrics'] is None and d['rows'] > 0" "its dated subfolders are not taken for classes"

# A recording without the channel the pipeline reads: exit 2, naming it.
mkdir -p "$TMP/bad/normal"
printf 'time,f1\n0,1\n1,2\n' >"$TMP/bad/normal/r.csv"
run_lathe "$TMP/b" predict --store "$TMP/p/.lathe" ideko-failure@candidate "$TMP/bad"
expect_code "$TMP/b" 2 "a recording without the channel"
expect_err "$TMP/b" "column 'f3' is not a column" "the error names the channel"
finish
