#!/usr/bin/python3
"""Rewrites a run store's pending tracker journal so that each metrics row
carries up to K points: a run's metrics rows that follow one another (no
other event of that run between them) become one row, in order.

(The recorder itself writes a node's reports a chunk per write, named by
one row; this makes rows of a chosen size, chunks or not.) The
shipper must split such a row across several log-batch calls and ack it only
when every part is acknowledged (tests/integration/test-tracker-mlflow-big-rows.sh,
bench/tracker/bench_journal.py with BENCH_TRACKER_ROW_POINTS).

Usage: tracker-merge-rows.py STORE_DIR K   prints the rows before and after
"""
import json
import os
import sqlite3
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "common"))
from store_points import journal_points  # noqa: E402


def merge(db_path, k):
    c = sqlite3.connect(db_path)
    rows = c.execute("SELECT id, tracker, run_id, kind, payload FROM tracker_journal"
                     " WHERE state = 'pending' ORDER BY id").fetchall()
    before = len(rows)
    keep = {}    # id -> the points it ends up with
    drop = []
    open_row = {}  # (tracker, run) -> the id of the metrics row being filled
    for rid, tracker, run, kind, payload in rows:
        key = (tracker, run)
        if kind != "metrics":
            open_row.pop(key, None)
            continue
        pts = journal_points(c, json.loads(payload))
        head = open_row.get(key)
        if head is not None and len(keep[head]) + len(pts) <= k:
            keep[head].extend(pts)
            drop.append(rid)
            continue
        keep[rid] = list(pts)
        open_row[key] = rid
    with c:
        for rid, pts in keep.items():
            c.execute("UPDATE tracker_journal SET payload = ? WHERE id = ?",
                      (json.dumps({"points": pts}, separators=(",", ":")), rid))
        c.executemany("DELETE FROM tracker_journal WHERE id = ?", [(r,) for r in drop])
    c.close()
    return before, before - len(drop)


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    before, after = merge(os.path.join(sys.argv[1], "lathe.db"), int(sys.argv[2]))
    print(json.dumps({"rows_before": before, "rows_after": after}))


if __name__ == "__main__":
    main()
