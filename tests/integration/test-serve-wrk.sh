#!/usr/bin/env bash
# `lathe serve` under load (issue 14): wrk, 3 s, 2 threads, 16 keep-alive
# connections, POST /predict (bench/serve/wrk-predict.lua sets the body and
# content type and counts non-2xx answers itself). Asserts no socket error, no
# answer outside 2xx, and that /metrics counts at least every request wrk saw
# answered (those still in flight when wrk stopped may add a few). Skipped
# (exit 77) when wrk is not installed.
source "$(dirname "$0")/lib.sh"
if ! command -v wrk >/dev/null; then
  echo "# wrk not installed (scripts/deps.sh installs it): skipped"
  exit 77
fi
source "$LATHE_SOURCE_DIR/tests/integration/serve-lib.sh"
SERVE_PID=""
trap 'standin_stop $SERVE_PID; rm -rf "$TMP"' EXIT
trap 'exit 130' INT TERM

serve_train_iris
unset WRK_BODY
# The access log stays on: it is part of what a request costs in production.
serve_start
timeout 30 wrk -t2 -c16 -d3s --timeout 2s --latency -s "$LATHE_SOURCE_DIR/bench/serve/wrk-predict.lua" \
  "$SERVE_URL" >"$TMP/wrk.out" 2>&1
rc=$?
[ $rc -eq 0 ] && pass "wrk ran (exit 0)" || fail "wrk exit $rc: $(head -c 800 "$TMP/wrk.out")"
sed 's/^/# /' "$TMP/wrk.out"

# wrk's own summary text: N requests, no "Socket errors" line (wrk prints it only
# when there are some), no "Non-2xx or 3xx responses" line, a latency distribution.
total=$(sed -n 's/^ *\([0-9][0-9]*\) requests in .*/\1/p' "$TMP/wrk.out")
[ -n "$total" ] && [ "$total" -gt 0 ] && pass "wrk: $total requests" || fail "wrk: no requests line"
grep -q "Socket errors" "$TMP/wrk.out" && fail "wrk: $(grep "Socket errors" "$TMP/wrk.out")" || pass "wrk: no socket errors"
grep -q "Non-2xx" "$TMP/wrk.out" && fail "wrk: $(grep "Non-2xx" "$TMP/wrk.out")" || pass "wrk: no non-2xx/3xx answers"
grep -q "^ *99% " "$TMP/wrk.out" && pass "wrk: latency distribution (--latency)" || fail "wrk: no 99% latency line"
# The script's own count, which 3xx cannot slip past.
sed -n 's/^WRK_JSON //p' "$TMP/wrk.out" >"$TMP/wrk.json"
expect_py "$TMP/wrk.json" "d['requests'] == $total and d['non2xx'] == 0 and sum(d['errors'].values()) == 0" \
  "the wrk script: every answer 2xx, no error of any kind"

curl -s --max-time 10 "$SERVE_URL/metrics" >"$TMP/metrics.txt"
ok=$(serve_metric "$TMP/metrics.txt" 'lathe_serve_requests_total\{.*status="200".*\}')
other=$(serve_metric "$TMP/metrics.txt" 'lathe_serve_requests_total\{.*status="(?!200").*\}')
if [ -n "$total" ] && [ "${ok:-0}" -ge "$total" ] && [ "$ok" -le $((total + 16)) ]; then
  pass "/metrics: $ok requests answered 200, wrk saw $total (16 connections: at most 16 more)"
else
  fail "/metrics: $ok requests answered 200, wrk saw $total"
fi
[ "$other" = "0" ] && pass "/metrics: no other status" || fail "/metrics: $other requests with another status"
kill -0 "$SERVE_PID" 2>/dev/null && pass "the server is still up" || fail "the server died under load"
# Stopped first, so that every access-log line is written before they are counted.
standin_stop "$SERVE_PID"
n=$(grep -c '"path":"/predict"' "$TMP/serve.err")
[ "$n" -eq "$ok" ] && pass "the access log has a line per request ($n)" || fail "access log: $n /predict lines, /metrics says $ok"
finish
