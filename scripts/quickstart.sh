#!/usr/bin/env bash
# Installs what is missing, builds Lathe, and runs the iris example on the
# embedded defaults (SQLite run store and tracker, local registry).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/deps.sh
lathe_install_packages "${LATHE_PACKAGES[@]}"

if [ ! -f build/build.ninja ]; then
  meson setup build --buildtype=debugoptimized >/dev/null
fi
ninja -C build

echo
echo "== lathe run examples/iris/pipeline.json"
./build/lathe run examples/iris/pipeline.json
echo
echo "The run store is examples/iris/.lathe. Next:"
echo "  ./build/lathe runs list --store examples/iris/.lathe"
echo "  ./build/lathe runs show RUN_ID --store examples/iris/.lathe"
echo "  ./build/lathe models list --store examples/iris/.lathe"
