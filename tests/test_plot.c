/* The plots and the CSV history, rendered from a judged record fed
 * synthetic samples (no /proc): a flat start, then a leak that the daemon
 * reports and that goes over its limit.  The SVG is well-formed XML
 * (xml_check.h) with the marks by id and class (the trend, the limit, the
 * prediction and its crossing, the leak and limit periods, the coarse
 * quarters), hostile names escaped, bounded in the worst case; the
 * terminal chart fits its width, is valid UTF-8 with braille and no
 * control characters; the CSV is RFC 4180 with a row per bucket; the
 * control requests answer OK or ERR.  PLOT_OUT=DIR writes the documents
 * there, to look at. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "text.h"
#include "xml_check.h"
#include "core/history_report.h"
#include "core/judge.h"
#include "core/plot_model.h"
#include "core/plot_report.h"
#include "core/plot_svg.h"
#include "core/plot_text.h"

#define MiB (1024.0 * 1024.0)
#define WALL0 (1796000000ull * 1000000ull)   /* 2026-11-30T00:53:20Z */
#define PID 4242

/* A watch name and a process as hostile as they come: markup, quotes,
 * control characters, invalid UTF-8, U+FFFE (no XML character), C1. */
#define HOSTILE_NAME "api<script>&amp;\"'"
#define HOSTILE_COMM "x<y&\x01\xff\x1b"
#define HOSTILE_TITLE "worker <b>&\"' \x1b[31m\xef\xbf\xbe \xc2\x85 \xe2\x82\xac"

struct fixture {
	struct config cfg;
	struct watch wc;
	struct watched w;
	struct judged j;
	uint64_t t;
};

/* The watch (rss max rss_max) and its process, fresh. */
static void fixture_max(struct fixture *f, const char *name, const char *comm, const char *title, double rss_max)
{
	char c[16] = { 0 };

	memset(f, 0, sizeof(*f));
	f->wc.name = (char *)name;
	f->wc.window_ms = 48000;   /* 1 s buckets */
	f->wc.rule[METRIC_RSS] = (struct metric_rule){ .has_max = true, .max = rss_max, .for_samples = 1,
						       .growth = 100 * MiB / 3600 };
	f->wc.rule[METRIC_FDS] = (struct metric_rule){ .growth = 1000.0 / 3600 };
	f->cfg.watches = &f->wc;
	f->cfg.n_watches = 1;
	f->cfg.interval_ms = 250;
	snprintf(c, sizeof(c), "%s", comm);
	judge_init(&f->w, PID, 1, 0, 0, c, &f->wc);
	snprintf(f->w.title, sizeof(f->w.title), "%s", title);
	f->j = (struct judged){ .cfg = &f->cfg, .watched = &f->w, .n_watched = 1 };
}

static void fixture_init(struct fixture *f, const char *name, const char *comm, const char *title)
{
	fixture_max(f, name, comm, title, 120 * MiB);
}

static void step(struct fixture *f, double rss, double fds, double threads, unsigned unreadable)
{
	double v[METRIC_COUNT] = { rss, fds, threads };
	struct verdicts out;

	f->t += 250;
	judge_sample(&f->w, &f->wc, f->t, v, unreadable, &out);
	f->j.now_ms = f->t;
	f->j.wall_usec = WALL0 + f->t * 1000;
}

/* Flat for two windows (the floor record's quarters), then rss leaking
 * 1 MiB/s and fds 1 every 2 s (1800/h, over 1000/h): run until rss is
 * reported leaking (with room to its max), or, over_limit, until it is
 * in a limit episode too.  False when that never comes. */
static bool leak_until(struct fixture *f, bool over_limit)
{
	double rss = 50 * MiB, fds = 12;

	for (int i = 0; i < 4 * 96; i++)
		step(f, rss + (i % 7) * 0.1 * MiB, fds, 3, 0);
	for (int i = 0; i < 4 * 120; i++) {
		const struct metric_state *s = &f->w.m[METRIC_RSS];

		rss += 0.25 * MiB;
		if (i % 8 == 0)
			fds++;
		step(f, rss + (i % 7) * 0.1 * MiB, fds, 3, 0);
		if (!over_limit && s->leaking && s->value < 100 * MiB && s->eta > 5)
			return true;
		if (over_limit && s->leaking && s->in_limit && s->over > 12)
			return true;
	}
	return false;
}

static void save(const char *name, const struct buf *b)
{
	const char *dir = getenv("PLOT_OUT");
	char path[512];
	FILE *out;

	if (!dir)
		return;
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	if ((out = fopen(path, "w"))) {
		fwrite(b->data, 1, b->len, out);
		fclose(out);
	}
}

static bool has_control(const char *s, bool newlines_ok)
{
	for (const unsigned char *p = (const unsigned char *)s; *p; p++)
		if ((*p < 0x20 && !(newlines_ok && *p == '\n')) || *p == 0x7f)
			return true;
	return false;
}

/* The SVG while the leak is reported and the limit is ahead: the marks. */
static void test_svg_leak(void)
{
	static struct fixture f;
	struct buf b = { 0 };
	char why[128] = "";

	fixture_init(&f, "api", "gunicorn", "gunicorn: worker [api]");
	CHECK(leak_until(&f, false));
	report_plot_svg(&b, &f.j, &f.w, 0);
	save("plot-leak.svg", &b);
	CHECK(buf_ok(&b));
	CHECK_MSG(xml_well_formed(b.data, why, sizeof(why)), "%s", why);
	CHECK(strncmp(b.data, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<svg xmlns=\"http://www.w3.org/2000/svg\" "
		      "version=\"1.1\"", 80) == 0);
	for (int i = 0; i < METRIC_INLINE; i++) {
		char id[32];

		snprintf(id, sizeof(id), "id=\"panel-%s\"", metric_name((enum metric)i));
		CHECK_MSG(count(b.data, id) == 1, "%s", id);
	}
	CHECK(count(b.data, "id=\"trend-rss\"") == 1);
	CHECK(count(b.data, "id=\"limit-rss\"") == 1);
	CHECK(count(b.data, "id=\"predict-rss\"") == 1);
	CHECK(count(b.data, "id=\"crossing-rss\"") == 1);
	CHECK(count(b.data, "id=\"trend-fds\"") == 1);
	CHECK(count(b.data, "id=\"limit-fds\"") == 0);      /* fds has no max */
	CHECK(count(b.data, "id=\"predict-fds\"") == 0);
	CHECK(count(b.data, "class=\"verdict leak\"") == 2);   /* rss's and fds's, one run each */
	CHECK(count(b.data, "class=\"verdict limit\"") == 0);
	CHECK(count(b.data, "class=\"coarse\"") >= 3 * 4);  /* the quarters before the window */
	CHECK(count(b.data, "class=\"mean\"") == 3 && count(b.data, "class=\"band\"") == 3);
	CHECK(count(b.data, "class=\"window-start\"") == 3);
	CHECK(strstr(b.data, "reaches max") != NULL);
	CHECK(strstr(b.data, "class=\"panel-title\">rss ") && strstr(b.data, ", max 120M in "));
	CHECK(utf8_valid(b.data) && !has_control(b.data, true));
	CHECK(b.len < PLOT_SVG_MAX);
	buf_free(&b);
	/* one metric */
	report_plot_svg(&b, &f.j, &f.w, 1u << METRIC_FDS);
	CHECK(xml_well_formed(b.data, NULL, 0));
	CHECK(count(b.data, "class=\"panel\"") == 1 && strstr(b.data, "id=\"panel-fds\""));
	buf_free(&b);
}

/* A sparse metric (uss, read every other bucket): its leak period is one
 * run, drawn across the buckets between its reads, not in stripes. */
static void test_svg_sparse(void)
{
	static struct fixture f;
	struct buf b = { 0 };
	double u = 40 * MiB;

	fixture_init(&f, "api", "python3", "");
	f.wc.rule[METRIC_USS] = (struct metric_rule){ .growth = 100 * MiB / 3600, .for_samples = 1 };
	CHECK(judge_sparse_sync(&f.w, &f.wc) == 0 && f.w.sparse);
	for (int i = 0; i < 4 * 150 && f.w.sparse; i++) {
		step(&f, 50 * MiB + (i % 7) * 0.1 * MiB, 12, 3, 0);
		if (i % 8 == 7) {   /* every 2 s, 1 s buckets */
			double sv[METRIC_SPARSE];
			struct verdicts v;

			u += 0.5 * MiB + (i % 16 ? 1e5 : -1e5);
			sv[0] = u;
			sv[1] = u + 5 * MiB;
			judge_sparse_sample(&f.w, &f.wc, f.t, sv, false, &v);
		}
	}
	CHECK(f.w.sparse && f.w.sparse->m[0].leaking);
	report_plot_svg(&b, &f.j, &f.w, 1u << METRIC_USS);
	save("plot-sparse.svg", &b);
	CHECK(xml_well_formed(b.data, NULL, 0));
	CHECK_MSG(count(b.data, "class=\"verdict leak\"") == 1, "%zu leak rects",
		  count(b.data, "class=\"verdict leak\""));
	buf_free(&b);
	report_plot_text(&b, &f.j, &f.w, 1u << METRIC_USS, 160);
	{
		const char *v = strstr(b.data ? b.data : "", "\nverdict ");
		char line[256] = "";
		const char *l, *r;

		if (v)
			sscanf(v + 1, "%255[^\n]", line);
		l = strchr(line + 8, 'L');
		r = strrchr(line, 'L');
		CHECK_MSG(l && r && memchr(l, ' ', (size_t)(r - l)) == NULL, "%s", line);
	}
	buf_free(&b);
	judge_free(&f.w);
}

/* Over the limit: limit periods after leak periods; the crossing behind. */
static void test_svg_limit(void)
{
	static struct fixture f;
	struct buf b = { 0 };

	fixture_init(&f, "api", "gunicorn", "");
	CHECK(leak_until(&f, true));
	report_plot_svg(&b, &f.j, &f.w, 1u << METRIC_RSS);
	save("plot-limit.svg", &b);
	CHECK(xml_well_formed(b.data, NULL, 0));
	CHECK(count(b.data, "class=\"verdict limit\"") == 1);
	CHECK(count(b.data, "class=\"verdict leak\"") == 1);
	CHECK(strstr(b.data, "class=\"verdict leak\"") < strstr(b.data, "class=\"verdict limit\""));
	CHECK(count(b.data, "id=\"limit-rss\"") == 1);
	CHECK(count(b.data, "id=\"crossing-rss\"") == 0);   /* reached: nothing to predict */
	CHECK(strstr(b.data, "max 120M reached: limit") != NULL);
	CHECK(strstr(b.data, "proctitle") == NULL);          /* no title */
	buf_free(&b);
}

/* Hostile watch name, comm and title: escaped, and the document still
 * well-formed, valid UTF-8 and free of control characters. */
static void test_svg_escape(void)
{
	static struct fixture f;
	struct buf b = { 0 }, t = { 0 };
	char why[128] = "";

	fixture_init(&f, HOSTILE_NAME, HOSTILE_COMM, HOSTILE_TITLE);
	for (int i = 0; i < 40; i++)
		step(&f, 10 * MiB, 5, 1, 0);
	report_plot_svg(&b, &f.j, &f.w, 0);
	save("plot-hostile.svg", &b);
	CHECK_MSG(xml_well_formed(b.data, why, sizeof(why)), "%s", why);
	CHECK(!strstr(b.data, "<script") && !strstr(b.data, "<b>") && !strstr(b.data, "<y"));
	CHECK(strstr(b.data, "api&lt;script&gt;&amp;amp;&quot;&apos;") != NULL);
	CHECK(strstr(b.data, "x&lt;y&amp;?\xef\xbf\xbd?") != NULL);
	CHECK(strstr(b.data, "worker &lt;b&gt;&amp;&quot;&apos; ?[31m? ? \xe2\x82\xac") != NULL);
	CHECK(utf8_valid(b.data) && !has_control(b.data, true));
	CHECK(!strstr(b.data, "\xef\xbf\xbe") && !strstr(b.data, "\xc2\x85"));
	/* the terminal's: printable ASCII for what the process controls */
	report_plot_text(&t, &f.j, &f.w, 0, 100);
	CHECK(utf8_valid(t.data) && !has_control(t.data, true));
	CHECK(strstr(t.data, "leakwatch: api<script>&amp;\"', pid 4242 (x<y&?\?\?)") != NULL);
	buf_free(&b);
	buf_free(&t);
	/* clipping: at most max characters, then an ellipsis */
	plot_xml_text(&b, "abcdef", 3);
	CHECK_STR(b.data, "abc\xe2\x80\xa6");
	buf_reset(&b);
	plot_xml_text(&b, "a\xe2\x82\xac" "b", 2);
	CHECK_STR(b.data, "a\xe2\x82\xac\xe2\x80\xa6");
	buf_free(&b);
}

/* The worst case for size: every other bucket empty, the marks changing
 * at every bucket, the longest names, extreme values. */
static void test_svg_bounded(void)
{
	static struct fixture f;
	struct buf b = { 0 }, t = { 0 };
	char name[300];

	memset(name, 'n', sizeof(name) - 1);
	name[sizeof(name) - 1] = '\0';
	fixture_init(&f, name, "\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff", HOSTILE_TITLE);
	for (int i = 0; i < 4 * 300; i++) {
		if ((i / 4) % 2)
			f.t += 250;   /* a bucket without samples */
		else
			step(&f, i % 8 ? 1e15 : 0, i % 3 ? 1e9 : 0, 1 + i % 5, 0);
		f.w.m[METRIC_RSS].leaking = (i / 8) % 2;
		f.w.m[METRIC_FDS].in_limit = (i / 8) % 2;
	}
	report_plot_svg(&b, &f.j, &f.w, 0);
	CHECK(buf_ok(&b) && xml_well_formed(b.data, NULL, 0));
	CHECK_MSG(b.len < PLOT_SVG_MAX, "%zu bytes", b.len);
	printf("  worst-case SVG: %zu bytes (bound %u)\n", b.len, PLOT_SVG_MAX);
	report_plot_text(&t, &f.j, &f.w, 0, 9999);
	CHECK(buf_ok(&t) && utf8_valid(t.data));
	CHECK_MSG(t.len < 64 * 1024, "%zu bytes", t.len);
	buf_free(&b);
	buf_free(&t);
}

/* The newest verdict of the first verdict row: its last character but spaces. */
static char last_verdict(const char *text)
{
	const char *row = strstr(text, "\nverdict "), *end;

	if (!row || !(end = strchr(row + 1, '\n')))
		return 0;
	while (end > row && end[-1] == ' ')
		end--;
	return end[-1];
}

/* Lines of at most width code points, braille, the verdict row. */
static void test_text(void)
{
	static const unsigned widths[] = { 1, 40, 80, 132, 400, 9999 };
	static struct fixture f;

	fixture_init(&f, "api", "gunicorn", "gunicorn: worker [api]");
	CHECK(leak_until(&f, false));
	for (size_t k = 0; k < sizeof(widths) / sizeof(widths[0]); k++) {
		unsigned want = widths[k] < PLOT_TEXT_WIDTH_MIN ? PLOT_TEXT_WIDTH_MIN
			      : widths[k] > PLOT_TEXT_WIDTH_MAX ? PLOT_TEXT_WIDTH_MAX : widths[k];
		struct buf b = { 0 };
		size_t widest = 0, cols = 0, braille = 0;

		report_plot_text(&b, &f.j, &f.w, 0, widths[k]);
		if (widths[k] == 80)
			save("plot-80.txt", &b);
		CHECK(buf_ok(&b) && utf8_valid(b.data) && !has_control(b.data, true));
		for (const unsigned char *p = (const unsigned char *)b.data; *p; p++) {
			if (*p == '\n') {
				widest = cols > widest ? cols : widest;
				cols = 0;
			} else if ((*p & 0xc0) != 0x80) {
				cols++;
			}
			braille += p[0] == 0xe2 && (p[1] & 0xfc) == 0xa0;
		}
		CHECK_MSG(widest <= want, "width %u: a line of %zu", widths[k], widest);
		CHECK_MSG(braille > 50, "width %u: %zu braille cells", widths[k], braille);
		CHECK(count(b.data, "\nverdict ") == 3);
		CHECK(last_verdict(b.data) == 'L');       /* leaking now */
		CHECK(strstr(b.data, "X") != NULL);       /* the crossing */
		CHECK(strstr(b.data, "\nrss ") && strstr(b.data, "\nfds ") && strstr(b.data, "\nthreads "));
		buf_free(&b);
	}
}

/* A row per bucket with samples, nine fields each, CRLF, the marks. */
static void test_csv(void)
{
	static struct fixture f;
	struct buf b = { 0 };
	size_t rows = 0, leak_rows = 0;
	char *copy, *save_p = NULL;

	fixture_init(&f, "api", "gunicorn", "");
	CHECK(leak_until(&f, true));
	report_history_csv(&b, &f.j, &f.w);
	CHECK(strncmp(b.data, "time,samples,rss_mean,rss_min,rss_max,fds,threads,leak,limit\r\n", 62) == 0);
	CHECK(count(b.data, "\r\n") == count(b.data, "\n") && !strchr(b.data, '"'));
	copy = strdup(b.data);
	for (char *l = strtok_r(copy, "\r\n", &save_p); l; l = strtok_r(NULL, "\r\n", &save_p)) {
		size_t commas = count(l, ",");

		CHECK_MSG(commas == 8, "%s", l);
		if (rows++ == 0)
			continue;
		CHECK_MSG(strlen(l) > 24 && l[4] == '-' && l[10] == 'T' && l[23] == 'Z' && l[24] == ',', "%s", l);
		leak_rows += strstr(l, ",rss fds,") != NULL;
	}
	CHECK(rows == 1 + HIST_BUCKETS);   /* a full window, a sample in every bucket */
	CHECK(leak_rows > 0);
	CHECK(strstr(b.data, ",rss fds,rss\r\n") != NULL);   /* leaking both, rss over its limit */
	free(copy);
	buf_free(&b);
	/* fds unreadable: its fields empty */
	fixture_init(&f, "api", "gunicorn", "");
	for (int i = 0; i < 8; i++)
		step(&f, 10 * MiB, 0, 2, 1u << METRIC_FDS);
	report_history_csv(&b, &f.j, &f.w);
	CHECK(strstr(b.data, ",10485760,10485760,10485760,,2,,\r\n") != NULL);
	buf_free(&b);
	report_plot_svg(&b, &f.j, &f.w, 0);
	CHECK(xml_well_formed(b.data, NULL, 0) && strstr(b.data, "fds: unreadable"));
	buf_free(&b);
}

static void test_requests(void)
{
	static const struct { const char *req; const char *want; } cases[] = {
		{ "plot 4242 svg", "OK\n<?xml " },
		{ "plot 4242 svg fds", "OK\n<?xml " },
		{ "plot 4242 text 80", "OK\nleakwatch: api, pid 4242" },
		{ "plot 4242 text 80 threads", "OK\nleakwatch: api, pid 4242" },
		{ "history 4242 csv", "OK\ntime,samples," },
		{ "plot 99 svg", "ERR pid 99 is not watched\n" },
		{ "plot x svg", "ERR not a pid: x\n" },
		{ "plot 4242 png", "ERR unknown request: plot 4242 png\n" },
		{ "plot 4242 text", "ERR unknown request: plot 4242 text\n" },
		{ "plot 4242 text 0", "ERR unknown request: plot 4242 text 0\n" },
		{ "plot 4242 text 80x", "ERR unknown request: plot 4242 text 80x\n" },
		{ "plot 4242 svg mem", "ERR unknown metric: mem (rss, fds, threads, uss or pss)\n" },
		{ "plot 4242 svg rss fds", "ERR unknown request: plot 4242 svg rss fds\n" },
		{ "plot", "ERR unknown request: plot\n" },
		{ "history 99 csv", "ERR pid 99 is not watched\n" },
	};
	static const char *const not_mine[] = { "status", "history 4242", "history 4242 json", "plots 4242 svg", "" };
	static struct fixture f;

	fixture_init(&f, "api", "gunicorn", "");
	for (int i = 0; i < 8; i++)
		step(&f, 10 * MiB, 5, 2, 0);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct buf b = { 0 };

		CHECK_MSG(report_plot_answer(&f.j, cases[i].req, &b), "%s", cases[i].req);
		CHECK_MSG(b.data && strncmp(b.data, cases[i].want, strlen(cases[i].want)) == 0, "%s: %.60s",
			  cases[i].req, b.data ? b.data : "(nothing)");
		buf_free(&b);
	}
	for (size_t i = 0; i < sizeof(not_mine) / sizeof(not_mine[0]); i++) {
		struct buf b = { 0 };

		CHECK_MSG(!report_plot_answer(&f.j, not_mine[i], &b) && b.len == 0, "%s", not_mine[i]);
		buf_free(&b);
	}
}

/* The axes: the window and the coarse quarters before it, ticks in order
 * within their axis, in the notation of sizes, the crossing in view. */
static void test_model(void)
{
	static struct fixture f;
	static struct plot p;
	const struct plot_panel *rss = &p.panel[0];

	fixture_init(&f, "api", "gunicorn", "");
	CHECK(leak_until(&f, false));
	plot_build(&p, &f.j, &f.w, 0);
	CHECK(p.n_panels == 3 && rss->metric == METRIC_RSS && p.panel[2].metric == METRIC_THREADS);
	CHECK(p.x0 < -p.window_s && p.x1 >= rss->eta && p.x1 <= -p.x0 * 1.1);
	CHECK(rss->n == HIST_BUCKETS && rss->n_coarse >= 4);
	for (size_t i = 0; i < rss->n_coarse; i++)
		CHECK(rss->coarse[i].t1 <= rss->pt[0].t0 + 1e-6 && rss->coarse[i].lo <= rss->coarse[i].hi);
	CHECK(rss->has_trend && rss->has_predict && rss->cross_shown && rss->max_shown);
	CHECK_NEAR(rss->slope, MiB, 0.2 * MiB);
	CHECK(rss->pred_t1 == rss->eta && rss->pred_v1 == rss->max);
	CHECK(rss->n_yticks >= 3 && rss->n_yticks <= PLOT_TICKS_MAX);
	for (size_t i = 0; i < rss->n_yticks; i++) {
		CHECK(rss->ytick[i].v >= rss->y0 - 1 && rss->ytick[i].v <= rss->y1 + 1);
		CHECK(i == 0 || rss->ytick[i].v > rss->ytick[i - 1].v);
		CHECK_MSG(rss->ytick[i].label[strlen(rss->ytick[i].label) - 1] == 'M', "%s", rss->ytick[i].label);
	}
	CHECK(rss->y0 >= 0 && rss->y0 <= 50 * MiB && rss->y1 >= 120 * MiB);
	CHECK(p.n_xticks >= 3 && p.n_xticks <= 7);
	for (size_t i = 0; i < p.n_xticks; i++) {
		CHECK(p.xtick[i].v >= p.x0 && p.xtick[i].v <= p.x1);
		CHECK_MSG(strlen(p.xtick[i].label) == 8 && p.xtick[i].label[2] == ':', "%s", p.xtick[i].label);
	}
	CHECK(p.panel[1].n_yticks && strchr(p.panel[1].ytick[0].label, 'M') == NULL);   /* a count */
	CHECK(!p.panel[2].has_predict && !p.panel[2].max_shown);
}

/* A limit far above and hours ahead: named, not drawn; the prediction
 * runs off the time axis's end, no crossing marked. */
static void test_far_limit(void)
{
	static struct fixture f;
	static struct plot p;
	struct buf b = { 0 };

	fixture_max(&f, "api", "gunicorn", "", 10240 * MiB);
	CHECK(leak_until(&f, false));
	plot_build(&p, &f.j, &f.w, 1u << METRIC_RSS);
	CHECK(p.panel[0].has_predict && !p.panel[0].cross_shown && !p.panel[0].max_shown);
	CHECK(p.panel[0].pred_t1 == p.x1 && p.panel[0].eta > p.x1);
	CHECK(p.panel[0].y1 < 1024 * MiB);   /* the growth is not flattened */
	report_plot_svg(&b, &f.j, &f.w, 1u << METRIC_RSS);
	CHECK(xml_well_formed(b.data, NULL, 0));
	CHECK(count(b.data, "id=\"predict-rss\"") == 1 && count(b.data, "id=\"crossing-rss\"") == 0);
	CHECK(count(b.data, "id=\"limit-rss\"") == 0 && strstr(b.data, ">max 10G: above<"));
	CHECK(strstr(b.data, ">reaches max ") && strstr(b.data, " (in 3h)<"));
	buf_free(&b);
}

int main(void)
{
	RUN(test_svg_leak);
	RUN(test_svg_limit);
	RUN(test_svg_sparse);
	RUN(test_svg_escape);
	RUN(test_svg_bounded);
	RUN(test_text);
	RUN(test_csv);
	RUN(test_requests);
	RUN(test_model);
	RUN(test_far_limit);
	return check_done("test_plot");
}
