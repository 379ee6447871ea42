#!/usr/bin/env bash
# The content-addressed cache on the iris pipeline: a rerun executes nothing,
# one changed param re-runs only what depends on it, an edited input file
# re-runs its source, --no-cache and "cache": false turn it off, and reruns
# are bit-identical.
source "$(dirname "$0")/lib.sh"
cp -r "$LATHE_SOURCE_DIR/examples/iris" "$TMP/iris"
rm -rf "$TMP/iris/.lathe"
P="$TMP/iris/pipeline.json"
statuses() { json_get "$1" "' '.join(n['id'] + '=' + n['status'] for n in d['nodes'] if '/' not in n['id'])"; }

run_lathe "$TMP/r1" run --json "$P"
expect_code "$TMP/r1" 0 "cold run"
expect_py "$TMP/r1.out" "all(n['status'] == 'succeeded' for n in d['nodes'])" "cold run executes every node"
run_lathe "$TMP/r2" run --json "$P"
expect_py "$TMP/r2.out" "all(n['status'] == 'cached' for n in d['nodes'])" "unchanged rerun executes no node"
expect_py "$TMP/r2.out" "d['metrics']['eval.accuracy'] == $(json_get "$TMP/r1.out" "repr(d['metrics']['eval.accuracy'])")" "cached metrics equal the cold run's"

# A fully cached run opens no model plugin and no OpenBLAS (the plugin cache
# describes them; only the tracker's code runs).
LD_DEBUG=files "$LATHE_BIN" run --json "$P" >/dev/null 2>"$TMP/ld.log"
n=$(grep -cE "calling init: .*(liblathe-model-logreg|libopenblas)" "$TMP/ld.log")
[ "$n" = 0 ] && pass "a cached run loads neither logreg nor OpenBLAS" || fail "a cached run loaded them ($n lines)"
grep -q "calling init: .*liblathe-tracker-sqlite" "$TMP/ld.log" && pass "the tracker still records the cached run" || fail "tracker not loaded"
LD_DEBUG=files "$LATHE_BIN" run --json --no-cache --store "$TMP/ldstore" "$P" >/dev/null 2>"$TMP/ld2.log"
n=$(grep -cE "calling init: .*(liblathe-model-logreg|libopenblas)" "$TMP/ld2.log")
[ "$n" = 2 ] && pass "an uncached run loads logreg and OpenBLAS when it trains" || fail "uncached run: $n loads"

# Cached outputs are restored by digest: a fully cached run opens no artifact
# file (a stat tells the cache it is there), and a node that runs reads only
# the cached outputs it takes in. strace sees the opens. LeakSanitizer cannot
# run under ptrace and would abort at exit, losing the buffered --json output.
traced() { # log-file, then the lathe arguments
  local log="$1"; shift
  ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0" \
    strace -f -e trace=open,openat -o "$log" "$LATHE_BIN" "$@"
}
if command -v strace >/dev/null; then
  traced "$TMP/open1.log" run --json "$P" >"$TMP/s1.out" 2>/dev/null
  expect_py "$TMP/s1.out" "all(n['status'] == 'cached' for n in d['nodes'])" "the traced rerun is fully cached"
  n=$(grep -c "artifacts/sha256/" "$TMP/open1.log")
  [ "$n" = 0 ] && pass "a fully cached run opens no artifact file" || fail "a fully cached run opened $n artifact files"
  traced "$TMP/open2.log" run --json --store "$TMP/lazystore" \
    --set holdout.test_fraction=0.3 "$P" >/dev/null 2>&1
  traced "$TMP/open2.log" run --json --store "$TMP/lazystore" \
    --set holdout.test_fraction=0.35 "$P" >"$TMP/s2.out" 2>/dev/null
  expect_py "$TMP/s2.out" "{n['id']: n['status'] for n in d['nodes']}['split'] == 'cached'" "split is cached under a changed holdout"
  n=$(grep -c "artifacts/sha256/" "$TMP/open2.log")
  [ "$n" = 1 ] && pass "the re-run holdout reads the one cached output it takes (split.train)" || fail "$n artifact files opened"
  run_lathe "$TMP/s3" run --json --no-cache --store "$TMP/lazyfresh" --set holdout.test_fraction=0.35 "$P"
  holdout_outputs() { # store run-json -> that run's holdout outputs as JSON
    "$LATHE_BIN" runs show --store "$1" --json "$(json_get "$2" "d['run_id']")" >"$2.show"
    json_get "$2.show" "json.dumps([n['outputs'] for n in d['nodes'] if n['id'] == 'holdout'][0], sort_keys=True)"
  }
  a=$(holdout_outputs "$TMP/lazystore" "$TMP/s2.out"); b=$(holdout_outputs "$TMP/lazyfresh" "$TMP/s3.out")
  [ -n "$a" ] && [ "$a" = "$b" ] && pass "holdout fed a cached split.train outputs what a fresh run does" || fail "holdout outputs differ: $a vs $b"
else
  fail "strace is missing: scripts/deps.sh installs it"
fi

run_lathe "$TMP/r3" run --json --set holdout.test_fraction=0.3 "$P"
expect_py "$TMP/r3.out" "(lambda s: s['data'] == 'cached' and s['split'] == 'cached' and s['holdout'] == 'succeeded' and s['tune'] == 'succeeded')({n['id']: n['status'] for n in d['nodes']})" "one changed param re-runs it and its dependents only ($(statuses "$TMP/r3.out"))"

run_lathe "$TMP/r4" run --json "$P"
expect_py "$TMP/r4.out" "all(n['status'] == 'cached' for n in d['nodes'])" "going back to the old param hits the cache again"

sed -i '2s/^5.1,/5.2,/' "$TMP/iris/iris.csv"
run_lathe "$TMP/r5" run --json "$P"
expect_py "$TMP/r5.out" "[n['status'] for n in d['nodes'] if n['id'] == 'data'] == ['succeeded']" "an edited input file re-runs its source"
touch "$TMP/iris/iris.csv"
run_lathe "$TMP/r5b" run --json "$P"
expect_py "$TMP/r5b.out" "all(n['status'] == 'cached' for n in d['nodes'])" "a touched but unchanged file still hits (SHA-256 recheck)"

run_lathe "$TMP/r6" run --json --no-cache "$P"
expect_py "$TMP/r6.out" "all(n['status'] == 'succeeded' for n in d['nodes'])" "--no-cache runs every node"
run_lathe "$TMP/r7" run --json --no-cache "$P"
# register.version counts up on every uncached run; everything else must not move.
expect_py "$TMP/r7.out" "{k: v for k, v in d['metrics'].items() if k != 'register.version'} == $(json_get "$TMP/r6.out" "repr({k: v for k, v in d['metrics'].items() if k != 'register.version'})")" "two uncached runs give bit-identical metrics"

$PY - "$P" "$TMP/iris/nocache.json" <<'PY'
import json, sys
g = json.load(open(sys.argv[1]))
g["nodes"][1]["cache"] = False
json.dump(g, open(sys.argv[2], "w"))
PY
run_lathe "$TMP/r8" run --json "$TMP/iris/nocache.json"
expect_py "$TMP/r8.out" "(lambda s: s['data'] == 'cached' and s['split'] == 'succeeded')({n['id']: n['status'] for n in d['nodes']})" "\"cache\": false re-runs that node only"

# Two folders, one shared store, the same relative "path": each must read its own file.
mkdir -p "$TMP/other"
cp "$LATHE_SOURCE_DIR/examples/iris/pipeline.json" "$TMP/other/"
head -101 "$LATHE_SOURCE_DIR/examples/iris/iris.csv" >"$TMP/other/iris.csv"  # setosa and versicolor only
run_lathe "$TMP/s1" run --json --store "$TMP/shared" "$TMP/iris/pipeline.json"
run_lathe "$TMP/s2" run --json --store "$TMP/shared" "$TMP/other/pipeline.json"
expect_py "$TMP/s2.out" "[n['status'] for n in d['nodes'] if n['id'] == 'data'] == ['succeeded'] and d['metrics']['split.n_train'] == 80" "a shared store never serves another folder's data"
finish
