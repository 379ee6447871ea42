#!/usr/bin/env bash
# Retries (issue 15): a node's "retry" policy under threads and under
# executor/process. Each attempt is an execution of its own, `lathe runs show`
# lists them all, a node that succeeds on a retry makes its run succeed, "on"
# limits what is retried, and delays grow by "factor".
source "$(dirname "$0")/lib.sh"
asan_plain_segv
export LATHE_PLUGIN_PATH="$LATHE_TESTKIT_DIR:$LATHE_BUILD_DIR/plugins/executor-process"

# flaky HOW TIMES MAX [ON]: a pipeline whose node "flaky" fails (HOW) for its
# first TIMES attempts, with a policy of MAX retries.
flaky() {
  local on=${4:-'["crash", "timeout", "error", "lost"]'}
  rm -f "$TMP/marker"
  cat >"$TMP/p.json" <<JSON
{"nodes": [{"id": "first", "use": "transform/noop", "with": {"value": 2}},
  {"id": "flaky", "use": "transform/crash", "in": {"data": "first"},
   "with": {"how": "$1", "marker": "$TMP/marker", "times": $2},
   "retry": {"max": $3, "delay": "0.1s", "factor": 2, "max_delay": "1s", "on": $on}},
  {"id": "last", "use": "transform/noop", "in": {"data": "flaky"}}]}
JSON
}

attempts() { sqlite3 "$TMP/$1/lathe.db" "SELECT group_concat(status, ',') FROM (SELECT status FROM executions WHERE node = 'flaky' AND run_id = '$2' ORDER BY id)"; }

for ex in threads process; do
  # An error twice, then success: three attempts, the run succeeds.
  flaky error 2 3
  start=$(date +%s%N)
  run_lathe "$TMP/a-$ex" run --json --executor $ex --store "$TMP/$ex" "$TMP/p.json"
  ms=$(( ($(date +%s%N) - start) / 1000000 ))
  expect_code "$TMP/a-$ex" 0 "$ex: a node that succeeds on its third attempt"
  expect_py "$TMP/a-$ex.out" "d['status'] == 'succeeded' and {n['id']: n['status'] for n in d['nodes']} == {'first': 'succeeded', 'flaky': 'succeeded', 'last': 'succeeded'}" "$ex: the run succeeds; the result lists the last attempt"
  run_id=$(json_get "$TMP/a-$ex.out" "d['run_id']")
  [ "$(attempts $ex $run_id)" = "failed,failed,succeeded" ] && pass "$ex: each attempt is an execution" || fail "$ex: attempts $(attempts $ex $run_id)"
  [ $ms -ge 300 ] && pass "$ex: delays 0.1 s then 0.2 s ($ms ms)" || fail "$ex: took only $ms ms"
  run_lathe "$TMP/s-$ex" runs show --json --store "$TMP/$ex" "$run_id"
  expect_py "$TMP/s-$ex.out" "[(n['attempt'], n['status']) for n in d['nodes'] if n['id'] == 'flaky'] == [(1, 'failed'), (2, 'failed'), (3, 'succeeded')]" "$ex: runs show --json numbers the attempts"
  expect_py "$TMP/s-$ex.out" "[n['error'] for n in d['nodes'] if n['id'] == 'flaky'][0] == 'attempt 1 (error), tried again: deliberate error'" "$ex: a retried attempt's error says so"
  run_lathe "$TMP/t-$ex" runs show --store "$TMP/$ex" "$run_id"
  grep -q "flaky .* succeeded .*attempt 3" "$TMP/t-$ex.out" && pass "$ex: runs show lists attempt 3" || fail "$ex: runs show: $(grep flaky "$TMP/t-$ex.out")"

  # Out of retries: the node fails after max + 1 attempts, the run fails.
  flaky error 5 2
  run_lathe "$TMP/b-$ex" run --json --executor $ex --store "$TMP/$ex" "$TMP/p.json"
  expect_code "$TMP/b-$ex" 1 "$ex: a node still failing after its retries"
  run_id=$(json_get "$TMP/b-$ex.out" "d['run_id']")
  [ "$(attempts $ex $run_id)" = "failed,failed,failed" ] && pass "$ex: max 2 gives three attempts" || fail "$ex: attempts $(attempts $ex $run_id)"
  expect_py "$TMP/b-$ex.out" "{n['id']: n.get('error', '') for n in d['nodes']}['flaky'] == 'attempt 3 (error): deliberate error'" "$ex: the last attempt's error is the node's"

  # "on" without "error": a component's error is not retried.
  flaky error 1 3 '["crash", "timeout"]'
  run_lathe "$TMP/c-$ex" run --json --executor $ex --store "$TMP/$ex" "$TMP/p.json"
  expect_code "$TMP/c-$ex" 1 "$ex: an error outside retry.on"
  run_id=$(json_get "$TMP/c-$ex.out" "d['run_id']")
  [ "$(attempts $ex $run_id)" = "failed" ] && pass "$ex: not retried" || fail "$ex: attempts $(attempts $ex $run_id)"
done

# Crashes and timeouts are retried under executor/process, each as its kind.
flaky segv 1 2 '["crash"]'
run_lathe "$TMP/d" run --json --executor process --store "$TMP/process" "$TMP/p.json"
expect_code "$TMP/d" 0 "a segfault retried as a crash"
run_id=$(json_get "$TMP/d.out" "d['run_id']")
[ "$(attempts process $run_id)" = "failed,succeeded" ] && pass "segv then success" || fail "attempts $(attempts process $run_id)"
run_lathe "$TMP/ds" runs show --json --store "$TMP/process" "$run_id"
expect_py "$TMP/ds.out" "[n['error'] for n in d['nodes'] if n['id'] == 'flaky'][0].startswith('attempt 1 (crash), tried again: killed by SIGSEGV')" "the crash attempt's error"
flaky segv 1 2 '["timeout"]'
run_lathe "$TMP/e" run --json --no-cache --executor process --store "$TMP/process" "$TMP/p.json"
expect_code "$TMP/e" 1 "a segfault is not retried when only timeouts are"

write_pipeline "$TMP/h.json" <<JSON
{"executor": {"use": "executor/process"},
 "nodes": [{"id": "hang", "use": "transform/crash", "with": {"how": "hang"},
   "resources": {"time": "1s"}, "retry": {"max": 1, "delay": 0, "on": ["timeout"]}}]}
JSON
run_lathe "$TMP/h" run --json --store "$TMP/process" "$TMP/h.json"
expect_code "$TMP/h" 1 "a node that hangs twice"
run_id=$(json_get "$TMP/h.out" "d['run_id']")
n=$(sqlite3 "$TMP/process/lathe.db" "SELECT count(*) FROM executions WHERE run_id = '$run_id' AND error LIKE '%timed out after 1 s%'")
[ "$n" = 2 ] && pass "a timeout is retried as a timeout" || fail "$n timed-out attempts"

# The host's side against a misbehaving executor (testkit's executor/fake):
# a controller that cannot tell the state for 1.5 s is waited for; one that
# stays silent past LATHE_EXECUTOR_GRACE_S loses the job; a lost job is
# retried as "lost".
write_pipeline "$TMP/f.json" <<JSON
{"nodes": [{"id": "a", "use": "transform/noop", "with": {"value": 3}},
  {"id": "b", "use": "transform/metric", "in": {"data": "a"}, "with": {"value": 5}}]}
JSON
run_lathe "$TMP/u" run --json --executor fake --store "$TMP/fake" --no-cache "$TMP/f.json"
expect_code "$TMP/u" 0 "executor/fake as it should be"
cat >"$TMP/fu.json" <<JSON
{"executor": {"use": "executor/fake", "with": {"unavailable": 1.5}},
 "nodes": [{"id": "a", "use": "transform/noop", "with": {"value": 3}},
  {"id": "b", "use": "transform/metric", "in": {"data": "a"}, "with": {"value": 5}}]}
JSON
start=$(date +%s%N)
run_lathe "$TMP/u2" run --json --store "$TMP/fake" --no-cache "$TMP/fu.json"
ms=$(( ($(date +%s%N) - start) / 1000000 ))
expect_code "$TMP/u2" 0 "an executor that cannot tell the state for 1.5 s is waited for"
expect_py "$TMP/u2.out" "d['metrics']['b.value'] == 5" "and the node's result is recorded"
expect_err "$TMP/u2" "cannot tell the job's state for now (the fake controller is down)" "the wait is said once"
[ $ms -ge 3000 ] && pass "both nodes waited ($ms ms)" || fail "took only $ms ms"
LATHE_EXECUTOR_GRACE_S=0.5s run_lathe "$TMP/u3" run --json --store "$TMP/fake" --no-cache "$TMP/fu.json"
expect_code "$TMP/u3" 1 "past LATHE_EXECUTOR_GRACE_S the job is lost"
expect_py "$TMP/u3.out" "'has not told the job' in {n['id']: n.get('error', '') for n in d['nodes']}['a']" "the error says the executor went silent"
cat >"$TMP/fg.json" <<JSON
{"executor": {"use": "executor/fake", "with": {"unavailable": 1.5}},
 "nodes": [{"id": "a", "use": "transform/noop", "with": {"value": 3},
            "retry": {"max": 1, "delay": 0, "on": ["lost"]}}]}
JSON
LATHE_EXECUTOR_GRACE_S=0.3s run_lathe "$TMP/g" run --json --store "$TMP/fake" --no-cache "$TMP/fg.json"
expect_code "$TMP/g" 1 "a job given up on twice"
run_id=$(json_get "$TMP/g.out" "d['run_id']")
run_lathe "$TMP/gs" runs show --json --store "$TMP/fake" "$run_id"
expect_py "$TMP/gs.out" "[(n['attempt'], n['error'].split(':')[0]) for n in d['nodes']] == [(1, 'attempt 1 (lost), tried again'), (2, 'attempt 2 (lost)')]" "a job whose executor went silent is retried as lost"
cat >"$TMP/fl.json" <<JSON
{"executor": {"use": "executor/fake", "with": {"lose": true}},
 "nodes": [{"id": "a", "use": "transform/noop", "with": {"value": 3},
            "retry": {"max": 1, "delay": 0, "on": ["lost"]}},
  {"id": "b", "use": "transform/metric", "in": {"data": "a"}, "with": {"value": 5}}]}
JSON
run_lathe "$TMP/l" run --json --store "$TMP/fake" --no-cache "$TMP/fl.json"
expect_code "$TMP/l" 1 "a lost job is retried only where the policy says so"
expect_py "$TMP/l.out" "{n['id']: n['status'] for n in d['nodes']} == {'a': 'succeeded', 'b': 'failed'}" "a: lost then retried; b (no retry): failed"
run_id=$(json_get "$TMP/l.out" "d['run_id']")
run_lathe "$TMP/ls" runs show --json --store "$TMP/fake" "$run_id"
expect_py "$TMP/ls.out" "[(n['attempt'], n['status'], n.get('error') or '') for n in d['nodes'] if n['id'] == 'a'] == [(1, 'failed', 'attempt 1 (lost), tried again: lost (the machine failed or the job vanished)'), (2, 'succeeded', '')]" "the lost attempt is listed"

# An executor that cannot open (sbatch missing) fails the nodes it was to
# run, with its error; the others run.
cat >"$TMP/fr.json" <<JSON
{"nodes": [{"id": "a", "use": "transform/noop", "with": {"value": 3}},
  {"id": "b", "use": "transform/metric", "in": {"data": "a"}, "with": {"value": 5},
   "executor": {"use": "executor/fake", "with": {"refuse": true}}, "retry": {"max": 2, "delay": 0}},
  {"id": "c", "use": "transform/metric", "in": {"data": "a"}, "with": {"value": 6}}]}
JSON
run_lathe "$TMP/r" run --json --store "$TMP/fake" --no-cache "$TMP/fr.json"
expect_code "$TMP/r" 1 "an executor that cannot open"
expect_py "$TMP/r.out" "{n['id']: (n['status'], n.get('error', '')) for n in d['nodes']} == {'a': ('succeeded', ''), 'b': ('failed', 'executor/fake: the fake cluster refuses this run'), 'c': ('succeeded', '')}" \
  "fails its node alone, with its error (named once), not retried"

# An executor given no params reads its defaults (the host used to open it
# with none: a CRITICAL for every param it read).
cat >"$TMP/fd.json" <<JSON
{"nodes": [{"id": "a", "use": "transform/noop", "with": {"value": 3},
   "executor": {"use": "executor/fake"}}]}
JSON
G_DEBUG=fatal-criticals run_lathe "$TMP/fd" run --json --store "$TMP/fake" --no-cache "$TMP/fd.json"
expect_code "$TMP/fd" 0 "an executor set with no params runs on its defaults"
finish
