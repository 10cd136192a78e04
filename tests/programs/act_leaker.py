#!/usr/bin/python3
"""A process that leaks memory at a steady rate, for tests/action_test.py.

It appends filled (resident) byte strings so its RSS grows by --rate KiB per
second, for --seconds seconds, then exits 0.  SIGTERM/SIGINT make it exit 0
at once, unless --ignore-term is given: then SIGTERM is ignored (only a
SIGKILL stops it), to test a signal action's kill_after.

    act_leaker.py [--rate KIB_PER_S] [--ignore-term] [--seconds N] [--tag WORD]
"""
import signal
import sys

import lwcommon

TICK = 0.1


def main():
    p = lwcommon.parser("Leak memory at a steady rate.")
    p.add_argument("--rate", type=float, default=1024.0, help="KiB per second (default 1024)")
    p.add_argument("--ignore-term", action="store_true", help="ignore SIGTERM")
    a = p.parse_args()
    lwcommon.on_signals()
    if a.ignore_term:
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
    kept, leaked = [], 0
    for now in lwcommon.run_clock(a.seconds, TICK):
        target = int(a.rate * 1024 * now)
        if target > leaked:
            kept.append(lwcommon.fill(target - leaked))
            leaked = target
    return 0


if __name__ == "__main__":
    sys.exit(main())
