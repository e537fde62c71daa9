/* SPDX-License-Identifier: MIT */
/*
 * hist.c: per-interval histograms (the values recorded since the previous
 * push) and bucket-wise sums across processes.
 */
#include <string.h>

#include <scales/scales.h>

#include "export.h"

bool export_hist_interval(const struct scales_histo *prev,
                          const struct scales_histo *cur, uint64_t *buf,
                          struct scales_histo *out)
{
	if (prev && scales_histo_delta(prev, cur, buf, out) == 0)
		return true;
	*out = *cur;
	if (cur->nbuckets)
		memcpy(buf, cur->buckets, cur->nbuckets * sizeof(*buf));
	out->buckets = buf;
	return false;
}

/* A raw value from a double, saturating. */
static uint64_t to_raw(double v)
{
	if (!(v > 0))
		return 0;
	return v >= 18446744073709549568.0 ? UINT64_MAX : (uint64_t)v;
}

/* The bucket index of raw value v in h's layout. */
static uint32_t bucket_of(const struct scales_histo *h, uint64_t v)
{
	return scales_histogram_bucket(v, h->sub_bits, h->unit_shift,
	                               h->nbuckets ? h->nbuckets - 1 : 0);
}

void export_hist_add(struct scales_histo *acc, uint64_t *accbuf,
                     const struct scales_histo *src)
{
	if (src->count == 0)
		return;
	bool same = acc->sub_bits == src->sub_bits &&
	            acc->unit_shift == src->unit_shift &&
	            acc->nbuckets == src->nbuckets && acc->scale == src->scale;
	uint64_t smin = src->min, smax = src->max;
	if (same) {
		for (uint32_t b = 0; b < src->nbuckets; b++)
			accbuf[b] += src->buckets[b];
		/* exact beyond 2^64 (docs/format.md, section 8) */
		acc->sum_hi +=
		    src->sum_hi +
		    __builtin_add_overflow(acc->sum, src->sum, &acc->sum);
	} else {
		/* raw values of src in acc's raw unit */
		double f = acc->scale > 0 ? src->scale / acc->scale : 1;
		for (uint32_t b = 0; b < src->nbuckets; b++) {
			if (!src->buckets[b])
				continue;
			uint64_t lo, width;
			scales_histo_bucket_range(src, b, &lo, &width);
			uint64_t r =
			    to_raw(((double)lo + (double)(width - 1) / 2) * f);
			if (acc->nbuckets)
				accbuf[bucket_of(acc, r)] += src->buckets[b];
		}
		uint64_t add = to_raw(scales_histo_raw_sum(src) * f);
		acc->sum_hi += __builtin_add_overflow(acc->sum, add, &acc->sum);
		smin = to_raw((double)smin * f);
		smax = to_raw((double)smax * f);
	}
	if (acc->count == 0 || smin < acc->min)
		acc->min = smin;
	if (acc->count == 0 || smax > acc->max)
		acc->max = smax;
	acc->count += src->count;
	acc->buckets = accbuf;
}
