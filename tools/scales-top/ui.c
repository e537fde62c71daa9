/* SPDX-License-Identifier: MIT */
/*
 * ui.c: the live mode's event loop: refresh on a timer, keys, signals and
 * resizes. Sampling is in sample.c, the rows in tree.c, rendering in
 * draw.c, the terminal in term.c.
 */
#include "ui.h"

#include <curses.h>
#include <errno.h>
#include <fnmatch.h>
#include <math.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "escape.h"
#include "options.h"
#include "procs.h"
#include "sample.h"
#include "term.h"
#include "tree.h"
#include "units.h"
#include "view.h"

static uint64_t mono_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* Discovery warns about the same junk file at every refresh: show each
 * distinct warning once (in the status line, until the next key). */
static void ui_warn(void *arg, const char *msg)
{
	struct top_ui *u = arg;
	uint64_t h = 1469598103934665603ull;
	for (const char *c = msg; *c; c++)
		h = (h ^ (unsigned char)*c) * 1099511628211ull;
	for (size_t i = 0; i < u->nseen; i++)
		if (u->seen_warn[i] == h)
			return;
	if (u->nseen < sizeof(u->seen_warn) / sizeof(u->seen_warn[0]))
		u->seen_warn[u->nseen++] = h;
	snprintf(u->warn, sizeof(u->warn), "%s", msg);
	u->nwarn++;
}

/* ------------------------------------------------------------ highlight */

/* The highlighted row, by name, so it survives a rebuild of the tree. */
struct sel {
	bool valid;
	bool root;
	uint8_t kind;
	int32_t node;
	char key[300];
	char path[300];
};

static void sel_save(const struct top_ui *u, struct sel *s)
{
	const struct top_tree *t = &u->tree;
	s->valid = false;
	if (u->cur >= t->nrows)
		return;
	const struct top_row *r = &t->rows[u->cur];
	const struct top_node *n = &t->nodes[r->node];
	if (n->src >= u->sampler.n)
		return;
	s->valid = true;
	s->node = r->node;
	s->kind = r->kind;
	s->root = n->path == NULL;
	snprintf(s->key, sizeof(s->key), "%s", u->sampler.v[n->src].key);
	snprintf(s->path, sizeof(s->path), "%.*s", (int)n->path_len,
	         n->path ? n->path : "");
}

static void clamp_scroll(struct top_ui *u)
{
	size_t page = (size_t)top_page_rows();
	size_t n = u->tree.nrows;
	if (u->cur >= n)
		u->cur = n ? n - 1 : 0;
	if (u->top > u->cur)
		u->top = u->cur;
	if (u->cur >= u->top + page)
		u->top = u->cur - page + 1;
	if (u->top + page > n)
		u->top = n > page ? n - page : 0;
	if (u->pcur >= u->procs.n)
		u->pcur = u->procs.n ? u->procs.n - 1 : 0;
	if (u->ptop > u->pcur)
		u->ptop = u->pcur;
	if (u->pcur >= u->ptop + page)
		u->ptop = u->pcur - page + 1;
	if (u->ptop + page > u->procs.n)
		u->ptop = u->procs.n > page ? u->procs.n - page : 0;
}

/* Updates the tree; keeps the highlight on the same row if it still
 * exists (node indices are stable unless the nodes were rebuilt). */
static void update_tree(struct top_ui *u, const struct sel *s)
{
	bool rebuilt = u->tree.dirty & TOP_DIRTY_NODES;
	if (top_tree_update(&u->tree, &u->sampler))
		snprintf(u->msg, sizeof(u->msg), "out of memory");
	if (s->valid) {
		int32_t node = s->node;
		if (rebuilt) {
			node = -1;
			for (size_t i = 0; i < u->sampler.n && node < 0; i++)
				if (strcmp(u->sampler.v[i].key, s->key) == 0)
					node = top_tree_find(&u->tree, i,
					                     s->root ? NULL :
					                               s->path);
		}
		size_t r = node < 0 ? SIZE_MAX :
		                      top_tree_row_of(&u->tree, node, s->kind);
		if (r == SIZE_MAX && node >= 0)
			r = top_tree_row_of(&u->tree, node, TOP_ROW_NODE);
		if (r != SIZE_MAX)
			u->cur = r;
	}
	clamp_scroll(u);
}

/* ------------------------------------------------------------- refresh */

static void sample(struct top_ui *u)
{
	struct sel s;
	sel_save(u, &s);
	char err[512];
	if (top_procs_refresh(&u->procs, err, sizeof(err)))
		snprintf(u->msg, sizeof(u->msg), "%s", err);
	if (!u->pick_all) {
		bool any = false;
		for (size_t i = 0; i < u->procs.n; i++)
			any |= u->procs.v[i].picked;
		if (!any)
			u->pick_all = true; /* the picked ones are gone */
	}
	u->sampler.layout_changed = false;
	if (top_sampler_refresh(&u->sampler, &u->procs, !u->pick_all))
		snprintf(u->msg, sizeof(u->msg), "out of memory");
	if (u->sampler.layout_changed)
		u->tree.dirty |= TOP_DIRTY_NODES;
	else if (u->tree.sort != TOP_SORT_NAME)
		u->tree.dirty |= TOP_DIRTY_SORT;
	update_tree(u, &s);
	u->refreshes++;
}

/* ---------------------------------------------------------------- keys */

static enum top_key key_of(int ch)
{
	switch (ch) {
	case KEY_UP:
	case 'k':
		return TOP_KEY_UP;
	case KEY_DOWN:
	case 'j':
		return TOP_KEY_DOWN;
	case KEY_PPAGE:
		return TOP_KEY_PGUP;
	case KEY_NPAGE:
		return TOP_KEY_PGDN;
	case KEY_HOME:
	case 'g':
		return TOP_KEY_HOME;
	case KEY_END:
	case 'G':
		return TOP_KEY_END;
	case '\n':
	case '\r':
	case KEY_ENTER:
		return TOP_KEY_ENTER;
	case KEY_LEFT:
		return TOP_KEY_LEFT;
	case KEY_RIGHT:
		return TOP_KEY_RIGHT;
	case ' ':
		return TOP_KEY_MARK;
	case '/':
	case KEY_F(3):
		return TOP_KEY_SEARCH;
	case 'n':
		return TOP_KEY_NEXT;
	case '\\':
	case KEY_F(4):
		return TOP_KEY_FILTER;
	case '>':
	case KEY_F(6):
		return TOP_KEY_SORTBY;
	case 's':
		return TOP_KEY_SORT;
	case 'I':
		return TOP_KEY_REVERSE;
	case 'z':
		return TOP_KEY_ZERO;
	case 't':
	case KEY_F(5):
		return TOP_KEY_TREE;
	case 'l':
	case '\t':
		return TOP_KEY_PROCS;
	case 'a':
		return TOP_KEY_ALL;
	case 'm':
		return TOP_KEY_MERGE;
	case 'p':
		return TOP_KEY_PAUSE;
	case '+':
	case '=':
		return TOP_KEY_SLOWER;
	case '-':
		return TOP_KEY_FASTER;
	case '?':
	case KEY_F(1):
		return TOP_KEY_HELP;
	case 'q':
	case 'Q':
	case KEY_F(10):
		return TOP_KEY_QUIT;
	default:
		return TOP_KEY_NONE;
	}
}

static const double intervals[] = { 0.1, 0.2, 0.5, 1, 2, 5, 10, 30, 60 };
#define NINTERVALS (sizeof(intervals) / sizeof(intervals[0]))

static void change_interval(struct top_ui *u, bool slower)
{
	double v = u->interval;
	if (slower) {
		for (size_t i = 0; i < NINTERVALS; i++)
			if (intervals[i] > v * 1.001) {
				v = intervals[i];
				break;
			}
	} else {
		for (size_t i = NINTERVALS; i-- > 0;)
			if (intervals[i] < v * 0.999) {
				v = intervals[i];
				break;
			}
	}
	u->interval = v;
	char b[TOP_NUM_LEN];
	snprintf(u->msg, sizeof(u->msg), "refresh every %s",
	         top_fmt_unit(b, v, SCALES_UNIT_SECONDS));
}

/* Moves a highlight by delta rows within n rows. */
static void move_by(size_t *cur, long delta, size_t n)
{
	if (!n)
		return;
	long c = (long)*cur + delta;
	if (c < 0)
		c = 0;
	if ((size_t)c >= n)
		c = (long)n - 1;
	*cur = (size_t)c;
}

static void fold(struct top_ui *u, int how)
{
	if (u->cur >= u->tree.nrows)
		return;
	const struct top_row *r = &u->tree.rows[u->cur];
	int32_t node = r->node;
	const struct top_node *n = &u->tree.nodes[node];
	if (how < 0 && r->kind == TOP_ROW_NODE &&
	    (!top_tree_foldable(&u->tree, &u->sampler, node) || n->collapsed) &&
	    n->parent >= 0) {
		/* Left on a leaf or a folded node: go to the parent */
		size_t p = top_tree_row_of(&u->tree, n->parent, TOP_ROW_NODE);
		if (p != SIZE_MAX)
			u->cur = p;
		return;
	}
	struct sel s;
	sel_save(u, &s);
	s.kind = TOP_ROW_NODE; /* an interval row folds into its histogram */
	top_tree_fold(&u->tree, &u->sampler, node, how);
	update_tree(u, &s);
}

static void process_enter(struct top_ui *u)
{
	bool any = false;
	for (size_t i = 0; i < u->procs.n; i++)
		any |= u->procs.v[i].picked;
	if (!any && u->pcur < u->procs.n)
		u->procs.v[u->pcur].picked = true;
	u->pick_all = false;
	u->view = TOP_VIEW_METRICS;
	u->cur = u->top = 0;
	sample(u);
}

static void set_sort(struct top_ui *u, unsigned sort, bool reverse)
{
	struct sel s;
	sel_save(u, &s);
	u->tree.sort = (enum top_sort)sort;
	u->tree.reverse = reverse;
	u->tree.dirty |= TOP_DIRTY_SORT;
	update_tree(u, &s);
	snprintf(u->msg, sizeof(u->msg), "sort by %s%s",
	         top_sort_name(u->tree.sort), reverse ? ", reversed" : "");
}

static void sortmenu_key(struct top_ui *u, int ch)
{
	switch (ch) {
	case KEY_UP:
	case 'k':
		u->sortsel = u->sortsel ? u->sortsel - 1 : TOP_SORT_COUNT - 1;
		break;
	case KEY_DOWN:
	case 'j':
		u->sortsel = (u->sortsel + 1) % TOP_SORT_COUNT;
		break;
	case '\n':
	case '\r':
	case KEY_ENTER:
		u->sortmenu = false;
		set_sort(u, u->sortsel, u->tree.reverse);
		break;
	case 27: /* Esc */
	case 'q':
	case KEY_F(10):
		u->sortmenu = false;
		break;
	default:
		break;
	}
}

/* The row's full path (a source's root: its label) into buf. */
static const char *row_text(const struct top_ui *u, size_t ri, char *buf,
                            size_t len)
{
	const struct top_row *r = &u->tree.rows[ri];
	const struct top_node *n = &u->tree.nodes[r->node];
	if (!n->path)
		snprintf(buf, len, "%s", u->sampler.v[n->src].label);
	else
		snprintf(buf, len, "%.*s", (int)n->path_len, n->path);
	return buf;
}

/* Moves the highlight to the first row from start on (wrapping around)
 * whose path contains text, or matches it if it is a glob. Returns false
 * if none does (the highlight stays). */
static bool search_from(struct top_ui *u, const char *text, size_t start)
{
	size_t n = u->tree.nrows;
	bool glob = strpbrk(text, "*?[") != NULL;
	char buf[600];
	for (size_t k = 0; k < n; k++) {
		size_t ri = (start + k) % n;
		if (u->tree.rows[ri].kind != TOP_ROW_NODE)
			continue;
		const char *p = row_text(u, ri, buf, sizeof(buf));
		if (glob ? fnmatch(text, p, 0) == 0 : strstr(p, text) != NULL) {
			u->cur = ri;
			return true;
		}
	}
	return false;
}

static void open_prompt(struct top_ui *u, enum top_edit what, const char *old)
{
	u->editing = what;
	snprintf(u->edit, sizeof(u->edit), "%s", old);
	u->edit_len = strlen(u->edit);
	/* readline-like, but the old text is offered selected: a key that
	 * types replaces it, instead of appending to it */
	u->edit_sel = u->edit_len > 0;
}

/* The prompt's text changed: a search follows it as it is typed. */
static void edit_changed(struct top_ui *u)
{
	if (u->editing != TOP_EDIT_SEARCH)
		return;
	u->cur = u->search_origin;
	if (u->edit_len && u->tree.nrows &&
	    !search_from(u, u->edit, u->search_origin))
		snprintf(u->msg, sizeof(u->msg), "not found: %.255s", u->edit);
	else
		u->msg[0] = '\0';
	clamp_scroll(u);
}

static void edit_key(struct top_ui *u, int ch)
{
	bool sel = u->edit_sel;
	u->edit_sel = false;
	if (ch == 27) { /* Esc: cancel; a search goes back */
		if (u->editing == TOP_EDIT_SEARCH)
			u->cur = u->search_origin;
		u->editing = TOP_EDIT_NONE;
		u->msg[0] = '\0';
		clamp_scroll(u);
		return;
	}
	if (ch == '\n' || ch == '\r' || ch == KEY_ENTER) {
		if (u->editing == TOP_EDIT_SEARCH) {
			snprintf(u->search, sizeof(u->search), "%s", u->edit);
		} else {
			snprintf(u->filter, sizeof(u->filter), "%s", u->edit);
			struct sel s;
			sel_save(u, &s);
			if (top_tree_set_filter(&u->tree, u->filter))
				snprintf(u->msg, sizeof(u->msg),
				         "out of memory");
			update_tree(u, &s);
		}
		u->editing = TOP_EDIT_NONE;
		return;
	}
	if (sel && (ch == KEY_RIGHT || ch == KEY_END))
		return; /* keep the text, typing appends */
	if (ch == KEY_BACKSPACE || ch == 127 || ch == 8) {
		if (sel)
			u->edit_len = 0;
		else if (u->edit_len)
			u->edit_len--;
	} else if (ch == 21) { /* ^U: the whole line (the cursor is at its
	                          end) */
		u->edit_len = 0;
	} else if (ch == 23) { /* ^W: back over spaces, then the word */
		while (u->edit_len && u->edit[u->edit_len - 1] == ' ')
			u->edit_len--;
		while (u->edit_len && u->edit[u->edit_len - 1] != ' ')
			u->edit_len--;
	} else if (ch >= 32 && ch < 127) {
		if (sel)
			u->edit_len = 0;
		if (u->edit_len + 1 < sizeof(u->edit))
			u->edit[u->edit_len++] = (char)ch;
	} else {
		u->edit_sel = sel; /* a key that does nothing here */
		return;
	}
	u->edit[u->edit_len] = '\0';
	edit_changed(u);
}

/* Returns false to quit. */
static bool handle_key(struct top_ui *u, int ch)
{
	if (u->editing) {
		edit_key(u, ch);
		return true;
	}
	if (u->sortmenu) {
		sortmenu_key(u, ch);
		return true;
	}
	if (u->help) {
		u->help = false; /* any key closes the help */
		return true;
	}
	if (ch == KEY_RESIZE) {
		clamp_scroll(u);
		return true;
	}
	u->msg[0] = '\0';
	bool procs = u->view == TOP_VIEW_PROCS;
	size_t *cur = procs ? &u->pcur : &u->cur;
	size_t n = procs ? u->procs.n : u->tree.nrows;
	long page = top_page_rows();
	switch (key_of(ch)) {
	case TOP_KEY_UP:
		move_by(cur, -1, n);
		break;
	case TOP_KEY_DOWN:
		move_by(cur, 1, n);
		break;
	case TOP_KEY_PGUP:
		move_by(cur, -page, n);
		break;
	case TOP_KEY_PGDN:
		move_by(cur, page, n);
		break;
	case TOP_KEY_HOME:
		*cur = 0;
		break;
	case TOP_KEY_END:
		*cur = n ? n - 1 : 0;
		break;
	case TOP_KEY_ENTER:
		if (procs)
			process_enter(u);
		else
			fold(u, 0);
		break;
	case TOP_KEY_LEFT:
		if (!procs)
			fold(u, -1);
		break;
	case TOP_KEY_RIGHT:
		if (!procs)
			fold(u, 1);
		break;
	case TOP_KEY_MARK:
		if (procs && u->pcur < u->procs.n) {
			u->procs.v[u->pcur].picked =
			    !u->procs.v[u->pcur].picked;
			move_by(cur, 1, n);
		}
		break;
	case TOP_KEY_FILTER:
		open_prompt(u, TOP_EDIT_FILTER, u->filter);
		break;
	case TOP_KEY_SEARCH:
		if (!procs) {
			u->search_origin = u->cur;
			open_prompt(u, TOP_EDIT_SEARCH, u->search);
		}
		break;
	case TOP_KEY_NEXT:
		if (!procs && u->search[0] && u->tree.nrows &&
		    !search_from(u, u->search, (u->cur + 1) % u->tree.nrows))
			snprintf(u->msg, sizeof(u->msg), "not found: %.255s",
			         u->search);
		break;
	case TOP_KEY_SORTBY:
		u->sortmenu = true;
		u->sortsel = u->tree.sort;
		break;
	case TOP_KEY_SORT:
		set_sort(u, (u->tree.sort + 1) % TOP_SORT_COUNT,
		         u->tree.reverse);
		break;
	case TOP_KEY_REVERSE:
		set_sort(u, u->tree.sort, !u->tree.reverse);
		break;
	case TOP_KEY_ZERO: {
		struct sel s;
		sel_save(u, &s);
		u->tree.hide_zero = !u->tree.hide_zero;
		u->tree.dirty |= TOP_DIRTY_FILTER;
		update_tree(u, &s);
		snprintf(u->msg, sizeof(u->msg), "%s",
		         u->tree.hide_zero ? "hiding the zeros" :
		                             "showing the zeros");
		break;
	}
	case TOP_KEY_TREE: {
		struct sel s;
		sel_save(u, &s);
		u->tree.flat_mode = !u->tree.flat_mode;
		u->tree.dirty |= TOP_DIRTY_ROWS;
		update_tree(u, &s);
		break;
	}
	case TOP_KEY_PROCS:
		u->view = procs ? TOP_VIEW_METRICS : TOP_VIEW_PROCS;
		break;
	case TOP_KEY_ALL:
		for (size_t i = 0; i < u->procs.n; i++)
			u->procs.v[i].picked = false;
		u->pick_all = true;
		u->view = TOP_VIEW_METRICS;
		sample(u);
		break;
	case TOP_KEY_MERGE:
		u->sampler.merge = !u->sampler.merge;
		snprintf(u->msg, sizeof(u->msg), "%s",
		         u->sampler.merge ?
		             "merging the processes of each app" :
		             "not merging");
		sample(u);
		break;
	case TOP_KEY_PAUSE:
		u->paused = !u->paused;
		break;
	case TOP_KEY_SLOWER:
		change_interval(u, true);
		break;
	case TOP_KEY_FASTER:
		change_interval(u, false);
		break;
	case TOP_KEY_HELP:
		u->help = true;
		break;
	case TOP_KEY_QUIT:
		return false;
	default:
		break;
	}
	clamp_scroll(u);
	return true;
}

/* ---------------------------------------------------------------- loop */

static void ui_free(struct top_ui *u)
{
	top_tree_free(&u->tree);
	top_sampler_free(&u->sampler);
	top_procs_free(&u->procs);
}

int top_run_live(const struct top_args *a)
{
	/* first: the crash handlers must be in place before the reader
	 * library installs its SIGBUS guard (which chains to them) */
	top_term_crash_handlers();
	static struct top_ui ui; /* static: zeroed, and big */
	struct top_ui *u = &ui;
	u->args = a;
	top_draw_set_banner(a->banner);
	u->interval = a->interval;
	u->pick_all = true;
	u->sampler.merge = a->merge;
	u->tree.flat_mode = a->flat;
	char err[512];
	if (top_procs_init(&u->procs, a, ui_warn, u, err, sizeof(err)) ||
	    top_procs_refresh(&u->procs, err, sizeof(err))) {
		fprintf(stderr, "scales-top: %s\n", top_esc(err));
		ui_free(u);
		return 2;
	}
	if (top_term_init()) {
		ui_free(u);
		return 2;
	}
	top_units_utf8(top_term_utf8());
	bool tty_in = isatty(STDIN_FILENO);

	int status = 0, sig = 0;
	uint64_t next = mono_ns();
	for (;;) {
		uint64_t now = mono_ns();
		bool dirty = false;
		if (!u->paused && now >= next) {
			sample(u);
			dirty = true;
			next = now + (uint64_t)(u->interval * 1e9);
		}
		if (dirty) {
			if (!u->msg[0] && u->nwarn && !u->editing) {
				snprintf(u->msg, sizeof(u->msg), "%.255s",
				         u->warn);
				u->nwarn = 0;
			}
			top_draw(u);
		}
		if (a->refreshes && u->refreshes >= (uint64_t)a->refreshes)
			break;

		struct pollfd pfd[2] = {
			{ top_term_signal_fd(), POLLIN, 0 },
			{ STDIN_FILENO, POLLIN, 0 },
		};
		now = mono_ns();
		int timeout = -1;
		if (!u->paused)
			timeout = next > now ?
			              (int)((next - now + 999999) / 1000000) :
			              0;
		int pr = poll(pfd, tty_in ? 2 : 1, timeout);
		if (pr < 0 && errno != EINTR)
			break;
		bool resized = false;
		sig = top_term_take_signals(&resized);
		if (sig)
			break;
		if (resized) {
			top_term_resize();
			clamp_scroll(u);
			top_draw(u);
		}
		if (tty_in && (pfd[1].revents & (POLLHUP | POLLERR)) &&
		    !(pfd[1].revents & POLLIN))
			tty_in = false; /* the terminal went away */
		if (tty_in && (pfd[1].revents & POLLIN)) {
			bool quit = false, any = false;
			int ch;
			while ((ch = getch()) != ERR) {
				any = true;
				if (!handle_key(u, ch)) {
					quit = true;
					break;
				}
			}
			if (quit)
				break;
			if (any)
				top_draw(u);
		}
		/* the interval may have changed: never wait longer than it */
		uint64_t cap = mono_ns() + (uint64_t)(u->interval * 1e9);
		if (next > cap)
			next = cap;
	}
	top_term_restore();
	ui_free(u);
	if (sig)
		top_term_die(sig);
	return status;
}
