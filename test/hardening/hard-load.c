/* SPDX-License-Identifier: MIT */
/*
 * hard-load: LOAD_THREADS writer threads (hard-writer load: increments,
 * histogram records, gauges, states, registrations and retirements) while
 * readers read every 100 ms: scales-top -j and scales-export --stdout -1
 * (one process each per tick, when built) and the reader library
 * (hard-reader on the directory, discovering anew each time). At the end:
 * exact totals, and no reader error: every tool run exits 0 with valid
 * output, no counter ever goes down between two reads.
 *
 * Usage: hard-load HARD-WRITER HARD-READER [SCALES-TOP [SCALES-EXPORT]]
 * ("" for a tool that is not built). Duration: $SCALES_LOAD_SECONDS, else
 * 60 s when $CI is "true", else 10 s. Prints TAP.
 */
#include <scales/reader.h>

#include "json_check.h"
#include "proc.h"
#include "workload.h"

static struct fails f_totals, f_lib, f_top, f_exp;
static long top_runs, exp_runs;

/* The value of "/w/total" in scales-top's JSON (0 if absent). */
static uint64_t json_total(const char *js)
{
	const char *p = strstr(js, "\"/w/total\"");
	if (!p || !(p = strstr(p, "\"value\"")))
		return 0;
	p += 7;
	while (*p == ' ' || *p == ':')
		p++;
	return strtoull(p, NULL, 10);
}

/* Checks Graphite plaintext: "name value timestamp" lines. Returns the
 * value of load.hardload.w.total (0 if absent) or UINT64_MAX if a line is
 * malformed (*bad gets it). */
static uint64_t graphite_total(const char *out, char *bad, size_t badlen)
{
	uint64_t total = 0;
	const char *line = out;
	while (*line) {
		const char *nl = strchr(line, '\n');
		if (!nl) {
			snprintf(bad, badlen, "unterminated line [%.80s]",
			         line);
			return UINT64_MAX;
		}
		char name[512], value[64];
		long long ts;
		char extra;
		char buf[1024];
		size_t len = (size_t)(nl - line);
		if (len >= sizeof buf) {
			snprintf(bad, badlen, "line too long");
			return UINT64_MAX;
		}
		memcpy(buf, line, len);
		buf[len] = '\0';
		if (sscanf(buf, "%511s %63s %lld %c", name, value, &ts,
		           &extra) != 3 ||
		    ts <= 0) {
			snprintf(bad, badlen, "malformed [%.200s]", buf);
			return UINT64_MAX;
		}
		char *end;
		strtod(value, &end);
		if (*end) {
			snprintf(bad, badlen, "bad value [%.200s]", buf);
			return UINT64_MAX;
		}
		if (!strcmp(name, "load.hardload.w.total"))
			total = strtoull(value, NULL, 10);
		line = nl + 1;
	}
	return total;
}

static void final_check(const char *path, uint64_t total, const uint64_t *count,
                        int nthreads)
{
	char err[512];
	scales_segment *seg;
	if (scales_segment_open(path, 0, &seg, err, sizeof err)) {
		fail_add(&f_totals, "%s", err);
		return;
	}
	struct scales_snapshot *s;
	int rc = scales_snapshot_take(seg, 0, &s, err, sizeof err);
	scales_segment_close(&seg);
	if (rc) {
		fail_add(&f_totals, "%s", err);
		return;
	}
	const struct scales_metric *m = scales_snapshot_find(s, "/w/total");
	if (!m || m->v.u64 != total)
		fail_add(&f_totals, "/w/total = %llu, the threads made %llu",
		         m ? (unsigned long long)m->v.u64 : 0ull,
		         (unsigned long long)total);
	m = scales_snapshot_find(s, "/w/lat");
	if (!m || m->side->hist.count != total)
		fail_add(&f_totals, "/w/lat count = %llu, want %llu",
		         m ? (unsigned long long)m->side->hist.count : 0ull,
		         (unsigned long long)total);
	uint64_t sum = 0;
	for (int k = 0; k < nthreads; k++) {
		char p[64];
		snprintf(p, sizeof p, "/w/t%d", k);
		m = scales_snapshot_find(s, p);
		if (!m || m->v.u64 != count[k])
			fail_add(&f_totals, "%s = %llu, thread made %llu", p,
			         m ? (unsigned long long)m->v.u64 : 0ull,
			         (unsigned long long)count[k]);
		sum += count[k];
		/* the last DYN_KEEP dynamic stats of each thread are live */
		uint64_t nj = (count[k] + DYN_EVERY - 1) / DYN_EVERY;
		for (uint64_t j = nj > DYN_KEEP ? nj - DYN_KEEP : 0; j < nj;
		     j++) {
			snprintf(p, sizeof p, "/w/dyn/%d/%llu", k,
			         (unsigned long long)j);
			m = scales_snapshot_find(s, p);
			if (!m || m->v.u64 != j + 1)
				fail_add(&f_totals, "%s missing or wrong", p);
		}
	}
	if (sum != total)
		fail_add(&f_totals, "thread counts add up to %llu, not %llu",
		         (unsigned long long)sum, (unsigned long long)total);
	if (s->invalid || s->skipped)
		fail_add(&f_totals, "%u invalid, %u skipped entries",
		         s->invalid, s->skipped);
	scales_snapshot_free(&s);
}

int main(int argc, char **argv)
{
	if (argc < 3) {
		fprintf(stderr, "usage: hard-load HARD-WRITER HARD-READER "
		                "[SCALES-TOP [SCALES-EXPORT]]\n");
		return 2;
	}
	const char *top = argc > 3 ? argv[3] : "";
	const char *exp = argc > 4 ? argv[4] : "";
	const char *e = getenv("SCALES_LOAD_SECONDS");
	const char *ci = getenv("CI");
	int seconds = e && *e ? atoi(e) : (ci && !strcmp(ci, "true")) ? 60 : 10;
	signal(SIGPIPE, SIG_IGN);
	tap_plan(6);
	char *dir = fresh_dir("load");
	setenv("SCALES_DIR", dir, 1);

	char *wargv[] = { argv[1], "load", NULL };
	struct child w = spawn(wargv, true, true, false);
	char line[4096];
	if (!child_line(&w, line, sizeof line, 60000) ||
	    strncmp(line, "ready ", 6))
		tap_bail("writer not ready: [%s]", line);
	char path[4096];
	snprintf(path, sizeof path, "%s", line + 6);

	char *rargv[] = { argv[2], dir, "100", NULL };
	struct child r = spawn(rargv, true, true, false);
	if (!child_line(&r, line, sizeof line, 60000) ||
	    strcmp(line, "started"))
		fail_add(&f_lib, "hard-reader did not start: [%s]", line);

	uint64_t end = mono_ms() + (uint64_t)seconds * 1000;
	uint64_t top_last = 0, exp_last = 0;
	while (mono_ms() < end) {
		uint64_t tick = mono_ms();
		char *out, *errs, b[64];
		bool hung;
		int st;
		if (*top) {
			char *a[] = { (char *)top, "-j", "-d", dir, NULL };
			st = run_capture(a, &out, &errs, &hung, 60000);
			top_runs++;
			uint64_t t = json_total(out);
			if (hung || !WIFEXITED(st) || WEXITSTATUS(st) != 0)
				fail_add(&f_top, "scales-top -j: %s: %.200s",
				         hung ? "hung" :
				                status_str(st, b, sizeof b),
				         errs);
			else if (!json_valid(out, strlen(out)))
				fail_add(&f_top, "invalid JSON: %.200s", out);
			else if (t < top_last)
				fail_add(&f_top,
				         "/w/total went down: %llu < "
				         "%llu",
				         (unsigned long long)t,
				         (unsigned long long)top_last);
			else if (*errs)
				fail_add(&f_top, "stderr: %.200s", errs);
			top_last = t > top_last ? t : top_last;
			free(out);
			free(errs);
		}
		if (*exp) {
			char *a[] = { (char *)exp, "--stdout", "-1", "-p",
				      "load",      "-d",       dir,  NULL };
			st = run_capture(a, &out, &errs, &hung, 60000);
			exp_runs++;
			char bad[256] = "";
			uint64_t t = graphite_total(out, bad, sizeof bad);
			if (hung || !WIFEXITED(st) || WEXITSTATUS(st) != 0)
				fail_add(&f_exp, "scales-export: %s: %.200s",
				         hung ? "hung" :
				                status_str(st, b, sizeof b),
				         errs);
			else if (t == UINT64_MAX)
				fail_add(&f_exp, "%s", bad);
			else if (t < exp_last)
				fail_add(&f_exp, "total went down: %llu < %llu",
				         (unsigned long long)t,
				         (unsigned long long)exp_last);
			else if (*errs)
				fail_add(&f_exp, "stderr: %.200s", errs);
			if (t != UINT64_MAX && t > exp_last)
				exp_last = t;
			free(out);
			free(errs);
		}
		uint64_t spent = mono_ms() - tick;
		if (spent < 100)
			sleep_us((long)(100 - spent) * 1000);
	}

	child_say(&w, "stop\n");
	uint64_t total = 0, count[LOAD_THREADS] = { 0 };
	int errors = -1;
	bool done = false;
	while (!done && child_line(&w, line, sizeof line, 120000)) {
		unsigned long long v;
		int k;
		if (sscanf(line, "count %d %llu", &k, &v) == 2 && k >= 0 &&
		    k < LOAD_THREADS)
			count[k] = v;
		else if (sscanf(line, "total %llu", &v) == 1)
			total = v;
		else if (sscanf(line, "errors %d", &k) == 1)
			errors = k;
		else if (!strcmp(line, "done"))
			done = true;
	}
	tap_ok(done && errors == 0 && total > 0,
	       "%d writer threads ran %d s: %llu updates, registrations and "
	       "retirements, %d errors",
	       LOAD_THREADS, seconds, (unsigned long long)total, errors);
	if (done)
		final_check(path, total, count, LOAD_THREADS);
	else
		fail_add(&f_totals, "the writer did not report");
	tap_fails(&f_totals, "exact totals at the end");

	close(r.in);
	r.in = -1;
	char summary[256] = "";
	while (child_line(&r, line, sizeof line, 120000)) {
		if (!strncmp(line, "snapshots ", 10))
			snprintf(summary, sizeof summary, "%.200s", line);
		else if (strncmp(line, "inside ", 7))
			fail_add(&f_lib, "%s", line);
	}
	bool hung;
	char b[64];
	int st = child_wait_timeout(&r, 60000, &hung);
	if (hung || !WIFEXITED(st) || WEXITSTATUS(st) != 0)
		fail_add(&f_lib, "hard-reader %s (%s)",
		         hung ? "hung" : status_str(st, b, sizeof b), summary);
	tap_fails(&f_lib,
	          "reader library every 100 ms: no error, valid JSON, no "
	          "counter goes down (%s)",
	          summary);
	if (*top)
		tap_fails(&f_top,
		          "scales-top -j every 100 ms: %ld runs, no error, "
		          "/w/total never goes down",
		          top_runs);
	else
		tap_ok(true, "# SKIP scales-top is not built");
	if (*exp)
		tap_fails(
		    &f_exp,
		    "scales-export --stdout -1 every 100 ms: %ld runs, no "
		    "error, well-formed lines",
		    exp_runs);
	else
		tap_ok(true, "# SKIP scales-export is not built");

	st = child_wait_timeout(&w, 60000, &hung);
	tap_ok(!hung && WIFEXITED(st) && WEXITSTATUS(st) == 0,
	       "the writer exits cleanly (%s)",
	       hung ? "hung" : status_str(st, b, sizeof b));
	rm_rf(dir);
	free(dir);
	return tap_failed ? 1 : 0;
}
