/* The monitor on a fixture /proc tree: discovery, first-watch-wins, parent
 * matching, what is never watched (PID 1, kernel threads, ourselves),
 * fd counting by entries (not procfs), a leak reported once, and gone. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check.h"
#include "core/config.h"
#include "fixture.h"
#include "daemon/monitor.h"

struct seen {
	int found[512], gone[512], leak[512][METRIC_COUNT], limit[512][METRIC_COUNT];
	double slope[512];
	char found_title[64], leak_title[64];   /* pid 101's, as its events had them */
};

static void on_event(void *ctx, struct event *e)
{
	struct seen *s = ctx;
	int pid = e->pid < 512 ? e->pid : 0;

	if (pid == 101 && (e->type == EVENT_FOUND || (e->type == EVENT_LEAK && e->metric == METRIC_RSS)))
		snprintf(e->type == EVENT_FOUND ? s->found_title : s->leak_title, sizeof(s->found_title), "%s",
			 e->title ? e->title : "(none)");
	switch (e->type) {
	case EVENT_FOUND: s->found[pid]++; break;
	case EVENT_GONE:  s->gone[pid]++; break;
	case EVENT_LEAK:
		s->leak[pid][e->metric]++;
		if (e->metric == METRIC_RSS)
			s->slope[pid] = e->slope_per_hour;
		break;
	case EVENT_LIMIT: s->limit[pid][e->metric]++; break;
	default: break;
	}
}

static const char *config_text =
	"interval: 250ms\n"
	"watches:\n"
	"  - name: workers\n"
	"    match:\n"
	"      parent: { cmdline: \"^gunicorn: master\" }\n"
	"    warmup: 2s\n"
	"    window: 20s\n"
	"    rss: { growth: 100M/h, max: 12M, for: 2 }\n"
	"    fds: { growth: 1000/h }\n"
	"  - name: init-children\n"
	"    match:\n"
	"      comm: \"orphan*\"\n"
	"      parent: { cmdline: \"^/sbin/init\" }\n"
	"    window: 20s\n"
	"    threads: { max: 100 }\n"
	"  - name: pythons\n"
	"    match: { python: true, unit: api.service }\n"
	"    window: 20s\n"
	"    rss: { growth: 100M/h }\n";

int main(void)
{
	struct config *cfg;
	struct monitor m;
	static struct seen s;

	if (!check_case("test_monitor"))
		return check_done("test_monitor");
	if (!make_root("proc"))
		return 2;
	cfg = load_config(config_text);
	CHECK(cfg != NULL);
	if (!cfg)
		return check_done("test_monitor");

	make_proc(1, "systemd", 0, PF_USER, "/sbin/init", 3);
	make_proc(2, "kthreadd", 0, PF_KTHREAD_FLAG, "", 0);
	make_proc(100, "gunicorn", 1, PF_USER, "gunicorn: master [app]", 4);
	make_proc(101, "gunicorn", 100, PF_USER, "gunicorn: worker [app]", 5);
	make_proc(102, "gunicorn", 100, PF_USER, "gunicorn: worker [app]", 5);
	make_proc(300, "leakwatchd", 1, PF_USER, "leakwatchd", 3);
	make_proc(400, "orphaned", 1, PF_USER, "orphaned", 3);   /* parent: PID 1 */

	CHECK(monitor_init(&m, root, cfg, 300, on_event, &s) == 0);
	CHECK(!m.root.fd_size);   /* a plain directory: fds are counted */

	/* 30 s at 250 ms; worker 101 leaks memory and fds, 102 is steady. */
	for (int i = 0; i < 120; i++) {
		uint64_t now = 1000 + (uint64_t)i * 250;

		stat_file(101, "gunicorn", 100, PF_USER, 2, 1000 + i * 25, 101);  /* 100 KiB per 250 ms */
		if (i % 2 == 0)
			add_fd(101, 5 + i / 2);
		if (i == 40)   /* the worker titles itself anew: its leak says so */
			put("101/cmdline", "gunicorn: worker [app] busy\0\0\0", 30);
		monitor_tick(&m, now, WALL_BASE + now * 1000);
	}
	CHECK(s.found[1] == 0 && s.found[2] == 0 && s.found[300] == 0);
	CHECK(s.found[100] == 1);          /* python with the unit: the second watch */
	CHECK(s.found[101] == 1 && s.found[102] == 1);
	CHECK(s.found[400] == 1);          /* a parent criterion on PID 1's cmdline */
	CHECK(m.j.n_watched == 4);
	for (struct watched *w = m.j.watched; w; w = w->next) {
		if (w->pid == 101) {
			CHECK_STR(cfg->watches[w->watch].name, "workers");
			CHECK(w->m[METRIC_FDS].value == 5 + 60);
			CHECK(w->m[METRIC_THREADS].value == 2);
		}
		if (w->pid == 100)
			CHECK_STR(cfg->watches[w->watch].name, "pythons");
		if (w->pid == 400)   /* the first watch that matches: by PID 1's cmdline */
			CHECK_STR(cfg->watches[w->watch].name, "init-children");
	}
	CHECK(s.leak[101][METRIC_RSS] == 1);
	CHECK(s.leak[101][METRIC_FDS] == 1);
	CHECK(s.leak[102][METRIC_RSS] == 0 && s.leak[100][METRIC_RSS] == 0);
	/* 25 pages of 4 KiB per 250 ms = 400 KiB/s */
	CHECK_NEAR(s.slope[101], 25.0 * m.root.page_size * 4 * 3600, 0.05 * 25.0 * m.root.page_size * 4 * 3600);
	CHECK(s.limit[101][METRIC_RSS] == 1);   /* 1000 + 119 * 25 pages > 12 MiB */
	/* the title beside comm, as it was at each event */
	CHECK_STR(s.found_title, "gunicorn: worker [app]");
	CHECK_STR(s.leak_title, "gunicorn: worker [app] busy");

	/* 102 exits: its directory goes away */
	{
		char cmd[600];

		snprintf(cmd, sizeof(cmd), "rm -rf %s/102", root);
		CHECK(system(cmd) == 0);
	}
	monitor_tick(&m, 40000, WALL_BASE + 40000 * 1000);
	CHECK(s.gone[102] == 1);
	CHECK(m.j.n_watched == 3);

	monitor_free(&m);
	config_free(cfg);
	CHECK(remove_root() == 0);
	return check_done("test_monitor");
}
