#!/usr/bin/env bash
# `lathe serve` under hostile or heavy clients (issue 14): a slow-loris client
# is cut at --timeout while others are served; 10,000 columns are a fast 400;
# --max-in-flight answers 503 beyond its limit; SIGTERM stops accepting but
# lets a request in flight finish (bounded by --drain-seconds). Requests are
# held in flight with LATHE_SERVE_TEST_DELAY_MS, a test-only knob.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/serve-lib.sh"
serve_train_iris
cd "$TMP"
run_lathe "$TMP/u1" serve iris@production --max-in-flight -1
expect_code "$TMP/u1" 2 "--max-in-flight below 0"
run_lathe "$TMP/u2" serve iris@production --drain-seconds -1
expect_code "$TMP/u2" 2 "--drain-seconds below 0"

start_server "$TMP/a" iris@production --timeout 2 --poll-seconds 0
$PY - "$URL" "$TMP/loris.json" <<'PY'
import json, socket, sys, threading, time, urllib.parse
from serve_client import call, predict
url, out = sys.argv[1:3]
u = urllib.parse.urlsplit(url)
res = {}
def loris():
    s = socket.create_connection((u.hostname, u.port))
    s.settimeout(0.2)
    t0, got, sent = time.time(), b"", 0
    req = b"POST /predict HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
    while time.time() - t0 < 10:
        try:
            if sent < len(req):
                s.send(req[sent:sent + 1]); sent += 1
        except OSError:
            break
        try:
            chunk = s.recv(4096)
            if not chunk:
                break
            got += chunk
        except socket.timeout:
            pass
        except OSError:
            break
        time.sleep(0.8)
    res["loris_seconds"] = time.time() - t0
    res["loris_got"] = got.decode(errors="replace")[:200]
th = threading.Thread(target=loris)
th.start()
others = []
for _ in range(5):
    t = time.time()
    code, _, d = predict(url, [[5.1, 3.5, 1.4, 0.2]])
    others.append([code, time.time() - t])
    time.sleep(0.3)
th.join()
res["others"] = others
# 10,000 columns, three ways
wide = [0.5] * 10000
t = time.time()
res["rows"] = list(predict(url, [wide])[0:3:2])
res["columns"] = list(call(url + "/predict", "POST", {"columns": {"c%d" % i: [0.5] for i in range(10000)}})[0:3:2])
res["v2"] = list(call(url + "/v2/models/iris/infer", "POST",
                      {"inputs": [{"name": "x", "shape": [1, 10000], "datatype": "FP32", "data": wide}]})[0:3:2])
res["wide_seconds"] = time.time() - t
res["after"] = predict(url, [[5.1, 3.5, 1.4, 0.2]])[0]
json.dump(res, open(out, "w"))
PY
L="$TMP/loris.json"
expect_py "$L" "d['loris_seconds'] < 5 and (d['loris_got'] == '' or ' 408 ' in d['loris_got'])" \
  "slow-loris: a header byte a second is cut within the 2 s timeout (after $(json_get "$L" "round(d['loris_seconds'], 1)") s)"
expect_py "$L" "all(c == 200 and s < 1 for c, s in d['others'])" "other clients are served meanwhile"
expect_py "$L" "d['rows'][0] == 400 and '10000 values' in d['rows'][1]['error'] and 'takes 4 columns' in d['rows'][1]['error']" \
  "10,000 columns as rows: 400 naming the 4 expected ($(json_get "$L" "d['rows'][1]['error'][:80]"))"
expect_py "$L" "d['columns'][0] == 400 and d['columns'][1]['code'] == 400" "10,000 named columns: 400"
expect_py "$L" "d['v2'][0] == 400 and 'takes 4' in d['v2'][1]['error']" "a v2 tensor of 10,000 columns: 400 naming 4"
expect_py "$L" "d['wide_seconds'] < 2 and d['after'] == 200" "the three wide requests take under 2 s and the server goes on"
stop_server $SERVER_PID "server a"

# Every POST held 1.5 s: 10 at once against --max-in-flight 5.
LATHE_SERVE_TEST_DELAY_MS=1500 start_server "$TMP/b" iris@production --max-in-flight 5 --poll-seconds 0
$PY - "$URL" "$TMP/flight.json" <<'PY'
import json, sys
from concurrent.futures import ThreadPoolExecutor
from serve_client import predict
url, out = sys.argv[1:3]
with ThreadPoolExecutor(10) as ex:
    res = list(ex.map(lambda _: predict(url, [[5.1, 3.5, 1.4, 0.2]])[0:3:2], range(10)))
json.dump(res, open(out, "w"))
PY
expect_py "$TMP/flight.json" "sorted(c for c, _ in d) == [200] * 5 + [503] * 5 and all('max-in-flight' in b['error'] for c, b in d if c == 503)" \
  "--max-in-flight 5: five answered, five 503 naming the limit"

# SIGTERM with a request in flight: it still gets its 200, new connections are refused.
$PY - "$URL" "$TMP/drain.json" "$SERVER_PID" <<'PY'
import json, os, signal, socket, sys, threading, time, urllib.parse
from serve_client import predict
url, out, pid = sys.argv[1], sys.argv[2], int(sys.argv[3])
res = {}
def slow():
    res["slow"] = predict(url, [[6.7, 3.0, 5.2, 2.3]])[0:3:2]
t = threading.Thread(target=slow)
t.start()
time.sleep(0.5)
os.kill(pid, signal.SIGTERM)
time.sleep(0.3)
u = urllib.parse.urlsplit(url)
try:
    socket.create_connection((u.hostname, u.port), timeout=2).close()
    res["new"] = "accepted"
except OSError as e:
    res["new"] = "refused"
t.join()
json.dump(res, open(out, "w"))
PY
expect_py "$TMP/drain.json" "d['slow'][0] == 200 and d['slow'][1]['predictions'] == ['virginica']" "a request in flight at SIGTERM gets its 200"
expect_py "$TMP/drain.json" "d['new'] == 'refused'" "after SIGTERM new connections are refused"
stop_server $SERVER_PID "server b (drained)"
grep -q '"status":200' "$TMP/b.err" && pass "the drained request is in the access log" || fail "no access log line for the drained request"

# --drain-seconds bounds the wait: a request held 8 s does not hold the exit.
LATHE_SERVE_TEST_DELAY_MS=8000 start_server "$TMP/c" iris@production --drain-seconds 1 --poll-seconds 0
($PY -c "
import sys; sys.path.insert(0, '$LATHE_SOURCE_DIR/tests/integration')
from serve_client import predict
try: predict('$URL', [[5.1, 3.5, 1.4, 0.2]], timeout=15)
except Exception: pass" &)
sleep 0.5
t0=$(date +%s%N)
stop_server $SERVER_PID "server c"
ms=$(( ($(date +%s%N) - t0) / 1000000 ))
[ $ms -lt 4000 ] && pass "--drain-seconds 1: exit after $ms ms, not 8 s" || fail "--drain-seconds 1: exit after $ms ms"
finish
