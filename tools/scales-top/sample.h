/* SPDX-License-Identifier: MIT */
/*
 * sample.h: the sampling model. A source is what the metric view shows as
 * one group: one process, or the processes of one app merged. Each refresh
 * takes a snapshot of every source (merging where asked), keeps the
 * previous one for per-interval histograms, and feeds a rates tracker for
 * rates and EWMA meters. It also tells whether the layout (the sources, or
 * the paths of any source) changed, so the view rebuilds only then.
 */
#ifndef SCALES_TOP_SAMPLE_H
#define SCALES_TOP_SAMPLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <scales/reader.h>

#include "procs.h"

struct top_source {
	char *key;             /* identity across refreshes: a path or "app:" */
	char label[160];       /* "seed-tour 1234", "seed-tour (2 merged)" */
	enum top_pstate state; /* alive if any member is alive */
	uint32_t nmembers;
	scales_rates *rates;
	struct scales_snapshot *prev, *cur; /* cur may be NULL (failed) */
	struct scales_rate *rate;           /* cur->n results */
	size_t rate_cap;
	char err[256]; /* why the last snapshot failed, "" if it did not */
	bool seen;     /* internal */
};

struct top_sampler {
	struct top_source *v;
	size_t n;
	bool merge;               /* merge the processes of one app */
	const char *const *globs; /* snapshot filter (-f), may be empty */
	size_t nglobs;
	uint64_t tick_ns;    /* meter tick (0: 5 s) */
	bool layout_changed; /* set by top_sampler_refresh() */
	uint64_t scratch_n;  /* histogram delta scratch */
	uint64_t *scratch;
};

/*
 * Takes a new snapshot of every source built from the processes of procs
 * that have a segment and (if use_picked) are picked. Sources that no
 * longer exist are dropped. Returns 0 or -ENOMEM; a source whose snapshot
 * fails keeps cur NULL and says why in err.
 */
int top_sampler_refresh(struct top_sampler *s, const struct top_procs *procs,
                        bool use_picked);

void top_sampler_free(struct top_sampler *s);

/* The metric of src's previous snapshot with m's path and generation, or
 * NULL. */
const struct scales_metric *top_prev_metric(const struct top_source *src,
                                            size_t idx);

/*
 * The histogram of the last interval of metric idx of src (a histogram):
 * fills *st and sets *secs to the interval's length. Returns false if
 * there is no previous snapshot of it (or it was reset).
 */
bool top_hist_interval(struct top_sampler *s, const struct top_source *src,
                       size_t idx, struct scales_hstats *st, double *secs);

/* The value a sort by value uses: counters, gauges, histogram counts;
 * NaN for states. */
double top_metric_number(const struct scales_metric *m);

#endif /* SCALES_TOP_SAMPLE_H */
