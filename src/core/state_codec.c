/* The state image: layout and rationale in state_codec.h.  It reads the
 * judged set (core/judge.h), not the monitor, so the codec stays pure. */
#include "core/state_codec.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/action_policy.h"
#include "core/config.h"
#include "core/judge.h"

static const char magic[8] = { 'L', 'W', 'S', 'T', 'A', 'T', 'E', '\n' };

#define BOOT_ID_LEN 40
#define NAME_MAX_LEN 255

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

/* The header, its counts, length and checksum as given. */
static void make_header(unsigned char *out, const char *boot_id, uint64_t wall_usec, uint32_t n,
			uint64_t payload, uint32_t crc)
{
	uint32_t version = STATE_VERSION;
	size_t id_len = strnlen(boot_id, BOOT_ID_LEN - 1);

	memset(out, 0, STATE_HEADER_LEN);
	memcpy(out, magic, sizeof(magic));
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
		for (int i = 0; i < METRIC_COUNT; i++)
			put_metric(&e, &w->tl, &w->m[i]);
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

/* ---- decoding: every read is bounds-checked --------------------------------- */

struct rd {
	const unsigned char *p;
	size_t left;
	bool short_read;
	uint32_t version;          /* the image's: 2 has no floor records, 3 no marks */
};

static void get(struct rd *r, void *out, size_t n)
{
	if (r->short_read || r->left < n) {
		r->short_read = true;
		memset(out, 0, n);
		return;
	}
	memcpy(out, r->p, n);
	r->p += n;
	r->left -= n;
}

static uint8_t get_u8(struct rd *r) { uint8_t v; get(r, &v, sizeof(v)); return v; }
static uint16_t get_u16(struct rd *r) { uint16_t v; get(r, &v, sizeof(v)); return v; }
static uint32_t get_u32(struct rd *r) { uint32_t v; get(r, &v, sizeof(v)); return v; }
static uint64_t get_u64(struct rd *r) { uint64_t v; get(r, &v, sizeof(v)); return v; }
static float get_f32(struct rd *r) { float v; get(r, &v, sizeof(v)); return v; }
static double get_f64(struct rd *r) { double v; get(r, &v, sizeof(v)); return v; }

static void reason(char *why, size_t len, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void reason(char *why, size_t len, const char *fmt, ...)
{
	va_list ap;

	if (!why || !len)
		return;
	va_start(ap, fmt);
	vsnprintf(why, len, fmt, ap);
	va_end(ap);
}

/* A timeline as saved; false when its values cannot be a real one. */
static bool get_timeline(struct rd *r, struct timeline *tl, uint64_t window_ms)
{
	bool ok = true;

	timeline_init(tl, window_ms);
	ok &= get_u64(r) == tl->width_ms;
	tl->origin_ms = get_u64(r);
	tl->head = (int64_t)get_u64(r);
	tl->last_ms = get_u64(r);
	/* boot-time ms fit 2^42 for a century; the newest bucket is the one
	 * the newest sample fell into */
	ok &= tl->head >= -1 && tl->last_ms < (uint64_t)1 << 42 && tl->last_ms >= tl->origin_ms;
	if (ok && tl->head >= 0)
		ok &= (uint64_t)tl->head == (tl->last_ms - tl->origin_ms) / tl->width_ms;
	for (int i = 0; i < HIST_BUCKETS; i++) {
		tl->n[i] = get_u32(r);
		tl->toff[i] = get_f32(r);
		/* samples only in buckets since the origin; time offsets within
		 * their buckets */
		ok &= isfinite(tl->toff[i]) && tl->toff[i] >= 0 &&
		      tl->toff[i] <= (float)tl->width_ms * (float)tl->n[i] &&
		      (tl->n[i] == 0 || timeline_slot_used(tl, i));
	}
	/* the newest sample is in the newest bucket */
	if (ok && tl->head >= 0)
		ok &= tl->n[tl->head % HIST_BUCKETS] > 0;
	return ok;
}

/* A metric as saved, in its process's timeline; false when its values
 * cannot be a real history. */
static bool get_metric(struct rd *r, struct metric_state *s, const struct timeline *tl)
{
	bool ok = true;

	metric_state_init(s);
	for (int i = 0; i < HIST_BUCKETS; i++) {
		struct slot *sl = &s->hist.s[i];

		sl->sum = get_f64(r);
		sl->min = get_f32(r);
		sl->max = get_f32(r);
		if (tl->n[i])
			ok &= isfinite(sl->sum) && isfinite(sl->min) && isfinite(sl->max) && sl->min <= sl->max;
		else      /* written as zeros */
			ok &= sl->sum == 0 && sl->min == 0 && sl->max == 0;
	}
	s->value = get_f64(r);
	s->leaking = get_u8(r) != 0;
	s->in_limit = get_u8(r) != 0;
	s->over = get_u32(r);
	s->under = get_u32(r);
	s->streak = get_u32(r);
	s->streak_since = get_u64(r);
	ok &= isfinite(s->value) && s->streak_since < (uint64_t)1 << 42;
	if (r->version >= 3) {
		get(r, &s->floors, sizeof(s->floors));
		ok &= floor_record_valid(&s->floors, tl);
	}
	s->leak_marks = r->version >= 4 ? get_u64(r) : 0;   /* the verdict marks, version 4 on, */
	s->limit_marks = r->version >= 4 ? get_u64(r) : 0;  /* of buckets with samples only */
	ok &= ((s->leak_marks | s->limit_marks) & ~timeline_sampled(tl)) == 0;
	/* refitted at the next sample */
	s->fitted_head = -1;
	return ok;
}

/* The action records after the processes; -EINVAL (reason in why) or -ENOMEM. */
static int get_policies(struct rd *r, struct saved_state *out, char *why, size_t why_len)
{
	uint32_t n = get_u32(r);
	struct saved_policy **tail = &out->policies;

	if (r->short_read) {
		reason(why, why_len, "truncated: no action records");
		return -EINVAL;
	}
	for (uint32_t i = 0; i < n; i++) {
		struct saved_policy *p;
		uint16_t name_len = get_u16(r);
		uint32_t count;

		if (r->short_read || name_len == 0 || name_len > NAME_MAX_LEN || name_len > r->left) {
			reason(why, why_len, "action record %u: bad watch name", i + 1);
			return -EINVAL;
		}
		p = calloc(1, sizeof(*p));
		if (!p || !(p->watch = malloc(name_len + 1u))) {
			free(p);
			return -ENOMEM;
		}
		*tail = p;
		tail = &p->next;
		get(r, p->watch, name_len);
		p->watch[name_len] = '\0';
		count = get_u32(r);
		if (r->short_read || !watch_name_valid(p->watch) || count == 0 || count > r->left / 8) {
			reason(why, why_len, "action record %u: %s", i + 1, r->short_read ? "truncated" : "impossible values");
			return -EINVAL;
		}
		p->times = malloc(count * sizeof(*p->times));
		if (!p->times)
			return -ENOMEM;
		p->n = count;
		for (uint32_t k = 0; k < count; k++) {
			p->times[k] = get_u64(r);
			if (p->times[k] >= (uint64_t)1 << 42 || (k && p->times[k] < p->times[k - 1])) {
				reason(why, why_len, "action record %u: impossible values", i + 1);
				return -EINVAL;
			}
		}
	}
	return 0;
}

/* The header, checked against its payload: 0 and the record count in *n, or -EINVAL (why). */
static int get_header(struct rd *r, struct saved_state *out, uint32_t *n, char *why, size_t why_len)
{
	char m[8];
	uint32_t version, crc;
	uint64_t payload;

	if (r->left < sizeof(magic) || memcmp(r->p, magic, sizeof(magic)) != 0) {
		reason(why, why_len, "not a leakwatch state file");
		return -EINVAL;
	}
	get(r, m, sizeof(m));
	version = get_u32(r);
	r->version = version;
	if (r->short_read || version < STATE_VERSION_OLDEST || version > STATE_VERSION) {
		reason(why, why_len, r->short_read ? "truncated header" : "unknown format version %u", version);
		return -EINVAL;
	}
	get(r, out->boot_id, BOOT_ID_LEN);
	out->boot_id[BOOT_ID_LEN - 1] = '\0';
	out->saved_usec = get_u64(r);
	*n = get_u32(r);
	payload = get_u64(r);
	crc = get_u32(r);
	if (r->short_read) {
		reason(why, why_len, "truncated header");
		return -EINVAL;
	}
	if (payload != r->left) {
		reason(why, why_len, "%s: %zu bytes of records where the header says %llu",
		       payload > r->left ? "truncated" : "trailing garbage", r->left, (unsigned long long)payload);
		return -EINVAL;
	}
	if (crc32_update(0, r->p, r->left) != crc) {
		reason(why, why_len, "checksum mismatch");
		return -EINVAL;
	}
	return 0;
}

int state_decode(const void *data, size_t len, struct saved_state *out, char *why, size_t why_len)
{
	struct rd r = { data, len, false, 0 };
	uint32_t n;
	struct saved_proc **tail = &out->procs;

	memset(out, 0, sizeof(*out));
	if (get_header(&r, out, &n, why, why_len) < 0)
		return -EINVAL;
	for (uint32_t i = 0; i < n; i++) {
		struct saved_proc *p = calloc(1, sizeof(*p));
		uint16_t name_len;
		bool ok = true;

		if (!p)
			goto nomem;
		*tail = p;
		tail = &p->next;
		out->n++;
		p->pid = (pid_t)get_u32(&r);
		p->start_ticks = get_u64(&r);
		p->window_ms = get_u64(&r);
		name_len = get_u16(&r);
		if (r.short_read || name_len == 0 || name_len > NAME_MAX_LEN || name_len > r.left) {
			reason(why, why_len, "record %u: bad watch name", i + 1);
			goto bad;
		}
		p->watch = malloc(name_len + 1u);
		if (!p->watch)
			goto nomem;
		get(&r, p->watch, name_len);
		p->watch[name_len] = '\0';
		ok = watch_name_valid(p->watch) && p->pid > 0 && p->window_ms > 0;
		ok &= get_timeline(&r, &p->tl, p->window_ms);
		for (int k = 0; k < METRIC_COUNT; k++)
			ok &= get_metric(&r, &p->m[k], &p->tl);
		if (r.short_read || !ok) {
			reason(why, why_len, "record %u: %s", i + 1, r.short_read ? "truncated" : "impossible values");
			goto bad;
		}
	}
	if (get_policies(&r, out, why, why_len) < 0)
		goto bad;
	if (r.left) {
		reason(why, why_len, "%zu bytes after the last record", r.left);
		goto bad;
	}
	return 0;
nomem:
	saved_state_clear(out);
	return -ENOMEM;
bad:
	saved_state_clear(out);
	return -EINVAL;
}

void saved_proc_free(struct saved_proc *p)
{
	if (!p)
		return;
	free(p->watch);
	free(p);
}

void saved_state_clear(struct saved_state *s)
{
	while (s->procs) {
		struct saved_proc *p = s->procs;

		s->procs = p->next;
		saved_proc_free(p);
	}
	s->n = 0;
	while (s->policies) {
		struct saved_policy *p = s->policies;

		s->policies = p->next;
		free(p->watch);
		free(p->times);
		free(p);
	}
}
