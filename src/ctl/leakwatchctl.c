/* leakwatchctl: ask the running leakwatchd what it sees (status, the
 * history of one process, as text, CSV or a plot) or to inspect a process, through its control socket, or check a
 * configuration file, or show which live processes its watches match
 * (daemon/match_survey.h: read here, no daemon needed).  The daemon renders
 * the answers (core/status_report.c): this client sends one request line
 * and copies the reply to stdout.  The status table is rendered for the
 * client's terminal, so the request carries its width ("status table 132").
 *
 * A usage error says what is wrong in one line and where to look
 * ("Try 'leakwatchctl --help'."), as coreutils do: the whole usage after
 * every typo buries the one line that matters. */
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "ctl/ctl_plot.h"
#include "daemon/match_survey.h"
#include "os/config_file.h"
#include "os/paths.h"

enum { EXIT_FAIL = 1, EXIT_USAGE = 2 };

#define REPLY_TIMEOUT_MS 15000

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: leakwatchctl status [--json]\n"
		"       leakwatchctl history PID [--json | --csv]\n"
		"       leakwatchctl plot PID [--metric M] [-o FILE]\n"
		"       leakwatchctl inspect PID [--seconds N] [--json]\n"
		"       leakwatchctl check-config [FILE]\n"
		"       leakwatchctl match [FILE] [--json] [--max N] [--proc DIR]\n"
		"\n"
		"Show what the running leakwatchd sees, or check a configuration.\n"
		"\n"
		"  status [--json]       every watched process: watch, pid, comm, each metric's\n"
		"                        value, trend per hour, time to limit and verdict\n"
		"  history PID [--json | --csv]  the samples the daemon holds for one process\n"
		"  plot PID              their picture: SVG into FILE (-o) or a pipe, else a\n"
		"                        chart at the terminal's width; --metric rss|fds|threads\n"
		"  inspect PID [--seconds N]  look inside a watched CPython process: what\n"
		"                        grew in N seconds (default: its watch's inspect_seconds)\n"
		"  check-config [FILE]   check FILE (default " DEFAULT_CONFIG "),\n"
		"                        as leakwatchd -t does\n"
		"  match [FILE]          the live processes each watch of FILE matches, and\n"
		"                        those it does not take, with why (no daemon needed);\n"
		"                        --max N: N of those per watch (default 10, 0 all);\n"
		"                        --proc DIR: read the processes from DIR\n"
		"  -h, --help            show this help and exit\n"
		"  -V, --version         show the version and exit\n"
		"\n"
		"The daemon's socket is " CONTROL_SOCKET " in $RUNTIME_DIRECTORY, or in "
		DEFAULT_RUNTIME_DIR ".\n");
}

/* A usage error: "leakwatchctl: MESSAGE" and where the usage is, on
 * stderr.  Returns EXIT_USAGE. */
static int usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int usage_error(const char *fmt, ...)
{
	va_list ap;

	fputs("leakwatchctl: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputs("\nTry 'leakwatchctl --help'.\n", stderr);
	return EXIT_USAGE;
}

/* The columns the status table may take: $COLUMNS when it is a number (as
 * watch(1) sets it), else the terminal's on stdout, else 80. */
static unsigned terminal_width(void)
{
	const char *env = getenv("COLUMNS");
	struct winsize ws;
	char *end;
	long n;

	if (env && *env) {
		n = strtol(env, &end, 10);
		if (!*end && n > 0)
			return n > 9999 ? 9999 : (unsigned)n;
	}
	if (isatty(STDOUT_FILENO) && ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0)
		return ws.ws_col > 9999 ? 9999 : ws.ws_col;
	return 80;
}

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

/* Send one request; the reply's first line is "OK" or "ERR MESSAGE".  The
 * exit status: 0, or EXIT_FAIL after telling why on stderr. */
static int ask_to(const char *request, FILE *out)
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

static int ask(const char *request)
{
	return ask_to(request, stdout);
}

/* The answer to request, into *text (malloc'd): the exit status. */
static int ask_text(const char *request, char **text)
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

/* The value of "KEY\tVALUE" in text, into out ("" when absent). */
static void field_of(const char *text, const char *key, char *out, size_t len)
{
	size_t k = strlen(key);

	out[0] = '\0';
	for (const char *p = text; p && *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL)
		if (strncmp(p, key, k) == 0 && p[k] == '\t') {
			size_t n = strcspn(p + k + 1, "\n");

			snprintf(out, len, "%.*s", (int)(n < len ? n : len - 1), p + k + 1);
			return;
		}
}

/* inspect PID [--seconds N]: start it, then ask how it goes until it
 * ends.  0 ok, EXIT_FAIL failed or lost. */
static int inspect(long pid, long seconds, bool json)
{
	char request[64], state[16], note[1024], incident[4096], *text = NULL;
	struct timespec half = { 0, 500 * 1000 * 1000 };
	long waited_ms = 0, limit_ms = ((seconds ? seconds : 600) + 90) * 1000;
	int status;

	if (seconds)
		snprintf(request, sizeof(request), "inspect %ld %ld", pid, seconds);
	else
		snprintf(request, sizeof(request), "inspect %ld", pid);
	status = ask_text(request, &text);
	if (status == 0)
		fprintf(stderr, "leakwatchctl: %s", text);
	free(text);
	if (status)
		return status;
	for (;;) {
		nanosleep(&half, NULL);
		waited_ms += 500;
		snprintf(request, sizeof(request), "inspection %ld", pid);
		text = NULL;
		if ((status = ask_text(request, &text)) != 0) {
			free(text);
			fprintf(stderr, "leakwatchctl: pid %ld: the inspection's end was not seen: its inspect "
				"event in the journal says how it ended\n", pid);
			return EXIT_FAIL;
		}
		field_of(text, "state", state, sizeof(state));
		field_of(text, "note", note, sizeof(note));
		field_of(text, "incident", incident, sizeof(incident));
		free(text);
		if (strcmp(state, "running") != 0)
			break;
		if (waited_ms > limit_ms) {
			fprintf(stderr, "leakwatchctl: pid %ld: still inspecting after %ld s\n", pid, waited_ms / 1000);
			return EXIT_FAIL;
		}
	}
	if (json) {
		printf("{\"pid\": %ld, \"state\": \"%s\", \"summary\": \"", pid, state);
		for (const char *p = note; *p; p++)
			printf(*p == '"' || *p == '\\' ? "\\%c" : "%c", *p);
		printf("\", \"incident\": \"");
		for (const char *p = incident; *p; p++)
			printf(*p == '"' || *p == '\\' ? "\\%c" : "%c", *p);
		printf("\"}\n");
	} else {
		printf("pid %ld: %s: %s\n", pid, state, note);
		if (strcmp(state, "ok") == 0 && incident[0])
			printf("report: %s/python.txt\n", incident);
	}
	return strcmp(state, "ok") == 0 ? 0 : EXIT_FAIL;
}

/* match's options (--max, --proc) as given, and whether any was. */
struct match_args {
	struct match_survey_opts o;
	bool given;
};

/* --max N or --proc DIR (c 'm' or 'p'): 0, or -1 after telling why. */
static int match_option(struct match_args *m, int c, const char *arg)
{
	char *end;
	long n;

	m->given = true;
	if (c == 'p') {
		m->o.proc_dir = arg;
		return 0;
	}
	n = strtol(arg, &end, 10);
	if (*end || end == arg || n < 0 || n > 1000000000) {
		usage_error("--max must be a count: '%s'", arg);
		return -1;
	}
	m->o.max_rows = n ? (size_t)n : SIZE_MAX;
	return 0;
}

/* match [FILE]: nargs arguments left in args; seconds: --seconds was
 * given.  The exit status. */
static int match_command(const struct match_args *m, const char *cmd, int nargs, char **args, bool json,
			 bool seconds)
{
	if (strcmp(cmd, "match") != 0 || seconds)
		return usage_error("%s", seconds ? "--seconds is for inspect" : "--max and --proc are for match");
	if (nargs > 1)
		return usage_error("wrong arguments for 'match'");
	return match_show("leakwatchctl", nargs ? args[0] : DEFAULT_CONFIG, &m->o, json, stdout) < 0 ? EXIT_FAIL : 0;
}

/* plot PID, history PID --csv (ctl/ctl_plot.h): nargs arguments left in
 * args; seconds: --seconds was given.  The exit status. */
static int plot_or_csv(const struct plot_args *pa, const char *cmd, int nargs, char **args, bool json, bool seconds)
{
	char request[80], why[160], *text = NULL;
	int status, r;

	if (plot_request(pa, cmd, nargs, args, json, seconds, isatty(STDOUT_FILENO), terminal_width(), request,
			 sizeof(request), why, sizeof(why)) < 0)
		return usage_error("%s", why);
	if (!pa->output || strcmp(pa->output, "-") == 0)
		return ask(request);
	if ((status = ask_text(request, &text)) == 0 && (r = plot_save(pa->output, text)) < 0) {
		fprintf(stderr, "leakwatchctl: cannot write %s: %s\n", pa->output, strerror(-r));
		status = EXIT_FAIL;
	}
	free(text);
	return status;
}

static const struct option opts[] = {
	{ "json", no_argument, NULL, 'j' },
	{ "seconds", required_argument, NULL, 's' },
	{ "max", required_argument, NULL, 'm' },
	{ "proc", required_argument, NULL, 'p' },
	{ "csv", no_argument, NULL, 'c' },
	{ "metric", required_argument, NULL, 'M' },
	{ "output", required_argument, NULL, 'o' },
	{ "help", no_argument, NULL, 'h' },
	{ "version", no_argument, NULL, 'V' },
	{ NULL, 0, NULL, 0 },
};

int main(int argc, char **argv)
{
	struct match_args match = { { "/proc", MATCH_ROWS_DEFAULT, getpid(), NULL, NULL }, false };
	struct plot_args plot = { 0 };
	bool json = false;
	long seconds = 0;
	char request[64], why[160], *end;
	const char *cmd;
	long pid;
	int c;

	opterr = 0;   /* its messages: one line each, below */
	while ((c = getopt_long(argc, argv, ":hVo:", opts, NULL)) != -1) {
		switch (c) {
		case 'j':
			json = true;
			break;
		case 's':
			seconds = strtol(optarg, &end, 10);
			if (*end || end == optarg || seconds < 1 || seconds > 600)
				return usage_error("--seconds must be from 1 to 600: '%s'", optarg);
			break;
		case 'm':
		case 'p':
			if (match_option(&match, c, optarg) < 0)
				return EXIT_USAGE;
			break;
		case 'c': case 'M': case 'o':   /* plot's and history's */
			if (plot_option(&plot, c, optarg, why, sizeof(why)) < 0)
				return usage_error("%s", why);
			break;
		case 'h':
			usage(stdout);
			return 0;
		case 'V':
			printf("leakwatchctl %s\n", LEAKWATCH_VERSION);
			return 0;
		case ':':
			return usage_error("option '%s' needs an argument", argv[optind - 1]);
		default:
			if (optopt)
				return usage_error("unknown option '-%c'", optopt);
			return usage_error("unknown option '%s'", argv[optind - 1]);
		}
	}
	if (optind >= argc)
		return usage_error("no command given");
	cmd = argv[optind++];
	if (strcmp(cmd, "match") == 0 || match.given)
		return match_command(&match, cmd, argc - optind, argv + optind, json, seconds != 0);
	if (strcmp(cmd, "plot") == 0 || plot.given)
		return plot_or_csv(&plot, cmd, argc - optind, argv + optind, json, seconds != 0);
	if (strcmp(cmd, "status") == 0 && optind == argc) {
		if (json)
			snprintf(request, sizeof(request), "status json");
		else
			snprintf(request, sizeof(request), "status table %u", terminal_width());
		return ask(request);
	}
	if (strcmp(cmd, "history") == 0 && optind == argc - 1) {
		pid = strtol(argv[optind], &end, 10);
		if (*end || end == argv[optind] || pid <= 0 || pid > 0x7fffffff)
			return usage_error("not a pid: '%s'", argv[optind]);
		snprintf(request, sizeof(request), "history %ld %s", pid, json ? "json" : "table");
		return ask(request);
	}
	if (strcmp(cmd, "inspect") == 0 && optind == argc - 1) {
		pid = strtol(argv[optind], &end, 10);
		if (*end || end == argv[optind] || pid <= 0 || pid > 0x7fffffff)
			return usage_error("not a pid: '%s'", argv[optind]);
		return inspect(pid, seconds, json);
	}
	if (seconds)
		return usage_error("--seconds is for inspect");
	if (strcmp(cmd, "check-config") == 0 && optind >= argc - 1 && !json)
		return config_check(optind < argc ? argv[optind] : DEFAULT_CONFIG) < 0 ? EXIT_FAIL : 0;
	if (strcmp(cmd, "status") && strcmp(cmd, "history") && strcmp(cmd, "check-config") && strcmp(cmd, "inspect"))
		return usage_error("unknown command '%s'", cmd);
	return usage_error("wrong arguments for '%s'", cmd);
}
