#!/usr/bin/python3
"""Prints bench/results-tune.json (or the file given) as the Markdown tables of
bench/tune/README.md, so that the README shows measured numbers only.

Usage: /usr/bin/python3 bench/tune/table.py [RESULTS.json]
"""
import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
PATH = sys.argv[1] if len(sys.argv) > 1 else os.path.join(HERE, "..", "results-tune.json")


def g(v, fmt="%.4g"):
    return "-" if v is None else fmt % v


def main():
    r = json.load(open(PATH))
    cfg = r["config"]
    print("Run of %s: %d seeds (GP-EI: %s), %d trials, %s studies at once, %.0f s; "
          "load average %s before, %s after; Lathe %s, Optuna %s, cmaes %s, "
          "scikit-learn %s.\n" % (
              cfg.get("started"), cfg["seeds"], cfg.get("gp_ei_seeds", 0), cfg["trials"],
              cfg.get("jobs"), cfg.get("seconds", 0),
              "/".join("%.2f" % x for x in cfg.get("load_before", [])),
              "/".join("%.2f" % x for x in cfg.get("load_after", [])),
              cfg.get("lathe_version"), cfg.get("optuna_version"), cfg.get("cmaes_version"),
              cfg.get("sklearn_version")))
    for k, v in r.get("skipped", {}).items():
        print("- skipped **%s**: %s" % (k, v))
    if r.get("skipped"):
        print()
    q = r.get("quality", {})
    if q:
        ats = sorted({int(t) for sides in q.values() for s in sides.values()
                      for t in s.get("at", {})})
        print("Best value after N trials, median [q1, q3] over the seeds; *to 1e-3*: median "
              "trials to within 1e-3 of f* (- : not within 100 for half the seeds); "
              "*s/study*: median wall seconds of one whole study (Lathe: the `lathe run` "
              "process; Python: the study loop, without interpreter start); *ask ms*: "
              "Python's time in `ask()` per trial.\n")
        print("| function | sampler | " + " | ".join("@%d" % t for t in ats) +
              " | to 1e-3 | s/study | ask ms |")
        print("|---|---|" + "---|" * len(ats) + "---|---|---|")
        for fn, sides in q.items():
            for who, s in sides.items():
                if "at" not in s:
                    print("| %s | %s | %s |" % (fn, who, s.get("error", "?")[:120]))
                    continue
                cells = " | ".join("%s [%s, %s]" % (g(s["at"][str(t)]["median"]),
                                                     g(s["at"][str(t)]["q1"]),
                                                     g(s["at"][str(t)]["q3"])) for t in ats)
                err = " (%d failed)" % s["n_errors"] if s.get("n_errors") else ""
                print("| %s | %s%s | %s | %s | %s | %s |" % (
                    fn, who, err, cells, g(s.get("median_trials_to_within_1e-3"), "%g"),
                    g(s.get("wall_seconds_median"), "%.2f"),
                    g(s.get("ask_ms_per_trial_median"), "%.2f")))
        print()
    c = r.get("cost", {})
    if c.get("lathe") or c.get("optuna"):
        print("Time per proposal in ms (mean over a run of proposals ending at N completed "
              "trials; Lathe: the sampler alone, tune-sampler-cost; Optuna: `study.ask()`), "
              "and Lathe / Optuna TPE; *cold*: the GP's first proposal with a fresh state:\n")
        print("| sampler | dims | N=50 | N=200 | N=1000 |")
        print("|---|---|---|---|---|")
        rows = {}
        for side, lst in (("lathe", c.get("lathe", [])), ("optuna", c.get("optuna", []))):
            for x in lst:
                rows.setdefault(("%s/%s" % (side, x["sampler"]), x["dims"]), {})[
                    x["n_trials"]] = x
        ratio = {(x["lathe"], x["dims"], x["n_trials"]): x["ratio_mean"]
                 for x in c.get("ratios", [])}
        for (who, dims), by_n in sorted(rows.items(), key=lambda kv: (kv[0][1], kv[0][0])):
            cells = []
            for n in (50, 200, 1000):
                x = by_n.get(n)
                if not x or "mean_ms" not in x:
                    cells.append("-")
                    continue
                cell = "%.3g" % x["mean_ms"]
                if who.startswith("lathe/"):
                    rt = ratio.get((who[6:], dims, n))
                    cell += "" if rt is None else " (%.3gx)" % rt
                if x.get("cold_ms") is not None:
                    cell += ", cold %.3g" % x["cold_ms"]
                cells.append(cell)
            print("| %s | %d | %s |" % (who, dims, " | ".join(cells)))
        print()
    print("| goal | met | detail |")
    print("|---|---|---|")
    for k, v in r.get("goals", {}).items():
        met = {True: "yes", False: "**no**", None: "not evaluated"}[v["met"]]
        detail = {kk: vv for kk, vv in v.items() if kk not in ("met", "per_point")}
        if "per_point" in v:
            bad = [p for p, x in v["per_point"].items() if not x["within"]]
            detail["outside"] = ", ".join(
                "%s (%s: %.4g vs [%.4g, %.4g])" % (p, "better" if v["per_point"][p][
                    "within_or_better"] else "worse", v["per_point"][p]["lathe_tpe_median"],
                    v["per_point"][p]["optuna_q1"], v["per_point"][p]["optuna_q3"])
                for p in bad) or "none"
        print("| %s | %s | %s |" % (k, met, json.dumps(detail).replace("|", "/")))


if __name__ == "__main__":
    main()
