/* Unit tests for core/conn_table.c, who holds a connection to the metrics
 * endpoint: scripts of steps on a table (add a connection, change a
 * slot's state, ask what to shed, what is overdue, when the next falls
 * due), and the peers connections are counted by. */
#include "core/conn_table.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdint.h>
#include <string.h>
#include <sys/un.h>

#include "check.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))

enum op {
	END,
	ADD,       /* fd a from peer 10.0.0.b at t: want its index (or -ENOSPC) */
	SET,       /* slot a into state b at t */
	VICTIM,    /* what to shed for a new one from peer b: want */
	OVERDUE,   /* at t: want */
	DUE,       /* the next due: want (-1: none) */
	LIVE,      /* live from peer b (0: all): want */
};

struct step {
	enum op op;
	int a, b;
	unsigned t;
	int want;
};

static void peer(int n, struct conn_peer *p)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(0x0a000000u | (unsigned)n) };

	conn_peer_of((struct sockaddr *)&sa, sizeof(sa), p);
}

static void test_scripts(void)
{
	static const struct {
		const char *name;
		unsigned limit, per_peer, request_ms;
		struct step steps[16];
	} cases[] = {
		{ "room, then the peer's oldest", 4, 2, 100, {
			{ ADD, 10, 1, 0, 0 }, { VICTIM, 0, 1, 0, -1 }, { ADD, 11, 1, 1, 1 },
			{ VICTIM, 0, 1, 0, 0 }, { VICTIM, 0, 2, 0, -1 }, { LIVE, 0, 1, 0, 2 }, { LIVE, 0, 0, 0, 2 },
		} },
		{ "a waiting one before a busy one", 4, 2, 100, {
			{ ADD, 10, 1, 0, 0 }, { SET, 0, CONN_BUSY, 5, 0 }, { ADD, 11, 1, 6, 1 },
			{ VICTIM, 0, 1, 0, 1 },
		} },
		{ "all busy: the one busy longest", 4, 2, 100, {
			{ ADD, 10, 1, 0, 0 }, { ADD, 11, 1, 1, 1 }, { SET, 1, CONN_BUSY, 2, 0 },
			{ SET, 0, CONN_BUSY, 3, 0 }, { VICTIM, 0, 1, 0, 1 },
		} },
		{ "the overall limit: anyone's oldest", 3, 3, 100, {
			{ ADD, 10, 1, 0, 0 }, { ADD, 11, 2, 1, 1 }, { ADD, 12, 3, 2, 2 },
			{ VICTIM, 0, 4, 0, 0 }, { SET, 0, CONN_BUSY, 3, 0 }, { VICTIM, 0, 4, 0, 1 },
			{ VICTIM, 0, 3, 0, 1 },
		} },
		{ "per peer above the limit is the limit", 2, 9, 100, {
			{ ADD, 10, 1, 0, 0 }, { ADD, 11, 1, 1, 1 }, { VICTIM, 0, 1, 0, 0 }, { VICTIM, 0, 2, 0, 0 },
		} },
		{ "shed: not live, its slot held until freed", 2, 2, 100, {
			{ ADD, 10, 1, 0, 0 }, { ADD, 11, 2, 0, 1 }, { SET, 0, CONN_SHED, 1, 0 },
			{ LIVE, 0, 0, 0, 1 }, { VICTIM, 0, 3, 0, -1 }, { ADD, 12, 3, 2, 2 },
			{ VICTIM, 0, 4, 0, 1 }, { SET, 1, CONN_SHED, 3, 0 }, { ADD, 13, 4, 3, 3 },
			{ ADD, 14, 5, 3, -ENOSPC }, { SET, 0, CONN_FREE, 4, 0 }, { ADD, 14, 5, 4, 0 },
		} },
		{ "shed stays shed", 2, 2, 100, {
			{ ADD, 10, 1, 0, 0 }, { SET, 0, CONN_SHED, 1, 0 }, { SET, 0, CONN_WAITING, 2, 0 },
			{ SET, 0, CONN_BUSY, 2, 0 }, { LIVE, 0, 0, 0, 0 }, { OVERDUE, 0, 0, 500, -1 },
		} },
		{ "overdue: waiting ones only, the most overdue first", 4, 4, 100, {
			{ DUE, 0, 0, 0, -1 }, { ADD, 10, 1, 0, 0 }, { ADD, 11, 2, 50, 1 },
			{ OVERDUE, 0, 0, 99, -1 }, { OVERDUE, 0, 0, 100, 0 }, { OVERDUE, 0, 0, 200, 0 },
			{ DUE, 0, 0, 0, 100 }, { SET, 0, CONN_BUSY, 100, 0 }, { OVERDUE, 0, 0, 149, -1 },
			{ OVERDUE, 0, 0, 150, 1 }, { DUE, 0, 0, 0, 150 }, { SET, 1, CONN_BUSY, 150, 0 },
			{ DUE, 0, 0, 0, -1 }, { SET, 1, CONN_WAITING, 400, 0 }, { DUE, 0, 0, 0, 500 },
			{ OVERDUE, 0, 0, 399, -1 },   /* a clock behind since: not overdue */
		} },
	};

	for (size_t c = 0; c < N(cases); c++) {
		struct conn_table t;
		struct conn_peer p;

		CHECK(conn_table_init(&t, cases[c].limit, cases[c].per_peer, cases[c].request_ms) == 0);
		for (size_t i = 0; i < N(cases[c].steps) && cases[c].steps[i].op != END; i++) {
			const struct step *s = &cases[c].steps[i];
			int got = 0;
			uint64_t due;

			peer(s->b, &p);
			switch (s->op) {
			case ADD:
				got = conn_add(&t, s->a, &p, s->t);
				break;
			case SET:
				conn_set(&t, s->a, (enum conn_state)s->b, s->t);
				break;
			case VICTIM:
				got = conn_victim(&t, &p);
				break;
			case OVERDUE:
				got = conn_overdue(&t, s->t);
				break;
			case DUE:
				due = conn_next_due(&t);
				got = due == UINT64_MAX ? -1 : (int)due;
				break;
			case LIVE:
				got = (int)conn_live(&t, s->b ? &p : NULL);
				break;
			case END:
				break;
			}
			CHECK_MSG(got == s->want, "%s: step %zu: %d, not %d", cases[c].name, i, got, s->want);
		}
		conn_table_free(&t);
	}
}

static void test_find_and_init(void)
{
	struct conn_table t;
	struct conn_peer p;

	CHECK(conn_table_init(&t, 0, 1, 1) == -EINVAL);
	CHECK(conn_table_init(&t, 1, 0, 1) == -EINVAL);
	CHECK(conn_table_init(&t, 1, 1, 0) == -EINVAL);
	conn_table_free(&t);
	CHECK(conn_table_init(&t, 2, 1, 10) == 0 && t.size == 4);
	peer(1, &p);
	CHECK(conn_find(&t, 7) == -ENOENT);
	CHECK(conn_add(&t, 7, &p, 0) == 0 && conn_add(&t, 8, &p, 0) == 1);
	CHECK(conn_find(&t, 8) == 1);
	conn_set(&t, 1, CONN_SHED, 1);
	CHECK(conn_find(&t, 8) == 1);       /* shed, not yet closed: still there */
	conn_set(&t, 1, CONN_FREE, 2);
	CHECK(conn_find(&t, 8) == -ENOENT && t.slot[1].fd == -1);
	conn_set(&t, -1, CONN_FREE, 0);     /* out of range: nothing */
	conn_set(&t, 4, CONN_BUSY, 0);
	CHECK(conn_live(&t, NULL) == 1);
	conn_table_free(&t);
	conn_table_free(&t);
}

/* Two addresses the same peer or not. */
static void test_peers(void)
{
	static const struct { const char *a, *b; bool same; } cases[] = {
		{ "192.0.2.1", "192.0.2.1", true },
		{ "192.0.2.1", "192.0.2.2", false },
		{ "127.0.0.1", "127.0.0.2", false },           /* 127/8: each its own */
		{ "192.0.2.1", "::ffff:192.0.2.1", true },     /* IPv4-mapped: the IPv4 address */
		{ "2001:db8:1:2::1", "2001:db8:1:2:ffff::9", true },   /* one /64 */
		{ "2001:db8:1:2::1", "2001:db8:1:3::1", false },
		{ "::1", "::2", true },
		{ "::ffff:0.0.0.1", "::1", false },
		{ "0.0.0.0", "unix", false },                  /* another family: the zero peer */
		{ "unix", "short", true },
	};

	for (size_t i = 0; i < N(cases); i++) {
		struct conn_peer p[2];
		const char *s[2] = { cases[i].a, cases[i].b };

		for (int k = 0; k < 2; k++) {
			struct sockaddr_in v4 = { .sin_family = AF_INET };
			struct sockaddr_in6 v6 = { .sin6_family = AF_INET6 };
			struct sockaddr_un un = { .sun_family = AF_UNIX };

			if (strcmp(s[k], "unix") == 0)
				conn_peer_of((struct sockaddr *)&un, sizeof(un), &p[k]);
			else if (strcmp(s[k], "short") == 0)
				conn_peer_of((struct sockaddr *)&v6, sizeof(v4), &p[k]);
			else if (inet_pton(AF_INET, s[k], &v4.sin_addr) == 1)
				conn_peer_of((struct sockaddr *)&v4, sizeof(v4), &p[k]);
			else {
				CHECK_MSG(inet_pton(AF_INET6, s[k], &v6.sin6_addr) == 1, "%s", s[k]);
				conn_peer_of((struct sockaddr *)&v6, sizeof(v6), &p[k]);
			}
		}
		CHECK_MSG((memcmp(&p[0], &p[1], sizeof(p[0])) == 0) == cases[i].same, "%s vs %s", s[0], s[1]);
	}
}

int main(void)
{
	RUN(test_scripts);
	RUN(test_find_and_init);
	RUN(test_peers);
	return check_done("test_conn_table");
}
