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
 * Opening what others may have placed (file_open_regular): one place
 * that opens such a path without blocking on a FIFO or following a
 * symlink, and checks that it is a regular file; os/safe_path.h walks the
 * directories up to it for a file whose writers matter (a pidfile).
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
#include <sys/stat.h>
#include <sys/types.h>

/* Write data to a new temporary file beside PATH ("PATH.tmp-" and 16
 * random hex digits), optionally fdatasync it, then rename it over PATH.
 * 0 or -errno (the temporary file is removed on failure). */
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

/* Create the temporary file (O_EXCL, under a name no one can foresee;
 * another name is drawn when one is taken).  0 or -errno. */
int atomic_file_open(struct atomic_file *f, const char *path, mode_t mode);
/* Append: f as a void * (a writer callback).  0 or -errno. */
int atomic_file_write(void *f, const void *data, size_t len);
int atomic_file_pwrite(struct atomic_file *f, const void *data, size_t len, off_t off);
/* fchmod to the mode (whatever the umask), fdatasync when sync, close,
 * rename.  0 or -errno; on failure the temporary file is removed. */
int atomic_file_commit(struct atomic_file *f, bool sync);
void atomic_file_abort(struct atomic_file *f);

/* The safe open, for every file a user other than root may have placed
 * or named (a pidfile, the saved history): path opened for reading
 * O_NONBLOCK (a FIFO does not block the open, a device is not waited
 * for), O_NOFOLLOW (a symlink at the last component is not followed),
 * O_NOCTTY and O_CLOEXEC, then fstat'ed: the fd of a regular file, or
 * -errno: -ELOOP when the last component is a symlink, -EINVAL when it is
 * something else than a regular file (FIFO, directory, device, socket).
 * *st is what was found there (st_mode 0 when nothing was), so that the
 * caller can say what it is (file_type_name). */
int file_open_regular(int dirfd, const char *path, struct stat *st);

/* Whether what is at path (a symlink not followed) is a regular file of
 * the effective uid that group and others may not write, as a file the
 * daemon reads back and replaces must be: 0 when it is; -ENOENT when
 * nothing is there; -EINVAL when it is no regular file, -EPERM when it is
 * another's or others may write it (*st tells which); or -errno. */
int file_check_mine(const char *path, struct stat *st);

/* "a FIFO", "a directory", "a symbolic link"... for the messages. */
const char *file_type_name(mode_t mode);

/* The one file reader.  path is relative to dirfd (AT_FDCWD, a /proc
 * root, a kept /proc/PID directory) unless absolute.
 *
 * file_read: the whole file, NUL-terminated, in a malloc'd buffer (its
 * length in *len, the NUL not counted).  0 or -errno: -EFBIG when it holds
 * more than max bytes, unless FILE_CUT (then its first max bytes).  With
 * FILE_REGULAR it is opened by file_open_regular (-ELOOP, -EINVAL as
 * there); FILE_MINE adds that it must be owned by the effective uid and
 * not writable by group or others (-EPERM otherwise).  Without them the
 * path is opened as given (the configuration, /proc). */
#define FILE_REGULAR 0x1u
#define FILE_CUT     0x2u
#define FILE_MINE    0x4u
int file_read(int dirfd, const char *path, size_t max, unsigned flags, char **data, size_t *len);

/* A small file (/proc/PID/stat, status, cgroup) into buf, cut at size - 1
 * bytes and NUL-terminated: the length read, or -errno. */
ssize_t file_read_into(int dirfd, const char *path, char *buf, size_t size);

/* The same from an open fd (one file_open_regular gave), from its
 * current offset; fd stays open. */
ssize_t file_read_fd(int fd, char *buf, size_t size);

/* write(2) until all of data is written (or an error).  0 or -errno. */
int write_all(int fd, const void *data, size_t len);

/* The directory name under parent (a dirfd), opened for readdir without
 * following a symlink.  NULL with errno set. */
DIR *opendir_at(int parent, const char *name);

/* mkdir PATH and its missing parents with mode.  0 or -errno. */
int mkdir_p(const char *path, mode_t mode);

#endif
