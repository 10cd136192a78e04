/* The `group:` mapping of a watch: the rules judged on the sum over the
 * watch's processes (core/group_judge.h).  Part of the schema
 * (config_schema.c), apart because a group takes the metric rules with
 * two restrictions of its own, said in its own words. */
#ifndef LEAKWATCH_CONFIG_SCHEMA_GROUP_H
#define LEAKWATCH_CONFIG_SCHEMA_GROUP_H

#include "core/config.h"
#include "core/config_values.h"

/* Fill w->group (allocated) from the mapping V; each problem is reported
 * in c.  w->match is read already (a user_unit cannot be restarted). */
void cfg_parse_group(struct cfg_ctx *c, const struct cfg_node *v, struct watch *w);

#endif
