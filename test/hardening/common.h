/* SPDX-License-Identifier: MIT */
/* common.h: helpers shared by the hardening Criterion tests. */
#ifndef SCALES_TEST_HARDENING_COMMON_H
#define SCALES_TEST_HARDENING_COMMON_H

#include <criterion/criterion.h>
#include <dirent.h>
#include <errno.h>
#include <ftw.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <scales/reader.h>
#include <scales/scales.h>

/*
 * Regression tests for bugs reported to the lead and not fixed yet skip
 * themselves unless SCALES_HARD_PENDING=1 (or names the bug id, e.g.
 * SCALES_HARD_PENDING=BUG-H1). Once the bug is fixed, remove the
 * H_PENDING() line and the test guards the fix.
 */
#define H_PENDING(id)                                                          \
	do {                                                                   \
		const char *p_ = getenv("SCALES_HARD_PENDING");                \
		if (!p_ || (strcmp(p_, "1") && !strstr(p_, id)))               \
			cr_skip_test("pending fix of " id                      \
			             " (SCALES_HARD_PENDING=" id " runs it)"); \
	} while (0)

/* A fresh directory for this test, 0700, named in *out (PATH_MAX bytes).
 * Also $SCALES_DIR unless it is NULL-ed by the caller. */
static inline void h_fresh_dir(char *out)
{
	char tmpl[] = "/tmp/scales-hard-XXXXXX";
	char *d = mkdtemp(tmpl);
	cr_assert_not_null(d, "mkdtemp: %s", strerror(errno));
	snprintf(out, PATH_MAX, "%s", d);
	setenv("SCALES_DIR", d, 1);
}

/* Options with small regions, so that tests stay cheap. */
static inline void h_small_opts(struct scales_options *o, const char *app)
{
	scales_options_init(o);
	o->app = app;
	o->flags = SCALES_NO_SAMPLER;
	o->max_entries = 64;
	o->stripe_bytes = 65536;
	o->data_bytes = 4096;
	o->string_bytes = 8192;
}

static inline scales_registry *h_open(const char *app)
{
	struct scales_options o;
	h_small_opts(&o, app);
	scales_registry *reg = NULL;
	int rc = scales_open(&o, &reg);
	cr_assert_eq(rc, 0, "scales_open: %s", scales_strerror(rc));
	cr_assert_not_null(reg);
	return reg;
}

/* A snapshot of the segment at path; asserts success and no invalid or
 * skipped entries. */
static inline struct scales_snapshot *h_snap_path(const char *path)
{
	char err[512];
	scales_segment *seg = NULL;
	int rc = scales_segment_open(path, 0, &seg, err, sizeof err);
	cr_assert_eq(rc, 0, "open %s: %s", path, err);
	struct scales_snapshot *s = NULL;
	rc = scales_snapshot_take(seg, 0, &s, err, sizeof err);
	cr_assert_eq(rc, 0, "snapshot %s: %s", path, err);
	scales_segment_close(&seg);
	cr_assert_eq(s->invalid, 0, "%u invalid entries", s->invalid);
	cr_assert_eq(s->skipped, 0, "%u skipped entries", s->skipped);
	return s;
}

static inline struct scales_snapshot *h_snap(scales_registry *reg)
{
	return h_snap_path(scales_registry_path(reg));
}

static inline const struct scales_metric *
h_find(const struct scales_snapshot *s, const char *path)
{
	const struct scales_metric *m = scales_snapshot_find(s, path);
	cr_assert_not_null(m, "no metric %s in the snapshot", path);
	return m;
}

/* Number of entries of dir whose name starts with prefix ("" for all but
 * "." and ".."). */
static inline int h_count_entries(const char *dir, const char *prefix)
{
	DIR *d = opendir(dir);
	cr_assert_not_null(d, "opendir %s: %s", dir, strerror(errno));
	int n = 0;
	struct dirent *de;
	while ((de = readdir(d))) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		if (!strncmp(de->d_name, prefix, strlen(prefix)))
			n++;
	}
	closedir(d);
	return n;
}

static inline int h_rm_one(const char *path, const struct stat *st, int type,
                           struct FTW *ftw)
{
	(void)st;
	(void)type;
	(void)ftw;
	remove(path);
	return 0;
}

/* rm -rf for a test directory (no symlink is followed). */
static inline void h_rm_rf(const char *path)
{
	nftw(path, h_rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

#endif
