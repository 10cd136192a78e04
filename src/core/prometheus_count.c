/* The event counters behind leakwatch_events_total and
 * leakwatch_actions_total (see prometheus.h): a list of (watch, event,
 * action, result) counts, fed with every event.  Apart from the renderer
 * (prometheus.c), which only reads them.  A list, not a table: the
 * distinct keys are a few per watch, and a count that cannot be allocated
 * is lost, not fatal (an event is never refused for it). */
#include "core/prometheus.h"

#include <stdlib.h>
#include <string.h>

static const char *or_empty(const char *s)
{
	return s ? s : "";
}

void metrics_count_event(struct metrics_counters *c, const struct event *e)
{
	const char *watch = or_empty(e->watch);
	const char *action = e->type == EVENT_ACTION ? or_empty(e->action) : "";
	const char *result = e->type == EVENT_ACTION ? or_empty(e->result) : "";
	struct counter *k;

	for (k = c->list; k; k = k->next)
		if (k->type == e->type && strcmp(k->watch, watch) == 0 &&
		    strcmp(k->action, action) == 0 && strcmp(k->result, result) == 0) {
			k->n++;
			return;
		}
	k = calloc(1, sizeof(*k));
	if (!k)
		return;
	k->watch = strdup(watch);
	k->action = strdup(action);
	k->result = strdup(result);
	if (!k->watch || !k->action || !k->result) {
		free(k->watch);
		free(k->action);
		free(k->result);
		free(k);
		return;
	}
	k->type = e->type;
	k->n = 1;
	k->next = c->list;
	c->list = k;
}

void metrics_counters_free(struct metrics_counters *c)
{
	while (c->list) {
		struct counter *k = c->list;

		c->list = k->next;
		free(k->watch);
		free(k->action);
		free(k->result);
		free(k);
	}
}
