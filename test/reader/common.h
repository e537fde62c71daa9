/* SPDX-License-Identifier: MIT */
/* common.h: helpers shared by the reader tests. */
#ifndef SCALES_TEST_READER_COMMON_H
#define SCALES_TEST_READER_COMMON_H

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <scales/reader.h>
#include <scales/scales.h>

#include "segbuild.h"

/* How many mappings of files in dir this process has (/proc/self/maps):
 * a one-shot pass of the reader maps none (issue 17.2). */
static inline int maps_under(const char *dir)
{
	FILE *f = fopen("/proc/self/maps", "re");
	cr_assert_not_null(f);
	char line[8192];
	size_t n = strlen(dir);
	int count = 0;
	while (fgets(line, sizeof(line), f)) {
		const char *file = strchr(line, '/');
		if (file && !strncmp(file, dir, n) && file[n] == '/')
			count++;
	}
	fclose(f);
	return count;
}

/* Opens a registry of app in dir without a sampler thread (flags added)
 * into *out; returns scales_open()'s code. Used by forked writer
 * children too, where Criterion's assertions cannot report. */
static inline int open_registry(const char *dir, const char *app,
                                unsigned flags, scales_registry **out)
{
	struct scales_options o;
	scales_options_init(&o);
	o.app = app;
	o.flags = SCALES_NO_SAMPLER | flags;
	o.dir = dir;
	*out = NULL;
	return scales_open(&o, out);
}

/* Opens path; asserts success. */
static inline scales_segment *must_open(const char *path)
{
	char err[512];
	scales_segment *seg = NULL;
	int rc = scales_segment_open(path, 0, &seg, err, sizeof(err));
	cr_assert_eq(rc, 0, "open %s: %s", path, err);
	cr_assert_not_null(seg);
	return seg;
}

/* Opens path; asserts failure with code want and a non-empty message. */
static inline void must_refuse(const char *path, int want)
{
	char err[512] = "";
	scales_segment *seg = NULL;
	int rc = scales_segment_open(path, 0, &seg, err, sizeof(err));
	cr_assert_eq(rc, want, "open %s: got %d (%s), want %d (%s)", path, rc,
	             err, want, scales_reader_strerror(want));
	cr_assert_null(seg);
	cr_assert(strlen(err) > 0, "no error message");
	cr_assert(strchr(err, '\n') == NULL, "message is not one line");
}

/* Takes a snapshot; asserts success. */
static inline struct scales_snapshot *must_snap(scales_segment *seg,
                                                unsigned flags)
{
	char err[512];
	struct scales_snapshot *s = NULL;
	int rc = scales_snapshot_take(seg, flags, &s, err, sizeof(err));
	cr_assert_eq(rc, 0, "snapshot: %s", err);
	return s;
}

/* Writes b to a fresh directory, opens it and snapshots it. */
static inline struct scales_snapshot *build_snap(struct segbuild *b,
                                                 unsigned flags)
{
	char *dir = sb_tmpdir();
	char path[4096];
	cr_assert_eq(sb_write(b, dir, path, sizeof(path)), 0);
	scales_segment *seg = must_open(path);
	struct scales_snapshot *s = must_snap(seg, flags);
	scales_segment_close(&seg);
	sb_rmdir(dir);
	free(dir);
	return s;
}

static inline const struct scales_metric *
must_find(const struct scales_snapshot *s, const char *path)
{
	const struct scales_metric *m = scales_snapshot_find(s, path);
	cr_assert_not_null(m, "no metric %s", path);
	return m;
}

/* Histogram path of snapshot w is the same as in c (a fresh reader's):
 * count, sum, min, max and every bucket. */
static inline void same_histogram(const struct scales_snapshot *w,
                                  const struct scales_snapshot *c,
                                  const char *path)
{
	const struct scales_histo *x = &must_find(w, path)->side->hist;
	const struct scales_histo *y = &must_find(c, path)->side->hist;
	cr_assert_eq(x->nbuckets, y->nbuckets);
	cr_assert_eq(x->count, y->count,
	             "%s: count %llu, a fresh reader's %llu", path,
	             (unsigned long long)x->count,
	             (unsigned long long)y->count);
	cr_assert_eq(x->sum, y->sum, "%s: sum", path);
	cr_assert_eq(x->sum_hi, y->sum_hi, "%s: sum_hi", path);
	cr_assert_eq(x->min, y->min, "%s: min", path);
	cr_assert_eq(x->max, y->max, "%s: max", path);
	for (uint32_t k = 0; k < x->nbuckets; k++)
		cr_assert_eq(x->buckets[k], y->buckets[k],
		             "%s: bucket %u is %llu, a fresh reader's %llu",
		             path, k, (unsigned long long)x->buckets[k],
		             (unsigned long long)y->buckets[k]);
}

#endif /* SCALES_TEST_READER_COMMON_H */
