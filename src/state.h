/* History that survives a restart: the watched processes' metric states
 * (buckets, episode flags) encoded into one binary image, written whole
 * and renamed over the old one (fsutil.c), and read back at start for the
 * processes that are still the same (pid and start time, same boot).
 *
 * The image: a header (magic, format version, boot id, counts, payload
 * length, CRC-32 of the payload), a record per process, and each watch's
 * recent action times (cooldown and max_actions hold across a restart).  Decoding
 * checks every length, so a truncated, corrupt or foreign file is refused
 * with a reason, never trusted.  Pure: no I/O here. */
#ifndef LEAKWATCH_STATE_H
#define LEAKWATCH_STATE_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "buf.h"
#include "detect.h"

#define STATE_VERSION  1
#define STATE_MAX_SIZE (256u << 20)   /* refuse larger files */

struct monitor;

/* One process as saved. */
struct saved_proc {
	struct saved_proc *next;
	pid_t pid;
	unsigned long long start_ticks;
	char *watch;
	uint64_t window_ms;
	struct metric_state m[METRIC_COUNT];
};

/* One watch's action times, oldest first (CLOCK_MONOTONIC ms). */
struct saved_policy {
	struct saved_policy *next;
	char *watch;
	uint32_t n;
	uint64_t *times;
};

struct saved_state {
	char boot_id[40];
	uint64_t saved_usec;        /* wall clock of the save */
	struct saved_proc *procs;
	size_t n;
	struct saved_policy *policies;
};

uint32_t crc32_update(uint32_t crc, const void *data, size_t len);

/* Encode every watched process of m, and the action records (NULL: none). */
struct action_policy;
void state_encode(struct buf *b, const struct monitor *m, const struct action_policy *policies,
		  const char *boot_id);

/* 0 and *out, or -EINVAL with a reason ("not a leakwatch state file",
 * "truncated", "checksum mismatch", ...) in why. */
int state_decode(const void *data, size_t len, struct saved_state *out, char *why, size_t why_len);

void saved_state_clear(struct saved_state *s);   /* accepts a zeroed one */
void saved_proc_free(struct saved_proc *p);      /* accepts NULL; one record */

#endif
