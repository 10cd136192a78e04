#!/usr/bin/python3
"""For the timing figures: a service holding about --objects gc-tracked
objects (records of a class of its own, each with a dict of attributes and
a list: three tracked objects a record), doing the common request noise, and keeping --grow more records a
second (a slow leak; 0: none).  Once the objects are made it creates the file
"ready" in the scratch directory (--dir / $INSPECT_DIR).

    inspect_bulk.py --objects N [--grow K] [--seconds S] [--rate R] [--iterations N]
"""
import gc
import os
import sys

import inspect_common


class Record:
    __slots__ = ("key", "attrs", "hist")

    def __init__(self, i):
        self.key = i
        self.hist = [i]
        self.attrs = {"id": i, "hist": self.hist}


def main():
    p = inspect_common.parser(__doc__)
    p.add_argument("--objects", type=int, default=1000000)
    p.add_argument("--grow", type=float, default=0.0)
    a = p.parse_args()
    base = len(gc.get_objects())
    held = [Record(i) for i in range(max(0, a.objects - base) // 3)]
    with open(os.path.join(inspect_common.scratch(a), "ready"), "w"):
        pass
    noise = inspect_common.Noise()
    per = a.grow / a.rate if a.rate > 0 else 0.0
    owed = [0.0]

    def step(i):
        owed[0] += per
        while owed[0] >= 1.0:
            held.append(Record(len(held)))
            owed[0] -= 1.0
        return noise(i) ^ len(held)
    return inspect_common.run(a, step)


if __name__ == "__main__":
    sys.exit(main())
