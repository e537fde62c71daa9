/* SPDX-License-Identifier: MIT */
/*
 * test_api.c: bad input to the public APIs. NULL handles and registries,
 * invalid paths, wrong kinds, absurd options and histogram ranges: each call
 * returns its documented error code, hands out a sink where the contract
 * says so, and nothing aborts (Criterion reports a crash as a failure).
 */
#include <errno.h>
#include <math.h>
#include <stdint.h>

#include "common.h"

static char dir[PATH_MAX];

static void setup(void)
{
	h_fresh_dir(dir);
}

static void teardown(void)
{
	h_rm_rf(dir);
}

TestSuite(api, .init = setup, .fini = teardown, .timeout = 60);

/* Every update function on every kind of handle; used on sinks. */
static void poke_counter(const scales_counter *c)
{
	for (int i = 0; i < 1000; i++)
		scales_counter_inc(c);
	scales_counter_add(c, UINT64_MAX);
}

static void poke_histogram(const scales_histogram *h)
{
	scales_histogram_record(h, 0);
	scales_histogram_record(h, 1);
	scales_histogram_record(h, UINT64_MAX);
	uint64_t t = scales_timer_start(h);
	scales_timer_stop(h, t);
	SCALES_TIME(h)
	{
		t++;
	}
}

/* ------------------------------------------------------------ registry */

Test(api, open_rejects_null_out)
{
	cr_expect_eq(scales_open(NULL, NULL), -EINVAL);
	struct scales_options o;
	h_small_opts(&o, "x");
	cr_expect_eq(scales_open(&o, NULL), -EINVAL);
}

Test(api, open_rejects_absurd_sizes)
{
	struct {
		const char *what;
		uint32_t max_entries;
		uint64_t stripe, data, strings;
	} cases[] = {
		{ "max_entries 2^27", 1u << 27, 0, 0, 0 },
		{ "stripe_bytes 2^35", 0, 1ull << 35, 0, 0 },
		{ "data_bytes 2^37", 0, 0, 1ull << 37, 0 },
		{ "string_bytes 2^32", 0, 0, 0, 1ull << 32 },
		{ "string_bytes 1", 0, 0, 0, 1 },
		{ "string_bytes UINT64_MAX", 0, 0, 0, UINT64_MAX },
		{ "stripe_bytes UINT64_MAX", 0, UINT64_MAX, 0, 0 },
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		struct scales_options o;
		h_small_opts(&o, "absurd");
		if (cases[i].max_entries)
			o.max_entries = cases[i].max_entries;
		if (cases[i].stripe)
			o.stripe_bytes = cases[i].stripe;
		if (cases[i].data)
			o.data_bytes = cases[i].data;
		if (cases[i].strings)
			o.string_bytes = cases[i].strings;
		scales_registry *reg = (scales_registry *)&o; /* not NULL */
		int rc = scales_open(&o, &reg);
		cr_expect_eq(rc, SCALES_E_CONFIG, "%s: got %d (%s)",
		             cases[i].what, rc, scales_strerror(rc));
		cr_expect_null(reg, "%s: *out not NULL on error",
		               cases[i].what);
	}
	/* nothing was left behind in the directory, not even a temporary */
	cr_expect_eq(h_count_entries(dir, ""), 0);
}

Test(api, open_rejects_bad_directories)
{
	struct scales_options o;
	h_small_opts(&o, "baddir");
	scales_registry *reg = NULL;

	char file[PATH_MAX + 16];
	snprintf(file, sizeof file, "%s/plain-file", dir);
	FILE *f = fopen(file, "w");
	cr_assert_not_null(f);
	fclose(f);
	o.dir = file; /* a regular file where the directory should be */
	cr_expect_eq(scales_open(&o, &reg), SCALES_E_UNSAFE);
	cr_expect_null(reg);

	char deep[PATH_MAX + 32];
	snprintf(deep, sizeof deep, "%s/no/such/parent", dir);
	o.dir = deep; /* only the last component is created */
	cr_expect_eq(scales_open(&o, &reg), -ENOENT);
	cr_expect_null(reg);

	static char longdir[PATH_MAX + 100];
	memset(longdir, 'a', sizeof longdir - 1);
	longdir[0] = '/';
	o.dir = longdir;
	cr_expect_eq(scales_open(&o, &reg), -ENAMETOOLONG);
	cr_expect_null(reg);
}

Test(api, options_init_rejects_null)
{
	cr_expect_eq(scales_options_init(NULL), -EINVAL);
	struct scales_options o;
	memset(&o, 0xa5, sizeof o);
	cr_expect_eq(scales_options_init(&o), 0);
	cr_expect_eq(o.struct_size, sizeof o);
	cr_expect_eq(o.flags, 0);
	cr_expect_null(o.dir);
}

Test(api, open_accepts_an_older_options_struct)
{
	/* a caller compiled against a shorter struct: the rest defaults */
	struct scales_options o;
	h_small_opts(&o, "oldopts");
	o.struct_size = offsetof(struct scales_options, max_entries);
	scales_registry *reg = NULL;
	int rc = scales_open(&o, &reg);
	cr_assert_eq(rc, 0, "%s", scales_strerror(rc));
	scales_close(&reg);
}

Test(api, close_and_friends_on_null)
{
	cr_expect_eq(scales_close(NULL), SCALES_E_CLOSED);
	scales_registry *reg = NULL;
	cr_expect_eq(scales_close(&reg), SCALES_E_CLOSED);
	cr_expect_null(scales_registry_path(NULL));
	cr_expect_eq(scales_reset(NULL), SCALES_E_CLOSED);
	cr_expect_eq(scales_sample(NULL), SCALES_E_CLOSED);

	reg = h_open("closetwice");
	cr_expect_eq(scales_close(&reg), 0);
	cr_expect_null(reg);
	cr_expect_eq(scales_close(&reg), SCALES_E_CLOSED);
}

Test(api, strerror_never_null)
{
	int codes[] = { 0,
		        SCALES_E_PATH,
		        SCALES_E_KIND,
		        SCALES_E_FULL,
		        SCALES_E_LIVE,
		        SCALES_E_CONFIG,
		        SCALES_E_CLOSED,
		        SCALES_E_UNSAFE,
		        -EINVAL,
		        -EBUSY,
		        -4095,
		        -4096,
		        -999,
		        -5000,
		        1,
		        12345,
		        INT_MIN,
		        INT_MAX };
	for (size_t i = 0; i < sizeof codes / sizeof codes[0]; i++) {
		const char *s = scales_strerror(codes[i]);
		cr_expect(s && *s, "scales_strerror(%d)", codes[i]);
		s = scales_reader_strerror(codes[i]);
		cr_expect(s && *s, "scales_reader_strerror(%d)", codes[i]);
	}
	for (int c = SCALES_RE_NOT_FOUND; c <= SCALES_RE_NOT_SEGMENT; c++)
		cr_expect(*scales_reader_strerror(c));
	cr_expect_str_eq(scales_version(), SCALES_VERSION_STRING);
}

/* -------------------------------------------------- NULL registry: sinks */

Test(api, null_registry_gives_sinks)
{
	scales_counter c;
	scales_gauge g;
	scales_gauge_f64 gf;
	scales_state st;
	scales_histogram h;
	memset(&c, 0xff, sizeof c);
	cr_expect_eq(scales_counter_get(NULL, "/a", NULL, &c), SCALES_E_CLOSED);
	poke_counter(&c);
	memset(&g, 0, sizeof g);
	cr_expect_eq(scales_gauge_get(NULL, "/a", NULL, &g), SCALES_E_CLOSED);
	cr_assert_not_null(g.value);
	scales_gauge_set(&g, 5);
	scales_gauge_add(&g, -7);
	scales_gauge_inc(&g);
	scales_gauge_dec(&g);
	memset(&gf, 0, sizeof gf);
	cr_expect_eq(scales_gauge_f64_get(NULL, "/a", NULL, &gf),
	             SCALES_E_CLOSED);
	cr_assert_not_null(gf.value);
	scales_gauge_f64_set(&gf, 1.5);
	scales_gauge_f64_add(&gf, NAN);
	memset(&st, 0, sizeof st);
	cr_expect_eq(scales_state_get(NULL, "/a", NULL, &st), SCALES_E_CLOSED);
	cr_assert_not_null(st.value);
	scales_state_set(&st, 42);
	/* a sink state has no registry to intern in */
	cr_expect_eq(scales_state_set_str(&st, "busy"), SCALES_E_CLOSED);
	memset(&h, 0, sizeof h);
	cr_expect_eq(scales_histogram_get(NULL, "/a", NULL, NULL, &h),
	             SCALES_E_CLOSED);
	poke_histogram(&h);

	uint32_t id = 7;
	cr_expect_eq(scales_state_intern(NULL, "x", &id), SCALES_E_CLOSED);
	cr_expect_eq(scales_retire(NULL, "/a"), SCALES_E_CLOSED);
	cr_expect_eq(scales_gauge_callback(NULL, "/cb", NULL, NULL, NULL),
	             -EINVAL);
}

static double cb_f64(void *arg)
{
	(void)arg;
	return 1.0;
}

Test(api, null_registry_callback)
{
	cr_expect_eq(scales_gauge_callback(NULL, "/cb", NULL, cb_f64, NULL),
	             SCALES_E_CLOSED);
}

/* out may be NULL: registration without a handle (a stat updated by
 * another process sharing the segment, or declared only). */
Test(api, null_out_registers_without_handle)
{
	scales_registry *reg = h_open("nullout");
	cr_expect_eq(scales_counter_get(reg, "/a", NULL, NULL), 0);
	cr_expect_eq(scales_gauge_get(reg, "/b", NULL, NULL), 0);
	cr_expect_eq(scales_gauge_f64_get(reg, "/c", NULL, NULL), 0);
	cr_expect_eq(scales_state_get(reg, "/d", NULL, NULL), 0);
	cr_expect_eq(scales_histogram_get(reg, "/e", NULL, NULL, NULL), 0);
	/* errors are still reported */
	cr_expect_eq(scales_gauge_get(reg, "/a", NULL, NULL), SCALES_E_KIND);
	cr_expect_eq(scales_counter_get(reg, "/a b", NULL, NULL),
	             SCALES_E_PATH);
	cr_expect_eq(scales_counter_get(NULL, "/z", NULL, NULL),
	             SCALES_E_CLOSED);
	struct scales_snapshot *s = h_snap(reg);
	cr_expect_eq(s->n, 5, "%zu metrics", s->n);
	cr_expect_eq(h_find(s, "/a")->v.u64, 0);
	scales_snapshot_free(&s);
	scales_close(&reg);
}

Test(api, null_path_and_values)
{
	scales_registry *reg = h_open("nullpath");
	scales_counter c;
	cr_expect_eq(scales_counter_get(reg, NULL, NULL, &c), -EINVAL);
	poke_counter(&c);
	scales_histogram h;
	cr_expect_eq(scales_histogram_get(reg, NULL, NULL, NULL, &h), -EINVAL);
	poke_histogram(&h);
	cr_expect_eq(scales_retire(reg, NULL), -EINVAL);
	uint32_t id;
	cr_expect_eq(scales_state_intern(reg, NULL, &id), -EINVAL);
	cr_expect_eq(scales_state_intern(reg, "x", NULL), -EINVAL);
	cr_expect_eq(scales_state_set_str(NULL, "x"), -EINVAL);
	cr_expect_eq(scales_gauge_callback(reg, "/cb", NULL, NULL, NULL),
	             -EINVAL);
	cr_expect_eq(scales_gauge_callback_i64(reg, "/cb", NULL, NULL, NULL),
	             -EINVAL);

	/* none of the failures above published anything */
	struct scales_snapshot *s = h_snap(reg);
	cr_expect_eq(s->n, 0, "%zu metrics", s->n);
	scales_snapshot_free(&s);
	scales_close(&reg);
}

/* ---------------------------------------------------------------- paths */

static const char *bad_paths[] = {
	"",      "x",     "/",     "//",           "//a",    "/a/",
	"/a//b", "/.",    "/..",   "/a/.",         "/a/./b", "/a/../b",
	"/a b",  "/a\tb", "/a\nb", "/caf\xc3\xa9", "/a*b",   "/a?b",
	"/a#b",  "/a\"b", "/a\\b", "/a=b",         "/a,b",   "/a;b",
	"/\x7f", "/\xff", "a/b",   " /a",
};

Test(api, invalid_paths_are_refused_with_sinks)
{
	scales_registry *reg = h_open("paths");
	for (size_t i = 0; i < sizeof bad_paths / sizeof bad_paths[0]; i++) {
		const char *p = bad_paths[i];
		cr_expect_eq(scales_path_check(p), SCALES_E_PATH, "check [%s]",
		             p);
		scales_counter c;
		cr_expect_eq(scales_counter_get(reg, p, NULL, &c),
		             SCALES_E_PATH, "counter [%s]", p);
		poke_counter(&c);
		scales_gauge g;
		cr_expect_eq(scales_gauge_get(reg, p, NULL, &g), SCALES_E_PATH,
		             "gauge [%s]", p);
		scales_gauge_set(&g, 1);
		scales_histogram h;
		cr_expect_eq(scales_histogram_get(reg, p, NULL, NULL, &h),
		             SCALES_E_PATH, "histogram [%s]", p);
		poke_histogram(&h);
		scales_dict d;
		cr_expect_eq(scales_dict_get(reg, p, NULL, &d), SCALES_E_PATH,
		             "dict [%s]", p);
	}
	cr_expect_eq(scales_path_check(NULL), SCALES_E_PATH);

	/* the length limit: 255 bytes pass, 256 do not */
	char p[300];
	memset(p, 'a', sizeof p);
	p[0] = '/';
	p[SCALES_PATH_MAX] = '\0';
	cr_expect_eq(scales_path_check(p), 0);
	scales_counter c;
	cr_expect_eq(scales_counter_get(reg, p, NULL, &c), 0);
	p[SCALES_PATH_MAX] = 'a';
	p[SCALES_PATH_MAX + 1] = '\0';
	cr_expect_eq(scales_path_check(p), SCALES_E_PATH);
	cr_expect_eq(scales_counter_get(reg, p, NULL, &c), SCALES_E_PATH);

	/* the allowed punctuation, and "..." which is not ".." */
	const char *good[] = { "/a.b", "/_-.:@+%", "/...", "/a/.b/..c",
		               "/0/9/Z" };
	for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
		cr_expect_eq(scales_path_check(good[i]), 0, "%s", good[i]);
		cr_expect_eq(scales_counter_get(reg, good[i], NULL, &c), 0,
		             "%s", good[i]);
	}
	struct scales_snapshot *s = h_snap(reg);
	cr_expect_eq(s->n, 1 + sizeof good / sizeof good[0]);
	scales_snapshot_free(&s);
	scales_close(&reg);
}

/* ---------------------------------------------------------------- kinds */

Test(api, wrong_kind_gives_error_and_sink)
{
	scales_registry *reg = h_open("kinds");
	scales_counter c;
	cr_assert_eq(scales_counter_get(reg, "/k", NULL, &c), 0);
	scales_counter_add(&c, 5);

	scales_gauge g;
	cr_expect_eq(scales_gauge_get(reg, "/k", NULL, &g), SCALES_E_KIND);
	scales_gauge_set(&g, 1000); /* into the sink, not into /k */
	scales_gauge_f64 gf;
	cr_expect_eq(scales_gauge_f64_get(reg, "/k", NULL, &gf), SCALES_E_KIND);
	scales_gauge_f64_set(&gf, 1e300);
	scales_state st;
	cr_expect_eq(scales_state_get(reg, "/k", NULL, &st), SCALES_E_KIND);
	scales_state_set(&st, 0xffffffffu);
	scales_histogram h;
	cr_expect_eq(scales_histogram_get(reg, "/k", NULL, NULL, &h),
	             SCALES_E_KIND);
	poke_histogram(&h);
	scales_dict d;
	cr_expect_eq(scales_dict_get(reg, "/k", NULL, &d), SCALES_E_KIND);
	cr_expect_eq(scales_gauge_callback(reg, "/k", NULL, cb_f64, NULL),
	             SCALES_E_KIND);

	/* and the other way round: a histogram asked for as a counter */
	cr_assert_eq(scales_histogram_get(reg, "/h", NULL, NULL, &h), 0);
	scales_histogram_record(&h, 10);
	scales_counter c2;
	cr_expect_eq(scales_counter_get(reg, "/h", NULL, &c2), SCALES_E_KIND);
	poke_counter(&c2);

	struct scales_snapshot *s = h_snap(reg);
	cr_expect_eq(s->n, 2);
	const struct scales_metric *m = h_find(s, "/k");
	cr_expect_eq(m->kind, SCALES_KIND_COUNTER);
	cr_expect_eq(m->v.u64, 5);
	m = h_find(s, "/h");
	cr_expect_eq(m->kind, SCALES_KIND_HISTOGRAM);
	cr_expect_eq(m->side->hist.count, 1);
	cr_expect_eq(m->side->hist.sum, 10);
	scales_snapshot_free(&s);
	scales_close(&reg);
}

Test(api, bad_unit_is_refused)
{
	scales_registry *reg = h_open("units");
	struct scales_info info = { "help", (enum scales_unit)3 };
	scales_counter c;
	cr_expect_eq(scales_counter_get(reg, "/u", &info, &c), SCALES_E_CONFIG);
	poke_counter(&c);
	info.unit = (enum scales_unit) - 1;
	scales_histogram h;
	cr_expect_eq(scales_histogram_get(reg, "/u", &info, NULL, &h),
	             SCALES_E_CONFIG);
	poke_histogram(&h);
	scales_close(&reg);
}

Test(api, help_is_truncated_not_refused)
{
	scales_registry *reg = h_open("help");
	static char help[5000];
	memset(help, 'h', sizeof help - 1);
	struct scales_info info = { help, SCALES_UNIT_NONE };
	scales_counter c;
	cr_assert_eq(scales_counter_get(reg, "/long", &info, &c), 0);
	struct scales_snapshot *s = h_snap(reg);
	const struct scales_metric *m = h_find(s, "/long");
	cr_assert_not_null(m->help);
	cr_expect_eq(strlen(m->help), 1023);
	scales_snapshot_free(&s);
	scales_close(&reg);
}

/* ---------------------------------------------------------- histograms */

Test(api, absurd_histogram_ranges)
{
	struct scales_options o;
	h_small_opts(&o, "hist");
	o.stripe_bytes = 1 << 20; /* 2^64 at 1024 per octave: 450 KB */
	scales_registry *reg = NULL;
	cr_assert_eq(scales_open(&o, &reg), 0);
	struct {
		const char *what;
		struct scales_histogram_config cfg;
	} bad[] = {
		{ "sub_bucket_bits 4", { 0, 4, 0, 0 } },
		{ "sub_bucket_bits 11", { 0, 11, 0, 0 } },
		{ "sub_bucket_bits 64", { 0, 64, 0, 0 } },
		{ "sub_bucket_bits UINT_MAX", { 0, UINT_MAX, 0, 0 } },
		{ "lowest_shift 33", { 0, 0, 33, 0 } },
		{ "lowest_shift 64", { 0, 0, 64, 0 } },
		{ "lowest_shift UINT_MAX", { 0, 0, UINT_MAX, 0 } },
		{ "highest 1", { 1, 0, 0, 0 } },
		{ "highest 63 (below the linear range)", { 63, 5, 0, 0 } },
		{ "highest below the shifted range", { 1ull << 20, 5, 16, 0 } },
		{ "scale NaN", { 0, 0, 0, NAN } },
		{ "scale +Inf", { 0, 0, 0, INFINITY } },
		{ "scale -1", { 0, 0, 0, -1.0 } },
		{ "scale -Inf", { 0, 0, 0, -INFINITY } },
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		scales_histogram h;
		memset(&h, 0, sizeof h);
		int rc = scales_histogram_get(reg, "/h", NULL, &bad[i].cfg, &h);
		cr_expect_eq(rc, SCALES_E_CONFIG, "%s: got %d (%s)",
		             bad[i].what, rc, scales_strerror(rc));
		poke_histogram(&h);
	}
	/* extremes that are legal */
	struct scales_histogram_config ok[] = {
		{ UINT64_MAX, 10, 0, 0 },
		{ UINT64_MAX, 5, 32, 1e-300 },
		{ 64, 5, 0, 1e300 },
	};
	char path[32];
	for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
		snprintf(path, sizeof path, "/ok%zu", i);
		scales_histogram h;
		int rc = scales_histogram_get(reg, path, NULL, &ok[i], &h);
		cr_expect_eq(rc, 0, "%s: %s", path, scales_strerror(rc));
		scales_histogram_record(&h, 0);
		scales_histogram_record(&h, UINT64_MAX);
		scales_histogram_record(&h, 12345);
	}
	struct scales_snapshot *s = h_snap(reg);
	cr_expect_eq(s->n, sizeof ok / sizeof ok[0]);
	for (size_t i = 0; i < s->n; i++) {
		const struct scales_metric *m = &s->metrics[i];
		cr_expect_eq(m->side->hist.count, 3, "%s", m->path);
		cr_expect_eq(m->side->hist.min, 0, "%s", m->path);
		cr_expect_eq(m->side->hist.max, UINT64_MAX, "%s", m->path);
		struct scales_hstats st;
		scales_histo_stats(&m->side->hist, &st);
		cr_expect_eq(st.count, 3);
	}
	scales_snapshot_free(&s);
	scales_close(&reg);
}

/* -------------------------------------------------------------- states */

Test(api, state_values)
{
	scales_registry *reg = h_open("states");
	uint32_t id = 99;
	cr_expect_eq(scales_state_intern(reg, "", &id), -EINVAL);
	char v[200];
	memset(v, 'v', sizeof v);
	v[128] = '\0';
	cr_expect_eq(scales_state_intern(reg, v, &id), -EINVAL, "128 bytes");
	v[127] = '\0';
	cr_expect_eq(scales_state_intern(reg, v, &id), 0, "127 bytes");
	cr_expect_eq(scales_state_intern(reg, "a\nb", &id), -EINVAL);
	cr_expect_eq(scales_state_intern(reg, "a\x7f", &id), -EINVAL);
	cr_expect_eq(scales_state_intern(reg, "\x1b[31m", &id), -EINVAL);

	scales_state st;
	cr_assert_eq(scales_state_get(reg, "/st", NULL, &st), 0);
	cr_expect_eq(scales_state_set_str(&st, "\t"), -EINVAL);
	cr_expect_eq(scales_state_set_str(&st, NULL), -EINVAL);
	cr_expect_eq(scales_state_set_str(&st, "ok"), 0);
	struct scales_snapshot *s = h_snap(reg);
	cr_expect_str_eq(h_find(s, "/st")->v.state, "ok");
	scales_snapshot_free(&s);
	scales_close(&reg);
}

/* ------------------------------------------------------------- retire */

Test(api, retire_errors)
{
	scales_registry *reg = h_open("retire");
	cr_expect_eq(scales_retire(reg, "/nope"), -ENOENT);
	cr_expect_eq(scales_retire(reg, "bad path"), -ENOENT);
	scales_counter c;
	cr_assert_eq(scales_counter_get(reg, "/r", NULL, &c), 0);
	cr_expect_eq(scales_retire(reg, "/r"), 0);
	cr_expect_eq(scales_retire(reg, "/r"), -ENOENT);
	struct scales_snapshot *s = h_snap(reg);
	cr_expect_eq(s->n, 0);
	scales_snapshot_free(&s);
	scales_close(&reg);
}

/* ----------------------------------------------------------- full segment */

Test(api, full_segment_gives_sinks_and_counts_refusals)
{
	struct scales_options o;
	h_small_opts(&o, "full");
	o.max_entries = 4;
	scales_registry *reg = NULL;
	cr_assert_eq(scales_open(&o, &reg), 0);
	char path[32];
	int ok = 0, full = 0;
	for (int i = 0; i < 40; i++) {
		snprintf(path, sizeof path, "/f%d", i);
		scales_counter c;
		int rc = scales_counter_get(reg, path, NULL, &c);
		poke_counter(&c);
		if (rc == 0)
			ok++;
		else if (rc == SCALES_E_FULL)
			full++;
		else
			cr_expect_fail("%s: %s", path, scales_strerror(rc));
	}
	/* the directory is page-rounded: at least 4 entries fit */
	cr_expect_geq(ok, 4);
	cr_expect_eq(ok + full, 40);
	cr_expect_gt(full, 0);

	/* the string area fills up too: long help texts */
	static char help[1024];
	memset(help, 'x', sizeof help - 1);
	help[0] = 'H';
	struct scales_info info = { help, SCALES_UNIT_NONE };
	int sfull = 0;
	for (int i = 0; i < 200; i++) {
		char v[128];
		memset(v, 'v', sizeof v);
		snprintf(v, 16, "%08d", i); /* distinct strings */
		v[8] = 'v';
		v[120] = '\0';
		uint32_t id;
		int rc = scales_state_intern(reg, v, &id);
		if (rc == SCALES_E_FULL)
			sfull++;
		else
			cr_expect_eq(rc, 0, "%s", scales_strerror(rc));
	}
	cr_expect_gt(sfull, 0, "the string area never filled up");
	/* a new stat with a help text that no longer fits */
	cr_assert_eq(scales_retire(reg, "/f0"), 0);
	scales_counter c;
	cr_expect_eq(scales_counter_get(reg, "/f0", &info, &c), SCALES_E_FULL);
	poke_counter(&c);
	ok--;

	struct scales_snapshot *s = h_snap(reg);
	cr_expect_eq(s->n, (size_t)ok);
	cr_expect_geq(s->proc.refused, (uint64_t)full);
	scales_snapshot_free(&s);
	scales_close(&reg);
}

/* -------------------------------------------------------------- scopes */

Test(api, scope_errors)
{
	scales_registry *reg = h_open("scopes");
	scales_scope *s = (scales_scope *)reg; /* not NULL before the call */
	cr_expect_eq(scales_scope_root(NULL, &s, "/x"), SCALES_E_CLOSED);
	cr_expect_null(s);
	cr_expect_eq(scales_scope_root(reg, NULL, "/x"), -EINVAL);
	const char *volatile nofmt = NULL;
	cr_expect_eq(scales_scope_root(reg, &s, nofmt), -EINVAL);
	const char *bad_roots[] = { "", "x", "/", "/a/", "/a b", "/a//b" };
	for (size_t i = 0; i < sizeof bad_roots / sizeof bad_roots[0]; i++) {
		cr_expect_eq(scales_scope_root(reg, &s, "%s", bad_roots[i]),
		             SCALES_E_PATH, "[%s]", bad_roots[i]);
		cr_expect_null(s);
	}
	/* a scope path so long that no stat fits below it */
	char longp[SCALES_PATH_MAX + 1];
	memset(longp, 'a', sizeof longp);
	longp[0] = '/';
	longp[SCALES_PATH_MAX - 1] = '\0';
	cr_expect_eq(scales_scope_root(reg, &s, "%s", longp), SCALES_E_PATH);

	scales_scope *root;
	cr_assert_eq(scales_scope_root(reg, &root, "/handler"), 0);
	cr_expect_str_eq(scales_scope_path(root), "/handler");
	cr_expect_null(scales_scope_path(NULL));
	cr_expect_eq(scales_scope_child(NULL, &s, "c"), -EINVAL);
	cr_expect_null(s);
	cr_expect_eq(scales_scope_child(root, NULL, "c"), -EINVAL);
	cr_expect_eq(scales_scope_child(root, &s, "a b"), SCALES_E_PATH);
	cr_expect_eq(scales_scope_child(root, &s, "%s", ""), SCALES_E_PATH);
	cr_expect_eq(scales_scope_child(root, &s, ".."), SCALES_E_PATH);

	scales_counter c;
	cr_expect_eq(scales_scope_counter(NULL, "n", NULL, &c), -EINVAL);
	poke_counter(&c);
	cr_expect_eq(scales_scope_counter(root, NULL, NULL, &c), -EINVAL);
	poke_counter(&c);
	cr_expect_eq(scales_scope_counter(root, "a//b", NULL, &c),
	             SCALES_E_PATH);
	poke_counter(&c);
	scales_histogram h;
	struct scales_histogram_config cfg = { 0, 99, 0, 0 };
	cr_expect_eq(scales_scope_histogram(root, "h", NULL, &cfg, &h),
	             SCALES_E_CONFIG);
	poke_histogram(&h);
	cr_expect_eq(scales_scope_histogram(NULL, "h", NULL, NULL, &h),
	             -EINVAL);
	poke_histogram(&h);
	cr_expect_eq(scales_scope_gauge(root, "g", NULL, NULL), 0);

	cr_expect_eq(scales_scope_sum(NULL, "x", NULL), -EINVAL);
	cr_expect_eq(scales_scope_sum(root, NULL, NULL), -EINVAL);
	cr_expect_eq(scales_scope_sum(root, "", NULL), SCALES_E_PATH);
	cr_expect_eq(scales_scope_sum(root, "a/b", NULL), SCALES_E_PATH);
	cr_expect_eq(scales_scope_states(root, "", NULL), SCALES_E_PATH);

	cr_expect_eq(scales_scope_release(NULL), -EINVAL);
	s = NULL;
	cr_expect_eq(scales_scope_release(&s), -EINVAL);
	cr_expect_eq(scales_scope_release(&root), 0);
	cr_expect_null(root);

	struct scales_snapshot *snap = h_snap(reg);
	cr_expect_eq(snap->n, 0, "%zu metrics left", snap->n);
	scales_snapshot_free(&snap);
	scales_close(&reg);
}

struct bound {
	scales_counter requests;
	scales_histogram latency;
	scales_gauge level;
};

Test(api, bind_errors_fill_sinks)
{
	static const struct scales_stat_desc desc[] = {
		SCALES_DESC_COUNTER(struct bound, requests, "requests"),
		SCALES_DESC_HISTOGRAM(struct bound, latency,
		                      SCALES_UNIT_SECONDS, "latency"),
		SCALES_DESC_GAUGE(struct bound, level, "level"), SCALES_DESC_END
	};
	struct bound b;
	memset(&b, 0, sizeof b);
	cr_expect_eq(scales_bind(NULL, desc, &b), -EINVAL);
	poke_counter(&b.requests);
	poke_histogram(&b.latency);
	cr_assert_not_null(b.level.value);
	scales_gauge_set(&b.level, 1);

	scales_registry *reg = h_open("bind");
	scales_scope *sc;
	cr_assert_eq(scales_scope_root(reg, &sc, "/b"), 0);
	cr_expect_eq(scales_bind(sc, NULL, &b), -EINVAL);
	cr_expect_eq(scales_bind(sc, desc, NULL), -EINVAL);

	/* an unknown kind and a bad name in the middle: the rest binds */
	struct scales_stat_desc mixed[] = {
		SCALES_DESC_COUNTER(struct bound, requests, "requests"),
		{ (enum scales_stat_kind)99, SCALES_UNIT_NONE, "odd", 0, NULL,
		  NULL },
		{ SCALES_STAT_GAUGE, SCALES_UNIT_NONE, "bad name",
		  offsetof(struct bound, level), NULL, NULL },
		SCALES_DESC_HISTOGRAM(struct bound, latency,
		                      SCALES_UNIT_SECONDS, "latency"),
		SCALES_DESC_END
	};
	memset(&b, 0, sizeof b);
	cr_expect_eq(scales_bind(sc, mixed, &b), -EINVAL);
	scales_counter_add(&b.requests, 3);
	scales_histogram_record(&b.latency, 1000);
	scales_gauge_set(&b.level, 9); /* a sink */
	struct scales_snapshot *s = h_snap(reg);
	cr_expect_eq(s->n, 2);
	cr_expect_eq(h_find(s, "/b/requests")->v.u64, 3);
	cr_expect_eq(h_find(s, "/b/latency")->side->hist.count, 1);
	scales_snapshot_free(&s);
	scales_scope_release(&sc);
	scales_close(&reg);
}

/* The descriptor table's growth rule (scales.h, docs/api.md): a table is
 * walked with the caller's struct size. */

/* The 0.1 layout, as a program built against that header has it. */
struct desc_0_1 {
	enum scales_stat_kind kind;
	enum scales_unit unit;
	const char *name;
	size_t offset;
	const char *help;
	const struct scales_histogram_config *histogram;
};

/* A later header's struct: a field appended. */
struct desc_grown {
	struct scales_stat_desc d;
	uint64_t future; /* 0: as before */
};

Test(api, bind_desc_sizes)
{
	cr_assert_eq(sizeof(struct desc_0_1), SCALES_STAT_DESC_SIZE_0_1);
	scales_registry *reg = h_open("bindsize");
	scales_scope *sc;
	cr_assert_eq(scales_scope_root(reg, &sc, "/z"), 0);

	/* an older program: the scales_bind symbol, 0.1 entries */
	static const struct desc_0_1 old[] = {
		{ SCALES_STAT_COUNTER, SCALES_UNIT_NONE, "old_requests",
		  offsetof(struct bound, requests), NULL, NULL },
		{ SCALES_STAT_GAUGE, SCALES_UNIT_NONE, "old_level",
		  offsetof(struct bound, level), NULL, NULL },
		{ SCALES_STAT_END, SCALES_UNIT_NONE, NULL, 0, NULL, NULL },
	};
	struct bound b;
	memset(&b, 0, sizeof b);
	cr_expect_eq((scales_bind)(sc, (const struct scales_stat_desc *)old,
	                           &b),
	             0);
	scales_counter_add(&b.requests, 5);
	scales_gauge_set(&b.level, -2);

	/* a newer program: larger entries, the new field zero, then set */
	static const struct desc_grown grown[] = {
		{ SCALES_DESC_COUNTER(struct bound, requests, "help"), 0 },
		{ SCALES_DESC_HISTOGRAM(struct bound, latency,
		                        SCALES_UNIT_SECONDS, "help"),
		  0 },
		{ SCALES_DESC_GAUGE(struct bound, level, "help"), 7 },
		{ SCALES_DESC_END, 0 },
	};
	struct bound g;
	memset(&g, 0, sizeof g);
	cr_expect_eq(scales_bind_sized(sc, &grown[0].d, sizeof grown[0], &g),
	             -ENOTSUP);
	scales_counter_add(&g.requests, 11);
	scales_histogram_record(&g.latency, 1000);
	cr_assert_not_null(g.level.value); /* refused: a sink */
	scales_gauge_set(&g.level, 9);

	/* sizes no layout has */
	cr_expect_eq(scales_bind_sized(sc, &grown[0].d, 8, &g), -EINVAL);
	cr_expect_eq(scales_bind_sized(sc, &grown[0].d,
	                               SCALES_STAT_DESC_SIZE_0_1 + 4, &g),
	             -EINVAL);

	struct scales_snapshot *s = h_snap(reg);
	cr_expect_eq(s->n, 4);
	cr_expect_eq(h_find(s, "/z/old_requests")->v.u64, 5);
	cr_expect_eq(h_find(s, "/z/old_level")->v.i64, -2);
	cr_expect_eq(h_find(s, "/z/requests")->v.u64, 11);
	cr_expect_eq(h_find(s, "/z/latency")->side->hist.count, 1);
	cr_expect_null(scales_snapshot_find(s, "/z/level"));
	scales_snapshot_free(&s);
	scales_scope_release(&sc);
	scales_close(&reg);
}

/* --------------------------------------------------------------- dicts */

Test(api, dict_errors)
{
	scales_registry *reg = h_open("dicts");
	scales_dict d;
	cr_expect_eq(scales_dict_get(NULL, "/d", NULL, &d), SCALES_E_CLOSED);
	cr_expect_eq(scales_dict_add(&d, "k", 1), -EINVAL);
	cr_expect_eq(scales_dict_get(reg, "/d", NULL, NULL), -EINVAL);
	cr_expect_eq(scales_dict_get(reg, NULL, NULL, &d), -EINVAL);
	cr_expect_eq(scales_scope_dict(NULL, "d", NULL, &d), -EINVAL);

	cr_assert_eq(scales_dict_get(reg, "/d", NULL, &d), 0);
	scales_counter c;
	cr_expect_eq(scales_dict_key(NULL, "k", &c), -EINVAL);
	poke_counter(&c);
	cr_expect_eq(scales_dict_key(&d, NULL, &c), -EINVAL);
	poke_counter(&c);
	cr_expect_eq(scales_dict_key(&d, "k", NULL), -EINVAL);
	cr_expect_eq(scales_dict_add(&d, "200", 2), 0);
	/* not UTF-8: a lone continuation, an overlong "/", a surrogate,
	 * past U+10FFFF, a truncated sequence */
	const char *bad_keys[] = { "\x80", "a\xc0\xaf", "\xed\xa0\x80",
		                   "\xf4\x90\x80\x80", "\xe6\x97" };
	for (size_t i = 0; i < sizeof bad_keys / sizeof bad_keys[0]; i++) {
		cr_expect_eq(scales_dict_key(&d, bad_keys[i], &c),
		             SCALES_E_KEY_UTF8, "key %zu", i);
		poke_counter(&c);
		cr_expect_eq(scales_dict_add(&d, bad_keys[i], 1),
		             SCALES_E_KEY_UTF8);
	}
	/* "/d/" + 252 bytes is the 255-byte path; one more is too long, and
	 * so are 85 bytes that each escape to 3 */
	char k[300];
	memset(k, 'k', 253);
	k[253] = 0;
	cr_expect_eq(scales_dict_add(&d, k, 1), SCALES_E_KEY_LONG);
	k[252] = 0;
	cr_expect_eq(scales_dict_add(&d, k, 1), 0);
	memset(k, ' ', 85);
	k[85] = 0;
	cr_expect_eq(scales_dict_key(&d, k, &c), SCALES_E_KEY_LONG);
	poke_counter(&c);
	k[84] = 0; /* 252 escaped bytes */
	cr_expect_eq(scales_dict_add(&d, k, 1), 0);
	cr_expect_str_neq(scales_strerror(SCALES_E_KEY_LONG), "unknown error");
	cr_expect_str_neq(scales_strerror(SCALES_E_KEY_UTF8), "unknown error");
	cr_expect_eq(scales_dict_add(&d, "404", 1), 0);
	struct scales_snapshot *s = h_snap(reg);
	const struct scales_metric *m = h_find(s, "/d");
	cr_expect_eq(m->kind, SCALES_KIND_DICT);
	cr_expect_eq(m->v.u64, 5, "refusals change no count");
	cr_expect_eq(h_find(s, "/d/200")->v.u64, 2);
	cr_expect_eq(s->n, 5, "%zu metrics", s->n);
	scales_snapshot_free(&s);
	scales_close(&reg);
}

/* ------------------------------------------------------ the reader API */

Test(api, reader_null_safety)
{
	char err[256] = "";
	scales_segment *seg = (scales_segment *)err;
	cr_expect_eq(scales_segment_open(NULL, 0, &seg, err, sizeof err),
	             -EINVAL);
	cr_expect_null(seg);
	cr_expect(strlen(err) > 0);
	cr_expect_eq(scales_segment_open(NULL, 0, &seg, NULL, 0), -EINVAL);
	scales_segment_close(NULL);
	seg = NULL;
	scales_segment_close(&seg);
	cr_expect_null(scales_segment_path(NULL));
	scales_snapshot_free(NULL);
	struct scales_snapshot *snap = NULL;
	scales_snapshot_free(&snap);
	scales_seg_list_free(NULL);
	scales_rates_free(NULL);
	scales_rates *r = NULL;
	scales_rates_free(&r);
	struct scales_snapshot *out = NULL;
	cr_expect_eq(scales_snapshot_merge(NULL, 0, &out), -EINVAL);
	struct scales_buf b = { 0 };
	scales_buf_free(&b);
}

Test(api, reader_missing_files)
{
	char err[256] = "";
	scales_segment *seg = NULL;
	char p[PATH_MAX + 32];
	snprintf(p, sizeof p, "%s/none.1.1.seg", dir);
	cr_expect_eq(scales_segment_open(p, 0, &seg, err, sizeof err), -ENOENT);
	cr_expect(strstr(err, p) != NULL, "message [%s] names the path", err);
	snprintf(p, sizeof p, "%s/no-such-dir", dir);
	struct scales_seg_list l;
	err[0] = '\0';
	cr_expect_eq(scales_discover(p, NULL, NULL, &l, err, sizeof err),
	             -ENOENT);
	cr_expect_eq(l.n, 0);
	cr_expect(strlen(err) > 0);
	cr_expect_eq(scales_segment_open_pid(dir, 12345, NULL, NULL, &seg, err,
	                                     sizeof err),
	             SCALES_RE_NOT_FOUND);
	cr_expect_null(seg);
}

Test(api, reader_histogram_edge_inputs)
{
	struct scales_histo h;
	memset(&h, 0, sizeof h);
	h.sub_bits = 5;
	h.scale = 1;
	struct scales_hstats st;
	scales_histo_stats(&h, &st); /* no buckets at all */
	cr_expect_eq(st.count, 0);
	cr_expect(isnan(st.p50));
	cr_expect(isnan(scales_histo_quantile(&h, 0.5)));

	uint64_t buckets[64] = { 0 };
	buckets[3] = 10;
	h.nbuckets = 64;
	h.buckets = buckets;
	h.count = 10;
	h.sum = 30;
	h.min = 3;
	h.max = 3;
	double qs[] = { 0.0, -1.0, 1.0, 2.0, NAN, INFINITY, 1e-300 };
	for (size_t i = 0; i < sizeof qs / sizeof qs[0]; i++)
		(void)scales_histo_quantile(&h, qs[i]); /* must not crash */
	cr_expect_eq(scales_histo_quantile(&h, 1.0), 3.0);
	uint64_t lo, width;
	scales_histo_bucket_range(&h, UINT32_MAX, &lo, &width);
	scales_histo_bucket_range(&h, 63, &lo, &width);

	/* a delta between histograms of different shapes is refused */
	struct scales_histo other = h, out;
	other.sub_bits = 6;
	uint64_t dbuf[64];
	cr_expect_eq(scales_histo_delta(&h, &other, dbuf, &out), -EINVAL);
	/* a bucket that went down (a reset) is refused */
	uint64_t fewer[64] = { 0 };
	other = h;
	other.buckets = fewer;
	cr_expect_eq(scales_histo_delta(&h, &other, dbuf, &out), -EINVAL);
}
