#!/usr/bin/env bash
# Each loader refusal, with its one-line message and exit code; an ABI 1.0
# plugin loading and running on this 1.1 host.
source "$(dirname "$0")/lib.sh"

refused() { # variant expected-message
  LATHE_PLUGIN_PATH="$LATHE_ABI_DIR/$1" run_lathe "$TMP/$1" plugins
  expect_code "$TMP/$1" 2 "$1 refused"
  expect_err "$TMP/$1" "$2" "$1: message"
  expect_err "$TMP/$1" "refused:" "$1: names the refusal"
  [ "$(grep -c refused "$TMP/$1.err")" = 1 ] && pass "$1: one line" || fail "$1: not one line"
}
refused too_big "abi/too_big/libabi-too_big.so refused: model/broken struct is"
refused missing_callback "libabi-missing_callback.so refused: model/broken lacks the required callback 'predict'"
refused empty_name "libabi-empty_name.so refused: a model component has an empty name"
refused duplicate "plugin name 'source-csv' is already provided by"
refused missing_entry "libabi-missing_entry.so refused: no entry symbol 'lathe_plugin_query'"
refused bad_major "libabi-bad_major.so refused: built for plugin ABI 2."
refused new_minor "libabi-new_minor.so refused: built for plugin ABI 1."

mkdir -p "$TMP/notelf"
echo "not a library" >"$TMP/notelf/libfake.so"
LATHE_PLUGIN_PATH="$TMP/notelf" run_lathe "$TMP/ne" plugins
expect_code "$TMP/ne" 2 "non-ELF refused"
expect_err "$TMP/ne" "libfake.so refused: not a shared object" "non-ELF: message"

# The rest of the plugins still load next to a refused one.
grep -q "source  *csv" "$TMP/too_big.out" && pass "other plugins still listed" || fail "other plugins missing"

# A pipeline naming a refused component fails validation, not the process.
cat >"$TMP/broken.json" <<JSON
{"nodes": [{"id": "d", "use": "source/csv", "with": {"path": "$LATHE_SOURCE_DIR/examples/iris/iris.csv", "label": "species"}},
  {"id": "m", "use": "model/broken", "in": {"train": "d"}}]}
JSON
LATHE_PLUGIN_PATH="$LATHE_ABI_DIR/missing_callback" run_lathe "$TMP/bv" validate "$TMP/broken.json"
expect_code "$TMP/bv" 2 "pipeline using a refused plugin"
expect_err "$TMP/bv" "unknown plugin component 'model/broken'" "refused component is unknown to validation"

# The plugin cache: refusals come back from it unchanged, a changed file is
# inspected again, and a corrupt cache is rebuilt.
export LATHE_CACHE_DIR="$TMP/cache"
mkdir -p "$TMP/swap"
cp "$LATHE_ABI_DIR/missing_callback/libabi-missing_callback.so" "$TMP/swap/libswap.so"
LATHE_PLUGIN_PATH="$TMP/swap" run_lathe "$TMP/c1" plugins
LATHE_PLUGIN_PATH="$TMP/swap" run_lathe "$TMP/c2" plugins
expect_code "$TMP/c2" 2 "a cached refusal"
expect_err "$TMP/c2" "libswap.so refused: model/broken lacks the required callback 'predict'" "a cached refusal keeps its message"
grep -q "libswap.so" "$TMP/cache"/plugins-*.json && pass "the refusal is in the cache" || fail "no cache entry"
cp "$LATHE_ABI_DIR/old_minor/libabi-old_minor.so" "$TMP/swap/libswap.so"
LATHE_PLUGIN_PATH="$TMP/swap" run_lathe "$TMP/c3" plugins
expect_code "$TMP/c3" 0 "a replaced plugin file is inspected again"
grep -q "oldminor" "$TMP/c3.out" && pass "the new file's component is listed" || fail "stale cache used"
echo '{"broken json' > "$TMP/cache"/plugins-*.json
LATHE_PLUGIN_PATH="$TMP/swap" run_lathe "$TMP/c4" plugins
expect_code "$TMP/c4" 0 "a corrupt plugin cache is rebuilt"
grep -q "oldminor" "$TMP/c4.out" && pass "listing after a corrupt cache" || fail "listing after a corrupt cache"
unset LATHE_CACHE_DIR

# Forward compatibility: a plugin built for ABI 1.0 (no `summary` callback).
export LATHE_PLUGIN_PATH="$LATHE_ABI_DIR/old_minor"
run_lathe "$TMP/om" plugins inspect model/oldminor
expect_code "$TMP/om" 0 "ABI 1.0 plugin loads"
cat >"$TMP/old.json" <<JSON
{"nodes": [{"id": "d", "use": "source/csv", "with": {"path": "$LATHE_SOURCE_DIR/examples/iris/iris.csv", "label": "species"}},
  {"id": "s", "use": "transform/split", "in": {"data": "d"}},
  {"id": "m", "use": "model/oldminor", "in": {"train": "s.train"}},
  {"id": "e", "use": "evaluator/classification", "in": {"model": "m", "data": "s.test"}}]}
JSON
run_lathe "$TMP/or" run --json --store "$TMP/store" "$TMP/old.json"
expect_code "$TMP/or" 0 "ABI 1.0 plugin runs"
expect_py "$TMP/or.out" "abs(d['metrics']['e.accuracy'] - 1/3) < 1e-9" "majority model scores 1/3 on balanced iris"
# ABI 1.3 param checks: run at validation (exit 2, one line naming the node's
# param), for every preset too; ignored for a plugin built before 1.3.
for v in checked old_minor; do
  name=$([ $v = checked ] && echo checked || echo oldminor)
  for votes in 2 3; do
    cat >"$TMP/ck-$v-$votes.json" <<JSON
{"nodes": [{"id": "d", "use": "source/csv", "with": {"path": "$LATHE_SOURCE_DIR/examples/iris/iris.csv", "label": "species"}},
  {"id": "m", "use": "model/$name", "in": {"train": "d"}, "with": {"votes": $votes}}]}
JSON
    LATHE_PLUGIN_PATH="$LATHE_ABI_DIR/$v" run_lathe "$TMP/ck-$v-$votes" validate "$TMP/ck-$v-$votes.json"
  done
done
expect_code "$TMP/ck-checked-2" 2 "a param refused by its check is a validation error"
expect_err "$TMP/ck-checked-2" "ck-checked-2.json: /nodes/1/with/votes: param 'votes' of model/checked: 2 is even; use an odd number of votes" \
  "the check's reason, with the param's pointer"
[ "$(wc -l < "$TMP/ck-checked-2.err")" -eq 1 ] && pass "one line" || fail "check error is $(wc -l < "$TMP/ck-checked-2.err") lines"
expect_code "$TMP/ck-checked-3" 0 "a value the check accepts"
expect_code "$TMP/ck-old_minor-2" 0 "a pre-1.3 plugin's reserved slot is not called"
cat >"$TMP/ck-preset.json" <<JSON
{"presets": {"a": {"m": {"votes": 3}}, "b": {"m": {"votes": 4}}}, "preset": "a",
 "nodes": [{"id": "d", "use": "source/csv", "with": {"path": "$LATHE_SOURCE_DIR/examples/iris/iris.csv", "label": "species"}},
  {"id": "m", "use": "model/checked", "in": {"train": "d"}}]}
JSON
LATHE_PLUGIN_PATH="$LATHE_ABI_DIR/checked" run_lathe "$TMP/ck-preset" run --store "$TMP/ck-store" "$TMP/ck-preset.json"
expect_code "$TMP/ck-preset" 2 "a preset that did not run is still checked"
expect_err "$TMP/ck-preset" "/presets/b/m/votes: param 'votes' of model/checked: 4 is even" "the preset's pointer"
[ -e "$TMP/ck-store" ] && fail "a refused pipeline opened the store" || pass "no store for a refused pipeline"
# ABI 1.4 appended alias history, delete alias and get version to the
# registry struct: a registry built against 1.3 loads, and the host treats
# the calls it lacks as absent, with one line saying what to do.
export LATHE_PLUGIN_PATH="$LATHE_ABI_DIR/registry_1_3"
run_lathe "$TMP/r13" plugins inspect registry/old13
expect_code "$TMP/r13" 0 "an ABI 1.3 registry loads"
mkdir -p "$TMP/r13store" # models reads a run store; it never creates one
run_lathe "$TMP/r13rb" models rollback iris --registry registry/old13 --store "$TMP/r13store"
expect_code "$TMP/r13rb" 2 "rollback through a 1.3 registry is refused"
expect_err "$TMP/r13rb" "registry/old13 keeps no alias history" "it names the registry and the missing history"
[ "$(wc -l < "$TMP/r13rb.err")" -eq 1 ] && pass "one line" || fail "history error is $(wc -l < "$TMP/r13rb.err") lines"
run_lathe "$TMP/r13un" models unalias iris production --registry registry/old13 --store "$TMP/r13store"
expect_code "$TMP/r13un" 2 "unalias through a 1.3 registry is refused"
expect_err "$TMP/r13un" "registry/old13 cannot delete aliases (built before ABI 1.4)" "it says why"
run_lathe "$TMP/r13sh" models show iris 1 --registry registry/old13 --store "$TMP/r13store"
expect_code "$TMP/r13sh" 2 "show falls back to the 1.3 registry's list"
expect_err "$TMP/r13sh" "registry/old13 has no version or alias '1' of 'iris'" "and says what is missing"
# ABI 1.8 appended set_alias_full: a registry built against 1.7 loads; the
# host moves its aliases through set_alias, and its history reads with null
# reasons.
export LATHE_PLUGIN_PATH="$LATHE_ABI_DIR/registry_1_7"
run_lathe "$TMP/r17" plugins inspect registry/old17
expect_code "$TMP/r17" 0 "an ABI 1.7 registry loads"
run_lathe "$TMP/r17p" models promote iris candidate production --json --registry registry/old17 --store "$TMP/r13store"
expect_code "$TMP/r17p" 0 "promote through a 1.7 registry"
expect_err "$TMP/r17p" "old17: set_alias iris@production -> 2" "the host fell back to set_alias"
expect_py "$TMP/r17p.out" "d['version'] == 2" "promote reports version 2"
run_lathe "$TMP/r17h" models history iris --json --registry registry/old17 --store "$TMP/r13store"
expect_code "$TMP/r17h" 0 "history through a 1.7 registry"
expect_py "$TMP/r17h.out" "len(d) == 1 and all(d[0][k] is None for k in ('reason', 'user', 'run_id', 'figures'))" \
  "its moves have null reason, user, run and figures"
unset LATHE_PLUGIN_PATH
finish
