/* The inspection's report channel (inspect_channel.h says what).
 *
 * Why FIFOs the daemon creates: the process writes as its own user, and
 * the daemon has neither CAP_CHOWN nor CAP_DAC_OVERRIDE to make a file
 * of that user's or to read one; a FIFO of root's, mode 0622, with its
 * read end opened by the daemon first, is written by the process and read
 * by the daemon without either.  A regular file the process writes could
 * be swapped for a symlink or grown without bound; a FIFO's reader reads
 * what it wants and no more, and a FIFO never becomes anything else under
 * the open read end.  Other users could write into it too if they knew
 * its name: the directory is not listable and the name holds the
 * inspection's 128-bit random token, which the report must also repeat.
 * Why the pipe is enlarged: the script writes its report in one write
 * without blocking (it holds the GIL); 1 MiB is the default
 * pipe-max-size, more than the 256 KiB a report may be.
 *
 * Costs: two mkfifo, two opens, a few stats of the process's root. */
#include "os/inspect_channel.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

void inspect_channel_none(struct inspect_channel *ch)
{
	memset(ch, 0, sizeof(*ch));
	ch->fd[0] = ch->fd[1] = -1;
}

void inspect_channel_done(struct inspect_channel *ch, int phase)
{
	int i = phase - 1;

	if (i < 0 || i > 1)
		return;
	if (ch->fd[i] >= 0)
		close(ch->fd[i]);
	ch->fd[i] = -1;
	if (ch->path[i][0])
		unlink(ch->path[i]);
	ch->path[i][0] = '\0';
}

void inspect_channel_close(struct inspect_channel *ch)
{
	inspect_channel_done(ch, 1);
	inspect_channel_done(ch, 2);
}

/* The directory, made or found, root's and 0711. */
static int channel_dir(const char *dir)
{
	struct stat st;

	if (mkdir(dir, 0711) < 0 && errno != EEXIST)
		return -errno;
	if (lstat(dir, &st) < 0)
		return -errno;
	if (!S_ISDIR(st.st_mode) || st.st_uid != geteuid())
		return -ENOTDIR;
	if ((st.st_mode & 07777) != 0711 && chmod(dir, 0711) < 0)
		return -errno;
	return 0;
}

static int open_fifo(const char *path, int *fd)
{
	struct stat st;

	if (mkfifo(path, 0600) < 0)
		return -errno;
	*fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOFOLLOW);
	if (*fd < 0)
		return -errno;
	if (fstat(*fd, &st) < 0)
		return -errno;
	if (!S_ISFIFO(st.st_mode))
		return -EINVAL;
	/* mkfifo's mode goes through the umask (0077 under systemd) */
	if (fchmod(*fd, 0622) < 0)
		return -errno;
	fcntl(*fd, F_SETPIPE_SZ, (int)INSPECT_PIPE_SIZE);   /* best effort: a report is small */
	return 0;
}

int inspect_channel_open(struct inspect_channel *ch, const char *runtime_dir, pid_t pid, const char *token)
{
	char dir[PATH_MAX];
	int r;

	inspect_channel_none(ch);
	if (snprintf(dir, sizeof(dir), "%s/%s", runtime_dir, INSPECT_SUBDIR) >= (int)sizeof(dir))
		return -ENAMETOOLONG;
	if ((r = channel_dir(dir)))
		return r;
	for (int i = 0; i < 2; i++) {
		if (snprintf(ch->path[i], sizeof(ch->path[i]), "%s/%d-%s.%d", dir, (int)pid, token, i + 1) >=
		    (int)sizeof(ch->path[i])) {
			ch->path[i][0] = '\0';
			r = -ENAMETOOLONG;
			goto fail;
		}
		if ((r = open_fifo(ch->path[i], &ch->fd[i]))) {
			if (r == -EEXIST)
				ch->path[i][0] = '\0';   /* not ours: leave it */
			goto fail;
		}
	}
	return 0;
fail:
	inspect_channel_close(ch);
	return r;
}

int inspect_channel_seen(int procfd, const char *path)
{
	char in_root[PATH_MAX + 8];
	struct stat ours, theirs;

	if (path[0] != '/')
		return -EINVAL;
	if (stat(path, &ours) < 0)
		return -errno;
	if (snprintf(in_root, sizeof(in_root), "root%s", path) >= (int)sizeof(in_root))
		return -ENAMETOOLONG;
	if (fstatat(procfd, in_root, &theirs, AT_SYMLINK_NOFOLLOW) < 0)
		return errno == ENOENT || errno == ENOTDIR ? -EXDEV : -errno;
	if (ours.st_dev != theirs.st_dev || ours.st_ino != theirs.st_ino)
		return -EXDEV;
	return 0;
}
