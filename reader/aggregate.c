/* SPDX-License-Identifier: MIT */
/*
 * aggregate.c: the aggregates declared in a segment, computed by readers
 * from a snapshot: sums over the children's stat (numbers, dicts key by key,
 * histograms bucket-wise), counts of children per state value, and the
 * totals of dict stats.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

/* A growable list of new metrics. */
struct mlist {
	struct scales_metric *m;
	size_t n, cap;
};

static struct scales_metric *mlist_push(struct mlist *l)
{
	if (l->n == l->cap) {
		size_t nc = l->cap ? l->cap * 2 : 32;
		void *p = realloc(l->m, nc * sizeof(*l->m));
		if (!p)
			return NULL;
		l->m = p;
		l->cap = nc;
	}
	struct scales_metric *m = &l->m[l->n++];
	memset(m, 0, sizeof(*m));
	m->side = &scales_no_side;
	return m;
}

/* Index of the first metric whose path is >= key. */
static size_t lower_bound(const struct scales_snapshot *s, const char *key)
{
	size_t lo = 0, hi = s->n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (strcmp(s->metrics[mid].path, key) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/*
 * Calls fn for every metric at prefix + <one component> + suffix (suffix
 * NULL: prefix + <one component>, nothing after). prefix ends with "/".
 */
typedef int (*visit_f)(void *arg, struct scales_metric *m, const char *comp,
                       size_t complen);

static int for_children(struct scales_snapshot *s, const char *prefix,
                        const char *suffix, visit_f fn, void *arg)
{
	size_t plen = strlen(prefix);
	for (size_t i = lower_bound(s, prefix); i < s->n; i++) {
		struct scales_metric *m = &s->metrics[i];
		if (strncmp(m->path, prefix, plen) != 0)
			break;
		const char *rest = m->path + plen;
		const char *slash = strchr(rest, '/');
		if (suffix) {
			if (!slash || slash == rest ||
			    strcmp(slash + 1, suffix))
				continue;
		} else if (slash || !*rest) {
			continue;
		}
		size_t cl = slash ? (size_t)(slash - rest) : strlen(rest);
		int rc = fn(arg, m, rest, cl);
		if (rc)
			return rc;
	}
	return 0;
}

/* Is there a declaration like d (same kind, same child stat) whose
 * scope is the len bytes at scope ("/a/b/": declared at /a/b/<name>)? */
static bool declares_same(const struct scales_snapshot *s,
                          const struct r_decl *d, const char *scope, size_t len)
{
	const struct scales_snapshot_priv *p = s->priv;
	for (size_t i = 0; i < p->ndecls; i++) {
		const struct r_decl *o = &p->decls[i];
		const char *slash = strrchr(o->path, '/');
		if (o->agg == d->agg && (size_t)(slash - o->path) + 1 == len &&
		    memcmp(o->path, scope, len) == 0 &&
		    strcmp(o->child, d->child) == 0)
			return true;
	}
	return false;
}

/*
 * The seed's rule (docs/format.md, section 6.2): calls fn for every
 * metric at prefix + <scope> + "/" + d->child, <scope> one or more
 * components, unless a scope strictly between prefix and <scope> declares
 * the same aggregate (that nearer one collects it) or <scope> is itself a
 * metric (a dict's key, not a scope's stat).
 */
static int for_descendants(struct scales_snapshot *s, const char *prefix,
                           const struct r_decl *d, visit_f fn, void *arg)
{
	size_t plen = strlen(prefix), clen = strlen(d->child);
	for (size_t i = lower_bound(s, prefix); i < s->n; i++) {
		struct scales_metric *m = &s->metrics[i];
		if (strncmp(m->path, prefix, plen) != 0)
			break;
		size_t n = strlen(m->path);
		if (n < plen + clen + 2 || m->path[n - clen - 1] != '/' ||
		    strcmp(m->path + n - clen, d->child) != 0)
			continue;
		size_t slen = n - clen - 1; /* bytes of prefix + <scope> */
		bool nearer = false;
		for (size_t k = plen; k < slen && !nearer; k++)
			if (m->path[k] == '/')
				nearer = declares_same(s, d, m->path, k + 1);
		if (nearer)
			continue;
		char *scope = r_arena_strndup(&s->priv->arena, m->path, slen);
		if (!scope)
			return -ENOMEM;
		size_t at = lower_bound(s, scope);
		if (at < s->n && strcmp(s->metrics[at].path, scope) == 0)
			continue;
		int rc = fn(arg, m, m->path + plen, slen - plen);
		if (rc)
			return rc;
	}
	return 0;
}

/* Merges the new metrics into s (sorted); an existing path wins. */
static int merge_new(struct scales_snapshot *s, struct mlist *l)
{
	if (!l->n)
		return 0;
	qsort(l->m, l->n, sizeof(*l->m), r_metric_cmp);
	size_t total = s->n + l->n;
	struct scales_metric *out = malloc(total * sizeof(*out));
	if (!out)
		return -ENOMEM;
	size_t i = 0, j = 0, w = 0;
	while (i < s->n || j < l->n) {
		if (j < l->n && w &&
		    strcmp(out[w - 1].path, l->m[j].path) == 0) {
			j++; /* collision: drop the derived one */
			continue;
		}
		int c = i == s->n ? 1 :
		        j == l->n ? -1 :
		                    strcmp(s->metrics[i].path, l->m[j].path);
		if (c <= 0)
			out[w++] = s->metrics[i++];
		else
			out[w++] = l->m[j++];
	}
	free(s->metrics);
	s->metrics = out;
	s->n = w;
	s->priv->cap = total;
	l->n = 0;
	return 0;
}

/* "/a/b/c" -> "/a/b/" (a new arena string); "/x" -> "/". */
static char *parent_prefix(struct r_arena *a, const char *path)
{
	const char *slash = strrchr(path, '/');
	return r_arena_strndup(a, path, (size_t)(slash - path) + 1);
}

static char *join(struct r_arena *a, const char *path, const char *comp,
                  size_t clen)
{
	size_t pl = strlen(path);
	char *p = r_arena_alloc(a, pl + 1 + clen + 1);
	if (p) {
		memcpy(p, path, pl);
		p[pl] = '/';
		memcpy(p + pl + 1, comp, clen);
		p[pl + 1 + clen] = 0;
	}
	return p;
}

/* ------------------------------------------------------------ dict totals */

struct sum_u64 {
	uint64_t sum;
};

static int add_key(void *arg, struct scales_metric *m, const char *c, size_t cl)
{
	(void)c;
	(void)cl;
	struct sum_u64 *t = arg;
	if (m->kind == SCALES_KIND_COUNTER)
		t->sum += m->v.u64;
	else if (m->kind == SCALES_KIND_GAUGE)
		t->sum += (uint64_t)m->v.i64;
	else
		return 0;
	m->flags |= SCALES_MF_KEY; /* its name is an escaped key */
	return 0;
}

static int dict_totals(struct scales_snapshot *s)
{
	if (s->priv->no_dicts)
		return 0;
	for (size_t i = 0; i < s->n; i++) {
		struct scales_metric *m = &s->metrics[i];
		if (m->kind != SCALES_KIND_DICT || m->agg != SCALES_AGG_NONE)
			continue;
		char *prefix = join(&s->priv->arena, m->path, "", 0);
		if (!prefix)
			return -ENOMEM;
		struct sum_u64 t = { 0 };
		for_children(s, prefix, NULL, add_key, &t);
		m = &s->metrics[i];
		m->v.u64 = t.sum;
	}
	return 0;
}

/* ----------------------------------------------------------------- sums */

struct keyval {
	const char *key;
	size_t klen;
	uint64_t v;
	bool counter;
};

struct sum_ctx {
	struct scales_snapshot *s;
	struct scales_metric **kids;
	size_t nkids, capkids;
	struct keyval *kv;
	size_t nkv, capkv;
};

static int collect_kid(void *arg, struct scales_metric *m, const char *c,
                       size_t cl)
{
	(void)c;
	(void)cl;
	struct sum_ctx *x = arg;
	if (x->nkids == x->capkids) {
		size_t nc = x->capkids ? x->capkids * 2 : 16;
		void *p = realloc(x->kids, nc * sizeof(*x->kids));
		if (!p)
			return -ENOMEM;
		x->kids = p;
		x->capkids = nc;
	}
	x->kids[x->nkids++] = m;
	return 0;
}

static int collect_key(void *arg, struct scales_metric *m, const char *c,
                       size_t cl)
{
	struct sum_ctx *x = arg;
	if (m->kind != SCALES_KIND_COUNTER && m->kind != SCALES_KIND_GAUGE)
		return 0;
	if (x->nkv == x->capkv) {
		size_t nc = x->capkv ? x->capkv * 2 : 16;
		void *p = realloc(x->kv, nc * sizeof(*x->kv));
		if (!p)
			return -ENOMEM;
		x->kv = p;
		x->capkv = nc;
	}
	struct keyval *k = &x->kv[x->nkv++];
	k->key = c;
	k->klen = cl;
	k->counter = m->kind == SCALES_KIND_COUNTER;
	k->v = k->counter ? m->v.u64 : (uint64_t)m->v.i64;
	return 0;
}

static int kv_cmp(const void *a, const void *b)
{
	const struct keyval *x = a, *y = b;
	size_t n = x->klen < y->klen ? x->klen : y->klen;
	int c = memcmp(x->key, y->key, n);
	if (c)
		return c;
	return x->klen < y->klen ? -1 : x->klen > y->klen;
}

/* The keys of the dicts among x's kids, summed key by key: one derived
 * metric per key (a counter if every dict's is one) pushed to nw, and
 * their total in *total. Returns 0 or -ENOMEM. */
static int sum_dicts(struct scales_snapshot *s, const struct r_decl *d,
                     struct sum_ctx *x, uint16_t unit, struct mlist *nw,
                     uint64_t *total)
{
	struct r_arena *a = &s->priv->arena;
	for (size_t i = 0; i < x->nkids; i++) {
		if (x->kids[i]->kind != SCALES_KIND_DICT)
			continue;
		char *kp = join(a, x->kids[i]->path, "", 0);
		if (!kp)
			return -ENOMEM;
		int rc = for_children(s, kp, NULL, collect_key, x);
		if (rc)
			return rc;
	}
	if (x->nkv)
		qsort(x->kv, x->nkv, sizeof(*x->kv), kv_cmp);
	for (size_t i = 0; i < x->nkv;) {
		size_t j = i;
		uint64_t sum = 0;
		bool counter = true;
		for (; j < x->nkv && kv_cmp(&x->kv[i], &x->kv[j]) == 0; j++) {
			sum += x->kv[j].v;
			counter = counter && x->kv[j].counter;
		}
		struct scales_metric *km = mlist_push(nw);
		if (!km)
			return -ENOMEM;
		km->path = join(a, d->path, x->kv[i].key, x->kv[i].klen);
		if (!km->path)
			return -ENOMEM;
		km->kind = counter ? SCALES_KIND_COUNTER : SCALES_KIND_GAUGE;
		km->v.u64 = sum;
		km->unit = unit;
		km->agg = SCALES_AGG_SUM;
		km->flags = SCALES_MF_DERIVED | SCALES_MF_KEY;
		km->entry = d->entry;
		km->generation = d->generation;
		km->labels = d->labels;
		*total += sum;
		i = j;
	}
	return 0;
}

static int agg_sum(struct scales_snapshot *s, const struct r_decl *d,
                   struct mlist *nw)
{
	struct r_arena *a = &s->priv->arena;
	char *prefix = parent_prefix(a, d->path);
	if (!prefix)
		return -ENOMEM;
	struct sum_ctx x;
	memset(&x, 0, sizeof(x));
	x.s = s;
	int rc = for_descendants(s, prefix, d, collect_kid, &x);
	if (rc)
		goto out;
	bool hist = false, dict = false, f64 = false, i64 = false;
	const struct scales_metric *first_hist = NULL;
	uint16_t unit = d->unit;
	for (size_t i = 0; i < x.nkids; i++) {
		const struct scales_metric *k = x.kids[i];
		switch (k->kind) {
		case SCALES_KIND_HISTOGRAM:
			hist = true;
			if (!first_hist)
				first_hist = k;
			break;
		case SCALES_KIND_DICT:
			dict = true;
			break;
		case SCALES_KIND_GAUGE_F64:
			f64 = true;
			break;
		case SCALES_KIND_GAUGE:
			i64 = true;
			break;
		default:
			break;
		}
		if (!unit)
			unit = k->unit;
	}
	struct scales_metric r;
	memset(&r, 0, sizeof(r));
	r.side = &scales_no_side;
	r.path = d->path;
	r.help = d->help;
	r.labels = d->labels;
	r.unit = unit;
	r.agg = SCALES_AGG_SUM;
	r.entry = d->entry;
	r.generation = d->generation;
	/* the sum adds as merging processes does (merge.c) */
	struct r_accum acc;
	r_accum_init(&acc);
	if (hist) {
		rc = -ENOMEM;
		struct scales_metric_side *sd = r_side_new(a);
		if (!sd ||
		    r_accum_histo(&acc, a, &first_hist->side->hist, &sd->hist))
			goto out;
		r.side = sd;
		r.kind = SCALES_KIND_HISTOGRAM;
		for (size_t i = 0; i < x.nkids; i++)
			if (x.kids[i]->kind == SCALES_KIND_HISTOGRAM)
				r_accum_add(&acc, x.kids[i]);
	} else if (dict) {
		r.kind = SCALES_KIND_DICT;
		rc = sum_dicts(s, d, &x, unit, nw, &r.v.u64);
		if (rc)
			goto out;
	} else {
		/* no histogram, no dict: counters and gauges, as doubles if
		 * any gauge is one */
		r.kind = f64 ? SCALES_KIND_GAUGE_F64 :
		         i64 ? SCALES_KIND_GAUGE :
		               SCALES_KIND_COUNTER;
		for (size_t i = 0; i < x.nkids; i++)
			r_accum_add(&acc, x.kids[i]);
		r_accum_value(&acc, SCALES_MF_MERGE_SUM, &r);
	}
	struct scales_metric *rm = mlist_push(nw);
	rc = -ENOMEM;
	if (!rm)
		goto out;
	*rm = r;
	rc = 0;
out:
	free(x.kids);
	free(x.kv);
	return rc;
}

/* --------------------------------------------------------------- states */

struct sval {
	char *value; /* escaped into one path component */
};

static int sval_cmp(const void *a, const void *b)
{
	return strcmp(((const struct sval *)a)->value,
	              ((const struct sval *)b)->value);
}

static int agg_states(struct scales_snapshot *s, const struct r_decl *d,
                      struct mlist *nw)
{
	struct r_arena *a = &s->priv->arena;
	char *prefix = parent_prefix(a, d->path);
	if (!prefix)
		return -ENOMEM;
	struct sum_ctx x;
	memset(&x, 0, sizeof(x));
	x.s = s;
	struct sval *v = NULL;
	size_t nv = 0;
	int rc = for_descendants(s, prefix, d, collect_kid, &x);
	if (rc)
		goto out;
	rc = -ENOMEM;
	v = malloc((x.nkids ? x.nkids : 1) * sizeof(*v));
	if (!v)
		goto out;
	for (size_t i = 0; i < x.nkids; i++) {
		const struct scales_metric *k = x.kids[i];
		if (k->kind != SCALES_KIND_STATE || !k->v.state)
			continue;
		/* one component per distinct value (shm/path.c): values
		 * that differ only in escaped bytes stay apart */
		size_t len = strlen(k->v.state);
		char *c = r_arena_alloc(a, SCALES_SHM_ESCAPED_MAX(len));
		if (!c)
			goto out;
		scales_shm_escape_component(k->v.state, len, c);
		v[nv++].value = c;
	}
	if (nv)
		qsort(v, nv, sizeof(*v), sval_cmp);
	for (size_t i = 0; i < nv;) {
		size_t j = i;
		while (j < nv && strcmp(v[i].value, v[j].value) == 0)
			j++;
		struct scales_metric *km = mlist_push(nw);
		if (!km)
			goto out;
		km->path = join(a, d->path, v[i].value, strlen(v[i].value));
		if (!km->path)
			goto out;
		km->kind = SCALES_KIND_GAUGE;
		km->v.i64 = (int64_t)(j - i);
		km->agg = SCALES_AGG_STATES;
		km->flags = SCALES_MF_DERIVED;
		km->entry = d->entry;
		km->generation = d->generation;
		km->labels = d->labels;
		i = j;
	}
	struct scales_metric *rm = mlist_push(nw);
	if (!rm)
		goto out;
	rm->path = d->path;
	rm->help = d->help;
	rm->labels = d->labels;
	rm->unit = d->unit;
	rm->kind = SCALES_KIND_GAUGE;
	rm->v.i64 = (int64_t)nv;
	rm->agg = SCALES_AGG_STATES;
	rm->entry = d->entry;
	rm->generation = d->generation;
	rc = 0;
out:
	free(v);
	free(x.kids);
	return rc;
}

/* ----------------------------------------------------------------- driver */

static unsigned depth(const char *path)
{
	unsigned n = 0;
	for (; *path; path++)
		n += *path == '/';
	return n;
}

static int decl_depth_cmp(const void *a, const void *b)
{
	const struct r_decl *x = a, *y = b;
	unsigned dx = depth(x->path), dy = depth(y->path);
	if (dx != dy)
		return dx > dy ? -1 : 1; /* deepest first */
	return strcmp(x->path, y->path);
}

int scales_snapshot_aggregate(struct scales_snapshot *s)
{
	struct scales_snapshot_priv *p = s->priv;
	if (p->aggregated)
		return 0;
	p->aggregated = true;
	int rc = dict_totals(s);
	if (rc)
		return rc;
	if (!p->ndecls)
		return 0;
	qsort(p->decls, p->ndecls, sizeof(*p->decls), decl_depth_cmp);
	struct mlist nw = { 0 };
	for (size_t i = 0; i < p->ndecls; i++) {
		const struct r_decl *d = &p->decls[i];
		/* a shallower aggregate may read what deeper ones produced */
		if (i && depth(d->path) != depth(p->decls[i - 1].path)) {
			if ((rc = merge_new(s, &nw)))
				break;
		}
		rc = d->agg == SCALES_AGG_SUM ? agg_sum(s, d, &nw) :
		                                agg_states(s, d, &nw);
		if (rc)
			break;
	}
	if (!rc)
		rc = merge_new(s, &nw);
	free(nw.m);
	return rc;
}

size_t scales_derived_value(const char *component, char *out)
{
	return scales_shm_unescape_component(component, out);
}
