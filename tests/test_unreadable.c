/* The monitor run as nobody on a fixture /proc tree whose fd directory of
 * one process is root's (mode 0700), as another user's is before Linux
 * 6.2: that process is still watched, its rss and threads sampled and
 * judged (a leak found), its fds not; one warning for it in all the
 * ticks; status, table, history and summary show the metric unreadable.
 * A second process's fd directory is closed and opened again under the
 * monitor (its owner, nobody, changes the mode): one warning in all, and
 * the history starts again at each change.  The saved history keeps the
 * unreadable mark (-1 placeholders) across a restart, and a process found
 * readable after it starts afresh.  A pidfile only root may read: said
 * once, its watch matches nothing.  Needs root (to make the tree and turn
 * nobody); otherwise it says so and checks nothing. */
#include <errno.h>
#include <grp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check.h"
#include "core/config.h"
#include "fixture.h"
#include "daemon/monitor.h"
#include "core/history_report.h"
#include "core/status_report.h"
#include "core/state_codec.h"

#define NOBODY 65534

/* and a watch by a pidfile that only root may read */
static const char *config_text =
	"interval: 250ms\n"
	"watches:\n"
	"  - name: workers\n"
	"    match: { cmdline: \"^worker\" }\n"
	"    window: 20s\n"
	"    rss: { growth: 100M/h }\n"
	"    fds: { growth: 1000/h, max: 10 }\n"
	"  - name: api\n"
	"    match: { pidfile: \"%s/api.pid\" }\n";

struct seen {
	int found[256], warned[256][METRIC_COUNT], errors, leak[256][METRIC_COUNT], limit[256][METRIC_COUNT];
	int pidfile;
	char last[600];
};

static void on_event(void *ctx, struct event *e)
{
	struct seen *s = ctx;
	int pid = e->pid > 0 && e->pid < 256 ? e->pid : 0;

	switch (e->type) {
	case EVENT_FOUND: s->found[pid]++; break;
	case EVENT_LEAK:  s->leak[pid][e->metric]++; break;
	case EVENT_LIMIT: s->limit[pid][e->metric]++; break;
	case EVENT_ERROR:
		s->errors++;
		if (e->metric >= 0 && e->warning)
			s->warned[pid][e->metric]++;
		if (strstr(e->message, "cannot read the pidfile ") && strstr(e->message, "/api.pid: Permission denied "
									     "(leakwatchd runs as nobody)") && e->warning)
			s->pidfile++;
		snprintf(s->last, sizeof(s->last), "%s", e->message);
		break;
	default: break;
	}
}

static void mode(int pid, const char *sub, mode_t m)
{
	char path[600];

	snprintf(path, sizeof(path), "%s/%d/%s", root, pid, sub);
	if (chmod(path, m) < 0)
		perror(path);
}

static unsigned count(const char *text, const char *what)
{
	unsigned n = 0;

	for (const char *p = strstr(text, what); p; p = strstr(p + 1, what))
		n++;
	return n;
}

static const struct watched *find(const struct monitor *m, pid_t pid)
{
	return judged_find(&m->j, pid);
}

static void tick(struct monitor *m, int i)
{
	uint64_t now = 1000 + (uint64_t)i * 250;

	/* 101 leaks 100 KiB per tick; its fds grow too, unseen */
	stat_file(101, "worker", 1, PF_USER, 2, 1000 + i * 25, 101);
	monitor_tick(m, now, WALL_BASE + now * 1000);
}

/* Everything below runs as nobody. */
static void as_nobody(const struct config *cfg)
{
	static struct seen s, s2;
	struct monitor m, m2;
	struct saved_state saved;
	struct buf b = { 0 };
	const struct watched *w;
	char why[128], line[200];

	CHECK(monitor_init(&m, root, cfg, 300, on_event, &s) == 0);
	CHECK(!m.root.fd_size);
	CHECK_STR(m.self_user, "nobody");
	for (int i = 0; i < 120; i++) {
		if (i == 60)
			mode(102, "fd", 0);    /* closed ... */
		if (i == 80)
			mode(102, "fd", 0755); /* ... open again ... */
		if (i == 100)
			mode(102, "fd", 0);    /* ... and closed again: no second warning */
		if (i % 2 == 0 && !(i >= 60 && i < 80) && i < 100)
			add_fd(102, 10 + i);   /* 102's fds grow while open; 101's are never seen */
		if (i == 70) {
			/* 102 while closed: warned, history started again */
			w = find(&m, 102);
			CHECK(w && w->unreadable == 1u << METRIC_FDS && w->m[METRIC_FDS].value == -1);
			CHECK(w && timeline_span_ms(&w->tl) == 9 * 250);
		}
		if (i == 90) {
			w = find(&m, 102);
			CHECK(w && w->unreadable == 0 && w->m[METRIC_FDS].value > 10);
			CHECK(w && timeline_span_ms(&w->tl) == 9 * 250);
		}
		tick(&m, i);
	}
	CHECK(s.found[101] == 1 && s.found[102] == 1 && m.j.n_watched == 2);
	CHECK_MSG(s.warned[101][METRIC_FDS] == 1, "101 warned %d times", s.warned[101][METRIC_FDS]);
	CHECK_MSG(s.warned[102][METRIC_FDS] == 1, "102 warned %d times", s.warned[102][METRIC_FDS]);
	CHECK(s.errors == 3);
	CHECK_MSG(s.pidfile == 1, "%d pidfile warnings", s.pidfile);   /* read at every scan, said once */
	CHECK(s.found[103] == 0);
	CHECK(s.leak[101][METRIC_RSS] == 1);              /* rss still judged */
	CHECK(s.leak[101][METRIC_FDS] == 0 && s.limit[101][METRIC_FDS] == 0);
	/* over 10 while it could be read; again once read again (afresh) */
	CHECK_MSG(s.limit[102][METRIC_FDS] == 2, "%d", s.limit[102][METRIC_FDS]);
	CHECK(s.leak[102][METRIC_RSS] == 0);
	w = find(&m, 101);
	CHECK(w && w->unreadable == 1u << METRIC_FDS);
	CHECK(w && w->m[METRIC_THREADS].value == 2 && w->m[METRIC_RSS].value == (1000.0 + 119 * 25) * m.root.page_size);
	CHECK(w && timeline_span_ms(&w->tl) == 119 * 250);   /* never restarted */

	/* what leakwatchctl shows */
	report_status_json(&b, &m.j);
	CHECK_MSG(strstr(b.data, "\"pid\": 101,") &&
		  strstr(b.data, "\"fds\": {\"value\": null, \"limit\": null, \"slope_per_hour\": null, \"eta_seconds\": null, "
				 "\"verdict\": \"unreadable\"}"), "%s", b.data);
	CHECK(count(b.data, "\"verdict\": \"unreadable\"") == 2);   /* 101's fds, and 102's since tick 100 */
	buf_reset(&b);
	report_status_table(&b, &m.j, REPORT_WIDTH);
	CHECK_MSG(strstr(b.data, "fds           -         -     - unreadable\n"), "%s", b.data);
	CHECK_MSG(strstr(b.data, "\nleakwatchd: 2 processes partly unreadable (see the warnings)\n\n"), "%s", b.data);
	for (const char *p = b.data; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL) {
		size_t cols = 0;

		for (const char *q = p; *q && *q != '\n'; q++)
			cols += ((unsigned char)*q & 0xc0) != 0x80;   /* code points */
		CHECK_MSG(cols <= REPORT_WIDTH, "%.*s", (int)strcspn(p, "\n"), p);
	}
	buf_reset(&b);
	report_history_json(&b, &m.j, find(&m, 101));
	CHECK_MSG(strstr(b.data, "\"fds\": []") && !strstr(b.data, "\"rss\": []") && !strstr(b.data, "\"threads\": []"),
		  "%s", b.data);
	buf_reset(&b);
	report_history_table(&b, &m.j, find(&m, 101));
	{
		unsigned rows = 0;

		/* TIME SAMPLES RSS "RSS MIN" "RSS MAX" FDS THREADS: FDS is "-" */
		for (const char *p = strstr(b.data, "\n20"); p; p = strstr(p + 1, "\n20")) {
			char t[40], n[16], rss[16], lo[16], hi[16], fds[16], thr[16];

			CHECK(sscanf(p + 1, "%39s %15s %15s %15s %15s %15s %15s", t, n, rss, lo, hi, fds, thr) == 7 &&
			      strcmp(fds, "-") == 0 && strcmp(thr, "2") == 0);
			rows++;
		}
		CHECK(rows > 40);
	}
	report_summary(&m.j, line, sizeof(line));
	CHECK_STR(line, "watching 2 processes with 2 watches: 1 leaking, 0 over a limit, 2 partly unreadable");

	/* the restart: 102 was saved unreadable, and is readable now */
	buf_reset(&b);
	CHECK(state_encode_buf(&b, &m.j, NULL, "boot") == 0);
	CHECK(state_decode(b.data, b.len, &saved, why, sizeof(why)) == 0);
	monitor_free(&m);
	mode(102, "fd", 0755);
	CHECK(monitor_init(&m2, root, cfg, 300, on_event, &s2) == 0);
	monitor_restore(&m2, &saved);
	saved_state_clear(&saved);
	tick(&m2, 121);
	w = find(&m2, 101);
	CHECK(m2.j.n_watched == 2 && w && w->unreadable == 1u << METRIC_FDS);
	CHECK(w && timeline_span_ms(&w->tl) == 121 * 250);  /* its history goes on */
	CHECK(s2.leak[101][METRIC_RSS] == 0);               /* and its leak is not told again */
	CHECK(s2.warned[101][METRIC_FDS] == 1);             /* a new run: said once more */
	w = find(&m2, 102);
	CHECK(w && w->unreadable == 0 && timeline_span_ms(&w->tl) == 0 && w->m[METRIC_FDS].value > 10);
	CHECK(s2.warned[102][METRIC_FDS] == 0);
	monitor_free(&m2);
	buf_free(&b);
}

int main(void)
{
	struct config *cfg;
	pid_t child;
	int status = -1;
	char cmd[2000], text[1024];

	if (!check_case("test_unreadable"))
		return check_done("test_unreadable");
	if (geteuid() != 0) {
		printf("test_unreadable: not root: cannot turn nobody; nothing checked\n");
		return check_done("test_unreadable");
	}
	if (!make_root("unreadable"))
		return 2;
	snprintf(text, sizeof(text), config_text, root);
	cfg = load_config(text);
	CHECK(cfg != NULL);
	if (!cfg)
		return check_done("test_unreadable");
	make_proc(1, "systemd", 0, PF_USER, "/sbin/init", 3);
	make_proc(101, "worker", 1, PF_USER, "worker a", 5);
	make_proc(102, "worker", 1, PF_USER, "worker b", 5);
	make_proc(103, "api", 1, PF_USER, "api", 5);
	put("api.pid", "103\n", 4);
	/* the tree is nobody's but 101's fd directory, root's and closed */
	snprintf(cmd, sizeof(cmd), "chown -R %d:%d %s && chown 0:0 %s/101/fd %s/api.pid && chmod 0700 %s/101/fd && "
		 "chmod 0600 %s/api.pid", NOBODY, NOBODY, root, root, root, root, root);
	CHECK(system(cmd) == 0);
	fflush(NULL);
	child = fork();
	if (child == 0) {
		if (setgroups(0, NULL) < 0 || setresgid(NOBODY, NOBODY, NOBODY) < 0 ||
		    setresuid(NOBODY, NOBODY, NOBODY) < 0) {
			perror("turning nobody");
			_exit(2);
		}
		as_nobody(cfg);
		status = check_done("test_unreadable, as nobody");
		fflush(NULL);
		_exit(status);
	}
	CHECK(child > 0 && waitpid(child, &status, 0) == child);
	CHECK_MSG(WIFEXITED(status) && WEXITSTATUS(status) == 0, "the part as nobody failed: status %#x", status);
	config_free(cfg);
	CHECK(remove_root() == 0);
	return check_done("test_unreadable");
}
