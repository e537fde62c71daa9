/* SPDX-License-Identifier: MIT */
/*
 * tree.c: the metric view's tree and rows (see tree.h).
 *
 * Snapshots list their metrics sorted by path, but a path's prefixes are
 * not always adjacent ("/a", "/a-b", "/a/c" sort in that order), so nodes
 * are found by their (source, path prefix) in a hash table while building.
 */
#include "tree.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *top_sort_name(enum top_sort s)
{
	static const char *const names[TOP_SORT_COUNT] = {
		[TOP_SORT_NAME] = "name", [TOP_SORT_VALUE] = "value",
		[TOP_SORT_RATE] = "rate", [TOP_SORT_M1] = "m1",
		[TOP_SORT_M5] = "m5",     [TOP_SORT_M15] = "m15",
		[TOP_SORT_MEAN] = "mean", [TOP_SORT_P50] = "p50",
		[TOP_SORT_P99] = "p99",   [TOP_SORT_P999] = "p99.9",
		[TOP_SORT_MAX] = "max",
	};
	return (unsigned)s < TOP_SORT_COUNT ? names[s] : "name";
}

/* ------------------------------------------------------------ building */

struct build {
	struct top_tree *t;
	int32_t *slots; /* hash table of node indices, -1 empty */
	size_t mask;
};

static uint64_t hash_prefix(size_t src, const char *p, size_t len)
{
	uint64_t h = 1469598103934665603ull ^ (uint64_t)src;
	for (size_t i = 0; i < len; i++) {
		h ^= (unsigned char)p[i];
		h *= 1099511628211ull;
	}
	return h ^ (h >> 29);
}

static int32_t new_node(struct top_tree *t, const char *path, size_t len,
                        size_t src, int32_t parent)
{
	if (t->nnodes == t->nodes_cap) {
		size_t cap = t->nodes_cap ? t->nodes_cap * 2 : 256;
		struct top_node *n = realloc(t->nodes, cap * sizeof(*n));
		if (!n)
			return -1;
		t->nodes = n;
		t->nodes_cap = cap;
	}
	struct top_node *n = &t->nodes[t->nnodes];
	memset(n, 0, sizeof(*n));
	n->path = path;
	n->path_len = (uint16_t)len;
	if (path) {
		size_t off = len;
		while (off > 0 && path[off - 1] != '/')
			off--;
		n->name_off = (uint16_t)off;
	}
	n->src = (uint16_t)src;
	n->parent = parent;
	n->depth = parent < 0 ? 0 : (uint16_t)(t->nodes[parent].depth + 1);
	n->metric = -1;
	n->match = true;
	return (int32_t)t->nnodes++;
}

/* Finds or creates the node of path[0..len) in src under parent. */
static int32_t get_node(struct build *b, size_t src, const char *path,
                        size_t len, int32_t parent)
{
	struct top_tree *t = b->t;
	size_t h = (size_t)hash_prefix(src, path, len) & b->mask;
	for (;; h = (h + 1) & b->mask) {
		int32_t i = b->slots[h];
		if (i < 0)
			break;
		const struct top_node *n = &t->nodes[i];
		if (n->src == src && n->path_len == len &&
		    memcmp(n->path, path, len) == 0)
			return i;
	}
	int32_t i = new_node(t, path, len, src, parent);
	if (i >= 0)
		b->slots[h] = i;
	return i;
}

static void collapsed_key(char *buf, size_t len, const struct top_sampler *s,
                          const struct top_node *n)
{
	snprintf(buf, len, "%s\x1f%.*s", s->v[n->src].key, (int)n->path_len,
	         n->path ? n->path : "");
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static bool is_collapsed(const struct top_tree *t, const struct top_sampler *s,
                         const struct top_node *n)
{
	if (!t->ncollapsed)
		return false;
	char key[600];
	collapsed_key(key, sizeof(key), s, n);
	const char *k = key;
	return bsearch(&k, t->collapsed, t->ncollapsed, sizeof(char *),
	               cmp_str) != NULL;
}

static int build_nodes(struct top_tree *t, const struct top_sampler *s)
{
	t->nnodes = 0;
	free(t->kid);
	free(t->flat);
	free(t->flat_at);
	free(t->arena);
	t->kid = t->flat = NULL;
	t->flat_at = NULL;
	t->arena = NULL;
	t->nsrc = s->n;

	size_t nmetrics = 0, bytes = 0;
	for (size_t i = 0; i < s->n; i++) {
		const struct scales_snapshot *c = s->v[i].cur;
		if (!c)
			continue;
		nmetrics += c->n;
		for (size_t j = 0; j < c->n; j++)
			bytes += strlen(c->metrics[j].path) + 1;
	}
	size_t cap = 16;
	while (cap < 2 * (nmetrics * 2 + s->n) + 16)
		cap *= 2;
	struct build b = { t, malloc(cap * sizeof(int32_t)), cap - 1 };
	t->arena = malloc(bytes ? bytes : 1);
	t->flat = malloc((nmetrics ? nmetrics : 1) * sizeof(*t->flat));
	t->flat_at = malloc((s->n + 1) * sizeof(*t->flat_at));
	if (!b.slots || !t->arena || !t->flat || !t->flat_at) {
		free(b.slots);
		return -ENOMEM;
	}
	memset(b.slots, 0xff, cap * sizeof(int32_t));

	char *ap = t->arena;
	size_t nflat = 0;
	for (size_t si = 0; si < s->n; si++) {
		t->flat_at[si] = nflat;
		int32_t root = new_node(t, NULL, 0, si, -1);
		if (root < 0)
			goto oom;
		const struct scales_snapshot *c = s->v[si].cur;
		for (size_t j = 0; c && j < c->n; j++) {
			size_t len = strlen(c->metrics[j].path);
			memcpy(ap, c->metrics[j].path, len + 1);
			const char *p = ap;
			ap += len + 1;
			int32_t parent = root;
			/* each prefix ending before a "/" (but the first),
			 * then the whole path */
			for (size_t k = 1; k <= len; k++) {
				if (k < len && p[k] != '/')
					continue;
				int32_t n = get_node(&b, si, p, k, parent);
				if (n < 0)
					goto oom;
				parent = n;
			}
			if (parent == root)
				continue; /* not a valid path */
			t->nodes[parent].metric = (int32_t)j;
			t->flat[nflat++] = parent;
		}
	}
	t->flat_at[s->n] = nflat;
	free(b.slots);
	b.slots = NULL;

	/* children, in creation order for now */
	t->kid = malloc((t->nnodes ? t->nnodes : 1) * sizeof(*t->kid));
	if (!t->kid)
		goto oom;
	for (size_t i = 0; i < t->nnodes; i++)
		t->nodes[i].nkids = 0;
	for (size_t i = 0; i < t->nnodes; i++)
		if (t->nodes[i].parent >= 0)
			t->nodes[t->nodes[i].parent].nkids++;
	int32_t at = 0;
	for (size_t i = 0; i < t->nnodes; i++) {
		t->nodes[i].kids = at;
		at += t->nodes[i].nkids;
		t->nodes[i].nkids = 0;
	}
	for (size_t i = 0; i < t->nnodes; i++) {
		struct top_node *n = &t->nodes[i];
		if (n->parent >= 0) {
			struct top_node *p = &t->nodes[n->parent];
			t->kid[p->kids + p->nkids++] = (int32_t)i;
		}
	}
	for (size_t i = 0; i < t->nnodes; i++)
		t->nodes[i].collapsed = is_collapsed(t, s, &t->nodes[i]);
	return 0;
oom:
	free(b.slots);
	t->nnodes = 0;
	return -ENOMEM;
}

/* ------------------------------------------------------------- sorting */

struct sort_ctx {
	const struct top_tree *t;
	const struct top_sampler *s;
	enum top_sort sort;
	bool reverse;
};

static int name_cmp(const struct top_node *a, const struct top_node *b)
{
	if (!a->path || !b->path)
		return (a->src > b->src) - (a->src < b->src);
	size_t la = a->path_len - a->name_off, lb = b->path_len - b->name_off;
	int c = memcmp(a->path + a->name_off, b->path + b->name_off,
	               la < lb ? la : lb);
	if (c)
		return c;
	return (la > lb) - (la < lb);
}

/* The node's value in the sort column, NAN if it has none. */
static double sort_key(const struct top_tree *t, const struct top_sampler *s,
                       const struct top_node *n)
{
	if (n->metric < 0)
		return NAN;
	const struct top_source *src = &s->v[n->src];
	const struct scales_metric *m = &src->cur->metrics[n->metric];
	const struct scales_rate *r = &src->rate[n->metric];
	switch (t->sort) {
	case TOP_SORT_VALUE:
		return top_metric_number(m);
	case TOP_SORT_RATE:
		return r->rate;
	case TOP_SORT_M1:
		return r->m1;
	case TOP_SORT_M5:
		return r->m5;
	case TOP_SORT_M15:
		return r->m15;
	default:
		break;
	}
	if (m->kind != SCALES_KIND_HISTOGRAM || !m->side->hist.count)
		return NAN;
	struct scales_hstats st;
	scales_histo_stats(&m->side->hist, &st);
	switch (t->sort) {
	case TOP_SORT_MEAN:
		return st.mean;
	case TOP_SORT_P50:
		return st.p50;
	case TOP_SORT_P99:
		return st.p99;
	case TOP_SORT_P999:
		return st.p999;
	case TOP_SORT_MAX:
		return st.max;
	default:
		return NAN;
	}
}

/* Path order within a name: the flat table's rows that share the last
 * component. */
static int path_cmp(const struct top_node *a, const struct top_node *b)
{
	int r = name_cmp(a, b);
	if (r)
		return r;
	size_t la = a->path_len, lb = b->path_len;
	r = a->path && b->path ? memcmp(a->path, b->path, la < lb ? la : lb) :
	                         0;
	return r ? r : (la > lb) - (la < lb);
}

static int node_cmp(const void *x, const void *y, void *arg)
{
	const struct sort_ctx *c = arg;
	const struct top_node *a = &c->t->nodes[*(const int32_t *)x];
	const struct top_node *b = &c->t->nodes[*(const int32_t *)y];
	if (c->sort != TOP_SORT_NAME) {
		double ka = a->key, kb = b->key;
		bool na = isnan(ka), nb = isnan(kb);
		if (na != nb)
			return na ? 1 : -1; /* no value: last, either way */
		if (!na && ka != kb)
			return (ka > kb) != c->reverse ? -1 : 1;
		return path_cmp(a, b); /* ties: by name, never reversed */
	}
	int r = path_cmp(a, b);
	return c->reverse ? -r : r;
}

/* The flat table by name: full path order, as the snapshot has it. */
static int flat_name_cmp(const void *x, const void *y, void *arg)
{
	const struct sort_ctx *c = arg;
	const struct top_node *a = &c->t->nodes[*(const int32_t *)x];
	const struct top_node *b = &c->t->nodes[*(const int32_t *)y];
	int r = (a->metric > b->metric) - (a->metric < b->metric);
	return c->reverse ? -r : r;
}

static void sort_all(struct top_tree *t, const struct top_sampler *s)
{
	struct sort_ctx c = { t, s, t->sort, t->reverse };
	/* the keys once per node, not once per comparison (the quantiles
	 * walk the buckets) */
	if (t->sort != TOP_SORT_NAME)
		for (size_t i = 0; i < t->nnodes; i++)
			t->nodes[i].key = sort_key(t, s, &t->nodes[i]);
	for (size_t i = 0; i < t->nnodes; i++) {
		const struct top_node *n = &t->nodes[i];
		if (n->nkids > 1)
			qsort_r(t->kid + n->kids, (size_t)n->nkids,
			        sizeof(int32_t), node_cmp, &c);
	}
	for (size_t si = 0; si < t->nsrc; si++) {
		size_t a = t->flat_at[si], e = t->flat_at[si + 1];
		if (e - a > 1)
			qsort_r(t->flat + a, e - a, sizeof(int32_t),
			        t->sort == TOP_SORT_NAME ? flat_name_cmp :
			                                   node_cmp,
			        &c);
	}
}

/* ----------------------------------------------------------- filtering */

static void filter_all(struct top_tree *t, const struct top_sampler *s)
{
	bool all = !t->nglobs && !t->hide_zero;
	for (size_t i = 0; i < t->nnodes; i++)
		t->nodes[i].match = all;
	if (all)
		return;
	for (size_t i = 0; i < t->nnodes; i++) {
		struct top_node *n = &t->nodes[i];
		if (n->metric < 0) {
			/* a source's root stays, even when nothing matches */
			n->match |= n->parent < 0;
			continue;
		}
		const struct scales_metric *m =
		    &s->v[n->src].cur->metrics[n->metric];
		/* z: a number that is 0 (states have none: they stay) */
		if (t->hide_zero && top_metric_number(m) == 0)
			continue;
		if (scales_path_match((const char *const *)t->globs, t->nglobs,
		                      m->path))
			n->match = true;
	}
	/* children come after their parents: propagate upwards */
	for (size_t i = t->nnodes; i-- > 0;) {
		struct top_node *n = &t->nodes[i];
		if (n->match && n->parent >= 0)
			t->nodes[n->parent].match = true;
	}
}

/* ---------------------------------------------------------------- rows */

static int push_row(struct top_tree *t, int32_t node, uint8_t kind)
{
	if (t->nrows == t->rows_cap) {
		size_t cap = t->rows_cap ? t->rows_cap * 2 : 256;
		struct top_row *r = realloc(t->rows, cap * sizeof(*r));
		if (!r)
			return -ENOMEM;
		t->rows = r;
		t->rows_cap = cap;
	}
	t->rows[t->nrows++] = (struct top_row){ node, kind };
	return 0;
}

static bool is_hist(const struct top_tree *t, const struct top_sampler *s,
                    const struct top_node *n)
{
	(void)t;
	return n->metric >= 0 && s->v[n->src].cur->metrics[n->metric].kind ==
	                             SCALES_KIND_HISTOGRAM;
}

/* A timed state: a line of seconds per value under it (time in state). */
static bool is_timed(const struct top_sampler *s, const struct top_node *n)
{
	return n->metric >= 0 &&
	       (s->v[n->src].cur->metrics[n->metric].flags & SCALES_MF_TIMED);
}

static int push_node(struct top_tree *t, const struct top_sampler *s, int32_t i)
{
	const struct top_node *n = &t->nodes[i];
	if (push_row(t, i, TOP_ROW_NODE))
		return -ENOMEM;
	if (is_hist(t, s, n) && !n->collapsed)
		return push_row(t, i, TOP_ROW_INTERVAL);
	if (is_timed(s, n) && !n->collapsed)
		return push_row(t, i, TOP_ROW_TIMES);
	return 0;
}

static int rows_tree(struct top_tree *t, const struct top_sampler *s, int32_t i)
{
	/* depth is at most 128 (255-byte paths): recursion is fine */
	if (push_node(t, s, i))
		return -ENOMEM;
	const struct top_node *n = &t->nodes[i];
	if (n->collapsed)
		return 0;
	for (int32_t k = 0; k < n->nkids; k++) {
		int32_t c = t->kid[n->kids + k];
		if (t->nodes[c].match && rows_tree(t, s, c))
			return -ENOMEM;
	}
	return 0;
}

static int build_rows(struct top_tree *t, const struct top_sampler *s)
{
	t->nrows = 0;
	for (size_t i = 0; i < t->nnodes; i++) {
		const struct top_node *n = &t->nodes[i];
		if (n->parent >= 0)
			continue;
		if (!t->flat_mode) {
			if (rows_tree(t, s, (int32_t)i))
				return -ENOMEM;
			continue;
		}
		if (push_node(t, s, (int32_t)i))
			return -ENOMEM;
		if (n->collapsed)
			continue;
		for (size_t k = t->flat_at[n->src]; k < t->flat_at[n->src + 1];
		     k++)
			if (t->nodes[t->flat[k]].match &&
			    push_node(t, s, t->flat[k]))
				return -ENOMEM;
	}
	return 0;
}

int top_tree_update(struct top_tree *t, const struct top_sampler *s)
{
	unsigned d = t->dirty;
	t->dirty = 0;
	if (d & TOP_DIRTY_NODES) {
		if (build_nodes(t, s)) {
			t->nrows = 0;
			t->dirty = TOP_DIRTY_NODES;
			return -ENOMEM;
		}
		d |= TOP_DIRTY_SORT | TOP_DIRTY_FILTER | TOP_DIRTY_ROWS;
	}
	if (d & TOP_DIRTY_SORT) {
		sort_all(t, s);
		d |= TOP_DIRTY_ROWS;
	}
	if (d & TOP_DIRTY_FILTER) {
		filter_all(t, s);
		d |= TOP_DIRTY_ROWS;
	}
	if ((d & TOP_DIRTY_ROWS) && build_rows(t, s)) {
		t->nrows = 0;
		t->dirty = TOP_DIRTY_ROWS;
		return -ENOMEM;
	}
	return 0;
}

bool top_tree_foldable(const struct top_tree *t, const struct top_sampler *s,
                       int32_t node)
{
	if (node < 0 || (size_t)node >= t->nnodes)
		return false;
	const struct top_node *n = &t->nodes[node];
	if (n->parent < 0)
		return true;
	return is_hist(t, s, n) || is_timed(s, n) ||
	       (!t->flat_mode && n->nkids > 0);
}

void top_tree_fold(struct top_tree *t, const struct top_sampler *s,
                   int32_t node, int how)
{
	if (!top_tree_foldable(t, s, node))
		return;
	struct top_node *n = &t->nodes[node];
	bool want = how < 0 ? true : how > 0 ? false : !n->collapsed;
	if (want == n->collapsed)
		return;
	n->collapsed = want;
	t->dirty |= TOP_DIRTY_ROWS;
	/* remember it by name, across rebuilds */
	char key[600];
	collapsed_key(key, sizeof(key), s, n);
	const char *k = key;
	char **hit = t->ncollapsed ? bsearch(&k, t->collapsed, t->ncollapsed,
	                                     sizeof(char *), cmp_str) :
	                             NULL;
	if (!want && hit) {
		free(*hit);
		size_t at = (size_t)(hit - t->collapsed);
		memmove(hit, hit + 1, (t->ncollapsed - at - 1) * sizeof(*hit));
		t->ncollapsed--;
	} else if (want && !hit) {
		char **v =
		    realloc(t->collapsed, (t->ncollapsed + 1) * sizeof(*v));
		char *dup = strdup(key);
		if (!v || !dup) {
			free(dup);
			if (v)
				t->collapsed = v;
			return;
		}
		t->collapsed = v;
		v[t->ncollapsed++] = dup;
		qsort(v, t->ncollapsed, sizeof(*v), cmp_str);
	}
}

static void free_globs(struct top_tree *t)
{
	for (size_t i = 0; i < t->nglobs; i++)
		free(t->globs[i]);
	free(t->globs);
	t->globs = NULL;
	t->nglobs = 0;
}

int top_tree_set_filter(struct top_tree *t, const char *text)
{
	free_globs(t);
	t->dirty |= TOP_DIRTY_FILTER;
	for (const char *p = text ? text : ""; *p;) {
		if (*p == ' ') {
			p++;
			continue;
		}
		size_t l = strcspn(p, " ");
		bool not = *p == '^';
		const char *w = p + not ;
		size_t wl = l - not ;
		p += l;
		if (!wl)
			continue; /* a lone "^" */
		bool glob = memchr(w, '*', wl) || memchr(w, '?', wl) ||
		            memchr(w, '[', wl);
		char **v = realloc(t->globs, (t->nglobs + 1) * sizeof(*v));
		char *g = malloc(wl + 4);
		if (!v || !g) {
			free(g);
			if (v)
				t->globs = v;
			free_globs(t);
			return -ENOMEM;
		}
		t->globs = v;
		/* a plain text matches anywhere: *text* */
		snprintf(g, wl + 4, "%s%s%.*s%s", not ? "^" : "",
		         glob ? "" : "*", (int)wl, w, glob ? "" : "*");
		v[t->nglobs++] = g;
	}
	return 0;
}

size_t top_tree_row_of(const struct top_tree *t, int32_t node, uint8_t kind)
{
	for (size_t i = 0; i < t->nrows; i++)
		if (t->rows[i].node == node && t->rows[i].kind == kind)
			return i;
	return SIZE_MAX;
}

int32_t top_tree_find(const struct top_tree *t, size_t src, const char *path)
{
	size_t len = path ? strlen(path) : 0;
	for (size_t i = 0; i < t->nnodes; i++) {
		const struct top_node *n = &t->nodes[i];
		if (n->src != src)
			continue;
		if (!path && !n->path)
			return (int32_t)i;
		if (path && n->path && n->path_len == len &&
		    memcmp(n->path, path, len) == 0)
			return (int32_t)i;
	}
	return -1;
}

const struct scales_metric *top_node_metric(const struct top_tree *t,
                                            const struct top_sampler *s,
                                            int32_t node)
{
	if (node < 0 || (size_t)node >= t->nnodes)
		return NULL;
	const struct top_node *n = &t->nodes[node];
	if (n->metric < 0 || n->src >= s->n || !s->v[n->src].cur)
		return NULL;
	return &s->v[n->src].cur->metrics[n->metric];
}

void top_tree_free(struct top_tree *t)
{
	free(t->nodes);
	free(t->kid);
	free(t->flat);
	free(t->flat_at);
	free(t->arena);
	free(t->rows);
	for (size_t i = 0; i < t->ncollapsed; i++)
		free(t->collapsed[i]);
	free(t->collapsed);
	free_globs(t);
	memset(t, 0, sizeof(*t));
}
