#!/usr/bin/python3
"""bench/cpu_matrix.py -- CPU per process-sample matrix (issue 5).

    /usr/bin/python3 bench/cpu_matrix.py [--daemon build/leakwatchd]
        [--sizes 10,100,1000,5000] [--fds 10,1000] [--runs 3]
        [--seconds 20] [--interval-ms 1000] [--tools ...] [--scan-floor]

For every combination of N watched processes and F extra fds per process,
N holders (bench/holder.c, F fds on /dev/null each, so F+3 open) and N/10
idle decoys (the same binary under another name and marker, which nothing
matches) are started once.  Then, RUNS times, each tool samples the same
holders for SECONDS at INTERVAL_MS, one tool after another (the order
rotates from run to run):

  leakwatchd  the daemon: one watch `match: {cmdline: MARKER}`, window 30m,
              rss/fds/threads rules with max/growth/predict, JSON log
  floor       bench/floor.c: pread stat + statm, fstatat(fd) per process
  floor+scan  (--scan-floor) floor plus a getdents pass over /proc per round
  psutil      bench/psutil_poll.py under /usr/bin/python3
  monit       /usr/bin/monit -I, one `check process` per holder (pidfile),
              `if totalmem > 1 GB` and `if filedescriptors > 100000`
  exporter    /usr/bin/prometheus-process-exporter, one group matching the
              marker on the cmdline, scraped by this script every interval

CPU of a tool is its user+system time: for the daemons (leakwatchd, monit,
exporter) read from /proc/PID just before stopping them (sum of the threads'
schedstat run time, ns resolution; the tick count of /proc/PID/stat, which
includes exited threads, if that is larger); for floor and psutil, their
own getrusage over the whole run.  Start-up is included in every figure.
process-samples = N x rounds: the pollers count their rounds, the exporter
the scrapes this script made, monit the check cycles seen (bursts of CPU
separated by its sleep); leakwatchd N x SECONDS / INTERVAL (its tick timer
is fixed-rate; its own "stopped after K process-samples" is cross-checked).

"steady" columns leave start-up out: CPU from a reading after the first
WARM+1 rounds (default 3) to the end, over the samples in between.  For
leakwatchd and the pollers that reading is taken half an interval after
round WARM, assuming start-up took less than half an interval.

Every figure is printed next to the floor of the same run; ratios are per
run, and the tables show medians over runs.  Results: bench/results/cpu.csv
(one row per tool x N x fds x run, plus rows with run=median).
Everything started here is killed on exit, ^C included.
"""
import argparse
import atexit
import csv
import json
import os
import re
import resource
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import time
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CLK_TCK = os.sysconf("SC_CLK_TCK")
PY = "/usr/bin/python3"
MONIT = "/usr/bin/monit"
EXPORTER = "/usr/bin/prometheus-process-exporter"
ALL_TOOLS = ["leakwatchd", "floor", "floor+scan", "psutil", "monit", "exporter"]
DEFAULT_TOOLS = ["leakwatchd", "floor", "psutil", "monit", "exporter"]

# ---------------------------------------------------------------------------
# process bookkeeping: everything we start is listed here and killed on exit

_tools = {}      # pid -> Popen (own process group)
_holders = []    # Popen
_pdeath = []


def say(*a):
    print(*a, flush=True)


def _kill_tool(p, sig=signal.SIGTERM):
    try:
        os.killpg(p.pid, sig)
    except (ProcessLookupError, PermissionError):
        pass


def cleanup():
    for p in list(_tools.values()):
        if p.returncode is None:
            _kill_tool(p)
    for p in _holders:
        if p.returncode is None:
            try:
                p.send_signal(signal.SIGTERM)
            except ProcessLookupError:
                pass
    deadline = time.monotonic() + 5
    for p in list(_tools.values()) + _holders:
        if p.returncode is None:
            try:
                p.wait(max(0.05, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                if p in _holders:
                    p.kill()
                else:
                    _kill_tool(p, signal.SIGKILL)
                try:
                    p.wait(2)
                except subprocess.TimeoutExpired:
                    pass
    _tools.clear()
    del _holders[:]


def _on_signal(sig, frame):
    raise SystemExit(128 + sig)


def spawn_tool(argv, stdout, stderr, env=None):
    """A tool in its own process group, with a parent-death signal."""
    p = subprocess.Popen(_pdeath + argv, stdin=subprocess.DEVNULL, stdout=stdout, stderr=stderr,
                         env=env, start_new_session=True, cwd=ROOT)
    _tools[p.pid] = p
    return p


def stop_tool(p, timeout=15.0):
    """SIGTERM, wait; returns (exit status, CPU s from wait4 rusage, seconds to stop)."""
    t0 = time.monotonic()
    _kill_tool(p)
    ru = None
    status = None
    while True:
        pid, st, r = os.wait4(p.pid, os.WNOHANG)
        if pid == p.pid:
            status, ru = st, r
            break
        if time.monotonic() - t0 > timeout:
            _kill_tool(p, signal.SIGKILL)
            _, status, ru = os.wait4(p.pid, 0)
            break
        time.sleep(0.02)
    p.returncode = os.waitstatus_to_exitcode(status)
    _tools.pop(p.pid, None)
    # the rest of the group (there should be none)
    _kill_tool(p, signal.SIGKILL)
    return p.returncode, ru.ru_utime + ru.ru_stime, time.monotonic() - t0


def wait_tool(p, timeout):
    """Wait for a tool that ends by itself."""
    try:
        rc = p.wait(timeout)
    except subprocess.TimeoutExpired:
        _kill_tool(p, signal.SIGKILL)
        p.wait()
        rc = None
    _tools.pop(p.pid, None)
    return rc


# ---------------------------------------------------------------------------
# /proc readings

def proc_cpu(pid):
    """(cpu_s, source): max of the threads' schedstat sum (ns) and stat ticks."""
    ns = 0
    try:
        for t in os.listdir("/proc/%d/task" % pid):
            try:
                with open("/proc/%d/task/%s/schedstat" % (pid, t)) as f:
                    ns += int(f.read().split()[0])
            except (OSError, ValueError, IndexError):
                pass
        with open("/proc/%d/stat" % pid) as f:
            fields = f.read().rsplit(")", 1)[1].split()
        ticks = int(fields[11]) + int(fields[12])
    except (OSError, ValueError, IndexError):
        return None, "gone"
    a, b = ns / 1e9, ticks / CLK_TCK
    return (a, "schedstat") if a >= b else (b, "stat-ticks")


def proc_status(pid, key):
    try:
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                if line.startswith(key + ":"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return "?"


def count_fds(pid):
    try:
        n = os.stat("/proc/%d/fd" % pid).st_size
        return n if n > 0 else len(os.listdir("/proc/%d/fd" % pid))
    except OSError:
        return -1


def read_int(path, default=-1):
    try:
        with open(path) as f:
            return int(f.read().split()[0])
    except (OSError, ValueError, IndexError):
        return default


def forks():
    """Processes created since boot (the `processes` line of /proc/stat)."""
    with open("/proc/stat") as f:
        for line in f:
            if line.startswith("processes "):
                return int(line.split()[1])
    return 0


def n_procs():
    return sum(1 for d in os.listdir("/proc") if d.isdigit())


def sleep_until(t):
    while True:
        d = t - time.monotonic()
        if d <= 0:
            return
        time.sleep(min(d, 0.5))


def load_avg():
    with open("/proc/loadavg") as f:
        return " ".join(f.read().split()[:3])


# ---------------------------------------------------------------------------
# building

def build(cc, outdir):
    os.makedirs(outdir, exist_ok=True)
    flags = ["-O2", "-g", "-std=gnu11", "-Wall", "-Wextra", "-D_GNU_SOURCE"]
    holder = os.path.join(outdir, "lw-mx-holder")
    floor = os.path.join(outdir, "floor")
    for src, out in (("bench/holder.c", holder), ("bench/floor.c", floor)):
        r = subprocess.run([cc] + flags + ["-o", out, src], cwd=ROOT)
        if r.returncode != 0:
            sys.exit("cpu_matrix: cannot build %s" % src)
    decoy = os.path.join(outdir, "lw-mx-decoy")
    if os.path.lexists(decoy):
        os.unlink(decoy)
    os.symlink("lw-mx-holder", decoy)
    return holder, decoy, floor


# ---------------------------------------------------------------------------
# holders

def feasible(n, nfds, n_decoys, decoy_fds, tools):
    """None, or why N x fds cannot run here."""
    file_max = read_int("/proc/sys/fs/file-max")
    nr_open = read_int("/proc/sys/fs/nr_open")
    try:
        with open("/proc/sys/fs/file-nr") as f:
            in_use = int(f.read().split()[0])
    except (OSError, ValueError):
        in_use = 0
    hard = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
    # file-max counts open files, not descriptors: a holder dup()s one open
    # of /dev/null, so it takes 4 (stdin, stdout, stderr, /dev/null)
    need_files = n * 4 + n_decoys * 4
    if nfds + 3 > nr_open or (hard != resource.RLIM_INFINITY and nfds + 3 > hard):
        return "each holder needs %d fds: above nr_open=%d or RLIMIT_NOFILE hard=%s" % (
            nfds + 3, nr_open, hard)
    # leave a tenth of file-max (and 50000) to everyone else on the machine
    room = file_max - in_use - max(file_max // 10, 50000)
    if need_files > room:
        return ("%d holders and decoys need %d open files; fs.file-max=%d, %d in use, "
                "room %d after a 10%% reserve" % (n + n_decoys, need_files, file_max, in_use, room))
    pid_max = read_int("/proc/sys/kernel/pid_max")
    nprocs = len([d for d in os.listdir("/proc") if d.isdigit()])
    if n + n_decoys + nprocs + 1000 > pid_max:
        return "%d holders + %d decoys + %d processes > pid_max %d" % (n, n_decoys, nprocs, pid_max)
    if ("leakwatchd" in tools or "floor" in tools) and hard != resource.RLIM_INFINITY \
            and 3 * n + 200 > hard:
        return "leakwatchd and the floor keep 3 fds per process: %d > RLIMIT_NOFILE hard %d" % (
            3 * n + 200, hard)
    return None


def start_holders(path, argv0, n, nfds, max_s, marker, errf):
    ps = []
    for _ in range(n):
        p = subprocess.Popen([argv0, str(nfds), str(max_s), marker], executable=path,
                             stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=errf,
                             cwd=ROOT)
        _holders.append(p)
        ps.append(p)
    return ps


def wait_holders(ps, nfds, timeout=120):
    deadline = time.monotonic() + timeout
    for p in ps:
        while True:
            if p.poll() is not None:
                sys.exit("cpu_matrix: holder %d exited (status %s)" % (p.pid, p.returncode))
            if count_fds(p.pid) >= nfds + 3:
                break
            if time.monotonic() > deadline:
                sys.exit("cpu_matrix: holder %d has %d fds after %d s" % (p.pid, count_fds(p.pid), timeout))
            time.sleep(0.01)


def stop_holders(ps):
    for p in ps:
        if p.returncode is None:
            try:
                p.send_signal(signal.SIGTERM)
            except ProcessLookupError:
                pass
    for p in ps:
        try:
            p.wait(10)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()
    alive = set(ps)
    _holders[:] = [p for p in _holders if p not in alive]


# ---------------------------------------------------------------------------
# one tool, one run

def result(tool, cpu, src, rounds, n, warm_cpu=None, warm_rounds=None, wall=None,
           exit_cpu=None, notes=""):
    samples = n * rounds
    r = {"tool": tool, "cpu_s": cpu, "cpu_source": src, "rounds": rounds,
         "process_samples": samples,
         "us_per_sample": cpu * 1e6 / samples if samples else float("nan"),
         "steady_cpu_s": None, "steady_samples": None, "steady_us_per_sample": None,
         "wall_s": wall, "exit_cpu_s": exit_cpu, "notes": notes}
    if warm_cpu is not None and warm_rounds is not None and rounds > warm_rounds:
        r["steady_cpu_s"] = cpu - warm_cpu
        r["steady_samples"] = n * (rounds - warm_rounds)
        r["steady_us_per_sample"] = r["steady_cpu_s"] * 1e6 / r["steady_samples"]
    return r


def parse_result_line(path):
    with open(path) as f:
        for line in f:
            if line.startswith("RESULT "):
                return dict(kv.split("=", 1) for kv in line.split()[1:] if "=" in kv)
    return None


class Ctx:
    pass


def run_poller(c, tool, argv):
    """floor, floor+scan, psutil: they pace themselves and report getrusage."""
    out = os.path.join(c.work, "%s.out" % tool.replace("+", "_"))
    err = out + ".err"
    I = c.interval_ms / 1000.0
    with open(out, "w") as fo, open(err, "w") as fe:
        t0 = time.monotonic()
        p = spawn_tool(argv + [str(c.interval_ms), str(c.seconds)] + [str(x) for x in c.pids], fo, fe)
        sleep_until(t0 + (c.warm + 0.5) * I)
        warm_cpu, _ = proc_cpu(p.pid)
        rc = wait_tool(p, c.seconds * 20 + 120)
        wall = time.monotonic() - t0
    res = parse_result_line(out)
    notes = []
    if rc != 0 or res is None:
        with open(err) as f:
            e = f.read().strip()
        raise RuntimeError("%s failed (status %s): %s" % (tool, rc, e[:400]))
    if int(res.get("failures", 0)):
        notes.append("failures=%s" % res["failures"])
    if int(res.get("late_rounds", 0)):
        notes.append("late_rounds=%s" % res["late_rounds"])
    mf = int(res.get("min_fds", -1))
    if mf < c.nfds + 3:
        notes.append("ODD min_fds=%d" % mf)
    rounds = int(res["rounds"])
    if int(res.get("late_rounds", 0)):
        # rounds overran the interval: the warm reading is not after round WARM
        notes.append("(no steady figure: rounds overran)")
        warm_cpu = None
    return result(tool, float(res["cpu_s"]), "getrusage", rounds, c.n,
                  warm_cpu, c.warm + 1, wall, None, " ".join(notes))


def write_lw_config(path, interval_ms, state_dir, marker):
    with open(path, "w") as f:
        f.write("""# generated by bench/cpu_matrix.py: one watch over the holders
interval: %dms
state_dir: %s
watches:
  - name: bench-holders
    match:
      cmdline: "%s"
    window: 30m
    rss:     { max: 1G,    growth: 100M/h, predict: 6h }
    fds:     { max: 10000, growth: 1000/h, predict: 6h }
    threads: { max: 1000,  growth: 100/h,  predict: 6h }
""" % (interval_ms, state_dir, marker))


def run_leakwatchd(c):
    d = os.path.join(c.work, "leakwatchd")
    shutil.rmtree(d, ignore_errors=True)
    for sub in ("state", "run"):
        os.makedirs(os.path.join(d, sub))
    cfg = os.path.join(d, "leakwatch.yaml")
    write_lw_config(cfg, c.interval_ms, os.path.join(d, "state"), c.marker)
    env = dict(os.environ, RUNTIME_DIRECTORY=os.path.join(d, "run"),
               STATE_DIRECTORY=os.path.join(d, "state"))
    I = c.interval_ms / 1000.0
    rounds = c.seconds * 1000 // c.interval_ms
    jpath, epath = os.path.join(d, "daemon.json"), os.path.join(d, "daemon.err")
    with open(jpath, "w") as fo, open(epath, "w") as fe:
        t0 = time.monotonic()
        p = spawn_tool([c.daemon, "-c", cfg, "--log-target=json"], fo, fe, env=env)
        sleep_until(t0 + (c.warm + 0.5) * I)
        warm_cpu, _ = proc_cpu(p.pid)
        # the end reading half an interval after the last tick of SECONDS
        sleep_until(t0 + (rounds - 0.5) * I)
        cpu, src = proc_cpu(p.pid)
        wall = time.monotonic() - t0
        if cpu is None or p.poll() is not None:
            with open(epath) as f:
                raise RuntimeError("leakwatchd exited early: %s" % f.read()[:400])
        info = "threads=%s VmHWM=%s fds=%d" % (proc_status(p.pid, "Threads"),
                                               proc_status(p.pid, "VmHWM").replace(" ", ""),
                                               count_fds(p.pid))
        rc, exit_cpu, stop_s = stop_tool(p)
    notes = [info]
    if rc != 0:
        notes.append("ODD exit status %s" % rc)
    if stop_s > 2:
        notes.append("slow stop %.1fs" % stop_s)
    # what it found, and its own sample count
    targets, decoys = set(c.pids), set(c.decoy_pids)
    found, events, other, odd = set(), {}, 0, []
    counted = None
    for path in (jpath, epath):
        with open(path, errors="replace") as f:
            for line in f:
                m = re.search(r"stopped after (\d+) process-samples", line)
                if m:
                    counted = int(m.group(1))
                try:
                    ev = json.loads(line)
                except ValueError:
                    continue
                if not isinstance(ev, dict):
                    continue
                kind = ev.get("event", "?")
                events[kind] = events.get(kind, 0) + 1
                if kind == "found":
                    pid = ev.get("pid")
                    if pid in targets:
                        found.add(pid)
                    else:
                        other += 1
                        if pid in decoys:
                            odd.append("found a decoy")
                elif kind in ("error", "leak", "limit", "action"):
                    odd.append(kind)
    if len(found) != len(targets):
        raise RuntimeError("leakwatchd found %d of %d holders (events %s, see %s)"
                           % (len(found), len(targets), events, jpath))
    notes.append("found %d/%d" % (len(found), len(targets)))
    if other:
        notes.append("ODD %d found events for non-holders" % other)
    if odd:
        notes.append("ODD events: %s" % ",".join(sorted(set(odd))))
    if counted is not None:
        notes.append("own count %d samples" % counted)
        if abs(counted - c.n * rounds) > c.n:
            notes.append("ODD own count != N x %d" % rounds)
    return result("leakwatchd", cpu, src, rounds, c.n, warm_cpu, c.warm + 1, wall, exit_cpu,
                  " ".join(notes))


def write_monit(c):
    """Once per (N, fds): pidfiles and the control file."""
    d = os.path.join(c.combo_dir, "monit")
    shutil.rmtree(d, ignore_errors=True)
    os.makedirs(os.path.join(d, "pids"))
    rc = os.path.join(d, "monitrc")
    lines = ["# generated by bench/cpu_matrix.py",
             "set daemon %d" % (c.interval_ms // 1000),
             "set pidfile %s/monit.pid" % d,
             "set statefile %s/monit.state" % d,
             "set idfile %s/monit.id" % d,
             "set logfile %s/monit.log" % d, ""]
    for i, pid in enumerate(c.pids):
        pf = os.path.join(d, "pids", "h%d.pid" % i)
        with open(pf, "w") as f:
            f.write("%d\n" % pid)
        lines += ["check process h%d with pidfile %s" % (i, pf),
                  "  if totalmem > 1 GB then alert",
                  "  if filedescriptors > 100000 then alert"]
    with open(rc, "w") as f:
        f.write("\n".join(lines) + "\n")
    os.chmod(rc, 0o600)
    t = subprocess.run([MONIT, "-t", "-c", rc], capture_output=True, text=True)
    if t.returncode != 0 or "syntax OK" not in t.stdout + t.stderr:
        raise RuntimeError("monit -t rejects %s: %s" % (rc, (t.stdout + t.stderr)[:400]))
    return d, rc


def run_monit(c):
    d, rc = c.monit_dir, c.monit_rc
    for f in ("monit.state", "monit.log", "monit.pid"):
        try:
            os.unlink(os.path.join(d, f))
        except FileNotFoundError:
            pass
    I = c.interval_ms / 1000.0
    # Its cycle is not fixed-rate (it sleeps a whole interval after each
    # cycle), so count the cycles: bursts of CPU after at least GAP idle.
    gap = max(0.3 * I, 0.1)
    poll = 0.01
    out = os.path.join(d, "monit.out")
    with open(out, "w") as fo:
        t0 = time.monotonic()
        p = spawn_tool([MONIT, "-I", "-c", rc], fo, subprocess.STDOUT)
        bursts = []          # start times of cycles
        last_cpu, last_change = 0.0, None
        warm_cpu = None
        idle_since = t0
        end_at = t0 + c.seconds
        while True:
            now = time.monotonic()
            cpu, _ = proc_cpu(p.pid)
            if cpu is None or p.poll() is not None:
                with open(out) as f:
                    raise RuntimeError("monit exited early: %s" % f.read()[:400])
            if cpu > last_cpu:
                if last_change is None or now - last_change >= gap:
                    bursts.append(now)
                    # the reading before this burst is the warm reading
                    if len(bursts) == c.warm + 2:
                        warm_cpu = last_cpu
                last_change = now
                last_cpu = cpu
            elif now >= end_at and last_change is not None and now - last_change >= 3 * poll:
                break       # idle, SECONDS are over: the reading just before stopping
            time.sleep(poll)
        wall = now - t0
        cpu, src = proc_cpu(p.pid)
        cycles = len(bursts)
        if cpu is None or cpu > last_cpu:   # a cycle started since the last look: not counted
            cpu = last_cpu
        info = "threads=%s VmHWM=%s cycles=%d (nominal %d)" % (
            proc_status(p.pid, "Threads"), proc_status(p.pid, "VmHWM").replace(" ", ""),
            cycles, c.seconds * 1000 // c.interval_ms)
        rcode, exit_cpu, stop_s = stop_tool(p)
    notes = [info]
    if rcode != 0:
        notes.append("ODD exit status %s" % rcode)
    with open(os.path.join(d, "monit.log"), errors="replace") as f:
        log = [l.strip() for l in f if not re.search(r"Monit id|Stored in|Starting Monit|Monit .* (started|stopped)|daemon with pid", l)]
    if log:
        notes.append("ODD %d log line(s): %s" % (len(log), log[0][:160]))
    return result("monit", cpu, src, cycles, c.n, warm_cpu, c.warm + 1, wall, exit_cpu, " ".join(notes))


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def run_exporter(c):
    d = os.path.join(c.work, "exporter")
    shutil.rmtree(d, ignore_errors=True)
    os.makedirs(d)
    cfg = os.path.join(d, "process-exporter.yaml")
    with open(cfg, "w") as f:
        f.write("process_names:\n  - name: holders\n    cmdline:\n    - '%s'\n" % re.escape(c.marker))
    port = free_port()
    url = "http://127.0.0.1:%d/metrics" % port
    argv = [EXPORTER, "-config.path", cfg, "-web.listen-address", "127.0.0.1:%d" % port,
            "-threads=false"]
    if not c.exporter_smaps:
        argv.append("-gather-smaps=false")
    I = c.interval_ms / 1000.0
    rounds = c.seconds * 1000 // c.interval_ms
    out = os.path.join(d, "exporter.out")
    with open(out, "w") as fo:
        t0 = time.monotonic()
        p = spawn_tool(argv, fo, subprocess.STDOUT)
        while True:
            if p.poll() is not None:
                with open(out) as f:
                    raise RuntimeError("exporter exited: %s" % f.read()[:400])
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if time.monotonic() - t0 > 60:
                    raise RuntimeError("exporter not listening after 60 s")
                time.sleep(0.02)
        ready = time.monotonic() - t0
        t1 = time.monotonic()
        scrapes, late, body = 0, 0, b""
        warm_cpu = None
        for k in range(rounds):
            sleep_until(t1 + k * I)
            if time.monotonic() > t1 + k * I + 0.1 * I:
                late += 1
            with urllib.request.urlopen(url, timeout=max(30, 3 * I)) as r:
                body = r.read()
            scrapes += 1
            if k == c.warm:
                warm_cpu, _ = proc_cpu(p.pid)
        cpu, src = proc_cpu(p.pid)
        wall = time.monotonic() - t0
        info = "threads=%s VmHWM=%s ready=%.2fs" % (proc_status(p.pid, "Threads"),
                                                   proc_status(p.pid, "VmHWM").replace(" ", ""), ready)
        rcode, exit_cpu, stop_s = stop_tool(p)
    text = body.decode("utf-8", "replace")

    def metric(name):
        m = re.search(r'^%s\{groupname="holders"\} (\S+)$' % name, text, re.M)
        return float(m.group(1)) if m else None
    nprocs, nfds = metric("namedprocess_namegroup_num_procs"), metric("namedprocess_namegroup_open_filedesc")
    notes = [info, "num_procs=%s open_filedesc=%s" % (nprocs, nfds)]
    if nprocs != c.n:
        raise RuntimeError("exporter sees %s processes in the group, not %d (%s)" % (nprocs, c.n, url))
    if nfds is not None and nfds < c.n * (c.nfds + 3):
        notes.append("ODD open_filedesc < N x %d" % (c.nfds + 3))
    if late:
        notes.append("late_scrapes=%d" % late)
    if rcode not in (0, -15, 143):
        notes.append("exit status %s" % rcode)
    return result("exporter", cpu, src, scrapes, c.n, warm_cpu, c.warm + 1, wall, exit_cpu, " ".join(notes))


def run_tool(c, tool):
    """One tool, with what else the machine did meanwhile: other processes
    and process churn make discovery (leakwatchd, monit, exporter) work."""
    ctx = {"sys_procs": n_procs(), "load1": float(load_avg().split()[0])}
    f0 = forks()
    r = _run_tool(c, tool)
    ctx["forks"] = forks() - f0
    r.update(ctx)
    return r


def _run_tool(c, tool):
    if tool == "leakwatchd":
        return run_leakwatchd(c)
    if tool == "floor":
        return run_poller(c, tool, [c.floor])
    if tool == "floor+scan":
        return run_poller(c, tool, [c.floor, "--scan"])
    if tool == "psutil":
        return run_poller(c, tool, [PY, os.path.join(ROOT, "bench/psutil_poll.py")])
    if tool == "monit":
        return run_monit(c)
    if tool == "exporter":
        return run_exporter(c)
    raise ValueError(tool)


# ---------------------------------------------------------------------------
# reporting

def fmt(v, spec="%.2f"):
    return "-" if v is None else spec % v


def med(vals):
    vals = [v for v in vals if v is not None]
    return statistics.median(vals) if vals else None


def combo_rows(runs, tools):
    """Per tool: per-run rows (with ratios to the same run's floor) and medians."""
    out = {}
    for tool in tools:
        rows = []
        for rr in runs:
            r = rr.get(tool)
            f = rr.get("floor")
            if r is None:
                continue
            r = dict(r)
            r["vs_floor"] = r["us_per_sample"] / f["us_per_sample"] if f else None
            r["steady_vs_floor"] = (r["steady_us_per_sample"] / f["steady_us_per_sample"]
                                    if f and r["steady_us_per_sample"] and f["steady_us_per_sample"]
                                    else None)
            lw = rr.get("leakwatchd")
            r["vs_leakwatchd"] = r["us_per_sample"] / lw["us_per_sample"] if lw else None
            r["steady_vs_leakwatchd"] = (r["steady_us_per_sample"] / lw["steady_us_per_sample"]
                                         if lw and r["steady_us_per_sample"] and lw["steady_us_per_sample"]
                                         else None)
            rows.append(r)
        if not rows:
            continue
        m = {k: med([r[k] for r in rows]) for k in
             ("cpu_s", "process_samples", "us_per_sample", "vs_floor", "steady_us_per_sample",
              "steady_vs_floor", "vs_leakwatchd", "steady_vs_leakwatchd", "wall_s", "rounds")}
        out[tool] = (rows, m)
    return out


def print_combo(n, nfds, n_decoys, c, table, tools):
    say("")
    say("=== N=%d watched (+%d decoys), %d fds each (+3), interval %d ms, %d s per tool, %d run(s) ==="
        % (n, n_decoys, nfds, c.interval_ms, c.seconds, len(next(iter(table.values()))[0])))
    say("%-11s %9s %9s %26s %9s %9s %9s %9s %9s" % (
        "tool", "CPU s", "samples", "us/sample per run", "median", "x floor", "steady", "st.xfloor",
        "x lwd"))
    for tool in tools:
        if tool not in table:
            continue
        rows, m = table[tool]
        per = " ".join("%.2f" % r["us_per_sample"] for r in rows)
        say("%-11s %9.3f %9d %26s %9.2f %8.2fx %9s %8sx %8sx" % (
            tool, m["cpu_s"], m["process_samples"], per, m["us_per_sample"], m["vs_floor"],
            fmt(m["steady_us_per_sample"]), fmt(m["steady_vs_floor"]), fmt(m["vs_leakwatchd"], "%.1f")))
    say("(medians over runs; 'x floor' is the median of per-run ratios to the same run's floor; "
        "'steady' leaves out start-up and the first %d rounds; 'x lwd' = tool / leakwatchd)" % (c.warm + 1))


CSV_FIELDS = ["kind", "n", "fds", "decoys", "interval_ms", "seconds", "run", "order", "tool",
              "cpu_s", "cpu_source", "rounds", "process_samples", "us_per_sample", "vs_floor",
              "vs_leakwatchd", "steady_cpu_s", "steady_samples", "steady_us_per_sample",
              "steady_vs_floor", "steady_vs_leakwatchd", "wall_s", "exit_cpu_s", "sys_procs", "forks",
              "load1", "notes"]


def csv_val(v):
    if isinstance(v, float):
        return "%.6g" % v
    return "" if v is None else v


# ---------------------------------------------------------------------------

def write_csv(path, rows):
    """The whole file again after every size, renamed into place: a file
    replaced meanwhile (a git checkout, say) does not swallow the rest."""
    tmp = "%s.tmp.%d" % (path, os.getpid())
    with open(tmp, "w", newline="") as f:
        w = csv.DictWriter(f, CSV_FIELDS)
        w.writeheader()
        w.writerows(rows)
    os.replace(tmp, path)


def wait_quiet(a, mine):
    """With --wait-quiet: wait while more than --max-other-procs processes
    that this script did not start are on the machine."""
    others = n_procs() - mine
    if others <= a.max_other_procs or a.wait_quiet <= 0:
        return
    say("  waiting up to %d s: %d processes not started here" % (a.wait_quiet, others))
    give_up = time.monotonic() + a.wait_quiet
    while others > a.max_other_procs and time.monotonic() < give_up:
        time.sleep(10)
        others = n_procs() - mine
    say("  %d other processes now (load %s)" % (others, load_avg()))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--daemon", default="build/leakwatchd")
    ap.add_argument("--sizes", default="10,100,1000,5000")
    ap.add_argument("--fds", default="10,1000")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--seconds", type=int, default=20)
    ap.add_argument("--interval-ms", type=int, default=1000)
    ap.add_argument("--tools", default=",".join(DEFAULT_TOOLS),
                    help="comma-separated, from: " + ",".join(ALL_TOOLS) + " (floor is always run)")
    ap.add_argument("--scan-floor", action="store_true", help="add the floor+scan row")
    ap.add_argument("--decoys-percent", type=int, default=10)
    ap.add_argument("--warm-rounds", type=int, default=2,
                    help="steady columns start after this many rounds + 1 (default 2)")
    ap.add_argument("--exporter-smaps", action="store_true",
                    help="leave process-exporter's -gather-smaps on (its default)")
    ap.add_argument("--max-other-procs", type=int, default=1000,
                    help="processes not started here above which the machine counts as busy (1000)")
    ap.add_argument("--wait-quiet", type=int, default=0,
                    help="before each run, wait up to this many seconds for a busy machine to calm down")
    ap.add_argument("--build-dir", default="build/bench/matrix")
    ap.add_argument("--csv", default="bench/results/cpu.csv")
    ap.add_argument("--cc", default=os.environ.get("CC", "cc"))
    a = ap.parse_args()

    os.chdir(ROOT)
    sizes = [int(x) for x in a.sizes.split(",") if x]
    fdss = [int(x) for x in a.fds.split(",") if x]
    tools = [t for t in a.tools.split(",") if t]
    if a.scan_floor and "floor+scan" not in tools:
        tools.append("floor+scan")
    if "floor" not in tools:
        tools.insert(0, "floor")
    for t in tools:
        if t not in ALL_TOOLS:
            sys.exit("cpu_matrix: unknown tool %s" % t)
    if a.interval_ms <= 0 or a.seconds * 1000 % a.interval_ms or a.seconds * 1000 // a.interval_ms <= a.warm_rounds + 2:
        sys.exit("cpu_matrix: SECONDS must be a multiple of the interval and > %d intervals" % (a.warm_rounds + 2))
    if "monit" in tools and a.interval_ms % 1000:
        say("monit: its cycle is whole seconds; interval %d ms is not: monit skipped" % a.interval_ms)
        tools.remove("monit")
    daemon = os.path.abspath(a.daemon)
    if "leakwatchd" in tools and not os.access(daemon, os.X_OK):
        sys.exit("cpu_matrix: %s not found (cd %s && make)" % (daemon, ROOT))
    for t, path in (("monit", MONIT), ("exporter", EXPORTER), ("psutil", PY)):
        if t in tools and not os.access(path, os.X_OK):
            sys.exit("cpu_matrix: %s needs %s" % (t, path))
    if "psutil" in tools and subprocess.run([PY, "-c", "import psutil"]).returncode != 0:
        sys.exit("cpu_matrix: %s has no psutil" % PY)

    global _pdeath
    if subprocess.run(["setpriv", "--pdeathsig", "TERM", "true"], capture_output=True).returncode == 0:
        _pdeath = ["setpriv", "--pdeathsig", "TERM", "--"]
    atexit.register(cleanup)
    for s in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(s, _on_signal)

    # the holders inherit this, and the floor needs 3 fds per process
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft != hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))

    bdir = os.path.abspath(a.build_dir)
    holder, decoy, floor = build(a.cc, bdir)
    marker = "lwmx-%d-target" % os.getpid()
    dmarker = "lwmx-%d-decoy" % os.getpid()

    t_all = time.monotonic()
    say("leakwatch CPU matrix: sizes %s, fds %s, %d run(s), %d s per tool, interval %d ms, tools %s"
        % (sizes, fdss, a.runs, a.seconds, a.interval_ms, ",".join(tools)))
    say("kernel %s, %d CPUs, CLK_TCK %d, load average %s; fs.file-max %d, nr_open %d, RLIMIT_NOFILE %s"
        % (os.uname().release, os.cpu_count(), CLK_TCK, load_avg(), read_int("/proc/sys/fs/file-max"),
           read_int("/proc/sys/fs/nr_open"), resource.getrlimit(resource.RLIMIT_NOFILE)))
    try:
        rev = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True).stdout.strip()
    except OSError:
        rev = "?"
    vers = []
    if "monit" in tools:
        vers.append(subprocess.run([MONIT, "-V"], capture_output=True, text=True).stdout.split("\n")[0])
    if "exporter" in tools:
        v = subprocess.run([EXPORTER, "-version"], capture_output=True, text=True)
        m = re.search(r"revision: (\S+?)\)", v.stdout + v.stderr)
        vers.append("process-exporter %s (-threads=false%s)" % (m.group(1) if m else "?",
                                                                "" if a.exporter_smaps else " -gather-smaps=false"))
    if "psutil" in tools:
        vers.append("psutil " + subprocess.run([PY, "-c", "import psutil; print(psutil.__version__)"],
                                               capture_output=True, text=True).stdout.strip())
    say("leakwatchd %s (git %s); %s" % (daemon, rev, "; ".join(vers)))

    os.makedirs(os.path.dirname(os.path.abspath(a.csv)), exist_ok=True)
    csv_rows = []

    summary = {}     # (n, fds) -> table
    skipped = []
    per_tool_s = a.seconds + 3
    for nfds in fdss:
        for n in sizes:
            n_decoys = max(1, n * a.decoys_percent // 100) if a.decoys_percent > 0 else 0
            why = feasible(n, nfds, n_decoys, 10, tools)
            if why:
                say("")
                say("=== N=%d, %d fds: SKIPPED: %s" % (n, nfds, why))
                skipped.append((n, nfds, why))
                continue
            wait_quiet(a, 0)
            t_combo = time.monotonic()
            c = Ctx()
            c.n, c.nfds, c.interval_ms, c.seconds, c.warm = n, nfds, a.interval_ms, a.seconds, a.warm_rounds
            c.daemon, c.floor, c.marker, c.exporter_smaps = daemon, floor, marker, a.exporter_smaps
            c.combo_dir = os.path.join(bdir, "work", "n%d-fds%d" % (n, nfds))
            c.work = c.combo_dir
            shutil.rmtree(c.combo_dir, ignore_errors=True)
            os.makedirs(c.combo_dir)
            max_s = a.runs * len(tools) * (per_tool_s + 10) + 600 + n // 10
            errf = open(os.path.join(c.combo_dir, "holders.err"), "w")
            hs = start_holders(holder, os.path.join(bdir, "lw-mx-holder"), n, nfds, max_s, marker, errf)
            ds = start_holders(decoy, decoy, n_decoys, 10, max_s, dmarker, errf)
            wait_holders(hs, nfds)
            wait_holders(ds, 10)
            c.pids = [p.pid for p in hs]
            c.decoy_pids = [p.pid for p in ds]
            say("")
            others = n_procs() - n - n_decoys
            say("--- N=%d holders x %d open fds (st_size %d), %d decoys: started in %.1f s; load %s; "
                "%d other processes on the machine" % (n, nfds + 3, count_fds(c.pids[-1]), n_decoys,
                                                       time.monotonic() - t_combo, load_avg(), others))
            if others > 1000:
                say("NOTE: %d processes not started here: monit and the exporter scan them all every "
                    "round, and leakwatchd probes every pid they create: small sizes read high" % others)
            if "monit" in tools:
                c.monit_dir, c.monit_rc = write_monit(c)
            runs = []
            mine = n + n_decoys
            for run in range(a.runs):
                wait_quiet(a, mine)
                k = run % len(tools)
                order = tools[k:] + tools[:k]
                rr = {}
                for tool in order:
                    try:
                        r = run_tool(c, tool)
                    except Exception as e:     # one tool failing does not stop the others
                        say("  run %d %-10s FAILED: %s: %s" % (run + 1, tool, type(e).__name__, e))
                        continue
                    finally:
                        for p in list(_tools.values()):
                            stop_tool(p)
                    rr[tool] = r
                    say("  run %d %-10s cpu %8.4f s  rounds %4d  %9.2f us/sample  steady %8s  "
                        "[load %.2f, %d procs, %d forks]  %s"
                        % (run + 1, tool, r["cpu_s"], r["rounds"], r["us_per_sample"],
                           fmt(r["steady_us_per_sample"]), r["load1"], r["sys_procs"], r["forks"],
                           r["notes"]))
                if "floor" in rr:
                    f = rr["floor"]["us_per_sample"]
                    say("  run %d ratios to this run's floor: %s" % (run + 1, "  ".join(
                        "%s %.2fx" % (t, rr[t]["us_per_sample"] / f) for t in tools if t in rr)))
                for t in rr:
                    rr[t]["order"] = order.index(t) + 1
                busy = [t for t in rr if rr[t]["sys_procs"] - mine > a.max_other_procs
                        or rr[t]["forks"] > max(200, a.max_other_procs // 2)]
                if busy:
                    say("  NOTE: run %d disturbed: over %d other processes or churn during %s"
                        % (run + 1, a.max_other_procs, ",".join(busy)))
                runs.append(rr)
            stop_holders(hs + ds)
            errf.close()
            table = combo_rows(runs, tools)
            summary[(n, nfds)] = table
            for tool, (rows, m) in table.items():
                for i, r in enumerate(rows):
                    row = {"kind": "run", "n": n, "fds": nfds, "decoys": n_decoys,
                           "interval_ms": a.interval_ms, "seconds": a.seconds, "run": i + 1}
                    row.update({k: r.get(k) for k in CSV_FIELDS if k in r})
                    csv_rows.append({k: csv_val(v) for k, v in row.items()})
                row = {"kind": "median", "n": n, "fds": nfds, "decoys": n_decoys,
                       "interval_ms": a.interval_ms, "seconds": a.seconds, "run": "median", "tool": tool}
                row.update(m)
                csv_rows.append({k: csv_val(row.get(k)) for k in CSV_FIELDS})
            write_csv(a.csv, csv_rows)
            print_combo(n, nfds, n_decoys, c, table, tools)
            say("(this size took %.0f s; load average %s)" % (time.monotonic() - t_combo, load_avg()))

    write_csv(a.csv, csv_rows)

    # ---- summary against the goals -----------------------------------------
    say("")
    say("=== summary (medians over runs; each ratio is taken within a run, against that run's floor) ===")
    say("%-5s %5s %10s %9s %9s %10s %10s %10s %10s | %9s %9s %9s %9s" % (
        "N", "fds", "lwd us", "floor us", "lwd/floor", "psutil/lwd", "psutil/fl", "monit/lwd",
        "export/lwd", "st.lwd us", "st.lwd/fl", "st.ps/lwd", "st.ps/fl"))
    verdicts = {"floor": [], "psutil": [], "monit": [], "exporter": [], "steady": [], "psutil_steady": [],
                "psutil_floor": []}
    scan_note = []
    for (n, nfds), t in sorted(summary.items(), key=lambda kv: (kv[0][1], kv[0][0])):
        if "leakwatchd" not in t or "floor" not in t:
            continue
        lm = t["leakwatchd"][1]

        def rel(tool, key="vs_leakwatchd"):
            return t[tool][1][key] if tool in t else None
        if "floor+scan" in t:
            fs = t["floor+scan"][1]
            scan_note.append("N=%d/fds=%d: floor+scan %.2f us = %.2fx floor, leakwatchd/(floor+scan) %.2fx;"
                             " steady: floor+scan %s us = %sx floor, leakwatchd/(floor+scan) %sx"
                             % (n, nfds, fs["us_per_sample"], fs["vs_floor"],
                                lm["us_per_sample"] / fs["us_per_sample"],
                                fmt(fs["steady_us_per_sample"]), fmt(fs["steady_vs_floor"]),
                                fmt(lm["steady_us_per_sample"] / fs["steady_us_per_sample"]
                                    if lm["steady_us_per_sample"] and fs["steady_us_per_sample"] else None)))
        say("%-5d %5d %10.2f %9.2f %8.2fx %9sx %9sx %9sx %9sx | %9s %8sx %8sx %8sx" % (
            n, nfds, lm["us_per_sample"], t["floor"][1]["us_per_sample"], lm["vs_floor"],
            fmt(rel("psutil"), "%.1f"), fmt(rel("psutil", "vs_floor"), "%.1f"),
            fmt(rel("monit"), "%.1f"), fmt(rel("exporter"), "%.1f"),
            fmt(lm["steady_us_per_sample"]), fmt(lm["steady_vs_floor"]),
            fmt(rel("psutil", "steady_vs_leakwatchd"), "%.1f"), fmt(rel("psutil", "steady_vs_floor"), "%.1f")))
        verdicts["floor"].append((n, nfds, lm["vs_floor"], lm["vs_floor"] <= 1.5))
        if lm["steady_vs_floor"] is not None:
            verdicts["steady"].append((n, nfds, lm["steady_vs_floor"], lm["steady_vs_floor"] <= 1.5))
        if rel("psutil", "steady_vs_leakwatchd") is not None:
            v = rel("psutil", "steady_vs_leakwatchd")
            verdicts["psutil_steady"].append((n, nfds, v, v >= 20.0))
            v = rel("psutil", "steady_vs_floor")
            verdicts["psutil_floor"].append((n, nfds, v, v >= 20.0))
        for tool, lim in (("psutil", 20.0), ("monit", 1.0), ("exporter", 1.0)):
            v = rel(tool)
            if v is not None:
                verdicts[tool].append((n, nfds, v, v >= lim if tool == "psutil" else v > lim))
    for (n, nfds, why) in skipped:
        say("%-5d %5d  skipped: %s" % (n, nfds, why))
    for line in scan_note:
        say(line)
    say("")

    def verdict(name, items, fmtv):
        if not items:
            say("goal %s: not measured" % name)
            return
        bad = [x for x in items if not x[3]]
        say("goal %s: %s  [%s]" % (name, "MET at every size" if not bad else "NOT MET at %d of %d" % (
            len(bad), len(items)), ", ".join("N=%d/fds=%d %s%s" % (n, f, fmtv % v, "" if ok else " MISS")
                                            for n, f, v, ok in items)))
    say("(x/lwd, x/fl: ratios of medians' per-run ratios; st. = steady, start-up and the first %d rounds left out;"
        " psutil/fl is the most any sampler could be below psutil, if it cost no more than the floor)"
        % (a.warm_rounds + 1))
    # A daemon starts once and then samples for months: the goal is judged on
    # the steady state; the whole run adds start-up (exec, config, the first
    # scan of /proc) spread over only --seconds rounds.
    verdict("leakwatchd <= 1.5x floor, steady state", verdicts["steady"], "%.2fx")
    verdict("leakwatchd <= 1.5x floor, whole run with start-up (informational)", verdicts["floor"], "%.2fx")
    verdict("psutil >= 20x leakwatchd (whole run)", verdicts["psutil"], "%.1fx")
    verdict("psutil >= 20x leakwatchd, steady state", verdicts["psutil_steady"], "%.1fx")
    bound = verdicts["psutil_floor"]
    if bound:
        say("  (out of reach where psutil itself is under 20x the floor: steady psutil/floor %s)"
            % ", ".join("N=%d/fds=%d %.1fx" % (n, f, v) for n, f, v, _ in bound))
    verdict("monit above leakwatchd", verdicts["monit"], "%.1fx")
    verdict("exporter above leakwatchd", verdicts["exporter"], "%.1fx")
    # linear: per-sample cost does not grow with N (CPU per round ~ a + b N)
    for nfds in fdss:
        pts = [(n, summary[(n, nfds)]["leakwatchd"][1]) for n in sizes
               if (n, nfds) in summary and "leakwatchd" in summary[(n, nfds)]]
        if len(pts) < 2:
            continue
        for key, label in (("us_per_sample", "whole run"), ("steady_us_per_sample", "steady")):
            us = [(n, m[key]) for n, m in pts if m[key]]
            if len(us) < 2:
                continue
            steps = [(us[i + 1][0], us[i + 1][1] / us[i][1]) for i in range(len(us) - 1)]
            # least squares of CPU per round against N
            xs = [n for n, _ in us]
            ys = [n * u for n, u in us]       # us per round
            mx, my = sum(xs) / len(xs), sum(ys) / len(ys)
            sxx = sum((x - mx) ** 2 for x in xs)
            b = sum((x - mx) * (y - my) for x, y in zip(xs, ys)) / sxx if sxx else 0
            a0 = my - b * mx
            worst = max(r for _, r in steps)
            say("goal linear (fds=%d, %s): us/sample by N %s; growth per step %s; fit CPU/round = "
                "%.0f us + %.2f us x N -> %s" % (
                    nfds, label, " ".join("%d:%.2f" % p for p in us),
                    " ".join("x%.2f" % r for _, r in steps), a0, b,
                    "linear (no step grows per-sample cost by more than 25%)" if worst <= 1.25
                    else "NOT linear: per-sample cost grows x%.2f" % worst))
    say("")
    say("load average at end %s; total time %.0f s; CSV: %s" % (load_avg(), time.monotonic() - t_all,
                                                               os.path.relpath(os.path.abspath(a.csv), ROOT)))
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        say("interrupted")
        sys.exit(130)
