/* leakwatchd -t: check a configuration file and exit, without starting
 * the daemon; with --show-matches, also the live processes each of its
 * watches matches (the report of `leakwatchctl match`,
 * daemon/match_survey.h). */
#ifndef LEAKWATCH_CHECK_CONFIG_H
#define LEAKWATCH_CHECK_CONFIG_H

#include <stdbool.h>

struct check_config {
	const char *config_path;
	bool show_matches;         /* --show-matches: the match report after the check */
	bool json;                 /* --json: that report as JSON, alone on stdout */
};

/* Load c->config_path (its errors, then the warnings of core/server_lint.h,
 * on stderr), print "configuration OK" on stdout (not with c->json), then,
 * with c->show_matches, the match report of its watches for the processes
 * under /proc.  0, or the negative errno of the load, of reading /proc or
 * of writing the report, after saying why on stderr. */
int check_config_run(const struct check_config *c);

#endif
