/* The plots of a process whose comm, title and samples are the input's
 * (a watched process controls its names and, within limits, its figures):
 * the SVG is always well-formed XML of valid UTF-8 under PLOT_SVG_MAX, the
 * terminal chart valid UTF-8 without control characters, the CSV nine
 * fields a row.  The input: 15 bytes of comm, 63 of title, a byte of
 * flags (the width, which metrics, fds unreadable), then samples of 13
 * bytes each (u32 rss KiB, u32 fds, u32 threads, a byte: the gap to the
 * next sample in 50 ms steps, and whether it leaks or is over its limit),
 * at most 600. */
#include <stdbool.h>

#include "fuzz_proc.h"
#include "../text.h"
#include "../xml_check.h"
#include "core/history_report.h"
#include "core/judge.h"
#include "core/plot_report.h"
#include "core/plot_svg.h"

static uint32_t u32_at(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static void check(const struct judged *j, const struct watched *w, uint8_t flags)
{
	struct buf b = { 0 };

	report_plot_svg(&b, j, w, flags & 7);
	if (!buf_ok(&b) || !xml_well_formed(b.data, NULL, 0) || !utf8_valid(b.data) || b.len >= PLOT_SVG_MAX)
		abort();
	buf_reset(&b);
	report_plot_text(&b, j, w, flags & 7, 1 + (flags >> 3) * 20u);
	if (!buf_ok(&b) || !utf8_valid(b.data))
		abort();
	for (const char *p = b.data; *p; p++)
		if ((unsigned char)*p < 0x20 && *p != '\n')
			abort();
	buf_reset(&b);
	report_history_csv(&b, j, w);
	for (const char *l = b.data; *l;) {   /* nine fields a row */
		size_t commas = 0;

		for (; *l && *l != '\n'; l++)
			commas += *l == ',';
		if (commas != 8 || !*l++)
			abort();
	}
	buf_free(&b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct watched w;
	struct watch wc = { .name = "fuzz<&>", .window_ms = 12000 };
	struct config cfg = { .watches = &wc, .n_watches = 1, .interval_ms = 100 };
	struct judged j = { .cfg = &cfg, .watched = &w, .n_watched = 1 };
	char comm[16] = { 0 };
	uint64_t t = 1000;
	uint8_t flags;

	if (size < 79)
		return 0;
	memcpy(comm, data, 15);
	wc.rule[METRIC_RSS] = (struct metric_rule){ .has_max = true, .max = 64 << 20, .for_samples = 1,
						    .growth = 1 << 10 };
	wc.rule[METRIC_FDS] = (struct metric_rule){ .has_max = true, .max = 100, .growth = 0.01 };
	judge_init(&w, 42, 1, 0, 0, comm, &wc);
	memcpy(w.title, data + 15, 63);
	w.title[63] = '\0';
	flags = data[78];
	for (size_t off = 79, n = 0; off + 13 <= size && n < 600; off += 13, n++) {
		double v[METRIC_COUNT] = { u32_at(data + off) * 1024.0, u32_at(data + off + 4), u32_at(data + off + 8) };
		struct verdicts out;
		uint8_t x = data[off + 12];

		judge_sample(&w, &wc, t, v, (flags & 0x80) ? 1u << METRIC_FDS : 0, &out);
		w.m[METRIC_RSS].leaking = x & 1;
		w.m[METRIC_THREADS].in_limit = x & 2;
		t += 50u * (x >> 2) + 1;
	}
	j.now_ms = t;
	j.wall_usec = 1796000000ull * 1000000ull + t * 1000;
	check(&j, &w, flags);
	return 0;
}
