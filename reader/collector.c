/* SPDX-License-Identifier: MIT */
/*
 * collector.c: the one pipeline of every tool (see <scales/reader.h>):
 * select, snapshot, group by process or by app and owner, merge, and keep
 * the previous collection for rates, meters and per-interval histograms.
 */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

/* What the collector keeps of a group besides its public view. */
struct cgroup {
	char *key;
	scales_rates *tracker;
	struct scales_snapshot **members;
	struct scales_rate *rates;
};

/* One collection: public views and their private parts, in step. */
struct coll {
	struct scales_group *pub;
	struct cgroup *priv;
	size_t n;
};

struct scales_collector {
	struct scales_collector_options o;
	struct scales_selection sel;
	struct coll cur, prev;
	uint64_t count;
	/* the previous collection's member snapshots, sorted (prev_cmp) */
	const struct scales_snapshot **pmem;
	size_t npmem;
	/* per-interval histogram scratch */
	uint64_t *acc, *tmp;
	size_t acccap, tmpcap;
	/* in scales_collector_each(): a segment's cache is dropped once its
	 * snapshot is taken (a pass no one keeps) */
	bool forget;
	/* hashes of the warnings passed on, so each is said once */
	uint64_t *warned;
	size_t nwarned, capwarned;
};

/* ------------------------------------------------------------ warnings */

static uint64_t fnv(uint64_t h, const char *s)
{
	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 0x100000001b3ull;
	return h;
}

/* Selection and discovery warn at every call about the same files: pass
 * each distinct one on once. */
static void warn_once(void *arg, const char *path, const char *msg)
{
	scales_collector *c = arg;
	if (!c->o.warn)
		return;
	uint64_t h = fnv(fnv(0xcbf29ce484222325ull, path), msg);
	for (size_t i = 0; i < c->nwarned; i++)
		if (c->warned[i] == h)
			return;
	if (c->nwarned == c->capwarned) {
		size_t cap = c->capwarned ? 2 * c->capwarned : 16;
		uint64_t *v = realloc(c->warned, cap * sizeof(*v));
		if (v) {
			c->warned = v;
			c->capwarned = cap;
		}
	}
	if (c->nwarned < c->capwarned)
		c->warned[c->nwarned++] = h;
	c->o.warn(c->o.warn_arg, path, msg);
}

/* -------------------------------------------------------- life cycle */

int scales_collector_new(const struct scales_collector_options *o,
                         scales_collector **out)
{
	*out = NULL;
	scales_collector *c = calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	c->o = *o;
	c->sel.dir = o->dir;
	c->sel.selectors = o->selectors;
	c->sel.nselectors = o->nselectors;
	c->sel.flags = o->select_flags;
	c->sel.warn = warn_once;
	c->sel.warn_arg = c;
	*out = c;
	return 0;
}

/* Frees what group g and its private part hold (built or half built). */
static void group_free(struct scales_group *g, struct cgroup *p)
{
	/* no members: merged as taken (SCALES_COLLECT_NO_MEMBERS) */
	bool own = !p->members || g->nmembers != 1 || g->cur != p->members[0];
	for (uint32_t m = 0; p->members && m < g->nmembers; m++)
		scales_snapshot_free(&p->members[m]);
	if (own)
		scales_snapshot_free(&g->cur);
	free(p->members);
	free(p->rates);
	free(p->key);
	scales_rates_free(&p->tracker);
}

static void coll_free(struct coll *k)
{
	for (size_t i = 0; i < k->n; i++)
		group_free(&k->pub[i], &k->priv[i]);
	free(k->pub);
	free(k->priv);
	memset(k, 0, sizeof(*k));
}

void scales_collector_free(scales_collector **cp)
{
	if (!cp || !*cp)
		return;
	scales_collector *c = *cp;
	coll_free(&c->cur);
	coll_free(&c->prev);
	scales_selection_free(&c->sel);
	free(c->pmem);
	free(c->acc);
	free(c->tmp);
	free(c->warned);
	free(c);
	*cp = NULL;
}

struct scales_selection *scales_collector_selection(scales_collector *c)
{
	return &c->sel;
}

const struct scales_group *scales_collector_groups(const scales_collector *c,
                                                   size_t *n)
{
	*n = c->cur.n;
	return c->cur.pub;
}

uint64_t scales_collector_count(const scales_collector *c)
{
	return c->count;
}

void scales_collector_set_flags(scales_collector *c, unsigned flags)
{
	c->o.flags = flags;
}

int scales_collector_select(scales_collector *c, char *err, size_t errlen)
{
	return scales_select(&c->sel, err, errlen);
}

/* ------------------------------------------------------------ grouping */

/* One member snapshot and the group it belongs to. */
struct taken {
	struct scales_snapshot *snap;
	char *key;
	size_t order; /* selection order */
};

static int taken_cmp(const void *a, const void *b)
{
	const struct taken *x = a, *y = b;
	int c = strcmp(x->snap->proc.app, y->snap->proc.app);
	if (c)
		return c;
	c = strcmp(x->key, y->key);
	if (c)
		return c;
	return (x->order > y->order) - (x->order < y->order);
}

/* The group of a merged process: its app, and its owner unless all
 * owners merge. The one rule for group_key() and seg_key(). */
static char *merge_key(const scales_collector *c, const char *app, uint32_t uid)
{
	char buf[600];
	if (c->o.flags & SCALES_COLLECT_ALL_OWNERS)
		snprintf(buf, sizeof(buf), "*:%s", app);
	else
		snprintf(buf, sizeof(buf), "%" PRIu32 ":%s", uid, app);
	return strdup(buf);
}

/* The group of a process of its own: its file and pid. The one rule for
 * group_key() and seg_key(). */
static char *file_key(const char *path, int32_t pid)
{
	char buf[600];
	snprintf(buf, sizeof(buf), "%s#%" PRId32, path ? path : "", pid);
	return strdup(buf);
}

/* The group key of snapshot s (see struct scales_group). */
static char *group_key(const scales_collector *c,
                       const struct scales_snapshot *s)
{
	if (c->o.flags & SCALES_COLLECT_MERGE)
		return merge_key(c, s->proc.app, s->proc.uid);
	return file_key(s->segment_path, s->proc.pid);
}

static int liveness_rank(int l)
{
	return l == SCALES_LIVE_ALIVE ? 0 : l == SCALES_LIVE_CLOSED ? 1 : 2;
}

/* The previous group of app with key, its tracker moved out (NULL:
 * none). A binary search: a collection's groups are sorted by app, then
 * key (taken_cmp(), pend_cmp()), so a collection of many groups is not
 * quadratic (issue 17.2). */
static struct scales_group *prev_group(scales_collector *c, const char *app,
                                       const char *key, scales_rates **tracker)
{
	size_t lo = 0, hi = c->prev.n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		const char *k = c->prev.priv[mid].key;
		int r = k ? strcmp(c->prev.pub[mid].app, app) : -1;
		if (k && r == 0)
			r = strcmp(k, key);
		if (r == 0) {
			*tracker = c->prev.priv[mid].tracker;
			c->prev.priv[mid].tracker = NULL;
			return &c->prev.pub[mid];
		}
		if (r < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

static int group_rates(scales_collector *c, struct scales_group *g,
                       struct cgroup *p);

/* Builds group g from tk[0..n) (same key); takes their snapshots. */
static int group_build(scales_collector *c, struct scales_group *g,
                       struct cgroup *p, struct taken *tk, size_t n)
{
	p->key = tk[0].key;
	tk[0].key = NULL;
	g->key = p->key;
	p->members = calloc(n, sizeof(*p->members));
	if (!p->members)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		p->members[i] = tk[i].snap;
		tk[i].snap = NULL;
	}
	g->members = p->members;
	g->nmembers = (uint32_t)n;
	const struct scales_process_info *first = &p->members[0]->proc;
	snprintf(g->app, sizeof(g->app), "%s", first->app);
	g->uid = first->uid;
	g->liveness = SCALES_LIVE_DEAD;
	for (size_t i = 0; i < n; i++) {
		int l = p->members[i]->proc.liveness;
		if (liveness_rank(l) < liveness_rank(g->liveness))
			g->liveness = l;
	}
	if (n == 1) {
		g->cur = p->members[0];
	} else {
		int rc = scales_snapshot_merge(
		    (const struct scales_snapshot *const *)p->members, n,
		    &g->cur);
		if (rc)
			return rc;
	}
	return group_rates(c, g, p);
}

/* Links group g (cur built) to its previous one and updates its rates. */
static int group_rates(scales_collector *c, struct scales_group *g,
                       struct cgroup *p)
{
	const struct scales_group *old =
	    prev_group(c, g->app, p->key, &p->tracker);
	g->prev = old ? old->cur : NULL;
	if (!p->tracker && !(p->tracker = scales_rates_new(c->o.tick_ns)))
		return -ENOMEM;
	size_t nm = g->cur->n;
	p->rates = calloc(nm ? nm : 1, sizeof(*p->rates));
	if (!p->rates)
		return -ENOMEM;
	g->rates = p->rates;
	return scales_rates_update(p->tracker, g->cur, p->rates);
}

/* Same process: segment path, start time and pid. */
static int member_cmp(const struct scales_snapshot *a,
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

static int member_pcmp(const void *a, const void *b)
{
	return member_cmp(*(const struct scales_snapshot *const *)a,
	                  *(const struct scales_snapshot *const *)b);
}

/* Indexes the (now previous) collection's members. */
static int index_prev(scales_collector *c)
{
	size_t n = 0;
	for (size_t i = 0; i < c->prev.n; i++)
		n += c->prev.priv[i].members ? c->prev.pub[i].nmembers : 0;
	const struct scales_snapshot **v = malloc((n ? n : 1) * sizeof(*v));
	if (!v)
		return -ENOMEM;
	size_t k = 0;
	for (size_t i = 0; i < c->prev.n; i++)
		for (uint32_t m = 0;
		     c->prev.priv[i].members && m < c->prev.pub[i].nmembers;
		     m++)
			v[k++] = c->prev.priv[i].members[m];
	qsort(v, n, sizeof(*v), member_pcmp);
	free(c->pmem);
	c->pmem = v;
	c->npmem = n;
	return 0;
}

/* Groups the member snapshots tk[0..n) (taking them) into a new
 * collection; the current one becomes the previous one. */
static int regroup(scales_collector *c, struct taken *tk, size_t n)
{
	qsort(tk, n, sizeof(*tk), taken_cmp);
	coll_free(&c->prev);
	c->prev = c->cur;
	memset(&c->cur, 0, sizeof(c->cur));
	int rc = index_prev(c);
	struct coll k = { calloc(n ? n : 1, sizeof(*k.pub)),
		          calloc(n ? n : 1, sizeof(*k.priv)), 0 };
	if (!k.pub || !k.priv)
		rc = -ENOMEM;
	for (size_t i = 0; !rc && i < n;) {
		size_t j = i + 1;
		while (j < n && !strcmp(tk[j].key, tk[i].key))
			j++;
		/* counted before building: a half-built group is freed */
		rc = group_build(c, &k.pub[k.n], &k.priv[k.n], tk + i, j - i);
		k.n++;
		i = j;
	}
	for (size_t i = 0; i < n; i++) {
		scales_snapshot_free(&tk[i].snap);
		free(tk[i].key);
	}
	c->count++;
	if (rc) {
		coll_free(&k);
		return rc;
	}
	c->cur = k;
	return 0;
}

/* Leaves in s only the metrics the collector's -f globs match. */
static void keep_globs(const scales_collector *c, struct scales_snapshot *s)
{
	if (c->o.nglobs)
		scales_snapshot_filter(s, c->o.globs, c->o.nglobs);
}

static int take_add(scales_collector *c, struct taken *tk, size_t *n,
                    struct scales_snapshot *s, size_t order)
{
	keep_globs(c, s);
	tk[*n].snap = s;
	tk[*n].order = order;
	if (!(tk[*n].key = group_key(c, s))) {
		scales_snapshot_free(&tk[*n].snap);
		return -ENOMEM;
	}
	(*n)++;
	return 0;
}

/* ------------------------------------------------- merging as taken */

/* A selected file, its group known before its snapshot is taken. */
struct pend {
	size_t item; /* in the selection: its order */
	const char *app;
	char *key;
};

static int pend_cmp(const void *a, const void *b)
{
	const struct pend *x = a, *y = b;
	int c = strcmp(x->app, y->app);
	if (c)
		return c;
	c = strcmp(x->key, y->key);
	if (c)
		return c;
	return (x->item > y->item) - (x->item < y->item);
}

/* The key group_key() gives seg's snapshots: from the header's app and
 * pid, the file's path and its owner (fstat now, as the snapshot does). */
static char *seg_key(const scales_collector *c, const scales_segment *seg)
{
	if (c->o.flags & SCALES_COLLECT_MERGE)
		return merge_key(c, seg->lay.app, seg->uid);
	return file_key(seg->path, seg->lay.pid);
}

/* Takes the snapshot of selected item i (NULL: left out, said once);
 * its metrics are not filtered yet. */
static struct scales_snapshot *take(scales_collector *c, size_t i)
{
	const struct scales_selected *it = &c->sel.items[i];
	struct scales_snapshot *s;
	char err[256];
	if (scales_snapshot_take(it->seg, 0, &s, err, sizeof(err))) {
		/* vanished or hostile: left out, said once */
		warn_once(c, it->path, err);
		return NULL;
	}
	/* a one-shot pass over many processes would otherwise hold every
	 * segment's cache (some 8 KB each, faulted in) to its end; the
	 * snapshot holds its own references to the paths */
	if (c->forget)
		r_cache_reset(&it->seg->cache);
	return s;
}

/*
 * Builds group g from the files pd[0..n) (one key): each snapshot is
 * merged as soon as it is taken and freed, so a group of a thousand
 * processes holds one of them at a time. A single member stays the
 * group's snapshot, as in group_build(). *built: false if no file could
 * be read (no group).
 */
static int group_stream(scales_collector *c, struct scales_group *g,
                        struct cgroup *p, struct pend *pd, size_t n,
                        bool *built)
{
	*built = false;
	struct scales_snapshot *first = NULL;
	struct r_merger *mg = NULL;
	uint32_t nm = 0;
	int live = SCALES_LIVE_DEAD, rc = 0;
	for (size_t i = 0; i < n && !rc; i++) {
		struct scales_snapshot *s = take(c, pd[i].item);
		if (!s)
			continue;
		keep_globs(c, s);
		if (liveness_rank(s->proc.liveness) < liveness_rank(live))
			live = s->proc.liveness;
		if (nm++ == 0) {
			first = s;
			snprintf(g->app, sizeof(g->app), "%s", s->proc.app);
			g->uid = s->proc.uid;
			continue;
		}
		if (!mg) {
			/* a second member: the first one goes in too */
			if (!(mg = r_merger_new()) ||
			    (rc = r_merger_add(mg, first)) != 0)
				rc = rc ? rc : -ENOMEM;
			else
				scales_snapshot_free(&first);
		}
		if (!rc)
			rc = r_merger_add(mg, s);
		scales_snapshot_free(&s);
	}
	if (!rc && mg)
		rc = r_merger_finish(&mg, &g->cur);
	r_merger_free(&mg);
	if (rc || nm == 0) {
		scales_snapshot_free(&first);
		return rc;
	}
	*built = true;
	p->key = pd[0].key;
	pd[0].key = NULL;
	g->key = p->key;
	g->nmembers = nm;
	g->liveness = live;
	if (first) {
		/* one member: its own snapshot, as group_build() keeps it */
		if (!(p->members = calloc(1, sizeof(*p->members)))) {
			scales_snapshot_free(&first);
			return -ENOMEM;
		}
		p->members[0] = first;
		g->members = p->members;
		g->cur = first;
	}
	return 0;
}

static void plan_free(struct pend *pd, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(pd[i].key);
	free(pd);
}

/* The selected (and picked) readable files with their groups' keys, from
 * their headers, in the order of the groups (pend_cmp): *pd[0..*n). */
static int plan(scales_collector *c, struct pend **pdp, size_t *np)
{
	const struct scales_selection *sel = &c->sel;
	struct pend *pd = calloc(sel->n ? sel->n : 1, sizeof(*pd));
	*pdp = pd;
	*np = 0;
	if (!pd)
		return -ENOMEM;
	size_t n = 0;
	int rc = 0;
	for (size_t i = 0; !rc && i < sel->n; i++) {
		const struct scales_selected *it = &sel->items[i];
		if (!it->seg || (c->o.pick && !c->o.pick(c->o.pick_arg, it)))
			continue;
		char err[256];
		/* the owner as the snapshot will see it (the selection's
		 * fstat if it opened the file in this pass) */
		if (r_segment_refresh_pass(it->seg, err, sizeof(err))) {
			warn_once(c, it->path, err);
			continue;
		}
		pd[n].item = i;
		pd[n].app = it->seg->lay.app;
		if (!(pd[n].key = seg_key(c, it->seg)))
			rc = -ENOMEM;
		else
			n++;
	}
	qsort(pd, n, sizeof(*pd), pend_cmp);
	*np = n;
	return rc;
}

/* The end of the run of pd[i]'s key: one group. */
static size_t plan_group_end(const struct pend *pd, size_t i, size_t n)
{
	size_t j = i + 1;
	while (j < n && !strcmp(pd[j].key, pd[i].key))
		j++;
	return j;
}

/* scales_collector_sample() with SCALES_COLLECT_MERGE and
 * SCALES_COLLECT_NO_MEMBERS: grouped by the segments' headers first,
 * then each group's members are taken and merged one at a time. */
static int sample_merging(scales_collector *c)
{
	struct pend *pd;
	size_t n;
	int rc = plan(c, &pd, &n);
	if (!pd)
		return rc;
	coll_free(&c->prev);
	c->prev = c->cur;
	memset(&c->cur, 0, sizeof(c->cur));
	if (!rc)
		rc = index_prev(c);
	struct coll k = { calloc(n ? n : 1, sizeof(*k.pub)),
		          calloc(n ? n : 1, sizeof(*k.priv)), 0 };
	if (!k.pub || !k.priv)
		rc = rc ? rc : -ENOMEM;
	for (size_t i = 0; !rc && i < n;) {
		size_t j = plan_group_end(pd, i, n);
		bool built;
		rc = group_stream(c, &k.pub[k.n], &k.priv[k.n], pd + i, j - i,
		                  &built);
		if (!rc && built)
			rc = group_rates(c, &k.pub[k.n], &k.priv[k.n]);
		/* counted if built (or half built: freed with the rest) */
		if (built || k.priv[k.n].key || k.pub[k.n].cur)
			k.n++;
		i = j;
	}
	plan_free(pd, n);
	c->count++;
	if (rc) {
		coll_free(&k);
		return rc;
	}
	c->cur = k;
	return 0;
}

int scales_collector_sample(scales_collector *c)
{
	if ((c->o.flags & SCALES_COLLECT_MERGE) &&
	    (c->o.flags & SCALES_COLLECT_NO_MEMBERS))
		return sample_merging(c);

	const struct scales_selection *sel = &c->sel;
	struct taken *tk = calloc(sel->n ? sel->n : 1, sizeof(*tk));
	if (!tk)
		return -ENOMEM;
	size_t n = 0;
	int rc = 0;
	for (size_t i = 0; !rc && i < sel->n; i++) {
		const struct scales_selected *it = &sel->items[i];
		if (!it->seg || (c->o.pick && !c->o.pick(c->o.pick_arg, it)))
			continue;
		struct scales_snapshot *s = take(c, i);
		if (s)
			rc = take_add(c, tk, &n, s, i);
	}
	if (!rc)
		rc = regroup(c, tk, n);
	else
		for (size_t i = 0; i < n; i++) {
			scales_snapshot_free(&tk[i].snap);
			free(tk[i].key);
		}
	free(tk);
	return rc;
}

int scales_collector_each(scales_collector *c,
                          int (*each)(void *arg, const struct scales_group *g),
                          void *arg)
{
	struct pend *pd;
	size_t n;
	int rc = plan(c, &pd, &n);
	c->forget = true;
	for (size_t i = 0; !rc && i < n;) {
		size_t j = plan_group_end(pd, i, n);
		struct scales_group g = { 0 };
		struct cgroup p = { 0 };
		bool built;
		rc = group_stream(c, &g, &p, pd + i, j - i, &built);
		if (!rc && built)
			rc = each(arg, &g);
		group_free(&g, &p);
		i = j;
	}
	c->forget = false;
	plan_free(pd, n);
	return rc;
}

int scales_collector_collect(scales_collector *c, char *err, size_t errlen)
{
	int drc = scales_collector_select(c, err, errlen);
	if (drc == -ENOMEM)
		return drc;
	int rc = scales_collector_sample(c);
	return rc ? rc : drc;
}

int scales_collector_sample_snapshots(scales_collector *c,
                                      struct scales_snapshot **snaps, size_t n)
{
	struct taken *tk = calloc(n ? n : 1, sizeof(*tk));
	int rc = tk ? 0 : -ENOMEM;
	size_t k = 0;
	for (size_t i = 0; !rc && i < n; i++) {
		rc = take_add(c, tk, &k, snaps[i], i);
		snaps[i] = NULL;
	}
	for (size_t i = 0; i < n; i++)
		scales_snapshot_free(&snaps[i]);
	if (!rc) {
		rc = regroup(c, tk, k);
	} else {
		for (size_t i = 0; i < k; i++) {
			scales_snapshot_free(&tk[i].snap);
			free(tk[i].key);
		}
	}
	free(tk);
	return rc;
}

/* ---------------------------------------------------------- intervals */

static bool grow(uint64_t **v, size_t *cap, size_t n)
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

static const struct scales_snapshot *
prev_member(const scales_collector *c, const struct scales_snapshot *s)
{
	size_t lo = 0, hi = c->npmem;
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		int r = member_cmp(c->pmem[mid], s);
		if (r == 0)
			return c->pmem[mid];
		if (r < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

int scales_collector_interval(scales_collector *c, const struct scales_group *g,
                              size_t idx, struct scales_histo *out,
                              double *secs)
{
	if (!g->cur || idx >= g->cur->n ||
	    g->cur->metrics[idx].kind != SCALES_KIND_HISTOGRAM)
		return -EINVAL;
	if (!g->members)
		return -EINVAL; /* merged as taken: no members to compare */
	if (c->count < 2)
		return -EAGAIN;
	const struct scales_metric *m = &g->cur->metrics[idx];
	uint32_t nb = m->side->hist.nbuckets;
	if (!grow(&c->acc, &c->acccap, nb ? nb : 1))
		return -ENOMEM;
	memset(c->acc, 0, (nb ? nb : 1) * sizeof(*c->acc));
	*out = m->side->hist;
	out->count = out->sum = out->min = out->max = 0;
	out->buckets = c->acc;
	uint64_t since = 0;
	for (uint32_t j = 0; j < g->nmembers; j++) {
		const struct scales_snapshot *s = g->members[j];
		const struct scales_metric *cm =
		    g->nmembers == 1 ? m : scales_snapshot_find(s, m->path);
		if (!cm || cm->kind != SCALES_KIND_HISTOGRAM)
			continue;
		const struct scales_snapshot *ps = prev_member(c, s);
		const struct scales_metric *pm =
		    ps ? scales_snapshot_find(ps, m->path) : NULL;
		if (ps && (!since || ps->mono_ns < since))
			since = ps->mono_ns;
		struct scales_histo d = cm->side->hist;
		if (pm && pm->kind == SCALES_KIND_HISTOGRAM &&
		    pm->generation == cm->generation) {
			if (!grow(&c->tmp, &c->tmpcap,
			          cm->side->hist.nbuckets + 1))
				return -ENOMEM;
			/* a reset (a bucket went down): everything of cur */
			if (scales_histo_delta(&pm->side->hist, &cm->side->hist,
			                       c->tmp, &d))
				d = cm->side->hist;
		}
		scales_histo_add(out, c->acc, &d);
	}
	*secs = since && g->cur->mono_ns > since ?
	            (double)(g->cur->mono_ns - since) / 1e9 :
	            0;
	return 0;
}
