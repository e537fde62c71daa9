/* SPDX-License-Identifier: MIT */
/*
 * index.c: the in-process path index and string index, on liburcu's
 * lock-free hash table (cds_lfht) with the "bulletproof" RCU flavor, which
 * registers reader threads by itself (a library cannot ask its host to).
 *
 * Ordering guarantees:
 *  - Lookups (index_find, string lookups) run inside rcu_read_lock() and
 *    copy what they need before rcu_read_unlock(); they take no lock.
 *  - Additions and removals happen with the registry lock held (one writer).
 *    cds_lfht_add/del publish with the barriers documented in
 *    urcu/rculfhash.h; a removed node is freed through call_rcu, after every
 *    lookup that may still hold it has left its read-side section.
 *  - A node's handle is filled before cds_lfht_add publishes the node.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

/*
 * liburcu 0.13 is not instrumented for ThreadSanitizer, so TSan cannot see
 * that cds_lfht_add*() publishes a node (with a release barrier) and that a
 * lookup reads it after a dependent load. These annotations tell it, as
 * liburcu 0.14's urcu/annotate.h does; they are no-ops in other builds.
 */
#if defined(__SANITIZE_THREAD__)
#define SCALES_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define SCALES_TSAN 1
#endif
#endif
#ifdef SCALES_TSAN
void __tsan_acquire(void *addr);
void __tsan_release(void *addr);
#define tsan_acquire(p) __tsan_acquire(p)
#define tsan_release(p) __tsan_release(p)
#else
#define tsan_acquire(p) ((void)(p))
#define tsan_release(p) ((void)(p))
#endif

/* The node an iterator stands on, seen as published (see above). */
static struct cds_lfht_node *iter_node(struct cds_lfht_iter *it)
{
	struct cds_lfht_node *node = cds_lfht_iter_get_node(it);
	if (node)
		tsan_acquire(node);
	return node;
}

uint64_t hash_bytes(const char *s, size_t len)
{
	/* FNV-1a, then a final mix: paths share long prefixes. */
	uint64_t h = 0xcbf29ce484222325ull;
	for (size_t i = 0; i < len; i++) {
		h ^= (unsigned char)s[i];
		h *= 0x100000001b3ull;
	}
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdull;
	h ^= h >> 33;
	return h;
}

struct key {
	const char *s;
	size_t len;
};

static int match_path(struct cds_lfht_node *node, const void *key)
{
	const struct index_node *n =
	    caa_container_of(node, struct index_node, lfht);
	const struct key *k = key;
	return n->path_len == k->len && memcmp(n->path, k->s, k->len) == 0;
}

static int match_string(struct cds_lfht_node *node, const void *key)
{
	const struct string_node *n =
	    caa_container_of(node, struct string_node, lfht);
	const struct key *k = key;
	return n->len == k->len && memcmp(n->bytes, k->s, k->len) == 0;
}

int index_init(scales_registry *reg)
{
	reg->index =
	    cds_lfht_new(1024, 1024, 0,
	                 CDS_LFHT_AUTO_RESIZE | CDS_LFHT_ACCOUNTING, NULL);
	reg->strings =
	    cds_lfht_new(64, 64, 0, CDS_LFHT_AUTO_RESIZE | CDS_LFHT_ACCOUNTING,
	                 NULL);
	return reg->index && reg->strings ? 0 : -ENOMEM;
}

static void free_index_node(struct rcu_head *head)
{
	free(caa_container_of(head, struct index_node, rcu));
}

static void free_string_node(struct rcu_head *head)
{
	free(caa_container_of(head, struct string_node, rcu));
}

/* At close: no lookup may run any more (scales_close's contract). */
void index_destroy(scales_registry *reg)
{
	struct cds_lfht_iter it;
	struct cds_lfht_node *node;
	if (reg->index) {
		rcu_read_lock();
		cds_lfht_first(reg->index, &it);
		while ((node = iter_node(&it)) != NULL) {
			cds_lfht_next(reg->index, &it);
			if (!cds_lfht_del(reg->index, node))
				call_rcu(&caa_container_of(node,
				                           struct index_node,
				                           lfht)
				              ->rcu,
				         free_index_node);
		}
		rcu_read_unlock();
	}
	if (reg->strings) {
		rcu_read_lock();
		cds_lfht_first(reg->strings, &it);
		while ((node = iter_node(&it)) != NULL) {
			cds_lfht_next(reg->strings, &it);
			if (!cds_lfht_del(reg->strings, node))
				call_rcu(&caa_container_of(node,
				                           struct string_node,
				                           lfht)
				              ->rcu,
				         free_string_node);
		}
		rcu_read_unlock();
	}
	/* Nodes are gone; wait for their callbacks before the tables go. */
	rcu_barrier();
	if (reg->index)
		cds_lfht_destroy(reg->index, NULL);
	if (reg->strings)
		cds_lfht_destroy(reg->strings, NULL);
	reg->index = reg->strings = NULL;
}

/*
 * Lock-free: copies the node's header and handle (not the path) into *copy.
 * A node is only returned while its shared entry still holds the generation
 * it was indexed with: another process sharing the segment (a forked child
 * or its parent) may have retired the entry, or retired it and published
 * another path in the same slot, without touching our index. A miss sends
 * the caller to the locked path, whose index_sync() drops the stale node.
 */
bool index_find(scales_registry *reg, const char *path, size_t len,
                struct index_node *copy)
{
	struct key k = { path, len };
	struct cds_lfht_iter it;
	bool found = false;
	rcu_read_lock();
	cds_lfht_lookup(reg->index, hash_bytes(path, len), match_path, &k, &it);
	struct cds_lfht_node *node = iter_node(&it);
	if (node) {
		memcpy(copy, caa_container_of(node, struct index_node, lfht),
		       sizeof *copy);
		/*
		 * Where liveness is decided. The entry's address derives
		 * from the node we loaded (a dependent load, ordered after
		 * the node's publication, which followed publish()'s release
		 * store of the even generation), so we read that generation
		 * or a later one. Every retirement or reuse first makes the
		 * generation odd and ends on a higher even value, so equality
		 * means the slot is unchanged since we indexed it. A
		 * retirement by another process that happened before this
		 * call (ordered by whatever told us: a pipe, waitpid, the
		 * segment lock) is seen by coherence. One racing with this
		 * call may land either side, as with a retirement by another
		 * thread. The acquire keeps the state load after it.
		 */
		const struct scales_shm_entry *e = entry_at(reg, copy->entry);
		uint32_t g = __atomic_load_n(&e->generation, __ATOMIC_ACQUIRE);
		found = g == copy->generation &&
		        __atomic_load_n(&e->state, __ATOMIC_RELAXED) ==
		            SCALES_SHM_LIVE;
	}
	rcu_read_unlock();
	return found;
}

/* Builds the update handle of a published entry. */
void index_fill_handle(const scales_registry *reg, uint32_t idx,
                       struct index_node *n)
{
	const struct scales_shm_entry *e = entry_at(reg, idx);
	uint64_t *stripe0 =
	    (uint64_t *)(void *)(reg->base + reg->hdr->stripe_offset +
	                         e->stripe_offset);
	/* the shared stripe lies past every slot */
	uint64_t shared = (uint64_t)reg->shared * reg->hdr->stripe_size;
	void *data = reg->base + e->data_offset;
	n->kind = e->kind;
	memset(&n->handle, 0, sizeof n->handle);
	switch (e->kind) {
	case SCALES_SHM_COUNTER:
		n->handle.counter =
		    (scales_counter){ stripe0,        reg->slot_map, shared,
			              reg->rseq_cpus, reg->shared,   0 };
		break;
	case SCALES_SHM_GAUGE_I64:
		n->handle.gauge.value = data;
		break;
	case SCALES_SHM_GAUGE_F64:
		n->handle.gauge_f64.value = data;
		break;
	case SCALES_SHM_STATE:
		n->handle.state.value = data;
		n->handle.state.reg = (scales_registry *)reg;
		break;
	case SCALES_SHM_HISTOGRAM: {
		scales_histogram *h = &n->handle.histogram;
		h->base = stripe0;
		h->minmax = data;
		h->rseq_cpus = reg->rseq_cpus;
		h->ncpu = reg->shared;
		h->shared = shared;
		h->slots = reg->slot_map;
		/* slots past top_slots have no top region (alloc.c) */
		h->limit =
		    (uint64_t)reg->hdr->top_slots * reg->hdr->stripe_size;
		h->sub_bits = (uint8_t)e->param[0];
		h->unit_shift = (uint8_t)e->param[1];
		h->last_bucket = e->param[2] - 1;
		timer_clock(&h->clock, &h->ns_mult);
		break;
	}
	default:
		break;
	}
}

static struct index_node *node_new(scales_registry *reg, uint32_t idx)
{
	const struct scales_shm_entry *e = entry_at(reg, idx);
	size_t len = strnlen(e->path, SCALES_SHM_PATH_MAX - 1);
	struct index_node *n = calloc(1, sizeof *n + len + 1);
	if (!n)
		return NULL;
	cds_lfht_node_init(&n->lfht);
	n->entry = idx;
	n->generation = e->generation;
	n->path_len = (uint32_t)len;
	memcpy(n->path, e->path, len);
	index_fill_handle(reg, idx, n);
	return n;
}

/* Registry lock held. Adds (or replaces) the node for published entry idx. */
int index_add(scales_registry *reg, uint32_t idx)
{
	struct index_node *n = node_new(reg, idx);
	if (!n)
		return -ENOMEM;
	struct key k = { n->path, n->path_len };
	tsan_release(&n->lfht); /* the node is complete: publish it */
	rcu_read_lock();
	struct cds_lfht_node *old =
	    cds_lfht_add_replace(reg->index, hash_bytes(n->path, n->path_len),
	                         match_path, &k, &n->lfht);
	rcu_read_unlock();
	if (old)
		call_rcu(&caa_container_of(old, struct index_node, lfht)->rcu,
		         free_index_node);
	return 0;
}

/* Registry lock held. */
void index_remove(scales_registry *reg, const char *path, size_t len)
{
	struct key k = { path, len };
	struct cds_lfht_iter it;
	rcu_read_lock();
	cds_lfht_lookup(reg->index, hash_bytes(path, len), match_path, &k, &it);
	struct cds_lfht_node *node = iter_node(&it);
	if (node && !cds_lfht_del(reg->index, node))
		call_rcu(&caa_container_of(node, struct index_node, lfht)->rcu,
		         free_index_node);
	rcu_read_unlock();
}

/*
 * Registry lock held. Another process sharing the segment (a forked child
 * or parent) changed the directory: bring the index in step with it. Drops
 * nodes whose entry was retired or reused, adds live entries we lack.
 */
void index_sync(scales_registry *reg)
{
	struct scales_shm_header *h = reg->hdr;
	uint64_t gen = __atomic_load_n(&h->generation, __ATOMIC_ACQUIRE);
	if (gen == reg->synced_generation)
		return;
	struct cds_lfht_iter it;
	struct cds_lfht_node *node;
	rcu_read_lock();
	cds_lfht_first(reg->index, &it);
	while ((node = iter_node(&it)) != NULL) {
		struct index_node *n =
		    caa_container_of(node, struct index_node, lfht);
		cds_lfht_next(reg->index, &it);
		const struct scales_shm_entry *e = entry_at(reg, n->entry);
		if (e->state != SCALES_SHM_LIVE ||
		    e->generation != n->generation) {
			if (!cds_lfht_del(reg->index, node))
				call_rcu(&n->rcu, free_index_node);
		}
	}
	rcu_read_unlock();
	uint32_t used = h->dir_used;
	for (uint32_t i = 0; i < used; i++) {
		const struct scales_shm_entry *e = entry_at(reg, i);
		if (e->state != SCALES_SHM_LIVE)
			continue;
		struct index_node copy;
		size_t len = strnlen(e->path, SCALES_SHM_PATH_MAX - 1);
		if (index_find(reg, e->path, len, &copy) && copy.entry == i &&
		    copy.generation == e->generation)
			continue;
		index_add(reg, i);
	}
	reg->synced_generation = gen;
}

/*
 * Interns s: returns the ref of an existing record or appends one. Lock-free
 * when the string is known; else takes the registry lock. A ref returned
 * here was published (release) before it is returned.
 */
int string_intern(scales_registry *reg, const char *s, size_t len,
                  uint32_t *ref)
{
	struct key k = { s, len };
	struct cds_lfht_iter it;
	uint64_t hash = hash_bytes(s, len);
	rcu_read_lock();
	cds_lfht_lookup(reg->strings, hash, match_string, &k, &it);
	struct cds_lfht_node *node = iter_node(&it);
	if (node)
		*ref = caa_container_of(node, struct string_node, lfht)->ref;
	rcu_read_unlock();
	if (node)
		return 0;

	int rc = reg_lock(reg);
	if (rc)
		return rc;
	rcu_read_lock();
	cds_lfht_lookup(reg->strings, hash, match_string, &k, &it);
	node = iter_node(&it);
	if (node)
		*ref = caa_container_of(node, struct string_node, lfht)->ref;
	rcu_read_unlock();
	if (!node) {
		struct string_node *n = calloc(1, sizeof *n + len + 1);
		rc = n ? alloc_string(reg, s, len, ref) : -ENOMEM;
		if (!rc) {
			cds_lfht_node_init(&n->lfht);
			n->ref = *ref;
			n->len = (uint32_t)len;
			memcpy(n->bytes, s, len);
			tsan_release(&n->lfht);
			rcu_read_lock();
			cds_lfht_add(reg->strings, hash, &n->lfht);
			rcu_read_unlock();
		} else {
			free(n);
		}
	}
	reg_unlock(reg);
	return rc;
}
