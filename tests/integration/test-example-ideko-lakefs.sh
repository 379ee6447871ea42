#!/usr/bin/env bash
# examples/ideko-lakefs: its pipeline is examples/ideko's but for the source
# node (and the name), so the two cannot drift; and run.sh, end to end: the
# IDEKO recordings imported into the lakeFS test server as two commits, the
# pipeline run pinned to the first, main moved on, `lathe reproduce` identical.
source "$(dirname "$0")/lib.sh"
EX="$LATHE_SOURCE_DIR/examples/ideko-lakefs"
$PY - "$LATHE_SOURCE_DIR/examples/ideko/pipeline.json" "$EX/pipeline.json" >"$TMP/diff" 2>&1 <<'PY'
import json, sys
a, b = (json.load(open(p)) for p in sys.argv[1:3])
for p in (a, b):
    p.pop("name")
src = [n for n in b["nodes"] if n["id"] == "recordings"][0]
assert src["use"] == "source/lakefs", src
assert src["with"]["format"] == "recordings" and src["with"]["path"] == "ideko/", src
ref = [n for n in a["nodes"] if n["id"] == "recordings"][0]
assert src["with"]["columns"] == ref["with"]["columns"], (src, ref)
a["nodes"] = [n for n in a["nodes"] if n["id"] != "recordings"]
b["nodes"] = [n for n in b["nodes"] if n["id"] != "recordings"]
assert a == b, "the two pipelines differ beyond the source node"
PY
[ $? -eq 0 ] && pass "ideko-lakefs/pipeline.json is ideko's but for its source" || fail "$(cat "$TMP/diff")"
if [ ! -d "$LATHE_SHARED_DATA/ideko" ]; then
  echo "# SKIP run.sh: $LATHE_SHARED_DATA/ideko is absent"
  finish
fi
"$EX/run.sh" "$LATHE_BUILD_DIR" >"$TMP/run.out" 2>"$TMP/run.err"
code=$?
[ $code -eq 0 ] && pass "run.sh: reproduce found every digest identical" \
  || fail "run.sh exit $code: $(tail -c 1500 "$TMP/run.err") $(tail -c 1500 "$TMP/run.out")"
grep -q "lakefs://ideko/" "$TMP/run.out" && pass "run.sh: runs show lists lakefs:// versions" \
  || fail "run.sh: no lakefs:// version shown"
c1=$(sed -n 's/^== commit 1 (subset): //p' "$TMP/run.out")
[ -n "$c1" ] && grep -q "lakefs://ideko/$c1/" "$TMP/run.out" && pass "the run was pinned to commit 1 ($c1)" \
  || fail "the run's versions do not name commit 1 '$c1'"
finish
