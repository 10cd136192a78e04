/* History that survives a restart: the watched processes' timelines and
 * metric states (buckets, episode flags), and the groups' (version 6 on),
 * encoded into one binary image,
 * streamed to a temporary file and renamed over the old one (daemon/persist.h),
 * and read back at start for the processes that are still the same (pid and
 * start time, same boot).
 *
 * The image, fixed-width fields in the host's byte order:
 *   header   magic "LWSTATE\n", u32 version, boot id (40 bytes, NUL-padded),
 *            u64 time of the save (µs), u32 count of records, u64 payload
 *            length, u32 CRC-32 of the payload: STATE_HEADER_LEN bytes
 *   record   u32 pid, u64 start ticks, u64 window (ms), u16 name length,
 *            the watch's name; the process's timeline, once: u64 bucket
 *            width, u64 origin, i64 head, u64 time of the newest sample,
 *            per bucket u32 count and f32 time offset; then per metric (rss,
 *            fds, threads) per bucket f64 sum, f32 min, f32 max (all zero
 *            in a bucket without samples), f64 latest value, u8 leaking, u8
 *            in limit, u32 over, u32 under, u32 streak, u64 streak start,
 *            the floor record (version 3 on; core/floors.h): 16 f32
 *            floors, 16 f32 ceilings, i32 newest quarter, u32 run;
 *            the verdict marks (version 4 on; detect.h): u64 leak, u64
 *            limit, a bit per ring slot, none in a slot without samples;
 *            then (version 5 on) u8 1 when the process keeps uss and
 *            pss (core/judge.h: struct sparse_metrics), followed by their
 *            timeline (on the process's buckets: the same width and
 *            origin) and the two metrics, as above; u8 0 when not;
 *            a metric the daemon may not read (fds of another user's
 *            process) holds -1 in every sample and as its latest value,
 *            which marks it unread when it is restored
 *   actions  u32 count of watches, and per watch u16 name length, the name,
 *            u32 count of times, u64 times (CLOCK_MONOTONIC ms), oldest first
 * (cooldown and max_actions hold across a restart);
 *   groups   (version 6 on) u32 count, and per group (core/group_judge.h)
 *            u16 name length, the watch's name, u64 window (ms), u64 time
 *            of its first sample (boot-time ms), then per metric (rss, fds,
 *            threads) its timeline and the metric, as a record's; a watch's
 *            group whose name and window are the same at the start takes
 *            it over.  The encoder hands the
 * image on in chunks and fills the header in last, so the whole image is
 * never in memory.  Decoding checks every length and value, so a
 * truncated, corrupt or foreign file is refused with a reason, never
 * trusted.  Pure: no I/O here. */
#ifndef LEAKWATCH_STATE_H
#define LEAKWATCH_STATE_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "core/buf.h"
#include "core/config.h"
#include "core/detect.h"

#define STATE_VERSION    6
#define STATE_VERSION_OLDEST 2          /* read too: 2 has no floor records, 2 and 3 no verdict
					 * marks, 2 to 4 no uss and pss, 2 to 5 no groups */
#define STATE_MAX_SIZE   (256u << 20)   /* refuse larger files */
#define STATE_HEADER_LEN 76
#define STATE_CHUNK      (64u << 10)    /* the encoder's output comes in pieces of at most this */

struct judged;
struct watched;
struct watch;

/* One process as saved. */
struct saved_proc {
	struct saved_proc *next;
	pid_t pid;
	unsigned long long start_ticks;
	char *watch;
	uint64_t window_ms;
	struct timeline tl;
	struct metric_state m[METRIC_INLINE];
	bool has_sparse;                 /* uss and pss saved (version 5 on) */
	struct timeline sparse_tl;       /* theirs, on tl's buckets */
	struct metric_state sparse_m[METRIC_SPARSE];
};

/* One watch's action times, oldest first (CLOCK_MONOTONIC ms). */
struct saved_policy {
	struct saved_policy *next;
	char *watch;
	uint32_t n;
	uint64_t *times;
};

/* One watch's group as saved (version 6 on). */
struct saved_group {
	struct saved_group *next;
	char *watch;
	uint64_t window_ms;
	uint64_t first_ms;
	struct timeline tl[GROUP_METRICS];
	struct metric_state m[GROUP_METRICS];
};

struct saved_state {
	char boot_id[40];
	uint64_t saved_usec;        /* wall clock of the save */
	struct saved_proc *procs;
	size_t n;
	struct saved_policy *policies;
	struct saved_group *groups;
};

uint32_t crc32_update(uint32_t crc, const void *data, size_t len);

/* Where the encoder's bytes go, in order: 0, or -errno to stop it. */
typedef int (*state_write_fn)(void *ctx, const void *data, size_t len);

/* Encode every watched process of j, and the action records (NULL: none),
 * through sink, in pieces of at most STATE_CHUNK bytes: first a
 * placeholder of STATE_HEADER_LEN bytes, then the payload.  The header
 * proper (its counts, length and checksum are known only at the end) is
 * then in header, to be written over the placeholder.  0, -ENOMEM, or the
 * error the sink returned (nothing is written after it). */
struct action_policy;
int state_encode(const struct judged *j, const struct action_policy *policies, const char *boot_id,
		 state_write_fn sink, void *ctx, unsigned char header[STATE_HEADER_LEN]);

/* The same, the whole image appended to b: 0 or -ENOMEM. */
int state_encode_buf(struct buf *b, const struct judged *j, const struct action_policy *policies,
		     const char *boot_id);

/* 0 and *out, or -EINVAL with a reason ("not a leakwatch state file",
 * "truncated", "checksum mismatch", ...) in why. */
int state_decode(const void *data, size_t len, struct saved_state *out, char *why, size_t why_len);

void saved_state_clear(struct saved_state *s);   /* accepts a zeroed one */
void saved_proc_free(struct saved_proc *p);      /* accepts NULL; one record */

/* The saved record of w's process (the same pid and start time), taken
 * off *list and freed: true when it continues w's history (the same
 * watch name and window, a history to continue), which it then holds,
 * its uss and pss too when both w and the record keep them; a metric
 * saved unreadable (its -1s) is marked so in w->unreadable. */
bool saved_claim(struct saved_proc **list, struct watched *w, const struct watch *wc);

/* The saved group of g's watch wc (by its name), taken off *list and
 * freed: true when g then continues its history (the same window, a
 * sample to continue from: core/group_judge.h group_restore); false when
 * there is none, or it cannot be continued. */
struct group_record;
bool saved_group_claim(struct saved_group **list, struct group_record *g, const struct watch *wc);

#endif
