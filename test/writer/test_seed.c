/* SPDX-License-Identifier: MIT */
/*
 * test_seed.c: the seed's model: scopes, class-style binding, aggregates,
 * dict stats, callback gauges, release and reuse.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common.h"

static scales_registry *reg;

static void setup(void)
{
	fresh_dir();
	reg = open_reg("seed", 0, 0);
}

static void teardown(void)
{
	if (reg)
		scales_close(&reg);
}

TestSuite(seed, .init = setup, .fini = teardown);

Test(seed, scopes_build_paths)
{
	scales_scope *root, *child;
	cr_assert_eq(scales_scope_root(reg, &root, "/processor"), 0);
	cr_assert_eq(scales_scope_child(root, &child, "thread-%d", 0), 0);
	cr_assert_str_eq(scales_scope_path(child), "/processor/thread-0");
	scales_counter c;
	cr_assert_eq(scales_scope_counter(child, "finished", NULL, &c), 0);
	scales_counter_add(&c, 3);
	struct scales_snapshot *s = snap(reg);
	cr_assert_eq(must_find(s, "/processor/thread-0/finished")->v.u64, 3);
	scales_snapshot_free(&s);
	scales_scope *bad;
	cr_assert_eq(scales_scope_child(root, &bad, "a b"), SCALES_E_PATH);
	cr_assert_null(bad);
	cr_assert_eq(scales_scope_root(reg, &bad, "relative"), SCALES_E_PATH);
	cr_assert_eq(scales_scope_release(&root), 0);
	cr_assert_null(root);
	s = snap(reg);
	cr_assert_eq(s->n, 0, "releasing the root retired the child's stats");
	scales_snapshot_free(&s);
}

struct handler {
	scales_counter requests;
	scales_histogram latency;
	scales_gauge inflight;
	scales_state state;
};

static const struct scales_stat_desc handler_desc[] = {
	SCALES_DESC_COUNTER(struct handler, requests, "requests"),
	SCALES_DESC_HISTOGRAM(struct handler, latency, SCALES_UNIT_SECONDS,
	                      "latency"),
	SCALES_DESC_GAUGE(struct handler, inflight, "in flight"),
	SCALES_DESC_STATE(struct handler, state, "state"), SCALES_DESC_END
};

Test(seed, class_style_binding)
{
	scales_scope *scope;
	struct handler h;
	cr_assert_eq(scales_scope_root(reg, &scope, "/handler"), 0);
	cr_assert_eq(scales_bind(scope, handler_desc, &h), 0);
	scales_counter_inc(&h.requests);
	SCALES_TIME(&h.latency)
	{
		scales_gauge_inc(&h.inflight);
	}
	scales_state_set_str(&h.state, "busy");
	struct scales_snapshot *s = snap(reg);
	cr_assert_eq(must_find(s, "/handler/requests")->v.u64, 1);
	cr_assert_eq(must_find(s, "/handler/latency")->side->hist.count, 1);
	cr_assert_eq(must_find(s, "/handler/latency")->unit,
	             SCALES_UNIT_SECONDS);
	cr_assert_eq(must_find(s, "/handler/inflight")->v.i64, 1);
	cr_assert_str_eq(must_find(s, "/handler/state")->v.state, "busy");
	cr_assert_str_eq(must_find(s, "/handler/requests")->help, "requests");
	scales_snapshot_free(&s);
	/* binding again (a second object) gives the same stats */
	struct handler h2;
	cr_assert_eq(scales_bind(scope, handler_desc, &h2), 0);
	cr_assert_eq(h2.requests.base, h.requests.base);
	scales_scope_release(&scope);
}

/* The seed's own scenario: SumAggregationStat over IntStats that go down. */
Test(seed, sum_aggregation_over_i64_gauges)
{
	scales_scope *root, *c, *d;
	scales_scope_root(reg, &root, "/root");
	cr_assert_eq(scales_scope_sum(root, "value", NULL), 0);
	scales_scope_child(root, &c, "C");
	scales_scope_child(root, &d, "D");
	scales_gauge gc, gd;
	scales_scope_gauge(c, "value", NULL, &gc);
	scales_scope_gauge(d, "value", NULL, &gd);
	scales_gauge_add(&gc, 2);
	struct scales_snapshot *s = snap(reg);
	cr_assert_eq(must_find(s, "/root/value")->v.i64, 2);
	scales_snapshot_free(&s);
	scales_gauge_add(&gc, -1);
	scales_gauge_add(&gd, 5);
	s = snap(reg);
	cr_assert_eq(must_find(s, "/root/value")->v.i64, 6);
	cr_assert_eq(must_find(s, "/root/C/value")->v.i64, 1);
	cr_assert_eq(must_find(s, "/root/D/value")->v.i64, 5);
	scales_snapshot_free(&s);
	scales_scope_release(&root);
}

Test(seed, sum_aggregation_over_counters_drops_released_children)
{
	scales_scope *root, *kids[3];
	scales_scope_root(reg, &root, "/processor");
	scales_scope_sum(root, "finished", NULL);
	scales_counter f[3];
	for (int i = 0; i < 3; i++) {
		scales_scope_child(root, &kids[i], "thread-%d", i);
		scales_scope_counter(kids[i], "finished", NULL, &f[i]);
		scales_counter_add(&f[i], (uint64_t)(i + 1) * 10);
	}
	struct scales_snapshot *s = snap(reg);
	const struct scales_metric *m = must_find(s, "/processor/finished");
	cr_assert_eq(m->kind, SCALES_KIND_COUNTER);
	cr_assert_eq(m->v.u64, 60);
	scales_snapshot_free(&s);
	scales_scope_release(&kids[1]);
	s = snap(reg);
	cr_assert_eq(must_find(s, "/processor/finished")->v.u64, 40,
	             "a released child leaves the aggregate");
	cr_assert_null(scales_snapshot_find(s, "/processor/thread-1/finished"));
	scales_snapshot_free(&s);
	scales_scope_release(&root);
}

/* The seed's HistogramAggregationStat scenario. */
Test(seed, state_histogram_aggregation)
{
	scales_scope *root, *c, *d;
	scales_scope_root(reg, &root, "/root");
	cr_assert_eq(scales_scope_states(root, "state", NULL), 0);
	scales_scope_child(root, &c, "C");
	scales_scope_child(root, &d, "D");
	scales_state sc, sd;
	scales_scope_state(c, "state", NULL, &sc);
	scales_scope_state(d, "state", NULL, &sd);
	scales_state_set_str(&sc, "good");
	scales_state_set_str(&sd, "bad");
	struct scales_snapshot *s = snap(reg);
	cr_assert_eq(must_find(s, "/root/state/good")->v.i64, 1);
	cr_assert_eq(must_find(s, "/root/state/bad")->v.i64, 1);
	scales_snapshot_free(&s);
	scales_state_set_str(&sc, "great");
	scales_state_set_str(&sd, "great");
	s = snap(reg);
	cr_assert_eq(must_find(s, "/root/state/great")->v.i64, 2);
	cr_assert_null(scales_snapshot_find(s, "/root/state/good"),
	               "values no child has are absent");
	cr_assert_null(scales_snapshot_find(s, "/root/state/bad"));
	scales_snapshot_free(&s);
	scales_scope_release(&root);
}

Test(seed, dict_stats_and_key_sums)
{
	scales_dict codes;
	cr_assert_eq(scales_dict_get(reg, "/web/status", NULL, &codes), 0);
	scales_counter ok;
	cr_assert_eq(scales_dict_key(&codes, "200", &ok), 0);
	for (int i = 0; i < 5; i++)
		scales_counter_inc(&ok);
	cr_assert_eq(scales_dict_add(&codes, "404", 2), 0);
	/* any UTF-8 key counts, escaped into one component */
	cr_assert_eq(scales_dict_add(&codes, "Mozilla/5.0 (X11; Linux)", 1), 0);
	cr_assert_eq(scales_dict_add(&codes, "bad\xffkey", 1),
	             SCALES_E_KEY_UTF8);
	struct scales_snapshot *s = snap(reg);
	const struct scales_metric *ua =
	    must_find(s, "/web/status/Mozilla%2F5.0%20%28X11%3B%20Linux%29");
	cr_assert_eq(ua->v.u64, 1);
	cr_assert(ua->flags & SCALES_MF_KEY);
	char key[64];
	scales_derived_value(strrchr(ua->path, '/') + 1, key);
	cr_assert_str_eq(key, "Mozilla/5.0 (X11; Linux)");
	cr_assert_eq(must_find(s, "/web/status/200")->v.u64, 5);
	cr_assert_eq(must_find(s, "/web/status/404")->v.u64, 2);
	cr_assert_eq(must_find(s, "/web/status")->kind, SCALES_KIND_DICT);
	cr_assert_eq(must_find(s, "/web/status")->v.u64, 8);
	scales_snapshot_free(&s);

	/* key-by-key sums over children */
	scales_scope *root, *a, *b;
	scales_scope_root(reg, &root, "/workers");
	scales_scope_sum(root, "codes", NULL);
	scales_scope_child(root, &a, "a");
	scales_scope_child(root, &b, "b");
	scales_dict da, db;
	cr_assert_eq(scales_scope_dict(a, "codes", NULL, &da), 0);
	cr_assert_eq(scales_scope_dict(b, "codes", NULL, &db), 0);
	scales_dict_add(&da, "200", 3);
	scales_dict_add(&db, "200", 4);
	scales_dict_add(&db, "500", 1);
	s = snap(reg);
	cr_assert_eq(must_find(s, "/workers/codes/200")->v.u64, 7);
	cr_assert_eq(must_find(s, "/workers/codes/500")->v.u64, 1);
	scales_snapshot_free(&s);
	scales_scope_release(&a);
	s = snap(reg);
	cr_assert_null(scales_snapshot_find(s, "/workers/a/codes/200"),
	               "a scope's dict keys are released with it");
	cr_assert_eq(must_find(s, "/workers/codes/200")->v.u64, 4);
	scales_snapshot_free(&s);
	scales_scope_release(&root);
}

static int calls;

static double count_calls(void *arg)
{
	(void)arg;
	return (double)__atomic_add_fetch(&calls, 1, __ATOMIC_RELAXED);
}

static int64_t answer(void *arg)
{
	return *(int64_t *)arg;
}

Test(seed, callback_gauges_refreshed_by_the_sampler, .timeout = 30)
{
	struct scales_options o;
	scales_options_init(&o);
	o.app = "sampled";
	o.sampler_interval_ms = 20;
	scales_registry *r;
	cr_assert_eq(scales_open(&o, &r), 0);
	/* /answer first: a round that samples /calls sampled it before */
	int64_t v = 42;
	cr_assert_eq(scales_gauge_callback_i64(r, "/answer", NULL, answer, &v),
	             0);
	cr_assert_eq(scales_gauge_callback(r, "/calls", NULL, count_calls,
	                                   NULL),
	             0);
	cr_assert_eq(scales_gauge_callback(r, "/nofn", NULL, NULL, NULL),
	             -EINVAL);
	double first = -1, later = -1;
	for (int i = 0; i < 500 && later <= first + 2; i++) {
		struct scales_snapshot *s = snap(r);
		/* /answer only from the snapshot after the first that saw
		 * /calls sampled: a snapshot reads /answer before /calls, and
		 * the first round can store both in between */
		if (first > 0)
			cr_assert_eq(must_find(s, "/answer")->v.i64, 42);
		double now = must_find(s, "/calls")->v.f64;
		if (first < 0 && now > 0)
			first = now;
		later = now;
		scales_snapshot_free(&s);
		usleep(10000);
	}
	cr_assert_gt(later, first + 2, "the sampler keeps calling");
	cr_assert_eq(scales_retire(r, "/calls"), 0);
	int frozen = __atomic_load_n(&calls, __ATOMIC_RELAXED);
	usleep(100000);
	cr_assert_eq(__atomic_load_n(&calls, __ATOMIC_RELAXED), frozen,
	             "a retired callback is not called again");
	scales_close(&r);
}

Test(seed, scales_sample_runs_every_callback_once)
{
	struct scales_options o;
	scales_options_init(&o);
	o.app = "manual";
	o.flags = SCALES_NO_SAMPLER;
	scales_registry *r;
	cr_assert_eq(scales_open(&o, &r), 0);
	int64_t v = 7;
	scales_gauge_callback_i64(r, "/seven", NULL, answer, &v);
	struct scales_snapshot *s = snap(r);
	cr_assert_eq(must_find(s, "/seven")->v.i64, 0, "not sampled yet");
	scales_snapshot_free(&s);
	cr_assert_eq(scales_sample(r), 0);
	s = snap(r);
	cr_assert_eq(must_find(s, "/seven")->v.i64, 7);
	scales_snapshot_free(&s);
	scales_close(&r);
}

/*
 * A reader process (churn_reader.c) snapshots while the writer creates and
 * releases child scopes; it checks every snapshot for half-reused entries.
 * It is spawned, not forked: a child forked from this threaded process
 * inherits the allocators' locks as other threads held them, and GCC 12's
 * AddressSanitizer allocator has no fork handlers. make sanitize hung 600 s
 * here: the child's threads waited in SizeClassAllocator64::
 * GetFromAllocator for a lock another thread of the parent held at fork
 * time (the sampler that scales_open() has just started may still be in
 * ASan's thread set-up, which allocates and frees).
 * posix_spawn() runs no fork handlers and the exec gives the reader a
 * process of its own, in every build.
 */
extern char **environ;

Test(seed, million_release_and_reuse_cycles_with_a_reader, .timeout = 600)
{
	struct scales_options o;
	scales_options_init(&o);
	o.app = "churn";
	o.max_entries = 10000;
	scales_registry *r;
	cr_assert_eq(scales_open(&o, &r), 0);
	/* the reader stops at end of file on its stdin: when we close
	 * the pipe's write end (close-on-exec, so the reader holds none) */
	int fds[2];
	cr_assert_eq(pipe2(fds, O_CLOEXEC), 0);
	posix_spawn_file_actions_t fa;
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, fds[0], 0);
	char *argv[] = { CHURN_READER, (char *)scales_registry_path(r), NULL };
	pid_t p;
	cr_assert_eq(posix_spawn(&p, CHURN_READER, &fa, NULL, argv, environ),
	             0);
	posix_spawn_file_actions_destroy(&fa);
	close(fds[0]);
	scales_scope *root;
	scales_scope_root(r, &root, "/churn");
	scales_scope_sum(root, "count", NULL);
	for (int i = 0; i < 1000000; i++) {
		scales_scope *w;
		cr_assert_eq(scales_scope_child(root, &w, "w-%d", i), 0);
		scales_counter c;
		scales_histogram h;
		int rc = scales_scope_counter(w, "count", NULL, &c);
		if (rc)
			cr_assert_fail("cycle %d: %s", i, scales_strerror(rc));
		cr_assert_eq(scales_scope_histogram(w, "lat", NULL, NULL, &h),
		             0);
		scales_counter_inc(&c);
		scales_histogram_record(&h, (uint64_t)i);
		cr_assert_eq(scales_scope_release(&w), 0);
	}
	close(fds[1]);
	int st;
	waitpid(p, &st, 0);
	cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0,
	          "the reader saw a half-reused entry");
	struct scales_snapshot *s = snap(r);
	cr_assert_eq(s->n, 1, "only the aggregate is left");
	cr_assert_lt(s->proc.dir_used, 10, "the directory did not grow");
	scales_snapshot_free(&s);
	scales_scope_release(&root);
	scales_close(&r);
}

static int64_t scoped_value(void *arg)
{
	return *(int64_t *)arg;
}

Test(seed, scope_callback_gauge_released_with_its_scope)
{
	scales_scope *root;
	cr_assert_eq(scales_scope_root(reg, &root, "/pool"), 0);
	int64_t *v = malloc(sizeof *v);
	*v = 11;
	cr_assert_eq(scales_scope_gauge_callback_i64(root, "size", NULL,
	                                             scoped_value, v),
	             0);
	cr_assert_eq(scales_sample(reg), 0);
	struct scales_snapshot *s = snap(reg);
	cr_assert_eq(must_find(s, "/pool/size")->v.i64, 11);
	scales_snapshot_free(&s);
	scales_scope_release(&root);
	free(v); /* safe: the release waited for the callback */
	cr_assert_eq(scales_sample(reg), 0, "no callback left to call");
	s = snap(reg);
	cr_assert_null(scales_snapshot_find(s, "/pool/size"));
	scales_snapshot_free(&s);
}

Test(seed, retire_tree_takes_a_dict_and_its_keys)
{
	scales_dict d;
	cr_assert_eq(scales_dict_get(reg, "/codes", NULL, &d), 0);
	scales_dict_add(&d, "200", 3);
	scales_dict_add(&d, "500", 1);
	scales_counter other;
	scales_counter_get(reg, "/codesX", NULL, &other); /* not below */
	cr_assert_eq(scales_retire_tree(reg, "/codes"), 0);
	struct scales_snapshot *s = snap(reg);
	cr_assert_eq(s->n, 1);
	cr_assert_not_null(scales_snapshot_find(s, "/codesX"));
	scales_snapshot_free(&s);
	cr_assert_eq(scales_retire_tree(reg, "/codes"), -ENOENT);
	cr_assert_eq(scales_retire_tree(reg, "bad"), SCALES_E_PATH);
}
