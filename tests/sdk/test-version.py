#!/usr/bin/env python3
"""The ABI version is written once, as LATHE_ABI_MAJOR/LATHE_ABI_MINOR in
lathe-plugin.h; meson derives the library and pkg-config versions from it and
the docs state it by hand. This checks that every place that states the
current version agrees with the header, so none can drift again.
Usage: test-version.py LATHE_PLUGIN_H LATHE_SDK_PC ABI_MD WRITING_PLUGINS_MD"""
import re
import sys

header, pc, abi_md, guide = (open(p, encoding="utf-8").read() for p in sys.argv[1:5])
fails = 0


def check(ok, what):
    global fails
    print(("ok - " if ok else "FAIL - ") + what)
    fails += not ok


def define(name):
    m = re.search(r"^#define %s (\d+)\s*$" % name, header, re.M)
    check(m is not None, "lathe-plugin.h defines " + name)
    return m.group(1) if m else "?"


ver = define("LATHE_ABI_MAJOR") + "." + define("LATHE_ABI_MINOR")
print("# header: ABI " + ver)


def stated(text, pattern, what, at_least=1):
    """Every match of pattern (one group: a version) must be ver."""
    found = re.findall(pattern, text, re.M)
    check(len(found) >= at_least, "%s: stated (%d found)" % (what, len(found)))
    for v in found:
        check(v == ver, "%s: %s == %s" % (what, v, ver))


stated(pc, r"^Version: (\d+\.\d+)\.0$", "lathe-sdk.pc Version")
stated(pc, r"^abi_version=(\d+\.\d+)$", "lathe-sdk.pc abi_version")
stated(abi_md, r"current ABI, \*\*(\d+\.\d+)\*\*", "ABI.md current ABI")
stated(abi_md, r"this host speaks (\d+\.\d+)", "ABI.md refusal, major")
stated(abi_md, r"this host's (\d+\.\d+)", "ABI.md refusal, minor")
stated(abi_md, r"liblathe-sdk\.so\.\d+`, version (\d+\.\d+)\.0", "ABI.md SDK library")
stated(guide, r"--modversion lathe-sdk +# (\d+\.\d+)\.0", "writing-plugins.md pkg-config")
# Its refusal example: a plugin one minor ahead of this host.
for theirs, ours in re.findall(r"built for plugin ABI (\d+\.\d+), newer than this host's (\d+\.\d+)", guide):
    check(ours == ver, "writing-plugins.md refusal: host %s == %s" % (ours, ver))
    major, minor = ver.split(".")
    check(theirs == "%s.%d" % (major, int(minor) + 1), "writing-plugins.md refusal: plugin %s is one minor ahead" % theirs)
# The history table's newest row is the current version.
rows = re.findall(r"^\| (\d+)\.(\d+) \|", abi_md.split("## History", 1)[-1], re.M)
check(len(rows) > 0, "ABI.md history has rows")
if rows:
    newest = max(rows, key=lambda r: (int(r[0]), int(r[1])))
    check(".".join(newest) == ver, "ABI.md history newest %s == %s" % (".".join(newest), ver))
print("%d failed" % fails)
sys.exit(1 if fails else 0)
