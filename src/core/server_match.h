/* The servers leakwatch knows (gunicorn, uWSGI, Celery): which one a
 * watch is for, from the text of its criteria, and whether those
 * criteria can take the server's master (uWSGI's router, Celery's
 * MainProcess) along with its workers.  Pure logic on a loaded struct
 * watch, for the warnings of server_lint.h. */
#ifndef LEAKWATCH_SERVER_MATCH_H
#define LEAKWATCH_SERVER_MATCH_H

#include <stdbool.h>
#include <stddef.h>

#include "core/config.h"

enum lint_server { LINT_SERVER_NONE, LINT_GUNICORN, LINT_UWSGI, LINT_CELERY };

/* "gunicorn", "uWSGI", "Celery", or "" for none. */
const char *lint_server_name(enum lint_server s);

/* The server W is for, from its cmdline regex, comm and exe globs (its
 * parent's when it has none of the three); LINT_SERVER_NONE when they
 * name none, or more than one. */
enum lint_server server_lint_recognise(const struct watch *w);

/* Can W, a watch for S's workers, take S's master (uWSGI: or its router;
 * Celery: its MainProcess)?  When it can, true and the reason in WHY
 * (LEN bytes), a clause for a message ("its cmdline names no worker and
 * it has no parent criterion"). */
bool server_match_master(const struct watch *w, enum lint_server s, char *why, size_t len);

#endif
