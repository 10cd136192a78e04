/* One function call inside a live process (ptrace_call.h says what and why).
 *
 * Why not GDB: GDB 13 (Debian 12's) cannot call a function in a process on
 * a CPU with AMX: it writes the registers back with an XSAVE buffer of the
 * size it knows, which the kernel refuses ("Couldn't write extended state
 * status: Bad address"; variable XSAVE layouts came in GDB 14).  It also
 * stops every thread while it loads symbols, parses the target's files as
 * root, and leaves a thread with a dummy frame on its stack if it is
 * killed in a call.  What is needed here is small: the general registers
 * of one thread (PTRACE_GETREGS/SETREGS, no extended state: at a
 * function's entry the vector registers are the callee's to clobber), one
 * byte of text, and a few words of stack.
 *
 * Why a breakpoint at a safe point rather than a thread caught anywhere:
 * a thread stopped at an arbitrary instruction may be in the middle of
 * malloc, or of the interpreter's own bookkeeping with the GIL held;
 * running Python there corrupts it.  At the entry of the safe point the
 * thread is between two C calls, in a state in which the interpreter is
 * about to let any other thread run Python code.
 *
 * Why the other threads run: PTRACE_SEIZE does not stop a thread, so the
 * process keeps serving; only the thread that traps is held, for the two
 * short calls (check_fn, alloc_fn) and the register set-up (microseconds:
 * res->held_usec), and the threads that trap at the same time, for as
 * long.  run_fn itself runs after the tracer has detached.
 *
 * Costs: one PTRACE_SEIZE per thread (PTRACE_CALL_THREADS_MAX at most),
 * and per traced event a waitpid; the wait for the safe point is bounded
 * by the request's timeout, and the process is not stopped meanwhile. */
#include "os/ptrace_call.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <time.h>
#include <unistd.h>

#include "os/clock.h"
#include "os/ptrace_tasks.h"

#if defined(__x86_64__)
#define RET  0xc3
#define RED_ZONE 256           /* below the stack pointer: left alone */

/* Wait for the chosen thread to stop as want (a trap of the breakpoint, or
 * the end of a single step), handling the others' events meanwhile.
 * 0, -ESRCH, -ETIMEDOUT, -errno. */
static int wait_chosen(struct tracer *tr, enum stop want, uint64_t deadline, struct user_regs_struct *regs)
{
	for (;;) {
		struct user_regs_struct r;
		pid_t tid;
		int status, err = pt_wait_any(&tid, &status, deadline);
		enum stop s;

		if (err)
			return err;
		s = pt_on_event(tr, tid, status, &r);
		if (tid == tr->chosen && (WIFEXITED(status) || WIFSIGNALED(status)))
			return -ESRCH;
		if (tid == tr->chosen && s == want) {
			if (regs)
				*regs = r;
			return 0;
		}
		if (s == STOP_TRAP)
			pt_hold(tr, tid, &r);
		else
			pt_resume(tid, s);
	}
}

/* Call fn(arg) in the chosen thread, returning into the breakpoint.
 * The result in *ret.  0 or -errno. */
static int call(struct tracer *tr, uint64_t fn, uint64_t arg, uint64_t *ret)
{
	struct user_regs_struct regs = tr->regs0;
	uint64_t sp = ((tr->regs0.rsp - RED_ZONE) & ~(uint64_t)15) - 8;
	uint64_t back = tr->r->safe_point;
	int err;

	err = pt_mem_io(tr->memfd, true, sp, &back, sizeof(back));
	if (err)
		return err;
	regs.rsp = sp;
	regs.rip = fn;
	regs.rdi = arg;
	regs.rax = 0;
	regs.orig_rax = (unsigned long long)-1;
	if (ptrace(PTRACE_SETREGS, tr->chosen, NULL, &regs) < 0 || ptrace(PTRACE_CONT, tr->chosen, NULL, NULL) < 0)
		return -errno;
	err = wait_chosen(tr, STOP_TRAP, clock_usec(CLOCK_MONOTONIC) + CALL_WAIT_MS * 1000ull, &regs);
	if (err)
		return err;
	*ret = regs.rax;
	return 0;
}

/* Single-step one stopped thread (its rip at the safe point, the
 * breakpoint removed) over the instruction there; left stopped.  0 or
 * -errno. */
static int step(struct tracer *tr, pid_t tid)
{
	pid_t chosen = tr->chosen;
	int err;

	if (ptrace(PTRACE_SINGLESTEP, tid, NULL, NULL) < 0)
		return -errno;
	tr->chosen = tid;
	err = wait_chosen(tr, STOP_STEP, clock_usec(CLOCK_MONOTONIC) + CALL_WAIT_MS * 1000ull, NULL);
	tr->chosen = chosen;
	return err;
}

/* Let the chosen thread, and the ones held, run the instruction under the
 * breakpoint and go on, the breakpoint armed again behind them.  0 or
 * -errno. */
static int step_over(struct tracer *tr)
{
	int err = pt_poke(tr, tr->orig);

	if (err)
		return err;
	tr->armed = false;
	if (ptrace(PTRACE_SETREGS, tr->chosen, NULL, &tr->regs0) < 0)
		return -errno;
	if ((err = step(tr, tr->chosen)))
		return err;
	pt_find(tr, tr->chosen)->stepped = true;
	for (size_t i = 0; i < tr->n; i++) {
		struct task *t = &tr->t[i];

		if (!t->held || t->gone || t->detached)
			continue;
		if ((err = step(tr, t->tid)))
			return err;
		t->held = false;
		t->stepped = true;
	}
	if ((err = pt_poke(tr, INT3)))
		return err;
	tr->armed = true;
	for (size_t i = 0; i < tr->n; i++) {
		struct task *t = &tr->t[i];

		if (t->stepped && !t->gone && !t->detached)
			ptrace(PTRACE_CONT, t->tid, NULL, NULL);
		t->stepped = false;
	}
	tr->chosen = 0;
	return 0;
}

/* Send the chosen thread into run_fn(copy), returning through the ret
 * byte to the entry of the safe point with the stack as it found it, and
 * detach it.  The breakpoint must be removed already.  0 or -errno. */
static int launch(struct tracer *tr, uint64_t copy)
{
	struct user_regs_struct regs = tr->regs0;
	uint64_t frame[2] = { tr->r->ret_byte, tr->r->safe_point };
	uint64_t sp = tr->regs0.rsp - sizeof(frame);
	int err = pt_mem_io(tr->memfd, true, sp, frame, sizeof(frame));

	if (err)
		return err;
	regs.rsp = sp;
	regs.rip = tr->r->run_fn;
	regs.rdi = copy;
	regs.rax = 0;
	regs.orig_rax = (unsigned long long)-1;
	if (ptrace(PTRACE_SETREGS, tr->chosen, NULL, &regs) < 0)
		return -errno;
	if (ptrace(PTRACE_DETACH, tr->chosen, NULL, NULL) < 0)
		return -errno;
	pt_find(tr, tr->chosen)->detached = true;
	return 0;
}

/* The chosen thread trapped: check, allocate, copy, launch.  1 when it was
 * let go instead (an exception set), 0 launched, or -errno. */
static int use(struct tracer *tr)
{
	uint64_t v = 0, copy = 0;
	int err = call(tr, tr->r->check_fn, 0, &v);

	if (err)
		return err;
	if (v) {
		tr->res->skipped++;
		err = step_over(tr);
		return err ? err : 1;
	}
	if ((err = call(tr, tr->r->alloc_fn, tr->r->arg_len + 1, &copy)))
		return err;
	if (!copy)
		return pt_fail(tr, -ENOMEM, "%s", "the allocation in the process failed");
	err = pt_mem_io(tr->memfd, true, copy, (void *)tr->r->arg, tr->r->arg_len);
	if (!err) {
		uint8_t nul = 0;

		err = pt_mem_io(tr->memfd, true, copy + tr->r->arg_len, &nul, 1);
	}
	if (!err && !(err = pt_poke(tr, tr->orig)))
		tr->armed = false;
	return err ? err : launch(tr, copy);
}

/* Take the first thread that traps, until one is launched.  0 or -errno. */
static int run(struct tracer *tr)
{
	uint64_t armed_at = clock_usec(CLOCK_MONOTONIC);
	uint64_t deadline = armed_at + tr->r->timeout_ms * 1000ull;

	for (;;) {
		struct user_regs_struct regs;
		pid_t tid;
		int status, err = pt_wait_any(&tid, &status, deadline);
		uint64_t trap_at;

		if (err == -ETIMEDOUT)
			return pt_fail(tr, err, "no thread reached %s in time", "the safe point");
		if (err)
			return err;
		enum stop s = pt_on_event(tr, tid, status, &regs);

		if (s != STOP_TRAP) {
			pt_resume(tid, s);
			if (pt_all_gone(tr, false))
				return -ESRCH;
			continue;
		}
		trap_at = clock_usec(CLOCK_MONOTONIC);
		tr->chosen = tid;
		tr->regs0 = regs;
		if (!tr->res->wait_usec)
			tr->res->wait_usec = trap_at - armed_at;
		err = use(tr);
		if (err < 0)
			return err;
		if (err == 0) {
			tr->res->tid = tid;
			tr->res->held_usec = clock_usec(CLOCK_MONOTONIC) - trap_at;
			return 0;
		}
	}
}


static int check_request(const struct ptrace_call_req *r)
{
	if (r->pid <= 1 || r->procfd < 0 || !r->arg || r->arg_len > PTRACE_CALL_ARG_MAX ||
	    !r->safe_point || !r->check_fn || !r->alloc_fn || !r->run_fn || !r->ret_byte)
		return -EINVAL;
	return 0;
}

static int prepare(struct tracer *tr)
{
	uint8_t b = 0;
	int err;

	if ((err = pt_mem_io(tr->memfd, false, tr->r->ret_byte, &b, 1)))
		return err;
	if (b != RET)
		return pt_fail(tr, -EFAULT, "%s", "no ret instruction where the runtime's file has one");
	if ((err = pt_mem_io(tr->memfd, false, tr->r->safe_point, &tr->orig, 1)))
		return err;
	if (tr->orig == INT3)
		return pt_fail(tr, -EFAULT, "%s", "a breakpoint is already set at the safe point");
	return 0;
}

int ptrace_call(const struct ptrace_call_req *r, struct ptrace_call_result *res)
{
	struct tracer tr = { .r = r, .res = res, .memfd = -1 };
	uint64_t start = clock_usec(CLOCK_MONOTONIC);
	sigset_t chld, old;
	int err;

	memset(res, 0, sizeof(*res));
	if ((err = check_request(r)))
		return err;
	sigemptyset(&chld);
	sigaddset(&chld, SIGCHLD);
	sigprocmask(SIG_BLOCK, &chld, &old);
	tr.memfd = openat(r->procfd, "mem", O_RDWR | O_CLOEXEC);
	if (tr.memfd < 0) {
		err = errno == ENOENT ? -ESRCH : -errno;
		goto out;
	}
	if ((err = prepare(&tr)))
		goto out;
	err = pt_attach_all(&tr);
	res->threads = (unsigned)tr.n;
	if (err)
		goto out;
	if ((err = pt_barrier(&tr)))
		goto out;
	err = run(&tr);
out:
	pt_release(&tr);
	res->threads = (unsigned)tr.n;
	res->total_usec = clock_usec(CLOCK_MONOTONIC) - start;
	if (tr.memfd >= 0)
		close(tr.memfd);
	free(tr.t);
	sigprocmask(SIG_SETMASK, &old, NULL);
	if (err && !res->why[0])
		snprintf(res->why, sizeof(res->why), "%s", strerror(-err));
	return err;
}

#else /* !__x86_64__ */

int ptrace_call(const struct ptrace_call_req *r, struct ptrace_call_result *res)
{
	(void)r;
	memset(res, 0, sizeof(*res));
	snprintf(res->why, sizeof(res->why), "attaching is implemented for x86_64 only");
	return -EOPNOTSUPP;
}

#endif
