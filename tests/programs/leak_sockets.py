#!/usr/bin/python3
"""Leak: file descriptors, through sockets that are never closed.

Every 1/--per-sec seconds a "connection" is opened as a socket.socketpair(),
a request and a reply go through it, and the pair is parked in a list of
open connections that nobody ever closes: two descriptors leaked each time.

    leak_sockets.py [--per-sec N] [--seconds N] [--log FILE] [--tag WORD]

--log amount: descriptors leaked so far.
"""
import socket
import sys

import lwcommon

OPEN = []


def main():
    p = lwcommon.parser("Leak socket descriptors.")
    p.add_argument("--per-sec", type=float, default=1.0, help="socket pairs per second (default 1)")
    a = p.parse_args()
    if a.per_sec <= 0:
        p.error("--per-sec must be > 0")
    lwcommon.on_signals()
    log = lwcommon.Progress(a.log)
    log(0)
    for _ in lwcommon.run_clock(a.seconds, 1.0 / a.per_sec):
        client, server = socket.socketpair()
        client.sendall(b"PING\n")
        server.recv(16)
        server.sendall(b"PONG\n")
        client.recv(16)
        OPEN.append((client, server))       # the missing close()
        log(2 * len(OPEN))
    return 0


if __name__ == "__main__":
    sys.exit(main())
