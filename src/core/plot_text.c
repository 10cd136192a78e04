/* The terminal renderer (see plot_text.h).
 *
 * Why braille: a cell of 2 x 4 dots gives a chart four times the rows and
 * twice the columns that block characters give (the status table's
 * sparkline, 8 levels in one row), in any UTF-8 terminal font, without
 * colours or escape sequences (a pipe or a log keeps them).  What it
 * cannot do is tell lines apart by colour, so they differ by pattern: the
 * bucket means solid, their minimum and maximum single dots, the trend
 * every third dot, the prediction every other, the limit a dashed row,
 * the coarse quarters stippled; the crossing is an 'X' and the verdicts
 * have their own row of letters.
 *
 * Text from the process or the config (watch, comm, title) is clipped and
 * made printable ASCII (report_clip): a terminal must not get escape
 * sequences from a watched process.
 *
 * Costs: a canvas of PLOT_TEXT_ROWS x PLOT_TEXT_WIDTH_MAX cells (8 KiB,
 * on the stack) per panel; the output at most about 3 bytes per cell. */
#include "core/plot_text.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/report_cells.h"
#include "core/units.h"

#define LABEL 8                      /* "%7s" and the axis line */
#define DOTS_H (4 * PLOT_TEXT_ROWS)

struct canvas {
	const struct plot *p;
	const struct plot_panel *pn;
	int cw;                                           /* cells across */
	unsigned char dot[PLOT_TEXT_ROWS][PLOT_TEXT_WIDTH_MAX];
	char over[PLOT_TEXT_ROWS][PLOT_TEXT_WIDTH_MAX];   /* a character instead of the dots, or 0 */
};

static int clampi(double v)
{
	return isfinite(v) ? (int)lround(fmax(-20000, fmin(20000, v))) : -20000;
}

static int nonneg(int v)
{
	return v < 0 ? 0 : v;
}

static int cx(const struct canvas *c, double t)
{
	return clampi((t - c->p->x0) / (c->p->x1 - c->p->x0) * (2 * c->cw - 1));
}

static int cy(const struct canvas *c, double v)
{
	return clampi((1 - (v - c->pn->y0) / (c->pn->y1 - c->pn->y0)) * (DOTS_H - 1));
}

static void dot(struct canvas *c, int x, int y)
{
	static const unsigned char bit[4][2] = { { 0x01, 0x08 }, { 0x02, 0x10 }, { 0x04, 0x20 }, { 0x40, 0x80 } };

	if (x >= 0 && y >= 0 && x < 2 * c->cw && y < DOTS_H)
		c->dot[y / 4][x / 2] |= bit[y % 4][x % 2];
}

/* A straight line, every `every`-th dot of it. */
static void segment(struct canvas *c, int xa, int ya, int xb, int yb, int every)
{
	int n = abs(xb - xa) > abs(yb - ya) ? abs(xb - xa) : abs(yb - ya);

	for (int i = 0; i <= n; i += every)
		dot(c, n ? xa + (int)lround((double)(xb - xa) * i / n) : xa,
		    n ? ya + (int)lround((double)(yb - ya) * i / n) : ya);
}

static void draw(struct canvas *c)
{
	const struct plot_panel *pn = c->pn;

	for (size_t i = 0; i < pn->n_coarse; i++)     /* stippled, within the canvas */
		for (int x = nonneg(cx(c, pn->coarse[i].t0)); x <= cx(c, pn->coarse[i].t1) && x < 2 * c->cw; x++)
			for (int y = nonneg(cy(c, pn->coarse[i].hi)); y <= cy(c, pn->coarse[i].lo) && y < DOTS_H; y++)
				if ((x + y) % 2 == 0)
					dot(c, x, y);
	for (size_t i = 0; i < pn->n; i++) {
		const struct plot_point *q = &pn->pt[i];

		dot(c, cx(c, q->t), cy(c, q->min));
		dot(c, cx(c, q->t), cy(c, q->max));
		if (i && q->joined)
			segment(c, cx(c, pn->pt[i - 1].t), cy(c, pn->pt[i - 1].mean), cx(c, q->t), cy(c, q->mean), 1);
		else
			dot(c, cx(c, q->t), cy(c, q->mean));
	}
	if (pn->max_shown)
		for (int x = 0; x < 2 * c->cw; x += 2)
			dot(c, x, cy(c, pn->max));
	if (pn->has_trend)
		segment(c, cx(c, pn->trend_t0), cy(c, pn->trend_v0), cx(c, pn->trend_t1), cy(c, pn->trend_v1), 3);
	if (pn->has_predict)
		segment(c, cx(c, 0), cy(c, pn->value), cx(c, pn->pred_t1), cy(c, pn->pred_v1), 2);
	if (pn->cross_shown) {
		int x = cx(c, pn->eta) / 2, y = cy(c, pn->max) / 4;

		if (x >= 0 && x < c->cw && y >= 0 && y < PLOT_TEXT_ROWS)
			c->over[y][x] = 'X';
	}
}

static void put_cell(struct buf *b, const struct canvas *c, int row, int col)
{
	unsigned d = c->dot[row][col];
	char u[3] = { (char)0xe2, (char)(0xa0 | d >> 6), (char)(0x80 | (d & 0x3f)) };

	if (c->over[row][col])
		buf_add(b, &c->over[row][col], 1);
	else if (!d)
		buf_puts(b, " ");
	else
		buf_add(b, u, 3);
}

static void rows(struct buf *b, const struct canvas *c)
{
	const char *label[PLOT_TEXT_ROWS] = { 0 };

	for (size_t i = 0; i < c->pn->n_yticks; i++) {
		int r = cy(c, c->pn->ytick[i].v) / 4;

		if (r >= 0 && r < PLOT_TEXT_ROWS && !label[r])
			label[r] = c->pn->ytick[i].label;
	}
	for (int r = 0; r < PLOT_TEXT_ROWS; r++) {
		buf_printf(b, "%7.7s%s", label[r] ? label[r] : "", label[r] ? "\xe2\x94\xa4" : "\xe2\x94\x82");
		for (int col = 0; col < c->cw; col++)
			put_cell(b, c, r, col);
		buf_puts(b, "\n");
	}
}

/* The time axis, its labels where they fit, and the verdicts row. */
static void time_axis(struct buf *b, const struct canvas *c)
{
	char line[PLOT_TEXT_WIDTH_MAX + 1];
	int end = 0;

	buf_printf(b, "%7s\xe2\x94\x94", "");
	for (int col = 0; col < c->cw; col++)
		buf_puts(b, "\xe2\x94\x80");
	memset(line, ' ', (size_t)c->cw);
	for (size_t i = 0; i < c->p->n_xticks; i++) {
		const char *s = c->p->xtick[i].label;
		int len = (int)strlen(s), at = cx(c, c->p->xtick[i].v) / 2 - len / 2;

		if (at < end || at < 0 || at + len > c->cw)
			continue;
		memcpy(line + at, s, (size_t)len);
		end = at + len + 1;
	}
	line[c->cw] = '\0';
	buf_printf(b, "\n%8s%s\n", "", line);
	for (int col = 0; col < c->cw; col++) {
		double t0 = c->p->x0 + (c->p->x1 - c->p->x0) * col / c->cw;
		double t1 = c->p->x0 + (c->p->x1 - c->p->x0) * (col + 1) / c->cw;
		char ch = ' ';

		for (size_t i = 0; i < c->pn->n; i++) {
			const struct plot_point *q = &c->pn->pt[i];
			/* a period runs on across the gap before a near point */
			double from = i && q->near && c->pn->pt[i - 1].marks == q->marks ? c->pn->pt[i - 1].t1 : q->t0;

			if (q->t1 <= t0 || from >= t1)
				continue;
			if (q->marks & DETECT_LIMIT)
				ch = '!';
			else if ((q->marks & DETECT_LEAK) && ch != '!')
				ch = 'L';
			else if (ch == ' ')
				ch = '.';
		}
		line[col] = ch;
	}
	buf_printf(b, "verdict %s\n", line);
}

static void panel(struct buf *b, const struct plot *p, const struct plot_panel *pn, int cw, unsigned width)
{
	static struct canvas zero;
	struct canvas c = zero;
	char caption[160];

	plot_caption(pn, caption, sizeof(caption));
	buf_printf(b, "\n%.*s\n", (int)width, caption);
	if (pn->unreadable)
		return;
	if (!pn->n && !pn->n_coarse) {
		buf_puts(b, "(no samples yet)\n");
		return;
	}
	c.p = p;
	c.pn = pn;
	c.cw = cw;
	draw(&c);
	rows(b, &c);
	time_axis(b, &c);
}

void plot_text(struct buf *b, const struct plot *p, unsigned width)
{
	static const char *const legend[] = {
		"solid: bucket means; dots: their min and max; stippled: earlier quarters",
		"every 3rd dot: trend; every 2nd: predicted; dashed: max; X: crossing",
		"verdicts: L leak, ! over the limit, . neither",
	};
	char name[65], comm[16], title[PROC_TITLE_SIZE], ts[40], d1[24], d2[24], line[256];
	int cw;

	width = width < PLOT_TEXT_WIDTH_MIN ? PLOT_TEXT_WIDTH_MIN : width > PLOT_TEXT_WIDTH_MAX ? PLOT_TEXT_WIDTH_MAX
											      : width;
	cw = (int)width - LABEL - 1;
	report_clip(name, p->watch, 64);
	report_clip(comm, p->comm, 15);
	snprintf(line, sizeof(line), "leakwatch: %s, pid %d (%s)", name, p->pid, comm);
	buf_printf(b, "%.*s\n", (int)width, line);
	if (p->title[0]) {
		report_clip(title, p->title, sizeof(title) - 1);
		snprintf(line, sizeof(line), "\"%s\"", title);
		buf_printf(b, "%.*s\n", (int)width, line);
	}
	format_rfc3339(p->now_wall_usec, ts, sizeof(ts));
	format_duration(d1, sizeof(d1), p->window_s);
	format_duration(d2, sizeof(d2), p->bucket_s);
	ts[10] = ' ';
	ts[19] = '\0';   /* "2026-12-03 17:35:36" */
	snprintf(line, sizeof(line), "window %s, %d buckets of %s; now %s UTC", d1, HIST_BUCKETS, d2, ts);
	buf_printf(b, "%.*s\n", (int)width, line);
	for (size_t k = 0; k < p->n_panels; k++)
		panel(b, p, &p->panel[k], cw, width);
	buf_puts(b, "\n");
	for (size_t i = 0; i < sizeof(legend) / sizeof(legend[0]); i++)
		buf_printf(b, "%.*s\n", (int)width, legend[i]);
}
