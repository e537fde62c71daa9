/* SPDX-License-Identifier: MIT */
/*
 * internal.h: private declarations shared by the reader library's files.
 * Not installed.
 */
#ifndef SCALES_READER_INTERNAL_H
#define SCALES_READER_INTERNAL_H

#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "scales/reader.h"
#include "scales_shm.h"

#define R_HIDDEN __attribute__((visibility("hidden")))
#define R_PRINTF(f, a) __attribute__((format(printf, f, a)))

/* Writes a one-line message to err (if non-NULL) and returns code. */
R_HIDDEN int r_fail(char *err, size_t errlen, int code, const char *fmt, ...)
    R_PRINTF(4, 5);

/* Monotonic and realtime clocks, in ns. */
R_HIDDEN uint64_t r_now_mono(void);
R_HIDDEN uint64_t r_now_real(void);

/* Overflow-safe: *end = off + n * size; false on overflow. */
static inline bool r_region_end(uint64_t off, uint64_t n, uint64_t size,
                                uint64_t *end)
{
	uint64_t bytes;
	if (__builtin_mul_overflow(n, size, &bytes))
		return false;
	return !__builtin_add_overflow(off, bytes, end);
}

/* The header fields that never change, copied (and validated) at open.
 * The reader never rereads them from the mapping. */
struct r_layout {
	uint16_t version_major, version_minor;
	uint32_t header_size;
	uint32_t entry_size;
	uint32_t nstripes;
	bool slots;         /* SCALES_SHM_F_SLOTS (1.3): stripes are slots */
	uint32_t top_slots; /* slots the top region is present in */
	int32_t pid;
	uint64_t start_time;
	uint64_t creation_time_ns;
	char app[SCALES_SHM_APP_MAX];
	uint64_t capacity;
	uint64_t dir_offset;
	uint32_t dir_capacity;
	uint64_t data_offset, data_capacity;
	uint64_t stripe_offset, stripe_size;
	uint64_t strings_offset, strings_capacity;
	uint64_t heartbeat_period_ns;
	uint64_t pid_ns; /* 0 = unknown */
};

/* The header atomics, loaded with acquire and checked at each use. */
struct r_used {
	uint32_t flags;
	uint32_t dir_used;
	uint64_t data_used, stripe_used, strings_used;
	uint64_t generation, heartbeat_ns, refused;
	uint32_t live_entries;
	/* per-CPU slots in use and the top region's start; without slots
	 * (before 1.3): every per-CPU stripe, and no top region */
	uint32_t slots_used;
	uint64_t stripe_top;
};

/* ------------------------------------------------- the snapshot cache */

/*
 * A block of validated paths, shared by a segment's cache and by the
 * snapshots whose metrics point into it. Bytes below `used` are written
 * once and never change; the block is freed with its last reference
 * (refs is atomic: snapshots may be freed on any thread).
 */
struct r_pblock {
	size_t refs;
	size_t used, cap; /* bytes */
	uint64_t data[];
};

/* What earlier snapshots learned about one directory entry. */
struct r_ecache {
	/* the entry's path words as copied and validated (path_ok(), NUL at
	 * plen, bytes after it as they were), in a block; NULL: none */
	const char *path;
	uint32_t gen;   /* the entry's generation when they were copied */
	uint32_t plen;  /* path_len */
	uint32_t rank;  /* position among the sorted metrics of the snapshot */
	uint32_t epoch; /* ... stamped `epoch` (r_cache.epoch); 0: none */
};

/*
 * Per open segment, owned by the thread taking its snapshots. A path is
 * re-validated only if its copied bytes, length or generation differ from
 * the cached ones. A metric whose path is unchanged goes straight to its
 * rank in the previous snapshot; only the others are sorted (and merged
 * in), so the metrics come out sorted without comparing paths when nothing
 * was registered or changed, whatever the order of the entries.
 */
struct r_cache {
	struct r_ecache *e; /* cap entries, zeroed when allocated */
	uint32_t cap;
	uint32_t epoch;   /* stamp of the last snapshot attempted */
	bool ranked;      /* it completed: ranks stamped `epoch` are valid */
	uint32_t prev_n;  /* its number of (sorted) metrics */
	uint64_t *filled; /* scratch bitmap: ranks taken in this snapshot */
	size_t capfilled; /* words */
	struct scales_metric *miss; /* scratch: metrics without a rank */
	size_t capmiss;
	struct r_pblock **blocks;
	size_t nblocks, capblocks;
	uint64_t bytes;  /* allocated in blocks */
	uint64_t stored; /* of which holding paths */
	uint64_t live;   /* of which referenced by e[] */
};

/* Ensures room for n entries and a bitmap of prev_n ranks (zeroed);
 * -ENOMEM. */
R_HIDDEN int r_cache_reserve(struct r_cache *c, uint32_t n);

/* Appends m to the metrics without a rank; -ENOMEM. */
R_HIDDEN int r_cache_miss(struct r_cache *c, size_t *nmiss,
                          const struct scales_metric *m);

/* Copies nw path words into a block and points ce at them (gen, plen).
 * Returns the copy, or NULL (out of memory). */
R_HIDDEN const char *r_cache_store(struct r_cache *c, struct r_ecache *ce,
                                   const uint64_t *words, size_t nw,
                                   uint32_t gen, uint32_t plen);

/* Moves the live paths into one block when most bytes are garbage. */
R_HIDDEN void r_cache_compact(struct r_cache *c);

/* Forgets everything (drops the cache's block references). */
R_HIDDEN void r_cache_reset(struct r_cache *c);

/* Drops n block references. */
R_HIDDEN void r_pblocks_unref(struct r_pblock *const *b, size_t n);

struct scales_segment {
	int fd;
	char *path;
	/* PROT_READ, MAP_SHARED; NULL until a warm snapshot maps it
	 * (r_segment_map()): a segment read once is read with pread() */
	const unsigned char *map;
	size_t map_len;
	uint64_t len;       /* bytes readable: capacity, or less if the file
	                       shrank (checked at each fstat) */
	uint64_t file_size; /* st_size at the last fstat */
	uint32_t uid;       /* st_uid at the last fstat: the owner */
	dev_t dev;          /* the file's device and inode (fixed for fd) */
	ino_t ino;
	/* file_size and uid are from the fstat of this pass: set on open,
	 * cleared by the selection that takes the segment again and by a
	 * snapshot (which always fstats: the next one must too); so are the
	 * header words in used */
	bool stat_fresh;
	struct r_used used; /* the header words read at open (stat_fresh) */
	struct r_layout lay;
	struct r_cache cache;
	struct r_spare *spare; /* NULL until the first snapshot */
};

/* Re-fstats seg, remaps if the file grew; SCALES_RE_TRUNCATED if it
 * shrank. */
R_HIDDEN int r_segment_refresh(scales_segment *seg, char *err, size_t errlen);
/* Maps seg (its len bytes) if it is not yet; 0 or an error. */
R_HIDDEN int r_segment_map(scales_segment *seg, char *err, size_t errlen);
/* r_segment_refresh() unless seg->stat_fresh (one fstat a file a pass). */
R_HIDDEN int r_segment_refresh_pass(scales_segment *seg, char *err,
                                    size_t errlen);
/* scales_segment_info() with r_segment_refresh_pass() and, while
 * stat_fresh, the header words read at open. */
R_HIDDEN int r_segment_info_pass(scales_segment *seg,
                                 struct scales_process_info *out, char *err,
                                 size_t errlen);

/* Loads the header atomics (mapped: under the SIGBUS guard of the
 * caller; else from a pread() copy) and checks them against the layout
 * and the file's length. */
R_HIDDEN int r_load_used(const scales_segment *seg, struct r_used *u, char *err,
                         size_t errlen);

/* The header's words: the mapping's, or (not mapped) a pread() copy into
 * buf (64-byte aligned: offset 0's alignment, so that each aligned word is
 * copied whole) followed by an acquire fence. NULL: a short read. */
R_HIDDEN const struct scales_shm_header *
r_header_words(const scales_segment *seg, struct scales_shm_header *buf);

/* Fills info from layout + used + liveness. */
/* "symlink", "directory", "fifo", ...: what a non-regular file is. */
R_HIDDEN const char *r_file_type(mode_t m);
/* Start time (field 22) of /proc/<pid>/stat: 1 found, 0 no such process
 * visible, -1 unreadable for another reason. */
R_HIDDEN int r_proc_start_time(int32_t pid, uint64_t *start);
R_HIDDEN void r_fill_info(const scales_segment *seg, const struct r_used *u,
                          struct scales_process_info *info);

/* Tests only: called by a cold snapshot (snapshot.c, copy_dir_cold())
 * at stage 0 after it copied the directory's fields, before it reads the
 * values; at stage 1 between its copies of the stripes and of the data
 * area. NULL in every program. */
R_HIDDEN extern void (*r_test_cold_hook)(const scales_segment *seg, int stage);
/* Test hook: called by a histogram copy between its loads of min and max
 * and its reads of the stripes. */
R_HIDDEN extern void (*r_test_histo_hook)(const scales_segment *seg);

/* ---------------------------------------------------------- SIGBUS guard */

/*
 * Usage, in the function that stays on the stack during the guarded copy:
 *
 *	sigjmp_buf jb;
 *	if (sigsetjmp(jb, 0)) { r_guard_leave(); ...fault... }
 *	r_guard_enter(&jb);
 *	... touch the mapping ...
 *	r_guard_leave();
 *
 * The signal mask need not be saved (0): the handler blocks nothing
 * (SA_NODEFER, an empty sa_mask), so after the jump it is the mask of the
 * sigsetjmp, and saving it is a system call per guarded copy (two a
 * segment a scales-top refresh).
 *
 * Locals modified between sigsetjmp and the fault are indeterminate after
 * it: keep cleanup state in memory reached through a pointer set before
 * sigsetjmp, and publish it with r_guard_publish() (a compiler barrier that
 * forces pending stores out before the next load from the mapping).
 */
R_HIDDEN void r_guard_enter(sigjmp_buf *jb);
R_HIDDEN void r_guard_leave(void);
#define r_guard_publish() __atomic_signal_fence(__ATOMIC_SEQ_CST)

/* ---------------------------------------------------------------- arena */

struct r_chunk {
	struct r_chunk *next;
	size_t used, cap;
	max_align_t data[];
};

struct r_arena {
	struct r_chunk *head;
};

/* Returns n bytes aligned to 16, or NULL. Stable until r_arena_free(). */
R_HIDDEN void *r_arena_alloc(struct r_arena *a, size_t n);
R_HIDDEN char *r_arena_strndup(struct r_arena *a, const char *s, size_t n);
/* A zeroed metric side in a (NULL: out of memory). */
R_HIDDEN struct scales_metric_side *r_side_new(struct r_arena *a);
R_HIDDEN void r_arena_free(struct r_arena *a);
/* snapshot.c: sorts a timed state's times by value and adds up equal
 * values; returns how many are left. */
R_HIDDEN size_t r_state_times_fold(struct scales_state_time *t, size_t n);

/* An aggregate declared in the segment, waiting for
 * scales_snapshot_aggregate(). */
struct r_decl {
	const char *path;
	const char *child; /* the child stat's name */
	const char *help;
	const char *labels; /* its results carry them */
	uint16_t agg;       /* SCALES_AGG_SUM or SCALES_AGG_STATES */
	uint16_t unit;
	uint32_t entry, generation;
};

/*
 * The metrics array of a segment's last freed snapshot, for its next one:
 * an array this large is a fresh mmap that free() hands back to the
 * kernel, and the next snapshot would fault every page of it in again
 * (a page fault per 32 metrics). Shared by the segment and its snapshots
 * (refs), since a snapshot may be freed after its segment is closed, and
 * in another thread.
 */
struct r_spare {
	size_t refs;
	/* NULL or a malloc'd array; its capacity in its first bytes */
	struct scales_metric *metrics;
	/* NULL or the bucket arrays of a freed snapshot (r_hslab) */
	struct r_hslab *hslab;
	/* the histograms of the last snapshot and their largest nbuckets:
	 * the size of a new slab */
	uint32_t nhist, maxnb;
};

/*
 * A warm snapshot's histogram words (sum, buckets), kept from one snapshot
 * of the segment to a later one: 20 default histograms are 184 KB a
 * process, which a refresh over 1,000 processes otherwise writes afresh,
 * zeroes included (issue 17.2). Array i (stride words) is zero outside
 * words [z[i].lo, z[i].end): a snapshot taking it again for the same
 * histogram, whose range only grows, zeroes nothing.
 */
struct r_hslab {
	uint32_t cap, used; /* arrays; taken so far by this snapshot */
	uint32_t stride;    /* words an array */
	struct r_hzone {
		uint32_t lo, end;
		/* what the array holds a copy of (stripes 0: none): the
		 * histogram's entry and shape, its min, max, count and
		 * carries, the clock before the copy, and in fp the sum
		 * and bucket-0 words of each stripe read, so that a later
		 * snapshot may keep the copy (snapshot.c, histo_same()) */
		uint32_t stripes, entry, gen, carries;
		uint32_t sb, us, nb;
		uint64_t soff, doff, min, max, count, t0;
	} * z;
	uint64_t *words;
	uint64_t *fp; /* fps pairs of words an array, or NULL */
	uint32_t fps;
};

R_HIDDEN void r_hslab_free(struct r_hslab *h);

/* Arrays smaller than this are not kept: malloc's free lists reuse them,
 * and a reader of many small segments keeps no second copy of each. */
#define R_SPARE_MIN_BYTES ((size_t)1 << 20)

/* A new spare holding one reference, or NULL. */
R_HIDDEN struct r_spare *r_spare_new(void);
R_HIDDEN void r_spare_unref(struct r_spare *sp);

/* Makes s (empty) hold a reference to sp, and gives it sp's array if there
 * is one; scales_snapshot_free() puts s's array back. */
R_HIDDEN void r_snapshot_use_spare(struct scales_snapshot *s,
                                   struct r_spare *sp);

struct scales_snapshot_priv {
	struct r_arena arena;
	size_t cap; /* allocated metrics */
	struct r_decl *decls;
	size_t ndecls;
	bool aggregated;
	bool no_dicts;             /* known to hold no dict metric */
	int32_t *pids;             /* merged: member pids */
	struct r_pblock **pblocks; /* referenced path blocks (in the arena) */
	size_t npblocks;
	struct r_spare *spare; /* NULL, or where the metrics array goes */
	struct r_hslab *hslab; /* NULL, or its histograms' words */
	uint32_t nhist, maxnb; /* histograms copied, their largest nb */
};

/* Allocates an empty snapshot (metrics array of cap entries). */
R_HIDDEN struct scales_snapshot *r_snapshot_new(size_t cap);

/* Ensures room for n more metrics; -ENOMEM. Pointers into metrics move. */
R_HIDDEN int r_snapshot_reserve(struct scales_snapshot *s, size_t more);

R_HIDDEN int r_metric_cmp(const void *a, const void *b);

/* Adds src into dst bucket-wise (re-bucketing if the parameters differ);
 * dst->buckets must be writable (cast). */
R_HIDDEN void r_histo_add(struct scales_histo *dst, uint64_t *dst_buckets,
                          const struct scales_histo *src);

/*
 * One value from several metrics of compatible kinds. Merging processes
 * (merge.c) and summing an aggregate's children (aggregate.c) add the same
 * way: integers in u64 (wrapping as the writer's adds do), doubles in the
 * order the metrics come, histograms bucket-wise (r_histo_add).
 */
struct r_accum {
	uint64_t usum;      /* counters, dicts and i64 gauges, wrapping */
	double fsum;        /* the same and f64 gauges, as doubles */
	int64_t imax, imin; /* i64 gauges */
	double fmax, fmin;  /* every gauge; NaN never wins */
	uint64_t ngauges;
	struct scales_histo *hist; /* NULL: histograms are not added */
	uint64_t *buckets;
};

R_HIDDEN void r_accum_init(struct r_accum *acc);
/* Makes *out an empty histogram of shape's parameters (buckets from
 * arena) that r_accum_add() adds histograms into. -ENOMEM. */
R_HIDDEN int r_accum_histo(struct r_accum *acc, struct r_arena *arena,
                           const struct scales_histo *shape,
                           struct scales_histo *out);
/* Adds a counter, dict, gauge or histogram; other kinds are skipped. */
R_HIDDEN void r_accum_add(struct r_accum *acc, const struct scales_metric *m);
/* Sets out->v as out->kind holds it (counter, dict, gauge, f64 gauge),
 * the gauges combined as mode (SCALES_MF_MERGE_*) says. */
R_HIDDEN void r_accum_value(const struct r_accum *acc, unsigned mode,
                            struct scales_metric *out);

/* A merge fed one snapshot at a time (merge.c): the same result as
 * scales_snapshot_merge() of them all, in the order added, holding only
 * the running accumulators. r_merger_finish() gives the merged snapshot
 * and frees the merger (also on failure); r_merger_free() drops it. */
struct r_merger;
R_HIDDEN struct r_merger *r_merger_new(void);
R_HIDDEN int r_merger_add(struct r_merger *mg, const struct scales_snapshot *s);
R_HIDDEN int r_merger_finish(struct r_merger **mg,
                             struct scales_snapshot **out);
R_HIDDEN void r_merger_free(struct r_merger **mg);

/* 128-bit sums (GCC and Clang on 64-bit targets, which the reader
 * requires). */
__extension__ typedef unsigned __int128 r_u128;

/* A histogram's exact raw sum (sum_hi:sum), and storing one (saturating
 * at 2^96 - 1, far above nstripes x 2^64). */
static inline r_u128 r_hsum(const struct scales_histo *h)
{
	return (r_u128)h->sum_hi << 64 | h->sum;
}

static inline void r_hsum_set(struct scales_histo *h, r_u128 v)
{
	if (v >> 96)
		v = ((r_u128)1 << 96) - 1;
	h->sum = (uint64_t)v;
	h->sum_hi = (uint32_t)(v >> 64);
}

/* d[b] += s[b] for b in [lo, end), d and s apart (private words: a cold
 * snapshot's copies, a merge's arrays). Four at a time with plain loads,
 * which the compiler turns into vector adds at -O2 (its cost model does
 * not vectorise a loop of unknown length there). */
static inline void r_words_add(uint64_t *__restrict d,
                               const uint64_t *__restrict s, uint32_t lo,
                               uint32_t end)
{
	uint32_t b = lo;
	for (; end >= 4 && b <= end - 4; b += 4) {
		d[b] += s[b];
		d[b + 1] += s[b + 1];
		d[b + 2] += s[b + 2];
		d[b + 3] += s[b + 3];
	}
	for (; b < end; b++)
		d[b] += s[b];
}

/* A count with min > max (a record whose min/max have not landed yet):
 * min and max from the lowest and highest non-empty buckets. */
R_HIDDEN void r_histo_fix_minmax(struct scales_histo *h);

/* Representative raw value of bucket b, clamped to [min, max]. */
R_HIDDEN double r_histo_rep(const struct scales_histo *h, uint32_t b);

#endif /* SCALES_READER_INTERNAL_H */
