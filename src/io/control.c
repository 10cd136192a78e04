/* The control socket (see control.h for the protocol).
 *
 * Why a socket answered on request: leakwatchctl's answers are rendered
 * from the judged set only when someone asks (core/status_report.c), so
 * the daemon pays nothing between requests; a status file rewritten every
 * tick would cost a render and a write per tick that nobody may read.  Why
 * in the event loop, not a thread: a request is answered on the loop's
 * thread between ticks, so it reads the monitor's data without a lock and
 * never sees a tick half done; a thread would need locks on the hot path.
 *
 * Each client is two sd-event sources, its IO and a CONTROL_TIMEOUT_S
 * timer.  The request is read as it arrives (at most CONTROL_REQUEST_MAX
 * bytes; a longer one is read to its newline and refused), the reply is
 * rendered whole into a buf, then sent with MSG_DONTWAIT as the socket
 * drains: a slow or stalled client holds its own memory, never the loop.
 * Past CONTROL_MAX_CLIENTS a connection gets "ERR busy" and is closed.  A
 * socket left by a dead daemon is told from a live one by connecting to it.
 * Each request is handed over with the client's uid (SO_PEERCRED, read
 * once at accept): the mode lets the daemon's user connect, and whoever
 * the operator opens the socket to; what each may ask is the daemon's
 * to say (daemon/requests.h).
 * Costs: the listening fd between requests; per client a few hundred bytes
 * plus its reply. */
#include "io/control.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

struct client {
	struct control *c;
	struct client *next;
	int fd;
	uid_t peer;                /* SO_PEERCRED's uid; (uid_t)-1 unknown */
	sd_event_source *io, *timer;
	char req[CONTROL_REQUEST_MAX];
	size_t req_len;
	bool too_long;             /* read on to the newline, then refuse */
	struct buf reply;
	size_t sent;
};

struct control {
	sd_event *event;
	sd_event_source *listen_src;
	int fd;
	char *path;
	control_fn fn;
	void *ctx;
	struct client *clients;
	unsigned n_clients;
};

static void client_free(struct client *cl)
{
	struct client **pp;

	for (pp = &cl->c->clients; *pp; pp = &(*pp)->next)
		if (*pp == cl) {
			*pp = cl->next;
			break;
		}
	cl->c->n_clients--;
	sd_event_source_disable_unref(cl->io);
	sd_event_source_disable_unref(cl->timer);
	close(cl->fd);
	buf_free(&cl->reply);
	free(cl);
}

static int on_client_timeout(sd_event_source *s, uint64_t usec, void *userdata)
{
	(void)s;
	(void)usec;
	client_free(userdata);
	return 0;
}

static void answer(struct client *cl)
{
	cl->req[cl->req_len] = '\0';
	cl->req[strcspn(cl->req, "\r\n")] = '\0';
	cl->c->fn(cl->c->ctx, cl->req, cl->peer, &cl->reply);
	/* never an empty reply: an empty one would read as "still reading"
	 * (on_client_io) and spin on a writable socket */
	if (!buf_ok(&cl->reply) || cl->reply.len == 0) {
		bool oom = !buf_ok(&cl->reply);

		buf_reset(&cl->reply);
		buf_puts(&cl->reply, oom ? "ERR out of memory\n" : "ERR no answer\n");
	}
	sd_event_source_set_io_events(cl->io, EPOLLOUT);
}

static int on_client_io(sd_event_source *s, int fd, uint32_t revents, void *userdata)
{
	struct client *cl = userdata;
	ssize_t n;

	(void)s;
	if (cl->reply.len == 0) {   /* still reading the request */
		n = read(fd, cl->req + cl->req_len, sizeof(cl->req) - 1 - cl->req_len);
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			return 0;
		if (n < 0 || (n == 0 && cl->req_len == 0)) {
			client_free(cl);
			return 0;
		}
		cl->req_len += (size_t)n;
		if (cl->too_long) {
			/* Read it all: closing on unread input would reset the
			 * connection before the client reads our answer. */
			bool end = n == 0 || memchr(cl->req, '\n', cl->req_len);

			cl->req_len = 0;
			if (end) {
				buf_puts(&cl->reply, "ERR request too long\n");
				sd_event_source_set_io_events(cl->io, EPOLLOUT);
			}
		} else if (n == 0 || memchr(cl->req, '\n', cl->req_len)) {
			answer(cl);
		} else if (cl->req_len == sizeof(cl->req) - 1) {
			cl->too_long = true;
			cl->req_len = 0;
		}
		return 0;
	}
	if (revents & (EPOLLERR | EPOLLHUP) && !(revents & EPOLLOUT)) {
		client_free(cl);
		return 0;
	}
	n = send(fd, cl->reply.data + cl->sent, cl->reply.len - cl->sent, MSG_NOSIGNAL | MSG_DONTWAIT);
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return 0;
	if (n < 0 || (cl->sent += (size_t)n) == cl->reply.len)
		client_free(cl);
	return 0;
}

/* The uid of the client on fd, as the kernel took it at connect; (uid_t)-1
 * when it cannot say. */
static uid_t peer_uid(int fd)
{
	struct ucred cred;
	socklen_t len = sizeof(cred);

	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0 || len != sizeof(cred))
		return (uid_t)-1;
	return cred.uid;
}

static int on_accept(sd_event_source *s, int fd, uint32_t revents, void *userdata)
{
	struct control *c = userdata;
	struct client *cl;
	uint64_t now;
	int cfd;

	(void)s;
	(void)revents;
	cfd = accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
	if (cfd < 0)
		return 0;
	if (c->n_clients >= CONTROL_MAX_CLIENTS || !(cl = calloc(1, sizeof(*cl)))) {
		static const char busy[] = "ERR busy: too many clients at once, try again\n";

		/* fits any socket buffer: the client reads it after we close */
		(void)!send(cfd, busy, sizeof(busy) - 1, MSG_DONTWAIT | MSG_NOSIGNAL);
		close(cfd);
		return 0;
	}
	cl->c = c;
	cl->fd = cfd;
	cl->peer = peer_uid(cfd);
	cl->next = c->clients;
	c->clients = cl;
	c->n_clients++;
	sd_event_now(c->event, CLOCK_MONOTONIC, &now);
	if (sd_event_add_io(c->event, &cl->io, cfd, EPOLLIN, on_client_io, cl) < 0 ||
	    sd_event_add_time(c->event, &cl->timer, CLOCK_MONOTONIC,
			      now + CONTROL_TIMEOUT_S * 1000000ULL, 0, on_client_timeout, cl) < 0)
		client_free(cl);
	return 0;
}

/* Is a daemon answering on path? */
static bool alive(const struct sockaddr_un *sa)
{
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	bool yes;

	if (fd < 0)
		return false;
	yes = connect(fd, (const struct sockaddr *)sa, sizeof(*sa)) == 0;
	close(fd);
	return yes;
}

int control_new(struct control **out, sd_event *e, const char *path, control_fn fn, void *ctx)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct control *c;
	char dir[sizeof(sa.sun_path)];
	char *slash;
	mode_t old;
	int r;

	*out = NULL;
	if (strlen(path) >= sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	strcpy(sa.sun_path, path);
	strcpy(dir, path);
	slash = strrchr(dir, '/');
	if (slash && slash != dir) {
		*slash = '\0';
		if (mkdir(dir, 0755) < 0 && errno != EEXIST)
			return -errno;
	}
	c = calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	c->fd = -1;
	c->event = sd_event_ref(e);
	c->fn = fn;
	c->ctx = ctx;
	c->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (c->fd < 0) {
		r = -errno;
		goto fail;
	}
	old = umask(0177);         /* the socket is born 0600 */
	r = bind(c->fd, (struct sockaddr *)&sa, sizeof(sa));
	if (r < 0 && errno == EADDRINUSE && !alive(&sa)) {
		unlink(path);      /* stale, from a daemon that died */
		r = bind(c->fd, (struct sockaddr *)&sa, sizeof(sa));
	}
	if (r < 0)
		r = -errno;
	umask(old);
	if (r < 0)
		goto fail;
	c->path = strdup(path);
	if (!c->path) {
		r = -ENOMEM;
		unlink(path);
		goto fail;
	}
	if (listen(c->fd, CONTROL_MAX_CLIENTS) < 0 ||
	    (r = sd_event_add_io(e, &c->listen_src, c->fd, EPOLLIN, on_accept, c)) < 0) {
		r = r < 0 ? r : -errno;
		goto fail;
	}
	*out = c;
	return 0;
fail:
	control_free(c);
	return r;
}

void control_free(struct control *c)
{
	if (!c)
		return;
	while (c->clients)
		client_free(c->clients);
	sd_event_source_disable_unref(c->listen_src);
	if (c->path)
		unlink(c->path);
	if (c->fd >= 0)
		close(c->fd);
	free(c->path);
	sd_event_unref(c->event);
	free(c);
}
