#!/bin/bash
# Secret params (ABI 1.5): testkit's transform/secret takes a secret "token".
# Its value must never reach the run store (SQLite, WAL, artifacts), the
# tracker, stdout, stderr, --json or `lathe runs show`; only a keyed
# fingerprint decides the cache, so a new secret re-runs the node and the
# same one is a hit.
source "$(dirname "$0")/lib.sh"
export LATHE_PLUGIN_PATH="$LATHE_TESTKIT_DIR"
cd "$TMP"
write_pipeline p.json <<'P'
{"lathe": 1, "name": "secrets", "seed": 1,
 "nodes": [
   {"id": "a", "use": "transform/secret", "with": {"token": {"$env": "LATHE_TEST_TOKEN"}}},
   {"id": "b", "use": "transform/noop", "in": {"data": "a"}}
 ]}
P
S1='s3cr3t-Alpha-7731'
S2='s3cr3t-Bravo-0412'
S3='literal-Charlie-55'
node_status() { json_get "$1.out" "[n['status'] for n in d['nodes'] if n['id'] == '$2'][0]"; }

LATHE_TEST_TOKEN=$S1 run_lathe r1 run --json p.json
expect_code r1 0 "a secret from \$env"
expect_py r1.out "d['metrics']['a.token_length'] == ${#S1}" "the plugin got the value"
LATHE_TEST_TOKEN=$S1 run_lathe r2 run --json p.json
[ "$(node_status r2 a)" = cached ] && pass "same secret: cached" || fail "same secret: $(node_status r2 a)"
LATHE_TEST_TOKEN=$S2 run_lathe r3 run --json p.json
[ "$(node_status r3 a)" = succeeded ] && pass "another secret re-runs the node" ||
  fail "another secret: $(node_status r3 a)"
expect_py r3.out "d['metrics']['a.token_length'] == ${#S2}" "and the node read the new one"
LATHE_TEST_TOKEN=$S2 run_lathe r4 run --json p.json
[ "$(node_status r4 a)" = cached ] && pass "the new secret is cached in turn" || fail "new secret: $(node_status r4 a)"
# The plugin logs it and fails quoting it: the host blanks both.
LATHE_TEST_TOKEN=$S1 run_lathe r5 run p.json --set a.log=true --set a.fail=true
expect_code r5 1 "a node failing on its secret"
grep -qF "token '(secret)' was refused" r5.out && pass "its error says (secret)" || fail "error: $(cat r5.out)"
expect_err r5 "connecting with token (secret)" "its log line says (secret)"
# Written in the file or by --set, and a human-readable show.
LATHE_TEST_TOKEN=x run_lathe r6 run --json p.json --set "a.token=$S3"
expect_code r6 0 "a secret given with --set"
RUN=$(json_get r6.out "d['run_id']")
run_lathe show runs show "$RUN"
grep -qF 'token="(secret)"' show.out && pass "runs show prints (secret)" || fail "runs show: $(cat show.out)"
run_lathe showj runs show --json "$RUN"
expect_py showj.out "[n for n in d['nodes'] if n['id'] == 'a'][0]['params']['token'] == '(secret)'" \
  "runs show --json has (secret)"
run_lathe list runs list --json
run_lathe unset run p.json
expect_code unset 2 "an unset variable"
expect_err unset "environment variable LATHE_TEST_TOKEN is not set" "names the variable"
run_lathe insp plugins inspect --json transform/secret
expect_py insp.out "[p for p in d['params'] if p['name'] == 'token'][0]['secret']" "inspect marks it secret"

# In a preset (the whole "presets" block is kept with the run).
write_pipeline pre.json <<'P'
{"lathe": 1, "nodes": [{"id": "a", "use": "transform/secret", "with": {"token": "placeholder"}}],
 "presets": {"dev": {"a": {"token": "preset-Delta-8080"}}, "prod": {"a": {"token": "preset-Echo-4242"}}}}
P
run_lathe pre run --json --preset dev pre.json
expect_code pre 0 "a secret in a preset"
expect_py pre.out "d['metrics']['a.token_length'] == 17" "the node got the preset's value"

# A tuner may not search a secret: trial points are stored and shown.
write_pipeline tune.json <<'P'
{"lathe": 1, "nodes": [
  {"id": "t", "use": "tuner/grid", "with": {"objective": "a.token_length", "space": {"a.token": ["x1", "y2"]}},
   "trial": {"nodes": [{"id": "a", "use": "transform/secret", "with": {"token": "z"}}], "output": "a"}}]}
P
run_lathe tune validate tune.json
expect_code tune 2 "a search over a secret"
expect_err tune "a.token is a secret param; it cannot be searched" "is refused by name"

# A file that is not a pipeline: the parse error gives line:column only.
printf 'aws_secret_access_key = AKIAQUOTEDNEVER\n' >creds
run_lathe creds validate creds
expect_code creds 2 "a credentials file as the pipeline"
expect_err creds "creds:1:21: Parse error" "gives line:column"
grep -qF AKIAQUOTEDNEVER creds.err creds.out && fail "quotes the file: $(cat creds.err)" ||
  pass "does not quote the file"
grep -qF aws_secret creds.err && fail "quotes the key: $(cat creds.err)" || pass "nor its first word"

mode=$(stat -c %a .lathe/secret.key 2>/dev/null)
[ "$mode" = 600 ] && pass "secret.key is 0600" || fail "secret.key mode '$mode'"
# Everything written or printed: raw files (WAL included), SQL dumps, outputs.
for db in .lathe/lathe.db .lathe/tracking.db; do
  [ -f "$db" ] && sqlite3 "$db" .dump >"$(basename "$db").dump" 2>/dev/null
done
[ -s lathe.db.dump ] && pass "the store dumps" || fail "no SQL dump of the store"
[ -s tracking.db.dump ] && pass "the tracker dumps" || fail "no SQL dump of the tracker"
grep -qF "'\"(secret)\"'" lathe.db.dump && pass "the store's params hold (secret)" || fail "no (secret) param row"
grep -q 'secret' tracking.db.dump && pass "the tracker has the param" || fail "the tracker lacks the param"
for s in "$S1" "$S2" "$S3" preset-Delta-8080 preset-Echo-4242 placeholder; do
  hits=$(grep -rlaF -- "$s" .lathe ./*.dump ./*.out ./*.err 2>/dev/null)
  [ -z "$hits" ] && pass "'${s:0:12}...' is nowhere" || fail "'$s' found in: $hits"
done
finish
