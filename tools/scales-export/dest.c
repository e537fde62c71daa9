/* SPDX-License-Identifier: MIT */
/*
 * dest.c: Graphite destinations: non-blocking TCP connections driven by
 * the caller's poll() loop.
 *
 * The plaintext protocol has no acknowledgements: a point is "sent" once
 * the kernel took its bytes, and may still be lost if the connection breaks
 * (bytes in flight, or in carbon's memory when it dies). So every
 * reconnect rewinds the cursor `resend` batches (pb_rewind()); carbon keeps
 * one value per name and timestamp, so a repeat is harmless.
 *
 * A connection is watched for POLLIN even when idle: carbon never writes,
 * so readable means the peer closed (EOF) or reset it, and we reconnect
 * before the next batch instead of losing it into a dead socket.
 *
 * Names are resolved off the caller's loop: getaddrinfo() can block for
 * as long as the resolver configuration allows (tens of seconds with a
 * resolver that never answers), and the loop also serves the other
 * destinations, --stdout, --json-file and the stop signals. A detached
 * thread per destination resolves; the destination polls the read end of
 * a pipe whose write end the thread closes when done, and gives up after
 * the connect timeout. A thread that outlives its timeout is not started
 * again: the next attempt waits for (or takes) its answer, so a
 * destination never has more than one resolver thread.
 */
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "export.h"

/* One name resolution, shared by the destination and its thread. */
struct gdest_resolve {
	atomic_int refs;  /* the destination and the thread */
	atomic_bool done; /* rc and res are set */
	int rfd, wfd;     /* the pipe: the thread closes wfd when done */
	char *host, *port;
	int rc;
	struct addrinfo *res;
};

static void resolve_unref(struct gdest_resolve *j)
{
	/* acq_rel: whoever frees sees every write of the other side */
	if (atomic_fetch_sub_explicit(&j->refs, 1, memory_order_acq_rel) != 1)
		return;
	if (j->res)
		freeaddrinfo(j->res);
	free(j->host);
	free(j->port);
	free(j);
}

static void *resolve_thread(void *arg)
{
	struct gdest_resolve *j = arg;
	struct addrinfo hints;
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_ADDRCONFIG;
	j->rc = getaddrinfo(j->host, j->port, &hints, &j->res);
	/* release: rc and res are visible to whoever sees done */
	atomic_store_explicit(&j->done, true, memory_order_release);
	close(j->wfd); /* wakes the destination's poll (POLLHUP) */
	resolve_unref(j);
	return NULL;
}

/* The destination lets go of its resolution (the thread may run on). */
static void resolve_drop(struct gdest *d)
{
	if (!d->resolve)
		return;
	if (d->fd == d->resolve->rfd)
		d->fd = -1;
	close(d->resolve->rfd);
	resolve_unref(d->resolve);
	d->resolve = NULL;
}

/* Starts a resolver thread for d; 0 or an errno value. */
static int resolve_start(struct gdest *d)
{
	struct gdest_resolve *j = calloc(1, sizeof(*j));
	if (!j)
		return ENOMEM;
	int p[2];
	j->host = strdup(d->host);
	j->port = strdup(d->port);
	if (!j->host || !j->port || pipe2(p, O_CLOEXEC) < 0) {
		int err = j->host && j->port ? errno : ENOMEM;
		free(j->host);
		free(j->port);
		free(j);
		return err;
	}
	j->rfd = p[0];
	j->wfd = p[1];
	atomic_init(&j->refs, 2);
	atomic_init(&j->done, false);
	pthread_attr_t attr;
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	/* the thread takes no signal: they belong to the caller's loop */
	sigset_t all, old;
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	pthread_t tid;
	int err = pthread_create(&tid, &attr, resolve_thread, j);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	pthread_attr_destroy(&attr);
	if (err) {
		close(p[0]);
		close(p[1]);
		free(j->host);
		free(j->port);
		free(j);
		return err;
	}
	d->resolve = j;
	return 0;
}

int gdest_init(struct gdest *d, const char *spec, char *err, size_t errlen)
{
	memset(d, 0, sizeof(*d));
	d->fd = -1;
	const char *colon;
	size_t hlen;
	const char *h = spec;
	if (spec[0] == '[') {
		const char *close = strchr(spec, ']');
		if (!close || close[1] != ':') {
			snprintf(err, errlen,
			         "bad destination '%s' (want [ADDR]:PORT)",
			         spec);
			return -EINVAL;
		}
		h = spec + 1;
		hlen = (size_t)(close - h);
		colon = close + 1;
	} else {
		colon = strrchr(spec, ':');
		if (!colon || strchr(spec, ':') != colon) {
			snprintf(err, errlen,
			         "bad destination '%s' (want HOST:PORT)", spec);
			return -EINVAL;
		}
		hlen = (size_t)(colon - spec);
	}
	const char *port = colon + 1;
	char *end;
	long p = strtol(port, &end, 10);
	if (hlen == 0 || !*port || *end || p < 1 || p > 65535) {
		snprintf(err, errlen,
		         "bad destination '%s' (want HOST:PORT, port 1 to "
		         "65535)",
		         spec);
		return -EINVAL;
	}
	d->spec = strdup(spec);
	d->host = strndup(h, hlen);
	d->port = strdup(port);
	if (!d->spec || !d->host || !d->port) {
		gdest_free(d);
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	d->cur.seq = 1;
	return 0;
}

void gdest_close(struct gdest *d)
{
	/* the resolver's pipe is closed with its resolution (resolve_drop) */
	if (d->fd >= 0 && !(d->resolve && d->fd == d->resolve->rfd))
		close(d->fd);
	d->fd = -1;
	if (d->ai)
		freeaddrinfo(d->ai);
	d->ai = d->ai_next = NULL;
}

void gdest_free(struct gdest *d)
{
	gdest_close(d);
	resolve_drop(d);
	free(d->spec);
	free(d->host);
	free(d->port);
	d->spec = d->host = d->port = NULL;
}

bool gdest_caught_up(const struct gdest *d, const struct pointbuf *pb)
{
	return d->cur.seq >= pb->next_seq;
}

uint64_t gdest_want(const struct gdest *d, const struct pointbuf *pb,
                    const struct gdest_tuning *t, short *events)
{
	*events = 0;
	switch (d->state) {
	case GD_IDLE:
		return d->next_ns;
	case GD_RESOLVING:
		*events = POLLIN;
		return d->since_ns + t->timeout_ns;
	case GD_CONNECTING:
		*events = POLLOUT;
		return d->since_ns + t->timeout_ns;
	case GD_UP:
		*events = POLLIN;
		if (!gdest_caught_up(d, pb)) {
			*events |= POLLOUT;
			return d->since_ns + t->stall_ns;
		}
		return UINT64_MAX;
	case GD_CLOSING:
		*events = POLLIN;
		return d->since_ns + t->timeout_ns;
	case GD_CLOSED:
		break;
	}
	return UINT64_MAX;
}

/* Schedules the next attempt: backoff/2 plus a random part up to
 * backoff/2 ("equal jitter"), then doubles the backoff up to its cap. */
static void schedule(struct gdest *d, const struct gdest_tuning *t,
                     uint64_t now)
{
	if (d->backoff_ns < t->backoff_min_ns)
		d->backoff_ns = t->backoff_min_ns;
	uint64_t half = d->backoff_ns / 2;
	uint64_t jitter =
	    half ?
	        ((uint64_t)random() << 31 ^ (uint64_t)random()) % (half + 1) :
	        0;
	d->next_ns = now + half + jitter;
	d->backoff_ns *= 2;
	if (d->backoff_ns > t->backoff_max_ns)
		d->backoff_ns = t->backoff_max_ns;
}

/* Formats a state-change message once per outage. */
static const char *report(struct gdest *d, const char *what, bool outage)
{
	static char msg[320];
	if (outage) {
		if (d->down_logged)
			return NULL;
		d->down_logged = true;
	}
	snprintf(msg, sizeof(msg), "graphite %s: %s", d->spec, what);
	return msg;
}

/* The connection broke (or never came up): close, rewind, back off. */
static const char *lost(struct gdest *d, const struct pointbuf *pb,
                        const struct gdest_tuning *t, uint64_t now,
                        const char *why)
{
	gdest_close(d);
	d->state = GD_IDLE;
	d->failures++;
	pb_rewind(pb, &d->cur, t->resend);
	schedule(d, t, now);
	snprintf(d->last_error, sizeof(d->last_error), "%s", why);
	char what[256];
	snprintf(what, sizeof(what), "%s; retrying (with backoff)", why);
	return report(d, what, true);
}

static const char *up(struct gdest *d, uint64_t now)
{
	if (d->ai)
		freeaddrinfo(d->ai);
	d->ai = d->ai_next = NULL;
	d->state = GD_UP;
	d->since_ns = now;
	if (d->was_up)
		d->reconnects++;
	d->was_up = true;
	if (d->down_logged) {
		d->down_logged = false;
		return report(d, "connected again", false);
	}
	return NULL;
}

/* Tries the addresses from d->ai_next on; CONNECTING, UP or lost. */
static const char *try_connect(struct gdest *d, const struct pointbuf *pb,
                               const struct gdest_tuning *t, uint64_t now)
{
	int err = 0;
	while (d->ai_next) {
		struct addrinfo *a = d->ai_next;
		d->ai_next = a->ai_next;
		int fd = socket(a->ai_family,
		                a->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC,
		                a->ai_protocol);
		if (fd < 0) {
			err = errno;
			continue;
		}
		int one = 1;
		setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &one, sizeof(one));
		if (connect(fd, a->ai_addr, a->ai_addrlen) == 0) {
			d->fd = fd;
			return up(d, now);
		}
		if (errno == EINPROGRESS) {
			d->fd = fd;
			d->state = GD_CONNECTING;
			d->since_ns = now;
			return NULL;
		}
		err = errno;
		close(fd);
	}
	char why[200];
	snprintf(why, sizeof(why), "cannot connect: %s",
	         strerror(err ? err : ECONNREFUSED));
	return lost(d, pb, t, now, why);
}

/* Takes the finished resolution's answer: connects, or fails. */
static const char *resolved(struct gdest *d, const struct pointbuf *pb,
                            const struct gdest_tuning *t, uint64_t now)
{
	int rc = d->resolve->rc;
	struct addrinfo *res = d->resolve->res;
	d->resolve->res = NULL;
	resolve_drop(d);
	if (rc) {
		char why[200];
		snprintf(why, sizeof(why), "cannot resolve '%s': %s", d->host,
		         gai_strerror(rc));
		return lost(d, pb, t, now, why);
	}
	d->ai = d->ai_next = res;
	return try_connect(d, pb, t, now);
}

/* An attempt: resolve (off the loop), then connect. */
static const char *start(struct gdest *d, const struct pointbuf *pb,
                         const struct gdest_tuning *t, uint64_t now)
{
	if (!d->resolve) {
		int err = resolve_start(d);
		if (err) {
			char why[200];
			snprintf(why, sizeof(why),
			         "cannot resolve '%s': cannot start a "
			         "resolver thread: %s",
			         d->host, strerror(err));
			return lost(d, pb, t, now, why);
		}
	}
	/* acquire: pairs with the thread's release of rc and res */
	if (atomic_load_explicit(&d->resolve->done, memory_order_acquire))
		return resolved(d, pb, t, now);
	/* the previous attempt's thread may still run: wait for it */
	d->state = GD_RESOLVING;
	d->fd = d->resolve->rfd;
	d->since_ns = now;
	return NULL;
}

/* Reads what the peer sent: 1 data (ignored) or nothing yet, 0 EOF,
 * -1 error (errno set). */
static int drain(int fd)
{
	char buf[512];
	for (;;) {
		ssize_t n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);
		if (n > 0)
			continue;
		if (n == 0)
			return 0;
		if (errno == EINTR)
			continue;
		if (errno == EAGAIN || errno == EWOULDBLOCK)
			return 1;
		return -1;
	}
}

const char *gdest_step(struct gdest *d, struct pointbuf *pb,
                       const struct gdest_tuning *t, short revents,
                       uint64_t now, bool closing)
{
	char why[200];
	switch (d->state) {
	case GD_CLOSED:
		return NULL;
	case GD_IDLE:
		if (now < d->next_ns)
			return NULL;
		return start(d, pb, t, now);
	case GD_RESOLVING:
		/* acquire: pairs with the thread's release of rc and res */
		if (atomic_load_explicit(&d->resolve->done,
		                         memory_order_acquire))
			return resolved(d, pb, t, now);
		if (now >= d->since_ns + t->timeout_ns) {
			/* keep the thread's resolution for the next attempt */
			d->fd = -1;
			snprintf(why, sizeof(why),
			         "cannot resolve '%s': no answer (timed out)",
			         d->host);
			return lost(d, pb, t, now, why);
		}
		return NULL;
	case GD_CONNECTING: {
		if (!(revents & (POLLOUT | POLLERR | POLLHUP))) {
			if (now >= d->since_ns + t->timeout_ns) {
				close(d->fd);
				d->fd = -1;
				if (d->ai_next)
					return try_connect(d, pb, t, now);
				return lost(d, pb, t, now,
				            "cannot connect: timed out");
			}
			return NULL;
		}
		int err = 0;
		socklen_t len = sizeof(err);
		if (getsockopt(d->fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0)
			err = errno;
		if (err == 0)
			return up(d, now);
		close(d->fd);
		d->fd = -1;
		if (d->ai_next)
			return try_connect(d, pb, t, now);
		snprintf(why, sizeof(why), "cannot connect: %s", strerror(err));
		return lost(d, pb, t, now, why);
	}
	case GD_UP:
		break;
	case GD_CLOSING: {
		int r = drain(d->fd);
		if (r == 0) {
			gdest_close(d);
			d->state = GD_CLOSED;
			return NULL;
		}
		if (r < 0) {
			snprintf(why, sizeof(why),
			         "connection lost while closing: %s",
			         strerror(errno));
			return lost(d, pb, t, now, why);
		}
		if (now >= d->since_ns + t->timeout_ns)
			return lost(
			    d, pb, t, now,
			    "no orderly close from the peer (timed out)");
		return NULL;
	}
	}

	/* GD_UP: is the peer still there? */
	if (revents & (POLLIN | POLLERR | POLLHUP)) {
		int r = drain(d->fd);
		if (r == 0)
			return lost(d, pb, t, now, "connection closed by peer");
		if (r < 0) {
			snprintf(why, sizeof(why), "connection lost: %s",
			         strerror(errno));
			return lost(d, pb, t, now, why);
		}
	}
	while (!gdest_caught_up(d, pb)) {
		const struct pb_batch *b = pb_get(pb, d->cur.seq);
		if (!b) { /* dropped under us: go on with the oldest held */
			d->cur.seq = pb_first_seq(pb);
			d->cur.off = 0;
			continue;
		}
		ssize_t n =
		    send(d->fd, b->data + d->cur.off, b->len - d->cur.off,
		         MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				break;
			snprintf(why, sizeof(why), "connection lost: %s",
			         strerror(errno));
			return lost(d, pb, t, now, why);
		}
		d->since_ns = now;
		d->cur.off += (size_t)n;
		if (d->cur.off == b->len) {
			d->cur.seq++;
			d->cur.off = 0;
			d->points_sent += b->npoints;
			d->batches_sent++;
			d->backoff_ns = 0; /* data flows: start backoff over */
		}
	}
	if (!gdest_caught_up(d, pb)) {
		if (now >= d->since_ns + t->stall_ns)
			return lost(d, pb, t, now,
			            "connection stalled (no progress)");
		return NULL;
	}
	d->since_ns = now;
	if (closing) {
		if (shutdown(d->fd, SHUT_WR) < 0) {
			snprintf(why, sizeof(why), "shutdown: %s",
			         strerror(errno));
			return lost(d, pb, t, now, why);
		}
		d->state = GD_CLOSING;
		d->since_ns = now;
	}
	return NULL;
}
