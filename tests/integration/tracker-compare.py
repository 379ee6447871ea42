#!/usr/bin/env python3
"""Summarise what tracker/sqlite and tracker/mlflow recorded for one Lathe
run (and its trials) so a test can compare them: tracker-compare.py
TRACKING_DB STATE_JSON LATHE_RUN_ID prints {"sqlite": [...], "mlflow": [...]},
one summary per run (params, metric values per key, lathe.* tags), sorted.
Artifacts and inputs are left out: tracker/sqlite notes them as
lathe.artifact.* and lathe.input.* tags, MLflow stores the files and takes
the inputs through logInputs."""
import json, sqlite3, sys

db, state_path, lathe_run = sys.argv[1], sys.argv[2], sys.argv[3]


def summary(params, metrics, tags, ids):
    return {"params": dict(sorted(params.items())),
            "metrics": {k: sorted(round(v, 9) for v in vs) for k, vs in sorted(metrics.items())},
            "tags": {k: v for k, v in sorted(tags.items())
                     if k.startswith("lathe.") and k not in ids
                     and not k.startswith(("lathe.artifact.", "lathe.input."))}}


def family(runs, tags_of, parent_of):
    """The run tagged lathe.run_id == lathe_run and the runs nested under it."""
    top = [r for r in runs if tags_of(r).get("lathe.run_id") == lathe_run]
    tops = set(top)
    return top + [r for r in runs if parent_of(r) in tops]


con = sqlite3.connect(db)
s_runs = [r for (r,) in con.execute("SELECT run_uuid FROM runs")]
s_tags = {r: dict(con.execute("SELECT key, value FROM tags WHERE run_uuid = ?", (r,))) for r in s_runs}
out_s = []
for r in family(s_runs, lambda r: {"lathe.run_id": r, **s_tags[r]}, lambda r: s_tags[r].get("mlflow.parentRunId")):
    metrics = {}
    for k, v in con.execute("SELECT key, value FROM metrics WHERE run_uuid = ?", (r,)):
        metrics.setdefault(k, []).append(v)
    params = dict(con.execute("SELECT key, value FROM params WHERE run_uuid = ?", (r,)))
    out_s.append(summary(params, metrics, s_tags[r], ("lathe.run_id",)))

state = json.load(open(state_path))["tracking"]["runs"]
out_m = []
for rid in family(list(state), lambda r: state[r]["tags"], lambda r: state[r]["tags"].get("mlflow.parentRunId")):
    r = state[rid]
    metrics = {}
    for m in r["metrics"]:
        metrics.setdefault(m["key"], []).append(float(m["value"]))
    out_m.append(summary(r["params"], metrics, r["tags"], ("lathe.run_id",)))

key = lambda s: json.dumps(s, sort_keys=True)
print(json.dumps({"sqlite": sorted(out_s, key=key), "mlflow": sorted(out_m, key=key)}))
