/* Actions, the pure half (see action_policy.h): the gate, the records it
 * reads, and the argv and environment of an exec action.
 *
 * "max_actions in any period" needs only the newest max_actions action
 * times, so each watch keeps them in a ring of that size (8 bytes each) and
 * the gate compares the oldest of them with the period: O(1), whatever the
 * period.  A record is found by the watch's name (a walk of a list with one
 * entry per watch name that asked to act), not by its index, so a reload
 * that reorders, adds or removes watches keeps the cooldowns; a changed
 * max_actions resizes the ring, keeping the newest times, and
 * action_policy_restore() takes up the times the state file saved (only
 * those newer than what is held, so nothing is counted twice).
 *
 * Substitution is plain text per argument: each known {name} is replaced,
 * an unknown one stays as written, and no shell reads the result
 * (io/action_exec.c).  The environment drops every LEAKWATCH_* inherited
 * from leakwatchd's own: the base comes first, so an inherited
 * LEAKWATCH_PID is what getenv(3) would find instead of the subject's.
 * Allocation happens only when an action runs, which is rare. */
#include "core/action_policy.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum action_gate action_gate(const struct action_policy *p, const struct watch *w, uint64_t now_ms)
{
	if (p->last_ms && now_ms < p->last_ms + w->cooldown_ms)
		return GATE_COOLDOWN;
	/* max_actions in any period: the oldest of the newest max_actions
	 * actions must be a whole period ago. */
	if (w->max_actions && p->n >= w->max_actions && p->cap >= w->max_actions) {
		unsigned oldest = (p->head + p->cap - w->max_actions) % p->cap;

		if (now_ms < p->times[oldest] + w->max_actions_period_ms)
			return GATE_MAX_ACTIONS;
	}
	return GATE_GO;
}

int action_record(struct action_policy *p, const struct watch *w, uint64_t now_ms)
{
	unsigned want = w->max_actions ? w->max_actions : 1;

	if (p->cap != want) {
		/* max_actions changed (a reload): keep the newest times that fit */
		uint64_t *t = calloc(want, sizeof(*t));
		unsigned keep = p->n < want ? p->n : want;

		if (!t)
			return -ENOMEM;
		for (unsigned i = 0; i < keep; i++)
			t[keep - 1 - i] = p->times[(p->head + p->cap - 1 - i) % p->cap];
		free(p->times);
		p->times = t;
		p->cap = want;
		p->n = keep;
		p->head = keep % want;
	}
	p->times[p->head] = now_ms;
	p->head = (p->head + 1) % p->cap;
	if (p->n < p->cap)
		p->n++;
	p->last_ms = now_ms;
	return 0;
}

int action_policy_restore(struct action_policy **list, const struct watch *w,
			  const uint64_t *times, unsigned n)
{
	struct action_policy *p = action_policy_get(list, w->name);

	if (!p)
		return -ENOMEM;
	for (unsigned i = 0; i < n; i++)
		if (times[i] > p->last_ms && action_record(p, w, times[i]) < 0)
			return -ENOMEM;
	return 0;
}

struct action_policy *action_policy_get(struct action_policy **list, const char *name)
{
	struct action_policy *p;

	for (p = *list; p; p = p->next)
		if (strcmp(p->name, name) == 0)
			return p;
	p = calloc(1, sizeof(*p));
	if (!p || !(p->name = strdup(name))) {
		free(p);
		return NULL;
	}
	p->next = *list;
	*list = p;
	return p;
}

void action_policy_free_all(struct action_policy *list)
{
	while (list) {
		struct action_policy *next = list->next;

		free(list->name);
		free(list->times);
		free(list);
		list = next;
	}
}

void strv_free(char **v)
{
	if (!v)
		return;
	for (char **p = v; *p; p++)
		free(*p);
	free(v);
}

static void format_value(char *buf, size_t len, double v)
{
	snprintf(buf, len, "%.0f", round(v));
}

/* Copy one argument, replacing each known {name}; unknown braces stay. */
static char *substitute(const char *arg, const struct action_subject *s)
{
	char pid[24], value[40];
	const struct { const char *key, *val; } vars[] = {
		{ "{pid}", pid }, { "{watch}", s->watch }, { "{metric}", s->metric },
		{ "{event}", s->event }, { "{value}", value },
	};
	size_t len = 0, cap = strlen(arg) + 1;
	char *out = malloc(cap);

	snprintf(pid, sizeof(pid), "%d", (int)s->pid);
	format_value(value, sizeof(value), s->value);
	if (!out)
		return NULL;
	while (*arg) {
		const char *val = NULL;
		size_t klen = 0, vlen;

		for (size_t i = 0; i < sizeof(vars) / sizeof(vars[0]); i++)
			if (vars[i].val && strncmp(arg, vars[i].key, strlen(vars[i].key)) == 0) {
				val = vars[i].val;
				klen = strlen(vars[i].key);
				break;
			}
		if (!val) {
			val = arg;
			klen = vlen = 1;
		} else {
			vlen = strlen(val);
		}
		if (len + vlen + 1 > cap) {
			char *n = realloc(out, cap = (len + vlen + 1) * 2);

			if (!n) {
				free(out);
				return NULL;
			}
			out = n;
		}
		memcpy(out + len, val, vlen);
		len += vlen;
		arg += klen;
	}
	out[len] = '\0';
	return out;
}

int action_argv(const struct watch *w, const struct action_subject *s, char ***argv)
{
	char **v = calloc(w->exec_len + 1, sizeof(*v));

	if (!v)
		return -ENOMEM;
	for (size_t i = 0; i < w->exec_len; i++)
		if (!(v[i] = substitute(w->exec[i], s))) {
			strv_free(v);
			return -ENOMEM;
		}
	*argv = v;
	return 0;
}

int action_env(char *const *base, const struct action_subject *s, char ***env)
{
	size_t n = 0, k = 0;
	char **v, value[40];

	for (char *const *p = base; p && *p; p++)
		n++;
	v = calloc(n + 6, sizeof(*v));
	if (!v)
		return -ENOMEM;
	for (char *const *p = base; p && *p; p++)
		if (strncmp(*p, "LEAKWATCH_", 10) != 0 && !(v[k++] = strdup(*p)))
			goto nomem;
	format_value(value, sizeof(value), s->value);
	if (asprintf(&v[k++], "LEAKWATCH_PID=%d", (int)s->pid) < 0 ||
	    asprintf(&v[k++], "LEAKWATCH_WATCH=%s", s->watch) < 0 ||
	    asprintf(&v[k++], "LEAKWATCH_METRIC=%s", s->metric) < 0 ||
	    asprintf(&v[k++], "LEAKWATCH_EVENT=%s", s->event) < 0 ||
	    asprintf(&v[k++], "LEAKWATCH_VALUE=%s", value) < 0) {
		v[k - 1] = NULL;   /* asprintf leaves it undefined on failure */
		goto nomem;
	}
	*env = v;
	return 0;
nomem:
	strv_free(v);
	return -ENOMEM;
}
