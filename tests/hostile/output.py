"""Hostile text in what the daemon writes: a comm that is not UTF-8 (item
10), a comm with a newline that would forge a console line (item 11), and
a title (the first line of cmdline) with terminal escapes, a forged line
and 100 KB of arguments after it (item 11b)."""

import json
import re
import time

import lwtest

# Sets its own comm to the bytes of argv[1] (hex), then sleeps.
NAMER = ("import sys, time\n"
         "open('/proc/self/comm', 'wb').write(bytes.fromhex(sys.argv[1]))\n"
         "time.sleep(60)\n")


def config(tag):
    return ("interval: 200ms\n"
            "watches:\n"
            "  - name: hostile\n"
            f"    match: {{ cmdline: {lwtest.yq(tag)} }}\n"
            "    rss: { growth: 1G/h }\n")


# A console line the daemon starts: its time stamp, then "leakwatchd: ".
CONSOLE_LINE = re.compile(rb"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z leakwatchd: ")


def start_named(case, comm, tag):
    """A process of nobody whose comm is COMM, once it is: the Popen."""
    p = case.as_nobody([lwtest.PYTHON, "-c", NAMER, comm.hex(), tag])

    def named():
        try:
            with open(f"/proc/{p.pid}/comm", "rb") as f:
                return f.read().rstrip(b"\n") == comm[:15]
        except OSError:
            return False
    if not lwtest.wait_for(named, 5):
        raise AssertionError(f"pid {p.pid} did not take the comm {comm!r}")
    return p


def json_utf8(case):
    """JSON events stay valid UTF-8 JSON whatever bytes a comm holds."""
    tag = "hostile-utf8-tag"
    p = start_named(case, b"\xff\xfe\x80ok\xc3", tag)
    d = case.daemon(config(tag))
    if not case.wait_event(d, lambda e: e.get("event") == "found" and e.get("pid") == p.pid, 10):
        case.fail(f"no found event for pid {p.pid}")
    with open(d.out, "rb") as f:
        raw = f.read()
    for n, line in enumerate(raw.splitlines(), 1):
        try:
            ev = json.loads(line.decode("utf-8"))
        except (UnicodeDecodeError, ValueError) as e:
            case.fail(f"line {n} of the JSON events is not UTF-8 JSON: {e}: {line[:80]!r}")
            continue
        if ev.get("pid") == p.pid and ev.get("comm") is not None and "\ufffd" not in ev["comm"]:
            case.fail(f"comm {ev['comm']!r}: the invalid bytes are not U+FFFD")


def console_newline(case):
    """A newline in comm cannot start a line of its own on the console target."""
    tag = "hostile-newline-tag"
    p = start_named(case, b"a\n<0>leakwatchd", tag)
    d = case.daemon(config(tag), extra=("--log-target=console",), wait=False)
    if not lwtest.wait_for(lambda: f"pid {p.pid} (" in open(d.err, errors="replace").read(), 10):
        case.fail(f"the console never said it found pid {p.pid}")
    time.sleep(0.5)
    with open(d.err, "rb") as f:
        lines = f.read().splitlines()
    for line in lines:
        if not CONSOLE_LINE.match(line):
            case.fail(f"a console line the daemon did not start: {line[:80]!r}")
    if not any(b"\\n<0>leakwatchd" in line for line in lines):
        case.fail("the newline of comm is not shown escaped (\\n) in the found line")


def title_escapes(case):
    """The title beside comm is one line of printable UTF-8, at most 63
    bytes, clipped in the middle, whatever the owner puts in its argv."""
    tag = "hostile-title-tag"
    # within the page the title is read from (the first 4 KiB), then 100 KB more
    arg = (tag + " " + "x" * 3000 + " A\x1b[2J\x9b31mB\x7f\"q\" slot-7"
           + "\nleakwatchd: leak: forged: pid 1 (init): rss leak" + "y" * 100000)
    p = case.as_nobody([lwtest.PYTHON, "-c", "import time; time.sleep(60)", arg])
    d = case.daemon(config(tag), extra=("--log-target=console",), wait=False)
    if not lwtest.wait_for(lambda: f"pid {p.pid} (" in open(d.err, errors="replace").read(), 10):
        case.fail(f"the console never said it found pid {p.pid}")
        return
    time.sleep(0.5)
    with open(d.err, "rb") as f:
        lines = f.read().splitlines()
    found = [l for l in lines if f"pid {p.pid} (".encode() in l]
    for line in lines:
        if not CONSOLE_LINE.match(line):
            case.fail(f"a console line the daemon did not start: {line[:80]!r}")
    if not found:
        return
    line = found[0].decode("utf-8", "strict")
    title = line.split('"', 2)[1] if line.count('"') >= 2 else ""
    if not title.endswith(" slot-7") or "..." not in title or len(title.encode()) > 63:
        case.fail(f"title {title!r}: not clipped in the middle to 63 bytes, keeping the end")
    if any(ord(c) < 0x20 or 0x7f <= ord(c) < 0xa0 for c in title):
        case.fail(f"title {title!r}: holds a control character")
    if "forged" in title or "?[2J??31mB?'q'" not in title:
        case.fail(f"title {title!r}: not the first line with its escapes made '?' and quotes \\'")


CASES = [
    ("item10-json-utf8", json_utf8),
    ("item11-console-newline", console_newline),
    ("item11b-title-escapes", title_escapes),
]
