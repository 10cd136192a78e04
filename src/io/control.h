/* The control socket: a unix stream socket in the runtime directory that
 * leakwatchctl connects to.  One request line in ("status json",
 * "history 4242"), one reply out ("OK\n" + the text, or "ERR MESSAGE\n"),
 * then the daemon closes.  Served from the event loop, never blocking it:
 * replies go out as the client reads them, and a client that stalls for
 * CONTROL_TIMEOUT_S is dropped.  The socket is mode 0600: the daemon's
 * user (root) only; each request comes with the client's uid, for the
 * requests that change something (daemon/requests.h). */
#ifndef LEAKWATCH_CONTROL_H
#define LEAKWATCH_CONTROL_H

#include <sys/types.h>
#include <systemd/sd-event.h>

#include "core/buf.h"

#define CONTROL_TIMEOUT_S   5
#define CONTROL_MAX_CLIENTS 16
#define CONTROL_REQUEST_MAX 256

/* One request answered into reply; peer: the client's uid as the kernel
 * says it (SO_PEERCRED at accept), (uid_t)-1 when it could not tell. */
typedef void (*control_fn)(void *ctx, const char *request, uid_t peer, struct buf *reply);

struct control;

/* Listen on PATH (its directory is created when missing).  -EADDRINUSE
 * when another live daemon answers on it; a stale socket is replaced. */
int control_new(struct control **out, sd_event *e, const char *path, control_fn fn, void *ctx);
void control_free(struct control *c);   /* accepts NULL; removes the socket */

#endif
