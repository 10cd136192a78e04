#!/usr/bin/python3
"""bench/celery_limits.py -- leakwatch against Celery's own
--max-memory-per-child on the same leak, one limit of 128 MiB (issue 17).

    /usr/bin/python3 bench/celery_limits.py --daemon build/leakwatchd
        [--only NAME,...] [--seconds 60] [--keep DIR]

Each run starts its own redis-server on loopback and a Celery worker
(Debian's python3-celery 5.2, prefork, 3 children; tests/programs/celery_app.py)
and sends TASKS_PER_S (9) tasks a second for SECONDS, each keeping LEAK_KIB
(1024) KiB in its child and taking 60 to 300 ms.  The runs:

  max-memory-per-child  celery worker --max-memory-per-child 131072 (KiB),
                        Celery's defaults otherwise; no leakwatch
  lw-max                leakwatch rss max 128M (on_limit), SIGURG and the
                        app's hook (LWCELERY_MODE=retire)
  lw-recipe             leakwatch rss max 128M + growth 100M/h + predict 1m
                        (on_leak and on_limit), SIGURG and the hook: the recipe
  lw-term-acks-late     the same rules, SIGTERM, task_acks_late and
                        task_reject_on_worker_lost
  lw-term-defaults      the same rules, SIGTERM, Celery's defaults

leakwatch: interval 250ms, warmup 2s, window 8s, kill_after 10s, cooldown 0
and max_actions 1000/h (so it acts on every child as soon as it may, as
Celery does).
A thread samples the pool children every 100 ms (VmRSS and VmHWM, the peak
the kernel kept).  For every child that was replaced during the run: its
life (from its start time in /proc to the first sample without it), its
peak RSS (its last VmHWM), and how long it stayed over 128 MiB before it
went.  Then the tasks: sent, SUCCESS, FAILURE (WorkerLostError: lost),
without a result after DRAIN_S (missing), and the tasks that started more
than once (counted by the app: cut short, given back to the broker and run
again from the start).  Prints one table.
"""

import argparse
import json
import os
import random
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import uuid

HERE = os.path.dirname(os.path.abspath(__file__))
# bench/ holds an inspect.py of its own, which would hide the standard
# library's from Celery: tests/ instead of bench/ on the path
sys.path[:] = [p for p in sys.path if os.path.abspath(p or ".") != HERE]
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "tests"))
sys.dont_write_bytecode = True
import celery_test as ct                     # noqa: E402  (start_redis, start_worker, results, ...)
from lwtest import interrupt_on_term        # noqa: E402

LIMIT = 128 * 1024 * 1024
TASKS_PER_S = 9.0
LEAK_KIB = 1024
TASK_MS = (60, 300)
DRAIN_S = 20
CLK_TCK = os.sysconf("SC_CLK_TCK")

RUNS = {
    "max-memory-per-child": dict(mode="plain", extra=["--max-memory-per-child", str(LIMIT // 1024)], lw=None),
    "lw-max": dict(mode="retire", extra=[], lw=dict(signal="URG", rules=["max: 128M"], on="limit")),
    "lw-recipe": dict(mode="retire", extra=[], lw=dict(signal="URG", rules=["max: 128M", "growth: 100M/h",
                                                                            "predict: 1m"], on="both")),
    "lw-term-acks-late": dict(mode="acks-late", extra=[], lw=dict(signal="TERM", rules=[
        "max: 128M", "growth: 100M/h", "predict: 1m"], on="both")),
    "lw-term-defaults": dict(mode="plain", extra=[], lw=dict(signal="TERM", rules=[
        "max: 128M", "growth: 100M/h", "predict: 1m"], on="both")),
}


def btime():
    with open("/proc/stat") as f:
        for line in f:
            if line.startswith("btime "):
                return int(line.split()[1])
    return 0


def status_kib(pid):
    out = {}
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                k, _, v = line.partition(":")
                if k in ("VmRSS", "VmHWM"):
                    out[k] = int(v.split()[0]) * 1024
    except (OSError, ValueError, IndexError):
        return None
    return out


class Sampler(threading.Thread):
    def __init__(self, main, child_re):
        super().__init__(daemon=True)
        self.main, self.child_re = main, child_re
        self.stop = threading.Event()
        self.kids = {}        # pid -> dict(start, last_seen, gone, hwm, over)
        self.bt = btime()

    def run(self):
        while not self.stop.is_set():
            t = time.time()
            live = set()
            for pid, start in ct.live_children(self.main).items():
                if not self.child_re.search(ct.proc_cmdline(pid) or ""):
                    continue
                live.add(pid)
                k = self.kids.setdefault(pid, dict(start=self.bt + start / CLK_TCK, gone=None, hwm=0, over=None))
                st = status_kib(pid)
                if st:
                    k["hwm"] = max(k["hwm"], st.get("VmHWM", 0))
                    if k["over"] is None and st.get("VmRSS", 0) > LIMIT:
                        k["over"] = t
            for pid, k in self.kids.items():
                if k["gone"] is None and pid not in live:
                    k["gone"] = t
            self.stop.wait(0.1)


def lw_config(path, state, child, parent, lw):
    on = lw["on"]
    lines = [f"interval: {ct.INTERVAL_MS}ms", f"state_dir: {ct.yaml_str(state)}", "watches:",
             "  - name: celery-pool", "    match:", f"      cmdline: {ct.yaml_str(child)}", "      parent:",
             f"        cmdline: {ct.yaml_str(parent)}", f"    warmup: {ct.WARMUP_S}s",
             f"    window: {ct.WINDOW_S}s", "    rss:"] + [f"      {r}" for r in lw["rules"]] + [
        f"    on_leak: {'signal' if on == 'both' else 'alert'}", "    on_limit: signal",
        f"    signal: {lw['signal']}", "    kill_after: 10s", "    cooldown: 0", "    max_actions: 1000/h"]
    with open(path, "w") as f:
        f.write("\n".join(lines) + "\n")


def one_run(name, spec, daemon_path, seconds, work):
    os.makedirs(work, exist_ok=True)
    procs = {}
    marker = f"lwcb{os.getpid()}x{os.urandom(3).hex()}"
    child_pat, parent_pat = ct.patterns(marker, ct.has_setproctitle())
    child_re = re.compile(child_pat)
    sampler = None
    try:
        rproc, port, client = ct.start_redis(work, procs)
        if rproc is None:
            raise RuntimeError(f"redis-server: {client}")
        broker = f"redis://127.0.0.1:{port}/0"
        events = os.path.join(work, "events.jsonl")
        if spec["lw"]:
            cfg, state = os.path.join(work, "leakwatch.yaml"), os.path.join(work, "state")
            os.makedirs(state, exist_ok=True)
            lw_config(cfg, state, child_pat, parent_pat, spec["lw"])
            env = dict(os.environ, RUNTIME_DIRECTORY=work, STATE_DIRECTORY=state)
            with open(events, "w") as out, open(os.path.join(work, "daemon.stderr"), "w") as err:
                procs["daemon"] = subprocess.Popen([daemon_path, "-c", cfg, "--log-target=json"],
                                                   stdin=subprocess.DEVNULL, stdout=out, stderr=err, env=env,
                                                   start_new_session=True)
        main, clog = ct.start_worker(work, procs, broker, marker, mode=spec["mode"], extra=spec["extra"])
        end = time.time() + ct.BOOT_WAIT_S
        while time.time() < end and main.poll() is None:
            if any("ready." in line for line in ct.tail(clog, 200)):
                break
            time.sleep(0.1)
        else:
            raise RuntimeError("worker did not start: " + "".join(ct.tail(clog)))
        sampler = Sampler(main.pid, child_re)
        sampler.start()
        from celery import Celery
        sender = Celery("lwbench", broker=broker, backend=broker)
        sender.conf.update(task_serializer="json", accept_content=["json"])
        ids = [str(uuid.uuid4()) for _ in range(int(seconds * TASKS_PER_S))]
        rng = random.Random(17)
        t_load = time.time()
        sent = {}
        for i, tid in enumerate(ids):
            at = t_load + i / TASKS_PER_S + rng.uniform(0, 0.5 / TASKS_PER_S)
            if at > time.time():
                time.sleep(at - time.time())
            sender.send_task("celery_app.leak", args=[LEAK_KIB, rng.randint(*TASK_MS)], task_id=tid)
            sent[tid] = time.time()
        t_sent = time.time()
        status = {}
        while time.time() < t_sent + DRAIN_S:
            status = ct.results(client, ids)
            if all(s in ("SUCCESS", "FAILURE") for s in status.values()):
                break
            time.sleep(0.5)
        sampler.stop.set()
        sampler.join(2)
        starts = {k.decode(): int(v) for k, v in client.hgetall("lwcelery:starts").items()}
        actions = []
        if spec["lw"]:
            for line in open(events):
                try:
                    e = json.loads(line)
                except ValueError:
                    continue
                if e.get("event") == "action":
                    actions.append(e)
        replaced = [k for k in sampler.kids.values() if k["gone"] is not None and k["gone"] < t_sent + DRAIN_S]
        lives = sorted(k["gone"] - k["start"] for k in replaced)
        peaks = sorted(k["hwm"] for k in replaced)
        overs = sorted(k["gone"] - k["over"] for k in replaced if k["over"] is not None)
        vals = list(status.values())
        return dict(
            name=name, replaced=len(replaced), lives=lives, peaks=peaks, overs=overs, over_n=len(overs),
            sent=len(ids), ok=vals.count("SUCCESS"), failure=vals.count("FAILURE"),
            missing=sum(1 for v in vals if v not in ("SUCCESS", "FAILURE")),
            twice=sum(1 for n in starts.values() if n > 1), starts=sum(starts.values()),
            kills=sum(1 for e in actions if "SIGKILL" in (e.get("message") or "")),
            all_peak=max((k["hwm"] for k in sampler.kids.values()), default=0))
    finally:
        if sampler is not None:
            sampler.stop.set()
        for n in ("celery", "daemon", "redis"):
            if n in procs:
                ct.stop_group(procs.pop(n), 12 if n == "celery" else 3)


def med(xs):
    return xs[len(xs) // 2] if xs else None


def fmt(v, spec, unit=""):
    return "-" if v is None else format(v, spec) + unit


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--daemon", required=True)
    ap.add_argument("--only", help="comma-separated run names: " + ",".join(RUNS))
    ap.add_argument("--seconds", type=float, default=60)
    ap.add_argument("--keep", help="keep each run's logs under this directory")
    a = ap.parse_args()
    interrupt_on_term()
    names = a.only.split(",") if a.only else list(RUNS)
    top = a.keep or tempfile.mkdtemp(prefix="leakwatch-celery-bench-")
    rows = []
    try:
        for n in names:
            print(f"celery_limits: {n} ...", flush=True)
            r = one_run(n, RUNS[n], os.path.abspath(a.daemon), a.seconds, os.path.join(top, n))
            rows.append(r)
            print(f"celery_limits: {n}: {json.dumps({k: v for k, v in r.items() if not isinstance(v, list)})}",
                  flush=True)
    finally:
        if not a.keep:
            shutil.rmtree(top, ignore_errors=True)
    mib = 1024 * 1024
    print(f"\n{a.seconds:g} s at {TASKS_PER_S:g} tasks/s, {LEAK_KIB} KiB and {TASK_MS[0]}-{TASK_MS[1]} ms a task, "
          f"3 children, limit 128 MiB")
    hdr = (f"{'run':<22} {'recycled':>8} {'life s (min/med/max)':>22} {'peak MiB (med/max)':>19} "
           f"{'over 128M s (med/max)':>22} {'sent':>5} {'ok':>5} {'lost':>5} {'missing':>7} {'started twice':>13} "
           f"{'SIGKILL':>7}")
    print(hdr)
    for r in rows:
        life = (f"{fmt(r['lives'][0] if r['lives'] else None, '.1f')}/{fmt(med(r['lives']), '.1f')}/"
                f"{fmt(r['lives'][-1] if r['lives'] else None, '.1f')}")
        peak = f"{fmt(med(r['peaks']) and med(r['peaks']) / mib, '.0f')}/{fmt(r['all_peak'] / mib, '.0f')}"
        over = (f"{fmt(med(r['overs']), '.2f')}/{fmt(r['overs'][-1] if r['overs'] else None, '.2f')}"
                f" ({r['over_n']})")
        print(f"{r['name']:<22} {r['replaced']:>8} {life:>22} {peak:>19} {over:>22} {r['sent']:>5} {r['ok']:>5} "
              f"{r['failure']:>5} {r['missing']:>7} {r['twice']:>13} {r['kills']:>7}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
