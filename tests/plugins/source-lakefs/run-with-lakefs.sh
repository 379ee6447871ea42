#!/usr/bin/env bash
# Runs a test binary against the lakeFS test server behind Prism
# (tests/lakefs/lakefs-env.sh): starts it on free loopback ports with a fresh
# object cache, runs "$@", stops it on any exit. Without Prism only its layer
# is skipped (LATHE_PRISM=required makes that an error).
set -uo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
run=$(mktemp -d "${TMPDIR:-/tmp}/lathe-lakefs-test.XXXXXX")
source "$here/../../lakefs/lakefs-env.sh"
cleanup() { lakefs_stop; rm -rf "$run"; }
trap cleanup EXIT
trap 'exit 130' INT TERM
if ! lakefs_start "$run"; then
  echo "not ok - the lakeFS test server did not start" >&2
  exit 1
fi
export LATHE_CACHE_DIR="$run/cache"
echo "# lakeFS test server at $LAKEFS_ENDPOINT (Prism layer: $LAKEFS_PRISM)"
"$@"
code=$?
if [ $code != 0 ]; then
  echo "--- server log" >&2; tail -20 "$run/server.log" >&2 || true
  [ -f "$run/prism.log" ] && { echo "--- Prism errors" >&2; grep -E "error|violation" "$run/prism.log" | tail -20 >&2 || true; }
fi
# Prism answers a 501 from upstream with a mock: it must never have happened
if [ -f "$run/prism.log" ] && grep -q "has returned 501" "$run/prism.log"; then
  echo "not ok - Prism mocked a response (the server answered 501)" >&2
  exit 1
fi
# Prism flags every request or response that breaks the spec
if [ -f "$run/prism.log" ] && grep -qiE "violation" "$run/prism.log"; then
  echo "not ok - Prism saw requests or responses that break the lakeFS spec:" >&2
  grep -iE -B2 "violation" "$run/prism.log" | head -30 >&2
  exit 1
fi
exit $code
