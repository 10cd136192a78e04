/* The status's per-watch summary and filters (core/watch_summary.h,
 * core/status_filter.h), rendered from a monitor on a fixture /proc tree
 * that has run 30 s (pid 101 leaks fds and is over its rss limit, the
 * others are steady): the tallies; the last action kept per watch from the
 * action events; the watch lines at widths from 80 to 9999 (a line that
 * does not fit broken before its last action, every line within the
 * width) and their JSON; the status requests with "watch NAME", "verdict
 * V" and "watches", their tables and JSON, and their errors (an unknown
 * watch, listed at most 8; not a verdict; a word twice). */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "json_check.h"
#include "text.h"
#include "core/config.h"
#include "fixture.h"
#include "daemon/monitor.h"
#include "core/status_filter.h"
#include "core/status_report.h"
#include "core/watch_summary.h"

static const char *config_text =
	"interval: 250ms\n"
	"watches:\n"
	"  - name: workers\n"
	"    match: { comm: gunicorn }\n"
	"    window: 20s\n"
	"    rss: { growth: 100M/h, max: 12M, for: 2 }\n"
	"    fds: { growth: 1000/h }\n"
	"  - name: a-very-long-watch-name-that-takes-most-of-the-line-x\n"
	"    match: { cmdline: \"^longproc\" }\n"
	"    window: 20s\n"
	"  - name: idle\n"
	"    match: { cmdline: \"^nothing-runs-this\" }\n";

#define LONG_NAME "a-very-long-watch-name-that-takes-most-of-the-line-x"
#define CLIPPED   "a-very-long-watch-name-that-takes-most-o~"   /* in 80 columns */

static void on_event(void *ctx, struct event *e)
{
	(void)ctx;
	(void)e;
}

/* Display columns: code points. */
static size_t columns(const char *s)
{
	size_t n = 0;

	for (; *s && *s != '\n'; s++)
		n += ((unsigned char)*s & 0xc0) != 0x80;
	return n;
}

/* Every line of text within width columns. */
static bool fits(const char *text, size_t width)
{
	for (const char *p = text; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL)
		if (columns(p) > width)
			return false;
	return true;
}

static void answer(const struct monitor *m, const char *request, struct buf *b)
{
	buf_reset(b);
	report_answer(&m->j, request, b);
}

static struct event action_event(const char *watch, pid_t pid, const char *action, const char *result,
				 uint64_t ts)
{
	struct event e;

	event_init(&e, EVENT_ACTION, ts);
	event_about(&e, &(struct subject){ watch, pid, "gunicorn", NULL });
	e.action = action;
	e.result = result;
	return e;
}

static void test_tallies(const struct monitor *m)
{
	struct watch_tally t[3];

	watch_tallies(&m->j, t);
	CHECK(t[0].processes == 3 && t[0].leaking == 1 && t[0].over_limit == 1);
	CHECK(t[1].processes == 1 && t[1].leaking == 0 && t[1].over_limit == 0);
	CHECK(t[2].processes == 0 && t[2].leaking == 0 && t[2].over_limit == 0);
}

static void test_lines_no_action(const struct monitor *m)
{
	struct buf b = { 0 };

	report_watch_lines(&b, &m->j, -1, 80);
	CHECK_STR(b.data,
		  "workers: 3 processes, 1 leaking, 1 over a limit, no action yet\n"
		  CLIPPED ": 1 process, 0 leaking, 0 over a limit,\n"
		  "  no action yet\n"
		  "idle: 0 processes, 0 leaking, 0 over a limit, no action yet\n");
	buf_reset(&b);
	report_watch_lines(&b, &m->j, 1, 200);
	CHECK_STR(b.data, LONG_NAME ": 1 process, 0 leaking, 0 over a limit, no action yet\n");
	buf_reset(&b);
	report_watch_lines(&b, &m->j, 2, 0);   /* under 80 counts as 80 */
	CHECK_STR(b.data, "idle: 0 processes, 0 leaking, 0 over a limit, no action yet\n");
	buf_reset(&b);
	report_watches_json(&b, &m->j, -1);
	CHECK_MSG(json_valid(b.data), "%s", b.data);
	CHECK_STR(b.data,
		  "[{\"watch\": \"workers\", \"processes\": 3, \"leaking\": 1, \"over_limit\": 1, \"last_action\": null},\n"
		  " {\"watch\": \"" LONG_NAME "\", \"processes\": 1, \"leaking\": 0, \"over_limit\": 0, "
		  "\"last_action\": null},\n"
		  " {\"watch\": \"idle\", \"processes\": 0, \"leaking\": 0, \"over_limit\": 0, \"last_action\": null}]\n");
	buf_free(&b);
}

static void test_last_action(struct monitor *m)
{
	uint64_t now = m->j.wall_usec;
	struct event e = action_event("workers", 101, "signal", "suppressed", now - 185 * 1000000ull);
	struct event other;
	struct buf b = { 0 };
	char name[80];

	/* what is not kept: other events, events about no watch, a name too long */
	event_init(&other, EVENT_LEAK, now);
	event_about(&other, &(struct subject){ "workers", 101, "gunicorn", NULL });
	CHECK(last_action_note(&m->j.actions, &other) == -EINVAL);
	other = action_event(NULL, 0, "signal", "ok", now);
	CHECK(last_action_note(&m->j.actions, &other) == -EINVAL);
	memset(name, 'x', 65);
	name[65] = '\0';
	other = action_event(name, 101, "signal", "ok", now);
	CHECK(last_action_note(&m->j.actions, &other) == -EINVAL);
	CHECK(m->j.actions == NULL);

	CHECK(last_action_note(&m->j.actions, &e) == 0);
	report_watch_lines(&b, &m->j, 0, 80);
	CHECK_STR(b.data, "workers: 3 processes, 1 leaking, 1 over a limit,\n"
			  "  last action signal suppressed 3m5s ago (pid 101)\n");
	buf_reset(&b);
	report_watch_lines(&b, &m->j, 0, 120);
	CHECK_STR(b.data, "workers: 3 processes, 1 leaking, 1 over a limit, last action signal suppressed 3m5s ago "
			  "(pid 101)\n");

	/* the newest replaces it; one stamped after the tick is 0 s old */
	e = action_event("workers", 102, "signal", "ok", now + 300000);
	CHECK(last_action_note(&m->j.actions, &e) == 0);
	e = action_event(LONG_NAME, 200, "restart-unit", "failed", now - 7200 * 1000000ull - 999999);
	CHECK(last_action_note(&m->j.actions, &e) == 0);
	CHECK(last_action_find(m->j.actions, "workers")->pid == 102);
	CHECK(last_action_find(m->j.actions, "idle") == NULL);
	buf_reset(&b);
	report_watch_lines(&b, &m->j, -1, 80);
	CHECK_STR(b.data,
		  "workers: 3 processes, 1 leaking, 1 over a limit,\n"
		  "  last action signal ok 0s ago (pid 102)\n"
		  CLIPPED ": 1 process, 0 leaking, 0 over a limit,\n"
		  "  last action restart-unit failed 2h ago (pid 200)\n"
		  "idle: 0 processes, 0 leaking, 0 over a limit, no action yet\n");
	buf_reset(&b);
	report_watches_json(&b, &m->j, 1);
	CHECK_MSG(json_valid(b.data), "%s", b.data);
	CHECK_STR(b.data, "[{\"watch\": \"" LONG_NAME "\", \"processes\": 1, \"leaking\": 0, \"over_limit\": 0, "
			  "\"last_action\": {\"action\": \"restart-unit\", \"result\": \"failed\", \"pid\": 200, "
			  "\"ts\": \"2026-11-24T03:00:29.750Z\", \"seconds_ago\": 7200}}]\n");

	/* every width: every line within it, the name clipped when it must */
	for (unsigned width = 0; width <= 200; width++) {
		buf_reset(&b);
		report_watch_lines(&b, &m->j, -1, width);
		CHECK_MSG(fits(b.data, width < 80 ? 80 : width), "width %u:\n%s", width, b.data);
		CHECK_MSG(count(b.data, "\n") == (width >= 140 ? 3u : width >= 87 ? 4u : 5u), "width %u:\n%s", width,
			  b.data);
	}
	buf_free(&b);
}

/* The pids in a status JSON, as a string "101 102 ..." */
static void pids_of(const char *json, char *out, size_t len)
{
	size_t n = 0;

	out[0] = '\0';
	for (const char *p = json; (p = strstr(p, "\"pid\": ")); p += 7)
		n += (size_t)snprintf(out + n, len - n, "%s%d", n ? " " : "", atoi(p + 7));
}

static void test_filters(const struct monitor *m)
{
	static const struct {
		const char *request;
		const char *pids;
	} cases[] = {
		{ "status json", "101 102 103 200" },
		{ "status watch workers json", "101 102 103" },
		{ "status watch " LONG_NAME " json", "200" },
		{ "status watch idle json", "" },
		{ "status verdict leak json", "101" },
		{ "status verdict limit json", "101" },
		{ "status verdict ok json", "101 102 103 200" },
		{ "status verdict warming json", "" },
		{ "status verdict unreadable json", "" },
		{ "status verdict leak watch workers json", "101" },
		{ "status watch " LONG_NAME " verdict leak json", "" },
	};
	struct buf b = { 0 };
	char pids[200];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		answer(m, cases[i].request, &b);
		CHECK_MSG(strncmp(b.data, "OK\n[", 4) == 0 && json_valid(b.data + 3), "\"%s\": %.80s", cases[i].request,
			  b.data);
		pids_of(b.data, pids, sizeof(pids));
		CHECK_MSG(strcmp(pids, cases[i].pids) == 0, "\"%s\": pids \"%s\", want \"%s\"", cases[i].request, pids,
			  cases[i].pids);
	}

	/* the table: the rows of the processes kept, the watch lines of the watch asked for */
	answer(m, "status watch workers verdict leak table 80", &b);
	{
		static const char top[] = "OK\nleakwatchd: watching 4 processes with 3 watches: 1 leaking, 1 over a limit\n\n"
					  "workers: 3 processes, 1 leaking, 1 over a limit, no action yet\n\nWATCH ";

		CHECK_MSG(strncmp(b.data, top, sizeof(top) - 1) == 0, "%s", b.data);
	}
	CHECK(strstr(b.data, "\nworkers        101 gunicorn   rss ") && !strstr(b.data, " 102 ") &&
	      !strstr(b.data, "idle:"));
	answer(m, "status verdict leak", &b);
	CHECK(strstr(b.data, "\nworkers: 3 processes") && strstr(b.data, "\nidle: 0 processes") &&
	      strstr(b.data, " 101 gunicorn ") && !strstr(b.data, " 200 "));
	answer(m, "status watch idle", &b);
	CHECK_MSG(strstr(b.data, "\nidle: 0 processes, 0 leaking, 0 over a limit, no action yet\n\nWATCH ") &&
		  strstr(b.data, "VERDICT WINDOW\n(no process of watch idle)\n"), "%s", b.data);
	answer(m, "status verdict warming table 132", &b);
	CHECK_MSG(strstr(b.data, "VERDICT WINDOW\n(no process with a metric at warming)\n") && fits(b.data, 132), "%s",
		  b.data);
	answer(m, "status watch workers verdict unreadable", &b);
	CHECK(strstr(b.data, "\n(no process of watch workers with a metric at unreadable)\n"));

	/* the watches' summary alone */
	answer(m, "status watches table 80", &b);
	CHECK(strncmp(b.data, "OK\nworkers: 3 processes, ", 25) == 0 && count(b.data, "\n") == 5);
	answer(m, "status watches watch idle table 80", &b);
	CHECK_STR(b.data, "OK\nidle: 0 processes, 0 leaking, 0 over a limit, no action yet\n");
	answer(m, "status watch idle watches json", &b);
	CHECK_STR(b.data, "OK\n[{\"watch\": \"idle\", \"processes\": 0, \"leaking\": 0, \"over_limit\": 0, "
			  "\"last_action\": null}]\n");
	answer(m, "status watches", &b);
	CHECK(strncmp(b.data, "OK\nworkers: ", 12) == 0);
	buf_free(&b);
}

static void test_errors(const struct monitor *m)
{
	static const struct {
		const char *request, *reply;
	} cases[] = {
		{ "status watch nope", "ERR no watch is named 'nope': the watches are workers, " LONG_NAME " and idle\n" },
		{ "status watch nope json", "ERR no watch is named 'nope': the watches are workers, " LONG_NAME " and idle\n" },
		{ "status watch Workers table 80", "ERR no watch is named 'Workers': the watches are workers, " LONG_NAME
						   " and idle\n" },
		{ "status watch a/b", "ERR no watch is named so: a watch name is 1 to 64 letters, digits, '.', '_' or '-'\n" },
		{ "status watch \x1b[2J", "ERR no watch is named so: a watch name is 1 to 64 letters, digits, '.', '_' or "
					  "'-'\n" },
		{ "status verdict leaking", "ERR not a verdict: 'leaking': warming, ok, leak, limit or unreadable\n" },
		{ "status verdict \x1b[2J json", "ERR not a verdict: '\\x1b[2J': warming, ok, leak, limit or unreadable\n" },
		{ "status verdict xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
		  "ERR not a verdict: '(too long)': warming, ok, leak, limit or unreadable\n" },
		{ "status watches verdict leak", "ERR a verdict picks processes: the watches' summary counts them all\n" },
		{ "status watch", "ERR unknown request: status watch\n" },
		{ "status verdict", "ERR unknown request: status verdict\n" },
		{ "status watch workers watch idle", "ERR unknown request: status watch workers watch idle\n" },
		{ "status verdict ok verdict leak", "ERR unknown request: status verdict ok verdict leak\n" },
		{ "status watches watches", "ERR unknown request: status watches watches\n" },
		{ "status workers", "ERR unknown request: status workers\n" },
		{ "status watch workers verdict leak table 80 x", "ERR unknown request: status watch workers verdict leak "
								  "table 80 x\n" },
	};
	struct buf b = { 0 };

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		answer(m, cases[i].request, &b);
		CHECK_MSG(strcmp(b.data, cases[i].reply) == 0, "\"%s\": \"%s\"", cases[i].request, b.data);
	}
	buf_free(&b);
}

/* An unknown name among many watches: eight of them named, the rest counted. */
static void test_many_watches(void)
{
	struct buf text = { 0 }, b = { 0 };
	struct monitor m;
	struct config *cfg;

	buf_puts(&text, "watches:\n");
	for (int i = 0; i < 11; i++)
		buf_printf(&text, "  - name: w%d\n    match: { comm: c%d }\n", i, i);
	cfg = load_config(text.data);
	CHECK(cfg != NULL);
	if (!cfg)
		return;
	memset(&m, 0, sizeof(m));
	m.j.cfg = cfg;
	answer(&m, "status watch nope", &b);
	CHECK_STR(b.data, "ERR no watch is named 'nope': the watches are w0, w1, w2, w3, w4, w5, w6, w7 and 3 more\n");
	answer(&m, "status watch w10 json", &b);
	CHECK_STR(b.data, "OK\n[]\n");
	answer(&m, "status watch w10 watches json", &b);
	CHECK_STR(b.data, "OK\n[{\"watch\": \"w10\", \"processes\": 0, \"leaking\": 0, \"over_limit\": 0, "
			  "\"last_action\": null}]\n");
	config_free(cfg);
	buf_free(&text);
	buf_free(&b);
}

static void test_verdict_names(void)
{
	static const char *const names[] = { "warming", "ok", "leak", "limit", "unreadable" };

	for (int v = 0; v < STATUS_VERDICTS; v++) {
		CHECK(status_verdict_parse(names[v]) == v);
		CHECK_STR(status_verdict_name(v), names[v]);
	}
	CHECK(STATUS_UNREADABLE == 4 && VERDICT_LIMIT == 3);
	CHECK(status_verdict_parse("LEAK") == -1 && status_verdict_parse("") == -1);
	CHECK_STR(status_verdict_name(-1), "?");
	CHECK_STR(status_verdict_name(5), "?");
}

int main(void)
{
	struct config *cfg;
	struct monitor m;

	RUN(test_verdict_names);
	if (!make_root("watch-summary"))
		return 2;
	RUN(test_many_watches);
	cfg = load_config(config_text);
	CHECK(cfg != NULL);
	if (!cfg)
		return check_done("test_watch_summary");
	make_proc(1, "systemd", 0, PF_USER, "/sbin/init", 3);
	make_proc(101, "gunicorn", 1, PF_USER, "gunicorn: worker [app]", 5);
	make_proc(102, "gunicorn", 1, PF_USER, "gunicorn: worker [app]", 5);
	make_proc(103, "gunicorn", 1, PF_USER, "gunicorn: worker [app]", 5);
	make_proc(200, "longproc", 1, PF_USER, "longproc", 3);

	CHECK(monitor_init(&m, root, cfg, 300, on_event, NULL) == 0);
	/* 30 s at 250 ms: 101 leaks memory (past its 12M) and fds */
	for (int i = 0; i < 120; i++) {
		uint64_t now = 1000 + (uint64_t)i * 250;

		stat_file(101, "gunicorn", 1, PF_USER, 2, 1000 + i * 25, 101);
		if (i % 2 == 0)
			add_fd(101, 5 + i / 2);
		monitor_tick(&m, now, WALL_BASE + now * 1000);
	}
	CHECK(m.j.n_watched == 4);
	RUN(test_tallies, &m);
	RUN(test_lines_no_action, &m);
	RUN(test_filters, &m);
	RUN(test_errors, &m);
	RUN(test_last_action, &m);

	monitor_free(&m);   /* frees the last actions too */
	config_free(cfg);
	CHECK(remove_root() == 0);
	return check_done("test_watch_summary");
}
