/* Percentage maxes on a fixture /proc tree whose self/mountinfo mounts a
 * cgroup2 tree and a v1 pids hierarchy inside the fixture: each process's
 * own limits read when it is found (RLIMIT_NOFILE from PID/limits, the
 * lowest pids.max and memory.max on its cgroup's path), a limit event at
 * the process's own with what it is of, re-read after a minute (a prlimit),
 * a warning once for a process without one, and the hostile trees: a
 * symlinked cgroup, a FIFO for a limit file, a level its owner made
 * unreadable below the unit's limit. */
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

#define NPID 200

struct seen {
	int found[NPID], limit[NPID][METRIC_COUNT], warn[NPID][METRIC_COUNT];
	double limit_of[NPID][METRIC_COUNT];
	char limit_msg[NPID][METRIC_COUNT][300], warn_msg[NPID][METRIC_COUNT][300];
};

static void on_event(void *ctx, struct event *e)
{
	struct seen *s = ctx;
	int pid = e->pid < NPID ? e->pid : 0, i = e->metric;

	if (e->type == EVENT_FOUND)
		s->found[pid]++;
	if (i < 0 || i >= METRIC_COUNT)
		return;
	if (e->type == EVENT_LIMIT) {
		s->limit[pid][i]++;
		s->limit_of[pid][i] = e->has_limit ? e->limit : -2;
		snprintf(s->limit_msg[pid][i], sizeof(s->limit_msg[pid][i]), "%.299s", e->message);
	}
	if (e->type == EVENT_ERROR && e->warning) {
		s->warn[pid][i]++;
		snprintf(s->warn_msg[pid][i], sizeof(s->warn_msg[pid][i]), "%.299s", e->message);
	}
}

static void mkdirs(const char *rel)
{
	char path[600], *p;

	snprintf(path, sizeof(path), "%s/%s", root, rel);
	for (p = path + strlen(root) + 1; (p = strchr(p, '/')); p++) {
		*p = '\0';
		mkdir(path, 0755);
		*p = '/';
	}
	mkdir(path, 0755);
}

static void put_str(const char *rel, const char *text)
{
	put(rel, text, strlen(text));
}

static void limits_file(int pid, const char *soft)
{
	char rel[64], text[400];

	snprintf(rel, sizeof(rel), "%d/limits", pid);
	snprintf(text, sizeof(text),
		 "Limit                     Soft Limit           Hard Limit           Units     \n"
		 "Max processes             96363                96363                processes \n"
		 "Max open files            %-20s 4096                 files     \n"
		 "Max locked memory         8388608              8388608              bytes     \n", soft);
	put_str(rel, text);
}

/* In the unified tree at path, in the v1 pids hierarchy at pids. */
static void cgroup_of(int pid, const char *path, const char *pids)
{
	char rel[64], text[300];

	snprintf(rel, sizeof(rel), "%d/cgroup", pid);
	snprintf(text, sizeof(text), "9:name=systemd:%s\n8:pids:%s\n0::%s\n", path, pids, path);
	put_str(rel, text);
}

static const char *config_text =
	"interval: 250ms\n"
	"watches:\n"
	"  - name: own\n"
	"    match: { comm: \"lim*\" }\n"
	"    window: 20s\n"
	"    fds: { max: 90% }\n"
	"    threads: { max: 50%, for: 2 }\n"
	"    rss: { max: 50% }\n";

static void make_tree(void)
{
	char text[1200];

	mkdirs("self");
	snprintf(text, sizeof(text),
		 "30 1 0:26 / %s/cg2 rw,nosuid - cgroup2 cgroup2 rw\n"
		 "31 1 0:27 / %s/v1pids rw - cgroup cgroup rw,pids\n", root, root);
	put_str("self/mountinfo", text);
	/* the unit: 12 tasks (threads 50%: 6); memory.max 8000000 (rss 4000000) */
	mkdirs("cg2/system.slice/api.service/sub");
	put_str("cg2/system.slice/api.service/memory.max", "8000000\n");
	put_str("cg2/system.slice/memory.max", "max\n");
	mkdirs("v1pids/system.slice/api.service/sub");
	put_str("v1pids/system.slice/pids.max", "12\n");
	put_str("v1pids/system.slice/api.service/pids.max", "max\n");
	/* below the unit, its owner's: a limit file that is a FIFO, a cgroup
	 * that is a symlink to another's */
	mkfifo(strcat(strcpy(text, root), "/v1pids/system.slice/api.service/sub/pids.max"), 0644);
	mkfifo(strcat(strcpy(text, root), "/cg2/system.slice/api.service/sub/memory.max"), 0644);
	mkdirs("cg2/other.slice");
	put_str("cg2/other.slice/memory.max", "4096\n");
	put_link(strcat(strcpy(text, root), "/cg2/other.slice"), strcat(strcpy(text + 600, root), "/cg2/evil"));
	put_link(strcat(strcpy(text, root), "/v1pids/system.slice"), strcat(strcpy(text + 600, root), "/v1pids/evil"));

	/* 101: RLIMIT_NOFILE 20 (max 18), in the unit */
	make_proc(101, "limited", 1, PF_USER, "limited", 10);
	limits_file(101, "20");
	cgroup_of(101, "/system.slice/api.service", "/system.slice/api.service");
	/* 102: unlimited, in a cgroup without limits */
	make_proc(102, "limitless", 1, PF_USER, "limitless", 10);
	limits_file(102, "unlimited");
	cgroup_of(102, "/", "/");
	/* 103: in the symlinked cgroups */
	make_proc(103, "limevil", 1, PF_USER, "limevil", 10);
	limits_file(103, "1000");
	cgroup_of(103, "/evil", "/evil");
	/* 104: below the unit, in the owner's cgroup with FIFOs */
	make_proc(104, "limsub", 1, PF_USER, "limsub", 10);
	limits_file(104, "1000");
	cgroup_of(104, "/system.slice/api.service/sub", "/system.slice/api.service/sub");
	/* 105: a limits text without its line, a cgroup text with two
	 * lines for one hierarchy */
	make_proc(105, "limforged", 1, PF_USER, "limforged", 10);
	put_str("105/limits", "Max processes 10 10 processes\n");
	put_str("105/cgroup", "8:pids:/system.slice/api.service\n8:pids:/\n0::/\n");
}

static const struct watched *find(const struct monitor *m, int pid)
{
	return judged_find(&m->j, pid);
}

static void tick(struct monitor *m, uint64_t now)
{
	monitor_tick(m, now, WALL_BASE + now * 1000);
}

static void check_found(const struct monitor *m, const struct seen *s)
{
	const struct watched *w;

	for (int pid = 101; pid <= 105; pid++)
		CHECK_MSG(s->found[pid] == 1, "pid %d found %d", pid, s->found[pid]);
	w = find(m, 101);
	CHECK(w && w->m[METRIC_FDS].limit == 18 && w->m[METRIC_THREADS].limit == 6 &&
	      w->m[METRIC_RSS].limit == 4000000);
	CHECK(s->warn[101][METRIC_FDS] + s->warn[101][METRIC_THREADS] + s->warn[101][METRIC_RSS] == 0);
	/* 102: none for fds (unlimited) nor threads (no pids.max): said */
	w = find(m, 102);
	CHECK(w && w->m[METRIC_FDS].limit == -1 && w->m[METRIC_THREADS].limit == -1);
	CHECK(w && w->m[METRIC_RSS].limit == (double)(1ull << 34) / 2);   /* of MemTotal */
	CHECK_MSG(strstr(s->warn_msg[102][METRIC_FDS],
			 "own: pid 102 (limitless): fds max 90%: its RLIMIT_NOFILE is unlimited; no fds max for it"),
		  "%s", s->warn_msg[102][METRIC_FDS]);
	CHECK_STR(s->warn_msg[102][METRIC_THREADS], "own: pid 102 (limitless): threads max 50%: neither its cgroup "
		  "nor one above it sets a pids.max; no threads max for it");
	CHECK(s->warn[102][METRIC_RSS] == 0);
	/* 103: a symlinked cgroup is not followed: no limit of another's */
	w = find(m, 103);
	CHECK(w && w->m[METRIC_FDS].limit == 900 && w->m[METRIC_THREADS].limit == -1);
	CHECK(w && w->m[METRIC_RSS].limit == (double)(1ull << 34) / 2);
	CHECK_MSG(strstr(s->warn_msg[103][METRIC_RSS], "rss max 50%: cannot read its cgroup's memory.max: Not a "
			 "directory; 50% of MemTotal for it"), "%s", s->warn_msg[103][METRIC_RSS]);
	CHECK_MSG(strstr(s->warn_msg[103][METRIC_THREADS], "threads max 50%: cannot read its cgroup's pids.max: "
			 "Not a directory"), "%s", s->warn_msg[103][METRIC_THREADS]);
	/* 104: the FIFOs below the unit end the walk with the unit's limits */
	w = find(m, 104);
	CHECK(w && w->m[METRIC_THREADS].limit == 6 && w->m[METRIC_RSS].limit == 4000000);
	CHECK(s->warn[104][METRIC_THREADS] == 0 && s->warn[104][METRIC_RSS] == 0);
	/* 105: no limits file, a forged cgroup text */
	w = find(m, 105);
	CHECK(w && w->m[METRIC_FDS].limit == -1 && w->m[METRIC_THREADS].limit == -1);
	CHECK_MSG(strstr(s->warn_msg[105][METRIC_FDS], "fds max 90%: cannot read its RLIMIT_NOFILE: Invalid argument"),
		  "%s", s->warn_msg[105][METRIC_FDS]);
	CHECK_MSG(strstr(s->warn_msg[105][METRIC_THREADS], "cannot read its cgroup's pids.max: Invalid argument"),
		  "%s", s->warn_msg[105][METRIC_THREADS]);
}

int main(void)
{
	struct config *cfg;
	static struct monitor m;
	static struct seen s;
	uint64_t now = 1000;

	if (!check_case("test_monitor_limits"))
		return check_done("test_monitor_limits");
	if (!make_root("limits"))
		return 2;
	cfg = load_config(config_text);
	CHECK(cfg != NULL);
	if (!cfg)
		return check_done("test_monitor_limits");
	make_tree();
	CHECK(monitor_init(&m, root, cfg, 1, on_event, &s) == 0);
	CHECK(m.cgroups.unified >= 0 && m.cgroups.pids >= 0 && m.cgroups.memory < 0);
	tick(&m, now);
	check_found(&m, &s);

	/* 101: one fd a tick from 10: over 18 at 19 */
	for (int i = 0; i < 12; i++) {
		add_fd(101, 10 + i);
		tick(&m, now += 250);
		CHECK_MSG(s.limit[101][METRIC_FDS] == (10 + i + 1 > 18), "fds %d: %d limit events", 10 + i + 1,
			  s.limit[101][METRIC_FDS]);
	}
	CHECK(s.limit_of[101][METRIC_FDS] == 18);
	CHECK_MSG(strstr(s.limit_msg[101][METRIC_FDS], "own: pid 101 (limited): fds over limit: 19 > max 18 "
			 "(90% of its RLIMIT_NOFILE)"), "%s", s.limit_msg[101][METRIC_FDS]);
	/* rss: 1000 pages of 4 KiB are over 4000000 from the start */
	CHECK(s.limit[101][METRIC_RSS] == 1 && s.limit_of[101][METRIC_RSS] == 4000000);
	CHECK_MSG(strstr(s.limit_msg[101][METRIC_RSS], "(50% of its cgroup's memory.max)"), "%s",
		  s.limit_msg[101][METRIC_RSS]);
	/* threads: 7 of 12 tasks, for 2 samples */
	stat_file(101, "limited", 1, PF_USER, 7, 1000, 101);
	tick(&m, now += 250);
	CHECK(s.limit[101][METRIC_THREADS] == 0);
	tick(&m, now += 250);
	CHECK(s.limit[101][METRIC_THREADS] == 1 && s.limit_of[101][METRIC_THREADS] == 6);
	CHECK_MSG(strstr(s.limit_msg[101][METRIC_THREADS], "threads over limit: 7 > max 6 (50% of its cgroup's "
			 "pids.max)"), "%s", s.limit_msg[101][METRIC_THREADS]);

	/* a prlimit to 40 (max 36) and a pids.max raised: not seen until its
	 * next read, every 240 samples (a minute at 250 ms) at the phase of
	 * its pid, 101 (15 samples so far), then the episodes end (threads
	 * after 2 samples under) */
	limits_file(101, "40");
	put_str("v1pids/system.slice/pids.max", "100\n");
	put_str("102/limits", "");   /* and 102's limits text cut: said already, not again */
	for (int i = 0; i < 85; i++)
		tick(&m, now += 250);
	CHECK(find(&m, 101)->m[METRIC_FDS].limit == 18 && find(&m, 101)->m[METRIC_FDS].in_limit);
	tick(&m, now += 250);
	CHECK(find(&m, 101)->m[METRIC_FDS].limit == 36 && !find(&m, 101)->m[METRIC_FDS].in_limit);
	CHECK(find(&m, 101)->m[METRIC_THREADS].limit == 50 && find(&m, 101)->m[METRIC_THREADS].in_limit);
	tick(&m, now += 250);
	CHECK(!find(&m, 101)->m[METRIC_THREADS].in_limit);
	CHECK(s.warn[102][METRIC_FDS] == 1 && s.warn[102][METRIC_THREADS] == 1);
	/* lowered again below its fds: a new episode at the new limit, within
	 * a minute */
	limits_file(101, "10");
	for (int i = 0; i < 240 && s.limit[101][METRIC_FDS] < 2; i++)
		tick(&m, now += 250);
	CHECK(s.limit[101][METRIC_FDS] == 2 && s.limit_of[101][METRIC_FDS] == 9);

	/* a reload: read again at once, nothing said again */
	{
		struct config *c2 = load_config(config_text);

		CHECK(c2 != NULL);
		if (c2) {
			limits_file(101, "30");
			monitor_set_config(&m, c2);
			CHECK(find(&m, 101)->m[METRIC_FDS].limit == 27);
			tick(&m, now += 250);
			CHECK(s.warn[102][METRIC_FDS] == 1 && s.limit[101][METRIC_FDS] == 2);
			config_free(cfg);
			cfg = c2;
		}
	}
	monitor_free(&m);
	config_free(cfg);
	CHECK(remove_root() == 0);
	return check_done("test_monitor_limits");
}
