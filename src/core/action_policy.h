/* Actions, the pure half: whether a watch may act now (cooldown and
 * max_actions), and the argv and environment of an `exec` action.  The
 * side effects (signals, D-Bus, fork/exec) are in io/actor.c and its
 * backends (io/action_*.c). */
#ifndef LEAKWATCH_ACTION_H
#define LEAKWATCH_ACTION_H

#include <stdint.h>
#include <sys/types.h>

#include "core/config.h"

/* One watch's record of the actions it took (or would have, in dry-run). */
struct action_policy {
	char *name;            /* the watch's name: records survive reloads */
	uint64_t last_ms;      /* the newest action; 0 none */
	uint64_t *times;       /* ring of the newest max_actions action times */
	unsigned cap, n, head;
	struct action_policy *next;
};

enum action_gate { GATE_GO, GATE_COOLDOWN, GATE_MAX_ACTIONS };

/* May the watch act at now_ms?  GATE_GO, or why not. */
enum action_gate action_gate(const struct action_policy *p, const struct watch *w, uint64_t now_ms);

/* Record an action taken at now_ms.  0 or -ENOMEM. */
int action_record(struct action_policy *p, const struct watch *w, uint64_t now_ms);

/* Take up saved action times (oldest first) for watch w, as if its
 * actions had been recorded then.  0 or -ENOMEM. */
int action_policy_restore(struct action_policy **list, const struct watch *w,
			  const uint64_t *times, unsigned n);

/* Find or add the record of a watch by name; NULL on -ENOMEM. */
struct action_policy *action_policy_get(struct action_policy **list, const char *name);
void action_policy_free_all(struct action_policy *list);   /* accepts NULL */

/* What an action is about, for substitution and the environment. */
struct action_subject {
	pid_t pid;
	const char *watch;
	const char *metric;    /* "rss", "fds", "threads" */
	const char *event;     /* "leak" or "limit" */
	double value;
};

/* argv of an exec action with {pid}, {watch}, {metric} substituted (also
 * {event} and {value}); NULL-terminated, free with strv_free.  -ENOMEM. */
int action_argv(const struct watch *w, const struct action_subject *s, char ***argv);

/* The environment of an exec action: base (e.g. environ) without any
 * LEAKWATCH_* of its own, plus LEAKWATCH_PID, _WATCH, _METRIC, _EVENT and
 * _VALUE.  NULL-terminated, free with strv_free.  -ENOMEM. */
int action_env(char *const *base, const struct action_subject *s, char ***env);

void strv_free(char **v);   /* accepts NULL */

#endif
