#!/usr/bin/python3
"""Lathe's host benchmarks, with the reference run side by side.

Usage: bench/run.sh  (builds, then runs this with the build dir)
Prints a table and writes bench/results-host.json. Numbers are medians.
"""
import json, os, shutil, statistics, subprocess, sys, tempfile, time

BUILD = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else "build")
SRC = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
LATHE = os.path.join(BUILD, "lathe")
TESTKIT = os.path.join(BUILD, "tests", "plugins", "testkit")
REPS = int(os.environ.get("BENCH_REPS", "5"))


def wall(cmd, env=None, cwd=None):
    t = time.perf_counter()
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                   env=env, cwd=cwd)
    return time.perf_counter() - t


def median_wall(cmd, reps=REPS, setup=None, **kw):
    times = []
    for _ in range(reps):
        if setup:
            setup()
        times.append(wall(cmd, **kw))
    return statistics.median(times)


def graph(kind, n):
    nodes = [{"id": "n0", "use": "transform/noop"}]
    for i in range(1, n):
        src = "n%d" % (i - 1) if kind == "chain" else "n0"
        nodes.append({"id": "n%d" % i, "use": "transform/noop", "in": {"data": src}})
    return {"lathe": 1, "name": kind, "nodes": nodes}


def overhead(tmp, results):
    env = dict(os.environ, LATHE_PLUGIN_PATH=TESTKIT)
    for kind in ("chain", "fan"):
        rows = {}
        for n in (1, 1000):
            path = os.path.join(tmp, "%s-%d.json" % (kind, n))
            json.dump(graph(kind, n), open(path, "w"))
            store = os.path.join(tmp, "store-%s-%d" % (kind, n))
            # --no-cache: every node executes and is recorded in the store.
            rows[n] = median_wall([LATHE, "run", "--no-cache", "--store", store, path], env=env)
        per_node = rows[1000] / 1000
        marginal = (rows[1000] - rows[1]) / 999
        results["overhead_" + kind] = {"seconds_1000": rows[1000], "seconds_1": rows[1],
                                       "us_per_node": per_node * 1e6,
                                       "us_per_node_marginal": marginal * 1e6}
        print("host overhead, %-5s 1000 no-op nodes, store on: %.3f s -> %.1f us/node "
              "(%.1f us/node beyond a 1-node run; goal < 50)" % (kind, rows[1000], per_node * 1e6,
                                                                  marginal * 1e6))


def iris_cache(tmp, results):
    work = os.path.join(tmp, "iris")
    shutil.copytree(os.path.join(SRC, "examples", "iris"), work,
                    ignore=shutil.ignore_patterns(".lathe"))
    store = os.path.join(work, ".lathe")
    cmd = [LATHE, "run", "--json", os.path.join(work, "pipeline.json")]
    cold = median_wall(cmd, setup=lambda: shutil.rmtree(store, ignore_errors=True))
    wall(cmd)
    warm = median_wall(cmd)

    def node_seconds():
        out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
        return sum(n["seconds"] for n in json.loads(out)["nodes"])
    shutil.rmtree(store, ignore_errors=True)
    cold_nodes = node_seconds()
    warm_nodes = node_seconds()
    results["iris_cache"] = {"cold_s": cold, "cached_s": warm, "saved": 1 - warm / cold,
                             "node_seconds_cold": cold_nodes, "node_seconds_cached": warm_nodes}
    print("iris pipeline: cold %.4f s, all-cached rerun %.4f s -> %.1f%% less wall time (goal 95%%); "
          "time inside nodes %.4f s -> %.4f s (%.1f%% less)"
          % (cold, warm, 100 * (1 - warm / cold), cold_nodes, warm_nodes,
             100 * (1 - warm_nodes / cold_nodes)))
    return cold


def plugins(tmp, results):
    d = os.path.join(tmp, "plugins")
    os.makedirs(d)
    for f in os.listdir(os.path.join(BUILD, "bench")):
        if f.startswith("liblathe-bench-") and f.endswith(".so"):
            shutil.copy(os.path.join(BUILD, "bench", f), d)
    shutil.copy(os.path.join(TESTKIT, "liblathe-testkit.so"), d)
    env = dict(os.environ, LATHE_PLUGIN_PATH=d)
    out = subprocess.run([LATHE, "plugins", "--json"], env=env, capture_output=True, text=True, check=True)
    n = len({c["plugin"] for c in json.loads(out.stdout)["components"]})
    warm = median_wall([LATHE, "plugins"], reps=max(REPS, 21), env=env)
    cold_dir = os.path.join(tmp, "cold-cache")
    cold_env = dict(env, LATHE_CACHE_DIR=cold_dir)
    cold = median_wall([LATHE, "plugins"], reps=max(REPS, 21), env=cold_env,
                       setup=lambda: shutil.rmtree(cold_dir, ignore_errors=True))
    results["plugins"] = {"plugins": n, "seconds": warm, "seconds_cold_cache": cold}
    print("lathe plugins with %d plugins installed: %.1f ms with the plugin cache, %.1f ms without "
          "(every file opened and hashed) (goal < 20 ms)" % (n, warm * 1e3, cold * 1e3))


SKLEARN_IRIS = r'''
import sys, time
t0 = time.perf_counter()
import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split
from sklearn.metrics import accuracy_score
rows = [l.strip().split(",") for l in open(sys.argv[1]).read().splitlines()[1:] if l.strip()]
X = np.array([[float(v) for v in r[:4]] for r in rows]); y = np.array([r[4] for r in rows])
Xtr, Xte, ytr, yte = train_test_split(X, y, test_size=0.2, stratify=y, random_state=7)
Xfit, Xval, yfit, yval = train_test_split(Xtr, ytr, test_size=0.25, stratify=ytr, random_state=7)
best = None
for l2 in [0.0001, 0.001, 0.01, 0.1, 1.0]:
    m = LogisticRegression(C=1.0 / (l2 * len(Xfit)), max_iter=1000).fit(Xfit, yfit)
    a = accuracy_score(yval, m.predict(Xval))
    if best is None or a > best[0]: best = (a, m)
print(accuracy_score(yte, best[1].predict(Xte)))
'''


def iris_vs_sklearn(tmp, results, lathe_cold):
    py = "/usr/bin/python3"
    if subprocess.run([py, "-c", "import sklearn"], capture_output=True).returncode != 0:
        print("iris vs scikit-learn: skipped (python3-sklearn is not installed; bench/run.sh installs it)")
        return
    script = os.path.join(tmp, "iris_sklearn.py")
    open(script, "w").write(SKLEARN_IRIS)
    data = os.path.join(SRC, "examples", "iris", "iris.csv")
    ref = median_wall([py, script, data])
    results["iris_vs_sklearn"] = {"lathe_cold_s": lathe_cold, "sklearn_s": ref, "ratio": lathe_cold / ref}
    print("iris grid search end to end (process start to metrics): Lathe cold %.4f s, scikit-learn 1.2 "
          "script %.4f s -> ratio %.3f" % (lathe_cold, ref, lathe_cold / ref))


def main():
    results = {"reps": REPS}
    with tempfile.TemporaryDirectory() as tmp:
        overhead(tmp, results)
        cold = iris_cache(tmp, results)
        plugins(tmp, results)
        iris_vs_sklearn(tmp, results, cold)
    out = os.path.join(SRC, "bench", "results-host.json")
    json.dump(results, open(out, "w"), indent=2)
    print("wrote", out)


if __name__ == "__main__":  # bench/executor imports graph()
    main()
