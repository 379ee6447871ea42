#!/usr/bin/env bash
# `lathe reproduce RUN`: iris, iris-ab (twice: the second A/B reads the
# production model the first promoted) and a TPE study (fresh, then resumed
# with a larger budget) come out
# bit-identical, in a scratch store that leaves the user's registry and
# tracker alone; a changed data file is refused in one line; a changed plugin
# binary is refused without --allow-plugin-change and listed with it; --json
# gives the table; an unknown run id suggests the near one; a run recorded on
# other kernels says so first. ideko and nab: test-reproduce-data.sh.
source "$(dirname "$0")/lib.sh"
copy_iris_ab
first_run() { json_get "$1" "d['run_id']"; }
# The user's state that reproduce must not touch: the rows of the store's,
# the registry's and the tracker's databases, and the registry's blobs
# (SQLite's -wal and -shm files change when a database is only read).
state() {
  $PY - "$1" <<'PYEOF'
import hashlib, os, sqlite3, sys
root = sys.argv[1]
for d, subdirs, files in os.walk(root):
    subdirs[:] = sorted(x for x in subdirs if d != root or x == "registry")
    for f in sorted(files):
        p = os.path.join(d, f)
        if f.endswith(".db"):
            print(p, "\n".join(sqlite3.connect(p).iterdump()))
        elif not f.endswith(("-wal", "-shm")):
            print(p, hashlib.sha256(open(p, "rb").read()).hexdigest())
PYEOF
}

# iris: a grid tuner, trials, a register node.
S="$TMP/iris/.lathe"
run_lathe "$TMP/i1" run --json "$TMP/iris/pipeline.json"
expect_code "$TMP/i1" 0 "iris runs"
RUN=$(first_run "$TMP/i1.out")
run_lathe "$TMP/show" runs show --store "$S" --json "$RUN"
expect_py "$TMP/show.out" \
  "set(d['environment']) >= {'cpu', 'blas', 'blas_core', 'jobs', 'blas_threads'}" \
  "the run records its environment"
state "$S" >"$TMP/state.before"
run_lathe "$TMP/r1" reproduce --store "$S" "$RUN"
expect_code "$TMP/r1" 0 "iris reproduces"
grep -qE "^tune +model +[0-9a-f]{16} +[0-9a-f]{16} +yes$" "$TMP/r1.out" \
  && pass "the table has node, output, both digests and identical" || fail "table: $(cat "$TMP/r1.out")"
grep -q " no$" "$TMP/r1.out" && fail "a row differs: $(grep ' no$' "$TMP/r1.out")" || pass "every row is identical"
expect_err "$TMP/r1" "reproducing run $RUN in $S/reproduce/$RUN-" "the scratch store is named first"
grep -q "recorded on" "$TMP/r1.err" && fail "same machine reported as other kernels" || pass "same kernels: no warning"
state "$S" >"$TMP/state.after"
cmp -s "$TMP/state.before" "$TMP/state.after" && pass "the user's registry and tracker are untouched" \
  || fail "reproduce changed the user's registry or tracker"
[ ! -e "$S/reproduce" ] && pass "the scratch store is removed" || fail "left: $(ls -R "$S/reproduce" | head)"
[ "$(ls "$S/scratch" 2>/dev/null | wc -l)" = 0 ] && pass "nothing left in scratch/" || fail "scratch/ not empty"

# --json: the same table, and --keep keeps the store it names.
run_lathe "$TMP/rj" reproduce --store "$S" --json --keep "${RUN:0:5}"
expect_code "$TMP/rj" 0 "a run id prefix reproduces with --json"
expect_py "$TMP/rj.out" "d['identical'] is True and d['run_id'] == '$RUN' and d['status'] == 'succeeded'" "--json: identical, ids, status"
expect_py "$TMP/rj.out" "all(set(r) >= {'node', 'output', 'original', 'reproduced', 'identical'} and r['identical'] and r['original'] == r['reproduced'] and len(r['original']) == 64 for r in d['outputs'])" \
  "--json rows: node, output, original, reproduced, identical"
expect_py "$TMP/rj.out" "len(d['outputs']) == $(grep -cE ' (yes|no)$' "$TMP/r1.out")" "--json has the table's rows"
expect_py "$TMP/rj.out" "{(r['node'], r['output']) for r in d['outputs']} >= {('data', 'data'), ('tune', 'model'), ('tune', 'metrics'), ('eval', 'metrics'), ('tune/0/model', 'model')}" \
  "rows cover the nodes, the tuner and its trials"
expect_py "$TMP/rj.out" "d['environment']['same_kernel'] is True and d['plugins_changed'] == [] and d['kept'] is True" "--json: environment, plugins, kept"
KEPT=$(json_get "$TMP/rj.out" "d['store']")
run_lathe "$TMP/kl" runs list --store "$KEPT" --json
expect_py "$TMP/kl.out" "[r['run_id'] for r in d] == ['$(json_get "$TMP/rj.out" "d['reproduced_run_id']")']" "--keep keeps the scratch store with the reproduced run"
run_lathe "$TMP/km" models list --store "$KEPT" --json
expect_py "$TMP/km.out" "len(d) == 1 and d[0]['version'] == 1" "the register node registered in the scratch registry"
rm -rf "$S/reproduce"

# A cached rerun is reproduced too (its outputs are the cached artifacts).
run_lathe "$TMP/i2" run --json "$TMP/iris/pipeline.json"
RUN2=$(first_run "$TMP/i2.out")
run_lathe "$TMP/r2" reproduce --store "$S" "$RUN2"
expect_code "$TMP/r2" 0 "a fully cached run reproduces"

# A run started in its pipeline's folder with a relative path, reproduced
# from elsewhere: its relative paths resolve where they did.
(cd "$TMP/iris" && "$LATHE_BIN" run --json --no-cache --seed 3 pipeline.json >"$TMP/rel.out" 2>/dev/null)
(cd "$TMP" && run_lathe "$TMP/rrel" reproduce --store iris/.lathe "$(first_run "$TMP/rel.out")")
expect_code "$TMP/rrel" 0 "a run of a relative pipeline path reproduces from another folder"

# Unknown run: exit 2, one line, with the near id.
run_lathe "$TMP/u" reproduce --store "$S" "${RUN:0:7}x"
expect_code "$TMP/u" 2 "unknown run id"
expect_err "$TMP/u" "did you mean '$RUN'" "an unknown run id suggests the near one"
[ "$(wc -l <"$TMP/u.err")" = 1 ] && pass "one line" || fail "$(cat "$TMP/u.err")"

# A changed local data file is refused in one line.
cp "$TMP/iris/iris.csv" "$TMP/iris.csv.orig"
sed -i '2s/5.1/5.2/' "$TMP/iris/iris.csv"
run_lathe "$TMP/ch" reproduce --store "$S" "$RUN"
expect_code "$TMP/ch" 2 "a changed data file"
expect_err "$TMP/ch" "lathe: $TMP/iris/iris.csv changed since run $RUN (SHA-256" "it names the file and the run"
[ "$(wc -l <"$TMP/ch.err")" = 1 ] && pass "the refusal is one line" || fail "$(cat "$TMP/ch.err")"
[ ! -e "$S/reproduce" ] && pass "nothing was run" || fail "a scratch store was made"
cp "$TMP/iris.csv.orig" "$TMP/iris/iris.csv" # same bytes, new mtime: fine
run_lathe "$TMP/back" reproduce --store "$S" "$RUN"
expect_code "$TMP/back" 0 "the restored file (same bytes, new mtime) reproduces"

# A plugin binary that differs from the recorded one: a copy of transform/split
# with a byte more, first in LATHE_PLUGIN_PATH.
mkdir -p "$TMP/plugins"
cp "$LATHE_BUILD_DIR/plugins/transform-split/liblathe-transform-split.so" "$TMP/plugins/"
printf '\0' >>"$TMP/plugins/liblathe-transform-split.so"
LATHE_PLUGIN_PATH="$TMP/plugins" run_lathe "$TMP/pc" reproduce --store "$S" "$RUN"
expect_code "$TMP/pc" 2 "a changed plugin is refused"
expect_err "$TMP/pc" "lathe: plugin transform-split changed since run $RUN (sha256:" "it names the plugin"
expect_err "$TMP/pc" "pass --allow-plugin-change" "and says how to go on"
[ "$(grep -c '^lathe:' "$TMP/pc.err")" = 1 ] && pass "the refusal is one line" || fail "$(cat "$TMP/pc.err")"
LATHE_PLUGIN_PATH="$TMP/plugins" run_lathe "$TMP/pa" reproduce --store "$S" --json --allow-plugin-change "$RUN"
expect_code "$TMP/pa" 0 "--allow-plugin-change reproduces (the same code)"
expect_err "$TMP/pa" "plugin changed: transform-split (sha256:" "the change is listed"
expect_py "$TMP/pa.out" "[c['plugin'] for c in d['plugins_changed']] == ['transform-split'] and len(d['plugins_changed'][0]['current']) == 64" "--json lists it"

# Another machine: the recorded environment edited in a copy of the store.
recorded_elsewhere "$S" "$RUN" '{"cpu": "Imaginary CPU 9000", "blas_core": "Prescott"}'
run_lathe "$TMP/k" reproduce --store "$TMP/other" "$RUN"
head -1 "$TMP/k.err" | grep -qE "^recorded on Imaginary CPU 9000 \(BLAS core Prescott, .*\), reproducing on .* \(BLAS core .*\): floating-point results may differ$" \
  && pass "other kernels are said first" || fail "first line: $(head -1 "$TMP/k.err")"
expect_code "$TMP/k" 0 "iris's digests still agree"
run_lathe "$TMP/kj" reproduce --store "$TMP/other" --json "$RUN"
expect_py "$TMP/kj.out" "d['environment']['same_kernel'] is False and d['environment']['recorded']['cpu'] == 'Imaginary CPU 9000'" "--json: not the same kernel"

# A store from before environments: its runs reproduce, saying so.
$PY - "$TMP/other/lathe.db" <<'PYEOF'
import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
db.execute("DROP TABLE run_environment")
db.execute("PRAGMA user_version = 2")
db.commit()
PYEOF
run_lathe "$TMP/old" reproduce --store "$TMP/other" "$RUN"
expect_code "$TMP/old" 0 "a run from a schema-2 store reproduces"
expect_err "$TMP/old" "run $RUN predates environment records" "and says its kernels are unknown"

# iris-ab, twice: the second A/B compares against the model the first one
# promoted, so the scratch registry must hold it as it was then.
S="$TMP/iris-ab/.lathe"
run_lathe "$TMP/a1" run --json "$TMP/iris-ab/pipeline.json"
run_lathe "$TMP/a2" run --json --preset shallow_wide --set model.max_depth=3 "$TMP/iris-ab/pipeline.json"
expect_code "$TMP/a2" 0 "iris-ab runs again with another preset and --set"
expect_py "$TMP/a2.out" "d['metrics']['ab.production_version'] == 1" "the second A/B read version 1"
state "$S" >"$TMP/ab.before"
for r in "$(first_run "$TMP/a1.out")" "$(first_run "$TMP/a2.out")"; do
  run_lathe "$TMP/ra-$r" reproduce --store "$S" --json "$r"
  expect_code "$TMP/ra-$r" 0 "iris-ab run $r reproduces"
  expect_py "$TMP/ra-$r.out" "d['identical'] and {r['node'] for r in d['outputs']} >= {'model', 'ab'}" "its model and A/B are identical"
done
state "$S" >"$TMP/ab.after"
cmp -s "$TMP/ab.before" "$TMP/ab.after" && pass "the user's registry keeps its aliases" || fail "registry changed"

# A TPE study with parallel trials.
mkdir -p "$TMP/study"
cp "$TMP/iris/iris.csv" "$TMP/study/"
cat >"$TMP/study/pipeline.json" <<'JSON'
{"lathe": 1, "name": "iris-tpe", "seed": 11, "nodes": [
  {"id": "data", "use": "source/csv", "with": {"path": "iris.csv", "label": "species"}},
  {"id": "split", "use": "transform/split", "in": {"data": "data"}, "with": {"test_fraction": 0.3, "stratify": true}},
  {"id": "tune", "use": "tuner/tpe",
   "with": {"objective": "eval.accuracy", "direction": "maximize", "max_trials": 8, "parallel_trials": 2,
            "n_startup_trials": 4, "space": {"model.l2": {"type": "float", "low": 0.0001, "high": 10, "log": true}}},
   "trial": {"nodes": [
     {"id": "model", "use": "model/logreg", "in": {"train": "split.train"}},
     {"id": "eval", "use": "evaluator/classification", "in": {"model": "model", "data": "split.test"}}]}}]}
JSON
run_lathe "$TMP/t1" run --json "$TMP/study/pipeline.json"
expect_code "$TMP/t1" 0 "the TPE study runs"
run_lathe "$TMP/rt" reproduce --store "$TMP/study/.lathe" --json "$(first_run "$TMP/t1.out")"
expect_code "$TMP/rt" 0 "the TPE study reproduces"
expect_py "$TMP/rt.out" "d['identical'] and sum(1 for r in d['outputs'] if r['node'].startswith('tune/')) >= 16" "every trial's outputs are identical"
# The study resumed with a larger budget: its first 8 trials are replayed
# from the store, which the scratch store must hold as it was then.
run_lathe "$TMP/t2" run --json --set tune.max_trials=12 "$TMP/study/pipeline.json"
expect_py "$TMP/t2.out" "d['metrics']['tune.n_resumed'] == 8" "the study resumes its 8 trials"
run_lathe "$TMP/rt2" reproduce --store "$TMP/study/.lathe" --json "$(first_run "$TMP/t2.out")"
expect_code "$TMP/rt2" 0 "the resumed study reproduces"
expect_py "$TMP/rt2.out" "d['identical'] and {r['node'] for r in d['outputs']} >= {'tune', 'tune/8/model', 'tune/11/eval'}" "with its new trials and the tuner's output"

run_lathe "$TMP/use" reproduce
expect_code "$TMP/use" 2 "no run id"
finish
