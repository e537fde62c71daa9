/* SPDX-License-Identifier: MIT */
/* kinds.c: the bytes each kind uses (docs/format.md section 6). */
#include "scales_shm.h"

bool scales_shm_kind_sizes(uint32_t kind, uint32_t nbuckets, uint32_t *data,
                           uint32_t *stripe)
{
	*data = *stripe = 0;
	switch (kind) {
	case SCALES_SHM_COUNTER:
		*stripe = 8;
		return true;
	case SCALES_SHM_GAUGE_I64:
	case SCALES_SHM_GAUGE_F64:
	case SCALES_SHM_STATE:
		*data = 8;
		return true;
	case SCALES_SHM_HISTOGRAM:
		/* min, max; the sum, then the buckets */
		*data = 16;
		*stripe = 8 + 8 * nbuckets;
		return nbuckets < SCALES_SHM_HISTO_BUCKETS_LIMIT;
	case SCALES_SHM_AGG_SUM:
	case SCALES_SHM_AGG_STATES:
	case SCALES_SHM_DICT:
		return true;
	default:
		return false;
	}
}

uint32_t scales_shm_state_table_size(uint32_t nslots)
{
	if (nslots == 0 || nslots > SCALES_SHM_STATE_SLOTS_MAX)
		return 0;
	return 8 +
	       (nslots + 1) * (uint32_t)sizeof(struct scales_shm_state_slot);
}
