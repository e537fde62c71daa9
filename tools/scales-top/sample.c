/* SPDX-License-Identifier: MIT */
/*
 * sample.c: the view's sources from the collector's groups (see sample.h).
 */
#include "sample.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Same paths in the same order? */
static bool same_paths(const struct scales_snapshot *a,
                       const struct scales_snapshot *b)
{
	if (!a || !b || a->n != b->n)
		return false;
	for (size_t i = 0; i < a->n; i++)
		if (a->metrics[i].path != b->metrics[i].path &&
		    strcmp(a->metrics[i].path, b->metrics[i].path) != 0)
			return false;
	return true;
}

static void set_label(struct top_source *src, const struct scales_group *g,
                      bool merge)
{
	const struct scales_snapshot *s = g->cur;
	if (!merge) {
		snprintf(src->label, sizeof(src->label), "%s %d", g->app,
		         (int)s->proc.pid);
		return;
	}
	int n = snprintf(src->label, sizeof(src->label),
	                 "%s (%zu merged:", g->app, (size_t)s->nmembers);
	for (uint32_t i = 0;
	     i < s->nmembers && n > 0 && (size_t)n < sizeof(src->label); i++)
		n += snprintf(src->label + n, sizeof(src->label) - (size_t)n,
		              " %d", (int)s->member_pids[i]);
	if (n > 0 && (size_t)n < sizeof(src->label) - 1)
		snprintf(src->label + n, sizeof(src->label) - (size_t)n, ")");
}

/* Alive if a member is, else closed if one is, else dead: as the process
 * list says (a closed segment of a writer gone is dead there). */
static enum top_pstate group_state(const struct top_procs *procs,
                                   const struct scales_group *g)
{
	enum top_pstate st = TOP_PS_DEAD;
	for (uint32_t m = 0; m < g->nmembers; m++) {
		const char *path = g->members[m]->segment_path;
		const struct top_proc *e =
		    path ? top_procs_find(procs, path) : NULL;
		if (!e)
			continue;
		if (e->state == TOP_PS_ALIVE)
			st = TOP_PS_ALIVE;
		else if (e->state == TOP_PS_CLOSED && st != TOP_PS_ALIVE)
			st = TOP_PS_CLOSED;
	}
	return st;
}

int top_sampler_refresh(struct top_sampler *s, struct top_procs *procs,
                        bool use_picked)
{
	s->col = procs->col;
	procs->use_picked = use_picked;
	scales_collector_set_flags(procs->col,
	                           s->merge ? SCALES_COLLECT_MERGE : 0);
	int rc = scales_collector_sample(procs->col);
	size_t ng;
	const struct scales_group *g = scales_collector_groups(procs->col, &ng);
	struct top_source *nv = calloc(ng ? ng : 1, sizeof(*nv));
	if (!nv)
		return -ENOMEM;
	if (ng != s->n)
		s->layout_changed = true;
	for (size_t i = 0; i < ng; i++) {
		struct top_source *d = &nv[i];
		d->g = &g[i];
		snprintf(d->key, sizeof(d->key), "%s", g[i].key);
		set_label(d, &g[i], s->merge);
		d->state = group_state(procs, &g[i]);
		d->nmembers = g[i].nmembers;
		d->cur = g[i].cur;
		d->prev = g[i].prev;
		d->rate = g[i].rates;
		if (i >= s->n || strcmp(s->v[i].key, d->key) != 0 ||
		    !same_paths(d->prev, d->cur))
			s->layout_changed = true;
	}
	free(s->v);
	s->v = nv;
	s->n = ng;
	return rc;
}

void top_sampler_free(struct top_sampler *s)
{
	free(s->v);
	s->v = NULL;
	s->n = 0;
}

const struct scales_metric *top_prev_metric(const struct top_source *src,
                                            size_t idx)
{
	if (!src->prev || !src->cur || idx >= src->cur->n)
		return NULL;
	const struct scales_metric *m = &src->cur->metrics[idx];
	const struct scales_metric *p = NULL;
	if (idx < src->prev->n &&
	    strcmp(src->prev->metrics[idx].path, m->path) == 0)
		p = &src->prev->metrics[idx];
	else
		p = scales_snapshot_find(src->prev, m->path);
	if (!p || p->generation != m->generation || p->kind != m->kind)
		return NULL;
	return p;
}

bool top_hist_interval(struct top_sampler *s, const struct top_source *src,
                       size_t idx, struct scales_hstats *st, double *secs)
{
	struct scales_histo d;
	if (!s->col || scales_collector_interval(s->col, src->g, idx, &d, secs))
		return false;
	scales_histo_stats(&d, st);
	return true;
}

double top_metric_number(const struct scales_metric *m)
{
	switch (m->kind) {
	case SCALES_KIND_COUNTER:
	case SCALES_KIND_DICT:
		return (double)m->v.u64;
	case SCALES_KIND_GAUGE:
		return (double)m->v.i64;
	case SCALES_KIND_GAUGE_F64:
		return m->v.f64;
	case SCALES_KIND_HISTOGRAM:
		return (double)m->side->hist.count;
	default:
		return NAN;
	}
}
