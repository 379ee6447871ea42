#!/usr/bin/python3
"""Lathe's tree ensembles against scikit-learn 1.2, side by side.

Usage: bench/run.sh trees   (builds, then runs /usr/bin/python3 bench/trees/bench_trees.py build)
       /usr/bin/python3 bench/trees/bench_trees.py [BUILD_DIR]

Sections (bench/trees/README.md says exactly what each compares):
  forest   model/forest vs RandomForestClassifier on iris, wine, breast_cancer, digits and
           make_classification(200000, 20, n_informative=10)
  iforest  model/iforest vs IsolationForest on the five NAB series, features [value, diff]

Environment:
  BENCH_REPS            repetitions (seeds 0..REPS-1); default 3 (synthetic forest: 1)
  BENCH_TREES_QUICK=1   smoke test: 1 rep, synthetic 20000 rows, 10000-row predict set
  BENCH_TREES_ONLY      comma list of sections (default forest,iforest)
  BENCH_TREES_DATASETS  comma list of forest datasets (default all five)
  BENCH_TREES_NAB       NAB folder (default ../shared/data/nab from the repo root)
  BENCH_TREES_KEEP=1    keep the temporary folder (data, pipelines, stores, logs)

Prints a table and writes bench/results-trees.json with every number and ratio.
"""
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
SRC = os.path.dirname(os.path.dirname(HERE))
sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(SRC, "bench"))
import benchlib  # noqa: E402
from benchlib import fmt, med, points, ratio  # noqa: E402
sys.path.insert(0, os.path.join(SRC, "bench", "nn"))
import lathe_ds  # noqa: E402  (bench/nn: reads LATHEDS1 dataset artifacts)
import nab_data  # noqa: E402

BUILD = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else os.path.join(SRC, "build"))
LATHE = os.path.join(BUILD, "lathe")
PY = benchlib.PY
QUICK = os.environ.get("BENCH_TREES_QUICK") == "1"
REPS_ENV = os.environ.get("BENCH_REPS")
REPS = 1 if QUICK else int(REPS_ENV or 3)
BIG_REPS = 1 if QUICK else int(REPS_ENV or 1)
THREADS = 2
ONLY = set((os.environ.get("BENCH_TREES_ONLY") or "forest,iforest").split(","))
DATASETS = (os.environ.get("BENCH_TREES_DATASETS") or
            "iris,wine,breast_cancer,digits,synthetic").split(",")
NAB = os.environ.get("BENCH_TREES_NAB") or os.path.join(
    os.path.dirname(os.path.dirname(os.path.dirname(HERE))), "shared", "data", "nab")
SYNTH_ROWS = 20000 if QUICK else 200000
PREDICT_ROWS = 10000 if QUICK else 100000
TIMEOUT = 4 * 3600

# RandomForestClassifier's defaults, spelled out for both sides.
SK_FOREST = {"n_estimators": 100, "criterion": "gini", "max_depth": None,
             "min_samples_split": 2, "min_samples_leaf": 1, "max_features": "sqrt",
             "bootstrap": True, "max_samples": None, "class_weight": None,
             "oob_score": False}
# oob_score is on by default in Lathe, off in scikit-learn: off on both sides, so that
# fit times compare the same work.
LATHE_FOREST = {"n_estimators": 100, "criterion": "gini", "max_depth": -1,
                "min_samples_split": 2, "min_samples_leaf": 1, "max_features": "sqrt",
                "bootstrap": True, "max_samples": 0, "class_weight": "none",
                "oob_score": False}
# IsolationForest(100) with its defaults: max_samples auto = min(256, n), all features,
# no bootstrap, contamination auto (offset -0.5).
SK_IFOREST = {"n_estimators": 100}
LATHE_IFOREST = {"n_estimators": 100, "max_samples": "auto", "contamination": "auto",
                 "bootstrap": False}



class Bench(benchlib.MeasuredBench):
    def __init__(self, tmp):
        super().__init__(tmp, HERE, TIMEOUT)
        cache = os.path.join(tmp, "plugin-cache")
        self.lathe_env = dict(os.environ, OPENBLAS_NUM_THREADS=str(THREADS),
                              LATHE_CACHE_DIR=os.environ.get("LATHE_CACHE_DIR", cache))
        self.ref_env = dict(os.environ, OPENBLAS_NUM_THREADS=str(THREADS),
                            OMP_NUM_THREADS=str(THREADS))
        self.config = {}

    def setup(self):
        ver = subprocess.run([LATHE, "--version", "--json"], capture_output=True, text=True,
                             env=self.lathe_env, check=True).stdout
        self.config["lathe_version"] = json.loads(ver).get("version")
        for mod in ("sklearn", "numpy"):
            r = subprocess.run([PY, "-c", "import %s; print(%s.__version__)" % (mod, mod)],
                               capture_output=True, text=True, env=self.ref_env)
            self.config[mod + "_version"] = r.stdout.strip() if r.returncode == 0 else None
        out = subprocess.run([LATHE, "plugins", "--json"], capture_output=True, text=True,
                             env=self.lathe_env)
        try:
            comps = json.loads(out.stdout)["components"]
        except (ValueError, KeyError):
            comps = []
        self.components = {c.get("id") for c in comps}
        self.config["lathe_components"] = sorted(self.components)
        # The Lathe side's full params (defaults included), as the plugin declares them.
        for comp in ("model/forest", "model/iforest"):
            r = subprocess.run([LATHE, "plugins", "inspect", comp, "--json"],
                               capture_output=True, text=True, env=self.lathe_env)
            try:
                self.config[comp + " params"] = {
                    p["name"]: p.get("default") for p in json.loads(r.stdout).get("params", [])}
            except (ValueError, KeyError, TypeError, AttributeError):
                self.config[comp + " params"] = None

    def run_lathe(self, name, pipeline):
        """Validates and runs a pipeline (no cache, one node at a time, so the model
        node gets both threads); returns node seconds, metrics, outputs, RSS."""
        self.n += 1
        d = os.path.join(self.tmp, "lathe", "%s-%d" % (name, self.n))
        os.makedirs(d)
        path = os.path.join(d, "pipeline.json")
        json.dump(pipeline, open(path, "w"), indent=1)
        store = os.path.join(d, "store")
        v = subprocess.run([LATHE, "validate", "--json", path], capture_output=True, text=True,
                           env=self.lathe_env)
        if v.returncode != 0:
            try:
                problems = [p["pointer"] + ": " + p["message"]
                            for p in json.loads(v.stdout)["problems"]]
            except (ValueError, KeyError):
                problems = [v.stderr.strip()]
            return {"error": "pipeline not valid: " + "; ".join(problems), "pipeline": path}
        r = self.measured(name + "-lathe", [LATHE, "run", "--json", "--no-cache", "--jobs", "1",
                                            "--store", store, path], self.lathe_env)
        try:
            out = json.loads(r["stdout"])
        except ValueError:
            return {"error": "lathe run printed no JSON: " + self.tail(r), "pipeline": path}
        if out.get("status") != "succeeded":
            errs = ["%s: %s" % (n["id"], n.get("error")) for n in out.get("nodes", [])
                    if n.get("error")]
            return {"error": "run %s: %s" % (out.get("status"), "; ".join(errs) or self.tail(r)),
                    "pipeline": path}
        show = subprocess.run([LATHE, "runs", "show", "--json", "--store", store, out["run_id"]],
                              capture_output=True, text=True, env=self.lathe_env, check=True)
        execs = {e["id"]: e for e in json.loads(show.stdout)["nodes"]}
        return {"run_id": out["run_id"], "store": store,
                "outputs": {k: e.get("outputs", {}) for k, e in execs.items()},
                "node_metrics": {k: e.get("metrics", {}) for k, e in execs.items()},
                "wall": r["wall"], "maxrss_mib": r["maxrss_mib"],
                "node_seconds": {n["id"]: n["seconds"] for n in out["nodes"]},
                "metrics": out.get("metrics", {}), "pipeline": path}



def artifact(run, digest):
    return os.path.join(run["store"], "artifacts", "sha256", digest[:2], digest[2:])


def verdict(ok):
    return {True: "met", False: "NOT met", None: "-"}[ok]


# -- forest -------------------------------------------------------------------------
def load_dataset(name):
    from sklearn import datasets
    if name == "synthetic":
        return datasets.make_classification(SYNTH_ROWS, 20, n_informative=10, random_state=0)
    loaders = {"iris": datasets.load_iris, "wine": datasets.load_wine,
               "breast_cancer": datasets.load_breast_cancer, "digits": datasets.load_digits}
    if name not in loaders:
        raise SystemExit("unknown dataset %r in BENCH_TREES_DATASETS (known: %s, synthetic)"
                         % (name, ", ".join(loaders)))
    return loaders[name](return_X_y=True)


def write_table(path, X, y):
    """Features as float32 values (what both sides fit on: scikit-learn's trees convert to
    float32, Lathe reads float32) printed exactly, then a string label column."""
    import numpy as np
    cols = ["f%d" % j for j in range(X.shape[1])] + ["label"]
    np.savetxt(path, np.column_stack([X.astype(np.float32), y]), delimiter=",",
               fmt=["%.9g"] * X.shape[1] + ["c%d"], header=",".join(cols), comments="")


def forest_data(b, name):
    """80/20 stratified split (random_state 0) done once; train/test CSVs, and the predict
    set: the test rows repeated cyclically to PREDICT_ROWS rows (same for both sides)."""
    import numpy as np
    from sklearn.model_selection import train_test_split
    X, y = load_dataset(name)
    Xtr, Xte, ytr, yte = train_test_split(X, y, test_size=0.2, stratify=y, random_state=0)
    idx = np.resize(np.arange(len(Xte)), PREDICT_ROWS)
    d = os.path.join(b.tmp, "tables", name)
    os.makedirs(d)
    paths = {k: os.path.join(d, k + ".csv") for k in ("train", "test", "predict")}
    write_table(paths["train"], Xtr, ytr)
    write_table(paths["test"], Xte, yte)
    write_table(paths["predict"], Xte[idx], yte[idx])
    paths.update({"n_train": len(Xtr), "n_test": len(Xte), "n_features": X.shape[1],
                  "n_classes": len(set(y.tolist()))})
    return paths


def forest_pipeline(data, seed):
    nodes = [{"id": k, "use": "source/csv", "with": {"path": data[k], "label": "label"}}
             for k in ("train", "test", "predict")]
    nodes += [{"id": "model", "use": "model/forest", "in": {"train": "train"},
               "with": dict(LATHE_FOREST)},
              {"id": "eval", "use": "evaluator/classification",
               "in": {"model": "model", "data": "test"}},
              {"id": "eval_predict", "use": "evaluator/classification",
               "in": {"model": "model", "data": "predict"}}]
    return {"lathe": 1, "name": "bench-trees-forest", "seed": seed, "nodes": nodes}


def forest_lathe_result(r):
    if "error" in r:
        return r
    model = r["outputs"].get("model", {})
    digest = next(iter(model.values()), None)
    size = os.path.getsize(artifact(r, digest)) if digest else None
    m = r["metrics"]
    return dict(r, fit_seconds=r["node_seconds"].get("model"),
                predict_seconds=r["node_seconds"].get("eval_predict"),
                test_eval_seconds=r["node_seconds"].get("eval"),
                accuracy=m.get("eval.accuracy"), macro_f1=m.get("eval.macro_f1"),
                predict_set_accuracy=m.get("eval_predict.accuracy"),
                oob_accuracy=next((v for k, v in r["node_metrics"].get("model", {}).items()
                                   if "oob" in k), None),
                model_bytes=size)


FOREST_KEYS = ("fit_seconds", "predict_seconds", "test_eval_seconds", "maxrss_mib", "accuracy",
               "macro_f1", "predict_set_accuracy", "model_bytes", "oob_accuracy", "wall")


def section_forest(b, results):
    print("\nRandom forest: 100 trees, gini, unlimited depth, sqrt features, bootstrap (scikit-"
          "learn's defaults on both sides), %d threads; 80/20 stratified split (random_state 0); "
          "predict = %d rows (test rows repeated); medians over seeds" % (THREADS, PREDICT_ROWS))
    head = "%-13s %6s | %7s %7s %5s | %7s %7s %5s | %5s %5s %5s | %5s %5s %5s | %6s %6s | %s"
    print(head % ("dataset", "train", "fit s", "sklearn", "ratio", "pred s", "sklearn", "ratio",
                  "RSS", "skl", "ratio", "acc", "skl", "diff", "KiB", "skl", "goals"))
    res = results.setdefault("forest", {})
    for name in DATASETS:
        if name not in ("iris", "wine", "breast_cancer", "digits", "synthetic"):
            print("  unknown dataset %r skipped" % name)
            continue
        data = forest_data(b, name)
        reps = BIG_REPS if name == "synthetic" else REPS
        runs = {"lathe": [], "sklearn": []}
        for seed in range(reps):
            runs["sklearn"].append(b.run_ref(
                "sklearn-forest-" + name, "sklearn_forest_ref.py",
                ["--train", data["train"], "--test", data["test"], "--predict", data["predict"],
                 "--params", json.dumps(SK_FOREST), "--seed", str(seed),
                 "--threads", str(THREADS)]))
            runs["lathe"].append(forest_lathe_result(
                b.run_lathe("forest-" + name, forest_pipeline(data, seed))))
        summ = {}
        for side in ("lathe", "sklearn"):
            ok = [r for r in runs[side] if "error" not in r]
            summ[side] = {k: med([r.get(k) for r in ok]) for k in FOREST_KEYS}
            summ[side]["ok_runs"] = len(ok)
            summ[side]["accuracies"] = [r.get("accuracy") for r in ok]
            summ[side]["errors"] = [r["error"] for r in runs[side] if "error" in r]
        L, S = summ["lathe"], summ["sklearn"]
        R = {"fit_time_lathe_over_sklearn": ratio(L["fit_seconds"], S["fit_seconds"]),
             "predict_time_lathe_over_sklearn": ratio(L["predict_seconds"], S["predict_seconds"]),
             "rss_lathe_over_sklearn": ratio(L["maxrss_mib"], S["maxrss_mib"]),
             "model_size_lathe_over_sklearn": ratio(L["model_bytes"], S["model_bytes"]),
             "accuracy_diff_points": points(L["accuracy"], S["accuracy"]),
             "macro_f1_diff_points": points(L["macro_f1"], S["macro_f1"])}
        goals = {"fit_le_0.8x": None if R["fit_time_lathe_over_sklearn"] is None
                 else R["fit_time_lathe_over_sklearn"] <= 0.8,
                 "predict_le_0.5x": None if R["predict_time_lathe_over_sklearn"] is None
                 else R["predict_time_lathe_over_sklearn"] <= 0.5,
                 "accuracy_within_1_point": None if R["accuracy_diff_points"] is None
                 else R["accuracy_diff_points"] >= -1.0}
        res[name] = {k: data[k] for k in ("n_train", "n_test", "n_features", "n_classes")}
        res[name].update({"predict_rows": PREDICT_ROWS, "reps": reps, "lathe": L, "sklearn": S,
                          "ratios": R, "goals": goals, "runs": runs})
        short = "".join({True: "Y", False: "n", None: "-"}[goals[g]] for g in goals)
        print(head % (name, data["n_train"], fmt(L["fit_seconds"], "%.3f"),
                      fmt(S["fit_seconds"], "%.3f"), fmt(R["fit_time_lathe_over_sklearn"], "%.2f"),
                      fmt(L["predict_seconds"], "%.3f"), fmt(S["predict_seconds"], "%.3f"),
                      fmt(R["predict_time_lathe_over_sklearn"], "%.2f"),
                      fmt(L["maxrss_mib"], "%.0f"), fmt(S["maxrss_mib"], "%.0f"),
                      fmt(R["rss_lathe_over_sklearn"], "%.2f"), fmt(L["accuracy"], "%.3f"),
                      fmt(S["accuracy"], "%.3f"), fmt(R["accuracy_diff_points"], "%+.1f"),
                      fmt(None if L["model_bytes"] is None else L["model_bytes"] / 1024, "%.0f"),
                      fmt(None if S["model_bytes"] is None else S["model_bytes"] / 1024, "%.0f"),
                      short), flush=True)
        for e in L["errors"] + S["errors"]:
            print("  %s: %s" % (name, e))
    print("ratio = Lathe / sklearn; diff = Lathe - sklearn accuracy in points; KiB = model size "
          "(Lathe: model artifact in the run store; sklearn: pickle.dumps)")
    print("goals (YYY = all met): fit <= 0.8x, predict <= 0.5x, accuracy within 1 point")


# -- isolation forest -----------------------------------------------------------------
def iforest_pipeline(csv, seed):
    return {"lathe": 1, "name": "bench-trees-iforest", "seed": seed, "nodes": [
        {"id": "series", "use": "source/csv", "with": {"path": csv, "drop": ["label"]}},
        {"id": "model", "use": "model/iforest", "in": {"train": "series"},
         "with": dict(LATHE_IFOREST)},
        {"id": "scores", "use": "transform/predict", "in": {"model": "model", "data": "series"},
         "with": {"keep": False, "prefix": "out_"}}]}


def iforest_lathe_result(r, label):
    """Reads the scores transform/predict stored (its first column is s(x)) and scores
    them against the point labels with the function the reference uses."""
    from sklearn.metrics import roc_auc_score
    if "error" in r:
        return r
    try:
        ds = lathe_ds.read(artifact(r, r["outputs"]["scores"]["data"]))
    except (OSError, KeyError, ValueError) as e:
        return dict(r, error="could not read the scores dataset: %s" % e)
    if ds["x"].shape[0] != len(label) or ds["x"].shape[1] < 1:
        return dict(r, error="scores dataset is %s, expected %d rows" % (ds["x"].shape,
                                                                         len(label)))
    score = ds["x"][:, 0].astype(float)
    fit = r["node_seconds"].get("model")
    pred = r["node_seconds"].get("scores")
    out = dict(r, fit_seconds=fit, score_seconds=pred,
               fit_score_seconds=None if fit is None or pred is None else fit + pred,
               auc=float(roc_auc_score(label, score)), columns=ds["columns"],
               score_min=float(score.min()), score_max=float(score.max()))
    if ds["x"].shape[1] > 1:
        out["anomalies"] = int((ds["x"][:, 1] > 0.5).sum())
    return out


IF_KEYS = ("fit_seconds", "fit_score_seconds", "fit_score_seconds_1thread", "maxrss_mib", "auc",
           "anomalies", "wall")


def section_iforest(b, results):
    print("\nIsolation forest: 100 trees, max_samples auto, contamination auto, %d threads; NAB "
          "realKnownCause, features [value, diff], fit on the whole series and score it; ROC-AUC "
          "of s(x) vs the point labels (1 inside a window); medians over %d seed(s)"
          % (THREADS, REPS))
    head = "%-36s %6s | %6s %6s %5s %6s %5s | %4s %4s %5s | %5s %5s %6s | %s"
    print(head % ("series", "rows", "fit+sc", "skl", "ratio", "skl 1t", "ratio", "RSS", "skl",
                  "ratio", "AUC", "skl", "diff", "goals"))
    res = results.setdefault("iforest", {})
    d = os.path.join(b.tmp, "nab")
    os.makedirs(d)
    totals = {"lathe": 0.0, "sklearn": 0.0, "sklearn_1thread": 0.0}
    for name in nab_data.FILES:
        series = nab_data.load(NAB, name)
        csv = os.path.join(d, name + ".csv")
        nab_data.write_csv(series, csv)
        runs = {"lathe": [], "sklearn": []}
        for seed in range(REPS):
            runs["sklearn"].append(b.run_ref(
                "sklearn-iforest-" + name, "sklearn_iforest_ref.py",
                ["--csv", csv, "--params", json.dumps(SK_IFOREST), "--seed", str(seed),
                 "--threads", str(THREADS)]))
            runs["lathe"].append(iforest_lathe_result(
                b.run_lathe("iforest-" + name, iforest_pipeline(csv, seed)), series["label"]))
        summ = {}
        for side in ("lathe", "sklearn"):
            ok = [r for r in runs[side] if "error" not in r]
            summ[side] = {k: med([r.get(k) for r in ok]) for k in IF_KEYS}
            summ[side]["ok_runs"] = len(ok)
            summ[side]["aucs"] = [r.get("auc") for r in ok]
            summ[side]["errors"] = [r["error"] for r in runs[side] if "error" in r]
        for key, side, field in (("lathe", "lathe", "fit_score_seconds"),
                                 ("sklearn", "sklearn", "fit_score_seconds"),
                                 ("sklearn_1thread", "sklearn", "fit_score_seconds_1thread")):
            v = summ[side][field]
            totals[key] = None if totals[key] is None or v is None else totals[key] + v
        L, S = summ["lathe"], summ["sklearn"]
        R = {"time_lathe_over_sklearn": ratio(L["fit_score_seconds"], S["fit_score_seconds"]),
             "time_lathe_over_sklearn_1thread": ratio(L["fit_score_seconds"],
                                                      S["fit_score_seconds_1thread"]),
             "rss_lathe_over_sklearn": ratio(L["maxrss_mib"], S["maxrss_mib"]),
             "auc_diff": None if L["auc"] is None or S["auc"] is None else L["auc"] - S["auc"]}
        goals = {"time_le_0.8x": None if R["time_lathe_over_sklearn"] is None
                 else R["time_lathe_over_sklearn"] <= 0.8,
                 "auc_within_0.02": None if R["auc_diff"] is None else abs(R["auc_diff"]) <= 0.02}
        res[name] = {"rows": series["rows"], "windows": series["windows"],
                     "labelled_fraction": float(series["label"].mean()), "reps": REPS,
                     "lathe": L, "sklearn": S, "ratios": R, "goals": goals, "runs": runs}
        short = "".join({True: "Y", False: "n", None: "-"}[goals[g]] for g in goals)
        print(head % (name, series["rows"], fmt(L["fit_score_seconds"], "%.3f"),
                      fmt(S["fit_score_seconds"], "%.3f"),
                      fmt(R["time_lathe_over_sklearn"], "%.2f"),
                      fmt(S["fit_score_seconds_1thread"], "%.3f"),
                      fmt(R["time_lathe_over_sklearn_1thread"], "%.2f"),
                      fmt(L["maxrss_mib"], "%.0f"), fmt(S["maxrss_mib"], "%.0f"),
                      fmt(R["rss_lathe_over_sklearn"], "%.2f"), fmt(L["auc"], "%.3f"),
                      fmt(S["auc"], "%.3f"), fmt(R["auc_diff"], "%+.3f"), short), flush=True)
        for e in L["errors"] + S["errors"]:
            print("  %s: %s" % (name, e))
    results["iforest_total"] = {
        "lathe_fit_score_seconds": totals["lathe"],
        "sklearn_fit_score_seconds": totals["sklearn"],
        "sklearn_fit_score_seconds_1thread": totals["sklearn_1thread"],
        "time_lathe_over_sklearn": ratio(totals["lathe"], totals["sklearn"]),
        "time_lathe_over_sklearn_1thread": ratio(totals["lathe"], totals["sklearn_1thread"])}
    print("%-36s %6s | %6s %6s %5s %6s %5s |" % (
        "all five (sum of medians)", "", fmt(totals["lathe"], "%.3f"),
        fmt(totals["sklearn"], "%.3f"), fmt(ratio(totals["lathe"], totals["sklearn"]), "%.2f"),
        fmt(totals["sklearn_1thread"], "%.3f"),
        fmt(ratio(totals["lathe"], totals["sklearn_1thread"]), "%.2f")))
    print("fit+sc = fit + scoring every row (Lathe: model node + transform/predict node seconds); "
          "skl = n_jobs=2 (the goal's reference), skl 1t = n_jobs=1 (context: joblib's overhead "
          "on series this small); ratio = Lathe / sklearn; diff = Lathe - sklearn AUC")
    print("goals (YY = both met): time <= 0.8x, |AUC diff| <= 0.02")


def main():
    if not os.access(LATHE, os.X_OK):
        sys.exit("no lathe binary at %s; build first (bench/run.sh trees does)" % LATHE)
    results = {"quick": QUICK, "reps": REPS, "synthetic_reps": BIG_REPS, "threads": THREADS,
               "synthetic_rows": SYNTH_ROWS, "predict_rows": PREDICT_ROWS, "build": BUILD,
               "sklearn_forest_params": SK_FOREST, "lathe_forest_params": LATHE_FOREST,
               "sklearn_iforest_params": SK_IFOREST, "lathe_iforest_params": LATHE_IFOREST}
    tmp = tempfile.mkdtemp(prefix="lathe-bench-trees-")
    try:
        b = Bench(tmp)
        b.setup()
        results["config"] = b.config
        for comp, section in (("model/forest", "forest"), ("model/iforest", "iforest")):
            if section in ONLY and comp not in b.components:
                print("%s is not installed in %s: its Lathe side will fail" % (comp, BUILD))
        if "forest" in ONLY:
            section_forest(b, results)
        if "iforest" in ONLY:
            section_iforest(b, results)
    finally:
        if os.environ.get("BENCH_TREES_KEEP") == "1":
            print("kept", tmp)
        else:
            shutil.rmtree(tmp, ignore_errors=True)
    out = os.path.join(SRC, "bench", "results-trees.json")
    with open(out, "w") as f:
        json.dump(results, f, indent=2)
    print("wrote", out)


if __name__ == "__main__":
    main()
