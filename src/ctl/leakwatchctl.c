/* leakwatchctl: ask the running leakwatchd what it sees (status, the
 * history of one process) through its control socket, or check a
 * configuration file.  The daemon renders the answers (report.c): this
 * client sends one request line and copies the reply to stdout. */
#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "os/config_file.h"
#include "os/paths.h"

enum { EXIT_FAIL = 1, EXIT_USAGE = 2 };

#define REPLY_TIMEOUT_MS 15000

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: leakwatchctl status [--json]\n"
		"       leakwatchctl history PID [--json]\n"
		"       leakwatchctl check-config [FILE]\n"
		"\n"
		"Show what the running leakwatchd sees, or check a configuration.\n"
		"\n"
		"  status [--json]       every watched process: watch, pid, comm, each metric's\n"
		"                        value, trend per hour, time to limit and verdict\n"
		"  history PID [--json]  the samples the daemon holds for one process\n"
		"  check-config [FILE]   check FILE (default " DEFAULT_CONFIG "),\n"
		"                        as leakwatchd -t does\n"
		"  -h, --help            show this help and exit\n"
		"  -V, --version         show the version and exit\n"
		"\n"
		"The daemon's socket is " CONTROL_SOCKET " in $RUNTIME_DIRECTORY, or in "
		DEFAULT_RUNTIME_DIR ".\n");
}

/* Send one request; the reply's first line is "OK" or "ERR MESSAGE". */
static int ask(const char *request)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	char dir[sizeof(sa.sun_path)];
	char chunk[65536];
	size_t got = 0;
	bool header = true;
	int fd, r, status = 0;
	char line[512];
	size_t line_len = 0;

	if (runtime_dir(dir, sizeof(dir)) < 0 ||
	    snprintf(sa.sun_path, sizeof(sa.sun_path), "%s/%s", dir, CONTROL_SOCKET) >= (int)sizeof(sa.sun_path)) {
		fprintf(stderr, "leakwatchctl: the runtime directory's path is too long\n");
		return EXIT_FAIL;
	}
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		fprintf(stderr, "leakwatchctl: socket: %s\n", strerror(errno));
		return EXIT_FAIL;
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
		return EXIT_FAIL;
	}
	snprintf(chunk, sizeof(chunk), "%s\n", request);
	/* EPIPE: the daemon closed already, its reason is there to read */
	if (send(fd, chunk, strlen(chunk), MSG_NOSIGNAL) < 0 && errno != EPIPE && errno != ECONNRESET) {
		fprintf(stderr, "leakwatchctl: cannot send to leakwatchd: %s\n", strerror(errno));
		close(fd);
		return EXIT_FAIL;
	}
	for (;;) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		ssize_t n;
		size_t off = 0;

		r = poll(&p, 1, REPLY_TIMEOUT_MS);
		if (r == 0) {
			fprintf(stderr, "leakwatchctl: leakwatchd did not answer within %d s\n", REPLY_TIMEOUT_MS / 1000);
			status = EXIT_FAIL;
			break;
		}
		n = r < 0 ? -1 : read(fd, chunk, sizeof(chunk));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			fprintf(stderr, "leakwatchctl: reading the answer: %s\n", strerror(errno));
			status = EXIT_FAIL;
			break;
		}
		if (n == 0)
			break;
		got += (size_t)n;
		while (header && off < (size_t)n) {     /* the status line */
			char ch = chunk[off++];

			if (ch == '\n') {
				line[line_len] = '\0';
				header = false;
				if (strncmp(line, "ERR ", 4) == 0) {
					fprintf(stderr, "leakwatchctl: %s\n", line + 4);
					status = EXIT_FAIL;
				} else if (strcmp(line, "OK") != 0) {
					fprintf(stderr, "leakwatchctl: unexpected answer: %s\n", line);
					status = EXIT_FAIL;
				}
			} else if (line_len < sizeof(line) - 1) {
				line[line_len++] = ch;
			}
		}
		if (!header && status == 0 && fwrite(chunk + off, 1, (size_t)n - off, stdout) != (size_t)n - off) {
			status = EXIT_FAIL;
			break;
		}
	}
	close(fd);
	if (header && status == 0) {
		fprintf(stderr, "leakwatchctl: leakwatchd closed the connection without an answer%s\n",
			got ? " (truncated)" : "");
		status = EXIT_FAIL;
	}
	if (fflush(stdout) != 0) {
		fprintf(stderr, "leakwatchctl: writing the answer: %s\n", strerror(errno));
		status = EXIT_FAIL;
	}
	return status;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	bool json = false;
	char request[64], *end;
	const char *cmd;
	long pid;
	int c;

	while ((c = getopt_long(argc, argv, "hV", opts, NULL)) != -1) {
		switch (c) {
		case 'j':
			json = true;
			break;
		case 'h':
			usage(stdout);
			return 0;
		case 'V':
			printf("leakwatchctl %s\n", LEAKWATCH_VERSION);
			return 0;
		default:
			usage(stderr);
			return EXIT_USAGE;
		}
	}
	if (optind >= argc) {
		usage(stderr);
		return EXIT_USAGE;
	}
	cmd = argv[optind++];
	if (strcmp(cmd, "status") == 0 && optind == argc) {
		snprintf(request, sizeof(request), "status %s", json ? "json" : "table");
		return ask(request);
	}
	if (strcmp(cmd, "history") == 0 && optind == argc - 1) {
		pid = strtol(argv[optind], &end, 10);
		if (*end || end == argv[optind] || pid <= 0 || pid > 0x7fffffff) {
			fprintf(stderr, "leakwatchctl: not a pid: '%s'\n", argv[optind]);
			return EXIT_USAGE;
		}
		snprintf(request, sizeof(request), "history %ld %s", pid, json ? "json" : "table");
		return ask(request);
	}
	if (strcmp(cmd, "check-config") == 0 && optind >= argc - 1 && !json)
		return config_check(optind < argc ? argv[optind] : DEFAULT_CONFIG) < 0 ? EXIT_FAIL : 0;
	if (strcmp(cmd, "status") && strcmp(cmd, "history") && strcmp(cmd, "check-config"))
		fprintf(stderr, "leakwatchctl: unknown command '%s'\n", cmd);
	else
		fprintf(stderr, "leakwatchctl: wrong arguments for '%s'\n", cmd);
	usage(stderr);
	return EXIT_USAGE;
}
