/* The task set behind ptrace_call (ptrace_call.h says what and why):
 * seizing every thread of a process, sorting out the stops that come
 * (ours, the process's own signals, group-stops, new threads, forked
 * children), and leaving all of them as they were.
 *
 * Why every thread and its forks are traced: the breakpoint is one byte
 * in text shared by all threads, so any of them may trap; a thread that
 * traps untraced dies of SIGTRAP.  A child forked while the byte is
 * armed gets a copy of it, so each forked child is caught at its first
 * stop, given back the original byte in its own memory, and let go.
 *
 * Costs: a readdir of task/ per pass (a few passes: threads created
 * while it runs), a waitpid per event, a /proc/PID/task/TID/status read
 * per thread found stopped with a trap pending at the end. */
#include "os/ptrace_tasks.h"

#if defined(__x86_64__)
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "core/proc_parse.h"
#include "os/clock.h"
#include "os/files.h"

#define DETACH_WAIT_MS 2000

int pt_fail(struct tracer *tr, int err, const char *fmt, const char *a)
{
	if (!tr->res->why[0])
		snprintf(tr->res->why, sizeof(tr->res->why), fmt, a);
	return err;
}

struct task *pt_find(struct tracer *tr, pid_t tid)
{
	for (size_t i = 0; i < tr->n; i++)
		if (tr->t[i].tid == tid)
			return &tr->t[i];
	return NULL;
}

static struct task *add(struct tracer *tr, pid_t tid)
{
	struct task *t = pt_find(tr, tid);

	if (t)
		return t;
	if (tr->n == tr->cap) {
		size_t cap = tr->cap ? tr->cap * 2 : 64;
		struct task *nt;

		if (cap > PTRACE_CALL_THREADS_MAX + 64)
			return NULL;
		nt = realloc(tr->t, cap * sizeof(*nt));
		if (!nt)
			return NULL;
		tr->t = nt;
		tr->cap = cap;
	}
	t = &tr->t[tr->n++];
	*t = (struct task){ .tid = tid };
	return t;
}

int pt_mem_io(int fd, bool write, uint64_t addr, void *p, size_t len)
{
	ssize_t n = write ? pwrite(fd, p, len, (off_t)addr) : pread(fd, p, len, (off_t)addr);

	if (n < 0)
		return -errno;
	return (size_t)n == len ? 0 : -EFAULT;
}

int pt_poke(struct tracer *tr, uint8_t b)
{
	return pt_mem_io(tr->memfd, true, tr->r->safe_point, &b, 1);
}

/* Whether tid is traced by us already. */
static bool ours(const struct tracer *tr, pid_t tid)
{
	char path[40], text[4096];
	unsigned long long tracer;

	snprintf(path, sizeof(path), "task/%d/status", (int)tid);
	return file_read_into(tr->r->procfd, path, text, sizeof(text)) > 0 &&
	       proc_parse_status_number(text, "TracerPid", 10, &tracer) == 0 && tracer == (unsigned long long)getpid();
}

/* Seize every thread listed in task/, until a pass finds no new one.
 * 0, -EPERM, -E2BIG, -ESRCH, -errno. */
int pt_attach_all(struct tracer *tr)
{
	const long opts = PTRACE_O_TRACECLONE | PTRACE_O_TRACEFORK | PTRACE_O_TRACEVFORK;

	for (int round = 0; round < 8; round++) {
		int fd = openat(tr->r->procfd, "task", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
		struct dirent *de;
		bool added = false;

		if (!d) {
			if (fd >= 0)
				close(fd);
			return -ESRCH;
		}
		while ((de = readdir(d))) {
			pid_t tid = (pid_t)strtol(de->d_name, NULL, 10);

			if (tid <= 0 || pt_find(tr, tid))
				continue;
			if (tr->n >= PTRACE_CALL_THREADS_MAX) {
				closedir(d);
				return pt_fail(tr, -E2BIG, "more than %s threads", "4096");
			}
			if (ptrace(PTRACE_SEIZE, tid, NULL, (void *)opts) < 0) {
				int err = -errno;

				if (err == -ESRCH)
					continue;   /* the thread exited meanwhile */
				if (err == -EPERM && ours(tr, tid)) {
					/* a thread a traced one just cloned: traced
					 * already (TRACECLONE), its event not seen yet */
					if (!add(tr, tid)) {
						closedir(d);
						return -ENOMEM;
					}
					added = true;
					continue;
				}
				closedir(d);
				return err;
			}
			if (!add(tr, tid)) {
				ptrace(PTRACE_DETACH, tid, NULL, NULL);
				closedir(d);
				return -ENOMEM;
			}
			added = true;
		}
		closedir(d);
		if (!added)
			return tr->n ? 0 : -ESRCH;
	}
	return 0;
}

/* Wait for the next traced event until deadline (CLOCK_MONOTONIC usec).
 * 0, -ETIMEDOUT, -ESRCH (nothing traced left), -errno. */
int pt_wait_any(pid_t *tid, int *status, uint64_t deadline)
{
	for (;;) {
		pid_t p = waitpid(-1, status, __WALL | WNOHANG);
		sigset_t chld;
		uint64_t now;
		struct timespec ts;

		if (p > 0) {
			*tid = p;
			return 0;
		}
		if (p < 0)
			return errno == ECHILD ? -ESRCH : -errno;
		now = clock_usec(CLOCK_MONOTONIC);
		if (now >= deadline)
			return -ETIMEDOUT;
		ts.tv_sec = (time_t)((deadline - now) / 1000000);
		ts.tv_nsec = (long)((deadline - now) % 1000000) * 1000;
		sigemptyset(&chld);
		sigaddset(&chld, SIGCHLD);
		if (sigtimedwait(&chld, NULL, &ts) < 0 && errno != EAGAIN && errno != EINTR)
			return -errno;
	}
}

/* No task of the process left traced (children: forked ones too). */
bool pt_all_gone(const struct tracer *tr, bool children)
{
	for (size_t i = 0; i < tr->n; i++)
		if (!tr->t[i].gone && !tr->t[i].detached && (children || !tr->t[i].child))
			return false;
	return true;
}

/* Is this stop the trap of our breakpoint?  Sets rip back when it is. */
static bool our_trap(struct tracer *tr, pid_t tid, struct user_regs_struct *regs)
{
	siginfo_t si;

	if (ptrace(PTRACE_GETSIGINFO, tid, NULL, &si) < 0 || si.si_code != SI_KERNEL)
		return false;
	if (ptrace(PTRACE_GETREGS, tid, NULL, regs) < 0 || regs->rip != tr->r->safe_point + 1)
		return false;
	regs->rip = tr->r->safe_point;
	return true;
}

/* Whether tid is a thread of the process (not a child it forked). */
static bool member(const struct tracer *tr, pid_t tid)
{
	char path[32];

	snprintf(path, sizeof(path), "task/%d", (int)tid);
	return faccessat(tr->r->procfd, path, F_OK, 0) == 0;
}

/* Whether tid has a SIGTRAP pending: a thread that ran into the
 * breakpoint and was interrupted before it took the signal.  Detached so,
 * it would die of it. */
static bool trap_pending(const struct tracer *tr, pid_t tid)
{
	char path[40], text[4096];
	unsigned long long pending;

	snprintf(path, sizeof(path), "task/%d/status", (int)tid);
	return file_read_into(tr->r->procfd, path, text, sizeof(text)) > 0 &&
	       proc_parse_status_number(text, "SigPnd", 16, &pending) == 0 &&
	       (pending & (1ull << (SIGTRAP - 1)));
}

/* A forked child's first stop: give it back its text, let it go. */
static void release_child(struct tracer *tr, struct task *t)
{
	char path[32];
	int fd;

	if (t->fork_copy) {
		snprintf(path, sizeof(path), "../%d/mem", (int)t->tid);
		fd = openat(tr->r->procfd, path, O_RDWR | O_CLOEXEC);
		if (fd >= 0) {
			pt_mem_io(fd, true, tr->r->safe_point, &tr->orig, 1);
			close(fd);
		}
	}
	ptrace(PTRACE_DETACH, t->tid, NULL, NULL);
	t->detached = true;
}
/* Handle one event of tid.  A trap of the breakpoint is returned as
 * STOP_TRAP with the thread left stopped (rip set back, regs filled), an
 * interrupt stop (or a new thread's first) as STOP_INTERRUPT, a
 * single-step as STOP_STEP, a group-stop (the process stopped by a
 * signal) as STOP_GROUP, all left stopped; everything else is dealt with
 * here and the task resumed. */
enum stop pt_on_event(struct tracer *tr, pid_t tid, int status, struct user_regs_struct *regs)
{
	struct task *t = pt_find(tr, tid);
	unsigned long msg = 0;
	int sig, event;

	if (!t) {
		if (!(t = add(tr, tid)))
			return STOP_OTHER;   /* no memory: released when the tracer exits */
		/* Not a thread of the process: a child whose first stop came
		 * before its parent's fork event, which says what it is. */
		t->child = !member(tr, tid);
	}
	if (WIFEXITED(status) || WIFSIGNALED(status)) {
		t->gone = true;
		return STOP_OTHER;
	}
	if (!WIFSTOPPED(status))
		return STOP_OTHER;
	sig = WSTOPSIG(status);
	event = status >> 16;
	switch (event) {
	case PTRACE_EVENT_CLONE:
	case PTRACE_EVENT_FORK:
	case PTRACE_EVENT_VFORK:
		if (ptrace(PTRACE_GETEVENTMSG, tid, NULL, &msg) == 0 && msg > 0) {
			struct task *c = add(tr, (pid_t)msg);

			if (c && event != PTRACE_EVENT_CLONE) {
				c->child = true;
				c->told = true;
				c->fork_copy = event == PTRACE_EVENT_FORK;
				if (c->waiting)
					release_child(tr, c);
			}
		}
		ptrace(PTRACE_CONT, tid, NULL, NULL);
		return STOP_OTHER;
	case PTRACE_EVENT_STOP:
		if (t->child && !t->told) {
			t->waiting = true;   /* released at its parent's event */
			return STOP_OTHER;
		}
		if (t->child) {
			release_child(tr, t);
			return STOP_OTHER;
		}
		return sig == SIGTRAP ? STOP_INTERRUPT : STOP_GROUP;
	case 0:
		break;
	default:
		ptrace(PTRACE_CONT, tid, NULL, NULL);
		return STOP_OTHER;
	}
	if (sig == SIGTRAP && our_trap(tr, tid, regs))
		return STOP_TRAP;
	if (sig == SIGTRAP && tid == tr->chosen) {
		siginfo_t si;

		if (ptrace(PTRACE_GETSIGINFO, tid, NULL, &si) == 0 && si.si_code == TRAP_TRACE)
			return STOP_STEP;
	}
	ptrace(PTRACE_CONT, tid, NULL, (void *)(long)sig);   /* the process's own signal */
	return STOP_OTHER;
}

/* Let a task that stopped for nothing of ours go on: a group-stop stays
 * a stop (PTRACE_LISTEN), the rest runs. */
void pt_resume(pid_t tid, enum stop s)
{
	if (s == STOP_GROUP)
		ptrace(PTRACE_LISTEN, tid, NULL, NULL);
	else if (s == STOP_INTERRUPT || s == STOP_STEP)
		ptrace(PTRACE_CONT, tid, NULL, NULL);
}

/* Keep a trapped thread other than the chosen one until the breakpoint is
 * removed: its rip is already set back to the safe point. */
void pt_hold(struct tracer *tr, pid_t tid, struct user_regs_struct *regs)
{
	struct task *t = pt_find(tr, tid);

	if (ptrace(PTRACE_SETREGS, tid, NULL, regs) == 0 && t)
		t->held = true;
}

/* Stop every traced thread once, and let them go again: a thread seized
 * in the middle of fork(2) had its event decided before it was seized, so
 * its child would be neither traced nor given back the original byte if
 * its memory were copied after the breakpoint is armed.  Each thread's
 * stop comes when it leaves the kernel, fork done.  Call with the
 * breakpoint not armed; it is armed here, between the stops and the
 * resumes.  0 or -errno. */
int pt_barrier(struct tracer *tr)
{
	uint64_t deadline = clock_usec(CLOCK_MONOTONIC) + CALL_WAIT_MS * 1000ull;
	size_t left = 0;
	int err;

	for (size_t i = 0; i < tr->n; i++) {
		tr->t[i].parked = STOP_OTHER;
		tr->t[i].pending = ptrace(PTRACE_INTERRUPT, tr->t[i].tid, NULL, NULL) == 0;
		left += tr->t[i].pending;
	}
	while (left) {
		struct user_regs_struct regs;
		struct task *t;
		pid_t tid;
		int status;
		enum stop s;

		if ((err = pt_wait_any(&tid, &status, deadline)))
			return err == -ETIMEDOUT ? pt_fail(tr, err, "%s", "a thread did not stop") : err;
		s = pt_on_event(tr, tid, status, &regs);
		t = pt_find(tr, tid);
		if (!t || t->child)
			continue;
		if (t->pending) {
			/* Any stop, or its end, says it is out of the fork
			 * it may have been in; the interrupt may yet come. */
			t->pending = false;
			left--;
			if (!t->gone && (s == STOP_INTERRUPT || s == STOP_GROUP)) {
				t->parked = s;
				continue;
			}
		}
		pt_resume(tid, s);
	}
	if ((err = pt_poke(tr, INT3)))
		return err;
	tr->armed = true;
	for (size_t i = 0; i < tr->n; i++) {
		struct task *t = &tr->t[i];

		if (t->parked != STOP_OTHER && !t->gone)
			pt_resume(t->tid, t->parked);
		t->parked = STOP_OTHER;
	}
	return 0;
}

/* Leave the process as it was: the breakpoint removed, every task
 * detached (the chosen one, when it is still held, with its registers as
 * they were at the trap). */
void pt_release(struct tracer *tr)
{
	uint64_t deadline;

	if (tr->armed && pt_poke(tr, tr->orig) == 0)
		tr->armed = false;
	if (tr->chosen && !pt_find(tr, tr->chosen)->detached) {
		struct task *c = pt_find(tr, tr->chosen);

		if (ptrace(PTRACE_SETREGS, c->tid, NULL, &tr->regs0) == 0)
			c->held = true;
	}
	for (size_t i = 0; i < tr->n; i++) {
		struct task *t = &tr->t[i];

		if (t->gone || t->detached)
			continue;
		if (t->child && t->waiting) {
			/* Its parent's event did not come: with the breakpoint
			 * removed, writing the original byte is right for a copy
			 * and harmless for a shared memory. */
			t->fork_copy = true;
			release_child(tr, t);
		} else if (t->held) {
			ptrace(PTRACE_DETACH, t->tid, NULL, NULL);
			t->detached = true;
		} else if (!t->child) {
			ptrace(PTRACE_INTERRUPT, t->tid, NULL, NULL);
		}
	}
	deadline = clock_usec(CLOCK_MONOTONIC) + DETACH_WAIT_MS * 1000ull;
	while (!pt_all_gone(tr, true)) {
		struct user_regs_struct regs;
		pid_t tid;
		int status;
		enum stop s;
		struct task *t;

		if (pt_wait_any(&tid, &status, deadline) < 0)
			break;
		s = pt_on_event(tr, tid, status, &regs);
		t = pt_find(tr, tid);
		if (!t || t->gone || t->detached)
			continue;
		if (s == STOP_INTERRUPT && trap_pending(tr, tid)) {
			ptrace(PTRACE_CONT, tid, NULL, NULL);   /* its trap stop comes next */
			continue;
		}
		if (s == STOP_TRAP)
			ptrace(PTRACE_SETREGS, tid, NULL, &regs);
		if (s == STOP_TRAP || s == STOP_INTERRUPT || s == STOP_STEP || s == STOP_GROUP) {
			ptrace(PTRACE_DETACH, tid, NULL, NULL);   /* a group-stop stays one */
			t->detached = true;
		} else if (!t->child) {
			ptrace(PTRACE_INTERRUPT, tid, NULL, NULL);   /* a new thread, or resumed */
		}
	}
}

#endif
