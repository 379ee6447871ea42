#!/usr/bin/python3
"""Lathe's neural models against PyTorch 1.13 and scikit-learn 1.2, side by side.

Usage: bench/run.sh nn   (builds, then runs /usr/bin/python3 bench/nn/bench_nn.py build)
       /usr/bin/python3 bench/nn/bench_nn.py [BUILD_DIR]

Sections (bench/nn/README.md says exactly what each compares):
  ideko    model/mlp, cnn1d, rnn, lstm vs PyTorch on the IDEKO recordings (f3)
  window   the windowed LSTM (50 Hz, [f3, rolling mean, rolling std], windows) vs PyTorch
  sklearn  model/mlp vs MLPClassifier on iris, wine, breast_cancer, digits
  gflops   GFLOP/s of Lathe's MLP training epoch vs numpy/OpenBLAS sgemm on its GEMMs

Environment:
  BENCH_REPS           repetitions (seeds 0..REPS-1) of every run; default 1 (sklearn: 3)
  BENCH_NN_EPOCHS      epochs of the IDEKO families (default 20)
  BENCH_NN_WIN_EPOCHS  epochs of the windowed LSTM (default 5)
  BENCH_NN_QUICK=1     smoke test: 3 epochs (windowed: 1), 1 rep, short GEMM timings
  BENCH_NN_ONLY        comma list of sections to run (default: all four)
  BENCH_NN_FAMILIES    comma list of IDEKO families (default mlp,cnn,rnn,lstm)
  BENCH_NN_DATA        IDEKO folder (default ../shared/data/ideko from the repo root)
  BENCH_NN_KEEP=1      keep the temporary folder (pipelines, stores, logs) and print it

Prints a table and writes bench/results-nn.json with every number and ratio.
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
import ideko  # noqa: E402
import lathe_ds  # noqa: E402
import sgemm_shapes  # noqa: E402
import torch_ref  # noqa: E402  (its module level needs numpy only)

BUILD = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else os.path.join(SRC, "build"))
LATHE = os.path.join(BUILD, "lathe")
PY = benchlib.PY
QUICK = os.environ.get("BENCH_NN_QUICK") == "1"
REPS_ENV = os.environ.get("BENCH_REPS")
REPS = 1 if QUICK else int(REPS_ENV or 1)
SK_REPS = 1 if QUICK else int(REPS_ENV or 3)
EPOCHS = int(os.environ.get("BENCH_NN_EPOCHS") or (3 if QUICK else 20))
WIN_EPOCHS = int(os.environ.get("BENCH_NN_WIN_EPOCHS") or (1 if QUICK else 5))
SK_EPOCHS = 50
THREADS = 2
ONLY = set((os.environ.get("BENCH_NN_ONLY") or "ideko,window,sklearn,gflops").split(","))
FAMILY_LIST = (os.environ.get("BENCH_NN_FAMILIES") or "mlp,cnn,rnn,lstm").split(",")
DATA = os.environ.get("BENCH_NN_DATA") or os.path.join(os.path.dirname(SRC), "shared", "data", "ideko")
CHECK = os.environ.get("BENCH_NN_CHECK", "1") != "0"
TIMEOUT = 4 * 3600

# Training params shared by every Lathe model: the PyTorch/sklearn settings.
TRAIN = {"batch_size": 64, "lr": 1e-3, "beta1": 0.9, "beta2": 0.999, "eps": 1e-8,
         "weight_decay": 0.0, "patience": 0, "validation_fraction": 0.0, "dropout": 0.0}

# IDEKO families: subsampling factor and the Lathe model.
FAMILIES = {
    "mlp": {"factor": 1, "use": "model/mlp",
            "with": {"units": [100, 100, 100], "activation": "relu"},
            "torch": "Linear 19309-100-100-100-3, ReLU"},
    "cnn": {"factor": 10, "use": "model/cnn1d",
            "with": {"filters": [128, 128, 128], "kernel_size": 3, "pool": 2, "dense": []},
            "torch": "Conv1d(k3, pad 1)+ReLU+MaxPool1d(2, ceil) x3 [128], GAP, Linear"},
    "rnn": {"factor": 50, "use": "model/rnn", "with": {"units": [128, 128], "pooling": "last"},
            "torch": "nn.RNN(tanh, 128, 2 layers), last valid step, Linear"},
    "lstm": {"factor": 50, "use": "model/lstm", "with": {"units": [64, 64], "pooling": "last"},
             "torch": "nn.LSTM(64, 2 layers), last valid step, Linear"},
}
WINDOW = {"factor": 10, "rolling": 10, "seq_len": 10, "stride": 2,
          "torch": "nn.LSTM(64, 2 layers) on 10-step windows of 3 channels, last step, Linear"}



class Bench(benchlib.MeasuredBench):
    def __init__(self, tmp):
        super().__init__(tmp, HERE, TIMEOUT)
        self.lathe_env = dict(os.environ, OPENBLAS_NUM_THREADS=str(THREADS))
        self.ref_env = dict(os.environ, OPENBLAS_NUM_THREADS=str(THREADS),
                            OMP_NUM_THREADS=str(THREADS))
        self.config = {}

    # -- set-up ------------------------------------------------------------------
    def blas(self):
        """Gives the references the OpenBLAS kernels Lathe uses."""
        self.config.update(benchlib.blas_config(LATHE, self.lathe_env, self.ref_env))

    def components(self):
        out = subprocess.run([LATHE, "plugins", "--json"], capture_output=True, text=True,
                             env=self.lathe_env)
        try:
            comps = json.loads(out.stdout)["components"]
        except (ValueError, KeyError):
            return set()
        return {c["id"] for c in comps if "id" in c}

    def python_versions(self):
        for mod in ("torch", "sklearn", "numpy"):
            r = subprocess.run([PY, "-c", "import %s; print(%s.__version__)" % (mod, mod)],
                               capture_output=True, text=True, env=self.ref_env)
            self.config[mod + "_version"] = r.stdout.strip() if r.returncode == 0 else None

    # -- Lathe -------------------------------------------------------------------
    def run_lathe(self, name, pipeline, model_node="model"):
        """Validates and runs a pipeline (no cache, one node at a time so BLAS has both
        threads); returns node seconds, metrics, the model's per-epoch reports, RSS."""
        d = os.path.join(self.tmp, "lathe", "%s-%d" % (name, self.n + 1))
        os.makedirs(d)
        path = os.path.join(d, "pipeline.json")
        json.dump(pipeline, open(path, "w"), indent=1)
        store = os.path.join(d, "store")
        v = subprocess.run([LATHE, "validate", "--json", path], capture_output=True, text=True,
                           env=self.lathe_env)
        if v.returncode != 0:
            try:
                problems = [p["pointer"] + ": " + p["message"] for p in json.loads(v.stdout)["problems"]]
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
            errs = ["%s: %s" % (n["id"], n.get("error")) for n in out.get("nodes", []) if n.get("error")]
            return {"error": "run %s: %s" % (out.get("status"), "; ".join(errs) or self.tail(r)),
                    "pipeline": path}
        show = subprocess.run([LATHE, "runs", "show", "--json", "--store", store, out["run_id"]],
                              capture_output=True, text=True, env=self.lathe_env, check=True)
        execs = {e["id"]: e for e in json.loads(show.stdout)["nodes"]}
        model = execs.get(model_node, {})
        reports = {}
        for rep in sorted(model.get("reports", []), key=lambda x: x["step"]):
            reports.setdefault(rep["name"], []).append(rep["value"])
        node_s = {n["id"]: n["seconds"] for n in out["nodes"]}
        return {"run_id": out["run_id"], "store": store,
                "outputs": {k: e.get("outputs", {}) for k, e in execs.items()},
                "wall": r["wall"], "maxrss_mib": r["maxrss_mib"],
                "node_seconds": node_s, "fit_seconds": node_s.get(model_node),
                "metrics": out.get("metrics", {}), "model_metrics": model.get("metrics", {}),
                "reports": reports, "epoch_seconds": reports.get("epoch_seconds"),
                "pipeline": path}

    # -- references --------------------------------------------------------------


def epoch_median(epoch_s):
    """Median of epochs 2..N (epoch 1 warms caches and allocators); all when N = 1."""
    if not epoch_s:
        return None
    return statistics.median(epoch_s[1:] if len(epoch_s) > 1 else epoch_s)


# -- IDEKO --------------------------------------------------------------------------
def ideko_split(b):
    """The split over recordings, computed once; two folders of symlinks for both sides."""
    from sklearn.model_selection import train_test_split
    recs = ideko.list_recordings(DATA)
    if not recs:
        raise RuntimeError("no recordings under %s" % DATA)
    paths, classes = [p for p, _ in recs], [c for _, c in recs]
    train, test = train_test_split(paths, test_size=0.2, stratify=classes, random_state=123)
    dirs = {}
    for side, files in (("train", train), ("test", test)):
        dirs[side] = os.path.join(b.tmp, "ideko", side)
        for rel in files:
            dst = os.path.join(dirs[side], rel)
            os.makedirs(os.path.dirname(dst), exist_ok=True)
            os.symlink(os.path.join(os.path.abspath(DATA), rel), dst)
    max_len = max(ideko.count_rows(os.path.join(DATA, p)) for p in paths)
    return {"train_dir": dirs["train"], "test_dir": dirs["test"], "n_train": len(train),
            "n_test": len(test), "max_length": max_len, "test_files": sorted(test)}


def ideko_pipeline(family, split, seed, epochs):
    """source/recordings x2 -> [downsample] -> [rolling] -> standardize -> pad | window
    -> model -> evaluator; the same steps torch_ref.py takes."""
    win = family == "lstm-win"
    spec = WINDOW if win else FAMILIES[family]
    nodes = []
    cur = {}
    for side in ("train", "test"):
        nodes.append({"id": side, "use": "source/recordings",
                      "with": {"path": split[side + "_dir"], "columns": ["f3"],
                               "label_from": "folder"}})
        cur[side] = side
        if spec["factor"] > 1:
            nodes.append({"id": "down_" + side, "use": "transform/downsample", "in": {"data": cur[side]},
                          "with": {"factor": spec["factor"], "mode": "every"}})
            cur[side] = "down_" + side
        if win:
            nodes.append({"id": "roll_" + side, "use": "transform/rolling", "in": {"data": cur[side]},
                          "with": {"window": spec["rolling"], "columns": ["f3"],
                                   "stats": ["mean", "std"]}})
            cur[side] = "roll_" + side
    nodes.append({"id": "std", "use": "transform/standardize",
                  "in": {"train": cur["train"], "test": cur["test"]}})
    for side in ("train", "test"):
        if win:
            nodes.append({"id": "win_" + side, "use": "transform/window", "in": {"data": "std." + side},
                          "with": {"seq_len": spec["seq_len"], "stride": spec["stride"],
                                   "label": "recording"}})
            cur[side] = "win_" + side
        else:
            length = -(-split["max_length"] // spec["factor"])
            nodes.append({"id": "pad_" + side, "use": "transform/pad", "in": {"data": "std." + side},
                          "with": {"length": length}})
            cur[side] = "pad_" + side
    use, params = ("model/lstm", {"units": [64, 64], "pooling": "last"}) if win else (spec["use"], spec["with"])
    nodes.append({"id": "model", "use": use, "in": {"train": cur["train"]},
                  "with": dict(params, epochs=epochs, **TRAIN)})
    nodes.append({"id": "eval", "use": "evaluator/classification",
                  "in": {"model": "model", "data": cur["test"]}})
    if win:
        nodes.append({"id": "eval_rec", "use": "evaluator/classification",
                      "in": {"model": "model", "data": cur["test"]}, "with": {"aggregate": "group"}})
    return {"lathe": 1, "name": "bench-nn-" + family, "seed": seed, "nodes": nodes}


def check_inputs(family, split, lathe_run):
    """Compares what Lathe's model node trained and was scored on (the pad_* or win_*
    artifacts in the run store) with what torch_ref.prepare() feeds PyTorch."""
    spec = torch_ref.FAMILIES[family]
    data, classes, _ = torch_ref.prepare(split["train_dir"], split["test_dir"],
                                         split["max_length"], spec)
    prefix = "win_" if "seq_len" in spec else "pad_"
    out = {"match": True}
    for side, (X, L, y) in (("train", data[0:3]), ("test", data[3:6])):
        digest = lathe_run["outputs"][prefix + side]["data"]
        ds = lathe_ds.read(os.path.join(lathe_run["store"], "artifacts", "sha256", digest[:2], digest[2:]))
        same_shape = ds["x"].size == X.size and ds["x"].shape[0] == X.shape[0]
        diff = float(abs(ds["x"].reshape(X.shape) - X).max()) if same_shape else None
        lengths_ok = same_shape and (ds["lengths"] is None or bool((ds["lengths"] == L).all()))
        names = [ds["classes"][i] for i in ds["labels"]] if ds["labels"] is not None else None
        labels_ok = names == [classes[i] for i in y]
        ok = same_shape and diff <= 1e-4 and lengths_ok and labels_ok
        steps = ds["seq_len"] or 1
        out[side] = {"lathe_shape": [int(ds["x"].shape[0]), steps, len(ds["columns"]) // steps],
                     "torch_shape": list(X.shape), "max_abs_diff": diff,
                     "lengths_equal": lengths_ok, "labels_equal": labels_ok}
        out["match"] = out["match"] and ok
    return out


def ideko_family(b, family, split, epochs, results):
    runs = {"lathe": [], "torch": []}
    check = None
    for rep in range(REPS):
        t = b.run_ref("torch-%s" % family, "torch_ref.py",
                      [family, "--train", split["train_dir"], "--test", split["test_dir"],
                       "--max-length", str(split["max_length"]), "--epochs", str(epochs),
                       "--seed", str(rep), "--threads", str(THREADS)])
        runs["torch"].append(t)
        l = b.run_lathe("ideko-%s" % family, ideko_pipeline(family, split, rep, epochs))
        runs["lathe"].append(l)
        if CHECK and check is None and "error" not in l:
            try:
                check = check_inputs(family, split, l)
            except (OSError, KeyError, ValueError) as e:  # report it; the timings still stand
                check = {"match": False, "error": "input check failed: %s" % e}
        for side in ("torch", "lathe"):
            r = runs[side][-1]
            if "error" in r:
                print("  %s %s rep %d: %s" % (family, side, rep, r["error"]))
    summ = {}
    for side in ("lathe", "torch"):
        ok = [r for r in runs[side] if "error" not in r]
        if side == "lathe":
            acc = [r["metrics"].get("eval.accuracy") for r in ok]
            f1 = [r["metrics"].get("eval.macro_f1") for r in ok]
            rec = [r["metrics"].get("eval_rec.accuracy") for r in ok]
        else:
            acc = [r["accuracy"] for r in ok]
            f1 = [r["macro_f1"] for r in ok]
            rec = [r.get("recording_accuracy") for r in ok]
        summ[side] = {
            "ok_runs": len(ok), "epoch_seconds": med([epoch_median(r["epoch_seconds"]) for r in ok]),
            "fit_seconds": med([r["fit_seconds"] for r in ok]),
            "maxrss_mib": med([r["maxrss_mib"] for r in ok]), "wall": med([r["wall"] for r in ok]),
            "accuracy": med(acc), "macro_f1": med(f1), "accuracies": acc,
            "recording_accuracy": med(rec),
            "errors": [r["error"] for r in runs[side] if "error" in r]}
    tr = [r for r in runs["torch"] if "error" not in r]
    summ["torch"]["params"] = tr[0]["params"] if tr else None
    la = [r for r in runs["lathe"] if "error" not in r]
    if la and not la[0]["epoch_seconds"]:
        summ["lathe"]["errors"].append("model reported no epoch_seconds: per-epoch time unavailable")
    L, T = summ["lathe"], summ["torch"]
    summ["ratios"] = {"epoch_time_lathe_over_torch": ratio(L["epoch_seconds"], T["epoch_seconds"]),
                      "fit_time_lathe_over_torch": ratio(L["fit_seconds"], T["fit_seconds"]),
                      "rss_lathe_over_torch": ratio(L["maxrss_mib"], T["maxrss_mib"]),
                      "accuracy_diff_points": points(L["accuracy"], T["accuracy"]),
                      "macro_f1_diff_points": points(L["macro_f1"], T["macro_f1"])}
    summ["epochs"] = epochs
    model = next(n for n in ideko_pipeline(family, split, 0, epochs)["nodes"] if n["id"] == "model")
    summ["lathe_model"] = {"use": model["use"], "with": model["with"]}
    summ["torch_model"] = FAMILIES[family]["torch"] if family in FAMILIES else WINDOW["torch"]
    summ["inputs_check"] = check
    summ["runs"] = runs
    results[family] = summ
    R = summ["ratios"]
    print("%-8s %7s %7s %6s | %6s %6s %5s | %6s %6s %6s | %5s %5s" % (
        family, fmt(L["epoch_seconds"]), fmt(T["epoch_seconds"]),
        fmt(R["epoch_time_lathe_over_torch"], "%.2f"), fmt(L["maxrss_mib"], "%.0f"),
        fmt(T["maxrss_mib"], "%.0f"), fmt(R["rss_lathe_over_torch"], "%.2f"),
        fmt(L["accuracy"], "%.3f"), fmt(T["accuracy"], "%.3f"),
        fmt(R["accuracy_diff_points"], "%+.1f"), fmt(L["macro_f1"], "%.3f"),
        fmt(T["macro_f1"], "%.3f")), flush=True)
    if check and not check["match"]:
        print("  WARNING: %s: Lathe and PyTorch trained on different inputs: %s"
              % (family, json.dumps(check)))


def print_checks(res):
    checked = {f: v["inputs_check"] for f, v in res.items() if v.get("inputs_check")}
    same = [f for f, c in checked.items() if c["match"]]
    if same:
        worst = max(checked[f][s]["max_abs_diff"] for f in same for s in ("train", "test"))
        print("inputs: %s fed identical model inputs on both sides (shapes, valid lengths, "
              "labels; max |diff| %.2g, float32 rounding)" % (", ".join(same), worst))
    differ = [f for f in checked if f not in same]
    if differ:
        print("inputs: WARNING: %s fed DIFFERENT inputs to Lathe and PyTorch (inputs_check in "
              "the JSON)" % ", ".join(differ))


IDEKO_HEAD = ("%-8s %7s %7s %6s | %6s %6s %5s | %6s %6s %6s | %5s %5s" % (
    "family", "epoch s", "torch", "ratio", "RSS MB", "torch", "ratio", "acc", "torch", "diff",
    "F1", "torch"))


def section_ideko(b, results):
    split = ideko_split(b)
    # The folders are temporary: keep what they held, not where.
    results["ideko_split"] = {k: v for k, v in split.items() if not k.endswith("_dir")}
    print("\nIDEKO f3: %d train / %d test recordings (split over files, stratified, random_state "
          "123), longest %d samples; %d epochs, %d rep(s), Adam lr 1e-3, batch 64, %d threads"
          % (split["n_train"], split["n_test"], split["max_length"], EPOCHS, REPS, THREADS))
    print("epoch s = median of epochs 2..N; RSS = peak of the whole process; acc/F1 on the test "
          "recordings; ratio = Lathe / torch; diff = Lathe - torch in points")
    if "ideko" in ONLY:
        print(IDEKO_HEAD)
        res = results.setdefault("ideko", {})
        for fam in FAMILY_LIST:
            ideko_family(b, fam, split, EPOCHS, res)
        print_checks(res)
    if "window" in ONLY:
        print("\nwindowed LSTM [64,64]: 50 Hz f3 + rolling mean/std 10, windows of 10 stride 2, "
              "label of the recording; %d epoch(s); acc = window level, rec = per recording "
              "(mean window probability)" % WIN_EPOCHS)
        print(IDEKO_HEAD)
        res = results.setdefault("ideko_window", {})
        ideko_family(b, "lstm-win", split, WIN_EPOCHS, res)
        print_checks(res)
        w = res["lstm-win"]
        print("         recording-level accuracy: Lathe %s, torch %s; windows: train %s, test %s"
              % (fmt(w["lathe"]["recording_accuracy"], "%.3f"), fmt(w["torch"]["recording_accuracy"], "%.3f"),
                 next((r["n_train"] for r in w["runs"]["torch"] if "n_train" in r), "-"),
                 next((r["n_test"] for r in w["runs"]["torch"] if "n_test" in r), "-")))


# -- scikit-learn tables ------------------------------------------------------------
def section_sklearn(b, results):
    from sklearn import datasets
    from sklearn.model_selection import train_test_split
    loaders = {"iris": datasets.load_iris, "wine": datasets.load_wine,
               "breast_cancer": datasets.load_breast_cancer, "digits": datasets.load_digits}
    print("\nMLP (100,100) relu, Adam lr 1e-3, batch min(64, n), %d epochs, no L2, standardised; "
          "80/20 stratified split (random_state 0); %d seed(s); fit s = median" % (SK_EPOCHS, SK_REPS))
    print("%-14s %6s %8s %8s %7s | %6s %6s %6s | %s" % ("dataset", "train", "Lathe s", "sklearn",
                                                          "speedup", "acc", "sklearn", "diff", "goal"))
    res = results.setdefault("sklearn_mlp", {})
    for name, load in loaders.items():
        X, y = load(return_X_y=True)
        Xtr, Xte, ytr, yte = train_test_split(X, y, test_size=0.2, stratify=y, random_state=0)
        d = os.path.join(b.tmp, "tables", name)
        os.makedirs(d)
        for fname, XX, yy in (("train.csv", Xtr, ytr), ("test.csv", Xte, yte)):
            with open(os.path.join(d, fname), "w") as f:
                f.write(",".join(["f%d" % j for j in range(X.shape[1])] + ["label"]) + "\n")
                for row, lab in zip(XX, yy):
                    f.write(",".join(repr(float(v)) for v in row) + ",c%d\n" % lab)
        sk = b.run_ref("sklearn-" + name, "sklearn_mlp_ref.py",
                       ["--train", os.path.join(d, "train.csv"), "--test", os.path.join(d, "test.csv"),
                        "--epochs", str(SK_EPOCHS), "--seeds", ",".join(str(s) for s in range(SK_REPS))])
        lathe_runs = []
        for seed in range(SK_REPS):
            nodes = [
                {"id": "train", "use": "source/csv", "with": {"path": os.path.join(d, "train.csv"), "label": "label"}},
                {"id": "test", "use": "source/csv", "with": {"path": os.path.join(d, "test.csv"), "label": "label"}},
                {"id": "std", "use": "transform/standardize", "in": {"train": "train", "test": "test"}},
                {"id": "model", "use": "model/mlp", "in": {"train": "std.train"},
                 "with": dict(TRAIN, units=[100, 100], activation="relu", epochs=SK_EPOCHS,
                              batch_size=min(64, len(Xtr)))},
                {"id": "eval", "use": "evaluator/classification",
                 "in": {"model": "model", "data": "std.test"}}]
            lathe_runs.append(b.run_lathe("table-" + name, {"lathe": 1, "name": "bench-nn-" + name,
                                                              "seed": seed, "nodes": nodes}))
        ok = [r for r in lathe_runs if "error" not in r]
        sk_ok = [] if "error" in sk else sk["runs"]
        L = {"fit_seconds": med([r["fit_seconds"] for r in ok]),
             "accuracy": med([r["metrics"].get("eval.accuracy") for r in ok]),
             "macro_f1": med([r["metrics"].get("eval.macro_f1") for r in ok]),
             "epoch_seconds": med([epoch_median(r["epoch_seconds"]) for r in ok]),
             "errors": [r["error"] for r in lathe_runs if "error" in r], "runs": lathe_runs}
        S = {"fit_seconds": med([r["fit_seconds"] for r in sk_ok]),
             "accuracy": med([r["accuracy"] for r in sk_ok]),
             "macro_f1": med([r["macro_f1"] for r in sk_ok]),
             "errors": [sk["error"]] if "error" in sk else [], "runs": sk_ok}
        speedup = ratio(S["fit_seconds"], L["fit_seconds"])
        diff = points(L["accuracy"], S["accuracy"])
        goal = None if speedup is None or diff is None else (speedup >= 2.0 and diff >= -1.0)
        res[name] = {"n_train": len(Xtr), "n_test": len(Xte), "n_features": X.shape[1],
                     "lathe": L, "sklearn": S,
                     "ratios": {"fit_time_lathe_over_sklearn": ratio(L["fit_seconds"], S["fit_seconds"]),
                                "speedup_sklearn_over_lathe": speedup,
                                "accuracy_diff_points": diff,
                                "macro_f1_diff_points": points(L["macro_f1"], S["macro_f1"])},
                     "goal_met": goal}
        print("%-14s %6d %8s %8s %7s | %6s %6s %6s | %s" % (
            name, len(Xtr), fmt(L["fit_seconds"], "%.4f"), fmt(S["fit_seconds"], "%.4f"),
            fmt(speedup, "%.2fx"), fmt(L["accuracy"], "%.3f"), fmt(S["accuracy"], "%.3f"),
            fmt(diff, "%+.1f"), {True: "met", False: "NOT met", None: "-"}[goal]), flush=True)
        for e in L["errors"] + S["errors"]:
            print("  %s: %s" % (name, e))
    print("goal: Lathe >= 2x faster (speedup = sklearn s / Lathe s) at accuracy within 1 point "
          "(diff >= -1)")


# -- GFLOP/s ------------------------------------------------------------------------
def section_gflops(b, results):
    rows = (results.get("ideko_split") or {}).get("n_train", 124)
    max_len = (results.get("ideko_split") or {}).get("max_length", 19309)
    dims = [max_len, 100, 100, 100, 3]
    args = ["--rows", str(rows), "--dims", ",".join(map(str, dims)), "--batch", "64",
            "--threads", str(THREADS)]
    if QUICK:
        args += ["--min-time", "0.05", "--reps", "3"]
    g = b.run_ref("sgemm", "sgemm_shapes.py", args)
    flops = sum(2.0 * m * k * n * c for _, m, k, n, _, _, c in sgemm_shapes.gemms(rows, dims, 64))
    # The brief's nominal count: forward 2*N*in*out per layer, backward twice that.
    nominal = 3 * sum(2.0 * rows * dims[i] * dims[i + 1] for i in range(len(dims) - 1))
    mlp = (results.get("ideko") or {}).get("mlp", {})
    l_s = (mlp.get("lathe") or {}).get("epoch_seconds")
    t_s = (mlp.get("torch") or {}).get("epoch_seconds")
    sg = None if "error" in g else g["epoch_gflops"]
    out = {"rows": rows, "dims": dims, "batch": 64, "epoch_flops": flops,
           "epoch_flops_nominal": nominal,
           "lathe_epoch_seconds": l_s, "torch_epoch_seconds": t_s,
           "lathe_gflops": flops / l_s / 1e9 if l_s else None,
           "lathe_gflops_nominal": nominal / l_s / 1e9 if l_s else None,
           "torch_gflops": flops / t_s / 1e9 if t_s else None,
           "sgemm_epoch_seconds": None if "error" in g else g["epoch_gemm_seconds"],
           "sgemm_gflops": sg, "sgemm": g}
    out["lathe_over_sgemm"] = ratio(out["lathe_gflops"], sg)
    out["torch_over_sgemm"] = ratio(out["torch_gflops"], sg)
    results["gflops"] = out
    print("\nMLP [100,100,100] training epoch on %d x %d: %.3f GFLOP in its GEMMs (forward, weight "
          "gradients, input gradients except the first layer's; the nominal 3 x forward is %.3f)"
          % (rows, max_len, flops / 1e9, nominal / 1e9))
    if "error" in g:
        print("  sgemm: %s" % g["error"])
    first = next((x for x in g.get("gemms", []) if x["gemm"].startswith("fwd L1")), None)
    print("  cblas_sgemm alone (libopenblas.so.0 via ctypes, Lathe's calls: W[out][in], core %s, "
          "%s threads): %s s per epoch -> %s GFLOP/s%s" % (
              g.get("blas_core"), g.get("threads"), fmt(out["sgemm_epoch_seconds"], "%.4f"),
              fmt(sg, "%.1f"),
              "" if not first else "; 64x%dx100 forward alone %.1f" % (max_len, first["gflops"])))
    alt = (g.get("layouts") or {}).get("in-out")
    if alt:
        out["sgemm_gflops_in_out_layout"] = alt["epoch_gflops"]
        print("  (the same GEMMs with W stored [in][out]: %.4f s -> %.1f GFLOP/s)"
              % (alt["epoch_gemm_seconds"], alt["epoch_gflops"]))
    print("  Lathe: %s s per epoch -> %s GFLOP/s (nominal count: %s) = %s of sgemm"
          % (fmt(l_s, "%.4f"), fmt(out["lathe_gflops"], "%.1f"), fmt(out["lathe_gflops_nominal"], "%.1f"),
             fmt(out["lathe_over_sgemm"], "%.2f")))
    print("  torch: %s s per epoch -> %s GFLOP/s = %s of sgemm"
          % (fmt(t_s, "%.4f"), fmt(out["torch_gflops"], "%.1f"), fmt(out["torch_over_sgemm"], "%.2f")))
    if not l_s:
        print("  (the epoch times come from the ideko section's mlp family, which did not run or "
              "failed)")


def main():
    if not os.access(LATHE, os.X_OK):
        sys.exit("no lathe binary at %s; build first (bench/run.sh nn does)" % LATHE)
    results = {"quick": QUICK, "reps": REPS, "sklearn_reps": SK_REPS, "epochs": EPOCHS,
               "window_epochs": WIN_EPOCHS, "sklearn_epochs": SK_EPOCHS, "threads": THREADS,
               "build": BUILD}
    tmp = tempfile.mkdtemp(prefix="lathe-bench-nn-")
    try:
        b = Bench(tmp)
        b.blas()
        b.python_versions()
        results["config"] = b.config
        comps = b.components()
        results["config"]["lathe_components"] = sorted(comps)
        if b.config.get("torch_version") is None and ONLY & {"ideko", "window"}:
            print("PyTorch is not importable by %s: the torch side will fail (bench/run.sh installs "
                  "python3-torch)" % PY)
        if ONLY & {"ideko", "window", "gflops"}:
            section_ideko(b, results)
        if "sklearn" in ONLY:
            section_sklearn(b, results)
        if "gflops" in ONLY:
            section_gflops(b, results)
    finally:
        if os.environ.get("BENCH_NN_KEEP") == "1":
            print("kept", tmp)
        else:
            shutil.rmtree(tmp, ignore_errors=True)
    out = os.path.join(SRC, "bench", "results-nn.json")
    with open(out, "w") as f:
        json.dump(results, f, indent=2)
    print("wrote", out)


if __name__ == "__main__":
    main()
