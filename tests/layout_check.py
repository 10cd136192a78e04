#!/usr/bin/env python3
"""The shape of src/ that the README's "Hacking" section promises, checked:

  - no file in src/ over 500 lines, no function over 80;
  - no include cycle among src/ modules (a .c and its .h are one);
  - src/core/ includes only src/core/ headers and the C library's (no
    libsystemd, libyaml, libproc2 or libmicrohttpd header), so it is pure
    logic that builds and links anywhere;
  - the core objects, linked whole (not as an archive, where an unused
    object would hide), need nothing but libc and libm.

  python3 tests/layout_check.py [--core-objs OBJ...] [--cc CC]

Prints one line per problem and "layout: N passed, N failed".
"""
import argparse
import os
import re
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SRC = os.path.join(ROOT, "src")
MAX_FILE_LINES = 500
MAX_FUNCTION_LINES = 80
# Headers core may include: the C library and POSIX, nothing a pkg-config
# package ships.
FOREIGN = re.compile(r"^(systemd|yaml|libproc2|microhttpd)")

passed = failed = 0


def ok(cond, msg):
    global passed, failed
    if cond:
        passed += 1
    else:
        failed += 1
        print("layout: FAIL " + msg)


def sources():
    for d, _, files in os.walk(SRC):
        for f in sorted(files):
            if f.endswith((".c", ".h")):
                yield os.path.relpath(os.path.join(d, f), SRC)


def strip_comments(text):
    """Comments and string/char literals blanked, line breaks kept."""
    out, i, n = [], 0, len(text)
    while i < n:
        c = text[i]
        if text.startswith("/*", i):
            j = text.find("*/", i + 2)
            j = n if j < 0 else j + 2
            out.append(re.sub(r"[^\n]", " ", text[i:j]))
            i = j
        elif text.startswith("//", i):
            j = text.find("\n", i)
            j = n if j < 0 else j
            out.append(" " * (j - i))
            i = j
        elif c in "\"'":
            j = i + 1
            while j < n and text[j] != c:
                j += 2 if text[j] == "\\" else 1
            out.append(c + re.sub(r"[^\n]", " ", text[i + 1:j]) + c)
            i = j + 1
        else:
            out.append(c)
            i += 1
    return "".join(out)


def functions(text):
    """(name, first line, lines) of each function body at file scope."""
    code = strip_comments(text)
    depth, start, name, res = 0, None, None, []
    line = 1
    last_ident = None
    for i, c in enumerate(code):
        if c == "\n":
            line += 1
        elif c == "{":
            if depth == 0:
                # a function when the text before the brace ends in ')'
                before = code[:i].rstrip()
                if before.endswith(")"):
                    m = re.search(r"([A-Za-z_]\w*)\s*\([^;{}]*\)\s*$", before, re.S)
                    start, name = line, (m.group(1) if m else "?")
            depth += 1
        elif c == "}":
            depth -= 1
            if depth == 0 and start is not None:
                res.append((name, start, line - start + 1))
                start = None
    return res


def includes(path):
    res = []
    with open(os.path.join(SRC, path)) as f:
        for line in f:
            m = re.match(r'\s*#\s*include\s+([<"])([^>"]+)[>"]', line)
            if m:
                res.append((m.group(1), m.group(2)))
    return res


def check_sizes(files):
    for f in files:
        with open(os.path.join(SRC, f)) as fh:
            text = fh.read()
        n = text.count("\n")
        ok(n <= MAX_FILE_LINES, "src/%s has %d lines (at most %d)" % (f, n, MAX_FILE_LINES))
        if f.endswith(".c"):
            for name, start, lines in functions(text):
                ok(lines <= MAX_FUNCTION_LINES, "src/%s:%d: %s() has %d lines (at most %d)"
                   % (f, start, name, lines, MAX_FUNCTION_LINES))


def module(path):
    return os.path.splitext(path)[0]


def check_cycles(files):
    """Among modules (a .c and its .h are one): A depends on B when A's
    source or header includes B's header.  A cycle there is two modules
    that cannot be understood apart, header cycle or not."""
    graph = {}
    for f in files:
        graph.setdefault(module(f), [])
    for f in files:
        for kind, inc in includes(f):
            if kind != '"':
                continue
            ok(module(inc) in graph, "src/%s includes \"%s\", which is not in src/" % (f, inc))
            if module(inc) != module(f) and module(inc) not in graph[module(f)]:
                graph[module(f)].append(module(inc))
    # depth-first search for a back edge
    state = {}
    cycles = []

    def visit(n, stack):
        state[n] = 1
        stack.append(n)
        for d in graph.get(n, []):
            if state.get(d) == 1:
                cycles.append(stack[stack.index(d):] + [d])
            elif d in graph and not state.get(d):
                visit(d, stack)
        stack.pop()
        state[n] = 2

    for n in sorted(graph):
        if not state.get(n):
            visit(n, [])
    ok(not cycles, "module include cycle: " + "; ".join(" -> ".join(c) for c in cycles))


def check_core_includes(files):
    for f in files:
        if not f.startswith("core/"):
            continue
        for kind, inc in includes(f):
            if kind == '"':
                ok(inc.startswith("core/"), "src/%s includes \"%s\": core includes only core/" % (f, inc))
            else:
                ok(not FOREIGN.match(inc), "src/%s includes <%s>: core links no pkg-config library" % (f, inc))


def check_core_link(objs, cc):
    if not objs:
        return
    with tempfile.TemporaryDirectory() as tmp:
        main = os.path.join(tmp, "main.c")
        with open(main, "w") as f:
            f.write("int main(void) { return 0; }\n")
        cmd = [cc, "-o", os.path.join(tmp, "core-alone"), main] + objs + ["-lm"]
        print("layout: core link line: " + " ".join(
            os.path.relpath(a, ROOT) if a.startswith(ROOT) else a for a in cmd))
        r = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, universal_newlines=True)
        ok(r.returncode == 0, "the core objects do not link with libc and libm alone:\n" + r.stdout)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--core-objs", nargs="*", default=[])
    ap.add_argument("--cc", default=os.environ.get("CC", "cc"))
    a = ap.parse_args()
    files = list(sources())
    check_sizes(files)
    check_cycles(files)
    check_core_includes(files)
    check_core_link([os.path.abspath(o) for o in a.core_objs], a.cc)
    print("layout: %d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
