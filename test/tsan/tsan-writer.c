/* SPDX-License-Identifier: MIT */
/*
 * tsan-writer: a stress program over libscales' concurrent paths, for
 * ThreadSanitizer (it also runs, faster, in the normal build as a plain
 * correctness test). THREADS threads at once:
 *  - register the same PATHS paths (counters, gauges, double gauges,
 *    states, histograms: get-or-create races on the lock-free index and
 *    the registry lock) and update each ITERS times;
 *  - intern the same state strings and add to the same dict keys;
 *  - register, update and retire paths of their own (free-list reuse);
 *  - create, fill and release scopes with child scopes and aggregates;
 *  - run scales_sample() while the callback thread samples too.
 * Then the totals must be exact: each shared counter THREADS * ITERS, each
 * histogram count the same, each dict key's counter its share.
 *
 *   tsan-writer [ROUNDS]   (default 3). Prints TAP.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <scales/reader.h>
#include <scales/scales.h>

#define THREADS 4
#define PATHS 64
#define ITERS 2000
#define PRIVATE 40

static scales_registry *reg;
static pthread_barrier_t start;
static atomic_int errors;
static char first_error[256];

static void error(const char *what, int rc)
{
	if (atomic_fetch_add(&errors, 1) == 0)
		snprintf(first_error, sizeof first_error, "%s: %s", what,
		         scales_strerror(rc));
}

static double cb(void *arg)
{
	return (double)atomic_load((atomic_int *)arg);
}

static atomic_int cb_value;

static void *worker(void *arg)
{
	int k = (int)(intptr_t)arg;
	char p[128];
	int rc;
	pthread_barrier_wait(&start);

	/* the same paths from every thread */
	for (int i = 0; i < PATHS; i++) {
		snprintf(p, sizeof p, "/shared/%d", i);
		switch (i % 5) {
		case 0: {
			scales_counter c;
			if ((rc = scales_counter_get(reg, p, NULL, &c)))
				error(p, rc);
			for (int n = 0; n < ITERS; n++)
				scales_counter_inc(&c);
			break;
		}
		case 1: {
			scales_gauge g;
			if ((rc = scales_gauge_get(reg, p, NULL, &g)))
				error(p, rc);
			for (int n = 0; n < ITERS; n++)
				scales_gauge_add(&g, 1);
			break;
		}
		case 2: {
			scales_gauge_f64 f;
			if ((rc = scales_gauge_f64_get(reg, p, NULL, &f)))
				error(p, rc);
			for (int n = 0; n < ITERS; n++)
				scales_gauge_f64_add(&f, 1.0);
			break;
		}
		case 3: {
			scales_state s;
			if ((rc = scales_state_get(reg, p, NULL, &s)))
				error(p, rc);
			char v[16];
			snprintf(v, sizeof v, "v%d", (k + i) % 7);
			if ((rc = scales_state_set_str(&s, v)))
				error(v, rc);
			break;
		}
		default: {
			struct scales_histogram_config cfg = { 1u << 16, 5, 0,
				                               0 };
			scales_histogram h;
			if ((rc = scales_histogram_get(reg, p, NULL, &cfg, &h)))
				error(p, rc);
			for (int n = 0; n < ITERS; n++)
				scales_histogram_record(&h, (uint64_t)n);
			break;
		}
		}
	}

	/* a shared dict */
	scales_dict d;
	if ((rc = scales_dict_get(reg, "/dict", NULL, &d)))
		error("/dict", rc);
	for (int n = 0; n < ITERS; n++) {
		char key[16];
		snprintf(key, sizeof key, "k%d", n % 10);
		if ((rc = scales_dict_add(&d, key, 1)))
			error(key, rc);
	}

	/* private paths: register, update, retire, again (slot reuse) */
	for (int r = 0; r < 3; r++) {
		for (int j = 0; j < PRIVATE; j++) {
			snprintf(p, sizeof p, "/private/%d/%d", k, j);
			scales_counter c;
			if ((rc = scales_counter_get(reg, p, NULL, &c)))
				error(p, rc);
			scales_counter_add(&c, 5);
		}
		for (int j = 0; j < PRIVATE; j++) {
			snprintf(p, sizeof p, "/private/%d/%d", k, j);
			if ((rc = scales_retire(reg, p)))
				error(p, rc);
		}
	}

	/* scopes: a root per thread, children, an aggregate, released */
	for (int r = 0; r < 3; r++) {
		scales_scope *root, *child;
		if ((rc = scales_scope_root(reg, &root, "/scope/%d", k))) {
			error("scope", rc);
			continue;
		}
		if ((rc = scales_scope_sum(root, "n", NULL)))
			error("sum", rc);
		for (int c = 0; c < 4; c++) {
			if ((rc = scales_scope_child(root, &child, "c%d", c))) {
				error("child", rc);
				continue;
			}
			scales_counter n;
			if ((rc = scales_scope_counter(child, "n", NULL, &n)))
				error("scope counter", rc);
			scales_counter_add(&n, 1);
		}
		if ((rc = scales_scope_release(&root)))
			error("release", rc);
	}

	/* callbacks: sampled here and by the callback thread */
	for (int n = 0; n < 50; n++) {
		atomic_fetch_add(&cb_value, 1);
		if ((rc = scales_sample(reg)))
			error("sample", rc);
	}
	return NULL;
}

static int check(int round)
{
	char err[512];
	scales_segment *seg;
	int bad = 0;
	if (scales_segment_open(scales_registry_path(reg), 0, &seg, err,
	                        sizeof err)) {
		printf("# round %d: %s\n", round, err);
		return 1;
	}
	struct scales_snapshot *s;
	if (scales_snapshot_take(seg, 0, &s, err, sizeof err)) {
		printf("# round %d: %s\n", round, err);
		scales_segment_close(&seg);
		return 1;
	}
	scales_segment_close(&seg);
	uint64_t want = (uint64_t)THREADS * ITERS * (uint64_t)(round + 1);
	for (int i = 0; i < PATHS; i++) {
		char p[64];
		snprintf(p, sizeof p, "/shared/%d", i);
		const struct scales_metric *m = scales_snapshot_find(s, p);
		if (!m) {
			printf("# round %d: %s missing\n", round, p);
			bad++;
			continue;
		}
		bool ok = true;
		switch (i % 5) {
		case 0:
			ok = m->v.u64 == want;
			break;
		case 1:
			ok = m->v.i64 == (int64_t)want;
			break;
		case 2:
			ok = m->v.f64 == (double)want;
			break;
		case 3:
			ok = m->v.state && m->v.state[0] == 'v';
			break;
		default:
			ok = m->side->hist.count == want;
			break;
		}
		if (!ok) {
			printf("# round %d: %s has a wrong value\n", round, p);
			bad++;
		}
	}
	for (int n = 0; n < 10; n++) {
		char p[32];
		snprintf(p, sizeof p, "/dict/k%d", n);
		const struct scales_metric *m = scales_snapshot_find(s, p);
		if (!m || m->v.u64 != want / 10) {
			printf("# round %d: %s wrong\n", round, p);
			bad++;
		}
	}
	for (size_t i = 0; i < s->n; i++)
		if (!strncmp(s->metrics[i].path, "/private/", 9) ||
		    !strncmp(s->metrics[i].path, "/scope/", 7)) {
			printf("# round %d: %s not retired\n", round,
			       s->metrics[i].path);
			bad++;
			break;
		}
	if (s->invalid || s->skipped) {
		printf("# round %d: %u invalid, %u skipped\n", round,
		       s->invalid, s->skipped);
		bad++;
	}
	scales_snapshot_free(&s);
	return bad;
}

int main(int argc, char **argv)
{
	int rounds = argc > 1 ? atoi(argv[1]) : 3;
	printf("1..%d\n", rounds + 1);
	struct scales_options o;
	scales_options_init(&o);
	o.app = "tsanwriter";
	o.max_entries = 1024;
	o.stripe_bytes = 1 << 20;
	o.data_bytes = 65536;
	o.string_bytes = 65536;
	o.sampler_interval_ms = 5;
	int rc = scales_open(&o, &reg);
	if (rc) {
		printf("Bail out! scales_open: %s\n", scales_strerror(rc));
		return 1;
	}
	if ((rc = scales_gauge_callback(reg, "/cb", NULL, cb, &cb_value)))
		error("/cb", rc);
	int failed = 0;
	for (int r = 0; r < rounds; r++) {
		pthread_t t[THREADS];
		pthread_barrier_init(&start, NULL, THREADS);
		for (int k = 0; k < THREADS; k++)
			pthread_create(&t[k], NULL, worker,
			               (void *)(intptr_t)k);
		for (int k = 0; k < THREADS; k++)
			pthread_join(t[k], NULL);
		pthread_barrier_destroy(&start);
		int bad = check(r);
		printf("%sok %d - round %d: %d threads registered, updated, "
		       "retired and released at once; exact totals\n",
		       bad ? "not " : "", r + 1, r, THREADS);
		failed += bad != 0;
	}
	int e = atomic_load(&errors);
	printf("%sok %d - no API call failed (%d errors%s%s)\n",
	       e ? "not " : "", rounds + 1, e, e ? ": first " : "",
	       e ? first_error : "");
	scales_close(&reg);
	return failed || e ? 1 : 0;
}
