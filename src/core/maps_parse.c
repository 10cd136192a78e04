/* /proc/PID/maps and the runtime's file (maps_parse.h says what).
 *
 * The maps line.  The kernel writes "%08lx-%08lx %c%c%c%c %08llx
 * %02x:%02x %lu " and then, padded with spaces to a column, the path:
 * so the fields up to the inode are split on single spaces, and the path
 * is everything after the padding, spaces and all, to the end of the
 * line (a newline in a file name is written as "\012", so one mapping is
 * one line).  A file unlinked since it was mapped has " (deleted)"
 * appended; it is cut off and said.  A file name may itself end in
 * " (deleted)" or hold "\012" as text: what is read here is only ever a
 * name to open, and the opener compares the device and inode of what it
 * opened with the line's (os/pyruntime.c), so a name that lies opens
 * nothing that is used.  No strtol: the numbers are bounded (16 hex
 * digits, 20 decimal ones) and checked for overflow by hand, on text
 * that is not NUL-terminated.
 *
 * Which file is the runtime.  Not the executable's name alone: with
 * --enable-shared (pyenv, most source builds, uwsgi, mod_wsgi, anything
 * that embeds Python) the executable defines none of the functions and
 * libpythonX.Y.so does; Debian's python3.11 links libpython statically and
 * exports them itself.  So a mapped libpython wins, and the executable is
 * taken only when its name says Python.  Two different libpythons mapped
 * (a program that loads a python2 and a python3 plugin, as vim may) are
 * said, not guessed between.  "libpython3.so" (the stable-ABI shim that
 * only forwards to the real one) has no X.Y and is passed over.
 *
 * Costs: one pass over the text, no allocation; the result holds two
 * paths (8 KiB). */
#include "core/maps_parse.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#define DELETED " (deleted)"

/* Hex digits at *p (1 to max of them) into *v; *p moved past them. */
static bool hex(const char **p, const char *end, int max, uint64_t *v)
{
	int n = 0;

	*v = 0;
	for (; *p < end && n < max; (*p)++, n++) {
		char c = **p;
		unsigned d;

		if (c >= '0' && c <= '9')
			d = (unsigned)(c - '0');
		else if (c >= 'a' && c <= 'f')
			d = (unsigned)(c - 'a' + 10);
		else if (c >= 'A' && c <= 'F')
			d = (unsigned)(c - 'A' + 10);
		else
			break;
		*v = *v << 4 | d;
	}
	return n > 0 && (*p == end || !strchr("0123456789abcdefABCDEF", **p));
}

static bool dec(const char **p, const char *end, uint64_t *v)
{
	int n = 0;

	*v = 0;
	for (; *p < end && **p >= '0' && **p <= '9'; (*p)++, n++) {
		unsigned d = (unsigned)(**p - '0');

		if (*v > (UINT64_MAX - d) / 10)
			return false;
		*v = *v * 10 + d;
	}
	return n > 0;
}

static bool sep(const char **p, const char *end, char c)
{
	if (*p == end || **p != c)
		return false;
	(*p)++;
	return true;
}

static bool perms(const char **p, const char *end, struct maps_entry *m)
{
	const char *s = *p;

	if (end - s < 4 || (s[0] != 'r' && s[0] != '-') || (s[1] != 'w' && s[1] != '-') ||
	    (s[2] != 'x' && s[2] != '-') || (s[3] != 'p' && s[3] != 's'))
		return false;
	m->r = s[0] == 'r';
	m->w = s[1] == 'w';
	m->x = s[2] == 'x';
	m->shared = s[3] == 's';
	*p += 4;
	return true;
}

int maps_parse_line(const char *line, size_t len, struct maps_entry *m)
{
	const char *p = line, *end = line + len;
	uint64_t maj, min;

	memset(m, 0, sizeof(*m));
	if (!hex(&p, end, 16, &m->start) || !sep(&p, end, '-') || !hex(&p, end, 16, &m->end) ||
	    !sep(&p, end, ' ') || !perms(&p, end, m) || !sep(&p, end, ' ') ||
	    !hex(&p, end, 16, &m->offset) || !sep(&p, end, ' ') || !hex(&p, end, 8, &maj) ||
	    !sep(&p, end, ':') || !hex(&p, end, 8, &min) || !sep(&p, end, ' ') ||
	    !dec(&p, end, &m->inode) || (p < end && *p != ' ') || m->start >= m->end)
		return -EINVAL;
	m->dev_major = (unsigned)maj;
	m->dev_minor = (unsigned)min;
	while (p < end && *p == ' ')
		p++;
	m->path = p;
	m->path_len = (size_t)(end - p);
	if (m->path_len >= sizeof(DELETED) - 1 &&
	    memcmp(end - (sizeof(DELETED) - 1), DELETED, sizeof(DELETED) - 1) == 0) {
		m->deleted = true;
		m->path_len -= sizeof(DELETED) - 1;
	}
	return 0;
}

int maps_next(const char *text, size_t len, size_t *pos, struct maps_entry *m)
{
	const char *line, *nl;
	size_t n;

	if (*pos >= len)
		return 0;
	line = text + *pos;
	nl = memchr(line, '\n', len - *pos);
	n = nl ? (size_t)(nl - line) : len - *pos;
	*pos += n + (nl ? 1 : 0);
	return maps_parse_line(line, n, m) == 0 ? 1 : -EINVAL;
}

/* "X.Y" and up to three flag letters at *p: 0 and *p past them, or -1. */
static int version_at(const char **p, const char *end, int *major, int *minor)
{
	uint64_t a, b;
	const char *s = *p;
	int flags = 0;

	if (!dec(&s, end, &a) || s - *p > 3 || !sep(&s, end, '.'))
		return -1;
	*p = s;
	if (!dec(&s, end, &b) || s - *p > 3)
		return -1;
	while (s < end && flags < 3 && *s && strchr("dmtu", *s)) {
		s++;
		flags++;
	}
	*major = (int)a;
	*minor = (int)b;
	*p = s;
	return 0;
}

static enum py_name classify(const char *name, size_t len, int *major, int *minor)
{
	const char *p = name, *end = name + len;

	*major = *minor = -1;
	if (len > 9 && memcmp(name, "libpython", 9) == 0) {
		p += 9;
		if (version_at(&p, end, major, minor) < 0 || end - p < 3 || memcmp(p, ".so", 3) != 0 ||
		    (end - p > 3 && p[3] != '.')) {
			*major = *minor = -1;
			return PY_NAME_NONE;
		}
		return PY_NAME_LIBRARY;
	}
	if (len < 6 || memcmp(name, "python", 6) != 0)
		return PY_NAME_NONE;
	p += 6;
	if (p == end || (end - p == 1 && (*p == '2' || *p == '3')))
		return PY_NAME_EXECUTABLE;
	if (version_at(&p, end, major, minor) < 0 || p != end) {
		*major = *minor = -1;
		return PY_NAME_NONE;
	}
	return PY_NAME_EXECUTABLE;
}

enum py_name python_name_kind(const char *name, size_t len)
{
	int major, minor;

	return classify(name, len, &major, &minor);
}

int python_version_from_name(const char *name, size_t len, int *major, int *minor)
{
	if (classify(name, len, major, minor) == PY_NAME_NONE)
		return -EINVAL;
	return *major < 0 ? -ENOENT : 0;
}

static const char *base_name(const char *path, size_t len, size_t *blen)
{
	const char *slash = memrchr(path, '/', len);
	const char *b = slash ? slash + 1 : path;

	*blen = len - (size_t)(b - path);
	return b;
}

static bool same_file(const struct maps_runtime *rt, const struct maps_entry *m)
{
	return rt->dev_major == m->dev_major && rt->dev_minor == m->dev_minor && rt->inode == m->inode;
}

static void take(struct maps_runtime *rt, const struct maps_entry *m, enum py_name kind)
{
	size_t blen;
	const char *b = base_name(m->path, m->path_len, &blen);

	rt->kind = kind;
	snprintf(rt->path, sizeof(rt->path), "%.*s", (int)m->path_len, m->path);
	rt->deleted = m->deleted;
	rt->dev_major = m->dev_major;
	rt->dev_minor = m->dev_minor;
	rt->inode = m->inode;
	classify(b, blen, &rt->major, &rt->minor);
}

/* The exe link's target without " (deleted)": its length. */
static size_t exe_len(const char *exe)
{
	size_t n = strlen(exe);

	if (n >= sizeof(DELETED) - 1 && strcmp(exe + n - (sizeof(DELETED) - 1), DELETED) == 0)
		n -= sizeof(DELETED) - 1;
	return n;
}

int maps_pick_runtime(const char *text, size_t len, const char *exe, struct maps_runtime *rt)
{
	struct maps_entry m, exe_map = { 0 };
	size_t pos = 0, elen = exe ? exe_len(exe) : 0;
	bool have_exe = false;
	int r;

	memset(rt, 0, sizeof(*rt));
	rt->major = rt->minor = -1;
	while ((r = maps_next(text, len, &pos, &m)) > 0) {
		size_t blen;
		const char *b;
		enum py_name kind;

		if (m.path_len == 0 || m.path_len >= PATH_MAX || m.path[0] != '/' || m.inode == 0)
			continue;
		b = base_name(m.path, m.path_len, &blen);
		kind = python_name_kind(b, blen);
		if (kind == PY_NAME_LIBRARY && rt->kind == PY_NAME_NONE) {
			take(rt, &m, kind);
			rt->libraries = 1;
		} else if (kind == PY_NAME_LIBRARY && rt->libraries == 1 && !same_file(rt, &m)) {
			snprintf(rt->other, sizeof(rt->other), "%.*s", (int)m.path_len, m.path);
			rt->libraries = 2;
		} else if (kind == PY_NAME_EXECUTABLE && !have_exe && exe && m.path_len == elen &&
			   memcmp(m.path, exe, elen) == 0) {
			exe_map = m;
			have_exe = true;
		}
	}
	if (r < 0)
		return r;
	if (rt->kind == PY_NAME_NONE && have_exe)
		take(rt, &exe_map, PY_NAME_EXECUTABLE);
	return 0;
}
