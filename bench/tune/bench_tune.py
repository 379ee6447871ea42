#!/usr/bin/python3
"""Lathe's tuners against Optuna 3.1 on the issue 5 functions, side by side.

Usage: bench/run.sh tune   (builds, then runs /usr/bin/python3 bench/tune/bench_tune.py build)
       /usr/bin/python3 bench/tune/bench_tune.py [BUILD_DIR]

Sections (bench/tune/README.md says exactly what each measures):
  quality  best value after 25, 50 and 100 trials, median and IQR over the seeds, on
           Branin, Hartmann-6, Rosenbrock-10 and Ackley-10: Lathe's tuner/random,
           tuner/tpe and tuner/bayes end to end through `lathe run`, against Optuna's
           TPESampler, RandomSampler and CmaEsSampler (and a scikit-learn GP-EI
           baseline, gp_ei_ref.py, unless BENCH_TUNE_GP=0)
  cost     time per proposal at 50, 200 and 1000 completed trials on a 2-D and a 10-D
           space: Lathe's samplers alone (build/bench/tune-sampler-cost) against
           Optuna's study.ask()

Environment:
  BENCH_SEEDS           seeds 0..N-1 per function and sampler (default 20)
  BENCH_TUNE_TRIALS     trials per study (default 100)
  BENCH_TUNE_QUICK=1    smoke test: 3 seeds, 3 proposals per cost point
  BENCH_TUNE_ONLY       comma list of sections (default quality,cost)
  BENCH_TUNE_FUNCTIONS  comma list (default branin,hartmann6,rosenbrock,ackley)
  BENCH_TUNE_JOBS       studies run at once in the quality section (default 1); the
                        values found do not depend on it, the wall times do
  BENCH_TUNE_GP=0       leave out the scikit-learn GP-EI baseline
  BENCH_TUNE_GP_SEEDS   its seeds (default min(5, BENCH_SEEDS): a study costs 5-70 s)
  BENCH_TUNE_KEEP=1     keep the temporary folder (pipelines, stores, logs)

Prints tables and writes bench/results-tune.json with every number, ratio and goal.
"""
import concurrent.futures
import json
import math
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
SRC = os.path.dirname(os.path.dirname(HERE))
sys.dont_write_bytecode = True
sys.path.insert(0, HERE)
import functions  # noqa: E402

BUILD = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else os.path.join(SRC, "build"))
LATHE = os.path.join(BUILD, "lathe")
COST_EXE = os.path.join(BUILD, "bench", "tune-sampler-cost")
FN_PLUGIN = os.path.join(BUILD, "bench", "liblathe-bench-functions.so")
PY = "/usr/bin/python3"
QUICK = os.environ.get("BENCH_TUNE_QUICK") == "1"
SEEDS = int(os.environ.get("BENCH_SEEDS") or (3 if QUICK else 20))
TRIALS = int(os.environ.get("BENCH_TUNE_TRIALS") or 100)
ONLY = set((os.environ.get("BENCH_TUNE_ONLY") or "quality,cost").split(","))
FUNCS = (os.environ.get("BENCH_TUNE_FUNCTIONS") or "branin,hartmann6,rosenbrock,ackley").split(",")
JOBS = max(1, int(os.environ.get("BENCH_TUNE_JOBS") or 1))
WITH_GP = os.environ.get("BENCH_TUNE_GP", "1") != "0" and os.path.exists(
    os.path.join(HERE, "gp_ei_ref.py"))
GP_SEEDS = min(SEEDS, int(os.environ.get("BENCH_TUNE_GP_SEEDS") or 5))
AT = [t for t in (25, 50, 100) if t <= TRIALS]
LATHE_TUNERS = ["random", "tpe", "bayes"]
OPTUNA_SAMPLERS = ["tpe", "random", "cmaes"]
COST_SIZES = [50, 200, 1000]
COST_K = 3 if QUICK else 10  # Optuna proposals per cost point (one costs ~0.3 s at 1000)
TIMEOUT = 3600


def clean(v):
    """NaN and infinities as null: the results file is strict JSON."""
    if isinstance(v, float) and not math.isfinite(v):
        return None
    if isinstance(v, dict):
        return {k: clean(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [clean(x) for x in v]
    return v


def quartiles(xs):
    """(q1, median, q3), linear interpolation between order statistics (numpy's
    default percentile); NaN where there is nothing."""
    xs = sorted(x for x in xs if x is not None and not math.isnan(x))
    if not xs:
        return (math.nan,) * 3
    if len(xs) == 1:
        return (xs[0],) * 3
    q = statistics.quantiles(xs, n=4, method="inclusive")
    return (q[0], q[1], q[2])


def summary(curves):
    """Median and IQR of the best value after each of AT trials."""
    out = {}
    for t in AT:
        vals = [c[t - 1] for c in curves if len(c) >= t and c[t - 1] is not None]
        q1, med, q3 = quartiles(vals)
        out[str(t)] = {"median": med, "q1": q1, "q3": q3, "n": len(vals)}
    return out


def trials_to(curves, target):
    """Per seed, the first trial count whose best is <= target (None: never), and
    their median (None when more than half never got there)."""
    firsts = []
    for c in curves:
        firsts.append(next((i + 1 for i, v in enumerate(c) if v is not None and v <= target),
                           None))
    keyed = sorted(math.inf if f is None else f for f in firsts)
    med = statistics.median(keyed) if keyed else math.inf
    return firsts, (None if math.isinf(med) else med)


class Bench:
    def __init__(self, tmp):
        self.tmp = tmp
        plugdir = os.path.join(tmp, "plugins")
        os.makedirs(plugdir)
        # only transform/benchfn: the 12 filler plugins beside it in build/bench stay out
        shutil.copy(FN_PLUGIN, plugdir)
        self.lathe_env = dict(os.environ, LATHE_PLUGIN_PATH=plugdir,
                              LATHE_CACHE_DIR=os.path.join(tmp, "plugin-cache"),
                              OPENBLAS_NUM_THREADS="2")
        self.ref_env = dict(os.environ, OPENBLAS_NUM_THREADS="2", OMP_NUM_THREADS="2")
        self.results = {"config": {}, "skipped": {}, "quality": {}, "cost": {}, "goals": {}}
        self.tuners = []

    def setup(self):
        cfg = self.results["config"]
        ver = subprocess.run([LATHE, "--version", "--json"], capture_output=True, text=True,
                             env=self.lathe_env, check=True).stdout
        cfg["lathe_version"] = json.loads(ver).get("version")
        comps = json.loads(subprocess.run([LATHE, "plugins", "--json"], capture_output=True,
                                          text=True, env=self.lathe_env, check=True).stdout)
        ids = {c["id"] for c in comps["components"]}
        if "transform/benchfn" not in ids:
            raise SystemExit("transform/benchfn is not loadable from %s; see `lathe plugins`"
                             % FN_PLUGIN)
        for t in LATHE_TUNERS:
            if "tuner/" + t in ids:
                self.tuners.append(t)
            else:
                self.results["skipped"]["lathe/" + t] = (
                    "tuner/%s is not listed by `lathe plugins` in %s" % (t, BUILD))
                print("skipping Lathe tuner/%s: `lathe plugins` does not list it" % t)
        for mod in ("optuna", "cmaes", "sklearn", "numpy"):
            r = subprocess.run([PY, "-c", "import %s; print(%s.__version__)" % (mod, mod)],
                               capture_output=True, text=True, env=self.ref_env)
            cfg[mod + "_version"] = r.stdout.strip() if r.returncode == 0 else None
        cfg.update({"seeds": SEEDS, "gp_ei_seeds": GP_SEEDS if WITH_GP else 0, "trials": TRIALS, "functions": FUNCS, "jobs": JOBS,
                    "quick": QUICK, "cores": os.cpu_count(),
                    "started": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                    "load_before": os.getloadavg()})

    # ---- quality ---------------------------------------------------------------------

    def pipeline(self, fn, tuner, seed):
        _, bounds, _ = functions.DOMAINS[fn]
        space = {"f.x%d" % i: {"type": "float", "low": lo, "high": hi}
                 for i, (lo, hi) in enumerate(bounds)}
        return {"lathe": 1, "name": "tune-%s-%s" % (fn, tuner), "seed": seed,
                "nodes": [{"id": "tune", "use": "tuner/" + tuner,
                           "with": {"objective": "f.value", "direction": "minimize",
                                    "space": space, "max_trials": TRIALS,
                                    "parallel_trials": 1},
                           "trial": {"nodes": [{"id": "f", "use": "transform/benchfn",
                                                "with": {"fn": fn}}]}}]}

    def lathe_study(self, fn, tuner, seed):
        """One `lathe run` (fresh store, no cache) and its study's convergence."""
        d = os.path.join(self.tmp, "lathe", "%s-%s-%d" % (fn, tuner, seed))
        os.makedirs(d)
        path = os.path.join(d, "pipeline.json")
        json.dump(self.pipeline(fn, tuner, seed), open(path, "w"), indent=1)
        store = os.path.join(d, "store")
        t = time.perf_counter()
        with open(os.path.join(d, "run.log"), "wb") as log:
            p = subprocess.run([LATHE, "run", "--jobs", "1", "--no-cache", "--store", store,
                                "--json", path], stdout=subprocess.PIPE, stderr=log,
                               env=self.lathe_env, timeout=TIMEOUT)
        wall = time.perf_counter() - t
        row = {"seed": seed, "wall_seconds": wall}
        try:
            run = json.loads(p.stdout)
        except ValueError:
            run = {}
        if p.returncode != 0 or "run_id" not in run:
            tail = open(os.path.join(d, "run.log"), errors="replace").read().strip()
            row["error"] = "lathe run exit %d: %s" % (p.returncode, tail[-400:])
            return row
        show = subprocess.run([LATHE, "study", "show", "--json", "--store", store,
                               "%s/tune" % run["run_id"]], capture_output=True, text=True,
                              env=self.lathe_env, timeout=TIMEOUT)
        if show.returncode != 0:
            row["error"] = "lathe study show exit %d: %s" % (show.returncode,
                                                            show.stderr.strip()[-400:])
            return row
        study = json.loads(show.stdout)
        row["best_so_far"] = study["best_so_far"]
        row["n_trials"] = len(study["trials"])
        row["n_complete"] = sum(1 for tr in study["trials"] if tr["state"] == "complete")
        return row

    def optuna_study(self, fn, sampler):
        """One reference process running every seed of (fn, sampler)."""
        out = os.path.join(self.tmp, "optuna", "%s-%s.json" % (fn, sampler))
        os.makedirs(os.path.dirname(out), exist_ok=True)
        script = "gp_ei_ref.py" if sampler == "gp-ei" else "optuna_ref.py"
        args = [PY, os.path.join(HERE, script), "quality", fn, sampler, str(SEEDS), str(TRIALS),
                out]
        if sampler == "gp-ei":
            args = [PY, os.path.join(HERE, script), fn, str(GP_SEEDS), str(TRIALS), out]
        p = subprocess.run(args, capture_output=True, text=True, env=self.ref_env,
                           timeout=4 * TIMEOUT)
        if p.returncode != 0:
            return {"error": "%s exit %d: %s" % (script, p.returncode, p.stderr.strip()[-400:])}
        return json.load(open(out))

    def quality(self):
        refs = list(OPTUNA_SAMPLERS) + (["gp-ei"] if WITH_GP else [])
        jobs = []
        if WITH_GP:  # the longest jobs first, so that the pool ends together
            jobs += [("sklearn", fn, "gp-ei", None) for fn in FUNCS]
        for fn in FUNCS:
            for s in OPTUNA_SAMPLERS:
                jobs.append(("optuna", fn, s, None))
            for t in self.tuners:
                for seed in range(SEEDS):
                    jobs.append(("lathe", fn, t, seed))
        got = {}
        with concurrent.futures.ThreadPoolExecutor(JOBS) as pool:
            futs = {}
            for job in jobs:
                side, fn, s, seed = job
                fut = (pool.submit(self.lathe_study, fn, s, seed) if side == "lathe"
                       else pool.submit(self.optuna_study, fn, s))
                futs[fut] = job
            done = 0
            for fut in concurrent.futures.as_completed(futs):
                got[futs[fut]] = fut.result()
                done += 1
                if done % 20 == 0 or done == len(jobs):
                    print("  quality: %d/%d studies done" % (done, len(jobs)), flush=True)
        q = self.results["quality"]
        for fn in FUNCS:
            q[fn] = {}
            for t in self.tuners:
                rows = [got[("lathe", fn, t, seed)] for seed in range(SEEDS)]
                q[fn]["lathe/" + t] = self.side_summary(fn, rows)
            for s in refs:
                side = "optuna" if s != "gp-ei" else "sklearn"
                r = got[(side, fn, s, None)]
                name = "%s/%s" % (side, s)
                if "error" in r:
                    q[fn][name] = {"error": r["error"]}
                    continue
                q[fn][name] = self.side_summary(fn, r["seeds"])

    @staticmethod
    def side_summary(fn, rows):
        errors = [r["error"] for r in rows if "error" in r]
        ok = [r for r in rows if "error" not in r]
        curves = [r["best_so_far"] for r in ok]
        f_star = functions.DOMAINS[fn][2]
        firsts, med_to = trials_to(curves, f_star + 1e-3)
        out = {"at": summary(curves), "seeds_ok": len(ok), "errors": errors[:3],
               "n_errors": len(errors),
               "best_at": {str(t): [c[t - 1] if len(c) >= t else None for c in curves]
                           for t in AT},
               "trials_to_within_1e-3": firsts, "median_trials_to_within_1e-3": med_to,
               "median_curve": [quartiles([c[i] for c in curves if len(c) > i])[1]
                                for i in range(TRIALS)],
               "wall_seconds_median": statistics.median([r["wall_seconds"] for r in ok])
               if ok else None}
        if ok and "ask_seconds" in ok[0]:
            out["ask_ms_per_trial_median"] = statistics.median(
                [1000.0 * r["ask_seconds"] / TRIALS for r in ok])
        return out

    # ---- cost ------------------------------------------------------------------------

    def cost(self):
        c = self.results["cost"]
        args = [COST_EXE, "--sizes", ",".join(map(str, COST_SIZES))] + (["--quick"] if QUICK
                                                                        else [])
        if "bayes" not in self.tuners:
            args += ["--only", "tpe"]  # the GP is benchmarked with tuner/bayes's own code
        p = subprocess.run(args, capture_output=True, text=True, env=self.lathe_env,
                           timeout=TIMEOUT)
        if p.returncode != 0:
            c["lathe_error"] = p.stderr.strip()[-400:]
            lathe = []
        else:
            lathe = json.loads(p.stdout)["results"]
        c["lathe"] = lathe
        optuna_rows = []
        for dims in (2, 10):
            for n in COST_SIZES:
                out = os.path.join(self.tmp, "cost-%d-%d.json" % (dims, n))
                r = subprocess.run([PY, os.path.join(HERE, "optuna_ref.py"), "cost", "tpe",
                                    str(dims), str(n), str(COST_K), out], capture_output=True,
                                   text=True, env=self.ref_env, timeout=TIMEOUT)
                if r.returncode != 0:
                    optuna_rows.append({"sampler": "tpe", "dims": dims, "n_trials": n,
                                        "error": r.stderr.strip()[-400:]})
                    continue
                ms = json.load(open(out))["ms"]
                optuna_rows.append({"sampler": "tpe", "dims": dims, "n_trials": n,
                                    "k": len(ms), "mean_ms": statistics.fmean(ms),
                                    "median_ms": statistics.median(ms), "min_ms": min(ms)})
                print("  cost: optuna tpe %2d-D N=%-5d %9.3f ms" % (dims, n,
                                                                    statistics.fmean(ms)),
                      flush=True)
        c["optuna"] = optuna_rows
        ratios = []
        for row in lathe:
            ref = next((o for o in optuna_rows if o["dims"] == row["dims"]
                        and o["n_trials"] == row["n_trials"] and "mean_ms" in o), None)
            if ref:
                ratios.append({"lathe": row["sampler"], "optuna": "tpe", "dims": row["dims"],
                               "n_trials": row["n_trials"],
                               "ratio_mean": row["mean_ms"] / ref["mean_ms"]})
        c["ratios"] = ratios

    # ---- goals -----------------------------------------------------------------------

    def goals(self):
        q, g = self.results["quality"], self.results["goals"]

        def at(fn, who, t):
            s = q.get(fn, {}).get(who)
            return None if not s or "at" not in s else s["at"].get(str(t))

        def need(*names):
            miss = [n for n in names if n not in self.tuners]
            return "tuner/%s was not run" % miss[0] if miss else None

        why = need("bayes") or ("branin not run" if "branin" not in q else None)
        g["bayes_branin_within_1e-3_in_40_trials_median"] = (
            {"met": None, "why": why} if why else
            {"met": (q["branin"]["lathe/bayes"]["median_trials_to_within_1e-3"] or math.inf) <= 40,
             "median_trials": q["branin"]["lathe/bayes"]["median_trials_to_within_1e-3"]})
        for t in self.tuners:
            if "hartmann6" in q and 100 in AT:
                m = at("hartmann6", "lathe/" + t, 100)["median"]
                g["hartmann6_le_-3.25_after_100_lathe_%s" % t] = {"met": m <= -3.25,
                                                                  "median": m}
        all4 = None if all(fn in q for fn in functions.DOMAINS) else \
            "not all four functions were run"
        why = need("bayes") or all4 or (None if 50 in AT else "fewer than 50 trials")
        if why:
            g["bayes_median_at_50_below_optuna_tpe_all_functions"] = {"met": None, "why": why}
        else:
            per = {fn: {"lathe_bayes": at(fn, "lathe/bayes", 50)["median"],
                        "optuna_tpe": at(fn, "optuna/tpe", 50)["median"]} for fn in q}
            for v in per.values():
                v["met"] = v["lathe_bayes"] < v["optuna_tpe"]
            g["bayes_median_at_50_below_optuna_tpe_all_functions"] = {
                "met": all(v["met"] for v in per.values()), "per_function": per}
        why = need("tpe") or all4
        if why:
            g["lathe_tpe_median_within_optuna_tpe_iqr"] = {"met": None, "why": why}
        else:
            per = {}
            for fn in q:
                for t in AT:
                    m, ref = at(fn, "lathe/tpe", t)["median"], at(fn, "optuna/tpe", t)
                    per["%s@%d" % (fn, t)] = {"lathe_tpe_median": m, "optuna_q1": ref["q1"],
                                              "optuna_q3": ref["q3"],
                                              "within": ref["q1"] <= m <= ref["q3"],
                                              "within_or_better": m <= ref["q3"]}
            g["lathe_tpe_median_within_optuna_tpe_iqr"] = {
                "met": all(v["within"] for v in per.values()),
                "met_or_better": all(v["within_or_better"] for v in per.values()),
                "per_point": per}
        c = self.results["cost"]
        r1000 = [r for r in c.get("ratios", []) if r["lathe"] == "tpe" and r["n_trials"] == 1000]
        if r1000:
            g["tpe_cost_le_0.1x_optuna_tpe_at_1000"] = {
                "met": all(r["ratio_mean"] <= 0.1 for r in r1000),
                "ratios": {"%d-D" % r["dims"]: r["ratio_mean"] for r in r1000}}
        b200 = [r for r in c.get("lathe", []) if r["sampler"] == "bayes" and r["n_trials"] == 200]
        if b200:
            g["bayes_le_50ms_per_proposal_at_200"] = {
                "met": all(r["mean_ms"] <= 50 for r in b200),
                "mean_ms": {"%d-D" % r["dims"]: r["mean_ms"] for r in b200}}
        elif "cost" in ONLY:
            g["bayes_le_50ms_per_proposal_at_200"] = {"met": None, "why": need("bayes")}

    # ---- output ----------------------------------------------------------------------

    def print_tables(self):
        q = self.results["quality"]
        if q:
            print("\nbest value after N trials: median [q1, q3] over %d seeds" % SEEDS)
            print("%-11s %-15s" % ("function", "sampler") +
                  "".join("%-36s" % ("@%d" % t) for t in AT) + "to 1e-3  s/study")
            for fn, sides in q.items():
                for who, s in sides.items():
                    if "at" not in s:
                        print("%-11s %-15s %s" % (fn, who, s.get("error", "?")[:100]))
                        continue
                    cells = "".join("%-36s" % ("%.4g [%.4g, %.4g]" % (s["at"][str(t)]["median"],
                                                                     s["at"][str(t)]["q1"],
                                                                     s["at"][str(t)]["q3"]))
                                    for t in AT)
                    to = s["median_trials_to_within_1e-3"]
                    print("%-11s %-15s %s%-8s %.2f%s" % (
                        fn, who, cells, "-" if to is None else "%g" % to,
                        s["wall_seconds_median"] or math.nan,
                        "  (%d errors: %s)" % (s["n_errors"], s["errors"][0][:80])
                        if s["n_errors"] else ""))
        c = self.results["cost"]
        if c:
            print("\ntime per proposal (ms, mean of a run of proposals ending at N completed "
                  "trials)")
            for row in c.get("lathe", []):
                ratio = next((r["ratio_mean"] for r in c["ratios"] if r["lathe"] == row["sampler"]
                              and r["dims"] == row["dims"] and r["n_trials"] == row["n_trials"]),
                             None)
                print("  lathe %-5s %2d-D N=%-5d %9.3f ms   vs optuna tpe: %s" % (
                    row["sampler"], row["dims"], row["n_trials"], row["mean_ms"],
                    "-" if ratio is None else "%.4fx" % ratio))
            for row in c.get("optuna", []):
                print("  optuna tpe  %2d-D N=%-5d %9.3f ms" % (row["dims"], row["n_trials"],
                                                             row.get("mean_ms", math.nan)))
        print("\ngoals:")
        for k, v in self.results["goals"].items():
            print("  %-55s %s" % (k, {True: "met", False: "NOT met", None: "not evaluated"}
                                  [v["met"]] + ("" if "why" not in v else " (%s)" % v["why"])))
        for k, v in self.results["skipped"].items():
            print("  skipped %s: %s" % (k, v))


def main():
    for f in (LATHE, FN_PLUGIN) + ((COST_EXE,) if "cost" in ONLY else ()):
        if not os.path.exists(f):
            raise SystemExit("%s is missing; build first (ninja -C %s)" % (f, BUILD))
    tmp = tempfile.mkdtemp(prefix="lathe-bench-tune-")
    try:
        b = Bench(tmp)
        b.setup()
        t0 = time.perf_counter()
        if "quality" in ONLY:
            b.quality()
        if "cost" in ONLY:
            b.cost()
        b.goals()
        b.results["config"]["seconds"] = time.perf_counter() - t0
        b.results["config"]["load_after"] = os.getloadavg()
        b.print_tables()
        out = os.path.join(SRC, "bench", "results-tune.json")
        json.dump(clean(b.results), open(out, "w"), indent=1, allow_nan=False)
        print("\nwrote %s" % out)
    finally:
        if os.environ.get("BENCH_TUNE_KEEP") == "1":
            print("kept %s" % tmp)
        else:
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
