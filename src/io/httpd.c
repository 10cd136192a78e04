/* The /metrics endpoint (see httpd.h for why in the event loop).
 *
 * libmicrohttpd does the HTTP, so that no parser of ours faces the network;
 * the connections are ours.  MHD runs with MHD_USE_EPOLL, no thread and no
 * listening socket of its own (MHD_USE_NO_LISTEN_SOCKET): the daemon
 * accepts, and hands each connection to MHD_add_connection().  MHD's own
 * listener is what let a flood in: at its connection limit MHD takes the
 * listening socket out of its epoll set and puts it back only in a later
 * MHD_run(), which nothing called once the last connection had timed out
 * (the endpoint stayed dead until a restart); and while it is full, every
 * connection in the kernel's backlog, flooders first, waits its turn
 * behind the slots' timeouts.  Accepting ourselves, at once and always,
 * lets core/conn_table.c decide who stays: a new connection sheds an old
 * one (at its peer's limit one of the peer's, else one of all, idle and
 * slow ones first), and a connection whose request is not in within
 * request_ms is shed whatever it trickles.  Shedding is shutdown(2) of the
 * connection's socket: MHD has no call to close a connection, and sees the
 * shut socket as a client gone (the socket is MHD's to close; no byte is
 * read or written on it here).  A response is written by MHD, to a
 * non-blocking socket; a client that does not read it is closed after
 * idle_s without progress (MHD_OPTION_CONNECTION_TIMEOUT).
 *
 * MHD is run whenever its epoll fd is ready, after each accept, and on a
 * one-shot timer set after each run to the nearest of MHD_get_timeout()
 * and the next request deadline, so nothing waits for an event that does
 * not come.  MHD's threaded modes would call the render callback off the
 * loop's thread, which would then need locks on the judged set.  The page
 * is rendered into a fresh buf per request of /metrics (GET or HEAD) and
 * handed to MHD, which frees it (MHD_RESPMEM_MUST_FREE): no copy, nothing
 * kept between scrapes.  Only GET and HEAD of / and /metrics are served,
 * one request per connection ("Connection: close"): a kept-alive
 * connection would only wait for a scrape an interval away, past its
 * deadline, and a client could not queue requests on one.
 * MHD's logger is silenced (quiet()): it would print to stderr, where only
 * the daemon's top writes (io/log.h); a failure to start comes back as
 * -errno.  Why dlopen rather than linking: see struct mhd_api. */
#include "io/httpd.h"

#include <dlfcn.h>
#include <errno.h>
#include <microhttpd.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core/conn_table.h"

#define CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"
#define MHD_SONAME   "libmicrohttpd.so.12"
#define ACCEPT_BATCH 16     /* connections accepted per wake-up, then the loop's other work */
#define PAUSE_MS     100    /* accept(2) out of descriptors or memory: try again after this */

/* libmicrohttpd is loaded when a listen: address is configured, not
 * linked: it brings GnuTLS and its kin, megabytes of resident memory
 * that a daemon without an HTTP endpoint has no use for.  Each endpoint
 * holds its own reference (dlopen counts them). */
struct mhd_api {
	void *handle;
	__typeof__(MHD_start_daemon) *start_daemon;
	__typeof__(MHD_stop_daemon) *stop_daemon;
	__typeof__(MHD_get_daemon_info) *get_daemon_info;
	__typeof__(MHD_add_connection) *add_connection;
	__typeof__(MHD_get_connection_info) *get_connection_info;
	__typeof__(MHD_run) *run;
	__typeof__(MHD_get_timeout) *get_timeout;
	__typeof__(MHD_create_response_from_buffer) *create_response_from_buffer;
	__typeof__(MHD_add_response_header) *add_response_header;
	__typeof__(MHD_queue_response) *queue_response;
	__typeof__(MHD_destroy_response) *destroy_response;
};

/* 0, -ELIBACC or -ELIBBAD. */
static int load_mhd(struct mhd_api *m)
{
	void *h = dlopen(MHD_SONAME, RTLD_NOW | RTLD_LOCAL);

	if (!h)
		return -ELIBACC;
#define SYM(field, name) (*(void **)&m->field = dlsym(h, name)) == NULL
	if (SYM(start_daemon, "MHD_start_daemon") || SYM(stop_daemon, "MHD_stop_daemon") ||
	    SYM(get_daemon_info, "MHD_get_daemon_info") || SYM(add_connection, "MHD_add_connection") ||
	    SYM(get_connection_info, "MHD_get_connection_info") || SYM(run, "MHD_run") ||
	    SYM(get_timeout, "MHD_get_timeout") ||
	    SYM(create_response_from_buffer, "MHD_create_response_from_buffer") ||
	    SYM(add_response_header, "MHD_add_response_header") ||
	    SYM(queue_response, "MHD_queue_response") || SYM(destroy_response, "MHD_destroy_response")) {
		dlclose(h);
		return -ELIBBAD;
	}
#undef SYM
	m->handle = h;
	return 0;
}

struct httpd {
	struct mhd_api api;
	struct MHD_Daemon *mhd;
	sd_event *event;
	sd_event_source *listener, *io, *timer;
	int listen_fd;
	struct conn_table conns;
	uint64_t resume_ms;        /* accepting paused until then (0: not paused) */
	httpd_render_fn render;
	void *ctx;
};

static uint64_t now_ms(struct httpd *h)
{
	uint64_t us = 0;

	sd_event_now(h->event, CLOCK_MONOTONIC, &us);
	return us / 1000;
}

/* The table's slot of conn (set when MHD told us it started), or -1. */
static int slot_of(struct httpd *h, struct MHD_Connection *conn)
{
	const union MHD_ConnectionInfo *info = h->api.get_connection_info(conn, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
	struct conn_slot *s = info ? info->socket_context : NULL;

	return s ? (int)(s - h->conns.slot) : -1;
}

/* Close slot i's connection: MHD sees its socket shut and lets it go. */
static void shed(struct httpd *h, int i)
{
	shutdown(h->conns.slot[i].fd, SHUT_RDWR);
	conn_set(&h->conns, i, CONN_SHED, now_ms(h));
}

static enum MHD_Result reply(struct httpd *h, struct MHD_Connection *conn, unsigned status, const char *type,
			     char *body, size_t len, bool owned)
{
	struct MHD_Response *r;
	enum MHD_Result ret;

	r = h->api.create_response_from_buffer(len, body, owned ? MHD_RESPMEM_MUST_FREE : MHD_RESPMEM_PERSISTENT);
	if (!r) {
		if (owned)
			free(body);
		return MHD_NO;
	}
	h->api.add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, type);
	h->api.add_response_header(r, MHD_HTTP_HEADER_CONNECTION, "close");
	if (status == MHD_HTTP_METHOD_NOT_ALLOWED)
		h->api.add_response_header(r, MHD_HTTP_HEADER_ALLOW, "GET, HEAD");
	ret = h->api.queue_response(conn, status, r);
	h->api.destroy_response(r);
	return ret;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
				  const char *method, const char *version, const char *upload_data,
				  size_t *upload_data_size, void **con_cls)
{
	static char not_found[] = "not found: leakwatchd serves /metrics\n";
	static char not_allowed[] = "method not allowed: GET /metrics\n";
	static char index[] = "leakwatchd: the metrics are at /metrics\n";
	struct httpd *h = cls;
	struct buf b = { 0 };

	(void)version;
	(void)upload_data;
	if (!*con_cls) {            /* the request's headers are in: no longer the deadline's */
		*con_cls = h;
		conn_set(&h->conns, slot_of(h, conn), CONN_BUSY, now_ms(h));
	}
	if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0) {
		*upload_data_size = 0;    /* a body, if any, is ignored */
		return reply(h, conn, MHD_HTTP_METHOD_NOT_ALLOWED, "text/plain", not_allowed,
			     sizeof(not_allowed) - 1, false);
	}
	if (strcmp(url, "/") == 0)
		return reply(h, conn, MHD_HTTP_OK, "text/plain", index, sizeof(index) - 1, false);
	if (strcmp(url, "/metrics") != 0)
		return reply(h, conn, MHD_HTTP_NOT_FOUND, "text/plain", not_found, sizeof(not_found) - 1, false);
	h->render(h->ctx, &b);
	if (!buf_ok(&b)) {
		static char oom[] = "out of memory\n";

		buf_free(&b);
		return reply(h, conn, MHD_HTTP_INTERNAL_SERVER_ERROR, "text/plain", oom, sizeof(oom) - 1, false);
	}
	return reply(h, conn, MHD_HTTP_OK, CONTENT_TYPE, b.data ? b.data : calloc(1, 1), b.len, true);
}

/* A request answered (or given up): the connection, kept alive, waits
 * for its next one, under the deadline again. */
static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls, enum MHD_RequestTerminationCode toe)
{
	struct httpd *h = cls;

	(void)con_cls;
	(void)toe;
	conn_set(&h->conns, slot_of(h, conn), CONN_WAITING, now_ms(h));
}

/* MHD took a connection we added (its slot becomes its socket context),
 * or let one go (its slot is free). */
static void on_connection(void *cls, struct MHD_Connection *conn, void **socket_context,
			  enum MHD_ConnectionNotificationCode code)
{
	struct httpd *h = cls;

	if (code == MHD_CONNECTION_NOTIFY_STARTED) {
		const union MHD_ConnectionInfo *info = h->api.get_connection_info(conn, MHD_CONNECTION_INFO_CONNECTION_FD);
		int i = info ? conn_find(&h->conns, info->connect_fd) : -1;

		*socket_context = i >= 0 ? &h->conns.slot[i] : NULL;
	} else if (code == MHD_CONNECTION_NOTIFY_CLOSED && *socket_context) {
		conn_set(&h->conns, (int)((struct conn_slot *)*socket_context - h->conns.slot), CONN_FREE, 0);
		*socket_context = NULL;
	}
}

/* Shed the overdue, run MHD's pending work, then wake up again when the
 * next of MHD's timeout, a request deadline or the end of a pause is due. */
static void run(struct httpd *h)
{
	MHD_UNSIGNED_LONG_LONG ms = 0;
	uint64_t now = now_ms(h), wake;
	int i;

	while ((i = conn_overdue(&h->conns, now)) >= 0)
		shed(h, i);
	if (h->resume_ms && now >= h->resume_ms) {
		h->resume_ms = 0;
		sd_event_source_set_enabled(h->listener, SD_EVENT_ON);
	}
	h->api.run(h->mhd);
	wake = conn_next_due(&h->conns);
	if (h->api.get_timeout(h->mhd, &ms) == MHD_YES && ms < UINT32_MAX && now + ms < wake)
		wake = now + ms;
	if (h->resume_ms && h->resume_ms < wake)
		wake = h->resume_ms;
	if (wake == UINT64_MAX) {
		sd_event_source_set_enabled(h->timer, SD_EVENT_OFF);
		return;
	}
	sd_event_source_set_time(h->timer, (wake > now ? wake : now) * 1000);
	sd_event_source_set_enabled(h->timer, SD_EVENT_ONESHOT);
}

/* Let connection fd (from sa) in, shedding one first if the table is full. */
static void admit(struct httpd *h, int fd, const struct sockaddr *sa, socklen_t len)
{
	struct conn_peer p;
	int i;

	conn_peer_of(sa, len, &p);
	i = conn_victim(&h->conns, &p);
	if (i >= 0)
		shed(h, i);
	i = conn_add(&h->conns, fd, &p, now_ms(h));
	if (i < 0) {                /* every slot live or still closing */
		close(fd);
		return;
	}
	if (h->api.add_connection(h->mhd, fd, sa, len) != MHD_YES) {
		conn_set(&h->conns, i, CONN_FREE, 0);   /* MHD closed fd */
		return;
	}
	h->api.run(h->mhd);         /* its request, if in already, answered before the next accept */
}

static int on_accept(sd_event_source *s, int fd, uint32_t revents, void *userdata)
{
	struct httpd *h = userdata;

	(void)revents;
	for (int n = 0; n < ACCEPT_BATCH; n++) {
		struct sockaddr_storage sa;
		socklen_t len = sizeof(sa);
		int c = accept4(fd, (struct sockaddr *)&sa, &len, SOCK_NONBLOCK | SOCK_CLOEXEC);

		if (c >= 0) {
			admit(h, c, (struct sockaddr *)&sa, len);
			continue;
		}
		if (errno == EINTR || errno == ECONNABORTED || errno == EPROTO)
			continue;
		if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
			h->resume_ms = now_ms(h) + PAUSE_MS;    /* else the loop would spin on the backlog */
			sd_event_source_set_enabled(s, SD_EVENT_OFF);
		}
		break;
	}
	run(h);
	return 0;
}

static int on_io(sd_event_source *s, int fd, uint32_t revents, void *userdata)
{
	(void)s;
	(void)fd;
	(void)revents;
	run(userdata);
	return 0;
}

static int on_timer(sd_event_source *s, uint64_t usec, void *userdata)
{
	(void)s;
	(void)usec;
	run(userdata);
	return 0;
}

static void quiet(void *cls, const char *fmt, va_list ap)
{
	(void)cls;
	(void)fmt;
	(void)ap;
}

/* listen's address, resolved: 0, or -EINVAL, -EADDRNOTAVAIL, -errno. */
static int resolve(const char *listen, struct addrinfo **ai)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM, .ai_flags = AI_NUMERICSERV };
	const char *colon = strrchr(listen, ':');
	char host[256];
	size_t host_len;
	int r;

	*ai = NULL;
	if (!colon)
		return -EINVAL;
	host_len = (size_t)(colon - listen);
	if (listen[0] == '[' && host_len >= 2 && colon[-1] == ']') {
		listen++;
		host_len -= 2;
	}
	if (host_len == 0 || host_len >= sizeof(host))
		return -EINVAL;
	memcpy(host, listen, host_len);
	host[host_len] = '\0';
	r = getaddrinfo(host, colon + 1, &hints, ai);
	if (r != 0)
		return r == EAI_SYSTEM ? -errno : -EADDRNOTAVAIL;
	return 0;
}

/* A listening socket on ai, non-blocking: its fd, or -errno. */
static int listen_on(const struct addrinfo *ai)
{
	int one = 1, r;
	int fd = socket(ai->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return -errno;
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
	    (ai->ai_family == AF_INET6 && setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one)) < 0) ||
	    bind(fd, ai->ai_addr, ai->ai_addrlen) < 0 || listen(fd, SOMAXCONN) < 0) {
		r = -errno;
		close(fd);
		return r;
	}
	return fd;
}

/* MHD started on h, and the loop's sources: 0 or -errno. */
static int start(struct httpd *h, const struct httpd_limits *lim)
{
	const union MHD_DaemonInfo *info;
	int r;

	errno = 0;
	h->mhd = h->api.start_daemon(MHD_USE_EPOLL | MHD_USE_NO_LISTEN_SOCKET, 0, NULL, NULL, on_request, h,
				     MHD_OPTION_CONNECTION_LIMIT, h->conns.size,
				     MHD_OPTION_CONNECTION_TIMEOUT, lim->idle_s,
				     MHD_OPTION_NOTIFY_CONNECTION, on_connection, h,
				     MHD_OPTION_NOTIFY_COMPLETED, on_completed, h,
				     MHD_OPTION_EXTERNAL_LOGGER, quiet, NULL,
				     MHD_OPTION_END);
	if (!h->mhd)
		return errno ? -errno : -ENOMEM;
	info = h->api.get_daemon_info(h->mhd, MHD_DAEMON_INFO_EPOLL_FD);
	if (!info)
		return -EOPNOTSUPP;
	r = sd_event_add_io(h->event, &h->io, info->epoll_fd, EPOLLIN, on_io, h);
	if (r >= 0)
		r = sd_event_add_io(h->event, &h->listener, h->listen_fd, EPOLLIN, on_accept, h);
	if (r >= 0)
		r = sd_event_add_time(h->event, &h->timer, CLOCK_MONOTONIC, 0, 1000, on_timer, h);
	if (r < 0)
		return r;
	return sd_event_source_set_enabled(h->timer, SD_EVENT_OFF);
}

int httpd_new(struct httpd **out, sd_event *e, const char *listen, const struct httpd_limits *limits,
	      httpd_render_fn render, void *ctx)
{
	static const struct httpd_limits defaults = {
		HTTPD_CONNECTIONS, HTTPD_PER_PEER, HTTPD_REQUEST_MS, HTTPD_IDLE_S
	};
	const struct httpd_limits *lim = limits ? limits : &defaults;
	struct addrinfo *ai = NULL;
	struct httpd *h;
	int r;

	*out = NULL;
	if (lim->idle_s == 0)
		return -EINVAL;
	h = calloc(1, sizeof(*h));
	if (!h)
		return -ENOMEM;
	h->listen_fd = -1;
	h->render = render;
	h->ctx = ctx;
	h->event = sd_event_ref(e);
	r = conn_table_init(&h->conns, lim->connections, lim->per_peer, lim->request_ms);
	if (r == 0)
		r = resolve(listen, &ai);
	if (r == 0)
		r = load_mhd(&h->api);
	if (r == 0)
		r = h->listen_fd = listen_on(ai);
	freeaddrinfo(ai);
	if (r >= 0)
		r = start(h, lim);
	if (r < 0) {
		httpd_free(h);
		return r;
	}
	*out = h;
	return 0;
}

void httpd_free(struct httpd *h)
{
	if (!h)
		return;
	sd_event_source_disable_unref(h->listener);
	sd_event_source_disable_unref(h->io);
	sd_event_source_disable_unref(h->timer);
	if (h->mhd)
		h->api.stop_daemon(h->mhd);
	if (h->listen_fd >= 0)
		close(h->listen_fd);
	if (h->api.handle)
		dlclose(h->api.handle);
	conn_table_free(&h->conns);
	sd_event_unref(h->event);
	free(h);
}
