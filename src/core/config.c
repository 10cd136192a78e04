/* The configuration's model (config.h): the names of metrics and actions,
 * making and freeing a config, finding a watch, the watch name rule.
 *
 * Kept apart from the schema (config_schema*.c), which fills these structs
 * from a document tree, so that a reader of the model (the monitor, the
 * state codec) depends on neither the schema nor any YAML. */
#include "core/config.h"
#include "core/regex_compile.h"

#include <stdlib.h>
#include <string.h>

#define MAX_NAME_LEN 64
#define NAME_ALNUM "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"

const char *metric_name(enum metric m)
{
	switch (m) {
	case METRIC_RSS:     return "rss";
	case METRIC_FDS:     return "fds";
	case METRIC_THREADS: return "threads";
	case METRIC_USS:     return "uss";
	case METRIC_PSS:     return "pss";
	default:             return "?";
	}
}

const char *action_name(enum action a)
{
	switch (a) {
	case ACTION_ALERT:        return "alert";
	case ACTION_SIGNAL:       return "signal";
	case ACTION_RESTART_UNIT: return "restart-unit";
	case ACTION_EXEC:         return "exec";
	default:                  return "?";
	}
}

bool watch_name_valid(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > MAX_NAME_LEN || !strchr(NAME_ALNUM, *s))
		return false;
	return strspn(s, NAME_ALNUM "._-") == n;
}

void config_match_init(struct match *m)
{
	memset(m, 0, sizeof(*m));
	m->python = -1;
}

void config_match_free(struct match *m)
{
	if (!m)
		return;
	regex_free(m->cmdline_rx);
	free(m->cmdline);
	free(m->comm);
	free(m->exe);
	free(m->user);
	free(m->unit);
	free(m->user_unit);
	free(m->pidfile);
	if (m->parent) {
		config_match_free(m->parent);
		free(m->parent);
	}
	config_match_init(m);
}

static void watch_free(struct watch *w)
{
	free(w->name);
	config_match_free(&w->match);
	free(w->unit);
	for (size_t i = 0; i < w->exec_len; i++)
		free(w->exec[i]);
	free(w->exec);
	free(w->group);
}

struct config *config_new(const char *path)
{
	struct config *c = calloc(1, sizeof(*c));

	if (c && !(c->path = strdup(path))) {
		free(c);
		c = NULL;
	}
	return c;
}

void config_free(struct config *c)
{
	if (!c)
		return;
	free(c->path);
	free(c->state_dir);
	free(c->metrics_textfile);
	free(c->metrics_listen);
	for (size_t i = 0; i < c->n_watches; i++)
		watch_free(&c->watches[i]);
	free(c->watches);
	free(c);
}

const struct watch *config_find_watch(const struct config *c, const char *name)
{
	if (!c || !name)
		return NULL;
	for (size_t i = 0; i < c->n_watches; i++)
		if (c->watches[i].name && strcmp(c->watches[i].name, name) == 0)
			return &c->watches[i];
	return NULL;
}

void diag_free(struct diag *d)
{
	if (!d)
		return;
	for (size_t i = 0; i < d->n; i++)
		free(d->msgs[i]);
	free(d->msgs);
	d->msgs = NULL;
	d->n = 0;
}
