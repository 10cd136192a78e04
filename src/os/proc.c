/* The readers behind os/proc.h (its comment gives the costs): they open,
 * read and stat under the /proc root they are given, and hand the text to
 * core/proc_parse.c and core/cgroup_unit.c.  Kept apart from the parsers so that these alone need
 * a /proc (or a fixture tree) to be tested, and the parsers none. */
#include "os/proc.h"

#include "os/files.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
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

/* /proc/PID/cgroup has a line per hierarchy, each path shorter than
 * PATH_MAX (the kernel fails the read otherwise), the unified line last:
 * room for 31 of the longest. */
#define CGROUP_TEXT_MAX (128u << 10)

int proc_read_unit(const struct proc_root *r, const char *dir, struct cgroup_unit *u)
{
	char rel[64], *text;
	size_t len;
	int e;

	memset(u, 0, sizeof(*u));
	snprintf(rel, sizeof(rel), "%s/cgroup", dir);
	e = file_read(r->fd, rel, CGROUP_TEXT_MAX, 0, &text, &len);
	if (e < 0)
		return e == -ENOENT ? -ESRCH : e;
	e = cgroup_unit_parse(text, u);
	free(text);
	return e;
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

void proc_handle_none(struct proc_handle *h)
{
	h->dirfd = h->statfd = h->statmfd = -1;
	h->tdirfd = h->tstatfd = h->tstatmfd = -1;
	h->tid = 0;
}

int proc_open(const struct proc_root *r, pid_t pid, unsigned long long start_ticks,
	      struct proc_handle *h)
{
	char rel[16], buf[1024];
	struct proc_stat st;
	ssize_t n;

	proc_handle_none(h);
	h->pid = pid;
	h->start_ticks = start_ticks;
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

int proc_live_thread(int piddir, pid_t pid, pid_t *tid)
{
	char rel[32], buf[1024];
	struct dirent *de;
	struct proc_stat st;
	unsigned n = 0;
	int ret = -ESRCH;
	DIR *d = opendir_at(piddir, "task");

	if (!d)
		return errno == ENOENT ? -ESRCH : -errno;
	while ((de = readdir(d))) {
		pid_t t = proc_name_pid(de->d_name);
		ssize_t len;

		if (t <= 0 || t == pid)
			continue;
		if (n++ == PROC_TASKS_MAX) {
			ret = -E2BIG;
			break;
		}
		snprintf(rel, sizeof(rel), "%d/stat", (int)t);
		len = file_read_into(dirfd(d), rel, buf, sizeof(buf));
		if (len > 0 && proc_parse_stat(buf, (size_t)len, &st) == 0 && !proc_stat_dead(&st)) {
			*tid = t;
			ret = 0;
			break;
		}
	}
	closedir(d);
	return ret;
}

int proc_live_dir(const struct proc_root *r, pid_t pid, const struct proc_stat *st, char *rel, size_t size)
{
	pid_t tid;
	int fd, e;

	snprintf(rel, size, "%d", (int)pid);
	if (!proc_leader_exited(st))
		return 0;
	fd = openat(r->fd, rel, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT ? -ESRCH : -errno;
	e = proc_live_thread(fd, pid, &tid);
	close(fd);
	if (e == 0)
		snprintf(rel, size, "%d/task/%d", (int)pid, (int)tid);
	return e;
}

/* The fd count and RSS through dirfd and statmfd (the process's, or its
 * live thread's), the thread count and state from st: 0, -ESRCH when that
 * directory's task is gone, or -errno. */
static int sample_from(const struct proc_root *r, int dirfd, int statmfd, struct proc_stat *st,
		       struct proc_sample *s)
{
	char buf[256];     /* a statm of 128 bytes or more does not parse */
	struct stat fst;
	ssize_t n;
	long fds;

	/* Another user's fd directory may be closed to us: the rest of the
	 * sample still counts, and the caller says so. */
	s->fds_err = 0;
	if (r->fd_size) {
		int e = fstatat(dirfd, "fd", &fst, 0) < 0 ? -errno : 0;

		fds = e < 0 ? 0 : (long)fst.st_size;
		if (e == -ENOENT)
			return -ESRCH;
		if (e < 0 && !proc_denied(e))
			return e;
		s->fds_err = e;
	} else {
		int e = proc_count_dir(dirfd, "fd", &fds);

		if (e == -ENOENT)
			return -ESRCH;
		if (e < 0 && !proc_denied(e))
			return e;
		if (e < 0)
			fds = 0;
		s->fds_err = e;
	}
	if (statmfd >= 0) {
		n = pread(statmfd, buf, sizeof(buf) - 1, 0);
		if (n < 0)
			return -errno;
		if (proc_parse_statm(buf, (size_t)n, &st->rss_pages) < 0)
			return n == 0 ? -ESRCH : -EIO;
	}
	s->rss = (double)st->rss_pages * (double)r->page_size;
	s->threads = (double)st->threads;
	s->fds = (double)fds;
	return 0;
}

int proc_read_smaps(const struct proc_handle *h, struct proc_smaps *out)
{
	char buf[4096];    /* about 900 bytes on 6.x, 23 lines of "Key: N kB" */
	int dir = h->tdirfd >= 0 ? h->tdirfd : h->dirfd;
	struct stat st;
	ssize_t n;
	int fd;

	if (dir < 0)
		return -ESRCH;
	fd = openat(dir, "smaps_rollup", O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
	if (fd < 0)
		return errno == ENOENT ? -ESRCH : -errno;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		return -EIO;
	}
	n = file_read_fd(fd, buf, sizeof(buf));
	close(fd);
	if (n < 0)
		return n == -ENOENT ? -ESRCH : (int)n;
	if (n == 0)
		return -ESRCH;   /* no mm: a zombie, or exiting */
	return proc_parse_smaps_rollup(buf, (size_t)n, out) < 0 ? -EIO : 0;
}

static void close_thread(struct proc_handle *h)
{
	if (h->tstatfd >= 0)
		close(h->tstatfd);
	if (h->tstatmfd >= 0)
		close(h->tstatmfd);
	if (h->tdirfd >= 0)
		close(h->tdirfd);
	h->tdirfd = h->tstatfd = h->tstatmfd = -1;
	h->tid = 0;
}

/* Keep a live thread's descriptors, found through the kept directory (so
 * the very process's).  0; -EAGAIN when the thread found ended before it
 * was opened; else as proc_live_thread(). */
static int open_thread(struct proc_handle *h)
{
	char rel[32];
	pid_t tid;
	int e = proc_live_thread(h->dirfd, h->pid, &tid);

	if (e < 0)
		return e;
	snprintf(rel, sizeof(rel), "task/%d", (int)tid);
	h->tdirfd = openat(h->dirfd, rel, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (h->tdirfd >= 0)
		h->tstatfd = openat(h->tdirfd, "stat", O_RDONLY | O_CLOEXEC);
	if (h->tstatfd >= 0 && h->statmfd >= 0)
		h->tstatmfd = openat(h->tdirfd, "statm", O_RDONLY | O_CLOEXEC);
	if (h->tstatfd < 0 || (h->statmfd >= 0 && h->tstatmfd < 0)) {
		e = errno;
		close_thread(h);
		return e == ENOENT || e == ESRCH ? -EAGAIN : -e;
	}
	h->tid = tid;
	return 0;
}

/* The leader of h has exited (lst: its stat): the sample from a live
 * thread, the one kept while it lives, else another found.  A thread that
 * ends under the sample is replaced, three times at most. */
static int sample_group(const struct proc_root *r, struct proc_handle *h, const struct proc_stat *lst,
			struct proc_sample *s)
{
	char buf[1024];
	struct proc_stat ts;

	for (int tries = 0; tries < 3; tries++) {
		ssize_t n;
		int e;

		if (h->tstatfd < 0) {
			e = open_thread(h);
			if (e == -EAGAIN)
				continue;
			if (e < 0)
				return e;
		}
		n = pread(h->tstatfd, buf, sizeof(buf) - 1, 0);
		if (n > 0 && proc_parse_stat(buf, (size_t)n, &ts) == 0 && !proc_stat_dead(&ts)) {
			ts.threads = lst->threads;
			e = sample_from(r, h->tdirfd, h->tstatmfd, &ts, s);
			if (e != -ESRCH)
				return e;
		}
		close_thread(h);     /* it ended: another, if one lives */
	}
	return -EAGAIN;
}

int proc_sample(const struct proc_root *r, struct proc_handle *h, struct proc_sample *s)
{
	char buf[1024];
	struct proc_stat st;
	ssize_t n;

	if (h->statfd < 0)
		return -ESRCH;
	n = pread(h->statfd, buf, sizeof(buf) - 1, 0);
	if (n < 0)
		return -errno;   /* ESRCH: the process is gone */
	if (n == 0 || proc_parse_stat(buf, (size_t)n, &st) < 0)
		return -EIO;
	if (st.start_ticks != h->start_ticks)
		return -ESRCH;   /* not the same process */
	if (proc_stat_dead(&st))  /* exited (not yet reaped), or only its leader has */
		return proc_leader_exited(&st) ? sample_group(r, h, &st, s) : -ESRCH;
	return sample_from(r, h->dirfd, h->statmfd, &st, s);
}

void proc_close(struct proc_handle *h)
{
	close_thread(h);
	if (h->statfd >= 0)
		close(h->statfd);
	if (h->statmfd >= 0)
		close(h->statmfd);
	if (h->dirfd >= 0)
		close(h->dirfd);
	h->statfd = h->statmfd = h->dirfd = -1;
}

int proc_open_loadavg(const struct proc_root *r, pid_t self)
{
	char link[32], want[32];
	ssize_t n = readlinkat(r->fd, "self", link, sizeof(link) - 1);

	if (n <= 0)
		return -1;
	link[n] = '\0';
	snprintf(want, sizeof(want), "%d", (int)self);
	if (strcmp(link, want) != 0)
		return -1;
	return openat(r->fd, "loadavg", O_RDONLY | O_CLOEXEC);
}

int proc_read_last_pid(int fd, long *pid)
{
	char buf[128];
	ssize_t n;

	if (fd < 0)
		return -ENOENT;
	n = pread(fd, buf, sizeof(buf) - 1, 0);
	if (n <= 0)
		return n < 0 ? -errno : -EIO;
	return proc_parse_last_pid(buf, (size_t)n, pid);
}

ssize_t proc_read_title(const struct proc_handle *h, char out[PROC_TITLE_SIZE])
{
	char buf[4096 + 1];
	ssize_t len = file_read_into(h->tdirfd >= 0 ? h->tdirfd : h->dirfd, "cmdline", buf, sizeof(buf));

	if (len < 0)
		return len;
	return (ssize_t)proc_title(buf, (size_t)len, out);
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
