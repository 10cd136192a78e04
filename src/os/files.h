/* Files replaced whole, so a reader (node_exporter, the next start of the
 * daemon) sees the old content or the new one, never half of either. */
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

/* Read a whole file of at most max bytes into a malloc'd buffer.
 * -EFBIG when larger. */
int read_file_all(const char *path, size_t max, char **data, size_t *len);

/* write(2) until all of data is written (or an error).  0 or -errno. */
int write_all(int fd, const void *data, size_t len);

/* The directory name under parent (a dirfd), opened for readdir without
 * following a symlink.  NULL with errno set. */
DIR *opendir_at(int parent, const char *name);

/* mkdir PATH and its missing parents with mode.  0 or -errno. */
int mkdir_p(const char *path, mode_t mode);

#endif
