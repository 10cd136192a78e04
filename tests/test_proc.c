/* /proc parsing: stat lines (odd comms), cgroup units, cmdline joining,
 * status uid, Python detection. */
#include <errno.h>
#include <stdbool.h>
#include <string.h>

#include "check.h"
#include "proc.h"

static void test_stat(void)
{
	static const struct {
		const char *line;
		int ok;
		const char *comm;
		char state;
		int ppid;
		unsigned long long start;
		long threads, rss;
		unsigned flags;
	} cases[] = {
		{ "4242 (python3) S 1 4242 4242 0 -1 4194560 1 0 0 0 5 3 0 0 20 0 3 0 123456 25000000 6144 18446744073709551615",
		  1, "python3", 'S', 1, 123456, 3, 6144, 4194560 },
		{ "77 (a) b (c)) R 9 1 1 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 99 1 2 3",
		  1, "a) b (c)", 'R', 9, 99, 1, 2, 0 },
		{ "2 (kthreadd) S 0 0 0 0 -1 2129984 0 0 0 0 0 0 0 0 20 0 1 0 2 0 0 18446744073709551615",
		  1, "kthreadd", 'S', 0, 2, 1, 0, 2129984 },
		{ "12 (gunicorn: worker [api]) S 11 11 11 0 -1 4194560 0 0 0 0 0 0 0 0 20 0 5 0 777 1 100",
		  1, "gunicorn: worker [api]", 'S', 11, 777, 5, 100, 4194560 },
		{ "12 (trunc) S 11 11", 0, "", 0, 0, 0, 0, 0, 0 },
		{ "12 (trunc) S 11 11 11 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 5 1\n", 0, "", 0, 0, 0, 0, 0, 0 },
		{ "12 (bad) S x 11 11 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 5 1 2 3", 0, "", 0, 0, 0, 0, 0, 0 },
		{ "12 (bad) S 1 11 11 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 5 1 x 3", 0, "", 0, 0, 0, 0, 0, 0 },
		{ "12 (big) S 1 11 11 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 99999999999999999999999 1 2 3",
		  0, "", 0, 0, 0, 0, 0, 0 },
		{ "12 (nl)\nS 1 11 11 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 5 1 2 3", 0, "", 0, 0, 0, 0, 0, 0 },
		{ "no parenthesis here", 0, "", 0, 0, 0, 0, 0, 0 },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct proc_stat st;
		int r = proc_parse_stat(cases[i].line, strlen(cases[i].line), &st);

		CHECK_MSG((r == 0) == cases[i].ok, "case %zu: r=%d", i, r);
		if (!cases[i].ok || r != 0)
			continue;
		/* comm is truncated to 15 characters like the kernel's */
		CHECK_MSG(strncmp(st.comm, cases[i].comm, 15) == 0, "case %zu comm '%s'", i, st.comm);
		CHECK(st.state == cases[i].state);
		CHECK(st.ppid == cases[i].ppid);
		CHECK(st.start_ticks == cases[i].start);
		CHECK(st.threads == cases[i].threads);
		CHECK(st.rss_pages == cases[i].rss);
		CHECK(st.flags == cases[i].flags);
	}
	{
		struct proc_stat st;
		const char *k = "2 (kthreadd) S 0 0 0 0 -1 2129984 0 0 0 0 0 0 0 0 20 0 1 0 2 0 0 1";
		CHECK(proc_parse_stat(k, strlen(k), &st) == 0 && (st.flags & PF_KTHREAD_FLAG));
	}
}

static void test_unit(void)
{
	static const struct { const char *cgroup; const char *unit; } cases[] = {
		{ "0::/system.slice/api.service\n", "api.service" },
		{ "0::/system.slice/api.service/workers\n", "api.service" },
		{ "0::/user.slice/user-1000.slice/user@1000.service/app.slice/celery.service\n", "celery.service" },
		{ "0::/user.slice/user-1000.slice/session-3.scope\n", "session-3.scope" },
		{ "0::/\n", NULL },
		{ "0::/init.scope\n", "init.scope" },
		{ "12:pids:/system.slice/x.service\n1:name=systemd:/system.slice/legacy.service\n0::/\n", "legacy.service" },
		{ "0::/system.slice/not-a-unit.slice\n", NULL },
		{ "", NULL },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char unit[64] = "";
		int r = proc_parse_unit(cases[i].cgroup, unit, sizeof(unit));

		if (cases[i].unit)
			CHECK_MSG(r == 0 && strcmp(unit, cases[i].unit) == 0, "case %zu: r=%d '%s'", i, r, unit);
		else
			CHECK_MSG(r == -ENOENT, "case %zu: r=%d '%s'", i, r, unit);
	}
}

static void test_cmdline(void)
{
	char buf[64];
	size_t n;

	memcpy(buf, "python3\0-m\0gunicorn\0app:app\0", 29);
	n = proc_join_cmdline(buf, 29);
	CHECK_STR(buf, "python3 -m gunicorn app:app");
	CHECK(n == strlen("python3 -m gunicorn app:app"));
	buf[0] = '\0';
	CHECK(proc_join_cmdline(buf, 0) == 0 && buf[0] == '\0');
}

static void test_uid_python(void)
{
	uid_t uid = 0;

	CHECK(proc_parse_ruid("Name:\tx\nUmask:\t0022\nState:\tS\nUid:\t33\t0\t0\t0\nGid:\t33\n", &uid) == 0 && uid == 33);
	CHECK(proc_parse_ruid("Name:\tx\n", &uid) == -EINVAL);

	CHECK(proc_exe_is_python("/usr/bin/python3.11"));
	CHECK(proc_exe_is_python("/usr/bin/python3"));
	CHECK(proc_exe_is_python("/opt/venv/bin/python"));
	CHECK(proc_exe_is_python("/usr/bin/pypy3"));
	CHECK(proc_exe_is_python("/usr/bin/python3.11 (deleted)"));
	CHECK(!proc_exe_is_python("/usr/bin/perl"));
	CHECK(!proc_exe_is_python("/usr/sbin/nginx"));
}

static void test_statm(void)
{
	static const struct {
		const char *text;
		int ret;
		long pages;
	} cases[] = {
		{ "5122 3891 1029 1 0 1384 0\n", 0, 3891 },
		{ "0 0 0 0 0 0 0\n", 0, 0 },
		{ "123456789 98765432 1 1 0 1 0\n", 0, 98765432 },
		{ "", -EINVAL, 0 },
		{ "5122\n", -EINVAL, 0 },
		{ "5122 x 1 1 0 1 0\n", -EINVAL, 0 },
		{ "5122 -4 1 1 0 1 0\n", -EINVAL, 0 },
		{ "garbage", -EINVAL, 0 },
		{ "5122 99999999999999999999999 1 1 0 1 0\n", -EINVAL, 0 },
		{ "5122 9223372036854775808 1 1 0 1 0\n", -EINVAL, 0 },
		{ "5122 3891\n", -EINVAL, 0 },
		{ " 5122 3891 1 1 0 1 0\n", -EINVAL, 0 },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		long pages = -1;
		int r = proc_parse_statm(cases[i].text, strlen(cases[i].text), &pages);

		CHECK_MSG(r == cases[i].ret, "statm '%s': %d", cases[i].text, r);
		if (r == 0)
			CHECK_MSG(pages == cases[i].pages, "statm '%s': %ld pages", cases[i].text, pages);
	}
}

/* Field 38 (exit_signal) is -1 for a thread that is not its group's leader. */
static void test_thread(void)
{
	static const struct { const char *line; bool thread; } cases[] = {
		{ "4243 (python3) S 1 4242 4242 0 -1 4194368 0 0 0 0 0 0 0 0 20 0 3 0 123460 25000000 6144 "
		  "18446744073709551615 1 1 0 0 0 0 0 4096 0 0 0 0 -1 1 0 0 0 0 0 0 0 0 0 0 0 0 0\n", true },
		{ "4242 (python3) S 1 4242 4242 0 -1 4194560 0 0 0 0 0 0 0 0 20 0 3 0 123456 25000000 6144 "
		  "18446744073709551615 1 1 0 0 0 0 0 4096 0 0 0 0 17 1 0 0 0 0 0 0 0 0 0 0 0 0 0\n", false },
		/* a comm with spaces and ')': counted from the last ')' */
		{ "9 (a ) -1 b) S 1 9 9 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 5 1 2 3 1 1 0 0 0 0 0 0 0 0 0 0 -1 0\n", true },
		{ "9 (a ) -1 b) S 1 9 9 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 5 1 2 3 1 1 0 0 0 0 0 0 0 0 0 0 -10 0\n", false },
		/* -1 as the very last field, without a newline */
		{ "9 (a) S 1 9 9 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 5 1 2 3 1 1 0 0 0 0 0 0 0 0 0 0 -1", true },
		/* too short to have field 38 (old kernels, fixtures) */
		{ "9 (a) S 1 9 9 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 5 1 2 3 -1\n", false },
		{ "no parenthesis -1", false },
		{ "", false },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		CHECK_MSG(proc_stat_is_thread(cases[i].line, strlen(cases[i].line)) == cases[i].thread,
			  "case %zu", i);
}

static void test_last_pid(void)
{
	static const struct { const char *text; int r; long pid; } cases[] = {
		{ "0.20 0.22 0.30 1/345 12345\n", 0, 12345 },
		{ "0.00 0.00 0.00 2/99 4194304", 0, 4194304 },
		{ "1.50 1.20 1.00 3/120 1\n\n", 0, 1 },
		{ "0.20 0.22 0.30 1/345 \n", -EINVAL, 0 },
		{ "12345\n", -EINVAL, 0 },            /* no runnable/total field */
		{ "0.20 0.22 0.30 1/345 12345678901\n", -EINVAL, 0 },
		{ "0.20 0.22 0.30 1/345 12a45\n", -EINVAL, 0 },
		{ "", -EINVAL, 0 },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		long pid = -7;
		int r = proc_parse_last_pid(cases[i].text, strlen(cases[i].text), &pid);

		CHECK_MSG(r == cases[i].r, "case %zu: r=%d", i, r);
		CHECK_MSG(pid == (r == 0 ? cases[i].pid : -7), "case %zu: pid=%ld", i, pid);
	}
}

static void test_name_pid(void)
{
	static const struct { const char *name; pid_t pid; } cases[] = {
		{ "1", 1 }, { "4194304", 4194304 }, { "2147483647", 2147483647 },
		{ "2147483648", 0 }, { "99999999999999999999", 0 },
		{ "0", 0 }, { "01", 0 }, { "self", 0 }, { "12a", 0 }, { "", 0 },
		{ "-1", 0 }, { " 1", 0 }, { "1 ", 0 },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		CHECK_MSG(proc_name_pid(cases[i].name) == cases[i].pid, "case %zu (%s)", i, cases[i].name);
}

int main(void)
{
	test_stat();
	test_thread();
	test_last_pid();
	test_name_pid();
	test_statm();
	test_unit();
	test_cmdline();
	test_uid_python();
	return check_done("test_proc");
}
