#!/usr/bin/env bash
# ABI 1.6, data pinned to commits, with the test plugins source/fake-ref and
# sink/fake-file (tests/plugins/common/fakelake): a source's resolve decides
# the cache by content, a rerun records the commit read now, a sink runs on
# every run, a resolve error fails its node, and a source built against 1.5
# still loads and runs.
source "$(dirname "$0")/lib.sh"

export LATHE_PLUGIN_PATH="$LATHE_FAKELAKE_DIR"
export LATHE_FAKELAKE_LOG="$TMP/calls.log"
LAKE="$TMP/lake"
mkdir -p "$LAKE/commits/c1" "$LAKE/commits/c2" "$LAKE/commits/c3"
printf '1\n2\n3\n' >"$LAKE/commits/c1/data.csv"
cp "$LAKE/commits/c1/data.csv" "$LAKE/commits/c2/" # same content, another commit
printf '4\n5\n' >"$LAKE/commits/c3/data.csv"
echo c1 >"$LAKE/main"
write_pipeline "$TMP/p.json" <<JSON
{"nodes": [{"id": "src", "use": "source/fake-ref", "with": {"root": "$LAKE"}},
  {"id": "out", "use": "sink/fake-file", "in": {"data": "src"}, "with": {"dir": "$TMP/sunk"}}]}
JSON

# calls PREFIX: the log lines of one run, then the log is emptied.
calls() { cat "$TMP/calls.log" 2>/dev/null | tr '\n' ';'; : >"$TMP/calls.log"; }
status_of() { json_get "$1" "[n['status'] for n in d['nodes'] if n['id'] == '$2'][0]"; }
run_id() { json_get "$1.out" "d['run_id']"; }

# The kinds as `lathe plugins` shows them.
run_lathe "$TMP/pl" plugins --json
expect_py "$TMP/pl.out" "[c['kind'] for c in d['components'] if c['id'] == 'sink/fake-file'] == ['sink'] and d['refused'] == []" \
  "plugins --json lists the sink, nothing refused"
run_lathe "$TMP/pi" plugins inspect sink/fake-file
expect_code "$TMP/pi" 0 "inspect sink"
grep -qE "^  data +any" "$TMP/pi.out" && pass "a sink's ports are shown" || fail "inspect sink: $(cat "$TMP/pi.out")"

run_lathe "$TMP/r1" run --json "$TMP/p.json"
expect_code "$TMP/r1" 0 "first run"
[ "$(calls)" = "resolve src;run src c1;sink out;" ] && pass "first run: resolve, run, sink" \
  || fail "first run calls: $(cat "$TMP/calls.log")"
cmp -s "$TMP/sunk/out.bin" /dev/null && fail "sink wrote nothing" || pass "the sink wrote its input"

run_lathe "$TMP/r2" run --json "$TMP/p.json"
c=$(calls)
[ "$c" = "resolve src;sink out;" ] && pass "rerun: one resolve, no run, the sink again" || fail "rerun calls: $c"
[ "$(status_of "$TMP/r2.out" src)" = cached ] && pass "rerun: source cached" || fail "rerun: source $(status_of "$TMP/r2.out" src)"
[ "$(status_of "$TMP/r2.out" out)" = succeeded ] && pass "rerun: the sink ran, never cached" \
  || fail "rerun: sink $(status_of "$TMP/r2.out" out)"

# The branch moved to a commit with the same content: a hit that records the new commit.
echo c2 >"$LAKE/main"
run_lathe "$TMP/r3" run --json "$TMP/p.json"
c=$(calls)
[ "$c" = "resolve src;sink out;" ] && pass "moved, same content: no run" || fail "moved, same content: $c"
[ "$(status_of "$TMP/r3.out" src)" = cached ] && pass "moved, same content: cached" || fail "moved, same content: $(status_of "$TMP/r3.out" src)"
r3=$(run_id "$TMP/r3")
run_lathe "$TMP/s3" runs show --json --store "$TMP/.lathe" "$r3"
expect_code "$TMP/s3" 0 "runs show --json"
expect_py "$TMP/s3.out" "[v['uri'] for n in d['nodes'] if n['id'] == 'src' for v in n['data_versions']] == ['fakeref://c2/data.csv']" \
  "the cached rerun records the new commit, not the cached one"
expect_py "$TMP/s3.out" "[v['uri'] for n in d['nodes'] if n['id'] == 'out' for v in n['data_versions']] == ['fakefile://$TMP/sunk/out.bin']" \
  "the sink's written file is recorded"
run_lathe "$TMP/t3" runs show --store "$TMP/.lathe" "$r3"
grep -q "read fakeref://c2/data.csv checksum:" "$TMP/t3.out" && pass "runs show prints the commit's uri and its checksum (not labelled sha256)" \
  || fail "runs show: $(cat "$TMP/t3.out")"
grep -q "wrote fakefile://" "$TMP/t3.out" && pass "runs show says what the sink wrote" \
  || fail "runs show, the sink: $(cat "$TMP/t3.out")"

# Moved to other content: a miss, and run reads the new commit.
echo c3 >"$LAKE/main"
run_lathe "$TMP/r4" run --json "$TMP/p.json"
c=$(calls)
[ "$c" = "resolve src;run src c3;sink out;" ] && pass "changed content: run reads the new commit" || fail "changed content: $c"
[ "$(status_of "$TMP/r4.out" src)" = succeeded ] && pass "changed content: not cached" || fail "changed content: $(status_of "$TMP/r4.out" src)"

# --no-cache: resolve, then run on the same context.
run_lathe "$TMP/r5" run --json --no-cache "$TMP/p.json"
c=$(calls)
[ "$c" = "resolve src;run src c3;sink out;" ] && pass "--no-cache: resolve then run" || fail "--no-cache: $c"

# A resolve error fails the node with one line and skips the sink.
echo nosuch >"$LAKE/main"
run_lathe "$TMP/r6" run --json "$TMP/p.json"
expect_code "$TMP/r6" 1 "resolve error: the run fails"
[ "$(status_of "$TMP/r6.out" src)" = failed ] && pass "resolve error: the source failed" || fail "resolve error: $(status_of "$TMP/r6.out" src)"
[ "$(status_of "$TMP/r6.out" out)" = skipped ] && pass "resolve error: the sink is skipped" || fail "resolve error: sink $(status_of "$TMP/r6.out" out)"
expect_py "$TMP/r6.out" "[n['error'] for n in d['nodes'] if n['id'] == 'src'][0].startswith('resolve: commit nosuch has no data.csv') and '\\n' not in json.dumps(d)" \
  "resolve error: one line naming resolve and the commit"
c=$(calls)
[ "$c" = "resolve src;" ] && pass "resolve error: run is not called" || fail "resolve error: $c"

# A source built against ABI 1.5 (no resolve slot) loads and runs, by the local-file rule.
echo c1 >"$LAKE/main"
write_pipeline "$TMP/old.json" <<JSON
{"nodes": [{"id": "src", "use": "source/fake-ref", "with": {"root": "$LAKE"}}]}
JSON
LATHE_PLUGIN_PATH="$LATHE_FAKELAKE_1_5_DIR" run_lathe "$TMP/o1" run --json "$TMP/old.json"
expect_code "$TMP/o1" 0 "1.5 source runs"
c=$(calls)
[ "$c" = "run src c1;" ] && pass "1.5 source: the host calls run only" || fail "1.5 source: $c"
LATHE_PLUGIN_PATH="$LATHE_FAKELAKE_1_5_DIR" run_lathe "$TMP/o2" run --json "$TMP/old.json"
[ "$(status_of "$TMP/o2.out" src)" = cached ] && pass "1.5 source: cached as before 1.6" || fail "1.5 source rerun: $(status_of "$TMP/o2.out" src)"
c=$(calls)
[ -z "$c" ] && pass "1.5 source: a cached rerun calls nothing" || fail "1.5 source rerun: $c"
finish
