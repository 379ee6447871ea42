#!/usr/bin/env bash
# Drift in `lathe serve` (issue 14): each served version compares a sliding
# window of its recent request rows with the reference statistics the
# registry keeps for it (Evidently's PSI on the registry's equal-width bins,
# 0.0001 for an empty bin). Checked against the formula computed here, in
# Python, from `lathe models show`'s reference and the rows sent: the same
# PSI per feature; small for rows like the training data, large for shifted
# ones; /metrics (promtool) and /drift carry it; the predicted classes are
# counted; and a canary whose inputs drift past --max-psi is withdrawn, with
# the PSI in the alias history.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/serve-lib.sh"
copy_iris_ab
cd "$TMP/iris-ab"
run_lathe "$TMP/prod" run --json pipeline.json --preset conservative
expect_code "$TMP/prod" 0 "train and register production (with its reference statistics)"
run_lathe "$TMP/cand" run --json pipeline.json --preset deep_forest --set ab.alias=candidate --set promote.alias=candidate
expect_code "$TMP/cand" 0 "train and register candidate"
run_lathe "$TMP/show" models show --json iris production
expect_py "$TMP/show.out" "len(d['metadata']['reference']['features']) == 4" "production's version has reference histograms"

start_server "$TMP/s" --route iris@production:50,iris@candidate:50 --poll-seconds 0 \
  --max-accuracy-drop off --max-p99-ms off --max-psi 0.3
[ -n "$URL" ] && pass "serve with a 50/50 route" || { fail "the server did not start"; finish; }

$PY - "$URL" "$TMP/iris/iris.csv" "$TMP/show.out" "$TMP/r.json" <<'PY'
import json, math, random, struct, sys
from serve_client import call, predict, iris_rows
url, csv, show, out = sys.argv[1:5]
rows = [x for x, _ in iris_rows(csv)]
ref = json.load(open(show))["metadata"]["reference"]

def evidently_psi(feature, values):
    """Evidently's PSI on the reference's bins (values outside go to the edge bins)."""
    bins, lo, hi = ref["bins"], feature["min"], feature["max"]
    w = (hi - lo) / bins
    cur = [0] * bins
    for v in values:
        # Lathe holds features as float32, as it did when it binned the reference.
        v = struct.unpack("f", struct.pack("f", v))[0]
        b = int(math.floor((v - lo) / w)) if w > 0 else 0
        cur[min(max(b, 0), bins - 1)] += 1
    total_ref = sum(feature["counts"])
    psi = 0.0
    for r, c in zip(feature["counts"], cur):
        rs = r / total_ref or 0.0001
        cs = c / len(values) or 0.0001
        psi += (cs - rs) * math.log(cs / rs)
    return psi

def production_window(sent):
    # Every request goes to one variant; its window holds what it was sent.
    return [x for x, v in sent if v == "production"][-1000:]

random.seed(3)
sent, bad = [], 0
def send(x, key):
    global bad
    code, h, d = predict(url, [x], headers={"X-Request-Key": key})
    if code != 200:
        bad += 1
        return
    sent.append((x, d["variant"]))

for i in range(600):  # like the training data
    send(rows[i % len(rows)], "k%d" % i)
code, _, d1 = call(url + "/drift")
win = production_window(sent)
mine = [evidently_psi(f, [x[j] for x in win]) for j, f in enumerate(ref["features"])]
prod1 = [m for m in d1["models"] if m["variant"] == "production"][0]["drift"]
res = {"bad": bad, "code": code, "rows1": prod1["rows"], "n1": len(win),
       "psi1": [f["psi"] for f in prod1["features"]], "mine1": mine, "all1": prod1["psi"],
       "names": [f["name"] for f in prod1["features"]], "ref_names": [f["name"] for f in ref["features"]]}
for i in range(1200):  # shifted: petal length far above anything seen in training
    x = list(rows[i % len(rows)])
    x[2] += 20
    send(x, "s%d" % i)
code, _, d2 = call(url + "/drift")
win = production_window(sent)
prod2 = [m for m in d2["models"] if m["variant"] == "production"][0]["drift"]
res.update({"rows2": prod2["rows"], "psi2": [f["psi"] for f in prod2["features"]],
            "mine2": [evidently_psi(f, [x[j] for x in win]) for j, f in enumerate(ref["features"])],
            "all2": prod2["psi"], "max2": prod2["psi_max"], "bad": bad,
            "pred": prod2.get("predictions")})
json.dump(res, open(out, "w"))
PY
echo "# $(cat "$TMP/r.json" | head -c 900)"
expect_py "$TMP/r.json" "d['bad'] == 0 and d['code'] == 200" "every request answered, /drift answers"
expect_py "$TMP/r.json" "d['names'] == d['ref_names']" "/drift names the reference's features"
expect_py "$TMP/r.json" "d['rows1'] == min(d['n1'], 1000) and d['rows1'] >= 100" "the window holds the rows the variant was sent"
expect_py "$TMP/r.json" "all(abs(a - b) < 1e-6 for a, b in zip(d['psi1'], d['mine1']))" \
  "PSI per feature equals Evidently's formula on the same rows (training-like traffic)"
expect_py "$TMP/r.json" "d['all1'] < 0.1" "training-like traffic: PSI in all under 0.1"
expect_py "$TMP/r.json" "all(abs(a - b) < 1e-6 for a, b in zip(d['psi2'], d['mine2']))" \
  "PSI per feature equals Evidently's formula after the shift"
expect_py "$TMP/r.json" "d['psi2'][2] > 1 and d['max2'] == d['psi2'][2] and abs(d['all2'] - sum(d['psi2']) / 4) < 1e-9" \
  "the shifted feature's PSI is large, psi_max is it, psi is the mean"
expect_py "$TMP/r.json" "d['pred'] is not None and abs(sum(d['pred']['current']) - 1) < 1e-9" "predicted class shares in /drift"

call_get() { $PY -c "
import sys; from serve_client import call
c, h, d = call(sys.argv[1]); open(sys.argv[2], 'w').write(d if isinstance(d, str) else __import__('json').dumps(d))
print(c)" "$URL$1" "$2"; }
call_get /metrics "$TMP/m.txt" >/dev/null
grep -q '^lathe_serve_feature_psi{model="iris",variant="production",feature="' "$TMP/m.txt" \
  && pass "/metrics: PSI per feature" || fail "/metrics lacks lathe_serve_feature_psi"
grep -q '^lathe_serve_variant_psi{model="iris",variant="production"}' "$TMP/m.txt" \
  && pass "/metrics: PSI in all" || fail "/metrics lacks lathe_serve_variant_psi"
n=$(grep '^lathe_serve_predictions_total{model="iris",variant="production",class=' "$TMP/m.txt" | awk '{s += $2} END {print s + 0}')
[ "$n" -ge 100 ] && pass "/metrics: predicted classes counted ($n rows)" || fail "predicted classes: $n"
if command -v promtool >/dev/null; then
  promtool check metrics <"$TMP/m.txt" >"$TMP/promtool.out" 2>&1 \
    && pass "promtool check metrics" || fail "promtool: $(head -c 400 "$TMP/promtool.out")"
else
  echo "# promtool absent (install prometheus through scripts/deps.sh): not checked"
fi

# The candidate's inputs drifted too: the policy (checked every second) withdraws it.
for _ in $(seq 1 50); do
  call_get /routes "$TMP/routes.json" >/dev/null
  json_get "$TMP/routes.json" "[v for g in d['routes'] for v in g['variants'] if v['variant'] == 'candidate'][0]['withdrawn']" 2>/dev/null | grep -q True && break
  sleep 0.2
done
expect_py "$TMP/routes.json" "'PSI' in [v for g in d['routes'] for v in g['variants'] if v['variant'] == 'candidate'][0]['withdrawn_reason']" \
  "the drifted canary is withdrawn by the PSI rule"
for _ in $(seq 1 50); do
  run_lathe "$TMP/h" models history --json iris --alias candidate
  json_get "$TMP/h.out" "[e for e in d if e.get('reason') == 'canary withdrawn']" 2>/dev/null | grep -q psi && break
  sleep 0.2
done
expect_py "$TMP/h.out" "[e['figures']['psi'] > 0.3 for e in d if e.get('reason') == 'canary withdrawn'] == [True]" \
  "the alias history records the withdrawal with its PSI"
stop_server "$SERVER_PID" "the server"
finish
