/* SPDX-License-Identifier: MIT */
/*
 * test_histogram.c: histogram statistics against exact answers: the
 * nearest-rank quantiles of 100,000 random values within 2%, mean, stddev,
 * min, max; bucket ranges; interval (delta) histograms.
 */
#include <errno.h>
#include <math.h>
#include <scales/scales.h>

#include "common.h"

TestSuite(histogram, .timeout = 120);

/* nbuckets for the largest distinct raw value (docs/format.md). */
static uint32_t nbuckets_for(uint64_t highest, unsigned sb, unsigned us)
{
	return scales_histogram_bucket(highest, sb, us, UINT32_MAX) + 1;
}

static uint64_t rng_state = 88172645463325252ull;

static uint64_t xorshift(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return rng_state;
}

static double uniform01(void)
{
	return (double)(xorshift() >> 11) / 9007199254740992.0;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

enum dist {
	LOG_UNIFORM,
	UNIFORM,
	EXPONENTIAL
};

static uint64_t draw(enum dist d)
{
	switch (d) {
	case LOG_UNIFORM: /* 1 us .. 10 s in ns */
		return (uint64_t)exp(log(1e3) + uniform01() * log(1e7));
	case UNIFORM:
		return 100000 + xorshift() % 900000;
	default:
		return (uint64_t)(-log(1 - uniform01()) * 5e6) + 1;
	}
}

/* Records n values of d into a histogram (through segbuild, which files
 * them with the writer's bucket function) and checks every statistic
 * against the exact answers. */
static void check_against_exact(enum dist d, unsigned sb, unsigned us, size_t n)
{
	struct sb_config cfg = { .nstripes = 4, .stripe_size = 1 << 20 };
	struct segbuild *b = sb_new("h", 1, 1, &cfg);
	uint64_t highest = ((uint64_t)1 << 40) - 1;
	uint32_t nb = nbuckets_for(highest, sb, us);
	uint32_t h =
	    sb_histogram(b, "/h", sb, us, nb, 1e-9, SCALES_SHM_UNIT_SECONDS);
	uint64_t *v = malloc(n * sizeof(*v));
	double sum = 0;
	for (size_t i = 0; i < n; i++) {
		v[i] = draw(d);
		sum += (double)v[i];
		/* segbuild's bucket is the writer's */
		struct scales_shm_entry *e = sb_entry(b, h);
		(void)e;
		sb_hist_record(b, h, (uint32_t)(i % 4), v[i]);
	}
	struct scales_snapshot *s = build_snap(b, 0);
	const struct scales_metric *m = must_find(s, "/h");
	for (size_t i = 0; i < 1000; i++) {
		uint32_t bi = scales_histogram_bucket(v[i], sb, us, nb - 1);
		cr_assert_gt(m->side->hist.buckets[bi], 0);
	}
	qsort(v, n, sizeof(*v), cmp_u64);
	struct scales_hstats st;
	scales_histo_stats(&m->side->hist, &st);
	cr_assert_eq(st.count, n);
	cr_assert_float_eq(st.sum, sum * 1e-9, sum * 1e-9 * 1e-12);
	cr_assert_float_eq(st.min, (double)v[0] * 1e-9, 1e-15);
	cr_assert_float_eq(st.max, (double)v[n - 1] * 1e-9, 1e-15);
	cr_assert_float_eq(st.mean, sum / (double)n * 1e-9, 1e-12);

	double var = 0, mean = sum / (double)n;
	for (size_t i = 0; i < n; i++)
		var += ((double)v[i] - mean) * ((double)v[i] - mean);
	double sd = sqrt(var / (double)n) * 1e-9;
	cr_assert(fabs(st.stddev - sd) / sd < 0.02, "stddev %g, exact %g",
	          st.stddev, sd);

	static const double qs[6] = { 0.5, 0.75, 0.95, 0.98, 0.99, 0.999 };
	double got[6] = { st.p50, st.p75, st.p95, st.p98, st.p99, st.p999 };
	for (int i = 0; i < 6; i++) {
		size_t rank = (size_t)ceil(qs[i] * (double)n - 1e-9);
		double exact = (double)v[rank - 1] * 1e-9;
		double err = fabs(got[i] - exact) / exact;
		/* below 2^(sb + 1 + us) buckets are linear: absolute error
		 * at most 2^(us - 1) raw */
		double abs_ok = ldexp(1, (int)us - 1) * 1e-9;
		cr_assert(err <= 0.02 || fabs(got[i] - exact) <= abs_ok,
		          "dist %d sb %u us %u q %g: %.9g, exact %.9g (%.3f%%)",
		          d, sb, us, qs[i], got[i], exact, err * 100);
		cr_assert_float_eq(scales_histo_quantile(&m->side->hist, qs[i]),
		                   got[i], 0);
	}
	free(v);
	scales_snapshot_free(&s);
	sb_free(b);
}

Test(histogram, quantiles_of_100000_log_uniform_values)
{
	check_against_exact(LOG_UNIFORM, 5, 0, 100000);
}

Test(histogram, quantiles_of_100000_uniform_values)
{
	check_against_exact(UNIFORM, 5, 0, 100000);
}

Test(histogram, quantiles_of_100000_exponential_values)
{
	check_against_exact(EXPONENTIAL, 5, 0, 100000);
}

Test(histogram, quantiles_other_parameters)
{
	check_against_exact(LOG_UNIFORM, 7, 0, 100000);
	check_against_exact(LOG_UNIFORM, 10, 0, 100000);
	check_against_exact(EXPONENTIAL, 5, 10, 100000);
}

/* The seed tour's /handler/latency: 1 ms .. 100 ms. */
Test(histogram, seed_latency)
{
	struct sb_config cfg = { .stripe_size = 1 << 16 };
	struct segbuild *b = sb_new("h", 1, 1, &cfg);
	uint32_t nb = nbuckets_for(((uint64_t)1 << 40) - 1, 5, 0);
	uint32_t h = sb_histogram(b, "/handler/latency", 5, 0, nb, 1e-9, 1);
	for (uint64_t ms = 1; ms <= 100; ms++)
		sb_hist_record(b, h, 0, ms * 1000000);
	struct scales_snapshot *s = build_snap(b, 0);
	struct scales_hstats st;
	scales_histo_stats(&must_find(s, "/handler/latency")->side->hist, &st);
	cr_assert_eq(st.count, 100);
	cr_assert(fabs(st.p50 - 0.050) / 0.050 < 0.02, "p50 %g", st.p50);
	cr_assert(fabs(st.p99 - 0.099) / 0.099 < 0.02, "p99 %g", st.p99);
	cr_assert_float_eq(st.max, 0.100, 1e-15);
	cr_assert_float_eq(st.min, 0.001, 1e-15);
	cr_assert_float_eq(st.mean, 0.0505, 1e-12);
	cr_assert_float_eq(st.sum, 5.05, 1e-12);
	scales_snapshot_free(&s);
	sb_free(b);
}

/* Small integers sit in width-1 buckets: quantiles are exact. */
Test(histogram, exact_in_the_linear_range)
{
	struct segbuild *b = sb_new("h", 1, 1, NULL);
	uint32_t h = sb_histogram(b, "/h", 5, 0, 100, 1, 0);
	for (uint64_t x = 1; x <= 10; x++)
		sb_hist_record(b, h, 0, x);
	struct scales_snapshot *s = build_snap(b, 0);
	const struct scales_histo *hi = &must_find(s, "/h")->side->hist;
	cr_assert_eq(scales_histo_quantile(hi, 0.5), 5);
	cr_assert_eq(scales_histo_quantile(hi, 0.51), 6);
	cr_assert_eq(scales_histo_quantile(hi, 0.1), 1);
	cr_assert_eq(scales_histo_quantile(hi, 0.01), 1);
	cr_assert_eq(scales_histo_quantile(hi, 1.0), 10);
	cr_assert(isnan(scales_histo_quantile(hi, 0)));
	struct scales_hstats st;
	scales_histo_stats(hi, &st);
	cr_assert_float_eq(st.stddev, sqrt(8.25), 1e-12);
	scales_snapshot_free(&s);
	sb_free(b);
}

Test(histogram, empty)
{
	struct segbuild *b = sb_new("h", 1, 1, NULL);
	sb_histogram(b, "/h", 5, 0, 100, 1e-9, 1);
	struct scales_snapshot *s = build_snap(b, 0);
	struct scales_hstats st;
	scales_histo_stats(&must_find(s, "/h")->side->hist, &st);
	cr_assert_eq(st.count, 0);
	cr_assert_eq(st.sum, 0);
	cr_assert(isnan(st.min) && isnan(st.max) && isnan(st.mean) &&
	          isnan(st.stddev) && isnan(st.p50) && isnan(st.p999));
	scales_snapshot_free(&s);
	sb_free(b);
}

/* A record whose min/max has not landed yet (min > max): min and max come
 * from the buckets, and quantiles are not clamped into nonsense. */
Test(histogram, min_max_not_landed)
{
	struct segbuild *b = sb_new("h", 1, 1, NULL);
	uint32_t h = sb_histogram(b, "/h", 5, 0, 200, 1, 0);
	uint64_t *w = (uint64_t *)(void *)(b->img + sb_counter_offset(b, h, 0));
	w[0] = 1000;    /* sum */
	w[1 + 100] = 1; /* bucket 100: 136..139 */
	struct scales_snapshot *s = build_snap(b, 0);
	const struct scales_histo *hi = &must_find(s, "/h")->side->hist;
	uint64_t lo, width;
	scales_histo_bucket_range(hi, 100, &lo, &width);
	cr_assert_eq(hi->min, lo);
	cr_assert_eq(hi->max, lo + width - 1);
	double p = scales_histo_quantile(hi, 0.5);
	cr_assert(p >= (double)lo && p <= (double)(lo + width - 1), "%g", p);
	scales_snapshot_free(&s);
	sb_free(b);
}

/* With min <= max a copy reads only the buckets in [index(min),
 * index(max)]: a record adds its bucket before it moves min or max, so no
 * other bucket can hold a landed record (docs/format.md, section 6). Words
 * outside the range are not read: a stray count there (only a hostile
 * writer's) is not reported, and those buckets read as zero. The records
 * in range are added over every stripe. */
Test(histogram, copy_reads_the_min_max_range_only)
{
	struct sb_config cfg = { .nstripes = 3, .stripe_size = 1 << 16 };
	struct segbuild *b = sb_new("h", 1, 1, &cfg);
	uint32_t nb = nbuckets_for(((uint64_t)1 << 40) - 1, 5, 0);
	uint32_t h = sb_histogram(b, "/h", 5, 0, nb, 1, 0);
	for (uint32_t k = 0; k < 3; k++) {
		sb_hist_record(b, h, k, 1000 + k);
		sb_hist_record(b, h, k, 50000000);
	}
	uint32_t lo = scales_histogram_bucket(1000, 5, 0, nb - 1),
	         hi = scales_histogram_bucket(50000000, 5, 0, nb - 1);
	for (uint32_t k = 0; k < 3; k++) {
		uint64_t *w =
		    (uint64_t *)(void *)(b->img + sb_counter_offset(b, h, k));
		w[1 + lo - 1] += 7; /* below index(min) */
		w[1 + hi + 1] += 7; /* above index(max) */
		w[1 + nb - 1] += 7; /* the last bucket */
	}
	struct scales_snapshot *s = build_snap(b, 0);
	const struct scales_histo *hh = &must_find(s, "/h")->side->hist;
	cr_assert_eq(hh->count, 6);
	cr_assert_eq(hh->buckets[lo], 3);
	cr_assert_eq(hh->buckets[hi], 3);
	uint64_t outside = 0;
	for (uint32_t i = 0; i < nb; i++)
		if (i < lo || i > hi)
			outside += hh->buckets[i];
	cr_assert_eq(outside, 0);
	cr_assert_eq(hh->min, 1000);
	cr_assert_eq(hh->max, 50000000);
	scales_snapshot_free(&s);
	sb_free(b);
}

/* Values above the configured range land in the last bucket; the
 * reported quantile uses the exact max. */
Test(histogram, overflow_bucket)
{
	struct segbuild *b = sb_new("h", 1, 1, NULL);
	uint32_t nb = nbuckets_for(1000, 5, 0);
	uint32_t h = sb_histogram(b, "/h", 5, 0, nb, 1, 0);
	sb_hist_record(b, h, 0, 5000000);
	struct scales_snapshot *s = build_snap(b, 0);
	const struct scales_histo *hi = &must_find(s, "/h")->side->hist;
	cr_assert_eq(hi->buckets[nb - 1], 1);
	cr_assert_eq(scales_histo_quantile(hi, 0.5), 5000000);
	scales_snapshot_free(&s);
	sb_free(b);
}

/* Nanoseconds to seconds give the double nearest the decimal value in
 * every statistic: 110794 ns is 0.000110794 s (110794 / 1e9), not the
 * float noise of 110794 * 1e-9 (0.00011079400000000001). */
Test(histogram, scaled_stats_are_the_nearest_decimal)
{
	struct segbuild *b = sb_new("h", 1, 1, NULL);
	uint32_t nb = nbuckets_for(((uint64_t)1 << 40) - 1, 5, 0);
	uint32_t h = sb_histogram(b, "/h", 5, 0, nb, 1e-9, 1);
	sb_hist_record(b, h, 0, 110794);
	struct scales_snapshot *s = build_snap(b, 0);
	struct scales_hstats st;
	scales_histo_stats(&must_find(s, "/h")->side->hist, &st);
	double want = 0.000110794;
	cr_assert(110794 * 1e-9 != want); /* the noise this avoids */
	double got[] = { st.sum, st.min, st.max, st.mean, st.p50, st.p999 };
	for (size_t i = 0; i < sizeof(got) / sizeof(got[0]); i++)
		cr_assert_eq(got[i], want, "stat %zu: %.17g", i, got[i]);
	cr_assert_eq(st.stddev, 0);
	char buf[40];
	scales_format_double(buf, sizeof(buf), st.sum);
	cr_assert_str_eq(buf, "0.000110794");
	cr_assert_eq(scales_scale_value(3, 1e-9), 3e-9);
	cr_assert_eq(scales_scale_value(3, 0.5), 1.5);
	cr_assert_eq(scales_scale_value(3, 2), 6);
	cr_assert_eq(scales_scale_value(1, 0.3), 0.3);
	scales_snapshot_free(&s);
	sb_free(b);
}

/* The last bucket is represented by the middle of its own range, like any
 * other, clamped into [min, max]: one absurd value above the range (a
 * negative duration cast to u64) moves max, not every quantile of the
 * bucket (docs/format.md, section 9). */
Test(histogram, overflow_bucket_keeps_its_range)
{
	struct segbuild *b = sb_new("h", 1, 1, NULL);
	uint32_t nb = nbuckets_for(((uint64_t)1 << 40) - 1, 5, 0);
	uint32_t h = sb_histogram(b, "/h", 5, 0, nb, 1e-9, 1);
	sb_hist_record(b, h, 0, 1000000); /* min: 1 ms */
	for (int i = 0; i < 10; i++)
		sb_hist_record(b, h, 0, ((uint64_t)1 << 40) - 1);
	sb_hist_record(b, h, 1, UINT64_MAX);
	struct scales_snapshot *s = build_snap(b, 0);
	const struct scales_histo *hi = &must_find(s, "/h")->side->hist;
	cr_assert_eq(hi->buckets[nb - 1], 11);
	uint64_t lo, width;
	scales_histo_bucket_range(hi, nb - 1, &lo, &width);
	double mid = (double)(lo + (width - 1) / 2) / 1e9; /* 1090.9 s */
	struct scales_hstats st;
	scales_histo_stats(hi, &st);
	cr_assert_eq(st.p50, mid, "p50 %g, want %g", st.p50, mid);
	cr_assert_eq(st.p999, mid, "p999 %g, want %g", st.p999, mid);
	cr_assert_eq(scales_histo_quantile(hi, 0.99), mid);
	cr_assert_eq(st.max, (double)UINT64_MAX / 1e9);
	scales_snapshot_free(&s);
	sb_free(b);
}

Test(histogram, bucket_ranges_hold_their_values)
{
	unsigned params[][2] = { { 5, 0 }, { 7, 3 }, { 10, 32 }, { 5, 20 } };
	for (size_t p = 0; p < 4; p++) {
		unsigned sb = params[p][0], us = params[p][1];
		struct scales_histo h = { .sub_bits = sb, .unit_shift = us };
		h.nbuckets = nbuckets_for(UINT64_MAX, sb, us);
		for (int i = 0; i < 100000; i++) {
			uint64_t v = xorshift() >> (xorshift() % 64);
			uint32_t bi =
			    scales_histogram_bucket(v, sb, us, h.nbuckets - 1);
			uint64_t lo, width;
			scales_histo_bucket_range(&h, bi, &lo, &width);
			cr_assert(v >= lo && v - lo <= width - 1,
			          "v %llu in bucket %u [%llu +%llu)",
			          (unsigned long long)v, bi,
			          (unsigned long long)lo,
			          (unsigned long long)width);
		}
		/* the top bucket ends at 2^64 - 1 exactly */
		uint64_t lo, width;
		scales_histo_bucket_range(&h, h.nbuckets - 1, &lo, &width);
		cr_assert_eq(lo + (width - 1), UINT64_MAX);
	}
}

Test(histogram, delta_between_snapshots)
{
	struct sb_config cfg = { .stripe_size = 1 << 16 };
	struct segbuild *b = sb_new("h", 1, 1, &cfg);
	uint32_t nb = nbuckets_for(((uint64_t)1 << 40) - 1, 5, 0);
	uint32_t h = sb_histogram(b, "/h", 5, 0, nb, 1e-9, 1);
	for (int i = 0; i < 1000; i++)
		sb_hist_record(b, h, 0, 1000000); /* 1 ms */
	struct scales_snapshot *s1 = build_snap(b, 0);
	for (int i = 0; i < 100; i++)
		sb_hist_record(b, h, 1, 50000000); /* 50 ms */
	struct scales_snapshot *s2 = build_snap(b, 0);
	const struct scales_metric *m1 = must_find(s1, "/h"),
	                           *m2 = must_find(s2, "/h");
	cr_assert_eq(m1->generation, m2->generation);
	uint64_t *buf = calloc(nb, 8);
	struct scales_histo d;
	cr_assert_eq(scales_histo_delta(&m1->side->hist, &m2->side->hist, buf,
	                                &d),
	             0);
	cr_assert_eq(d.count, 100);
	cr_assert_eq(d.sum, 100ull * 50000000);
	struct scales_hstats st;
	scales_histo_stats(&d, &st);
	cr_assert(fabs(st.p50 - 0.050) / 0.050 < 0.02, "p50 %g", st.p50);
	cr_assert_float_eq(st.max, 0.050, 1e-12); /* clamped to cur max */
	cr_assert(fabs(st.min - 0.050) / 0.050 < 0.02, "min %g", st.min);
	cr_assert_float_eq(st.mean, 0.050, 1e-12);
	/* the other way round: a bucket went down (a reset) */
	cr_assert_eq(scales_histo_delta(&m2->side->hist, &m1->side->hist, buf,
	                                &d),
	             -EINVAL);
	/* other parameters */
	struct scales_histo other = m2->side->hist;
	other.sub_bits = 6;
	cr_assert_eq(scales_histo_delta(&m1->side->hist, &other, buf, &d),
	             -EINVAL);
	/* no new values */
	cr_assert_eq(scales_histo_delta(&m2->side->hist, &m2->side->hist, buf,
	                                &d),
	             0);
	cr_assert_eq(d.count, 0);
	free(buf);
	scales_snapshot_free(&s1);
	scales_snapshot_free(&s2);
	sb_free(b);
}

/* Histograms of other layouts and scales added into one. */
Test(histogram, add_other_layouts)
{
	struct sb_config cfg = { .stripe_size = 1 << 17 };
	struct segbuild *b = sb_new("h", 1, 1, &cfg);
	uint32_t nb = nbuckets_for(((uint64_t)1 << 40) - 1, 5, 0);
	uint32_t nb2 = nbuckets_for(((uint64_t)1 << 40) - 1, 6, 10);
	uint32_t e1 = sb_histogram(b, "/a", 5, 0, nb, 1e-9, 1);
	uint32_t e2 = sb_histogram(b, "/b", 6, 10, nb2, 1e-9, 1);
	uint32_t e3 = sb_histogram(b, "/c", 5, 0, nb, 1e-6, 1); /* us */
	for (uint64_t i = 1; i <= 100; i++) {
		sb_hist_record(b, e1, 0, i * 1000000);
		sb_hist_record(b, e2, 0, i * 1000000);
		sb_hist_record(b, e3, 0, i * 1000);
	}
	struct scales_snapshot *s = build_snap(b, 0);
	const struct scales_metric *a = must_find(s, "/a");
	uint64_t *acc = calloc(nb, 8);
	struct scales_histo h = a->side->hist;
	h.count = h.sum = h.min = h.max = 0;
	h.buckets = acc;
	scales_histo_add(&h, acc, &a->side->hist);
	scales_histo_add(&h, acc, &must_find(s, "/b")->side->hist);
	scales_histo_add(&h, acc, &must_find(s, "/c")->side->hist);
	struct scales_hstats st;
	scales_histo_stats(&h, &st);
	cr_assert_eq(st.count, 300);
	cr_assert_float_eq(st.sum, 3 * 5.05, 1e-9);
	cr_assert(fabs(st.p50 - 0.050) <= 0.02 * 0.050, "p50 %g", st.p50);
	cr_assert(fabs(st.p99 - 0.099) <= 0.02 * 0.099, "p99 %g", st.p99);
	cr_assert_float_eq(st.max, 0.100, 1e-12);
	cr_assert_float_eq(st.min, 0.001, 1e-12);
	free(acc);
	scales_snapshot_free(&s);
	sb_free(b);
}

/* The stripes' sums added without wrapping: three stripes of nearly 2^64
 * each give an exact sum near 2^65.6, in the struct, the statistics, an
 * interval, a bucket-wise sum and the JSON (docs/format.md, section 8). */
Test(histogram, sum_beyond_2_64)
{
	struct sb_config cfg = { .nstripes = 3, .stripe_size = 1 << 16 };
	struct segbuild *b = sb_new("h", 1, 1, &cfg);
	uint32_t nb = nbuckets_for(((uint64_t)1 << 40) - 1, 5, 0);
	uint32_t h = sb_histogram(b, "/h", 5, 0, nb, 1, 0);
	uint32_t hs = sb_histogram(b, "/hs", 5, 0, nb, 1e-9, 1);
	const uint64_t big = ((uint64_t)1 << 63) + 12345,
	               mid = (uint64_t)1 << 62;
	for (uint32_t k = 0; k < 3; k++) {
		sb_hist_record(b, h, k, big);
		sb_hist_record(b, hs, k, big);
	}
	struct scales_snapshot *s1 = build_snap(b, 0);
	for (uint32_t k = 0; k < 3; k++)
		sb_hist_record(b, h, k, mid);
	struct scales_snapshot *s2 = build_snap(b, 0);
	const struct scales_metric *m1 = must_find(s1, "/h"),
	                           *m2 = must_find(s2, "/h");
	/* 3 x big = 2^64 + 2^63 + 37035 */
	cr_assert_eq(m1->side->hist.sum_hi, 1);
	cr_assert_eq(m1->side->hist.sum, ((uint64_t)1 << 63) + 37035);
	/* 3 x (big + mid) = 2 x 2^64 + 2^62 + 37035 */
	cr_assert_eq(m2->side->hist.sum_hi, 2);
	cr_assert_eq(m2->side->hist.sum, ((uint64_t)1 << 62) + 37035);

	struct scales_hstats st;
	scales_histo_stats(&m2->side->hist, &st);
	double exact = ldexp(1, 65) + ldexp(1, 62) + 37035;
	cr_assert_eq(st.sum, exact);
	cr_assert_eq(st.mean, exact / 6);
	scales_histo_stats(&must_find(s1, "/hs")->side->hist, &st);
	cr_assert_eq(st.sum, (ldexp(1, 64) + ldexp(1, 63) + 37035) * 1e-9);

	/* the interval: 3 x mid, below 2^64 again */
	uint64_t *buf = calloc(nb, 8);
	struct scales_histo d;
	cr_assert_eq(scales_histo_delta(&m1->side->hist, &m2->side->hist, buf,
	                                &d),
	             0);
	cr_assert_eq(d.sum_hi, 0);
	cr_assert_eq(d.sum, 3 * mid);

	/* a bucket-wise sum of both snapshots:
	 * 3 x 2^64 + 2^63 + 2^62 + 74070 */
	struct scales_histo acc = m1->side->hist;
	acc.count = acc.sum = acc.max = 0;
	acc.sum_hi = 0;
	acc.min = UINT64_MAX;
	memset(buf, 0, 8 * (size_t)nb);
	acc.buckets = buf;
	scales_histo_add(&acc, buf, &m1->side->hist);
	scales_histo_add(&acc, buf, &m2->side->hist);
	cr_assert_eq(acc.sum_hi, 3);
	cr_assert_eq(acc.sum, ((uint64_t)3 << 62) + 74070);

	/* JSON: every digit, 2 x 2^64 + 2^62 + 37035 */
	struct scales_buf jb = { 0 };
	const struct scales_snapshot *snaps[1] = { s2 };
	cr_assert_eq(scales_json_render(&jb, snaps, NULL, 1, 0), 0);
	cr_assert(strstr(jb.data, "\"sum\":41505174165846528171,"), "%s",
	          jb.data);
	scales_buf_free(&jb);
	free(buf);
	scales_snapshot_free(&s1);
	scales_snapshot_free(&s2);
	sb_free(b);
}
