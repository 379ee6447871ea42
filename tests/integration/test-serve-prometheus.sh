#!/usr/bin/env bash
# `lathe serve`'s /metrics scraped by a real Prometheus (issue 14): the target
# goes up, and Prometheus's own query API returns up == 1, the requests served
# (as many as were sent) and the latency histogram's +Inf bucket. Skipped
# (exit 77) when prometheus is not installed. Bounded: 30 s for the target.
source "$(dirname "$0")/lib.sh"
PROM=$(command -v prometheus || true)
if [ -z "$PROM" ]; then
  echo "# prometheus not installed (scripts/deps.sh installs it): skipped"
  exit 77
fi
source "$LATHE_SOURCE_DIR/tests/integration/serve-lib.sh"
SERVE_PID="" PROM_PID=""
trap 'standin_stop $SERVE_PID $PROM_PID; rm -rf "$TMP"' EXIT
trap 'exit 130' INT TERM

serve_train_iris
serve_start
HOSTPORT=${SERVE_URL#http://}
HOSTPORT=${HOSTPORT%%/*}

# Requests before the first scrape, so that the first sample already counts them.
N=25
$PY - "$SERVE_URL" "$N" <<'PY' && pass "$N /predict requests answered 200" || fail "/predict requests"
import sys, urllib.request
url, n = sys.argv[1], int(sys.argv[2])
for _ in range(n):
    r = urllib.request.Request(url + "/predict", data=b'{"rows": [[5.1, 3.5, 1.4, 0.2]]}',
                               headers={"Content-Type": "application/json"}, method="POST")
    with urllib.request.urlopen(r, timeout=10) as resp:
        assert resp.status == 200, resp.status
PY
curl -s --max-time 10 "$SERVE_URL/metrics" >"$TMP/metrics.txt"
sent=$(serve_metric "$TMP/metrics.txt" 'lathe_serve_requests_total\{.*status="200".*\}')
[ "$sent" = "$N" ] && pass "/metrics counts the $N requests" || fail "/metrics counts $sent 200s, expected $N: $(head -c 600 "$TMP/metrics.txt")"

PPORT=$(standin_free_port)
PURL="http://127.0.0.1:$PPORT"
cat >"$TMP/prometheus.yml" <<YML
global:
  scrape_interval: 1s
  scrape_timeout: 1s
scrape_configs:
  - job_name: lathe
    static_configs:
      - targets: ['$HOSTPORT']
YML
"$PROM" --config.file "$TMP/prometheus.yml" --storage.tsdb.path "$TMP/tsdb" \
  --web.listen-address "127.0.0.1:$PPORT" >"$TMP/prom.log" 2>&1 &
PROM_PID=$!

# pq EXPR OUT: an instant query through Prometheus's HTTP API, into OUT.
pq() { curl -s --max-time 5 -G "$PURL/api/v1/query" --data-urlencode "query=$1" >"$2"; }
# The first scrape that succeeded: the target up in /api/v1/targets, then the series queryable.
up=""
deadline=$((SECONDS + 30))
while [ $SECONDS -lt $deadline ]; do
  kill -0 "$PROM_PID" 2>/dev/null || break
  if curl -s --max-time 2 "$PURL/api/v1/targets" >"$TMP/targets.json" 2>/dev/null &&
     [ "$(json_get "$TMP/targets.json" "[t['health'] for t in d['data']['activeTargets'] if t['labels']['job'] == 'lathe']" 2>/dev/null)" = "['up']" ]; then
    pq 'up{job="lathe"}' "$TMP/q-up.json"
    if [ "$(json_get "$TMP/q-up.json" "len(d['data']['result'])" 2>/dev/null)" = "1" ]; then
      up=1
      break
    fi
  fi
  sleep 0.5
done
if [ -z "$up" ]; then
  fail "the lathe target was not up within 30 s: $(head -c 600 "$TMP/targets.json" 2>/dev/null); log: $(tail -c 600 "$TMP/prom.log")"
  finish
fi
pass "Prometheus's target lathe is up (api/v1/targets)"
expect_py "$TMP/q-up.json" "d['status'] == 'success' and d['data']['result'][0]['value'][1] == '1'" 'up{job="lathe"} == 1'
# Prometheus's own scrapes hit /metrics, which is no model's request: the
# count of model iris's 200s stays exactly N.
pq 'sum(lathe_serve_requests_total{job="lathe",model="iris",status="200"})' "$TMP/q-req.json"
expect_py "$TMP/q-req.json" "d['status'] == 'success' and float(d['data']['result'][0]['value'][1]) == $N" \
  "lathe_serve_requests_total{model=\"iris\",status=\"200\"} == $N in Prometheus"
pq 'lathe_serve_request_duration_seconds_bucket{job="lathe",le="+Inf"}' "$TMP/q-inf.json"
expect_py "$TMP/q-inf.json" "d['status'] == 'success' and len(d['data']['result']) >= 1 and all(float(r['value'][1]) > 0 for r in d['data']['result'])" \
  'lathe_serve_request_duration_seconds_bucket{le="+Inf"} > 0 in Prometheus'
pq 'lathe_serve_request_duration_seconds_count{job="lathe"}' "$TMP/q-cnt.json"
expect_py "$TMP/q-cnt.json" "d['status'] == 'success' and sum(float(r['value'][1]) for r in d['data']['result']) >= $N" \
  "the histogram's _count holds at least the $N requests"
# The scrape itself was clean: no sample Prometheus had to drop.
pq 'scrape_samples_scraped{job="lathe"} > 0 and scrape_samples_post_metric_relabeling{job="lathe"} == scrape_samples_scraped{job="lathe"}' "$TMP/q-scr.json"
expect_py "$TMP/q-scr.json" "len(d['data']['result']) == 1" "every scraped sample kept"
finish
