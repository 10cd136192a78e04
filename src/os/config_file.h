/* Loading a configuration the way both programs report it: every
 * diagnostic on stderr, MemTotal (for "N%" limits) from libproc2. */
#ifndef LEAKWATCH_CFGLOAD_H
#define LEAKWATCH_CFGLOAD_H

#include <stddef.h>

#include "core/config.h"

#define DEFAULT_CONFIG "/etc/leakwatch/leakwatch.yaml"

/* MemTotal in bytes; 0 when unknown. */
unsigned long long mem_total(void);

/* Load PATH, printing each diagnostic to stderr.  When summary is given,
 * the first diagnostics also go there, joined by "; " as room allows. */
int config_load_report(const char *path, struct config **out, char *summary, size_t len);

/* leakwatchd -t and leakwatchctl check-config: 0 ("configuration OK" on
 * stdout) or the load's negative errno. */
int config_check(const char *path);

#endif
