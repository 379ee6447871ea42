# Helpers for the `lathe serve` integration tests (sourced after lib.sh).

# start_server NAME ARGS...: `lathe serve ARGS --port 0 --json` in the
# background; sets SERVER_PID and URL; NAME.out / NAME.err hold its output.
SERVER_PIDS=""
start_server() {
  local name="$1"; shift
  "$LATHE_BIN" serve "$@" --port 0 --json >"$name.out" 2>"$name.err" &
  SERVER_PID=$!
  SERVER_PIDS="$SERVER_PIDS $SERVER_PID"
  URL=""
  for _ in $(seq 1 150); do
    if [ -s "$name.out" ]; then URL=$(json_get "$name.out" "d['url']"); break; fi
    kill -0 $SERVER_PID 2>/dev/null || break
    sleep 0.1
  done
  [ -n "$URL" ] || echo "# server $name did not start: $(head -c 600 "$name.err")"
}
trap 'for p in $SERVER_PIDS; do kill -KILL $p 2>/dev/null; done; rm -rf "$TMP"' EXIT

# stop_server PID WHAT: SIGTERM, then it must exit 0 within 15 s.
stop_server() {
  kill -TERM "$1" 2>/dev/null
  for _ in $(seq 1 150); do kill -0 "$1" 2>/dev/null || break; sleep 0.1; done
  if kill -0 "$1" 2>/dev/null; then
    fail "$2: still running 15 s after SIGTERM"
    kill -KILL "$1"
  fi
  wait "$1"
  local rc=$?
  [ $rc -eq 0 ] && pass "$2: SIGTERM, exit 0" || fail "$2: exit $rc after SIGTERM"
}

# The Python side: `$PY $SERVE_PY` imports as a module via PYTHONPATH.
export PYTHONPATH="$LATHE_SOURCE_DIR/tests/integration${PYTHONPATH:+:$PYTHONPATH}"
