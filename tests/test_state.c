/* The saved history: a round trip through state_encode/state_decode from a
 * monitor on a fixture /proc tree; the image streamed in chunks is the
 * image built whole, and a save that fails midway leaves the old file as it
 * was; refusal, with a reason and without a crash, of every truncated
 * prefix, every corrupted byte, foreign files, other versions, trailing
 * bytes and records with impossible values (also behind a valid checksum);
 * and monitor_restore, which continues only the histories of the very same
 * processes under the same watch and window. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/action_policy.h"
#include "check.h"
#include "core/config.h"
#include "fixture.h"
#include "os/files.h"
#include "daemon/monitor.h"
#include "core/history_report.h"
#include "core/status_report.h"
#include "core/state_codec.h"
#include "daemon/persist.h"

#define BOOT_ID   "6f1c2b2e-2f4a-4c39-9d0e-3c1f0b7e9a55"

/* The image layout (core/state_codec.h): the header, then per record pid, start
 * ticks, window, name length, name, the timeline, and per metric a fixed
 * block. */
#define HDR_COUNT   60
#define HDR_PAYLOAD 64
#define HDR_CRC     72
#define HDR_LEN     76
#define TAIL_LEN    8      /* the action records' count and the groups' (version 6), 0: none saved here */
#define GROUP_TAIL  4      /* the groups' count, the last of the tail */
#define TL_WIDTH    0
#define TL_ORIGIN   8
#define TL_HEAD     16
#define TL_LAST_MS  24
#define TL_BUCKETS  32     /* per bucket: u32 count, f32 time offset */
#define TL_BUCKET_LEN 8
#define TL_LEN      (TL_BUCKETS + 48 * TL_BUCKET_LEN)
#define M_BUCKETS   0      /* per bucket: f64 sum, f32 min, f32 max */
#define SLOT_LEN    16
#define M_VALUE     (M_BUCKETS + 48 * SLOT_LEN)
#define M_FLOORS    (M_VALUE + 8 + 2 + 4 * 3 + 8)   /* the floor record */
#define M_MARKS     (M_FLOORS + 2 * 16 * 4 + 4 + 4)   /* u64 leak, u64 limit (version 4) */
#define M_LEN       (M_MARKS + 8 + 8)
#define SPARSE_FLAG 1      /* u8: uss and pss follow (version 5); 0 in these records */
#define REC_FIXED   (22 + TL_LEN + 3 * M_LEN + SPARSE_FLAG)   /* a record without uss, but its name */

/* ---- the fixture (its /proc tree: fixture.h) ------------------------------ */

#define CONFIG(workers_name, workers_window) \
	"interval: 250ms\n" \
	"watches:\n" \
	"  - name: " workers_name "\n" \
	"    match: { comm: gunicorn }\n" \
	"    window: " workers_window "\n" \
	"    rss: { growth: 100M/h, max: 12M, for: 2 }\n" \
	"    fds: { growth: 1000/h }\n" \
	"  - name: others\n" \
	"    match: { cmdline: \"^other\" }\n" \
	"    window: 10s\n" \
	"    threads: { max: 100 }\n"

struct seen {
	int found, found_restored;
};

static void on_event(void *ctx, struct event *e)
{
	struct seen *s = ctx;

	if (s && e->type == EVENT_FOUND) {
		s->found++;
		s->found_restored += strstr(e->message, "of history kept from before leakwatchd restarted") != NULL;
	}
}

/* The last tick of run(), boot-time ms. */
#define LAST_MS (1000 + 99 * 250)

/* 25 s at 250 ms: 101 leaks memory and fds (a leak and a limit episode),
 * 102 is steady, 200 gains threads. */
static void run(struct monitor *m)
{
	for (int i = 0; i < 100; i++) {
		uint64_t now = 1000 + (uint64_t)i * 250;

		stat_file(101, "gunicorn", 1, PF_USER, 2, 1000 + i * 25, 101);
		stat_file(200, "other", 1, PF_USER, 1 + i / 4, 1000, 200);
		if (i % 2 == 0)
			add_fd(101, 5 + i / 2);
		monitor_tick(m, now, WALL_BASE + now * 1000);
	}
}

/* ---- helpers -------------------------------------------------------------------- */

static void put_at(unsigned char *img, size_t off, const void *v, size_t n)
{
	memcpy(img + off, v, n);
}

static uint64_t get64(const unsigned char *img, size_t off)
{
	uint64_t v;

	memcpy(&v, img + off, sizeof(v));
	return v;
}

/* Make the header agree with the bytes after it: payload length and CRC. */
static void reseal(unsigned char *img, size_t len)
{
	uint64_t payload = len - HDR_LEN;
	uint32_t crc = crc32_update(0, img + HDR_LEN, len - HDR_LEN);

	put_at(img, HDR_PAYLOAD, &payload, 8);
	put_at(img, HDR_CRC, &crc, 4);
}

/* Decode from an exactly sized heap copy, so ASan sees any read past it. */
static int decode(const void *data, size_t len, struct saved_state *out, char *why, size_t why_len)
{
	void *copy = malloc(len ? len : 1);
	int r;

	if (!copy)
		exit(2);
	memcpy(copy, data, len);
	r = state_decode(copy, len, out, why, why_len);
	free(copy);
	return r;
}

/* Decoding must fail with -EINVAL, a reason, and nothing left allocated. */
static bool refused(const void *data, size_t len, char *why, size_t why_len)
{
	struct saved_state st;
	int r;

	memset(&st, 0x5a, sizeof(st));
	why[0] = '\0';
	r = decode(data, len, &st, why, why_len);
	if (r == 0)
		saved_state_clear(&st);
	return r == -EINVAL && why[0] && st.procs == NULL && st.n == 0;
}

static bool timeline_equal(const struct timeline *a, const struct timeline *b)
{
	return a->width_ms == b->width_ms && a->origin_ms == b->origin_ms && a->head == b->head &&
	       a->last_ms == b->last_ms && memcmp(a->n, b->n, sizeof(a->n)) == 0 &&
	       memcmp(a->toff, b->toff, sizeof(a->toff)) == 0;
}

/* Every bucket of the window as read, bit for bit. */
static bool buckets_equal(const struct timeline *ta, const struct series *a, const struct timeline *tb,
			  const struct series *b)
{
	for (int64_t k = ta->head - HIST_BUCKETS + 1; k <= ta->head; k++) {
		struct bucket x, y;

		if (history_bucket(ta, a, k, &x) != history_bucket(tb, b, k, &y) || memcmp(&x, &y, sizeof(x)) != 0)
			return false;
	}
	return true;
}

static bool metric_equal(const struct timeline *ta, const struct metric_state *a, const struct timeline *tb,
			 const struct metric_state *b)
{
	return buckets_equal(ta, &a->hist, tb, &b->hist) && a->value == b->value &&
	       a->leaking == b->leaking && a->in_limit == b->in_limit && a->over == b->over &&
	       a->under == b->under && a->streak == b->streak && a->streak_since == b->streak_since &&
	       (a->leak_marks & timeline_sampled(ta)) == (b->leak_marks & timeline_sampled(tb)) &&
	       (a->limit_marks & timeline_sampled(ta)) == (b->limit_marks & timeline_sampled(tb));
}

/* The offset of the first record's timeline, from its name length. */
static size_t timeline_off(const unsigned char *img)
{
	uint16_t name_len;

	memcpy(&name_len, img + HDR_LEN + 20, 2);
	return HDR_LEN + 22 + name_len;
}

/* The offset of the first record's metric block k. */
static size_t metric_off(const unsigned char *img, int k)
{
	return timeline_off(img) + TL_LEN + (size_t)k * M_LEN;
}

/* ---- the tests ------------------------------------------------------------------ */

static void test_crc32(void)
{
	/* the standard check value of CRC-32 (IEEE 802.3) */
	CHECK(crc32_update(0, "123456789", 9) == 0xcbf43926u);
	CHECK(crc32_update(0, "", 0) == 0);
	/* incremental */
	CHECK(crc32_update(crc32_update(0, "12345", 5), "6789", 4) == 0xcbf43926u);
}

static void test_round_trip(const struct monitor *m, const unsigned char *img, size_t len)
{
	struct saved_state st;
	char why[160] = "";
	const struct saved_proc *p;
	const struct watched *w;
	size_t n = 0;
	bool leaking = false, in_limit = false, streak = false, over = false, under = false, marks = false;

	CHECK(len > HDR_LEN && memcmp(img, "LWSTATE\n", 8) == 0);
	CHECK_MSG(decode(img, len, &st, why, sizeof(why)) == 0, "%s", why);
	CHECK_STR(st.boot_id, BOOT_ID);
	CHECK(st.saved_usec == m->j.wall_usec);
	CHECK(st.n == m->j.n_watched && st.n == 3);
	/* the same processes, in the same order */
	for (p = st.procs, w = m->j.watched; p && w; p = p->next, w = w->next, n++) {
		const struct watch *wc = &m->j.cfg->watches[w->watch];

		CHECK(p->pid == w->pid);
		CHECK(p->start_ticks == w->start_ticks);
		CHECK_STR(p->watch, wc->name);
		CHECK(p->window_ms == wc->window_ms);
		CHECK_MSG(timeline_equal(&p->tl, &w->tl), "pid %d: timeline differs", (int)p->pid);
		CHECK(p->tl.head > 0);
		for (int i = 0; i < METRIC_INLINE; i++) {
			CHECK_MSG(metric_equal(&p->tl, &p->m[i], &w->tl, &w->m[i]), "pid %d %s differs", (int)p->pid,
				  metric_name((enum metric)i));
			/* not saved: refitted at the next sample */
			CHECK(p->m[i].fitted_head == -1 && p->m[i].eta == -1 && !p->m[i].trend.ready);
			leaking |= p->m[i].leaking;
			in_limit |= p->m[i].in_limit;
			streak |= p->m[i].streak != 0 && p->m[i].streak_since != 0;
			over |= p->m[i].over != 0;
			under |= p->m[i].under != 0;
			marks |= p->m[i].leak_marks != 0 && p->m[i].limit_marks != 0;
		}
	}
	CHECK(p == NULL && w == NULL && n == 3);
	/* the fixture exercises the episode flags, and their marks */
	CHECK(leaking && in_limit && streak && over && under && marks);
	saved_state_clear(&st);
	CHECK(st.procs == NULL && st.n == 0);
	saved_state_clear(&st);   /* twice: fine */

	/* encoding is deterministic */
	{
		struct buf b = { 0 };

		CHECK(state_encode_buf(&b, &m->j, NULL, BOOT_ID) == 0);
		CHECK(buf_ok(&b) && b.len == len && memcmp(b.data, img, len) == 0);
		buf_free(&b);
	}
}

static void test_boot_ids(const struct monitor *m, const struct config *cfg)
{
	struct buf b = { 0 };
	struct saved_state st;
	char why[160] = "";
	struct monitor empty;

	/* a boot id longer than the field is cut, terminated */
	CHECK(state_encode_buf(&b, &m->j, NULL, "0123456789012345678901234567890123456789-and-more") == 0);
	CHECK(decode(b.data, b.len, &st, why, sizeof(why)) == 0);
	CHECK_STR(st.boot_id, "012345678901234567890123456789012345678");
	saved_state_clear(&st);
	buf_reset(&b);
	CHECK(state_encode_buf(&b, &m->j, NULL, "") == 0);
	CHECK(decode(b.data, b.len, &st, why, sizeof(why)) == 0);
	CHECK_STR(st.boot_id, "");
	saved_state_clear(&st);

	/* no process: a header only, decoded to nothing */
	memset(&empty, 0, sizeof(empty));
	empty.j.cfg = cfg;
	empty.j.wall_usec = 42;
	buf_reset(&b);
	CHECK(state_encode_buf(&b, &empty.j, NULL, BOOT_ID) == 0);
	CHECK(b.len == HDR_LEN + TAIL_LEN);
	CHECK_MSG(decode(b.data, b.len, &st, why, sizeof(why)) == 0, "%s", why);
	CHECK(st.n == 0 && st.procs == NULL && st.saved_usec == 42);
	CHECK_STR(st.boot_id, BOOT_ID);
	saved_state_clear(&st);
	buf_free(&b);
}

/* img, cut after its first n_records records: a valid image too. */
static size_t records_prefix(const unsigned char *img, unsigned char *out, uint32_t n_records)
{
	size_t off = HDR_LEN;

	for (uint32_t i = 0; i < n_records; i++) {
		uint16_t name_len;

		memcpy(&name_len, img + off + 20, 2);
		off += REC_FIXED + name_len;
	}
	memcpy(out, img, off);
	memset(out + off, 0, TAIL_LEN);   /* no action records, no groups */
	off += TAIL_LEN;
	put_at(out, HDR_COUNT, &n_records, 4);
	reseal(out, off);
	return off;
}

static void test_truncated(const unsigned char *img, size_t len)
{
	unsigned bad = 0, bad_resealed = 0;
	char why[160];
	unsigned char *one = malloc(len);
	size_t one_len = records_prefix(img, one, 1);

	/* every prefix, as written */
	for (size_t n = 0; n < len; n++)
		if (!refused(img, n, why, sizeof(why))) {
			if (bad++ < 5)
				fprintf(stderr, "prefix of %zu bytes: not refused (%s)\n", n, why);
		}
	CHECK_MSG(bad == 0, "%u of %zu prefixes accepted", bad, len);
	CHECK(refused(img, 7, why, sizeof(why)));
	CHECK_STR(why, "not a leakwatch state file");
	CHECK(refused(img, 20, why, sizeof(why)));
	CHECK_STR(why, "truncated header");
	CHECK(refused(img, len - 1, why, sizeof(why)));
	CHECK_MSG(strncmp(why, "truncated", 9) == 0, "%s", why);

	/* every cut inside a record, behind a header made to agree (length
	 * and checksum): the record itself must be found short */
	{
		struct saved_state st;

		CHECK_MSG(decode(one, one_len, &st, why, sizeof(why)) == 0 && st.n == 1, "%s", why);
		saved_state_clear(&st);
	}
	{
		unsigned char *copy = malloc(one_len);

		for (size_t n = HDR_LEN + 1; n < one_len; n++) {
			/* cut in the record, or in the action records' count after
			 * it, or in the groups' */
			const char *want = n < one_len - TAIL_LEN ? "record " :
					   n < one_len - GROUP_TAIL ? "truncated: no action records" :
					   "truncated: no group records";

			memcpy(copy, one, n);
			reseal(copy, n);
			if (!refused(copy, n, why, sizeof(why)) || strncmp(why, want, strlen(want)) != 0) {
				if (bad_resealed++ < 5)
					fprintf(stderr, "resealed prefix of %zu bytes: %s\n", n, why);
			}
		}
		free(copy);
	}
	CHECK_MSG(bad_resealed == 0, "%u resealed prefixes not refused as records", bad_resealed);
	free(one);
}

static void test_corrupt(const unsigned char *img, size_t len)
{
	unsigned char *copy = malloc(len);
	char why[160];
	unsigned bad = 0;

	memcpy(copy, img, len);
	/* any byte of the payload: the checksum */
	for (size_t i = HDR_LEN; i < len; i++) {
		unsigned char mask = (unsigned char)(1u << (i % 8));

		copy[i] ^= mask;
		if (!refused(copy, len, why, sizeof(why)) || strcmp(why, "checksum mismatch") != 0)
			if (bad++ < 5)
				fprintf(stderr, "byte %zu ^ 0x%02x: %s\n", i, mask, why);
		copy[i] ^= mask;
		if (i % 5 == 0) {   /* the whole byte, too */
			copy[i] ^= 0xff;
			if (!refused(copy, len, why, sizeof(why)) || strcmp(why, "checksum mismatch") != 0)
				if (bad++ < 5)
					fprintf(stderr, "byte %zu ^ 0xff: %s\n", i, why);
			copy[i] ^= 0xff;
		}
	}
	CHECK_MSG(bad == 0, "%u corrupted payload bytes not refused", bad);

	/* any byte of the header: refused, except in the fields no decision
	 * depends on here (the boot id, compared by the caller, and the time
	 * of the save), which must then come back as corrupted (or be the
	 * padding after the boot id) */
	bad = 0;
	for (size_t i = 0; i < HDR_LEN; i++) {
		struct saved_state st;
		int r;

		copy[i] ^= 0x10;
		r = decode(copy, len, &st, why, sizeof(why));
		if (r == 0) {
			bool in_boot_id = i >= 12 && i <= 12 + strlen(BOOT_ID), in_time = i >= 52 && i < 60;
			bool padding = i > 12 + strlen(BOOT_ID) && i < 52;

			if (!((in_boot_id && strcmp(st.boot_id, BOOT_ID) != 0) || padding ||
			      (in_time && st.saved_usec != get64(img, 52))))
				if (bad++ < 5)
					fprintf(stderr, "header byte %zu: accepted\n", i);
			saved_state_clear(&st);
		} else if (r != -EINVAL || !why[0]) {
			bad++;
		}
		copy[i] ^= 0x10;
	}
	CHECK_MSG(bad == 0, "%u corrupted header bytes not handled", bad);
	CHECK(memcmp(copy, img, len) == 0);
	free(copy);
}

static void test_foreign(const unsigned char *img, size_t len)
{
	static const unsigned char elf[64] = { 0x7f, 'E', 'L', 'F', 2, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 3, 0, 0x3e, 0, 1 };
	static const struct {
		const char *what;
		const void *data;
		size_t len;
	} cases[] = {
		{ "empty", "", 0 },
		{ "text", "hello world\n", 12 },
		{ "ELF", elf, sizeof(elf) },
		{ "magic without its newline", "LWSTATE", 7 },
		{ "magic in lower case", "lwstate\n\1\0\0\0", 12 },
		{ "JSON", "{\"version\": 1}\n", 15 },
	};
	char why[160];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		CHECK_MSG(refused(cases[i].data, cases[i].len, why, sizeof(why)), "%s", cases[i].what);
		CHECK_MSG(strcmp(why, "not a leakwatch state file") == 0, "%s: %s", cases[i].what, why);
	}

	/* no reason buffer: still refused, nothing written */
	{
		struct saved_state st;

		CHECK(state_decode("hello world\n", 12, &st, NULL, 0) == -EINVAL);
		CHECK(decode(img, len - 3, &st, NULL, 0) == -EINVAL);
		strcpy(why, "untouched");
		CHECK(decode(img, len - 3, &st, why, 0) == -EINVAL);
		CHECK_STR(why, "untouched");
	}
	/* a short reason buffer: cut, terminated */
	{
		struct saved_state st;
		char small[8];

		memset(small, 'X', sizeof(small));
		CHECK(decode("hello world\n", 12, &st, small, sizeof(small)) == -EINVAL);
		CHECK_STR(small, "not a l");
	}
}

static void test_version(const unsigned char *img, size_t len)
{
	static const uint32_t versions[] = { 0, 1, STATE_VERSION + 1, 0x01000000, UINT32_MAX };
	unsigned char *copy = malloc(len);
	char why[160];

	for (size_t i = 0; i < sizeof(versions) / sizeof(versions[0]); i++) {
		char num[16];

		memcpy(copy, img, len);
		put_at(copy, 8, &versions[i], 4);
		snprintf(num, sizeof(num), "%u", versions[i]);
		CHECK(refused(copy, len, why, sizeof(why)));
		CHECK_MSG(strstr(why, "version") && strstr(why, num), "version %u: %s", versions[i], why);
		/* a header cut right after the version still names the version */
		CHECK(refused(copy, 12, why, sizeof(why)));
		CHECK_MSG(strstr(why, "version"), "version %u, 12 bytes: %s", versions[i], why);
	}
	/* the format before the timeline was shared (one per metric) */
	memcpy(copy, img, len);
	put_at(copy, 8, &versions[1], 4);
	CHECK(refused(copy, len, why, sizeof(why)));
	CHECK_STR(why, "unknown format version 1");
	free(copy);
}

/* A one-record image (len bytes, no uss in it, no groups) as versions
 * before 5 have it: without the flag byte after the metrics, and without
 * the groups' count of version 6.  Its new length. */
static size_t drop_sparse_flag(unsigned char *img, size_t len)
{
	size_t at = len - TAIL_LEN - SPARSE_FLAG;

	CHECK(img[at] == 0);
	memmove(img + at, img + at + SPARSE_FLAG, TAIL_LEN - GROUP_TAIL);
	return len - SPARSE_FLAG - GROUP_TAIL;
}

/* A version 2 image (before the floor records) is still read: the same
 * history, the floor records empty. */
static void test_version2(const unsigned char *img, size_t len)
{
	unsigned char *one = malloc(len), *old = malloc(len);
	const uint32_t v2 = 2;
	size_t one_len = records_prefix(img, one, 1), at = 0, from = 0;
	struct saved_state st, st3;
	char why[160];

	/* copy all but each metric's floor record */
	for (int k = 0; k < 3; k++) {
		size_t cut = metric_off(one, k) + M_FLOORS;

		memcpy(old + at, one + from, cut - from);
		at += cut - from;
		from = cut + (M_LEN - M_FLOORS);
	}
	memcpy(old + at, one + from, one_len - from);
	at += one_len - from;
	at = drop_sparse_flag(old, at);
	put_at(old, 8, &v2, 4);
	reseal(old, at);
	CHECK(at == one_len - 3 * (M_LEN - M_FLOORS) - SPARSE_FLAG - GROUP_TAIL);
	CHECK_MSG(decode(old, at, &st, why, sizeof(why)) == 0 && st.n == 1, "version 2: %s", why);
	CHECK(decode(one, one_len, &st3, why, sizeof(why)) == 0 && st3.n == 1);
	if (st.procs && st3.procs) {
		CHECK(st.procs->tl.head == st3.procs->tl.head);
		for (int k = 0; k < 3; k++) {
			CHECK(memcmp(&st.procs->m[k].hist, &st3.procs->m[k].hist, sizeof(struct series)) == 0);
			CHECK(st.procs->m[k].floors.last == -1 && st.procs->m[k].floors.run == 0);
		}
		CHECK(st3.procs->m[0].floors.last >= 0);   /* the version 3 image has one */
	}
	saved_state_clear(&st);
	saved_state_clear(&st3);
	free(one);
	free(old);
}

/* A version 3 image (before the verdict marks) is still read: the same
 * history and floors, no marks. */
static void test_version3(const unsigned char *img, size_t len)
{
	unsigned char *one = malloc(len), *old = malloc(len);
	const uint32_t v3 = 3;
	size_t one_len = records_prefix(img, one, 1), at = 0, from = 0;
	struct saved_state st, st4;
	char why[160];

	for (int k = 0; k < 3; k++) {   /* all but each metric's marks */
		size_t cut = metric_off(one, k) + M_MARKS;

		memcpy(old + at, one + from, cut - from);
		at += cut - from;
		from = cut + (M_LEN - M_MARKS);
	}
	memcpy(old + at, one + from, one_len - from);
	at += one_len - from;
	at = drop_sparse_flag(old, at);
	put_at(old, 8, &v3, 4);
	reseal(old, at);
	CHECK_MSG(decode(old, at, &st, why, sizeof(why)) == 0 && st.n == 1, "version 3: %s", why);
	CHECK(decode(one, one_len, &st4, why, sizeof(why)) == 0 && st4.n == 1);
	if (st.procs && st4.procs) {
		bool marked = false;

		for (int k = 0; k < 3; k++) {
			CHECK(memcmp(&st.procs->m[k].hist, &st4.procs->m[k].hist, sizeof(struct series)) == 0);
			CHECK(memcmp(&st.procs->m[k].floors, &st4.procs->m[k].floors, sizeof(struct floor_record)) == 0);
			CHECK(st.procs->m[k].leak_marks == 0 && st.procs->m[k].limit_marks == 0);
			marked |= st4.procs->m[k].leak_marks || st4.procs->m[k].limit_marks;
		}
		CHECK(marked);   /* the version 4 image has some */
	}
	saved_state_clear(&st);
	saved_state_clear(&st4);
	free(one);
	free(old);
}

static void test_trailing(const unsigned char *img, size_t len)
{
	unsigned char *copy = malloc(len + 64);
	char why[160];

	memcpy(copy, img, len);
	memset(copy + len, 0, 64);
	/* after the payload the header announces */
	for (size_t extra = 1; extra <= 64; extra *= 2) {
		CHECK(refused(copy, len + extra, why, sizeof(why)));
		CHECK_MSG(strstr(why, "trailing garbage"), "%zu bytes: %s", extra, why);
	}
	/* inside the payload, checksum and all, after the last record */
	memcpy(copy + len, "garbage!", 8);
	reseal(copy, len + 8);
	CHECK(refused(copy, len + 8, why, sizeof(why)));
	CHECK_STR(why, "8 bytes after the last record");
	/* a whole extra record's worth, fewer records counted */
	{
		uint32_t n;

		memcpy(copy, img, len);
		memcpy(&n, copy + HDR_COUNT, 4);
		n--;
		put_at(copy, HDR_COUNT, &n, 4);
		/* the last record is then read as action records: refused too */
		CHECK(refused(copy, len, why, sizeof(why)));
		CHECK_MSG(strstr(why, "action record") || strstr(why, "bytes after the last record"), "%s", why);
		n += 2;   /* one more record counted than there is */
		put_at(copy, HDR_COUNT, &n, 4);
		CHECK(refused(copy, len, why, sizeof(why)));
		CHECK_MSG(strncmp(why, "record 4: ", 10) == 0, "%s", why);
		n = UINT32_MAX;
		put_at(copy, HDR_COUNT, &n, 4);
		CHECK(refused(copy, len, why, sizeof(why)));
	}
	free(copy);
}

/* Records with values no history can have, behind a valid checksum. */
static void test_impossible(const unsigned char *img, size_t len)
{
	const double nan = NAN, inf = INFINITY, one = 1;
	const float fnan = NAN, fneg = -1.0f, fbig = 1e9f;
	const uint32_t zero32 = 0, neg_pid = (uint32_t)-5, big_n = 5;
	const uint64_t zero64 = 0, other_window = 30000, head_m1 = (uint64_t)-1, head_m2 = (uint64_t)-2,
		       head_big = (uint64_t)1 << 40, width_7 = 7;
	const uint16_t name0 = 0, name256 = 256, name_max = UINT16_MAX;
	size_t tl = timeline_off(img), m0 = metric_off(img, 0), m2 = metric_off(img, 2);
	size_t t5 = tl + TL_BUCKETS + 5 * TL_BUCKET_LEN, b5 = m0 + M_BUCKETS + 5 * SLOT_LEN;
	uint64_t head, origin, last_ms, width;
	size_t t_head;
	const struct {
		const char *what;
		size_t off;
		const void *v;
		size_t n;
		const char *reason;
	} cases[] = {
		{ "pid 0", HDR_LEN, &zero32, 4, "record 1: impossible values" },
		{ "negative pid", HDR_LEN, &neg_pid, 4, "record 1: impossible values" },
		{ "window 0", HDR_LEN + 12, &zero64, 8, "record 1: impossible values" },
		{ "window not the buckets'", HDR_LEN + 12, &other_window, 8, "record 1: impossible values" },
		{ "empty name", HDR_LEN + 20, &name0, 2, "record 1: bad watch name" },
		{ "name of 256", HDR_LEN + 20, &name256, 2, "record 1: bad watch name" },
		{ "name past the end", HDR_LEN + 20, &name_max, 2, "record 1: bad watch name" },
		{ "name with a slash", HDR_LEN + 22, "/", 1, "record 1: impossible values" },
		{ "name with a space", HDR_LEN + 23, " ", 1, "record 1: impossible values" },
		{ "name with a newline", HDR_LEN + 22, "\n", 1, "record 1: impossible values" },
		{ "name with a high byte", HDR_LEN + 22, "\xc3", 1, "record 1: impossible values" },
		{ "bucket width not the window's", tl + TL_WIDTH, &width_7, 8, "record 1: impossible values" },
		{ "head -2", tl + TL_HEAD, &head_m2, 8, "record 1: impossible values" },
		{ "head 2^40", tl + TL_HEAD, &head_big, 8, "record 1: impossible values" },
		{ "empty, with samples", tl + TL_HEAD, &head_m1, 8, "record 1: impossible values" },
		{ "last sample before the origin", tl + TL_LAST_MS, &zero64, 8, "record 1: impossible values" },
		{ "time offset NaN", t5 + 4, &fnan, 4, "record 1: impossible values" },
		{ "time offset negative", t5 + 4, &fneg, 4, "record 1: impossible values" },
		{ "time offset past its bucket", t5 + 4, &fbig, 4, "record 1: impossible values" },
		{ "time offset without samples", t5, &zero32, 4, "record 1: impossible values" },
		{ "bucket sum NaN", b5, &nan, 8, "record 1: impossible values" },
		{ "bucket min NaN", b5 + 8, &fnan, 4, "record 1: impossible values" },
		{ "bucket min over max", b5 + 8, &fbig, 4, "record 1: impossible values" },
		{ "value NaN", m2 + M_VALUE, &nan, 8, "record 1: impossible values" },
		{ "value +Inf", metric_off(img, 1) + M_VALUE, &inf, 8, "record 1: impossible values" },
		{ "value -Inf", m0 + M_VALUE, &(const double){ -INFINITY }, 8, "record 1: impossible values" },
		{ "count past the records", HDR_COUNT, &big_n, 4, "record 4: " },
	};
	unsigned char *copy = malloc(len);
	char why[160];
	struct saved_state st;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		memcpy(copy, img, len);
		put_at(copy, cases[i].off, cases[i].v, cases[i].n);
		reseal(copy, len);
		CHECK_MSG(refused(copy, len, why, sizeof(why)), "%s: accepted", cases[i].what);
		CHECK_MSG(strncmp(why, cases[i].reason, strlen(cases[i].reason)) == 0, "%s: %s", cases[i].what, why);
	}
	/* the same in the last record */
	{
		size_t last = len - TAIL_LEN - SPARSE_FLAG - 3 * M_LEN;

		memcpy(copy, img, len);
		put_at(copy, last + M_VALUE, &nan, 8);
		reseal(copy, len);
		CHECK(refused(copy, len, why, sizeof(why)));
		CHECK_STR(why, "record 3: impossible values");
	}

	/* The counts against the timeline.  The newest bucket holds the
	 * newest sample: not without samples. */
	head = get64(img, tl + TL_HEAD);
	t_head = tl + TL_BUCKETS + (head % 48) * TL_BUCKET_LEN;
	memcpy(copy, img, len);
	put_at(copy, t_head, &zero64, 8);       /* its count and time offset */
	reseal(copy, len);
	CHECK(refused(copy, len, why, sizeof(why)));
	CHECK_STR(why, "record 1: impossible values");

	/* A timeline younger than the ring: its samples in the buckets since
	 * the origin, none in the slots ahead of its head.  Made from the
	 * fixture's (whose ring is full) by moving the origin to 5 buckets
	 * before the newest sample and emptying the slots 6 to 47. */
	CHECK(head >= 48);
	last_ms = get64(img, tl + TL_LAST_MS);
	width = get64(img, tl + TL_WIDTH);
	origin = last_ms - 5 * width - width / 2;
	memcpy(copy, img, len);
	put_at(copy, tl + TL_ORIGIN, &origin, 8);
	put_at(copy, tl + TL_HEAD, &(const uint64_t){ 5 }, 8);
	for (size_t k = 0; k < 48; k++) {
		if (k == 5) {   /* the newest: the newest sample is in it */
			const uint32_t n1 = 1;
			const float toff = (float)(last_ms - origin - 5 * width);

			put_at(copy, tl + TL_BUCKETS + k * TL_BUCKET_LEN, &n1, 4);
			put_at(copy, tl + TL_BUCKETS + k * TL_BUCKET_LEN + 4, &toff, 4);
		}
		if (k <= 5)
			continue;
		put_at(copy, tl + TL_BUCKETS + k * TL_BUCKET_LEN, &zero64, 8);
		for (int i = 0; i < 3 && k == 6; i++) {   /* no quarter recorded yet, no marks */
			put_at(copy, metric_off(img, i) + M_FLOORS + 128, &(const int32_t){ -1 }, 4);
			put_at(copy, metric_off(img, i) + M_FLOORS + 132, &zero64, 4);
			put_at(copy, metric_off(img, i) + M_MARKS, &zero64, 8);
			put_at(copy, metric_off(img, i) + M_MARKS + 8, &zero64, 8);
		}
		for (int i = 0; i < 3; i++) {
			put_at(copy, metric_off(img, i) + M_BUCKETS + k * SLOT_LEN, &zero64, 8);
			put_at(copy, metric_off(img, i) + M_BUCKETS + k * SLOT_LEN + 8, &zero64, 8);
		}
	}
	reseal(copy, len);
	CHECK_MSG(decode(copy, len, &st, why, sizeof(why)) == 0, "a young timeline: %s", why);
	if (st.procs) {
		struct bucket x;

		CHECK(st.procs->tl.head == 5 && history_bucket(&st.procs->tl, &st.procs->m[0].hist, 5, &x) &&
		      x.n == 1);
		CHECK(!history_bucket(&st.procs->tl, &st.procs->m[0].hist, 6, &x));
	}
	saved_state_clear(&st);
	{
		/* samples before the origin, or values in a bucket without samples */
		unsigned char *young = malloc(len);
		const uint32_t n1 = 1;
		const uint64_t mark6 = (uint64_t)1 << 6 | 1, mark47 = (uint64_t)1 << 47;
		const struct {
			const char *what;
			size_t off;
			const void *v;
			size_t n;
		} young_cases[] = {
			{ "samples before the origin", tl + TL_BUCKETS + 6 * TL_BUCKET_LEN, &n1, 4 },
			{ "samples before the origin (slot 47)", tl + TL_BUCKETS + 47 * TL_BUCKET_LEN, &n1, 4 },
			{ "a sum without samples", m0 + M_BUCKETS + 6 * SLOT_LEN, &one, 8 },
			{ "a minimum without samples", metric_off(img, 1) + M_BUCKETS + 20 * SLOT_LEN + 8, &fneg, 4 },
			{ "a maximum without samples", m2 + M_BUCKETS + 47 * SLOT_LEN + 12, &fbig, 4 },
			{ "a leak mark without samples", m0 + M_MARKS, &mark6, 8 },
			{ "a limit mark without samples", m2 + M_MARKS + 8, &mark47, 8 },
		};

		memcpy(young, copy, len);
		for (size_t i = 0; i < sizeof(young_cases) / sizeof(young_cases[0]); i++) {
			memcpy(copy, young, len);
			put_at(copy, young_cases[i].off, young_cases[i].v, young_cases[i].n);
			reseal(copy, len);
			CHECK_MSG(refused(copy, len, why, sizeof(why)), "%s: accepted", young_cases[i].what);
			CHECK_MSG(strcmp(why, "record 1: impossible values") == 0, "%s: %s", young_cases[i].what, why);
		}
		free(young);
	}
	free(copy);
}

/* Random damage behind a valid checksum: refused or decoded into sane
 * values, never a crash or a leak (ASan). */
static void test_fuzz(const unsigned char *img, size_t len)
{
	unsigned char *copy = malloc(len);
	uint64_t x = 0x9e3779b97f4a7c15ull;
	unsigned accepted = 0, refused_n = 0, insane = 0;

	for (int iter = 0; iter < 2000; iter++) {
		struct saved_state st;
		char why[160] = "";
		size_t n = len;
		int r, edits;

		memcpy(copy, img, len);
		x ^= x << 13, x ^= x >> 7, x ^= x << 17;
		edits = 1 + (int)(x % 4);
		for (int e = 0; e < edits; e++) {
			size_t off;

			x ^= x << 13, x ^= x >> 7, x ^= x << 17;
			off = HDR_LEN + (size_t)(x % (len - HDR_LEN));
			if (iter % 3 == 0)   /* a whole little-endian word of random bits */
				for (size_t k = off & ~(size_t)3; k < (off & ~(size_t)3) + 4 && k < len; k++)
					copy[k] = (unsigned char)(x >> (8 * (k % 4) + 16));
			else
				copy[off] ^= (unsigned char)(1u << (x >> 40) % 8);
		}
		if (iter % 5 == 0) {   /* and cut it somewhere */
			x ^= x << 13, x ^= x >> 7, x ^= x << 17;
			n = HDR_LEN + (size_t)(x % (len - HDR_LEN));
		}
		reseal(copy, n);
		r = decode(copy, n, &st, why, sizeof(why));
		if (r == 0) {
			accepted++;
			for (const struct saved_proc *p = st.procs; p; p = p->next) {
				bool ok = p->pid > 0 && p->window_ms > 0 && p->watch && *p->watch;

				ok &= p->tl.head >= -1 && p->tl.width_ms == (p->window_ms / 48 ? p->window_ms / 48 : 1) &&
				      (p->tl.head < 0 || p->tl.n[p->tl.head % HIST_BUCKETS] > 0);
				for (int i = 0; i < METRIC_INLINE; i++)
					ok &= isfinite(p->m[i].value);
				insane += !ok;
			}
			saved_state_clear(&st);
		} else {
			refused_n++;
			if (r != -EINVAL || !why[0] || st.procs || st.n)
				insane++;
		}
	}
	CHECK_MSG(insane == 0, "%u insane results", insane);
	CHECK(refused_n > 0 && accepted > 0);   /* both paths were taken */
	free(copy);
}

/* ---- streaming and the file ------------------------------------------------------ */

/* A sink that keeps what it is given, and fails at its fail_at'th call. */
struct chunks {
	struct buf all;
	size_t calls, fail_at, after_failure;
	bool bad_size, failed;
};

static int collect(void *ctx, const void *data, size_t len)
{
	struct chunks *c = ctx;

	if (c->failed) {
		c->after_failure++;
		return -EIO;
	}
	c->calls++;
	c->bad_size |= len == 0 || len > STATE_CHUNK;
	if (c->calls == c->fail_at) {
		c->failed = true;
		return -EIO;
	}
	buf_add(&c->all, data, len);
	return 0;
}

/* A monitor of n processes, copies of m's (pids 1000 on): an image of
 * many chunks.  Free the result's watched array only. */
static void many(struct monitor *big, const struct monitor *m, size_t n)
{
	struct watched *ws = calloc(n, sizeof(*ws));
	const struct watched *src = m->j.watched;

	if (!ws)
		exit(2);
	memset(big, 0, sizeof(*big));
	big->j.cfg = m->j.cfg;
	big->j.wall_usec = m->j.wall_usec;
	for (size_t i = 0; i < n; i++) {
		ws[i] = *src;
		ws[i].pid = (pid_t)(1000 + i);
		ws[i].next = i + 1 < n ? &ws[i + 1] : NULL;
		src = src->next ? src->next : m->j.watched;
	}
	big->j.watched = ws;
	big->j.n_watched = n;
}

static bool file_is(const char *path, const void *data, size_t len)
{
	char *got = NULL;
	size_t got_len = 0;
	bool same = file_read(AT_FDCWD, path, STATE_MAX_SIZE, FILE_REGULAR, &got, &got_len) == 0 && got_len == len &&
		    memcmp(got, data, len) == 0;

	free(got);
	return same;
}

/* Files in dir whose name has ".tmp-" in it. */
static unsigned temporaries(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	unsigned n = 0;

	if (!d)
		return 1000;
	while ((de = readdir(d)))
		n += strstr(de->d_name, ".tmp-") != NULL;
	closedir(d);
	return n;
}

static void test_stream(const struct monitor *m, const unsigned char *img, size_t len)
{
	struct monitor big;
	struct chunks c = { 0 };
	struct buf whole = { 0 };
	unsigned char header[STATE_HEADER_LEN];
	size_t calls;

	many(&big, m, 150);
	CHECK(state_encode_buf(&whole, &big.j, NULL, BOOT_ID) == 0);
	CHECK(whole.len == HDR_LEN + 100 * (REC_FIXED + strlen("workers")) + 50 * (REC_FIXED + strlen("others")) +
	      TAIL_LEN);
	CHECK(whole.len > 5 * STATE_CHUNK);

	/* in chunks, each full but the last; first a placeholder header
	 * (nothing counted yet), the header proper at the end */
	CHECK(state_encode(&big.j, NULL, BOOT_ID, collect, &c, header) == 0);
	CHECK(buf_ok(&c.all) && c.all.len == whole.len && !c.bad_size);
	CHECK(c.calls == (whole.len + STATE_CHUNK - 1) / STATE_CHUNK);
	CHECK(memcmp(c.all.data, whole.data, HDR_COUNT) == 0);
	{
		static const unsigned char zeros[HDR_LEN - HDR_COUNT];

		CHECK(memcmp(c.all.data + HDR_COUNT, zeros, sizeof(zeros)) == 0);
	}
	CHECK(memcmp(header, whole.data, STATE_HEADER_LEN) == 0);
	CHECK(memcmp(c.all.data + HDR_LEN, whole.data + HDR_LEN, whole.len - HDR_LEN) == 0);
	{
		struct saved_state st;
		char why[160];
		const struct saved_proc *p;
		const struct watched *w;
		bool same = true;

		CHECK_MSG(decode(whole.data, whole.len, &st, why, sizeof(why)) == 0 && st.n == 150, "%s", why);
		for (p = st.procs, w = big.j.watched; p && w; p = p->next, w = w->next) {
			same &= p->pid == w->pid && timeline_equal(&p->tl, &w->tl);
			for (int i = 0; i < METRIC_INLINE; i++)
				same &= metric_equal(&p->tl, &p->m[i], &w->tl, &w->m[i]);
		}
		CHECK(same && !p && !w);
		saved_state_clear(&st);
	}
	calls = c.calls;
	buf_free(&c.all);

	/* a sink that fails: its error, and not called again */
	for (size_t at = 1; at <= calls; at++) {
		memset(&c, 0, sizeof(c));
		c.fail_at = at;
		CHECK_MSG(state_encode(&big.j, NULL, BOOT_ID, collect, &c, header) == -EIO, "failing at call %zu", at);
		CHECK(c.failed && c.after_failure == 0 && c.calls == at);
		buf_free(&c.all);
	}

	/* to a file: the same bytes, mode 0600, renamed into place */
	{
		char dir[300], path[340], missing[340];
		struct stat sb;
		pid_t pid;
		int status = 0;

		snprintf(dir, sizeof(dir), "%s/state-dir", root);
		snprintf(path, sizeof(path), "%s/history.state", dir);
		snprintf(missing, sizeof(missing), "%s/no-such-dir/history.state", root);
		CHECK(mkdir(dir, 0700) == 0);
		CHECK(state_save(path, &big.j, NULL, BOOT_ID, false) == 0);
		CHECK(file_is(path, whole.data, whole.len));
		CHECK(stat(path, &sb) == 0 && (sb.st_mode & 07777) == 0600);
		CHECK(state_save(path, &m->j, NULL, BOOT_ID, true) == 0);
		CHECK(file_is(path, img, len));
		CHECK(temporaries(dir) == 0);

		/* the disk fills up midway (a file size limit, a few chunks in):
		 * the error, the old file as it was, no temporary file */
		fflush(NULL);
		pid = fork();
		if (pid == 0) {
			struct rlimit lim = { 3 * STATE_CHUNK + 100, 3 * STATE_CHUNK + 100 };

			signal(SIGXFSZ, SIG_IGN);
			if (setrlimit(RLIMIT_FSIZE, &lim) < 0)
				_exit(3);
			_exit(state_save(path, &big.j, NULL, BOOT_ID, false) == -EFBIG ? 0 : 1);
		}
		CHECK(pid > 0 && waitpid(pid, &status, 0) == pid);
		CHECK_MSG(WIFEXITED(status) && WEXITSTATUS(status) == 0, "a save over the file size limit: status 0x%x",
			  status);
		CHECK(file_is(path, img, len));
		CHECK(temporaries(dir) == 0);

		/* no directory: nothing to remove either */
		CHECK(state_save(missing, &m->j, NULL, BOOT_ID, false) == -ENOENT);
		CHECK(file_is(path, img, len));
	}
	buf_free(&whole);
	free(big.j.watched);
}

/* ---- monitor_restore --------------------------------------------------------------- */

struct restore_case {
	const char *what;
	const struct config *cfg;
	unsigned long long start_101;    /* 101's start time in the new /proc */
	bool hide_200;                   /* 200 shows up only after the first scan */
	bool restored[3];                /* 101, 102, 200 */
};

static const struct saved_proc *saved(const struct saved_state *st, pid_t pid)
{
	for (const struct saved_proc *p = st->procs; p; p = p->next)
		if (p->pid == pid)
			return p;
	return NULL;
}

static void test_restore_case(const struct restore_case *c, const unsigned char *img, size_t len)
{
	static const pid_t pids[3] = { 101, 102, 200 };
	struct saved_state st, ref;
	struct monitor m;
	struct seen s = { 0 };
	char why[160];
	char hidden[300], shown[300];
	uint64_t now = LAST_MS + 250;
	size_t n_restored = 0;

	/* the reference copy, and the one handed over */
	CHECK(decode(img, len, &ref, why, sizeof(why)) == 0);
	CHECK(decode(img, len, &st, why, sizeof(why)) == 0);
	stat_file(101, "gunicorn", 1, PF_USER, 2, 1000 + 99 * 25, c->start_101);
	snprintf(shown, sizeof(shown), "%s/200", root);
	snprintf(hidden, sizeof(hidden), "%s/hidden-200", root);
	if (c->hide_200)
		CHECK(rename(shown, hidden) == 0);

	CHECK(monitor_init(&m, root, c->cfg, 300, on_event, &s) == 0);
	monitor_restore(&m, &st);
	CHECK(st.procs == NULL && st.n == 0);   /* taken over */
	saved_state_clear(&st);
	monitor_tick(&m, now, WALL_BASE + now * 1000);
	CHECK(m.restore == NULL);               /* the first scan claimed or dropped them all */
	if (c->hide_200) {
		CHECK(rename(hidden, shown) == 0);
		now += 1000;                    /* the next scan */
		monitor_tick(&m, now, WALL_BASE + now * 1000);
	}
	CHECK_MSG(m.j.n_watched == 3, "%s: %zu watched", c->what, m.j.n_watched);

	for (int k = 0; k < 3; k++) {
		const struct watched *w = judged_find(&m.j, pids[k]);
		const struct saved_proc *p = saved(&ref, pids[k]);

		CHECK(w && p);
		if (!w || !p)
			continue;
		n_restored += c->restored[k];
		if (c->restored[k]) {
			const struct timeline *tl = &w->tl, *old = &p->tl;

			/* the saved history, plus this tick's sample in its newest
			 * bucket or the next one */
			CHECK_MSG(tl->origin_ms == old->origin_ms && tl->last_ms == now, "%s: pid %d", c->what,
				  (int)pids[k]);
			CHECK_MSG(tl->head >= old->head && tl->head <= old->head + 4 &&
				  tl->head == (int64_t)((now - old->origin_ms) / old->width_ms),
				  "%s: pid %d head %lld, saved %lld", c->what, (int)pids[k], (long long)tl->head,
				  (long long)old->head);
			for (int i = 0; i < METRIC_INLINE; i++) {
				struct bucket newest;

				for (int64_t b = old->head - HIST_BUCKETS + 1; b < old->head; b++) {
					struct bucket x, y;

					history_bucket(tl, &w->m[i].hist, b, &x);
					history_bucket(old, &p->m[i].hist, b, &y);
					CHECK_MSG(tl->head > b + HIST_BUCKETS - 1 || memcmp(&x, &y, sizeof(x)) == 0,
						  "%s: pid %d bucket %lld", c->what, (int)pids[k], (long long)b);
				}
				CHECK(w->m[i].leaking == p->m[i].leaking);
				CHECK(history_bucket(tl, &w->m[i].hist, tl->head, &newest) && newest.n > 0 &&
				      newest.min <= (float)w->m[i].value && (float)w->m[i].value <= newest.max);
			}
		} else {
			/* a fresh history: one sample */
			CHECK_MSG(w->tl.head == 0 && w->tl.origin_ms == now && w->tl.n[0] == 1, "%s: pid %d head %lld",
				  c->what, (int)pids[k], (long long)w->tl.head);
			for (int i = 0; i < METRIC_INLINE; i++) {
				struct bucket b0;

				CHECK(history_bucket(&w->tl, &w->m[i].hist, 0, &b0) && b0.n == 1 &&
				      b0.sum == w->m[i].value);
				CHECK(!w->m[i].leaking && !w->m[i].in_limit);
			}
		}
	}
	CHECK_MSG(m.n_restored == n_restored, "%s: %zu restored, expected %zu", c->what, m.n_restored, n_restored);
	CHECK_MSG(s.found == 3 && s.found_restored == (int)n_restored, "%s: %d found, %d said restored", c->what,
		  s.found, s.found_restored);

	/* a restored history renders (and its reports stay sane) */
	{
		struct buf b = { 0 };

		report_answer(&m.j, "status json", &b);
		report_answer(&m.j, "history 101", &b);
		report_answer(&m.j, "history 200 json", &b);
		CHECK(buf_ok(&b) && strncmp(b.data, "OK\n", 3) == 0);
		buf_free(&b);
	}
	monitor_free(&m);
	saved_state_clear(&ref);
	stat_file(101, "gunicorn", 1, PF_USER, 2, 1000 + 99 * 25, 101);
}

static void test_restore(const unsigned char *img, size_t len, const struct config *cfg)
{
	struct config *window = load_config(CONFIG("workers", "30s"));
	struct config *renamed = load_config(CONFIG("workers2", "20s"));
	const struct restore_case cases[] = {
		{ "same processes, same config", cfg, 101, false, { true, true, true } },
		{ "the workers' window changed", window, 101, false, { false, false, true } },
		{ "the workers' watch renamed", renamed, 101, false, { false, false, true } },
		{ "101 is another process (start time)", cfg, 5000, false, { false, true, true } },
		{ "200 found after the first scan", cfg, 101, true, { true, true, false } },
	};

	if (!window || !renamed)
		exit(2);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		test_restore_case(&cases[i], img, len);

	/* a history restored twice, or restore lists appended */
	{
		struct saved_state a, b;
		struct monitor m;
		char why[160];
		uint64_t now = LAST_MS + 250;

		CHECK(decode(img, len, &a, why, sizeof(why)) == 0);
		CHECK(decode(img, len, &b, why, sizeof(why)) == 0);
		CHECK(monitor_init(&m, root, cfg, 300, NULL, NULL) == 0);
		monitor_restore(&m, &a);
		monitor_restore(&m, &b);
		monitor_tick(&m, now, WALL_BASE + now * 1000);
		CHECK(m.n_restored == 3 && m.restore == NULL);
		monitor_free(&m);   /* frees what is left */

		/* never ticked: monitor_free releases the list */
		CHECK(decode(img, len, &a, why, sizeof(why)) == 0);
		CHECK(monitor_init(&m, root, cfg, 300, NULL, NULL) == 0);
		monitor_restore(&m, &a);
		monitor_free(&m);
	}
	config_free(window);
	config_free(renamed);
}

/* Extreme values the decoder accepts must not upset the monitor or the
 * reports (run under UBSan): a huge head, an origin far in the future, a
 * bucket full to the brim, counters at their maximum.  In a child process,
 * so that a sanitizer's abort is one failed check here. */
static int restore_extremes(const unsigned char *img, size_t len, const struct config *cfg)
{
	const uint64_t head_max = ((uint64_t)1 << 40) - 1, far = (uint64_t)1 << 62, zero = 0;
	const uint32_t n_max = UINT32_MAX;
	const double huge = 1e300;
	const float fmin = -3e38f, fmax = 3e38f;
	size_t tl = timeline_off(img), m0 = metric_off(img, 0), m1 = metric_off(img, 1);
	unsigned char *copy = malloc(len);
	struct saved_state st;
	struct monitor m;
	struct buf b = { 0 };
	char why[160];
	uint64_t now = LAST_MS + 250;
	int bad = 0;

	/* times that contradict each other, or lie centuries ahead: refused */
	const struct { size_t off; const uint64_t *v; size_t off2; const uint64_t *v2; } bad_times[] = {
		{ tl + TL_ORIGIN, &zero, tl + TL_HEAD, &head_max },
		{ tl + TL_ORIGIN, &far, tl + TL_LAST_MS, &far },
		{ tl + TL_HEAD, &head_max, 0, NULL },
	};

	for (size_t i = 0; i < sizeof(bad_times) / sizeof(bad_times[0]); i++) {
		memcpy(copy, img, len);
		put_at(copy, bad_times[i].off, bad_times[i].v, 8);
		if (bad_times[i].v2)
			put_at(copy, bad_times[i].off2, bad_times[i].v2, 8);
		reseal(copy, len);
		if (decode(copy, len, &st, why, sizeof(why)) == 0) {
			fprintf(stderr, "extremes: inconsistent times %zu accepted\n", i);
			saved_state_clear(&st);
			bad++;
		}
	}
	/* extreme but consistent values: accepted, restored and rendered safely */
	memcpy(copy, img, len);
	for (int k = 0; k < 48; k += 7) {
		size_t bk = m1 + M_BUCKETS + (size_t)k * SLOT_LEN;

		put_at(copy, bk, &huge, 8);
		put_at(copy, bk + 8, &fmin, 4);
		put_at(copy, bk + 12, &fmax, 4);
		put_at(copy, tl + TL_BUCKETS + (size_t)k * TL_BUCKET_LEN, &n_max, 4);
	}
	for (size_t off = m0 + M_VALUE + 10; off < m0 + M_VALUE + 22; off += 4)
		put_at(copy, off, &n_max, 4);   /* over, under, streak */
	reseal(copy, len);
	if (decode(copy, len, &st, why, sizeof(why)) != 0) {
		fprintf(stderr, "extremes: refused: %s\n", why);
		free(copy);
		return 1;
	}
	free(copy);
	if (monitor_init(&m, root, cfg, 300, NULL, NULL) != 0)
		return 1;
	monitor_restore(&m, &st);
	for (int i = 0; i < 8; i++, now += 250)
		monitor_tick(&m, now, WALL_BASE + now * 1000);
	bad += m.n_restored != 3;
	report_answer(&m.j, "status", &b);
	report_answer(&m.j, "status json", &b);
	for (const struct watched *w = m.j.watched; w; w = w->next) {
		report_history_json(&b, &m.j, w);
		report_history_table(&b, &m.j, w);
	}
	bad += !buf_ok(&b);
	buf_free(&b);
	monitor_free(&m);
	return bad ? 1 : 0;
}

static void test_restore_extremes(const unsigned char *img, size_t len, const struct config *cfg)
{
	pid_t pid;
	int status = 0;

	fflush(NULL);
	pid = fork();
	if (pid == 0)
		_exit(restore_extremes(img, len, cfg));
	CHECK(pid > 0 && waitpid(pid, &status, 0) == pid);
	CHECK_MSG(WIFEXITED(status) && WEXITSTATUS(status) == 0,
		  "restoring extreme (accepted) values and rendering them failed (status 0x%x; a sanitizer report above?)",
		  status);
}

/* The watches' action times ride along: cooldown and max_actions hold
 * across a restart.  Oldest first; a ring that wrapped comes out in order. */
static void test_policies(struct monitor *m, const struct config *cfg)
{
	const struct watch *w = config_find_watch(cfg, "workers");
	struct action_policy *list = NULL, *restored = NULL, *p;
	struct saved_state st;
	struct buf b = { 0 };
	char why[160];

	CHECK(w != NULL);
	if (!w)
		return;
	p = action_policy_get(&list, "workers");
	for (uint64_t t = 1000; t <= 9000; t += 1000)   /* more than max_actions: wraps */
		action_record(p, w, t);
	action_policy_get(&list, "others");              /* no action: not saved */
	CHECK(state_encode_buf(&b, &m->j, list, BOOT_ID) == 0);
	CHECK_MSG(decode(b.data, b.len, &st, why, sizeof(why)) == 0, "%s", why);
	CHECK(st.policies && !st.policies->next);
	if (st.policies) {
		const struct saved_policy *sp = st.policies;
		bool ordered = sp->n == p->n && sp->n > 0;

		CHECK_STR(sp->watch, "workers");
		for (uint32_t i = 0; ordered && i < sp->n; i++)
			ordered = sp->times[i] == 9000 - (uint64_t)(sp->n - 1 - i) * 1000;
		CHECK_MSG(ordered, "%u times, not the newest %u in order", sp->n, p->n);
		/* restored into a fresh list: the same gate at any instant */
		CHECK(action_policy_restore(&restored, w, sp->times, sp->n) == 0);
		for (uint64_t now = 8500; now < 9000 + w->max_actions_period_ms + w->cooldown_ms + 2000; now += 250)
			CHECK_MSG(action_gate(restored, w, now) == action_gate(p, w, now), "gate at %llu",
				  (unsigned long long)now);
	}
	saved_state_clear(&st);
	CHECK(st.policies == NULL);
	/* an action record cut short, or with times out of order (the
	 * groups' count after it) */
	{
		unsigned char *copy = malloc(b.len);
		uint64_t back = 5;

		for (size_t n = b.len - GROUP_TAIL - 8; n < b.len - GROUP_TAIL; n++) {
			memcpy(copy, b.data, n);
			reseal(copy, n);
			CHECK(refused(copy, n, why, sizeof(why)));
			CHECK_MSG(strncmp(why, "action record 1: ", 17) == 0, "%s", why);
		}
		memcpy(copy, b.data, b.len);
		put_at(copy, b.len - GROUP_TAIL - 8, &back, 8);
		reseal(copy, b.len);
		CHECK(refused(copy, b.len, why, sizeof(why)));
		CHECK_STR(why, "action record 1: impossible values");
		free(copy);
	}
	action_policy_free_all(list);
	action_policy_free_all(restored);
	buf_free(&b);
}

int main(void)
{
	struct config *cfg;
	struct monitor m;
	struct buf img = { 0 };

	RUN(test_crc32);
	if (!make_root("state"))
		return 2;
	cfg = load_config(CONFIG("workers", "20s"));
	if (!cfg)
		return 2;

	make_proc(1, "systemd", 0, PF_USER, "/sbin/init", 3);
	make_proc(101, "gunicorn", 1, PF_USER, "gunicorn: worker [app]", 5);
	make_proc(102, "gunicorn", 1, PF_USER, "gunicorn: worker [app]", 5);
	make_proc(200, "other", 1, PF_USER, "other", 3);

	CHECK(monitor_init(&m, root, cfg, 300, NULL, NULL) == 0);
	run(&m);
	CHECK(m.j.n_watched == 3);
	/* episode counters the run leaves at zero, so that the round trip
	 * carries values there too */
	if (m.j.watched) {
		m.j.watched->m[METRIC_THREADS].streak = 2;
		m.j.watched->m[METRIC_THREADS].streak_since = LAST_MS - 500;
		m.j.watched->m[METRIC_FDS].under = 1;
	}
	CHECK(state_encode_buf(&img, &m.j, NULL, BOOT_ID) == 0);
	CHECK(buf_ok(&img));
	CHECK(img.len == HDR_LEN + 3 * REC_FIXED + 2 * strlen("workers") + strlen("others") + TAIL_LEN);

	RUN(test_round_trip, &m, (const unsigned char *)img.data, img.len);
	RUN(test_stream, &m, (const unsigned char *)img.data, img.len);
	RUN(test_policies, &m, cfg);
	RUN(test_boot_ids, &m, cfg);
	monitor_free(&m);

	RUN(test_truncated, (const unsigned char *)img.data, img.len);
	{
		/* the tests that checksum the image once per case: one or two
		 * records (still a valid image: the header made to agree) */
		unsigned char *part = malloc(img.len);
		size_t part_len = records_prefix((const unsigned char *)img.data, part, 1);

		RUN(test_corrupt, part, part_len);
		part_len = records_prefix((const unsigned char *)img.data, part, 2);
		RUN(test_fuzz, part, part_len);
		free(part);
	}
	RUN(test_foreign, (const unsigned char *)img.data, img.len);
	RUN(test_version, (const unsigned char *)img.data, img.len);
	RUN(test_version2, (const unsigned char *)img.data, img.len);
	RUN(test_version3, (const unsigned char *)img.data, img.len);
	RUN(test_trailing, (const unsigned char *)img.data, img.len);
	RUN(test_impossible, (const unsigned char *)img.data, img.len);
	RUN(test_restore, (const unsigned char *)img.data, img.len, cfg);
	RUN(test_restore_extremes, (const unsigned char *)img.data, img.len, cfg);

	buf_free(&img);
	config_free(cfg);
	CHECK(remove_root() == 0);
	return check_done("test_state");
}
