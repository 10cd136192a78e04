#!/usr/bin/python3
"""The shipped JSON Schemas (share/leakwatch/schema/: event, status,
history) against what they describe, and the tests' validator
(lwtest.SCHEMAS) against what it must catch.

- loads: each schema is a valid draft 2020-12 schema (python3-jsonschema).
- man-examples: the JSON examples of leakwatchd(8) EVENTS and of
  leakwatchctl(1) status --json and history --json fit.
- good: an event of every type, with and without its optional keys, as
  leakwatchd(8) lists them, a status with an unreadable metric and an
  inspection, a history with fractional seconds, fit.
- bad: a table of malformed texts (an unknown key, a wrong type, a value
  outside its enum, a key missing or not allowed for the event's type, a
  title with a quote, ...), each rejected, the error naming what is wrong.
- recorded: a bad line read through lwtest (read_events, EventReader's
  SCHEMAS.line, checked_json) makes schema_check() fail with the line and
  the error, so a test that reads it fails; a good one does not.
- with --events FILE...: only that each line of each FILE is an event
  that fits (for the shell tests: tests/lint_events.sh).
- live (with --daemon and --ctl): a real leakwatchd --dry-run on a program
  leaking fds through a window of 3 s, past its max: its start, found, leak,
  limit, action, reload and gone events, status --json, history --json and
  the incident's history.json all fit.

One PASS/FAIL line per check, then `schema: N passed, M failed`; exit
status 1 on any failure.  About 10 s with --daemon, under a second without.
"""

import argparse
import copy
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time

sys.dont_write_bytecode = True     # importing lwtest must leave no tests/__pycache__
import lwtest  # noqa: E402
from lwtest import HERE, PROGRAMS, PYTHON, Check, Schemas, wait_for, yq  # noqa: E402

ROOT = os.path.dirname(HERE)

TS = "2026-11-24T05:00:00.123Z"
SUBJECT = {"watch": "api-workers", "pid": 4242, "comm": "python3", "title": "gunicorn: worker [api]"}

# One event of each type with every key it may have (leakwatchd(8) EVENTS).
GOOD_EVENTS = [
    {"ts": TS, "event": "start", "watches": 3, "message": "leakwatchd started with 3 watches from /etc/x.yaml"},
    dict({"ts": TS, "event": "found"}, **SUBJECT, message="m"),
    {"ts": TS, "event": "gone", "watch": "w", "pid": 1, "comm": "", "message": "w: pid 1 (): exited"},
    dict({"ts": TS, "event": "leak"}, **SUBJECT, metric="rss", value=1258291200, slope_per_hour=125829120,
         limit=1610612736, eta_seconds=10080, incident="/var/lib/leakwatch/incidents/x", message="m"),
    {"ts": TS, "event": "leak", "watch": "w", "pid": 7, "comm": "python3", "metric": "fds", "value": 10,
     "slope_per_hour": 7200, "message": "w: pid 7 (python3): fds leak: 10, growing 7200/h"},
    dict({"ts": TS, "event": "limit"}, **SUBJECT, metric="fds", value=4100, slope_per_hour=-3, limit=4096,
         eta_seconds=0, incident="/x", message="m"),
    {"ts": TS, "event": "limit", "watch": "w", "pid": 7, "comm": "c", "metric": "threads", "value": 11,
     "limit": 10, "message": "m"},
    dict({"ts": TS, "event": "action"}, **SUBJECT, metric="rss", action="restart-unit", result="ok",
         unit="api.service", incident="/x", message="m"),
    {"ts": TS, "event": "action", "watch": "w", "pid": 7, "comm": "c", "metric": "rss", "action": "signal",
     "result": "suppressed", "message": "m"},
    {"ts": TS, "event": "action", "watch": "w", "pid": 7, "comm": "c", "metric": "fds", "action": "exec",
     "result": "dry-run", "message": "m"},
    {"ts": TS, "event": "reload", "result": "ok", "watches": 0, "message": "configuration reloaded"},
    {"ts": TS, "event": "reload", "result": "failed", "message": "configuration reload failed"},
    {"ts": TS, "event": "error", "message": "cannot read the pidfile /run/x.pid"},
    {"ts": TS, "event": "error", "watch": "api-uwsgi", "message": "api-uwsgi: signal TERM ends a uWSGI worker"},
    dict({"ts": TS, "event": "error"}, **SUBJECT, metric="fds", message="cannot count its open fds"),
    dict({"ts": TS, "event": "inspect"}, **SUBJECT, result="ok", incident="/x", top_type="__main__.Session",
         top_site="app/worker.py:42", message="m"),
    {"ts": TS, "event": "inspect", "watch": "w", "pid": 7, "comm": "c", "result": "failed",
     "message": "inspection failed: not inspected"},
    dict({"ts": TS, "event": "found"}, **dict(SUBJECT, comm="\ufffd\ufffd\ufffdok\ufffd"), message="m"),
    {"ts": TS, "event": "leak", "watch": "w", "group": True, "processes": 4, "metric": "rss", "value": 259633152,
     "slope_per_hour": 13623626896, "message": "w: group of 4 processes: rss leak: 247.6M, growing 12.7G/h"},
    {"ts": TS, "event": "action", "watch": "w", "group": True, "processes": 4, "metric": "rss",
     "action": "restart-unit", "result": "dry-run", "unit": "pool.service", "message": "m"},
]
GROUP_LEAK = GOOD_EVENTS[-2]

STATUS_ROW = {
    "watch": "demo-leaker", "pid": 18076, "comm": "python3", "title": None, "started": TS,
    "rss": {"value": 53116928, "limit": 1073741824, "slope_per_hour": 1877999616, "eta_seconds": 1956,
            "verdict": "leak"},
    "fds": {"value": None, "limit": None, "slope_per_hour": None, "eta_seconds": None, "verdict": "unreadable"},
    "threads": {"value": 1, "limit": None, "slope_per_hour": 0, "eta_seconds": None, "verdict": "warming"},
    "inspect": {"state": "ok", "summary": "memory leak in pid 18076: ...", "incident": "/var/lib/x"},
}
GOOD_STATUS = [[], [STATUS_ROW], [dict(STATUS_ROW, title="python3 demo/leaker.py", inspect={
    "state": "running", "summary": "", "incident": None})]]

HISTORY = {
    "watch": "demo-leaker", "pid": 18076, "comm": "python3", "title": "python3 demo/leaker.py", "started": TS,
    "window_seconds": 20, "bucket_seconds": 0.417,
    "rss": [{"t": TS, "samples": 2, "mean": 22183936.5, "min": 22183936, "max": 22183937}],
    "fds": [], "threads": [{"t": TS, "samples": 1, "mean": 1, "min": 1, "max": 1}],
}
GOOD_HISTORY = [HISTORY, dict(HISTORY, title=None)]


def changed(base, path, value=None, drop=False):
    """A deep copy of base with the key at path (a tuple) set to value, or
    removed with drop."""
    out = copy.deepcopy(base)
    node = out
    for k in path[:-1]:
        node = node[k]
    if drop:
        del node[path[-1]]
    else:
        node[path[-1]] = value
    return out


LEAK = GOOD_EVENTS[3]
ACTION = GOOD_EVENTS[8]
# (name, kind, value, a regex the error must match)
BAD = [
    ("unknown key", "event", changed(LEAK, ("severity",), "high"), r"severity"),
    ("pid as a string", "event", changed(LEAK, ("pid",), "4242"), r"\['pid'\].*not of type 'integer'"),
    ("value as a float", "event", changed(LEAK, ("value",), 1.5), r"\['value'\].*integer"),
    ("negative value", "event", changed(LEAK, ("value",), -1), r"\['value'\]"),
    ("pid 0", "event", changed(LEAK, ("pid",), 0), r"\['pid'\]"),
    ("unknown event type", "event", changed(LEAK, ("event",), "leaked"), r"\['event'\].*not one of"),
    ("unknown metric", "event", changed(LEAK, ("metric",), "heap"), r"\['metric'\].*not one of"),
    ("unknown action", "event", changed(ACTION, ("action",), "alert"), r"\['action'\].*not one of"),
    ("unknown result", "event", changed(ACTION, ("result",), "done"), r"\['result'\].*not one of"),
    ("no message", "event", changed(LEAK, ("message",), drop=True), r"'message' is a required"),
    ("empty message", "event", changed(LEAK, ("message",), ""), r"\['message'\]"),
    ("no ts", "event", changed(LEAK, ("ts",), drop=True), r"'ts' is a required"),
    ("ts without milliseconds", "event", changed(LEAK, ("ts",), "2026-11-24T05:00:00Z"), r"\['ts'\]"),
    ("ts not UTC", "event", changed(LEAK, ("ts",), "2026-11-24T05:00:00.123+01:00"), r"\['ts'\]"),
    ("leak without its slope", "event", changed(LEAK, ("slope_per_hour",), drop=True),
     r"'slope_per_hour' is a required"),
    ("leak with a limit but no eta", "event", changed(LEAK, ("eta_seconds",), drop=True),
     r"'eta_seconds' is a dependency of 'limit'"),
    ("leak without a metric", "event", changed(LEAK, ("metric",), drop=True), r"'metric' is a required"),
    ("limit with eta not 0", "event", changed(GOOD_EVENTS[5], ("eta_seconds",), 5), r"\['eta_seconds'\]"),
    ("limit without its limit", "event", changed(GOOD_EVENTS[6], ("limit",), drop=True), r"'limit' is a required"),
    ("found with a metric", "event", changed(GOOD_EVENTS[1], ("metric",), "rss"), r"'metric' is not one of"),
    ("start with a pid", "event", dict(GOOD_EVENTS[0], watch="w", pid=1, comm="c"), r"'(watch|pid|comm)' is not one of"),
    ("start without watches", "event", changed(GOOD_EVENTS[0], ("watches",), drop=True), r"'watches' is a required"),
    ("gone without comm", "event", changed(GOOD_EVENTS[2], ("comm",), drop=True), r"'comm' is a (required|dependency)"),
    ("a pid without a watch", "event", changed(GOOD_EVENTS[14], ("watch",), drop=True), r"'watch' is a dependency"),
    ("a title without comm", "event", {"ts": TS, "event": "error", "title": "x", "message": "m"},
     r"'comm' is a dependency"),
    ("unit on a signal action", "event", changed(ACTION, ("unit",), "x.service"), r"\['unit'\]"),
    ("action without its result", "event", changed(ACTION, ("result",), drop=True), r"'result' is a required"),
    ("reload ok without watches", "event", changed(GOOD_EVENTS[10], ("watches",), drop=True),
     r"'watches' is a required"),
    ("reload failed with watches", "event", dict(GOOD_EVENTS[11], watches=2), r"\['watches'\]"),
    ("reload suppressed", "event", changed(GOOD_EVENTS[10], ("result",), "suppressed"), r"\['result'\]"),
    ("error metric without a pid", "event", {"ts": TS, "event": "error", "metric": "fds", "message": "m"},
     r"'pid' is a dependency"),
    ("inspect without result", "event", changed(GOOD_EVENTS[15], ("result",), drop=True), r"'result' is a required"),
    ("top_site without a line", "event", changed(GOOD_EVENTS[15], ("top_site",), "app/worker.py"),
     r"\['top_site'\]"),
    ("title with a quote", "event", changed(LEAK, ("title",), 'say "hi"'), r"\['title'\]"),
    ("title with a newline", "event", changed(LEAK, ("title",), "a\nb"), r"\['title'\]"),
    ("title of 64 characters", "event", changed(LEAK, ("title",), "x" * 64), r"\['title'\]"),
    ("title empty", "event", changed(LEAK, ("title",), ""), r"\['title'\]"),
    ("comm of 16 characters", "event", changed(LEAK, ("comm",), "c" * 16), r"\['comm'\]"),
    ("watch name with a space", "event", changed(LEAK, ("watch",), "api workers"), r"\['watch'\]"),
    ("incident not absolute", "event", changed(LEAK, ("incident",), "incidents/x"), r"\['incident'\]"),
    ("an array, not an event", "event", [LEAK], r"not of type 'object'"),
    ("a group leak with a pid", "event", dict(GROUP_LEAK, pid=7, comm="c"), r"\['(pid|comm)'\]|False schema"),
    ("a group leak without processes", "event", changed(GROUP_LEAK, ("processes",), drop=True),
     r"'processes' is a required"),
    ("a leak of neither a process nor a group", "event", changed(GROUP_LEAK, ("group",), drop=True),
     r"'(pid|comm)' is a required|False schema"),
    ("a group of 0 processes", "event", changed(GROUP_LEAK, ("processes",), 0), r"\['processes'\]"),
    ("a found event about a group", "event", dict(GOOD_EVENTS[1], group=True, processes=2), r"group|processes"),
    ("status: an object, not an array", "status", STATUS_ROW, r"not of type 'array'"),
    ("status: unknown key", "status", [changed(STATUS_ROW, ("uptime",), 3)], r"uptime"),
    ("status: no title key", "status", [changed(STATUS_ROW, ("title",), drop=True)], r"'title' is a required"),
    ("status: unknown verdict", "status", [changed(STATUS_ROW, ("rss", "verdict"), "leaking")],
     r"\['rss'\]\['verdict'\]"),
    ("status: unreadable with a value", "status", [changed(STATUS_ROW, ("fds", "value"), 5)],
     r"\['fds'\]\['value'\]"),
    ("status: a null value not unreadable", "status", [changed(STATUS_ROW, ("rss", "value"), None)],
     r"\['rss'\]\['value'\]"),
    ("status: eta as a string", "status", [changed(STATUS_ROW, ("rss", "eta_seconds"), "33m")],
     r"\['rss'\]\['eta_seconds'\]"),
    ("status: metric missing", "status", [changed(STATUS_ROW, ("threads",), drop=True)], r"'threads' is a required"),
    ("status: unknown metric key", "status", [changed(STATUS_ROW, ("rss", "maximum"), 5)], r"maximum"),
    ("status: inspect state", "status", [changed(STATUS_ROW, ("inspect", "state"), "done")],
     r"\['inspect'\]\['state'\]"),
    ("history: unknown key", "history", changed(HISTORY, ("buckets",), 48), r"buckets"),
    ("history: bucket key", "history", changed(HISTORY, ("rss", 0, "median"), 1), r"median"),
    ("history: 0 samples", "history", changed(HISTORY, ("rss", 0, "samples"), 0), r"\['samples'\]"),
    ("history: bucket time", "history", changed(HISTORY, ("rss", 0, "t"), 1764000000), r"\['t'\]"),
    ("history: window 0", "history", changed(HISTORY, ("window_seconds",), 0), r"\['window_seconds'\]"),
    ("history: 49 buckets", "history", changed(HISTORY, ("fds",), HISTORY["rss"] * 49), r"\['fds'\]"),
    ("history: fds missing", "history", changed(HISTORY, ("fds",), drop=True), r"'fds' is a required"),
]


def man_json(path, start):
    """The JSON examples of a man page whose .EX block starts with start
    ('{' or '['): each one text, its lines joined and the roff escapes
    undone."""
    with open(path) as f:
        text = f.read()
    out = []
    for block in re.findall(r"^\.EX\n(.*?)^\.EE", text, re.S | re.M):
        if not block.startswith(start):
            continue
        s = block.replace("\\-", "-").replace("\\(dq", '"').replace("\\&", "").replace("\\(aq", "'")
        # wrapped lines: a line broken inside a string is joined by one space
        out.append(re.sub(r"\n\s*", " ", s.strip()))
    return out


def check_loads(schemas):
    c = Check("loads")
    if schemas.error("event", {}) == schemas.unavailable and schemas.unavailable:
        c.fail(schemas.unavailable)
    else:
        c.note(", ".join(f"{k}: {type(v).__name__}" for k, v in sorted(schemas.validators.items())))
    return c


def check_man(schemas):
    c = Check("man-examples")
    n = 0
    for page, start, kind in (("leakwatchd.8", "{", "event"), ("leakwatchctl.1", "[", "status"),
                              ("leakwatchctl.1", "{", "history")):
        found = man_json(os.path.join(ROOT, "man", page), start)
        if not found:
            c.fail(f"no JSON example in {page} for {kind}")
        for text in found:
            if kind == "history":       # the example elides buckets and metrics
                text = text.replace(", ...]", "]").replace("[...]", "[]")
            try:
                value = json.loads(text)
            except ValueError as e:
                c.fail(f"{page}: an example is not JSON ({e}): {text[:120]!r}")
                continue
            is_kind = "watches" if kind == "status" and '"processes"' in text else kind
            why = schemas.error(is_kind, value)
            n += 1
            if why:
                c.fail(f"{page} {is_kind} example {text[:100]!r}: {why}")
    c.note(f"{n} examples")
    return c


def check_good(schemas):
    c = Check("good")
    cases = [("event", v) for v in GOOD_EVENTS] + [("status", v) for v in GOOD_STATUS] + \
        [("history", v) for v in GOOD_HISTORY]
    for kind, v in cases:
        why = schemas.error(kind, v)
        if why:
            c.fail(f"{kind} {json.dumps(v)[:120]}: {why}")
    types = {e["event"] for e in GOOD_EVENTS}
    if types != {"start", "found", "gone", "leak", "limit", "action", "reload", "error", "inspect"}:
        c.fail(f"the good events miss a type: {sorted(types)}")
    c.note(f"{len(cases)} texts")
    return c


def check_bad(schemas):
    c = Check("bad")
    for name, kind, value, want in BAD:
        why = schemas.error(kind, value)
        if why is None:
            c.fail(f"{name}: accepted")
        elif not re.search(want, why):
            c.fail(f"{name}: rejected, but the error does not say /{want}/: {why}")
    c.note(f"{len(BAD)} malformed texts")
    return c


def check_recorded(work):
    """lwtest's readers record a bad line, and schema_check() fails on it
    naming the line and the error; good lines leave it passing."""
    c = Check("recorded")
    saved = lwtest.SCHEMAS
    try:
        lwtest.SCHEMAS = Schemas()
        path = os.path.join(work, "events.jsonl")
        good = json.dumps(GOOD_EVENTS[1], separators=(",", ":"))
        with open(path, "w") as f:
            f.write(good + "\n" + good + "\n" + json.dumps(GOOD_EVENTS[0]) + "\n" + '{"ts": "x"')
        evs = lwtest.read_events(path)
        sc = lwtest.schema_check()
        if len(evs) != 3 or not sc.ok:
            c.fail(f"good lines: {len(evs)} events (not 3), check {sc.problems}")
        bad_line = json.dumps(changed(LEAK, ("severity",), "high"))
        with open(path, "a") as f:
            f.write("\n" + bad_line + "\nnot json at all\n")
        evs = lwtest.read_events(path)
        sc = lwtest.schema_check()
        text = " ".join(sc.problems)
        if len(evs) != 4:
            c.fail(f"{len(evs)} events read, not 4 (a bad event is still returned)")
        if sc.ok or "severity" not in text or "not a JSON object" not in text or "'not json at all'" not in text:
            c.fail(f"schema_check after a bad line: ok={sc.ok}, {text[:300]}")
        if not re.search(r"event '\{.*severity.*\}': at \$", text):
            c.fail(f"the failure does not give the line, then the error: {text[:300]}")
        # status and history through checked_json; an EventReader-style line
        lwtest.SCHEMAS = Schemas()
        lwtest.checked_json("status", json.dumps(GOOD_STATUS[1]))
        lwtest.checked_json("history", json.dumps(HISTORY))
        if not lwtest.schema_check().ok:
            c.fail(f"good status/history recorded as bad: {lwtest.schema_check().problems}")
        lwtest.checked_json("status", json.dumps([changed(STATUS_ROW, ("uptime",), 3)]))
        if lwtest.SCHEMAS.line(json.dumps(changed(ACTION, ("unit",), "x.service"))) is None:
            c.fail("SCHEMAS.line dropped an event that parses")
        p = lwtest.schema_check().problems
        if len(p) != 2 or not p[0].startswith("status ") or not p[1].startswith("event "):
            c.fail(f"checked_json/line failures: {p}")
        # a runner's finish() ends with the schema check, and fails with it
        out = subprocess.run([PYTHON, "-c", f"""
import sys; sys.path.insert(0, {HERE!r}); sys.dont_write_bytecode = True
import lwtest
lwtest.SCHEMAS.line('{{"ts": "{TS}", "event": "found", "message": "m"}}')
sys.exit(lwtest.finish("t", [lwtest.Check("x")], 8, {work!r}, True, "", [], ()))
"""], capture_output=True, text=True, timeout=30)
        if out.returncode != 1 or "FAIL  schema" not in out.stdout or "t: 1 passed, 1 failed" not in out.stdout:
            c.fail(f"finish() with a bad event: exit {out.returncode}, {out.stdout[-300:]!r}")
    finally:
        lwtest.SCHEMAS = saved
    return c


def check_live(a, work):
    """A real daemon's events, status, history and incident history.json."""
    c = Check("live")
    schemas = Schemas()
    marker = f"lwschema{os.getpid()}"
    cfg = os.path.join(work, "live.yaml")
    with open(cfg, "w") as f:
        f.write(f"""interval: 100ms
watches:
  - name: schema-fds
    match: {{ cmdline: {yq(marker)} }}
    window: 3s
    fds: {{ growth: 600/h, max: 40 }}
    on_leak: signal
    on_limit: signal
    capture: true
""")
    d = lwtest.Daemon("daemon", a.daemon, cfg, work, extra=("--dry-run",), ctl=a.ctl)
    prog = None
    texts = {"status": [], "history": []}
    try:
        d.start()
        if not d.wait_started(5, socket=True):
            c.fail(f"the daemon did not start: {lwtest.tail(d.err, 5)}")
            return c
        prog = subprocess.Popen([PYTHON, os.path.join(PROGRAMS, "leak_files.py"), "--path",
                                 os.path.join(work, "leaked"), "--per-sec", "10", "--tag", marker],
                                stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                start_new_session=True)

        def have(kind):
            return any(e.get("event") == kind and e.get("pid") == prog.pid for e in lwtest.read_jsonl(d.out))
        if not wait_for(lambda: have("found"), 5):
            c.fail("no found event")
        for _ in range(2):
            texts["status"].append(d.ctl_run("status", "--json").stdout)
            texts["history"].append(d.ctl_run("history", str(prog.pid), "--json").stdout)
            time.sleep(0.5)
        if not wait_for(lambda: have("limit") and have("leak") and have("action"), 15):
            c.fail("no leak, limit and action events within 15 s")
        texts["status"].append(d.ctl_run("status", "--json").stdout)
        texts["history"].append(d.ctl_run("history", str(prog.pid), "--json").stdout)
        d.proc.send_signal(signal.SIGHUP)
        wait_for(lambda: any(e.get("event") == "reload" for e in lwtest.read_jsonl(d.out)), 5)
        lwtest.stop_groups([prog])
        wait_for(lambda: have("gone"), 5)
    finally:
        if prog:
            lwtest.stop_groups([prog])
        d.stop()
        d.kill()
    kinds = set()
    with open(d.out) as f:
        lines = [ln.rstrip("\n") for ln in f]
    for ln in lines:
        try:
            v = json.loads(ln)
        except ValueError:
            c.fail(f"not JSON: {ln[:120]!r}")
            continue
        kinds.add(v.get("event"))
        why = schemas.error("event", v)
        if why:
            c.fail(f"{ln[:300]}: {why}")
    want = {"start", "found", "leak", "limit", "action", "reload", "gone"}
    if not want <= kinds:
        c.fail(f"events seen {sorted(kinds)}, not all of {sorted(want)}")
    incidents = {e.get("incident") for e in (json.loads(ln) for ln in lines if ln.startswith("{"))} - {None}
    for inc in sorted(incidents)[:1]:
        try:
            with open(os.path.join(inc, "history.json")) as f:
                texts["history"].append(f.read())
        except OSError as e:
            c.fail(f"incident {inc}: {e}")
    if not incidents:
        c.fail("no incident (capture: true)")
    for kind, got in texts.items():
        for t in got:
            try:
                why = schemas.error(kind, json.loads(t))
            except ValueError:
                why = "not JSON"
            if why:
                c.fail(f"{kind} {t[:200]!r}: {why}")
    c.note(f"{len(lines)} events ({', '.join(sorted(k for k in kinds if k))}), "
           f"{len(texts['status'])} status, {len(texts['history'])} history")
    return c


def check_files(paths):
    """Each line of each file an event that fits: the exit status."""
    schemas = Schemas()
    bad = n = 0
    for path in paths:
        with open(path, errors="replace") as f:
            for i, ln in enumerate(f, 1):
                n += 1
                try:
                    why = schemas.error("event", json.loads(ln))
                except ValueError:
                    why = "not JSON"
                if why:
                    bad += 1
                    print(f"FAIL  {path}:{i}: {ln.rstrip()[:300]}: {why}")
    print(f"schema: {n - bad} events fit, {bad} do not")
    return 1 if bad or schemas.unavailable else 0


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--events", nargs="+", metavar="FILE", help="only check that FILE's lines are events that fit")
    ap.add_argument("--daemon", help="leakwatchd: also check a live daemon's output")
    ap.add_argument("--ctl", help="leakwatchctl (default: beside the daemon)")
    ap.add_argument("--keep", help="keep the work in this directory")
    a = ap.parse_args()
    if a.events:
        return check_files(a.events)
    if a.daemon:
        a.daemon = os.path.abspath(a.daemon)
        a.ctl = os.path.abspath(a.ctl or os.path.join(os.path.dirname(a.daemon), "leakwatchctl"))
    lwtest.interrupt_on_term()
    work = a.keep or tempfile.mkdtemp(prefix="leakwatch-schema-")
    os.makedirs(work, exist_ok=True)
    schemas = Schemas()
    checks = [check_loads(schemas)]
    if schemas.validators:
        checks += [check_man(schemas), check_good(schemas), check_bad(schemas), check_recorded(work)]
        if a.daemon:
            checks.append(check_live(a, work))
    for c in checks:
        print(c.line(14))
    passed = sum(c.ok for c in checks)
    failed = len(checks) - passed
    if failed or a.keep:
        print(f"(work kept in {work})")
    else:
        shutil.rmtree(work, ignore_errors=True)
    print(f"schema: {passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
