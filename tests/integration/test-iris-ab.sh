#!/usr/bin/env bash
# examples/iris-ab end to end: three runs with different model/forest variants
# against the registry's `production` alias. After each run, `production` must
# point exactly where that run's decision says (promote: the version the run
# registered; keep: where it was). Then `lathe models rollback` restores the
# previous version, and refuses when there is none.
source "$(dirname "$0")/lib.sh"
copy_iris_ab
cd "$TMP/iris-ab"

# One pipeline, three presets that set only the model's params.
expect_py "$LATHE_SOURCE_DIR/examples/iris-ab/pipeline.json" \
  "sorted(d['presets']) == ['conservative', 'deep_forest', 'shallow_wide'] and all(list(p) == ['model'] for p in d['presets'].values()) and len({json.dumps(p, sort_keys=True) for p in d['presets'].values()}) == 3" \
  "pipeline.json declares the three variants as presets of the model node"
run_lathe "$TMP/nopreset" run pipeline.json --preset nosuch
expect_code "$TMP/nopreset" 2 "unknown preset"
expect_err "$TMP/nopreset" "no such preset; choose one of: deep_forest, shallow_wide, conservative" \
  "an unknown preset lists the presets"
[ -d .lathe ] && fail "a refused preset created a run store" || pass "a refused preset leaves no store"

before=none
moved_from=none # production's version before its latest move, as observed
for variant in conservative shallow_wide deep_forest; do
  run_lathe "$TMP/$variant" run --json pipeline.json --preset "$variant"
  expect_code "$TMP/$variant" 0 "$variant run"
  promote=$(json_get "$TMP/$variant.out" "int(d['metrics']['ab.promote'])")
  after=$(production)
  if [ "$before" = none ]; then
    expect_py "$TMP/$variant.out" "d['metrics']['ab.production_version'] == 0 and d['metrics']['ab.promote'] == 1" \
      "$variant: no production yet, so the candidate is promoted"
  else
    expect_py "$TMP/$variant.out" "d['metrics']['ab.production_version'] == $before" \
      "$variant: compared against production version $before"
    # the decision follows the rule: at least as good on accuracy and macro-F1
    expect_py "$TMP/$variant.out" "(lambda m: (m['ab.candidate_accuracy'] >= m['ab.production_accuracy'] and m['ab.candidate_macro_f1'] >= m['ab.production_macro_f1']) == (m['ab.promote'] == 1))(d['metrics'])" \
      "$variant: decision $promote matches the metrics of both sides"
  fi
  if [ "$promote" = 1 ]; then
    registered=$(json_get "$TMP/$variant.out" "int(d['metrics']['promote.version'])")
    [ "$after" = "$registered" ] && pass "$variant: promoted, production -> version $registered" \
      || fail "$variant: promoted but production is $after, registered $registered"
    moved_from=$before
  else
    expect_py "$TMP/$variant.out" "[n['status'] for n in d['nodes'] if n['id'] == 'promote'] == ['skipped'] and 'promote.version' not in d['metrics']" \
      "$variant: kept, nothing registered"
    [ "$after" = "$before" ] && pass "$variant: kept, production stays at $before" \
      || fail "$variant: kept but production moved from $before to $after"
  fi
  # the decision and both sides' metrics are in the run store
  run_id=$(json_get "$TMP/$variant.out" "d['run_id']")
  run_lathe "$TMP/$variant-show" runs show --json "$run_id"
  expect_py "$TMP/$variant-show.out" "d['name'] == 'iris-ab:$variant' and d['preset'] == '$variant'" \
    "$variant: the run is named after its preset and records it"
  expect_py "$TMP/$variant-show.out" "(lambda ab: ab['metrics']['promote'] == $promote and 'candidate_accuracy' in ab['metrics'] and ab['cache'] != 'hit')([n for n in d['nodes'] if n['id'] == 'ab'][0])" \
    "$variant: runs show records the decision and metrics"
  before=$after
done

# A deliberately weak variant (one stump) must be kept, so both paths run
# whatever the three variants decided above.
run_lathe "$TMP/weak" run --json pipeline.json --preset conservative --set model.n_estimators=1 --set model.max_depth=1
expect_code "$TMP/weak" 0 "weak run"
expect_py "$TMP/weak.out" "d['metrics']['ab.promote'] == 0 and d['metrics']['ab.candidate_accuracy'] < d['metrics']['ab.production_accuracy']" \
  "a one-stump forest is worse and is kept"
[ "$(production)" = "$before" ] && pass "weak run: production unchanged" || fail "weak run moved production"

# Rollback: to the version production held before its latest move.
if [ "$moved_from" != none ]; then
  current=$(production)
  run_lathe "$TMP/rb" models rollback iris --json
  expect_code "$TMP/rb" 0 "rollback"
  expect_py "$TMP/rb.out" "d['from'] == $current and d['version'] == $moved_from and d['alias'] == 'production'" \
    "rollback reports version $current -> $moved_from"
  [ "$(production)" = "$moved_from" ] && pass "rollback moved production back to $moved_from" || fail "rollback: production is $(production)"
  # the rollback is itself a move: rolling back again undoes it
  run_lathe "$TMP/rb2" models rollback iris
  expect_code "$TMP/rb2" 0 "second rollback"
  [ "$(production)" = "$current" ] && pass "a second rollback undoes the first" || fail "second rollback: $(production)"
  # the alias history says who moved production, from which run, and why
  run_lathe "$TMP/hist" models history iris --alias production --json
  expect_code "$TMP/hist" 0 "history of production"
  expect_py "$TMP/hist.out" "[h['reason'] for h in d][-2:] == ['rollback', 'rollback'] and all(h['reason'] == 'promotion by evaluator/ab' for h in d[:-2]) and all(h['alias'] == 'production' for h in d)" \
    "history: each promotion by evaluator/ab, then the two rollbacks"
  expect_py "$TMP/hist.out" "all(h['run_id'] and h['user'] and 'candidate_accuracy' in h['figures'] and 'n_rows' in h['figures'] for h in d[:-2]) and d[-1]['run_id'] is None and bool(d[-1]['user'])" \
    "history: promotions carry their run, user and the A/B figures; rollbacks their user"
  expect_py "$TMP/hist.out" "d[-1]['version'] == $current and d[-1]['previous_version'] == $moved_from" \
    "history: the last move is the second rollback, $moved_from -> $current"
  run_lathe "$TMP/histt" models history iris
  expect_code "$TMP/histt" 0 "history as a table"
  grep -q "promotion by evaluator/ab" "$TMP/histt.out" && pass "the table shows the reasons" || fail "no reason in the table"
else
  fail "production moved only once in the three runs; rollback needs an earlier version"
fi

# Rollback with no history: a fresh store where production was set once.
mkdir -p "$TMP/fresh" && cd "$TMP/fresh"
cp "$TMP/iris-ab/pipeline.json" .
run_lathe "$TMP/f" run --json pipeline.json
expect_code "$TMP/f" 0 "fresh run"
run_lathe "$TMP/nb" models rollback iris
expect_code "$TMP/nb" 2 "rollback with one version"
expect_err "$TMP/nb" "has no earlier version" "rollback explains there is no earlier version"
[ "$(production)" = "1" ] && pass "failed rollback leaves production alone" || fail "production is $(production)"
run_lathe "$TMP/nb2" models rollback iris --alias staging
expect_code "$TMP/nb2" 2 "rollback of an alias never set"
expect_err "$TMP/nb2" "was never set" "rollback names the unset alias"
run_lathe "$TMP/nb3" models rollback nosuch
expect_code "$TMP/nb3" 2 "rollback of an unknown model"
expect_err "$TMP/nb3" "no model named 'nosuch'" "rollback names the unknown model"
run_lathe "$TMP/u1" models rollback
expect_code "$TMP/u1" 2 "rollback without NAME"
run_lathe "$TMP/u2" models list --alias production
expect_code "$TMP/u2" 2 "--alias outside rollback"
# show and unalias (ABI 1.4's get_version and delete_alias, via registry/local).
run_lathe "$TMP/sh" models show iris production --json
expect_code "$TMP/sh" 0 "show by alias"
expect_py "$TMP/sh.out" "d['name'] == 'iris' and d['version'] == 1 and 'production' in d['aliases'] and bool(d['metadata']['run_id'])" \
  "show gives the version production names, with its run"
expect_py "$TMP/sh.out" "(lambda m: m['signature']['columns'] == ['sepal_length', 'sepal_width', 'petal_length', 'petal_width'] and m['signature']['dtype'] == 'float32' and m['signature']['classes'] == ['setosa', 'versicolor', 'virginica'])(d['metadata'])" \
  "the version records its input signature"
expect_py "$TMP/sh.out" "(lambda r: r['bins'] == 10 and r['n_rows'] == 120 and len(r['features']) == 4 and all(sum(f['counts']) == 120 and len(f['counts']) == 10 and f['min'] < f['max'] for f in r['features']) and sum(r['classes'].values()) == 120)(d['metadata']['reference'])" \
  "the version records the training split's histograms and class counts"
expect_py "$TMP/sh.out" "(lambda l: l['component'] == 'model/forest' and l['plugin'] == 'model-forest' and len(l['plugin_digest']) == 64 and bool(l['plugin_version']))(d['metadata']['load'])" \
  "the version records the component, plugin and plugin digest that load it"
run_lathe "$TMP/sh2" models show iris 7
expect_code "$TMP/sh2" 2 "show of a missing version"
expect_err "$TMP/sh2" "has no version 7" "show names the missing version"
run_lathe "$TMP/ua" models unalias iris production --json
expect_code "$TMP/ua" 0 "unalias"
expect_py "$TMP/ua.out" "d['deleted'] is True and d['alias'] == 'production'" "unalias reports the deleted alias"
[ "$(production)" = none ] && pass "production is gone after unalias" || fail "production is still $(production)"
run_lathe "$TMP/ua2" models unalias iris production
expect_code "$TMP/ua2" 2 "unalias of an alias not set"
expect_err "$TMP/ua2" "has no alias 'production'" "unalias names the missing alias"
finish
