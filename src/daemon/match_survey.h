/* Which live processes the watches of a configuration would match, and
 * why the near ones are not taken: `leakwatchctl match [FILE]`, with no
 * daemon running, and `leakwatchd -t --show-matches` after its check
 * (daemon/check_config.h).  The processes
 * are read by discovery itself (daemon/discovery.h: one full scan, the
 * same readers, the same match_watch()), then each is explained against
 * each watch (core/match_explain.h) into a report (core/match_report.h). */
#ifndef LEAKWATCH_MATCH_SURVEY_H
#define LEAKWATCH_MATCH_SURVEY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <sys/types.h>

#include "core/config.h"
#include "core/match_report.h"
#include "daemon/discovery.h"

struct match_survey_opts {
	const char *proc_dir;      /* the /proc to read ("/proc"; a fixture tree in tests) */
	size_t max_rows;           /* of each not-matched list, a watch keeps this many */
	pid_t self;                /* never listed: the caller itself */
	discovery_warn_fn warn;    /* discovery's warnings (a pidfile it may not read); may be NULL */
	void *warn_ctx;
};

/* Read every process under o->proc_dir and fill *rep (match_report_init()
 * done here; match_report_free() it, whatever the answer) for cfg, which
 * must outlive the report.  0, or -errno: of opening the root, -ENOMEM. */
int match_survey(const struct config *cfg, const struct match_survey_opts *o, struct match_report *rep);

/* Survey for cfg and write the table (or, json, the JSON) to out.  0, or
 * the negative errno of the survey or of the write, after saying why on
 * stderr (prefixed with prog); discovery's warnings go there too. */
int match_show_config(const char *prog, const struct config *cfg, const struct match_survey_opts *o, bool json,
		      FILE *out);

/* The command: load config_path (its diagnostics on stderr, as
 * config_load_report), survey, and write the table (or, json, the JSON) to
 * out.  0, or the negative errno of the load, of the survey or of the
 * write, after saying why on stderr (prefixed with prog, "leakwatchctl"). */
int match_show(const char *prog, const char *config_path, const struct match_survey_opts *o, bool json,
	       FILE *out);

#endif
