/* The fd summary: classifying /proc/PID/fd link targets by kind, and the
 * rendered report (totals, groups most fds first, ties by text, the
 * max_lines and max_bytes cuts); past FD_GROUPS_MAX distinct targets, the
 * two passes (the targets that matter kept, wherever they come, and
 * counted exactly; the rest in "other targets" rows per kind), long
 * targets cut to FD_KEY_MAX, and names that would break a line. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "core/fdsum.h"

#define BIG ((size_t)1 << 30)     /* max_bytes that never binds */

static void test_classify(void)
{
	static const struct {
		const char *target;
		enum fd_kind kind;
		const char *name;
	} cases[] = {
		{ "/var/log/app.log", FD_FILE, "/var/log/app.log" },
		{ "/tmp/x (deleted)", FD_FILE, "/tmp/x (deleted)" },
		{ "/", FD_FILE, "/" },
		{ "/dev/null", FD_DEVICE, "/dev/null" },
		{ "/dev/pts/3", FD_DEVICE, "/dev/pts/3" },
		{ "/devices/x", FD_FILE, "/devices/x" },   /* not under /dev/ */
		{ "socket:[123]", FD_SOCKET, "socket" },
		{ "pipe:[9]", FD_PIPE, "pipe" },
		{ "anon_inode:[eventfd]", FD_ANON, "[eventfd]" },
		{ "anon_inode:inotify", FD_ANON, "inotify" },
		{ "anon_inode:[eventpoll]", FD_ANON, "[eventpoll]" },
		{ "net:[4026531840]", FD_OTHER, "net" },
		{ "mnt:[4026531841]", FD_OTHER, "mnt" },
		{ "[eventpoll]", FD_OTHER, "[eventpoll]" },
		{ "", FD_OTHER, "" },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char name[64];
		enum fd_kind k;

		memset(name, 'X', sizeof(name));
		k = fd_classify(cases[i].target, name, sizeof(name));
		CHECK_MSG(k == cases[i].kind, "%s: kind %s, expected %s", cases[i].target, fd_kind_name(k),
			  fd_kind_name(cases[i].kind));
		CHECK_STR(name, cases[i].name);
	}

	/* the name is cut to the buffer, always terminated */
	{
		char small[8];

		memset(small, 'X', sizeof(small));
		CHECK(fd_classify("/var/log/app.log", small, sizeof(small)) == FD_FILE);
		CHECK_STR(small, "/var/lo");
		memset(small, 'X', sizeof(small));
		CHECK(fd_classify("anon_inode:[eventfd]", small, sizeof(small)) == FD_ANON);
		CHECK_STR(small, "[eventf");
	}

	CHECK_STR(fd_kind_name(FD_FILE), "file");
	CHECK_STR(fd_kind_name(FD_SOCKET), "socket");
	CHECK_STR(fd_kind_name(FD_PIPE), "pipe");
	CHECK_STR(fd_kind_name(FD_ANON), "anon_inode");
	CHECK_STR(fd_kind_name(FD_DEVICE), "device");
	CHECK_STR(fd_kind_name(FD_OTHER), "other");
	CHECK_STR(fd_kind_name(FD_KINDS), "?");
}

static void add_n(struct fd_summary *s, const char *target, int n)
{
	int failed = 0;

	for (int i = 0; i < n; i++)
		failed += fd_summary_add(s, target) != 0;
	CHECK_MSG(failed == 0, "%s: %d adds failed", target, failed);
}

/* The lines of a rendering, in a NULL-terminated array (one allocation). */
static char **split_lines(const char *text, size_t *n)
{
	size_t count = 0, len = strlen(text);
	char **v, *copy;

	for (const char *p = text; *p; p++)
		count += *p == '\n';
	v = malloc((count + 1) * sizeof(*v) + len + 1);
	if (!v)
		exit(2);
	copy = (char *)(v + count + 1);
	memcpy(copy, text, len + 1);
	*n = 0;
	for (char *p = copy, *nl; (nl = strchr(p, '\n')); p = nl + 1) {
		*nl = '\0';
		v[(*n)++] = p;
	}
	v[*n] = NULL;
	return v;
}

static void test_render(void)
{
	struct fd_summary s = { 0 };
	struct buf b = { 0 };
	char **lines;
	size_t n;

	/* added in an order unrelated to the expected one */
	add_n(&s, "socket:[1]", 1);
	add_n(&s, "/var/log/app.log", 7);
	add_n(&s, "pipe:[9]", 1);
	add_n(&s, "/dev/null", 3);
	add_n(&s, "anon_inode:[eventfd]", 2);
	add_n(&s, "socket:[2]", 1);
	add_n(&s, "/etc/passwd", 2);
	add_n(&s, "pipe:[10]", 1);
	add_n(&s, "net:[4026531840]", 1);
	add_n(&s, "anon_inode:inotify", 1);
	add_n(&s, "socket:[3]", 1);
	add_n(&s, "/tmp/x (deleted)", 1);
	s.unreadable = 2;
	CHECK(s.total == 22);
	CHECK(s.n == 9 && !s.overflowed);   /* groups: the sockets are one, so are the pipes */
	CHECK(s.by_kind[FD_FILE] == 10 && s.by_kind[FD_SOCKET] == 3 && s.by_kind[FD_PIPE] == 2 &&
	      s.by_kind[FD_ANON] == 3 && s.by_kind[FD_DEVICE] == 3 && s.by_kind[FD_OTHER] == 1);

	fd_summary_render(&b, &s, 100, BIG);
	CHECK(buf_ok(&b));
	lines = split_lines(b.data, &n);
	{
		static const char *const want[] = {
			"open fds: 22 (file 10, socket 3, pipe 2, anon_inode 3, device 3, other 1)",
			"",
			"2 more could not be read (closed meanwhile)",
			"",
			"  COUNT  KIND        TARGET",
			/* most fds first; equal counts by text ("KIND\tNAME") */
			"      7  file        /var/log/app.log",
			"      3  device      /dev/null",
			"      3  socket      socket",
			"      2  anon_inode  [eventfd]",
			"      2  file        /etc/passwd",
			"      2  pipe        pipe",
			"      1  anon_inode  inotify",
			"      1  file        /tmp/x (deleted)",
			"      1  other       net",
		};
		size_t nw = sizeof(want) / sizeof(want[0]);

		CHECK_MSG(n == nw, "%zu lines, expected %zu:\n%s", n, nw, b.data);
		for (size_t i = 0; i < n && i < nw; i++)
			CHECK_STR(lines[i], want[i]);
	}
	free(lines);

	/* max_lines: the first groups, then how many were left out */
	buf_reset(&b);
	fd_summary_render(&b, &s, 3, BIG);
	lines = split_lines(b.data, &n);
	CHECK_MSG(n == 5 + 3 + 1, "%zu lines:\n%s", n, b.data);
	if (n == 9) {
		CHECK_STR(lines[5], "      7  file        /var/log/app.log");
		CHECK_STR(lines[7], "      3  socket      socket");
		CHECK_STR(lines[8], "(6 more groups)");
	}
	free(lines);

	/* exactly as many groups as lines: no "more" line */
	buf_reset(&b);
	fd_summary_render(&b, &s, 9, BIG);
	CHECK(strstr(b.data, "more groups") == NULL);
	CHECK(strstr(b.data, "      1  other       net\n") != NULL);
	buf_reset(&b);
	fd_summary_render(&b, &s, 8, BIG);
	CHECK(strstr(b.data, "(1 more groups)\n") != NULL);
	CHECK(strstr(b.data, "net\n") == NULL);

	/* rendering twice gives the same text (the summary is not changed) */
	{
		struct buf b2 = { 0 };

		buf_reset(&b);
		fd_summary_render(&b, &s, 100, BIG);
		fd_summary_render(&b2, &s, 100, BIG);
		CHECK(b.len == b2.len && memcmp(b.data, b2.data, b.len) == 0);
		buf_free(&b2);
	}

	fd_summary_free(&s);
	CHECK(s.n == 0 && s.total == 0 && s.groups[0].key == NULL);
	fd_summary_free(&s);   /* a zeroed one */
	buf_free(&b);
}

static void test_render_empty(void)
{
	struct fd_summary s = { 0 };
	struct buf b = { 0 };

	fd_summary_render(&b, &s, 10, BIG);
	CHECK_STR(b.data, "open fds: 0 (file 0, socket 0, pipe 0, anon_inode 0, device 0, other 0)\n\n");
	buf_reset(&b);
	s.unreadable = 1;
	fd_summary_render(&b, &s, 10, BIG);
	CHECK_STR(b.data, "open fds: 0 (file 0, socket 0, pipe 0, anon_inode 0, device 0, other 0)\n\n"
			  "1 more could not be read (closed meanwhile)\n\n");
	buf_free(&b);
	fd_summary_free(&s);
}

static void test_many(void)
{
	/* the leaking handle of a real capture: one path opened thousands of
	 * times among a few others, the array grown many times */
	struct fd_summary s = { 0 };
	struct buf b = { 0 };
	char target[64];
	int failed = 0;

	for (int i = 0; i < 5000; i++) {
		if (i % 10 == 0)
			snprintf(target, sizeof(target), "socket:[%d]", 1000 + i);
		else if (i % 10 == 1)
			snprintf(target, sizeof(target), "/srv/data/%d.db", i % 7);
		else
			snprintf(target, sizeof(target), "/srv/cache/leak.tmp");
		failed += fd_summary_add(&s, target) != 0;
	}
	CHECK(failed == 0);
	CHECK(s.total == 5000 && s.n == 9 && !s.overflowed);
	fd_summary_render(&b, &s, 2, BIG);
	CHECK(buf_ok(&b));
	CHECK(strstr(b.data, "open fds: 5000 (file 4500, socket 500, pipe 0, anon_inode 0, device 0, other 0)\n") ==
	      b.data);
	CHECK(strstr(b.data, "  COUNT  KIND        TARGET\n   4000  file        /srv/cache/leak.tmp\n"
			     "    500  socket      socket\n(7 more groups)\n") != NULL);
	fd_summary_free(&s);
	buf_free(&b);
}

/* Both passes of a reader over the same links: the targets of gen(i),
 * i < n, added once; when that overflowed, added again after a recount.
 * The rendering (max_lines, BIG) into b. */
static void two_passes(struct fd_summary *s, void (*gen)(int i, char *t, size_t len), int n,
		       struct buf *b, size_t max_lines)
{
	char target[FD_KEY_MAX + 2000];
	int failed = 0;

	for (int pass = 0; pass < 2; pass++) {
		for (int i = 0; i < n; i++) {
			gen(i, target, sizeof(target));
			failed += fd_summary_add(s, target) != 0;
		}
		if (!s->overflowed)
			break;
		if (pass == 0)
			fd_summary_recount(s);
	}
	CHECK_MSG(failed == 0, "%d adds failed", failed);
	buf_reset(b);
	fd_summary_render(b, s, max_lines, BIG);
	CHECK(buf_ok(b));
}

/* The rows of a rendering: their counts added up, and how many there are
 * (other-target rows apart: their count, and the number of those rows). */
struct rows {
	unsigned long sum, other_sum;
	size_t n, other_n, more;
};

static struct rows count_rows(const char *text)
{
	struct rows r = { 0 };
	const char *p = strstr(text, "  COUNT  KIND        TARGET\n");

	for (p = p ? strchr(p, '\n') + 1 : NULL; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL) {
		unsigned long c;
		char kind[16];
		int at = 0;

		if (sscanf(p, "(%zu more groups)", &r.more) == 1)
			continue;
		if (sscanf(p, "%lu %15s %n", &c, kind, &at) != 2)
			break;
		if (strncmp(p + at, "(other targets)\n", 16) == 0) {
			r.other_sum += c;
			r.other_n++;
		} else {
			r.sum += c;
			r.n++;
		}
	}
	return r;
}

static void distinct(int i, char *t, size_t len)
{
	snprintf(t, len, "/srv/f/%04d", i);
}

static void test_overflow_distinct(void)
{
	/* 2000 targets of one fd each: 512 kept, the others one row */
	struct fd_summary s = { 0 };
	struct buf b = { 0 };
	struct rows r;

	two_passes(&s, distinct, 2000, &b, 1000);
	CHECK(s.overflowed && s.recounting && s.n == FD_GROUPS_MAX);
	CHECK(s.total == 2000 && s.by_kind[FD_FILE] == 2000 && s.other[FD_FILE] == 2000 - FD_GROUPS_MAX);
	CHECK(strstr(b.data, "open fds: 2000 (file 2000, socket 0, pipe 0, anon_inode 0, device 0, other 0)\n") ==
	      b.data);
	r = count_rows(b.data);
	CHECK_MSG(r.n == FD_GROUPS_MAX && r.sum == FD_GROUPS_MAX && r.other_n == 1 && r.more == 0,
		  "%zu rows adding up to %lu, %zu other rows, %zu more", r.n, r.sum, r.other_n, r.more);
	CHECK(strstr(b.data, "\n   1488  file        (other targets)\n") != NULL);
	CHECK(r.sum + r.other_sum == 2000);

	/* 500 lines: the other row, then how many groups were left out */
	buf_reset(&b);
	fd_summary_render(&b, &s, 500, BIG);
	r = count_rows(b.data);
	CHECK(r.n == 500 && r.more == FD_GROUPS_MAX - 500 && r.other_sum == 1488);
	CHECK(strstr(b.data, "   1488  file        (other targets)\n(12 more groups)\n") != NULL);
	fd_summary_free(&s);
	buf_free(&b);
}

/* 1500 files once each, then a leaked path every third fd among more
 * singles, and sockets, pipes and eventfds throughout: N = 4600 */
static void heavy(int i, char *t, size_t len)
{
	if (i % 46 == 0)
		snprintf(t, len, "socket:[%d]", 7000 + i);
	else if (i % 46 == 1)
		snprintf(t, len, "pipe:[%d]", 9000 + i);
	else if (i % 46 == 2 && i < 2760)
		snprintf(t, len, "anon_inode:[eventfd]");
	else if (i < 1500)
		snprintf(t, len, "/srv/a/%d", i);
	else if (i % 3 == 0)
		snprintf(t, len, "/srv/leak");
	else
		snprintf(t, len, "/srv/b/%d", i);
}

static void test_overflow_heavy(void)
{
	/* the leak comes after more than FD_GROUPS_MAX other targets, yet it is
	 * kept and counted exactly, and so are the sockets, pipes and eventfds
	 * (each more than 1/512 of the fds); the rest are one row of files */
	struct fd_summary s = { 0 };
	struct buf b = { 0 };
	unsigned want[FD_KINDS] = { 0 }, leak = 0;
	char t[64], line[300];
	struct rows r;

	for (int i = 0; i < 4600; i++) {
		heavy(i, t, sizeof(t));
		want[fd_classify(t, line, sizeof(line))]++;
		leak += strcmp(t, "/srv/leak") == 0;
	}
	two_passes(&s, heavy, 4600, &b, 600);
	CHECK(s.overflowed && s.total == 4600);
	snprintf(line, sizeof(line), "open fds: 4600 (file %u, socket %u, pipe %u, anon_inode %u, device 0, other 0)\n",
		 want[FD_FILE], want[FD_SOCKET], want[FD_PIPE], want[FD_ANON]);
	CHECK_MSG(strstr(b.data, line) == b.data, "%.100s", b.data);
	/* (equal counts by text: pipe before socket) */
	snprintf(line, sizeof(line), "  COUNT  KIND        TARGET\n%7u  file        /srv/leak\n"
		 "%7u  pipe        pipe\n%7u  socket      socket\n%7u  anon_inode  [eventfd]\n",
		 leak, want[FD_PIPE], want[FD_SOCKET], want[FD_ANON]);
	CHECK_MSG(strstr(b.data, line) != NULL, "want\n%s", line);
	CHECK(s.other[FD_SOCKET] == 0 && s.other[FD_PIPE] == 0 && s.other[FD_ANON] == 0);
	r = count_rows(b.data);
	CHECK_MSG(r.sum + r.other_sum == 4600 && r.other_n == 1 && r.more == 0,
		  "rows %lu + other %lu (%zu rows), %zu more", r.sum, r.other_sum, r.other_n, r.more);
	CHECK(r.n == FD_GROUPS_MAX && s.other[FD_FILE] == want[FD_FILE] - leak - (FD_GROUPS_MAX - 4));
	fd_summary_free(&s);
	buf_free(&b);
}

static void test_fewer_second_time(void)
{
	/* the process closed fds between the passes: the second pass's totals,
	 * and a kept target with no fd left is no row */
	struct fd_summary s = { 0 };
	struct buf b = { 0 };
	char t[32];
	struct rows r;

	for (int i = 0; i < FD_GROUPS_MAX + 10; i++) {
		snprintf(t, sizeof(t), "/srv/f/%d", i);
		fd_summary_add(&s, t);
	}
	CHECK(s.overflowed);
	fd_summary_recount(&s);
	CHECK(s.total == 0 && s.by_kind[FD_FILE] == 0);
	s.unreadable = 0;
	fd_summary_add(&s, "/srv/f/100");
	fd_summary_add(&s, "/srv/f/100");
	fd_summary_add(&s, "/srv/new");
	fd_summary_render(&b, &s, 500, BIG);
	CHECK_STR(b.data, "open fds: 3 (file 3, socket 0, pipe 0, anon_inode 0, device 0, other 0)\n\n"
			  "  COUNT  KIND        TARGET\n"
			  "      2  file        /srv/f/100\n"
			  "      1  file        (other targets)\n");
	r = count_rows(b.data);
	CHECK(r.sum + r.other_sum == 3);
	fd_summary_free(&s);
	buf_free(&b);
}

static void test_long_targets(void)
{
	/* a target as long as readlink gives (4095 bytes) is kept whole; a
	 * longer one is cut to the key's bound, and two that differ only past
	 * it are one group */
	static char path[FD_KEY_MAX + 2000];
	struct fd_summary s = { 0 };
	struct buf b = { 0 };
	size_t cut = FD_KEY_MAX - 12 - 1;    /* fdsum.c: KIND_ROOM */
	char *row;

	path[0] = '/';
	memset(path + 1, 'p', 4094);
	path[4095] = '\0';
	CHECK(fd_summary_add(&s, path) == 0);
	memset(path + 1, 'q', sizeof(path) - 3);
	path[sizeof(path) - 2] = 'A';
	path[sizeof(path) - 1] = '\0';
	CHECK(fd_summary_add(&s, path) == 0);
	path[sizeof(path) - 2] = 'B';
	CHECK(fd_summary_add(&s, path) == 0);
	CHECK(s.n == 2 && s.total == 3);
	CHECK(strlen(s.groups[0].key) == 5 + 4095 && strlen(s.groups[1].key) == 5 + cut);
	fd_summary_render(&b, &s, 10, BIG);
	row = strstr(b.data, "      2  file        /qqq");
	CHECK(row && strchr(row, '\n') - row == 21 + (long)cut);
	row = strstr(b.data, "      1  file        /ppp");
	CHECK(row && strchr(row, '\n') - row == 21 + 4095);
	fd_summary_free(&s);
	buf_free(&b);
}

static void test_max_bytes(void)
{
	/* rows stop before max_bytes, most fds first; those left out are
	 * counted, and the other rows still come */
	struct fd_summary s = { 0 };
	struct buf b = { 0 };
	char t[200];
	struct rows r;

	for (int i = 0; i < 100; i++) {
		snprintf(t, sizeof(t), "/srv/%03d/%0150d", i, 0);
		for (int k = 0; k <= i; k++)
			fd_summary_add(&s, t);
	}
	s.other[FD_FILE] = 5;
	s.other[FD_DEVICE] = 1;
	for (size_t max = 1000; max <= 7000; max += 1500) {
		buf_reset(&b);
		fd_summary_render(&b, &s, 500, max);
		r = count_rows(b.data);
		CHECK_MSG(b.len <= max && r.n > 0 && r.n + r.more == 100 && r.other_n == 2,
			  "max %zu: %zu bytes, %zu rows, %zu more, %zu other", max, b.len, r.n, r.more, r.other_n);
		snprintf(t, sizeof(t), "    100  file        /srv/099/");
		CHECK(strstr(b.data, t) != NULL);
		snprintf(t, sizeof(t), "      5  file        (other targets)\n      1  device      (other targets)\n"
			 "(%zu more groups)\n", r.more);
		CHECK(strstr(b.data, t) != NULL);
	}
	fd_summary_free(&s);
	buf_free(&b);
}

static void test_hostile_names(void)
{
	/* a name cannot start a line of its own (a forged row) nor make the
	 * file invalid UTF-8 */
	struct fd_summary s = { 0 };
	struct buf b = { 0 };

	fd_summary_add(&s, "/tmp/a\n  99999  file        /etc/shadow");
	fd_summary_add(&s, "/tmp/\xff\tx");
	s.stopped_at = 100000;
	fd_summary_render(&b, &s, 10, BIG);
	CHECK_STR(b.data, "open fds: 2 (file 2, socket 0, pipe 0, anon_inode 0, device 0, other 0)\n\n"
			  "more are open: only the first 100000 were read\n\n"
			  "  COUNT  KIND        TARGET\n"
			  "      1  file        /tmp/a\\n  99999  file        /etc/shadow\n"
			  "      1  file        /tmp/\xef\xbf\xbd\\tx\n");
	fd_summary_free(&s);
	buf_free(&b);
}

int main(void)
{
	RUN(test_classify);
	RUN(test_render);
	RUN(test_render_empty);
	RUN(test_many);
	RUN(test_overflow_distinct);
	RUN(test_overflow_heavy);
	RUN(test_fewer_second_time);
	RUN(test_long_targets);
	RUN(test_max_bytes);
	RUN(test_hostile_names);
	return check_done("test_fdsum");
}
