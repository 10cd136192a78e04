#!/usr/bin/python3
"""leakwatch inspect test: the real daemon inspecting real leaking CPython
processes, on every CPython 3.8+ of the machine, and refusing the ones it
must refuse.

    /usr/bin/python3 tests/inspect_test.py --daemon build/leakwatchd --ctl build/leakwatchctl
                                           [--keep DIR] [-v] [--only NAME]

One daemon (interval 500ms, window 10min: no verdict comes on its own) with
a watch `inspect: python` on this run's marker runs every case; the
programs are tests/programs/inspect_*.py, one per root cause of a Python
leak (see each program's docstring), each doing noise work beside its leak.
For each CPython found (Debian's /usr/bin/python3, and
/root/.pyenv/versions/3.X* for X = 8, 12 and 13, or for every X from 8 to
13 with --all, `make inspect-all`) and each program,
`leakwatchctl inspect PID --seconds 3 --json` (four at a time) must end
`ok`, with the `inspect` event's message, top_type and top_site, and the
incident's python.json, saying what the program leaks:

- cache: the top site is the program's appending line;
- cycles: the program's own class tops the grown types;
- closure: the site that creates the held object, and the closure's
  function among the grown types;
- files: the open files grouped by path, with their opening site;
- sqlite: sqlite3.Connection among the grown types, and its opening site;
- native: the growth is outside the Python heap;
- threads: the top stack grew and names the program's function;
- control: no type grows by more than noise;
- hostile (names with control characters, hooks that never return): a
  valid report.

Then, on /usr/bin/python3: the target completes the same work with the same
checksum with two inspections during its run as without (and says the
longest pause it saw); a leak verdict of a watch with `inspect: python` and
`on_leak: signal` gives leak, then inspect, then the action, in that order;
and the refusals, each one `inspect` event with result failed saying why:
a process that is not Python, a CPython whose runtime file is not root's,
one already traced, one that exits mid-inspection, one whose only thread
holds the GIL in C (no safe point within the attacher's deadline), one in
another mount namespace, and a daemon without CAP_SYS_PTRACE on another
user's process.

Every program runs in its own session and is killed with its group at the
end.  One PASS/FAIL line per check, then `inspect: N passed, M failed`;
exit status 1 on any failure.
"""

import argparse
import glob
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time

sys.dont_write_bytecode = True
from lwtest import PROGRAMS, Daemon, schema_check, stop_groups, wait_for, yq   # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
SCRIPT = os.path.join(ROOT, "share", "leakwatch", "inspect.py")
INSPECT_S = 3
PARALLEL = 3               # of the daemon's 4 at once: room for the leak verdict's


# `make check` runs the CPythons whose internals differ most (the oldest,
# 3.12's and the newest beside Debian's); `make inspect-all` (--all) each.
EDGE_MINORS = (8, 12, 13)


def pythons(every=False):
    """[(label, path)]: Debian's python3 and the pyenv 3.8..3.13 (only
    EDGE_MINORS unless every)."""
    out = []
    if os.access("/usr/bin/python3", os.X_OK):
        out.append(("debian-" + subprocess.run(["/usr/bin/python3", "-c", "import platform;print(platform.python_version())"],
                                               capture_output=True, text=True).stdout.strip(), "/usr/bin/python3"))
    for minor in range(8, 14):
        if not every and minor not in EDGE_MINORS:
            continue
        for d in sorted(glob.glob(f"/root/.pyenv/versions/3.{minor}.*")):
            exe = os.path.join(d, "bin", f"python3.{minor}")
            if os.access(exe, os.X_OK) and re.fullmatch(rf"3\.{minor}\.\d+", os.path.basename(d)):
                out.append((os.path.basename(d), exe))
                break
    return out


class Results:
    def __init__(self, verbose):
        self.passed = self.failed = 0
        self.verbose = verbose
        self.lock = threading.Lock()

    def check(self, ok, name, detail=""):
        with self.lock:
            if ok:
                self.passed += 1
            else:
                self.failed += 1
            print(f"{'PASS' if ok else 'FAIL'}  {name:44s} {detail}", flush=True)
        return ok


def leak_site(prog):
    """FILE:LINE of the program's line marked `# leak-site`."""
    path = os.path.join(PROGRAMS, prog)
    with open(path) as f:
        for n, line in enumerate(f, 1):
            if "# leak-site" in line:
                return f"{path}:{n}"
    return None


def write_config(path, marker, extra_watches=""):
    with open(path, "w") as f:
        f.write(f"""interval: 500ms
watches:
  - name: insp
    match: {{ cmdline: {yq(marker)} }}
    window: 10min
    inspect: python
    inspect_seconds: {INSPECT_S}s
{extra_watches}""")


class Target:
    """One program under one Python, in its own session; marker in its argv
    (through --dir) so the watch matches it."""

    def __init__(self, work, label, python, prog, marker, args=(), user=None, wrapper=(), argv=None):
        self.name = f"{os.path.splitext(prog)[0]}@{label}"
        self.prog = prog
        self.dir = os.path.join(work, f"{marker}-{self.name}")
        os.makedirs(self.dir, exist_ok=True)
        os.chmod(self.dir, 0o777)
        if argv is None:
            argv = [python, os.path.join(PROGRAMS, prog), "--seconds", "120", "--dir", self.dir, *args]
        self.argv = list(wrapper) + argv
        self.out = os.path.join(work, self.name + ".out")
        self.err = os.path.join(work, self.name + ".err")
        self.user = user
        self.proc = None

    def start(self):
        env = dict(os.environ, PYTHONPATH=PROGRAMS, PYTHONDONTWRITEBYTECODE="1")
        with open(self.out, "w") as fo, open(self.err, "w") as fe:
            pre = None
            if self.user:
                uid = self.user

                def pre():
                    os.setgid(uid)
                    os.setuid(uid)
            self.proc = subprocess.Popen(self.argv, stdin=subprocess.DEVNULL, stdout=fo, stderr=fe, env=env,
                                         start_new_session=True, preexec_fn=pre, cwd=self.dir)
        return self

    @property
    def pid(self):
        """The python's pid (the last process of a wrapper chain: the leaf child)."""
        pid = self.proc.pid
        for _ in range(5):
            try:
                with open(f"/proc/{pid}/task/{pid}/children") as f:
                    kids = f.read().split()
            except OSError:
                break
            if not kids:
                break
            pid = int(kids[0])
        return pid

    def result(self):
        try:
            with open(self.out) as f:
                lines = [ln for ln in f.read().splitlines() if ln.startswith("{")]
            return json.loads(lines[-1]) if lines else None
        except (OSError, ValueError):
            return None


def inspect(daemon, pid, seconds=INSPECT_S, timeout=90):
    """leakwatchctl inspect PID --seconds N --json: (rc, parsed or None, stderr)."""
    try:
        r = subprocess.run([daemon.ctl, "inspect", str(pid), "--seconds", str(seconds), "--json"],
                           env=daemon.ctl_env(), stdin=subprocess.DEVNULL, capture_output=True, text=True,
                           timeout=timeout)
    except subprocess.TimeoutExpired:
        return None, None, "timed out"
    try:
        out = json.loads(r.stdout) if r.stdout.strip() else None
    except ValueError:
        out = None
    return r.returncode, out, r.stderr


def python_json(summary):
    inc = summary.get("incident") if summary else None
    try:
        with open(os.path.join(inc, "python.json")) as f:
            return json.load(f)
    except (OSError, TypeError, ValueError):
        return None


def inspect_event(daemon, pid):
    evs = [e for e in daemon.events() if e.get("event") == "inspect" and e.get("pid") == pid]
    return evs[-1] if evs else None


def watched(daemon, pids, timeout=15):
    def ok():
        st = daemon.ctl_json("status")
        return st is not None and set(pids) <= {p["pid"] for p in st}
    return wait_for(ok, timeout, step=0.25)


def top(rows, key="growth"):
    return rows[0] if rows else {}


def chk_cache(prog, d):
    site = (d.get("facts", {}).get("top_site") or {}).get("site")
    return site == leak_site(prog), f"top site {site}, the appending line is {leak_site(prog)}"


def chk_cycles(prog, d):
    t = top(d.get("types", [])).get("name")
    return t == "__main__.Node", f"top type {t}"


def chk_closure(prog, d):
    names = [t.get("name", "") for t in d.get("types", [])]
    sites = [s.get("site") for s in d.get("sites", [])]
    fn = any(n.startswith("function __main__.make_handler.<locals>.") for n in names)
    return fn and leak_site(prog) in sites[:3], f"closure type among {names[:4]}; sites {sites[:3]}"


def chk_files(prog, d):
    files = [f for f in d.get("files", []) if f.get("kind") == "file" and "template-" in (f.get("name") or "")]
    # the files opened before tracemalloc started (at the first look) have no site
    ok = sum(f["count"] for f in files if f.get("site") == leak_site(prog)) >= 10 and \
        all(f.get("site") in (leak_site(prog), None) for f in files)
    return ok, "files " + "; ".join(f"{f.get('name')} x{f.get('count')} at {f.get('site')}" for f in files[:3])


def chk_sqlite(prog, d):
    names = [t.get("name") for t in d.get("types", [])]
    conns = [f for f in d.get("files", []) if f.get("kind") == "sqlite"]
    ok = "sqlite3.Connection" in names and any(f.get("site") == leak_site(prog) for f in conns)
    return ok, f"types {names[:4]}; sqlite files " + "; ".join(f"{f.get('name')} x{f.get('count')} at {f.get('site')}" for f in conns[:2])


def chk_native(prog, d):
    o = d.get("facts", {}).get("outside_python_heap") or {}
    return o.get("verdict") == "yes", f"outside heap {o.get('verdict')}: rss +{o.get('rss_growth')}, heap +{o.get('heap_growth')}"


def chk_threads(prog, d):
    s = d.get("facts", {}).get("top_stack") or {}
    frames = [f.get("function") for st in d.get("stacks", [])[:1] for f in st.get("frames", [])]
    ok = (s.get("growth") or 0) > 0 and ("wait_for_ack" in frames or (s.get("target") or "").endswith("wait_for_ack"))
    return ok, f"top stack x{s.get('count')} (+{s.get('growth')}) {s.get('where')} {s.get('function')} target {s.get('target')}"


def chk_control(prog, d):
    big = [t for t in d.get("types", []) if t.get("growth", 0) > 2000]
    return not big, "grown types " + ", ".join(f"{t['name']} +{t['growth']}" for t in d.get("types", [])[:3])


def chk_hostile(prog, d):
    # its type, thread and file names hold tabs, newlines, control characters
    # and 4 KiB; its hooks sleep for an hour if called: a valid report came
    names = [t.get("name", "") for t in d.get("types", [])]
    ok = all(not any(ord(c) < 32 or ord(c) == 127 for c in n) for n in names)
    return ok, f"{len(names)} grown types, {len(d.get('stacks', []))} stacks, {len(d.get('files', []))} file groups"


CASES = {
    "inspect_cache.py": chk_cache, "inspect_cycles.py": chk_cycles, "inspect_closure.py": chk_closure,
    "inspect_files.py": chk_files, "inspect_sqlite.py": chk_sqlite, "inspect_native.py": chk_native,
    "inspect_threads.py": chk_threads, "inspect_control.py": chk_control, "inspect_hostile.py": chk_hostile,
}


def run_matrix(res, daemon, work, marker, only, every=False):
    """Every program under every Python (pythons()), PARALLEL inspections at a time."""
    targets = []
    for label, py in pythons(every):
        for prog in CASES:
            if only and only not in prog and only != label:
                continue
            targets.append(Target(work, label, py, prog, marker))
    pending = list(targets)
    while pending:
        batch, pending = pending[:PARALLEL], pending[PARALLEL:]
        for t in batch:
            t.start()
        if not watched(daemon, [t.pid for t in batch]):
            res.check(False, "programs watched", ", ".join(t.name for t in batch))
        time.sleep(1.0)            # a little noise before the first look
        out = {}

        def go(t):
            out[t.name] = inspect(daemon, t.pid)
        threads = [threading.Thread(target=go, args=(t,)) for t in batch]
        for th in threads:
            th.start()
        for th in threads:
            th.join()
        for t in batch:
            t.proc.send_signal(signal.SIGTERM)   # it prints its line, max_stall in it
        for t in batch:
            try:
                t.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                pass
        stop_groups([t.proc for t in batch])
        for t in batch:
            rc, summary, err = out[t.name]
            d = python_json(summary)
            ev = inspect_event(daemon, t.pid)
            if rc != 0 or d is None or not ev or ev.get("result") != "ok":
                res.check(False, t.name, f"rc {rc}: {err.strip()[-300:]} {summary}")
            else:
                ok, detail = CASES[t.prog](t.prog, d)
                stall = (t.result() or {}).get("max_stall")
                pauses = "script %.3f+%.3f s, longest stall seen inside %s s" % (
                    d["phase1"]["pause"], d["phase2"]["pause"], stall)
                res.check(ok, t.name, f"{detail}; {pauses}; event: {ev.get('message', '')[:300]}")


def run_correctness(res, daemon, work, marker):
    """The same work, the same checksum, with two inspections during it."""
    n = 1600
    plain = Target(work, "plain", "/usr/bin/python3", "inspect_cache.py", "unwatched",
                   ("--iterations", str(n), "--rate", "200")).start()
    seen = Target(work, "inspected", "/usr/bin/python3", "inspect_cache.py", marker,
                  ("--iterations", str(n), "--rate", "200")).start()
    ok_watch = watched(daemon, [seen.pid])
    rcs = [inspect(daemon, seen.pid, seconds=2)[0]]
    # status keeps the outcome on the watched process
    st = daemon.ctl_json("status") or []
    row = next((p for p in st if p.get("pid") == seen.pid), {})
    table = daemon.ctl_run("status").stdout
    res.check((row.get("inspect") or {}).get("state") == "ok" and "inspect: ok: " in table,
              "status shows the last inspection", json.dumps(row.get("inspect"))[:200])
    rcs.append(inspect(daemon, seen.pid, seconds=2)[0])
    for t in (plain, seen):
        try:
            t.proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            pass
    a, b = plain.result(), seen.result()
    ok = ok_watch and rcs == [0, 0] and a and b and a["work"] == b["work"] == n and a["checksum"] == b["checksum"]
    res.check(ok, "target correct after two inspections",
              f"inspections rc {rcs}; without: {a}; with: {b} (max_stall is the longest pause it saw)")
    stop_groups([plain.proc, seen.proc])


def run_verdict(res, daemon, work, marker2):
    """A leak verdict: leak, then inspect (ok, the appending line), then the action."""
    t = Target(work, "verdict", "/usr/bin/python3", "inspect_cache.py", marker2, ("--rate", "400")).start()
    ok = wait_for(lambda: any(e.get("event") == "action" and e.get("pid") == t.pid for e in daemon.events()), 45,
                  step=0.5)
    evs = [e for e in daemon.events() if e.get("pid") == t.pid and e.get("event") in ("leak", "inspect", "action")]
    kinds = [e["event"] for e in evs]
    insp = next((e for e in evs if e["event"] == "inspect"), {})
    good = ok and kinds[:3] == ["leak", "inspect", "action"] and insp.get("result") == "ok" and \
        insp.get("top_site") == leak_site("inspect_cache.py")
    res.check(good, "leak verdict: inspected, then acted", f"events {kinds}; {insp.get('message', '')[:300]}")
    stop_groups([t.proc])


def refusal(res, daemon, name, target, phrase, seconds=INSPECT_S, survives=True, pid=None):
    target.start()
    time.sleep(0.5)
    p = pid() if pid else target.pid
    if not watched(daemon, [p]):
        res.check(False, name, "not watched")
        stop_groups([target.proc])
        return
    rc, summary, err = inspect(daemon, p, seconds=seconds)
    # a process that exited is no longer watched: leakwatchctl cannot follow
    # its inspection to the end, the event still comes
    wait_for(lambda: inspect_event(daemon, p), seconds + 30, step=0.25)
    evs = [e for e in daemon.events() if e.get("event") == "inspect" and e.get("pid") == p]
    msg = evs[-1].get("message", "") if evs else ""
    alive = target.proc.poll() is None
    ok = rc == 1 and len(evs) == 1 and evs[0].get("result") == "failed" and phrase in msg and \
        (alive or not survives)
    res.check(ok, name, f"{msg[:230]}" + ("" if alive or not survives else " (the target died)"))
    stop_groups([target.proc])


def run_refusals(res, daemon, work, marker):
    py = "/usr/bin/python3"
    sh = Target(work, "sh", "", "", marker, argv=["/bin/sh", "-c", "sleep 120; :", marker])
    refusal(res, daemon, "refused: not Python", sh, "not an inspectable CPython", pid=lambda: sh.proc.pid)
    own = os.path.join(work, "nobody-python")
    os.makedirs(own, exist_ok=True)
    shutil.copy2(os.path.realpath(py), os.path.join(own, "python3.11"))
    os.chown(os.path.join(own, "python3.11"), 65534, 65534)
    refusal(res, daemon, "refused: runtime not root's", Target(work, "copy", os.path.join(own, "python3.11"),
            "inspect_control.py", marker), "root")
    refusal(res, daemon, "refused: already traced", Target(work, "traced", py, "inspect_control.py", marker,
            wrapper=("strace", "-f", "-o", "/dev/null")), "already traced by pid")
    refusal(res, daemon, "refused: exits mid-inspection", Target(work, "exits", py, "inspect_control.py", marker,
            ("--seconds", "3")), "exited", seconds=6, survives=False)
    refusal(res, daemon, "refused: GIL held in C, no safe point", Target(work, "gil", py, "inspect_gil.py", marker),
            "safe point")
    run_dir = daemon.env["RUNTIME_DIRECTORY"]
    refusal(res, daemon, "refused: another mount namespace",
            Target(work, "mntns", py, "inspect_control.py", marker,
                   wrapper=("unshare", "-m", "--propagation", "private", "sh", "-c",
                            f'mount -t tmpfs none {run_dir} && exec "$0" "$@"')), "does not see")


def run_no_cap(res, args, work, marker):
    """A daemon without CAP_SYS_PTRACE, a target of another user: refused."""
    cfg = os.path.join(work, "noptrace.yaml")
    write_config(cfg, marker)
    env = dict(os.environ, LEAKWATCH_INSPECT_SCRIPT=SCRIPT)
    d = Daemon("noptrace", os.path.abspath(args.daemon), cfg, work, env=env, ctl=os.path.abspath(args.ctl),
               wrapper=("capsh", "--drop=cap_sys_ptrace", "--", "-c", 'exec "$0" "$@"'))
    try:
        d.start()
        if not d.wait_started(socket=True):
            res.check(False, "refused: no CAP_SYS_PTRACE", "daemon did not start: " + open(d.err).read()[-300:])
            return
        t = Target(work, "nobody", "/usr/bin/python3", "inspect_control.py", marker, user=65534)
        refusal(res, d, "refused: no CAP_SYS_PTRACE, another user", t, "CAP_SYS_PTRACE")
    finally:
        d.stop()
        d.kill()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--daemon", required=True)
    ap.add_argument("--ctl", required=True)
    ap.add_argument("--keep")
    ap.add_argument("--only")
    ap.add_argument("-v", action="store_true")
    ap.add_argument("--all", action="store_true", help="every pyenv CPython 3.8..3.13, not only 3.8, 3.12, 3.13")
    a = ap.parse_args()
    work = a.keep or tempfile.mkdtemp(prefix="lw-inspect-")
    os.makedirs(work, exist_ok=True)
    os.chmod(work, 0o755)
    marker = "lwinsp%d" % os.getpid()
    res = Results(a.v)
    cfg = os.path.join(work, "leakwatch.yaml")
    marker2 = "lwvrd%d" % os.getpid()     # not containing marker: the first watch would take it
    write_config(cfg, marker, f"""  - name: verdict
    match: {{ cmdline: {yq(marker2)} }}
    warmup: 1s
    window: 8s
    rss: {{ growth: 20M/h }}
    on_leak: signal
    signal: TERM
    inspect: python
    inspect_seconds: 2s
""")
    env = dict(os.environ, LEAKWATCH_INSPECT_SCRIPT=SCRIPT)
    daemon = Daemon("daemon", os.path.abspath(a.daemon), cfg, work, env=env, ctl=os.path.abspath(a.ctl))
    try:
        daemon.start()
        if not daemon.wait_started(socket=True):
            res.check(False, "daemon started", open(daemon.err).read()[-500:])
        else:
            if a.only in (None, "verdict"):
                vt = threading.Thread(target=run_verdict, args=(res, daemon, work, marker2))
                vt.start()
            else:
                vt = None
            if a.only not in ("verdict", "refusals"):
                run_matrix(res, daemon, work, marker, a.only, a.all)
            if a.only in (None, "refusals"):
                run_correctness(res, daemon, work, marker)
                run_refusals(res, daemon, work, marker)
                run_no_cap(res, a, work, marker + "nocap")
            if vt:
                vt.join()
    except KeyboardInterrupt:
        res.check(False, "interrupted")
    finally:
        daemon.stop()
        daemon.kill()
        subprocess.run(["pkill", "-KILL", "-f", marker], stderr=subprocess.DEVNULL)
        if not a.keep:
            shutil.rmtree(work, ignore_errors=True)
    sc = schema_check()     # every event and status read fitted the shipped schemas
    res.check(sc.ok, "events and status fit the schemas", "; ".join(sc.problems + sc.notes))
    print(f"inspect: {res.passed} passed, {res.failed} failed")
    return 1 if res.failed else 0


if __name__ == "__main__":
    sys.exit(main())
