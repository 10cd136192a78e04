/* The `rss:`, `fds:` and `threads:` rules of a watch: part of the schema
 * (config_schema.c), apart because each metric reads its numbers its own
 * way (a size for rss, a count for the others, or a percentage of the
 * process's own limit) and says so in its messages. */
#ifndef LEAKWATCH_CONFIG_SCHEMA_METRIC_H
#define LEAKWATCH_CONFIG_SCHEMA_METRIC_H

#include "core/config.h"
#include "core/config_values.h"

/* Fill R from the mapping V of metric M; each problem is reported in c. */
void cfg_parse_metric(struct cfg_ctx *c, enum metric m, const struct cfg_node *v,
		      struct metric_rule *r);

#endif
