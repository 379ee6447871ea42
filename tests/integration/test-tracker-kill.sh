#!/usr/bin/env bash
# kill -9 during a run and while shipping (issue 13): the journal and the
# store stay consistent, and `lathe tracker sync` afterwards loses nothing and
# doubles nothing.
source "$(dirname "$0")/lib.sh"
# A working tracker has everything at the end of a run, however loaded the
# machine: a generous final flush (the slow-server case sets the default).
export LATHE_TRACKER_FLUSH_MS=120000
export LATHE_PLUGIN_PATH="$LATHE_TESTKIT_DIR:$LATHE_FLAKY_DIR"
CHECK="$(dirname "$0")/tracker-check.py"
cat >"$TMP/p.json" <<'JSON'
{"name": "quad", "seed": 3, "nodes": [
  {"id": "tune", "use": "tuner/grid",
   "with": {"objective": "f.value", "direction": "minimize", "space": {"f.x": [0.1, 0.2, 0.3, 0.4]},
            "parallel_trials": 1},
   "trial": {"nodes": [{"id": "f", "use": "transform/objective",
                        "with": {"steps": 150, "step_seconds": 0.02}}]}}]}
JSON
export LATHE_FLAKY_DB="$TMP/f.db"
# A slow server: the shipper is mid-batch most of the time.
LATHE_FLAKY_SLEEP_MS=40 "$LATHE_BIN" run --store "$TMP/s" --tracker flaky "$TMP/p.json" >"$TMP/k.out" 2>&1 &
pid=$!
for _ in $(seq 1 200); do
  n=$([ -s "$TMP/f.db" ] && sqlite3 "$TMP/f.db" "SELECT count(*) FROM items WHERE kind = 'metric'" 2>/dev/null || echo 0)
  [ "${n:-0}" -ge 20 ] && break
  sleep 0.05
done
[ "${n:-0}" -ge 20 ] && pass "shipping under way ($n points applied)" || fail "shipping never started"
kill -9 $pid
wait $pid 2>/dev/null
ic=$(sqlite3 "$TMP/s/lathe.db" "PRAGMA integrity_check")
[ "$ic" = ok ] && pass "integrity_check after SIGKILL" || fail "integrity_check: $ic"
# Store rows and journal rows were committed together: every stored report has its point.
# Both sides count the trials' reports alone ("loss"): a step metric of another
# node (the tuner's, once a trial completed) has a journal point of its own key.
stored=$(stored_reports "$TMP/s/lathe.db" loss)
journaled=$(journaled_reports "$TMP/s/lathe.db" f.loss)
[ "$stored" = "$journaled" ] && [ "$stored" -gt 0 ] && pass "store and journal agree ($stored reports)" || fail "store $stored reports, journal $journaled"
pending=$(sqlite3 "$TMP/s/lathe.db" "SELECT count(*) FROM tracker_journal WHERE state = 'pending'")
[ "$pending" -gt 0 ] && pass "rows left pending ($pending)" || fail "nothing pending after the kill"
run_lathe "$TMP/sy" tracker sync --store "$TMP/s"
expect_code "$TMP/sy" 0 "sync after the kill"
$PY "$CHECK" "$TMP/s" "$TMP/f.db" tracker/flaky >"$TMP/c.json"
expect_py "$TMP/c.json" "d['expected'] > 20 and d['missing'] == [] and d['extra'] == []" "nothing lost, nothing extra"
expect_py "$TMP/c.json" "d['max_n'] <= 2" "only the batch in flight was sent again"
expect_py "$TMP/c.json" "d['states'] == {'acked': sum(d['states'].values())}" "all acked"
# Trials shipped by the sync, a process that never started their parent: the
# parent still named by the tracker's id.
run=$(sqlite3 "$TMP/s/lathe.db" "SELECT id FROM runs")
tags=$(sqlite3 "$TMP/f.db" "SELECT group_concat(DISTINCT value) FROM items WHERE kind = 'tag' AND key = 'mlflow.parentRunId'")
[ "$tags" = "flaky-$run" ] && pass "mlflow.parentRunId in the tracker's ids" || fail "mlflow.parentRunId tags: $tags (run $run)"
# A second sync sends nothing again.
before=$(sqlite3 "$TMP/f.db" "SELECT sum(n) FROM items")
run_lathe "$TMP/sy2" tracker sync --store "$TMP/s"
after=$(sqlite3 "$TMP/f.db" "SELECT sum(n) FROM items")
[ "$before" = "$after" ] && pass "acked rows are never sent again" || fail "applies: $before -> $after"
# The next run marks the killed one interrupted and still ships its own.
run_lathe "$TMP/r2" run --json --store "$TMP/s" --tracker flaky --set tune.max_trials=1 "$TMP/p.json"
expect_code "$TMP/r2" 0 "the next run"
run_lathe "$TMP/st" tracker status --json --store "$TMP/s"
expect_py "$TMP/st.out" "sum(r['pending'] for r in d) == 0" "nothing pending"
finish
