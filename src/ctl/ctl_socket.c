/* The control socket's client (see ctl_socket.h).  Why the reply is read
 * until the daemon closes, with a timeout per read: the daemon writes the
 * whole answer and closes (it never waits for a client), so a stalled
 * read means a stalled daemon, told after REPLY_TIMEOUT_MS rather than
 * waited for.  Why apart from leakwatchctl.c: every command asks through
 * it, and the commands' own files (ctl_plot.c) ask too. */
#include "ctl/ctl_socket.h"

#include <errno.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "os/paths.h"

/* Connect to the daemon's control socket: the socket, or -1 after telling
 * why on stderr. */
static int connect_daemon(void)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	char dir[sizeof(sa.sun_path)];
	int fd, r;

	if (runtime_dir(dir, sizeof(dir)) < 0 ||
	    snprintf(sa.sun_path, sizeof(sa.sun_path), "%s/%s", dir, CONTROL_SOCKET) >= (int)sizeof(sa.sun_path)) {
		fprintf(stderr, "leakwatchctl: the runtime directory's path is too long\n");
		return -1;
	}
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		fprintf(stderr, "leakwatchctl: socket: %s\n", strerror(errno));
		return -1;
	}
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		r = errno;
		if (r == ENOENT || r == ECONNREFUSED || r == ENOTDIR)
			fprintf(stderr, "leakwatchctl: leakwatchd is not running (nothing listens on %s)\n", sa.sun_path);
		else if (r == EACCES || r == EPERM)
			fprintf(stderr, "leakwatchctl: permission denied on %s: ask as root (or as leakwatchd's user)\n",
				sa.sun_path);
		else
			fprintf(stderr, "leakwatchctl: cannot reach leakwatchd at %s: %s\n", sa.sun_path, strerror(r));
		close(fd);
		return -1;
	}
	return fd;
}

/* A reply as it is read: its status line first, then the answer. */
struct reply {
	bool header;               /* still in the status line */
	char line[512];            /* the status line, cut there */
	size_t line_len;
	size_t got;                /* bytes read in all */
	int status;                /* the exit status so far */
};

/* Take the status line's bytes from chunk[*off..n), and judge it once it
 * is whole: "OK", or "ERR MESSAGE" (told on stderr). */
static void take_status_line(struct reply *rp, const char *chunk, size_t n, size_t *off)
{
	while (rp->header && *off < n) {
		char ch = chunk[(*off)++];

		if (ch == '\n') {
			rp->line[rp->line_len] = '\0';
			rp->header = false;
			if (strncmp(rp->line, "ERR ", 4) == 0) {
				fprintf(stderr, "leakwatchctl: %s\n", rp->line + 4);
				rp->status = EXIT_FAIL;
			} else if (strcmp(rp->line, "OK") != 0) {
				fprintf(stderr, "leakwatchctl: unexpected answer: %s\n", rp->line);
				rp->status = EXIT_FAIL;
			}
		} else if (rp->line_len < sizeof(rp->line) - 1) {
			rp->line[rp->line_len++] = ch;
		}
	}
}

/* Read the reply until the daemon closes, the answer copied to stdout.
 * The exit status: 0, or EXIT_FAIL after telling why on stderr. */
static int read_reply(int fd, char *chunk, size_t size, FILE *out)
{
	struct reply rp = { .header = true };

	for (;;) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		ssize_t n;
		size_t off = 0;
		int r = poll(&p, 1, REPLY_TIMEOUT_MS);

		if (r == 0) {
			fprintf(stderr, "leakwatchctl: leakwatchd did not answer within %d s\n", REPLY_TIMEOUT_MS / 1000);
			rp.status = EXIT_FAIL;
			break;
		}
		n = r < 0 ? -1 : read(fd, chunk, size);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			fprintf(stderr, "leakwatchctl: reading the answer: %s\n", strerror(errno));
			rp.status = EXIT_FAIL;
			break;
		}
		if (n == 0)
			break;
		rp.got += (size_t)n;
		take_status_line(&rp, chunk, (size_t)n, &off);
		if (!rp.header && rp.status == 0 &&
		    fwrite(chunk + off, 1, (size_t)n - off, out) != (size_t)n - off) {
			rp.status = EXIT_FAIL;
			break;
		}
	}
	if (rp.header && rp.status == 0) {
		fprintf(stderr, "leakwatchctl: leakwatchd closed the connection without an answer%s\n",
			rp.got ? " (truncated)" : "");
		rp.status = EXIT_FAIL;
	}
	return rp.status;
}

int ask_to(const char *request, FILE *out)
{
	char chunk[65536];
	int fd, status;

	fd = connect_daemon();
	if (fd < 0)
		return EXIT_FAIL;
	snprintf(chunk, sizeof(chunk), "%s\n", request);
	/* EPIPE: the daemon closed already, its reason is there to read */
	if (send(fd, chunk, strlen(chunk), MSG_NOSIGNAL) < 0 && errno != EPIPE && errno != ECONNRESET) {
		fprintf(stderr, "leakwatchctl: cannot send to leakwatchd: %s\n", strerror(errno));
		close(fd);
		return EXIT_FAIL;
	}
	status = read_reply(fd, chunk, sizeof(chunk), out);
	close(fd);
	if (fflush(out) != 0) {
		fprintf(stderr, "leakwatchctl: writing the answer: %s\n", strerror(errno));
		status = EXIT_FAIL;
	}
	return status;
}

int ask(const char *request)
{
	return ask_to(request, stdout);
}

int ask_text(const char *request, char **text)
{
	size_t len = 0;
	FILE *f = open_memstream(text, &len);
	int status;

	if (!f) {
		fprintf(stderr, "leakwatchctl: %s\n", strerror(errno));
		return EXIT_FAIL;
	}
	status = ask_to(request, f);
	fclose(f);
	return status;
}
