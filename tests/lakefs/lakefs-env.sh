# Sourced by the lakeFS tests, the examples and by hand (tests/lakefs/README.md):
# starts the lakeFS test server, and Prism in front of it, on free loopback ports.
#   lakefs_start RUNDIR   starts both; exports
#     LAKEFS_ENDPOINT        what a client uses: http://127.0.0.1:P/api/v1, a front
#                            (lakefs_front.py) that sends every JSON endpoint through
#                            Prism and object bytes (getObject, headObject,
#                            uploadObject) straight to the server, since Prism alters
#                            binary bodies and streams nothing; the server's own URL
#                            when the Prism layer is skipped
#     LAKEFS_PRISM_URL       Prism itself (.../api/v1), every endpoint validated;
#                            object bodies must be text (empty when skipped)
#     LAKEFS_API_URL         the server itself, bypassing Prism
#     LAKEFS_CONTROL_URL     the server's fault/count control port (not the API)
#     LAKEFS_PRISM           1 when Prism validates the traffic, 0 when skipped
#     LAKECTL_SERVER_ENDPOINT_URL, LAKECTL_CREDENTIALS_ACCESS_KEY_ID/_SECRET_ACCESS_KEY
#   lakefs_stop           stops what lakefs_start started (by pid)
#   lakefs_import ARGS... the importer (lakefs_server.py import) into $LAKEFS_ENDPOINT;
#                         prints the commit id
# LATHE_PRISM=required makes a missing Prism an error instead of a skip
# (scripts/test.sh sets it once it has installed Prism).
# Prism matches request paths against the spec's paths and ignores the servers
# entry's /api/v1, so it is given a copy of swagger.yml whose 91 path keys carry
# the /api/v1 prefix (nothing else differs; lakefs_start checks that) and the
# server's root as upstream: a client then uses .../api/v1, as with a real lakeFS.

LAKEFS_HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
LAKEFS_SPEC="${LAKEFS_SPEC:-$LAKEFS_HERE/../../../shared/specs/lakefs/swagger.yml}"
LAKEFS_SERVER_PID=""
LAKEFS_PRISM_PID=""
LAKEFS_FRONT_PID=""

source "$LAKEFS_HERE/../common/stand-in.sh"

lakefs_start() {
  local run="$1" i
  mkdir -p "$run"
  export LAKECTL_CREDENTIALS_ACCESS_KEY_ID="${LAKECTL_CREDENTIALS_ACCESS_KEY_ID:-AKIAIOSFODNN7EXAMPLE}"
  export LAKECTL_CREDENTIALS_SECRET_ACCESS_KEY="${LAKECTL_CREDENTIALS_SECRET_ACCESS_KEY:-wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY}"
  rm -f "$run/server.json"
  /usr/bin/python3 "$LAKEFS_HERE/lakefs_server.py" serve --port 0 --control-port 0 \
    --data "$run/data" --ready-file "$run/server.json" 2>"$run/server.log" &
  LAKEFS_SERVER_PID=$!
  standin_wait_file "$LAKEFS_SERVER_PID" "$run/server.json" "$run/server.log" \
    "lakefs_start: the test server" || return 1
  local port cport
  port=$(standin_json "$run/server.json" port)
  cport=$(standin_json "$run/server.json" control_port)
  export LAKEFS_API_URL="http://127.0.0.1:$port/api/v1"
  export LAKEFS_CONTROL_URL="http://127.0.0.1:$cport"
  export LAKEFS_ENDPOINT="$LAKEFS_API_URL" LAKEFS_PRISM=0 LAKEFS_PRISM_URL=""

  local pdir
  if ! pdir=$("$LAKEFS_HERE/prism-setup.sh" --quiet); then
    if [ "${LATHE_PRISM:-}" = "required" ]; then
      echo "lakefs_start: Prism is required (LATHE_PRISM=required) but cannot run" >&2
      return 1
    fi
    echo "lakefs_start: SKIPPING the Prism layer (above): requests go to the test server unvalidated" >&2
  else
    [ -f "$LAKEFS_SPEC" ] || { echo "lakefs_start: no spec at $LAKEFS_SPEC" >&2; return 1; }
    sed 's#^  /#  /api/v1/#' "$LAKEFS_SPEC" > "$run/swagger-api-v1.yml"
    local changed
    changed=$(diff "$LAKEFS_SPEC" "$run/swagger-api-v1.yml" | grep -c '^>' || true)
    if [ "$changed" != "$(grep -c '^  /' "$LAKEFS_SPEC")" ] || \
       diff "$LAKEFS_SPEC" "$run/swagger-api-v1.yml" | grep '^>' | grep -qv '^>   /api/v1/'; then
      echo "lakefs_start: the /api/v1 copy of the spec differs in more than its path keys" >&2
      return 1
    fi
    local pport
    pport=$(standin_free_port)
    "$pdir/node_modules/.bin/prism" proxy --errors "$run/swagger-api-v1.yml" \
      "http://127.0.0.1:$port" --host 127.0.0.1 --port "$pport" >"$run/prism.log" 2>&1 &
    LAKEFS_PRISM_PID=$!
    for i in $(seq 1 300); do
      grep -q "Prism is listening" "$run/prism.log" 2>/dev/null && break
      kill -0 "$LAKEFS_PRISM_PID" 2>/dev/null || { tail -20 "$run/prism.log" >&2; return 1; }
      sleep 0.1
    done
    grep -q "Prism is listening" "$run/prism.log" || { echo "lakefs_start: Prism did not start in 30 s" >&2; return 1; }
    export LAKEFS_PRISM_URL="http://127.0.0.1:$pport/api/v1" LAKEFS_PRISM=1
    rm -f "$run/front.json"
    /usr/bin/python3 "$LAKEFS_HERE/lakefs_front.py" --prism "http://127.0.0.1:$pport" \
      --server "http://127.0.0.1:$port" --ready-file "$run/front.json" 2>"$run/front.log" &
    LAKEFS_FRONT_PID=$!
    standin_wait_file "$LAKEFS_FRONT_PID" "$run/front.json" "$run/front.log" \
      "lakefs_start: the front" || return 1
    local fport
    fport=$(standin_json "$run/front.json" port)
    export LAKEFS_ENDPOINT="http://127.0.0.1:$fport/api/v1"
  fi
  export LAKECTL_SERVER_ENDPOINT_URL="$LAKEFS_ENDPOINT"
}

lakefs_stop() {
  # shellcheck disable=SC2086  # empty ones drop out
  standin_stop $LAKEFS_FRONT_PID $LAKEFS_PRISM_PID $LAKEFS_SERVER_PID
  LAKEFS_FRONT_PID="" LAKEFS_PRISM_PID="" LAKEFS_SERVER_PID=""
}

lakefs_import() {
  /usr/bin/python3 "$LAKEFS_HERE/lakefs_server.py" import --endpoint "$LAKEFS_ENDPOINT" "$@"
}

# lakefs_start_or_exit RUNDIR PREFIX: lakefs_start, or PREFIX and the logs, exit 1
lakefs_start_or_exit() {
  lakefs_start "$1" && return 0
  echo "$2 the lakeFS test server or Prism did not start" >&2
  tail -20 "$1/server.log" "$1/prism.log" 2>/dev/null >&2 || true
  exit 1
}
