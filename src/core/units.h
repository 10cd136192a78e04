/* Parsers for the value syntaxes of the configuration.  Pure functions:
 * each returns 0 and stores the value, or -EINVAL (malformed, or a unit
 * that does not belong) or -ERANGE (does not fit). */
#ifndef LEAKWATCH_UNITS_H
#define LEAKWATCH_UNITS_H

#include <stddef.h>
#include <stdint.h>

/* "1G", "512M", "512MiB", "4096K", "1.5G", "1048576" (bytes); binary
 * multiples K/M/G/T with optional "i"/"iB"/"B" suffix.  Result in bytes. */
int parse_size(const char *s, double *bytes);

/* "250ms", "5s", "2m", "2min", "6h", "1d"; a bare number is an error
 * (ambiguous).  Result in milliseconds. */
int parse_duration(const char *s, uint64_t *ms);

/* A plain non-negative count: "4096", "500".  Result as double. */
int parse_count(const char *s, double *count);

/* "200M/h", "500/h", "1.5K/min", "10/s", "3/d".  The amount is a size when
 * is_size, else a count.  Result per second. */
int parse_rate(const char *s, int is_size, double *per_second);

/* "80%": 0 < N <= 100.  Result N. */
int parse_percent(const char *s, double *percent);

/* "3/h" for max_actions: a positive integer count per a duration unit or a
 * duration ("3/h", "5/30m").  Results: count and period in ms. */
int parse_count_per(const char *s, unsigned *count, uint64_t *period_ms);

/* Signal by name, with or without "SIG" ("TERM", "SIGKILL", "HUP"), or a
 * number.  Result the signal number. */
int parse_signal(const char *s, int *sig);

/* Formatting helpers for human messages: "183.5MiB", "2h13m", "52.4MiB/h". */
void format_size(char *buf, unsigned len, double bytes);
void format_duration(char *buf, unsigned len, double seconds);

/* RFC 3339 UTC time with milliseconds: "2026-11-24T05:00:00.123Z". */
void format_rfc3339(uint64_t usec, char *buf, size_t len);

#endif
