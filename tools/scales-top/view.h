/* SPDX-License-Identifier: MIT */
/*
 * view.h: the live mode's state, shared by the event loop (ui.c) and the
 * rendering (draw.c). The model lives in procs, sampler and tree; this adds
 * what the user sees and did: the view, the highlight, the scroll
 * positions, the filter being typed, messages.
 */
#ifndef SCALES_TOP_VIEW_H
#define SCALES_TOP_VIEW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cli.h"
#include "procs.h"
#include "sample.h"
#include "tree.h"

enum top_view {
	TOP_VIEW_METRICS = 0,
	TOP_VIEW_PROCS,
};

/* What the status line's prompt is for. */
enum top_edit {
	TOP_EDIT_NONE = 0,
	TOP_EDIT_FILTER,
	TOP_EDIT_SEARCH,
};

struct top_ui {
	const struct top_args *args;
	struct top_procs procs;
	struct top_sampler sampler;
	struct top_tree tree;
	enum top_view view;
	size_t cur, top;   /* metric view: highlighted row, first row shown */
	size_t pcur, ptop; /* process list: the same */
	bool pick_all;     /* show every process (none picked) */
	bool paused;
	bool help;             /* the help screen is up */
	double interval;       /* seconds between refreshes */
	bool sortmenu;         /* the sort column menu is up */
	unsigned sortsel;      /* its highlighted entry (enum top_sort) */
	enum top_edit editing; /* a prompt is open */
	char edit[256];
	size_t edit_len;
	bool edit_sel;        /* the old text is selected: typing replaces it */
	size_t search_origin; /* the highlight when the search began */
	char filter[256];     /* the filter in force, as typed */
	char search[256];     /* the last search */
	char msg[600];        /* one-off message for the status line */
	char warn[256];       /* the last warning (skipped files...) */
	unsigned nwarn;
	uint64_t seen_warn[256]; /* hashes of the warnings shown */
	size_t nseen;
	uint64_t refreshes;
};

/* Rows available for the list (the screen minus header and status). */
int top_page_rows(void);
/* Shows text (escaped; NULL or "": nothing) above the status line. */
void top_draw_set_banner(const char *text);

/* Draws the whole screen from u (only the visible rows). */
void top_draw(struct top_ui *u);

#endif /* SCALES_TOP_VIEW_H */
