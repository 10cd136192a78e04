#!/usr/bin/python3
"""psutil_poll.py -- the same sampling done the usual Python way, with psutil.

    /usr/bin/python3 bench/psutil_poll.py INTERVAL_MS SECONDS PID...

psutil.Process objects are created once; every interval, for each pid:
memory_info().rss, num_fds(), num_threads().  Rounds are paced to absolute
deadlines on the monotonic clock.

Prints one line:  RESULT tool=psutil cpu_s=... rounds=... samples=... ...
CPU is this process's own user+system time (resource.getrusage), whole run
including interpreter start-up and `import psutil`.
"""
import resource
import sys
import time

import psutil


def main():
    if len(sys.argv) < 4:
        sys.stderr.write("usage: psutil_poll.py INTERVAL_MS SECONDS PID...\n")
        return 2
    interval = int(sys.argv[1]) / 1000.0
    seconds = float(sys.argv[2])
    pids = [int(a) for a in sys.argv[3:]]
    rounds = int(seconds / interval + 0.5)
    procs = [psutil.Process(pid) for pid in pids]

    done = late = failures = 0
    sum_rss = sum_fds = sum_threads = 0
    min_fds = None
    nxt = time.monotonic()
    for r in range(rounds):
        for p in procs:
            try:
                rss = p.memory_info().rss
                fds = p.num_fds()
                threads = p.num_threads()
            except psutil.Error:
                failures += 1
                continue
            sum_rss += rss
            sum_fds += fds
            sum_threads += threads
            if min_fds is None or fds < min_fds:
                min_fds = fds
        done += 1
        nxt += interval
        if r + 1 < rounds:
            delay = nxt - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            else:
                late += 1

    ru = resource.getrusage(resource.RUSAGE_SELF)
    samples = done * len(procs)
    print("RESULT tool=psutil cpu_s=%.6f rounds=%d samples=%d procs=%d late_rounds=%d "
          "failures=%d min_fds=%s avg_threads=%.2f avg_fds=%.2f avg_rss_kib=%.1f psutil=%s"
          % (ru.ru_utime + ru.ru_stime, done, samples, len(procs), late, failures,
             min_fds, sum_threads / max(samples, 1), sum_fds / max(samples, 1),
             sum_rss / 1024.0 / max(samples, 1), psutil.__version__))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
