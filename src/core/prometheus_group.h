/* The groups' part of the Prometheus exposition (core/prometheus.h):
 * per watch with `group:`, its sums, their trends and maxes, and its leak
 * and limit verdicts per metric (core/group_judge.h). */
#ifndef LEAKWATCH_PROMETHEUS_GROUP_H
#define LEAKWATCH_PROMETHEUS_GROUP_H

#include "core/buf.h"
#include "core/judge.h"

/* Append the group families of j to b: nothing when no watch has a
 * group (or the records are not made yet). */
void metrics_render_groups(struct buf *b, const struct judged *j);

#endif
