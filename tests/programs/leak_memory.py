#!/usr/bin/python3
"""A deliberately leaking program, for leakwatch's tests and demo.

It keeps appending filled (hence resident) byte strings to a module-level
list, so its RSS grows by about --rate KiB per second, for --seconds seconds;
then it keeps what it has and exits 0.  SIGTERM and SIGINT make it exit 0 at
once.  --tag takes any word and does nothing: it only puts a unique string on
the command line for a watch's `cmdline:` regex to match.

    leak_memory.py [--rate KIB_PER_SEC] [--seconds N] [--step SEC]
                   [--max-mib MIB] [--hold] [--tag WORD]
"""

import argparse
import os
import signal
import sys
import time

LEAKED = []  # the leak: never shrinks


def _stop(signum, frame):
    # Exit from the handler: the main loop only sleeps and appends, so there
    # is nothing to tidy up.  os._exit skips freeing the leaked memory.
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)


def main(argv=None):
    p = argparse.ArgumentParser(description="Leak memory at a steady rate.")
    p.add_argument("--rate", type=float, default=1024.0,
                   help="growth in KiB per second (default 1024)")
    p.add_argument("--seconds", type=float, default=600.0,
                   help="how long to run (default 600)")
    p.add_argument("--step", type=float, default=0.1,
                   help="seconds between two allocations (default 0.1)")
    p.add_argument("--max-mib", type=float, default=0.0,
                   help="stop growing (but keep running) at this many MiB "
                        "leaked; 0 = no cap (default)")
    p.add_argument("--hold", action="store_true",
                   help="after --seconds, stay alive (until a signal) "
                        "instead of exiting")
    p.add_argument("--tag", default="",
                   help="ignored; a marker for cmdline matching")
    args = p.parse_args(argv)
    if args.rate < 0 or args.seconds < 0 or args.step <= 0:
        p.error("--rate and --seconds must be >= 0, --step > 0")

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)

    print("leak_memory: pid %d, %g KiB/s for %g s" %
          (os.getpid(), args.rate, args.seconds), file=sys.stderr, flush=True)

    cap = int(args.max_mib * 1024 * 1024) if args.max_mib > 0 else None
    start = time.monotonic()
    end = start + args.seconds
    leaked = 0
    # Allocate against the clock rather than per tick, so a slow or
    # descheduled process still tracks the requested rate on average.
    while True:
        now = time.monotonic()
        if now >= end:
            break
        target = int(args.rate * 1024 * (now - start))
        if cap is not None:
            target = min(target, cap)
        if target > leaked:
            # b"x" * n writes every byte, so the pages are resident at once.
            LEAKED.append(b"x" * (target - leaked))
            leaked = target
        time.sleep(min(args.step, max(0.0, end - now)))

    if args.hold:
        while True:
            signal.pause()
    return 0


if __name__ == "__main__":
    sys.exit(main())
