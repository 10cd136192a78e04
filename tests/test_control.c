/* Unit tests for io/control.c, the control socket, against the real thing:
 * a unix socket in a temporary directory, the module's sd-event loop turned
 * by the test, the clients non-blocking sockets of the same process
 * (tests/evloop.h).  Faking the socket calls would test the fake; a forked
 * client would make every case two programs.  What is checked is the
 * contract of io/control.h: one request line in (its CR/LF cut), the
 * callback's reply out, then the close; a request too long refused without
 * the callback; the client past CONTROL_MAX_CLIENTS told "ERR busy"; a
 * client that says nothing dropped after CONTROL_TIMEOUT_S, the daemon's own
 * 5 s (a compile-time constant, so this one case takes that long); and the
 * socket file's life: created 0600 with its directory, a stale one
 * replaced, a live one left to its owner (-EADDRINUSE), removed by
 * control_free; and the client's uid handed to the callback with each
 * request. */
#include "io/control.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "check.h"
#include "evloop.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))
#define REPLY_MS 2000

static char dir[64];
static char path[128];

struct seen {
	int calls;
	char last[CONTROL_REQUEST_MAX + 1];
	uid_t peer;                /* the last call's */
};

/* The daemon's callback writes "OK\n" + text or "ERR ...\n"; so does this. */
static void on_request(void *ctx, const char *request, uid_t peer, struct buf *reply)
{
	struct seen *s = ctx;

	s->calls++;
	s->peer = peer;
	snprintf(s->last, sizeof(s->last), "%s", request);
	if (strcmp(request, "status") == 0)
		buf_puts(reply, "OK\nwatching 3 processes\n");
	else if (strncmp(request, "echo ", 5) == 0)
		buf_printf(reply, "OK\n%s\n", request + 5);
	else if (strcmp(request, "silent") == 0)
		;                      /* a callback that says nothing */
	else
		buf_printf(reply, "ERR unknown request: %s\n", request);
}

static int connect_to(const char *p)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", p);
	if (fd >= 0 && connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

/* Send req (len bytes; then half-close with shut), read the reply to its
 * end: the bytes read or -errno. */
static ssize_t ask(sd_event *e, const char *req, size_t len, bool shut, char *out, size_t size)
{
	int fd = connect_to(path);
	ssize_t n;

	if (fd < 0)
		return -errno;
	n = evloop_send(e, fd, req, len, REPLY_MS);
	if (n == 0 && shut)
		shutdown(fd, SHUT_WR);
	if (n == 0)
		n = evloop_read_all(e, fd, out, size, REPLY_MS);
	close(fd);
	return n;
}

static void test_requests(void)
{
	static const struct {
		const char *req;
		bool shut;             /* no newline: the end of the stream ends it */
		const char *reply, *seen;   /* seen: what the callback got; NULL: not called */
	} cases[] = {
		{ "status\n", false, "OK\nwatching 3 processes\n", "status" },
		{ "status\r\n", false, "OK\nwatching 3 processes\n", "status" },
		{ "status", true, "OK\nwatching 3 processes\n", "status" },
		{ "echo history 4242\n", false, "OK\nhistory 4242\n", "echo history 4242" },
		{ "status\nstatus json\n", false, "OK\nwatching 3 processes\n", "status" },
		{ "frobnicate 1 2\n", false, "ERR unknown request: frobnicate 1 2\n", "frobnicate 1 2" },
		{ "\n", false, "ERR unknown request: \n", "" },
		{ "silent\n", false, "ERR no answer\n", "silent" },
		{ "silent", true, "ERR no answer\n", "silent" },
		{ "", true, "", NULL },          /* nothing at all: closed, no call */
	};
	struct seen s = { 0 };
	struct control *c = NULL;
	sd_event *e = NULL;
	char out[8192];

	CHECK(sd_event_new(&e) >= 0);
	CHECK(control_new(&c, e, path, on_request, &s) == 0);
	for (size_t i = 0; i < N(cases); i++) {
		int calls = s.calls;
		ssize_t n = ask(e, cases[i].req, strlen(cases[i].req), cases[i].shut, out, sizeof(out));

		CHECK_MSG(n == (ssize_t)strlen(cases[i].reply) && strcmp(out, cases[i].reply) == 0,
			  "case %zu: %zd bytes \"%s\", not \"%s\"", i, n, out, cases[i].reply);
		CHECK_MSG(s.calls == calls + (cases[i].seen != NULL), "case %zu: %d calls", i, s.calls - calls);
		if (cases[i].seen) {
			CHECK_STR(s.last, cases[i].seen);
			CHECK_MSG(s.peer == geteuid(), "case %zu: peer uid %d", i, (int)s.peer);
		}
	}
	control_free(c);
	sd_event_unref(e);
}

/* The uid handed with a request is the client's as the kernel took it at
 * connect (its effective uid then), not the daemon's: a client connected
 * as nobody (the socket opened to it for the test) is seen as nobody.
 * Needs root, to connect as another user. */
static void test_peer(void)
{
	struct seen s = { 0 };
	struct control *c = NULL;
	sd_event *e = NULL;
	char out[512];
	int fd;

	if (geteuid() != 0) {
		fprintf(stderr, "test_peer: skipped (needs root to connect as nobody)\n");
		return;
	}
	CHECK(sd_event_new(&e) >= 0);
	CHECK(control_new(&c, e, path, on_request, &s) == 0);
	CHECK(chmod(dir, 0755) == 0 && chmod(path, 0666) == 0);
	CHECK(seteuid(65534) == 0);
	fd = connect_to(path);
	CHECK(seteuid(0) == 0);
	CHECK(fd >= 0);
	CHECK(evloop_send(e, fd, "status\n", 7, REPLY_MS) == 0);
	CHECK(evloop_read_all(e, fd, out, sizeof(out), REPLY_MS) > 0 && strncmp(out, "OK\n", 3) == 0);
	close(fd);
	CHECK_MSG(s.calls == 1 && s.peer == 65534, "%d calls, peer uid %d", s.calls, (int)s.peer);
	CHECK(chmod(dir, 0700) == 0);
	control_free(c);
	sd_event_unref(e);
}

/* A request line of up to CONTROL_REQUEST_MAX - 1 bytes, its newline with
 * them, is read; a longer one is read to its end (closing on unread input
 * would reset the connection before the client reads the answer) and
 * refused, never reaching the callback. */
static void test_too_long(void)
{
	static const struct { size_t len; bool ok; } cases[] = {
		{ CONTROL_REQUEST_MAX - 1, true }, { 100, true },
		{ CONTROL_REQUEST_MAX + 1, false }, { 4000, false }, { 100000, false },
	};
	struct seen s = { 0 };
	struct control *c = NULL;
	sd_event *e = NULL;
	static char out[8192];

	CHECK(sd_event_new(&e) >= 0);
	CHECK(control_new(&c, e, path, on_request, &s) == 0);
	for (size_t i = 0; i < N(cases); i++) {
		size_t len = cases[i].len;      /* "echo xxx...x\n" */
		char *req = malloc(len + 1);
		int calls = s.calls;
		ssize_t n;

		memcpy(req, "echo ", 5);
		memset(req + 5, 'x', len - 6);
		req[len - 1] = '\n';
		req[len] = '\0';
		n = ask(e, req, len, false, out, sizeof(out));
		if (cases[i].ok) {
			/* "OK\n" + the x's + "\n" */
			CHECK_MSG(n == (ssize_t)(3 + len - 5) && strncmp(out, "OK\nxxx", 6) == 0,
				  "%zu bytes: %zd back, \"%.20s\"", len, n, out);
			CHECK(s.calls == calls + 1);
		} else {
			CHECK_MSG(n >= 0 && strcmp(out, "ERR request too long\n") == 0,
				  "%zu bytes: %zd back, \"%.40s\"", len, n, out);
			CHECK_MSG(s.calls == calls, "%zu bytes: the callback was called", len);
		}
		free(req);
	}
	control_free(c);
	sd_event_unref(e);
}

/* CONTROL_MAX_CLIENTS silent clients (one with half a request): the next
 * one is told busy at once; the silent ones are dropped CONTROL_TIMEOUT_S
 * after they came, without an answer; then a client is served again. */
static void test_busy_and_timeout(void)
{
	struct seen s = { 0 };
	struct control *c = NULL;
	sd_event *e = NULL;
	int idle[CONTROL_MAX_CLIENTS], fd, dropped = 0, early = 0, late = 0, answered = 0;
	static const char busy[] = "ERR busy: too many clients at once, try again\n";
	char out[512];
	int64_t t0, end;
	ssize_t n;

	CHECK(sd_event_new(&e) >= 0);
	CHECK(control_new(&c, e, path, on_request, &s) == 0);
	t0 = evloop_ms();
	for (size_t i = 0; i < N(idle); i++) {
		idle[i] = connect_to(path);
		CHECK(idle[i] >= 0);
		evloop_run(e, 20);          /* accepted before the next comes */
	}
	CHECK(evloop_send(e, idle[0], "stat", 4, REPLY_MS) == 0);
	evloop_run(e, 100);
	fd = connect_to(path);
	CHECK(fd >= 0);
	n = evloop_read_all(e, fd, out, sizeof(out), REPLY_MS);
	CHECK_MSG(n == (ssize_t)strlen(busy) && strcmp(out, busy) == 0, "%zd \"%s\"", n, out);
	close(fd);

	/* each idle client's end: no byte, then EOF, at CONTROL_TIMEOUT_S */
	end = t0 + (CONTROL_TIMEOUT_S + 3) * 1000;
	while (dropped < (int)N(idle) && evloop_ms() < end) {
		sd_event_run(e, 10000);
		for (size_t i = 0; i < N(idle); i++) {
			if (idle[i] < 0)
				continue;
			n = recv(idle[i], out, sizeof(out), MSG_DONTWAIT);
			if (n < 0 && errno == EAGAIN)
				continue;
			if (n > 0)
				answered++;
			if (evloop_ms() - t0 < CONTROL_TIMEOUT_S * 1000 - 100)
				early++;
			if (evloop_ms() - t0 > (CONTROL_TIMEOUT_S + 1) * 1000 + 500)
				late++;
			close(idle[i]);
			idle[i] = -1;
			dropped++;
		}
	}
	CHECK_MSG(dropped == (int)N(idle), "%d of %zu silent clients dropped within %d s", dropped, N(idle),
		  CONTROL_TIMEOUT_S + 3);
	CHECK_MSG(early == 0 && late == 0 && answered == 0, "%d dropped early, %d late, %d answered",
		  early, late, answered);
	CHECK(s.calls == 0);
	for (size_t i = 0; i < N(idle); i++)
		if (idle[i] >= 0)
			close(idle[i]);

	n = ask(e, "status\n", 7, false, out, sizeof(out));
	CHECK_MSG(n > 0 && strncmp(out, "OK\n", 3) == 0, "after the drops: %zd \"%s\"", n, out);
	control_free(c);
	sd_event_unref(e);
}

/* The socket file: born 0600 in a directory made for it (the umask as it
 * was); a second control_new on a live one says -EADDRINUSE and leaves it
 * to its owner; a stale one (nobody listening) is replaced; control_free
 * removes it and drops the clients still connected. */
static void test_socket_file(void)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct seen s = { 0 };
	struct control *c = NULL, *c2 = (struct control *)&s;
	sd_event *e = NULL;
	char sub[160], long_path[200], out[512];
	struct stat st;
	mode_t mask;
	int fd;

	CHECK(sd_event_new(&e) >= 0);
	snprintf(sub, sizeof(sub), "%s/run/control.sock", dir);
	mask = umask(022);
	CHECK(control_new(&c, e, sub, on_request, &s) == 0);
	CHECK(umask(022) == 022);
	umask(mask);
	CHECK(lstat(sub, &st) == 0 && S_ISSOCK(st.st_mode) && (st.st_mode & 07777) == 0600);
	*strrchr(sub, '/') = '\0';
	CHECK(stat(sub, &st) == 0 && S_ISDIR(st.st_mode));
	strcat(sub, "/control.sock");

	CHECK(control_new(&c2, e, sub, on_request, &s) == -EADDRINUSE);
	CHECK(c2 == NULL);
	fd = connect_to(sub);
	CHECK(fd >= 0);
	CHECK(evloop_send(e, fd, "status\n", 7, REPLY_MS) == 0);
	CHECK(evloop_read_all(e, fd, out, sizeof(out), REPLY_MS) > 0 && strncmp(out, "OK\n", 3) == 0);
	close(fd);

	fd = connect_to(sub);                /* connected when the module goes */
	CHECK(fd >= 0);
	evloop_run(e, 50);
	control_free(c);
	CHECK(lstat(sub, &st) < 0 && errno == ENOENT);
	CHECK(recv(fd, out, sizeof(out), MSG_DONTWAIT) == 0);
	close(fd);
	CHECK(connect_to(sub) < 0 && errno == ENOENT);
	control_free(NULL);

	/* stale: a socket file that nobody listens on */
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", sub);
	CHECK(fd >= 0 && bind(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0);
	close(fd);
	CHECK(lstat(sub, &st) == 0 && S_ISSOCK(st.st_mode));
	CHECK(control_new(&c, e, sub, on_request, &s) == 0);
	fd = connect_to(sub);
	CHECK(fd >= 0);
	CHECK(evloop_send(e, fd, "status\n", 7, REPLY_MS) == 0);
	CHECK(evloop_read_all(e, fd, out, sizeof(out), REPLY_MS) > 0 && strncmp(out, "OK\n", 3) == 0);
	close(fd);
	control_free(c);

	memset(long_path, 'a', sizeof(long_path) - 1);
	long_path[0] = '/';
	long_path[sizeof(long_path) - 1] = '\0';
	c2 = (struct control *)&s;
	CHECK(control_new(&c2, e, long_path, on_request, &s) == -ENAMETOOLONG && c2 == NULL);
	sd_event_unref(e);
}

int main(void)
{
	snprintf(dir, sizeof(dir), "/tmp/leakwatch-test-control.XXXXXX");
	if (!mkdtemp(dir)) {
		perror("test_control: mkdtemp");
		return 2;
	}
	snprintf(path, sizeof(path), "%s/control.sock", dir);
	RUN(test_requests);
	RUN(test_peer);
	RUN(test_too_long);
	RUN(test_socket_file);
	RUN(test_busy_and_timeout);
	unlink(path);
	snprintf(path, sizeof(path), "%s/run", dir);
	rmdir(path);
	CHECK(rmdir(dir) == 0);
	return check_done("test_control");
}
