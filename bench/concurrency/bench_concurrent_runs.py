#!/usr/bin/python3
"""Many writers on one run store: rounds of concurrent `lathe run`s.

Usage: bench/concurrency/bench_concurrent_runs.py BUILD_DIR
  BENCH_CONCURRENT_ROUNDS (default 20) rounds of BENCH_CONCURRENT_WRITERS
  (default 8) runs started at once on one store, mixing examples/iris and
  three small testkit pipelines (a 30-node chain, a 30-node fan, a slow one),
  half of them with --no-cache. The store is created by the first round.
  Prints failures, the runs' statuses in the store, and the write throughput:
  runs/s and node rows (executions)/s over the rounds' wall time. Writes
  bench/results-concurrency.json.

Goal (issue 11): 0 failures, every run complete and `succeeded` in the store.
"""
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
SRC = os.path.dirname(os.path.dirname(HERE))


def pipelines(tmp):
    shutil.copytree(os.path.join(SRC, "examples", "iris"), os.path.join(tmp, "iris"),
                    ignore=shutil.ignore_patterns(".lathe"))
    chain = [{"id": "c0", "use": "transform/noop", "with": {"value": 1}}]
    chain += [{"id": f"c{i}", "use": "transform/noop", "in": {"data": f"c{i-1}"}} for i in range(1, 30)]
    fan = [{"id": "f0", "use": "transform/noop", "with": {"value": 2}}]
    fan += [{"id": f"f{i}", "use": "transform/noop", "in": {"data": "f0"}} for i in range(1, 30)]
    slow = [{"id": "s0", "use": "transform/noop"},
            {"id": "s1", "use": "transform/sleep", "in": {"data": "s0"}, "with": {"seconds": 1.0}},
            {"id": "s2", "use": "transform/noop", "in": {"data": "s1"}}]
    out = [os.path.join(tmp, "iris", "pipeline.json")]
    for name, nodes in (("chain", chain), ("fan", fan), ("slow", slow)):
        path = os.path.join(tmp, name + ".json")
        with open(path, "w") as f:
            json.dump({"nodes": nodes}, f)
        out.append(path)
    return out


def main():
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    build = os.path.abspath(sys.argv[1])
    lathe = os.path.join(build, "lathe")
    rounds = int(os.environ.get("BENCH_CONCURRENT_ROUNDS", "20"))
    writers = int(os.environ.get("BENCH_CONCURRENT_WRITERS", "8"))
    env = dict(os.environ)
    env["LATHE_PLUGIN_PATH"] = os.path.join(build, "tests", "plugins", "testkit")
    env.setdefault("LATHE_CACHE_DIR", os.path.join(build, "bench-cache"))
    failures, locked, wall = [], 0, 0.0
    with tempfile.TemporaryDirectory(prefix="lathe-bench-conc-") as tmp:
        pipes = pipelines(tmp)
        store = os.path.join(tmp, "store")
        for r in range(rounds):
            procs = []
            t0 = time.perf_counter()
            for w in range(writers):
                p = pipes[(w + r) % len(pipes)]
                args = [lathe, "run", "--json", "--store", store] + (["--no-cache"] if w % 2 else []) + [p]
                procs.append(subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                              text=True, env=env))
            for w, p in enumerate(procs):
                out, err = p.communicate(timeout=600)
                locked += "database is locked" in err
                if p.returncode != 0:
                    failures.append({"round": r, "writer": w, "code": p.returncode, "stderr": err.strip()[:300]})
            wall += time.perf_counter() - t0
            print(f"round {r + 1}/{rounds}: {len([f for f in failures if f['round'] == r])} failed", flush=True)
        db = sqlite3.connect(os.path.join(store, "lathe.db"))
        statuses = dict(db.execute("SELECT status, count(*) FROM runs GROUP BY status").fetchall())
        rows = db.execute("SELECT count(*) FROM executions").fetchone()[0]
        unfinished = db.execute("SELECT count(*) FROM executions WHERE status NOT IN"
                                " ('succeeded', 'cached', 'skipped')").fetchone()[0]
        integrity = db.execute("PRAGMA integrity_check").fetchone()[0]
        db.close()
    runs = rounds * writers
    res = {
        "rounds": rounds, "writers": writers, "runs": runs,
        "failures": len(failures), "database_is_locked": locked,
        "runs_by_status": statuses, "executions_unfinished": unfinished, "integrity": integrity,
        "wall_s": wall, "runs_per_s": runs / wall, "node_rows": rows, "node_rows_per_s": rows / wall,
        "failed": failures[:10],
        "goals_met": {"zero_failures": not failures,
                      "all_succeeded": statuses.get("succeeded", 0) == runs and unfinished == 0},
    }
    print(json.dumps({k: v for k, v in res.items() if k != "failed"}, indent=2))
    with open(os.path.join(SRC, "bench", "results-concurrency.json"), "w") as f:
        json.dump(res, f, indent=2)
        f.write("\n")
    sys.exit(0 if all(res["goals_met"].values()) else 1)


if __name__ == "__main__":
    main()
