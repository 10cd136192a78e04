/* /proc parsing (core/proc_parse.h): stat lines (odd comms), cmdline
 * joining, status uid, Python detection, whether a leader exited
 * while its threads run, the hidepid= of a procfs mount and the effective
 * capabilities; and the readers (os/proc.h): as root, a sample of a root
 * process taken as nobody: its fd directory refused, the rest of the sample
 * good; and a process whose main thread has exited, sampled from its live
 * thread until the whole group exits. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <grp.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "check.h"
#include "core/proc_parse.h"
#include "os/proc.h"

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
	{
		uid_t r = 1, e = 1, s = 1;

		CHECK(proc_parse_uids("Name:\tx\nUid:\t65534\t0\t12\t0\nGid:\t1\n", &r, &e, &s) == 0 && r == 65534 &&
		      e == 0 && s == 12);
		CHECK(proc_parse_uids("Name:\tx\nUid:\t5\t6\n", &r, &e, &s) == -EINVAL);
		CHECK(proc_parse_uids("Name:\tx\nUid:\t5\t-6\t7\t7\n", &r, &e, &s) == -EINVAL);
		CHECK(proc_parse_uids("Name:\tx\nUid:\t5\t99999999999\t7\t7\n", &r, &e, &s) == -EINVAL);
		CHECK(proc_parse_uids("Name:\tx\n", &r, &e, &s) == -EINVAL);
	}

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

/* A leader that exited while its threads run (Linux 6.18's text for a
 * process whose main thread called pthread_exit: state Z, threads 3, its
 * rss 0) against a real zombie, a live thread of such a group, a process
 * still whole and one dead (X). */
static void test_leader_exited(void)
{
	static const struct { const char *line; bool dead, exited; } cases[] = {
		{ "8105 (zl) Z 8103 8101 4875 0 -1 4227340 4349 0 0 0 0 1 0 0 20 0 3 0 123770 0 0 "
		  "18446744073709551615 0 0 0 0 0 0 0 0 0 0 0 0 17 1 0 0 0 0 0 0 0 0 0 0 0 0 0\n", true, true },
		{ "8105 (zl) Z 8103 8101 4875 0 -1 4227340 4349 0 0 0 0 1 0 0 20 0 1 0 123770 0 0 "
		  "18446744073709551615 0 0 0 0 0 0 0 0 0 0 0 0 17 1 0 0 0 0 0 0 0 0 0 0 0 0 0\n", true, false },
		{ "8106 (zl) S 8103 8101 4875 0 -1 4194368 4163 0 0 0 0 1 0 0 20 0 3 0 123770 103600128 4546 "
		  "18446744073709551615 1 1 0 0 0 0 0 0 0 1 0 0 -1 1 0 0 0 0 0 0 0 0 0 0 0 0 0\n", false, false },
		{ "4242 (python3) S 1 4242 4242 0 -1 4194560 1 0 0 0 5 3 0 0 20 0 3 0 123456 25000000 6144 1",
		  false, false },
		{ "4242 (x) X 1 4242 4242 0 -1 0 0 0 0 0 0 0 0 0 20 0 2 0 1 0 0 1", true, true },
		{ "4242 (x) x 1 4242 4242 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 1 0 0 1", true, false },
		/* a comm that looks like a state does not count */
		{ "4242 (Z) R 1 4242 4242 0 -1 0 0 0 0 0 0 0 0 0 20 0 4 0 1 0 0 1", false, false },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct proc_stat st;

		CHECK_MSG(proc_parse_stat(cases[i].line, strlen(cases[i].line), &st) == 0, "case %zu", i);
		CHECK_MSG(proc_stat_dead(&st) == cases[i].dead, "case %zu: dead", i);
		CHECK_MSG(proc_leader_exited(&st) == cases[i].exited, "case %zu: leader exited", i);
	}
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

static void test_mountinfo(void)
{
	/* two procfs mounts stacked on /proc (a private one in a mount
	 * namespace), and other file systems */
	static const char text[] =
		"22 27 0:21 / /proc rw,relatime shared:12 - proc proc rw\n"
		"25 27 8:1 / / rw,relatime shared:1 - ext4 /dev/sda1 rw,errors=remount-ro\n"
		"63 22 0:39 / /proc rw,relatime - proc proc rw,hidepid=invisible\n"
		"70 25 0:40 / /srv/a\\040-\\040b rw - tmpfs tmpfs rw,gid=5,hidepid=2\n"
		"71 25 0:41 / /p1 rw - proc proc rw,gid=1001,hidepid=noaccess\n"
		"72 25 0:42 / /p2 rw master:3 - proc proc rw,hidepid=4,subset=pid\n"
		"73 25 0:43 / /p3 rw - proc proc rw,hidepid=1\n"
		"74 25 0:44 / /p4 rw - proc proc rw,hidepid=off,gid=x\n"
		"75 25 0:45 / /p5 rw - proc proc rw,hidepidx=2,xgid=3\n"
		"76 25 0:46 / /p6 rw - proc proc\n"
		"garbage line\n"
		"77 25 0:47 / /p7 rw - proc proc rw,hidepid=ptraceable";
	static const struct { unsigned maj, min; int r; enum proc_hidepid h; bool has_gid; gid_t gid; } cases[] = {
		{ 0, 21, 0, HIDEPID_OFF, false, 0 },
		{ 8, 1, 0, HIDEPID_OFF, false, 0 },
		{ 0, 39, 0, HIDEPID_INVISIBLE, false, 0 },
		{ 0, 40, 0, HIDEPID_INVISIBLE, true, 5 },
		{ 0, 41, 0, HIDEPID_NOACCESS, true, 1001 },
		{ 0, 42, 0, HIDEPID_PTRACEABLE, false, 0 },
		{ 0, 43, 0, HIDEPID_NOACCESS, false, 0 },
		{ 0, 44, 0, HIDEPID_OFF, false, 0 },
		{ 0, 45, 0, HIDEPID_OFF, false, 0 },
		{ 0, 46, -ENOENT, HIDEPID_OFF, false, 0 },   /* no options field: not a line */
		{ 0, 47, 0, HIDEPID_PTRACEABLE, false, 0 },  /* the last line, no newline */
		{ 0, 99, -ENOENT, HIDEPID_OFF, false, 0 },
		{ 1, 21, -ENOENT, HIDEPID_OFF, false, 0 },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct proc_mount pm = { .hidepid = (enum proc_hidepid)7, .has_gid = true, .gid = 7 };
		int r = proc_parse_mountinfo(text, cases[i].maj, cases[i].min, &pm);

		CHECK_MSG(r == cases[i].r, "case %zu: r=%d", i, r);
		if (r == 0)
			CHECK_MSG(pm.hidepid == cases[i].h && pm.has_gid == cases[i].has_gid &&
				  (!pm.has_gid || pm.gid == cases[i].gid),
				  "case %zu: hidepid %d gid %d/%u", i, pm.hidepid, pm.has_gid, (unsigned)pm.gid);
	}
	CHECK(proc_parse_mountinfo("", 0, 21, &(struct proc_mount){ 0 }) == -ENOENT);
	CHECK_STR(proc_hidepid_name(HIDEPID_INVISIBLE), "invisible");
	CHECK_STR(proc_hidepid_name(HIDEPID_NOACCESS), "noaccess");
	CHECK_STR(proc_hidepid_name(HIDEPID_PTRACEABLE), "ptraceable");
	CHECK_STR(proc_hidepid_name(HIDEPID_OFF), "off");
}

static void test_hides(void)
{
	const uint64_t ptrace = 1ull << PROC_CAP_SYS_PTRACE, others = 0x3fffffffffull & ~ptrace;
	struct proc_mount off = { HIDEPID_OFF, false, 0 }, inv = { HIDEPID_INVISIBLE, false, 0 },
			  noacc = { HIDEPID_NOACCESS, true, 4 }, ptr = { HIDEPID_PTRACEABLE, false, 0 };
	uint64_t caps = 0;

	CHECK(!proc_mount_hides(&off, 0, false));
	CHECK(proc_mount_hides(&inv, 0, false));
	CHECK(proc_mount_hides(&inv, others, true));      /* no gid= to be in; DAC caps do not help */
	CHECK(!proc_mount_hides(&inv, ptrace, false));
	CHECK(proc_mount_hides(&noacc, 0, false));
	CHECK(!proc_mount_hides(&noacc, 0, true));        /* in the gid= group */
	CHECK(proc_mount_hides(&ptr, 0, false));

	CHECK(proc_parse_cap_eff("Name:\tx\nCapInh:\t0000000000000000\nCapPrm:\t000001ffffffffff\n"
				 "CapEff:\t000001ffffffffff\nCapBnd:\t0\n", &caps) == 0 && caps == 0x1ffffffffffull);
	CHECK(proc_parse_cap_eff("Name:\tx\nCapEff:\t0000000000080000\n", &caps) == 0 && caps == ptrace);
	CHECK(proc_parse_cap_eff("Name:\tx\nCapEff:\t\n", &caps) == -EINVAL);
	{
		static const char st[] = "Name:\tx\nTracerPid:\t4242\nSigPnd:\t0000000000000020\n"
					 "ShdPnd:\t0000000000000000\nXSigPnd:\t1\n";
		unsigned long long v = 0;

		CHECK(proc_parse_status_number(st, "TracerPid", 10, &v) == 0 && v == 4242);
		CHECK(proc_parse_status_number(st, "SigPnd", 16, &v) == 0 && v == 0x20);
		CHECK(proc_parse_status_number(st, "Pnd", 16, &v) == -EINVAL);    /* a whole key only */
		CHECK(proc_parse_status_number(st, "Name", 10, &v) == -EINVAL);   /* not on the first line; no number */
		CHECK(proc_parse_status_number(st, "Missing", 10, &v) == -EINVAL);
	}
	CHECK(proc_parse_cap_eff("CapEff:\t0000000000080000\n", &caps) == -EINVAL);   /* never the first line */
	CHECK(proc_denied(-EACCES) && proc_denied(-EPERM) && !proc_denied(-ENOENT) && !proc_denied(-ESRCH) &&
	      !proc_denied(0));
}

/* As root: a child turned nobody samples this (root's) process.  Its fd
 * directory is closed to nobody when listed (the count before Linux
 * 6.2): fds_err, and the rest of the sample good; the child's own
 * process reads whole.  Not root: said, and nothing checked. */
static void test_sample_denied(void)
{
	struct proc_stat st;
	struct proc_root r;
	pid_t child;
	int status = -1;

	if (geteuid() != 0) {
		printf("  (not root: a sample denied the fd directory is not checked)\n");
		return;
	}
	CHECK(proc_root_open(&r, "/proc") == 0);
	CHECK(proc_read_stat(&r, getpid(), &st, NULL) == 0);
	fflush(NULL);
	child = fork();
	if (child == 0) {
		struct proc_handle h;
		struct proc_sample s;
		struct proc_stat own;
		int bad = 0;

		if (setgroups(0, NULL) < 0 || setresgid(65534, 65534, 65534) < 0 || setresuid(65534, 65534, 65534) < 0)
			_exit(10);
		for (int pass = 0; pass < 2; pass++) {
			bool fd_size = r.fd_size;

			/* the count by listing, as before 6.2; then the kernel's own way */
			r.fd_size = pass ? fd_size : false;
			if (pass && !fd_size)
				break;
			memset(&s, 0x55, sizeof(s));
			bad += proc_open(&r, getppid(), st.start_ticks, &h) != 0;
			bad += proc_sample(&r, &h, &s) != 0;
			bad += s.rss <= 0 || s.threads < 1;
			bad += pass ? s.fds_err != 0 || s.fds < 3 : s.fds_err != -EACCES || s.fds != 0;
			proc_close(&h);
			r.fd_size = fd_size;
		}
		/* our own: everything */
		bad += proc_read_stat(&r, getpid(), &own, NULL) != 0;
		bad += proc_open(&r, getpid(), own.start_ticks, &h) != 0;
		r.fd_size = false;
		bad += proc_sample(&r, &h, &s) != 0 || s.fds_err != 0 || s.fds < 3;
		proc_close(&h);
		_exit(bad);
	}
	CHECK(child > 0 && waitpid(child, &status, 0) == child);
	CHECK_MSG(WIFEXITED(status) && WEXITSTATUS(status) == 0, "the child as nobody: status %#x", status);
	proc_root_close(&r);
}

#define HELD_BYTES (8 << 20)
#define HELD_FDS   20

static char *volatile held;   /* kept, so the memory is not optimised away */

/* The thread of the child below: memory and fds, then it waits. */
static void *holder(void *arg)
{
	(void)arg;
	held = malloc(HELD_BYTES);
	if (held)
		memset(held, 1, HELD_BYTES);
	for (int i = 0; i < HELD_FDS; i++)
		open("/dev/null", O_RDONLY | O_CLOEXEC);
	for (;;)
		pause();
	return NULL;
}

/* A forked child whose main thread exits once its thread holds memory and
 * fds (the leader a zombie, the group alive); 0 when it does not happen. */
static pid_t zombie_leader(struct proc_root *r, struct proc_stat *st)
{
	pid_t child;

	fflush(NULL);
	child = fork();
	if (child == 0) {
		pthread_t t;

		if (pthread_create(&t, NULL, holder, NULL) != 0)
			_exit(1);
		sleep(1);       /* the thread has touched its memory by then */
		pthread_exit(NULL);
	}
	for (int i = 0; child > 0 && i < 100; i++) {
		struct timespec ms20 = { 0, 20000000L };

		if (proc_read_stat(r, child, st, NULL) == 0 && proc_leader_exited(st))
			return child;
		nanosleep(&ms20, NULL);
	}
	return 0;
}

/* Sampled through a live thread: its memory and fds, the kernel's thread
 * count (the exited leader counts); then, every thread gone and the leader
 * not reaped (a real zombie), gone. */
static void test_sample_leader_exited(void)
{
	char rel[48], want[48];
	struct proc_handle h;
	struct proc_sample s;
	struct proc_stat st;
	struct proc_root r;
	pid_t child, tid = 0;
	int status;

	CHECK(proc_root_open(&r, "/proc") == 0);
	child = zombie_leader(&r, &st);
	CHECK_MSG(child > 0, "no child whose leader exited");
	if (child <= 0)
		goto out;
	CHECK(st.threads == 2);
	CHECK(proc_open(&r, child, st.start_ticks, &h) == 0);
	for (int pass = 0; pass < 2; pass++) {
		bool fd_size = r.fd_size;

		r.fd_size = pass ? false : fd_size;   /* the count by listing, as before 6.2 */
		memset(&s, 0x55, sizeof(s));
		CHECK(proc_sample(&r, &h, &s) == 0);
		CHECK_MSG(s.rss >= HELD_BYTES, "rss %.0f", s.rss);
		CHECK_MSG(s.fds >= HELD_FDS && s.fds_err == 0, "fds %.0f (%d)", s.fds, s.fds_err);
		CHECK(s.threads == 2);
		r.fd_size = fd_size;
	}
	CHECK(h.tid > 0 && h.tid != child);
	CHECK(proc_live_thread(h.dirfd, child, &tid) == 0 && tid == h.tid);
	snprintf(want, sizeof(want), "%d/task/%d", (int)child, (int)h.tid);
	CHECK(proc_live_dir(&r, child, &st, rel, sizeof(rel)) == 0);
	CHECK_STR(rel, want);

	kill(child, SIGKILL);
	for (int i = 0; i < 100 && (proc_read_stat(&r, child, &st, NULL) != 0 || st.threads != 1); i++) {
		struct timespec ms20 = { 0, 20000000L };

		nanosleep(&ms20, NULL);
	}
	CHECK(proc_stat_dead(&st) && !proc_leader_exited(&st));
	CHECK(proc_sample(&r, &h, &s) == -ESRCH);
	CHECK(proc_live_thread(h.dirfd, child, &tid) == -ESRCH);
	snprintf(want, sizeof(want), "%d", (int)child);
	CHECK(proc_live_dir(&r, child, &st, rel, sizeof(rel)) == 0);
	CHECK_STR(rel, want);
	proc_close(&h);
	CHECK(h.tdirfd == -1 && h.tstatfd == -1 && h.tstatmfd == -1 && h.tid == 0);
	CHECK(waitpid(child, &status, 0) == child);
out:
	proc_root_close(&r);
}

int main(void)
{
	RUN(test_mountinfo);
	RUN(test_hides);
	RUN(test_sample_denied);
	RUN(test_sample_leader_exited);
	RUN(test_stat);
	RUN(test_thread);
	RUN(test_leader_exited);
	RUN(test_last_pid);
	RUN(test_name_pid);
	RUN(test_statm);
	RUN(test_cmdline);
	RUN(test_uid_python);
	return check_done("test_proc");
}
