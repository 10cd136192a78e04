/* Unit tests for units.c: the value syntaxes of the configuration. */
#include "core/units.h"

#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdint.h>

#include "check.h"

#define KI 1024.0
#define MI (1024.0 * 1024)
#define GI (1024.0 * 1024 * 1024)
#define TI (1024.0 * 1024 * 1024 * 1024)
#define N(a) (sizeof(a) / sizeof((a)[0]))

struct dcase { const char *in; int ret; double want; };
struct ucase { const char *in; int ret; uint64_t want; };

static void test_size(void)
{
	static const struct dcase cases[] = {
		{ "1048576", 0, 1048576 }, { "0", 0, 0 }, { "512", 0, 512 },
		{ "512B", 0, 512 }, { "512K", 0, 512 * KI }, { "512k", 0, 512 * KI },
		{ "512KiB", 0, 512 * KI }, { "512KB", 0, 512 * KI }, { "512Ki", 0, 512 * KI },
		{ "512M", 0, 512 * MI }, { "512MiB", 0, 512 * MI }, { "512MB", 0, 512 * MI },
		{ "1G", 0, GI }, { "1.5G", 0, 1.5 * GI }, { "1GiB", 0, GI }, { "1T", 0, TI },
		{ "0.5M", 0, 0.5 * MI }, { "4096K", 0, 4 * MI },
		{ "", -EINVAL, 0 }, { "G", -EINVAL, 0 }, { "-1G", -EINVAL, 0 },
		{ "+1G", -EINVAL, 0 }, { " 1G", -EINVAL, 0 }, { "1G ", -EINVAL, 0 },
		{ "1 G", -EINVAL, 0 }, { "1GG", -EINVAL, 0 }, { "1Gx", -EINVAL, 0 },
		{ "1P", -EINVAL, 0 }, { "1X", -EINVAL, 0 }, { "nan", -EINVAL, 0 },
		{ "inf", -EINVAL, 0 }, { "1e9", -EINVAL, 0 }, { "0x10", -EINVAL, 0 },
		{ "1.", -EINVAL, 0 }, { ".5G", -EINVAL, 0 }, { "1,5G", -EINVAL, 0 },
		{ "1iB", -EINVAL, 0 }, { "1%", -EINVAL, 0 }, { "10000000T", -ERANGE, 0 },
		{ "99999999999999999999999", -ERANGE, 0 },
	};
	double v;

	for (size_t i = 0; i < N(cases); i++) {
		int r;

		v = -1;
		r = parse_size(cases[i].in, &v);
		CHECK_MSG(r == cases[i].ret, "parse_size(\"%s\") = %d, want %d", cases[i].in, r, cases[i].ret);
		if (cases[i].ret == 0)
			CHECK_NEAR(v, cases[i].want, 1e-6);
		else
			CHECK_MSG(v == -1, "parse_size(\"%s\") stored a value on error", cases[i].in);
	}
	CHECK(parse_size(NULL, &v) == -EINVAL);
}

static void test_duration(void)
{
	static const struct ucase cases[] = {
		{ "250ms", 0, 250 }, { "5s", 0, 5000 }, { "2m", 0, 120000 },
		{ "2min", 0, 120000 }, { "6h", 0, 21600000 }, { "1d", 0, 86400000 },
		{ "1.5h", 0, 5400000 }, { "0.5s", 0, 500 }, { "1h30m", 0, 5400000 },
		{ "1m30s", 0, 90000 }, { "0", 0, 0 }, { "0s", 0, 0 }, { "100ms", 0, 100 },
		{ "5", -EINVAL, 0 }, { "1.5", -EINVAL, 0 }, { "", -EINVAL, 0 },
		{ "s", -EINVAL, 0 }, { "-5s", -EINVAL, 0 }, { "5 s", -EINVAL, 0 },
		{ "5sec", -EINVAL, 0 }, { "5S", -EINVAL, 0 }, { "5y", -EINVAL, 0 },
		{ "5s ", -EINVAL, 0 }, { "5h3", -EINVAL, 0 }, { "infs", -EINVAL, 0 },
		{ "nanh", -EINVAL, 0 }, { "abc", -EINVAL, 0 },
		{ "999999999999999999d", -ERANGE, 0 },
	};
	uint64_t v;

	for (size_t i = 0; i < N(cases); i++) {
		int r;

		v = 12345;
		r = parse_duration(cases[i].in, &v);
		CHECK_MSG(r == cases[i].ret, "parse_duration(\"%s\") = %d, want %d", cases[i].in, r, cases[i].ret);
		if (cases[i].ret == 0)
			CHECK_MSG(v == cases[i].want, "parse_duration(\"%s\") = %llu, want %llu",
				  cases[i].in, (unsigned long long)v, (unsigned long long)cases[i].want);
		else
			CHECK(v == 12345);
	}
}

static void test_count(void)
{
	static const struct dcase cases[] = {
		{ "4096", 0, 4096 }, { "0", 0, 0 }, { "500", 0, 500 },
		{ "4K", -EINVAL, 0 }, { "1.5", -EINVAL, 0 }, { "-1", -EINVAL, 0 },
		{ "", -EINVAL, 0 }, { "12 ", -EINVAL, 0 }, { "1e3", -EINVAL, 0 },
		{ "99999999999999999", -ERANGE, 0 },
	};

	for (size_t i = 0; i < N(cases); i++) {
		double v = -1;
		int r = parse_count(cases[i].in, &v);

		CHECK_MSG(r == cases[i].ret, "parse_count(\"%s\") = %d, want %d", cases[i].in, r, cases[i].ret);
		if (r == 0)
			CHECK_NEAR(v, cases[i].want, 0);
	}
}

static void test_rate(void)
{
	static const struct { const char *in; int is_size, ret; double want; } cases[] = {
		{ "200M/h", 1, 0, 200 * MI / 3600 }, { "1.5K/min", 1, 0, 1.5 * KI / 60 },
		{ "1.5K/m", 1, 0, 1.5 * KI / 60 }, { "10/s", 0, 0, 10 },
		{ "500/h", 0, 0, 500.0 / 3600 }, { "3/d", 0, 0, 3.0 / 86400 },
		{ "0.5/min", 0, 0, 0.5 / 60 }, { "1G/d", 1, 0, GI / 86400 },
		{ "100/h", 1, 0, 100.0 / 3600 }, { "0/h", 0, 0, 0 },
		{ "200M/h", 0, -EINVAL, 0 }, { "200M", 1, -EINVAL, 0 }, { "200M/", 1, -EINVAL, 0 },
		{ "/h", 0, -EINVAL, 0 }, { "5/ms", 0, -EINVAL, 0 }, { "5/hour", 0, -EINVAL, 0 },
		{ "5/2h", 0, -EINVAL, 0 }, { "-5/h", 0, -EINVAL, 0 }, { "5/h/h", 0, -EINVAL, 0 },
		{ "abc/h", 1, -EINVAL, 0 }, { "inf/h", 0, -EINVAL, 0 },
		{ "99999999999999999/h", 0, -ERANGE, 0 },
	};

	for (size_t i = 0; i < N(cases); i++) {
		double v = -1;
		int r = parse_rate(cases[i].in, cases[i].is_size, &v);

		CHECK_MSG(r == cases[i].ret, "parse_rate(\"%s\", %d) = %d, want %d",
			  cases[i].in, cases[i].is_size, r, cases[i].ret);
		if (r == 0)
			CHECK_NEAR(v, cases[i].want, 1e-9);
	}
}

static void test_percent(void)
{
	static const struct dcase cases[] = {
		{ "80%", 0, 80 }, { "100%", 0, 100 }, { "0.5%", 0, 0.5 }, { "12.5%", 0, 12.5 },
		{ "0%", -ERANGE, 0 }, { "150%", -ERANGE, 0 }, { "100.1%", -ERANGE, 0 },
		{ "80", -EINVAL, 0 }, { "%", -EINVAL, 0 }, { "-5%", -EINVAL, 0 },
		{ "80 %", -EINVAL, 0 }, { "80%%", -EINVAL, 0 }, { "", -EINVAL, 0 },
	};

	for (size_t i = 0; i < N(cases); i++) {
		double v = -1;
		int r = parse_percent(cases[i].in, &v);

		CHECK_MSG(r == cases[i].ret, "parse_percent(\"%s\") = %d, want %d", cases[i].in, r, cases[i].ret);
		if (r == 0)
			CHECK_NEAR(v, cases[i].want, 1e-9);
	}
}

static void test_count_per(void)
{
	static const struct { const char *in; int ret; unsigned n; uint64_t ms; } cases[] = {
		{ "3/h", 0, 3, 3600000 }, { "5/30m", 0, 5, 1800000 }, { "1/d", 0, 1, 86400000 },
		{ "10/min", 0, 10, 60000 }, { "2/s", 0, 2, 1000 }, { "4/1h30m", 0, 4, 5400000 },
		{ "0/h", -ERANGE, 0, 0 }, { "3/0s", -ERANGE, 0, 0 }, { "2000000/h", -ERANGE, 0, 0 },
		{ "3", -EINVAL, 0, 0 }, { "3/", -EINVAL, 0, 0 }, { "/h", -EINVAL, 0, 0 },
		{ "1.5/h", -EINVAL, 0, 0 }, { "3/x", -EINVAL, 0, 0 }, { "-3/h", -EINVAL, 0, 0 },
		{ "3/30", -EINVAL, 0, 0 }, { "3/ms", -EINVAL, 0, 0 },
	};

	for (size_t i = 0; i < N(cases); i++) {
		unsigned n = 999;
		uint64_t ms = 999;
		int r = parse_count_per(cases[i].in, &n, &ms);

		CHECK_MSG(r == cases[i].ret, "parse_count_per(\"%s\") = %d, want %d", cases[i].in, r, cases[i].ret);
		if (r == 0)
			CHECK_MSG(n == cases[i].n && ms == cases[i].ms, "parse_count_per(\"%s\") = %u per %llu",
				  cases[i].in, n, (unsigned long long)ms);
	}
}

static void test_signal(void)
{
	static const struct { const char *in; int ret; int want; } cases[] = {
		{ "TERM", 0, SIGTERM }, { "SIGTERM", 0, SIGTERM }, { "term", 0, SIGTERM },
		{ "sigkill", 0, SIGKILL }, { "HUP", 0, SIGHUP }, { "USR1", 0, SIGUSR1 },
		{ "SIGUSR2", 0, SIGUSR2 }, { "INT", 0, SIGINT }, { "QUIT", 0, SIGQUIT },
		{ "9", 0, 9 }, { "15", 0, 15 },
		{ "FOO", -EINVAL, 0 }, { "SIG", -EINVAL, 0 }, { "", -EINVAL, 0 },
		{ "TERM ", -EINVAL, 0 }, { "-9", -EINVAL, 0 }, { "9x", -EINVAL, 0 },
		{ "0", -ERANGE, 0 }, { "200", -ERANGE, 0 },
	};
	int sig;

	for (size_t i = 0; i < N(cases); i++) {
		int r;

		sig = -1;
		r = parse_signal(cases[i].in, &sig);
		CHECK_MSG(r == cases[i].ret, "parse_signal(\"%s\") = %d, want %d", cases[i].in, r, cases[i].ret);
		if (r == 0)
			CHECK_MSG(sig == cases[i].want, "parse_signal(\"%s\") = %d", cases[i].in, sig);
	}
	CHECK(parse_signal("RTMIN", &sig) == 0 && sig == SIGRTMIN);
	CHECK(parse_signal("SIGRTMIN+2", &sig) == 0 && sig == SIGRTMIN + 2);
	CHECK(parse_signal("RTMAX-1", &sig) == 0 && sig == SIGRTMAX - 1);
	CHECK(parse_signal("RTMIN-1", &sig) == -EINVAL);
}

static void test_format(void)
{
	static const struct { double in; const char *want; } sizes[] = {
		{ 0, "0B" }, { 512, "512B" }, { 1023, "1023B" }, { 1024, "1K" },
		{ 1536, "1.5K" }, { 183.5 * MI, "183.5M" }, { GI, "1G" },
		{ 1.25 * GI, "1.3G" }, { 2 * TI, "2T" }, { 1023.99 * KI, "1M" },
		{ -52.4 * MI, "-52.4M" }, { -0.3, "0B" }, { 1023.9 * MI, "1023.9M" },
	};
	static const struct { double in; const char *want; } counts[] = {
		{ 0, "0" }, { 48, "48" }, { 7168.4, "7168" }, { 2.5, "3" }, { -3.2, "-3" },
		{ -0.4, "0" }, { 1e15, "1000000000000000" }, { NAN, "nan" },
	};
	static const struct { double in; const char *hourly, *want; } rates[] = {
		{ 7168, "/h", "7168/h" }, { 7200.4, "", "7200" }, { -3.4, "/h", "-3/h" },
		{ 0.6, "/h", "1/h" }, { 0.2, "/h", "5/d" }, { 0.2, "", "5/d" }, { -0.1, "/h", "-2/d" },
		{ 0.01, "/h", "0/h" }, { 0, "", "0" }, { -0.001, "/h", "0/h" },
	};
	static const struct { double in; const char *want; } durs[] = {
		{ 0, "0ms" }, { 0.25, "250ms" }, { 1, "1s" }, { 1.5, "1.5s" }, { 45, "45s" },
		{ 59.99, "1m" }, { 60, "1m" }, { 90, "1m30s" }, { 3600, "1h" },
		{ 2 * 3600 + 13 * 60, "2h13m" }, { 2 * 3600 + 13 * 60 + 40, "2h13m" },
		{ 86400, "1d" }, { 3 * 86400 + 4 * 3600, "3d4h" }, { -45, "-45s" },
		{ INFINITY, "inf" },
	};
	char buf[32];

	for (size_t i = 0; i < N(sizes); i++) {
		format_size(buf, sizeof(buf), sizes[i].in);
		CHECK_STR(buf, sizes[i].want);
	}
	for (size_t i = 0; i < N(counts); i++) {
		format_count(buf, sizeof(buf), counts[i].in);
		CHECK_STR(buf, counts[i].want);
	}
	for (size_t i = 0; i < N(rates); i++) {
		format_count_rate(buf, sizeof(buf), rates[i].in, rates[i].hourly);
		CHECK_STR(buf, rates[i].want);
	}
	for (size_t i = 0; i < N(durs); i++) {
		format_duration(buf, sizeof(buf), durs[i].in);
		CHECK_STR(buf, durs[i].want);
	}
	format_size(buf, 4, 183.5 * MI);     /* truncated, still terminated */
	CHECK_STR(buf, "183");
	format_count_rate(buf, 3, 0.2, "/h");
	CHECK_STR(buf, "5/");
}

int main(void)
{
	RUN(test_size);
	RUN(test_duration);
	RUN(test_count);
	RUN(test_rate);
	RUN(test_percent);
	RUN(test_count_per);
	RUN(test_signal);
	RUN(test_format);
	return check_done("test_units");
}
