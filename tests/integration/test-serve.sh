#!/usr/bin/env bash
# `lathe serve` (issue 14, first slice) on loopback: a registered iris model
# behind /predict, /health, KServe v2, MLflow /invocations and /metrics; every
# bad input answers a JSON error with the right status; SIGTERM ends it cleanly.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/serve-lib.sh"
serve_train_iris
cd "$TMP"

run_lathe "$TMP/u1" serve
expect_code "$TMP/u1" 2 "serve without a model"
run_lathe "$TMP/u2" serve iris
expect_code "$TMP/u2" 1 "serve NAME without @ALIAS"
expect_err "$TMP/u2" "NAME@ALIAS" "the error says NAME@ALIAS"
run_lathe "$TMP/u4" serve iris@production --port 70000
expect_code "$TMP/u4" 2 "--port out of range"
run_lathe "$TMP/u5" serve iris@production --timeout -1
expect_code "$TMP/u5" 2 "--timeout out of range"
run_lathe "$TMP/u6" serve iris@production iris@production --port 0
expect_code "$TMP/u6" 2 "the same model named twice"
run_lathe "$TMP/u3" serve iris@nosuch --port 0
expect_code "$TMP/u3" 1 "serve an alias that does not exist"

# The server: a free port, a 1 KiB body limit (for 413), its startup line as JSON.
"$LATHE_BIN" serve iris@production --port 0 --json --max-body-kib 1 >s.out 2>s.err &
pid=$!
for _ in $(seq 1 100); do [ -s s.out ] && break; sleep 0.1; done
expect_py s.out "d['models'] == [{'name': 'iris', 'ref': 'production', 'version': 1}] and d['url'].startswith('http://127.0.0.1:')" "the --json startup line"
URL=$(json_get s.out "d['url']")

# req NAME METHOD PATH [CONTENT_TYPE BODY]: NAME.code (HTTP status), NAME.json (body).
req() {
  $PY - "$URL" "$@" <<'PY'
import sys, urllib.request, urllib.error
url, name, method, path = sys.argv[1:5]
ct = sys.argv[5] if len(sys.argv) > 5 else None
body = sys.argv[6].encode() if len(sys.argv) > 6 else None
r = urllib.request.Request(url + path, data=body, method=method)
if ct:
    r.add_header("Content-Type", ct)
try:
    with urllib.request.urlopen(r, timeout=20) as resp:
        code, data = resp.status, resp.read()
except urllib.error.HTTPError as e:
    code, data = e.code, e.read()
open(name + ".code", "w").write(str(code))
open(name + ".json", "wb").write(data)
PY
}
# status NAME CODE WHAT [PYEXPR]: the status, and for errors a JSON {"error", "code"} body.
status() {
  local got; got=$(cat "$1.code" 2>/dev/null)
  if [ "$got" = "$2" ]; then pass "$3: HTTP $2"; else fail "$3: HTTP $got, expected $2: $(head -c 300 "$1.json" 2>/dev/null)"; fi
  if [ "$2" -ge 400 ]; then expect_py "$1.json" "d['code'] == $2 and len(d['error']) > 0" "$3: a JSON error body"; fi
  if [ -n "${4:-}" ]; then expect_py "$1.json" "$4" "$3: body"; fi
}
J=application/json

req h GET /health
status h 200 "/health" "d['live'] and d['ready'] and d['models'][0]['version'] == 1"
req p POST /predict $J '{"rows": [[5.1, 3.5, 1.4, 0.2], [6.7, 3.0, 5.2, 2.3]]}'
status p 200 "/predict rows" "d['predictions'] == ['setosa', 'virginica'] and d['model'] == 'iris' and d['version'] == 1 and d['classes'] == ['setosa', 'versicolor', 'virginica'] and abs(sum(d['probabilities'][0]) - 1) < 1e-4"
req pc POST /predict $J '{"columns": {"petal_width": [0.2], "sepal_length": [5.1], "sepal_width": [3.5], "petal_length": [1.4]}}'
status pc 200 "/predict columns (any order)" "d['predictions'] == ['setosa']"
req pr POST /predict $J '{"rows": [{"sepal_length": 6.7, "sepal_width": 3.0, "petal_length": 5.2, "petal_width": 2.3}]}'
status pr 200 "/predict records" "d['predictions'] == ['virginica']"

req v1 GET /v2/health/live
status v1 200 "/v2/health/live" "d['live'] is True"
req v2 GET /v2/health/ready
status v2 200 "/v2/health/ready" "d['ready'] is True"
req v3 GET /v2/models/iris
status v3 200 "/v2/models/iris" "d['name'] == 'iris' and d['versions'] == ['1'] and d['inputs'][0]['shape'] == [-1, 4]"
req v4 GET /v2/models/iris/ready
status v4 200 "/v2/models/iris/ready" "d['ready'] is True"
req v5 POST /v2/models/iris/infer $J '{"inputs": [{"name": "x", "shape": [2, 4], "datatype": "FP32", "data": [5.1, 3.5, 1.4, 0.2, 6.7, 3.0, 5.2, 2.3]}]}'
status v5 200 "v2 infer, one tensor" "d['model_name'] == 'iris' and d['outputs'][0]['data'] == ['setosa', 'virginica'] and d['outputs'][1]['shape'] == [2, 3]"
req v6 POST /v2/models/iris/infer $J '{"inputs": [{"name": "sepal_length", "shape": [1], "datatype": "FP32", "data": [5.1]}, {"name": "sepal_width", "shape": [1], "datatype": "FP32", "data": [3.5]}, {"name": "petal_length", "shape": [1], "datatype": "FP32", "data": [1.4]}, {"name": "petal_width", "shape": [1], "datatype": "FP32", "data": [0.2]}]}'
status v6 200 "v2 infer, a tensor per column" "d['outputs'][0]['data'] == ['setosa']"
req v7 GET /v2/models/nosuch/ready
status v7 404 "v2 ready of an unknown model"
req v8 POST /v2/models/nosuch/infer $J '{"inputs": []}'
status v8 404 "v2 infer of an unknown model"

req m1 POST /invocations $J '{"dataframe_split": {"columns": ["sepal_width", "sepal_length", "petal_length", "petal_width"], "data": [[3.5, 5.1, 1.4, 0.2]]}}'
status m1 200 "MLflow dataframe_split (columns reordered)" "d['predictions'] == ['setosa']"
req m2 POST /invocations $J '{"dataframe_records": [{"sepal_length": 6.7, "sepal_width": 3.0, "petal_length": 5.2, "petal_width": 2.3}]}'
status m2 200 "MLflow dataframe_records" "d['predictions'] == ['virginica']"
req m3 POST /invocations $J '{"instances": [[5.1, 3.5, 1.4, 0.2]]}'
status m3 200 "MLflow instances" "d['predictions'] == ['setosa']"
req m4 POST /invocations $J '{"inputs": {"sepal_length": [5.1], "sepal_width": [3.5], "petal_length": [1.4], "petal_width": [0.2]}}'
status m4 200 "MLflow inputs" "d['predictions'] == ['setosa']"

# Bad inputs.
req b1 POST /predict $J '{"rows": [[5.1, 3.5'
status b1 400 "malformed JSON"
req b2 POST /predict text/plain '{"rows": [[5.1, 3.5, 1.4, 0.2]]}'
status b2 415 "wrong content type"
req b3 POST /predict $J ''
status b3 400 "empty body"
req b4 POST /predict $J '{"rows": [[5.1, 3.5, 1.4]]}'
status b4 400 "too few columns"
req b5 POST /predict $J '{"columns": {"sepal_length": [5.1], "sepal_width": [3.5], "petal_length": [1.4], "colour": [0.2]}}'
status b5 400 "an unknown column name" "'colour' in d['error']"
req b6 POST /predict $J '{"rows": [[5.1, 3.5, 1.4, "x"]]}'
status b6 400 "a non-numeric value"
req b7 POST /predict $J '{"rows": [[5.1, 3.5, 1.4, 1e999]]}'
status b7 400 "Inf" "'finite' in d['error']"
req b8 POST /predict $J '{"rows": [[5.1, 3.5, 1.4, NaN]]}'
status b8 400 "NaN (not JSON)"
req b9 POST /predict $J '{"rows": []}'
status b9 400 "no rows"
big=$($PY -c "print('{\"rows\": [' + ','.join(['[5.1, 3.5, 1.4, 0.2]'] * 100) + ']}')")
req b10 POST /predict $J "$big"
status b10 413 "a body over the limit"
req b13 POST /predict $J '{"model": "nosuch", "rows": [[5.1, 3.5, 1.4, 0.2]]}'
status b13 404 "/predict of an unknown model"
req p2 POST /predict $J '{"model": "iris", "rows": [[5.1, 3.5, 1.4, 0.2]]}'
status p2 200 "/predict naming the model" "d['model'] == 'iris'"
req b11 GET /nosuch
status b11 404 "an unknown path"
req b12 GET /predict
status b12 405 "GET /predict"

req mt GET /metrics
grep -q '^lathe_serve_requests_total{model="iris",variant="production",version="1",status="200"} ' mt.json && pass "metrics: requests by model, version, status" || fail "metrics: no requests_total for 200: $(head -c 600 mt.json)"
grep -q '^lathe_serve_request_duration_seconds_bucket{model="iris",variant="production",le="+Inf"} ' mt.json && pass "metrics: latency histogram with +Inf" || fail "metrics: no +Inf bucket"
grep -q '^lathe_serve_in_flight_requests 0$' mt.json && pass "metrics: in-flight" || fail "metrics: no in-flight gauge"
grep -q '^lathe_serve_model_load_seconds{model="iris",variant="production",version="1"} ' mt.json && pass "metrics: model load time" || fail "metrics: no load time"
if command -v promtool >/dev/null; then
  promtool check metrics <mt.json >pt.out 2>&1 && pass "promtool check metrics" || fail "promtool: $(head -c 600 pt.out)"
else
  echo "# promtool not installed: check skipped"
fi
n=$(grep -c '"path":"/predict"' s.err)
[ "$n" -ge 10 ] && pass "a JSON-lines access log ($n /predict lines)" || fail "access log: $n /predict lines; $(head -c 300 s.err)"
$PY -c "import json,sys; [json.loads(l) for l in open('s.err') if l.startswith('{')]" && pass "access log lines are JSON" || fail "access log lines are not JSON"
$PY -c "
import json
ls = [json.loads(l) for l in open('s.err') if l.startswith('{')]
p = [l for l in ls if l['path'] == '/predict' and l['status'] == 200]
assert p and all(l['variant'] == 'production' and l['version'] == 1 and l['model'] == 'iris' and len(l['request_id']) == 36 and l['ms'] >= 0 for l in p), p[:2]
assert all('request_id' in l for l in ls)
" && pass "access log: request id, model, variant, version, status, ms" || fail "access log lacks request id, variant or version"

# Feedback for a two-row answer: a label per row; a wrong count is reported, not an error.
$PY - "$URL" fb.json <<'PY'
import json, sys
sys.path.insert(0, __import__('os').environ['LATHE_SOURCE_DIR'] + '/tests/integration')
from serve_client import call, predict
url, out = sys.argv[1:3]
c, h, d = predict(url, [[5.1, 3.5, 1.4, 0.2], [6.7, 3.0, 5.2, 2.3]], headers={"X-Request-Id": "two-rows"})
c2, h2, d2 = predict(url, [[5.1, 3.5, 1.4, 0.2]], headers={"X-Request-Id": "bad id with spaces"})
f1 = call(url + "/feedback", "POST", {"request_id": "two-rows", "label": ["setosa"]})[2]
f2 = call(url + "/feedback", "POST", {"request_id": "two-rows", "label": ["setosa", "versicolor"]})[2]
f3 = call(url + "/feedback", "POST", {"request_id": 3, "label": "setosa"})
# An id longer than a UUID (kept out of line), one row: right, counted.
long_id = "long-" + "x" * 60
c4, h4, d4 = predict(url, [[5.1, 3.5, 1.4, 0.2]], headers={"X-Request-Id": long_id})
f4 = call(url + "/feedback", "POST", {"request_id": long_id, "label": d4["predictions"][0]})[2]
r = call(url + "/routes")[2]
json.dump({"id": [d["request_id"], h.get("X-Request-Id")], "id2": d2["request_id"], "f1": f1, "f2": f2,
           "f3": [f3[0], f3[2]], "f4": f4, "id4": d4["request_id"] == long_id, "routes": r}, open(out, "w"))
PY
expect_py fb.json "d['id'] == ['two-rows', 'two-rows'] and d['id2'] != 'bad id with spaces' and len(d['id2']) == 36" \
  "X-Request-Id echoed; an unusable one replaced by a UUID"
expect_py fb.json "d['f1']['mismatched_rows'] == 1 and d['f1']['accepted'] == 0" "feedback with the wrong number of labels: reported"
expect_py fb.json "d['f2']['accepted'] == 1 and d['f2']['rows'] == 2" "feedback per row: both rows taken"
expect_py fb.json "d['id4'] and d['f4']['accepted'] == 1 and d['f4']['unknown'] == 0" "feedback for a 65-character request id"
expect_py fb.json "(lambda v: v['labelled'] == 3 and v['correct'] == 2)(d['routes']['routes'][0]['variants'][0])" \
  "online accuracy counts every labelled row: 2 right of 3 in /routes"
expect_py fb.json "d['f3'][0] == 400 and 'request_id' in d['f3'][1]['error']" "feedback with a numeric request_id: 400"

kill -TERM $pid
for _ in $(seq 1 100); do kill -0 $pid 2>/dev/null || break; sleep 0.1; done
if kill -0 $pid 2>/dev/null; then
  fail "still running 10 s after SIGTERM"
  kill -KILL $pid
fi
wait $pid
rc=$?
[ $rc -eq 0 ] && pass "SIGTERM: exit 0" || fail "SIGTERM: exit $rc"
finish
