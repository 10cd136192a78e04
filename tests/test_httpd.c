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

struct scrapes { int renders; bool empty; };

static void render(void *ctx, struct buf *out)
{
	struct scrapes *s = ctx;

	s->renders++;
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

static int connect_port(int port)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port),
				  .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

	if (fd >= 0 && connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 && errno != EINPROGRESS) {
		close(fd);
		return -1;
	}
	return fd;
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
	CHECK(httpd_new(&h, e, listen, render, &s) == 0);
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
	CHECK(httpd_new(&h, e, listen, render, &s) == 0);
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
		r = httpd_new(&h, e, cases[i].listen, render, &s);
		CHECK_MSG(r == cases[i].ret && h == NULL, "\"%s\": %d (%s)", cases[i].listen, r, strerror(-r));
		httpd_free(h);
	}
	port = hold_port(&fd);
	CHECK(port > 0);
	snprintf(listen, sizeof(listen), "127.0.0.1:%d", port);
	h = (struct httpd *)&s;
	CHECK_MSG(httpd_new(&h, e, listen, render, &s) == -EADDRINUSE && h == NULL, "port %d in use", port);
	httpd_free(h);
	close(fd);
	/* the names the daemon's config allows: localhost, [::1] where IPv6 is up */
	snprintf(listen, sizeof(listen), "localhost:%d", free_port());
	CHECK(httpd_new(&h, e, listen, render, &s) == 0);
	httpd_free(h);
	CHECK(s.renders == 0);
	sd_event_unref(e);
}

int main(void)
{
	RUN(test_serve);
	RUN(test_addresses);
	return check_done("test_httpd");
}
