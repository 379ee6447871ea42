#!/usr/bin/env python3
"""Compares what a run store holds with what the MLflow test server holds
(its /state dump), point by point: tracker-mlflow-check.py STORE_DIR STATE_JSON
[STREAM]. Trusts nothing lathe reports about itself.

Prints JSON:
  points      metric points the journal holds (one per point, however many
              points a journal row carries), mapped to the MLflow run ids
  stored      the store's own metrics rows (executions x metrics), mapped to
              the run they belong to (a trial's node path tune/N/f is the
              trial run RUN-tune-N, key f.NAME)
  missing     journal points the server lacks (first 5), n_missing
  extra       server points of these runs the journal never held (first 5)
  stored_missing  stored metrics rows the server lacks, by (run, key, step,
              value) and multiplicity (first 5), n_stored_missing
  dup_points  (run, key, step, timestamp) held more than once by the server
  dup_steps   (run, key, step) held more times by the server than by the journal
  params_bad  journal params the server lacks or holds with another value
  runs        Lathe runs of the store; dup_runs: Lathe run ids with more than
              one MLflow run (tag lathe.run_id); unmapped: Lathe runs with no
              MLflow run; orphans: nested runs whose mlflow.parentRunId is not
              the MLflow run of their Lathe parent
  states      journal rows per state; pending_points: points in pending rows;
  pending_on_server: of those, how many the server already holds (a batch
              applied whose answer never came back)
"""
import collections
import json
import os
import re
import sqlite3
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "common"))
from store_points import journal_points, stored_metrics  # noqa: E402

store, state_path = sys.argv[1], sys.argv[2]
stream = sys.argv[3] if len(sys.argv) > 3 else "tracker/mlflow"
s = sqlite3.connect(f"file:{store}/lathe.db?mode=ro", uri=True)
state = json.load(open(state_path))["tracking"]["runs"]

by_lathe = collections.defaultdict(list)
for rid, r in state.items():
    if "lathe.run_id" in r["tags"]:
        by_lathe[r["tags"]["lathe.run_id"]].append(rid)
mapped = dict(s.execute("SELECT run_id, tracker_run_id FROM tracker_runs WHERE tracker = ?",
                        (stream,)))


def mlflow_id(run):
    ids = by_lathe.get(run, [])
    return ids[0] if len(ids) == 1 else mapped.get(run, run)


def num(v):
    """A value as the server dumps it: NaN and infinities as strings."""
    if isinstance(v, str):
        return v
    v = float(v)
    return "NaN" if v != v else ("Infinity" if v == float("inf") else
                                 "-Infinity" if v == float("-inf") else repr(v))


def close(a, b):
    if isinstance(a, str) or isinstance(b, str):
        return a == b
    return abs(float(a) - float(b)) <= 1e-9 * max(1.0, abs(float(a)))


want = collections.Counter()
pending_pts = set()
params = {}
parents = {}
lathe_runs = set()
for run, kind, payload, st in s.execute(
        "SELECT run_id, kind, payload, state FROM tracker_journal WHERE tracker = ? ORDER BY id",
        (stream,)):
    p = json.loads(payload)
    lathe_runs.add(run)
    if kind == "metrics":
        for pt in journal_points(s, p):
            k = (mlflow_id(run), pt["key"], int(pt["step"]), int(pt["ts"]), num(pt["value"]))
            want[k] += 1
            if st == "pending":
                pending_pts.add(k)
    elif kind == "params":
        for key, v in p["items"].items():
            params.setdefault((run, key), v)
    elif kind == "start" and p.get("parent"):
        parents[run] = p["parent"]
states = dict(s.execute("SELECT state, count(*) FROM tracker_journal WHERE tracker = ?"
                        " GROUP BY state", (stream,)))

ours = {mlflow_id(r) for r in lathe_runs}
got = collections.Counter()
for rid in ours:
    for m in state.get(rid, {}).get("metrics", []):
        got[(rid, m["key"], int(m["step"]), int(m["timestamp"]), num(m["value"]))] += 1

# The journal may hold one point twice (the same report journaled again is
# one point to MLflow): compare as sets, and count steps apart.
want_set, got_set = set(want), set(got)
missing = sorted(map(str, want_set - got_set))
extra = sorted(map(str, got_set - want_set))
dup_points = collections.Counter(k[:4] for k in got.elements())
dup_points = sorted(str(k) for k, n in dup_points.items() if n > 1)
steps_want = collections.Counter(k[:3] for k in want_set)
steps_got = collections.Counter(k[:3] for k in got.elements())
dup_steps = sorted(str(k) for k, n in steps_got.items() if n > steps_want.get(k, 0))

# The store's own metric rows: every one is on the server.
trial = re.compile(r"^(?P<tuner>.+)/(?P<n>\d+)/(?P<node>[^/]+)$")
stored = collections.Counter()
for run, node, name, value, step in stored_metrics(s):
    t = trial.match(node)
    if t:
        run, node = "%s-%s-%s" % (run, t["tuner"].replace("/", "-"), t["n"]), t["node"]
    if run not in lathe_runs:
        continue  # a run this tracker never saw
    stored[(mlflow_id(run), "%s.%s" % (node, name), int(step or 0), num(value))] += 1
held = collections.Counter(k[:3] + (k[4],) for k in got_set)
stored_missing = []
for k, n in stored.items():
    have = sum(c for h, c in held.items() if h[:3] == k[:3] and close(h[3], k[3]))
    if have < n:
        stored_missing.append(str(k))
stored_missing.sort()

params_bad = []
for (run, key), v in sorted(params.items()):
    sv = state.get(mlflow_id(run), {}).get("params", {}).get(key)
    if sv != v:
        params_bad.append("%s %s: %r on the server, %r in the journal" % (run, key, sv, v))

dup_runs = sorted(r for r, ids in by_lathe.items() if r in lathe_runs and len(ids) > 1)
unmapped = sorted(r for r in lathe_runs if not by_lathe.get(r))
orphans = sorted(r for r, par in parents.items()
                 if state.get(mlflow_id(r), {}).get("tags", {}).get("mlflow.parentRunId")
                 != mlflow_id(par))
print(json.dumps({
    "points": len(want_set), "server_points": sum(got.values()), "stored": sum(stored.values()),
    "n_missing": len(missing), "missing": missing[:5], "extra": extra[:5],
    "n_stored_missing": len(stored_missing), "stored_missing": stored_missing[:5],
    "dup_points": dup_points[:5], "dup_steps": dup_steps[:5],
    "params": len(params), "params_bad": params_bad[:5],
    "runs": len(lathe_runs), "nested": len(parents), "dup_runs": dup_runs, "unmapped": unmapped,
    "orphans": orphans, "mlflow_runs": len(state),
    "states": states, "pending_points": len(pending_pts),
    "pending_on_server": len(pending_pts & got_set)}))
