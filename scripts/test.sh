#!/usr/bin/env bash
# The full test suite: a warning-free build with gcc and with clang, every test
# suite, then every suite again under AddressSanitizer (with leak checks) and
# UBSan: the integration suites drive the core through the CLI. The gcc build
# also generates the SDK reference with gtk-doc (about 2 s), whose check test
# fails when a public SDK symbol is undocumented. Two smaller gcc builds check
# the build variants: without the numerical plugins (its tests, bar the slow
# suite), and the SDK alone (its tests, and that meson looked up nothing but
# GLib and json-glib).
# Usage: scripts/test.sh [--quick]   (--quick: the gcc builds and their tests only)
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/deps.sh
lathe_install_packages "${LATHE_PACKAGES[@]}" "${LATHE_DOCS_PACKAGES[@]}"
# Prism, pinned in tests/lakefs (npm ci): the lakeFS tests validate every request
# and response against the official spec through it. Once installed here it is
# required; where it cannot run, only the Prism layer is skipped (said below).
lathe_install_node || true
if tests/lakefs/prism-setup.sh >/dev/null; then
  export LATHE_PRISM=required
else
  echo "== Prism cannot run here (above): the lakeFS tests run without its layer"
fi

quick=0
[ "${1:-}" = "--quick" ] && quick=1
status=0
passed=0
failed=0
skipped=0

count() { # adds the results of a meson test log to the totals
  local log="$1/meson-logs/testlog.json"
  [ -f "$log" ] || return 0
  read -r p f s < <(/usr/bin/python3 - "$log" <<'PY'
import json, sys
p = f = s = 0
for line in open(sys.argv[1]):
    r = json.loads(line)["result"]
    if r in ("OK", "EXPECTEDFAIL"): p += 1
    elif r == "SKIP": s += 1
    else: f += 1
print(p, f, s)
PY
)
  passed=$((passed + p)); failed=$((failed + f)); skipped=$((skipped + s))
}

setup() { # dir, then meson options
  local dir="$1"; shift
  if [ -f "$dir/build.ninja" ]; then
    meson configure "$dir" "$@" >/dev/null
  else
    meson setup "$dir" "$@" >/dev/null
  fi
}

echo "== gcc build (warnings are errors) and the SDK reference"
setup build -Dwerror=true -Ddocs=true
ninja -C build
echo "== tests: unit, plugins, integration, slow, and the reference's coverage"
meson test -C build --print-errorlogs --num-processes 2 || status=1
count build

echo "== without the numerical plugins (-Dnumerical_plugins=false): no OpenBLAS"
CC=gcc setup build-nonum -Dwerror=true -Dnumerical_plugins=false
ninja -C build-nonum
meson test -C build-nonum --print-errorlogs --num-processes 2 --no-suite slow || status=1
count build-nonum

echo "== the SDK alone (-Dsdk_only=true): GLib and json-glib only"
CC=gcc setup build-sdk -Dwerror=true -Dsdk_only=true
ninja -C build-sdk
sdk_deps=$(meson introspect --dependencies build-sdk \
  | /usr/bin/python3 -c 'import json, sys; print(" ".join(sorted(d["name"] for d in json.load(sys.stdin))))')
looked_up=$(grep -oE '(Run-time dependency|Dependency) [^ ]+' build-sdk/meson-logs/meson-log.txt \
  | awk '{print $NF}' | sort -u | tr '\n' ' ')
if [ "$sdk_deps" = "glib-2.0 json-glib-1.0" ] && [ "$looked_up" = "glib-2.0 json-glib-1.0 " ]; then
  echo "ok - the SDK-only build depends on: $sdk_deps"
  passed=$((passed + 1))
else
  echo "FAIL - the SDK-only build depends on: $sdk_deps; looked up: $looked_up"
  failed=$((failed + 1)); status=1
fi
meson test -C build-sdk --print-errorlogs --num-processes 2 || status=1
count build-sdk

if [ $quick -eq 0 ]; then
  echo "== clang build (warnings are errors)"
  CC=clang setup build-clang -Dwerror=true
  ninja -C build-clang

  # Every suite but slow: those wait on clocks and daemons (a Slurm job's
  # time limit, a tracker outage), and the code they drive is the code the
  # other suites run here under the sanitizers.
  echo "== AddressSanitizer + UBSan: unit, plugins, integration"
  setup build-asan -Db_sanitize=address,undefined -Db_lundef=false -Dbuildtype=debug
  ninja -C build-asan
  ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
    meson test -C build-asan --print-errorlogs --num-processes 2 --no-suite slow || status=1
  count build-asan
fi

echo
echo "${passed} passed, ${failed} failed, ${skipped} skipped"
exit $status
