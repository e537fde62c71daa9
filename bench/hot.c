/* SPDX-License-Identifier: MIT */
/*
 * hot.c: the writer's hot path against its baselines, at 1 thread, 2
 * threads and every CPU, trials interleaved round by round; and
 * cross_process, a forked child incrementing the same counter.
 *
 * Every measured loop has the same shape: n iterations of one operation
 * followed by BENCH_BARRIER() (a compiler barrier, no instruction), the
 * operation's handle or target copied to a local first. The barrier keeps
 * the compiler from folding or vectorising plain_add; the scales operations
 * (whose asm already clobbers memory) pay for it identically.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <math.h>
#include <netinet/in.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <scales/reader.h>

#include "bench.h"

/* ------------------------------------------------------ shared targets */

static scales_registry *reg, *reg_norseq;
static scales_counter g_counter, g_counter_norseq, g_cross;
static scales_histogram g_hist, g_timer;
static scales_gauge g_gauge;
static scales_state g_state, g_state_timed;
static uint32_t g_state_ids[2];

/* Values recorded by histogram_record: log-uniform from 100 ns to 10 ms. */
#define HVALS 256
static uint64_t g_hvals[HVALS];

/* Contended baselines, each on its own cache lines. */
static struct {
	_Alignas(128) uint64_t shared_word;
	_Alignas(128) pthread_mutex_t mutex;
	_Alignas(128) uint64_t mutex_word;
	_Alignas(128) char end;
} g_sh = { .mutex = PTHREAD_MUTEX_INITIALIZER };

/* The statsd-style UDP receiver (never read during a trial; drained
 * between trials) and the datagram each increment sends: 30 bytes. */
static int udp_rx = -1;
static struct sockaddr_in udp_addr;
static const char udp_msg[] = "scales.bench.http.requests:1|c";

/* ------------------------------------------------------- the loops */

#define LOOP __attribute__((noinline)) static void

LOOP loop_plain_add(struct worker *w, uint64_t n)
{
	uint64_t *p = w->priv;
	for (uint64_t i = 0; i < n; i++) {
		*p += 1;
		BENCH_BARRIER();
	}
}

LOOP loop_counter_inc(struct worker *w, uint64_t n)
{
	const scales_counter c = g_counter;
	for (uint64_t i = 0; i < n; i++) {
		scales_counter_inc(&c);
		BENCH_BARRIER();
	}
}

LOOP loop_counter_inc_fallback(struct worker *w, uint64_t n)
{
	const scales_counter c = g_counter_norseq;
	for (uint64_t i = 0; i < n; i++) {
		scales_counter_inc(&c);
		BENCH_BARRIER();
	}
}

LOOP loop_histogram_record(struct worker *w, uint64_t n)
{
	const scales_histogram h = g_hist;
	for (uint64_t i = 0; i < n; i++) {
		scales_histogram_record(&h, g_hvals[i % HVALS]);
		BENCH_BARRIER();
	}
}

LOOP loop_gauge_set(struct worker *w, uint64_t n)
{
	const scales_gauge g = g_gauge;
	for (uint64_t i = 0; i < n; i++) {
		scales_gauge_set(&g, (int64_t)i);
		BENCH_BARRIER();
	}
}

LOOP loop_state_set(struct worker *w, uint64_t n)
{
	const scales_state s = g_state;
	for (uint64_t i = 0; i < n; i++) {
		scales_state_set(&s, g_state_ids[i & 1]);
		BENCH_BARRIER();
	}
}

/* Time in state: a clock read, a compare-and-swap of the current word
 * and an add of the closed interval per set (docs/format.md 6.3). */
LOOP loop_state_set_timed(struct worker *w, uint64_t n)
{
	const scales_state s = g_state_timed;
	for (uint64_t i = 0; i < n; i++) {
		scales_state_set(&s, g_state_ids[i & 1]);
		BENCH_BARRIER();
	}
}

LOOP loop_timer_pair(struct worker *w, uint64_t n)
{
	const scales_histogram h = g_timer;
	for (uint64_t i = 0; i < n; i++) {
		uint64_t t = scales_timer_start(&h);
		scales_timer_stop(&h, t);
		BENCH_BARRIER();
	}
}

/* The floor of timer_pair: two raw TSC reads (as scales_timer_start()
 * does them) and one record of their difference, in ticks, into the same
 * histogram. Where there is no TSC, two scales_timer_start() calls. */
LOOP loop_tsc_pair_record(struct worker *w, uint64_t n)
{
	const scales_histogram h = g_timer;
	for (uint64_t i = 0; i < n; i++) {
#if defined(__x86_64__)
		uint32_t lo, hi;
		__asm__ __volatile__("rdtsc" : "=a"(lo), "=d"(hi));
		uint64_t a = ((uint64_t)hi << 32) | lo;
		__asm__ __volatile__("rdtsc" : "=a"(lo), "=d"(hi));
		uint64_t b = ((uint64_t)hi << 32) | lo;
#else
		uint64_t a = scales_timer_start(&h);
		uint64_t b = scales_timer_start(&h);
#endif
		scales_histogram_record(&h, b - a);
		BENCH_BARRIER();
	}
}

LOOP loop_lookup_hot(struct worker *w, uint64_t n)
{
	scales_counter c;
	uint64_t bad = 0;
	for (uint64_t i = 0; i < n; i++) {
		bad +=
		    scales_counter_get(reg, "/bench/lookup/hot", NULL, &c) != 0;
		BENCH_BARRIER();
	}
	w->sink += bad;
}

LOOP loop_shared_atomic(struct worker *w, uint64_t n)
{
	uint64_t *p = &g_sh.shared_word;
	for (uint64_t i = 0; i < n; i++) {
		__atomic_fetch_add(p, 1, __ATOMIC_RELAXED); /* lock add */
		BENCH_BARRIER();
	}
}

LOOP loop_mutex(struct worker *w, uint64_t n)
{
	pthread_mutex_t *m = &g_sh.mutex;
	uint64_t *p = &g_sh.mutex_word;
	for (uint64_t i = 0; i < n; i++) {
		pthread_mutex_lock(m);
		*p += 1;
		pthread_mutex_unlock(m);
		BENCH_BARRIER();
	}
}

LOOP loop_udp_datagram(struct worker *w, uint64_t n)
{
	int fd = w->udp_fd;
	uint64_t fail = 0;
	for (uint64_t i = 0; i < n; i++) {
		fail += send(fd, udp_msg, sizeof udp_msg - 1, 0) < 0;
		BENCH_BARRIER();
	}
	w->sink += fail;
}

LOOP loop_clock_gettime_pair(struct worker *w, uint64_t n)
{
	uint64_t acc = 0;
	for (uint64_t i = 0; i < n; i++) {
		struct timespec a, b;
		clock_gettime(CLOCK_MONOTONIC, &a);
		clock_gettime(CLOCK_MONOTONIC, &b);
		acc += (uint64_t)(b.tv_nsec - a.tv_nsec);
		BENCH_BARRIER();
	}
	w->sink += acc;
}

/* ------------------------------------------------------------- cases */

static void udp_drain(void)
{
	char buf[2048];
	while (recv(udp_rx, buf, sizeof buf, MSG_DONTWAIT) > 0)
		;
}

struct hot_case {
	const char *name;
	bench_loop_f loop;
	void (*prepare)(void); /* untimed, before each trial */
	bool sleeps;           /* may sleep: no disturbance check */
};

static const struct hot_case cases[] = {
	{ "plain_add", loop_plain_add, NULL, false },
	{ "counter_inc", loop_counter_inc, NULL, false },
	{ "counter_inc_fallback", loop_counter_inc_fallback, NULL, false },
	{ "histogram_record", loop_histogram_record, NULL, false },
	{ "gauge_set", loop_gauge_set, NULL, false },
	{ "state_set", loop_state_set, NULL, false },
	{ "state_set_timed", loop_state_set_timed, NULL, false },
	{ "timer_pair", loop_timer_pair, NULL, false },
	{ "tsc_pair_record", loop_tsc_pair_record, NULL, false },
	{ "lookup_hot", loop_lookup_hot, NULL, false },
	{ "shared_atomic", loop_shared_atomic, NULL, false },
	{ "mutex", loop_mutex, NULL, true }, /* futex waits */
	{ "udp_datagram", loop_udp_datagram, udp_drain, false },
	{ "clock_gettime_pair", loop_clock_gettime_pair, NULL, false },
};
#define NCASES (sizeof cases / sizeof cases[0])

/* ------------------------------------------------------------- set-up */

static void udp_setup(void)
{
	udp_rx = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (udp_rx < 0)
		bench_die("socket: %s", strerror(errno));
	memset(&udp_addr, 0, sizeof udp_addr);
	udp_addr.sin_family = AF_INET;
	udp_addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (bind(udp_rx, (struct sockaddr *)&udp_addr, sizeof udp_addr) != 0)
		bench_die("bind 127.0.0.1: %s", strerror(errno));
	socklen_t al = sizeof udp_addr;
	getsockname(udp_rx, (struct sockaddr *)&udp_addr, &al);
	/* room for a whole trial's datagrams, so none is dropped */
	int sz = 256 << 20;
	if (setsockopt(udp_rx, SOL_SOCKET, SO_RCVBUFFORCE, &sz, sizeof sz))
		setsockopt(udp_rx, SOL_SOCKET, SO_RCVBUF, &sz, sizeof sz);
}

static void udp_connect_pool(struct pool *p)
{
	for (int i = 0; i < p->nthreads; i++) {
		int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
		if (fd < 0 || connect(fd, (struct sockaddr *)&udp_addr,
		                      sizeof udp_addr) != 0)
			bench_die("udp socket: %s", strerror(errno));
		p->w[i].udp_fd = fd;
	}
}

static void udp_close_pool(struct pool *p)
{
	for (int i = 0; i < p->nthreads; i++)
		if (p->w[i].udp_fd >= 0)
			close(p->w[i].udp_fd);
}

static void check(int rc, const char *what)
{
	if (rc)
		bench_die("%s: %s", what, scales_strerror(rc));
}

static void registries_open(const char *dir)
{
	struct scales_options o;
	scales_options_init(&o);
	o.dir = dir;
	o.app = "bench-hot";
	o.flags = SCALES_NO_SAMPLER;
	o.max_entries = 256;
	o.stripe_bytes = 1 << 20;
	check(scales_open(&o, &reg), "scales_open");
	o.app = "bench-norseq";
	o.flags = SCALES_NO_SAMPLER | SCALES_NO_RSEQ;
	check(scales_open(&o, &reg_norseq), "scales_open (SCALES_NO_RSEQ)");

	check(scales_counter_get(reg, "/bench/counter", NULL, &g_counter),
	      "counter");
	check(scales_counter_get(reg_norseq, "/bench/counter", NULL,
	                         &g_counter_norseq),
	      "counter (fallback)");
	check(scales_counter_get(reg, "/bench/cross", NULL, &g_cross),
	      "counter /bench/cross");
	scales_counter look;
	check(scales_counter_get(reg, "/bench/lookup/hot", NULL, &look),
	      "counter /bench/lookup/hot");
	struct scales_info sec = { "bench latency", SCALES_UNIT_SECONDS };
	check(scales_histogram_get(reg, "/bench/histogram", &sec, NULL,
	                           &g_hist),
	      "histogram");
	check(scales_histogram_get(reg, "/bench/timer", &sec, NULL, &g_timer),
	      "timer histogram");
	check(scales_gauge_get(reg, "/bench/gauge", NULL, &g_gauge), "gauge");
	check(scales_state_get(reg, "/bench/state", NULL, &g_state), "state");
	struct scales_info timed = { NULL, SCALES_STATE_TIMED };
	check(scales_state_get(reg, "/bench/state_timed", &timed,
	                       &g_state_timed),
	      "timed state");
	check(scales_state_intern(reg, "waitingForTask", &g_state_ids[0]),
	      "intern");
	check(scales_state_intern(reg, "running", &g_state_ids[1]), "intern");

	/* log-uniform values, 100 ns .. 10 ms */
	uint64_t x = 88172645463325252ull;
	for (int i = 0; i < HVALS; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		double u = (double)(x >> 11) / 9007199254740992.0;
		g_hvals[i] = (uint64_t)(100.0 * pow(1e5, u));
	}
}

/* ------------------------------------------------------------ measuring */

/* After this moment disturbed trials are kept: on a busy machine the run
 * must still end in reasonable time. */
static uint64_t retry_deadline;

/* One trial of ms milliseconds: ns per operation per thread. A trial in
 * which a thread lost its CPU to another process is run again, up to
 * BENCH_RETRIES times (counted in *retried). */
static double trial(struct pool *p, const struct hot_case *c, uint64_t chunk,
                    double ms, int *retried)
{
	for (int attempt = 0;; attempt++) {
		if (c->prepare)
			c->prepare();
		bool disturbed;
		double ns = pool_run(p, c->loop, chunk, (uint64_t)(ms * 1e6),
		                     &disturbed);
		if (!disturbed || c->sleeps || attempt == BENCH_RETRIES ||
		    bench_now_ns() > retry_deadline)
			return ns;
		(*retried)++;
	}
}

/* Iterations per chunk: about 100 us (also warms up). */
static uint64_t calibrate(struct pool *p, const struct hot_case *c)
{
	uint64_t n = 64;
	for (;;) {
		if (c->prepare)
			c->prepare();
		double ns = pool_run(p, c->loop, n, 0, NULL);
		if (ns * (double)n >= 2e6 || n >= (1ull << 36)) {
			double chunk = 1e5 / ns;
			return chunk < 1 ? 1 : (uint64_t)chunk;
		}
		n *= 4;
	}
}

/* ------------------------------------------------------- cross_process */

struct cross_shared {
	int ready;
	int go;
	uint64_t t0, t1, cpu_ns, count; /* the child's */
};

/* Increments /bench/cross in chunks for duration_ns (one chunk if 0). */
static void cross_loop(uint64_t chunk, uint64_t duration_ns, uint64_t *t0,
                       uint64_t *t1, uint64_t *cpu_ns, uint64_t *count)
{
	const scales_counter c = g_cross;
	uint64_t c0 = bench_thread_cpu_ns();
	uint64_t start = bench_now_ns(), now, n = 0;
	do {
		for (uint64_t i = 0; i < chunk; i++) {
			scales_counter_inc(&c);
			BENCH_BARRIER();
		}
		n += chunk;
		now = bench_now_ns();
	} while (now < start + duration_ns);
	*cpu_ns = bench_thread_cpu_ns() - c0;
	*t0 = start;
	*t1 = now;
	*count = n;
}

/* One trial: this process and a forked child increment the same counter
 * at once; *total receives the increments of both. Returns ns per
 * increment per process. */
static double cross_trial(struct cross_shared *cs, uint64_t chunk,
                          uint64_t duration_ns, int cpu_child, uint64_t *total,
                          bool *disturbed)
{
	__atomic_store_n(&cs->ready, 0, __ATOMIC_RELEASE);
	__atomic_store_n(&cs->go, 0, __ATOMIC_RELEASE);
	fflush(NULL);
	pid_t pid = fork();
	if (pid < 0)
		bench_die("fork: %s", strerror(errno));
	if (pid == 0) {
		bench_pin_self(cpu_child);
		__atomic_store_n(&cs->ready, 1, __ATOMIC_RELEASE);
		while (!__atomic_load_n(&cs->go, __ATOMIC_ACQUIRE))
			;
		cross_loop(chunk, duration_ns, &cs->t0, &cs->t1, &cs->cpu_ns,
		           &cs->count);
		_exit(0);
	}
	while (!__atomic_load_n(&cs->ready, __ATOMIC_ACQUIRE))
		;
	__atomic_store_n(&cs->go, 1, __ATOMIC_RELEASE);
	uint64_t t0, t1, cpu, count;
	cross_loop(chunk, duration_ns, &t0, &t1, &cpu, &count);
	int st;
	if (waitpid(pid, &st, 0) != pid || !WIFEXITED(st) ||
	    WEXITSTATUS(st) != 0)
		bench_die("cross_process: the child failed");
	*total = count + cs->count;
	uint64_t a = t0 < cs->t0 ? t0 : cs->t0;
	uint64_t b = t1 > cs->t1 ? t1 : cs->t1;
	*disturbed = bench_disturbed(cpu, t1 - t0) ||
	             bench_disturbed(cs->cpu_ns, cs->t1 - cs->t0) ||
	             bench_disturbed(t1 - t0, b - a) ||
	             bench_disturbed(cs->t1 - cs->t0, b - a);
	double ops_per_ns = (double)count / (double)(t1 - t0) +
	                    (double)cs->count / (double)(cs->t1 - cs->t0);
	return 2.0 / ops_per_ns;
}

/* The counter's value as a reader in this process sees it. */
static uint64_t read_counter(const char *path)
{
	char err[256];
	scales_segment *seg;
	int rc = scales_segment_open(scales_registry_path(reg), 0, &seg, err,
	                             sizeof err);
	if (rc)
		bench_die("cross_process: %s", err);
	struct scales_snapshot *s;
	rc = scales_snapshot_take(seg, 0, &s, err, sizeof err);
	if (rc)
		bench_die("cross_process: %s", err);
	const struct scales_metric *m = scales_snapshot_find(s, path);
	if (!m)
		bench_die("cross_process: %s not in the snapshot", path);
	uint64_t v = m->v.u64;
	scales_snapshot_free(&s);
	scales_segment_close(&seg);
	return v;
}

static void bench_cross(int rounds, double trial_ms)
{
	struct cross_shared *cs = mmap(NULL, 4096, PROT_READ | PROT_WRITE,
	                               MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (cs == MAP_FAILED)
		bench_die("mmap: %s", strerror(errno));
	bench_pin_self(bench_cpu(0));
	int b = bench_cpu(1);
	uint64_t expect = read_counter("/bench/cross"), total;
	/* chunks of about 100 us */
	uint64_t chunk = 1 << 16;
	bool dist;
	for (;;) {
		double ns = cross_trial(cs, chunk, 0, b, &total, &dist);
		expect += total;
		if (ns * (double)chunk >= 2e6 || chunk >= (1ull << 34)) {
			chunk = (uint64_t)(1e5 / ns) + 1;
			break;
		}
		chunk *= 4;
	}
	double v[BENCH_MAX_ROUNDS];
	int retried = 0;
	for (int r = 0; r < rounds; r++) {
		for (int attempt = 0;; attempt++) {
			v[r] =
			    cross_trial(cs, chunk, (uint64_t)(trial_ms * 1e6),
			                b, &total, &dist);
			expect += total;
			if (!dist || attempt == BENCH_RETRIES ||
			    bench_now_ns() > retry_deadline)
				break;
			retried++;
		}
		uint64_t got = read_counter("/bench/cross");
		if (got != expect)
			bench_die("cross_process: counter is %llu, expected "
			          "%llu (lost %lld increments)",
			          (unsigned long long)got,
			          (unsigned long long)expect,
			          (long long)(expect - got));
	}
	bench_unpin_self();
	munmap(cs, 4096);
	result_add("cross_process", 2, bench_median(v, rounds),
	           bench_min(v, rounds), bench_max(v, rounds), rounds);
	result_set_retried("cross_process", 2, retried);
	bench_log("  cross_process: exact total %llu checked after each of "
	          "%d trials\n",
	          (unsigned long long)expect, rounds);
}

/* ---------------------------------------------------------------- entry */

int bench_hot(const struct hot_config *cfg)
{
	registries_open(cfg->dir);
	udp_setup();
	/* retries may at most double the time the trials take */
	retry_deadline = bench_now_ns() + (uint64_t)(2 * cfg->trial_ms * 1e6 *
	                                             cfg->rounds * NCASES * 3);

	/* thread counts: 1, 2 and every CPU (deduplicated) */
	int nconf = 0, confs[3];
	int all = bench_ncpus();
	if (all > BENCH_MAX_THREADS)
		all = BENCH_MAX_THREADS;
	confs[nconf++] = 1;
	confs[nconf++] = 2;
	if (all > 2)
		confs[nconf++] = all;

	static struct pool pools[3];
	for (int k = 0; k < nconf; k++) {
		if (pool_start(&pools[k], confs[k]))
			bench_die("pool_start");
		udp_connect_pool(&pools[k]);
	}
	if (!scales_registry_path(reg))
		bench_die("no registry path");

	uint64_t chunk[NCASES][3];
	static double v[NCASES][3][BENCH_MAX_ROUNDS];
	bench_log("hot path: calibrating %zu benchmarks x %d thread counts "
	          "(%.0f ms trials)\n",
	          NCASES, nconf, cfg->trial_ms);
	for (size_t c = 0; c < NCASES; c++)
		for (int k = 0; k < nconf; k++)
			chunk[c][k] = calibrate(&pools[k], &cases[c]);

	/* Rounds: every benchmark at every thread count once per round, so
	 * that a noisy moment hits them all alike. */
	bench_log("hot path: %d interleaved rounds\n", cfg->rounds);
	int retried[NCASES][3];
	memset(retried, 0, sizeof retried);
	for (int r = 0; r < cfg->rounds; r++)
		for (int k = 0; k < nconf; k++)
			for (size_t c = 0; c < NCASES; c++)
				v[c][k][r] =
				    trial(&pools[k], &cases[c], chunk[c][k],
				          cfg->trial_ms, &retried[c][k]);

	for (size_t c = 0; c < NCASES; c++) {
		for (int k = 0; k < nconf; k++) {
			int n = cfg->rounds;
			result_add(cases[c].name, confs[k],
			           bench_median(v[c][k], n),
			           bench_min(v[c][k], n), bench_max(v[c][k], n),
			           n);
			result_set_retried(cases[c].name, confs[k],
			                   retried[c][k]);
		}
	}
	for (int k = 0; k < nconf; k++) {
		udp_close_pool(&pools[k]);
		pool_stop(&pools[k]);
	}
	close(udp_rx);

	if (bench_ncpus() >= 2) {
		retry_deadline = bench_now_ns() + (uint64_t)(4 * cfg->trial_ms *
		                                             1e6 * cfg->rounds);
		bench_cross(cfg->rounds, cfg->trial_ms);
	} else {
		bench_log("  cross_process: skipped (one CPU)\n");
	}

	scales_close(&reg_norseq);
	scales_close(&reg);
	return 0;
}
