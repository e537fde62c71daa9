/* SPDX-License-Identifier: MIT */
/*
 * merge.c: one snapshot from the snapshots of several processes of an app
 * (--merge): counters and dicts summed, gauges as declared (sum, max, min
 * or mean), histograms bucket-wise, states counted per value.
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

struct item {
	const struct scales_metric *m;
	size_t snap;
};

static int item_cmp(const void *a, const void *b)
{
	const struct item *x = a, *y = b;
	int c = strcmp(x->m->path, y->m->path);
	if (c)
		return c;
	return x->snap < y->snap ? -1 : x->snap > y->snap;
}

static uint64_t mix64(uint64_t z)
{
	/* splitmix64's finaliser */
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static const char *dup_str(struct r_arena *a, const char *s)
{
	return s ? r_arena_strndup(a, s, strlen(s)) : NULL;
}

static bool numeric(uint16_t k)
{
	return k == SCALES_KIND_COUNTER || k == SCALES_KIND_GAUGE ||
	       k == SCALES_KIND_GAUGE_F64 || k == SCALES_KIND_DICT;
}

static bool compatible(uint16_t a, uint16_t b)
{
	if (a == b)
		return true;
	/* gauges of either type combine; counters with counters only */
	return (a == SCALES_KIND_GAUGE || a == SCALES_KIND_GAUGE_F64) &&
	       (b == SCALES_KIND_GAUGE || b == SCALES_KIND_GAUGE_F64);
}

static int str_ptr_cmp(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* ---------------------------------------------------------- accumulator */

void r_accum_init(struct r_accum *acc)
{
	*acc = (struct r_accum){
		.imax = INT64_MIN,
		.imin = INT64_MAX,
		.fmax = -INFINITY,
		.fmin = INFINITY,
	};
}

int r_accum_histo(struct r_accum *acc, struct r_arena *arena,
                  const struct scales_histo *shape, struct scales_histo *out)
{
	uint64_t *b = r_arena_alloc(arena, 8 * (size_t)shape->nbuckets);
	if (!b)
		return -ENOMEM;
	memset(b, 0, 8 * (size_t)shape->nbuckets);
	*out = *shape;
	out->count = out->sum = out->max = 0;
	out->sum_hi = 0;
	out->min = UINT64_MAX;
	out->buckets = b;
	acc->hist = out;
	acc->buckets = b;
	return 0;
}

void r_accum_add(struct r_accum *acc, const struct scales_metric *m)
{
	switch (m->kind) {
	case SCALES_KIND_COUNTER:
	case SCALES_KIND_DICT:
		acc->usum += m->v.u64;
		acc->fsum += (double)m->v.u64;
		break;
	case SCALES_KIND_GAUGE:
		acc->usum += (uint64_t)m->v.i64;
		acc->fsum += (double)m->v.i64;
		acc->imax = m->v.i64 > acc->imax ? m->v.i64 : acc->imax;
		acc->imin = m->v.i64 < acc->imin ? m->v.i64 : acc->imin;
		acc->fmax =
		    acc->fmax > (double)m->v.i64 ? acc->fmax : (double)m->v.i64;
		acc->fmin =
		    acc->fmin < (double)m->v.i64 ? acc->fmin : (double)m->v.i64;
		acc->ngauges++;
		break;
	case SCALES_KIND_GAUGE_F64:
		acc->fsum += m->v.f64;
		/* NaN never wins: fmax/fmin keep the numbers */
		acc->fmax = m->v.f64 > acc->fmax ? m->v.f64 : acc->fmax;
		acc->fmin = m->v.f64 < acc->fmin ? m->v.f64 : acc->fmin;
		acc->ngauges++;
		break;
	case SCALES_KIND_HISTOGRAM:
		if (acc->hist)
			r_histo_add(acc->hist, acc->buckets, &m->hist);
		break;
	default:
		break;
	}
}

void r_accum_value(const struct r_accum *acc, unsigned mode,
                   struct scales_metric *out)
{
	uint64_t usum = acc->usum;
	double fsum = acc->fsum;
	if (acc->ngauges && mode == SCALES_MF_MERGE_MAX) {
		fsum = acc->fmax;
		usum = (uint64_t)acc->imax;
	} else if (acc->ngauges && mode == SCALES_MF_MERGE_MIN) {
		fsum = acc->fmin;
		usum = (uint64_t)acc->imin;
	} else if (acc->ngauges && mode == SCALES_MF_MERGE_MEAN) {
		fsum /= (double)acc->ngauges;
	}
	if (out->kind == SCALES_KIND_GAUGE_F64)
		out->v.f64 = fsum;
	else if (out->kind == SCALES_KIND_GAUGE)
		out->v.i64 = (int64_t)usum;
	else if (out->kind == SCALES_KIND_COUNTER ||
	         out->kind == SCALES_KIND_DICT)
		out->v.u64 = usum;
}

/* --------------------------------------------------------------- merging */

/* The states of a merged state metric: out->states the distinct values of
 * vals (sorted here) with their counts, out->v.state the most frequent
 * (ties: the smallest). Returns 0 or -ENOMEM. */
static int count_states(struct r_arena *a, const char **vals, size_t nvals,
                        struct scales_metric *out)
{
	out->v.state = NULL;
	if (nvals)
		qsort(vals, nvals, sizeof(*vals), str_ptr_cmp);
	size_t ndist = 0;
	for (size_t i = 0; i < nvals; i++)
		ndist += i == 0 || strcmp(vals[i - 1], vals[i]) != 0;
	struct scales_state_count *sc =
	    r_arena_alloc(a, (ndist ? ndist : 1) * sizeof(*sc));
	if (!sc)
		return -ENOMEM;
	uint64_t best = 0;
	size_t k = 0;
	for (size_t i = 0; i < nvals;) {
		size_t j = i;
		while (j < nvals && strcmp(vals[i], vals[j]) == 0)
			j++;
		sc[k].value = dup_str(a, vals[i]);
		sc[k].count = j - i;
		if (!sc[k].value)
			return -ENOMEM;
		if (j - i > best) { /* sorted: ties keep the smallest */
			best = j - i;
			out->v.state = sc[k].value;
		}
		k++;
		i = j;
	}
	out->states = sc;
	out->nstates = (uint32_t)ndist;
	return 0;
}

/* The times of the timed states among items[0..n), added up per value
 * (time in state, format 1.4). Returns 0 or -ENOMEM. */
static int merge_times(struct r_arena *a, const struct item *it, size_t n,
                       uint16_t kind, struct scales_metric *out)
{
	size_t total = 0;
	for (size_t i = 0; i < n; i++)
		if (it[i].m->kind == kind)
			total += it[i].m->ntimes;
	if (!total)
		return 0;
	struct scales_state_time *t = r_arena_alloc(a, total * sizeof(*t));
	if (!t)
		return -ENOMEM;
	size_t k = 0;
	for (size_t i = 0; i < n; i++) {
		const struct scales_metric *m = it[i].m;
		for (uint32_t j = 0; m->kind == kind && j < m->ntimes; j++) {
			t[k].value = dup_str(a, m->times[j].value);
			if (!t[k].value)
				return -ENOMEM;
			t[k++].ns = m->times[j].ns;
		}
	}
	out->times = t;
	out->ntimes = (uint32_t)r_state_times_fold(t, k);
	out->flags |= SCALES_MF_TIMED;
	return 0;
}

/* Combines items[0..n) (same path) into *out. */
static int merge_group(struct scales_snapshot *dst,
                       const struct scales_snapshot *const *snaps,
                       const struct item *it, size_t n,
                       struct scales_metric *out)
{
	struct r_arena *a = &dst->priv->arena;
	const struct scales_metric *f = it[0].m;
	*out = *f;
	out->path = dup_str(a, f->path);
	out->help = dup_str(a, f->help);
	/* the labels of the first process, as its help */
	out->labels = dup_str(a, f->labels);
	out->key_label = dup_str(a, f->key_label);
	if (!out->path || (f->help && !out->help) ||
	    (f->labels && !out->labels) || (f->key_label && !out->key_label))
		return -ENOMEM;
	out->entry = UINT32_MAX;
	out->flags |= SCALES_MF_MERGED;
	out->states = NULL;
	out->nstates = 0;
	out->times = NULL;
	out->ntimes = 0;
	out->flags &= (uint16_t)~SCALES_MF_TIMED;

	uint16_t kind = f->kind;
	bool any_f64 = false;
	for (size_t i = 0; i < n; i++) {
		if (!compatible(f->kind, it[i].m->kind))
			continue;
		if (it[i].m->kind == SCALES_KIND_GAUGE_F64)
			any_f64 = true;
	}
	/* a gauge merges as its first process declares (the writer's
	 * SCALES_MERGE_*); counters, dicts and histograms always add */
	bool gauge =
	    f->kind == SCALES_KIND_GAUGE || f->kind == SCALES_KIND_GAUGE_F64;
	unsigned mode = gauge ? (f->flags & SCALES_MF_MERGE_MASK) : 0;
	if (numeric(kind) && (any_f64 || mode == SCALES_MF_MERGE_MEAN))
		kind = SCALES_KIND_GAUGE_F64; /* a mean has fractions */
	out->kind = kind;
	out->flags = (uint16_t)((out->flags & ~SCALES_MF_MERGE_MASK) | mode);

	uint64_t gh = 0;
	struct r_accum acc;
	r_accum_init(&acc);
	const char **vals = NULL;
	size_t nvals = 0;
	if (kind == SCALES_KIND_HISTOGRAM &&
	    r_accum_histo(&acc, a, &f->hist, &out->hist))
		return -ENOMEM;
	if (kind == SCALES_KIND_STATE) {
		vals = malloc(n * sizeof(*vals));
		if (!vals)
			return -ENOMEM;
	}
	for (size_t i = 0; i < n; i++) {
		const struct scales_metric *m = it[i].m;
		if (!compatible(f->kind, m->kind)) {
			dst->invalid++;
			continue;
		}
		const struct scales_snapshot *s = snaps[it[i].snap];
		gh += mix64(
		    ((uint64_t)(uint32_t)s->proc.pid << 32 | m->generation) ^
		    mix64(s->proc.start_time));
		if (m->kind != SCALES_KIND_STATE) {
			r_accum_add(&acc, m);
		} else if (m->states) { /* merging merged snapshots */
			for (uint32_t k = 0; k < m->nstates; k++) {
				const char **nv =
				    realloc(vals,
				            (nvals + m->states[k].count + n) *
				                sizeof(*vals));
				if (!nv) {
					free(vals);
					return -ENOMEM;
				}
				vals = nv;
				for (uint64_t c = 0; c < m->states[k].count;
				     c++)
					vals[nvals++] = m->states[k].value;
			}
		} else if (m->v.state) {
			vals[nvals++] = m->v.state;
		}
	}
	out->generation = (uint32_t)(gh ^ (gh >> 32));
	r_accum_value(&acc, mode, out);
	if (kind == SCALES_KIND_STATE) {
		int rc = count_states(a, vals, nvals, out);
		free(vals);
		if (!rc)
			rc = merge_times(a, it, n, f->kind, out);
		if (rc)
			return rc;
	}
	return 0;
}

int scales_snapshot_merge(const struct scales_snapshot *const *snaps, size_t n,
                          struct scales_snapshot **out)
{
	*out = NULL;
	if (n == 0)
		return -EINVAL;
	size_t total = 0;
	for (size_t i = 0; i < n; i++)
		total += snaps[i]->n;
	struct item *items = malloc((total ? total : 1) * sizeof(*items));
	struct scales_snapshot *d = r_snapshot_new(total ? total : 1);
	int32_t *pids = malloc(n * sizeof(*pids) + sizeof(*pids));
	if (!items || !d || !pids) {
		free(items);
		free(pids);
		scales_snapshot_free(&d);
		return -ENOMEM;
	}
	d->priv->pids = pids;
	d->priv->aggregated = true; /* the inputs were aggregated */
	size_t k = 0, np = 0;
	d->proc = snaps[0]->proc;
	d->proc.pid = 0;
	d->proc.alive = false;
	d->proc.live_metrics = 0;
	d->proc.file_size = 0;
	d->proc.refused = 0;
	d->proc.generation = 0;
	for (size_t i = 0; i < n; i++) {
		const struct scales_snapshot *s = snaps[i];
		for (size_t j = 0; j < s->n; j++) {
			items[k].m = &s->metrics[j];
			items[k++].snap = i;
		}
		for (uint32_t p = 0; p < s->nmembers; p++) {
			int32_t *np2 =
			    realloc(d->priv->pids, (np + 1) * sizeof(*np2));
			if (!np2) {
				free(items);
				scales_snapshot_free(&d);
				return -ENOMEM;
			}
			d->priv->pids = np2;
			np2[np++] = s->member_pids[p];
		}
		d->proc.alive = d->proc.alive || s->proc.alive;
		d->proc.live_metrics += s->proc.live_metrics;
		d->proc.file_size += s->proc.file_size;
		d->proc.refused += s->proc.refused;
		d->proc.generation += s->proc.generation;
		d->skipped += s->skipped;
		d->invalid += s->invalid;
		if (s->mono_ns > d->mono_ns)
			d->mono_ns = s->mono_ns;
		if (s->real_ns > d->real_ns)
			d->real_ns = s->real_ns;
	}
	if (d->proc.alive)
		d->proc.liveness = SCALES_LIVE_ALIVE;
	d->nmembers = (uint32_t)np;
	d->member_pids = d->priv->pids;
	d->segment_path = NULL;
	qsort(items, total, sizeof(*items), item_cmp);
	int rc = 0;
	for (size_t i = 0; i < total && !rc;) {
		size_t j = i + 1;
		while (j < total &&
		       strcmp(items[i].m->path, items[j].m->path) == 0)
			j++;
		rc = merge_group(d, snaps, &items[i], j - i, &d->metrics[d->n]);
		if (!rc)
			d->n++;
		i = j;
	}
	free(items);
	if (rc) {
		scales_snapshot_free(&d);
		return rc;
	}
	*out = d;
	return 0;
}
