/* Where events go: the journal, the console (stderr) or JSON lines
 * (stdout), chosen by --log-target.  Rendering is core/event_format.c's;
 * this only picks the sink and ships the bytes. */
#ifndef LEAKWATCH_EVENT_SINK_H
#define LEAKWATCH_EVENT_SINK_H

#include <stdbool.h>

#include "core/event.h"

enum log_target { TARGET_AUTO, TARGET_JOURNAL, TARGET_CONSOLE, TARGET_JSON };

/* "auto", "journal", "console", "json": 0, or -EINVAL. */
int log_target_parse(const char *s, enum log_target *t);

/* Whether stderr is the journal's stream: $JOURNAL_STREAM ("DEV:INO", set
 * by systemd) names its device and inode.  Then the journal stamps each
 * line with its own time, and a console line needs none. */
bool stderr_is_journal(void);

/* auto -> journal when stderr is the journal's stream (JOURNAL_STREAM) or
 * a journal socket exists, else console; any other target as it is. */
enum log_target log_target_resolve(enum log_target t);

/* Send one described event to the target.  0 or -errno.  A console line
 * starts with the event's time when stamp (core/event_format.h).  When the
 * journal refuses it, the console line goes to stderr instead (so nothing
 * is lost) and the journal's -errno is returned. */
int event_emit(enum log_target t, bool stamp, const struct event *e);

#endif
