#!/usr/bin/python3
"""The Optuna 3.1 reference of bench/tune, one process per call.

  optuna_ref.py quality FN SAMPLER SEEDS TRIALS OUT.json
      SAMPLER in tpe, random, cmaes (each with seed=s, all other arguments at their
      defaults); for each seed 0..SEEDS-1, a study of TRIALS trials minimising FN over
      its domain through ask/tell, with the params as suggest_float(x0..); writes
      {"seeds": [{"seed", "values", "best_so_far", "wall_seconds", "ask_seconds"}]}.
      ask_seconds is the time spent in study.ask(fixed_distributions), which is where
      the sampler runs (the suggest calls); the objective and tell are outside it.

  optuna_ref.py cost SAMPLER DIMS N K OUT.json
      The time per proposal with N completed trials: N-K trials at uniform random points
      (2-D: Branin's domain, 10-D: Rosenbrock's) are added with study.add_trials, one
      untimed proposal at N-K trials pays for Optuna's lazy imports, then K proposals in
      a row at N-K+1, ..., N completed trials are timed (ask only; each is evaluated and
      told, as a study goes on), as tune-sampler-cost does. Writes {"ms": [...]}.
"""
import json
import os
import random
import sys
import time
import warnings

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import functions  # noqa: E402

warnings.filterwarnings("ignore")
import optuna  # noqa: E402
from optuna.distributions import FloatDistribution  # noqa: E402

optuna.logging.set_verbosity(optuna.logging.ERROR)


def make_sampler(name, seed):
    if name == "tpe":
        return optuna.samplers.TPESampler(seed=seed)
    if name == "random":
        return optuna.samplers.RandomSampler(seed=seed)
    if name == "cmaes":
        return optuna.samplers.CmaEsSampler(seed=seed)
    raise SystemExit("unknown sampler %r (tpe, random, cmaes)" % name)


def distributions(bounds):
    return {"x%d" % i: FloatDistribution(lo, hi) for i, (lo, hi) in enumerate(bounds)}


def quality(fn, sampler, seeds, trials, out):
    dims, bounds, _ = functions.DOMAINS[fn]
    f = functions.FUNCTIONS[fn]
    dists = distributions(bounds)
    rows = []
    for seed in range(seeds):
        t0 = time.perf_counter()
        study = optuna.create_study(direction="minimize", sampler=make_sampler(sampler, seed))
        ask = 0.0
        values, best, b = [], [], float("inf")
        for _ in range(trials):
            ta = time.perf_counter()
            trial = study.ask(fixed_distributions=dists)
            ask += time.perf_counter() - ta
            x = [trial.params["x%d" % i] for i in range(dims)]
            v = f(x)
            study.tell(trial, v)
            values.append(v)
            b = min(b, v)
            best.append(b)
        rows.append({"seed": seed, "values": values, "best_so_far": best,
                     "wall_seconds": time.perf_counter() - t0, "ask_seconds": ask})
    json.dump({"seeds": rows}, open(out, "w"))


def cost(sampler, dims, n, k, out):
    fn = "branin" if dims == 2 else "rosenbrock"
    _, bounds, _ = functions.DOMAINS[fn]
    if dims != 2:
        bounds = [bounds[0]] * dims
    f = functions.FUNCTIONS[fn]
    dists = distributions(bounds)
    rng = random.Random(1000 * dims + n)
    prior = []
    for _ in range(n - k):
        params = {"x%d" % i: rng.uniform(lo, hi) for i, (lo, hi) in enumerate(bounds)}
        prior.append(optuna.trial.create_trial(
            params=params, distributions=dists,
            value=f([params["x%d" % i] for i in range(dims)])))
    study = optuna.create_study(direction="minimize", sampler=make_sampler(sampler, 42))
    study.add_trials(prior)
    ms = []
    for i in range(k + 1):
        t = time.perf_counter()
        trial = study.ask(fixed_distributions=dists)
        if i > 0:  # the first ask of the process also pays for lazy imports: not timed
            ms.append((time.perf_counter() - t) * 1000.0)
        study.tell(trial, f([trial.params["x%d" % i] for i in range(dims)]))
    json.dump({"ms": ms}, open(out, "w"))


def main(argv):
    if len(argv) == 7 and argv[1] == "quality":
        quality(argv[2], argv[3], int(argv[4]), int(argv[5]), argv[6])
    elif len(argv) == 7 and argv[1] == "cost":
        cost(argv[2], int(argv[3]), int(argv[4]), int(argv[5]), argv[6])
    else:
        raise SystemExit(__doc__)


if __name__ == "__main__":
    main(sys.argv)
