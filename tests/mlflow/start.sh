#!/usr/bin/env bash
# Starts the MLflow test server by hand, prints the variables to export, and runs
# until Ctrl-C (then stops it). README.md here.
# Usage: tests/mlflow/start.sh [RUNDIR [SERVER ARGS...]]   (default: a new temporary folder)
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
run="${1:-$(mktemp -d "${TMPDIR:-/tmp}/lathe-mlflow.XXXXXX")}"
[ $# -gt 0 ] && shift
source "$here/mlflow-env.sh"
trap mlflow_stop EXIT
trap 'exit 0' INT TERM
mlflow_start "$run" "$@"
cat <<MSG
MLflow test server up (artifacts and log in $run). In another shell:
  export MLFLOW_TRACKING_URI=$MLFLOW_TRACKING_URI
  faults, counts and state: $MLFLOW_CONTROL_URL
Ctrl-C stops it.
MSG
while kill -0 "$MLFLOW_SERVER_PID" 2>/dev/null; do sleep 1; done
