/* metrics: { listen: HOST:PORT }: /metrics over HTTP with libmicrohttpd,
 * driven from the daemon's event loop (the listening socket and MHD's
 * epoll fd are sd-event IO sources, MHD's timeout and the connections'
 * deadlines one timer), so the text is rendered on the loop's thread, per
 * scrape, with no locking and no cost between scrapes.  The clients are
 * anyone who reaches the address: a bounded number of connections, none
 * of which can keep a scrape out for long (core/conn_table.c).  The
 * library is loaded (dlopen) on first use only. */
#ifndef LEAKWATCH_HTTPD_H
#define LEAKWATCH_HTTPD_H

#include <systemd/sd-event.h>

#include "core/buf.h"

typedef void (*httpd_render_fn)(void *ctx, struct buf *out);

struct httpd;

/* What a client may hold (man/leakwatch.yaml.5, metrics: listen:). */
struct httpd_limits {
	unsigned connections;   /* open at once; a new one sheds an old one */
	unsigned per_peer;      /* of those, from one IPv4 address or IPv6 /64 */
	unsigned request_ms;    /* to send a request's headers, from the connect or the last answer */
	unsigned idle_s;        /* without a byte moving while an answer goes out */
};

#define HTTPD_CONNECTIONS 16
#define HTTPD_PER_PEER    4
#define HTTPD_REQUEST_MS  5000
#define HTTPD_IDLE_S      5

/* Serve on listen ("127.0.0.1:9567", "[::1]:9567", "localhost:9567")
 * within limits (NULL: the HTTPD_ ones above).  0, or -errno
 * (-EADDRINUSE, -EADDRNOTAVAIL, -EINVAL for a bad address or a limit of
 * 0, -ELIBACC when libmicrohttpd.so.12 cannot be loaded, -ELIBBAD when
 * it lacks a function). */
int httpd_new(struct httpd **out, sd_event *e, const char *listen, const struct httpd_limits *limits,
	      httpd_render_fn render, void *ctx);
void httpd_free(struct httpd *h);   /* accepts NULL */

#endif
