#!/usr/bin/env bash
# Runs a command with the lakeFS test server, Prism and the front up
# (lakefs-env.sh), then stops them on any exit: how the C tests of the
# lakeFS plugins get LAKECTL_* and LAKEFS_CONTROL_URL in their environment.
# Usage: with-lakefs.sh PROGRAM [ARGS...]   (exit status: the program's)
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
run=$(mktemp -d "${TMPDIR:-/tmp}/lathe-lakefs.XXXXXX")
source "$here/lakefs-env.sh"
cleanup() { lakefs_stop; rm -rf "$run"; }
trap cleanup EXIT
trap 'exit 130' INT TERM
if ! lakefs_start "$run"; then
  echo "Bail out! the lakeFS test server or Prism did not start" >&2
  tail -20 "$run/server.log" "$run/prism.log" 2>/dev/null >&2 || true
  exit 1
fi
status=0
"$@" || status=$?
# Prism answers a 501 from upstream with a mock: the test then proved nothing.
if [ -f "$run/prism.log" ] && grep -q "has returned 501" "$run/prism.log"; then
  echo "not ok - the server answered 501 and Prism mocked a response" >&2
  status=1
fi
if [ $status -ne 0 ]; then
  echo "--- server log" >&2; tail -20 "$run/server.log" >&2 || true
  [ -f "$run/prism.log" ] && { grep -E "error|violation" "$run/prism.log" | tail -20 >&2 || true; }
fi
exit $status
