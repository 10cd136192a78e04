#!/usr/bin/python3
"""Leak: file handles (and sockets) never closed (root cause 4, "unreleased
file handles").  Every 4th request opens one of four "template" files
under the scratch directory (--dir / $INSPECT_DIR) to read it and keeps the
open file in a per-template list it never closes; every 8th request also
opens a TCP connection to a local listener and keeps it.  The files are
opened on the line marked `leak-site`, the sockets on `leak-site-socket`.

    inspect_files.py [--seconds S] [--rate R] [--iterations N] [--dir DIR]
"""
import os
import resource
import socket
import sys
import zlib

import inspect_common

OPEN = {}               # template name -> the files opened for it, never closed
CONNS = []


def read_template(d, name):
    f = open(os.path.join(d, name), "rb")  # leak-site
    OPEN.setdefault(name, []).append(f)
    return f.read()


def handle(noise, d, port, srv, i):
    value = noise(i)
    if i % 4 == 0:
        value ^= zlib.crc32(read_template(d, "template-%d.html" % (i // 4 % 4)))
    if i % 8 == 0:
        c = socket.create_connection(("127.0.0.1", port))  # leak-site-socket
        CONNS.append(c)
        peer, _ = srv.accept()
        peer.close()
    return value


def main():
    a = inspect_common.parser(__doc__).parse_args()
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    d = inspect_common.scratch(a)
    for k in range(4):
        with open(os.path.join(d, "template-%d.html" % k), "wb") as f:
            f.write(b"<html>%d</html>\n" % k * 64)
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(64)
    port = srv.getsockname()[1]
    noise = inspect_common.Noise()
    return inspect_common.run(a, lambda i: handle(noise, d, port, srv, i))


if __name__ == "__main__":
    sys.exit(main())
