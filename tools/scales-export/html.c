/* SPDX-License-Identifier: MIT */
/*
 * html.c: the HTML stats page and the ?format=history document (the
 * charts of a metric's own page are html_chart.c's; the style sheet and
 * script are assets/). About 800 lines: the page's rows, sections and
 * escaping belong together, as every string from a segment passes here.
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
		char a[SCALES_HUMAN_LEN], c[SCALES_HUMAN_LEN],
		    d[SCALES_HUMAN_LEN];
		unsigned f = rate ? SCALES_HUMAN_RATE : 0;
		scales_human(a, sizeof(a), lo, unit, f);
		scales_human(c, sizeof(c), hi, unit, f);
		scales_human(d, sizeof(d), last, unit, f);
		buf_printf(b, "last %d samples: min ", (int)n);
		html_escape_str(b, a);
		buf_puts(b, ", max ");
		html_escape_str(b, c);
		buf_puts(b, ", last ");
		html_escape_str(b, d);
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

/* ---------------------------------------------------- style and script */

/*
 * The stats page's style sheet and script live in assets/page.css and
 * assets/page.js, embedded at build time (assets/embed.py) and inlined into
 * every page (no external assets: the page works offline). Both carry the
 * response's CSP nonce (head()).
 *
 * The script implements the auto-refresh toggle: while it is on, it fetches
 * the page itself (same path and query) every sampling interval, with
 * fetch() (no persistent connection), and swaps its <main> in (parsed by
 * DOMParser: scripts of a parsed document never run). It formats no
 * number: every one on the page is written here by scales_human(), the
 * formatter of scales-top, so that both show a value the same way. The
 * toggle is remembered in localStorage; ?refresh=1 turns it on. After each
 * update <body data-refreshed> counts the updates (the tests read it).
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

/* A cell of the people's form ("2.83 KiB/s"), empty for no value. */
static void cell_human(struct scales_buf *b, const char *cls, double v,
                       unsigned unit, unsigned flags)
{
	char h[SCALES_HUMAN_LEN];
	scales_human(h, sizeof(h), v, unit, flags);
	buf_printf(b, "<td class=\"%s\">", cls);
	if (isfinite(v))
		html_escape_str(b, h);
	buf_puts(b, "</td>");
}

static void hstat(struct scales_buf *b, const char *name, double v,
                  unsigned unit)
{
	char s[40], h[64];
	scales_format_double(s, sizeof(s), v);
	scales_human(h, sizeof(h), v, unit, 0);
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
		snprintf(val, sizeof(val), "%" PRIu64, m->side->hist.count);
		num = (double)m->side->hist.count;
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
		scales_human(h, sizeof(h), num,
		             m->kind == SCALES_KIND_HISTOGRAM ? 0 : m->unit, 0);
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
	/* a rate in the counter's unit; a histogram's counts values */
	unsigned ru = m->kind == SCALES_KIND_HISTOGRAM ? 0 : m->unit;
	cell_human(b, "num r", counting && !last_only ? r->rate : NAN, ru,
	           SCALES_HUMAN_RATE);

	buf_puts(b, "<td class=\"sp\">");
	if (!last_only && g->rings[i])
		spark(b, g->rings[i], history, m->unit,
		      counting && m->kind != SCALES_KIND_HISTOGRAM);
	buf_puts(b, "</td><td class=\"det\">");
	if (m->kind == SCALES_KIND_HISTOGRAM) {
		struct scales_hstats st;
		scales_histo_stats(&m->side->hist, &st);
		hstat(b, "p50", st.p50, m->unit);
		hstat(b, "p99", st.p99, m->unit);
		hstat(b, "p999", st.p999, m->unit);
		hstat(b, "max", st.max, m->unit);
		hstat(b, "mean", st.mean, m->unit);
		buf_puts(b, "<br>");
	}
	if (m->kind == SCALES_KIND_STATE && m->side->nstates) {
		buf_puts(b, "<span class=\"states\">");
		for (uint32_t k = 0; k < m->side->nstates; k++) {
			buf_puts(b, k ? ", " : "");
			html_escape_str(b, m->side->states[k].value);
			buf_printf(b, ": %" PRIu64, m->side->states[k].count);
		}
		buf_puts(b, "</span><br>");
	}
	if (m->flags & SCALES_MF_TIMED) {
		/* time in state: seconds per value; "" is "other" */
		buf_puts(b, "<span class=\"states\">");
		for (uint32_t k = 0; k < m->side->ntimes; k++) {
			char h[64];
			scales_human(h, sizeof(h),
			             (double)m->side->times[k].ns / 1e9,
			             SCALES_UNIT_SECONDS, 0);
			buf_puts(b, k ? ", " : "");
			if (m->side->times[k].value[0])
				html_escape_str(b, m->side->times[k].value);
			else
				buf_puts(b, "(other)");
			buf_puts(b, ": ");
			html_escape_str(b, h);
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
		html_metric_charts(b, s->g, s->idx[0], pg->keep,
		                   pg->interval_ms);
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
