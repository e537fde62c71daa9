/* SPDX-License-Identifier: MIT */
/*
 * test_agree.c: the writer and the reader agree on every rule they share
 * (shm/): generated inputs go through the writer's entry points
 * (registration, scales_histogram_bucket(), scales_histogram_record()) and
 * through the reader's (a snapshot of a real segment the writer wrote, or
 * of a hand-laid one for what the writer refuses; the reader's bucket
 * ranges), and any disagreement fails.
 */
#include <inttypes.h>
#include <unistd.h>

#include <scales/scales.h>

#include "common.h"

static char *dir;

static void setup(void)
{
	dir = sb_tmpdir();
}

static void teardown(void)
{
	sb_rmdir(dir);
	free(dir);
}

TestSuite(agree, .init = setup, .fini = teardown, .timeout = 300);

/* xorshift64*: the inputs are generated, and reproducible from the seed */
static uint64_t rng_state = 0x9e3779b97f4a7c15u;
static uint64_t rnd(void)
{
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * 2685821657736338717u;
}

static scales_registry *open_reg_big(const char *app, uint32_t max_entries,
                                     uint64_t stripe_bytes)
{
	struct scales_options o;
	scales_options_init(&o);
	o.app = app;
	o.flags = SCALES_NO_SAMPLER;
	o.max_entries = max_entries;
	o.stripe_bytes = stripe_bytes;
	o.dir = dir;
	scales_registry *reg = NULL;
	int rc = scales_open(&o, &reg);
	cr_assert_eq(rc, 0, "scales_open: %s", scales_strerror(rc));
	return reg;
}

static scales_registry *open_reg(const char *app, uint32_t max_entries)
{
	return open_reg_big(app, max_entries, 0);
}

static struct scales_snapshot *snap_path(const char *path)
{
	scales_segment *seg = must_open(path);
	struct scales_snapshot *s = must_snap(seg, SCALES_SNAP_NO_AGGREGATES);
	scales_segment_close(&seg);
	return s;
}

/* ---------------------------------------------------------------- paths */

#define MAXP 6000
static char *paths[MAXP];
static size_t npaths;

static void add_path(const char *p, size_t n)
{
	for (size_t i = 0; i < npaths; i++)
		if (strlen(paths[i]) == n && memcmp(paths[i], p, n) == 0)
			return;
	cr_assert_lt(npaths, MAXP);
	paths[npaths] = malloc(n + 1);
	memcpy(paths[npaths], p, n);
	paths[npaths][n] = 0;
	npaths++;
}

static void add_str(const char *p)
{
	add_path(p, strlen(p));
}

/* Every edge the path rules name, then random paths over an alphabet
 * weighted towards them. */
static void gen_paths(void)
{
	static const char *edges[] = {
		"",
		"/",
		"//",
		"a",
		"a/b",
		"/a",
		"/a/",
		"/a//b",
		"/a/b/",
		"/.",
		"/..",
		"/...",
		"/....",
		"/.../x",
		"/x/...",
		"/./x",
		"/../x",
		"/x/.",
		"/x/..",
		"/x/./y",
		"/x/../y",
		"/.x",
		"/x.",
		"/..x",
		"/x..",
		"/.x.",
		"/%",
		"/%%",
		"/%2F",
		"/a%b",
		"/a b",
		"/a\tb",
		"/a\x7f",
		"/\xc3\xa9",
		"/\xff",
		"/A-Z_0:9@+%.",
		"/web/status/404",
		"/db/pool:main/wait@p99",
		"/a/b/c/d/e/f",
	};
	for (size_t i = 0; i < sizeof(edges) / sizeof(*edges); i++)
		add_str(edges[i]);
	/* every byte alone, inside a component and as a component */
	for (int c = 1; c < 256; c++) {
		char b[8];
		snprintf(b, sizeof(b), "/%c", c);
		add_str(b);
		snprintf(b, sizeof(b), "/x%cy", c);
		add_str(b);
		snprintf(b, sizeof(b), "/x/%c/y", c);
		add_str(b);
	}
	/* lengths around the limit (SCALES_PATH_MAX, 255 bytes) */
	char buf[300];
	for (size_t n = 250; n <= 258; n++) {
		buf[0] = '/';
		for (size_t i = 1; i < n; i++)
			buf[i] = i % 50 == 0 ? '/' : (char)('a' + i % 26);
		add_path(buf, n);
		buf[n - 1] = '/';
		add_path(buf, n);
		buf[n - 1] = '.';
		buf[n - 2] = '/';
		add_path(buf, n);
	}
	static const char alpha[] = "/////....aZ9_-:@+%";
	while (npaths < MAXP) {
		size_t n = 1 + rnd() % (rnd() % 8 ? 12 : 260);
		for (size_t i = 0; i < n; i++) {
			uint64_t r = rnd();
			if (r % 16 == 0)
				buf[i] = (char)(1 + (r >> 8) % 255);
			else
				buf[i] = alpha[(r >> 8) % (sizeof(alpha) - 1)];
		}
		if (rnd() % 4)
			buf[0] = '/';
		add_path(buf, n);
	}
}

/*
 * Each path is registered by the writer (accepted, or refused with
 * SCALES_E_PATH: scales_path_check() says the same), and laid by hand into
 * a segment the reader validates: the reader keeps exactly the paths the
 * writer accepted. The accepted ones, read back from the writer's own
 * segment, are all there and none is counted invalid.
 */
Test(agree, paths)
{
	gen_paths();
	scales_registry *reg = open_reg("agree", 2 * MAXP);
	struct sb_config cfg = { .dir_capacity = MAXP,
		                 .stripe_size = 8 * MAXP };
	struct segbuild *b = sb_new("laid", 77, 1, &cfg);
	bool *ok = calloc(npaths, sizeof(*ok));
	size_t naccepted = 0, nlaid = 0, nlaid_bad = 0;
	for (size_t i = 0; i < npaths; i++) {
		const char *p = paths[i];
		scales_counter c;
		int rc = scales_counter_get(reg, p, NULL, &c);
		int chk = scales_path_check(p);
		cr_assert(rc == 0 || rc == SCALES_E_PATH, "register \"%s\": %s",
		          p, scales_strerror(rc));
		cr_assert_eq(rc, chk, "register and check disagree on \"%s\"",
		             p);
		ok[i] = rc == 0;
		naccepted += ok[i];
		if (ok[i])
			scales_counter_add(&c, i + 1);
		if (strlen(p) < SCALES_SHM_PATH_MAX) {
			uint32_t e = sb_counter(b, p, NULL);
			sb_counter_add(b, e, 0, i + 1);
			nlaid++;
			nlaid_bad += !ok[i];
		}
	}
	cr_assert_gt(naccepted, 100);
	cr_assert_gt(nlaid_bad, 100);

	struct scales_snapshot *s = build_snap(b, SCALES_SNAP_NO_AGGREGATES);
	cr_assert_eq(s->invalid, nlaid_bad,
	             "reader refused %" PRIu32 " laid paths, the writer %zu",
	             s->invalid, nlaid_bad);
	cr_assert_eq(s->n, nlaid - nlaid_bad);
	for (size_t i = 0; i < npaths; i++) {
		if (strlen(paths[i]) >= SCALES_SHM_PATH_MAX)
			continue;
		const struct scales_metric *m =
		    scales_snapshot_find(s, paths[i]);
		cr_assert_eq(m != NULL, ok[i],
		             "\"%s\": writer %s it, reader %s it", paths[i],
		             ok[i] ? "accepts" : "refuses",
		             m ? "keeps" : "drops");
		if (m)
			cr_assert_eq(m->v.u64, i + 1);
	}
	scales_snapshot_free(&s);

	s = snap_path(scales_registry_path(reg));
	cr_assert_eq(s->invalid, 0);
	cr_assert_eq(s->n, naccepted);
	for (size_t i = 0; i < npaths; i++) {
		if (!ok[i])
			continue;
		const struct scales_metric *m =
		    scales_snapshot_find(s, paths[i]);
		cr_assert_not_null(m, "the writer's \"%s\" is not read",
		                   paths[i]);
		cr_assert_eq(m->v.u64, i + 1);
	}
	scales_snapshot_free(&s);
	sb_free(b);
	free(ok);
	scales_close(&reg);
	for (size_t i = 0; i < npaths; i++)
		free(paths[i]);
	npaths = 0;
}

/* The bug that showed the drift: "/.../x" is a path (only "." and ".."
 * components are not), and the reader shows it. */
Test(agree, three_dots)
{
	scales_registry *reg = open_reg("dots", 0);
	scales_counter c;
	cr_assert_eq(scales_counter_get(reg, "/.../x", NULL, &c), 0);
	scales_counter_add(&c, 3);
	struct scales_snapshot *s = snap_path(scales_registry_path(reg));
	cr_assert_eq(s->invalid, 0);
	cr_assert_eq(s->n, 1);
	cr_assert_eq(must_find(s, "/.../x")->v.u64, 3);
	scales_snapshot_free(&s);
	scales_close(&reg);
}

/* --------------------------------------------------------- derived paths */

/* Values that differ only in bytes the escaping changes (shm/path.c). */
static const char *const svals[] = {
	"x/y",   "x_y", "x%2Fy",       "x%y",       "x%25y", "x y",
	"x%20y", "x+y", ".",           "..",        "...",   "%2E",
	"%",     "_",   "caf\xc3\xa9", "caf%C3%A9",
};
#define NSVALS (sizeof(svals) / sizeof(*svals))

/* The component the documents give for value i (docs/format.md
 * section 6, spelled out by hand). */
static const char *const sexpect[NSVALS] = {
	"x%2Fy",   "x_y", "x%252Fy",   "x%25y",         "x%2525y", "x%20y",
	"x%2520y", "x+y", "%2E",       "%2E%2E",        "...",     "%252E",
	"%25",     "_",   "caf%C3%A9", "caf%25C3%25A9",
};

/* State aggregate /pool/state over children /pool/w<i>/state: value k is
 * held by k + 1 children, so merged values would show in the counts. */
static scales_registry *states_writer(void)
{
	scales_registry *reg = open_reg("states", 0);
	scales_scope *pool;
	cr_assert_eq(scales_scope_root(reg, &pool, "/pool"), 0);
	cr_assert_eq(scales_scope_states(pool, "state", NULL), 0);
	unsigned w = 0;
	for (size_t k = 0; k < NSVALS; k++) {
		for (size_t j = 0; j <= k; j++, w++) {
			scales_scope *c;
			cr_assert_eq(scales_scope_child(pool, &c, "w%u", w), 0);
			scales_state st;
			cr_assert_eq(scales_scope_state(c, "state", NULL, &st),
			             0);
			cr_assert_eq(scales_state_set_str(&st, svals[k]), 0,
			             "state \"%s\"", svals[k]);
		}
	}
	return reg;
}

Test(agree, state_values_never_merge)
{
	scales_registry *reg = states_writer();
	struct scales_snapshot *s = snap_path(scales_registry_path(reg));
	scales_snapshot_aggregate(s);
	size_t nderived = 0, total = 0;
	for (size_t i = 0; i < s->n; i++)
		if (!strncmp(s->metrics[i].path, "/pool/state/", 12))
			nderived++;
	cr_assert_eq(nderived, NSVALS);
	for (size_t k = 0; k < NSVALS; k++) {
		char p[128];
		snprintf(p, sizeof(p), "/pool/state/%s", sexpect[k]);
		const struct scales_metric *m = must_find(s, p);
		cr_assert_eq(m->v.i64, (int64_t)k + 1, "%s", p);
		cr_assert(scales_path_check(p) == 0, "%s is no path", p);
		total += (size_t)m->v.i64;
	}
	cr_assert_eq(must_find(s, "/pool/state")->v.i64, (int64_t)total);
	scales_snapshot_free(&s);
	scales_close(&reg);
}

/* Bytes no writer stores (the empty value, control bytes, invalid UTF-8)
 * from a hand-laid segment: still one component each, all distinct. */
Test(agree, hostile_state_values_never_merge)
{
	static const char *const hv[] = {
		"",   "\n",   "_",   "%0A",   "a\x01",
		"a_", "\xff", "%FF", "a\x7f", "a%7F"
	};
	static const char *const he[] = { "%",    "%0A",   "_",   "%250A",
		                          "a%01", "a_",    "%FF", "%25FF",
		                          "a%7F", "a%257F" };
	size_t nh = sizeof(hv) / sizeof(*hv);
	struct segbuild *b = sb_new("hostile", 78, 1, NULL);
	sb_agg(b, "/pool/state", SCALES_SHM_AGG_STATES, "state");
	for (size_t k = 0; k < nh; k++) {
		char p[64];
		snprintf(p, sizeof(p), "/pool/w%zu/state", k);
		uint32_t e = sb_state(b, p, "placeholder");
		/* sb_state interns with strlen: lay the empty value by hand */
		struct scales_shm_entry *x = sb_entry(b, e);
		uint32_t ref = sb_string(b, hv[k]);
		memcpy(b->img + x->data_offset, &ref, 4);
	}
	struct scales_snapshot *s = build_snap(b, 0);
	for (size_t k = 0; k < nh; k++) {
		char p[64];
		snprintf(p, sizeof(p), "/pool/state/%s", he[k]);
		cr_assert_eq(must_find(s, p)->v.i64, 1, "%s", p);
	}
	cr_assert_eq(must_find(s, "/pool/state")->v.i64, (int64_t)nh);
	scales_snapshot_free(&s);
	sb_free(b);
}

/* The same through scales-top -j: one JSON key per value, with its count. */
Test(agree, state_values_in_scales_top_json)
{
	const char *top = getenv("SCALES_TOP");
	cr_assert_not_null(top, "SCALES_TOP not set");
	scales_registry *reg = states_writer();
	char cmd[4096];
	snprintf(cmd, sizeof(cmd), "SCALES_DIR='%s' '%s' -j", dir, top);
	FILE *f = popen(cmd, "r");
	cr_assert_not_null(f);
	size_t cap = 1 << 20, n = 0;
	char *out = malloc(cap);
	size_t r;
	while ((r = fread(out + n, 1, cap - 1 - n, f)) > 0)
		n += r;
	out[n] = 0;
	cr_assert_eq(pclose(f), 0, "%s", out);
	for (size_t k = 0; k < NSVALS; k++) {
		char key[160];
		snprintf(key, sizeof(key), "\"/pool/state/%s\"", sexpect[k]);
		const char *at = strstr(out, key);
		cr_assert_not_null(at, "no %s in:\n%s", key, out);
		cr_assert_null(strstr(at + 1, key), "%s twice", key);
		const char *v = strstr(at, "\"value\"");
		cr_assert_not_null(v);
		v += strlen("\"value\"");
		while (*v == ':' || *v == ' ')
			v++;
		cr_assert_eq(strtol(v, NULL, 10), (long)k + 1, "%s", key);
	}
	free(out);
	scales_close(&reg);
}

/* ----------------------------------------------------------- histograms */

/* The reader's range of bucket b of h. */
static void range(const struct scales_histo *h, uint32_t b, uint64_t *lo,
                  uint64_t *hi)
{
	uint64_t width;
	scales_histo_bucket_range(h, b, lo, &width);
	*hi = *lo + (width - 1);
}

/* The bucket the reader's ranges give v: found by bisection over the
 * ranges alone (the last bucket also holds every larger value). */
static uint32_t reader_bucket(const struct scales_histo *h, uint64_t v)
{
	uint32_t a = 0, z = h->nbuckets - 1;
	while (a < z) {
		uint32_t mid = a + (z - a + 1) / 2;
		uint64_t lo, hi;
		range(h, mid, &lo, &hi);
		if (v >= lo)
			a = mid;
		else
			z = mid - 1;
	}
	return a;
}

static bool shift_ok(unsigned s, unsigned u)
{
	return s + 1 + u < 64;
}

/* The highest values a histogram config may name for (S, U): around the
 * least one the writer accepts, the default, the largest u64, random. */
static size_t highests(unsigned s, unsigned u, uint64_t *out)
{
	size_t n = 0;
	if (shift_ok(s, u)) {
		uint64_t least = ((uint64_t)2 << s) << u;
		out[n++] = least - 1;
		out[n++] = least;
		out[n++] = least + ((uint64_t)1 << u);
		out[n++] = least | (rnd() & (least * 8 - 1));
	}
	out[n++] = ((uint64_t)1 << 40) - 1;
	out[n++] = UINT64_MAX;
	out[n++] = UINT64_MAX >> (rnd() % 64);
	return n;
}

/*
 * Every shape the API accepts, and those around it: for each sub-bucket
 * bits S (3 to 12), shift U (0 to 34) and highest value, the writer
 * registers the histogram (or refuses it with SCALES_E_CONFIG); the
 * reader shows each registered one from the writer's segment with the
 * writer's parameters, its last bucket reaching highest; a hand-laid entry
 * of the same shape is kept by the reader exactly when the writer
 * accepted it.
 */
Test(agree, histogram_shapes)
{
	/* room for every accepted shape, 2^64 - 1 included */
	scales_registry *reg = open_reg_big("shapes", 4096, 64u << 20);
	struct sb_config cfg = { .dir_capacity = 4096,
		                 .stripe_size = 1u << 20 };
	struct segbuild *b = sb_new("laidh", 79, 1, &cfg);
	/* one region every laid entry points into (the reader does not
	 * mind overlaps): as large as the largest accepted shape */
	uint32_t big = sb_histogram(b, "/big", 10, 0, 56320, 1.0, 0);
	const struct scales_shm_entry *bx = sb_entry(b, big);
	uint64_t doff = bx->data_offset;
	struct want {
		char path[64];
		unsigned s, u;
		uint64_t highest;
		uint32_t nb;
		bool ok;
	} *w = calloc(4096, sizeof(*w));
	size_t nw = 0, nok = 0;
	for (unsigned s = 3; s <= 12; s++) {
		for (unsigned u = 0; u <= 34; u++) {
			uint64_t hs[8];
			size_t nh = highests(s, u, hs);
			for (size_t i = 0; i < nh; i++) {
				struct want *x = &w[nw];
				snprintf(x->path, sizeof(x->path),
				         "/h/s%u/u%u/%zu", s, u, i);
				x->s = s;
				x->u = u;
				x->highest = hs[i];
				struct scales_histogram_config hc = { hs[i], s,
					                              u, 0 };
				scales_histogram h;
				int rc = scales_histogram_get(reg, x->path,
				                              NULL, &hc, &h);
				cr_assert(rc == 0 || rc == SCALES_E_CONFIG,
				          "%s: %s", x->path,
				          scales_strerror(rc));
				x->ok = rc == 0;
				nok += x->ok;
				uint64_t nb64 =
				    (uint64_t)scales_histogram_bucket(
				        hs[i], s, u, UINT32_MAX) +
				    1;
				x->nb = nb64 > UINT32_MAX ? UINT32_MAX :
				                            (uint32_t)nb64;
				/* laid: a counter turned into a histogram of
				 * the same shape */
				uint32_t e = sb_counter(b, x->path, NULL);
				struct scales_shm_entry *le = sb_entry(b, e);
				le->kind = SCALES_SHM_HISTOGRAM;
				le->param[0] = s;
				le->param[1] = u;
				le->param[2] = x->nb;
				le->data_offset = doff;
				le->data_size = 16;
				le->stripe_offset = bx->stripe_offset;
				le->stripe_size = 8 * (x->nb + 1);
				nw++;
			}
		}
	}
	cr_assert_gt(nok, 500);
	cr_assert_gt(nw - nok, 500);

	struct scales_snapshot *s = snap_path(scales_registry_path(reg));
	cr_assert_eq(s->invalid, 0);
	struct scales_snapshot *ls = build_snap(b, SCALES_SNAP_NO_AGGREGATES);
	for (size_t i = 0; i < nw; i++) {
		const struct want *x = &w[i];
		const struct scales_metric *m =
		    scales_snapshot_find(s, x->path);
		const struct scales_metric *lm =
		    scales_snapshot_find(ls, x->path);
		cr_assert_eq(lm != NULL, x->ok,
		             "S=%u U=%u highest=%" PRIu64 " nbuckets=%" PRIu32
		             ": writer %s, reader %s",
		             x->s, x->u, x->highest, x->nb,
		             x->ok ? "accepts" : "refuses",
		             lm ? "keeps" : "drops");
		cr_assert_eq(m != NULL, x->ok, "%s", x->path);
		if (!m)
			continue;
		cr_assert_eq(m->kind, SCALES_KIND_HISTOGRAM);
		cr_assert_eq(m->side->hist.sub_bits, x->s);
		cr_assert_eq(m->side->hist.unit_shift, x->u);
		cr_assert_eq(m->side->hist.nbuckets, x->nb, "%s", x->path);
		uint64_t lo, hi;
		range(&m->side->hist, m->side->hist.nbuckets - 1, &lo, &hi);
		cr_assert(lo <= x->highest && x->highest <= hi,
		          "%s: highest %" PRIu64 " outside the last bucket",
		          x->path, x->highest);
	}
	scales_snapshot_free(&ls);
	scales_snapshot_free(&s);
	sb_free(b);
	free(w);
	scales_close(&reg);
}

/*
 * Values over the whole u64 range: for accepted shapes, every bucket's
 * first and last value and the values around them, 0, 2^64 - 1, powers of
 * two and random values. The writer's value-to-bucket (the public inline,
 * and shm's, which must be it) puts each in the bucket whose reader range
 * holds it; the reader's ranges tile the u64 range; and the histogram the
 * writer records them into reads back with each bucket's count, the
 * count, min, max and sum (mod 2^64) the reader's ranges predict.
 */
Test(agree, values_and_bucket_ranges)
{
	scales_registry *reg = open_reg_big("values", 0, 64u << 20);
	static const unsigned shifts[] = { 0, 1, 3, 16, 32 };
	size_t cap = 1 << 18;
	uint64_t *vals = malloc(cap * sizeof(*vals));
	uint64_t *want = NULL;
	unsigned nshape = 0;
	for (unsigned sb = 5; sb <= 10; sb++) {
		for (size_t k = 0; k < sizeof(shifts) / sizeof(*shifts); k++) {
			unsigned u = shifts[k];
			uint64_t hs[8];
			size_t nh = highests(sb, u, hs);
			for (size_t i = 0; i < nh; i++) {
				struct scales_histogram_config hc = { hs[i], sb,
					                              u, 0 };
				char path[64];
				snprintf(path, sizeof(path), "/v/s%u/u%u/%zu",
				         sb, u, i);
				scales_histogram h;
				if (scales_histogram_get(reg, path, NULL, &hc,
				                         &h) != 0)
					continue;
				nshape++;
				struct scales_histo rh = {
					.sub_bits = sb,
					.unit_shift = u,
					.nbuckets = h.last_bucket + 1,
				};
				uint32_t nb = rh.nbuckets;
				/* the ranges tile [0, 2^64) */
				size_t n = 0;
				uint64_t next = 0;
				for (uint32_t bkt = 0; bkt < nb; bkt++) {
					uint64_t lo, hi;
					range(&rh, bkt, &lo, &hi);
					cr_assert_eq(lo, next,
					             "%s bucket %" PRIu32, path,
					             bkt);
					cr_assert_geq(hi, lo);
					next = hi + 1;
					if (n + 4 > cap)
						continue;
					vals[n++] = lo;
					vals[n++] = hi;
					vals[n++] = lo + (hi - lo) / 2;
					if (hi != UINT64_MAX)
						vals[n++] = hi + 1;
				}
				vals[n++] = 0;
				vals[n++] = UINT64_MAX;
				for (unsigned p = 0; p < 64; p++) {
					vals[n++] = (uint64_t)1 << p;
					vals[n++] = ((uint64_t)1 << p) - 1;
				}
				for (int r = 0; r < 2000; r++)
					vals[n++] = rnd() >> (rnd() % 64);
				free(want);
				want = calloc(nb, sizeof(*want));
				uint64_t sum = 0, mn = UINT64_MAX, mx = 0;
				for (size_t j = 0; j < n; j++) {
					uint64_t v = vals[j];
					uint32_t wb =
					    scales_histogram_bucket(v, sb, u,
					                            nb - 1);
					cr_assert_eq(scales_shm_bucket(v, sb, u,
					                               nb - 1),
					             wb);
					uint32_t rb = reader_bucket(&rh, v);
					cr_assert_eq(wb, rb,
					             "%s: %" PRIu64
					             " in bucket "
					             "%" PRIu32 " (writer), "
					             "%" PRIu32 " (reader)",
					             path, v, wb, rb);
					want[rb]++;
					sum += v;
					mn = v < mn ? v : mn;
					mx = v > mx ? v : mx;
					scales_histogram_record(&h, v);
				}
				struct scales_snapshot *s =
				    snap_path(scales_registry_path(reg));
				const struct scales_metric *m =
				    must_find(s, path);
				cr_assert_eq(m->side->hist.count, n);
				cr_assert_eq(m->side->hist.sum, sum);
				cr_assert_eq(m->side->hist.min, mn);
				cr_assert_eq(m->side->hist.max, mx);
				cr_assert_eq(m->side->hist.nbuckets, nb);
				for (uint32_t bkt = 0; bkt < nb; bkt++)
					cr_assert_eq(m->side->hist.buckets[bkt],
					             want[bkt],
					             "%s bucket %" PRIu32, path,
					             bkt);
				scales_snapshot_free(&s);
			}
		}
	}
	cr_assert_gt(nshape, 60);
	free(want);
	free(vals);
	scales_close(&reg);
}

/* ------------------------------------------------ names and start times */

/* The /proc/<pid>/stat parser on the lines the rules name: a command name
 * with spaces and parentheses, and field 22 well- or ill-formed. */
Test(agree, stat_start_time_parser)
{
	static const struct {
		const char *comm, *f22;
		bool ok;
		uint64_t want;
	} c[] = {
		{ "(a)", "4242", true, 4242 },
		{ "(a b) c) (d)", "17", true, 17 },
		{ "()", "0", true, 0 },
		{ "(x)", "18446744073709551615", true, UINT64_MAX },
		{ "(x)", "18446744073709551616", false, 0 },
		{ "(x)", "-1", false, 0 },
		{ "(x)", "12x", false, 0 },
		{ "x", "5", false, 0 },
	};
	for (size_t i = 0; i < sizeof(c) / sizeof(*c); i++) {
		char line[512];
		int n = snprintf(line, sizeof(line), "123 %s S", c[i].comm);
		for (int f = 4; f < 22; f++)
			n += snprintf(line + n, sizeof(line) - (size_t)n, " %d",
			              f);
		snprintf(line + n, sizeof(line) - (size_t)n, " %s 23 24\n",
		         c[i].f22);
		uint64_t st = 99;
		bool ok = scales_shm_parse_stat_start(line, &st);
		cr_assert_eq(ok, c[i].ok, "%s", line);
		if (ok)
			cr_assert_eq(st, c[i].want, "%s", line);
	}
	/* fewer than 22 fields */
	uint64_t st;
	cr_assert(!scales_shm_parse_stat_start("1 (a) S 1 2 3\n", &st));
}

/* The writer names its segment and fills its header from the same rules
 * the reader parses and checks: the file name's app, pid and start time
 * are the header's, the start time is this process's, and the reader
 * finds the writer alive. */
Test(agree, segment_name_and_start_time)
{
	scales_registry *reg = open_reg("na.me/x", 0);
	const char *path = scales_registry_path(reg);
	const char *base = strrchr(path, '/') + 1;
	char app[64];
	int32_t pid;
	uint64_t start;
	cr_assert(scales_parse_seg_name(base, app, sizeof(app), &pid, &start),
	          "%s", base);
	cr_assert_str_eq(app, "na_me_x");
	cr_assert_eq(pid, (int32_t)getpid());
	uint64_t self;
	cr_assert_eq(scales_shm_proc_start_time((int32_t)getpid(), &self), 0);
	cr_assert_eq(start, self);
	scales_segment *seg = must_open(path);
	struct scales_process_info info;
	char err[256];
	cr_assert_eq(scales_segment_info(seg, &info, err, sizeof(err)), 0, "%s",
	             err);
	cr_assert_str_eq(info.app, app);
	cr_assert_eq(info.pid, pid);
	cr_assert_eq(info.start_time, start);
	cr_assert(info.alive);
	cr_assert_eq(scales_pid_running(pid, start), 1);
	scales_segment_close(&seg);
	scales_close(&reg);
}

/* A label name the writer refuses, the readers (scales-export's label
 * rules) refuse, and the other way round: every byte at every position of
 * short names, the length limit and the reserved names. */
Test(agree, label_names)
{
	static const char *const fixed[] = {
		"a",   "_",        "__x", "_x",  "0a",   "a0",       "app",
		"pid", "instance", "le",  "key", "code", "Label",    "a-b",
		"a b", "",         "x.y", "é",   "job_", "quantile",
	};
	char name[80];
	size_t nfixed = sizeof(fixed) / sizeof(*fixed);
	for (size_t i = 0; i < nfixed + 3 * 256 + 4; i++) {
		if (i < nfixed) {
			snprintf(name, sizeof(name), "%s", fixed[i]);
		} else if (i < nfixed + 3 * 256) {
			/* byte c alone, first and last of three */
			size_t k = i - nfixed;
			int c = (int)(k % 256) ? (int)(k % 256) : 'z';
			const char *form[] = { "%c", "%cab", "ab%c" };
			snprintf(name, sizeof(name), form[k / 256], c);
		} else {
			/* 62, 63, 64 and 65 bytes */
			size_t n = 62 + (i - nfixed - 3 * 256);
			memset(name, 'l', n);
			name[n] = '\0';
		}
		bool writer = scales_label_check(name) == 0;
		bool reader = scales_label_name_ok(name, strlen(name));
		cr_assert_eq(writer, reader,
		             "label name \"%s\": writer %d reader %d", name,
		             writer, reader);
	}
}
