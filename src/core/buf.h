/* A growable text buffer for rendered output (reports, metrics, the state
 * file).  Allocation failure is sticky: check buf_ok() once at the end. */
#ifndef LEAKWATCH_BUF_H
#define LEAKWATCH_BUF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct buf {
	char *data;        /* NUL-terminated while ok */
	size_t len, cap;
	bool failed;       /* an allocation failed: the content is incomplete */
};

void buf_printf(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void buf_add(struct buf *b, const void *data, size_t len);
void buf_puts(struct buf *b, const char *s);
/* The length of the valid UTF-8 character at s (1-4), 0 when invalid or at the end. */
size_t utf8_char_len(const char *s);
/* s with every invalid byte replaced by U+FFFD, and each ASCII character
 * that escape() maps (when given) written as its escape. */
void buf_utf8(struct buf *b, const char *s, const char *(*escape)(unsigned char c));
/* s as a JSON string, quotes included; valid UTF-8 whatever s holds. */
void buf_json_string(struct buf *b, const char *s);
/* s as text within one line of a stream (the console, stderr): valid
 * UTF-8, and no control character (a newline in a comm would start a
 * forged line): those as C escapes, "\\n", "\\t", "\\x1b". */
void buf_line_text(struct buf *b, const char *s);
/* A JSON number: an integer where whole, else 3 decimals; null when not finite. */
void buf_json_number(struct buf *b, double v);
void buf_reset(struct buf *b);          /* empty, keeps the memory */
void buf_free(struct buf *b);           /* accepts a zeroed buf */
static inline bool buf_ok(const struct buf *b) { return !b->failed; }

#endif
