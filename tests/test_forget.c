/* leakwatchctl forget, on a fixture /proc tree whose "self" is the
 * monitor's pid and which has a loadavg (so discovery probes between full
 * scans, as on a real host): monitor_forget() drops the record after a
 * gone event that says so (result "forgotten"), and the process is found
 * again at the next discovery, a probe scan, with an empty history; one
 * that no longer matches, or has exited, is not; a pid not watched is
 * -ESRCH.  The control request "forget PID" (daemon/requests.c): its
 * replies, OK and ERR; "reload" told from "reload ARG" (requests_alone);
 * and who may ask the requests that change something (requests_allowed). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "core/config.h"
#include "fixture.h"
#include "daemon/inspections.h"
#include "daemon/monitor.h"
#include "daemon/requests.h"

#define SELF 300

static const char *config_text =
	"interval: 250ms\n"
	"watches:\n"
	"  - name: workers\n"
	"    match: { cmdline: \"^python3 worker\" }\n"
	"    window: 20s\n"
	"    rss: { growth: 100M/h }\n";

/* The events about each pid, in order: 'f' found, 'g' gone (exited),
 * 'F' gone with result "forgotten". */
static char seen[400][32];
static char last_message[600];

static void on_event(void *ctx, struct event *e)
{
	size_t n;

	(void)ctx;
	if (e->pid <= 0 || e->pid >= 400 || (e->type != EVENT_FOUND && e->type != EVENT_GONE))
		return;
	n = strlen(seen[e->pid]);
	if (n + 1 < sizeof(seen[0]))
		seen[e->pid][n] = e->type == EVENT_FOUND ? 'f' : e->result && !strcmp(e->result, "forgotten") ? 'F' : 'g';
	if (e->type == EVENT_GONE)
		snprintf(last_message, sizeof(last_message), "%s", e->message);
}

static void tick_at(struct monitor *m, uint64_t ms)
{
	monitor_tick(m, ms, WALL_BASE + ms * 1000);
}

static void rm_proc(int pid)
{
	char cmd[600];

	snprintf(cmd, sizeof(cmd), "rm -rf %s/%d", root, pid);
	CHECK(system(cmd) == 0);
}

/* Ticks every 250 ms from *now for ms; *now moves on. */
static void run_for(struct monitor *m, uint64_t *now, uint64_t ms)
{
	for (uint64_t end = *now + ms; *now < end; *now += 250)
		tick_at(m, *now);
}

static void test_forget(struct monitor *m, uint64_t *now)
{
	const struct watched *w;
	uint64_t full = m->disc.full_scans;

	w = judged_find(&m->j, 100);
	CHECK(w && timeline_span_ms(&w->tl) >= 9000);
	CHECK(monitor_forget(m, 100) == 0);
	CHECK_STR(seen[100], "fF");
	CHECK_MSG(strstr(last_message, "workers: pid 100 (python3)") &&
		  strstr(last_message, "forgotten (leakwatchctl forget): its history, verdicts and withheld actions "
				       "are dropped; matched afresh at the next discovery"), "%s", last_message);
	CHECK(judged_find(&m->j, 100) == NULL && m->j.n_watched == 2);
	CHECK(monitor_forget(m, 100) == -ESRCH);

	/* found again by the next discovery, a probe (no full scan is due) */
	run_for(m, now, 1250);
	CHECK_STR(seen[100], "fFf");
	CHECK(m->disc.full_scans == full);
	w = judged_find(&m->j, 100);
	CHECK(w && timeline_span_ms(&w->tl) <= 1000 && m->j.n_watched == 3);
	CHECK_STR(seen[101], "f");

	/* one that no longer matches is matched afresh, and not taken */
	put("101/cmdline", "bash\0", 5);
	CHECK(monitor_forget(m, 101) == 0);
	run_for(m, now, 1250);
	CHECK_STR(seen[101], "fF");
	CHECK(judged_find(&m->j, 101) == NULL);

	/* one that exits once forgotten: nothing more about it, ever */
	CHECK(monitor_forget(m, 103) == 0);
	rm_proc(103);
	run_for(m, now, 61000);   /* past the minute's full scan */
	CHECK_STR(seen[103], "fF");
	CHECK(m->disc.full_scans > full && m->j.n_watched == 1);
	CHECK(monitor_forget(m, 102) == -ESRCH);   /* never watched */
	CHECK(monitor_forget(m, SELF) == -ESRCH);
}

static void test_request(struct monitor *m, uint64_t *now)
{
	static const struct {
		const char *request;
		bool handled;
		const char *reply;
	} cases[] = {
		{ "forget 102", true, "ERR pid 102 is not watched: nothing to forget\n" },
		{ "forget 99999", true, "ERR pid 99999 is not watched: nothing to forget\n" },
		{ "forget", true, "ERR forget needs a pid: \n" },
		{ "forget abc", true, "ERR forget needs a pid: abc\n" },
		{ "forget 100 101", true, "ERR forget needs a pid: 100 101\n" },
		{ "forget 0", true, "ERR forget needs a pid: 0\n" },
		{ "forget -100", true, "ERR forget needs a pid: -100\n" },
		{ "forget +100", true, "ERR forget needs a pid: +100\n" },
		{ "forget 2147483648", true, "ERR forget needs a pid: 2147483648\n" },
		{ "forget \x1b[2J", true, "ERR forget needs a pid: \\x1b[2J\n" },
		{ "forgetful 100", false, "" },
		{ "status", false, "" },
		{ "", false, "" },
		{ " forget\t100 ", true, "OK\nworkers: pid 100 forgotten: its history, verdicts and withheld actions are "
					 "dropped; matched afresh at the next discovery\n" },
	};
	struct inspections none = { 0 };   /* not ready: no inspection runs */

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct buf b = { 0 };
		bool handled = requests_forget(m, &none, cases[i].request, &b);

		CHECK_MSG(handled == cases[i].handled, "\"%s\"", cases[i].request);
		CHECK_MSG(strcmp(b.data ? b.data : "", cases[i].reply) == 0, "\"%s\": \"%s\"", cases[i].request,
			  b.data ? b.data : "");
		buf_free(&b);
	}
	CHECK(judged_find(&m->j, 100) == NULL);
	run_for(m, now, 1250);
	CHECK(judged_find(&m->j, 100) != NULL);
}

static void test_allowed(void)
{
	static const struct {
		const char *request;
		uid_t peer, self;
		bool ok;
	} cases[] = {
		{ "status", 1000, 0, true },
		{ "status json", (uid_t)-1, 0, true },
		{ "history 4242", 1000, 0, true },
		{ "inspection 4242", 1000, 0, true },
		{ "reload", 1000, 0, false },
		{ " reload", 1000, 0, false },
		{ "forget 4242", 1000, 0, false },
		{ "forget", 1000, 0, false },
		{ "inspect 4242 5", 1000, 0, false },
		{ "reload", (uid_t)-1, 0, false },
		{ "reload", 0, 0, true },
		{ "reload", 0, 1000, true },           /* root, whoever the daemon runs as */
		{ "forget 1", 1000, 1000, true },      /* the daemon's own user */
		{ "forget 1", 1001, 1000, false },
		{ "reloads", 1000, 0, true },          /* no such request: told so later */
		{ "forgetful", 1000, 0, true },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct buf b = { 0 };
		bool ok = requests_allowed(cases[i].request, cases[i].peer, cases[i].self, &b);

		CHECK_MSG(ok == cases[i].ok, "\"%s\" from %d to %d", cases[i].request, (int)cases[i].peer,
			  (int)cases[i].self);
		if (ok)
			CHECK(b.len == 0);
		else
			CHECK_MSG(b.data && strncmp(b.data, "ERR permission denied: only root or leakwatchd's own user may ",
						    62) == 0 && strchr(b.data, '\n') == b.data + b.len - 1,
				  "%s", b.data ? b.data : "");
		buf_free(&b);
	}
}

static void test_alone(void)
{
	static const struct {
		const char *request;
		int want;
	} cases[] = {
		{ "reload", 1 }, { " reload\t", 1 }, { "\treload  ", 1 }, { "reload now", -1 }, { "reload\t1", -1 },
		{ "reloads", 0 }, { "relo", 0 }, { "", 0 }, { "status", 0 }, { "x reload", 0 },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		CHECK_MSG(requests_alone(cases[i].request, "reload") == cases[i].want, "\"%s\"", cases[i].request);
}

int main(void)
{
	struct config *cfg;
	struct monitor m;
	char path[300];
	uint64_t now = 5000;

	RUN(test_allowed);
	RUN(test_alone);
	if (!make_root("forget"))
		return 2;
	cfg = load_config(config_text);
	CHECK(cfg != NULL);
	if (!cfg)
		return check_done("test_forget");
	snprintf(path, sizeof(path), "%s/self", root);
	CHECK(symlink("300", path) == 0);
	put("loadavg", "0.10 0.20 0.30 1/123 300\n", 25);
	make_proc(1, "systemd", 0, PF_USER, "/sbin/init", 3);
	make_proc(100, "python3", 1, PF_USER, "python3 worker.py", 3);
	make_proc(101, "python3", 1, PF_USER, "python3 worker.py", 3);
	make_proc(102, "bash", 1, PF_USER, "bash", 3);
	make_proc(103, "python3", 1, PF_USER, "python3 worker.py", 3);
	make_proc(SELF, "leakwatchd", 1, PF_USER, "leakwatchd", 3);

	CHECK(monitor_init(&m, root, cfg, SELF, on_event, NULL) == 0);
	CHECK(m.disc.loadavg_fd >= 0);
	run_for(&m, &now, 10000);
	CHECK(m.j.n_watched == 3);
	RUN(test_forget, &m, &now);
	RUN(test_request, &m, &now);

	monitor_free(&m);
	config_free(cfg);
	CHECK(remove_root() == 0);
	return check_done("test_forget");
}
