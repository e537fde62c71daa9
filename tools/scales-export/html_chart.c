/* SPDX-License-Identifier: MIT */
/*
 * html_chart.c: the SVG charts of a metric's own page (html.c renders the
 * rest of the page): the recent values over time, and a histogram's
 * distribution.
 */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http_internal.h"

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

/* A tick label: the human form in unit (a rate: "/s" too). */
static void tick_label(struct scales_buf *b, double v, unsigned unit, bool rate)
{
	char h[SCALES_HUMAN_LEN];
	/* -0 and rounding noise print as 0 */
	scales_human(h, sizeof(h), fabs(v) < 1e-12 ? 0 : v, unit,
	             rate ? SCALES_HUMAN_RATE : 0);
	html_escape_str(b, h);
}

/* The y axis: grid lines and labels from lo to hi (rounded out to a
 * step); *y0 and *y1 get the rounded range. */
static void y_axis(struct scales_buf *b, double lo, double hi, unsigned unit,
                   bool rate, double *y0, double *y1)
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
		tick_label(b, v, unit, rate);
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
                       unsigned interval_ms, unsigned unit, bool rate)
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
	y_axis(b, lo, hi, unit, rate, &y0, &y1);
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
			scales_human(h, sizeof(h), k * ts, SCALES_UNIT_SECONDS,
			             0);
			buf_puts(b, "-");
			html_escape_str(b, h);
		}
		buf_puts(b, "</text>");
	}
	char iv[48];
	scales_human(iv, sizeof(iv), interval_ms / 1000.0, SCALES_UNIT_SECONDS,
	             0);
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
	y_axis(b, 0, (double)top, 0, false, &y0, &y1);
	y_title(b, "values per bar");
	double pw = CHART_W - CHART_L - CHART_R;
	double ph = CHART_H - CHART_T - CHART_B;
	int bottom = CHART_H - CHART_B;
	double bw = pw / DIST_BINS;
	buf_puts(b, "<g class=\"bars\">");
	for (int k = 0; k < DIST_BINS; k++) {
		double bhgt = (double)bins[k] / (y1 - y0) * ph;
		/* the value range of the bar, in the unit */
		scales_human(a, sizeof(a),
		             exp(llo + lr * k / DIST_BINS) * h->scale, unit, 0);
		scales_human(c, sizeof(c),
		             exp(llo + lr * (k + 1) / DIST_BINS) * h->scale,
		             unit, 0);
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
		scales_human(a, sizeof(a), exp(llo + lr * k / 6) * h->scale,
		             unit, 0);
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
		scales_human(a, sizeof(a), q[k].v, unit, 0);
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
void html_metric_charts(struct scales_buf *b, const struct hgroup *g, size_t i,
                        unsigned keep, unsigned interval_ms)
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
	scales_human(span, sizeof(span), (double)keep * interval_ms / 1000.0,
	             SCALES_UNIT_SECONDS, 0);
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
		           true);
		break;
	}
	case SCALES_KIND_HISTOGRAM: {
		dist_chart(b, &m->side->hist, m->unit);
		snprintf(title, sizeof(title),
		         "quantiles of each interval over the last %s", span);
		hring_series(r, HRING_P50, keep, v + keep);
		hring_series(r, HRING_P999, keep, v + 2 * (size_t)keep);
		struct cseries s[3] = { { "p50", v + keep },
			                { "p99", v },
			                { "p99.9", v + 2 * (size_t)keep } };
		time_chart(b, title, unit, s, 3, n, keep, interval_ms, m->unit,
		           false);
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
		           false);
	}
	free(v);
}
