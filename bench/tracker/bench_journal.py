#!/usr/bin/python3
"""Metric points a training loop logs into the tracker journal, and shipped.

Usage: bench/tracker/bench_journal.py BUILD_DIR [journal|mlflow|all]
  journal (and all, the default): a study of BENCH_TRACKER_TRIALS (default 10) trials of the testkit's
  transform/objective, each reporting BENCH_TRACKER_STEPS (default 100000)
  "loss" points as fast as it can
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
  mlflow (and all): the same study (BENCH_MLFLOW_STEPS points a trial,
  default 5000) with --tracker mlflow while the MLflow test server
  (tests/mlflow) is unreachable, so every point waits in the journal; then a
  fresh server on a loopback ephemeral port and `lathe tracker sync`, timed
  (wall, the whole process) and checked (every point in MLflow once),
  BENCH_TRACKER_REPS times: points/s min/median/max. For context, the
  issue's reference (MLflow's Python client, 58 ms per log_batch of 10:
  ~170 points/s; it cannot be installed here) and the server's own ceiling:
  /usr/bin/python3's http.client on one keep-alive connection, log-batch
  requests of 1000 prebuilt points to the same server. Writes
  bench/results-tracker-mlflow.json. With BENCH_TRACKER_ROW_POINTS=K the
  journal is rewritten before the sync so that each metrics row carries up to
  K points (tests/integration/tracker-merge-rows.py); then
  results-tracker-mlflow-rowsK.json. Without it the journal is as the
  recorder writes it: a chunk of a node's reports per row.

Goal (issue 13): >= 1M points/s into the journal; >= 50k points/s shipped.
"""
import http.client
import json
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from benchlib import closed_port  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
SRC = os.path.dirname(os.path.dirname(HERE))
# Points a trial reports: 10 trials x 100000, a million points a run (the
# journal's goal is a rate of a million a second).
STEPS = int(os.environ.get("BENCH_TRACKER_STEPS") or "100000")
# For the MLflow sync: fewer (a sync of a million points to a Python server
# takes long); BENCH_MLFLOW_STEPS changes it.
MLFLOW_STEPS = int(os.environ.get("BENCH_MLFLOW_STEPS") or "5000")
# BENCH_MLFLOW_SERVER: another copy of the server (an older tree's, to compare).
MLFLOW_SERVER = os.environ.get("BENCH_MLFLOW_SERVER") or \
    os.path.join(SRC, "tests", "mlflow", "mlflow_server.py")
MERGE_ROWS = os.path.join(SRC, "tests", "integration", "tracker-merge-rows.py")
# The reference: MLflow's Python client, 58 ms per log_batch of 10.
MLFLOW_CLIENT_REFERENCE = 10 / 0.058


def pipeline(path, trials, steps=STEPS):
    xs = [round(0.1 * (i + 1), 3) for i in range(trials)]
    p = {"name": "bench", "seed": 1, "nodes": [
        {"id": "tune", "use": "tuner/grid",
         "with": {"objective": "f.value", "direction": "minimize", "space": {"f.x": xs},
                  "parallel_trials": 2},
         "trial": {"nodes": [{"id": "f", "use": "transform/objective",
                              "with": {"steps": steps}}]}}]}
    with open(path, "w") as f:
        json.dump(p, f)


def run(lathe, args, env):
    t0 = time.perf_counter()
    p = subprocess.run([lathe] + args, capture_output=True, text=True, env=env, timeout=600)
    wall = time.perf_counter() - t0
    m = re.search(r"nodes\s+([0-9.]+) ms", p.stderr)
    return p, wall, float(m.group(1)) / 1000 if m else None


def spread(xs):
    return {"min": min(xs), "median": statistics.median(xs), "max": max(xs), "all": xs}


def journal_bench(build, lathe, trials, reps):
    plugins = [os.path.join(build, "tests", "plugins", "common", d)
               for d in ("testkit", "flaky_tracker")]
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


# ---------------------------------------------------------------- tracker/mlflow

class MlflowServer:
    """The MLflow test server on loopback ephemeral ports, stopped by its pid."""

    def __init__(self, tmp):
        self.dir = tempfile.mkdtemp(dir=tmp, prefix="srv-")
        ready = os.path.join(self.dir, "server.json")
        self.log = open(os.path.join(self.dir, "server.log"), "w")
        self.proc = subprocess.Popen(
            ["/usr/bin/python3", MLFLOW_SERVER, "serve", "--port", "0", "--control-port", "0",
             "--data", os.path.join(self.dir, "data"), "--ready-file", ready],
            stdout=subprocess.DEVNULL, stderr=self.log)
        for _ in range(200):
            if os.path.exists(ready):
                break
            if self.proc.poll() is not None:
                sys.exit("bench: the MLflow test server did not start:\n" + open(self.log.name).read())
            time.sleep(0.05)
        else:
            self.stop()
            sys.exit("bench: the MLflow test server did not start in 10 s")
        with open(ready) as f:
            r = json.load(f)
        self.port, self.control = r["port"], r["control_port"]
        self.uri = "http://127.0.0.1:%d" % self.port

    def state(self):
        with urllib.request.urlopen("http://127.0.0.1:%d/state" % self.control, timeout=60) as f:
            return json.load(f)

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()
        shutil.rmtree(self.dir, ignore_errors=True)



def ceiling(srv, points):
    """The server's own ceiling: one keep-alive connection, log-batch requests
    of 1000 points built beforehand (what no client can beat)."""
    c = http.client.HTTPConnection("127.0.0.1", srv.port, timeout=60)

    def post(endpoint, obj):
        c.request("POST", "/api/2.0/mlflow/" + endpoint, json.dumps(obj).encode(),
                  {"Content-Type": "application/json"})
        r = c.getresponse()
        body = r.read()
        if r.status != 200:
            sys.exit("bench: the ceiling client got %d: %s" % (r.status, body[:300]))
        return json.loads(body)

    rid = post("runs/create", {"experiment_id": "0", "run_name": "ceiling"})["run"]["info"]["run_id"]
    ts = int(time.time() * 1000)
    bodies = [json.dumps({"run_id": rid, "metrics": [
        {"key": "loss", "value": 1.0 / (i + j + 1), "timestamp": ts, "step": i + j}
        for j in range(min(1000, points - i))]}).encode() for i in range(0, points, 1000)]
    t0 = time.perf_counter()
    for b in bodies:
        c.request("POST", "/api/2.0/mlflow/runs/log-batch", b, {"Content-Type": "application/json"})
        r = c.getresponse()
        r.read()
        if r.status != 200:
            sys.exit("bench: the ceiling client got %d" % r.status)
    wall = time.perf_counter() - t0
    c.close()
    return points / wall


def mlflow_bench(build, lathe, trials, reps):
    steps = MLFLOW_STEPS
    points = trials * steps
    plugins = [os.path.join(build, "tests", "plugins", "common", "testkit")]
    row_points = int(os.environ.get("BENCH_TRACKER_ROW_POINTS") or "0")
    out = {"points_per_run": points, "trials": trials, "steps": steps, "reps": reps,
           "row_points": row_points or "as recorded (a chunk of a node's reports a row)"}
    rates, ceilings = [], []
    with tempfile.TemporaryDirectory() as tmp:
        pipe = os.path.join(tmp, "p.json")
        pipeline(pipe, trials, steps)
        env = dict(os.environ, LATHE_PLUGIN_PATH=":".join(plugins), LATHE_MLFLOW_MAX_ATTEMPTS="1",
                   LATHE_MLFLOW_CONNECT_TIMEOUT_MS="1000", MLFLOW_EXPERIMENT_NAME="bench")
        for k in ("MLFLOW_TRACKING_TOKEN", "MLFLOW_TRACKING_USERNAME", "MLFLOW_TRACKING_PASSWORD",
                  "LATHE_TRACKER", "LATHE_PROFILE"):
            env.pop(k, None)
        for r in range(reps):
            store = os.path.join(tmp, f"mlflow-{r}")
            # Recorded with the server out of reach: every point waits in the journal.
            down = dict(env, MLFLOW_TRACKING_URI="http://127.0.0.1:%d" % closed_port())
            p, _, _ = run(lathe, ["run", "--store", store, "--tracker", "mlflow", pipe], down)
            if p.returncode != 0:
                sys.exit(f"bench: the run failed: {p.stderr.strip()[:400]}")
            if row_points:
                subprocess.run(["/usr/bin/python3", MERGE_ROWS, store, str(row_points)], check=True,
                               stdout=subprocess.DEVNULL)
            srv = MlflowServer(tmp)
            try:
                up = dict(env, MLFLOW_TRACKING_URI=srv.uri)
                p, wall, _ = run(lathe, ["tracker", "sync", "--store", store], up)
                if p.returncode != 0:
                    sys.exit(f"bench: sync failed: {p.stderr.strip()[:400]}")
                runs = srv.state()["tracking"]["runs"].values()
                got = sum(1 for x in runs for m in x["metrics"] if m["key"] == "f.loss")
                if got != points:
                    sys.exit(f"bench: MLflow holds {got} f.loss points, not {points}")
                rates.append(points / wall)
                ceilings.append(ceiling(srv, points))
            finally:
                srv.stop()
    out["sync_points_per_second"] = spread(rates)
    out["server_ceiling_points_per_second"] = spread(ceilings)
    out["mlflow_python_client_reference_points_per_second"] = MLFLOW_CLIENT_REFERENCE
    out["load_average_after"] = os.getloadavg()  # the machine is shared: context for the spread
    s, c = out["sync_points_per_second"], out["server_ceiling_points_per_second"]
    rows = f" (journal rows of up to {row_points} points)" if row_points else ""
    print(f"`lathe tracker sync` of {points} points{rows} to the MLflow test server: "
          f"{s['median']:.0f} points/s (min {s['min']:.0f}, max {s['max']:.0f}, {reps} reps)")
    print(f"  the server's ceiling (http.client, keep-alive, log-batch of 1000): "
          f"{c['median']:.0f} points/s (min {c['min']:.0f}, max {c['max']:.0f})")
    print(f"  reference, MLflow's Python client (issue 13, 58 ms per log_batch of 10): "
          f"{MLFLOW_CLIENT_REFERENCE:.0f} points/s; ratio {s['median'] / MLFLOW_CLIENT_REFERENCE:.0f}x")
    print(f"  goal >= 50000 points/s: {'met' if s['median'] >= 50000 else 'NOT met'} "
          f"(load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs)")
    name = "results-tracker-mlflow%s.json" % ("-rows%d" % row_points if row_points else "")
    with open(os.path.join(SRC, "bench", name), "w") as f:
        json.dump(out, f, indent=2)
        f.write("\n")


def main():
    if len(sys.argv) < 2 or (len(sys.argv) > 2 and sys.argv[2] not in ("journal", "mlflow", "all")):
        sys.exit(__doc__)
    what = sys.argv[2] if len(sys.argv) > 2 else "all"
    build = os.path.abspath(sys.argv[1])
    lathe = os.path.join(build, "lathe")
    trials = int(os.environ.get("BENCH_TRACKER_TRIALS", "10"))
    reps = int(os.environ.get("BENCH_TRACKER_REPS", "5"))
    if what in ("journal", "all"):
        journal_bench(build, lathe, trials, reps)
    if what in ("mlflow", "all"):
        mlflow_bench(build, lathe, trials, reps)


if __name__ == "__main__":
    main()
