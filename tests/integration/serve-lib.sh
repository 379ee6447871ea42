# shellcheck shell=bash
# Sourced (after lib.sh) by the `lathe serve` tests that put real clients in
# front of the server (serve-prometheus, serve-wrk): a registered iris model
# and a running server, written once.
#   serve_train_iris               trains and registers iris@production in $TMP
#   serve_start [ARGS...]          starts `lathe serve iris@production --port 0
#                                  --json ARGS` in $TMP; sets SERVE_PID, SERVE_URL
#   serve_metric FILE NAME_REGEX   sums the samples of /metrics text whose
#                                  name{labels} matches NAME_REGEX (Python re)
source "$LATHE_SOURCE_DIR/tests/common/stand-in.sh"
export LATHE_PLUGIN_PATH="$LATHE_TESTKIT_DIR:$LATHE_BUILD_DIR/plugins"

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
  (cd "$TMP" && exec "$LATHE_BIN" serve iris@production --port 0 --json "$@" >serve.out 2>serve.err) &
  SERVE_PID=$!
  local _
  for _ in $(seq 1 100); do
    [ -s "$TMP/serve.out" ] && break
    kill -0 "$SERVE_PID" 2>/dev/null || break
    sleep 0.1
  done
  SERVE_URL=$(json_get "$TMP/serve.out" "d['url']" 2>/dev/null)
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
