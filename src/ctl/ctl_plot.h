/* leakwatchctl's plot and history --csv (leakwatchctl(1)): their options,
 * the request each sends the daemon (core/plot_report.h), and the file
 * that plot -o writes.  Kept out of leakwatchctl.c, which holds the other
 * commands. */
#ifndef LEAKWATCH_CTL_PLOT_H
#define LEAKWATCH_CTL_PLOT_H

#include <stdbool.h>
#include <stddef.h>

struct plot_args {
	const char *metric;   /* --metric: rss, fds, threads, uss or pss; NULL: all */
	const char *output;   /* -o FILE; NULL: none */
	bool csv;             /* --csv */
	bool given;           /* any of them */
};

/* --metric M, -o FILE or --csv (c 'M', 'o' or 'c') into *pa: 0, or
 * -EINVAL with the usage error's message in why. */
int plot_option(struct plot_args *pa, int c, const char *arg, char *why, size_t why_len);

/* The request for command cmd with nargs arguments args, pa, and whether
 * --json and --seconds were given, into request: "plot PID svg [M]" (with
 * -o, or when the answer goes to no terminal: tty false), "plot PID text
 * WIDTH [M]", "history PID csv".  0, or -EINVAL with the usage error's
 * message in why. */
int plot_request(const struct plot_args *pa, const char *cmd, int nargs, char *const *args, bool json,
		 bool seconds, bool tty, unsigned width, char *request, size_t len, char *why, size_t why_len);

/* plot PID or history PID --csv: the request (plot_request(), its tty
 * whether stdout is a terminal) asked, the answer on stdout, or with -o
 * FILE replacing FILE whole once the daemon has answered (mode 0666 less
 * the umask).  The exit status; or -EINVAL with the usage error's message
 * in why. */
int plot_command(const struct plot_args *pa, const char *cmd, int nargs, char *const *args, bool json,
		 bool seconds, unsigned width, char *why, size_t why_len);

#endif
