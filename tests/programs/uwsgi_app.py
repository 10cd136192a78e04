"""A small WSGI app with a leaking path, for tests/uwsgi_test.py and
bench/uwsgi_limits.py (Debian's uWSGI with its python3 plugin).

    /       a small page, answered at once
    /leak   keeps LEAK_BYTES (256 KiB; `?kib=N` for another size, at most
            4096) of filled bytes in a module-level list that is never
            emptied, so the worker that serves it grows by that much per
            request for as long as it lives.  `?ms=N` (at most 1000) spends
            N ms on the request before it answers, like a real handler, so
            that a signal often lands in the middle of one.  The answer says
            `leaked pid=PID chunks=N kib=K`: the client knows which worker
            served it.

uWSGI loads the callable `application` from the file:

    uwsgi --plugin python3,http --master --processes 3 --http 127.0.0.1:PORT \\
          --wsgi-file tests/programs/uwsgi_app.py

and forks the workers after loading it (no --lazy-apps), so each worker
starts with an empty list of its own (the master never serves /leak).
"""
import os
import time
from urllib.parse import parse_qs

LEAK_BYTES = 256 * 1024

_kept = []          # the leak: one chunk more per /leak request


def _int_arg(query, name, default, top):
    try:
        v = int(query.get(name, [str(default)])[0])
    except ValueError:
        return default
    return max(0, min(v, top))


def application(environ, start_response):
    path = environ.get("PATH_INFO", "/")
    if path == "/leak":
        query = parse_qs(environ.get("QUERY_STRING", ""))
        size = _int_arg(query, "kib", LEAK_BYTES // 1024, 4096) * 1024
        # a fresh buffer, written to (so resident), its fill byte varying so
        # that no two chunks could be shared or merged by the kernel
        _kept.append(bytes([len(_kept) % 251 + 1]) * size)
        ms = _int_arg(query, "ms", 0, 1000)
        if ms:
            time.sleep(ms / 1000.0)
        body = f"leaked pid={os.getpid()} chunks={len(_kept)} kib={size // 1024}\n".encode()
        status, ctype = "200 OK", "text/plain"
    elif path == "/":
        body = f"<html><body><p>hello from pid {os.getpid()}</p></body></html>\n".encode()
        status, ctype = "200 OK", "text/html"
    else:
        body = b"not found\n"
        status, ctype = "404 Not Found", "text/plain"
    start_response(status, [("Content-Type", ctype), ("Content-Length", str(len(body)))])
    return [body]


app = application
