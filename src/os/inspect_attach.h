/* Attaching to a CPython process to run the inspection's bootstrap in it,
 * in a process of its own (ptrace needs one: os/ptrace_call.h): find the
 * runtime and its addresses (os/pyruntime.h), make the call, and write
 * the outcome into a pipe the daemon reads from its event loop.  The
 * daemon never waits on the target; the attacher is bounded by the
 * call's timeout, and the daemon kills it past INSPECT_ATTACH_KILL_MS. */
#ifndef LEAKWATCH_INSPECT_ATTACH_H
#define LEAKWATCH_INSPECT_ATTACH_H

#include <stdint.h>
#include <sys/types.h>

#include "os/ptrace_types.h"

#define INSPECT_ATTACH_TIMEOUT_MS 5000   /* for a thread to reach the safe point */
#define INSPECT_ATTACH_KILL_MS    15000  /* the attacher is killed past this */

/* What the attacher found and did, written once into the pipe. */
struct attach_outcome {
	int err;                  /* 0: the bootstrap is running in the process; -errno */
	int stage;                /* where it stopped: ATTACH_SEE, ATTACH_RESOLVE, ATTACH_CALL */
	char version[16];         /* the CPython version, when found ("3.11") */
	char why[256];            /* on failure, what */
	struct ptrace_call_result res;
};

enum { ATTACH_SEE = 1, ATTACH_RESOLVE = 2, ATTACH_CALL = 3 };

/* Fork the attacher for the process of procfd (pid), to run code
 * (NUL-terminated, at most PTRACE_CALL_ARG_MAX bytes), once it has made
 * sure the process sees each of the paths in see[] (NULL-terminated) as
 * the daemon does (inspect_channel_seen(): a walk of the process's root,
 * which the process could make slow, so not in the daemon's loop).  Its
 * pid into *child, the read end of its pipe (O_NONBLOCK, O_CLOEXEC) into
 * *fd.  0 or -errno. */
int inspect_attach_spawn(int procfd, pid_t pid, const char *code, const char *const *see, pid_t *child, int *fd);

/* Read the outcome from fd once it is readable or hung up: 0 (*out
 * filled), -EAGAIN nothing yet, -EPIPE the attacher ended without
 * telling (killed). */
int inspect_attach_read(int fd, struct attach_outcome *out);

#endif
