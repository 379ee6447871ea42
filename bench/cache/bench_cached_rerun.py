#!/usr/bin/python3
"""A fully cached rerun against its cold run, on the same pipeline and store.

Usage: bench/cache/bench_cached_rerun.py BUILD_DIR [PIPELINE]
  PIPELINE defaults to examples/ideko/pipeline.json (its data: ../shared/data
  from the repo root). BENCH_CACHE_REPS (default 5) cold runs, each in a fresh
  store, each followed by BENCH_CACHE_REPS cached reruns; prints min, median,
  max of both, the ratio of the medians and each rerun's plugin-loading time
  (LATHE_PROFILE), then the plugin loading of BENCH_CACHE_IRIS_REPS (default
  21) fully cached reruns of examples/iris (the issue's measure), and writes
  bench/results-cache.json.

Goal (issue 10): the cached rerun at <= 0.02x the cold run; plugin loading of
a cached run under 3 ms with the plugin cache warm (a cache of its own,
filled by the first cold run: see main()).
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


def run(lathe, pipeline, store, profile=False):
    env = dict(os.environ)
    if profile:
        env["LATHE_PROFILE"] = "1"
    t0 = time.perf_counter()
    p = subprocess.run([lathe, "run", "-j", "2", "--json", "--store", store, pipeline],
                       capture_output=True, text=True, env=env, timeout=600)
    seconds = time.perf_counter() - t0
    if p.returncode != 0:
        sys.exit(f"bench: {pipeline} failed ({p.returncode}): {p.stderr.strip()[:400]}")
    result = json.loads(p.stdout)
    plugins_ms = None
    m = re.search(r"profile: plugins\s+([0-9.]+) ms", p.stderr)
    if m:
        plugins_ms = float(m.group(1))
    return seconds, result, plugins_ms


def summary(xs):
    return {"min": min(xs), "median": statistics.median(xs), "max": max(xs)}


def main():
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    build = sys.argv[1]
    pipeline = sys.argv[2] if len(sys.argv) > 2 else os.path.join(SRC, "examples", "ideko", "pipeline.json")
    if "ideko" in pipeline and not os.path.isdir(os.path.join(os.path.dirname(SRC), "shared", "data", "ideko")):
        sys.exit("bench: ../shared/data/ideko is absent; nothing to measure")
    lathe = os.path.join(build, "lathe")
    reps = int(os.environ.get("BENCH_CACHE_REPS", "5"))
    # A plugin cache of its own: the user's is shared by every build tree and
    # install on the machine, and its index grows with them (a developer's
    # worktrees made it 700 KB, and its parse 3-4 ms), which is not what a
    # user with one install loads. The first cold run fills it.
    plugin_cache = tempfile.TemporaryDirectory(prefix="lathe-bench-plugin-cache-")
    os.environ["LATHE_CACHE_DIR"] = plugin_cache.name
    cold, cached, plugins = [], [], []
    for _ in range(reps):
        with tempfile.TemporaryDirectory(prefix="lathe-bench-cache-") as store:
            s, res, _ = run(lathe, pipeline, store)
            cold.append(s)
            for _ in range(reps):
                s, res, ms = run(lathe, pipeline, store, profile=True)
                statuses = {n["status"] for n in res["nodes"]}
                if statuses != {"cached"}:
                    sys.exit(f"bench: the rerun was not fully cached: {statuses}")
                cached.append(s)
                if ms is not None:
                    plugins.append(ms)
    out = {"pipeline": os.path.relpath(pipeline, SRC), "reps": reps, "cold_s": summary(cold),
           "cached_s": summary(cached),
           "ratio_of_medians": statistics.median(cached) / statistics.median(cold)}
    if plugins:
        out["cached_plugin_loading_ms"] = summary(plugins)
    iris = os.path.join(SRC, "examples", "iris", "pipeline.json")
    with tempfile.TemporaryDirectory(prefix="lathe-bench-cache-") as store:
        run(lathe, iris, store)
        ms = [run(lathe, iris, store, profile=True)[2]
              for _ in range(int(os.environ.get("BENCH_CACHE_IRIS_REPS", "21")))]
    out["iris_cached_plugin_loading_ms"] = summary([m for m in ms if m is not None])
    out["goals_met"] = {"ratio_le_0.02": out["ratio_of_medians"] <= 0.02,
                        "iris_plugin_loading_lt_3ms": out["iris_cached_plugin_loading_ms"]["median"] < 3}
    print(json.dumps(out, indent=2))
    with open(os.path.join(SRC, "bench", "results-cache.json"), "w") as f:
        json.dump(out, f, indent=2)
        f.write("\n")


if __name__ == "__main__":
    main()
