/* SPDX-License-Identifier: MIT */
/*
 * draw.c: rendering of the live view (curses). Reads the model, never
 * changes it (but for the histogram scratch buffer), and formats only the
 * rows on screen.
 */
#include <curses.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <scales/scales.h>

#include "escape.h"
#include "oneshot.h"
#include "options.h"
#include "term.h"
#include "units.h"
#include "view.h"

enum col {
	C_VALUE,
	C_RATE,
	C_M1,
	C_M5,
	C_M15,
	C_MEAN,
	C_P50,
	C_P99,
	C_P999,
	C_MAX,
	NCOLS
};

static const struct {
	const char *title;
	int width;
	int prio; /* 0 first: the columns kept on a narrow terminal */
} cols[NCOLS] = {
	/* rates carry their unit, "/s" included: "1023 KiB/s" is 10 wide */
	[C_VALUE] = { "VALUE", 12, 0 }, [C_RATE] = { "RATE", 10, 1 },
	[C_M1] = { "1m", 10, 5 },       [C_M5] = { "5m", 10, 8 },
	[C_M15] = { "15m", 10, 9 },     [C_MEAN] = { "MEAN", 8, 6 },
	[C_P50] = { "P50", 8, 2 },      [C_P99] = { "P99", 8, 3 },
	[C_P999] = { "P99.9", 8, 7 },   [C_MAX] = { "MAX", 8, 4 },
};

#define NAME_MIN 24

struct layout {
	int name_w;
	bool shown[NCOLS];
	int x[NCOLS];
};

static void compute_layout(struct layout *l)
{
	memset(l, 0, sizeof(*l));
	int left = COLS - NAME_MIN;
	for (int prio = 0; prio < NCOLS; prio++)
		for (int c = 0; c < NCOLS; c++)
			if (cols[c].prio == prio &&
			    (left >= cols[c].width + 1 || prio == 0)) {
				l->shown[c] = true;
				left -= cols[c].width + 1;
			}
	int used = 0;
	for (int c = 0; c < NCOLS; c++)
		if (l->shown[c])
			used += cols[c].width + 1;
	l->name_w = COLS - used;
	if (l->name_w < 8)
		l->name_w = 8;
	int x = l->name_w;
	for (int c = 0; c < NCOLS; c++)
		if (l->shown[c]) {
			l->x[c] = x + 1;
			x += cols[c].width + 1;
		}
}

/* Writes s at (y, x) in at most w columns, padded; right-aligned if right.
 * Untrusted text (paths, apps, help, states) is escaped here. */
static void put(int y, int x, int w, const char *s, bool right)
{
	if (w <= 0 || x >= COLS)
		return;
	s = top_esc(s);
	if (x + w > COLS)
		w = COLS - x;
	int sw = top_str_width(s);
	if (sw > w) {
		/* cut at w code points */
		int n = 0, cps = 0;
		while (s[n] && cps < w) {
			n++;
			while (((unsigned char)s[n] & 0xc0) == 0x80)
				n++;
			cps++;
		}
		mvaddnstr(y, x, s, n);
		return;
	}
	int pad = right ? w - sw : 0;
	move(y, x + pad);
	addstr(s);
}

/* --banner: one more line at the bottom, above the status line. */
static const char *banner;

void top_draw_set_banner(const char *text)
{
	banner = text && *text ? text : NULL;
}

int top_page_rows(void)
{
	int r = LINES - 3 - (banner != NULL);
	return r > 1 ? r : 1;
}

/* ---------------------------------------------------------- metric rows */

static void hist_cells(char cell[NCOLS][TOP_NUM_LEN],
                       const struct scales_hstats *st, unsigned unit)
{
	top_fmt_unit(cell[C_MEAN], st->mean, unit);
	top_fmt_unit(cell[C_P50], st->p50, unit);
	top_fmt_unit(cell[C_P99], st->p99, unit);
	top_fmt_unit(cell[C_P999], st->p999, unit);
	top_fmt_unit(cell[C_MAX], st->max, unit);
}

static void metric_cells(char cell[NCOLS][TOP_NUM_LEN],
                         const struct scales_metric *m,
                         const struct scales_rate *r)
{
	switch (m->kind) {
	case SCALES_KIND_COUNTER:
	case SCALES_KIND_DICT:
		top_fmt_unit(cell[C_VALUE], (double)m->v.u64, m->unit);
		break;
	case SCALES_KIND_GAUGE:
		top_fmt_unit(cell[C_VALUE], (double)m->v.i64, m->unit);
		break;
	case SCALES_KIND_GAUGE_F64:
		top_fmt_unit(cell[C_VALUE], m->v.f64, m->unit);
		break;
	case SCALES_KIND_STATE:
		snprintf(cell[C_VALUE], TOP_NUM_LEN, "%s",
		         m->v.state ? m->v.state : "-");
		if (m->side->nstates > 1) {
			/* merged: the most common value, and how many more */
			uint64_t others = 0;
			for (uint32_t i = 0; i < m->side->nstates; i++)
				if (!m->v.state ||
				    strcmp(m->side->states[i].value,
				           m->v.state))
					others += m->side->states[i].count;
			size_t l = strlen(cell[C_VALUE]);
			snprintf(cell[C_VALUE] + l, TOP_NUM_LEN - l, " +%llu",
			         (unsigned long long)others);
		}
		break;
	case SCALES_KIND_HISTOGRAM: {
		top_fmt_unit(cell[C_VALUE], (double)m->side->hist.count, 0);
		struct scales_hstats st;
		scales_histo_stats(&m->side->hist, &st);
		hist_cells(cell, &st, m->unit);
		break;
	}
	default:
		break;
	}
	if (r && !isnan(r->rate)) {
		/* a rate has the counter's unit (a histogram's: values) */
		unsigned u = m->kind == SCALES_KIND_HISTOGRAM ? 0 : m->unit;
		top_fmt_rate(cell[C_RATE], r->rate, u);
		top_fmt_rate(cell[C_M1], r->m1, u);
		top_fmt_rate(cell[C_M5], r->m5, u);
		top_fmt_rate(cell[C_M15], r->m15, u);
	}
}

/* A timed state's line: "value seconds (rate)" per value, from the value
 * column to the end of the line; "other" (the value "") as (other). */
static void draw_times_row(const struct top_source *src,
                           const struct scales_metric *m, const char *name,
                           const struct layout *l, int y, int attr)
{
	char line[1024] = "";
	size_t o = 0;
	for (uint32_t k = 0; m && k < m->side->ntimes && o < sizeof(line);
	     k++) {
		char sec[TOP_NUM_LEN], rate[TOP_NUM_LEN] = "";
		const char *v = m->side->times[k].value;
		top_fmt_unit(sec, (double)m->side->times[k].ns / 1e9,
		             SCALES_UNIT_SECONDS);
		double r = scales_state_time_rate(src->prev, src->cur, m, k);
		if (!isnan(r))
			top_fmt_rate(rate, r, SCALES_UNIT_SECONDS);
		int w = snprintf(line + o, sizeof(line) - o, "%s%s %s%s%s%s",
		                 k ? "  " : "", v[0] ? v : "(other)", sec,
		                 rate[0] ? " (" : "", rate, rate[0] ? ")" : "");
		o += w > 0 ? (size_t)w : 0;
	}
	attrset(attr);
	put(y, 0, l->name_w, name, false);
	put(y, l->x[C_VALUE], COLS - l->x[C_VALUE], line, false);
	attrset(A_NORMAL);
}

static void draw_metric_row(struct top_ui *u, const struct layout *l, int y,
                            size_t ri)
{
	const struct top_tree *t = &u->tree;
	const struct top_row *row = &t->rows[ri];
	const struct top_node *n = &t->nodes[row->node];
	const struct top_source *src = &u->sampler.v[n->src];
	const struct scales_metric *m =
	    top_node_metric(t, &u->sampler, row->node);
	bool utf8 = top_term_utf8();
	char cell[NCOLS][TOP_NUM_LEN];
	memset(cell, 0, sizeof(cell));
	char name[512];
	int attr = 0;

	if (row->kind == TOP_ROW_TIMES) {
		int indent = t->flat_mode ? 4 : 2 * n->depth + 4;
		snprintf(name, sizeof(name), "%*s%s seconds", indent, "",
		         utf8 ? "\xe2\x94\x94" : "`");
		attr = A_DIM | (ri == u->cur ? A_REVERSE : 0);
		if (ri == u->cur) {
			attrset(attr);
			mvhline(y, 0, ' ', COLS);
		}
		draw_times_row(src,
		               m && (m->flags & SCALES_MF_TIMED) ? m : NULL,
		               name, l, y, attr);
		return;
	}
	if (row->kind == TOP_ROW_INTERVAL) {
		struct scales_hstats st;
		double secs = 0;
		int indent = t->flat_mode ? 4 : 2 * n->depth + 4;
		char len[TOP_NUM_LEN] = "-";
		if (top_hist_interval(&u->sampler, src, (size_t)n->metric, &st,
		                      &secs)) {
			top_fmt_unit(len, secs, SCALES_UNIT_SECONDS);
			top_fmt_unit(cell[C_VALUE], (double)st.count, 0);
			top_fmt_rate(cell[C_RATE],
			             secs > 0 ? (double)st.count / secs : NAN,
			             0);
			hist_cells(cell, &st, m->unit);
		}
		snprintf(name, sizeof(name), "%*s%s last %s", indent, "",
		         utf8 ? "\xe2\x94\x94" : "`", len);
		attr = A_DIM;
	} else if (n->parent < 0) {
		const char *mark = n->collapsed ?
		                       (utf8 ? "\xe2\x96\xb8" : "+") :
		                       (utf8 ? "\xe2\x96\xbe" : "-");
		snprintf(name, sizeof(name), "%s %s [%s]", mark, src->label,
		         top_pstate_name(src->state));
		attr = A_BOLD;
		if (has_colors())
			attr |= COLOR_PAIR(src->state == TOP_PS_ALIVE ? 3 : 2);
		if (src->cur)
			snprintf(cell[C_VALUE], TOP_NUM_LEN, "%zu",
			         src->cur->n);
	} else {
		bool fold = top_tree_foldable(t, &u->sampler, row->node);
		const char *mark = !fold ? " " :
		                   n->collapsed ?
		                           (utf8 ? "\xe2\x96\xb8" : "+") :
		                           (utf8 ? "\xe2\x96\xbe" : "-");
		/* top_name(): a dict key as written, made printable */
		if (t->flat_mode)
			snprintf(name, sizeof(name), "  %s %s", mark,
			         top_name(m, n->path, n->path_len));
		else
			snprintf(name, sizeof(name), "%*s%s %s", 2 * n->depth,
			         "", mark,
			         top_name(m, n->path + n->name_off,
			                  (size_t)(n->path_len - n->name_off)));
		if (m) {
			metric_cells(cell, m, &src->rate[n->metric]);
			if (m->agg && has_colors())
				attr |= COLOR_PAIR(4);
		}
	}

	bool hl = ri == u->cur;
	if (hl)
		attr |= A_REVERSE;
	attrset(attr);
	if (hl)
		mvhline(y, 0, ' ', COLS);
	put(y, 0, l->name_w, name, false);
	for (int c = 0; c < NCOLS; c++) {
		if (!l->shown[c] || !cell[c][0])
			continue;
		int w = top_str_width(cell[c]);
		if (w > cols[c].width && c == C_VALUE && m &&
		    (m->kind == SCALES_KIND_STATE || !cell[C_RATE][0]))
			/* a long state or date: into the (empty) columns
			 * after it */
			put(y, l->x[c], COLS - l->x[c], cell[c], false);
		else
			put(y, l->x[c], cols[c].width, cell[c], true);
	}
	attrset(A_NORMAL);
}

static void draw_metric_status(struct top_ui *u, int y)
{
	const struct top_tree *t = &u->tree;
	if (u->cur >= t->nrows)
		return;
	const struct top_row *row = &t->rows[u->cur];
	const struct top_node *n = &t->nodes[row->node];
	const struct top_source *src = &u->sampler.v[n->src];
	const struct scales_metric *m =
	    top_node_metric(t, &u->sampler, row->node);
	char line[1024];
	if (n->parent < 0) {
		snprintf(line, sizeof(line), "%s: %s, %zu metrics%s%s",
		         src->label, top_pstate_name(src->state),
		         src->cur ? src->cur->n : (size_t)0,
		         src->cur && src->cur->segment_path ? ", " : "",
		         src->cur && src->cur->segment_path ?
		             src->cur->segment_path :
		             "");
	} else if (!m) {
		snprintf(line, sizeof(line), "%.*s/", (int)n->path_len,
		         n->path);
	} else {
		int k = snprintf(line, sizeof(line), "%s  %s", m->path,
		                 scales_kind_name(m->kind));
		if (m->unit && k > 0 && (size_t)k < sizeof(line))
			k += snprintf(line + k, sizeof(line) - (size_t)k,
			              ", unit %s", scales_unit_name(m->unit));
		if (m->agg && k > 0 && (size_t)k < sizeof(line))
			k += snprintf(line + k, sizeof(line) - (size_t)k,
			              ", aggregate (%s)",
			              m->agg == SCALES_AGG_SUM ? "sum of the "
			                                         "children" :
			                                         "children per "
			                                         "state");
		for (uint32_t i = 0;
		     i < m->side->nstates && k > 0 && (size_t)k < sizeof(line);
		     i++)
			k += snprintf(
			    line + k, sizeof(line) - (size_t)k, "%s%s=%llu",
			    i ? " " : ", states: ", m->side->states[i].value,
			    (unsigned long long)m->side->states[i].count);
		if (k > 0 && (size_t)k < sizeof(line))
			snprintf(line + k, sizeof(line) - (size_t)k, "%s%s",
			         m->help ? ": " : "", m->help ? m->help : "");
	}
	put(y, 0, COLS, line, false);
}

static void draw_metrics(struct top_ui *u)
{
	struct layout l;
	compute_layout(&l);
	attrset(A_BOLD | A_UNDERLINE);
	mvhline(1, 0, ' ', COLS);
	/* the sorted column is marked with the direction of its order */
	bool utf8 = top_term_utf8();
	const struct top_tree *t = &u->tree;
	bool up = t->sort == TOP_SORT_NAME ? !t->reverse : t->reverse;
	const char *arrow =
	    up ? (utf8 ? "\xe2\x96\xb2" : "^") : (utf8 ? "\xe2\x96\xbc" : "v");
	char title[32];
	snprintf(title, sizeof(title), "%s%s", t->flat_mode ? "PATH" : "NAME",
	         t->sort == TOP_SORT_NAME ? arrow : "");
	put(1, 0, l.name_w, title, false);
	for (int c = 0; c < NCOLS; c++) {
		if (!l.shown[c])
			continue;
		/* enum top_sort lists the columns in order, after the name */
		bool sorted = (int)t->sort == c + 1;
		snprintf(title, sizeof(title), "%s%s", sorted ? arrow : "",
		         cols[c].title);
		put(1, l.x[c], cols[c].width, title, true);
	}
	attrset(A_NORMAL);
	int page = top_page_rows();
	for (int i = 0; i < page && u->top + (size_t)i < t->nrows; i++)
		draw_metric_row(u, &l, 2 + i, u->top + (size_t)i);
	if (t->nrows == 0 || u->sampler.n == 0)
		put(3, 2, COLS - 2,
		    u->procs.n ? "no metrics to show" :
		                 "no instrumented process found (yet)",
		    false);
}

/* --------------------------------------------------------- process list */

static void draw_procs(struct top_ui *u)
{
	attrset(A_BOLD | A_UNDERLINE);
	mvhline(1, 0, ' ', COLS);
	char line[1024];
	snprintf(line, sizeof(line),
	         "    %-20s %8s %-7s %8s %8s %7s %6s %9s  %s", "APP", "PID",
	         "STATE", "UPTIME", "METRICS", "REFUSED", "UID", "SIZE",
	         "SEGMENT");
	put(1, 0, COLS, line, false);
	attrset(A_NORMAL);
	int page = top_page_rows();
	for (int i = 0; i < page && u->ptop + (size_t)i < u->procs.n; i++) {
		size_t pi = u->ptop + (size_t)i;
		struct top_proc *e = &u->procs.v[pi];
		char up[32], size[TOP_NUM_LEN] = "-", metrics[24] = "-";
		char refused[24] = "-", uid[16] = "-";
		top_fmt_uptime(up, sizeof(up), e);
		if (e->info_ok) {
			top_fmt_unit(size, (double)e->resident,
			             SCALES_UNIT_BYTES);
			/* what the metric view shows, aggregates included (a
			 * snapshot for each row on screen only) */
			long nm = top_proc_metrics(e);
			if (nm >= 0)
				snprintf(metrics, sizeof(metrics), "%ld", nm);
			snprintf(refused, sizeof(refused), "%llu",
			         (unsigned long long)e->info.refused);
			snprintf(uid, sizeof(uid), "%u", (unsigned)e->info.uid);
		}
		bool shown = u->pick_all || e->picked;
		snprintf(line, sizeof(line),
		         "%s %-20s %8d %-7s %8s %8s %7s %6s %9s  %s%s",
		         e->picked ? "[x]" :
		         shown     ? "[ ]" :
		                     "   ",
		         e->app, (int)e->pid, top_pstate_name(e->state), up,
		         metrics, refused, uid, size, e->path,
		         e->pid_reused ? " (pid reused)" : "");
		int attr = pi == u->pcur ? A_REVERSE : 0;
		if (has_colors())
			attr |= COLOR_PAIR(e->state == TOP_PS_ALIVE ? 0 : 2);
		attrset(attr);
		if (pi == u->pcur)
			mvhline(2 + i, 0, ' ', COLS);
		put(2 + i, 0, COLS, line, false);
		attrset(A_NORMAL);
	}
	if (!u->procs.n)
		put(3, 2, COLS - 2, "no instrumented process found (yet)",
		    false);
}

/* ----------------------------------------------------------------- help */

static void draw_help(void)
{
	int y = 2;
	attrset(A_BOLD);
	put(y++, 2, COLS - 2, "scales-top keys (any key closes this help)",
	    false);
	attrset(A_NORMAL);
	y++;
#define X(id, label, help)                                                     \
	if (y < LINES - 1) {                                                   \
		put(y, 4, 10, label, false);                                   \
		put(y++, 15, COLS - 15, help, false);                          \
	}
	TOP_KEYS(X)
#undef X
}

static void draw_sortmenu(const struct top_ui *u)
{
	int y = 2;
	attrset(A_BOLD);
	put(y++, 2, COLS - 2,
	    "sort by (Up, Down, Enter; Esc cancels; I reverses)", false);
	attrset(A_NORMAL);
	y++;
	for (unsigned i = 0; i < TOP_SORT_COUNT && y < LINES - 1; i++) {
		char line[64];
		snprintf(line, sizeof(line), "%s %s",
		         i == (unsigned)u->tree.sort ? "*" : " ",
		         top_sort_name((enum top_sort)i));
		attrset(i == u->sortsel ? A_REVERSE : A_NORMAL);
		put(y++, 4, 20, line, false);
	}
	attrset(A_NORMAL);
}

/* -------------------------------------------------------------- screen */

void top_draw(struct top_ui *u)
{
	erase();
	/* title */
	char title[512];
	int alive = 0;
	for (size_t i = 0; i < u->procs.n; i++)
		alive += u->procs.v[i].state == TOP_PS_ALIVE;
	char iv[TOP_NUM_LEN];
	top_fmt_unit(iv, u->interval, SCALES_UNIT_SECONDS);
	snprintf(title, sizeof(title),
	         "scales-top %s  %zu process%s (%d alive)  every %s  sort: %s%s"
	         "  %s%s%s%s%s%s%s",
	         SCALES_VERSION_STRING, u->procs.n, u->procs.n == 1 ? "" : "es",
	         alive, iv, top_sort_name(u->tree.sort),
	         u->tree.reverse ? " reversed" : "",
	         u->tree.flat_mode ? "flat" : "tree",
	         u->tree.hide_zero ? "  no zeros" : "",
	         u->sampler.merge ? "  merged" : "",
	         u->filter[0] ? "  filter: " : "", u->filter,
	         u->paused ? "  PAUSED" : "", "  (? help)");
	attrset(has_colors() ? COLOR_PAIR(1) : A_REVERSE);
	mvhline(0, 0, ' ', COLS);
	put(0, 0, COLS, title, false);
	attrset(A_NORMAL);

	if (u->help)
		draw_help();
	else if (u->sortmenu)
		draw_sortmenu(u);
	else if (u->view == TOP_VIEW_PROCS)
		draw_procs(u);
	else
		draw_metrics(u);

	if (banner) {
		attrset(A_REVERSE);
		mvhline(LINES - 2, 0, ' ', COLS);
		put(LINES - 2, 0, COLS, banner, false);
		attrset(A_NORMAL);
	}

	/* status line */
	int y = LINES - 1;
	if (u->editing) {
		const char *label =
		    u->editing == TOP_EDIT_SEARCH ? "search: " : "filter: ";
		int lw = (int)strlen(label);
		put(y, 0, COLS, label, false);
		/* the old text, selected: the next key that types replaces it */
		if (u->edit_sel)
			attrset(A_REVERSE);
		put(y, lw, COLS - lw, u->edit, false);
		attrset(A_NORMAL);
		if (u->msg[0] && lw + (int)u->edit_len + 4 < COLS)
			put(y, lw + (int)u->edit_len + 3,
			    COLS - lw - (int)u->edit_len - 3, u->msg, false);
		curs_set(1);
		int x = lw + (int)u->edit_len;
		move(y, x < COLS ? x : COLS - 1);
	} else {
		curs_set(0);
		if (u->msg[0])
			put(y, 0, COLS, u->msg, false);
		else if (u->sortmenu)
			;
		else if (u->view == TOP_VIEW_PROCS && !u->help)
			put(y, 0, COLS,
			    "Space mark  Enter show the marked (or highlighted)"
			    "  a all  m merge  l metrics",
			    false);
		else if (!u->help)
			draw_metric_status(u, y);
	}
	refresh();
}
