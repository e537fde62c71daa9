/* SPDX-License-Identifier: MIT */
/*
 * test_json.c: JSON string escaping (control characters, quotes,
 * backslash, invalid UTF-8), round-trip number formatting, and rendered
 * snapshots that a strict JSON parser accepts.
 */
#include <errno.h>
#include <float.h>
#include <inttypes.h>
#include <locale.h>
#include <math.h>

#include "common.h"

TestSuite(json, .timeout = 60);

/* ------------------------------------------------- a strict JSON checker */

struct jp {
	const char *s;
	size_t i, n;
};

static void ws(struct jp *p)
{
	while (p->i < p->n && strchr(" \t\r\n", p->s[p->i]))
		p->i++;
}

static bool value(struct jp *p, int depth);

static bool lit(struct jp *p, const char *w)
{
	size_t l = strlen(w);
	if (p->n - p->i < l || memcmp(p->s + p->i, w, l))
		return false;
	p->i += l;
	return true;
}

static bool string(struct jp *p)
{
	if (p->i >= p->n || p->s[p->i] != '"')
		return false;
	p->i++;
	while (p->i < p->n) {
		unsigned char c = (unsigned char)p->s[p->i];
		if (c == '"') {
			p->i++;
			return true;
		}
		if (c < 0x20)
			return false; /* raw control character */
		if (c == '\\') {
			p->i++;
			if (p->i >= p->n)
				return false;
			char e = p->s[p->i];
			if (e == 'u') {
				for (int k = 1; k <= 4; k++)
					if (p->i + k >= p->n ||
					    !strchr("0123456789abcdefABCDEF",
					            p->s[p->i + k]))
						return false;
				p->i += 5;
			} else if (strchr("\"\\/bfnrt", e) && e) {
				p->i++;
			} else {
				return false;
			}
			continue;
		}
		if (c >= 0x80) { /* valid UTF-8 only */
			int len = c >= 0xf0 ? 4 :
			          c >= 0xe0 ? 3 :
			          c >= 0xc2 ? 2 :
			                      0;
			if (!len || c > 0xf4 || p->i + (size_t)len > p->n)
				return false;
			for (int k = 1; k < len; k++)
				if (((unsigned char)p->s[p->i + k] & 0xc0) !=
				    0x80)
					return false;
			p->i += (size_t)len;
			continue;
		}
		p->i++;
	}
	return false;
}

static bool number(struct jp *p)
{
	size_t st = p->i;
	if (p->s[p->i] == '-')
		p->i++;
	if (p->i >= p->n)
		return false;
	if (p->s[p->i] == '0')
		p->i++;
	else if (p->s[p->i] >= '1' && p->s[p->i] <= '9')
		while (p->i < p->n && p->s[p->i] >= '0' && p->s[p->i] <= '9')
			p->i++;
	else
		return false;
	if (p->i < p->n && p->s[p->i] == '.') {
		p->i++;
		size_t d = p->i;
		while (p->i < p->n && p->s[p->i] >= '0' && p->s[p->i] <= '9')
			p->i++;
		if (d == p->i)
			return false;
	}
	if (p->i < p->n && (p->s[p->i] == 'e' || p->s[p->i] == 'E')) {
		p->i++;
		if (p->i < p->n && (p->s[p->i] == '+' || p->s[p->i] == '-'))
			p->i++;
		size_t d = p->i;
		while (p->i < p->n && p->s[p->i] >= '0' && p->s[p->i] <= '9')
			p->i++;
		if (d == p->i)
			return false;
	}
	return p->i > st;
}

static bool value(struct jp *p, int depth)
{
	if (depth > 64)
		return false;
	ws(p);
	if (p->i >= p->n)
		return false;
	char c = p->s[p->i];
	if (c == '{' || c == '[') {
		char close = c == '{' ? '}' : ']';
		p->i++;
		ws(p);
		if (p->i < p->n && p->s[p->i] == close) {
			p->i++;
			return true;
		}
		for (;;) {
			ws(p);
			if (c == '{') {
				if (!string(p))
					return false;
				ws(p);
				if (p->i >= p->n || p->s[p->i] != ':')
					return false;
				p->i++;
			}
			if (!value(p, depth + 1))
				return false;
			ws(p);
			if (p->i >= p->n)
				return false;
			if (p->s[p->i] == ',') {
				p->i++;
				continue;
			}
			if (p->s[p->i] == close) {
				p->i++;
				return true;
			}
			return false;
		}
	}
	if (c == '"')
		return string(p);
	if (c == 't')
		return lit(p, "true");
	if (c == 'f')
		return lit(p, "false");
	if (c == 'n')
		return lit(p, "null");
	return number(p);
}

static bool valid_json(const char *s, size_t n)
{
	struct jp p = { s, 0, n };
	if (!value(&p, 0))
		return false;
	ws(&p);
	return p.i == n;
}

/* ----------------------------------------------------------- escaping */

static void check_escape(const char *in, size_t n, const char *want)
{
	struct scales_buf b = { 0 };
	scales_json_string(&b, in, n);
	cr_assert(!b.oom);
	cr_assert_str_eq(b.data, want);
	cr_assert(valid_json(b.data, b.len), "invalid: %s", b.data);
	scales_buf_free(&b);
}

Test(json, string_escaping)
{
	check_escape("plain", 5, "\"plain\"");
	check_escape("", 0, "\"\"");
	check_escape("a\"b\\c", 5, "\"a\\\"b\\\\c\"");
	check_escape("\n\r\t\b\f", 5, "\"\\n\\r\\t\\b\\f\"");
	check_escape("\x01\x1f\x7f", 3, "\"\\u0001\\u001f\\u007f\"");
	check_escape("a\0b", 3, "\"a\\u0000b\"");
	check_escape("/path/x", 7, "\"/path/x\"");
	/* valid UTF-8 is kept */
	check_escape("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80", 14,
	             "\"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80\"");
	/* invalid UTF-8: each bad byte becomes U+FFFD */
	check_escape("\xff", 1, "\"\xef\xbf\xbd\"");
	check_escape("a\xc0\x80z", 4, "\"a\xef\xbf\xbd\xef\xbf\xbdz\"");
	check_escape(
	    "\xed\xa0\x80", 3,
	    "\"\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\""); /* surrogate */
	check_escape("\xe2\x82", 2, "\"\xef\xbf\xbd\xef\xbf\xbd\"");
	check_escape("\xf4\x90\x80\x80", 4,
	             "\"\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\"");
	check_escape("\xc3", 1, "\"\xef\xbf\xbd\"");
}

Test(json, every_byte_string_is_valid_json)
{
	char all[512];
	for (int i = 0; i < 512; i++)
		all[i] = (char)(i * 7 + 3);
	struct scales_buf b = { 0 };
	scales_json_string(&b, all, sizeof(all));
	cr_assert(valid_json(b.data, b.len));
	scales_buf_free(&b);
}

/* ------------------------------------------------------------- numbers */

static void check_double(double v, const char *want)
{
	char buf[40];
	int n = scales_format_double(buf, sizeof(buf), v);
	cr_assert_eq((size_t)n, strlen(buf));
	cr_assert_str_eq(buf, want, "%.17g -> %s", v, buf);
}

Test(json, double_formatting)
{
	check_double(0.1, "0.1");
	check_double(3.0, "3");
	check_double(-42.0, "-42");
	check_double(0.0, "0");
	check_double(1.0 / 3, "0.3333333333333333");
	check_double(2.5e-9, "2.5e-09");
	check_double(1e300, "1e+300");
	check_double(0.050, "0.05");
	check_double(NAN, "NaN");
	check_double(INFINITY, "+Inf");
	check_double(-INFINITY, "-Inf");
	check_double(9007199254740991.0, "9007199254740991");
	struct scales_buf b = { 0 };
	scales_json_double(&b, NAN);
	scales_buf_append(&b, ",", 1);
	scales_json_double(&b, INFINITY);
	scales_buf_append(&b, ",", 1);
	scales_json_double(&b, 1.5);
	cr_assert_str_eq(b.data, "null,null,1.5");
	scales_buf_free(&b);
}

Test(json, doubles_round_trip)
{
	uint64_t x = 0x9e3779b97f4a7c15ull;
	for (int i = 0; i < 200000; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		double v;
		memcpy(&v, &x, 8);
		if (!isfinite(v))
			continue;
		char buf[40];
		scales_format_double(buf, sizeof(buf), v);
		cr_assert_eq(strtod(buf, NULL), v, "%s", buf);
		struct jp p = { buf, 0, strlen(buf) };
		cr_assert(number(&p) && p.i == p.n, "not a JSON number: %s",
		          buf);
	}
}

/* Significant digits of a formatted number: the mantissa without sign,
 * point, leading and trailing zeros. */
static int sig_digits(const char *s)
{
	char d[40];
	int n = 0;
	for (; *s && *s != 'e'; s++)
		if (*s >= '0' && *s <= '9' && (n || *s != '0'))
			d[n++] = *s;
	while (n && d[n - 1] == '0')
		n--;
	return n;
}

/* The reference: the fewest significant digits of any decimal that reads
 * back as v, by trying, at every precision 1..17, the correctly rounded
 * decimal and both its neighbours (as an integer mantissa times a power of
 * ten: no shortcut shared with the library). */
static int shortest_digits(double v)
{
	int best = 99;
	for (int p = 1; p <= 17; p++) {
		char t[48];
		snprintf(t, sizeof(t), "%.*e", p - 1, fabs(v));
		uint64_t m = 0;
		for (const char *c = t; *c != 'e'; c++)
			if (*c >= '0' && *c <= '9')
				m = m * 10 + (uint64_t)(*c - '0');
		int e = atoi(strchr(t, 'e') + 1) - (p - 1);
		for (int d = -1; d <= 1; d++) {
			char c[48];
			snprintf(c, sizeof(c), "%" PRIu64 "e%d",
			         m + (uint64_t)d, e);
			if (strtod(c, NULL) == fabs(v) && sig_digits(c) < best)
				best = sig_digits(c);
		}
		if (best < 99)
			return best;
	}
	return best;
}

static void check_shortest(double v)
{
	char buf[40], g17[40];
	int n = scales_format_double(buf, sizeof(buf), v);
	cr_assert(n > 0 && (size_t)n < 32, "%a: length %d", v, n);
	double r = strtod(buf, NULL);
	cr_assert(memcmp(&r, &v, sizeof(v)) == 0, "%a -> %s does not read back",
	          v, buf);
	if (v == 0)
		return;
	int want = shortest_digits(v);
	cr_assert_eq(sig_digits(buf), want, "%a -> %s: %d digits, %d would do",
	             v, buf, sig_digits(buf), want);
	snprintf(g17, sizeof(g17), "%.17g", v);
	cr_assert(sig_digits(buf) <= sig_digits(g17),
	          "%s has more digits than %%.17g %s", buf, g17);
}

/* Round trip and shortest-ness over random bit patterns, subnormals,
 * powers of two (where the gap below is half the gap above), integers past
 * 2^53 and the sums and products of decimal values that carry float noise. */
Test(json, doubles_are_shortest)
{
	check_shortest(5e-324);
	check_shortest(-5e-324);
	check_shortest(DBL_MIN);
	check_shortest(DBL_MAX);
	check_shortest(-0.0);
	check_shortest(110794 * 1e-9);
	check_shortest(9007199254740993.0);
	check_shortest(0x1p-1074 * 123);
	check_shortest(0x1p+1023);
	char buf[40];
	scales_format_double(buf, sizeof(buf), 5e-324);
	cr_assert_str_eq(buf, "5e-324");
	scales_format_double(buf, sizeof(buf), 1e-310);
	cr_assert_str_eq(buf, "1e-310");
	scales_format_double(buf, sizeof(buf), 110794 * 1e-9);
	cr_assert_str_eq(buf, "0.00011079400000000001"); /* is that double */
	scales_format_double(buf, sizeof(buf), 110794 / 1e9);
	cr_assert_str_eq(buf, "0.000110794");
	for (int k = -1074; k <= 1023; k++)
		check_shortest(ldexp(1, k));
	uint64_t x = 0x2545f4914f6cdd1dull;
	for (int i = 0; i < 60000; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		uint64_t bits = x;
		if (i % 4 == 1) /* subnormal */
			bits &= 0x800fffffffffffffull;
		double v;
		memcpy(&v, &bits, 8);
		if (i % 4 == 2)
			v = (double)(x >> 11) *
			    1e-9; /* ns to s, the noisy way */
		else if (i % 4 == 3)
			v = (double)(x % 100000) / 1000 + (double)(x >> 40) / 7;
		if (isfinite(v))
			check_shortest(v);
	}
}

Test(json, numbers_ignore_the_locale)
{
	if (!setlocale(LC_NUMERIC, "de_DE.UTF-8") &&
	    !setlocale(LC_NUMERIC, "fr_FR.UTF-8")) {
		cr_log_info("no comma locale installed: checked in C only");
	}
	check_double(0.25, "0.25");
	check_double(1.0 / 3, "0.3333333333333333");
	setlocale(LC_NUMERIC, "C");
}

/* ------------------------------------------------------------ rendering */

static struct segbuild *render_image(void)
{
	struct segbuild *b = sb_new("web", 77, 5, NULL);
	char help[256];
	for (int i = 0; i < 255; i++)
		help[i] = (char)(i + 1);
	help[255] = 0;
	sb_counter_add(b, sb_counter(b, "/web/errors", help), 0, 7);
	sb_gauge(b, "/web/neg", -12);
	sb_gauge_f64(b, "/web/load", 0.1);
	sb_gauge_f64(b, "/web/nan", NAN);
	sb_state(b, "/web/mode", "say \"hi\"\n");
	sb_state(b, "/web/unset", NULL);
	uint32_t h = sb_histogram(b, "/web/latency", 5, 0, 1000, 1e-9,
	                          SCALES_SHM_UNIT_SECONDS);
	sb_hist_record(b, h, 0, 1000000);
	sb_hist_record(b, h, 0, 3000000);
	sb_histogram(b, "/web/empty", 5, 0, 100, 1e-9, 0);
	return b;
}

/* The number after "key": following from. */
static double num_after(const char *from, const char *key)
{
	char k[64];
	snprintf(k, sizeof(k), "\"%s\":", key);
	const char *p = strstr(from, k);
	cr_assert_not_null(p, "no %s", key);
	return strtod(p + strlen(k), NULL);
}

static bool has(const struct scales_buf *b, const char *needle)
{
	return strstr(b->data, needle) != NULL;
}

Test(json, render_one_shot)
{
	struct segbuild *b = render_image();
	struct scales_snapshot *s = build_snap(b, 0);
	const struct scales_snapshot *ss[1] = { s };
	struct scales_buf out = { 0 };
	cr_assert_eq(scales_json_render(&out, ss, NULL, 1, 0), 0);
	cr_assert(valid_json(out.data, out.len), "invalid: %s", out.data);
	cr_assert(has(&out, "{\"processes\":[{\"pid\":77,\"app\":\"web\","
	                    "\"alive\":false,"));
	cr_assert(has(&out, "\"/web/errors\":{\"kind\":\"counter\",\"unit\":"
	                    "\"\",\"help\":\"\\u0001"));
	cr_assert(has(&out, "\"value\":7,\"rate\":null,\"m1\":null,\"m5\":null,"
	                    "\"m15\":null}"));
	cr_assert(has(&out, "\"/web/neg\":{\"kind\":\"gauge\",\"unit\":\"\","
	                    "\"help\":null,\"value\":-12,"));
	cr_assert(has(&out,
	              "\"kind\":\"gauge_f64\",\"unit\":\"\",\"help\":null,"
	              "\"value\":0.1,"));
	cr_assert(has(&out,
	              "\"/web/nan\":{\"kind\":\"gauge_f64\",\"unit\":\"\","
	              "\"help\":null,\"value\":null,"));
	cr_assert(has(&out, "\"value\":\"say \\\"hi\\\"\\n\""));
	cr_assert(has(&out, "\"/web/unset\":{\"kind\":\"state\",\"unit\":\"\","
	                    "\"help\":null,\"value\":null,"));
	cr_assert(has(&out, "\"/web/latency\":{\"kind\":\"histogram\",\"unit\":"
	                    "\"seconds\",\"help\":null,\"count\":2,\"sum\":"));
	const char *lat = strstr(out.data, "\"/web/latency\"");
	cr_assert_float_eq(num_after(lat, "sum"), 0.004, 1e-15);
	cr_assert_float_eq(num_after(lat, "min"), 0.001, 1e-15);
	cr_assert_float_eq(num_after(lat, "max"), 0.003, 1e-15);
	cr_assert_float_eq(num_after(lat, "mean"), 0.002, 1e-15);
	cr_assert_float_eq(num_after(lat, "stddev"), 0.001, 0.00002);
	cr_assert_float_eq(num_after(lat, "p50"), 0.001, 0.00002);
	cr_assert_float_eq(num_after(lat, "p999"), 0.003, 0.00006);
	cr_assert(has(&out, "\"rate\":null"));
	cr_assert(has(&out, "\"/web/empty\":{\"kind\":\"histogram\",\"unit\":"
	                    "\"\",\"help\":null,\"count\":0,\"sum\":0,"
	                    "\"min\":null,\"max\":null,\"mean\":null,"
	                    "\"stddev\":null,\"p50\":null"));
	scales_buf_free(&out);

	/* pretty, and written to a FILE */
	cr_assert_eq(scales_json_render(&out, ss, NULL, 1, SCALES_JSON_PRETTY),
	             0);
	cr_assert(valid_json(out.data, out.len));
	cr_assert(
	    has(&out, "\n        \"/web/errors\": {\n          \"kind\""));
	scales_buf_free(&out);
	char *mem = NULL;
	size_t memlen = 0;
	FILE *f = open_memstream(&mem, &memlen);
	cr_assert_eq(scales_json_write(f, ss, NULL, 1, 0), 0);
	fclose(f);
	cr_assert(memlen > 2 && mem[memlen - 1] == '\n');
	cr_assert(valid_json(mem, memlen - 1));
	free(mem);
	scales_snapshot_free(&s);
	sb_free(b);
}

Test(json, render_rates_merge_and_empty)
{
	struct segbuild *b = render_image();
	struct scales_snapshot *s1 = build_snap(b, 0), *s2 = build_snap(b, 0);
	struct scales_rate *r = calloc(s1->n, sizeof(*r));
	for (size_t i = 0; i < s1->n; i++) {
		r[i].rate = 1.5;
		r[i].m1 = 2;
		r[i].m5 = NAN;
		r[i].m15 = 0.25;
	}
	const struct scales_snapshot *ss[2] = { s1, s2 };
	const struct scales_rate *rr[2] = { r, NULL };
	struct scales_buf out = { 0 };
	cr_assert_eq(scales_json_render(&out, ss, rr, 2, 0), 0);
	cr_assert(valid_json(out.data, out.len));
	cr_assert(has(&out, "\"rate\":1.5,\"m1\":2,\"m5\":null,\"m15\":0.25}"));
	cr_assert(has(&out, "\"rate\":null,\"m1\":null"));
	scales_buf_free(&out);

	struct scales_snapshot *m = NULL;
	cr_assert_eq(scales_snapshot_merge(ss, 2, &m), 0);
	const struct scales_snapshot *ms[1] = { m };
	cr_assert_eq(scales_json_render(&out, ms, NULL, 1, 0), 0);
	cr_assert(valid_json(out.data, out.len));
	cr_assert(has(&out, "{\"processes\":[{\"pid\":0,\"pids\":[77,77],"));
	cr_assert(has(&out, "\"segment\":null"));
	cr_assert(has(&out, "\"values\":{\"say \\\"hi\\\"\\n\":2}"));
	cr_assert(has(&out, "\"/web/errors\":{\"kind\":\"counter\""));
	cr_assert(has(&out, "\"value\":14,"));
	scales_buf_free(&out);

	/* no processes */
	cr_assert_eq(scales_json_render(&out, NULL, NULL, 0, 0), 0);
	cr_assert_str_eq(out.data, "{\"processes\":[]}");
	scales_buf_free(&out);
	scales_json_render(&out, NULL, NULL, 0, SCALES_JSON_PRETTY);
	cr_assert(valid_json(out.data, out.len));
	scales_buf_free(&out);

	free(r);
	scales_snapshot_free(&m);
	scales_snapshot_free(&s1);
	scales_snapshot_free(&s2);
	sb_free(b);
}

/* The streaming writer gives the bytes of the rendering into a buffer, a
 * newline after, in pieces (more than its 64 KiB flush threshold here),
 * compact and pretty, for no process too; a write error is -EIO. */
Test(json, stream_equals_render)
{
	struct segbuild *b = render_image();
	enum {
		N = 200
	};
	struct scales_snapshot *s = build_snap(b, 0);
	struct scales_rate *r = calloc(s->n, sizeof(*r));
	for (size_t i = 0; i < s->n; i++)
		r[i] = (struct scales_rate){ 1.5, 2, NAN, 0.25 };
	const struct scales_snapshot *ss[N];
	const struct scales_rate *rr[N];
	for (size_t i = 0; i < N; i++) {
		ss[i] = s;
		rr[i] = i % 3 ? r : NULL;
	}
	const unsigned flags[] = { 0, SCALES_JSON_PRETTY };
	const size_t counts[] = { 0, 1, N };
	for (size_t fi = 0; fi < 2; fi++)
		for (size_t ci = 0; ci < 3; ci++) {
			size_t n = counts[ci];
			struct scales_buf want = { 0 };
			cr_assert_eq(scales_json_render(&want, ss, rr, n,
			                                flags[fi]),
			             0);
			scales_buf_append(&want, "\n", 1);
			char *mem = NULL;
			size_t memlen = 0;
			FILE *f = open_memstream(&mem, &memlen);
			scales_json_stream *js;
			cr_assert_eq(scales_json_stream_open(f, flags[fi], &js),
			             0);
			for (size_t i = 0; i < n; i++)
				cr_assert_eq(scales_json_stream_add(js, ss[i],
				                                    rr[i]),
				             0);
			cr_assert_eq(scales_json_stream_close(&js), 0);
			cr_assert_null(js);
			fclose(f);
			cr_assert_eq(memlen, want.len,
			             "flags %u, %zu: %zu != %zu", flags[fi], n,
			             memlen, want.len);
			cr_assert(memcmp(mem, want.data, want.len) == 0);
			if (n == N)
				cr_assert_gt(want.len, 2 * 64 * 1024);
			free(mem);
			scales_buf_free(&want);
		}

	FILE *full = fopen("/dev/full", "w");
	cr_assert_not_null(full);
	setvbuf(full, NULL, _IONBF, 0);
	scales_json_stream *js;
	cr_assert_eq(scales_json_stream_open(full, 0, &js), 0);
	int rc = 0;
	for (size_t i = 0; i < N && !rc; i++)
		rc = scales_json_stream_add(js, s, NULL);
	cr_assert_eq(rc, -EIO);
	cr_assert_eq(scales_json_stream_close(&js), -EIO);
	cr_assert_eq(scales_json_write(full, ss, NULL, N, 0), -EIO);
	fclose(full);

	free(r);
	scales_snapshot_free(&s);
	sb_free(b);
}

Test(json, aggregates_are_marked)
{
	struct segbuild *b = sb_new("tour", 1, 1, NULL);
	sb_agg(b, "/p/finished", SCALES_SHM_AGG_SUM, "finished");
	sb_agg(b, "/p/state", SCALES_SHM_AGG_STATES, "state");
	sb_counter_add(b, sb_counter(b, "/p/t0/finished", NULL), 0, 10);
	sb_state(b, "/p/t0/state", "busy");
	struct scales_snapshot *s = build_snap(b, 0);
	const struct scales_snapshot *ss[1] = { s };
	struct scales_buf out = { 0 };
	cr_assert_eq(scales_json_render(&out, ss, NULL, 1, 0), 0);
	cr_assert(valid_json(out.data, out.len));
	cr_assert(has(&out, "\"/p/finished\":{\"kind\":\"counter\",\"unit\":"
	                    "\"\",\"help\":null,\"aggregate\":\"sum\","
	                    "\"value\":10,"));
	cr_assert(has(&out, "\"/p/state/busy\":{\"kind\":\"gauge\",\"unit\":"
	                    "\"\",\"help\":null,\"aggregate\":\"states\","
	                    "\"value\":1,"));
	scales_buf_free(&out);
	scales_snapshot_free(&s);
	sb_free(b);
}

/*
 * scales_json_render() reads only the public fields: shallow copies of
 * snapshots whose metrics/n hold a subset (as scales-export --http passes
 * them), with priv cleared to prove it is not read, render as the
 * snapshots filtered down to that subset.
 */
Test(json, shallow_copies_with_a_subset_of_metrics)
{
	struct segbuild *b = render_image();
	struct scales_snapshot *s = build_snap(b, 0);
	struct scales_snapshot *m = NULL;
	const struct scales_snapshot *both[2] = { s, s };
	cr_assert_eq(scales_snapshot_merge(both, 2, &m), 0);
	const struct scales_snapshot *orig[2] = { s, m };
	const char *globs[] = { "/web/l*", "/web/mode" };
	struct scales_snapshot sub[2], filt[2];
	const struct scales_snapshot *subs[2], *filts[2];
	for (int k = 0; k < 2; k++) {
		const struct scales_snapshot *o = orig[k];
		/* the caller's own array, the selected metrics only */
		struct scales_metric *ms = calloc(o->n, sizeof(*ms));
		size_t n = 0;
		for (size_t i = 0; i < o->n; i++)
			if (scales_path_match(globs, 2, o->metrics[i].path))
				ms[n++] = o->metrics[i];
		cr_assert_eq(n, 3); /* latency, load, mode */
		sub[k] = *o;
		sub[k].metrics = ms;
		sub[k].n = n;
		sub[k].priv = NULL;
		subs[k] = &sub[k];
		/* the same subset through the library's filter */
		filt[k] = *o;
		filt[k].metrics = calloc(o->n, sizeof(*ms));
		memcpy(filt[k].metrics, o->metrics, o->n * sizeof(*ms));
		filt[k].priv = NULL;
		scales_snapshot_filter(&filt[k], globs, 2);
		filts[k] = &filt[k];
	}
	struct scales_buf x = { 0 }, y = { 0 };
	cr_assert_eq(scales_json_render(&x, subs, NULL, 2, 0), 0);
	cr_assert_eq(scales_json_render(&y, filts, NULL, 2, 0), 0);
	cr_assert(valid_json(x.data, x.len), "invalid: %s", x.data);
	cr_assert_str_eq(x.data, y.data);
	cr_assert(has(&x, "\"/web/latency\":{\"kind\":\"histogram\""));
	cr_assert(has(&x, "\"/web/load\":{"));
	cr_assert(has(&x, "\"/web/mode\":{"));
	cr_assert(!has(&x, "/web/errors"));
	cr_assert(!has(&x, "/web/neg"));
	cr_assert(has(&x, "\"pids\":[77,77]")); /* the merged one */
	scales_buf_free(&x);
	scales_buf_free(&y);
	for (int k = 0; k < 2; k++) {
		free(sub[k].metrics);
		free(filt[k].metrics);
	}
	scales_snapshot_free(&m);
	scales_snapshot_free(&s);
	sb_free(b);
}

Test(json, buffer)
{
	struct scales_buf b = { 0 };
	scales_buf_append(&b, "", 0);
	cr_assert_eq(b.len, 0);
	for (int i = 0; i < 10000; i++)
		scales_buf_append(&b, "abc", 3);
	cr_assert_eq(b.len, 30000);
	cr_assert_eq(b.data[b.len], 0);
	scales_buf_free(&b);
	cr_assert_null(b.data);
}

/* Every power of ten and its neighbours, both limits: the digits and the
 * length returned, against printf. */
Test(json, integers_have_exact_digits_and_length)
{
	char got[SCALES_FORMAT_INT_LEN], want[32];
	uint64_t p = 1;
	for (int e = 0; e < 20; e++, p *= 10) {
		const uint64_t vs[] = { p - 1, p, p + 1 };
		for (int k = 0; k < 3; k++) {
			int n = scales_format_u64(got, vs[k]);
			snprintf(want, sizeof(want), "%" PRIu64, vs[k]);
			cr_assert_str_eq(got, want);
			cr_assert_eq(n, (int)strlen(want));
			int64_t s = -(int64_t)(vs[k] >> 1);
			n = scales_format_i64(got, s);
			snprintf(want, sizeof(want), "%" PRId64, s);
			cr_assert_str_eq(got, want);
			cr_assert_eq(n, (int)strlen(want));
		}
	}
	cr_assert_eq(scales_format_u64(got, UINT64_MAX), 20);
	cr_assert_str_eq(got, "18446744073709551615");
	cr_assert_eq(scales_format_i64(got, INT64_MIN), 20);
	cr_assert_str_eq(got, "-9223372036854775808");
	cr_assert_eq(scales_format_i64(got, INT64_MAX), 19);
	cr_assert_eq(scales_format_i64(got, 0), 1);
	cr_assert_str_eq(got, "0");
}
