/* The connections of the metrics endpoint and who is let go when clients
 * flood it (conn_table.c says why this policy).  Pure: the table holds
 * the caller's descriptors and times; the caller closes what it is told
 * to. */
#ifndef LEAKWATCH_CONN_TABLE_H
#define LEAKWATCH_CONN_TABLE_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

/* Whom connections are counted by: an IPv4 address, or the /64 of an IPv6
 * one (an IPv4-mapped IPv6 address is its IPv4 address). */
struct conn_peer {
	uint8_t b[16];
};

enum conn_state {
	CONN_FREE,       /* no connection */
	CONN_WAITING,    /* its request (headers) not all in yet */
	CONN_BUSY,       /* its request being answered */
	CONN_SHED,       /* told to go; the slot is free once the server says it closed */
};

struct conn_slot {
	enum conn_state state;
	int fd;
	struct conn_peer peer;
	uint64_t since_ms;   /* in the state since (accepted, or its last answer done) */
};

struct conn_table {
	struct conn_slot *slot;
	unsigned size;         /* 2 * limit: the live ones and those shed but not yet closed */
	unsigned limit;        /* connections live (waiting or busy) at once */
	unsigned per_peer;     /* of those, from one peer */
	uint64_t request_ms;   /* a waiting connection is shed this long after since_ms */
};

/* An empty table for limit connections (limit, per_peer and request_ms
 * above 0): 0, or -EINVAL, -ENOMEM. */
int conn_table_init(struct conn_table *t, unsigned limit, unsigned per_peer, uint64_t request_ms);
void conn_table_free(struct conn_table *t);   /* accepts a zeroed one */

/* The peer of a connection from sa (AF_INET or AF_INET6; another family
 * or a short length is the all-zero peer, one group of its own). */
void conn_peer_of(const struct sockaddr *sa, socklen_t len, struct conn_peer *out);

/* The live (waiting or busy) connections of peer p, or of all with p NULL. */
unsigned conn_live(const struct conn_table *t, const struct conn_peer *p);

/* What to shed before a new connection from p is let in: the index of a
 * live slot, or -1 when there is room.  At p's per-peer limit one of p's,
 * else at the limit one of all: a waiting one before a busy one, the
 * oldest in its state first. */
int conn_victim(const struct conn_table *t, const struct conn_peer *p);

/* A new connection fd from p, waiting since now: its slot's index, or
 * -ENOSPC when every slot is live or shed and not yet closed. */
int conn_add(struct conn_table *t, int fd, const struct conn_peer *p, uint64_t now_ms);

/* The slot of fd that is not free: its index, or -ENOENT. */
int conn_find(const struct conn_table *t, int fd);

/* Slot i into state s, since now (CONN_FREE: forgotten).  A shed slot
 * stays shed until it is freed: the server may finish its request after. */
void conn_set(struct conn_table *t, int i, enum conn_state s, uint64_t now_ms);

/* A waiting slot whose request is overdue at now: its index (the most
 * overdue first), or -1. */
int conn_overdue(const struct conn_table *t, uint64_t now_ms);

/* When the next waiting slot falls due, or UINT64_MAX when none waits. */
uint64_t conn_next_due(const struct conn_table *t);

#endif
