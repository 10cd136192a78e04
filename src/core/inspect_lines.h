/* The framing of the inspection script's report
 * (share/leakwatch/report-format.md, "Lines"): one record per line, fields separated by one TAB, and an end
 * record counting the lines before it.  This module cuts a report into
 * checked lines and fields and reads numbers out of them; which records
 * exist and what their fields mean is core/inspect_report.c's.  Pure. */
#ifndef LEAKWATCH_INSPECT_LINES_H
#define LEAKWATCH_INSPECT_LINES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define INSPECT_REPORT_MAX   (256 * 1024)       /* bytes of a report */
#define INSPECT_LINE_MAX     1024               /* bytes of a line, without its "\n" */
#define INSPECT_FIELD_MAX    256                /* bytes of a field */
#define INSPECT_NUMBER_MAX   9007199254740991ull   /* 2^53-1 */
#define INSPECT_LINES_FIELDS 8      /* fields kept of a line (a known record has at most 6) */

struct inspect_lines {
	size_t line;                /* the current line, from 1 */
	const char *rec;            /* the record being read, for the reasons (set by the reader) */
	char *f[INSPECT_LINES_FIELDS];   /* the first fields, NUL-terminated in place */
	size_t nf;                  /* fields on the line (may be more than kept) */
	char *why;                  /* where the reason goes, whylen bytes (0: nowhere) */
	size_t whylen;
};

/* Cut text (len bytes, changed in place: "\n" and TABs become NULs) into
 * lines, up to and including "end COUNT", and call record(l, ctx) for each
 * line, with f[] and nf set (the end record's too, before its count is
 * checked: a reader that wants other lines first can refuse it).  Each line is checked first: at most
 * INSPECT_LINE_MAX bytes, no control character (C0 but TAB, DEL, C1), valid
 * UTF-8, fields of at most INSPECT_FIELD_MAX bytes, a record name; the end
 * record must count the lines before it and be the last line, and the last
 * line must end with "\n".  Returns 0, or -EBADMSG with the reason in why
 * ("line 7: ..."), or what record() returned when it failed. */
int inspect_lines_run(struct inspect_lines *l, char *text, size_t len,
		      int (*record)(struct inspect_lines *l, void *ctx), void *ctx);

/* Set why to "line N: " and the text; returns -EBADMSG. */
int inspect_fail(struct inspect_lines *l, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Field i read as a count (decimal, no sign, no leading zero, at most
 * 2^53-1), a diff (a count, or minus a count other than 0), seconds (a
 * count, then up to 6 fraction digits), or checked as FILE:LINE (LINE a
 * count after the last ':'); name is the field's, for the reason
 * ("line 7: type: C1: not a count").  Each returns 0 or -EBADMSG. */
int inspect_count(struct inspect_lines *l, size_t i, const char *name, uint64_t *v);
int inspect_diff(struct inspect_lines *l, size_t i, const char *name, int64_t *v);
int inspect_seconds(struct inspect_lines *l, size_t i, const char *name, double *v);
int inspect_where(struct inspect_lines *l, size_t i, const char *name);

#endif
