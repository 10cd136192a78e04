/* Races and identity with real processes: the actor (io/actor.c) never signals,
 * runs a command for, or restarts the unit of a process that took over the
 * pid of the one judged, and a target gone before its action makes the
 * action fail cleanly.
 *
 * The test runs as the init of a pid namespace of its own, with a private
 * mount namespace and its own /proc, so that /proc/sys/kernel/ns_last_pid
 * hands the pid of an exited process A to a new process B at will.  A is
 * judged as the daemon judges: its pid, its start time, and the /proc/PID
 * directory fd the monitor keeps (proc_open), passed to the actor as procfd
 * ("held"), or not (-1: the start time alone).  B starts with every signal
 * blocked, so a signal sent to it stays pending, visible in /proc/B/status,
 * and SIGKILL or SIGSTOP would show in waitid(); touched() looks at both.
 * Every kind of case has a control in which the actor does act on a live
 * target and touched() sees it, so that "B untouched" means something.
 *
 *  - gone: A exited and was reaped, or is a zombie: each action fails.
 *  - reuse: A exits, B takes its pid before the action: signal (TERM, KILL)
 *    and exec fail, B gets nothing and the command does not run.
 *  - kill_after: TERM reaches A, A dies of it, B takes the pid before the
 *    kill_after timer: B gets no SIGKILL, and no second action is reported.
 *  - same tick: B starts within the clock tick A started in, so the start
 *    times are equal; the kept /proc/PID fd still tells them apart.
 *  - no pidfds: a seccomp filter makes pidfd_open and pidfd_send_signal
 *    fail with ENOSYS (kernels before 5.1/5.3): reuse and kill_after again,
 *    through kill(2) after the start-time check.
 *  - restart-unit: DBUS_SYSTEM_BUS_ADDRESS points at a socket of the test's,
 *    so any RestartUnit shows as a connection; A and B run in units of
 *    their own (cgroups lw-race-*-a.service and -b.service next to the
 *    test's) when the unified cgroup hierarchy is writable.  For a reused
 *    pid no connection is made, and the event names no unit (B's unit
 *    would be the wrong one), dry-run included.
 *
 * The exec action passes the pid to its command ({pid}, LEAKWATCH_PID):
 * the command runs only if the pid is still the process judged when it
 * starts; what it does with the pid afterwards is its own business.
 *
 * Needs root (namespaces, ns_last_pid): otherwise it says SKIP and passes. */
#include <errno.h>
#include <fcntl.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sched.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/poll.h>
#include <sys/prctl.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <systemd/sd-event.h>

#include "io/actor.h"
#include "io/actor_backend.h"   /* SYS_pidfd_* where the headers are older */
#include "check.h"
#include "core/config.h"
#include "core/event.h"
#include "os/proc.h"

#ifndef CGROUP2_SUPER_MAGIC
#define CGROUP2_SUPER_MAGIC 0x63677270
#endif

#define KILL_AFTER_MS 150
/* Never the host's system bus: a restart that should not happen must not
 * reach a real systemd either. */
#define NO_BUS "unix:path=/nonexistent/leakwatch-test-race/bus"

static struct proc_root root;
static char tmp[64];          /* the test's files, under /tmp */
static char bus_path[100];    /* the fake system bus (fits sun_path) */
static char cg_dir[2][700];   /* cgroups of A and B ("" when none) */
static char cg_unit[2][128];

static void sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000 };

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static unsigned long long start_of(pid_t pid)
{
	struct proc_stat st;

	return proc_read_stat(&root, pid, &st, NULL) == 0 ? st.start_ticks : 0;
}

static int write_file(const char *path, const char *text)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC), r = 0;
	ssize_t len = (ssize_t)strlen(text);

	if (fd < 0)
		return -errno;
	if (write(fd, text, (size_t)len) != len)
		r = -errno;
	close(fd);
	return r;
}

static int set_last_pid(pid_t last)
{
	char buf[24];

	snprintf(buf, sizeof(buf), "%d", (int)last);
	return write_file("/proc/sys/kernel/ns_last_pid", buf);
}

/* ---- processes ------------------------------------------------------------ */

/* A child that does nothing until killed.  blocked: every signal blocked
 * from its first instruction (the mask survives fork), so what is sent to it
 * stays pending; else the default dispositions (TERM kills it).  at > 0:
 * fork it as that pid, through ns_last_pid.  In cgroup cg when not "". */
static pid_t child(bool blocked, pid_t at, const char *cg)
{
	sigset_t all, old;
	pid_t pid;

	sigfillset(&all);
	sigprocmask(SIG_SETMASK, &all, &old);
	if (at > 0 && set_last_pid(at - 1) < 0) {
		sigprocmask(SIG_SETMASK, &old, NULL);
		return -1;
	}
	pid = fork();
	if (pid == 0) {
		if (!blocked) {
			sigset_t none;

			sigemptyset(&none);
			sigprocmask(SIG_SETMASK, &none, NULL);
		}
		for (;;)
			pause();
	}
	sigprocmask(SIG_SETMASK, &old, NULL);
	if (pid > 0 && cg && cg[0]) {
		char path[760], num[24];

		snprintf(path, sizeof(path), "%s/cgroup.procs", cg);
		snprintf(num, sizeof(num), "%d", (int)pid);
		CHECK_MSG(write_file(path, num) == 0, "cannot move pid %d into %s", (int)pid, cg);
	}
	return pid;
}

/* Kill and reap a child of ours (also a zombie or a stopped one). */
static void end(pid_t pid)
{
	if (pid <= 0)
		return;
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
}

static void signal_names(unsigned long long mask, char *buf, size_t len)
{
	size_t n = 0;

	buf[0] = '\0';
	for (int sig = 1; sig <= 64 && n < len; sig++)
		if (mask & (1ull << (sig - 1))) {
			const char *name = sigabbrev_np(sig);

			if (name)
				n += (size_t)snprintf(buf + n, len - n, " SIG%s", name);
			else
				n += (size_t)snprintf(buf + n, len - n, " %d", sig);
		}
}

/* Did any signal reach pid, a child of ours with every signal blocked?
 * NULL when not, else what happened to it (in buf).  It is left as it is
 * (WNOWAIT): end() reaps it. */
static const char *touched(pid_t pid, char *buf, size_t len)
{
	char rel[32], status[4096], names[256];
	unsigned long long pnd = 0, shd = 0;
	siginfo_t si;
	const char *p;

	/* Signals are queued when sent; a moment for a SIGKILL or SIGSTOP to
	 * take effect.  A process on its way out is not asleep any more. */
	sleep_ms(20);
	memset(&si, 0, sizeof(si));
	if (waitid(P_PID, (id_t)pid, &si, WEXITED | WSTOPPED | WCONTINUED | WNOHANG | WNOWAIT) == 0 &&
	    si.si_pid == pid) {
		if (si.si_code == CLD_EXITED)
			snprintf(buf, len, "exited %d", si.si_status);
		else
			snprintf(buf, len, "%s by SIG%s", si.si_code == CLD_STOPPED ? "stopped" :
				 si.si_code == CLD_CONTINUED ? "continued" : "killed", sigabbrev_np(si.si_status));
		return buf;
	}
	snprintf(rel, sizeof(rel), "%d/status", (int)pid);
	if (proc_read_file(&root, rel, status, sizeof(status)) <= 0) {
		snprintf(buf, len, "its status cannot be read");
		return buf;
	}
	if ((p = strstr(status, "\nSigPnd:")))
		pnd = strtoull(p + 8, NULL, 16);
	if ((p = strstr(status, "\nShdPnd:")))
		shd = strtoull(p + 8, NULL, 16);
	if (pnd | shd) {
		signal_names(pnd | shd, names, sizeof(names));
		snprintf(buf, len, "signals pending:%s", names);
		return buf;
	}
	if (!strstr(status, "\nState:\tS")) {
		snprintf(buf, len, "not asleep in pause()");
		return buf;
	}
	return NULL;
}

/* A as the daemon has it: pid, start time, and (held) the /proc/PID fd
 * its samples are read through. */
struct target {
	pid_t pid;
	unsigned long long start;
	struct proc_handle h;
};

static void judge(struct target *t, pid_t pid, bool held)
{
	memset(t, 0, sizeof(*t));
	t->pid = pid;
	t->start = start_of(pid);
	proc_handle_none(&t->h);
	CHECK_MSG(t->start > 0, "no start time for pid %d", (int)pid);
	if (held)
		CHECK(proc_open(&root, pid, t->start, &t->h) == 0);
}

static void unjudge(struct target *t)
{
	proc_close(&t->h);
}

/* Kill and reap A, then fork B as A's pid: in a later clock tick than A's
 * start (so start times differ) unless same_tick.  B's pid, or -1 when the
 * pid could not be had (reported). */
static pid_t replace(const struct target *a, bool blocked, const char *cg)
{
	pid_t b;

	end(a->pid);
	b = child(blocked, a->pid, cg);
	CHECK_MSG(b == a->pid, "ns_last_pid: B got pid %d, not A's %d", (int)b, (int)a->pid);
	if (b != a->pid) {
		end(b);
		return -1;
	}
	return b;
}

/* ---- the actor ------------------------------------------------------------ */

struct seen {
	unsigned n;
	struct {
		pid_t pid;
		char action[16], result[16], unit[128], msg[600];
	} ev[8];
};

static void on_event(void *ctx, struct event *e)
{
	struct seen *s = ctx;

	if (e->type != EVENT_ACTION || s->n >= 8)
		return;
	s->ev[s->n].pid = e->pid;
	snprintf(s->ev[s->n].action, sizeof(s->ev[0].action), "%s", e->action ? e->action : "");
	snprintf(s->ev[s->n].result, sizeof(s->ev[0].result), "%s", e->result ? e->result : "");
	snprintf(s->ev[s->n].unit, sizeof(s->ev[0].unit), "%s", e->unit ? e->unit : "");
	snprintf(s->ev[s->n].msg, sizeof(s->ev[0].msg), "%s", e->message);
	s->n++;
}

struct rig {
	sd_event *e;
	struct actor *a;
	struct seen seen;
	struct watch w;
	char *exec[5];
};

static void rig_open(struct rig *g, enum action act, int sig)
{
	memset(g, 0, sizeof(*g));
	g->w.name = "race";
	g->w.on_leak = g->w.on_limit = act;
	g->w.signal = sig;
	g->w.exec_timeout_ms = 10000;
	CHECK(sd_event_new(&g->e) >= 0);
	CHECK(actor_new(&g->a, g->e, &root, getpid(), on_event, NULL, &g->seen) == 0);
}

static void rig_act(struct rig *g, const struct target *t)
{
	struct act_request r = {
		.watch = &g->w, .why = EVENT_LEAK, .metric = METRIC_RSS, .value = 1e6,
		.pid = t->pid, .start_ticks = t->start, .procfd = t->h.dirfd, .comm = "victim",
	};

	CHECK(actor_run(g->a, &r) == 0);
}

/* Run the event loop until the actor has nothing pending (or max_ms). */
static void rig_settle(struct rig *g, long max_ms)
{
	uint64_t end_ms = now_ms() + (uint64_t)max_ms;

	while (actor_pending(g->a) && now_ms() < end_ms)
		sd_event_run(g->e, 20000);
	CHECK_MSG(actor_pending(g->a) == 0, "%u actions still pending after %ld ms",
		  actor_pending(g->a), max_ms);
}

static void rig_close(struct rig *g)
{
	actor_free(g->a);
	sd_event_unref(g->e);
}

/* The one action event there must be, with this result and message part. */
static void expect_one(const struct rig *g, const char *what, const char *result, const char *part)
{
	CHECK_MSG(g->seen.n == 1, "%s: %u action events, expected 1%s%s", what, g->seen.n,
		  g->seen.n ? ": " : "", g->seen.n ? g->seen.ev[g->seen.n - 1].msg : "");
	if (g->seen.n < 1)
		return;
	CHECK_MSG(strcmp(g->seen.ev[0].result, result) == 0 && strstr(g->seen.ev[0].msg, part),
		  "%s: expected %s with \"%s\", got %s: %s", what, result, part,
		  g->seen.ev[0].result, g->seen.ev[0].msg);
}

static void expect_untouched(const char *what, pid_t b)
{
	char why[300];
	const char *t = touched(b, why, sizeof(why));

	CHECK_MSG(t == NULL, "%s: the new process (pid %d) was reached: %s", what, (int)b, t);
}

/* ---- signal --------------------------------------------------------------- */

/* Control: a live target is signalled, and touched() sees it. */
static void test_signal_control(int sig, bool held)
{
	struct rig g;
	struct target a;
	char why[300], want[32];
	const char *t;

	judge(&a, child(true, 0, NULL), held);
	rig_open(&g, ACTION_SIGNAL, sig);
	rig_act(&g, &a);
	rig_settle(&g, 1000);
	snprintf(want, sizeof(want), "sent SIG%s", sigabbrev_np(sig));
	expect_one(&g, "control: signal a live target", "ok", want);
	t = touched(a.pid, why, sizeof(why));
	CHECK_MSG(t && strstr(t, want + 5), "control: SIG%s sent, but the target shows %s",
		  sigabbrev_np(sig), t ? t : "nothing");
	rig_close(&g);
	unjudge(&a);
	end(a.pid);
}

/* A target gone before its action, reaped or a zombie: every action fails. */
static void test_gone(bool held)
{
	static const enum action acts[] = { ACTION_SIGNAL, ACTION_EXEC, ACTION_RESTART_UNIT };
	char out[128], cmd[256], what[96];
	struct target a;
	struct rig g;

	snprintf(out, sizeof(out), "%s/gone-exec", tmp);
	snprintf(cmd, sizeof(cmd), "echo \"$0\" >> %s", out);
	for (int zombie = 0; zombie < 2; zombie++)
		for (size_t i = 0; i < sizeof(acts) / sizeof(acts[0]); i++) {
			snprintf(what, sizeof(what), "%s: target %s%s", action_name(acts[i]),
				 zombie ? "a zombie" : "reaped", held ? ", held" : "");
			judge(&a, child(false, 0, NULL), held);
			kill(a.pid, SIGKILL);
			if (zombie) {
				siginfo_t si;

				waitid(P_PID, (id_t)a.pid, &si, WEXITED | WNOWAIT);
			} else {
				waitpid(a.pid, NULL, 0);
			}
			rig_open(&g, acts[i], SIGKILL);
					g.w.unit = "lw-race-gone.service";   /* NO_BUS */
			g.exec[0] = "/bin/sh", g.exec[1] = "-c", g.exec[2] = cmd, g.exec[3] = "{pid}";
			g.w.exec = g.exec;
			g.w.exec_len = 4;
			rig_act(&g, &a);
			rig_settle(&g, 2000);
			expect_one(&g, what, "failed", "gone");
			rig_close(&g);
			unjudge(&a);
			if (zombie)
				waitpid(a.pid, NULL, 0);
		}
	CHECK_MSG(access(out, F_OK) < 0, "exec: the command ran for a target that was gone");
	unlink(out);
}

/* A exits; B takes its pid between the verdict and the action. */
static void test_reuse_signal(int sig, bool held)
{
	struct target a;
	struct rig g;
	char what[64];
	pid_t b;

	snprintf(what, sizeof(what), "signal SIG%s, pid reused%s", sigabbrev_np(sig), held ? ", held" : "");
	judge(&a, child(false, 0, NULL), held);
	sleep_ms(30);   /* B starts ticks after A (the same tick: test_same_tick) */
	b = replace(&a, true, NULL);
	if (b > 0) {
		CHECK_MSG(start_of(b) != a.start, "%s: B started in A's clock tick", what);
		rig_open(&g, ACTION_SIGNAL, sig);
		rig_act(&g, &a);
		rig_settle(&g, 1000);
		expect_one(&g, what, "failed", "replaced");
		expect_untouched(what, b);
		rig_close(&g);
		end(b);
	}
	unjudge(&a);
}

/* Control: a target that outlives TERM gets SIGKILL kill_after later. */
static void test_kill_after_control(bool held)
{
	struct target a;
	struct rig g;
	int status = 0;

	judge(&a, child(true, 0, NULL), held);
	rig_open(&g, ACTION_SIGNAL, SIGTERM);
	g.w.kill_after_ms = KILL_AFTER_MS;
	rig_act(&g, &a);
	CHECK(actor_pending(g.a) == 1);
	rig_settle(&g, 3000);
	CHECK_MSG(g.seen.n == 2 && strstr(g.seen.ev[1].msg, "sent SIGKILL") &&
		  strcmp(g.seen.ev[1].result, "ok") == 0,
		  "control: kill_after: %u events, the last: %s", g.seen.n,
		  g.seen.n ? g.seen.ev[g.seen.n - 1].msg : "-");
	CHECK_MSG(waitpid(a.pid, &status, 0) == a.pid && WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL,
		  "control: kill_after: the target was not killed by SIGKILL (status 0x%x)", status);
	rig_close(&g);
	unjudge(&a);
}

/* TERM reaches A and A dies of it; B takes the pid before the kill_after
 * timer fires.  B must get no SIGKILL, and no second action is reported. */
static void test_kill_after_reuse(bool held)
{
	const char *what = held ? "kill_after, pid reused, held" : "kill_after, pid reused";
	struct target a;
	struct rig g;
	siginfo_t si = { 0 };
	pid_t b;

	judge(&a, child(false, 0, NULL), held);
	rig_open(&g, ACTION_SIGNAL, SIGTERM);
	g.w.kill_after_ms = KILL_AFTER_MS;
	rig_act(&g, &a);
	CHECK(actor_pending(g.a) == 1);
	/* A dies of the TERM; then its pid goes to B */
	CHECK_MSG(waitid(P_PID, (id_t)a.pid, &si, WEXITED | WNOWAIT) == 0 && si.si_code == CLD_KILLED &&
		  si.si_status == SIGTERM, "%s: A did not die of SIGTERM (code %d, status %d)", what,
		  si.si_code, si.si_status);
	sleep_ms(30);
	b = replace(&a, true, NULL);
	if (b > 0) {
		rig_settle(&g, 3000);   /* the timer fires */
		expect_one(&g, what, "ok", "sent SIGTERM");
		expect_untouched(what, b);
		end(b);
	}
	rig_close(&g);
	unjudge(&a);
}

/* B starts within the clock tick A started in: its start time is A's. */
static void test_same_tick(void)
{
	static const enum action acts[] = { ACTION_SIGNAL, ACTION_EXEC };
	struct target a;
	struct rig g;
	char out[128], cmd[256];
	int tries;
	pid_t b = -1;

	snprintf(out, sizeof(out), "%s/same-tick-exec", tmp);
	snprintf(cmd, sizeof(cmd), "echo \"$0\" >> %s", out);
	for (size_t i = 0; i < sizeof(acts) / sizeof(acts[0]); i++) {
		for (tries = 0; tries < 100; tries++) {
			judge(&a, child(false, 0, NULL), true);
			b = replace(&a, true, NULL);
			if (b > 0 && start_of(b) == a.start)
				break;
			end(b);
			unjudge(&a);
			b = -1;
		}
		if (b < 0) {
			printf("test_race: note: B never started in A's clock tick in 100 tries; same-tick case not run\n");
			return;
		}
		rig_open(&g, acts[i], SIGKILL);
		g.exec[0] = "/bin/sh", g.exec[1] = "-c", g.exec[2] = cmd, g.exec[3] = "{pid}";
		g.w.exec = g.exec;
		g.w.exec_len = 4;
		rig_act(&g, &a);
		rig_settle(&g, 2000);
		expect_one(&g, acts[i] == ACTION_SIGNAL ? "signal SIGKILL, pid reused in the same tick" :
			   "exec, pid reused in the same tick", "failed", "replaced");
		expect_untouched("same tick", b);
		rig_close(&g);
		unjudge(&a);
		end(b);
	}
	CHECK_MSG(access(out, F_OK) < 0, "exec: the command ran for a pid reused in the same tick");
	unlink(out);
}

/* ---- exec ----------------------------------------------------------------- */

static void test_exec(bool held)
{
	char out[128], cmd[256], want[64], got[256] = "";
	struct target a;
	struct rig g;
	FILE *f;
	pid_t b;

	snprintf(out, sizeof(out), "%s/exec", tmp);
	unlink(out);
	snprintf(cmd, sizeof(cmd), "echo \"$0 $LEAKWATCH_PID\" >> %s", out);
	for (int reused = 0; reused < 2; reused++) {
		judge(&a, child(true, 0, NULL), held);
		b = -1;
		if (reused) {
			sleep_ms(30);
			b = replace(&a, true, NULL);
			if (b < 0) {
				unjudge(&a);
				continue;
			}
		}
		rig_open(&g, ACTION_EXEC, 0);
		g.exec[0] = "/bin/sh", g.exec[1] = "-c", g.exec[2] = cmd, g.exec[3] = "{pid}";
		g.w.exec = g.exec;
		g.w.exec_len = 4;
		rig_act(&g, &a);
		rig_settle(&g, 5000);   /* the command ends */
		if (!reused) {
			/* control: it runs, with the pid in its argv and environment */
			expect_one(&g, "control: exec for a live target", "ok", "exited 0");
			snprintf(want, sizeof(want), "%d %d\n", (int)a.pid, (int)a.pid);
			f = fopen(out, "re");
			if (f) {
				if (!fgets(got, sizeof(got), f))
					got[0] = '\0';
				fclose(f);
			}
			CHECK_MSG(strcmp(got, want) == 0, "control: exec wrote \"%s\", expected \"%s\"", got, want);
			unlink(out);
			expect_untouched("control: exec", a.pid);
			end(a.pid);
		} else {
			expect_one(&g, held ? "exec, pid reused, held" : "exec, pid reused", "failed", "replaced");
			CHECK_MSG(access(out, F_OK) < 0, "exec: the command ran for a reused pid");
			expect_untouched("exec, pid reused", b);
			end(b);
		}
		rig_close(&g);
		unjudge(&a);
	}
	unlink(out);
}

/* ---- restart-unit --------------------------------------------------------- */

/* A socket where the actor's system bus connection would land. */
static int fake_bus(void)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	char addr[200];
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);

	if (fd < 0)
		return -errno;
	snprintf(bus_path, sizeof(bus_path), "%s/system_bus_socket", tmp);
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", bus_path);
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(fd, 8) < 0) {
		int e = errno;

		close(fd);
		return -e;
	}
	snprintf(addr, sizeof(addr), "unix:path=%s", bus_path);
	setenv("DBUS_SYSTEM_BUS_ADDRESS", addr, 1);
	return fd;
}

/* Did the actor connect to the bus within ms?  The connection is closed
 * at once: the actor's RestartUnit then fails, and its action ends. */
static bool bus_called(int bus, int ms)
{
	struct pollfd p = { .fd = bus, .events = POLLIN };
	int c;

	if (poll(&p, 1, ms) <= 0)
		return false;
	c = accept4(bus, NULL, NULL, SOCK_CLOEXEC);
	if (c < 0)
		return false;
	close(c);
	return true;
}

/* Two cgroups beside ours in the unified hierarchy, whose names end in
 * .service: A's and B's units.  false when they cannot be made. */
static bool make_units(void)
{
	char self[4096], base[600];
	const char *mounts[] = { "/sys/fs/cgroup/unified", "/sys/fs/cgroup" }, *mnt = NULL, *p;
	struct statfs sfs;
	unsigned id = 0;

	for (size_t i = 0; i < 2 && !mnt; i++)
		if (statfs(mounts[i], &sfs) == 0 && sfs.f_type == CGROUP2_SUPER_MAGIC)
			mnt = mounts[i];
	if (!mnt || proc_read_file(&root, "self/cgroup", self, sizeof(self)) <= 0)
		return false;
	p = strstr(self, "0::");
	if (!p || (p != self && p[-1] != '\n'))
		return false;
	p += 3;
	snprintf(base, sizeof(base), "%s%.*s", mnt, (int)strcspn(p, "\n"), p);
	if (base[strlen(base) - 1] == '/')
		base[strlen(base) - 1] = '\0';
	if (getrandom(&id, sizeof(id), 0) != sizeof(id))
		id = (unsigned)time(NULL);
	for (int i = 0; i < 2; i++) {
		snprintf(cg_unit[i], sizeof(cg_unit[i]), "lw-race-%08x-%c.service", id, "ab"[i]);
		snprintf(cg_dir[i], sizeof(cg_dir[i]), "%s/%s", base, cg_unit[i]);
		if (mkdir(cg_dir[i], 0755) < 0) {
			cg_dir[i][0] = '\0';
			if (i)
				rmdir(cg_dir[0]);
			cg_dir[0][0] = '\0';
			return false;
		}
	}
	return true;
}

static void remove_units(void)
{
	for (int i = 0; i < 2; i++) {
		int tries = 0;

		/* a reaped process may leave its cgroup a moment later */
		while (cg_dir[i][0] && rmdir(cg_dir[i]) < 0 && errno == EBUSY && ++tries < 100)
			sleep_ms(10);
		if (cg_dir[i][0] && access(cg_dir[i], F_OK) == 0)
			fprintf(stderr, "test_race: cannot remove the cgroup %s\n", cg_dir[i]);
	}
}

static void test_restart(void)
{
	struct target a;
	struct rig g;
	char what[96];
	bool units = make_units(), called;
	int bus = fake_bus();
	pid_t b;

	CHECK_MSG(bus >= 0, "fake bus: %s", strerror(-bus));
	if (bus < 0)
		return;
	if (!units)
		printf("test_race: note: no cgroups of their own for A and B (no writable unified hierarchy): "
		       "restart-unit with unit auto not run\n");
	/* auto (the unit from /proc/PID/cgroup) when A and B have units; named */
	for (int named = units ? 0 : 1; named < 2; named++) {
		/* control: a live target's unit is restarted (the call reaches the bus) */
		judge(&a, child(true, 0, cg_dir[0]), true);
		rig_open(&g, ACTION_RESTART_UNIT, 0);
		g.w.unit = named ? "lw-race-named.service" : NULL;
		rig_act(&g, &a);
		called = bus_called(bus, 2000);
		rig_settle(&g, 3000);
		CHECK_MSG(called, "control: restart-unit for a live target never reached the bus");
		if (g.seen.n == 1)
			CHECK_MSG(strcmp(g.seen.ev[0].unit, named ? g.w.unit : cg_unit[0]) == 0,
				  "control: restart-unit named unit \"%s\"", g.seen.ev[0].unit);
		rig_close(&g);
		unjudge(&a);
		end(a.pid);

		/* the pid reused by a process in another unit; with unit auto in
		 * dry-run too, where the event names the unit it would restart */
		for (int dry = 0; dry < (named ? 1 : 2); dry++) {
			snprintf(what, sizeof(what), "restart-unit%s%s, pid reused", named ? " (named)" : " (auto)",
				 dry ? ", dry-run" : "");
			for (int held = 0; held < 2; held++) {
				judge(&a, child(false, 0, cg_dir[0]), held);
				sleep_ms(30);
				b = replace(&a, true, cg_dir[1]);
				if (b < 0) {
					unjudge(&a);
					continue;
				}
				rig_open(&g, ACTION_RESTART_UNIT, 0);
				g.w.unit = named ? "lw-race-named.service" : NULL;
				actor_set_dry_run(g.a, dry);
				rig_act(&g, &a);
				called = bus_called(bus, 50);   /* a connect would be queued by now */
				rig_settle(&g, 3000);
				expect_one(&g, what, "failed", "replaced");
				CHECK_MSG(!called, "%s: RestartUnit was asked for", what);
				if (g.seen.n == 1 && !named)
					CHECK_MSG(g.seen.ev[0].unit[0] == '\0', "%s: the event names unit \"%s\" "
						  "(B's is %s)", what, g.seen.ev[0].unit, cg_unit[1]);
				expect_untouched(what, b);
				rig_close(&g);
				unjudge(&a);
				end(b);
			}
		}
	}
	close(bus);
	unlink(bus_path);
	setenv("DBUS_SYSTEM_BUS_ADDRESS", NO_BUS, 1);
	if (units)
		remove_units();
}

/* ---- no pidfds ------------------------------------------------------------ */

/* pidfd_open and pidfd_send_signal fail with ENOSYS from now on, as on
 * kernels before 5.3 and 5.1. */
static int no_pidfds(void)
{
	struct sock_filter f[] = {
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_pidfd_open, 2, 0),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_pidfd_send_signal, 1, 0),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | (ENOSYS & SECCOMP_RET_DATA)),
	};
	struct sock_fprog prog = { .len = sizeof(f) / sizeof(f[0]), .filter = f };

	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0 || prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog) < 0)
		return -errno;
	if (syscall(SYS_pidfd_open, getpid(), 0) >= 0 || errno != ENOSYS)
		return -EINVAL;
	return 0;
}

/* The signal cases again in a child without pidfds; its counts join ours. */
static void test_no_pidfds(void)
{
	int fds[2], status = 0, counts[2] = { 0, 0 };
	pid_t p;

	if (pipe2(fds, O_CLOEXEC) < 0) {
		CHECK_MSG(0, "pipe: %s", strerror(errno));
		return;
	}
	p = fork();
	if (p == 0) {
		int r = no_pidfds();

		close(fds[0]);
		CHECK_MSG(r == 0, "seccomp filter: %s", strerror(-r));
		if (r == 0)
			for (int held = 0; held < 2; held++) {
				test_signal_control(SIGTERM, held);
				test_reuse_signal(SIGTERM, held);
				test_reuse_signal(SIGKILL, held);
				test_kill_after_control(held);
				test_kill_after_reuse(held);
			}
		counts[0] = check_passed;
		counts[1] = check_failed;
		if (write(fds[1], counts, sizeof(counts)) != (ssize_t)sizeof(counts))
			_exit(1);
		_exit(0);
	}
	close(fds[1]);
	if (p < 0 || read(fds[0], counts, sizeof(counts)) != (ssize_t)sizeof(counts))
		CHECK_MSG(0, "the cases without pidfds did not report");
	close(fds[0]);
	if (p > 0)
		waitpid(p, &status, 0);
	CHECK_MSG(p > 0 && WIFEXITED(status) && WEXITSTATUS(status) == 0,
		  "the child without pidfds ended with status 0x%x", status);
	check_passed += counts[0];
	check_failed += counts[1];
}

/* ---- the namespace -------------------------------------------------------- */

/* PID 1 of the new pid namespace. */
static int run(void)
{
	sigset_t chld;
	int r;

	if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0 ||
	    mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) < 0) {
		printf("test_race: SKIP: cannot mount a /proc for the pid namespace: %s\n", strerror(errno));
		return 0;
	}
	r = proc_root_open(&root, "/proc");
	if (r < 0 || set_last_pid(1) < 0) {
		printf("test_race: SKIP: /proc or ns_last_pid not usable: %s\n", strerror(r < 0 ? -r : errno));
		return 0;
	}
	snprintf(tmp, sizeof(tmp), "/tmp/leakwatch-test-race-XXXXXX");
	if (!mkdtemp(tmp)) {
		printf("test_race: cannot make a directory under /tmp: %s\n", strerror(errno));
		return 1;
	}
	setenv("DBUS_SYSTEM_BUS_ADDRESS", NO_BUS, 1);
	/* as in the daemon: exec commands are followed through SIGCHLD */
	sigemptyset(&chld);
	sigaddset(&chld, SIGCHLD);
	sigprocmask(SIG_BLOCK, &chld, NULL);

	for (int held = 0; held < 2; held++) {
		test_signal_control(SIGTERM, held);
		test_signal_control(SIGKILL, held);
		test_gone(held);
		test_reuse_signal(SIGTERM, held);
		test_reuse_signal(SIGKILL, held);
		test_reuse_signal(SIGSTOP, held);
		test_kill_after_control(held);
		test_kill_after_reuse(held);
		test_exec(held);
	}
	test_same_tick();
	test_restart();
	test_no_pidfds();
	rmdir(tmp);
	proc_root_close(&root);
	return check_done("test_race");
}

/* Wait for a child; its exit status, or 1 when it was killed. */
static int reap(pid_t pid, const char *what)
{
	int status = 0;

	if (waitpid(pid, &status, 0) < 0)
		return 1;
	if (WIFSIGNALED(status)) {
		printf("test_race: %s killed by SIG%s\n", what, sigabbrev_np(WTERMSIG(status)));
		return 1;
	}
	return WEXITSTATUS(status);
}

int main(void)
{
	pid_t pid;

	if (!check_case("test_race"))
		return check_done("test_race");
	if (geteuid() != 0) {
		printf("test_race: SKIP: needs root (a pid namespace, ns_last_pid)\n");
		return 0;
	}
	fflush(stdout);
	/* The namespaces are made in a child: after unshare(CLONE_NEWPID) a
	 * process can fork no more once that namespace's init is gone, and
	 * LeakSanitizer forks at exit. */
	pid = fork();
	if (pid < 0) {
		perror("test_race: fork");
		return 1;
	}
	if (pid == 0) {
		if (unshare(CLONE_NEWPID | CLONE_NEWNS) < 0) {
			printf("test_race: SKIP: cannot make a pid and mount namespace: %s\n", strerror(errno));
			fflush(stdout);
			_exit(0);
		}
		pid = fork();
		if (pid == 0)
			exit(run());   /* exit, not _exit: LeakSanitizer checks at exit */
		_exit(pid < 0 ? 1 : reap(pid, "the namespace's init"));
	}
	return reap(pid, "the namespace's parent");
}
