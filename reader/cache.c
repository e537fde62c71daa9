/* SPDX-License-Identifier: MIT */
/*
 * cache.c: what a segment's snapshots remember from one to the next (the
 * validated path bytes of each entry, its generation and its rank among
 * the sorted metrics), and the reference-counted blocks that hold those
 * paths for the cache and for every snapshot pointing into them.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

/* The first block: a process's hundred paths fit in it. It was 64 KiB:
 * 64 MB of blocks, mostly empty, over 1,000 processes (issue 17.2). */
#define R_PBLOCK_MIN (4u * 1024)
/* Garbage tolerated beyond the live bytes before compacting. */
#define R_PBLOCK_SLACK (64u * 1024)

static void pblock_unref(struct r_pblock *b)
{
	if (__atomic_sub_fetch(&b->refs, 1, __ATOMIC_ACQ_REL) == 0)
		free(b);
}

void r_pblocks_unref(struct r_pblock *const *b, size_t n)
{
	for (size_t i = 0; i < n; i++)
		pblock_unref(b[i]);
}

/* A new block of at least cap bytes, appended to c->blocks. */
static struct r_pblock *pblock_new(struct r_cache *c, size_t cap)
{
	if (c->nblocks == c->capblocks) {
		size_t nc = c->capblocks ? 2 * c->capblocks : 8;
		void *p = realloc(c->blocks, nc * sizeof(*c->blocks));
		if (!p)
			return NULL;
		c->blocks = p;
		c->capblocks = nc;
		r_guard_publish();
	}
	cap = (cap + 7) & ~(size_t)7;
	struct r_pblock *b = malloc(sizeof(*b) + cap);
	if (!b)
		return NULL;
	b->refs = 1;
	b->used = 0;
	b->cap = cap;
	c->blocks[c->nblocks++] = b;
	c->bytes += cap;
	/* the SIGBUS guard may unwind right after: reachable from memory */
	r_guard_publish();
	return b;
}

int r_cache_reserve(struct r_cache *c, uint32_t n)
{
	if (n > c->cap) {
		uint64_t nc = c->cap ? c->cap : 64;
		while (nc < n)
			nc *= 2;
		if (nc > UINT32_MAX)
			nc = UINT32_MAX;
		struct r_ecache *e = realloc(c->e, nc * sizeof(*e));
		if (!e)
			return -ENOMEM;
		memset(e + c->cap, 0, (nc - c->cap) * sizeof(*e));
		c->e = e;
		c->cap = (uint32_t)nc;
		r_guard_publish();
	}
	size_t words = ((size_t)c->prev_n + 63) / 64;
	if (words > c->capfilled) {
		uint64_t *f = realloc(c->filled, words * sizeof(*f));
		if (!f)
			return -ENOMEM;
		c->filled = f;
		c->capfilled = words;
		r_guard_publish();
	}
	if (words)
		memset(c->filled, 0, words * sizeof(*c->filled));
	return 0;
}

int r_cache_miss(struct r_cache *c, size_t *nmiss,
                 const struct scales_metric *m)
{
	if (*nmiss == c->capmiss) {
		size_t nc = c->capmiss ? 2 * c->capmiss : 64;
		void *p = realloc(c->miss, nc * sizeof(*c->miss));
		if (!p)
			return -ENOMEM;
		c->miss = p;
		c->capmiss = nc;
		r_guard_publish();
	}
	c->miss[(*nmiss)++] = *m;
	return 0;
}

const char *r_cache_store(struct r_cache *c, struct r_ecache *ce,
                          const uint64_t *words, size_t nw, uint32_t gen,
                          uint32_t plen)
{
	size_t bytes = nw * 8;
	struct r_pblock *b = c->nblocks ? c->blocks[c->nblocks - 1] : NULL;
	if (!b || b->cap - b->used < bytes) {
		/* geometric: few blocks for a snapshot to reference */
		size_t cap = c->bytes;
		if (cap < R_PBLOCK_MIN)
			cap = R_PBLOCK_MIN;
		b = pblock_new(c, cap);
		if (!b)
			return NULL;
	}
	char *dst = (char *)b->data + b->used;
	memcpy(dst, words, bytes);
	b->used += bytes;
	c->stored += bytes;
	if (ce->path)
		c->live -= ((uint64_t)ce->plen + 8) / 8 * 8;
	c->live += bytes;
	ce->path = dst;
	ce->gen = gen;
	ce->plen = plen;
	return dst;
}

void r_cache_compact(struct r_cache *c)
{
	/* garbage: paths no entry has any more */
	if (c->stored - c->live <= c->live + R_PBLOCK_SLACK)
		return;
	struct r_pblock **old = c->blocks;
	size_t nold = c->nblocks, capold = c->capblocks;
	uint64_t bytesold = c->bytes;
	uint64_t live = 0;
	for (uint32_t i = 0; i < c->cap; i++)
		if (c->e[i].path)
			live += ((uint64_t)c->e[i].plen + 8) / 8 * 8;
	c->blocks = NULL;
	c->nblocks = c->capblocks = 0;
	c->bytes = 0;
	struct r_pblock *b = pblock_new(c, live + live / 4 + 1024);
	if (!b) {
		/* keep the old blocks: nothing lost */
		free(c->blocks);
		c->blocks = old;
		c->nblocks = nold;
		c->capblocks = capold;
		c->bytes = bytesold;
		return;
	}
	for (uint32_t i = 0; i < c->cap; i++) {
		struct r_ecache *ce = &c->e[i];
		if (!ce->path)
			continue;
		size_t bytes = ((size_t)ce->plen + 8) / 8 * 8;
		char *dst = (char *)b->data + b->used;
		memcpy(dst, ce->path, bytes);
		b->used += bytes;
		ce->path = dst;
	}
	c->stored = c->live = live;
	r_pblocks_unref(old, nold);
	free(old);
}

void r_cache_reset(struct r_cache *c)
{
	r_pblocks_unref(c->blocks, c->nblocks);
	free(c->blocks);
	free(c->e);
	free(c->filled);
	free(c->miss);
	memset(c, 0, sizeof(*c));
}
