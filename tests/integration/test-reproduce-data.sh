#!/usr/bin/env bash
# `lathe reproduce` on the data examples: examples/ideko/pipeline.json (the
# fast one: four neural families) and examples/nab/pipeline.json come out
# bit-identical. The ideko run uses --jobs 1, which gives its nodes all the
# cores as BLAS threads: its models' bytes depend on that, so this checks
# that the reproduction takes the recorded jobs and BLAS threads, not this
# command's defaults. A copy of its store with another recorded machine (and
# BLAS threads) says so first and shows metric deltas, not a bare "differ".
# Skipped (exit 77) when ../shared/data is absent.
source "$(dirname "$0")/lib.sh"
DATA="${LATHE_SHARED_DATA:-}"
if [ -z "$DATA" ] || [ ! -d "$DATA/ideko" ] || [ ! -d "$DATA/nab" ]; then
  echo "skip - ideko/ and nab/ not found in '$DATA' (set LATHE_SHARED_DATA to the folder holding them)"
  exit 77
fi
DATA=$(cd "$DATA" && pwd)
# The examples read ../../../shared/data from their folder: here, $DATA.
example() { # NAME
  mkdir -p "$TMP/$1"
  sed "s#\.\./\.\./\.\./shared/data#$DATA#g" "$LATHE_SOURCE_DIR/examples/$1/pipeline.json" >"$TMP/$1/pipeline.json"
}

example ideko
run_lathe "$TMP/i" run --json -j 1 "$TMP/ideko/pipeline.json"
expect_code "$TMP/i" 0 "ideko runs with --jobs 1"
RUN=$(json_get "$TMP/i.out" "d['run_id']")
S="$TMP/ideko/.lathe"
run_lathe "$TMP/ri" reproduce --store "$S" --json "$RUN"
expect_code "$TMP/ri" 0 "ideko reproduces"
expect_py "$TMP/ri.out" "d['identical'] and d['environment']['recorded']['jobs'] == 1" "every output identical, with the recorded jobs"
expect_py "$TMP/ri.out" "{r['node'] for r in d['outputs']} >= {'mlp', 'cnn', 'rnn', 'lstm', 'eval_rnn', 'compare'}" "the four models and their evaluations are compared"

# Recorded elsewhere: another CPU and kernels, and one BLAS thread a node
# with two nodes at once (what --jobs 2 gives on two cores).
recorded_elsewhere "$S" "$RUN" '{"cpu": "Imaginary CPU 9000", "blas_core": "Prescott", "jobs": 2, "blas_threads": 1}'
rm -rf "$TMP/other/reproduce"
run_lathe "$TMP/k" reproduce --store "$TMP/other" "$RUN"
head -1 "$TMP/k.err" | grep -qE "^recorded on Imaginary CPU 9000 \(BLAS core Prescott, .*\), reproducing on .*: floating-point results may differ$" \
  && pass "other kernels are said first" || fail "first line: $(head -1 "$TMP/k.err")"
if [ "$(cat "$TMP/k.code")" = 1 ]; then
  pass "digests differ with other BLAS threads: exit 1"
  grep -qE "^    accuracy: [0-9.e-]+ -> [0-9.e-]+ \([+-]" "$TMP/k.out" \
    && pass "differences come with metric deltas" || fail "no metric deltas: $(head -c 1500 "$TMP/k.out")"
  run_lathe "$TMP/kj" reproduce --store "$TMP/other" --json "$RUN"
  expect_py "$TMP/kj.out" "not d['identical'] and any(r['metric_deltas'] for r in d['outputs'] if not r['identical'])" "--json gives the deltas"
  expect_py "$TMP/kj.out" "all(set(m) == {'original', 'reproduced', 'delta'} for r in d['outputs'] if not r['identical'] for m in r['metric_deltas'].values())" "each delta: original, reproduced, delta"
else
  pass "one core: BLAS threads change nothing here (exit $(cat "$TMP/k.code"))"
fi

# The user's OPENBLAS_NUM_THREADS rules when OpenBLAS loads: the record says
# what was in effect (1 here, not cores / jobs), and the reproduction, run
# without the variable, uses it. A reduced ideko keeps this quick.
mkdir -p "$TMP/small"
$PY - "$TMP/ideko/pipeline.json" >"$TMP/small/pipeline.json" <<'PYEOF'
import json, sys
p = json.load(open(sys.argv[1]))
for n in p["nodes"]:
    if n["use"] == "source/recordings":
        n["with"]["max_per_class"] = 6
    if n["use"].startswith("model/"):
        n["with"]["epochs"] = 4
print(json.dumps(p))
PYEOF
OPENBLAS_NUM_THREADS=1 run_lathe "$TMP/s" run --json -j 1 "$TMP/small/pipeline.json"
expect_code "$TMP/s" 0 "a reduced ideko runs with OPENBLAS_NUM_THREADS=1 and --jobs 1"
run_lathe "$TMP/rs" reproduce --store "$TMP/small/.lathe" --json "$(json_get "$TMP/s.out" "d['run_id']")"
expect_py "$TMP/rs.out" "d['environment']['recorded']['blas_threads'] == 1 and d['environment']['recorded']['jobs'] == 1" "the record holds the BLAS threads in effect"
expect_code "$TMP/rs" 0 "it reproduces without the variable"
# Which is what made it identical: two threads give other bits.
if [ "$(nproc)" -gt 1 ]; then
  $PY - "$TMP/small/.lathe/lathe.db" <<'PYEOF'
import json, sqlite3, sys
db = sqlite3.connect(sys.argv[1])
for run_id, text in db.execute("SELECT run_id, environment FROM run_environment").fetchall():
    env = json.loads(text)
    env["blas_threads"] = 2
    db.execute("UPDATE run_environment SET environment = ? WHERE run_id = ?", (json.dumps(env), run_id))
db.commit()
PYEOF
  run_lathe "$TMP/rs2" reproduce --store "$TMP/small/.lathe" "$(json_get "$TMP/s.out" "d['run_id']")"
  expect_code "$TMP/rs2" 1 "recorded as two BLAS threads, the reproduction differs"
fi

example nab
run_lathe "$TMP/n" run --json "$TMP/nab/pipeline.json"
expect_code "$TMP/n" 0 "nab runs"
run_lathe "$TMP/rn" reproduce --store "$TMP/nab/.lathe" --json "$(json_get "$TMP/n.out" "d['run_id']")"
expect_code "$TMP/rn" 0 "nab reproduces"
expect_py "$TMP/rn.out" "d['identical'] and len(d['outputs']) >= 10" "every nab output is identical"
finish
