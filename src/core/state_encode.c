/* The state image's encoder: layout and rationale in state_codec.h (the
 * decoder, which checks every field, is state_codec.c).  Apart from the
 * decoder so that each stays a readable size: they share only the
 * constants of state_layout.h and the layout, which test_state round-trips.
 * It reads the judged set (core/judge.h), not the monitor, so it stays
 * pure: the image goes to a sink the caller gives. */
#include "core/state_codec.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "core/action_policy.h"
#include "core/config.h"
#include "core/group_judge.h"
#include "core/judge.h"
#include "core/state_layout.h"

_Static_assert(STATE_HEADER_LEN == 8 + 4 + BOOT_ID_LEN + 8 + 4 + 8 + 4, "the header's fields");
_Static_assert(STATE_CHUNK >= STATE_HEADER_LEN, "the placeholder fits a chunk");
_Static_assert(sizeof(struct floor_record) == 2 * 16 * 4 + 4 + 4, "a floor record is its fields");

uint32_t crc32_update(uint32_t crc, const void *data, size_t len)
{
	static uint32_t table[256];
	const unsigned char *p = data;

	if (!table[1])
		for (uint32_t i = 0; i < 256; i++) {
			uint32_t c = i;

			for (int k = 0; k < 8; k++)
				c = c & 1 ? 0xedb88320u ^ (c >> 1) : c >> 1;
			table[i] = c;
		}
	crc = ~crc;
	while (len--)
		crc = table[(crc ^ *p++) & 0xff] ^ (crc >> 8);
	return ~crc;
}

/* ---- encoding: through a chunk, handed on as it fills ----------------------- */

struct enc {
	state_write_fn sink;
	void *ctx;
	unsigned char *chunk;      /* STATE_CHUNK bytes */
	size_t used;
	uint64_t passed;           /* bytes handed on so far, the placeholder included */
	uint32_t crc;              /* of the payload handed on */
	int err;                   /* the sink's error; nothing more is written */
};

static void flush(struct enc *e)
{
	size_t skip = 0;

	if (e->err || e->used == 0)
		return;
	if (e->passed < STATE_HEADER_LEN)      /* the placeholder is not payload */
		skip = STATE_HEADER_LEN - e->passed < e->used ? STATE_HEADER_LEN - e->passed : e->used;
	e->crc = crc32_update(e->crc, e->chunk + skip, e->used - skip);
	e->err = e->sink(e->ctx, e->chunk, e->used);
	e->passed += e->used;
	e->used = 0;
}

static void put(struct enc *e, const void *data, size_t n)
{
	const unsigned char *p = data;

	while (n > 0 && !e->err) {
		size_t k = STATE_CHUNK - e->used;

		if (k > n)
			k = n;
		memcpy(e->chunk + e->used, p, k);
		e->used += k;
		p += k;
		n -= k;
		if (e->used == STATE_CHUNK)
			flush(e);
	}
}

static void put_u8(struct enc *e, uint8_t v) { put(e, &v, sizeof(v)); }
static void put_u16(struct enc *e, uint16_t v) { put(e, &v, sizeof(v)); }
static void put_u32(struct enc *e, uint32_t v) { put(e, &v, sizeof(v)); }
static void put_u64(struct enc *e, uint64_t v) { put(e, &v, sizeof(v)); }
static void put_f32(struct enc *e, float v) { put(e, &v, sizeof(v)); }
static void put_f64(struct enc *e, double v) { put(e, &v, sizeof(v)); }

static void put_timeline(struct enc *e, const struct timeline *tl)
{
	put_u64(e, tl->width_ms);
	put_u64(e, tl->origin_ms);
	put_u64(e, (uint64_t)tl->head);
	put_u64(e, tl->last_ms);
	for (int i = 0; i < HIST_BUCKETS; i++) {
		put_u32(e, tl->n[i]);
		put_f32(e, tl->toff[i]);
	}
}

static void put_metric(struct enc *e, const struct timeline *tl, const struct metric_state *s)
{
	for (int i = 0; i < HIST_BUCKETS; i++) {
		/* a bucket without samples holds stale values (history.h): zeros */
		struct slot sl = { 0 };

		if (tl->n[i])
			sl = s->hist.s[i];
		put_f64(e, sl.sum);
		put_f32(e, sl.min);
		put_f32(e, sl.max);
	}
	put_f64(e, s->value);
	put_u8(e, s->leaking);
	put_u8(e, s->in_limit);
	put_u32(e, s->over);
	put_u32(e, s->under);
	put_u32(e, s->streak);
	put_u64(e, s->streak_since);
	put(e, &s->floors, sizeof(s->floors));   /* 2 x 16 f32, i32, u32: no padding */
	put_u64(e, s->leak_marks & timeline_sampled(tl));
	put_u64(e, s->limit_marks & timeline_sampled(tl));
}

static bool policy_saved(const struct action_policy *p)
{
	return strlen(p->name) <= NAME_MAX_LEN && p->n > 0;
}

/* The group of watch i of j that has a history to save, or NULL (its
 * name fits: group_record_init() takes none longer than a watch's). */
static const struct group_record *group_saved(const struct judged *j, size_t i)
{
	const struct group_record *g = j->groups ? j->groups[i] : NULL;

	return g && g->started ? g : NULL;
}

/* The groups' records (version 6 on): their count, then each. */
static void put_groups(struct enc *e, const struct judged *j)
{
	uint32_t n = 0;

	for (size_t i = 0; i < j->cfg->n_watches; i++)
		n += group_saved(j, i) != NULL;
	put_u32(e, n);
	for (size_t i = 0; i < j->cfg->n_watches; i++) {
		const struct group_record *g = group_saved(j, i);

		if (!g)
			continue;
		put_u16(e, (uint16_t)strlen(g->watch));
		put(e, g->watch, strlen(g->watch));
		put_u64(e, g->window_ms);
		put_u64(e, g->first_ms);
		for (int k = 0; k < GROUP_METRICS; k++) {
			put_timeline(e, &g->tl[k]);
			put_metric(e, &g->tl[k], &g->m[k]);
		}
	}
}

/* The header, its counts, length and checksum as given. */
static void make_header(unsigned char *out, const char *boot_id, uint64_t wall_usec, uint32_t n,
			uint64_t payload, uint32_t crc)
{
	uint32_t version = STATE_VERSION;
	size_t id_len = strnlen(boot_id, BOOT_ID_LEN - 1);

	memset(out, 0, STATE_HEADER_LEN);
	memcpy(out, state_magic, sizeof(state_magic));
	memcpy(out + 8, &version, 4);
	memcpy(out + 12, boot_id, id_len);
	memcpy(out + 12 + BOOT_ID_LEN, &wall_usec, 8);
	memcpy(out + 60, &n, 4);
	memcpy(out + 64, &payload, 8);
	memcpy(out + 72, &crc, 4);
}

int state_encode(const struct judged *j, const struct action_policy *policies, const char *boot_id,
		 state_write_fn sink, void *ctx, unsigned char header[STATE_HEADER_LEN])
{
	struct enc e = { .sink = sink, .ctx = ctx };
	uint32_t n = 0, np = 0;

	e.chunk = malloc(STATE_CHUNK);
	if (!e.chunk)
		return -ENOMEM;
	make_header(header, boot_id, j->wall_usec, 0, 0, 0);
	put(&e, header, STATE_HEADER_LEN);     /* the placeholder */
	for (const struct watched *w = j->watched; w; w = w->next) {
		const struct watch *wc = &j->cfg->watches[w->watch];
		size_t name_len = strlen(wc->name);

		if (name_len > NAME_MAX_LEN)
			continue;
		put_u32(&e, (uint32_t)w->pid);
		put_u64(&e, w->start_ticks);
		put_u64(&e, wc->window_ms);
		put_u16(&e, (uint16_t)name_len);
		put(&e, wc->name, name_len);
		put_timeline(&e, &w->tl);
		for (int i = 0; i < METRIC_INLINE; i++)
			put_metric(&e, &w->tl, &w->m[i]);
		put_u8(&e, w->sparse != NULL);
		if (w->sparse) {
			put_timeline(&e, &w->sparse->tl);
			for (int i = 0; i < METRIC_SPARSE; i++)
				put_metric(&e, &w->sparse->tl, &w->sparse->m[i]);
		}
		n++;
	}
	for (const struct action_policy *p = policies; p; p = p->next)
		np += policy_saved(p);
	put_u32(&e, np);
	for (const struct action_policy *p = policies; p; p = p->next) {
		size_t name_len = strlen(p->name);

		if (!policy_saved(p))
			continue;
		put_u16(&e, (uint16_t)name_len);
		put(&e, p->name, name_len);
		put_u32(&e, p->n);
		for (unsigned i = 0; i < p->n; i++)   /* oldest first */
			put_u64(&e, p->times[(p->head + p->cap - p->n + i) % p->cap]);
	}
	put_groups(&e, j);
	flush(&e);
	free(e.chunk);
	if (e.err)
		return e.err;
	make_header(header, boot_id, j->wall_usec, n, e.passed - STATE_HEADER_LEN, e.crc);
	return 0;
}

static int buf_write(void *ctx, const void *data, size_t len)
{
	struct buf *b = ctx;

	buf_add(b, data, len);
	return buf_ok(b) ? 0 : -ENOMEM;
}

int state_encode_buf(struct buf *b, const struct judged *j, const struct action_policy *policies,
		     const char *boot_id)
{
	unsigned char header[STATE_HEADER_LEN];
	size_t start = b->len;
	int r = state_encode(j, policies, boot_id, buf_write, b, header);

	if (r < 0)
		return r;
	memcpy(b->data + start, header, sizeof(header));
	return 0;
}
