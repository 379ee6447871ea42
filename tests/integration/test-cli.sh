#!/usr/bin/env bash
# The CLI's contract: --json everywhere, exit codes, help.
source "$(dirname "$0")/lib.sh"
run_lathe "$TMP/v" --version --json
expect_code "$TMP/v" 0 "--version"
# The ABI the binary reports is the one the SDK header defines.
abi="$(sed -n 's/^#define LATHE_ABI_MAJOR \([0-9]*\)$/\1/p' "$LATHE_SOURCE_DIR/sdk/lathe/lathe-plugin.h").$(sed -n 's/^#define LATHE_ABI_MINOR \([0-9]*\)$/\1/p' "$LATHE_SOURCE_DIR/sdk/lathe/lathe-plugin.h")"
expect_py "$TMP/v.out" "d['abi'] == '$abi' and 'core' in d['blas']" "--version --json has ABI $abi and BLAS"
# The Prescott fallback: pretend OpenBLAS reported it; Lathe must re-execute
# itself with OPENBLAS_CORETYPE set (when the CPU has AVX2 or AVX-512).
if grep -qE ' (avx2|avx512f) ' /proc/cpuinfo; then
  LATHE_BLAS_PRETEND_CORE=Prescott OPENBLAS_CORETYPE= run_lathe "$TMP/bf" --version --json
  expect_py "$TMP/bf.out" "'detected Prescott, a fallback; Lathe set OPENBLAS_CORETYPE=' in d['blas'] and 'core Prescott' not in d['blas']" "Prescott fallback re-executes with OPENBLAS_CORETYPE ($(json_get "$TMP/bf.out" "d['blas']"))"
else
  echo "skip - this CPU has neither AVX2 nor AVX-512: no fallback to fix"
fi
OPENBLAS_CORETYPE=Haswell run_lathe "$TMP/bu" --version --json
expect_py "$TMP/bu.out" "'OPENBLAS_CORETYPE=Haswell from the environment' in d['blas']" "the user's OPENBLAS_CORETYPE wins"
run_lathe "$TMP/h" --help
expect_code "$TMP/h" 0 "--help"
run_lathe "$TMP/p" plugins --json
expect_code "$TMP/p" 0 "plugins --json"
expect_py "$TMP/p.out" "{'source/csv', 'transform/split', 'model/logreg', 'evaluator/classification', 'tuner/grid', 'tracker/sqlite', 'registry/local'} <= {c['id'] for c in d['components']}" "one plugin of each core kind"
run_lathe "$TMP/i" plugins inspect model/logreg
expect_code "$TMP/i" 0 "plugins inspect"
grep -qE "^  l2 +float +0.0001 +\[0, 1000\] log" "$TMP/i.out" && pass "inspect prints type, default, bounds, log" || fail "inspect text: $(grep l2 "$TMP/i.out")"
run_lathe "$TMP/ij" plugins inspect --json tuner/grid
expect_py "$TMP/ij.out" "[p['name'] for p in d['params']][:3] == ['objective', 'direction', 'space'] and all('doc' in p for p in d['params'])" "inspect --json lists the host's tuner params"
run_lathe "$TMP/iu" plugins inspect model/lograg
expect_code "$TMP/iu" 2 "inspect unknown"
expect_err "$TMP/iu" "did you mean 'model/logreg'" "inspect suggests"
mkdir -p "$TMP/empty"
cd "$TMP/empty"
run_lathe "$TMP/rl" runs list
expect_code "$TMP/rl" 2 "runs list without a store"
expect_err "$TMP/rl" "no run store at" "says there is no store"
finish
