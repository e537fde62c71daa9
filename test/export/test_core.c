/* SPDX-License-Identifier: MIT */
/*
 * test_core.c: unit tests of scales-export's core (suite 'export'):
 * naming and sanitising, value formatting, allow/forbid rules,
 * per-interval histograms, the renderer (names, merging, per-process,
 * rates, meters), the point buffer and the config file.
 *
 * Segments are laid out with test/reader's segbuild, written to a fresh
 * $SCALES_DIR and read back through the reader library.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "export.h"
#include "segbuild.h"

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

TestSuite(naming, .init = setup, .fini = teardown);
TestSuite(values);
TestSuite(rules);
TestSuite(hist, .init = setup, .fini = teardown);
TestSuite(render, .init = setup, .fini = teardown);
TestSuite(inject, .init = setup, .fini = teardown);
TestSuite(pointbuf);
TestSuite(config, .init = setup, .fini = teardown);

/* ------------------------------------------------------------- helpers */

static const char *comp(const char *in, size_t n)
{
	static char out[1024];
	gname_component(out, in, n);
	return out;
}
#define COMP(s) comp(s, sizeof(s) - 1)

/* Strict UTF-8 check plus "no code point Python's str.split() or carbon's
 * tag parser would act on". */
static bool line_name_safe(const char *s, size_t n, char *why, size_t wl)
{
	const unsigned char *p = (const unsigned char *)s;
	for (size_t i = 0; i < n;) {
		unsigned c = p[i];
		if (c < 0x80) {
			if (c <= 0x20 || c == 0x7f || c == ';' || c == '=') {
				snprintf(why, wl, "byte 0x%02x at %zu", c, i);
				return false;
			}
			i++;
			continue;
		}
		size_t len = c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : c >= 0xc2 ? 2 : 0;
		if (!len || i + len > n) {
			snprintf(why, wl, "bad UTF-8 lead 0x%02x at %zu", c, i);
			return false;
		}
		uint32_t cp = c & (len == 2 ? 0x1f : len == 3 ? 0x0f : 0x07);
		for (size_t k = 1; k < len; k++) {
			if ((p[i + k] & 0xc0) != 0x80) {
				snprintf(why, wl, "bad continuation at %zu",
				         i + k);
				return false;
			}
			cp = cp << 6 | (p[i + k] & 0x3f);
		}
		uint32_t min = len == 2 ? 0x80 : len == 3 ? 0x800 : 0x10000;
		if (cp < min || cp > 0x10ffff ||
		    (cp >= 0xd800 && cp <= 0xdfff) ||
		    (cp >= 0x80 && cp <= 0xa0) || cp == 0x1680 ||
		    (cp >= 0x2000 && cp <= 0x200a) || cp == 0x2028 ||
		    cp == 0x2029 || cp == 0x202f || cp == 0x205f ||
		    cp == 0x3000 || cp == 0xfeff) {
			snprintf(why, wl, "code point U+%04X at %zu", cp, i);
			return false;
		}
		i += len;
	}
	return true;
}

/* Every line of buf is "name value ts": returns the number of lines;
 * fails the test on any malformed one. */
static size_t check_lines(const char *buf, size_t len, const char *ts)
{
	size_t lines = 0;
	const char *p = buf, *end = buf + len;
	cr_assert(len == 0 || buf[len - 1] == '\n', "no final newline");
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		cr_assert_not_null(nl);
		const char *sp1 = memchr(p, ' ', (size_t)(nl - p));
		cr_assert_not_null(sp1, "no space in line %zu", lines);
		const char *sp2 = memchr(sp1 + 1, ' ', (size_t)(nl - sp1 - 1));
		cr_assert_not_null(sp2, "one space only in line %zu", lines);
		cr_assert_null(memchr(sp2 + 1, ' ', (size_t)(nl - sp2 - 1)),
		               "three fields expected in line %zu", lines);
		char why[128];
		cr_assert(line_name_safe(p, (size_t)(sp1 - p), why,
		                         sizeof(why)),
		          "line %zu: unsafe name: %s: %.*s", lines, why,
		          (int)(sp1 - p), p);
		/* value: a number */
		char v[64];
		size_t vl = (size_t)(sp2 - sp1 - 1);
		cr_assert(vl > 0 && vl < sizeof(v));
		memcpy(v, sp1 + 1, vl);
		v[vl] = 0;
		char *e;
		double d = strtod(v, &e);
		cr_assert(*e == 0 && isfinite(d), "bad value '%s'", v);
		cr_assert(strlen(ts) == (size_t)(nl - sp2 - 1) &&
		              !memcmp(sp2 + 1, ts, strlen(ts)),
		          "bad timestamp in line %zu", lines);
		lines++;
		p = nl + 1;
	}
	return lines;
}

/* The value of the line for name in buf, as a string (static), or NULL. */
static const char *value_of(const char *buf, const char *name)
{
	static char v[64];
	size_t nl = strlen(name);
	for (const char *p = buf; p && *p;) {
		if (!strncmp(p, name, nl) && p[nl] == ' ') {
			const char *s = p + nl + 1;
			const char *e = strchr(s, ' ');
			size_t l = (size_t)(e - s);
			memcpy(v, s, l);
			v[l] = 0;
			return v;
		}
		p = strchr(p, '\n');
		if (p)
			p++;
	}
	return NULL;
}

static struct scales_snapshot *snap_of(struct segbuild *b)
{
	char path[4096];
	cr_assert_eq(sb_write(b, dir, path, sizeof(path)), 0);
	scales_segment *seg;
	char err[256];
	int rc = scales_segment_open(path, 0, &seg, err, sizeof(err));
	cr_assert_eq(rc, 0, "%s", err);
	struct scales_snapshot *s;
	rc = scales_snapshot_take(seg, 0, &s, err, sizeof(err));
	cr_assert_eq(rc, 0, "%s", err);
	scales_segment_close(&seg);
	return s;
}

/* A collector grouping as c says (fed the caller's snapshots). */
static scales_collector *collector_for(const struct export_config *c)
{
	struct scales_collector_options o = {
		.flags = export_collect_flags(c),
		.tick_ns = SCALES_METER_EVERY_MARK,
	};
	scales_collector *col = NULL;
	cr_assert_eq(scales_collector_new(&o, &col), 0);
	return col;
}

/* One collection of s (taken: set to NULL) rendered once, as --once. */
static char *render1(struct scales_snapshot **s, size_t n,
                     const struct export_config *c, int64_t ts)
{
	struct scales_buf b = { 0 };
	struct export_render_stats st = { 0 };
	scales_collector *col = collector_for(c);
	cr_assert_eq(scales_collector_sample_snapshots(col, s, n), 0);
	cr_assert_eq(graphite_render(&b, col, c, ts, &st), 0);
	scales_collector_free(&col);
	char tss[32];
	snprintf(tss, sizeof(tss), "%lld", (long long)ts);
	cr_assert_eq(check_lines(b.data ? b.data : "", b.len, tss), st.points);
	return b.data ? b.data : strdup("");
}

/* ------------------------------------------------------------- naming */

Test(naming, dots_spaces_and_percent_are_escaped)
{
	cr_assert_str_eq(COMP("a.b c"), "a%2Eb%20c");
	cr_assert_str_eq(COMP("..."), "%2E%2E%2E");
	cr_assert_str_eq(COMP("thread-0"), "thread-0");
	cr_assert_str_eq(COMP("A_z:9@+%"), "A_z:9@+%25");
	cr_assert_str_eq(COMP("a-b"), "a-b");
}

Test(naming, protocol_and_tag_bytes_are_escaped)
{
	cr_assert_str_eq(COMP("a\nb"), "a%0Ab");
	cr_assert_str_eq(COMP("a\r\n\tb"), "a%0D%0A%09b");
	cr_assert_str_eq(COMP("k;tag=v"), "k%3Btag%3Dv");
	cr_assert_str_eq(COMP("a/b"), "a%2Fb");
	cr_assert_str_eq(COMP("\x01\x1c\x1f\x7f"), "%01%1C%1F%7F");
	cr_assert_str_eq(comp("a\0b", 3), "a%00b");
	cr_assert_str_eq(COMP(""), "%00");
}

Test(naming, utf8_kept_invalid_bytes_escaped)
{
	cr_assert_str_eq(COMP("caf\xc3\xa9"), "caf\xc3\xa9"); /* é */
	cr_assert_str_eq(COMP("\xe6\x97\xa5\xe6\x9c\xac"),
	                 "\xe6\x97\xa5\xe6\x9c\xac");
	cr_assert_str_eq(COMP("\xf0\x9f\x98\x80"),
	                 "\xf0\x9f\x98\x80"); /* emoji */
	cr_assert_str_eq(COMP("a\xff"
	                      "b"),
	                 "a%FFb");
	cr_assert_str_eq(COMP("\xc3"), "%C3");               /* truncated */
	cr_assert_str_eq(COMP("\xc0\xaf"), "%C0%AF");        /* overlong */
	cr_assert_str_eq(COMP("\xe0\x80\xae"), "%E0%80%AE"); /* overlong */
	cr_assert_str_eq(COMP("\xed\xa0\x80"), "%ED%A0%80"); /* surrogate */
	cr_assert_str_eq(COMP("\xf4\x90\x80\x80"), "%F4%90%80%80"); /* big */
	cr_assert_str_eq(COMP("\x80x"), "%80x"); /* stray byte */
}

Test(naming, unicode_white_space_and_c1_escaped)
{
	cr_assert_str_eq(COMP("a\xc2\x85"
	                      "b"),
	                 "a%C2%85b"); /* NEL */
	cr_assert_str_eq(COMP("a\xc2\xa0"
	                      "b"),
	                 "a%C2%A0b"); /* NBSP */
	cr_assert_str_eq(COMP("a\xe2\x80\xa8"
	                      "b"),
	                 "a%E2%80%A8b"); /* LINE SEP */
	cr_assert_str_eq(COMP("a\xe3\x80\x80"
	                      "b"),
	                 "a%E3%80%80b"); /* IDEO SPACE */
	cr_assert_str_eq(COMP("a\xef\xbb\xbf"
	                      "b"),
	                 "a%EF%BB%BFb"); /* BOM */
}

/* Decodes a component ("%XX" -> the byte); the inverse of the mapping. */
static size_t uncomp(const char *in, char *out)
{
	size_t w = 0;
	for (const char *p = in; *p;) {
		if (*p == '%') {
			unsigned v;
			cr_assert_eq(sscanf(p + 1, "%2X", &v), 1);
			out[w++] = (char)v;
			p += 3;
		} else {
			out[w++] = *p++;
		}
	}
	return w;
}

Test(naming, random_bytes_always_give_a_safe_component)
{
	srand(42);
	char in[64], out[200], why[128], back[64];
	for (int round = 0; round < 20000; round++) {
		size_t n = (size_t)(rand() % 40);
		for (size_t i = 0; i < n; i++)
			in[i] = (char)(rand() & 0xff);
		size_t w = gname_component(out, in, n);
		cr_assert(w >= 1 && w <= 3 * (n ? n : 1));
		cr_assert_eq(strlen(out), w);
		cr_assert(line_name_safe(out, w, why, sizeof(why)), "%s", why);
		cr_assert_null(memchr(out, '.', w));
		cr_assert_null(memchr(out, '/', w));
		/* one-to-one: it decodes back to the input */
		if (n) {
			cr_assert_eq(uncomp(out, back), n);
			cr_assert_eq(memcmp(back, in, n), 0);
		}
	}
}

Test(naming, paths_and_prefixes)
{
	char out[512];
	gname_path(out, "/web/errors", false);
	cr_assert_str_eq(out, "web.errors");
	gname_path(out, "/processor/thread-0/finished", false);
	cr_assert_str_eq(out, "processor.thread-0.finished");
	gname_path(out, "/a.b/c d", false);
	cr_assert_str_eq(out, "a%2Eb.c%20d");

	cr_assert_eq(gname_prefix(out, sizeof(out), "servers.web1"), 13);
	cr_assert_str_eq(out, "servers.web1.");
	gname_prefix(out, sizeof(out), "servers..web1.");
	cr_assert_str_eq(out, "servers.web1.");
	gname_prefix(out, sizeof(out), "");
	cr_assert_str_eq(out, "");
	gname_prefix(out, sizeof(out), "x y;z=\n");
	cr_assert_str_eq(out, "x%20y%3Bz%3D%0A.");
	cr_assert_eq(gname_prefix(out, 4, "longer.than.four"), -1);

	/* default: the host name, lower-cased */
	char host[256] = "";
	gethostname(host, sizeof(host) - 1);
	gname_prefix(out, sizeof(out), NULL);
	cr_assert(strlen(out) > 1 && out[strlen(out) - 1] == '.');
	for (char *p = out; *p; p++)
		cr_assert(!(*p >= 'A' && *p <= 'Z'));
	cr_assert_eq(strncasecmp(out, host, strlen(out) - 1), 0);
}

/* ------------------------------------------------------------- values */

static const char *fu(uint64_t v)
{
	static char b[32];
	scales_format_u64(b, v);
	return b;
}

static const char *fi(int64_t v)
{
	static char b[32];
	scales_format_i64(b, v);
	return b;
}

static const char *fd(double v)
{
	static char b[32];
	gfmt_double(b, v);
	return b;
}

Test(values, integers_are_exact)
{
	cr_assert_str_eq(fu(0), "0");
	cr_assert_str_eq(fu(7), "7");
	cr_assert_str_eq(fu(1000), "1000");
	cr_assert_str_eq(fu(UINT64_MAX), "18446744073709551615");
	cr_assert_str_eq(fi(-1), "-1");
	cr_assert_str_eq(fi(INT64_MIN), "-9223372036854775808");
	cr_assert_str_eq(fi(INT64_MAX), "9223372036854775807");
}

Test(values, doubles_are_shortest_round_trip)
{
	cr_assert_str_eq(fd(0.1), "0.1");
	cr_assert_str_eq(fd(0.05), "0.05");
	cr_assert_str_eq(fd(3.0), "3");
	cr_assert_str_eq(fd(-2.5), "-2.5");
	cr_assert_str_eq(fd(1.0 / 3), "0.3333333333333333");
	cr_assert_str_eq(fd(2.0 / 3), "0.6666666666666666");
	cr_assert_str_eq(fd(1795626000.25), "1795626000.25");
	cr_assert_str_eq(fd(1e300), "1e+300");
	cr_assert_str_eq(fd(0.1 + 0.2), "0.30000000000000004");
	/* the seed's "%2.2f" bug must not come back */
	cr_assert_str_eq(fd(0.001234), "0.001234");
	cr_assert_str_eq(fd(123456.789012), "123456.789012");
	char b[32];
	cr_assert_eq(gfmt_double(b, NAN), 0);
	cr_assert_eq(gfmt_double(b, INFINITY), 0);
	cr_assert_eq(gfmt_double(b, -INFINITY), 0);
}

Test(values, random_doubles_read_back_bit_exact)
{
	srand(7);
	for (int i = 0; i < 100000; i++) {
		uint64_t bits = ((uint64_t)rand() << 42) ^
		                ((uint64_t)rand() << 21) ^ (uint64_t)rand();
		double v;
		memcpy(&v, &bits, sizeof(v));
		if (!isfinite(v))
			continue;
		char b[32];
		int n = gfmt_double(b, v);
		cr_assert(n > 0 && n < 32);
		double r = strtod(b, NULL);
		cr_assert(memcmp(&r, &v, sizeof(v)) == 0 || (r == 0 && v == 0),
		          "%s does not read back", b);
		cr_assert(n <= 24, "%s is not short", b);
	}
}

/* -------------------------------------------------------------- rules */

Test(rules, default_allows_everything)
{
	struct export_rules r = { 0 };
	cr_assert(export_rules_allowed(&r, "/web/errors"));
	cr_assert(export_rules_allowed(NULL, "/web/errors"));
}

Test(rules, newest_matching_rule_wins)
{
	struct export_rules r = { 0 };
	export_rules_add(&r, false, "/web/*");
	export_rules_add(&r, true, "/web/errors");
	cr_assert(export_rules_allowed(&r, "/web/errors"));
	cr_assert_not(export_rules_allowed(&r, "/web/success"));
	cr_assert(export_rules_allowed(&r, "/handler/requests"));
	export_rules_free(&r);

	export_rules_add(&r, true, "/web/errors");
	export_rules_add(&r, false, "/web/*");
	cr_assert_not(export_rules_allowed(&r, "/web/errors"));
	export_rules_free(&r);
}

Test(rules, star_matches_slash_and_seed_style_globs)
{
	struct export_rules r = { 0 };
	export_rules_add(&r, false, "*");
	export_rules_add(&r, true, "processor/*/finished");
	cr_assert(export_rules_allowed(&r, "/processor/thread-0/finished"));
	cr_assert_not(export_rules_allowed(&r, "/processor/finished"));
	cr_assert_not(export_rules_allowed(&r, "/web/errors"));
	export_rules_add(&r, true, "/web*");
	cr_assert(export_rules_allowed(&r, "/web/errors"));
	cr_assert(export_rules_allowed(&r, "/web/a/b/c"));
	export_rules_free(&r);
}

/* ---------------------------------------------------------- histograms */

#define NB 1024

Test(hist, interval_holds_only_the_new_values)
{
	/* the collector's interval, which graphite_render() sends */
	struct segbuild *b = sb_new("h", 10, 20, NULL);
	uint32_t e = sb_histogram(b, "/lat", 5, 0, NB, 1e-9, 1);
	for (int i = 0; i < 1000; i++)
		sb_hist_record(b, e, 0, 1000000); /* 1 ms */
	struct export_config cfg = { .prefix = "" };
	scales_collector *col = collector_for(&cfg);
	struct scales_snapshot *a = snap_of(b);
	cr_assert_eq(scales_collector_sample_snapshots(col, &a, 1), 0);
	size_t n;
	const struct scales_group *g = scales_collector_groups(col, &n);
	struct scales_histo d;
	double secs;
	/* no previous collection: none (--once sends everything) */
	cr_assert_eq(scales_collector_interval(col, g, 0, &d, &secs), -EAGAIN);
	for (int i = 1; i <= 100; i++)
		sb_hist_record(b, e, 1, (uint64_t)i * 1000000); /* 1..100 ms */
	struct scales_snapshot *c = snap_of(b);
	cr_assert_eq(scales_collector_sample_snapshots(col, &c, 1), 0);
	g = scales_collector_groups(col, &n);
	cr_assert_eq(scales_collector_interval(col, g, 0, &d, &secs), 0);
	struct scales_hstats s, all;
	scales_histo_stats(&d, &s);
	scales_histo_stats(&g->cur->metrics[0].side->hist, &all);
	cr_assert_eq(s.count, 100);
	cr_assert_float_eq(s.sum, 5.05, 1e-12);
	cr_assert_float_eq(s.mean, 0.0505, 1e-12);
	cr_assert(fabs(s.p50 - 0.050) <= 0.02 * 0.050, "p50 %g", s.p50);
	cr_assert(fabs(s.max - 0.100) <= 0.02 * 0.100, "max %g", s.max);
	cr_assert(fabs(s.p99 - 0.099) <= 0.02 * 0.099, "p99 %g", s.p99);
	/* over all time the 1000 values of 1 ms dominate */
	cr_assert_eq(all.count, 1100);
	cr_assert(fabs(all.p50 - 0.001) <= 0.02 * 0.001, "p50 %g", all.p50);
	scales_collector_free(&col);
	sb_free(b);
}

Test(hist, add_rebuckets_other_layouts)
{
	struct sb_config cfg = { .stripe_size = 65536 };
	struct segbuild *b = sb_new("h", 10, 20, &cfg);
	uint32_t e1 = sb_histogram(b, "/a", 5, 0, NB, 1e-9, 1);
	uint32_t e2 = sb_histogram(b, "/b", 6, 10, NB, 1e-9, 1);
	uint32_t e3 = sb_histogram(b, "/c", 5, 0, NB, 1e-6, 1); /* us */
	for (int i = 1; i <= 100; i++) {
		sb_hist_record(b, e1, 0, (uint64_t)i * 1000000);
		sb_hist_record(b, e2, 0, (uint64_t)i * 1000000);
		sb_hist_record(b, e3, 0, (uint64_t)i * 1000);
	}
	struct scales_snapshot *s = snap_of(b);
	const struct scales_metric *m1 = scales_snapshot_find(s, "/a");
	uint64_t acc[NB] = { 0 };
	struct scales_histo h = m1->side->hist;
	h.count = h.sum = h.min = h.max = 0;
	h.buckets = acc;
	/* the reader's one histogram sum (the collector's and the merge's) */
	scales_histo_add(&h, acc, &m1->side->hist);
	scales_histo_add(&h, acc, &scales_snapshot_find(s, "/b")->side->hist);
	scales_histo_add(&h, acc, &scales_snapshot_find(s, "/c")->side->hist);
	struct scales_hstats st;
	scales_histo_stats(&h, &st);
	cr_assert_eq(st.count, 300);
	cr_assert(fabs(st.sum - 3 * 5.05) < 0.03 * 3 * 5.05, "sum %g", st.sum);
	cr_assert(fabs(st.p50 - 0.050) <= 0.03 * 0.050, "p50 %g", st.p50);
	cr_assert(fabs(st.max - 0.100) <= 0.03 * 0.100, "max %g", st.max);
	cr_assert(fabs(st.min - 0.001) <= 0.03 * 0.001, "min %g", st.min);
	scales_snapshot_free(&s);
	sb_free(b);
}

/* -------------------------------------------------------------- render */

/* The seed tour's numbers, laid out by hand. */
static struct segbuild *tour(const char *app, int32_t pid, int scale)
{
	struct segbuild *b = sb_new(app, pid, 1000 + (uint64_t)pid, NULL);
	uint32_t e = sb_counter(b, "/web/errors", NULL);
	sb_counter_add(b, e, 0, 3 * (uint64_t)scale);
	sb_counter_add(b, e, 2, 4 * (uint64_t)scale);
	e = sb_counter(b, "/web/success", NULL);
	sb_counter_add(b, e, 1, 1000 * (uint64_t)scale);
	sb_gauge(b, "/web/level", -5);
	sb_gauge_f64(b, "/web/currentTime", 1795626000.25);
	e = sb_histogram(b, "/handler/latency", 5, 0, NB, 1e-9, 1);
	for (int i = 1; i <= 100; i++)
		sb_hist_record(b, e, (uint32_t)i % 3, (uint64_t)i * 1000000);
	sb_agg(b, "/processor/finished", 6, "finished");
	sb_agg(b, "/processor/state", 7, "state");
	const char *states[] = { "waitingForTask", "waitingForTask",
		                 "performingTask" };
	for (int t = 0; t < 3; t++) {
		char p[64];
		snprintf(p, sizeof(p), "/processor/thread-%d/finished", t);
		e = sb_counter(b, p, NULL);
		sb_counter_add(b, e, 0, 10 * (uint64_t)(t + 1));
		snprintf(p, sizeof(p), "/processor/thread-%d/state", t);
		sb_state(b, p, states[t]);
	}
	return b;
}

Test(render, seed_tour_names_and_exact_values)
{
	struct segbuild *b = tour("seed-tour", 4242, 1);
	struct scales_snapshot *s = snap_of(b);
	struct export_config c = { .prefix = "host." };
	char *out = render1(&s, 1, &c, 1795626000);
	cr_assert_str_eq(value_of(out, "host.seed-tour.web.errors"), "7");
	cr_assert_str_eq(value_of(out, "host.seed-tour.web.success"), "1000");
	cr_assert_str_eq(value_of(out, "host.seed-tour.web.level"), "-5");
	cr_assert_str_eq(value_of(out, "host.seed-tour.web.currentTime"),
	                 "1795626000.25");
	cr_assert_str_eq(value_of(out, "host.seed-tour.processor.finished"),
	                 "60");
	cr_assert_str_eq(value_of(out,
	                          "host.seed-tour.processor.thread-1.finished"),
	                 "20");
	cr_assert_str_eq(
	    value_of(out, "host.seed-tour.processor.state.~waitingForTask"),
	    "2");
	cr_assert_str_eq(
	    value_of(out, "host.seed-tour.processor.state.~performingTask"),
	    "1");
	cr_assert_str_eq(value_of(out, "host.seed-tour.processor.thread-2."
	                               "state.~performingTask"),
	                 "1");
	const char *h = "host.seed-tour.handler.latency.";
	char n[128];
	snprintf(n, sizeof(n), "%scount", h);
	cr_assert_str_eq(value_of(out, n), "100");
	snprintf(n, sizeof(n), "%stotal_count", h);
	cr_assert_str_eq(value_of(out, n), "100");
	snprintf(n, sizeof(n), "%smin", h);
	cr_assert_str_eq(value_of(out, n), "0.001");
	snprintf(n, sizeof(n), "%smax", h);
	cr_assert_str_eq(value_of(out, n), "0.1");
	snprintf(n, sizeof(n), "%smean", h);
	cr_assert_str_eq(value_of(out, n), "0.0505");
	const char *stats[] = { "sum", "stddev", "p50", "p75",
		                "p95", "p98",    "p99", "p999" };
	for (size_t i = 0; i < sizeof(stats) / sizeof(*stats); i++) {
		snprintf(n, sizeof(n), "%s%s", h, stats[i]);
		cr_assert_not_null(value_of(out, n), "%s missing", n);
	}
	snprintf(n, sizeof(n), "%sp50", h);
	cr_assert(fabs(atof(value_of(out, n)) - 0.05) <= 0.001);
	/* a state is never a number: no line for the state itself */
	cr_assert_null(
	    value_of(out, "host.seed-tour.processor.thread-0.state"));
	/* no rates without --rates and a previous push */
	cr_assert_null(strstr(out, ".rate "));
	free(out);
	scales_snapshot_free(&s);
	sb_free(b);
}

Test(render, processes_of_one_app_are_merged)
{
	struct segbuild *b1 = tour("web", 100, 1), *b2 = tour("web", 200, 2);
	struct segbuild *b3 = tour("other", 300, 5);
	struct scales_snapshot *s[3] = { snap_of(b1), snap_of(b2),
		                         snap_of(b3) };
	struct export_config c = { .prefix = "" };
	char *out = render1(s, 3, &c, 60);
	cr_assert_str_eq(value_of(out, "web.web.errors"), "21");
	cr_assert_str_eq(value_of(out, "web.web.success"), "3000");
	cr_assert_str_eq(value_of(out, "web.processor.finished"), "120");
	cr_assert_str_eq(value_of(out, "web.handler.latency.count"), "200");
	cr_assert_str_eq(value_of(out, "web.web.level"), "-10");
	cr_assert_str_eq(value_of(out, "web.processor.thread-0.state."
	                               "~waitingForTask"),
	                 "2");
	cr_assert_str_eq(value_of(out, "other.web.errors"), "35");
	cr_assert_null(value_of(out, "web.100.web.errors"));
	free(out);

	c.per_process = true;
	s[0] = snap_of(b1);
	s[1] = snap_of(b2);
	s[2] = snap_of(b3);
	out = render1(s, 3, &c, 60);
	cr_assert_str_eq(value_of(out, "web.100.web.errors"), "7");
	cr_assert_str_eq(value_of(out, "web.200.web.errors"), "14");
	cr_assert_str_eq(value_of(out, "other.300.web.success"), "5000");
	cr_assert_null(value_of(out, "web.web.errors"));
	free(out);
	for (int i = 0; i < 3; i++)
		scales_snapshot_free(&s[i]);
	sb_free(b1);
	sb_free(b2);
	sb_free(b3);
}

/* --seed-names: the seed's quantile names and, with one app, no app
 * component, so that dashboards built on the Python library keep working;
 * a stat named like a seed statistic gets a "_" then (one-to-one), and
 * keeps its name by default. */
Test(render, seed_names)
{
	struct segbuild *b1 = tour("web", 100, 1), *b2 = tour("web", 200, 2);
	struct segbuild *b3 = tour("other", 300, 5);
	sb_counter(b1, "/handler/latency/median", NULL);
	sb_counter(b1, "/handler/latency/p50", NULL);
	struct scales_snapshot *s[3] = { snap_of(b1), snap_of(b2),
		                         snap_of(b3) };
	struct export_config c = { .prefix = "my.", .seed_names = true };
	/* one app (two processes, merged): no app component */
	char *out = render1(s, 2, &c, 60);
	const char *want[][2] = {
		{ "count", "200" },        { "min", NULL },
		{ "max", NULL },           { "mean", NULL },
		{ "stddev", NULL },        { "median", NULL },
		{ "75percentile", NULL },  { "95percentile", NULL },
		{ "98percentile", NULL },  { "99percentile", NULL },
		{ "999percentile", NULL },
	};
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		char name[128];
		snprintf(name, sizeof(name), "my.handler.latency.%s",
		         want[i][0]);
		const char *v = value_of(out, name);
		cr_assert_not_null(v, "no %s in\n%s", name, out);
		if (want[i][1])
			cr_assert_str_eq(v, want[i][1]);
	}
	cr_assert(fabs(atof(value_of(out, "my.handler.latency.median")) -
	               0.050) <= 0.02 * 0.050);
	cr_assert_null(value_of(out, "my.handler.latency.p75"));
	cr_assert_null(value_of(out, "my.handler.latency.p999"));
	cr_assert_str_eq(value_of(out, "my.web.errors"), "21");
	cr_assert_null(strstr(out, "my.web.web."));
	/* a counter named median is not the histogram's median */
	cr_assert_str_eq(value_of(out, "my.handler.latency._median"), "0");
	cr_assert_str_eq(value_of(out, "my.handler.latency.p50"), "0");
	free(out);

	/* two apps: each keeps its app component */
	s[0] = snap_of(b1);
	s[1] = snap_of(b2);
	out = render1(s, 3, &c, 60);
	cr_assert_str_eq(value_of(out, "my.web.web.errors"), "21");
	cr_assert_str_eq(value_of(out, "my.other.web.errors"), "35");
	cr_assert_not_null(value_of(out, "my.other.handler.latency.median"));
	free(out);

	/* by default: p50 ... p999, the app, and "median" is a plain name */
	c.seed_names = false;
	s[0] = snap_of(b1);
	out = render1(s, 1, &c, 60);
	cr_assert_not_null(value_of(out, "my.web.handler.latency.p50"));
	cr_assert_not_null(value_of(out, "my.web.handler.latency.p999"));
	cr_assert_str_eq(value_of(out, "my.web.handler.latency.median"), "0");
	cr_assert_str_eq(value_of(out, "my.web.handler.latency._p50"), "0");
	cr_assert_null(strstr(out, "percentile"));
	free(out);
	for (int i = 0; i < 3; i++)
		scales_snapshot_free(&s[i]);
	sb_free(b1);
	sb_free(b2);
	sb_free(b3);
}

Test(render, rules_select_metrics)
{
	struct segbuild *b = tour("seed-tour", 4242, 1);
	struct scales_snapshot *s = snap_of(b);
	struct export_rules r = { 0 };
	export_rules_add(&r, false, "/processor/*");
	export_rules_add(&r, true, "/processor/finished");
	export_rules_add(&r, false, "/handler/latency");
	struct export_config c = { .prefix = "p.", .rules = &r };
	char *out = render1(&s, 1, &c, 60);
	cr_assert_str_eq(value_of(out, "p.seed-tour.processor.finished"), "60");
	cr_assert_null(strstr(out, "thread-"));
	cr_assert_null(strstr(out, "latency"));
	cr_assert_str_eq(value_of(out, "p.seed-tour.web.errors"), "7");
	free(out);
	export_rules_free(&r);
	scales_snapshot_free(&s);
	sb_free(b);
}

Test(render, per_interval_histograms_rates_and_meters)
{
	struct segbuild *b = sb_new("svc", 77, 1077, NULL);
	uint32_t h = sb_histogram(b, "/lat", 5, 0, NB, 1e-9, 1);
	uint32_t c = sb_counter(b, "/reqs", NULL);
	for (int i = 0; i < 1000; i++)
		sb_hist_record(b, h, 0, 1000000);
	sb_counter_add(b, c, 0, 1000);
	struct export_config cfg = { .prefix = "",
		                     .rates = true,
		                     .meters = true };
	scales_collector *col = collector_for(&cfg);
	/* the baseline */
	struct scales_snapshot *s = snap_of(b);
	cr_assert_eq(scales_collector_sample_snapshots(col, &s, 1), 0);
	cr_assert_null(s);

	for (int i = 1; i <= 100; i++)
		sb_hist_record(b, h, 1, (uint64_t)i * 1000000);
	sb_counter_add(b, c, 1, 500);
	usleep(20000);
	s = snap_of(b);
	cr_assert_eq(scales_collector_sample_snapshots(col, &s, 1), 0);
	struct scales_buf out = { 0 };
	struct export_render_stats st = { 0 };
	cr_assert_eq(graphite_render(&out, col, &cfg, 120, &st), 0);
	check_lines(out.data, out.len, "120");
	cr_assert_str_eq(value_of(out.data, "svc.lat.count"), "100");
	cr_assert_str_eq(value_of(out.data, "svc.lat.total_count"), "1100");
	cr_assert(fabs(atof(value_of(out.data, "svc.lat.sum")) - 5.05) < 1e-12);
	cr_assert(fabs(atof(value_of(out.data, "svc.lat.p50")) - 0.05) <=
	          0.001);
	cr_assert_str_eq(value_of(out.data, "svc.reqs"), "1500");
	double rate = atof(value_of(out.data, "svc.reqs.rate"));
	cr_assert(rate > 0 && rate <= 500 / 0.02, "rate %g", rate);
	/* the first meter value is the rate itself */
	cr_assert_str_eq(value_of(out.data, "svc.reqs.m1"),
	                 value_of(out.data, "svc.reqs.rate"));
	scales_buf_free(&out);

	/* an idle period: count 0, no min/max/quantiles, meters decay */
	usleep(20000);
	s = snap_of(b);
	cr_assert_eq(scales_collector_sample_snapshots(col, &s, 1), 0);
	cr_assert_eq(graphite_render(&out, col, &cfg, 180, &st), 0);
	check_lines(out.data, out.len, "180");
	cr_assert_str_eq(value_of(out.data, "svc.lat.count"), "0");
	cr_assert_str_eq(value_of(out.data, "svc.lat.sum"), "0");
	cr_assert_null(value_of(out.data, "svc.lat.p50"));
	cr_assert_null(value_of(out.data, "svc.lat.min"));
	cr_assert_str_eq(value_of(out.data, "svc.lat.total_count"), "1100");
	cr_assert_str_eq(value_of(out.data, "svc.reqs.rate"), "0");
	double m1 = atof(value_of(out.data, "svc.reqs.m1"));
	cr_assert(m1 > 0 && m1 < rate, "m1 %g after rate %g", m1, rate);
	scales_buf_free(&out);
	scales_collector_free(&col);
	sb_free(b);
}

Test(render, merged_intervals_survive_a_new_worker)
{
	/* a pre-fork server gains a worker: the interval of the group is
	 * the old worker's new values plus the new worker's values */
	struct segbuild *w1 = sb_new("pf", 1, 11, NULL);
	uint32_t h1 = sb_histogram(w1, "/lat", 5, 0, NB, 1e-9, 1);
	for (int i = 0; i < 50; i++)
		sb_hist_record(w1, h1, 0, 1000);
	struct export_config cfg = { .prefix = "" };
	scales_collector *col = collector_for(&cfg);
	struct scales_snapshot *s = snap_of(w1);
	cr_assert_eq(scales_collector_sample_snapshots(col, &s, 1), 0);
	for (int i = 0; i < 5; i++)
		sb_hist_record(w1, h1, 0, 2000);
	struct segbuild *w2 = sb_new("pf", 2, 12, NULL);
	uint32_t h2 = sb_histogram(w2, "/lat", 5, 0, NB, 1e-9, 1);
	for (int i = 0; i < 7; i++)
		sb_hist_record(w2, h2, 0, 3000);
	struct scales_snapshot *v[2] = { snap_of(w1), snap_of(w2) };
	cr_assert_eq(scales_collector_sample_snapshots(col, v, 2), 0);
	struct scales_buf out = { 0 };
	cr_assert_eq(graphite_render(&out, col, &cfg, 60, NULL), 0);
	cr_assert_str_eq(value_of(out.data, "pf.lat.count"), "12");
	cr_assert_str_eq(value_of(out.data, "pf.lat.total_count"), "62");
	/* interval min and max: bucket bounds (within 2%) */
	cr_assert(fabs(atof(value_of(out.data, "pf.lat.min")) - 2e-6) <= 4e-8);
	cr_assert(fabs(atof(value_of(out.data, "pf.lat.max")) - 3e-6) <= 6e-8);
	scales_buf_free(&out);
	scales_collector_free(&col);
	sb_free(w1);
	sb_free(w2);
}

/* Every name of a rendering is distinct (fails with the duplicate). */
static void names_distinct(const char *out)
{
	char *copy = strdup(out);
	char *names[512];
	size_t n = 0;
	for (char *save = NULL, *l = strtok_r(copy, "\n", &save); l && n < 512;
	     l = strtok_r(NULL, "\n", &save)) {
		*strchr(l, ' ') = 0;
		for (size_t i = 0; i < n; i++)
			cr_assert_str_neq(names[i], l, "two lines named %s", l);
		names[n++] = l;
	}
	free(copy);
}

Test(render, distinct_stats_get_distinct_names)
{
	/* issue 13, item 12: /a.b and /a-b; a histogram /h and counters
	 * /h/count and /h/p99; a state /s with value x and a gauge /s/x; a
	 * state aggregate whose value is a child's name; rates and meters */
	struct segbuild *b = sb_new("collide", 4322, 99, NULL);
	sb_counter_add(b, sb_counter(b, "/a.b", NULL), 0, 1);
	sb_counter_add(b, sb_counter(b, "/a-b", NULL), 0, 2);
	uint32_t h = sb_histogram(b, "/h", 5, 0, NB, 1e-9, 1);
	for (int i = 0; i < 10; i++)
		sb_hist_record(b, h, 0, 1000000);
	sb_counter_add(b, sb_counter(b, "/h/count", NULL), 0, 3);
	sb_counter_add(b, sb_counter(b, "/h/p99", NULL), 0, 4);
	sb_counter_add(b, sb_counter(b, "/h/_p99", NULL), 0, 6);
	sb_counter_add(b, sb_counter(b, "/c", NULL), 0, 7);
	sb_counter_add(b, sb_counter(b, "/c/rate", NULL), 0, 8);
	sb_counter_add(b, sb_counter(b, "/c/m1", NULL), 0, 9);
	sb_state(b, "/s", "x");
	sb_gauge(b, "/s/x", 5);
	sb_agg(b, "/pool/state", 7, "state");
	sb_state(b, "/pool/w/state", "v w/%");
	sb_gauge(b, "/pool/state/w", 10);

	struct export_config cfg = { .prefix = "",
		                     .rates = true,
		                     .meters = true };
	scales_collector *col = collector_for(&cfg);
	struct scales_snapshot *s = snap_of(b);
	cr_assert_eq(scales_collector_sample_snapshots(col, &s, 1), 0);
	usleep(20000);
	s = snap_of(b);
	cr_assert_eq(scales_collector_sample_snapshots(col, &s, 1), 0);
	struct scales_buf out = { 0 };
	cr_assert_eq(graphite_render(&out, col, &cfg, 120, NULL), 0);
	names_distinct(out.data);
	cr_assert_str_eq(value_of(out.data, "collide.a%2Eb"), "1");
	cr_assert_str_eq(value_of(out.data, "collide.a-b"), "2");
	cr_assert_str_eq(value_of(out.data, "collide.h.count"), "0");
	cr_assert_str_eq(value_of(out.data, "collide.h.total_count"), "10");
	cr_assert_str_eq(value_of(out.data, "collide.h._count"), "3");
	cr_assert_str_eq(value_of(out.data, "collide.h._p99"), "4");
	cr_assert_str_eq(value_of(out.data, "collide.h.__p99"), "6");
	cr_assert_str_eq(value_of(out.data, "collide.c"), "7");
	cr_assert_str_eq(value_of(out.data, "collide.c.rate"), "0");
	cr_assert_str_eq(value_of(out.data, "collide.c._rate"), "8");
	cr_assert_str_eq(value_of(out.data, "collide.c._m1"), "9");
	cr_assert_str_eq(value_of(out.data, "collide.s.~x"), "1");
	cr_assert_str_eq(value_of(out.data, "collide.s.x"), "5");
	/* named as the value itself, not the reader's escaped path form */
	cr_assert_str_eq(value_of(out.data, "collide.pool.state.~v%20w%2F%25"),
	                 "1");
	cr_assert_str_eq(value_of(out.data, "collide.pool.state.w"), "10");
	scales_buf_free(&out);

	/* the stateless renderer names them alike */
	s = snap_of(b);
	struct export_config c1 = { .prefix = "" };
	char *o1 = render1(&s, 1, &c1, 60);
	names_distinct(o1);
	cr_assert_str_eq(value_of(o1, "collide.h.count"), "10");
	cr_assert_str_eq(value_of(o1, "collide.h._count"), "3");
	free(o1);
	scales_snapshot_free(&s);
	scales_collector_free(&col);
	sb_free(b);
}

/* ---------------------------------------------------------- injection */

Test(inject, hostile_app_state_values_cannot_inject)
{
	/* a header's app is shown with the app-name rule (docs/format.md
	 * section 2: bytes outside [A-Za-z0-9_-] become _); state values
	 * are arbitrary bytes */
	struct segbuild *b = sb_new("ev;il=app.x", 5, 55, NULL);
	uint32_t e = sb_counter(b, "/ok", NULL);
	sb_counter_add(b, e, 0, 1);
	const char *hostile[] = {
		"line\nfake.metric 666 0",
		"two words",
		"dot.ted",
		"tag;k=v",
		"eq=1",
		"caf\xc3\xa9 \xe6\x97\xa5\xe6\x9c\xac",
		"bad\xff\xfe utf8 \xc0\xaf",
		"nel\xc2\x85sep\xe2\x80\xa8par\xe2\x80\xa9",
		"cr\rtab\tvt\vff\f",
		"slash/..",
	};
	size_t nh = sizeof(hostile) / sizeof(*hostile);
	sb_agg(b, "/pool/state", 7, "state");
	for (size_t i = 0; i < nh; i++) {
		char p[64];
		snprintf(p, sizeof(p), "/s%zu", i);
		sb_state(b, p, hostile[i]);
		snprintf(p, sizeof(p), "/pool/w%zu/state", i);
		sb_state(b, p, hostile[i]);
	}
	struct scales_snapshot *s = snap_of(b);
	struct export_config c = { .prefix = "p." };
	char *out = render1(&s, 1, &c, 60);
	/* /ok, the aggregate's own count, and one line per value for each of
	 * /sN, /pool/wN/state and the aggregate: nothing split, nothing
	 * injected */
	size_t lines = 0;
	for (char *p = out; *p; p++)
		lines += *p == '\n';
	cr_assert_eq(lines, 2 + 3 * nh, "%zu lines:\n%s", lines, out);
	cr_assert_null(strstr(out, "\nfake"));
	const char *A = "p.ev_il_app_x.";
	const char *want[] = {
		"s0.~line%0Afake%2Emetric%20666%200",
		"s1.~two%20words",
		"s2.~dot%2Eted",
		"s3.~tag%3Bk%3Dv",
		"s4.~eq%3D1",
		"s5.~caf\xc3\xa9%20\xe6\x97\xa5\xe6\x9c\xac",
		"s6.~bad%FF%FE%20utf8%20%C0%AF",
		"s7.~nel%C2%85sep%E2%80%A8par%E2%80%A9",
		"s8.~cr%0Dtab%09vt%0Bff%0C",
		"s9.~slash%2F%2E%2E",
		"ok",
	};
	for (size_t i = 0; i < sizeof(want) / sizeof(*want); i++) {
		char n[256];
		snprintf(n, sizeof(n), "%s%s", A, want[i]);
		cr_assert_str_eq(value_of(out, n), "1", "%s", n);
	}
	char n[256];
	snprintf(n, sizeof(n), "%spool.state", A);
	cr_assert_str_eq(value_of(out, n), "10");
	free(out);
	scales_snapshot_free(&s);
	sb_free(b);
}

/* ------------------------------------------------------------ pointbuf */

static char *dupn(const char *s)
{
	return strdup(s);
}

Test(pointbuf, bound_drops_oldest_and_counts)
{
	struct pointbuf pb;
	pb_init(&pb);
	pb.max_points = 6;
	struct pb_cursor a = { .seq = 1 }, z = { .seq = 1 };
	struct pb_cursor *curs[2] = { &a, &z };
	bool cut[2] = { false, false };
	for (int i = 0; i < 3; i++)
		cr_assert_eq(pb_push(&pb, 60 * i, dupn("a 1 0\nb 2 0\n"), 12, 2,
		                     curs, cut, 2),
		             0);
	cr_assert_eq(pb.points, 6);
	cr_assert_eq(pb_first_seq(&pb), 1);
	/* a is mid-way in batch 1; z sent batch 1 and 2 */
	a.off = 3;
	z.seq = 3;
	pb_push(&pb, 180, dupn("c 3 0\nd 4 0\n"), 12, 2, curs, cut, 2);
	cr_assert_eq(pb_first_seq(&pb), 2);
	cr_assert_eq(pb.points, 6);
	cr_assert_eq(a.dropped, 2);
	cr_assert_eq(a.seq, 2);
	cr_assert_eq(a.off, 0);
	cr_assert(cut[0]);
	cr_assert_eq(z.dropped, 0);
	cr_assert_not(cut[1]);
	cr_assert_eq(pb_get(&pb, 4)->ts, 180);
	cr_assert_null(pb_get(&pb, 1));
	cr_assert_null(pb_get(&pb, 5));
	/* a batch larger than the bound is still kept (alone) */
	pb_push(&pb, 240, dupn("x\nx\nx\nx\nx\nx\nx\nx\n"), 16, 8, curs, cut,
	        2);
	cr_assert_eq(pb.count, 1);
	cr_assert_eq(pb_first_seq(&pb), 5);
	cr_assert_eq(z.dropped, 4); /* batches 3 and 4 */
	pb_free(&pb);
}

Test(pointbuf, rewind_and_trim_keep_what_a_resend_needs)
{
	struct pointbuf pb;
	pb_init(&pb);
	pb.max_points = 1000;
	struct pb_cursor a = { .seq = 1 };
	struct pb_cursor *curs[1] = { &a };
	for (int i = 0; i < 10; i++)
		pb_push(&pb, i, dupn("m 1 0\n"), 6, 1, curs, NULL, 1);
	a.seq = 9; /* sent 1..8 */
	a.off = 2;
	pb_trim(&pb, curs, 1, 3);
	cr_assert_eq(pb_first_seq(&pb), 6);
	pb_rewind(&pb, &a, 3);
	cr_assert_eq(a.seq, 6);
	cr_assert_eq(a.off, 0);
	pb_rewind(&pb, &a, 100); /* not before the oldest held */
	cr_assert_eq(a.seq, 6);
	a.seq = 11;
	pb_trim(&pb, curs, 1, 2);
	cr_assert_eq(pb_first_seq(&pb), 9);
	pb_trim(&pb, NULL, 0, 0);
	cr_assert_eq(pb.count, 0);
	cr_assert_eq(pb.points, 0);
	pb_free(&pb);
}

/* -------------------------------------------------------------- config */

Test(config, file_then_command_line)
{
	char path[4096];
	snprintf(path, sizeof(path), "%s/x.conf", dir);
	FILE *f = fopen(path, "w");
	fprintf(f, "# a comment\n"
	           "graphite = relay1:2003\n"
	           "  graphite=relay2:2004  \n"
	           "period = 10\n"
	           "prefix = \"\"\n"
	           "forbid = /debug/*\n"
	           "rates = true\n"
	           "per-process = no\n"
	           "process = seed-tour\n"
	           "\n");
	fclose(f);
	char *argv[] = { "scales-export", "--allow", "/debug/keep", "-c", path,
		         "--period",      "5",       "1234",        NULL };
	struct export_args a;
	cr_assert_eq(export_args_parse(8, argv, &a), 0);
	cr_assert_eq(a.ngraphite, 2);
	cr_assert_str_eq(a.graphite[1], "relay2:2004");
	cr_assert_eq(a.period, 5);
	cr_assert_str_eq(a.prefix, "");
	cr_assert(a.rates);
	cr_assert_not(a.per_process);
	cr_assert_eq(a.nselectors, 2);
	cr_assert_str_eq(a.selectors[0], "seed-tour");
	cr_assert_str_eq(a.selectors[1], "1234");
	/* the command line's rule is newer */
	cr_assert(export_rules_allowed(&a.rules, "/debug/keep"));
	cr_assert_not(export_rules_allowed(&a.rules, "/debug/other"));
	export_args_free(&a);
}

Test(config, errors_are_usage_errors)
{
	char path[4096];
	snprintf(path, sizeof(path), "%s/bad.conf", dir);
	const char *bad[] = { "nonsense\n", "color = red\n", "period = 0\n",
		              "rates = maybe\n", "help = true\n" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
		FILE *f = fopen(path, "w");
		fputs(bad[i], f);
		fclose(f);
		char *argv[] = { "scales-export", "--stdout", "--config", path,
			         NULL };
		struct export_args a;
		cr_assert_eq(export_args_parse(4, argv, &a), 2, "%s", bad[i]);
		export_args_free(&a);
	}
	char *argv[] = { "scales-export", "--stdout", "--config",
		         "/nonexistent/x.conf", NULL };
	struct export_args a;
	cr_assert_eq(export_args_parse(4, argv, &a), 2);
	export_args_free(&a);
}

/* ---------------------------------------------------------------- dest */

#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <time.h>

TestSuite(dest);

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

Test(dest, parses_host_port)
{
	struct gdest d;
	char err[256];
	cr_assert_eq(gdest_init(&d, "graphite.example.net:2003", err,
	                        sizeof(err)),
	             0);
	cr_assert_str_eq(d.host, "graphite.example.net");
	cr_assert_str_eq(d.port, "2003");
	cr_assert_eq(d.fd, -1);
	gdest_free(&d);
	cr_assert_eq(gdest_init(&d, "[::1]:2004", err, sizeof(err)), 0);
	cr_assert_str_eq(d.host, "::1");
	cr_assert_str_eq(d.port, "2004");
	gdest_free(&d);
	const char *bad[] = { "host",    "host:", ":2003",     "host:0",
		              "h:70000", "a:b:c", "[::1]2003", "h:20x3" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++)
		cr_assert_eq(gdest_init(&d, bad[i], err, sizeof(err)), -EINVAL,
		             "%s", bad[i]);
}

/* A listening socket on 127.0.0.1 and its port. */
static int listener(char *port, size_t len)
{
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	struct sockaddr_in a = { .sin_family = AF_INET,
		                 .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	cr_assert_eq(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	cr_assert_eq(listen(fd, 8), 0);
	socklen_t sl = sizeof(a);
	getsockname(fd, (struct sockaddr *)&a, &sl);
	snprintf(port, len, "127.0.0.1:%u", ntohs(a.sin_port));
	return fd;
}

/* Steps d (polling its fd) until cond holds or 5 s pass. */
#define STEP_UNTIL(d, pb, t, closing, cond)                                    \
	do {                                                                   \
		uint64_t end_ = now_ns() + 5000000000ull;                      \
		while (!(cond) && now_ns() < end_) {                           \
			short ev_;                                             \
			gdest_want(d, pb, t, &ev_);                            \
			struct pollfd p_ = { (d)->fd, ev_, 0 };                \
			if ((d)->fd >= 0 && ev_)                               \
				poll(&p_, 1, 10);                              \
			else                                                   \
				usleep(1000);                                  \
			gdest_step(d, pb, t, p_.revents, now_ns(), closing);   \
		}                                                              \
		cr_assert(cond, "timed out waiting for " #cond);               \
	} while (0)

Test(dest, backoff_doubles_with_jitter_up_to_the_cap)
{
	char spec[64];
	int l = listener(spec, sizeof(spec));
	close(l); /* now nothing listens there */
	struct gdest d;
	char err[256];
	cr_assert_eq(gdest_init(&d, spec, err, sizeof(err)), 0);
	struct pointbuf pb;
	pb_init(&pb);
	struct gdest_tuning t = { .resend = 2,
		                  .backoff_min_ns = 400000000ull,
		                  .backoff_max_ns = 1000000000ull,
		                  .timeout_ns = 1000000000ull,
		                  .stall_ns = 5000000000ull };
	uint64_t lo[] = { 200, 400, 500, 500 }, hi[] = { 400, 800, 1000, 1000 };
	for (int i = 0; i < 4; i++) {
		uint64_t before = now_ns();
		gdest_step(&d, &pb, &t, 0, before, false);
		STEP_UNTIL(&d, &pb, &t, false, d.state == GD_IDLE);
		uint64_t wait_ms = (d.next_ns - before) / 1000000;
		cr_assert(wait_ms >= lo[i] && wait_ms <= hi[i] + 20,
		          "attempt %d: waits %" PRIu64 " ms", i, wait_ms);
		cr_assert_eq(d.failures, (uint64_t)i + 1);
		d.next_ns = 0; /* try again now */
	}
	cr_assert_not(d.was_up);
	gdest_free(&d);
	pb_free(&pb);
}

static size_t read_all(int fd, char *buf, size_t len, size_t want)
{
	size_t got = 0;
	uint64_t end = now_ns() + 5000000000ull;
	while (got < want && now_ns() < end) {
		struct pollfd p = { fd, POLLIN, 0 };
		if (poll(&p, 1, 100) <= 0)
			continue;
		ssize_t n = recv(fd, buf + got, len - got - 1, 0);
		if (n <= 0)
			break;
		got += (size_t)n;
	}
	buf[got] = 0;
	return got;
}

Test(dest, resends_the_last_batches_after_the_peer_goes_away)
{
	char spec[64];
	int l = listener(spec, sizeof(spec));
	struct gdest d;
	char err[256];
	cr_assert_eq(gdest_init(&d, spec, err, sizeof(err)), 0);
	struct pointbuf pb;
	pb_init(&pb);
	pb.max_points = 100;
	struct gdest_tuning t = { .resend = 2,
		                  .backoff_min_ns = 1000000ull,
		                  .backoff_max_ns = 2000000ull,
		                  .timeout_ns = 2000000000ull,
		                  .stall_ns = 5000000000ull };
	struct pb_cursor *curs[1] = { &d.cur };
	const char *lines[] = { "a 1 60\n", "a 2 120\n", "a 3 180\n" };
	for (int i = 0; i < 3; i++)
		pb_push(&pb, 60 * (i + 1), strdup(lines[i]), strlen(lines[i]),
		        1, curs, NULL, 1);
	STEP_UNTIL(&d, &pb, &t, false,
	           d.state == GD_UP && gdest_caught_up(&d, &pb));
	int c = accept(l, NULL, NULL);
	char buf[256];
	read_all(c, buf, sizeof(buf), 22);
	cr_assert_str_eq(buf, "a 1 60\na 2 120\na 3 180\n");
	cr_assert_eq(d.points_sent, 3);

	/* the peer goes away: noticed while idle, then a reconnect sends the
	 * last two batches again, then the new one */
	close(c);
	STEP_UNTIL(&d, &pb, &t, false, d.state != GD_UP);
	cr_assert_eq(d.cur.seq, 2);
	pb_push(&pb, 240, strdup("a 4 240\n"), 8, 1, curs, NULL, 1);
	STEP_UNTIL(&d, &pb, &t, false,
	           d.state == GD_UP && gdest_caught_up(&d, &pb));
	cr_assert_eq(d.reconnects, 1);
	c = accept(l, NULL, NULL);
	read_all(c, buf, sizeof(buf), 23);
	cr_assert_str_eq(buf, "a 2 120\na 3 180\na 4 240\n");

	/* an orderly close: everything written, FIN, the peer's FIN */
	STEP_UNTIL(&d, &pb, &t, true, d.state == GD_CLOSING);
	cr_assert_eq(read_all(c, buf, sizeof(buf), 1), 0); /* our EOF */
	close(c);
	STEP_UNTIL(&d, &pb, &t, true, d.state == GD_CLOSED);
	gdest_free(&d);
	pb_free(&pb);
	close(l);
}
