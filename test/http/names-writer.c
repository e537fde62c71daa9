/* SPDX-License-Identifier: MIT */
/*
 * names-writer: an instrumented process whose paths are awkward for
 * Prometheus names, for test/http/promtool.sh: collisions (/x_y and /x.y,
 * /fooBar and /foo_bar, /lat and /lat/seconds), camelCase, tokens promtool
 * flags (ms, gauge, hours, a lone d), reserved suffixes (_total, _count,
 * _sum, _bucket), units, dicts, a state aggregate and a NaN gauge.
 * App "names" unless $SCALES_APP says otherwise. Prints "ready", then
 * waits for SIGTERM or SIGINT.
 */
#include <math.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>

#include <scales/scales.h>

static int rc_all;

static void counter(scales_registry *r, const char *path, unsigned unit,
                    uint64_t n)
{
	scales_counter c;
	int rc = scales_counter_get(
	    r, path, &(struct scales_info){ NULL, (enum scales_unit)unit }, &c);
	if (rc) {
		fprintf(stderr, "names-writer: %s: %s\n", path,
		        scales_strerror(rc));
		rc_all = 1;
	}
	scales_counter_add(&c, n);
}

static void gauge(scales_registry *r, const char *path, int64_t v)
{
	scales_gauge g;
	int rc = scales_gauge_get(r, path, NULL, &g);
	if (rc) {
		fprintf(stderr, "names-writer: %s: %s\n", path,
		        scales_strerror(rc));
		rc_all = 1;
	}
	scales_gauge_set(&g, v);
}

static void histogram(scales_registry *r, const char *path, unsigned unit)
{
	scales_histogram h;
	int rc =
	    scales_histogram_get(r, path,
	                         &(struct scales_info){
	                             "a histogram", (enum scales_unit)unit },
	                         NULL, &h);
	if (rc) {
		fprintf(stderr, "names-writer: %s: %s\n", path,
		        scales_strerror(rc));
		rc_all = 1;
	}
	for (uint64_t v = 1; v <= 1000000; v *= 3)
		scales_histogram_record(&h, v);
}

int main(void)
{
	sigset_t stop;
	sigemptyset(&stop);
	sigaddset(&stop, SIGTERM);
	sigaddset(&stop, SIGINT);
	pthread_sigmask(SIG_BLOCK, &stop, NULL);

	struct scales_options opts;
	scales_options_init(&opts);
	if (!getenv("SCALES_APP"))
		opts.app = "names";
	scales_registry *reg;
	int rc = scales_open(&opts, &reg);
	if (rc) {
		fprintf(stderr, "names-writer: %s\n", scales_strerror(rc));
		return 1;
	}
	counter(reg, "/x_y", 0, 1);
	counter(reg, "/x.y", 0, 2);
	counter(reg, "/fooBar", 0, 3);
	counter(reg, "/foo_bar", 0, 4);
	counter(reg, "/HTTPRequests/inFlight", 0, 5);
	counter(reg, "/a/requests_total", 0, 6);
	counter(reg, "/io/read", SCALES_UNIT_BYTES, 7);
	counter(reg, "/q/counter/x", 0, 8);
	counter(reg, "/busy", SCALES_UNIT_SECONDS, 9);
	gauge(reg, "/cache/ms", 1);
	gauge(reg, "/q/gauge", 2);
	gauge(reg, "/up/hours", 3);
	gauge(reg, "/d", 4);
	gauge(reg, "/pool/count", 5);
	gauge(reg, "/pool/sum", 6);
	gauge(reg, "/pool/total", 7);
	gauge(reg, "/q/bucket", 8);
	gauge(reg, "/disk/kilobytes", 9);
	gauge(reg, "/a/k/b", 10);
	gauge(reg, "/weird/a:b@c+d%e", 11);
	histogram(reg, "/lat", SCALES_UNIT_SECONDS);
	histogram(reg, "/lat/seconds", SCALES_UNIT_SECONDS);
	histogram(reg, "/sizes", SCALES_UNIT_BYTES);
	histogram(reg, "/plain/count", 0);

	scales_gauge_f64 nan;
	if (scales_gauge_f64_get(reg, "/ratio", NULL, &nan))
		rc_all = 1;
	scales_gauge_f64_set(&nan, NAN);

	scales_dict d;
	if (scales_dict_get(reg, "/codes", NULL, &d) ||
	    scales_dict_add(&d, "200", 10) || scales_dict_add(&d, "500", 1))
		rc_all = 1;

	scales_scope *pool, *w0, *w1;
	scales_state s0, s1;
	if (scales_scope_root(reg, &pool, "/workers") ||
	    scales_scope_states(pool, "state", NULL) ||
	    scales_scope_sum(pool, "done", NULL) ||
	    scales_scope_child(pool, &w0, "w0") ||
	    scales_scope_child(pool, &w1, "w1") ||
	    scales_scope_state(w0, "state", NULL, &s0) ||
	    scales_scope_state(w1, "state", NULL, &s1) ||
	    scales_state_set_str(&s0, "idle \"quoted\" \\ back") ||
	    scales_state_set_str(&s1, "busy")) {
		fprintf(stderr, "names-writer: /workers failed\n");
		return 1;
	}
	scales_counter done;
	if (scales_scope_counter(w0, "done", NULL, &done))
		rc_all = 1;
	scales_counter_add(&done, 3);

	if (rc_all)
		return 1;
	printf("ready\n");
	fflush(stdout);
	int sig;
	sigwait(&stop, &sig);
	scales_close(&reg);
	return 0;
}
