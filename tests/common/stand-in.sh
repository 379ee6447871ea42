# shellcheck shell=bash
# Sourced by tests/lakefs/lakefs-env.sh, tests/mlflow/mlflow-env.sh and the
# scripts that run their test servers: what starting and stopping a stand-in
# server on loopback takes, written once.
#   standin_free_port                  prints a free loopback port
#   standin_wait_file PID FILE LOG WHO [TENTHS]
#                                      waits for FILE (a ready file) while PID lives;
#                                      on death prints LOG, on timeout says WHO did not start
#   standin_json FILE KEY              prints a top-level field of a JSON file
#   standin_stop PID...                stops the processes (by pid) and reaps them
#   standin_scratch NAME STOP          sets run to a new folder that, on exit, STOP
#                                      (a command) and its removal follow

standin_free_port() {
  /usr/bin/python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

standin_wait_file() {
  local pid="$1" file="$2" log="$3" who="$4" tenths="${5:-100}" _
  for _ in $(seq 1 "$tenths"); do
    [ -f "$file" ] && return 0
    kill -0 "$pid" 2>/dev/null || { cat "$log" >&2; return 1; }
    sleep 0.1
  done
  [ -f "$file" ] || { echo "$who did not start in $((tenths / 10)) s" >&2; return 1; }
}

standin_json() {
  /usr/bin/python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])' "$1" "$2"
}

standin_stop() {
  local p
  for p in "$@"; do
    kill "$p" 2>/dev/null || true
  done
  for p in "$@"; do
    wait "$p" 2>/dev/null || true
  done
}

standin_scratch() {
  run=$(mktemp -d "${TMPDIR:-/tmp}/lathe-$1.XXXXXX")
  # shellcheck disable=SC2064  # run and STOP are fixed now, on purpose
  trap "$2; rm -rf '$run'" EXIT
  trap 'exit 130' INT TERM
}
