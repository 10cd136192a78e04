/* Parsers and formatters for the value syntaxes of the configuration.
 *
 * Numbers are scanned by hand rather than with strtod(3): strtod accepts
 * signs, leading blanks, hex, exponents, "inf" and "nan", and follows the
 * locale's decimal point; none of that belongs in a config value. */
#include "core/units.h"

#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#define MS_PER_S   1000.0
#define MAX_BYTES  9223372036854775807.0   /* 2^63 - 1: 8 EiB */
#define MAX_COUNT  1e15
#define MAX_MS     18446744073709549568.0  /* largest double below 2^64 */

/* A decimal number: DIGITS [ "." DIGITS ].  Advances *p past it. */
static int scan_number(const char **p, double *v, int allow_fraction)
{
	const char *s = *p;
	double x = 0, scale = 0.1;

	if (*s < '0' || *s > '9')
		return -EINVAL;
	while (*s >= '0' && *s <= '9')
		x = x * 10 + (*s++ - '0');
	if (*s == '.' && allow_fraction) {
		s++;
		if (*s < '0' || *s > '9')
			return -EINVAL;
		while (*s >= '0' && *s <= '9') {
			x += (*s++ - '0') * scale;
			scale /= 10;
		}
	}
	if (!isfinite(x))
		return -ERANGE;
	*p = s;
	*v = x;
	return 0;
}

/* The multiplier of a size suffix: "", "B", "K", "KB", "Ki", "KiB" (any case
 * for the letters; MB is taken as MiB since all sizes are binary). */
static int size_suffix(const char *s, double *mult)
{
	static const char letters[] = "KMGT";
	const char *l;
	size_t n = strlen(s);

	if (n == 0 || (n == 1 && (*s == 'B' || *s == 'b'))) {
		*mult = 1;
		return 0;
	}
	l = strchr(letters, *s & ~0x20);
	if (!l)
		return -EINVAL;
	s++;
	if (*s == 'i' || *s == 'I')
		s++;
	if (*s == 'B' || *s == 'b')
		s++;
	if (*s)
		return -EINVAL;
	*mult = ldexp(1, 10 * (int)(l - letters + 1));
	return 0;
}

int parse_size(const char *s, double *bytes)
{
	double v, mult;
	int r;

	if (!s)
		return -EINVAL;
	r = scan_number(&s, &v, 1);
	if (r < 0)
		return r;
	r = size_suffix(s, &mult);
	if (r < 0)
		return r;
	v *= mult;
	if (v > MAX_BYTES)
		return -ERANGE;
	*bytes = v;
	return 0;
}

/* Milliseconds in one duration unit, or 0 when UNIT (LEN bytes) is none. */
static double duration_unit(const char *unit, size_t len)
{
	static const struct { const char *name; double ms; } units[] = {
		{ "ms", 1 }, { "s", 1000 }, { "m", 60000 }, { "min", 60000 },
		{ "h", 3600000 }, { "d", 86400000 },
	};

	for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++)
		if (strlen(units[i].name) == len && strncmp(units[i].name, unit, len) == 0)
			return units[i].ms;
	return 0;
}

/* One or more NUMBER UNIT pieces ("1h30m"), or a bare "0". */
int parse_duration(const char *s, uint64_t *ms)
{
	double total = 0;

	if (!s || !*s)
		return -EINVAL;
	if (strspn(s, "0") == strlen(s)) {
		*ms = 0;
		return 0;
	}
	while (*s) {
		const char *unit;
		double v, mult;
		int r = scan_number(&s, &v, 1);

		if (r < 0)
			return r;
		unit = s;
		while ((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z'))
			s++;
		mult = duration_unit(unit, (size_t)(s - unit));
		if (mult == 0)
			return -EINVAL;
		total += v * mult;
	}
	total = round(total);
	if (total > MAX_MS)
		return -ERANGE;
	*ms = (uint64_t)total;
	return 0;
}

/* A count that is the whole of s: whole, or with a fraction when allowed. */
static int scan_count(const char *s, int fraction, double *count)
{
	double v;
	int r;

	if (!s)
		return -EINVAL;
	r = scan_number(&s, &v, fraction);
	if (r < 0)
		return r;
	if (*s)
		return -EINVAL;
	if (v > MAX_COUNT)
		return -ERANGE;
	*count = v;
	return 0;
}

int parse_count(const char *s, double *count)
{
	return scan_count(s, 0, count);
}

/* The seconds in a rate's or count's period unit, 0 when none. */
static double period_unit(const char *s)
{
	double ms = duration_unit(s, strlen(s));

	return ms >= 1000 ? ms / MS_PER_S : 0;
}

int parse_rate(const char *s, int is_size, double *per_second)
{
	const char *slash;
	double amount, secs;
	char *head;
	int r;

	if (!s || !(slash = strrchr(s, '/')))
		return -EINVAL;
	secs = period_unit(slash + 1);
	if (secs == 0)
		return -EINVAL;
	head = strndup(s, (size_t)(slash - s));
	if (!head)
		return -ENOMEM;
	r = is_size ? parse_size(head, &amount) : scan_count(head, 1, &amount);
	free(head);
	if (r < 0)
		return r;
	*per_second = amount / secs;
	return 0;
}

int parse_percent(const char *s, double *percent)
{
	double v;
	int r;

	if (!s)
		return -EINVAL;
	r = scan_number(&s, &v, 1);
	if (r < 0)
		return r;
	if (strcmp(s, "%") != 0)
		return -EINVAL;
	if (v <= 0 || v > 100)
		return -ERANGE;
	*percent = v;
	return 0;
}

int parse_count_per(const char *s, unsigned *count, uint64_t *period_ms)
{
	const char *slash, *p;
	uint64_t ms;
	double n, secs;
	int r;

	if (!s || !(slash = strchr(s, '/')))
		return -EINVAL;
	p = s;
	r = scan_number(&p, &n, 0);
	if (r < 0)
		return r;
	if (p != slash)
		return -EINVAL;
	secs = period_unit(slash + 1);
	if (secs > 0) {
		ms = (uint64_t)(secs * MS_PER_S);
	} else {
		r = parse_duration(slash + 1, &ms);
		if (r < 0)
			return r;
	}
	if (n < 1 || n > 1000000 || ms == 0)
		return -ERANGE;
	*count = (unsigned)n;
	*period_ms = ms;
	return 0;
}

/* "RTMIN", "RTMIN+3", "RTMAX-2" */
static int parse_rt_signal(const char *s, int *sig)
{
	int base, sign;
	double off = 0;

	if (strncasecmp(s, "RTMIN", 5) == 0) {
		base = SIGRTMIN;
		sign = 1;
	} else if (strncasecmp(s, "RTMAX", 5) == 0) {
		base = SIGRTMAX;
		sign = -1;
	} else {
		return -EINVAL;
	}
	s += 5;
	if (*s) {
		if (*s != (sign > 0 ? '+' : '-'))
			return -EINVAL;
		s++;
		if (scan_number(&s, &off, 0) < 0 || *s)
			return -EINVAL;
	}
	if (off > SIGRTMAX - SIGRTMIN)
		return -ERANGE;
	*sig = base + sign * (int)off;
	return 0;
}

int parse_signal(const char *s, int *sig)
{
	double n;

	if (!s || !*s)
		return -EINVAL;
	if (*s >= '0' && *s <= '9') {
		int r = parse_count(s, &n);

		if (r < 0)
			return r;
		if (n < 1 || n > SIGRTMAX)
			return -ERANGE;
		*sig = (int)n;
		return 0;
	}
	if (strncasecmp(s, "SIG", 3) == 0)
		s += 3;
	for (int i = 1; i < SIGRTMIN; i++) {
		const char *name = sigabbrev_np(i);

		if (name && strcasecmp(name, s) == 0) {
			*sig = i;
			return 0;
		}
	}
	return parse_rt_signal(s, sig);
}

/* "%.1f" without a trailing ".0". */
static void format_one_decimal(char *buf, unsigned len, double v, const char *unit)
{
	double r = round(v * 10) / 10;

	if (r == floor(r))
		snprintf(buf, len, "%.0f%s", r, unit);
	else
		snprintf(buf, len, "%.1f%s", r, unit);
}

/* The suffixes are the configuration's (binary, as parse_size reads
 * them): what an event or a table says can be pasted into a rule. */
void format_size(char *buf, unsigned len, double bytes)
{
	static const char *const units[] = { "K", "M", "G", "T", "P", "E" };
	const char *sign = bytes < 0 && round(bytes) != 0 ? "-" : "";
	double v = fabs(bytes);
	char tmp[48];
	unsigned i = 0;

	if (!buf || len == 0)
		return;
	if (!isfinite(bytes)) {
		snprintf(buf, len, "%s", isnan(bytes) ? "nan" : bytes < 0 ? "-inf" : "inf");
		return;
	}
	if (v < 1024) {
		snprintf(buf, len, "%s%.0fB", sign, v);
		return;
	}
	v /= 1024;
	/* 1023.96K would print as "1024K": move up a unit first. */
	while (round(v * 10) / 10 >= 1024 && i + 1 < sizeof(units) / sizeof(units[0])) {
		v /= 1024;
		i++;
	}
	format_one_decimal(tmp, sizeof(tmp), v, units[i]);
	snprintf(buf, len, "%s%s", sign, tmp);
}

void format_count(char *buf, unsigned len, double v)
{
	if (!buf || len == 0)
		return;
	if (!isfinite(v))
		snprintf(buf, len, "%s", isnan(v) ? "nan" : v < 0 ? "-inf" : "inf");
	else
		snprintf(buf, len, "%.0f", round(v) + 0.0);   /* + 0.0: never "-0" */
}

void format_count_rate(char *buf, unsigned len, double per_hour, const char *hourly)
{
	if (!buf || len == 0)
		return;
	/* a slow leak (5 fds a day) would round to "0/h": say it per day */
	if (isfinite(per_hour) && round(per_hour) == 0 && round(per_hour * 24) != 0) {
		format_count(buf, len, per_hour * 24);
		snprintf(buf + strlen(buf), len - strlen(buf), "/d");
		return;
	}
	format_count(buf, len, per_hour);
	snprintf(buf + strlen(buf), len - strlen(buf), "%s", hourly);
}

void format_duration(char *buf, unsigned len, double seconds)
{
	const char *sign = seconds < 0 ? "-" : "";
	double v = fabs(seconds);
	unsigned long long t, a, b;
	char tmp[48];

	if (!buf || len == 0)
		return;
	if (!isfinite(seconds)) {
		snprintf(buf, len, "%s", isnan(seconds) ? "nan" : seconds < 0 ? "-inf" : "inf");
		return;
	}
	if (round(v * 1000) < 1000) {
		snprintf(buf, len, "%s%.0fms", sign, v * 1000);
		return;
	}
	if (round(v * 10) < 600) {
		format_one_decimal(tmp, sizeof(tmp), v, "s");
		snprintf(buf, len, "%s%s", sign, tmp);
		return;
	}
	if (v >= 1e18) {
		snprintf(buf, len, "%s%.3gs", sign, v);
		return;
	}
	t = (unsigned long long)round(v);
	if (t < 3600) {
		a = t / 60;
		b = t % 60;
		snprintf(buf, len, b ? "%s%llum%llus" : "%s%llum", sign, a, b);
	} else if (t < 86400) {
		a = t / 3600;
		b = t % 3600 / 60;
		snprintf(buf, len, b ? "%s%lluh%llum" : "%s%lluh", sign, a, b);
	} else {
		a = t / 86400;
		b = t % 86400 / 3600;
		snprintf(buf, len, b ? "%s%llud%lluh" : "%s%llud", sign, a, b);
	}
}

void format_rfc3339(uint64_t usec, char *buf, size_t len)
{
	time_t secs = (time_t)(usec / 1000000);
	struct tm tm;

	gmtime_r(&secs, &tm);
	snprintf(buf, len, "%04d-%02d-%02dT%02d:%02d:%02d.%03uZ", tm.tm_year + 1900, tm.tm_mon + 1,
		 tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, (unsigned)(usec / 1000 % 1000));
}
