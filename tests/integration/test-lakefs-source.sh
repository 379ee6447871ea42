#!/usr/bin/env bash
# source/lakefs through the CLI, against the lakeFS test server behind Prism
# (tests/lakefs): a secret in a pipeline is a validation error; the node
# pins main to a commit and `runs show` prints each object's lakefs:// uri
# and checksum; an unmoved head costs one API call and no download; a moved
# head with the same objects is a cache hit; a changed object is a miss that
# downloads only it; 401 and 404 are one line; and the credentials never
# reach the store, the logs, --json or the errors.
source "$(dirname "$0")/lib.sh"
source "$LATHE_SOURCE_DIR/tests/lakefs/lakefs-env.sh"
export LATHE_PLUGIN_PATH="$LATHE_BUILD_DIR/plugins/source-lakefs"
export LATHE_CACHE_DIR="$TMP/cache"
# A secret of its own, so that the grep below finds only what leaked.
export LAKECTL_CREDENTIALS_ACCESS_KEY_ID="AKIALATHETESTKEY0001"
export LAKECTL_CREDENTIALS_SECRET_ACCESS_KEY="lathe-Secret-9f3c1e7a-do-not-leak"
SECRET="$LAKECTL_CREDENTIALS_SECRET_ACCESS_KEY"
trap 'lakefs_stop; rm -rf "$TMP"' EXIT
lakefs_start "$TMP/lakefs" || { fail "the lakeFS test server did not start"; finish; }

# ctl METHOD PATH [BODY]: the server's control port (counts, faults).
ctl() {
  $PY - "$@" <<'PY'
import json, os, sys, urllib.request
m, p = sys.argv[1], sys.argv[2]
body = sys.argv[3].encode() if len(sys.argv) > 3 else None
req = urllib.request.Request(os.environ["LAKEFS_CONTROL_URL"] + p, data=body, method=m)
print(urllib.request.urlopen(req, timeout=10).read().decode())
PY
}
counts() { ctl GET /counts; }
reset_counts() { ctl DELETE /counts >/dev/null; }
import() { # DIR MESSAGE
  lakefs_import --repository demo --create --message "$2" "$1" 2>"$TMP/import.err"
}
status_of() { json_get "$1" "[n['status'] for n in d['nodes'] if n['id'] == '$2'][0]"; }

mkdir -p "$TMP/v1/d" "$TMP/v2/other" "$TMP/v3/d"
printf 'x,y,label\n1,10,a\n2,20,b\n' >"$TMP/v1/d/a.csv"
printf 'x,y,label\n3,30,a\n' >"$TMP/v1/d/b.csv"
c1=$(import "$TMP/v1" first) && pass "imported the first commit" || fail "import: $(cat "$TMP/import.err")"

write_pipeline "$TMP/p.json" <<'JSON'
{"nodes": [{"id": "data", "use": "source/lakefs",
            "with": {"repository": "demo", "path": "d/", "label": "label"}}]}
JSON

# A secret in the pipeline: a validation error saying where secrets go.
write_pipeline "$TMP/bad.json" <<JSON
{"nodes": [{"id": "data", "use": "source/lakefs",
            "with": {"repository": "demo", "path": "d/", "secret_access_key": "$SECRET"}}]}
JSON
run_lathe "$TMP/v" validate "$TMP/bad.json"
expect_code "$TMP/v" 2 "validate: a secret in the pipeline"
expect_err "$TMP/v" "credentials never go in a pipeline: set LAKECTL_CREDENTIALS_ACCESS_KEY_ID" \
  "validate: the error says where credentials go"
run_lathe "$TMP/vj" validate --json "$TMP/bad.json"
expect_code "$TMP/vj" 2 "validate --json: a secret in the pipeline"
run_lathe "$TMP/vr" run --json "$TMP/bad.json"
expect_code "$TMP/vr" 2 "run: a secret in the pipeline is refused before running"
write_pipeline "$TMP/env.json" <<'JSON'
{"nodes": [{"id": "data", "use": "source/lakefs",
            "with": {"repository": "demo", "path": "d/",
                     "access_key_id": {"$env": "LAKECTL_CREDENTIALS_ACCESS_KEY_ID"}}}]}
JSON
run_lathe "$TMP/ve" validate "$TMP/env.json"
expect_code "$TMP/ve" 2 "validate: credentials from \$env in the pipeline are refused too"

# First run: main pinned to c1, one version per object.
reset_counts
run_lathe "$TMP/r1" run --json "$TMP/p.json"
expect_code "$TMP/r1" 0 "first run"
r1=$(json_get "$TMP/r1.out" "d['run_id']")
run_lathe "$TMP/s1" runs show --store "$TMP/.lathe" "$r1"
expect_code "$TMP/s1" 0 "runs show"
grep -qF "lakefs://demo/$c1/d/a.csv" "$TMP/s1.out" && grep -qF "lakefs://demo/$c1/d/b.csv" "$TMP/s1.out" \
  && pass "runs show prints lakefs://demo/COMMIT/PATH of each object" || fail "runs show: $(cat "$TMP/s1.out")"
md5b=$(md5sum "$TMP/v1/d/b.csv" | cut -d' ' -f1)
run_lathe "$TMP/s1j" runs show --json --store "$TMP/.lathe" "$r1"
expect_py "$TMP/s1j.out" "any(v['uri'] == 'lakefs://demo/$c1/d/b.csv' and '$md5b' in v['digest'] for n in d['nodes'] if n['id'] == 'data' for v in n['data_versions'])" \
  "runs show --json: each object's checksum"

# Head unmoved: one API call, no download, the node cached.
reset_counts
run_lathe "$TMP/r2" run --json "$TMP/p.json"
expect_code "$TMP/r2" 0 "rerun"
[ "$(status_of "$TMP/r2.out" data)" = cached ] && pass "head unmoved: cached" || fail "head unmoved: $(status_of "$TMP/r2.out" data)"
c=$(counts)
[ "$(json_get <(echo "$c") "sum(d.values())")" = 1 ] && pass "head unmoved: one API call ($c)" || fail "head unmoved: calls $c"
# What a hit loads: the HTTP layer, never libarchive (and its libxml2 and ICU,
# about 4 ms), which only archives need (lib-tabular/archive-loader.h); nor
# GIO's desktop proxy modules (http-client.c reads proxies from the
# environment). LeakSanitizer cannot run under ptrace: off for the trace.
if command -v strace >/dev/null; then
  ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0" \
    strace -f -e trace=open,openat -o "$TMP/hit.trace" "$LATHE_BIN" run --json "$TMP/p.json" >"$TMP/r2t.out" 2>/dev/null
  [ "$(status_of "$TMP/r2t.out" data)" = cached ] && pass "traced rerun: cached" || fail "traced rerun: not cached"
  grep -q "libsoup-3.0" "$TMP/hit.trace" && pass "the hit loaded the HTTP layer (the trace sees loads)" \
    || fail "the trace shows no libsoup: it cannot see loads"
  n=$(grep -v ENOENT "$TMP/hit.trace" | grep -c -e "libarchive" -e "gio/modules/lib")
  [ "$n" = 0 ] && pass "a cache hit loads neither libarchive nor GIO's proxy modules" \
    || fail "a cache hit opened: $(grep -v ENOENT "$TMP/hit.trace" | grep -e libarchive -e gio/modules/lib | head -3)"
else
  fail "strace is missing: scripts/deps.sh installs it"
fi

# main moves, nothing under d/ changes: a hit that records the new commit.
printf 'z\n1\n' >"$TMP/v2/other/z.csv"
c2=$(import "$TMP/v2" elsewhere)
reset_counts
run_lathe "$TMP/r3" run --json "$TMP/p.json"
[ "$(status_of "$TMP/r3.out" data)" = cached ] && pass "moved, same objects: cached" || fail "moved, same objects: $(status_of "$TMP/r3.out" data)"
c=$(counts)
[ "$(json_get <(echo "$c") "d.get('getObject', 0)")" = 0 ] && pass "moved, same objects: nothing downloaded ($c)" || fail "moved: $c"
r3=$(json_get "$TMP/r3.out" "d['run_id']")
run_lathe "$TMP/s3" runs show --store "$TMP/.lathe" "$r3"
grep -qF "lakefs://demo/$c2/d/a.csv" "$TMP/s3.out" && pass "moved, same objects: the new commit is recorded" \
  || fail "moved: runs show $(cat "$TMP/s3.out")"

# One object changes: a miss that downloads only it.
printf 'x,y,label\n300,3000,b\n' >"$TMP/v3/d/b.csv"
c3=$(import "$TMP/v3" "change b")
reset_counts
run_lathe "$TMP/r4" run --json "$TMP/p.json"
[ "$(status_of "$TMP/r4.out" data)" = succeeded ] && pass "changed object: ran" || fail "changed: $(status_of "$TMP/r4.out" data)"
c=$(counts)
[ "$(json_get <(echo "$c") "d.get('getObject', 0)")" = 1 ] && pass "changed object: only it downloaded ($c)" || fail "changed: $c"

# A second pipeline reading the same objects downloads nothing.
mkdir -p "$TMP/other"
write_pipeline "$TMP/other/p.json" <<'JSON'
{"nodes": [{"id": "again", "use": "source/lakefs",
            "with": {"repository": "demo", "path": "d/", "label": "label", "group": "none"}}]}
JSON
reset_counts
run_lathe "$TMP/r5" run --json "$TMP/other/p.json"
expect_code "$TMP/r5" 0 "another pipeline on the same objects"
c=$(counts)
[ "$(json_get <(echo "$c") "d.get('getObject', 0)")" = 0 ] && pass "another pipeline: nothing downloaded ($c)" || fail "another pipeline: $c"

# Two processes fill one empty object cache at once: both succeed, and the
# cache holds each object once, whole, with no temporary file left.
export LATHE_CACHE_DIR="$TMP/cache2"
ctl POST /faults '{"kind": "delay", "seconds": 1, "count": 2, "match": "getObject"}' >/dev/null
"$LATHE_BIN" run --json --no-cache --store "$TMP/s-a" "$TMP/p.json" >"$TMP/pa.out" 2>"$TMP/pa.err" &
pa=$!
"$LATHE_BIN" run --json --no-cache --store "$TMP/s-b" "$TMP/p.json" >"$TMP/pb.out" 2>"$TMP/pb.err" &
pb=$!
wait $pa; ca=$?
wait $pb; cb=$?
ctl DELETE /faults >/dev/null
[ $ca = 0 ] && [ $cb = 0 ] && pass "two processes on one object cache: both succeed" \
  || fail "two processes: exits $ca $cb: $(cat "$TMP/pa.err" "$TMP/pb.err")"
want=$(cd "$TMP/v1/d" && md5sum a.csv | cut -d' ' -f1; cd "$TMP/v3/d" && md5sum b.csv | cut -d' ' -f1)
got=$(ls "$TMP/cache2/lakefs-objects" | sort | tr '\n' ' ')
[ "$got" = "$(echo "$want" | sort | tr '\n' ' ')" ] && pass "two processes: each object cached once, no temporary file" \
  || fail "two processes: cache holds $got, expected $want"
for h in $(echo "$want"); do
  [ "$(md5sum "$TMP/cache2/lakefs-objects/$h" | cut -d' ' -f1)" = "$h" ] || fail "cached $h is not whole"
done
export LATHE_CACHE_DIR="$TMP/cache"

# 404 for the ref: one line with a did-you-mean over the branches.
run_lathe "$TMP/e1" run --set data.ref=mian "$TMP/p.json"
expect_code "$TMP/e1" 1 "unknown ref: the run fails"
grep -qF "ref 'mian' not found in lakeFS repository 'demo'" "$TMP/e1.out" "$TMP/e1.err" \
  && grep -qF "did you mean 'main'?" "$TMP/e1.out" "$TMP/e1.err" && pass "unknown ref: did you mean 'main'" \
  || fail "unknown ref: $(cat "$TMP/e1.out" "$TMP/e1.err")"

# 401: one line naming the endpoint and the variables to set.
LAKECTL_CREDENTIALS_SECRET_ACCESS_KEY="wrong-Secret-77aa" run_lathe "$TMP/e2" run --json --no-cache "$TMP/p.json"
expect_code "$TMP/e2" 1 "wrong credentials: the run fails"
expect_py "$TMP/e2.out" "[n for n in d['nodes'] if n['id'] == 'data'][0]['status'] == 'failed'" "wrong credentials: the node failed"
grep -hqF "401" "$TMP/e2.out" "$TMP/e2.err" && grep -hqF "LAKECTL_CREDENTIALS_ACCESS_KEY_ID" "$TMP/e2.out" "$TMP/e2.err" \
  && grep -hqF "${LAKEFS_ENDPOINT}" "$TMP/e2.out" "$TMP/e2.err" && pass "401: names the endpoint and the variables" \
  || fail "401: $(cat "$TMP/e2.out" "$TMP/e2.err")"

# lakectl's file: with no LAKECTL_* variable, ~/.lakectl.yaml gives the
# endpoint (here without /api/v1, as lakectl accepts it) and the credentials.
mkdir -p "$TMP/home"
cat >"$TMP/home/.lakectl.yaml" <<YAML
# as lakectl config writes it
credentials:
  access_key_id: $LAKECTL_CREDENTIALS_ACCESS_KEY_ID
  secret_access_key: "$LAKECTL_CREDENTIALS_SECRET_ACCESS_KEY"
server:
  endpoint_url: ${LAKEFS_ENDPOINT%/api/v1}
YAML
env -u LAKECTL_SERVER_ENDPOINT_URL -u LAKECTL_CREDENTIALS_ACCESS_KEY_ID -u LAKECTL_CREDENTIALS_SECRET_ACCESS_KEY \
  HOME="$TMP/home" "$LATHE_BIN" run --json --no-cache "$TMP/p.json" >"$TMP/y1.out" 2>"$TMP/y1.err"
[ $? = 0 ] && pass "~/.lakectl.yaml: endpoint without /api/v1 and credentials from the file" \
  || fail "~/.lakectl.yaml: $(cat "$TMP/y1.err")"
sed -i 's/^  secret_access_key: .*/  secret_access_key: "wrong-Secret-77aa"/' "$TMP/home/.lakectl.yaml"
env -u LAKECTL_SERVER_ENDPOINT_URL -u LAKECTL_CREDENTIALS_ACCESS_KEY_ID -u LAKECTL_CREDENTIALS_SECRET_ACCESS_KEY \
  HOME="$TMP/home" "$LATHE_BIN" run --no-cache "$TMP/p.json" >"$TMP/y2.out" 2>"$TMP/y2.err"
[ $? = 1 ] && grep -hqF ".lakectl.yaml" "$TMP/y2.out" "$TMP/y2.err" \
  && pass "~/.lakectl.yaml with a wrong secret: the 401 names the file the credentials came from" \
  || fail "~/.lakectl.yaml, wrong secret: $(cat "$TMP/y2.out" "$TMP/y2.err")"

# The secret grep: the store (the database dumped, and every file), every
# output, log and error of this test.
for r in $r1 $r3; do run_lathe "$TMP/show-$r" runs show --json --store "$TMP/.lathe" "$r"; done
run_lathe "$TMP/list" runs list --json --store "$TMP/.lathe"
sqlite3 "$TMP/.lathe/lathe.db" .dump >"$TMP/dump.sql" 2>/dev/null || fail "sqlite3 dump"
# (bad.json is the pipeline that wrote one: an input, not an output)
hits=$(grep -rlaF -e "$SECRET" -e "wrong-Secret-77aa" "$TMP" 2>/dev/null | grep -v -e "^$TMP/lakefs/" -e "^$TMP/bad.json$" -e "^$TMP/home/.lakectl.yaml$" || true)
[ -z "$hits" ] && pass "the secrets appear nowhere in the store, outputs, logs or errors" || fail "secret found in: $hits"
[ -s "$TMP/dump.sql" ] && pass "the store was dumped for the grep" || fail "empty store dump"

finish
