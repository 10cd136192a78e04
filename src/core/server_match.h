/* The servers leakwatch knows (gunicorn, uWSGI, Celery): which one a
 * watch is for, from the text of its criteria, and whether those
 * criteria can take the server's master (uWSGI's router, Celery's
 * MainProcess) along with its workers.  Pure logic on a loaded struct
 * watch, for the warnings of server_lint.h. */
#ifndef LEAKWATCH_SERVER_MATCH_H
#define LEAKWATCH_SERVER_MATCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/config.h"

enum lint_server { LINT_SERVER_NONE, LINT_GUNICORN, LINT_UWSGI, LINT_CELERY };

/* "gunicorn", "uWSGI", "Celery", or "" for none. */
const char *lint_server_name(enum lint_server s);

/* The server W is for, from its cmdline regex, comm and exe globs (its
 * parent's when it has none of the three); LINT_SERVER_NONE when they
 * name none, or more than one. */
enum lint_server server_lint_recognise(const struct watch *w);

/* What trying a configuration's regexes on the servers' titles may cost
 * in all: a search of a title of N bytes with a regex that holds B bytes
 * (regex_prog_bytes) costs (N + 1) x B, its bound.  2^32 is at most about
 * 0.4 s (a regex keeping every state alive at every byte), and more than
 * 3000 watches like the recipes' need. */
#define SERVER_MATCH_BUDGET (UINT64_C(1) << 32)

/* Can W, a watch for S's workers, take S's master (uWSGI: or its router;
 * Celery: its MainProcess)?  When it can, true and the reason in WHY
 * (LEN bytes), a clause for a message ("its cmdline names no worker and
 * it has no parent criterion").  The titles are tried as far as *budget
 * goes, which they spend; past it, W is judged by the words of its
 * regex alone. */
bool server_match_master(const struct watch *w, enum lint_server s, uint64_t *budget,
			 char *why, size_t len);

#endif
