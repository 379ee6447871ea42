#!/usr/bin/env bash
# Starts the lakeFS test server and Prism (and the front) by hand, prints the
# variables to export, and runs until Ctrl-C (then stops both). README.md here.
# Usage: tests/lakefs/start.sh [RUNDIR]   (default: a new temporary folder)
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
run="${1:-$(mktemp -d "${TMPDIR:-/tmp}/lathe-lakefs.XXXXXX")}"
source "$here/lakefs-env.sh"
trap lakefs_stop EXIT
trap 'exit 0' INT TERM
lakefs_start "$run"
cat <<MSG
lakeFS test server up (data and logs in $run). In another shell:
  export LAKECTL_SERVER_ENDPOINT_URL=$LAKEFS_ENDPOINT
  export LAKECTL_CREDENTIALS_ACCESS_KEY_ID=$LAKECTL_CREDENTIALS_ACCESS_KEY_ID
  export LAKECTL_CREDENTIALS_SECRET_ACCESS_KEY=$LAKECTL_CREDENTIALS_SECRET_ACCESS_KEY
  server (no Prism): $LAKEFS_API_URL    Prism: ${LAKEFS_PRISM_URL:-skipped}
  faults and counts: $LAKEFS_CONTROL_URL
Ctrl-C stops it.
MSG
while kill -0 "$LAKEFS_SERVER_PID" 2>/dev/null; do sleep 1; done
