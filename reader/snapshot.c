/* SPDX-License-Identifier: MIT */
/*
 * snapshot.c: a consistent copy of a segment's live entries (the seqlock
 * protocol of shm/scales_shm.h), with per-CPU stripes summed and string
 * references resolved, under the SIGBUS guard. The snapshot objects
 * themselves (allocation, lookup, freeing) are in metric.c.
 */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "internal.h"

#define LOAD_ACQ(p) __atomic_load_n((p), __ATOMIC_ACQUIRE)
#define LOAD_RLX(p) __atomic_load_n((p), __ATOMIC_RELAXED)

#define R_ATTEMPTS 5 /* first try + 4 retries */
#ifndef R_PREFETCH
#define R_PREFETCH 8 /* entries ahead */
#endif

static inline void cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
	__builtin_ia32_pause();
#endif
}

/* ------------------------------------------------------------- the copy */

/* A cold snapshot's copy of bytes [from, to) of stripes 0 .. slots - 1
 * and of the shared stripe (copy_regions()), stride bytes apart; p NULL:
 * none. */
struct region_copy {
	const unsigned char *p;
	uint64_t from, to, stride;
	uint32_t slots;
};

struct copy_ctx {
	scales_segment *seg;
	struct scales_snapshot *s;
	struct r_cache *cache; /* &seg->cache */
	struct r_used u;
	const char *strs;  /* private copy of the string area, NUL after */
	uint64_t strs_len; /* bytes copied (strings_used at the copy) */
	uint32_t epoch;    /* this snapshot's stamp */
	bool warm;         /* the previous snapshot's ranks are valid */
	size_t nhit;       /* warm: metrics placed at their previous rank */
	size_t nmiss;      /* warm: metrics in cache->miss */
	size_t ndicts;
	uint64_t *scratch; /* read_stripe()'s words */
	size_t scap;
	/* cold: copies of the bottom and top regions (copy_regions()) */
	struct region_copy low, top;
	/* not mapped (a cold snapshot of a segment read once): every word
	 * comes from pread(); the used data area's copy (data_from, bytes
	 * [data_from, data_to) of the file, at their alignment modulo 64);
	 * a short read sets short_read (the file shrank) */
	bool nomap;
	bool short_read;
	const unsigned char *data;
	uint64_t data_from, data_to;
};

/* The entry words a reader needs, copied with relaxed loads. */
union entry_copy {
	struct scales_shm_entry e;
	uint64_t w[sizeof(struct scales_shm_entry) / 8];
};

/*
 * Reading the file without a mapping (c->nomap). Each copy lands at its
 * file offset's alignment modulo 64, so that the kernel's copy moves every
 * aligned word in one piece (docs/format.md, section 10); a copy's loads
 * are the kernel's, on this thread, in program order, so an acquire fence
 * after the call orders them before every later load, as an acquire load
 * through the mapping would.
 */

/* n <= 8 bytes at file offset off (aligned to n) by pread(); zeroes and
 * c->short_read on a short read. */
static uint64_t pread_word(struct copy_ctx *c, uint64_t off, size_t n)
{
	unsigned char b[128] __attribute__((aligned(64)));
	unsigned char *p = b + off % 64;
	uint64_t v = 0;
	if (pread(c->seg->fd, p, n, (off_t)off) != (ssize_t)n) {
		c->short_read = true;
		return 0;
	}
	memcpy(&v, p, n);
	return v;
}

/* The header words, by pread() when not mapped (r_header_words()). */
static const struct scales_shm_header *hdr(struct copy_ctx *c,
                                           struct scales_shm_header *buf)
{
	const struct scales_shm_header *h = r_header_words(c->seg, buf);
	if (!h)
		c->short_read = true;
	return h;
}

/* Resolves string ref into *out (NULL for ref 0). Returns false if the
 * ref is invalid. Strings are immutable once strings_used covers them; a
 * ref past our copy (interned after it) is read from the file after
 * reloading strings_used. */
static bool resolve(struct copy_ctx *c, uint32_t ref, const char **out)
{
	*out = NULL;
	if (ref == 0)
		return true;
	if (ref < SCALES_SHM_STRINGS_FIRST || ref % 4)
		return false;
	if ((uint64_t)ref + 4 <= c->strs_len) {
		uint32_t len;
		memcpy(&len, c->strs + ref, 4);
		if (len > c->strs_len - ref - 4)
			return false;
		const char *b = c->strs + ref + 4;
		if (b[len] == 0) { /* the writer's NUL, or our final one */
			*out = b;
			return true;
		}
		*out = r_arena_strndup(&c->s->priv->arena, b, len);
		return *out != NULL;
	}
	/* past our copy: reload strings_used */
	struct scales_shm_header hb __attribute__((aligned(64)));
	const struct scales_shm_header *h = hdr(c, &hb);
	const struct r_layout *l = &c->seg->lay;
	if (!h)
		return false;
	uint64_t used = LOAD_ACQ(&h->strings_used);
	if (used > l->strings_capacity ||
	    l->strings_offset + used > c->seg->len || (uint64_t)ref + 4 > used)
		return false;
	uint64_t at = l->strings_offset + ref;
	uint32_t len;
	if (c->nomap) {
		/* immutable below strings_used (loaded with acquire, the
		 * fence in r_header_words()): plain copies serve */
		len = (uint32_t)pread_word(c, at, 4);
		if (c->short_read || len > used - ref - 4)
			return false;
		char *v = r_arena_alloc(&c->s->priv->arena, (size_t)len + 1);
		if (!v ||
		    pread(c->seg->fd, v, len, (off_t)(at + 4)) != (ssize_t)len)
			return false;
		v[len] = 0;
		*out = v;
		return true;
	}
	const unsigned char *base = c->seg->map + at;
	memcpy(&len, base, 4);
	if (len > used - ref - 4)
		return false;
	*out = r_arena_strndup(&c->s->priv->arena, (const char *)base + 4, len);
	return *out != NULL;
}

/* Relaxed loads of mapped words at byte offset off (validated, aligned). */
static inline const uint64_t *map_words(const struct copy_ctx *c, uint64_t off)
{
	return (const uint64_t *)(const void *)(c->seg->map + off);
}

/* A relaxed load of the word at off: through the mapping, else from the
 * data area's copy, else by pread() (a word past the copy). */
static inline uint64_t map_u64(struct copy_ctx *c, uint64_t off)
{
	if (!c->nomap)
		return LOAD_RLX(map_words(c, off));
	if (c->data && off >= c->data_from && off + 8 <= c->data_to) {
		uint64_t v;
		memcpy(&v, c->data + (off - c->data_from), 8);
		return v;
	}
	return pread_word(c, off, 8);
}

static inline uint32_t map_u32(struct copy_ctx *c, uint64_t off)
{
	if (!c->nomap)
		return LOAD_RLX(
		    (const uint32_t *)(const void *)(c->seg->map + off));
	if (c->data && off >= c->data_from && off + 4 <= c->data_to) {
		uint32_t v;
		memcpy(&v, c->data + (off - c->data_from), 4);
		return v;
	}
	return (uint32_t)pread_word(c, off, 4);
}

/* An acquire load of the word at off: not mapped, a pread() of its own
 * (not the data area's copy, taken before) and the fence. */
static inline uint64_t load_acq_u64(struct copy_ctx *c, uint64_t off)
{
	if (!c->nomap)
		return LOAD_ACQ(map_words(c, off));
	uint64_t v = pread_word(c, off, 8);
	__atomic_thread_fence(__ATOMIC_ACQUIRE);
	return v;
}

/* A relaxed 32-bit load, never from the data area's copy: it must come
 * after the acquire loads before it (a timed state's slot refs). */
static inline uint32_t load_u32(struct copy_ctx *c, uint64_t off)
{
	return c->nomap ? (uint32_t)pread_word(c, off, 4) : map_u32(c, off);
}

/* Histogram parameters as docs/format.md allows them. */
/* Raises the used counters of the copy to the header's current ones: an
 * entry published after our first load may use space allocated after it
 * (the space is published, release, before the entry). */
static void reload_used(struct copy_ctx *c)
{
	struct scales_shm_header hb __attribute__((aligned(64)));
	const struct scales_shm_header *h = hdr(c, &hb);
	const struct r_layout *l = &c->seg->lay;
	if (!h)
		return;
	uint64_t d = LOAD_ACQ(&h->data_used), st = LOAD_ACQ(&h->stripe_used);
	if (d <= l->data_capacity && d > c->u.data_used)
		c->u.data_used = d;
	if (l->slots) {
		/* the top region only falls, the slots only grow */
		uint64_t top = LOAD_ACQ(&h->stripe_top);
		uint32_t n = LOAD_ACQ(&h->slots_used);
		if (top >= c->u.stripe_used && top < c->u.stripe_top)
			c->u.stripe_top = top;
		if (n <= l->nstripes - 1 && n > c->u.slots_used)
			c->u.slots_used = n;
	}
	if (st <= c->u.stripe_top && st > c->u.stripe_used)
		c->u.stripe_used = st;
}

/* An entry's words in the top region (docs/format.md, section 8)? */
static bool in_top(const struct copy_ctx *c, uint64_t soff)
{
	return c->seg->lay.slots && soff >= c->u.stripe_top;
}

/* The stripe the i-th of an entry's stripes is: its slots in use, then
 * the shared stripe (the last); n: how many slots. */
static uint32_t entry_slots(const struct copy_ctx *c, uint64_t soff)
{
	uint32_t n = c->u.slots_used;
	if (in_top(c, soff) && n > c->seg->lay.top_slots)
		n = c->seg->lay.top_slots;
	return n;
}

static uint64_t stripe_index(const struct copy_ctx *c, uint32_t i, uint32_t n)
{
	return i < n ? i : c->seg->lay.nstripes - 1;
}

/* Checks the entry's fixed data: size as the kind requires, aligned,
 * inside the used data area. */
static bool data_ok(struct copy_ctx *c, uint64_t off, uint64_t size,
                    uint64_t need)
{
	const struct r_layout *l = &c->seg->lay;
	if (size != need)
		return false;
	if (!need)
		return true;
	if (off % 8 || off < l->data_offset ||
	    off - l->data_offset > l->data_capacity)
		return false;
	uint64_t end = off - l->data_offset + size; /* no overflow: small */
	if (end > c->u.data_used)
		reload_used(c);
	return end <= c->u.data_used;
}

/* Checks the entry's stripe words: size as the kind requires, aligned,
 * inside the used part of a stripe. */
/* Words [soff, end) of a stripe (soff aligned) inside the used part that
 * our copy of the header knows: in the top region, from stripe_top to the
 * stripe's end; below it, under stripe_used. */
static inline bool stripe_used_ok(const struct copy_ctx *c, uint64_t soff,
                                  uint64_t end)
{
	return end <=
	       (in_top(c, soff) ? c->seg->lay.stripe_size : c->u.stripe_used);
}

static bool stripe_ok(struct copy_ctx *c, uint64_t soff, uint64_t size,
                      uint64_t need)
{
	uint64_t end;
	if (size != need)
		return false;
	if (!need)
		return true;
	if (soff % 8 || __builtin_add_overflow(soff, size, &end))
		return false;
	if (!in_top(c, soff) && end > c->u.stripe_used)
		reload_used(c);
	return stripe_used_ok(c, soff, end);
}

enum {
	E_NOT_LIVE,
	E_OK,
	E_DECL,
	E_CHANGED,
	E_INVALID,
	E_NOMEM
};

/* Copied rather than memset: a rep stos cannot forward to the loads that
 * copy the metric out a moment later. */
static const struct scales_metric zero_metric = { .side = &scales_no_side };

/* ---------------------------------------------------- per-kind copies */

/* What a kind's copy works on: the entry's copied fixed words x (sizes
 * already checked against the kind), the metric being filled, and the
 * scratch the entry's attempts share. Set up once per entry, not per
 * attempt. */
struct kind_copy {
	struct copy_ctx *c;
	const struct scales_shm_entry *x;
	struct scales_metric *m;
	uint64_t *hbuf; /* histogram words, reused by a retry */
	uint32_t hcap;
	struct r_hzone *hz;  /* hbuf's zone if it is a slab's array */
	uint32_t hzi;        /* its index in the slab */
	uint32_t entry, gen; /* the entry being copied, its generation */
	struct scales_metric_side *side; /* m's side, reused by a retry */
	const char *child;               /* an aggregate's child name */
};

/* Fills k->m from the mapping. Returns E_OK, E_INVALID or E_NOMEM. */
typedef int copy_kind_fn(struct kind_copy *k);

/* Gives k->m a zeroed side of its own (only the kinds that fill one: a
 * counter's metric points at scales_no_side and no side is touched).
 * NULL: out of memory. */
static struct scales_metric_side *own_side(struct kind_copy *k)
{
	struct scales_metric_side *sd = k->side;
	if (sd)
		memset(sd, 0, sizeof(*sd)); /* a retry's */
	else
		sd = k->side = r_side_new(&k->c->s->priv->arena);
	if (sd)
		k->m->side = sd;
	return sd;
}

/* The n bytes at soff of stripe idx in a cold copy (copy_regions()), or
 * NULL if neither copy holds them. */
static inline const uint64_t *
copied_words(const struct copy_ctx *c, uint64_t soff, uint64_t n, uint64_t idx)
{
	const struct r_layout *l = &c->seg->lay;
	const struct region_copy *r = soff < c->low.to ? &c->low : &c->top;
	/* the shared stripe's copy follows the slots' */
	bool shared = idx == l->nstripes - 1;
	uint64_t k = shared ? r->slots : idx;
	if (!r->p || (!shared && idx >= r->slots) || soff < r->from ||
	    soff > r->to || n > r->to - soff)
		return NULL;
	uint64_t pad = (l->stripe_offset + idx * l->stripe_size + r->from) % 64;
	return (const uint64_t *)(const void *)(r->p + k * r->stride + pad +
	                                        (soff - r->from));
}

/* A counter's words at soff (checked) of the shared stripe, then of
 * slots 0 to n - 1 (stripe_index()), summed through the mapping (not
 * c->nomap) by stepping a pointer: no branch or multiply per stripe, and
 * the wrapping sum does not depend on the order. */
static inline uint64_t counter_sum(const struct copy_ctx *c, uint64_t soff)
{
	const struct r_layout *l = &c->seg->lay;
	uint64_t off = l->stripe_offset + soff;
	uint32_t n = entry_slots(c, soff);
	const unsigned char *p = c->seg->map + off;
	uint64_t sum = LOAD_RLX(
	    map_words(c, off + (uint64_t)(l->nstripes - 1) * l->stripe_size));
	for (uint32_t i = 0; i < n; i++, p += l->stripe_size)
		sum += LOAD_RLX((const uint64_t *)(const void *)p);
	return sum;
}

/* The u64 stripes summed. */
static int copy_counter(struct kind_copy *k)
{
	struct copy_ctx *c = k->c;
	const struct r_layout *l = &c->seg->lay;
	uint64_t soff = k->x->stripe_offset;
	uint64_t off = l->stripe_offset + soff;
	uint32_t n = entry_slots(c, soff);
	/* warm: no copy (copy_regions()) to look in */
	const uint64_t *w =
	    c->warm ? NULL : copied_words(c, soff, 8, l->nstripes - 1);
	if (w && copied_words(c, soff, 8, n ? n - 1 : 0)) {
		/* the cold copy (copy_regions()) */
		uint64_t sum = *w;
		for (uint32_t i = 0; i < n; i++)
			sum += *copied_words(c, soff, 8, i);
		k->m->v.u64 = sum;
		return E_OK;
	}
	if (c->nomap) { /* a word past the copies: each by pread() */
		uint64_t sum = map_u64(c, off + (uint64_t)(l->nstripes - 1) *
		                                    l->stripe_size);
		for (uint32_t i = 0; i < n; i++)
			sum += map_u64(c, off + (uint64_t)i * l->stripe_size);
		k->m->v.u64 = sum;
		return c->short_read ? E_INVALID : E_OK;
	}
	k->m->v.u64 = counter_sum(c, soff);
	return E_OK;
}

/* The data word, and how the processes' values merge. */
static int copy_gauge(struct kind_copy *k)
{
	const struct scales_shm_entry *x = k->x;
	struct scales_metric *m = k->m;
	uint64_t v = map_u64(k->c, x->data_offset);
	/* param[0]: how to merge (format 1.1); a value this reader does not
	 * know merges as a sum */
	m->flags &= (uint16_t)~SCALES_MF_MERGE_MASK;
	if (x->param[0] <= SCALES_SHM_MERGE_LAST)
		m->flags |= (uint16_t)(x->param[0] << SCALES_MF_MERGE_SHIFT);
	if (x->kind == SCALES_SHM_GAUGE_I64)
		m->v.i64 = (int64_t)v;
	else
		memcpy(&m->v.f64, &v, 8);
	return E_OK;
}

static int state_time_cmp(const void *a, const void *b)
{
	const struct scales_state_time *x = a, *y = b;
	return strcmp(x->value, y->value);
}

/* Sorts t[0..n) by value and adds up equal values: returns how many are
 * left. (A forked writer interns a value on its own: two slots, one
 * value.) */
size_t r_state_times_fold(struct scales_state_time *t, size_t n)
{
	if (n > 1)
		qsort(t, n, sizeof(*t), state_time_cmp);
	size_t k = 0;
	for (size_t i = 0; i < n; i++) {
		if (k && strcmp(t[k - 1].value, t[i].value) == 0)
			t[k - 1].ns += t[i].ns;
		else
			t[k++] = t[i];
	}
	return k;
}

/*
 * A timed state's table (format 1.4, docs/format.md 6.3): param[0] value
 * slots and "other" after the 8 data bytes. The current word is loaded
 * first, with acquire (the set's release: the claim of its slot is
 * visible), then each slot's time with acquire before its ref (the set's
 * release add: the claim of a slot that has time is visible). The current
 * value runs until the snapshot's mono_ns.
 */
static int copy_state_times(struct kind_copy *k)
{
	struct copy_ctx *c = k->c;
	struct scales_metric *m = k->m;
	uint32_t n = k->x->param[0];
	uint64_t t = k->x->data_offset + 8;
	uint32_t size = scales_shm_state_table_size(n);
	if (!size || !data_ok(c, t, size, size))
		return E_INVALID;
	uint64_t cur = load_acq_u64(c, t);
	uint32_t at = (uint32_t)(cur >> SCALES_SHM_STATE_NS_BITS);
	uint64_t run =
	    scales_shm_state_interval(cur & SCALES_SHM_STATE_NS_MASK,
	                              c->s->mono_ns & SCALES_SHM_STATE_NS_MASK);
	struct scales_metric_side *sd = own_side(k);
	struct scales_state_time *st =
	    r_arena_alloc(&c->s->priv->arena, (n + 1) * sizeof(*st));
	if (!sd || !st)
		return E_NOMEM;
	size_t nt = 0;
	for (uint32_t i = 0; i <= n; i++) {
		uint64_t so = t + 8 + (uint64_t)i * 16;
		uint64_t ns = load_acq_u64(c, so + 8);
		uint32_t ref = i < n ? load_u32(c, so) : 0;
		const char *v = NULL;
		if (!resolve(c, ref, &v))
			return E_INVALID;
		if (at == i + 1) {
			ns += run;
			if (v)
				m->v.state = v; /* the slot is the truth */
		}
		if (!v && (i < n || (!ns && at != i + 1)))
			continue; /* a free slot; "other" never used */
		st[nt].value = v ? v : "";
		st[nt++].ns = ns;
	}
	sd->times = st;
	sd->ntimes = (uint32_t)r_state_times_fold(st, nt);
	m->flags |= SCALES_MF_TIMED;
	return E_OK;
}

/* The data word is a string ref; a timed state's table follows it. */
static int copy_state(struct kind_copy *k)
{
	uint32_t ref = map_u32(k->c, k->x->data_offset);
	if (!resolve(k->c, ref, &k->m->v.state))
		return E_INVALID;
	return k->x->param[0] ? copy_state_times(k) : E_OK;
}

/*
 * A histogram stripe's sum word and buckets lo..hi (stripe words at file
 * offset so), read with pread() into the context's scratch words rather
 * than loaded through the mapping: a page of a fresh mapping costs a
 * fault, and on a virtual machine more, where the kernel's copy costs
 * nothing of the kind (docs/performance.md, "Many processes"). Returns
 * the words (index 0 the sum, 1 + b bucket b; only those read are
 * meaningful) or NULL: a short read, the file shrank under us.
 *
 * Ordering: the words carry none (docs/format.md, section 10, item 4), so
 * a kernel copy serves as the relaxed loads did; what a copy must not do
 * is split an aligned word between two loads. The copy lands at the file
 * offset's alignment modulo 64, so every chunk the kernel moves starts
 * and ends at the same place in each word: a word is read whole.
 */
static const uint64_t *read_stripe(struct copy_ctx *c, uint64_t so, uint32_t lo,
                                   uint32_t hi)
{
	uint64_t *w = c->scratch; /* hi + 10 words: room to align */
	while (((uintptr_t)w - so) % 64)
		w++;
	/* one read when the buckets below lo are few */
	if (lo < 64) {
		size_t n = 8 * ((size_t)hi + 2);
		return pread(c->seg->fd, w, n, (off_t)so) == (ssize_t)n ? w :
		                                                          NULL;
	}
	size_t n = 8 * ((size_t)hi - lo + 1);
	if (pread(c->seg->fd, w, 8, (off_t)so) != 8 ||
	    pread(c->seg->fd, w + 1 + lo, n, (off_t)(so + 8 + 8 * lo)) !=
	        (ssize_t)n)
		return NULL;
	return w;
}

/*
 * The most records one stripe's sum word takes in a nanosecond. On a
 * slot's stripe a record is a restartable sequence of the one CPU the
 * slot is for, five stores (the sequence's descriptor three times, the
 * bucket, the sum), and no core stores more than twice a cycle or runs
 * at 6.5 GHz: at most 2.6 records a nanosecond. Without the sequence,
 * and on the shared stripe, a record's add to the sum is an atomic
 * read-modify-write, and those to one word are done one at a time, each
 * at least a cycle of its core: at most 6.5. Eight is above both.
 */
#define R_RECORDS_PER_NS 8

/* Zone i's words of slab hs, room made for n stripes (a slab made when
 * fewer slots were in use forgets every zone's words); NULL: out of
 * memory, the histogram is copied as if no copy were kept. */
static uint64_t *hzone_fp(struct r_hslab *hs, uint32_t i, uint32_t n)
{
	if (n > hs->fps) {
		uint64_t *fp = malloc((size_t)hs->cap * n * 2 * sizeof(*fp));
		if (!fp)
			return NULL;
		free(hs->fp);
		hs->fp = fp;
		hs->fps = n;
		for (uint32_t j = 0; j < hs->cap; j++)
			hs->z[j].stripes = 0;
	}
	return hs->fp + (size_t)i * hs->fps * 2;
}

/*
 * True if slab array z still holds what a copy now could read: nothing
 * landed in the histogram since z's copy, proved without reading its
 * buckets (a warm refresh over 1,000 processes, most of whose histograms
 * are idle between two refreshes, otherwise copies 3 stripes of some 530
 * buckets each of 20,000 histograms; issue 17.2).
 *
 * A record (scales_histogram_record()) adds 1 to its bucket, then v to a
 * stripe's sum word, then raises max or lowers min. So if the same entry
 * (generation, offsets, shape) has the same slots in use, the same min
 * and max, and every stripe the same sum word and bucket-0 word as z's
 * copy read, then a record that landed since would have had to add 0 to
 * the sum (v = 0: bucket 0 grew, unless by 2^64 records) or values
 * summing to a multiple of 2^64 on one stripe. The second is ruled out by
 * time: since z's clock t0, read before its copy, a stripe took at most
 * R_RECORDS_PER_NS records a nanosecond, each at most max (min and max
 * are the same, so every landed record is within them), and while that
 * product stays below 2^64 no sum went round. The clock is read after the
 * words compared, so its interval covers theirs.
 *
 * Why the copy is then a snapshot a fresh reader could have taken: z's
 * copy read each stripe's sum and bucket-0 words before its buckets, so it
 * holds every record whose sum it saw; none landed since; the only records
 * it lacks are those still in flight now (a bucket added, the sum not
 * yet), which a fresh copy may miss as well (docs/format.md, section
 * 10). Min and max are the ones read now. A record in flight whose value
 * exceeds max (its max not raised yet) is not bounded by the product:
 * in-flight values summing, with the landed ones, to a multiple of 2^64
 * (some 2^63 each) would hide the landed ones until its max lands, when
 * the next snapshot copies. Only relaxed loads: the words order nothing.
 */
static bool histo_same(const struct kind_copy *k, const struct r_hzone *z,
                       const uint64_t *fp, uint64_t off, uint32_t ns,
                       uint64_t mn, uint64_t mx)
{
	const struct copy_ctx *c = k->c;
	const struct scales_shm_entry *x = k->x;
	if (z->stripes != ns + 1 || z->entry != k->entry || z->gen != k->gen ||
	    z->soff != x->stripe_offset || z->doff != x->data_offset ||
	    z->sb != x->param[0] || z->us != x->param[1] ||
	    z->nb != x->param[2] || z->min != mn || z->max != mx)
		return false;
	const struct r_layout *l = &c->seg->lay;
	for (uint32_t i = 0; i <= ns; i++) {
		const uint64_t *sw =
		    map_words(c, off + stripe_index(c, i, ns) * l->stripe_size);
		if (LOAD_RLX(&sw[0]) != fp[2 * i] ||
		    LOAD_RLX(&sw[1]) != fp[2 * i + 1])
			return false;
	}
	uint64_t now = r_now_mono();
	uint64_t t = (now > z->t0 ? now - z->t0 : 0) + 1;
	return t < (UINT64_C(1) << 59) &&
	       mx <= UINT64_MAX / (R_RECORDS_PER_NS * t);
}

/* Tries of copy_histogram() with the range of min and max; the last one
 * reads every bucket, which no move of min or max can leave short. */
#define R_RANGE_TRIES 3

/* The word at off now: through the mapping, else by pread() (not from
 * the data area's copy, which is older than the stripes read since). */
static uint64_t fresh_u64(struct copy_ctx *c, uint64_t off)
{
	return c->nomap ? pread_word(c, off, 8) : LOAD_RLX(map_words(c, off));
}

void (*r_test_histo_hook)(const scales_segment *seg);

/*
 * Histogram k's buckets [lo, hi] and sums, added up over its ns + 1
 * stripes at off, into hbuf (word 0 the sum, *carries its carries); the
 * other buckets of hbuf zeroed (a slab's array: only its old zone's).
 * *late tells whether a stripe was read now rather than from the cold
 * copy of its region (taken before min and max).
 */
static int copy_histo_range(struct kind_copy *k, uint64_t *hbuf, uint64_t off,
                            uint32_t ns, uint32_t lo, uint32_t hi, uint64_t *fp,
                            uint32_t *carries_out, bool *late)
{
	const struct r_layout *l = &k->c->seg->lay;
	const struct scales_shm_entry *x = k->x;
	uint32_t nb = x->param[2];
	struct r_hzone *z = k->hz;
	/* a slab's array: its zone widened to cover [lo, hi] before the
	 * buckets are written, narrowed after the old ones are zeroed, so
	 * that a SIGBUS in between (the snapshot freed, the slab kept)
	 * leaves a zone holding every bucket that is not zero. The signal
	 * fence keeps the compiler from moving the zone's stores past the
	 * bucket loads that may fault */
	uint32_t olo = 0, oend = 0;
	if (z) {
		z->stripes = 0; /* the words are about to change */
		olo = z->lo;
		oend = z->end;
		z->lo = olo < oend && olo < lo ? olo : lo;
		z->end = olo < oend && oend > hi + 1 ? oend : hi + 1;
		__atomic_signal_fence(__ATOMIC_SEQ_CST);
	}
	/* word 0, the sum, is added without wrapping: each stripe holds up
	 * to 2^64 - 1, their sum more (docs/format.md, section 8); a carry
	 * per stripe at most, so 32 bits of carries. The first stripe is
	 * copied rather than added to zeroes: no memset() of the buckets in
	 * range */
	uint64_t *bk = hbuf + 1;
	uint32_t carries = 0;
	*late = k->c->warm;
	for (uint32_t i = 0; i <= ns; i++) {
		uint64_t so = off + stripe_index(k->c, i, ns) * l->stripe_size;
		/* cold: copied (read_stripe()); warm: through the mapping,
		 * whose pages an earlier snapshot faulted in */
		const uint64_t *sw =
		    copied_words(k->c, x->stripe_offset, 8 * ((uint64_t)nb + 1),
		                 stripe_index(k->c, i, ns));
		if (!sw && !k->c->warm)
			*late = true;
		if (!sw)
			sw = k->c->warm ? map_words(k->c, so) :
			                  read_stripe(k->c, so, lo, hi);
		if (!sw)
			return E_INVALID;
		const uint64_t *sb1 = sw + 1;
		uint64_t sum = LOAD_RLX(&sw[0]);
		if (fp) {
			/* read before the buckets (histo_same()) */
			fp[2 * i] = sum;
			fp[2 * i + 1] = LOAD_RLX(&sb1[0]);
		}
		/* cold, the words are our copy: plain loads, which the
		 * compiler may combine (r_words_add()) */
		bool own = !k->c->warm;
		if (i == 0) {
			hbuf[0] = sum;
			if (own)
				memcpy(bk + lo, sb1 + lo,
				       8 * ((size_t)hi - lo + 1));
			else
				for (uint32_t b = lo; b <= hi; b++)
					bk[b] = LOAD_RLX(&sb1[b]);
			continue;
		}
		carries += __builtin_add_overflow(hbuf[0], sum, &hbuf[0]);
		if (own)
			r_words_add(bk, sb1, lo, hi + 1);
		else
			for (uint32_t b = lo; b <= hi; b++)
				bk[b] += LOAD_RLX(&sb1[b]);
	}
	/* the buckets outside the range are zero (not read): a slab's
	 * array has only its old zone's to clear, none when the range
	 * only grew (the same histogram as last time) */
	if (z) {
		if (olo < oend && olo < lo)
			memset(bk + olo, 0,
			       (size_t)((oend < lo ? oend : lo) - olo) * 8);
		if (olo < oend && oend > hi + 1) {
			uint32_t from = olo > hi + 1 ? olo : hi + 1;
			memset(bk + from, 0, (size_t)(oend - from) * 8);
		}
		__atomic_signal_fence(__ATOMIC_SEQ_CST);
		z->lo = lo;
		z->end = hi + 1;
	} else {
		if (lo)
			memset(bk, 0, (size_t)lo * 8);
		if (hi + 1 < nb)
			memset(bk + hi + 1, 0, (size_t)(nb - 1 - hi) * 8);
	}
	*carries_out = carries;
	return E_OK;
}

/* The stripes' sum word and buckets added up, min and max from data. */
static int copy_histogram(struct kind_copy *k)
{
	const struct r_layout *l = &k->c->seg->lay;
	const struct scales_shm_entry *x = k->x;
	uint32_t sb = x->param[0], us = x->param[1], nb = x->param[2];
	if (!scales_shm_histo_shape_ok(sb, us, nb) || !isfinite(x->scale) ||
	    !(x->scale > 0))
		return E_INVALID;
	struct scales_metric_side *sd = own_side(k);
	if (!sd)
		return E_NOMEM;
	struct scales_histo *h = &sd->hist;
	struct scales_snapshot_priv *pv = k->c->s->priv;
	uint64_t *hbuf = k->hbuf;
	if (nb + 1 > k->hcap) {
		/* the next array of the slab (taken in entry order, so
		 * mostly the one this histogram had), else the arena's */
		struct r_hslab *hs = pv->hslab;
		k->hz = NULL;
		if (hs && hs->used < hs->cap && nb + 1 <= hs->stride) {
			k->hzi = hs->used;
			k->hz = &hs->z[hs->used];
			hbuf = hs->words + (size_t)hs->used++ * hs->stride;
			k->hcap = hs->stride;
		} else {
			size_t bytes = 8 * ((size_t)nb + 1);
			hbuf = r_arena_alloc(&pv->arena, bytes);
			if (!hbuf)
				return E_NOMEM;
			k->hcap = nb + 1;
		}
		k->hbuf = hbuf;
		pv->nhist++;
		if (nb > pv->maxnb)
			pv->maxnb = nb;
	}
	if (!k->c->warm && (size_t)nb + 10 > k->c->scap) {
		uint64_t *v =
		    r_arena_alloc(&k->c->s->priv->arena, 8 * ((size_t)nb + 10));
		if (!v)
			return E_NOMEM;
		k->c->scratch = v;
		k->c->scap = (size_t)nb + 10;
	}
	/* min and max give the range of buckets read: a record adds its
	 * bucket before it lowers min or raises max (docs/format.md, section
	 * 6), so with min <= max every bucket outside [index(min),
	 * index(max)] is zero but for records still in flight, which a copy
	 * may miss anyway. Both only move outwards: a later copy reads a
	 * superset. Relaxed, as every word here (only the range read depends
	 * on them). min > max (nothing landed yet, or a first record in
	 * flight): every bucket */
	uint64_t mn = map_u64(k->c, x->data_offset);
	uint64_t mx = map_u64(k->c, x->data_offset + 8);
	if (r_test_histo_hook)
		r_test_histo_hook(k->c->seg);
	uint64_t off = l->stripe_offset + x->stripe_offset;
	/* the slots in use and the shared stripe: at least one stripe */
	uint32_t ns = entry_slots(k->c, x->stripe_offset);
	/* a slab's array keeps the sum and bucket-0 words its copy read */
	struct r_hzone *z = k->hz;
	uint64_t *fp =
	    z && k->c->warm ? hzone_fp(pv->hslab, k->hzi, ns + 1) : NULL;
	if (fp && histo_same(k, z, fp, off, ns, mn, mx)) {
		h->min = mn;
		h->max = mx;
		h->sum = hbuf[0];
		h->sum_hi = z->carries;
		h->scale = x->scale;
		h->sub_bits = sb;
		h->unit_shift = us;
		h->nbuckets = nb;
		h->buckets = hbuf + 1;
		h->count = z->count;
		if (h->count && h->min > h->max)
			r_histo_fix_minmax(h);
		return E_OK;
	}
	uint32_t lo, hi, carries;
	uint64_t *bk = hbuf + 1;
	for (unsigned attempt = 0;; attempt++) {
		lo = 0;
		hi = nb - 1;
		if (mn <= mx && attempt < R_RANGE_TRIES) {
			lo = scales_shm_bucket(mn, sb, us, nb - 1);
			hi = scales_shm_bucket(mx, sb, us, nb - 1);
		}
		bool late = false; /* a stripe read after min and max */
		int rc = copy_histo_range(k, hbuf, off, ns, lo, hi, fp,
		                          &carries, &late);
		if (rc != E_OK)
			return rc;
		/* Read after min and max (through the mapping, or by a
		 * pread() of its own), a stripe may hold the sum of a record
		 * that landed in between with a new extreme, its bucket
		 * outside [lo, hi]: the count would miss what the sum holds.
		 * That record's min or max has landed too, unless still in
		 * flight: read them again and, if they moved, the range
		 * again. A cold copy of the region, taken before the data
		 * area, needs none of it */
		if (!late || (lo == 0 && hi == nb - 1))
			break;
		uint64_t mn2 = fresh_u64(k->c, x->data_offset);
		uint64_t mx2 = fresh_u64(k->c, x->data_offset + 8);
		if (mn2 == mn && mx2 == mx)
			break;
		mn = mn2;
		mx = mx2;
	}
	h->min = mn;
	h->max = mx;
	h->sum = hbuf[0];
	h->sum_hi = carries;
	h->scale = x->scale;
	h->sub_bits = sb;
	h->unit_shift = us;
	h->nbuckets = nb;
	h->buckets = bk;
	uint64_t n = 0;
	for (uint32_t b = lo; b <= hi; b++)
		n += bk[b];
	h->count = n;
	if (fp) {
		/* what the array now holds, for a later snapshot */
		z->entry = k->entry;
		z->gen = k->gen;
		z->soff = x->stripe_offset;
		z->doff = x->data_offset;
		z->sb = sb;
		z->us = us;
		z->nb = nb;
		z->min = mn;
		z->max = mx;
		z->count = n;
		z->carries = carries;
		z->t0 = k->c->s->mono_ns;
		z->stripes = ns + 1;
	}
	/* a record between our loads of min and max */
	if (n && h->min > h->max)
		r_histo_fix_minmax(h);
	return E_OK;
}

/* A declaration: its child's name, one relative path component. */
static int copy_aggregate(struct kind_copy *k)
{
	const char **child = &k->child;
	return resolve(k->c, k->x->param[0], child) && *child && **child &&
	               **child != '/' ?
	           E_OK :
	           E_INVALID;
}

/* A dict's entry only marks it: its keys are entries of their own.
 * param[0]: its keys' label (1.2); a bad one is ignored, as a bad label
 * list is. */
static int copy_dict(struct kind_copy *k)
{
	const char *name;
	if (resolve(k->c, k->x->param[0], &name) && name &&
	    scales_shm_label_name_ok(name, strlen(name))) {
		struct scales_metric_side *sd = own_side(k);
		if (!sd)
			return E_NOMEM;
		sd->key_label = name;
	}
	return E_OK;
}

/* Indexed by the entry's kind; NULL: not a kind this reader knows. */
static copy_kind_fn *const copy_kind[SCALES_SHM_KIND_MAX + 1] = {
	[SCALES_SHM_COUNTER] = copy_counter,
	[SCALES_SHM_GAUGE_I64] = copy_gauge,
	[SCALES_SHM_GAUGE_F64] = copy_gauge,
	[SCALES_SHM_STATE] = copy_state,
	[SCALES_SHM_HISTOGRAM] = copy_histogram,
	[SCALES_SHM_AGG_SUM] = copy_aggregate,
	[SCALES_SHM_AGG_STATES] = copy_aggregate,
	[SCALES_SHM_DICT] = copy_dict,
};

/* ------------------------------------------------------------- entries */

/*
 * Copies the path words of entry words ew into ec (the fixed words are
 * there already) and checks them: with scales_shm_path_ok() unless the
 * words, the length and the generation equal those that an earlier
 * snapshot validated (ce; *hit is then true): the bytes compared are the
 * bytes used, so a writer rewriting a path in place, even without a new
 * generation, gets it validated again.
 */
static bool copy_path(const struct r_ecache *ce, const uint64_t *ew,
                      union entry_copy *ec, uint32_t gen, bool *hit)
{
	const size_t fixed = offsetof(struct scales_shm_entry, path) / 8;
	uint32_t plen = ec->e.path_len;
	size_t pw = ((size_t)plen + 8) / 8; /* words up to the NUL */
	const uint64_t *cw = ce->path && ce->gen == gen && ce->plen == plen ?
	                         (const uint64_t *)(const void *)ce->path :
	                         NULL;
	if (cw) {
		uint64_t diff = 0;
		for (size_t w = 0; w < pw; w++) {
			uint64_t v = LOAD_RLX(&ew[fixed + w]);
			ec->w[fixed + w] = v;
			diff |= v ^ cw[w];
		}
		*hit = diff == 0;
	} else {
		for (size_t w = 0; w < pw; w++)
			ec->w[fixed + w] = LOAD_RLX(&ew[fixed + w]);
	}
	/* a hit: these very bytes passed both checks */
	return *hit ||
	       (ec->e.path[plen] == 0 && scales_shm_path_ok(ec->e.path, plen));
}

/* Records the aggregate declared by m (copied, consistent): aggregate.c
 * computes its value once every entry is copied. Returns E_DECL or
 * E_NOMEM. */
static int add_decl(struct scales_snapshot_priv *priv,
                    const struct scales_metric *m, const char *child)
{
	if (priv->ndecls % 64 == 0) {
		void *d = realloc(priv->decls,
		                  (priv->ndecls + 64) * sizeof(*priv->decls));
		if (!d)
			return E_NOMEM;
		priv->decls = d;
		r_guard_publish();
	}
	struct r_decl *d = &priv->decls[priv->ndecls++];
	d->path = m->path;
	d->child = child;
	d->help = m->help;
	d->labels = m->labels;
	d->agg = m->kind;
	d->unit = m->unit;
	d->entry = m->entry;
	d->generation = m->generation;
	return E_DECL;
}

/* Labels ref lref (1.2) of an entry with path p (plen bytes, valid)
 * resolved, or NULL: a list that fails the rules is ignored, the metric
 * kept (docs/format.md section 5, "Labels"). */
static const char *entry_labels(struct copy_ctx *c, uint32_t lref,
                                const char *p, uint32_t plen)
{
	const char *labels = NULL;
	if (!resolve(c, lref, &labels) || !labels ||
	    !scales_shm_labels_ok(labels, strlen(labels),
	                          scales_shm_components(p, plen)))
		return NULL;
	return labels;
}

/*
 * One attempt's copy of entry i, whose words are at ew (the mapping, or a
 * pread() copy) and whose generation was gen when the attempt began, into
 * k->m: the fixed words and the path (copy_path(), *hit), checked, then the
 * kind's values. Returns E_OK, E_INVALID or E_NOMEM; the caller decides
 * with the generation and state after it whether the copy stands.
 */
static int copy_fields(struct kind_copy *k, uint32_t i, const uint64_t *ew,
                       uint32_t gen, union entry_copy *ec, bool *hit)
{
	struct copy_ctx *c = k->c;
	struct scales_metric *m = k->m;
	const size_t fixed = offsetof(struct scales_shm_entry, path) / 8;
	/* 14 loads, not a loop of them */
#pragma GCC unroll 16
	for (size_t w = 0; w < fixed; w++)
		ec->w[w] = LOAD_RLX(&ew[w]);
	const struct scales_shm_entry *x = &ec->e;
	uint32_t plen = x->path_len;
	/* a unit this reader does not know (a newer minor version) is shown
	 * as unknown, not dropped (docs/format.md, section 13) */
	bool valid = plen >= 2 && plen < SCALES_SHM_PATH_MAX && x->kind >= 1 &&
	             x->kind <= SCALES_SHM_KIND_MAX;
	*hit = false;
	*m = zero_metric;
	const char *help = NULL, *labels = NULL;
	k->child = NULL;
	valid = valid && copy_path(&c->cache->e[i], ew, ec, gen, hit) &&
	        resolve(c, x->help, &help);
	if (valid && x->labels)
		labels = entry_labels(c, x->labels, ec->e.path, plen);
	/* the sizes the kind requires (shm/kinds.c), then the kind's own
	 * copy */
	uint32_t dneed = 0, sneed = 0;
	copy_kind_fn *copy =
	    x->kind < sizeof(copy_kind) / sizeof(copy_kind[0]) ?
	        copy_kind[x->kind] :
	        NULL;
	valid = valid && copy &&
	        scales_shm_kind_sizes(x->kind, x->param[2], &dneed, &sneed) &&
	        stripe_ok(c, x->stripe_offset, x->stripe_size, sneed) &&
	        data_ok(c, x->data_offset, x->data_size, dneed);
	if (!valid)
		return E_INVALID;
	m->kind = x->kind;
	m->unit = x->unit;
	m->help = help;
	m->labels = labels;
	return copy(k);
}

/*
 * A consistent, valid copy of entry i (generation gen) in m: keeps its
 * path (the words copied at pw, or the cache's on a hit), and records a
 * declaration. Returns E_OK, E_DECL or E_NOMEM.
 */
static int copy_keep(struct copy_ctx *c, uint32_t i, struct scales_metric *m,
                     const char *child, const uint64_t *pw, uint32_t plen,
                     uint32_t gen, bool hit)
{
	struct r_ecache *ce = &c->cache->e[i];
	if (hit) {
		m->path = ce->path;
	} else {
		/* the words up to the NUL */
		m->path = r_cache_store(c->cache, ce, pw,
		                        ((size_t)plen + 8) / 8, gen, plen);
		if (!m->path)
			return E_NOMEM;
	}
	m->entry = i;
	m->generation = gen;
	if (m->kind == SCALES_SHM_AGG_SUM || m->kind == SCALES_SHM_AGG_STATES)
		return add_decl(c->s->priv, m, child);
	if (m->kind == SCALES_SHM_DICT)
		c->ndicts++;
	return E_OK;
}

/*
 * A warm snapshot's counter whose path an earlier snapshot validated
 * (copy_path()'s cache: the same generation, path_len and path words): the
 * checks copy_fields() makes of a counter's other words, made here
 * directly, in a fraction of its instructions (docs/performance.md, "Many
 * processes and a million metrics"). Nothing is taken on trust but the
 * path; every other word is loaded and checked at every copy. Returns
 * true with m filled (the caller confirms the generation), or false:
 * copy_fields() decides, and it decides the same (an offset past the used
 * sizes our copy of the header knows, which reload_used() may still admit;
 * a string ref that fails; anything but a counter).
 */
_Static_assert(sizeof(struct scales_metric) == 56,
               "counter_fast() sets every field of a metric");

static inline bool counter_fast(struct copy_ctx *c, uint32_t i,
                                const struct scales_shm_entry *e, uint32_t gen,
                                struct scales_metric *m)
{
	const struct r_ecache *ce = &c->cache->e[i];
	if (!c->warm || !ce->path || ce->gen != gen)
		return false;
	uint16_t kind = LOAD_RLX(&e->kind);
	uint32_t plen = LOAD_RLX(&e->path_len);
	if (kind != SCALES_SHM_COUNTER || plen != ce->plen ||
	    LOAD_RLX(&e->data_size) != 0 || LOAD_RLX(&e->stripe_size) != 8)
		return false;
	/* the path words up to the NUL, as copy_path() compares them */
	const uint64_t *ew = (const uint64_t *)(const void *)e->path;
	const uint64_t *cw = (const uint64_t *)(const void *)ce->path;
	uint64_t diff = 0;
	for (size_t w = 0, pw = ((size_t)plen + 8) / 8; w < pw; w++)
		diff |= LOAD_RLX(&ew[w]) ^ cw[w];
	/* stripe_ok() of 8 bytes, without its reload */
	uint64_t soff = LOAD_RLX(&e->stripe_offset);
	if (diff || soff % 8 || soff > UINT64_MAX - 8 ||
	    !stripe_used_ok(c, soff, soff + 8))
		return false;
	uint32_t href = LOAD_RLX(&e->help), lref = LOAD_RLX(&e->labels);
	const char *help = NULL;
	if (href && !resolve(c, href, &help))
		return false;
	uint16_t unit = LOAD_RLX(&e->unit);
	const char *labels =
	    lref ? entry_labels(c, lref, ce->path, plen) : NULL;
	uint64_t v = counter_sum(c, soff);
	/* every field once, one store each: no copy of zero_metric to
	 * overwrite, and no rep stos (a compound literal's zeroing) */
	m->path = ce->path;
	m->help = help;
	m->kind = kind;
	m->unit = unit;
	m->agg = 0;
	m->flags = 0;
	m->entry = i;
	m->generation = gen;
	m->v.u64 = v;
	m->labels = labels;
	m->side = &scales_no_side;
	return true;
}

/*
 * Copies entry i into *m (or a declaration), with the seqlock protocol of
 * shm/scales_shm.h: a copy is kept only if the entry's generation and
 * state are the same after it. A counter whose cached path serves takes
 * counter_fast(); otherwise the path is checked by copy_path(), *hit
 * saying whether an earlier snapshot's copy (m->path) serves. Everything
 * but the path is checked at every copy.
 */
static int copy_entry(struct copy_ctx *c, uint32_t i, struct scales_metric *m,
                      bool *hitp)
{
	const struct r_layout *l = &c->seg->lay;
	const struct scales_shm_entry *e =
	    (const void *)(c->seg->map + l->dir_offset +
	                   (uint64_t)i * l->entry_size);
	const uint64_t *ew = (const uint64_t *)(const void *)e;
	union entry_copy ec;
	/* set up by the first attempt that needs it (not a counter's short
	 * path), then kept: a retry reuses its histogram words and side */
	struct kind_copy k;
	bool kset = false;

	for (int attempt = 0; attempt < R_ATTEMPTS; attempt++) {
		uint32_t st = LOAD_ACQ(&e->state);
		if (st != SCALES_SHM_LIVE)
			return E_NOT_LIVE;
		uint32_t gen = LOAD_ACQ(&e->generation);
		if (gen & 1) {
			cpu_relax();
			continue;
		}
		int r = E_OK;
		bool fast = counter_fast(c, i, e, gen, m);
		*hitp = fast;
		if (!fast) {
			if (!kset)
				k = (struct kind_copy){ .c = c,
					                .x = &ec.e,
					                .m = m };
			kset = true;
			k.entry = i;
			k.gen = gen;
			r = copy_fields(&k, i, ew, gen, &ec, hitp);
		}
		if (r == E_NOMEM)
			return E_NOMEM;
		__atomic_thread_fence(__ATOMIC_ACQUIRE);
		uint32_t gen2 = LOAD_RLX(&e->generation);
		uint32_t st2 = LOAD_RLX(&e->state);
		if (gen2 != gen || st2 != st)
			continue; /* torn: retry */
		if (fast)
			return E_OK; /* a counter, complete */
		if (r != E_OK)
			return E_INVALID;
		/* a consistent, valid copy: its path is ours to keep */
		const size_t fixed =
		    offsetof(struct scales_shm_entry, path) / 8;
		return copy_keep(c, i, m, k.child, &ec.w[fixed], ec.e.path_len,
		                 gen, *hitp);
	}
	return E_CHANGED;
}

/*
 * Puts metric m of entry i into the snapshot. Cold (no valid ranks): at the
 * end, rank tentatively its position. Warm: a metric whose path is the one
 * it had in the previous snapshot takes its rank there (slots taken are
 * marked in cache->filled); the others go to cache->miss.
 */
static inline int place(struct copy_ctx *c, uint32_t i,
                        const struct scales_metric *m, bool hit)
{
	struct scales_snapshot *s = c->s;
	struct r_cache *k = c->cache;
	struct r_ecache *ce = &k->e[i];
	if (!c->warm) {
		ce->rank = (uint32_t)s->n;
		ce->epoch = c->epoch;
		s->metrics[s->n++] = *m;
		return 0;
	}
	uint32_t r = ce->rank;
	if (hit && ce->epoch == k->epoch && r < k->prev_n &&
	    !(k->filled[r / 64] & (UINT64_C(1) << (r % 64)))) {
		k->filled[r / 64] |= UINT64_C(1) << (r % 64);
		s->metrics[r] = *m;
		ce->epoch = c->epoch;
		c->nhit++;
		return 0;
	}
	ce->epoch = 0; /* ranked when sorted */
	return r_cache_miss(k, &c->nmiss, m);
}

/* The most a cold snapshot copies of a region with pread(): past it
 * (some 100,000 counters, 100 histograms) each metric is read alone. */
#define R_COPY_MAX (1024 * 1024)

/* A thread's buffers for the cold copies, kept from one snapshot to the
 * next: a pass over a thousand segments would otherwise allocate and
 * fault in fresh ones (half a megabyte each) per segment. Buffer 0 holds
 * the stripes' regions (copy_regions()), buffer 1 the directory and data
 * area (copy_dir_cold()). Freed at the thread's exit. */
struct copy_bufs {
	void *b[2];
	size_t cap[2];
};
static pthread_key_t copy_buf_key;
static pthread_once_t copy_buf_once = PTHREAD_ONCE_INIT;
static bool copy_buf_ok;

static void copy_bufs_free(void *p)
{
	struct copy_bufs *x = p;
	free(x->b[0]);
	free(x->b[1]);
	free(x);
}

static void copy_buf_init(void)
{
	copy_buf_ok = pthread_key_create(&copy_buf_key, copy_bufs_free) == 0;
}

/* The calling thread's buffer `which` of at least n bytes, 64-byte
 * aligned, or NULL (out of memory: no copy then). */
static unsigned char *copy_buf_get(unsigned which, size_t n)
{
	pthread_once(&copy_buf_once, copy_buf_init);
	if (!copy_buf_ok)
		return NULL;
	struct copy_bufs *x = pthread_getspecific(copy_buf_key);
	if (!x) {
		x = calloc(1, sizeof(*x));
		if (!x || pthread_setspecific(copy_buf_key, x)) {
			free(x);
			return NULL;
		}
	}
	if (x->cap[which] < n) {
		free(x->b[which]);
		x->b[which] = malloc(n + 64);
		x->cap[which] = x->b[which] ? n : 0;
		if (!x->b[which])
			return NULL;
	}
	unsigned char *p = x->b[which];
	return p + (64 - (uintptr_t)p % 64) % 64;
}

/* Copies bytes [from, to) of stripes 0 .. slots - 1 and of the shared
 * stripe to b (stride bytes apart, room checked by the caller) into r,
 * each at its file offset's alignment modulo 64. A short read leaves r
 * empty. */
static void copy_region(struct copy_ctx *c, struct region_copy *r,
                        unsigned char *b, uint64_t stride, uint64_t from,
                        uint64_t to, uint32_t slots)
{
	const struct r_layout *l = &c->seg->lay;
	uint64_t len = to - from;
	for (uint32_t k = 0; k <= slots; k++) {
		uint64_t idx = k < slots ? k : l->nstripes - 1;
		uint64_t off = l->stripe_offset + idx * l->stripe_size + from;
		if (pread(c->seg->fd, b + (uint64_t)k * stride + off % 64,
		          (size_t)len, (off_t)off) != (ssize_t)len)
			return;
	}
	*r = (struct region_copy){ b, from, to, stride, slots };
}

/* Bytes a copy of len bytes of n stripes takes (0: none, too large). */
static uint64_t region_bytes(uint64_t len, uint32_t n, uint64_t *stride)
{
	*stride = (len + 63) / 64 * 64 + 64;
	uint64_t t = *stride * ((uint64_t)n + 1);
	return len && t <= R_COPY_MAX ? t : 0;
}

/*
 * A cold snapshot (the segment's first: its pages are not in our page
 * tables yet) copies the stripes' words with one pread() per stripe and
 * region rather than faulting in the pages (read_stripe() says why, and
 * why a copy may stand for the relaxed loads): the bottom region
 * (counters) of every slot in use, the top region (histograms) of the
 * slots it is present in, and both of the shared stripe. A word past a
 * copy (registered since, or a region too large) is read alone.
 */
static void copy_regions(struct copy_ctx *c)
{
	const struct r_layout *l = &c->seg->lay;
	if (c->warm)
		return;
	uint32_t slots = c->u.slots_used;
	uint32_t top = !l->slots            ? 0 :
	               slots < l->top_slots ? slots :
	                                      l->top_slots;
	uint64_t ls = 0, ts = 0;
	uint64_t lb = region_bytes(c->u.stripe_used, slots, &ls);
	uint64_t tb = l->slots ? region_bytes(l->stripe_size - c->u.stripe_top,
	                                      top, &ts) :
	                         0;
	unsigned char *b = lb + tb ? copy_buf_get(0, lb + tb) : NULL;
	if (!b)
		return;
	if (lb)
		copy_region(c, &c->low, b, ls, 0, c->u.stripe_used, slots);
	if (tb)
		copy_region(c, &c->top, b + lb, ts, c->u.stripe_top,
		            l->stripe_size, top);
}

/* Counts entry i's outcome r in the snapshot; 0, or -ENOMEM. */
static int account(struct copy_ctx *c, int r)
{
	switch (r) {
	case E_CHANGED:
		c->s->skipped++;
		return 0;
	case E_INVALID:
		c->s->invalid++;
		return 0;
	case E_NOMEM:
		return -ENOMEM;
	default:
		return 0;
	}
}

/* Bytes a pread() copy of len bytes takes, placed at its file offset's
 * alignment modulo 64. */
static size_t copy_span(uint64_t len)
{
	return (size_t)((len + 63) / 64 * 64 + 64);
}

/* len bytes at file offset off into b, at off's alignment modulo 64;
 * false (and c->short_read) on a short read. */
static bool pread_at(struct copy_ctx *c, unsigned char *b, uint64_t off,
                     uint64_t len)
{
	if (pread(c->seg->fd, b + off % 64, (size_t)len, (off_t)off) ==
	    (ssize_t)len)
		return true;
	c->short_read = true;
	return false;
}

void (*r_test_cold_hook)(const scales_segment *seg, int stage);

/*
 * Entry i again on its own, with the three readings of copy_dir_cold()
 * (bufs: room for three copies of an entry), up to R_ATTEMPTS - 1 times:
 * its first reading in the pass found it torn or being rewritten.
 */
static int copy_entry_cold(struct copy_ctx *c, uint32_t i,
                           struct scales_metric *m, bool *hitp,
                           unsigned char *bufs)
{
	const struct r_layout *l = &c->seg->lay;
	uint64_t off = l->dir_offset + (uint64_t)i * l->entry_size;
	size_t sp = copy_span(l->entry_size);
	const size_t fixed = offsetof(struct scales_shm_entry, path) / 8;
	const struct scales_shm_entry *xa = (const void *)(bufs + off % 64);
	const struct scales_shm_entry *xc =
	    (const void *)(bufs + 2 * sp + off % 64);
	const uint64_t *wb = (const void *)(bufs + sp + off % 64);
	union entry_copy ec;
	struct kind_copy k = { .c = c, .x = &ec.e, .m = m };
	for (int attempt = 1; attempt < R_ATTEMPTS; attempt++) {
		if (!pread_at(c, bufs, off, l->entry_size))
			return E_INVALID;
		__atomic_thread_fence(__ATOMIC_ACQUIRE);
		uint32_t st = xa->state, gen = xa->generation;
		if (st != SCALES_SHM_LIVE)
			return E_NOT_LIVE;
		if (gen & 1) {
			cpu_relax();
			continue;
		}
		if (!pread_at(c, bufs + sp, off, l->entry_size))
			return E_INVALID;
		__atomic_thread_fence(__ATOMIC_ACQUIRE);
		int r = copy_fields(&k, i, wb, gen, &ec, hitp);
		if (r == E_NOMEM)
			return E_NOMEM;
		__atomic_thread_fence(__ATOMIC_ACQUIRE);
		if (!pread_at(c, bufs + 2 * sp, off, l->entry_size))
			return E_INVALID;
		if (xc->generation != gen || xc->state != st)
			continue; /* torn: retry */
		if (r != E_OK)
			return E_INVALID;
		return copy_keep(c, i, m, k.child, wb + fixed, ec.e.path_len,
		                 gen, *hitp);
	}
	return E_CHANGED;
}

/*
 * A cold snapshot's entries, read with pread() only (nothing mapped: a
 * segment read once costs no mmap(), page faults or munmap(), which on a
 * virtual machine cost far more than the copies; docs/performance.md,
 * "Many processes"). The seqlock of docs/format.md section 10, with the
 * directory read three times: copy A gives every entry's state and
 * generation (the reader's steps 1 and 2), copy B its fields and path
 * (step 3, with the values, read after B), copy C its generation and
 * state again (step 4). A copy's words come in no order, so one copy
 * cannot be both the opening reading and the fields; three copies in
 * program order, an acquire fence after each, are the mapped path's
 * loads: B and the values lie between A and C. An entry found torn or
 * being rewritten is read again alone (copy_entry_cold()).
 */
static int copy_dir_cold(struct copy_ctx *c, char *err, size_t errlen)
{
	struct scales_snapshot *s = c->s;
	const struct r_layout *l = &c->seg->lay;
	uint32_t n = c->u.dir_used;
	/* below dir_capacity x entry_size, checked at open: no overflow */
	uint64_t dlen = (uint64_t)n * l->entry_size;
	uint64_t doff = l->dir_offset;
	struct cold_entry {
		int r;
		bool hit;
		const char *child;
	} * ax;
	size_t ds = copy_span(dlen), es = 3 * copy_span(l->entry_size);
	size_t xs = copy_span(c->u.data_used);
	unsigned char *b =
	    copy_buf_get(1, 3 * ds + es + xs + (size_t)n * sizeof(*ax));
	if (!b)
		return r_fail(err, errlen, -ENOMEM, "out of memory");
	unsigned char *ba = b, *bb = b + ds, *bc = b + 2 * ds;
	unsigned char *one = b + 3 * ds, *bx = one + es;
	ax = (void *)(bx + xs);
	if (!pread_at(c, ba, doff, dlen))
		goto short_read;
	__atomic_thread_fence(__ATOMIC_ACQUIRE);
	if (!pread_at(c, bb, doff, dlen))
		goto short_read;
	__atomic_thread_fence(__ATOMIC_ACQUIRE);
	if (r_test_cold_hook)
		r_test_cold_hook(c->seg, 0);
	/* the values, after copy A: the stripes' regions, then the used
	 * data area (relaxed words). In that order: a record adds its bucket,
	 * then its sum, then moves min or max (docs/format.md, section 6),
	 * so min and max read after the sums cover every bucket whose record
	 * the sums hold but for one whose min or max is still in flight; the
	 * other way round, a record landing between the two copies with a
	 * new extreme would be in the sum and outside the range read */
	copy_regions(c);
	if (r_test_cold_hook)
		r_test_cold_hook(c->seg, 1);
	uint64_t xoff = l->data_offset;
	if (c->u.data_used && pread_at(c, bx, xoff, c->u.data_used)) {
		c->data = bx + xoff % 64;
		c->data_from = xoff;
		c->data_to = xoff + c->u.data_used;
	}

	const unsigned char *ea = ba + doff % 64, *eb = bb + doff % 64;
	for (uint32_t i = 0; i < n; i++) {
		const struct scales_shm_entry *xa =
		    (const void *)(ea + (uint64_t)i * l->entry_size);
		const uint64_t *wb =
		    (const void *)(eb + (uint64_t)i * l->entry_size);
		ax[i].hit = false;
		ax[i].child = NULL;
		if (xa->state != SCALES_SHM_LIVE) {
			ax[i].r = E_NOT_LIVE;
			continue;
		}
		if (xa->generation & 1) {
			ax[i].r = E_CHANGED; /* read again below */
			continue;
		}
		union entry_copy ec;
		struct kind_copy k = { .c = c,
			               .x = &ec.e,
			               .m = &s->metrics[i] };
		ax[i].r =
		    copy_fields(&k, i, wb, xa->generation, &ec, &ax[i].hit);
		if (ax[i].r == E_NOMEM)
			return r_fail(err, errlen, -ENOMEM, "out of memory");
		ax[i].child = k.child;
	}
	__atomic_thread_fence(__ATOMIC_ACQUIRE);
	if (!pread_at(c, bc, doff, dlen))
		goto short_read;

	const unsigned char *ec = bc + doff % 64;
	const size_t fixed = offsetof(struct scales_shm_entry, path) / 8;
	for (uint32_t i = 0; i < n; i++) {
		const struct scales_shm_entry *xa =
		    (const void *)(ea + (uint64_t)i * l->entry_size);
		const struct scales_shm_entry *xc =
		    (const void *)(ec + (uint64_t)i * l->entry_size);
		const struct scales_shm_entry *xb =
		    (const void *)(eb + (uint64_t)i * l->entry_size);
		int r = ax[i].r;
		bool hit = ax[i].hit;
		if (r == E_NOT_LIVE)
			continue;
		/* s->metrics[i] is free to be overwritten by place() below
		 * (it fills slots up to i only) once copied out */
		struct scales_metric m = s->metrics[i];
		if (r != E_CHANGED && xc->generation == xa->generation &&
		    xc->state == xa->state) {
			if (r == E_OK)
				r = copy_keep(
				    c, i, &m, ax[i].child,
				    (const uint64_t *)(const void *)xb + fixed,
				    xb->path_len, xa->generation, hit);
			else
				r = E_INVALID;
		} else {
			r = copy_entry_cold(c, i, &m, &hit, one);
		}
		if (r == E_OK && place(c, i, &m, hit))
			r = E_NOMEM;
		if (account(c, r))
			return r_fail(err, errlen, -ENOMEM, "out of memory");
	}
	if (!c->short_read)
		return 0;
short_read:
	return r_fail(err, errlen, SCALES_RE_TRUNCATED,
	              "%s: file truncated during the snapshot", c->seg->path);
}

/* Everything that reads the segment: a warm snapshot through the mapping
 * (under the SIGBUS guard of the caller), a cold one by pread()
 * (copy_dir_cold()). Returns 0 or an error code (not SIGBUS: that
 * unwinds past it). */
static __attribute__((noinline)) int copy_all(struct copy_ctx *c, char *err,
                                              size_t errlen)
{
	int rc = r_load_used(c->seg, &c->u, err, errlen);
	if (rc)
		return rc;
	struct scales_snapshot *s = c->s;
	const struct r_layout *l = &c->seg->lay;
	s->mono_ns = r_now_mono();
	s->real_ns = r_now_real();

	/* the string area: immutable below strings_used */
	char *strs = r_arena_alloc(&s->priv->arena, c->u.strings_used + 1);
	if (!strs)
		return r_fail(err, errlen, -ENOMEM, "out of memory");
	/* immutable below strings_used (loaded with acquire): cold, a copy
	 * by the kernel rather than faulting the pages in */
	if (c->warm)
		memcpy(strs, c->seg->map + l->strings_offset,
		       c->u.strings_used);
	else if (pread(c->seg->fd, strs, c->u.strings_used,
	               (off_t)l->strings_offset) != (ssize_t)c->u.strings_used)
		return r_fail(err, errlen, SCALES_RE_TRUNCATED,
		              "%s: file truncated during the snapshot",
		              c->seg->path);
	strs[c->u.strings_used] = 0;
	c->strs = strs;
	c->strs_len = c->u.strings_used;

	/* warm, ranks below prev_n are slots of the metrics array */
	size_t slots = c->u.dir_used;
	if (c->warm && c->cache->prev_n > slots)
		slots = c->cache->prev_n;
	if (r_snapshot_reserve(s, slots) ||
	    r_cache_reserve(c->cache, c->u.dir_used))
		return r_fail(err, errlen, -ENOMEM, "out of memory");
	if (c->nomap)
		return copy_dir_cold(c, err, errlen);
	const unsigned char *dir = c->seg->map + l->dir_offset;
	for (uint32_t i = 0; i < c->u.dir_used; i++) {
		bool hit = false;
		struct scales_metric m;
		if (i + R_PREFETCH < c->u.dir_used) {
			/* the lines copy_entry() reads: fixed fields, path */
			const unsigned char *pe =
			    dir + (uint64_t)(i + R_PREFETCH) * l->entry_size;
			__builtin_prefetch(pe);
			__builtin_prefetch(pe + 64);
			__builtin_prefetch(pe + 128);
			/* warm: the slot it will probably take */
			uint32_t r = c->cache->e[i + R_PREFETCH].rank;
			if (c->warm && r < c->cache->prev_n) {
				const char *pm = (const char *)&s->metrics[r];
				__builtin_prefetch(pm, 1);
				__builtin_prefetch(pm + 64, 1);
				__builtin_prefetch(pm + sizeof(*s->metrics) - 1,
				                   1);
			}
		}
		int r = copy_entry(c, i, &m, &hit);
		if (r == E_OK && place(c, i, &m, hit))
			r = E_NOMEM;
		if (account(c, r))
			return r_fail(err, errlen, -ENOMEM, "out of memory");
	}
	return 0;
}

/* True if a[0..n) is sorted by r_metric_cmp. */
static bool metrics_sorted(const struct scales_metric *a, size_t n)
{
	for (size_t i = 1; i < n; i++)
		if (r_metric_cmp(&a[i - 1], &a[i]) > 0)
			return false;
	return true;
}

/* Ranks every metric of s at its position. */
static void stamp_ranks(struct copy_ctx *c)
{
	struct scales_snapshot *s = c->s;
	for (size_t p = 0; p < s->n; p++) {
		struct r_ecache *ce = &c->cache->e[s->metrics[p].entry];
		ce->rank = (uint32_t)p;
		ce->epoch = c->epoch;
	}
}

/* A duplicate path dropped: an entry retired and re-registered in another
 * slot during the copy (the lower slot is kept). */
static void drop(struct copy_ctx *c, const struct scales_metric *m)
{
	c->cache->e[m->entry].epoch = 0;
	c->s->skipped++;
}

/* Cold: metrics in entry order; sorts them if needed and drops duplicate
 * paths. */
static void order_cold(struct copy_ctx *c)
{
	struct scales_snapshot *s = c->s;
	bool sorted = true;
	for (size_t i = 1; i < s->n && sorted; i++)
		sorted = strcmp(s->metrics[i - 1].path, s->metrics[i].path) < 0;
	if (sorted)
		return; /* ranked as placed */
	qsort(s->metrics, s->n, sizeof(*s->metrics), r_metric_cmp);
	size_t w = 0;
	for (size_t i = 0; i < s->n; i++) {
		if (w &&
		    strcmp(s->metrics[w - 1].path, s->metrics[i].path) == 0) {
			drop(c, &s->metrics[i]);
			continue;
		}
		s->metrics[w++] = s->metrics[i];
	}
	s->n = w;
	stamp_ranks(c);
}

/*
 * Warm: the metrics that kept their rank are in their slots of
 * [0, prev_n), in order; the others in cache->miss. Closes the gaps, sorts
 * the others and merges them in (backwards, in place), dropping duplicate
 * paths.
 */
static void order_warm(struct copy_ctx *c)
{
	struct scales_snapshot *s = c->s;
	struct r_cache *k = c->cache;
	struct scales_metric *a = s->metrics, *b = k->miss;
	if (c->nmiss == 0 && c->nhit == k->prev_n) {
		s->n = c->nhit; /* as last time: sorted, ranked */
		return;
	}
	size_t h = 0;
	for (uint32_t r = 0; r < k->prev_n; r++) {
		if (!(k->filled[r / 64] & (UINT64_C(1) << (r % 64)))) {
			if (r % 64 == 0 && k->filled[r / 64] == 0)
				r += 63; /* an empty word */
			continue;
		}
		if (h != r)
			a[h] = a[r];
		h++;
	}
	size_t m = c->nmiss;
	if (!metrics_sorted(b, m))
		qsort(b, m, sizeof(*b), r_metric_cmp);
	/* from the largest: a[w] is the last one written */
	size_t i = h, j = m, o = h + m, w = o;
	while (i > 0 || j > 0) {
		const struct scales_metric *x;
		if (j == 0 || (i > 0 && r_metric_cmp(&a[i - 1], &b[j - 1]) > 0))
			x = &a[--i];
		else
			x = &b[--j];
		if (w < o && strcmp(a[w].path, x->path) == 0) {
			drop(c, &a[w]); /* x comes from a lower slot */
			a[w] = *x;
			continue;
		}
		/* w >= i + j: never over a metric still to merge */
		if (&a[--w] != x)
			a[w] = *x;
	}
	if (w)
		memmove(a, a + w, (o - w) * sizeof(*a));
	s->n = o - w;
	stamp_ranks(c);
}

/* A slab of cap arrays of stride words, all zero (zones empty), or NULL. */
static struct r_hslab *hslab_new(uint32_t cap, uint32_t stride)
{
	struct r_hslab *h = calloc(1, sizeof(*h));
	if (!h)
		return NULL;
	h->z = calloc(cap, sizeof(*h->z));
	h->words = calloc((size_t)cap * stride, sizeof(*h->words));
	if (!h->z || !h->words) {
		r_hslab_free(h);
		return NULL;
	}
	h->cap = cap;
	h->stride = stride;
	return h;
}

/* Gives a warm snapshot s the slab of a freed one, or a new one as large
 * as the last snapshot's histograms need (the first warm one, or the
 * histograms grew); none (the arena's arrays) if that fails. A cold
 * snapshot (scales-top -1, scales-export --once) takes none: a segment
 * read once keeps no arrays. */
static void hslab_take(struct r_spare *sp, struct scales_snapshot *s)
{
	/* acquire: the words and zones as the freeing thread left them */
	struct r_hslab *h =
	    __atomic_exchange_n(&sp->hslab, NULL, __ATOMIC_ACQUIRE);
	if (h && (h->cap < sp->nhist || h->stride < sp->maxnb + 1)) {
		r_hslab_free(h);
		h = NULL;
	}
	if (!h && sp->nhist)
		h = hslab_new(sp->nhist, sp->maxnb + 1);
	if (h)
		h->used = 0;
	s->priv->hslab = h;
}

int scales_snapshot_take(scales_segment *seg, unsigned flags,
                         struct scales_snapshot **out, char *err, size_t errlen)
{
	*out = NULL;
	/* a cold snapshot reads with pread(), which reports a file shrunk
	 * since as a short read: the fstat() of this pass (the selection's,
	 * stat_fresh) serves. A warm one loads through the mapping: a fresh
	 * fstat() first */
	int rc = seg->stat_fresh && !seg->cache.ranked ?
	             0 :
	             r_segment_refresh(seg, err, errlen);
	seg->stat_fresh = false; /* the next pass fstats again */
	if (rc)
		return rc;
	struct r_cache *k = &seg->cache;
	r_cache_compact(k);
	if (k->epoch == UINT32_MAX) {
		/* the stamps wrap: forget the ranks */
		for (uint32_t i = 0; i < k->cap; i++)
			k->e[i].epoch = 0;
		k->epoch = 0;
		k->ranked = false;
	}
	struct scales_snapshot *s = r_snapshot_new(0);
	if (!s)
		return r_fail(err, errlen, -ENOMEM, "out of memory");
	/* the previous snapshot's metrics array, if it was freed: its pages
	 * are faulted in already. Without a spare (out of memory), a fresh
	 * array as before */
	if (!seg->spare)
		seg->spare = r_spare_new();
	if (seg->spare)
		r_snapshot_use_spare(s, seg->spare);
	struct copy_ctx ctx;
	memset(&ctx, 0, sizeof(ctx));
	ctx.seg = seg;
	ctx.s = s;
	ctx.cache = k;
	ctx.epoch = k->epoch + 1;
	ctx.warm = k->ranked;
	/* cold (the segment's first snapshot, or after a failed one): every
	 * word by pread(), nothing mapped; warm: through the mapping, made
	 * now if this is the segment's second snapshot */
	ctx.nomap = !ctx.warm;
	if (ctx.warm && (rc = r_segment_map(seg, err, errlen))) {
		scales_snapshot_free(&s);
		return rc;
	}
	if (ctx.warm && seg->spare)
		hslab_take(seg->spare, s);
	struct copy_ctx *volatile cp = &ctx;

	sigjmp_buf jb;
	if (ctx.nomap) {
		rc = copy_all(cp, err, errlen);
	} else if (sigsetjmp(jb, 0)) { /* no mask: see r_guard_enter() */
		r_guard_leave();
		scales_snapshot_free(&cp->s);
		/* the cache may be half updated: forget it */
		r_cache_reset(&seg->cache);
		return r_fail(err, errlen, SCALES_RE_TRUNCATED,
		              "%s: file truncated during the snapshot (SIGBUS)",
		              seg->path);
	} else {
		r_guard_enter(&jb);
		rc = copy_all(cp, err, errlen);
		r_guard_leave();
	}
	if (rc) {
		scales_snapshot_free(&s);
		r_cache_reset(k);
		return rc;
	}
	if (ctx.warm)
		order_warm(&ctx);
	else
		order_cold(&ctx);
	k->epoch = ctx.epoch;
	k->ranked = true;
	k->prev_n = (uint32_t)s->n;
	s->priv->no_dicts = ctx.ndicts == 0;
	if (seg->spare) {
		/* the next warm snapshot's slab size */
		seg->spare->nhist = s->priv->nhist;
		seg->spare->maxnb = s->priv->maxnb;
	}

	/* the snapshot's paths live in the cache's blocks: hold them */
	struct scales_snapshot_priv *p = s->priv;
	if (k->nblocks) {
		p->pblocks =
		    r_arena_alloc(&p->arena, k->nblocks * sizeof(*p->pblocks));
		if (!p->pblocks) {
			scales_snapshot_free(&s);
			return r_fail(err, errlen, -ENOMEM, "out of memory");
		}
		for (size_t i = 0; i < k->nblocks; i++) {
			p->pblocks[i] = k->blocks[i];
			__atomic_add_fetch(&k->blocks[i]->refs, 1,
			                   __ATOMIC_RELAXED);
		}
		p->npblocks = k->nblocks;
	}
	/* the snapshot outlives the segment: its own copy of the path */
	s->segment_path =
	    r_arena_strndup(&p->arena, seg->path, strlen(seg->path));
	if (!s->segment_path) {
		scales_snapshot_free(&s);
		return r_fail(err, errlen, -ENOMEM, "out of memory");
	}
	r_fill_info(seg, &ctx.u, &s->proc);
	if (!(flags & SCALES_SNAP_NO_AGGREGATES)) {
		rc = scales_snapshot_aggregate(s);
		if (rc) {
			scales_snapshot_free(&s);
			return r_fail(err, errlen, rc, "out of memory");
		}
	}
	*out = s;
	return 0;
}
