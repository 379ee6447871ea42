#!/usr/bin/env bash
# `lathe ui` on bad input (testkit pipelines only): a run still being written
# by a `lathe run` on the same store (every fetch 200, never "database is
# locked", the page says it is running, then that it ended), a run with no
# metrics (200, says so), NaN metrics and NaN curves (text "NaN", no NaN in
# any SVG coordinate, no console line in Chromium), and a store with no model
# registry (/models says so, and nothing is created).
source "$(dirname "$0")/lib.sh"
export LATHE_PLUGIN_PATH="$LATHE_TESTKIT_DIR"
B="$LATHE_SOURCE_DIR/tests/browser/browser.py"
have_chromium=1
command -v chromium >/dev/null || command -v chromium-browser >/dev/null || command -v google-chrome >/dev/null || have_chromium=0
S="$TMP/store"

cat >"$TMP/nometrics.json" <<'JSON'
{"nodes": [{"id": "source", "use": "transform/noop", "with": {"value": 1}},
  {"id": "transform", "use": "transform/noop", "in": {"data": "source"}}]}
JSON
cat >"$TMP/nan.json" <<'JSON'
{"nodes": [{"id": "train", "use": "transform/objective", "with": {"x": 0.5, "nan_above": 0, "steps": 6}},
  {"id": "ok", "use": "transform/metric", "with": {"value": 0.25}}]}
JSON
cat >"$TMP/slow.json" <<'JSON'
{"nodes": [{"id": "first", "use": "transform/noop"},
  {"id": "slow", "use": "transform/sleep", "in": {"data": "first"}, "with": {"seconds": 6}},
  {"id": "last", "use": "transform/metric", "in": {"data": "slow"}, "with": {"value": 3}}]}
JSON
run_lathe "$TMP/nm" run --json --store "$S" "$TMP/nometrics.json"
expect_code "$TMP/nm" 0 "the no-metrics pipeline runs"
nm=$(json_get "$TMP/nm.out" "d['run_id']")
run_lathe "$TMP/nan" run --json --store "$S" "$TMP/nan.json"
expect_code "$TMP/nan" 0 "the NaN pipeline runs"
nan=$(json_get "$TMP/nan.out" "d['run_id']")

"$LATHE_BIN" ui --store "$S" --port 0 --json >"$TMP/ui.out" 2>"$TMP/ui.err" &
UI_PID=$!
for _ in $(seq 1 100); do [ -s "$TMP/ui.out" ] && break; sleep 0.1; done
URL=$(json_get "$TMP/ui.out" "d['url']")

get() { # NAME PATH: NAME.body, and the status on stdout
  curl -s -m 10 -o "$TMP/$1.body" -w '%{http_code}' "$URL$2"
}

# A run in progress, written by another process while the UI reads.
"$LATHE_BIN" run --json --store "$S" "$TMP/slow.json" >"$TMP/slow.out" 2>"$TMP/slow.err" &
RUN_PID=$!
live=""
for _ in $(seq 1 100); do
  live=$(sqlite3 "$S/lathe.db" "SELECT run_id FROM executions WHERE node = 'slow' AND status = 'running'" 2>/dev/null)
  [ -n "$live" ] && break
  sleep 0.1
done
[ -n "$live" ] && pass "the slow run is being written" || fail "the slow run never started"
bad=0; locked=0; running=0; fetches=0
for _ in $(seq 1 12); do
  for p in / "/runs/$live"; do
    c=$(get live "$p"); fetches=$((fetches + 1))
    [ "$c" = 200 ] || { bad=$((bad + 1)); echo "# $p answered $c: $(head -c 200 "$TMP/live.body")"; }
    grep -qi "database is locked\|SQLITE_BUSY" "$TMP/live.body" && locked=$((locked + 1))
    [ "$p" != / ] && grep -q "still running" "$TMP/live.body" && running=$((running + 1))
  done
  sleep 0.2
done
[ $bad = 0 ] && pass "$fetches fetches during the run: all 200" || fail "$bad of $fetches fetches during the run were not 200"
[ $locked = 0 ] && pass "no 'database is locked' during the run" || fail "'database is locked' $locked times"
[ $running -gt 0 ] && pass "the run page says the run is still running ($running times)" || fail "the run page never said running"
grep -q "$live" <(get root /; cat "$TMP/root.body") && pass "/ lists the running run" || fail "/ lacks the running run"
wait $RUN_PID
[ $? = 0 ] && pass "the slow run ends well under the UI" || fail "the slow run failed: $(tail -3 "$TMP/slow.err")"
[ "$(get done "/runs/$live")" = 200 ] && ! grep -q "still running" "$TMP/done.body" && grep -q "succeeded" "$TMP/done.body" \
  && pass "once ended, the page says so" || fail "after the run: $(grep -o 'still running\|succeeded' "$TMP/done.body" | head -2)"

# No metrics
[ "$(get nm "/runs/$nm")" = 200 ] && pass "a run with no metrics: 200" || fail "a run with no metrics: not 200"
grep -q "recorded no metrics" "$TMP/nm.body" && pass "the page says the run recorded no metrics" \
  || fail "no-metrics page: $(grep -o '<h2>[^<]*' "$TMP/nm.body" | head -5 | tr '\n' ' ')"

# NaN
[ "$(get nan "/runs/$nan")" = 200 ] && pass "NaN metrics: 200" || fail "NaN metrics: not 200"
grep -qE '\bNaN\b|n/a' "$TMP/nan.body" && pass "the NaN metric shows as NaN or n/a" || fail "no NaN or n/a on the page"
# A NaN coordinate breaks the SVG element it is in (the browser drops it silently).
$PY - "$TMP/nan.body" <<'PYEOF' && pass "no NaN or inf in any SVG coordinate" || fail "a NaN/inf SVG coordinate"
import re, sys
t = open(sys.argv[1]).read()
bad = [m.group(0) for m in re.finditer(r'\b(?:d|points|x|y|x1|x2|y1|y2|cx|cy|r|width|height|transform|viewBox)="([^"]*)"', t)
       if re.search(r'nan|inf', m.group(1), re.I)]
print("\n".join(bad[:5]))
sys.exit(1 if bad else 0)
PYEOF
[ "$(get root /)" = 200 ] && grep -q "NaN" "$TMP/root.body" && pass "/ lists the NaN metric as NaN" || fail "/ with a NaN metric"

# A store without a model registry: /models says so, makes nothing.
[ "$(get models /models)" = 200 ] && grep -q "No model is registered" "$TMP/models.body" \
  && pass "/models of a store with no registry: says so" || fail "/models: $(head -c 300 "$TMP/models.body")"
[ ! -e "$S/registry" ] && pass "the UI made no registry" || fail "the UI made $S/registry"
[ "$(get nomodel /models/nosuch)" = 404 ] && grep -q "nosuch" "$TMP/nomodel.body" \
  && pass "/models/nosuch: 404 naming it" || fail "/models/nosuch"

if [ $have_chromium = 1 ]; then
  for p in "/runs/$nan" "/runs/$nm" "/runs/$live" /models; do
    n=$(echo "$p" | tr -c 'a-z0-9' _)
    if $PY "$B" load "$URL$p" --dom "$TMP/$n.dom" --shot "$TMP/$n.png" --size 1200,1600 --console "$TMP/$n.console" >"$TMP/$n.load" 2>&1; then
      pass "$p in Chromium: no console line"
    else
      fail "$p in Chromium logged: $(head -c 400 "$TMP/$n.console" "$TMP/$n.load")"
    fi
  done
else
  echo "# Chromium is absent: the browser checks are skipped"
fi
kill "$UI_PID"; wait "$UI_PID" 2>/dev/null
finish
