"""Incident captures of a process that floods its fd table (item 8): 20,000
fds on a file whose path is about 3,780 bytes long, or on 20,000 distinct
such paths.  The daemon (capture: true, a limit that acts at once) must
capture it in bounded memory: its peak RSS (VmHWM) stays under PEAK_KB,
and the fds file still counts every descriptor.

Why 12 MiB: the daemon starts at about 4 MiB; a capture may then hold the
fd summary's kept targets (at most 512 of at most 4 KiB: 2 MiB), the text
of one file (cut at 1 MiB), a /proc file (1 MiB at most) and the thread
list, about 5 MiB more in the worst case, and malloc keeps some slack.
Measured: 4.0 MiB (one path) and 6.8 MiB (distinct paths); the old code,
one string per fd, peaked at 78 and 81 MiB.

Where the hard RLIMIT_NOFILE cannot be raised (no CAP_SYS_RESOURCE, as in
some containers), the holder opens as many fds as it allows, and says so.

And the text of those files: a newline in a path the process holds open, or
in a thread's name, must not start a row of its own (a forged "99999 fds on
/etc/shadow"); the old code wrote the path as it was and cut a thread's
name at its first newline."""

import os
import re
import resource

import lwtest

PATH_LEN = 3780
PEAK_KB = 12 * 1024
# 20,000 fds, or as many as the hard RLIMIT_NOFILE allows when it cannot
# be raised (without CAP_SYS_RESOURCE, in a container)
WANT_FDS = 20000
NOFILE = WANT_FDS + 1000

# argv: same|distinct DIR NAME N TAG.  Opens DIR/NAME N times (same), or
# DIR/NAME with its last 5 characters replaced by 00000..N-1 (distinct).
HOLDER = ("import os, sys, time\n"
          "how, d, name, n = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])\n"
          "for i in range(n):\n"
          "    p = name if how == 'same' else name[:-5] + '%05d' % i\n"
          "    os.open(os.path.join(d, p), os.O_RDONLY)\n"
          "time.sleep(300)\n")


def deep_dir(case):
    """A directory under the case's (root-owned, readable by all) such that
    DIR/NAME is PATH_LEN bytes for a NAME of 150 to 200 bytes: (DIR, NAME)."""
    d = case.path("deep")
    while PATH_LEN - len(d) - 1 > 200:
        d = os.path.join(d, "d" * min(250, PATH_LEN - len(d) - 1 - 150))
    os.makedirs(d, mode=0o755, exist_ok=True)
    name = "f" * (PATH_LEN - len(d) - 1)
    return d, name


def nofile_limit():
    """The RLIMIT_NOFILE a child may get: NOFILE, or the hard limit when
    that cannot be raised."""
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard == resource.RLIM_INFINITY or hard >= NOFILE or can_raise():
        return NOFILE
    return hard


def can_raise():
    """Whether a child may raise its hard RLIMIT_NOFILE to NOFILE."""
    try:
        pid = os.fork()
    except OSError:
        return False
    if pid == 0:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (NOFILE, NOFILE))
            os._exit(0)
        except (OSError, ValueError):
            os._exit(1)
    return os.waitpid(pid, 0)[1] == 0


def raise_nofile(limit):
    # in the child, still root, before setpriv: nobody keeps the limit
    return lambda: resource.setrlimit(resource.RLIMIT_NOFILE, (limit, limit))


def vm_kb(pid, key):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(key + ":"):
                return int(line.split()[1])
    return None


def fds_table(text):
    """(the first line's total, {kind: n}, [(count, kind, target)], the N of
    "(N more groups)" or 0) of an fds file."""
    lines = text.split("\n")
    m = re.fullmatch(r"open fds: (\d+) \((.*)\)", lines[0])
    if not m:
        return None, {}, [], 0
    kinds = {k: int(n) for k, n in re.findall(r"(\w+) (\d+)", m.group(2))}
    rows, more = [], 0
    hdr = next((i for i, ln in enumerate(lines) if ln.split() == ["COUNT", "KIND", "TARGET"]), None)
    for ln in lines[hdr + 1:] if hdr is not None else []:
        mm = re.fullmatch(r"\((\d+) more groups\)", ln)
        if mm:
            more = int(mm.group(1))
            continue
        parts = ln.split(None, 2)
        if len(parts) == 3 and parts[0].isdigit():
            rows.append((int(parts[0]), parts[1], parts[2]))
    return int(m.group(1)), kinds, rows, more


def flood(case, how):
    tag = f"hostile-fd-flood-{how}"
    limit = nofile_limit()
    n_fds = min(WANT_FDS, limit - 16)
    if n_fds < WANT_FDS:
        case.note(f"{n_fds} fds (the hard RLIMIT_NOFILE is {limit})")
    d, name = deep_dir(case)
    if how == "distinct":
        for i in range(n_fds):
            open(os.path.join(d, name[:-5] + "%05d" % i), "w").close()
    else:
        open(os.path.join(d, name), "w").close()
    p = case.as_nobody([lwtest.PYTHON, "-c", HOLDER, how, d, name, str(n_fds), tag], preexec_fn=raise_nofile(limit))

    def opened():
        try:
            return len(os.listdir(f"/proc/{p.pid}/fd")) >= n_fds
        except OSError:
            return False
    if not lwtest.wait_for(opened, 60):
        raise AssertionError(f"pid {p.pid} did not open its {n_fds} fds "
                             f"({open(case.path('proc-0.err')).read().strip()[-300:]})")
    d_ = case.daemon("interval: 200ms\n"
                     "watches:\n"
                     "  - name: flood\n"
                     f"    match: {{ cmdline: {lwtest.yq(tag)} }}\n"
                     "    fds: { max: 1000 }\n"
                     "    on_limit: alert\n"
                     "    capture: true\n")
    ev = case.wait_event(d_, lambda e: e.get("event") == "limit" and e.get("pid") == p.pid, 60)
    if not ev:
        case.fail(f"no limit event for pid {p.pid}")
        return
    hwm, rss = vm_kb(d_.pid, "VmHWM"), vm_kb(d_.pid, "VmRSS")
    case.note(f"daemon VmHWM {hwm} kB, VmRSS {rss} kB")
    if hwm is None or hwm > PEAK_KB:
        case.fail(f"the daemon's peak RSS is {hwm} kB after the capture, over {PEAK_KB} kB")
    if not case.alive(d_):
        case.fail("the daemon does not answer after the capture")
    inc = ev.get("incident")
    if not inc:
        case.fail(f"the limit event names no incident: {ev}")
        return
    with open(os.path.join(inc, "fds"), encoding="utf-8", errors="replace") as f:
        text = f.read()
    total, kinds, rows, more = fds_table(text)
    if total is None or total < n_fds or kinds.get("file", 0) < n_fds:
        case.fail(f"fds: first line {text.splitlines()[0][:200]!r}")
        return
    files = [r for r in rows if r[1] == "file"]
    if how == "same":
        top = rows[0] if rows else None
        if not top or top[0] != n_fds or top[2] != os.path.join(d, name):
            case.fail(f"fds: the first row is {str(top)[:200]}, not {n_fds} on the long path")
        if sum(r[0] for r in rows) != total or more:
            case.fail(f"fds: the rows add up to {sum(r[0] for r in rows)}, not {total}")
        return
    # distinct: each long path counts 1; the kept ones are shown (and the
    # "more groups" beyond the lines), every other fd in an "other" row
    other = [r for r in files if not r[2].startswith("/")]
    kept = [r for r in files if r[2].startswith("/")]
    case.note(f"{len(kept)} file rows, {more} more groups, other {[r[0] for r in other]}")
    if any(r[0] != 1 for r in kept):
        case.fail(f"fds: a distinct path counted {max(r[0] for r in kept)} times")
    if len(other) != 1:
        case.fail(f"fds: {len(other)} rows of other files, not one")
    elif other[0][0] + len(kept) + more != kinds["file"]:
        case.fail(f"fds: other files {other[0][0]} + {len(kept)} rows + {more} more groups "
                  f"is not the {kinds['file']} files of the first line")
    if len(text) > 4 << 20 or len(rows) > 510:
        case.fail(f"fds: {len(text)} bytes, {len(rows)} rows")


# argv: FILE N TAG.  Opens FILE, starts N threads that name themselves
# "w\n 99999  evil" (a comm of 15 bytes with a newline), then sleeps.
NAMER = ("import os, sys, threading, time\n"
         "fd = os.open(sys.argv[1], os.O_RDONLY)\n"
         "ready = threading.Barrier(int(sys.argv[2]) + 1)\n"
         "def run():\n"
         "    open('/proc/thread-self/comm', 'w').write('w\\n 99999  evil')\n"
         "    ready.wait()\n"
         "    time.sleep(300)\n"
         "for _ in range(int(sys.argv[2])):\n"
         "    threading.Thread(target=run, daemon=True).start()\n"
         "ready.wait()\n"
         "open('/proc/self/comm', 'w').write('main')\n"
         "time.sleep(300)\n")

FORGED_PATH = "x\n  99999  file        /etc/shadow"
N_THREADS = 40


def forged_lines(case):
    """A newline in an fd's path or a thread's name cannot forge a row of an incident's fds or threads file."""
    tag = "hostile-capture-forged-lines"
    # a directory named "x\n  99999  file        ", then etc/shadow in it
    os.makedirs(case.path(os.path.dirname(FORGED_PATH)), mode=0o755)
    path = case.write(FORGED_PATH, "")
    p = case.as_nobody([lwtest.PYTHON, "-c", NAMER, path, str(N_THREADS), tag])

    def named():
        try:
            with open(f"/proc/{p.pid}/comm") as f:
                return f.read() == "main\n"
        except OSError:
            return False
    if not lwtest.wait_for(named, 10):
        raise AssertionError(f"pid {p.pid} did not start its threads")
    d_ = case.daemon("interval: 200ms\n"
                     "watches:\n"
                     "  - name: forged\n"
                     f"    match: {{ cmdline: {lwtest.yq(tag)} }}\n"
                     "    threads: { max: 10 }\n"
                     "    on_limit: alert\n"
                     "    capture: true\n")
    ev = case.wait_event(d_, lambda e: e.get("event") == "limit" and e.get("pid") == p.pid, 20)
    if not ev or not ev.get("incident"):
        case.fail(f"no limit event with an incident for pid {p.pid}")
        return
    with open(os.path.join(ev["incident"], "fds"), encoding="utf-8", errors="replace") as f:
        fds = f.read()
    with open(os.path.join(ev["incident"], "threads"), encoding="utf-8", errors="replace") as f:
        threads = f.read()
    if "/etc/shadow" not in fds:
        case.fail("fds: the file with a newline in its name is not there")
    for ln in fds.split("\n"):
        if ln.endswith("/etc/shadow") and not ln.endswith("\\n  99999  file        /etc/shadow"):
            case.fail(f"fds: a forged row {ln!r}")
    # threads: the count per name, then one line per tid; a name is one line
    _, counts, tids = threads.split("\n\n", 2) if threads.count("\n\n") >= 2 else ("", "", "")
    count_rows = counts.split("\n")[1:]
    tid_rows = [ln for ln in tids.split("\n")[1:] if ln]
    if any("evil" in ln and "\\n" not in ln for ln in count_rows + tid_rows) or len(tid_rows) != N_THREADS + 1:
        case.fail(f"threads: {len(tid_rows)} tid lines for {N_THREADS + 1} threads, or a forged row: "
                  f"{threads[:300]!r}")
    elif count_rows != ["      1  main", f"{N_THREADS:7d}  w\\n 99999  evil"]:
        case.fail(f"threads: the count per name is {count_rows}")


def fd_flood(case):
    """20,000 fds on one 3,780-byte path: a capture in bounded memory that counts them all."""
    flood(case, "same")


def fd_flood_distinct(case):
    """20,000 fds on as many 3,780-byte paths: bounded groups and an "other" row that counts the rest."""
    flood(case, "distinct")


CASES = [
    ("item8-capture-fd-flood", fd_flood),
    ("item8-capture-fd-flood-distinct", fd_flood_distinct),
    ("item8-capture-forged-lines", forged_lines),
]
