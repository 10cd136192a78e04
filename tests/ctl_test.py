#!/usr/bin/python3
"""leakwatchctl without a daemon: its usage errors and the width it asks for.

- Every usage error (no command, an unknown command or option, a missing
  option argument, a bad pid or --seconds, wrong arguments) exits 2 with
  exactly two lines on stderr, "leakwatchctl: MESSAGE" and "Try
  'leakwatchctl --help'.", and nothing on stdout (leakwatchctl(1) EXIT
  STATUS); --help prints the usage on stdout and exits 0.
- A runtime error (no daemon on the socket, an ERR answer) exits 1 with one
  line.
- `status` asks a stand-in daemon (a unix socket in a scratch
  RUNTIME_DIRECTORY that records the request) for "status table WIDTH":
  $COLUMNS when it is a number, else the terminal's width when stdout is a
  terminal (a pty sized 123x40 here), else 80; `status --json` asks for
  "status json"; --watch NAME, --verdict V and --watches add "watch NAME",
  "verdict V" and "watches" before the format; `reload` asks "reload",
  `forget PID` "forget PID".  A bad watch name or verdict, and those options
  on another command, are usage errors.
- `reload` prints what an OK answer says and exits 0; an ERR answer goes
  to stderr, exit 1.
- `plot` asks for "plot PID svg" on a pipe or with -o,
  "plot PID text WIDTH" on a terminal, the --metric at the end; -o FILE
  holds the answer, and is not made when the answer is an error;
  `history --csv` asks for "history PID csv".

Run: python3 tests/ctl_test.py --ctl build/leakwatchctl
"""
import argparse
import fcntl
import os
import pty
import select
import socket
import struct
import subprocess
import sys
import tempfile
import termios
import threading

TRY = "Try 'leakwatchctl --help'."

USAGE_ERRORS = [
    ([], "leakwatchctl: no command given"),
    (["bogus"], "leakwatchctl: unknown command 'bogus'"),
    (["--bogus"], "leakwatchctl: unknown option '--bogus'"),
    (["-x", "status"], "leakwatchctl: unknown option '-x'"),
    (["inspect", "12", "--seconds"], "leakwatchctl: option '--seconds' needs an argument"),
    (["inspect", "12", "--seconds", "0"], "leakwatchctl: --seconds must be from 1 to 600: '0'"),
    (["inspect", "12", "--seconds", "9x"], "leakwatchctl: --seconds must be from 1 to 600: '9x'"),
    (["history", "abc"], "leakwatchctl: not a pid: 'abc'"),
    (["history", "0"], "leakwatchctl: not a pid: '0'"),
    (["inspect", "2147483648"], "leakwatchctl: not a pid: '2147483648'"),
    (["history"], "leakwatchctl: wrong arguments for 'history'"),
    (["status", "extra"], "leakwatchctl: wrong arguments for 'status'"),
    (["check-config", "--json"], "leakwatchctl: wrong arguments for 'check-config'"),
    (["check-config", "--seconds", "5"], "leakwatchctl: --seconds is for inspect"),
    (["match", "--max", "x"], "leakwatchctl: --max must be a count: 'x'"),
    (["match", "a.yaml", "b.yaml"], "leakwatchctl: wrong arguments for 'match'"),
    (["status", "--proc", "/proc"], "leakwatchctl: --max and --proc are for match"),
    (["match", "--seconds", "5"], "leakwatchctl: --seconds is for inspect"),
    (["status", "--seconds", "5"], "leakwatchctl: --seconds is for inspect"),
    (["status", "--watch"], "leakwatchctl: option '--watch' needs an argument"),
    (["status", "--watch", "a b"],
     "leakwatchctl: --watch needs a watch name (1 to 64 letters, digits, '.', '_' or '-'): 'a b'"),
    (["status", "--watch", "x" * 65],
     f"leakwatchctl: --watch needs a watch name (1 to 64 letters, digits, '.', '_' or '-'): '{'x' * 65}'"),
    (["status", "--verdict", "leaking"],
     "leakwatchctl: --verdict must be warming, ok, leak, limit or unreadable: 'leaking'"),
    (["status", "--watches", "--verdict", "leak"], "leakwatchctl: --verdict picks processes: --watches counts them all"),
    (["history", "42", "--watch", "api"], "leakwatchctl: --watch, --verdict and --watches are for status"),
    (["reload", "--watches"], "leakwatchctl: --watch, --verdict and --watches are for status"),
    (["reload", "now"], "leakwatchctl: wrong arguments for 'reload'"),
    (["reload", "--json"], "leakwatchctl: wrong arguments for 'reload'"),
    (["reload", "--seconds", "5"], "leakwatchctl: --seconds is for inspect"),
    (["forget"], "leakwatchctl: wrong arguments for 'forget'"),
    (["forget", "1", "2"], "leakwatchctl: wrong arguments for 'forget'"),
    (["forget", "12x"], "leakwatchctl: not a pid: '12x'"),
    (["forget", "0"], "leakwatchctl: not a pid: '0'"),
    (["forget", "--", "-3"], "leakwatchctl: not a pid: '-3'"),
    (["forget", "42", "--json"], "leakwatchctl: wrong arguments for 'forget'"),
    (["plot"], "leakwatchctl: wrong arguments for 'plot'"),
    (["plot", "12", "--json"], "leakwatchctl: wrong arguments for 'plot'"),
    (["plot", "abc"], "leakwatchctl: not a pid: 'abc'"),
    (["plot", "12", "--metric", "mem"], "leakwatchctl: --metric must be rss, fds, threads, uss or pss: 'mem'"),
    (["plot", "12", "-o"], "leakwatchctl: option '-o' needs an argument"),
    (["status", "--metric", "rss"], "leakwatchctl: --metric and -o are for plot"),
    (["history", "12", "-o", "x.svg"], "leakwatchctl: --metric and -o are for plot"),
    (["status", "--csv"], "leakwatchctl: --csv is for history"),
    (["history", "12", "--csv", "--json"], "leakwatchctl: --json or --csv, not both"),
]


class Checks:
    def __init__(self):
        self.passed = 0
        self.failed = 0

    def check(self, ok, what):
        if ok:
            self.passed += 1
        else:
            self.failed += 1
            print(f"ctl: FAIL {what}")


class FakeDaemon:
    """A control socket that records each request and answers `reply`."""

    def __init__(self, directory, reply=b"OK\n"):
        self.path = os.path.join(directory, "control.sock")
        self.reply = reply
        self.requests = []
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.bind(self.path)
        self.sock.listen(4)
        self.sock.settimeout(0.2)
        self.stop = False
        self.thread = threading.Thread(target=self.serve, daemon=True)
        self.thread.start()

    def serve(self):
        while not self.stop:
            try:
                conn, _ = self.sock.accept()
            except (socket.timeout, OSError):
                continue
            with conn:
                conn.settimeout(5)
                data = b""
                try:
                    while not data.endswith(b"\n"):
                        chunk = conn.recv(512)
                        if not chunk:
                            break
                        data += chunk
                    self.requests.append(data.decode(errors="replace").rstrip("\n"))
                    conn.sendall(self.reply)
                except OSError:
                    pass

    def close(self):
        self.stop = True
        self.thread.join(2)
        self.sock.close()


def run(ctl, args, env, timeout=20):
    return subprocess.run([ctl] + args, env=env, stdin=subprocess.DEVNULL, capture_output=True,
                          text=True, timeout=timeout)


def run_in_pty(ctl, args, env, cols, rows=40, timeout=20):
    """ctl with stdout (and stdin, stderr) a pty of cols x rows: its exit status."""
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))
    try:
        p = subprocess.Popen([ctl] + args, env=env, stdin=slave, stdout=slave, stderr=slave)
    finally:
        os.close(slave)
    try:
        while True:   # drain, so that the program never blocks on a full pty
            r, _, _ = select.select([master], [], [], timeout)
            if not r:
                break
            try:
                if not os.read(master, 4096):
                    break
            except OSError:
                break
        return p.wait(timeout)
    finally:
        os.close(master)
        if p.poll() is None:
            p.kill()
            p.wait()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--ctl", required=True)
    ctl = os.path.abspath(ap.parse_args().ctl)
    c = Checks()
    base = {k: v for k, v in os.environ.items() if k not in ("COLUMNS", "RUNTIME_DIRECTORY")}

    with tempfile.TemporaryDirectory(prefix="leakwatch-ctl.") as tmp:
        empty = os.path.join(tmp, "empty")
        os.mkdir(empty)
        env = dict(base, RUNTIME_DIRECTORY=empty)

        for args, first in USAGE_ERRORS:
            res = run(ctl, args, env)
            lines = res.stderr.splitlines()
            c.check(res.returncode == 2, f"{args}: exit {res.returncode}, not 2")
            c.check(res.stdout == "", f"{args}: stdout {res.stdout[:80]!r}")
            c.check(lines == [first, TRY] and res.stderr.endswith("\n"),
                    f"{args}: stderr {res.stderr[:300]!r}, want {first!r} and {TRY!r}")
        res = run(ctl, ["--help"], env)
        c.check(res.returncode == 0 and res.stdout.startswith("Usage: leakwatchctl status")
                and res.stderr == "", f"--help: exit {res.returncode}, {res.stdout[:60]!r} {res.stderr[:60]!r}")

        # runtime errors: one line, status 1
        res = run(ctl, ["status"], env)
        c.check(res.returncode == 1 and len(res.stderr.splitlines()) == 1
                and "leakwatchd is not running" in res.stderr and TRY not in res.stderr,
                f"no daemon: exit {res.returncode}, stderr {res.stderr!r}")

        live = os.path.join(tmp, "live")
        os.mkdir(live)
        fake = FakeDaemon(live)
        try:
            env = dict(base, RUNTIME_DIRECTORY=live)
            cases = [
                ("COLUMNS=132, a pipe", dict(env, COLUMNS="132"), ["status"], False, "status table 132"),
                ("no COLUMNS, a pipe", env, ["status"], False, "status table 80"),
                ("COLUMNS=abc, a pipe", dict(env, COLUMNS="abc"), ["status"], False, "status table 80"),
                ("COLUMNS=0, a pipe", dict(env, COLUMNS="0"), ["status"], False, "status table 80"),
                ("COLUMNS=99999, a pipe", dict(env, COLUMNS="99999"), ["status"], False, "status table 9999"),
                ("a 123-column pty", env, ["status"], True, "status table 123"),
                ("a pty, COLUMNS=90", dict(env, COLUMNS="90"), ["status"], True, "status table 90"),
                ("--json", dict(env, COLUMNS="132"), ["status", "--json"], False, "status json"),
                ("history", env, ["history", "42"], False, "history 42 table"),
                ("--watch", env, ["status", "--watch", "api"], False, "status watch api table 80"),
                ("--verdict --json", env, ["status", "--verdict", "leak", "--json"], False,
                 "status verdict leak json"),
                ("--watch --verdict", dict(env, COLUMNS="100"), ["status", "--verdict", "ok", "--watch", "a.b_c-1"],
                 False, "status watch a.b_c-1 verdict ok table 100"),
                ("--watches", env, ["status", "--watches"], False, "status watches table 80"),
                ("--watches --watch --json", env, ["status", "--watches", "--json", "--watch", "json"], False,
                 "status watch json watches json"),
                ("reload", env, ["reload"], False, "reload"),
                ("forget", env, ["forget", "4242"], False, "forget 4242"),
                ("history --csv", env, ["history", "42", "--csv"], False, "history 42 csv"),
                ("plot, a pipe", env, ["plot", "42"], False, "plot 42 svg"),
                ("plot --metric, a pipe", env, ["plot", "42", "--metric", "fds"], False, "plot 42 svg fds"),
                ("plot, a 123-column pty", env, ["plot", "42"], True, "plot 42 text 123"),
                ("plot, a pty, COLUMNS=90", dict(env, COLUMNS="90"), ["plot", "42", "--metric", "rss"], True,
                 "plot 42 text 90 rss"),
                ("plot -o, a pty", env, ["plot", "42", "-o", os.path.join(tmp, "p.svg")], True, "plot 42 svg"),
                ("plot -o -, a pty", env, ["plot", "42", "-o", "-"], True, "plot 42 svg"),
            ]
            for what, e, args, tty, want in cases:
                before = len(fake.requests)
                if tty:
                    rc = run_in_pty(ctl, args, e, 123)
                else:
                    rc = run(ctl, args, e).returncode
                got = fake.requests[before:]
                c.check(rc == 0 and got == [want], f"{what}: exit {rc}, requests {got}, want [{want!r}]")
        finally:
            fake.close()

        bad = os.path.join(tmp, "bad")
        os.mkdir(bad)
        fake = FakeDaemon(bad, b"ERR pid 42 is not watched\n")
        try:
            res = run(ctl, ["history", "42"], dict(base, RUNTIME_DIRECTORY=bad))
            c.check(res.returncode == 1 and res.stderr == "leakwatchctl: pid 42 is not watched\n"
                    and res.stdout == "", f"ERR answer: exit {res.returncode}, stderr {res.stderr!r}")
            # plot -o: the file only with an answer
            out = os.path.join(tmp, "never.svg")
            res = run(ctl, ["plot", "42", "-o", out], dict(base, RUNTIME_DIRECTORY=bad))
            c.check(res.returncode == 1 and res.stderr == "leakwatchctl: pid 42 is not watched\n"
                    and not os.path.exists(out), f"plot -o, ERR answer: exit {res.returncode}, "
                    f"stderr {res.stderr!r}, file made: {os.path.exists(out)}")
        finally:
            fake.close()
        svg = os.path.join(tmp, "svg")
        os.mkdir(svg)
        fake = FakeDaemon(svg, b"OK\n<svg/>\n")
        try:
            out = os.path.join(tmp, "plot.svg")
            res = subprocess.run([ctl, "plot", "42", "-o", out], env=dict(base, RUNTIME_DIRECTORY=svg),
                                 stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=20,
                                 preexec_fn=lambda: os.umask(0o027))
            with open(out) if os.path.exists(out) else open(os.devnull) as f:
                got = f.read()
            mode = os.stat(out).st_mode & 0o777 if os.path.exists(out) else None
            c.check(res.returncode == 0 and res.stdout == "" and got == "<svg/>\n" and mode == 0o640,
                    f"plot -o: exit {res.returncode}, stdout {res.stdout!r}, file {got!r}, mode "
                    f"{oct(mode) if mode is not None else None} (umask 027: want 0o640)")
            res = run(ctl, ["plot", "42", "-o", os.path.join(tmp, "no", "such", "dir.svg")],
                      dict(base, RUNTIME_DIRECTORY=svg))
            c.check(res.returncode == 1 and res.stderr.startswith("leakwatchctl: cannot write ")
                    and len(res.stderr.splitlines()) == 1, f"plot -o into nowhere: exit {res.returncode}, "
                    f"stderr {res.stderr!r}")
        finally:
            fake.close()

        # reload's answers: what the daemon says, exit 0 or 1
        for reply, rc, out, err in (
                (b"OK\nconfiguration reloaded from F: 2 watches, 1 warning\nwarning: api: W\n", 0,
                 "configuration reloaded from F: 2 watches, 1 warning\nwarning: api: W\n", ""),
                (b"ERR configuration reload failed, the old configuration stays in force: F:1:2: error: x\n", 1,
                 "", "leakwatchctl: configuration reload failed, the old configuration stays in force: "
                     "F:1:2: error: x\n")):
            d = os.path.join(tmp, f"reload{rc}")
            os.mkdir(d)
            fake = FakeDaemon(d, reply)
            try:
                res = run(ctl, ["reload"], dict(base, RUNTIME_DIRECTORY=d))
                c.check(res.returncode == rc and res.stdout == out and res.stderr == err,
                        f"reload answered {reply[:20]!r}: exit {res.returncode}, stdout {res.stdout!r}, "
                        f"stderr {res.stderr!r}")
            finally:
                fake.close()

    print(f"ctl: {c.passed} passed, {c.failed} failed")
    return 1 if c.failed else 0


if __name__ == "__main__":
    sys.exit(main())
