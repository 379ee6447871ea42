# Sourced by the MLflow tests, the examples and by hand (tests/mlflow/README.md):
# starts the MLflow test server on free loopback ports.
#   mlflow_start RUNDIR [SERVER ARGS...]   starts it (data and log in RUNDIR); exports
#     MLFLOW_TRACKING_URI    http://127.0.0.1:P, what an MLflow client uses
#                            (the API is under $MLFLOW_TRACKING_URI/api/2.0/...)
#     MLFLOW_CONTROL_URL     the fault/count/state control port (not the API)
#     MLFLOW_SERVER_PID      its process id
#   extra arguments go to the server: --token T, --basic USER:PASSWORD, --lenient
#   mlflow_stop            stops what mlflow_start started (by pid)

MLFLOW_HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
MLFLOW_SERVER_PID=""
source "$MLFLOW_HERE/../common/stand-in.sh"

mlflow_start() {
  local run="$1"
  shift
  mkdir -p "$run"
  rm -f "$run/server.json"
  /usr/bin/python3 "$MLFLOW_HERE/mlflow_server.py" serve --port 0 --control-port 0 \
    --data "$run/data" --ready-file "$run/server.json" "$@" 2>"$run/server.log" &
  MLFLOW_SERVER_PID=$!
  standin_wait_file "$MLFLOW_SERVER_PID" "$run/server.json" "$run/server.log" \
    "mlflow_start: the test server" || { MLFLOW_SERVER_PID=""; return 1; }
  local port cport
  port=$(standin_json "$run/server.json" port)
  cport=$(standin_json "$run/server.json" control_port)
  export MLFLOW_TRACKING_URI="http://127.0.0.1:$port"
  export MLFLOW_CONTROL_URL="http://127.0.0.1:$cport"
  export MLFLOW_SERVER_PID
}

mlflow_stop() {
  [ -z "$MLFLOW_SERVER_PID" ] || standin_stop "$MLFLOW_SERVER_PID"
  MLFLOW_SERVER_PID=""
}
