#!/usr/bin/env bash
# Runs a command with the lakeFS test server, Prism and the front up
# (lakefs-env.sh), then stops them on any exit: how the C tests of the
# lakeFS plugins get LAKECTL_* and LAKEFS_CONTROL_URL in their environment.
# Usage: with-lakefs.sh PROGRAM [ARGS...]   (exit status: the program's)
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
source "$here/lakefs-env.sh"
standin_scratch lakefs lakefs_stop
lakefs_start_or_exit "$run" "Bail out!"
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
