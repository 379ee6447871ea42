#!/usr/bin/env bash
# Slow suite: large graphs, and SIGKILL at random moments, many times.
source "$(dirname "$0")/lib.sh"
export LATHE_PLUGIN_PATH="$LATHE_TESTKIT_DIR"

for kind in chain fan; do
  $PY - "$kind" "$TMP/$kind.json" <<'PY'
import json, sys
kind, out = sys.argv[1], sys.argv[2]
nodes = [{"id": "n0", "use": "transform/noop"}]
for i in range(1, 1000):
    nodes.append({"id": "n%d" % i, "use": "transform/noop",
                  "in": {"data": "n%d" % (i - 1) if kind == "chain" else "n0"}})
json.dump({"nodes": nodes}, open(out, "w"))
PY
  run_lathe "$TMP/$kind-1" run --json --store "$TMP/s-$kind" "$TMP/$kind.json"
  expect_code "$TMP/$kind-1" 0 "$kind of 1000 nodes"
  expect_py "$TMP/$kind-1.out" "len(d['nodes']) == 1000 and all(n['status'] == 'succeeded' for n in d['nodes'])" "$kind: 1000 nodes succeeded"
  run_lathe "$TMP/$kind-2" run --json --store "$TMP/s-$kind" "$TMP/$kind.json"
  expect_py "$TMP/$kind-2.out" "len(d['nodes']) == 1000 and all(n['status'] == 'cached' for n in d['nodes'])" "$kind: rerun all cached"
  n=$(sqlite3 "$TMP/s-$kind/lathe.db" "SELECT count(*) FROM executions")
  [ "$n" = 2000 ] && pass "$kind: 2000 executions recorded" || fail "$kind: $n executions recorded"
done

# 40 sleeping nodes in a chain, killed at random moments.
$PY - "$TMP/sleepy.json" <<'PY'
import json, sys
nodes = [{"id": "s0", "use": "transform/sleep", "with": {"seconds": 0.05}}]
for i in range(1, 40):
    nodes.append({"id": "s%d" % i, "use": "transform/sleep", "with": {"seconds": 0.05},
                  "in": {"data": "s%d" % (i - 1)}})
json.dump({"nodes": nodes}, open(sys.argv[1], "w"))
PY
RANDOM=7
for round in 1 2 3 4 5 6; do
  "$LATHE_BIN" run --store "$TMP/k" "$TMP/sleepy.json" >/dev/null 2>&1 &
  pid=$!
  sleep "0.$((RANDOM % 6 + 2))"
  kill -9 $pid 2>/dev/null
  wait $pid 2>/dev/null
  ic=$(sqlite3 "$TMP/k/lathe.db" "PRAGMA integrity_check")
  [ "$ic" = ok ] && pass "round $round: integrity_check ok" || fail "round $round: $ic"
done
run_lathe "$TMP/kf" run --json --store "$TMP/k" "$TMP/sleepy.json"
expect_code "$TMP/kf" 0 "final run completes"
expect_py "$TMP/kf.out" "sum(n['status'] == 'cached' for n in d['nodes']) > 0" "final run reused earlier work ($(json_get "$TMP/kf.out" "sum(n['status'] == 'cached' for n in d['nodes'])") cached)"
run_lathe "$TMP/kl" runs list --json --store "$TMP/k"
expect_py "$TMP/kl.out" "sum(r['status'] == 'interrupted' for r in d) >= 5 and d[0]['status'] == 'succeeded'" "killed runs marked interrupted"
leftover=$(find "$TMP/k/artifacts/tmp" -type f | wc -l)
[ "$leftover" -le 6 ] && pass "at most one temp file per kill ($leftover)" || fail "$leftover temp files"
finish
