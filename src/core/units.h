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

/* Formatting helpers for human messages and tables.  A size in bytes with
 * the configuration's binary suffixes and at most one decimal: "512B",
 * "1.5K", "183.5M", "1G", "-52.4M". */
void format_size(char *buf, unsigned len, double bytes);

/* A count (fds, threads) as a whole number, sign kept: "48", "-3", never
 * "-0". */
void format_count(char *buf, unsigned len, double v);

/* A count's rate per hour as a whole number followed by hourly ("/h" in a
 * sentence, "" under a per-hour column): "7168/h", "-3/h"; one that rounds
 * to 0 an hour but not a day is given per day, "5/d". */
void format_count_rate(char *buf, unsigned len, double per_hour, const char *hourly);

/* A duration: "250ms", "1.5s", "1m30s", "2h13m", "3d4h". */
void format_duration(char *buf, unsigned len, double seconds);

/* RFC 3339 UTC time with milliseconds: "2026-11-24T05:00:00.123Z". */
void format_rfc3339(uint64_t usec, char *buf, size_t len);

#endif
