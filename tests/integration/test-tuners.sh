#!/usr/bin/env bash
# tuner/random and tuner/tpe through `lathe run`: points inside float, int,
# log, stepped, categorical and conditional dimensions; a study resumed with a
# larger max_trials proposes, trial for trial, what one longer run with the
# same seed proposes; parallel trials with TPE's constant liar do not propose
# the same point twice in a round.
source "$(dirname "$0")/lib.sh"
export LATHE_PLUGIN_PATH="$LATHE_TESTKIT_DIR"

# pipeline FILE TUNER SPACE [EXTRA_WITH]
pipeline() {
  cat >"$1" <<JSON
{"name": "quad", "seed": 5, "nodes": [
  {"id": "tune", "use": "$2",
   "with": {"objective": "f.value", "direction": "minimize", "space": $3, "parallel_trials": 1 ${4:-}},
   "trial": {"nodes": [{"id": "f", "use": "transform/objective"}]}}]}
JSON
}
# x: float; y: log float, only when steps >= 1; steps: int; step_seconds:
# stepped float; fail_above: categorical.
mixed='{"f.x": {"type": "float", "low": -1, "high": 1},
        "f.steps": {"type": "int", "low": 0, "high": 3},
        "f.y": {"type": "float", "low": 0.001, "high": 5, "log": true, "when": "f.steps >= 1"},
        "f.step_seconds": {"type": "float", "low": 0, "high": 0.003, "step": 0.001},
        "f.fail_above": [50, 100]}'
# Every trial's params are inside the space of $mixed.
inside='all(-1 <= t["params"]["f.x"] <= 1
            and type(t["params"]["f.steps"]) is int and 0 <= t["params"]["f.steps"] <= 3
            and (("f.y" in t["params"]) == (t["params"]["f.steps"] >= 1))
            and (t["params"]["f.steps"] < 1 or 0.001 <= t["params"]["f.y"] <= 5)
            and abs(t["params"]["f.step_seconds"] * 1000 - round(t["params"]["f.step_seconds"] * 1000)) < 1e-9
            and 0 <= t["params"]["f.step_seconds"] <= 0.003 + 1e-12
            and t["params"]["f.fail_above"] in (50, 100) for t in d["trials"])'

for tuner in "tuner/random" "tuner/random sobol" "tuner/tpe"; do
  set -- $tuner
  use=$1
  extra=""
  [ "${2:-}" = sobol ] && extra=', "sampler": "sobol"'
  [ "$use" = tuner/tpe ] && extra=', "n_startup_trials": 6'
  name=$(echo "$tuner" | tr ' /' '--')
  pipeline "$TMP/$name.json" "$use" "$mixed" "$extra"

  # One run of 16 trials.
  run_lathe "$TMP/$name-long" run --json --store "$TMP/$name-long" --set tune.max_trials=16 "$TMP/$name.json"
  expect_code "$TMP/$name-long" 0 "$tuner: 16 trials"
  id=$(json_get "$TMP/$name-long.out" "d['run_id']")
  run_lathe "$TMP/$name-long-show" study show --json --store "$TMP/$name-long" "$id/tune"
  expect_py "$TMP/$name-long-show.out" "len(d['trials']) == 16 and all(t['state'] == 'complete' for t in d['trials'])" \
    "$tuner: 16 complete trials in the study"
  expect_py "$TMP/$name-long-show.out" "$inside" "$tuner: every point inside the space"
  expect_py "$TMP/$name-long-show.out" "0 < sum('f.y' in t['params'] for t in d['trials']) < 16" \
    "$tuner: the conditional dimension is active in some trials only"
  expect_py "$TMP/$name-long-show.out" "len({t['params']['f.fail_above'] for t in d['trials']}) == 2" \
    "$tuner: both categorical values tried"

  # The same study in two runs: 8 trials, then resumed up to 16.
  run_lathe "$TMP/$name-a" run --json --store "$TMP/$name-split" --set tune.max_trials=8 "$TMP/$name.json"
  expect_code "$TMP/$name-a" 0 "$tuner: first 8 trials"
  run_lathe "$TMP/$name-b" run --json --store "$TMP/$name-split" --set tune.max_trials=16 "$TMP/$name.json"
  expect_code "$TMP/$name-b" 0 "$tuner: resumed up to 16"
  expect_py "$TMP/$name-b.out" "d['metrics']['tune.n_resumed'] == 8 and d['metrics']['tune.n_trials'] == 16" \
    "$tuner: the rerun resumes 8 trials and adds 8"
  id=$(json_get "$TMP/$name-b.out" "d['run_id']")
  run_lathe "$TMP/$name-split-show" study show --json --store "$TMP/$name-split" "$id/tune"
  if $PY - "$TMP/$name-long-show.out" "$TMP/$name-split-show.out" <<'PY'
import json, sys
a = json.load(open(sys.argv[1]))["trials"]
b = json.load(open(sys.argv[2]))["trials"]
assert [t["number"] for t in a] == [t["number"] for t in b] == list(range(16)), "trial numbers"
for x, y in zip(a, b):
    assert x["params"] == y["params"], "trial %d: %s != %s" % (x["number"], x["params"], y["params"])
PY
  then pass "$tuner: resumed study proposes the same points as one long run"
  else fail "$tuner: resumed and single-run points differ"; fi
done

# Random search over a discrete space: every point once, then the study ends.
pipeline "$TMP/disc.json" tuner/random '{"f.x": [0.1, 0.2, 0.3], "f.steps": {"type": "int", "low": 0, "high": 2}}'
run_lathe "$TMP/disc" run --json --store "$TMP/disc" "$TMP/disc.json"
expect_code "$TMP/disc" 0 "random over 9 discrete points"
id=$(json_get "$TMP/disc.out" "d['run_id']")
run_lathe "$TMP/disc-show" study show --json --store "$TMP/disc" "$id/tune"
expect_py "$TMP/disc-show.out" "len(d['trials']) == 9 and len({json.dumps(t['params'], sort_keys=True) for t in d['trials']}) == 9" \
  "nine trials, no point twice, and then no more"

# Parallel trials: two per round on a small discrete space where TPE
# concentrates; the constant liar keeps the two points of a round apart.
grid='{"f.x": [0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6], "f.y": {"type": "int", "low": -2, "high": 2}}'
pipeline "$TMP/par.json" tuner/tpe "$grid" ', "n_startup_trials": 4, "max_trials": 30'
sed -i 's/"parallel_trials": 1/"parallel_trials": 2/' "$TMP/par.json"
run_lathe "$TMP/par" run --json --jobs 2 --store "$TMP/par" "$TMP/par.json"
expect_code "$TMP/par" 0 "tpe with 2 parallel trials"
id=$(json_get "$TMP/par.out" "d['run_id']")
run_lathe "$TMP/par-show" study show --json --store "$TMP/par" "$id/tune"
expect_py "$TMP/par-show.out" "len(d['trials']) == 30 and all(d['trials'][i]['params'] != d['trials'][i + 1]['params'] for i in range(0, 30, 2))" \
  "constant liar: the two trials of each round differ"
# Without the liar the same study does repeat a point within a round, so the
# check above can fail.
sed 's/"max_trials": 30/"max_trials": 30, "constant_liar": false/' "$TMP/par.json" >"$TMP/par-nl.json"
run_lathe "$TMP/par-nl" run --json --jobs 2 --store "$TMP/par-nl" "$TMP/par-nl.json"
id=$(json_get "$TMP/par-nl.out" "d['run_id']")
run_lathe "$TMP/par-nl-show" study show --json --store "$TMP/par-nl" "$id/tune"
expect_py "$TMP/par-nl-show.out" "any(d['trials'][i]['params'] == d['trials'][i + 1]['params'] for i in range(0, 30, 2))" \
  "without the constant liar, some round proposes one point twice"

# Bad tuner params are validation errors naming the node and the param.
pipeline "$TMP/bad.json" tuner/tpe "$mixed" ', "gamma_fraction": 0'
run_lathe "$TMP/bad" validate "$TMP/bad.json"
expect_code "$TMP/bad" 2 "gamma_fraction 0 is refused"
expect_err "$TMP/bad" "gamma_fraction must be above 0" "says why"
pipeline "$TMP/bad2.json" tuner/random "$mixed" ', "sampler": "lhs"'
run_lathe "$TMP/bad2" validate "$TMP/bad2.json"
expect_code "$TMP/bad2" 2 "an unknown sampler is refused"
expect_err "$TMP/bad2" "/with/sampler: param 'sampler' of tuner/random: 'lhs' is not one of: uniform, halton, sobol" \
  "names the param, its pointer and the choices"
# tuner/bayes: it converges on the testkit objective; a rerun proposes the
# same points; a resumed study goes on to the budget (and, without
# warm_start, proposes what one long run proposes: with it, the first fit
# after the resume starts cold, so later points may differ in their last
# digits); parallel trials get distinct points; mixed and conditional spaces;
# failed trials; two objectives (ParEGO) and their Pareto front; bad params.

# bayes_pipeline FILE SPACE [EXTRA_WITH] [TRIAL_WITH]
bayes_pipeline() {
  cat >"$1" <<JSON
{"name": "quad", "seed": 7, "nodes": [
  {"id": "tune", "use": "tuner/bayes",
   "with": {"objective": "f.value", "direction": "minimize", "space": $2, "parallel_trials": 1 ${3:-}},
   "trial": {"nodes": [{"id": "f", "use": "transform/objective", "with": {${4:-}}}]}}]}
JSON
}
# bayes_show PREFIX STORE RUN_OUT: `lathe study show --json` of the run's study.
bayes_show() {
  local id; id=$(json_get "$3.out" "d['run_id']")
  run_lathe "$1" study show --json --store "$2" "$id/tune"
}
# same_params A B N: the first N trials of two study shows have equal params.
same_params() {
  $PY - "$1" "$2" "$3" <<'PY'
import json, sys
a = json.load(open(sys.argv[1]))["trials"]
b = json.load(open(sys.argv[2]))["trials"]
n = int(sys.argv[3])
assert len(a) >= n and len(b) >= n, "too few trials"
for x, y in zip(a[:n], b[:n]):
    assert x["number"] == y["number"] and x["params"] == y["params"], \
        "trial %d: %s != %s" % (x["number"], x["params"], y["params"])
PY
}

xy='{"f.x": {"type": "float", "low": -1, "high": 1}, "f.y": {"type": "float", "low": -1, "high": 1}}'

# Convergence: the minimum is 0 at (0.3, -0.2).
bayes_pipeline "$TMP/by-p.json" "$xy" ', "n_startup_trials": 6, "max_trials": 20'
run_lathe "$TMP/by-r1" run --json --store "$TMP/by-s1" "$TMP/by-p.json"
expect_code "$TMP/by-r1" 0 "bayes: 20 trials"
bayes_show "$TMP/by-s1show" "$TMP/by-s1" "$TMP/by-r1"
expect_py "$TMP/by-s1show.out" "len(d['trials']) == 20 and all(t['state'] == 'complete' for t in d['trials'])" "bayes: 20 complete trials"
expect_py "$TMP/by-s1show.out" "all(-1 <= t['params']['f.x'] <= 1 and -1 <= t['params']['f.y'] <= 1 for t in d['trials'])" "bayes: points inside the bounds"
expect_py "$TMP/by-s1show.out" "d['best_so_far'][-1] < 1e-3" "bayes: best after 20 trials within 1e-3 of the minimum"
expect_py "$TMP/by-s1show.out" "min(d['best_so_far'][:6]) > d['best_so_far'][-1]" "bayes: the GP improves on the start-up points"

# A rerun from scratch proposes the same points.
run_lathe "$TMP/by-r2" run --json --store "$TMP/by-s2" "$TMP/by-p.json"
bayes_show "$TMP/by-s2show" "$TMP/by-s2" "$TMP/by-r2"
if same_params "$TMP/by-s1show.out" "$TMP/by-s2show.out" 20; then pass "bayes: a rerun proposes the same 20 points"
else fail "bayes: a rerun proposes other points"; fi

# Resume: 10 trials, then up to 20.
run_lathe "$TMP/by-r3" run --json --store "$TMP/by-s3" --set tune.max_trials=10 "$TMP/by-p.json"
expect_code "$TMP/by-r3" 0 "bayes: first 10 trials"
run_lathe "$TMP/by-r4" run --json --store "$TMP/by-s3" "$TMP/by-p.json"
expect_code "$TMP/by-r4" 0 "bayes: resumed up to 20"
expect_py "$TMP/by-r4.out" "d['metrics']['tune.n_resumed'] == 10 and d['metrics']['tune.n_trials'] == 20" \
  "bayes: the rerun resumes 10 trials and adds 10"
bayes_show "$TMP/by-s3show" "$TMP/by-s3" "$TMP/by-r4"
expect_py "$TMP/by-s3show.out" "d['best_so_far'][-1] < 1e-2" "bayes: the resumed study goes on converging"
# Without the warm start, a proposal depends on the seed, the trial number
# and the trials only: the resumed study is the long run, point for point.
bayes_pipeline "$TMP/by-c.json" "$xy" ', "n_startup_trials": 6, "max_trials": 16, "warm_start": false'
run_lathe "$TMP/by-c1" run --json --store "$TMP/by-c1" "$TMP/by-c.json"
bayes_show "$TMP/by-c1show" "$TMP/by-c1" "$TMP/by-c1"
run_lathe "$TMP/by-c2" run --json --store "$TMP/by-c2" --set tune.max_trials=9 "$TMP/by-c.json"
run_lathe "$TMP/by-c3" run --json --store "$TMP/by-c2" "$TMP/by-c.json"
expect_code "$TMP/by-c3" 0 "bayes: warm_start false: resumed up to 16"
bayes_show "$TMP/by-c2show" "$TMP/by-c2" "$TMP/by-c3"
if same_params "$TMP/by-c1show.out" "$TMP/by-c2show.out" 16; then pass "bayes: warm_start false: the resumed study proposes the long run's points"
else fail "bayes: warm_start false: resumed and single-run points differ"; fi

# Parallel trials: fantasised observations keep the points of a round apart.
bayes_pipeline "$TMP/by-par.json" "$xy" ', "n_startup_trials": 4, "max_trials": 16'
sed -i 's/"parallel_trials": 1/"parallel_trials": 4/' "$TMP/by-par.json"
run_lathe "$TMP/by-par" run --json --jobs 2 --store "$TMP/by-par" "$TMP/by-par.json"
expect_code "$TMP/by-par" 0 "bayes: 4 parallel trials"
bayes_show "$TMP/by-parshow" "$TMP/by-par" "$TMP/by-par"
expect_py "$TMP/by-parshow.out" "len(d['trials']) == 16 and all(min(abs(a['params']['f.x'] - b['params']['f.x']) + abs(a['params']['f.y'] - b['params']['f.y']) for a in d['trials'][r:r + 4] for b in d['trials'][r:r + 4] if a is not b) > 1e-3 for r in range(4, 16, 4))" \
  "bayes: the 4 points of each model-based round are distinct"

# A mixed space: int, log, stepped, categorical, conditional.
bayes_pipeline "$TMP/by-mx.json" "$mixed" ', "n_startup_trials": 5, "max_trials": 15'
run_lathe "$TMP/by-mx" run --json --store "$TMP/by-mx" "$TMP/by-mx.json"
expect_code "$TMP/by-mx" 0 "bayes: a mixed space"
bayes_show "$TMP/by-mxshow" "$TMP/by-mx" "$TMP/by-mx"
expect_py "$TMP/by-mxshow.out" "len(d['trials']) == 15" "bayes: 15 trials of the mixed space"
expect_py "$TMP/by-mxshow.out" "$inside" "bayes: every point inside the mixed space"

# Failures teach the GP where not to go and never become the best.
bayes_pipeline "$TMP/by-f.json" "$xy" ', "n_startup_trials": 5, "max_trials": 15' '"fail_above": 0.6, "nan_above": 0.5'
run_lathe "$TMP/by-f" run --json --store "$TMP/by-f" "$TMP/by-f.json"
expect_code "$TMP/by-f" 0 "bayes: a study with failed and NaN trials"
bayes_show "$TMP/by-fshow" "$TMP/by-f" "$TMP/by-f"
expect_py "$TMP/by-fshow.out" "len(d['trials']) == 15 and any(t['state'] == 'failed' for t in d['trials']) and d['best']['params']['f.x'] <= 0.5" \
  "bayes: failed trials counted, the best is a complete one"

# Two objectives: ParEGO scalarisations spread the trials along the front.
cat >"$TMP/by-mo.json" <<'JSON'
{"name": "quad", "seed": 7, "nodes": [
  {"id": "tune", "use": "tuner/bayes",
   "with": {"objectives": {"f.value": "minimize", "f.x": "maximize"}, "max_trials": 20,
            "n_startup_trials": 6, "parallel_trials": 1,
            "space": {"f.x": {"type": "float", "low": -1, "high": 1},
                      "f.y": {"type": "float", "low": -1, "high": 1}}},
   "trial": {"nodes": [{"id": "f", "use": "transform/objective"}]}}]}
JSON
run_lathe "$TMP/by-mo" run --json --store "$TMP/by-mo" "$TMP/by-mo.json"
expect_code "$TMP/by-mo" 0 "bayes: a two-objective study"
bayes_show "$TMP/by-moshow" "$TMP/by-mo" "$TMP/by-mo"
# The front is x in [0.3, 1] at y = -0.2; a good trial has |y + 0.2| small.
expect_py "$TMP/by-moshow.out" "len(d['pareto_front']) >= 4 and sum(abs(t['params']['f.y'] + 0.2) < 0.1 for t in d['trials'][6:]) >= 7" \
  "bayes: ParEGO: at least 4 trials on the front, and most model-based trials near it"
run_lathe "$TMP/by-mot" study show --store "$TMP/by-mo" "$(json_get "$TMP/by-mo.out" "d['run_id']")/tune"
grep -q "Pareto front" "$TMP/by-mot.out" && pass "bayes: study show prints the front" || fail "bayes: study show: $(head -c 400 "$TMP/by-mot.out")"

# Bad params are validation errors naming the node and the param.
bayes_pipeline "$TMP/by-bad.json" "$xy" ', "n_candidates": 0'
run_lathe "$TMP/by-bad" validate "$TMP/by-bad.json"
expect_code "$TMP/by-bad" 2 "bayes: n_candidates 0 is refused"
expect_err "$TMP/by-bad" "/with/n_candidates: param 'n_candidates' of tuner/bayes: 0 is out of bounds [16, 100000]" \
  "bayes: names the param and its bounds"
bayes_pipeline "$TMP/by-bad2.json" "$xy" ', "warm_start": "yes"'
run_lathe "$TMP/by-bad2" validate "$TMP/by-bad2.json"
expect_code "$TMP/by-bad2" 2 "bayes: a string for warm_start is refused"
expect_err "$TMP/by-bad2" "/with/warm_start: param 'warm_start' of tuner/bayes: expected bool, got a string" \
  "bayes: names the param and the type it takes"
finish
