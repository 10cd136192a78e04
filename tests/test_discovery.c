/* Discovery between full scans, on a fixture /proc tree whose "self" is the
 * monitor's pid and which has a loadavg: new pids are probed by number from
 * loadavg's last-pid field; young pids are matched again; threads are
 * skipped; the directory is read whole once a minute (late exec, exits),
 * when the pids wrapped, when too many are new, and after a reload; a pid
 * taken by a new process (after a wrap) is matched afresh, by a probe or a
 * full scan; a process whose main thread has exited (a zombie leader, a
 * thread alive) is matched on its live thread's cmdline and sampled from
 * it, one whose threads have all exited is not. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "core/config.h"
#include "fixture.h"
#include "daemon/monitor.h"

#define SELF 300
#define SPARE 2000   /* where a replacing process is made, then moved */

static int found[2048], gone[2048];
static int seq, found_seq[2048], gone_seq[2048];   /* the order of the last of each */

static void on_event(void *ctx, struct event *e)
{
	(void)ctx;
	if (e->pid <= 0 || e->pid >= 2048)
		return;
	if (e->type == EVENT_FOUND) {
		found[e->pid]++;
		found_seq[e->pid] = ++seq;
	}
	if (e->type == EVENT_GONE) {
		gone[e->pid]++;
		gone_seq[e->pid] = ++seq;
	}
}

/* The found entry of pid in the last scan's result, or NULL. */
static const struct discovery_found *result_found(const struct monitor *m, pid_t pid)
{
	for (size_t i = 0; i < m->disc.res.n_found; i++)
		if (m->disc.res.found[i].pid == pid)
			return &m->disc.res.found[i];
	return NULL;
}

static void last_pid(long pid)
{
	char buf[64];
	int n = snprintf(buf, sizeof(buf), "0.10 0.20 0.30 1/123 %ld\n", pid);

	put("loadavg", buf, (size_t)n);
}

/* A process started at boot-time second START_S (young for 3 s after). */
static void proc_at(int pid, const char *comm, const char *argv0, double start_s)
{
	make_proc(pid, comm, 1, PF_USER, argv0, 1);
	stat_file(pid, comm, 1, PF_USER, 1, 1000, (unsigned long long)(start_s * 100));
}

/* The full 52-field stat of a thread (exit_signal -1) named COMM. */
static void thread_at(int pid, int tgid, const char *comm)
{
	char rel[64], buf[512];
	int n = snprintf(buf, sizeof(buf),
			 "%d (%s) S 1 %d %d 0 -1 4194368 0 0 0 0 0 0 0 0 20 0 2 0 100 1000 1000 "
			 "18446744073709551615 1 1 0 0 0 0 0 4096 0 0 0 0 -1 1 0 0 0 0 0 0 0 0 0 0 0 0 0\n",
			 pid, comm, tgid, tgid);

	make_proc(pid, comm, 1, PF_USER, "python3 worker.py", 1);
	snprintf(rel, sizeof(rel), "%d/stat", pid);
	put(rel, buf, (size_t)n);
}

static void rm_proc(int pid)
{
	char cmd[600];

	snprintf(cmd, sizeof(cmd), "rm -rf %s/%d", root, pid);
	CHECK(system(cmd) == 0);
}

/* A zombie, exited but not reaped yet: never watched. */
static void zombie_at(int pid, const char *comm, double start_s)
{
	char rel[64], buf[512];
	int n = snprintf(buf, sizeof(buf), "%d (%s) Z 1 %d %d 0 -1 %u 0 0 0 0 0 0 0 0 20 0 1 0 %llu 0 0 0\n",
			 pid, comm, pid, pid, PF_USER, (unsigned long long)(start_s * 100));

	make_proc(pid, comm, 1, PF_USER, "", 0);
	snprintf(rel, sizeof(rel), "%d/stat", pid);
	put(rel, buf, (size_t)n);
}

/* One thread TID of process PID under PID/task, in state STATE, with
 * NFDS fds and RSS pages, its cmdline ARGV0. */
static void task_at(int pid, int tid, char state, const char *argv0, int nfds, long rss)
{
	char rel[96], buf[512], path[600];
	int n = snprintf(buf, sizeof(buf), "%d (python3) %c 1 %d %d 0 -1 %u 0 0 0 0 0 0 0 0 20 0 2 0 100 1000 %ld 0\n",
			 tid, state, pid, pid, PF_USER, rss);

	snprintf(path, sizeof(path), "%s/%d/task", root, pid);
	mkdir(path, 0755);
	snprintf(path, sizeof(path), "%s/%d/task/%d", root, pid, tid);
	mkdir(path, 0755);
	snprintf(path, sizeof(path), "%s/%d/task/%d/fd", root, pid, tid);
	mkdir(path, 0755);
	for (int i = 0; i < nfds; i++) {
		snprintf(path, sizeof(path), "%s/%d/task/%d/fd/%d", root, pid, tid, i);
		put_link("/dev/null", path);
	}
	snprintf(rel, sizeof(rel), "%d/task/%d/stat", pid, tid);
	put(rel, buf, (size_t)n);
	snprintf(rel, sizeof(rel), "%d/task/%d/cmdline", pid, tid);
	put(rel, argv0, strlen(argv0) + 1);
}

/* A process whose main thread has exited as the kernel shows it: its
 * leader a zombie with THREADS threads, no cmdline, no fds, no RSS. */
static void leaderless_at(int pid, long threads, double start_s)
{
	char rel[64], buf[512];
	int n = snprintf(buf, sizeof(buf), "%d (python3) Z 1 %d %d 0 -1 %u 0 0 0 0 0 0 0 0 20 0 %ld 0 %llu 0 0 0\n",
			 pid, pid, pid, PF_USER, threads, (unsigned long long)(start_s * 100));

	make_proc(pid, "python3", 1, PF_USER, "", 0);
	snprintf(rel, sizeof(rel), "%d/stat", pid);
	put(rel, buf, (size_t)n);
	task_at(pid, pid, 'Z', "", 0, 0);
}

/* The process at PID replaced by another (a new /proc/PID directory, as
 * the kernel makes for a new process, so a new inode), started at START_S. */
static void reuse_pid(int pid, const char *comm, const char *argv0, double start_s)
{
	char from[600], to[600];

	proc_at(SPARE, comm, argv0, start_s);
	rm_proc(pid);
	snprintf(from, sizeof(from), "%s/%d", root, SPARE);
	snprintf(to, sizeof(to), "%s/%d", root, pid);
	CHECK(rename(from, to) == 0);
}

static uint64_t now_ms;

static void tick_at(struct monitor *m, double s)
{
	now_ms = (uint64_t)(s * 1000);
	monitor_tick(m, now_ms, WALL_BASE + now_ms * 1000);
}

static bool known(struct monitor *m, pid_t pid)
{
	return pid_table_lookup(&m->disc.t, pid) != NULL;
}

static const char *config_text =
	"interval: 1s\n"
	"watches:\n"
	"  - name: targets\n"
	"    match: { cmdline: \"^python3 app\\\\.py\" }\n"
	"    window: 20s\n"
	"    rss: { growth: 100M/h }\n";

int main(void)
{
	struct config *cfg;
	struct monitor m;
	char path[300];

	if (!check_case("test_discovery"))
		return check_done("test_discovery");
	if (!make_root("discovery"))
		return 2;
	cfg = load_config(config_text);
	CHECK(cfg != NULL);
	if (!cfg)
		return check_done("test_discovery");
	snprintf(path, sizeof(path), "%s/self", root);
	CHECK(symlink("300", path) == 0);
	make_proc(1, "systemd", 0, PF_USER, "/sbin/init", 3);
	make_proc(SELF, "leakwatchd", 1, PF_USER, "leakwatchd", 3);
	proc_at(100, "python3", "python3 app.py", 1);
	proc_at(101, "bash", "bash", 1);
	last_pid(101);

	CHECK(monitor_init(&m, root, cfg, SELF, on_event, NULL) == 0);
	CHECK(m.disc.loadavg_fd >= 0);

	/* the first discovery reads the directory whole */
	tick_at(&m, 100);
	CHECK(found[100] == 1 && m.disc.full_scans == 1 && m.disc.t.n_entries == 4);
	/* what the scan handed the monitor, and what the monitor claimed */
	{
		const struct discovery_found *f = result_found(&m, 100);

		CHECK(m.disc.res.n_found == 1 && m.disc.res.n_gone == 0 && f != NULL);
		CHECK(f && f->watch == 0 && strcmp(f->comm, "python3") == 0 && f->start_ticks == 100 &&
		      f->start_ms == 100 * 1000 / (uint64_t)sysconf(_SC_CLK_TCK) && f->gone_before == 0);
		CHECK(pid_table_lookup(&m.disc.t, 100)->owner == judged_find(&m.j, 100));
		CHECK(m.disc.n_owned == 1 && m.j.n_watched == 1 && m.disc.res.cap_gone >= 1);
		CHECK(discovery_claim(&m.disc, 999, NULL) == -ESRCH);
	}

	/* nothing new: no scan, no probe; the result is empty */
	tick_at(&m, 101);
	CHECK(m.disc.scans == 2 && m.disc.full_scans == 1 && m.disc.probes == 0);
	CHECK(m.disc.res.n_found == 0 && m.disc.res.n_gone == 0);

	/* a new process: probed by number */
	proc_at(102, "python3", "python3 app.py --port 8001", 101.5);
	last_pid(102);
	tick_at(&m, 102);
	CHECK(found[102] == 1 && m.disc.full_scans == 1 && m.disc.probes == 1);

	/* the pids in between were threads, a process gone already, and a
	 * shell that will exec the target: only the shell is remembered */
	thread_at(103, 100, "python3");
	proc_at(105, "sh", "sh -c exec python3 app.py", 102.5);
	last_pid(105);
	tick_at(&m, 103);
	CHECK(found[103] == 0 && !known(&m, 103) && known(&m, 105) && found[105] == 0);
	CHECK(m.disc.full_scans == 1 && m.disc.probes == 4);   /* 103, 104, 105 */
	CHECK(m.disc.n_young == 1 && m.disc.young[0] == 105);

	/* the exec, with no new pid: the young pid is matched again */
	put("105/cmdline", "python3\0app.py\0", 15);
	stat_file(105, "python3", 1, PF_USER, 1, 1000, 10250);
	tick_at(&m, 104);
	CHECK(found[105] == 1 && m.disc.full_scans == 1 && m.disc.probes == 4 && m.disc.n_young == 0);

	/* an exec past the young age is found at the next full scan, a minute
	 * after the last one, which also forgets the pids that exited */
	proc_at(106, "sh", "sh", 103.5);
	last_pid(106);
	tick_at(&m, 105);
	tick_at(&m, 106);
	tick_at(&m, 107);
	CHECK(known(&m, 106) && found[106] == 0 && m.disc.n_young == 0);
	put("106/cmdline", "python3\0app.py\0", 15);
	rm_proc(101);
	for (int s = 108; s < 160; s++)
		tick_at(&m, s);
	CHECK(found[106] == 0 && m.disc.full_scans == 1 && known(&m, 101));
	tick_at(&m, 160);
	CHECK(found[106] == 1 && m.disc.full_scans == 2 && !known(&m, 101));

	/* a pid that wrapped round below the last one: a full scan */
	proc_at(50, "python3", "python3 app.py", 160.5);
	last_pid(50);
	tick_at(&m, 161);
	CHECK(found[50] == 1 && m.disc.full_scans == 3);

	/* many pids at once (more than 64 and a quarter of the known ones):
	 * one full scan instead of probes */
	proc_at(1200, "python3", "python3 app.py", 161.5);
	last_pid(1200);
	tick_at(&m, 162);
	CHECK(found[1200] == 1 && m.disc.full_scans == 4);
	/* a few: probes */
	proc_at(1210, "python3", "python3 app.py", 162.5);
	last_pid(1210);
	{
		uint64_t probes = m.disc.probes;
		const struct discovery_found *kept = m.disc.res.found;
		size_t cap = m.disc.res.cap_found;

		tick_at(&m, 163);
		CHECK(found[1210] == 1 && m.disc.full_scans == 4 && m.disc.probes == probes + 10);
		/* the result arrays are reused, not allocated per scan */
		CHECK(m.disc.res.n_found == 1 && m.disc.res.found == kept && m.disc.res.cap_found == cap);
	}

	/* a reload matches every pid again: a full scan */
	monitor_set_config(&m, cfg);
	tick_at(&m, 163.2);
	CHECK(m.disc.full_scans == 5);

	/* a pid reused after the pids wrapped round: a zombie listed by a full
	 * scan, then reaped, its pid taken by a target before the next full
	 * scan; the probe sees a new process, not the zombie it knew */
	zombie_at(1300, "python3", 163.3);
	last_pid(1300);
	tick_at(&m, 164.17);
	CHECK(known(&m, 1300) && found[1300] == 0);
	last_pid(1250);      /* wrapped: a full scan, the zombie still there */
	tick_at(&m, 165.2);
	CHECK(known(&m, 1300) && found[1300] == 0);
	reuse_pid(1300, "python3", "python3 app.py", 165.5);
	last_pid(1300);
	{
		uint64_t full = m.disc.full_scans;

		tick_at(&m, 166.2);
		CHECK(m.disc.full_scans == full && found[1300] == 1);
	}
	/* a known process, probed again (listed by the full scan it was
	 * born during): the same process, found once */
	last_pid(1240);
	tick_at(&m, 167.2);
	last_pid(1300);
	tick_at(&m, 168.2);
	CHECK(found[1300] == 1 && gone[1300] == 0);

	/* discovery at most once a second, with a little slack for early ticks */
	{
		uint64_t scans = m.disc.scans;

		tick_at(&m, 168.6);
		CHECK(m.disc.scans == scans);
		tick_at(&m, 169.17);
		CHECK(m.disc.scans == scans + 1);
	}

	/* discoveries 5 s apart (interval: 5s): a process 0.1 s old at one
	 * titles itself a second later; it is 5.1 s old at the next, past
	 * the young age, and matched once more all the same */
	proc_at(1310, "sh", "sh", 170.1);
	last_pid(1310);
	tick_at(&m, 170.2);
	CHECK_MSG(known(&m, 1310) && found[1310] == 0 && m.disc.n_young == 1, "%d %d %zu", known(&m, 1310), found[1310], m.disc.n_young);
	put("1310/cmdline", "python3\0app.py\0", 15);
	tick_at(&m, 175.2);
	CHECK(found[1310] == 1 && m.disc.n_young == 0);
	/* one that titles itself later than that waits for the next full scan */
	proc_at(1320, "sh", "sh", 175.2);
	last_pid(1320);
	tick_at(&m, 175.3);
	tick_at(&m, 180.3);
	CHECK(known(&m, 1320) && found[1320] == 0 && m.disc.n_young == 0);
	put("1320/cmdline", "python3\0app.py\0", 15);
	tick_at(&m, 185.3);
	CHECK(found[1320] == 0);
	monitor_free(&m);

	/* without loadavg (or in another pid namespace's /proc): a full scan
	 * at every discovery, as before */
	CHECK(monitor_init(&m, root, cfg, 299, on_event, NULL) == 0);
	CHECK(m.disc.loadavg_fd < 0);
	tick_at(&m, 200);
	tick_at(&m, 201);
	tick_at(&m, 201.96);
	CHECK(m.disc.full_scans == 3);

	/* a pid reused between two full scans: told by the new directory
	 * (inode) of the pid, then by its start time; the target is found, and
	 * a watched process replaced so is gone, its successor found */
	zombie_at(1400, "python3", 201.5);
	proc_at(1401, "python3", "python3 app.py", 201.5);
	tick_at(&m, 203);
	CHECK(known(&m, 1400) && found[1400] == 0 && found[1401] == 1);
	reuse_pid(1400, "python3", "python3 app.py", 203.5);
	reuse_pid(1401, "python3", "python3 app.py --port 8002", 203.5);
	{
		const struct watched *old = judged_find(&m.j, 1401);
		const struct discovery_found *f;

		CHECK(old != NULL);
		tick_at(&m, 204);
		CHECK(found[1400] == 1 && found[1401] == 2 && gone[1401] == 1);
		/* the old one gone (its owner handed back) before the new one found */
		CHECK(m.disc.res.n_gone == 1 && m.disc.res.gone[0].pid == 1401 && m.disc.res.gone[0].owner == old);
		f = result_found(&m, 1401);
		CHECK(f && f->gone_before == 1 && f->start_ticks == 20350 && result_found(&m, 1400) != NULL);
		CHECK(gone_seq[1401] < found_seq[1401]);
		CHECK(m.disc.n_owned == m.j.n_watched);
	}
	monitor_free(&m);

	/* main threads exited: 1500 runs on in thread 1501 (then 1502), 1503's
	 * threads have all exited, 1505 is a real zombie */
	CHECK(monitor_init(&m, root, cfg, 299, on_event, NULL) == 0);
	leaderless_at(1500, 3, 210);
	task_at(1500, 1501, 'S', "python3 app.py", 7, 2500);
	task_at(1500, 1502, 'S', "python3 app.py", 5, 2400);
	leaderless_at(1503, 2, 210);
	task_at(1503, 1504, 'Z', "python3 app.py", 0, 0);
	zombie_at(1505, "python3", 210);
	tick_at(&m, 212);
	CHECK(found[1500] == 1 && found[1503] == 0 && found[1505] == 0);
	{
		const struct watched *w = judged_find(&m.j, 1500);
		/* either thread may be listed first in a fixture directory */
		pid_t tid = w ? tracked_of(w)->h.tid : 0, other = tid == 1501 ? 1502 : 1501;

		CHECK(w != NULL && (tid == 1501 || tid == 1502));
		CHECK(w && w->m[METRIC_FDS].value == (tid == 1501 ? 7 : 5) && w->m[METRIC_THREADS].value == 3 &&
		      w->m[METRIC_RSS].value == (tid == 1501 ? 2500.0 : 2400.0) * (double)m.root.page_size);
		task_at(1500, tid, 'Z', "python3 app.py", 0, 0);     /* it exits: the other */
		tick_at(&m, 213);
		CHECK(gone[1500] == 0 && w && tracked_of(w)->h.tid == other &&
		      w->m[METRIC_FDS].value == (other == 1501 ? 7 : 5) &&
		      w->m[METRIC_RSS].value == (other == 1501 ? 2500.0 : 2400.0) * (double)m.root.page_size);
		leaderless_at(1500, 1, 210);                          /* the last exits */
		task_at(1500, other, 'Z', "python3 app.py", 0, 0);
		tick_at(&m, 214);
		CHECK(gone[1500] == 1 && judged_find(&m.j, 1500) == NULL);
	}
	monitor_free(&m);

	config_free(cfg);
	CHECK(remove_root() == 0);
	return check_done("test_discovery");
}
