#!/usr/bin/python3
"""Repeated grouped holdout (NOT k-fold CV) of pipeline-features.json on
ideko + ideko-more, plus train on ideko/, test on ideko-more/.

Builds under /tmp a symlink tree holding both folders (class/<folder>-<entry>),
runs the pipeline with 5 split seeds and prints macro-F1 median/min/max and
per-class recall per model. Inter-k files are not yet kept together by folder
(the grouped-by-folder source is the other helper's change): see README.
Usage: examples/ideko/features-eval.py [BUILD_DIR]
"""
import json, os, statistics, subprocess, sys, tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
DATA = os.path.join(ROOT, "..", "shared", "data")
LATHE = os.path.join(ROOT, sys.argv[1] if len(sys.argv) > 1 else "build", "lathe")
PIPE = json.load(open(os.path.join(ROOT, "examples", "ideko", "pipeline-features.json")))
MODELS = ["baseline", "forest", "logreg", "mlp"]


def tree(dst, folders):
    for f in folders:
        src = os.path.join(DATA, f)
        for cls in sorted(os.listdir(src)):
            if not os.path.isdir(os.path.join(src, cls)):
                continue
            os.makedirs(os.path.join(dst, cls), exist_ok=True)
            for e in sorted(os.listdir(os.path.join(src, cls))):
                os.symlink(os.path.realpath(os.path.join(src, cls, e)),
                           os.path.join(dst, cls, f + "-" + e))


def run(pipe, work):
    p = os.path.join(work, "p.json")
    json.dump(pipe, open(p, "w"))
    out = subprocess.run([LATHE, "run", "--json", "-j", "2", "--store", os.path.join(work, ".lathe"), p],
                         capture_output=True, text=True, check=True)
    return json.loads(out.stdout)["metrics"]


def main():
    work = tempfile.mkdtemp(prefix="ideko-feat-")
    tree(os.path.join(work, "all"), ["ideko", "ideko-more"])
    nodes = {n["id"]: n for n in PIPE["nodes"]}
    nodes["recordings"]["with"]["path"] = os.path.join(work, "all")
    res = {m: [] for m in MODELS}
    for seed in [1, 2, 3, 4, 5]:
        nodes["split"]["with"]["seed"] = seed
        met = run(PIPE, work)
        for m in MODELS:
            res[m].append({k.split(".", 1)[1]: v for k, v in met.items() if k.startswith("eval_" + m + ".")})
    print("repeated grouped holdout, 5 split seeds, ideko + ideko-more, test_fraction 0.2")
    print("%-9s %-22s %-8s %-8s %-8s" % ("model", "macro_f1 med [min,max]", "normal", "electr", "mech"))
    for m in MODELS:
        f = [r["macro_f1"] for r in res[m]]
        rec = lambda k: statistics.median(r.get(k, float("nan")) for r in res[m])
        print("%-9s %.3f [%.3f,%.3f]    %-8.3f %-8.3f %-8.3f" % (
            m, statistics.median(f), min(f), max(f), rec("recall_not_anomalous"),
            rec("recall_electrical_anomalies"), rec("recall_mechanical_anomalies")))

    # Unseen folder: train on every ideko/ recording, test on every ideko-more/ one.
    tree(os.path.join(work, "more"), ["ideko-more"])
    nodes["recordings"]["with"]["path"] = os.path.realpath(os.path.join(DATA, "ideko"))
    test_src = json.loads(json.dumps(nodes["recordings"]))
    test_src["id"] = "recordings_test"
    test_src["with"]["path"] = os.path.join(work, "more")
    test_feat = json.loads(json.dumps(nodes["features"]))
    test_feat["id"] = "features_test"
    test_feat["in"] = {"data": "recordings_test"}
    pipe = dict(PIPE)
    pipe["nodes"] = []
    for n in PIPE["nodes"]:
        n = json.loads(json.dumps(n).replace('"split.train"', '"features"').replace('"split.test"', '"features_test"'))
        if n["id"] == "split":
            pipe["nodes"] += [test_src, test_feat]
            continue
        pipe["nodes"].append(n)
    met = run(pipe, work)
    print("\ntrain ideko/, test ideko-more/ (unseen folder)")
    for m in MODELS:
        g = lambda k: met.get("eval_%s.%s" % (m, k), float("nan"))
        print("%-9s %.3f                  %-8.3f %-8.3f %-8.3f" % (
            m, g("macro_f1"), g("recall_not_anomalous"), g("recall_electrical_anomalies"),
            g("recall_mechanical_anomalies")))


if __name__ == "__main__":
    main()
