/* SPDX-License-Identifier: MIT */
/* common.h: helpers shared by the writer tests. */
#ifndef SCALES_TEST_WRITER_COMMON_H
#define SCALES_TEST_WRITER_COMMON_H

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <scales/reader.h>
#include <scales/scales.h>

/* A fresh segment directory for this test process, as $SCALES_DIR. */
static inline void fresh_dir(void)
{
	char tmpl[] = "/tmp/scales-test-XXXXXX";
	char *d = mkdtemp(tmpl);
	cr_assert_not_null(d);
	setenv("SCALES_DIR", d, 1);
}

/* Opens a registry with the given flags and sizes (0: defaults). */
static inline scales_registry *open_reg(const char *app, unsigned flags,
                                        uint32_t max_entries)
{
	struct scales_options o;
	scales_options_init(&o);
	o.app = app;
	o.flags = flags;
	o.max_entries = max_entries;
	scales_registry *reg = NULL;
	int rc = scales_open(&o, &reg);
	cr_assert_eq(rc, 0, "scales_open: %s", scales_strerror(rc));
	return reg;
}

/* Takes a snapshot of a segment file through the reader library. */
static inline struct scales_snapshot *snap_path(const char *path)
{
	char err[256];
	scales_segment *seg = NULL;
	int rc = scales_segment_open(path, 0, &seg, err, sizeof err);
	cr_assert_eq(rc, 0, "open: %s", err);
	struct scales_snapshot *s = NULL;
	rc = scales_snapshot_take(seg, 0, &s, err, sizeof err);
	cr_assert_eq(rc, 0, "snapshot: %s", err);
	scales_segment_close(&seg);
	return s;
}

static inline struct scales_snapshot *snap(scales_registry *reg)
{
	return snap_path(scales_registry_path(reg));
}

static inline const struct scales_metric *
must_find(const struct scales_snapshot *s, const char *path)
{
	const struct scales_metric *m = scales_snapshot_find(s, path);
	cr_assert_not_null(m, "no metric %s in the snapshot", path);
	return m;
}

#endif
