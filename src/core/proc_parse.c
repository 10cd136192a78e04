/* Parsers of /proc text, apart from the readers (os/proc.c).
 *
 * The daemon's trust in what it reads rests on these: a comm may hold
 * spaces and ')', a field may be missing on an old kernel or in a fixture,
 * the text of another process (cmdline) is whatever it made it.
 * Kept beside the readers they could only be tested on a live /proc and
 * fuzzed with the readers' system calls in the way; here they take bytes
 * and return fields or -EINVAL, so tests/fuzz/fuzz_stat.c and fuzz_text.c
 * feed them arbitrary input under ASan, tests/test_proc.c runs its tables
 * on any machine, and core/match.c uses proc_exe_is_python and
 * proc_denied without linking a reader.
 *
 * The stat and statm parsers run for every sample of every watched
 * process: they scan once, in place, with no strtol (which would want a
 * NUL-terminated copy and checks locale and base) and no allocation.  The
 * others run once per process found (status, cmdline) or once at
 * start (mountinfo), and use the C library freely. */
#include "core/proc_parse.h"

#include <errno.h>
#include <fnmatch.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The decimal number at p (an optional '-', then digits); *ok false when
 * there are no digits.  No strtol: this runs for every sample. */
static unsigned long long parse_num(const char *p, const char *end, bool *neg, bool *ok)
{
	unsigned long long v = 0;
	const char *start;

	*neg = p < end && *p == '-';
	if (*neg)
		p++;
	start = p;
	for (; p < end && *p >= '0' && *p <= '9'; p++) {
		if (v > (ULLONG_MAX - 9) / 10) {
			*ok = false;     /* no field of stat or statm is this long */
			return 0;
		}
		v = v * 10 + (unsigned)(*p - '0');
	}
	*ok = p > start;
	return v;
}

int proc_parse_stat(const char *buf, size_t len, struct proc_stat *st)
{
	const char *open, *close, *p, *end = buf + len;
	size_t n;
	int field;

	memset(st, 0, sizeof(*st));
	open = memchr(buf, '(', len);
	if (!open)
		return -EINVAL;
	/* comm may contain ')': the real end is the last ')' */
	close = memrchr(open, ')', (size_t)(end - open));
	if (!close)
		return -EINVAL;
	n = (size_t)(close - open - 1);
	if (n >= sizeof(st->comm))
		n = sizeof(st->comm) - 1;
	memcpy(st->comm, open + 1, n);
	st->comm[n] = '\0';

	/* Fields after comm, numbered as in proc(5): 3 is state. */
	p = close + 1;
	for (field = 3; field <= 24; field++) {
		unsigned long long v;
		bool neg, ok = true;

		while (p < end && *p == ' ')
			p++;
		if (p >= end || *p == '\n')
			break;
		switch (field) {
		case 3:
			st->state = *p;
			break;
		case 4:
			v = parse_num(p, end, &neg, &ok);
			st->ppid = neg ? 0 : (pid_t)v;
			break;
		case 9:
			v = parse_num(p, end, &neg, &ok);
			st->flags = (unsigned)v;
			break;
		case 20:
			v = parse_num(p, end, &neg, &ok);
			st->threads = neg ? -(long)v : (long)v;
			break;
		case 22:
			st->start_ticks = parse_num(p, end, &neg, &ok);
			break;
		case 24:
			v = parse_num(p, end, &neg, &ok);
			st->rss_pages = neg ? -(long)v : (long)v;
			return ok ? 0 : -EINVAL;
		}
		if (!ok)
			return -EINVAL;
		while (p < end && *p != ' ' && *p != '\n')
			p++;
	}
	return -EINVAL;
}

int proc_parse_statm(const char *buf, size_t len, long *resident_pages)
{
	const char *p = buf, *end = buf + len;
	unsigned long long rss;
	bool neg, ok;

	if (len == 0 || len >= 128)
		return -EINVAL;
	parse_num(p, end, &neg, &ok);            /* size */
	if (!ok || neg)
		return -EINVAL;
	while (p < end && *p >= '0' && *p <= '9')
		p++;
	if (p >= end || *p != ' ')
		return -EINVAL;
	rss = parse_num(++p, end, &neg, &ok);
	if (!ok || neg || rss > (unsigned long long)LONG_MAX)
		return -EINVAL;
	while (p < end && *p >= '0' && *p <= '9')
		p++;
	if (p >= end || *p != ' ')
		return -EINVAL;
	*resident_pages = (long)rss;
	return 0;
}

/* One "KEY:   N kB" line's N in bytes (the text after the colon, up to
 * the line's end): 0, or -EINVAL. */
static int smaps_kb(const char *p, const char *end, double *bytes)
{
	unsigned long long kb = 0;
	const char *d;

	while (p < end && *p == ' ')
		p++;
	d = p;
	while (p < end && *p >= '0' && *p <= '9') {
		if (kb > (ULLONG_MAX - 9) / 10)
			return -EINVAL;
		kb = kb * 10 + (unsigned)(*p++ - '0');
	}
	if (p == d || end - p != 3 || memcmp(p, " kB", 3) != 0)
		return -EINVAL;
	*bytes = (double)kb * 1024;
	return 0;
}

int proc_parse_smaps_rollup(const char *buf, size_t len, struct proc_smaps *out)
{
	static const char *const keys[] = { "Pss:", "Private_Clean:", "Private_Dirty:", "Private_Hugetlb:" };
	double v[4] = { 0, 0, 0, 0 };
	unsigned seen = 0;
	const char *p = buf, *end = buf + len;

	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));

		if (!nl)
			break;    /* truncated: the last line is not whole */
		for (unsigned k = 0; k < 4; k++) {
			size_t kl = strlen(keys[k]);

			if ((size_t)(nl - p) < kl || memcmp(p, keys[k], kl) != 0)
				continue;
			if ((seen & (1u << k)) || smaps_kb(p + kl, nl, &v[k]) < 0)
				return -EINVAL;
			seen |= 1u << k;
		}
		p = nl + 1;
	}
	if ((seen & 7u) != 7u)
		return -EINVAL;
	out->pss = v[0];
	out->uss = v[1] + v[2] + v[3];
	return 0;
}

bool proc_stat_dead(const struct proc_stat *st)
{
	return st->state == 'Z' || st->state == 'X' || st->state == 'x';
}

bool proc_leader_exited(const struct proc_stat *st)
{
	return proc_stat_dead(st) && st->threads > 1;
}

bool proc_stat_is_thread(const char *buf, size_t len)
{
	const char *p = NULL, *end = buf + len;
	int field = 2;

	for (const char *q = end; q > buf; q--)
		if (q[-1] == ')') {
			p = q;
			break;
		}
	if (!p)
		return false;
	/* p is just after comm: each space starts the next field */
	for (; p < end && *p != '\n'; p++) {
		if (*p != ' ')
			continue;
		if (++field == 38)
			return p + 3 <= end && p[1] == '-' && p[2] == '1' &&
			       (p + 3 == end || p[3] == ' ' || p[3] == '\n');
	}
	return false;
}

int proc_parse_last_pid(const char *buf, size_t len, long *pid)
{
	const char *p = buf + len;
	long v = 0, mul = 1;
	bool digits = false;

	while (p > buf && (p[-1] == '\n' || p[-1] == ' '))
		p--;
	for (; p > buf && p[-1] >= '0' && p[-1] <= '9'; p--) {
		if (mul > 100000000L)
			return -EINVAL;
		v += (p[-1] - '0') * mul;
		mul *= 10;
		digits = true;
	}
	if (!digits || p == buf || p[-1] != ' ' || memchr(buf, '/', (size_t)(p - buf)) == NULL)
		return -EINVAL;
	*pid = v;
	return 0;
}

pid_t proc_name_pid(const char *name)
{
	long v = 0;
	const char *p = name;

	if (*p < '1' || *p > '9')
		return 0;
	for (; *p >= '0' && *p <= '9'; p++) {
		v = v * 10 + (*p - '0');
		if (v > 0x7fffffffL)
			return 0;
	}
	return *p ? 0 : (pid_t)v;
}

size_t proc_join_cmdline(char *buf, size_t len)
{
	while (len > 0 && buf[len - 1] == '\0')
		len--;
	for (size_t i = 0; i < len; i++)
		if (buf[i] == '\0')
			buf[i] = ' ';
	buf[len] = '\0';
	return len;
}

int proc_parse_ruid(const char *status, uid_t *uid)
{
	const char *p = strstr(status, "\nUid:");

	if (!p)
		return -EINVAL;
	*uid = (uid_t)strtoul(p + 5, NULL, 10);
	return 0;
}

int proc_parse_uids(const char *status, uid_t *ruid, uid_t *euid, uid_t *suid)
{
	const char *p = strstr(status, "\nUid:");
	uid_t *out[3] = { ruid, euid, suid };

	if (!p)
		return -EINVAL;
	p += 5;
	for (int i = 0; i < 3; i++) {
		char *end;
		unsigned long v;

		while (*p == '\t' || *p == ' ')
			p++;
		if (*p < '0' || *p > '9')
			return -EINVAL;
		v = strtoul(p, &end, 10);
		if (v > (uid_t)-1)
			return -EINVAL;
		*out[i] = (uid_t)v;
		p = end;
	}
	return 0;
}

bool proc_exe_is_python(const char *exe)
{
	const char *base = strrchr(exe, '/');

	base = base ? base + 1 : exe;
	return fnmatch("python", base, 0) == 0 || fnmatch("python[0-9]*", base, 0) == 0 ||
	       fnmatch("pypy*", base, 0) == 0;
}

bool proc_denied(int err)
{
	return err == -EACCES || err == -EPERM;
}

/* One option of a comma-separated list: the value after "KEY=", or NULL. */
static const char *option(const char *opts, const char *end, const char *key, size_t *len)
{
	size_t k = strlen(key);

	for (const char *p = opts; p < end;) {
		const char *comma = memchr(p, ',', (size_t)(end - p));
		const char *stop = comma ? comma : end;

		if ((size_t)(stop - p) > k && memcmp(p, key, k) == 0 && p[k] == '=') {
			*len = (size_t)(stop - p) - k - 1;
			return p + k + 1;
		}
		p = stop + 1;
	}
	return NULL;
}

static bool word_is(const char *s, size_t len, const char *word)
{
	return len == strlen(word) && memcmp(s, word, len) == 0;
}

int proc_parse_mountinfo(const char *text, unsigned major, unsigned minor, struct proc_mount *pm)
{
	for (const char *line = text; line && *line;) {
		const char *eol = strchr(line, '\n'), *sep, *opts, *v;
		unsigned maj, min;
		size_t len;
		int skip = 0;

		if (!eol)
			eol = line + strlen(line);
		/* ID PARENT MAJOR:MINOR ROOT MOUNTPOINT OPTIONS [OPTIONAL...] - TYPE SOURCE SUPEROPTIONS */
		if (sscanf(line, "%*u %*u %u:%u %n", &maj, &min, &skip) != 2 || !skip || maj != major ||
		    min != minor || !(sep = memmem(line, (size_t)(eol - line), " - ", 3)))
			goto next;
		/* after the separator: the type, the source, then the options */
		opts = sep + 3;
		for (int field = 0; field < 2 && opts; field++) {
			opts = memchr(opts, ' ', (size_t)(eol - opts));
			opts = opts ? opts + 1 : NULL;
		}
		if (!opts)
			goto next;
		memset(pm, 0, sizeof(*pm));
		v = option(opts, eol, "hidepid", &len);
		if (v) {
			if (word_is(v, len, "1") || word_is(v, len, "noaccess"))
				pm->hidepid = HIDEPID_NOACCESS;
			else if (word_is(v, len, "2") || word_is(v, len, "invisible"))
				pm->hidepid = HIDEPID_INVISIBLE;
			else if (word_is(v, len, "4") || word_is(v, len, "ptraceable"))
				pm->hidepid = HIDEPID_PTRACEABLE;
		}
		v = option(opts, eol, "gid", &len);
		if (v && len > 0 && len < 11) {
			char num[12];
			char *end;
			unsigned long g;

			memcpy(num, v, len);
			num[len] = '\0';
			g = strtoul(num, &end, 10);
			if (!*end && g <= UINT32_MAX) {
				pm->has_gid = true;
				pm->gid = (gid_t)g;
			}
		}
		return 0;
next:
		line = *eol ? eol + 1 : NULL;
	}
	return -ENOENT;
}

int proc_parse_status_number(const char *status, const char *key, int base, unsigned long long *v)
{
	size_t klen = strlen(key);
	const char *p = status;
	char *end;

	while ((p = strstr(p, "\n")) && !(strncmp(p + 1, key, klen) == 0 && p[1 + klen] == ':'))
		p++;
	if (!p)
		return -EINVAL;
	p += klen + 2;
	while (*p == ' ' || *p == '\t')
		p++;
	*v = strtoull(p, &end, base);
	return end == p ? -EINVAL : 0;
}

int proc_parse_cap_eff(const char *status, uint64_t *caps)
{
	unsigned long long v;
	int r = proc_parse_status_number(status, "CapEff", 16, &v);

	if (r == 0)
		*caps = v;
	return r;
}

bool proc_mount_hides(const struct proc_mount *pm, uint64_t cap_eff, bool in_gid)
{
	/* the kernel's has_pid_permissions(): the gid= group, then ptrace
	 * access, which CAP_SYS_PTRACE grants for every process */
	return pm->hidepid != HIDEPID_OFF && !(pm->has_gid && in_gid) &&
	       !(cap_eff & (1ull << PROC_CAP_SYS_PTRACE));
}

const char *proc_hidepid_name(enum proc_hidepid h)
{
	switch (h) {
	case HIDEPID_OFF:        return "off";
	case HIDEPID_NOACCESS:   return "noaccess";
	case HIDEPID_INVISIBLE:  return "invisible";
	case HIDEPID_PTRACEABLE: return "ptraceable";
	}
	return "?";
}
