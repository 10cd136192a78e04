/* The fd summary (see fdsum.h): one "KIND\tNAME" string per fd, sorted and
 * counted.
 *
 * The grouping key drops what makes each handle unique: a socket's or a
 * pipe's inode ("socket:[1234]" is "socket"), so a thousand leaked sockets
 * are one line with a count of a thousand, not a thousand lines of one;
 * anon inodes keep their type ("[eventfd]"), files and devices their path,
 * anything else ("net:[...]") the part before the ':'.  Counting is a qsort
 * of the strings and one pass over the runs of equal ones, then a qsort of
 * the groups by count, ties by text so that the order is deterministic; a
 * hash table would save the n log n compares at the price of more code, on
 * a path that runs once per incident capture, never per tick.
 *
 * Costs: one malloc'd string per fd (the caller reads at most
 * CAPTURE_MAX_FDS) until fd_summary_free(), and during rendering a group
 * array as long, freed before it returns. */
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

int fd_summary_add(struct fd_summary *s, const char *target)
{
	char name[4096], *line;
	enum fd_kind k = fd_classify(target, name, sizeof(name));

	if (s->n == s->cap) {
		size_t cap = s->cap ? 2 * s->cap : 64;
		char **p = realloc(s->targets, cap * sizeof(*p));

		if (!p)
			return -ENOMEM;
		s->targets = p;
		s->cap = cap;
	}
	if (asprintf(&line, "%s\t%s", kind_names[k], name) < 0)
		return -ENOMEM;
	s->targets[s->n++] = line;
	s->total++;
	s->by_kind[k]++;
	return 0;
}

static int by_text(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

struct group {
	const char *text;
	size_t n;
};

static int by_count(const void *a, const void *b)
{
	const struct group *x = a, *y = b;

	if (x->n != y->n)
		return x->n > y->n ? -1 : 1;
	return strcmp(x->text, y->text);
}

void fd_summary_render(struct buf *b, struct fd_summary *s, size_t max_lines)
{
	struct group *g;
	size_t ng = 0;

	buf_printf(b, "open fds: %u (", s->total);
	for (int k = 0; k < FD_KINDS; k++)
		buf_printf(b, "%s%s %u", k ? ", " : "", kind_names[k], s->by_kind[k]);
	buf_puts(b, ")\n\n");
	if (s->unreadable)
		buf_printf(b, "%u more could not be read (closed meanwhile)\n\n", s->unreadable);
	if (!s->n)
		return;
	qsort(s->targets, s->n, sizeof(*s->targets), by_text);
	g = calloc(s->n, sizeof(*g));
	if (!g) {
		b->failed = true;
		return;
	}
	for (size_t i = 0; i < s->n; i++) {
		if (ng && strcmp(g[ng - 1].text, s->targets[i]) == 0) {
			g[ng - 1].n++;
			continue;
		}
		g[ng].text = s->targets[i];
		g[ng++].n = 1;
	}
	qsort(g, ng, sizeof(*g), by_count);
	buf_printf(b, "%7s  %-10s  %s\n", "COUNT", "KIND", "TARGET");
	for (size_t i = 0; i < ng && i < max_lines; i++) {
		const char *tab = strchr(g[i].text, '\t');

		buf_printf(b, "%7zu  %-10.*s  %s\n", g[i].n, (int)(tab - g[i].text), g[i].text, tab + 1);
	}
	if (ng > max_lines)
		buf_printf(b, "(%zu more groups)\n", ng - max_lines);
	free(g);
}

void fd_summary_free(struct fd_summary *s)
{
	for (size_t i = 0; i < s->n; i++)
		free(s->targets[i]);
	free(s->targets);
	memset(s, 0, sizeof(*s));
}
