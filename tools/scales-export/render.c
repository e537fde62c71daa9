/* SPDX-License-Identifier: MIT */
/*
 * render.c: the collector's groups to Graphite plaintext lines.
 *
 * The reader library's collector selects, snapshots, groups (by app and
 * owner, or per process with --per-process), merges, and keeps the
 * previous collection for rates, meters and per-interval histograms; here,
 * only names and lines.
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "export.h"

/* Longest group name: prefix (bounded by main) + app + pid + dots. */
#define NAME_MAX_BYTES 4096

/* ------------------------------------------------------------- output */

static bool out_reserve(struct scales_buf *b, size_t n)
{
	if (b->oom)
		return false;
	if (b->len + n + 1 <= b->cap)
		return true;
	size_t cap = b->cap ? b->cap : 65536;
	while (cap < b->len + n + 1)
		cap *= 2;
	char *d = realloc(b->data, cap);
	if (!d) {
		b->oom = true;
		return false;
	}
	b->data = d;
	b->cap = cap;
	return true;
}

struct line_ctx {
	struct scales_buf *out;
	char ts[24];
	size_t tslen;
	size_t points;
	char name[NAME_MAX_BYTES + 512];
	size_t base; /* length of the metric's name in name[] */
};

/* Writes "name[.suffix] value ts\n"; value of length vlen (0: skip). */
static void emit(struct line_ctx *l, const char *suffix, const char *v,
                 size_t vlen)
{
	if (!vlen)
		return;
	size_t sl = suffix ? strlen(suffix) : 0;
	size_t need = l->base + (sl ? sl + 1 : 0) + vlen + l->tslen + 3;
	if (!out_reserve(l->out, need))
		return;
	char *p = l->out->data + l->out->len;
	memcpy(p, l->name, l->base);
	p += l->base;
	if (sl) {
		*p++ = '.';
		memcpy(p, suffix, sl);
		p += sl;
	}
	*p++ = ' ';
	memcpy(p, v, vlen);
	p += vlen;
	*p++ = ' ';
	memcpy(p, l->ts, l->tslen);
	p += l->tslen;
	*p++ = '\n';
	l->out->len = (size_t)(p - l->out->data);
	l->out->data[l->out->len] = 0;
	l->points++;
}

static void emit_u64(struct line_ctx *l, const char *suffix, uint64_t v)
{
	char b[SCALES_FORMAT_INT_LEN];
	emit(l, suffix, b, (size_t)scales_format_u64(b, v));
}

static void emit_i64(struct line_ctx *l, const char *suffix, int64_t v)
{
	char b[SCALES_FORMAT_INT_LEN];
	emit(l, suffix, b, (size_t)scales_format_i64(b, v));
}

static void emit_f64(struct line_ctx *l, const char *suffix, double v)
{
	char b[32];
	emit(l, suffix, b, (size_t)gfmt_double(b, v));
}

/* ------------------------------------------------------------ render */

struct render {
	const struct export_config *c;
	scales_collector *col;
	struct line_ctx *l;
	struct export_render_stats *st;
	size_t ngroups; /* in this collection */
};

/* Per-interval statistics where the collector has a previous collection,
 * else over all time (--once); the all-time count as total_count. */
static void emit_hist(struct render *r, const struct scales_group *g, size_t i)
{
	struct line_ctx *l = r->l;
	const struct scales_metric *m = &g->cur->metrics[i];
	struct scales_histo h;
	double secs;
	int rc = scales_collector_interval(r->col, g, i, &h, &secs);
	if (rc == -ENOMEM) {
		l->out->oom = true;
		return;
	}
	if (rc)
		h = m->side->hist;
	struct scales_hstats s;
	scales_histo_stats(&h, &s);
	emit_u64(l, "count", s.count);
	emit_f64(l, "sum", s.sum);
	emit_f64(l, "min", s.min);
	emit_f64(l, "max", s.max);
	emit_f64(l, "mean", s.mean);
	emit_f64(l, "stddev", s.stddev);
	const char *const *q =
	    r->c->seed_names ? gname_seed_quantiles : gname_quantiles;
	emit_f64(l, q[0], s.p50);
	emit_f64(l, q[1], s.p75);
	emit_f64(l, q[2], s.p95);
	emit_f64(l, q[3], s.p98);
	emit_f64(l, q[4], s.p99);
	emit_f64(l, q[5], s.p999);
	emit_u64(l, "total_count", m->side->hist.count);
}

/* The value, then the collector's rate and meters (none, NaN, before the
 * second collection: not sent). */
static void emit_counter(struct render *r, const struct scales_group *g,
                         size_t i)
{
	struct line_ctx *l = r->l;
	uint64_t total = 0;
	scales_metric_counter(&g->cur->metrics[i], &total);
	emit_u64(l, NULL, total);
	const struct scales_rate *rt = &g->rates[i];
	if (r->c->rates)
		emit_f64(l, "rate", rt->rate);
	if (r->c->meters) {
		emit_f64(l, "m1", rt->m1);
		emit_f64(l, "m5", rt->m5);
		emit_f64(l, "m15", rt->m15);
	}
}

/* Time in state: <path>.~<value>.seconds per value (gname_state(), as
 * the state's own series; "other", the value "", is "~"), and its rate in
 * seconds per second. */
static void emit_times(struct render *r, const struct scales_group *g,
                       const struct scales_metric *m)
{
	struct line_ctx *l = r->l;
	size_t base = l->base;
	for (uint32_t k = 0; k < m->side->ntimes; k++) {
		const char *v = m->side->times[k].value;
		l->name[l->base++] = '.';
		l->base += gname_state(l->name + l->base, v, strnlen(v, 512));
		memcpy(l->name + l->base, ".seconds", 9);
		l->base += 8;
		emit_f64(l, NULL, (double)m->side->times[k].ns / 1e9);
		if (r->c->rates)
			emit_f64(l, "rate",
			         scales_state_time_rate(g->prev, g->cur, m, k));
		l->base = base;
	}
}

static void emit_state(struct render *r, const struct scales_group *g,
                       const struct scales_metric *m)
{
	struct line_ctx *l = r->l;
	size_t base = l->base;
	if (l->base + 2 + 3 * 512 + 5 + 8 > sizeof(l->name))
		return;
	if (m->flags & SCALES_MF_TIMED)
		emit_times(r, g, m);
	if (m->side->states && m->side->nstates) {
		for (uint32_t k = 0; k < m->side->nstates; k++) {
			const char *v = m->side->states[k].value;
			if (!v)
				continue;
			l->name[l->base++] = '.';
			l->base +=
			    gname_state(l->name + l->base, v, strnlen(v, 512));
			emit_u64(l, NULL, m->side->states[k].count);
			l->base = base;
		}
	} else if (m->v.state) {
		l->name[l->base++] = '.';
		l->base += gname_state(l->name + l->base, m->v.state,
		                       strnlen(m->v.state, 512));
		emit_u64(l, NULL, 1);
		l->base = base;
	}
}

/* Group name: prefix + app [+ "@" + uid] [+ "." + pid] + "." into
 * l->name; returns its length. With seed_names and one group (one app,
 * merged), the prefix alone, as the seed's pusher named its one process's
 * stats. */
static size_t group_name(struct render *r, const struct scales_group *g)
{
	char *k = r->l->name;
	const struct scales_snapshot *s = g->cur;
	size_t plen = strlen(r->c->prefix);
	memcpy(k, r->c->prefix, plen);
	if (r->c->seed_names && r->ngroups == 1 && !r->c->per_process) {
		k[plen] = 0;
		return plen;
	}
	size_t w = plen + gname_component(k + plen, g->app,
	                                  strnlen(g->app, sizeof(g->app)));
	/* another user's processes are never merged into ours: their owner
	 * is part of the name (an app name never holds "@") */
	if (!r->c->all_owners && g->uid != (uint32_t)geteuid()) {
		k[w++] = '@';
		w += (size_t)scales_format_u64(k + w, g->uid);
	}
	if (r->c->per_process) {
		k[w++] = '.';
		w += (size_t)scales_format_i64(k + w, s->proc.pid);
	}
	k[w++] = '.';
	k[w] = 0;
	return w;
}

static void render_group(struct render *r, const struct scales_group *g)
{
	struct line_ctx *l = r->l;
	const struct scales_snapshot *ms = g->cur;
	size_t glen = group_name(r, g);
	for (size_t i = 0; i < ms->n && !l->out->oom; i++) {
		const struct scales_metric *m = &ms->metrics[i];
		if (!export_rules_allowed(r->c->rules, m->path))
			continue;
		size_t plen = strlen(m->path);
		if (glen + 4 * plen + 4 > NAME_MAX_BYTES)
			continue;
		const char *slash = strrchr(m->path, '/');
		bool state = (m->flags & SCALES_MF_DERIVED) &&
		             m->agg == SCALES_AGG_STATES;
		bool key = m->flags & SCALES_MF_KEY;
		if ((state || key) && slash && slash != m->path) {
			/* the last component is a value the reader escaped
			 * into a path component (docs/format.md, "Derived
			 * paths"): a state aggregate's state value
			 * (gname_state(), never a child stat) or a dict key
			 * as written (gname_key(), Graphite's escaping) */
			char dir[NAME_MAX_BYTES];
			size_t dl = (size_t)(slash - m->path);
			memcpy(dir, m->path, dl);
			dir[dl] = 0;
			l->base = glen + gname_path(l->name + glen, dir,
			                            r->c->seed_names);
			l->name[l->base++] = '.';
			char val[NAME_MAX_BYTES];
			size_t vl = scales_derived_value(slash + 1, val);
			l->base += state ?
			               gname_state(l->name + l->base, val, vl) :
			               gname_key(l->name + l->base, val, vl,
			                         r->c->seed_names);
		} else {
			l->base = glen + gname_path(l->name + glen, m->path,
			                            r->c->seed_names);
		}
		r->st->metrics++;
		switch (m->kind) {
		case SCALES_KIND_COUNTER:
		case SCALES_KIND_DICT:
			emit_counter(r, g, i);
			break;
		case SCALES_KIND_GAUGE:
			emit_i64(l, NULL, m->v.i64);
			break;
		case SCALES_KIND_GAUGE_F64:
			emit_f64(l, NULL, m->v.f64);
			break;
		case SCALES_KIND_STATE:
			emit_state(r, g, m);
			break;
		case SCALES_KIND_HISTOGRAM:
			emit_hist(r, g, i);
			break;
		default:
			break;
		}
	}
}

unsigned export_collect_flags(const struct export_config *c)
{
	if (c->per_process)
		return 0;
	return SCALES_COLLECT_MERGE |
	       (c->all_owners ? SCALES_COLLECT_ALL_OWNERS : 0);
}

int graphite_render(struct scales_buf *out, scales_collector *col,
                    const struct export_config *c, int64_t ts,
                    struct export_render_stats *st)
{
	struct export_render_stats dummy = { 0 };
	if (!st)
		st = &dummy;
	struct line_ctx *l = calloc(1, sizeof(*l));
	if (!l)
		return -ENOMEM;
	l->out = out;
	l->tslen = (size_t)scales_format_i64(l->ts, ts);
	size_t n;
	const struct scales_group *g = scales_collector_groups(col, &n);
	struct render r = {
		.c = c, .col = col, .l = l, .st = st, .ngroups = n
	};
	for (size_t i = 0; i < n && !out->oom; i++) {
		render_group(&r, &g[i]);
		st->groups++;
		st->processes += g[i].nmembers;
	}
	st->points += l->points;
	free(l);
	return out->oom ? -ENOMEM : 0;
}
