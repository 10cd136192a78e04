/* The diagnostics collection of the configuration (see config_diag.h for
 * why collect, and the bound on what is kept). */
#include "core/config_diag.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void cfg_diag_init(struct cfg_diag *d, const char *path)
{
	memset(d, 0, sizeof(*d));
	d->path = path;
}

void cfg_diag_free(struct cfg_diag *d)
{
	if (!d)
		return;
	for (size_t i = 0; i < d->n_errs; i++)
		free(d->errs[i].msg);
	free(d->errs);
	d->errs = NULL;
	d->n_errs = 0;
}

void cfg_diag_vadd(struct cfg_diag *d, size_t line, size_t column, const char *fmt, va_list ap)
{
	struct cfg_error *errs;
	char *msg;

	if (d->n_errs >= CFG_MAX_ERRORS) {
		d->n_dropped++;
		return;
	}
	if (vasprintf(&msg, fmt, ap) < 0) {
		d->oom = true;
		return;
	}
	errs = realloc(d->errs, (d->n_errs + 1) * sizeof(*errs));
	if (!errs) {
		free(msg);
		d->oom = true;
		return;
	}
	d->errs = errs;
	d->errs[d->n_errs] = (struct cfg_error){ line, column, d->n_errs, msg };
	d->n_errs++;
}

void cfg_diag_add(struct cfg_diag *d, size_t line, size_t column, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	cfg_diag_vadd(d, line, column, fmt, ap);
	va_end(ap);
}

static int error_cmp(const void *a, const void *b)
{
	const struct cfg_error *x = a, *y = b;

	if (x->line != y->line)
		return x->line < y->line ? -1 : 1;
	if (x->column != y->column)
		return x->column < y->column ? -1 : 1;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/* MSG (taken, NULL for a failed asprintf) onto OUT: 0 or -ENOMEM. */
static int push(struct diag *out, char *msg)
{
	char **msgs;

	if (!msg)
		return -ENOMEM;
	msgs = realloc(out->msgs, (out->n + 1) * sizeof(char *));
	if (!msgs) {
		free(msg);
		return -ENOMEM;
	}
	out->msgs = msgs;
	out->msgs[out->n++] = msg;
	return 0;
}

int diag_add(struct diag *out, const char *fmt, ...)
{
	va_list ap;
	char *msg;
	int n;

	va_start(ap, fmt);
	n = vasprintf(&msg, fmt, ap);
	va_end(ap);
	return push(out, n < 0 ? NULL : msg);
}

int cfg_diag_finish(struct cfg_diag *d, struct diag *out)
{
	int r = 0;

	if (d->oom) {
		diag_add(out, "%s: error: out of memory", d->path);
		r = -ENOMEM;
		goto out;
	}
	if (d->n_errs == 0)
		goto out;
	qsort(d->errs, d->n_errs, sizeof(*d->errs), error_cmp);
	for (size_t i = 0; i < d->n_errs; i++) {
		const struct cfg_error *e = &d->errs[i], *prev = i ? e - 1 : NULL;

		/* An aliased node is read once per reference: say it once. */
		if (prev && prev->line == e->line && prev->column == e->column &&
		    strcmp(prev->msg, e->msg) == 0)
			continue;
		if (diag_add(out, "%s:%zu:%zu: error: %s", d->path, e->line + 1, e->column + 1,
			     e->msg) < 0) {
			r = -ENOMEM;
			goto out;
		}
	}
	if (d->n_dropped &&
	    diag_add(out, "%s: error: %zu more errors not shown", d->path, d->n_dropped) < 0) {
		r = -ENOMEM;
		goto out;
	}
	r = -EINVAL;
out:
	cfg_diag_free(d);
	return r;
}
