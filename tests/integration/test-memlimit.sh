#!/bin/bash
# Under an address-space limit (ulimit -v) OpenBLAS spun for ever in its
# buffer allocation, or GLib aborted creating a thread. Now a run either fits
# (fewer nodes at once, one BLAS thread, one malloc arena, small stacks) or
# is refused with one line naming the limit: never a hang, never a signal.
source "$(dirname "$0")/lib.sh"
# AddressSanitizer reserves terabytes of address space for its shadow memory
# and cannot start under any ulimit -v; the plain gcc and clang builds run
# this test.
if [ "${LATHE_SANITIZED:-false}" = true ]; then
  echo "1..0 # SKIP AddressSanitizer cannot run under an address-space limit"
  exit 77
fi
cp "$LATHE_SOURCE_DIR/examples/iris/pipeline.json" "$LATHE_SOURCE_DIR/examples/iris/iris.csv" "$TMP/"
cd "$TMP"
for kb in 150000 300000 500000 800000; do
  rm -rf .lathe
  start=$(date +%s)
  (ulimit -v $kb; timeout -k 5 60 "$LATHE_BIN" run --no-cache pipeline.json >m$kb.out 2>m$kb.err)
  code=$?
  took=$(($(date +%s) - start))
  if [ $code -eq 0 ] || [ $code -eq 1 ]; then pass "ulimit -v $kb: exit $code in ${took}s"
  else fail "ulimit -v $kb: exit $code in ${took}s: $(head -c 400 m$kb.err)"; fi
  [ $took -lt 60 ] && pass "ulimit -v $kb: within 60 s" || fail "ulimit -v $kb: took ${took}s"
  if grep -qE 'GLib-ERROR|MEMORY-ERROR|CRITICAL|OpenBLAS (:|warning)' m$kb.err; then fail "ulimit -v $kb: $(head -c 400 m$kb.err)"
  else pass "ulimit -v $kb: no abort or OpenBLAS message"; fi
  if [ $code -eq 1 ]; then
    [ "$(wc -l <m$kb.err)" = 1 ] && grep -q '^lathe: the address-space limit (ulimit -v '"$kb"')' m$kb.err &&
      pass "ulimit -v $kb: one line naming the limit" || fail "ulimit -v $kb: stderr: $(head -c 600 m$kb.err)"
  fi
done
# Large enough limits must run, not just refuse.
grep -q 'succeeded' m500000.out && pass "500 MB: the run succeeds" || fail "500 MB: $(tail -3 m500000.out)"
grep -q 'succeeded' m800000.out && pass "800 MB: the run succeeds" || fail "800 MB: $(tail -3 m800000.out)"
grep -q 'ulimit -v 150000' m150000.err && pass "150 MB: refused" || fail "150 MB: $(head -c 300 m150000.err)"
# An explicit --jobs is kept, and the refusal says to lower it.
(ulimit -v 300000; timeout -k 5 60 "$LATHE_BIN" run --jobs 2 --no-cache pipeline.json >j.out 2>j.err)
code=$?
[ $code -eq 1 ] && grep -q 'fewer --jobs' j.err && pass "--jobs 2 at 300 MB: refused, says fewer --jobs" ||
  fail "--jobs 2 at 300 MB: exit $code: $(head -c 300 j.err)"
finish
