/* The groups' saved history (core/state_codec.h, version 6): a group's
 * totals go into the state image and come back into a fresh record of a
 * watch with the same name and window, which then goes on exactly as the
 * record that was saved (the same verdicts at the same samples, a leak
 * already reported not reported again, the limits the watch's); a watch
 * with another window starts afresh; an image of version 5 (no groups)
 * still reads; a group record cut short or with impossible values is
 * refused with its reason.  Links with the core alone. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "group_fixture.h"
#include "core/buf.h"
#include "core/group_judge.h"
#include "core/judge.h"
#include "core/state_codec.h"

#define BOOT_ID     "6f1c2b2e-2f4a-4c39-9d0e-3c1f0b7e9a55"
#define HDR_VERSION 8
#define HDR_PAYLOAD 64
#define HDR_CRC     72
#define HDR_LEN     76
#define NAME_OFF    (HDR_LEN + 4 + 4 + 2)   /* no process, no action record: the count, the first group's name */

/* One tick of a pool whose sum grows 2 MB/s (7.2G/h) at t seconds; the
 * leak events of rss (DETECT_* bits). */
static unsigned tick(struct group_record *g, const struct watch *wc, double t)
{
	unsigned ev[GROUP_METRICS];

	group_begin(g);
	for (int k = 0; k < 4; k++) {
		double v[METRIC_COUNT] = { 50e6 + 0.5e6 * t + 1e6 * sin(t + k), 10 + k, 2 };

		group_add(g, v, 0);
	}
	group_feed(g, wc, 1000 + (uint64_t)(t * 1000), ev);
	return ev[METRIC_RSS];
}

static void reseal(unsigned char *img, size_t len)
{
	uint64_t payload = len - HDR_LEN;
	uint32_t crc = crc32_update(0, img + HDR_LEN, payload);

	memcpy(img + HDR_PAYLOAD, &payload, 8);
	memcpy(img + HDR_CRC, &crc, 4);
}

/* The limit episode is on, its action pending. */
static bool limit_pending(struct group_record *g)
{
	return group_retry(g) && g->retry.why == EVENT_LIMIT;
}

/* The image of j into b, decoded into st: 0, or what state_decode said. */
static int round_trip(const struct judged *j, struct buf *b, struct saved_state *st, char *why, size_t len)
{
	b->len = 0;
	if (state_encode_buf(b, j, NULL, BOOT_ID) < 0)
		return -ENOMEM;
	return state_decode(b->data, b->len, st, why, len);
}

static void test_saved(void)
{
	struct group_rule gr = rule_of(2e9 / 3600, 600e6);   /* the sum: 200 MB + 2 MB/s */
	struct watch wc[2] = { watch_of("pool", 5000, 60000, &gr), watch_of("other", 5000, 60000, NULL) };
	struct config cfg = { .watches = wc, .n_watches = 2 };
	struct group_record **set = NULL, **fresh = NULL;
	struct judged j = { .cfg = &cfg, .wall_usec = 42 };
	struct saved_state st;
	struct buf b = { 0 };
	unsigned leaks = 0, again = 0, diverged = 0;
	char why[160] = "";
	double t = 0;

	CHECK(group_set_build(&set, &cfg, NULL, NULL) == 0);
	if (!set)
		return;
	CHECK(set[0] && !set[1]);
	/* not started: nothing saved */
	j.groups = set;
	CHECK_MSG(round_trip(&j, &b, &st, why, sizeof(why)) == 0 && !st.groups, "%s", why);
	saved_state_clear(&st);
	for (; t < 150; t += 0.5)
		leaks += (tick(set[0], &wc[0], t) & DETECT_LEAK) != 0;
	CHECK_MSG(leaks == 1 && set[0]->m[METRIC_RSS].leaking, "%u leaks before the save", leaks);

	CHECK_MSG(round_trip(&j, &b, &st, why, sizeof(why)) == 0, "%s", why);
	CHECK(st.groups && !st.groups->next);
	if (st.groups) {
		CHECK_STR(st.groups->watch, "pool");
		CHECK(st.groups->window_ms == 60000 && st.groups->first_ms == set[0]->first_ms);
	}
	/* into a fresh set of the same configuration: the record goes on as the
	 * saved one does, sample for sample */
	CHECK(group_set_build(&fresh, &cfg, NULL, NULL) == 0);
	if (fresh && fresh[0]) {
		CHECK(saved_group_claim(&st.groups, fresh[0], &wc[0]));
		CHECK(st.groups == NULL);
		CHECK(fresh[0]->started && fresh[0]->first_ms == set[0]->first_ms && fresh[0]->processes == 0);
		CHECK(fresh[0]->m[METRIC_RSS].leaking && fresh[0]->m[METRIC_RSS].limit == 600e6);
		CHECK(!group_retry(fresh[0]));   /* reported before the save: not asked again */
		CHECK(group_verdict(fresh[0], &wc[0], METRIC_RSS, 1000 + 150000) == VERDICT_LEAK);
		for (; t < 300; t += 0.5) {
			unsigned a = tick(set[0], &wc[0], t), c = tick(fresh[0], &wc[0], t);

			again += (c & DETECT_LEAK) != 0;
			diverged += a != c || set[0]->m[METRIC_RSS].streak != fresh[0]->m[METRIC_RSS].streak ||
				    set[0]->m[METRIC_RSS].in_limit != fresh[0]->m[METRIC_RSS].in_limit;
		}
		CHECK_MSG(again == 0, "%u leak events after the restore", again);
		CHECK_MSG(diverged == 0, "%u ticks where the restored record judged otherwise", diverged);
		CHECK(fresh[0]->m[METRIC_RSS].in_limit && limit_pending(fresh[0]));   /* 600 MB crossed after the restore, at 200 s */
	}
	saved_state_clear(&st);

	/* a watch with another window starts afresh; the record is dropped */
	{
		struct watch wider = watch_of("pool", 5000, 120000, &gr);
		struct group_record g;

		CHECK(round_trip(&j, &b, &st, why, sizeof(why)) == 0 && st.groups);
		CHECK(group_record_init(&g, &wider) == 0);
		CHECK(!saved_group_claim(&st.groups, &g, &wider));
		CHECK(st.groups == NULL && !g.started && !g.m[METRIC_RSS].leaking);
		saved_state_clear(&st);
		/* and a watch of another name finds nothing, leaving the list */
		CHECK(round_trip(&j, &b, &st, why, sizeof(why)) == 0 && st.groups);
		CHECK(group_record_init(&g, &wc[1]) == 0);
		CHECK(!saved_group_claim(&st.groups, &g, &wc[1]));
		CHECK(st.groups != NULL);
		saved_state_clear(&st);
	}

	/* version 5 had no groups: the same image without them still reads */
	CHECK(round_trip(&j, &b, &st, why, sizeof(why)) == 0);
	saved_state_clear(&st);
	{
		uint32_t v5 = 5;
		size_t len = HDR_LEN + 4;   /* the action records' count, and no more */

		memcpy(b.data + HDR_VERSION, &v5, 4);
		reseal((unsigned char *)b.data, len);
		CHECK_MSG(state_decode(b.data, len, &st, why, sizeof(why)) == 0 && !st.groups, "%s", why);
		saved_state_clear(&st);
	}

	/* cut short anywhere in the group's record, or impossible values */
	CHECK(round_trip(&j, &b, &st, why, sizeof(why)) == 0);
	saved_state_clear(&st);
	{
		unsigned char *copy = malloc(b.len);
		unsigned bad = 0;
		float nan_ = NAN;
		uint64_t far = (uint64_t)1 << 50;

		for (size_t n = HDR_LEN + 4; n < b.len && copy; n++) {
			const char *want = n < HDR_LEN + 8 ? "truncated: no group records" : "group record 1: ";

			memcpy(copy, b.data, n);
			reseal(copy, n);
			if (state_decode(copy, n, &st, why, sizeof(why)) != -EINVAL || strncmp(why, want, strlen(want)) != 0)
				bad += bad < 5 ? (fprintf(stderr, "cut at %zu: %s\n", n, why), 1) : 1;
			saved_state_clear(&st);
		}
		CHECK_MSG(bad == 0, "%u cuts not refused as the group record", bad);
		if (copy) {
			/* the first sample's time past what a boot can have */
			memcpy(copy, b.data, b.len);
			memcpy(copy + NAME_OFF + strlen("pool") + 8, &far, 8);
			reseal(copy, b.len);
			CHECK(state_decode(copy, b.len, &st, why, sizeof(why)) == -EINVAL);
			CHECK_STR(why, "group record 1: impossible values");
			saved_state_clear(&st);
			/* a NaN in the last bytes' floor record (the last metric's
			 * marks come after it: 16 bytes) */
			memcpy(copy, b.data, b.len);
			memcpy(copy + b.len - 16 - 8 - 4, &nan_, 4);
			reseal(copy, b.len);
			CHECK(state_decode(copy, b.len, &st, why, sizeof(why)) == -EINVAL);
			CHECK_STR(why, "group record 1: impossible values");
			saved_state_clear(&st);
		}
		free(copy);
	}
	group_set_free(set, cfg.n_watches);
	group_set_free(fresh, cfg.n_watches);
	buf_free(&b);
}

int main(void)
{
	RUN(test_saved);
	return check_done("test_group_state");
}
