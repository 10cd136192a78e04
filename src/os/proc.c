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

int proc_read_unit(const struct proc_root *r, pid_t pid, struct cgroup_unit *u)
{
	char rel[32], *text;
	size_t len;
	int e;

	memset(u, 0, sizeof(*u));
	snprintf(rel, sizeof(rel), "%d/cgroup", (int)pid);
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
