/* The state image's decoder: layout and rationale in state_codec.h (the
 * encoder is state_encode.c).  Every read is bounds-checked and every
 * value checked for what a real history can hold. */
#include "core/state_codec.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/action_policy.h"
#include "core/config.h"
#include "core/group_judge.h"
#include "core/judge.h"
#include "core/state_layout.h"

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

/* The uss and pss of a process record (version 5 on), on its timeline's
 * buckets: false when they cannot be. */
static bool get_sparse(struct rd *r, struct saved_proc *p)
{
	const struct timeline *tl = &p->sparse_tl;
	bool ok = true;

	p->has_sparse = r->version >= 5 && get_u8(r) != 0;
	if (!p->has_sparse)
		return true;
	ok &= get_timeline(r, &p->sparse_tl, p->window_ms);
	/* the same buckets as the process's, none newer than its newest */
	if (ok && tl->head >= 0)
		ok &= p->tl.head >= tl->head && tl->origin_ms == p->tl.origin_ms;
	for (int k = 0; k < METRIC_SPARSE; k++)
		ok &= get_metric(r, &p->sparse_m[k], tl);
	return ok;
}

/* A record's watch name (u16 length, the bytes) into a new string *out:
 * 0, -EINVAL when the length is 0, too long or past the data, -ENOMEM. */
static int get_name(struct rd *r, char **out)
{
	uint16_t name_len = get_u16(r);

	*out = NULL;
	if (r->short_read || name_len == 0 || name_len > NAME_MAX_LEN || name_len > r->left)
		return -EINVAL;
	*out = malloc(name_len + 1u);
	if (!*out)
		return -ENOMEM;
	get(r, *out, name_len);
	(*out)[name_len] = '\0';
	return 0;
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
		struct saved_policy *p = calloc(1, sizeof(*p));
		uint32_t count;
		int e;

		if (!p)
			return -ENOMEM;
		*tail = p;
		tail = &p->next;
		if ((e = get_name(r, &p->watch)) < 0) {
			reason(why, why_len, "action record %u: bad watch name", i + 1);
			return e;
		}
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

/* The groups' records after the action records (version 6 on); -EINVAL
 * (reason in why) or -ENOMEM. */
static int get_groups(struct rd *r, struct saved_state *out, char *why, size_t why_len)
{
	uint32_t n = get_u32(r);
	struct saved_group **tail = &out->groups;

	if (r->short_read) {
		reason(why, why_len, "truncated: no group records");
		return -EINVAL;
	}
	for (uint32_t i = 0; i < n; i++) {
		struct saved_group *g = calloc(1, sizeof(*g));
		bool ok;
		int e;

		if (!g)
			return -ENOMEM;
		*tail = g;
		tail = &g->next;
		if ((e = get_name(r, &g->watch)) < 0) {
			reason(why, why_len, "group record %u: bad watch name", i + 1);
			return e;
		}
		g->window_ms = get_u64(r);
		g->first_ms = get_u64(r);
		ok = watch_name_valid(g->watch) && g->window_ms > 0 && g->first_ms < (uint64_t)1 << 42;
		for (int k = 0; k < GROUP_METRICS; k++) {
			ok &= get_timeline(r, &g->tl[k], g->window_ms);
			ok &= get_metric(r, &g->m[k], &g->tl[k]);
		}
		if (r->short_read || !ok) {
			reason(why, why_len, "group record %u: %s", i + 1, r->short_read ? "truncated" : "impossible values");
			return -EINVAL;
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

	if (r->left < sizeof(state_magic) || memcmp(r->p, state_magic, sizeof(state_magic)) != 0) {
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
		bool ok = true;
		int e;

		if (!p)
			goto nomem;
		*tail = p;
		tail = &p->next;
		out->n++;
		p->pid = (pid_t)get_u32(&r);
		p->start_ticks = get_u64(&r);
		p->window_ms = get_u64(&r);
		e = get_name(&r, &p->watch);
		if (e == -ENOMEM)
			goto nomem;
		if (e < 0) {
			reason(why, why_len, "record %u: bad watch name", i + 1);
			goto bad;
		}
		ok = watch_name_valid(p->watch) && p->pid > 0 && p->window_ms > 0;
		ok &= get_timeline(&r, &p->tl, p->window_ms);
		for (int k = 0; k < METRIC_INLINE; k++)
			ok &= get_metric(&r, &p->m[k], &p->tl);
		ok &= get_sparse(&r, p);
		if (r.short_read || !ok) {
			reason(why, why_len, "record %u: %s", i + 1, r.short_read ? "truncated" : "impossible values");
			goto bad;
		}
	}
	if (get_policies(&r, out, why, why_len) < 0)
		goto bad;
	if (r.version >= 6 && get_groups(&r, out, why, why_len) < 0)
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

bool saved_claim(struct saved_proc **list, struct watched *w, const struct watch *wc)
{
	for (struct saved_proc **pp = list; *pp; pp = &(*pp)->next) {
		struct saved_proc *p = *pp;
		bool kept;

		if (p->pid != w->pid || p->start_ticks != w->start_ticks)
			continue;
		*pp = p->next;
		kept = strcmp(p->watch, wc->name) == 0 && p->window_ms == wc->window_ms && p->tl.head >= 0;
		if (kept) {
			w->tl = p->tl;
			memcpy(w->m, p->m, sizeof(w->m));
			if (w->sparse && p->has_sparse) {
				w->sparse->tl = p->sparse_tl;
				memcpy(w->sparse->m, p->sparse_m, sizeof(w->sparse->m));
			}
			/* a metric saved while it could not be read holds -1s */
			for (int i = 0; i < METRIC_COUNT; i++)
				if (watched_metric(w, i) && watched_metric(w, i)->value < 0)
					w->unreadable |= 1u << i;
		}
		saved_proc_free(p);
		return kept;
	}
	return false;
}

bool saved_group_claim(struct saved_group **list, struct group_record *g, const struct watch *wc)
{
	for (struct saved_group **pp = list; *pp; pp = &(*pp)->next) {
		struct saved_group *sg = *pp;
		bool sampled = false, kept;

		if (strcmp(sg->watch, wc->name) != 0)
			continue;
		*pp = sg->next;
		for (int k = 0; k < GROUP_METRICS; k++)
			sampled |= sg->tl[k].head >= 0;
		kept = sampled && sg->window_ms == wc->window_ms;
		if (kept)
			group_restore(g, wc, sg->tl, sg->m, sg->first_ms);
		free(sg->watch);
		free(sg);
		return kept;
	}
	return false;
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
	while (s->groups) {
		struct saved_group *g = s->groups;

		s->groups = g->next;
		free(g->watch);
		free(g);
	}
}
