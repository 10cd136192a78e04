/* leakwatchd's options (see cmdline.h), kept apart from main.c's event
 * loop: the daemon's start-up and the -t mode share nothing but the
 * configuration path, and main.c only needs the result.  getopt_long, as
 * every daemon does; a usage error says which option was wrong in one line
 * and then the usage, on stderr, and the caller exits with status 2.
 * -t takes an optional FILE operand (`leakwatchd -t FILE`, as people type
 * it) besides -c FILE.  --show-matches and --json mean something with -t
 * alone: given without it they are usage errors rather than ignored, so a
 * script that forgot -t does not start a daemon. */
#include "daemon/cmdline.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>

#include "os/config_file.h"

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: leakwatchd [-c FILE] [-t [--show-matches [--json]]] [--dry-run]\n"
		"                  [--log-target=auto|journal|console|json]\n"
		"\n"
		"Watch processes for memory, file descriptor and thread leaks.\n"
		"\n"
		"  -c, --config FILE    configuration file (default " DEFAULT_CONFIG ")\n"
		"  -t, --check-config   check the configuration, print 'configuration OK' and exit;\n"
		"                       a FILE after it is the same as -c FILE\n"
		"      --show-matches   with -t: then the live processes each watch matches\n"
		"                       (as leakwatchctl match)\n"
		"      --json           with --show-matches: that report as JSON\n"
		"      --dry-run        evaluate everything, take no action\n"
		"      --log-target=T   auto (default), journal, console or json\n"
		"  -h, --help           show this help and exit\n"
		"  -V, --version        show the version and exit\n");
}

static int usage_error(const char *what, const char *arg)
{
	fprintf(stderr, "leakwatchd: %s%s%s\n", what, arg ? arg : "", arg ? "'" : "");
	usage(stderr);
	return -EINVAL;
}

/* One option of getopt_long's, into c.  0, 1 when --help or --version was
 * printed, or -EINVAL after a usage error. */
static int one_option(struct cmdline *c, int opt, bool *config_given)
{
	switch (opt) {
	case 'c':
		c->check.config_path = optarg;
		*config_given = true;
		return 0;
	case 't':
		c->check_only = true;
		return 0;
	case 'm':
		c->check.show_matches = true;
		return 0;
	case 'j':
		c->check.json = true;
		return 0;
	case 'n':
		c->dry_run = true;
		return 0;
	case 'L':
		if (log_target_parse(optarg, &c->target) < 0) {
			fprintf(stderr, "leakwatchd: unknown log target '%s' (auto, journal, console or json)\n",
				optarg);
			return -EINVAL;
		}
		return 0;
	case 'h':
		usage(stdout);
		return 1;
	case 'V':
		printf("leakwatchd %s\n", LEAKWATCH_VERSION);
		return 1;
	default:
		usage(stderr);
		return -EINVAL;
	}
}

int cmdline_parse(int argc, char **argv, struct cmdline *c)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "check-config", no_argument, NULL, 't' },
		{ "show-matches", no_argument, NULL, 'm' },
		{ "json", no_argument, NULL, 'j' },
		{ "dry-run", no_argument, NULL, 'n' },
		{ "log-target", required_argument, NULL, 'L' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	bool config_given = false;
	int opt, r;

	while ((opt = getopt_long(argc, argv, "c:thV", opts, NULL)) != -1) {
		r = one_option(c, opt, &config_given);
		if (r != 0) {
			c->done = r > 0;
			return r < 0 ? r : 0;
		}
	}
	/* `leakwatchd -t FILE`, as people type it */
	if (c->check_only && !config_given && optind == argc - 1)
		c->check.config_path = argv[optind++];
	if (c->check.show_matches && !c->check_only)
		return usage_error("--show-matches is for -t (--check-config)", NULL);
	if (c->check.json && !c->check.show_matches)
		return usage_error("--json is for -t --show-matches", NULL);
	if (optind < argc)
		return usage_error("unexpected argument '", argv[optind]);
	return 0;
}
