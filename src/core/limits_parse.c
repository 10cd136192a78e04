/* The parsers of a process's own limits (see limits_parse.h).
 *
 * The problem: a percentage max is of a limit the process has of its
 * own, and that limit is read from four texts.  Two are the kernel's
 * about the process (limits, cgroup), one the kernel's about a cgroup
 * (its limit file), one about the daemon's own mounts.  None is the
 * process's to write, but the cgroup names in a path are, below a
 * delegated unit (its owner makes and names them), and on older kernels a
 * name could hold a newline and forge a line: so a path is taken only from
 * the one line of its hierarchy, and only a path that can be walked down
 * component by component (no "", "." or "..") is given to the reader,
 * which opens each from the one above it (os/own_limits.c).
 *
 * Why not getrlimit-like calls: prlimit(2) on another process needs
 * CAP_SYS_RESOURCE (or its credentials), which the daemon has no use for
 * otherwise; /proc/PID/limits is readable by anyone.  Why the text of
 * cgroup files and not a library: systemd's would give the unit's
 * MemoryMax=, but not a limit set below the unit, nor one set by hand,
 * and would link libsystemd into core.
 *
 * Costs: one pass over each text, no allocation; they run when a process
 * is found and once a minute after (core/judge.h JUDGE_LIMITS_REFRESH_MS),
 * and at the start (mountinfo). */
#include "core/limits_parse.h"

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

/* The decimal number at *p, at most 2^63 (no limit is larger); *p moved
 * past it.  false when there is none or it is larger. */
static bool scan_decimal(const char **p, double *v)
{
	const char *s = *p;
	uint64_t x = 0;

	if (*s < '0' || *s > '9')
		return false;
	for (; *s >= '0' && *s <= '9'; s++) {
		if (x > (UINT64_C(1) << 63) / 10)
			return false;
		x = x * 10 + (uint64_t)(*s - '0');
	}
	*p = s;
	*v = (double)x;
	return true;
}

/* The end of a field of /proc/PID/limits (columns padded with spaces). */
static bool field_end(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\0';
}

int limits_parse_nofile(const char *text, double *soft)
{
	static const char name[] = "Max open files";
	const char *p;

	for (const char *line = text; line && *line;) {
		const char *eol = strchr(line, '\n');

		if (strncmp(line, name, sizeof(name) - 1) != 0 || line[sizeof(name) - 1] != ' ') {
			line = eol ? eol + 1 : NULL;
			continue;
		}
		p = line + sizeof(name) - 1;
		while (*p == ' ')
			p++;
		if (strncmp(p, "unlimited", 9) == 0 && field_end(p[9])) {
			*soft = -1;
			return 0;
		}
		return scan_decimal(&p, soft) && field_end(*p) ? 0 : -EINVAL;
	}
	return -EINVAL;
}

int cgroup_parse_limit(const char *text, double *v)
{
	const char *p = text;

	if (strcmp(text, "max\n") == 0) {
		*v = -1;
		return 0;
	}
	if (!scan_decimal(&p, v))
		return -EINVAL;
	return strcmp(p, "\n") == 0 ? 0 : -EINVAL;
}

/* Is the comma-separated list at p (n bytes) one that names word? */
static bool list_has(const char *p, size_t n, const char *word)
{
	size_t w = strlen(word);

	while (n > 0) {
		const char *comma = memchr(p, ',', n);
		size_t k = comma ? (size_t)(comma - p) : n;

		if (k == w && memcmp(p, word, w) == 0)
			return true;
		if (!comma)
			break;
		n -= k + 1;
		p = comma + 1;
	}
	return false;
}

/* A path to walk down: absolute, every component neither "", "." nor
 * ".." ("/" alone is the root). */
static bool walkable(const char *p, size_t n)
{
	if (n == 0 || p[0] != '/')
		return false;
	if (n == 1)
		return true;
	for (size_t i = 1; i <= n;) {
		const char *slash = memchr(p + i, '/', n - i);
		size_t k = slash ? (size_t)(slash - (p + i)) : n - i;

		if (k == 0 || (k == 1 && p[i] == '.') || (k == 2 && p[i] == '.' && p[i + 1] == '.'))
			return false;
		i += k + 1;
	}
	return true;
}

int cgroup_parse_path(const char *text, const char *controller, const char **path, size_t *len)
{
	const char *found = NULL;
	size_t found_len = 0;

	for (const char *line = text; line && *line;) {
		const char *eol = strchr(line, '\n'), *c1, *c2;

		if (!eol)
			eol = line + strlen(line);
		/* ID:CONTROLLERS:PATH; the unified line is "0::PATH" */
		c1 = memchr(line, ':', (size_t)(eol - line));
		c2 = c1 ? memchr(c1 + 1, ':', (size_t)(eol - c1 - 1)) : NULL;
		if (c2 && (controller ? list_has(c1 + 1, (size_t)(c2 - c1 - 1), controller)
				      : c2 == c1 + 1 && c1 - line == 1 && line[0] == '0')) {
			if (found)
				return -EINVAL;
			found = c2 + 1;
			found_len = (size_t)(eol - found);
		}
		line = *eol ? eol + 1 : NULL;
	}
	if (!found)
		return -ENOENT;
	if (!walkable(found, found_len))
		return -EINVAL;
	*path = found;
	*len = found_len;
	return 0;
}

/* The space-separated field at *p (up to eol) into out (size bytes),
 * unescaped (\ooo octal, as the kernel writes a space or a newline in a
 * mount point); *p moved past it and its space.  false when there is none
 * or it is too long. */
static bool field(const char **p, const char *eol, char *out, size_t size)
{
	const char *s = *p;
	size_t n = 0;

	if (s >= eol || *s == ' ')
		return false;
	for (; s < eol && *s != ' '; s++) {
		char c = *s;

		if (c == '\\' && eol - s >= 4 && s[1] >= '0' && s[1] <= '3' && s[2] >= '0' && s[2] <= '7' &&
		    s[3] >= '0' && s[3] <= '7') {
			c = (char)((s[1] - '0') * 64 + (s[2] - '0') * 8 + (s[3] - '0'));
			s += 3;
		}
		if (n + 1 >= size)
			return false;
		out[n++] = c;
	}
	out[n] = '\0';
	*p = s < eol ? s + 1 : s;
	return true;
}

/* One line: ID PARENT MAJ:MIN ROOT MOUNTPOINT OPTIONS [OPTIONAL...] - TYPE
 * SOURCE SUPEROPTIONS.  Keeps its mount point where it is the first of a
 * hierarchy wanted. */
static void mount_line(const char *line, const char *eol, struct cgroup_mounts *m, char *point, size_t size)
{
	char word[16];
	const char *p = line, *sep = memmem(line, (size_t)(eol - line), " - ", 3), *opts;
	char *into[2] = { NULL, NULL };

	for (int i = 0; i < 3; i++)   /* to ROOT */
		if (!field(&p, eol, point, size))
			return;
	if (!sep || !field(&p, eol, point, size) || strcmp(point, "/") != 0 || !field(&p, eol, point, size))
		return;
	p = sep + 3;
	if (!field(&p, eol, word, sizeof(word)))
		return;
	opts = memchr(p, ' ', (size_t)(eol - p));   /* past SOURCE */
	if (strcmp(word, "cgroup2") == 0) {
		into[0] = m->unified;
	} else if (strcmp(word, "cgroup") == 0 && opts) {
		size_t n = (size_t)(eol - opts - 1);   /* SUPEROPTIONS: the controllers */

		if (list_has(opts + 1, n, "pids"))
			into[0] = m->pids;
		if (list_has(opts + 1, n, "memory"))
			into[1] = m->memory;
	}
	for (int i = 0; i < 2; i++)
		if (into[i] && !into[i][0])
			memcpy(into[i], point, strlen(point) + 1);
}

int cgroup_parse_mounts(const char *text, struct cgroup_mounts *m)
{
	char point[PATH_MAX];

	m->unified[0] = m->pids[0] = m->memory[0] = '\0';
	for (const char *line = text; line && *line;) {
		const char *eol = strchr(line, '\n');

		if (!eol)
			eol = line + strlen(line);
		mount_line(line, eol, m, point, sizeof(point));
		line = *eol ? eol + 1 : NULL;
	}
	return 0;
}
