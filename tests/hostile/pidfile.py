"""Hostile files: a pidfile its writer points at a root process (item 1),
a symlink as the pidfile (item 1), a FIFO as the pidfile (item 2), FIFOs at
the textfile's temporary name (item 9) and a FIFO as the saved history
(item 12)."""

import os
import re
import stat
import time

import lwtest

NOBODY = 65534
SLEEPER = "import sys, time\ntime.sleep(float(sys.argv[1]))\n"


def sleeper(case, tag, root=False, seconds=60):
    """A python sleeping SECONDS with TAG in its argv, as root or nobody:
    the Popen, once its process exists."""
    argv = [lwtest.PYTHON, "-c", SLEEPER, str(seconds), tag]
    p = case.as_root(argv) if root else case.as_nobody(argv)
    if not lwtest.wait_for(lambda: tag in open(f"/proc/{p.pid}/cmdline", "rb").read().decode(errors="replace"),
                           5):
        raise AssertionError(f"pid {p.pid} ({tag}) did not start")
    return p


def nobody_dir(case, name):
    """A directory of nobody's (mode 0755) under the case's: its path."""
    d = case.path(name)
    os.makedirs(d, exist_ok=True)
    os.chown(d, NOBODY, NOBODY)
    os.chmod(d, 0o755)
    return d


def nobody_writes(path, text):
    """PATH written as nobody would: created, owned by nobody, mode 0644."""
    with open(path, "w") as f:
        f.write(text)
    os.chown(path, NOBODY, NOBODY)
    os.chmod(path, 0o644)


def act_config(pidfile, textfile=None):
    """A watch on PIDFILE that signals its process at once (rss over 1 KiB)."""
    out = "interval: 200ms\n"
    if textfile:
        out += f"metrics: {{ textfile: {lwtest.yq(textfile)} }}\n"
    return out + ("watches:\n"
                  "  - name: pf\n"
                  f"    match: {{ pidfile: {lwtest.yq(pidfile)} }}\n"
                  "    rss: { max: 1K }\n"
                  "    on_limit: signal\n"
                  "    signal: TERM\n"
                  "    kill_after: 0\n"
                  "    cooldown: 0\n")


def warnings_naming(d, path):
    return [e for e in d.events() if e.get("event") == "error" and path in e.get("message", "")]


def of_pid(d, pid, kinds=("found", "action")):
    return [e for e in d.events() if e.get("pid") == pid and e.get("event") in kinds]


def ticks(textfile):
    """leakwatch_ticks_total in the textfile, or None."""
    try:
        with open(textfile) as f:
            m = re.search(r"^leakwatch_ticks_total (\S+)$", f.read(), re.M)
    except OSError:
        return None
    return float(m.group(1)) if m else None


def ticking(case, d, textfile, what):
    """The daemon ticks (its ticks counter grows in the textfile) and answers."""
    t0 = lwtest.wait_for(lambda: ticks(textfile), 5)
    if t0 is None:
        case.fail(f"{what}: no leakwatch_ticks_total in {textfile}")
        return
    if not lwtest.wait_for(lambda: (ticks(textfile) or 0) > t0 + 3, 5):
        case.fail(f"{what}: the ticks stopped at {ticks(textfile)}")
    if not case.alive(d):
        case.fail(f"{what}: the control socket does not answer")


def expect_one_warning(case, d, pidfile, want):
    w = warnings_naming(d, pidfile)
    if len(w) != 1:
        case.fail(f"{len(w)} warnings naming {pidfile}, not 1: {[e.get('message') for e in w][:3]}")
    elif not re.search(want, w[0].get("message", "")):
        case.fail(f"the warning does not say {want!r}: {w[0].get('message')!r}")


def pidfile_root_pid(case):
    """A pidfile nobody may write names a root process: not matched (one warning); nobody's own is."""
    pfdir = nobody_dir(case, "nobody-run")
    pidfile = os.path.join(pfdir, "app.pid")
    root = sleeper(case, "lw-item1-root-victim", root=True)
    nobody_writes(pidfile, f"{root.pid}\n")
    d = case.daemon(act_config(pidfile))
    time.sleep(3)     # a dozen ticks, a discovery or more
    if root.poll() is not None:
        case.fail(f"the root process {root.pid} was killed (exit {root.returncode})")
    if of_pid(d, root.pid):
        case.fail(f"the root process was watched or acted on: {of_pid(d, root.pid)[:2]}")
    expect_one_warning(case, d, pidfile, r"a process of root, but nobody could write it")
    own = sleeper(case, "lw-item1-own-target")
    nobody_writes(pidfile, f"{own.pid}\n")
    act = case.wait_event(d, lambda e: e.get("event") == "action" and e.get("pid") == own.pid, 10)
    if not act or act.get("result") != "ok":
        case.fail(f"nobody's own process {own.pid} named by the pidfile was not signalled: {act}")
    elif not lwtest.wait_for(lambda: own.poll() is not None, 5):
        case.fail(f"nobody's own process {own.pid} was signalled but still runs")
    if root.poll() is not None:
        case.fail(f"the root process {root.pid} was killed later")
    expect_one_warning(case, d, pidfile, r"a process of root, but nobody could write it")


def pidfile_symlink(case):
    """A symlink as the pidfile (nobody's, to a root file naming a root process): refused, one warning."""
    pfdir = nobody_dir(case, "nobody-run")
    root = sleeper(case, "lw-item1-root-link", root=True)
    target = case.write("root.pid", f"{root.pid}\n")
    pidfile = os.path.join(pfdir, "app.pid")
    os.symlink(target, pidfile)
    os.lchown(pidfile, NOBODY, NOBODY)
    d = case.daemon(act_config(pidfile))
    time.sleep(3)
    if root.poll() is not None:
        case.fail(f"the root process {root.pid} was killed (exit {root.returncode})")
    if of_pid(d, root.pid):
        case.fail(f"the process named through the symlink was watched or acted on: {of_pid(d, root.pid)[:2]}")
    expect_one_warning(case, d, pidfile, r"symbolic link")


def pidfile_fifo(case):
    """A FIFO as the pidfile: the daemon ticks, answers, stops on SIGTERM, starts again."""
    pfdir = nobody_dir(case, "nobody-run")
    pidfile = os.path.join(pfdir, "app.pid")
    os.mkfifo(pidfile, 0o644)
    os.chown(pidfile, NOBODY, NOBODY)
    textfile = case.path("metrics.prom")
    d = case.daemon(act_config(pidfile, textfile), wait=False)
    if not d.wait_started(5, socket=True):
        case.fail("the daemon did not start within 5 s with a FIFO as the pidfile")
        return
    ticking(case, d, textfile, "first run")
    expect_one_warning(case, d, pidfile, r"not a regular file")
    t0 = time.monotonic()
    rc = d.stop()
    if rc != 0:
        case.fail(f"SIGTERM: {rc}")
        return
    case.note(f"stopped in {time.monotonic() - t0:.1f}s")
    d.start()
    if not d.wait_started(5, socket=True):
        case.fail("the daemon did not start again within 5 s")
        return
    ticking(case, d, textfile, "second run")


def textfile_fifo(case):
    """FIFOs at the textfile's old temporary name (PATH.tmp-PID): rewritten all the same, the daemon answers."""
    tdir = case.path("textfile")
    os.makedirs(tdir, mode=0o755, exist_ok=True)
    textfile = os.path.join(tdir, "leakwatch.prom")
    own = sleeper(case, "lw-item9-target")
    cfg = ("interval: 200ms\n"
           f"metrics: {{ textfile: {lwtest.yq(textfile)} }}\n"
           "watches:\n"
           "  - name: t\n"
           "    match: { cmdline: lw-item9-target }\n"
           "    rss: { growth: 1G/h }\n")
    d = case.daemon(cfg, wait=False)
    fifo = f"{textfile}.tmp-{d.pid}"
    os.mkfifo(fifo, 0o644)
    if not d.wait_started(5, socket=True):
        case.fail("the daemon did not start within 5 s")
        return
    ticking(case, d, textfile, "with a FIFO at " + os.path.basename(fifo))
    m0 = os.stat(textfile).st_mtime_ns if os.path.exists(textfile) else 0
    if not lwtest.wait_for(lambda: os.path.exists(textfile) and os.stat(textfile).st_mtime_ns > m0, 3):
        case.fail("the textfile is not rewritten")
    if not stat.S_ISFIFO(os.lstat(fifo).st_mode):
        case.fail(f"{fifo} was replaced")
    stray = [n for n in os.listdir(tdir) if n not in ("leakwatch.prom", os.path.basename(fifo))]
    if stray:
        case.fail(f"files left in the textfile's directory: {stray}")
    own.kill()


def state_fifo(case):
    """A FIFO as STATE_DIRECTORY/history.state: started within 5 s, says why, keeps running, FIFO kept."""
    state = case.path("d-state")       # lwtest.daemon_env's STATE_DIRECTORY for the daemon "d"
    os.makedirs(state, exist_ok=True)
    fifo = os.path.join(state, "history.state")
    os.mkfifo(fifo, 0o600)
    own = sleeper(case, "lw-item12-target")
    textfile = case.path("metrics.prom")
    cfg = ("interval: 200ms\n"
           f"metrics: {{ textfile: {lwtest.yq(textfile)} }}\n"
           "watches:\n"
           "  - name: t\n"
           "    match: { cmdline: lw-item12-target }\n"
           "    window: 2s\n"
           "    rss: { growth: 1G/h }\n")
    d = case.daemon(cfg, wait=False)
    if not d.wait_started(5, socket=True):
        case.fail("the daemon did not start within 5 s with a FIFO as history.state")
        return
    why = [e for e in d.events() if "history" in e.get("message", "") and "FIFO" in e.get("message", "")]
    if not why:
        case.fail("no event says the saved history is a FIFO: "
                  f"{[e.get('message') for e in d.events()][:4]}")
    ticking(case, d, textfile, "with a FIFO as history.state")
    time.sleep(1)     # a save or more (the window's bucket is short)
    if d.stop() != 0:
        case.fail(f"SIGTERM: {d.rc}")
    if not stat.S_ISFIFO(os.lstat(fifo).st_mode):
        case.fail("history.state, a FIFO, was replaced")
    unsaved = [e for e in d.events() if "cannot save the history" in e.get("message", "")]
    if len(unsaved) != 1 or "FIFO" not in unsaved[0].get("message", ""):
        case.fail(f"{len(unsaved)} events say the history is not saved, not 1 naming the FIFO")
    own.kill()


CASES = [
    ("item1-pidfile-root-pid", pidfile_root_pid),
    ("item1-pidfile-symlink", pidfile_symlink),
    ("item2-pidfile-fifo", pidfile_fifo),
    ("item9-textfile-fifo", textfile_fifo),
    ("item12-state-fifo", state_fifo),
]
