/* SPDX-License-Identifier: MIT */
/*
 * hard-reader: a reader process for the hardening tests. Takes snapshots
 * of a segment (or of every segment of a directory, discovered anew each
 * time, as the tools do) in a loop until its stdin reaches EOF, and checks
 * each: no error, no invalid entry, valid JSON rendering, and counters (and
 * histogram counts) that never go down between two snapshots of the same
 * entry generation.
 *
 *   hard-reader PATH [INTERVAL_MS [light]]
 *
 * PATH: a segment file, or a directory. INTERVAL_MS: pause between
 * snapshots (default 0: back to back). "light" skips the JSON and
 * monotony checks, so that the process spends nearly all its time inside
 * scales_snapshot_take() (for hard-stop). Prints "started" after the
 * first snapshot, then at the end "snapshots N errors E" and the first
 * errors; exits 0 if E is 0.
 */
#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <scales/reader.h>

#include "json_check.h"

static long nsnap, nerr;
static bool light;
/* time inside scales_snapshot_take(), and the longest call (a reader
 * SIGSTOPped inside a snapshot shows as one very long call) */
static uint64_t ns_inside, ns_start, ns_longest;

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

__attribute__((format(printf, 1, 2))) static void err(const char *fmt, ...)
{
	if (nerr++ < 5) {
		va_list ap;
		va_start(ap, fmt);
		printf("error: ");
		vprintf(fmt, ap);
		printf("\n");
		va_end(ap);
	}
}

/* The previous snapshot of each process, by pid, for the monotony check. */
#define MAXPROC 64
static struct scales_snapshot *prev[MAXPROC];

static struct scales_snapshot **prev_of(int32_t pid, uint64_t start)
{
	for (int i = 0; i < MAXPROC; i++)
		if (prev[i] && prev[i]->proc.pid == pid &&
		    prev[i]->proc.start_time == start)
			return &prev[i];
	for (int i = 0; i < MAXPROC; i++)
		if (!prev[i])
			return &prev[i];
	return &prev[0];
}

static void check(struct scales_snapshot *s)
{
	if (s->invalid)
		err("%s: %u invalid entries", s->segment_path, s->invalid);
	if (light) {
		scales_snapshot_free(&s);
		return;
	}
	struct scales_buf b = { 0 };
	const struct scales_snapshot *arr[1] = { s };
	if (scales_json_render(&b, arr, NULL, 1, 0) || b.oom)
		err("%s: JSON render failed", s->segment_path);
	else if (!json_valid(b.data, b.len))
		err("%s: invalid JSON: %.200s", s->segment_path, b.data);
	scales_buf_free(&b);

	struct scales_snapshot **pp = prev_of(s->proc.pid, s->proc.start_time);
	struct scales_snapshot *p = *pp;
	for (size_t i = 0; p && i < s->n; i++) {
		const struct scales_metric *m = &s->metrics[i];
		uint64_t v, pv;
		if (!scales_metric_counter(m, &v) ||
		    (m->flags & SCALES_MF_DERIVED) || m->agg)
			continue;
		const struct scales_metric *o =
		    scales_snapshot_find(p, m->path);
		if (!o || o->generation != m->generation ||
		    o->kind != m->kind || !scales_metric_counter(o, &pv))
			continue;
		if (v < pv)
			err("%s: %s went down from %llu to %llu",
			    s->segment_path, m->path, (unsigned long long)pv,
			    (unsigned long long)v);
	}
	scales_snapshot_free(pp);
	*pp = s;
}

static void one(const char *path)
{
	char e[512];
	scales_segment *seg;
	int rc = scales_segment_open(path, 0, &seg, e, sizeof e);
	if (rc) {
		/* a segment removed between discovery and open is not news */
		if (rc != -ENOENT)
			err("open: %s", e);
		return;
	}
	struct scales_process_info info;
	if (scales_segment_info(seg, &info, e, sizeof e))
		err("info: %s", e);
	struct scales_snapshot *s;
	uint64_t t0 = now_ns();
	rc = scales_snapshot_take(seg, 0, &s, e, sizeof e);
	t0 = now_ns() - t0;
	ns_inside += t0;
	ns_longest = t0 > ns_longest ? t0 : ns_longest;
	scales_segment_close(&seg);
	if (rc) {
		err("snapshot: %s", e);
		return;
	}
	nsnap++;
	check(s);
}

static void warn(void *arg, const char *path, const char *msg)
{
	(void)arg;
	err("discovery: %s: %s", path, msg);
}

static void round_dir(const char *dir)
{
	struct scales_seg_list l;
	char e[512];
	if (scales_discover(dir, warn, NULL, &l, e, sizeof e)) {
		err("discover: %s", e);
		return;
	}
	for (size_t i = 0; i < l.n; i++)
		one(l.items[i].path);
	scales_seg_list_free(&l);
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "usage: hard-reader PATH [INTERVAL_MS]\n");
		return 2;
	}
	const char *path = argv[1];
	int interval = argc > 2 ? atoi(argv[2]) : 0;
	light = argc > 3 && !strcmp(argv[3], "light");
	struct stat st;
	bool is_dir = lstat(path, &st) == 0 && S_ISDIR(st.st_mode);
	/* a single segment: keep it open, as scales-top does */
	scales_segment *seg = NULL;
	char e[512];
	if (!is_dir && scales_segment_open(path, 0, &seg, e, sizeof e)) {
		printf("error: open: %s\nsnapshots 0 errors 1\n", e);
		return 1;
	}
	bool started = false;
	ns_start = now_ns();
	for (;;) {
		if (is_dir) {
			round_dir(path);
		} else {
			struct scales_snapshot *s;
			uint64_t t0 = now_ns();
			int rc = scales_snapshot_take(seg, 0, &s, e, sizeof e);
			t0 = now_ns() - t0;
			ns_inside += t0;
			ns_longest = t0 > ns_longest ? t0 : ns_longest;
			if (rc) {
				err("snapshot: %s", e);
			} else {
				nsnap++;
				check(s);
			}
		}
		if (!started) {
			printf("started\n");
			fflush(stdout);
			started = true;
		}
		struct pollfd p = { 0, POLLIN, 0 };
		if (poll(&p, 1, interval) > 0) {
			char buf[64];
			if (read(0, buf, sizeof buf) <= 0)
				break;
		}
	}
	scales_segment_close(&seg);
	for (int i = 0; i < MAXPROC; i++)
		scales_snapshot_free(&prev[i]);
	uint64_t all = now_ns() - ns_start;
	printf("inside %.0f%% longest %.1f ms\n",
	       all ? 100.0 * (double)ns_inside / (double)all : 0.0,
	       (double)ns_longest / 1e6);
	printf("snapshots %ld errors %ld\n", nsnap, nerr);
	return nerr ? 1 : 0;
}
