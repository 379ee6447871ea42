#!/usr/bin/env bash
# source/recordings on the real IDEKO folder (155 recordings, four channels)
# through the lathe binary: peak memory must stay about the size of the float
# data (45 MB), far under 400 MB, and the stored dataset must hold every row.
# Skipped (exit 77) when the shared data is absent.
source "$(dirname "$0")/lib.sh"
IDEKO="${LATHE_SHARED_DATA:-}/ideko"
if [ -z "${LATHE_SHARED_DATA:-}" ] || [ ! -d "$IDEKO" ]; then
  echo "skip - IDEKO recordings not found at '$IDEKO' (set LATHE_SHARED_DATA to the folder holding ideko/)"
  exit 77
fi
LIMIT_MB=400

mkdir -p "$TMP/p"
cd "$TMP/p"
$PY - "$IDEKO" >pipeline.json <<'EOF'
import json, sys
print(json.dumps({"lathe": 1, "name": "recordings", "seed": 1, "nodes": [
    {"id": "data", "use": "source/recordings",
     "with": {"path": sys.argv[1], "columns": ["f1", "f2", "f3", "f4"]}}]}))
EOF

# ru_maxrss of the children is the peak of the lathe process alone (kB).
$PY - "$LATHE_BIN" "$TMP/r" >"$TMP/rss.json" <<'EOF'
import json, resource, subprocess, sys, time
t = time.monotonic()
with open(sys.argv[2] + ".out", "w") as out, open(sys.argv[2] + ".err", "w") as err:
    code = subprocess.call([sys.argv[1], "run", "--json", "--no-cache", "pipeline.json"],
                           stdout=out, stderr=err)
open(sys.argv[2] + ".code", "w").write("%d\n" % code)
print(json.dumps({"maxrss_mb": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024.0,
                  "seconds": time.monotonic() - t}))
EOF
expect_code "$TMP/r" 0 "source/recordings on $IDEKO"
expect_py "$TMP/r.out" "d['status'] == 'succeeded'" "run succeeded"
echo "# peak RSS $(json_get "$TMP/rss.json" "'%.1f MB' % d['maxrss_mb']"), $(json_get "$TMP/rss.json" "'%.1f s' % d['seconds']")"
# AddressSanitizer's shadow memory and quarantine inflate RSS by design, so
# the bound is checked only in builds without sanitizers.
if [ "${LATHE_SANITIZED:-false}" = true ]; then
  echo "# peak RSS not checked: sanitizer build"
else
  expect_py "$TMP/rss.json" "d['maxrss_mb'] < $LIMIT_MB" "peak RSS under $LIMIT_MB MB"
fi

run_id=$(json_get "$TMP/r.out" "d['run_id']")
run_lathe "$TMP/s" runs show --json "$run_id"
expect_py "$TMP/s.out" "len(d['nodes'][0]['data_versions']) == 155 and all(len(v['digest']) == 64 for v in d['nodes'][0]['data_versions'])" "a data version (SHA-256) for each of the 155 files"

# The stored dataset's header: LATHEDS1, rows, columns, classes, groups.
digest=$(json_get "$TMP/s.out" "d['nodes'][0]['outputs']['data']")
blob=".lathe/artifacts/sha256/${digest:0:2}/${digest:2}"
if [ -f "$blob" ]; then
  $PY - "$blob" >"$TMP/hdr.json" <<'EOF'
import json, struct, sys
h = open(sys.argv[1], "rb").read(28)
magic, rows, cols, classes, groups, flags = struct.unpack("<8s5I", h)
print(json.dumps({"magic": magic.decode(), "rows": rows, "cols": cols, "classes": classes,
                  "groups": groups}))
EOF
  expect_py "$TMP/hdr.json" "d['magic'] == 'LATHEDS1' and d['cols'] == 4 and d['classes'] == 3 and d['groups'] == 155 and 155 * 18000 <= d['rows'] <= 155 * 20000" "the dataset: 4 channels, 3 classes, 155 recordings, 18-20k rows each on average"
else
  fail "stored dataset not found at $blob"
fi
finish
