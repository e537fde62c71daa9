/* SPDX-License-Identifier: MIT */
/*
 * metric.c: snapshot objects (allocation, growth, freeing), the order of
 * their metrics and the lookup by path, and the names of kinds and units.
 * snapshot.c fills them from a segment, merge.c from other snapshots.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

/* ------------------------------------------------------ snapshot objects */

const struct scales_metric_side scales_no_side;

/* Pointers and 32-bit words as on every LP64 target: the size the
 * snapshot benches (docs/performance.md, issue 17.4) count on. */
_Static_assert(sizeof(void *) != 8 || sizeof(struct scales_metric) == 56,
               "struct scales_metric is 56 bytes");

struct scales_metric_side *r_side_new(struct r_arena *a)
{
	struct scales_metric_side *sd = r_arena_alloc(a, sizeof(*sd));
	if (sd)
		memset(sd, 0, sizeof(*sd));
	return sd;
}

struct scales_snapshot *r_snapshot_new(size_t cap)
{
	struct scales_snapshot *s = calloc(1, sizeof(*s));
	if (!s)
		return NULL;
	s->priv = calloc(1, sizeof(*s->priv));
	if (!s->priv) {
		free(s);
		return NULL;
	}
	s->nmembers = 1;
	s->member_pids = &s->proc.pid;
	if (cap && r_snapshot_reserve(s, cap)) {
		scales_snapshot_free(&s);
		return NULL;
	}
	return s;
}

int r_snapshot_reserve(struct scales_snapshot *s, size_t more)
{
	struct scales_snapshot_priv *p = s->priv;
	if (s->n + more <= p->cap)
		return 0;
	size_t nc = p->cap ? p->cap : 16;
	while (nc < s->n + more)
		nc *= 2;
	void *m = realloc(s->metrics, nc * sizeof(*s->metrics));
	if (!m)
		return -ENOMEM;
	s->metrics = m;
	p->cap = nc;
	r_guard_publish();
	return 0;
}

struct r_spare *r_spare_new(void)
{
	struct r_spare *sp = calloc(1, sizeof(*sp));
	if (sp)
		sp->refs = 1;
	return sp;
}

void r_spare_unref(struct r_spare *sp)
{
	if (!sp || __atomic_sub_fetch(&sp->refs, 1, __ATOMIC_ACQ_REL))
		return;
	/* the last reference: no one else can reach the slot */
	free(sp->metrics);
	r_hslab_free(sp->hslab);
	free(sp);
}

void r_hslab_free(struct r_hslab *h)
{
	if (!h)
		return;
	free(h->z);
	free(h->words);
	free(h->fp);
	free(h);
}

void r_snapshot_use_spare(struct scales_snapshot *s, struct r_spare *sp)
{
	__atomic_add_fetch(&sp->refs, 1, __ATOMIC_RELAXED);
	s->priv->spare = sp;
	/* acquire: the array's bytes (its capacity) as the thread that put
	 * it there wrote them */
	struct scales_metric *m =
	    __atomic_exchange_n(&sp->metrics, NULL, __ATOMIC_ACQUIRE);
	if (m) {
		size_t cap;
		memcpy(&cap, m, sizeof(cap));
		s->metrics = m;
		s->priv->cap = cap;
	}
}

/* Puts s's metrics array into its spare if it is worth keeping. */
static void spare_put(struct scales_snapshot *s)
{
	struct scales_snapshot_priv *p = s->priv;
	if (!s->metrics || p->cap * sizeof(*s->metrics) < R_SPARE_MIN_BYTES)
		return;
	size_t cap = p->cap;
	memcpy(s->metrics, &cap, sizeof(cap));
	/* release: the capacity just written, for the acquire that takes it;
	 * a spare already there is the older one: freed */
	free(__atomic_exchange_n(&p->spare->metrics, s->metrics,
	                         __ATOMIC_ACQ_REL));
	s->metrics = NULL;
}

void scales_snapshot_free(struct scales_snapshot **snap)
{
	if (!snap || !*snap)
		return;
	struct scales_snapshot *s = *snap;
	if (s->priv && s->priv->spare) {
		spare_put(s);
		/* release: the slab's words and zones as written here, for
		 * the acquire of the snapshot that takes it; an older slab
		 * there is freed */
		r_hslab_free(__atomic_exchange_n(&s->priv->spare->hslab,
		                                 s->priv->hslab,
		                                 __ATOMIC_ACQ_REL));
		s->priv->hslab = NULL;
		r_spare_unref(s->priv->spare);
	}
	if (s->priv) {
		r_pblocks_unref(s->priv->pblocks, s->priv->npblocks);
		r_arena_free(&s->priv->arena);
		free(s->priv->decls);
		free(s->priv->pids);
		free(s->priv);
	}
	free(s->metrics);
	free(s);
	*snap = NULL;
}

int r_metric_cmp(const void *a, const void *b)
{
	const struct scales_metric *x = a, *y = b;
	int c = strcmp(x->path, y->path);
	if (c)
		return c;
	/* stable for duplicates: lower entry index first */
	return x->entry < y->entry ? -1 : x->entry > y->entry;
}

const struct scales_metric *
scales_snapshot_find(const struct scales_snapshot *snap, const char *path)
{
	size_t lo = 0, hi = snap->n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = strcmp(snap->metrics[mid].path, path);
		if (c == 0)
			return &snap->metrics[mid];
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

/* ----------------------------------------------------------- names */

const char *scales_kind_name(unsigned kind)
{
	switch (kind) {
	case SCALES_KIND_COUNTER:
		return "counter";
	case SCALES_KIND_GAUGE:
		return "gauge";
	case SCALES_KIND_GAUGE_F64:
		return "gauge_f64";
	case SCALES_KIND_STATE:
		return "state";
	case SCALES_KIND_HISTOGRAM:
		return "histogram";
	case SCALES_KIND_DICT:
		return "dict";
	default:
		return "";
	}
}

const char *scales_unit_name(unsigned unit)
{
	switch (unit) {
	case SCALES_UNIT_SECONDS:
		return "seconds";
	case SCALES_UNIT_BYTES:
		return "bytes";
	case 0:
		return "";
	default:
		return "unknown"; /* a newer writer's unit */
	}
}
