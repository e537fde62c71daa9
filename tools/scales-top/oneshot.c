/* SPDX-License-Identifier: MIT */
/*
 * oneshot.c: the non-interactive modes: -1 (text), -j (JSON), -l (process
 * list) and --gc (remove stale segments).
 */
#include "oneshot.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <scales/reader.h>

#include "escape.h"
#include "procs.h"
#include "sample.h"
#include "units.h"

static void warn_stderr(void *arg, const char *msg)
{
	(void)arg;
	fprintf(stderr, "scales-top: warning: %s\n", top_esc(msg));
}

static uint64_t now_real_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

void top_fmt_uptime(char *buf, size_t len, const struct top_proc *e)
{
	if (!e->info_ok || e->state != TOP_PS_ALIVE) {
		snprintf(buf, len, "-");
		return;
	}
	uint64_t now = now_real_ns(), c = e->info.creation_time_ns;
	uint64_t s = now > c ? (now - c) / 1000000000u : 0;
	char h[TOP_NUM_LEN];
	snprintf(buf, len, "%s",
	         top_fmt_unit(h, (double)s, SCALES_UNIT_SECONDS));
}

/* ----------------------------------------------------------------- -l */

static int run_list(struct top_procs *p)
{
	size_t shown = 0;
	printf("%-20s %8s %-7s %8s %8s %7s %6s %9s  %s\n", "APP", "PID",
	       "STATE", "UPTIME", "METRICS", "REFUSED", "UID", "SIZE",
	       "SEGMENT");
	for (size_t i = 0; i < p->n; i++) {
		struct top_proc *e = &p->v[i];
		if (e->state == TOP_PS_INVALID)
			continue; /* skipped with a warning when found */
		char up[32], size[TOP_NUM_LEN], metrics[32] = "-";
		top_fmt_uptime(up, sizeof(up), e);
		top_fmt_unit(size, (double)e->resident, SCALES_UNIT_BYTES);
		long nm = top_proc_metrics(e);
		if (nm >= 0)
			snprintf(metrics, sizeof(metrics), "%ld", nm);
		printf("%-20s %8d %-7s %8s %8s %7llu %6u %9s  %s%s\n",
		       top_esc(e->app), (int)e->pid, top_pstate_name(e->state),
		       up, metrics, (unsigned long long)e->info.refused,
		       (unsigned)e->info.uid, size, top_esc(e->path),
		       e->pid_reused ? "  (pid reused)" : "");
		shown++;
	}
	return shown ? 0 : 1;
}

/* ---------------------------------------------------------------- --gc */

static int run_gc(struct top_procs *p)
{
	int rc = 0;
	for (size_t i = 0; i < p->n; i++) {
		const struct top_proc *e = &p->v[i];
		if (e->state != TOP_PS_DEAD || !e->info_ok)
			continue;
		/* check again right before removing: never a live one's */
		struct scales_process_info info;
		char err[256];
		if (scales_segment_info(e->seg, &info, err, sizeof(err)) ||
		    info.liveness == SCALES_LIVE_ALIVE ||
		    top_pid_running(info.pid, info.start_time) != 0)
			continue;
		struct stat st;
		if (lstat(e->path, &st) || !S_ISREG(st.st_mode) ||
		    st.st_dev != e->dev || st.st_ino != e->ino)
			continue;
		if (unlink(e->path)) {
			fprintf(stderr, "scales-top: cannot remove %s: %s\n",
			        top_esc(e->path), strerror(errno));
			rc = 2;
			continue;
		}
		printf("removed %s (%s pid %d, %s)\n", top_esc(e->path),
		       top_esc(e->app), (int)e->pid,
		       e->pid_reused ? "pid reused" : "dead");
	}
	return rc;
}

/* ------------------------------------------------------------- -1, -j */

/* For people, as the live view and the stats page show them ("50.5 ms",
 * "2026-12-06 07:34:21Z", "6.44k/s"); the exact figures are in -j. */
static void print_human(double v, unsigned unit)
{
	char b[TOP_NUM_LEN];
	fputs(top_fmt_unit(b, v, unit), stdout);
}

static void print_rates(const struct scales_rate *r, unsigned unit)
{
	char b[TOP_NUM_LEN];
	if (!r || isnan(r->rate))
		return;
	printf(" rate=%s", top_fmt_rate(b, r->rate, unit));
	printf(" m1=%s", top_fmt_rate(b, r->m1, unit));
	printf(" m5=%s", top_fmt_rate(b, r->m5, unit));
	printf(" m15=%s", top_fmt_rate(b, r->m15, unit));
}

/* -v: the help text at the end of the line, as varnishstat -1 prints
 * descriptions */
static void end_line(const struct scales_metric *m, bool verbose)
{
	if (verbose && m->help && m->help[0])
		printf("  %s", top_esc(m->help));
	putchar('\n');
}

/* Time in state: seconds per value, then (with -i) seconds per second;
 * "other" (the value "") as (other). */
static void print_times(const struct top_source *src,
                        const struct scales_metric *m, bool rates)
{
	char b[TOP_NUM_LEN];
	for (uint32_t i = 0; i < m->side->ntimes; i++) {
		const char *v = m->side->times[i].value;
		printf(" %s=%s", v[0] ? top_esc(v) : "(other)",
		       top_fmt_unit(b, (double)m->side->times[i].ns / 1e9,
		                    SCALES_UNIT_SECONDS));
		double r =
		    rates ? scales_state_time_rate(src->prev, src->cur, m, i) :
		            NAN;
		if (!isnan(r))
			printf(" (%s)",
			       top_fmt_rate(b, r, SCALES_UNIT_SECONDS));
	}
}

static void print_metric(const struct top_source *src,
                         const struct scales_metric *m,
                         const struct scales_rate *r, int width, bool verbose)
{
	printf("%-*s ", width, top_name(m, m->path, strlen(m->path)));
	switch (m->kind) {
	case SCALES_KIND_COUNTER:
	case SCALES_KIND_DICT:
		print_human((double)m->v.u64, m->unit);
		break;
	case SCALES_KIND_GAUGE:
		print_human((double)m->v.i64, m->unit);
		break;
	case SCALES_KIND_GAUGE_F64:
		print_human(m->v.f64, m->unit);
		break;
	case SCALES_KIND_STATE:
		fputs(m->v.state ? top_esc(m->v.state) : "-", stdout);
		for (uint32_t i = 0; i < m->side->nstates; i++)
			printf(" %s=%llu", top_esc(m->side->states[i].value),
			       (unsigned long long)m->side->states[i].count);
		if (m->flags & SCALES_MF_TIMED)
			print_times(src, m, r != NULL);
		break;
	case SCALES_KIND_HISTOGRAM: {
		struct scales_hstats st;
		scales_histo_stats(&m->side->hist, &st);
		const struct {
			const char *k;
			double v;
		} f[] = {
			{ "sum", st.sum },       { "min", st.min },
			{ "max", st.max },       { "mean", st.mean },
			{ "stddev", st.stddev }, { "p50", st.p50 },
			{ "p75", st.p75 },       { "p95", st.p95 },
			{ "p98", st.p98 },       { "p99", st.p99 },
			{ "p999", st.p999 },
		};
		printf("count=");
		print_human((double)st.count, 0);
		for (size_t i = 0; i < sizeof(f) / sizeof(f[0]); i++) {
			printf(" %s=", f[i].k);
			print_human(f[i].v, m->unit);
		}
		print_rates(r, 0);
		end_line(m, verbose);
		return;
	}
	default:
		printf("?");
	}
	print_rates(r, m->unit);
	end_line(m, verbose);
}

static void print_text(const struct top_source *src,
                       const struct scales_rate *rates, bool verbose)
{
	const struct scales_snapshot *s = src->cur;
	char up[TOP_NUM_LEN] = "-";
	if (s->proc.alive) {
		uint64_t c = s->proc.creation_time_ns;
		uint64_t now = s->real_ns;
		top_fmt_unit(up,
		             (double)(now > c ? (now - c) / 1000000000u : 0),
		             SCALES_UNIT_SECONDS);
	}
	if (s->nmembers > 1 || s->proc.pid == 0) {
		printf("== %s merged:", top_esc(s->proc.app));
		for (uint32_t i = 0; i < s->nmembers; i++)
			printf(" %d", (int)s->member_pids[i]);
		printf(" (%s) %zu metrics, uid %u, %llu refused\n",
		       s->proc.alive ? "alive" : "dead", s->n,
		       (unsigned)s->proc.uid,
		       (unsigned long long)s->proc.refused);
	} else {
		printf("== %s pid %d %s, up %s, %zu metrics, %s, uid %u, %llu "
		       "refused\n",
		       top_esc(s->proc.app), (int)s->proc.pid,
		       src->state == TOP_PS_ALIVE  ? "alive" :
		       src->state == TOP_PS_CLOSED ? "closed" :
		                                     "dead",
		       up, s->n,
		       s->segment_path ? top_esc(s->segment_path) : "-",
		       (unsigned)s->proc.uid,
		       (unsigned long long)s->proc.refused);
	}
	int width = 0;
	for (size_t i = 0; i < s->n; i++) {
		int l = (int)strlen(top_esc(s->metrics[i].path));
		if (l > width)
			width = l;
	}
	for (size_t i = 0; i < s->n; i++)
		print_metric(src, &s->metrics[i], rates ? &rates[i] : NULL,
		             width, verbose);
}

static void sleep_seconds(double secs)
{
	struct timespec ts = { (time_t)secs,
		               (long)((secs - (double)(time_t)secs) * 1e9) };
	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
}

/* Exit 1 says "nothing" (no process, or with -f no metric, matched);
 * one line on stderr says what. Returns the exit status. */
static int say_nothing(const struct top_args *a, size_t n, size_t metrics)
{
	if (n != 0 && !(a->nglobs && metrics == 0))
		return 0;
	const char *what = n == 0 ? "no process matched" : "no metric matched";
	const char *const *v =
	    (const char *const *)(n == 0 ? a->selectors : a->globs);
	size_t nv = n == 0 ? a->nselectors : a->nglobs;
	fprintf(stderr, "scales-top: %s%s", what, nv ? ":" : "");
	for (size_t i = 0; i < nv; i++)
		fprintf(stderr, " %s%s", n == 0 ? "" : "-f ", top_esc(v[i]));
	fputc('\n', stderr);
	return 1;
}

static int flush_stdout(void)
{
	if (fflush(stdout)) {
		fprintf(stderr, "scales-top: write error: %s\n",
		        strerror(errno));
		return 2;
	}
	return 0;
}

/* -j without -i: each process (or merged app) is taken, written out and
 * freed in turn, so the memory does not grow with the number of
 * processes (issue 17.2); the bytes are those of scales_json_write(). */
struct json_pass {
	scales_json_stream *js;
	size_t n, metrics;
};

static int json_one(void *arg, const struct scales_group *g)
{
	struct json_pass *jp = arg;
	jp->n++;
	jp->metrics += g->cur->n;
	return scales_json_stream_add(jp->js, g->cur, NULL);
}

static int run_json_stream(const struct top_args *a, struct top_procs *p)
{
	scales_collector_set_flags(p->col, a->merge ? SCALES_COLLECT_MERGE : 0);
	struct json_pass jp = { 0 };
	int rc = scales_json_stream_open(stdout, SCALES_JSON_PRETTY, &jp.js);
	if (!rc)
		rc = scales_collector_each(p->col, json_one, &jp);
	int crc = scales_json_stream_close(&jp.js);
	rc = rc ? rc : crc;
	if (rc == -ENOMEM) {
		fprintf(stderr, "scales-top: out of memory\n");
		return 2;
	}
	if (rc) {
		fprintf(stderr, "scales-top: cannot write the JSON\n");
		return 2;
	}
	int out = say_nothing(a, jp.n, jp.metrics);
	return out ? out : flush_stdout();
}

static int run_snapshot(const struct top_args *a, struct top_procs *p)
{
	if (a->mode == TOP_MODE_JSON && !a->interval_set)
		return run_json_stream(a, p);
	struct top_sampler s = { 0 };
	s.merge = a->merge;
	int rc = top_sampler_refresh(&s, p, false);
	if (!rc && a->interval_set) {
		sleep_seconds(a->interval);
		rc = top_sampler_refresh(&s, p, false);
	}
	if (rc) {
		fprintf(stderr, "scales-top: %s\n", strerror(-rc));
		top_sampler_free(&s);
		return 2;
	}
	const struct scales_snapshot **snaps =
	    calloc(s.n ? s.n : 1, sizeof(*snaps));
	const struct scales_rate **rates =
	    calloc(s.n ? s.n : 1, sizeof(*rates));
	if (!snaps || !rates) {
		free(snaps);
		free(rates);
		top_sampler_free(&s);
		fprintf(stderr, "scales-top: out of memory\n");
		return 2;
	}
	size_t n = 0, metrics = 0;
	for (size_t i = 0; i < s.n; i++) {
		rates[n] = a->interval_set ? s.v[i].rate : NULL;
		snaps[n++] = s.v[i].cur;
		metrics += s.v[i].cur->n;
	}
	int out = 0;
	if (a->mode == TOP_MODE_JSON) {
		if (scales_json_write(stdout, snaps, rates, n,
		                      SCALES_JSON_PRETTY)) {
			fprintf(stderr, "scales-top: cannot write the JSON\n");
			out = 2;
		}
	} else {
		for (size_t i = 0; i < s.n; i++)
			print_text(&s.v[i], rates[i], a->verbose);
	}
	if (!out)
		out = say_nothing(a, n, metrics);
	if (!out)
		out = flush_stdout();
	free(snaps);
	free(rates);
	top_sampler_free(&s);
	return out;
}

int top_run_oneshot(const struct top_args *a)
{
	struct top_procs p;
	char err[512];
	if (top_procs_init(&p, a, warn_stderr, NULL, err, sizeof(err))) {
		fprintf(stderr, "scales-top: %s\n", top_esc(err));
		top_procs_free(&p);
		return 2;
	}
	if (top_procs_refresh(&p, err, sizeof(err))) {
		fprintf(stderr, "scales-top: %s\n", top_esc(err));
		top_procs_free(&p);
		return 2;
	}
	int rc;
	switch (a->mode) {
	case TOP_MODE_LIST:
		rc = run_list(&p);
		break;
	case TOP_MODE_GC:
		rc = run_gc(&p);
		break;
	default:
		rc = run_snapshot(a, &p);
		break;
	}
	top_procs_free(&p);
	return rc;
}
