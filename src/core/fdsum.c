/* The fd summary (see fdsum.h): fds grouped by target as they are read,
 * in a table of at most FD_GROUPS_MAX targets.
 *
 * The grouping key drops what makes each handle unique: a socket's or a
 * pipe's inode ("socket:[1234]" is "socket"), so a thousand leaked sockets
 * are one line with a count of a thousand, not a thousand lines of one;
 * anon inodes keep their type ("[eventfd]"), files and devices their path,
 * anything else ("net:[...]") the part before the ':'.
 *
 * Why a bounded table: the process picks its targets.  One string per fd,
 * sorted and counted at the end, was simple but held everything the
 * process opened: 20,000 fds on a 3,780-byte path took the daemon from 4
 * to 78 MB, and the cap of 100,000 fds allowed about 400 MB.  Now each fd
 * is classified into a reused key buffer and counted at once, and only a
 * target the table does not hold yet costs a string; the table holds at
 * most FD_GROUPS_MAX keys of at most FD_KEY_MAX bytes (about 2 MB).
 *
 * What happens when more targets come than the table holds.  Keeping the
 * first FD_GROUPS_MAX and counting the rest as "other" would hide a leak
 * that starts after a few hundred other files (the leaked fds come last,
 * with the highest numbers).  Instead the first pass is the Space-Saving
 * algorithm (Metwally, Agrawal, El Abbadi, 2005): a target not held
 * replaces the one with the smallest count and takes that count plus one,
 * which keeps every target with more than 1/FD_GROUPS_MAX of the fds, but
 * with counts that may be too high.  So a pass that overflowed is followed
 * by a second one over the same links (fd_summary_recount) that counts the
 * kept targets exactly and every other fd under its kind: the rows always
 * add up to the totals.  The fds may change between the passes; the
 * second pass's totals are the ones shown.  A process with fewer distinct
 * targets costs one pass, as before.
 *
 * The table is kept sorted by key (an index array, order[]), so a lookup is
 * a binary search: at most 10 compares of at most FD_KEY_MAX bytes,
 * whatever the process makes its paths look like (a hash would be faster
 * on average, but paths built to collide would make it a linear scan of
 * long compares).  Replacing the smallest count is a scan of the table:
 * at the cap of 100,000 fds, 100,000 x 512 compares of integers, tens of
 * milliseconds, once per capture.  Rendering sorts an array of pointers to
 * the groups on the stack: no allocation, and the summary is unchanged. */
#include "core/fdsum.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const kind_names[FD_KINDS] = {
	[FD_FILE] = "file", [FD_SOCKET] = "socket", [FD_PIPE] = "pipe",
	[FD_ANON] = "anon_inode", [FD_DEVICE] = "device", [FD_OTHER] = "other",
};

const char *fd_kind_name(enum fd_kind k)
{
	return k < FD_KINDS ? kind_names[k] : "?";
}

enum fd_kind fd_classify(const char *target, char *name, size_t len)
{
	if (strncmp(target, "socket:", 7) == 0) {
		snprintf(name, len, "socket");
		return FD_SOCKET;
	}
	if (strncmp(target, "pipe:", 5) == 0) {
		snprintf(name, len, "pipe");
		return FD_PIPE;
	}
	if (strncmp(target, "anon_inode:", 11) == 0) {
		snprintf(name, len, "%s", target + 11);
		return FD_ANON;
	}
	if (strncmp(target, "/dev/", 5) == 0) {
		snprintf(name, len, "%s", target);
		return FD_DEVICE;
	}
	if (target[0] == '/') {
		snprintf(name, len, "%s", target);
		return FD_FILE;
	}
	/* "net:[4026531840]", "mnt:[...]", "[eventpoll]": the part before the ':' */
	snprintf(name, len, "%.*s", (int)strcspn(target, ":"), target);
	return FD_OTHER;
}

/* The position in order of key (found), or where it would go. */
static size_t find(const struct fd_summary *s, const char *key, bool *found)
{
	size_t lo = 0, hi = s->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = strcmp(key, s->groups[s->order[mid]].key);

		if (c == 0) {
			*found = true;
			return mid;
		}
		if (c < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	*found = false;
	return lo;
}

static void order_insert(struct fd_summary *s, size_t at, unsigned short g)
{
	memmove(s->order + at + 1, s->order + at, (s->n - at) * sizeof(*s->order));
	s->order[at] = g;
	s->n++;
}

static void order_remove(struct fd_summary *s, size_t at)
{
	s->n--;
	memmove(s->order + at, s->order + at + 1, (s->n - at) * sizeof(*s->order));
}

/* A full table: the group with the smallest count gives its place to key
 * (Space-Saving, see above).  0 or -ENOMEM. */
static int replace_smallest(struct fd_summary *s, const char *key)
{
	size_t m = 0, at;
	char *copy = strdup(key);
	bool found;

	if (!copy)
		return -ENOMEM;
	for (size_t i = 1; i < s->n; i++)
		if (s->groups[i].n < s->groups[m].n)
			m = i;
	order_remove(s, find(s, s->groups[m].key, &found));
	free(s->groups[m].key);
	s->groups[m].key = copy;
	s->groups[m].n++;
	at = find(s, copy, &found);
	order_insert(s, at, (unsigned short)m);
	return 0;
}

/* Room for the longest kind's name and the tab before a name. */
#define KIND_ROOM 12

int fd_summary_add(struct fd_summary *s, const char *target)
{
	char buf[FD_KEY_MAX], *key;
	enum fd_kind k = fd_classify(target, buf + KIND_ROOM, FD_KEY_MAX - KIND_ROOM);
	size_t klen = strlen(kind_names[k]), at;
	bool found;

	/* "KIND\tNAME", the kind put just before the name */
	key = buf + KIND_ROOM - klen - 1;
	memcpy(key, kind_names[k], klen);
	key[klen] = '\t';
	at = find(s, key, &found);
	if (found) {
		s->groups[s->order[at]].n++;
	} else if (s->recounting) {
		s->other[k]++;
	} else if (s->n < FD_GROUPS_MAX) {
		struct fd_group *g = &s->groups[s->n];

		g->key = strdup(key);
		if (!g->key)
			return -ENOMEM;
		g->n = 1;
		order_insert(s, at, (unsigned short)s->n);
	} else {
		int r = replace_smallest(s, key);

		if (r < 0)
			return r;
		s->overflowed = true;
	}
	s->total++;
	s->by_kind[k]++;
	return 0;
}

void fd_summary_recount(struct fd_summary *s)
{
	s->total = s->unreadable = s->stopped_at = 0;
	memset(s->by_kind, 0, sizeof(s->by_kind));
	memset(s->other, 0, sizeof(s->other));
	for (size_t i = 0; i < s->n; i++)
		s->groups[i].n = 0;
	s->recounting = true;
}

static int by_count(const void *a, const void *b)
{
	const struct fd_group *x = *(const struct fd_group *const *)a, *y = *(const struct fd_group *const *)b;

	if (x->n != y->n)
		return x->n > y->n ? -1 : 1;
	return strcmp(x->key, y->key);
}

/* What may follow the rows: a line per kind and the "more groups" line,
 * each under 48 bytes. */
#define TAIL_BYTES ((FD_KINDS + 1) * 48)

/* One row; false (and b as it was) when it would take b past max_bytes. */
static bool render_row(struct buf *b, const struct fd_group *g, size_t max_bytes)
{
	size_t mark = b->len;
	const char *tab = strchr(g->key, '\t');

	buf_printf(b, "%7u  %-10.*s  ", g->n, (int)(tab - g->key), g->key);
	buf_line_text(b, tab + 1);
	buf_puts(b, "\n");
	if (buf_ok(b) && b->len + TAIL_BYTES > max_bytes) {
		b->len = mark;
		b->data[mark] = '\0';
		return false;
	}
	return true;
}

void fd_summary_render(struct buf *b, const struct fd_summary *s, size_t max_lines, size_t max_bytes)
{
	const struct fd_group *g[FD_GROUPS_MAX];
	size_t ng = 0, shown = 0;
	unsigned others = 0;

	buf_printf(b, "open fds: %u (", s->total);
	for (int k = 0; k < FD_KINDS; k++)
		buf_printf(b, "%s%s %u", k ? ", " : "", kind_names[k], s->by_kind[k]);
	buf_puts(b, ")\n\n");
	if (s->unreadable)
		buf_printf(b, "%u more could not be read (closed meanwhile)\n\n", s->unreadable);
	if (s->stopped_at)
		buf_printf(b, "more are open: only the first %u were read\n\n", s->stopped_at);
	for (size_t i = 0; i < s->n; i++)
		if (s->groups[i].n)
			g[ng++] = &s->groups[i];
	for (int k = 0; k < FD_KINDS; k++)
		others += s->other[k];
	if (!ng && !others)
		return;
	qsort(g, ng, sizeof(*g), by_count);
	buf_printf(b, "%7s  %-10s  %s\n", "COUNT", "KIND", "TARGET");
	while (shown < ng && shown < max_lines && render_row(b, g[shown], max_bytes))
		shown++;
	for (int k = 0; k < FD_KINDS; k++)
		if (s->other[k])
			buf_printf(b, "%7u  %-10s  (other targets)\n", s->other[k], kind_names[k]);
	if (shown < ng)
		buf_printf(b, "(%zu more groups)\n", ng - shown);
}

void fd_summary_free(struct fd_summary *s)
{
	for (size_t i = 0; i < s->n; i++)
		free(s->groups[i].key);
	memset(s, 0, sizeof(*s));
}
