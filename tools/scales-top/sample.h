/* SPDX-License-Identifier: MIT */
/*
 * sample.h: the sampling model. A source is what the metric view shows as
 * one group: one process, or the processes of one app merged. The reader
 * library's collector takes the snapshots, merges, keeps the previous ones
 * and tracks rates and meters; here, the sources are its groups as the
 * view labels them, and whether the layout (the sources, or the paths of
 * any source) changed, so the view rebuilds only then.
 */
#ifndef SCALES_TOP_SAMPLE_H
#define SCALES_TOP_SAMPLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <scales/reader.h>

#include "procs.h"

/* A view of one group of the collector's last collection. */
struct top_source {
	char key[300];         /* identity across refreshes (the group's) */
	char label[160];       /* "seed-tour 1234", "seed-tour (2 merged)" */
	enum top_pstate state; /* alive if any member is alive */
	uint32_t nmembers;
	const struct scales_group *g;       /* the collector's */
	const struct scales_snapshot *prev; /* may be NULL */
	const struct scales_snapshot *cur;
	const struct scales_rate *rate; /* cur->n results */
};

struct top_sampler {
	struct top_source *v;
	size_t n;
	bool merge;          /* merge the processes of one app */
	bool layout_changed; /* set by top_sampler_refresh() */
	scales_collector *col; /* the procs' (set by top_sampler_refresh()) */
};

/*
 * Has the collector of procs take a new snapshot of every process that
 * has a segment and (if use_picked) is picked, grouped per process or
 * (merge) per app and owner, and makes the sources of its groups. Returns
 * 0 or -ENOMEM.
 */
int top_sampler_refresh(struct top_sampler *s, struct top_procs *procs,
                        bool use_picked);

void top_sampler_free(struct top_sampler *s);

/* The metric of src's previous snapshot with m's path and generation, or
 * NULL. */
const struct scales_metric *top_prev_metric(const struct top_source *src,
                                            size_t idx);

/*
 * The histogram of the last interval of metric idx of src (a histogram):
 * fills *st and sets *secs to the interval's length. Returns false if
 * there is no previous collection.
 */
bool top_hist_interval(struct top_sampler *s, const struct top_source *src,
                       size_t idx, struct scales_hstats *st, double *secs);

/* The value a sort by value uses: counters, gauges, histogram counts;
 * NaN for states. */
double top_metric_number(const struct scales_metric *m);

#endif /* SCALES_TOP_SAMPLE_H */
