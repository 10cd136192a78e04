#!/usr/bin/python3
"""sd_notify as systemd would see it: leakwatchd is started with
NOTIFY_SOCKET (and WATCHDOG_USEC) pointing at a datagram socket of ours,
and must send READY=1 after its first scan, STATUS= lines that follow what
it sees (a leak here), WATCHDOG=1, RELOADING=1 then READY=1 around a SIGHUP
reload, and STOPPING=1 on SIGTERM.

Usage: notify_test.py --daemon build/leakwatchd
"""
import argparse, os, signal, socket, subprocess, sys, tempfile, time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.dont_write_bytecode = True     # importing lwtest must leave no tests/__pycache__
import lwtest  # noqa: E402


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--daemon", required=True)
    a = ap.parse_args()
    work = tempfile.mkdtemp(prefix="leakwatch-notify-")
    sock_path = os.path.join(work, "notify")
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(sock_path)
    sock.settimeout(0.2)
    tag = "notify-%d" % os.getpid()
    cfg = os.path.join(work, "n.yaml")
    with open(cfg, "w") as f:
        f.write(f"""interval: 250ms
watches:
  - name: notify-test
    match: {{ cmdline: "leak_memory.py .*--tag {tag}" }}
    window: 6s
    rss: {{ growth: 100M/h }}
""")
    leak = subprocess.Popen(["/usr/bin/python3", os.path.join(HERE, "programs", "leak_memory.py"),
                             "--tag", tag], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)
    env = lwtest.daemon_env(work, "daemon", dict(os.environ, NOTIFY_SOCKET=sock_path, WATCHDOG_USEC="2000000"))
    env.pop("WATCHDOG_PID", None)
    daemon = subprocess.Popen([a.daemon, "-c", cfg, "--log-target=json"], env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    got = []  # (time, message)
    t0 = time.time()
    hup_at = None
    try:
        while time.time() - t0 < 14:
            try:
                got.append((time.time() - t0, sock.recv(4096).decode()))
            except socket.timeout:
                pass
            if hup_at is None and any("leaking" in m and " 1 leaking" in m for _, m in got):
                daemon.send_signal(signal.SIGHUP)
                hup_at = time.time() - t0
            if hup_at is not None and time.time() - t0 > hup_at + 1.5:
                break
        daemon.send_signal(signal.SIGTERM)
        code = daemon.wait(10)
        end = time.time() + 1
        while time.time() < end:
            try:
                got.append((time.time() - t0, sock.recv(4096).decode()))
            except socket.timeout:
                break
    finally:
        os.killpg(leak.pid, signal.SIGKILL)
        leak.wait()
        if daemon.poll() is None:
            daemon.kill()
    msgs = [m for _, m in got]
    lines = [l for m in msgs for l in m.split("\n")]
    checks = []

    def check(ok, what):
        checks.append(ok)
        print(f"notify: {'PASS' if ok else 'FAIL'}: {what}")

    first_ready = next((i for i, m in enumerate(msgs) if "READY=1" in m.split("\n")), None)
    check(first_ready is not None and "STATUS=watching 1 process with 1 watch" in msgs[first_ready],
          "READY=1 with the first STATUS= after the first scan")
    check(any(l.startswith("STATUS=") and "1 leaking" in l for l in lines), "STATUS= follows the leak: '1 leaking'")
    check(len([l for l in lines if l == "WATCHDOG=1"]) >= 3, "WATCHDOG=1 sent regularly (WATCHDOG_USEC=2s)")
    rel = next((i for i, m in enumerate(msgs) if "RELOADING=1" in m.split("\n")), None)
    check(rel is not None and any("MONOTONIC_USEC=" in l for l in msgs[rel].split("\n")),
          "RELOADING=1 with MONOTONIC_USEC= on SIGHUP")
    check(rel is not None and any("READY=1" in m.split("\n") for m in msgs[rel + 1:]),
          "READY=1 again after the reload")
    check(lines.count("STOPPING=1") == 1, "STOPPING=1 on SIGTERM")
    check(code == 0, f"exit status 0 on SIGTERM (got {code})")
    if not all(checks):
        print("notify: messages received:")
        for t, m in got:
            print(f"  {t:6.2f}s {m!r}")
        print(daemon.stderr.read().decode())
    passed = sum(checks)
    print(f"notify: {passed} passed, {len(checks) - passed} failed")
    return 0 if all(checks) else 1


if __name__ == "__main__":
    sys.exit(main())
