#!/usr/bin/env bash
# SIGKILL in the middle of a node: the database stays intact, the next command
# marks the run interrupted, and a rerun reuses the nodes that had finished.
source "$(dirname "$0")/lib.sh"
export LATHE_PLUGIN_PATH="$LATHE_TESTKIT_DIR"
cat >"$TMP/p.json" <<'JSON'
{"nodes": [{"id": "first", "use": "transform/noop", "with": {"value": 4}},
  {"id": "quick", "use": "transform/noop", "in": {"data": "first"}},
  {"id": "slow", "use": "transform/sleep", "in": {"data": "quick"}, "with": {"seconds": 60}},
  {"id": "last", "use": "transform/noop", "in": {"data": "slow"}}]}
JSON
"$LATHE_BIN" run --jobs 1 --store "$TMP/store" "$TMP/p.json" >"$TMP/k.out" 2>&1 &
pid=$!
# Wait until the slow node is running (recorded in the store), then kill.
for _ in $(seq 1 100); do
  # -s first: the sqlite3 shell would create an empty lathe.db, which Lathe refuses.
  n=$([ -s "$TMP/store/lathe.db" ] && sqlite3 "$TMP/store/lathe.db" "SELECT count(*) FROM executions WHERE node = 'slow' AND status = 'running'" 2>/dev/null || echo 0)
  [ "$n" = "1" ] && break
  sleep 0.1
done
[ "$n" = "1" ] && pass "slow node started" || fail "slow node never started"
kill -9 $pid
wait $pid 2>/dev/null
ic=$(sqlite3 "$TMP/store/lathe.db" "PRAGMA integrity_check")
[ "$ic" = "ok" ] && pass "integrity_check after SIGKILL" || fail "integrity_check: $ic"

run_lathe "$TMP/l" runs list --json --store "$TMP/store"
expect_code "$TMP/l" 0 "runs list after the kill"
expect_py "$TMP/l.out" "d[0]['status'] == 'interrupted'" "the killed run is marked interrupted"
st=$(sqlite3 "$TMP/store/lathe.db" "SELECT node || '=' || status FROM executions ORDER BY id" | tr '\n' ' ')
[ "$st" = "first=succeeded quick=succeeded slow=interrupted " ] && pass "executions: $st" || fail "executions: $st"

run_lathe "$TMP/r" run --json --store "$TMP/store" --set slow.seconds=0.05 "$TMP/p.json"
expect_code "$TMP/r" 0 "rerun after the kill"
expect_py "$TMP/r.out" "{n['id']: n['status'] for n in d['nodes']} == {'first': 'cached', 'quick': 'cached', 'slow': 'succeeded', 'last': 'succeeded'}" "rerun reuses the finished nodes"

# SIGINT (Ctrl-C): the running node is cancelled, the run ends "interrupted", exit 1.
"$LATHE_BIN" run --json --store "$TMP/int" "$TMP/p.json" >"$TMP/int.out" 2>"$TMP/int.err" &
pid=$!
for _ in $(seq 1 100); do
  # -s first: the sqlite3 shell would create an empty lathe.db, which Lathe refuses.
  n=$([ -s "$TMP/int/lathe.db" ] && sqlite3 "$TMP/int/lathe.db" "SELECT count(*) FROM executions WHERE node = 'slow' AND status = 'running'" 2>/dev/null || echo 0)
  [ "$n" = "1" ] && break
  sleep 0.1
done
start=$(date +%s%N)
kill -INT $pid
wait $pid
code=$?
ms=$(( ($(date +%s%N) - start) / 1000000 ))
[ $code = 1 ] && pass "SIGINT: exit 1" || fail "SIGINT: exit $code"
[ $ms -lt 5000 ] && pass "SIGINT: stopped in ${ms} ms" || fail "SIGINT: took ${ms} ms"
expect_py "$TMP/int.out" "{n['id']: n['status'] for n in d['nodes']} == {'first': 'succeeded', 'quick': 'succeeded', 'slow': 'failed', 'last': 'skipped'}" "SIGINT: the running node is cancelled, its dependents skipped"
st=$(sqlite3 "$TMP/int/lathe.db" "SELECT status FROM runs")
[ "$st" = interrupted ] && pass "SIGINT: run recorded interrupted" || fail "SIGINT: run is $st"
finish
