/* Files read and written whole: the program's one file reader, and files
 * replaced atomically.
 *
 * Replacement (write_file_atomic, struct atomic_file): a file others read
 * (the textfile node_exporter collects, the state file the next start
 * reads) is written to a temporary file beside it and renamed over it, so a
 * reader sees the old content or the new, never half of either, and a
 * daemon killed midway leaves the old file in place.
 *
 * Reading (file_read, file_read_into): one reader with one read loop,
 * because /proc files report no size and may come in several short reads,
 * so every hand-written loop is a chance to act on half a file.  file_read
 * allocates up to a cap the caller gives, so no input grows it without
 * bound; file_read_into serves the per-tick /proc reads into the caller's
 * buffer without allocating.
 *
 * And the small helpers of the writers and the capture: write_all (EINTR
 * and short writes), opendir_at (a directory under a dirfd, symlinks not
 * followed) and mkdir_p. */
#ifndef LEAKWATCH_FSUTIL_H
#define LEAKWATCH_FSUTIL_H

#include <dirent.h>
#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

/* Write data to "PATH.tmp-PID", optionally fdatasync it, then rename it
 * over PATH.  0 or -errno (the temporary file is removed on failure). */
int write_file_atomic(const char *path, const void *data, size_t len, mode_t mode, bool sync);

/* The same in steps, for a file written piece by piece: open the
 * temporary file, write to it (also at an offset), then commit (renamed
 * over PATH) or abort (removed).  PATH itself is untouched until the
 * commit succeeds. */
struct atomic_file {
	int fd;
	mode_t mode;
	const char *path;          /* the caller's, kept until commit or abort */
	char tmp[PATH_MAX];
};

int atomic_file_open(struct atomic_file *f, const char *path, mode_t mode);
/* Append: f as a void * (a writer callback).  0 or -errno. */
int atomic_file_write(void *f, const void *data, size_t len);
int atomic_file_pwrite(struct atomic_file *f, const void *data, size_t len, off_t off);
/* fchmod to the mode (whatever the umask), fdatasync when sync, close,
 * rename.  0 or -errno; on failure the temporary file is removed. */
int atomic_file_commit(struct atomic_file *f, bool sync);
void atomic_file_abort(struct atomic_file *f);

/* The one file reader.  path is relative to dirfd (AT_FDCWD, a /proc
 * root, a kept /proc/PID directory) unless absolute.
 *
 * file_read: the whole file, NUL-terminated, in a malloc'd buffer (its
 * length in *len, the NUL not counted).  0 or -errno: -EFBIG when it holds
 * more than max bytes, unless FILE_CUT (then its first max bytes);
 * -EINVAL when FILE_REGULAR and it is not a regular file. */
#define FILE_REGULAR 0x1u
#define FILE_CUT     0x2u
int file_read(int dirfd, const char *path, size_t max, unsigned flags, char **data, size_t *len);

/* A small file (/proc/PID/stat, status, cgroup) into buf, cut at size - 1
 * bytes and NUL-terminated: the length read, or -errno. */
ssize_t file_read_into(int dirfd, const char *path, char *buf, size_t size);

/* write(2) until all of data is written (or an error).  0 or -errno. */
int write_all(int fd, const void *data, size_t len);

/* The directory name under parent (a dirfd), opened for readdir without
 * following a symlink.  NULL with errno set. */
DIR *opendir_at(int parent, const char *name);

/* mkdir PATH and its missing parents with mode.  0 or -errno. */
int mkdir_p(const char *path, mode_t mode);

#endif
