/* SPDX-License-Identifier: MIT */
/*
 * html.c: the HTML stats page and the ?format=history document.
 *
 * Every string that comes from a segment (app names, paths, help texts,
 * state values) goes through html_escape() before it lands in text or in
 * a quoted attribute, and through url_path_encode() in an href. The page
 * holds no data inside its script: the script reads the DOM and the JSON
 * it fetches, and writes with textContent and setAttribute only.
 */
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "http_internal.h"

#define SPARK_W 120
#define SPARK_H 22
#define MAX_DEPTH 12

/* ------------------------------------------------------------- buffers */

void buf_puts(struct scales_buf *b, const char *s)
{
	scales_buf_append(b, s, strlen(s));
}

void buf_printf(struct scales_buf *b, const char *fmt, ...)
{
	char small[256];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(small, sizeof(small), fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if ((size_t)n < sizeof(small)) {
		scales_buf_append(b, small, (size_t)n);
		return;
	}
	char *big = malloc((size_t)n + 1);
	if (!big) {
		b->oom = true;
		return;
	}
	va_start(ap, fmt);
	vsnprintf(big, (size_t)n + 1, fmt, ap);
	va_end(ap);
	scales_buf_append(b, big, (size_t)n);
	free(big);
}

/* ------------------------------------------------------------ escaping */

void html_escape(struct scales_buf *b, const char *str, size_t n)
{
	if (!str)
		return;
	const unsigned char *s = (const unsigned char *)str;
	size_t run = 0;
	for (size_t i = 0; i < n;) {
		unsigned char c = s[i];
		const char *esc = NULL;
		size_t step = 1;
		switch (c) {
		case '&':
			esc = "&amp;";
			break;
		case '<':
			esc = "&lt;";
			break;
		case '>':
			esc = "&gt;";
			break;
		case '"':
			esc = "&quot;";
			break;
		case '\'':
			esc = "&#39;";
			break;
		case '\t':
		case '\n':
		case '\r':
			break;
		default:
			if (c < 0x20 || c == 0x7f) {
				esc = "\xef\xbf\xbd";
			} else if (c >= 0x80) {
				step = scales_utf8_decode(s + i, n - i, NULL);
				if (!step) {
					esc = "\xef\xbf\xbd";
					step = 1;
				}
			}
		}
		if (!esc) {
			run += step;
			i += step;
			continue;
		}
		scales_buf_append(b, s + i - run, run);
		run = 0;
		buf_puts(b, esc);
		i += step;
	}
	scales_buf_append(b, s + n - run, run);
}

void html_escape_str(struct scales_buf *b, const char *s)
{
	if (s)
		html_escape(b, s, strlen(s));
}

void url_path_encode(struct scales_buf *b, const char *s)
{
	static const char hex[] = "0123456789ABCDEF";
	for (; s && *s; s++) {
		unsigned char c = (unsigned char)*s;
		if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
		    (c >= '0' && c <= '9') || c == '-' || c == '.' ||
		    c == '_' || c == '~' || c == '/') {
			scales_buf_append(b, s, 1);
		} else {
			char e[3] = { '%', hex[c >> 4], hex[c & 15] };
			scales_buf_append(b, e, 3);
		}
	}
}

/* Escaped text of an attribute or element from a printf format: only for
 * our own numbers and names. */
static void raw(struct scales_buf *b, const char *s)
{
	buf_puts(b, s);
}

/* --------------------------------------------------------------- human */

/* 3 significant digits, as JavaScript's Number(x.toPrecision(3)). */
static void sig3(char *out, size_t len, double v)
{
	if (v == floor(v) && fabs(v) < 1000)
		snprintf(out, len, "%.0f", v);
	else
		snprintf(out, len, "%.3g", v);
}

static void si(char *out, size_t len, double v, const char *unit, double k,
               const char *const *prefixes)
{
	double a = fabs(v);
	size_t p = 0;
	while (a >= k && prefixes[p + 1]) {
		a /= k;
		v /= k;
		p++;
	}
	/* 999.7 rounds to "1e+03": move up one prefix instead */
	if (a >= 999.5 && prefixes[p + 1]) {
		v /= k;
		p++;
	}
	char num[32];
	sig3(num, sizeof(num), v);
	if (*unit)
		snprintf(out, len, "%s %s%s", num, prefixes[p], unit);
	else
		snprintf(out, len, "%s%s", num, prefixes[p]);
}

void html_human(char *out, size_t len, double v, unsigned unit)
{
	static const char *const dec[] = { "",  "k", "M", "G",
		                           "T", "P", "E", NULL };
	static const char *const bin[] = { "",   "Ki", "Mi", "Gi",
		                           "Ti", "Pi", "Ei", NULL };
	if (!isfinite(v)) {
		snprintf(out, len, "-");
		return;
	}
	if (unit == SCALES_UNIT_BYTES) {
		si(out, len, v, "B", 1024, bin);
		return;
	}
	if (unit != SCALES_UNIT_SECONDS) {
		si(out, len, v, "", 1000, dec);
		return;
	}
	double a = fabs(v);
	char num[32];
	const char *u;
	if (a == 0) {
		snprintf(out, len, "0 s");
		return;
	} else if (a < 1e-6) {
		v *= 1e9, u = "ns";
	} else if (a < 1e-3) {
		v *= 1e6, u = "\xc2\xb5s";
	} else if (a < 1) {
		v *= 1e3, u = "ms";
	} else if (a < 60) {
		u = "s";
	} else if (a < 3600) {
		v /= 60, u = "min";
	} else if (a < 86400) {
		v /= 3600, u = "h";
	} else if (v >= 1e9 && v < 1e10) {
		/* a point in time: the wall clock (UTC) */
		time_t t = (time_t)v;
		struct tm tm;
		if (gmtime_r(&t, &tm) &&
		    strftime(out, len, "%Y-%m-%d %H:%M:%SZ", &tm))
			return;
		v /= 86400, u = "d";
	} else {
		v /= 86400, u = "d";
		si(num, sizeof(num), v, "", 1000, dec);
		snprintf(out, len, "%s %s", num, u);
		return;
	}
	sig3(num, sizeof(num), v);
	snprintf(out, len, "%s %s", num, u);
}

/* ------------------------------------------------------------ ordering */

int hpath_cmp(const char *a, const char *b)
{
	for (;; a++, b++) {
		unsigned char x = (unsigned char)*a, y = (unsigned char)*b;
		if (x == y) {
			if (!x)
				return 0;
			continue;
		}
		/* the end first, then "/", then every other byte */
		unsigned rx = x == 0 ? 0 : x == '/' ? 1 : x + 1u;
		unsigned ry = y == 0 ? 0 : y == '/' ? 1 : y + 1u;
		return rx < ry ? -1 : 1;
	}
}

/* ----------------------------------------------------------- sparkline */

static void spark(struct scales_buf *b, const struct hring *r,
                  unsigned capacity, unsigned unit, bool rate)
{
	double *v = malloc(capacity * sizeof(double));
	if (!v) {
		b->oom = true;
		return;
	}
	unsigned n = hring_values(r, capacity, v);
	double lo = INFINITY, hi = -INFINITY, last = NAN;
	for (unsigned i = 0; i < n; i++) {
		if (!isfinite(v[i]))
			continue;
		lo = fmin(lo, v[i]);
		hi = fmax(hi, v[i]);
		last = v[i];
	}
	buf_printf(b,
	           "<svg class=\"spark\" width=\"%d\" height=\"%d\" "
	           "viewBox=\"0 0 %d %d\" role=\"img\" data-cap=\"%u\" "
	           "data-points=\"",
	           SPARK_W, SPARK_H, SPARK_W, SPARK_H, capacity);
	for (unsigned i = 0; i < n; i++) /* 6 digits are plenty to draw */
		if (isfinite(v[i]))
			buf_printf(b, "%s%.6g", i ? " " : "", v[i]);
		else
			buf_printf(b, "%sNaN", i ? " " : "");
	buf_puts(b, "\"><title>");
	if (isfinite(last)) {
		char a[48], c[48], d[48];
		html_human(a, sizeof(a), lo, unit);
		html_human(c, sizeof(c), hi, unit);
		html_human(d, sizeof(d), last, unit);
		const char *ps = rate ? "/s" : "";
		buf_printf(b, "last %d samples: min ", (int)n);
		html_escape_str(b, a);
		raw(b, ps);
		buf_puts(b, ", max ");
		html_escape_str(b, c);
		raw(b, ps);
		buf_puts(b, ", last ");
		html_escape_str(b, d);
		raw(b, ps);
	} else {
		buf_printf(b, "no value in the last %u samples", n);
	}
	buf_puts(b, "</title>");
	/* polylines, broken where a value is missing; newest at the right */
	double step = capacity > 1 ? (double)(SPARK_W - 2) / (capacity - 1) : 0;
	bool open = false;
	for (unsigned i = 0; i < n; i++) {
		if (!isfinite(v[i])) {
			if (open)
				buf_puts(b, "\"/>");
			open = false;
			continue;
		}
		double x = (SPARK_W - 1) - (double)(n - 1 - i) * step;
		double y = hi > lo ? (SPARK_H - 1) - (v[i] - lo) / (hi - lo) *
		                                         (SPARK_H - 2) :
		                     SPARK_H / 2.0;
		if (!open)
			buf_puts(b, "<polyline points=\"");
		buf_printf(b, "%s%.1f,%.1f", open ? " " : "", x, y);
		open = true;
	}
	if (open)
		buf_puts(b, "\"/>");
	buf_puts(b, "</svg>");
	free(v);
}

/* --------------------------------------------------------------- charts */

/*
 * The large charts of a metric's own page (its path is the page's path):
 * inline SVG drawn here, with axes, tick labels in the metric's unit and
 * a title; classes only (the CSP allows no style attributes). Every chart
 * says what it holds in data- attributes for the tests: data-cap (slots
 * on the time axis), data-samples, and per series data-points.
 */
#define CHART_W 960
#define CHART_H 300
#define CHART_L 78 /* left margin: the y labels */
#define CHART_R 20
#define CHART_T 16
#define CHART_B 42 /* bottom: the x labels and the axis title */

struct cseries {
	const char *name; /* legend and data-series */
	const double *v;  /* n values, oldest first; NaN: none */
};

/* A round step (1, 2 or 5 times a power of ten) giving about n ticks. */
static double nice_step(double range, int n)
{
	double raw = range / n;
	double p = pow(10, floor(log10(raw)));
	double f = raw / p;
	return (f <= 1 ? 1 : f <= 2 ? 2 : f <= 5 ? 5 : 10) * p;
}

/* A tick label: the human form in unit, then suffix ("/s"). */
static void tick_label(struct scales_buf *b, double v, unsigned unit,
                       const char *suffix)
{
	char h[64];
	/* -0 and rounding noise print as 0 */
	html_human(h, sizeof(h), fabs(v) < 1e-12 ? 0 : v, unit);
	html_escape_str(b, h);
	raw(b, suffix);
}

/* The y axis: grid lines and labels from lo to hi (rounded out to a
 * step); *y0 and *y1 get the rounded range. */
static void y_axis(struct scales_buf *b, double lo, double hi, unsigned unit,
                   const char *suffix, double *y0, double *y1)
{
	double step = nice_step(hi - lo, 5);
	*y0 = floor(lo / step) * step;
	*y1 = ceil(hi / step) * step;
	if (*y1 <= *y0)
		*y1 = *y0 + step;
	double ph = CHART_H - CHART_T - CHART_B;
	buf_puts(b, "<g class=\"axis y\">");
	for (int k = 0;; k++) {
		double v = *y0 + k * step;
		if (v > *y1 + step / 2)
			break;
		double y = CHART_T + ph - (v - *y0) / (*y1 - *y0) * ph;
		buf_printf(b,
		           "<line class=\"grid\" x1=\"%d\" x2=\"%d\" "
		           "y1=\"%.1f\" y2=\"%.1f\"/><text class=\"tick\" "
		           "x=\"%d\" y=\"%.1f\" text-anchor=\"end\">",
		           CHART_L, CHART_W - CHART_R, y, y, CHART_L - 6,
		           y + 4);
		tick_label(b, v, unit, suffix);
		buf_puts(b, "</text>");
	}
	buf_puts(b, "</g>");
}

static void y_title(struct scales_buf *b, const char *t)
{
	buf_printf(b,
	           "<text class=\"atitle\" transform=\"rotate(-90)\" "
	           "x=\"%d\" y=\"14\" text-anchor=\"middle\">",
	           -(CHART_T + (CHART_H - CHART_T - CHART_B) / 2));
	html_escape_str(b, t);
	buf_puts(b, "</text>");
}

/* The time chart: n samples of each series, the newest at the right edge
 * ("now"), cap slots of interval_ms across. */
static void time_chart(struct scales_buf *b, const char *title,
                       const char *ytitle, const struct cseries *ser,
                       size_t nser, unsigned n, unsigned cap,
                       unsigned interval_ms, unsigned unit, const char *suffix)
{
	double lo = INFINITY, hi = -INFINITY;
	for (size_t s = 0; s < nser; s++)
		for (unsigned i = 0; i < n; i++)
			if (isfinite(ser[s].v[i])) {
				lo = fmin(lo, ser[s].v[i]);
				hi = fmax(hi, ser[s].v[i]);
			}
	if (!isfinite(lo))
		lo = 0, hi = 1;
	if (lo > 0)
		lo = 0; /* from zero unless values go below it */
	if (hi <= lo)
		hi = lo + (lo ? fabs(lo) : 1);

	buf_printf(b,
	           "<figure class=\"chart\"><svg class=\"chart time\" "
	           "viewBox=\"0 0 %d %d\" width=\"%d\" height=\"%d\" "
	           "role=\"img\" data-cap=\"%u\" data-samples=\"%u\" "
	           "data-interval-ms=\"%u\"><title>",
	           CHART_W, CHART_H, CHART_W, CHART_H, cap, n, interval_ms);
	html_escape_str(b, title);
	buf_puts(b, "</title>");
	double y0, y1;
	y_axis(b, lo, hi, unit, suffix, &y0, &y1);
	y_title(b, ytitle);

	/* x: seconds before now, ticks at a round step */
	double pw = CHART_W - CHART_L - CHART_R;
	double ph = CHART_H - CHART_T - CHART_B;
	/* cap slots: the oldest one sample right of the left edge */
	double span = (double)(cap ? cap : 1) * interval_ms / 1000.0;
	static const double steps[] = { 1,   2,   5,   10,  15,   30,  60,
		                        120, 300, 600, 900, 1800, 3600 };
	double ts = steps[0];
	for (size_t k = 0; k < sizeof(steps) / sizeof(steps[0]); k++) {
		ts = steps[k];
		if (span / ts <= 8)
			break;
	}
	int bottom = CHART_H - CHART_B;
	buf_printf(b,
	           "<g class=\"axis x\"><line class=\"base\" x1=\"%d\" "
	           "x2=\"%d\" y1=\"%d\" y2=\"%d\"/>",
	           CHART_L, CHART_W - CHART_R, bottom, bottom);
	for (int k = 0; k * ts <= span + 1e-9; k++) {
		double x = CHART_L + pw - k * ts / span * pw;
		buf_printf(b,
		           "<line class=\"tickmark\" x1=\"%.1f\" x2=\"%.1f\" "
		           "y1=\"%d\" y2=\"%d\"/><text class=\"tick\" "
		           "x=\"%.1f\" y=\"%d\" text-anchor=\"middle\">",
		           x, x, bottom, bottom + 4, x, bottom + 16);
		if (k == 0) {
			buf_puts(b, "now");
		} else {
			char h[48];
			html_human(h, sizeof(h), k * ts, SCALES_UNIT_SECONDS);
			buf_puts(b, "-");
			html_escape_str(b, h);
		}
		buf_puts(b, "</text>");
	}
	char iv[48];
	html_human(iv, sizeof(iv), interval_ms / 1000.0, SCALES_UNIT_SECONDS);
	buf_printf(b,
	           "<text class=\"atitle\" x=\"%.1f\" y=\"%d\" "
	           "text-anchor=\"middle\">time (one sample every ",
	           CHART_L + pw / 2, CHART_H - 6);
	html_escape_str(b, iv);
	buf_puts(b, ")</text></g>");

	double step = pw / (cap ? cap : 1);
	for (size_t s = 0; s < nser; s++) {
		unsigned pts = 0;
		for (unsigned i = 0; i < n; i++)
			pts += isfinite(ser[s].v[i]);
		buf_printf(b,
		           "<g class=\"series s%zu\" data-series=\"%s\" "
		           "data-points=\"%u\">",
		           s, ser[s].name, pts);
		/* polylines broken where a value is missing; a run of one
		 * value is a dot */
		for (unsigned i = 0; i < n;) {
			if (!isfinite(ser[s].v[i])) {
				i++;
				continue;
			}
			unsigned e = i;
			while (e < n && isfinite(ser[s].v[e]))
				e++;
			buf_puts(b, e - i == 1 ? "<circle r=\"2\" " :
			                         "<polyline points=\"");
			for (unsigned k = i; k < e; k++) {
				double x =
				    CHART_L + pw - (double)(n - 1 - k) * step;
				double y = CHART_T + ph -
				           (ser[s].v[k] - y0) / (y1 - y0) * ph;
				if (e - i == 1)
					buf_printf(b, "cx=\"%.1f\" cy=\"%.1f\"",
					           x, y);
				else
					buf_printf(b, "%s%.1f,%.1f",
					           k > i ? " " : "", x, y);
			}
			buf_puts(b, e - i == 1 ? "/>" : "\"/>");
			i = e;
		}
		buf_puts(b, "</g>");
	}
	if (nser > 1) {
		buf_puts(b, "<g class=\"legend\">");
		for (size_t s = 0; s < nser; s++) {
			double x = CHART_L + 10 + 90.0 * s;
			buf_printf(
			    b,
			    "<line class=\"s%zu\" x1=\"%.1f\" x2=\"%.1f\" "
			    "y1=\"%d\" y2=\"%d\"/><text class=\"tick\" "
			    "x=\"%.1f\" y=\"%d\">%s</text>",
			    s, x, x + 18, CHART_T + 6, CHART_T + 6, x + 22,
			    CHART_T + 10, ser[s].name);
		}
		buf_puts(b, "</g>");
	}
	buf_puts(b, "</svg><figcaption>");
	html_escape_str(b, title);
	buf_puts(b, "</figcaption></figure>\n");
}

/* The latency distribution: the histogram's buckets (every value recorded
 * since the start) gathered into DIST_BINS bars of equal width on a log
 * axis, the p50 and p99 marked. */
#define DIST_BINS 48
static void dist_chart(struct scales_buf *b, const struct scales_histo *h,
                       unsigned unit)
{
	uint32_t bl = UINT32_MAX, bh = 0;
	for (uint32_t k = 0; k < h->nbuckets; k++)
		if (h->buckets[k]) {
			if (bl == UINT32_MAX)
				bl = k;
			bh = k;
		}
	if (bl == UINT32_MAX || !h->count)
		return;
	uint64_t lo, w, hlo, hw;
	scales_histo_bucket_range(h, bl, &lo, &w);
	scales_histo_bucket_range(h, bh, &hlo, &hw);
	/* raw values; a log axis starts above 0 */
	double xlo = lo ? (double)lo : 1, xhi = (double)hlo + (double)hw;
	if (xhi < xlo * 1.01)
		xhi = xlo * 2;
	double llo = log(xlo), lr = log(xhi) - llo;
	uint64_t bins[DIST_BINS] = { 0 }, top = 0, total = 0;
	for (uint32_t k = bl; k <= bh; k++) {
		if (!h->buckets[k])
			continue;
		scales_histo_bucket_range(h, k, &lo, &w);
		double mid = (double)lo + ((double)w - 1) / 2;
		int x =
		    mid < xlo ? 0 : (int)((log(mid) - llo) / lr * DIST_BINS);
		x = x < 0 ? 0 : x >= DIST_BINS ? DIST_BINS - 1 : x;
		bins[x] += h->buckets[k];
		total += h->buckets[k];
	}
	for (int k = 0; k < DIST_BINS; k++)
		top = bins[k] > top ? bins[k] : top;

	char title[200], a[48], c[48];
	struct scales_hstats st;
	scales_histo_stats(h, &st);
	buf_printf(b,
	           "<figure class=\"chart\"><svg class=\"chart dist\" "
	           "viewBox=\"0 0 %d %d\" width=\"%d\" height=\"%d\" "
	           "role=\"img\" data-bars=\"%d\" data-count=\"%" PRIu64
	           "\"><title>",
	           CHART_W, CHART_H, CHART_W, CHART_H, DIST_BINS, total);
	snprintf(title, sizeof(title),
	         "distribution of the %" PRIu64 " values recorded since the "
	         "start (log scale)",
	         h->count);
	html_escape_str(b, title);
	buf_puts(b, "</title>");
	double y0, y1;
	y_axis(b, 0, (double)top, 0, "", &y0, &y1);
	y_title(b, "values per bar");
	double pw = CHART_W - CHART_L - CHART_R;
	double ph = CHART_H - CHART_T - CHART_B;
	int bottom = CHART_H - CHART_B;
	double bw = pw / DIST_BINS;
	buf_puts(b, "<g class=\"bars\">");
	for (int k = 0; k < DIST_BINS; k++) {
		double bhgt = (double)bins[k] / (y1 - y0) * ph;
		/* the value range of the bar, in the unit */
		html_human(a, sizeof(a),
		           exp(llo + lr * k / DIST_BINS) * h->scale, unit);
		html_human(c, sizeof(c),
		           exp(llo + lr * (k + 1) / DIST_BINS) * h->scale,
		           unit);
		buf_printf(
		    b,
		    "<rect class=\"bar\" x=\"%.1f\" y=\"%.1f\" "
		    "width=\"%.1f\" height=\"%.1f\" data-count=\"%" PRIu64
		    "\"><title>",
		    CHART_L + k * bw + 0.5, bottom - bhgt, bw - 1, bhgt,
		    bins[k]);
		html_escape_str(b, a);
		buf_puts(b, " to ");
		html_escape_str(b, c);
		buf_printf(b, ": %" PRIu64 "</title></rect>", bins[k]);
	}
	buf_puts(b, "</g>");
	/* x: 7 ticks evenly on the log axis */
	buf_printf(b,
	           "<g class=\"axis x\"><line class=\"base\" x1=\"%d\" "
	           "x2=\"%d\" y1=\"%d\" y2=\"%d\"/>",
	           CHART_L, CHART_W - CHART_R, bottom, bottom);
	for (int k = 0; k <= 6; k++) {
		double x = CHART_L + pw * k / 6;
		html_human(a, sizeof(a), exp(llo + lr * k / 6) * h->scale,
		           unit);
		buf_printf(b,
		           "<line class=\"tickmark\" x1=\"%.1f\" x2=\"%.1f\" "
		           "y1=\"%d\" y2=\"%d\"/><text class=\"tick\" "
		           "x=\"%.1f\" y=\"%d\" text-anchor=\"middle\">",
		           x, x, bottom, bottom + 4, x, bottom + 16);
		html_escape_str(b, a);
		buf_puts(b, "</text>");
	}
	buf_printf(b,
	           "<text class=\"atitle\" x=\"%.1f\" y=\"%d\" "
	           "text-anchor=\"middle\">",
	           CHART_L + pw / 2, CHART_H - 6);
	html_escape_str(b, scales_unit_name(unit));
	buf_puts(b, " (log scale)</text></g>");
	/* the quantiles */
	const struct {
		const char *name;
		double v;
	} q[] = { { "p50", st.p50 }, { "p99", st.p99 } };
	for (size_t k = 0; k < 2; k++) {
		if (!isfinite(q[k].v) || !h->scale)
			continue;
		double raw = q[k].v / h->scale;
		double x = raw <= xlo ? 0 : (log(raw) - llo) / lr;
		x = CHART_L + pw * (x > 1 ? 1 : x);
		html_human(a, sizeof(a), q[k].v, unit);
		buf_printf(b,
		           "<g class=\"mark m%zu\" data-mark=\"%s\"><line "
		           "x1=\"%.1f\" x2=\"%.1f\" y1=\"%d\" y2=\"%d\"/>"
		           "<text class=\"tick\" x=\"%.1f\" y=\"%d\" "
		           "text-anchor=\"%s\">%s ",
		           k, q[k].name, x, x, CHART_T, bottom,
		           x + (k ? 4 : -4), CHART_T + 10 + 14 * (int)k,
		           k ? "start" : "end", q[k].name);
		html_escape_str(b, a);
		buf_puts(b, "</text></g>");
	}
	buf_puts(b, "</svg><figcaption>");
	html_escape_str(b, title);
	buf_puts(b, "</figcaption></figure>\n");
}

/* The charts of metric i of the group on its own page. */
static void metric_charts(struct scales_buf *b, const struct hgroup *g,
                          size_t i, unsigned keep, unsigned interval_ms)
{
	const struct scales_metric *m = &g->snap->metrics[i];
	const struct hring *r = g->rings ? g->rings[i] : NULL;
	if (!r)
		return;
	double *v = calloc((size_t)keep * 3, sizeof(double));
	if (!v) {
		b->oom = true;
		return;
	}
	unsigned n = hring_values(r, keep, v);
	char span[48], title[160];
	html_human(span, sizeof(span), (double)keep * interval_ms / 1000.0,
	           SCALES_UNIT_SECONDS);
	const char *unit = scales_unit_name(m->unit);
	bool timestamp = false;
	switch (m->kind) {
	case SCALES_KIND_COUNTER:
	case SCALES_KIND_DICT: {
		snprintf(title, sizeof(title), "rate over the last %s", span);
		char yt[64];
		snprintf(yt, sizeof(yt), "%s per second",
		         m->unit == SCALES_UNIT_BYTES ? "bytes" : "events");
		struct cseries s = { "rate", v };
		time_chart(b, title, yt, &s, 1, n, keep, interval_ms, m->unit,
		           "/s");
		break;
	}
	case SCALES_KIND_HISTOGRAM: {
		dist_chart(b, &m->hist, m->unit);
		snprintf(title, sizeof(title),
		         "quantiles of each interval over the last %s", span);
		hring_series(r, HRING_P50, keep, v + keep);
		hring_series(r, HRING_P999, keep, v + 2 * (size_t)keep);
		struct cseries s[3] = { { "p50", v + keep },
			                { "p99", v },
			                { "p99.9", v + 2 * (size_t)keep } };
		time_chart(b, title, unit, s, 3, n, keep, interval_ms, m->unit,
		           "");
		break;
	}
	default:
		/* gauges; a point in time (seconds since 1970) is not drawn */
		for (unsigned k = 0; k < n; k++)
			timestamp |= m->unit == SCALES_UNIT_SECONDS &&
			             v[k] >= 1e9 && v[k] < 1e10;
		if (timestamp)
			break;
		snprintf(title, sizeof(title), "value over the last %s", span);
		struct cseries s = { "value", v };
		time_chart(b, title, unit, &s, 1, n, keep, interval_ms, m->unit,
		           "");
	}
	free(v);
}

/* ---------------------------------------------------- style and script */

/*
 * The stats page's style sheet and script live in assets/page.css and
 * assets/page.js, embedded at build time (assets/embed.py) and inlined into
 * every page (no external assets: the page works offline). Both carry the
 * response's CSP nonce (head()).
 *
 * The script implements the auto-refresh toggle: while it is on, it polls
 * ?format=json (values, rates, histogram statistics) and ?format=history
 * (the sparklines) of the same path and query every sampling interval, with
 * fetch() (no persistent connection), and updates the page in place with
 * textContent and setAttribute only. When the set of processes or metrics
 * changed it fetches the page itself and swaps its <main> in (parsed by
 * DOMParser: scripts of a parsed document never run). The toggle is
 * remembered in localStorage; ?refresh=1 turns it on. After each update
 * <body data-refreshed> counts the updates (the tests read it).
 *
 * Numbers are read from the JSON text exactly (JSON.parse's source text
 * access where the browser has it), so data-value stays the raw value
 * even above 2^53.
 */
/* ---------------------------------------------------------------- page */

static void head(struct scales_buf *b, const char *title, const char *nonce,
                 bool script)
{
	buf_puts(b, "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n"
	            "<meta charset=\"utf-8\">\n"
	            "<meta name=\"viewport\" content=\"width=device-width, "
	            "initial-scale=1\">\n"
	            "<link rel=\"icon\" href=\"data:,\">\n<title>");
	html_escape_str(b, title);
	buf_puts(b, "</title>\n<style nonce=\"");
	html_escape_str(b, nonce);
	buf_puts(b, "\">");
	buf_puts(b, html_style);
	for (int d = 0; d <= MAX_DEPTH; d++)
		buf_printf(b, ".d%d{padding-left:%.1fem}", d, 0.4 + 1.2 * d);
	buf_puts(b, "</style>\n");
	if (script) {
		buf_puts(b, "<script nonce=\"");
		html_escape_str(b, nonce);
		buf_puts(b, "\">");
		buf_puts(b, html_script);
		buf_puts(b, "</script>\n");
	}
	buf_puts(b, "</head>\n");
}

/* href="PATH[?format=F]" */
static void href(struct scales_buf *b, const char *path, const char *format,
                 const char *query)
{
	buf_puts(b, "href=\"");
	url_path_encode(b, path);
	const char *sep = "?";
	if (format) {
		buf_printf(b, "%sformat=%s", sep, format);
		sep = "&amp;";
	}
	if (query && *query) {
		buf_printf(b, "%squery=", sep);
		/* percent-encode everything but unreserved bytes */
		for (const char *q = query; *q; q++) {
			unsigned char c = (unsigned char)*q;
			if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
			    (c >= '0' && c <= '9') || c == '-' || c == '.' ||
			    c == '_' || c == '~')
				scales_buf_append(b, q, 1);
			else
				buf_printf(b, "%%%02X", c);
		}
	}
	buf_puts(b, "\"");
}

static void crumbs(struct scales_buf *b, const char *path)
{
	buf_puts(
	    b, "<nav class=\"crumbs\" aria-label=\"path\"><a href=\"/\">/</a>");
	size_t n = strlen(path);
	if (n <= 1) {
		buf_puts(b, "</nav>");
		return;
	}
	char *tmp = malloc(n + 1);
	if (!tmp) {
		b->oom = true;
		return;
	}
	for (size_t i = 1; i <= n; i++) {
		if (i < n && path[i] != '/')
			continue;
		/* component ends at i */
		size_t s = i - 1;
		while (s > 0 && path[s] != '/')
			s--;
		memcpy(tmp, path, i);
		tmp[i] = 0;
		if (s > 0)
			buf_puts(b, "/");
		buf_puts(b, "<a ");
		href(b, tmp, NULL, NULL);
		buf_puts(b, ">");
		html_escape(b, path + s + 1, i - s - 1);
		buf_puts(b, "</a>");
	}
	free(tmp);
	buf_puts(b, "</nav>");
}

static void cell_human(struct scales_buf *b, const char *cls, double v,
                       unsigned unit, const char *suffix)
{
	char h[64];
	html_human(h, sizeof(h), v, unit);
	buf_printf(b, "<td class=\"%s\">", cls);
	if (isfinite(v)) {
		html_escape_str(b, h);
		raw(b, suffix);
	}
	buf_puts(b, "</td>");
}

static void hstat(struct scales_buf *b, const char *name, double v,
                  unsigned unit)
{
	char s[40], h[64];
	scales_format_double(s, sizeof(s), v);
	html_human(h, sizeof(h), v, unit);
	buf_printf(b, "<span class=\"hs\" data-stat=\"%s\" data-value=\"",
	           name);
	if (isfinite(v))
		html_escape_str(b, s);
	buf_printf(b, "\">%s <span class=\"hv\">", name);
	html_escape_str(b, h);
	buf_puts(b, "</span></span> ");
}

static void metric_row(struct scales_buf *b, const struct hgroup *g, size_t i,
                       int depth, unsigned history)
{
	const struct scales_metric *m = &g->snap->metrics[i];
	const struct scales_rate *r = &g->rates[i];
	const char *last = strrchr(m->path, '/');
	last = last ? last + 1 : m->path;
	char val[48] = "";
	double num = NAN;
	switch (m->kind) {
	case SCALES_KIND_COUNTER:
	case SCALES_KIND_DICT:
		snprintf(val, sizeof(val), "%" PRIu64, m->v.u64);
		num = (double)m->v.u64;
		break;
	case SCALES_KIND_GAUGE:
		snprintf(val, sizeof(val), "%" PRId64, m->v.i64);
		num = (double)m->v.i64;
		break;
	case SCALES_KIND_GAUGE_F64:
		scales_format_double(val, sizeof(val), m->v.f64);
		num = m->v.f64;
		break;
	case SCALES_KIND_HISTOGRAM:
		snprintf(val, sizeof(val), "%" PRIu64, m->hist.count);
		num = (double)m->hist.count;
		break;
	default:
		break;
	}
	buf_puts(b, "<tr class=\"metric\" data-path=\"");
	html_escape_str(b, m->path);
	buf_printf(b, "\" data-kind=\"%s\" data-unit=\"%s\" data-value=\"",
	           scales_kind_name(m->kind), scales_unit_name(m->unit));
	if (m->kind == SCALES_KIND_STATE)
		html_escape_str(b, m->v.state);
	else
		html_escape_str(b, val);
	buf_printf(b, "\"><td class=\"name d%d\"><a ", depth);
	href(b, m->path, NULL, NULL);
	buf_puts(b, " title=\"");
	html_escape_str(b, m->path);
	buf_puts(b, "\">");
	if (m->flags & SCALES_MF_KEY) {
		/* a dict key as written, not its escaped component */
		char *key = malloc(strlen(last) + 1);
		if (!key) {
			b->oom = true;
			return;
		}
		scales_derived_value(last, key);
		html_escape_str(b, key);
		free(key);
	} else {
		html_escape_str(b, last);
	}
	buf_printf(b, "</a></td><td class=\"kind\">%s</td>",
	           scales_kind_name(m->kind));

	/* value: human form; the exact one in the title and data-value */
	buf_printf(b, "<td class=\"%s\" title=\"",
	           m->kind == SCALES_KIND_STATE ? "v st" : "num v");
	if (m->kind == SCALES_KIND_STATE)
		html_escape_str(b, m->v.state);
	else
		html_escape_str(b, val);
	buf_puts(b, "\">");
	if (m->kind == SCALES_KIND_STATE) {
		html_escape_str(b, m->v.state);
	} else if (isfinite(num)) {
		char h[64];
		html_human(h, sizeof(h), num,
		           m->kind == SCALES_KIND_HISTOGRAM ? 0 : m->unit);
		html_escape_str(b, h);
	} else {
		html_escape_str(b, val);
	}
	buf_puts(b, "</td>");

	bool counting = m->kind == SCALES_KIND_COUNTER ||
	                m->kind == SCALES_KIND_DICT ||
	                m->kind == SCALES_KIND_HISTOGRAM;
	/* a dead process's last values (no rings): no rate, no sparkline */
	bool last_only = !g->rings;
	cell_human(b, "num r", counting && !last_only ? r->rate : NAN, 0, "/s");

	buf_puts(b, "<td class=\"sp\">");
	if (!last_only && g->rings[i])
		spark(b, g->rings[i], history,
		      m->kind == SCALES_KIND_HISTOGRAM ? m->unit :
		      counting                         ? 0 :
		                                         m->unit,
		      counting && m->kind != SCALES_KIND_HISTOGRAM);
	buf_puts(b, "</td><td class=\"det\">");
	if (m->kind == SCALES_KIND_HISTOGRAM) {
		struct scales_hstats st;
		scales_histo_stats(&m->hist, &st);
		hstat(b, "p50", st.p50, m->unit);
		hstat(b, "p99", st.p99, m->unit);
		hstat(b, "p999", st.p999, m->unit);
		hstat(b, "max", st.max, m->unit);
		hstat(b, "mean", st.mean, m->unit);
		buf_puts(b, "<br>");
	}
	if (m->kind == SCALES_KIND_STATE && m->nstates) {
		buf_puts(b, "<span class=\"states\">");
		for (uint32_t k = 0; k < m->nstates; k++) {
			buf_puts(b, k ? ", " : "");
			html_escape_str(b, m->states[k].value);
			buf_printf(b, ": %" PRIu64, m->states[k].count);
		}
		buf_puts(b, "</span><br>");
	}
	buf_puts(b, "<span class=\"help\">");
	html_escape_str(b, m->help);
	buf_puts(b, "</span></td></tr>\n");
}

static void dir_row(struct scales_buf *b, const char *path, size_t len,
                    int depth)
{
	char *p = strndup(path, len);
	if (!p) {
		b->oom = true;
		return;
	}
	const char *last = strrchr(p, '/');
	last = last ? last + 1 : p;
	buf_printf(b, "<tr class=\"dir\"><td class=\"name d%d\"><a ", depth);
	href(b, p, NULL, NULL);
	buf_puts(b, " title=\"");
	html_escape_str(b, p);
	buf_puts(b, "\">");
	html_escape_str(b, last);
	buf_puts(b, "/</a></td><td colspan=\"5\"></td></tr>\n");
	free(p);
}

/* Number of leading components a and b share. */
static int common_depth(const char *a, const char *b)
{
	int d = 0;
	size_t i = 0;
	if (!a)
		return 0;
	for (;; i++) {
		bool ea = a[i] == 0 || a[i] == '/',
		     eb = b[i] == 0 || b[i] == '/';
		if (ea && eb) {
			if (i > 0)
				d++;
			if (!a[i] || !b[i])
				return d;
			continue;
		}
		if (a[i] != b[i] || ea || eb)
			return d;
	}
}

/* A process (or merged app) with its metric tree; cls: "process", or
 * "dead-process" for the dead processes' list. */
static void process_section(struct scales_buf *b, const struct hsel *s,
                            const struct hpage *pg, const char *cls)
{
	unsigned history = pg->history;
	const struct scales_snapshot *snap = s->g->snap;
	const struct scales_process_info *pi = &snap->proc;
	bool merged = snap->segment_path == NULL && pi->pid == 0;
	buf_printf(b, "<section class=\"%s\" data-app=\"", cls);
	html_escape_str(b, pi->app);
	buf_printf(b, "\" data-pid=\"%" PRId32 "\" data-alive=\"%s\">\n<h2>",
	           pi->pid, pi->alive ? "true" : "false");
	html_escape_str(b, pi->app);
	buf_puts(b, " <span class=\"pid\">");
	if (merged) {
		buf_printf(b, "%" PRIu32 " processes: pids", snap->nmembers);
		for (uint32_t k = 0; k < snap->nmembers; k++)
			buf_printf(b, "%s %" PRId32, k ? "," : "",
			           snap->member_pids[k]);
	} else {
		buf_printf(b, "pid %" PRId32, pi->pid);
	}
	buf_printf(b, "</span> <span class=\"%s\">%s</span></h2>\n",
	           pi->alive ? "alive" : "dead", pi->alive ? "alive" : "dead");
	buf_printf(b,
	           "<p class=\"meta\">owner uid %" PRIu32
	           ", <span class=\"refused\">%" PRIu64
	           "</span> refused registrations</p>\n",
	           pi->uid, pi->refused);
	if (!s->n) {
		buf_puts(b, "<p class=\"empty\">No metrics.</p>\n</section>\n");
		return;
	}
	buf_puts(b, "<table>\n<colgroup><col class=\"c-path\"><col "
	            "class=\"c-kind\"><col class=\"c-val\"><col "
	            "class=\"c-rate\"><col class=\"c-spark\"><col></colgroup>\n"
	            "<thead><tr><th>path</th><th>kind</th>"
	            "<th class=\"num\">value</th><th class=\"num\">rate</th>"
	            "<th>recent</th><th>details</th></tr></thead>\n<tbody>\n");
	const char *prev = NULL;
	for (size_t k = 0; k < s->n; k++) {
		const char *p = snap->metrics[s->idx[k]].path;
		int common = common_depth(prev, p);
		/* directory rows for the new components but the last */
		int depth = 0;
		for (size_t i = 1; p[i]; i++)
			if (p[i] == '/') {
				depth++;
				if (depth > common)
					dir_row(b, p, i,
					        depth > MAX_DEPTH ? MAX_DEPTH :
					                            depth - 1);
			}
		metric_row(b, s->g, s->idx[k],
		           depth > MAX_DEPTH ? MAX_DEPTH : depth, history);
		prev = p;
	}
	buf_puts(b, "</tbody>\n</table>\n");
	/* a metric's own page: its charts */
	const struct scales_metric *one = &snap->metrics[s->idx[0]];
	if (s->n == 1 && !strcmp(one->path, pg->path))
		metric_charts(b, s->g, s->idx[0], pg->keep, pg->interval_ms);
	buf_puts(b, "</section>\n");
}

void html_render_page(struct scales_buf *b, const struct hpage *p)
{
	char title[300];
	snprintf(title, sizeof(title), "scales %s", p->path);
	head(b, title, p->nonce, true);
	buf_printf(b, "<body data-interval=\"%u\" data-history=\"%u\"%s>\n",
	           p->interval_ms, p->history,
	           p->refresh ? " data-refresh=\"1\"" : "");
	buf_puts(b, "<header>\n<h1><a href=\"/\">scales</a></h1>\n");
	crumbs(b, p->path);
	buf_puts(b, "\n<form method=\"get\" action=\"");
	url_path_encode(b, p->path);
	buf_puts(b, "\" role=\"search\"><input type=\"search\" name=\"query\" "
	            "id=\"query\" value=\"");
	html_escape_str(b, p->query);
	buf_puts(b, "\" placeholder=\"filter: /web/* or a word\" "
	            "aria-label=\"filter\"> <button type=\"submit\">Filter"
	            "</button></form>\n<label class=\"toggle\"><input "
	            "type=\"checkbox\" id=\"autorefresh\"> auto-refresh</label>"
	            "\n<span id=\"status\" role=\"status\"></span>\n"
	            "<nav class=\"formats\"><a ");
	href(b, p->path, "json", p->query);
	buf_puts(b, ">JSON</a> <a ");
	href(b, p->path, "prettyjson", p->query);
	buf_puts(b, ">pretty JSON</a> <a href=\"/metrics\">Prometheus</a>"
	            "</nav>\n</header>\n<main>\n");
	time_t t = (time_t)(p->real_ns / 1000000000u);
	struct tm tm;
	char when[64] = "";
	if (p->real_ns && localtime_r(&t, &tm))
		strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S %z", &tm);
	buf_puts(b, "<p class=\"meta\">");
	if (*when) {
		buf_puts(b, "Sampled ");
		html_escape_str(b, when);
		buf_puts(b, "; ");
	}
	buf_printf(b,
	           "rates over %u ms; sparklines: the last %u samples "
	           "(counters: rate, histograms: p99 of each interval, "
	           "gauges: value).</p>\n",
	           p->interval_ms, p->history);
	size_t shown = 0;
	/* the same selection as ?format=json, so that the auto-refresh finds
	 * every process it gets */
	for (size_t i = 0; i < p->nsels; i++) {
		process_section(b, &p->sels[i], p, "process");
		shown++;
	}
	if (p->ndead) {
		/* writers that died: the last values their segments hold */
		buf_printf(
		    b,
		    "<section class=\"dead\" id=\"dead\"><h2>Dead "
		    "processes <span class=\"pid\">%zu</span></h2>\n"
		    "<p class=\"meta\">Writers that died without closing "
		    "their segment: the last values the segment holds "
		    "(no rates).</p>\n",
		    p->ndead);
		for (size_t i = 0; i < p->ndead; i++)
			process_section(b, &p->dead[i], p, "dead-process");
		buf_puts(b, "</section>\n");
	}
	if (!p->nprocesses && !p->ndead) {
		buf_puts(b, "<p class=\"empty\">No instrumented process found");
		if (p->dir) {
			buf_puts(b, " in ");
			html_escape_str(b, p->dir);
		}
		buf_puts(b, ".</p>\n");
	} else if (!shown && !p->ndead) {
		buf_puts(b, "<p class=\"empty\">No metric matches.</p>\n");
	}
	buf_puts(b, "</main>\n</body>\n</html>\n");
}

void html_render_error(struct scales_buf *b, unsigned status, const char *title,
                       const char *detail, const char *nonce)
{
	char t[128];
	snprintf(t, sizeof(t), "%u ", status);
	size_t n = strlen(t);
	snprintf(t + n, sizeof(t) - n, "%s", title);
	head(b, t, nonce, false);
	buf_puts(b, "<body>\n<header><h1><a href=\"/\">scales</a></h1></header>"
	            "\n<main>\n<h2>");
	html_escape_str(b, t);
	buf_puts(b, "</h2>\n<p>");
	html_escape_str(b, detail);
	buf_puts(b, "</p>\n<p><a href=\"/\">All processes</a></p>\n</main>\n"
	            "</body>\n</html>\n");
}

/* ------------------------------------------------------------- history */

void history_render_json(struct scales_buf *b, const struct hsel *sels,
                         size_t nsels, unsigned history, unsigned interval_ms)
{
	double *v = malloc(history * sizeof(double));
	if (!v) {
		b->oom = true;
		return;
	}
	buf_printf(b, "{\"interval\":%u,\"history\":%u,\"processes\":[",
	           interval_ms, history);
	for (size_t i = 0; i < nsels; i++) {
		const struct hgroup *g = sels[i].g;
		buf_puts(b, i ? ",{\"app\":" : "{\"app\":");
		const char *app = g->snap->proc.app;
		scales_json_string(b, app, strlen(app));
		buf_printf(b, ",\"pid\":%" PRId32 ",\"series\":{",
		           g->snap->proc.pid);
		bool first = true;
		for (size_t k = 0; k < sels[i].n; k++) {
			size_t mi = sels[i].idx[k];
			if (!g->rings[mi])
				continue;
			const char *path = g->snap->metrics[mi].path;
			if (!first)
				buf_puts(b, ",");
			first = false;
			scales_json_string(b, path, strlen(path));
			buf_puts(b, ":[");
			unsigned n = hring_values(g->rings[mi], history, v);
			for (unsigned x = 0; x < n; x++) {
				if (x)
					buf_puts(b, ",");
				scales_json_double(b, v[x]);
			}
			buf_puts(b, "]");
		}
		buf_puts(b, "}}");
	}
	buf_puts(b, "]}\n");
	free(v);
}
