/* The action a verdict asks for, kept until it is asked (pending) or
 * while it is withheld (cooldown, max_actions: asked again at every
 * sample while its episode lasts): one for a watched process
 * (core/judge.h), one for a watch's group (core/group_judge.h), by the
 * same rules. */
#ifndef LEAKWATCH_ACTION_RETRY_H
#define LEAKWATCH_ACTION_RETRY_H

#include <stdbool.h>

#include "core/detect.h"
#include "core/event.h"

struct action_retry {
	int metric;                /* the action's metric; -1: none pending or withheld */
	enum event_type why;       /* EVENT_LEAK or EVENT_LIMIT */
	bool fresh;                /* of this tick's verdict, not asked yet */
};

/* None pending. */
void action_retry_init(struct action_retry *r);

/* A verdict of this tick (type t, for metric) asks for its action: one a
 * tick, a limit's before a leak's, else the first metric's. */
void action_retry_pending(struct action_retry *r, enum event_type t, int metric);

/* Is the action to be asked (again)?  s: the state of its metric (NULL:
 * none any more).  True while its episode lasts; false, and forgotten,
 * once it is over. */
bool action_retry_due(struct action_retry *r, const struct metric_state *s);

/* The action for (t, metric) was taken (withheld false: forgotten when it
 * was the one kept) or withheld (kept, to be asked again). */
void action_retry_acted(struct action_retry *r, enum event_type t, int metric, bool withheld);

#endif
