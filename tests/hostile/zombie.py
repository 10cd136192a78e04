"""A leaker that hides by exiting its main thread (item 7): the thread-group
leader is a zombie (state Z, its memory and fd table released, its cmdline
empty) while another thread leaks memory and fds.  The process is alive: the
daemon must find it, sample it from a live thread, report its leak, signal
it, and say it is gone only once every thread has exited (a real zombie,
which the test leaves unreaped for a while, is gone).

Its incident capture shows the live thread's memory, argv and fds.

The program is tests/programs/zombie_leader.c, built with cc into the case
directory and run as uid 65534: once started before the daemon (so the
first scan finds the leader a zombie already) and once after (so the daemon
may find it alive and see its leader die)."""

import os
import subprocess
import time

import lwtest

RATE_KIB = 2048          # the leak: 2 MiB/s, touched
WINDOW_S = 8
LEAK_WITHIN_S = 25       # found + warm-up + a window + the fits, with slack


def build(case):
    exe = case.path("zombie_leader")
    cc = os.environ.get("CC", "cc")
    subprocess.run([cc, "-O2", "-Wall", "-pthread", "-o", exe, os.path.join(lwtest.PROGRAMS, "zombie_leader.c")],
                   check=True)
    os.chmod(exe, 0o755)
    return exe


def config(tag):
    return ("interval: 200ms\n"
            "watches:\n"
            "  - name: zombie\n"
            f"    match: {{ cmdline: {lwtest.yq(tag)} }}\n"
            "    warmup: 1s\n"
            f"    window: {WINDOW_S}s\n"
            "    rss: { growth: 20M/h }\n"
            "    on_leak: signal\n"
            "    signal: TERM\n"
            "    capture: true\n")


def stat_of(pid):
    """(state, threads) from /proc/PID/stat, or None once the pid is gone."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None
    return fields[0], int(fields[17])


def leader_exited(pid):
    s = stat_of(pid)
    return s is not None and s[0] == "Z" and s[1] > 1


def of_pid(d, pid, kind):
    return [e for e in d.events() if e.get("event") == kind and e.get("pid") == pid]


def check_sampled(case, d, pid, name):
    """The status shows the live thread's RSS and fds, and the kernel's
    thread count (the exited leader counts, as in /proc/PID/status)."""
    def sampled():
        st = d.ctl_json("status") or []
        row = next((r for r in st if r.get("pid") == pid), None)
        if row and row["fds"]["value"] >= 5 and row["rss"]["value"] >= 4 << 20:
            return row
        return None
    row = lwtest.wait_for(sampled, 5)
    if not row:
        st = d.ctl_json("status") or []
        case.fail(f"{name}: pid {pid} not sampled from its live thread: {[r for r in st if r.get('pid') == pid]}")
    elif row["threads"]["value"] != 3:
        case.fail(f"{name}: pid {pid}: {row['threads']['value']} threads, not 3 (the exited leader and two)")


def check_incident(case, leak, tag, name):
    """The capture shows the live thread's memory, argv and fds, and the
    process's threads."""
    inc = leak.get("incident")
    if not inc:
        case.fail(f"{name}: no incident captured: {leak}")
        return

    def text(f):
        try:
            with open(os.path.join(inc, f), errors="replace") as fh:
                return fh.read()
        except OSError as e:
            return f"({e})"
    want = {"status": "VmRSS:", "cmdline": tag, "fds": "/dev/null", "threads": "threads: 3"}
    for f, needle in want.items():
        if needle not in text(f):
            case.fail(f"{name}: incident {f} lacks {needle!r}: {text(f)[:120]!r}")


def one_run(case, exe, d_first, name):
    """One leaker and one daemon.  Program first: the leader is a zombie when
    the daemon starts.  Daemon first: the main thread waits until the
    process is found, alive, then exits."""
    tag = f"lw-zombie-{name}-{os.getpid()}"
    argv = [exe, "-r", str(RATE_KIB), "-f", "2", "-n", "2", "-t", "90"]
    d = None
    if d_first:
        d = case.daemon(config(tag), name=name)
        argv += ["-d", "3"]
    p = case.as_nobody(argv + [tag])
    pid = p.pid
    if d_first:
        found = case.wait_event(d, lambda e: e.get("event") == "found" and e.get("pid") == pid, 10)
        if not found:
            case.fail(f"{name}: never found pid {pid} while its main thread lived ({stat_of(pid)})")
            return
    if not lwtest.wait_for(lambda: leader_exited(pid), 5):
        case.fail(f"{name}: pid {pid}: the leader did not become a zombie with threads: {stat_of(pid)}")
        return
    if d is None:
        d = case.daemon(config(tag), name=name)
        found = case.wait_event(d, lambda e: e.get("event") == "found" and e.get("pid") == pid, 10)
        if not found:
            case.fail(f"{name}: never found pid {pid} (leader a zombie, {stat_of(pid)})")
            return
    check_sampled(case, d, pid, name)
    leak = case.wait_event(d, lambda e: e.get("event") == "leak" and e.get("pid") == pid, LEAK_WITHIN_S)
    gone_early = [e for e in of_pid(d, pid, "gone") if not leak or e.get("ts", "") <= leak.get("ts", "")]
    if gone_early:
        case.fail(f"{name}: said gone while pid {pid} lived ({stat_of(pid)})")
    if not leak:
        case.fail(f"{name}: no leak reported for pid {pid} within {LEAK_WITHIN_S}s")
        return
    if leak.get("metric") != "rss" or not leak.get("value") or leak["value"] < 8 << 20:
        case.fail(f"{name}: the leak is not the rss of the live thread: {leak}")
    check_incident(case, leak, tag, name)
    act = case.wait_event(d, lambda e: e.get("event") == "action" and e.get("pid") == pid, 5)
    if not act or act.get("action") != "signal" or act.get("result") != "ok":
        case.fail(f"{name}: no signal action ok for pid {pid}: {act}")
        return
    # The group dies; its leader stays a zombie (the test is its parent and
    # does not reap it yet): every thread has exited, so it is gone.
    if not lwtest.wait_for(lambda: stat_of(pid) in (("Z", 1), None), 5):
        case.fail(f"{name}: pid {pid} did not die after SIGTERM: {stat_of(pid)}")
        return
    if not case.wait_event(d, lambda e: e.get("event") == "gone" and e.get("pid") == pid, 3):
        case.fail(f"{name}: no gone for pid {pid} once all its threads had exited ({stat_of(pid)})")
    p.wait(timeout=5)
    if len(of_pid(d, pid, "found")) != 1 or len(of_pid(d, pid, "gone")) != 1:
        case.fail(f"{name}: pid {pid}: {len(of_pid(d, pid, 'found'))} found, {len(of_pid(d, pid, 'gone'))} gone")
    if not case.alive(d):
        case.fail(f"{name}: the daemon stopped answering")
    case.note(f"{name}: leak {leak['value'] / 1048576:.0f} MiB")


def zombie_leader(case):
    """A process whose main thread has exited is watched, judged and acted on."""
    exe = build(case)
    one_run(case, exe, False, "program-first")
    one_run(case, exe, True, "daemon-first")


CASES = [
    ("item7-zombie-leader", zombie_leader),
]
