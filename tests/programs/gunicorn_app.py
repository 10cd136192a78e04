"""A small WSGI app with a leaking path, for tests/gunicorn_test.py.

    /       a small page
    /leak   appends LEAK_BYTES (256 KiB) of filled bytes to a module-level
            list that is never emptied: every worker that serves /leak grows
            by that much per request, for as long as it lives.  The response
            says `leaked pid=PID chunks=N`, so the client knows which worker
            served it.  `/leak?ms=N` also spends N ms (at most 1000) on the
            request before it answers, like a real handler, so that a worker
            is often in the middle of a request when it is signalled.

Run it under gunicorn:  gunicorn --chdir tests/programs gunicorn_app:app
"""
import os
import time
from urllib.parse import parse_qs

LEAK_BYTES = 256 * 1024

_kept = []          # the leak: grows by one chunk per /leak request


def app(environ, start_response):
    path = environ.get("PATH_INFO", "/")
    if path == "/leak":
        # a fresh, filled (so really resident) buffer; the fill byte varies
        # so no two chunks could ever be shared or deduplicated
        _kept.append(bytes([len(_kept) % 251 + 1]) * LEAK_BYTES)
        try:
            ms = int(parse_qs(environ.get("QUERY_STRING", "")).get("ms", ["0"])[0])
        except ValueError:
            ms = 0
        if ms > 0:
            time.sleep(min(ms, 1000) / 1000.0)
        body = f"leaked pid={os.getpid()} chunks={len(_kept)}\n".encode()
        status = "200 OK"
    elif path == "/":
        body = f"<html><body><p>hello from pid {os.getpid()}</p></body></html>\n".encode()
        status = "200 OK"
    else:
        body = b"not found\n"
        status = "404 Not Found"
    start_response(status, [("Content-Type", "text/plain" if path != "/" else "text/html"),
                            ("Content-Length", str(len(body)))])
    return [body]
