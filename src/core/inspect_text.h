/* python.txt: what an inspection found, for a human with less: the
 * summary first, then the figures of both phases and short tables of
 * types, allocation sites (with tracebacks), thread stacks, open files and
 * the script's errors.  At most INSPECT_TEXT_MAX bytes; python.json
 * (core/inspect_render.h) has everything.  Pure. */
#ifndef LEAKWATCH_INSPECT_TEXT_H
#define LEAKWATCH_INSPECT_TEXT_H

#include "core/buf.h"
#include "core/inspect_report.h"
#include "core/inspect_summary.h"

#define INSPECT_TEXT_MAX (16 * 1024)

/* Append python.txt to b (at most INSPECT_TEXT_MAX bytes more; rows that
 * do not fit are left out, and a last line says so).  Valid UTF-8 without
 * a control character but the newlines; each string of the reports is cut
 * to INSPECT_TEXT_NAME bytes.  p1, p2 and m may be NULL, as for
 * inspect_render_json().  Returns 0, or -ENOMEM when b failed. */
#define INSPECT_TEXT_NAME 120
int inspect_render_text(struct buf *b, const struct inspect_report *p1, const struct inspect_report *p2,
			const struct inspect_measure *m, const struct inspect_facts *f);

#endif
