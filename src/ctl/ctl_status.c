/* status's options and request (see ctl_status.h).  The names are checked
 * here as the configuration checks them, so that a typo is a usage error
 * at once rather than the daemon's "no watch is named" (which also stays:
 * the daemon knows the watches in force). */
#include "ctl/ctl_status.h"

#include <errno.h>
#include <stdio.h>

#include "core/config.h"
#include "core/status_filter.h"

int status_option(struct status_args *st, int c, const char *arg, char *why, size_t why_len)
{
	st->given = true;
	if (c == OPT_WATCHES) {
		st->watches = true;
	} else if (c == OPT_WATCH) {
		if (!watch_name_valid(arg)) {
			snprintf(why, why_len, "--watch needs a watch name (1 to 64 letters, digits, '.', '_' or '-'): '%s'",
				 arg);
			return -EINVAL;
		}
		st->watch = arg;
	} else {
		if (status_verdict_parse(arg) < 0) {
			snprintf(why, why_len, "--verdict must be warming, ok, leak, limit or unreadable: '%s'", arg);
			return -EINVAL;
		}
		st->verdict = arg;
	}
	return 0;
}

int status_request(const struct status_args *st, int nargs, bool json, unsigned width, char *request,
		   size_t len, char *why, size_t why_len)
{
	int n;

	if (nargs) {
		snprintf(why, why_len, "wrong arguments for 'status'");
		return -EINVAL;
	}
	if (st->watches && st->verdict) {
		snprintf(why, why_len, "--verdict picks processes: --watches counts them all");
		return -EINVAL;
	}
	n = snprintf(request, len, "status%s%s%s%s%s", st->watch ? " watch " : "", st->watch ? st->watch : "",
		     st->verdict ? " verdict " : "", st->verdict ? st->verdict : "", st->watches ? " watches" : "");
	if (n < 0 || (size_t)n >= len) {
		snprintf(why, why_len, "the request is too long");
		return -EINVAL;
	}
	if (json)
		snprintf(request + n, len - (size_t)n, " json");
	else
		snprintf(request + n, len - (size_t)n, " table %u", width);
	return 0;
}
