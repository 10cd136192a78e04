#!/usr/bin/python3
"""A Python service holding about N live gc-tracked objects (lists, and
instances of a class of its own with a list each) for bench/inspect.py, looping on 1 ms
sleeps and measuring from inside how long it was kept from running: every
gap between two iterations over 20 ms is written to stdout as
`stall START_MONOTONIC SECONDS`.  It first says `ready N GC_SECONDS`, the
time of one full gc.collect() with N objects: the pause the process pays
anyway, the reference the inspection is set beside.

    inspect_holder.py N [MARKER]
"""
import gc
import sys
import time


class Item:
    def __init__(self, i):
        self.i = i
        self.tags = [i]


def main():
    n = int(sys.argv[1])
    keep = [([i] if i % 2 else Item(i)) for i in range(2 * n // 3)]   # about n tracked objects
    t = time.perf_counter()
    gc.collect()
    print("ready %d %.6f" % (len(gc.get_objects()), time.perf_counter() - t), flush=True)
    last = time.monotonic()
    while True:
        time.sleep(0.001)
        now = time.monotonic()
        if now - last > 0.020:
            print("stall %.6f %.6f" % (last, now - last), flush=True)
        last = now
    return len(keep)


if __name__ == "__main__":
    sys.exit(main())
