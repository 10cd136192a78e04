#!/usr/bin/python3
"""No leak: a connection pool that grows on demand up to a bound.

Demand opens connections (socket pairs, two descriptors each) quickly at
first, then ever more rarely as the pool nears --bound connections (the pool
size approaches the bound as 1 - exp(-t / --tau)).  Once there it stays, but
it recycles: now and then a connection is closed as stale and a fresh one
opened, so the descriptor count wobbles around the bound.

    ok_fd_pool.py [--bound N] [--tau S] [--recycle-per-sec N]
                  [--seconds N] [--log FILE] [--tag WORD]

--log amount: descriptors held by the pool.
"""
import math
import random
import socket
import sys

import lwcommon

TICK = 0.1


def main():
    p = lwcommon.parser("A bounded, recycling pool of socket connections.")
    p.add_argument("--bound", type=int, default=24, help="most connections (default 24)")
    p.add_argument("--tau", type=float, default=3.0, help="fill time constant, s (default 3)")
    p.add_argument("--recycle-per-sec", type=float, default=2.0,
                   help="stale connections replaced per second (default 2)")
    a = p.parse_args()
    if a.bound <= 0 or a.tau <= 0 or a.recycle_per_sec < 0:
        p.error("bad --bound, --tau or --recycle-per-sec")
    lwcommon.on_signals()
    log = lwcommon.Progress(a.log)
    rng = random.Random(13)
    pool = []
    closing = []   # closed a tick after being retired, so the count wobbles
    for now in lwcommon.run_clock(a.seconds, TICK):
        changed = bool(closing)
        for pair in closing:
            for s in pair:
                s.close()
        closing = []
        want = min(a.bound, int(math.ceil(a.bound * (1 - math.exp(-now / a.tau)))))
        while len(pool) < want:
            pool.append(socket.socketpair())
            changed = True
        if pool and rng.random() < a.recycle_per_sec * TICK:
            closing.append(pool.pop(rng.randrange(len(pool))))
            pool.append(socket.socketpair())
            changed = True
        if changed:
            log(2 * (len(pool) + len(closing)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
