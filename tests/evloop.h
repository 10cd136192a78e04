/* The two ends of a socket in one test process: the module's sd-event loop
 * turned from the test (sd_event_run, 10 ms at a time) while the test's
 * client reads and writes a non-blocking socket between the turns.  No fork
 * and no thread, so a case is plain sequential code, and what would hang
 * (a reply that never ends) costs a deadline instead.  For test_control.c
 * and test_httpd.c. */
#ifndef LEAKWATCH_TEST_EVLOOP_H
#define LEAKWATCH_TEST_EVLOOP_H

#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <systemd/sd-event.h>
#include <time.h>

static inline int64_t evloop_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Turn the loop for ms milliseconds. */
static inline void evloop_run(sd_event *e, int ms)
{
	int64_t end = evloop_ms() + ms;

	while (evloop_ms() < end)
		sd_event_run(e, 10000);
}

/* Send all of len bytes on fd, turning the loop while the socket is full:
 * 0, or -errno (-ETIMEDOUT after ms). */
static inline int evloop_send(sd_event *e, int fd, const char *data, size_t len, int ms)
{
	int64_t end = evloop_ms() + ms;
	size_t done = 0;

	while (done < len) {
		ssize_t n = send(fd, data + done, len - done, MSG_DONTWAIT | MSG_NOSIGNAL);

		if (n > 0) {
			done += (size_t)n;
			continue;
		}
		if (n < 0 && errno != EAGAIN && errno != EINTR)
			return -errno;
		if (evloop_ms() >= end)
			return -ETIMEDOUT;
		sd_event_run(e, 10000);
	}
	return 0;
}

/* Read fd to its end into out (NUL-terminated, at most size - 1 bytes kept),
 * turning the loop in between: the bytes read, or -errno (-ETIMEDOUT when
 * the peer has not closed within ms; what came is in out all the same). */
static inline ssize_t evloop_read_all(sd_event *e, int fd, char *out, size_t size, int ms)
{
	int64_t end = evloop_ms() + ms;
	size_t len = 0;

	out[0] = '\0';
	for (;;) {
		char tmp[4096];
		ssize_t n = recv(fd, tmp, sizeof(tmp), MSG_DONTWAIT);

		if (n > 0) {
			size_t keep = (size_t)n < size - 1 - len ? (size_t)n : size - 1 - len;

			memcpy(out + len, tmp, keep);
			len += keep;
			out[len] = '\0';
			continue;
		}
		if (n == 0)
			return (ssize_t)len;
		if (errno != EAGAIN && errno != EINTR)
			return -errno;
		if (evloop_ms() >= end)
			return -ETIMEDOUT;
		sd_event_run(e, 10000);
	}
}

#endif
