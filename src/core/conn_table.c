/* Who may hold a connection to the metrics endpoint, and for how long.
 *
 * The endpoint answers anyone who reaches its address: on a loopback
 * address every local user, who can open connections and then send
 * nothing (idle), send the request a byte a second (slow loris), or send
 * requests and never read the answers.  Each such connection holds a slot
 * of the HTTP server, and a server that only waits for its slots to time
 * out is theirs: with a limit of L and a timeout of T, L connections renewed
 * every T keep every scrape out, and the ones queued in the kernel's
 * backlog come before the scrape, T at a time.  What fails:
 *
 *   an idle timeout     a byte a second is never idle; and while the flood
 *                       lasts, every freed slot goes to the next flooder
 *                       in the backlog, not to the scrape behind them;
 *   a per-IP limit that the flooder and the scraper share their address
 *   refuses the newest  (every local user is 127.0.0.1; NAT), so the
 *                       scrape is the connection refused; and a local user
 *                       has all of 127.0.0.0/8 to spread over;
 *   a bigger limit      the flooder opens more.
 *
 * So the policy here: every connection is accepted at once (the backlog
 * never holds a scrape behind a flood), and room is made for it by
 * shedding a connection that is already in: at its peer's per-peer limit
 * one of the peer's own, else at the overall limit one of anyone's; a
 * waiting one (its request not in yet: idle, slow) before a busy one (its
 * answer going out: maybe a client that does not read), the oldest in its
 * state first.  A scrape sends its request as it connects and is answered
 * within the same turn of the loop, so it is the newest connection and
 * never the one shed; the flooders' connections are the older ones.  And
 * whether or not the endpoint is full, a connection whose request has not
 * all come within request_ms of its accept (or of its previous answer,
 * kept alive) is shed: the slow loris's deadline, which no trickle of
 * bytes moves.  A connection stuck writing to a client that does not read
 * is the server's inactivity timeout's (io/httpd.c).
 *
 * Peers are counted by IPv4 address, and by IPv6 /64 (one host's usual
 * allotment: counting by address would give it 2^64 peers).
 *
 * Costs: every operation is a scan of the table, 2 * limit slots (a few
 * dozen); the slots of connections shed but not yet closed are kept apart
 * from the limit, so that shedding never has to wait for the server to
 * close before the new connection is let in. */
#include "core/conn_table.h"

#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

int conn_table_init(struct conn_table *t, unsigned limit, unsigned per_peer, uint64_t request_ms)
{
	memset(t, 0, sizeof(*t));
	if (limit == 0 || per_peer == 0 || request_ms == 0 || limit > 65536)
		return -EINVAL;
	t->slot = calloc(2 * (size_t)limit, sizeof(*t->slot));
	if (!t->slot)
		return -ENOMEM;
	t->size = 2 * limit;
	t->limit = limit;
	t->per_peer = per_peer < limit ? per_peer : limit;
	t->request_ms = request_ms;
	for (unsigned i = 0; i < t->size; i++)
		t->slot[i].fd = -1;
	return 0;
}

void conn_table_free(struct conn_table *t)
{
	free(t->slot);
	t->slot = NULL;
	t->size = 0;
}

void conn_peer_of(const struct sockaddr *sa, socklen_t len, struct conn_peer *out)
{
	static const uint8_t v4mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };

	memset(out, 0, sizeof(*out));
	if (sa && sa->sa_family == AF_INET && len >= sizeof(struct sockaddr_in)) {
		memcpy(out->b, v4mapped, sizeof(v4mapped));
		memcpy(out->b + 12, &((const struct sockaddr_in *)sa)->sin_addr, 4);
	} else if (sa && sa->sa_family == AF_INET6 && len >= sizeof(struct sockaddr_in6)) {
		const uint8_t *a = ((const struct sockaddr_in6 *)sa)->sin6_addr.s6_addr;

		memcpy(out->b, a, memcmp(a, v4mapped, sizeof(v4mapped)) == 0 ? 16 : 8);
	}
}

static bool live(const struct conn_slot *s)
{
	return s->state == CONN_WAITING || s->state == CONN_BUSY;
}

static bool same(const struct conn_peer *a, const struct conn_peer *b)
{
	return memcmp(a->b, b->b, sizeof(a->b)) == 0;
}

unsigned conn_live(const struct conn_table *t, const struct conn_peer *p)
{
	unsigned n = 0;

	for (unsigned i = 0; i < t->size; i++)
		n += live(&t->slot[i]) && (!p || same(&t->slot[i].peer, p));
	return n;
}

/* Whether slot a is to go before slot b: waiting before busy, then older. */
static bool before(const struct conn_slot *a, const struct conn_slot *b)
{
	if (a->state != b->state)
		return a->state == CONN_WAITING;
	return a->since_ms < b->since_ms;
}

int conn_victim(const struct conn_table *t, const struct conn_peer *p)
{
	const struct conn_peer *among;
	int best = -1;

	if (conn_live(t, p) >= t->per_peer)
		among = p;
	else if (conn_live(t, NULL) >= t->limit)
		among = NULL;
	else
		return -1;
	for (unsigned i = 0; i < t->size; i++) {
		const struct conn_slot *s = &t->slot[i];

		if (!live(s) || (among && !same(&s->peer, among)))
			continue;
		if (best < 0 || before(s, &t->slot[best]))
			best = (int)i;
	}
	return best;
}

int conn_add(struct conn_table *t, int fd, const struct conn_peer *p, uint64_t now_ms)
{
	for (unsigned i = 0; i < t->size; i++) {
		struct conn_slot *s = &t->slot[i];

		if (s->state != CONN_FREE)
			continue;
		*s = (struct conn_slot){ .state = CONN_WAITING, .fd = fd, .peer = *p, .since_ms = now_ms };
		return (int)i;
	}
	return -ENOSPC;
}

int conn_find(const struct conn_table *t, int fd)
{
	for (unsigned i = 0; i < t->size; i++)
		if (t->slot[i].state != CONN_FREE && t->slot[i].fd == fd)
			return (int)i;
	return -ENOENT;
}

void conn_set(struct conn_table *t, int i, enum conn_state s, uint64_t now_ms)
{
	if (i < 0 || (unsigned)i >= t->size || (t->slot[i].state == CONN_SHED && s != CONN_FREE))
		return;
	if (s == CONN_FREE) {
		t->slot[i] = (struct conn_slot){ .state = CONN_FREE, .fd = -1 };
		return;
	}
	t->slot[i].state = s;
	t->slot[i].since_ms = now_ms;
}

int conn_overdue(const struct conn_table *t, uint64_t now_ms)
{
	int best = -1;

	for (unsigned i = 0; i < t->size; i++) {
		const struct conn_slot *s = &t->slot[i];

		if (s->state != CONN_WAITING || now_ms < s->since_ms || now_ms - s->since_ms < t->request_ms)
			continue;
		if (best < 0 || s->since_ms < t->slot[best].since_ms)
			best = (int)i;
	}
	return best;
}

uint64_t conn_next_due(const struct conn_table *t)
{
	uint64_t due = UINT64_MAX;

	for (unsigned i = 0; i < t->size; i++)
		if (t->slot[i].state == CONN_WAITING && t->slot[i].since_ms + t->request_ms < due)
			due = t->slot[i].since_ms + t->request_ms;
	return due;
}
