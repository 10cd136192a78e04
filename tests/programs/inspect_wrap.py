"""Run a program unchanged (runpy, as __main__) with the inspection's
bootstrap wired to SIGUSR1, for tests/inspect_script_test.py: the script is
tested without ptrace.

    inspect_wrap.py CTL_DIR PROGRAM [ARG...]

On SIGUSR1 the handler reads CTL_DIR/boot (the bootstrap, exactly as the
daemon builds it) and runs it as PyRun_SimpleString would (compiled as
"<string>").  When the program returns, CTL_DIR/status gets one JSON object:
what the inspection left behind
  {"state": KEYS of sys._leakwatch_inspect or null, "tracing": BOOL,
   "expiry_threads": N, "exit": STATUS}
"""
import json
import os
import runpy
import signal
import sys

CTL = sys.argv[1]


def _inject(signum, frame):
    with open(os.path.join(CTL, "boot")) as f:
        code = f.read()
    exec(compile(code, "<string>", "exec"), {"__builtins__": __builtins__, "__name__": "__main__"})


def _status(status):
    import _tracemalloc
    threads = sys.modules.get("threading")
    n = 0
    if threads is not None:
        for t in threads.enumerate():
            # not t.name: a hostile program's Thread subclass may hang there
            if object.__getattribute__(t, "_name") == "leakwatch-inspect-expiry":
                t.join(1.0)
                n += t.is_alive()
    st = sys.__dict__.get("_leakwatch_inspect")
    rec = {"state": sorted(st) if isinstance(st, dict) else None,
           "tracing": _tracemalloc.is_tracing(), "expiry_threads": n, "exit": status}
    with open(os.path.join(CTL, "status.tmp"), "w") as f:
        f.write(json.dumps(rec) + "\n")
    os.rename(os.path.join(CTL, "status.tmp"), os.path.join(CTL, "status"))


def main():
    prog = sys.argv[2]
    sys.argv = sys.argv[2:]
    sys.path.insert(0, os.path.dirname(os.path.abspath(prog)))
    signal.signal(signal.SIGUSR1, _inject)
    status = 0
    try:
        runpy.run_path(prog, run_name="__main__")
    except SystemExit as e:
        status = e.code if isinstance(e.code, int) else 1
    signal.signal(signal.SIGUSR1, signal.SIG_IGN)
    _status(status)
    sys.stdout.flush()
    os._exit(status)   # the leaked threads are blocked forever: no joining them


if __name__ == "__main__":
    main()
