#!/usr/bin/env bash
# The lakeFS test server behind Prism (tests/lakefs/README.md): every endpoint
# Lathe calls, the strict refusals, pagination over 1,100 objects, the faults,
# and a spec-violating response that Prism must catch (smoke.py). Loopback
# only; both processes are stopped on any exit.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
source "$here/lakefs-env.sh"
standin_scratch lakefs lakefs_stop
lakefs_start_or_exit "$run" "not ok -"
if ! timeout 50 /usr/bin/python3 "$here/smoke.py"; then
  [ -n "${LAKEFS_KEEP_LOGS:-}" ] && cp "$run"/*.log "$LAKEFS_KEEP_LOGS"/
  echo "--- server log" >&2; tail -20 "$run/server.log" >&2 || true
  [ -f "$run/prism.log" ] && { echo "--- Prism log" >&2; grep -E "error|violation" "$run/prism.log" | tail -20 >&2 || true; }
  exit 1
fi
# Prism answers a 501 from upstream with a mock: it must never have happened
if [ -f "$run/prism.log" ] && grep -q "has returned 501" "$run/prism.log"; then
  echo "not ok - the server answered 501 and Prism mocked a response:" >&2
  grep -B2 "has returned 501" "$run/prism.log" >&2
  exit 1
fi
echo "ok - Prism never fell back to a mock"
