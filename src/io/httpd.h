/* metrics: { listen: HOST:PORT }: /metrics over HTTP with libmicrohttpd,
 * driven from the daemon's event loop (MHD's epoll fd is one sd-event IO
 * source), so the text is rendered on the loop's thread, per scrape, with
 * no locking and no cost between scrapes.  The library is loaded
 * (dlopen) on first use only. */
#ifndef LEAKWATCH_HTTPD_H
#define LEAKWATCH_HTTPD_H

#include <systemd/sd-event.h>

#include "core/buf.h"

typedef void (*httpd_render_fn)(void *ctx, struct buf *out);

struct httpd;

/* Serve on listen ("127.0.0.1:9567", "[::1]:9567", "localhost:9567").
 * 0, or -errno (-EADDRINUSE, -EADDRNOTAVAIL, -EINVAL for a bad address,
 * -ELIBACC when libmicrohttpd.so.12 cannot be loaded, -ELIBBAD when it
 * lacks a function). */
int httpd_new(struct httpd **out, sd_event *e, const char *listen, httpd_render_fn render, void *ctx);
void httpd_free(struct httpd *h);   /* accepts NULL */

#endif
