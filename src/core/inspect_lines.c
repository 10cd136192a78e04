/* The framing of the inspection report (see inspect_lines.h): lines,
 * fields and numbers, checked before any record is looked at.
 *
 * The problem: the text comes from a hostile process, and what is made of
 * it goes to operators, logs and the journal.  So the checks that hold for
 * every line, known record or not, are made here once: a line of at most
 * 1024 bytes, fields of at most 256, no control character (a newline or
 * an escape sequence in a type name would forge a log line or repaint a
 * terminal; the script replaces every Unicode Cc by '?', so one here is a
 * forgery or a bug), valid UTF-8 (checked with the renderers' own
 * utf8_char_len, so "valid" means the same on both sides), and the end
 * record that proves the report whole: its count, nothing after it, and
 * the "\n" of the last line (a report cut short by a full pipe or a
 * killed writer fails here, not in some record half read).
 *
 * Numbers: at most 2^53-1, the largest integer a JSON reader keeps exact,
 * in plain decimal, no sign (diffs: a '-'), no leading zero, so that each
 * number has one spelling; seconds are a count and at most 6 fraction
 * digits.  Anything else is refused rather than clamped: a clamped number
 * would be a figure the script never wrote.
 *
 * The cost: one pass over the text, cut in place (its "\n" and TABs become
 * NULs, so the fields are strings where they lie: no allocation here); the
 * reason is formatted only on failure. */
#include "core/inspect_lines.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "core/buf.h"

int inspect_fail(struct inspect_lines *l, const char *fmt, ...)
{
	char msg[160];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (l->whylen)
		snprintf(l->why, l->whylen, "line %zu: %s", l->line, msg);
	return -EBADMSG;
}

/* n bytes of s as a count: decimal digits, no leading zero, ≤ 2^53-1. */
static bool uint_n(const char *s, size_t n, uint64_t *v)
{
	uint64_t x = 0;

	if (n == 0 || n > 16 || (s[0] == '0' && n > 1))
		return false;
	for (size_t k = 0; k < n; k++) {
		if (s[k] < '0' || s[k] > '9')
			return false;
		x = x * 10 + (uint64_t)(s[k] - '0');
	}
	if (x > INSPECT_NUMBER_MAX)
		return false;
	*v = x;
	return true;
}

int inspect_count(struct inspect_lines *l, size_t i, const char *name, uint64_t *v)
{
	if (!uint_n(l->f[i], strlen(l->f[i]), v))
		return inspect_fail(l, "%s: %s: not a count", l->rec, name);
	return 0;
}

int inspect_diff(struct inspect_lines *l, size_t i, const char *name, int64_t *v)
{
	const char *s = l->f[i];
	bool neg = s[0] == '-';
	uint64_t x;

	if (!uint_n(s + neg, strlen(s + neg), &x) || (neg && x == 0))
		return inspect_fail(l, "%s: %s: not a number", l->rec, name);
	*v = neg ? -(int64_t)x : (int64_t)x;
	return 0;
}

int inspect_seconds(struct inspect_lines *l, size_t i, const char *name, double *v)
{
	const char *s = l->f[i], *frac;
	size_t n = strcspn(s, "."), m = 0;
	uint64_t whole, part = 0;
	double scale = 1;

	if (!uint_n(s, n, &whole))
		goto bad;
	if (s[n] == '.') {
		frac = s + n + 1;
		for (; frac[m]; m++) {
			if (frac[m] < '0' || frac[m] > '9' || m == 6)
				goto bad;
			part = part * 10 + (uint64_t)(frac[m] - '0');
			scale *= 10;
		}
		if (m == 0)
			goto bad;
	}
	*v = (double)whole + (double)part / scale;
	return 0;
bad:
	return inspect_fail(l, "%s: %s: not seconds", l->rec, name);
}

int inspect_where(struct inspect_lines *l, size_t i, const char *name)
{
	const char *colon = strrchr(l->f[i], ':');
	uint64_t line;

	if (!colon || !uint_n(colon + 1, strlen(colon + 1), &line))
		return inspect_fail(l, "%s: %s: not FILE:LINE", l->rec, name);
	return 0;
}

/* The bytes of one line (NUL-terminated at n): TABs, printable ASCII and
 * UTF-8 other than the C1 controls. */
static int check_bytes(struct inspect_lines *l, const char *s, size_t n)
{
	size_t i = 0;

	while (i < n) {
		unsigned char c = (unsigned char)s[i];
		size_t k;

		if (c == '\t' || (c >= 0x20 && c < 0x7f)) {
			i++;
			continue;
		}
		if (c < 0x80)
			return inspect_fail(l, "control character 0x%02x at byte %zu", c, i + 1);
		k = utf8_char_len(s + i);   /* stops at the NUL at n */
		if (k == 0)
			return inspect_fail(l, "not UTF-8 at byte %zu", i + 1);
		if (c == 0xc2 && (unsigned char)s[i + 1] < 0xa0)
			return inspect_fail(l, "control character U+%04X at byte %zu",
					    (unsigned char)s[i + 1], i + 1);
		i += k;
	}
	return 0;
}

/* Cut the line at its TABs: the first INSPECT_LINES_FIELDS fields in f[],
 * how many there are in nf. */
static int split(struct inspect_lines *l, char *s)
{
	l->nf = 0;
	for (;;) {
		char *tab = strchr(s, '\t');
		size_t n = tab ? (size_t)(tab - s) : strlen(s);

		if (n > INSPECT_FIELD_MAX)
			return inspect_fail(l, "field %zu longer than %d bytes", l->nf + 1, INSPECT_FIELD_MAX);
		if (l->nf < INSPECT_LINES_FIELDS)
			l->f[l->nf] = s;
		l->nf++;
		if (!tab)
			return 0;
		*tab = '\0';
		s = tab + 1;
	}
}

static int end_record(struct inspect_lines *l)
{
	uint64_t n;

	l->rec = "end";
	if (l->nf != 2)
		return inspect_fail(l, "end: %zu fields, expected 2", l->nf);
	if (inspect_count(l, 1, "COUNT", &n) < 0)
		return -EBADMSG;
	if (n != l->line - 1)
		return inspect_fail(l, "end: COUNT %llu, but %zu lines came before it",
				    (unsigned long long)n, l->line - 1);
	return 1;
}

/* One line, NUL-terminated at n: 0, 1 at the end record, or < 0. */
static int one_line(struct inspect_lines *l, char *s, size_t n,
		    int (*record)(struct inspect_lines *l, void *ctx), void *ctx)
{
	int rc;

	if (n > INSPECT_LINE_MAX)
		return inspect_fail(l, "longer than %d bytes", INSPECT_LINE_MAX);
	if (check_bytes(l, s, n) < 0 || split(l, s) < 0)
		return -EBADMSG;
	if (l->f[0][0] == '\0')
		return inspect_fail(l, "empty record name");
	l->rec = NULL;
	rc = record(l, ctx);
	if (rc < 0 || strcmp(l->f[0], "end") != 0)
		return rc;
	return end_record(l);
}

int inspect_lines_run(struct inspect_lines *l, char *text, size_t len,
		      int (*record)(struct inspect_lines *l, void *ctx), void *ctx)
{
	size_t off = 0;

	for (l->line = 1;; l->line++) {
		char *s = text + off, *nl;
		int rc;

		if (off == len)
			return inspect_fail(l, "no end record");
		nl = memchr(s, '\n', len - off);
		if (!nl)
			return inspect_fail(l, "no newline at the end of the report");
		*nl = '\0';
		off = (size_t)(nl - text) + 1;
		rc = one_line(l, s, (size_t)(nl - s), record, ctx);
		if (rc < 0)
			return rc;
		if (rc == 1)
			break;
	}
	if (off != len) {
		l->line++;
		return inspect_fail(l, "text after the end record");
	}
	return 0;
}
