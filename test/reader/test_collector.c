/* SPDX-License-Identifier: MIT */
/*
 * test_collector.c: the collector (reader/collector.c): grouping by
 * process or by app, merging, rates and meters across collections,
 * per-interval histograms of merged groups whose membership changes,
 * copies skipped with one warning.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <scales/reader.h>

#include "common.h"
#include "internal.h"
#include "segbuild.h"

#define NB 1024

static scales_collector *new_collector(const char *dir, unsigned flags,
                                       scales_warn_f warn, void *arg)
{
	struct scales_collector_options o = {
		.dir = dir,
		.select_flags = SCALES_SEL_INCLUDE_DEAD,
		.warn = warn,
		.warn_arg = arg,
		.flags = flags,
	};
	scales_collector *c = NULL;
	cr_assert_eq(scales_collector_new(&o, &c), 0);
	return c;
}

static const struct scales_group *group_of(scales_collector *c, const char *app)
{
	size_t n;
	const struct scales_group *g = scales_collector_groups(c, &n);
	for (size_t i = 0; i < n; i++)
		if (!strcmp(g[i].app, app))
			return &g[i];
	cr_assert_fail("no group %s", app);
	return NULL;
}

static struct segbuild *web(const char *app, int32_t pid, uint64_t n)
{
	struct segbuild *b = sb_new(app, pid, 1000 + (uint64_t)pid, NULL);
	uint32_t e = sb_counter(b, "/reqs", NULL);
	sb_counter_add(b, e, 0, n);
	return b;
}

Test(collector, groups_per_file_or_per_app_and_owner)
{
	char *dir = sb_tmpdir();
	char path[4096];
	struct segbuild *b[3] = { web("web", 100, 3), web("web", 200, 4),
		                  web("db", 300, 5) };
	for (int i = 0; i < 3; i++)
		cr_assert_eq(sb_write(b[i], dir, path, sizeof(path)), 0);
	scales_collector *c = new_collector(dir, 0, NULL, NULL);
	char err[512];
	cr_assert_eq(scales_collector_collect(c, err, sizeof(err)), 0, "%s",
	             err);
	size_t n;
	const struct scales_group *g = scales_collector_groups(c, &n);
	cr_assert_eq(n, 3);
	for (size_t i = 0; i < n; i++) {
		cr_assert_eq(g[i].nmembers, 1);
		cr_assert_eq(g[i].cur, g[i].members[0]);
		cr_assert_null(g[i].prev);
		cr_assert_eq(g[i].uid, (uint32_t)geteuid());
	}
	/* merging: one group per app (all files are ours: one owner) */
	scales_collector_set_flags(c, SCALES_COLLECT_MERGE);
	cr_assert_eq(scales_collector_collect(c, err, sizeof(err)), 0);
	g = scales_collector_groups(c, &n);
	cr_assert_eq(n, 2);
	const struct scales_group *w = group_of(c, "web");
	cr_assert_eq(w->nmembers, 2);
	cr_assert_eq(must_find(w->cur, "/reqs")->v.u64, 7);
	cr_assert_eq(w->cur->nmembers, 2);
	char key[64];
	snprintf(key, sizeof(key), "%u:web", (unsigned)geteuid());
	cr_assert_str_eq(w->key, key);
	cr_assert_eq(must_find(group_of(c, "db")->cur, "/reqs")->v.u64, 5);
	scales_collector_set_flags(c, SCALES_COLLECT_MERGE |
	                                  SCALES_COLLECT_ALL_OWNERS);
	cr_assert_eq(scales_collector_collect(c, err, sizeof(err)), 0);
	cr_assert_str_eq(group_of(c, "web")->key, "*:web");
	scales_collector_free(&c);
	cr_assert_null(c);
	for (int i = 0; i < 3; i++)
		sb_free(b[i]);
	sb_rmdir(dir);
	free(dir);
}

struct warns {
	int n, copies;
	char last[512];
};

static void count_warn(void *arg, const char *path, const char *msg)
{
	struct warns *w = arg;
	w->n++;
	if (strstr(msg, "a copy, skipped"))
		w->copies++;
	snprintf(w->last, sizeof(w->last), "%s: %s", path, msg);
}

Test(collector, a_copy_is_skipped_with_one_warning)
{
	char *dir = sb_tmpdir();
	char path[4096], cpath[4096];
	struct segbuild *b = web("web", 100, 3);
	cr_assert_eq(sb_write(b, dir, path, sizeof(path)), 0);
	/* the same bytes under another pid's name */
	snprintf(cpath, sizeof(cpath), "%s/web.101.1100.seg", dir);
	char cmd[9000];
	snprintf(cmd, sizeof(cmd), "cp '%s' '%s'", path, cpath);
	cr_assert_eq(system(cmd), 0);
	struct warns w = { 0 };
	scales_collector *c =
	    new_collector(dir, SCALES_COLLECT_MERGE, count_warn, &w);
	char err[512];
	for (int i = 0; i < 3; i++)
		cr_assert_eq(scales_collector_collect(c, err, sizeof(err)), 0);
	cr_assert_eq(w.copies, 1, "warned %d times: %s", w.copies, w.last);
	cr_assert(strstr(w.last, "web.101.1100.seg") &&
	              strstr(w.last, "names web pid 100"),
	          "%s", w.last);
	const struct scales_group *g = group_of(c, "web");
	cr_assert_eq(g->nmembers, 1);
	cr_assert_eq(must_find(g->cur, "/reqs")->v.u64, 3);
	scales_collector_free(&c);
	sb_free(b);
	sb_rmdir(dir);
	free(dir);
}

/* A snapshot of b written to its file in one directory, so that every
 * snapshot of b has the same segment path (the collector takes it). */
static struct scales_snapshot *snap(struct segbuild *b)
{
	static char *dir;
	if (!dir)
		dir = sb_tmpdir();
	char path[4096];
	cr_assert_eq(sb_write(b, dir, path, sizeof(path)), 0);
	scales_segment *seg = must_open(path);
	struct scales_snapshot *s = must_snap(seg, 0);
	scales_segment_close(&seg);
	unlink(path);
	return s;
}

Test(collector, rates_meters_and_previous_snapshots)
{
	struct segbuild *b = web("svc", 7, 0);
	uint32_t e = sb_counter(b, "/ticks", NULL);
	struct scales_collector_options o = { .tick_ns =
		                                  SCALES_METER_EVERY_MARK };
	scales_collector *c = NULL;
	cr_assert_eq(scales_collector_new(&o, &c), 0);
	struct scales_snapshot *s = snap(b);
	cr_assert_eq(scales_collector_sample_snapshots(c, &s, 1), 0);
	cr_assert_null(s);
	size_t n;
	const struct scales_group *g = scales_collector_groups(c, &n);
	cr_assert_eq(n, 1);
	size_t i = (size_t)(must_find(g->cur, "/ticks") - g->cur->metrics);
	cr_assert(isnan(g->rates[i].rate));
	struct scales_histo h;
	double secs;
	cr_assert_eq(scales_collector_interval(c, g, i, &h, &secs), -EINVAL);
	usleep(20000);
	sb_counter_add(b, e, 1, 100);
	s = snap(b);
	cr_assert_eq(scales_collector_sample_snapshots(c, &s, 1), 0);
	g = scales_collector_groups(c, &n);
	cr_assert_not_null(g->prev);
	cr_assert_eq(must_find(g->prev, "/ticks")->v.u64, 0);
	double r = g->rates[i].rate;
	cr_assert(r > 0 && r <= 100 / 0.02, "rate %g", r);
	/* a meter that ticks at every collection: the first tick's value is
	 * the rate itself */
	cr_assert_float_eq(g->rates[i].m1, r, 1e-9 * r);
	cr_assert_eq(scales_collector_count(c), 2);
	scales_collector_free(&c);
	sb_free(b);
}

Test(collector, merged_intervals_across_shapes_and_a_new_member)
{
	/* a pre-fork server gains a worker, and the workers' histograms
	 * differ in sub-buckets and resolution: the interval is the old
	 * worker's new values plus everything of the new one */
	struct segbuild *w1 = sb_new("pf", 1, 11, NULL);
	uint32_t h1 = sb_histogram(w1, "/lat", 5, 0, NB, 1e-9, 1);
	for (int i = 0; i < 50; i++)
		sb_hist_record(w1, h1, 0, 1000);
	struct scales_collector_options o = { .flags = SCALES_COLLECT_MERGE };
	scales_collector *c = NULL;
	cr_assert_eq(scales_collector_new(&o, &c), 0);
	struct scales_snapshot *s = snap(w1);
	cr_assert_eq(scales_collector_sample_snapshots(c, &s, 1), 0);
	size_t n;
	const struct scales_group *g = scales_collector_groups(c, &n);
	struct scales_histo d;
	double secs;
	cr_assert_eq(scales_collector_interval(c, g, 0, &d, &secs), -EAGAIN);

	for (int i = 0; i < 5; i++)
		sb_hist_record(w1, h1, 0, 2000);
	struct segbuild *w2 = sb_new("pf", 2, 12, NULL);
	uint32_t h2 = sb_histogram(w2, "/lat", 7, 3, NB, 1e-9, 1);
	for (int i = 0; i < 7; i++)
		sb_hist_record(w2, h2, 0, 3000);
	struct scales_snapshot *v[2] = { snap(w1), snap(w2) };
	cr_assert_eq(scales_collector_sample_snapshots(c, v, 2), 0);
	g = scales_collector_groups(c, &n);
	cr_assert_eq(n, 1);
	cr_assert_eq(g->nmembers, 2);
	const struct scales_metric *m = must_find(g->cur, "/lat");
	cr_assert_eq(m->side->hist.count, 62);
	cr_assert_eq(scales_collector_interval(c, g, 0, &d, &secs), 0);
	struct scales_hstats st;
	scales_histo_stats(&d, &st);
	cr_assert_eq(st.count, 12);
	cr_assert(fabs(st.min - 2e-6) <= 4e-8, "min %g", st.min);
	cr_assert(fabs(st.max - 3e-6) <= 6e-8, "max %g", st.max);
	scales_collector_free(&c);
	sb_free(w1);
	sb_free(w2);
}

/* One process of the "many" app: every kind that merges, values from k. */
static struct segbuild *many_proc(int32_t pid, uint64_t k)
{
	struct segbuild *b = sb_new("many", pid, 1000 + (uint64_t)pid, NULL);
	sb_counter_add(b, sb_counter(b, "/c", NULL), 0, 3 * k + 1);
	uint32_t g = sb_gauge(b, "/mean", (int64_t)k - 7);
	sb_entry(b, g)->param[0] = SCALES_SHM_MERGE_MEAN;
	sb_gauge_f64(b, "/f", 0.1 * (double)k);
	sb_state(b, "/s", k % 3 ? "up" : "down");
	uint32_t h = sb_histogram(b, "/h", 5, 0, NB, 1e-9, 1);
	for (uint64_t v = 1; v < 1000000; v = v * 7 + k)
		sb_hist_record(b, h, 0, v);
	if (k % 2) /* a path only some processes have */
		sb_counter_add(b, sb_counter(b, "/odd", NULL), 0, k);
	return b;
}

static void assert_same_metric(const struct scales_metric *x,
                               const struct scales_metric *y)
{
	cr_assert_str_eq(x->path, y->path);
	cr_assert_eq(x->kind, y->kind, "%s", x->path);
	cr_assert_eq(x->flags, y->flags, "%s", x->path);
	cr_assert_eq(x->generation, y->generation, "%s", x->path);
	if (x->kind == SCALES_KIND_HISTOGRAM) {
		cr_assert_eq(x->side->hist.count, y->side->hist.count);
		cr_assert_eq(x->side->hist.sum, y->side->hist.sum);
		cr_assert_eq(x->side->hist.min, y->side->hist.min);
		cr_assert_eq(x->side->hist.max, y->side->hist.max);
		cr_assert_eq(memcmp(x->side->hist.buckets,
		                    y->side->hist.buckets,
		                    8 * (size_t)x->side->hist.nbuckets),
		             0);
	} else if (x->kind == SCALES_KIND_STATE) {
		cr_assert_str_eq(x->v.state, y->v.state);
		cr_assert_eq(x->side->nstates, y->side->nstates);
		for (uint32_t i = 0; i < x->side->nstates; i++) {
			cr_assert_str_eq(x->side->states[i].value,
			                 y->side->states[i].value);
			cr_assert_eq(x->side->states[i].count,
			             y->side->states[i].count);
		}
	} else {
		cr_assert_eq(memcmp(&x->v, &y->v, sizeof(x->v)), 0, "%s",
		             x->path);
	}
}

/* SCALES_COLLECT_NO_MEMBERS merges each member as it is taken and keeps
 * none (members NULL): the merged snapshot is the one of the usual
 * collection, to the bit (means, doubles in member order, states, a path
 * some members lack, histograms), a single member stays its own group,
 * and rates and prev work across collections. */
Test(collector, merged_as_taken_equals_the_merge_of_all)
{
	char *dir = sb_tmpdir();
	char path[4096];
	enum {
		N = 40
	};
	struct segbuild *b[N + 1];
	for (int i = 0; i < N; i++) {
		b[i] = many_proc(100 + i, (uint64_t)i);
		cr_assert_eq(sb_write(b[i], dir, path, sizeof(path)), 0);
	}
	b[N] = web("solo", 999, 5);
	cr_assert_eq(sb_write(b[N], dir, path, sizeof(path)), 0);
	scales_collector *all =
	    new_collector(dir, SCALES_COLLECT_MERGE, NULL, NULL);
	scales_collector *one =
	    new_collector(dir, SCALES_COLLECT_MERGE | SCALES_COLLECT_NO_MEMBERS,
	                  NULL, NULL);
	char err[512];
	for (int round = 0; round < 2; round++) {
		cr_assert_eq(scales_collector_collect(all, err, sizeof(err)),
		             0);
		cr_assert_eq(scales_collector_collect(one, err, sizeof(err)),
		             0);
		size_t na, no;
		const struct scales_group *ga =
		    scales_collector_groups(all, &na);
		const struct scales_group *go =
		    scales_collector_groups(one, &no);
		cr_assert_eq(na, 2);
		cr_assert_eq(no, 2);
		for (size_t i = 0; i < na; i++) {
			cr_assert_str_eq(ga[i].key, go[i].key);
			cr_assert_eq(ga[i].nmembers, go[i].nmembers);
			cr_assert_eq(ga[i].liveness, go[i].liveness);
			const struct scales_snapshot *x = ga[i].cur,
			                             *y = go[i].cur;
			cr_assert_eq(x->n, y->n);
			cr_assert_eq(x->nmembers, y->nmembers);
			for (uint32_t m = 0; m < x->nmembers; m++)
				cr_assert_eq(x->member_pids[m],
				             y->member_pids[m]);
			for (size_t k = 0; k < x->n; k++)
				assert_same_metric(&x->metrics[k],
				                   &y->metrics[k]);
			cr_assert_eq(go[i].prev != NULL, round == 1);
			cr_assert_not_null(go[i].rates);
		}
		const struct scales_group *m = group_of(one, "many");
		cr_assert_eq(m->nmembers, N);
		cr_assert_null(m->members);
		struct scales_histo h;
		double secs;
		size_t hi = (size_t)(scales_snapshot_find(m->cur, "/h") -
		                     m->cur->metrics);
		cr_assert_eq(m->cur->metrics[hi].kind, SCALES_KIND_HISTOGRAM);
		cr_assert_eq(scales_collector_interval(one, m, hi, &h, &secs),
		             -EINVAL);
		const struct scales_group *s = group_of(one, "solo");
		cr_assert_eq(s->nmembers, 1);
		cr_assert_eq(s->cur, s->members[0]);
		cr_assert_eq(s->cur->proc.pid, 999);
	}
	scales_collector_free(&all);
	scales_collector_free(&one);
	for (int i = 0; i <= N; i++)
		sb_free(b[i]);
	sb_rmdir(dir);
}

/* What scales_collector_each() passed, checked against a collection. */
struct each_check {
	const struct scales_group *want; /* the collection's groups */
	size_t nwant, seen;
	int stop_at; /* return 7 at this call (1-based; 0: never) */
};

static int each_cb(void *arg, const struct scales_group *g)
{
	struct each_check *e = arg;
	cr_assert_lt(e->seen, e->nwant);
	const struct scales_group *w = &e->want[e->seen++];
	cr_assert_str_eq(g->key, w->key);
	cr_assert_str_eq(g->app, w->app);
	cr_assert_eq(g->uid, w->uid);
	cr_assert_eq(g->nmembers, w->nmembers);
	cr_assert_eq(g->liveness, w->liveness);
	cr_assert_null(g->prev);
	cr_assert_null(g->rates);
	const struct scales_snapshot *x = w->cur, *y = g->cur;
	cr_assert_eq(x->n, y->n);
	cr_assert_eq(x->proc.pid, y->proc.pid);
	cr_assert_eq(x->nmembers, y->nmembers);
	for (uint32_t m = 0; m < x->nmembers; m++)
		cr_assert_eq(x->member_pids[m], y->member_pids[m]);
	for (size_t k = 0; k < x->n; k++)
		assert_same_metric(&x->metrics[k], &y->metrics[k]);
	return (int)e->seen == e->stop_at ? 7 : 0;
}

/* scales_collector_each() passes, one at a time and in order, the groups
 * a collection makes (per file and merged per app), leaves the last
 * collection as it was, and stops when its callback says so. */
Test(collector, each_passes_the_groups_of_a_collection)
{
	char *dir = sb_tmpdir();
	char path[4096];
	enum {
		N = 12
	};
	struct segbuild *b[N + 2];
	for (int i = 0; i < N; i++)
		b[i] = many_proc(300 - i, (uint64_t)i); /* pids against order */
	b[N] = web("solo", 999, 5);
	b[N + 1] = web("db", 50, 6);
	for (int i = 0; i < N + 2; i++)
		cr_assert_eq(sb_write(b[i], dir, path, sizeof(path)), 0);
	const unsigned modes[] = { 0, SCALES_COLLECT_MERGE };
	for (size_t mi = 0; mi < 2; mi++) {
		scales_collector *c = new_collector(dir, modes[mi], NULL, NULL);
		char err[512];
		cr_assert_eq(scales_collector_collect(c, err, sizeof(err)), 0);
		size_t n;
		const struct scales_group *g = scales_collector_groups(c, &n);
		cr_assert_eq(n, mi ? 3 : N + 2);
		struct each_check e = { g, n, 0, 0 };
		cr_assert_eq(scales_collector_each(c, each_cb, &e), 0);
		cr_assert_eq(e.seen, n);
		/* the last collection is untouched */
		size_t n2;
		cr_assert_eq(scales_collector_groups(c, &n2), g);
		cr_assert_eq(n2, n);
		cr_assert_eq(scales_collector_count(c), 1);
		struct each_check s = { g, n, 0, 2 };
		cr_assert_eq(scales_collector_each(c, each_cb, &s), 7);
		cr_assert_eq(s.seen, 2);
		scales_collector_free(&c);
	}
	for (int i = 0; i < N + 2; i++)
		sb_free(b[i]);
	sb_rmdir(dir);
	free(dir);
}

static int each_maps_nothing(void *arg, const struct scales_group *g)
{
	(void)g;
	cr_assert_eq(maps_under(arg), 0, "a segment is mapped");
	return 0;
}

/* A one-shot pass (scales-top -1, scales-export --once: one snapshot of
 * each process) maps no segment (issue 17.2: on a virtual machine a
 * mapping costs more than reading the segment), and scales_collector_
 * each() keeps no segment's cache (some 8 KB a process, faulted in); a
 * warm collection maps each file once. */
Test(collector, a_one_shot_pass_maps_no_segment)
{
	char *dir = sb_tmpdir();
	char path[4096];
	enum {
		N = 5
	};
	struct segbuild *b[N];
	for (int i = 0; i < N; i++) {
		b[i] = many_proc(300 + i, (uint64_t)i);
		cr_assert_eq(sb_write(b[i], dir, path, sizeof(path)), 0);
	}
	const unsigned modes[] = { 0, SCALES_COLLECT_MERGE,
		                   SCALES_COLLECT_MERGE |
		                       SCALES_COLLECT_NO_MEMBERS };
	for (size_t mi = 0; mi < 3; mi++) {
		scales_collector *c = new_collector(dir, modes[mi], NULL, NULL);
		char err[512];
		cr_assert_eq(scales_collector_select(c, err, sizeof(err)), 0);
		cr_assert_eq(maps_under(dir), 0);
		cr_assert_eq(scales_collector_each(c, each_maps_nothing, dir),
		             0);
		/* each() kept no segment's cache (a pass no one keeps) */
		const struct scales_selection *sel =
		    scales_collector_selection(c);
		cr_assert_eq(sel->n, N);
		for (size_t i = 0; i < sel->n; i++)
			cr_assert_eq(sel->items[i].seg->cache.nblocks, 0,
			             "%s: cache kept", sel->items[i].path);
		/* so the next collection is cold again, the one after warm */
		cr_assert_eq(scales_collector_collect(c, err, sizeof(err)), 0);
		cr_assert_eq(maps_under(dir), 0);
		for (size_t i = 0; i < sel->n; i++)
			cr_assert_neq(sel->items[i].seg->cache.nblocks, 0);
		cr_assert_eq(scales_collector_collect(c, err, sizeof(err)), 0);
		cr_assert_eq(maps_under(dir), N);
		scales_collector_free(&c);
		cr_assert_eq(maps_under(dir), 0);
	}
	/* and a first collection, as scales-export --once takes it */
	scales_collector *c =
	    new_collector(dir, SCALES_COLLECT_MERGE | SCALES_COLLECT_NO_MEMBERS,
	                  NULL, NULL);
	char err[512];
	cr_assert_eq(scales_collector_collect(c, err, sizeof(err)), 0);
	cr_assert_eq(maps_under(dir), 0);
	size_t n;
	scales_collector_groups(c, &n);
	cr_assert_eq(n, 1);
	scales_collector_free(&c);
	for (int i = 0; i < N; i++)
		sb_free(b[i]);
	sb_rmdir(dir);
	free(dir);
}

/* The previous group is found by app and key (a binary search over the
 * sorted collection): with many groups of several apps, per file and
 * merged, each group's prev is its own previous snapshot, and a group
 * new in this collection has none. */
Test(collector, each_group_finds_its_previous_one)
{
	char *dir = sb_tmpdir();
	char path[4096];
	enum {
		N = 30
	};
	static const char *const apps[] = { "b", "a", "c" };
	struct segbuild *b[N + 1];
	for (int i = 0; i < N; i++) {
		b[i] = web(apps[i % 3], 500 - 7 * i, (uint64_t)i);
		cr_assert_eq(sb_write(b[i], dir, path, sizeof(path)), 0);
	}
	const unsigned modes[] = { 0, SCALES_COLLECT_MERGE };
	for (size_t mi = 0; mi < 2; mi++) {
		scales_collector *c = new_collector(dir, modes[mi], NULL, NULL);
		char err[512];
		cr_assert_eq(scales_collector_collect(c, err, sizeof(err)), 0);
		if (mi == 0) {
			b[N] = web("b", 7, 1); /* a newcomer */
			cr_assert_eq(sb_write(b[N], dir, path, sizeof(path)),
			             0);
		}
		cr_assert_eq(scales_collector_collect(c, err, sizeof(err)), 0);
		size_t n;
		const struct scales_group *g = scales_collector_groups(c, &n);
		cr_assert_eq(n, mi ? 3 : N + 1);
		for (size_t i = 0; i < n; i++) {
			bool fresh = mi == 0 && g[i].cur->proc.pid == 7;
			if (fresh) {
				cr_assert_null(g[i].prev);
				continue;
			}
			cr_assert_not_null(g[i].prev, "%s", g[i].key);
			cr_assert_eq(g[i].prev->proc.pid, g[i].cur->proc.pid);
			cr_assert_str_eq(g[i].prev->proc.app,
			                 g[i].cur->proc.app);
			cr_assert_eq(g[i].prev->nmembers, g[i].cur->nmembers);
			cr_assert_str_eq(g[i].prev->segment_path ?
			                     g[i].prev->segment_path :
			                     "",
			                 g[i].cur->segment_path ?
			                     g[i].cur->segment_path :
			                     "");
		}
		scales_collector_free(&c);
	}
	for (int i = 0; i <= N; i++)
		sb_free(b[i]);
	sb_rmdir(dir);
	free(dir);
}
