/* The warnings of core/server_lint.h about the watches of a configuration
 * the daemon puts in force (at start, at each reload): counted for the
 * start and reload messages, then told, each as an error event of
 * priority warning about its watch, and, for a reload asked over the
 * control socket, as lines of its reply. */
#ifndef LEAKWATCH_WATCH_LINT_H
#define LEAKWATCH_WATCH_LINT_H

#include <stddef.h>

#include "core/buf.h"
#include "core/config.h"
#include "core/server_lint.h"
#include "daemon/notice.h"

/* The findings about cfg's watches, one struct per watch, and in note
 * ", N warning(s)" ("" for none); NULL when out of memory: then none is
 * told. */
struct server_lint *watch_lint(const struct config *cfg, char *note, size_t len);

/* Tell each of l (from watch_lint(cfg)) through say, as NOTICE_WARNING
 * about its watch, and as a line "warning: WATCH: TEXT" into reply when
 * given: the file is in force all the same.  Frees l (accepts NULL). */
void watch_lint_tell(const struct notice_sink *say, const struct config *cfg, struct server_lint *l,
		     struct buf *reply);

#endif
