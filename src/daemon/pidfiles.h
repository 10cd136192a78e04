/* The pidfiles that `pidfile:` criteria name, for discovery: each read once
 * per discovery (the pid it holds is matched again at each, as the file
 * may now name another process), with whose process it may name; and the
 * ones we may not read (mode 0600, another user's) or will not (below),
 * said once per path and configuration.
 *
 * Trusted as the kernel says who could write it (os/safe_path.h walks the
 * path): a pidfile that only root could have written or put there names
 * any process; one that one user could, only a process of that user (the
 * match checks it: core/match.h, pidfile_may_name); one that more than one
 * user, a group or anyone could is refused, as is a symlink or anything
 * but a regular file (a FIFO would block the open).  systemd's PIDFile=
 * draws the same line.
 *
 * Apart from discovery because it is a cache of files, not of pids: the
 * paths are the config's (not copied), the pid table never sees them.  A
 * pidfile is read at each discovery (a walk of its path, about ten system
 * calls); an inotify watch would save the read but not the match, and
 * pidfiles are few. */
#ifndef LEAKWATCH_PIDFILES_H
#define LEAKWATCH_PIDFILES_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "core/config.h"
#include "core/event.h"
#include "core/match.h"

/* A warning, filled with event_about()/event_say(): the receiver stamps
 * its time and emits it. */
typedef void (*pidfiles_warn_fn)(void *ctx, struct event *e);

struct pidfiles {
	struct pidfile_cache {
		const char *path;     /* the config's */
		struct pidfile_pid pf;  /* pid 0: unreadable, refused or no pid */
	} *v;
	size_t n, cap;
	char **denied;            /* pidfiles reported (unreadable, refused), once a configuration */
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
 * pidfiles_read()), or 0; with whose process it may be in *pf (when not
 * NULL). */
pid_t pidfiles_pid(struct pidfiles *p, const char *path, struct pidfile_pid *pf);

/* Whether pid is named by a pidfile read since pidfiles_read(). */
bool pidfiles_names(const struct pidfiles *p, pid_t pid);

/* The pidfile at path named proc, a process it may not name (the match
 * said so): warned once per path and configuration. */
void pidfiles_refused(struct pidfiles *p, const char *path, const struct proc_info *proc);

/* A new configuration: the unreadable and refused pidfiles are said again. */
void pidfiles_forget_denied(struct pidfiles *p);

#endif
