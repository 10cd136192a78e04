/* A summary of a process's open file descriptors by kind, from the targets
 * of its /proc/PID/fd links: regular files by path, sockets, pipes, anon
 * inodes by type, devices by path.  The seed of a "which handle leaks"
 * answer: the path opened a thousand times is at the top.  Pure. */
#ifndef LEAKWATCH_FDSUM_H
#define LEAKWATCH_FDSUM_H

#include <stddef.h>

#include "core/buf.h"

enum fd_kind { FD_FILE, FD_SOCKET, FD_PIPE, FD_ANON, FD_DEVICE, FD_OTHER, FD_KINDS };

struct fd_summary {
	unsigned total;
	unsigned by_kind[FD_KINDS];
	unsigned unreadable;     /* links that vanished or could not be read */
	char **targets;          /* "KIND\tNAME", one per fd */
	size_t n, cap;
};

const char *fd_kind_name(enum fd_kind k);   /* "file", "socket", ... */

/* Classify one link target ("/var/log/app.log", "socket:[1234]",
 * "pipe:[99]", "anon_inode:[eventfd]").  The name of its group goes in
 * name (the path, "socket", "[eventfd]").  Pure. */
enum fd_kind fd_classify(const char *target, char *name, size_t len);

/* Add one fd's link target.  0 or -ENOMEM. */
int fd_summary_add(struct fd_summary *s, const char *target);

/* The totals, then one line per group, most fds first, at most max_lines. */
void fd_summary_render(struct buf *b, struct fd_summary *s, size_t max_lines);

void fd_summary_free(struct fd_summary *s);   /* accepts a zeroed one */

#endif
