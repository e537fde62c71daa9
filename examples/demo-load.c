/* SPDX-License-Identifier: MIT */
/*
 * demo-load: a load generator for demo-server, instrumented too (so that
 * scales-top shows two processes talking).
 *
 * Usage: demo-load -p PORT [-c CONNECTIONS] [-d SECONDS] [-r RATE]
 * Each connection sends "GET <endpoint>\n" requests in a loop (home 60%,
 * search 30%, slow 5%, error 3%, missing 2%) to 127.0.0.1:PORT, at most
 * RATE requests per second per connection (0: as fast as answers come),
 * for SECONDS seconds (0: until SIGINT or SIGTERM).
 *
 * Stats: /load/sent, /load/failed, /load/latency (a histogram),
 * /load/replies/<code> (a dict stat).
 */
#include <arpa/inet.h>
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

#define MAX_CONNS 64

static struct {
	scales_counter sent, failed;
	scales_histogram latency;
	scales_dict replies;
} L;

static int port, rate;
static volatile sig_atomic_t stop;
static struct timespec deadline;

static bool past_deadline(void)
{
	if (deadline.tv_sec == 0)
		return false;
	struct timespec now;
	clock_gettime(CLOCK_MONOTONIC, &now);
	return now.tv_sec > deadline.tv_sec ||
	       (now.tv_sec == deadline.tv_sec &&
	        now.tv_nsec >= deadline.tv_nsec);
}

static const char *pick(unsigned *seed)
{
	unsigned r = (unsigned)rand_r(seed) % 100;
	return r < 60 ? "home" :
	       r < 90 ? "search" :
	       r < 95 ? "slow" :
	       r < 98 ? "error" :
	                "missing";
}

static int connect_server(void)
{
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	struct sockaddr_in a = { .sin_family = AF_INET,
		                 .sin_port = htons((uint16_t)port),
		                 .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	if (fd >= 0 && connect(fd, (struct sockaddr *)&a, sizeof a) == 0)
		return fd;
	if (fd >= 0)
		close(fd);
	return -1;
}

static void *client(void *arg)
{
	unsigned seed = (unsigned)(uintptr_t)arg * 2654435761u;
	int fd = -1;
	while (!stop && !past_deadline()) {
		if (fd < 0 && (fd = connect_server()) < 0) {
			scales_counter_inc(&L.failed);
			usleep(100000);
			continue;
		}
		char req[64], rep[64];
		int n = snprintf(req, sizeof req, "GET %s\n", pick(&seed));
		uint64_t t0 = scales_timer_start(&L.latency);
		ssize_t got = -1;
		if (write(fd, req, (size_t)n) == n)
			got = read(fd, rep, sizeof rep - 1);
		if (got <= 0) {
			scales_counter_inc(&L.failed);
			close(fd);
			fd = -1;
			continue;
		}
		scales_timer_stop(&L.latency, t0);
		scales_counter_inc(&L.sent);
		rep[got] = '\0';
		char code[4] = { rep[0], rep[1], rep[2], '\0' };
		scales_dict_add(&L.replies, code, 1); /* slow path: a lookup */
		if (rate > 0)
			usleep((useconds_t)(1000000 / rate));
	}
	if (fd >= 0)
		close(fd);
	return NULL;
}

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

int main(int argc, char **argv)
{
	int conns = 4, seconds = 0, opt;
	while ((opt = getopt(argc, argv, "p:c:d:r:h")) != -1) {
		switch (opt) {
		case 'p':
			port = atoi(optarg);
			break;
		case 'c':
			conns = atoi(optarg);
			break;
		case 'd':
			seconds = atoi(optarg);
			break;
		case 'r':
			rate = atoi(optarg);
			break;
		default:
			fprintf(stderr, "usage: demo-load -p PORT [-c CONNS] "
			                "[-d SECONDS] [-r RATE]\n");
			return 2;
		}
	}
	if (port <= 0 || port > 65535 || conns < 1 || conns > MAX_CONNS ||
	    seconds < 0 || rate < 0) {
		fprintf(stderr, "demo-load: bad arguments (see -h)\n");
		return 2;
	}
	if (seconds > 0) {
		clock_gettime(CLOCK_MONOTONIC, &deadline);
		deadline.tv_sec += seconds;
	}
	struct sigaction sa = { .sa_handler = on_signal };
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);

	struct scales_options o;
	scales_options_init(&o);
	o.app = "demo-load";
	scales_registry *reg;
	int rc = scales_open(&o, &reg);
	if (rc)
		fprintf(stderr, "demo-load: stats: %s\n", scales_strerror(rc));
	scales_counter_get(reg, "/load/sent", NULL, &L.sent);
	scales_counter_get(reg, "/load/failed", NULL, &L.failed);
	scales_histogram_get(reg, "/load/latency",
	                     &(struct scales_info){ "round trip",
	                                            SCALES_UNIT_SECONDS },
	                     NULL, &L.latency);
	scales_dict_get(reg, "/load/replies", NULL, &L.replies);

	pthread_t t[MAX_CONNS];
	for (int i = 0; i < conns; i++)
		pthread_create(&t[i], NULL, client, (void *)(uintptr_t)(i + 1));
	for (int i = 0; i < conns; i++)
		pthread_join(t[i], NULL);
	if (reg)
		scales_close(&reg);
	return 0;
}
