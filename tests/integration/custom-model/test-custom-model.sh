#!/usr/bin/env bash
# Builds examples/custom-model the way a plugin author would: against a fresh
# install of Lathe, found only through pkg-config, outside the source tree;
# then loads it with lathe and runs its pipelines.
#
# usage: test-custom-model.sh [BUILD_DIR [SOURCE_DIR]]
#   (or env LATHE_BUILD_DIR / LATHE_SOURCE_DIR; LATHE_KEEP_TMP=1 keeps $TMP)
# Exit: 0 pass, 1 fail, 77 skip (a needed tool is not installed).
set -u -o pipefail

fail() {
  echo "FAIL: $*" >&2
  exit 1
}
skip() {
  echo "SKIP: $*" >&2
  exit 77
}
step() { echo "== $*"; }

BUILD=${1:-${LATHE_BUILD_DIR:-}}
SRC=${2:-${LATHE_SOURCE_DIR:-}}
[ -n "$BUILD" ] || fail "no build dir: pass it as \$1 or set LATHE_BUILD_DIR"
[ -n "$SRC" ] || fail "no source dir: pass it as \$2 or set LATHE_SOURCE_DIR"
[ -d "$BUILD" ] || fail "build dir '$BUILD' does not exist"
[ -d "$SRC" ] || fail "source dir '$SRC' does not exist"
BUILD=$(cd "$BUILD" && pwd) && SRC=$(cd "$SRC" && pwd) || fail "cannot resolve the dirs"
LATHE="$BUILD/lathe"
EXAMPLE="$SRC/examples/custom-model"
[ -x "$LATHE" ] || fail "$LATHE is missing; build the project first (ninja -C $BUILD)"
[ -f "$EXAMPLE/Makefile" ] || fail "$EXAMPLE/Makefile is missing"
[ -f "$SRC/examples/iris/iris.csv" ] || fail "$SRC/examples/iris/iris.csv is missing"

# Plugin authors need these; a machine without them cannot run this test.
PY=/usr/bin/python3
[ -x "$PY" ] || skip "$PY is not installed (used to read lathe's JSON output)"
command -v meson >/dev/null || skip "meson is not installed (needed for meson install)"
command -v make >/dev/null || skip "make is not installed"
command -v pkg-config >/dev/null || skip "pkg-config is not installed"
# The build's own C compiler, unless CC says otherwise: a sanitizer runtime
# from another compiler would not mix with the host's.
if [ -z "${CC:-}" ]; then
  CC=$(meson introspect --targets "$BUILD" | "$PY" -c '
import json, shlex, sys
for t in json.load(sys.stdin):
    for s in t.get("target_sources", []):
        if s.get("language") == "c" and s.get("compiler"):
            print(shlex.join(s["compiler"]))
            sys.exit()
print("cc")') || CC=cc
fi
command -v "${CC%% *}" >/dev/null || skip "no C compiler ($CC)"
export CC
echo "C compiler: $CC"

TMP=$(mktemp -d "${TMPDIR:-/tmp}/lathe-custom-model.XXXXXX") || fail "mktemp failed"
if [ -z "${LATHE_KEEP_TMP:-}" ]; then
  trap 'rm -rf "$TMP"' EXIT
else
  echo "keeping $TMP"
fi

step "install the project into $TMP/root"
meson install -C "$BUILD" --destdir "$TMP/root" --no-rebuild >"$TMP/install.log" 2>&1 ||
  { cat "$TMP/install.log" >&2; fail "meson install failed; build the whole project first (ninja -C $BUILD): meson test builds only what tests depend on"; }
PC=$(find "$TMP/root" -name lathe-sdk.pc -path '*/pkgconfig/*' | head -n 1)
[ -n "$PC" ] || fail "the install has no pkgconfig/lathe-sdk.pc"
PREFIX=$(sed -n 's/^prefix=//p' "$PC")
[ -n "$PREFIX" ] || fail "$PC has no prefix= line"

# PKG_CONFIG_SYSROOT_DIR would also prefix glib's -I paths, so point a copy of
# the .pc file at the DESTDIR instead: its other paths derive from ${prefix}.
mkdir -p "$TMP/pkgconfig"
sed "s|^prefix=.*|prefix=$TMP/root$PREFIX|" "$PC" >"$TMP/pkgconfig/lathe-sdk.pc"
export PKG_CONFIG_PATH="$TMP/pkgconfig${PKG_CONFIG_PATH:+:$PKG_CONFIG_PATH}"
unset PKG_CONFIG_SYSROOT_DIR
FLAGS=$(pkg-config --cflags --libs lathe-sdk) || fail "pkg-config cannot resolve lathe-sdk"
echo "pkg-config: $FLAGS"
case "$FLAGS" in
*"$TMP/root"*) ;;
*) fail "pkg-config flags do not point into the temporary install" ;;
esac
case "$FLAGS" in
*"$SRC/sdk"* | *"$BUILD"*) fail "pkg-config flags point into the source or build tree" ;;
esac
INCDIR=$(pkg-config --variable=includedir lathe-sdk)
for h in lathe-sdk.h lathe-plugin.h lathe-context.h lathe-dataset.h lathe-artifact.h \
  lathe-error.h lathe-rng.h lathe-json.h lathe-search-space.h; do
  [ -f "$INCDIR/lathe-1/lathe/$h" ] || fail "installed header $INCDIR/lathe-1/lathe/$h is missing"
done

step "build the example out of tree"
mkdir -p "$TMP/iris"
cp -R "$EXAMPLE" "$TMP/custom-model" || fail "cannot copy $EXAMPLE"
cp "$SRC/examples/iris/iris.csv" "$TMP/iris/iris.csv" || fail "cannot copy iris.csv"
make -C "$TMP/custom-model" clean >/dev/null || fail "make clean failed"
# A sanitized build dir gives a sanitized liblathe-sdk, which only loads into
# programs that carry the same runtime: build the example with it too.
SAN=$(meson introspect --buildoptions "$BUILD" | "$PY" -c '
import json, sys
v = [o["value"] for o in json.load(sys.stdin) if o["name"] == "b_sanitize"]
print(v[0] if v and v[0] != "none" else "")') || fail "meson introspect failed on $BUILD"
CFLAGS="-O2 -g -Werror" # -Werror: no warning under the Makefile's -Wall -Wextra
LDFLAGS=""
PLUGIN_LDFLAGS="-shared -Wl,-z,defs"
if [ -n "$SAN" ]; then
  echo "the build uses -fsanitize=$SAN; so does the example"
  CFLAGS="$CFLAGS -fsanitize=$SAN -fno-omit-frame-pointer"
  LDFLAGS="-fsanitize=$SAN"
  # clang leaves the sanitizer runtime to the executable (as b_lundef=false
  # does for the project's own plugins), so -z defs cannot hold.
  PLUGIN_LDFLAGS="-shared"
fi
make -C "$TMP/custom-model" CFLAGS="$CFLAGS" LDFLAGS="$LDFLAGS" PLUGIN_LDFLAGS="$PLUGIN_LDFLAGS" \
  >"$TMP/make.log" 2>&1 ||
  { cat "$TMP/make.log" >&2; fail "make failed"; }
SO="$TMP/custom-model/liblathe-nearest-centroid.so"
[ -f "$SO" ] || fail "make did not produce $SO"
if grep -n 'warning:' "$TMP/make.log"; then fail "the build printed warnings"; fi
# An out-of-tree plugin is sealed like the project's own (-fvisibility=hidden
# in its Makefile): nc_model_* stay private to it.
exports=$(nm -D --defined-only "$SO" | awk '$2 != "A" {print $3}' | tr '\n' ' ')
[ "$exports" = "lathe_plugin_query " ] || fail "the example plugin exports: $exports"

step "make check (unit tests of the model and its blob)"
make -C "$TMP/custom-model" CFLAGS="$CFLAGS" LDFLAGS="$LDFLAGS" PLUGIN_LDFLAGS="$PLUGIN_LDFLAGS" \
  check >"$TMP/check.log" 2>&1 ||
  { cat "$TMP/check.log" >&2; fail "make check failed"; }
grep -q '^ok ' "$TMP/check.log" || { cat "$TMP/check.log" >&2; fail "make check ran no test"; }

export LATHE_PLUGIN_PATH="$TMP/custom-model"

step "lathe plugins inspect model/nearest-centroid"
"$LATHE" plugins inspect model/nearest-centroid >"$TMP/inspect.txt" 2>"$TMP/inspect.err" ||
  { cat "$TMP/inspect.err" >&2; fail "plugins inspect exited non-zero"; }
cat "$TMP/inspect.txt"
if grep -F "$TMP" "$TMP/inspect.err"; then fail "lathe refused the example plugin"; fi
"$LATHE" plugins inspect --json model/nearest-centroid >"$TMP/inspect.json" 2>/dev/null ||
  fail "plugins inspect --json exited non-zero"
"$PY" - "$TMP/inspect.json" "$SO" <<'EOF' || fail "plugins inspect --json is not what the plugin declares"
import json, os, sys
c = json.load(open(sys.argv[1]))
def check(ok, what):
    if not ok:
        sys.exit("  " + what)
check(c["id"] == "model/nearest-centroid", "id is %r" % c["id"])
check(c["plugin"] == "nearest-centroid", "plugin is %r" % c["plugin"])
check(os.path.realpath(c["file"]) == os.path.realpath(sys.argv[2]), "file is %r" % c["file"])
params = {p["name"]: p for p in c["params"]}
check(set(params) == {"shrink", "temperature", "standardize"}, "params are %s" % sorted(params))
s = params["shrink"]
check(s["type"] == "float" and s["default"] == 0 and s["min"] == 0 and s["max"] == 1,
      "shrink is %r" % s)
check(params["temperature"]["log"] is True, "temperature is not log-scaled")
check(params["standardize"]["type"] == "bool" and params["standardize"]["default"] is True,
      "standardize is %r" % params["standardize"])
check([p["name"] for p in c["inputs"]] == ["train", "valid"], "inputs are %r" % c["inputs"])
check([p["name"] for p in c["outputs"]] == ["model"], "outputs are %r" % c["outputs"])
print("  inspect --json: ok")
EOF

step "lathe run --json pipeline.json"
STORE="$TMP/store"
"$LATHE" run --json --store "$STORE" "$TMP/custom-model/pipeline.json" \
  >"$TMP/run1.json" 2>"$TMP/run1.err"
rc=$?
cat "$TMP/run1.err" >&2
[ "$rc" -eq 0 ] || { cat "$TMP/run1.json" >&2; fail "lathe run exited $rc"; }
"$PY" - "$TMP/run1.json" "$STORE" <<'EOF' || fail "the run's result is wrong"
import json, sys
r = json.load(open(sys.argv[1]))
def check(ok, what):
    if not ok:
        sys.exit("  " + what)
check(r["status"] == "succeeded", "status is %r" % r["status"])
nodes = {n["id"]: n["status"] for n in r["nodes"]}
check(nodes == {"data": "succeeded", "split": "succeeded", "model": "succeeded",
                "eval": "succeeded"}, "node statuses are %r" % nodes)
m = r["metrics"]
acc = m.get("eval.accuracy")
check(acc is not None, "no eval.accuracy in %s" % sorted(m))
check(acc >= 0.8, "eval.accuracy is %.4f, expected >= 0.8" % acc)
check(0 < m["eval.log_loss"] < 0.5, "eval.log_loss is %r" % m["eval.log_loss"])
check(m.get("model.train_accuracy", 0) >= 0.8, "model.train_accuracy is %r"
      % m.get("model.train_accuracy"))
print("  status succeeded, eval.accuracy %.4f, log loss %.4f" % (acc, m["eval.log_loss"]))
EOF

step "the stored model artifact carries the plugin's header and summary"
RUN_ID=$("$PY" -c 'import json,sys; print(json.load(open(sys.argv[1]))["run_id"])' "$TMP/run1.json")
"$LATHE" runs show --json --store "$STORE" "$RUN_ID" >"$TMP/show.json" ||
  fail "lathe runs show exited non-zero"
"$PY" - "$TMP/show.json" "$STORE" <<'EOF' || fail "the model artifact is wrong"
import json, os, struct, sys
run = json.load(open(sys.argv[1]))
def check(ok, what):
    if not ok:
        sys.exit("  " + what)
node = [n for n in run["nodes"] if n["id"] == "model"][0]
digest = node["outputs"]["model"]
blob = open(os.path.join(sys.argv[2], "artifacts", "sha256", digest[:2], digest[2:]), "rb").read()
check(blob[:8] == b"LATHEMD1", "not a model artifact")
(hlen,) = struct.unpack("<I", blob[8:12])
header = json.loads(blob[12:12 + hlen])
state = blob[12 + hlen:]
check(header["component"] == "model/nearest-centroid", "component is %r" % header["component"])
check(header["plugin"] == "nearest-centroid", "plugin is %r" % header["plugin"])
check(header["state_version"] == 1, "state_version is %r" % header["state_version"])
check(header["classes"] == ["setosa", "versicolor", "virginica"], "classes are %r" % header["classes"])
s = header.get("summary")
check(s is not None, "no summary in the header (the 1.1 callback was not called)")
check(s["n_features"] == 4 and s["n_classes"] == 3, "summary is %r" % s)
check(sum(s["class_counts"]) == 105, "class_counts are %r" % s["class_counts"])
check(state[:8] == b"LATHE-NC", "the state is not a nearest-centroid blob")
print("  header and summary: ok")
EOF

step "a second run is served from the cache"
"$LATHE" run --json --store "$STORE" "$TMP/custom-model/pipeline.json" \
  >"$TMP/run2.json" 2>/dev/null || fail "the second run exited non-zero"
"$PY" - "$TMP/run1.json" "$TMP/run2.json" <<'EOF' || fail "the second run was not cached"
import json, sys
a, b = (json.load(open(p)) for p in sys.argv[1:3])
statuses = {n["id"]: n["status"] for n in b["nodes"]}
if set(statuses.values()) != {"cached"}:
    sys.exit("  statuses are %r" % statuses)
if a["metrics"] != b["metrics"]:
    sys.exit("  the cached metrics differ")
print("  every node cached, same metrics")
EOF

step "the host enforces the plugin's declared bounds"
"$LATHE" validate --json "$TMP/custom-model/pipeline.json" --set model.shrink=2 \
  >"$TMP/invalid.json" 2>/dev/null
rc=$?
[ "$rc" -eq 2 ] || fail "validate with shrink=2 exited $rc, expected 2"
"$PY" - "$TMP/invalid.json" <<'EOF' || fail "the validation problem is wrong"
import json, sys
r = json.load(open(sys.argv[1]))
ptrs = [p["pointer"] for p in r["problems"]]
if r["valid"] or ptrs != ["/nodes/2/with/shrink"]:
    sys.exit("  problems are %r" % r["problems"])
print("  " + r["problems"][0]["message"])
EOF

step "lathe run --json tune.json (tuner/grid over the plugin's params)"
"$LATHE" run --json --store "$STORE" "$TMP/custom-model/tune.json" \
  >"$TMP/tune.json" 2>/dev/null
rc=$?
[ "$rc" -eq 0 ] || { cat "$TMP/tune.json" >&2; fail "the tuning run exited $rc"; }
"$PY" - "$TMP/tune.json" <<'EOF' || fail "the tuning run is wrong"
import json, sys
r = json.load(open(sys.argv[1]))
m = r["metrics"]
if r["status"] != "succeeded" or m.get("tune.n_trials") != 6 or m.get("tune.n_failed") != 0:
    sys.exit("  status %r, metrics %r" % (r["status"], {k: v for k, v in m.items() if k.startswith("tune.")}))
if m["eval.accuracy"] < 0.8:
    sys.exit("  eval.accuracy is %.4f" % m["eval.accuracy"])
print("  6 trials, eval.accuracy %.4f" % m["eval.accuracy"])
EOF

echo "PASS: the out-of-tree plugin builds against the installed SDK, loads and runs"
