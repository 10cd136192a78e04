#!/usr/bin/python3
"""Leak: file handles opened and never closed.

Every 1/--per-sec seconds the program opens --path (created if missing),
reads a line from it, and parks the file object in a list nobody empties:
one descriptor leaked each time, always on the same path, which is what a
capture's fd summary must name.  A few healthy descriptors (a pipe, a
socket pair) stay open beside them.

    leak_files.py --path FILE [--per-sec N] [--seconds N] [--log FILE] [--tag WORD]

--log amount: descriptors leaked so far.
"""
import os
import socket
import sys

import lwcommon

HANDLES = []


def main():
    p = lwcommon.parser("Leak file descriptors on one path.")
    p.add_argument("--path", required=True, help="the file opened again and again")
    p.add_argument("--per-sec", type=float, default=5.0, help="opens per second (default 5)")
    a = p.parse_args()
    if a.per_sec <= 0:
        p.error("--per-sec must be > 0")
    with open(a.path, "a") as f:
        f.write("config line\n")
    keep = (os.pipe(), socket.socketpair())    # healthy, open all along
    lwcommon.on_signals()
    log = lwcommon.Progress(a.log)
    log(0)
    for _ in lwcommon.run_clock(a.seconds, 1.0 / a.per_sec):
        f = open(a.path)
        f.readline()
        HANDLES.append(f)                       # the missing close()
        log(len(HANDLES))
    del keep
    return 0


if __name__ == "__main__":
    sys.exit(main())
