/* SPDX-License-Identifier: MIT */
/*
 * alloc.c: space in the segment. Every function here runs with the registry
 * lock held (lock.c), so the writer-private fields (free_head, next_free)
 * and the bump pointers have one writer at a time.
 *
 * Space is reserved with posix_fallocate as allocations grow, so that a full
 * file system gives an error at registration, never a SIGBUS on an update.
 * The *_used counters are stored with release semantics after the space they
 * cover is initialised (docs/format.md, "Publication protocol").
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>

#include "internal.h"

#define RESERVE_CHUNK 65536u

struct scales_shm_entry *entry_at(const scales_registry *reg, uint32_t idx)
{
	return (struct scales_shm_entry *)(void *)(reg->base +
	                                           reg->hdr->dir_offset +
	                                           (uint64_t)idx *
	                                               SCALES_SHM_ENTRY_SIZE);
}

int reserve_range(scales_registry *reg, uint64_t off, uint64_t len)
{
	if (len == 0)
		return 0;
	int rc = posix_fallocate(reg->fd, (off_t)off, (off_t)len);
	if (rc == ENOSPC || rc == EFBIG)
		return SCALES_E_FULL;
	/* EOPNOTSUPP and friends: the file system cannot reserve; go on, as
	 * every other writer on such a file system must. */
	return 0;
}

static uint64_t round_up(uint64_t v, uint64_t a)
{
	return (v + a - 1) / a * a;
}

/* Reserves [old, new) of a bump-allocated area of cap bytes at base_off,
 * in chunks, never past the area's end (nor so the file's). */
static int reserve_grow(scales_registry *reg, uint64_t base_off, uint64_t cap,
                        uint64_t old, uint64_t new_used)
{
	uint64_t from = round_up(old, RESERVE_CHUNK);
	uint64_t to = round_up(new_used, RESERVE_CHUNK);
	if (from > cap)
		from = cap;
	if (to > cap)
		to = cap;
	if (to <= from)
		return 0;
	return reserve_range(reg, base_off + from, to - from);
}

/* Bump-allocates n bytes (8-aligned) of the data area; 0 if n == 0. */
static int alloc_data(scales_registry *reg, uint32_t n, uint64_t *off)
{
	struct scales_shm_header *h = reg->hdr;
	*off = 0;
	if (n == 0)
		return 0;
	/* A cache line each: gauges and min/max words of unrelated stats,
	 * written from different CPUs, must not share a line. */
	uint64_t used = h->data_used, sz = round_up(n, 64);
	if (sz > h->data_capacity - used)
		return SCALES_E_FULL;
	int rc = reserve_grow(reg, h->data_offset, h->data_capacity, used,
	                      used + sz);
	if (rc)
		return rc;
	*off = h->data_offset + used;
	__atomic_store_n(&h->data_used, used + sz, __ATOMIC_RELEASE);
	return 0;
}

/* Bump-allocates n bytes in every stripe at the same offset. */
static int alloc_stripe(scales_registry *reg, uint32_t n, uint64_t *off)
{
	struct scales_shm_header *h = reg->hdr;
	*off = 0;
	if (n == 0)
		return 0;
	uint64_t used = h->stripe_used, sz = round_up(n, 8);
	if (sz > h->stripe_size - used)
		return SCALES_E_FULL;
	for (uint32_t s = 0; s < h->nstripes; s++) {
		int rc =
		    reserve_grow(reg, h->stripe_offset + s * h->stripe_size,
		                 h->stripe_size, used, used + sz);
		if (rc)
			return rc;
	}
	*off = used;
	__atomic_store_n(&h->stripe_used, used + sz, __ATOMIC_RELEASE);
	return 0;
}

/*
 * Finds room for an entry with the given data and stripe sizes: a retired
 * entry of exactly those sizes (its data is reused; the caller zeroes it),
 * else a new directory slot with fresh (zero) space. Does not publish.
 */
int alloc_entry(scales_registry *reg, uint32_t data_size, uint32_t stripe_size,
                uint32_t *idx, bool *reused)
{
	struct scales_shm_header *h = reg->hdr;
	uint32_t prev = 0, cur = h->free_head;
	uint32_t guard = h->dir_capacity;
	while (cur != 0 && cur <= h->dir_capacity && guard-- > 0) {
		struct scales_shm_entry *e = entry_at(reg, cur - 1);
		if (e->data_size == data_size &&
		    e->stripe_size == stripe_size) {
			if (prev)
				entry_at(reg, prev - 1)->next_free =
				    e->next_free;
			else
				h->free_head = e->next_free;
			e->next_free = 0;
			*idx = cur - 1;
			*reused = true;
			return 0;
		}
		prev = cur;
		cur = e->next_free;
	}

	uint32_t used = h->dir_used;
	if (used >= h->dir_capacity)
		return SCALES_E_FULL;
	struct scales_shm_entry *e = entry_at(reg, used);
	int rc = reserve_range(reg, (uint64_t)((uint8_t *)e - reg->base),
	                       SCALES_SHM_ENTRY_SIZE);
	uint64_t doff = 0, soff = 0;
	if (!rc)
		rc = alloc_data(reg, data_size, &doff);
	if (!rc)
		rc = alloc_stripe(reg, stripe_size, &soff);
	if (rc)
		return rc;
	/* The slot is FREE with generation 0 until published; readers do
	 * not look past dir_used, which the caller raises after publishing. */
	e->data_offset = doff;
	e->data_size = data_size;
	e->stripe_offset = soff;
	e->stripe_size = stripe_size;
	*idx = used;
	*reused = false;
	return 0;
}

/* Puts a retired entry on the free list (its space stays allocated). */
void free_entry(scales_registry *reg, uint32_t idx)
{
	struct scales_shm_entry *e = entry_at(reg, idx);
	e->next_free = reg->hdr->free_head;
	reg->hdr->free_head = idx + 1;
}

/* Appends a string record; *ref is its offset in the string area. */
int alloc_string(scales_registry *reg, const char *s, size_t len, uint32_t *ref)
{
	struct scales_shm_header *h = reg->hdr;
	uint64_t used = h->strings_used;
	uint64_t sz = round_up(4 + len + 1, 4);
	if (sz > h->strings_capacity - used || used + sz > UINT32_MAX)
		return SCALES_E_FULL;
	int rc = reserve_grow(reg, h->strings_offset, h->strings_capacity, used,
	                      used + sz);
	if (rc)
		return rc;
	uint8_t *p = reg->base + h->strings_offset + used;
	uint32_t l = (uint32_t)len;
	memcpy(p, &l, 4);
	memcpy(p + 4, s, len);
	p[4 + len] = '\0';
	*ref = (uint32_t)used;
	/* Release: the record's bytes before the counter that covers them. */
	__atomic_store_n(&h->strings_used, used + sz, __ATOMIC_RELEASE);
	return 0;
}
