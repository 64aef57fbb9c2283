#!/usr/bin/python3
"""scripts/check-calls.py: no file of src/ calls a function of a file that
calls it back, directly or around a longer loop (issue 15's "call circle"),
and no file calls up a layer: src/common/ calls nothing of ours, config/
only common/, py/ those two, request/ those and py/, hooks/ all of them,
and mod_wsgi_lite.c (the glue) whatever it registers.

Reads the built objects (src/.libs/*.o, and the module glue's) with nm:
a file "calls" another when it has an undefined symbol the other defines.
The module record wsgi_lite_module (data every file reads its config
through) does not count.  Prints the file-to-file graph with -v, and every
loop with the functions that close it; exits 1 if there is one.

    scripts/check-calls.py [-v] [objects...]
"""
import glob
import os
import subprocess
import sys

IGNORED = {"wsgi_lite_module"}

# Bottom up; a file may call its own layer and those before it.
LAYERS = ["src/common/", "src/config/", "src/py/", "src/request/",
          "src/daemon/", "src/hooks/", ""]


def layer(path):
    for i, prefix in enumerate(LAYERS):
        if prefix and path.startswith(prefix):
            return i
    return len(LAYERS) - 1          # the glue, at the top


def symbols(obj):
    out = subprocess.run(["nm", obj], capture_output=True, text=True,
                         check=True).stdout
    defined, undefined = set(), set()
    for line in out.splitlines():
        parts = line.split()
        if len(parts) == 3 and parts[1] in "TDBR":
            defined.add(parts[2])
        elif len(parts) == 2 and parts[0] == "U":
            undefined.add(parts[1])
    return defined, undefined


def name_of(obj):
    # src/.libs/gil.o -> src/gil.c; .libs/mod_wsgi_lite.o -> mod_wsgi_lite.c
    head, base = os.path.split(obj)
    head = os.path.dirname(head) if os.path.basename(head) == ".libs" else head
    return os.path.join(head, base[:-2] + ".c")


def loops(graph):
    """Strongly connected components of more than one file (Tarjan)."""
    index, low, stack, on_stack, found = {}, {}, [], set(), []
    counter = [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph.get(v, ())):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                found.append(sorted(comp))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


def main(argv):
    verbose = "-v" in argv
    objs = [a for a in argv if a != "-v"]
    if not objs:
        objs = sorted(glob.glob("src/**/.libs/*.o", recursive=True))
        objs += glob.glob(".libs/mod_wsgi_lite.o")
    if not objs:
        print("check-calls: no objects; run make first", file=sys.stderr)
        return 2
    defs, uses = {}, {}
    for obj in objs:
        defs[name_of(obj)], uses[name_of(obj)] = symbols(obj)
    owner = {sym: f for f, ds in defs.items() for sym in ds}
    graph, why = {f: set() for f in defs}, {}
    for f, us in uses.items():
        for sym in us - IGNORED:
            g = owner.get(sym)
            if g and g != f:
                graph[f].add(g)
                why.setdefault((f, g), set()).add(sym)
    if verbose:
        for f in sorted(graph):
            print(f, "->", " ".join(sorted(graph[f])))
    found = loops(graph)
    for comp in found:
        print("check-calls: these files call each other round in a loop:",
              " ".join(comp))
        for f in comp:
            for g in comp:
                if (f, g) in why:
                    print("   %s -> %s: %s" % (f, g,
                                               " ".join(sorted(why[f, g]))))
    upward = sorted((f, g) for f in graph for g in graph[f]
                    if layer(g) > layer(f))
    for f, g in upward:
        print("check-calls: %s calls up a layer, into %s: %s"
              % (f, g, " ".join(sorted(why[f, g]))))
    if not found and not upward:
        print("check-calls: %d files, no call loop, no call up a layer"
              % len(graph))
    return 1 if found or upward else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
