#!/usr/bin/env bash
# `lathe serve --route` end to end (issue 14): examples/iris-ab registers a good
# production and a weak candidate; the server splits traffic 90/10, users'
# feedback shows the candidate wrong, and the rollback policy withdraws it:
# all traffic to production, the candidate alias back on production's version
# with reason "canary withdrawn" and the figures in the alias history.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/serve-lib.sh"
copy_iris_ab
cd "$TMP/iris-ab"
run_lathe "$TMP/prod" run --json pipeline.json --preset conservative
expect_code "$TMP/prod" 0 "train and register production"
# A one-stump forest, registered under the alias candidate.
run_lathe "$TMP/cand" run --json pipeline.json --preset conservative --set model.n_estimators=1 \
  --set model.max_depth=1 --set ab.alias=candidate --set promote.alias=candidate
expect_code "$TMP/cand" 0 "train and register candidate"
expect_py "$TMP/cand.out" "d['metrics']['promote.version'] == 2" "the candidate is version 2"

# Usage errors.
run_lathe "$TMP/u1" serve --route iris@production:90,other@candidate:10 --port 0
expect_code "$TMP/u1" 2 "--route mixing two models"
expect_err "$TMP/u1" "every variant must be model 'iris'" "the error names the model"
run_lathe "$TMP/u2" serve --route iris@production:0,iris@candidate:0 --port 0
expect_code "$TMP/u2" 2 "--route weights summing to 0"
run_lathe "$TMP/u3" serve --route iris@production:x --port 0
expect_code "$TMP/u3" 2 "--route with a weight that is not an integer"
run_lathe "$TMP/u4" serve --route iris@production:1 --max-p99-ms fast --port 0
expect_code "$TMP/u4" 2 "--max-p99-ms neither a number nor off"
run_lathe "$TMP/u5" serve --route iris@production:1 --sticky-header A --sticky-field b --port 0
expect_code "$TMP/u5" 2 "--sticky-header with --sticky-field"

start_server "$TMP/s" --route iris@production:90,iris@candidate:10 --poll-seconds 0 --min-feedback 10
expect_py "$TMP/s.out" "[(m['ref'], m['version']) for m in d['models']] == [('production', 1), ('candidate', 2)]" \
  "the startup line lists both variants"

$PY - "$URL" "$TMP/iris/iris.csv" "$TMP/phase1.json" <<'PY'
import json, sys
from serve_client import call, predict, iris_rows
url, csv, out = sys.argv[1:4]
rows = iris_rows(csv)
answers, bad = [], []
for i in range(400):
    x, y = rows[i % len(rows)]
    code, h, d = predict(url, [x], headers={"X-Request-Id": "req-%d" % i} if i % 2 else None)
    if code != 200:
        bad.append((code, d)); continue
    answers.append({"id": d["request_id"], "hid": h.get("X-Request-Id"), "variant": d["variant"],
                    "version": d["version"], "hvariant": h.get("X-Lathe-Variant"),
                    "hversion": h.get("X-Lathe-Model-Version"), "pred": d["predictions"][0], "truth": y, "i": i})
# the same key always reaches the same variant
sticky = {}
for k in range(30):
    seen = set()
    for _ in range(5):
        code, h, d = predict(url, [rows[0][0]], headers={"X-Request-Key": "user-%d" % k})
        seen.add(d.get("variant"))
    sticky["user-%d" % k] = sorted(seen)
# feedback: production's answers confirmed, the candidate's contradicted
classes = ["setosa", "versicolor", "virginica"]
fb = []
for a in answers:
    if a["variant"] == "production":
        fb.append({"request_id": a["id"], "label": a["pred"]})
    else:
        fb.append({"request_id": a["id"], "label": [c for c in classes if c != a["pred"]][0]})
fb.append({"request_id": "never-answered", "label": "setosa"})
code_bad1, _, bad1 = call(url + "/feedback", "POST", {"feedback": [{"label": "setosa"}]})
code_bad2, _, bad2 = call(url + "/feedback", "POST", b'{"feedback": [', None)
code_bad3, _, bad3 = call(url + "/feedback", "POST", {"feedback": 3})
code_fb, _, fbr = call(url + "/feedback", "POST", {"feedback": fb})
code_dup, _, dup = call(url + "/feedback", "POST", fb[0])
json.dump({"answers": answers, "bad": bad, "sticky": sticky, "fb": [code_fb, fbr], "dup": [code_dup, dup],
           "bad_fb": [[code_bad1, bad1], [code_bad2, bad2], [code_bad3, bad3]]}, open(out, "w"))
PY
P1="$TMP/phase1.json"
expect_py "$P1" "d['bad'] == [] and len(d['answers']) == 400" "400 predictions answered"
expect_py "$P1" "all(a['version'] == {'production': 1, 'candidate': 2}[a['variant']] and a['hvariant'] == a['variant'] and a['hversion'] == str(a['version']) for a in d['answers'])" \
  "each answer names its variant and version, in the body and the headers"
expect_py "$P1" "20 <= sum(a['variant'] == 'candidate' for a in d['answers']) <= 70" \
  "about 10% of the traffic goes to the candidate"
expect_py "$P1" "all(a['id'] == a['hid'] and (a['id'] == 'req-%d' % a['i'] if a['i'] % 2 else len(a['id']) == 36) for a in d['answers'])" \
  "request ids: X-Request-Id echoed, else a generated UUID, in the body and the header"
expect_py "$P1" "all(len(v) == 1 for v in d['sticky'].values()) and len({v[0] for v in d['sticky'].values()}) == 2" \
  "X-Request-Key keeps each client on one variant, and keys reach both"
expect_py "$P1" "[c for c, _ in d['bad_fb']] == [400, 400, 400] and all(b['code'] == 400 for _, b in d['bad_fb'])" \
  "malformed feedback: 400 with a JSON error"
expect_py "$P1" "d['fb'][0] == 200 and d['fb'][1]['unknown'] == 1 and d['fb'][1]['unknown_ids'] == ['never-answered'] and d['fb'][1]['accepted'] == 400" \
  "feedback: 400 accepted, the unknown id counted and named"
expect_py "$P1" "d['dup'][0] == 200 and d['dup'][1]['duplicates'] == 1 and d['dup'][1]['accepted'] == 0" \
  "feedback sent twice for one request counts once"

# The policy withdraws the candidate (its accuracy is 0, production's 1).
$PY - "$URL" "$TMP/phase2.json" <<'PY'
import json, sys, time
from serve_client import call, predict
url, out = sys.argv[1:3]
deadline = time.time() + 15
while time.time() < deadline:
    _, _, h = call(url + "/health")
    c = h["routes"][0]["variants"][1]
    if c["withdrawn"] and c["withdrawal_record"]:
        break
    time.sleep(0.1)
after = [predict(url, [[6.7, 3.0, 5.2, 2.3]])[2] for _ in range(100)]
_, _, m = call(url + "/metrics")
json.dump({"health": h, "after": after, "metrics": m}, open(out, "w"))
PY
P2="$TMP/phase2.json"
expect_py "$P2" "(lambda c: c['withdrawn'] and c['weight'] == 0 and 'online accuracy' in c['withdrawn_reason'] and c['online_accuracy'] == 0)(d['health']['routes'][0]['variants'][1])" \
  "the candidate is withdrawn for its online accuracy, in /health"
expect_py "$P2" "(lambda p: p['online_accuracy'] == 1 and p['labelled'] >= 300 and p['weight'] == 90)(d['health']['routes'][0]['variants'][0])" \
  "production keeps its weight and shows its online accuracy"
expect_py "$P2" "'now points at version 1' in d['health']['routes'][0]['variants'][1]['withdrawal_record']" \
  "/health says the withdrawal is recorded in the registry"
expect_py "$P2" "all(a['variant'] == 'production' and a['version'] == 1 for a in d['after'])" \
  "after the withdrawal all traffic goes to production"
expect_py "$P2" "'lathe_serve_canary_withdrawn{model=\"iris\",variant=\"candidate\"} 1' in d['metrics'] and 'lathe_serve_online_accuracy{model=\"iris\",variant=\"production\"} 1' in d['metrics'] and 'lathe_serve_online_accuracy{model=\"iris\",variant=\"candidate\"} 0' in d['metrics']" \
  "metrics: canary withdrawn and online accuracy per variant"
expect_py "$P2" "'lathe_serve_variant_weight{model=\"iris\",variant=\"candidate\"} 0' in d['metrics']" "metrics: the candidate's weight is 0"

run_lathe "$TMP/hist" models history iris --alias candidate --json
expect_code "$TMP/hist" 0 "history of the candidate alias"
expect_py "$TMP/hist.out" "(lambda h: h['reason'] == 'canary withdrawn' and h['version'] == 1 and h['previous_version'] == 2 and bool(h['user']))(d[-1])" \
  "the candidate alias moved back to production's version, reason 'canary withdrawn'"
expect_py "$TMP/hist.out" "(lambda f: f['rule'] == 'accuracy' and f['canary_accuracy'] == 0 and f['primary_accuracy'] == 1 and f['canary_labelled'] >= 10 and f['primary_labelled'] >= 10 and f['canary_version'] == 2 and f['primary_version'] == 1 and f['threshold'] == 0.05 and 'canary_p99_ms' in f and f['psi'] is None)(d[-1]['figures'])" \
  "the history records the figures: both accuracies, counts, versions, p99, psi"
stop_server $SERVER_PID "canary server"

# A shadow: answered by production, scored by the weak version 2 (the
# candidate alias names version 1 now), agreement counted.
start_server "$TMP/sh" iris@production --shadow iris@2 --poll-seconds 0
$PY - "$URL" "$TMP/iris/iris.csv" "$TMP/shadow.json" <<'PY'
import json, sys, time
from serve_client import call, predict, iris_rows
url, csv, out = sys.argv[1:4]
ans = [predict(url, [x])[2] for x, _ in iris_rows(csv)]
time.sleep(0.5)
_, _, m = call(url + "/metrics")
_, _, r = call(url + "/routes")
json.dump({"ans": ans, "metrics": m, "routes": r}, open(out, "w"))
PY
expect_py "$TMP/shadow.json" "all(a['variant'] == 'production' and a['version'] == 1 for a in d['ans'])" "with a shadow, production answers everything"
expect_py "$TMP/shadow.json" "(lambda v: v['role'] == 'shadow' and v['version'] == 2 and v['agree'] + v['disagree'] == 150 and v['agree'] > 0 and v['disagree'] > 0)(d['routes']['routes'][0]['variants'][1])" \
  "the shadow scored every row; a one-stump forest agrees on some, not all"
expect_py "$TMP/shadow.json" "'lathe_serve_shadow_agreement_total{model=\"iris\",variant=\"2\"} ' in d['metrics'] and 'lathe_serve_shadow_disagreement_total{model=\"iris\",variant=\"2\"} ' in d['metrics']" \
  "metrics: shadow agreement and disagreement"
if command -v promtool >/dev/null; then
  json_get "$TMP/shadow.json" "d['metrics']" >"$TMP/mt.txt"
  promtool check metrics <"$TMP/mt.txt" >"$TMP/pt.out" 2>&1 && pass "promtool check metrics" || fail "promtool: $(head -c 600 "$TMP/pt.out")"
fi
stop_server $SERVER_PID "shadow server"
# --sticky-field: a body member keeps a client on one variant (rules off).
start_server "$TMP/sf" --route iris@production:50,iris@2:50 --sticky-field user --max-p99-ms off \
  --max-accuracy-drop off --poll-seconds 0
$PY - "$URL" "$TMP/sf.json" <<'PY'
import json, sys
from serve_client import predict
url, out = sys.argv[1:3]
seen = {}
for k in range(20):
    for _ in range(4):
        seen.setdefault(k, set()).add(predict(url, [[5.1, 3.5, 1.4, 0.2]], user="u%d" % k)[2]["variant"])
json.dump({k: sorted(v) for k, v in seen.items()}, open(out, "w"))
PY
expect_py "$TMP/sf.json" "all(len(v) == 1 for v in d.values()) and {v[0] for v in d.values()} == {'production', '2'}" \
  "--sticky-field user: one variant per user, both reached"
stop_server $SERVER_PID "sticky-field server"

# The p99 rule: --max-p99-ms 0 withdraws any canary once it has 50 requests.
# The canary names a version, not an alias, so nothing is recorded.
start_server "$TMP/lat" --route iris@production:50,iris@2:50 --max-p99-ms 0 --max-accuracy-drop off --poll-seconds 0
$PY - "$URL" "$TMP/lat.json" <<'PY'
import json, sys, time
from serve_client import call, predict
url, out = sys.argv[1:3]
for i in range(200):
    predict(url, [[5.1, 3.5, 1.4, 0.2]])
deadline = time.time() + 5
while time.time() < deadline:
    c = call(url + "/routes")[2]["routes"][0]["variants"][1]
    if c["withdrawn"] and c["withdrawal_record"]:
        break
    time.sleep(0.1)
json.dump(c, open(out, "w"))
PY
expect_py "$TMP/lat.json" "d['withdrawn'] and 'p99 latency' in d['withdrawn_reason'] and d['requests'] >= 50 and d['weight'] == 0 and d['withdrawal_record'].startswith('not recorded')" \
  "--max-p99-ms: the canary is withdrawn on its p99 ($(json_get "$TMP/lat.json" "d['withdrawn_reason']"))"
stop_server $SERVER_PID "p99 server"
finish
