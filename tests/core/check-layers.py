#!/usr/bin/env python3
"""The host's layering, checked: every #include "..." in core/*/ and registry/
goes down the layers below, never up or sideways, and no folders include each
other in a cycle.

LAYERS is the one declaration of the order; docs/ARCHITECTURE.md mirrors it.
A higher layer reaches a lower one by #include; a lower layer reaches a
higher one only through what it registered at start-up (the node-kind table,
engine/node-kinds.c), never by naming it.

usage: check-layers.py [--root DIR]   check the tree at DIR (default: the repo)
       check-layers.py --self-test     check the checker on made-up trees
"""
import os
import re
import sys
import tempfile

# Bottom to top. Folders in one layer know nothing of each other.
LAYERS = [
    ["store", "catalog", "tune", "http", "archive"],
    ["registry"],
    ["graph"],
    ["engine"],
    ["tuning", "serve", "report"],
    ["ui"],
    ["cli"],
]
# Libraries outside core/ that the host links: their headers are placed by
# file name, and they include nothing of the host.
LIBRARIES = {"tune": "tune", "http": "http", "archive": "archive"}
# Headers the build generates.
GENERATED = {"config.h"}

INCLUDE = re.compile(r'^\s*#\s*include\s+"([^"]+)"', re.M)


def host_folders(root):
    """{folder name: its path} for core/*/ and registry/."""
    folders = {}
    core = os.path.join(root, "core")
    for name in sorted(os.listdir(core)):
        if os.path.isdir(os.path.join(core, name)):
            folders[name] = os.path.join(core, name)
    if os.path.isdir(os.path.join(root, "registry")):
        folders["registry"] = os.path.join(root, "registry")
    return folders


def place(include, own, folders, root):
    """The folder an include names, or None for a generated header."""
    first = include.split("/")[0]
    if "/" in include and first in folders:
        return first
    if include in GENERATED:
        return None
    if os.path.exists(os.path.join(folders[own], include)):
        return own
    for name, path in sorted(folders.items()):
        if os.path.exists(os.path.join(path, include)):
            return name
    for name, sub in LIBRARIES.items():
        if os.path.exists(os.path.join(root, sub, include)):
            return name
    raise LookupError(include)


def find_cycles(edges):
    """Strongly connected components of more than one folder (Tarjan)."""
    index, low, stack, on, out = {}, {}, [], set(), []

    def visit(v):
        index[v] = low[v] = len(index)
        stack.append(v)
        on.add(v)
        for w in sorted(edges.get(v, ())):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    for v in sorted(edges):
        if v not in index:
            visit(v)
    return out


def cycle_path(comp, edges):
    """One cycle through the component, as a list of folders."""
    start = comp[0]
    path, seen = [start], {start}
    while True:
        nxt = sorted(w for w in edges[path[-1]] if w in comp)
        back = [w for w in nxt if w == start]
        if back and len(path) > 1:
            return path + [start]
        fresh = [w for w in nxt if w not in seen]
        w = fresh[0] if fresh else nxt[0]
        if w in seen:
            return path[path.index(w):] + [w]
        path.append(w)
        seen.add(w)


def check(root):
    """Problems of the tree at @root, one line each."""
    problems = []
    rank = {f: i for i, layer in enumerate(LAYERS) for f in layer}
    folders = host_folders(root)
    for name in folders:
        if name not in rank:
            problems.append(f"folder '{name}' is in no layer: add it to LAYERS in "
                            "tests/core/check-layers.py and to docs/ARCHITECTURE.md")
    edges, why = {}, {}
    for name, path in sorted(folders.items()):
        for dirpath, _, files in os.walk(path):
            for f in sorted(files):
                if not f.endswith((".c", ".h")):
                    continue
                src = os.path.join(dirpath, f)
                rel = os.path.relpath(src, root)
                with open(src, encoding="utf-8", errors="replace") as fh:
                    text = fh.read()
                for inc in INCLUDE.findall(text):
                    try:
                        to = place(inc, name, folders, root)
                    except LookupError:
                        problems.append(f'{rel}: #include "{inc}" is in no folder of the host '
                                        "nor a library it links")
                        continue
                    if to is None or to == name:
                        continue
                    edges.setdefault(name, set()).add(to)
                    why.setdefault((name, to), f'{rel}: #include "{inc}"')
                    if name in rank and to in rank and rank[to] >= rank[name]:
                        where = "above it" if rank[to] > rank[name] else "beside it, in the same layer"
                        problems.append(f'{rel}: #include "{inc}": {name}/ (layer {rank[name]}) may not '
                                        f"include {to}/ (layer {rank[to]}), which is {where}; reach it "
                                        "through a table it registers (node kinds) instead")
    for comp in find_cycles(edges):
        path = cycle_path(comp, edges)
        steps = "; ".join(why[(a, b)] for a, b in zip(path, path[1:]))
        problems.append(f"include cycle across folders: {' -> '.join(path)} ({steps})")
    return problems


def write(root, files):
    for rel, text in files.items():
        path = os.path.join(root, rel)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w") as fh:
            fh.write(text)


def self_test():
    """The checker passes a clean tree and fails each kind of mistake."""
    clean = {
        "core/catalog/catalog.h": "#pragma once\n",
        "core/catalog/catalog.c": '#include "catalog/catalog.h"\n#include "config.h"\n',
        "core/store/store.h": "#pragma once\n",
        "core/graph/graph.h": '#include "catalog/catalog.h"\n',
        "core/engine/engine.h": '#include "graph/graph.h"\n#include "store/store.h"\n',
        "core/engine/engine.c": '#include "engine/engine.h"\n#include "lathe-registry.h"\n',
        "core/tuning/tuning.h": '#include "engine/engine.h"\n#include "tune-prune.h"\n',
        "core/cli/main.c": '#include "tuning/tuning.h"\n#include "lathe-registry.h"\n',
        "registry/lathe-registry.h": '#include "catalog/catalog.h"\n',
        "tune/tune-prune.h": "#pragma once\n",
    }
    cases = [
        ("clean", {}, []),
        ("cycle", {"core/graph/graph.c": '#include "tuning/tuning.h"\n'},
         ["include cycle across folders: engine -> graph -> tuning -> engine",
          "graph/ (layer 2) may not include tuning/ (layer 4), which is above it"]),
        ("upward", {"core/store/store.c": '#include "cli/cli.h"\n', "core/cli/cli.h": ""},
         ["store/ (layer 0) may not include cli/ (layer {}), which is above it".format(len(LAYERS) - 1)]),
        ("sideways", {"core/store/store.c": '#include "catalog/catalog.h"\n'},
         ["store/ (layer 0) may not include catalog/ (layer 0), which is beside it"]),
        ("plugin header", {"registry/lathe-registry.c": '#include "registry-local.h"\n'},
         ['#include "registry-local.h" is in no folder of the host']),
        ("undeclared folder", {"core/gadget/gadget.c": '#include "engine/engine.h"\n'},
         ["folder 'gadget' is in no layer"]),
    ]
    failed = 0
    for name, extra, want in cases:
        with tempfile.TemporaryDirectory() as root:
            write(root, {**clean, **extra})
            got = check(root)
        ok = all(any(w in p for p in got) for w in want) and (want or not got)
        print(f"{'ok' if ok else 'FAIL'}: {name}")
        if not ok:
            failed += 1
            print("  wanted:", *want, sep="\n    ")
            print("  got:", *got, sep="\n    ")
    return 1 if failed else 0


def main(argv):
    if "--self-test" in argv:
        return self_test()
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    if "--root" in argv:
        root = os.path.abspath(argv[argv.index("--root") + 1])
    problems = check(root)
    for p in problems:
        print(p, file=sys.stderr)
    if problems:
        print(f"{len(problems)} layering problem(s); the order, bottom to top: "
              + " < ".join("/".join(layer) for layer in LAYERS), file=sys.stderr)
        return 1
    print("layers ok: " + " < ".join("/".join(layer) for layer in LAYERS))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
