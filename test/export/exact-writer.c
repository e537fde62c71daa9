/* SPDX-License-Identifier: MIT */
/*
 * exact-writer: an instrumented process whose values are awkward for
 * decimal output, for test/export/exact-test.py: double gauges that are
 * tiny, subnormal, huge, a power of two whose shortest form is the decimal
 * above, float noise, -0, NaN and the infinities; integers past 2^53;
 * histograms in seconds (nanoseconds / 1e9) and without a unit. App
 * "exact". With an argument N, N more counters /many/cK (K = 0..N-1, value
 * K), for a large /metrics text (test/export/textfile-test.sh). Prints
 * "ready", then waits for SIGTERM or SIGINT.
 */
#include <float.h>
#include <math.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include <scales/scales.h>

static int failed;

static void f64(scales_registry *r, const char *path, double v)
{
	scales_gauge_f64 g;
	int rc = scales_gauge_f64_get(r, path, NULL, &g);
	if (rc) {
		fprintf(stderr, "exact-writer: %s: %s\n", path,
		        scales_strerror(rc));
		failed = 1;
	}
	scales_gauge_f64_set(&g, v);
}

static void histogram(scales_registry *r, const char *path, unsigned unit,
                      const uint64_t *v, size_t n)
{
	scales_histogram h;
	int rc = scales_histogram_get(r, path,
	                              &(struct scales_info){
	                                  NULL, (enum scales_unit)unit },
	                              NULL, &h);
	if (rc) {
		fprintf(stderr, "exact-writer: %s: %s\n", path,
		        scales_strerror(rc));
		failed = 1;
	}
	for (size_t i = 0; i < n; i++)
		scales_histogram_record(&h, v[i]);
}

int main(int argc, char **argv)
{
	long many = argc > 1 ? atol(argv[1]) : 0;
	sigset_t stop;
	sigemptyset(&stop);
	sigaddset(&stop, SIGTERM);
	sigaddset(&stop, SIGINT);
	pthread_sigmask(SIG_BLOCK, &stop, NULL);

	struct scales_options opts;
	scales_options_init(&opts);
	opts.app = "exact";
	if (many) { /* room for the extra counters */
		opts.max_entries = (uint32_t)many + 64;
		opts.string_bytes = (size_t)many * 16 + 65536;
	}
	scales_registry *reg;
	int rc = scales_open(&opts, &reg);
	if (rc) {
		fprintf(stderr, "exact-writer: %s\n", scales_strerror(rc));
		return 1;
	}
	f64(reg, "/f/tiny", 5e-324);
	f64(reg, "/f/subnormal", 3.7e-310);
	f64(reg, "/f/min_normal", DBL_MIN);
	f64(reg, "/f/huge", DBL_MAX);
	f64(reg, "/f/noise", 0.1 + 0.2);
	f64(reg, "/f/ns_noise", 110794 * 1e-9);
	f64(reg, "/f/third", -1.0 / 3);
	f64(reg, "/f/pow2", ldexp(1, -1017)); /* 7.120236347223045e-307 */
	f64(reg, "/f/past_2_53", ldexp(1, 60) + ldexp(1, 8));
	f64(reg, "/f/neg_zero", -0.0);
	f64(reg, "/f/speed", 6437.930713100834);
	f64(reg, "/f/nan", NAN);
	f64(reg, "/f/inf", INFINITY);
	f64(reg, "/f/minus_inf", -INFINITY);

	scales_gauge g;
	if (scales_gauge_get(reg, "/i/past_2_53", NULL, &g))
		failed = 1;
	scales_gauge_set(&g, ((int64_t)1 << 53) + 1);
	if (scales_gauge_get(reg, "/i/lowest", NULL, &g))
		failed = 1;
	scales_gauge_set(&g, INT64_MIN);
	scales_counter c;
	if (scales_counter_get(reg, "/c/past_2_53", NULL, &c))
		failed = 1;
	scales_counter_add(&c, ((uint64_t)1 << 53) + 1);

	static const uint64_t ns[] = { 110794,     3,           999,
		                       1234567891, 70000000001, 5 };
	histogram(reg, "/h/latency", SCALES_UNIT_SECONDS, ns,
	          sizeof(ns) / sizeof(ns[0]));
	static const uint64_t one[] = { 110794 };
	histogram(reg, "/h/one", SCALES_UNIT_SECONDS, one, 1);
	static const uint64_t plain[] = { 1, 2, 3, 1000003, 7 };
	histogram(reg, "/h/plain", 0, plain, sizeof(plain) / sizeof(plain[0]));

	for (long k = 0; k < many; k++) {
		char path[32];
		snprintf(path, sizeof(path), "/many/c%ld", k);
		if (scales_counter_get(reg, path, NULL, &c)) {
			fprintf(stderr, "exact-writer: %s failed\n", path);
			return 1;
		}
		scales_counter_add(&c, (uint64_t)k);
	}
	if (failed)
		return 1;
	printf("ready\n");
	fflush(stdout);
	int sig;
	sigwait(&stop, &sig);
	scales_close(&reg);
	return 0;
}
