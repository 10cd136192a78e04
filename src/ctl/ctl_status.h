/* leakwatchctl status's options (--watch NAME, --verdict V, --watches),
 * checked, and the request they make of the daemon ("status watch api
 * verdict leak table 132"; core/status_filter.h parses it there).  Kept out
 * of leakwatchctl.c, which holds the socket and the other commands. */
#ifndef LEAKWATCH_CTL_STATUS_H
#define LEAKWATCH_CTL_STATUS_H

#include <stdbool.h>
#include <stddef.h>

/* getopt_long's values for them */
enum { OPT_WATCH = 256, OPT_VERDICT, OPT_WATCHES };

/* status's options as given. */
struct status_args {
	const char *watch, *verdict;
	bool watches, given;
};

/* One of them (c: an OPT_*) into *st: 0, or -EINVAL with the usage
 * error's message in why. */
int status_option(struct status_args *st, int c, const char *arg, char *why, size_t why_len);

/* The request of status with st, nargs arguments left (none allowed),
 * --json or the table at width columns, into request: 0, or -EINVAL with
 * the usage error's message in why. */
int status_request(const struct status_args *st, int nargs, bool json, unsigned width, char *request,
		   size_t len, char *why, size_t why_len);

#endif
