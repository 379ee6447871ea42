#!/usr/bin/env bash
# Plugins that crash or block while they are looked at (tests/plugins/bad-plugins)
# sit on the plugin path next to good ones: `lathe plugins` and `lathe run`
# still finish, in bounded time, each refusing every bad file in one line,
# because files are scanned in a child with a timeout. The refusals are cached:
# the next command opens none of them; a touched file is scanned again and a
# fixed one loads.
source "$(dirname "$0")/lib.sh"

export LATHE_CACHE_DIR="$TMP/cache" LATHE_SCAN_TIMEOUT=2 LATHE_TEST_SCAN_LOG="$TMP/opened.log"
mkdir -p "$TMP/bad"
for v in query_segv ctor_abort ctor_loop ctor_sleep; do
  cp "$LATHE_BAD_PLUGINS_DIR/libbad-$v.so" "$TMP/bad/"
done
# A good plugin sorted after the bad ones: a crash does not lose the files after it.
cp "$LATHE_ABI_DIR/old_minor/libabi-old_minor.so" "$TMP/bad/libz-good.so"
export LATHE_PLUGIN_PATH="$TMP/bad"
cp -r "$LATHE_SOURCE_DIR/examples/iris" "$TMP/iris"
rm -rf "$TMP/iris/.lathe"

opened() { [ -f "$LATHE_TEST_SCAN_LOG" ] && wc -l <"$LATHE_TEST_SCAN_LOG" || echo 0; }
# timed PREFIX ARGS...: run_lathe under a hard limit; the seconds in PREFIX.secs
timed() {
  local out="$1"; shift
  local t0; t0=$(date +%s%N)
  timeout -k 5 60 "$LATHE_BIN" "$@" >"$out.out" 2>"$out.err"
  echo $? >"$out.code"
  echo $(( ($(date +%s%N) - t0) / 1000000 )) >"$out.ms"
}
refusals() { # prefix: the four refusals, one line each, naming the file and what happened
  expect_err "$1" "libbad-query_segv.so refused: crashed with SIGSEGV while being scanned; remove it from the plugin path or rebuild it" "$2: segfault in lathe_plugin_query"
  expect_err "$1" "libbad-ctor_abort.so refused: crashed with SIGABRT while being scanned" "$2: abort in a constructor"
  expect_err "$1" "libbad-ctor_loop.so refused: did not answer within 2 s while being scanned" "$2: endless loop in a constructor"
  expect_err "$1" "libbad-ctor_sleep.so refused: did not answer within 2 s while being scanned" "$2: sleep in a constructor"
  local n; n=$(grep -c "refused" "$1.err")
  [ "$n" = 4 ] && pass "$2: one line per refused plugin" || fail "$2: $n refusal lines: $(cat "$1.err")"
}

timed "$TMP/p1" plugins
expect_code "$TMP/p1" 2 "lathe plugins with bad plugins on the path (refusals: exit 2)"
refusals "$TMP/p1" "plugins"
grep -q "source  *csv" "$TMP/p1.out" && pass "bundled plugins still listed" || fail "bundled plugins missing"
grep -q "model  *oldminor" "$TMP/p1.out" && pass "a good file after the crashing ones loads" || fail "the file after a crash was lost"
[ "$(cat "$TMP/p1.ms")" -lt 30000 ] && pass "cold scan took $(cat "$TMP/p1.ms") ms (< 30 s)" || fail "cold scan took $(cat "$TMP/p1.ms") ms"
[ "$(opened)" = 4 ] && pass "each bad plugin was opened once (in the scanner)" || fail "bad plugins opened $(opened) times"

# The refusals come from the cache: nothing is opened again, no time is lost.
cd "$TMP/iris"
timed "$TMP/r1" run pipeline.json
expect_code "$TMP/r1" 0 "lathe run with bad plugins on the path: the iris run succeeds"
refusals "$TMP/r1" "run (warnings)"
[ "$(grep -c "^warning: plugin .* refused: " "$TMP/r1.err")" = 4 ] && pass "run: refusals are warnings" || fail "$(cat "$TMP/r1.err")"
[ "$(opened)" = 4 ] && pass "the cached run opened no bad plugin" || fail "bad plugins opened $(opened) times"
timed "$TMP/p2" plugins
[ "$(cat "$TMP/p2.ms")" -lt 1900 ] && pass "cached: no scan timeout waited ($(cat "$TMP/p2.ms") ms)" || fail "cached plugins took $(cat "$TMP/p2.ms") ms"
refusals "$TMP/p2" "cached plugins"
[ "$(opened)" = 4 ] && pass "cached plugins opened no bad plugin" || fail "bad plugins opened $(opened) times"

# A touched file is scanned again (and refused again); the others are not.
sleep 0.01; touch "$TMP/bad/libbad-ctor_sleep.so"
timed "$TMP/p3" plugins
refusals "$TMP/p3" "after touch"
[ "$(opened)" = 5 ] && tail -1 "$LATHE_TEST_SCAN_LOG" | grep -q ctor_sleep \
  && pass "only the touched file was scanned again" || fail "opened: $(cat "$LATHE_TEST_SCAN_LOG" | tr '\n' ' ')"

# A fixed file (here: replaced by a good plugin) loads.
cp "$LATHE_ABI_DIR/old_minor/libabi-old_minor.so" "$TMP/fixed.so"
rm "$TMP/bad/libz-good.so"; mv "$TMP/fixed.so" "$TMP/bad/libbad-query_segv.so"
timed "$TMP/p4" plugins
expect_err "$TMP/p4" "libbad-ctor_abort.so refused: crashed with SIGABRT" "the other refusals stay"
grep -q "libbad-query_segv.so refused" "$TMP/p4.err" && fail "the fixed file is still refused" || pass "the fixed file is not refused"
grep -q "model  *oldminor.*libbad-query_segv.so" "$TMP/p4.out" && pass "the fixed file loads" || fail "fixed file not listed: $(cat "$TMP/p4.out" | grep -i old)"
[ "$(grep -c refused "$TMP/p4.err")" = 3 ] && pass "three refusals left" || fail "$(cat "$TMP/p4.err")"

# A scanner killed from outside (Ctrl-C reaches the whole process group)
# refuses the file this time only: the next command scans it again.
mkdir -p "$TMP/slow"
cp "$LATHE_BAD_PLUGINS_DIR/libbad-ctor_sleep.so" "$TMP/slow/"
export LATHE_PLUGIN_PATH="$TMP/slow" LATHE_TEST_SCAN_LOG="$TMP/slow.log"
LATHE_SCAN_TIMEOUT=30 timeout -k 5 60 "$LATHE_BIN" plugins >"$TMP/k1.out" 2>"$TMP/k1.err" &
pid=$!
for _ in $(seq 300); do [ -s "$TMP/slow.log" ] && break; sleep 0.1; done
scanner=$(pgrep -P "$(pgrep -P $pid)")  # timeout -> lathe -> its scanner
[ -n "$scanner" ] && kill -TERM $scanner
wait $pid
echo $? >"$TMP/k1.code"
expect_code "$TMP/k1" 2 "a killed scanner"
expect_err "$TMP/k1" "libbad-ctor_sleep.so refused: its scanner was killed by SIGTERM while scanning it; run the command again" "a killed scanner: message"
timed "$TMP/k2" plugins
expect_err "$TMP/k2" "libbad-ctor_sleep.so refused: did not answer within 2 s" "after a killed scanner the file is scanned again"
[ "$(wc -l <"$TMP/slow.log")" = 2 ] && pass "and opened again" || fail "opened $(wc -l <"$TMP/slow.log") times"

# The scanner is the lathe binary itself: its hidden mode answers JSON lines.
"$LATHE_BIN" --scan-plugins "$LATHE_ABI_DIR/old_minor/libabi-old_minor.so" "$TMP/nonesuch.so" >"$TMP/scan.out" 2>/dev/null
$PY - "$TMP/scan.out" <<'PY' && pass "scanner mode: one JSON line per file" || fail "scanner mode: $(cat "$TMP/scan.out")"
import json, sys
lines = open(sys.argv[1]).read().splitlines()
a, b = (json.loads(l) for l in lines)
assert len(lines) == 2 and a["meta"]["name"] == "abi-test-old_minor" and "refused" in b, lines
PY
finish
