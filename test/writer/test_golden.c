/* SPDX-License-Identifier: MIT */
/*
 * test_golden.c: the golden segment of each released format version
 * (test/data/golden-v*.seg, written by test/data/make-golden.c) must keep
 * parsing with the values it was written with.
 */
#include <math.h>

#include "common.h"

static struct scales_snapshot *golden(const char *name)
{
	const char *src = getenv("SCALES_TEST_SRCDIR");
	cr_assert_not_null(src, "SCALES_TEST_SRCDIR is set by meson");
	char path[4096];
	snprintf(path, sizeof path, "%s/data/%s", src, name);
	return snap_path(path);
}

Test(golden, v1_0_values)
{
	struct scales_snapshot *s = golden("golden-v1.0.seg");
	cr_assert_str_eq(s->proc.app, "golden");
	cr_assert_eq(s->proc.version_major, 1);
	cr_assert_not(s->proc.alive, "closed with SCALES_KEEP_SEGMENT");
	cr_assert_eq(s->invalid, 0);
	const struct scales_metric *m = must_find(s, "/golden/counter");
	cr_assert_eq(m->kind, SCALES_KIND_COUNTER);
	cr_assert_eq(m->v.u64, 42);
	cr_assert_str_eq(m->help, "a counter");
	cr_assert_eq(must_find(s, "/golden/gauge")->v.i64, -7);
	cr_assert_eq(must_find(s, "/golden/ratio")->v.f64, 2.5);
	cr_assert_str_eq(must_find(s, "/golden/state")->v.state, "ready");
	m = must_find(s, "/golden/latency");
	cr_assert_eq(m->kind, SCALES_KIND_HISTOGRAM);
	cr_assert_eq(m->unit, SCALES_UNIT_SECONDS);
	cr_assert_eq(m->side->hist.count, 1000);
	cr_assert_eq(m->side->hist.sum, 500500000u);
	cr_assert_eq(m->side->hist.min, 1000);
	cr_assert_eq(m->side->hist.max, 1000000);
	struct scales_hstats st;
	scales_histo_stats(&m->side->hist, &st);
	cr_assert(fabs(st.p50 - 500e-6) <= 0.02 * 500e-6, "p50 %g", st.p50);
	cr_assert(fabs(st.p99 - 990e-6) <= 0.02 * 990e-6, "p99 %g", st.p99);
	cr_assert_eq(must_find(s, "/golden/codes")->kind, SCALES_KIND_DICT);
	cr_assert_eq(must_find(s, "/golden/codes")->v.u64, 6);
	cr_assert_eq(must_find(s, "/golden/codes/200")->v.u64, 5);
	cr_assert_eq(must_find(s, "/golden/codes/404")->v.u64, 1);
	cr_assert_eq(must_find(s, "/golden/workers/done")->v.u64, 3);
	cr_assert_eq(must_find(s, "/golden/workers/state/idle")->v.i64, 2);
	cr_assert_null(scales_snapshot_find(s, "/golden/retired"));
	scales_snapshot_free(&s);
}
