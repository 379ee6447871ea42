#!/usr/bin/python3
"""The tracker's overhead on whole runs: examples/iris and examples/ideko.

Usage: bench/tracker/bench_overhead.py BUILD_DIR
  Runs each example BENCH_OVERHEAD_REPS (default 5) times each way, the ways
  interleaved within a repetition so that a machine that slows down during
  the benchmark slows them all alike:
    none  --tracker none: no tracker at all (the baseline)
    up    --tracker mlflow, the MLflow test server (tests/mlflow) up on a
          free loopback port
    down  --tracker mlflow, MLFLOW_TRACKING_URI naming a closed loopback port
  Every run uses a fresh run store, so nothing comes from the cache. Wall
  time is the whole `lathe run` process (start-up, the run, the tracker's
  final flush, exit). Prints the median wall times and each way's overhead
  against the baseline (median over median), with LATHE_PROFILE's phases
  (tracker open, nodes) to show where any difference goes; "outside the
  nodes" is the wall time minus the nodes' time, whose difference to the
  baseline's, over the baseline's wall time, is the tracker's own cost
  without the noise of training on a shared machine. Writes
  bench/results-tracker-overhead.json.
  BENCH_OVERHEAD_EXAMPLES (default "iris,ideko") picks the examples; ideko
  reads ../shared/data/ideko and is skipped, with a message, when it is absent.

Goal (issue 13): under 3% of the wall time with tracker/mlflow on, server up
or down.
"""
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from benchlib import closed_port  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
SRC = os.path.dirname(os.path.dirname(HERE))
WAYS = ("none", "up", "down")
EXAMPLES = {
    # name: (pipeline, what it needs, extra `lathe run` arguments)
    "iris": ("examples/iris/pipeline.json", None, []),
    "ideko": ("examples/ideko/pipeline.json", os.path.join(SRC, "..", "shared", "data", "ideko"),
              ["-j", "2"]),
}



def start_server(tmp):
    """The MLflow test server on free loopback ports: (process, tracking URI)."""
    ready = os.path.join(tmp, "server.json")
    log = open(os.path.join(tmp, "server.log"), "wb")
    p = subprocess.Popen(["/usr/bin/python3", os.path.join(SRC, "tests", "mlflow", "mlflow_server.py"),
                          "serve", "--port", "0", "--control-port", "0",
                          "--data", os.path.join(tmp, "mlflow-data"), "--ready-file", ready],
                         stdout=subprocess.DEVNULL, stderr=log)
    for _ in range(300):
        if os.path.exists(ready):
            try:
                port = json.load(open(ready))["port"]
                return p, "http://127.0.0.1:%d" % port
            except (ValueError, KeyError):
                pass
        if p.poll() is not None:
            break
        time.sleep(0.05)
    p.kill()
    sys.exit("bench: the MLflow test server did not start; see %s" % log.name)


def profile(stderr):
    out = {}
    m = re.search(r"tracker open\s+([0-9.]+) ms, nodes\s+([0-9.]+) ms", stderr)
    if m:
        out["tracker_open_ms"] = float(m.group(1))
        out["nodes_ms"] = float(m.group(2))
    return out


def one_run(lathe, pipeline, extra, store, way, env):
    args = [lathe, "run", "--store", store, "--tracker", "none" if way == "none" else "mlflow"]
    t0 = time.perf_counter()
    p = subprocess.run(args + extra + [pipeline], capture_output=True, text=True, env=env,
                       timeout=1800)
    wall = time.perf_counter() - t0
    if p.returncode != 0:
        sys.exit("bench: %s run (%s) failed: %s" % (way, pipeline, p.stderr.strip()[-600:]))
    r = {"wall": wall}
    r.update(profile(p.stderr))
    return r


def main():
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    lathe = os.path.join(os.path.abspath(sys.argv[1]), "lathe")
    reps = int(os.environ.get("BENCH_OVERHEAD_REPS", "5"))
    chosen = [e for e in os.environ.get("BENCH_OVERHEAD_EXAMPLES", "iris,ideko").split(",") if e]
    out = {"reps": reps, "goal": "overhead < 3% of the wall time, server up or down",
           "examples": {}, "skipped": {}}
    with tempfile.TemporaryDirectory() as tmp:
        server, uri = start_server(tmp)
        try:
            base_env = {k: v for k, v in os.environ.items()
                        if not k.startswith("MLFLOW_") and k not in ("LATHE_TRACKER",)}
            base_env["LATHE_PROFILE"] = "1"
            envs = {"none": base_env,
                    "up": dict(base_env, MLFLOW_TRACKING_URI=uri, MLFLOW_EXPERIMENT_NAME="bench"),
                    "down": dict(base_env, MLFLOW_TRACKING_URI="http://127.0.0.1:%d" % closed_port(),
                                 MLFLOW_EXPERIMENT_NAME="bench")}
            for name in chosen:
                pipeline, needs, extra = EXAMPLES[name]
                if needs and not os.path.isdir(needs):
                    out["skipped"][name] = "no data at %s" % os.path.normpath(needs)
                    print("%s: skipped, no data at %s" % (name, os.path.normpath(needs)))
                    continue
                pipeline = os.path.join(SRC, pipeline)
                # One run not counted: the plugin catalog's cache and the page cache warm.
                one_run(lathe, pipeline, extra, os.path.join(tmp, "warm-" + name), "none",
                        envs["none"])
                runs = {w: [] for w in WAYS}
                for r in range(reps):
                    for w in WAYS:
                        store = os.path.join(tmp, "%s-%s-%d" % (name, w, r))
                        runs[w].append(one_run(lathe, pipeline, extra, store, w, envs[w]))
                ex = {}
                for w in WAYS:
                    walls = [x["wall"] for x in runs[w]]
                    ex[w] = {"wall_seconds": walls, "median": statistics.median(walls),
                             "tracker_open_ms": statistics.median(
                                 x.get("tracker_open_ms", 0.0) for x in runs[w]),
                             "nodes_median": statistics.median(
                                 x.get("nodes_ms", 0.0) for x in runs[w]) / 1000}
                base = ex["none"]["median"]
                # Outside the nodes: what the tracker adds around the run (loading it,
                # the final flush, joining its thread), apart from the noise of training
                # on a shared machine, which moves the nodes' time both ways.
                for w in WAYS:
                    ex[w]["outside_nodes_median"] = statistics.median(
                        x["wall"] - x.get("nodes_ms", 0.0) / 1000 for x in runs[w])
                for w in ("up", "down"):
                    ex[w]["overhead"] = ex[w]["median"] / base - 1
                    ex[w]["overhead_outside_nodes"] = (
                        ex[w]["outside_nodes_median"] - ex["none"]["outside_nodes_median"]) / base
                out["examples"][name] = ex
                for w in WAYS:
                    m = ex[w]
                    print("%-6s %-5s wall %7.3f s  nodes %7.3f s  outside %6.3f s  tracker open %6.2f ms%s"
                          % (name, w, m["median"], m["nodes_median"], m["outside_nodes_median"],
                             m["tracker_open_ms"],
                             "  overhead %+.1f%% (outside the nodes %+.1f%%)" % (
                                 100 * m["overhead"], 100 * m["overhead_outside_nodes"])
                             if "overhead" in m else ""))
        finally:
            server.terminate()
            server.wait(timeout=10)
    with open(os.path.join(SRC, "bench", "results-tracker-overhead.json"), "w") as f:
        json.dump(out, f, indent=2)
        f.write("\n")


if __name__ == "__main__":
    main()
