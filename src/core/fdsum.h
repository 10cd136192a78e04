/* A summary of a process's open file descriptors by kind, from the targets
 * of its /proc/PID/fd links: regular files by path, sockets, pipes, anon
 * inodes by type, devices by path.  The seed of a "which handle leaks"
 * answer: the path opened a thousand times is at the top.  Pure.
 *
 * Its memory is bounded whatever the process opens: at most FD_GROUPS_MAX
 * distinct targets are kept, each at most FD_KEY_MAX bytes.  When a
 * process has more, the reader makes two passes over the same links (see
 * fd_summary_recount): the first finds the targets worth keeping, the
 * second counts them exactly and the rest per kind as "other targets". */
#ifndef LEAKWATCH_FDSUM_H
#define LEAKWATCH_FDSUM_H

#include <stdbool.h>
#include <stddef.h>

#include "core/buf.h"

enum fd_kind { FD_FILE, FD_SOCKET, FD_PIPE, FD_ANON, FD_DEVICE, FD_OTHER, FD_KINDS };

#define FD_GROUPS_MAX 512            /* distinct targets told apart */
#define FD_KEY_MAX    (4096 + 16)    /* "KIND\tNAME": a link target is < 4096 bytes */

struct fd_group {
	char *key;               /* "KIND\tNAME", malloc'd */
	unsigned n;              /* fds on it (first pass of two: an estimate) */
};

struct fd_summary {
	unsigned total;
	unsigned by_kind[FD_KINDS];
	unsigned unreadable;     /* links that vanished or could not be read */
	unsigned other[FD_KINDS];/* fds on targets not kept (second pass) */
	unsigned stopped_at;     /* the reader's: it read this many and more were open (0: all) */
	bool overflowed;         /* more distinct targets than FD_GROUPS_MAX came */
	bool recounting;         /* the second pass: the kept targets are fixed */
	size_t n;                /* groups in use */
	struct fd_group groups[FD_GROUPS_MAX];
	unsigned short order[FD_GROUPS_MAX];   /* groups by key */
};

const char *fd_kind_name(enum fd_kind k);   /* "file", "socket", ... */

/* Classify one link target ("/var/log/app.log", "socket:[1234]",
 * "pipe:[99]", "anon_inode:[eventfd]").  The name of its group goes in
 * name (the path, "socket", "[eventfd]"), cut to len.  Pure. */
enum fd_kind fd_classify(const char *target, char *name, size_t len);

/* Add one fd's link target.  0 or -ENOMEM. */
int fd_summary_add(struct fd_summary *s, const char *target);

/* After a pass that overflowed: zero the counts and keep the targets, for
 * a second pass of fd_summary_add over the same links, which counts the
 * kept targets exactly and the others in other[].  Every target that held
 * more than 1/FD_GROUPS_MAX of the first pass's fds is kept. */
void fd_summary_recount(struct fd_summary *s);

/* The totals, then one line per group, most fds first, at most max_lines
 * of them and at most about max_bytes in all (the lines that do not fit
 * are left out and counted), the "other targets" lines, and "(N more
 * groups)" when some were left out.  Target names are written as one line
 * of valid UTF-8 each (buf_line_text). */
void fd_summary_render(struct buf *b, const struct fd_summary *s, size_t max_lines, size_t max_bytes);

void fd_summary_free(struct fd_summary *s);   /* accepts a zeroed one */

#endif
