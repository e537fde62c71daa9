/* SPDX-License-Identifier: MIT */
/*
 * json.c: rendering snapshots as JSON (docs/json.md), with strict string
 * escaping and locale-independent, round-trip number formatting.
 */
#include <errno.h>
#include <float.h>
#include <inttypes.h>
#include <locale.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

/* ---------------------------------------------------------------- buffer */

void scales_buf_free(struct scales_buf *b)
{
	free(b->data);
	memset(b, 0, sizeof(*b));
}

void scales_buf_append(struct scales_buf *b, const void *bytes, size_t n)
{
	if (b->oom || n == 0)
		return;
	if (b->cap - b->len < n + 1) {
		size_t nc = b->cap ? b->cap : 256;
		while (nc - b->len < n + 1) {
			if (nc > SIZE_MAX / 2) {
				b->oom = true;
				return;
			}
			nc *= 2;
		}
		char *p = realloc(b->data, nc);
		if (!p) {
			b->oom = true;
			return;
		}
		b->data = p;
		b->cap = nc;
	}
	memcpy(b->data + b->len, bytes, n);
	b->len += n;
	b->data[b->len] = 0;
}

/* scales_buf_append() without the call while the bytes fit: the
 * renderer appends a few bytes at a time, millions of times. The NUL is
 * left out here (there is always room for it: cap > len) and written
 * once the rendering ends (scales_json_render()). */
static inline void bput(struct scales_buf *b, const void *bytes, size_t n)
{
	if (b->cap - b->len > n) {
		memcpy(b->data + b->len, bytes, n);
		b->len += n;
	} else {
		scales_buf_append(b, bytes, n);
	}
}

static void puts_(struct scales_buf *b, const char *s)
{
	bput(b, s, strlen(s));
}

/* The NUL that bput() leaves out, for the public functions. */
static void bterm(struct scales_buf *b)
{
	if (b->data && b->len < b->cap)
		b->data[b->len] = 0;
}

/* A string literal, its length known at compile time. */
#define PUTL(b, lit) bput((b), (lit), sizeof(lit) - 1)

/* --------------------------------------------------------------- strings */

/* The ASCII bytes a JSON string holds as they are (0x20 to 0x7e but '"'
 * and '\\'), as a bitmap: one shift per byte of every path. */
static const uint64_t plain_lo = 0xfffffffb00000000ull; /* 0x20-0x3f, no " */
static const uint64_t plain_hi = 0x7fffffffefffffffull; /* 0x40-0x7e, no \ */

static bool json_plain(unsigned char c)
{
	return c < 128 && ((c < 64 ? plain_lo >> c : plain_hi >> (c - 64)) & 1);
}

void scales_json_string(struct scales_buf *b, const char *str, size_t n)
{
	const unsigned char *s = (const unsigned char *)str;
	PUTL(b, "\"");
	size_t run = 0; /* bytes copied as they are, pending */
	for (size_t i = 0; i < n;) {
		unsigned char c = s[i];
		const char *esc = NULL;
		char ubuf[8];
		size_t step = 1;
		if (json_plain(c)) {
			size_t e = i + 1;
			while (e < n && json_plain(s[e]))
				e++;
			run += e - i;
			i = e;
			continue;
		}
		if (c >= 0x80) {
			size_t l = scales_utf8_decode(s + i, n - i, NULL);
			if (l) {
				run += l;
				i += l;
				continue;
			}
			esc = "\xef\xbf\xbd"; /* U+FFFD */
		} else if (c == '"')
			esc = "\\\"";
		else if (c == '\\')
			esc = "\\\\";
		else if (c == '\n')
			esc = "\\n";
		else if (c == '\r')
			esc = "\\r";
		else if (c == '\t')
			esc = "\\t";
		else if (c == '\b')
			esc = "\\b";
		else if (c == '\f')
			esc = "\\f";
		else {
			snprintf(ubuf, sizeof(ubuf), "\\u%04x", c);
			esc = ubuf;
		}
		if (run)
			bput(b, s + i - run, run);
		run = 0;
		puts_(b, esc);
		i += step;
	}
	if (run)
		bput(b, s + n - run, run);
	PUTL(b, "\"");
	bterm(b);
}

static void jstr(struct scales_buf *b, const char *s)
{
	if (s)
		scales_json_string(b, s, strlen(s));
	else
		PUTL(b, "null");
}

/* --------------------------------------------------------------- numbers */

static locale_t c_locale;
static pthread_once_t c_locale_once = PTHREAD_ONCE_INIT;

static void make_c_locale(void)
{
	c_locale = newlocale(LC_NUMERIC_MASK, "C", (locale_t)0);
}

/* a (finite, > 0) to p significant digits, correctly rounded: the digits
 * (no point) into dig[p + 1] and the decimal exponent of the first. */
static void round_digits(double a, int p, char *dig, int *exp10)
{
	char t[48];
	snprintf(t, sizeof(t), "%.*e", p - 1, a); /* "d.ddde+XX" */
	int k = 0;
	for (const char *c = t; *c && *c != 'e'; c++)
		if (*c >= '0' && *c <= '9')
			dig[k++] = *c;
	dig[k] = 0;
	*exp10 = atoi(strchr(t, 'e') + 1);
}

/* True if the p digits dig with exponent e read back as a (strtod rounds
 * to nearest, so this is the definition of round trip). */
static bool reads_back(const char *dig, int p, int e, double a)
{
	char t[48];
	snprintf(t, sizeof(t), "%c.%se%d", dig[0], p > 1 ? dig + 1 : "0", e);
	return strtod(t, NULL) == a;
}

/* The next p-digit decimal away from zero (dig + 1 in the last place). */
static void next_digits(char *dig, int p, int *exp10)
{
	int i = p - 1;
	while (i >= 0 && dig[i] == '9')
		dig[i--] = '0';
	if (i >= 0) {
		dig[i]++;
	} else { /* 99..9 + 1 = 100..0: one more power of ten */
		dig[0] = '1';
		(*exp10)++;
	}
}

/* Writes sign, digits and exponent as %.<p>g would (scientific below 1e-4
 * or from 1e<p> up, trailing zeros dropped). */
static int render_g(char *buf, size_t len, bool neg, char *dig, int p, int e)
{
	int n = p;
	while (n > 1 && dig[n - 1] == '0')
		n--;
	dig[n] = 0;
	char t[64];
	int w = 0;
	if (neg)
		t[w++] = '-';
	if (e < -4 || e >= p) {
		t[w++] = dig[0];
		if (n > 1) {
			t[w++] = '.';
			memcpy(t + w, dig + 1, (size_t)n - 1);
			w += n - 1;
		}
		w += snprintf(t + w, sizeof(t) - (size_t)w, "e%c%02d",
		              e < 0 ? '-' : '+', e < 0 ? -e : e);
	} else if (e < 0) {
		t[w++] = '0';
		t[w++] = '.';
		for (int z = -1; z > e; z--)
			t[w++] = '0';
		memcpy(t + w, dig, (size_t)n);
		w += n;
	} else {
		for (int i = 0; i <= e; i++)
			t[w++] = i < n ? dig[i] : '0';
		if (n > e + 1) {
			t[w++] = '.';
			memcpy(t + w, dig + e + 1, (size_t)(n - e - 1));
			w += n - e - 1;
		}
	}
	t[w] = 0;
	return snprintf(buf, len, "%s", t);
}

/*
 * The fewest significant digits that read back. A normal double needs at
 * least 15 digits only when no shorter decimal reads back: the nearest
 * 15-digit decimal to it is then that shorter one (its half-ulp, 1.1e-16
 * of it, is far below half a 15-digit step), so the search starts at 15.
 * A subnormal has fewer bits, so fewer digits may do: it starts at 1. The
 * nearest p-digit decimal reads back if any does, except at a power of
 * two, where the gap below is half the gap above: there the next decimal
 * up (away from zero) may read back when the nearest, below, does not.
 * 17 digits always read back.
 */
int scales_format_double(char *buf, size_t len, double v)
{
	if (isnan(v))
		return snprintf(buf, len, "NaN");
	if (isinf(v))
		return snprintf(buf, len, v > 0 ? "+Inf" : "-Inf");
	if (v == trunc(v) && fabs(v) < 9007199254740992.0)
		return snprintf(buf, len, "%.0f", v); /* no decimal point */
	/* %e and strtod follow LC_NUMERIC: work in the "C" locale */
	pthread_once(&c_locale_once, make_c_locale);
	locale_t old = c_locale ? uselocale(c_locale) : (locale_t)0;
	double a = fabs(v);
	int frexp_e;
	bool pow2 = frexp(a, &frexp_e) == 0.5 && a >= DBL_MIN;
	char dig[24];
	int p, e = 0;
	for (p = a < DBL_MIN ? 1 : 15; p < 17; p++) {
		round_digits(a, p, dig, &e);
		if (reads_back(dig, p, e, a))
			break;
		if (pow2) {
			int e2 = e;
			next_digits(dig, p, &e2);
			if (reads_back(dig, p, e2, a)) {
				e = e2;
				break;
			}
		}
	}
	if (p == 17)
		round_digits(a, 17, dig, &e);
	int n = render_g(buf, len, v < 0, dig, p, e);
	if (c_locale)
		uselocale(old);
	return n;
}

void scales_json_double(struct scales_buf *b, double v)
{
	char buf[40];
	int n;
	if (!isfinite(v))
		PUTL(b, "null");
	else if ((n = scales_format_double(buf, sizeof(buf), v)) > 0 &&
	         (size_t)n < sizeof(buf))
		bput(b, buf, (size_t)n);
	else
		PUTL(b, "null");
	bterm(b);
}

int scales_format_u64(char *buf, uint64_t v)
{
	/* the digits from the end of a scratch, then one copy: one division
	 * per digit */
	char d[SCALES_FORMAT_INT_LEN];
	size_t i = sizeof(d);
	do {
		d[--i] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	size_t n = sizeof(d) - i;
	memcpy(buf, d + i, n);
	buf[n] = 0;
	return (int)n;
}

int scales_format_i64(char *buf, int64_t v)
{
	if (v >= 0)
		return scales_format_u64(buf, (uint64_t)v);
	buf[0] = '-';
	/* -(v + 1) + 1: no overflow at INT64_MIN */
	return 1 + scales_format_u64(buf + 1, (uint64_t)(-(v + 1)) + 1);
}

static void ju64(struct scales_buf *b, uint64_t v)
{
	char d[SCALES_FORMAT_INT_LEN];
	bput(b, d, (size_t)scales_format_u64(d, v));
}

/* Every digit of a u128 (a histogram's exact raw sum). */
static void ju128(struct scales_buf *b, r_u128 v)
{
	char buf[40];
	size_t i = sizeof(buf);
	do {
		buf[--i] = (char)('0' + (unsigned)(v % 10));
		v /= 10;
	} while (v);
	bput(b, buf + i, sizeof(buf) - i);
}

static void ji64(struct scales_buf *b, int64_t v)
{
	char d[SCALES_FORMAT_INT_LEN];
	bput(b, d, (size_t)scales_format_i64(d, v));
}

/* ---------------------------------------------------------------- layout */

struct jw {
	struct scales_buf *b;
	bool pretty;
	int level;
	bool first; /* no member written yet at this level */
};

static void jw_nl(struct jw *w)
{
	if (!w->pretty)
		return;
	PUTL(w->b, "\n");
	for (int i = 0; i < w->level; i++)
		PUTL(w->b, "  ");
}

static void jw_open(struct jw *w, const char *br)
{
	puts_(w->b, br);
	w->level++;
	w->first = true;
}

static void jw_close(struct jw *w, const char *br)
{
	w->level--;
	if (!w->first)
		jw_nl(w);
	puts_(w->b, br);
	w->first = false;
}

/* Starts a member: separator, newline, "key": */
static void jw_key(struct jw *w, const char *key)
{
	if (!w->first)
		PUTL(w->b, ",");
	w->first = false;
	jw_nl(w);
	if (key) {
		jstr(w->b, key);
		if (w->pretty)
			PUTL(w->b, ": ");
		else
			PUTL(w->b, ":");
	}
}

/* jw_key() of a key that needs no escaping, given with its quotes:
 * copied, not escaped again for every metric. */
#define JW_CKEY(w, qkey)                                                       \
	do {                                                                   \
		if (!(w)->first)                                               \
			PUTL((w)->b, ",");                                     \
		(w)->first = false;                                            \
		jw_nl(w);                                                      \
		PUTL((w)->b, qkey);                                            \
		if ((w)->pretty)                                               \
			PUTL((w)->b, ": ");                                    \
		else                                                           \
			PUTL((w)->b, ":");                                     \
	} while (0)

#define JW_CDOUBLE(w, qkey, v)                                                 \
	do {                                                                   \
		JW_CKEY(w, qkey);                                              \
		scales_json_double((w)->b, v);                                 \
	} while (0)

static void render_metric(struct jw *w, const struct scales_metric *m,
                          const struct scales_rate *r)
{
	jw_key(w, m->path);
	jw_open(w, "{");
	JW_CKEY(w, "\"kind\"");
	jstr(w->b, scales_kind_name(m->kind));
	JW_CKEY(w, "\"unit\"");
	jstr(w->b, scales_unit_name(m->unit));
	JW_CKEY(w, "\"help\"");
	jstr(w->b, m->help);
	if (m->agg) {
		JW_CKEY(w, "\"aggregate\"");
		jstr(w->b, m->agg == SCALES_AGG_SUM ? "sum" : "states");
	}
	const char *slash = strrchr(m->path, '/');
	if (slash && (m->flags & SCALES_MF_KEY)) {
		/* a dict key as written; the path holds it escaped */
		char *key = malloc(strlen(slash));
		if (key) {
			scales_derived_value(slash + 1, key);
			jw_key(w, "key");
			jstr(w->b, key);
			free(key);
		} else {
			w->b->oom = true;
		}
	}
	struct scales_label l;
	size_t nl = 0;
	for (; scales_metric_label(m, nl, &l); nl++) {
		if (nl == 0) {
			jw_key(w, "labels");
			jw_open(w, "{");
		}
		/* names are [A-Za-z0-9_]; a value decodes as a derived path
		 * component does (docs/format.md section 6) */
		char name[SCALES_LABEL_NAME_BUF], value[256];
		snprintf(name, sizeof name, "%.*s", (int)l.name_len, l.name);
		char comp[256];
		snprintf(comp, sizeof comp, "%.*s", (int)l.value_len, l.value);
		scales_derived_value(comp, value);
		jw_key(w, name);
		jstr(w->b, value);
	}
	if (nl)
		jw_close(w, "}");
	if (m->side->key_label) {
		jw_key(w, "key_label");
		jstr(w->b, m->side->key_label);
	}
	switch (m->kind) {
	case SCALES_KIND_COUNTER:
	case SCALES_KIND_DICT:
		JW_CKEY(w, "\"value\"");
		ju64(w->b, m->v.u64);
		break;
	case SCALES_KIND_GAUGE:
		JW_CKEY(w, "\"value\"");
		ji64(w->b, m->v.i64);
		break;
	case SCALES_KIND_GAUGE_F64:
		JW_CDOUBLE(w, "\"value\"", m->v.f64);
		break;
	case SCALES_KIND_STATE:
		JW_CKEY(w, "\"value\"");
		jstr(w->b, m->v.state);
		if (m->flags & SCALES_MF_MERGED) {
			JW_CKEY(w, "\"values\"");
			jw_open(w, "{");
			for (uint32_t i = 0; i < m->side->nstates; i++) {
				jw_key(w, m->side->states[i].value);
				ju64(w->b, m->side->states[i].count);
			}
			jw_close(w, "}");
		}
		if (m->flags & SCALES_MF_TIMED) {
			/* time in state (format 1.4): seconds per value, the
			 * current one running; "" is "other" */
			JW_CKEY(w, "\"seconds\"");
			jw_open(w, "{");
			for (uint32_t i = 0; i < m->side->ntimes; i++) {
				jw_key(w, m->side->times[i].value);
				scales_json_double(
				    w->b, (double)m->side->times[i].ns / 1e9);
			}
			jw_close(w, "}");
		}
		break;
	case SCALES_KIND_HISTOGRAM: {
		struct scales_hstats st;
		scales_histo_stats(&m->side->hist, &st);
		JW_CKEY(w, "\"count\"");
		ju64(w->b, st.count);
		if (m->side->hist.scale == 1.0) {
			/* an integer sum is exact in JSON, even beyond 2^64
			 * (docs/json.md) */
			JW_CKEY(w, "\"sum\"");
			ju128(w->b, r_hsum(&m->side->hist));
		} else {
			JW_CDOUBLE(w, "\"sum\"", st.sum);
		}
		JW_CDOUBLE(w, "\"min\"", st.min);
		JW_CDOUBLE(w, "\"max\"", st.max);
		JW_CDOUBLE(w, "\"mean\"", st.mean);
		JW_CDOUBLE(w, "\"stddev\"", st.stddev);
		JW_CDOUBLE(w, "\"p50\"", st.p50);
		JW_CDOUBLE(w, "\"p75\"", st.p75);
		JW_CDOUBLE(w, "\"p95\"", st.p95);
		JW_CDOUBLE(w, "\"p98\"", st.p98);
		JW_CDOUBLE(w, "\"p99\"", st.p99);
		JW_CDOUBLE(w, "\"p999\"", st.p999);
		break;
	}
	default:
		break;
	}
	JW_CDOUBLE(w, "\"rate\"", r ? r->rate : NAN);
	JW_CDOUBLE(w, "\"m1\"", r ? r->m1 : NAN);
	JW_CDOUBLE(w, "\"m5\"", r ? r->m5 : NAN);
	JW_CDOUBLE(w, "\"m15\"", r ? r->m15 : NAN);
	jw_close(w, "}");
}

/* The document's opening, up to the processes' array. */
static void render_begin(struct jw *w)
{
	jw_open(w, "{");
	JW_CKEY(w, "\"processes\"");
	jw_open(w, "[");
}

/* One element of the processes' array; r: s->n rates or NULL. */
static void render_process(struct jw *w, const struct scales_snapshot *s,
                           const struct scales_rate *r)
{
	struct scales_buf *b = w->b;
	jw_key(w, NULL);
	jw_open(w, "{");
	bool merged = s->segment_path == NULL && s->proc.pid == 0;
	JW_CKEY(w, "\"pid\"");
	ji64(b, s->proc.pid);
	if (merged) {
		JW_CKEY(w, "\"pids\"");
		puts_(b, "[");
		for (uint32_t k = 0; k < s->nmembers; k++) {
			if (k)
				puts_(b, ",");
			ji64(b, s->member_pids[k]);
		}
		puts_(b, "]");
	}
	JW_CKEY(w, "\"app\"");
	jstr(b, s->proc.app);
	JW_CKEY(w, "\"alive\"");
	puts_(b, s->proc.alive ? "true" : "false");
	JW_CKEY(w, "\"start_time\"");
	ju64(b, s->proc.start_time);
	JW_CKEY(w, "\"uid\"");
	ju64(b, s->proc.uid);
	JW_CKEY(w, "\"refused\"");
	ju64(b, s->proc.refused);
	JW_CKEY(w, "\"segment\"");
	jstr(b, s->segment_path);
	JW_CDOUBLE(w, "\"time\"", (double)s->real_ns / 1e9);
	JW_CKEY(w, "\"metrics\"");
	jw_open(w, "{");
	for (size_t k = 0; k < s->n; k++)
		render_metric(w, &s->metrics[k], r ? &r[k] : NULL);
	jw_close(w, "}");
	jw_close(w, "}");
}

static void render_end(struct jw *w)
{
	jw_close(w, "]");
	jw_close(w, "}");
	bterm(w->b); /* bput() left the NUL out */
}

int scales_json_render(struct scales_buf *b,
                       const struct scales_snapshot *const *snaps,
                       const struct scales_rate *const *rates, size_t n,
                       unsigned flags)
{
	struct jw w = { b, (flags & SCALES_JSON_PRETTY) != 0, 0, true };
	render_begin(&w);
	for (size_t i = 0; i < n; i++)
		render_process(&w, snaps[i], rates ? rates[i] : NULL);
	render_end(&w);
	return b->oom ? -ENOMEM : 0;
}

/* ------------------------------------------------------------- streaming */

/* The same renderer into a buffer written out whenever it holds this
 * much: the document's size no longer bounds the memory (issue 17.2). */
#define STREAM_FLUSH (64u * 1024u)

struct scales_json_stream {
	FILE *f;
	struct scales_buf b;
	struct jw w;
	int rc; /* the first error: later calls do nothing */
};

/* Writes out what b holds once it reaches at least min bytes. */
static void stream_flush(scales_json_stream *js, size_t min)
{
	if (!js->rc && js->b.oom)
		js->rc = -ENOMEM;
	if (js->rc || js->b.len < min || js->b.len == 0)
		return;
	if (fwrite(js->b.data, 1, js->b.len, js->f) != js->b.len)
		js->rc = -EIO;
	js->b.len = 0;
}

int scales_json_stream_open(FILE *f, unsigned flags, scales_json_stream **out)
{
	*out = NULL;
	scales_json_stream *js = calloc(1, sizeof(*js));
	if (!js)
		return -ENOMEM;
	js->f = f;
	js->w =
	    (struct jw){ &js->b, (flags & SCALES_JSON_PRETTY) != 0, 0, true };
	render_begin(&js->w);
	if (js->b.oom) {
		scales_buf_free(&js->b);
		free(js);
		return -ENOMEM;
	}
	*out = js;
	return 0;
}

int scales_json_stream_add(scales_json_stream *js,
                           const struct scales_snapshot *s,
                           const struct scales_rate *rates)
{
	if (!js->rc) {
		render_process(&js->w, s, rates);
		stream_flush(js, STREAM_FLUSH);
	}
	return js->rc;
}

int scales_json_stream_close(scales_json_stream **jsp)
{
	scales_json_stream *js = *jsp;
	if (!js)
		return 0;
	if (!js->rc) {
		render_end(&js->w);
		PUTL(&js->b, "\n");
		stream_flush(js, 0);
	}
	int rc = js->rc;
	scales_buf_free(&js->b);
	free(js);
	*jsp = NULL;
	return rc;
}

int scales_json_write(FILE *f, const struct scales_snapshot *const *snaps,
                      const struct scales_rate *const *rates, size_t n,
                      unsigned flags)
{
	scales_json_stream *js;
	int rc = scales_json_stream_open(f, flags, &js);
	for (size_t i = 0; !rc && i < n; i++)
		rc = scales_json_stream_add(js, snaps[i],
		                            rates ? rates[i] : NULL);
	int crc = scales_json_stream_close(&js);
	return rc ? rc : crc;
}
