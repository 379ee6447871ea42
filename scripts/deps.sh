#!/usr/bin/env bash
# Installs the Debian packages Lathe needs, only those missing. Sourced by
# quickstart.sh and test.sh; also runnable alone: scripts/deps.sh [extra packages].
set -euo pipefail

# prometheus, wrk: serve's integration tests (a real scrape, a load run);
# python3-sklearn/fastapi/uvicorn: bench/serve's reference server.
LATHE_PACKAGES=(meson ninja-build pkg-config gcc clang make python3 sqlite3
  libglib2.0-dev libjson-glib-dev libopenblas-dev libsqlite3-dev libarchive-dev
  strace curl libsoup-3.0-dev prometheus
  wrk python3-sklearn python3-fastapi python3-uvicorn
  slurm-wlm munge chromium)
# slurm-wlm (slurmctld, slurmd and the client commands) and munge: the one-node
# cluster tests/slurm/slurm-cluster.sh starts for executor/slurm's tests.
# chromium: tests/browser opens `lathe report` files and `lathe ui` pages headless.
# The SDK's API reference (meson -Ddocs=true; scripts/test.sh checks it).
LATHE_DOCS_PACKAGES=(gtk-doc-tools)

# Node and npm, for Prism (tests/lakefs: the lakeFS tests validate against the
# official spec through it). A Node that is already there (another packaging of
# nodejs, which carries its own npm) is used as it is.
LATHE_NODE_PACKAGES=(nodejs npm)

lathe_install_packages() {
  local missing=() p
  for p in "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing+=("$p")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  echo "Installing: ${missing[*]}"
  local sudo=""
  if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null || { echo "error: need root (or sudo) to install ${missing[*]}" >&2; return 1; }
    sudo="sudo"
  fi
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" >/dev/null
}

lathe_install_node() {
  if command -v node >/dev/null && command -v npm >/dev/null; then return 0; fi
  lathe_install_packages "${LATHE_NODE_PACKAGES[@]}"
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
  lathe_install_packages "${LATHE_PACKAGES[@]}" "$@"
fi
