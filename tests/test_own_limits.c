/* A percentage max without /proc: the texts of a process's own limits
 * parsed (/proc/PID/limits, /proc/PID/cgroup, pids.max and memory.max,
 * mountinfo), the judge's limits from them (floored, rss capped at its
 * MemTotal share, none for fds and threads without one, said once, kept
 * over a gone process and over a history restarted), and the words of the
 * events.  Links with the core alone. */
#include <errno.h>
#include <string.h>

#include "check.h"
#include "core/judge.h"
#include "core/limit_text.h"
#include "core/limits_parse.h"

/* The kernel's text, as proc_pid_limits() lays it out. */
#define LIMITS_HEAD \
	"Limit                     Soft Limit           Hard Limit           Units     \n" \
	"Max cpu time              unlimited            unlimited            seconds   \n" \
	"Max processes             96363                96363                processes \n"
#define LIMITS_TAIL \
	"Max locked memory         8388608              8388608              bytes     \n"

static void test_nofile(void)
{
	static const struct { const char *text; int ret; double soft; } cases[] = {
		{ LIMITS_HEAD "Max open files            200                  4096                 files     \n" LIMITS_TAIL, 0, 200 },
		{ LIMITS_HEAD "Max open files            1048576              1048576              files     \n", 0, 1048576 },
		{ LIMITS_HEAD "Max open files            unlimited            unlimited            files     \n", 0, -1 },
		{ "Max open files 1024", 0, 1024 },                          /* cut after the soft limit */
		{ LIMITS_HEAD LIMITS_TAIL, -EINVAL, 0 },                     /* no line */
		{ "Max open filesystems      12                   12                   files     \n", -EINVAL, 0 },
		{ "Max open files            12x                  12                   files     \n", -EINVAL, 0 },
		{ "Max open files            unlimitedx           12                   files     \n", -EINVAL, 0 },
		{ "Max open files            -1                   12                   files     \n", -EINVAL, 0 },
		{ "Max open files            99999999999999999999 1                    files     \n", -EINVAL, 0 },
		{ "Max open files            \n", -EINVAL, 0 },
		{ "", -EINVAL, 0 },
		/* the first line of that name counts */
		{ "Max open files            300 300 files\nMax open files            5 5 files\n", 0, 300 },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		double v = 12345;
		int r = limits_parse_nofile(cases[i].text, &v);

		CHECK_MSG(r == cases[i].ret, "case %zu: %d", i, r);
		if (r == 0)
			CHECK_MSG(v == cases[i].soft, "case %zu: %g", i, v);
	}
}

static void test_cgroup_limit(void)
{
	static const struct { const char *text; int ret; double v; } cases[] = {
		{ "max\n", 0, -1 },
		{ "100\n", 0, 100 },
		{ "1073741824\n", 0, 1073741824.0 },
		{ "9223372036854771712\n", 0, 9223372036854771712.0 },   /* v1: unlimited */
		{ "0\n", 0, 0 },
		{ "max", -EINVAL, 0 }, { "100", -EINVAL, 0 }, { "100 \n", -EINVAL, 0 },
		{ "-1\n", -EINVAL, 0 }, { "1e6\n", -EINVAL, 0 }, { "\n", -EINVAL, 0 }, { "", -EINVAL, 0 },
		{ "99999999999999999999\n", -EINVAL, 0 }, { "100\n200\n", -EINVAL, 0 }, { "maximum\n", -EINVAL, 0 },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		double v = 12345;
		int r = cgroup_parse_limit(cases[i].text, &v);

		CHECK_MSG(r == cases[i].ret, "case %zu: %d", i, r);
		if (r == 0)
			CHECK_MSG(v == cases[i].v, "case %zu: %g", i, v);
	}
}

static void test_cgroup_path(void)
{
	static const char hybrid[] =
		"9:name=systemd:/system.slice/api.service\n8:pids:/system.slice/api.service\n"
		"4:memory:/process_api/ab7d\n3:cpu,cpuacct:/\n0::/system.slice/api.service\n";
	static const struct { const char *text, *controller; int ret; const char *path; } cases[] = {
		{ "0::/system.slice/api.service\n", NULL, 0, "/system.slice/api.service" },
		{ "0::/\n", NULL, 0, "/" },
		{ hybrid, NULL, 0, "/system.slice/api.service" },
		{ hybrid, "pids", 0, "/system.slice/api.service" },
		{ hybrid, "memory", 0, "/process_api/ab7d" },
		{ hybrid, "cpuacct", 0, "/" },
		{ hybrid, "blkio", -ENOENT, NULL },
		{ "0::/system.slice/api.service\n", "pids", -ENOENT, NULL },
		{ "8:pids:/a\n", NULL, -ENOENT, NULL },
		{ "10::/a\n", NULL, -ENOENT, NULL },                       /* not the unified id */
		{ "8:pidsx:/a\n", "pids", -ENOENT, NULL },
		{ "0::/a\n0::/b\n", NULL, -EINVAL, NULL },                 /* a forged second line */
		{ "8:pids:/a\n7:pids:/b\n", "pids", -EINVAL, NULL },
		{ "0::/../../x\n", NULL, -EINVAL, NULL },                  /* outside our namespace */
		{ "0::/a/./b\n", NULL, -EINVAL, NULL },
		{ "0::/a//b\n", NULL, -EINVAL, NULL },
		{ "0::/a/\n", NULL, -EINVAL, NULL },
		{ "0::a\n", NULL, -EINVAL, NULL },
		{ "0::\n", NULL, -EINVAL, NULL },
		{ "0::/a/..b/.c\n", NULL, 0, "/a/..b/.c" },
		{ "0::/no newline", NULL, 0, "/no newline" },
		{ "", NULL, -ENOENT, NULL },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const char *p = NULL;
		size_t n = 0;
		int r = cgroup_parse_path(cases[i].text, cases[i].controller, &p, &n);

		CHECK_MSG(r == cases[i].ret, "case %zu: %d", i, r);
		if (r == 0 && cases[i].path)
			CHECK_MSG(n == strlen(cases[i].path) && memcmp(p, cases[i].path, n) == 0, "case %zu: %.*s", i,
				  (int)n, p);
	}
}

static void test_mounts(void)
{
	static const char hybrid[] =
		"25 30 0:23 / /sys rw,nosuid - sysfs sysfs rw\n"
		"31 25 0:26 / /sys/fs/cgroup rw - tmpfs tmpfs rw,mode=755\n"
		"33 31 0:28 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu\n"
		"38 31 0:33 / /sys/fs/cgroup/memory rw,relatime shared:9 - cgroup cgroup rw,memory\n"
		"40 31 0:35 / /sys/fs/cgroup/pids rw,relatime - cgroup cgroup rw,pids\n"
		"41 31 0:36 / /sys/fs/cgroup/systemd rw - cgroup cgroup rw,xattr,name=systemd\n"
		"42 31 0:37 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw\n"
		"43 31 0:37 / /mnt/again rw - cgroup2 cgroup2 rw\n";
	static const char v2[] =
		"29 23 0:26 /../.. /weird rw - cgroup2 cgroup2 rw\n"        /* not at its root */
		"30 23 0:26 / /sys/fs/cgroup rw,nosuid,nodev,noexec - cgroup2 cgroup2 rw,nsdelegate\n";
	static const char odd[] =
		"50 1 0:40 / /mnt/with\\040space rw - cgroup cgroup rw,pids,memory\n"
		"51 1 0:41 / /x rw - cgroup2\n"                               /* no source: cut */
		"garbage\n\n"
		"52 1 0:42 /\n";
	struct cgroup_mounts m;

	CHECK(cgroup_parse_mounts(hybrid, &m) == 0);
	CHECK_STR(m.unified, "/sys/fs/cgroup/unified");
	CHECK_STR(m.pids, "/sys/fs/cgroup/pids");
	CHECK_STR(m.memory, "/sys/fs/cgroup/memory");
	CHECK(cgroup_parse_mounts(v2, &m) == 0);
	CHECK_STR(m.unified, "/sys/fs/cgroup");
	CHECK(!m.pids[0] && !m.memory[0]);
	CHECK(cgroup_parse_mounts(odd, &m) == 0);
	CHECK_STR(m.pids, "/mnt/with space");
	CHECK_STR(m.memory, "/mnt/with space");
	CHECK_STR(m.unified, "/x");
	CHECK(cgroup_parse_mounts("", &m) == 0 && !m.unified[0] && !m.pids[0] && !m.memory[0]);
}

static const char comm[16] = "comm";

/* fds 90%, threads 50%, rss 50% of 1000 (its MemTotal share: 500). */
static struct watch percent_watch(void)
{
	struct watch wc;

	memset(&wc, 0, sizeof(wc));
	wc.name = "w";
	wc.window_ms = 20000;
	for (int i = 0; i < METRIC_COUNT; i++)
		wc.rule[i].for_samples = 1;
	wc.rule[METRIC_FDS] = (struct metric_rule){ .has_max = true, .max_percent = 90, .for_samples = 1 };
	wc.rule[METRIC_THREADS] = (struct metric_rule){ .has_max = true, .max_percent = 50, .for_samples = 1 };
	wc.rule[METRIC_RSS] = (struct metric_rule){ .has_max = true, .max_percent = 50, .max = 500, .for_samples = 1 };
	return wc;
}

static void test_judge_limits(void)
{
	static const unsigned all = 1u << METRIC_RSS | 1u << METRIC_FDS | 1u << METRIC_THREADS;
	static const struct {
		double own[METRIC_COUNT];
		int err[METRIC_COUNT];
		double rss, fds, threads;
		unsigned own_bits, say;
	} steps[] = {
		/* found: 90% of 200 fds, 50% of 101 tasks (floored), 50% of 600 bytes */
		{ { 600, 200, 101 }, { 0, 0, 0 }, 300, 180, 50, all, 0 },
		/* memory.max above MemTotal: its share; 90% of 1024 fds floored */
		{ { 4000, 1024, 10 }, { 0, 0, 0 }, 500, 921, 5, 1u << METRIC_FDS | 1u << METRIC_THREADS, 0 },
		/* unlimited, no pids.max: no fds or threads max, said once; rss of MemTotal */
		{ { -1, -1, -1 }, { 0, 0, 0 }, 500, -1, -1, 0, 1u << METRIC_FDS | 1u << METRIC_THREADS },
		{ { -1, -1, -1 }, { 0, 0, -ENOTSUP }, 500, -1, -1, 0, 0 },
		/* rss: no memory controller is no trouble, an unreadable file is */
		{ { -1, 200, 8 }, { -ENOTSUP, 0, 0 }, 500, 180, 4, 1u << METRIC_FDS | 1u << METRIC_THREADS, 0 },
		{ { -1, 200, 8 }, { -EACCES, 0, 0 }, 500, 180, 4, 1u << METRIC_FDS | 1u << METRIC_THREADS, 1u << METRIC_RSS },
		{ { -1, 200, 8 }, { -EACCES, 0, 0 }, 500, 180, 4, 1u << METRIC_FDS | 1u << METRIC_THREADS, 0 },
		/* gone: nothing changes */
		{ { -1, -1, -1 }, { 0, -ESRCH, 0 }, 500, 180, 4, 1u << METRIC_FDS | 1u << METRIC_THREADS, 0 },
		/* 0 and a max of 0 */
		{ { 0, 1, 1 }, { 0, 0, 0 }, 0, 0, 0, all, 0 },
	};
	struct watch wc = percent_watch();
	static struct watched w;

	judge_init(&w, 42, 7, 1000, 0, comm, &wc);
	/* before anything is read: rss of MemTotal, fds and threads none */
	CHECK(w.m[METRIC_RSS].limit == 500 && w.m[METRIC_FDS].limit == -1 && w.m[METRIC_THREADS].limit == -1);
	CHECK(judge_own_limits(&wc) == all);
	for (size_t i = 0; i < sizeof(steps) / sizeof(steps[0]); i++) {
		unsigned say = judge_limits(&w, &wc, steps[i].own, steps[i].err);

		CHECK_MSG(say == steps[i].say, "step %zu: say %#x", i, say);
		CHECK_MSG(w.m[METRIC_RSS].limit == steps[i].rss && w.m[METRIC_FDS].limit == steps[i].fds &&
			  w.m[METRIC_THREADS].limit == steps[i].threads, "step %zu: %g %g %g", i,
			  w.m[METRIC_RSS].limit, w.m[METRIC_FDS].limit, w.m[METRIC_THREADS].limit);
		CHECK_MSG(w.limits_own == steps[i].own_bits, "step %zu: own %#x", i, w.limits_own);
	}
	/* a rule of amounts: its max, whatever the process's own */
	wc.rule[METRIC_FDS] = (struct metric_rule){ .has_max = true, .max = 64, .for_samples = 1 };
	wc.rule[METRIC_THREADS] = (struct metric_rule){ .growth = 1 };
	CHECK(judge_own_limits(&wc) == 1u << METRIC_RSS);
	judge_limits(&w, &wc, (double[METRIC_COUNT]){ 100, 200, 300 }, (int[METRIC_COUNT]){ 0 });
	CHECK(w.m[METRIC_FDS].limit == 64 && w.m[METRIC_THREADS].limit == -1 && w.m[METRIC_RSS].limit == 50);
}

/* Crossing a limit of the process's own, and what keeps it. */
static void test_judge_crossing(void)
{
	struct watch wc = percent_watch(), nw;
	static struct watched w;
	struct verdicts v;
	double val[METRIC_COUNT] = { 100, 170, 2 };

	judge_init(&w, 42, 7, 1000, 0, comm, &wc);
	judge_limits(&w, &wc, (double[METRIC_COUNT]){ -1, 200, -1 }, (int[METRIC_COUNT]){ 0 });
	judge_sample(&w, &wc, 2000, val, 0, &v);
	CHECK(v.ev[METRIC_FDS] == 0);
	val[METRIC_FDS] = 181;
	judge_sample(&w, &wc, 3000, val, 0, &v);
	CHECK(v.ev[METRIC_FDS] == DETECT_LIMIT && w.m[METRIC_FDS].limit == 180);
	/* fds unreadable for a while: the history restarts, the limit stays */
	judge_sample(&w, &wc, 4000, val, 1u << METRIC_FDS, &v);
	CHECK(w.m[METRIC_FDS].limit == 180 && w.m[METRIC_RSS].limit == 500);
	/* a reload with another window: the history is fresh, the limits the
	 * new rule's until the process's own are read again */
	nw = wc;
	nw.window_ms = 40000;
	judge_reconfigure(&w, 0, &wc, &nw);
	CHECK(w.m[METRIC_FDS].limit == -1 && w.m[METRIC_RSS].limit == 500 && w.limits_own == 0);
	/* the refresh: due every JUDGE_LIMITS_REFRESH_MS of samples */
	{
		struct config cfg = { .interval_ms = 5000 };
		unsigned due = 0;

		w.limits_age = 0;
		for (int i = 0; i < 36; i++)
			due += judge_limits_due(&w, &nw, &cfg);
		CHECK_MSG(due == 36 / (JUDGE_LIMITS_REFRESH_MS / 5000), "%u", due);
		cfg.interval_ms = 600000;   /* longer than the refresh: every sample */
		CHECK(judge_limits_due(&w, &nw, &cfg) && judge_limits_due(&w, &nw, &cfg));
		memset(&nw.rule, 0, sizeof(nw.rule));   /* nothing of a percentage: never */
		CHECK(!judge_limits_due(&w, &nw, &cfg));
	}
}

static void test_text(void)
{
	struct watch wc = percent_watch();
	struct metric_rule amount = { .has_max = true, .max = 4096 };
	char s[200];

	limit_text_basis(s, sizeof(s), METRIC_FDS, &wc.rule[METRIC_FDS], true);
	CHECK_STR(s, "90% of its RLIMIT_NOFILE");
	limit_text_basis(s, sizeof(s), METRIC_THREADS, &wc.rule[METRIC_THREADS], true);
	CHECK_STR(s, "50% of its cgroup's pids.max");
	limit_text_basis(s, sizeof(s), METRIC_RSS, &wc.rule[METRIC_RSS], true);
	CHECK_STR(s, "50% of its cgroup's memory.max");
	limit_text_basis(s, sizeof(s), METRIC_RSS, &wc.rule[METRIC_RSS], false);
	CHECK_STR(s, "50% of MemTotal");
	limit_text_basis(s, sizeof(s), METRIC_FDS, &amount, false);
	CHECK_STR(s, "");
	wc.rule[METRIC_FDS].max_percent = 12.5;
	limit_text_missing(s, sizeof(s), METRIC_FDS, &wc.rule[METRIC_FDS], 0);
	CHECK_STR(s, "fds max 12.5%: its RLIMIT_NOFILE is unlimited; no fds max for it");
	limit_text_missing(s, sizeof(s), METRIC_FDS, &wc.rule[METRIC_FDS], -EACCES);
	CHECK_STR(s, "fds max 12.5%: cannot read its RLIMIT_NOFILE: Permission denied; no fds max for it");
	limit_text_missing(s, sizeof(s), METRIC_THREADS, &wc.rule[METRIC_THREADS], 0);
	CHECK_STR(s, "threads max 50%: neither its cgroup nor one above it sets a pids.max; no threads max for it");
	limit_text_missing(s, sizeof(s), METRIC_THREADS, &wc.rule[METRIC_THREADS], -ENOTSUP);
	CHECK_STR(s, "threads max 50%: no cgroup hierarchy here has the pids controller, or it is in none; "
		  "no threads max for it");
	limit_text_missing(s, sizeof(s), METRIC_THREADS, &wc.rule[METRIC_THREADS], -E2BIG);
	CHECK_STR(s, "threads max 50%: its cgroup is nested more than 32 deep, and none of the 32 above it sets "
		  "a pids.max; no threads max for it");
	limit_text_missing(s, sizeof(s), METRIC_RSS, &wc.rule[METRIC_RSS], -EACCES);
	CHECK_STR(s, "rss max 50%: cannot read its cgroup's memory.max: Permission denied; 50% of MemTotal for it");
	limit_text_missing(s, 12, METRIC_RSS, &wc.rule[METRIC_RSS], -EACCES);   /* cut */
	CHECK_STR(s, "rss max 50%");
}

int main(void)
{
	RUN(test_nofile);
	RUN(test_cgroup_limit);
	RUN(test_cgroup_path);
	RUN(test_mounts);
	RUN(test_judge_limits);
	RUN(test_judge_crossing);
	RUN(test_text);
	return check_done("test_own_limits");
}
