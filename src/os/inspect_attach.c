/* The attacher (inspect_attach.h says what).
 *
 * Why a fork and not a thread: ptrace's tracer is a thread, and waits for
 * "any child" would take the daemon's own children (exec actions); and
 * the call blocks SIGCHLD.  Why the fork and not an exec of a helper
 * binary: the daemon's seccomp filter and capabilities carry over as they
 * are, and there is no second program to install and keep in step.
 *
 * The attacher ignores SIGTERM, SIGINT and SIGHUP: killed in the middle
 * of the call it would leave the breakpoint armed (the process would die
 * of the next SIGTRAP), so it is left to finish by its own deadline when
 * the daemon stops; only past INSPECT_ATTACH_KILL_MS is it killed.
 *
 * Everything that walks the process's root (/proc/PID/root: whether it sees
 * the script and the channel, the runtime's file) is done here too: the
 * process may have a FUSE mount of its own there, and a lookup in it waits
 * for whoever serves it; the daemon's loop must not.
 *
 * Costs: a fork of the daemon (a few MiB of page tables copied on write),
 * the runtime's symbol lookup (a few preads of its ELF file), and the call
 * (os/ptrace_call.h). */
#include "os/inspect_attach.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "os/inspect_channel.h"
#include "os/ptrace_call.h"
#include "os/pyruntime.h"

static void attacher(int procfd, pid_t pid, const char *code, const char *const *see, int wfd)
{
	struct attach_outcome out;
	struct pyruntime rt;
	struct ptrace_call_req req;
	ssize_t n;

	memset(&out, 0, sizeof(out));
	signal(SIGTERM, SIG_IGN);
	signal(SIGINT, SIG_IGN);
	signal(SIGHUP, SIG_IGN);
	signal(SIGPIPE, SIG_IGN);
	out.stage = ATTACH_SEE;
	for (size_t i = 0; see && see[i] && !out.err; i++)
		if ((out.err = inspect_channel_seen(procfd, see[i])) < 0)
			snprintf(out.why, sizeof(out.why), "%s", see[i]);
	if (!out.err) {
		out.stage = ATTACH_RESOLVE;
		out.err = pyruntime_resolve(procfd, &rt, out.why, sizeof(out.why));
	}
	if (out.err == 0) {
		snprintf(out.version, sizeof(out.version), "%s", rt.version);
		req = (struct ptrace_call_req){
			.pid = pid, .procfd = procfd, .safe_point = rt.save_thread,
			.check_fn = rt.err_occurred, .alloc_fn = rt.raw_malloc,
			.run_fn = rt.run_simple_string, .ret_byte = rt.ret_byte,
			.arg = code, .arg_len = strlen(code), .timeout_ms = INSPECT_ATTACH_TIMEOUT_MS,
		};
		out.stage = ATTACH_CALL;
		out.err = ptrace_call(&req, &out.res);
		if (out.err)
			snprintf(out.why, sizeof(out.why), "%s", out.res.why);
	}
	n = write(wfd, &out, sizeof(out));
	(void)n;
}

int inspect_attach_spawn(int procfd, pid_t pid, const char *code, const char *const *see, pid_t *child, int *fd)
{
	int p[2];
	pid_t c;

	if (strlen(code) > PTRACE_CALL_ARG_MAX)
		return -E2BIG;
	if (pipe2(p, O_CLOEXEC) < 0)
		return -errno;
	c = fork();
	if (c < 0) {
		int err = -errno;

		close(p[0]);
		close(p[1]);
		return err;
	}
	if (c == 0) {
		close(p[0]);
		attacher(procfd, pid, code, see, p[1]);
		_exit(0);
	}
	close(p[1]);
	if (fcntl(p[0], F_SETFL, O_NONBLOCK) < 0) {
		int err = -errno;

		close(p[0]);
		kill(c, SIGKILL);
		return err;
	}
	*child = c;
	*fd = p[0];
	return 0;
}

int inspect_attach_read(int fd, struct attach_outcome *out)
{
	ssize_t n = read(fd, out, sizeof(*out));

	if (n < 0)
		return errno == EAGAIN ? -EAGAIN : -EPIPE;
	if ((size_t)n != sizeof(*out))
		return -EPIPE;   /* one write below PIPE_BUF comes whole, or not at all */
	out->why[sizeof(out->why) - 1] = '\0';
	out->version[sizeof(out->version) - 1] = '\0';
	out->res.why[sizeof(out->res.why) - 1] = '\0';
	return 0;
}
