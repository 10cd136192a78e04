#!/usr/bin/python3
"""leakwatch operator test: what an operator sees of a running leakwatchd,
end to end: leakwatchctl, the history kept over a restart, the Prometheus
exposition and the incident captures.

    /usr/bin/python3 tests/operator_test.py --daemon build/leakwatchd --ctl build/leakwatchctl
                                            [--keep [DIR]] [-v]

Every daemon runs with --log-target=json, interval 200ms, warm-up 1s and
window 10s (so a steady leak is reported about 12 s after its process
starts), with its own RUNTIME_DIRECTORY and STATE_DIRECTORY under the work
dir.  Every program runs in its own session, matched by a marker unique to
this run on its command line, and is killed with its process group at the
end, also on a failure, ^C or SIGTERM.

Phase 1, one daemon ("main", with metrics: textfile and listen) watching
three idle programs (programs/idle_holder.py, each holding a known number
of extra fds and threads), a steady 1 MiB/s leaker (the baseline) and a
file-descriptor leaker (programs/leak_files.py) under a watch with
on_leak: signal, kill_after 5s, capture: true:

- status-json: `leakwatchctl status --json` against /proc for the idle
  processes: rss within a page of VmRSS read just before or just after the
  query, fds and threads exact, watch, comm, verdict, started (RFC 3339,
  within 2 s of the process's start in /proc).
- status-table: the summary line, a line per watch, the header, 3 rows
  per process (rss, fds, threads, in that order, values as in the JSON),
  every line at most 80 columns (code points), a sparkline at the end of
  each row.
- history: `history PID --json` (buckets, bucket_seconds = window/48, min <=
  mean <= max, the newest fds bucket equal to /proc), the table, and an
  unwatched pid (exit 1, "leakwatchctl: pid N is not watched").
- ctl-no-daemon: an empty runtime directory and a stale socket: exit 1, one
  line on stderr, nothing on stdout.
- ctl-denied: the 0600 socket asked by user nobody: exit 1, one line saying
  permission denied.
- check-config: conf/leakwatch.yaml is OK; a bad file gives every error as
  FILE:LINE:COL: error: (exit 1).
- metrics-http: /metrics passes `promtool check metrics`, has the families
  and the idle pids with their true fds/threads/rss; other paths are 404.
- metrics-textfile: a thread reads the textfile in a tight loop for 8 s
  while the daemon rewrites it (about once a second): every read is a whole
  exposition, several rewrites (inode changes) are seen; promtool on one.
- capture: the fd leak is reported with an incident directory, then the
  action (signal, ok) names the same one; its files are there and right
  (the fds summary's first row is the leaked path with the largest count;
  plot.svg parses, with a leak period in its fds panel);
  the leaker exits of the signal.
- Then, the day-two commands (tests/operator_daytwo.py says what each
  checks): watch-lines (the line per watch, status --watches), status-
  filters (--watch, --verdict), ctl-shared-socket (a socket opened to all:
  status for anyone, forget and reload for root alone), forget (found
  again afresh), reload (ok with a warning, a broken file refused).

Phase 2, five daemons side by side, four with one fresh 1 MiB/s leaker each:

- restart: leakwatchd is SIGKILLed at half the baseline detection time
  (leak ts minus program start, measured in phase 1) and started again at
  once with the same config and state dir: the found event says history was
  kept, and the leak comes within baseline + one interval + START_TOL_S
  (for the discovery scan's phase, see below) of the program's start.  A
  daemon that started afresh would need a whole baseline after the restart,
  i.e. about 1.5 baselines: the bound tells the two apart.
- state-garbage, state-truncated, state-corrupt: history.state holds random
  bytes, the first half of a valid file, or a valid file with one payload
  byte flipped: an `error` event names the file and says it is unusable,
  the daemon keeps running, replaces the file with a valid one and reports
  the fresh leak in normal time (the same bound).
- plot: a fifth daemon watches a 2 MiB/s leaker (its command line carrying
  markup, so its title does) under rss { growth, max: PLOT_MAX }; once
  its rss is reported leaking with a crossing ahead, `leakwatchctl plot
  PID -o FILE` is an SVG 1.1 document that python's XML parser reads, with
  the three panels and, in rss's, the trend, the limit, the prediction,
  the crossing (when within the window ahead), a leak period and no limit
  period, and the title's markup as text (escaped in the file); `history
  PID --csv` (a header, nine fields a row, CRLF, the newest bucket leaking
  rss) and the terminal chart ("plot PID text 100" on the socket: braille,
  no line over 100 columns, three verdict rows, an L in rss's); once over
  its max, a second SVG with a limit period after the leak period and no
  crossing ahead.  Both are converted to PNG by rsvg-convert (noted, not
  failed, when it is not installed), kept with the work dir (--keep).
- textfile-removed: the metrics textfile is gone once the daemon stopped.
- daemon-exits: every daemon still running exits 0 on SIGTERM.

One PASS/FAIL line per check, then `operator_test: N passed, M failed`;
exit status 1 on any failure.  About 30 s (the day-two checks: under a second).
"""

import argparse
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import xml.etree.ElementTree as ET

sys.dont_write_bytecode = True     # importing lwtest must leave no tests/__pycache__
from lwtest import (HERE, PROGRAMS, PYTHON, Check, Daemon, Prog, checked_json, cmdlines, finish, free_port, interrupt_on_term,
                    of, parse_ts, start_failed, status_table, stop_groups, wait_for, yq)
import operator_daytwo

INTERVAL_MS = 200
INTERVAL_S = INTERVAL_MS / 1000
WARMUP_S = 1
WINDOW_S = 10
BUCKETS = 48
LEAK_RATE_KIB = 1024        # the leakers: 1 MiB/s = 3.5G/h, far above GROWTH
RULES = {"rss": "100M/h", "fds": "1200/h", "threads": "1200/h"}
FD_LEAK_PER_SEC = 5         # 18000/h, far above 1200/h
KILL_AFTER_S = 5
# (extra fds, extra threads, MiB touched) of the idle programs
IDLE = [(3, 2, 4), (7, 4, 8), (12, 1, 2)]
# A process is found at the first discovery scan after it starts, and scans
# run once a second (SCAN_MIN_MS): the same leak is reported up to 1 s later
# in one run than in another, whatever the daemon does; 0.25 s more for the
# scheduling of the ticks, the daemons and the programs on a busy machine.
START_TOL_S = 1.25
EXPECTED_BASELINE_S = 1.15 * WINDOW_S + 1    # only if phase 1 measured none
LEAK_WAIT_S = 35            # an expected leak must come this soon after its program started
TEXTFILE_READ_S = 8
MIN_REWRITES = 4            # of the textfile, in TEXTFILE_READ_S (about one a second)
MIN_READS = 1000
PAGE = os.sysconf("SC_PAGE_SIZE")
CLK_TCK = os.sysconf("SC_CLK_TCK")

PLOT_RATE_KIB = 2048        # the plot's leaker: 2 MiB/s, over PLOT_MAX some 20 s after its start
PLOT_MAX = "50M"
PLOT_TAG = "<b>&'\""         # on its command line, so in its title: markup the SVG must escape
PLOT_WIDTH = 100            # the terminal chart's, asked for on the socket
SVG_NS = "{http://www.w3.org/2000/svg}"

STATE_MAGIC = b"LWSTATE\n"
RFC3339 = re.compile(r"^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$")
VERDICTS = ("warming", "ok", "leak", "limit")
SPARK = set("▁▂▃▄▅▆▇█")
TRENDS = ["leakwatch_process_rss_trend_bytes_per_second", "leakwatch_process_fds_trend_per_second",
          "leakwatch_process_threads_trend_per_second"]
LIMITS = ["leakwatch_process_rss_limit_bytes", "leakwatch_process_fds_limit", "leakwatch_process_threads_limit"]
FAMILIES = ["leakwatch_process_rss_bytes", "leakwatch_process_fds", "leakwatch_process_threads"] + TRENDS + LIMITS + [
            "leakwatch_process_eta_seconds", "leakwatch_process_leak", "leakwatch_process_over_limit",
            "leakwatch_watched_processes", "leakwatch_watch_rss_bytes", "leakwatch_watch_fds",
            "leakwatch_watch_threads", "leakwatch_watch_leaking_processes", "leakwatch_watch_over_limit_processes",
            "leakwatch_events_total", "leakwatch_actions_total",
            "leakwatch_scan_duration_seconds", "leakwatch_tick_duration_seconds"]


# ----------------------------------------------------------------------------
# plumbing

def run(argv, env=None, timeout=20, stdin=None):
    """Run a command; a CompletedProcess with text stdout/stderr (UTF-8)."""
    return subprocess.run(argv, env=env, stdin=stdin if stdin is not None else subprocess.DEVNULL,
                          capture_output=True, encoding="utf-8", errors="replace", timeout=timeout)


def proc_status(pid):
    """/proc/PID/status as {field: text}, {} when gone."""
    out = {}
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                k, _, v = line.partition(":")
                out[k] = v.strip()
    except OSError:
        pass
    return out


def stat_rss(pid):
    """The rss field (24) of /proc/PID/stat, in bytes, or None."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            st = f.read()
        return int(st[st.rindex(")") + 2:].split()[21]) * PAGE
    except (OSError, ValueError, IndexError):
        return None


def snapshot(pid):
    """{rss (bytes, VmRSS), fds, threads, stat_rss} of pid now, or None."""
    st = proc_status(pid)
    try:
        return {"rss": int(st["VmRSS"].split()[0]) * 1024, "fds": len(os.listdir(f"/proc/{pid}/fd")),
                "threads": int(st["Threads"]), "stat_rss": stat_rss(pid)}
    except (KeyError, ValueError, OSError):
        return None


def rss_off(v, b, a):
    """Why v (bytes) is not within a page of VmRSS read before (b) or after (a), or None."""
    if min(abs(v - b["rss"]), abs(v - a["rss"])) <= PAGE:
        return None
    why = f"{v:.0f}, VmRSS {b['rss']}..{a['rss']} ({(v - a['rss']) / PAGE:+.0f} pages)"
    if v in (b["stat_rss"], a["stat_rss"]):
        why += " = the rss field of /proc/PID/stat"
    return why


def read_text(path, default=None):
    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            return f.read()
    except OSError:
        return default


def boot_time():
    with open("/proc/stat") as f:
        for line in f:
            if line.startswith("btime "):
                return int(line.split()[1])
    return None


def proc_start_wall(pid):
    """When pid started, seconds since the epoch (from /proc), or None."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            st = f.read()
        ticks = int(st[st.rindex(")") + 2:].split()[19])
        return boot_time() + ticks / CLK_TCK
    except (OSError, ValueError, IndexError, TypeError):
        return None


def ts_of(e):
    return parse_ts(e.get("ts")) if e else None


def watch_lines(name, marker, rules=RULES, extra=()):
    out = [f"  - name: {name}", "    match:", f"      cmdline: {yq(marker)}",
           f"    warmup: {WARMUP_S}s", f"    window: {WINDOW_S}s"]
    for metric, growth in rules.items():
        out.append(f"    {metric}: {{ growth: {yq(growth)} }}")
    return out + [f"    {x}" for x in extra]


def write_config(path, watches, metrics=None):
    out = ["# written by tests/operator_test.py", f"interval: {INTERVAL_MS}ms"]
    if metrics:
        out += ["metrics:"] + [f"  {k}: {yq(v)}" for k, v in metrics.items()]
    out.append("watches:")
    for w in watches:
        out += w
    with open(path, "w") as f:
        f.write("\n".join(out) + "\n")
    return path


# ----------------------------------------------------------------------------
# phase 1 checks: leakwatchctl

def check_status_json(ctl, daemon, idle, others):
    """idle: [(Prog, ready dict)]; others: {pid: watch}."""
    c = Check("status-json")
    env = daemon.ctl_env()
    problems = []
    for attempt in (1, 2):      # a second look after a second, should a sample straddle the set-up
        problems = []
        before = {p.pid: snapshot(p.pid) for p, _ in idle}
        res = run([ctl, "status", "--json"], env)
        after = {p.pid: snapshot(p.pid) for p, _ in idle}
        if res.returncode != 0:
            problems.append(f"exit {res.returncode}: {res.stderr.strip()[:200]}")
        try:
            arr = checked_json("status", res.stdout)
        except ValueError:
            problems.append(f"not JSON: {res.stdout[:200]!r}")
            arr = None
        if not isinstance(arr, list):
            problems.append("not a JSON array")
            arr = []
        by_pid = {e.get("pid"): e for e in arr if isinstance(e, dict)}
        for p, ready in idle:
            e = by_pid.get(p.pid)
            b, a = before[p.pid], after[p.pid]
            if e is None:
                problems.append(f"idle pid {p.pid} missing")
                continue
            if b is None or a is None:
                problems.append(f"idle pid {p.pid} gone from /proc")
                continue
            missing = [k for k in ("watch", "pid", "comm", "started", "rss", "fds", "threads") if k not in e]
            if missing:
                problems.append(f"pid {p.pid}: no {', '.join(missing)}")
                continue
            if e["watch"] != "idle":
                problems.append(f"pid {p.pid}: watch {e['watch']!r}, not 'idle'")
            comm = (read_text(f"/proc/{p.pid}/comm") or "").strip()
            if e["comm"] != comm:
                problems.append(f"pid {p.pid}: comm {e['comm']!r}, /proc says {comm!r}")
            for m in ("rss", "fds", "threads"):
                o = e[m]
                if not isinstance(o, dict) or not isinstance(o.get("value"), (int, float)):
                    problems.append(f"pid {p.pid}: {m} has no value: {o!r}")
                    continue
                if o.get("verdict") not in VERDICTS:
                    problems.append(f"pid {p.pid}: {m} verdict {o.get('verdict')!r}")
                elif o["verdict"] in ("leak", "limit"):
                    problems.append(f"pid {p.pid}: idle, yet {m} verdict {o['verdict']}")
                if not isinstance(o.get("slope_per_hour"), (int, float)):
                    problems.append(f"pid {p.pid}: {m} slope_per_hour {o.get('slope_per_hour')!r}")
                if "eta_seconds" not in o or not (o["eta_seconds"] is None or
                                                  isinstance(o["eta_seconds"], (int, float))):
                    problems.append(f"pid {p.pid}: {m} eta_seconds {o.get('eta_seconds')!r}")
            v = e["rss"].get("value")
            if isinstance(v, (int, float)) and rss_off(v, b, a):
                problems.append(f"pid {p.pid}: rss {rss_off(v, b, a)}")
            for m in ("fds", "threads"):
                v = e[m].get("value")
                if b[m] != a[m]:
                    problems.append(f"pid {p.pid}: /proc {m} moved during the query ({b[m]} -> {a[m]})")
                elif v != a[m]:
                    problems.append(f"pid {p.pid}: {m} {v}, /proc says {a[m]}")
            started = e.get("started")
            t = parse_ts(started)
            real = proc_start_wall(p.pid)
            if not isinstance(started, str) or not RFC3339.match(started) or t is None:
                problems.append(f"pid {p.pid}: started {started!r} is not RFC 3339")
            elif real is None or abs(t - real) > 2.0:
                problems.append(f"pid {p.pid}: started {started}, {t - real if real else 0:+.2f}s off "
                                f"the process's start in /proc")
        for pid, watch in others.items():
            e = by_pid.get(pid)
            if e is None:
                problems.append(f"pid {pid} ({watch}) missing")
            elif e.get("watch") != watch:
                problems.append(f"pid {pid}: watch {e.get('watch')!r}, not {watch!r}")
        if not problems:
            c.note(f"{len(arr)} processes, {len(idle)} idle ones as in /proc"
                   + (" (second look)" if attempt == 2 else ""))
            break
        time.sleep(1)
    for p in problems:
        c.fail(p)
    return c


def check_status_table(ctl, daemon, pids):
    c = Check("status-table")
    env = daemon.ctl_env()
    jres = run([ctl, "status", "--json"], env)
    res = run([ctl, "status"], env)
    try:
        arr = {e["pid"]: e for e in checked_json("status", jres.stdout)}
    except (ValueError, KeyError, TypeError):
        arr = {}
        c.fail("status --json did not parse")
    if res.returncode != 0 or res.stderr:
        c.fail(f"exit {res.returncode}, stderr {res.stderr.strip()[:200]!r}")
    lines = res.stdout.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    else:
        c.fail("the output does not end with a newline")
    if len(lines) < 3:
        c.fail(f"only {len(lines)} lines: {res.stdout[:200]!r}")
        return c
    m = re.fullmatch(r"leakwatchd: watching (\d+) process(es)? with (\d+) watch(es)?: (\d+) leaking, "
                     r"(\d+) over a limit", lines[0])
    if not m:
        c.fail(f"first line {lines[0]!r}")
    elif int(m.group(1)) != len(arr) or int(m.group(3)) != 3:
        c.fail(f"first line {lines[0]!r}: expected {len(arr)} processes and 3 watches")
    if lines[1] != "":
        c.fail(f"second line {lines[1]!r} is not blank")
    # a line per watch (operator_daytwo.py checks what they say), then a blank line
    t = status_table(res.stdout)
    if len(t["watch_lines"]) != 3 or not all(re.match(r"(idle|baseline|capture): \d+ process", ln)
                                             for ln in t["watch_lines"]):
        c.fail(f"watch lines {t['watch_lines'][:5]!r}, not one each for idle, baseline and capture")
    want_hdr = ["WATCH", "PID", "COMM", "METRIC", "VALUE", "TREND/H", "ETA", "VERDICT", "WINDOW"]
    if (t["header"] or "").split() != want_hdr:
        c.fail(f"header {t['header']!r}")
    if t["other"]:
        c.fail(f"lines that are neither rows nor titles: {t['other'][:3]!r}")
    wide = [(n + 1, len(ln)) for n, ln in enumerate(res.stdout.split("\n")) if len(ln) > 80]
    for n, w in wide[:3]:
        c.fail(f"line {n} is {w} columns wide")
    # a process's title, quoted under its rows (from the pid column on)
    titles = sorted(p["title"] for p in t["procs"] if p["title"] is not None)
    want_titles = sorted(e["title"] for e in arr.values() if e.get("title") and e["title"] != e.get("comm"))
    if titles != want_titles:
        c.fail(f"title lines {titles[:3]!r}, the JSON says {want_titles[:3]!r}")
    seen = set()
    for p in t["procs"]:
        pid = p["pid"]
        seen.add(pid)
        if list(p["metrics"]) != ["rss", "fds", "threads"] or len(p["rows"]) != 3:
            c.fail(f"pid {pid}: rows {list(p['metrics'])} ({len(p['rows'])} lines), not rss, fds, threads")
            continue
        e = arr.get(pid)
        if e and e.get("watch", "")[:10] != p["watch"][:10]:
            c.fail(f"pid {pid}: watch {p['watch']!r}, the JSON says {e.get('watch')!r}")
        for metric in ("fds", "threads"):
            val = p["metrics"][metric][0] if p["metrics"][metric] else ""
            if e and str(e[metric]["value"]) != val:
                c.fail(f"pid {pid}: {metric} {val} in the table, {e[metric]['value']} in the JSON")
        for ln, metric in zip(p["rows"], ("rss", "fds", "threads")):
            if ln.rstrip()[-1:] not in SPARK:
                c.fail(f"pid {pid}: {metric} row ends without a sparkline: {ln!r}")
    for pid in pids:
        if pid not in seen:
            c.fail(f"pid {pid} has no row")
    if c.ok:
        c.note(f"{len(t['procs'])} processes x 3 rows and {len(titles)} titles, widest line "
               f"{max(len(ln) for ln in lines)} columns")
    return c


def check_history(ctl, daemon, prog):
    c = Check("history")
    env = daemon.ctl_env()
    pid = prog.pid
    res = run([ctl, "history", str(pid), "--json"], env)
    now = snapshot(pid)
    if res.returncode != 0:
        c.fail(f"history {pid} --json: exit {res.returncode}: {res.stderr.strip()[:200]}")
        return c
    try:
        h = checked_json("history", res.stdout)
    except ValueError:
        c.fail(f"history --json is not JSON: {res.stdout[:200]!r}")
        return c
    if not isinstance(h, dict):
        c.fail("history --json is not an object")
        return c
    if h.get("pid") != pid or h.get("watch") != "idle":
        c.fail(f"pid {h.get('pid')!r} watch {h.get('watch')!r}")
    if h.get("comm") != (read_text(f"/proc/{pid}/comm") or "").strip():
        c.fail(f"comm {h.get('comm')!r}")
    if not RFC3339.match(str(h.get("started"))):
        c.fail(f"started {h.get('started')!r}")
    if h.get("window_seconds") != WINDOW_S:
        c.fail(f"window_seconds {h.get('window_seconds')!r}, not {WINDOW_S}")
    bs = h.get("bucket_seconds")
    if not isinstance(bs, (int, float)) or abs(bs - WINDOW_S / BUCKETS) > 0.002:
        c.fail(f"bucket_seconds {bs!r}, not {WINDOW_S}/{BUCKETS}")
    start = proc_start_wall(pid) or 0
    counts = {}
    for metric in ("rss", "fds", "threads"):
        bks = h.get(metric)
        if not isinstance(bks, list) or not bks:
            c.fail(f"{metric}: no buckets ({bks!r})"[:200])
            continue
        counts[metric] = (len(bks), sum(b.get("samples", 0) for b in bks if isinstance(b, dict)))
        last_t = 0
        for b in bks:
            if not isinstance(b, dict) or set(b) != {"t", "samples", "mean", "min", "max"}:
                c.fail(f"{metric}: bucket {b!r}"[:200])
                break
            t = parse_ts(b["t"])
            if t is None or t < start - 1 or t > time.time() + 1 or t < last_t:
                c.fail(f"{metric}: bucket time {b['t']!r} out of order or out of range")
                break
            last_t = t
            if not isinstance(b["samples"], int) or b["samples"] < 1:
                c.fail(f"{metric}: bucket samples {b['samples']!r}")
                break
            if not b["min"] - 0.1 <= b["mean"] <= b["max"] + 0.1:
                c.fail(f"{metric}: bucket min {b['min']} mean {b['mean']} max {b['max']}")
                break
        newest = bks[-1]
        if metric != "rss" and now and isinstance(newest, dict) and \
                (newest.get("min") != now[metric] or newest.get("max") != now[metric]):
            c.fail(f"{metric}: newest bucket {newest.get('min')}..{newest.get('max')}, /proc says {now[metric]}")
    if counts.get("rss") and counts.get("fds") and counts["rss"] != counts["fds"]:
        c.fail(f"rss and fds buckets differ: {counts['rss']} vs {counts['fds']}")
    # the table
    res = run([ctl, "history", str(pid)], env)
    if res.returncode != 0 or f"pid {pid}" not in res.stdout.split("\n", 1)[0]:
        c.fail(f"history {pid} (table): exit {res.returncode}, first line {res.stdout.split(chr(10), 1)[0]!r}")
    # an unwatched pid: this runner
    me = os.getpid()
    res = run([ctl, "history", str(me), "--json"], env)
    want = f"leakwatchctl: pid {me} is not watched\n"
    if res.returncode != 1 or res.stderr != want or res.stdout:
        c.fail(f"unwatched pid: exit {res.returncode}, stderr {res.stderr!r}, stdout {res.stdout[:80]!r}")
    if c.ok and "rss" in counts:
        c.note(f"pid {pid}: {counts['rss'][0]} buckets, {counts['rss'][1]} samples; unwatched pid -> exit 1")
    return c


def check_no_daemon(ctl, work):
    c = Check("ctl-no-daemon")
    empty = os.path.join(work, "nodaemon-run")
    os.makedirs(empty, exist_ok=True)
    stale = os.path.join(work, "stale-run")
    os.makedirs(stale, exist_ok=True)
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.bind(os.path.join(stale, "control.sock"))       # bound, never listening: a dead daemon's
    s.close()
    for label, d in (("no socket", empty), ("stale socket", stale)):
        for argv in ([ctl, "status"], [ctl, "status", "--json"], [ctl, "history", "1"]):
            env = dict(os.environ, RUNTIME_DIRECTORY=d)
            res = run(argv, env)
            what = f"{label}: {' '.join(argv[1:])}"
            lines = res.stderr.splitlines()
            if res.returncode != 1:
                c.fail(f"{what}: exit {res.returncode}, not 1")
            if res.stdout:
                c.fail(f"{what}: stdout {res.stdout[:80]!r}")
            if len(lines) != 1 or not res.stderr.endswith("\n"):
                c.fail(f"{what}: {len(lines)} stderr lines: {res.stderr[:200]!r}")
            elif "not running" not in lines[0] or os.path.join(d, "control.sock") not in lines[0]:
                c.fail(f"{what}: {lines[0]!r} does not say no daemon listens on the socket")
    if c.ok:
        c.note(repr(lines[0]))
    return c


def check_denied(ctl, daemon, work):
    c = Check("ctl-denied")
    if os.geteuid() != 0:
        c.fail("needs root: the daemon's socket must belong to another user than the client")
        return c
    try:
        st = os.stat(daemon.socket)
    except OSError as e:
        c.fail(f"no socket: {e}")
        return c
    if st.st_mode & 0o777 != 0o600 or st.st_uid != 0:
        c.fail(f"socket mode {st.st_mode & 0o777:o} uid {st.st_uid}, not 600 root")
    os.chmod(work, 0o755)
    os.chmod(daemon.env["RUNTIME_DIRECTORY"], 0o755)
    mine = os.path.join(work, "leakwatchctl")     # reachable by nobody whatever ctl's parents allow
    shutil.copy(ctl, mine)
    os.chmod(mine, 0o755)
    env = dict(daemon.ctl_env(), HOME="/")
    res = run(["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups", mine, "status"], env)
    lines = res.stderr.splitlines()
    if res.returncode != 1:
        c.fail(f"exit {res.returncode}, not 1")
    if res.stdout:
        c.fail(f"stdout {res.stdout[:80]!r}")
    if len(lines) != 1:
        c.fail(f"{len(lines)} stderr lines: {res.stderr[:200]!r}")
    elif "permission denied" not in lines[0].lower():
        c.fail(f"{lines[0]!r} does not say permission denied")
    if c.ok:
        c.note(repr(lines[0]))
    return c


def check_config_cmd(ctl, work):
    c = Check("check-config")
    example = os.path.join(os.path.dirname(HERE), "conf", "leakwatch.yaml")
    res = run([ctl, "check-config", example])
    if res.returncode != 0 or res.stdout != "configuration OK\n":
        c.fail(f"{example}: exit {res.returncode}, stdout {res.stdout!r}, stderr {res.stderr[:200]!r}")
    bad = os.path.join(work, "bad.yaml")
    with open(bad, "w") as f:
        f.write("interval: 5parsecs\n"          # 1:11
                "watches:\n"
                "  - name: a\n"
                "    match: { comm: x }\n"
                "    bogus: 3\n")               # 5:5
    res = run([ctl, "check-config", bad])
    errs = res.stderr.splitlines()
    if res.returncode != 1:
        c.fail(f"bad file: exit {res.returncode}, not 1")
    for line, col in ((1, 11), (5, 5)):
        if not any(e.startswith(f"{bad}:{line}:{col}: error: ") for e in errs):
            c.fail(f"bad file: no {line}:{col} error in {res.stderr[:300]!r}")
    if res.stdout:
        c.fail(f"bad file: stdout {res.stdout[:80]!r}")
    if c.ok:
        c.note(f"example OK; bad file: {len(errs)} errors, e.g. {errs[0].replace(bad, 'FILE')!r}")
    return c


# ----------------------------------------------------------------------------
# phase 1 checks: metrics

def parse_samples(text):
    """[(name, {label: value}, value)] of an exposition's sample lines."""
    out = []
    for ln in text.splitlines():
        if not ln or ln.startswith("#"):
            continue
        m = re.match(r"^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})?\s+(\S+)$", ln)
        if not m:
            continue
        labels = dict(re.findall(r'(\w+)="((?:[^"\\]|\\.)*)"', m.group(3) or ""))
        try:
            out.append((m.group(1), labels, float(m.group(4))))
        except ValueError:
            pass
    return out


def promtool(path):
    with open(path) as f:
        return run(["promtool", "check", "metrics"], stdin=f)


def check_metrics_http(port, idle, work):
    """The check and the exposition's families (TYPE names, in order)."""
    c = Check("metrics-http")
    url = f"http://127.0.0.1:{port}"
    body = os.path.join(work, "metrics-http.prom")

    def get():
        r = run(["curl", "-s", "-o", body, "-w", "%{http_code}", url + "/metrics"], timeout=10)
        return r.stdout == "200"

    if not wait_for(get, 5, 0.2):
        c.fail(f"no 200 from {url}/metrics within 5 s")
        return c, []
    before = {p.pid: snapshot(p.pid) for p, _ in idle}
    get()
    after = {p.pid: snapshot(p.pid) for p, _ in idle}
    text = read_text(body, "")
    res = promtool(body)
    if res.returncode != 0:
        c.fail(f"promtool check metrics: exit {res.returncode}: {(res.stdout + res.stderr).strip()[:300]}")
    families = re.findall(r"^# TYPE (\S+) \S+$", text, re.M)
    for f in FAMILIES:
        if f not in families:
            c.fail(f"no family {f}")
    samples = parse_samples(text)
    if '=""' in text:
        c.fail("an empty label value: " + next(ln for ln in text.splitlines() if '=""' in ln)[:200])
    if not [lb for n, lb, v in samples if n == "leakwatch_events_total" and lb == {"event": "start"}]:
        c.fail('no leakwatch_events_total{event="start"} (without a watch label)')
    # the watch's series: its processes and their sums (no max: no limit series)
    per_watch = {n: v for n, lb, v in samples if lb == {"watch": "idle"}}
    if per_watch.get("leakwatch_watched_processes") != len(idle):
        c.fail(f"leakwatch_watched_processes of idle: {per_watch.get('leakwatch_watched_processes')}")
    if all(after.values()):
        for metric in ("fds", "threads"):
            want = sum(after[p.pid][metric] for p, _ in idle)
            if per_watch.get("leakwatch_watch_" + metric) != want:
                c.fail(f"leakwatch_watch_{metric} of idle: {per_watch.get('leakwatch_watch_' + metric)}, /proc: {want}")
    if [n for n, lb, v in samples if n in LIMITS]:
        c.fail("a limit series, and no watch has a max")
    for p, _ in idle:
        b, a = before[p.pid], after[p.pid]
        for metric, fam in (("rss", "leakwatch_process_rss_bytes"), ("fds", "leakwatch_process_fds"),
                            ("threads", "leakwatch_process_threads")):
            vals = [v for n, lb, v in samples if n == fam and lb.get("pid") == str(p.pid)]
            if len(vals) != 1:
                c.fail(f"{fam}: {len(vals)} samples for pid {p.pid}")
                continue
            lb = next(lb for n, lb, v in samples if n == fam and lb.get("pid") == str(p.pid))
            if lb.get("watch") != "idle" or not lb.get("comm"):
                c.fail(f"{fam} pid {p.pid}: labels {lb}")
            if b is None or a is None:
                continue
            if metric == "rss":
                if rss_off(vals[0], b, a):
                    c.fail(f"{fam} pid {p.pid}: {rss_off(vals[0], b, a)}")
            elif vals[0] != a[metric]:
                c.fail(f"{fam} pid {p.pid}: {vals[0]:.0f}, /proc says {a[metric]}")
        ms = sorted(lb.get("metric") for n, lb, v in samples if n == "leakwatch_process_leak" and
                    lb.get("pid") == str(p.pid))
        if ms != ["fds", "rss", "threads"]:
            c.fail(f"leakwatch_process_leak pid {p.pid}: metrics {ms}")
        # no trend series before the history covers the window (all three
        # metrics share one history: all or none)
        trends = [n for n, lb, v in samples if n in TRENDS and lb.get("pid") == str(p.pid)]
        if len(trends) not in (0, 3) or len(set(trends)) != len(trends):
            c.fail(f"pid {p.pid}: trend series {trends}")
    for path in ("/", "/nope", "/metrics/x", "/metricsx"):
        r = run(["curl", "-s", "-o", "/dev/null", "-w", "%{http_code}", url + path], timeout=10)
        want = "200" if path == "/" else "404"
        if r.stdout != want:
            c.fail(f"GET {path}: HTTP {r.stdout!r}, not {want}")
    if c.ok:
        c.note(f"promtool OK, {len(families)} families, {len(samples)} samples; other paths 404")
    return c, families


class TextfileReader(threading.Thread):
    """Reads the textfile in a tight loop for `seconds`: counts the reads,
    the rewrites (inode changes between reads) and the reads that are not a
    whole exposition."""

    def __init__(self, path, families, seconds):
        super().__init__(daemon=True)
        self.path = path
        self.types = [f"# TYPE {f} " for f in families]
        self.last = families[-1] if families else None
        self.seconds = seconds
        self.stop_flag = threading.Event()
        self.reads = self.rewrites = self.missing = 0
        self.bad = []
        self.snapshot = None
        self.elapsed = 0.0

    def whole(self, data):
        if not data.endswith("\n"):
            return "does not end with a newline"
        for t in self.types:
            if t not in data:
                return f"no {t.strip()!r}"
        tail = data[:-1].rsplit("\n", 1)[-1]
        if self.last and not (tail.startswith(self.last + " ") or tail.startswith(self.last + "{")):
            return f"last line {tail[:60]!r} is not a {self.last} sample"
        return None

    def run(self):
        t0 = time.time()
        ino = None
        while not self.stop_flag.is_set() and time.time() - t0 < self.seconds:
            try:
                with open(self.path, "rb") as f:
                    st = os.fstat(f.fileno())
                    data = f.read()
            except FileNotFoundError:
                self.missing += 1
                continue
            self.reads += 1
            if ino is not None and st.st_ino != ino:
                self.rewrites += 1
            ino = st.st_ino
            text = data.decode("utf-8", errors="replace")
            why = self.whole(text)
            if why:
                if len(self.bad) < 3:
                    self.bad.append(f"read {self.reads} ({len(data)} bytes): {why}")
                else:
                    self.bad.append(None)
            elif self.snapshot is None and self.rewrites:
                self.snapshot = data
        self.elapsed = time.time() - t0


def check_textfile(reader, work):
    c = Check("metrics-textfile")
    if reader is None:
        c.fail("not run: the HTTP exposition gave no families to look for")
        return c
    if not reader.types:
        c.fail("no families to look for")
    nbad = len(reader.bad)
    for b in [x for x in reader.bad if x][:3]:
        c.fail(b)
    if nbad:
        c.fail(f"{nbad} of {reader.reads} reads not a whole exposition")
    if reader.missing:
        c.fail(f"the file was missing at {reader.missing} attempts")
    if reader.reads < MIN_READS:
        c.fail(f"only {reader.reads} reads in {reader.elapsed:.1f}s")
    if reader.rewrites < MIN_REWRITES:
        c.fail(f"only {reader.rewrites} rewrites seen in {reader.elapsed:.1f}s (want >= {MIN_REWRITES})")
    if reader.snapshot is None:
        c.fail("no whole snapshot to give promtool")
    else:
        snap = os.path.join(work, "metrics-textfile.prom")
        with open(snap, "wb") as f:
            f.write(reader.snapshot)
        res = promtool(snap)
        if res.returncode != 0:
            c.fail(f"promtool check metrics on a snapshot: exit {res.returncode}: "
                   f"{(res.stdout + res.stderr).strip()[:300]}")
    c.note(f"{reader.reads} reads, {reader.rewrites} rewrites in {reader.elapsed:.1f}s, {nbad} torn")
    return c


# ----------------------------------------------------------------------------
# phase 1 checks: capture

def check_capture(daemon, prog, leaked_path, exited_at):
    c = Check("capture")
    evs = daemon.events()
    leaks = of(evs, "leak", "capture", prog.pid)
    acts = of(evs, "action", "capture", prog.pid)
    if not leaks:
        c.fail("no leak event")
        return c
    leak = leaks[0]
    if leak.get("metric") != "fds":
        c.fail(f"leak metric {leak.get('metric')!r}, not fds")
    inc = leak.get("incident")
    if not inc:
        c.fail(f"the leak event has no incident: {json.dumps(leak)[:200]}")
        return c
    if not acts:
        c.fail("no action event")
    else:
        a = acts[0]
        if a.get("action") != "signal" or a.get("result") != "ok":
            c.fail(f"action {a.get('action')!r} result {a.get('result')!r}, not signal ok")
        if a.get("incident") != inc:
            c.fail(f"the action event's incident {a.get('incident')!r} is not the leak's {inc!r}")
        if (ts_of(a) or 0) < (ts_of(leak) or 0):
            c.fail("the action came before the leak event")
    incidents = os.path.join(daemon.env["STATE_DIRECTORY"], "incidents")
    if os.path.dirname(inc) != incidents:
        c.fail(f"incident {inc} is not under {incidents}")
    if not re.search(rf"/\d{{8}}T\d{{6}}Z-capture-{prog.pid}$", inc):
        c.fail(f"incident dir name {os.path.basename(inc)!r}, not TIME-capture-{prog.pid}")
    if not os.path.isdir(inc):
        c.fail(f"incident dir {inc} does not exist")
        return c
    names = sorted(os.listdir(inc))
    want = ["cmdline", "fds", "history.json", "incident.json", "plot.svg", "smaps_rollup", "status", "threads"]
    missing = [n for n in want if n not in names]
    if missing:
        c.fail(f"missing {', '.join(missing)} (has {', '.join(names)})")
    # fds: "open fds: N (file a, socket b, ...)", blank, "COUNT  KIND  TARGET", rows
    fds = (read_text(os.path.join(inc, "fds")) or "").split("\n")
    m = re.fullmatch(r"open fds: (\d+) \((.*)\)", fds[0])
    kinds = {k: int(n) for k, n in re.findall(r"(\w+) (\d+)", m.group(2))} if m else {}
    if not m or not kinds:
        c.fail(f"fds first line {fds[0]!r}")
    hdr = next((i for i, ln in enumerate(fds) if ln.split() == ["COUNT", "KIND", "TARGET"]), None)
    rows = []
    if hdr is None:
        c.fail("fds: no COUNT KIND TARGET header")
    else:
        for ln in fds[hdr + 1:]:
            parts = ln.split(None, 2)
            if len(parts) == 3 and parts[0].isdigit():
                rows.append((int(parts[0]), parts[1], parts[2]))
    if not rows:
        c.fail("fds: no table rows")
    else:
        n, kind, target = rows[0]
        if target != leaked_path or kind != "file":
            c.fail(f"fds: first row {rows[0]}, not the leaked {leaked_path}")
        if n != max(r[0] for r in rows) or n < 10:
            c.fail(f"fds: first row count {n}, not the largest (or under 10)")
        if m and not any("more groups" in ln for ln in fds) and sum(r[0] for r in rows) != int(m.group(1)):
            c.fail(f"fds: rows add up to {sum(r[0] for r in rows)}, the first line says {m.group(1)}")
        if kinds.get("file", 0) < n:
            c.fail(f"fds: {kinds.get('file')} files in the first line, fewer than the {n} leaked")
        c.note(f"fds top row: {n} x {os.path.basename(target)} of {m.group(1) if m else '?'} open")
    status = read_text(os.path.join(inc, "status"), "")
    if not re.search(rf"^Pid:\s+{prog.pid}$", status, re.M):
        c.fail("status: not the process's /proc status")
    if "leak_files.py" not in read_text(os.path.join(inc, "cmdline"), ""):
        c.fail(f"cmdline {read_text(os.path.join(inc, 'cmdline'), '')[:100]!r} does not name leak_files.py")
    if not re.match(r"threads: \d+\n", read_text(os.path.join(inc, "threads"), "")):
        c.fail(f"threads: {read_text(os.path.join(inc, 'threads'), '')[:60]!r}")
    if "Rss:" not in read_text(os.path.join(inc, "smaps_rollup"), ""):
        c.fail("smaps_rollup has no Rss:")
    try:
        with open(os.path.join(inc, "history.json")) as f:
            h = checked_json("history", f.read())     # the same object as history --json
        if h.get("pid") != prog.pid or not h.get("fds"):
            c.fail(f"history.json: pid {h.get('pid')!r}, {len(h.get('fds') or [])} fds buckets")
    except (OSError, ValueError, AttributeError) as e:
        c.fail(f"history.json: {e}")
    try:
        root = ET.parse(os.path.join(inc, "plot.svg")).getroot()
        fds_panel = svg_by_id(root, "panel-fds")
        if root.tag != SVG_NS + "svg" or fds_panel is None or not svg_with_class(fds_panel, "verdict leak"):
            c.fail("plot.svg: no fds panel with a leak period")
    except (OSError, ET.ParseError) as e:
        c.fail(f"plot.svg: {e}")
    try:
        with open(os.path.join(inc, "incident.json")) as f:
            ij = json.load(f)
        if ij.get("event") != "leak" or ij.get("metric") != "fds" or ij.get("pid") != prog.pid \
                or ij.get("watch") != "capture":
            c.fail(f"incident.json: {json.dumps(ij)[:200]}")
    except (OSError, ValueError, AttributeError) as e:
        c.fail(f"incident.json: {e}")
    # signalled: it exits 0 of SIGTERM (its handler), before kill_after
    if exited_at is None:
        c.fail("the leaker is still running after the action")
    else:
        rc = prog.proc.returncode
        after = exited_at - (ts_of(acts[0]) if acts else exited_at)
        if rc != 0:
            c.fail(f"the leaker exited with {rc}, not 0 (its SIGTERM handler)")
        if after > KILL_AFTER_S + 1:
            c.fail(f"the leaker exited {after:.1f}s after the action")
        c.note(f"leaker exited {max(after, 0):.1f}s after the action")
    return c


# ----------------------------------------------------------------------------
# phase 2 checks: plot

def svg_by_id(root, ident):
    return next((e for e in root.iter() if e.get("id") == ident), None)


def svg_with_class(root, cls):
    return [e for e in root.iter() if e.get("class") == cls]


def ask_socket(path, request, timeout=10):
    """One control request straight to the socket: the whole reply, text."""
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
        s.settimeout(timeout)
        s.connect(path)
        s.sendall(request.encode() + b"\n")
        data = b""
        while True:
            chunk = s.recv(65536)
            if not chunk:
                break
            data += chunk
    return data.decode("utf-8", errors="replace")


class PlotTaker(threading.Thread):
    """leakwatchctl plot of one process, taken twice while the test waits
    for the phase's leaks: once it is reported leaking with a crossing of
    its max predicted (with its CSV history and its terminal chart), once
    it is over its max."""

    def __init__(self, ctl, daemon, prog, work, deadline):
        super().__init__(daemon=True)
        self.ctl, self.d, self.prog, self.work, self.deadline = ctl, daemon, prog, work, deadline
        self.leak = self.limit = None      # (path, exit status, stderr, status JSON of rss)
        self.csv = self.text = None
        self.verdicts = []

    def rss_status(self):
        res = run([self.ctl, "status", "--json"], self.d.ctl_env())
        try:
            return next((e["rss"] for e in json.loads(res.stdout) if e.get("pid") == self.prog.pid), None)
        except (ValueError, KeyError, TypeError, AttributeError):
            return None

    def take(self, name, st):
        path = os.path.join(self.work, name)
        res = run([self.ctl, "plot", str(self.prog.pid), "-o", path], self.d.ctl_env())
        return (path, res.returncode, res.stderr, st)

    def run(self):
        while time.time() < self.deadline and not (self.leak and self.limit):
            st = self.rss_status()
            v = st.get("verdict") if isinstance(st, dict) else None
            if v and (not self.verdicts or self.verdicts[-1] != v):
                self.verdicts.append(v)
            if v == "leak" and not self.leak and (st.get("eta_seconds") or 0) > 0:
                self.leak = self.take("plot-leak.svg", st)
                self.csv = subprocess.run([self.ctl, "history", str(self.prog.pid), "--csv"], env=self.d.ctl_env(),
                                          stdin=subprocess.DEVNULL, capture_output=True, timeout=20)
                try:
                    self.text = ask_socket(self.d.socket, f"plot {self.prog.pid} text {PLOT_WIDTH}")
                except OSError as e:
                    self.text = f"ERR {e}"
            if v == "limit" and not self.limit:
                time.sleep(4 * INTERVAL_S)     # a bucket or two of it
                self.limit = self.take("plot-limit.svg", st)
            time.sleep(0.1)


def check_svg(c, what, taken, marks, absent=()):
    """The SVG at taken parses, is SVG 1.1 with the three panels and, in the
    rss panel, every id or class of marks ("#id" or ".class"), none of
    absent.  The root, or None."""
    path, rc, err, _ = taken
    if rc != 0:
        c.fail(f"{what}: leakwatchctl plot -o: exit {rc}: {err.strip()[:200]}")
        return None
    try:
        root = ET.parse(path).getroot()
    except (OSError, ET.ParseError) as e:
        c.fail(f"{what}: does not parse: {e}")
        return None
    if root.tag != SVG_NS + "svg" or root.get("version") != "1.1":
        c.fail(f"{what}: root {root.tag} version {root.get('version')!r}")
    panels = [svg_by_id(root, f"panel-{m}") for m in ("rss", "fds", "threads")]
    if any(p is None for p in panels):
        c.fail(f"{what}: panels {[p is not None for p in panels]}")
        return root
    for m in list(marks) + ["!" + a for a in absent]:
        neg, m = m.startswith("!"), m.lstrip("!")
        found = svg_by_id(panels[0], m[1:]) is not None if m[0] == "#" else bool(svg_with_class(panels[0], m[1:]))
        if found == neg:
            c.fail(f"{what}: {'an' if neg else 'no'} {m} in the rss panel")
    return root


def to_png(c, svg, png):
    """rsvg-convert svg into png: the PNG's size, or None (told)."""
    if not shutil.which("rsvg-convert"):
        c.note("rsvg-convert is not installed (librsvg2-bin): no PNG made")
        return None
    res = subprocess.run(["rsvg-convert", "-o", png, svg], capture_output=True, text=True, timeout=30)
    try:
        with open(png, "rb") as f:
            head, size = f.read(8), os.path.getsize(png)
    except OSError:
        head, size = b"", 0
    if res.returncode != 0 or head != b"\x89PNG\r\n\x1a\n" or size < 5000:
        c.fail(f"rsvg-convert {os.path.basename(svg)}: exit {res.returncode}, {size} bytes: {res.stderr.strip()[:200]}")
        return None
    return size


def check_plot_text(c, text):
    lines = text.split("\n") if text else []
    if not text or lines[0] != "OK":
        c.fail(f"plot PID text {PLOT_WIDTH}: {text[:100] if text else None!r}")
        return
    wide = [len(ln) for ln in lines if len(ln) > PLOT_WIDTH]
    braille = sum(1 for ch in text if 0x2801 <= ord(ch) <= 0x28ff)
    rows = [ln for ln in lines if ln.startswith("verdict ")]
    if wide or braille < 50 or len(rows) != 3 or "L" not in rows[0]:
        c.fail(f"plot text: {len(wide)} lines over {PLOT_WIDTH} columns, {braille} braille cells, "
               f"verdict rows {rows[:1]!r}")
    if any(ord(ch) < 32 and ch != "\n" for ch in text):
        c.fail("plot text: a control character")


def check_plot_csv(c, res):
    if res is None or res.returncode != 0:
        c.fail(f"history --csv: {res.returncode if res else 'not run'}: {res.stderr[:200] if res else ''}")
        return 0
    if res.stdout.count(b"\r\n") != res.stdout.count(b"\n") or not res.stdout.endswith(b"\r\n"):
        c.fail("history --csv: not every line ends with CRLF")
    rows = res.stdout.decode().split("\r\n")
    if rows[0] != "time,samples,rss_mean,rss_min,rss_max,fds,threads,leak,limit":
        c.fail(f"history --csv header {rows[0]!r}")
    body = [r.split(",") for r in rows[1:] if r]
    if len(body) < 10 or any(len(r) != 9 for r in body):
        c.fail(f"history --csv: {len(body)} rows, fields {sorted(set(len(r) for r in body))}")
        return len(body)
    if not all(RFC3339.match(r[0]) and r[1].isdigit() and int(r[2]) > 0 for r in body):
        c.fail(f"history --csv: a bad row among {body[:2]}")
    if "rss" not in body[-1][7].split():
        c.fail(f"history --csv: the newest bucket's leak field {body[-1][7]!r} does not say rss")
    return len(body)


def check_plot(taker, work):
    c = Check("plot")
    if taker.leak is None:
        c.fail(f"no leak verdict with a crossing ahead seen (verdicts {taker.verdicts})")
        return c
    eta = taker.leak[3].get("eta_seconds")
    # the crossing is drawn when it lies within the history's span ahead (the window, at least)
    marks = ["#trend-rss", "#limit-rss", "#predict-rss", ".verdict leak", ".mean", ".band"]
    root = check_svg(c, "at the leak", taker.leak, marks + (["#crossing-rss"] if eta <= WINDOW_S else []),
                     absent=[".verdict limit"])
    if root is not None:
        title = " ".join("".join(e.itertext()) for e in svg_with_class(root, "proctitle"))
        if "<b>&" not in title:
            c.fail(f"the title {title!r} has lost the markup of the command line")
        with open(taker.leak[0], "rb") as f:
            raw = f.read()
        if b"<b>" in raw or b"&lt;b&gt;&amp;" not in raw:
            c.fail("the title's markup is not escaped in the file")
        c.note(f"at the leak: eta {eta}s, {len(raw)} bytes")
    if taker.limit is None:
        c.fail(f"no limit verdict seen (verdicts {taker.verdicts})")
    else:
        check_svg(c, "over the limit", taker.limit, ["#limit-rss", ".verdict leak", ".verdict limit"],
                  absent=["#crossing-rss"])
    check_plot_text(c, taker.text)
    rows = check_plot_csv(c, taker.csv)
    for taken in (taker.leak, taker.limit):
        if taken and os.path.exists(taken[0]):
            size = to_png(c, taken[0], taken[0][:-4] + ".png")
            if size:
                c.note(f"{os.path.basename(taken[0])[:-4]}.png {size} bytes")
    c.note(f"verdicts {' -> '.join(taker.verdicts)}; csv {rows} rows")
    return c


# ----------------------------------------------------------------------------
# phase 2 checks

def leak_after(daemon, prog, run=-1):
    """Seconds from the program's start to its rss leak event, or None."""
    e = of(daemon.events(run), "leak", None, prog.pid)
    return (ts_of(e[0]) - prog.started) if e and ts_of(e[0]) else None


def found_to_leak(events_found, events_leak, pid):
    """Seconds from a pid's first found event to its leak event, or None."""
    f, l = of(events_found, "found", None, pid), of(events_leak, "leak", None, pid)
    return ts_of(l[0]) - ts_of(f[0]) if f and l and ts_of(f[0]) and ts_of(l[0]) else None


def check_restart(d, prog, baseline, kill_t, restart_t, bound, base_found):
    c = Check("restart")
    if baseline is None:
        c.fail(f"no baseline leak in phase 1 (killed at {kill_t - prog.started:.1f}s, from the expected "
               f"{EXPECTED_BASELINE_S:.1f}s)")
    if len(d.runs) < 2:
        c.fail("the daemon was not restarted")
        return c
    first, second = d.events(0), d.events(1)
    if not of(first, "found", None, prog.pid):
        c.fail("the first daemon never found the leaker before the kill")
    if of(first, "leak", None, prog.pid):
        c.fail(f"the first daemon reported the leak already, at {leak_after(d, prog, 0):.1f}s: "
               f"the kill came too late to test anything")
    found = of(second, "found", None, prog.pid)
    if not found:
        c.fail("the restarted daemon did not find the leaker")
    elif not re.search(r"with \S.* of history kept from before leakwatchd restarted", found[0].get("message", "")):
        c.fail(f"found message {found[0].get('message')!r} does not say history was kept")
    for e in of(second, "error"):
        c.fail(f"error after the restart: {e.get('message')!r}")
    t = leak_after(d, prog, 1)
    leak = of(second, "leak", None, prog.pid)
    if t is None:
        c.fail(f"no leak within {LEAK_WAIT_S}s of the program's start after the restart")
    else:
        if leak[0].get("metric") != "rss":
            c.fail(f"leak metric {leak[0].get('metric')!r}")
        if t > bound:
            c.fail(f"leak {t:.1f}s after the start, later than {bound:.1f}s "
                   f"(baseline + {INTERVAL_S}s interval + {START_TOL_S}s discovery)")
    c.note(f"baseline {baseline if baseline is not None else float('nan'):.1f}s, killed at "
           f"{kill_t - prog.started:.1f}s, up again {restart_t - kill_t:.2f}s later, leak at "
           f"{t if t is not None else float('nan'):.1f}s (bound {bound:.1f}s; afresh it would be ~"
           f"{(restart_t - prog.started) + (baseline or EXPECTED_BASELINE_S):.1f}s)")
    ff = found_to_leak(first, second, prog.pid)
    if ff is not None and base_found is not None:
        c.note(f"found-to-leak {ff:.2f}s vs {base_found:.2f}s without restart")
    return c


def check_bad_state(name, d, prog, bound, kind, still_running):
    c = Check(name)
    evs = d.events()
    errs = [e for e in of(evs, "error") if d.state_file in (e.get("message") or "")]
    if not errs:
        c.fail(f"no error event naming {d.state_file}: {[e.get('message') for e in of(evs, 'error')]}")
    elif "unusable" not in errs[0]["message"]:
        c.fail(f"error {errs[0]['message']!r} does not say the history is unusable")
    if not still_running:
        c.fail(f"the daemon stopped: exit {d.proc.returncode}")
    t = leak_after(d, prog)
    if t is None:
        c.fail(f"the fresh leak was not reported within {LEAK_WAIT_S}s")
    elif t > bound:
        c.fail(f"the fresh leak came {t:.1f}s after the start, later than {bound:.1f}s")
    try:
        with open(d.state_file, "rb") as f:
            head = f.read(len(STATE_MAGIC))
        if head != STATE_MAGIC:
            c.fail(f"{d.state_file} was not replaced by a valid one (starts {head!r})")
    except OSError as e:
        c.fail(f"{d.state_file}: {e}")
    why = re.search(r"unusable \((.*?)\)", errs[0]["message"]) if errs else None
    c.note(f"{kind}: {why.group(1) if why else '?'}; leak at {t if t is not None else float('nan'):.1f}s")
    return c


def check_daemons(daemons):
    c = Check("daemon-exits")
    for d in daemons:
        if d.rc != 0:
            c.fail(f"{d.name}: exit status {d.rc!r} after SIGTERM, not 0")
    if c.ok:
        c.note(f"{len(daemons)} daemons exited 0 on SIGTERM")
    return c


# ----------------------------------------------------------------------------

def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--daemon", required=True, help="path to leakwatchd")
    ap.add_argument("--ctl", required=True, help="path to leakwatchctl")
    ap.add_argument("--keep", nargs="?", const="", default=None,
                    help="keep the work dir (or use and keep DIR)")
    ap.add_argument("-v", "--verbose", action="store_true", help="say what happens as it happens")
    a = ap.parse_args()
    t_begin = time.time()

    daemon_path, ctl = os.path.abspath(a.daemon), os.path.abspath(a.ctl)
    for p in (daemon_path, ctl):
        if not os.access(p, os.X_OK):
            print(f"operator_test: {p} is not an executable", file=sys.stderr)
            return 2
    for tool in ("promtool", "curl", "setpriv"):
        if not shutil.which(tool):
            print(f"operator_test: {tool} is missing", file=sys.stderr)
            return 2
    work = a.keep or tempfile.mkdtemp(prefix="leakwatch-operator-")
    os.makedirs(work, exist_ok=True)
    work = os.path.realpath(work)
    os.chmod(work, 0o755)     # user nobody must reach the runtime dir (ctl-denied)
    token = f"lwop{os.getpid()}x{int(time.time()) % 100000}"

    def say(msg):
        if a.verbose:
            print(f"  [{time.time() - t_begin:5.1f}s] {msg}", flush=True)

    def marker(name):
        return f"{token}-{name}"

    progs, daemons, checks = [], [], []

    def prog(name, script, args):
        p = Prog(name, [PYTHON, "-B", os.path.join(PROGRAMS, script)] + args +
                 ["--tag", marker(name), "--seconds", "120"], work)
        progs.append(p)
        return p.start()

    interrupt_on_term()
    interrupted = False
    try:
        # ------------------------------------------------------------ phase 1
        port = free_port()
        textfile = os.path.join(work, "leakwatch.prom")
        leaked_path = os.path.join(work, "leaked.cfg")
        main_cfg = write_config(os.path.join(work, "main.yaml"), [
            watch_lines("idle", marker("idle")),
            watch_lines("baseline", marker("baseline")),
            watch_lines("capture", marker("capture"), {"fds": RULES["fds"]},
                        ["on_leak: signal", "signal: TERM", f"kill_after: {KILL_AFTER_S}s", "capture: true"]),
        ], metrics={"textfile": textfile, "listen": f"127.0.0.1:{port}"})
        d1 = Daemon("main", daemon_path, main_cfg, work).start()
        daemons.append(d1)
        if not d1.wait_started(socket=True):
            return start_failed("operator_test", "leakwatchd (main)", d1.proc.poll(), d1.err)
        print(f"operator_test: phase 1 (ctl, metrics, capture, baseline leak); work dir {work}", flush=True)

        idle = []
        for i, (nf, nt, mib) in enumerate(IDLE):
            ready = os.path.join(work, f"idle{i}.ready")
            idle.append((prog(f"idle{i}", "idle_holder.py",
                              ["--fds", str(nf), "--threads", str(nt), "--mib", str(mib), "--ready", ready]),
                         ready))
        base = prog("baseline", "leak_memory.py", ["--rate", str(LEAK_RATE_KIB)])
        cap = prog("capture", "leak_files.py", ["--path", leaked_path, "--per-sec", str(FD_LEAK_PER_SEC)])

        # no daemon needed for these
        checks.append(check_no_daemon(ctl, work))
        checks.append(check_config_cmd(ctl, work))

        # the idle programs set up, then seen by the daemon, then sampled after their set-up
        def read_ready(path):
            try:
                with open(path) as f:
                    return json.load(f)
            except (OSError, ValueError):
                return None
        readies = wait_for(lambda: all(read_ready(r) for _, r in idle) and [read_ready(r) for _, r in idle], 10)
        idle = [(p, r) for p, r in zip([p for p, _ in idle], readies or [{}] * len(idle))]
        want_pids = {p.pid for p, _ in idle} | {base.pid, cap.pid}

        def all_seen():
            r = run([ctl, "status", "--json"], d1.ctl_env())
            try:
                return want_pids <= {e.get("pid") for e in checked_json("status", r.stdout)}
            except (ValueError, AttributeError, TypeError):
                return False
        seen = wait_for(all_seen, 10, 0.2)
        say(f"idle programs ready: {bool(readies)}, all seen: {bool(seen)}")
        time.sleep(3 * INTERVAL_S)       # three samples after the set-up (the ready files came first)
        checks.append(check_status_json(ctl, d1, idle, {base.pid: "baseline", cap.pid: "capture"}))
        checks.append(check_status_table(ctl, d1, want_pids))
        checks.append(check_history(ctl, d1, idle[0][0]))
        checks.append(check_denied(ctl, d1, work))
        c_http, families = check_metrics_http(port, idle, work)
        checks.append(c_http)

        reader = None
        if families and wait_for(lambda: os.path.exists(textfile), 3):
            reader = TextfileReader(textfile, families, TEXTFILE_READ_S)
            reader.start()
            say("textfile reader started")

        # the baseline leak, the capture's action, the leaker's exit
        deadline = max(base.started, cap.started) + LEAK_WAIT_S
        cap_exit = None
        while time.time() < deadline and d1.proc.poll() is None:
            evs = d1.events()
            if cap_exit is None and cap.proc.poll() is not None:
                cap_exit = time.time()
            acted = of(evs, "action", "capture", cap.pid)
            if of(evs, "leak", "baseline", base.pid) and acted and \
                    (cap_exit is not None or time.time() > (ts_of(acted[0]) or 0) + KILL_AFTER_S + 2) and \
                    (reader is None or not reader.is_alive()):
                break
            time.sleep(0.1)
        if reader is not None:
            reader.stop_flag.set()
            reader.join(5)
        checks.append(check_textfile(reader, work))
        checks.append(check_capture(d1, cap, leaked_path, cap_exit))
        names = ["idle", "baseline", "capture"]
        checks.append(operator_daytwo.check_watch_lines(ctl, d1, names))
        checks.append(operator_daytwo.check_status_filters(ctl, d1, [p.pid for p, _ in idle], base.pid, names))
        checks.append(operator_daytwo.check_shared_socket(ctl, d1, work, idle[1][0].pid))
        checks.append(operator_daytwo.check_forget(ctl, d1, idle[0][0].pid))
        checks.append(operator_daytwo.check_reload(ctl, d1, main_cfg, names))
        baseline = leak_after(d1, base)
        base_found = found_to_leak(d1.events(), d1.events(), base.pid)
        say(f"baseline leak after {baseline}s")

        # a valid state file, for the truncated and corrupt cases (saved every window/48)
        valid = b""
        try:
            with open(d1.state_file, "rb") as f:
                valid = f.read()
        except OSError:
            pass
        stop_groups([p.proc for p in progs])
        d1.stop()
        c = Check("textfile-removed")
        if os.path.exists(textfile):
            c.fail(f"{textfile} still there after SIGTERM: node_exporter would export stale values")
        else:
            c.note("leakwatchd removed it when it stopped")
        checks.append(c)

        # ------------------------------------------------------------ phase 2
        print("operator_test: phase 2 (restart, unusable state files)", flush=True)
        drst = Daemon("restart", daemon_path,
                      write_config(os.path.join(work, "restart.yaml"), [watch_lines("leaker", marker("restart"))]),
                      work)
        dplot = Daemon("plot", daemon_path, write_config(os.path.join(work, "plot.yaml"), [
            watch_lines("plot", marker("plot"), {}, [f"rss: {{ growth: 100M/h, max: {PLOT_MAX} }}"])]), work)
        bad = {}
        for name, kind in (("garbage", "random bytes"), ("truncated", "first half of a valid file"),
                           ("corrupt", "one payload byte flipped")):
            d = Daemon(name, daemon_path,
                       write_config(os.path.join(work, name + ".yaml"), [watch_lines("fresh", marker(name))]),
                       work)
            if name == "garbage":
                data = os.urandom(4096)
            elif name == "truncated":
                data = valid[:len(valid) // 2]
            else:
                data = bytearray(valid)
                if data:
                    data[-20] ^= 0x10
                data = bytes(data)
            with open(d.state_file, "wb") as f:
                f.write(data)
            bad[name] = (d, kind)
        if not valid.startswith(STATE_MAGIC) or len(valid) < 200:
            c = Check("state-file")
            c.fail(f"phase 1 left no valid history.state to truncate ({len(valid)} bytes, starts {valid[:8]!r})")
            checks.append(c)
        for d in [drst, dplot] + [d for d, _ in bad.values()]:
            daemons.append(d.start())
        for d in [drst, dplot] + [d for d, _ in bad.values()]:
            if not d.wait_started(socket=True):
                return start_failed("operator_test", f"leakwatchd ({d.name})", d.proc.poll(), d.err)
        leakers = {"restart": prog("restart", "leak_memory.py", ["--rate", str(LEAK_RATE_KIB)])}
        for name in bad:
            leakers[name] = prog(name, "leak_memory.py", ["--rate", str(LEAK_RATE_KIB)])
        rp = leakers["restart"]
        pp = Prog("plot", [PYTHON, "-B", os.path.join(PROGRAMS, "leak_memory.py"), "--rate", str(PLOT_RATE_KIB),
                           "--tag", marker("plot") + PLOT_TAG, "--seconds", "120"], work)
        progs.append(pp)
        pp.start()
        taker = PlotTaker(ctl, dplot, pp, work, pp.started + LEAK_WAIT_S + 10)
        taker.start()

        # SIGKILL at half the baseline, start again at once
        kill_t = rp.started + (baseline if baseline is not None else EXPECTED_BASELINE_S) / 2
        wait_for(lambda: of(drst.events(), "found", None, rp.pid), max(0.1, kill_t - time.time()))
        time.sleep(max(0.0, kill_t - time.time()))
        kill_t = time.time()
        drst.proc.kill()
        drst.proc.wait()
        drst.start()
        if not drst.wait_started(socket=True):
            return start_failed("operator_test", "leakwatchd (restart, second run)", drst.proc.poll(), drst.err)
        restart_t = ts_of(of(drst.events(), "start")[0]) or time.time()
        say(f"restart daemon killed at {kill_t - rp.started:.1f}s and up again {restart_t - kill_t:.3f}s later")

        bound = (baseline if baseline is not None else EXPECTED_BASELINE_S) + INTERVAL_S + START_TOL_S
        deadline = rp.started + LEAK_WAIT_S

        def all_leaked():
            return all(of(d.events(), "leak", None, leakers[n].pid) for n, d in
                       [("restart", drst)] + [(n, d) for n, (d, _) in bad.items()])
        wait_for(all_leaked, max(0.1, deadline - time.time()), 0.2)
        running = {n: d.proc.poll() is None for n, (d, _) in bad.items()}
        say("phase 2 leaks: " + ", ".join(f"{n} {leak_after(d, leakers[n])}" for n, (d, _) in bad.items()))
        checks.append(check_restart(drst, rp, baseline, kill_t, restart_t, bound, base_found))
        taker.join(max(0.1, taker.deadline - time.time()))
        checks.append(check_plot(taker, work))
        for name, (d, kind) in bad.items():
            checks.append(check_bad_state(f"state-{name}", d, leakers[name], bound, kind, running[name]))
        stop_groups([p.proc for p in progs])
        for d in daemons[1:]:
            d.stop()
        checks.append(check_daemons(daemons))
    except KeyboardInterrupt:
        interrupted = True
        print("operator_test: interrupted", file=sys.stderr)
        return 130
    finally:
        stop_groups([p.proc for p in progs if p.proc is not None])
        for d in daemons:
            d.kill()
        left = [pid for pid, cl in cmdlines().items() if token in cl and pid != os.getpid()]
        for pid in left:
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                pass
        if interrupted and a.keep is None:
            shutil.rmtree(work, ignore_errors=True)

    events = [e for d in daemons for e in d.all_events()]
    print(f"operator_test: ran for {time.time() - t_begin:.1f}s", flush=True)
    return finish("operator_test", checks, 18, work, a.keep is not None,
                  "configs, events, daemon stderr, state dirs and incidents", events,
                  ("leak", "limit", "action", "error"))


if __name__ == "__main__":
    sys.exit(main())
