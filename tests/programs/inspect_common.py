"""Shared plumbing of the inspect_*.py programs (tests/inspect_script_test.py);
not a program itself.

Each program is a small service: a main loop doing "requests" (realistic
noise: parsing, JSON, temporary dicts and lists, a bounded LRU of recent
responses, and a GC sawtooth of cyclic garbage the collector reclaims) plus
one root cause of a leak.  They know nothing of leakwatch.  Common options:

  --seconds S     stop after S seconds (default 30)
  --rate R        work iterations per second (0: as fast as possible)
  --iterations N  stop after N iterations instead (whichever comes first)
  --dir DIR       a scratch directory (files, sqlite databases); default
                  $INSPECT_DIR, else a new temporary directory

At the end each prints one JSON line:
  {"work": N, "checksum": X, "max_stall": SECONDS}
where checksum is a deterministic function of the work done (a run that was
inspected must give the same as one that was not) and max_stall the longest
gap between the starts of two iterations (perf_counter), where the pause of
an injection shows.  SIGTERM/SIGINT end the run early (the line is still
printed).
"""

import argparse
import json
import os
import signal
import sys
import tempfile
import time
import zlib

_stop = []


def parser(description):
    p = argparse.ArgumentParser(description=description)
    p.add_argument("--seconds", type=float, default=30.0)
    p.add_argument("--rate", type=float, default=200.0)
    p.add_argument("--iterations", type=int, default=0)
    p.add_argument("--dir", default=os.environ.get("INSPECT_DIR"))
    return p


def scratch(a):
    """The scratch directory (made if needed)."""
    d = a.dir or tempfile.mkdtemp(prefix="inspect-prog-")
    os.makedirs(d, exist_ok=True)
    return d


def _on_signal(signum, frame):
    _stop.append(signum)


def mix(checksum, value):
    """Fold value (an int) into the checksum."""
    return (checksum * 1000003 + (value & 0xFFFFFFFF)) % (1 << 61)


class Noise:
    """A request handler's ordinary work: every call parses a request,
    builds a response through temporaries, keeps the last 64 responses, and
    (cyclic=True) drops a small reference cycle for the collector: a
    sawtooth in the gc's object counts that is not a leak."""

    def __init__(self, cyclic=True):
        self.cyclic = cyclic
        self.recent = {}
        self.order = []

    def __call__(self, i):
        raw = "GET /item/%d?user=u%d&page=%d HTTP/1.1" % (i, i % 97, i % 13)
        path, _, query = raw.split(" ")[1].partition("?")
        params = dict(kv.split("=") for kv in query.split("&"))
        items = [{"id": i * 10 + k, "name": "item-%d" % (i * 10 + k), "tags": [k, k * 2]}
                 for k in range(8)]
        body = json.dumps({"path": path, "params": params, "items": items}, sort_keys=True)
        back = json.loads(body)
        value = zlib.crc32(body.encode()) ^ len(back["items"])
        self.recent[i] = body[:64]
        self.order.append(i)
        if len(self.order) > 64:
            del self.recent[self.order.pop(0)]
        if self.cyclic:
            a, b = {"n": i}, {"n": i + 1}
            a["peer"], b["peer"] = b, a       # garbage for the collector
        return value


def run(a, step):
    """Call step(i) for i = 0, 1, ... at a.rate per second until a.iterations
    or a.seconds; print the JSON line; the exit status."""
    for s in (signal.SIGTERM, signal.SIGINT):
        signal.signal(s, _on_signal)
    period = 1.0 / a.rate if a.rate > 0 else 0.0
    start = time.perf_counter()
    deadline = start + a.seconds
    checksum, i, last, max_stall = 0, 0, None, 0.0
    while not _stop:
        now = time.perf_counter()
        if last is not None:
            max_stall = max(max_stall, now - last)
        last = now
        if a.iterations and i >= a.iterations:
            break
        if now >= deadline:
            break
        checksum = mix(checksum, step(i))
        i += 1
        if period:
            nxt = start + i * period
            now = time.perf_counter()
            if nxt < now - 1.0:            # fell far behind: do not race
                start = now - i * period
                nxt = now
            if nxt > now:
                time.sleep(nxt - now)
    sys.stdout.write(json.dumps({"work": i, "checksum": checksum, "max_stall": round(max_stall, 6)}) + "\n")
    sys.stdout.flush()
    return 0
