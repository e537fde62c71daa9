/* SPDX-License-Identifier: MIT */
/*
 * histogram.c: the histogram rules (docs/format.md section 9): value to
 * bucket, bucket to range, and the shapes a histogram may have.
 */
#include <scales/scales.h>

#include "scales_shm.h"

uint32_t scales_shm_bucket(uint64_t v, unsigned sub_bits, unsigned unit_shift,
                           uint32_t last_bucket)
{
	/* the one definition is the writer's hot path, <scales/scales.h> */
	return scales_histogram_bucket(v, sub_bits, unit_shift, last_bucket);
}

void scales_shm_bucket_range(uint32_t index, unsigned sub_bits,
                             unsigned unit_shift, uint64_t *lo, uint64_t *width)
{
	uint64_t sub = (uint64_t)1 << sub_bits;
	if (index < 2 * sub) {
		*lo = (uint64_t)index << unit_shift;
		*width = (uint64_t)1 << unit_shift;
		return;
	}
	unsigned shift = (index >> sub_bits) - 1;
	uint64_t q = index - ((uint64_t)shift << sub_bits);
	*lo = (q << shift) << unit_shift;
	*width = (uint64_t)1 << (shift + unit_shift);
}

uint64_t scales_shm_histo_max_buckets(unsigned sub_bits, unsigned unit_shift)
{
	/* the largest raw value, 2^64 - 1, after >> unit_shift has its top
	 * bit at msb = 63 - unit_shift; its bucket is
	 * ((msb - sub_bits) << sub_bits) + (v >> shift) < (msb - sub_bits + 2)
	 * << sub_bits. Below 2^(sub_bits + 1) buckets are linear. */
	if (sub_bits > 30 || unit_shift > 63)
		return 0;
	unsigned msb = 63 - unit_shift;
	if (msb <= sub_bits)
		return ((uint64_t)1 << (msb + 1));
	return (uint64_t)(msb - sub_bits + 2) << sub_bits;
}

bool scales_shm_histo_shape_ok(uint32_t sub_bits, uint32_t unit_shift,
                               uint32_t nbuckets)
{
	return sub_bits >= SCALES_SHM_HISTO_SUB_BITS_MIN &&
	       sub_bits <= SCALES_SHM_HISTO_SUB_BITS_MAX &&
	       unit_shift <= SCALES_SHM_HISTO_SHIFT_MAX &&
	       nbuckets > (2u << sub_bits) &&
	       nbuckets < SCALES_SHM_HISTO_BUCKETS_LIMIT &&
	       nbuckets <= scales_shm_histo_max_buckets(sub_bits, unit_shift);
}

bool scales_shm_histo_shape(uint64_t highest, uint32_t sub_bits,
                            uint32_t unit_shift, uint32_t *nbuckets)
{
	if (sub_bits < SCALES_SHM_HISTO_SUB_BITS_MIN ||
	    sub_bits > SCALES_SHM_HISTO_SUB_BITS_MAX ||
	    unit_shift > SCALES_SHM_HISTO_SHIFT_MAX ||
	    (highest >> unit_shift) < ((uint64_t)2 << sub_bits))
		return false;
	uint64_t last =
	    scales_shm_bucket(highest, sub_bits, unit_shift, UINT32_MAX);
	if (last + 1 >= SCALES_SHM_HISTO_BUCKETS_LIMIT)
		return false;
	*nbuckets = (uint32_t)last + 1;
	return scales_shm_histo_shape_ok(sub_bits, unit_shift, *nbuckets);
}
