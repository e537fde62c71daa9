/* SPDX-License-Identifier: MIT */
/*
 * rates.c: per-second rates between snapshots and EWMA meters (1, 5 and 15
 * minutes, as the seed's / Coda Hale's meter), keyed by path and entry
 * generation.
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

bool scales_metric_counter(const struct scales_metric *m, uint64_t *value)
{
	switch (m->kind) {
	case SCALES_KIND_COUNTER:
	case SCALES_KIND_DICT:
		*value = m->v.u64;
		return true;
	case SCALES_KIND_HISTOGRAM:
		*value = m->side->hist.count;
		return true;
	default:
		return false;
	}
}

/* ---------------------------------------------------------------- meter */

void scales_meter_init(struct scales_meter *m, uint64_t now_ns,
                       uint64_t tick_ns)
{
	m->m1 = m->m5 = m->m15 = NAN;
	m->uncounted = 0;
	m->last_tick_ns = now_ns;
	m->tick_ns = tick_ns ? tick_ns : SCALES_METER_TICK_NS;
	m->count = 0;
}

static double ewma(double rate, double instant, double alpha)
{
	return isnan(rate) ? instant : rate + alpha * (instant - rate);
}

/* The three alphas of a tick of secs, alpha = 1 - exp(-tick / 60 /
 * minutes): every meter of a collection ticks by the same length, so the
 * last one's are kept (per thread) rather than three exp() per metric. */
static void alphas(double secs, double a[3])
{
	static __thread double last_secs = -1, last[3];
	if (secs != last_secs) {
		last[0] = 1 - exp(-secs / 60.0 / 1.0);
		last[1] = 1 - exp(-secs / 60.0 / 5.0);
		last[2] = 1 - exp(-secs / 60.0 / 15.0);
		last_secs = secs;
	}
	memcpy(a, last, sizeof(last));
}

static void meter_tick(struct scales_meter *m, double secs)
{
	double instant = m->uncounted / secs;
	m->uncounted = 0;
	double a[3];
	alphas(secs, a);
	m->m1 = ewma(m->m1, instant, a[0]);
	m->m5 = ewma(m->m5, instant, a[1]);
	m->m15 = ewma(m->m15, instant, a[2]);
}

void scales_meter_mark(struct scales_meter *m, uint64_t n, uint64_t now_ns)
{
	m->uncounted += (double)n;
	m->count += n;
	if (now_ns <= m->last_tick_ns)
		return;
	if (m->tick_ns == SCALES_METER_EVERY_MARK) {
		meter_tick(m, (double)(now_ns - m->last_tick_ns) / 1e9);
		m->last_tick_ns = now_ns;
		return;
	}
	uint64_t ticks = (now_ns - m->last_tick_ns) / m->tick_ns;
	/* after a long sleep the rates have decayed to nothing: bound the
	 * loop (15 min = 180 ticks of 5 s; e^-12 after 2160) */
	uint64_t run = ticks > 4096 ? 4096 : ticks;
	for (uint64_t i = 0; i < run; i++)
		meter_tick(m, (double)m->tick_ns / 1e9);
	m->last_tick_ns += ticks * m->tick_ns;
}

/* ------------------------------------------------------- snapshot rates */

static bool rate_of(const struct scales_metric *p,
                    const struct scales_metric *c, double secs, double *out)
{
	uint64_t a, b;
	if (p->generation != c->generation || p->kind != c->kind ||
	    !scales_metric_counter(p, &a) || !scales_metric_counter(c, &b) ||
	    b < a || !(secs > 0))
		return false;
	*out = (double)(b - a) / secs;
	return true;
}

void scales_snapshot_rates(const struct scales_snapshot *prev,
                           const struct scales_snapshot *cur, double *out)
{
	double secs = cur->mono_ns > prev->mono_ns ?
	                  (double)(cur->mono_ns - prev->mono_ns) / 1e9 :
	                  0;
	size_t j = 0;
	for (size_t i = 0; i < cur->n; i++) {
		const struct scales_metric *c = &cur->metrics[i];
		out[i] = NAN;
		/* both sorted by path: walk prev along */
		while (j < prev->n &&
		       strcmp(prev->metrics[j].path, c->path) < 0)
			j++;
		if (j < prev->n && strcmp(prev->metrics[j].path, c->path) == 0)
			rate_of(&prev->metrics[j], c, secs, &out[i]);
	}
}

double scales_state_time_rate(const struct scales_snapshot *prev,
                              const struct scales_snapshot *cur,
                              const struct scales_metric *m, uint32_t k)
{
	if (!prev || !cur || !m || k >= m->side->ntimes ||
	    cur->mono_ns <= prev->mono_ns)
		return NAN;
	const struct scales_metric *p = scales_snapshot_find(prev, m->path);
	if (!p || !(p->flags & SCALES_MF_TIMED) ||
	    p->generation != m->generation)
		return NAN;
	uint64_t before = 0; /* a value new since prev */
	for (uint32_t i = 0; i < p->side->ntimes; i++)
		if (strcmp(p->side->times[i].value, m->side->times[k].value) ==
		    0)
			before = p->side->times[i].ns;
	if (m->side->times[k].ns < before)
		return NAN;
	return (double)(m->side->times[k].ns - before) /
	       (double)(cur->mono_ns - prev->mono_ns);
}

/* -------------------------------------------------------------- tracker */

struct track {
	const char *path; /* in the tracker's string block */
	uint32_t generation;
	uint16_t kind;
	uint64_t value;
	struct scales_meter meter;
};

struct scales_rates {
	uint64_t tick_ns;
	uint64_t mono_ns; /* of the previous snapshot; 0 = none */
	struct track *t;
	size_t n;
	char *strs;
};

scales_rates *scales_rates_new(uint64_t tick_ns)
{
	scales_rates *r = calloc(1, sizeof(*r));
	if (r)
		r->tick_ns = tick_ns ? tick_ns : SCALES_METER_TICK_NS;
	return r;
}

void scales_rates_free(scales_rates **r)
{
	if (!r || !*r)
		return;
	free((*r)->t);
	free((*r)->strs);
	free(*r);
	*r = NULL;
}

static void rate_none(struct scales_rate *o)
{
	o->rate = o->m1 = o->m5 = o->m15 = NAN;
}

/* Tracks metric m (value v) in nt from its old track (NULL: none; nt
 * itself when kept in place) and fills o. */
static void track_step(const scales_rates *r, struct track *nt,
                       const struct track *old, const struct scales_metric *m,
                       uint64_t v, uint64_t now_ns, double secs,
                       struct scales_rate *o)
{
	if (old && old->generation == m->generation && old->kind == m->kind &&
	    v >= old->value) {
		uint64_t d = v - old->value;
		if (nt != old)
			nt->meter = old->meter;
		scales_meter_mark(&nt->meter, d, now_ns);
		if (secs > 0)
			o->rate = (double)d / secs;
		o->m1 = nt->meter.m1;
		o->m5 = nt->meter.m5;
		o->m15 = nt->meter.m15;
	} else {
		/* new path, reused slot or reset: start over */
		scales_meter_init(&nt->meter, now_ns, r->tick_ns);
	}
	nt->generation = m->generation;
	nt->kind = m->kind;
	nt->value = v;
}

/* True if snap's counter-like metrics have, in order, the tracks' paths
 * (a process whose stats did not change since the last update): the
 * tracks are then kept in place, no path copied, nothing allocated. */
static bool same_paths(const scales_rates *r,
                       const struct scales_snapshot *snap)
{
	size_t j = 0;
	for (size_t i = 0; i < snap->n; i++) {
		uint64_t v;
		if (!scales_metric_counter(&snap->metrics[i], &v))
			continue;
		if (j == r->n || strcmp(r->t[j].path, snap->metrics[i].path))
			return false;
		j++;
	}
	return j == r->n;
}

int scales_rates_update(scales_rates *r, const struct scales_snapshot *snap,
                        struct scales_rate *out)
{
	double secs = r->mono_ns && snap->mono_ns > r->mono_ns ?
	                  (double)(snap->mono_ns - r->mono_ns) / 1e9 :
	                  0;
	if (r->n && same_paths(r, snap)) {
		size_t j = 0;
		for (size_t i = 0; i < snap->n; i++) {
			const struct scales_metric *m = &snap->metrics[i];
			struct scales_rate o;
			rate_none(&o);
			uint64_t v;
			if (scales_metric_counter(m, &v)) {
				struct track *t = &r->t[j++];
				track_step(r, t, t, m, v, snap->mono_ns, secs,
				           &o);
			}
			if (out)
				out[i] = o;
		}
		r->mono_ns = snap->mono_ns;
		return 0;
	}
	/* the new tracks: counter-like metrics of snap, sorted by path */
	size_t n = 0, bytes = 0;
	for (size_t i = 0; i < snap->n; i++) {
		uint64_t v;
		if (scales_metric_counter(&snap->metrics[i], &v)) {
			n++;
			bytes += strlen(snap->metrics[i].path) + 1;
		}
	}
	struct track *t = malloc((n ? n : 1) * sizeof(*t));
	char *strs = malloc(bytes ? bytes : 1);
	if (!t || !strs) {
		free(t);
		free(strs);
		return -ENOMEM;
	}
	size_t w = 0, j = 0;
	char *sp = strs;
	for (size_t i = 0; i < snap->n; i++) {
		const struct scales_metric *m = &snap->metrics[i];
		struct scales_rate o;
		rate_none(&o);
		uint64_t v;
		if (!scales_metric_counter(m, &v)) {
			if (out)
				out[i] = o;
			continue;
		}
		/* both sorted by path: walk the tracks along, one strcmp()
		 * per metric when the paths are those of the last update */
		int c = 1;
		while (j < r->n && (c = strcmp(r->t[j].path, m->path)) < 0)
			j++;
		const struct track *old = j < r->n && c == 0 ? &r->t[j] : NULL;
		struct track *nt = &t[w++];
		size_t pl = strlen(m->path) + 1;
		memcpy(sp, m->path, pl);
		nt->path = sp;
		sp += pl;
		track_step(r, nt, old, m, v, snap->mono_ns, secs, &o);
		if (out)
			out[i] = o;
	}
	free(r->t);
	free(r->strs);
	r->t = t;
	r->n = w;
	r->strs = strs;
	r->mono_ns = snap->mono_ns;
	return 0;
}
