/* The /metrics endpoint (see httpd.h for why in the event loop).
 *
 * libmicrohttpd does the HTTP, so that no parser of ours faces the network.
 * It runs with MHD_USE_EPOLL and no thread of its own: its epoll fd is one
 * sd-event IO source, and after each MHD_run() a one-shot timer is set to
 * MHD_get_timeout(), so idle connections time out (after 10 s) without
 * polling.  MHD's threaded modes would call the render callback off the
 * loop's thread, which would then need locks on the judged set.  The page
 * is rendered into a fresh buf per request of /metrics (GET or HEAD) and
 * handed to MHD, which frees it (MHD_RESPMEM_MUST_FREE): no copy, nothing
 * kept between scrapes.  Only GET and HEAD of / and /metrics are served,
 * at most 16 connections at once.  MHD's logger is silenced (quiet()): it
 * would print to stderr, where only the daemon's top writes (io/log.h); a
 * failure to start comes back as -errno.  Why dlopen rather than linking:
 * see `mhd` below. */
#include "io/httpd.h"

#include <dlfcn.h>
#include <errno.h>
#include <microhttpd.h>
#include <netdb.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>

#define CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"
#define MHD_SONAME   "libmicrohttpd.so.12"

/* libmicrohttpd is loaded when a listen: address is configured, not
 * linked: it brings GnuTLS and its kin, megabytes of resident memory
 * that a daemon without an HTTP endpoint has no use for. */
static struct {
	void *handle;
	__typeof__(MHD_start_daemon) *start_daemon;
	__typeof__(MHD_stop_daemon) *stop_daemon;
	__typeof__(MHD_get_daemon_info) *get_daemon_info;
	__typeof__(MHD_run) *run;
	__typeof__(MHD_get_timeout) *get_timeout;
	__typeof__(MHD_create_response_from_buffer) *create_response_from_buffer;
	__typeof__(MHD_add_response_header) *add_response_header;
	__typeof__(MHD_queue_response) *queue_response;
	__typeof__(MHD_destroy_response) *destroy_response;
} mhd;

static int load_mhd(void)
{
	void *h;

	if (mhd.handle)
		return 0;
	h = dlopen(MHD_SONAME, RTLD_NOW | RTLD_LOCAL);
	if (!h)
		return -ELIBACC;
#define SYM(field, name) (*(void **)&mhd.field = dlsym(h, name)) == NULL
	if (SYM(start_daemon, "MHD_start_daemon") || SYM(stop_daemon, "MHD_stop_daemon") ||
	    SYM(get_daemon_info, "MHD_get_daemon_info") || SYM(run, "MHD_run") ||
	    SYM(get_timeout, "MHD_get_timeout") ||
	    SYM(create_response_from_buffer, "MHD_create_response_from_buffer") ||
	    SYM(add_response_header, "MHD_add_response_header") ||
	    SYM(queue_response, "MHD_queue_response") || SYM(destroy_response, "MHD_destroy_response")) {
		dlclose(h);
		return -ELIBBAD;
	}
#undef SYM
	mhd.handle = h;
	return 0;
}

struct httpd {
	struct MHD_Daemon *mhd;
	sd_event *event;
	sd_event_source *io, *timer;
	httpd_render_fn render;
	void *ctx;
};

static enum MHD_Result reply(struct MHD_Connection *conn, unsigned status, const char *type,
			     char *body, size_t len, bool owned)
{
	struct MHD_Response *r;
	enum MHD_Result ret;

	r = mhd.create_response_from_buffer(len, body, owned ? MHD_RESPMEM_MUST_FREE : MHD_RESPMEM_PERSISTENT);
	if (!r) {
		if (owned)
			free(body);
		return MHD_NO;
	}
	mhd.add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, type);
	if (status == MHD_HTTP_METHOD_NOT_ALLOWED)
		mhd.add_response_header(r, MHD_HTTP_HEADER_ALLOW, "GET, HEAD");
	ret = mhd.queue_response(conn, status, r);
	mhd.destroy_response(r);
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
	if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0) {
		*upload_data_size = 0;    /* a body, if any, is ignored */
		return reply(conn, MHD_HTTP_METHOD_NOT_ALLOWED, "text/plain", not_allowed,
			     sizeof(not_allowed) - 1, false);
	}
	(void)con_cls;
	if (strcmp(url, "/") == 0)
		return reply(conn, MHD_HTTP_OK, "text/plain", index, sizeof(index) - 1, false);
	if (strcmp(url, "/metrics") != 0)
		return reply(conn, MHD_HTTP_NOT_FOUND, "text/plain", not_found, sizeof(not_found) - 1, false);
	h->render(h->ctx, &b);
	if (!buf_ok(&b)) {
		static char oom[] = "out of memory\n";

		buf_free(&b);
		return reply(conn, MHD_HTTP_INTERNAL_SERVER_ERROR, "text/plain", oom, sizeof(oom) - 1, false);
	}
	return reply(conn, MHD_HTTP_OK, CONTENT_TYPE, b.data ? b.data : calloc(1, 1), b.len, true);
}

/* Run MHD's pending work, then wake up again when its next timeout is due. */
static void run(struct httpd *h)
{
	MHD_UNSIGNED_LONG_LONG ms = 0;
	uint64_t now;

	mhd.run(h->mhd);
	if (mhd.get_timeout(h->mhd, &ms) != MHD_YES) {
		sd_event_source_set_enabled(h->timer, SD_EVENT_OFF);
		return;
	}
	sd_event_now(h->event, CLOCK_MONOTONIC, &now);
	sd_event_source_set_time(h->timer, now + (uint64_t)ms * 1000);
	sd_event_source_set_enabled(h->timer, SD_EVENT_ONESHOT);
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

int httpd_new(struct httpd **out, sd_event *e, const char *listen, httpd_render_fn render, void *ctx)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM, .ai_flags = AI_NUMERICSERV };
	struct addrinfo *ai = NULL;
	const union MHD_DaemonInfo *info;
	char host[256];
	const char *colon = strrchr(listen, ':');
	size_t host_len;
	struct httpd *h;
	int r;

	*out = NULL;
	if (!colon)
		return -EINVAL;
	r = load_mhd();
	if (r < 0)
		return r;
	host_len = (size_t)(colon - listen);
	if (listen[0] == '[' && host_len >= 2 && colon[-1] == ']') {
		listen++;
		host_len -= 2;
	}
	if (host_len == 0 || host_len >= sizeof(host))
		return -EINVAL;
	memcpy(host, listen, host_len);
	host[host_len] = '\0';
	r = getaddrinfo(host, colon + 1, &hints, &ai);
	if (r != 0)
		return r == EAI_SYSTEM ? -errno : -EADDRNOTAVAIL;
	h = calloc(1, sizeof(*h));
	if (!h) {
		freeaddrinfo(ai);
		return -ENOMEM;
	}
	h->render = render;
	h->ctx = ctx;
	h->event = sd_event_ref(e);
	errno = 0;
	h->mhd = mhd.start_daemon(MHD_USE_EPOLL | (ai->ai_family == AF_INET6 ? MHD_USE_IPv6 : 0),
				  0, NULL, NULL, on_request, h,
				  MHD_OPTION_SOCK_ADDR, ai->ai_addr,
				  MHD_OPTION_CONNECTION_LIMIT, (unsigned)16,
				  MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)10,
				  MHD_OPTION_EXTERNAL_LOGGER, quiet, NULL,
				  MHD_OPTION_END);
	freeaddrinfo(ai);
	if (!h->mhd) {
		r = errno ? -errno : -EADDRINUSE;
		goto fail;
	}
	info = mhd.get_daemon_info(h->mhd, MHD_DAEMON_INFO_EPOLL_FD);
	if (!info) {
		r = -EOPNOTSUPP;
		goto fail;
	}
	r = sd_event_add_io(e, &h->io, info->epoll_fd, EPOLLIN, on_io, h);
	if (r >= 0)
		r = sd_event_add_time(e, &h->timer, CLOCK_MONOTONIC, 0, 0, on_timer, h);
	if (r < 0)
		goto fail;
	sd_event_source_set_enabled(h->timer, SD_EVENT_OFF);
	*out = h;
	return 0;
fail:
	httpd_free(h);
	return r;
}

void httpd_free(struct httpd *h)
{
	if (!h)
		return;
	sd_event_source_disable_unref(h->io);
	sd_event_source_disable_unref(h->timer);
	if (h->mhd)
		mhd.stop_daemon(h->mhd);
	sd_event_unref(h->event);
	free(h);
}
