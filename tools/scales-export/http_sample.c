/* SPDX-License-Identifier: MIT */
/*
 * http_sample.c: the sampling and the history of scales-export --http.
 *
 * Every interval the sampling thread (http.c) has the reader library's
 * collector select the processes (named files, discovery, live writers
 * unless selected by pid, no copies, each process once), snapshot them,
 * merge the processes of each app and owner (unless per_process) and
 * update the rates; then it pushes one value per metric into its
 * sparkline ring and swaps the new groups in under the state lock.
 * Requests render from the latest groups under the same lock. The
 * collector keeps the previous collection's snapshots until its next one,
 * so the groups shown until the swap stay valid.
 */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "http_internal.h"

/* ------------------------------------------------------------ sampling */

/* The dead collector's pick: writers that died (not closed segments of
 * running ones), not named by path or pid (the live view shows those). */
static bool pick_dead(void *arg, const struct scales_selected *it)
{
	(void)arg;
	return (it->info.liveness == SCALES_LIVE_DEAD ||
	        it->info.liveness == SCALES_LIVE_PID_REUSED) &&
	       !(it->by & (SCALES_BY_PATH | SCALES_BY_PID));
}

struct hstate *hstate_new(const struct export_http_options *o)
{
	struct hstate *st = calloc(1, sizeof(*st));
	if (!st)
		return NULL;
	pthread_mutex_init(&st->lock, NULL);
	st->per_process = o->per_process;
	st->all_owners = o->all_owners;
	st->history = o->history ? o->history : HTTP_HISTORY_DEFAULT;
	if (st->history > HTTP_HISTORY_MAX)
		st->history = HTTP_HISTORY_MAX;
	if (st->history < 2)
		st->history = 2;
	st->interval_ms =
	    o->interval_ms ? o->interval_ms : HTTP_INTERVAL_DEFAULT_MS;
	if (st->interval_ms < HTTP_INTERVAL_MIN_MS)
		st->interval_ms = HTTP_INTERVAL_MIN_MS;
	st->keep = hring_keep(st->history, st->interval_ms);
	if (o->dir && !(st->dir = strdup(o->dir)))
		goto oom;
	if (o->nselectors) {
		st->selectors = calloc(o->nselectors, sizeof(char *));
		if (!st->selectors)
			goto oom;
		st->nselectors = o->nselectors;
		for (size_t i = 0; i < o->nselectors; i++)
			if (!(st->selectors[i] = strdup(o->selectors[i])))
				goto oom;
	}
	struct scales_collector_options co = {
		.dir = st->dir,
		.selectors = (const char *const *)st->selectors,
		.nselectors = st->nselectors,
		.flags = st->per_process ? 0 :
		         st->all_owners  ? SCALES_COLLECT_MERGE |
		                              SCALES_COLLECT_ALL_OWNERS :
		                          SCALES_COLLECT_MERGE,
	};
	if (scales_collector_new(&co, &st->col))
		goto oom;
	/* the dead processes: discovered with the dead ones, one group per
	 * file, only those that died and that the live view leaves out */
	co.select_flags = SCALES_SEL_INCLUDE_DEAD;
	co.flags = 0;
	co.pick = pick_dead;
	if (scales_collector_new(&co, &st->dcol))
		goto oom;
	return st;
oom:
	hstate_free(st);
	return NULL;
}

static void hgroup_clear(struct hgroup *g)
{
	if (g->rings) {
		for (size_t i = 0; g->snap && i < g->snap->n; i++)
			free(g->rings[i]);
		free(g->rings);
	}
	free(g->key);
	memset(g, 0, sizeof(*g));
}

void hstate_free(struct hstate *st)
{
	if (!st)
		return;
	for (size_t i = 0; i < st->ngroups; i++)
		hgroup_clear(&st->groups[i]);
	free(st->groups);
	for (size_t i = 0; i < st->ndead; i++)
		hgroup_clear(&st->dead[i]);
	free(st->dead);
	scales_collector_free(&st->col);
	scales_collector_free(&st->dcol);
	for (size_t i = 0; i < st->nselectors; i++)
		free(st->selectors[i]);
	free(st->selectors);
	free(st->dir);
	pthread_mutex_destroy(&st->lock);
	free(st);
}

bool hmetric_has_ring(const struct scales_metric *m)
{
	return m->kind != SCALES_KIND_STATE;
}

unsigned hring_keep(unsigned history, unsigned interval_ms)
{
	unsigned k = (HTTP_CHART_SPAN_MS + interval_ms - 1) / interval_ms;
	if (k > HTTP_KEEP_MAX)
		k = HTTP_KEEP_MAX;
	return k < history ? history : k;
}

unsigned hring_series(const struct hring *r, unsigned s, unsigned want,
                      double *out)
{
	if (!r || s >= r->nseries)
		return 0;
	unsigned n = r->count < want ? r->count : want;
	unsigned cap = r->capacity;
	unsigned start = (r->head + cap - n) % cap;
	const double *v = r->v + (size_t)s * cap;
	for (unsigned k = 0; k < n; k++)
		out[k] = v[(start + k) % cap];
	return n;
}

unsigned hring_values(const struct hring *r, unsigned want, double *out)
{
	return hring_series(r, 0, want, out);
}

/* vals: one value per series */
static void hring_push(struct hring *r, const double *vals)
{
	for (unsigned s = 0; s < r->nseries; s++)
		r->v[(size_t)s * r->capacity + r->head] = vals[s];
	r->head = (r->head + 1) % r->capacity;
	if (r->count < r->capacity)
		r->count++;
}

/* ------------------------------------------------------------ sampling */

static int group_cmp(const void *a, const void *b)
{
	const struct hgroup *x = a, *y = b;
	int c = strcmp(x->snap->proc.app, y->snap->proc.app);
	if (c)
		return c;
	c = (x->snap->proc.pid > y->snap->proc.pid) -
	    (x->snap->proc.pid < y->snap->proc.pid);
	if (c)
		return c;
	return strcmp(x->key, y->key);
}

static struct hgroup *old_group(struct hgroup *old, size_t nold,
                                const char *key)
{
	for (size_t i = 0; i < nold; i++)
		if (old[i].key && !strcmp(old[i].key, key))
			return &old[i];
	return NULL;
}

/* The value one sample adds to metric i's sparkline. For histograms q
 * gets the interval's p50 and p99.9 (q[0] and q[1]; NaN if none). */
static double ring_value(struct hstate *st, const struct scales_group *g,
                         size_t i, double q[2])
{
	const struct scales_metric *m = &g->cur->metrics[i];
	q[0] = q[1] = NAN;
	switch (m->kind) {
	case SCALES_KIND_COUNTER:
	case SCALES_KIND_DICT:
		return g->rates[i].rate;
	case SCALES_KIND_GAUGE:
		return (double)m->v.i64;
	case SCALES_KIND_GAUGE_F64:
		return m->v.f64;
	case SCALES_KIND_HISTOGRAM: {
		struct scales_histo d;
		double secs;
		if (scales_collector_interval(st->col, g, i, &d, &secs) ||
		    d.count == 0)
			return NAN;
		q[0] = scales_histo_quantile(&d, 0.5);
		q[1] = scales_histo_quantile(&d, 0.999);
		return scales_histo_quantile(&d, 0.99);
	}
	default:
		return NAN;
	}
}

/* Fills the new group h (of the collector's group g) with its rings,
 * moving those of the old group (same key) over where path and
 * generation still match. */
static int group_update(struct hstate *st, struct hgroup *h,
                        const struct scales_group *g, struct hgroup *old)
{
	const struct scales_snapshot *s = g->cur;
	size_t n = s->n;
	h->rings = calloc(n ? n : 1, sizeof(*h->rings));
	if (!h->rings)
		return -ENOMEM;
	const struct scales_snapshot *os = old ? old->snap : NULL;
	size_t j = 0;
	for (size_t i = 0; i < n; i++) {
		const struct scales_metric *m = &s->metrics[i];
		struct hring *ring = NULL;
		/* both sorted by strcmp(path) */
		while (os && j < os->n &&
		       strcmp(os->metrics[j].path, m->path) < 0)
			j++;
		if (os && j < os->n && !strcmp(os->metrics[j].path, m->path) &&
		    old->rings && old->rings[j] &&
		    os->metrics[j].generation == m->generation &&
		    os->metrics[j].kind == m->kind) {
			ring = old->rings[j];
			old->rings[j] = NULL;
		}
		if (!hmetric_has_ring(m))
			continue;
		if (!ring) {
			unsigned ns = m->kind == SCALES_KIND_HISTOGRAM ? 3 : 1;
			ring = calloc(1, sizeof(*ring) + (size_t)ns * st->keep *
			                                     sizeof(double));
			if (!ring)
				return -ENOMEM;
			ring->generation = m->generation;
			ring->capacity = st->keep;
			ring->nseries = ns;
		}
		h->rings[i] = ring;
		double vals[3];
		vals[HRING_P99] = ring_value(st, g, i, &vals[HRING_P50]);
		hring_push(ring, vals);
	}
	return 0;
}

/* The dead processes' last values, swapped in under the lock as the live
 * groups are (the dead collector keeps the previous snapshots until its
 * next collection). Returns 0 or -ENOMEM. */
static int sample_dead(struct hstate *st)
{
	char err[512];
	int rc = scales_collector_collect(st->dcol, err, sizeof(err));
	if (rc == -ENOMEM)
		return rc;
	size_t n;
	const struct scales_group *g = scales_collector_groups(st->dcol, &n);
	struct hgroup *d = calloc(n ? n : 1, sizeof(*d));
	if (!d)
		return -ENOMEM;
	rc = 0;
	for (size_t i = 0; !rc && i < n; i++) {
		d[i].snap = g[i].cur;
		d[i].rates = g[i].rates;
		d[i].show_owner =
		    !st->all_owners && g[i].uid != (uint32_t)geteuid();
		if (!(d[i].key = strdup(g[i].key)))
			rc = -ENOMEM;
	}
	if (!rc)
		qsort(d, n, sizeof(*d), group_cmp);
	pthread_mutex_lock(&st->lock);
	struct hgroup *od = st->dead;
	size_t nod = st->ndead;
	st->dead = rc ? NULL : d;
	st->ndead = rc ? 0 : n;
	pthread_mutex_unlock(&st->lock);
	for (size_t i = 0; i < nod; i++)
		hgroup_clear(&od[i]);
	free(od);
	if (rc) {
		for (size_t i = 0; i < n; i++)
			hgroup_clear(&d[i]);
		free(d);
	}
	return rc;
}

int hstate_sample(struct hstate *st)
{
	uint64_t now = ++st->samples;
	char err[512];
	int rc = scales_collector_collect(st->col, err, sizeof(err));
	if (rc == -ENOMEM)
		return rc;
	/* a file named by path, or selected by pid, that cannot be read:
	 * said once, at the start */
	const struct scales_selection *sel =
	    scales_collector_selection(st->col);
	for (size_t i = 0; now == 1 && i < sel->nerrors; i++)
		if (sel->errors[i].code != SCALES_RE_NOT_FOUND)
			fprintf(stderr, "scales-export: http: %s\n",
			        sel->errors[i].msg);

	size_t ng;
	const struct scales_group *g = scales_collector_groups(st->col, &ng);
	struct hgroup *hg = calloc(ng ? ng : 1, sizeof(*hg));
	if (!hg)
		return -ENOMEM;
	rc = 0;
	for (size_t i = 0; !rc && i < ng; i++) {
		hg[i].snap = g[i].cur;
		hg[i].rates = g[i].rates;
		hg[i].show_owner =
		    !st->all_owners && g[i].uid != (uint32_t)geteuid();
		if (!(hg[i].key = strdup(g[i].key)))
			rc = -ENOMEM;
	}

	/* Rings need the old groups: swap under the lock. The previous
	 * groups' snapshots stay alive in the collector until its next
	 * collection, so requests may still render them until the swap. */
	pthread_mutex_lock(&st->lock);
	for (size_t i = 0; !rc && i < ng; i++)
		rc =
		    group_update(st, &hg[i], &g[i],
		                 old_group(st->groups, st->ngroups, hg[i].key));
	struct hgroup *og = st->groups;
	size_t nog = st->ngroups;
	if (!rc) {
		qsort(hg, ng, sizeof(*hg), group_cmp);
		st->groups = hg;
		st->ngroups = ng;
		st->sample_real_ns = 0;
		for (size_t i = 0; i < ng; i++)
			if (hg[i].snap->real_ns > st->sample_real_ns)
				st->sample_real_ns = hg[i].snap->real_ns;
	} else {
		/* out of memory: an empty view until the next sample (the old
		 * groups' snapshots go with the collector's next collection) */
		st->groups = NULL;
		st->ngroups = 0;
	}
	pthread_mutex_unlock(&st->lock);
	for (size_t i = 0; i < nog; i++)
		hgroup_clear(&og[i]);
	free(og);
	if (rc) {
		for (size_t i = 0; i < ng; i++)
			hgroup_clear(&hg[i]);
		free(hg);
		return rc;
	}
	return sample_dead(st);
}
