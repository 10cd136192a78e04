/* Warnings about watches that look wrong for a server leakwatch knows
 * (gunicorn, uWSGI, Celery): a signal that ends a worker in the middle of
 * its work, criteria that can take the master (uWSGI's router, Celery's
 * MainProcess) along with the workers, `python: true` on uWSGI, a
 * kill_after below the server's own grace.  Never errors: the file is
 * loaded either way.  Pure logic, on a loaded struct watch; `leakwatchd
 * -t` prints them (os/config_file.c), the daemon tells them as error
 * events of priority warning at start and reload (daemon/main.c). */
#ifndef LEAKWATCH_SERVER_LINT_H
#define LEAKWATCH_SERVER_LINT_H

#include <stddef.h>
#include <stdint.h>

#include "core/config.h"
#include "core/server_match.h"

enum lint_code {
	LINT_SIGNAL,          /* the signal does not retire a worker gracefully */
	LINT_MASTER,          /* the criteria can take the master, router or MainProcess */
	LINT_PYTHON,          /* python: true, which no uWSGI process satisfies */
	LINT_KILL_AFTER,      /* kill_after shorter than the server's default grace */
};

#define LINT_MAX      4     /* one of each code at most */
#define LINT_TEXT_MAX 440   /* fits an event's detail (core/event.h) */

struct lint_warning {
	enum lint_code code;
	struct config_pos at;      /* the key it is about; the watch's when unknown */
	char text[LINT_TEXT_MAX];  /* one sentence: what, why, what to write instead */
};

/* One watch's findings, in file order. */
struct server_lint {
	enum lint_server server;
	size_t n;
	struct lint_warning w[LINT_MAX];
};

/* Fill *out with W's warnings (out->n of them, which it returns; 0 for
 * a watch of no known server).  *budget is what trying W's regex on the
 * servers' titles may spend (server_match.h): one SERVER_MATCH_BUDGET
 * for all the watches of a configuration. */
size_t server_lint_watch(const struct watch *w, uint64_t *budget, struct server_lint *out);

/* How many warnings the watches of C have in all (one budget for them). */
size_t server_lint_count(const struct config *c);

/* Append each warning of C to OUT as "FILE:LINE:COLUMN: warning:
 * MESSAGE" (FILE being c->path), watch by watch in file order (one
 * budget for them).  Returns how many, or -ENOMEM. */
int server_lint_config(const struct config *c, struct diag *out);

#endif
