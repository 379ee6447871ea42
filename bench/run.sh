#!/usr/bin/env bash
# Builds Lathe and runs the benchmarks with their references side by side.
#   bench/run.sh        the host benchmarks (bench/bench.py), the neural ones, then the trees
#   bench/run.sh host   only the host benchmarks
#   bench/run.sh nn     only the neural-model benchmarks (bench/nn/bench_nn.py;
#                       BENCH_NN_QUICK=1 for a smoke test, see bench/nn/README.md)
#   bench/run.sh trees  only the tree-ensemble benchmarks (bench/trees/bench_trees.py;
#                       BENCH_TREES_QUICK=1 for a smoke test, see bench/trees/README.md)
set -euo pipefail
cd "$(dirname "$0")/.."
what="${1:-all}"
case "$what" in
  all|host|nn|trees) ;;
  *) echo "usage: bench/run.sh [host|nn|trees]" >&2; exit 2 ;;
esac
source scripts/deps.sh
lathe_install_packages "${LATHE_PACKAGES[@]}" python3-sklearn python3-numpy python3-torch
[ -f build/build.ninja ] || meson setup build >/dev/null
ninja -C build
if [ "$what" = all ] || [ "$what" = host ]; then
  /usr/bin/python3 bench/bench.py build
fi
if [ "$what" = all ] || [ "$what" = nn ]; then
  /usr/bin/python3 bench/nn/bench_nn.py build
fi
if [ "$what" = all ] || [ "$what" = trees ]; then
  /usr/bin/python3 bench/trees/bench_trees.py build
fi
