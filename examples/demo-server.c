/* SPDX-License-Identifier: MIT */
/*
 * demo-server: a small multi-threaded TCP server instrumented with scales,
 * the main job of `make demo` (with demo-load driving it, and scales-top
 * showing both).
 *
 * Protocol (one request per line, so no HTTP parser is needed): the client
 * sends "GET <endpoint>\n" and the server answers "<code> <text>\n".
 * Endpoints: home (fast), search (about 1 ms), slow (about 20 ms), error
 * (answers 500); anything else answers 404.
 *
 * Stats:
 *   /server/connections, /server/open, /server/bytes_in, /server/bytes_out,
 *   /server/queue (callback gauge), /server/uptime (callback gauge,
 *   merged over processes as the max),
 *   /server/status/<code> (a dict stat; its keys are the label "code"),
 *   /endpoint/<name>/requests and /endpoint/<name>/latency (per endpoint;
 *   <name> is the label "endpoint" in /metrics),
 *   /workers/worker-<n>/state (timed: seconds per value) and /handled,
 *   aggregated as
 *   /workers/state/<value> and /workers/handled.
 *
 * Usage: demo-server [-p PORT] [-w WORKERS]. Prints "listening PORT" and
 * "ready", then serves on 127.0.0.1 until SIGINT or SIGTERM.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <scales/scales.h>

#define MAX_WORKERS 64
#define QUEUE_MAX 1024

struct endpoint_stats {
	scales_counter requests;
	scales_histogram latency;
};

static const struct scales_stat_desc endpoint_desc[] = {
	SCALES_DESC_COUNTER(struct endpoint_stats, requests, "requests served"),
	SCALES_DESC_HISTOGRAM(struct endpoint_stats, latency,
	                      SCALES_UNIT_SECONDS, "time to serve a request"),
	SCALES_DESC_END
};

struct worker_stats {
	scales_state state;
	scales_counter handled;
};

static const struct scales_stat_desc worker_desc[] = {
	/* timed: seconds per value (time in state, format 1.4) */
	SCALES_DESC_STATE_TIMED(struct worker_stats, state,
	                        "what the worker does"),
	SCALES_DESC_COUNTER(struct worker_stats, handled, "requests handled"),
	SCALES_DESC_END
};

static const struct scales_stat_desc workers_desc[] = {
	SCALES_DESC_STATES("state", "workers in each state"),
	SCALES_DESC_SUM("handled", "requests handled by all workers"),
	SCALES_DESC_END
};

enum endpoint {
	HOME,
	SEARCH,
	SLOW,
	ERROR_EP,
	NENDPOINTS
};
static const char *endpoint_names[NENDPOINTS] = { "home", "search", "slow",
	                                          "error" };

static struct {
	scales_registry *reg;
	scales_counter connections, bytes_in, bytes_out;
	scales_gauge open;
	scales_dict status;
	scales_counter status_200, status_404, status_500;
	struct endpoint_stats ep[NENDPOINTS];
	scales_scope *workers_scope;
	uint32_t st_idle, st_reading, st_handling, st_writing;
	struct timespec started;
} S;

/* The accept thread hands connections to workers through this queue. */
static struct {
	pthread_mutex_t lock;
	pthread_cond_t nonempty;
	int fds[QUEUE_MAX];
	unsigned head, len;
	bool stop;
} Q = { PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, { 0 }, 0, 0, 0 };

static int64_t queue_depth(void *arg)
{
	(void)arg;
	pthread_mutex_lock(&Q.lock);
	int64_t n = Q.len;
	pthread_mutex_unlock(&Q.lock);
	return n;
}

static double uptime(void *arg)
{
	(void)arg;
	struct timespec now;
	clock_gettime(CLOCK_MONOTONIC, &now);
	return (double)(now.tv_sec - S.started.tv_sec) +
	       (double)(now.tv_nsec - S.started.tv_nsec) * 1e-9;
}

static void sleep_us(long us)
{
	struct timespec ts = { us / 1000000, (us % 1000000) * 1000 };
	nanosleep(&ts, NULL);
}

static void serve_line(struct worker_stats *w, int fd, const char *line,
                       unsigned *seed)
{
	int code = 404;
	int ep = -1;
	if (strncmp(line, "GET ", 4) == 0)
		for (int i = 0; i < NENDPOINTS; i++)
			if (strcmp(line + 4, endpoint_names[i]) == 0)
				ep = i;
	scales_state_set(&w->state, S.st_handling);
	uint64_t t0 = 0;
	if (ep >= 0) {
		t0 = scales_timer_start(&S.ep[ep].latency);
		switch (ep) {
		case HOME:
			code = 200;
			break;
		case SEARCH:
			sleep_us(500 + (long)(rand_r(seed) % 1000));
			code = 200;
			break;
		case SLOW:
			sleep_us(15000 + (long)(rand_r(seed) % 10000));
			code = 200;
			break;
		default:
			code = 500;
			break;
		}
	}
	char reply[64];
	int n = snprintf(reply, sizeof reply, "%d %s\n", code,
	                 code == 200 ? "OK" :
	                               (code == 404 ? "Not Found" : "Error"));
	scales_state_set(&w->state, S.st_writing);
	if (write(fd, reply, (size_t)n) == n)
		scales_counter_add(&S.bytes_out, (uint64_t)n);
	if (ep >= 0) {
		scales_timer_stop(&S.ep[ep].latency, t0);
		scales_counter_inc(&S.ep[ep].requests);
	}
	/* cached dict keys: the hot path stays a plain counter add */
	scales_counter_inc(code == 200 ? &S.status_200 :
	                   code == 404 ? &S.status_404 :
	                                 &S.status_500);
	scales_counter_inc(&w->handled);
}

static void serve_connection(struct worker_stats *w, int fd, unsigned *seed)
{
	char buf[512];
	size_t used = 0;
	for (;;) {
		scales_state_set(&w->state, S.st_reading);
		ssize_t n = read(fd, buf + used, sizeof buf - 1 - used);
		if (n <= 0)
			break;
		scales_counter_add(&S.bytes_in, (uint64_t)n);
		used += (size_t)n;
		buf[used] = '\0';
		char *start = buf, *nl;
		while ((nl = strchr(start, '\n')) != NULL) {
			*nl = '\0';
			serve_line(w, fd, start, seed);
			start = nl + 1;
		}
		used = (size_t)(buf + used - start);
		memmove(buf, start, used);
		if (used == sizeof buf - 1)
			break; /* a line too long: drop the client */
	}
	close(fd);
	scales_gauge_dec(&S.open);
}

static void *worker_main(void *arg)
{
	int id = (int)(intptr_t)arg;
	unsigned seed = (unsigned)id * 7919u + 1;
	scales_scope *scope;
	struct worker_stats w;
	if (scales_scope_child(S.workers_scope, &scope, "worker-%d", id) == 0)
		scales_bind(scope, worker_desc, &w);
	else
		scales_bind(NULL, worker_desc, &w); /* sinks */
	for (;;) {
		scales_state_set(&w.state, S.st_idle);
		pthread_mutex_lock(&Q.lock);
		while (Q.len == 0 && !Q.stop)
			pthread_cond_wait(&Q.nonempty, &Q.lock);
		if (Q.stop) {
			pthread_mutex_unlock(&Q.lock);
			break;
		}
		int fd = Q.fds[Q.head];
		Q.head = (Q.head + 1) % QUEUE_MAX;
		Q.len--;
		pthread_mutex_unlock(&Q.lock);
		serve_connection(&w, fd, &seed);
	}
	return NULL;
}

/* Keeps the first error of a series of registrations. */
static void keep(int *first, int rc)
{
	if (rc && !*first)
		*first = rc;
}

/* Registers every stat, and goes on after an error: a failed registration
 * (also on a NULL registry, when scales_open failed) fills its handle with
 * a sink, but a registration that is skipped leaves a zeroed handle, which
 * is not one. Returns the first error. */
static int setup_stats(void)
{
	struct scales_options o;
	scales_options_init(&o);
	o.app = "demo-server";
	int rc = 0;
	keep(&rc, scales_open(&o, &S.reg));
	struct scales_info bytes = { "bytes", SCALES_UNIT_BYTES };
	keep(&rc, scales_counter_get(S.reg, "/server/connections",
	                             &(struct scales_info){
	                                 .help = "connections accepted" },
	                             &S.connections));
	keep(&rc, scales_counter_get(S.reg, "/server/bytes_in", &bytes,
	                             &S.bytes_in));
	keep(&rc, scales_counter_get(S.reg, "/server/bytes_out", &bytes,
	                             &S.bytes_out));
	keep(&rc, scales_gauge_get(S.reg, "/server/open",
	                           &(struct scales_info){
	                               .help = "open connections" },
	                           &S.open));
	keep(&rc, scales_gauge_callback_i64(S.reg, "/server/queue",
	                                    &(struct scales_info){
	                                        .help = "connections waiting" },
	                                    queue_depth, NULL));
	keep(&rc,
	     scales_gauge_callback(S.reg, "/server/uptime",
	                           &(struct scales_info){
	                               "seconds since start",
	                               SCALES_UNIT_SECONDS | SCALES_MERGE_MAX },
	                           uptime, NULL));
	/* the keys are values of the label "code" in /metrics */
	keep(&rc, scales_labelled_dict_get(S.reg, "/server/status", "code",
	                                   &(struct scales_info){
	                                       .help = "replies by code" },
	                                   &S.status));
	keep(&rc, scales_dict_key(&S.status, "200", &S.status_200));
	keep(&rc, scales_dict_key(&S.status, "404", &S.status_404));
	keep(&rc, scales_dict_key(&S.status, "500", &S.status_500));
	/* /endpoint/<name>: values of the label "endpoint", so that
	 * /metrics has scales_endpoint_latency_seconds{endpoint="home"} */
	scales_scope *endpoints = NULL;
	keep(&rc, scales_scope_root(S.reg, &endpoints, "/endpoint"));
	for (int i = 0; i < NENDPOINTS; i++) {
		scales_scope *ep = NULL;
		if (endpoints)
			keep(&rc,
			     scales_scope_labelled(endpoints, &ep, "endpoint",
			                           "%s", endpoint_names[i]));
		/* a NULL scope binds sinks */
		keep(&rc, scales_bind(ep, endpoint_desc, &S.ep[i]));
	}
	keep(&rc, scales_scope_root(S.reg, &S.workers_scope, "/workers"));
	keep(&rc, scales_bind(S.workers_scope, workers_desc, NULL));
	keep(&rc, scales_state_intern(S.reg, "idle", &S.st_idle));
	keep(&rc, scales_state_intern(S.reg, "reading", &S.st_reading));
	keep(&rc, scales_state_intern(S.reg, "handling", &S.st_handling));
	keep(&rc, scales_state_intern(S.reg, "writing", &S.st_writing));
	return rc;
}

int main(int argc, char **argv)
{
	int port = 0, nworkers = 4, opt;
	while ((opt = getopt(argc, argv, "p:w:h")) != -1) {
		switch (opt) {
		case 'p':
			port = atoi(optarg);
			break;
		case 'w':
			nworkers = atoi(optarg);
			break;
		default:
			fprintf(stderr,
			        "usage: demo-server [-p PORT] [-w WORKERS]\n");
			return 2;
		}
	}
	if (nworkers < 1 || nworkers > MAX_WORKERS || port < 0 ||
	    port > 65535) {
		fprintf(stderr, "demo-server: bad -p or -w\n");
		return 2;
	}
	clock_gettime(CLOCK_MONOTONIC, &S.started);
	sigset_t stop;
	sigemptyset(&stop);
	sigaddset(&stop, SIGINT);
	sigaddset(&stop, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &stop, NULL);
	signal(SIGPIPE, SIG_IGN);

	int rc = setup_stats();
	if (rc) {
		fprintf(stderr, "demo-server: stats: %s\n",
		        scales_strerror(rc));
		/* the server still runs: handles are sinks */
	}

	int ls = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	int one = 1;
	setsockopt(ls, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
	struct sockaddr_in a = { .sin_family = AF_INET,
		                 .sin_port = htons((uint16_t)port),
		                 .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t alen = sizeof a;
	if (ls < 0 || bind(ls, (struct sockaddr *)&a, sizeof a) != 0 ||
	    listen(ls, 128) != 0 ||
	    getsockname(ls, (struct sockaddr *)&a, &alen) != 0) {
		perror("demo-server: listen");
		return 1;
	}
	pthread_t workers[MAX_WORKERS];
	for (int i = 0; i < nworkers; i++)
		pthread_create(&workers[i], NULL, worker_main,
		               (void *)(intptr_t)i);
	printf("listening %d\nready\n", ntohs(a.sin_port));
	fflush(stdout);

	/* Accept in this thread; a signal ends it (checked between accepts
	 * with a short poll via SO_RCVTIMEO). */
	struct timeval tv = { 0, 200000 };
	setsockopt(ls, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
	for (;;) {
		struct timespec zero = { 0, 0 };
		if (sigtimedwait(&stop, NULL, &zero) > 0)
			break;
		int fd = accept4(ls, NULL, NULL, SOCK_CLOEXEC);
		if (fd < 0)
			continue;
		scales_counter_inc(&S.connections);
		scales_gauge_inc(&S.open);
		pthread_mutex_lock(&Q.lock);
		if (Q.len == QUEUE_MAX) {
			pthread_mutex_unlock(&Q.lock);
			close(fd);
			scales_gauge_dec(&S.open);
			continue;
		}
		Q.fds[(Q.head + Q.len) % QUEUE_MAX] = fd;
		Q.len++;
		pthread_cond_signal(&Q.nonempty);
		pthread_mutex_unlock(&Q.lock);
	}
	pthread_mutex_lock(&Q.lock);
	Q.stop = true;
	pthread_cond_broadcast(&Q.nonempty);
	pthread_mutex_unlock(&Q.lock);
	/* Workers finish their current connection; clients of a demo close
	 * theirs when the server stops answering, so do not wait forever. */
	for (int i = 0; i < nworkers; i++)
		shutdown(ls, SHUT_RDWR);
	close(ls);
	scales_close(&S.reg); /* removes the segment */
	_exit(0);             /* do not wait for workers blocked in read() */
}
