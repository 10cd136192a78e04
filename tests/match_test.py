#!/usr/bin/python3
"""leakwatch match test: `leakwatchctl match` on live processes, with no
daemon running, lists exactly the processes each watch matches, and each
near miss with the criterion that turns it down.

    /usr/bin/python3 tests/match_test.py --ctl build/leakwatchctl [--daemon build/leakwatchd]
                                         [--keep DIR] [-v]

Needs root (a process runs as nobody through setpriv, and the command is
run as nobody too).  The processes, each a tests/programs/match_family.py
with a marker unique to the run (--tag T), all in one session:

    master  (--role master)   its children:
        w1, w2   --role worker                    root
        nobody   --role worker, as nobody         the wrong user
        stray    --role stray                     the wrong cmdline
        special  --role special-worker            an earlier watch's
    orphan  --role worker, the runner's child     the wrong parent
    lone    --role lone, a hostile --junk argument (ESC, newline, quote)

and the watches, in this order:

    special   cmdline: "special-worker --tag T "
    workers   cmdline: "worker --tag T ", user: root,
              parent: { cmdline: "--role master --tag T " }
    lone      comm: python3, exe: "*/python3*", cmdline: "--role lone --tag T "
    lone-again  cmdline: "--role lone --tag T "

Checks:

- no-daemon: the runtime directory is empty (`leakwatchctl status` there
  says leakwatchd is not running);
- json: `match CFG --json --max 0` exits 0 with valid JSON; per watch the
  matched pids are exactly the expected ones (special: special; workers:
  w1, w2; lone: lone);
- near-misses: workers lists, of this run's processes, exactly special
  (kind taken, watch special), nobody (criterion user, "user: runs as
  nobody (65534), not root"), stray (cmdline, "cmdline: no match for
  ..."), orphan (parent, "parent: pid RUNNER (python3) does not match:
  cmdline: no match for ..."), and nothing else from anywhere (its
  selective criteria hold only for this run's processes); lone lists every
  other process of the run as a near miss on cmdline (comm and exe hold);
  lone-again matches nothing and lists lone alone, taken by watch lone;
- table: the default output has each watch's line, the matched pids, the
  reasons under the near misses, and not a control byte (the hostile
  title is made printable);
- cap: `--max 1` keeps one not-matched row per list and counts the rest;
- unprivileged: run as nobody, root's exe links cannot be read: lone is
  undecided ("exe: cannot be read: Permission denied"), privileged is
  false, workers still matches w1 and w2 (cmdline, user and parent need
  no privilege), and lone-again lists lone as held by watch lone (which
  cannot decide on it, so no later watch may take it);
- bad-config: a config with an error exits 1, FILE:LINE:COLUMN: error: on
  stderr, nothing on stdout;
- daemon-same (with --daemon): `leakwatchd -t --show-matches CFG2` prints
  "configuration OK" and then the table `leakwatchctl match CFG2` prints,
  and with --json the same document (CFG2: the watches special and
  workers, whose lists hold only this run's processes; the header's count
  of processes read, which the machine changes between two runs, left
  out); both exit 1 on the bad config, stdout empty; --show-matches
  without -t is a usage error (2);
- took: each run of the command within 5 s (printed).

One PASS/FAIL line per check, then `match_test: N passed, M failed`.
About 3 s.
"""

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

from lwtest import PROGRAMS, PYTHON, Report, as_user, interrupt_on_term, stop_group, wait_for

TOOK_MAX_S = 5.0


def yaml_config(token):
    return f"""interval: 1s
watches:
  - name: special
    match:
      cmdline: "special-worker --tag {token} "
  - name: workers
    match:
      cmdline: "worker --tag {token} "
      user: root
      parent:
        cmdline: "--role master --tag {token} "
  - name: lone
    match:
      comm: python3
      exe: "*/python3*"
      cmdline: "--role lone --tag {token} "
  - name: lone-again
    match:
      cmdline: "--role lone --tag {token} "
"""


def family(role, token, children=(), ready=None, junk=None):
    argv = [PYTHON, "-B", os.path.join(PROGRAMS, "match_family.py"), "--role", role, "--tag", token,
            "--seconds", "120"]
    for c in children:
        argv += ["--child", c]
    if ready:
        argv += ["--ready", ready]
    if junk:
        argv += ["--junk", junk]
    return argv


def run_ctl(argv, env, user=None):
    """(exit status, stdout, stderr, seconds) of the command."""
    t0 = time.time()
    r = subprocess.run(as_user(user, user, argv) if user else argv, env=env, capture_output=True, text=True,
                       errors="replace", timeout=30)
    return r.returncode, r.stdout, r.stderr, time.time() - t0


def watches_of(doc):
    return {w["watch"]: w for w in doc.get("watches", [])}


def check_json(rep, w, pids, runner, token):
    want = {"special": {pids["special"]}, "workers": {pids["w1"], pids["w2"]}, "lone": {pids["lone"]}}
    for name, expect in want.items():
        got = {m["pid"] for m in w.get(name, {}).get("matched", [])}
        rep.check(got == expect, f"json: {name} matches exactly its processes",
                  f"{sorted(got)}, expected {sorted(expect)}")
    rows = {r["pid"]: r for r in w.get("workers", {}).get("not_matched", [])}
    expect = {pids["special"], pids["nobody"], pids["stray"], pids["orphan"]}
    rep.check(set(rows) == expect, "near-misses: workers lists exactly the run's near misses",
              f"{sorted(rows)}, expected {sorted(expect)}")
    cmd_reason = f"cmdline: no match for worker --tag {token} "
    master_reason = f"cmdline: no match for --role master --tag {token} "
    cases = [
        ("special", "taken", None, "taken by watch special, which comes first"),
        ("nobody", "near_miss", "user", "user: runs as nobody (65534), not root"),
        ("stray", "near_miss", "cmdline", cmd_reason),
        ("orphan", "near_miss", "parent", f"parent: pid {runner} (python3) does not match: {master_reason}"),
    ]
    for role, kind, crit, reason in cases:
        r = rows.get(pids[role], {})
        ok = r.get("kind") == kind and r.get("criterion") == crit and r.get("reason") == reason
        rep.check(ok, f"near-misses: {role} ({kind}{', ' + crit if crit else ''})",
                  "" if ok else json.dumps(r))
    if rows.get(pids["special"], {}).get("watch") != "special":
        rep.check(False, "near-misses: special names the watch that took it", json.dumps(rows.get(pids["special"])))
    lone = {r["pid"]: r for r in w.get("lone", {}).get("not_matched", [])}
    others = {v for k, v in pids.items() if k != "lone"}
    bad = [p for p in others if lone.get(p, {}).get("criterion") != "cmdline"]
    rep.check(not bad, "near-misses: lone lists the run's other processes on cmdline",
              f"missing or wrong: {bad}")
    again = w.get("lone-again", {})
    rows = again.get("not_matched", [])
    ok = not again.get("matched") and len(rows) == 1 and rows[0].get("pid") == pids["lone"] and \
        rows[0].get("kind") == "taken" and rows[0].get("watch") == "lone"
    rep.check(ok, "near-misses: lone-again lists lone, taken by watch lone", json.dumps(again))


def check_table(rep, text, pids, runner):
    lines = text.split("\n")
    problems = []
    for want in ("special: 1 matched", "workers: 2 matched", "lone: 1 matched", "lone-again: nothing matched",
                 "taken by watch special, which comes first", "user: runs as nobody (65534), not root",
                 f"parent: pid {runner} (python3) does not match"):
        if not any(want in ln for ln in lines):
            problems.append(f"no line with {want!r}")
    for role in ("w1", "w2", "special", "nobody", "stray", "orphan", "lone"):
        if not any(ln.split()[:1] == [str(pids[role])] for ln in lines):
            problems.append(f"no row for {role}")
    bad = [c for c in text if ord(c) < 0x20 and c != "\n"]
    if bad:
        problems.append(f"{len(bad)} control characters")
    rep.check(not problems, "table: the watches, the matches and the reasons, printable", "; ".join(problems))


def run(a, work, rep, procs):
    ctl = os.path.abspath(a.ctl)
    token = f"lwmt{os.getpid()}x{int(time.time()) % 100000}"
    cfg = os.path.join(work, "match.yaml")
    with open(cfg, "w") as f:
        f.write(yaml_config(token))
    os.chmod(cfg, 0o644)
    env = dict(os.environ, RUNTIME_DIRECTORY=os.path.join(work, "run"))
    os.makedirs(env["RUNTIME_DIRECTORY"], exist_ok=True)

    ready = os.path.join(work, "master.ready")
    log = open(os.path.join(work, "programs.stderr"), "w")
    for name, argv in (("master", family("master", token, ["worker", "worker", "worker@nobody", "stray",
                                                            "special-worker"], ready)),
                       ("orphan", family("worker", token)),
                       ("lone", family("lone", token, junk="\x1b[2J\nX\"y"))):
        procs[name] = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=log,
                                       start_new_session=True)
    pids = {"orphan": procs["orphan"].pid, "lone": procs["lone"].pid}

    def read_ready():
        try:
            with open(ready) as f:
                return json.load(f)
        except (OSError, ValueError):
            return None
    doc = wait_for(read_ready, 15)
    if not doc:
        rep.check(False, "set-up", "the master did not start its children")
        return
    kids = doc["children"]
    pids.update(w1=kids[0][2], w2=kids[1][2], nobody=kids[2][2], stray=kids[3][2], special=kids[4][2])

    # the orphan and lone run the program too (not the interpreter's start-up any more)
    def started(pid):
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                return b"--role" in f.read()
        except OSError:
            return False
    wait_for(lambda: started(pids["orphan"]) and started(pids["lone"]), 10)
    if a.verbose:
        print(f"  pids {pids}, runner {os.getpid()}")

    rc, out, err, _ = run_ctl([ctl, "status"], env)
    rep.check(rc == 1 and "not running" in err and not os.listdir(env["RUNTIME_DIRECTORY"]),
              "no-daemon: nothing listens in the runtime directory", f"status: exit {rc}, {err.strip()!r}")

    took = []
    rc, out, err, t = run_ctl([ctl, "match", cfg, "--json", "--max", "0"], env)
    took.append(t)
    try:
        doc = json.loads(out)
    except ValueError as e:
        rep.check(False, "json: valid", f"exit {rc}: {e}; stderr {err.strip()!r}")
        return
    rep.check(rc == 0 and doc.get("privileged") is True, "json: exit 0, as root", f"exit {rc}, stderr {err!r}")
    check_json(rep, watches_of(doc), pids, os.getpid(), token)

    rc, out, err, t = run_ctl([ctl, "match", cfg], env)
    took.append(t)
    rep.check(rc == 0, "table: exit 0", f"exit {rc}, stderr {err.strip()!r}")
    if a.verbose:
        print(out, end="")
    check_table(rep, out, pids, os.getpid())

    rc, out, err, t = run_ctl([ctl, "match", cfg, "--json", "--max", "1"], env)
    took.append(t)
    w = watches_of(json.loads(out)) if rc == 0 else {}
    wk = w.get("workers", {})
    rep.check(rc == 0 and len(wk.get("not_matched", [])) == 2 and wk.get("not_matched_more") == 2 and
              len(wk.get("matched", [])) == 2,
              "cap: --max 1 keeps one row of each list, counts the rest",
              f"exit {rc}: {len(wk.get('not_matched', []))} rows, {wk.get('not_matched_more')} more")

    rc, out, err, t = run_ctl([ctl, "match", cfg, "--json"], env, user="65534")
    took.append(t)
    try:
        w = watches_of(json.loads(out))
        priv = json.loads(out).get("privileged")
    except ValueError:
        w, priv = {}, None
    lone = {r["pid"]: r for r in w.get("lone", {}).get("not_matched", [])}.get(pids["lone"], {})
    got = {m["pid"] for m in w.get("workers", {}).get("matched", [])}
    rep.check(rc == 0 and priv is False and lone.get("kind") == "undecided" and
              "exe: cannot be read: Permission denied" in lone.get("reason", "") and
              not w.get("lone", {}).get("matched") and got == {pids["w1"], pids["w2"]},
              "unprivileged: lone undecided, workers still found",
              f"exit {rc}, privileged {priv}, lone {json.dumps(lone)}, workers {sorted(got)}; {err.strip()[:200]!r}")
    again = w.get("lone-again", {})
    held = [r for r in again.get("not_matched", []) if r.get("pid") == pids["lone"]]
    rep.check(not again.get("matched") and len(held) == 1 and held[0].get("kind") == "held" and
              held[0].get("watch") == "lone" and held[0].get("reason", "").startswith(
                  "held by watch lone, which comes first and cannot decide on it: exe: cannot be read"),
              "unprivileged: lone-again lists lone as held by watch lone", json.dumps(again))

    bad = os.path.join(work, "bad.yaml")
    with open(bad, "w") as f:
        f.write("watches:\n  - name: x\n    match: { cmdline: \"(\" }\n")
    rc, out, err, _ = run_ctl([ctl, "match", bad], env)
    rep.check(rc == 1 and not out and f"{bad}:3:" in err and "error:" in err,
              "bad-config: exit 1, the error on stderr", f"exit {rc}, stdout {out[:80]!r}, stderr {err.strip()!r}")

    if a.daemon:
        check_daemon_same(rep, os.path.abspath(a.daemon), ctl, work, token, bad, env)
    rep.check(max(took) <= TOOK_MAX_S, "took: each run within 5 s", ", ".join(f"{t:.2f}s" for t in took))


def check_daemon_same(rep, daemon, ctl, work, token, bad, env):
    """leakwatchd -t --show-matches against leakwatchctl match, on a config
    whose lists hold this run's processes alone."""
    cfg = os.path.join(work, "same.yaml")
    with open(cfg, "w") as f:
        f.write(yaml_config(token).split("  - name: lone\n")[0])

    def header_free(text):
        return re.sub(r"^(\d+ watch\S*), \d+ processes", r"\1, N processes", text)
    rc_c, out_c, err_c, _ = run_ctl([ctl, "match", cfg], env)
    rc_d, out_d, err_d, _ = run_ctl([daemon, "-t", "--show-matches", cfg], env)
    first, _, rest = out_d.partition("\n")
    ok = rc_c == rc_d == 0 and first == "configuration OK" and header_free(rest) == header_free(out_c) and \
        "workers: 2 matched" in out_c
    rep.check(ok, "daemon-same: leakwatchd -t --show-matches prints leakwatchctl match's table",
              "" if ok else f"exit {rc_d}/{rc_c}; leakwatchd:\n{out_d}{err_d}\nleakwatchctl:\n{out_c}{err_c}")
    rc_c, out_c, _, _ = run_ctl([ctl, "match", cfg, "--json"], env)
    rc_d, out_d, err_d, _ = run_ctl([daemon, "-t", "--show-matches", "--json", cfg], env)
    try:
        doc_c, doc_d = json.loads(out_c), json.loads(out_d)
        doc_c.pop("processes", None)
        doc_d.pop("processes", None)
        ok = rc_c == rc_d == 0 and doc_c == doc_d and len(doc_d.get("watches", [])) == 2
        why = "" if ok else f"exit {rc_d}/{rc_c}\n{json.dumps(doc_d)}\n{json.dumps(doc_c)}"
    except ValueError as e:
        ok, why = False, f"exit {rc_d}/{rc_c}: {e}; stdout {out_d[:200]!r}, stderr {err_d.strip()[:200]!r}"
    rep.check(ok, "daemon-same: --json, the same document alone on stdout", why)
    rc_c, out_c, _, _ = run_ctl([ctl, "match", bad], env)
    rc_d, out_d, err_d, _ = run_ctl([daemon, "-t", "--show-matches", bad], env)
    rc_u, _, err_u, _ = run_ctl([daemon, "--show-matches", cfg], env)
    rep.check(rc_c == rc_d == 1 and not out_d and "error:" in err_d and rc_u == 2 and "is for -t" in err_u,
              "daemon-same: the bad config exits 1 from both, --show-matches alone is a usage error",
              f"exit {rc_d}/{rc_c}, stdout {out_d[:80]!r}; alone: exit {rc_u}, {err_u.strip()[:120]!r}")


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--ctl", required=True, help="path to leakwatchctl")
    ap.add_argument("--daemon", help="path to leakwatchd: -t --show-matches checked against match")
    ap.add_argument("--keep", help="keep the config and logs in this directory")
    ap.add_argument("-v", "--verbose", action="store_true")
    a = ap.parse_args()
    if not os.access(a.ctl, os.X_OK):
        print(f"match_test: {a.ctl} is not an executable", file=sys.stderr)
        return 2
    if a.daemon and not os.access(a.daemon, os.X_OK):
        print(f"match_test: {a.daemon} is not an executable", file=sys.stderr)
        return 2
    if os.geteuid() != 0 or not shutil.which("setpriv"):
        print("match_test: needs root and setpriv", file=sys.stderr)
        return 2
    work = a.keep or tempfile.mkdtemp(prefix="leakwatch-match-")
    os.makedirs(work, exist_ok=True)
    os.chmod(work, 0o755)      # nobody reads the config
    rep, procs = Report(), {}
    interrupt_on_term()
    t0 = time.time()
    try:
        run(a, work, rep, procs)
    except KeyboardInterrupt:
        rep.check(False, "finished", "interrupted")
    except Exception as e:
        rep.check(False, "finished", f"{type(e).__name__}: {e}")
        import traceback
        traceback.print_exc()
    finally:
        for p in procs.values():
            stop_group(p, 3)
    if rep.passed + rep.failed == 0:
        rep.check(False, "ran", "no check was made")
    print(f"match_test: took {time.time() - t0:.1f}s" + (f"; kept {work}" if rep.failed or a.keep else ""))
    if not a.keep and not rep.failed:
        shutil.rmtree(work, ignore_errors=True)
    print(f"match_test: {rep.passed} passed, {rep.failed} failed")
    return 1 if rep.failed else 0


if __name__ == "__main__":
    sys.exit(main())
