/* Internal to the config parser (config.c, config_match.c, config_parse.c):
 * the parse context, diagnostics collection and the typed readers of YAML
 * nodes.  Each reader reports its own problem and returns false (or NULL),
 * so the callers just go on to the next key. */
#ifndef LEAKWATCH_CONFIG_PARSE_H
#define LEAKWATCH_CONFIG_PARSE_H

#include "core/config.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <yaml.h>

#define CFG_DESC_LEN 96
#define CFG_MAX_ERRORS 1000   /* more are counted, not kept */
#define CFG_ALNUM "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"

struct cfg_error {
	size_t line, column;   /* 0-based, as in libyaml marks */
	size_t seq;            /* order of discovery, to sort stably */
	char *msg;
};

struct cfg_ctx {
	const char *path;
	yaml_document_t *doc;
	uint64_t mem_total;
	int (*lookup_user)(const char *name, uid_t *uid);
	struct cfg_error *errs;
	size_t n_errs;
	size_t n_dropped;      /* errors past CFG_MAX_ERRORS, only counted */
	uint64_t regex_bytes;  /* estimated, of the cmdline regexes so far */
	bool regex_budget_spent;
	bool oom;
};

/* Record "MESSAGE" at node N (NULL: 1:1) or at a 0-based line and column. */
void cfg_err(struct cfg_ctx *c, const yaml_node_t *n, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
void cfg_err_mark(struct cfg_ctx *c, size_t line, size_t column, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/* "'KEY' must be WHAT, not VALUE" at node V. */
void cfg_err_value(struct cfg_ctx *c, const yaml_node_t *v, const char *key, const char *what);

/* Sort the collected errors into DIAGS as "FILE:LINE:COLUMN: error: MESSAGE".
 * Returns 0 when there were none, -EINVAL when there were, -ENOMEM. */
int cfg_finish(struct cfg_ctx *c, struct diag *diags);

/* The node's value for a message: "'text'" (escaped, shortened), "empty",
 * "a mapping", "an empty list", ... */
void cfg_describe(const yaml_node_t *n, char *buf, size_t len);

/* The text of a scalar node, NULL for anything else. */
const char *cfg_scalar(const yaml_node_t *n);

/* Sort a mapping's pairs into key[i]/val[i] by NAMES[i]; reports unknown,
 * duplicate and non-scalar keys.  Slots of absent keys are NULL. */
void cfg_keys(struct cfg_ctx *c, yaml_node_t *map, const char *const *names, size_t n,
	      yaml_node_t **key, yaml_node_t **val);

char *cfg_strdup(struct cfg_ctx *c, const char *s);   /* sets oom on failure */

bool cfg_bool(struct cfg_ctx *c, const char *key, const yaml_node_t *v, bool *out);
bool cfg_duration(struct cfg_ctx *c, const char *key, const yaml_node_t *v, uint64_t *ms);
char *cfg_abs_path(struct cfg_ctx *c, const char *key, const yaml_node_t *v);
/* A non-empty string; WHAT describes it in the error. */
const char *cfg_string(struct cfg_ctx *c, const char *key, const yaml_node_t *v,
		       const char *what);

/* config_match.c */
void cfg_match_init(struct match *m);
void cfg_match_free(struct match *m);
void cfg_parse_match(struct cfg_ctx *c, const char *key, yaml_node_t *v,
		     struct match *m, unsigned depth);

#endif
