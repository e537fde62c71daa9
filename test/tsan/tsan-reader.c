/* SPDX-License-Identifier: MIT */
/*
 * tsan-reader: readers snapshotting a segment while writers write it, in
 * one process, for ThreadSanitizer (and, in the normal build, as a plain
 * stress test). WRITERS threads update shared counters and a histogram and
 * register, update and retire paths of their own (so entries are rewritten
 * under the readers' feet); READERS threads each open the segment and take
 * snapshots in a loop (seqlock retries, aggregates, JSON, rates, merge).
 * The writers also share a timed state (time in state: its compare-and-
 * swap chain and release adds against the readers' acquire loads) with
 * two value slots for three values, so "other" is used too.
 * Checked: no reader error, no invalid entry, counters never go down
 * between two snapshots of the same reader, and exact totals at the end.
 *
 *   tsan-reader [ITERS]   (updates per writer thread, default 200000)
 */
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <scales/reader.h>
#include <scales/scales.h>

#define WRITERS 2
#define READERS 2

static scales_registry *reg;
static scales_counter total;
static scales_histogram lat;
static scales_state timed;
static uint32_t timed_ids[3];
static long iters = 200000;
static atomic_bool writing = true;
static atomic_int reader_errors, reader_snaps;
static char first_error[512];

__attribute__((format(printf, 1, 2))) static void rerror(const char *fmt, ...)
{
	if (atomic_fetch_add(&reader_errors, 1) == 0) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(first_error, sizeof first_error, fmt, ap);
		va_end(ap);
	}
}

static void *writer(void *arg)
{
	int k = (int)(intptr_t)arg;
	char p[64];
	scales_scope *scope = NULL;
	scales_scope_root(reg, &scope, "/w%d", k);
	for (long i = 0; i < iters; i++) {
		scales_counter_inc(&total);
		scales_histogram_record(&lat, (uint64_t)(i & 1023));
		if (i % 16 == 0)
			scales_state_set(&timed, timed_ids[(i / 16) % 3]);
		if (i % 997 == 0) {
			/* an entry rewritten under the readers' feet */
			snprintf(p, sizeof p, "/tmp%d/%ld", k, (i / 997) % 8);
			scales_counter c;
			if (scales_counter_get(reg, p, NULL, &c) == 0)
				scales_counter_add(&c, 3);
			scales_retire(reg, p);
			scales_state s;
			if (scales_scope_state(scope, "state", NULL, &s) == 0)
				scales_state_set_str(&s,
				                     (i / 997) & 1 ? "a" : "b");
		}
	}
	scales_scope_release(&scope);
	return NULL;
}

static void *reader(void *arg)
{
	(void)arg;
	char err[512];
	scales_segment *seg;
	if (scales_segment_open(scales_registry_path(reg), 0, &seg, err,
	                        sizeof err)) {
		rerror("open: %s", err);
		return NULL;
	}
	struct scales_snapshot *prev = NULL;
	scales_rates *rates = scales_rates_new(0);
	do {
		struct scales_snapshot *s;
		if (scales_snapshot_take(seg, 0, &s, err, sizeof err)) {
			rerror("snapshot: %s", err);
			continue;
		}
		atomic_fetch_add(&reader_snaps, 1);
		if (s->invalid)
			rerror("invalid entries");
		const struct scales_metric *m =
		    scales_snapshot_find(s, "/total");
		const struct scales_metric *o =
		    prev ? scales_snapshot_find(prev, "/total") : NULL;
		if (m && o && m->v.u64 < o->v.u64)
			rerror("/total went down");
		const struct scales_metric *t =
		    scales_snapshot_find(s, "/timed");
		if (!t || !(t->flags & SCALES_MF_TIMED))
			rerror("/timed is not a timed state");
		for (uint32_t k = 0; t && k < t->side->ntimes; k++)
			(void)scales_state_time_rate(prev, s, t, k);
		struct scales_buf b = { 0 };
		const struct scales_snapshot *arr[2] = { s, prev };
		if (scales_json_render(&b, arr, NULL, 1, 0))
			rerror("JSON rendering failed");
		scales_buf_free(&b);
		struct scales_rate *r = calloc(s->n + 1, sizeof *r);
		scales_rates_update(rates, s, r);
		free(r);
		if (prev) {
			struct scales_snapshot *mg = NULL;
			if (scales_snapshot_merge(arr, 2, &mg))
				rerror("merge failed");
			scales_snapshot_free(&mg);
		}
		scales_snapshot_free(&prev);
		prev = s;
	} while (atomic_load(&writing));
	scales_snapshot_free(&prev);
	scales_rates_free(&rates);
	scales_segment_close(&seg);
	return NULL;
}

int main(int argc, char **argv)
{
	if (argc > 1)
		iters = atol(argv[1]);
	printf("1..3\n");
	struct scales_options o;
	scales_options_init(&o);
	o.app = "tsanreader";
	o.max_entries = 256;
	o.stripe_bytes = 1 << 18;
	o.data_bytes = 16384;
	o.string_bytes = 16384;
	o.sampler_interval_ms = 5;
	int rc = scales_open(&o, &reg);
	if (rc) {
		printf("Bail out! scales_open: %s\n", scales_strerror(rc));
		return 1;
	}
	struct scales_histogram_config cfg = { 1u << 12, 5, 0, 0 };
	struct scales_info ti = { NULL, SCALES_STATE_TIMED_N(2) };
	if (scales_counter_get(reg, "/total", NULL, &total) ||
	    scales_histogram_get(reg, "/lat", NULL, &cfg, &lat) ||
	    scales_state_get(reg, "/timed", &ti, &timed) ||
	    scales_state_intern(reg, "x", &timed_ids[0]) ||
	    scales_state_intern(reg, "y", &timed_ids[1]) ||
	    scales_state_intern(reg, "z", &timed_ids[2])) {
		printf("Bail out! registration failed\n");
		return 1;
	}
	pthread_t w[WRITERS], r[READERS];
	for (int k = 0; k < READERS; k++)
		pthread_create(&r[k], NULL, reader, NULL);
	for (int k = 0; k < WRITERS; k++)
		pthread_create(&w[k], NULL, writer, (void *)(intptr_t)k);
	for (int k = 0; k < WRITERS; k++)
		pthread_join(w[k], NULL);
	atomic_store(&writing, false);
	for (int k = 0; k < READERS; k++)
		pthread_join(r[k], NULL);

	int e = atomic_load(&reader_errors);
	printf("%sok 1 - %d readers, %d snapshots while %d writers wrote: no "
	       "error%s%s\n",
	       e ? "not " : "", READERS, atomic_load(&reader_snaps), WRITERS,
	       e ? ": " : "", e ? first_error : "");

	char err[512];
	scales_segment *seg;
	struct scales_snapshot *s = NULL;
	if (!scales_segment_open(scales_registry_path(reg), 0, &seg, err,
	                         sizeof err)) {
		scales_snapshot_take(seg, 0, &s, err, sizeof err);
		scales_segment_close(&seg);
	}
	uint64_t want = (uint64_t)WRITERS * (uint64_t)iters;
	const struct scales_metric *t =
	    s ? scales_snapshot_find(s, "/total") : NULL;
	const struct scales_metric *h =
	    s ? scales_snapshot_find(s, "/lat") : NULL;
	bool exact = t && h && t->v.u64 == want && h->side->hist.count == want;
	printf("%sok 2 - exact totals (%llu)\n", exact ? "" : "not ",
	       (unsigned long long)want);
	bool retired = s != NULL;
	for (size_t i = 0; s && i < s->n; i++)
		if (!strncmp(s->metrics[i].path, "/tmp", 4) ||
		    !strncmp(s->metrics[i].path, "/w", 2))
			retired = false;
	printf("%sok 3 - every temporary entry retired\n",
	       retired ? "" : "not ");
	scales_snapshot_free(&s);
	scales_close(&reg);
	return e || !exact || !retired ? 1 : 0;
}
