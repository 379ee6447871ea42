#!/usr/bin/env bash
# The tracker journal (issue 13): every tracker event is a row in the run
# store, written with the store's own rows and shipped from a background
# thread; a tracker that is down, loses answers or refuses values never fails
# a run, and `lathe tracker sync` ships the rest with nothing lost and
# nothing doubled. tracker/flaky (tests/plugins/common/flaky_tracker) fails
# on purpose; tracker-check.py compares the journal with what it applied.
source "$(dirname "$0")/lib.sh"
# A working tracker has everything at the end of a run, however loaded the
# machine: a generous final flush (the slow-server case sets the default).
export LATHE_TRACKER_FLUSH_MS=120000
export LATHE_PLUGIN_PATH="$LATHE_TESTKIT_DIR:$LATHE_FLAKY_DIR:$LATHE_FLAKY16_DIR"
CHECK="$(dirname "$0")/tracker-check.py"
cat >"$TMP/p.json" <<'JSON'
{"name": "quad", "seed": 3, "nodes": [
  {"id": "m", "use": "transform/metric", "with": {"value": 2.5}},
  {"id": "tune", "use": "tuner/grid",
   "with": {"objective": "f.value", "direction": "minimize", "space": {"f.x": [0.1, 0.2, 0.3]},
            "parallel_trials": 1},
   "trial": {"nodes": [{"id": "f", "use": "transform/objective", "with": {"steps": 20}}]}}]}
JSON
# check NAME STORE FAKE_DB STREAM: tracker-check.py's answer in $TMP/c-NAME.json
check() { $PY "$CHECK" "$2" "$3" "$4" >"$TMP/c-$1.json" 2>"$TMP/c-$1.err" || cat "$TMP/c-$1.err"; }
warnings() { grep -c "^warning: tracker/flaky" "$1.err"; }

# 1. A tracker that works: everything acked, its own run ids mapped, trials nested.
LATHE_FLAKY_DB="$TMP/ok.db" run_lathe "$TMP/ok" run --json --store "$TMP/s1" --tracker flaky "$TMP/p.json"
expect_code "$TMP/ok" 0 "run with tracker/flaky"
run1=$(json_get "$TMP/ok.out" "d['run_id']")
check ok "$TMP/s1" "$TMP/ok.db" tracker/flaky
expect_py "$TMP/c-ok.json" "d['expected'] > 60 and d['missing'] == [] and d['extra'] == [] and d['max_n'] == 1" "every point and param applied once"
expect_py "$TMP/c-ok.json" "d['states'] == {'acked': sum(d['states'].values())}" "every journal row acked"
expect_py "$TMP/c-ok.json" "len(d['runs']) == 4 and all(r['id'] == 'flaky-' + r['lathe_id'] for r in d['runs'])" "the tracker's own run ids (start_run_full)"
expect_py "$TMP/c-ok.json" "sorted(r['parent'] or '' for r in d['runs']) == ['', 'flaky-$run1', 'flaky-$run1', 'flaky-$run1']" "trials nested under the run's tracker id"
expect_py "$TMP/c-ok.json" "all(r['status'] == 'succeeded' for r in d['runs'])" "runs ended"
tags=$(sqlite3 "$TMP/ok.db" "SELECT group_concat(DISTINCT value) FROM items WHERE kind = 'tag' AND key = 'mlflow.parentRunId'")
[ "$tags" = "flaky-$run1" ] && pass "the trials' mlflow.parentRunId tag names the parent by the tracker's id" || fail "mlflow.parentRunId tags: $tags"
best=$(sqlite3 "$TMP/ok.db" "SELECT value FROM items WHERE run = 'flaky-$run1' AND kind = 'tag' AND key = 'lathe.best_trial'")
bestrun=$(sqlite3 "$TMP/ok.db" "SELECT value FROM items WHERE run = 'flaky-$run1' AND kind = 'tag' AND key = 'lathe.best_trial_run'")
studybest=$(sqlite3 "$TMP/s1/lathe.db" "SELECT m.value FROM metrics m JOIN executions e ON e.id = m.execution_id WHERE e.node = 'tune' AND m.name = 'best_trial'")
[ "$best" = "tune/${studybest%.0}" ] && [ "$bestrun" = "$run1-tune-${studybest%.0}" ] && pass "the study's best trial tagged on the parent ($best)" || fail "best trial tags: '$best' '$bestrun', study says $studybest"
n=$(sqlite3 "$TMP/ok.db" "SELECT count(*) FROM items WHERE kind = 'artifact' AND key = 'metrics.json'")
[ "$n" = 1 ] && pass "metrics.json artifact" || fail "metrics.json artifacts: $n"
n=$(sqlite3 "$TMP/ok.db" "SELECT count(*) FROM items WHERE kind = 'artifact' AND key LIKE 'pipeline/%'")
[ "$n" = 1 ] && pass "pipeline file artifact" || fail "pipeline artifacts: $n"
# Journal rows are written with the store rows: each stored metric report has its journal point.
stored=$(stored_reports "$TMP/s1/lathe.db" loss)
journaled=$(journaled_reports "$TMP/s1/lathe.db" f.loss)
[ "$stored" = "$journaled" ] && [ "$stored" = 60 ] && pass "60 reports in the store, 60 in the journal" || fail "reports: store $stored, journal $journaled"

run_lathe "$TMP/st" tracker status --json --store "$TMP/s1"
expect_code "$TMP/st" 0 "tracker status --json"
expect_py "$TMP/st.out" "len(d) == 4 and all(r['pending'] == 0 and r['refused'] == 0 and r['acked'] > 0 and r['tracker'] == 'tracker/flaky' for r in d)" "status: per run, all acked"
expect_py "$TMP/st.out" "[r['tracker_run_id'] for r in d][0] == 'flaky-$run1'" "status: the tracker's run id"
run_lathe "$TMP/st1" tracker status --json --store "$TMP/s1" "${run1:0:5}"
expect_py "$TMP/st1.out" "len(d) == 4" "status RUN: the run and its trials"
run_lathe "$TMP/stx" tracker status --store "$TMP/s1" nosuchrun
expect_code "$TMP/stx" 2 "status of an unknown run"

# 2. The server is down: the run goes on, one warning, all pending; sync ships later.
LATHE_FLAKY_DOWN=1 LATHE_FLAKY_DB="$TMP/down.db" run_lathe "$TMP/dn" run --json --store "$TMP/s2" --tracker flaky "$TMP/p.json"
expect_code "$TMP/dn" 0 "a run with the tracker down succeeds"
[ "$(warnings "$TMP/dn")" = 1 ] && pass "one warning" || fail "warnings: $(cat "$TMP/dn.err")"
expect_err "$TMP/dn" "lathe tracker sync" "the warning says what to do"
run_lathe "$TMP/dst" tracker status --json --store "$TMP/s2"
rows=$(sqlite3 "$TMP/s2/lathe.db" "SELECT count(*) FROM tracker_journal")
expect_py "$TMP/dst.out" "sum(r['pending'] for r in d) == $rows and $rows > 10 and sum(r['acked'] for r in d) == 0" "status: everything pending"
LATHE_FLAKY_DOWN=1 LATHE_FLAKY_DB="$TMP/down.db" run_lathe "$TMP/ds1" tracker sync --store "$TMP/s2"
expect_code "$TMP/ds1" 1 "sync while still down: exit 1"
expect_err "$TMP/ds1" "still pending" "sync says what is pending"
LATHE_FLAKY_DB="$TMP/down.db" run_lathe "$TMP/ds0" tracker sync --tracker flaky16 --store "$TMP/s2"
expect_code "$TMP/ds0" 0 "sync of another tracker: nothing of it pending"
LATHE_PLUGIN_PATH="$LATHE_TESTKIT_DIR" run_lathe "$TMP/dsm" tracker sync --store "$TMP/s2"
expect_code "$TMP/dsm" 1 "sync with the tracker not installed: exit 1"
expect_err "$TMP/dsm" "tracker/flaky is not installed" "says which tracker is missing"
LATHE_FLAKY_DB="$TMP/down.db" run_lathe "$TMP/ds2" tracker sync --json --tracker flaky --store "$TMP/s2"
expect_code "$TMP/ds2" 0 "sync once the server is back"
expect_py "$TMP/ds2.out" "d['pending'] == 0" "sync --json: nothing pending"
check down "$TMP/s2" "$TMP/down.db" tracker/flaky
expect_py "$TMP/c-down.json" "d['missing'] == [] and d['extra'] == [] and d['max_n'] == 1 and len(d['runs']) == 4" "after the outage: nothing lost, nothing doubled"

# 2a. The next run ships what an earlier run left pending.
LATHE_FLAKY_DOWN=1 LATHE_FLAKY_DB="$TMP/next.db" run_lathe "$TMP/n1" run --json --store "$TMP/s2a" --tracker flaky "$TMP/p.json"
runn1=$(json_get "$TMP/n1.out" "d['run_id']")
LATHE_FLAKY_DB="$TMP/next.db" run_lathe "$TMP/n2" run --json --store "$TMP/s2a" --tracker flaky --no-cache "$TMP/p.json"
expect_code "$TMP/n2" 0 "the next run, server back"
run_lathe "$TMP/n2s" tracker status --json --store "$TMP/s2a" "$runn1"
rows=$(sqlite3 "$TMP/s2a/lathe.db" "SELECT count(*) FROM tracker_journal WHERE run_id = '$runn1' OR run_id LIKE '$runn1-%'")
expect_py "$TMP/n2s.out" "sum(r['pending'] for r in d) == 0 and sum(r['acked'] for r in d) == $rows and $rows > 10" "the earlier run's events shipped with the next run"

# 2b. A slow server (1.5 s a call, a 1 ms final flush, so that events are
# surely left): the run does not wait for it beyond a bounded final
# flush; what is left is pending, and sync ships it.
LATHE_TRACKER_FLUSH_MS=1 LATHE_FLAKY_SLEEP_MS=1500 LATHE_FLAKY_DB="$TMP/slow.db" run_lathe "$TMP/sl" run --json --store "$TMP/s2b" --tracker flaky "$TMP/p.json"
expect_code "$TMP/sl" 0 "a run with a slow tracker"
expect_err "$TMP/sl" "pending; \`lathe tracker sync\` ships" "says what is left pending (one event: \"ships it\")"
LATHE_FLAKY_DB="$TMP/slow.db" run_lathe "$TMP/sls" tracker sync --store "$TMP/s2b"
expect_code "$TMP/sls" 0 "sync after the slow run"
check slow "$TMP/s2b" "$TMP/slow.db" tracker/flaky
expect_py "$TMP/c-slow.json" "d['missing'] == [] and d['extra'] == [] and d['max_n'] == 1 and len(d['runs']) == 4" "slow server: nothing lost, nothing doubled"

# 3. Failures, then answers lost after applying: resent, never doubled.
LATHE_FLAKY_FAIL=2 LATHE_FLAKY_LOST=3 LATHE_FLAKY_DB="$TMP/lost.db" run_lathe "$TMP/lo" run --json --store "$TMP/s3" --tracker flaky "$TMP/p.json"
expect_code "$TMP/lo" 0 "a run through failures and lost answers"
[ "$(warnings "$TMP/lo")" -le 1 ] && pass "at most one warning" || fail "warnings: $(cat "$TMP/lo.err")"
LATHE_FLAKY_LOST=2 LATHE_FLAKY_DB="$TMP/lost.db" run_lathe "$TMP/ls" tracker sync --store "$TMP/s3"
LATHE_FLAKY_DB="$TMP/lost.db" run_lathe "$TMP/ls2" tracker sync --store "$TMP/s3"
expect_code "$TMP/ls2" 0 "sync ships the rest"
check lost "$TMP/s3" "$TMP/lost.db" tracker/flaky
expect_py "$TMP/c-lost.json" "d['missing'] == [] and d['extra'] == [] and len(d['runs']) == 4" "lost answers: nothing lost, nothing doubled"
base=$(json_get "$TMP/c-ok.json" "d['resent']")
expect_py "$TMP/c-lost.json" "d['resent'] > $base and d['max_n'] <= 2" "lost answers were sent again (applied twice, kept once)"

# 4. Refused values: said once, the run succeeds, the store keeps them.
LATHE_FLAKY_REFUSE=m.value LATHE_FLAKY_DB="$TMP/ref.db" run_lathe "$TMP/rf" run --json --store "$TMP/s4" --tracker flaky "$TMP/p.json"
expect_code "$TMP/rf" 0 "a refused value does not fail the run"
expect_err "$TMP/rf" "refused" "the refusal is said"
[ "$(grep -c refused "$TMP/rf.err")" = 1 ] && pass "said once" || fail "refusals: $(cat "$TMP/rf.err")"
run_lathe "$TMP/rfs" tracker status --json --store "$TMP/s4"
expect_py "$TMP/rfs.out" "sum(r['refused'] for r in d) >= 1 and sum(r['pending'] for r in d) == 0" "status: refused rows, none pending"
v=$(sqlite3 "$TMP/s4/lathe.db" "SELECT value FROM metrics m JOIN executions e ON e.id = m.execution_id WHERE e.node = 'm' AND m.name = 'value'")
[ "$v" = 2.5 ] && pass "the store keeps the refused value" || fail "store value: $v"
LATHE_FLAKY_DB="$TMP/ref.db" run_lathe "$TMP/rfy" tracker sync --store "$TMP/s4"
expect_code "$TMP/rfy" 0 "refused rows are not pending"

# 5. A tracker built against ABI 1.6: the per-item callbacks, Lathe's run ids.
LATHE_FLAKY_DB="$TMP/old.db" run_lathe "$TMP/o" run --json --store "$TMP/s5" --tracker tracker/flaky16 "$TMP/p.json"
expect_code "$TMP/o" 0 "run with a 1.6 tracker"
check old "$TMP/s5" "$TMP/old.db" tracker/flaky16
expect_py "$TMP/c-old.json" "d['missing'] == [] and d['extra'] == [] and d['states'] == {'acked': sum(d['states'].values())}" "1.6 tracker: everything applied and acked"
expect_py "$TMP/c-old.json" "all(r['id'] == r['lathe_id'] for r in d['runs']) and len(d['runs']) == 4" "1.6 tracker: Lathe's run ids"

# 6. A list of trackers; --tracker and LATHE_TRACKER override the pipeline's.
$PY - "$TMP/p.json" "$TMP/two.json" <<'PY'
import json, sys
p = json.load(open(sys.argv[1]))
p["tracker"] = [{"use": "tracker/flaky"}, {"use": "tracker/sqlite", "with": {"path": "both-tracking.db"}}]
json.dump(p, open(sys.argv[2], "w"))
PY
LATHE_FLAKY_DB="$TMP/both.db" run_lathe "$TMP/b" run --json --store "$TMP/s6" "$TMP/two.json"
expect_code "$TMP/b" 0 "a list of two trackers"
runb=$(json_get "$TMP/b.out" "d['run_id']")
run_lathe "$TMP/bs" tracker status --json --store "$TMP/s6" "$runb"
expect_py "$TMP/bs.out" "sorted({r['tracker'] for r in d}) == ['tracker/flaky', 'tracker/sqlite'] and all(r['pending'] == 0 for r in d)" "one journal stream per tracker, all acked"
n=$(sqlite3 "$TMP/both-tracking.db" "SELECT count(*) FROM runs")
[ "$n" = 4 ] && pass "tracker/sqlite got the run and its trials" || fail "tracker/sqlite runs: $n"
check both "$TMP/s6" "$TMP/both.db" tracker/flaky
expect_py "$TMP/c-both.json" "d['missing'] == [] and d['max_n'] == 1" "tracker/flaky got everything"
LATHE_FLAKY_DB="$TMP/ov.db" run_lathe "$TMP/ov" run --json --store "$TMP/s7" --tracker flaky16 "$TMP/two.json"
expect_code "$TMP/ov" 0 "run with --tracker"
run_lathe "$TMP/ovs" tracker status --json --store "$TMP/s7"
expect_py "$TMP/ovs.out" "{r['tracker'] for r in d} == {'tracker/flaky16'}" "--tracker replaces the pipeline's list"
LATHE_TRACKER=flaky LATHE_FLAKY_DB="$TMP/env.db" run_lathe "$TMP/ev" run --json --store "$TMP/s8" "$TMP/two.json"
expect_code "$TMP/ev" 0 "run with LATHE_TRACKER"
run_lathe "$TMP/evs" tracker status --json --store "$TMP/s8"
expect_py "$TMP/evs.out" "{r['tracker'] for r in d} == {'tracker/flaky'}" "LATHE_TRACKER replaces it too"
run_lathe "$TMP/bad" run --store "$TMP/s9" --tracker nosuch "$TMP/p.json"
expect_code "$TMP/bad" 2 "--tracker of a tracker not installed"
expect_err "$TMP/bad" "tracker 'nosuch'" "names it"
cat >"$TMP/badlist.json" <<'JSON'
{"tracker": [{"use": "tracker/flaky"}, {"use": "tracker/nosuch"}], "nodes": [{"id": "m", "use": "transform/metric"}]}
JSON
run_lathe "$TMP/bl" validate "$TMP/badlist.json"
expect_code "$TMP/bl" 2 "a list with a tracker not installed"
expect_err "$TMP/bl" "/tracker/1" "names the list item"

# 7. runs export: replays stored runs into another tracker (a second tracker/sqlite database).
run_lathe "$TMP/ex" runs export --format mlflow --store "$TMP/s1" --tracker sqlite --with "{\"path\": \"$TMP/export.db\"}" "$run1"
expect_code "$TMP/ex" 0 "runs export into a second database"
n=$(sqlite3 "$TMP/export.db" "SELECT count(*) FROM runs WHERE run_uuid = '$run1'")
[ "$n" = 1 ] && pass "the run is in the export" || fail "exported runs: $n"
n=$(sqlite3 "$TMP/export.db" "SELECT count(*) FROM metrics WHERE run_uuid = '$run1' AND key = 'm.value' AND value = 2.5")
[ "$n" = 1 ] && pass "with its metrics" || fail "exported m.value: $n"
n=$(sqlite3 "$TMP/export.db" "SELECT count(*) FROM tags WHERE key = 'mlflow.parentRunId' AND value = '$run1'")
[ "$n" = 3 ] && pass "its trials nested under it" || fail "exported trials: $n"
n=$(sqlite3 "$TMP/export.db" "SELECT count(*) FROM metrics WHERE run_uuid = '$run1-tune-0' AND key = 'f.loss'")
[ "$n" = 20 ] && pass "a trial's reports, keyed as logged live" || fail "trial 0 f.loss points: $n"
run_lathe "$TMP/ex2" runs export --format mlflow --store "$TMP/s1" --tracker sqlite --with "{\"path\": \"$TMP/export.db\"}" "$run1"
expect_code "$TMP/ex2" 0 "export again"
grep -q "0 runs journaled" "$TMP/ex2.out" && pass "a run is exported once" || fail "second export: $(cat "$TMP/ex2.out")"
n=$(sqlite3 "$TMP/export.db" "SELECT count(*) FROM metrics WHERE run_uuid = '$run1' AND key = 'm.value'")
[ "$n" = 1 ] && pass "no doubled metric" || fail "m.value points: $n"
run_lathe "$TMP/exm" runs export --format mlflow --store "$TMP/s1"
if [ -e "$LATHE_BUILD_DIR/plugins/tracker-mlflow" ]; then
  pass "tracker/mlflow is built (its own tests export to the test server)"
else
  expect_code "$TMP/exm" 2 "export without tracker/mlflow installed"
  expect_err "$TMP/exm" "tracker/mlflow is not installed" "says so"
fi
run_lathe "$TMP/exf" runs export --format csv --store "$TMP/s1"
expect_code "$TMP/exf" 2 "an unknown export format"
# 4. Reports are written many to an operation, but none waits long: a node
# that reports, then works for seconds, has its points in the store (and the
# journal) while it still runs, not only at its end.
cat >"$TMP/slow.json" <<'JSON'
{"name": "slowreport", "nodes": [
  {"id": "f", "use": "transform/objective", "with": {"steps": 3, "step_seconds": 1.5}}]}
JSON
LATHE_FLAKY_DOWN=1 LATHE_FLAKY_DB="$TMP/sr.db" "$LATHE_BIN" run --store "$TMP/s-sr" --tracker flaky "$TMP/slow.json" >"$TMP/sr.out" 2>&1 &
srpid=$!
seen=0
for _ in $(seq 1 40); do
  seen=$(stored_reports "$TMP/s-sr/lathe.db" loss)
  [ "${seen:-0}" -ge 1 ] && break
  sleep 0.05
done
kill -0 $srpid 2>/dev/null && still=1 || still=0
[ "${seen:-0}" -ge 1 ] && [ $still = 1 ] && pass "a report is stored while its node runs ($seen)" || fail "stored reports while running: ${seen:-0} (running: $still)"
jp=$(journaled_reports "$TMP/s-sr/lathe.db" f.loss)
[ "${jp:-0}" -ge "${seen:-0}" ] && pass "and journaled with it" || fail "journal points ${jp:-0}, stored ${seen:-0}"
wait $srpid
n=$(stored_reports "$TMP/s-sr/lathe.db" loss)
[ "$n" = 3 ] && pass "all 3 reports at the end" || fail "reports at the end: $n"
# 5. Non-finite and exact values through the journal's points: what the
# tracker gets is what was reported, NaN and the 17th digit included.
cat >"$TMP/nan.json" <<'JSON'
{"name": "nanreport", "nodes": [
  {"id": "f", "use": "transform/objective", "with": {"steps": 2, "x": 0.7, "nan_above": 0.5}},
  {"id": "g", "use": "transform/objective", "with": {"steps": 3, "x": 0.1}}]}
JSON
LATHE_FLAKY_DB="$TMP/nan.db" run_lathe "$TMP/nan" run --json --store "$TMP/s-nan" --tracker flaky "$TMP/nan.json"
expect_code "$TMP/nan" 0 "a run reporting NaN"
got=$(sqlite3 "$TMP/nan.db" "SELECT group_concat(value, ' ') FROM (SELECT value FROM items WHERE kind = 'metric' AND key = 'f.loss' ORDER BY step)")
[ "$got" = "nan nan" ] && pass "NaN points reach the tracker as NaN" || fail "f.loss points: '$got'"
# g's loss at step s is v * (1 + (2 - s) / 3), v = (0.1 - 0.3)^2 + 0.2^2
exp=$($PY -c "v = (0.1 - 0.3) ** 2 + (0 + 0.2) ** 2; print(' '.join(repr(v * (1.0 + (3 - 1 - s) / 3.0)) for s in range(3)))")
got=$(sqlite3 "$TMP/nan.db" "SELECT value FROM items WHERE kind = 'metric' AND key = 'g.loss' ORDER BY step" | $PY -c "import sys; print(' '.join(repr(float(l)) for l in sys.stdin.read().split()))")
[ "$got" = "$exp" ] && pass "values to the last digit ($got)" || fail "g.loss points: '$got', expected '$exp'"
finish
