/* The task set of ptrace_call: the threads of one process seized, their
 * events, and leaving them all as they were.  Private to ptrace_call.c and
 * ptrace_tasks.c (ptrace_call.h says what the whole does and why); x86_64
 * only, as they are. */
#ifndef LEAKWATCH_PTRACE_TASKS_H
#define LEAKWATCH_PTRACE_TASKS_H

#if defined(__x86_64__)
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <sys/user.h>

#include "os/ptrace_types.h"

#define INT3 0xcc
#define CALL_WAIT_MS 5000      /* check_fn and alloc_fn return in microseconds */

struct task {
	pid_t tid;
	bool held;                 /* stopped at the trap, rip set back */
	bool child;                /* a forked child: detach at its first stop */
	bool fork_copy;            /* ... with its own copy of the text (not vfork) */
	bool gone;
	bool detached;
	bool stepped;              /* stepped over the breakpoint, to resume */
	bool waiting;              /* a child stopped before its parent's event */
	bool told;                 /* its parent's event came: fork_copy is known */
	bool pending;              /* interrupted at the barrier, its stop not seen yet */
	int parked;                /* the stop it is in at the barrier (enum stop) */
};

struct tracer {
	const struct ptrace_call_req *r;
	struct ptrace_call_result *res;
	int memfd;
	uint8_t orig;              /* the byte at the safe point */
	bool armed;
	struct task *t;
	size_t n, cap;
	pid_t chosen;              /* the thread being used, or 0 */
	struct user_regs_struct regs0;   /* its registers at the safe point */
};

enum stop { STOP_OTHER, STOP_TRAP, STOP_STEP, STOP_INTERRUPT, STOP_GROUP };

/* Set res->why from fmt (one %s: a) unless already set; returns err. */
int pt_fail(struct tracer *tr, int err, const char *fmt, const char *a);
/* The task of tid, or NULL. */
struct task *pt_find(struct tracer *tr, pid_t tid);
/* Read or write len bytes of the process at addr: 0, -EFAULT short, -errno. */
int pt_mem_io(int fd, bool write, uint64_t addr, void *p, size_t len);
/* Write b at the safe point: 0 or -errno. */
int pt_poke(struct tracer *tr, uint8_t b);
/* Seize every thread listed in task/, until a pass finds no new one.
 * 0, -EPERM, -E2BIG, -ESRCH, -errno. */
int pt_attach_all(struct tracer *tr);
/* Wait for the next traced event until deadline (CLOCK_MONOTONIC usec).
 * 0, -ETIMEDOUT, -ESRCH (nothing traced left), -errno. */
int pt_wait_any(pid_t *tid, int *status, uint64_t deadline);
/* No task of the process left traced (children: forked ones too). */
bool pt_all_gone(const struct tracer *tr, bool children);
/* Handle one event of tid; what the stop is (see ptrace_tasks.c). */
enum stop pt_on_event(struct tracer *tr, pid_t tid, int status, struct user_regs_struct *regs);
/* Let a task that stopped for nothing of ours go on. */
void pt_resume(pid_t tid, enum stop s);
/* Keep a trapped thread other than the chosen one until the breakpoint is
 * removed: its rip is already set back to the safe point. */
void pt_hold(struct tracer *tr, pid_t tid, struct user_regs_struct *regs);
/* Stop every thread once and arm the breakpoint between the stops and
 * the resumes.  0 or -errno. */
int pt_barrier(struct tracer *tr);
/* Leave the process as it was: breakpoint removed, every task detached. */
void pt_release(struct tracer *tr);

#endif
#endif
