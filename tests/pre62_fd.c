/* An LD_PRELOAD shim for tests/perm_test.py: /proc as before Linux 6.2,
 * where the st_size of /proc/PID/fd is 0, not the number of open fds.
 * leakwatchd then counts a process's fds by listing that directory, which
 * is closed to an unprivileged reader for another user's process: what a
 * daemon run as nobody meets on Debian 12's own kernel (6.1).  Nothing
 * else changes: every other stat, and every other read, is the kernel's. */
#include <dlfcn.h>
#include <string.h>
#include <sys/stat.h>

typedef int (*fstatat_fn)(int, const char *, struct stat *, int);

static int is_fd_dir(const char *path)
{
	size_t n = strlen(path);

	return n >= 2 && strcmp(path + n - 2, "fd") == 0 && (n == 2 || path[n - 3] == '/');
}

/* leakwatchd's one way to the count (glibc >= 2.33 exports fstatat) */
int fstatat(int dirfd, const char *path, struct stat *st, int flags)
{
	static fstatat_fn real;
	int r;

	if (!real)
		real = (fstatat_fn)dlsym(RTLD_NEXT, "fstatat");
	if (!real)
		return -1;
	r = real(dirfd, path, st, flags);
	if (r == 0 && is_fd_dir(path) && S_ISDIR(st->st_mode))
		st->st_size = 0;
	return r;
}
