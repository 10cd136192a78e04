#!/usr/bin/python3
"""bench/uwsgi_limits.py -- one RSS limit for leaking uWSGI workers, three
ways to keep it: leakwatch (its limit with a growth rule, or the limit
alone), uWSGI's --reload-on-rss, uWSGI's --evil-reload-on-rss (issue 17).
Not part of `make check`.

    /usr/bin/python3 bench/uwsgi_limits.py --daemon build/leakwatchd
        [--limit-mib 128] [--workers 2] [--rate 20] [--kib 256] [--ms 40]
        [--recycles 2] [--timeout 120] [--only leakwatch,limit,reload,evil]
        [--keep DIR]

Each run starts a fresh Debian uWSGI (tests/uwsgi_test.py's command line:
--plugin python3,http --master, --processes WORKERS behind its --http
router, --auto-procname --procname-prefix-spaced MARKER) on
tests/programs/uwsgi_app.py, and sends RATE requests/s, all on
/leak?kib=KIB&ms=MS (each keeps KIB KiB in the worker that serves it and
takes MS ms), from 4 client threads on loopback, until RECYCLES workers have
been recycled (or TIMEOUT s).  The runs (all four by default):

  leakwatch  uWSGI as it is (worker-reload-mercy 60, its default) and
             leakwatchd with the recipe's watch: cmdline "^MARKER uWSGI
             worker [0-9]+$", parent "^MARKER uWSGI master$", interval
             250ms, warmup 2s, window 20s, rss {max: LIMIT, growth: 100M/h,
             predict: 10m}, on_leak and on_limit: signal, signal HUP,
             kill_after 65s, cooldown 2s
  limit      the same with rss {max: LIMIT} alone: leakwatch acting on the
             limit itself (its next 250 ms sample over it), like the two below
  reload     uWSGI --reload-on-rss LIMIT (the worker checks its RSS after each
             request, once it has lived --min-worker-lifetime (10 s in
             Debian's 2.0.21, whatever its --help says), and exits
             gracefully)
  evil       uWSGI --evil-reload-on-rss LIMIT (the master reads the workers'
             RSS every --mem-collector-freq s and SIGKILLs one over it)

For each recycled worker (a worker of the run that exited while uWSGI ran):
the time from its start (/proc/PID/stat) to its exit (the first 0.1 s poll
without it), its peak RSS (the largest VmHWM read from /proc/PID/status),
and for leakwatch the event that acted (leak or limit).  For each run, the
requests served and failed.  A table at the end; exit status 1 when a run
went wrong (uWSGI or the daemon did not start, no recycle at all).
"""
import argparse
import os
import shutil
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.dont_write_bytecode = True
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "tests"))
import uwsgi_test as ut                      # noqa: E402
from lwtest import free_port, interrupt_on_term   # noqa: E402

MIB = 1024 * 1024


def vm_hwm(pid):
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return None


class HwmWatcher(ut.Watcher):
    """tests/uwsgi_test.py's watcher, plus each child's VmHWM."""

    def __init__(self, *args):
        super().__init__(*args)
        self.hwm = {}

    def poll_once(self):
        super().poll_once()
        with self.lock:
            kids = list(self.samples[-1][1]) if self.samples else []
        for pid in kids:
            h = vm_hwm(pid)
            if h is not None:
                with self.lock:
                    self.hwm[pid] = max(h, self.hwm.get(pid, 0))


def one_run(name, a, work):
    """Run one way: a dict with its recycles and requests (or 'error')."""
    work = os.path.join(work, name)
    os.makedirs(work, exist_ok=True)
    marker = f"lwul{os.getpid()}x{os.urandom(3).hex()}"
    port = free_port()
    extra = {"leakwatch": [], "limit": [], "reload": ["--reload-on-rss", str(a.limit_mib)],
             "evil": ["--evil-reload-on-rss", str(a.limit_mib)]}[name]
    argv = ut.uwsgi_argv(port, marker, extra)
    argv[argv.index("--processes") + 1] = str(a.workers)
    ut.WORKERS = a.workers
    reader = None
    watcher = load = None
    out = {"name": name, "recycles": [], "served": 0, "failed": 0, "error": None, "argv": argv}
    try:
        if name in ("leakwatch", "limit"):
            rule = [f"max: {a.limit_mib}M"] + (["growth: 100M/h", "predict: 10m"] if name == "leakwatch" else [])
            cfg = os.path.join(work, "leakwatch.yaml")
            ut.write_config(cfg, os.path.join(work, "state"), marker, rule,
                            kill_after_s=65, window_s=20, on_limit="signal")
            daemon, reader = ut.start_daemon(os.path.abspath(a.daemon), cfg, work, a.verbose,
                                             show=("leak", "limit", "action", "error") if a.verbose else ())
            if reader is None:
                out["error"] = "leakwatchd did not start: " + "".join(ut.tail(os.path.join(work, "daemon.stderr")))
                return out
        master = ut.start_uwsgi(argv, work, marker)
        load = ut.Load(port, rate=a.rate, clients=4, leak_every=1, leak_query=f"kib={a.kib}&ms={a.ms}")
        st = ut.proc_stat(master.pid)
        if st is None or not ut.wait_ready(master, marker, load):
            out["error"] = "uWSGI did not start: " + "".join(ut.tail(os.path.join(work, "uwsgi.log")))
            return out
        watcher = HwmWatcher(master.pid, st[2], marker)
        watcher.poll_once()
        watcher.start()
        t0 = time.time()
        threads = load.run(a.timeout)
        while time.time() < t0 + a.timeout and any(th.is_alive() for th in threads):
            kinds = watcher.kinds()
            with watcher.lock:
                alive = set(watcher.samples[-1][1]) if watcher.samples else set()
                gone = [p for p, k in kinds.items() if k.startswith("worker ") and p not in alive]
            if len(gone) >= a.recycles:
                break
            time.sleep(0.2)
        time.sleep(0.5)                          # the last exit's poll, the last answers
        load.stop.set()
        for th in threads:
            th.join(ut.REQ_TIMEOUT_S)
        watcher.stop.set()
        watcher.join(2)
        kinds = watcher.kinds()
        alive = set(watcher.samples[-1][1])
        events = {}
        if reader is not None:
            for _, e in reader.get():
                if e.get("event") in ("leak", "limit") and e.get("pid") not in events:
                    events[e["pid"]] = e
        for pid, k in sorted(kinds.items(), key=lambda kv: watcher.first[kv[0]][0]):
            if not k.startswith("worker ") or pid in alive:
                continue
            start = ut.start_wall(watcher.first[pid][1])
            gone = next(ts for ts, kids in watcher.samples if ts > watcher.last[pid] and pid not in kids)
            ev = events.get(pid)
            out["recycles"].append({"pid": pid, "slot": k, "lived": gone - start,
                                    "peak": watcher.hwm.get(pid, 0),
                                    "by": (f"{ev['event']} event" if ev else "-")})
        out["served"], out["failed"] = load.served, len(load.failed)
        out["failures"] = load.failed[:3]
        ulog = "".join(ut.tail(os.path.join(work, "uwsgi.log"), 100000))
        out["log"] = {k: ulog.count(k) for k in ("Gracefully killing worker", "DAMN ! worker",
                                                 "EVIL RELOAD", "reload-on-rss", "worker respawning too fast")}
        if not out["recycles"]:
            out["error"] = f"no worker recycled within {a.timeout}s"
        return out
    finally:
        if load is not None:
            load.stop.set()
        if watcher is not None:
            watcher.stop.set()
        for n in ("uwsgi", "daemon"):
            if n in ut.PROCS:
                ut.stop_group(ut.PROCS.pop(n), 10 if n == "uwsgi" else 3)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--daemon", required=True)
    ap.add_argument("--limit-mib", type=int, default=128)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--rate", type=float, default=20.0, help="requests/s in all, every one on /leak")
    ap.add_argument("--kib", type=int, default=256, help="KiB kept per request")
    ap.add_argument("--ms", type=int, default=40, help="time per request")
    ap.add_argument("--recycles", type=int, default=2, help="stop a run after this many recycles")
    ap.add_argument("--timeout", type=float, default=120.0, help="longest run, s")
    ap.add_argument("--only", default="leakwatch,limit,reload,evil")
    ap.add_argument("--keep", help="keep the logs and events in this directory")
    ap.add_argument("-v", "--verbose", action="store_true")
    a = ap.parse_args()
    interrupt_on_term()
    work = a.keep or tempfile.mkdtemp(prefix="leakwatch-uwsgi-limits-")
    os.makedirs(work, exist_ok=True)
    print(f"uwsgi-limits: limit {a.limit_mib} MiB, {a.workers} workers behind the --http router, "
          f"{a.rate:g} req/s on /leak ({a.kib} KiB, {a.ms} ms each): {a.rate * a.kib / 1024 / a.workers:.2f} "
          f"MiB/s per worker if shared evenly", flush=True)
    results, bad = [], False
    try:
        for name in a.only.split(","):
            t = time.time()
            r = one_run(name, a, work)
            results.append(r)
            print(f"uwsgi-limits: {name}: {time.time() - t:.0f}s"
                  + (f", ERROR {r['error']}" if r["error"] else "") + f"; uWSGI log {r.get('log')}", flush=True)
            bad |= bool(r["error"])
    except KeyboardInterrupt:
        print("uwsgi-limits: interrupted")
        bad = True
    finally:
        for n in list(ut.PROCS):
            ut.stop_group(ut.PROCS.pop(n), 3)
    print()
    print(f"{'run':<10} {'worker':<9} {'start->recycle s':>16} {'peak RSS MiB':>12} {'by':<12} "
          f"{'served':>6} {'failed':>6}")
    for r in results:
        rows = r["recycles"] or [None]
        for i, x in enumerate(rows):
            cells = (f"{x['slot']:<9} {x['lived']:16.1f} {x['peak'] / MIB:12.1f} {x['by']:<12}" if x
                     else f"{'-':<9} {'-':>16} {'-':>12} {'-':<12}")
            tail = f"{r['served']:6d} {r['failed']:6d}" if i == 0 else ""
            print(f"{r['name'] if i == 0 else '':<10} {cells} {tail}")
        for ft, path, why in r.get("failures", []):
            print(f"{'':<10} e.g. failed {path}: {why}")
    if not a.keep and not bad:
        shutil.rmtree(work, ignore_errors=True)
    else:
        print(f"(kept {work})")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
