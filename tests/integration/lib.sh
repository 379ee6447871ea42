# Helpers for Lathe's integration tests (bash). Each test sources this file.
# Environment (set by meson): LATHE_BIN, LATHE_TESTKIT_DIR, LATHE_ABI_DIR,
# LATHE_SOURCE_DIR.
set -uo pipefail

PY=/usr/bin/python3
TMP=$(mktemp -d "${TMPDIR:-/tmp}/lathe-it-XXXXXX")
trap '[ -n "${KEEP_TMP:-}" ] || rm -rf "$TMP"' EXIT
FAILS=0
CHECKS=0

pass() { CHECKS=$((CHECKS + 1)); echo "ok - $*"; }
fail() { CHECKS=$((CHECKS + 1)); FAILS=$((FAILS + 1)); echo "FAIL - $*"; }

# run_lathe OUT_PREFIX ARGS...: runs lathe, keeps stdout/stderr/exit code.
run_lathe() {
  local out="$1"; shift
  "$LATHE_BIN" "$@" >"$out.out" 2>"$out.err"
  echo $? >"$out.code"
}

expect_code() { # prefix code what
  local got; got=$(cat "$1.code")
  if [ "$got" = "$2" ]; then pass "$3: exit $2"; else fail "$3: exit $got, expected $2; stderr: $(head -c 600 "$1.err")"; fi
}

expect_err() { # prefix fixed-string what
  if grep -qF -- "$2" "$1.err"; then pass "$3"; else fail "$3: stderr lacks '$2'; got: $(head -c 800 "$1.err")"; fi
}

# jq-like: json_get FILE PYTHON_EXPR (the document is `d`)
json_get() { $PY -c "import json,sys; d=json.load(open(sys.argv[1])); print($2)" "$1"; }

expect_py() { # file expr what : expr must be truthy
  local v
  if v=$(json_get "$1" "$2" 2>&1) && [ "$v" = "True" ]; then pass "$3"; else fail "$3: $2 -> $v"; fi
}

# Reports a store holds (schema 4 keeps a training loop's reports as chunks
# of points, report_chunks.n each), and those its journal names for a
# tracker key. stored_reports DB METRIC [NODE]; journaled_reports DB KEY
# Both read the store only once lathe has made it: the sqlite3 shell would
# create an empty lathe.db, which lathe then refuses (a race when a test
# polls a run that is still starting).
stored_reports() {
  [ -s "$1" ] || { echo 0; return; }
  sqlite3 -readonly "$1" "SELECT coalesce(sum(c.n), 0) FROM report_chunks c LEFT JOIN executions e ON e.id = c.execution_id WHERE c.name = '$2' AND ('${3:-}' = '' OR e.node = '${3:-}')" 2>/dev/null || echo 0
}
journaled_reports() {
  [ -s "$1" ] || { echo 0; return; }
  sqlite3 -readonly "$1" "SELECT coalesce(sum(c.n), 0) FROM tracker_journal j, json_each(j.payload, '\$.report_chunks') r JOIN report_chunks c ON c.id = json_extract(r.value, '\$.chunk') WHERE j.kind = 'metrics' AND json_extract(r.value, '\$.key') = '$2'" 2>/dev/null || echo 0
}

# registry_mlflow IN OUT: pipeline IN with its registry/local nodes and
# registry setting on registry/mlflow instead.
registry_mlflow() {
  $PY - "$1" "$2" <<'PYEOF'
import json, sys
d = json.load(open(sys.argv[1]))
for n in d['nodes']:
    if n['use'] == 'registry/local':
        n['use'] = 'registry/mlflow'
d['registry'] = {'use': 'registry/mlflow'}
json.dump(d, open(sys.argv[2], 'w'), indent=1)
PYEOF
}

finish() {
  echo "$((CHECKS - FAILS)) passed, $FAILS failed"
  [ $FAILS -eq 0 ]
  exit $?
}

# write_pipeline FILE: the JSON from stdin.
write_pipeline() { cat >"$1"; }

# copy_iris_ab: examples/iris and examples/iris-ab (which reads ../iris) into
# $TMP, without any run store they may carry.
copy_iris_ab() {
  cp -r "$LATHE_SOURCE_DIR/examples/iris" "$TMP/iris"
  cp -r "$LATHE_SOURCE_DIR/examples/iris-ab" "$TMP/iris-ab"
  rm -rf "$TMP/iris/.lathe" "$TMP/iris-ab/.lathe"
}

# production [MODELS ARGS...]: the version of model iris that `lathe models
# list` says holds the production alias, or none.
production() {
  run_lathe "$TMP/list" models list --json "$@"
  json_get "$TMP/list.out" "([m['version'] for m in d if m['name'] == 'iris' and 'production' in m['aliases']] or ['none'])[0]"
}

# recorded_elsewhere STORE RUN JSON: a copy of STORE at $TMP/other in which
# RUN's recorded environment has the members of JSON (an object) changed, as
# if RUN had been recorded on another machine.
recorded_elsewhere() {
  cp -r "$1" "$TMP/other"
  $PY - "$TMP/other/lathe.db" "$2" "$3" <<'PYEOF'
import json, sqlite3, sys
db = sqlite3.connect(sys.argv[1])
env = json.loads(db.execute("SELECT environment FROM run_environment WHERE run_id = ?", (sys.argv[2],)).fetchone()[0])
env.update(json.loads(sys.argv[3]))
db.execute("UPDATE run_environment SET environment = ? WHERE run_id = ?", (json.dumps(env), sys.argv[2]))
db.commit()
PYEOF
}

# ideko_or_skip: sets IDEKO to ../shared/data/ideko, or skips the test (exit
# 77) where the recordings are absent (they are never copied into the repo).
ideko_or_skip() {
  IDEKO="${LATHE_SHARED_DATA:-}/ideko"
  if [ -z "${LATHE_SHARED_DATA:-}" ] || [ ! -d "$IDEKO" ]; then
    echo "skip - IDEKO recordings not found at '$IDEKO' (set LATHE_SHARED_DATA to the folder holding ideko/)"
    exit 77
  fi
}

# ideko_reduced OUT: examples/ideko on $IDEKO, 10 recordings a class, 12
# epochs, 30% held out: the example's shape in seconds.
ideko_reduced() {
  $PY - "$LATHE_SOURCE_DIR/examples/ideko/pipeline.json" "$IDEKO" >"$1" <<'PYEOF'
import json, sys
p = json.load(open(sys.argv[1]))
for n in p["nodes"]:
    if n["use"] == "source/recordings":
        n["with"].update(path=sys.argv[2], max_per_class=10)
    if n["use"].startswith("model/"):
        n["with"].update(epochs=12)
    if n["use"] == "transform/split":
        n["with"]["test_fraction"] = 0.3
print(json.dumps(p))
PYEOF
}

# Under the sanitizers, a task's own SIGSEGV must kill it as SIGSEGV (what
# executor/process reports), not be caught by AddressSanitizer and turned
# into a report and an abort (abort_on_error): the children inherit this.
# Options given later in ASAN_OPTIONS win, so the CI's own stay.
asan_plain_segv() {
  if [ "${LATHE_SANITIZED:-false}" = true ]; then
    export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}handle_segv=0"
  fi
}
