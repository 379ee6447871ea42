#!/usr/bin/env bash
# Builds Lathe and runs the benchmarks with their references side by side.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/deps.sh
lathe_install_packages "${LATHE_PACKAGES[@]}" python3-sklearn python3-numpy
[ -f build/build.ninja ] || meson setup build >/dev/null
ninja -C build
/usr/bin/python3 bench/bench.py build
