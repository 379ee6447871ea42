#!/usr/bin/python3
"""source/lakefs against its references, on the lakeFS test server (tests/lakefs).

Usage: bench/lakefs/bench_lakefs.py BUILD_DIR
Writes bench/results-lakefs.json and prints three measures (min, median, max):

1. hit: the cost of an unchanged lakeFS source on a cache hit. A one-node
   pipeline (source/lakefs on iris.csv) rerun fully cached, against the same
   pipeline with source/csv on the same file: the difference of the medians is
   what the lakeFS source adds (goal: under 5 ms on loopback), and the server's
   request counts show how many round trips it took (goal: one).
2. throughput: a cold read of a BENCH_LAKEFS_MB (default 400) MB CSV object
   through the object cache (fresh LATHE_CACHE_DIR, fresh store), against the
   reference `curl` fetching the same object from the same server, plus
   source/csv reading the downloaded file locally: Lathe must do both parts, so
   the ratio is (curl + local read) / lakeFS read, as throughput (goal: >= 0.8).
   curl's download alone is given too.
3. rss: peak RSS of that cold read against source/csv reading the same file
   from disk, and against the object's size (goal: bounded by the parser, not
   by the object: the two runs' peaks close, whatever the object's size). With
   BENCH_LAKEFS_RSS_MB (default 1024) MB.

BENCH_LAKEFS_PARTS (default "hit,throughput,rss") chooses the measures;
BENCH_LAKEFS_REPS (default 21) the reruns of the hit measure. The results of
the parts measured are merged into bench/results-lakefs.json.

Both sides talk to the server directly (no Prism: it checks the protocol in
the tests, and would only add its own latency here).
"""
import json
import os
import random
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
SRC = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.dirname(HERE))
from benchlib import MeasuredBench  # noqa: E402

SERVER = os.path.join(SRC, "tests", "lakefs", "lakefs_server.py")
KEY, SECRET = "AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"


def summary(xs):
    return {"min": min(xs), "median": statistics.median(xs), "max": max(xs), "n": len(xs)}


class Server:
    def __init__(self, tmp):
        ready = os.path.join(tmp, "server.json")
        self.log = open(os.path.join(tmp, "server.log"), "wb")
        self.p = subprocess.Popen(["/usr/bin/python3", SERVER, "serve", "--port", "0", "--control-port", "0",
                                   "--data", os.path.join(tmp, "data"), "--ready-file", ready,
                                   "--access-key-id", KEY, "--secret-access-key", SECRET],
                                  stderr=self.log)
        for _ in range(100):
            if os.path.exists(ready):
                break
            time.sleep(0.1)
        info = json.load(open(ready))
        self.api = "http://127.0.0.1:%d/api/v1" % info["port"]
        self.control = "http://127.0.0.1:%d" % info["control_port"]
        os.environ.update(LAKECTL_SERVER_ENDPOINT_URL=self.api, LAKECTL_CREDENTIALS_ACCESS_KEY_ID=KEY,
                          LAKECTL_CREDENTIALS_SECRET_ACCESS_KEY=SECRET)

    def importer(self, folder, repo, create):
        cmd = ["/usr/bin/python3", SERVER, "import", "--endpoint", self.api, "--repository", repo, folder]
        if create:
            cmd.insert(-1, "--create")
        return subprocess.run(cmd, check=True, capture_output=True, text=True).stdout.strip()

    def counts(self, reset=False):
        req = urllib.request.Request(self.control + "/counts", method="DELETE" if reset else "GET")
        with urllib.request.urlopen(req, timeout=10) as r:
            return json.loads(r.read() or b"{}") if not reset else None

    def stop(self):
        self.p.terminate()
        self.p.wait(timeout=10)


def pipeline(path, node):
    with open(path, "w") as f:
        json.dump({"lathe": 1, "name": "bench-lakefs", "seed": 1, "nodes": [node]}, f)
    return path


def lathe_run(lathe, pipe, store, env=None):
    t = time.perf_counter()
    p = subprocess.run([lathe, "run", "--json", "--store", store, pipe], capture_output=True, text=True,
                       env=env, timeout=1800)
    wall = time.perf_counter() - t
    if p.returncode != 0:
        sys.exit("bench: %s failed: %s" % (pipe, p.stderr.strip()[-400:]))
    return wall, json.loads(p.stdout)


def big_csv(path, mb):
    rnd = random.Random(7)
    row = lambda: ",".join("%.6f" % rnd.random() for _ in range(8)) + ",%d\n" % rnd.randrange(3)
    block = "".join(row() for _ in range(20000))
    with open(path, "w") as f:
        f.write(",".join("f%d" % i for i in range(8)) + ",label\n")
        while f.tell() < mb * 1024 * 1024:
            f.write(block)


def main():
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    build = os.path.abspath(sys.argv[1])
    lathe = os.path.join(build, "lathe")
    reps = int(os.environ.get("BENCH_LAKEFS_REPS", "21"))
    tmp = tempfile.mkdtemp(prefix="lathe-bench-lakefs-")
    os.environ["LATHE_CACHE_DIR"] = os.path.join(tmp, "cache")  # plugin index and object cache
    os.makedirs(os.environ["LATHE_CACHE_DIR"])
    srv = Server(tmp)
    parts = os.environ.get("BENCH_LAKEFS_PARTS", "hit,throughput,rss").split(",")
    results = os.path.join(SRC, "bench", "results-lakefs.json")
    out = json.load(open(results)) if os.path.exists(results) else {}
    try:
        # 1. hit
        iris = os.path.join(SRC, "examples", "iris", "iris.csv")
        for _ in [0] if "hit" in parts else []:
            d = os.path.join(tmp, "iris")
            os.makedirs(d)
            shutil.copy(iris, d)
            srv.importer(d, "iris", True)
            lk = pipeline(os.path.join(tmp, "lk.json"), {"id": "data", "use": "source/lakefs", "with": {
                "repository": "iris", "ref": "main", "path": "iris.csv", "label": "species"}})
            loc = pipeline(os.path.join(tmp, "loc.json"), {"id": "data", "use": "source/csv", "with": {
                "path": os.path.join(d, "iris.csv"), "label": "species"}})
            for p in (lk, loc):
                lathe_run(lathe, p, os.path.join(tmp, "store-hit"))
            walls = {"lakefs": [], "csv": []}
            calls = []
            for _ in range(reps):
                for name, p in (("lakefs", lk), ("csv", loc)):
                    srv.counts(reset=True)
                    w, res = lathe_run(lathe, p, os.path.join(tmp, "store-hit"))
                    if {n["status"] for n in res["nodes"]} != {"cached"}:
                        sys.exit("bench: the rerun of %s was not a cache hit" % name)
                    walls[name].append(w * 1000)
                    if name == "lakefs":
                        calls.append(sum(srv.counts().values()))
            out["hit"] = {"lakefs_ms": summary(walls["lakefs"]), "csv_ms": summary(walls["csv"]),
                          "added_ms": statistics.median(walls["lakefs"]) - statistics.median(walls["csv"]),
                          "api_calls": summary(calls)}
            print("hit: lakefs rerun %.1f ms, csv rerun %.1f ms: the lakeFS source adds %.2f ms, %s API call(s)"
                  % (out["hit"]["lakefs_ms"]["median"], out["hit"]["csv_ms"]["median"], out["hit"]["added_ms"],
                     out["hit"]["api_calls"]["median"]))

        # 2 and 3. a cold read of a big object, against curl + a local read
        bench = MeasuredBench(tmp, HERE, 3600)
        for key, mb, n in (("throughput", int(os.environ.get("BENCH_LAKEFS_MB", "400")), 3),
                           ("rss", int(os.environ.get("BENCH_LAKEFS_RSS_MB", "1024")), 1)):
            if key not in parts:
                continue
            d = os.path.join(tmp, key)
            os.makedirs(d)
            big = os.path.join(d, "big.csv")
            big_csv(big, mb)
            size = os.path.getsize(big)
            srv.importer(d, key, True)
            lk = pipeline(os.path.join(tmp, key + "-lk.json"), {"id": "data", "use": "source/lakefs", "with": {
                "repository": key, "ref": "main", "path": "big.csv", "label": "label"}})
            res = {"object_mb": size / 2**20, "lakefs_s": [], "curl_s": [], "csv_s": [],
                   "lakefs_rss_mib": [], "csv_rss_mib": []}
            for i in range(n):
                env = dict(os.environ, LATHE_CACHE_DIR=os.path.join(tmp, "cache-%s-%d" % (key, i)))
                shutil.copytree(os.environ["LATHE_CACHE_DIR"], env["LATHE_CACHE_DIR"],
                                ignore=shutil.ignore_patterns("lakefs-objects"))
                r = bench.measured("lakefs", [lathe, "run", "--no-cache", "--store", os.path.join(tmp, "s"),
                                              lk], env)
                if r["rc"]:
                    sys.exit("bench: the lakeFS read failed: " + bench.tail(r))
                res["lakefs_s"].append(r["wall"])
                res["lakefs_rss_mib"].append(r["maxrss_mib"])
                got = os.path.join(tmp, "curl.csv")
                r = bench.measured("curl", ["curl", "-sf", "-u", "%s:%s" % (KEY, SECRET), "-o", got,
                                            srv.api + "/repositories/%s/refs/main/objects?path=big.csv" % key],
                                   dict(os.environ))
                if r["rc"] or os.path.getsize(got) != size:
                    sys.exit("bench: curl failed: " + bench.tail(r))
                res["curl_s"].append(r["wall"])
                loc = pipeline(os.path.join(tmp, key + "-loc.json"), {"id": "data", "use": "source/csv", "with": {
                    "path": got, "label": "label"}})
                r = bench.measured("csv", [lathe, "run", "--no-cache", "--store", os.path.join(tmp, "s"), loc],
                                   dict(os.environ))
                if r["rc"]:
                    sys.exit("bench: the local read failed: " + bench.tail(r))
                res["csv_s"].append(r["wall"])
                res["csv_rss_mib"].append(r["maxrss_mib"])
                os.unlink(got)
            ref = statistics.median(res["curl_s"]) + statistics.median(res["csv_s"])
            res["ratio_throughput"] = ref / statistics.median(res["lakefs_s"])
            res["ratio_rss"] = statistics.median(res["lakefs_rss_mib"]) / statistics.median(res["csv_rss_mib"])
            for k in ("lakefs_s", "curl_s", "csv_s", "lakefs_rss_mib", "csv_rss_mib"):
                res[k] = summary(res[k])
            out[key] = res
            print("%s: %.0f MB object: lakeFS cold read %.2f s (peak RSS %.0f MiB); curl %.2f s + local read "
                  "%.2f s (peak RSS %.0f MiB): throughput ratio %.2f, RSS ratio %.2f"
                  % (key, res["object_mb"], res["lakefs_s"]["median"], res["lakefs_rss_mib"]["median"],
                     res["curl_s"]["median"], res["csv_s"]["median"], res["csv_rss_mib"]["median"],
                     res["ratio_throughput"], res["ratio_rss"]))
            shutil.rmtree(d)
    finally:
        srv.stop()
        shutil.rmtree(tmp, ignore_errors=True)
    out["rusage_self_mib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    with open(results, "w") as f:
        json.dump(out, f, indent=1)


if __name__ == "__main__":
    main()
