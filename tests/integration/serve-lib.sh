# shellcheck shell=bash
# Helpers for the `lathe serve` integration tests (sourced after lib.sh):
#   start_server NAME ARGS...      `lathe serve ARGS --port 0 --json` in the
#                                  background; sets SERVER_PID and URL
#   stop_server PID WHAT           SIGTERM, then exit 0 within 15 s
#   serve_train_iris               trains and registers iris@production in $TMP
#   serve_start [ARGS...]          start_server for iris@production in $TMP;
#                                  sets SERVE_PID, SERVE_URL; gives up the test
#                                  when it does not start
#   serve_metric FILE NAME_REGEX   sums the samples of /metrics text whose
#                                  name{labels} matches NAME_REGEX (Python re)
source "$LATHE_SOURCE_DIR/tests/common/stand-in.sh"
export LATHE_PLUGIN_PATH="${LATHE_PLUGIN_PATH:-$LATHE_TESTKIT_DIR:$LATHE_BUILD_DIR/plugins}"
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

serve_train_iris() {
  cp "$LATHE_SOURCE_DIR/examples/iris/iris.csv" "$TMP/"
  cat >"$TMP/serve-p.json" <<'JSON'
{"lathe": 1, "name": "serve", "seed": 3, "nodes": [
  {"id": "data", "use": "source/csv", "with": {"path": "iris.csv", "label": "species"}},
  {"id": "split", "use": "transform/split", "in": {"data": "data"}},
  {"id": "model", "use": "model/logreg", "in": {"train": "split.train"}},
  {"id": "register", "use": "registry/local", "in": {"model": "model"},
   "with": {"name": "iris", "alias": "production"}}]}
JSON
  (cd "$TMP" && run_lathe "$TMP/serve-train" run --json serve-p.json)
  expect_code "$TMP/serve-train" 0 "train and register iris"
}

serve_start() {
  pushd "$TMP" >/dev/null || return
  start_server "$TMP/serve" iris@production "$@"
  popd >/dev/null || return
  SERVE_PID=$SERVER_PID SERVE_URL=$URL
  if [ -z "$SERVE_URL" ]; then
    fail "lathe serve did not start: $(head -c 600 "$TMP/serve.err")"
    finish
  fi
  pass "lathe serve is up at $SERVE_URL"
}

serve_metric() {
  $PY - "$1" "$2" <<'PY'
import re, sys
total = 0.0
for line in open(sys.argv[1]):
    if line.startswith("#") or not line.strip():
        continue
    name, value = line.rsplit(" ", 1)
    if re.fullmatch(sys.argv[2], name):
        total += float(value)
print("%d" % total if total == int(total) else total)
PY
}
