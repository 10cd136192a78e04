/* The file helpers (see files.h for why one reader and why replace whole).
 *
 * Replacement: the temporary file is "PATH.tmp-PID", in PATH's directory so
 * that the rename stays within one filesystem and is atomic, with the pid
 * so that two processes writing the same PATH do not share one.  It is
 * opened O_NOFOLLOW, so a symlink planted at that name is not written
 * through, and fchmod'ed at the commit, so the file has exactly the mode
 * asked whatever the umask.  fdatasync only on request: neither the
 * textfile nor the state file asks (the state is of use within one boot,
 * daemon/persist.c).
 *
 * Reading: read_upto() is the one read(2) loop (EINTR, short reads).
 * file_read() does not trust st_size (0 for /proc files): it reads into a
 * buffer that doubles from 8 KiB up to max + 1 bytes, and a byte read past
 * max means the file is too big (-EFBIG), or is cut there with FILE_CUT.
 * Costs: a file of n bytes takes O(n) copying over log2(n / 8 KiB)
 * reallocations; file_read_into() allocates nothing. */
#include "os/files.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int write_all(int fd, const void *data, size_t len)
{
	const char *p = data;

	while (len > 0) {
		ssize_t n = write(fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

DIR *opendir_at(int parent, const char *name)
{
	int fd = openat(parent, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
	DIR *d;

	if (fd < 0)
		return NULL;
	d = fdopendir(fd);
	if (!d) {
		int e = errno;

		close(fd);
		errno = e;
	}
	return d;
}

int atomic_file_open(struct atomic_file *f, const char *path, mode_t mode)
{
	f->fd = -1;
	f->mode = mode;
	f->path = path;
	if (snprintf(f->tmp, sizeof(f->tmp), "%s.tmp-%d", path, (int)getpid()) >= (int)sizeof(f->tmp))
		return -ENAMETOOLONG;
	f->fd = open(f->tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, mode);
	return f->fd < 0 ? -errno : 0;
}

int atomic_file_write(void *file, const void *data, size_t len)
{
	struct atomic_file *f = file;

	return write_all(f->fd, data, len);
}

int atomic_file_pwrite(struct atomic_file *f, const void *data, size_t len, off_t off)
{
	const char *p = data;

	while (len > 0) {
		ssize_t n = pwrite(f->fd, p, len, off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			return -EIO;
		p += n;
		off += n;
		len -= (size_t)n;
	}
	return 0;
}

void atomic_file_abort(struct atomic_file *f)
{
	if (f->fd < 0)
		return;
	close(f->fd);
	f->fd = -1;
	unlink(f->tmp);
}

int atomic_file_commit(struct atomic_file *f, bool sync)
{
	int r = 0;

	if (f->fd < 0)
		return -EBADF;
	if (fchmod(f->fd, f->mode) < 0)     /* whatever the umask */
		r = -errno;
	if (r == 0 && sync && fdatasync(f->fd) < 0)
		r = -errno;
	if (close(f->fd) < 0 && r == 0)
		r = -errno;
	f->fd = -1;
	if (r == 0 && rename(f->tmp, f->path) < 0)
		r = -errno;
	if (r < 0)
		unlink(f->tmp);
	return r;
}

int write_file_atomic(const char *path, const void *data, size_t len, mode_t mode, bool sync)
{
	struct atomic_file f;
	int r = atomic_file_open(&f, path, mode);

	if (r < 0)
		return r;
	r = write_all(f.fd, data, len);
	if (r < 0) {
		atomic_file_abort(&f);
		return r;
	}
	return atomic_file_commit(&f, sync);
}

/* read(2) into buf until it is full or the file ends: the bytes read, or
 * -errno.  The one read loop of every file reader below. */
static ssize_t read_upto(int fd, char *buf, size_t size)
{
	size_t got = 0;

	while (got < size) {
		ssize_t n = read(fd, buf + got, size - got);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			break;
		got += (size_t)n;
	}
	return (ssize_t)got;
}

static int open_for_reading(int dirfd, const char *path, unsigned flags)
{
	struct stat st;
	int fd = openat(dirfd, path, O_RDONLY | O_CLOEXEC | O_NOCTTY);

	if (fd < 0)
		return -errno;
	if (flags & FILE_REGULAR) {
		int r = fstat(fd, &st) < 0 ? -errno : S_ISREG(st.st_mode) ? 0 : -EINVAL;

		if (r < 0) {
			close(fd);
			return r;
		}
	}
	return fd;
}

int file_read(int dirfd, const char *path, size_t max, unsigned flags, char **data, size_t *len)
{
	size_t cap = 0, got = 0;
	char *buf = NULL;
	int fd, r = 0;

	*data = NULL;
	*len = 0;
	fd = open_for_reading(dirfd, path, flags);
	if (fd < 0)
		return fd;
	for (;;) {
		ssize_t n;
		char *p;

		if (got == cap) {
			if (cap >= max + 1) {           /* a byte past max was read */
				if (!(flags & FILE_CUT)) {
					r = -EFBIG;
					goto out;
				}
				got = max;
				break;
			}
			cap = cap ? cap * 2 : 8192;
			if (cap > max + 1)
				cap = max + 1;
			p = realloc(buf, cap + 1);
			if (!p) {
				r = -ENOMEM;
				goto out;
			}
			buf = p;
		}
		n = read_upto(fd, buf + got, cap - got);
		if (n < 0) {
			r = (int)n;
			goto out;
		}
		got += (size_t)n;
		if (got < cap)
			break;                          /* the end of the file */
	}
	buf[got] = '\0';
	*data = buf;
	*len = got;
	buf = NULL;
out:
	free(buf);
	close(fd);
	return r;
}

ssize_t file_read_into(int dirfd, const char *path, char *buf, size_t size)
{
	int fd = open_for_reading(dirfd, path, 0);
	ssize_t n;

	if (fd < 0)
		return fd;
	n = read_upto(fd, buf, size - 1);
	close(fd);
	if (n >= 0)
		buf[n] = '\0';
	return n;
}

int mkdir_p(const char *path, mode_t mode)
{
	char tmp[PATH_MAX];

	if (snprintf(tmp, sizeof(tmp), "%s", path) >= (int)sizeof(tmp))
		return -ENAMETOOLONG;
	for (char *p = tmp + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(tmp, mode) < 0 && errno != EEXIST)
			return -errno;
		*p = '/';
	}
	if (mkdir(tmp, mode) < 0 && errno != EEXIST)
		return -errno;
	return 0;
}
