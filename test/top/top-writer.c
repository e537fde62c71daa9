/* SPDX-License-Identifier: MIT */
/*
 * top-writer: a small instrumented process for the scales-top tests.
 *
 *   top-writer [--app NAME] [--count N] [--metrics N] [--busy] [--inf]
 *              [--shape SUB_BITS,SHIFT,SCALE] [--refuse N] [--peak V]
 *
 * Registers /test/count (incremented N times, default 5), /test/gauge (-5),
 * /test/bytes (a gauge in bytes, 3 MiB), /test/state ("idle"), /test/lat
 * (a histogram in seconds fed 1 ms ... 10 ms) and, with --metrics N, N
 * counters /bulk/g<i/100>/m<i> with value i. With --busy it then adds 10 to
 * /test/ticks and records 5 ms into /test/lat every 10 ms until stopped,
 * so rates are not zero. With --inf, double gauges /inf/plus (+Inf),
 * /inf/minus (-Inf), /inf/secs (-Inf s), /inf/bytes (+Inf B) and /inf/nan
 * (NaN s).
 * --shape gives /test/lat those histogram parameters (its values are
 * then recorded in raw units of SCALE seconds, plus 3 raw units: 1 ms is
 * 1003 with SCALE 1e-6). --refuse N makes the segment hold its seven stats
 * only, then tries N more (refused: the segment's refused count is N).
 * With --peak V it sets gauges declared with each merge mode to V:
 * /merge/max (SCALES_MERGE_MAX), /merge/min (a double, SCALES_MERGE_MIN),
 * /merge/mean (SCALES_MERGE_MEAN), /merge/sum (none).
 * With --when T, /test/when is a double gauge in seconds set to T (a point
 * in time from 1e9 to 1e10 s) and /test/ratio one without unit, 0.0505.
 * With --keys, a dict /keys/ua counts keys that are no path component
 * (see keys[] below); a key that is not UTF-8 and one too long must be
 * refused with SCALES_E_KEY_UTF8 and SCALES_E_KEY_LONG, leaving the
 * others' counts alone.
 * Prints "ready" once the numbers are in place,
 * waits for SIGTERM or SIGINT and removes its segment.
 */
#include <math.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <scales/scales.h>

static volatile sig_atomic_t stop;

static void on_stop(int sig)
{
	(void)sig;
	stop = 1;
}

static int fail(const char *what, int rc)
{
	fprintf(stderr, "top-writer: %s: %s\n", what, scales_strerror(rc));
	return 1;
}

/* The stats every top-writer registers first (/test/...): --refuse leaves
 * room for these and nothing more. */
#define BASE_STATS 7

int main(int argc, char **argv)
{
	const char *app = "top-writer";
	long count = 5, metrics = 0, peak = 0;
	int merge = 0, keys = 0;
	struct scales_histogram_config shape = { 0 };
	long refuse = 0;
	bool use_shape = false;
	int busy = 0, inf = 0;
	double when = NAN;
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--app") && i + 1 < argc)
			app = argv[++i];
		else if (!strcmp(argv[i], "--count") && i + 1 < argc)
			count = atol(argv[++i]);
		else if (!strcmp(argv[i], "--metrics") && i + 1 < argc)
			metrics = atol(argv[++i]);
		else if (!strcmp(argv[i], "--shape") && i + 1 < argc &&
		         sscanf(argv[++i], "%u,%u,%lf", &shape.sub_bucket_bits,
		                &shape.lowest_shift, &shape.scale) == 3)
			use_shape = true;
		else if (!strcmp(argv[i], "--refuse") && i + 1 < argc)
			refuse = atol(argv[++i]);
		else if (!strcmp(argv[i], "--peak") && i + 1 < argc) {
			peak = atol(argv[++i]);
			merge = 1;
		} else if (!strcmp(argv[i], "--keys"))
			keys = 1;
		else if (!strcmp(argv[i], "--busy"))
			busy = 1;
		else if (!strcmp(argv[i], "--inf"))
			inf = 1;
		else if (!strcmp(argv[i], "--when") && i + 1 < argc)
			when = atof(argv[++i]);
		else {
			fprintf(stderr,
			        "usage: top-writer [--app NAME] [--count N] "
			        "[--metrics N] [--busy] [--inf] [--peak V] "
			        "[--when T]\n");
			return 2;
		}
	}
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_stop;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);

	struct scales_options o;
	scales_options_init(&o);
	o.app = app;
	if (metrics > 10000)
		o.max_entries = (uint32_t)metrics + 1000;
	if (refuse) /* room for the BASE_STATS below and nothing more */
		o.max_entries = BASE_STATS;
	scales_registry *reg;
	int rc = scales_open(&o, &reg);
	if (rc)
		return fail("open", rc);

	scales_counter c, ticks, sent;
	scales_gauge g, bytes;
	scales_state st;
	scales_histogram lat;
	struct scales_info count_info = { "how many times", SCALES_UNIT_NONE };
	struct scales_info lat_info = { "a latency", SCALES_UNIT_SECONDS };
	struct scales_info bytes_info = { "a size", SCALES_UNIT_BYTES };
	if ((rc = scales_counter_get(reg, "/test/count", &count_info, &c)) ||
	    (rc = scales_counter_get(reg, "/test/ticks", NULL, &ticks)) ||
	    (rc = scales_gauge_get(reg, "/test/gauge", NULL, &g)) ||
	    (rc = scales_gauge_get(reg, "/test/bytes", &bytes_info, &bytes)) ||
	    (rc = scales_counter_get(reg, "/test/sent", &bytes_info, &sent)) ||
	    (rc = scales_state_get(reg, "/test/state", NULL, &st)) ||
	    (rc = scales_histogram_get(reg, "/test/lat", &lat_info,
	                               use_shape ? &shape : NULL, &lat)))
		return fail("register", rc);
	for (long i = 0; i < count; i++)
		scales_counter_inc(&c);
	scales_gauge_set(&g, -5);
	scales_gauge_set(&bytes, 3 << 20);
	scales_counter_add(&sent, 1536); /* a counter in bytes: 1.50KiB */
	if ((rc = scales_state_set_str(&st, "idle")))
		return fail("state", rc);
	for (int ms = 1; ms <= 10; ms++)
		scales_histogram_record(
		    &lat, use_shape ? (uint64_t)(ms * 1e-3 / shape.scale) + 3 :
		                      (uint64_t)ms * 1000000u);
	for (long i = 0; i < metrics; i++) {
		char path[64];
		scales_counter m;
		snprintf(path, sizeof(path), "/bulk/g%ld/m%ld", i / 100, i);
		if ((rc = scales_counter_get(reg, path, NULL, &m)))
			return fail(path, rc);
		scales_counter_add(&m, (uint64_t)i);
	}
	if (merge) {
		scales_gauge mx, mean, sum;
		scales_gauge_f64 mn;
		struct scales_info imax = { "largest", SCALES_MERGE_MAX };
		struct scales_info imin = { "smallest", SCALES_UNIT_SECONDS |
			                                    SCALES_MERGE_MIN };
		struct scales_info imean = { "mean", SCALES_MERGE_MEAN };
		if ((rc = scales_gauge_get(reg, "/merge/max", &imax, &mx)) ||
		    (rc =
		         scales_gauge_f64_get(reg, "/merge/min", &imin, &mn)) ||
		    (rc =
		         scales_gauge_get(reg, "/merge/mean", &imean, &mean)) ||
		    (rc = scales_gauge_get(reg, "/merge/sum", NULL, &sum)))
			return fail("register merge", rc);
		scales_gauge_set(&mx, peak);
		scales_gauge_f64_set(&mn, (double)peak);
		scales_gauge_set(&mean, peak);
		scales_gauge_set(&sum, peak);
	}
	if (inf) { /* double gauges that are not finite */
		const char *p[] = { "/inf/plus", "/inf/minus", "/inf/secs",
			            "/inf/bytes", "/inf/nan" };
		double v[] = { INFINITY, -INFINITY, -INFINITY, INFINITY, NAN };
		unsigned u[] = { SCALES_UNIT_NONE, SCALES_UNIT_NONE,
			         SCALES_UNIT_SECONDS, SCALES_UNIT_BYTES,
			         SCALES_UNIT_SECONDS };
		for (int i = 0; i < 5; i++) {
			scales_gauge_f64 gf;
			struct scales_info in = { NULL, u[i] };
			if ((rc = scales_gauge_f64_get(reg, p[i], &in, &gf)))
				return fail(p[i], rc);
			scales_gauge_f64_set(&gf, v[i]);
		}
	}
	if (!isnan(when)) { /* the same strings in every view */
		scales_gauge_f64 w, r;
		struct scales_info in = { "a point in time",
			                  SCALES_UNIT_SECONDS };
		if ((rc = scales_gauge_f64_get(reg, "/test/when", &in, &w)) ||
		    (rc = scales_gauge_f64_get(reg, "/test/ratio", NULL, &r)))
			return fail("--when", rc);
		scales_gauge_f64_set(&w, when);
		scales_gauge_f64_set(&r, 0.0505);
	}
	if (keys) {
		/* key i is added i + 1 times */
		static const char *const k[] = { "Mozilla/5.0 (X11; Linux)",
			                         "",
			                         "count",
			                         "aA",
			                         "a%41",
			                         "\xc3\xa9\xe6\x97\xa5",
			                         ".",
			                         "tab\there" };
		scales_dict d;
		if ((rc = scales_dict_get(reg, "/keys/ua", NULL, &d)))
			return fail("dict", rc);
		for (unsigned i = 0; i < sizeof(k) / sizeof(k[0]); i++)
			if ((rc = scales_dict_add(&d, k[i], i + 1)))
				return fail(k[i], rc);
		char longkey[300];
		memset(longkey, 'x', sizeof(longkey) - 1);
		longkey[sizeof(longkey) - 1] = 0;
		if ((rc = scales_dict_add(&d, "\xff\xfe", 1)) !=
		    SCALES_E_KEY_UTF8)
			return fail("not UTF-8: not refused", rc);
		if ((rc = scales_dict_add(&d, longkey, 1)) != SCALES_E_KEY_LONG)
			return fail("too long: not refused", rc);
	}
	for (long i = 0; i < refuse; i++) {
		char path[64];
		scales_counter m;
		snprintf(path, sizeof(path), "/refused/m%ld", i);
		if (scales_counter_get(reg, path, NULL, &m) != SCALES_E_FULL)
			return fail("--refuse: not refused", 0);
	}
	printf("ready\n");
	fflush(stdout);

	struct timespec ts = { 0, 10 * 1000 * 1000 };
	while (!stop) {
		if (busy) {
			scales_counter_add(&ticks, 10);
			scales_histogram_record(&lat, 5000000u);
		}
		nanosleep(&ts, NULL);
	}
	scales_close(&reg);
	return 0;
}
