#!/usr/bin/env python3
"""Compares a store's tracker journal with what tracker/flaky applied.

usage: tracker-check.py STORE_DIR FLAKY_DB STREAM
Prints JSON: expected and applied metric points and params (as sets, by
natural key), what is missing, what is extra, the highest apply count (n) of a metric point,
and the journal's rows per state.
"""
import json
import os
import sqlite3
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "common"))
from store_points import journal_points  # noqa: E402

store, fake, stream = sys.argv[1:4]
s = sqlite3.connect(f"file:{store}/lathe.db?mode=ro", uri=True)
ids = dict(s.execute("SELECT run_id, tracker_run_id FROM tracker_runs WHERE tracker = ?",
                     (stream,)))
want = set()
for run, kind, payload in s.execute(
        "SELECT run_id, kind, payload FROM tracker_journal WHERE tracker = ?", (stream,)):
    p = json.loads(payload)
    run = ids.get(run, run)
    if kind == "metrics":
        for pt in journal_points(s, p):
            v = pt["value"]
            want.add((run, "metric", pt["key"], repr(float(v)), pt["step"], pt["ts"]))
    elif kind == "params":
        for k, v in p["items"].items():
            want.add((run, "param", k, v, 0, 0))
states = dict(s.execute("SELECT state, count(*) FROM tracker_journal WHERE tracker = ?"
                        " GROUP BY state", (stream,)))
f = sqlite3.connect(fake)
got = set()
max_n = 0
resent = f.execute("SELECT coalesce(sum(n - 1), 0) FROM items").fetchone()[0]
for run, kind, key, value, step, ts, n in f.execute(
        "SELECT run, kind, key, value, step, ts, n FROM items WHERE kind IN ('metric', 'param')"):
    if kind == "metric":
        value = repr(float(value))
        # A param is sent twice by design (a trial's point, then its node's
        # params): only metric points count re-sends.
        max_n = max(max_n, n)
    got.add((run, kind, key, value, step, ts))
runs = [dict(zip(("id", "lathe_id", "parent", "status", "starts"), r)) for r in
        f.execute("SELECT id, lathe_id, parent, status, starts FROM runs ORDER BY id")]
print(json.dumps({"expected": len(want), "applied": len(got),
                  "missing": sorted(map(str, want - got))[:5],
                  "extra": sorted(map(str, got - want))[:5], "max_n": max_n, "resent": resent,
                  "states": states, "runs": runs}))
