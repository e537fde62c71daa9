/* SPDX-License-Identifier: MIT */
/*
 * readers.c: snapshots of 1,000, 100,000 and 1,000,000 counters, the
 * memcpy floor of the 100,000 one, rendering 100,000 metrics as JSON
 * and as Graphite plaintext, and 1,000,000 as Graphite and as /metrics.
 */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <scales/reader.h>
#include <scales_shm.h>

#include "bench.h"

#include "export.h"
#ifdef BENCH_PROM
#include "http.h"
#endif

/* ------------------------------------------------------- the registries */

size_t bench_counter_path(char *buf, size_t len, uint32_t i)
{
	/* 30 bytes, and registration order is path order */
	int n = snprintf(buf, len, "/svc/handler-%04u/requests-%03u", i / 1000,
	                 i % 1000);
	return n > 0 ? (size_t)n : 0;
}

scales_registry *bench_counters_registry(const char *dir, const char *app,
                                         uint32_t n)
{
	struct scales_options o;
	scales_options_init(&o);
	o.dir = dir;
	o.app = app;
	o.max_entries = n + 64;
	o.stripe_bytes = 8ull * n + 65536;
	scales_registry *r;
	int rc = scales_open(&o, &r);
	if (rc)
		bench_die("scales_open %s (%u counters): %s", app, n,
		          scales_strerror(rc));
	for (uint32_t i = 0; i < n; i++) {
		char p[64];
		bench_counter_path(p, sizeof p, i);
		scales_counter c;
		rc = scales_counter_get(r, p, NULL, &c);
		if (rc)
			bench_die("register %s: %s", p, scales_strerror(rc));
		scales_counter_add(&c, 7ull * i + 1);
	}
	return r;
}

static scales_segment *open_seg(scales_registry *r)
{
	char err[512];
	scales_segment *seg;
	int rc = scales_segment_open(scales_registry_path(r), 0, &seg, err,
	                             sizeof err);
	if (rc)
		bench_die("%s", err);
	return seg;
}

static struct scales_snapshot *take(scales_segment *seg, size_t expect)
{
	char err[512];
	struct scales_snapshot *s;
	int rc = scales_snapshot_take(seg, 0, &s, err, sizeof err);
	if (rc)
		bench_die("snapshot: %s", err);
	if (s->n != expect)
		bench_die("snapshot: %zu metrics, expected %zu", s->n, expect);
	return s;
}

/* ---------------------------------------------------------- measuring */

/* A reader benchmark: reps operations per trial, ns per operation. */
struct rcase {
	const char *name;
	void (*op)(void *arg);
	void *arg;
	uint64_t reps;
	double v[BENCH_MAX_ROUNDS];
	int retried;
};

static double run_reps_once(struct rcase *c, bool *disturbed)
{
	uint64_t c0 = bench_thread_cpu_ns();
	uint64_t t0 = bench_now_ns();
	for (uint64_t i = 0; i < c->reps; i++)
		c->op(c->arg);
	uint64_t wall = bench_now_ns() - t0;
	*disturbed = bench_disturbed(bench_thread_cpu_ns() - c0, wall);
	return (double)wall / (double)c->reps;
}

/* A trial, run again if another process took the CPU meanwhile. */
static double run_reps(struct rcase *c)
{
	for (int attempt = 0;; attempt++) {
		bool disturbed;
		double ns = run_reps_once(c, &disturbed);
		if (!disturbed || attempt == BENCH_RETRIES)
			return ns;
		c->retried++;
	}
}

/* Picks reps for trials of about ms (at least one operation). */
static void rcalibrate(struct rcase *c, double ms)
{
	bool d;
	c->reps = 1;
	double ns = run_reps_once(c, &d); /* also the warm-up */
	ns = run_reps_once(c, &d);
	double want = ms * 1e6 / ns;
	c->reps = want < 1 ? 1 : (uint64_t)want;
}

/* Interleaved rounds over cases[0..n-1], then their results. */
static void rrun(struct rcase *cases, int n, int rounds, double ms)
{
	for (int i = 0; i < n; i++)
		rcalibrate(&cases[i], ms);
	for (int r = 0; r < rounds; r++)
		for (int i = 0; i < n; i++)
			cases[i].v[r] = run_reps(&cases[i]);
	for (int i = 0; i < n; i++)
		result_add(cases[i].name, 1, bench_median(cases[i].v, rounds),
		           bench_min(cases[i].v, rounds),
		           bench_max(cases[i].v, rounds), rounds);
	for (int i = 0; i < n; i++)
		result_set_retried(cases[i].name, 1, cases[i].retried);
}

/* ------------------------------------------------------------ snapshot */

struct snap_arg {
	scales_segment *seg;
	size_t expect;
};

static void op_snapshot(void *arg)
{
	struct snap_arg *a = arg;
	struct scales_snapshot *s = take(a->seg, a->expect);
	scales_snapshot_free(&s);
}

/*
 * memcpy_100k: one memcpy of as many bytes as snapshot_100k reads from the
 * segment: per live counter entry, its fixed fields (the bytes before the
 * path) and the path's 8-byte words up to its NUL; its 8-byte word in
 * every stripe; plus the used string area and the header. Copied from the
 * segment's own read-only mapping (the directory region, which is larger)
 * into a private, pre-faulted buffer.
 */
struct copy_arg {
	const unsigned char *src;
	unsigned char *dst;
	size_t bytes;
};

static void op_memcpy(void *arg)
{
	struct copy_arg *a = arg;
	memcpy(a->dst, a->src, a->bytes);
	BENCH_BARRIER();
}

static size_t snapshot_bytes(uint32_t n, uint32_t nstripes,
                             uint64_t strings_used)
{
	size_t b = sizeof(struct scales_shm_header) + strings_used;
	for (uint32_t i = 0; i < n; i++) {
		char p[64];
		size_t len = bench_counter_path(p, sizeof p, i);
		b += offsetof(struct scales_shm_entry, path) +
		     (len + 1 + 7) / 8 * 8 + 8ull * nstripes;
	}
	return b;
}

/* ------------------------------------------------------------ rendering */

struct render_arg {
	const struct scales_snapshot *snap;
	struct scales_buf buf;
	size_t min_len;
	struct export_config cfg;
	scales_collector *col; /* Graphite: fed one snapshot of snap's */
};

static void op_json(void *arg)
{
	struct render_arg *a = arg;
	const struct scales_snapshot *snaps[1] = { a->snap };
	const struct scales_rate *rates[1] = { NULL };
	a->buf.len = 0;
	if (scales_json_render(&a->buf, snaps, rates, 1, 0) != 0 ||
	    a->buf.len < a->min_len)
		bench_die("scales_json_render failed (%zu bytes)", a->buf.len);
}

static void op_graphite(void *arg)
{
	struct render_arg *a = arg;
	a->buf.len = 0;
	struct export_render_stats st;
	memset(&st, 0, sizeof st);
	if (graphite_render(&a->buf, a->col, &a->cfg, 1700000000, &st) != 0 ||
	    a->buf.len < a->min_len || st.points < a->snap->n)
		bench_die("graphite_render failed (%zu bytes, %zu points)",
		          a->buf.len, st.points);
}

#ifdef BENCH_PROM
/* The /metrics text of the collector's groups, as --textfile and --http
 * write it. */
static void op_prom(void *arg)
{
	struct render_arg *a = arg;
	a->buf.len = 0;
	size_t n;
	const struct scales_group *g = scales_collector_groups(a->col, &n);
	if (export_prom_render(&a->buf, g, n, false, true) != 0 || a->buf.oom ||
	    a->buf.len < a->min_len)
		bench_die("export_prom_render failed (%zu bytes)", a->buf.len);
}
#endif

/* ---------------------------------------------------------------- entry */

int bench_readers(const struct reader_config *cfg)
{
	uint64_t t0 = bench_now_ns();
	bench_log("readers: registering 1,000 and 100,000 counters\n");
	scales_registry *r1k =
	    bench_counters_registry(cfg->dir, "bench-1k", 1000);
	scales_registry *r100k =
	    bench_counters_registry(cfg->dir, "bench-100k", 100000);
	bench_log("readers: registered in %.1f s\n",
	          (double)(bench_now_ns() - t0) / 1e9);
	bench_pin_self(bench_cpu(0));

	struct snap_arg a1k = { open_seg(r1k), 1000 };
	struct snap_arg a100k = { open_seg(r100k), 100000 };

	/* the bytes snapshot_100k reads, from the segment's layout */
	struct scales_process_info info;
	char err[512];
	if (scales_segment_info(a100k.seg, &info, err, sizeof err))
		bench_die("%s", err);
	size_t bytes = snapshot_bytes(100000, info.nstripes, info.strings_used);
	int fd = open(scales_registry_path(r100k), O_RDONLY | O_CLOEXEC);
	struct stat st;
	if (fd < 0 || fstat(fd, &st) != 0)
		bench_die("open segment: %s", strerror(errno));
	unsigned char *map =
	    mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_SHARED, fd, 0);
	if (map == MAP_FAILED)
		bench_die("mmap: %s", strerror(errno));
	const struct scales_shm_header *h = (const void *)map;
	if (h->dir_offset + bytes > (uint64_t)st.st_size)
		bench_die("memcpy_100k: segment too small");
	struct copy_arg ca = { map + h->dir_offset, malloc(bytes), bytes };
	if (!ca.dst)
		bench_die("out of memory");
	memset(ca.dst, 1, bytes);
	bench_log("readers: snapshot_100k reads %zu bytes (%.1f per metric, "
	          "%u stripes)\n",
	          bytes, (double)bytes / 100000, info.nstripes);

	struct rcase snaps[] = {
		{ "snapshot_1k", op_snapshot, &a1k, 0, { 0 }, 0 },
		{ "snapshot_100k", op_snapshot, &a100k, 0, { 0 }, 0 },
		{ "memcpy_100k", op_memcpy, &ca, 0, { 0 }, 0 },
	};
	bench_log("readers: snapshots, %d rounds\n", cfg->rounds);
	rrun(snaps, 3, cfg->rounds, 20);
	if (cfg->snapshots_only) {
		munmap(map, (size_t)st.st_size);
		close(fd);
		free(ca.dst);
		scales_segment_close(&a1k.seg);
		scales_segment_close(&a100k.seg);
		scales_close(&r1k);
		scales_close(&r100k);
		bench_unpin_self();
		return 0;
	}

	/* rendering 100,000 metrics */
	struct scales_snapshot *s100k = take(a100k.seg, 100000);
	struct render_arg ra;
	memset(&ra, 0, sizeof ra);
	ra.snap = s100k;
	ra.min_len = 100000 * 30;
	struct rcase renders[2] = {
		{ "render_json_100k", op_json, &ra, 0, { 0 }, 0 },
	};
	int nrender = 1;
	struct render_arg rg;
	memset(&rg, 0, sizeof rg);
	rg.snap = s100k;
	rg.min_len = 100000 * 30;
	static char prefix[64];
	if (gname_prefix(prefix, sizeof prefix, "bench") < 0)
		bench_die("gname_prefix");
	rg.cfg.prefix = prefix;
	struct scales_collector_options co = {
		.flags = export_collect_flags(&rg.cfg),
	};
	struct scales_snapshot *sg = take(a100k.seg, 100000);
	if (scales_collector_new(&co, &rg.col) ||
	    scales_collector_sample_snapshots(rg.col, &sg, 1))
		bench_die("collector");
	renders[nrender++] = (struct rcase){
		"render_graphite_100k", op_graphite, &rg, 0, { 0 }, 0
	};
	op_graphite(&rg);
	bench_log("readers: graphite: %zu bytes, first line: %.*s\n",
	          rg.buf.len, (int)strcspn(rg.buf.data, "\n"), rg.buf.data);
	op_json(&ra);
	bench_log("readers: json: %zu bytes\n", ra.buf.len);
	bench_log("readers: rendering, %d rounds\n", cfg->rounds);
	rrun(renders, nrender, cfg->rounds, 50);
	scales_buf_free(&rg.buf);
	scales_collector_free(&rg.col);
	scales_buf_free(&ra.buf);
	scales_snapshot_free(&s100k);

	munmap(map, (size_t)st.st_size);
	close(fd);
	free(ca.dst);
	scales_segment_close(&a1k.seg);
	scales_segment_close(&a100k.seg);
	scales_close(&r1k);
	scales_close(&r100k);
	bench_unpin_self();

	if (cfg->big) {
		t0 = bench_now_ns();
		bench_log("readers: registering 1,000,000 counters\n");
		scales_registry *r1m =
		    bench_counters_registry(cfg->dir, "bench-1m", 1000000);
		bench_log("readers: registered in %.1f s\n",
		          (double)(bench_now_ns() - t0) / 1e9);
		bench_pin_self(bench_cpu(0));
		struct snap_arg a1m = { open_seg(r1m), 1000000 };
		struct rcase big[] = {
			{ "snapshot_1m", op_snapshot, &a1m, 0, { 0 }, 0 },
		};
		int rounds = cfg->rounds < 7 ? cfg->rounds : 7;
		rrun(big, 1, rounds, 1);

		/* Graphite lines of the 1,000,000 counters (issue 17.4) */
		struct render_arg gm;
		memset(&gm, 0, sizeof gm);
		gm.min_len = 1000000ull * 30;
		gm.cfg.prefix = prefix;
		struct scales_snapshot *s1m = take(a1m.seg, 1000000);
		gm.snap = s1m;
		struct scales_snapshot *sg1m = take(a1m.seg, 1000000);
		if (scales_collector_new(&co, &gm.col) ||
		    scales_collector_sample_snapshots(gm.col, &sg1m, 1))
			bench_die("collector");
		struct rcase gbig[2] = {
			{ "render_graphite_1m", op_graphite, &gm, 0, { 0 }, 0 },
		};
		int nbig = 1;
#ifdef BENCH_PROM
		/* the /metrics text of the same collection (issue 17.4) */
		gbig[nbig++] = (struct rcase){
			"render_prom_1m", op_prom, &gm, 0, { 0 }, 0
		};
		op_prom(&gm);
		bench_log("readers: /metrics: %zu bytes, first line: %.*s\n",
		          gm.buf.len, (int)strcspn(gm.buf.data, "\n"),
		          gm.buf.data);
#endif
		rrun(gbig, nbig, rounds < 3 ? rounds : 3, 1);
		scales_buf_free(&gm.buf);
		scales_collector_free(&gm.col);
		scales_snapshot_free(&s1m);
		scales_segment_close(&a1m.seg);
		scales_close(&r1m);
		bench_unpin_self();
	}
	return 0;
}
