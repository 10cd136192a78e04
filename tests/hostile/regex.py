"""Item 3: a watched process's argv against the daemon's cmdline regexes.
Its owner writes up to 64 KiB of argv, and every cmdline: criterion is
matched against it at each discovery (and again at every scan while the
process is younger than 3 s).  glibc's regexec took 945 ms on 64 KiB of
"celery " for the example's former "celery .*worker", and minutes and
hundreds of MB for a pattern regex_cost accepts; the daemon's own matcher
(src/core/regex_match.c) is linear in the first 4096 bytes.

item3-cmdline-cost: the shipped conf/leakwatch.yaml's cmdline regexes
    (read from the file; the criteria nobody cannot meet, user and unit,
    left out so that every regex runs), 50 processes of uid 65534 whose
    argv is 64 KiB crafted against them: the longest tick stays under
    100 ms, and a Celery pool child (titled as Celery titles it, its
    parent's title followed by 60 KiB) is found under the celery watch.
item3-pathological-regex: "(a|b)*a(a|b){20}c" against 64 KiB of random a
    and b: the longest tick stays under 200 ms and the daemon's memory
    small."""

import json
import os
import random
import re
import time

import lwtest

HERE = os.path.dirname(os.path.abspath(__file__))
SHIPPED = os.path.join(HERE, "..", "..", "conf", "leakwatch.yaml")
ARGV_BYTES = 64 * 1024
PROCESSES = 50
SETTLE_S = 4.0           # past the 3 s during which young processes are matched again
DEADLINE_S = 30.0        # the old daemon spends this much and more in one tick
HWM_MAX_KIB = 48 * 1024
# A shell that sleeps, with TEXT as its $0: its argv is sh -c SCRIPT TEXT.
SLEEPER = "sleep 120; exit"
# The same whose child has the same argv: a parent for a parent: criterion.
FAMILY = 'sh -c "sleep 120; exit" "$0" & wait; exit'


def shipped_watches():
    """[(name, cmdline regex, the parent's cmdline regex or None)] of the
    shipped example, for each watch with a cmdline: criterion."""
    out, name, parent_indent = [], None, None
    with open(SHIPPED) as f:
        for line in f:
            indent = len(line) - len(line.lstrip(" "))
            m = re.match(r"\s*- name:\s*(\S+)", line)
            if m:
                name, parent_indent = m.group(1), None
                out.append([name, None, None])
                continue
            if re.match(r"\s*parent:\s*(#.*)?$", line):
                parent_indent = indent
                continue
            if parent_indent is not None and indent <= parent_indent and line.strip():
                parent_indent = None
            m = re.match(r'\s*cmdline:\s*("(?:[^"\\]|\\.)*")', line)
            if m and out:
                out[-1][2 if parent_indent is not None else 1] = json.loads(m.group(1))
    return [tuple(w) for w in out if w[1]]


def crafted(regex, n=ARGV_BYTES):
    """A text that makes a backtracking or quadratic matcher work hardest on
    REGEX and never matches: the literal it starts with (past any ^),
    repeated, its last word left out when that is all there is."""
    lead = re.match(r"\^?((?:[^\\.[(|*+?{^$]|\\.)*)", regex).group(1)
    lead = re.sub(r"\\(.)", r"\1", lead) or "a"
    return (lead * (n // len(lead) + 1))[:n]


def config(case, watches):
    out = ["interval: 200ms", "metrics:", f"  textfile: {lwtest.yq(case.path('metrics.prom'))}", "watches:"]
    for name, own, parent in watches:
        out += [f"  - name: {name}", "    match:", f"      cmdline: {lwtest.yq(own)}"]
        if parent:
            out.append(f"      parent: {{ cmdline: {lwtest.yq(parent)} }}")
        out.append("    rss: { growth: 1G/h }")
    return "\n".join(out) + "\n"


def metrics(case):
    """The textfile's samples, {name: value}; {} until it is there."""
    try:
        with open(case.path("metrics.prom")) as f:
            text = f.read()
    except OSError:
        return {}
    out = {}
    for line in text.splitlines():
        parts = line.split()
        if len(parts) == 2 and not line.startswith("#"):
            try:
                out[parts[0]] = float(parts[1])
            except ValueError:
                pass
    return out


def hwm_kib(pid):
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return None


def children(pid):
    try:
        with open(f"/proc/{pid}/task/{pid}/children") as f:
            return [int(x) for x in f.read().split()]
    except (OSError, ValueError):
        return []


def start_sleepers(case, texts):
    procs = [case.as_nobody(["sh", "-c", SLEEPER, t]) for t in texts]
    if not lwtest.wait_for(lambda: all(os.path.exists(f"/proc/{p.pid}/cmdline") for p in procs), 5):
        raise AssertionError("the hostile processes did not start")
    return procs


def longest_tick(case, d, limit_s, what):
    """Waits for the first scans and the rescans of the young processes,
    then fails the case when the longest tick reached LIMIT_S: the figure."""
    t0 = time.monotonic()

    def settled():
        m = metrics(case)
        return m if time.monotonic() - t0 >= SETTLE_S and m.get("leakwatch_ticks_total", 0) >= 15 else None
    m = lwtest.wait_for(settled, DEADLINE_S, step=0.2)
    if not m:
        m = metrics(case)
        case.fail(f"{what}: fewer than 15 ticks in {DEADLINE_S:.0f} s (the daemon was stuck in a tick): "
                  f"ticks {m.get('leakwatch_ticks_total', 0):.0f}, longest tick so far "
                  f"{m.get('leakwatch_tick_duration_max_seconds', float('nan')):.3f} s"
                  + ("" if m else " (no metrics written yet)"))
        return None
    tick = m["leakwatch_tick_duration_max_seconds"]
    case.note(f"longest tick {tick * 1000:.1f} ms over {m['leakwatch_ticks_total']:.0f} ticks")
    if tick >= limit_s:
        case.fail(f"{what}: the longest tick took {tick * 1000:.0f} ms (at most {limit_s * 1000:.0f})")
    return m


# A Celery worker's two titles (setproctitle, as Celery sets them), the
# main process's followed by 60 KiB of its argv, and a pool child.
CELERY_FAMILY = r"""
import os, sys, time, setproctitle
main, child = sys.argv[1], sys.argv[2]
setproctitle.setproctitle(main)
if os.fork() == 0:
    setproctitle.setproctitle(child)
time.sleep(120)
"""


def cmdline_cost(case):
    """The shipped cmdline regexes against 64 KiB of crafted argv: ticks stay short."""
    watches = shipped_watches()
    celery = [w for w in watches if w[0] == "celery-pool"]
    if not celery or not celery[0][1] or "ForkPoolWorker" not in celery[0][1]:
        case.fail(f"conf/leakwatch.yaml's cmdline regexes are not the expected ones: {watches}")
        return
    regexes = sorted({r for w in watches for r in w[1:] if r})
    targets = [r for r in regexes if not r.startswith("^")] or regexes
    case.note("regexes " + ", ".join(targets))
    start_sleepers(case, [crafted(targets[k % len(targets)]) for k in range(PROCESSES)])
    # A Celery worker's family as the celery watch sees it (the main
    # process's title, then 60 KiB of argv it keeps): proof the regexes ran
    # on such argv, and that the watch takes the pool child.
    main = "[celeryd: worker1@host:MainProcess] -active- (-A tasks worker " + crafted("a", 60 * 1024) + ")"
    fam = case.as_nobody(["/usr/bin/python3", "-c", CELERY_FAMILY, main, "[celeryd: worker1@host:ForkPoolWorker-1]"])
    d = case.daemon(config(case, watches))
    longest_tick(case, d, 0.100, "64 KiB of crafted argv")
    found = case.wait_event(d, lambda e: e.get("event") == "found" and e.get("pid") in children(fam.pid), 5)
    if not found:
        case.fail("the witness's pool child ('[celeryd: worker1@host:ForkPoolWorker-1]') was not found")
    elif found.get("watch") != "celery-pool":
        case.fail(f"the witness's child went to watch {found.get('watch')}, not celery-pool")


def pathological_regex(case):
    """A regex glibc takes minutes on, against 64 KiB of random a/b: ticks and memory stay small."""
    rng = random.Random(3)
    texts = ["".join(rng.choice("ab") for _ in range(ARGV_BYTES)) for _ in range(PROCESSES)]
    start_sleepers(case, texts)
    prefix = "".join(rng.choice("ab") for _ in range(1000))
    witness = case.as_nobody(["sh", "-c", SLEEPER, prefix + "a" + "ab" * 10 + "c" + texts[0][:ARGV_BYTES - 1022]])
    d = case.daemon(config(case, [("pathological", "(a|b)*a(a|b){20}c", None)]))
    longest_tick(case, d, 0.200, '"(a|b)*a(a|b){20}c" on 64 KiB of random a/b')
    hwm = hwm_kib(d.pid)
    case.note(f"daemon VmHWM {hwm} KiB")
    if hwm is None or hwm > HWM_MAX_KIB:
        case.fail(f"the daemon's peak RSS is {hwm} KiB (at most {HWM_MAX_KIB})")
    if not case.wait_event(d, lambda e: e.get("event") == "found" and e.get("pid") == witness.pid, 5):
        case.fail(f"the process whose argv matches in its first 4096 bytes (pid {witness.pid}) was not found")


CASES = [
    ("item3-cmdline-cost", cmdline_cost),
    ("item3-pathological-regex", pathological_regex),
]
