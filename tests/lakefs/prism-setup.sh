#!/usr/bin/env bash
# Installs the pinned Prism (npm ci, from the lockfile) for the Node on this
# machine, and prints the directory whose node_modules/.bin/prism to use:
#   Node >= 18.20.1 (Node 20, Debian 12's 18.20.4): tests/lakefs/prism, Prism 5.14.2
#   Node 16 .. 18.20.0 (an older 18.19):             tests/lakefs/prism-node18, Prism 5.7.0
# Exits 2 with a message when no Prism can run here (no Node, or too old); the
# lakeFS tests then run against the test server directly, without the Prism layer.
# Offline once installed: npm ci runs again only when the lockfile changed.
# Usage: tests/lakefs/prism-setup.sh [--quiet]   (LATHE_PRISM_PIN=prism-node18 forces that pin)
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
quiet=0; [ "${1:-}" = "--quiet" ] && quiet=1
say() { [ $quiet -eq 1 ] || echo "$@" >&2; }

if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
  echo "prism-setup: no node/npm (scripts/deps.sh installs them): the lakeFS tests run without the Prism layer" >&2
  exit 2
fi
ver=$(node -p 'process.versions.node')
pick=$(node -e '
  const [a, b, c] = process.versions.node.split(".").map(Number);
  const v = a * 1e6 + b * 1e3 + c;
  console.log(v >= 18020001 ? "prism" : v >= 16000000 ? "prism-node18" : "");')
pick="${LATHE_PRISM_PIN:-$pick}"  # prism or prism-node18, to try the other pin
if [ -z "$pick" ]; then
  echo "prism-setup: Node $ver is older than 16, which no Prism 5 runs on: the lakeFS tests run without the Prism layer" >&2
  exit 2
fi
dir="$here/$pick"
stamp="$dir/node_modules/.package-lock.json"
if [ ! -x "$dir/node_modules/.bin/prism" ] || [ "$dir/package-lock.json" -nt "$stamp" ]; then
  say "prism-setup: npm ci in $dir (Node $ver)"
  if ! (cd "$dir" && npm ci --prefer-offline --no-audit --no-fund --loglevel=error >&2); then
    echo "prism-setup: npm ci failed in $dir: the lakeFS tests run without the Prism layer" >&2
    exit 2
  fi
  touch "$stamp"
fi
if ! out=$("$dir/node_modules/.bin/prism" --version 2>&1); then
  echo "prism-setup: Prism in $dir does not start on Node $ver: $out" >&2
  exit 2
fi
say "prism-setup: Prism $out on Node $ver ($dir)"
echo "$dir"
