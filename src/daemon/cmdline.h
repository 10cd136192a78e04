/* leakwatchd's command line: its options, --help and --version. */
#ifndef LEAKWATCH_CMDLINE_H
#define LEAKWATCH_CMDLINE_H

#include <stdbool.h>

#include "daemon/check_config.h"
#include "io/event_sink.h"

struct cmdline {
	struct check_config check;  /* the configuration file, and what -t shows */
	bool check_only;            /* -t: check the file and exit (check_config.h) */
	bool dry_run;               /* --dry-run */
	enum log_target target;     /* --log-target (TARGET_AUTO when not given) */
	bool done;                  /* --help or --version was printed: exit 0 */
};

/* Parse argv into *c, which holds the defaults on entry (the config path
 * DEFAULT_CONFIG, TARGET_AUTO).  0 (go on, or c->done after --help or
 * --version on stdout), or -EINVAL after a usage error told on stderr. */
int cmdline_parse(int argc, char **argv, struct cmdline *c);

#endif
