/* SPDX-License-Identifier: MIT */
/*
 * fuzz_segment.c: the libFuzzer target. The input bytes are a segment image:
 * they are written to a file in a private temporary directory and read the
 * way the tools read segments: discovery, open and validation, info,
 * snapshots (with and without aggregates), histogram statistics, rates and
 * meters, merge, filter, JSON rendering, and (with FUZZ_EXPORT, the
 * scales_export_core library) Graphite rendering, stateless and stateful.
 *
 * Besides "no crash, no leak, no undefined behaviour" (the sanitizers), it
 * checks what the reader promises on any input: a failed open gives a one-
 * line message and no object; a snapshot's metrics are sorted, unique and
 * findable, with known kinds and valid paths; JSON output is valid JSON;
 * Graphite lines are "name value timestamp" with nothing a carbon parser
 * could split or act on. A broken promise aborts (a crash for libFuzzer).
 *
 * Built two ways: by fuzz/run-fuzz.sh with clang -fsanitize=fuzzer,...
 * (the fuzzer), and by meson with gcc plus fuzz/replay.c (a main() that
 * replays test/data/corpus/ on every test run).
 */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <scales/reader.h>

#include "json_check.h"

#ifdef FUZZ_EXPORT
#include "export.h"
#endif

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(c)                                                               \
	do {                                                                   \
		if (!(c)) {                                                    \
			fprintf(stderr,                                        \
			        "fuzz_segment: check failed: %s (%s:%d)\n",    \
			        #c, __FILE__, __LINE__);                       \
			abort();                                               \
		}                                                              \
	} while (0)

static char dir[256], path[300];

static void cleanup(void)
{
	if (path[0])
		unlink(path);
	if (dir[0])
		rmdir(dir);
}

/* A private directory on tmpfs when there is one (fast), else $TMPDIR. */
static void setup_once(void)
{
	if (dir[0])
		return;
	const char *bases[] = { "/dev/shm", getenv("TMPDIR"), "/tmp" };
	for (size_t i = 0; i < sizeof bases / sizeof bases[0]; i++) {
		if (!bases[i] || !*bases[i])
			continue;
		snprintf(dir, sizeof dir, "%s/scales-fuzz-XXXXXX", bases[i]);
		if (mkdtemp(dir))
			break;
		dir[0] = '\0';
	}
	CHECK(dir[0]);
	snprintf(path, sizeof path, "%s/fuzz.1.1.seg", dir);
	atexit(cleanup);
}

static void write_input(const uint8_t *data, size_t size)
{
	int fd =
	    open(path, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC,
	         0600);
	CHECK(fd >= 0);
	size_t off = 0;
	while (off < size) {
		ssize_t w = write(fd, data + off, size - off);
		CHECK(w > 0);
		off += (size_t)w;
	}
	close(fd);
}

static void check_message(const char *err)
{
	CHECK(err[0] != '\0');
	for (const char *p = err; *p; p++)
		CHECK((unsigned char)*p >= 0x20 && *p != 0x7f);
}

/* The path rules of <scales/scales.h>. */
static int path_ok(const char *p)
{
	size_t n = strlen(p);
	if (n < 2 || n > 255 || p[0] != '/' || p[n - 1] == '/')
		return 0;
	return strstr(p, "//") == NULL;
}

static void check_histo(const struct scales_histo *h)
{
	uint64_t n = 0;
	for (uint32_t b = 0; b < h->nbuckets; b++)
		n += h->buckets[b];
	CHECK(n == h->count);
	struct scales_hstats st;
	scales_histo_stats(h, &st);
	CHECK(st.count == h->count);
	if (h->count == 0)
		CHECK(isnan(st.p50));
	(void)scales_histo_quantile(h, 0.5);
	(void)scales_histo_quantile(h, 1.0);
	(void)scales_histo_quantile(h, 1e-9);
	uint64_t lo, width;
	scales_histo_bucket_range(h, 0, &lo, &width);
	if (h->nbuckets)
		scales_histo_bucket_range(h, h->nbuckets - 1, &lo, &width);
	/* the delta of a histogram and itself is empty */
	uint64_t *buf = calloc(h->nbuckets ? h->nbuckets : 1, 8);
	CHECK(buf);
	struct scales_histo d;
	if (scales_histo_delta(h, h, buf, &d) == 0) {
		CHECK(d.count == 0);
		for (uint32_t b = 0; b < d.nbuckets; b++)
			CHECK(d.buckets[b] == 0);
		struct scales_hstats st2;
		scales_histo_stats(&d, &st2);
	}
	free(buf);
}

static void check_snapshot(const struct scales_snapshot *s)
{
	CHECK(s->n == 0 || s->metrics);
	for (size_t i = 0; i < s->n; i++) {
		const struct scales_metric *m = &s->metrics[i];
		CHECK(m->path);
		CHECK(path_ok(m->path) || (m->flags & SCALES_MF_DERIVED));
		if (i)
			CHECK(strcmp(s->metrics[i - 1].path, m->path) < 0);
		CHECK(scales_snapshot_find(s, m->path) == m);
		CHECK(*scales_kind_name(m->kind));
		/* a unit from a newer minor version is kept, with a name
		 * (docs/format.md, section 13) */
		CHECK(m->unit == SCALES_UNIT_NONE ||
		      *scales_unit_name(m->unit));
		uint64_t v;
		(void)scales_metric_counter(m, &v);
		if (m->kind == SCALES_KIND_HISTOGRAM)
			check_histo(&m->side->hist);
		if (m->kind == SCALES_KIND_STATE && m->v.state)
			(void)strlen(m->v.state);
		if (m->help)
			(void)strlen(m->help);
		for (uint32_t k = 0; k < m->side->nstates; k++)
			CHECK(m->side->states[k].value);
	}
}

static void check_json(const struct scales_snapshot *const *snaps, size_t n,
                       const struct scales_rate *const *rates)
{
	for (unsigned flags = 0; flags <= SCALES_JSON_PRETTY;
	     flags += SCALES_JSON_PRETTY) {
		struct scales_buf b = { 0 };
		CHECK(scales_json_render(&b, snaps, rates, n, flags) == 0);
		CHECK(json_valid(b.data, b.len));
		scales_buf_free(&b);
	}
}

#ifdef FUZZ_EXPORT
/* Graphite plaintext: "name value timestamp\n", the name made of
 * components that carbon cannot split. */
static void check_graphite(const struct scales_buf *b, int64_t ts)
{
	if (b->len == 0)
		return;
	const char *p = b->data, *end = b->data + b->len;
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		CHECK(nl);
		const char *sp1 = memchr(p, ' ', (size_t)(nl - p));
		CHECK(sp1 && sp1 > p);
		for (const char *q = p; q < sp1; q++) {
			unsigned char ch = (unsigned char)*q;
			CHECK(ch > 0x20 && ch != 0x7f && ch != ';' &&
			      ch != '=' && ch != '/');
		}
		const char *sp2 = memchr(sp1 + 1, ' ', (size_t)(nl - sp1 - 1));
		CHECK(sp2 && sp2 > sp1 + 1);
		char num[64];
		size_t nl2 = (size_t)(sp2 - sp1 - 1);
		CHECK(nl2 < sizeof num);
		memcpy(num, sp1 + 1, nl2);
		num[nl2] = '\0';
		char *e;
		double v = strtod(num, &e);
		CHECK(*e == '\0' && isfinite(v));
		CHECK(strtoll(sp2 + 1, &e, 10) == ts && e == nl);
		p = nl + 1;
	}
}

static void fuzz_export(scales_segment *seg, const struct scales_snapshot *s)
{
	char prefix[64];
	CHECK(gname_prefix(prefix, sizeof prefix, "fuzz") > 0);
	struct export_rules rules = { 0 };
	CHECK(export_rules_add(&rules, false, "/*/x*") == 0);
	CHECK(export_rules_add(&rules, true, "*") == 0);
	struct export_config cfg = { prefix, false, true, true,
		                     &rules, false, false };
	const int64_t ts = 1700000000;
	char err[512];
	for (int per = 0; per < 2; per++) {
		cfg.per_process = per;
		cfg.seed_names = !per; /* both namings: one app, merged */
		struct scales_collector_options o = {
			.flags = export_collect_flags(&cfg),
			.tick_ns = SCALES_METER_EVERY_MARK,
		};
		scales_collector *col = NULL;
		CHECK(scales_collector_new(&o, &col) == 0);
		/* one collection rendered (--once), then a baseline and an
		 * interval */
		for (int k = 0; k < 3; k++) {
			struct scales_snapshot *a = NULL;
			if (scales_snapshot_take(seg, 0, &a, err, sizeof err))
				continue;
			CHECK(scales_collector_sample_snapshots(col, &a, 1) ==
			      0);
			CHECK(a == NULL);
			if (k == 1)
				continue;
			struct scales_buf b = { 0 };
			struct export_render_stats st = { 0 };
			CHECK(graphite_render(&b, col, &cfg, ts + k, &st) == 0);
			check_graphite(&b, ts + k);
			scales_buf_free(&b);
		}
		scales_collector_free(&col);
	}
	export_rules_free(&rules);
}

static void fuzz_names(const uint8_t *data, size_t size)
{
	size_t n = size < 300 ? size : 300;
	char out[3 * 300 + 4];
	size_t w = gname_component(out, (const char *)data, n);
	CHECK(w == strlen(out) && w > 0);
	for (size_t i = 0; i < w; i++) {
		unsigned char ch = (unsigned char)out[i];
		CHECK(ch > 0x20 && ch != 0x7f && ch != '.' && ch != ';' &&
		      ch != '=' && ch != '/');
	}
}
#endif

static void warn_cb(void *arg, const char *p, const char *msg)
{
	(void)arg;
	CHECK(p && msg && *msg);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	setup_once();

	/* the input as a file name, and as a string to escape */
	char name[256];
	size_t nn = size < sizeof name - 1 ? size : sizeof name - 1;
	memcpy(name, data, nn);
	name[nn] = '\0';
	char app[64];
	int32_t pid;
	uint64_t start;
	if (scales_parse_seg_name(name, app, sizeof app, &pid, &start))
		CHECK(pid > 0 && strlen(app) > 0);
	struct scales_buf jb = { 0 };
	scales_json_string(&jb, (const char *)data, size < 4096 ? size : 4096);
	CHECK(json_valid(jb.data, jb.len));
	scales_buf_free(&jb);
#ifdef FUZZ_EXPORT
	fuzz_names(data, size);
#endif

	write_input(data, size);
	struct scales_seg_list l;
	char err[512] = "";
	CHECK(scales_discover(dir, warn_cb, NULL, &l, err, sizeof err) == 0);
	CHECK(l.n == 1);
	scales_seg_list_free(&l);

	scales_segment *seg = (scales_segment *)&l; /* must become NULL */
	int rc = scales_segment_open(path, 0, &seg, err, sizeof err);
	if (rc) {
		CHECK(rc < 0 && seg == NULL);
		check_message(err);
		CHECK(*scales_reader_strerror(rc));
		return 0;
	}
	CHECK(seg);
	struct scales_process_info info;
	err[0] = '\0';
	rc = scales_segment_info(seg, &info, err, sizeof err);
	if (rc)
		check_message(err);
	else
		CHECK(memchr(info.app, '\0', sizeof info.app));

	struct scales_snapshot *s1 = NULL, *s2 = NULL;
	rc = scales_snapshot_take(seg, 0, &s1, err, sizeof err);
	if (rc) {
		CHECK(s1 == NULL);
		check_message(err);
	}
	rc = scales_snapshot_take(seg, SCALES_SNAP_NO_AGGREGATES, &s2, err,
	                          sizeof err);
	if (rc) {
		CHECK(s2 == NULL);
		check_message(err);
	}
	if (s1 && s2) {
		check_snapshot(s1);
		check_snapshot(s2);
		/* aggregating the second one by hand gives the same paths */
		CHECK(scales_snapshot_aggregate(s2) == 0);
		CHECK(s2->n == s1->n);
		for (size_t i = 0; i < s1->n; i++)
			CHECK(
			    !strcmp(s1->metrics[i].path, s2->metrics[i].path));

		const struct scales_snapshot *both[2] = { s1, s2 };
		check_json(both, 2, NULL);

		double *r = calloc(s1->n + 1, sizeof *r);
		CHECK(r);
		scales_snapshot_rates(s1, s2, r);
		free(r);
		scales_rates *rt = scales_rates_new(0);
		CHECK(rt);
		struct scales_rate *out1 = calloc(s1->n + 1, sizeof *out1);
		struct scales_rate *out2 = calloc(s2->n + 1, sizeof *out2);
		CHECK(out1 && out2);
		CHECK(scales_rates_update(rt, s1, out1) == 0);
		CHECK(scales_rates_update(rt, s2, out2) == 0);
		const struct scales_rate *rates[2] = { out1, out2 };
		check_json(both, 2, rates);
		free(out1);
		free(out2);
		scales_rates_free(&rt);

		struct scales_snapshot *m = NULL;
		CHECK(scales_snapshot_merge(both, 2, &m) == 0);
		check_snapshot(m);
		const struct scales_snapshot *ms[1] = { m };
		check_json(ms, 1, NULL);
		scales_snapshot_free(&m);

#ifdef FUZZ_EXPORT
		fuzz_export(seg, s1);
#endif
		const char *globs[2] = { "/a*", "*b" };
		scales_snapshot_filter(s2, globs, 2);
		check_snapshot(s2);
	}
	scales_snapshot_free(&s1);
	scales_snapshot_free(&s2);
	scales_segment_close(&seg);
	CHECK(seg == NULL);
	return 0;
}
