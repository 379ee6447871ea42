"""Run a NAB example pipeline once per run seed: the one copy shared by
seeds.py and nab53.py.

Paths in the pipeline are relative to this folder; the copies run from a
temporary folder, so they are made absolute first. Each seed runs with a
temporary run store and cache, removed afterwards.
"""
import json
import os
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))


def absolutise(pipeline):
    """Makes the pipeline's data paths absolute (relative to this folder)."""
    for node in pipeline["nodes"]:
        w = node.get("with", {})
        for key in ("path", "windows"):
            if isinstance(w.get(key), str):
                w[key] = os.path.normpath(os.path.join(HERE, w[key]))
        if isinstance(w.get("more_paths"), list):
            w["more_paths"] = [os.path.normpath(os.path.join(HERE, p)) for p in w["more_paths"]]
    return pipeline


def load(name):
    """The pipeline file @name of this folder, paths made absolute."""
    with open(os.path.join(HERE, name)) as f:
        return absolutise(json.load(f))


def _run(lathe, pipeline, seed, sets, tmp):
    """`lathe run --json` of @pipeline with @seed in the scratch folder @tmp
    (its store and cache there); the parsed output. Exits on a failed run."""
    pipeline["seed"] = seed
    path = os.path.join(tmp, "pipeline-%d.json" % seed)
    with open(path, "w") as f:
        json.dump(pipeline, f)
    args = [a for s in sets for a in ("--set", s)]
    env = dict(os.environ, LATHE_CACHE_DIR=os.path.join(tmp, "cache"))
    out = subprocess.run([lathe, "run", "--json", "--store", os.path.join(tmp, "store"),
                          *args, path], env=env, capture_output=True, text=True)
    if out.returncode != 0:
        sys.exit("seed %d failed:\n%s" % (seed, out.stderr))
    return json.loads(out.stdout)


def run_seeds(lathe, pipeline, seeds, sets=()):
    """Yields (seed, metrics) of `lathe run --json` for each seed in @seeds;
    @sets are NODE.PARAM=VALUE overrides (`--set`). Exits on a failed run."""
    with tempfile.TemporaryDirectory() as tmp:
        for seed in seeds:
            yield seed, _run(lathe, pipeline, seed, sets, tmp)["metrics"]


def run_metrics_artifacts(lathe, pipeline, evaluators, seed=0, sets=()):
    """{evaluator node: its metrics artifact (evaluator/nab's per-file scores,
    chosen columns, thresholds)} of one run of @pipeline with @seed."""
    with tempfile.TemporaryDirectory() as tmp:
        run_id = _run(lathe, pipeline, seed, sets, tmp)["run_id"]
        store = os.path.join(tmp, "store")
        show = subprocess.run([lathe, "runs", "show", run_id, "--store", store, "--json"],
                              capture_output=True, text=True, check=True)
        nodes = {n["id"]: n for n in json.loads(show.stdout)["nodes"]}
        found = {}
        for ev in evaluators:
            if ev not in nodes:
                sys.exit("no node %s in the pipeline" % ev)
            digest = nodes[ev]["outputs"]["metrics"]
            # the store keeps artifacts by content digest (docs/pipelines.md)
            with open(os.path.join(store, "artifacts", "sha256", digest[:2], digest[2:])) as f:
                found[ev] = json.load(f)
        return found
