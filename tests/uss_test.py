#!/usr/bin/python3
"""uss: and pss: against real processes: the real daemon reads
/proc/PID/smaps_rollup of the processes of a watch that judges them, and of
no other.

    /usr/bin/python3 tests/uss_test.py --daemon build/leakwatchd --ctl build/leakwatchctl
                                       [--keep DIR] [-v]

(`make uss` runs it; about 25 s.)  Two processes of tests/programs/grow_to.py
with a marker unique to the run:

- "grower", of a watch with `uss: { growth: 100M/h }` and `pss: { max: 1G }`
  (window 12 s, interval 250ms), touches 4 MiB of new private memory a
  second up to 160 MiB: `leakwatchctl status --json` shows its uss
  and pss rising between two looks, within what the kernel says of it
  (the runner's own read of its smaps_rollup), uss at most its rss; then a
  `leak` event with "metric": "uss" and the uss slope at least the rule's;
  `history --csv` ends its header with uss,pss; the Prometheus families
  leakwatch_process_uss_bytes and leakwatch_smaps_reads_total have
  samples;
- "plain", of a watch with an rss rule only, holds 8 MiB: no uss or pss
  object in the status, no uss series, `plot --metric uss` refused, no event
  about uss or pss.

Run as root, a second daemon runs as nobody beside the first, with the
same config: smaps_rollup of the runner's processes is closed to it (it
needs PTRACE_MODE_READ), so one warning with "metric": "uss" for the
grower, its uss and pss `unreadable` in the status, its rss still read,
and no leak event about uss.

Every status and event line is checked against the shipped schemas.
"""
import os
import sys
import time

sys.dont_write_bytecode = True     # importing lwtest must leave no tests/__pycache__
from lwtest import (PROGRAMS, PYTHON, Prog, Daemon, free_port, of, server_test_main,  # noqa: E402
                    wait_for)

MIB = 1024 * 1024
PROCS = {}


def smaps(pid):
    """(uss, pss) bytes of pid as its smaps_rollup says, or None."""
    try:
        with open(f"/proc/{pid}/smaps_rollup") as f:
            kb = {}
            for line in f:
                k, _, rest = line.partition(":")
                if rest.strip().endswith("kB"):
                    kb[k] = int(rest.split()[0])
    except (OSError, ValueError):
        return None
    return ((kb.get("Private_Clean", 0) + kb.get("Private_Dirty", 0) + kb.get("Private_Hugetlb", 0)) * 1024,
            kb.get("Pss", 0) * 1024)


def config(tag, port):
    return f"""interval: 250ms
metrics:
  listen: 127.0.0.1:{port}
watches:
  - name: grower
    match: {{ cmdline: "grow_to\\\\.py .*--tag {tag}-g( |$)" }}
    window: 12s
    uss: {{ growth: 100M/h }}
    pss: {{ max: 1G }}
  - name: plain
    match: {{ cmdline: "grow_to\\\\.py .*--tag {tag}-p( |$)" }}
    window: 12s
    rss: {{ max: 1G }}
"""


def status_of(d, pid):
    for o in d.ctl_json("status") or []:
        if o.get("pid") == pid:
            return o
    return None


def run(a, work, rep):
    tag = f"uss{os.getpid()}x{int(time.time()) % 100000}"
    port = free_port()
    cfg = os.path.join(work, "leakwatch.yaml")
    with open(cfg, "w") as f:
        f.write(config(tag, port))
    os.chmod(work, 0o755)
    os.chmod(cfg, 0o644)
    d = Daemon("daemon", a.daemon, cfg, work, ctl=a.ctl).start()
    PROCS["daemon"] = d.proc
    if not rep.check(d.wait_started(5, socket=True), "daemon started"):
        return
    nobody = None
    if os.geteuid() == 0:
        nobody = Daemon("nobody", a.daemon, cfg, work, ctl=a.ctl, user=("nobody", "nogroup")).start()
        PROCS["nobody"] = nobody.proc
        if not rep.check(nobody.wait_started(5, socket=True), "a second daemon started, as nobody"):
            nobody = None
    else:
        print("note: not root: the unreadable case is not checked", flush=True)
    grow = os.path.join(PROGRAMS, "grow_to.py")
    g = Prog("grower", [PYTHON, grow, "--what", "rss", "--upto", "160", "--per-sec", "1", "--seconds", "60",
                        "--tag", f"{tag}-g"], work).start()
    p = Prog("plain", [PYTHON, grow, "--what", "rss", "--upto", "8", "--per-sec", "4", "--seconds", "60",
                       "--tag", f"{tag}-p"], work).start()
    PROCS["grower"], PROCS["plain"] = g.proc, p.proc

    first = wait_for(lambda: (lambda o: o if o and "uss" in o and o["uss"]["value"] else None)(status_of(d, g.pid)),
                     6)
    rep.check(first is not None, "status: the grower has a uss object", str(first)[:200])
    time.sleep(2.5)
    second = status_of(d, g.pid)
    own = smaps(g.pid)
    if first and second and "uss" in second and own:
        u1, u2, p2, r2 = first["uss"]["value"], second["uss"]["value"], second["pss"]["value"], second["rss"]["value"]
        rep.check(u2 >= u1 + 6 * MIB, "status: its uss rises",
                  f"{u1 / MIB:.1f} MiB, then {u2 / MIB:.1f} MiB 2.5 s later")
        rep.check(second["pss"]["value"] > first["pss"]["value"] and second["pss"]["limit"] == 1024 * MIB,
                  "status: its pss rises, under its max", f"{p2 / MIB:.1f} MiB, max {second['pss']['limit']}")
        rep.check(u2 <= r2 and u2 <= own[0] + 4 * MIB and u2 >= own[0] - 24 * MIB, "status: uss within rss and the kernel's",
                  f"uss {u2 / MIB:.1f} MiB, rss {r2 / MIB:.1f} MiB, smaps_rollup now {own[0] / MIB:.1f} MiB")
    else:
        rep.check(False, "status: its uss rises", f"{second}, {own}")
    plain = status_of(d, p.pid)
    rep.check(plain is not None and "rss" in plain and "uss" not in plain and "pss" not in plain,
              "status: no uss or pss for a watch without their rules", str(sorted(plain or {})))
    r = d.ctl_run("history", str(g.pid), "--csv")
    rep.check(r.returncode == 0 and r.stdout.splitlines()[0].strip().endswith(",leak,limit,uss,pss"),
              "history --csv: uss, pss columns for the grower", r.stdout[:80])
    r = d.ctl_run("plot", str(p.pid), "--metric", "uss")
    rep.check(r.returncode != 0 and "judges neither uss nor pss" in r.stderr, "plot --metric uss refused for plain",
              r.stderr.strip()[:120])

    leak = wait_for(lambda: [e for e in of(d.events(), "leak", "grower") if e.get("metric") == "uss"], 25, 0.25)
    if rep.check(bool(leak), "a leak event with metric uss", f"after {d.elapsed():.1f} s"):
        e = leak[0]
        rep.check(e.get("pid") == g.pid and e.get("slope_per_hour", 0) >= 100 * MIB, "  of the grower, fast enough",
                  f"pid {e.get('pid')}, {e.get('slope_per_hour', 0) / MIB:.0f} MiB/h: {e.get('message', '')[:120]}")
    try:
        import urllib.request
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as resp:
            text = resp.read().decode()
    except OSError as ex:
        text = f"scrape failed: {ex}"
    uss_lines = [ln for ln in text.splitlines() if ln.startswith("leakwatch_process_uss_bytes{")]
    reads = [ln for ln in text.splitlines() if ln.startswith("leakwatch_smaps_reads_total ")]
    rep.check(len(uss_lines) == 1 and f'pid="{g.pid}"' in uss_lines[0] and reads and float(reads[0].split()[1]) > 10,
              "metrics: a uss series for the grower alone, reads counted", f"{uss_lines} {reads}")
    secs = [ln for ln in text.splitlines() if ln.startswith("leakwatch_smaps_seconds_total ")]
    if reads and secs and float(reads[0].split()[1]) > 0:
        n, s = float(reads[0].split()[1]), float(secs[0].split()[1])
        print(f"note: {n:.0f} smaps_rollup reads, {s / n * 1e6:.0f} us each on average", flush=True)
    others = [e for e in d.events() if e.get("metric") in ("uss", "pss") and
              not (e.get("event") == "leak" and e.get("watch") == "grower" and e.get("metric") == "uss")]
    rep.check(not others, "no other event about uss or pss", "; ".join(e.get("message", "")[:100] for e in others[:3]))
    if nobody:
        check_unreadable(nobody, g.pid, rep)
    alive = d.proc.poll() is None
    rc = d.stop()
    PROCS.pop("daemon", None)
    rep.check(alive and rc == 0, "daemon ran throughout, exit 0 on SIGTERM", f"exit {rc}")


def check_unreadable(d, pid, rep):
    """The daemon running as nobody: smaps_rollup of root's process closed."""
    o = status_of(d, pid)
    rep.check(o is not None and o.get("uss", {}).get("verdict") == "unreadable" and
              o.get("pss", {}).get("verdict") == "unreadable" and o.get("rss", {}).get("verdict") != "unreadable"
              and (o.get("rss", {}).get("value") or 0) > 0,
              "as nobody: uss and pss unreadable, rss read", str({k: (o or {}).get(k) for k in ("rss", "uss")})[:200])
    ev = d.events()
    warn = [e for e in of(ev, "error", "grower", pid) if e.get("metric") == "uss"]
    rep.check(len(warn) == 1 and "cannot read its smaps_rollup" in warn[0].get("message", ""),
              "as nobody: one warning, metric uss", warn[0].get("message", "")[-120:] if warn else f"{len(warn)}")
    leaks = [e for e in ev if e.get("metric") in ("uss", "pss") and e.get("event") != "error"]
    rep.check(not leaks, "as nobody: no uss or pss verdict", "; ".join(e.get("message", "")[:80] for e in leaks[:2]))
    rc = d.stop()
    PROCS.pop("nobody", None)
    rep.check(rc == 0, "as nobody: exit 0 on SIGTERM", f"exit {rc}")


def add_args(ap):
    ap.add_argument("--ctl", required=True, help="path to leakwatchctl")


if __name__ == "__main__":
    sys.exit(server_test_main("uss", __doc__, run, PROCS, 60, add_args=add_args))
