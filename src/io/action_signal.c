/* The signal action, and its kill_after escalation.
 *
 * The danger in signalling a pid is that it may no longer be the process
 * judged: it exited, and the pid went to another.  A check of the start
 * time followed by kill(2) leaves a window between the two, and the start
 * time itself has clock-tick resolution.  So the process is held first,
 * by a descriptor that names one process for good (a duplicate of the
 * monitor's kept /proc/PID directory, which pidfd_send_signal takes, else a
 * pidfd opened now), then checked (io/actor_backend.h: act_still_there),
 * then signalled through the descriptor.  Kernels without pidfds (before
 * 5.1/5.3) fall back on the start-time check and kill(2): the window is
 * back there, and nothing better exists on them.
 *
 * kill_after: a timer per signal sent, holding the same descriptor; when
 * it fires, a process still there (and no zombie) gets SIGKILL.  The
 * timers are kept in a list that act_signal_free() drops whole: an
 * escalation not yet due when leakwatchd stops is not carried out, and
 * nothing is reported for it (the signal was). */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "core/units.h"
#include "io/actor.h"
#include "io/actor_backend.h"

struct kill_timer {
	struct kill_timer *next;
	struct act_signal *owner;
	struct act_record s;
	int pidfd;                /* -1: no pidfd, re-check identity instead */
	int sig;
	uint64_t after_ms;
	sd_event_source *src;
};

struct act_signal {
	const struct act_base *base;
	struct kill_timer *timers;   /* kill_after escalations not yet due */
	unsigned n;
};

/* A descriptor to signal the judged process through: a duplicate of the
 * monitor's kept /proc/PID directory (it names the process that was
 * sampled, whoever has the pid now), else a pidfd opened now on whoever
 * has the pid (act_still_there() must follow).  The fd, or -errno: -ESRCH
 * gone, -ENOSYS no pidfds. */
static int hold_process(const struct act_request *r)
{
	int fd, e = act_held_alive(r);

	if (e == -ESRCH)
		return e;
	if (e == 0) {
		fd = fcntl(r->procfd, F_DUPFD_CLOEXEC, 3);
		if (fd >= 0)
			return fd;
	}
	fd = (int)syscall(SYS_pidfd_open, r->pid, 0);
	return fd < 0 ? -errno : fd;
}

/* Signal through pidfd, or, without one, kill(2) after the start-time
 * check.  0 or -errno (-ESRCH: gone or replaced). */
static int send_signal(const struct act_base *b, int pidfd, pid_t pid, unsigned long long start, int sig)
{
	if (pidfd >= 0 && syscall(SYS_pidfd_send_signal, pidfd, sig, NULL, 0) == 0)
		return 0;
	if (pidfd >= 0 && errno != ENOSYS)
		return -errno;
	/* no pidfd, or a /proc/PID fd on a kernel without pidfd_send_signal */
	if (act_same_process(b, pid, start) < 0)
		return -ESRCH;
	return kill(pid, sig) < 0 ? -errno : 0;
}

static void timer_free(struct kill_timer *k)
{
	struct kill_timer **pp;

	for (pp = &k->owner->timers; *pp; pp = &(*pp)->next)
		if (*pp == k) {
			*pp = k->next;
			k->owner->n--;
			break;
		}
	sd_event_source_disable_unref(k->src);
	if (k->pidfd >= 0)
		close(k->pidfd);
	act_record_clear(&k->s);
	free(k);
}

static int on_kill_after(sd_event_source *src, uint64_t usec, void *userdata)
{
	struct kill_timer *k = userdata;
	const struct act_base *b = k->s.base;
	char after[32];
	int r;

	(void)src;
	(void)usec;
	format_duration(after, sizeof(after), (double)k->after_ms / 1000.0);
	/* Still there?  A pidfd also answers for a zombie: check the state too. */
	r = send_signal(b, k->pidfd, k->s.pid, k->s.start_ticks, 0);
	if (r == 0 && act_same_process(b, k->s.pid, k->s.start_ticks) == 0) {
		r = send_signal(b, k->pidfd, k->s.pid, k->s.start_ticks, SIGKILL);
		if (r == 0)
			act_report(&k->s, "ok", "still running %s after SIG%s: sent SIGKILL", after,
				   sigabbrev_np(k->sig));
		else
			act_report(&k->s, "failed", "SIGKILL after %s: %s", after, strerror(-r));
	}
	timer_free(k);
	return 0;
}

/* Arm the kill_after timer; it takes pidfd and the record on success.
 * 0 or -errno. */
static int arm_kill_after(struct act_signal *as, const struct watch *w, int pidfd, struct act_record *s)
{
	struct kill_timer *k = calloc(1, sizeof(*k));
	int e;

	if (!k)
		return -ENOMEM;
	e = sd_event_add_time_relative(as->base->event, &k->src, CLOCK_MONOTONIC,
				       w->kill_after_ms * 1000, 1000, on_kill_after, k);
	if (e < 0) {
		free(k);
		return e;
	}
	k->owner = as;
	k->s = *s;             /* the timer owns the strings now */
	memset(s, 0, sizeof(*s));
	k->pidfd = pidfd;
	k->sig = w->signal;
	k->after_ms = w->kill_after_ms;
	k->next = as->timers;
	as->timers = k;
	as->n++;
	return 0;
}

void act_signal_run(struct act_signal *as, const struct act_request *r, struct act_record *s)
{
	const struct watch *w = r->watch;
	int pidfd, e;

	/* Hold the process first, then check it is the one we judged: a pidfd
	 * opened before the check cannot be fooled by a later pid reuse. */
	pidfd = hold_process(r);
	if (pidfd < 0 && pidfd != -ENOSYS && pidfd != -ESRCH) {
		act_report(s, "failed", "cannot hold pid %d: %s", (int)r->pid, strerror(-pidfd));
		goto out;
	}
	if (pidfd == -ESRCH || act_still_there(as->base, r) < 0)
		e = -ESRCH;
	else
		e = send_signal(as->base, pidfd, r->pid, r->start_ticks, w->signal);
	if (e == -ESRCH) {
		act_report(s, "failed", "pid %d is gone or was replaced before the signal", (int)r->pid);
		goto out;
	}
	if (e == -EPERM) {   /* another user's process, and we are not root */
		act_report(s, "failed", "SIG%s: %s: leakwatchd may not signal this process (run it as root or with CAP_KILL)",
			   sigabbrev_np(w->signal), strerror(-e));
		goto out;
	}
	if (e < 0) {
		act_report(s, "failed", "SIG%s: %s", sigabbrev_np(w->signal), strerror(-e));
		goto out;
	}
	act_report(s, "ok", "sent SIG%s", sigabbrev_np(w->signal));
	if (w->kill_after_ms && w->signal != SIGKILL && arm_kill_after(as, w, pidfd, s) == 0)
		return;
out:
	if (pidfd >= 0)
		close(pidfd);
	act_record_clear(s);
}

int act_signal_new(struct act_signal **out, const struct act_base *b)
{
	struct act_signal *as = calloc(1, sizeof(*as));

	if (!as)
		return -ENOMEM;
	as->base = b;
	*out = as;
	return 0;
}

unsigned act_signal_pending(const struct act_signal *as)
{
	return as ? as->n : 0;
}

void act_signal_free(struct act_signal *as)
{
	if (!as)
		return;
	while (as->timers)
		timer_free(as->timers);
	free(as);
}
