#!/usr/bin/python3
"""executor/process against the host's threads: per-node overhead (issue 15).

Usage: bench/executor/bench_executor.py BUILD_DIR
  Runs bench/bench.py's chain of no-op nodes (transform/noop, each reading
  the previous one's output), 1 and BENCH_EXECUTOR_NODES (default 1000)
  nodes long, under `--executor threads` and `--executor process`, each
  BENCH_EXECUTOR_REPS times (default 3), the ways interleaved, in a fresh
  run store with --no-cache so every node executes and is recorded. The
  per-node cost is the marginal one, (T(N) - T(1)) / (N - 1): start-up
  and the first node's plugin load are left out. The plugin cache is the
  benchmark's own (LATHE_CACHE_DIR), warmed by the first run. Under executor/process a
  node costs a fork and exec of `lathe exec-task`, its catalog and store
  opening, a task file and a result file, and the host's polling.
  Writes bench/results-executor.json.

Goal (issue 15): executor/process under 3 ms per node beyond threads.
"""
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
SRC = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.dirname(HERE))
from bench import graph  # noqa: E402

BUILD = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else "build")
LATHE = os.path.join(BUILD, "lathe")
N = int(os.environ.get("BENCH_EXECUTOR_NODES", "1000"))
REPS = int(os.environ.get("BENCH_EXECUTOR_REPS", "3"))
WAYS = ("threads", "process")


def run(tmp, way, n, rep):
    path = os.path.join(tmp, "chain-%d.json" % n)
    if not os.path.exists(path):
        json.dump(graph("chain", n), open(path, "w"))
    store = os.path.join(tmp, "store-%s-%d-%s" % (way, n, rep))
    # A plugin cache of its own: the user's holds every plugin folder ever
    # scanned, which each task reads at start-up.
    env = dict(os.environ, LATHE_CACHE_DIR=os.path.join(tmp, "cache"),
               LATHE_PLUGIN_PATH=os.pathsep.join([
                   os.path.join(BUILD, "tests", "plugins", "common", "testkit"),
                   os.path.join(BUILD, "plugins", "executor-process")]))
    ru0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    t = time.perf_counter()
    p = subprocess.run([LATHE, "run", "--json", "--no-cache", "-j", "1", "--executor", way,
                        "--store", store, path], env=env, stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, timeout=3600)
    wall = time.perf_counter() - t
    ru1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (ru1.ru_utime - ru0.ru_utime) + (ru1.ru_stime - ru0.ru_stime)
    if p.returncode != 0:
        sys.exit("%s, %d nodes: exit %d: %s" % (way, n, p.returncode, p.stderr.decode()[-500:]))
    res = json.loads(p.stdout)
    assert res["status"] == "succeeded" and len(res["nodes"]) == n
    return wall, cpu


def main():
    results = {"nodes": N, "reps": REPS, "jobs": 1}
    with tempfile.TemporaryDirectory(prefix="lathe-bench-executor-") as tmp:
        times = {(w, n): [] for w in WAYS for n in (1, N)}
        cpus = {(w, n): [] for w in WAYS for n in (1, N)}
        run(tmp, "process", 1, "warm-up")  # fills the plugin cache, untimed
        for rep in range(REPS):
            for n in (1, N):
                for way in WAYS:
                    wall, cpu = run(tmp, way, n, rep)
                    times[(way, n)].append(wall)
                    cpus[(way, n)].append(cpu)
    med = {k: statistics.median(v) for k, v in times.items()}
    cpu_med = {k: statistics.median(v) for k, v in cpus.items()}
    results["load_average"] = os.getloadavg()
    for way in WAYS:
        per = (med[(way, N)] - med[(way, 1)]) / (N - 1)
        cpu_per = (cpu_med[(way, N)] - cpu_med[(way, 1)]) / (N - 1)
        results[way] = {"seconds_1": med[(way, 1)], "seconds_%d" % N: med[(way, N)],
                        "ms_per_node": per * 1e3, "cpu_ms_per_node": cpu_per * 1e3,
                        "all_seconds_%d" % N: times[(way, N)]}
        print("%-8s chain of %d no-op nodes: %.2f s (1 node: %.3f s) -> %.3f ms/node wall, "
              "%.3f ms/node CPU (host and children)" % (way, N, med[(way, N)], med[(way, 1)],
                                                        per * 1e3, cpu_per * 1e3))
    extra = results["process"]["ms_per_node"] - results["threads"]["ms_per_node"]
    results["process_overhead_ms_per_node"] = extra
    results["process_overhead_cpu_ms_per_node"] = (results["process"]["cpu_ms_per_node"] -
                                                   results["threads"]["cpu_ms_per_node"])
    print("load average during the benchmark: %.1f %.1f %.1f" % results["load_average"])
    print("executor/process costs %.2f ms per node more than threads (goal < 3 ms): %s"
          % (extra, "met" if extra < 3 else "NOT met"))
    out = os.path.join(SRC, "bench", "results-executor.json")
    json.dump(results, open(out, "w"), indent=2)
    print("wrote", out)


if __name__ == "__main__":
    main()
