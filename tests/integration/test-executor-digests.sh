#!/usr/bin/env bash
# Issue 15: a node gives the same result whichever executor runs it. Each
# example runs under the host's threads and under executor/process, in
# stores of their own; every node's cache key, output digests, metrics,
# reports (all but timings) and data versions must be identical. nab reads ../shared/data (skipped
# without it); IDEKO (LATHE_DIGESTS_IDEKO=1, the slow suite) too.
source "$(dirname "$0")/lib.sh"
SHARED="${LATHE_SHARED_DATA:-}"

# prepare NAME DIR: the example NAME in DIR, its data paths made absolute.
prepare() {
  mkdir -p "$2"
  $PY - "$LATHE_SOURCE_DIR/examples/$1/pipeline.json" "$2/pipeline.json" "$LATHE_SOURCE_DIR/examples/$1" "$1" "$SHARED" <<'PYEOF'
import json, os, sys
src, dst, folder, name, shared = sys.argv[1:6]
p = json.load(open(src))
for n in p["nodes"]:
    w = n.get("with", {})
    for k, v in w.items():
        if isinstance(v, str) and v.startswith(("./", "../")):
            w[k] = os.path.normpath(os.path.join(folder, v))
    if name == "ideko" and n["use"] == "source/recordings":
        w.update(path=os.path.join(shared, "ideko"), max_per_class=6)
    if name == "ideko" and n["use"].startswith("model/"):
        w.update(epochs=4)
json.dump(p, open(dst, "w"))
PYEOF
}

# summary STORE RUN: every execution as the executors must agree on it.
summary() {
  "$LATHE_BIN" runs show --json --store "$1" "$2" | $PY -c '
import json, sys
d = json.load(sys.stdin)
out = {}
for n in d["nodes"]:
    out["%s#%d" % (n["id"], n["attempt"])] = {
        "status": n["status"], "cache_key": n.get("cache_key"), "outputs": n.get("outputs"),
        "inputs": n.get("inputs"), "metrics": n.get("metrics"),
        # Timings ("epoch_seconds") are the one thing no two runs share;
        # the points are compared sorted, whatever order the store keeps.
        "reports": sorted((r["name"], r["step"], r["value"]) for r in n.get("reports") or []
                          if "seconds" not in r["name"]),
        "data_versions": sorted((v.get("uri"), v.get("digest")) for v in n.get("data_versions") or [])}
print(json.dumps(out, sort_keys=True, indent=0))'
}

examples="iris iris-ab"
if [ -n "$SHARED" ] && [ -d "$SHARED/nab/data" ]; then examples="$examples nab"; else echo "skip - nab: ../shared/data/nab not found"; fi
if [ "${LATHE_DIGESTS_IDEKO:-}" = 1 ]; then
  if [ -n "$SHARED" ] && [ -d "$SHARED/ideko" ]; then examples="ideko"; else
    echo "skip - IDEKO recordings not found at '$SHARED/ideko'"; exit 77; fi
fi
# One folder for both runs: a source's cache key holds its pipeline's folder.
# iris-ab reads ../iris: both live side by side.
for ex in iris iris-ab nab ideko; do prepare "$ex" "$TMP/$ex" 2>/dev/null; done
cp "$LATHE_SOURCE_DIR/examples/iris/"*.csv "$TMP/iris/" 2>/dev/null
for ex in $examples; do
  for mode in threads process; do
    cd "$TMP/$ex"
    start=$(date +%s%N)
    run_lathe "$TMP/$ex-$mode" run --json --executor $mode -j 2 --store "$TMP/store-$ex-$mode" pipeline.json
    echo "# $ex under $mode: $(( ($(date +%s%N) - start) / 1000000 )) ms"
    expect_code "$TMP/$ex-$mode" 0 "$ex under $mode"
    summary "$TMP/store-$ex-$mode" "$(json_get "$TMP/$ex-$mode.out" "d['run_id']")" >"$TMP/$ex-$mode.sum"
  done
  n=$(json_get "$TMP/$ex-process.sum" "len(d)")
  if cmp -s "$TMP/$ex-threads.sum" "$TMP/$ex-process.sum"; then
    pass "$ex: $n executions with the same cache keys, digests, metrics and reports under both"
  else
    fail "$ex: differs: $(diff "$TMP/$ex-threads.sum" "$TMP/$ex-process.sum" | head -20)"
    for mode in threads process; do
      echo "# $ex under $mode, what did not succeed:"
      "$LATHE_BIN" runs show --store "$TMP/store-$ex-$mode" "$(json_get "$TMP/$ex-$mode.out" "d['run_id']")" | grep -A3 ' failed ' | sed 's/^/#   /'
      cat "$TMP/$ex-$mode.err" | sed 's/^/#   stderr: /' | tail -n 20
    done
  fi
  expect_py "$TMP/$ex-process.sum" "sum(1 for v in d.values() if v['cache_key']) >= 3" "$ex: cache keys recorded"
  # Where it ran: every node but the register node's, in a child process.
  jp=$(sqlite3 "$TMP/store-$ex-process/lathe.db" "SELECT count(*) FROM executor_jobs")
  jt=$(sqlite3 "$TMP/store-$ex-threads/lathe.db" "SELECT count(*) FROM executor_jobs")
  [ "$jp" -ge 3 ] && [ "$jt" = 0 ] && pass "$ex: $jp nodes ran as processes, none under threads" || fail "$ex: jobs $jp (process), $jt (threads)"
done
finish
