/* The formatting the inspection's summary (core/inspect_summary.c) and its
 * renderers (core/inspect_render.c, core/inspect_text.c) share: figures as
 * operators read them, and strings of a report made fit for one line.
 * Pure. */
#ifndef LEAKWATCH_INSPECT_FMT_H
#define LEAKWATCH_INSPECT_FMT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* a - b, saturated to the range of int64_t. */
int64_t inspect_sdiff(uint64_t a, uint64_t b);

/* Each writes a terminated string into out (nothing when len is 0): a
 * count with thousands separators ("180,000"); a diff the same with its
 * sign ("+180,000", "-12", "+0"); a size with the configuration's suffixes, core/units'
 * format_size ("172M", "1.2M", "512B"), signed when sign ("+172M"; a
 * negative size always is). */
void inspect_fmt_count(char *out, size_t len, uint64_t v);
void inspect_fmt_diff(char *out, size_t len, int64_t v);
void inspect_fmt_size(char *out, size_t len, double bytes, bool sign);

/* s (NULL: "") into out, cut to at most max bytes (and len - 1) on a
 * character boundary, with "..." ending it when cut and max is 8 or more;
 * every control character (C0, DEL, C1) and every byte that is not part of
 * valid UTF-8 as '?'. */
void inspect_clip(char *out, size_t len, const char *s, size_t max);

/* Is the frame "FILE:LINE" in the interpreter's standard library: frozen
 * ("<frozen ...>"), or under .../lib/python3.N/ (or lib64) but not in
 * site-packages or dist-packages? */
bool inspect_stdlib_frame(const char *where);

#endif
