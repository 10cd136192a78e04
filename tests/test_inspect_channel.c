/* The inspection's report channel: the FIFOs made as they should be
 * (modes, names), a writer of another user reaching the read end, a
 * whole report read back, everything removed after; a process seeing the
 * same files, and one in another mount namespace refused. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check.h"
#include "os/inspect_channel.h"

#define TOK "0123456789abcdef0123456789abcdef"

static char runtime[] = "/tmp/lw-channel.XXXXXX";

static void test_open_close(void)
{
	struct inspect_channel ch;
	char dir[PATH_MAX];
	struct stat st;

	CHECK(inspect_channel_open(&ch, runtime, 4242, TOK) == 0);
	snprintf(dir, sizeof(dir), "%s/inspect", runtime);
	CHECK(lstat(dir, &st) == 0 && S_ISDIR(st.st_mode) && (st.st_mode & 07777) == 0711);
	for (int i = 0; i < 2; i++) {
		char want[PATH_MAX + 64];

		snprintf(want, sizeof(want), "%s/4242-%s.%d", dir, TOK, i + 1);
		CHECK_STR(ch.path[i], want);
		CHECK(lstat(ch.path[i], &st) == 0 && S_ISFIFO(st.st_mode) && (st.st_mode & 07777) == 0622);
		CHECK(st.st_uid == geteuid());
		CHECK(ch.fd[i] >= 0 && (fcntl(ch.fd[i], F_GETFL) & O_NONBLOCK));
		CHECK(fcntl(ch.fd[i], F_GETFD) & FD_CLOEXEC);
		CHECK(fcntl(ch.fd[i], F_GETPIPE_SZ) >= (int)INSPECT_PIPE_SIZE);
	}
	/* the same names again: refused, the first ones left alone */
	{
		struct inspect_channel again;

		CHECK(inspect_channel_open(&again, runtime, 4242, TOK) == -EEXIST);
		CHECK(access(ch.path[0], F_OK) == 0);
	}
	inspect_channel_done(&ch, 1);
	CHECK(ch.fd[0] == -1 && ch.path[0][0] == '\0');
	CHECK(ch.fd[1] >= 0);
	inspect_channel_close(&ch);
	inspect_channel_close(&ch);   /* twice: harmless */
	snprintf(dir, sizeof(dir), "%s/inspect/4242-%s.2", runtime, TOK);
	CHECK(access(dir, F_OK) < 0 && errno == ENOENT);
}

/* A writer as nobody opens the FIFO and writes a report bigger than a
 * default pipe without blocking; the reader gets all of it. */
static void test_other_user_writes(void)
{
	struct inspect_channel ch;
	static char report[200 * 1024], got[sizeof(report) + 1];
	size_t have = 0;
	pid_t c;
	int status = 0;

	if (geteuid() != 0) {
		printf("skip: test_other_user_writes needs root\n");
		return;
	}
	memset(report, 'x', sizeof(report));
	CHECK(inspect_channel_open(&ch, runtime, 77, TOK) == 0);
	c = fork();
	if (c == 0) {
		int fd;

		if (setgid(65534) < 0 || setuid(65534) < 0)
			_exit(10);
		fd = open(ch.path[0], O_WRONLY | O_NONBLOCK | O_CLOEXEC);
		if (fd < 0)
			_exit(11);
		if (write(fd, report, sizeof(report)) != (ssize_t)sizeof(report))
			_exit(12);
		close(fd);
		/* the read end of the other phase is not readable by nobody */
		_exit(open(ch.path[1], O_RDONLY | O_NONBLOCK) < 0 && errno == EACCES ? 0 : 13);
	}
	CHECK(waitpid(c, &status, 0) == c);
	CHECK_MSG(WIFEXITED(status) && WEXITSTATUS(status) == 0, "writer status %d", status);
	for (;;) {
		ssize_t n = read(ch.fd[0], got + have, sizeof(got) - have);

		if (n <= 0)
			break;
		have += (size_t)n;
	}
	CHECK_MSG(have == sizeof(report), "read %zu of %zu", have, sizeof(report));
	inspect_channel_close(&ch);
}

static void test_seen(void)
{
	struct inspect_channel ch;
	int self = open("/proc/self", O_RDONLY | O_DIRECTORY | O_CLOEXEC), other;
	char path[64];
	pid_t c;
	int p[2];

	CHECK(inspect_channel_open(&ch, runtime, 5, TOK) == 0);
	CHECK(inspect_channel_seen(self, ch.path[0]) == 0);
	CHECK(inspect_channel_seen(self, "/nonexistent/x") == -ENOENT);
	CHECK(inspect_channel_seen(self, "relative") == -EINVAL);
	if (geteuid() != 0 || access("/usr/bin/unshare", X_OK) != 0) {
		printf("skip: another mount namespace needs root and unshare(1)\n");
		goto out;
	}
	/* a process whose view of the runtime directory is a fresh tmpfs */
	CHECK(pipe(p) == 0);
	c = fork();
	if (c == 0) {
		char cmd[PATH_MAX + 64];

		dup2(p[1], 1);
		snprintf(cmd, sizeof(cmd), "mount -t tmpfs none %s && echo ready && exec sleep 30", runtime);
		execl("/usr/bin/unshare", "unshare", "-m", "--propagation", "private", "sh", "-c", cmd, (char *)NULL);
		_exit(127);
	}
	close(p[1]);
	{
		char buf[8] = "";

		CHECK(read(p[0], buf, 6) == 6 && strncmp(buf, "ready", 5) == 0);
	}
	close(p[0]);
	snprintf(path, sizeof(path), "/proc/%d", (int)c);
	other = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	CHECK(other >= 0);
	CHECK(inspect_channel_seen(other, ch.path[0]) == -EXDEV);
	close(other);
	kill(c, SIGKILL);
	waitpid(c, NULL, 0);
out:
	inspect_channel_close(&ch);
	close(self);
}

int main(void)
{
	char dir[PATH_MAX];

	if (!mkdtemp(runtime)) {
		perror("mkdtemp");
		return 1;
	}
	chmod(runtime, 0755);
	RUN(test_open_close);
	RUN(test_other_user_writes);
	RUN(test_seen);
	snprintf(dir, sizeof(dir), "%s/inspect", runtime);
	rmdir(dir);
	rmdir(runtime);
	return check_done("test_inspect_channel");
}
