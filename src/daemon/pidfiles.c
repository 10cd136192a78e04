/* The pidfiles of `pidfile:` criteria (see pidfiles.h). */
#include "daemon/pidfiles.h"

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "os/files.h"
#include "os/proc.h"
#include "os/safe_path.h"
#include "os/users.h"

void pidfiles_init(struct pidfiles *p, const char *self_user, pidfiles_warn_fn warn, void *ctx)
{
	memset(p, 0, sizeof(*p));
	p->self_user = self_user;
	p->warn = warn;
	p->warn_ctx = ctx;
}

static bool said(const struct pidfiles *p, const char *path)
{
	for (size_t i = 0; i < p->n_denied; i++)
		if (strcmp(p->denied[i], path) == 0)
			return true;
	return false;
}

/* Whether path was said in this configuration; if not, it is now noted
 * as said.  true also when it cannot be noted: unsaid rather than said at
 * every scan. */
static bool said_before(struct pidfiles *p, const char *path)
{
	char **v, *copy;

	if (said(p, path))
		return true;
	v = realloc(p->denied, (p->n_denied + 1) * sizeof(*v));
	if (!v)
		return true;
	p->denied = v;
	copy = strdup(path);
	if (!copy)
		return true;
	v[p->n_denied++] = copy;
	return false;
}

/* A pidfile that matches nothing for a reason the operator must hear:
 * said once per path and configuration, as a warning. */
static void warn(struct pidfiles *p, const char *path, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void warn(struct pidfiles *p, const char *path, const char *fmt, ...)
{
	struct event ev;
	va_list ap;

	if (said_before(p, path))
		return;
	event_init(&ev, EVENT_ERROR, 0);
	ev.warning = true;
	va_start(ap, fmt);
	event_vsay(&ev, fmt, ap);
	va_end(ap);
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

/* Why a pidfile could not be opened, when it is worth a word: not when it
 * is missing (the service is down), said when it cannot be read (mode
 * 0600, the daemon not root) or is no regular file. */
static void say_unopened(struct pidfiles *p, const char *path, int err, const struct stat *st)
{
	if (proc_denied(err))
		warn(p, path, "cannot read the pidfile %s: %s (leakwatchd runs as %s): the pidfile: criteria that "
		     "name it match nothing until it can be read", path, strerror(-err), p->self_user);
	else if ((err == -ELOOP || err == -EINVAL) && st->st_mode)
		warn(p, path, "the pidfile %s is %s, not a regular file: refused; the pidfile: criteria that name it "
		     "match nothing until it is one", path, file_type_name(st->st_mode));
	else if (err != -ENOENT && err != -ENOTDIR)
		warn(p, path, "cannot open the pidfile %s: %s: the pidfile: criteria that name it match nothing "
		     "until it can be opened", path, strerror(-err));
}

/* Read the pidfile at path into *pf: a pid (0 when none), and whose. */
static void read_pidfile(struct pidfiles *p, const char *path, struct pidfile_pid *pf)
{
	struct path_writers w;
	struct stat st;
	char buf[32], why[PATH_MAX + 100];
	long v = 0;
	ssize_t n;
	int fd = safe_path_open(path, &w, &st);

	memset(pf, 0, sizeof(*pf));
	if (fd < 0) {
		say_unopened(p, path, fd, &st);
		return;
	}
	if (w.trust == PATH_MANY) {
		close(fd);
		path_writers_say(&w, why, sizeof(why));
		warn(p, path, "the pidfile %s is refused: more than one user could write or replace it (%s); "
		     "a pidfile may be writable by root and one user at most", path, why);
		return;
	}
	n = file_read_fd(fd, buf, sizeof(buf));
	close(fd);
	if (n > 0)
		v = strtol(buf, NULL, 10);
	pf->pid = v > 0 && v <= INT_MAX ? (pid_t)v : 0;
	pf->any_user = w.trust == PATH_ROOT;
	pf->uid = w.uid;
}

pid_t pidfiles_pid(struct pidfiles *p, const char *path, struct pidfile_pid *out)
{
	struct pidfile_pid pf;

	for (size_t i = 0; i < p->n; i++)
		if (strcmp(p->v[i].path, path) == 0) {
			if (out)
				*out = p->v[i].pf;
			return p->v[i].pf.pid;
		}
	read_pidfile(p, path, &pf);
	if (out)
		*out = pf;
	if (p->n == p->cap) {
		size_t cap = p->cap ? 2 * p->cap : 4;
		void *nv = realloc(p->v, cap * sizeof(*p->v));

		if (!nv)
			return pf.pid;
		p->v = nv;
		p->cap = cap;
	}
	p->v[p->n].path = path;
	p->v[p->n++].pf = pf;
	return pf.pid;
}

/* The user proc runs as that is not uid (the first of its real, effective
 * and saved uids that differs), into out. */
static void other_user(const struct proc_info *proc, uid_t uid, char *out, size_t len)
{
	uid_t ids[3] = { proc->uid, proc->euid, proc->suid };

	if (!proc->has_uid) {
		snprintf(out, len, "a user that cannot be read");
		return;
	}
	for (int i = 0; i < 3; i++)
		if (ids[i] != uid) {
			user_name(ids[i], out, len);
			return;
		}
	user_name(uid, out, len);
}

void pidfiles_refused(struct pidfiles *p, const char *path, const struct proc_info *proc)
{
	struct pidfile_pid pf = { 0 };
	struct path_writers w;
	struct stat st;
	char writer[64], runs_as[64], why[PATH_MAX + 100];
	int fd;

	if (said(p, path))
		return;     /* before the walk and the user lookups: at every scan */
	pidfiles_pid(p, path, &pf);
	/* the walk again, for the words; the decision was the cache's */
	fd = safe_path_open(path, &w, &st);
	if (fd >= 0)
		close(fd);
	path_writers_say(&w, why, sizeof(why));
	user_name(pf.uid, writer, sizeof(writer));
	other_user(proc, pf.uid, runs_as, sizeof(runs_as));
	warn(p, path, "the pidfile %s names pid %d (%s), a process of %s, but %s could write it (%s): "
	     "not matched; a pidfile a user can write may name only that user's processes",
	     path, (int)proc->pid, proc->comm, runs_as, writer, why);
}

bool pidfiles_names(const struct pidfiles *p, pid_t pid)
{
	for (size_t i = 0; i < p->n; i++)
		if (p->v[i].pf.pid == pid)
			return true;
	return false;
}

void pidfiles_read(struct pidfiles *p, const struct config *cfg)
{
	p->n = 0;
	for (size_t i = 0; i < cfg->n_watches; i++)
		for (const struct match *mt = &cfg->watches[i].match; mt; mt = mt->parent)
			if (mt->pidfile)
				pidfiles_pid(p, mt->pidfile, NULL);
}

void pidfiles_free(struct pidfiles *p)
{
	free(p->v);
	p->v = NULL;
	p->n = p->cap = 0;
	pidfiles_forget_denied(p);
}
