/* The configuration's diagnostics, collected: the YAML reader
 * (os/yaml_tree.c) and the schema (config_schema*.c) each add what they
 * find at a 0-based line and column, and config_diag_finish() turns all of
 * it into the "FILE:LINE:COLUMN: error: MESSAGE" lines of struct diag,
 * sorted by place (in the order found where places tie).
 *
 * Why collect instead of printing: an operator fixes a file in one go when
 * every problem is listed, and in file order whatever order the checks
 * ran in.  The cost is bounded: CFG_MAX_ERRORS are kept, the rest only
 * counted ("N more errors not shown"), so the first ones found win; that
 * is why the readers add in a fixed order (first document, schema, then
 * what follows the first document).  Out of memory anywhere makes the
 * whole result one "FILE: error: out of memory". */
#ifndef LEAKWATCH_CONFIG_DIAG_H
#define LEAKWATCH_CONFIG_DIAG_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>

#include "core/config.h"

#define CFG_MAX_ERRORS 1000   /* more are counted, not kept */

struct cfg_error {
	size_t line, column;   /* 0-based */
	size_t seq;            /* order of discovery, to sort stably */
	char *msg;
};

struct cfg_diag {
	const char *path;      /* the caller's, for the messages */
	struct cfg_error *errs;
	size_t n_errs;
	size_t n_dropped;      /* errors past CFG_MAX_ERRORS, only counted */
	bool oom;
};

void cfg_diag_init(struct cfg_diag *d, const char *path);
void cfg_diag_free(struct cfg_diag *d);   /* accepts NULL; what finish did not take */

/* Record "MESSAGE" at a 0-based line and column (or count it, past the
 * limit; or set oom when there is no memory for it). */
void cfg_diag_add(struct cfg_diag *d, size_t line, size_t column, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
void cfg_diag_vadd(struct cfg_diag *d, size_t line, size_t column, const char *fmt, va_list ap)
	__attribute__((format(printf, 4, 0)));

/* Sort the collected errors into OUT as "FILE:LINE:COLUMN: error: MESSAGE"
 * and empty d.  Returns 0 when there were none, -EINVAL when there were,
 * -ENOMEM (then OUT says "out of memory", as room allows). */
int cfg_diag_finish(struct cfg_diag *d, struct diag *out);

/* Append one complete message, printf-style, to OUT: 0 or -ENOMEM. */
int diag_add(struct diag *out, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
