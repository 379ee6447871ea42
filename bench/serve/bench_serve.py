#!/usr/bin/python3
"""`lathe serve` against FastAPI + Uvicorn + scikit-learn (issue 14).

Usage: /usr/bin/python3 bench/serve/bench_serve.py BUILD_DIR   (bench/run.sh serve)
  Trains a random forest on examples/iris/iris.csv on both sides with the same
  hyperparameters (FOREST below: 100 trees, max_depth 8, sqrt features,
  bootstrap, gini), registers Lathe's as iris@bench and serves it with
  `lathe serve` (access log off, as Uvicorn's is at log level warning); the
  reference is bench/serve/ref_server.py (one Uvicorn worker, the default). Both
  answer POST /predict with the same body and the same answer's shape. Then, for
  each server, after a warm-up:
    throughput  wrk at saturation (bench/serve/wrk-predict.lua, one row a request)
    latency     build/bench/rate: an open-loop client at a fixed rate (1000 req/s,
                then 100 req/s, which a server that cannot sustain the first
                may); p50/p99/max from each request's due time, so a server that
                falls behind is charged for its queue; "unsent" is what it
                could not take at all
    reload      (Lathe only) the fixed-rate run for 60 s while the alias moves
                between two versions and POST /reload swaps them every second:
                errors, and how many reloads swapped
    rss         VmRSS after the load, VmHWM (peak) from /proc/PID/status
  Prints a table and writes bench/results-serve.json with the ratios.
  Environment (defaults): BENCH_SERVE_THREADS (2), BENCH_SERVE_CONNECTIONS (32),
  BENCH_SERVE_SECONDS (10) for wrk; BENCH_SERVE_RATE (1000 req/s),
  BENCH_SERVE_LOW_RATE (100), BENCH_SERVE_RATE_SECONDS (5),
  BENCH_SERVE_RATE_CONNECTIONS (32) for rate;
  BENCH_SERVE_WARMUP_SECONDS (2), BENCH_SERVE_RELOAD_SECONDS (60, the run with a
  version swap every second). Needs wrk, python3-fastapi, python3-uvicorn,
  python3-sklearn (scripts/deps.sh) and build/bench/rate (-Dbench=true).
  Everything (two servers, wrk's threads, the client) shares this machine's
  cores: the figures compare the two servers under the same conditions, they
  are not either server's capacity on a machine of its own.
"""
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))
import benchlib  # noqa: E402
from benchlib import closed_port, fmt, ratio  # noqa: E402

SRC = os.path.dirname(os.path.dirname(HERE))
BUILD = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else "build")
LATHE = os.path.join(BUILD, "lathe")
RATE = os.path.join(BUILD, "bench", "rate")
LUA = os.path.join(HERE, "wrk-predict.lua")
OUT = os.path.join(SRC, "bench", "results-serve.json")


def env_num(name, default, kind=int):
    v = os.environ.get(name)
    return kind(v) if v else default


WRK_T = env_num("BENCH_SERVE_THREADS", 2)
WRK_C = env_num("BENCH_SERVE_CONNECTIONS", 32)
WRK_D = env_num("BENCH_SERVE_SECONDS", 10)
RATE_RPS = env_num("BENCH_SERVE_RATE", 1000)
LOW_RPS = env_num("BENCH_SERVE_LOW_RATE", 100)
RATE_S = env_num("BENCH_SERVE_RATE_SECONDS", 5)
RATE_C = env_num("BENCH_SERVE_RATE_CONNECTIONS", 32)
WARMUP_S = env_num("BENCH_SERVE_WARMUP_SECONDS", 2)
RELOAD_S = env_num("BENCH_SERVE_RELOAD_SECONDS", 60)
SEED = 0
# The same forest on both sides; Lathe's oob_score is off (scikit-learn's default).
FOREST = {"n_estimators": 100, "max_depth": 8, "min_samples_split": 2, "min_samples_leaf": 1,
          "max_features": "sqrt", "bootstrap": True, "criterion": "gini"}
LATHE_FOREST = dict(FOREST, oob_score=False)
BODY = '{"rows": [[5.1, 3.5, 1.4, 0.2]]}'


def post(url, body, timeout=10):
    r = urllib.request.Request(url, data=body.encode(), method="POST",
                               headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(r, timeout=timeout) as resp:
            return resp.status, resp.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()


def wait_health(url, proc, log, seconds=60):
    for _ in range(seconds * 10):
        if proc.poll() is not None:
            sys.exit("bench: %s exited: %s" % (url, open(log, errors="replace").read()[-800:]))
        try:
            with urllib.request.urlopen(url + "/health", timeout=1) as resp:
                if resp.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.1)
    sys.exit("bench: %s did not become healthy in %d s" % (url, seconds))


def start_lathe(tmp):
    shutil.copy(os.path.join(SRC, "examples", "iris", "iris.csv"), tmp)
    pipeline = {"lathe": 1, "name": "bench-serve", "seed": SEED, "nodes": [
        {"id": "data", "use": "source/csv", "with": {"path": "iris.csv", "label": "species"}},
        {"id": "model", "use": "model/forest", "in": {"train": "data"}, "with": LATHE_FOREST},
        {"id": "register", "use": "registry/local", "in": {"model": "model"},
         "with": {"name": "iris", "alias": "bench"}}]}
    with open(os.path.join(tmp, "p.json"), "w") as f:
        json.dump(pipeline, f)
    r = subprocess.run([LATHE, "run", "--json", "p.json"], cwd=tmp, capture_output=True, text=True)
    if r.returncode != 0:
        sys.exit("bench: training the Lathe forest failed: %s" % r.stderr[-800:])
    # A second version (another seed) for the reload run to swap in and out.
    pipeline["seed"] = SEED + 1
    pipeline["nodes"][2]["with"]["alias"] = "spare"
    with open(os.path.join(tmp, "p2.json"), "w") as f:
        json.dump(pipeline, f)
    r = subprocess.run([LATHE, "run", "--json", "p2.json"], cwd=tmp, capture_output=True, text=True)
    if r.returncode != 0:
        sys.exit("bench: training the second Lathe forest failed: %s" % r.stderr[-800:])
    log = os.path.join(tmp, "lathe-serve.log")
    out = os.path.join(tmp, "lathe-serve.json")
    p = subprocess.Popen([LATHE, "serve", "iris@bench", "--port", "0", "--json", "--no-access-log"],
                         cwd=tmp, stdout=open(out, "w"), stderr=open(log, "w"))
    for _ in range(100):
        if os.path.getsize(out) > 0 or p.poll() is not None:
            break
        time.sleep(0.1)
    try:
        url = json.load(open(out))["url"]
    except (ValueError, KeyError):
        p.kill()
        sys.exit("bench: lathe serve did not start: %s" % open(log).read()[-800:])
    wait_health(url, p, log)
    return p, url


def start_ref(tmp, env):
    port = closed_port()
    log = os.path.join(tmp, "ref.log")
    p = subprocess.Popen([benchlib.PY, os.path.join(HERE, "ref_server.py"), "--port", str(port),
                          "--seed", str(SEED), "--params", json.dumps(FOREST)],
                         stdout=open(log, "w"), stderr=subprocess.STDOUT, env=env)
    url = "http://127.0.0.1:%d" % port
    wait_health(url, p, log)
    return p, url


def agreement(urls):
    """Both answer the same shape; how often their forests agree on iris's 150 rows."""
    import csv
    rows = [[float(v) for v in r[:4]] for r in list(csv.reader(open(
        os.path.join(SRC, "examples", "iris", "iris.csv"))))[1:]]
    answers = {}
    for name, url in urls.items():
        code, data = post(url + "/predict", json.dumps({"rows": rows}))
        if code != 200:
            sys.exit("bench: %s /predict answered %d: %s" % (name, code, data[:300]))
        answers[name] = json.loads(data)
    a, b = answers["lathe"], answers["ref"]
    # Lathe adds what routing needs (request_id, variant): the reference's
    # members must all be there, with the same classes.
    if not set(b) <= set(a) or a["classes"] != b["classes"]:
        sys.exit("bench: the two answers differ in shape: %s vs %s" % (sorted(a), sorted(b)))
    same = sum(x == y for x, y in zip(a["predictions"], b["predictions"]))
    return same / len(rows)


def wrk(url, seconds):
    r = subprocess.run(["wrk", "-t%d" % WRK_T, "-c%d" % WRK_C, "-d%ds" % seconds, "--latency",
                        "--timeout", "5s", "-s", LUA, url], capture_output=True, text=True,
                       timeout=seconds + 60, env=dict(os.environ, WRK_BODY=BODY))
    m = re.search(r"^WRK_JSON (.*)$", r.stdout, re.M)
    if r.returncode != 0 or not m:
        sys.exit("bench: wrk failed: %s %s" % (r.stdout[-600:], r.stderr[-600:]))
    d = json.loads(m.group(1))
    d["rps"] = d["requests"] / (d["duration_us"] / 1e6)
    d["errors_total"] = sum(d["errors"].values()) + d["non2xx"]
    return d


def rate(url, rps=RATE_RPS, seconds=None):
    seconds = seconds or RATE_S
    r = subprocess.run([RATE, url, "--rate", str(rps), "--duration", str(seconds),
                        "--connections", str(RATE_C), "--timeout-ms", "2000", "--body", BODY],
                       capture_output=True, text=True, timeout=seconds + 60)
    if r.returncode != 0:
        sys.exit("bench: %s failed: %s" % (RATE, r.stderr[-600:]))
    d = json.loads(r.stdout.strip().splitlines()[-1])
    d["errors_total"] = sum(d["errors"].values()) + d["non2xx"] + d["unsent"]
    return d


def rate_with_reloads(url, tmp):
    """The fixed-rate run for RELOAD_S while another thread moves the alias
    between versions 1 and 2 and POSTs /reload every second: each reload
    swaps the served version under load."""
    answers, swaps, stop = [], [], threading.Event()

    def reloader():
        version = 1
        while not stop.wait(1.0):
            version = 3 - version
            subprocess.run([LATHE, "models", "alias", "iris", "bench", str(version)], cwd=tmp,
                           capture_output=True)
            try:
                code, body = post(url + "/reload", "{}", timeout=5)
            except OSError as e:
                code, body = "error: %s" % e, ""
            answers.append(code)
            try:
                swaps.append(len(json.loads(body).get("changed", [])))
            except (ValueError, AttributeError):
                pass

    t = threading.Thread(target=reloader)
    t.start()
    try:
        d = rate(url, seconds=RELOAD_S)
    finally:
        stop.set()
        t.join()
    d["reload_answers"] = answers
    d["reloads"] = len(answers)
    d["reloads_that_swapped"] = sum(1 for n in swaps if n > 0)
    d["reload_available"] = bool(answers) and all(a == 200 for a in answers)
    return d


def memory(pid):
    out = {}
    for line in open("/proc/%d/status" % pid):
        k, _, v = line.partition(":")
        if k in ("VmRSS", "VmHWM"):
            out[k.lower() + "_mib"] = int(v.split()[0]) / 1024.0
    return out


def main():
    for what, path in (("wrk", shutil.which("wrk")), ("build/bench/rate (meson -Dbench=true)",
                                                       RATE if os.path.exists(RATE) else None)):
        if not path:
            sys.exit("bench: %s is missing; run bench/run.sh serve (it installs and builds it)" % what)
    ref_env = dict(os.environ, OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1")
    config = benchlib.blas_config(LATHE, dict(os.environ), ref_env)
    versions = subprocess.run([benchlib.PY, "-c", "import json, sklearn, fastapi, uvicorn; print("
                               "json.dumps([sklearn.__version__, fastapi.__version__, "
                               "uvicorn.__version__]))"], capture_output=True, text=True, env=ref_env)
    config.update({"forest": FOREST, "wrk": {"threads": WRK_T, "connections": WRK_C,
                                             "seconds": WRK_D},
                   "rate": {"rps": RATE_RPS, "low_rps": LOW_RPS, "seconds": RATE_S,
                            "connections": RATE_C},
                   "warmup_seconds": WARMUP_S, "reload_seconds": RELOAD_S, "body": json.loads(BODY),
                   "lathe_access_log": False, "uvicorn_workers": 1, "cpus": os.cpu_count()})
    try:
        config["sklearn_fastapi_uvicorn"] = json.loads(versions.stdout)
    except ValueError:
        pass
    tmp = tempfile.mkdtemp(prefix="lathe-bench-serve-")
    procs = {}
    try:
        procs["lathe"], lathe_url = start_lathe(tmp)
        procs["ref"], ref_url = start_ref(tmp, ref_env)
        urls = {"lathe": lathe_url, "ref": ref_url}
        agree = agreement(urls)
        print("Both servers up; their forests agree on %.1f%% of iris's rows" % (100 * agree))
        res = {}
        for name in ("lathe", "ref"):
            print("%s: warm-up %d s, wrk %d s, %d then %d req/s for %d s each"
                  % (name, WARMUP_S, WRK_D, RATE_RPS, LOW_RPS, RATE_S), flush=True)
            wrk(urls[name], WARMUP_S)
            r = {"throughput": wrk(urls[name], WRK_D), "fixed_rate": rate(urls[name]),
                 "low_rate": rate(urls[name], LOW_RPS)}
            if name == "lathe":
                print("lathe: %d req/s for %d s, the version swapped by POST /reload every second"
                      % (RATE_RPS, RELOAD_S), flush=True)
                r["reload"] = rate_with_reloads(urls[name], tmp)
            r["memory"] = memory(procs[name].pid)
            res[name] = r
    finally:
        for p in procs.values():
            p.terminate()
        for p in procs.values():
            try:
                p.wait(timeout=10)
            except subprocess.TimeoutExpired:
                p.kill()
        shutil.rmtree(tmp, ignore_errors=True)

    L, R = res["lathe"], res["ref"]
    summary = {
        "throughput_rps": {"lathe": L["throughput"]["rps"], "ref": R["throughput"]["rps"]},
        "throughput_ratio_lathe_over_ref": ratio(L["throughput"]["rps"], R["throughput"]["rps"]),
        "p99_ms_at_rate": {"lathe": L["fixed_rate"]["latency_us"]["p99"] / 1e3,
                           "ref": R["fixed_rate"]["latency_us"]["p99"] / 1e3},
        "p99_ratio_ref_over_lathe": ratio(R["fixed_rate"]["latency_us"]["p99"],
                                          L["fixed_rate"]["latency_us"]["p99"]),
        "p99_ms_at_low_rate": {"lathe": L["low_rate"]["latency_us"]["p99"] / 1e3,
                               "ref": R["low_rate"]["latency_us"]["p99"] / 1e3},
        "rss_peak_mib": {"lathe": L["memory"]["vmhwm_mib"], "ref": R["memory"]["vmhwm_mib"]},
        "rss_ratio_lathe_over_ref": ratio(L["memory"]["vmhwm_mib"], R["memory"]["vmhwm_mib"]),
        "errors_with_reload": L["reload"]["errors_total"],
        "reload_available": L["reload"]["reload_available"],
        "prediction_agreement": agree,
    }
    print()
    print("%-34s %14s %14s" % ("", "lathe serve", "FastAPI+sklearn"))
    rows = [("throughput (req/s, wrk)", "%.0f", lambda r: r["throughput"]["rps"]),
            ("  wrk p99 at saturation (ms)", "%.2f", lambda r: r["throughput"]["latency_us"]["p99"] / 1e3),
            ("  wrk errors + non-2xx", "%d", lambda r: r["throughput"]["errors_total"]),
            ("at %d req/s: achieved req/s" % RATE_RPS, "%.0f", lambda r: r["fixed_rate"]["achieved_rps"]),
            ("  p50 (ms)", "%.2f", lambda r: r["fixed_rate"]["latency_us"]["p50"] / 1e3),
            ("  p99 (ms)", "%.2f", lambda r: r["fixed_rate"]["latency_us"]["p99"] / 1e3),
            ("  max (ms)", "%.2f", lambda r: r["fixed_rate"]["latency_us"]["max"] / 1e3),
            ("  errors (incl. unsent)", "%d", lambda r: r["fixed_rate"]["errors_total"]),
            ("at %d req/s: p50 (ms)" % LOW_RPS, "%.2f", lambda r: r["low_rate"]["latency_us"]["p50"] / 1e3),
            ("  p99 (ms)", "%.2f", lambda r: r["low_rate"]["latency_us"]["p99"] / 1e3),
            ("  errors (incl. unsent)", "%d", lambda r: r["low_rate"]["errors_total"]),
            ("with /reload every 1 s: errors", "%d", lambda r: r["reload"]["errors_total"] if "reload" in r else None),
            ("  p99 (ms)", "%.2f", lambda r: r["reload"]["latency_us"]["p99"] / 1e3 if "reload" in r else None),
            ("RSS after load (MiB)", "%.1f", lambda r: r["memory"]["vmrss_mib"]),
            ("peak RSS, VmHWM (MiB)", "%.1f", lambda r: r["memory"]["vmhwm_mib"])]
    for label, spec, get in rows:
        print("%-34s %14s %14s" % (label, fmt(get(L), spec), fmt(get(R), spec)))
    print()
    print("throughput lathe/ref %sx; p99 at %d req/s ref/lathe %sx; peak RSS lathe/ref %s"
          % (fmt(summary["throughput_ratio_lathe_over_ref"], "%.1f"), RATE_RPS,
             fmt(summary["p99_ratio_ref_over_lathe"], "%.1f"),
             fmt(summary["rss_ratio_lathe_over_ref"], "%.2f")))
    rl = L["reload"]
    print("reload: %d POST /reload (%d answered 200), %d swapped the version; %d errors over %d s"
          % (rl["reloads"], sum(a == 200 for a in rl["reload_answers"]), rl["reloads_that_swapped"],
             rl["errors_total"], RELOAD_S))
    with open(OUT, "w") as f:
        json.dump({"config": config, "summary": summary, "results": res}, f, indent=1)
        f.write("\n")
    print("wrote %s" % os.path.relpath(OUT, SRC))


if __name__ == "__main__":
    main()
