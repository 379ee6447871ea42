#!/usr/bin/env bash
# Builds Lathe and runs the benchmarks with their references side by side.
#   bench/run.sh        the host benchmarks (bench/bench.py), the neural ones, the trees, then the tuners
#   bench/run.sh host   only the host benchmarks
#   bench/run.sh nn     only the neural-model benchmarks (bench/nn/bench_nn.py;
#                       BENCH_NN_QUICK=1 for a smoke test, see bench/nn/README.md)
#   bench/run.sh trees  only the tree-ensemble benchmarks (bench/trees/bench_trees.py;
#                       BENCH_TREES_QUICK=1 for a smoke test, see bench/trees/README.md)
#   bench/run.sh tune   only the tuner benchmarks against Optuna 3.1 (bench/tune/bench_tune.py;
#                       BENCH_TUNE_QUICK=1 for a smoke test, see bench/tune/README.md)
#   bench/run.sh cache  a fully cached rerun of examples/ideko against its cold run
#                       (bench/cache/bench_cached_rerun.py), and the plugin catalog's cold
#                       scan against its cached load (bench/cache/bench_plugin_scan.py)
#   bench/run.sh concurrency  rounds of 8 concurrent runs on one store: failures and write
#                       throughput (bench/concurrency/bench_concurrent_runs.py;
#                       BENCH_CONCURRENT_ROUNDS, default 20)
#   bench/run.sh tune-mlp  tuning model/mlp on digits, with and without median stopping
#                       (bench/tune-mlp/bench_tune_mlp.py; see bench/tune-mlp/README.md)
#   bench/run.sh lakefs source/lakefs on the lakeFS test server: a cache hit's cost against
#                       source/csv, a cold read's throughput against curl, peak RSS on a
#                       1 GB object (bench/lakefs/bench_lakefs.py)
#   bench/run.sh tracker  metric points into the tracker journal and shipped
#                       (bench/tracker/bench_journal.py), and the tracker's overhead on whole
#                       runs of examples/iris and examples/ideko with tracker/mlflow, its
#                       server up or down (bench/tracker/bench_overhead.py; BENCH_OVERHEAD_REPS,
#                       default 5)
#   bench/run.sh serve  lathe serve against FastAPI + Uvicorn + scikit-learn on the same
#                       forest: throughput (wrk), p99 at fixed rates (build/bench/rate), errors
#                       under /reload, RSS (bench/serve/bench_serve.py; about 1 min)
set -euo pipefail
cd "$(dirname "$0")/.."
what="${1:-all}"
case "$what" in
  all|host|nn|trees|tune|tune-mlp|cache|concurrency|lakefs|tracker|serve) ;;
  *) echo "usage: bench/run.sh [host|nn|trees|tune|tune-mlp|cache|concurrency|lakefs|tracker|serve]" >&2; exit 2 ;;
esac
source scripts/deps.sh
extra=(python3-sklearn python3-numpy python3-torch)
if [ "$what" = all ] || [ "$what" = tune ]; then
  extra+=(python3-optuna python3-cmaes)
fi
lathe_install_packages "${LATHE_PACKAGES[@]}" "${extra[@]}"
if [ -f build/build.ninja ]; then
  meson configure build -Dbench=true >/dev/null
else
  meson setup build -Dbench=true >/dev/null
fi
ninja -C build
if [ "$what" = all ] || [ "$what" = host ]; then
  /usr/bin/python3 bench/bench.py build
fi
if [ "$what" = all ] || [ "$what" = cache ]; then
  /usr/bin/python3 bench/cache/bench_cached_rerun.py build
  /usr/bin/python3 bench/cache/bench_plugin_scan.py build
fi
if [ "$what" = all ] || [ "$what" = concurrency ]; then
  /usr/bin/python3 bench/concurrency/bench_concurrent_runs.py build
fi
if [ "$what" = all ] || [ "$what" = nn ]; then
  /usr/bin/python3 bench/nn/bench_nn.py build
fi
if [ "$what" = all ] || [ "$what" = trees ]; then
  /usr/bin/python3 bench/trees/bench_trees.py build
fi
if [ "$what" = all ] || [ "$what" = tune ]; then
  /usr/bin/python3 bench/tune/bench_tune.py build
fi
if [ "$what" = all ] || [ "$what" = tune-mlp ]; then
  /usr/bin/python3 bench/tune-mlp/bench_tune_mlp.py build --seeds 0,1,2,3,4
fi
if [ "$what" = all ] || [ "$what" = lakefs ]; then
  /usr/bin/python3 bench/lakefs/bench_lakefs.py build
fi
if [ "$what" = all ] || [ "$what" = tracker ]; then
  /usr/bin/python3 bench/tracker/bench_journal.py build
  /usr/bin/python3 bench/tracker/bench_overhead.py build
fi
if [ "$what" = all ] || [ "$what" = serve ]; then
  /usr/bin/python3 bench/serve/bench_serve.py build
fi
