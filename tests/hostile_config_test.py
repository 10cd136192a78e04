"""Hostile configurations against `leakwatchd -t`: alias bombs ("billion
laughs") wherever a value may stand, 10,000 watches, deep nesting, huge
files and scalars, thousands of errors, regexes glibc would choke on.
Each must be refused with a clear error (or accepted, for the largest
legitimate one) within 2 s of CPU and 64 MiB of memory.

Usage: python3 tests/hostile_config_test.py --daemon build/leakwatchd"""

import argparse
import os
import shutil
import subprocess
import sys
import tempfile

CPU_LIMIT_S = 2.0
RSS_LIMIT_KIB = 64 * 1024
TIME = "/usr/bin/time"   # GNU time (Debian package "time")


def laughs(prefix="lol", width=10, levels=10):
    """Anchors each holding WIDTH references to the one before: the last
    stands for WIDTH**LEVELS scalars."""
    lines = [f"{prefix}0: &{prefix}0 [" + ", ".join(["x"] * width) + "]"]
    for i in range(1, levels):
        lines.append(f"{prefix}{i}: &{prefix}{i} [" + ", ".join([f"*{prefix}{i - 1}"] * width) + "]")
    return "\n".join(lines) + "\n"


def watches(n, body):
    return "interval: 1s\nwatches:\n" + "".join(body(i) for i in range(n))


def cases():
    bomb = laughs()
    last = "*lol9"
    yield ("alias bomb under an unknown key", bomb + watches(1, lambda i: "  - {name: a, match: {comm: x}}\n"),
           1, "unknown key 'lol9'")
    yield ("alias bomb as the watch list", bomb + f"watches: {last}\n",
           1, "each watch must be a mapping")
    yield ("alias bomb as every value", bomb + "watches:\n  - name: a\n"
           f"    match: {{comm: {last}, cmdline: {last}, parent: {{comm: {last}}}}}\n"
           f"    rss: {{max: {last}, growth: {last}, for: {last}}}\n"
           f"    on_leak: {last}\n    exec: {last}\n    window: {last}\n",
           1, "'comm' must be")
    yield ("alias bomb of watch mappings",
           "w: &w {name: a, match: {comm: x, parent: {comm: y}}, rss: {max: 1G}}\n"
           "l0: &l0 [*w, *w, *w, *w, *w, *w, *w, *w, *w, *w]\n"
           + "".join(f"l{i}: &l{i} [" + ", ".join([f"*l{i - 1}"] * 10) + "]\n" for i in range(1, 8))
           + "watches: *l7\n", 1, "each watch must be a mapping")
    yield ("1000 references to one watch",
           "w: &w {name: a, match: {comm: x}, rss: {max: 1G}}\nwatches: [" + ", ".join(["*w"] * 1000) + "]\n",
           1, "duplicate watch name 'a'")
    yield ("10,000 watches in block style",
           watches(10000, lambda i: f"  - name: w{i}\n    match: {{ cmdline: \"^python3 worker-{i} \" }}\n"
                   "    rss: { max: 1G, growth: 10M/h }\n"),
           1, "more than 100000 YAML nodes")
    yield ("10,000 small watches",
           watches(10000, lambda i: f"  - {{name: w{i}, match: {{comm: x}}}}\n"),
           1, "10000 watches; at most 1000 are allowed")
    yield ("1000 watches with regexes (accepted)",
           watches(1000, lambda i: f"  - name: w{i}\n    match: {{ cmdline: \"^python3 (worker|w)-{i} [a-z]+ "
                   f"--port=[0-9]{{2,5}}\", parent: {{ cmdline: \"^gunicorn: master \\\\[app{i}\\\\]\" }} }}\n"
                   "    rss: { max: 1G, growth: 10M/h }\n    fds: { max: 1000 }\n    on_leak: signal\n"),
           0, "configuration OK")
    yield ("flow nesting a million deep", "x: " + "[" * 1000000 + "]" * 1000000 + "\n",
           1, "nested more than 64 deep")
    yield ("mapping nesting 100,000 deep", "x: " + "{a: " * 100000 + "1" + "}" * 100000 + "\n",
           1, "nested more than 64 deep")
    yield ("block nesting 200 deep", "x:\n" + "".join(" " * i + "- \n" for i in range(1, 200)),
           1, "nested more than 64 deep")
    yield ("a 5 MiB file", "#" + "x" * (5 << 20) + "\nwatches: [{name: a, match: {comm: x}}]\n",
           1, "larger than 4 MiB")
    yield ("a 4 MiB regex", "watches:\n  - name: a\n    match: { cmdline: \"" + "x" * ((4 << 20) - 100) + "\" }\n",
           1, "regex is too complex")
    yield ("a 4 MiB comment (accepted)", "#" + "x" * ((4 << 20) - 200) + "\nwatches: [{name: a, match: {comm: x}}]\n",
           0, "configuration OK")
    yield ("13,000 errors", watches(1000, lambda i: f"  - {{name: \"w {i}\", " + ", ".join(f"bad{k}: {k}" for k in range(9))
                                     + ", match: {comm: [x]}, rss: {max: x, growth: y, for: z}}\n"),
           1, "more errors not shown")
    yield ("a 100,000-element list", "pad: [" + ",".join(["1"] * 100001) + "]\nwatches: [{name: a, match: {comm: x}}]\n",
           1, "more than 100000 YAML nodes")
    yield ("largest document with the regex budget spent",
           "pad: [" + ",".join(["1"] * 99940) + "]\n"
           + watches(5, lambda i: f"  - name: w{i}\n    match: {{ cmdline: \"(a?){{1000}}\" }}\n")[len("interval: 1s\n"):],
           1, "regexes up to here would take over 32 MiB")
    yield ("exponential regexes", "watches:\n"
           "  - {name: a, match: {cmdline: \"^guni" + "+" * 60 + "corn\"}}\n"
           "  - {name: b, match: {cmdline: \"(a*)*\\\\1b\"}}\n"
           "  - {name: c, match: {cmdline: \"" + "(" * 5000 + "a" + ")" * 5000 + "\"}}\n"
           "  - {name: d, match: {cmdline: \"((a{100}){100}){100}\"}}\n"
           "  - {name: e, match: {cmdline: \"(a{32767}){32767}\"}}\n",
           1, "back-references")
    # glibc's regcomp takes these seconds or more (its epsilon closures of
    # anchors and empty loops), so only leakwatch's compiler sees them.
    yield ("regexes glibc's regcomp takes seconds on (accepted)", "watches:\n"
           "  - {name: a, match: {cmdline: \"(\\\\b|)++++\"}, rss: {growth: 1G/h}}\n"
           "  - {name: b, match: {cmdline: \"((\\\\b|)(^|)){0,5}{0,5}{0,5}\"}, rss: {growth: 1G/h}}\n"
           "  - {name: c, match: {cmdline: \"(a*)*{1,2}{1,2}{1,2}{1,2}{1,2}{1,2}\"}, rss: {growth: 1G/h}}\n",
           0, "configuration OK")
    yield ("a 1000-regex budget", watches(1000, lambda i: f"  - name: w{i}\n    match: {{ cmdline: \"(a?){{1000}}\" }}\n"),
           1, "regexes up to here would take over 32 MiB")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--daemon", required=True)
    args = ap.parse_args()
    daemon = os.path.abspath(args.daemon)
    if not os.access(TIME, os.X_OK):
        print(f"hostile configs: FAIL: {TIME} is missing (apt-get install time)")
        return 1
    work = tempfile.mkdtemp(prefix="leakwatch-hostile.")
    failed = 0
    try:
        print(f"{'case':<48} {'exit':>4} {'cpu s':>6} {'max RSS':>10}")
        for n, (name, text, want_rc, want_text) in enumerate(cases()):
            path = os.path.join(work, f"case{n}.yaml")
            with open(path, "w") as f:
                f.write(text)
            # GNU time, a small program, forks and execs the daemon: a fork
            # of this (large) Python would carry its peak RSS into the child's.
            rc = subprocess.call([TIME, "-o", path + ".time", "-f", "%U %S %M", daemon, "-t", path],
                                 stdout=open(path + ".out", "w"), stderr=open(path + ".err", "w"))
            with open(path + ".out") as f:
                out = f.read()
            with open(path + ".err") as f:
                err = "".join(line for line in f if not line.startswith("Command exited with"))
            with open(path + ".time") as f:
                user, system, maxrss = f.read().split()[-3:]
            cpu = float(user) + float(system)
            maxrss = int(maxrss)
            problems = []
            if rc != want_rc:
                problems.append(f"exit {rc}, want {want_rc}")
            if want_text not in out + err:
                problems.append(f"no {want_text!r} in the output")
            if rc == 1 and (out or not err.strip()):
                problems.append("a refusal must say why on stderr only")
            if cpu > CPU_LIMIT_S:
                problems.append(f"{cpu:.2f} s of CPU (limit {CPU_LIMIT_S})")
            if maxrss > RSS_LIMIT_KIB:
                problems.append(f"{maxrss} KiB (limit {RSS_LIMIT_KIB})")
            for line in err.splitlines():
                if not line.startswith(path + ":"):
                    problems.append(f"diagnostic without the file's name: {line[:80]!r}")
                    break
            print(f"{name:<48} {rc:>4} {cpu:>6.2f} {maxrss:>7} KiB  "
                  + ("ok" if not problems else "FAIL: " + "; ".join(problems)))
            if problems:
                failed += 1
                print("  first lines of stderr: " + " | ".join(err.splitlines()[:3])[:300])
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print(f"hostile configs: {'all passed' if not failed else f'{failed} failed'}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
