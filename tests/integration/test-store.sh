#!/usr/bin/env bash
# Nothing damaged is ever used: artifacts are verified as they are read and
# rebuilt from their producer, --no-cache repairs them, `lathe store check`
# finds and repairs damage; an empty lathe.db is refused; the store is
# private; leftovers of killed processes go; `runs show` ids are literal.
source "$(dirname "$0")/lib.sh"
flip() { $PY -c "import sys; p=sys.argv[1]; b=bytearray(open(p,'rb').read()); b[len(b)//2]^=1; open(p,'wb').write(b)" "$1"; }
sha_ok() { [ "$(sha256sum "$1" | cut -d' ' -f1)" = "$(basename "$(dirname "$1")")$(basename "$1")" ]; }
for d in iris clean; do cp -r "$LATHE_SOURCE_DIR/examples/iris" "$TMP/$d"; rm -rf "$TMP/$d/.lathe"; done
S="$TMP/iris/.lathe"

umask 000 # the store's modes must not depend on it
run_lathe "$TMP/r1" run --json "$TMP/iris/pipeline.json"
expect_code "$TMP/r1" 0 "first run"
umask 022
[ "$(stat -c %a "$S")" = 700 ] && pass "store dir is 0700 under umask 000" || fail "store dir is $(stat -c %a "$S")"
[ "$(stat -c %a "$S/lathe.db")" = 600 ] && pass "lathe.db is 0600" || fail "lathe.db is $(stat -c %a "$S/lathe.db")"
bad=$(find "$S/artifacts" -perm /077 | wc -l)
[ "$bad" = 0 ] && pass "artifacts are private" || fail "$bad artifact files or folders readable by others"
"$LATHE_BIN" run --json "$TMP/clean/pipeline.json" >/dev/null 2>&1

# One flipped byte in split.train.
digest=$($PY -c "import json,sys; d=json.load(sys.stdin); print([n for n in d['nodes'] if n['id']=='split'][0]['outputs']['train'])" \
  < <("$LATHE_BIN" runs show --json --store "$S" "$(json_get "$TMP/r1.out" "d['run_id']")" 2>/dev/null) 2>/dev/null)
[ -n "$digest" ] || digest=$(sqlite3 "$S/lathe.db" "SELECT artifact FROM events e JOIN executions x ON x.id = e.execution_id WHERE x.node = 'split' AND e.port = 'train' AND e.direction = 'output' LIMIT 1")
F="$S/artifacts/sha256/${digest:0:2}/${digest:2}"
[ -f "$F" ] && pass "split.train is $F" || fail "no file for split.train ($digest)"
flip "$F"

run_lathe "$TMP/c1" store check --json --store "$S"
expect_code "$TMP/c1" 1 "store check finds the damage"
expect_py "$TMP/c1.out" "d['damaged'] == ['$digest'] and d['integrity'] == 'ok' and not d['clean']" "store check names the damaged artifact"

# A changed holdout re-reads split.train: the damaged bytes are never used.
run_lathe "$TMP/r2" run --json --set holdout.test_fraction=0.3 "$TMP/iris/pipeline.json"
run_lathe "$TMP/k2" run --json --set holdout.test_fraction=0.3 "$TMP/clean/pipeline.json"
expect_code "$TMP/r2" 0 "the run with a damaged cached input succeeds"
expect_err "$TMP/r2" "$F is damaged" "a warning names the damaged file"
sha_ok "$F" && pass "split.train was rebuilt from its producer" || fail "split.train still damaged or gone"
acc=$(json_get "$TMP/k2.out" "repr(d['metrics']['eval.accuracy'])")
expect_py "$TMP/r2.out" "d['metrics']['eval.accuracy'] == $acc and d['metrics']['eval.log_loss'] == $(json_get "$TMP/k2.out" "repr(d['metrics']['eval.log_loss'])")" "the model is the one trained on the good rows"
# The holdout made from split.train is the clean store's, byte for byte.
holdout_out() { "$LATHE_BIN" runs show --json --store "$1" "$(json_get "$2" "d['run_id']")" 2>/dev/null | \
  $PY -c "import json,sys; d=json.load(sys.stdin); print([n for n in d['nodes'] if n['id']=='holdout'][-1]['outputs'])"; }
h_damaged=$(holdout_out "$S" "$TMP/r2.out"); h_clean=$(holdout_out "$TMP/clean/.lathe" "$TMP/k2.out")
[ -n "$h_clean" ] && [ "$h_damaged" = "$h_clean" ] && pass "holdout's outputs equal the undamaged store's" || fail "holdout outputs differ: $h_damaged vs $h_clean"
n=$(sqlite3 "$S/lathe.db" "SELECT count(*) FROM executions x JOIN runs r ON r.id = x.run_id WHERE r.id = '$(json_get "$TMP/r2.out" "d['run_id']")' AND x.node = 'split' AND x.status = 'succeeded'")
[ "$n" = 1 ] && pass "the rebuild of split is recorded" || fail "split rebuilt $n times in the store"

# --no-cache repairs a damaged file in place.
flip "$F"
run_lathe "$TMP/r3" run --json --no-cache "$TMP/iris/pipeline.json"
expect_code "$TMP/r3" 0 "--no-cache run"
sha_ok "$F" && pass "--no-cache rewrote the damaged file" || fail "--no-cache left the damaged file"
expect_err "$TMP/r3" "$F was damaged" "--no-cache says what it repaired"

# store check --repair removes it; the next run rebuilds it.
flip "$F"
run_lathe "$TMP/c2" store check --repair --json --store "$S"
expect_code "$TMP/c2" 0 "store check --repair"
expect_py "$TMP/c2.out" "d['repaired'] and d['damaged'] == ['$digest']" "--repair reports what it removed"
[ ! -e "$F" ] && pass "--repair removed the damaged file" || fail "--repair kept it"
run_lathe "$TMP/c3" store check --store "$S"
expect_code "$TMP/c3" 0 "store check after --repair is clean"
run_lathe "$TMP/r4" run --json "$TMP/iris/pipeline.json"
expect_code "$TMP/r4" 0 "the run after --repair"
expect_py "$TMP/r4.out" "{n['id']: n['status'] for n in d['nodes']}['split'] == 'succeeded'" "split is rebuilt after --repair"
sha_ok "$F" && pass "split.train is back, whole" || fail "split.train not rebuilt"
run_lathe "$TMP/u1" store
expect_code "$TMP/u1" 2 "lathe store without a verb"
run_lathe "$TMP/u2" store check --bogus
expect_code "$TMP/u2" 2 "lathe store check with a bad option"
run_lathe "$TMP/u3" store check --store "$TMP/nowhere"
expect_code "$TMP/u3" 2 "lathe store check without a store"

# runs show: '%' and '_' are no wildcards (in a store of one run, where
# either would match it).
echo '{"nodes": [{"id": "a", "use": "transform/noop"}]}' >"$TMP/one.json"
LATHE_PLUGIN_PATH="$LATHE_TESTKIT_DIR" run_lathe "$TMP/w0" run --json --store "$TMP/one" "$TMP/one.json"
expect_code "$TMP/w0" 0 "a store of one run"
run_lathe "$TMP/w1" runs show --json --store "$TMP/one" "%"
expect_code "$TMP/w1" 2 "runs show % matches no run"
run_lathe "$TMP/w2" runs show --json --store "$TMP/one" "________"
expect_code "$TMP/w2" 2 "runs show ________ matches no run"
run_lathe "$TMP/w3" runs show --json --store "$TMP/one" "$(json_get "$TMP/w0.out" "d['run_id'][:3]")"
expect_code "$TMP/w3" 0 "runs show with a real prefix"

# Leftovers of a dead process go at the next run; a live one's stay.
sleep 60 & live=$!
live_tok="$live:$(awk '{print $22}' /proc/$live/stat)"
touch "$S/artifacts/tmp/999999:1.abcdef" "$S/artifacts/tmp/$live_tok.abcdef"
mkdir -p "$S/scratch/deadbeef/node"
touch "$S/scratch/deadbeef/node/part"
touch -d '2 hours ago' "$S/scratch/deadbeef"
run_lathe "$TMP/r5" run --json "$TMP/iris/pipeline.json"
[ ! -e "$S/artifacts/tmp/999999:1.abcdef" ] && pass "a dead process's temp file is removed" || fail "dead temp file kept"
[ -e "$S/artifacts/tmp/$live_tok.abcdef" ] && pass "a live process's temp file is kept" || fail "live temp file removed"
[ ! -e "$S/scratch/deadbeef" ] && pass "an orphan scratch folder is removed" || fail "orphan scratch kept"
kill $live; wait $live 2>/dev/null

# An empty lathe.db is refused, not silently re-created.
cp -r "$S" "$TMP/emptied"
: >"$TMP/emptied/lathe.db"; rm -f "$TMP/emptied/lathe.db-wal" "$TMP/emptied/lathe.db-shm"
run_lathe "$TMP/e1" run --json --store "$TMP/emptied" "$TMP/iris/pipeline.json"
expect_code "$TMP/e1" 1 "a run on an empty lathe.db fails"
expect_err "$TMP/e1" "is empty (0 bytes)" "the refusal says the database is empty"
expect_err "$TMP/e1" "--store" "and how to start afresh"
[ "$(wc -l <"$TMP/e1.err")" = 1 ] && pass "in one line" || fail "$(wc -l <"$TMP/e1.err") lines"
[ ! -s "$TMP/emptied/lathe.db" ] && pass "the empty lathe.db is left as it was" || fail "lathe.db was re-created"
run_lathe "$TMP/e2" runs list --store "$TMP/emptied"
expect_code "$TMP/e2" 1 "runs list refuses it too"
finish
