#include "io/actor.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <systemd/sd-bus.h>
#include <time.h>
#include <unistd.h>

#include "core/action_policy.h"
#include "os/clock.h"
#include "io/log.h"
#include "core/units.h"

extern char **environ;

#ifndef SYS_pidfd_open
#define SYS_pidfd_open 434
#endif
#ifndef SYS_pidfd_send_signal
#define SYS_pidfd_send_signal 424
#endif

struct actor {
	sd_event *event;
	const struct proc_root *root;
	pid_t self;
	bool dry_run;
	act_emit_fn emit;
	void *ctx;
	sd_bus *bus;
	struct action_policy *policies;
	struct exec_job *jobs;    /* exec commands still running */
	struct rlimit child_nofile; /* RLIMIT_NOFILE for exec commands; 0: as ours */
	unsigned pending;
};

/* What an action event needs after the request is gone (timers, children). */
struct act_subject {
	struct actor *a;
	char *watch, *comm, *unit, *incident;
	const char *action;
	int metric;
	pid_t pid;
	unsigned long long start_ticks;
};

static int subject_init(struct act_subject *s, struct actor *a, const struct act_request *r, const char *action)
{
	memset(s, 0, sizeof(*s));
	s->a = a;
	s->action = action;
	s->metric = r->metric;
	s->pid = r->pid;
	s->start_ticks = r->start_ticks;
	s->watch = strdup(r->watch->name);
	s->comm = strdup(r->comm ? r->comm : "?");
	s->incident = r->incident ? strdup(r->incident) : NULL;
	return s->watch && s->comm && (s->incident || !r->incident) ? 0 : -ENOMEM;
}

static void subject_clear(struct act_subject *s)
{
	free(s->watch);
	free(s->comm);
	free(s->unit);
	free(s->incident);
	s->watch = s->comm = s->unit = s->incident = NULL;
}

static void report(const struct act_subject *s, const char *result, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void report(const struct act_subject *s, const char *result, const char *fmt, ...)
{
	struct event ev;
	va_list ap;

	event_init(&ev, EVENT_ACTION, clock_usec(CLOCK_REALTIME));
	va_start(ap, fmt);
	vsnprintf(ev.detail, sizeof(ev.detail), fmt, ap);
	va_end(ap);
	event_about(&ev, &(struct subject){ s->watch, s->pid, s->comm });
	ev.metric = s->metric;
	ev.action = s->action;
	ev.result = result;
	ev.unit = s->unit;
	ev.incident = s->incident;
	event_describe(&ev);
	s->a->emit(s->a->ctx, &ev);
}

/* Is pid still the process that started at start_ticks? */
static int same_process(struct actor *a, pid_t pid, unsigned long long start_ticks)
{
	struct proc_stat st;
	int r = proc_read_stat(a->root, pid, &st, NULL);

	if (r < 0)
		return r;
	if (st.start_ticks != start_ticks || st.state == 'Z' || st.state == 'X')
		return -ESRCH;
	return 0;
}

/* Is the monitor's kept /proc/PID directory of the process alive?  0 yes,
 * -ESRCH gone, another -errno when it cannot tell (no such fd, not a
 * /proc/PID directory, a kernel without pidfd_send_signal). */
static int held_alive(const struct act_request *r)
{
	if (r->procfd < 0)
		return -EBADF;
	return syscall(SYS_pidfd_send_signal, r->procfd, 0, NULL, 0) < 0 ? -errno : 0;
}

/* Is the process judged still there?  Its pid must still have its start
 * time, and when the monitor's kept /proc/PID directory can tell, that very
 * process must be alive: a start time counts clock ticks, so a process
 * that took the pid within the same tick would pass for it.  0 or -ESRCH. */
static int still_there(struct actor *a, const struct act_request *r)
{
	int e = same_process(a, r->pid, r->start_ticks);

	if (e < 0)
		return e;
	return held_alive(r) == -ESRCH ? -ESRCH : 0;
}

/* A descriptor to signal the judged process through: a duplicate of the
 * monitor's kept /proc/PID directory (pidfd_send_signal takes one: it names
 * the process that was sampled, whoever has the pid now), else a pidfd
 * opened now on whoever has the pid (still_there() must follow).  The fd,
 * or -errno: -ESRCH gone, -ENOSYS no pidfds. */
static int hold_process(const struct act_request *r)
{
	int fd, e = held_alive(r);

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

/* ---- signal --------------------------------------------------------------- */

struct kill_timer {
	struct act_subject s;
	int pidfd;                /* -1: no pidfd, re-check identity instead */
	int sig;
	uint64_t after_ms;
	sd_event_source *src;
};

static int send_signal(struct actor *a, int pidfd, pid_t pid, unsigned long long start, int sig)
{
	if (pidfd >= 0 && syscall(SYS_pidfd_send_signal, pidfd, sig, NULL, 0) == 0)
		return 0;
	if (pidfd >= 0 && errno != ENOSYS)
		return -errno;
	/* no pidfd, or a /proc/PID fd on a kernel without pidfd_send_signal */
	if (same_process(a, pid, start) < 0)
		return -ESRCH;
	return kill(pid, sig) < 0 ? -errno : 0;
}

static int on_kill_after(sd_event_source *src, uint64_t usec, void *userdata)
{
	struct kill_timer *k = userdata;
	char after[32];
	int r;

	(void)usec;
	format_duration(after, sizeof(after), (double)k->after_ms / 1000.0);
	/* Still there?  A pidfd also answers for a zombie: check the state too. */
	r = send_signal(k->s.a, k->pidfd, k->s.pid, k->s.start_ticks, 0);
	if (r == 0 && same_process(k->s.a, k->s.pid, k->s.start_ticks) == 0) {
		r = send_signal(k->s.a, k->pidfd, k->s.pid, k->s.start_ticks, SIGKILL);
		if (r == 0)
			report(&k->s, "ok", "still running %s after SIG%s: sent SIGKILL", after,
			       sigabbrev_np(k->sig));
		else
			report(&k->s, "failed", "SIGKILL after %s: %s", after, strerror(-r));
	}
	k->s.a->pending--;
	sd_event_source_unref(src);
	if (k->pidfd >= 0)
		close(k->pidfd);
	subject_clear(&k->s);
	free(k);
	return 0;
}

static void do_signal(struct actor *a, const struct act_request *r)
{
	const struct watch *w = r->watch;
	struct act_subject s;
	int pidfd = -1, e;

	if (subject_init(&s, a, r, "signal") < 0)
		goto out;
	/* Hold the process first, then check it is the one we judged: a pidfd
	 * opened before the check cannot be fooled by a later pid reuse. */
	pidfd = hold_process(r);
	if (pidfd < 0 && pidfd != -ENOSYS && pidfd != -ESRCH) {
		report(&s, "failed", "cannot hold pid %d: %s", (int)r->pid, strerror(-pidfd));
		goto close;
	}
	if (pidfd == -ESRCH || still_there(a, r) < 0)
		e = -ESRCH;
	else
		e = send_signal(a, pidfd, r->pid, r->start_ticks, w->signal);
	if (e == -ESRCH) {
		report(&s, "failed", "pid %d is gone or was replaced before the signal", (int)r->pid);
		goto close;
	}
	if (e == -EPERM) {   /* another user's process, and we are not root */
		report(&s, "failed", "SIG%s: %s: leakwatchd may not signal this process (run it as root or with CAP_KILL)",
		       sigabbrev_np(w->signal), strerror(-e));
		goto close;
	}
	if (e < 0) {
		report(&s, "failed", "SIG%s: %s", sigabbrev_np(w->signal), strerror(-e));
		goto close;
	}
	report(&s, "ok", "sent SIG%s", sigabbrev_np(w->signal));
	if (w->kill_after_ms && w->signal != SIGKILL) {
		struct kill_timer *k = calloc(1, sizeof(*k));

		if (k) {
			k->s = s;          /* the timer owns the strings now */
			memset(&s, 0, sizeof(s));
			k->pidfd = pidfd;
			k->sig = w->signal;
			k->after_ms = w->kill_after_ms;
			if (sd_event_add_time_relative(a->event, &k->src, CLOCK_MONOTONIC,
						       w->kill_after_ms * 1000, 1000, on_kill_after, k) >= 0) {
				a->pending++;
				return;
			}
			s = k->s;
			free(k);
		}
	}
close:
	if (pidfd >= 0)
		close(pidfd);
out:
	subject_clear(&s);
}

/* ---- exec ----------------------------------------------------------------- */

struct exec_job {
	struct exec_job *next;
	struct act_subject s;
	pid_t child;
	int out_fd;
	bool timed_out;
	uint64_t timeout_ms;
	char line[512];
	size_t line_len;
	sd_event_source *child_src, *io_src, *timer_src;
};

static void log_line(struct exec_job *j)
{
	if (j->line_len == 0)
		return;
	j->line[j->line_len] = '\0';
	log_info("%s: exec (pid %d) for pid %d: %s", j->s.watch, (int)j->child, (int)j->s.pid, j->line);
	j->line_len = 0;
}

static void drain(struct exec_job *j)
{
	char buf[1024];
	ssize_t n;

	while ((n = read(j->out_fd, buf, sizeof(buf))) > 0)
		for (ssize_t i = 0; i < n; i++) {
			if (buf[i] == '\n' || j->line_len == sizeof(j->line) - 1)
				log_line(j);
			if (buf[i] != '\n')
				j->line[j->line_len++] = buf[i];
		}
}

static int on_exec_output(sd_event_source *src, int fd, uint32_t revents, void *userdata)
{
	struct exec_job *j = userdata;

	(void)fd;
	drain(j);
	if (revents & (EPOLLHUP | EPOLLERR))
		sd_event_source_set_enabled(src, SD_EVENT_OFF);
	return 0;
}

static int on_exec_timeout(sd_event_source *src, uint64_t usec, void *userdata)
{
	struct exec_job *j = userdata;

	(void)src;
	(void)usec;
	j->timed_out = true;
	kill(-j->child, SIGKILL);   /* its whole process group */
	return 0;
}

static void job_free(struct exec_job *j)
{
	struct exec_job **pp;

	for (pp = &j->s.a->jobs; *pp; pp = &(*pp)->next)
		if (*pp == j) {
			*pp = j->next;
			break;
		}
	j->s.a->pending--;
	sd_event_source_unref(j->child_src);
	sd_event_source_unref(j->io_src);
	sd_event_source_unref(j->timer_src);
	close(j->out_fd);
	subject_clear(&j->s);
	free(j);
}

static int on_exec_exit(sd_event_source *src, const siginfo_t *si, void *userdata)
{
	struct exec_job *j = userdata;
	char t[32];

	(void)src;
	drain(j);
	log_line(j);
	format_duration(t, sizeof(t), (double)j->timeout_ms / 1000.0);
	if (j->timed_out)
		report(&j->s, "failed", "timed out after %s, killed", t);
	else if (si->si_code == CLD_EXITED && si->si_status == 0)
		report(&j->s, "ok", "exited 0");
	else if (si->si_code == CLD_EXITED)
		report(&j->s, "failed", "exit status %d", si->si_status);
	else
		report(&j->s, "failed", "killed by SIG%s", sigabbrev_np(si->si_status));
	kill(-j->child, SIGKILL);   /* whatever it left behind in its group */
	job_free(j);
	return 0;
}

static void do_exec(struct actor *a, const struct act_request *r)
{
	const struct watch *w = r->watch;
	struct action_subject as = {
		.pid = r->pid, .watch = w->name, .metric = metric_name((enum metric)r->metric),
		.event = event_name(r->why), .value = r->value,
	};
	struct exec_job *j = calloc(1, sizeof(*j));
	char **argv = NULL, **env = NULL;
	int pipefd[2] = { -1, -1 }, devnull;

	if (!j || subject_init(&j->s, a, r, "exec") < 0)
		goto fail;
	/* {pid} must name the process judged when the command starts; what the
	 * command does with it later, it answers for */
	if (still_there(a, r) < 0) {
		report(&j->s, "failed", "pid %d is gone or was replaced before the command", (int)r->pid);
		goto fail;
	}
	j->timeout_ms = w->exec_timeout_ms;
	if (action_argv(w, &as, &argv) < 0 || action_env(environ, &as, &env) < 0 ||
	    pipe2(pipefd, O_CLOEXEC) < 0) {
		report(&j->s, "failed", "cannot prepare: %s", strerror(errno ? errno : ENOMEM));
		goto fail;
	}
	j->child = fork();
	if (j->child < 0) {
		report(&j->s, "failed", "fork: %s", strerror(errno));
		goto fail;
	}
	if (j->child == 0) {
		sigset_t none;

		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		if (a->child_nofile.rlim_cur)   /* the limit leakwatchd was started with */
			setrlimit(RLIMIT_NOFILE, &a->child_nofile);
		setpgid(0, 0);
		devnull = open("/dev/null", O_RDONLY);
		if (devnull >= 0)
			dup2(devnull, STDIN_FILENO);
		dup2(pipefd[1], STDOUT_FILENO);
		dup2(pipefd[1], STDERR_FILENO);
		execvpe(argv[0], argv, env);
		dprintf(STDERR_FILENO, "cannot run %s: %s\n", argv[0], strerror(errno));
		_exit(127);
	}
	setpgid(j->child, j->child);   /* also here: no race with the timeout's kill */
	close(pipefd[1]);
	pipefd[1] = -1;
	j->out_fd = pipefd[0];
	fcntl(j->out_fd, F_SETFL, O_NONBLOCK);
	if (sd_event_add_child(a->event, &j->child_src, j->child, WEXITED, on_exec_exit, j) < 0 ||
	    sd_event_add_io(a->event, &j->io_src, j->out_fd, EPOLLIN, on_exec_output, j) < 0 ||
	    sd_event_add_time_relative(a->event, &j->timer_src, CLOCK_MONOTONIC,
				       w->exec_timeout_ms * 1000, 1000, on_exec_timeout, j) < 0) {
		/* cannot follow it: stop it now and say so */
		kill(-j->child, SIGKILL);
		waitpid(j->child, NULL, 0);
		report(&j->s, "failed", "cannot follow the command");
		sd_event_source_unref(j->child_src);
		sd_event_source_unref(j->io_src);
		sd_event_source_unref(j->timer_src);
		goto fail;
	}
	a->pending++;
	j->next = a->jobs;
	a->jobs = j;
	strv_free(argv);
	strv_free(env);
	return;
fail:
	if (pipefd[0] >= 0)
		close(pipefd[0]);
	if (pipefd[1] >= 0)
		close(pipefd[1]);
	strv_free(argv);
	strv_free(env);
	if (j) {
		subject_clear(&j->s);
		free(j);
	}
}

/* ---- restart-unit --------------------------------------------------------- */

static int on_restart_reply(sd_bus_message *m, void *userdata, sd_bus_error *error)
{
	struct act_subject *s = userdata;
	const sd_bus_error *e = sd_bus_message_get_error(m);

	(void)error;
	if (e)
		report(s, "failed", "RestartUnit %s: %s", s->unit, e->message ? e->message : e->name);
	else
		report(s, "ok", "RestartUnit %s queued", s->unit);
	s->a->pending--;
	subject_clear(s);
	free(s);
	return 0;
}

/* The unit to restart: the rule's, or the system unit the process is in.
 * NULL, with *why set, when there is none. */
static char *restart_target(struct actor *a, const struct act_request *r, const char **why)
{
	char rel[48], buf[4096], unit[256];
	ssize_t n;

	if (r->watch->unit)
		return strdup(r->watch->unit);
	snprintf(rel, sizeof(rel), "%d/cgroup", (int)r->pid);
	n = proc_read_file(a->root, rel, buf, sizeof(buf));
	/* Checked after the read: a process still there now was there then, so
	 * the cgroup read is its own, not that of a process that took its pid. */
	if (still_there(a, r) < 0) {
		*why = "is gone or was replaced before its unit was looked up";
		return NULL;
	}
	if (n <= 0 || proc_parse_unit(buf, unit, sizeof(unit)) < 0) {
		*why = "is in no systemd unit";
		return NULL;
	}
	if (strstr(buf, "/user@")) {   /* the system manager does not know it */
		*why = "is in a unit of a user's service manager, not a system unit";
		return NULL;
	}
	return strdup(unit);
}

static void do_restart(struct actor *a, const struct act_request *r, char *unit)
{
	struct act_subject *s = calloc(1, sizeof(*s));
	int e;

	if (!s || subject_init(s, a, r, "restart-unit") < 0) {
		free(unit);
		goto out;
	}
	s->unit = unit;
	if (still_there(a, r) < 0) {
		report(s, "failed", "pid %d is gone or was replaced before the restart", (int)r->pid);
		goto out;
	}
	if (!a->bus) {
		e = sd_bus_open_system(&a->bus);
		if (e >= 0)
			e = sd_bus_attach_event(a->bus, a->event, SD_EVENT_PRIORITY_NORMAL);
		if (e < 0) {
			a->bus = sd_bus_unref(a->bus);
			report(s, "failed", "cannot connect to the system bus: %s", strerror(-e));
			goto out;
		}
	}
	e = sd_bus_call_method_async(a->bus, NULL, "org.freedesktop.systemd1", "/org/freedesktop/systemd1",
				     "org.freedesktop.systemd1.Manager", "RestartUnit", on_restart_reply,
				     s, "ss", unit, "replace");
	if (e < 0) {
		report(s, "failed", "RestartUnit %s: %s", unit, strerror(-e));
		goto out;
	}
	a->pending++;
	return;
out:
	if (s) {
		subject_clear(s);
		free(s);
	}
}

/* ---- the gate ------------------------------------------------------------- */

int actor_run(struct actor *a, const struct act_request *r)
{
	const struct watch *w = r->watch;
	enum action act = r->why == EVENT_LIMIT ? w->on_limit : w->on_leak;
	uint64_t now_ms = clock_usec(CLOCK_MONOTONIC) / 1000;
	struct action_policy *p;
	struct act_subject s;
	enum action_gate g;
	char why[64];
	int ret = 0;

	if (act == ACTION_ALERT)
		return 0;
	p = action_policy_get(&a->policies, w->name);
	if (!p)
		return 0;
	g = action_gate(p, w, now_ms);
	if (r->retry && g != GATE_GO)
		return -EAGAIN;   /* still gated: its suppression was reported */
	if (subject_init(&s, a, r, action_name(act)) < 0)
		goto out;
	if (act == ACTION_RESTART_UNIT) {   /* named in every event, dry-run too */
		const char *no_unit = "?";

		s.unit = restart_target(a, r, &no_unit);
		if (!s.unit) {
			report(&s, "failed", "pid %d %s", (int)r->pid, no_unit);
			goto out;
		}
	}
	if (r->pid <= 1 || r->pid == a->self) {
		report(&s, "failed", "refused: never acts on PID 1 or on leakwatchd");
		goto out;
	}
	if (g != GATE_GO) {
		ret = -EAGAIN;
		if (g == GATE_COOLDOWN) {
			format_duration(why, sizeof(why), (double)w->cooldown_ms / 1000.0);
			report(&s, "suppressed", "cooldown: the watch acted less than %s ago", why);
		} else {
			format_duration(why, sizeof(why), (double)w->max_actions_period_ms / 1000.0);
			report(&s, "suppressed", "max_actions: %u in %s reached", w->max_actions, why);
		}
		goto out;
	}
	action_record(p, w, now_ms);
	if (a->dry_run) {
		report(&s, "dry-run", "would %s", act == ACTION_SIGNAL ? "signal" :
		       act == ACTION_EXEC ? "run the exec command" : "restart the unit");
		goto out;
	}
	switch (act) {
	case ACTION_SIGNAL:
		do_signal(a, r);
		break;
	case ACTION_EXEC:
		do_exec(a, r);
		break;
	case ACTION_RESTART_UNIT:
		do_restart(a, r, s.unit);   /* takes the unit */
		s.unit = NULL;
		break;
	default:
		break;
	}
out:
	subject_clear(&s);
	return ret;
}

int actor_new(struct actor **out, sd_event *e, const struct proc_root *root, pid_t self,
	      act_emit_fn emit, void *ctx)
{
	struct actor *a = calloc(1, sizeof(*a));

	if (!a)
		return -ENOMEM;
	a->event = sd_event_ref(e);
	a->root = root;
	a->self = self;
	a->emit = emit;
	a->ctx = ctx;
	*out = a;
	return 0;
}

struct action_policy **actor_policies(struct actor *a)
{
	return &a->policies;
}

void actor_set_child_nofile(struct actor *a, const struct rlimit *rl)
{
	a->child_nofile = *rl;
}

void actor_set_dry_run(struct actor *a, bool on)
{
	a->dry_run = on;
}

unsigned actor_pending(const struct actor *a)
{
	return a->pending;
}

void actor_free(struct actor *a)
{
	if (!a)
		return;
	/* The daemon stops: end the commands still running, and say so. */
	while (a->jobs) {
		struct exec_job *j = a->jobs;

		kill(-j->child, SIGKILL);
		waitpid(j->child, NULL, 0);
		drain(j);
		log_line(j);
		report(&j->s, "failed", "killed: leakwatchd is stopping");
		sd_event_source_set_enabled(j->child_src, SD_EVENT_OFF);
		job_free(j);
	}
	action_policy_free_all(a->policies);
	sd_bus_flush_close_unref(a->bus);
	sd_event_unref(a->event);
	free(a);
}
