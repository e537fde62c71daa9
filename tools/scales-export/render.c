/* SPDX-License-Identifier: MIT */
/*
 * render.c: snapshots to Graphite plaintext lines.
 *
 * Processes are grouped by their Graphite group name (prefix + app, plus
 * the pid with --per-process), so two apps whose names sanitise alike are
 * one group: one series per name. A group of several processes is merged
 * with scales_snapshot_merge(). Metrics are walked in path order; the
 * members' snapshots (and, in the stateful exporter, their previous
 * snapshots and the previous meters) are walked alongside with cursors, so
 * a render is linear in the number of metrics.
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

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
	char b[32];
	emit(l, suffix, b, (size_t)gfmt_u64(b, v));
}

static void emit_i64(struct line_ctx *l, const char *suffix, int64_t v)
{
	char b[32];
	emit(l, suffix, b, (size_t)gfmt_i64(b, v));
}

static void emit_f64(struct line_ctx *l, const char *suffix, double v)
{
	char b[32];
	emit(l, suffix, b, (size_t)gfmt_double(b, v));
}

/* ---------------------------------------------------------- the state */

/* The meters of one series, kept from one render to the next. */
struct meter {
	const char *gkey; /* group name, owned by the exporter's group list */
	const char *path; /* owned by a kept member snapshot */
	double m1, m5, m15;
};

struct member {
	struct scales_snapshot *s;          /* owned (stateful) or borrowed */
	const struct scales_snapshot *prev; /* same process, previous call */
	char *gkey;                         /* group name, with final "." */
	size_t cur, pcur;                   /* cursors in s and prev */
};

struct exporter {
	struct export_config c;
	bool have_prev; /* a previous call set the baseline */
	uint64_t prev_mono;
	/* the previous call's snapshots, sorted by segment path */
	struct scales_snapshot **prev;
	size_t nprev;
	/* the previous call's group keys (the meters point into them) */
	char **gkeys;
	size_t ngkeys;
	struct meter *meters; /* sorted by (gkey, path) */
	size_t nmeters;
};

static uint64_t mono_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static int seg_cmp(const struct scales_snapshot *a,
                   const struct scales_snapshot *b)
{
	const char *x = a->segment_path ? a->segment_path : "";
	const char *y = b->segment_path ? b->segment_path : "";
	int c = strcmp(x, y);
	if (c)
		return c;
	if (a->proc.start_time != b->proc.start_time)
		return a->proc.start_time < b->proc.start_time ? -1 : 1;
	return (a->proc.pid > b->proc.pid) - (a->proc.pid < b->proc.pid);
}

static int snap_pcmp(const void *a, const void *b)
{
	return seg_cmp(*(struct scales_snapshot *const *)a,
	               *(struct scales_snapshot *const *)b);
}

/* The previous snapshot of the same process (segment, start, pid). */
static const struct scales_snapshot *find_prev(const exporter *e,
                                               const struct scales_snapshot *s)
{
	size_t lo = 0, hi = e ? e->nprev : 0;
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		int c = seg_cmp(e->prev[mid], s);
		if (c == 0)
			return e->prev[mid];
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

/* Advances *i in s to path; returns the metric or NULL. */
static const struct scales_metric *seek(const struct scales_snapshot *s,
                                        size_t *i, const char *path)
{
	if (!s)
		return NULL;
	while (*i < s->n && strcmp(s->metrics[*i].path, path) < 0)
		(*i)++;
	if (*i < s->n && strcmp(s->metrics[*i].path, path) == 0)
		return &s->metrics[*i];
	return NULL;
}

static int member_cmp(const void *a, const void *b)
{
	const struct member *x = a, *y = b;
	int c = strcmp(x->gkey, y->gkey);
	return c ? c : seg_cmp(x->s, y->s);
}

static int meter_key_cmp(const char *g1, const char *p1, const char *g2,
                         const char *p2)
{
	int c = strcmp(g1, g2);
	return c ? c : strcmp(p1, p2);
}

/* ------------------------------------------------------------ render */

struct render {
	const struct export_config *c;
	exporter *e; /* NULL: stateless */
	struct line_ctx *l;
	double elapsed; /* seconds since the previous call; 0: none */
	/* histogram scratch */
	uint64_t *acc, *tmp;
	size_t acccap, tmpcap;
	/* meters: the previous ones (cursor) and the new ones */
	size_t mcur;
	struct meter *nm;
	size_t nnm, nmcap;
	struct export_render_stats *st;
};

static bool grow_u64(uint64_t **v, size_t *cap, size_t n)
{
	if (n <= *cap)
		return true;
	uint64_t *p = realloc(*v, n * sizeof(*p));
	if (!p)
		return false;
	*v = p;
	*cap = n;
	return true;
}

static void emit_hist(struct render *r, struct member *mem, size_t nmem,
                      const struct scales_metric *m)
{
	struct line_ctx *l = r->l;
	struct scales_histo h = m->hist;
	if (r->e && r->e->have_prev) {
		/* per-interval: each member's values since its previous
		 * snapshot, summed into the merged metric's layout */
		if (!grow_u64(&r->acc, &r->acccap, m->hist.nbuckets + 1)) {
			l->out->oom = true;
			return;
		}
		memset(r->acc, 0, (m->hist.nbuckets + 1) * sizeof(*r->acc));
		h.count = h.sum = h.min = h.max = 0;
		h.sum_hi = 0;
		h.buckets = r->acc;
		for (size_t j = 0; j < nmem; j++) {
			const struct scales_metric *cm =
			    nmem == 1 ? m :
			                seek(mem[j].s, &mem[j].cur, m->path);
			if (!cm || cm->kind != SCALES_KIND_HISTOGRAM)
				continue;
			const struct scales_metric *pm =
			    seek(mem[j].prev, &mem[j].pcur, m->path);
			if (pm && (pm->kind != SCALES_KIND_HISTOGRAM ||
			           pm->generation != cm->generation))
				pm = NULL;
			if (!grow_u64(&r->tmp, &r->tmpcap,
			              cm->hist.nbuckets + 1)) {
				l->out->oom = true;
				return;
			}
			struct scales_histo d;
			export_hist_interval(pm ? &pm->hist : NULL, &cm->hist,
			                     r->tmp, &d);
			export_hist_add(&h, r->acc, &d);
		}
	}
	struct scales_hstats s;
	scales_histo_stats(&h, &s);
	emit_u64(l, "count", s.count);
	emit_f64(l, "sum", s.sum);
	emit_f64(l, "min", s.min);
	emit_f64(l, "max", s.max);
	emit_f64(l, "mean", s.mean);
	emit_f64(l, "stddev", s.stddev);
	emit_f64(l, "p50", s.p50);
	emit_f64(l, "p75", s.p75);
	emit_f64(l, "p95", s.p95);
	emit_f64(l, "p98", s.p98);
	emit_f64(l, "p99", s.p99);
	emit_f64(l, "p999", s.p999);
	emit_u64(l, "total_count", m->hist.count);
}

/* EWMA over an interval of dt seconds at a constant rate: the seed's meter
 * (5 s ticks) with the interval's events spread evenly over it. */
static double ewma(double old, double rate, double dt, double minutes,
                   bool first)
{
	if (first || !isfinite(old))
		return rate;
	return old + (1.0 - exp(-dt / (60.0 * minutes))) * (rate - old);
}

static void emit_counter(struct render *r, struct member *mem, size_t nmem,
                         const char *gkey, const struct scales_metric *m)
{
	struct line_ctx *l = r->l;
	uint64_t total = 0;
	scales_metric_counter(m, &total);
	emit_u64(l, NULL, total);
	if (!r->e || !r->e->have_prev || r->elapsed <= 0 ||
	    !(r->c->rates || r->c->meters))
		return;
	/* events since the previous call: per member, against the same
	 * entry (path and generation); a new entry or process counts from
	 * zero, a counter that went down (reset) from zero too */
	uint64_t delta = 0;
	const char *kept_path = NULL;
	for (size_t j = 0; j < nmem; j++) {
		const struct scales_metric *cm =
		    nmem == 1 ? m : seek(mem[j].s, &mem[j].cur, m->path);
		uint64_t cv, pv;
		if (!cm || !scales_metric_counter(cm, &cv))
			continue;
		if (!kept_path)
			kept_path = cm->path;
		const struct scales_metric *pm =
		    seek(mem[j].prev, &mem[j].pcur, m->path);
		if (pm && pm->generation == cm->generation &&
		    scales_metric_counter(pm, &pv) && pv <= cv)
			delta += cv - pv;
		else
			delta += cv;
	}
	double rate = (double)delta / r->elapsed;
	if (r->c->rates)
		emit_f64(l, "rate", rate);
	if (!r->c->meters || !kept_path)
		return;
	exporter *e = r->e;
	const struct meter *old = NULL;
	while (r->mcur < e->nmeters &&
	       meter_key_cmp(e->meters[r->mcur].gkey, e->meters[r->mcur].path,
	                     gkey, m->path) < 0)
		r->mcur++;
	if (r->mcur < e->nmeters &&
	    meter_key_cmp(e->meters[r->mcur].gkey, e->meters[r->mcur].path,
	                  gkey, m->path) == 0)
		old = &e->meters[r->mcur];
	if (r->nnm == r->nmcap) {
		size_t cap = r->nmcap ? 2 * r->nmcap : 1024;
		struct meter *v = realloc(r->nm, cap * sizeof(*v));
		if (!v) {
			l->out->oom = true;
			return;
		}
		r->nm = v;
		r->nmcap = cap;
	}
	struct meter *nm = &r->nm[r->nnm++];
	nm->gkey = gkey;
	nm->path = kept_path;
	nm->m1 = ewma(old ? old->m1 : NAN, rate, r->elapsed, 1, !old);
	nm->m5 = ewma(old ? old->m5 : NAN, rate, r->elapsed, 5, !old);
	nm->m15 = ewma(old ? old->m15 : NAN, rate, r->elapsed, 15, !old);
	emit_f64(l, "m1", nm->m1);
	emit_f64(l, "m5", nm->m5);
	emit_f64(l, "m15", nm->m15);
}

static void emit_state(struct render *r, const struct scales_metric *m)
{
	struct line_ctx *l = r->l;
	size_t base = l->base;
	if (l->base + 2 + 3 * 512 + 5 > sizeof(l->name))
		return;
	if (m->states && m->nstates) {
		for (uint32_t k = 0; k < m->nstates; k++) {
			const char *v = m->states[k].value;
			if (!v)
				continue;
			l->name[l->base++] = '.';
			l->base +=
			    gname_state(l->name + l->base, v, strnlen(v, 512));
			emit_u64(l, NULL, m->states[k].count);
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

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Decodes a derived path component ("%XX" -> the byte; "%" alone: the
 * empty value) into out (strlen(in) bytes at most); returns the length. */
static size_t unescape(char *out, const char *in)
{
	size_t w = 0;
	for (const char *p = in; *p;) {
		int hi, lo;
		if (p[0] == '%' && (hi = hexval(p[1])) >= 0 &&
		    (lo = hexval(p[2])) >= 0) {
			out[w++] = (char)(hi << 4 | lo);
			p += 3;
		} else if (p[0] == '%' && !p[1] && p == in) {
			p++;
		} else {
			out[w++] = *p++;
		}
	}
	return w;
}

static void render_group(struct render *r, struct member *mem, size_t nmem,
                         const struct scales_snapshot *ms)
{
	struct line_ctx *l = r->l;
	const char *gkey = mem[0].gkey;
	size_t glen = strlen(gkey);
	memcpy(l->name, gkey, glen);
	for (size_t j = 0; j < nmem; j++)
		mem[j].cur = mem[j].pcur = 0;
	for (size_t i = 0; i < ms->n && !l->out->oom; i++) {
		const struct scales_metric *m = &ms->metrics[i];
		if (!export_rules_allowed(r->c->rules, m->path))
			continue;
		size_t plen = strlen(m->path);
		if (glen + 4 * plen + 4 > NAME_MAX_BYTES)
			continue;
		const char *slash = strrchr(m->path, '/');
		if ((m->flags & SCALES_MF_DERIVED) &&
		    m->agg == SCALES_AGG_STATES && slash && slash != m->path) {
			/* a state aggregate's count of children in one state:
			 * the last component is a state value, named as such
			 * (gname_state()), never as a child stat */
			char dir[NAME_MAX_BYTES];
			size_t dl = (size_t)(slash - m->path);
			memcpy(dir, m->path, dl);
			dir[dl] = 0;
			l->base = glen + gname_path(l->name + glen, dir);
			l->name[l->base++] = '.';
			/* the reader escaped the value into a path component
			 * (docs/format.md, "Derived paths"): name the value */
			char val[NAME_MAX_BYTES];
			size_t vl = unescape(val, slash + 1);
			l->base += gname_state(l->name + l->base, val, vl);
		} else {
			l->base = glen + gname_path(l->name + glen, m->path);
		}
		r->st->metrics++;
		switch (m->kind) {
		case SCALES_KIND_COUNTER:
		case SCALES_KIND_DICT:
			emit_counter(r, mem, nmem, gkey, m);
			break;
		case SCALES_KIND_GAUGE:
			emit_i64(l, NULL, m->v.i64);
			break;
		case SCALES_KIND_GAUGE_F64:
			emit_f64(l, NULL, m->v.f64);
			break;
		case SCALES_KIND_STATE:
			emit_state(r, m);
			break;
		case SCALES_KIND_HISTOGRAM:
			emit_hist(r, mem, nmem, m);
			break;
		default:
			break;
		}
	}
}

/* Group key: prefix + app [+ "." + pid] + "." */
static char *make_gkey(const struct export_config *c,
                       const struct scales_snapshot *s)
{
	size_t plen = strlen(c->prefix);
	size_t alen = strnlen(s->proc.app, sizeof(s->proc.app));
	char *k = malloc(plen + 3 * alen + 32);
	if (!k)
		return NULL;
	memcpy(k, c->prefix, plen);
	size_t w = plen + gname_component(k + plen, s->proc.app, alen);
	if (c->per_process) {
		k[w++] = '.';
		w += (size_t)gfmt_i64(k + w, s->proc.pid);
	}
	k[w++] = '.';
	k[w] = 0;
	return k;
}

/*
 * The renderer shared by graphite_render() and exporter_render(). snaps
 * are borrowed. On success, if e, the group keys are handed to e (its
 * meters point into them) through *gkeys_out.
 */
static int render_all(exporter *e, const struct export_config *c,
                      struct scales_buf *out,
                      const struct scales_snapshot *const *snaps, size_t n,
                      int64_t ts, struct export_render_stats *st,
                      double elapsed, char ***gkeys_out, size_t *ngkeys_out)
{
	struct export_render_stats dummy = { 0 };
	if (!st)
		st = &dummy;
	int rc = -ENOMEM;
	struct line_ctx *l = calloc(1, sizeof(*l));
	struct member *mem = calloc(n ? n : 1, sizeof(*mem));
	char **gkeys = calloc(n ? n : 1, sizeof(*gkeys));
	size_t ngkeys = 0;
	struct render r = {
		.c = c, .e = e, .l = l, .elapsed = elapsed, .st = st
	};
	if (!l || !mem || !gkeys)
		goto out;
	l->out = out;
	l->tslen = (size_t)gfmt_i64(l->ts, ts);
	for (size_t i = 0; i < n; i++) {
		mem[i].s = (struct scales_snapshot *)snaps[i];
		mem[i].prev = find_prev(e, snaps[i]);
		mem[i].gkey = make_gkey(c, snaps[i]);
		if (!mem[i].gkey)
			goto out;
	}
	qsort(mem, n, sizeof(*mem), member_cmp);
	const struct scales_snapshot **group =
	    calloc(n ? n : 1, sizeof(*group));
	if (!group)
		goto out;
	for (size_t i = 0; i < n && !out->oom;) {
		size_t j = i + 1;
		while (j < n && strcmp(mem[j].gkey, mem[i].gkey) == 0)
			j++;
		struct scales_snapshot *merged = NULL;
		const struct scales_snapshot *ms = mem[i].s;
		if (j - i > 1) {
			for (size_t k = i; k < j; k++)
				group[k - i] = mem[k].s;
			if (scales_snapshot_merge(group, j - i, &merged)) {
				out->oom = true;
				break;
			}
			ms = merged;
		}
		render_group(&r, mem + i, j - i, ms);
		scales_snapshot_free(&merged);
		/* the group key lives on (meters point into it) */
		gkeys[ngkeys++] = mem[i].gkey;
		for (size_t k = i + 1; k < j; k++) {
			free(mem[k].gkey);
			mem[k].gkey = NULL;
		}
		mem[i].gkey = NULL;
		st->groups++;
		i = j;
	}
	free(group);
	st->processes += n;
	st->points += l->points;
	rc = out->oom ? -ENOMEM : 0;
out:
	if (mem)
		for (size_t i = 0; i < n; i++)
			free(mem[i].gkey);
	free(mem);
	free(l);
	free(r.acc);
	free(r.tmp);
	if (rc == 0 && e) {
		/* the new meters replace the old ones */
		free(e->meters);
		e->meters = r.nm;
		e->nmeters = r.nnm;
		r.nm = NULL;
		*gkeys_out = gkeys;
		*ngkeys_out = ngkeys;
		gkeys = NULL;
		ngkeys = 0;
	}
	free(r.nm);
	if (gkeys)
		for (size_t i = 0; i < ngkeys; i++)
			free(gkeys[i]);
	free(gkeys);
	return rc;
}

int graphite_render(struct scales_buf *out,
                    const struct scales_snapshot *const *snaps, size_t n,
                    const struct export_config *c, int64_t ts,
                    struct export_render_stats *st)
{
	return render_all(NULL, c, out, snaps, n, ts, st, 0, NULL, NULL);
}

/* --------------------------------------------------------- exporter */

exporter *exporter_new(const struct export_config *c)
{
	exporter *e = calloc(1, sizeof(*e));
	if (e)
		e->c = *c;
	return e;
}

static void free_prev(exporter *e)
{
	for (size_t i = 0; i < e->nprev; i++)
		scales_snapshot_free(&e->prev[i]);
	free(e->prev);
	e->prev = NULL;
	e->nprev = 0;
}

static void free_gkeys(char **g, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(g[i]);
	free(g);
}

void exporter_free(exporter **ep)
{
	exporter *e = *ep;
	if (!e)
		return;
	free_prev(e);
	free_gkeys(e->gkeys, e->ngkeys);
	free(e->meters);
	free(e);
	*ep = NULL;
}

/* Keeps snaps as the previous call's (takes ownership). */
static int keep(exporter *e, struct scales_snapshot **snaps, size_t n)
{
	struct scales_snapshot **v = malloc((n ? n : 1) * sizeof(*v));
	if (!v)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		v[i] = snaps[i];
		snaps[i] = NULL;
	}
	qsort(v, n, sizeof(*v), snap_pcmp);
	free_prev(e);
	e->prev = v;
	e->nprev = n;
	e->have_prev = true;
	e->prev_mono = mono_now();
	return 0;
}

int exporter_baseline(exporter *e, struct scales_snapshot **snaps, size_t n)
{
	/* meters restart from the baseline */
	free(e->meters);
	e->meters = NULL;
	e->nmeters = 0;
	free_gkeys(e->gkeys, e->ngkeys);
	e->gkeys = NULL;
	e->ngkeys = 0;
	return keep(e, snaps, n);
}

int exporter_render(exporter *e, struct scales_buf *out,
                    struct scales_snapshot **snaps, size_t n, int64_t ts,
                    struct export_render_stats *st)
{
	uint64_t now = mono_now();
	double elapsed = e->have_prev && now > e->prev_mono ?
	                     (double)(now - e->prev_mono) * 1e-9 :
	                     0;
	char **gkeys = NULL;
	size_t ngkeys = 0;
	int rc = render_all(e, &e->c, out,
	                    (const struct scales_snapshot *const *)snaps, n, ts,
	                    st, elapsed, &gkeys, &ngkeys);
	if (rc) {
		/* keep the state; the snapshots are freed */
		for (size_t i = 0; i < n; i++)
			scales_snapshot_free(&snaps[i]);
		return rc;
	}
	/* the old meters pointed into the old keys and snapshots: both are
	 * replaced now, and the new meters into the new ones */
	free_gkeys(e->gkeys, e->ngkeys);
	e->gkeys = gkeys;
	e->ngkeys = ngkeys;
	rc = keep(e, snaps, n);
	e->prev_mono = now;
	return rc;
}
