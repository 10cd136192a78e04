/* core/maps_parse: maps lines (paths with spaces, " (deleted)", none,
 * malformed fields), Python file names and their versions, and the pick
 * of the runtime among a process's mappings. */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "check.h"
#include "core/maps_parse.h"

struct line_case {
	const char *line;
	int err;
	uint64_t start, end, offset;
	const char *perms;
	unsigned maj, min;
	uint64_t inode;
	const char *path;     /* expected path (cut), "" none */
	bool deleted;
};

static const struct line_case lines[] = {
	{ "00400000-0041f000 r--p 00000000 08:01 1835023                            /usr/bin/python3.11",
	  0, 0x400000, 0x41f000, 0, "r--p", 8, 1, 1835023, "/usr/bin/python3.11", false },
	{ "7f3c1a200000-7f3c1a2c0000 r-xp 00095000 fe:00 131 /root/.pyenv/versions/3.11.7/lib/libpython3.11.so.1.0",
	  0, 0x7f3c1a200000, 0x7f3c1a2c0000, 0x95000, "r-xp", 0xfe, 0, 131,
	  "/root/.pyenv/versions/3.11.7/lib/libpython3.11.so.1.0", false },
	{ "7f0000000000-7f0000001000 rw-s 00000000 00:05 42  /dev/zero (deleted)",
	  0, 0x7f0000000000, 0x7f0000001000, 0, "rw-s", 0, 5, 42, "/dev/zero", true },
	{ "7f0000000000-7f0000001000 r-xp 00001000 103:02 99   /opt/my app/lib python/libpython3.12.so (deleted)",
	  0, 0x7f0000000000, 0x7f0000001000, 0x1000, "r-xp", 0x103, 2, 99,
	  "/opt/my app/lib python/libpython3.12.so", true },
	{ "7ffd5c000000-7ffd5c021000 rw-p 00000000 00:00 0                          [stack]",
	  0, 0x7ffd5c000000, 0x7ffd5c021000, 0, "rw-p", 0, 0, 0, "[stack]", false },
	{ "7f0000000000-7f0000001000 rw-p 00000000 00:00 0",
	  0, 0x7f0000000000, 0x7f0000001000, 0, "rw-p", 0, 0, 0, "", false },
	{ "7f0000000000-7f0000001000 rw-p 00000000 00:00 0 ",
	  0, 0x7f0000000000, 0x7f0000001000, 0, "rw-p", 0, 0, 0, "", false },
	{ "ffffffffff600000-ffffffffff601000 --xp 00000000 00:00 0                  [vsyscall]",
	  0, 0xffffffffff600000, 0xffffffffff601000, 0, "--xp", 0, 0, 0, "[vsyscall]", false },
	{ "7f0000000000-7f0000001000 r--p 00000000 08:01 5 /tmp/ (deleted)",
	  0, 0x7f0000000000, 0x7f0000001000, 0, "r--p", 8, 1, 5, "/tmp/", true },
	{ "7f0000000000-7f0000001000 r--p 00000000 08:01 5 /tmp/x(deleted)",
	  0, 0x7f0000000000, 0x7f0000001000, 0, "r--p", 8, 1, 5, "/tmp/x(deleted)", false },
	/* the padding is not part of the suffix */
	{ "7f0000000000-7f0000001000 r--p 00000000 08:01 5  (deleted)",
	  0, 0x7f0000000000, 0x7f0000001000, 0, "r--p", 8, 1, 5, "(deleted)", false },
	{ "7f0000000000-7f0000001000 r--p 00000000 08:01 5 /a\\012b",
	  0, 0x7f0000000000, 0x7f0000001000, 0, "r--p", 8, 1, 5, "/a\\012b", false },
	{ "7f0000000000-7f0000001000 r--p 00000000 08:01 18446744073709551615 /x",
	  0, 0x7f0000000000, 0x7f0000001000, 0, "r--p", 8, 1, UINT64_MAX, "/x", false },
	/* malformed */
	{ "", -EINVAL, 0, 0, 0, NULL, 0, 0, 0, NULL, false },
	{ "garbage", -EINVAL, 0, 0, 0, NULL, 0, 0, 0, NULL, false },
	{ "7f0000000000 r--p 00000000 08:01 5 /x", -EINVAL, 0, 0, 0, NULL, 0, 0, 0, NULL, false },
	{ "7f0000001000-7f0000000000 r--p 00000000 08:01 5 /x", -EINVAL, 0, 0, 0, NULL, 0, 0, 0, NULL, false },
	{ "7f0000000000-7f0000000000 r--p 00000000 08:01 5 /x", -EINVAL, 0, 0, 0, NULL, 0, 0, 0, NULL, false },
	{ "10000000000000000-10000000000000001 r--p 00000000 08:01 5 /x", -EINVAL, 0, 0, 0, NULL, 0, 0, 0, NULL, false },
	{ "1000-2000 rxwp 00000000 08:01 5 /x", -EINVAL, 0, 0, 0, NULL, 0, 0, 0, NULL, false },
	{ "1000-2000 r--q 00000000 08:01 5 /x", -EINVAL, 0, 0, 0, NULL, 0, 0, 0, NULL, false },
	{ "1000-2000 r-- 00000000 08:01 5 /x", -EINVAL, 0, 0, 0, NULL, 0, 0, 0, NULL, false },
	{ "1000-2000 r--p 0000000g 08:01 5 /x", -EINVAL, 0, 0, 0, NULL, 0, 0, 0, NULL, false },
	{ "1000-2000 r--p 00000000 0801 5 /x", -EINVAL, 0, 0, 0, NULL, 0, 0, 0, NULL, false },
	{ "1000-2000 r--p 00000000 08:01 /x", -EINVAL, 0, 0, 0, NULL, 0, 0, 0, NULL, false },
	{ "1000-2000 r--p 00000000 08:01 5x /x", -EINVAL, 0, 0, 0, NULL, 0, 0, 0, NULL, false },
	{ "1000-2000 r--p 00000000 08:01 18446744073709551616 /x", -EINVAL, 0, 0, 0, NULL, 0, 0, 0, NULL, false },
	{ "1000-2000 r--p 00000000 108:01:1 5 /x", -EINVAL, 0, 0, 0, NULL, 0, 0, 0, NULL, false },
	{ "1000-2000  r--p 00000000 08:01 5 /x", -EINVAL, 0, 0, 0, NULL, 0, 0, 0, NULL, false },
	{ "1000-2000 r--p 00000000 123456789:01 5 /x", -EINVAL, 0, 0, 0, NULL, 0, 0, 0, NULL, false },
	{ "1000-2000 r--p 00000000 08:01 5", 0, 0x1000, 0x2000, 0, "r--p", 8, 1, 5, "", false },
};

static void test_lines(void)
{
	for (size_t i = 0; i < sizeof(lines) / sizeof(lines[0]); i++) {
		const struct line_case *c = &lines[i];
		struct maps_entry m;
		char perms[5], path[512];
		int r = maps_parse_line(c->line, strlen(c->line), &m);

		CHECK_MSG(r == c->err, "\"%s\": %d", c->line, r);
		if (r < 0 || c->err < 0)
			continue;
		snprintf(perms, sizeof(perms), "%c%c%c%c", m.r ? 'r' : '-', m.w ? 'w' : '-', m.x ? 'x' : '-',
			 m.shared ? 's' : 'p');
		snprintf(path, sizeof(path), "%.*s", (int)m.path_len, m.path);
		CHECK_MSG(m.start == c->start && m.end == c->end && m.offset == c->offset, "\"%s\"", c->line);
		CHECK_MSG(m.dev_major == c->maj && m.dev_minor == c->min && m.inode == c->inode, "\"%s\"", c->line);
		CHECK_STR(perms, c->perms);
		CHECK_STR(path, c->path);
		CHECK_MSG(m.deleted == c->deleted, "\"%s\"", c->line);
	}
}

/* A line is not read past its length: the same line followed by more
 * text is cut where it is told. */
static void test_line_length(void)
{
	const char *t = "1000-2000 r-xp 00000000 08:01 5 /usr/lib/libpython3.11.so.1.0XYZ";
	struct maps_entry m;

	CHECK(maps_parse_line(t, strlen(t) - 3, &m) == 0 && m.path_len == strlen("/usr/lib/libpython3.11.so.1.0"));
	CHECK(maps_parse_line(t, 12, &m) == -EINVAL);
}

static void test_next(void)
{
	const char *t = "1000-2000 r--p 00000000 08:01 5 /a\n"
			"2000-3000 r-xp 00001000 08:01 5 /a\n"
			"bad line\n"
			"3000-4000 rw-p 00000000 00:00 0";
	size_t pos = 0, len = strlen(t);
	struct maps_entry m;

	CHECK(maps_next(t, len, &pos, &m) == 1 && m.start == 0x1000);
	CHECK(maps_next(t, len, &pos, &m) == 1 && m.x && m.offset == 0x1000);
	CHECK(maps_next(t, len, &pos, &m) == -EINVAL);
	CHECK(maps_next(t, len, &pos, &m) == 1 && m.start == 0x3000 && m.path_len == 0);
	CHECK(maps_next(t, len, &pos, &m) == 0);
	CHECK(pos == len);
	pos = 0;
	CHECK(maps_next("", 0, &pos, &m) == 0);
}

struct name_case {
	const char *name;
	enum py_name kind;
	int err, major, minor;
};

static const struct name_case names[] = {
	{ "libpython3.11.so.1.0", PY_NAME_LIBRARY, 0, 3, 11 },
	{ "libpython3.11.so", PY_NAME_LIBRARY, 0, 3, 11 },
	{ "libpython3.8.so.1.0", PY_NAME_LIBRARY, 0, 3, 8 },
	{ "libpython3.6m.so.1.0", PY_NAME_LIBRARY, 0, 3, 6 },
	{ "libpython3.11d.so.1.0", PY_NAME_LIBRARY, 0, 3, 11 },
	{ "libpython3.13t.so.1.0", PY_NAME_LIBRARY, 0, 3, 13 },
	{ "libpython3.7dm.so.1.0", PY_NAME_LIBRARY, 0, 3, 7 },
	{ "libpython2.7.so.1.0", PY_NAME_LIBRARY, 0, 2, 7 },
	{ "libpython3.so", PY_NAME_NONE, -EINVAL, -1, -1 },
	{ "libpython3.11.sox", PY_NAME_NONE, -EINVAL, -1, -1 },
	{ "libpython3.11.a", PY_NAME_NONE, -EINVAL, -1, -1 },
	{ "libpython3.11", PY_NAME_NONE, -EINVAL, -1, -1 },
	{ "libpython3.11mmmm.so", PY_NAME_NONE, -EINVAL, -1, -1 },
	{ "libpython", PY_NAME_NONE, -EINVAL, -1, -1 },
	{ "libpython3.1234.so", PY_NAME_NONE, -EINVAL, -1, -1 },
	{ "libpythonX.Y.so", PY_NAME_NONE, -EINVAL, -1, -1 },
	{ "python3.11", PY_NAME_EXECUTABLE, 0, 3, 11 },
	{ "python3.8", PY_NAME_EXECUTABLE, 0, 3, 8 },
	{ "python2.7", PY_NAME_EXECUTABLE, 0, 2, 7 },
	{ "python3.13t", PY_NAME_EXECUTABLE, 0, 3, 13 },
	{ "python3.11d", PY_NAME_EXECUTABLE, 0, 3, 11 },
	{ "python3", PY_NAME_EXECUTABLE, -ENOENT, -1, -1 },
	{ "python2", PY_NAME_EXECUTABLE, -ENOENT, -1, -1 },
	{ "python", PY_NAME_EXECUTABLE, -ENOENT, -1, -1 },
	{ "python4", PY_NAME_NONE, -EINVAL, -1, -1 },
	{ "python3.11-config", PY_NAME_NONE, -EINVAL, -1, -1 },
	{ "python3.11.real", PY_NAME_NONE, -EINVAL, -1, -1 },
	{ "python3.", PY_NAME_NONE, -EINVAL, -1, -1 },
	{ "python.3", PY_NAME_NONE, -EINVAL, -1, -1 },
	{ "pythonw", PY_NAME_NONE, -EINVAL, -1, -1 },
	{ "ipython3", PY_NAME_NONE, -EINVAL, -1, -1 },
	{ "sleep", PY_NAME_NONE, -EINVAL, -1, -1 },
	{ "", PY_NAME_NONE, -EINVAL, -1, -1 },
};

static void test_names(void)
{
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		const struct name_case *c = &names[i];
		int major = 99, minor = 99;
		int r = python_version_from_name(c->name, strlen(c->name), &major, &minor);

		CHECK_MSG(python_name_kind(c->name, strlen(c->name)) == c->kind, "%s", c->name);
		CHECK_MSG(r == c->err, "%s: %d", c->name, r);
		CHECK_MSG(major == c->major && minor == c->minor, "%s: %d.%d", c->name, major, minor);
	}
	/* told the length, not read to the NUL */
	CHECK(python_name_kind("python3.11XX", 10) == PY_NAME_EXECUTABLE);
}

#define LIBC "7f0000100000-7f0000200000 r-xp 00028000 08:01 200 /usr/lib/x86_64-linux-gnu/libc.so.6\n"
#define DEB  "00400000-0041f000 r--p 00000000 08:01 100 /usr/bin/python3.11\n" \
	     "0041f000-006d2000 r-xp 0001f000 08:01 100 /usr/bin/python3.11\n"
#define LIB311 "7f0000300000-7f0000400000 r-xp 00095000 08:02 300 /root/.pyenv/versions/3.11.7/lib/libpython3.11.so.1.0\n"
#define EXE311 "55d000000000-55d000001000 r-xp 00001000 08:02 301 /root/.pyenv/versions/3.11.7/bin/python3.11\n"

struct pick_case {
	const char *what, *maps, *exe;
	int err;
	enum py_name kind;
	const char *path;
	int major, minor;
	unsigned libraries;
	bool deleted;
	uint64_t inode;
};

static const struct pick_case picks[] = {
	{ "Debian's static python", DEB LIBC, "/usr/bin/python3.11", 0, PY_NAME_EXECUTABLE,
	  "/usr/bin/python3.11", 3, 11, 0, false, 100 },
	{ "pyenv: the library, not the exe", EXE311 LIB311 LIBC, "/root/.pyenv/versions/3.11.7/bin/python3.11",
	  0, PY_NAME_LIBRARY, "/root/.pyenv/versions/3.11.7/lib/libpython3.11.so.1.0", 3, 11, 1, false, 300 },
	{ "embedded (uwsgi): a library, exe not python", LIBC LIB311, "/usr/bin/uwsgi-core", 0, PY_NAME_LIBRARY,
	  "/root/.pyenv/versions/3.11.7/lib/libpython3.11.so.1.0", 3, 11, 1, false, 300 },
	{ "the library mapped from several lines", LIB311 LIB311 LIB311, NULL, 0, PY_NAME_LIBRARY,
	  "/root/.pyenv/versions/3.11.7/lib/libpython3.11.so.1.0", 3, 11, 1, false, 300 },
	{ "two libraries", LIB311 "7f0000500000-7f0000600000 r-xp 00001000 08:02 400 /usr/lib/libpython2.7.so.1.0\n",
	  NULL, 0, PY_NAME_LIBRARY, "/root/.pyenv/versions/3.11.7/lib/libpython3.11.so.1.0", 3, 11, 2, false, 300 },
	{ "the same library by two names", LIB311 "7f0000500000-7f0000600000 r-xp 00095000 08:02 300 /other/libpython3.11.so.1.0\n",
	  NULL, 0, PY_NAME_LIBRARY, "/root/.pyenv/versions/3.11.7/lib/libpython3.11.so.1.0", 3, 11, 1, false, 300 },
	{ "python 2.7", "7f0000500000-7f0000600000 r-xp 00001000 08:02 400 /usr/lib/libpython2.7.so.1.0\n",
	  "/usr/bin/python2.7", 0, PY_NAME_LIBRARY, "/usr/lib/libpython2.7.so.1.0", 2, 7, 1, false, 400 },
	{ "exe named python3", "00400000-0041f000 r-xp 00000000 08:01 100 /opt/venv/bin/python3\n" LIBC,
	  "/opt/venv/bin/python3", 0, PY_NAME_EXECUTABLE, "/opt/venv/bin/python3", -1, -1, 0, false, 100 },
	{ "exe deleted", "00400000-0041f000 r-xp 00000000 08:01 100 /usr/bin/python3.11 (deleted)\n",
	  "/usr/bin/python3.11 (deleted)", 0, PY_NAME_EXECUTABLE, "/usr/bin/python3.11", 3, 11, 0, true, 100 },
	{ "library deleted", "7f0000300000-7f0000400000 r-xp 00095000 08:02 300 /lib/libpython3.12.so.1.0 (deleted)\n",
	  NULL, 0, PY_NAME_LIBRARY, "/lib/libpython3.12.so.1.0", 3, 12, 1, true, 300 },
	{ "a python3.11 mapped that is not the exe", DEB LIBC, "/usr/bin/gdb", 0, PY_NAME_NONE, "", -1, -1, 0, false, 0 },
	{ "exe unknown", DEB LIBC, NULL, 0, PY_NAME_NONE, "", -1, -1, 0, false, 0 },
	{ "sleep", "55d000000000-55d000001000 r-xp 00001000 08:01 7 /usr/bin/sleep\n" LIBC, "/usr/bin/sleep",
	  0, PY_NAME_NONE, "", -1, -1, 0, false, 0 },
	{ "exe not python by name", "55d000000000-55d000001000 r-xp 00001000 08:01 7 /usr/bin/python3.11-wrapper\n",
	  "/usr/bin/python3.11-wrapper", 0, PY_NAME_NONE, "", -1, -1, 0, false, 0 },
	{ "a libpython with no inode (not a file)", "7f0000300000-7f0000400000 r-xp 00000000 00:00 0 /libpython3.11.so\n",
	  NULL, 0, PY_NAME_NONE, "", -1, -1, 0, false, 0 },
	{ "a relative name", "7f0000300000-7f0000400000 r-xp 00000000 08:01 5 libpython3.11.so\n",
	  NULL, 0, PY_NAME_NONE, "", -1, -1, 0, false, 0 },
	{ "memfd", "7f0000300000-7f0000400000 r-xp 00000000 00:01 5 /memfd:libpython3.11.so (deleted)\n",
	  NULL, 0, PY_NAME_NONE, "", -1, -1, 0, false, 0 },
	{ "the stable-ABI shim only", "7f0000300000-7f0000400000 r-xp 00000000 08:01 5 /usr/lib/libpython3.so\n",
	  NULL, 0, PY_NAME_NONE, "", -1, -1, 0, false, 0 },
	{ "a line that does not parse", DEB "junk\n", "/usr/bin/python3.11", -EINVAL, PY_NAME_NONE, "", -1, -1, 0, false, 0 },
	{ "empty", "", "/usr/bin/python3.11", 0, PY_NAME_NONE, "", -1, -1, 0, false, 0 },
};

static void test_picks(void)
{
	static struct maps_runtime rt;

	for (size_t i = 0; i < sizeof(picks) / sizeof(picks[0]); i++) {
		const struct pick_case *c = &picks[i];
		int r = maps_pick_runtime(c->maps, strlen(c->maps), c->exe, &rt);

		CHECK_MSG(r == c->err, "%s: %d", c->what, r);
		if (r < 0)
			continue;
		CHECK_MSG(rt.kind == c->kind, "%s: kind %d", c->what, rt.kind);
		if (c->kind == PY_NAME_NONE)
			continue;
		CHECK_STR(rt.path, c->path);
		CHECK_MSG(rt.major == c->major && rt.minor == c->minor, "%s: %d.%d", c->what, rt.major, rt.minor);
		CHECK_MSG(rt.libraries == c->libraries, "%s: %u libraries", c->what, rt.libraries);
		CHECK_MSG(rt.deleted == c->deleted && rt.inode == c->inode, "%s", c->what);
	}
	CHECK(maps_pick_runtime(picks[4].maps, strlen(picks[4].maps), NULL, &rt) == 0);
	CHECK_STR(rt.other, "/usr/lib/libpython2.7.so.1.0");
	CHECK(rt.dev_major == 8 && rt.dev_minor == 2);
}

/* A path of PATH_MAX bytes is passed over, the next line still read. */
static void test_long_path(void)
{
	static char text[2 * PATH_MAX + 256];
	static struct maps_runtime rt;
	int n = snprintf(text, sizeof(text), "1000-2000 r-xp 00000000 08:01 5 /");

	memset(text + n, 'a', PATH_MAX);
	n += PATH_MAX;
	n += snprintf(text + n, sizeof(text) - (size_t)n, "/libpython3.11.so\n%s", LIB311);
	CHECK(maps_pick_runtime(text, (size_t)n, NULL, &rt) == 0 && rt.kind == PY_NAME_LIBRARY && rt.inode == 300);
}

int main(void)
{
	RUN(test_lines);
	RUN(test_line_length);
	RUN(test_next);
	RUN(test_names);
	RUN(test_picks);
	RUN(test_long_path);
	return check_done("test_maps_parse");
}
