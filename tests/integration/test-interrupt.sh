#!/bin/bash
# A node that never looks at cancellation (stuck inside OpenBLAS) kept the
# process alive after SIGTERM for ever: `timeout 30 lathe run` never ended.
# Now a second signal ends it at once, and the grace period after the first
# (LATHE_INTERRUPT_GRACE seconds) does too; the run is recorded interrupted.
source "$(dirname "$0")/lib.sh"
export LATHE_PLUGIN_PATH="$LATHE_TESTKIT_DIR"
cd "$TMP"
write_pipeline p.json <<'P'
{"lathe": 1, "name": "stuck", "nodes": [
  {"id": "spin", "use": "transform/sleep", "with": {"seconds": 120, "stuck": true}}]}
P
runs_status() { "$LATHE_BIN" runs list --json | $PY -c "import json,sys; print(json.load(sys.stdin)[0]['status'])"; }
# 1. One SIGTERM: the grace period ends it.
LATHE_INTERRUPT_GRACE=2 "$LATHE_BIN" run --no-cache p.json >g.out 2>g.err &
pid=$!
sleep 1
start=$(date +%s)
kill -TERM $pid
wait $pid
code=$?
took=$(($(date +%s) - start))
[ $took -le 6 ] && pass "one SIGTERM: ended after the grace period (${took}s)" || fail "one SIGTERM: took ${took}s"
[ $code -eq 143 ] && pass "one SIGTERM: exit 143" || fail "one SIGTERM: exit $code"
grep -q 'grace period' g.err && pass "one SIGTERM: says why" || fail "one SIGTERM: $(cat g.err)"
[ "$(runs_status)" = interrupted ] && pass "one SIGTERM: the run is interrupted" || fail "status $(runs_status)"
# 2. Two signals: at once.
LATHE_INTERRUPT_GRACE=60 "$LATHE_BIN" run --no-cache p.json >t.out 2>t.err &
pid=$!
sleep 1
start=$(date +%s)
kill -INT $pid
sleep 0.3
kill -INT $pid
wait $pid
code=$?
took=$(($(date +%s) - start))
[ $took -le 2 ] && pass "two SIGINTs: ended at once (${took}s)" || fail "two SIGINTs: took ${took}s"
[ $code -eq 130 ] && pass "two SIGINTs: exit 130" || fail "two SIGINTs: exit $code"
grep -q 'interrupted twice' t.err && pass "two SIGINTs: says why" || fail "two SIGINTs: $(cat t.err)"
[ "$(runs_status)" = interrupted ] && pass "two SIGINTs: the run is interrupted" || fail "status $(runs_status)"
# 3. A node that does stop: one signal is still a clean interrupted run.
write_pipeline q.json <<'P'
{"lathe": 1, "name": "polite", "nodes": [
  {"id": "nap", "use": "transform/sleep", "with": {"seconds": 120}}]}
P
"$LATHE_BIN" run --no-cache q.json >q.out 2>q.err &
pid=$!
sleep 1
kill -TERM $pid
wait $pid
code=$?
[ $code -eq 1 ] && pass "a node that stops: exit 1" || fail "a node that stops: exit $code $(cat q.err)"
[ "$(runs_status)" = interrupted ] && pass "a node that stops: recorded interrupted" || fail "status $(runs_status)"
finish
