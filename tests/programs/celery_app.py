"""A small Celery app with a leaking task, for tests/celery_test.py and
bench/celery_limits.py.

    celery -A celery_app worker --pool prefork --concurrency 3 -n NAME@%h

(run from tests/programs, or with --workdir tests/programs).  The broker and
the result backend are the redis at LWCELERY_BROKER (redis://127.0.0.1:PORT/0).

celery_app.leak(kib, ms) appends kib KiB of filled bytes to a module-level
list that is never emptied, so every pool child grows by that much per task
for as long as it lives, then spends ms milliseconds (at most 5000) like a
real task, so that a child is often in the middle of one when leakwatch acts.
In redis, by task id: how often it started (hash lwcelery:starts: a task
cut short and given back to the broker starts twice) and its last start
(hash lwcelery:start, "PID T0"), and when it ends, its runs to the end
(hash lwcelery:runs) and its pid, start and end (hash lwcelery:span,
"PID T0 T1"); the task returns {"pid", "chunks"}, stored in the result
backend.

LWCELERY_MODE chooses what a recycle may cost:

    retire     (the default; leakwatch's Celery recipe) worker_pool_restarts
               on, and the hook below: SIGURG makes a pool child leave after
               the task in hand, like --max-memory-per-child does;
    acks-late  task_acks_late and task_reject_on_worker_lost: a child
               killed mid-task gives its task back to the broker;
    plain      Celery's defaults.

The hook is share/leakwatch/python/leakwatch_celery.py, the module leakwatch
installs (imported below, so the test checks what operators run).  It works
with Celery 5.2 / billiard 4.1 (Debian 12) and needs worker_pool_restarts =
True, which gives every pool child a shutdown sentinel that billiard tests
before it takes each job (billiard/pool.py, Worker._make_protected_receive).
On SIGURG the child:

  - if it is waiting for a job (inside that receive, so it has accepted
    none: a job already written to its pipe is not acknowledged and the
    main process hands it to another child), exits at once;
  - otherwise finishes the task in hand, and after it (task_postrun) sets
    its own sentinel: the result goes to the main process as usual, then
    the child exits before taking another job, status 0, and the main
    process forks a replacement.

No task is cut short and none is run twice.  SIGURG, because Celery and
billiard leave it alone in pool children (they reset TERM, HUP, QUIT, USR1,
USR2, TTIN and TTOU and ignore INT) and because its default action is to
ignore it: a worker without the hook is not harmed by it.
"""
import os
import sys
import time

from celery import Celery

BROKER = os.environ.get("LWCELERY_BROKER", "redis://127.0.0.1:6379/0")
MODE = os.environ.get("LWCELERY_MODE", "retire")

app = Celery("celery_app", broker=BROKER, backend=BROKER)
app.conf.update(
    task_serializer="json",
    result_serializer="json",
    accept_content=["json"],
    result_expires=None,
    worker_pool_restarts=(MODE == "retire"),
    task_acks_late=(MODE == "acks-late"),
    task_reject_on_worker_lost=(MODE == "acks-late"),
)

_kept = []          # the leak: one chunk more per task, never emptied
_redis = []         # this process's redis client, made after the fork


def _client():
    if not _redis:
        import redis
        _redis.append(redis.Redis.from_url(BROKER))
    return _redis[0]


@app.task(name="celery_app.leak", bind=True)
def leak(self, kib, ms):
    t0 = time.time()
    r = _client()
    tid = self.request.id
    r.hincrby("lwcelery:starts", tid, 1)
    r.hset("lwcelery:start", tid, f"{os.getpid()} {t0:.6f}")
    # a fresh, filled (so really resident) buffer; the fill byte varies so
    # no two chunks could be shared
    _kept.append(bytes([len(_kept) % 251 + 1]) * (max(0, min(int(kib), 65536)) * 1024))
    time.sleep(max(0, min(int(ms), 5000)) / 1000.0)
    r.hincrby("lwcelery:runs", tid, 1)
    r.hset("lwcelery:span", tid, f"{os.getpid()} {t0:.6f} {time.time():.6f}")
    return {"pid": os.getpid(), "chunks": len(_kept)}


# --- leakwatch: retire this pool child after its task on SIGURG ------------
# The module leakwatch ships (share/leakwatch/python), so `make celery`
# checks the very hook operators install.

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), os.pardir, os.pardir,
                                "share", "leakwatch", "python"))
import leakwatch_celery  # noqa: E402

if MODE == "retire":
    leakwatch_celery.install(app)
