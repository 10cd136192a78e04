/* The file helpers (see files.h for why one reader and why replace whole).
 *
 * Replacement: the temporary file is "PATH.tmp-" and 16 hex digits from
 * getrandom(2), in PATH's directory so that the rename stays within one
 * filesystem and is atomic.  That directory may be another user's (the
 * textfile goes to node_exporter's), so the name must not be foreseeable
 * (the pid was: a FIFO planted at "PATH.tmp-PID" blocked the daemon in
 * open(2) for good, a file planted there was truncated and written), and
 * it is created O_CREAT|O_EXCL (nothing already there is opened, symlink
 * or FIFO; EEXIST draws another name, 8 times at most) and O_NONBLOCK.
 * fchmod'ed at the commit, so the file has exactly the mode asked
 * whatever the umask.  fdatasync only on request: neither the textfile
 * nor the state file asks (the state is of use within one boot,
 * daemon/persist.c).  A daemon killed between the open and the rename
 * leaves its temporary file; node_exporter reads only *.prom.
 *
 * The safe open (file_open_regular): O_NONBLOCK, so that a FIFO's open
 * returns at once (a read then says EOF or EAGAIN, never waits: but the
 * type check refuses it before any read), O_NOFOLLOW, O_NOCTTY, and the
 * type from fstat of the fd opened, not a stat of the path before (which
 * a rename in between would make a lie).
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
#include <sys/random.h>
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

#define TMP_TRIES 8

/* Never blocks, not even early in boot (Linux 5.6); the name must be
 * unforeseeable to a local user, it is no key.  glibc 2.36 lacks it. */
#ifndef GRND_INSECURE
#define GRND_INSECURE 0x0004
#endif

int atomic_file_open(struct atomic_file *f, const char *path, mode_t mode)
{
	f->fd = -1;
	f->mode = mode;
	f->path = path;
	for (int i = 0; i < TMP_TRIES; i++) {
		unsigned long long salt;

		if (getrandom(&salt, sizeof(salt), GRND_INSECURE) != (ssize_t)sizeof(salt))
			return errno ? -errno : -EIO;
		if (snprintf(f->tmp, sizeof(f->tmp), "%s.tmp-%016llx", path, salt) >= (int)sizeof(f->tmp))
			return -ENAMETOOLONG;
		f->fd = open(f->tmp, O_WRONLY | O_CREAT | O_EXCL | O_NONBLOCK | O_NOFOLLOW | O_NOCTTY | O_CLOEXEC,
			     mode);
		if (f->fd >= 0)
			return 0;
		if (errno != EEXIST)
			return -errno;
	}
	return -EEXIST;
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

int file_open_regular(int dirfd, const char *path, struct stat *st)
{
	int fd = openat(dirfd, path, O_RDONLY | O_NONBLOCK | O_NOFOLLOW | O_NOCTTY | O_CLOEXEC);
	int r;

	memset(st, 0, sizeof(*st));
	if (fd < 0) {
		r = -errno;
		/* what is there, for the message: a symlink (not followed) */
		if (r == -ELOOP && fstatat(dirfd, path, st, AT_SYMLINK_NOFOLLOW) < 0)
			memset(st, 0, sizeof(*st));
		return r;
	}
	r = fstat(fd, st) < 0 ? -errno : S_ISREG(st->st_mode) ? 0 : -EINVAL;
	if (r < 0) {
		close(fd);
		return r;
	}
	return fd;
}

const char *file_type_name(mode_t mode)
{
	switch (mode & S_IFMT) {
	case S_IFREG:  return "a regular file";
	case S_IFDIR:  return "a directory";
	case S_IFLNK:  return "a symbolic link";
	case S_IFIFO:  return "a FIFO";
	case S_IFSOCK: return "a socket";
	case S_IFCHR:  return "a character device";
	case S_IFBLK:  return "a block device";
	default:       return "nothing";
	}
}

static bool mine(const struct stat *st)
{
	return st->st_uid == geteuid() && !(st->st_mode & (S_IWGRP | S_IWOTH));
}

int file_check_mine(const char *path, struct stat *st)
{
	if (lstat(path, st) < 0) {
		memset(st, 0, sizeof(*st));
		return -errno;
	}
	if (!S_ISREG(st->st_mode))
		return -EINVAL;
	return mine(st) ? 0 : -EPERM;
}

static int open_for_reading(int dirfd, const char *path, unsigned flags)
{
	struct stat st;
	int fd;

	if (!(flags & (FILE_REGULAR | FILE_MINE))) {
		fd = openat(dirfd, path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
		return fd < 0 ? -errno : fd;
	}
	fd = file_open_regular(dirfd, path, &st);
	if (fd >= 0 && (flags & FILE_MINE) && !mine(&st)) {
		close(fd);
		return -EPERM;
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

ssize_t file_read_fd(int fd, char *buf, size_t size)
{
	ssize_t n = read_upto(fd, buf, size - 1);

	if (n >= 0)
		buf[n] = '\0';
	return n;
}

ssize_t file_read_into(int dirfd, const char *path, char *buf, size_t size)
{
	int fd = open_for_reading(dirfd, path, 0);
	ssize_t n;

	if (fd < 0)
		return fd;
	n = file_read_fd(fd, buf, size);
	close(fd);
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
