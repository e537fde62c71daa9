/* SPDX-License-Identifier: MIT */
/*
 * sample.c: sources, snapshots, merging and rates (see sample.h).
 */
#include "sample.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void source_free(struct top_source *src)
{
	free(src->key);
	scales_rates_free(&src->rates);
	scales_snapshot_free(&src->prev);
	scales_snapshot_free(&src->cur);
	free(src->rate);
	memset(src, 0, sizeof(*src));
}

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

static void set_label(struct top_source *src, const struct top_procs *procs,
                      const size_t *members, size_t nm, bool merge)
{
	const struct top_proc *first = &procs->v[members[0]];
	if (!merge) {
		snprintf(src->label, sizeof(src->label), "%s %d", first->app,
		         (int)first->pid);
		return;
	}
	int n = snprintf(src->label, sizeof(src->label),
	                 "%s (%zu merged:", first->app, nm);
	for (size_t i = 0; i < nm && n > 0 && (size_t)n < sizeof(src->label);
	     i++)
		n += snprintf(src->label + n, sizeof(src->label) - (size_t)n,
		              " %d", (int)procs->v[members[i]].pid);
	if (n > 0 && (size_t)n < sizeof(src->label) - 1)
		snprintf(src->label + n, sizeof(src->label) - (size_t)n, ")");
}

/* Takes the snapshots of the members and makes src->cur of them. */
static int source_sample(struct top_sampler *s, struct top_source *src,
                         const struct top_procs *procs, const size_t *members,
                         size_t nm)
{
	struct scales_snapshot **snaps = calloc(nm, sizeof(*snaps));
	if (!snaps)
		return -ENOMEM;
	size_t ns = 0;
	int rc = 0;
	src->err[0] = '\0';
	src->state = TOP_PS_DEAD;
	for (size_t i = 0; i < nm; i++) {
		const struct top_proc *e = &procs->v[members[i]];
		char err[256];
		if (scales_snapshot_take(e->seg, 0, &snaps[ns], err,
		                         sizeof(err))) {
			snprintf(src->err, sizeof(src->err), "%s", err);
			continue;
		}
		if (s->nglobs)
			scales_snapshot_filter(snaps[ns], s->globs, s->nglobs);
		if (e->state == TOP_PS_ALIVE)
			src->state = TOP_PS_ALIVE;
		else if (e->state == TOP_PS_CLOSED &&
		         src->state != TOP_PS_ALIVE)
			src->state = TOP_PS_CLOSED;
		ns++;
	}
	struct scales_snapshot *cur = NULL;
	if (ns && s->merge) {
		rc = scales_snapshot_merge(
		    (const struct scales_snapshot *const *)snaps, ns, &cur);
		for (size_t i = 0; i < ns; i++)
			scales_snapshot_free(&snaps[i]);
	} else if (ns) {
		cur = snaps[0];
	}
	free(snaps);
	if (rc)
		return rc;
	if (!same_paths(src->cur, cur))
		s->layout_changed = true;
	scales_snapshot_free(&src->prev);
	src->prev = src->cur;
	src->cur = cur;
	src->nmembers = (uint32_t)nm;
	if (!cur)
		return 0;
	if (cur->n > src->rate_cap) {
		struct scales_rate *r = realloc(src->rate, cur->n * sizeof(*r));
		if (!r)
			return -ENOMEM;
		src->rate = r;
		src->rate_cap = cur->n;
	}
	return scales_rates_update(src->rates, cur, src->rate);
}

int top_sampler_refresh(struct top_sampler *s, const struct top_procs *procs,
                        bool use_picked)
{
	size_t *members = malloc((procs->n ? procs->n : 1) * sizeof(*members));
	struct top_source *nv =
	    calloc(procs->n ? procs->n : 1, sizeof(*nv)); /* new order */
	if (!members || !nv) {
		free(members);
		free(nv);
		return -ENOMEM;
	}
	for (size_t i = 0; i < s->n; i++)
		s->v[i].seen = false;
	size_t nn = 0;
	int rc = 0;
	for (size_t i = 0; i < procs->n && !rc; i++) {
		const struct top_proc *e = &procs->v[i];
		if (!e->seg || (use_picked && !e->picked))
			continue;
		/* group: this process, or (merging) the rest of its app; the
		 * list is sorted by app, so an app's processes are adjacent
		 * and the first one starts the group */
		if (s->merge && i > 0) {
			bool started = false;
			for (size_t j = 0; j < i; j++)
				if (procs->v[j].seg &&
				    (!use_picked || procs->v[j].picked) &&
				    strcmp(procs->v[j].app, e->app) == 0)
					started = true;
			if (started)
				continue;
		}
		size_t nm = 0;
		members[nm++] = i;
		if (s->merge)
			for (size_t j = i + 1; j < procs->n; j++)
				if (procs->v[j].seg &&
				    (!use_picked || procs->v[j].picked) &&
				    strcmp(procs->v[j].app, e->app) == 0)
					members[nm++] = j;
		char key[300];
		if (s->merge)
			snprintf(key, sizeof(key), "app:%s", e->app);
		else
			snprintf(key, sizeof(key), "%s", e->path);
		struct top_source *src = NULL;
		for (size_t k = 0; k < s->n; k++)
			if (!s->v[k].seen && strcmp(s->v[k].key, key) == 0) {
				src = &s->v[k];
				if (k != nn)
					s->layout_changed = true;
				break;
			}
		if (src) {
			nv[nn] = *src;
			src->key = NULL; /* moved */
			src->seen = true;
		} else {
			s->layout_changed = true;
			nv[nn].key = strdup(key);
			nv[nn].rates = scales_rates_new(s->tick_ns);
			if (!nv[nn].key || !nv[nn].rates) {
				source_free(&nv[nn]);
				rc = -ENOMEM;
				break;
			}
		}
		struct top_source *d = &nv[nn++];
		d->seen = true;
		set_label(d, procs, members, nm, s->merge);
		rc = source_sample(s, d, procs, members, nm);
	}
	/* sources not seen are gone; seen ones were moved into nv */
	for (size_t k = 0; k < s->n; k++) {
		if (s->v[k].seen)
			continue;
		s->layout_changed = true;
		source_free(&s->v[k]);
	}
	free(s->v);
	s->v = nv;
	s->n = nn;
	free(members);
	return rc;
}

void top_sampler_free(struct top_sampler *s)
{
	for (size_t i = 0; i < s->n; i++)
		source_free(&s->v[i]);
	free(s->v);
	free(s->scratch);
	s->v = NULL;
	s->scratch = NULL;
	s->n = s->scratch_n = 0;
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
	const struct scales_metric *p = top_prev_metric(src, idx);
	if (!p || p->kind != SCALES_KIND_HISTOGRAM)
		return false;
	const struct scales_metric *m = &src->cur->metrics[idx];
	if (m->hist.nbuckets > s->scratch_n) {
		uint64_t *b =
		    realloc(s->scratch, m->hist.nbuckets * sizeof(*b));
		if (!b)
			return false;
		s->scratch = b;
		s->scratch_n = m->hist.nbuckets;
	}
	struct scales_histo d;
	if (scales_histo_delta(&p->hist, &m->hist, s->scratch, &d))
		return false;
	scales_histo_stats(&d, st);
	*secs = src->cur->mono_ns > src->prev->mono_ns ?
	            (double)(src->cur->mono_ns - src->prev->mono_ns) / 1e9 :
	            0;
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
		return (double)m->hist.count;
	default:
		return NAN;
	}
}
