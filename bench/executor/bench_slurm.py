#!/usr/bin/python3
"""executor/slurm on the one-node cluster of tests/slurm/slurm-cluster.sh (issue 15).

Usage (as root, after `ninja -C BUILD_DIR`): bench/executor/bench_slurm.py BUILD_DIR
  Starts the cluster (skips, exit 77, where it cannot start) and measures:
  1. latency: a one-node pipeline (transform/noop) end to end, `lathe run`
     under threads, executor/process and executor/slurm, BENCH_SLURM_REPS
     times each (default 5), interleaved; the slurm figure against the
     issue's references (Airflow aims at < 60 s a task, KFP and Argo spend
     5-15 s a step).
  2. throughput: a fan-out of BENCH_SLURM_FAN no-op nodes (default 40) under
     slurm with -j equal to it, so every node is submitted at once: tasks
     per second, end to end; against Slurm's own rate on the same cluster,
     the same number of `sbatch --wrap true` jobs submitted one after another
     and waited for (squeue empty).
  3. IDEKO: examples/ideko/pipeline.json on ../shared/data/ideko under the
     three, wall time, and whether every metric is identical (left out, with
     a message, without the recordings).
  Writes bench/results-slurm.json. Progress goes to the terminal as it runs.
"""
import json
import os
import shutil
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
CLUSTER = os.path.join(SRC, "tests", "slurm", "slurm-cluster.sh")
REPS = int(os.environ.get("BENCH_SLURM_REPS", "5"))
FAN = int(os.environ.get("BENCH_SLURM_FAN", "40"))
IDEKO = os.path.join(os.path.dirname(SRC), "shared", "data", "ideko")
EXECUTORS = {"threads": "threads", "process": "executor/process", "slurm": "executor/slurm"}


def say(msg):
    print(msg, flush=True)


def start_cluster():
    p = subprocess.run([CLUSTER, "start"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    if p.returncode == 77:
        say("SKIP: the one-node Slurm cluster cannot start here: " + p.stderr.strip())
        sys.exit(77)
    if p.returncode != 0:
        sys.exit("slurm-cluster.sh start: exit %d: %s" % (p.returncode, p.stderr[-500:]))
    env = subprocess.run([CLUSTER, "env"], stdout=subprocess.PIPE, text=True, check=True).stdout
    for line in env.splitlines():
        if line.startswith("export ") and "=" in line:
            k, v = line[len("export "):].split("=", 1)
            os.environ[k] = v.strip("'\"")


def lathe_env(tmp, models=False):
    env = dict(os.environ, LATHE_CACHE_DIR=os.path.join(tmp, "cache"))
    if not models:  # the testkit's transform/noop, and the two executors
        env["LATHE_PLUGIN_PATH"] = os.pathsep.join([
            os.path.join(BUILD, "tests", "plugins", "common", "testkit"),
            os.path.join(BUILD, "plugins", "executor-process"),
            os.path.join(BUILD, "plugins", "executor-slurm")])
    return env


def run(tmp, path, way, store, jobs=1, cwd=None, models=False):
    t = time.perf_counter()
    p = subprocess.run([LATHE, "run", "--json", "--no-cache", "-j", str(jobs), "--executor",
                        EXECUTORS[way], "--store", store, path], env=lathe_env(tmp, models),
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=3600, cwd=cwd)
    wall = time.perf_counter() - t
    if p.returncode != 0:
        sys.exit("%s on %s: exit %d: %s" % (way, path, p.returncode, p.stderr.decode()[-600:]))
    return wall, json.loads(p.stdout)


def queue_empty():
    out = subprocess.run(["squeue", "-h", "-o", "%i"], stdout=subprocess.PIPE, text=True).stdout
    return out.strip() == ""


def latency(tmp, results):
    path = os.path.join(tmp, "one.json")
    json.dump(graph("chain", 1), open(path, "w"))
    run(tmp, path, "process", os.path.join(tmp, "warm"))  # fills the plugin cache, untimed
    walls = {w: [] for w in EXECUTORS}
    for rep in range(REPS):
        for way in EXECUTORS:
            wall, res = run(tmp, path, way, os.path.join(tmp, "lat-%s-%d" % (way, rep)))
            assert res["status"] == "succeeded"
            walls[way].append(wall)
            say("  latency rep %d %-8s %.3f s" % (rep + 1, way, wall))
    out = {}
    for way, v in walls.items():
        out[way] = {"min_s": min(v), "median_s": statistics.median(v), "max_s": max(v)}
    slurm = out["slurm"]["median_s"]
    out["slurm_minus_threads_s"] = slurm - out["threads"]["median_s"]
    out["airflow_reference_s"] = 60.0
    out["kfp_argo_reference_s"] = [5.0, 15.0]
    out["ratio_vs_airflow_60s"] = 60.0 / slurm
    out["ratio_vs_kfp_5s"] = 5.0 / slurm
    results["latency_one_noop_node"] = out
    say("one no-op node end to end (median of %d): threads %.3f s, process %.3f s, slurm %.3f s"
        % (REPS, out["threads"]["median_s"], out["process"]["median_s"], slurm))
    say("  slurm is %.0fx under Airflow's 60 s a task, %.1fx under KFP/Argo's 5 s a step"
        % (60.0 / slurm, 5.0 / slurm))


def throughput(tmp, results):
    path = os.path.join(tmp, "fan.json")
    json.dump(graph("fan", FAN), open(path, "w"))
    walls = []
    for rep in range(max(1, REPS // 2)):
        wall, res = run(tmp, path, "slurm", os.path.join(tmp, "fan-%d" % rep), jobs=FAN)
        assert res["status"] == "succeeded" and len(res["nodes"]) == FAN
        walls.append(wall)
        say("  fan-out of %d under slurm, rep %d: %.2f s" % (FAN, rep + 1, wall))
    # Slurm alone: the same number of trivial jobs, submitted one after another.
    raw = []
    logdir = os.path.join(tmp, "raw-logs")
    os.makedirs(logdir, exist_ok=True)
    for rep in range(max(1, REPS // 2)):
        t = time.perf_counter()
        for i in range(FAN):
            subprocess.run(["sbatch", "--parsable", "--job-name", "bench-raw", "-o",
                            os.path.join(logdir, "%d-%d.out" % (rep, i)), "--wrap", "true"],
                           stdout=subprocess.PIPE, check=True)
        submitted = time.perf_counter() - t
        while not queue_empty():
            time.sleep(0.05)
        raw.append((submitted, time.perf_counter() - t))
        say("  %d x sbatch --wrap true, rep %d: submitted in %.2f s, all done in %.2f s"
            % (FAN, rep + 1, submitted, raw[-1][1]))
    lathe_s = statistics.median(walls)
    raw_done = statistics.median(r[1] for r in raw)
    raw_sub = statistics.median(r[0] for r in raw)
    results["throughput_fan"] = {
        "nodes": FAN, "lathe_seconds": walls, "lathe_tasks_per_s": FAN / lathe_s,
        "raw_sbatch_submit_s": raw_sub, "raw_sbatch_submit_per_s": FAN / raw_sub,
        "raw_sbatch_done_s": raw_done, "raw_tasks_per_s": FAN / raw_done,
        "ratio_lathe_vs_raw_end_to_end": raw_done / lathe_s}
    say("fan-out of %d no-op nodes under slurm: %.2f s -> %.1f tasks/s end to end; "
        "Slurm alone (%d sbatch --wrap true): %.1f submissions/s, %.1f tasks/s end to end "
        "(Lathe at %.2fx Slurm's own rate)" % (FAN, lathe_s, FAN / lathe_s, FAN, FAN / raw_sub,
                                               FAN / raw_done, raw_done / lathe_s))


def ideko(tmp, results):
    if not os.path.isdir(IDEKO):
        say("IDEKO left out: no recordings at %s" % IDEKO)
        results["ideko"] = "left out: no recordings"
        return
    work = os.path.join(tmp, "ideko")
    os.makedirs(work)
    p = json.load(open(os.path.join(SRC, "examples", "ideko", "pipeline.json")))
    for n in p["nodes"]:
        if n["use"] == "source/recordings":
            n["with"]["path"] = IDEKO
    json.dump(p, open(os.path.join(work, "pipeline.json"), "w"))
    out, metrics = {}, {}
    for way in EXECUTORS:
        wall, res = run(tmp, "pipeline.json", way, os.path.join(work, "store-" + way), jobs=2,
                        cwd=work, models=True)
        out[way] = wall
        metrics[way] = {k: v for k, v in res["metrics"].items() if k != "register.version"}
        say("  IDEKO (examples/ideko/pipeline.json, -j 2) under %-8s %.1f s" % (way, wall))
    same = metrics["threads"] == metrics["process"] == metrics["slurm"]
    results["ideko"] = {"pipeline": "examples/ideko/pipeline.json", "jobs": 2, "seconds": out,
                        "identical_metrics": same,
                        "ratio_process_vs_threads": out["process"] / out["threads"],
                        "ratio_slurm_vs_threads": out["slurm"] / out["threads"]}
    say("IDEKO: threads %.1f s, process %.1f s (%.2fx), slurm %.1f s (%.2fx); metrics identical: %s"
        % (out["threads"], out["process"], out["process"] / out["threads"], out["slurm"],
           out["slurm"] / out["threads"], same))
    if not same:
        sys.exit("IDEKO metrics differ between executors")


def main():
    if not shutil.which("sbatch"):
        say("SKIP: sbatch not found (scripts/deps.sh installs slurm-wlm)")
        sys.exit(77)
    start_cluster()
    results = {"reps": REPS}
    with tempfile.TemporaryDirectory(prefix="lathe-bench-slurm-") as tmp:
        latency(tmp, results)
        throughput(tmp, results)
        ideko(tmp, results)
    results["load_average"] = os.getloadavg()
    out = os.path.join(SRC, "bench", "results-slurm.json")
    json.dump(results, open(out, "w"), indent=2)
    say("wrote " + out)


if __name__ == "__main__":
    main()
