#!/usr/bin/python3
"""What an inspection (inspect: python) costs the process it looks into.

    /usr/bin/python3 bench/inspect.py --daemon build/leakwatchd --ctl build/leakwatchctl [--runs 3]

For 100,000 and 1,000,000 live objects, a CPython service
(bench/inspect_holder.py under /usr/bin/python3) is inspected --runs times
by a real leakwatchd (`leakwatchctl inspect PID --seconds 2`); each
inspection attaches twice.  Per attach it prints, side by side:

- the longest stall the process saw during that look, measured from inside
  it (the largest gap between two of its 1 ms loop iterations);
- the time the inspect script ran (its own `pause`), and how long the
  tracer held the thread it used (`held_usec`: the set-up of the call);
- the reference measured in the same run: one full gc.collect() in the same
  process with the same objects, a pause it pays anyway; and its longest
  stall over as long a time without an inspection.

Goal: at most 0.5 s of stall per attach, two attaches per inspection.
The daemon's own tick while inspections run is set beside its tick without
one (leakwatch_tick_seconds_max from its metrics textfile, interval 100ms,
one ordinary watch of 50 sleeping processes): an inspection must not
lengthen it, since nothing of it runs in the tick.  Prints a table and the
verdicts; fails only when the run itself went wrong.
"""

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
SCRIPT = os.path.join(ROOT, "share", "leakwatch", "inspect.py")
GOAL_S = 0.5


class Holder:
    def __init__(self, n, marker):
        self.p = subprocess.Popen(["/usr/bin/python3", os.path.join(HERE, "inspect_holder.py"), str(n), marker],
                                  stdout=subprocess.PIPE, text=True, start_new_session=True)
        self.stalls = []
        self.ready = None
        self.lock = threading.Lock()
        threading.Thread(target=self.read, daemon=True).start()

    def read(self):
        for line in self.p.stdout:
            w = line.split()
            with self.lock:
                if w[0] == "ready":
                    self.ready = (int(w[1]), float(w[2]))
                elif w[0] == "stall":
                    self.stalls.append((float(w[1]), float(w[2])))

    def worst(self, t0, t1):
        """The longest stall that started in [t0, t1] (monotonic)."""
        with self.lock:
            return max((s for t, s in self.stalls if t0 <= t <= t1), default=0.0)

    def stop(self):
        self.p.kill()
        self.p.wait()


def metric(path, name):
    try:
        with open(path) as f:
            for line in f:
                if line.startswith(name + " "):
                    return float(line.split()[1])
    except OSError:
        pass
    return None


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--daemon", required=True)
    ap.add_argument("--ctl", required=True)
    ap.add_argument("--runs", type=int, default=3)
    a = ap.parse_args()
    work = tempfile.mkdtemp(prefix="lw-bench-inspect-")
    os.chmod(work, 0o755)
    marker = "lwbenchinsp%d" % os.getpid()
    sleep_marker = "lwbenchsleep%d" % os.getpid()
    prom = os.path.join(work, "leakwatch.prom")
    cfg = os.path.join(work, "leakwatch.yaml")
    with open(cfg, "w") as f:
        f.write(f"""interval: 100ms
metrics: {{ textfile: "{prom}" }}
watches:
  - name: bench
    match: {{ cmdline: "{marker}" }}
    window: 10min
    inspect: python
  - name: sleepers
    match: {{ cmdline: "{sleep_marker}" }}
    window: 10min
""")
    env = dict(os.environ, RUNTIME_DIRECTORY=work, STATE_DIRECTORY=work, LEAKWATCH_INSPECT_SCRIPT=SCRIPT)
    sleepers = [subprocess.Popen(["/bin/sh", "-c", "sleep 3600; :", sleep_marker], start_new_session=True)
                for _ in range(50)]
    d = subprocess.Popen([os.path.abspath(a.daemon), "-c", cfg, "--log-target=json"], env=env,
                         stdout=open(os.path.join(work, "events.jsonl"), "w"), stderr=subprocess.DEVNULL,
                         start_new_session=True)
    rows, ticks = [], {}
    failed = False
    try:
        time.sleep(3)
        idle0 = (metric(prom, "leakwatch_tick_seconds_total"), metric(prom, "leakwatch_ticks_total"))
        time.sleep(5)
        idle1 = (metric(prom, "leakwatch_tick_seconds_total"), metric(prom, "leakwatch_ticks_total"))
        ticks["idle_max"] = metric(prom, "leakwatch_tick_duration_max_seconds")
        for n in (100_000, 1_000_000):
            h = Holder(n, marker)
            while h.ready is None and h.p.poll() is None:
                time.sleep(0.1)
            time.sleep(2)                          # watched, and a quiet stretch
            t0 = time.monotonic()
            time.sleep(4)
            base = h.worst(t0, time.monotonic())
            for run in range(a.runs):
                t_start = time.monotonic()
                r = subprocess.run([a.ctl, "inspect", str(h.p.pid), "--seconds", "2", "--json"], env=env,
                                   capture_output=True, text=True, timeout=120)
                t_end = time.monotonic()
                try:
                    res = json.loads(r.stdout)
                    pj = json.load(open(os.path.join(res["incident"], "python.json")))
                except (ValueError, OSError, KeyError):
                    print(f"inspection of {n} objects failed: {r.stdout.strip()} {r.stderr.strip()}")
                    failed = True
                    continue
                # the two looks: phase 1 near the start, phase 2 two seconds later
                mid = t_start + (t_end - t_start) / 2
                for ph, (u0, u1) in (("1", (t_start, mid)), ("2", (mid, t_end))):
                    rows.append((n, run + 1, ph, h.worst(u0, u1), pj[f"phase{ph}"]["pause"],
                                 pj["measured"]["attach"][f"phase{ph}"]["held_usec"] / 1e6, h.ready[1], base))
            h.stop()
        busy1 = (metric(prom, "leakwatch_tick_seconds_total"), metric(prom, "leakwatch_ticks_total"))
        ticks["busy_max"] = metric(prom, "leakwatch_tick_duration_max_seconds")
        if None not in idle0 + idle1 + busy1 and idle1[1] > idle0[1] and busy1[1] > idle1[1]:
            ticks["idle_mean"] = (idle1[0] - idle0[0]) / (idle1[1] - idle0[1])
            ticks["busy_mean"] = (busy1[0] - idle1[0]) / (busy1[1] - idle1[1])
    finally:
        d.terminate()
        d.wait()
        for s in sleepers:
            os.killpg(s.pid, 9)
            s.wait()
    print(f"{'objects':>9} {'run':>3} {'look':>4} {'stall seen':>10} {'script':>8} {'held':>9} "
          f"{'ref gc.collect':>14} {'ref no-inspect':>14}")
    for n, run, ph, stall, pause, held, gcs, base in rows:
        print(f"{n:>9,} {run:>3} {ph:>4} {stall:>9.3f}s {pause:>7.3f}s {held * 1e3:>7.3f}ms {gcs:>13.3f}s "
              f"{base:>13.3f}s")
    for n in (100_000, 1_000_000):
        worst = max((r[3] for r in rows if r[0] == n), default=None)
        if worst is not None:
            print(f"{n:,} objects: longest stall per attach {worst:.3f} s, goal {GOAL_S} s: "
                  f"{'met' if worst <= GOAL_S else 'MISSED'} (2 attaches per inspection)")
    if "idle_mean" in ticks:
        print(f"daemon tick (interval 100ms, 50 other processes watched): mean {ticks['idle_mean'] * 1e3:.3f} ms "
              f"and longest {ticks['idle_max'] * 1e3:.3f} ms before any inspection; mean "
              f"{ticks['busy_mean'] * 1e3:.3f} ms and longest {ticks['busy_max'] * 1e3:.3f} ms while they ran")
    else:
        print("daemon tick: no metrics read")
        failed = True
    return 1 if failed or not rows else 0


if __name__ == "__main__":
    sys.exit(main())
