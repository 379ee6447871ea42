#!/usr/bin/env bash
# A pipeline on lakeFS data, end to end (issue 12), against the lakeFS test
# server behind Prism: the iris pipeline reads iris.csv from lakeFS at main,
# pinned to its commit; main then moves on with changed data; `lathe
# reproduce` reads the recorded commit, never main, and finds every digest
# identical; `lathe lineage` walks from the registered model down to
# lakefs://iris/COMMIT/iris.csv; and a run at the new head differs.
source "$(dirname "$0")/lib.sh"
source "$LATHE_SOURCE_DIR/tests/lakefs/lakefs-env.sh"
export LATHE_CACHE_DIR="$TMP/cache"
trap 'lakefs_stop; rm -rf "$TMP"' EXIT
lakefs_start "$TMP/lakefs" || { fail "the lakeFS test server did not start"; finish; }
import() { # DIR MESSAGE
  lakefs_import --repository iris --create --message "$2" "$1" 2>"$TMP/import.err"
}
mkdir -p "$TMP/v1" "$TMP/v2"
cp "$LATHE_SOURCE_DIR/examples/iris/iris.csv" "$TMP/v1/iris.csv"
# v2: the same rows but the first ten, so a model trained on it differs.
{ head -1 "$TMP/v1/iris.csv"; tail -n +12 "$TMP/v1/iris.csv"; } >"$TMP/v2/iris.csv"
c1=$(import "$TMP/v1" "iris") && pass "commit 1: $c1" || fail "import: $(cat "$TMP/import.err")"

# The iris example with its source on lakeFS (the rest as examples/iris).
$PY - "$LATHE_SOURCE_DIR/examples/iris/pipeline.json" "$TMP/p.json" <<'PY'
import json, sys
p = json.load(open(sys.argv[1]))
for n in p["nodes"]:
    if n["id"] == "data":
        n["use"] = "source/lakefs"
        n["with"] = {"repository": "iris", "ref": "main", "path": "iris.csv", "label": "species"}
json.dump(p, open(sys.argv[2], "w"))
PY
cd "$TMP"
run_lathe r1 run --json --store "$TMP/store" "$TMP/p.json"
expect_code r1 0 "run at main ($c1)"
run1=$(json_get r1.out "d['run_id']")
run_lathe s1 runs show --json --store "$TMP/store" "$run1"
expect_py s1.out "any(v['uri'] == 'lakefs://iris/$c1/iris.csv' for n in d['nodes'] for v in n.get('data_versions', []))" \
  "runs show: the source read lakefs://iris/$c1/iris.csv"

run_lathe s1t runs show --store "$TMP/store" "$run1"
grep -qF "read lakefs://iris/$c1/iris.csv checksum:" s1t.out && pass "runs show prints the lakeFS uri and checksum" \
  || fail "runs show: $(grep -F lakefs s1t.out | head -3)"

c2=$(import "$TMP/v2" "iris without ten rows") && pass "commit 2: main moved to $c2" \
  || fail "import: $(cat "$TMP/import.err")"
[ "$c1" != "$c2" ] && pass "main moved" || fail "main did not move"

run_lathe rp reproduce --json --store "$TMP/store" "$run1"
expect_code rp 0 "reproduce after main moved: every digest identical"
expect_py rp.out "len(d['outputs']) >= 5 and all(o['identical'] for o in d['outputs'])" \
  "reproduce --json: every output identical"
run_lathe rpt reproduce --store "$TMP/store" "$run1"
expect_code rpt 0 "reproduce, the table"

# lineage: from the registered model down to the commit it was trained on.
run_lathe lg lineage --json --store "$TMP/store" iris@candidate
expect_code lg 0 "lineage iris@candidate"
expect_py lg.out "'lakefs://iris/$c1/iris.csv' in json.dumps(d)" \
  "lineage reaches lakefs://iris/$c1/iris.csv"
run_lathe lgt lineage --store "$TMP/store" iris@candidate
if grep -qF "lakefs://iris/$c1/iris.csv" lgt.out; then pass "lineage tree names the commit"; \
  else fail "lineage tree lacks the commit: $(head -c 800 lgt.out)"; fi

# A new run reads the new head, and its outputs differ from the first run's.
run_lathe r2 run --json --store "$TMP/store" "$TMP/p.json"
expect_code r2 0 "run at main ($c2)"
run2=$(json_get r2.out "d['run_id']")
run_lathe s2 runs show --json --store "$TMP/store" "$run2"
expect_py s2.out "any(v['uri'] == 'lakefs://iris/$c2/iris.csv' for n in d['nodes'] for v in n.get('data_versions', []))" \
  "the second run read lakefs://iris/$c2/iris.csv"
expect_py r2.out "[n['status'] for n in d['nodes'] if n['id'] == 'data'] == ['succeeded']" \
  "changed content: the source ran again (no stale hit by name)"
finish
