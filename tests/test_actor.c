/* The actor with its real backends, in an sd-event loop the test drives
 * (sd_event_run with timeouts), on real child processes:
 *
 *  - the gate: cooldown and max_actions withhold an action (reported once,
 *    then silent on retries) until the gate opens; alert acts not at all;
 *    dry-run reports and touches nothing; PID 1 and the actor's own pid are
 *    refused, and a refusal is no action for the gate;
 *  - signal: a child gets the signal (held by its /proc/PID fd or not);
 *    kill_after sends SIGKILL to one that ignores SIGTERM, and nothing to
 *    one that died of it; a child gone (reaped or a zombie) gives "failed
 *    ... gone or was replaced"; a child whose main thread has exited while
 *    another thread lives is there: signalled, held or by pid, and killed
 *    after kill_after;
 *  - exec: {pid}, {watch}... substituted and LEAKWATCH_* set, the output's
 *    lines to the note callback (cut at 511 bytes), stdin /dev/null, exit
 *    status, a signal, the timeout (its process group killed), a command
 *    that cannot be run (127), a target gone before it starts;
 *  - restart-unit: DBUS_SYSTEM_BUS_ADDRESS points at a socket of the test
 *    where a real sd-bus server (sd_bus_set_server on the accepted
 *    connection, in the same loop) answers Hello and RestartUnit, with a
 *    job or an error; the unit from the rule or from the process's cgroup
 *    (a fixture /proc tree: api.service, no unit, a user manager's unit, a
 *    delegated subtree's inner cgroup, hierarchies that disagree, a
 *    process replaced, one whose main thread exited: its live thread's
 *    cgroup); a bus that cannot be reached;
 *  - actor_free with a kill_after timer, an exec command and a RestartUnit
 *    call pending: the command is killed and reported, the rest dropped
 *    without an event, and every descriptor is closed (LSan, in `make
 *    sanitize`, checks the memory). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include <systemd/sd-bus.h>
#include <systemd/sd-event.h>

#include "check.h"
#include "fixture.h"
#include "core/config.h"
#include "core/event.h"
#include "io/actor.h"
#include "os/proc.h"

static struct proc_root sys_proc;   /* the real /proc */
static struct proc_root fake_proc;  /* fixture.h's tree, for cgroups */
static char tmp[64];                /* a directory for the test's files */

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

/* ---- what the actor reports ----------------------------------------------- */

#define MAX_SEEN 16

struct seen {
	unsigned n, notes, bad_notes;
	struct {
		enum event_type type;
		pid_t pid;
		int metric;
		uint64_t at_ms;         /* CLOCK_MONOTONIC when it came */
		char action[16], result[16], unit[128], incident[64], msg[600];
	} ev[MAX_SEEN];
	char note[MAX_SEEN][640];
};

static void on_event(void *ctx, struct event *e)
{
	struct seen *s = ctx;

	if (s->n >= MAX_SEEN)
		return;
	s->ev[s->n].type = e->type;
	s->ev[s->n].pid = e->pid;
	s->ev[s->n].metric = e->metric;
	s->ev[s->n].at_ms = now_ms();
	snprintf(s->ev[s->n].action, sizeof(s->ev[0].action), "%s", e->action ? e->action : "");
	snprintf(s->ev[s->n].result, sizeof(s->ev[0].result), "%s", e->result ? e->result : "");
	snprintf(s->ev[s->n].unit, sizeof(s->ev[0].unit), "%s", e->unit ? e->unit : "");
	snprintf(s->ev[s->n].incident, sizeof(s->ev[0].incident), "%s", e->incident ? e->incident : "");
	snprintf(s->ev[s->n].msg, sizeof(s->ev[0].msg), "%s", e->message);
	s->n++;
}

static void on_note(void *ctx, int priority, const char *text)
{
	struct seen *s = ctx;

	if (priority != LOG_INFO)
		s->bad_notes++;
	if (s->notes < MAX_SEEN)
		snprintf(s->note[s->notes], sizeof(s->note[0]), "%s", text);
	s->notes++;
}

struct rig {
	sd_event *e;
	struct actor *a;
	struct seen seen;
	struct watch w;
};

static void rig_open(struct rig *g, const struct proc_root *procfs, enum action act)
{
	memset(g, 0, sizeof(*g));
	g->w.name = "test";
	g->w.on_leak = g->w.on_limit = act;
	g->w.signal = SIGTERM;
	g->w.exec_timeout_ms = 10000;
	CHECK(sd_event_new(&g->e) >= 0);
	CHECK(actor_new(&g->a, g->e, procfs, getpid(), on_event, on_note, &g->seen) == 0);
}

/* Run the loop until the actor has nothing pending (or max_ms). */
static void rig_settle(struct rig *g, long max_ms)
{
	uint64_t end = now_ms() + (uint64_t)max_ms;

	while (actor_pending(g->a) && now_ms() < end)
		sd_event_run(g->e, 20000);
	CHECK_MSG(actor_pending(g->a) == 0, "%u actions still pending after %ld ms", actor_pending(g->a), max_ms);
}

static void rig_close(struct rig *g)
{
	actor_free(g->a);
	sd_event_unref(g->e);
}

/* Event i must be an action event about pid with this result and text. */
static void expect_event(const struct rig *g, unsigned i, const char *what, pid_t pid, const char *result,
			 const char *text)
{
	char want[512];

	CHECK_MSG(g->seen.n > i, "%s: %u events, expected event %u", what, g->seen.n, i + 1);
	if (g->seen.n <= i)
		return;
	snprintf(want, sizeof(want), "%s: pid %d (victim): action %s: %s: %s", g->w.name, (int)pid,
		 g->seen.ev[i].action, result, text);
	CHECK_MSG(g->seen.ev[i].type == EVENT_ACTION, "%s: event %u is not an action event", what, i + 1);
	CHECK_MSG(g->seen.ev[i].pid == pid, "%s: event about pid %d, not %d", what, (int)g->seen.ev[i].pid, (int)pid);
	CHECK_MSG(g->seen.ev[i].metric == METRIC_RSS, "%s: metric %d", what, g->seen.ev[i].metric);
	CHECK_STR(g->seen.ev[i].result, result);
	CHECK_STR(g->seen.ev[i].msg, want);
}

/* ---- targets -------------------------------------------------------------- */

struct target {
	pid_t pid;
	unsigned long long start;
	int procfd;
};

static void *waiter(void *arg)
{
	(void)arg;
	for (;;)
		pause();
	return NULL;
}

/* A child that waits to be signalled (ignoring SIGTERM if asked), judged
 * as the monitor judges: pid, start time, its /proc/PID directory.  With
 * leaderless, its main thread exits once a second thread waits instead
 * (the leader a zombie, the process alive), before it is judged. */
static bool spawn_as(struct target *t, bool ignore_term, bool leaderless)
{
	struct proc_stat st;
	int sync[2];
	char c, rel[32];

	t->procfd = -1;
	if (pipe2(sync, O_CLOEXEC) < 0)
		return false;
	t->pid = fork();
	if (t->pid == 0) {
		sigset_t none;
		pthread_t th;

		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		if (ignore_term)
			signal(SIGTERM, SIG_IGN);
		if (leaderless && pthread_create(&th, NULL, waiter, NULL) != 0)
			_exit(1);
		if (write(sync[1], "x", 1) != 1)
			_exit(1);
		if (leaderless)
			pthread_exit(NULL);
		waiter(NULL);
	}
	close(sync[1]);
	if (t->pid < 0 || read(sync[0], &c, 1) != 1) {
		close(sync[0]);
		return false;
	}
	close(sync[0]);
	snprintf(rel, sizeof(rel), "%d", (int)t->pid);
	t->procfd = openat(sys_proc.fd, rel, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	for (int i = 0; i < 200; i++) {
		if (proc_read_stat(&sys_proc, t->pid, &st, NULL) < 0)
			return false;
		if (!leaderless || proc_leader_exited(&st))
			break;
		sleep_ms(5);
	}
	t->start = st.start_ticks;
	return t->procfd >= 0 && (!leaderless || proc_leader_exited(&st));
}

static bool spawn(struct target *t, bool ignore_term)
{
	return spawn_as(t, ignore_term, false);
}

/* The child's wait status once it has died, within ms; -1 if it has not
 * (then it is killed and reaped). */
static int death(struct target *t, long ms)
{
	uint64_t end = now_ms() + (uint64_t)ms;
	int status;

	do {
		if (waitpid(t->pid, &status, WNOHANG) == t->pid)
			return status;
		sleep_ms(5);
	} while (now_ms() < end);
	kill(t->pid, SIGKILL);
	waitpid(t->pid, NULL, 0);
	return -1;
}

static bool alive(const struct target *t)
{
	return waitpid(t->pid, NULL, WNOHANG) == 0;
}

/* Kill and reap a child still there; close its fd. */
static void finish(struct target *t)
{
	if (t->pid > 0 && alive(t)) {
		kill(t->pid, SIGKILL);
		waitpid(t->pid, NULL, 0);
	}
	if (t->procfd >= 0)
		close(t->procfd);
	t->procfd = -1;
	t->pid = 0;
}

static struct act_request request(const struct rig *g, const struct target *t, bool held)
{
	return (struct act_request){
		.watch = &g->w, .why = EVENT_LEAK, .metric = METRIC_RSS, .value = 1e6,
		.pid = t->pid, .start_ticks = t->start, .procfd = held ? t->procfd : -1, .comm = "victim",
	};
}

/* ---- the gate ------------------------------------------------------------- */

static void test_gate(void)
{
	/* each step: wait, ask (retry or not), what actor_run returns, and the
	 * event reported ("" none) */
	static const struct {
		const char *name;
		uint64_t cooldown_ms, period_ms;
		unsigned max_actions;
		struct { long wait_ms; bool retry; int ret; const char *result, *text; } step[6];
	} cases[] = {
		{ "cooldown", 300, 3600000, 100, {
			{ 0, false, 0, "dry-run", "would signal" },
			{ 0, false, -EAGAIN, "suppressed", "cooldown: the watch acted less than 300ms ago" },
			{ 0, true, -EAGAIN, "", "" },
			{ 0, true, -EAGAIN, "", "" },
			{ 350, true, 0, "dry-run", "would signal" },
			{ 0, false, -EAGAIN, "suppressed", "cooldown: the watch acted less than 300ms ago" },
		} },
		{ "max_actions", 0, 800, 2, {
			{ 0, false, 0, "dry-run", "would signal" },
			{ 0, false, 0, "dry-run", "would signal" },
			{ 0, false, -EAGAIN, "suppressed", "max_actions: 2 in 800ms reached" },
			{ 0, true, -EAGAIN, "", "" },
			{ 850, true, 0, "dry-run", "would signal" },
			{ 0, true, 0, "dry-run", "would signal" },
		} },
	};
	struct target t;

	CHECK(spawn(&t, false));
	for (size_t c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
		struct rig g;
		unsigned want_n = 0;

		rig_open(&g, &sys_proc, ACTION_SIGNAL);
		g.w.cooldown_ms = cases[c].cooldown_ms;
		g.w.max_actions = cases[c].max_actions;
		g.w.max_actions_period_ms = cases[c].period_ms;
		actor_set_dry_run(g.a, true);
		for (size_t i = 0; i < 6; i++) {
			struct act_request r = request(&g, &t, true);
			int ret;

			sleep_ms(cases[c].step[i].wait_ms);
			r.retry = cases[c].step[i].retry;
			ret = actor_run(g.a, &r);
			CHECK_MSG(ret == cases[c].step[i].ret, "%s, step %zu: returned %d, expected %d",
				  cases[c].name, i + 1, ret, cases[c].step[i].ret);
			if (cases[c].step[i].result[0])
				expect_event(&g, want_n++, cases[c].name, t.pid, cases[c].step[i].result,
					     cases[c].step[i].text);
			CHECK_MSG(g.seen.n == want_n, "%s, step %zu: %u events, expected %u", cases[c].name,
				  i + 1, g.seen.n, want_n);
		}
		CHECK(actor_pending(g.a) == 0);
		rig_close(&g);
	}
	CHECK_MSG(alive(&t), "dry-run: the target was signalled");
	finish(&t);
}

/* alert does nothing; PID 1 and self are refused, and not counted */
static void test_refusal(void)
{
	static const enum action acts[] = { ACTION_SIGNAL, ACTION_EXEC };
	struct target t;

	CHECK(spawn(&t, false));
	for (size_t i = 0; i < 2; i++) {
		const pid_t pids[] = { 1, getpid() };
		struct rig g;

		rig_open(&g, &sys_proc, acts[i]);
		g.w.exec = (char *[]){ "/bin/echo", "ran", NULL };
		g.w.exec_len = 2;
		g.w.cooldown_ms = 3600000;
		for (size_t p = 0; p < 2; p++) {
			struct act_request r = request(&g, &t, false);

			r.pid = pids[p];
			r.start_ticks = 0;
			/* twice: the refusal did not open a cooldown */
			for (int k = 0; k < 2; k++) {
				CHECK(actor_run(g.a, &r) == 0);
				expect_event(&g, g.seen.n ? g.seen.n - 1 : 0, "refused", pids[p], "failed",
					     "refused: never acts on PID 1 or on leakwatchd");
			}
		}
		CHECK(g.seen.n == 4);
		CHECK(actor_pending(g.a) == 0);
		rig_settle(&g, 500);
		CHECK_MSG(g.seen.notes == 0, "refused: a command ran: %s", g.seen.note[0]);
		/* the gate is still open for a real target */
		rig_close(&g);
	}
	{
		struct rig g;
		struct act_request r;

		rig_open(&g, &sys_proc, ACTION_ALERT);
		r = request(&g, &t, true);
		CHECK(actor_run(g.a, &r) == 0);
		CHECK_MSG(g.seen.n == 0, "alert: %u events", g.seen.n);
		rig_close(&g);
	}
	CHECK_MSG(alive(&t), "refusal: the target was signalled");
	finish(&t);
}

/* dry-run: each action reported as it would be, nothing done */
static void test_dry_run(void)
{
	static const struct { enum action act; const char *text; } cases[] = {
		{ ACTION_SIGNAL, "would signal" },
		{ ACTION_EXEC, "would run the exec command" },
		{ ACTION_RESTART_UNIT, "would restart the unit" },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct target t;
		struct rig g;
		struct act_request r;

		CHECK(spawn(&t, false));
		rig_open(&g, &sys_proc, cases[i].act);
		g.w.exec = (char *[]){ "/bin/echo", "ran", NULL };
		g.w.exec_len = 2;
		g.w.unit = "lw-test.service";
		g.w.kill_after_ms = 50;
		actor_set_dry_run(g.a, true);
		r = request(&g, &t, true);
		r.incident = "/var/lib/leakwatch/incidents/x";
		CHECK(actor_run(g.a, &r) == 0);
		expect_event(&g, 0, "dry-run", t.pid, "dry-run", cases[i].text);
		CHECK(g.seen.n == 1);
		CHECK_STR(g.seen.ev[0].action, action_name(cases[i].act));
		CHECK_STR(g.seen.ev[0].incident, "/var/lib/leakwatch/incidents/x");
		CHECK_STR(g.seen.ev[0].unit, cases[i].act == ACTION_RESTART_UNIT ? "lw-test.service" : "");
		CHECK(actor_pending(g.a) == 0);
		sd_event_run(g.e, 100000);
		CHECK_MSG(g.seen.notes == 0 && g.seen.n == 1, "dry-run: something ran");
		CHECK_MSG(alive(&t), "dry-run %s: the target was signalled", cases[i].text);
		rig_close(&g);
		finish(&t);
	}
}

/* ---- signal --------------------------------------------------------------- */

enum gone { LIVE, REAPED, ZOMBIE };

static void test_signal(void)
{
	static const struct {
		const char *name;
		bool held, ignore_term;
		int sig;
		uint64_t kill_after_ms;
		enum gone gone;
		const char *text[2];    /* the events' texts, "ok" unless "failed ..." */
		int died_of;            /* 0: no death expected (gone) */
		bool leaderless;        /* its main thread has exited, another lives */
	} cases[] = {
		{ "TERM, held", true, false, SIGTERM, 0, LIVE, { "sent SIGTERM" }, SIGTERM, false },
		{ "TERM, by pid", false, false, SIGTERM, 0, LIVE, { "sent SIGTERM" }, SIGTERM, false },
		{ "USR1", true, false, SIGUSR1, 0, LIVE, { "sent SIGUSR1" }, SIGUSR1, false },
		{ "KILL, no kill_after timer", true, false, SIGKILL, 100, LIVE, { "sent SIGKILL" }, SIGKILL, false },
		{ "kill_after, held", true, true, SIGTERM, 100, LIVE,
		  { "sent SIGTERM", "still running 100ms after SIGTERM: sent SIGKILL" }, SIGKILL, false },
		{ "kill_after, by pid", false, true, SIGTERM, 100, LIVE,
		  { "sent SIGTERM", "still running 100ms after SIGTERM: sent SIGKILL" }, SIGKILL, false },
		{ "kill_after, died of TERM", true, false, SIGTERM, 100, LIVE, { "sent SIGTERM" }, SIGTERM, false },
		{ "reaped, held", true, false, SIGTERM, 100, REAPED,
		  { "failed pid %d is gone or was replaced before the signal" }, 0, false },
		{ "reaped, by pid", false, false, SIGTERM, 100, REAPED,
		  { "failed pid %d is gone or was replaced before the signal" }, 0, false },
		{ "zombie, held", true, false, SIGTERM, 100, ZOMBIE,
		  { "failed pid %d is gone or was replaced before the signal" }, 0, false },
		{ "zombie, by pid", false, false, SIGTERM, 100, ZOMBIE,
		  { "failed pid %d is gone or was replaced before the signal" }, 0, false },
		{ "main thread exited, held", true, false, SIGTERM, 0, LIVE, { "sent SIGTERM" }, SIGTERM, true },
		{ "main thread exited, by pid", false, false, SIGTERM, 0, LIVE, { "sent SIGTERM" }, SIGTERM, true },
		{ "main thread exited, kill_after", true, true, SIGTERM, 100, LIVE,
		  { "sent SIGTERM", "still running 100ms after SIGTERM: sent SIGKILL" }, SIGKILL, true },
		{ "main thread exited, then all, held", true, false, SIGTERM, 100, ZOMBIE,
		  { "failed pid %d is gone or was replaced before the signal" }, 0, true },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct target t;
		struct rig g;
		struct act_request r;
		unsigned want = cases[i].text[1] ? 2 : 1;
		uint64_t t0;
		int status;

		CHECK_MSG(spawn_as(&t, cases[i].ignore_term, cases[i].leaderless), "%s: spawn", cases[i].name);
		rig_open(&g, &sys_proc, ACTION_SIGNAL);
		g.w.signal = cases[i].sig;
		g.w.kill_after_ms = cases[i].kill_after_ms;
		r = request(&g, &t, cases[i].held);
		if (cases[i].gone != LIVE) {
			kill(t.pid, SIGKILL);
			if (cases[i].gone == REAPED) {
				waitpid(t.pid, NULL, 0);
			} else {
				siginfo_t si;   /* dead, not reaped */

				waitid(P_PID, (id_t)t.pid, &si, WEXITED | WNOWAIT);
			}
		}
		t0 = now_ms();
		CHECK(actor_run(g.a, &r) == 0);
		CHECK_MSG(actor_pending(g.a) == (cases[i].kill_after_ms && cases[i].sig != SIGKILL &&
						 cases[i].gone == LIVE),
			  "%s: %u pending", cases[i].name, actor_pending(g.a));
		rig_settle(&g, 2000);
		for (unsigned k = 0; k < want; k++) {
			const char *text = cases[i].text[k];
			char buf[200];

			if (strncmp(text, "failed ", 7) == 0) {
				snprintf(buf, sizeof(buf), text + 7, (int)t.pid);
				expect_event(&g, k, cases[i].name, t.pid, "failed", buf);
			} else {
				expect_event(&g, k, cases[i].name, t.pid, "ok", text);
			}
		}
		CHECK_MSG(g.seen.n == want, "%s: %u events, expected %u", cases[i].name, g.seen.n, want);
		if (want == 2 && g.seen.n == 2)   /* SIGKILL at kill_after, not before (nor much after) */
			CHECK_MSG(g.seen.ev[1].at_ms >= t0 + cases[i].kill_after_ms &&
				  g.seen.ev[1].at_ms < t0 + cases[i].kill_after_ms + 150,
				  "%s: SIGKILL %llu ms after the signal", cases[i].name,
				  (unsigned long long)(g.seen.ev[1].at_ms - t0));
		if (cases[i].died_of) {
			status = death(&t, 2000);
			CHECK_MSG(status >= 0 && WIFSIGNALED(status) && WTERMSIG(status) == cases[i].died_of,
				  "%s: status %d, expected death by SIG%s", cases[i].name, status,
				  sigabbrev_np(cases[i].died_of));
		} else if (cases[i].gone == ZOMBIE) {
			waitpid(t.pid, NULL, 0);
		}
		t.pid = 0;
		rig_close(&g);
		finish(&t);
	}
}

/* ---- exec ----------------------------------------------------------------- */

/* The note must be "test: exec (pid CHILD) for pid PID: LINE"; CHILD, or -1. */
static int note_child(const char *note, pid_t pid, const char *line)
{
	static const char head[] = "test: exec (pid ";
	char tail[700];
	char *end;
	long child;

	if (strncmp(note, head, sizeof(head) - 1) != 0)
		return -1;
	child = strtol(note + sizeof(head) - 1, &end, 10);
	snprintf(tail, sizeof(tail), ") for pid %d: %s", (int)pid, line);
	return child > 0 && strcmp(end, tail) == 0 ? (int)child : -1;
}

/* Is pid gone (or a zombie) within ms? */
static bool pid_gone(pid_t pid, long ms)
{
	uint64_t end = now_ms() + (uint64_t)ms;
	struct proc_stat st;

	do {
		if (proc_read_stat(&sys_proc, pid, &st, NULL) < 0 || st.state == 'Z' || st.state == 'X')
			return true;
		sleep_ms(10);
	} while (now_ms() < end);
	return false;
}

static void test_exec(void)
{
	static char *subst[] = { "/bin/sh", "-c",
		"echo '{pid} {watch} {metric} {event} {value} {other}'; "
		"echo \"$LEAKWATCH_PID $LEAKWATCH_WATCH $LEAKWATCH_METRIC $LEAKWATCH_EVENT $LEAKWATCH_VALUE "
		"${LEAKWATCH_STALE-unset}\"; echo err >&2", NULL };
	static char *status3[] = { "/bin/sh", "-c", "exit 3", NULL };
	static char *usr1[] = { "/bin/sh", "-c", "kill -USR1 $$", NULL };
	static char *slow[] = { "/bin/sh", "-c", "sleep 30 & echo $!; wait", NULL };
	static char *missing[] = { "/nonexistent/leakwatch-cmd", "{pid}", NULL };
	static char *cat[] = { "/bin/cat", NULL };
	static char *longline[] = { "/bin/sh", "-c", "head -c 600 /dev/zero | tr '\\0' x; echo; printf tail", NULL };
	static const struct {
		const char *name;
		char **argv;
		uint64_t timeout_ms;
		bool gone;
		const char *result, *text;
		const char *notes[3];   /* the lines, %d for the pid; "*" any */
	} cases[] = {
		{ "substituted", subst, 5000, false, "ok", "exited 0",
		  { "%d test rss leak 1000000 {other}", "%d test rss leak 1000000 unset", "err" } },
		{ "exit status", status3, 5000, false, "failed", "exit status 3", { NULL } },
		{ "signal", usr1, 5000, false, "failed", "killed by SIGUSR1", { NULL } },
		{ "timeout", slow, 200, false, "failed", "timed out after 200ms, killed", { "*" } },
		{ "cannot run", missing, 5000, false, "failed", "exit status 127",
		  { "cannot run /nonexistent/leakwatch-cmd: No such file or directory" } },
		{ "stdin is /dev/null", cat, 5000, false, "ok", "exited 0", { NULL } },
		{ "long line", longline, 5000, false, "ok", "exited 0", { "x511", "x89", "tail" } },
		{ "gone before", status3, 5000, true, "failed",
		  "pid %d is gone or was replaced before the command", { NULL } },
	};

	setenv("LEAKWATCH_STALE", "from the daemon's environment", 1);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct target t;
		struct rig g;
		struct act_request r;
		char text[200], line[600];
		unsigned want_notes = 0;
		int child = -1;

		CHECK(spawn(&t, false));
		rig_open(&g, &sys_proc, ACTION_EXEC);
		g.w.exec = cases[i].argv;
		for (g.w.exec_len = 0; cases[i].argv[g.w.exec_len]; g.w.exec_len++)
			;
		g.w.exec_timeout_ms = cases[i].timeout_ms;
		r = request(&g, &t, true);
		if (cases[i].gone) {
			kill(t.pid, SIGKILL);
			waitpid(t.pid, NULL, 0);
		}
		CHECK(actor_run(g.a, &r) == 0);
		CHECK_MSG(actor_pending(g.a) == !cases[i].gone, "%s: %u pending", cases[i].name, actor_pending(g.a));
		rig_settle(&g, 5000);
		snprintf(text, sizeof(text), cases[i].text, (int)t.pid);
		expect_event(&g, 0, cases[i].name, t.pid, cases[i].result, text);
		CHECK_MSG(g.seen.n == 1, "%s: %u events", cases[i].name, g.seen.n);
		for (size_t k = 0; k < 3 && cases[i].notes[k]; k++, want_notes++) {
			const char *n = cases[i].notes[k];

			if (n[0] == 'x') {   /* "xN": N times x */
				size_t len = (size_t)atoi(n + 1);

				memset(line, 'x', len);
				line[len] = '\0';
			} else {
				snprintf(line, sizeof(line), n, (int)t.pid);
			}
			if (k >= g.seen.notes || k >= MAX_SEEN) {
				CHECK_MSG(false, "%s: note %zu missing", cases[i].name, k + 1);
				continue;
			}
			if (strcmp(n, "*") == 0) {   /* the timeout case: sleep's pid */
				const char *p = strrchr(g.seen.note[k], ':');
				pid_t sleeper = p ? (pid_t)atoi(p + 1) : 0;

				CHECK_MSG(sleeper > 0 && pid_gone(sleeper, 2000),
					  "timeout: the command's process group was not killed (%s)", g.seen.note[k]);
				continue;
			}
			child = note_child(g.seen.note[k], t.pid, line);
			CHECK_MSG(child > 0, "%s: note \"%s\", expected line \"%s\"", cases[i].name, g.seen.note[k], line);
		}
		CHECK_MSG(g.seen.notes == want_notes, "%s: %u notes, expected %u", cases[i].name, g.seen.notes,
			  want_notes);
		CHECK(g.seen.bad_notes == 0);
		if (!cases[i].gone)
			CHECK_MSG(alive(&t), "%s: the target was touched", cases[i].name);
		else
			t.pid = 0;
		rig_close(&g);
		finish(&t);
	}
	unsetenv("LEAKWATCH_STALE");
}

/* ---- restart-unit: a fake system bus -------------------------------------- */

struct fake_bus {
	int listen_fd;
	sd_event_source *accept_src;
	sd_bus *conn[4];
	unsigned n_conn, connects, calls;
	bool answer;                /* false: leave RestartUnit unanswered */
	const char *error;          /* NULL: a job; else this error's name */
	char unit[128], mode[32];
	char path[100];
};

static int on_bus_message(sd_bus_message *m, void *userdata, sd_bus_error *ret_error)
{
	struct fake_bus *fb = userdata;
	const char *unit = NULL, *mode = NULL;

	(void)ret_error;
	if (sd_bus_message_is_method_call(m, "org.freedesktop.DBus", "Hello"))
		return sd_bus_reply_method_return(m, "s", ":1.42") < 0 ? -EIO : 1;
	if (!sd_bus_message_is_method_call(m, "org.freedesktop.systemd1.Manager", "RestartUnit"))
		return 0;
	fb->calls++;
	if (sd_bus_message_read(m, "ss", &unit, &mode) >= 0) {
		snprintf(fb->unit, sizeof(fb->unit), "%s", unit);
		snprintf(fb->mode, sizeof(fb->mode), "%s", mode);
	}
	if (!fb->answer)
		return 1;
	if (fb->error)
		return sd_bus_reply_method_errorf(m, fb->error, "Unit %s not found.", unit ? unit : "?") < 0 ? -EIO : 1;
	return sd_bus_reply_method_return(m, "o", "/org/freedesktop/systemd1/job/42") < 0 ? -EIO : 1;
}

static int on_bus_accept(sd_event_source *s, int fd, uint32_t revents, void *userdata)
{
	struct fake_bus *fb = userdata;
	sd_id128_t id;
	sd_bus *b = NULL;
	int c = accept4(fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);

	(void)revents;
	if (c < 0)
		return 0;
	fb->connects++;
	if (fb->n_conn >= 4 || sd_id128_randomize(&id) < 0 || sd_bus_new(&b) < 0 ||
	    sd_bus_set_fd(b, c, c) < 0) {
		sd_bus_unref(b);
		close(c);
		return 0;
	}
	/* the bus owns c now */
	if (sd_bus_set_server(b, 1, id) < 0 || sd_bus_add_filter(b, NULL, on_bus_message, fb) < 0 ||
	    sd_bus_attach_event(b, sd_event_source_get_event(s), 0) < 0 || sd_bus_start(b) < 0) {
		sd_bus_close_unref(b);
		return 0;
	}
	fb->conn[fb->n_conn++] = b;
	return 0;
}

/* Listen at tmp/system_bus_socket, and point the system bus there. */
static bool fake_bus_open(struct fake_bus *fb, sd_event *e)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	char addr[400];

	memset(fb, 0, sizeof(*fb));
	fb->answer = true;
	snprintf(fb->path, sizeof(fb->path), "%s/system_bus_socket", tmp);
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", fb->path);
	unlink(fb->path);
	fb->listen_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fb->listen_fd < 0 || bind(fb->listen_fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    listen(fb->listen_fd, 8) < 0 ||
	    sd_event_add_io(e, &fb->accept_src, fb->listen_fd, EPOLLIN, on_bus_accept, fb) < 0)
		return false;
	snprintf(addr, sizeof(addr), "unix:path=%s", fb->path);
	setenv("DBUS_SYSTEM_BUS_ADDRESS", addr, 1);
	return true;
}

static void fake_bus_hangup(struct fake_bus *fb)
{
	for (unsigned i = 0; i < fb->n_conn; i++)
		sd_bus_flush_close_unref(fb->conn[i]);
	fb->n_conn = 0;
}

static void fake_bus_close(struct fake_bus *fb)
{
	fake_bus_hangup(fb);
	fb->accept_src = sd_event_source_disable_unref(fb->accept_src);
	if (fb->listen_fd >= 0)
		close(fb->listen_fd);
	fb->listen_fd = -1;
	unlink(fb->path);
}

static void cgroup_root_of(const char *rel)
{
	static const char text[] = "1:name=systemd:/\n0::/\n";

	put(rel, text, sizeof(text) - 1);
}

/* A fixture process PID in the cgroup CGROUP, started at tick PID.  With
 * a thread TID, its main thread has exited (a zombie leader, as the kernel
 * shows it: two threads, the root cgroups) and TID, alive, is in CGROUP. */
static void fixture_proc(int pid, const char *cgroup, int tid)
{
	char dir[300], rel[64], buf[256];
	int n;

	snprintf(dir, sizeof(dir), "%s/%d", root, pid);
	mkdir(dir, 0755);
	stat_file(pid, "victim", 1, PF_USER, 1, 1000, (unsigned long long)pid);
	snprintf(rel, sizeof(rel), "%d/cgroup", pid);
	if (tid)        /* as a v1 layout shows an exited leader */
		cgroup_root_of(rel);
	else
		put(rel, cgroup, strlen(cgroup));
	if (!tid)
		return;
	n = snprintf(buf, sizeof(buf), "%d (victim) Z 1 %d %d 0 -1 %u 0 0 0 0 0 0 0 0 20 0 2 0 %d 0 0 0\n",
		     pid, pid, pid, PF_USER, pid);
	snprintf(rel, sizeof(rel), "%d/stat", pid);
	put(rel, buf, (size_t)n);
	snprintf(dir, sizeof(dir), "%s/%d/task", root, pid);
	mkdir(dir, 0755);
	snprintf(dir, sizeof(dir), "%s/%d/task/%d", root, pid, tid);
	mkdir(dir, 0755);
	n = snprintf(buf, sizeof(buf), "%d (victim) S 1 %d %d 0 -1 %u 0 0 0 0 0 0 0 0 20 0 2 0 %d 1 1000 0\n",
		     tid, pid, pid, PF_USER, pid + 1);
	snprintf(rel, sizeof(rel), "%d/task/%d/stat", pid, tid);
	put(rel, buf, (size_t)n);
	snprintf(rel, sizeof(rel), "%d/task/%d/cgroup", pid, tid);
	put(rel, cgroup, strlen(cgroup));
}

static void test_restart(void)
{
	static const struct {
		const char *name;
		int pid;
		const char *cgroup;     /* NULL: not in the fixture tree */
		const char *rule_unit;
		bool replaced, dry_run;
		const char *error;      /* the bus's answer: NULL a job */
		const char *result, *text, *unit;
		bool called;            /* the bus got RestartUnit UNIT replace */
		int thread;             /* nonzero: the main thread exited, this one lives */
	} cases[] = {
		{ "rule's unit", 4240, "0::/\n", "lw-test.service", false, false, NULL,
		  "ok", "RestartUnit lw-test.service queued", "lw-test.service", true, 0 },
		{ "bus error", 4241, "0::/\n", "lw-missing.service", false, false, "org.freedesktop.systemd1.NoSuchUnit",
		  "failed", "RestartUnit lw-missing.service: Unit lw-missing.service not found.", "lw-missing.service", true, 0 },
		{ "cgroup's unit", 4242, "0::/system.slice/api.service\n", NULL, false, false, NULL,
		  "ok", "RestartUnit api.service queued", "api.service", true, 0 },
		{ "cgroup's scope", 4243, "0::/system.slice/run-r1.scope\n", NULL, false, false, NULL,
		  "ok", "RestartUnit run-r1.scope queued", "run-r1.scope", true, 0 },
		{ "cgroup's unit, dry-run", 4244, "0::/system.slice/api.service\n", NULL, false, true, NULL,
		  "dry-run", "would restart the unit", "api.service", false, 0 },
		{ "no unit", 4245, "0::/\n", NULL, false, false, NULL,
		  "failed", "pid 4245 is in no systemd unit", "", false, 0 },
		{ "no unit, dry-run", 4246, "0::/user.slice\n", NULL, false, true, NULL,
		  "failed", "pid 4246 is in no systemd unit", "", false, 0 },
		{ "user manager's unit", 4247,
		  "0::/user.slice/user-1000.slice/user@1000.service/app.slice/app.service\n", NULL, false, false, NULL,
		  "failed", "pid 4247 is in user@1000.service, a user's service manager (its unit there: "
		  "app.service): refused, as restarting it would stop every service of that user, and the "
		  "system manager does not know the units within it", "", false, 0 },
		{ "user manager itself, dry-run", 4250,
		  "1:name=systemd:/user.slice/user-1000.slice/user@1000.service\n0::/\n", NULL, false, true, NULL,
		  "failed", "pid 4250 is in user@1000.service, a user's service manager: refused, as restarting "
		  "it would stop every service of that user, and the system manager does not know the units "
		  "within it", "", false, 0 },
		{ "delegated subtree", 4251, "0::/system.slice/job.service/x.slice/sshd.service\n", NULL, false, false,
		  NULL, "ok", "RestartUnit job.service queued", "job.service", true, 0 },
		{ "hierarchies disagree", 4252, "1:name=systemd:/system.slice/sshd.service\n0::/system.slice/job.service\n",
		  NULL, false, false, NULL, "failed", "pid 4252 is in no unit that can be told: its cgroup "
		  "hierarchies (unified and name=systemd) name different units", "", false, 0 },
		{ "replaced", 4248, "0::/system.slice/api.service\n", NULL, true, false, NULL,
		  "failed", "pid 4248 is gone or was replaced before its unit was looked up", "", false, 0 },
		{ "replaced, rule's unit", 4249, "0::/\n", "lw-test.service", true, false, NULL,
		  "failed", "pid 4249 is gone or was replaced before the restart", "lw-test.service", false, 0 },
		{ "main thread exited: a live thread's unit", 4260, "0::/system.slice/api.service\n", NULL, false, false,
		  NULL, "ok", "RestartUnit api.service queued", "api.service", true, 4261 },
		{ "main thread exited, replaced", 4262, "0::/system.slice/api.service\n", NULL, true, false, NULL,
		  "failed", "pid 4262 is gone or was replaced before its unit was looked up", "", false, 4263 },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct target t = { cases[i].pid, (unsigned long long)cases[i].pid, -1 };
		struct fake_bus fb;
		struct rig g;
		struct act_request r;
		uint64_t end;

		fixture_proc(cases[i].pid, cases[i].cgroup, cases[i].thread);
		if (cases[i].replaced)
			t.start++;
		rig_open(&g, &fake_proc, ACTION_RESTART_UNIT);
		CHECK(fake_bus_open(&fb, g.e));
		fb.error = cases[i].error;
		g.w.unit = (char *)cases[i].rule_unit;
		actor_set_dry_run(g.a, cases[i].dry_run);
		r = request(&g, &t, false);
		CHECK(actor_run(g.a, &r) == 0);
		rig_settle(&g, 3000);
		end = now_ms() + 100;   /* a connection that should not be: give it time */
		while (now_ms() < end)
			sd_event_run(g.e, 10000);
		expect_event(&g, 0, cases[i].name, t.pid, cases[i].result, cases[i].text);
		CHECK_MSG(g.seen.n == 1, "%s: %u events", cases[i].name, g.seen.n);
		CHECK_STR(g.seen.ev[0].unit, cases[i].unit);
		CHECK_STR(g.seen.ev[0].action, "restart-unit");
		CHECK_MSG(fb.calls == cases[i].called && fb.connects == cases[i].called,
			  "%s: %u connections, %u calls", cases[i].name, fb.connects, fb.calls);
		if (cases[i].called) {
			CHECK_STR(fb.unit, cases[i].unit);
			CHECK_STR(fb.mode, "replace");
		}
		rig_close(&g);
		fake_bus_close(&fb);
	}
	{   /* no bus there */
		struct target t = { 4240, 4240, -1 };
		struct rig g;
		struct act_request r;

		setenv("DBUS_SYSTEM_BUS_ADDRESS", "unix:path=/nonexistent/leakwatch-bus", 1);
		rig_open(&g, &fake_proc, ACTION_RESTART_UNIT);
		g.w.unit = "lw-test.service";
		r = request(&g, &t, false);
		CHECK(actor_run(g.a, &r) == 0);
		rig_settle(&g, 3000);
		CHECK(g.seen.n == 1);
		CHECK_MSG(g.seen.n && strstr(g.seen.ev[0].msg,
					     "action restart-unit: failed: cannot connect to the system bus: "),
			  "no bus: %s", g.seen.ev[0].msg);
		rig_close(&g);
	}
}

/* ---- actor_free with everything pending ----------------------------------- */

static unsigned count_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *de;
	unsigned n = 0;

	if (!d)
		return 0;
	while ((de = readdir(d)))
		n += de->d_name[0] != '.';
	closedir(d);
	return n;
}

static void test_free_pending(void)
{
	char pidfile[300], script[400], line[32];
	struct watch ws, wx, wu;
	struct target t;
	struct fake_bus fb;
	struct rig g;
	struct act_request r;
	unsigned fds0, fds1, events;
	uint64_t end;
	FILE *f;
	pid_t cmd = 0;

	snprintf(pidfile, sizeof(pidfile), "%s/cmd.pid", tmp);
	snprintf(script, sizeof(script), "echo $$ > %s; echo started; exec sleep 30", pidfile);
	CHECK(spawn(&t, true));
	fds0 = count_fds();

	rig_open(&g, &sys_proc, ACTION_SIGNAL);
	CHECK(fake_bus_open(&fb, g.e));
	fb.answer = false;
	ws = g.w;
	ws.name = "sig";
	ws.kill_after_ms = 60000;
	wx = g.w;
	wx.name = "run";
	wx.on_leak = ACTION_EXEC;
	wx.exec = (char *[]){ "/bin/sh", "-c", script, NULL };
	wx.exec_len = 3;
	wu = g.w;
	wu.name = "unit";
	wu.on_leak = ACTION_RESTART_UNIT;
	wu.unit = "lw-test.service";

	r = request(&g, &t, true);
	r.watch = &ws;
	CHECK(actor_run(g.a, &r) == 0);
	r.watch = &wx;
	CHECK(actor_run(g.a, &r) == 0);
	r = request(&g, &t, false);   /* the pid is real: restart-unit checks it */
	r.watch = &wu;
	CHECK(actor_run(g.a, &r) == 0);
	end = now_ms() + 3000;
	while ((fb.calls < 1 || g.seen.notes < 1) && now_ms() < end)
		sd_event_run(g.e, 20000);
	CHECK_MSG(fb.calls == 1, "the RestartUnit call did not reach the bus");
	CHECK_MSG(g.seen.notes == 1, "the command did not start (%u notes)", g.seen.notes);
	CHECK_MSG(actor_pending(g.a) == 3, "%u pending, expected 3", actor_pending(g.a));
	CHECK_MSG(g.seen.n == 1, "%u events before the stop, expected 1 (SIGTERM sent)", g.seen.n);
	f = fopen(pidfile, "r");
	if (f) {
		if (fgets(line, sizeof(line), f))
			cmd = (pid_t)atoi(line);
		fclose(f);
	}
	CHECK_MSG(cmd > 0, "no pid from the command");
	events = g.seen.n;

	actor_free(g.a);
	g.a = NULL;
	CHECK_MSG(g.seen.n == events + 1, "%u events at the stop, expected 1", g.seen.n - events);
	if (g.seen.n == events + 1) {
		CHECK_STR(g.seen.ev[events].action, "exec");
		CHECK_STR(g.seen.ev[events].result, "failed");
		CHECK(strstr(g.seen.ev[events].msg, "run: pid ") == g.seen.ev[events].msg);
		CHECK(strstr(g.seen.ev[events].msg, ": action exec: failed: killed: leakwatchd is stopping") != NULL);
	}
	CHECK_MSG(cmd > 0 && kill(cmd, 0) < 0 && errno == ESRCH, "the command %d is still there", (int)cmd);
	CHECK_MSG(alive(&t), "the kill_after escalation was carried out at the stop");
	fake_bus_close(&fb);
	sd_event_unref(g.e);
	fds1 = count_fds();
	CHECK_MSG(fds1 == fds0, "%u descriptors before the actor, %u after it is freed", fds0, fds1);
	finish(&t);
	unlink(pidfile);
}

int main(void)
{
	sigset_t mask;

	sigemptyset(&mask);
	sigaddset(&mask, SIGCHLD);   /* sd-event child sources */
	sigprocmask(SIG_BLOCK, &mask, NULL);
	snprintf(tmp, sizeof(tmp), "/tmp/leakwatch-test-actor-bus-XXXXXX");
	if (!mkdtemp(tmp) || !make_root("actor")) {
		perror("mkdtemp");
		return 2;
	}
	if (proc_root_open(&sys_proc, "/proc") < 0 || proc_root_open(&fake_proc, root) < 0) {
		perror("proc_root_open");
		return 2;
	}
	RUN(test_gate);
	RUN(test_refusal);
	RUN(test_dry_run);
	RUN(test_signal);
	RUN(test_exec);
	RUN(test_restart);
	RUN(test_free_pending);
	proc_root_close(&sys_proc);
	proc_root_close(&fake_proc);
	remove_root();
	rmdir(tmp);
	return check_done("test_actor");
}
