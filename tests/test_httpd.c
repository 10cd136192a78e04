/* Unit tests for io/httpd.c, /metrics over HTTP, against the real thing:
 * libmicrohttpd.so.12 as the daemon loads it, listening on 127.0.0.1, its
 * sd-event loop turned by the test and the client a non-blocking socket of
 * the same process (tests/evloop.h), speaking HTTP/1.0 by hand so that the
 * bytes on the wire are what is checked.  What is checked is io/httpd.h's
 * contract and the daemon's endpoint: GET /metrics is the render
 * callback's text, rendered per scrape, with Prometheus's content type;
 * HEAD gives the headers only; / points at /metrics, another path is 404,
 * another method 405; a bad address is -EINVAL, one not of this host
 * -EADDRNOTAVAIL, a port in use -EADDRINUSE; httpd_free closes the port.
 * Where the library is missing, httpd_new says -ELIBACC and the cases
 * fail: the daemon needs it for metrics: listen. */
#include "io/httpd.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include "check.h"
#include "evloop.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))
#define REPLY_MS 3000

struct scrapes { int renders; bool empty; size_t big; };

static void render(void *ctx, struct buf *out)
{
	static const char line[] = "# a page too big for a socket's buffers, to back up its answer\n";
	struct scrapes *s = ctx;

	s->renders++;
	for (size_t n = 0; n < s->big; n += sizeof(line) - 1)
		buf_add(out, line, sizeof(line) - 1);
	if (!s->empty)
		buf_printf(out, "# TYPE leakwatch_test_scrapes counter\nleakwatch_test_scrapes %d\n", s->renders);
}

/* A port on 127.0.0.1 bound and listened on by fd (the caller closes it). */
static int hold_port(int *fd)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof(sa);

	*fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (*fd < 0 || bind(*fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(*fd, 1) < 0 ||
	    getsockname(*fd, (struct sockaddr *)&sa, &len) < 0)
		return -1;
	return ntohs(sa.sin_port);
}

/* A port that was free a moment ago. */
static int free_port(void)
{
	int fd, port = hold_port(&fd);

	if (fd >= 0)
		close(fd);
	return port;
}

/* A connection to 127.0.0.1:port from the address src (NULL: any),
 * non-blocking: its fd, or -1. */
static int connect_from(int port, const char *src)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port),
				  .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	struct sockaddr_in from = { .sin_family = AF_INET };
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return -1;
	if ((src && (inet_pton(AF_INET, src, &from.sin_addr) != 1 ||
		     bind(fd, (struct sockaddr *)&from, sizeof(from)) < 0)) ||
	    (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 && errno != EINPROGRESS)) {
		close(fd);
		return -1;
	}
	return fd;
}

static int connect_port(int port)
{
	return connect_from(port, NULL);
}

struct response { int status; char type[128], allow[64]; long length; const char *body; };

/* One HTTP/1.0 request, the response read to its close and taken apart
 * (into raw, which body points into): 0 or -errno. */
static int request(sd_event *e, int port, const char *method, const char *target, char *raw, size_t size,
		   struct response *r)
{
	char req[256];
	int fd = connect_port(port);
	ssize_t n;
	char *line, *end;

	memset(r, 0, sizeof(*r));
	r->length = -1;
	if (fd < 0)
		return -errno;
	snprintf(req, sizeof(req), "%s %s HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n", method, target);
	n = evloop_send(e, fd, req, strlen(req), REPLY_MS);
	if (n == 0)
		n = evloop_read_all(e, fd, raw, size, REPLY_MS);
	close(fd);
	if (n < 0)
		return (int)n;
	end = strstr(raw, "\r\n\r\n");
	if (!end || sscanf(raw, "HTTP/1.%*d %d", &r->status) != 1)
		return -EBADMSG;
	*end = '\0';
	r->body = end + 4;
	for (line = strstr(raw, "\r\n"); line; line = strstr(line, "\r\n")) {
		line += 2;
		if (strncasecmp(line, "Content-Type: ", 14) == 0)
			snprintf(r->type, sizeof(r->type), "%.*s", (int)strcspn(line + 14, "\r"), line + 14);
		else if (strncasecmp(line, "Allow: ", 7) == 0)
			snprintf(r->allow, sizeof(r->allow), "%.*s", (int)strcspn(line + 7, "\r"), line + 7);
		else if (strncasecmp(line, "Content-Length: ", 16) == 0)
			r->length = atol(line + 16);
	}
	return 0;
}

#define PROM_TYPE "text/plain; version=0.0.4; charset=utf-8"

static void test_serve(void)
{
	static const struct {
		const char *method, *target;
		int status;
		const char *type, *body;   /* body NULL: the render's, this scrape's */
		int renders;               /* how many more renders */
	} cases[] = {
		{ "GET", "/metrics", 200, PROM_TYPE, NULL, 1 },
		{ "GET", "/metrics", 200, PROM_TYPE, NULL, 1 },     /* rendered anew */
		{ "HEAD", "/metrics", 200, PROM_TYPE, "", 1 },
		{ "GET", "/", 200, "text/plain", "leakwatchd: the metrics are at /metrics\n", 0 },
		{ "GET", "/metrics/", 404, "text/plain", "not found: leakwatchd serves /metrics\n", 0 },
		{ "GET", "/favicon.ico", 404, "text/plain", "not found: leakwatchd serves /metrics\n", 0 },
		{ "POST", "/metrics", 405, "text/plain", "method not allowed: GET /metrics\n", 0 },
		{ "DELETE", "/", 405, "text/plain", "method not allowed: GET /metrics\n", 0 },
	};
	struct scrapes s = { 0 };
	struct httpd *h = NULL;
	sd_event *e = NULL;
	char listen[64], raw[8192], want[256];
	struct response r;
	int port = free_port();

	CHECK(sd_event_new(&e) >= 0);
	snprintf(listen, sizeof(listen), "127.0.0.1:%d", port);
	CHECK(httpd_new(&h, e, listen, NULL, render, &s) == 0);
	for (size_t i = 0; h && i < N(cases); i++) {
		int renders = s.renders, rc = request(e, port, cases[i].method, cases[i].target, raw, sizeof(raw), &r);

		CHECK_MSG(rc == 0, "case %zu: %s", i, strerror(-rc));
		if (rc < 0)
			continue;
		snprintf(want, sizeof(want), "# TYPE leakwatch_test_scrapes counter\nleakwatch_test_scrapes %d\n",
			 s.renders);
		CHECK_MSG(r.status == cases[i].status, "case %zu: status %d", i, r.status);
		CHECK_STR(r.type, cases[i].type);
		CHECK_STR(r.body, cases[i].body ? cases[i].body : want);
		CHECK_MSG(s.renders == renders + cases[i].renders, "case %zu: %d renders", i, s.renders - renders);
		if (r.status == 405)
			CHECK_STR(r.allow, "GET, HEAD");
		if (strcmp(cases[i].method, "GET") == 0)
			CHECK_MSG(r.length == (long)strlen(r.body), "case %zu: Content-Length %ld", i, r.length);
	}
	/* nothing rendered: an empty 200 */
	s.empty = true;
	CHECK(h && request(e, port, "GET", "/metrics", raw, sizeof(raw), &r) == 0);
	CHECK(r.status == 200 && r.length == 0 && r.body && r.body[0] == '\0');

	/* freed: the port is closed, and free again for the next */
	httpd_free(h);
	httpd_free(NULL);
	{
		struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port),
					  .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
		int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

		CHECK(fd >= 0 && connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 && errno == ECONNREFUSED);
		if (fd >= 0)
			close(fd);
	}
	h = NULL;
	CHECK(httpd_new(&h, e, listen, NULL, render, &s) == 0);
	httpd_free(h);
	sd_event_unref(e);
}

static void test_addresses(void)
{
	static const struct { const char *listen; int ret; } cases[] = {
		{ "127.0.0.1", -EINVAL }, { "", -EINVAL }, { ":9567", -EINVAL }, { "[]:9567", -EINVAL },
		{ "127.0.0.1:http", -EADDRNOTAVAIL },   /* the port a number */
		{ "192.0.2.1:9567", -EADDRNOTAVAIL },   /* TEST-NET-1: not this host's */
	};
	struct scrapes s = { 0 };
	struct httpd *h;
	sd_event *e = NULL;
	char listen[64];
	int fd, port;

	CHECK(sd_event_new(&e) >= 0);
	for (size_t i = 0; i < N(cases); i++) {
		int r;

		h = (struct httpd *)&s;
		r = httpd_new(&h, e, cases[i].listen, NULL, render, &s);
		CHECK_MSG(r == cases[i].ret && h == NULL, "\"%s\": %d (%s)", cases[i].listen, r, strerror(-r));
		httpd_free(h);
	}
	port = hold_port(&fd);
	CHECK(port > 0);
	snprintf(listen, sizeof(listen), "127.0.0.1:%d", port);
	h = (struct httpd *)&s;
	CHECK_MSG(httpd_new(&h, e, listen, NULL, render, &s) == -EADDRINUSE && h == NULL, "port %d in use", port);
	httpd_free(h);
	close(fd);
	/* the names the daemon's config allows: localhost, [::1] where IPv6 is up */
	snprintf(listen, sizeof(listen), "localhost:%d", free_port());
	CHECK(httpd_new(&h, e, listen, NULL, render, &s) == 0);
	httpd_free(h);
	CHECK(s.renders == 0);
	sd_event_unref(e);
}

/* Whether the server has closed fd (nothing to read, and the end or a reset). */
static bool gone(int fd)
{
	char c;
	ssize_t n = recv(fd, &c, 1, MSG_PEEK | MSG_DONTWAIT);

	return n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR);
}

/* An endpoint on a free port within lim: its port, or -1. */
static int serve(sd_event *e, const struct httpd_limits *lim, struct scrapes *s, struct httpd **h)
{
	char listen[64];
	int port = free_port();

	snprintf(listen, sizeof(listen), "127.0.0.1:%d", port);
	return httpd_new(h, e, listen, lim, render, s) == 0 ? port : -1;
}

/* GET /metrics from src: its status, or -errno. */
static int scrape_from(sd_event *e, int port, const char *src)
{
	char raw[8192], req[] = "GET /metrics HTTP/1.0\r\n\r\n";
	int fd = connect_from(port, src), status = 0;
	ssize_t n;

	if (fd < 0)
		return -errno;
	n = evloop_send(e, fd, req, strlen(req), REPLY_MS);
	if (n == 0)
		n = evloop_read_all(e, fd, raw, sizeof(raw), REPLY_MS);
	close(fd);
	if (n < 0)
		return (int)n;
	return sscanf(raw, "HTTP/1.%*d %d", &status) == 1 ? status : -EBADMSG;
}

/* Connections opened from srcs in turn, each accepted before the next. */
static void open_from(sd_event *e, int port, const char *const *srcs, int *fds, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		fds[i] = connect_from(port, srcs[i]);
		CHECK_MSG(fds[i] >= 0, "connection %zu from %s: %s", i, srcs[i], strerror(errno));
		evloop_run(e, 30);
	}
}

static void close_all(int *fds, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (fds[i] >= 0)
			close(fds[i]);
}

/* Full: a new connection sheds the oldest idle one, of its own peer at the
 * per-peer limit, else of anyone's; a scrape always gets in. */
static void test_shed(void)
{
	static const struct {
		const char *name;
		struct httpd_limits lim;
		const char *srcs[4];
		const char *scraper;
		bool gone_before[4], gone_after[4];   /* before the scrape, after it */
	} cases[] = {
		{ "per peer", { 4, 2, 5000, 5 }, { "127.0.0.1", "127.0.0.1", "127.0.0.1", "127.0.0.2" }, "127.0.0.1",
		  { true, false, false, false }, { true, true, false, false } },
		{ "overall", { 3, 3, 5000, 5 }, { "127.0.0.2", "127.0.0.3", "127.0.0.4", "127.0.0.5" }, "127.0.0.1",
		  { true, false, false, false }, { true, true, false, false } },
		{ "room", { 8, 8, 5000, 5 }, { "127.0.0.1", "127.0.0.1", "127.0.0.2", "127.0.0.2" }, "127.0.0.1",
		  { false, false, false, false }, { false, false, false, false } },
	};

	for (size_t c = 0; c < N(cases); c++) {
		struct scrapes s = { 0 };
		struct httpd *h = NULL;
		sd_event *e = NULL;
		int fds[4], port;

		CHECK(sd_event_new(&e) >= 0);
		port = serve(e, &cases[c].lim, &s, &h);
		CHECK_MSG(port > 0, "%s", cases[c].name);
		open_from(e, port, cases[c].srcs, fds, N(fds));
		for (size_t i = 0; i < N(fds); i++)
			CHECK_MSG(gone(fds[i]) == cases[c].gone_before[i], "%s: connection %zu", cases[c].name, i);
		CHECK_MSG(scrape_from(e, port, cases[c].scraper) == 200, "%s: the scrape", cases[c].name);
		evloop_run(e, 30);
		for (size_t i = 0; i < N(fds); i++)
			CHECK_MSG(gone(fds[i]) == cases[c].gone_after[i], "%s: connection %zu after", cases[c].name, i);
		close_all(fds, N(fds));
		httpd_free(h);
		sd_event_unref(e);
	}
}

/* A request not all in within request_ms is cut off, however it trickles
 * in; and the endpoint answers after a flood of them has gone. */
static void test_request_deadline(void)
{
	static const struct httpd_limits lim = { 2, 2, 300, 5 };
	static const char req[] = "GET /metrics HTTP/1.0\r\nUser-Agent: a slow one\r\n\r\n";
	struct scrapes s = { 0 };
	struct httpd *h = NULL;
	sd_event *e = NULL;
	int fds[10], port;
	size_t sent = 0;
	int64_t t0;

	CHECK(sd_event_new(&e) >= 0);
	port = serve(e, &lim, &s, &h);
	CHECK(port > 0);
	fds[0] = connect_port(port);          /* idle */
	fds[1] = connect_port(port);          /* a byte every 20 ms */
	t0 = evloop_ms();
	while (evloop_ms() - t0 < 150) {
		if (send(fds[1], req + sent, 1, MSG_NOSIGNAL) == 1)
			sent++;
		evloop_run(e, 20);
	}
	CHECK_MSG(!gone(fds[0]) && !gone(fds[1]), "cut off before the deadline");
	while (evloop_ms() - t0 < 1000 && !(gone(fds[0]) && gone(fds[1]))) {
		if (sent < sizeof(req) - 3 && send(fds[1], req + sent, 1, MSG_NOSIGNAL) == 1)
			sent++;
		evloop_run(e, 20);
	}
	CHECK_MSG(gone(fds[0]) && gone(fds[1]), "open after %d ms", (int)(evloop_ms() - t0));
	CHECK_MSG(evloop_ms() - t0 >= 300, "cut off after %d ms", (int)(evloop_ms() - t0));
	CHECK(sent < sizeof(req) - 1 && s.renders == 0);
	close_all(fds, 2);

	/* ten at once on two slots: shed, then overdue; then a scrape */
	for (size_t i = 0; i < N(fds); i++)
		fds[i] = connect_port(port);
	evloop_run(e, 600);
	for (size_t i = 0; i < N(fds); i++)
		CHECK_MSG(gone(fds[i]), "connection %zu of the flood still open", i);
	CHECK(scrape_from(e, port, NULL) == 200);
	close_all(fds, N(fds));
	httpd_free(h);
	sd_event_unref(e);
}

/* The descriptors this process has open. */
static int count_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	int n = 0;

	if (!d)
		return -1;
	while (readdir(d))
		n++;
	closedir(d);
	return n;
}

/* An answer that a client does not read is given up after idle_s without
 * progress; the waiting ones go before it when room is needed; it blocks
 * no one meanwhile. */
static void test_never_read(void)
{
	static const struct httpd_limits lim = { 3, 3, 5000, 1 };
	static const char req[] = "GET /metrics HTTP/1.0\r\n\r\n";
	static const char *const srcs[] = { "127.0.0.3", "127.0.0.4", "127.0.0.5" };
	struct scrapes s = { .big = 4 << 20 };
	struct httpd *h = NULL;
	sd_event *e = NULL;
	int fds[3], mute, port, small = 4096, open_fds;
	int64_t t_sent;

	CHECK(sd_event_new(&e) >= 0);
	port = serve(e, &lim, &s, &h);
	CHECK(port > 0);
	mute = connect_from(port, "127.0.0.2");
	CHECK(mute >= 0 && setsockopt(mute, SOL_SOCKET, SO_RCVBUF, &small, sizeof(small)) == 0);
	CHECK(evloop_send(e, mute, req, strlen(req), REPLY_MS) == 0);
	t_sent = evloop_ms();
	evloop_run(e, 100);
	CHECK(s.renders == 1);
	/* its answer stuck, the busy one: three idle ones shed one of theirs, not it */
	open_from(e, port, srcs, fds, N(fds));
	CHECK(gone(fds[0]) && !gone(fds[1]) && !gone(fds[2]));
	CHECK(scrape_from(e, port, "127.0.0.6") == 200);   /* answered meanwhile, 4 MiB */
	CHECK(gone(fds[1]));
	close_all(fds, N(fds));
	/* given up after idle_s without progress: the server's end of it closed */
	evloop_run(e, 100);         /* the others' ends closed */
	open_fds = count_fds();
	while (evloop_ms() - t_sent < 4000 && count_fds() == open_fds)
		evloop_run(e, 20);
	CHECK_MSG(count_fds() == open_fds - 1, "%d descriptors, not %d", count_fds(), open_fds - 1);
	CHECK_MSG(evloop_ms() - t_sent >= 900, "given up %d ms after its request", (int)(evloop_ms() - t_sent));
	close(mute);
	httpd_free(h);
	sd_event_unref(e);
}

static void test_bad_limits(void)
{
	static const struct httpd_limits bad[] = {
		{ 0, 1, 1000, 1 }, { 1, 0, 1000, 1 }, { 1, 1, 0, 1 }, { 1, 1, 1000, 0 },
	};
	struct scrapes s = { 0 };
	sd_event *e = NULL;

	CHECK(sd_event_new(&e) >= 0);
	for (size_t i = 0; i < N(bad); i++) {
		struct httpd *h = (struct httpd *)&s;

		CHECK_MSG(httpd_new(&h, e, "127.0.0.1:0", &bad[i], render, &s) == -EINVAL && !h, "limits %zu", i);
	}
	sd_event_unref(e);
}

int main(void)
{
	RUN(test_serve);
	RUN(test_addresses);
	RUN(test_shed);
	RUN(test_request_deadline);
	RUN(test_never_read);
	RUN(test_bad_limits);
	return check_done("test_httpd");
}
