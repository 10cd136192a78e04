/* notice(): the one place the helpers' texts are formatted (notice.h says
 * why they go through a sink).  A text is told whole, as a log_*() call
 * would print it: the usual one fits the stack buffer, a longer one (a
 * path near PATH_MAX) is formatted again into the heap; an event's detail
 * is then cut where event_say() cuts it. */
#include "daemon/notice.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

void notice(const struct notice_sink *s, enum notice_kind kind, const struct subject *about, const char *fmt, ...)
{
	char text[1024], *big = NULL;
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	if (n >= (int)sizeof(text) && (big = malloc((size_t)n + 1)) != NULL) {
		va_start(ap, fmt);
		vsnprintf(big, (size_t)n + 1, fmt, ap);
		va_end(ap);
	}
	s->fn(s->ctx, kind, about, big ? big : text);
	free(big);
}
