/* The fd summary: classifying /proc/PID/fd link targets by kind, and the
 * rendered report (totals, groups most fds first, ties by text, the
 * max_lines cut). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "core/fdsum.h"

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
	CHECK(s.n == 22);
	CHECK(s.by_kind[FD_FILE] == 10 && s.by_kind[FD_SOCKET] == 3 && s.by_kind[FD_PIPE] == 2 &&
	      s.by_kind[FD_ANON] == 3 && s.by_kind[FD_DEVICE] == 3 && s.by_kind[FD_OTHER] == 1);

	fd_summary_render(&b, &s, 100);
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
	fd_summary_render(&b, &s, 3);
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
	fd_summary_render(&b, &s, 9);
	CHECK(strstr(b.data, "more groups") == NULL);
	CHECK(strstr(b.data, "      1  other       net\n") != NULL);
	buf_reset(&b);
	fd_summary_render(&b, &s, 8);
	CHECK(strstr(b.data, "(1 more groups)\n") != NULL);
	CHECK(strstr(b.data, "net\n") == NULL);

	/* rendering twice gives the same text (the targets are sorted in place) */
	{
		struct buf b2 = { 0 };

		buf_reset(&b);
		fd_summary_render(&b, &s, 100);
		fd_summary_render(&b2, &s, 100);
		CHECK(b.len == b2.len && memcmp(b.data, b2.data, b.len) == 0);
		buf_free(&b2);
	}

	fd_summary_free(&s);
	CHECK(s.n == 0 && s.total == 0 && s.targets == NULL);
	fd_summary_free(&s);   /* a zeroed one */
	buf_free(&b);
}

static void test_render_empty(void)
{
	struct fd_summary s = { 0 };
	struct buf b = { 0 };

	fd_summary_render(&b, &s, 10);
	CHECK_STR(b.data, "open fds: 0 (file 0, socket 0, pipe 0, anon_inode 0, device 0, other 0)\n\n");
	buf_reset(&b);
	s.unreadable = 1;
	fd_summary_render(&b, &s, 10);
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
	CHECK(s.total == 5000 && s.n == 5000 && s.cap >= 5000);
	fd_summary_render(&b, &s, 2);
	CHECK(buf_ok(&b));
	CHECK(strstr(b.data, "open fds: 5000 (file 4500, socket 500, pipe 0, anon_inode 0, device 0, other 0)\n") ==
	      b.data);
	CHECK(strstr(b.data, "  COUNT  KIND        TARGET\n   4000  file        /srv/cache/leak.tmp\n"
			     "    500  socket      socket\n(7 more groups)\n") != NULL);
	fd_summary_free(&s);
	buf_free(&b);
}

int main(void)
{
	RUN(test_classify);
	RUN(test_render);
	RUN(test_render_empty);
	RUN(test_many);
	return check_done("test_fdsum");
}
