#!/usr/bin/python3
"""lathe report: time to write a report, its size, and time to first render (issue 16).

Usage: bench/report/bench_report.py BUILD_DIR
  Makes two runs in scratch stores: a 1,000-trial study (tuner/grid over
  testkit's transform/objective, 20 "loss" reports a trial, NaN above
  x = 0.9) and, when ../shared/data/ideko is present, the IDEKO example
  reduced as tests/integration/lib.sh's ideko_reduced reduces it (10
  recordings a class, 12 epochs). Then, BENCH_REPORT_REPS times (default 5):
  - write: wall time of `lathe report RUN -o FILE` (the whole process, store
    opening included), median; and its CPU time (user + system, from
    getrusage of the child), which a loaded machine (other jobs on its 2
    cores: the load average is recorded) does not stretch as it does the
    wall time;
  - render: headless Chromium's --dump-dom of the file; the page writes
    performance.now() at its load event into <body data-rendered> (report.c's
    lathe_report_page_end), so this is the time from navigation start to the
    load event, parsing, layout and first paint of the SVG included, median.
  Writes bench/results-report.json.

Goals (issue 16): write < 0.2 s; first render of a 1,000-trial study < 1 s.
"""
import json
import os
import re
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
SRC = os.path.dirname(os.path.dirname(HERE))
BUILD = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else "build")
LATHE = os.path.join(BUILD, "lathe")
REPS = int(os.environ.get("BENCH_REPORT_REPS", "5"))
IDEKO = os.path.join(os.path.dirname(SRC), "shared", "data", "ideko")
TESTKIT = os.path.join(BUILD, "tests", "plugins", "common", "testkit")


def lathe(args, env=None):
    p = subprocess.run([LATHE] + args, capture_output=True, text=True, env=env, timeout=3600)
    if p.returncode != 0:
        sys.exit("lathe %s: exit %d: %s" % (" ".join(args), p.returncode, p.stderr[-800:]))
    return p.stdout


def study_run(tmp):
    xs = [round(-1 + 2 * i / 999, 6) for i in range(1000)]
    pipe = {"name": "quad1000", "seed": 3, "nodes": [
        {"id": "tune", "use": "tuner/grid",
         "with": {"objective": "f.value", "direction": "minimize", "space": {"f.x": xs},
                  "parallel_trials": 2},
         "trial": {"nodes": [{"id": "f", "use": "transform/objective",
                              "with": {"steps": 20, "nan_above": 0.9}}]}}]}
    path = os.path.join(tmp, "study.json")
    json.dump(pipe, open(path, "w"))
    store = os.path.join(tmp, "study-store")
    env = dict(os.environ, LATHE_PLUGIN_PATH=TESTKIT, LATHE_CACHE_DIR=os.path.join(tmp, "cache"))
    out = json.loads(lathe(["run", "--json", "--store", store, path], env))
    return store, out["run_id"]


def ideko_run(tmp):
    if not os.path.isdir(IDEKO):
        print("IDEKO skipped: %s is absent" % IDEKO)
        return None
    p = json.load(open(os.path.join(SRC, "examples", "ideko", "pipeline.json")))
    for n in p["nodes"]:
        if n["use"] == "source/recordings":
            n["with"].update(path=IDEKO, max_per_class=10)
        if n["use"].startswith("model/"):
            n["with"].update(epochs=12)
        if n["use"] == "transform/split":
            n["with"]["test_fraction"] = 0.3
    path = os.path.join(tmp, "ideko.json")
    json.dump(p, open(path, "w"))
    store = os.path.join(tmp, "ideko-store")
    out = json.loads(lathe(["run", "--json", "--store", store, path]))
    return store, out["run_id"]


def chromium():
    for name in ("chromium", "chromium-browser", "google-chrome"):
        if shutil.which(name):
            return shutil.which(name)
    return None


def render_ms(html, tmp):
    with tempfile.TemporaryDirectory(prefix="lathe-chromium-", dir=tmp) as profile:
        p = subprocess.run([chromium(), "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
                            "--disable-extensions", "--user-data-dir=" + profile, "--dump-dom",
                            "file://" + html], capture_output=True, text=True, timeout=120)
    m = re.search(r'data-rendered="([0-9.]+)"', p.stdout)
    return float(m.group(1)) if m else None


def bench(name, store, run_id, tmp):
    html = os.path.join(tmp, name + ".html")
    writes, cpus = [], []
    for _ in range(REPS):
        t = time.perf_counter()
        r0 = resource.getrusage(resource.RUSAGE_CHILDREN)
        lathe(["report", "--store", store, run_id, "-o", html])
        r1 = resource.getrusage(resource.RUSAGE_CHILDREN)
        writes.append(time.perf_counter() - t)
        cpus.append(r1.ru_utime - r0.ru_utime + r1.ru_stime - r0.ru_stime)
    renders = [render_ms(html, tmp) for _ in range(REPS)] if chromium() else []
    renders = [r for r in renders if r is not None]
    res = {"write_s_median": round(statistics.median(writes), 4), "write_s_min": round(min(writes), 4),
           "write_s_max": round(max(writes), 4), "write_cpu_s_median": round(statistics.median(cpus), 4),
           "load_average_1min": round(os.getloadavg()[0], 2), "bytes": os.path.getsize(html),
           "first_render_ms_median": round(statistics.median(renders), 1) if renders else None,
           "first_render_ms_max": round(max(renders), 1) if renders else None}
    print("%-10s write %.3f s (median of %d; CPU %.3f s, load %.1f), %d bytes, first render %s ms" %
          (name, res["write_s_median"], REPS, res["write_cpu_s_median"], res["load_average_1min"], res["bytes"],
           res["first_render_ms_median"]))
    return res


def main():
    tmp = tempfile.mkdtemp(prefix="lathe-bench-report-")
    try:
        results = {"reps": REPS, "goals": {"write_s": 0.2, "first_render_ms": 1000},
                   "host": os.uname().nodename, "cpus": os.cpu_count()}
        store, rid = study_run(tmp)
        results["study_1000_trials"] = bench("study1000", store, rid, tmp)
        ideko = ideko_run(tmp)
        if ideko:
            results["ideko_reduced"] = bench("ideko", ideko[0], ideko[1], tmp)
        out = os.path.join(SRC, "bench", "results-report.json")
        json.dump(results, open(out, "w"), indent=1)
        print("wrote", out)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
