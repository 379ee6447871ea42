#!/usr/bin/python3
"""The issue's "real task": tune model/mlp on scikit-learn's digits with 40
trials, 2 in parallel, and report

  - the held-out accuracy of the tuned MLP against the MLP with default params;
  - how much the median stopping rule cuts the study's wall time, and what it
    costs in held-out accuracy.

Everything runs through `lathe run` (host overhead included). The digits come
from the Debian python3-sklearn package (sklearn/datasets/data/digits.csv.gz)
and are written to a temporary CSV; the test split (25 %, stratified, seed 11)
is never seen by the tuner, which scores trials on a holdout of the training
rows. Usage: bench_tune_mlp.py BUILD_DIR [--tuner tuner/tpe] [--seeds 0,1,2]
Writes bench/results-tune-mlp.json.
"""
import argparse
import gzip
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
DIGITS = "/usr/lib/python3/dist-packages/sklearn/datasets/data/digits.csv.gz"

SPACE = {
    "model.lr": {"low": 1e-4, "high": 3e-2, "log": True},
    "model.units": {"type": "categorical", "choices": [[32], [64], [128], [256], [64, 64], [128, 64], [256, 128]]},
    "model.dropout": {"low": 0.0, "high": 0.5},
    "model.weight_decay": {"low": 1e-7, "high": 1e-2, "log": True},
    "model.batch_size": {"type": "int", "low": 16, "high": 128, "step": 16},
    "model.activation": {},
}


def write_digits(path):
    with gzip.open(DIGITS, "rt") as f, open(path, "w") as out:
        out.write(",".join("p%d" % i for i in range(64)) + ",digit\n")
        for line in f:
            v = line.strip().split(",")
            if len(v) == 65:
                out.write(",".join(v[:64]) + ",d" + v[64].split(".")[0] + "\n")


def pipeline(csv, seed, tuner, pruner, parallel, trials):
    base = [
        {"id": "data", "use": "source/csv", "with": {"path": csv, "label": "digit"}},
        {"id": "split", "use": "transform/split", "in": {"data": "data"},
         "with": {"test_fraction": 0.25, "stratify": True, "seed": 11}},
    ]
    mlp = {"epochs": 40, "patience": 5}
    if tuner is None:
        nodes = base + [
            {"id": "model", "use": "model/mlp", "in": {"train": "split.train"}, "with": mlp},
            {"id": "eval", "use": "evaluator/classification", "in": {"model": "model", "data": "split.test"}},
        ]
    else:
        w = {"objective": "heval.accuracy", "direction": "maximize", "space": SPACE,
             "max_trials": trials, "parallel_trials": parallel}
        if tuner == "tuner/tpe":
            w["constant_liar"] = True
        if pruner:
            w["pruner"] = {"rule": "median", "metric": "model.val_loss", "n_startup_trials": 5,
                           "n_warmup_steps": 3}
        nodes = base + [
            {"id": "holdout", "use": "transform/split", "in": {"data": "split.train"},
             "with": {"test_fraction": 0.2, "stratify": True, "seed": 5}},
            {"id": "tune", "use": tuner, "with": w,
             "trial": {"nodes": [
                 {"id": "model", "use": "model/mlp", "in": {"train": "holdout.train"}, "with": mlp},
                 {"id": "heval", "use": "evaluator/classification",
                  "in": {"model": "model", "data": "holdout.test"}}],
                 "output": "model"}},
            {"id": "eval", "use": "evaluator/classification", "in": {"model": "tune.model", "data": "split.test"}},
        ]
    return {"lathe": 1, "name": "digits-mlp", "seed": seed, "nodes": nodes}


def run(lathe, pipe, tmp, tag):
    path = os.path.join(tmp, tag + ".json")
    with open(path, "w") as f:
        json.dump(pipe, f)
    env = dict(os.environ, LATHE_CACHE_DIR=os.path.join(tmp, "cache"))
    t0 = time.monotonic()
    p = subprocess.run([lathe, "run", "--json", "--no-cache", "--jobs", "2", "--store",
                        os.path.join(tmp, tag + "-store"), path], capture_output=True, text=True, env=env)
    wall = time.monotonic() - t0
    out = json.loads(p.stdout) if p.stdout.strip().startswith("{") else {}
    if p.returncode != 0 or out.get("status") != "succeeded":
        sys.exit("%s failed (%d): %s" % (tag, p.returncode, p.stderr[-2000:]))
    m = out["metrics"]
    return {"wall_seconds": wall, "test_accuracy": m["eval.accuracy"],
            "n_trials": m.get("tune.n_trials"), "n_pruned": m.get("tune.n_pruned"),
            "best_holdout_accuracy": m.get("tune.best_value"), "run_id": out["run_id"]}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("build")
    ap.add_argument("--tuner", default="tuner/tpe")
    ap.add_argument("--seeds", default="0,1,2")
    ap.add_argument("--trials", type=int, default=40)
    ap.add_argument("--out", default=os.path.join(ROOT, "bench", "results-tune-mlp.json"))
    a = ap.parse_args()
    lathe = os.path.join(os.path.abspath(a.build), "lathe")
    seeds = [int(s) for s in a.seeds.split(",")]
    res = {"tuner": a.tuner, "trials": a.trials, "parallel_trials": 2, "seeds": seeds,
           "space": SPACE, "runs": []}
    with tempfile.TemporaryDirectory(prefix="lathe-bench-tune-mlp-") as tmp:
        csv = os.path.join(tmp, "digits.csv")
        write_digits(csv)
        for s in seeds:
            row = {"seed": s}
            for tag, tuner, pruner in (("default", None, False), ("tuned", a.tuner, False),
                                       ("tuned_median_stop", a.tuner, True)):
                row[tag] = run(lathe, pipeline(csv, s, tuner, pruner, 2, a.trials), tmp, "%s-%d" % (tag, s))
                print("seed %d %-18s test acc %.4f  %6.1f s  trials %s pruned %s" % (
                    s, tag, row[tag]["test_accuracy"], row[tag]["wall_seconds"],
                    row[tag]["n_trials"], row[tag]["n_pruned"]), flush=True)
            res["runs"].append(row)
    med = lambda k, f: statistics.median(r[k][f] for r in res["runs"])
    res["summary"] = {
        "default_test_accuracy_median": med("default", "test_accuracy"),
        "tuned_test_accuracy_median": med("tuned", "test_accuracy"),
        "tuned_median_stop_test_accuracy_median": med("tuned_median_stop", "test_accuracy"),
        "accuracy_gain_points_median": statistics.median(
            100 * (r["tuned"]["test_accuracy"] - r["default"]["test_accuracy"]) for r in res["runs"]),
        "median_stop_time_ratio_median": statistics.median(
            r["tuned_median_stop"]["wall_seconds"] / r["tuned"]["wall_seconds"] for r in res["runs"]),
        "median_stop_accuracy_cost_points_median": statistics.median(
            100 * (r["tuned"]["test_accuracy"] - r["tuned_median_stop"]["test_accuracy"]) for r in res["runs"]),
    }
    print(json.dumps(res["summary"], indent=2))
    with open(a.out, "w") as f:
        json.dump(res, f, indent=2)


if __name__ == "__main__":
    main()
