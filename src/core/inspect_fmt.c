/* The formatting the inspection's summary and renderers share (see
 * inspect_fmt.h): counts with thousands separators, signed diffs,
 * sizes as the events and tables say them ("+172M": core/units'
 * format_size, signed), the clip that makes a report's string fit a line, and the
 * test of a frame for the standard library (by its path, the only mark
 * the report gives: a program installed in a lib/python3.N/ directory of
 * its own, outside site-packages, would count as the stdlib).
 *
 * Why a clip of its own rather than buf_line_text(): the summary and the
 * facts are fixed buffers that go into an event (its detail, the journal's
 * fields), not a struct buf; and a string cut there must be cut on a
 * character boundary, or the event's JSON would end in half a character.
 * The report's strings are already control-free UTF-8 (the parser refuses
 * the rest), so '?' for a bad byte is a second line of defence that costs
 * one test per byte, not a rendering anyone should see. */
#include "core/inspect_fmt.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "core/buf.h"
#include "core/units.h"

int64_t inspect_sdiff(uint64_t a, uint64_t b)
{
	if (a >= b)
		return a - b > (uint64_t)INT64_MAX ? INT64_MAX : (int64_t)(a - b);
	return b - a > (uint64_t)INT64_MAX ? INT64_MIN : -(int64_t)(b - a);
}

void inspect_fmt_count(char *out, size_t len, uint64_t v)
{
	char d[24], t[32];
	int n = snprintf(d, sizeof(d), "%llu", (unsigned long long)v);
	size_t o = 0;

	for (int i = 0; i < n; i++) {
		if (i && (n - i) % 3 == 0)
			t[o++] = ',';
		t[o++] = d[i];
	}
	t[o] = '\0';
	if (len)
		snprintf(out, len, "%s", t);
}

void inspect_fmt_diff(char *out, size_t len, int64_t v)
{
	uint64_t mag = v < 0 ? (uint64_t)(-(v + 1)) + 1 : (uint64_t)v;
	char t[32];

	inspect_fmt_count(t, sizeof(t), mag);
	if (len)
		snprintf(out, len, "%s%s", v < 0 ? "-" : "+", t);
}

void inspect_fmt_size(char *out, size_t len, double bytes, bool sign)
{
	char t[48];

	if (!len)
		return;
	format_size(t, sizeof(t), fabs(bytes));
	snprintf(out, len, "%s%s", bytes < 0 ? "-" : sign ? "+" : "", t);
}

/* The next character of s: the bytes it takes, and in ok whether it is
 * printable UTF-8 (else it shows as '?'). */
static size_t next_char(const char *s, bool *ok)
{
	unsigned char c = (unsigned char)s[0];
	size_t k;

	*ok = false;
	if (c < 0x20 || c == 0x7f)
		return 1;
	if (c < 0x80) {
		*ok = true;
		return 1;
	}
	k = utf8_char_len(s);
	if (k == 0)
		return 1;
	if (c == 0xc2 && (unsigned char)s[1] < 0xa0)   /* C1 controls */
		return 2;
	*ok = true;
	return k;
}

/* Bytes of s as clipped shows it, without a cut. */
static size_t shown_len(const char *s)
{
	size_t n = 0;
	bool ok;

	while (*s) {
		size_t k = next_char(s, &ok);

		n += ok ? k : 1;
		s += k;
	}
	return n;
}

void inspect_clip(char *out, size_t len, const char *s, size_t max)
{
	size_t o = 0, limit;
	bool cut, ok;

	if (!len)
		return;
	if (!s)
		s = "";
	if (max > len - 1)
		max = len - 1;
	cut = shown_len(s) > max && max >= 8;    /* "..." only where it leaves a name */
	limit = cut ? max - 3 : max;
	while (*s) {
		size_t k = next_char(s, &ok), w = ok ? k : 1;

		if (o + w > limit)
			break;
		if (ok)
			memcpy(out + o, s, k);
		else
			out[o] = '?';
		o += w;
		s += k;
	}
	if (cut) {
		memcpy(out + o, "...", 3);
		o += 3;
	}
	out[o] = '\0';
}

bool inspect_stdlib_frame(const char *where)
{
	if (strncmp(where, "<frozen ", 8) == 0)
		return true;
	if (!strstr(where, "/lib/python3.") && !strstr(where, "/lib64/python3."))
		return false;
	return !strstr(where, "/site-packages/") && !strstr(where, "/dist-packages/");
}
