/* The pidfiles that `pidfile:` criteria name, for discovery: each read once
 * per discovery (the pid it holds is matched again at each, as the file
 * may now name another process), and the ones we may not read (mode 0600,
 * another user's), said once per path and configuration.
 *
 * Apart from discovery because it is a cache of files, not of pids: the
 * paths are the config's (not copied), the pid table never sees them.  A
 * pidfile is read (os/files.h) at each discovery; an inotify watch would
 * save the read but not the match, and pidfiles are few. */
#ifndef LEAKWATCH_PIDFILES_H
#define LEAKWATCH_PIDFILES_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "core/config.h"
#include "core/event.h"

/* A warning, filled with event_about()/event_say(): the receiver stamps
 * its time and emits it. */
typedef void (*pidfiles_warn_fn)(void *ctx, struct event *e);

struct pidfiles {
	struct pidfile_cache {
		const char *path;     /* the config's */
		pid_t pid;            /* 0: unreadable or no pid */
	} *v;
	size_t n, cap;
	char **denied;            /* pidfiles we may not read, reported (once a configuration) */
	size_t n_denied;
	const char *self_user;    /* the daemon's user, for the warning */
	pidfiles_warn_fn warn;
	void *warn_ctx;
};

/* An empty cache; self_user must outlive it. */
void pidfiles_init(struct pidfiles *p, const char *self_user, pidfiles_warn_fn warn, void *ctx);
void pidfiles_free(struct pidfiles *p);   /* accepts a zeroed one */

/* Read every pidfile of cfg afresh. */
void pidfiles_read(struct pidfiles *p, const struct config *cfg);

/* The pid in the pidfile at path (read now, unless read since
 * pidfiles_read()), or 0. */
pid_t pidfiles_pid(struct pidfiles *p, const char *path);

/* Whether pid is named by a pidfile read since pidfiles_read(). */
bool pidfiles_names(const struct pidfiles *p, pid_t pid);

/* A new configuration: the unreadable pidfiles are said again. */
void pidfiles_forget_denied(struct pidfiles *p);

#endif
