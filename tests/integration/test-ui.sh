#!/usr/bin/env bash
# `lathe ui` on loopback: every page with curl (status, content type,
# Cache-Control, no external URL, <script> in a node id and a metric name
# escaped), the model registry pages (versions linking their run, aliases, the
# alias history with <script> in a reason escaped; an unknown or invalid model
# name 404 naming it, escaped; the registry refuses such a name), pages in
# headless Chromium (no console line, not blank, every link 200), an unknown
# run (404 naming it), an older-schema store (409), 405 on POST, and the UI
# never writes (lathe.db, registry.db and their WAL checksums unchanged).
source "$(dirname "$0")/lib.sh"
B="$LATHE_SOURCE_DIR/tests/browser/browser.py"
have_chromium=1
command -v chromium >/dev/null || command -v chromium-browser >/dev/null || command -v google-chrome >/dev/null || have_chromium=0

copy_iris_ab
cd "$TMP/iris" || exit 1
run_lathe "$TMP/iris-run" run --json pipeline.json
expect_code "$TMP/iris-run" 0 "iris runs"
rid=$(json_get "$TMP/iris-run.out" "d['run_id']")
run_lathe "$TMP/iris-run2" run --json pipeline.json
rid2=$(json_get "$TMP/iris-run2.out" "d['run_id']")
S="$TMP/iris/.lathe"
sqlite3 "$S/lathe.db" "UPDATE executions SET node = '<script>alert(1)</script>' WHERE node = 'tune' AND run_id = '$rid2';
                       UPDATE metrics SET name = '<script>alert(2)</script>' WHERE name = 'n_trials' AND run_id = '$rid2'" 2>/dev/null \
  || sqlite3 "$S/lathe.db" "UPDATE executions SET node = '<script>alert(1)</script>' WHERE node = 'tune'; UPDATE metrics SET name = '<script>alert(2)</script>' WHERE name = 'n_trials'"

# Model names are plain ([A-Za-z0-9_.-]): HTML in one is refused at the door.
run_lathe "$TMP/badname" models alias --store "$S" '<script>x</script>' production 1
expect_code "$TMP/badname" 2 "a model name with <script> is refused"
expect_err "$TMP/badname" "invalid model name" "the refusal says why"
# An A/B run in the same store: its page shows the alias history under the decision.
(cd "$TMP/iris-ab" && run_lathe "$TMP/ab-run" run --json --store "$S" pipeline.json)
expect_code "$TMP/ab-run" 0 "iris-ab runs into the same store"
abid=$(json_get "$TMP/ab-run.out" "d['run_id']")
# An alias move's reason is free text: HTML reaches the store that way.
sqlite3 "$S/registry/registry.db" "UPDATE alias_history SET reason = '<script>alert(3)</script>'"

start_ui() { # STORE PREFIX: URL in $URL, pid in $UI_PID
  "$LATHE_BIN" ui --store "$1" --port 0 --json >"$2.out" 2>"$2.err" &
  UI_PID=$!
  for _ in $(seq 1 100); do [ -s "$2.out" ] && break; sleep 0.1; done
  URL=$(json_get "$2.out" "d['url']")
}
# An absent WAL and an empty one (SQLite makes it when a reader opens) hold the same.
sums() {
  for f in "$S/lathe.db" "$S/registry/registry.db"; do
    sha256sum "$f"; [ -s "$f-wal" ] && sha256sum "$f-wal"
  done
  true
}
before=$(sums)
start_ui "$S" "$TMP/ui"
case "$URL" in http://127.0.0.1:*) pass "--json prints the loopback URL";; *) fail "url '$URL'";; esac

# get NAME PATH [ACCEPT]: NAME.body, NAME.code, NAME.type, NAME.cache
get() {
  curl -s -m 10 -D "$TMP/$1.h" -o "$TMP/$1.body" -w '%{http_code}' ${3:+-H "Accept: $3"} "$URL$2" >"$TMP/$1.code"
  grep -i '^content-type:' "$TMP/$1.h" | tr -d '\r' | cut -d' ' -f2- >"$TMP/$1.type"
  grep -i '^cache-control:' "$TMP/$1.h" | tr -d '\r' | cut -d' ' -f2- >"$TMP/$1.cache"
}
expect_page() { # NAME PATH CODE TYPE-PREFIX
  get "$1" "$2"
  [ "$(cat "$TMP/$1.code")" = "$3" ] && pass "$2: $3" || fail "$2: $(cat "$TMP/$1.code"), expected $3"
  grep -q "^$4" "$TMP/$1.type" && pass "$2: $4" || fail "$2: content type $(cat "$TMP/$1.type")"
  grep -q 'no-store' "$TMP/$1.cache" && pass "$2: no-store" || fail "$2: Cache-Control '$(cat "$TMP/$1.cache")'"
}
expect_page root / 200 text/html
expect_page run "/runs/$rid" 200 text/html
expect_page inj "/runs/$rid2" 200 text/html
expect_page cmp "/compare?runs=$rid,$rid2" 200 text/html
expect_page models /models 200 text/html
expect_page model /models/iris 200 text/html
expect_page nomodel "/models/%3Cscript%3Ex" 404 text/html
expect_page studies /studies 200 text/html
expect_page search "/?q=metrics.eval.accuracy+%3E+0.5&sort=attributes.start_time+DESC" 200 text/html
expect_page health /health 200 application/json
expect_page nope /no/such/page 404 text/html
expect_page unknown /runs/nosuchrun 404 text/html
grep -q "nosuchrun" "$TMP/unknown.body" && pass "the 404 page names the run" || fail "404 page: $(head -c 300 "$TMP/unknown.body")"
get unknownj /runs/nosuchrun application/json
expect_py "$TMP/unknownj.body" "d['code'] == 404 and 'nosuchrun' in d['error']" "a JSON 404 when asked for JSON"
code=$(curl -s -m 10 -o /dev/null -w '%{http_code}' -X POST "$URL/")
[ "$code" = 405 ] && pass "POST: 405" || fail "POST: $code"
expect_page abpage "/runs/$abid" 200 text/html
run_lathe "$TMP/abhist" models history iris --alias production --store "$S" --json
nmoves=$(json_get "$TMP/abhist.out" "len(d)")
nrows=$(grep -o '<tr class="alias-move">' "$TMP/abpage.body" | wc -l)
[ "$nmoves" -ge 1 ] && [ "$nrows" = "$nmoves" ] && pass "the A/B run page has the alias history: $nrows moves" \
  || fail "A/B run page: $nrows alias-move rows, the registry holds $nmoves"
grep -q '<script>alert(3)' "$TMP/abpage.body" && fail "the A/B page carries a raw <script> reason" \
  || pass "the A/B page escapes the reasons"
grep -q 'href="/models/iris"' "$TMP/models.body" && pass "/models links the model" || fail "/models: $(head -c 400 "$TMP/models.body")"
grep -q "href=\"/runs/$rid\"" "$TMP/model.body" && pass "/models/iris links the run that registered version 1" \
  || fail "/models/iris lacks /runs/$rid"
grep -q '<h2>Alias history</h2>' "$TMP/model.body" && grep -q 'candidate' "$TMP/model.body" \
  && pass "/models/iris shows the aliases and their history" || fail "/models/iris: no alias history"
grep -qF '&lt;script&gt;alert(3)&lt;/script&gt;' "$TMP/model.body" && ! grep -qF '<script>alert(' "$TMP/model.body" \
  && pass "an alias move's reason escaped" || fail "reason not escaped"
grep -qF "no model &#39;&lt;script&gt;x&#39;" "$TMP/nomodel.body" && ! grep -qF '<script>x' "$TMP/nomodel.body" \
  && pass "an invalid model name: 404 naming it, escaped" || fail "/models/<script>x: $(head -c 300 "$TMP/nomodel.body")"
for p in root run inj cmp models model studies search; do
  grep -qE 'https?://' "$TMP/$p.body" && fail "$p: an external URL" || pass "$p: no external URL"
done
grep -qF '&lt;script&gt;alert(1)&lt;/script&gt;' "$TMP/inj.body" && ! grep -qF '<script>alert(' "$TMP/inj.body" \
  && pass "node id escaped" || fail "node id not escaped"
grep -qF '&lt;script&gt;alert(2)&lt;/script&gt;' "$TMP/root.body" "$TMP/inj.body" && ! grep -qF '<script>alert(' "$TMP/root.body" \
  && pass "metric name escaped" || fail "metric name not escaped"

if [ $have_chromium = 1 ]; then
  for p in / "/runs/$rid" "/compare?runs=$rid,$rid2" /models /models/iris /studies; do
    n=$(echo "$p" | tr -c 'a-z0-9' _)
    if $PY "$B" load "$URL$p" --dom "$TMP/$n.dom" --shot "$TMP/$n.png" --size 1200,1600 --console "$TMP/$n.console" >"$TMP/$n.load" 2>&1; then
      pass "$p in Chromium: no console line"
    else
      fail "$p in Chromium logged: $(head -c 400 "$TMP/$n.console" "$TMP/$n.load")"
    fi
    v=$($PY "$B" variance "$TMP/$n.png" 2>/dev/null || echo 0)
    $PY -c "import sys; sys.exit(0 if float('$v') > 30 else 1)" && pass "$p: screenshot variance $v" || fail "$p: blank-looking ($v)"
    bad=0
    for l in $($PY "$B" links "$TMP/$n.dom" | grep -v '^#' | sed 's/&amp;/\&/g'); do
      case "$l" in /*) ;; *) fail "$p: link $l is not local"; bad=1; continue;; esac
      c=$(curl -s -m 10 -o /dev/null -w '%{http_code}' "$URL$l")
      [ "$c" = 200 ] || { fail "$p: link $l answers $c"; bad=1; }
    done
    [ $bad = 0 ] && pass "$p: every link answers 200"
  done
else
  echo "# Chromium is absent: the browser checks are skipped"
fi
kill "$UI_PID"; wait "$UI_PID" 2>/dev/null
[ "$before" = "$(sums)" ] && pass "the UI wrote nothing (lathe.db, registry.db and WAL checksums)" || fail "the store changed under the UI"

# An older-schema store: the UI starts, and pages answer 409 naming the schema
cp -r "$S" "$TMP/old"
sqlite3 "$TMP/old/lathe.db" "PRAGMA user_version = 3"
start_ui "$TMP/old" "$TMP/ui-old"
get old /
[ "$(cat "$TMP/old.code")" = 409 ] && pass "older schema: 409" || fail "older schema: $(cat "$TMP/old.code")"
grep -q "schema" "$TMP/old.body" && pass "older schema: says so" || fail "older schema page: $(head -c 300 "$TMP/old.body")"
kill "$UI_PID"; wait "$UI_PID" 2>/dev/null

run_lathe "$TMP/badport" ui --port 70000
expect_code "$TMP/badport" 2 "a bad --port"
finish
