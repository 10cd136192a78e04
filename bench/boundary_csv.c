/* boundary_csv.c — bench/boundary.c's rows appended to its CSV file
 * (bench/results/boundary.csv by default): one row per tool and cell or
 * non-leak shape, the header written when the file is new, a file with
 * other columns moved aside to FILE.old first.  The file is opened
 * O_NOFOLLOW and must be a regular file. */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "boundary_csv.h"

static const char csv_header[] =
	"run_utc,window_s,interval_s,warmup_s,growth_per_h,tool,kind,rate_x,amp_k,seeds,detected,"
	"median_windows,max_windows,worst_slope_err\n";

/* mkdir -p of the directories above path; returns 0 or -errno. */
static int make_parents(const char *path)
{
	char buf[4096];
	size_t len = strlen(path);

	if (len >= sizeof buf)
		return -ENAMETOOLONG;
	memcpy(buf, path, len + 1);
	for (char *p = buf + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = 0;
		if (mkdir(buf, 0755) < 0 && errno != EEXIST)
			return -errno;
		*p = '/';
	}
	return 0;
}

/* A file with other columns is moved aside to PATH.old; returns 0 or -errno. */
static int csv_check_header(const char *path)
{
	char line[sizeof csv_header + 1] = "", old[4096 + 8];
	FILE *f = fopen(path, "re");
	bool same;

	if (!f)
		return errno == ENOENT ? 0 : -errno;
	same = !fgets(line, sizeof line, f) || strcmp(line, csv_header) == 0;
	fclose(f);
	if (same)
		return 0;
	snprintf(old, sizeof old, "%s.old", path);
	fprintf(stderr, "boundary: %s has other columns, moved to %s\n", path, old);
	return rename(path, old) < 0 ? -errno : 0;
}

static void csv_num(FILE *f, int prec, double x)
{
	if (isnan(x))
		fputs(",", f);
	else
		fprintf(f, ",%.*f", prec, x);
}

static void csv_rows(FILE *f, const struct opts *o, const char *run_utc, const struct shape *s,
		     size_t n, const struct agg (*a)[NTOOLS])
{
	for (size_t i = 0; i < n; i++)
		for (int k = 0; k < NTOOLS; k++) {
			const struct agg *g = &a[i][k];

			if (!g->ran)
				continue;
			fprintf(f, "%s,%g,%g,%g,%.0f,%s,%s,%.4g,", run_utc, o->window_s, o->interval_s, o->warmup_s,
				o->growth_h, tool_name[k], s[i].kind, s[i].col >= 0 ? s[i].rate_x : 0);
			if (s[i].col >= 0)
				fprintf(f, "%.4g", s[i].amp_k);
			fprintf(f, ",%ld,%ld", g->seeds, g->detected);
			csv_num(f, 3, g->median_w);
			csv_num(f, 3, g->max_w);
			csv_num(f, 4, g->worst_err);
			fputc('\n', f);
		}
}

int write_csv(const struct opts *o, const char *run_utc, const struct shape *s, size_t n,
		     const struct agg (*a)[NTOOLS])
{
	struct stat st;
	FILE *f;
	int fd, rc;

	if ((rc = make_parents(o->csv)) < 0 || (rc = csv_check_header(o->csv)) < 0)
		return rc;
	fd = open(o->csv, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NOFOLLOW, 0644);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || !(f = fdopen(fd, "a"))) {
		rc = S_ISREG(st.st_mode) ? -errno : -EINVAL;
		close(fd);
		return rc;
	}
	if (st.st_size == 0)
		fputs(csv_header, f);
	csv_rows(f, o, run_utc, s, n, a);
	rc = ferror(f) ? -EIO : 0;
	if (fclose(f) != 0 && rc == 0)
		rc = -errno;
	return rc;
}
