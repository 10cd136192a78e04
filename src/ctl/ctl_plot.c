/* The plot commands' arguments (see ctl_plot.h).  Why the daemon draws and
 * the client only asks: the trend, the marks and the floors are the
 * daemon's (core/plot_report.c); the client decides only the form, an SVG
 * for a file or a pipe, the braille chart for a terminal at its width.
 * Why -o replaces the file whole: a browser or an image viewer refreshing
 * it must never read half of one, and an error leaves it as it was. */
#include "ctl/ctl_plot.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ctl/ctl_socket.h"
#include "os/files.h"

int plot_option(struct plot_args *pa, int c, const char *arg, char *why, size_t why_len)
{
	pa->given = true;
	if (c == 'c') {
		pa->csv = true;
	} else if (c == 'o') {
		pa->output = arg;
	} else if (strcmp(arg, "rss") && strcmp(arg, "fds") && strcmp(arg, "threads") && strcmp(arg, "uss") &&
		   strcmp(arg, "pss")) {
		snprintf(why, why_len, "--metric must be rss, fds, threads, uss or pss: '%s'", arg);
		return -EINVAL;
	} else {
		pa->metric = arg;
	}
	return 0;
}

static int usage(char *why, size_t len, const char *what, const char *cmd)
{
	snprintf(why, len, what, cmd);
	return -EINVAL;
}

int plot_request(const struct plot_args *pa, const char *cmd, int nargs, char *const *args, bool json,
		 bool seconds, bool tty, unsigned width, char *request, size_t len, char *why, size_t why_len)
{
	char *end;
	long pid;
	int n;

	if (pa->csv && (strcmp(cmd, "history") != 0 || json))
		return usage(why, why_len, json ? "--json or --csv, not both" : "--csv is for history", cmd);
	if ((pa->metric || pa->output) && strcmp(cmd, "plot") != 0)
		return usage(why, why_len, "--metric and -o are for plot", cmd);
	if (seconds)
		return usage(why, why_len, "--seconds is for inspect", cmd);
	if (nargs != 1 || json)
		return usage(why, why_len, "wrong arguments for '%s'", cmd);
	pid = strtol(args[0], &end, 10);
	if (*end || end == args[0] || pid <= 0 || pid > 0x7fffffff)
		return usage(why, why_len, "not a pid: '%s'", args[0]);
	if (pa->csv) {
		snprintf(request, len, "history %ld csv", pid);
		return 0;
	}
	if (pa->output || !tty)
		n = snprintf(request, len, "plot %ld svg", pid);
	else
		n = snprintf(request, len, "plot %ld text %u", pid, width);
	if (pa->metric && n > 0 && (size_t)n < len)
		snprintf(request + n, len - (size_t)n, " %s", pa->metric);
	return 0;
}

int plot_command(const struct plot_args *pa, const char *cmd, int nargs, char *const *args, bool json,
		 bool seconds, unsigned width, char *why, size_t why_len)
{
	char request[80], *text = NULL;
	mode_t mask;
	int status, r;

	if (plot_request(pa, cmd, nargs, args, json, seconds, isatty(STDOUT_FILENO), width, request, sizeof(request),
			 why, why_len) < 0)
		return -EINVAL;
	if (!pa->output || strcmp(pa->output, "-") == 0)
		return ask(request);
	mask = umask(022);   /* the mode a shell's redirection would give it */
	umask(mask);
	if ((status = ask_text(request, &text)) == 0 &&
	    (r = write_file_atomic(pa->output, text, strlen(text), 0666 & ~mask, false)) < 0) {
		fprintf(stderr, "leakwatchctl: cannot write %s: %s\n", pa->output, strerror(-r));
		status = EXIT_FAIL;
	}
	free(text);
	return status;
}
