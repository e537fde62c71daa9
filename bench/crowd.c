/* SPDX-License-Identifier: MIT */
/*
 * crowd.c: many writer processes for the many-process benchmark (bench/
 * many.c) and the churn test (test/top/churn-test.sh).
 *
 *   scales-crowd [--counters C] [--histograms H] [--churn] N
 *
 * Forks N processes; each opens its own segment (app "crowd", in
 * $SCALES_DIR), registers C counters (default 80) and H default
 * histograms (default 20), records into each, and says it is ready. Once
 * all are, prints "ready N" on stdout. With --churn it then, until its
 * standard input ends, keeps replacing its processes: one killed
 * (SIGKILL: its segment stays behind, dead), one exiting cleanly (its
 * segment removed), two new ones started, over and over, so that a
 * reader's pass sees segments appear, die and vanish under it. Without
 * it, it waits for the end of its standard input. Then every process
 * ends and it exits 0.
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <scales/scales.h>

static long ncounters = 80, nhistograms = 20;
static volatile sig_atomic_t leave;

static void on_usr1(int sig)
{
	(void)sig;
	leave = 1;
}

static void die(const char *what)
{
	fprintf(stderr, "scales-crowd: %s: %s\n", what, strerror(errno));
	exit(1);
}

/* One writer: registers, records, reports on ready, then lives until the
 * parent closes quit (or dies). */
static void writer(int ready, int quit)
{
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	/* SIGUSR1: close the registry (the segment goes) and exit */
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_usr1;
	sigaction(SIGUSR1, &sa, NULL);
	/* blocked but while waiting in ppoll(): no lost wake-up */
	sigset_t block, waitmask;
	sigemptyset(&block);
	sigaddset(&block, SIGUSR1);
	sigprocmask(SIG_BLOCK, &block, &waitmask);
	sigdelset(&waitmask, SIGUSR1);
	struct scales_options o;
	scales_options_init(&o);
	o.app = "crowd";
	scales_registry *r;
	int rc = scales_open(&o, &r);
	if (rc) {
		fprintf(stderr, "scales-crowd: scales_open: %s\n",
		        scales_strerror(rc));
		_exit(1);
	}
	for (long i = 0; i < ncounters; i++) {
		char p[64];
		snprintf(p, sizeof p, "/crowd/requests-%03ld", i);
		scales_counter c;
		if (scales_counter_get(r, p, NULL, &c))
			_exit(1);
		scales_counter_add(&c, (uint64_t)(i + 1) * (uint64_t)getpid());
	}
	for (long i = 0; i < nhistograms; i++) {
		char p[64];
		snprintf(p, sizeof p, "/crowd/latency-%03ld", i);
		scales_histogram h;
		if (scales_histogram_get(r, p, NULL, NULL, &h))
			_exit(1);
		for (uint64_t v = 1000; v < 100000000; v = v * 3 + 7)
			scales_histogram_record(&h, v + (uint64_t)i);
	}
	char c = 'r';
	if (write(ready, &c, 1) != 1)
		_exit(1);
	struct pollfd pq = { .fd = quit, .events = POLLIN };
	while (!leave && ppoll(&pq, 1, NULL, &waitmask) < 0 && errno == EINTR)
		;
	scales_close(&r);
	_exit(0);
}

struct crowd {
	pid_t *pids;
	long n;
	int ready[2], quit[2];
};

static pid_t spawn(struct crowd *c)
{
	fflush(NULL);
	pid_t p = fork();
	if (p < 0)
		die("fork");
	if (p == 0) {
		close(c->ready[0]);
		close(c->quit[1]);
		writer(c->ready[1], c->quit[0]);
	}
	return p;
}

/* Waits for k "ready" bytes. */
static void await_ready(struct crowd *c, long k)
{
	while (k > 0) {
		char b[256];
		ssize_t r = read(c->ready[0], b, (size_t)(k < 256 ? k : 256));
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			fprintf(stderr, "scales-crowd: a writer failed\n");
			exit(1);
		}
		k -= r;
	}
}

static bool stdin_ended(int timeout_ms)
{
	struct pollfd p = { .fd = 0, .events = POLLIN };
	if (poll(&p, 1, timeout_ms) <= 0)
		return false;
	char b[64];
	return read(0, b, sizeof b) <= 0;
}

int main(int argc, char **argv)
{
	bool churn = false;
	long n = -1;
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--counters") && i + 1 < argc)
			ncounters = atol(argv[++i]);
		else if (!strcmp(argv[i], "--histograms") && i + 1 < argc)
			nhistograms = atol(argv[++i]);
		else if (!strcmp(argv[i], "--churn"))
			churn = true;
		else if (n < 0 && argv[i][0] >= '0' && argv[i][0] <= '9')
			n = atol(argv[i]);
		else
			n = -2;
	}
	if (n < 1 || ncounters < 0 || nhistograms < 0) {
		fprintf(stderr, "usage: scales-crowd [--counters C] "
		                "[--histograms H] [--churn] N\n");
		return 2;
	}
	signal(SIGPIPE, SIG_IGN);
	struct crowd c = {
		calloc((size_t)n, sizeof(pid_t)), n, { -1, -1 }, { -1, -1 }
	};
	if (!c.pids || pipe(c.ready) || pipe(c.quit))
		die("setup");
	for (long i = 0; i < n; i++)
		c.pids[i] = spawn(&c);
	await_ready(&c, n);
	printf("ready %ld\n", n);
	fflush(stdout);
	if (churn) {
		/* slot k: killed (a crash), slot k + 1: asked to exit
		 * cleanly (SIGUSR1) */
		for (long k = 0; !stdin_ended(50); k = (k + 2) % n) {
			kill(c.pids[k], SIGKILL);
			waitpid(c.pids[k], NULL, 0);
			c.pids[k] = spawn(&c);
			if (n > 1) {
				long j = (k + 1) % n;
				kill(c.pids[j], SIGUSR1);
				waitpid(c.pids[j], NULL, 0);
				c.pids[j] = spawn(&c);
			}
			await_ready(&c, n > 1 ? 2 : 1);
		}
	} else {
		while (!stdin_ended(-1))
			;
	}
	close(c.quit[1]); /* every writer's read() returns 0: they close */
	for (long i = 0; i < n; i++)
		waitpid(c.pids[i], NULL, 0);
	free(c.pids); /* LeakSanitizer (make sanitize) checks at exit */
	return 0;
}
