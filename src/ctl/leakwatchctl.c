/* leakwatchctl: ask the running leakwatchd what it sees (status, the
 * history of one process, as text, CSV or a plot), to inspect a process, to
 * reload its configuration or to forget a process, through its control socket, or check a
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
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#include "core/config.h"
#include "core/status_filter.h"
#include "ctl/ctl_status.h"
#include "ctl/ctl_plot.h"
#include "ctl/ctl_socket.h"
#include "daemon/match_survey.h"
#include "os/config_file.h"
#include "os/paths.h"

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: leakwatchctl status [--json] [--watch NAME] [--verdict V] [--watches]\n"
		"       leakwatchctl history PID [--json | --csv]\n"
		"       leakwatchctl plot PID [--metric M] [-o FILE]\n"
		"       leakwatchctl inspect PID [--seconds N] [--json]\n"
		"       leakwatchctl reload\n"
		"       leakwatchctl forget PID\n"
		"       leakwatchctl check-config [FILE]\n"
		"       leakwatchctl match [FILE] [--json] [--max N] [--proc DIR]\n"
		"\n"
		"Show what the running leakwatchd sees, have it reload or forget a process,\n"
		"or check a configuration.\n"
		"\n"
		"  status [--json]       every watched process: watch, pid, comm, each metric's\n"
		"                        value, trend per hour, time to limit and verdict,\n"
		"                        under a line per watch (processes, leaking, over a\n"
		"                        limit, last action); --watch NAME: that watch's only;\n"
		"                        --verdict V: the processes with a metric at V\n"
		"                        (warming, ok, leak, limit, unreadable); --watches:\n"
		"                        the line per watch alone (an object each with --json)\n"
		"  history PID [--json | --csv]  the samples the daemon holds for one process\n"
		"  plot PID              their picture: SVG into FILE (-o) or a pipe, else a\n"
		"                        chart at the terminal's width; --metric rss|fds|threads|uss|pss\n"
		"  inspect PID [--seconds N]  look inside a watched CPython process: what\n"
		"                        grew in N seconds (default: its watch's inspect_seconds)\n"
		"  reload                reload the configuration, as SIGHUP does, and say how\n"
		"                        it went\n"
		"  forget PID            drop what the daemon holds of a process (history,\n"
		"                        verdicts, withheld actions): matched afresh, as new\n"
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

/* status [--json] [--watch NAME] [--verdict V] [--watches]: nargs
 * arguments left.  The exit status. */
static int status_command(const struct status_args *st, int nargs, bool json)
{
	char request[192], why[160];

	if (status_request(st, nargs, json, terminal_width(), request, sizeof(request), why, sizeof(why)) < 0)
		return usage_error("%s", why);
	return ask(request);
}

/* reload, forget PID (nargs arguments left in args): the exit status. */
static int change_command(const char *cmd, int nargs, char **args, bool json)
{
	char request[64], *end;
	long pid;

	if (json || nargs != (strcmp(cmd, "forget") == 0))
		return usage_error("wrong arguments for '%s'", cmd);
	if (strcmp(cmd, "reload") == 0)
		return ask("reload");
	pid = strtol(args[0], &end, 10);
	if (*end || end == args[0] || pid <= 0 || pid > 0x7fffffff)
		return usage_error("not a pid: '%s'", args[0]);
	snprintf(request, sizeof(request), "forget %ld", pid);
	return ask(request);
}

static const struct option opts[] = {
	{ "json", no_argument, NULL, 'j' },
	{ "watch", required_argument, NULL, OPT_WATCH },
	{ "verdict", required_argument, NULL, OPT_VERDICT },
	{ "watches", no_argument, NULL, OPT_WATCHES },
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

/* The options of every command, as given. */
struct cli {
	struct match_args match;
	struct status_args st;
	struct plot_args plot;
	bool json;
	long seconds;
};

/* The options into *o (optind left at the command): -1 to go on, or the
 * exit status (a usage error, --help, --version). */
static int options(int argc, char **argv, struct cli *o)
{
	char why[160], *end;
	int c;

	opterr = 0;   /* its messages: one line each, below */
	while ((c = getopt_long(argc, argv, ":hVo:", opts, NULL)) != -1) {
		switch (c) {
		case 'j':
			o->json = true;
			break;
		case 's':
			o->seconds = strtol(optarg, &end, 10);
			if (*end || end == optarg || o->seconds < 1 || o->seconds > 600)
				return usage_error("--seconds must be from 1 to 600: '%s'", optarg);
			break;
		case 'm':
		case 'p':
			if (match_option(&o->match, c, optarg) < 0)
				return EXIT_USAGE;
			break;
		case OPT_WATCH:
		case OPT_VERDICT:
		case OPT_WATCHES:
			if (status_option(&o->st, c, optarg, why, sizeof(why)) < 0)
				return usage_error("%s", why);
			break;
		case 'c': case 'M': case 'o':   /* plot's and history's */
			if (plot_option(&o->plot, c, optarg, why, sizeof(why)) < 0)
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
	return -1;
}

int main(int argc, char **argv)
{
	struct cli o = { .match = { { "/proc", MATCH_ROWS_DEFAULT, getpid(), NULL, NULL }, false } };
	char request[64], why[160], *end;
	const char *cmd;
	long pid;
	int c = options(argc, argv, &o);

	if (c >= 0)
		return c;
	if (optind >= argc)
		return usage_error("no command given");
	cmd = argv[optind++];
	if (strcmp(cmd, "match") == 0 || o.match.given)
		return match_command(&o.match, cmd, argc - optind, argv + optind, o.json, o.seconds != 0);
	if (strcmp(cmd, "plot") == 0 || o.plot.given)   /* -EINVAL: a usage error */
		return (c = plot_command(&o.plot, cmd, argc - optind, argv + optind, o.json, o.seconds != 0, terminal_width(),
					 why, sizeof(why))) < 0 ? usage_error("%s", why) : c;
	if (o.st.given && strcmp(cmd, "status") != 0)
		return usage_error("--watch, --verdict and --watches are for status");
	if (strcmp(cmd, "status") == 0 && !o.seconds)
		return status_command(&o.st, argc - optind, o.json);
	if (strcmp(cmd, "history") == 0 && optind == argc - 1) {
		pid = strtol(argv[optind], &end, 10);
		if (*end || end == argv[optind] || pid <= 0 || pid > 0x7fffffff)
			return usage_error("not a pid: '%s'", argv[optind]);
		snprintf(request, sizeof(request), "history %ld %s", pid, o.json ? "json" : "table");
		return ask(request);
	}
	if (strcmp(cmd, "inspect") == 0 && optind == argc - 1) {
		pid = strtol(argv[optind], &end, 10);
		if (*end || end == argv[optind] || pid <= 0 || pid > 0x7fffffff)
			return usage_error("not a pid: '%s'", argv[optind]);
		return inspect(pid, o.seconds, o.json);
	}
	if (o.seconds)
		return usage_error("--seconds is for inspect");
	if (strcmp(cmd, "reload") == 0 || strcmp(cmd, "forget") == 0)
		return change_command(cmd, argc - optind, argv + optind, o.json);
	if (strcmp(cmd, "check-config") == 0 && optind >= argc - 1 && !o.json)
		return config_check(optind < argc ? argv[optind] : DEFAULT_CONFIG) < 0 ? EXIT_FAIL : 0;
	if (strcmp(cmd, "status") && strcmp(cmd, "history") && strcmp(cmd, "check-config") && strcmp(cmd, "inspect"))
		return usage_error("unknown command '%s'", cmd);
	return usage_error("wrong arguments for '%s'", cmd);
}
