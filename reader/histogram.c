/* SPDX-License-Identifier: MIT */
/*
 * histogram.c: statistics from log-linear buckets: nearest-rank quantiles,
 * mean and standard deviation, interval (delta) histograms and bucket-wise
 * sums.
 */
#include <errno.h>
#include <math.h>
#include <string.h>

#include "internal.h"

void scales_histo_bucket_range(const struct scales_histo *h, uint32_t b,
                               uint64_t *lo, uint64_t *width)
{
	if (b >= scales_shm_histo_max_buckets(h->sub_bits, h->unit_shift)) {
		*lo = UINT64_MAX;
		*width = 1;
		return;
	}
	scales_shm_bucket_range(b, h->sub_bits, h->unit_shift, lo, width);
	if (*width - 1 > UINT64_MAX - *lo)
		*width = UINT64_MAX - *lo + 1;
}

double r_histo_rep(const struct scales_histo *h, uint32_t b)
{
	uint64_t lo, width;
	scales_histo_bucket_range(h, b, &lo, &width);
	/* The middle of the bucket's own range, for the last bucket too:
	 * values above the range land there, but one absurd value (a
	 * negative duration cast to u64) must not drag every quantile of
	 * the bucket to half of it. The clamp below still reports an
	 * all-overflow bucket exactly (docs/format.md, section 9). */
	double v = (double)(lo + (width - 1) / 2);
	if (h->count && h->min <= h->max) {
		if (v < (double)h->min)
			v = (double)h->min;
		if (v > (double)h->max)
			v = (double)h->max;
	}
	return v;
}

void r_histo_fix_minmax(struct scales_histo *h)
{
	uint32_t b, lowb = 0, highb = 0;
	bool any = false;
	for (b = 0; b < h->nbuckets; b++) {
		if (h->buckets[b]) {
			if (!any)
				lowb = b;
			highb = b;
			any = true;
		}
	}
	if (!any)
		return;
	uint64_t lo, width;
	scales_histo_bucket_range(h, lowb, &lo, &width);
	h->min = lo;
	scales_histo_bucket_range(h, highb, &lo, &width);
	h->max = lo + (width - 1);
}

/* Nearest rank of q among n values: ceil(q * n), at least 1, at most n;
 * q * n within a relative 1e-12 above an integer counts as that integer
 * (0.999 * 100000 is 99899.99999999999 in binary floating point). */
static uint64_t rank_of(double q, uint64_t n)
{
	double r = q * (double)n;
	if (!(r > 0))
		return 1;
	if (r >= (double)n)
		return n;
	uint64_t k = (uint64_t)r;
	if ((double)k < r - r * 1e-12)
		k++;
	if (k < 1)
		k = 1;
	return k > n ? n : k;
}

/* Dividing by N = 1 / scale when that is an integer (1e9 for nanoseconds)
 * rounds once, from the exact decimal: 110794 ns is 0.000110794 s, where
 * 110794 * 1e-9 (1e-9 is not exact in binary) is 0.00011079400000000001. */
double scales_scale_value(double raw, double scale)
{
	if (scale > 0 && scale < 1) {
		double inv = 1 / scale, n = nearbyint(inv);
		if (fabs(inv - n) <= 1e-9 * n)
			return raw / n;
	}
	return raw * scale;
}

double scales_histo_quantile(const struct scales_histo *h, double q)
{
	if (!h->count || !h->buckets || !(q > 0))
		return NAN;
	uint64_t rank = rank_of(q, h->count), cum = 0;
	for (uint32_t b = 0; b < h->nbuckets; b++) {
		cum += h->buckets[b];
		if (cum >= rank)
			return scales_scale_value(r_histo_rep(h, b), h->scale);
	}
	return scales_scale_value((double)h->max, h->scale);
}

void scales_histo_stats(const struct scales_histo *h, struct scales_hstats *out)
{
	static const double qs[6] = { 0.5, 0.75, 0.95, 0.98, 0.99, 0.999 };
	double *dst[6] = { &out->p50, &out->p75, &out->p95,
		           &out->p98, &out->p99, &out->p999 };
	out->count = h->count;
	out->sum = scales_scale_value(scales_histo_raw_sum(h), h->scale);
	if (!h->count || !h->buckets) {
		out->min = out->max = out->mean = out->stddev = NAN;
		for (int i = 0; i < 6; i++)
			*dst[i] = NAN;
		return;
	}
	out->min = scales_scale_value((double)h->min, h->scale);
	out->max = scales_scale_value((double)h->max, h->scale);
	double mean_raw = scales_histo_raw_sum(h) / (double)h->count;
	out->mean = scales_scale_value(mean_raw, h->scale);

	uint64_t ranks[6];
	for (int i = 0; i < 6; i++)
		ranks[i] = rank_of(qs[i], h->count);
	int qi = 0;
	uint64_t cum = 0;
	double var = 0;
	for (uint32_t b = 0; b < h->nbuckets; b++) {
		uint64_t c = h->buckets[b];
		if (!c)
			continue;
		double rep = r_histo_rep(h, b);
		double d = rep - mean_raw;
		var += (double)c * d * d;
		cum += c;
		while (qi < 6 && cum >= ranks[qi])
			*dst[qi++] = scales_scale_value(rep, h->scale);
	}
	while (qi < 6)
		*dst[qi++] = out->max;
	out->stddev =
	    scales_scale_value(sqrt(var / (double)h->count), h->scale);
}

int scales_histo_delta(const struct scales_histo *prev,
                       const struct scales_histo *cur, uint64_t *buckets,
                       struct scales_histo *out)
{
	if (prev->sub_bits != cur->sub_bits ||
	    prev->unit_shift != cur->unit_shift ||
	    prev->nbuckets != cur->nbuckets || prev->scale != cur->scale ||
	    !prev->buckets || !cur->buckets)
		return -EINVAL;
	uint64_t n = 0;
	int32_t low = -1, high = -1;
	for (uint32_t b = 0; b < cur->nbuckets; b++) {
		if (cur->buckets[b] < prev->buckets[b])
			return -EINVAL;
		uint64_t d = cur->buckets[b] - prev->buckets[b];
		buckets[b] = d;
		n += d;
		if (d) {
			if (low < 0)
				low = (int32_t)b;
			high = (int32_t)b;
		}
	}
	*out = *cur;
	out->buckets = buckets;
	out->count = n;
	/* a sum that lags its count (a record in flight) may read lower
	 * than before: no negative interval sum */
	r_u128 cs = r_hsum(cur), ps = r_hsum(prev);
	r_hsum_set(out, cs > ps ? cs - ps : 0);
	if (!n) {
		out->min = UINT64_MAX;
		out->max = 0;
		return 0;
	}
	uint64_t lo, width;
	scales_histo_bucket_range(cur, (uint32_t)low, &lo, &width);
	out->min = lo > cur->min ? lo : cur->min;
	scales_histo_bucket_range(cur, (uint32_t)high, &lo, &width);
	uint64_t hi = lo + (width - 1);
	if ((uint32_t)high + 1 == cur->nbuckets)
		hi = cur->max; /* the last bucket holds everything above */
	out->max = hi < cur->max ? hi : cur->max;
	if (out->min > out->max)
		out->min = out->max;
	return 0;
}

/* A non-negative double to the nearest u64, saturating. */
static uint64_t to_raw(double v)
{
	if (!(v > 0))
		return 0;
	v += 0.5;
	return v >= 18446744073709551616.0 ? UINT64_MAX : (uint64_t)v;
}

/* The same for a sum, up to 2^96 - 1. */
static r_u128 to_raw_sum(double v)
{
	if (!(v > 0))
		return 0;
	v += 0.5;
	if (v >= 79228162514264337593543950336.0) /* 2^96 */
		return ((r_u128)1 << 96) - 1;
	return (r_u128)v;
}

double scales_histo_raw_sum(const struct scales_histo *h)
{
	/* correctly rounded (libgcc's __floatuntidf) */
	return (double)r_hsum(h);
}

void r_histo_add(struct scales_histo *dst, uint64_t *dst_buckets,
                 const struct scales_histo *src)
{
	if (!src->count && !src->sum && !src->sum_hi)
		return;
	bool same = dst->sub_bits == src->sub_bits &&
	            dst->unit_shift == src->unit_shift &&
	            dst->nbuckets == src->nbuckets && dst->scale == src->scale;
	uint64_t smin = src->min, smax = src->max;
	r_u128 ssum = r_hsum(src);
	if (same) {
		uint32_t nb = src->nbuckets;
		if (dst_buckets + nb <= src->buckets ||
		    src->buckets + nb <= dst_buckets)
			r_words_add(dst_buckets, src->buckets, 0, nb);
		else /* a histogram added to itself */
			for (uint32_t b = 0; b < nb; b++)
				dst_buckets[b] += src->buckets[b];
	} else {
		/* re-bucket each source bucket's representative value into
		 * dst's raw unit */
		double f = src->scale / dst->scale;
		for (uint32_t b = 0; b < src->nbuckets; b++) {
			if (!src->buckets[b])
				continue;
			uint64_t raw = to_raw(r_histo_rep(src, b) * f);
			dst_buckets[scales_shm_bucket(
			    raw, dst->sub_bits, dst->unit_shift,
			    dst->nbuckets ? dst->nbuckets - 1 : 0)] +=
			    src->buckets[b];
		}
		smin = to_raw((double)smin * f);
		smax = to_raw((double)smax * f);
		ssum = to_raw_sum(scales_histo_raw_sum(src) * f);
	}
	r_hsum_set(dst, r_hsum(dst) + ssum);
	if (src->count) {
		if (!dst->count) {
			dst->min = smin;
			dst->max = smax;
		} else {
			dst->min = smin < dst->min ? smin : dst->min;
			dst->max = smax > dst->max ? smax : dst->max;
		}
	}
	dst->count += src->count;
}

void scales_histo_add(struct scales_histo *dst, uint64_t *dst_buckets,
                      const struct scales_histo *src)
{
	r_histo_add(dst, dst_buckets, src);
}
