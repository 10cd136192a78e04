/* boundary_csv.h — bench/boundary.c's CSV output (boundary_csv.c). */
#ifndef BENCH_BOUNDARY_CSV_H
#define BENCH_BOUNDARY_CSV_H

#include <stddef.h>

#include "boundary_rules.h"
#include "boundary_series.h"

/* Append the rows of this run (UTC time run_utc, the n shapes s and their
 * figures a) to o->csv, the header first when it is new; 0 or -errno. */
int write_csv(const struct opts *o, const char *run_utc, const struct shape *s, size_t n,
	      const struct agg (*a)[NTOOLS]);

#endif
