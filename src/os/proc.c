#include "os/proc.h"

#include "os/files.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#ifndef PROC_SUPER_MAGIC
#define PROC_SUPER_MAGIC 0x9fa0
#endif

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

static bool has_suffix(const char *s, size_t n, const char *suffix)
{
	size_t m = strlen(suffix);

	return n > m && memcmp(s + n - m, suffix, m) == 0;
}

int proc_parse_unit(const char *cgroup, char *unit, size_t len)
{
	const char *line = cgroup;
	int found = -ENOENT;

	/* Prefer the unified hierarchy ("0::"), else the name=systemd one. */
	for (int pass = 0; pass < 2 && found < 0; pass++) {
		for (line = cgroup; line && *line; line = strchr(line, '\n'), line = line ? line + 1 : NULL) {
			const char *path, *eol = strchr(line, '\n'), *c, *seg;

			if (!eol)
				eol = line + strlen(line);
			if (pass == 0 ? strncmp(line, "0::", 3) != 0
				      : !memmem(line, (size_t)(eol - line), ":name=systemd:", 14))
				continue;
			path = memchr(line, '/', (size_t)(eol - line));
			if (!path)
				continue;
			for (seg = c = path + 1; c <= eol; c++) {
				if (c == eol || *c == '/') {
					size_t n = (size_t)(c - seg);

					if ((has_suffix(seg, n, ".service") || has_suffix(seg, n, ".scope")) &&
					    n < len) {
						memcpy(unit, seg, n);
						unit[n] = '\0';
						found = 0;
					}
					seg = c + 1;
				}
			}
			if (found == 0)
				break;
		}
	}
	return found;
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

bool proc_exe_is_python(const char *exe)
{
	const char *base = strrchr(exe, '/');

	base = base ? base + 1 : exe;
	return fnmatch("python", base, 0) == 0 || fnmatch("python[0-9]*", base, 0) == 0 ||
	       fnmatch("pypy*", base, 0) == 0;
}

int proc_root_open(struct proc_root *r, const char *path)
{
	struct statfs sfs;
	struct stat st;

	r->page_size = sysconf(_SC_PAGESIZE);
	r->fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (r->fd < 0)
		return -errno;
	/* O(1) fd counts: only real procfs, and only where it reports them
	 * (our own fd directory is never empty: we hold r->fd). */
	r->fd_size = fstatfs(r->fd, &sfs) == 0 && sfs.f_type == PROC_SUPER_MAGIC &&
		     fstatat(r->fd, "self/fd", &st, 0) == 0 && st.st_size > 0;
	return 0;
}

void proc_root_close(struct proc_root *r)
{
	if (r->fd >= 0)
		close(r->fd);
	r->fd = -1;
}

ssize_t proc_read_file(const struct proc_root *r, const char *rel, char *buf, size_t size)
{
	return file_read_into(r->fd, rel, buf, size);
}

int proc_read_stat(const struct proc_root *r, pid_t pid, struct proc_stat *st, bool *thread)
{
	char rel[32], buf[1024];
	ssize_t n;
	int ret;

	snprintf(rel, sizeof(rel), "%d/stat", (int)pid);
	n = proc_read_file(r, rel, buf, sizeof(buf));
	if (n < 0)
		return n == -ENOENT ? -ESRCH : (int)n;
	ret = proc_parse_stat(buf, (size_t)n, st);
	if (ret == 0 && thread)
		*thread = proc_stat_is_thread(buf, (size_t)n);
	return ret;
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

bool proc_denied(int err)
{
	return err == -EACCES || err == -EPERM;
}

int proc_open(const struct proc_root *r, pid_t pid, unsigned long long start_ticks,
	      struct proc_handle *h)
{
	char rel[16], buf[1024];
	struct proc_stat st;
	ssize_t n;

	h->pid = pid;
	h->start_ticks = start_ticks;
	h->statfd = h->statmfd = -1;
	snprintf(rel, sizeof(rel), "%d", (int)pid);
	h->dirfd = openat(r->fd, rel, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (h->dirfd < 0)
		return errno == ENOENT ? -ESRCH : -errno;
	h->statfd = openat(h->dirfd, "stat", O_RDONLY | O_CLOEXEC);
	if (h->statfd < 0) {
		int e = errno;
		proc_close(h);
		return e == ENOENT ? -ESRCH : -e;
	}
	h->statmfd = openat(h->dirfd, "statm", O_RDONLY | O_CLOEXEC);
	if (h->statmfd < 0 && errno != ENOENT) {
		int e = errno;
		proc_close(h);
		return -e;
	}
	/* The directory we opened must be the process we were told about. */
	n = pread(h->statfd, buf, sizeof(buf) - 1, 0);
	if (n <= 0 || proc_parse_stat(buf, (size_t)n, &st) < 0 || st.start_ticks != start_ticks) {
		proc_close(h);
		return -ESRCH;
	}
	return 0;
}

int proc_count_dir(int dirfd, const char *name, long *count)
{
	struct dirent *de;
	DIR *d;
	int fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (fd < 0)
		return -errno;
	d = fdopendir(fd);
	if (!d) {
		int e = errno;
		close(fd);
		return -e;
	}
	*count = 0;
	while ((de = readdir(d)))
		if (de->d_name[0] != '.')
			(*count)++;
	closedir(d);
	return 0;
}

int proc_sample(const struct proc_root *r, struct proc_handle *h, struct proc_sample *s)
{
	char buf[1024];
	struct proc_stat st;
	struct stat fst;
	ssize_t n;
	long fds;

	if (h->statfd < 0)
		return -ESRCH;
	n = pread(h->statfd, buf, sizeof(buf) - 1, 0);
	if (n < 0)
		return -errno;   /* ESRCH: the process is gone */
	if (n == 0 || proc_parse_stat(buf, (size_t)n, &st) < 0)
		return -EIO;
	if (st.state == 'Z' || st.state == 'X' || st.start_ticks != h->start_ticks)
		return -ESRCH;   /* exited (not yet reaped), or not the same process */
	/* Another user's fd directory may be closed to us: the rest of the
	 * sample still counts, and the caller says so. */
	s->fds_err = 0;
	if (r->fd_size) {
		int e = fstatat(h->dirfd, "fd", &fst, 0) < 0 ? -errno : 0;

		fds = e < 0 ? 0 : (long)fst.st_size;
		if (e == -ENOENT)
			return -ESRCH;
		if (e < 0 && !proc_denied(e))
			return e;
		s->fds_err = e;
	} else {
		int e = proc_count_dir(h->dirfd, "fd", &fds);

		if (e == -ENOENT)
			return -ESRCH;
		if (e < 0 && !proc_denied(e))
			return e;
		if (e < 0)
			fds = 0;
		s->fds_err = e;
	}
	if (h->statmfd >= 0) {
		n = pread(h->statmfd, buf, sizeof(buf) - 1, 0);
		if (n < 0)
			return -errno;
		if (proc_parse_statm(buf, (size_t)n, &st.rss_pages) < 0)
			return n == 0 ? -ESRCH : -EIO;
	}
	s->rss = (double)st.rss_pages * (double)r->page_size;
	s->threads = (double)st.threads;
	s->fds = (double)fds;
	return 0;
}

void proc_close(struct proc_handle *h)
{
	if (h->statfd >= 0)
		close(h->statfd);
	if (h->statmfd >= 0)
		close(h->statmfd);
	if (h->dirfd >= 0)
		close(h->dirfd);
	h->statfd = h->statmfd = h->dirfd = -1;
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

int proc_root_mount(const struct proc_root *r, struct proc_mount *pm)
{
	struct statfs sfs;
	struct stat st;
	char *text = NULL;
	size_t len;
	int ret;

	memset(pm, 0, sizeof(*pm));
	if (fstatfs(r->fd, &sfs) < 0 || fstat(r->fd, &st) < 0)
		return -errno;
	if (sfs.f_type != PROC_SUPER_MAGIC)
		return -ENOTSUP;
	ret = file_read(r->fd, "self/mountinfo", 64u << 20, 0, &text, &len);
	if (ret == 0)
		ret = proc_parse_mountinfo(text, major(st.st_dev), minor(st.st_dev), pm);
	free(text);
	return ret;
}

int proc_parse_cap_eff(const char *status, uint64_t *caps)
{
	const char *p = strstr(status, "\nCapEff:");
	char *end;
	unsigned long long v;

	if (!p)
		return -EINVAL;
	p += 8;
	while (*p == ' ' || *p == '\t')
		p++;
	v = strtoull(p, &end, 16);
	if (end == p)
		return -EINVAL;
	*caps = v;
	return 0;
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
