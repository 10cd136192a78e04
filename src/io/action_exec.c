/* The exec action: a command of the rule's, run for the process judged.
 *
 * No shell: the rule's argv is run as is, with {pid}, {watch}, {metric},
 * {event} and {value} substituted and LEAKWATCH_* in its environment
 * (core/action_policy.c), so that a comm or a watch name can never be
 * read as shell syntax.  The command runs in a process group of its own,
 * with stdin on /dev/null and stdout and stderr on one pipe; each line it
 * writes (cut at 511 bytes) goes to the note callback, to be logged, not
 * to an event: nobody alerts on it (io/log.h).  A timeout kills the whole
 * group, and so does the command's exit (whatever it left behind).
 * Alternatives: system(3) (a shell, and a blocking wait), posix_spawn
 * (a process group, but no way to give the command back the RLIMIT_NOFILE
 * leakwatchd was started with); a fork that only execs is cheap enough
 * for actions, which are rare.
 *
 * Each command still running is a job (child, pipe, timer sources) in a
 * list; act_exec_free() kills them all, notes their last output, reports
 * each as failed ("killed: leakwatchd is stopping") and frees them. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <syslog.h>
#include <unistd.h>

#include "core/action_policy.h"
#include "core/units.h"
#include "io/actor.h"
#include "io/actor_backend.h"

extern char **environ;

struct exec_job {
	struct exec_job *next;
	struct act_exec *owner;
	struct act_record s;
	pid_t child;
	int out_fd;
	bool timed_out;
	uint64_t timeout_ms;
	char line[512];
	size_t line_len;
	sd_event_source *child_src, *io_src, *timer_src;
};

struct act_exec {
	const struct act_base *base;
	struct exec_job *jobs;         /* commands still running */
	unsigned n;
	struct rlimit child_nofile;    /* RLIMIT_NOFILE for the commands; 0: as ours */
};

/* Hand the line collected so far to the note callback. */
static void note_line(struct exec_job *j)
{
	const struct act_base *b = j->s.base;
	char text[sizeof(j->line) + 128];

	if (j->line_len == 0)
		return;
	j->line[j->line_len] = '\0';
	j->line_len = 0;
	if (!b->note)
		return;
	snprintf(text, sizeof(text), "%s: exec (pid %d) for pid %d: %s", j->s.watch, (int)j->child,
		 (int)j->s.pid, j->line);
	b->note(b->ctx, LOG_INFO, text);
}

static void drain(struct exec_job *j)
{
	char buf[1024];
	ssize_t n;

	while ((n = read(j->out_fd, buf, sizeof(buf))) > 0)
		for (ssize_t i = 0; i < n; i++) {
			if (buf[i] == '\n' || j->line_len == sizeof(j->line) - 1)
				note_line(j);
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

/* Unlink the job (when listed) and free it, its sources, pipe and record. */
static void job_free(struct exec_job *j)
{
	struct exec_job **pp;

	for (pp = &j->owner->jobs; *pp; pp = &(*pp)->next)
		if (*pp == j) {
			*pp = j->next;
			j->owner->n--;
			break;
		}
	sd_event_source_disable_unref(j->child_src);
	sd_event_source_disable_unref(j->io_src);
	sd_event_source_disable_unref(j->timer_src);
	if (j->out_fd >= 0)
		close(j->out_fd);
	act_record_clear(&j->s);
	free(j);
}

static int on_exec_exit(sd_event_source *src, const siginfo_t *si, void *userdata)
{
	struct exec_job *j = userdata;
	char t[32];

	(void)src;
	drain(j);
	note_line(j);
	format_duration(t, sizeof(t), (double)j->timeout_ms / 1000.0);
	if (j->timed_out)
		act_report(&j->s, "failed", "timed out after %s, killed", t);
	else if (si->si_code == CLD_EXITED && si->si_status == 0)
		act_report(&j->s, "ok", "exited 0");
	else if (si->si_code == CLD_EXITED)
		act_report(&j->s, "failed", "exit status %d", si->si_status);
	else
		act_report(&j->s, "failed", "killed by SIG%s", sigabbrev_np(si->si_status));
	kill(-j->child, SIGKILL);   /* whatever it left behind in its group */
	job_free(j);
	return 0;
}

/* fd as to, kept across exec (dup2 onto itself would leave O_CLOEXEC). */
static void put_fd(int fd, int to)
{
	if (fd == to)
		fcntl(to, F_SETFD, 0);
	else
		dup2(fd, to);
}

/* In the child: its own process group, stdin on /dev/null, stdout and
 * stderr on the pipe, then the command.  Does not return. */
static void __attribute__((noreturn))
exec_child(const struct act_exec *x, int out, char **argv, char **env)
{
	sigset_t none;
	int devnull;

	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	if (x->child_nofile.rlim_cur)   /* the limit leakwatchd was started with */
		setrlimit(RLIMIT_NOFILE, &x->child_nofile);
	setpgid(0, 0);
	devnull = open("/dev/null", O_RDONLY | O_CLOEXEC);
	if (devnull >= 0)
		put_fd(devnull, STDIN_FILENO);
	put_fd(out, STDOUT_FILENO);
	put_fd(out, STDERR_FILENO);
	execvpe(argv[0], argv, env);
	dprintf(STDERR_FILENO, "cannot run %s: %s\n", argv[0], strerror(errno));
	_exit(127);
}

/* Watch the started child: its exit, its output, its timeout.  0, or
 * -errno with the child killed and reaped (the caller reports). */
static int follow(struct act_exec *x, struct exec_job *j)
{
	sd_event *e = x->base->event;

	fcntl(j->out_fd, F_SETFL, O_NONBLOCK);
	if (sd_event_add_child(e, &j->child_src, j->child, WEXITED, on_exec_exit, j) < 0 ||
	    sd_event_add_io(e, &j->io_src, j->out_fd, EPOLLIN, on_exec_output, j) < 0 ||
	    sd_event_add_time_relative(e, &j->timer_src, CLOCK_MONOTONIC, j->timeout_ms * 1000, 1000,
				       on_exec_timeout, j) < 0) {
		kill(-j->child, SIGKILL);
		waitpid(j->child, NULL, 0);
		return -ENOMEM;
	}
	j->next = x->jobs;
	x->jobs = j;
	x->n++;
	return 0;
}

/* Fork the command on a new pipe, for job j.  0, or -errno with the
 * action reported failed. */
static int start(struct act_exec *x, struct exec_job *j, char **argv, char **env)
{
	int pipefd[2];

	if (pipe2(pipefd, O_CLOEXEC) < 0) {
		act_report(&j->s, "failed", "cannot prepare: %s", strerror(errno));
		return -errno;
	}
	j->child = fork();
	if (j->child < 0) {
		int e = errno;

		act_report(&j->s, "failed", "fork: %s", strerror(e));
		close(pipefd[0]);
		close(pipefd[1]);
		return -e;
	}
	if (j->child == 0)
		exec_child(x, pipefd[1], argv, env);
	setpgid(j->child, j->child);   /* also here: no race with the timeout's kill */
	close(pipefd[1]);
	j->out_fd = pipefd[0];
	if (follow(x, j) < 0) {   /* cannot follow it: stopped, and say so */
		act_report(&j->s, "failed", "cannot follow the command");
		return -ENOMEM;
	}
	return 0;
}

void act_exec_run(struct act_exec *x, const struct act_request *r, struct act_record *s)
{
	const struct watch *w = r->watch;
	struct action_subject as = {
		.pid = r->pid, .watch = w->name, .metric = metric_name((enum metric)r->metric),
		.event = event_name(r->why), .value = r->value,
	};
	struct exec_job *j = calloc(1, sizeof(*j));
	char **argv = NULL, **env = NULL;

	if (!j)
		goto out;
	j->owner = x;
	j->out_fd = -1;
	j->s = *s;        /* the job owns the strings now */
	memset(s, 0, sizeof(*s));
	j->timeout_ms = w->exec_timeout_ms;
	/* {pid} must name the process judged when the command starts; what the
	 * command does with it later, it answers for */
	if (act_still_there(x->base, r) < 0) {
		act_report(&j->s, "failed", "pid %d is gone or was replaced before the command", (int)r->pid);
		goto fail;
	}
	errno = 0;
	if (action_argv(w, &as, &argv) < 0 || action_env(environ, &as, &env) < 0) {
		act_report(&j->s, "failed", "cannot prepare: %s", strerror(errno ? errno : ENOMEM));
		goto fail;
	}
	if (start(x, j, argv, env) < 0)
		goto fail;
	strv_free(argv);
	strv_free(env);
	return;
fail:
	strv_free(argv);
	strv_free(env);
	job_free(j);   /* not listed yet */
out:
	act_record_clear(s);
}

int act_exec_new(struct act_exec **out, const struct act_base *b)
{
	struct act_exec *x = calloc(1, sizeof(*x));

	if (!x)
		return -ENOMEM;
	x->base = b;
	*out = x;
	return 0;
}

void act_exec_set_nofile(struct act_exec *x, const struct rlimit *rl)
{
	x->child_nofile = *rl;
}

unsigned act_exec_pending(const struct act_exec *x)
{
	return x ? x->n : 0;
}

void act_exec_free(struct act_exec *x)
{
	if (!x)
		return;
	/* The daemon stops: end the commands still running, and say so. */
	while (x->jobs) {
		struct exec_job *j = x->jobs;

		kill(-j->child, SIGKILL);
		waitpid(j->child, NULL, 0);
		drain(j);
		note_line(j);
		act_report(&j->s, "failed", "killed: leakwatchd is stopping");
		job_free(j);
	}
	free(x);
}
