#!/usr/bin/env bash
# Many writers on one store: 8 runs of mixed pipelines at once, several
# rounds, on a store none of them created. No run may fail for the store's
# sake ("database is locked"), every run ends succeeded with all its nodes
# recorded, and a reader during the store's creation never sees it half made.
source "$(dirname "$0")/lib.sh"
export LATHE_PLUGIN_PATH="$LATHE_TESTKIT_DIR"
ROUNDS=${LATHE_CONCURRENT_ROUNDS:-3}
WRITERS=${LATHE_CONCURRENT_WRITERS:-8}
cp -r "$LATHE_SOURCE_DIR/examples/iris" "$TMP/iris"
rm -rf "$TMP/iris/.lathe"
# Small pipelines beside iris: a chain, a fan and a slow one that outlives
# the short ones (a short run must not mark a live long one interrupted).
$PY - "$TMP" <<'PY'
import json, sys
d = sys.argv[1]
chain = [{"id": "c0", "use": "transform/noop", "with": {"value": 1}}]
chain += [{"id": "c%d" % i, "use": "transform/noop", "in": {"data": "c%d" % (i - 1)}} for i in range(1, 30)]
json.dump({"nodes": chain}, open(d + "/chain.json", "w"))
fan = [{"id": "f0", "use": "transform/noop", "with": {"value": 2}}]
fan += [{"id": "f%d" % i, "use": "transform/noop", "in": {"data": "f0"}} for i in range(1, 30)]
json.dump({"nodes": fan}, open(d + "/fan.json", "w"))
slow = [{"id": "s0", "use": "transform/noop"},
        {"id": "s1", "use": "transform/sleep", "in": {"data": "s0"}, "with": {"seconds": 1.5}},
        {"id": "s2", "use": "transform/noop", "in": {"data": "s1"}}]
json.dump({"nodes": slow}, open(d + "/slow.json", "w"))
PY
pipes=("$TMP/iris/pipeline.json" "$TMP/chain.json" "$TMP/fan.json" "$TMP/slow.json")
store="$TMP/store"
expected=0
for round in $(seq 1 "$ROUNDS"); do
  pids=()
  for w in $(seq 1 "$WRITERS"); do
    p=${pipes[$(( (w + round) % ${#pipes[@]} ))]}
    # --no-cache on odd writers: cached and uncached runs mix their writes.
    extra=(); [ $((w % 2)) = 1 ] && extra=(--no-cache)
    "$LATHE_BIN" run --json --store "$store" "${extra[@]}" "$p" \
      >"$TMP/r$round-$w.out" 2>"$TMP/r$round-$w.err" &
    pids+=($!)
  done
  # A reader while the first round creates the store: it sees no store or a
  # whole one, never an error.
  if [ "$round" = 1 ]; then
    for _ in 1 2 3 4 5; do
      "$LATHE_BIN" runs list --json --store "$store" >"$TMP/l.out" 2>"$TMP/l.err"
      c=$?
      if [ $c != 0 ] && ! grep -q "no run store" "$TMP/l.err"; then
        fail "runs list during creation: exit $c: $(head -c 300 "$TMP/l.err")"
      fi
      sleep 0.05
    done
  fi
  bad=0
  for i in "${!pids[@]}"; do
    wait "${pids[$i]}"; c=$?
    w=$((i + 1))
    if [ $c != 0 ]; then bad=$((bad + 1)); echo "round $round writer $w: exit $c: $(head -c 400 "$TMP/r$round-$w.err")"; fi
  done
  expected=$((expected + WRITERS))
  [ $bad = 0 ] && pass "round $round: $WRITERS concurrent runs succeeded" || fail "round $round: $bad of $WRITERS runs failed"
done
n=$(sqlite3 "$store/lathe.db" "SELECT count(*) FROM runs WHERE status = 'succeeded'")
[ "$n" = "$expected" ] && pass "all $expected runs recorded succeeded" || fail "$n of $expected runs recorded succeeded: $(sqlite3 "$store/lathe.db" "SELECT status, count(*) FROM runs GROUP BY status" | tr '\n' ' ')"
left=$(sqlite3 "$store/lathe.db" "SELECT count(*) FROM executions WHERE status NOT IN ('succeeded','cached','skipped')")
[ "$left" = 0 ] && pass "no execution left running, interrupted or failed" || fail "$left executions not finished: $(sqlite3 "$store/lathe.db" "SELECT node, status, error FROM executions WHERE status NOT IN ('succeeded','cached','skipped') LIMIT 5" | tr '\n' ' ')"
# Every run has all its nodes: compare with its own --json output.
ok=1
for f in "$TMP"/r*-*.out; do
  rid=$(json_get "$f" "d['run_id']" 2>/dev/null) || { ok=0; echo "no run id in $f"; continue; }
  want=$(json_get "$f" "len(d['nodes'])")
  got=$(sqlite3 "$store/lathe.db" "SELECT count(*) FROM executions WHERE run_id = '$rid'")
  [ "$want" = "$got" ] || { ok=0; echo "run $rid: $got of $want nodes recorded"; }
done
[ $ok = 1 ] && pass "every run has all its nodes recorded" || fail "runs with missing nodes"
ic=$(sqlite3 "$store/lathe.db" "PRAGMA integrity_check")
[ "$ic" = ok ] && pass "integrity_check" || fail "integrity_check: $ic"
if grep -l "database is locked" "$TMP"/r*.err >/dev/null 2>&1; then fail "a run printed 'database is locked'"; else pass "no 'database is locked'"; fi
finish
