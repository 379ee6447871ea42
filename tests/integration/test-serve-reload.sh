#!/usr/bin/env bash
# `lathe serve` hot reload (issue 14): POST /reload while 1,000 requests are in
# flight swaps to the alias's new version with no failed request and every
# answer consistent with the one version it names; a load that fails and a
# registry that is down leave the loaded version serving, with /reload 503,
# /health and /metrics saying so; --poll-seconds picks a move up by itself.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/serve-lib.sh"
source "$LATHE_SOURCE_DIR/tests/mlflow/mlflow-env.sh"
trap 'for p in $SERVER_PIDS; do kill -KILL $p 2>/dev/null; done; mlflow_stop; rm -rf "$TMP"' EXIT
copy_iris_ab
cd "$TMP/iris-ab"
run_lathe "$TMP/prod" run --json pipeline.json --preset conservative
expect_code "$TMP/prod" 0 "train and register version 1 (production)"
run_lathe "$TMP/cand" run --json pipeline.json --preset conservative --set model.n_estimators=1 \
  --set model.max_depth=1 --set ab.alias=candidate --set promote.alias=candidate
expect_code "$TMP/cand" 0 "train and register version 2 (a one-stump forest)"

# Every POST is held 200 ms (a test-only knob), so requests overlap the reload.
LATHE_SERVE_TEST_DELAY_MS=200 start_server "$TMP/s" iris@production --poll-seconds 0
$PY - "$URL" "$TMP/iris/iris.csv" "$TMP/before.json" <<'PY'
import json, sys
from concurrent.futures import ThreadPoolExecutor
from serve_client import predict, iris_rows
url, csv, out = sys.argv[1:4]
rows = iris_rows(csv)
with ThreadPoolExecutor(50) as ex:
    ans = list(ex.map(lambda r: predict(url, [r[0]])[2], rows))
json.dump(ans, open(out, "w"))
PY
expect_py "$TMP/before.json" "all(a['version'] == 1 for a in d)" "before the move: version 1"
run_lathe "$TMP/mv" models alias iris production 2
expect_code "$TMP/mv" 0 "move production to version 2"

$PY - "$URL" "$TMP/iris/iris.csv" "$TMP/during.json" <<'PY'
import json, sys, threading, time
from serve_client import call, predict, iris_rows
url, csv, out = sys.argv[1:4]
rows = iris_rows(csv)
N = 1000
res = [None] * N
def one(i):
    time.sleep(i * 0.0015)  # spread over 1.5 s: the reload lands in the middle
    try:
        code, h, d = predict(url, [rows[i % len(rows)][0]], timeout=60)
        res[i] = {"code": code, "version": d.get("version") if isinstance(d, dict) else None,
                  "pred": d["predictions"][0] if code == 200 else d, "row": i % len(rows)}
    except Exception as e:  # a refused or cut connection is a failure too
        res[i] = {"code": -1, "error": repr(e), "row": i % len(rows)}
ts = [threading.Thread(target=one, args=(i,)) for i in range(N)]
t0 = time.time()
for t in ts:
    t.start()
time.sleep(0.6)
rc, _, reload = call(url + "/reload", "POST", b"", {"Content-Type": "application/json"}, timeout=60)
for t in ts:
    t.join()
_, _, health = call(url + "/health")
json.dump({"res": res, "reload": [rc, reload], "health": health}, open(out, "w"))
PY
$PY - "$URL" "$TMP/iris/iris.csv" "$TMP/after.json" <<'PY'
import json, sys
from concurrent.futures import ThreadPoolExecutor
from serve_client import predict, iris_rows
url, csv, out = sys.argv[1:4]
rows = iris_rows(csv)
with ThreadPoolExecutor(50) as ex:
    ans = list(ex.map(lambda r: predict(url, [r[0]])[2], rows))
json.dump(ans, open(out, "w"))
PY
D="$TMP/during.json"
expect_py "$D" "d['reload'][0] == 200 and d['reload'][1]['changed'] == [{'name': 'iris', 'variant': 'production', 'from': 1, 'to': 2}] and d['reload'][1]['models'] == [{'name': 'iris', 'variant': 'production', 'version': 2}]" \
  "/reload answers after the swap: 1 -> 2"
expect_py "$D" "[r for r in d['res'] if r['code'] != 200] == [] or ([r for r in d['res'] if r['code'] != 200][:3], sum(r['code'] != 200 for r in d['res']))" "1,000 requests around the reload: none failed"
expect_py "$TMP/after.json" "all(a['version'] == 2 for a in d)" "after the reload: version 2"
$PY - "$TMP/before.json" "$TMP/after.json" "$D" >"$TMP/consistent.json" <<'PY'
import json, sys
before, after, during = (json.load(open(p)) for p in sys.argv[1:4])
table = {1: [a["predictions"][0] for a in before], 2: [a["predictions"][0] for a in after]}
res = during["res"]
bad = [r for r in res if r["code"] == 200 and r["pred"] != table[r["version"]][r["row"]]]
print(json.dumps({"bad": bad[:5], "v1": sum(r.get("version") == 1 for r in res),
                  "v2": sum(r.get("version") == 2 for r in res),
                  "differ": sum(a != b for a, b in zip(table[1], table[2]))}))
PY
expect_py "$TMP/consistent.json" "d['differ'] > 10" "versions 1 and 2 answer differently on $(json_get "$TMP/consistent.json" "d['differ']") of 150 rows"
expect_py "$TMP/consistent.json" "d['bad'] == []" "each answer matches the one version it names"
expect_py "$TMP/consistent.json" "d['v1'] > 0 and d['v2'] > 0 and d['v1'] + d['v2'] == 1000" \
  "both versions answered during the reload ($(json_get "$TMP/consistent.json" "d['v1']") and $(json_get "$TMP/consistent.json" "d['v2']"))"

# /reload while 1,000 requests are in flight (a second server holding every
# POST 5 s, this one too): the client sees all 1,000 open when it posts the
# reload; none fails, each answer matches the version it names, and the next
# requests get the new version.
SAVED_URL=$URL SAVED_PID=$SERVER_PID
LATHE_SERVE_TEST_DELAY_MS=5000 start_server "$TMP/s1k" iris@production --poll-seconds 0
run_lathe "$TMP/mvk" models alias iris production 1
expect_code "$TMP/mvk" 0 "move production back to version 1"
$PY - "$URL" "$TMP/iris/iris.csv" "$TMP/k.json" <<'PY'
import json, sys, threading, time
from serve_client import call, predict, iris_rows
url, csv, out = sys.argv[1:4]
rows = iris_rows(csv)
N = 1000
res = [None] * N
starts = [None] * N
t0 = time.time()
def one(i):
    time.sleep(max(0, t0 + i * 0.0008 - time.time()))  # all sent within 0.8 s; each is held 5 s
    starts[i] = time.time()
    try:
        code, h, d = predict(url, [rows[i % len(rows)][0]], timeout=60)
        res[i] = {"code": code, "version": d.get("version") if isinstance(d, dict) else None,
                  "pred": d["predictions"][0] if code == 200 else d, "row": i % len(rows)}
    except Exception as e:
        res[i] = {"code": -1, "error": repr(e), "row": i % len(rows)}
    res[i]["start"], res[i]["end"] = starts[i], time.time()
ts = [threading.Thread(target=one, args=(i,)) for i in range(N)]
for t in ts:
    t.start()
# Post once every thread has started its request (a loaded sanitizer run
# starts 1,000 threads late), and give the last ones 0.5 s to reach the server.
while None in starts and time.time() < t0 + 3.5:
    time.sleep(0.01)
time.sleep(0.5)
posted = time.time()
rc, _, reload = call(url + "/reload", "POST", b"", {"Content-Type": "application/json"}, timeout=60)
for t in ts:
    t.join()
code, _, after = predict(url, [rows[0][0]])
json.dump({"res": res, "reload": [rc, reload], "posted": posted,
           "in_flight": sum(r["start"] < posted < r["end"] for r in res),
           "after": after.get("version") if code == 200 else code}, open(out, "w"))
PY
K="$TMP/k.json"
expect_py "$K" "d['in_flight'] == 1000" "1,000 requests in flight when /reload was posted ($(json_get "$K" "d['in_flight']"))"
expect_py "$K" "d['reload'][0] == 200 and d['reload'][1]['models'] == [{'name': 'iris', 'variant': 'production', 'version': 1}]" \
  "/reload under 1,000 in flight swaps to version 1"
expect_py "$K" "sum(r['code'] != 200 for r in d['res']) == 0" "none of the 1,000 failed"
$PY - "$TMP/before.json" "$TMP/after.json" "$K" >"$TMP/consistent-k.json" <<'PY'
import json, sys
before, after, k = (json.load(open(p)) for p in sys.argv[1:4])
table = {1: [a["predictions"][0] for a in before], 2: [a["predictions"][0] for a in after]}
print(json.dumps({"bad": sum(r["code"] == 200 and r["pred"] != table[r["version"]][r["row"]] for r in k["res"])}))
PY
expect_py "$TMP/consistent-k.json" "d['bad'] == 0" "each of the 1,000 answers matches the version it names"
expect_py "$K" "d['after'] == 1" "the next request gets the new version"
stop_server "$SERVER_PID" "the 1,000-in-flight server"
URL=$SAVED_URL SERVER_PID=$SAVED_PID
run_lathe "$TMP/mvk2" models alias iris production 2
expect_code "$TMP/mvk2" 0 "production back on version 2 for what follows"

# A version whose blob is gone: the load fails, version 2 keeps serving.
blob=$($PY -c "
import json,sys; v=[m for m in json.load(open(sys.argv[1])) if m['version']==1][0]; d=v['digest']; print('.lathe/registry/blobs/sha256/%s/%s' % (d[:2], d[2:]))" <("$LATHE_BIN" models list --json))
mv "$blob" "$TMP/blob.away"
run_lathe "$TMP/mv1" models alias iris production 1
expect_code "$TMP/mv1" 0 "move production back to version 1"
$PY - "$URL" "$TMP/fail.json" <<'PY'
import json, sys
from serve_client import call, predict
url, out = sys.argv[1:3]
r = call(url + "/reload", "POST", {})
p = predict(url, [[6.7, 3.0, 5.2, 2.3]])
h = call(url + "/health")[2]
m = call(url + "/metrics")[2]
json.dump({"reload": r[0:3:2], "predict": p[0:3:2], "health": h, "metrics": m}, open(out, "w"))
PY
F="$TMP/fail.json"
expect_py "$F" "d['reload'][0] == 503 and d['reload'][1]['code'] == 503 and 'registry/local' in d['reload'][1]['error'] and 'iris@production' in d['reload'][1]['error'] and d['reload'][1]['models'][0]['version'] == 2" \
  "a failed load: /reload 503 naming the registry and the model, still version 2"
expect_py "$F" "d['predict'][0] == 200 and d['predict'][1]['version'] == 2" "requests are still answered by version 2"
expect_py "$F" "d['health']['registry']['ok'] is False and 'registry/local' in d['health']['registry']['error']" "/health: registry not ok, with the error"
expect_py "$F" "'lathe_serve_registry_up 0' in d['metrics'] and 'lathe_serve_reload_failures_total 1' in d['metrics']" \
  "metrics: registry down, one reload failure"
mv "$TMP/blob.away" "$blob"
$PY - "$URL" "$TMP/ok.json" <<'PY'
import json, sys
from serve_client import call
url, out = sys.argv[1:3]
r = call(url + "/reload", "POST", {})
json.dump({"reload": r[0:3:2], "health": call(url + "/health")[2]}, open(out, "w"))
PY
expect_py "$TMP/ok.json" "d['reload'][0] == 200 and d['reload'][1]['changed'][0]['to'] == 1 and d['health']['registry']['ok'] is True" \
  "the blob back: /reload loads version 1, the registry is ok again"
stop_server $SERVER_PID "reload server"

# --poll-seconds: the move is picked up without /reload.
start_server "$TMP/p" iris@production --poll-seconds 1
run_lathe "$TMP/mv2" models alias iris production 2
$PY - "$URL" "$TMP/poll.json" <<'PY'
import json, sys, time
from serve_client import call
url, out = sys.argv[1:3]
deadline, h = time.time() + 10, None
while time.time() < deadline:
    h = call(url + "/health")[2]
    if h["models"][0]["version"] == 2:
        break
    time.sleep(0.2)
json.dump(h, open(out, "w"))
PY
expect_py "$TMP/poll.json" "d['models'][0]['version'] == 2 and d['registry']['reloads'] >= 1" "--poll-seconds 1 picks up the move"
stop_server $SERVER_PID "polling server"

# registry/mlflow down at reload: the MLflow test server is stopped.
if mlflow_start "$TMP/mlf"; then
  unset MLFLOW_TRACKING_TOKEN MLFLOW_TRACKING_USERNAME MLFLOW_TRACKING_PASSWORD
  export LATHE_MLFLOW_TOTAL_TIMEOUT_MS=2000 LATHE_MLFLOW_BACKOFF_MS=50
  mkdir -p "$TMP/m" && cp pipeline.json "$TMP/m/" && cd "$TMP/m"
  sed -i 's|"../iris/iris.csv"|"'"$TMP"'/iris/iris.csv"|' pipeline.json
  registry_mlflow pipeline.json pipeline.json
  run_lathe "$TMP/mreg" run --json pipeline.json
  expect_code "$TMP/mreg" 0 "register iris in the MLflow test server"
  start_server "$TMP/ms" iris@production --registry registry/mlflow --poll-seconds 0
  mlflow_stop
  $PY - "$URL" "$TMP/mdown.json" <<'PY'
import json, sys
from serve_client import call, predict
url, out = sys.argv[1:3]
r = call(url + "/reload", "POST", {})
p = predict(url, [[5.1, 3.5, 1.4, 0.2]])
json.dump({"reload": r[0:3:2], "predict": p[0:3:2], "health": call(url + "/health")[2],
           "metrics": call(url + "/metrics")[2]}, open(out, "w"))
PY
  M="$TMP/mdown.json"
  expect_py "$M" "d['reload'][0] == 503 and 'registry/mlflow' in d['reload'][1]['error'] and d['reload'][1]['registry'] == 'registry/mlflow'" \
    "MLflow down: /reload 503 naming registry/mlflow"
  expect_py "$M" "d['predict'][0] == 200 and d['predict'][1]['version'] == 1" "MLflow down: version 1 still answers"
  expect_py "$M" "d['health']['registry']['ok'] is False and 'lathe_serve_registry_up 0' in d['metrics']" \
    "MLflow down: /health and /metrics say the registry is down"
  stop_server $SERVER_PID "mlflow-backed server"
else
  fail "the MLflow test server did not start"
fi
finish
