"""leakwatch_celery -- let leakwatch recycle a Celery pool child without
losing its task.

    import leakwatch_celery
    leakwatch_celery.install(app)          # app: your celery.Celery

and in the leakwatch watch of the pool children: `signal: URG` (see the
Celery recipe in leakwatch's README and leakwatch.yaml(5)).  leakwatch
installs this file as PREFIX/share/leakwatch/python/leakwatch_celery.py: put
that directory on the worker's PYTHONPATH (Environment=PYTHONPATH=... in its
unit), or copy the file into your project.

Why a hook: no signal makes a busy prefork pool child finish its task and
then exit.  TERM, HUP and QUIT end it in the middle of the task (lost under
Celery's defaults, run again from the start with task_acks_late and
task_reject_on_worker_lost); USR1 is the soft time limit.  SIGURG is left
alone by Celery and billiard in pool children, and ignored by default, so a
worker without this hook is not harmed by it.  With the hook, on SIGURG the
child:

  - if it is waiting for a job (inside billiard's receive, so it holds
    none: a job already in its pipe is not acknowledged, and the main
    process hands it to another child), exits at once;
  - otherwise finishes the task in hand and, after it (task_postrun), sets
    its own shutdown sentinel: the result goes to the main process as
    usual, then the child exits before it takes another job, and the main
    process forks a replacement.

No task is cut short and none runs twice, whatever the acknowledgement
settings; the application keeps its own delivery guarantee.  It needs
worker_pool_restarts = True (install() sets it), which gives every pool
child the sentinel billiard tests before each job.  Checked with Celery
5.2 and billiard 4.1 (Debian 12) by leakwatch's `make celery`.
"""
import signal

__all__ = ["install"]

_retiring = [False]


def _billiard_pool_file():
    import billiard.pool
    return billiard.pool.__file__


def _waiting_for_job(frame, pool_file):
    """Whether billiard's job receive is on the stack: no job accepted yet."""
    while frame is not None:
        code = frame.f_code
        if code.co_name == "receive" and code.co_filename == pool_file:
            return True
        frame = frame.f_back
    return False


def _sentinel():
    """This pool child's shutdown sentinel, or None (worker_pool_restarts off)."""
    from billiard.process import current_process
    return getattr(getattr(current_process(), "_target", None), "_shutdown", None)


def install(app, signum=signal.SIGURG):
    """Make signum (SIGURG) retire a pool child of app after the task in hand.

    Sets app.conf.worker_pool_restarts and connects to the
    worker_process_init and task_postrun signals; call it once, where the
    app is made, before the worker starts."""
    from celery.signals import task_postrun, worker_process_init
    from celery.utils.log import get_logger

    app.conf.worker_pool_restarts = True
    pool_file = _billiard_pool_file()

    def on_signal(_signum, frame):
        if _waiting_for_job(frame, pool_file):
            raise SystemExit(0)
        _retiring[0] = True

    def on_child_start(**_):
        if _sentinel() is None:
            get_logger(__name__).warning("leakwatch: no pool sentinel (worker_pool_restarts is off): "
                                         "the signal retires this child only while it is idle")
        signal.signal(signum, on_signal)

    def after_task(**_):
        sentinel = _sentinel()
        if _retiring[0] and sentinel is not None:
            sentinel.set()

    # weak=False: the receivers are closures, kept alive by the signals
    worker_process_init.connect(on_child_start, weak=False)
    task_postrun.connect(after_task, weak=False)
