/* SPDX-License-Identifier: MIT */
/*
 * test_snapshot.c: what a snapshot shows (values, stripes summed, strings,
 * order, retired and half-written entries), the seqlock under a concurrent
 * rewriter, aggregates, merge and filters.
 */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <sys/mman.h>
#include <unistd.h>

#include "common.h"
#include "internal.h"

TestSuite(snapshot, .timeout = 60);

Test(snapshot, values_and_strings)
{
	struct segbuild *b = sb_new("web", 11, 22, NULL);
	uint32_t c = sb_counter(b, "/web/errors", "errors seen");
	for (uint32_t s = 0; s < 3; s++)
		sb_counter_add(b, c, s, 10 + s); /* 10 + 11 + 12 */
	sb_gauge(b, "/web/inflight", -3);
	sb_gauge_f64(b, "/web/load", 0.25);
	sb_state(b, "/web/mode", "waitingForTask");
	sb_state(b, "/web/never", NULL);
	uint32_t h = sb_histogram(b, "/web/latency", 5, 0, 200, 1e-3,
	                          SCALES_SHM_UNIT_SECONDS);
	sb_hist_record(b, h, 0, 10);
	sb_hist_record(b, h, 1, 20);
	sb_hist_record(b, h, 2, 30);
	sb_entry(b, h)->help = sb_string(b, "latency \"quoted\"");
	struct scales_snapshot *s = build_snap(b, 0);
	cr_assert_eq(s->n, 6);
	cr_assert_eq(s->invalid, 0);
	cr_assert_eq(s->skipped, 0);
	for (size_t i = 1; i < s->n; i++)
		cr_assert_lt(strcmp(s->metrics[i - 1].path, s->metrics[i].path),
		             0, "not sorted");
	const struct scales_metric *m = must_find(s, "/web/errors");
	cr_assert_eq(m->kind, SCALES_KIND_COUNTER);
	cr_assert_eq(m->v.u64, 33);
	cr_assert_str_eq(m->help, "errors seen");
	cr_assert_eq(m->entry, c);
	cr_assert_eq(m->generation, 2);
	cr_assert_eq(m->agg, SCALES_AGG_NONE);
	m = must_find(s, "/web/inflight");
	cr_assert_eq(m->kind, SCALES_KIND_GAUGE);
	cr_assert_eq(m->v.i64, -3);
	cr_assert_null(m->help);
	m = must_find(s, "/web/load");
	cr_assert_eq(m->kind, SCALES_KIND_GAUGE_F64);
	cr_assert_eq(m->v.f64, 0.25);
	m = must_find(s, "/web/mode");
	cr_assert_eq(m->kind, SCALES_KIND_STATE);
	cr_assert_str_eq(m->v.state, "waitingForTask");
	cr_assert_null(must_find(s, "/web/never")->v.state);
	m = must_find(s, "/web/latency");
	cr_assert_eq(m->kind, SCALES_KIND_HISTOGRAM);
	cr_assert_eq(m->unit, SCALES_UNIT_SECONDS);
	cr_assert_str_eq(m->help, "latency \"quoted\"");
	cr_assert_eq(m->side->hist.count, 3);
	cr_assert_eq(m->side->hist.sum, 60);
	cr_assert_eq(m->side->hist.min, 10);
	cr_assert_eq(m->side->hist.max, 30);
	cr_assert_eq(m->side->hist.nbuckets, 200);
	cr_assert_eq(m->side->hist.scale, 1e-3);
	cr_assert_eq(m->side->hist.buckets[10] + m->side->hist.buckets[20] +
	                 m->side->hist.buckets[30],
	             3);
	cr_assert_null(scales_snapshot_find(s, "/web"));
	cr_assert_null(scales_snapshot_find(s, "/web/zzz"));
	cr_assert_eq(s->proc.pid, 11);
	cr_assert_str_eq(s->proc.app, "web");
	cr_assert_gt(s->mono_ns, 0);
	cr_assert_gt(s->real_ns, 0);
	cr_assert_eq(s->nmembers, 1);
	cr_assert_eq(s->member_pids[0], 11);
	scales_snapshot_free(&s);
	sb_free(b);
}

Test(snapshot, retired_free_and_half_written_entries_are_not_shown)
{
	struct segbuild *b = sb_new("web", 1, 1, NULL);
	sb_counter(b, "/a", NULL);
	uint32_t r = sb_counter(b, "/retired", NULL);
	sb_retire(b, r);
	uint32_t f = sb_counter(b, "/free", NULL);
	sb_entry(b, f)->state = SCALES_SHM_FREE;
	uint32_t odd = sb_counter(b, "/odd", NULL);
	sb_entry(b, odd)->generation = 7; /* being rewritten */
	sb_counter(b, "/z", NULL);
	struct scales_snapshot *s = build_snap(b, 0);
	cr_assert_eq(s->n, 2);
	cr_assert_str_eq(s->metrics[0].path, "/a");
	cr_assert_str_eq(s->metrics[1].path, "/z");
	cr_assert_eq(s->skipped, 1); /* /odd, after its retries */
	scales_snapshot_free(&s);
	sb_free(b);
}

Test(snapshot, unsorted_directory_and_duplicates)
{
	struct segbuild *b = sb_new("web", 1, 1, NULL);
	sb_gauge(b, "/c", 3);
	sb_gauge(b, "/a", 1);
	sb_gauge(b, "/b", 2);
	sb_gauge(b, "/a", 9); /* the same path in two slots */
	struct scales_snapshot *s = build_snap(b, 0);
	cr_assert_eq(s->n, 3);
	cr_assert_str_eq(s->metrics[0].path, "/a");
	cr_assert_eq(s->metrics[0].v.i64, 1); /* the lower slot */
	cr_assert_str_eq(s->metrics[1].path, "/b");
	cr_assert_str_eq(s->metrics[2].path, "/c");
	cr_assert_eq(s->skipped, 1);
	scales_snapshot_free(&s);
	sb_free(b);
}

Test(snapshot, filter_and_match)
{
	const char *g1[] = { "/web/*" };
	cr_assert(scales_path_match(g1, 1, "/web/errors"));
	cr_assert(scales_path_match(g1, 1, "/web/a/b"));
	cr_assert(!scales_path_match(g1, 1, "/api/errors"));
	cr_assert(scales_path_match(NULL, 0, "/anything"));
	const char *g2[] = { "/api/*", "*/errors" };
	cr_assert(scales_path_match(g2, 2, "/web/errors"));

	struct segbuild *b = sb_new("web", 1, 1, NULL);
	sb_counter(b, "/web/errors", NULL);
	sb_counter(b, "/web/ok", NULL);
	sb_counter(b, "/api/errors", NULL);
	sb_counter(b, "/api/ok", NULL);
	struct scales_snapshot *s = build_snap(b, 0);
	scales_snapshot_filter(s, g2, 2);
	cr_assert_eq(s->n, 3);
	cr_assert_str_eq(s->metrics[0].path, "/api/errors");
	cr_assert_str_eq(s->metrics[1].path, "/api/ok");
	cr_assert_str_eq(s->metrics[2].path, "/web/errors");
	scales_snapshot_filter(s, NULL, 0);
	cr_assert_eq(s->n, 3);
	scales_snapshot_free(&s);
	sb_free(b);
}

/* "^" excludes (varnishstat's -X): alone, with includes, several */
Test(snapshot, filter_exclusions)
{
	const char *x1[] = { "^/web/*" };
	cr_assert(!scales_path_match(x1, 1, "/web/errors"));
	cr_assert(scales_path_match(x1, 1, "/api/errors"));
	const char *x2[] = { "/web/*", "^*/debug/*", "/api/ok" };
	cr_assert(scales_path_match(x2, 3, "/web/errors"));
	cr_assert(!scales_path_match(x2, 3, "/web/debug/x"));
	cr_assert(scales_path_match(x2, 3, "/api/ok"));
	cr_assert(!scales_path_match(x2, 3, "/api/errors"));
	const char *x3[] = { "^*/ok", "^/api/*" };
	cr_assert(scales_path_match(x3, 2, "/web/errors"));
	cr_assert(!scales_path_match(x3, 2, "/web/ok"));
	cr_assert(!scales_path_match(x3, 2, "/api/errors"));

	struct segbuild *b = sb_new("web", 1, 1, NULL);
	sb_counter(b, "/web/errors", NULL);
	sb_counter(b, "/web/ok", NULL);
	sb_counter(b, "/api/errors", NULL);
	struct scales_snapshot *s = build_snap(b, 0);
	scales_snapshot_filter(s, x3, 2);
	cr_assert_eq(s->n, 1);
	cr_assert_str_eq(s->metrics[0].path, "/web/errors");
	scales_snapshot_free(&s);
	sb_free(b);
}

Test(snapshot, kind_and_unit_names)
{
	cr_assert_str_eq(scales_kind_name(SCALES_KIND_COUNTER), "counter");
	cr_assert_str_eq(scales_kind_name(SCALES_KIND_GAUGE), "gauge");
	cr_assert_str_eq(scales_kind_name(SCALES_KIND_GAUGE_F64), "gauge_f64");
	cr_assert_str_eq(scales_kind_name(SCALES_KIND_STATE), "state");
	cr_assert_str_eq(scales_kind_name(SCALES_KIND_HISTOGRAM), "histogram");
	cr_assert_str_eq(scales_kind_name(SCALES_KIND_DICT), "dict");
	cr_assert_str_eq(scales_kind_name(77), "");
	cr_assert_str_eq(scales_unit_name(SCALES_UNIT_SECONDS), "seconds");
	cr_assert_str_eq(scales_unit_name(SCALES_UNIT_BYTES), "bytes");
	cr_assert_str_eq(scales_unit_name(0), "");
}

/* ------------------------------------------------------------- seqlock */

/*
 * A rewriter thread republishes entry slots under new paths, as the
 * writer reuses retired slots (docs/format.md, "Publication protocol"):
 * generation odd, release fence, path and value, generation even
 * (release), state LIVE (release). Each gauge's value is the number in its
 * path, written only inside the odd window: a snapshot that ever shows
 * "/t/<n>" with another value has torn an entry.
 */
struct rewriter {
	unsigned char *map;
	struct scales_shm_header *h;
	uint32_t nslots;
	atomic_bool stop;
	uint64_t rounds;
};

static void *rewrite(void *arg)
{
	struct rewriter *r = arg;
	uint64_t n = 1000;
	while (!atomic_load(&r->stop)) {
		for (uint32_t i = 0; i < r->nslots; i++, n++) {
			struct scales_shm_entry *e =
			    (void *)(r->map + r->h->dir_offset +
			             (uint64_t)i * r->h->entry_size);
			uint32_t g =
			    __atomic_load_n(&e->generation, __ATOMIC_RELAXED);
			__atomic_store_n(&e->generation, g + 1,
			                 __ATOMIC_RELAXED);
			__atomic_thread_fence(__ATOMIC_RELEASE);
			char p[32];
			int len = snprintf(p, sizeof(p), "/t/%llu",
			                   (unsigned long long)n);
			/* byte by byte, like any plain copy could tear */
			for (int k = 0; k <= len; k++)
				__atomic_store_n(&e->path[k], p[k],
				                 __ATOMIC_RELAXED);
			__atomic_store_n(&e->path_len, (uint32_t)len,
			                 __ATOMIC_RELAXED);
			__atomic_store_n((int64_t *)(void *)(r->map +
			                                     e->data_offset),
			                 (int64_t)n, __ATOMIC_RELAXED);
			__atomic_store_n(&e->generation, g + 2,
			                 __ATOMIC_RELEASE);
			__atomic_store_n(&e->state, SCALES_SHM_LIVE,
			                 __ATOMIC_RELEASE);
		}
		r->rounds++;
	}
	return NULL;
}

/* Gauges "/t/<100 + i>" = 100 + i for i < n, written into dir (path). */
static struct segbuild *torn_gauges(uint32_t n, const char *dir, char *path,
                                    size_t len)
{
	struct segbuild *b = sb_new("torn", 1, 1, NULL);
	for (uint32_t i = 0; i < n; i++) {
		char p[32];
		snprintf(p, sizeof(p), "/t/%u", 100 + i);
		sb_gauge(b, p, 100 + i);
	}
	cr_assert_eq(sb_write(b, dir, path, len), 0);
	return b;
}

/* The file at path mapped writable and shared, as a writer maps it (*fd
 * stays open). */
static unsigned char *map_writable(const char *path, size_t size, int *fd)
{
	*fd = open(path, O_RDWR);
	cr_assert_geq(*fd, 0);
	unsigned char *map =
	    mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, *fd, 0);
	cr_assert_neq(map, MAP_FAILED);
	return map;
}

Test(snapshot, seqlock_never_shows_a_torn_entry)
{
	char *dir = sb_tmpdir();
	uint32_t nslots = 16;
	char path[4096];
	struct segbuild *b = torn_gauges(nslots, dir, path, sizeof(path));
	int fd;
	unsigned char *map = map_writable(path, b->size, &fd);
	struct rewriter r = { map, (void *)map, nslots, false, 0 };
	pthread_t t;
	pthread_create(&t, NULL, rewrite, &r);
	scales_segment *seg = must_open(path);
	uint64_t shown = 0, skipped = 0;
	for (int i = 0; i < 2000; i++) {
		struct scales_snapshot *s = must_snap(seg, 0);
		for (size_t k = 0; k < s->n; k++) {
			const struct scales_metric *m = &s->metrics[k];
			long long want = atoll(m->path + 3);
			cr_assert_eq(m->v.i64, want, "torn: %s = %lld", m->path,
			             (long long)m->v.i64);
			cr_assert_eq(m->generation % 2, 0);
		}
		shown += s->n;
		skipped += s->skipped;
		cr_assert_eq(s->invalid, 0);
		scales_snapshot_free(&s);
	}
	atomic_store(&r.stop, true);
	pthread_join(t, NULL);
	cr_log_info("seqlock: %llu shown, %llu skipped, %llu rewrite rounds",
	            (unsigned long long)shown, (unsigned long long)skipped,
	            (unsigned long long)r.rounds);
	scales_segment_close(&seg);
	munmap(map, b->size);
	close(fd);
	sb_free(b);
	sb_rmdir(dir);
	free(dir);
}

/* ---------------------------------------------------------- aggregates */

/* The seed tour's /processor (issue 3). */
Test(snapshot, aggregate_seed_processor)
{
	struct segbuild *b = sb_new("tour", 1, 1, NULL);
	sb_agg(b, "/processor/finished", SCALES_SHM_AGG_SUM, "finished");
	sb_agg(b, "/processor/state", SCALES_SHM_AGG_STATES, "state");
	const char *states[] = { "waitingForTask", "waitingForTask",
		                 "performingTask" };
	for (int i = 0; i < 3; i++) {
		char p[64];
		snprintf(p, sizeof(p), "/processor/thread-%d/finished", i);
		uint32_t c = sb_counter(b, p, NULL);
		sb_counter_add(b, c, (uint32_t)i, 10u * (uint32_t)(i + 1));
		snprintf(p, sizeof(p), "/processor/thread-%d/state", i);
		sb_state(b, p, states[i]);
	}
	/* the seed's multi-level example: a grandchild counts, as any
	 * descendant with no nearer declaration does (issue 14 item 8) */
	sb_counter_add(b,
	               sb_counter(b, "/processor/pool/thread-2/finished", NULL),
	               0, 1000);
	sb_state(b, "/processor/pool/thread-2/state", "performingTask");
	/* not counted: another stat name */
	sb_counter_add(b, sb_counter(b, "/processor/thread-0/other", NULL), 0,
	               1000);
	struct scales_snapshot *s = build_snap(b, 0);
	cr_assert_eq(must_find(s, "/processor/thread-1/finished")->v.u64, 20);
	const struct scales_metric *m = must_find(s, "/processor/finished");
	cr_assert_eq(m->kind, SCALES_KIND_COUNTER);
	cr_assert_eq(m->agg, SCALES_AGG_SUM);
	cr_assert_eq(m->v.u64, 1060);
	cr_assert_eq(m->entry, 0);
	m = must_find(s, "/processor/state/waitingForTask");
	cr_assert_eq(m->kind, SCALES_KIND_GAUGE);
	cr_assert_eq(m->v.i64, 2);
	cr_assert_eq(m->flags & SCALES_MF_DERIVED, SCALES_MF_DERIVED);
	cr_assert_eq(m->agg, SCALES_AGG_STATES);
	cr_assert_eq(must_find(s, "/processor/state/performingTask")->v.i64, 2);
	m = must_find(s, "/processor/state");
	cr_assert_eq(m->kind, SCALES_KIND_GAUGE);
	cr_assert_eq(m->v.i64, 4);
	for (size_t i = 1; i < s->n; i++)
		cr_assert_lt(strcmp(s->metrics[i - 1].path, s->metrics[i].path),
		             0, "not sorted");
	scales_snapshot_free(&s);

	/* without aggregation: no declarations shown */
	s = build_snap(b, SCALES_SNAP_NO_AGGREGATES);
	cr_assert_null(scales_snapshot_find(s, "/processor/finished"));
	cr_assert_null(scales_snapshot_find(s, "/processor/state"));
	cr_assert_eq(scales_snapshot_aggregate(s), 0);
	cr_assert_eq(must_find(s, "/processor/finished")->v.u64, 1060);
	cr_assert_eq(scales_snapshot_aggregate(s), 0); /* once only */
	scales_snapshot_free(&s);
	sb_free(b);
}

/* The seed's IntStat sums that go down (issue 3). */
Test(snapshot, aggregate_sum_of_i64_gauges)
{
	struct segbuild *b = sb_new("seed", 1, 1, NULL);
	sb_agg(b, "/root/n", SCALES_SHM_AGG_SUM, "n");
	uint32_t c = sb_gauge(b, "/root/C/n", 2);
	uint32_t d = sb_gauge(b, "/root/D/n", 0);
	struct scales_snapshot *s = build_snap(b, 0);
	const struct scales_metric *m = must_find(s, "/root/n");
	cr_assert_eq(m->kind, SCALES_KIND_GAUGE);
	cr_assert_eq(m->v.i64, 2);
	scales_snapshot_free(&s);
	int64_t v = 1;
	memcpy(b->img + sb_entry(b, c)->data_offset, &v, 8);
	v = 5;
	memcpy(b->img + sb_entry(b, d)->data_offset, &v, 8);
	s = build_snap(b, 0);
	cr_assert_eq(must_find(s, "/root/n")->v.i64, 6);
	cr_assert_eq(must_find(s, "/root/C/n")->v.i64, 1);
	cr_assert_eq(must_find(s, "/root/D/n")->v.i64, 5);
	scales_snapshot_free(&s);
	/* a double among them makes a double sum */
	sb_gauge_f64(b, "/root/E/n", 0.5);
	s = build_snap(b, 0);
	m = must_find(s, "/root/n");
	cr_assert_eq(m->kind, SCALES_KIND_GAUGE_F64);
	cr_assert_float_eq(m->v.f64, 6.5, 1e-12);
	scales_snapshot_free(&s);
	sb_free(b);
}

/* The seed's state histogram (issue 3). */
Test(snapshot, aggregate_states_change)
{
	struct segbuild *b = sb_new("seed", 1, 1, NULL);
	sb_agg(b, "/root/status", SCALES_SHM_AGG_STATES, "status");
	uint32_t c = sb_state(b, "/root/C/status", "good");
	uint32_t d = sb_state(b, "/root/D/status", "bad");
	sb_state(b, "/root/E/status", NULL); /* never set: not counted */
	struct scales_snapshot *s = build_snap(b, 0);
	cr_assert_eq(must_find(s, "/root/status/good")->v.i64, 1);
	cr_assert_eq(must_find(s, "/root/status/bad")->v.i64, 1);
	cr_assert_eq(must_find(s, "/root/status")->v.i64, 2);
	scales_snapshot_free(&s);
	sb_state_set(b, c, "great");
	sb_state_set(b, d, "great");
	s = build_snap(b, 0);
	cr_assert_eq(must_find(s, "/root/status/great")->v.i64, 2);
	cr_assert_null(scales_snapshot_find(s, "/root/status/good"));
	cr_assert_null(scales_snapshot_find(s, "/root/status/bad"));
	scales_snapshot_free(&s);
	/* a value that is not a path component is made one (percent-encoded) */
	sb_state_set(b, c, "a/b");
	s = build_snap(b, 0);
	cr_assert_eq(must_find(s, "/root/status/a%2Fb")->v.i64, 1);
	scales_snapshot_free(&s);
	sb_free(b);
}

Test(snapshot, dict_totals_and_key_sums)
{
	struct segbuild *b = sb_new("web", 1, 1, NULL);
	sb_agg(b, "/web/status", SCALES_SHM_AGG_SUM, "status");
	const char *kids[] = { "a", "b" };
	for (int k = 0; k < 2; k++) {
		char p[64];
		snprintf(p, sizeof(p), "/web/%s/status", kids[k]);
		sb_dict(b, p);
		snprintf(p, sizeof(p), "/web/%s/status/200", kids[k]);
		sb_counter_add(b, sb_counter(b, p, NULL), 0, 10u + (unsigned)k);
		snprintf(p, sizeof(p), "/web/%s/status/404", kids[k]);
		sb_counter_add(b, sb_counter(b, p, NULL), 1, 1);
	}
	sb_counter_add(b, sb_counter(b, "/web/b/status/500", NULL), 2, 7);
	struct scales_snapshot *s = build_snap(b, 0);
	const struct scales_metric *m = must_find(s, "/web/a/status");
	cr_assert_eq(m->kind, SCALES_KIND_DICT);
	cr_assert_eq(m->v.u64, 11);
	cr_assert_eq(must_find(s, "/web/b/status")->v.u64, 19);
	m = must_find(s, "/web/status");
	cr_assert_eq(m->kind, SCALES_KIND_DICT);
	cr_assert_eq(m->agg, SCALES_AGG_SUM);
	cr_assert_eq(m->v.u64, 30);
	cr_assert_eq(must_find(s, "/web/status/200")->v.u64, 21);
	cr_assert_eq(must_find(s, "/web/status/404")->v.u64, 2);
	m = must_find(s, "/web/status/500");
	cr_assert_eq(m->v.u64, 7);
	cr_assert_eq(m->kind, SCALES_KIND_COUNTER);
	cr_assert_eq(m->flags & SCALES_MF_DERIVED, SCALES_MF_DERIVED);
	scales_snapshot_free(&s);
	sb_free(b);
}

Test(snapshot, nested_aggregates_and_histogram_sums)
{
	struct sb_config cfg = { .stripe_size = 65536 };
	struct segbuild *b = sb_new("web", 1, 1, &cfg);
	/* /a/n = sum of /a/<x>/n, where /a/x/n is itself a sum */
	sb_agg(b, "/a/n", SCALES_SHM_AGG_SUM, "n");
	sb_agg(b, "/a/x/n", SCALES_SHM_AGG_SUM, "n");
	sb_counter_add(b, sb_counter(b, "/a/x/p/n", NULL), 0, 4);
	sb_counter_add(b, sb_counter(b, "/a/x/q/n", NULL), 0, 5);
	sb_counter_add(b, sb_counter(b, "/a/y/n", NULL), 0, 100);
	/* histograms summed bucket-wise */
	sb_agg(b, "/h/lat", SCALES_SHM_AGG_SUM, "lat");
	uint32_t h1 = sb_histogram(b, "/h/1/lat", 5, 0, 300, 1e-9, 1);
	uint32_t h2 = sb_histogram(b, "/h/2/lat", 5, 0, 300, 1e-9, 1);
	sb_hist_record(b, h1, 0, 5);
	sb_hist_record(b, h2, 0, 5);
	sb_hist_record(b, h2, 1, 500);
	/* an aggregate at the root, over /<c>/top */
	sb_agg(b, "/top", SCALES_SHM_AGG_SUM, "top");
	sb_gauge(b, "/p/top", 3);
	sb_gauge(b, "/q/top", 4);
	struct scales_snapshot *s = build_snap(b, 0);
	cr_assert_eq(must_find(s, "/a/x/n")->v.u64, 9);
	/* /a/x/p/n and /a/x/q/n go to /a/x/n, the nearer one, only */
	cr_assert_eq(must_find(s, "/a/n")->v.u64, 109);
	const struct scales_metric *m = must_find(s, "/h/lat");
	cr_assert_eq(m->kind, SCALES_KIND_HISTOGRAM);
	cr_assert_eq(m->side->hist.count, 3);
	cr_assert_eq(m->side->hist.sum, 510);
	cr_assert_eq(m->side->hist.min, 5);
	cr_assert_eq(m->side->hist.max, 500);
	cr_assert_eq(m->side->hist.buckets[5], 2);
	cr_assert_eq(m->unit, SCALES_UNIT_SECONDS);
	cr_assert_eq(must_find(s, "/top")->v.i64, 7);
	/* an aggregate with no children: a counter 0 */
	scales_snapshot_free(&s);
	sb_agg(b, "/empty/n", SCALES_SHM_AGG_SUM, "n");
	s = build_snap(b, 0);
	m = must_find(s, "/empty/n");
	cr_assert_eq(m->kind, SCALES_KIND_COUNTER);
	cr_assert_eq(m->v.u64, 0);
	scales_snapshot_free(&s);
	sb_free(b);
}

/* A segment's first snapshot reads it with pread() only: nothing is
 * mapped, which on a virtual machine costs far more than the copies
 * (docs/performance.md, "Many processes"); the second snapshot maps it
 * and reads the same values through the mapping. */
Test(snapshot, cold_snapshot_maps_nothing)
{
	struct sb_config cfg = { .strings_capacity = 4u << 20,
		                 .stripe_size = 65536 };
	struct segbuild *b = sb_new("web", 11, 22, &cfg);
	uint32_t c = sb_counter(b, "/web/requests", NULL);
	uint32_t h = sb_histogram(b, "/web/latency", 7, 0, 1600, 1e-9, 1);
	sb_gauge(b, "/web/inflight", -5);
	sb_state(b, "/web/mode", "serving");
	uint64_t vals[] = { 3, 1000, 77777, 1u << 20, 123456789, 1ull << 40 };
	uint64_t sum = 0;
	for (uint32_t i = 0; i < 6; i++) {
		sb_hist_record(b, h, i % 3, vals[i]);
		sum += vals[i];
		sb_counter_add(b, c, i % 3, 1000 + i);
	}
	char *dir = sb_tmpdir();
	char path[4096];
	cr_assert_eq(sb_write(b, dir, path, sizeof(path)), 0);
	scales_segment *seg = must_open(path);
	cr_assert_eq(maps_under(dir), 0, "mapped at open");
	for (int round = 0; round < 2; round++) {
		struct scales_snapshot *s = must_snap(seg, 0);
		cr_assert_eq(maps_under(dir), round, "round %d", round);
		cr_assert_eq(s->n, 4);
		cr_assert_eq(must_find(s, "/web/requests")->v.u64, 6015);
		cr_assert_eq(must_find(s, "/web/inflight")->v.i64, -5);
		cr_assert_str_eq(must_find(s, "/web/mode")->v.state, "serving");
		const struct scales_metric *m = must_find(s, "/web/latency");
		cr_assert_eq(m->side->hist.count, 6);
		cr_assert_eq(m->side->hist.sum, sum);
		cr_assert_eq(m->side->hist.min, 3);
		cr_assert_eq(m->side->hist.max, 1ull << 40);
		uint64_t n = 0;
		for (uint32_t k = 0; k < m->side->hist.nbuckets; k++)
			n += m->side->hist.buckets[k];
		cr_assert_eq(n, 6);
		scales_snapshot_free(&s);
	}
	scales_segment_close(&seg);
	cr_assert_eq(maps_under(dir), 0, "mapped after close");
	sb_rmdir(dir);
	free(dir);
	sb_free(b);
}

/*
 * The cold snapshot's seqlock (copy_dir_cold()): an entry rewritten after
 * its fields were copied and before its values were read is read again,
 * not shown with the fields of one stat and the values of another; one
 * still being rewritten is skipped. The hook rewrites entry 1 of gauges
 * "/t/<n>" = n as the writer reuses a slot.
 */
static unsigned char *hook_map;
static int hook_calls;
static bool hook_finish; /* false: leave the generation odd */

static void rewrite_entry1(const scales_segment *seg, int stage)
{
	(void)seg;
	if (stage != 0 || hook_calls++)
		return;
	struct scales_shm_header *h = (void *)hook_map;
	struct scales_shm_entry *e =
	    (void *)(hook_map + h->dir_offset + h->entry_size);
	uint32_t g = __atomic_load_n(&e->generation, __ATOMIC_RELAXED);
	__atomic_store_n(&e->generation, g + 1, __ATOMIC_RELAXED);
	__atomic_thread_fence(__ATOMIC_RELEASE);
	strcpy(e->path, "/t/999");
	e->path_len = 6;
	__atomic_store_n((int64_t *)(void *)(hook_map + e->data_offset), 999,
	                 __ATOMIC_RELAXED);
	if (hook_finish)
		__atomic_store_n(&e->generation, g + 2, __ATOMIC_RELEASE);
}

static void torn_case(bool finish)
{
	char *dir = sb_tmpdir();
	char path[4096];
	struct segbuild *b = torn_gauges(3, dir, path, sizeof(path));
	int fd;
	hook_map = map_writable(path, b->size, &fd);
	uint32_t g0 = sb_entry(b, 1)->generation;
	hook_calls = 0;
	hook_finish = finish;
	r_test_cold_hook = rewrite_entry1;
	scales_segment *seg = must_open(path);
	struct scales_snapshot *s = must_snap(seg, 0);
	r_test_cold_hook = NULL;
	cr_assert_eq(hook_calls, 1);
	for (size_t k = 0; k < s->n; k++)
		cr_assert_eq(s->metrics[k].v.i64, atoll(s->metrics[k].path + 3),
		             "torn: %s = %lld", s->metrics[k].path,
		             (long long)s->metrics[k].v.i64);
	cr_assert_null(scales_snapshot_find(s, "/t/101"));
	if (finish) {
		cr_assert_eq(s->n, 3);
		cr_assert_eq(s->skipped, 0);
		const struct scales_metric *m = must_find(s, "/t/999");
		cr_assert_eq(m->generation, g0 + 2);
	} else {
		cr_assert_eq(s->n, 2);
		cr_assert_eq(s->skipped, 1);
	}
	scales_snapshot_free(&s);
	scales_segment_close(&seg);
	munmap(hook_map, b->size);
	close(fd);
	sb_free(b);
	sb_rmdir(dir);
	free(dir);
}

/*
 * A record lands between the cold snapshot's copy of the stripes and its
 * copy of the data area (min and max), with a new maximum: the writer adds
 * its bucket, then its sum, then raises max. The snapshot shows the
 * record whole or not at all: never its value in the sum with its bucket
 * outside the range read (the data area copied first, the range [1, 1]
 * then leaves bucket(999) out while the stripes' copy has its sum).
 */
static unsigned char *rec_map;
static size_t rec_bucket_off, rec_sum_off, rec_max_off;

static void record_999(const scales_segment *seg, int stage)
{
	(void)seg;
	if (stage != 1)
		return;
	__atomic_add_fetch((uint64_t *)(void *)(rec_map + rec_bucket_off), 1,
	                   __ATOMIC_RELAXED);
	__atomic_add_fetch((uint64_t *)(void *)(rec_map + rec_sum_off), 999,
	                   __ATOMIC_RELAXED);
	__atomic_store_n((uint64_t *)(void *)(rec_map + rec_max_off), 999,
	                 __ATOMIC_RELAXED);
}

/* Writes image b to dir (path receives it) and maps it writable for
 * record_999() on histogram h (stripe 0); returns the file's descriptor. */
static int rec_write(struct segbuild *b, uint32_t h, const char *dir,
                     char *path, size_t len)
{
	cr_assert_eq(sb_write(b, dir, path, len), 0);
	int fd;
	rec_map = map_writable(path, b->size, &fd);
	const struct scales_shm_entry *e = sb_entry(b, h);
	rec_sum_off = sb_counter_offset(b, h, 0);
	rec_bucket_off =
	    rec_sum_off +
	    8 * (1 + (size_t)scales_shm_bucket(999, e->param[0], e->param[1],
	                                       e->param[2] - 1));
	rec_max_off = e->data_offset + 8;
	return fd;
}

Test(snapshot, cold_snapshot_never_sums_a_record_outside_its_range)
{
	char *dir = sb_tmpdir();
	struct segbuild *b = sb_new("rec", 1, 1, NULL);
	uint32_t h = sb_histogram(b, "/h", 5, 0, 300, 1, 0);
	sb_hist_record(b, h, 0, 1);
	char path[4096];
	int fd = rec_write(b, h, dir, path, sizeof(path));
	r_test_cold_hook = record_999;
	scales_segment *seg = must_open(path);
	struct scales_snapshot *s = must_snap(seg, 0);
	r_test_cold_hook = NULL;
	const struct scales_histo *hi = &must_find(s, "/h")->side->hist;
	cr_assert(hi->count == 1 || hi->count == 2, "count %llu",
	          (unsigned long long)hi->count);
	cr_assert_eq(hi->sum, hi->count == 1 ? 1 : 1000,
	             "count %llu, sum %llu: a record half shown",
	             (unsigned long long)hi->count,
	             (unsigned long long)hi->sum);
	scales_snapshot_free(&s);
	scales_segment_close(&seg);
	munmap(rec_map, b->size);
	close(fd);
	sb_free(b);
	sb_rmdir(dir);
	free(dir);
}

/*
 * The same record landing between a histogram copy's loads of min and max
 * and its reads of the stripes: through the mapping (a warm snapshot), and
 * by a pread() of the histogram's own (a cold snapshot of a segment whose
 * regions are too large to copy whole, read after the data area). Its sum
 * is in the stripes, its bucket outside the range of the min and max read
 * first: the copy must read min and max again and the range with them.
 */
static void record_999_once(const scales_segment *seg)
{
	static int done;
	if (!rec_map || done++)
		return;
	record_999(seg, 1);
}

static void late_record_case(bool warm)
{
	char *dir = sb_tmpdir();
	/* cold: 160 histograms of 300 buckets on 3 stripes, about 1.2 MB,
	 * past what a cold snapshot copies a region at a time */
	struct sb_config cfg = { .dir_capacity = 256, .stripe_size = 1 << 20 };
	struct segbuild *b = sb_new("rec", 1, 1, &cfg);
	uint32_t h = sb_histogram(b, "/h", 5, 0, 300, 1, 0);
	sb_hist_record(b, h, 0, 1);
	for (int i = 0; !warm && i < 160; i++) {
		char p[32];
		snprintf(p, sizeof(p), "/pad/%03d", i);
		sb_histogram(b, p, 5, 0, 300, 1, 0);
	}
	char path[4096];
	int fd = rec_write(b, h, dir, path, sizeof(path));
	scales_segment *seg = must_open(path);
	if (warm)
		scales_snapshot_free(
		    (struct scales_snapshot *[]){ must_snap(seg, 0) });
	r_test_histo_hook = record_999_once;
	struct scales_snapshot *s = must_snap(seg, 0);
	r_test_histo_hook = NULL;
	const struct scales_histo *hi = &must_find(s, "/h")->side->hist;
	cr_assert_eq(hi->count, 2, "count %llu, sum %llu: a record half shown",
	             (unsigned long long)hi->count,
	             (unsigned long long)hi->sum);
	cr_assert_eq(hi->sum, 1000);
	cr_assert_eq(hi->max, 999);
	scales_snapshot_free(&s);
	scales_segment_close(&seg);
	munmap(rec_map, b->size);
	rec_map = NULL;
	close(fd);
	sb_free(b);
	sb_rmdir(dir);
	free(dir);
}

Test(snapshot, warm_snapshot_never_sums_a_record_outside_its_range)
{
	late_record_case(true);
}

Test(snapshot, cold_histogram_read_alone_never_sums_a_record_outside_its_range)
{
	late_record_case(false);
}

Test(snapshot, cold_snapshot_rereads_an_entry_rewritten_under_it)
{
	torn_case(true);
}

Test(snapshot, cold_snapshot_skips_an_entry_left_half_written)
{
	torn_case(false);
}

/* --------------------------------------------------------------- merge */

static struct segbuild *proc_image(int32_t pid, uint64_t base)
{
	struct segbuild *b = sb_new("web", pid, 1, NULL);
	sb_counter_add(b, sb_counter(b, "/req", "requests"), 0, base);
	sb_gauge(b, "/inflight", (int64_t)base);
	sb_gauge_f64(b, "/load", (double)base / 4);
	uint32_t h = sb_histogram(b, "/lat", 5, 0, 300, 1e-9, 1);
	sb_hist_record(b, h, 0, base);
	sb_hist_record(b, h, 1, base * 2);
	sb_state(b, "/mode", base == 10 ? "busy" : "idle");
	return b;
}

Test(snapshot, merge_processes)
{
	struct segbuild *b1 = proc_image(100, 10), *b2 = proc_image(200, 20),
	                *b3 = proc_image(300, 30);
	/* process 3 has an i64 gauge where the others have a double */
	sb_free(b3);
	b3 = sb_new("web", 300, 1, NULL);
	sb_gauge(b3, "/load", 2);
	sb_state(b3, "/mode", "idle");
	sb_counter(b3, "/only3", NULL);
	struct scales_snapshot *s1 = build_snap(b1, 0), *s2 = build_snap(b2, 0),
	                       *s3 = build_snap(b3, 0);
	const struct scales_snapshot *in[3] = { s1, s2, s3 };
	struct scales_snapshot *m = NULL;
	cr_assert_eq(scales_snapshot_merge(in, 3, &m), 0);
	cr_assert_not_null(m);
	/* inputs may go first: the merge owns its strings */
	scales_snapshot_free(&s1);
	scales_snapshot_free(&s2);
	scales_snapshot_free(&s3);
	cr_assert_eq(m->nmembers, 3);
	cr_assert_eq(m->member_pids[0], 100);
	cr_assert_eq(m->member_pids[2], 300);
	cr_assert_eq(m->proc.pid, 0);
	cr_assert_str_eq(m->proc.app, "web");
	cr_assert_null(m->segment_path);
	const struct scales_metric *x = must_find(m, "/req");
	cr_assert_eq(x->v.u64, 30);
	cr_assert_str_eq(x->help, "requests");
	cr_assert_eq(x->flags & SCALES_MF_MERGED, SCALES_MF_MERGED);
	cr_assert_eq(x->entry, UINT32_MAX);
	cr_assert_eq(must_find(m, "/inflight")->v.i64, 30);
	x = must_find(m, "/load");
	cr_assert_eq(x->kind, SCALES_KIND_GAUGE_F64);
	cr_assert_float_eq(x->v.f64, 2.5 + 5 + 2, 1e-12);
	x = must_find(m, "/lat");
	cr_assert_eq(x->side->hist.count, 4);
	cr_assert_eq(x->side->hist.sum, 90);
	cr_assert_eq(x->side->hist.min, 10);
	cr_assert_eq(x->side->hist.max, 40);
	cr_assert_eq(x->side->hist.buckets[10] + x->side->hist.buckets[20], 3);
	x = must_find(m, "/mode");
	cr_assert_eq(x->kind, SCALES_KIND_STATE);
	cr_assert_eq(x->side->nstates, 2);
	cr_assert_str_eq(x->side->states[0].value, "busy");
	cr_assert_eq(x->side->states[0].count, 1);
	cr_assert_str_eq(x->side->states[1].value, "idle");
	cr_assert_eq(x->side->states[1].count, 2);
	cr_assert_str_eq(x->v.state, "idle");
	cr_assert_eq(must_find(m, "/only3")->v.u64, 0);
	scales_snapshot_free(&m);
	cr_assert_eq(scales_snapshot_merge(in, 0, &m), -EINVAL);
	sb_free(b1);
	sb_free(b2);
	sb_free(b3);
}

/* Every metric's side is set (never NULL); a kind without side data points
 * at the shared zeroed scales_no_side, a histogram, a dict with a key label
 * and a merged state at one of their own; taken, aggregated and merged. */
static void check_sides(const struct scales_snapshot *s)
{
	for (size_t i = 0; i < s->n; i++) {
		const struct scales_metric *m = &s->metrics[i];
		cr_assert_not_null(m->side, "%s", m->path);
		bool own = m->kind == SCALES_KIND_HISTOGRAM ||
		           (m->kind == SCALES_KIND_DICT &&
		            !(m->flags & SCALES_MF_DERIVED) &&
		            m->agg == SCALES_AGG_NONE) ||
		           (m->flags & SCALES_MF_MERGED);
		if (!own)
			cr_assert_eq(m->side, &scales_no_side, "%s", m->path);
		else
			cr_assert_neq(m->side, &scales_no_side, "%s", m->path);
	}
	cr_assert_eq(scales_no_side.hist.count, 0);
	cr_assert_null(scales_no_side.hist.buckets);
	cr_assert_null(scales_no_side.states);
	cr_assert_null(scales_no_side.times);
	cr_assert_null(scales_no_side.key_label);
}

Test(snapshot, side_only_where_the_kind_has_it)
{
	struct segbuild *b = proc_image(100, 10);
	uint32_t d = sb_dict(b, "/codes");
	sb_entry(b, d)->param[0] = sb_string(b, "code");
	sb_counter_add(b, sb_counter(b, "/codes/200", NULL), 0, 5);
	uint32_t h = sb_histogram(b, "/w/a/lat", 5, 0, 300, 1e-9, 1);
	sb_hist_record(b, h, 0, 7);
	sb_agg(b, "/w/lat", SCALES_SHM_AGG_SUM, "lat");
	struct scales_snapshot *s = build_snap(b, 0);
	check_sides(s);
	cr_assert_str_eq(must_find(s, "/codes")->side->key_label, "code");
	cr_assert_eq(must_find(s, "/w/lat")->side->hist.count, 1);
	cr_assert_eq(must_find(s, "/req")->side->hist.count, 0);
	const struct scales_snapshot *in[2] = { s, s };
	struct scales_snapshot *m = NULL;
	cr_assert_eq(scales_snapshot_merge(in, 2, &m), 0);
	check_sides(m);
	cr_assert_eq(must_find(m, "/lat")->side->hist.count, 4);
	cr_assert_str_eq(must_find(m, "/codes")->side->key_label, "code");
	cr_assert_eq(must_find(m, "/mode")->side->nstates, 1);
	scales_snapshot_free(&m);
	scales_snapshot_free(&s);
	sb_free(b);
}

Test(snapshot, merge_rebuckets_and_keys_generations)
{
	struct sb_config cfg = { .stripe_size = 65536 };
	struct segbuild *b1 = sb_new("web", 1, 1, &cfg),
	                *b2 = sb_new("web", 2, 1, &cfg);
	/* nanoseconds at full resolution vs microseconds in coarse buckets */
	uint32_t h1 = sb_histogram(b1, "/lat", 5, 0, 1000, 1e-9, 1);
	uint32_t h2 = sb_histogram(b2, "/lat", 6, 4, 1000, 1e-6, 1);
	sb_hist_record(b1, h1, 0, 1000000); /* 1 ms */
	sb_hist_record(b2, h2, 0, 3000);    /* 3 ms */
	sb_counter(b1, "/c", NULL);
	sb_counter(b2, "/c", NULL);
	/* incompatible kinds: the first wins, the other is counted */
	sb_counter(b1, "/x", NULL);
	sb_gauge(b2, "/x", 5);
	struct scales_snapshot *s1 = build_snap(b1, 0), *s2 = build_snap(b2, 0);
	const struct scales_snapshot *in[2] = { s1, s2 };
	struct scales_snapshot *m = NULL;
	cr_assert_eq(scales_snapshot_merge(in, 2, &m), 0);
	const struct scales_metric *x = must_find(m, "/lat");
	cr_assert_eq(x->side->hist.count, 2);
	cr_assert_eq(x->side->hist.scale, 1e-9);
	struct scales_hstats st;
	scales_histo_stats(&x->side->hist, &st);
	cr_assert_float_eq(st.min, 0.001, 1e-12);
	cr_assert_float_eq(st.max, 0.003, 1e-12);
	cr_assert(fabs(st.p50 - 0.001) / 0.001 < 0.02, "p50 %g", st.p50);
	cr_assert(fabs(st.p99 - 0.003) / 0.003 < 0.02, "p99 %g", st.p99);
	cr_assert_eq(must_find(m, "/x")->kind, SCALES_KIND_COUNTER);
	cr_assert_eq(m->invalid, 1);
	uint32_t g1 = must_find(m, "/c")->generation;
	scales_snapshot_free(&m);
	/* the same members give the same generation; others another */
	cr_assert_eq(scales_snapshot_merge(in, 2, &m), 0);
	cr_assert_eq(must_find(m, "/c")->generation, g1);
	scales_snapshot_free(&m);
	cr_assert_eq(scales_snapshot_merge(in, 1, &m), 0);
	cr_assert_neq(must_find(m, "/c")->generation, g1);
	scales_snapshot_free(&m);
	scales_snapshot_free(&s1);
	scales_snapshot_free(&s2);
	sb_free(b1);
	sb_free(b2);
}
