/* Run one function call inside a live process, on whichever of its threads
 * next enters a chosen function (the "safe point"), without stopping the
 * process: ptrace(2) with PTRACE_SEIZE on every thread, an int3 at the
 * entry of the safe point, and the call set up in the registers of the
 * thread that traps there.  For CPython the safe point is
 * PyEval_SaveThread (a thread that holds the GIL and is about to release
 * it: any other thread could run Python code at that moment), and the call
 * is PyRun_SimpleString.  x86_64 only: elsewhere -EOPNOTSUPP.
 *
 * At the trap, the thread is first asked check_fn() (PyErr_Occurred: a
 * thread with an exception set is let go and the next one taken), then
 * alloc_fn(len) (PyMem_RawMalloc) for a copy of arg, then sent into
 * run_fn(copy) with a return path through a `ret` byte back to the entry
 * of the safe point, the breakpoint already removed: when run_fn returns,
 * the thread carries on as if nothing had happened (the callee-saved
 * registers are restored by run_fn itself, the others are free at a
 * function's entry; so the safe point must be a function that takes no
 * argument, as PyEval_SaveThread).  The tracer detaches before run_fn runs; if the tracer
 * dies, nothing is left behind but an armed breakpoint in the worst case,
 * which is why every exit path, a timeout included, removes it first.
 * The copy of arg (its length plus one) is never freed.
 *
 * The caller must run this in a process of its own (the daemon forks one):
 * it blocks SIGCHLD while it runs, and waits for any traced task. */
#ifndef LEAKWATCH_PTRACE_CALL_H
#define LEAKWATCH_PTRACE_CALL_H

#include "os/ptrace_types.h"

/* 0: run_fn is on its way in thread res->tid.  On failure res->why says
 * what, and nothing is left in the process (no breakpoint, no tracer):
 * -ESRCH the process exited, -EPERM ptrace refused (already traced, no
 * CAP_SYS_PTRACE, another user namespace), -ETIMEDOUT no thread reached
 * the safe point in time, -E2BIG too many threads, -EFAULT the addresses
 * do not hold what they should, -ENOMEM the allocation in the target
 * failed, -EOPNOTSUPP not x86_64, -EINVAL a bad request, or -errno. */
int ptrace_call(const struct ptrace_call_req *r, struct ptrace_call_result *res);

#endif
