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

/* Reservations grow a page at a time: a stripe region is reserved once
 * per stripe in use, so a larger chunk would cost (slots + 1) chunks even
 * for a process with a handful of stats. */
#define RESERVE_CHUNK 4096u

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

static uint64_t round_down(uint64_t v, uint64_t a)
{
	return v / a * a;
}

/* Per-CPU stripes in use: the slots handed out, at most top_slots of
 * them for the top region (the shared stripe is always in use). Registry
 * lock held: slots_used does not move. */
uint32_t stripes_in_use(const scales_registry *reg, bool top)
{
	const struct scales_shm_header *h = reg->hdr;
	uint32_t n = h->slots_used;
	if (top && n > h->top_slots)
		n = h->top_slots;
	return n;
}

static uint64_t stripe_at(const scales_registry *reg, uint32_t s)
{
	return reg->hdr->stripe_offset + (uint64_t)s * reg->hdr->stripe_size;
}

/* Reserves [from, to) of every stripe the region is present in. */
static int reserve_stripes(scales_registry *reg, bool top, uint64_t from,
                           uint64_t to)
{
	if (to <= from)
		return 0;
	uint32_t n = stripes_in_use(reg, top);
	int rc =
	    reserve_range(reg, stripe_at(reg, reg->shared) + from, to - from);
	for (uint32_t s = 0; !rc && s < n; s++)
		rc = reserve_range(reg, stripe_at(reg, s) + from, to - from);
	return rc;
}

/*
 * Before [old, need) of an area (base_off, cap bytes) is handed out: makes
 * sure it is reserved, in chunks, never past the area's end. *mark is how
 * far this process knows the area to be reserved; bytes below old were
 * handed out, so reserved, by whoever handed them out. Nothing here
 * assumes where an area's use starts (the string area starts at 8, not 0).
 */
static int reserve_area(scales_registry *reg, uint64_t *mark, uint64_t base_off,
                        uint64_t cap, uint64_t old, uint64_t need)
{
	uint64_t from = *mark > old ? *mark : old;
	if (need <= from)
		return 0;
	uint64_t to = round_up(need, RESERVE_CHUNK);
	if (to > cap)
		to = cap;
	int rc = reserve_range(reg, base_off + from, to - from);
	if (rc)
		return rc;
	*mark = to;
	return 0;
}

/*
 * The stripes' two regions: the bottom one (counters) grows up from 0 to
 * stripe_used and is present in every stripe in use; the top one
 * (histograms) grows down from stripe_size to stripe_top and is present
 * in the first top_slots slots and the shared stripe only. Each is
 * reserved in chunks; reserved_stripe and reserved_top are this process's
 * marks, as for reserve_area().
 */
static int reserve_bottom(scales_registry *reg, uint64_t old, uint64_t need)
{
	uint64_t from = reg->reserved_stripe > old ? reg->reserved_stripe : old;
	if (need <= from)
		return 0;
	uint64_t to = round_up(need, RESERVE_CHUNK);
	if (to > reg->hdr->stripe_size)
		to = reg->hdr->stripe_size;
	int rc = reserve_stripes(reg, false, from, to);
	if (!rc)
		reg->reserved_stripe = to;
	return rc;
}

static int reserve_top(scales_registry *reg, uint64_t old, uint64_t need)
{
	uint64_t to = reg->reserved_top < old ? reg->reserved_top : old;
	if (need >= to)
		return 0;
	uint64_t from = round_down(need, RESERVE_CHUNK);
	int rc = reserve_stripes(reg, true, from, to);
	if (!rc)
		reg->reserved_top = from;
	return rc;
}

/*
 * Gives CPU cpu a slot of its own: the next unused stripe, reserved where
 * the regions are in use (at least as far as any writer process's marks
 * reach: a mark is a chunk boundary at or below the rounded bump pointer),
 * then published. A CPU whose slot cannot be reserved is marked
 * SLOT_SHARED: it keeps updating the shared stripe, and no later update
 * tries again. Registry lock held.
 */
int alloc_slot(scales_registry *reg, uint32_t cpu)
{
	struct scales_shm_header *h = reg->hdr;
	uint64_t *map = reg->slot_map;
	if (!(h->flags & SCALES_SHM_F_SLOTS) || cpu >= reg->shared ||
	    map[cpu] != SCALES_SHM_SLOT_NONE)
		return 0;
	uint32_t k = h->slots_used;
	int rc = SCALES_E_FULL;
	if (k < reg->shared) {
		uint64_t size = h->stripe_size;
		uint64_t to = round_up(h->stripe_used, RESERVE_CHUNK);
		if (to < reg->reserved_stripe)
			to = reg->reserved_stripe;
		if (to > size)
			to = size;
		rc = reserve_range(reg, stripe_at(reg, k), to);
		if (!rc && k < h->top_slots) {
			uint64_t from =
			    round_down(h->stripe_top, RESERVE_CHUNK);
			if (from > reg->reserved_top)
				from = reg->reserved_top;
			rc = reserve_range(reg, stripe_at(reg, k) + from,
			                   size - from);
		}
	}
	if (rc) {
		/* Relaxed: SLOT_SHARED sends the CPU's updates to the shared
		 * stripe, as SLOT_NONE did; no bytes depend on it. */
		__atomic_store_n(&map[cpu], SCALES_SHM_SLOT_SHARED,
		                 __ATOMIC_RELAXED);
		return rc;
	}
	/* Release: a reader that loads the new count (acquire) reads the
	 * slot's words, reserved (and zero) above. */
	__atomic_store_n(&h->slots_used, k + 1, __ATOMIC_RELEASE);
	/* Release: a thread that sees its CPU's slot writes reserved bytes;
	 * the slot is counted by readers before anything is added to it. */
	__atomic_store_n(&map[cpu], (uint64_t)k * h->stripe_size,
	                 __ATOMIC_RELEASE);
	return 0;
}

/* Zeroes a reused entry's words in every stripe in use. */
void zero_stripes(scales_registry *reg, const struct scales_shm_entry *e)
{
	bool top = e->stripe_offset >= reg->hdr->stripe_top;
	uint32_t n = stripes_in_use(reg, top);
	for (uint32_t s = 0; s <= n; s++) {
		uint32_t at = s < n ? s : reg->shared;
		uint64_t *w =
		    (uint64_t *)(void *)(reg->base + stripe_at(reg, at) +
		                         e->stripe_offset);
		/* Relaxed, word by word: readers may be reading them. */
		for (uint32_t i = 0; i < e->stripe_size / 8; i++)
			__atomic_store_n(&w[i], 0, __ATOMIC_RELAXED);
	}
}

/* Data bytes an entry has past its data_size: a timed state's table. A
 * retired entry keeps its kind and param[0] until published again. */
uint32_t entry_extra(const struct scales_shm_entry *e)
{
	return e->kind == SCALES_SHM_STATE ?
	           scales_shm_state_table_size(e->param[0]) :
	           0;
}

/*
 * Finds room for an entry with the given data and stripe sizes (and extra
 * data bytes past data_size): a retired entry of exactly those sizes in
 * the same region (its data is reused; the caller zeroes it), else a new
 * directory slot with fresh (zero) space; top: its stripe words go to the
 * top region. Does not publish.
 */
int alloc_entry(scales_registry *reg, uint32_t data_size, uint32_t extra,
                uint32_t stripe_size, bool top, uint32_t *idx, bool *reused)
{
	struct scales_shm_header *h = reg->hdr;
	uint32_t prev = 0, cur = h->free_head;
	uint32_t guard = h->dir_capacity;
	while (cur != 0 && cur <= h->dir_capacity && guard-- > 0) {
		struct scales_shm_entry *e = entry_at(reg, cur - 1);
		if (e->data_size == data_size && entry_extra(e) == extra &&
		    e->stripe_size == stripe_size &&
		    (!stripe_size ||
		     (e->stripe_offset >= h->stripe_top) == top)) {
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
	uint64_t stop = h->stripe_top;
	uint64_t dsz = round_up((uint64_t)data_size + extra, 64),
	         ssz = round_up(stripe_size, 8);
	/* A cache line of data each: gauges and min/max words of unrelated
	 * stats, written from different CPUs, must not share a line. */
	if (used >= h->dir_capacity || dsz > h->data_capacity - dused ||
	    ssz > stop - sused)
		return SCALES_E_FULL;
	/* Without slots (never written by this library) there is no top. */
	top = top && (h->flags & SCALES_SHM_F_SLOTS);
	struct scales_shm_entry *e = entry_at(reg, used);
	int rc = reserve_range(reg, (uint64_t)((uint8_t *)e - reg->base),
	                       SCALES_SHM_ENTRY_SIZE);
	if (!rc)
		rc = reserve_area(reg, &reg->reserved_data, h->data_offset,
		                  h->data_capacity, dused, dused + dsz);
	if (!rc && ssz && !top)
		rc = reserve_bottom(reg, sused, sused + ssz);
	if (!rc && ssz && top)
		rc = reserve_top(reg, stop, stop - ssz);
	if (rc)
		return rc;
	uint64_t doff = dsz ? h->data_offset + dused : 0;
	uint64_t soff = !ssz ? 0 : top ? stop - ssz : sused;
	/* Release: readers that see the new bounds see zeroed space. */
	if (dsz)
		__atomic_store_n(&h->data_used, dused + dsz, __ATOMIC_RELEASE);
	if (ssz && !top)
		__atomic_store_n(&h->stripe_used, sused + ssz,
		                 __ATOMIC_RELEASE);
	if (ssz && top)
		__atomic_store_n(&h->stripe_top, soff, __ATOMIC_RELEASE);
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
	                      h->strings_capacity, used, used + sz);
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
