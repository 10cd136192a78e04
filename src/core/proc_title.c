/* Process titles (see proc_title.h).
 *
 * The problem: an event said "api: pid 7067 (uwsgi)", and every process of
 * a uWSGI instance is "uwsgi", every Celery process "[celeryd: worke"; the
 * slot a server gives its worker is in the title it sets (setproctitle,
 * uWSGI's --auto-procname), which is /proc/PID/cmdline.  The owner of the
 * process writes that text: it may hold newlines (a forged second line in
 * a log), terminal escapes (ESC, or C1's CSI 0x9b, which a terminal reads
 * as ESC [), bytes of no character, and run to megabytes.
 *
 * What the alternatives fail on: the whole cmdline joined is a command
 * line, not a title (a python service's one is its interpreter, script
 * and every flag, and setproctitle pads with NULs or spaces to the end of
 * the argv area); escaping at each sink (as the JSON and console writers
 * do for comm) keeps the bytes but a journal field or status column still
 * shows them raw; cutting at a fixed length drops the slot, which Celery
 * puts last, after a host name of any length.  So the title is made once,
 * here: one line, trimmed, only printable UTF-8, and clipped in the
 * middle, so "[celeryd: worker1@a-long...example.com:ForkPoolWorker-3]"
 * still says which child.
 *
 * Costs: one pass over what was read (the caller bounds it: a page), in
 * place; no allocation. */
#include "core/proc_title.h"

#include <string.h>

#include "core/buf.h"

/* A printable character's length at s (NUL-terminated), or 0 for a byte
 * that must be replaced: a control character (C0, DEL, C1), or no valid
 * UTF-8. */
static size_t printable_len(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t n = utf8_char_len(s);

	if (n == 1 && (p[0] < 0x20 || p[0] == 0x7f))
		return 0;
	if (n == 2 && p[0] == 0xc2 && p[1] < 0xa0)   /* U+0080 to U+009F */
		return 0;
	return n;
}

/* Sanitise s (len bytes, NUL-terminated) in place: the new length.  A
 * replaced byte becomes one '?' (a '"' one '\''), so the text never grows. */
static size_t sanitise(char *s, size_t len)
{
	size_t in = 0, out = 0;

	while (in < len) {
		size_t n = printable_len(s + in);

		if (n == 0 || s[in] == '"') {
			s[out++] = n ? '\'' : '?';
			in++;
			continue;
		}
		memmove(s + out, s + in, n);
		out += n;
		in += n;
	}
	s[out] = '\0';
	return out;
}

static int continuation(char c)
{
	return ((unsigned char)c & 0xc0) == 0x80;
}

size_t proc_title(char *raw, size_t len, char out[PROC_TITLE_SIZE])
{
	size_t end = 0, start = 0, head, tail;

	while (end < len && raw[end] != '\n')
		end++;
	for (size_t i = 0; i < end; i++)
		if (raw[i] == '\0')
			raw[i] = ' ';
	raw[end] = '\0';
	end = sanitise(raw, end);
	while (start < end && raw[start] == ' ')
		start++;
	while (end > start && raw[end - 1] == ' ')
		end--;
	len = end - start;
	if (len < PROC_TITLE_SIZE) {
		memcpy(out, raw + start, len);
		out[len] = '\0';
		return len;
	}
	/* the text is valid UTF-8 now: a cut only has to avoid the middle
	 * of a character */
	head = PROC_TITLE_HEAD;
	while (head > 0 && continuation(raw[start + head]))
		head--;
	tail = PROC_TITLE_TAIL;
	while (tail > 0 && continuation(raw[end - tail]))
		tail--;
	memcpy(out, raw + start, head);
	memcpy(out + head, "...", 3);
	memcpy(out + head + 3, raw + end - tail, tail);
	out[head + 3 + tail] = '\0';
	return head + 3 + tail;
}
