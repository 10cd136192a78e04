/* The channel an inspected process reports through: two FIFOs (one per
 * phase) that the daemon creates for one inspection under
 * RUNTIME_DIR/inspect/, with their read ends open in the daemon before
 * anything runs in the process.  A hostile process can only write into
 * them (bounded reads, validated by core/inspect_report.h), never make
 * the daemon open, follow or read anything else. */
#ifndef LEAKWATCH_INSPECT_CHANNEL_H
#define LEAKWATCH_INSPECT_CHANNEL_H

#include <limits.h>
#include <stddef.h>
#include <sys/types.h>

#define INSPECT_SUBDIR "inspect"
#define INSPECT_PIPE_SIZE (1u << 20)   /* a whole report fits: the writer never waits */

struct inspect_channel {
	char path[2][PATH_MAX];   /* the FIFOs of phase 1 and 2; "" when removed */
	int fd[2];                /* their read ends, O_NONBLOCK; -1 when closed */
};

/* Create RUNTIME_DIR/inspect (mode 0711: traversable, not listable) and
 * the FIFOs PID-TOKEN.1 and .2 (mode 0622, any user may open them for
 * writing, who knows the random name), and open their read ends.  0 or
 * -errno; on failure nothing is left. */
int inspect_channel_open(struct inspect_channel *ch, const char *runtime_dir, pid_t pid, const char *token);

/* Close the read end of phase (1 or 2) and remove its FIFO. */
void inspect_channel_done(struct inspect_channel *ch, int phase);

/* Close and remove both; accepts a channel already closed or zeroed by
 * inspect_channel_none(). */
void inspect_channel_close(struct inspect_channel *ch);
void inspect_channel_none(struct inspect_channel *ch);

/* Whether the process of procfd (its /proc/PID directory) sees path as
 * the daemon does: the same file through /proc/PID/root.  0; -EXDEV it
 * sees another file or none there (another mount namespace, a chroot);
 * -errno. */
int inspect_channel_seen(int procfd, const char *path);

#endif
