/* What leakwatchd keeps on disk, under its state directory: the history
 * (STATE_FILE), so that a restart does not start every trend afresh, and
 * the incidents (capture.h) captured before actions.
 *
 * The history is core/state_codec.h's image streamed to a temporary file
 * and renamed over the old one, so that a reader (the next start of the
 * daemon) sees the old file or the new one, never a part; and memory
 * stays flat however many processes are saved.  It is saved every bucket
 * of the shortest window (a crash loses that much at most), but at least
 * once a minute and at most every interval, and at stop; it is used again
 * only within the same boot (the boot id), as pids and start times mean
 * nothing after a reboot.
 *
 * What goes wrong is told through the notice sink (notice.h), once while
 * it lasts: a save that keeps failing is one error event, and one log
 * line when it works again. */
#ifndef LEAKWATCH_PERSIST_H
#define LEAKWATCH_PERSIST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/event.h"
#include "daemon/notice.h"

struct actor;
struct config;
struct monitor;
struct proc_handle;
struct judged;
struct watched;
struct action_policy;

struct persist {
	const struct config *cfg;  /* state_dir, the watches' windows (persist_set_config) */
	struct monitor *mon;       /* whose history is saved and restored */
	struct actor *actor;       /* whose action records are saved and restored */
	struct notice_sink say;
	uint64_t save_every_ms;    /* how often the history is saved */
	uint64_t saved_ms;         /* when it was last saved (boot-time ms) */
	bool save_failing;         /* the last save failed (reported once) */
	char boot_id[40];
};

/* Borrow cfg, mon and actor (they outlive p); nothing is read yet.  p
 * holds no resource: there is nothing to free. */
void persist_init(struct persist *p, const struct config *cfg, struct monitor *mon, struct actor *actor,
		  const struct notice_sink *say);

/* At start: read the boot id, set the save period, load the saved history
 * for the processes the first scan finds again, and tidy the incidents. */
void persist_start(struct persist *p);

/* A new configuration (the state directory, the windows): from the next save. */
void persist_set_config(struct persist *p, const struct config *cfg);

/* After each tick: save when the period is over. */
void persist_tick(struct persist *p, uint64_t now_ms);

/* Save now (at stop). */
void persist_save(struct persist *p);

/* The monitor's capture_fn (ctx: the struct persist): the diagnostics of w
 * under STATE_DIR/incidents, their directory into dir.  0 or -errno; an
 * error other than the process being gone is also told. */
int persist_capture(void *ctx, const struct watched *w, const struct proc_handle *h, enum event_type why,
		    int metric, char *dir, size_t len);

/* Save every watched process of j and the action records (NULL: none) to
 * path, mode 0600, fdatasync'd when sync.  0 or -errno; on failure the
 * file at path is left as it was, and no temporary file remains. */
int state_save(const char *path, const struct judged *j, const struct action_policy *policies,
	       const char *boot_id, bool sync);

#endif
