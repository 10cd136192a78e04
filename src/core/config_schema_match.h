/* The `match:` keys of a watch, and its nested `parent:` matches: part of
 * the schema (config_schema.c), apart because the criteria (globs, a regex
 * with its cost budget, a user looked up outside) are a world of their own. */
#ifndef LEAKWATCH_CONFIG_SCHEMA_MATCH_H
#define LEAKWATCH_CONFIG_SCHEMA_MATCH_H

#include "core/config.h"
#include "core/config_values.h"

/* Fill M (initialised) from the mapping V of KEY ("match" or "parent"),
 * DEPTH parents down; each problem is reported in c. */
void cfg_parse_match(struct cfg_ctx *c, const char *key, const struct cfg_node *v,
		     struct match *m, unsigned depth);

#endif
