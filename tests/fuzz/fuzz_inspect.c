/* The inspection script's report (core/inspect_report.h), as the daemon
 * reads it from the FIFO: any bytes, as phase 1 and as phase 2, are
 * refused with a reason or parsed; what parses is made into facts, a
 * summary, python.json and python.txt, under every trigger.  Aborts when
 * a refusal says nothing, the summary is over its length or holds a
 * control character, python.txt is over 16 KiB, or python.json holds a
 * raw control character. */
#include <errno.h>

#include "fuzz_proc.h"
#include "core/inspect_render.h"
#include "core/inspect_report.h"
#include "core/inspect_summary.h"
#include "core/inspect_text.h"

#define TOKEN "0123456789abcdef0123456789abcdef"

static const char phase1[] =
	"leakwatch-inspect\t1\t" TOKEN "\t1\npython\t3.11.2\t4242\npause\t0.01\n"
	"tracemalloc\tstarted\nheap\t0\nobjects\t100\nthreads\t2\nend\t7\n";

static bool clean(const char *s, bool newlines)
{
	for (const unsigned char *p = (const unsigned char *)s; *p; p++)
		if ((*p < 0x20 && !(newlines && *p == '\n')) || *p == 0x7f)
			return false;
	return true;
}

static void render(const struct inspect_report *p1, const struct inspect_report *p2, size_t seed)
{
	static const char *const triggers[] = { "rss", "uss", "pss", "fds", "threads", NULL };
	struct inspect_measure m = { triggers[seed % 6], 100 << 20, (100 << 20) + (seed << 16), 10, 10 + seed % 500,
				     3, 3 + seed % 50, 30, { 1, 2 }, { 3, 4 }, { 5, 6 } };
	struct inspect_facts f;
	struct buf b = { 0 };

	if (inspect_facts_build(&f, p1, p2, &m) != 0)
		abort();
	if (strlen(f.summary) > INSPECT_SUMMARY_LEN || !clean(f.summary, false) || !clean(f.top_type, false) ||
	    !clean(f.top_site, false))
		abort();
	if (inspect_render_json(&b, p1, p2, &m, &f) == 0 && !clean(b.data, true))
		abort();
	buf_reset(&b);
	if (inspect_render_text(&b, p1, p2, &m, &f) == 0 && (b.len > INSPECT_TEXT_MAX || !clean(b.data, true)))
		abort();
	buf_free(&b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct inspect_report p1, r;
	char why[256];

	inspect_report_init(&p1);
	inspect_report_init(&r);
	if (inspect_parse(&p1, phase1, sizeof(phase1) - 1, TOKEN, 1, 4242, why, sizeof(why)) != 0)
		abort();
	for (int phase = 1; phase <= 2; phase++) {
		int rc = inspect_parse(&r, (const char *)data, size, TOKEN, phase, 0, why, sizeof(why));

		if (rc != 0) {
			if ((rc != -EBADMSG && rc != -E2BIG && rc != -ENOMEM) || why[0] == '\0' || !clean(why, false))
				abort();
			continue;
		}
		if (phase == 1)
			render(&r, NULL, size);
		else
			render(&p1, &r, size);
	}
	inspect_report_free(&r);
	inspect_report_free(&p1);
	return 0;
}
