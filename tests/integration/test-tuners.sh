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
expect_err "$TMP/bad2" "sampler" "names the param"
finish
