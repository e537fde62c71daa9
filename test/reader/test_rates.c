/* SPDX-License-Identifier: MIT */
/*
 * test_rates.c: per-second rates between snapshots, and the EWMA meters
 * against the seed's figures (issue 3: with 5 s ticks, 300 events in the
 * first tick give m1 = 60.0/s; one idle tick after gives m1 = 55.2027 and
 * m5 = 59.0083).
 */
#include <math.h>

#include "common.h"

TestSuite(rates, .timeout = 60);

#define SEC 1000000000ull

Test(rates, meter_seed_figures)
{
	struct scales_meter m;
	scales_meter_init(&m, 1000 * SEC, 0);
	cr_assert_eq(m.tick_ns, SCALES_METER_TICK_NS);
	cr_assert(isnan(m.m1) && isnan(m.m5) && isnan(m.m15));
	scales_meter_mark(&m, 300, 1005 * SEC);
	cr_assert_float_eq(m.m1, 60.0, 1e-12);
	cr_assert_float_eq(m.m5, 60.0, 1e-12);
	cr_assert_float_eq(m.m15, 60.0, 1e-12);
	scales_meter_mark(&m, 0, 1010 * SEC);
	cr_assert_float_eq(m.m1, 55.2027, 1e-4, "m1 %.6f", m.m1);
	cr_assert_float_eq(m.m5, 59.0083, 1e-4, "m5 %.6f", m.m5);
	cr_assert_float_eq(m.m15, 60 * exp(-5.0 / 900), 1e-9);
	cr_assert_eq(m.count, 300);
}

Test(rates, meter_ticks_only_at_tick_boundaries)
{
	struct scales_meter m;
	scales_meter_init(&m, 0, 5 * SEC);
	scales_meter_mark(&m, 100, 1 * SEC);
	scales_meter_mark(&m, 100, 3 * SEC);
	cr_assert(isnan(m.m1)); /* no tick yet */
	scales_meter_mark(&m, 100, 5 * SEC + 1);
	cr_assert_float_eq(m.m1, 60.0, 1e-12); /* 300 events in 5 s */
	cr_assert_eq(m.last_tick_ns, 5 * SEC); /* phase kept */
	/* two idle ticks at once */
	scales_meter_mark(&m, 0, 15 * SEC + 7);
	double a = 1 - exp(-5.0 / 60);
	cr_assert_float_eq(m.m1, 60 * (1 - a) * (1 - a), 1e-9);
	/* time going backwards ticks nothing */
	scales_meter_mark(&m, 5, 2 * SEC);
	cr_assert_float_eq(m.m1, 60 * (1 - a) * (1 - a), 1e-9);
	/* a long sleep decays to (almost) nothing, quickly */
	scales_meter_mark(&m, 0, 100000000 * SEC);
	cr_assert_lt(m.m15, 1e-6);
}

/* Two snapshots of an image whose counter went from a to b. */
static void two_snaps(struct scales_snapshot **s1, struct scales_snapshot **s2,
                      uint64_t a, uint64_t b, bool reuse)
{
	struct segbuild *bb = sb_new("r", 1, 1, NULL);
	uint32_t c = sb_counter(bb, "/c", NULL);
	sb_gauge(bb, "/g", 5);
	uint32_t h = sb_histogram(bb, "/h", 5, 0, 100, 1, 0);
	sb_counter_add(bb, c, 0, a);
	sb_hist_record(bb, h, 0, 3);
	*s1 = build_snap(bb, 0);
	sb_counter_add(bb, c, 0, b - a); /* wraps when b < a */
	for (int i = 0; i < 10; i++)
		sb_hist_record(bb, h, 0, 3);
	if (reuse)
		sb_entry(bb, c)->generation += 4; /* retired and reused */
	sb_counter(bb, "/new", NULL);
	*s2 = build_snap(bb, 0);
	(*s1)->mono_ns = 100 * SEC;
	(*s2)->mono_ns = 102 * SEC;
	sb_free(bb);
}

Test(rates, snapshot_rates)
{
	struct scales_snapshot *s1, *s2;
	two_snaps(&s1, &s2, 100, 150, false);
	double r[8];
	cr_assert_leq(s2->n, 8);
	scales_snapshot_rates(s1, s2, r);
	cr_assert_float_eq(r[0], 25.0, 1e-12); /* /c: 50 in 2 s */
	cr_assert(isnan(r[1]));                /* /g: a gauge */
	cr_assert_float_eq(r[2], 5.0, 1e-12);  /* /h: 10 records in 2 s */
	cr_assert(isnan(r[3]));                /* /new: no previous */
	/* no time elapsed */
	s2->mono_ns = s1->mono_ns;
	scales_snapshot_rates(s1, s2, r);
	cr_assert(isnan(r[0]));
	scales_snapshot_free(&s1);
	scales_snapshot_free(&s2);

	two_snaps(&s1, &s2, 100, 50, false); /* went down: a reset */
	scales_snapshot_rates(s1, s2, r);
	cr_assert(isnan(r[0]));
	scales_snapshot_free(&s1);
	scales_snapshot_free(&s2);

	two_snaps(&s1, &s2, 100, 150, true); /* slot reused */
	scales_snapshot_rates(s1, s2, r);
	cr_assert(isnan(r[0]));
	cr_assert_float_eq(r[2], 5.0, 1e-12);
	scales_snapshot_free(&s1);
	scales_snapshot_free(&s2);
}

/* The tracker, fed a snapshot every 5 s, gives the seed's figures. */
Test(rates, tracker_meters)
{
	struct segbuild *b = sb_new("r", 1, 1, NULL);
	uint32_t c = sb_counter(b, "/c", NULL);
	sb_state(b, "/s", "x");
	scales_rates *r = scales_rates_new(0);
	cr_assert_not_null(r);
	struct scales_rate out[4];

	struct scales_snapshot *s = build_snap(b, 0);
	s->mono_ns = 1000 * SEC;
	cr_assert_eq(scales_rates_update(r, s, out), 0);
	cr_assert(isnan(out[0].rate) && isnan(out[0].m1));  /* first sight */
	cr_assert(isnan(out[1].rate) && isnan(out[1].m15)); /* a state */
	scales_snapshot_free(&s);

	sb_counter_add(b, c, 1, 300);
	s = build_snap(b, 0);
	s->mono_ns = 1005 * SEC;
	cr_assert_eq(scales_rates_update(r, s, out), 0);
	cr_assert_float_eq(out[0].rate, 60.0, 1e-12);
	cr_assert_float_eq(out[0].m1, 60.0, 1e-12);
	cr_assert_float_eq(out[0].m5, 60.0, 1e-12);
	cr_assert(isnan(out[1].rate));
	scales_snapshot_free(&s);

	s = build_snap(b, 0);
	s->mono_ns = 1010 * SEC;
	cr_assert_eq(scales_rates_update(r, s, out), 0);
	cr_assert_float_eq(out[0].rate, 0.0, 1e-12);
	cr_assert_float_eq(out[0].m1, 55.2027, 1e-4);
	cr_assert_float_eq(out[0].m5, 59.0083, 1e-4);
	scales_snapshot_free(&s);

	/* updates without out, then a reused slot starts over */
	s = build_snap(b, 0);
	s->mono_ns = 1011 * SEC;
	cr_assert_eq(scales_rates_update(r, s, NULL), 0);
	scales_snapshot_free(&s);
	sb_entry(b, c)->generation += 4;
	s = build_snap(b, 0);
	s->mono_ns = 1015 * SEC;
	cr_assert_eq(scales_rates_update(r, s, out), 0);
	cr_assert(isnan(out[0].rate) && isnan(out[0].m1));
	scales_snapshot_free(&s);

	/* a path that disappears and comes back starts over too */
	struct segbuild *b2 = sb_new("r", 1, 1, NULL);
	sb_state(b2, "/s", "x");
	s = build_snap(b2, 0);
	s->mono_ns = 1020 * SEC;
	cr_assert_eq(scales_rates_update(r, s, out), 0);
	scales_snapshot_free(&s);
	s = build_snap(b, 0);
	s->mono_ns = 1025 * SEC;
	cr_assert_eq(scales_rates_update(r, s, out), 0);
	cr_assert(isnan(out[0].rate));
	scales_snapshot_free(&s);

	scales_rates_free(&r);
	cr_assert_null(r);
	scales_rates_free(&r);
	sb_free(b);
	sb_free(b2);
}

Test(rates, counter_like_kinds)
{
	/* built by hand: a side of its own for the histogram's count */
	struct scales_metric_side side = { 0 };
	struct scales_metric m = { .side = &side };
	uint64_t v;
	m.kind = SCALES_KIND_COUNTER;
	m.v.u64 = 7;
	cr_assert(scales_metric_counter(&m, &v) && v == 7);
	m.kind = SCALES_KIND_DICT;
	cr_assert(scales_metric_counter(&m, &v) && v == 7);
	m.kind = SCALES_KIND_HISTOGRAM;
	side.hist.count = 9;
	cr_assert(scales_metric_counter(&m, &v) && v == 9);
	m.kind = SCALES_KIND_GAUGE;
	cr_assert(!scales_metric_counter(&m, &v));
	m.kind = SCALES_KIND_STATE;
	cr_assert(!scales_metric_counter(&m, &v));
}

/* The tracks are kept in place while the counter-like paths are those of
 * the last update, and rebuilt when a path changes though their number
 * does not: a renamed counter starts over, the others keep their meters,
 * and a counter that became a gauge drops out. */
Test(rates, tracker_same_number_of_other_paths)
{
	struct segbuild *b = sb_new("r", 1, 1, NULL);
	uint32_t a = sb_counter(b, "/a", NULL);
	uint32_t c = sb_counter(b, "/c", NULL);
	scales_rates *r = scales_rates_new(0);
	cr_assert_not_null(r);
	struct scales_rate out[4];
	for (int i = 0; i < 3; i++) {
		sb_counter_add(b, a, 0, 50);
		sb_counter_add(b, c, 0, 100);
		struct scales_snapshot *s = build_snap(b, 0);
		s->mono_ns = (1000 + 5 * (uint64_t)i) * SEC;
		cr_assert_eq(scales_rates_update(r, s, out), 0);
		if (i) {
			cr_assert_float_eq(out[0].rate, 10.0, 1e-12);
			cr_assert_float_eq(out[1].rate, 20.0, 1e-12);
			cr_assert_float_eq(out[1].m1, 20.0, 1e-12);
		}
		scales_snapshot_free(&s);
	}
	/* /a renamed /b: two counters still */
	struct segbuild *b2 = sb_new("r", 1, 1, NULL);
	uint32_t bb = sb_counter(b2, "/b", NULL);
	uint32_t c2 = sb_counter(b2, "/c", NULL);
	sb_entry(b2, c2)->generation = sb_entry(b, c)->generation;
	sb_counter_add(b2, bb, 0, 1007);
	sb_counter_add(b2, c2, 0, 300 + 100);
	struct scales_snapshot *s = build_snap(b2, 0);
	s->mono_ns = 1015 * SEC;
	cr_assert_eq(scales_rates_update(r, s, out), 0);
	cr_assert(isnan(out[0].rate) && isnan(out[0].m1), "/b is new");
	cr_assert_float_eq(out[1].rate, 20.0, 1e-12);
	cr_assert_float_eq(out[1].m1, 20.0, 1e-12);
	scales_snapshot_free(&s);
	/* the same paths again: /b goes on from 1007 */
	sb_counter_add(b2, bb, 0, 5);
	s = build_snap(b2, 0);
	s->mono_ns = 1020 * SEC;
	cr_assert_eq(scales_rates_update(r, s, out), 0);
	cr_assert_float_eq(out[0].rate, 1.0, 1e-12);
	cr_assert_float_eq(out[1].rate, 0.0, 1e-12);
	scales_snapshot_free(&s);
	/* /b a gauge now: one track left, /c's */
	struct segbuild *b3 = sb_new("r", 1, 1, NULL);
	sb_gauge(b3, "/b", 3);
	uint32_t c3 = sb_counter(b3, "/c", NULL);
	sb_entry(b3, c3)->generation = sb_entry(b, c)->generation;
	sb_counter_add(b3, c3, 0, 400 + 50);
	s = build_snap(b3, 0);
	s->mono_ns = 1025 * SEC;
	cr_assert_eq(scales_rates_update(r, s, out), 0);
	cr_assert(isnan(out[0].rate));
	cr_assert_float_eq(out[1].rate, 10.0, 1e-12);
	scales_snapshot_free(&s);
	scales_rates_free(&r);
	sb_free(b);
	sb_free(b2);
	sb_free(b3);
}
