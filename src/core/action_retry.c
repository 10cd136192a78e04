/* The pending or withheld action (see action_retry.h).  Why apart: a
 * process's record and a group's keep the same three facts about their
 * action and follow the same rules with them (one a tick, a limit's
 * first; asked again while the episode lasts); written in each, the two
 * copies could drift, as a precedence slip in one of them showed.  Costs:
 * 12 bytes in each record, where the three fields were. */
#include "core/action_retry.h"

void action_retry_init(struct action_retry *r)
{
	*r = (struct action_retry){ .metric = -1 };
}

void action_retry_pending(struct action_retry *r, enum event_type t, int metric)
{
	if (r->fresh && !(t == EVENT_LIMIT && r->why == EVENT_LEAK))
		return;   /* one a tick: a limit before a leak, else the first metric's */
	r->metric = metric;
	r->why = t;
	r->fresh = true;
}

bool action_retry_due(struct action_retry *r, const struct metric_state *s)
{
	if (r->metric < 0)
		return false;
	if (s && (r->why == EVENT_LEAK ? s->leaking : s->in_limit))
		return true;
	r->metric = -1;   /* the episode is over */
	return false;
}

void action_retry_acted(struct action_retry *r, enum event_type t, int metric, bool withheld)
{
	r->fresh = false;
	if (withheld) {
		r->metric = metric;
		r->why = t;
	} else if (r->metric == metric) {
		r->metric = -1;
	}
}
