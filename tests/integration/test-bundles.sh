#!/usr/bin/env bash
# Model bundles (issue 14): `lathe models export` writes one registered
# version to a tar that `lathe models import` registers in another store,
# with no access to the store that trained it; import verifies the bundle
# whole and refuses anything a bundle never holds, leaving the registry as it was.
source "$(dirname "$0")/lib.sh"
export LATHE_PLUGIN_PATH="$LATHE_TESTKIT_DIR:$LATHE_BUILD_DIR/plugins"
cp "$LATHE_SOURCE_DIR/examples/iris/iris.csv" "$TMP/"
cd "$TMP"

# pipeline FILE: iris and a logreg candidate scored by evaluator/ab against
# whatever holds iris@production in the run's store; register as candidate.
cat >train.json <<'JSON'
{"lathe": 1, "name": "bundles", "seed": 3, "nodes": [
  {"id": "data", "use": "source/csv", "with": {"path": "iris.csv", "label": "species"}},
  {"id": "split", "use": "transform/split", "in": {"data": "data"}},
  {"id": "model", "use": "model/logreg", "in": {"train": "split.train"}, "with": {"l2": 0.01}},
  {"id": "eval", "use": "evaluator/classification", "in": {"model": "model", "data": "split.test"}},
  {"id": "register", "use": "registry/local", "in": {"model": "model", "metrics": "eval"},
   "with": {"name": "iris", "alias": "candidate"}}
]}
JSON
cat >score.json <<'JSON'
{"lathe": 1, "name": "score", "seed": 3, "nodes": [
  {"id": "data", "use": "source/csv", "with": {"path": "iris.csv", "label": "species"}},
  {"id": "split", "use": "transform/split", "in": {"data": "data"}},
  {"id": "model", "use": "model/logreg", "in": {"train": "split.train"}, "with": {"l2": 1.0}},
  {"id": "ab", "use": "evaluator/ab", "in": {"candidate": "model", "data": "split.test"},
   "with": {"name": "iris", "alias": "production", "metrics": ["accuracy", "macro_f1", "macro_precision", "macro_recall"]},
   "cache": false}
]}
JSON

run_lathe "$TMP/train" run --json --store A train.json
expect_code "$TMP/train" 0 "training run in store A"
run_lathe "$TMP/al" models alias --store A iris production 1
expect_code "$TMP/al" 0 "production on version 1 in A"

run_lathe "$TMP/e1" models export --store A --json iris@candidate -o one.bundle
expect_code "$TMP/e1" 0 "export by alias"
expect_py "$TMP/e1.out" "d['name'] == 'iris' and d['version'] == 1 and len(d['manifest_sha256']) == 64" "export reports name, version, manifest digest"
run_lathe "$TMP/e2" models export --store A iris@1 -o two.bundle
expect_code "$TMP/e2" 0 "export by version"
if cmp -s one.bundle two.bundle; then pass "the same version exports the same bytes"; else fail "two exports of version 1 differ"; fi
sleep 1.1
run_lathe "$TMP/e3" models export --store A iris@1 -o three.bundle
if cmp -s one.bundle three.bundle; then pass "an export a second later is byte-identical (fixed mtimes and owners)"; else fail "exports differ over time"; fi
$PY - one.bundle >"$TMP/members.out" <<'PYEOF'
import hashlib, json, sys, tarfile
t = tarfile.open(sys.argv[1])
names = t.getnames()
man = json.load(t.extractfile("manifest.json"))
ok = names[0] == "manifest.json" and "model.lathe" in names
for n in names[1:]:
    data = t.extractfile(n).read()
    ok = ok and man["members"][n] == {"sha256": hashlib.sha256(data).hexdigest(), "size": len(data)}
ok = ok and all(m.uid == 0 and m.gid == 0 and m.mtime == 0 for m in t.getmembers())
ok = ok and man["format"] == 1 and man["name"] == "iris" and man["version"] == 1
ok = ok and sorted(man["aliases"]) == ["candidate", "production"] and "run_id" in man["metadata"]
ok = ok and man["model"]["component"] == "model/logreg"
print(json.dumps(ok))
PYEOF
expect_py "$TMP/members.out" "d is True" "manifest lists every member's digest and size, aliases, metadata, the component"

# A fresh store that never saw the training data or store A.
mkdir B
run_lathe "$TMP/i1" models import --store B --json --alias production one.bundle
expect_code "$TMP/i1" 0 "import into a fresh store"
expect_py "$TMP/i1.out" "d['name'] == 'iris' and d['version'] == 1 and d['imported_from']['bundle'] == 'one.bundle' and d['imported_from']['version'] == 1" "import reports the new version and where it came from"
run_lathe "$TMP/lb" models list --store B --json
expect_py "$TMP/lb.out" "len(d) == 1 and d[0]['aliases'] == ['production'] and d[0]['metadata']['imported_from']['manifest_sha256'] == '$(json_get "$TMP/e1.out" "d['manifest_sha256']")'" "models list in B shows it with imported_from"
run_lathe "$TMP/sa" models show --store A --json iris 1
run_lathe "$TMP/sb" models show --store B --json iris production
expect_py "$TMP/sb.out" "d['digest'] == '$(json_get "$TMP/sa.out" "d['digest']")' and d['metadata']['run_id'] == '$(json_get "$TMP/sa.out" "d['metadata']['run_id']")'" "same blob digest and metadata in B"
run_lathe "$TMP/pa" run --json --store A score.json
run_lathe "$TMP/pb" run --json --store B score.json
expect_code "$TMP/pb" 0 "scoring iris@production in B"
expect_py "$TMP/pb.out" "(lambda a, b: b['ab.production_version'] == 1 and all(a['ab.production_' + k] == b['ab.production_' + k] for k in ('accuracy', 'macro_f1', 'macro_precision', 'macro_recall')))(json.load(open('$TMP/pa.out'))['metrics'], d['metrics'])" "the imported model predicts identically"
run_lathe "$TMP/i2" models import --store B --name iris2 one.bundle
expect_code "$TMP/i2" 0 "import under another name"
run_lathe "$TMP/l2" models list --store B --json
expect_py "$TMP/l2.out" "sorted((m['name'], m['version']) for m in d) == [('iris', 1), ('iris2', 1)]" "--name registers under the new name"

# Crafted bundles: each must be refused with exit 2, naming the file and
# member, and leave store B as it was.
$PY - one.bundle <<'PYEOF'
import hashlib, io, json, sys, tarfile
src = tarfile.open(sys.argv[1])
members = {n: src.extractfile(n).read() for n in src.getnames()}
def info(name, size=0, **kw):
    ti = tarfile.TarInfo(name); ti.size = size
    for k, v in kw.items(): setattr(ti, k, v)
    return ti
def write(path, extra=(), drop=(), override=None):
    with tarfile.open(path, "w", format=tarfile.PAX_FORMAT) as t:
        for n, data in members.items():
            if n in drop: continue
            if override and n in override: data = override[n]
            t.addfile(info(n, len(data)), io.BytesIO(data))
        for ti, data in extra:
            t.addfile(ti, io.BytesIO(data) if data is not None else None)
write("dotdot.bundle", [(info("../evil", 1), b"x")])
write("absolute.bundle", [(info("/etc/evil", 1), b"x")])
write("symlink.bundle", [(info("signature.json", type=tarfile.SYMTYPE, linkname="/etc/passwd"), None)])
write("hardlink.bundle", [(info("reference.json", type=tarfile.LNKTYPE, linkname="model.lathe"), None)])
write("device.bundle", [(info("reference.json", type=tarfile.CHRTYPE, devmajor=1, devminor=3), None)])
write("duplicate.bundle", [(info("model.lathe", len(members["model.lathe"])), members["model.lathe"])])
write("unknown.bundle", [(info("notes.txt", 2), b"hi")])
blob = bytearray(members["model.lathe"]); blob[-1] ^= 1
write("digest.bundle", override={"model.lathe": bytes(blob)})
write("nomanifest.bundle", drop=("manifest.json",))
write("badmanifest.bundle", override={"manifest.json": b"{not json"})
man = json.loads(members["manifest.json"]); man["format"] = 99
write("newer.bundle", override={"manifest.json": json.dumps(man).encode()})
whole = open(sys.argv[1], "rb").read()
open("truncated.bundle", "wb").write(whole[:1024 + 300])
open("nottar.bundle", "wb").write(b"this is not a tar file at all\n" * 40)
# A header claiming a 64 GiB member, with nothing after it.
h = info("model.lathe", 64 << 30).tobuf(format=tarfile.GNU_FORMAT)
open("huge.bundle", "wb").write(h + b"\0" * 1024)
PYEOF
before=$(cat "$TMP/l2.out")
refuse() { # bundle stderr-text what
  run_lathe "$TMP/r-$1" models import --store B "$1.bundle"
  expect_code "$TMP/r-$1" 2 "$3"
  expect_err "$TMP/r-$1" "$1.bundle" "$3: the error names the file"
  expect_err "$TMP/r-$1" "$2" "$3: the error says why"
  if [ "$(wc -l <"$TMP/r-$1.err")" -eq 1 ]; then pass "$3: one line"; else fail "$3: error spans lines"; fi
}
refuse dotdot "'../evil' climbs out" "a member with .."
refuse absolute "'/etc/evil' has an absolute path" "an absolute member"
refuse symlink "'signature.json' is a link" "a symlink member"
refuse hardlink "'reference.json' is a link" "a hardlink member"
refuse device "'reference.json' is not a plain file" "a device member"
refuse duplicate "'model.lathe' appears twice" "a duplicate member"
refuse unknown "unknown member 'notes.txt'" "an unknown member"
refuse digest "member 'model.lathe' has sha256" "a digest mismatch"
refuse nomanifest "no manifest.json member" "a missing manifest"
refuse badmanifest "'manifest.json' is not a JSON object" "a malformed manifest"
refuse newer "bundle format 99" "a newer bundle format"
refuse truncated "bundle" "a truncated archive"
refuse nottar "not a" "not a tar"
refuse huge "claims 68719476736 bytes" "a huge member header"
run_lathe "$TMP/r-alias" models import --store B --alias 'bad/alias' one.bundle
expect_code "$TMP/r-alias" 2 "an invalid --alias"
expect_err "$TMP/r-alias" "--alias 'bad/alias': start with a letter" "says what an alias may hold"
run_lathe "$TMP/l3" models list --store B --json
if [ "$(cat "$TMP/l3.out")" = "$before" ]; then pass "no refused bundle changed the registry"; else fail "the registry changed after refused imports"; fi

# Signature and reference statistics in the metadata travel as their own
# members: a bundle whose metadata holds them, imported into store C and
# exported again, carries signature.json and reference.json.
$PY - one.bundle <<'PYEOF'
import hashlib, io, json, sys, tarfile
src = tarfile.open(sys.argv[1])
members = {n: src.extractfile(n).read() for n in src.getnames()}
man = json.loads(members["manifest.json"])
man["metadata"]["signature"] = {"inputs": [{"name": "sepal_length", "type": "double"}]}
man["metadata"]["reference"] = {"sepal_length": {"mean": 5.8, "std": 0.8}}
members["manifest.json"] = json.dumps(man).encode()
with tarfile.open("sig.bundle", "w", format=tarfile.USTAR_FORMAT) as t:
    for n, d in members.items():
        ti = tarfile.TarInfo(n); ti.size = len(d); t.addfile(ti, io.BytesIO(d))
PYEOF
mkdir C
run_lathe "$TMP/ic" models import --store C sig.bundle
expect_code "$TMP/ic" 0 "import of a bundle whose metadata has a signature"
run_lathe "$TMP/ec" models export --store C iris@1 -o sig2.bundle
expect_code "$TMP/ec" 0 "export of it"
$PY - sig2.bundle >"$TMP/sig.out" <<'PYEOF'
import json, sys, tarfile
t = tarfile.open(sys.argv[1])
man = json.load(t.extractfile("manifest.json"))
ok = t.getnames() == ["manifest.json", "model.lathe", "signature.json", "reference.json"]
ok = ok and json.load(t.extractfile("signature.json")) == man["metadata"]["signature"]
ok = ok and json.load(t.extractfile("reference.json")) == man["metadata"]["reference"]
ok = ok and man["metadata"]["imported_from"]["bundle"] == "sig.bundle"
print(json.dumps(ok))
PYEOF
expect_py "$TMP/sig.out" "d is True" "signature.json and reference.json carry the metadata's signature and reference"

run_lathe "$TMP/u1" models export --store A iris -o x.bundle
expect_code "$TMP/u1" 2 "export without @"
expect_err "$TMP/u1" "is not NAME@VERSION or NAME@ALIAS" "export says what REF must be"
run_lathe "$TMP/u2" models export --store A iris@1
expect_code "$TMP/u2" 2 "export without -o"
run_lathe "$TMP/u3" models export --store A iris@nope -o x.bundle
expect_code "$TMP/u3" 2 "export of an unknown alias"
run_lathe "$TMP/u4" models import --store B missing.bundle
expect_code "$TMP/u4" 2 "import of a missing file"
expect_err "$TMP/u4" "missing.bundle: not a bundle file" "names the missing file"
# A machine with no store: import makes one, but never for a bundle that does not read.
run_lathe "$TMP/u5" models import --store fresh missing.bundle
expect_code "$TMP/u5" 2 "import of a missing file on a storeless machine"
[ ! -e fresh ] && pass "no store left behind" || fail "a store was created for a bundle that does not read"
run_lathe "$TMP/u6" models import --store fresh --json one.bundle
expect_code "$TMP/u6" 0 "import on a storeless machine creates the store"
expect_py "$TMP/u6.out" "d['version'] == 1" "and registers version 1 there"
finish
