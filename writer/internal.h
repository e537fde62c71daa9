/* SPDX-License-Identifier: MIT */
/* internal.h: libscales' private declarations (never installed). */
#ifndef SCALES_WRITER_INTERNAL_H
#define SCALES_WRITER_INTERNAL_H

#include <pthread.h>
#include <stdint.h>
#include <sys/types.h>

#include <urcu-bp.h>
#include <urcu/rculfhash.h>

#include "scales/scales.h"
#include "scales_shm.h"

#define SCALES_HIDDEN __attribute__((visibility("hidden")))

#define REGISTRY_MAGIC 0x5343414cu /* "SCAL" */
#define HELP_MAX 1023
#define STATE_VALUE_MAX 127

/* One path known to this process: the lock-free index's node. */
struct index_node {
	struct cds_lfht_node lfht;
	struct rcu_head rcu;
	uint32_t entry;      /* directory index */
	uint32_t generation; /* entry generation when indexed */
	uint16_t kind;       /* enum scales_shm_kind */
	union {
		scales_counter counter;
		scales_gauge gauge;
		scales_gauge_f64 gauge_f64;
		scales_state state;
		scales_histogram histogram;
	} handle;
	uint32_t path_len;
	char path[];
};

/* One interned string known to this process. */
struct string_node {
	struct cds_lfht_node lfht;
	struct rcu_head rcu;
	uint32_t ref;
	uint32_t len;
	char bytes[];
};

struct sampler;
struct callbacks;

struct scales_registry {
	uint32_t magic;
	uint32_t flags; /* enum scales_open_flags */
	int fd;
	pid_t creator; /* the process that created (and removes) it */
	pid_t pid;     /* the process this copy belongs to: the creator, or
	                * a forked child (set by the fork handler) */
	char *path;    /* the segment file */
	uint8_t *base; /* the mapping, read-write, MAP_SHARED */
	size_t size;
	struct scales_shm_header *hdr;
	uint32_t nstripes;
	uint16_t rseq_cpus; /* 0 when updates use the atomic fallback */
	uint16_t shared;    /* index of the shared stripe */
	uint32_t lock_timeout_ms;
	uint32_t sampler_interval_ms;

	/* Slow path: serializes this process's registrations before the
	 * segment lock is taken. Never taken by updates or lookups. */
	pthread_mutex_t local_lock;
	uint64_t synced_generation; /* header generation the index reflects,
	                             * or INDEX_UNSYNCED */

	/* How far this process knows the data area, the stripes (the same
	 * offsets in each) and the string area to be reserved in the file (alloc.c). A forked
	 * child inherits marks that stay true: reservations are never undone.
	 * Registry lock held. */
	uint64_t reserved_data, reserved_stripe, reserved_strings;
	/* The same for the top region of the stripes: [reserved_top,
	 * stripe_size) is reserved in every stripe it is present in. */
	uint64_t reserved_top;
	uint64_t *slot_map; /* in the segment: CPU -> its slot's offset */

	struct cds_lfht *index;   /* path -> index_node, lock-free lookups */
	struct cds_lfht *strings; /* string -> string_node */

	struct sampler *sampler;
	struct callbacks *callbacks;
	struct scales_registry *next_open; /* the list of open registries */
};

/* A synced_generation the header never holds: the next index_sync() rebuilds
 * the index from the directory (set in a forked child, see registry.c). */
#define INDEX_UNSYNCED UINT64_MAX

/* registry.c */
SCALES_HIDDEN int reg_check(const scales_registry *reg);
SCALES_HIDDEN uint64_t now_ns(clockid_t clk);
SCALES_HIDDEN int proc_start_time(pid_t pid, uint64_t *start);
SCALES_HIDDEN int reg_own_task(const scales_registry *reg);
SCALES_HIDDEN void reg_assign_slot(const uint64_t *slot_map, uint32_t cpu);

/* error.c: the words behind scales_open()'s error (scales_error_detail) */
SCALES_HIDDEN void error_detail_clear(void);
SCALES_HIDDEN void error_detail_add(const char *fmt, ...)
    __attribute__((format(printf, 1, 2)));

/* lock.c: the segment's robust, process-shared mutex */
SCALES_HIDDEN int shm_lock_init(struct scales_shm_header *hdr, int pshared);
SCALES_HIDDEN int reg_lock(scales_registry *reg);
SCALES_HIDDEN int reg_trylock(scales_registry *reg);
SCALES_HIDDEN void reg_unlock(scales_registry *reg);

/* alloc.c: space in the segment; caller holds the registry lock */
SCALES_HIDDEN int alloc_entry(scales_registry *reg, uint32_t data_size,
                              uint32_t extra, uint32_t stripe_size, bool top,
                              uint32_t *idx, bool *reused);
SCALES_HIDDEN uint32_t entry_extra(const struct scales_shm_entry *e);
SCALES_HIDDEN int alloc_slot(scales_registry *reg, uint32_t cpu);
SCALES_HIDDEN uint32_t stripes_in_use(const scales_registry *reg, bool top);
SCALES_HIDDEN void zero_stripes(scales_registry *reg,
                                const struct scales_shm_entry *e);
SCALES_HIDDEN void free_entry(scales_registry *reg, uint32_t idx);
SCALES_HIDDEN int alloc_string(scales_registry *reg, const char *s, size_t len,
                               uint32_t *ref);
SCALES_HIDDEN struct scales_shm_entry *entry_at(const scales_registry *reg,
                                                uint32_t idx);
SCALES_HIDDEN int reserve_range(scales_registry *reg, uint64_t off,
                                uint64_t len);

/* index.c */
SCALES_HIDDEN int index_init(scales_registry *reg);
SCALES_HIDDEN void index_destroy(scales_registry *reg);
SCALES_HIDDEN uint64_t hash_bytes(const char *s, size_t len);
SCALES_HIDDEN bool index_find(scales_registry *reg, const char *path,
                              size_t len, struct index_node *copy);
SCALES_HIDDEN int index_add(scales_registry *reg, uint32_t idx);
SCALES_HIDDEN void index_remove(scales_registry *reg, const char *path,
                                size_t len);
SCALES_HIDDEN void index_sync(scales_registry *reg);
SCALES_HIDDEN void index_fill_handle(const scales_registry *reg, uint32_t idx,
                                     struct index_node *n);
SCALES_HIDDEN int string_intern(scales_registry *reg, const char *s, size_t len,
                                uint32_t *ref);

/* register.c */
SCALES_HIDDEN int stat_register(scales_registry *reg, const char *path,
                                uint16_t kind, const struct scales_info *info,
                                const struct scales_histogram_config *cfg,
                                uint32_t param0, struct index_node *n);
/* As stat_register(), recording the label list string ref labels. */
SCALES_HIDDEN int
stat_register_labelled(scales_registry *reg, const char *path, uint16_t kind,
                       const struct scales_info *info,
                       const struct scales_histogram_config *cfg,
                       uint32_t param0, uint32_t labels, struct index_node *n);
SCALES_HIDDEN void handle_out(uint16_t kind, int rc, const struct index_node *n,
                              void *out);
SCALES_HIDDEN int retire_idx(scales_registry *reg, uint32_t idx, uint32_t gen);
/* Tests only: called inside a registration, registry lock held, between the
 * header generation's bump and the index insertion. NULL otherwise. */
SCALES_HIDDEN extern void (*test_hook_registering)(void);
/* Tests only: called inside publish(), registry lock held, once the entry's
 * generation is odd. NULL otherwise. */
SCALES_HIDDEN extern void (*test_hook_publishing)(void);
SCALES_HIDDEN int count_refused(scales_registry *reg, int rc);

/* statetime.c: a timed state's set; 0, or SCALES_E_STATES if the value
 * found no slot (its time counts as "other"). */
SCALES_HIDDEN int state_set_timed(const scales_state *s, uint32_t id);
/* Tests only: the clock of timed states (ns), instead of CLOCK_MONOTONIC.
 * NULL otherwise. */
SCALES_HIDDEN extern uint64_t (*test_hook_state_clock)(void);

/* stripe.c */
SCALES_HIDDEN uint32_t possible_cpus(void);
SCALES_HIDDEN bool rseq_usable(uint32_t ncpu);

/* clock.c */
SCALES_HIDDEN void timer_clock(uint8_t *clock, uint64_t *ns_mult);

/* sampler.c */
SCALES_HIDDEN int sampler_start(scales_registry *reg);
SCALES_HIDDEN void sampler_stop(scales_registry *reg);

/* callback.c: callback gauges; registry lock held for callback_forget */
SCALES_HIDDEN int callbacks_init(scales_registry *reg);
SCALES_HIDDEN void callbacks_destroy(scales_registry *reg);
SCALES_HIDDEN void callback_forget(scales_registry *reg, uint32_t idx);
SCALES_HIDDEN void callbacks_run(scales_registry *reg);
SCALES_HIDDEN void callbacks_after_fork_child(scales_registry *reg);
SCALES_HIDDEN int callback_add(scales_registry *reg, const struct index_node *n,
                               scales_gauge_fn f, scales_gauge_i64_fn i,
                               void *arg);

#endif
