#!/usr/bin/python3
"""A GP-EI baseline on scikit-learn (Optuna 3.1 has no GP sampler), for bench/tune.

  gp_ei_ref.py FN SEEDS TRIALS OUT.json

For each seed: 10 uniform random points (numpy default_rng(seed)), then per trial a
GaussianProcessRegressor on inputs scaled to [0, 1] and outputs standardised, kernel
ConstantKernel * Matern(nu=2.5, one length scale per dimension: ARD) + WhiteKernel,
hyperparameters by maximum likelihood (L-BFGS-B, warm-started from the previous fit,
2 random restarts every 10th trial), and the next point maximises expected improvement
over 2000 uniform candidates refined by L-BFGS-B (30 iterations) from the best 2.
Writes the same {"seeds": [...]} as optuna_ref.py quality (ask_seconds: the time
spent proposing).
"""
import json
import os
import sys
import time
import warnings

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import functions  # noqa: E402

warnings.filterwarnings("ignore")  # ConvergenceWarning on bounds, at every fit
import numpy as np  # noqa: E402
from scipy.optimize import minimize  # noqa: E402
from scipy.stats import norm  # noqa: E402
from sklearn.gaussian_process import GaussianProcessRegressor  # noqa: E402
from sklearn.gaussian_process.kernels import ConstantKernel, Matern, WhiteKernel  # noqa: E402

N_STARTUP = 10
N_CANDIDATES = 2000
N_REFINE = 2


def neg_ei(gp, best, u):
    mu, sd = gp.predict(np.atleast_2d(u), return_std=True)
    sd = np.maximum(sd, 1e-12)
    z = (best - mu) / sd
    return -((best - mu) * norm.cdf(z) + sd * norm.pdf(z))


def study(fn, seed, trials):
    dims, bounds, _ = functions.DOMAINS[fn]
    f = functions.FUNCTIONS[fn]
    lo = np.array([b[0] for b in bounds])
    hi = np.array([b[1] for b in bounds])
    rng = np.random.default_rng(seed)
    kernel = (ConstantKernel(1.0, (1e-3, 1e3)) *
              Matern(length_scale=np.full(dims, 0.5), length_scale_bounds=(1e-3, 1e2), nu=2.5) +
              WhiteKernel(1e-6, (1e-10, 1e-1)))
    us, ys, values, best_so_far = [], [], [], []
    ask = 0.0
    t0 = time.perf_counter()
    for t in range(trials):
        ta = time.perf_counter()
        if t < N_STARTUP:
            u = rng.random(dims)
        else:
            y = np.array(ys)
            ys_std = (y - y.mean()) / (y.std() or 1.0)
            gp = GaussianProcessRegressor(kernel=kernel, normalize_y=False,
                                          n_restarts_optimizer=2 if t % 10 == 0 else 0,
                                          random_state=int(rng.integers(1 << 31)))
            gp.fit(np.array(us), ys_std)
            kernel = gp.kernel_  # the next fit starts from these hyperparameters
            best = ys_std.min()
            cand = rng.random((N_CANDIDATES, dims))
            scores = neg_ei(gp, best, cand)
            u, s = cand[np.argmin(scores)], scores.min()
            for i in np.argsort(scores)[:N_REFINE]:
                r = minimize(lambda v: neg_ei(gp, best, v)[0], cand[i], method="L-BFGS-B",
                             bounds=[(0.0, 1.0)] * dims, options={"maxiter": 30})
                if r.fun < s:
                    u, s = np.clip(r.x, 0.0, 1.0), r.fun
        ask += time.perf_counter() - ta
        x = lo + u * (hi - lo)
        v = f(list(x))
        us.append(u)
        ys.append(v)
        values.append(v)
        best_so_far.append(min(values))
    return {"seed": seed, "values": values, "best_so_far": best_so_far,
            "wall_seconds": time.perf_counter() - t0, "ask_seconds": ask}


def main(argv):
    if len(argv) != 5:
        raise SystemExit(__doc__)
    fn, seeds, trials, out = argv[1], int(argv[2]), int(argv[3]), argv[4]
    if fn not in functions.DOMAINS:
        raise SystemExit("unknown function %r: one of %s" % (fn, ", ".join(functions.DOMAINS)))
    json.dump({"seeds": [study(fn, s, trials) for s in range(seeds)]}, open(out, "w"))


if __name__ == "__main__":
    main(sys.argv)
