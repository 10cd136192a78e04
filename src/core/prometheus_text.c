/* The Prometheus text writers (see prometheus_text.h), apart from the
 * renderers so that the groups' series (prometheus_group.c) are written
 * by the same code as the processes' and watches' (prometheus.c): a
 * second copy had already drifted (it wrote an infinite value as "inf",
 * which the format does not read).  Costs nothing: the same calls. */
#include "core/prometheus_text.h"

#include <math.h>
#include <stdio.h>

#include "core/config.h"

static const char *label_escape(unsigned char c)
{
	switch (c) {
	case '\\': return "\\\\";
	case '"':  return "\\\"";
	case '\n': return "\\n";
	default:   return NULL;
	}
}

struct line prom_line_start(struct buf *b, const char *name)
{
	buf_puts(b, name);
	return (struct line){ .b = b, .open = false };
}

void prom_label(struct line *s, const char *name, const char *v)
{
	if (!v || !*v)
		return;
	buf_printf(s->b, "%s%s=\"", s->open ? "," : "{", name);
	s->open = true;
	buf_utf8(s->b, v, label_escape);
	buf_puts(s->b, "\"");
}

void prom_value(struct line *s, double v)
{
	struct buf *b = s->b;

	if (s->open)
		buf_puts(b, "}");
	if (isnan(v))
		buf_puts(b, " NaN\n");
	else if (isinf(v))
		buf_puts(b, v > 0 ? " +Inf\n" : " -Inf\n");
	else if (fabs(v) < 9e15 && v == floor(v))
		buf_printf(b, " %.0f\n", v + 0.0);
	else
		buf_printf(b, " %.9g\n", v);
}

void prom_family(struct buf *b, const char *name, const char *type, const char *help)
{
	buf_printf(b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

struct line prom_watch_series(struct buf *b, const char *name, const char *watch, int m)
{
	struct line s = prom_line_start(b, name);

	prom_label(&s, "watch", watch);
	if (m >= 0)
		prom_label(&s, "metric", metric_name((enum metric)m));
	return s;
}
