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
#include "config.h"
#include "monitor.h"

static char root[256];

static void put(const char *rel, const char *data, size_t len)
{
	char path[512];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", root, rel);
	f = fopen(path, "w");   /* truncates in place: kept fds see the update */
	if (!f) {
		perror(path);
		exit(2);
	}
	fwrite(data, 1, len, f);
	fclose(f);
}

static void stat_file(int pid, const char *comm, int ppid, unsigned flags, long threads, long rss_pages)
{
	char rel[64], buf[512];
	int n = snprintf(buf, sizeof(buf),
			 "%d (%s) S %d %d %d 0 -1 %u 0 0 0 0 0 0 0 0 20 0 %ld 0 %d 100000 %ld 0\n",
			 pid, comm, ppid, pid, pid, flags, threads, pid /* start ticks */, rss_pages);

	snprintf(rel, sizeof(rel), "%d/stat", pid);
	put(rel, buf, (size_t)n);
}

static void make_proc(int pid, const char *comm, int ppid, unsigned flags, const char *argv0, size_t argvlen,
		      int nfds)
{
	char path[512], rel[64];

	snprintf(path, sizeof(path), "%s/%d", root, pid);
	mkdir(path, 0755);
	snprintf(path, sizeof(path), "%s/%d/fd", root, pid);
	mkdir(path, 0755);
	for (int i = 0; i < nfds; i++) {
		char fd[600];

		snprintf(fd, sizeof(fd), "%s/%d", path, i);
		symlink("/dev/null", fd);
	}
	stat_file(pid, comm, ppid, flags, 1, 1000);
	snprintf(rel, sizeof(rel), "%d/cmdline", pid);
	put(rel, argv0, argvlen);
	snprintf(rel, sizeof(rel), "%d/status", pid);
	put(rel, "Name:\tx\nUid:\t0\t0\t0\t0\n", 22);
	snprintf(rel, sizeof(rel), "%d/cgroup", pid);
	put(rel, "0::/system.slice/api.service\n", 29);
	snprintf(path, sizeof(path), "%s/%d/exe", root, pid);
	symlink("/usr/bin/python3.11", path);
}

struct seen {
	int found[512], gone[512], leak[512][METRIC_COUNT], limit[512][METRIC_COUNT];
	double slope[512];
};

static void on_event(void *ctx, struct event *e)
{
	struct seen *s = ctx;
	int pid = e->pid < 512 ? e->pid : 0;

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
	struct config_env env = { .mem_total = 1ull << 34 };
	struct config *cfg = NULL;
	struct diag diags = { 0 };
	struct monitor m;
	static struct seen s;
	char cfgpath[300], tmpl[] = "/tmp/leakwatch-test-proc-XXXXXX";
	int r;

	if (!mkdtemp(tmpl))
		return 2;
	snprintf(root, sizeof(root), "%s", tmpl);
	snprintf(cfgpath, sizeof(cfgpath), "%s/leakwatch.yaml", root);
	put("leakwatch.yaml", config_text, strlen(config_text));
	r = config_load(cfgpath, &env, &cfg, &diags);
	for (size_t i = 0; i < diags.n; i++)
		fprintf(stderr, "%s\n", diags.msgs[i]);
	CHECK(r == 0);
	if (r < 0)
		return check_done("test_monitor");
	unlink(cfgpath);

	make_proc(1, "systemd", 0, 0x400100, "/sbin/init\0", 11, 3);
	make_proc(2, "kthreadd", 0, PF_KTHREAD_FLAG, "", 0, 0);
	make_proc(100, "gunicorn", 1, 0x400100, "gunicorn: master [app]\0", 23, 4);
	make_proc(101, "gunicorn", 100, 0x400100, "gunicorn: worker [app]\0", 23, 5);
	make_proc(102, "gunicorn", 100, 0x400100, "gunicorn: worker [app]\0", 23, 5);
	make_proc(300, "leakwatchd", 1, 0x400100, "leakwatchd\0", 11, 3);
	make_proc(400, "orphaned", 1, 0x400100, "orphaned\0", 9, 3);   /* parent: PID 1 */

	CHECK(monitor_init(&m, root, cfg, 300, on_event, &s) == 0);
	CHECK(!m.root.fd_size);   /* a plain directory: fds are counted */

	/* 30 s at 250 ms; worker 101 leaks memory and fds, 102 is steady. */
	for (int i = 0; i < 120; i++) {
		uint64_t now = 1000 + (uint64_t)i * 250;

		stat_file(101, "gunicorn", 100, 0x400100, 2, 1000 + i * 25);  /* 100 KiB per 250 ms */
		if (i % 2 == 0) {
			char fd[600];

			snprintf(fd, sizeof(fd), "%s/101/fd/%d", root, 5 + i / 2);
			symlink("/dev/null", fd);
		}
		monitor_tick(&m, now, 1795496400000000ull + now * 1000);
	}
	CHECK(s.found[1] == 0 && s.found[2] == 0 && s.found[300] == 0);
	CHECK(s.found[100] == 1);          /* python with the unit: the second watch */
	CHECK(s.found[101] == 1 && s.found[102] == 1);
	CHECK(s.found[400] == 1);          /* a parent criterion on PID 1's cmdline */
	CHECK(m.n_watched == 4);
	for (struct watched *w = m.watched; w; w = w->next) {
		if (w->pid == 101) {
			CHECK_STR(cfg->watches[w->watch].name, "workers");
			CHECK(w->last.fds == 5 + 60);
			CHECK(w->last.threads == 2);
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

	/* 102 exits: its directory goes away */
	{
		char cmd[600];

		snprintf(cmd, sizeof(cmd), "rm -rf %s/102", root);
		CHECK(system(cmd) == 0);
	}
	monitor_tick(&m, 40000, 1795496440000000ull);
	CHECK(s.gone[102] == 1);
	CHECK(m.n_watched == 3);

	monitor_free(&m);
	config_free(cfg);
	{
		char cmd[600];

		snprintf(cmd, sizeof(cmd), "rm -rf %s", root);
		CHECK(system(cmd) == 0);
	}
	return check_done("test_monitor");
}
