/* SPDX-License-Identifier: MIT */
/*
 * format-writer.c: writes a segment with known values through libscales and
 * keeps it (SCALES_KEEP_SEGMENT), for format-doc-test.sh, which reads it
 * with the Python reader printed in docs/format.md.
 *
 * Usage: format-writer DIR [full]. Prints the segment's path. Exit status
 * 0 on success, 1 on any error (with the library's message on stderr).
 * "full": every kind, aggregates over mixed kinds, differently shaped
 * histograms, dicts and states, nested aggregates, values above a
 * histogram's range, and retired-and-reused entries (app format-full).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <scales/scales.h>

static int check(int rc, const char *what)
{
	if (rc != 0) {
		fprintf(stderr, "format-writer: %s: %s\n", what,
		        scales_strerror(rc));
		exit(1);
	}
	return rc;
}

static scales_scope *scope(scales_registry *reg, const char *path)
{
	scales_scope *s = NULL;
	check(scales_scope_root(reg, &s, "%s", path), path);
	return s;
}

static void counter(scales_registry *reg, const char *path, uint64_t n,
                    unsigned unit)
{
	struct scales_info info = { NULL, (enum scales_unit)unit };
	scales_counter c;
	check(scales_counter_get(reg, path, &info, &c), path);
	scales_counter_add(&c, n);
}

static void gauge(scales_registry *reg, const char *path, int64_t v)
{
	scales_gauge g;
	check(scales_gauge_get(reg, path, NULL, &g), path);
	scales_gauge_set(&g, v);
}

static void gauge_f64(scales_registry *reg, const char *path, double v)
{
	scales_gauge_f64 g;
	check(scales_gauge_f64_get(reg, path, NULL, &g), path);
	scales_gauge_f64_set(&g, v);
}

static void state(scales_registry *reg, const char *path, const char *v)
{
	scales_state st;
	check(scales_state_get(reg, path, NULL, &st), path);
	if (v)
		check(scales_state_set_str(&st, v), path);
}

static scales_histogram histogram(scales_registry *reg, const char *path,
                                  unsigned unit,
                                  const struct scales_histogram_config *cfg)
{
	struct scales_info info = { "a histogram", (enum scales_unit)unit };
	scales_histogram h;
	check(scales_histogram_get(reg, path, &info, cfg, &h), path);
	return h;
}

static void full(scales_registry *reg)
{
	struct scales_info sum_info = { "the sum", SCALES_UNIT_NONE };
	/* a sum over mixed kinds (a double among them): gauge_f64; the
	 * state child is ignored; the unit comes from the first child */
	counter(reg, "/mix/a/v", 10, SCALES_UNIT_BYTES);
	gauge(reg, "/mix/b/v", -3);
	gauge_f64(reg, "/mix/c/v", 0.1);
	gauge_f64(reg, "/mix/d/v", 0.2);
	state(reg, "/mix/e/v", "on");
	check(scales_scope_sum(scope(reg, "/mix"), "v", &sum_info), "/mix");
	/* gauges and counters: a gauge, wrapping */
	gauge(reg, "/g/a/v", -5);
	counter(reg, "/g/b/v", 7, 0);
	check(scales_scope_sum(scope(reg, "/g"), "v", NULL), "/g");
	/* counters only, wrapping modulo 2^64 */
	counter(reg, "/c/a/v", UINT64_MAX, 0);
	counter(reg, "/c/b/v", 2, 0);
	check(scales_scope_sum(scope(reg, "/c"), "v", NULL), "/c");
	/* no children at all: a counter 0 */
	check(scales_scope_sum(scope(reg, "/none"), "v", NULL), "/none");

	/* histograms of three shapes and scales, one empty, values above
	 * the range */
	scales_histogram a =
	    histogram(reg, "/h/a/lat", SCALES_UNIT_SECONDS, NULL);
	struct scales_histogram_config cb = { ((uint64_t)1 << 30) - 1, 7, 3,
		                              1e-6 };
	scales_histogram b =
	    histogram(reg, "/h/b/lat", SCALES_UNIT_SECONDS, &cb);
	histogram(reg, "/h/c/lat", SCALES_UNIT_SECONDS, NULL);
	for (uint64_t i = 1; i <= 200; i++) {
		scales_histogram_record(&a, i * i * 1000003u);
		scales_histogram_record(&b, i * 977u);
	}
	scales_histogram_record(&a, ((uint64_t)1 << 40) + 12345);
	scales_histogram_record(&a, UINT64_MAX);
	check(scales_scope_sum(scope(reg, "/h"), "lat", NULL), "/h");
	/* a small range: most values above it */
	struct scales_histogram_config cs = { 4095, 5, 0, 1 };
	scales_histogram sm = histogram(reg, "/small", 0, &cs);
	for (uint64_t i = 0; i < 50; i++)
		scales_histogram_record(&sm, 3000 + i * i * 7);
	/* scale 1, a sum that an u64 stripe just holds */
	struct scales_histogram_config c1 = { 0, 6, 0, 1 };
	scales_histogram big = histogram(reg, "/big", 0, &c1);
	scales_histogram_record(&big, UINT64_MAX / 2);
	scales_histogram_record(&big, UINT64_MAX / 3);
	scales_histogram_record(&big, 17);

	/* dicts: totals, and a sum key by key */
	scales_dict da, db;
	check(scales_dict_get(reg, "/d/a/hits", NULL, &da), "/d/a/hits");
	check(scales_dict_get(reg, "/d/b/hits", NULL, &db), "/d/b/hits");
	check(scales_dict_add(&da, "200", 3), "200");
	check(scales_dict_add(&da, "404", 1), "404");
	check(scales_dict_add(&db, "200", 5), "200");
	check(scales_dict_add(&db, "500", 2), "500");
	check(scales_scope_sum(scope(reg, "/d"), "hits", NULL), "/d");

	/* states: counts per value; a child never set is not counted */
	state(reg, "/s/a/st", "idle");
	state(reg, "/s/b/st", "busy");
	state(reg, "/s/c/st", "idle");
	state(reg, "/s/d/st", NULL);
	state(reg, "/s/e/st", "-.:@+");
	state(reg, "/s/f/st", "x/y 100% \xc3\xa9");
	state(reg, "/s/g/st", "..");
	check(scales_scope_states(scope(reg, "/s"), "st", NULL), "/s");

	/* nested: /n/v sums what /n/p1/v and /n/p2/v computed */
	counter(reg, "/n/p1/k1/v", 1, 0);
	counter(reg, "/n/p1/k2/v", 2, 0);
	counter(reg, "/n/p2/k1/v", 3, 0);
	check(scales_scope_sum(scope(reg, "/n/p1"), "v", NULL), "/n/p1");
	check(scales_scope_sum(scope(reg, "/n/p2"), "v", NULL), "/n/p2");
	check(scales_scope_sum(scope(reg, "/n"), "v", NULL), "/n");

	/* doubles that are not finite */
	gauge_f64(reg, "/f/nan", NAN);
	gauge_f64(reg, "/f/inf", INFINITY);
	gauge_f64(reg, "/f/tiny", 5e-324);

	/* labels (1.2): labelled scopes, a dict with a key label inside
	 * one, a plain one, and a sum over the labelled scopes */
	scales_scope *ep = scope(reg, "/endpoint"), *home, *search, *deep;
	check(scales_scope_labelled(ep, &home, "endpoint", "home"), "home");
	check(scales_scope_labelled(ep, &search, "endpoint", "search%%2F"),
	      "search");
	check(scales_scope_labelled(search, &deep, "shard", "s1"), "s1");
	scales_counter req;
	check(scales_scope_counter(home, "requests", NULL, &req), "requests");
	scales_counter_add(&req, 5);
	check(scales_scope_counter(search, "requests", NULL, &req), "req");
	scales_counter_add(&req, 6);
	check(scales_scope_counter(deep, "requests", NULL, &req), "deep");
	scales_counter_add(&req, 1);
	scales_dict codes, plain;
	check(scales_scope_labelled_dict(home, "status", "code", NULL, &codes),
	      "status");
	check(scales_dict_add(&codes, "200", 4), "200");
	check(scales_dict_add(&codes, "404", 1), "404");
	check(scales_labelled_dict_get(reg, "/plain/status", NULL, NULL,
	                               &plain),
	      "/plain/status");
	check(scales_dict_add(&plain, "200", 2), "200");
	check(scales_scope_sum(ep, "requests", NULL), "/endpoint");

	/* retired, then reused by other paths of the same sizes */
	counter(reg, "/r/old", 4, 0);
	check(scales_retire(reg, "/r/old"), "retire /r/old");
	counter(reg, "/r/new", 9, 0);
	scales_histogram ro = histogram(reg, "/r/oldh", 0, NULL);
	scales_histogram_record(&ro, 5);
	check(scales_retire(reg, "/r/oldh"), "retire /r/oldh");
	scales_histogram rn = histogram(reg, "/r/newh", 0, NULL);
	scales_histogram_record(&rn, 7);
	counter(reg, "/r/old", 1, 0); /* the old path, registered again */
}

/* Time in state (section 6.3), on a clock of the writer's test hook whose
 * last set lies 2^50 ns ahead of CLOCK_MONOTONIC: the current values have
 * no running time for either reader, so both compute the same seconds. */
extern uint64_t (*test_hook_state_clock)(void);
static uint64_t fake_now;

static uint64_t fake_clock(void)
{
	return fake_now;
}

static void timed(scales_registry *reg)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	uint64_t end = (uint64_t)ts.tv_sec * 1000000000u +
	               (uint64_t)ts.tv_nsec + ((uint64_t)1 << 50);
	test_hook_state_clock = fake_clock;
	struct scales_info ti = { "timed", SCALES_STATE_TIMED };
	scales_state t;
	check(scales_state_get(reg, "/t/state", &ti, &t), "/t/state");
	fake_now = end - 1750000000u;
	scales_state_set_str(&t, "a");
	fake_now = end - 250000000u;
	scales_state_set_str(&t, "b");
	fake_now = end;
	scales_state_set_str(&t, "end");
	/* one value slot: b and c count as "other", current at the end */
	struct scales_info t1 = { NULL, SCALES_STATE_TIMED_N(1) };
	check(scales_state_get(reg, "/t/one", &t1, &t), "/t/one");
	fake_now = end - 3000;
	scales_state_set_str(&t, "a");
	fake_now = end - 2000;
	scales_state_set_str(&t, "b");
	fake_now = end - 1999;
	scales_state_set_str(&t, "a");
	fake_now = end - 1000;
	scales_state_set_str(&t, "c");
	fake_now = end;
	scales_state_set_str(&t, "b");
	test_hook_state_clock = NULL;
}

int main(int argc, char **argv)
{
	if (argc != 2 && !(argc == 3 && strcmp(argv[2], "full") == 0)) {
		fprintf(stderr, "usage: format-writer DIR [full]\n");
		return 1;
	}
	struct scales_options o;
	scales_options_init(&o);
	o.app = argc == 3 ? "format-full" : "format-doc";
	o.dir = argv[1];
	o.flags = SCALES_KEEP_SEGMENT | SCALES_NO_SAMPLER;
	scales_registry *reg = NULL;
	check(scales_open(&o, &reg), "scales_open");
	if (argc == 3) {
		full(reg);
		timed(reg);
		printf("%s\n", scales_registry_path(reg));
		fflush(stdout);
		check(scales_close(&reg), "scales_close");
		return 0;
	}

	struct scales_info errors_info = { "Requests that failed",
		                           SCALES_UNIT_NONE };
	scales_counter errors;
	check(scales_counter_get(reg, "/web/errors", &errors_info, &errors),
	      "/web/errors");
	for (int i = 0; i < 7; i++)
		scales_counter_inc(&errors);

	scales_counter success;
	check(scales_counter_get(reg, "/web/success", NULL, &success),
	      "/web/success");
	scales_counter_add(&success, 1000);

	scales_gauge inflight;
	check(scales_gauge_get(reg, "/web/inflight", NULL, &inflight),
	      "/web/inflight");
	scales_gauge_set(&inflight, -3);

	scales_gauge_f64 load;
	check(scales_gauge_f64_get(reg, "/web/load", NULL, &load), "/web/load");
	scales_gauge_f64_set(&load, 0.25);

	scales_state state;
	check(scales_state_get(reg, "/worker/state", NULL, &state),
	      "/worker/state");
	check(scales_state_set_str(&state, "waitingForTask"), "state set");

	/* A retired entry must not be shown. */
	scales_counter gone;
	check(scales_counter_get(reg, "/web/gone", NULL, &gone), "/web/gone");
	scales_counter_inc(&gone);
	check(scales_retire(reg, "/web/gone"), "retire /web/gone");

	struct scales_info latency_info = { "Handler latency",
		                            SCALES_UNIT_SECONDS };
	scales_histogram latency;
	check(scales_histogram_get(reg, "/handler/latency", &latency_info, NULL,
	                           &latency),
	      "/handler/latency");
	for (uint64_t ms = 1; ms <= 100; ms++)
		scales_histogram_record(&latency, ms * 1000000u);

	printf("%s\n", scales_registry_path(reg));
	fflush(stdout);
	check(scales_close(&reg), "scales_close");
	return 0;
}
