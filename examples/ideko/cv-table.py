#!/usr/bin/python3
"""Grouped 5-fold cross-validation of the IDEKO designs on all 455 recordings.

Runs examples/ideko/pipeline-cv.json (ideko + ideko-more, one row of features
per recording, one `cv` node per model family whose evaluator also scores the
inter-k recordings of each test fold, `subset`) for every design in DESIGNS,
in the order they were tried, and prints markdown tables:
  1. per design and family: CV macro-F1 mean, std over the folds and t-based
     95% interval (evaluator/cv); recall per class and the inter-k recordings'
     mechanical recall, pooled over the folds (sum of hits / sum of support);
  2. for the kept design: median and range over 10 seeds of the folds'
     assignment.
The folds keep each inter-k folder on one side (group_key) and are
stratified by class (and, from design 13, by raw vs inter-k). Usage:
  python3 examples/ideko/cv-table.py [--build DIR] [--store DIR] [--designs 1,3] [--seeds N]
"""
import argparse, json, os, statistics, subprocess, sys, tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
DATA = os.path.realpath(os.path.join(ROOT, "..", "shared", "data"))
FAMILIES = ["baseline", "tree", "forest", "logreg", "mlp"]
CLASSES = ["not_anomalous", "electrical_anomalies", "mechanical_anomalies"]
NORM = []  # [] = the plugin's 12 normalised features
ABS = ["cur_max", "cur_q999", "stroke_peak_med", "stroke_peak_q90", "cur_median", "cur_iqr"]
ALL12 = ["cur_max_n", "cur_q99_n", "cur_q95_n", "cur_peaks", "strokes", "stroke_rise",
         "stroke_max", "stroke_std", "track41_mean", "track41_max", "track21_mean", "track21_max"]
KEY_NOTES = "^[^/]+/[0-9]+-[0-9]+/"  # class/folder/: the notes' key
KEY = "[0-9]+-[0-9]+/"               # folder/ whatever the class

PHYS = ABS + ["cur_max_n", "strokes", "stroke_rise", "track41_mean", "track41_max",
              "track21_mean", "track21_max"]
CORE = ["cur_max", "cur_q999", "stroke_peak_med", "track41_mean", "track21_mean"]
# Every design tried, in order: (name, what changed, features, group_key,
# {family: model params}). Params not given are FIRST's, whatever
# pipeline-cv.json (the kept design) says.
FIRST = {"forest": {"n_estimators": 100, "max_depth": 6, "max_features": "sqrt"}}
DESIGNS = [
    ("1", "12 normalised features (pipeline-features.json), notes' key class/folder/",
     NORM, KEY_NOTES, {}),
    ("2", "same features; key folder/ alone: 4 inter-k folders hold files of both classes",
     NORM, KEY, {}),
    ("3", "+ the absolute current features (peak A, per-stroke peak, median, IQR)",
     ALL12 + ABS, KEY, {}),
    ("4", "13 physical features: drop the 5 redundant normalised current ones",
     PHYS, KEY, {}),
    ("5", "design 3, forest 300 trees of depth 12",
     ALL12 + ABS, KEY, {"forest": {"n_estimators": 300, "max_depth": 12}}),
    ("6", "design 3, logreg l2 0.1 and mlp [64, 64]",
     ALL12 + ABS, KEY, {"logreg": {"l2": 0.1}, "mlp": {"units": [64, 64]}}),
    ("7", "design 4, forest 300 trees of depth 12",
     PHYS, KEY, {"forest": {"n_estimators": 300, "max_depth": 12}}),
    ("8", "design 7, forest max_features 0.5",
     PHYS, KEY, {"forest": {"n_estimators": 300, "max_depth": 12, "max_features": "0.5"}}),
    ("9", "design 7, forest max_features all (bagged trees)",
     PHYS, KEY, {"forest": {"n_estimators": 300, "max_depth": 12, "max_features": "all"}}),
    ("10", "design 7, forest entropy",
     PHYS, KEY, {"forest": {"n_estimators": 300, "max_depth": 12, "criterion": "entropy"}}),
    ("11", "design 8 on 5 features: peak current, q99.9, per-stroke peak, tracking 4-1, 2-1",
     CORE, KEY, {"forest": {"n_estimators": 300, "max_depth": 12, "max_features": "0.5"}}),
    ("12", "design 11, + tracking maxima",
     CORE + ["track41_max", "track21_max"], KEY,
     {"forest": {"n_estimators": 300, "max_depth": 12, "max_features": "0.5"}}),
    ("13", "design 8; the folds also stratified raw vs inter-k (stratify_key): validation only",
     PHYS, KEY, {"forest": {"n_estimators": 300, "max_depth": 12, "max_features": "0.5"},
                 "cv": {"stratify_key": True}}),
]
KEPT = "13"


def pipeline(features, key, seed, params):
    p = json.load(open(os.path.join(HERE, "pipeline-cv.json")))
    for n in p["nodes"]:
        if n["id"] == "recordings":
            n["with"]["paths"] = [os.path.join(DATA, "ideko"), os.path.join(DATA, "ideko-more")]
        if n["id"] == "features":
            n["with"]["features"] = features
        if n["use"] == "cv":
            n["with"]["group_key"] = key
            n["with"]["seed"] = seed
            n["with"]["stratify_key"] = params.get("cv", {}).get("stratify_key", False)
            fam = n["id"][3:]
            for f in n["fold"]["nodes"]:
                if f["id"] == "model":
                    f.setdefault("with", {}).update(FIRST.get(fam, {}))
                    f["with"].update(params.get(fam, {}))
    return p


def run(args, pipe, work):
    path = os.path.join(work, "pipeline-cv.json")
    json.dump(pipe, open(path, "w"))
    out = subprocess.run([os.path.join(args.build, "lathe"), "run", "--json", "-j", "2",
                          "--store", args.store, path], capture_output=True, text=True)
    if out.returncode != 0:
        sys.exit("cv-table.py: lathe run failed:\n" + out.stderr[-2000:])
    return json.loads(out.stdout)["metrics"]


def pooled(m, node, cls, folds, prefix=""):
    """Recall of cls over all test folds: hits / support, summed over folds
    (prefix "subset_": on the inter-k recordings of each test fold)."""
    hit = sup = 0.0
    for i in range(1, folds + 1):
        s = m.get("%s-%d-eval.%ssupport_%s" % (node, i, prefix, cls), 0)
        hit += m.get("%s-%d-eval.%srecall_%s" % (node, i, prefix, cls), 0) * s
        sup += s
    return hit / sup if sup else float("nan")


def summary(m, fam, folds):
    cv = "cv_" + fam
    r = {"f1": m[cv + ".macro_f1.mean"], "std": m[cv + ".macro_f1.std"],
         "lo": m[cv + ".macro_f1.ci95_low"], "hi": m[cv + ".macro_f1.ci95_high"]}
    for c in CLASSES:
        r[c] = pooled(m, cv, c, folds)
    r["inter_mech"] = pooled(m, cv, "mechanical_anomalies", folds, "subset_")
    r["inter_norm"] = pooled(m, cv, "not_anomalous", folds, "subset_")
    return r


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default=os.path.join(ROOT, "build"))
    ap.add_argument("--store", default=os.path.join(HERE, ".lathe"))
    ap.add_argument("--designs", default=",".join(d[0] for d in DESIGNS))
    ap.add_argument("--seeds", type=int, default=10)
    ap.add_argument("--kept", default=KEPT, help="the design the seeds table runs")
    args = ap.parse_args()
    folds = 5
    tmp = tempfile.TemporaryDirectory(prefix="ideko-cv-")  # removed at exit
    work = tmp.name
    want = args.designs.split(",")
    print("Grouped stratified %d-fold CV, 455 recordings (ideko + ideko-more), seed 0.\n" % folds)
    print("| design | family | CV macro-F1 mean | std | 95% CI | normal | electrical | mechanical "
          "| inter-k mech | inter-k normal |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    best = {}
    for name, what, feats, key, params in DESIGNS:
        if name not in want:
            continue
        m = run(args, pipeline(feats, key, 0, params), work)
        for fam in FAMILIES:
            r = summary(m, fam, folds)
            best[(name, fam)] = r
            print("| %s | %s | %.3f | %.3f | [%.3f, %.3f] | %.3f | %.3f | %.3f | %.3f | %.3f |" % (
                name, fam, r["f1"], r["std"], r["lo"], r["hi"], r["not_anomalous"],
                r["electrical_anomalies"], r["mechanical_anomalies"], r["inter_mech"],
                r["inter_norm"]))
    print("\nDesigns:")
    for name, what, feats, key, params in DESIGNS:
        print("- %s: %s" % (name, what))
    if args.seeds <= 1:
        return
    design = next(d for d in DESIGNS if d[0] == args.kept)
    per = {fam: [] for fam in FAMILIES}
    for seed in range(args.seeds):
        m = run(args, pipeline(design[2], design[3], seed, design[4]), work)
        for fam in FAMILIES:
            per[fam].append(summary(m, fam, folds))
    print("\nDesign %s, %d seeds (0-%d) of the folds' assignment: median [min, max]\n" % (
        args.kept, args.seeds, args.seeds - 1))
    # The gain over the rule baseline, paired by seed: both see the same folds.
    for fam in FAMILIES:
        for r, b in zip(per[fam], per["baseline"]):
            r["gain"] = r["f1"] - b["f1"]
    print("| family | CV macro-F1 | gain over baseline (paired) | electrical recall "
          "| mechanical recall | inter-k mech recall |")
    print("|---|---|---|---|---|---|")
    for fam in FAMILIES:
        cell = lambda k: "%.3f [%.3f, %.3f]" % (
            statistics.median(r[k] for r in per[fam]), min(r[k] for r in per[fam]),
            max(r[k] for r in per[fam]))
        print("| %s | %s | %s | %s | %s | %s |" % (
            fam, cell("f1"), cell("gain"), cell("electrical_anomalies"),
            cell("mechanical_anomalies"), cell("inter_mech")))


if __name__ == "__main__":
    main()
