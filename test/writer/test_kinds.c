/* SPDX-License-Identifier: MIT */
/* test_kinds.c: the semantics of each kind, read back through a reader. */
#include <errno.h>
#include <math.h>
#include <unistd.h>

#include "common.h"

static scales_registry *reg;

static void setup(void)
{
	fresh_dir();
	reg = open_reg("kinds", 0, 0);
}

static void teardown(void)
{
	scales_close(&reg);
}

TestSuite(kinds, .init = setup, .fini = teardown);

Test(kinds, counter_add_and_inc)
{
	scales_counter c;
	cr_assert_eq(scales_counter_get(reg, "/web/errors", NULL, &c), 0);
	for (int i = 0; i < 7; i++)
		scales_counter_inc(&c);
	scales_counter_add(&c, 1000);
	scales_counter_add(&c, 0);
	struct scales_snapshot *s = snap(reg);
	const struct scales_metric *m = must_find(s, "/web/errors");
	cr_assert_eq(m->kind, SCALES_KIND_COUNTER);
	cr_assert_eq(m->v.u64, 1007);
	scales_snapshot_free(&s);
}

Test(kinds, gauge_goes_up_and_down)
{
	scales_gauge g;
	cr_assert_eq(scales_gauge_get(reg, "/pool/active", NULL, &g), 0);
	scales_gauge_set(&g, 10);
	scales_gauge_add(&g, -15);
	scales_gauge_inc(&g);
	scales_gauge_dec(&g);
	scales_gauge_dec(&g);
	struct scales_snapshot *s = snap(reg);
	const struct scales_metric *m = must_find(s, "/pool/active");
	cr_assert_eq(m->kind, SCALES_KIND_GAUGE);
	cr_assert_eq(m->v.i64, -6);
	scales_snapshot_free(&s);
}

Test(kinds, gauge_f64_set_and_add)
{
	scales_gauge_f64 g;
	struct scales_info info = { "load", SCALES_UNIT_SECONDS };
	cr_assert_eq(scales_gauge_f64_get(reg, "/load", &info, &g), 0);
	scales_gauge_f64_set(&g, 0.1);
	scales_gauge_f64_add(&g, 0.2);
	struct scales_snapshot *s = snap(reg);
	const struct scales_metric *m = must_find(s, "/load");
	cr_assert_eq(m->kind, SCALES_KIND_GAUGE_F64);
	cr_assert_eq(m->v.f64, 0.1 + 0.2); /* exact: same operations */
	cr_assert_eq(m->unit, SCALES_UNIT_SECONDS);
	cr_assert_str_eq(m->help, "load");
	scales_snapshot_free(&s);
}

Test(kinds, state_interned_and_set)
{
	scales_state st;
	cr_assert_eq(scales_state_get(reg, "/p/t0/state", NULL, &st), 0);
	struct scales_snapshot *s = snap(reg);
	cr_assert_null(must_find(s, "/p/t0/state")->v.state,
	               "a state never set has no value");
	scales_snapshot_free(&s);

	uint32_t a, b, a2;
	cr_assert_eq(scales_state_intern(reg, "waitingForTask", &a), 0);
	cr_assert_eq(scales_state_intern(reg, "performingTask", &b), 0);
	cr_assert_eq(scales_state_intern(reg, "waitingForTask", &a2), 0);
	cr_assert_eq(a, a2, "the same string gives the same id");
	cr_assert_neq(a, b);
	scales_state_set(&st, b);
	s = snap(reg);
	cr_assert_str_eq(must_find(s, "/p/t0/state")->v.state,
	                 "performingTask");
	scales_snapshot_free(&s);
	cr_assert_eq(scales_state_set_str(&st, "idle"), 0);
	s = snap(reg);
	cr_assert_str_eq(must_find(s, "/p/t0/state")->v.state, "idle");
	scales_snapshot_free(&s);
	/* control characters are refused, the state keeps its value */
	cr_assert_eq(scales_state_set_str(&st, "bad\nvalue"), -EINVAL);
	cr_assert_eq(scales_state_set_str(&st, ""), -EINVAL);
	s = snap(reg);
	cr_assert_str_eq(must_find(s, "/p/t0/state")->v.state, "idle");
	scales_snapshot_free(&s);
}

Test(kinds, histogram_count_sum_min_max)
{
	scales_histogram h;
	struct scales_info info = { "latency", SCALES_UNIT_SECONDS };
	cr_assert_eq(scales_histogram_get(reg, "/handler/latency", &info, NULL,
	                                  &h),
	             0);
	for (uint64_t ms = 1; ms <= 100; ms++)
		scales_histogram_record(&h, ms * 1000000u);
	struct scales_snapshot *s = snap(reg);
	const struct scales_metric *m = must_find(s, "/handler/latency");
	cr_assert_eq(m->kind, SCALES_KIND_HISTOGRAM);
	cr_assert_eq(m->side->hist.count, 100);
	cr_assert_eq(m->side->hist.sum, 5050ull * 1000000u);
	cr_assert_eq(m->side->hist.min, 1000000u);
	cr_assert_eq(m->side->hist.max, 100000000u);
	cr_assert_float_eq(m->side->hist.scale, 1e-9, 1e-18);
	struct scales_hstats st;
	scales_histo_stats(&m->side->hist, &st);
	cr_assert(fabs(st.p50 - 0.050) <= 0.02 * 0.050, "p50 %g", st.p50);
	cr_assert(fabs(st.max - 0.100) <= 0.02 * 0.100, "max %g", st.max);
	cr_assert_float_eq(st.mean, 0.0505, 1e-12);
	scales_snapshot_free(&s);
}

Test(kinds, histogram_values_past_highest_land_in_last_bucket)
{
	scales_histogram h;
	struct scales_histogram_config cfg = { .highest = 1000 };
	cr_assert_eq(scales_histogram_get(reg, "/small", NULL, &cfg, &h), 0);
	scales_histogram_record(&h, 5);
	scales_histogram_record(&h, UINT64_MAX);
	struct scales_snapshot *s = snap(reg);
	const struct scales_metric *m = must_find(s, "/small");
	cr_assert_eq(m->side->hist.count, 2);
	cr_assert_eq(m->side->hist.max, UINT64_MAX, "max stays exact");
	cr_assert_eq(m->side->hist.min, 5);
	cr_assert_eq(m->side->hist.buckets[m->side->hist.nbuckets - 1], 1);
	scales_snapshot_free(&s);
}

Test(kinds, bucket_map_is_monotonic_and_inverts)
{
	for (unsigned bits = 5; bits <= 10; bits++) {
		uint32_t prev = 0;
		for (uint64_t v = 0; v < 200000; v += 1 + v / 64) {
			uint32_t b =
			    scales_histogram_bucket(v, bits, 0, UINT32_MAX);
			cr_assert_geq(b, prev);
			prev = b;
			struct scales_histo hh = { .sub_bits = bits,
				                   .unit_shift = 0 };
			uint64_t lo, width;
			scales_histo_bucket_range(&hh, b, &lo, &width);
			cr_assert(v >= lo && v - lo < width,
			          "v %lu in [%lu, +%lu) bits %u",
			          (unsigned long)v, (unsigned long)lo,
			          (unsigned long)width, bits);
			/* relative width at most 2^-bits */
			if (v >= (2u << bits))
				cr_assert_leq(width * (1u << bits), lo);
		}
	}
}

Test(kinds, timer_pair_records_elapsed_time)
{
	scales_histogram h;
	struct scales_info info = { NULL, SCALES_UNIT_SECONDS };
	cr_assert_eq(scales_histogram_get(reg, "/t", &info, NULL, &h), 0);
	SCALES_TIME(&h)
	{
		usleep(20000);
	}
	uint64_t t0 = scales_timer_start(&h);
	usleep(5000);
	scales_timer_stop(&h, t0);
	struct scales_snapshot *s = snap(reg);
	const struct scales_metric *m = must_find(s, "/t");
	cr_assert_eq(m->side->hist.count, 2);
	cr_assert_geq(m->side->hist.max, 20000000u, "slept at least 20 ms");
	cr_assert_geq(m->side->hist.min, 5000000u, "slept at least 5 ms");
	cr_assert_lt(m->side->hist.max, 20000000000u, "not absurd");
	scales_snapshot_free(&s);
}

Test(kinds, fallback_path_counts_the_same)
{
	scales_registry *r2 = open_reg("kinds-fallback", SCALES_NO_RSEQ, 0);
	scales_counter c;
	cr_assert_eq(scales_counter_get(r2, "/x", NULL, &c), 0);
	cr_assert_eq(c.rseq_cpus, 0, "SCALES_NO_RSEQ forces the fallback");
	for (int i = 0; i < 12345; i++)
		scales_counter_inc(&c);
	struct scales_snapshot *s = snap(r2);
	cr_assert_eq(must_find(s, "/x")->v.u64, 12345);
	scales_snapshot_free(&s);
	scales_close(&r2);
}
