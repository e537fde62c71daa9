/* SPDX-License-Identifier: MIT */
/*
 * <scales/scales.h>: libscales, the writer side of scales.
 *
 * A process opens a registry (one shared-memory segment), registers stats by
 * path ("/web/errors") and gets back small update handles. Updates through a
 * handle are static inline functions: no lock, no system call, no allocation
 * and, on x86-64 with glibc's rseq, no function call. Readers (scales-top,
 * scales-export, or the reader library) map the segment read-only from other
 * processes.
 *
 * Conventions for every function below:
 *  - Functions returning int return 0 on success or a negative error code
 *    (a negated errno value or one of SCALES_E_*); scales_strerror() names it.
 *    Nothing in this library aborts the process on a recoverable error.
 *  - Registration functions are get-or-create: the same path and kind give
 *    the same stat. On any error they still fill *out with a harmless "sink"
 *    handle that absorbs updates, so a server may ignore the error.
 *  - Registration functions may be called from any thread concurrently; they
 *    take the registry lock only when the path is not yet known to this
 *    process. Lookups of known paths are lock-free (an RCU hash table).
 *  - Update functions may be called from any thread and from forked children
 *    concurrently, on the same handle. They are relaxed: they order nothing
 *    with respect to other memory accesses of the caller.
 *
 * The handle structs are part of the ABI (documented in docs/api.md) so that
 * updates can inline; treat their fields as private.
 */
#ifndef SCALES_SCALES_H
#define SCALES_SCALES_H

/*
 * Targets. Segments are little-endian (docs/format.md, "Conventions") and
 * the hot path adds to them in the CPU's own byte order, so a big-endian
 * writer could only write files that lie about their byte order: refused
 * here. On little-endian targets, 32-bit ones included, this header
 * compiles (test writer-header-targets): the rseq path is x86-64 only,
 * every other target takes the portable atomic path.
 */
#if defined(__BYTE_ORDER__) && defined(__ORDER_LITTLE_ENDIAN__) &&             \
    __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "libscales: segments are little-endian, big-endian targets unsupported"
#endif

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <scales/kinds.h>

/* The histogram's sequence is an asm goto with an output: gcc 11, clang 11;
 * older compilers take the atomic path (scales__slot_add_slow()). */
#if defined(__x86_64__) && defined(__GLIBC__) &&                               \
    (__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 35)) &&            \
    !defined(SCALES_NO_RSEQ_ASM) &&                                            \
    (defined(__clang__) ? __clang_major__ >= 11 : __GNUC__ >= 11)
#include <sys/rseq.h>
#define SCALES_HAVE_RSEQ_ASM 1
#else
#define SCALES_HAVE_RSEQ_ASM 0
#endif

#ifdef __cplusplus
extern "C" {
#endif

#define SCALES_VERSION_MAJOR 0
#define SCALES_VERSION_MINOR 1
#define SCALES_VERSION_PATCH 0
#define SCALES_VERSION_STRING "0.1.0"

#if defined(__GNUC__)
#define SCALES_API __attribute__((visibility("default")))
#define SCALES_LIKELY(x) __builtin_expect(!!(x), 1)
#define SCALES_UNLIKELY(x) __builtin_expect(!!(x), 0)
#define SCALES_PRINTF(f, a) __attribute__((format(printf, f, a)))
#else
#define SCALES_API
#define SCALES_LIKELY(x) (x)
#define SCALES_UNLIKELY(x) (x)
#define SCALES_PRINTF(f, a)
#endif

/* ---------------------------------------------------------------- errors */

/* Library error codes; system errors are returned as -errno. */
enum scales_error {
	SCALES_OK = 0,
	SCALES_E_PATH = -1000,   /* the path breaks the path rules */
	SCALES_E_KIND = -1001,   /* the path exists with another kind */
	SCALES_E_FULL = -1002,   /* the segment has no room left */
	SCALES_E_LIVE = -1003,   /* a live writer already owns this segment */
	SCALES_E_CONFIG = -1004, /* an option or histogram range is absurd */
	SCALES_E_CLOSED = -1005, /* the registry was closed or is a sink */
	SCALES_E_UNSAFE = -1006, /* directory or file fails the safety checks */
	SCALES_E_FOREIGN = -1007,  /* called from a task that shares this
	                             process's memory without being one of
	                             its threads (a vfork child, a raw
	                             clone(CLONE_VM)) or from the child of a
	                             raw fork system call: refused */
	SCALES_E_KEY_UTF8 = -1008, /* a dict key is not valid UTF-8 */
	SCALES_E_KEY_LONG = -1009, /* a dict key, escaped, does not fit in
	                              the path (255 bytes) */
	SCALES_E_LABEL = -1010,    /* the label name breaks the label rules, or
	                           the scope already has a label of that
	                           name */
	SCALES_E_STATES = -1011,   /* a timed state's table of values is full:
	                            the value is set, its time counts as
	                            "other" */
};

/*
 * Returns a static, human-readable description of err (0, a SCALES_E_* code
 * or a negated errno value). Never NULL. Thread-safe.
 */
SCALES_API const char *scales_strerror(int err);

/*
 * After a failed scales_open() (also the one behind scales_default()), in
 * the thread that called it: what failed, naming the directory or file and
 * the check, e.g. "/dev/shm/scales-1000: owned by uid 0, not by this
 * process's uid 1000". Every directory tried is named, separated by "; ".
 * "" after a success or when there is nothing to add to scales_strerror().
 * Never NULL; valid until the thread's next scales_open().
 */
SCALES_API const char *scales_error_detail(void);

/* Returns SCALES_VERSION_STRING of the library actually loaded. */
SCALES_API const char *scales_version(void);

/* -------------------------------------------------------------- registry */

typedef struct scales_registry scales_registry;

enum scales_open_flags {
	/* keep the file at close, for post-mortem reading */
	SCALES_KEEP_SEGMENT = 1u << 0,
	/* no background threads: no heartbeat, no automatic callback gauges */
	SCALES_NO_SAMPLER = 1u << 1,
	/* force the atomic fallback instead of rseq */
	SCALES_NO_RSEQ = 1u << 2,
	/* directory 0750 and segment 0640, for a monitoring group */
	SCALES_GROUP_READABLE = 1u << 3,
};

/*
 * Options for scales_open(). Initialise with scales_options_init() and set
 * what you need; fields may be appended in later versions (struct_size tells
 * the library which fields the caller knows).
 */
struct scales_options {
	uint32_t struct_size; /* sizeof(struct scales_options) */
	uint32_t flags;       /* enum scales_open_flags */
	const char *app;      /* NULL: the program's short name. [A-Za-z0-9_-],
	                          at most 63 bytes; other bytes become '_' */
	const char *dir;      /* NULL or "": $SCALES_DIR, else the default
	                          directory (docs/format.md, "Where segments
	                          live") */
	uint32_t max_entries; /* 0: 16384 directory entries */
	uint32_t sampler_interval_ms; /* 0: 1000 (heartbeat, callback gauges) */
	uint64_t stripe_bytes;        /* 0: 4 MiB of per-CPU room (per CPU) */
	uint64_t data_bytes;          /* 0: 1 MiB of non-striped data */
	uint64_t string_bytes; /* 0: 1 MiB of strings (help, states, names) */
	uint32_t lock_timeout_ms; /* 0: 1000: then registration gives EBUSY */
	uint32_t group; /* with SCALES_GROUP_READABLE: the gid that may read
	                   (the caller must be a member); 0: the caller's
	                   effective group */
};

/* Fills *opts with defaults. Returns 0, or -EINVAL if opts is NULL. */
SCALES_API int scales_options_init(struct scales_options *opts);

/*
 * Creates a segment and returns a registry for it in *out.
 *
 * The segment file is created under a temporary name (starting with ".") and
 * renamed into place once its header is complete. If a segment of the same
 * name exists and its writer is dead, it is replaced; if its writer lives,
 * SCALES_E_LIVE. On error *out is NULL. Thread-safe; the registry is owned
 * by the caller and released with scales_close().
 */
SCALES_API int scales_open(const struct scales_options *opts,
                           scales_registry **out);

/*
 * Stops the sampler thread, unmaps the segment and frees the registry; the
 * process that created the segment also removes the file unless
 * SCALES_KEEP_SEGMENT was given. Sets *reg to NULL. Handles obtained from the
 * registry must not be used afterwards. Not concurrent with any other call
 * on the same registry. SCALES_E_FOREIGN (nothing done) from a vfork child
 * or another task that shares the process's memory.
 */
SCALES_API int scales_close(scales_registry **reg);

/*
 * The process-wide default registry, opened on first use with default
 * options (app from $SCALES_APP or the program name). Returns NULL only if
 * it cannot be opened; registration functions accept NULL and hand out sinks.
 * Closed at exit. Thread-safe.
 */
SCALES_API scales_registry *scales_default(void);

/* The segment file's path. Valid until scales_close(). */
SCALES_API const char *scales_registry_path(const scales_registry *reg);

/*
 * Retires every stat (as if each were released), for tests: the seed's
 * reset(). Caller promises no thread uses any handle of the registry.
 */
SCALES_API int scales_reset(scales_registry *reg);

/* ----------------------------------------------------------- registration */

/*
 * Path rules: starts with "/", components separated by single "/", no empty
 * component, no "." or ".." component, no trailing "/", at most 255 bytes;
 * bytes allowed in a component: A-Z a-z 0-9 and "_-.:@+%". Anything else is
 * SCALES_E_PATH.
 */
#define SCALES_PATH_MAX 255

/* Returns 0 if path obeys the path rules, else SCALES_E_PATH. */
SCALES_API int scales_path_check(const char *path);

/* enum scales_unit, its units and merge modes: <scales/kinds.h>. */

/* Optional description of a stat; NULL means no help, no unit. */
struct scales_info {
	const char *help; /* copied; at most 1023 bytes are kept */
	enum scales_unit unit;
};

/*
 * The update handles. Documented ABI (docs/api.md); fields are private.
 * Counters and histograms are striped per CPU: each CPU that updates gets
 * a slot (a stripe) of its own on first use; slots[cpu], a map in the
 * segment, is the byte offset of that stripe from stripe 0, so the CPU's
 * word is at (char *)base + slots[cpu]. The shared stripe, at byte offset
 * "shared", is written with atomic adds by threads that cannot use a slot.
 */
typedef struct scales_counter {
	uint64_t *base;        /* the counter's word in stripe 0 */
	const uint64_t *slots; /* ncpu entries, in the segment */
	uint64_t shared;       /* every slot lies below the shared stripe */
	uint16_t rseq_cpus;    /* CPUs served by the rseq path; 0 = rseq off */
	uint16_t ncpu;         /* entries of slots[] */
	uint32_t reserved;
} scales_counter;

typedef struct scales_gauge {
	int64_t *value;
} scales_gauge;

typedef struct scales_gauge_f64 {
	double *value;
} scales_gauge_f64;

typedef struct scales_state {
	uint32_t *value;
	scales_registry *reg;
} scales_state;

typedef struct scales_histogram {
	uint64_t *base;   /* stripe 0: [0] sum, [1 + i] bucket i */
	uint64_t *minmax; /* [0] min, [1] max (raw values, shared) */
	const uint64_t *slots;
	uint64_t shared;
	uint64_t limit; /* slots at offsets below this one hold histograms */
	uint32_t last_bucket;
	uint16_t rseq_cpus;
	uint16_t ncpu;
	uint8_t sub_bits;
	uint8_t unit_shift;
	uint8_t clock; /* enum scales_clock, for timers */
	uint8_t reserved[5];
	uint64_t ns_mult; /* timers: ns = ticks * ns_mult >> 32 */
} scales_histogram;

/* Creates or finds the counter at path. See "Conventions" above. */
SCALES_API int scales_counter_get(scales_registry *reg, const char *path,
                                  const struct scales_info *info,
                                  scales_counter *out);

/* A signed 64-bit gauge (the seed's IntStat that also goes down). */
SCALES_API int scales_gauge_get(scales_registry *reg, const char *path,
                                const struct scales_info *info,
                                scales_gauge *out);

/* A double gauge. */
SCALES_API int scales_gauge_f64_get(scales_registry *reg, const char *path,
                                    const struct scales_info *info,
                                    scales_gauge_f64 *out);

/* A state: a short string value, such as "waitingForTask". */
SCALES_API int scales_state_get(scales_registry *reg, const char *path,
                                const struct scales_info *info,
                                scales_state *out);

/*
 * Interns value (1 to 127 bytes, no control characters) in the segment and
 * returns its id in *id, for scales_state_set(). The same string gives the
 * same id. Slow path: takes the registry lock on first use of a string.
 */
SCALES_API int scales_state_intern(scales_registry *reg, const char *value,
                                   uint32_t *id);

/*
 * Histogram range and precision. Values are unsigned 64-bit "raw" integers;
 * readers report raw * scale in the stat's unit.
 */
struct scales_histogram_config {
	uint64_t highest;         /* largest distinct raw value; larger values
	                             land in the last bucket (max stays exact).
	                             0: 2^40 - 1 */
	unsigned sub_bucket_bits; /* log2 of sub-buckets per octave, 5 to 10.
	                             0: 5 (32 per octave, <= 1.6% error) */
	unsigned lowest_shift;    /* raw values are bucketed after >> this
	                             (resolution 2^lowest_shift). 0 to 32 */
	double scale;             /* 0: 1e-9 with SCALES_UNIT_SECONDS (raw is
	                             nanoseconds), else 1 */
};

/*
 * Creates or finds a histogram. cfg may be NULL for defaults. An existing
 * histogram is returned as it is, whatever cfg says. Absurd ranges give
 * SCALES_E_CONFIG.
 */
SCALES_API int scales_histogram_get(scales_registry *reg, const char *path,
                                    const struct scales_info *info,
                                    const struct scales_histogram_config *cfg,
                                    scales_histogram *out);

/*
 * Retires the stat at path: readers stop showing it and its space is reused.
 * The caller promises that no thread or forked child still uses its handles.
 * Returns -ENOENT if no such stat.
 */
SCALES_API int scales_retire(scales_registry *reg, const char *path);

/*
 * Retires the stat at path and every stat below it (path/...): a dict stat
 * with all its keys, or a whole subtree. Same promise as scales_retire();
 * takes time proportional to the segment's directory. Returns -ENOENT if
 * nothing was there.
 */
SCALES_API int scales_retire_tree(scales_registry *reg, const char *path);

/* Fills *out with a sink handle (updates go nowhere). */
SCALES_API void scales_counter_sink(scales_counter *out);
SCALES_API void scales_histogram_sink(scales_histogram *out);

/* --------------------------------------------------------- the hot path */

/* Out-of-line part of the striped add; not for direct use. */
SCALES_API void scales__slot_add_slow(uint64_t *base, const uint64_t *slots,
                                      uint16_t rseq_cpus, uint16_t ncpu,
                                      uint64_t limit, uint64_t shared,
                                      uint64_t n);

/*
 * Adds n to the word of the current CPU's slot, at byte offset slots[cpu]
 * from base, if that offset is below limit (counters: every slot;
 * histograms: the first few, docs/format.md section 8).
 *
 * With rseq (x86-64, glibc >= 2.35 registered the thread): a restartable
 * sequence reads the cpu number from the thread's rseq area, its slot from
 * the map, and commits with a single non-locked add; the kernel restarts
 * the sequence if the thread is preempted or migrated before the add. No
 * other CPU writes that slot (a slot belongs to one CPU for the segment's
 * life, in every process that shares it), so no lock prefix is needed.
 * Everything else takes the slow path: a CPU without a slot yet (the slow
 * path gives it one, without waiting), a slot at or past limit, a thread
 * whose rseq area has no valid cpu, and every thread in a process without
 * rseq (rseq_cpus == 0). In rseq mode it adds atomically (ck_pr) to the
 * shared stripe, which no restartable sequence writes, so locked and
 * non-locked adds never meet on one word; without rseq every add is
 * atomic, to the slot of sched_getcpu() or the shared stripe.
 *
 * The sequence's descriptor and abort handler are emitted into the object
 * that inlines this function: a plugin, say. The thread's rseq_cs is
 * therefore cleared again right after the commit and before the slow path,
 * so that it never points into an object that dlclose() may unmap (the
 * kernel reads the descriptor at the thread's next preemption or signal,
 * and a stale pointer gets the process a SIGSEGV). An abort needs no
 * clearing: the kernel clears rseq_cs itself before it jumps to the abort
 * handler, which arms it again. The clear is an ordinary store: only the
 * kernel, acting for this very thread, reads rseq_cs, so program order is
 * all the ordering it needs.
 */
static inline void scales__slot_add(uint64_t *base, const uint64_t *slots,
                                    uint16_t rseq_cpus, uint16_t ncpu,
                                    uint64_t limit, uint64_t shared, uint64_t n)
{
#if SCALES_HAVE_RSEQ_ASM
	/* rseq_cs descriptor in __rseq_cs; the abort handler, preceded by the
	 * signature glibc registered (RSEQ_SIG), in __rseq_failure. The
	 * abort handler jumps back to re-arm rseq_cs and retry.
	 * The critical section is [1, 2): the add at its end is the commit.
	 * The slot map load needs no ordering of its own: an entry changes
	 * once, from "none" to a slot published (release) after its stripe
	 * was reserved, and the add depends on the loaded value.
	 * The clear of rseq_cs comes after 2, outside the section: were the
	 * thread preempted between the add and the clear, the kernel sees an
	 * ip past the section, clears rseq_cs itself and does not restart,
	 * so the add is never replayed. */
	__asm__ goto(".pushsection __rseq_cs, \"aw\"\n\t"
	             ".balign 32\n\t"
	             "3:\n\t"
	             ".long 0x0, 0x0\n\t"
	             ".quad 1f, (2f - 1f), 4f\n\t"
	             ".popsection\n\t"
	             ".pushsection __rseq_failure, \"ax\"\n\t"
	             ".byte 0x0f, 0xb9, 0x3d\n\t"
	             ".long 0x53053053\n\t"
	             "4:\n\t"
	             "jmp 0f\n\t"
	             ".popsection\n\t"
	             "0:\n\t"
	             "leaq 3b(%%rip), %%rax\n\t"
	             "movq %%rax, %%fs:8(%[off])\n\t"
	             "1:\n\t"
	             "movl %%fs:4(%[off]), %%eax\n\t"
	             "cmpl %k[ncpu], %%eax\n\t"
	             "jae %l[slow]\n\t"
	             "movq (%[slots], %%rax, 8), %%rax\n\t"
	             "cmpq %[limit], %%rax\n\t"
	             "jae %l[slow]\n\t"
	             "addq %[n], (%[base], %%rax)\n\t"
	             "2:\n\t"
	             "movq $0, %%fs:8(%[off])\n\t"
	             :
	             : [off] "r"(__rseq_offset),
	               [ncpu] "r"((uint32_t)rseq_cpus), [slots] "r"(slots),
	               [limit] "r"(limit), [base] "r"(base), [n] "r"(n)
	             : "rax", "memory", "cc"
	             : slow);
	return;
slow:
	/* Left the section before the commit (no valid cpu, no slot, or
	 * rseq off): rseq_cs may still point at this object's descriptor.
	 * Clear it before leaving this object; the ip is already past the
	 * section, so a preemption in between only clears it early. */
	__asm__ __volatile__("movq $0, %%fs:8(%0)"
	                     :
	                     : "r"(__rseq_offset)
	                     : "memory");
#endif
	scales__slot_add_slow(base, slots, rseq_cpus, ncpu, limit, shared, n);
}

/* Adds n to the counter. Never blocks; see scales__slot_add(). */
static inline void scales_counter_add(const scales_counter *c, uint64_t n)
{
	scales__slot_add(c->base, c->slots, c->rseq_cpus, c->ncpu, c->shared,
	                 c->shared, n);
}

/* Adds 1 to the counter. */
static inline void scales_counter_inc(const scales_counter *c)
{
	scales_counter_add(c, 1);
}

/* Sets the gauge: a relaxed atomic store. */
static inline void scales_gauge_set(const scales_gauge *g, int64_t v)
{
	__atomic_store_n(g->value, v, __ATOMIC_RELAXED);
}

/* Adds d (may be negative) to the gauge: a relaxed atomic add, one shared
 * word (not striped: a gauge is a level, not a rate). */
static inline void scales_gauge_add(const scales_gauge *g, int64_t d)
{
	__atomic_fetch_add(g->value, d, __ATOMIC_RELAXED);
}

static inline void scales_gauge_inc(const scales_gauge *g)
{
	scales_gauge_add(g, 1);
}

static inline void scales_gauge_dec(const scales_gauge *g)
{
	scales_gauge_add(g, -1);
}

/* Sets the double gauge: a relaxed atomic store of its bits. */
static inline void scales_gauge_f64_set(const scales_gauge_f64 *g, double v)
{
	__atomic_store(g->value, &v, __ATOMIC_RELAXED);
}

/* Adds d to the double gauge (a compare-and-swap loop). */
static inline void scales_gauge_f64_add(const scales_gauge_f64 *g, double d)
{
	double old, nv;
	__atomic_load(g->value, &old, __ATOMIC_RELAXED);
	do {
		nv = old + d;
	} while (!__atomic_compare_exchange(g->value, &old, &nv, true,
	                                    __ATOMIC_RELAXED,
	                                    __ATOMIC_RELAXED));
}

/* A timed state's set (SCALES_STATE_TIMED): scales_state_set() calls it. */
SCALES_API void scales__state_set_timed(const scales_state *s, uint32_t id);

/* Sets the state to an interned id (scales_state_intern()): a relaxed
 * atomic store. The string behind id was published before id was returned,
 * so a reader that sees id can read the string. A timed state
 * (SCALES_STATE_TIMED; value[1] is its table's size, written once before
 * the handle was handed out) also reads the clock and moves the time since
 * the last set to the value it left: a compare-and-swap and an add, no
 * lock (docs/format.md 6.3). */
static inline void scales_state_set(const scales_state *s, uint32_t id)
{
	if (SCALES_UNLIKELY(__atomic_load_n(&s->value[1], __ATOMIC_RELAXED))) {
		scales__state_set_timed(s, id);
		return;
	}
	__atomic_store_n(s->value, id, __ATOMIC_RELAXED);
}

/* Interns value and sets the state: the slow, convenient form. A timed
 * state whose table of values is full sets it and returns SCALES_E_STATES
 * (its time counts as "other"). */
SCALES_API int scales_state_set_str(const scales_state *s, const char *value);

/* Out-of-line part of a histogram record: raises max or lowers min
 * (compare-and-swap loops); not for direct use. */
SCALES_API void scales__histogram_extreme(uint64_t *minmax, uint64_t v);

/*
 * The bucket of raw value v: linear below 2^(sub_bits+1), then sub-buckets
 * of width 2^(octave - sub_bits) per octave. docs/format.md has the inverse.
 *
 * In the hot path the bucket is a chain of dependent instructions between
 * the value and the add to its bucket, so it is computed in as few steps
 * as the format allows (docs/performance.md, "The hot path"). With S =
 * sub_bits, U = unit_shift and m the highest set bit of v | 2^(S+U), the
 * format's shift of w = v >> U is m - U - S in both ranges, so its index
 * ((m - U - S) << S) + (w >> (m - U - S)) is
 * (m << S) + (v >> (m - S)) - ((S + U) << S): one bit scan, two shifts,
 * no branch on the range. scales__histogram_biased() is that index plus
 * (S + U) << S, the constant a record folds into its bucket pointer
 * instead of subtracting it on the chain. Needs S + U < 64.
 */
static inline uint64_t scales__histogram_biased(uint64_t v, unsigned sub_bits,
                                                unsigned unit_shift)
{
	unsigned su = sub_bits + unit_shift;
	unsigned m = 63u ^ (unsigned)__builtin_clzll(v | ((uint64_t)1 << su));
	return ((uint64_t)m << sub_bits) + (v >> (m - sub_bits));
}

/*
 * Clamps a (biased) index to its last bucket with a branch: rare, and
 * predicted, it keeps the clamp off the chain, where a conditional move
 * would lengthen it.
 */
static inline uint64_t scales__histogram_clamp(uint64_t idx, uint64_t last)
{
	if (SCALES_UNLIKELY(idx > last)) {
		idx = last;
		/* an empty asm, so that the compiler keeps the branch */
		__asm__("" : "+r"(idx));
	}
	return idx;
}

/* The bucket of v, past the last bucket clamped to it. */
static inline uint32_t scales_histogram_bucket(uint64_t v, unsigned sub_bits,
                                               unsigned unit_shift,
                                               uint32_t last_bucket)
{
	uint64_t bias = (uint64_t)(sub_bits + unit_shift) << sub_bits;
	return (uint32_t)(scales__histogram_clamp(
	                      scales__histogram_biased(v, sub_bits, unit_shift),
	                      last_bucket + bias) -
	                  bias);
}

/* Out-of-line part of a histogram record: adds 1 to bucket b (unless
 * bucket_done) and v to the sum (word 0), through scales__slot_add_slow();
 * not for direct use. The handle's fields come by value, so that the
 * caller's copy of the handle can stay in registers. */
SCALES_API void scales__histogram_add_slow(uint64_t *base, uint32_t b,
                                           uint64_t v, int bucket_done,
                                           const uint64_t *slots,
                                           uint16_t rseq_cpus, uint16_t ncpu,
                                           uint64_t limit, uint64_t shared);

#if defined(__GNUC__)
#define SCALES__ALWAYS_INLINE __attribute__((always_inline))
#else
#define SCALES__ALWAYS_INLINE
#endif

/*
 * Adds 1 to the bucket at *bucket (in stripe 0) and v to the sum in the
 * current CPU's slot: what scales__slot_add() does twice, in one asm
 * statement whose second restartable sequence reuses the slot the first
 * one looked up.
 *
 * One sequence cannot commit two adds (an abort after the first would
 * replay it), so there are two, back to back. The first is
 * scales__slot_add()'s: arm, read the cpu number and its slot, commit the
 * bucket's add. The second arms its own descriptor, reads the cpu number
 * again and, if it is the first sequence's cpu, commits the sum's add to
 * the slot already in hand: a CPU's slot never changes, so the same cpu
 * means the same slot, and the kernel restarts the second sequence (at
 * its arming, registers intact) if the thread is preempted, migrated or
 * signalled between that read and the add. A thread that moved to another
 * CPU between the two sequences adds the sum through the slow path: each
 * add still lands exactly once. Between the sequences the ip is in
 * neither, so a preemption there only clears rseq_cs (the kernel does),
 * and the second arming sets it again. rseq_cs is cleared after the last
 * commit and before either slow path, as in scales__slot_add().
 *
 * The bucket's pointer is dead once its add committed, so the second
 * arming uses its register (an output, hence the compiler versions in
 * SCALES_HAVE_RSEQ_ASM): one register fewer for the caller's loop. The
 * slow paths take the bucket's index again from v.
 */
static inline SCALES__ALWAYS_INLINE void
scales__histogram_add(const struct scales_histogram *h, uint64_t *bucket,
                      uint64_t v)
{
#if SCALES_HAVE_RSEQ_ASM
	/* Descriptors 3 (section [1, 2), abort 4: back to 0) and 7 (section
	 * [6, 8), abort 9: back to 5). ecx keeps the cpu and rax the slot's
	 * offset from the first section to the second. An abort of the second
	 * restarts at 5, after the bucket's add, with ecx and rax intact. */
	__asm__ __volatile__ goto(
	    ".pushsection __rseq_cs, \"aw\"\n\t"
	    ".balign 32\n\t"
	    "3:\n\t"
	    ".long 0x0, 0x0\n\t"
	    ".quad 1f, (2f - 1f), 4f\n\t"
	    ".balign 32\n\t"
	    "7:\n\t"
	    ".long 0x0, 0x0\n\t"
	    ".quad 6f, (8f - 6f), 9f\n\t"
	    ".popsection\n\t"
	    ".pushsection __rseq_failure, \"ax\"\n\t"
	    ".byte 0x0f, 0xb9, 0x3d\n\t"
	    ".long 0x53053053\n\t"
	    "4:\n\t"
	    "jmp 0f\n\t"
	    ".byte 0x0f, 0xb9, 0x3d\n\t"
	    ".long 0x53053053\n\t"
	    "9:\n\t"
	    "jmp 5f\n\t"
	    ".popsection\n\t"
	    "0:\n\t"
	    "leaq 3b(%%rip), %%rax\n\t"
	    "movq %%rax, %%fs:8(%[off])\n\t"
	    "1:\n\t"
	    "movl %%fs:4(%[off]), %%ecx\n\t"
	    "cmpl %k[ncpu], %%ecx\n\t"
	    "jae %l[slow2]\n\t"
	    "movq (%[slots], %%rcx, 8), %%rax\n\t"
	    "cmpq %[limit], %%rax\n\t"
	    "jae %l[slow2]\n\t"
	    "addq $1, (%[bucket], %%rax)\n\t"
	    "2:\n\t"
	    "5:\n\t"
	    "leaq 7b(%%rip), %[bucket]\n\t"
	    "movq %[bucket], %%fs:8(%[off])\n\t"
	    "6:\n\t"
	    "cmpl %%fs:4(%[off]), %%ecx\n\t"
	    "jne %l[slow1]\n\t"
	    "addq %[v], (%[sum], %%rax)\n\t"
	    "8:\n\t"
	    "movq $0, %%fs:8(%[off])\n\t"
	    : [bucket] "+r"(bucket)
	    : [off] "r"(__rseq_offset), [ncpu] "r"((uint32_t)h->rseq_cpus),
	      [slots] "r"(h->slots), [limit] "r"(h->limit), [sum] "r"(h->base),
	      [v] "r"(v)
	    : "rax", "rcx", "memory", "cc"
	    : slow2, slow1);
	return;
slow2:
	/* Neither add committed; see scales__slot_add() for the clear. */
	__asm__ __volatile__("movq $0, %%fs:8(%0)"
	                     :
	                     : "r"(__rseq_offset)
	                     : "memory");
	scales__histogram_add_slow(h->base,
	                           scales_histogram_bucket(v, h->sub_bits,
	                                                   h->unit_shift,
	                                                   h->last_bucket),
	                           v, 0, h->slots, h->rseq_cpus, h->ncpu,
	                           h->limit, h->shared);
	return;
slow1:
	/* The bucket's add committed; the thread changed CPUs since. */
	__asm__ __volatile__("movq $0, %%fs:8(%0)"
	                     :
	                     : "r"(__rseq_offset)
	                     : "memory");
	scales__histogram_add_slow(h->base, 0, v, 1, h->slots, h->rseq_cpus,
	                           h->ncpu, h->limit, h->shared);
#else
	scales__histogram_add_slow(h->base, (uint32_t)(bucket - h->base - 1), v,
	                           0, h->slots, h->rseq_cpus, h->ncpu, h->limit,
	                           h->shared);
#endif
}

/*
 * Records raw value v: adds 1 to its bucket and v to the sum of this CPU's
 * stripe (two per-CPU adds), then raises max or lowers min if v is a new
 * extreme (two relaxed loads; the compare-and-swap, out of line, only when
 * it is: after the first values of a histogram, almost never).
 * The count is the sum of the buckets; readers may see the bucket before
 * the sum (both are exact once the call returns).
 */
static inline SCALES__ALWAYS_INLINE void
scales_histogram_record(const scales_histogram *h, uint64_t v)
{
	/* The bucket's index plus bias, and a pointer biased to match, so
	 * that the chain from v to the add has no subtraction (the bias
	 * depends on the handle only: in a loop the compiler hoists it).
	 * The pointer is formed in integers: it may point outside the
	 * histogram, only the sum with the index is dereferenced. */
	uint64_t bias = (uint64_t)(h->sub_bits + h->unit_shift) << h->sub_bits;
	uint64_t idx =
	    scales__histogram_clamp(scales__histogram_biased(v, h->sub_bits,
	                                                     h->unit_shift),
	                            h->last_bucket + bias);
	uintptr_t first = (uintptr_t)(h->base + 1) - (uintptr_t)(bias * 8);
	scales__histogram_add(h, (uint64_t *)(first + (uintptr_t)(idx * 8)), v);
	/* Relaxed: min and max order nothing; the slow path's CAS settles
	 * races between writers. */
	uint64_t *mm = h->minmax;
	if (SCALES_UNLIKELY(v > __atomic_load_n(&mm[1], __ATOMIC_RELAXED) ||
	                    v < __atomic_load_n(&mm[0], __ATOMIC_RELAXED)))
		scales__histogram_extreme(mm, v);
}

/* ---------------------------------------------------------------- timers */

enum scales_clock {
	SCALES_CLOCK_MONOTONIC = 0, /* clock_gettime(CLOCK_MONOTONIC), ns */
	SCALES_CLOCK_TSC = 1,       /* rdtsc, invariant TSC only */
};

/*
 * Starts timing a block for histogram h: returns a tick count of h's clock
 * (the TSC where the kernel itself uses an invariant TSC, else
 * CLOCK_MONOTONIC). Pair with scales_timer_stop() on the same thread or any
 * thread of the same process.
 */
static inline uint64_t scales_timer_start(const scales_histogram *h)
{
#if defined(__x86_64__)
	if (SCALES_LIKELY(h->clock == SCALES_CLOCK_TSC)) {
		uint32_t lo, hi;
		__asm__ __volatile__("rdtsc" : "=a"(lo), "=d"(hi));
		return ((uint64_t)hi << 32) | lo;
	}
#else
	(void)h; /* only CLOCK_MONOTONIC elsewhere */
#endif
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

#if defined(__SIZEOF_INT128__)
__extension__ typedef unsigned __int128 scales__u128;
#endif

/* (a * b) >> 32, truncated to 64 bits: with a 128-bit multiply where the
 * target has one, else from four 32 x 32-bit products (32-bit targets).
 * SCALES__NO_INT128 forces the second form, for its test. */
static inline uint64_t scales__mul_shr32(uint64_t a, uint64_t b)
{
#if defined(__SIZEOF_INT128__) && !defined(SCALES__NO_INT128)
	return (uint64_t)(((scales__u128)a * b) >> 32);
#else
	uint64_t al = a & 0xffffffffu, ah = a >> 32;
	uint64_t bl = b & 0xffffffffu, bh = b >> 32;
	/* a * b = al*bl + (al*bh + ah*bl) * 2^32 + ah*bh * 2^64; all but the
	 * first term are multiples of 2^32, so the shift is exact term by
	 * term, and the sum wraps modulo 2^64 as the cast above does. */
	return ((al * bl) >> 32) + al * bh + ah * bl + ((ah * bh) << 32);
#endif
}

/* Elapsed ticks since start, converted to nanoseconds. */
static inline uint64_t scales_timer_elapsed_ns(const scales_histogram *h,
                                               uint64_t start)
{
	uint64_t now = scales_timer_start(h);
	uint64_t d = now > start ? now - start : 0;
	return scales__mul_shr32(d, h->ns_mult);
}

/* Stops timing: records the elapsed nanoseconds into h. */
static inline void scales_timer_stop(const scales_histogram *h, uint64_t start)
{
	scales_histogram_record(h, scales_timer_elapsed_ns(h, start));
}

/* --------------------------------------------------------- timed blocks */

/*
 * Times the statement or block that follows into histogram h (a pointer),
 * the seed's `with latency.time():`:
 *
 *	SCALES_TIME(&stats.latency) {
 *		do_something();
 *	}
 *
 * Leaving the block with break, return or goto skips the record.
 */
#define SCALES_TIME(h)                                                         \
	for (uint64_t scales__t0 = scales_timer_start(h), scales__once = 1;    \
	     scales__once; scales__once = 0, scales_timer_stop(h, scales__t0))

/* -------------------------------------------------------- callback gauges */

typedef double (*scales_gauge_fn)(void *arg);
typedef int64_t (*scales_gauge_i64_fn)(void *arg);

/*
 * Registers a double gauge at path whose value is fn(arg), computed by the
 * registry's callback thread every sampler_interval_ms (and by
 * scales_sample()). Registering the same path again replaces fn and arg.
 *
 * Threading: fn runs on the callback thread (never on the heartbeat thread,
 * never on the hot path), one callback at a time, with no library lock
 * held. It may block; while it does, only the callback gauges sampled after
 * it are late. Retiring the gauge waits until fn is not running, so arg may
 * be freed once scales_retire() (or the scope's release) returns.
 */
SCALES_API int scales_gauge_callback(scales_registry *reg, const char *path,
                                     const struct scales_info *info,
                                     scales_gauge_fn fn, void *arg);

/* The same for a signed 64-bit gauge. */
SCALES_API int scales_gauge_callback_i64(scales_registry *reg, const char *path,
                                         const struct scales_info *info,
                                         scales_gauge_i64_fn fn, void *arg);

/*
 * Runs one round of every callback gauge now, in the calling thread
 * (serialized with the callback thread's rounds), and returns when each has
 * been stored. Useful at start-up and in tests.
 */
SCALES_API int scales_sample(scales_registry *reg);

/* ----------------------------------------------------------------- scopes */

/*
 * A scope is a path prefix bound to an object: the seed's init(self,
 * '/handler') (a root scope) and initChild(self, 'thread-%d') (a child
 * scope). Stats registered through a scope get paths <scope>/<name>, and
 * the scope remembers them, so that releasing it retires them.
 *
 * Scopes are opaque, owned by the caller, released with
 * scales_scope_release(). Registration through one scope may run from
 * several threads at once.
 */
typedef struct scales_scope scales_scope;

/* Creates a root scope at the printf-formatted path (e.g. "/handler"). */
SCALES_API int scales_scope_root(scales_registry *reg, scales_scope **out,
                                 const char *fmt, ...) SCALES_PRINTF(3, 4);

/* Creates a child scope <parent>/<name>, name printf-formatted
 * ("thread-%d"). */
SCALES_API int scales_scope_child(scales_scope *parent, scales_scope **out,
                                  const char *fmt, ...) SCALES_PRINTF(3, 4);

/*
 * Labels (docs/api.md, "Labels"): creates the child scope <parent>/<value>,
 * value printf-formatted, whose last path component is the value of the
 * label `label`: stats registered through it (and its child scopes) are
 * shown by /metrics as one family per name with that label,
 * scales_endpoint_latency_seconds{endpoint="home"} for
 * /endpoint/home/latency. Graphite and the text views keep the path.
 * label: 1 to 63 bytes of A-Z a-z 0-9 _, not starting with a digit or
 * "__", not one the readers use (app, pid, uid, le, key, state, quantile,
 * job, instance), and not already a label of the parent: else
 * SCALES_E_LABEL. At most 8 labels (a labelled dict's key included).
 * scales_label_check()
 * checks a name.
 */
SCALES_API int scales_scope_labelled(scales_scope *parent, scales_scope **out,
                                     const char *label, const char *fmt, ...)
    SCALES_PRINTF(4, 5);

/* Returns 0 if label is a valid label name, else SCALES_E_LABEL. */
SCALES_API int scales_label_check(const char *label);

/* The scope's full path; valid until the scope is released. */
SCALES_API const char *scales_scope_path(const scales_scope *scope);

/*
 * Releases the scope and its child scopes (child scope pointers become
 * invalid) and retires every stat registered through them: readers stop
 * showing them, aggregates drop them, and their space is reused. The caller
 * promises that no thread or forked child still uses their handles. Sets
 * *scope to NULL.
 */
SCALES_API int scales_scope_release(scales_scope **scope);

/* Registration through a scope: name is one path component or more. */
SCALES_API int scales_scope_counter(scales_scope *s, const char *name,
                                    const struct scales_info *info,
                                    scales_counter *out);
SCALES_API int scales_scope_gauge(scales_scope *s, const char *name,
                                  const struct scales_info *info,
                                  scales_gauge *out);
SCALES_API int scales_scope_gauge_f64(scales_scope *s, const char *name,
                                      const struct scales_info *info,
                                      scales_gauge_f64 *out);
SCALES_API int scales_scope_state(scales_scope *s, const char *name,
                                  const struct scales_info *info,
                                  scales_state *out);
SCALES_API int scales_scope_histogram(scales_scope *s, const char *name,
                                      const struct scales_info *info,
                                      const struct scales_histogram_config *cfg,
                                      scales_histogram *out);

/* Callback gauges through a scope (see scales_gauge_callback()): released
 * with the scope, which waits until the callback is not running. */
SCALES_API int scales_scope_gauge_callback(scales_scope *s, const char *name,
                                           const struct scales_info *info,
                                           scales_gauge_fn fn, void *arg);
SCALES_API int scales_scope_gauge_callback_i64(scales_scope *s,
                                               const char *name,
                                               const struct scales_info *info,
                                               scales_gauge_i64_fn fn,
                                               void *arg);

/*
 * Aggregates, computed by readers from a snapshot (the writer only records
 * the declaration):
 *  - scales_scope_sum(s, "finished"): <s>/finished is the sum of
 *    <s>/<child>/finished over the children and deeper descendants
 *    (docs/format.md 6.2; counters, gauges, dicts key by key). The seed's SumAggregationStat.
 *  - scales_scope_states(s, "state"): <s>/state/<value> is the number of
 *    descendants whose state stat "state" has that value. Values no
 *    child has are absent. The seed's HistogramAggregationStat.
 */
SCALES_API int scales_scope_sum(scales_scope *s, const char *child_stat,
                                const struct scales_info *info);
SCALES_API int scales_scope_states(scales_scope *s, const char *child_stat,
                                   const struct scales_info *info);

/* ----------------------------------------------------- class-style stats */

enum scales_stat_kind {
	SCALES_STAT_END = 0,
	SCALES_STAT_COUNTER = 1,
	SCALES_STAT_GAUGE = 2,
	SCALES_STAT_GAUGE_F64 = 3,
	SCALES_STAT_STATE = 4,
	SCALES_STAT_HISTOGRAM = 5,
	SCALES_STAT_SUM = 6,    /* aggregate over children, no handle */
	SCALES_STAT_STATES = 7, /* aggregate over children, no handle */
};

/*
 * One stat of a struct of handles; see SCALES_DESC_* and scales_bind().
 *
 * Growth rule (docs/api.md): a later version may append fields, never
 * change, move or remove one; a zero field means what the version without
 * it did; appended fields are 8 bytes wide, so no padding hides among
 * them. A table is walked with the size of the caller's struct
 * (scales_bind() passes the sizeof(struct scales_stat_desc) it was
 * compiled with to scales_bind_sized()), so a program built against an
 * older header keeps working with a newer library (the fields it lacks
 * read as zero), and one built against a newer header with an older
 * library as long as the fields that library lacks are zero (an entry with
 * any of them set is refused: -ENOTSUP, its handle a sink).
 */
struct scales_stat_desc {
	enum scales_stat_kind kind;
	enum scales_unit unit;
	const char *name; /* path component(s) under the scope */
	size_t offset;    /* of the handle in the bound struct */
	const char *help;
	const struct scales_histogram_config *histogram; /* NULL: defaults */
	/* fields appended here; see the growth rule above */
};

/* The size of the first version's struct (0.1): the stride of tables that
 * programs built before scales_bind_sized() existed pass. */
#define SCALES_STAT_DESC_SIZE_0_1                                              \
	(offsetof(struct scales_stat_desc, histogram) +                        \
	 sizeof(const struct scales_histogram_config *))

#define SCALES_DESC_COUNTER(type, field, help)                                 \
	{                                                                      \
		SCALES_STAT_COUNTER, SCALES_UNIT_NONE, #field,                 \
		    offsetof(type, field), help, NULL                          \
	}
#define SCALES_DESC_GAUGE(type, field, help)                                   \
	{                                                                      \
		SCALES_STAT_GAUGE, SCALES_UNIT_NONE, #field,                   \
		    offsetof(type, field), help, NULL                          \
	}
#define SCALES_DESC_GAUGE_F64(type, field, unit, help)                         \
	{                                                                      \
		SCALES_STAT_GAUGE_F64, unit, #field, offsetof(type, field),    \
		    help, NULL                                                 \
	}
#define SCALES_DESC_STATE(type, field, help)                                   \
	{                                                                      \
		SCALES_STAT_STATE, SCALES_UNIT_NONE, #field,                   \
		    offsetof(type, field), help, NULL                          \
	}
/* A state that accumulates the time spent in each value (16 of them). */
#define SCALES_DESC_STATE_TIMED(type, field, help)                             \
	{                                                                      \
		SCALES_STAT_STATE, SCALES_STATE_TIMED, #field,                 \
		    offsetof(type, field), help, NULL                          \
	}
#define SCALES_DESC_HISTOGRAM(type, field, unit, help)                         \
	{                                                                      \
		SCALES_STAT_HISTOGRAM, unit, #field, offsetof(type, field),    \
		    help, NULL                                                 \
	}
#define SCALES_DESC_SUM(child_stat, help)                                      \
	{                                                                      \
		SCALES_STAT_SUM, SCALES_UNIT_NONE, child_stat, 0, help, NULL   \
	}
#define SCALES_DESC_STATES(child_stat, help)                                   \
	{                                                                      \
		SCALES_STAT_STATES, SCALES_UNIT_NONE, child_stat, 0, help,     \
		    NULL                                                       \
	}
#define SCALES_DESC_END                                                        \
	{                                                                      \
		SCALES_STAT_END, SCALES_UNIT_NONE, NULL, 0, NULL, NULL         \
	}

/*
 * Registers every stat of desc (terminated by SCALES_DESC_END) under scope
 * and fills the handles in the struct at obj. Returns the first error; every
 * handle is filled either way (sinks where registration failed). The
 * seed's class stats:
 *
 *	struct handler { scales_counter requests; scales_histogram latency; };
 *	static const struct scales_stat_desc handler_desc[] = {
 *		SCALES_DESC_COUNTER(struct handler, requests, "requests"),
 *		SCALES_DESC_HISTOGRAM(struct handler, latency,
 *		                      SCALES_UNIT_SECONDS, "latency"),
 *		SCALES_DESC_END};
 *	scales_bind(scope, handler_desc, &h);
 */
SCALES_API int scales_bind(scales_scope *scope,
                           const struct scales_stat_desc *desc, void *obj);

/*
 * As scales_bind() for a table whose entries are desc_size bytes apart
 * (the caller's sizeof(struct scales_stat_desc)): fields past
 * desc_size read as zero; past the library's own struct they must be zero
 * (else that entry: -ENOTSUP, a sink). desc_size below
 * SCALES_STAT_DESC_SIZE_0_1 or not a multiple of the struct's alignment:
 * -EINVAL, nothing done. The scales_bind() macro calls it; the scales_bind
 * symbol (programs built before the macro) walks 0.1-sized entries.
 */
SCALES_API int scales_bind_sized(scales_scope *scope,
                                 const struct scales_stat_desc *desc,
                                 size_t desc_size, void *obj);
#define scales_bind(scope, desc, obj)                                          \
	scales_bind_sized((scope), (desc), sizeof(struct scales_stat_desc),    \
	                  (obj))

/* ------------------------------------------------------------ dict stats */

/*
 * A dict stat: counters keyed at run time (HTTP status codes, user agents,
 * URLs). The dict is marked at path; each key is a child counter at
 * path/<escaped key>. A key is any UTF-8 string (the empty one too): bytes
 * outside [A-Za-z0-9_.:@+-] are written %XX (docs/format.md, "Dict keys"),
 * and readers show the key as written. The escaped key must fit in the
 * path: strlen(dict path) + 1 + escaped length <= 255, where every other
 * byte counts 3 (below a 20-byte dict path: 234 ASCII letters, or 78 bytes
 * of anything). Cache the counter of a hot key with scales_dict_key() so
 * that updates stay a plain counter add.
 * The struct is the caller's; it only names the dict.
 */
typedef struct scales_dict {
	scales_registry *reg;
	scales_scope *scope; /* keys are remembered here, if any */
	uint16_t path_len;
	char path[256];
	uint32_t labels; /* the keys' label list (segment string), 0 = none */
} scales_dict;

SCALES_API int scales_dict_get(scales_registry *reg, const char *path,
                               const struct scales_info *info,
                               scales_dict *out);
SCALES_API int scales_scope_dict(scales_scope *s, const char *name,
                                 const struct scales_info *info,
                                 scales_dict *out);

/* Gets or creates the counter of key; fills *out (a sink on error).
 * SCALES_E_KEY_UTF8: key is not UTF-8; SCALES_E_KEY_LONG: too long (see
 * above). A refused key changes nothing: every other key keeps its count. */
/*
 * A dict whose keys are the values of the label key_label (docs/api.md,
 * "Labels"): /metrics shows scales_http_status_total{code="404"} for the
 * key "404" of /http/status with key_label "code" (without one, the label
 * is "key"). key_label follows the rules of scales_scope_labelled()
 * (SCALES_E_LABEL); NULL is no label.
 */
SCALES_API int scales_labelled_dict_get(scales_registry *reg, const char *path,
                                        const char *key_label,
                                        const struct scales_info *info,
                                        scales_dict *out);
SCALES_API int scales_scope_labelled_dict(scales_scope *s, const char *name,
                                          const char *key_label,
                                          const struct scales_info *info,
                                          scales_dict *out);

/* Gets or creates the counter of key; fills *out (a sink on error). */
SCALES_API int scales_dict_key(scales_dict *d, const char *key,
                               scales_counter *out);

/* Adds n to key's counter: the slow, convenient form (a lock-free lookup). */
SCALES_API int scales_dict_add(scales_dict *d, const char *key, uint64_t n);

#ifdef __cplusplus
}
#endif

#endif /* SCALES_SCALES_H */
