/* SPDX-License-Identifier: MIT */
/*
 * segbuild.h: a test helper that lays out segment images by hand, following
 * shm/scales_shm.h, without the writer library: valid ones, and (by editing
 * the header and entries afterwards) hostile ones. Useful to every reader
 * test (reader library, tools, exporters, fuzz seeds).
 *
 * Typical use:
 *
 *	char *dir = sb_tmpdir();                 // mkdtemp, also $SCALES_DIR
 *	struct segbuild *b = sb_new("web", 1234, 5678, NULL);
 *	uint32_t e = sb_counter(b, "/web/errors", "help text");
 *	sb_counter_add(b, e, 0, 5);             // stripe 0 += 5
 *	char path[4096];
 *	sb_write(b, dir, path, sizeof(path));    // <dir>/web.1234.5678.seg
 *	sb_free(b);
 *
 * Entries are published LIVE with an even generation. All functions abort
 * the test program on misuse (they are test code).
 */
#ifndef SCALES_TEST_SEGBUILD_H
#define SCALES_TEST_SEGBUILD_H

#include <stddef.h>
#include <stdint.h>

#include "scales_shm.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Sizes of a new image; zero fields take the defaults shown. */
struct sb_config {
	uint32_t nstripes;         /* 3 */
	uint32_t dir_capacity;     /* 64 */
	uint64_t data_capacity;    /* 4096 */
	uint64_t stripe_size;      /* 16384 (per stripe) */
	uint64_t strings_capacity; /* 8192 */
};

struct segbuild {
	unsigned char *img;
	size_t size;
	struct sb_config cfg;
};

/* A new image for app/pid/start (creation time now, heartbeat none). */
struct segbuild *sb_new(const char *app, int32_t pid, uint64_t start_time,
                        const struct sb_config *cfg);
void sb_free(struct segbuild *b);

static inline struct scales_shm_header *sb_header(struct segbuild *b)
{
	return (struct scales_shm_header *)(void *)b->img;
}

struct scales_shm_entry *sb_entry(struct segbuild *b, uint32_t idx);

/* Interns a string; returns its ref. */
uint32_t sb_string(struct segbuild *b, const char *s);

/* Adds entries; return the entry index. help may be NULL. */
uint32_t sb_counter(struct segbuild *b, const char *path, const char *help);
uint32_t sb_gauge(struct segbuild *b, const char *path, int64_t v);
uint32_t sb_gauge_f64(struct segbuild *b, const char *path, double v);
uint32_t sb_state(struct segbuild *b, const char *path, const char *value);
uint32_t sb_histogram(struct segbuild *b, const char *path, unsigned sub_bits,
                      unsigned unit_shift, uint32_t nbuckets, double scale,
                      unsigned unit);
uint32_t sb_agg(struct segbuild *b, const char *path, unsigned kind,
                const char *child);
uint32_t sb_dict(struct segbuild *b, const char *path);

/* Value updates. */
void sb_counter_add(struct segbuild *b, uint32_t e, uint32_t stripe,
                    uint64_t n);
void sb_state_set(struct segbuild *b, uint32_t e, const char *value);
void sb_hist_record(struct segbuild *b, uint32_t e, uint32_t stripe,
                    uint64_t v);
/* Marks entry e retired (generation bumped twice). */
void sb_retire(struct segbuild *b, uint32_t e);

/* Byte offset of entry e's counter word in stripe s. */
size_t sb_counter_offset(struct segbuild *b, uint32_t e, uint32_t stripe);

/* Writes the image to dir/<app>.<pid>.<start>.seg (path receives it).
 * Returns 0 or -errno. */
int sb_write(struct segbuild *b, const char *dir, char *path, size_t len);

/* Writes n bytes to dir/name (any content); path receives it. */
int sb_write_raw(const char *dir, const char *name, const void *bytes, size_t n,
                 char *path, size_t len);

/* A fresh mkdtemp directory under $TMPDIR (or /tmp), also set as
 * $SCALES_DIR. Caller frees (and may leave the files). */
char *sb_tmpdir(void);

/* Removes every file in dir and dir itself (not recursive beyond one
 * level of plain files, symlinks and fifos; subdirectories once). */
void sb_rmdir(const char *dir);

/* This process's start time (field 22 of /proc/self/stat). */
uint64_t sb_self_start_time(void);

#ifdef __cplusplus
}
#endif

#endif /* SCALES_TEST_SEGBUILD_H */
