#!/usr/bin/env bash
# `lathe run --seed N` (issue 11): the pipeline's seed, overridden without
# rewriting the file. It must give the same results and cache keys as a file
# saying "seed": N, and be recorded with the run like --set is (the recorded
# pipeline holds it, `lathe runs show` prints it).
source "$(dirname "$0")/lib.sh"
export LATHE_PLUGIN_PATH="$LATHE_TESTKIT_DIR:$LATHE_BUILD_DIR/plugins"
cp "$LATHE_SOURCE_DIR/examples/iris/iris.csv" "$TMP/"
cd "$TMP"

pipeline() { # FILE SEED
  cat >"$1" <<JSON
{"lathe": 1, "name": "seeded", "seed": $2, "nodes": [
  {"id": "data", "use": "source/csv", "with": {"path": "iris.csv", "label": "species"}},
  {"id": "split", "use": "transform/split", "in": {"data": "data"}},
  {"id": "model", "use": "model/forest", "in": {"train": "split.train"}, "with": {"n_estimators": 5}},
  {"id": "eval", "use": "evaluator/classification", "in": {"model": "model", "data": "split.test"}}
]}
JSON
}
pipeline seven.json 7
pipeline one.json 1
before=$(sha256sum one.json)

# keys RUN_JSON STORE: "node=cache_key ..." of the run, sorted.
keys() {
  local id; id=$(json_get "$1" "d['run_id']")
  "$LATHE_BIN" runs show --json --store "$2" "$id" >"$1.show"
  json_get "$1.show" "' '.join(sorted(n['id'] + '=' + n['cache_key'] for n in d['nodes']))"
}

run_lathe "$TMP/file" run --json --store "$TMP/s1" seven.json
expect_code "$TMP/file" 0 "\"seed\": 7 in the file"
run_lathe "$TMP/flag" run --json --store "$TMP/s2" --seed 7 one.json
expect_code "$TMP/flag" 0 "--seed 7 over \"seed\": 1"
k_file=$(keys "$TMP/file.out" "$TMP/s1")
k_flag=$(keys "$TMP/flag.out" "$TMP/s2")
[ -n "$k_file" ] && [ "$k_file" = "$k_flag" ] &&
  pass "--seed 7 gives the cache keys of a file with \"seed\": 7" || fail "cache keys differ: $k_file vs $k_flag"
m1=$(json_get "$TMP/file.out" "sorted(d['metrics'].items())")
m2=$(json_get "$TMP/flag.out" "sorted(d['metrics'].items())")
[ "$m1" = "$m2" ] && pass "and the same metrics" || fail "metrics differ: $m1 vs $m2"

run_lathe "$TMP/plain" run --json --store "$TMP/s3" one.json
k_plain=$(keys "$TMP/plain.out" "$TMP/s3")
[ -n "$k_plain" ] && [ "$k_plain" != "$k_file" ] &&
  pass "without --seed, the file's seed 1 gives other keys" || fail "--seed changed nothing"

# In the store of the "seed": 7 run, --seed 7 finds every node cached.
run_lathe "$TMP/again" run --json --store "$TMP/s1" --seed 7 one.json
expect_py "$TMP/again.out" "all(n['status'] == 'cached' for n in d['nodes'])" "--seed 7 reuses the cache of \"seed\": 7"

# Recorded like --set: the run's seed and its recorded pipeline.
flag_id=$(json_get "$TMP/flag.out" "d['run_id']")
run_lathe "$TMP/show" runs show --store "$TMP/s2" "$flag_id"
grep -q "seed 7 " "$TMP/show.out" && pass "runs show prints seed 7" || fail "runs show: $(head -3 "$TMP/show.out")"
expect_py "$TMP/flag.out.show" "d['seed'] == 7" "runs show --json: seed 7"
rec=$(sqlite3 "$TMP/s2/lathe.db" "SELECT pipeline_json FROM runs WHERE id = '$flag_id'")
echo "$rec" | grep -q '"seed":7' && pass "the recorded pipeline holds \"seed\": 7" || fail "recorded pipeline: $rec"
[ "$(sha256sum one.json)" = "$before" ] && pass "the file is not rewritten" || fail "one.json changed"

for bad in -1 x 1.5; do
  run_lathe "$TMP/bad" run --seed "$bad" one.json
  expect_code "$TMP/bad" 2 "--seed $bad is refused"
  [ "$(wc -l <"$TMP/bad.err")" -eq 1 ] && pass "--seed $bad: one line" || fail "--seed $bad: $(cat "$TMP/bad.err")"
done
run_lathe "$TMP/v" validate --seed 7 one.json
expect_code "$TMP/v" 0 "validate --seed"
finish
