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
			r_histo_add(acc->hist, acc->buckets, &m->side->hist);
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

/* The states of a merged state metric: side->states the distinct values
 * of vals (sorted here) with their counts, out->v.state the most frequent
 * (ties: the smallest). Returns 0 or -ENOMEM. */
static int count_states(struct r_arena *a, const char **vals, size_t nvals,
                        struct scales_metric *out,
                        struct scales_metric_side *side)
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
	side->states = sc;
	side->nstates = (uint32_t)ndist;
	return 0;
}

/*
 * The running merge of one path: the first process's metric (its strings
 * copied), the accumulator, and what decides the merged kind at the end.
 * Lives in the merged snapshot's arena (out.side is side, acc.hist points
 * into it).
 */
struct macc {
	struct scales_metric out;
	struct scales_metric_side side;
	uint16_t fkind; /* the first metric's kind: the others must match */
	bool any_f64;
	unsigned mode; /* a gauge's SCALES_MF_MERGE_* */
	uint64_t gh;   /* the members' (pid, start, generation) hash */
	struct r_accum acc;
	const char **vals; /* states: every value, copied (malloc'd) */
	size_t nvals, capvals;
	struct scales_state_time *times; /* timed states (1.4), malloc'd */
	size_t ntimes, captimes;
};

/*
 * A merge fed one snapshot at a time: only the running accumulators are
 * kept, so a caller may free each input once added (a one-shot pass over
 * many processes holds one of them at a time). The result is the same as
 * scales_snapshot_merge() of them all in that order.
 */
struct r_merger {
	struct scales_snapshot *d;
	struct macc **v; /* sorted by path */
	size_t n, cap;
	struct macc **nv; /* scratch: paths new in this input, sorted */
	size_t capnv;
	size_t npids, cappids;
	size_t nin; /* snapshots added */
};

struct r_merger *r_merger_new(void)
{
	struct r_merger *mg = calloc(1, sizeof(*mg));
	if (mg && !(mg->d = r_snapshot_new(0))) {
		free(mg);
		return NULL;
	}
	return mg;
}

void r_merger_free(struct r_merger **mgp)
{
	struct r_merger *mg = *mgp;
	if (!mg)
		return;
	for (size_t i = 0; i < mg->n; i++) {
		free(mg->v[i]->vals);
		free(mg->v[i]->times);
	}
	free(mg->v);
	free(mg->nv);
	scales_snapshot_free(&mg->d);
	free(mg);
	*mgp = NULL;
}

/* A new running merge started by f (not yet added). */
static struct macc *macc_new(struct r_merger *mg, const struct scales_metric *f)
{
	struct r_arena *a = &mg->d->priv->arena;
	struct macc *c = r_arena_alloc(a, sizeof(*c));
	if (!c)
		return NULL;
	memset(c, 0, sizeof(*c));
	c->out = *f;
	c->out.path = dup_str(a, f->path);
	c->out.help = dup_str(a, f->help);
	/* the labels of the first process, as its help */
	c->out.labels = dup_str(a, f->labels);
	/* states and times are the merge's own, added up at the end */
	c->out.side = &c->side;
	c->side.key_label = dup_str(a, f->side->key_label);
	if (!c->out.path || (f->help && !c->out.help) ||
	    (f->labels && !c->out.labels) ||
	    (f->side->key_label && !c->side.key_label))
		return NULL;
	c->out.entry = UINT32_MAX;
	c->out.flags |= SCALES_MF_MERGED;
	c->out.flags &= (uint16_t)~SCALES_MF_TIMED;
	c->fkind = f->kind;
	/* a gauge merges as its first process declares (the writer's
	 * SCALES_MERGE_*); counters, dicts and histograms always add */
	bool gauge =
	    f->kind == SCALES_KIND_GAUGE || f->kind == SCALES_KIND_GAUGE_F64;
	c->mode = gauge ? (f->flags & SCALES_MF_MERGE_MASK) : 0;
	r_accum_init(&c->acc);
	if (f->kind == SCALES_KIND_HISTOGRAM &&
	    r_accum_histo(&c->acc, a, &f->side->hist, &c->side.hist))
		return NULL;
	return c;
}

/* The times of timed state m (time in state, format 1.4), copied: added
 * up per value at the end. Returns 0 or -ENOMEM. */
static int macc_times(struct r_merger *mg, struct macc *c,
                      const struct scales_metric *m)
{
	const struct scales_metric_side *ms = m->side;
	if (!ms->ntimes)
		return 0;
	if (c->ntimes + ms->ntimes > c->captimes) {
		size_t cap = c->captimes ? 2 * c->captimes : 8;
		while (cap < c->ntimes + ms->ntimes)
			cap *= 2;
		struct scales_state_time *t =
		    realloc(c->times, cap * sizeof(*t));
		if (!t)
			return -ENOMEM;
		c->times = t;
		c->captimes = cap;
	}
	for (uint32_t j = 0; j < ms->ntimes; j++) {
		struct scales_state_time *t = &c->times[c->ntimes];
		t->value = dup_str(&mg->d->priv->arena, ms->times[j].value);
		if (!t->value)
			return -ENOMEM;
		t->ns = ms->times[j].ns;
		c->ntimes++;
	}
	return 0;
}

/* The times of c into its side, folded per value. */
static int finish_times(struct r_arena *a, struct macc *c,
                        struct scales_metric *out)
{
	if (!c->ntimes)
		return 0;
	struct scales_state_time *t = r_arena_alloc(a, c->ntimes * sizeof(*t));
	if (!t)
		return -ENOMEM;
	memcpy(t, c->times, c->ntimes * sizeof(*t));
	c->side.times = t;
	c->side.ntimes = (uint32_t)r_state_times_fold(t, c->ntimes);
	out->flags |= SCALES_MF_TIMED;
	return 0;
}

/* Adds metric m of snapshot s to c. */
static int macc_add(struct r_merger *mg, struct macc *c,
                    const struct scales_snapshot *s,
                    const struct scales_metric *m)
{
	if (!compatible(c->fkind, m->kind)) {
		mg->d->invalid++;
		return 0;
	}
	if (m->kind == SCALES_KIND_GAUGE_F64)
		c->any_f64 = true;
	c->gh += mix64(((uint64_t)(uint32_t)s->proc.pid << 32 | m->generation) ^
	               mix64(s->proc.start_time));
	if (m->kind != SCALES_KIND_STATE) {
		r_accum_add(&c->acc, m);
		return 0;
	}
	/* the values outlive s: copied (merging merged snapshots: each
	 * value as many times as it counts) */
	const struct scales_metric_side *ms = m->side;
	uint64_t more = ms->states ? 0 : m->v.state != NULL;
	for (uint32_t k = 0; ms->states && k < ms->nstates; k++)
		more += ms->states[k].count;
	if (c->nvals + more > c->capvals) {
		size_t cap = c->capvals ? 2 * c->capvals : 8;
		while (cap < c->nvals + more)
			cap *= 2;
		const char **nv = realloc(c->vals, cap * sizeof(*nv));
		if (!nv)
			return -ENOMEM;
		c->vals = nv;
		c->capvals = cap;
	}
	struct r_arena *a = &mg->d->priv->arena;
	for (uint32_t k = 0; ms->states && k < ms->nstates; k++) {
		const char *v = dup_str(a, ms->states[k].value);
		if (!v)
			return -ENOMEM;
		for (uint64_t x = 0; x < ms->states[k].count; x++)
			c->vals[c->nvals++] = v;
	}
	if (!ms->states && m->v.state) {
		if (!(c->vals[c->nvals] = dup_str(a, m->v.state)))
			return -ENOMEM;
		c->nvals++;
	}
	return macc_times(mg, c, m);
}

/* The proc fields, pids and counts of s, added to d. */
static int merge_proc(struct r_merger *mg, const struct scales_snapshot *s)
{
	struct scales_snapshot *d = mg->d;
	if (mg->npids + s->nmembers > mg->cappids) {
		size_t cap = mg->cappids ? 2 * mg->cappids : 16;
		while (cap < mg->npids + s->nmembers)
			cap *= 2;
		int32_t *p = realloc(d->priv->pids, cap * sizeof(*p));
		if (!p)
			return -ENOMEM;
		d->priv->pids = p;
		mg->cappids = cap;
	}
	if (mg->nin++ == 0) {
		/* the first input: app and the rest of proc from it */
		d->proc = s->proc;
		d->proc.pid = 0;
		d->proc.alive = false;
		d->proc.live_metrics = 0;
		d->proc.file_size = 0;
		d->proc.refused = 0;
		d->proc.generation = 0;
	}
	for (uint32_t p = 0; p < s->nmembers; p++)
		d->priv->pids[mg->npids++] = s->member_pids[p];
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
	return 0;
}

/* Merges the sorted new paths mg->nv[0..k) into mg->v. */
static int insert_new(struct r_merger *mg, size_t k)
{
	size_t n = mg->n + k;
	struct macc **v = malloc((n ? n : 1) * sizeof(*v));
	if (!v)
		return -ENOMEM;
	size_t i = 0, j = 0, o = 0;
	while (i < mg->n || j < k)
		v[o++] =
		    j == k || (i < mg->n && strcmp(mg->v[i]->out.path,
		                                   mg->nv[j]->out.path) < 0) ?
		        mg->v[i++] :
		        mg->nv[j++];
	free(mg->v);
	mg->v = v;
	mg->n = mg->cap = n;
	return 0;
}

int r_merger_add(struct r_merger *mg, const struct scales_snapshot *s)
{
	int rc = merge_proc(mg, s);
	if (rc)
		return rc;
	if (s->n > mg->capnv) {
		struct macc **nv = realloc(mg->nv, s->n * sizeof(*nv));
		if (!nv)
			return -ENOMEM;
		mg->nv = nv;
		mg->capnv = s->n;
	}
	/* both sorted by path: one walk; paths seen before are added where
	 * they are, new ones start a merge of their own */
	size_t j = 0, k = 0;
	for (size_t i = 0; i < s->n && !rc; i++) {
		const struct scales_metric *m = &s->metrics[i];
		int c = 1;
		while (j < mg->n &&
		       (c = strcmp(mg->v[j]->out.path, m->path)) < 0)
			j++;
		struct macc *t = NULL;
		if (j < mg->n && c == 0)
			t = mg->v[j];
		else if (k && strcmp(mg->nv[k - 1]->out.path, m->path) == 0)
			t = mg->nv[k - 1]; /* a duplicate path in s */
		else if ((t = macc_new(mg, m)) != NULL)
			mg->nv[k++] = t;
		rc = t ? macc_add(mg, t, s, m) : -ENOMEM;
	}
	if (k && !rc)
		rc = insert_new(mg, k);
	else if (k)
		for (size_t x = 0; x < k; x++) {
			free(mg->nv[x]->vals);
			free(mg->nv[x]->times);
		}
	return rc;
}

int r_merger_finish(struct r_merger **mgp, struct scales_snapshot **out)
{
	struct r_merger *mg = *mgp;
	struct scales_snapshot *d = mg->d;
	*out = NULL;
	int rc = r_snapshot_reserve(d, mg->n ? mg->n : 1);
	for (size_t i = 0; i < mg->n && !rc; i++) {
		struct macc *c = mg->v[i];
		uint16_t kind = c->fkind;
		if (numeric(kind) &&
		    (c->any_f64 || c->mode == SCALES_MF_MERGE_MEAN))
			kind = SCALES_KIND_GAUGE_F64; /* a mean has fractions */
		c->out.kind = kind;
		c->out.flags =
		    (uint16_t)((c->out.flags & ~SCALES_MF_MERGE_MASK) |
		               c->mode);
		c->out.generation = (uint32_t)(c->gh ^ (c->gh >> 32));
		r_accum_value(&c->acc, c->mode, &c->out);
		if (kind == SCALES_KIND_STATE)
			rc = count_states(&d->priv->arena, c->vals, c->nvals,
			                  &c->out, &c->side);
		if (kind == SCALES_KIND_STATE && !rc)
			rc = finish_times(&d->priv->arena, c, &c->out);
		d->metrics[d->n++] = c->out;
	}
	if (rc) {
		r_merger_free(mgp);
		return rc;
	}
	d->priv->aggregated = true; /* the inputs were aggregated */
	if (d->proc.alive)
		d->proc.liveness = SCALES_LIVE_ALIVE;
	d->nmembers = (uint32_t)mg->npids;
	d->member_pids = d->priv->pids;
	d->segment_path = NULL;
	mg->d = NULL;
	r_merger_free(mgp);
	*out = d;
	return 0;
}

int scales_snapshot_merge(const struct scales_snapshot *const *snaps, size_t n,
                          struct scales_snapshot **out)
{
	*out = NULL;
	if (n == 0)
		return -EINVAL;
	struct r_merger *mg = r_merger_new();
	if (!mg)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		int rc = r_merger_add(mg, snaps[i]);
		if (rc) {
			r_merger_free(&mg);
			return rc;
		}
	}
	return r_merger_finish(&mg, out);
}
