#!/usr/bin/env bash
# Studies that resume to the same answer (issue 11). A trial stopped from
# outside (SIGKILL, Ctrl-C, out of memory) is interrupted, not failed: it runs
# again, same number and point, when the study resumes, and the tuner node of
# an interrupted study fails, so that its partial answer is never cached.
# Trials that fail on their own (an error, a NaN) stay failed. Then kills at
# random moments: every study, resumed until it finishes, ends at the best
# trial and the model of an uninterrupted one.
# LATHE_RESUME_ROUNDS (default 10) and LATHE_RESUME_SECONDS (default 60) bound
# the random part; LATHE_RESUME_SEED replays one sequence of kills.
source "$(dirname "$0")/lib.sh"
export LATHE_PLUGIN_PATH="$LATHE_TESTKIT_DIR"

# quad FILE [EXTRA_TRIAL_WITH]: a grid of six points; x = 0.3 is best.
quad() {
  cat >"$1" <<JSON
{"name": "quad", "seed": 3, "nodes": [
  {"id": "tune", "use": "tuner/grid",
   "with": {"objective": "f.value", "direction": "minimize", "parallel_trials": 1,
            "space": {"f.x": [0.0, 0.1, 0.2, 0.3, 0.4, 0.5]}},
   "trial": {"nodes": [{"id": "f", "use": "transform/objective", "with": {${2:-}}}]}}]}
JSON
}
# wait_trial DB NUMBER: until trial NUMBER's latest event is "running" (30 s at most: a loaded machine).
wait_trial() {
  local n=0
  for _ in $(seq 1 1500); do
    # Not before lathe made the store: sqlite3 would create an empty lathe.db,
    # which lathe then refuses (a race on a loaded machine).
    [ -s "$1" ] || { sleep 0.02; continue; }
    n=$(sqlite3 -readonly "$1" "SELECT count(*) FROM trial_events WHERE number = $2 AND state = 'running'" 2>/dev/null || echo 0)
    [ "$n" = "1" ] && return 0
    sleep 0.02
  done
  return 1
}

# Ctrl-C in the middle of a grid study: the running trial is interrupted, and
# the rerun evaluates every grid point exactly once (the tuner used to succeed
# with a partial study, be cached, and never evaluate the best points).
quad "$TMP/c.json" '"steps": 10, "step_seconds": 0.03'
"$LATHE_BIN" run --json --jobs 1 --store "$TMP/c" "$TMP/c.json" >"$TMP/c1.out" 2>"$TMP/c1.err" &
pid=$!
wait_trial "$TMP/c/lathe.db" 2 && pass "Ctrl-C: trial 2 started" || fail "Ctrl-C: trial 2 never started"
kill -INT $pid
wait $pid
code=$?
[ $code = 1 ] && pass "Ctrl-C: exit 1" || fail "Ctrl-C: exit $code"
expect_py "$TMP/c1.out" "[n['status'] for n in d['nodes'] if n['id'] == 'tune'] == ['failed']" \
  "Ctrl-C: the tuner node of the interrupted study fails"
st=$(sqlite3 "$TMP/c/lathe.db" "SELECT status FROM runs")
[ "$st" = interrupted ] && pass "Ctrl-C: the run is interrupted" || fail "Ctrl-C: the run is $st"
st=$(sqlite3 "$TMP/c/lathe.db" "SELECT e.number || '=' || e.state FROM trial_events e WHERE e.id = (SELECT max(id) FROM trial_events x WHERE x.number = e.number) ORDER BY e.number" | tr '\n' ' ')
[ "$st" = "0=complete 1=complete 2=interrupted " ] && pass "Ctrl-C: the running trial is interrupted, not failed" || fail "Ctrl-C: trials $st"
run_lathe "$TMP/c2" run --json --jobs 1 --store "$TMP/c" "$TMP/c.json"
expect_code "$TMP/c2" 0 "Ctrl-C: the rerun"
expect_py "$TMP/c2.out" "sorted(n['id'] for n in d['nodes'] if n['id'].startswith('tune/')) == ['tune/%d/f' % i for i in range(2, 6)]" \
  "Ctrl-C: the rerun runs the interrupted trial and the rest, nothing twice"
expect_py "$TMP/c2.out" "d['metrics']['tune.best_trial'] == 3 and d['metrics']['tune.n_trials'] == 6 and d['metrics']['tune.n_failed'] == 0 and d['metrics']['tune.n_resumed'] == 2" \
  "Ctrl-C: best x = 0.3, six trials, none failed"
got=$(sqlite3 "$TMP/c/lathe.db" "SELECT json_extract(params, '$.\"f.x\"') || ':' || count(*) FROM trial_events WHERE state = 'complete' GROUP BY params ORDER BY 1" | tr '\n' ' ')
[ "$got" = "0.0:1 0.1:1 0.2:1 0.3:1 0.4:1 0.5:1 " ] && pass "Ctrl-C: every grid point completed exactly once" || fail "Ctrl-C: completed points $got"

# Out of memory (a resource error) in three trials: they are interrupted, the
# study fails rather than pick the best of the rest (and be cached), and once
# the cap is gone the next run, cache and all, completes them.
touch "$TMP/cap"
quad "$TMP/m.json" "\"oom_above\": 0.25, \"oom_while\": \"$TMP/cap\""
run_lathe "$TMP/m1" run --json --store "$TMP/m" "$TMP/m.json"
expect_code "$TMP/m1" 1 "out of memory: the study fails"
expect_py "$TMP/m1.out" "[n['error'] for n in d['nodes'] if n['id'] == 'tune'][0].startswith('the study was interrupted (3 trials to run again, out of memory')" \
  "out of memory: says the study was interrupted and why"
st=$(sqlite3 "$TMP/m/lathe.db" "SELECT number || '=' || state FROM trial_events WHERE state != 'running' ORDER BY number" | tr '\n' ' ')
[ "$st" = "0=complete 1=complete 2=complete 3=interrupted 4=interrupted 5=interrupted " ] && pass "out of memory: those trials are interrupted" || fail "out of memory: trials $st"
sqlite3 "$TMP/m/lathe.db" "SELECT error FROM trial_events WHERE number = 3 AND state = 'interrupted'" | grep -q "out of memory for x = 0.3" \
  && pass "out of memory: the trial's error says so" || fail "out of memory: trial 3's error"
cp -r "$TMP/m" "$TMP/m-nocache"
rm "$TMP/cap"
run_lathe "$TMP/m2" run --json --store "$TMP/m" "$TMP/m.json"
expect_code "$TMP/m2" 0 "out of memory: the run after the cap"
expect_py "$TMP/m2.out" "sorted(n['id'] for n in d['nodes'] if n['id'].startswith('tune/')) == ['tune/3/f', 'tune/4/f', 'tune/5/f'] and d['metrics']['tune.best_trial'] == 3 and d['metrics']['tune.n_failed'] == 0" \
  "out of memory: the interrupted trials run again, and x = 0.3 is best"
run_lathe "$TMP/m3" run --json --no-cache --store "$TMP/m-nocache" "$TMP/m.json"
expect_py "$TMP/m3.out" "d['status'] == 'succeeded' and d['metrics']['tune.best_trial'] == 3" "out of memory: --no-cache after the cap too"

# A node that ran out of memory is not cached as failed: without the cap it runs.
touch "$TMP/cap"
cat >"$TMP/n.json" <<JSON
{"name": "one", "nodes": [{"id": "f", "use": "transform/objective",
  "with": {"oom_above": -1, "oom_while": "$TMP/cap"}}]}
JSON
run_lathe "$TMP/n1" run --json --store "$TMP/n" "$TMP/n.json"
expect_py "$TMP/n1.out" "[n['status'] for n in d['nodes']] == ['failed']" "a node out of memory fails"
rm "$TMP/cap"
run_lathe "$TMP/n2" run --json --store "$TMP/n" "$TMP/n.json"
expect_py "$TMP/n2.out" "[n['status'] for n in d['nodes']] == ['succeeded']" "and runs, not cached, once memory is back"

# Trials that fail on their own stay failed on resume, told to the tuner as
# failed, and never run again.
quad "$TMP/f.json" '"fail_above": 0.05, "nan_above": 0.35'
run_lathe "$TMP/f1" run --json --store "$TMP/f" "$TMP/f.json"
run_lathe "$TMP/f2" run --json --no-cache --store "$TMP/f" "$TMP/f.json"
expect_py "$TMP/f2.out" "d['metrics']['tune.n_failed'] == 5 and d['metrics']['tune.n_resumed'] == 6 and not [n for n in d['nodes'] if n['id'].startswith('tune/')]" \
  "failed and NaN trials stay failed on resume and do not run again"

# Kills (SIGKILL, SIGINT, SIGTERM) at random moments. iris, with a pause in each trial so that a kill
# lands inside the study; a grid of 10 points with --jobs 1, a random tuner
# and TPE of 10 trials each with --jobs 2 (two parallel trials).
iris() { # FILE TUNER SPACE [EXTRA_WITH]
  $PY - "$@" "$LATHE_SOURCE_DIR/examples/iris" <<'PY'
import json, sys
out, tuner, space, extra, src = sys.argv[1:6]
p = json.load(open(src + "/pipeline.json"))
p.pop("tracker", None)
for n in p["nodes"]:
    if n["id"] == "data":
        n["with"]["path"] = src + "/iris.csv"
    if n["id"] == "tune":
        n["use"] = tuner
        n["with"]["space"] = json.loads(space)
        n["with"].update(json.loads(extra))
        n["trial"]["nodes"].insert(0, {"id": "pause", "use": "transform/sleep",
                                       "in": {"data": "holdout.train"}, "with": {"seconds": 0.04}})
        n["trial"]["nodes"][1]["in"]["train"] = "pause"
json.dump(p, open(out, "w"), indent=1)
PY
}
iris "$TMP/grid.json" tuner/grid '{"model.l2": [0.0001, 0.001, 0.01, 0.1, 1.0], "model.standardize": [true, false]}' '{}'
iris "$TMP/random.json" tuner/random '{"model.l2": {"type": "float", "low": 0.0001, "high": 10, "log": true}}' '{"max_trials": 10}'
# TPE's proposals depend on the history, pending trials included (its
# constant liar): only a replay of the same asks gives the same answer.
iris "$TMP/tpe.json" tuner/tpe '{"model.l2": {"type": "float", "low": 0.0001, "high": 10, "log": true}}' \
  '{"max_trials": 10, "n_startup_trials": 3}'

# answer STORE: the best trial's number, params, value and model, every
# trial's number, params, state and model, and the model the tuner node
# output in the last run it succeeded in.
answer() {
  local study run
  study=$("$LATHE_BIN" study list --json --store "$1" | $PY -c "import json,sys; print(json.load(sys.stdin)[0]['id'])")
  run=$(sqlite3 "$1/lathe.db" "SELECT run_id FROM executions WHERE node = 'tune' AND status IN ('succeeded', 'cached') ORDER BY id DESC LIMIT 1")
  "$LATHE_BIN" study show --json --store "$1" "$study" | $PY -c "
import json, sys
d = json.load(sys.stdin)
b = d['best']
print(json.dumps({'best': [b['number'], b['params'], b['values']['objective'], b['model']],
                  'trials': [[t['number'], t['params'], t['state'], t['model']] for t in d['trials']]},
                 sort_keys=True))"
  sqlite3 "$1/lathe.db" "SELECT e.artifact FROM events e JOIN executions x ON x.id = e.execution_id WHERE x.run_id = '$run' AND x.node = 'tune' AND e.direction = 'output' AND e.port = 'model'"
}

declare -A ref dur
for cfg in "grid 1" "random 2" "tpe 2"; do
  set -- $cfg
  t0=$(date +%s%N)
  run_lathe "$TMP/ref-$1" run --json --jobs "$2" --store "$TMP/ref-$1" "$TMP/$1.json"
  dur[$1]=$(( ($(date +%s%N) - t0) / 1000000 ))
  expect_code "$TMP/ref-$1" 0 "reference $1 study (--jobs $2, ${dur[$1]} ms)"
  ref[$1]=$(answer "$TMP/ref-$1")
  n=$($PY -c "import json,sys; print(len(json.loads(sys.argv[1].splitlines()[0])['trials']))" "${ref[$1]}")
  [ "$n" = 10 ] && pass "reference $1: 10 trials" || fail "reference $1: $n trials"
done

seed=${LATHE_RESUME_SEED:-$(( $(date +%s) % 32768 ))}
RANDOM=$seed
echo "# kills with LATHE_RESUME_SEED=$seed"
rounds=${LATHE_RESUME_ROUNDS:-10}
budget=${LATHE_RESUME_SECONDS:-60}
start=$(date +%s)
done_rounds=0
for r in $(seq 1 "$rounds"); do
  [ $(( $(date +%s) - start )) -ge "$budget" ] && break
  case $((r % 3)) in
  1) cfg=grid; jobs=1 ;;
  2) cfg=random; jobs=2 ;;
  0) cfg=tpe; jobs=2 ;;
  esac
  store="$TMP/k$r"
  log=""
  code=1
  for attempt in 1 2 3 4 5 6; do
    "$LATHE_BIN" run --json --jobs $jobs --store "$store" "$TMP/$cfg.json" >"$TMP/k$r-$attempt.out" 2>"$TMP/k$r-$attempt.err" &
    pid=$!
    # The first attempt is always killed, the next two half the time.
    if [ $attempt = 1 ] || { [ $attempt -le 3 ] && [ $((RANDOM % 2)) = 0 ]; }; then
      delay=$(( RANDOM % (dur[$cfg] + 50) ))
      sig=$(case $((RANDOM % 3)) in 0) echo KILL ;; 1) echo INT ;; 2) echo TERM ;; esac)
      sleep "$(printf '%d.%03d' $((delay / 1000)) $((delay % 1000)))"
      kill -s $sig $pid 2>/dev/null
      log="$log $sig@${delay}ms"
    fi
    wait $pid 2>/dev/null
    code=$?
    log="$log:$code"
    [ $code = 0 ] && break
  done
  if [ $code != 0 ]; then
    fail "round $r ($cfg,$log): never finished; $(head -c 300 "$TMP/k$r-$attempt.err")"
    continue
  fi
  got=$(answer "$store")
  if [ "$got" = "${ref[$cfg]}" ]; then
    pass "round $r ($cfg,$log): same trials, best trial and model"
  else
    fail "round $r ($cfg,$log): got $got, expected ${ref[$cfg]}"
  fi
  ic=$(sqlite3 "$store/lathe.db" "PRAGMA integrity_check")
  [ "$ic" = "ok" ] || fail "round $r: integrity_check: $ic"
  done_rounds=$((done_rounds + 1))
done
# A study resumed with another parallel_trials cannot replay TPE's asks: it
# goes on from the trials it has (told as they are), and numbers new ones on.
run_lathe "$TMP/d1" run --json --jobs 2 --store "$TMP/d" --set tune.max_trials=5 --set tune.parallel_trials=1 "$TMP/tpe.json"
run_lathe "$TMP/d2" run --json --jobs 2 --store "$TMP/d" "$TMP/tpe.json"
expect_code "$TMP/d2" 0 "TPE resumed with another parallel_trials"
expect_err "$TMP/d2" "trial 3: the tuner proposes another point than the study holds" "says the replay diverged, at which trial"
expect_py "$TMP/d2.out" "d['metrics']['tune.n_trials'] == 10 and d['metrics']['tune.n_resumed'] == 5 and sorted(n['id'] for n in d['nodes'] if n['id'].endswith('/model')) == ['tune/%d/model' % i for i in range(5, 10)]" \
  "it keeps the five trials it has and adds five"

[ $done_rounds -ge 2 ] && pass "$done_rounds rounds of kills in $(( $(date +%s) - start )) s" || fail "only $done_rounds rounds ran"
finish
