#!/usr/bin/python3
"""A late leak: steady for a while, then it starts leaking.

For --steady seconds the program only churns a little memory (allocates and
frees a few hundred KiB a tick); then a code path that leaks is switched on
and memory grows by --rate KiB/s until the end.

    leak_late.py [--steady S] [--rate KIB_PER_S] [--seconds N] [--log FILE] [--tag WORD]

--log amount: bytes leaked so far; the record of the onset has "onset": true.
"""
import random
import sys

import lwcommon

LEAKED = []
TICK = 0.1


def main():
    p = lwcommon.parser("Steady at first, leaking later.")
    p.add_argument("--steady", type=float, default=10.0, help="seconds before the leak (default 10)")
    p.add_argument("--rate", type=float, default=1024.0, help="growth after that, KiB/s (default 1024)")
    a = p.parse_args()
    if a.steady < 0 or a.rate <= 0:
        p.error("--steady must be >= 0, --rate > 0")
    lwcommon.on_signals()
    log = lwcommon.Progress(a.log)
    rng = random.Random(7)
    leaked = 0
    onset = False
    for now in lwcommon.run_clock(a.seconds, TICK):
        scratch = lwcommon.fill(rng.randint(64, 512) * 1024)
        del scratch
        if now < a.steady:
            continue
        if not onset:
            onset = True
            log(0, onset=True)
        target = int(a.rate * 1024 * (now - a.steady))
        if target > leaked:
            LEAKED.append(lwcommon.fill(target - leaked))
            leaked = target
            log(leaked)
    return 0


if __name__ == "__main__":
    sys.exit(main())
