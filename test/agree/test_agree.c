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

static scales_registry *open_reg(const char *app, uint32_t max_entries)
{
	struct scales_options o;
	scales_options_init(&o);
	o.app = app;
	o.flags = SCALES_NO_SAMPLER;
	o.max_entries = max_entries;
	o.dir = dir;
	scales_registry *reg = NULL;
	int rc = scales_open(&o, &reg);
	cr_assert_eq(rc, 0, "scales_open: %s", scales_strerror(rc));
	return reg;
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
