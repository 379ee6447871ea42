#!/usr/bin/env bash
# The MLflow test server (tests/mlflow/README.md): the strict refusals, the
# log-batch limits at the edge and one over, idempotent re-logging, the registry
# with aliases, the artifact proxy, the faults and counts, the outage mode and
# authentication (smoke.py). Loopback only; every server is stopped on any exit.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
source "$here/mlflow-env.sh"
standin_scratch mlflow mlflow_stop
if ! mlflow_start "$run/open"; then
  echo "not ok - the MLflow test server did not start" >&2
  exit 1
fi
fail() {
  echo "--- server log" >&2; tail -30 "$1/server.log" >&2 || true
  exit 1
}
timeout 60 /usr/bin/python3 "$here/smoke.py" main || fail "$run/open"
mlflow_stop
# authentication: a bearer token, then HTTP Basic (MLflow's basic-auth app),
# the latter with --lenient (unknown fields ignored, as MLflow itself does)
mlflow_start "$run/token" --token "tok-$$-secret" || { echo "not ok - no server with --token" >&2; exit 1; }
MLFLOW_TEST_TOKEN="tok-$$-secret" timeout 20 /usr/bin/python3 "$here/smoke.py" token || fail "$run/token"
mlflow_stop
mlflow_start "$run/basic" --basic "alice:pw-$$" --lenient || { echo "not ok - no server with --basic" >&2; exit 1; }
MLFLOW_TEST_BASIC="alice:pw-$$" timeout 20 /usr/bin/python3 "$here/smoke.py" basic || fail "$run/basic"
for d in open token basic; do
  if grep -q "Traceback" "$run/$d/server.log"; then
    echo "not ok - the server logged a traceback ($d):" >&2; cat "$run/$d/server.log" >&2; exit 1
  fi
done
echo "ok - no traceback in the server logs"
