/* SPDX-License-Identifier: MIT */
/*
 * scales_shm.h: the byte layout of a scales segment, shared by the writer
 * (libscales) and every reader.
 *
 * NB: THIS IS NOT A PUBLIC API. It is never installed. docs/format.md is the
 * normative description of the same layout and must change in the same commit
 * as this file.
 *
 * Ordering guarantees (details in docs/format.md, "Publication protocol"):
 *
 *  - Header fields other than the atomics below are written once, before the
 *    file is renamed into the segment directory, and never change.
 *  - dir_used, data_used, stripe_used, strings_used only grow; each is stored
 *    with release semantics after the bytes it covers are written, so a reader
 *    that loads it with acquire semantics may read everything below it.
 *  - An entry is a seqlock: its generation is odd while the writer rewrites
 *    it. A reader loads state and generation (acquire), copies the fields and
 *    values, issues an acquire fence, and reloads generation and state; if
 *    either changed the copy is discarded (retried or skipped).
 *  - Values (counter stripes, gauges, histogram buckets) are plain aligned
 *    64-bit words updated atomically by the writer and read with relaxed
 *    atomic loads; they carry no ordering of their own.
 */
#ifndef SCALES_SHM_H
#define SCALES_SHM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <scales/kinds.h> /* kinds and units: defined once, there */

#define SCALES_SHM_MAGIC "SCALESHM" /* 8 bytes, no NUL */
#define SCALES_SHM_VERSION_MAJOR 1
#define SCALES_SHM_VERSION_MINOR 4
#define SCALES_SHM_BYTE_ORDER_LE 1
#define SCALES_SHM_HEADER_REGION 4096 /* the header owns the first page */
#define SCALES_SHM_HEADER_1_0 320     /* header_size of a 1.0 to 1.2 file */
#define SCALES_SHM_HEADER_1_3 344     /* with the slot fields */
#define SCALES_SHM_APP_MAX 64         /* app name, NUL included */
#define SCALES_SHM_PATH_MAX 256       /* path, NUL included */
#define SCALES_SHM_ENTRY_SIZE 384
#define SCALES_SHM_LOCK_SIZE 64
#define SCALES_SHM_SUFFIX ".seg"

/* header.flags */
#define SCALES_SHM_F_RSEQ 0x1   /* the creator updates stripes with rseq */
#define SCALES_SHM_F_CLOSED 0x2 /* writer closed cleanly and kept the file */
#define SCALES_SHM_F_SLOTS                                                     \
	0x4 /* stripes are slots assigned on first use
                                   (1.3): slots_used, top_slots, stripe_top
                                   say which stripes and bytes are in use */

/* Slot map entries (writer-private): the byte offset of the CPU's slot
 * from stripe 0, or for a CPU without one: none yet, or none ever (its
 * slot could not be reserved). */
#define SCALES_SHM_SLOT_NONE UINT64_MAX
#define SCALES_SHM_SLOT_SHARED (UINT64_MAX - 1)

/* entry.state */
enum scales_shm_state {
	SCALES_SHM_FREE = 0,    /* never published */
	SCALES_SHM_LIVE = 1,    /* published: readers show it */
	SCALES_SHM_RETIRED = 2, /* released: readers skip it; may be reused */
};

/* entry.kind */
enum scales_shm_kind {
	/* the kinds readers report: values of <scales/kinds.h> */
	SCALES_SHM_COUNTER = SCALES_KIND_COUNTER, /* stripes: u64 per stripe;
	                                             value = sum */
	SCALES_SHM_GAUGE_I64 = SCALES_KIND_GAUGE, /* data: i64 */
	SCALES_SHM_GAUGE_F64 = SCALES_KIND_GAUGE_F64, /* data: IEEE-754 double
	                                                 bits */
	SCALES_SHM_STATE = SCALES_KIND_STATE, /* data: u32 string ref of current
	                                         value, u32 0 (a timed state,
	                                         1.4: param[0]; its table
	                                         follows) */
	SCALES_SHM_HISTOGRAM = SCALES_KIND_HISTOGRAM, /* data: u64 min, u64 max;
	                                                 stripes: u64 sum, u64
	                                                 bucket[nbuckets] */
	/* entry kinds of the segment only */
	SCALES_SHM_AGG_SUM = 6, /* no data; param[0] = string ref of child stat
	                             name: value = sum over descendants
	                             (docs/format.md 6.2) */
	SCALES_SHM_AGG_STATES =
	    7, /* no data; param[0] = string ref of child stat
	                              name: count of children per state value */
	SCALES_SHM_DICT = SCALES_KIND_DICT, /* no data: marks a dict stat; its
	                                       keys are child counters at
	                                       path/<key> */
	SCALES_SHM_KIND_MAX = 8,
};

/* entry.unit */
enum scales_shm_unit {
	SCALES_SHM_UNIT_NONE =
	    SCALES_UNIT_NONE, /* values of <scales/kinds.h> */
	SCALES_SHM_UNIT_SECONDS = SCALES_UNIT_SECONDS,
	SCALES_SHM_UNIT_BYTES = SCALES_UNIT_BYTES,
	SCALES_SHM_UNIT_MAX = SCALES_UNIT_BYTES,
};

/* param[0] of a gauge (format 1.1; 0 in 1.0 files): how readers merge it
 * over the processes of an app. Counters and histograms always add. */
enum scales_shm_merge {
	SCALES_SHM_MERGE_SUM = 0,
	SCALES_SHM_MERGE_MAX = 1,
	SCALES_SHM_MERGE_MIN = 2,
	SCALES_SHM_MERGE_MEAN = 3,
	SCALES_SHM_MERGE_LAST = 3,
};

/*
 * A timed state (format 1.4, docs/format.md 6.3): param[0] = n value slots
 * (1 to SCALES_SHM_STATE_SLOTS_MAX), also at data + 4 for the writer's
 * handle. data_size stays 8, so older readers show a plain state; its
 * table follows those 8 bytes in the data area:
 *   +8:  u64 current: (slot + 1) << 56 | the CLOCK_MONOTONIC ns (modulo
 *        2^56) at which the state entered that slot; 0 = never set
 *   +16: n + 1 slots: slots 0 .. n-1 hold values (ref 0: free; claimed
 *        once with a compare-and-swap, never freed), slot n is "other"
 *        (values that found no slot; its ref stays 0)
 */
#define SCALES_SHM_STATE_SLOTS_MAX 254
#define SCALES_SHM_STATE_NS_BITS 56
#define SCALES_SHM_STATE_NS_MASK ((UINT64_C(1) << SCALES_SHM_STATE_NS_BITS) - 1)
struct scales_shm_state_slot {
	uint32_t ref;  /* string ref of the value (atomic), 0 = free */
	uint32_t zero; /* 0 */
	uint64_t ns;   /* time spent in the value, ns (atomic) */
};

/*
 * The header, at offset 0. Offsets are from the start of the file. Every
 * field is naturally aligned; the struct has no implicit padding.
 */
struct scales_shm_header {
	char magic[8];             /*   0 */
	uint16_t version_major;    /*   8 */
	uint16_t version_minor;    /*  10 */
	uint32_t header_size;      /*  12 sizeof(struct scales_shm_header) */
	uint8_t byte_order;        /*  16 SCALES_SHM_BYTE_ORDER_LE */
	uint8_t word_size;         /*  17 8 */
	uint16_t entry_size;       /*  18 SCALES_SHM_ENTRY_SIZE */
	uint32_t nstripes;         /*  20 possible CPUs + 1 shared stripe (with
	                      F_SLOTS: slots + 1, slots = possible CPUs) */
	int32_t pid;               /*  24 creator's pid (in its namespace) */
	uint32_t flags;            /*  28 SCALES_SHM_F_* (atomic) */
	uint64_t start_time;       /*  32 creator start, ticks since boot */
	uint64_t creation_time_ns; /*  40 CLOCK_REALTIME */
	char app[SCALES_SHM_APP_MAX]; /* 48 NUL-terminated */
	uint64_t capacity;            /* 112 file size in bytes */
	uint64_t dir_offset;          /* 120 entry directory */
	uint32_t dir_capacity;        /* 128 entries */
	uint32_t dir_used;            /* 132 entry slots ever used (atomic) */
	uint64_t data_offset;         /* 136 fixed data area */
	uint64_t data_capacity;       /* 144 */
	uint64_t data_used;           /* 152 (atomic) */
	uint64_t stripe_offset;       /* 160 stripe 0 */
	uint64_t stripe_size;         /* 168 bytes per stripe (the stride) */
	uint64_t stripe_used;      /* 176 bytes used in every stripe (atomic) */
	uint64_t strings_offset;   /* 184 string area */
	uint64_t strings_capacity; /* 192 */
	uint64_t strings_used;     /* 200 (atomic) */
	uint64_t generation;       /* 208 +1 per registration or retirement */
	uint64_t heartbeat_ns;     /* 216 CLOCK_MONOTONIC, 0 = no heartbeat */
	uint64_t heartbeat_period_ns; /* 224 0 = no heartbeat thread */
	uint64_t refused;             /* 232 refused registrations (atomic) */
	uint32_t live_entries;        /* 240 (atomic) */
	uint32_t free_head; /* 244 writer-private: retired list, idx+1 */
	uint64_t
	    pid_ns; /* 248 inode of the creator's pid namespace, 0 = unknown */
	uint8_t lock[SCALES_SHM_LOCK_SIZE]; /* 256 writer-private mutex */
	/* 320: format 1.3, meaningful with SCALES_SHM_F_SLOTS only */
	uint32_t slots_used;      /* 320 per-CPU slots handed out (atomic) */
	uint32_t top_slots;       /* 324 slots the top region is present in */
	uint64_t stripe_top;      /* 328 start of the top region of every stripe
	                        (atomic; only falls) */
	uint64_t slot_map_offset; /* 336 writer-private: u64 per CPU */
	/* 344: new fields are appended here, with header_size grown */
};

/*
 * A directory entry: dir_offset + index * entry_size.
 * param[] by kind:
 *   HISTOGRAM: [0] sub_bucket_bits, [1] unit_shift, [2] nbuckets
 *   AGG_SUM, AGG_STATES: [0] string ref of the child stat's name
 *   GAUGE_I64, GAUGE_F64: [0] enum scales_shm_merge (since 1.1)
 *   DICT: [0] string ref of its keys' label name, 0 = none (since 1.2)
 */
struct scales_shm_entry {
	uint32_t state;         /*   0 enum scales_shm_state (atomic) */
	uint32_t generation;    /*   4 seqlock, odd while rewritten (atomic) */
	uint16_t kind;          /*   8 enum scales_shm_kind */
	uint16_t unit;          /*  10 enum scales_shm_unit */
	uint32_t path_len;      /*  12 strlen(path) */
	uint64_t data_offset;   /*  16 fixed data, from file start; 0 = none */
	uint32_t data_size;     /*  24 */
	uint32_t stripe_size;   /*  28 bytes used in each stripe */
	uint64_t stripe_offset; /*  32 offset inside a stripe */
	uint32_t help;          /*  40 string ref, 0 = none */
	uint32_t next_free;     /*  44 writer-private: retired list, idx+1 */
	uint32_t param[8];      /*  48 kind parameters, see above */
	double scale;    /*  80 reported value = raw * scale (histograms) */
	uint32_t labels; /*  88 string ref of the label list (1.2), 0 = none */
	uint32_t reserved0;             /*  92 zero */
	uint64_t reserved[2];           /*  96 zero */
	char path[SCALES_SHM_PATH_MAX]; /* 112 NUL-terminated */
	uint8_t pad[16];                /* 368 */
};

/*
 * A string in the string area: at strings_offset + ref, a u32 length, then
 * the bytes (no NUL required, but the writer writes one), padded to 4. ref 0
 * means "no string"; the first record starts at ref 8.
 */
struct scales_shm_string {
	uint32_t len;
	char bytes[];
};
#define SCALES_SHM_STRINGS_FIRST 8

#ifdef __cplusplus
#define SCALES_SHM_STATIC_ASSERT static_assert
#else
#define SCALES_SHM_STATIC_ASSERT _Static_assert
#endif
SCALES_SHM_STATIC_ASSERT(sizeof(struct scales_shm_header) == 344,
                         "header layout");
SCALES_SHM_STATIC_ASSERT(offsetof(struct scales_shm_header, lock) == 256,
                         "lock offset");
SCALES_SHM_STATIC_ASSERT(sizeof(struct scales_shm_entry) ==
                             SCALES_SHM_ENTRY_SIZE,
                         "entry layout");
SCALES_SHM_STATIC_ASSERT(offsetof(struct scales_shm_entry, path) == 112,
                         "path offset");

/*
 * The rules writer and readers share, one home each (shm/<rule>.c, built into
 * both libraries, never exported). docs/format.md states them normatively.
 */
#define SCALES_SHM_HIDDEN __attribute__((visibility("hidden")))

/* path.c, section 5 "Paths": a path byte (inside a component). */
SCALES_SHM_HIDDEN bool scales_shm_path_byte_ok(unsigned char c);
/* The n bytes at p are a valid path: "/" then components of path bytes
 * separated by single "/", none empty, "." or ".."; 2 to 255 bytes. */
SCALES_SHM_HIDDEN bool scales_shm_path_ok(const char *p, size_t n);
/* path.c, section 6 "Derived paths": writes the n bytes at in as one path
 * component into out (NUL-terminated; room for SCALES_SHM_ESCAPED_MAX(n)
 * bytes) and returns its length. Injective: distinct values never give
 * the same component. */
#define SCALES_SHM_ESCAPED_MAX(n) (3 * (size_t)(n) + 2)
SCALES_SHM_HIDDEN size_t scales_shm_escape_component(const char *in, size_t n,
                                                     char *out);
/* The inverse: decodes a component written by scales_shm_escape_component()
 * back into the value (out: room for strlen(in) + 1 bytes, NUL-terminated;
 * the value holds no NUL, as no string of the segment does) and returns
 * its length. */
SCALES_SHM_HIDDEN size_t scales_shm_unescape_component(const char *in,
                                                       char *out);

/* path.c: the length (1 to 4) of the shortest UTF-8 encoding of a Unicode
 * scalar value at str (n bytes available; its code point in *cp if cp), or
 * 0 if str does not start one (overlong forms, surrogates, past U+10FFFF,
 * truncated) or n is 0. The one UTF-8 rule of writer and readers (the
 * reader exports it as scales_utf8_decode()). */
SCALES_SHM_HIDDEN size_t scales_shm_utf8_decode(const void *str, size_t n,
                                                uint32_t *cp);
/* path.c, section 6 "Dict keys": a dict key (any UTF-8 string, NUL-ended)
 * as its path component, escaped by scales_shm_escape_component(), into
 * out (room for SCALES_SHM_ESCAPED_MAX(strlen(key)) bytes). Returns its
 * length; -1 if key is not UTF-8; -2 if the component would exceed room
 * bytes (the NUL not counted). */
SCALES_SHM_HIDDEN int scales_shm_key_component(const char *key, size_t room,
                                               char *out);

/* labels.c, section 5 "Labels" (1.2): a label name; a label list (the
 * string at an entry's labels ref: "K=name" items joined by ",", K the
 * 1-based index of the path component holding the value, increasing,
 * names distinct, fewer items than the path has components); the number
 * of components of a path. */
#define SCALES_SHM_LABEL_MAX 63 /* bytes of a label name */
#define SCALES_SHM_LABELS_MAX 8 /* labels of one entry */
SCALES_SHM_HIDDEN bool scales_shm_label_name_ok(const char *s, size_t n);
SCALES_SHM_HIDDEN bool scales_shm_labels_ok(const char *l, size_t n,
                                            size_t ncomponents);
SCALES_SHM_HIDDEN size_t scales_shm_components(const char *path, size_t n);

/* histogram.c, section 9. Value to bucket: scales_histogram_bucket() of
 * <scales/scales.h> (the writer's hot path) is the one definition. */
#define SCALES_SHM_HISTO_SUB_BITS_MIN 5
#define SCALES_SHM_HISTO_SUB_BITS_MAX 10
#define SCALES_SHM_HISTO_SHIFT_MAX 32
#define SCALES_SHM_HISTO_BUCKETS_LIMIT (1u << 20) /* nbuckets is below */
SCALES_SHM_HIDDEN uint32_t scales_shm_bucket(uint64_t v, unsigned sub_bits,
                                             unsigned unit_shift,
                                             uint32_t last_bucket);
/* Bucket to range: index holds raw values lo .. lo + width - 1 (width may
 * wrap to 0 for indexes past scales_shm_histo_max_buckets()). */
SCALES_SHM_HIDDEN void scales_shm_bucket_range(uint32_t index,
                                               unsigned sub_bits,
                                               unsigned unit_shift,
                                               uint64_t *lo, uint64_t *width);
/* The number of buckets that covers every u64 (0 if none). */
SCALES_SHM_HIDDEN uint64_t scales_shm_histo_max_buckets(unsigned sub_bits,
                                                        unsigned unit_shift);
/* A shape (param[0..2]) a reader accepts. */
SCALES_SHM_HIDDEN bool scales_shm_histo_shape_ok(uint32_t sub_bits,
                                                 uint32_t unit_shift,
                                                 uint32_t nbuckets);
/* The shape for a largest distinct raw value highest: false if the
 * writer must refuse it (SCALES_E_CONFIG). */
SCALES_SHM_HIDDEN bool scales_shm_histo_shape(uint64_t highest,
                                              uint32_t sub_bits,
                                              uint32_t unit_shift,
                                              uint32_t *nbuckets);

/* kinds.c, section 6: data and stripe bytes of an entry of kind (false:
 * unknown kind, or too many buckets). */
SCALES_SHM_HIDDEN bool scales_shm_kind_sizes(uint32_t kind, uint32_t nbuckets,
                                             uint32_t *data, uint32_t *stripe);

/* kinds.c, section 6.3: bytes of a timed state's table (the current
 * word and nslots + 1 slots) after its 8 data bytes; 0 for nslots 0. */
SCALES_SHM_HIDDEN uint32_t scales_shm_state_table_size(uint32_t nslots);
/* The ns from time from to time to, both modulo 2^56: 0 if to is before
 * from (a difference of 2^55 or more modulo 2^56). Inline: a timed
 * state's set uses it twice. */
static inline uint64_t scales_shm_state_interval(uint64_t from, uint64_t to)
{
	uint64_t d = (to - from) & SCALES_SHM_STATE_NS_MASK;
	return d >> (SCALES_SHM_STATE_NS_BITS - 1) ? 0 : d;
}

/* name.c, section 2 "Names": app name bytes; in made an app name (NULL or
 * empty: "_"); "<app>.<pid>.<start>.seg" made (snprintf's result) and
 * parsed (n bytes at name; app, pid, start may be NULL). */
SCALES_SHM_HIDDEN bool scales_shm_app_byte_ok(unsigned char c);
SCALES_SHM_HIDDEN void scales_shm_app_name(const char *in,
                                           char out[SCALES_SHM_APP_MAX]);
SCALES_SHM_HIDDEN int scales_shm_seg_name(char *out, size_t n, const char *app,
                                          int32_t pid, uint64_t start);
SCALES_SHM_HIDDEN bool scales_shm_parse_seg_name(const char *name, size_t n,
                                                 char *app, size_t appsz,
                                                 int32_t *pid, uint64_t *start);

/* dir.c, section 2 "The directory": the directory given (dir, else
 * $SCALES_DIR; NULL or empty: none), which alone is used; else the
 * defaults in this order. scales_shm_dir_default() writes default i:
 * 1 written, 0 does not apply here, -ENAMETOOLONG. Readers scan every
 * SCALES_SHM_DIR_ROOT/SCALES_SHM_DIR_PREFIX* directory instead of the
 * first default. */
#define SCALES_SHM_DIR_ROOT "/dev/shm"
#define SCALES_SHM_DIR_PREFIX "scales-"
enum {
	SCALES_SHM_DIR_SHM = 0, /* /dev/shm/scales-<uid> */
	SCALES_SHM_DIR_XDG = 1, /* $XDG_RUNTIME_DIR/scales */
	SCALES_SHM_DIR_TMP = 2, /* /tmp/scales-<uid> */
	SCALES_SHM_DIR_DEFAULTS = 3,
};
SCALES_SHM_HIDDEN const char *scales_shm_dir_given(const char *dir);
SCALES_SHM_HIDDEN int scales_shm_dir_default(unsigned i, unsigned uid,
                                             char *out, size_t n);

/* proc.c, sections 2 and 11: field 22 of a /proc/<pid>/stat line; the
 * start time of pid: 0, -ENOENT (no such process visible), other -errno. */
SCALES_SHM_HIDDEN bool scales_shm_parse_stat_start(const char *buf,
                                                   uint64_t *start);
SCALES_SHM_HIDDEN int scales_shm_proc_start_time(int32_t pid, uint64_t *start);

#endif /* SCALES_SHM_H */
