#!/usr/bin/env bash
# The IDEKO pipeline pinned to a lakeFS commit, and reproduced after the branch
# moved on (README.md here). Against the lakeFS test server behind Prism
# (tests/lakefs): no lakeFS needs installing.
#   examples/ideko-lakefs/run.sh [BUILD_DIR]     (default: build)
# Exit 0 only when `lathe reproduce` found every digest identical.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
build="$(cd "${1:-$root/build}" && pwd)"
data="$root/../shared/data/ideko"
if [ ! -d "$data" ]; then
  echo "examples/ideko-lakefs: $data is absent (the IDEKO recordings, ../shared/data); nothing to run"
  exit 77
fi
work="$(mktemp -d "${TMPDIR:-/tmp}/lathe-ideko-lakefs.XXXXXX")"
source "$root/tests/lakefs/lakefs-env.sh"
trap 'lakefs_stop; rm -rf "$work"' EXIT
lakefs_start "$work/lakefs"
lathe() { "$build/lathe" "$@"; }
importer() { lakefs_import --repository ideko --prefix ideko "$@"; }

# Commit 1: every other recording of each class, so the subset keeps all three.
/usr/bin/python3 - "$data" "$work/subset" <<'PY'
import os, sys
src, dst = sys.argv[1], sys.argv[2]
for cls in sorted(d for d in os.listdir(src) if os.path.isdir(os.path.join(src, d))):
    files = sorted(os.path.join(d, n) for d, _, ns in os.walk(os.path.join(src, cls)) for n in ns)
    for f in files[::2]:
        t = os.path.join(dst, os.path.relpath(f, src))
        os.makedirs(os.path.dirname(t), exist_ok=True)
        os.symlink(f, t)
PY
c1=$(importer --create --message "IDEKO subset" "$work/subset")
echo "== commit 1 (subset): $c1"

echo "== lathe run, ref main (pinned to $c1 when the node starts)"
lathe run -j 2 --json --store "$work/store" "$here/pipeline.json" > "$work/run.json"
run_id=$(/usr/bin/python3 -c 'import json,sys; r=json.load(open(sys.argv[1])); print(r["run_id"]); assert r["status"]=="succeeded", r' "$work/run.json")
lathe runs show --store "$work/store" "$run_id" | grep -m 3 "lakefs://" || true

c2=$(importer --message "IDEKO all" "$data")
echo "== commit 2 (all recordings): $c2; main has moved on"

echo "== lathe reproduce $run_id (reads $c1, never main)"
lathe reproduce --store "$work/store" "$run_id"
