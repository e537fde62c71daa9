/* SPDX-License-Identifier: MIT */
/*
 * sharing.c: `scales-bench --only sharing`, an experiment outside the
 * default run: false sharing in the writer's data area. Gauges, states and
 * histogram min/max words are bump-allocated 8 bytes apart, so unrelated
 * stats share a cache line. CPU 0 records into a histogram (or adds to a
 * gauge) while CPU 1 updates another gauge: registered right after it (same
 * cache line) or 16 registrations later (another line). And a check of
 * the host: whether two CPUs running only register arithmetic slow each
 * other down.
 */
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "bench.h"

static scales_histogram sh_h;
static scales_gauge sh_g1, sh_g2, sh_far;

struct noise {
	scales_gauge g;
	bool add; /* gauge_add (a locked add) rather than gauge_set */
	int cpu;
	volatile int stop, ready;
};

static void *noise_main(void *arg)
{
	struct noise *n = arg;
	bench_pin_self(n->cpu);
	const scales_gauge g = n->g;
	n->ready = 1;
	uint64_t i = 0;
	while (!n->stop) {
		for (int k = 0; k < 1000; k++, i++) {
			if (n->add)
				scales_gauge_add(&g, 1);
			else
				scales_gauge_set(&g, (int64_t)i);
			BENCH_BARRIER();
		}
	}
	return NULL;
}

static double hist_ns(uint64_t n)
{
	const scales_histogram h = sh_h;
	uint64_t t0 = bench_now_ns();
	for (uint64_t i = 0; i < n; i++) {
		scales_histogram_record(&h, 1000 + (i & 1023));
		BENCH_BARRIER();
	}
	return (double)(bench_now_ns() - t0) / (double)n;
}

static double gauge_add_ns(uint64_t n)
{
	const scales_gauge g = sh_g1;
	uint64_t t0 = bench_now_ns();
	for (uint64_t i = 0; i < n; i++) {
		scales_gauge_add(&g, 1);
		BENCH_BARRIER();
	}
	return (double)(bench_now_ns() - t0) / (double)n;
}

/* Medians of rounds of (histogram_record, gauge_add) on CPU 0 while CPU 1
 * runs noise (NULL: nothing). */
static void measure(const char *label, const scales_gauge *other, bool add,
                    int rounds)
{
	double hv[BENCH_MAX_ROUNDS], gv[BENCH_MAX_ROUNDS];
	for (int r = 0; r < rounds; r++) {
		struct noise nz;
		memset(&nz, 0, sizeof nz);
		pthread_t th;
		if (other) {
			nz.g = *other;
			nz.add = add;
			nz.cpu = bench_cpu(1);
			if (pthread_create(&th, NULL, noise_main, &nz))
				bench_die("pthread_create");
			while (!nz.ready)
				;
		}
		hv[r] = hist_ns(5000000);
		gv[r] = gauge_add_ns(2000000);
		if (other) {
			nz.stop = 1;
			pthread_join(th, NULL);
		}
	}
	printf("  %-50s %8.2f %8.2f\n", label, bench_median(hv, rounds),
	       bench_median(gv, rounds));
}

/* Six independent register adds per iteration: no memory at all. If two
 * CPUs slow each other down on this, they share a core (SMT siblings on
 * the host) or the host is overcommitted. */
__attribute__((noinline)) static void loop_alu(struct worker *w, uint64_t n)
{
	uint64_t a = 1, b = 2, c = 3, d = 4, e = 5, f = 6;
	for (uint64_t i = 0; i < n; i++)
		__asm__ volatile("add $1, %0\n\tadd $1, %1\n\tadd $1, %2\n\t"
		                 "add $1, %3\n\tadd $1, %4\n\tadd $1, %5"
		                 : "+r"(a), "+r"(b), "+r"(c), "+r"(d), "+r"(e),
		                   "+r"(f));
	w->sink += a + b + c + d + e + f;
}

static void host_check(int rounds)
{
	struct pool p1, p2;
	if (pool_start(&p1, 1) || pool_start(&p2, 2))
		bench_die("pool_start");
	double v1[BENCH_MAX_ROUNDS], v2[BENCH_MAX_ROUNDS];
	pool_run(&p1, loop_alu, 1 << 20, 0, NULL);
	pool_run(&p2, loop_alu, 1 << 20, 0, NULL);
	for (int r = 0; r < rounds; r++) {
		v1[r] = pool_run(&p1, loop_alu, 1 << 16, 20000000, NULL);
		v2[r] = pool_run(&p2, loop_alu, 1 << 16, 20000000, NULL);
	}
	double a = bench_median(v1, rounds), b = bench_median(v2, rounds);
	printf("host check: a register-only loop (6 independent adds) takes "
	       "%.3f ns per iteration alone, %.3f ns with both CPUs busy "
	       "(2-thread scaling %.2f; 2.00 for independent cores)\n",
	       a, b, 2 * a / b);
	pool_stop(&p1);
	pool_stop(&p2);
}

int bench_sharing(const char *dir, int rounds)
{
	if (bench_ncpus() < 2) {
		printf("sharing: needs two CPUs\n");
		return 0;
	}
	struct scales_options o;
	scales_options_init(&o);
	o.dir = dir;
	o.app = "bench-sharing";
	o.flags = SCALES_NO_SAMPLER;
	scales_registry *r;
	int rc = scales_open(&o, &r);
	if (rc)
		bench_die("scales_open: %s", scales_strerror(rc));
	/* bump allocation: min/max at data+0, g1 at +16, g2 at +24 */
	rc = scales_histogram_get(r, "/sharing/h", NULL, NULL, &sh_h);
	rc = rc ? rc : scales_gauge_get(r, "/sharing/g1", NULL, &sh_g1);
	rc = rc ? rc : scales_gauge_get(r, "/sharing/g2", NULL, &sh_g2);
	for (int i = 0; i < 16 && !rc; i++) {
		char p[32];
		snprintf(p, sizeof p, "/sharing/pad%d", i);
		rc = scales_gauge_get(r, p, NULL, &sh_far);
	}
	if (rc)
		bench_die("register: %s", scales_strerror(rc));
	host_check(rounds);
	bench_pin_self(bench_cpu(0));
	printf("sharing: CPU %d measures, CPU %d makes noise\n", bench_cpu(0),
	       bench_cpu(1));
	printf("  histogram min/max at %p, gauge g1 at %p, g2 at %p, far "
	       "gauge at %p\n",
	       (void *)sh_h.minmax, (void *)sh_g1.value, (void *)sh_g2.value,
	       (void *)sh_far.value);
	printf("  %-50s %8s %8s\n", "CPU 1 meanwhile", "hist ns", "g1 add");
	measure("nothing", NULL, false, rounds);
	measure("gauge_set g2 (same line as min/max and g1)", &sh_g2, false,
	        rounds);
	measure("gauge_set far (another line)", &sh_far, false, rounds);
	measure("gauge_add g2 (same line)", &sh_g2, true, rounds);
	measure("gauge_add far (another line)", &sh_far, true, rounds);
	bench_unpin_self();
	scales_close(&r);
	return 0;
}
