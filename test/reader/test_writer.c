/* SPDX-License-Identifier: MIT */
/*
 * test_writer.c: the reader library against segments written by the real
 * writer (libscales): histogram quantiles of 100,000 random values,
 * aggregates declared through scopes, and snapshots taken while writer
 * threads register, update and retire stats (never a torn or invalid
 * entry), a snapshot of 100,000 metrics, and a histogram's words read
 * while another process records into them (never torn, never back).
 */
#include <math.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <scales/scales.h>

#include "common.h"

static char *dir;

static void setup(void)
{
	dir = sb_tmpdir();
}

static void teardown(void)
{
	sb_rmdir(dir);
	free(dir);
}

TestSuite(writer, .init = setup, .fini = teardown, .timeout = 120);

static scales_registry *open_reg(const char *app, uint32_t max_entries)
{
	struct scales_options o;
	scales_options_init(&o);
	o.app = app;
	o.flags = SCALES_NO_SAMPLER;
	o.max_entries = max_entries;
	o.dir = dir;
	scales_registry *reg = NULL;
	int rc = scales_open(&o, &reg);
	cr_assert_eq(rc, 0, "scales_open: %s", scales_strerror(rc));
	return reg;
}

static struct scales_snapshot *snap_reg(scales_registry *reg)
{
	scales_segment *seg = must_open(scales_registry_path(reg));
	struct scales_snapshot *s = must_snap(seg, 0);
	scales_segment_close(&seg);
	return s;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

Test(writer, histogram_quantiles_of_100000_values)
{
	scales_registry *reg = open_reg("hist", 0);
	scales_histogram h;
	struct scales_info info = { "request latency", SCALES_UNIT_SECONDS };
	cr_assert_eq(scales_histogram_get(reg, "/lat", &info, NULL, &h), 0);
	size_t n = 100000;
	uint64_t *v = malloc(n * sizeof(*v));
	uint64_t x = 0x243f6a8885a308d3ull;
	for (size_t i = 0; i < n; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		double u = (double)(x >> 11) / 9007199254740992.0;
		v[i] = (uint64_t)exp(log(1e4) + u * log(1e6)); /* 10us..10s */
		scales_histogram_record(&h, v[i]);
	}
	struct scales_snapshot *s = snap_reg(reg);
	const struct scales_metric *m = must_find(s, "/lat");
	cr_assert_eq(m->unit, SCALES_UNIT_SECONDS);
	cr_assert_str_eq(m->help, "request latency");
	qsort(v, n, sizeof(*v), cmp_u64);
	struct scales_hstats st;
	scales_histo_stats(&m->side->hist, &st);
	cr_assert_eq(st.count, n);
	cr_assert_float_eq(st.min, (double)v[0] * 1e-9, 1e-15);
	cr_assert_float_eq(st.max, (double)v[n - 1] * 1e-9, 1e-15);
	static const double qs[6] = { 0.5, 0.75, 0.95, 0.98, 0.99, 0.999 };
	double got[6] = { st.p50, st.p75, st.p95, st.p98, st.p99, st.p999 };
	for (int i = 0; i < 6; i++) {
		size_t rank = (size_t)ceil(qs[i] * (double)n - 1e-9);
		double exact = (double)v[rank - 1] * 1e-9;
		cr_assert(fabs(got[i] - exact) / exact <= 0.02,
		          "q %g: %.9g, exact %.9g", qs[i], got[i], exact);
	}
	free(v);
	scales_snapshot_free(&s);
	scales_close(&reg);
}

/* The seed tour's /processor, declared through scopes. */
Test(writer, scope_aggregates)
{
	scales_registry *reg = open_reg("tour", 0);
	scales_scope *proc = NULL;
	cr_assert_eq(scales_scope_root(reg, &proc, "/processor"), 0);
	cr_assert_eq(scales_scope_sum(proc, "finished", NULL), 0);
	cr_assert_eq(scales_scope_states(proc, "state", NULL), 0);
	const char *states[] = { "waitingForTask", "waitingForTask",
		                 "performingTask" };
	scales_scope *kids[3];
	for (int i = 0; i < 3; i++) {
		cr_assert_eq(scales_scope_child(proc, &kids[i], "thread-%d", i),
		             0);
		scales_counter c;
		scales_state st;
		cr_assert_eq(scales_scope_counter(kids[i], "finished", NULL,
		                                  &c),
		             0);
		scales_counter_add(&c, 10u * (unsigned)(i + 1));
		cr_assert_eq(scales_scope_state(kids[i], "state", NULL, &st),
		             0);
		cr_assert_eq(scales_state_set_str(&st, states[i]), 0);
	}
	struct scales_snapshot *s = snap_reg(reg);
	cr_assert_eq(must_find(s, "/processor/thread-1/finished")->v.u64, 20);
	cr_assert_eq(must_find(s, "/processor/finished")->v.u64, 60);
	cr_assert_eq(must_find(s, "/processor/state/waitingForTask")->v.i64, 2);
	cr_assert_eq(must_find(s, "/processor/state/performingTask")->v.i64, 1);
	cr_assert_eq(s->invalid, 0);
	scales_snapshot_free(&s);
	/* a child goes away: the aggregates drop it */
	cr_assert_eq(scales_scope_release(&kids[2]), 0);
	s = snap_reg(reg);
	cr_assert_eq(must_find(s, "/processor/finished")->v.u64, 30);
	cr_assert_null(
	    scales_snapshot_find(s, "/processor/state/performingTask"));
	cr_assert_null(scales_snapshot_find(s, "/processor/thread-2/finished"));
	scales_snapshot_free(&s);
	scales_scope_release(&proc);
	scales_close(&reg);
}

/* Writer threads register, set and retire gauges named after their
 * values while a reader snapshots: every gauge shown has its own value
 * (or 0: a reused slot's zeroed value before the first set). */
struct churn {
	scales_registry *reg;
	int id;
	atomic_bool *stop;
	uint64_t cycles;
};

static void *churn_thread(void *arg)
{
	struct churn *c = arg;
	uint64_t n = 0;
	while (!atomic_load(c->stop)) {
		char p[64];
		uint64_t val = (uint64_t)c->id * 1000000000ull + n++;
		snprintf(p, sizeof(p), "/churn/%d/%llu", c->id,
		         (unsigned long long)val);
		scales_gauge g;
		if (scales_gauge_get(c->reg, p, NULL, &g) == 0) {
			scales_gauge_set(&g, (int64_t)val);
			scales_retire(c->reg, p);
		}
		c->cycles++;
	}
	return NULL;
}

Test(writer, snapshots_during_registration_churn)
{
	scales_registry *reg = open_reg("churn", 256);
	scales_counter steady;
	cr_assert_eq(scales_counter_get(reg, "/steady", NULL, &steady), 0);
	scales_counter_add(&steady, 5);
	atomic_bool stop = false;
	struct churn cs[3];
	pthread_t t[3];
	for (int i = 0; i < 3; i++) {
		cs[i] = (struct churn){ reg, i + 1, &stop, 0 };
		pthread_create(&t[i], NULL, churn_thread, &cs[i]);
	}
	scales_segment *seg = must_open(scales_registry_path(reg));
	uint64_t shown = 0, skipped = 0;
	for (int i = 0; i < 500; i++) {
		struct scales_snapshot *s = must_snap(seg, 0);
		cr_assert_eq(s->invalid, 0);
		cr_assert_eq(must_find(s, "/steady")->v.u64, 5);
		for (size_t k = 0; k < s->n; k++) {
			const struct scales_metric *m = &s->metrics[k];
			if (strncmp(m->path, "/churn/", 7) != 0)
				continue;
			const char *last = strrchr(m->path, '/') + 1;
			long long want = atoll(last);
			cr_assert(m->v.i64 == want || m->v.i64 == 0,
			          "%s shows %lld", m->path,
			          (long long)m->v.i64);
			cr_assert_eq(m->kind, SCALES_KIND_GAUGE);
			shown++;
		}
		skipped += s->skipped;
		scales_snapshot_free(&s);
	}
	atomic_store(&stop, true);
	uint64_t cycles = 0;
	for (int i = 0; i < 3; i++) {
		pthread_join(t[i], NULL);
		cycles += cs[i].cycles;
	}
	cr_log_info("churn: %llu cycles, %llu shown, %llu skipped",
	            (unsigned long long)cycles, (unsigned long long)shown,
	            (unsigned long long)skipped);
	scales_segment_close(&seg);
	scales_close(&reg);
}

/* A snapshot of 100,000 counters, read exactly; its cost is logged (no
 * timing assertion). */
Test(writer, snapshot_of_100000_metrics, .timeout = 300)
{
	struct scales_options o;
	scales_options_init(&o);
	o.app = "big";
	o.flags = SCALES_NO_SAMPLER;
	o.max_entries = 100016;
	o.dir = dir;
	o.stripe_bytes = 1 << 20;
	o.data_bytes = 1 << 16;
	o.string_bytes = 1 << 16;
	scales_registry *reg = NULL;
	int rc = scales_open(&o, &reg);
	cr_assert_eq(rc, 0, "%s", scales_strerror(rc));
	for (int i = 0; i < 100000; i++) {
		char p[64];
		snprintf(p, sizeof(p), "/big/%03d/c%d", i % 1000, i);
		scales_counter c;
		rc = scales_counter_get(reg, p, NULL, &c);
		cr_assert_eq(rc, 0, "%s: %s", p, scales_strerror(rc));
		scales_counter_add(&c, (uint64_t)i);
	}
	scales_segment *seg = must_open(scales_registry_path(reg));
	struct timespec a, b;
	clock_gettime(CLOCK_MONOTONIC, &a);
	struct scales_snapshot *s = must_snap(seg, 0);
	clock_gettime(CLOCK_MONOTONIC, &b);
	cr_assert_eq(s->n, 100000);
	uint64_t sum = 0;
	for (size_t i = 0; i < s->n; i++)
		sum += s->metrics[i].v.u64;
	cr_assert_eq(sum, 99999ull * 100000 / 2);
	struct scales_process_info info;
	cr_assert_eq(scales_segment_info(seg, &info, NULL, 0), 0);
	double first = ((double)(b.tv_sec - a.tv_sec) * 1e9 +
	                (double)(b.tv_nsec - a.tv_nsec)) /
	               1e6;
	scales_snapshot_free(&s);
	/* again, with the mapping's pages already faulted in */
	clock_gettime(CLOCK_MONOTONIC, &a);
	s = must_snap(seg, 0);
	clock_gettime(CLOCK_MONOTONIC, &b);
	double again = ((double)(b.tv_sec - a.tv_sec) * 1e9 +
	                (double)(b.tv_nsec - a.tv_nsec)) /
	               1e6;
	/* for scale: a plain copy of the directory's bytes */
	size_t dirbytes = (size_t)info.dir_used * 384;
	char *copy = malloc(dirbytes);
	FILE *f = fopen(scales_registry_path(reg), "r");
	cr_assert_not_null(f);
	char *src = malloc(dirbytes);
	cr_assert_eq(fseek(f, 4096, SEEK_SET), 0);
	cr_assert_eq(fread(src, 1, dirbytes, f), dirbytes);
	fclose(f);
	clock_gettime(CLOCK_MONOTONIC, &a);
	memcpy(copy, src, dirbytes);
	clock_gettime(CLOCK_MONOTONIC, &b);
	double mc = ((double)(b.tv_sec - a.tv_sec) * 1e9 +
	             (double)(b.tv_nsec - a.tv_nsec)) /
	            1e6;
	cr_assert_eq(copy[0], src[0]);
	free(copy);
	free(src);
	cr_log_info("snapshot of 100000 counters, %u stripes: %.1f ms first, "
	            "%.1f ms again; memcpy of the %zu directory bytes: %.1f ms",
	            info.nstripes, first, again, dirbytes, mc);
	scales_snapshot_free(&s);
	scales_segment_close(&seg);
	scales_close(&reg);
}

/*
 * A torn-read validator for a histogram's value words (a segment's first
 * snapshot copies them with pread(), docs/format.md section 10; later ones
 * load them from the mapping). A forked writer process records on two
 * threads, one per CPU where it can, at a pace at which each bucket count
 * passes a multiple of 256 every few milliseconds, and now and then a new
 * extreme, so that min and max, and with them the bucket range a reader
 * reads, keep moving.
 * Every word only grows, so each snapshot's count, 96-bit sum and
 * buckets must be at least the previous snapshot's and at most the final
 * ones, and the final ones hold every record. A bucket left out of the
 * range read (cold or warm), a stripe summed twice or missed, or a word
 * torn across a carry (the pace keeps a bucket's growth between two
 * snapshots far below 256) breaks one of these.
 */
#define TORN_THREADS 2

__extension__ typedef unsigned __int128 u128;

/* the 96-bit sum of a histogram's stripes */
static u128 sum96(const struct scales_histo *x)
{
	return (u128)x->sum_hi << 64 | x->sum;
}

struct torn_shared {
	atomic_bool stop;
	atomic_uint ready;
	uint64_t records[TORN_THREADS];
	char path[4096]; /* the writer's segment */
};

struct torn_arg {
	scales_histogram *h;
	struct torn_shared *sh;
	int id;
};

static void pause_ns(uint64_t ns)
{
	struct timespec a, b;
	clock_gettime(CLOCK_MONOTONIC, &a);
	do
		clock_gettime(CLOCK_MONOTONIC, &b);
	while ((uint64_t)(b.tv_sec - a.tv_sec) * 1000000000u +
	           (uint64_t)b.tv_nsec - (uint64_t)a.tv_nsec <
	       ns);
}

static void *torn_record(void *p)
{
	struct torn_arg *a = p;
	long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	if (ncpu > 0) {
		cpu_set_t set;
		CPU_ZERO(&set);
		CPU_SET(a->id % ncpu, &set);
		pthread_setaffinity_np(pthread_self(), sizeof(set), &set);
	}
	static const uint64_t v[4] = { 255, 0xffff, 0xffffff, 0xffffffffull };
	uint64_t n = 0, lo = 200, hi = 1ull << 33;
	atomic_fetch_add(&a->sh->ready, 1);
	/* until the reader says stop, and at most a minute */
	struct timespec t0, t;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	while (!atomic_load_explicit(&a->sh->stop, memory_order_relaxed)) {
		clock_gettime(CLOCK_MONOTONIC, &t);
		if (t.tv_sec - t0.tv_sec > 60)
			break;
		for (int i = 0; i < 1024; i++, n++) {
			scales_histogram_record(a->h, v[(n ^ (n >> 3)) & 3]);
			/* paced: a bucket grows by less than 256 between two
			 * snapshots, so a word copied in two pieces across a
			 * carry shows as a count going back */
			if (i % 4 == 3)
				pause_ns(5000);
		}
		/* a new extreme every 1,024 records, one side per thread */
		if (a->id == 0 && lo > 1) {
			scales_histogram_record(a->h, --lo);
			n++;
		} else if (a->id == 1 && hi < (1ull << 40)) {
			hi += hi >> 6;
			scales_histogram_record(a->h, hi);
			n++;
		}
	}
	a->sh->records[a->id] = n;
	return NULL;
}

Test(writer, histogram_read_while_recorded_never_goes_back)
{
	struct torn_shared *sh = mmap(NULL, sizeof(*sh), PROT_READ | PROT_WRITE,
	                              MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	cr_assert_neq(sh, MAP_FAILED);
	memset(sh, 0, sizeof(*sh));
	/* The writer opens its registry after the fork: a child forked from
	 * a process with threads (the registry's) may not malloc() under
	 * ASan (docs/reliability.md, section 7). */
	pid_t parent = getpid();
	pid_t pid = fork();
	cr_assert_geq(pid, 0);
	if (pid == 0) {
		/* never outlive the test (a failed assertion ends it before
		 * it sets stop) */
		if (prctl(PR_SET_PDEATHSIG, SIGKILL) || getppid() != parent)
			_exit(4);
		scales_registry *reg;
		scales_histogram h;
		if (open_registry(dir, "torn", 0, &reg) ||
		    scales_histogram_get(reg, "/h", NULL, NULL, &h))
			_exit(3);
		snprintf(sh->path, sizeof(sh->path), "%s",
		         scales_registry_path(reg));
		pthread_t t[TORN_THREADS];
		struct torn_arg a[TORN_THREADS];
		for (int i = 0; i < TORN_THREADS; i++) {
			a[i] = (struct torn_arg){ &h, sh, i };
			if (pthread_create(&t[i], NULL, torn_record, &a[i]))
				_exit(2);
		}
		for (int i = 0; i < TORN_THREADS; i++)
			pthread_join(t[i], NULL);
		_exit(0); /* the segment stays for the final snapshot */
	}
	while (atomic_load(&sh->ready) < TORN_THREADS) {
		int status;
		cr_assert_eq(waitpid(pid, &status, WNOHANG), 0,
		             "the writer failed to start");
		usleep(1000);
	}

	scales_segment *seg = must_open(sh->path);
	uint32_t nb = 0;
	uint64_t *prev = NULL, prev_count = 0;
	u128 prev_sum = 0;
	struct timespec t0, t;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	long nsnap = 0;
	for (;;) {
		/* every other snapshot a segment's first (cold: its stripe
		 * words copied with pread()), the others through the mapping */
		scales_segment *cold = nsnap % 2 ? NULL : must_open(sh->path);
		struct scales_snapshot *s = must_snap(cold ? cold : seg, 0);
		scales_segment_close(&cold);
		const struct scales_histo *x = &must_find(s, "/h")->side->hist;
		if (!prev) {
			nb = x->nbuckets;
			prev = calloc(nb, sizeof(*prev));
		}
		cr_assert_eq(x->nbuckets, nb);
		u128 sum = sum96(x);
		cr_assert_geq(x->count, prev_count, "snapshot %ld", nsnap);
		cr_assert(sum >= prev_sum, "snapshot %ld: the sum went back",
		          nsnap);
		uint64_t total = 0;
		for (uint32_t b = 0; b < nb; b++) {
			cr_assert_geq(
			    x->buckets[b], prev[b],
			    "snapshot %ld, bucket %u: %llu after %llu", nsnap,
			    b, (unsigned long long)x->buckets[b],
			    (unsigned long long)prev[b]);
			prev[b] = x->buckets[b];
			total += x->buckets[b];
		}
		cr_assert_eq(total, x->count);
		prev_count = x->count;
		prev_sum = sum;
		scales_snapshot_free(&s);
		nsnap++;
		clock_gettime(CLOCK_MONOTONIC, &t);
		if ((t.tv_sec - t0.tv_sec) * 1000000000 + t.tv_nsec -
		            t0.tv_nsec >=
		        2000000000 &&
		    nsnap >= 100)
			break;
	}
	atomic_store(&sh->stop, true);
	int status;
	cr_assert_eq(waitpid(pid, &status, 0), pid);
	cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);

	/* the final words hold every record, and bound every earlier read */
	struct scales_snapshot *s = must_snap(seg, 0);
	const struct scales_histo *x = &must_find(s, "/h")->side->hist;
	uint64_t records = 0;
	for (int i = 0; i < TORN_THREADS; i++)
		records += sh->records[i];
	cr_assert_eq(x->count, records);
	cr_assert_geq(x->count, prev_count);
	cr_assert(sum96(x) >= prev_sum);
	for (uint32_t b = 0; b < nb; b++)
		cr_assert_geq(x->buckets[b], prev[b], "bucket %u", b);
	cr_log_info("%ld snapshots of %llu records", nsnap,
	            (unsigned long long)records);
	scales_snapshot_free(&s);
	free(prev);
	scales_segment_close(&seg);
	munmap(sh, sizeof(*sh));
}

/*
 * A warm snapshot keeps a histogram's previous bucket copy when no record
 * can have landed since (snapshot.c, histo_same()). A forked writer on
 * one CPU (one stripe) records, step by step, between snapshots of one
 * segment, each freed before the next so that the next takes its bucket
 * arrays: every warm snapshot must show what a fresh reader shows. Step
 * by step: nothing (the copy kept), a plain record (the sum moves),
 * records of 0 only (the sum stays, bucket 0 moves), and two records of
 * 2^63 into a histogram whose max is 2^63 already (the stripe's sum, its
 * bucket 0, min and max all come back to what they were: only the bound
 * on records a nanosecond, each at most max, says a copy is needed).
 */
struct idle_shared {
	atomic_int step, done;
	char path[4096];
};

static void idle_writer(struct idle_shared *sh, pid_t parent)
{
	if (prctl(PR_SET_PDEATHSIG, SIGKILL) || getppid() != parent)
		_exit(4);
	cpu_set_t set;
	CPU_ZERO(&set);
	CPU_SET(0, &set);
	if (sched_setaffinity(0, sizeof(set), &set))
		_exit(5);
	scales_registry *reg;
	scales_histogram plain, zero, wrap;
	if (open_registry(dir, "idle", 0, &reg) ||
	    scales_histogram_get(reg, "/plain", NULL, NULL, &plain) ||
	    scales_histogram_get(reg, "/zero", NULL, NULL, &zero) ||
	    scales_histogram_get(reg, "/wrap", NULL, NULL, &wrap))
		_exit(3);
	const uint64_t half = UINT64_C(1) << 63;
	scales_histogram_record(&plain, 1000);
	scales_histogram_record(&zero, 0);
	scales_histogram_record(&zero, 7);
	scales_histogram_record(&wrap, half);
	snprintf(sh->path, sizeof(sh->path), "%s", scales_registry_path(reg));
	atomic_store(&sh->done, 0);
	struct timespec t0, t;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (int step = 1; step <= 4;) {
		clock_gettime(CLOCK_MONOTONIC, &t);
		if (t.tv_sec - t0.tv_sec > 60)
			_exit(6);
		if (atomic_load(&sh->step) != step) {
			usleep(1000);
			continue;
		}
		if (step == 2)
			scales_histogram_record(&plain, 1000);
		if (step == 3)
			scales_histogram_record(&zero, 0);
		if (step == 4) {
			scales_histogram_record(&wrap, half);
			scales_histogram_record(&wrap, half);
		}
		atomic_store(&sh->done, step++);
	}
	_exit(0);
}

Test(writer, warm_snapshot_keeps_a_copy_only_while_nothing_landed)
{
	struct idle_shared *sh = mmap(NULL, sizeof(*sh), PROT_READ | PROT_WRITE,
	                              MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	cr_assert_neq(sh, MAP_FAILED);
	memset(sh, 0, sizeof(*sh));
	atomic_store(&sh->done, -1);
	pid_t parent = getpid();
	pid_t pid = fork();
	cr_assert_geq(pid, 0);
	if (pid == 0)
		idle_writer(sh, parent);
	while (atomic_load(&sh->done) != 0) {
		int status;
		cr_assert_eq(waitpid(pid, &status, WNOHANG), 0,
		             "the writer failed to start");
		usleep(1000);
	}
	scales_segment *seg = must_open(sh->path);
	/* a cold snapshot, then warm ones: each warm one takes the
	 * arrays (and their copies) of the one before */
	for (int i = 0; i < 3; i++) {
		struct scales_snapshot *s = must_snap(seg, 0);
		scales_snapshot_free(&s);
	}
	/* step 1 records nothing */
	uint64_t plain = 1, zero = 2, wrap = 1;
	for (int step = 1; step <= 4; step++) {
		atomic_store(&sh->step, step);
		while (atomic_load(&sh->done) != step) {
			int status;
			cr_assert_eq(waitpid(pid, &status, WNOHANG), 0,
			             "the writer stopped at step %d", step);
			usleep(1000);
		}
		plain += step == 2;
		zero += step == 3;
		wrap += step == 4 ? 2 : 0;
		/* twice: the copy the first one made is kept by the second */
		for (int i = 0; i < 2; i++) {
			struct scales_snapshot *w = must_snap(seg, 0);
			scales_segment *fresh = must_open(sh->path);
			struct scales_snapshot *c = must_snap(fresh, 0);
			cr_assert_eq(must_find(c, "/plain")->side->hist.count,
			             plain);
			cr_assert_eq(must_find(c, "/zero")->side->hist.count,
			             zero);
			cr_assert_eq(must_find(c, "/wrap")->side->hist.count,
			             wrap);
			same_histogram(w, c, "/plain");
			same_histogram(w, c, "/zero");
			same_histogram(w, c, "/wrap");
			scales_snapshot_free(&c);
			scales_segment_close(&fresh);
			scales_snapshot_free(&w);
		}
	}
	int status;
	cr_assert_eq(waitpid(pid, &status, 0), pid);
	cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	scales_segment_close(&seg);
	munmap(sh, sizeof(*sh));
}
