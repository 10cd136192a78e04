/* The SVG renderer (see plot_svg.h).
 *
 * Why SVG: it is text the daemon can render with no library (a PNG would
 * need an encoder and a rasteriser in the daemon), every browser shows it,
 * rsvg-convert turns it into a PNG, and tests can read it as XML and find
 * the marks by id and class.  Why presentation attributes rather than a
 * stylesheet: every SVG 1.1 reader honours them; <style> support varies.
 * Why a clip path per panel: a trend or a prediction may run off the value
 * axis, and the clip keeps it inside its frame without computing where it
 * leaves.
 *
 * Bounded: a panel holds at most HIST_BUCKETS points, FLOOR_QUARTERS
 * coarse quarters and PLOT_TICKS_MAX ticks per axis, every number is
 * printed with one decimal within +-1e5, and each text is clipped, so a
 * document stays under PLOT_SVG_MAX (tests/test_plot.c checks the worst
 * case).  Text that a watched process controls (comm, title) is escaped
 * for XML: such text must never end an attribute or open an element. */
#include "core/plot_svg.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "core/report_cells.h"
#include "core/units.h"

#define WIDTH     960
#define LEFT      80       /* room for the value labels */
#define RIGHT     24
#define HEAD      70       /* the document's title lines */
#define PANEL_H   250      /* a panel: its title, the frame, the time labels, a gap */
#define FRAME_TOP 28       /* the frame within a panel */
#define FRAME_H   180
#define LEGEND_H  46

#define C_LEAK    "#fdae6b"
#define C_LIMIT   "#fb6a4a"
#define C_BAND    "#9ecae1"
#define C_COARSE  "#c6dbef"
#define C_MEAN    "#08519c"
#define C_TREND   "#d94801"
#define C_MAX     "#cb181d"

struct geo {
	double left, top, w, h;
	double x0, x1, y0, y1;
};

static double clampc(double v)
{
	return isfinite(v) ? fmax(-1e5, fmin(1e5, v)) : 0;
}

static double gx(const struct geo *g, double t)
{
	return clampc(g->left + (t - g->x0) / (g->x1 - g->x0) * g->w);
}

static double gy(const struct geo *g, double v)
{
	return clampc(g->top + g->h * (1 - (v - g->y0) / (g->y1 - g->y0)));
}

void plot_xml_text(struct buf *b, const char *s, size_t max_chars)
{
	for (size_t n = 0; *s; n++) {
		size_t len = utf8_char_len(s);
		unsigned char c = (unsigned char)*s;
		unsigned cp = 0;

		if (n == max_chars) {
			buf_puts(b, "\xe2\x80\xa6");
			return;
		}
		if (len == 0) {
			buf_puts(b, "\xef\xbf\xbd");
			s++;
			continue;
		}
		if (len == 1) {
			const char *e = c == '&' ? "&amp;" : c == '<' ? "&lt;" : c == '>' ? "&gt;" : c == '"' ? "&quot;"
				      : c == '\'' ? "&apos;" : NULL;

			if (e)
				buf_puts(b, e);
			else
				buf_add(b, c < 0x20 || c == 0x7f ? "?" : s, 1);
		} else {
			for (size_t i = 0; i < len; i++)
				cp = i ? cp << 6 | ((unsigned char)s[i] & 0x3f) : c & (0x7f >> len);
			/* C1 controls; U+FFFE and U+FFFF are no XML characters */
			if (cp <= 0x9f || cp == 0xfffe || cp == 0xffff)
				buf_puts(b, "?");
			else
				buf_add(b, s, len);
		}
		s += len;
	}
}

static void text_at(struct buf *b, double x, double y, const char *attrs, const char *s)
{
	buf_printf(b, "<text x=\"%.1f\" y=\"%.1f\" %s>", clampc(x), clampc(y), attrs);
	plot_xml_text(b, s, 160);
	buf_puts(b, "</text>\n");
}

/* The document's title lines: who, what, when. */
static void head(struct buf *b, const struct plot *p)
{
	char line[256], ts[40], d1[24], d2[24];

	buf_printf(b, "<text x=\"%d\" y=\"26\" font-size=\"17\" font-weight=\"bold\" class=\"title\">leakwatch: ", LEFT);
	plot_xml_text(b, p->watch, 64);
	buf_printf(b, ", pid %d (", p->pid);
	plot_xml_text(b, p->comm, 16);
	buf_puts(b, ")</text>\n");
	if (p->title[0]) {
		buf_printf(b, "<text x=\"%d\" y=\"44\" font-size=\"12\" class=\"proctitle\">&#8220;", LEFT);
		plot_xml_text(b, p->title, 64);
		buf_puts(b, "&#8221;</text>\n");
	}
	format_rfc3339(p->now_wall_usec, ts, sizeof(ts));
	format_duration(d1, sizeof(d1), p->window_s);
	format_duration(d2, sizeof(d2), p->bucket_s);
	ts[10] = ' ';
	ts[19] = '\0';   /* "2026-12-03 17:35:36" */
	snprintf(line, sizeof(line), "window %s, %d buckets of %s; now %s UTC", d1, HIST_BUCKETS, d2, ts);
	text_at(b, LEFT, p->title[0] ? 62 : 46, "font-size=\"12\" fill=\"#555555\" class=\"info\"", line);
}

static void panel_title(struct buf *b, const struct plot_panel *pn, double y)
{
	char line[160];

	plot_caption(pn, line, sizeof(line));
	text_at(b, LEFT, y, "font-size=\"13\" font-weight=\"bold\" class=\"panel-title\"", line);
}

/* The leak and limit periods: runs of buckets with the same episode,
 * across the few empty buckets between a sparse metric's reads. */
static void verdicts(struct buf *b, const struct plot_panel *pn, const struct geo *g)
{
	for (size_t i = 0; i < pn->n;) {
		unsigned m = pn->pt[i].marks;
		const char *kind = (m & DETECT_LIMIT) ? "limit" : (m & DETECT_LEAK) ? "leak" : NULL;
		size_t e = i + 1;

		while (e < pn->n && pn->pt[e].near && pn->pt[e].marks == m)
			e++;
		if (kind)
			buf_printf(b, "<rect class=\"verdict %s\" x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" "
				   "fill=\"%s\" fill-opacity=\"0.35\"/>\n", kind, gx(g, pn->pt[i].t0), g->top,
				   fmax(gx(g, pn->pt[e - 1].t1) - gx(g, pn->pt[i].t0), 1), g->h,
				   kind[1] == 'i' ? C_LIMIT : C_LEAK);
		i = e;
	}
}

/* The coarse quarters and, per run of buckets, its band (means false);
 * or the runs' means (true), drawn over the trend so the data stays in
 * sight where the two meet. */
static void data(struct buf *b, const struct plot_panel *pn, const struct geo *g, bool means)
{
	for (size_t i = 0; i < pn->n_coarse && !means; i++) {
		const struct plot_band *c = &pn->coarse[i];

		buf_printf(b, "<rect class=\"coarse\" x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"%s\"/>\n",
			   gx(g, c->t0), gy(g, c->hi), fmax(gx(g, c->t1) - gx(g, c->t0), 0.5),
			   fmax(gy(g, c->lo) - gy(g, c->hi), 1), C_COARSE);
	}
	for (size_t i = 0, e; i < pn->n; i = e) {
		const struct plot_point *q = &pn->pt[i];

		for (e = i + 1; e < pn->n && pn->pt[e].joined; e++)
			;
		if (e - i == 1 && !means)   /* a lone bucket: its band over its span, a dot */
			buf_printf(b, "<path class=\"band\" d=\"M%.1f %.1fH%.1fV%.1fH%.1fZ\" fill=\"%s\" "
				   "fill-opacity=\"0.6\"/>\n", gx(g, q->t0), gy(g, q->max), gx(g, q->t1), gy(g, q->min),
				   gx(g, q->t0), C_BAND);
		else if (e - i == 1)
			buf_printf(b, "<circle class=\"mean\" cx=\"%.1f\" cy=\"%.1f\" r=\"2\" fill=\"%s\"/>\n",
				   gx(g, q->t), gy(g, q->mean), C_MEAN);
		else if (!means) {
			buf_puts(b, "<path class=\"band\" d=\"");
			for (size_t k = i; k < e; k++)
				buf_printf(b, "%s%.1f %.1f", k == i ? "M" : "L", gx(g, pn->pt[k].t), gy(g, pn->pt[k].max));
			for (size_t k = e; k-- > i;)
				buf_printf(b, "L%.1f %.1f", gx(g, pn->pt[k].t), gy(g, pn->pt[k].min));
			buf_printf(b, "Z\" fill=\"%s\" fill-opacity=\"0.6\"/>\n", C_BAND);
		} else {
			buf_puts(b, "<polyline class=\"mean\" points=\"");
			for (size_t k = i; k < e; k++)
				buf_printf(b, "%s%.1f,%.1f", k == i ? "" : " ", gx(g, pn->pt[k].t), gy(g, pn->pt[k].mean));
			buf_printf(b, "\" fill=\"none\" stroke=\"%s\" stroke-width=\"1.6\"/>\n", C_MEAN);
		}
	}
}

/* The limit, the trend, the prediction and where it crosses the limit. */
static void lines(struct buf *b, const struct plot_panel *pn, const struct geo *g, const char *name)
{
	if (pn->max_shown)
		buf_printf(b, "<line id=\"limit-%s\" class=\"limit\" x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" "
			   "stroke=\"%s\" stroke-width=\"1.5\"/>\n", name, g->left, gy(g, pn->max), g->left + g->w,
			   gy(g, pn->max), C_MAX);
	if (pn->has_trend)
		buf_printf(b, "<line id=\"trend-%s\" class=\"trend\" x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" "
			   "stroke=\"%s\" stroke-width=\"2\" stroke-opacity=\"0.75\"/>\n", name, gx(g, pn->trend_t0), gy(g, pn->trend_v0),
			   gx(g, pn->trend_t1), gy(g, pn->trend_v1), C_TREND);
	if (pn->has_predict)
		buf_printf(b, "<line id=\"predict-%s\" class=\"predict\" x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" "
			   "stroke=\"%s\" stroke-width=\"1.6\" stroke-dasharray=\"6,4\"/>\n", name, gx(g, 0),
			   gy(g, pn->value), gx(g, pn->pred_t1), gy(g, pn->pred_v1), C_TREND);
	if (pn->cross_shown)
		buf_printf(b, "<circle id=\"crossing-%s\" class=\"crossing\" cx=\"%.1f\" cy=\"%.1f\" r=\"5\" "
			   "fill=\"none\" stroke=\"%s\" stroke-width=\"2\"/>\n", name, gx(g, pn->eta), gy(g, pn->max),
			   C_MAX);
	buf_printf(b, "<line class=\"now\" x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#636363\" "
		   "stroke-dasharray=\"2,3\"/>\n", gx(g, 0), g->top, gx(g, 0), g->top + g->h);
}

/* The labels of the limit and of the crossing, outside the clip. */
static void labels(struct buf *b, const struct plot *p, const struct plot_panel *pn, const struct geo *g)
{
	char s[96], m[24], e[16], ts[40];

	report_amount(m, sizeof(m), pn->metric, pn->max);
	if (pn->max_shown) {
		snprintf(s, sizeof(s), "max %s", m);
		text_at(b, g->left + 4, gy(g, pn->max) - 4, "font-size=\"11\" fill=\"" C_MAX "\" class=\"limit-label\"", s);
	} else if (pn->has_max) {
		snprintf(s, sizeof(s), "max %s: above", m);
		text_at(b, g->left + g->w - 4, g->top + 12,
			"font-size=\"11\" text-anchor=\"end\" fill=\"" C_MAX "\" class=\"limit-label\"", s);
	}
	if (!pn->has_predict)
		return;
	report_eta(e, sizeof(e), pn->eta);
	format_rfc3339(p->now_wall_usec + (uint64_t)(fmin(pn->eta, 1e11) * 1e6), ts, sizeof(ts));
	ts[10] = ' ';
	ts[19] = '\0';   /* to the second; the date only when it is not today's or tomorrow's */
	snprintf(s, sizeof(s), "reaches max %s (in %s)", pn->eta < 43200 ? ts + 11 : ts, e);
	if (pn->cross_shown)   /* above the limit, left of the marker; below when the frame's top is near */
		text_at(b, gx(g, pn->eta) - 9, gy(g, pn->max) < g->top + 16 ? gy(g, pn->max) + 16 : gy(g, pn->max) - 6,
			"font-size=\"11\" text-anchor=\"end\" fill=\"" C_TREND "\" class=\"crossing-label\"", s);
	else
		text_at(b, g->left + g->w - 4, g->top + g->h - 6,
			"font-size=\"11\" text-anchor=\"end\" fill=\"" C_TREND "\" class=\"crossing-label\"", s);
}

static void axes(struct buf *b, const struct plot *p, const struct plot_panel *pn, const struct geo *g)
{
	for (size_t i = 0; i < pn->n_yticks; i++) {
		double y = gy(g, pn->ytick[i].v);

		buf_printf(b, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#e6e6e6\"/>\n", g->left, y,
			   g->left + g->w, y);
		text_at(b, g->left - 6, y + 4, "font-size=\"11\" text-anchor=\"end\" class=\"ytick\"", pn->ytick[i].label);
	}
	for (size_t i = 0; i < p->n_xticks; i++) {
		double x = gx(g, p->xtick[i].v);

		buf_printf(b, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#999999\"/>\n", x,
			   g->top + g->h, x, g->top + g->h + 5);
		text_at(b, x, g->top + g->h + 18, "font-size=\"11\" text-anchor=\"middle\" class=\"xtick\"",
			p->xtick[i].label);
	}
	if (-p->window_s > p->x0 + 1e-9)   /* coarse quarters before: where the window starts */
		buf_printf(b, "<line class=\"window-start\" x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" "
			   "stroke=\"#969696\" stroke-dasharray=\"4,4\"/>\n", gx(g, -p->window_s), g->top,
			   gx(g, -p->window_s), g->top + g->h);
}

static void panel(struct buf *b, const struct plot *p, const struct plot_panel *pn, double top)
{
	const char *name = metric_name((enum metric)pn->metric);
	struct geo g = { LEFT, top + FRAME_TOP, WIDTH - LEFT - RIGHT, FRAME_H, p->x0, p->x1, pn->y0, pn->y1 };

	buf_printf(b, "<g id=\"panel-%s\" class=\"panel\">\n", name);
	panel_title(b, pn, top + 18);
	buf_printf(b, "<clipPath id=\"clip-%s\"><rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\"/></clipPath>\n"
		   "<rect class=\"frame\" x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"#ffffff\" "
		   "stroke=\"#bdbdbd\"/>\n", name, g.left, g.top, g.w, g.h, g.left, g.top, g.w, g.h);
	if (pn->unreadable) {
		buf_puts(b, "</g>\n");
		return;
	}
	axes(b, p, pn, &g);
	buf_printf(b, "<g clip-path=\"url(#clip-%s)\">\n", name);
	verdicts(b, pn, &g);
	data(b, pn, &g, false);
	lines(b, pn, &g, name);
	data(b, pn, &g, true);
	buf_puts(b, "</g>\n");
	if (!pn->n && !pn->n_coarse)
		text_at(b, g.left + g.w / 2, g.top + g.h / 2, "font-size=\"12\" text-anchor=\"middle\" fill=\"#555555\"",
			"no samples yet");
	labels(b, p, pn, &g);
	buf_puts(b, "</g>\n");
}

static void swatch(struct buf *b, double x, double y, const char *shape, const char *what)
{
	buf_printf(b, "<g transform=\"translate(%.1f,%.1f)\">%s", x, y, shape);
	text_at(b, 26, 4, "font-size=\"11\"", what);
	buf_puts(b, "</g>\n");
}

static void legend(struct buf *b, double y)
{
	buf_puts(b, "<g class=\"legend\">\n");
	swatch(b, LEFT, y, "<line x1=\"0\" y1=\"0\" x2=\"20\" y2=\"0\" stroke=\"" C_MEAN "\" stroke-width=\"1.6\"/>",
	       "bucket mean");
	swatch(b, LEFT + 110, y, "<rect x=\"0\" y=\"-5\" width=\"20\" height=\"10\" fill=\"" C_BAND "\"/>", "min-max");
	swatch(b, LEFT + 200, y, "<rect x=\"0\" y=\"-5\" width=\"20\" height=\"10\" fill=\"" C_COARSE "\"/>",
	       "earlier quarters: min-max");
	swatch(b, LEFT + 390, y, "<line x1=\"0\" y1=\"0\" x2=\"20\" y2=\"0\" stroke=\"" C_TREND "\" stroke-width=\"2\"/>",
	       "trend");
	swatch(b, LEFT + 460, y, "<line x1=\"0\" y1=\"0\" x2=\"20\" y2=\"0\" stroke=\"" C_TREND
	       "\" stroke-dasharray=\"6,4\"/>", "predicted");
	swatch(b, LEFT + 555, y, "<line x1=\"0\" y1=\"0\" x2=\"20\" y2=\"0\" stroke=\"" C_MAX "\" stroke-width=\"1.5\"/>",
	       "max");
	swatch(b, LEFT + 610, y, "<rect x=\"0\" y=\"-5\" width=\"20\" height=\"10\" fill=\"" C_LEAK
	       "\" fill-opacity=\"0.35\"/>", "leak");
	swatch(b, LEFT + 670, y, "<rect x=\"0\" y=\"-5\" width=\"20\" height=\"10\" fill=\"" C_LIMIT
	       "\" fill-opacity=\"0.35\"/>", "over the limit");
	buf_puts(b, "</g>\n");
}

void plot_svg(struct buf *b, const struct plot *p)
{
	int height = HEAD + (int)p->n_panels * PANEL_H + LEGEND_H;

	buf_printf(b, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
		   "<svg xmlns=\"http://www.w3.org/2000/svg\" version=\"1.1\" width=\"%d\" height=\"%d\" "
		   "viewBox=\"0 0 %d %d\" font-family=\"DejaVu Sans, Verdana, sans-serif\">\n<title>leakwatch: ",
		   WIDTH, height, WIDTH, height);
	plot_xml_text(b, p->watch, 64);
	buf_printf(b, ", pid %d (", p->pid);
	plot_xml_text(b, p->comm, 16);
	buf_printf(b, ")</title>\n<rect width=\"%d\" height=\"%d\" fill=\"#ffffff\"/>\n", WIDTH, height);
	head(b, p);
	for (size_t k = 0; k < p->n_panels; k++)
		panel(b, p, &p->panel[k], HEAD + (double)k * PANEL_H);
	legend(b, HEAD + (double)p->n_panels * PANEL_H + 16);
	buf_puts(b, "</svg>\n");
}
