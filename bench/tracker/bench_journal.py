#!/usr/bin/python3
"""Metric points a training loop logs into the tracker journal, and shipped.

Usage: bench/tracker/bench_journal.py BUILD_DIR
  A study of BENCH_TRACKER_TRIALS (default 10) trials of the testkit's
  transform/objective, each reporting 1000 "loss" points as fast as it can
  (a training loop with nothing else to do), run BENCH_TRACKER_REPS (default
  5) times each way:
    none   --tracker none: the store's own rows only (the baseline)
    down   tracker/flaky with its server down: every point journaled, nothing
           shipped (the journal's own cost)
    sqlite tracker/sqlite: journaled and shipped from the background thread
  Prints the node time (LATHE_PROFILE) of each, points per second, the
  overhead against the baseline, then the rate at which `lathe tracker sync`
  ships the "down" run's journal to tracker/flaky once it is up, and writes
  bench/results-tracker-journal.json.

Goal (issue 13): >= 1M points/s into the journal; >= 50k points/s shipped.
"""
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
SRC = os.path.dirname(os.path.dirname(HERE))
STEPS = 1000


def pipeline(path, trials):
    xs = [round(0.1 * (i + 1), 3) for i in range(trials)]
    p = {"name": "bench", "seed": 1, "nodes": [
        {"id": "tune", "use": "tuner/grid",
         "with": {"objective": "f.value", "direction": "minimize", "space": {"f.x": xs},
                  "parallel_trials": 2},
         "trial": {"nodes": [{"id": "f", "use": "transform/objective",
                              "with": {"steps": STEPS}}]}}]}
    with open(path, "w") as f:
        json.dump(p, f)


def run(lathe, args, env):
    t0 = time.perf_counter()
    p = subprocess.run([lathe] + args, capture_output=True, text=True, env=env, timeout=600)
    wall = time.perf_counter() - t0
    m = re.search(r"nodes\s+([0-9.]+) ms", p.stderr)
    return p, wall, float(m.group(1)) / 1000 if m else None


def main():
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    build = os.path.abspath(sys.argv[1])
    lathe = os.path.join(build, "lathe")
    plugins = [os.path.join(build, "tests", "plugins", "common", d)
               for d in ("testkit", "flaky_tracker")]
    trials = int(os.environ.get("BENCH_TRACKER_TRIALS", "10"))
    reps = int(os.environ.get("BENCH_TRACKER_REPS", "5"))
    points = trials * STEPS
    out = {"points_per_run": points, "reps": reps, "modes": {}}
    with tempfile.TemporaryDirectory() as tmp:
        pipe = os.path.join(tmp, "p.json")
        pipeline(pipe, trials)
        env = dict(os.environ, LATHE_PLUGIN_PATH=":".join(plugins), LATHE_PROFILE="1",
                   LATHE_FLAKY_DB=os.path.join(tmp, "flaky.db"))
        sync_rates = []
        for mode, tracker in (("none", "none"), ("down", "flaky"), ("sqlite", "sqlite")):
            times = []
            for r in range(reps):
                store = os.path.join(tmp, f"{mode}-{r}")
                e = dict(env, LATHE_FLAKY_DOWN="1") if mode == "down" else env
                p, _, nodes = run(lathe, ["run", "--store", store, "--tracker", tracker, pipe], e)
                if p.returncode != 0 or nodes is None:
                    sys.exit(f"bench: {mode} run failed: {p.stderr.strip()[:400]}")
                times.append(nodes)
                if mode == "down":
                    p, wall, _ = run(lathe, ["tracker", "sync", "--store", store], env)
                    if p.returncode != 0:
                        sys.exit(f"bench: sync failed: {p.stderr.strip()[:400]}")
                    sync_rates.append(points / wall)
            med = statistics.median(times)
            out["modes"][mode] = {"nodes_seconds": times, "median": med,
                                  "points_per_second": points / med}
        base = out["modes"]["none"]["median"]
        for mode in ("down", "sqlite"):
            out["modes"][mode]["overhead"] = out["modes"][mode]["median"] / base - 1
        # The journal's own rate: points over the time the journal added.
        extra = out["modes"]["down"]["median"] - base
        out["journal_points_per_second"] = points / extra if extra > 0 else None
        out["sync_points_per_second"] = statistics.median(sync_rates)
    for mode, m in out["modes"].items():
        print(f"{mode:7s} nodes {m['median']:.3f} s  {m['points_per_second']:>10.0f} points/s"
              + (f"  overhead {100 * m['overhead']:+.1f}%" if "overhead" in m else ""))
    j = out["journal_points_per_second"]
    print(f"journal alone: {j:.0f} points/s" if j else "journal alone: below the noise")
    print(f"shipped by `lathe tracker sync`: {out['sync_points_per_second']:.0f} points/s")
    with open(os.path.join(SRC, "bench", "results-tracker-journal.json"), "w") as f:
        json.dump(out, f, indent=2)
        f.write("\n")


if __name__ == "__main__":
    main()
