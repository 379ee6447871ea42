#!/bin/bash
# What reaches a terminal: names, ids and messages from pipelines, the store,
# plugins and argv have their control characters escaped, so a run named
# "x\n<fake row>" cannot forge a line of `lathe runs list` nor an escape
# sequence recolour the terminal. --json stays valid JSON with the text as is.
source "$(dirname "$0")/lib.sh"
export LATHE_PLUGIN_PATH="$LATHE_TESTKIT_DIR"
cd "$TMP"
ESC=$'\x1b'
write_pipeline evil.json <<'P'
{"lathe": 1, "name": "evil",
 "nodes": [
   {"id": "ok", "use": "transform/noop"},
   {"id": "bad", "use": "transform/fail", "with": {"message": "line one\nforged line\u001b[2J\u009b"}}
 ]}
P
run_lathe run run evil.json --set bad.log=true
expect_code run 1 "the run with a failing node"
no_control() { # prefix what: no ESC, no C1 CSI, no CR in stdout and stderr
  if grep -qaP '\x1b|\r|\xc2\x9b' "$1.out" "$1.err"; then fail "$2: control characters: $(cat -A "$1.out" "$1.err" | head -c 600)"
  else pass "$2: no control characters"; fi
}
no_control run "lathe run's summary and the plugin's log line"
grep -qF 'warning: [bad] line one\nforged line\x1b[2J\u009b' run.err && pass "the log line is escaped" ||
  fail "log line: $(cat -A run.err)"
# The summary shows an error's first line on the node's row; the rest (the
# forged line here) is for `lathe runs show`, escaped there.
[ "$(grep -c 'forged line' run.out)" = 0 ] && grep -qE '^bad +failed .* line one \(more: lathe runs show\)$' run.out &&
  pass "the node's error: its first line on its row, the rest left to runs show" || fail "the error: $(cat -A run.out)"

# The validator refuses control characters in a pipeline's name; a store
# written before it did can still hold one, and so can a name set by hand.
/usr/bin/python3 - .lathe/lathe.db <<'PY'
import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
db.execute("UPDATE runs SET name = ?", ("evil\nfeedf00d   forged               succeeded\x1b[31m",))
db.commit()
PY
run_lathe list runs list
no_control list "runs list"
[ "$(wc -l <list.out)" = 2 ] && pass "runs list: a header and one row" || fail "runs list: $(cat -A list.out)"
grep -qF 'evil\nfeedf00d' list.out && pass "the name is shown escaped" || fail "name: $(cat -A list.out)"
run_lathe listj runs list --json
expect_py listj.out "d[0]['name'] == 'evil\nfeedf00d   forged               succeeded\x1b[31m'" \
  "runs list --json keeps the name exactly"
RUN=$(json_get listj.out "d[0]['run_id']")
run_lathe show runs show "$RUN"
no_control show "runs show"
grep -c '^' show.out >/dev/null
grep -q '^forged line' show.out && fail "runs show: the error forged a line" || pass "runs show: no forged line"
run_lathe showj runs show --json "$RUN"
expect_py showj.out "[n for n in d['nodes'] if n['id'] == 'bad'][0]['error'].startswith('line one\nforged')" \
  "runs show --json keeps the error exactly"
# Errors that quote argv.
run_lathe bad1 runs show "x${ESC}[31m"
no_control bad1 "runs show's error"
run_lathe bad2 plugins inspect "nope${ESC}[31m"
no_control bad2 "plugins inspect's error"
run_lathe bad3 validate "missing${ESC}]0;title$(printf '\a').json"
no_control bad3 "validate's error"
grep -qaP '\x07' bad3.err && fail "validate's error has a BEL" || pass "validate's error: no BEL"
run_lathe bad4 models alias "m${ESC}[1m" prod 1
no_control bad4 "models alias's error"
finish
