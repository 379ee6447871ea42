#!/usr/bin/python3
"""`lathe ui` page latency with 10,000 runs in the store.

Usage: /usr/bin/python3 bench/ui/bench_ui.py BUILD_DIR [OUT.json]
Runs examples/iris once, then copies its runs row directly in SQLite until the
store holds 10,000 runs (new ids, same pipeline; metrics only on the original,
so the search matches one run): the UI reads runs, not how they were made.
Times N sequential GETs of /, a deep page of / (runs 7,501 to 7,550), a run
page, a search, and the model registry pages, p50/p99 in ms.
"""
import json, os, shutil, sqlite3, subprocess, sys, tempfile, time, urllib.request

N = 200
build = os.path.abspath(sys.argv[1])
out = sys.argv[2] if len(sys.argv) > 2 else None
lathe = os.path.join(build, "lathe")
src = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "examples", "iris")
tmp = tempfile.mkdtemp()
shutil.copytree(src, tmp + "/iris", ignore=shutil.ignore_patterns(".lathe"))
r = subprocess.run([lathe, "run", "--json", "pipeline.json"], cwd=tmp + "/iris", capture_output=True, check=True)
rid = json.loads(r.stdout)["run_id"]
db = sqlite3.connect(tmp + "/iris/.lathe/lathe.db")
have = db.execute("SELECT count(*) FROM runs").fetchone()[0]
db.executemany("INSERT INTO runs(id, name, pipeline, pipeline_json, seed, status, proc, started, ended, lathe_version)"
               " SELECT ?, name, pipeline, pipeline_json, seed, status, proc, started - ?, ended - ?, lathe_version"
               " FROM runs WHERE id = ?", [("b%07d" % i, i, i, rid) for i in range(10000 - have)])
db.commit()
db.close()
p = subprocess.Popen([lathe, "ui", "--port", "0", "--json", "--store", tmp + "/iris/.lathe"], stdout=subprocess.PIPE)
url = json.loads(p.stdout.readline())["url"]
pages = {"runs list /": "/", "runs list, page 151": "/?page=150", "run page": "/runs/" + rid,
         "search": "/?q=metrics.eval.accuracy+%3E+0.5&sort=attributes.start_time+DESC",
         "models": "/models", "model page": "/models/iris"}
# The machine's load, for reading p99 (a loaded machine stretches the tail).
res = {"runs_in_store": 10000, "requests_per_page": N, "load_average_1m": round(os.getloadavg()[0], 2),
       "cpus": os.cpu_count(), "pages": {}}
try:
    for name, path in pages.items():
        ts = []
        for _ in range(N):
            t = time.perf_counter()
            urllib.request.urlopen(url + path).read()
            ts.append((time.perf_counter() - t) * 1000)
        ts.sort()
        res["pages"][name] = {"path": path, "p50_ms": round(ts[N // 2], 2), "p99_ms": round(ts[int(N * 0.99) - 1], 2)}
finally:
    p.terminate()
    p.wait()
    shutil.rmtree(tmp)
res["goal_p99_ms"] = 50
res["ok"] = all(v["p99_ms"] < 50 for v in res["pages"].values())
print(json.dumps(res, indent=2))
if out:
    open(out, "w").write(json.dumps(res, indent=2) + "\n")
