/* SPDX-License-Identifier: MIT */
/*
 * tree.h: the metric view's rows: a tree of path components per source
 * (or a flat table), sorted, filtered by a glob and collapsed where the
 * user said. Rebuilt only when the layout changes (sources or paths); a
 * refresh whose paths did not change only re-sorts when the sort depends
 * on values. The view draws only the visible rows (draw.c).
 */
#ifndef SCALES_TOP_TREE_H
#define SCALES_TOP_TREE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sample.h"

/* The sort columns, in the order of the live view's columns. All but the
 * name sort descending (largest first); top_tree.reverse flips that. Rows
 * without the value (a histogram's p99 for a counter) come last either
 * way. */
enum top_sort {
	TOP_SORT_NAME = 0,
	TOP_SORT_VALUE, /* counters, gauges, histogram counts */
	TOP_SORT_RATE,  /* rate per second over the last interval */
	TOP_SORT_M1,
	TOP_SORT_M5,
	TOP_SORT_M15,
	TOP_SORT_MEAN, /* histograms only, from here on */
	TOP_SORT_P50,
	TOP_SORT_P99,
	TOP_SORT_P999,
	TOP_SORT_MAX,
	TOP_SORT_COUNT
};

/* "name", "value", "rate", "m1", "m5", "m15", "mean", "p50", "p99",
 * "p99.9", "max". */
const char *top_sort_name(enum top_sort s);

struct top_node {
	const char *path; /* full path, path_len bytes (not NUL-terminated);
	                     NULL for a source's root */
	uint16_t path_len;
	uint16_t name_off; /* the last component starts at path + name_off */
	uint16_t src;      /* index of the source in the sampler */
	uint16_t depth;    /* root 0 */
	int32_t parent;    /* -1 for a root */
	int32_t kids;      /* first child in top_tree.kid */
	int32_t nkids;
	int32_t metric; /* index in the source's cur snapshot, or -1 */
	bool collapsed;
	bool match; /* it or a descendant matches the filter */
	double key; /* the sort key (sort_all()) */
};

enum top_row_kind {
	TOP_ROW_NODE = 0,
	TOP_ROW_INTERVAL, /* a histogram's last-interval line */
	TOP_ROW_TIMES,    /* a timed state's seconds per value */
};

struct top_row {
	int32_t node;
	uint8_t kind;
};

enum top_dirty {
	TOP_DIRTY_NODES = 1u << 0,  /* sources or paths changed */
	TOP_DIRTY_SORT = 1u << 1,   /* sort mode or sorted values changed */
	TOP_DIRTY_FILTER = 1u << 2, /* the filter changed */
	TOP_DIRTY_ROWS = 1u << 3,   /* something was collapsed or expanded */
};

struct top_tree {
	struct top_node *nodes;
	size_t nnodes, nodes_cap;
	int32_t *kid;    /* children, node.kids .. node.kids + nkids - 1 */
	int32_t *flat;   /* metric nodes by source, for the flat table */
	size_t *flat_at; /* per source: first index in flat; [nsrc] = end */
	size_t nsrc;
	char *arena;          /* the paths the nodes point into */
	struct top_row *rows; /* what is visible, in order */
	size_t nrows, rows_cap;
	char **collapsed; /* sorted keys of collapsed nodes */
	size_t ncollapsed;
	bool flat_mode;
	enum top_sort sort;
	bool reverse;   /* the sort order flipped */
	bool hide_zero; /* leave out the metrics whose value is 0 */
	char **globs;   /* the filter (scales_path_match()); NULL: none */
	size_t nglobs;
	unsigned dirty; /* enum top_dirty */
};

/* Brings the nodes and rows up to date with s, as t->dirty says; clears
 * t->dirty. Returns 0 or -ENOMEM (the tree is then empty). */
int top_tree_update(struct top_tree *t, const struct top_sampler *s);

/* Collapses (how < 0), expands (how > 0) or toggles (0) node; the rows
 * are rebuilt by the next top_tree_update(). */
void top_tree_fold(struct top_tree *t, const struct top_sampler *s,
                   int32_t node, int how);

/* Whether node can be folded: it has children, or is a histogram (its
 * interval line), or is a root. */
bool top_tree_foldable(const struct top_tree *t, const struct top_sampler *s,
                       int32_t node);

/*
 * Sets the filter: NULL or "" for none. The text is split at spaces into
 * filters; one with "*", "?" or "[" is an fnmatch glob over full paths ("*"
 * matches "/" too), any other matches anywhere in the path; a leading "^"
 * excludes what it matches. A path is shown if it matches one of the
 * other filters (or there are none) and none of the "^" ones, as
 * scales_path_match() has it. Returns 0 or -ENOMEM.
 */
int top_tree_set_filter(struct top_tree *t, const char *text);

/* The row showing node as kind, or SIZE_MAX. */
size_t top_tree_row_of(const struct top_tree *t, int32_t node, uint8_t kind);

/* The node of source src whose path is path (NULL: its root), or -1. */
int32_t top_tree_find(const struct top_tree *t, size_t src, const char *path);

/* The node's metric, or NULL. */
const struct scales_metric *top_node_metric(const struct top_tree *t,
                                            const struct top_sampler *s,
                                            int32_t node);

void top_tree_free(struct top_tree *t);

#endif /* SCALES_TOP_TREE_H */
