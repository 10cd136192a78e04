/* The growable text buffer (see buf.h), and the UTF-8 rule every renderer
 * shares.
 *
 * Why allocation failure is sticky: a page (the status JSON, the Prometheus
 * text, an incident's files) is built by many buf_printf() calls, and
 * checking each would bury the rendering in error paths, where one missed
 * check ships a page with a hole in it.  Instead the first failed
 * allocation sets failed, every later call does nothing, and the owner
 * checks buf_ok() once before using the text: all of it or none.  The
 * capacity doubles from 256 bytes (O(n) copying for n bytes); buf_printf()
 * formats into the free space and formats again only when it did not fit;
 * buf_reset() keeps the memory, so a buffer reused per scrape or capture
 * stops allocating once grown.
 *
 * Why U+FFFD: some of what is rendered comes from the watched processes (a
 * comm, and event texts that quote one) and may hold any bytes, while JSON
 * and the Prometheus text must be UTF-8.  utf8_char_len() accepts exactly
 * the well-formed sequences (no overlong forms, no surrogates, nothing past
 * U+10FFFF); buf_utf8() writes U+FFFD, the standard replacement, for each
 * byte that is not part of one and keeps the rest as it was. */
#include "core/buf.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static bool reserve(struct buf *b, size_t more)
{
	size_t cap;
	char *p;

	if (b->failed)
		return false;
	if (b->len + more + 1 <= b->cap)
		return true;
	cap = b->cap ? b->cap : 256;
	while (cap < b->len + more + 1)
		cap *= 2;
	p = realloc(b->data, cap);
	if (!p) {
		b->failed = true;
		return false;
	}
	b->data = p;
	b->cap = cap;
	return true;
}

void buf_add(struct buf *b, const void *data, size_t len)
{
	if (!reserve(b, len))
		return;
	memcpy(b->data + b->len, data, len);
	b->len += len;
	b->data[b->len] = '\0';
}

void buf_puts(struct buf *b, const char *s)
{
	buf_add(b, s, strlen(s));
}

void buf_printf(struct buf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (!reserve(b, 128))
		return;
	va_start(ap, fmt);
	n = vsnprintf(b->data + b->len, b->cap - b->len, fmt, ap);
	va_end(ap);
	if (n < 0) {
		b->failed = true;
		return;
	}
	if ((size_t)n >= b->cap - b->len) {
		if (!reserve(b, (size_t)n))
			return;
		va_start(ap, fmt);
		vsnprintf(b->data + b->len, b->cap - b->len, fmt, ap);
		va_end(ap);
	}
	b->len += (size_t)n;
}

size_t utf8_char_len(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t n;
	uint32_t cp;

	if (p[0] < 0x80)
		return p[0] ? 1 : 0;
	if (p[0] >= 0xc2 && p[0] <= 0xdf)
		n = 2, cp = p[0] & 0x1f;
	else if (p[0] >= 0xe0 && p[0] <= 0xef)
		n = 3, cp = p[0] & 0x0f;
	else if (p[0] >= 0xf0 && p[0] <= 0xf4)
		n = 4, cp = p[0] & 0x07;
	else
		return 0;
	for (size_t i = 1; i < n; i++) {
		if ((p[i] & 0xc0) != 0x80)   /* also stops at the NUL */
			return 0;
		cp = cp << 6 | (p[i] & 0x3f);
	}
	/* no overlong forms, no surrogates, nothing past U+10FFFF */
	if ((n == 3 && cp < 0x800) || (n == 4 && (cp < 0x10000 || cp > 0x10ffff)) ||
	    (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return n;
}

void buf_utf8(struct buf *b, const char *s, const char *(*escape)(unsigned char c))
{
	while (*s) {
		size_t n = utf8_char_len(s);
		const char *e;

		if (n == 0) {                /* not UTF-8: U+FFFD */
			buf_puts(b, "\xef\xbf\xbd");
			s++;
			continue;
		}
		e = n == 1 && escape ? escape((unsigned char)*s) : NULL;
		if (e)
			buf_puts(b, e);
		else
			buf_add(b, s, n);
		s += n;
	}
}

/* The escapes of the control characters, in a table: no scratch buffer
 * to share between calls. */
static const char control_escapes[32][7] = {
	"\\u0000", "\\u0001", "\\u0002", "\\u0003",
	"\\u0004", "\\u0005", "\\u0006", "\\u0007",
	"\\u0008", "\\u0009", "\\u000a", "\\u000b",
	"\\u000c", "\\u000d", "\\u000e", "\\u000f",
	"\\u0010", "\\u0011", "\\u0012", "\\u0013",
	"\\u0014", "\\u0015", "\\u0016", "\\u0017",
	"\\u0018", "\\u0019", "\\u001a", "\\u001b",
	"\\u001c", "\\u001d", "\\u001e", "\\u001f",
};

static const char *json_escape(unsigned char c)
{
	if (c == '"')
		return "\\\"";
	if (c == '\\')
		return "\\\\";
	if (c < 0x20)
		return control_escapes[c];
	if (c == 0x7f)
		return "\\u007f";
	return NULL;
}

void buf_json_string(struct buf *b, const char *s)
{
	buf_add(b, "\"", 1);
	buf_utf8(b, s, json_escape);
	buf_add(b, "\"", 1);
}

/* For a line of text: C's escapes where it has a short one, else \xNN. */
static const char line_escapes[32][5] = {
	"\\x00", "\\x01", "\\x02", "\\x03", "\\x04", "\\x05", "\\x06", "\\a",
	"\\b", "\\t", "\\n", "\\v", "\\f", "\\r", "\\x0e", "\\x0f",
	"\\x10", "\\x11", "\\x12", "\\x13", "\\x14", "\\x15", "\\x16", "\\x17",
	"\\x18", "\\x19", "\\x1a", "\\x1b", "\\x1c", "\\x1d", "\\x1e", "\\x1f",
};

static const char *line_escape(unsigned char c)
{
	if (c < 0x20)
		return line_escapes[c];
	return c == 0x7f ? "\\x7f" : NULL;
}

void buf_line_text(struct buf *b, const char *s)
{
	buf_utf8(b, s, line_escape);
}

void buf_json_number(struct buf *b, double v)
{
	if (!isfinite(v))
		buf_puts(b, "null");
	else if (fabs(v) < 9e15 && v == floor(v))
		buf_printf(b, "%.0f", v + 0.0);   /* + 0.0: never "-0" */
	else
		buf_printf(b, "%.3f", v);
}

void buf_reset(struct buf *b)
{
	b->len = 0;
	b->failed = false;
	if (b->data)
		b->data[0] = '\0';
}

void buf_free(struct buf *b)
{
	free(b->data);
	memset(b, 0, sizeof(*b));
}
