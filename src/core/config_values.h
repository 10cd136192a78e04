/* Internal to the schema (config_schema.c, config_schema_match.c): its
 * context and the typed readers of tree nodes.
 *
 * Each reader reports its own problem, in one wording for every key
 * ("'KEY' must be WHAT, not VALUE"), and returns false (or NULL), so the
 * callers just go on to the next key and every problem of a file is found
 * in one pass.  The alternative, each key parsing and wording its own
 * value, would word the same mistake differently from key to key. */
#ifndef LEAKWATCH_CONFIG_VALUES_H
#define LEAKWATCH_CONFIG_VALUES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "core/config_diag.h"
#include "core/config_tree.h"

#define CFG_DESC_LEN 96

struct cfg_ctx {
	const struct cfg_tree *tree;
	struct cfg_diag *diag;
	uint64_t mem_total;    /* bytes, for "N%" sizes; 0 when unknown */
	int (*lookup_user)(const char *name, uid_t *uid);   /* NULL: no user is known */
	uint64_t regex_bytes;  /* estimated, of the cmdline regexes so far */
	bool regex_budget_spent;
};

/* Record "MESSAGE" at node N (NULL: 1:1). */
void cfg_err(struct cfg_ctx *c, const struct cfg_node *n, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* "'KEY' must be WHAT, not VALUE" at node V. */
void cfg_err_value(struct cfg_ctx *c, const struct cfg_node *v, const char *key, const char *what);

/* The node's value for a message: "'text'" (escaped, shortened), "empty",
 * "a mapping", "an empty list", "nothing" (NULL). */
void cfg_describe(const struct cfg_tree *t, const struct cfg_node *n, char *buf, size_t len);

/* The text of a scalar node, NULL for anything else or one holding a NUL. */
const char *cfg_scalar(const struct cfg_ctx *c, const struct cfg_node *n);

/* Sort a mapping's pairs into key[i]/val[i] by NAMES[i]; reports unknown,
 * duplicate and non-scalar keys.  Slots of absent keys are NULL. */
void cfg_keys(struct cfg_ctx *c, const struct cfg_node *map, const char *const *names, size_t n,
	      const struct cfg_node **key, const struct cfg_node **val);

char *cfg_strdup(struct cfg_ctx *c, const char *s);   /* sets oom on failure */

/* Where node N starts, 1-based (config.h); {0, 0} for NULL. */
struct config_pos cfg_pos(const struct cfg_node *n);

bool cfg_bool(struct cfg_ctx *c, const char *key, const struct cfg_node *v, bool *out);
bool cfg_duration(struct cfg_ctx *c, const char *key, const struct cfg_node *v, uint64_t *ms);
char *cfg_abs_path(struct cfg_ctx *c, const char *key, const struct cfg_node *v);
/* A non-empty string; WHAT describes it in the error. */
const char *cfg_string(struct cfg_ctx *c, const char *key, const struct cfg_node *v,
		       const char *what);

#endif
