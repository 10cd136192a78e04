"""Hostile clients of the metrics endpoint (item 6): anyone who can reach
metrics: listen (every local user, on a loopback address) can open
connections to it, and a front that waits on them stops answering scrapes.
A program of uid 65534 floods the daemon's port with idle connections, or
with slow-loris requests (one byte a second) and clients that send
requests and never read the answers, while the test scrapes /metrics:
each scrape must be answered within SCRAPE_S, and the daemon must close
the hostile connections itself (their sockets see the end of the stream).

(The daemon's page here is a few KiB.  The kernel's socket buffers take
it whole, so the daemon hands it over and closes the connection; but when it
is more than the never-reading client's window, the rest waits in the
daemon's (now orphaned) kernel socket, and the client never sees the end of
the stream.  So a never-reading connection counts as closed when the
client sees the end or the daemon no longer holds its socket.  The unit
test, tests/test_httpd.c, backs an answer up with a page of 4 MiB.)

Half of the idle and slow connections come from the scraper's own address
(127.0.0.1), the others each from an address of their own in 127.0.0.0/8
(any local user may bind one), and so do the never-reading ones: a limit
per address cannot tell them from the scraper, or count them together.

The flooder is one script (FLOODER) written to the case's directory; it
tells its progress on stdout, one line each: "open N" once its
connections are up, "closed K T" each time the daemon has closed one (K
so far, T seconds after "open"), "done" when it lets go."""

import os
import subprocess
import threading
import time

import lwtest

SCRAPE_S = 2.0        # each scrape answered within this
SCRAPES = 10          # in a row, during the flood
CLOSED_S = 12.0       # every hostile connection closed within this of "open"

FLOODER = r'''
import select, socket, sys, time

mode, port, n, hold, sources = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4]), sys.argv[5]
OCTET = {"idle": 1, "loris": 2, "mute": 3}[mode]
REQ = b"GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\nUser-Agent: slow-loris\r\nAccept: */*\r\n\r\n"


def say(*words):
    print(*words, flush=True)


socks = []
for i in range(n):
    s = socket.socket()
    if mode == "mute":      # a small window, so that the answers back up
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    s.settimeout(5)
    try:
        if sources == "spread" or (sources == "mixed" and i % 2):
            s.bind(("127.%d.%d.%d" % (OCTET, i // 250, i % 250 + 1), 0))
        s.connect(("127.0.0.1", port))
    except OSError as e:
        say("connect-failed", i, e)
        s.close()
        continue
    if mode == "mute":      # requests pipelined, never a byte read
        s.sendall(REQ * 100)
    s.setblocking(False)
    socks.append(s)
t0 = time.monotonic()
say("open", len(socks))
live = {s.fileno(): s for s in socks}
sent = {fd: 0 for fd in live}
closed = 0
poll = select.poll()
for fd in live:
    poll.register(fd, select.POLLRDHUP | (select.POLLIN if mode != "mute" else 0))
next_byte = t0 + 1


def gone(fd):
    global closed
    poll.unregister(fd)
    live.pop(fd).close()
    closed += 1
    say("closed", closed, "%.2f" % (time.monotonic() - t0))


while time.monotonic() - t0 < hold and live:
    for fd, ev in poll.poll(100):
        if fd not in live:
            continue
        if mode == "mute" and not ev & (select.POLLRDHUP | select.POLLHUP | select.POLLERR):
            continue
        try:
            data = live[fd].recv(65536) if mode != "mute" else b""
        except BlockingIOError:
            continue
        except OSError:
            data = b""
        if not data:
            gone(fd)
    if mode == "loris" and time.monotonic() >= next_byte:
        next_byte += 1
        for fd in list(live):
            if sent[fd] < len(REQ):
                try:
                    live[fd].send(REQ[sent[fd]:sent[fd] + 1])
                    sent[fd] += 1
                except OSError:
                    gone(fd)
say("done")
'''


class Flood:
    """A FLOODER run as nobody, its stdout lines gathered by a thread."""

    def __init__(self, case, mode, port, n, hold, sources):
        script = case.path("flooder.py")
        if not os.path.exists(script):
            case.write("flooder.py", FLOODER, 0o755)
        self.proc = case.as_nobody([lwtest.PYTHON, script, mode, str(port), str(n), str(hold), sources],
                                   stdout=subprocess.PIPE, text=True)
        self.mode = mode
        self.lines = []
        self.lock = threading.Lock()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self):
        for line in self.proc.stdout:
            with self.lock:
                self.lines.append(line.split())

    def last(self, word):
        """The words of the last line that starts with word, else None."""
        with self.lock:
            return next((w for w in reversed(self.lines) if w and w[0] == word), None)

    def opened(self, timeout=30):
        """How many connections it holds, once it says (None if it does not)."""
        w = lwtest.wait_for(lambda: self.last("open"), timeout)
        return int(w[1]) if w else None

    def closed(self):
        w = self.last("closed")
        return (int(w[1]), float(w[2])) if w else (0, 0.0)


def config(port):
    return ("interval: 500ms\n"
            f"metrics: {{ listen: 127.0.0.1:{port} }}\n"
            "watches:\n"
            "  - name: anything\n"
            "    match: { cmdline: hostile-httpd-nothing-matches }\n"
            "    rss: { growth: 1G/h }\n")


def timed_scrape(port):
    """(seconds, None) for a scrape answered with the metrics within SCRAPE_S, else (seconds, why)."""
    t0 = time.monotonic()
    try:
        m = lwtest.scrape(port, timeout=SCRAPE_S)
    except Exception as e:      # a timeout, a reset, a refused connection
        return time.monotonic() - t0, f"{type(e).__name__}: {e}"
    dt = time.monotonic() - t0
    if "leakwatch_ticks_total" not in m:
        return dt, "no leakwatch_ticks_total in the page"
    if dt > SCRAPE_S:
        return dt, f"answered after {dt:.2f}s"
    return dt, None


def scrapes(case, port, what, gap=0.0):
    """SCRAPES scrapes in a row, each timed; failures told; the latencies noted."""
    times, bad = [], []
    for i in range(SCRAPES):
        dt, why = timed_scrape(port)
        times.append(dt)
        if why:
            bad.append(f"#{i + 1}: {why}")
        time.sleep(gap)
    if bad:
        case.fail(f"{len(bad)} of {SCRAPES} scrapes {what} not answered within {SCRAPE_S:.0f}s "
                  f"({'; '.join(bad[:3])})")
    case.note(f"scrapes {what}: max {max(times) * 1000:.1f} ms, median {sorted(times)[len(times) // 2] * 1000:.1f} ms")


def start(case):
    port = lwtest.free_port()
    d = case.daemon(config(port))
    if not lwtest.wait_for(lambda: timed_scrape(port)[1] is None, 10):
        raise AssertionError(f"the daemon does not answer on 127.0.0.1:{port} before the flood")
    return d, port


def all_closed(case, flood, n, what):
    """Every one of the n connections of flood closed by the daemon within CLOSED_S."""
    if not lwtest.wait_for(lambda: flood.closed()[0] >= n, CLOSED_S + 2):
        k, t = flood.closed()
        case.fail(f"the daemon closed {k} of {n} {what} connections (the last after {t:.1f}s); "
                  f"the others still open after {CLOSED_S:.0f}s")
        return
    case.note(f"{what} closed within {flood.closed()[1]:.1f}s")


def daemon_sockets(d):
    """The number of sockets the daemon holds (its fds that are sockets)."""
    n = 0
    fd_dir = f"/proc/{d.pid}/fd"
    for name in os.listdir(fd_dir):
        try:
            n += os.readlink(os.path.join(fd_dir, name)).startswith("socket:")
        except OSError:
            pass
    return n


def all_released(case, d, flood, n, baseline, what):
    """Every one of the n connections of flood closed, as the client sees
    it or as the daemon does (it holds no socket more than baseline), within
    CLOSED_S."""
    def done():
        return flood.closed()[0] >= n or daemon_sockets(d) <= baseline
    if not lwtest.wait_for(done, CLOSED_S + 2):
        k, t = flood.closed()
        case.fail(f"the daemon closed {k} of {n} {what} connections (the last after {t:.1f}s) and still "
                  f"holds {daemon_sockets(d) - baseline} sockets more than before; the others still open "
                  f"after {CLOSED_S:.0f}s")
        return
    case.note(f"{what}: the daemon holds none of them ({flood.closed()[0]} seen closed by the client)")


def idle_flood(case):
    """200 idle connections do not stop scrapes; the daemon closes them; it serves after."""
    d, port = start(case)
    flood = Flood(case, "idle", port, 200, 25, "mixed")
    n = flood.opened()
    if n != 200:
        case.fail(f"the flooder opened {n} connections, not 200")
        return
    scrapes(case, port, "during 200 idle connections")
    all_closed(case, flood, n, "idle")
    flood.proc.terminate()
    flood.proc.wait(5)
    dt, why = timed_scrape(port)
    if why:
        case.fail(f"the scrape after the flood: {why}")
    if not case.alive(d):
        case.fail("the daemon does not answer its control socket")


def slow_sender(case):
    """100 slow-loris requests and 20 clients that never read do not stop scrapes."""
    d, port = start(case)
    baseline = daemon_sockets(d)
    loris = Flood(case, "loris", port, 100, 30, "mixed")
    if loris.opened() != 100:
        case.fail(f"the slow-loris flooder opened {loris.last('open')} connections, not 100")
        return
    mute = Flood(case, "mute", port, 20, 30, "spread")
    if mute.opened() != 20:
        case.fail(f"the never-reading flooder opened {mute.last('open')} connections, not 20")
        return
    time.sleep(1.5)     # a byte or two of every slow request in
    scrapes(case, port, "during 100 slow-loris and 20 never-reading", gap=0.3)
    all_closed(case, loris, 100, "slow-loris")
    all_released(case, d, mute, 20, baseline, "never-reading")
    dt, why = timed_scrape(port)
    if why:
        case.fail(f"the scrape after the flood: {why}")
    if not case.alive(d):
        case.fail("the daemon does not answer its control socket")


CASES = [
    ("item6-idle-flood", idle_flood),
    ("item6-slow-sender", slow_sender),
]
