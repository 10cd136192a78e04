/* The pidfiles of `pidfile:` criteria (see pidfiles.h). */
#include "daemon/pidfiles.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "os/files.h"
#include "os/proc.h"

void pidfiles_init(struct pidfiles *p, const char *self_user, pidfiles_warn_fn warn, void *ctx)
{
	memset(p, 0, sizeof(*p));
	p->self_user = self_user;
	p->warn = warn;
	p->warn_ctx = ctx;
}

/* A pidfile we may not read (mode 0600, another user's): its watches
 * match nothing.  Said once per path and configuration. */
static void report_denied(struct pidfiles *p, const char *path, int err)
{
	struct event ev;
	char **v, *copy;

	for (size_t i = 0; i < p->n_denied; i++)
		if (strcmp(p->denied[i], path) == 0)
			return;
	v = realloc(p->denied, (p->n_denied + 1) * sizeof(*v));
	if (!v)
		return;
	p->denied = v;
	copy = strdup(path);
	if (!copy)
		return;     /* unsaid rather than said at every scan */
	v[p->n_denied++] = copy;
	event_init(&ev, EVENT_ERROR, 0);
	ev.warning = true;
	event_say(&ev, "cannot read the pidfile %s: %s (leakwatchd runs as %s): the pidfile: criteria that name it "
		  "match nothing until it can be read", path, strerror(-err), p->self_user);
	if (p->warn)
		p->warn(p->warn_ctx, &ev);
}

void pidfiles_forget_denied(struct pidfiles *p)
{
	for (size_t i = 0; i < p->n_denied; i++)
		free(p->denied[i]);
	free(p->denied);
	p->denied = NULL;
	p->n_denied = 0;
}

pid_t pidfiles_pid(struct pidfiles *p, const char *path)
{
	char buf[32];
	ssize_t n;
	long v = 0;
	pid_t pid;

	for (size_t i = 0; i < p->n; i++)
		if (strcmp(p->v[i].path, path) == 0)
			return p->v[i].pid;
	n = file_read_into(AT_FDCWD, path, buf, sizeof(buf));
	if (proc_denied((int)n))
		report_denied(p, path, (int)n);
	if (n > 0)
		v = strtol(buf, NULL, 10);
	pid = v > 0 && v <= INT_MAX ? (pid_t)v : 0;
	if (p->n == p->cap) {
		size_t cap = p->cap ? 2 * p->cap : 4;
		void *nv = realloc(p->v, cap * sizeof(*p->v));

		if (!nv)
			return pid;
		p->v = nv;
		p->cap = cap;
	}
	p->v[p->n].path = path;
	p->v[p->n++].pid = pid;
	return pid;
}

bool pidfiles_names(const struct pidfiles *p, pid_t pid)
{
	for (size_t i = 0; i < p->n; i++)
		if (p->v[i].pid == pid)
			return true;
	return false;
}

void pidfiles_read(struct pidfiles *p, const struct config *cfg)
{
	p->n = 0;
	for (size_t i = 0; i < cfg->n_watches; i++)
		for (const struct match *mt = &cfg->watches[i].match; mt; mt = mt->parent)
			if (mt->pidfile)
				pidfiles_pid(p, mt->pidfile);
}

void pidfiles_free(struct pidfiles *p)
{
	free(p->v);
	p->v = NULL;
	p->n = p->cap = 0;
	pidfiles_forget_denied(p);
}
