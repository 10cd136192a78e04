/* Inspections (inspect.h says what and when).
 *
 * One inspection is a small state machine on the event loop:
 *   attach 1 -> report 1 -> keep `seconds` -> attach 2 -> report 2 -> done
 * and any step may end it with a failure, told once.  Each attach is a
 * forked attacher (os/inspect_attach.h) watched as a child source and
 * killed past INSPECT_ATTACH_KILL_MS; each report is read from its FIFO
 * (os/inspect_channel.h) as it comes, at most INSPECT_REPORT_MAX bytes,
 * within INSPECT_REPORT_WAIT_MS of the call.  The daemon measures the
 * process (RSS, fds, threads) itself when each report is in, since the
 * process's own numbers are not to be trusted.
 *
 * Why refuse rather than try: the script must be root's alone (it runs
 * in every inspected process, as that process's user), and the process
 * must see the script and the channel where the daemon put them (a
 * process in another mount namespace would read another file, or none;
 * the attacher checks that, since it walks the process's root).
 *
 * Costs: per inspection two forks, two FIFOs, two reports of at most
 * 256 KiB held while they are read, and what the script costs the
 * process (its own comment says; measured in bench/inspect.py). */
#include "daemon/inspect.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/buf.h"
#include "core/inspect_boot.h"
#include "core/proc_parse.h"
#include "os/clock.h"
#include "os/inspect_attach.h"
#include "os/files.h"
#include "os/inspect_channel.h"
#include "os/safe_path.h"

struct inspection {
	struct inspector *in;
	struct inspect_job job;    /* the request and findings (inspect_job.h) */
	int procfd;
	char token[INSPECT_TOKEN_LEN + 1];
	struct inspect_channel ch;
	int phase;                 /* 1 or 2: the report being waited for */
	pid_t child;
	int child_fd;
	sd_event_source *child_src, *kill_src, *fifo_src, *timer_src;
	struct buf text;           /* the report being read */
	bool called;               /* the attacher made the call of this phase */
};

static void drop(struct inspection *x)
{
	struct inspector *in;

	if (!x)
		return;
	in = x->in;
	for (int i = 0; i < INSPECT_MAX_RUNNING; i++)
		if (in->run[i] == x)
			in->run[i] = NULL;
	sd_event_source_disable_unref(x->child_src);
	sd_event_source_disable_unref(x->kill_src);
	sd_event_source_disable_unref(x->fifo_src);
	sd_event_source_disable_unref(x->timer_src);
	if (x->child_fd >= 0)
		close(x->child_fd);
	if (x->procfd >= 0)
		close(x->procfd);
	inspect_channel_close(&x->ch);
	buf_free(&x->text);
	inspect_job_free(&x->job);
	free(x);
}

/* Whether the process is gone (a zombie, or another now). */
static bool gone(const struct inspection *x)
{
	struct proc_handle h;
	struct proc_sample s;
	int r = proc_open(x->in->root, x->job.pid, x->job.start_ticks, &h);

	if (r == 0)
		r = proc_sample(x->in->root, &h, &s);
	proc_close(&h);
	return r == -ESRCH;
}

/* End it with a failure: the event, the state, the end. */
static void fail(struct inspection *x, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void fail(struct inspection *x, const char *fmt, ...)
{
	struct inspector *in = x->in;
	char why[sizeof(x->job.why) - 64];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	if (gone(x))
		snprintf(x->job.why, sizeof(x->job.why), "the process exited during the inspection (%s)", why);
	else
		snprintf(x->job.why, sizeof(x->job.why), "%s", why);
	inspect_finish_failed(&x->job, in->emit, in->ctx);
	in->state(in->ctx, x->job.pid, x->job.start_ticks, "failed", x->job.why, x->job.incident);
	drop(x);
}

static int attach(struct inspection *x);

static int on_keep(sd_event_source *s, uint64_t usec, void *userdata)
{
	struct inspection *x = userdata;

	(void)s;
	(void)usec;
	x->timer_src = sd_event_source_disable_unref(x->timer_src);
	x->phase = 2;
	attach(x);
	return 0;
}

/* A report is in: check it, measure, go on. */
static void report_in(struct inspection *x)
{
	struct inspector *in = x->in;
	char why[256];
	int r;

	x->fifo_src = sd_event_source_disable_unref(x->fifo_src);
	x->timer_src = sd_event_source_disable_unref(x->timer_src);
	r = inspect_job_report(&x->job, x->phase, x->text.data ? x->text.data : "", x->text.len, x->token, why,
			       sizeof(why));
	buf_reset(&x->text);
	inspect_channel_done(&x->ch, x->phase);
	if (r < 0) {
		fail(x, "the report of phase %d is not valid: %s", x->phase, why);
		return;
	}
	inspect_job_measure(&x->job, in->root, x->phase);
	if (x->phase == 1) {
		r = sd_event_add_time_relative(in->e, &x->timer_src, CLOCK_MONOTONIC,
					       (uint64_t)x->job.seconds * 1000000, 100000, on_keep, x);
		if (r < 0)
			fail(x, "timer: %s", strerror(-r));
		return;
	}
	inspect_finish_ok(&x->job, in->emit, in->ctx);
	in->state(in->ctx, x->job.pid, x->job.start_ticks, "ok", x->job.summary, x->job.incident);
	drop(x);
}

static int on_fifo(sd_event_source *s, int fd, uint32_t revents, void *userdata)
{
	struct inspection *x = userdata;
	char chunk[16384];

	(void)s;
	(void)revents;
	for (;;) {
		ssize_t n = read(fd, chunk, sizeof(chunk));

		if (n > 0) {
			if (x->text.len + (size_t)n > INSPECT_REPORT_MAX) {
				fail(x, "the report of phase %d is larger than %u bytes", x->phase,
				     INSPECT_REPORT_MAX);
				return 0;
			}
			buf_add(&x->text, chunk, (size_t)n);
			continue;
		}
		if (n == 0) {          /* the writer closed it (or never came: no HUP then) */
			if (revents & EPOLLHUP)
				report_in(x);
			return 0;
		}
		if (errno == EINTR)
			continue;
		if (errno != EAGAIN)
			fail(x, "reading the report: %s", strerror(errno));
		return 0;
	}
}

static int on_report_timeout(sd_event_source *s, uint64_t usec, void *userdata)
{
	struct inspection *x = userdata;

	(void)s;
	(void)usec;
	if (x->text.len) {         /* the writer kept it open: take what came */
		report_in(x);
		return 0;
	}
	fail(x, "no report came within %d s of the call in phase %d (the interpreter may be stuck, or "
	     "the process cannot open %s)", INSPECT_REPORT_WAIT_MS / 1000, x->phase, x->ch.path[x->phase - 1]);
	return 0;
}

/* The tracer of the process (TracerPid), or 0. */
static long tracer_of(int procfd)
{
	char text[4096];
	unsigned long long v;

	if (file_read_into(procfd, "status", text, sizeof(text)) <= 0 ||
	    proc_parse_status_number(text, "TracerPid", 10, &v) < 0)
		return 0;
	return (long)v;
}

static void attach_failed(struct inspection *x, const struct attach_outcome *o)
{
	long tracer;

	if (o->stage == ATTACH_SEE && (o->err == -EACCES || o->err == -EPERM))
		fail(x, "ptrace refused: the daemon may not look into the process (%s: another user's process "
		     "needs CAP_SYS_PTRACE)", strerror(-o->err));
	else if (o->stage == ATTACH_SEE && o->err == -EXDEV)
		fail(x, "the process does not see the inspect script or the runtime directory as the daemon "
		     "does (another mount namespace or root)");
	else if (o->stage == ATTACH_SEE)
		fail(x, "the process's view of %s: %s", o->why, strerror(-o->err));
	else if (o->stage == ATTACH_RESOLVE)
		fail(x, "not an inspectable CPython process: %s", o->why);
	else if (o->err == -EPERM && (tracer = tracer_of(x->procfd)) > 0)
		fail(x, "ptrace refused: the process is already traced by pid %ld (a debugger or strace)", tracer);
	else if (o->err == -EPERM)
		fail(x, "ptrace refused: %s (no CAP_SYS_PTRACE, or a seccomp filter)", o->why);
	else
		fail(x, "attaching in phase %d failed: %s", x->phase, o->why);
}

static int on_attacher(sd_event_source *s, const siginfo_t *si, void *userdata)
{
	struct inspection *x = userdata;
	struct attach_outcome o;
	int r;

	(void)s;
	x->child_src = sd_event_source_disable_unref(x->child_src);
	x->kill_src = sd_event_source_disable_unref(x->kill_src);
	x->child = 0;
	r = inspect_attach_read(x->child_fd, &o);
	close(x->child_fd);
	x->child_fd = -1;
	if (r < 0) {
		fail(x, "the attacher of phase %d ended without a word (%s %d)", x->phase,
		     si->si_code == CLD_EXITED ? "exit status" : "signal", si->si_status);
		return 0;
	}
	inspect_job_attached(&x->job, x->phase, &o);
	if (o.err) {
		attach_failed(x, &o);
		return 0;
	}
	x->called = true;
	r = sd_event_add_time_relative(x->in->e, &x->timer_src, CLOCK_MONOTONIC,
				       INSPECT_REPORT_WAIT_MS * 1000ull, 100000, on_report_timeout, x);
	if (r < 0)
		fail(x, "timer: %s", strerror(-r));
	return 0;
}

static int on_kill(sd_event_source *s, uint64_t usec, void *userdata)
{
	struct inspection *x = userdata;

	(void)s;
	(void)usec;
	if (x->child > 0)
		kill(x->child, SIGKILL);   /* on_attacher tells */
	return 0;
}

/* Start the attacher of x->phase, and read the phase's FIFO.  0, or
 * failed (and x freed). */
static int attach(struct inspection *x)
{
	struct inspector *in = x->in;
	char code[PTRACE_CALL_ARG_MAX];
	const char *see[3] = { NULL, NULL, NULL };
	int r;

	x->called = false;
	r = inspect_bootstrap(code, sizeof(code), in->script, x->ch.path[x->phase - 1], x->token, x->phase,
			      x->job.seconds);
	if (r < 0)
		goto fail;
	r = sd_event_add_io(in->e, &x->fifo_src, x->ch.fd[x->phase - 1], EPOLLIN, on_fifo, x);
	if (r < 0)
		goto fail;
	see[0] = in->script;
	see[1] = x->ch.path[x->phase - 1];
	r = inspect_attach_spawn(x->procfd, x->job.pid, code, see, &x->child, &x->child_fd);
	if (r < 0)
		goto fail;
	if ((r = sd_event_add_child(in->e, &x->child_src, x->child, WEXITED, on_attacher, x)) < 0 ||
	    (r = sd_event_add_time_relative(in->e, &x->kill_src, CLOCK_MONOTONIC,
					    INSPECT_ATTACH_KILL_MS * 1000ull, 100000, on_kill, x)) < 0) {
		kill(x->child, SIGKILL);
		goto fail;
	}
	return 0;
fail:
	fail(x, "cannot start phase %d: %s", x->phase, strerror(-r));
	return r;
}

/* What must hold before anything runs in the process: the script root's
 * alone (that the process sees it and the channel as the daemon does is
 * the attacher's to check, out of the loop).  0 or -errno, why in why. */
static int check(struct inspection *x, char *why, size_t len)
{
	struct path_writers w;
	struct stat st;
	char who[PATH_MAX + 64];
	int fd = safe_path_open(x->in->script, &w, &st);

	if (fd < 0) {
		snprintf(why, len, "the inspect script %s: %s", x->in->script, strerror(-fd));
		return fd;
	}
	close(fd);
	if (w.trust != PATH_ROOT) {
		path_writers_say(&w, who, sizeof(who));
		snprintf(why, len, "the inspect script %s could be written by others than root: %s", x->in->script,
			 who);
		return -EPERM;
	}
	return 0;
}

bool inspect_running(const struct inspector *in, pid_t pid)
{
	for (int i = 0; i < INSPECT_MAX_RUNNING; i++)
		if (in->run[i] && in->run[i]->job.pid == pid)
			return true;
	return false;
}

static int new_inspection(struct inspector *in, const struct inspect_request *rq, struct inspection **out)
{
	struct inspection *x = calloc(1, sizeof(*x));
	uint8_t rnd[16];

	if (!x)
		return -ENOMEM;
	x->in = in;
	x->child_fd = -1;
	inspect_channel_none(&x->ch);
	x->procfd = fcntl(rq->procfd, F_DUPFD_CLOEXEC, 3);
	if (x->procfd < 0 || inspect_job_init(&x->job, rq) < 0) {
		int err = x->procfd < 0 ? -errno : -ENOMEM;

		drop(x);
		return err;
	}
	if (getrandom(rnd, sizeof(rnd), 0) != (ssize_t)sizeof(rnd)) {
		drop(x);
		return -EIO;
	}
	inspect_token(rnd, x->token);
	x->phase = 1;
	*out = x;
	return 0;
}

int inspect_start(struct inspector *in, const struct inspect_request *rq, char *why, size_t len)
{
	struct inspection *x = NULL;
	int slot = -1, r;

	if (inspect_running(in, rq->pid)) {
		snprintf(why, len, "an inspection of pid %d is running", (int)rq->pid);
		return -EBUSY;
	}
	for (int i = 0; i < INSPECT_MAX_RUNNING && slot < 0; i++)
		if (!in->run[i])
			slot = i;
	if (slot < 0) {
		snprintf(why, len, "%d inspections are running already", INSPECT_MAX_RUNNING);
		return -EAGAIN;
	}
	if ((r = new_inspection(in, rq, &x)) < 0) {
		snprintf(why, len, "%s", strerror(-r));
		return r;
	}
	in->run[slot] = x;
	r = inspect_channel_open(&x->ch, in->runtime, rq->pid, x->token);
	if (r < 0)
		snprintf(why, len, "cannot make the report channel under %s/%s: %s", in->runtime, INSPECT_SUBDIR,
			 strerror(-r));
	else
		r = check(x, why, len);
	if (r < 0) {
		fail(x, "%s", why);
		return r;
	}
	in->state(in->ctx, rq->pid, rq->start_ticks, "running", "", x->job.incident);
	if ((r = attach(x)) < 0) {
		snprintf(why, len, "cannot start the attacher: %s", strerror(-r));
		return r;
	}
	return 0;
}

int inspector_init(struct inspector *in, sd_event *e, const struct proc_root *root, const char *script,
		   const char *runtime, inspect_event_fn emit, inspect_state_fn state, void *ctx)
{
	memset(in, 0, sizeof(*in));
	if (snprintf(in->script, sizeof(in->script), "%s", script) >= (int)sizeof(in->script) ||
	    snprintf(in->runtime, sizeof(in->runtime), "%s", runtime) >= (int)sizeof(in->runtime))
		return -ENAMETOOLONG;
	in->e = e;
	in->root = root;
	in->emit = emit;
	in->state = state;
	in->ctx = ctx;
	return 0;
}

void inspector_free(struct inspector *in)
{
	for (int i = 0; i < INSPECT_MAX_RUNNING; i++)
		drop(in->run[i]);
}
