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

/*
 * Reserves [off, off + len) of the file. Any failure but "this file system
 * cannot reserve" is SCALES_E_FULL: the caller refuses the registration
 * (and counts it), since touching unreserved bytes of the mapping may raise
 * SIGBUS in the host.
 */
int reserve_range(scales_registry *reg, uint64_t off, uint64_t len)
{
	if (len == 0)
		return 0;
	int rc;
	do
		rc = posix_fallocate(reg->fd, (off_t)off, (off_t)len);
	while (rc == EINTR);
	/* EOPNOTSUPP: glibc's write-based emulation failed too, so nothing
	 * can reserve here; go on, as every writer on such a file system. */
	if (rc == 0 || rc == EOPNOTSUPP || rc == ENOSYS)
		return 0;
	return SCALES_E_FULL;
}

static uint64_t round_up(uint64_t v, uint64_t a)
{
	return (v + a - 1) / a * a;
}

/*
 * Before [old, need) of an area (count copies, stride bytes apart, from
 * base_off, cap bytes each) is handed out: makes sure it is reserved, in
 * chunks, never past the area's end. *mark is how far this process knows
 * the area to be reserved; bytes below old were handed out, so reserved,
 * by whoever handed them out. Nothing here assumes where an area's use
 * starts (the string area starts at 8, not 0).
 */
static int reserve_area(scales_registry *reg, uint64_t *mark, uint64_t base_off,
                        uint64_t cap, uint32_t count, uint64_t stride,
                        uint64_t old, uint64_t need)
{
	uint64_t from = *mark > old ? *mark : old;
	if (need <= from)
		return 0;
	uint64_t to = round_up(need, RESERVE_CHUNK);
	if (to > cap)
		to = cap;
	for (uint32_t i = 0; i < count; i++) {
		int rc =
		    reserve_range(reg, base_off + i * stride + from, to - from);
		if (rc)
			return rc;
	}
	*mark = to;
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

	/* Room in every area first, then reservations, then the bump
	 * pointers: a refusal leaves no space lost. */
	uint32_t used = h->dir_used;
	uint64_t dused = h->data_used, sused = h->stripe_used;
	uint64_t dsz = round_up(data_size, 64), ssz = round_up(stripe_size, 8);
	/* A cache line of data each: gauges and min/max words of unrelated
	 * stats, written from different CPUs, must not share a line. */
	if (used >= h->dir_capacity || dsz > h->data_capacity - dused ||
	    ssz > h->stripe_size - sused)
		return SCALES_E_FULL;
	struct scales_shm_entry *e = entry_at(reg, used);
	int rc = reserve_range(reg, (uint64_t)((uint8_t *)e - reg->base),
	                       SCALES_SHM_ENTRY_SIZE);
	if (!rc)
		rc = reserve_area(reg, &reg->reserved_data, h->data_offset,
		                  h->data_capacity, 1, 0, dused, dused + dsz);
	if (!rc)
		rc = reserve_area(reg, &reg->reserved_stripe, h->stripe_offset,
		                  h->stripe_size, h->nstripes, h->stripe_size,
		                  sused, sused + ssz);
	if (rc)
		return rc;
	uint64_t doff = dsz ? h->data_offset + dused : 0;
	uint64_t soff = ssz ? sused : 0;
	/* Release: readers that see the new bounds see zeroed space. */
	if (dsz)
		__atomic_store_n(&h->data_used, dused + dsz, __ATOMIC_RELEASE);
	if (ssz)
		__atomic_store_n(&h->stripe_used, sused + ssz,
		                 __ATOMIC_RELEASE);
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
	int rc = reserve_area(reg, &reg->reserved_strings, h->strings_offset,
	                      h->strings_capacity, 1, 0, used, used + sz);
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
