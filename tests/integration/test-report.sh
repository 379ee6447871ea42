#!/usr/bin/env bash
# `lathe report` opened in headless Chromium (tests/browser/browser.py):
# iris (graph, confusion matrices, a grid study), iris-ab, two runs compared,
# a testkit study with pruned-like NaN trials and curves; no console line,
# the expected SVG elements by count, a screenshot well above a blank page's
# variance, no external URL. Bad inputs: an unknown run, an older-schema
# store, a run in progress, a run with no metrics, NaN metrics, <script> in
# a node id and a metric name. `lathe runs show` prints the confusion matrix.
source "$(dirname "$0")/lib.sh"
B="$LATHE_SOURCE_DIR/tests/browser/browser.py"
have_chromium=1
command -v chromium >/dev/null || command -v chromium-browser >/dev/null || command -v google-chrome >/dev/null || have_chromium=0
[ $have_chromium = 1 ] || echo "# Chromium is absent (scripts/deps.sh installs it): the browser checks are skipped"

# open_report HTML NAME: loads it in Chromium; DOM in HTML.dom.html
open_report() {
  [ $have_chromium = 1 ] || return 1
  if $PY "$B" load "$1" --dom "$1.dom.html" --shot "$1.png" --size 1200,2400 --console "$1.console" >"$1.load" 2>&1; then
    pass "$2: no console line"
  else
    fail "$2: the page logged: $(head -c 600 "$1.console" "$1.load")"
  fi
  local v; v=$($PY "$B" variance "$1.png" 2>/dev/null || echo 0)
  $PY -c "import sys; sys.exit(0 if float('$v') > 300 else 1)" && pass "$2: screenshot variance $v (blank 0)" \
    || fail "$2: screenshot variance $v, a blank-looking page"
}
count() { $PY "$B" count "$1.dom.html" "$2" ${3:+"$3"}; }
expect_count() { # html tag class n what
  [ $have_chromium = 1 ] || return 0
  local n; n=$(count "$1" "$2" "$3")
  [ "$n" = "$4" ] && pass "$5: $4 $2.$3" || fail "$5: $n $2.$3, expected $4"
}
no_external_url() { # a URL anywhere in the file (text too): a report fetches nothing
  if grep -qE 'https?://' "$1"; then fail "$2: an external URL: $(grep -oE 'https?://[^"< ]*' "$1" | head -3)"; else pass "$2: no external URL"; fi
}

copy_iris_ab
cd "$TMP/iris" || exit 1
run_lathe "$TMP/iris-run" run --json pipeline.json
expect_code "$TMP/iris-run" 0 "iris runs"
rid=$(json_get "$TMP/iris-run.out" "d['run_id']")
run_lathe "$TMP/rep1" report "$rid" -o "$TMP/iris.html" --json
expect_code "$TMP/rep1" 0 "lathe report of iris"
expect_py "$TMP/rep1.out" "d['bytes'] > 10000 and d['path'].endswith('iris.html')" "--json names the file and its size"
no_external_url "$TMP/iris.html" "iris"
if open_report "$TMP/iris.html" iris; then
  expect_count "$TMP/iris.html" g node 6 "iris graph: a box per pipeline node (the tuner folds its trials)"
  expect_count "$TMP/iris.html" rect cm-cell 18 "iris: 3x3 cells, counts and normalised"
  expect_count "$TMP/iris.html" circle trial 5 "iris study: a point per trial"
  expect_count "$TMP/iris.html" polyline pc 5 "iris study: a parallel-coordinates line per trial"
  expect_count "$TMP/iris.html" table per-class 1 "iris: a per-class table"
  expect_count "$TMP/iris.html" path best 1 "iris study: best-so-far"
  expect_count "$TMP/iris.html" script "" 1 "iris: one inline script (the render timestamp)"
  for t in svg.graph svg.timeline svg.cm; do
    tag=${t%.*} cls=${t#*.}
    n=$(count "$TMP/iris.html" "$tag" "$cls")
    [ "$n" -ge 1 ] && pass "iris: $t drawn" || fail "iris: no $t"
  done
  # every chart has a text alternative
  $PY - "$TMP/iris.html.dom.html" <<'PY' && pass "every svg chart has a <title>" || fail "an svg without a title"
import re, sys
d = open(sys.argv[1]).read()
svgs = re.findall(r'<svg\b[^>]*>(.*?)</svg>', d, re.S)
bad = [s[:80] for s in svgs if '<title>' not in s]
imp = len(re.findall(r'<svg class="imp"[^>]*aria-label', d))
sys.exit(1 if len(bad) > imp else 0)
PY
fi

# runs show: the confusion matrix and per-class table, in text and JSON
run_lathe "$TMP/show" runs show "$rid"
grep -q "confusion matrix (rows: true class, columns: predicted)" "$TMP/show.out" && grep -qE "^      setosa +10 +0 +0" "$TMP/show.out" \
  && pass "runs show prints the confusion matrix" || fail "runs show: $(grep -A5 confusion "$TMP/show.out" | head -8)"
grep -qE "^      virginica +1\.0000 +1\.0000 +1\.0000 +10" "$TMP/show.out" && pass "runs show prints the per-class table" \
  || fail "runs show per-class: $(grep -A4 precision "$TMP/show.out" | head -5)"
run_lathe "$TMP/showj" runs show --json "$rid"
expect_py "$TMP/showj.out" "[n for n in d['nodes'] if n['id'] == 'eval'][0]['classification']['confusion_matrix'] == [[10,0,0],[0,10,0],[0,0,10]]" \
  "runs show --json has the confusion matrix"
expect_py "$TMP/showj.out" "[r['class'] for r in [n for n in d['nodes'] if n['id'] == 'eval'][0]['classification']['per_class']] == ['setosa','versicolor','virginica']" \
  "runs show --json has the per-class rows"

# Two runs compared: a table with a column per run, the differing rows marked
# (another pipeline name: a second "iris" run would resume the finished
# study iris/tune and train nothing, so it would have no curves to overlay)
sed '0,/"name": "iris"/s//"name": "iris2"/' pipeline.json >pipeline2.json
run_lathe "$TMP/iris-run2" run --json --set split.test_fraction=0.3 pipeline2.json
rid2=$(json_get "$TMP/iris-run2.out" "d['run_id']")
run_lathe "$TMP/cmp" report "$rid" "$rid2" -o "$TMP/cmp.html"
expect_code "$TMP/cmp" 0 "a comparison of two runs"
if open_report "$TMP/cmp.html" comparison; then
  expect_count "$TMP/cmp.html" table compare 1 "comparison table"
  n=$(count "$TMP/cmp.html" td diff)
  [ "$n" -ge 2 ] && pass "comparison: differing values marked ($n cells)" || fail "comparison: $n cells marked"
  expect_count "$TMP/cmp.html" g node 12 "comparison: each run's graph"
  # overlaid curves: a chart per shared model node and metric, a line per run
  nc=$(count "$TMP/cmp.html" svg overlay)
  [ "$nc" -ge 1 ] && pass "comparison: $nc overlaid curve charts" || fail "comparison: no overlaid curve chart"
  expect_count "$TMP/cmp.html" path overlay-curve $((2 * nc)) "comparison: 2 lines (one per run) in each overlaid chart"
  grep -qF ">$rid</text>" "$TMP/cmp.html" && grep -qF ">$rid2</text>" "$TMP/cmp.html" \
    && pass "comparison: the legend names each run" || fail "comparison: runs not named in a legend"
fi

cd "$TMP/iris-ab" || exit 1
run_lathe "$TMP/ab-run" run --json pipeline.json
expect_code "$TMP/ab-run" 0 "iris-ab runs"
abid=$(json_get "$TMP/ab-run.out" "d['run_id']")
reg_sums() { (cd "$TMP/iris-ab/.lathe" && sha256sum lathe.db registry/registry.db registry/registry.db-wal 2>/dev/null); }
reg_sums >"$TMP/ab-sums"
run_lathe "$TMP/ab" report "$abid" -o "$TMP/ab.html"
expect_code "$TMP/ab" 0 "lathe report of iris-ab"
reg_sums | cmp -s - "$TMP/ab-sums" && pass "iris-ab: the report wrote neither the store nor the registry" \
  || fail "iris-ab: the store or registry changed: $(reg_sums | diff - "$TMP/ab-sums")"
# the alias history under the decision: the rows the registry holds
run_lathe "$TMP/abhist" models history iris --alias production --json
$PY - "$TMP/abhist.out" "$TMP/ab.html" <<'PY' && pass "iris-ab: the alias history table has the registry's moves" || fail "iris-ab: alias history differs from lathe models history"
import html, json, re, sys
want = [[m['set_at'], m['alias'], str(m['previous_version']) if m['previous_version'] is not None else '—',
         str(m['version']), m['reason'] or '—', m.get('user') or '—', m['run_id'] or '—',
         m.get('figures') or '—']
        for m in json.load(open(sys.argv[1]))]
page = open(sys.argv[2]).read()
table = re.search(r'<table class="alias-history">(.*?)</table>', page, re.S)
rows = [[html.unescape(c) for c in re.findall(r'<td[^>]*>(.*?)</td>', r)]
        for r in re.findall(r'<tr class="alias-move">(.*?)</tr>', table.group(1) if table else '')]
rows = [r[:-1] + [json.loads(r[-1]) if r[-1] != '—' else '—'] for r in rows]
print(rows, want, file=sys.stderr)
sys.exit(0 if want and rows == want else 1)
PY
no_external_url "$TMP/ab.html" "iris-ab"
if open_report "$TMP/ab.html" iris-ab; then
  expect_count "$TMP/ab.html" span ab-decision 1 "iris-ab: the decision"
  expect_count "$TMP/ab.html" rect ab-bar 10 "iris-ab: candidate and production side by side on 5 metrics"
  n=$(json_get "$TMP/abhist.out" "len(d)")
  expect_count "$TMP/ab.html" tr alias-move "$n" "iris-ab: a row per alias move"
fi

# NAB (when ../shared/data has it): a bar per evaluator and profile, a table each
if [ -d "${LATHE_SHARED_DATA:-}/nab/data" ]; then
  cp -r "$LATHE_SOURCE_DIR/examples/nab" "$TMP/nab"
  sed -i "s#\.\./\.\./\.\./shared/data/#$LATHE_SHARED_DATA/#g" "$TMP/nab/pipeline.json"
  run_lathe "$TMP/nab-run" run --json --store "$TMP/nabs" "$TMP/nab/pipeline.json"
  expect_code "$TMP/nab-run" 0 "nab runs"
  nabid=$(json_get "$TMP/nab-run.out" "d['run_id']")
  evals=$(json_get "$TMP/nab-run.out" "sum(1 for n in d['nodes'] if n.get('component', '').startswith('evaluator/nab'))" 2>/dev/null || echo 4)
  run_lathe "$TMP/nabr" report --store "$TMP/nabs" "$nabid" -o "$TMP/nab.html"
  expect_code "$TMP/nabr" 0 "lathe report of nab"
  no_external_url "$TMP/nab.html" "nab"
  if open_report "$TMP/nab.html" nab; then
    expect_count "$TMP/nab.html" table nab 4 "nab: a score table per evaluator"
    expect_count "$TMP/nab.html" rect nab-bar 12 "nab: a bar per evaluator and profile (4 x 3)"
    # the series pictures: as many shaded windows and detection marks as the
    # evaluators' metrics artifacts hold (read from the store's files)
    run_lathe "$TMP/nabshow" runs show --json --store "$TMP/nabs" "$nabid"
    $PY - "$TMP/nabshow.out" "$TMP/nabs" >"$TMP/nab-counts" <<'PY'
import json, os, sys
d = json.load(open(sys.argv[1]))
wins = tp = fp = charts = 0
for n in d['nodes']:
    if not n.get('component', '').startswith('evaluator/nab'):
        continue
    h = n['outputs']['metrics'].split(':')[-1]
    path = [os.path.join(r, f) for r, _, fs in os.walk(sys.argv[2]) for f in fs
            if f == h[2:] and os.path.basename(r) == h[:2]][0]
    m = json.load(open(path))
    for name, se in m['series'].items():
        charts += 1
        wins += len(se['windows'])
        assert len(se['row']) <= 600 and len(se['row']) == len(se['y'])
    for p in m['profiles'].values():
        for f in p['files'].values():
            assert len(f['detections']['tp']) == f['tp']
            assert f['detections']['truncated'] or len(f['detections']['fp']) == f['fp']
            tp += len(f['detections']['tp'])
            fp += len(f['detections']['fp'])
print(charts, wins, tp, fp)
PY
    if [ -s "$TMP/nab-counts" ]; then
      read -r charts wins tps fps <"$TMP/nab-counts"
      pass "nab: the artifacts hold $charts series, $wins windows, $tps TP and $fps FP rows, each list as long as its count"
      [ "$wins" -gt 0 ] && [ "$tps" -gt 0 ] && pass "nab: windows and detections to draw" || fail "nab: nothing to draw ($wins windows, $tps TP)"
      expect_count "$TMP/nab.html" rect nab-window "$wins" "nab: a shaded rect per label window"
      expect_count "$TMP/nab.html" path nab-tp "$tps" "nab: a triangle per detected window and profile"
      expect_count "$TMP/nab.html" path nab-fp "$fps" "nab: a cross per false positive and profile"
      n=$(count "$TMP/nab.html" path curve)
      [ "$n" = "$charts" ] && pass "nab: a series curve per evaluator and file ($n)" || fail "nab: $n curves, expected $charts"
    else
      fail "nab: cannot read the metrics artifacts: $(cat "$TMP/nab-counts")"
    fi
  fi
else
  echo "# skip - nab: ${LATHE_SHARED_DATA:-}/nab/data not found"
fi

# A testkit study: 6 trials, NaN for x above 0.35 (their values and curves),
# a curve per trial (5 steps of loss).
export LATHE_PLUGIN_PATH="$LATHE_TESTKIT_DIR"
cat >"$TMP/q.json" <<'JSON'
{"name": "quad", "seed": 3, "nodes": [
  {"id": "tune", "use": "tuner/grid",
   "with": {"objective": "f.value", "direction": "minimize", "space": {"f.x": [0.0, 0.1, 0.2, 0.3, 0.4, 0.5]},
            "parallel_trials": 1},
   "trial": {"nodes": [{"id": "f", "use": "transform/objective", "with": {"steps": 5, "nan_above": 0.35}}]}}]}
JSON
run_lathe "$TMP/q-run" run --json --store "$TMP/qs" "$TMP/q.json"
qid=$(json_get "$TMP/q-run.out" "d['run_id']")
run_lathe "$TMP/q" report --store "$TMP/qs" "$qid" -o "$TMP/q.html"
expect_code "$TMP/q" 0 "report of a study with NaN trials"
grep -q '>NaN<' "$TMP/q.html" && pass "NaN values print as NaN" || fail "no NaN text in the study report"
grep -qiE 'd="[^"]*nan' "$TMP/q.html" && fail "a NaN inside an SVG path" || pass "no NaN inside an SVG path"
if open_report "$TMP/q.html" study; then
  expect_count "$TMP/q.html" circle trial 6 "study: a point per trial"
  n=$(count "$TMP/q.html" path curve)
  [ "$n" = 7 ] && pass "study: a loss curve per trial, and the tuner's progress" || fail "study: $n curves, expected 7"
fi

# A run with no metrics
cat >"$TMP/n.json" <<'JSON'
{"name": "nometrics", "nodes": [{"id": "a", "use": "transform/noop", "with": {}}]}
JSON
run_lathe "$TMP/n-run" run --json --store "$TMP/ns" "$TMP/n.json"
nid=$(json_get "$TMP/n-run.out" "d['run_id']" 2>/dev/null)
run_lathe "$TMP/n" report --store "$TMP/ns" "$nid" -o "$TMP/n.html"
expect_code "$TMP/n" 0 "report of a run with no metrics"
grep -q "This run recorded no metrics" "$TMP/n.html" && pass "says it has no metrics" || fail "no-metrics note missing"

# Injection through the store: a node id and a metric name with <script>
db="$TMP/qs/lathe.db"
sqlite3 "$db" "UPDATE executions SET node = '<script>alert(1)</script>' WHERE node = 'tune';
               UPDATE metrics SET name = '<script>alert(2)</script>' WHERE name = 'n_trials'"
run_lathe "$TMP/inj" report --store "$TMP/qs" "$qid" -o "$TMP/inj.html"
expect_code "$TMP/inj" 0 "report of a run with <script> in its names"
grep -qF '&lt;script&gt;alert(1)&lt;/script&gt;' "$TMP/inj.html" && grep -qF '&lt;script&gt;alert(2)&lt;/script&gt;' "$TMP/inj.html" \
  && pass "node id and metric name escaped" || fail "injected names not escaped"
if open_report "$TMP/inj.html" injection; then
  expect_count "$TMP/inj.html" script "" 1 "injection: no injected script element"
  $PY - "$TMP/inj.html.dom.html" <<'PY' && pass "the injected text shows literally" || fail "injected text not shown literally"
import html, re, sys
d = open(sys.argv[1]).read()
text = html.unescape(re.sub(r'<[^>]+>', ' ', d))
sys.exit(0 if '<script>alert(1)</script>' in text and '<script>alert(2)</script>' in text else 1)
PY
fi

# Issue 16: the timeline has a lane per worker. Two parallel sleeps with
# -j 2 run on two workers at once; -j 1 puts both on one; the process
# executor's slots are workers too; executions with no worker (a store
# before schema 6) fall back to lanes packed by start time.
cat >"$TMP/par.json" <<'JSON'
{"nodes": [{"id": "a", "use": "transform/sleep", "with": {"seconds": 0.5}},
  {"id": "b", "use": "transform/sleep", "with": {"seconds": 0.5}}]}
JSON
lanes() { grep -o '<text class="lane"[^>]*>[^<]*</text>' "$1" | sed 's/<[^>]*>//g' | tr '\n' ',' ; }
timeline_run() { # name extra-args...: runs par.json, writes NAME.html, NAME.show
  local name=$1; shift
  run_lathe "$TMP/$name" run --json --no-cache --store "$TMP/ws" "$@" "$TMP/par.json"
  expect_code "$TMP/$name" 0 "$name: the two sleeps run"
  local id; id=$($PY -c "import json,sys; print(json.load(open(sys.argv[1]))['run_id'])" "$TMP/$name.out")
  "$LATHE_BIN" runs show --json --store "$TMP/ws" "$id" >"$TMP/$name.show"
  run_lathe "$TMP/$name-r" report --store "$TMP/ws" "$id" -o "$TMP/$name.html"
  expect_code "$TMP/$name-r" 0 "$name: the report renders"
  echo "$id" >"$TMP/$name.id"
}
timeline_run j2 -j 2
expect_py "$TMP/j2.show" "sorted(n['worker'] for n in d['nodes']) == ['thread 0', 'thread 1']" \
  "-j 2: runs show names two different workers"
expect_py "$TMP/j2.show" "max(n['started'] for n in d['nodes']) < min(n['ended'] for n in d['nodes'])" \
  "-j 2: the two executions overlap in time"
[ "$(lanes "$TMP/j2.html")" = "thread 0,thread 1," ] && pass "-j 2: the timeline has 2 lanes labelled by worker" \
  || fail "-j 2: lanes '$(lanes "$TMP/j2.html")'"
grep -q 'a lane per worker' "$TMP/j2.html" && pass "-j 2: the timeline says its lanes are workers" || fail "-j 2: no lane description"
grep -q '<td class="l">thread 1</td>' "$TMP/j2.html" && pass "-j 2: the timeline table names the worker" || fail "-j 2: no worker column"
timeline_run j1 -j 1
expect_py "$TMP/j1.show" "[n['worker'] for n in d['nodes']] == ['thread 0', 'thread 0']" "-j 1: one worker ran both"
[ "$(lanes "$TMP/j1.html")" = "thread 0," ] && pass "-j 1: one lane" || fail "-j 1: lanes '$(lanes "$TMP/j1.html")'"
# The study above (parallel_trials 1): its trials ran one at a time, each on
# a thread of its own that took the one trial slot; the tuner on thread 0.
[ "$(lanes "$TMP/q.html")" = "thread 0,trial slot 0," ] && pass "study: the tuner's lane and one trial lane" \
  || fail "study: lanes '$(lanes "$TMP/q.html")'"
LATHE_PLUGIN_PATH="$LATHE_PLUGIN_PATH:$LATHE_BUILD_DIR/plugins/executor-process" timeline_run proc -j 2 --executor process
expect_py "$TMP/proc.show" "sorted(n['worker'] for n in d['nodes']) == ['process 0', 'process 1']" \
  "executor/process: its two slots are the workers"
[ "$(lanes "$TMP/proc.html")" = "process 0,process 1," ] && pass "executor/process: 2 lanes" \
  || fail "executor/process: lanes '$(lanes "$TMP/proc.html")'"
cp -r "$TMP/ws" "$TMP/ws-old"
sqlite3 "$TMP/ws-old/lathe.db" "UPDATE executions SET worker = NULL"
run_lathe "$TMP/pk" report --store "$TMP/ws-old" "$(cat "$TMP/j2.id")" -o "$TMP/packed.html"
expect_code "$TMP/pk" 0 "no worker recorded: the report renders"
[ -z "$(lanes "$TMP/packed.html")" ] && grep -q 'lanes by greedy packing' "$TMP/packed.html" \
  && pass "no worker recorded: lanes packed by start time, unlabelled" || fail "no worker: lanes '$(lanes "$TMP/packed.html")'"
[ "$(grep -o '<rect class="bar[^"]*" x="[^"]*" y="[^"]*"' "$TMP/packed.html" | sed 's/.*y="//' | sort -u | wc -l)" = 2 ] \
  && pass "no worker recorded: the two overlapping executions still take 2 lanes" || fail "packed lanes wrong"

# A run in progress renders and says so
sqlite3 "$db" "UPDATE runs SET status = 'running', ended = NULL WHERE id = '$qid'"
run_lathe "$TMP/run-p" report --store "$TMP/qs" "$qid" -o "$TMP/running.html"
expect_code "$TMP/run-p" 0 "report of a running run"
grep -q "the run is still running" "$TMP/running.html" && pass "says running" || fail "no running note"

# Bad inputs: an unknown run, an older-schema store
run_lathe "$TMP/bad" report --store "$TMP/qs" nosuchrun -o "$TMP/x.html"
expect_code "$TMP/bad" 2 "an unknown run id"
expect_err "$TMP/bad" "no run 'nosuchrun'" "names the run"
[ "$(wc -l <"$TMP/bad.err")" = 1 ] && pass "one line" || fail "$(wc -l <"$TMP/bad.err") lines: $(cat "$TMP/bad.err")"
[ ! -e "$TMP/x.html" ] && pass "no file written for an unknown run" || fail "a file was written"
cp -r "$TMP/qs" "$TMP/old"
sqlite3 "$TMP/old/lathe.db" "PRAGMA user_version = 3"
run_lathe "$TMP/old" report --store "$TMP/old" "$qid" -o "$TMP/y.html"
expect_code "$TMP/old" 2 "an older-schema store"
expect_err "$TMP/old" "older store schema 3" "says the schema"
[ "$(wc -l <"$TMP/old.err")" = 1 ] && pass "one line" || fail "$(wc -l <"$TMP/old.err") lines"
[ "$(sqlite3 "$TMP/old/lathe.db" 'PRAGMA user_version')" = 3 ] && pass "the report did not upgrade the store" || fail "store upgraded"
finish
