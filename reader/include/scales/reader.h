/* SPDX-License-Identifier: MIT */
/*
 * <scales/reader.h>: the scales reader library (libscales_reader).
 *
 * Readers find segment files, open them read-only, validate them, take
 * consistent snapshots of their metrics, compute histogram statistics,
 * aggregates, rates and EWMA meters, merge the processes of one app, and
 * render snapshots as JSON. scales-top and scales-export are built on it.
 *
 * Conventions for every function below:
 *  - Functions returning int return 0 on success or a negative error code:
 *    a negated errno value or one of SCALES_RE_* below;
 *    scales_reader_strerror() names it. Where a function takes
 *    `char *err, size_t errlen`, it also writes a one-line human-readable
 *    message (no trailing newline, NUL-terminated, truncated to errlen) on
 *    failure; err may be NULL.
 *  - Nothing in this library aborts, exits or prints. A hostile, truncated,
 *    foreign or concurrently shrinking segment gives an error, never a crash.
 *  - Readers never write to a segment, never take a lock in it and never
 *    block a writer.
 *  - Objects (scales_segment, snapshots, meters, lists) are not internally
 *    locked: one object may be used by one thread at a time; different
 *    objects may be used by different threads concurrently. Snapshots are
 *    immutable once returned (except scales_snapshot_filter()) and may be
 *    read from any number of threads at once.
 *  - Everything a function returns through an out-parameter is owned by the
 *    caller and released with the matching ..._free() or ..._close() function;
 *    strings inside a snapshot live as long as the snapshot. Snapshots of one
 *    segment may share (immutable, reference-counted) path strings; they may
 *    still be freed on different threads, in any order, before or after the
 *    segment is closed.
 */
#ifndef SCALES_READER_H
#define SCALES_READER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#include <scales/kinds.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(__GNUC__)
#define SCALES_READER_API __attribute__((visibility("default")))
#else
#define SCALES_READER_API
#endif

/* ---------------------------------------------------------------- errors */

/* Reader error codes; system errors are returned as -errno. */
enum scales_reader_error {
	SCALES_RE_OK = 0,
	SCALES_RE_NOT_SEGMENT = -2000, /* too small or bad magic */
	SCALES_RE_VERSION = -2001,     /* unknown major format version */
	SCALES_RE_FOREIGN = -2002,     /* other byte order or word size */
	SCALES_RE_CORRUPT = -2003,     /* sizes or offsets inconsistent */
	SCALES_RE_TRUNCATED = -2004,   /* the file shrank underneath us */
	SCALES_RE_UNSAFE = -2005,      /* symlink, or not a regular file */
	SCALES_RE_NOT_FOUND = -2006,   /* no segment matched (open by pid) */
};

/*
 * Returns a static description of err (0, a SCALES_RE_* code or a negated
 * errno value). Never NULL. Thread-safe.
 */
SCALES_READER_API const char *scales_reader_strerror(int err);

/* The library version, "MAJOR.MINOR.PATCH". Static string. */
SCALES_READER_API const char *scales_reader_version(void);

/* ------------------------------------------------------------- discovery */

/*
 * Warning callback: called once per skipped or unreadable item with the
 * item's path (or the directory's) and a one-line message such as
 * "not a regular file (symlink)". Both strings are valid during the call
 * only. Called on the caller's thread, synchronously.
 */
typedef void (*scales_warn_f)(void *arg, const char *path, const char *msg);

/* One candidate segment file, as named in its directory. */
struct scales_seg_ref {
	char *path;          /* dir + "/" + name */
	char *app;           /* <app> part of the name */
	int32_t pid;         /* <pid> part of the name */
	uint64_t start_time; /* <start> part: creator start, ticks since boot */
	uint64_t size;       /* st_size at discovery */
};

struct scales_seg_list {
	size_t n;
	struct scales_seg_ref *items; /* sorted by app, pid, start_time, path */
};

/*
 * Lists candidate segment files. Directory: dir if non-NULL; else
 * $SCALES_DIR if set and non-empty; else every /dev/shm/scales-* directory
 * that is a real directory (not a symlink) and readable by the caller
 * (others are skipped silently: they belong to other users), plus the
 * writer's fallback directories $XDG_RUNTIME_DIR/scales and
 * /tmp/scales-<euid> when they exist.
 *
 * In each directory, names starting with "." (temporaries) are skipped
 * silently; anything that is not a regular file (checked with lstat, so a
 * symlink is never followed) or not named <app>.<pid>.<start>.seg (app
 * non-empty with no ".", pid and start decimal) is skipped with a call to
 * warn (if non-NULL). The files are not opened; open them with
 * scales_segment_open(), which checks them again.
 *
 * Returns 0 (out->n may be 0), or an error if an explicitly named directory
 * (dir or $SCALES_DIR) cannot be read. *out is owned by the caller: free it
 * with scales_seg_list_free(). Thread-safe (uses only its arguments and the
 * environment).
 */
SCALES_READER_API int scales_discover(const char *dir, scales_warn_f warn,
                                      void *warn_arg,
                                      struct scales_seg_list *out, char *err,
                                      size_t errlen);

/* Frees the list's contents and zeroes it. NULL-safe. */
SCALES_READER_API void scales_seg_list_free(struct scales_seg_list *list);

/*
 * Parses a segment file name (no directory part) "<app>.<pid>.<start>.seg".
 * Returns true and fills the non-NULL out-parameters if it matches; app
 * receives at most appsz - 1 bytes plus a NUL (false if it does not fit).
 */
SCALES_READER_API bool scales_parse_seg_name(const char *name, char *app,
                                             size_t appsz, int32_t *pid,
                                             uint64_t *start_time);

/* --------------------------------------------------------------- segments */

typedef struct scales_segment scales_segment;

/*
 * Opens the segment file at path: open(O_RDONLY|O_NOFOLLOW|O_CLOEXEC),
 * fstat, refuse anything but a regular file (SCALES_RE_UNSAFE, also for a
 * symlink), read its header with pread(), and validate the header and
 * every region against the file's real size, as
 * docs/format.md ("What a reader validates") lists: magic, major version,
 * byte order, word size, header and entry sizes, capacity <= file size,
 * every region offset and size (overflow-checked), used counts. Entries are
 * validated one by one at snapshot time. flags: 0 (reserved). Nothing is
 * mapped yet: the first snapshot reads the file with pread(), the second
 * maps it read-only (PROT_READ, MAP_SHARED) and reads through the mapping
 * from then on (a one-shot pass over many processes maps none of them).
 *
 * On success *out owns the descriptor (and any mapping); release it with
 * scales_segment_close(). On error *out is NULL and err holds a message
 * naming the path and the reason. Thread-safe.
 */
SCALES_READER_API int scales_segment_open(const char *path, unsigned flags,
                                          scales_segment **out, char *err,
                                          size_t errlen);

/*
 * As scales_segment_open() on an already open file descriptor (a memfd, a
 * file opened by the caller): fd is duplicated (the caller keeps and
 * closes its own); name (may be NULL) is used in messages and returned by
 * scales_segment_path(). The caller is responsible for how fd was opened
 * (no O_NOFOLLOW check is possible here). Thread-safe.
 */
SCALES_READER_API int scales_segment_open_fd(int fd, const char *name,
                                             unsigned flags,
                                             scales_segment **out, char *err,
                                             size_t errlen);

/*
 * Opens the segment of process pid in dir (NULL: as scales_discover()).
 * If several files name that pid (a dead writer whose pid was reused),
 * the live one is preferred, then the most recent start time.
 * SCALES_RE_NOT_FOUND if none. Otherwise as scales_segment_open(); warn
 * receives the discovery warnings (may be NULL).
 */
SCALES_READER_API int scales_segment_open_pid(const char *dir, int32_t pid,
                                              scales_warn_f warn,
                                              void *warn_arg,
                                              scales_segment **out, char *err,
                                              size_t errlen);

/* Unmaps and closes the segment and sets *seg to NULL. NULL-safe. Snapshots
 * taken from it stay valid (they are copies; segment_path too) and keep
 * alive the path strings they share with it. */
SCALES_READER_API void scales_segment_close(scales_segment **seg);

/* The path the segment was opened with. Valid until close. */
SCALES_READER_API const char *scales_segment_path(const scales_segment *seg);

/* Liveness of a segment's writer (see scales_segment_info()). */
enum scales_liveness {
	SCALES_LIVE_ALIVE = 1, /* /proc/<pid> start time matches, or (pid
	                               not visible) the heartbeat is recent */
	SCALES_LIVE_DEAD = 0,  /* no such process and no recent heartbeat */
	SCALES_LIVE_PID_REUSED = -1, /* /proc/<pid> is another process: dead */
	SCALES_LIVE_CLOSED =
	    -2, /* the writer closed it (SCALES_SHM_F_CLOSED) */
};

/* What the header says about the writer, plus liveness. */
struct scales_process_info {
	int32_t pid;               /* creator's pid (in its pid namespace) */
	char app[64];              /* NUL-terminated, sanitised copy */
	uint64_t start_time;       /* creator start, clock ticks since boot */
	uint64_t creation_time_ns; /* CLOCK_REALTIME at creation */
	uint64_t file_size;        /* st_size at the last fstat */
	uint32_t live_metrics;     /* header live_entries */
	uint32_t nstripes;         /* per-CPU stripes (CPUs + 1 shared) */
	uint64_t generation;       /* header generation */
	uint64_t heartbeat_ns;     /* CLOCK_MONOTONIC; 0 = none */
	uint64_t heartbeat_period_ns; /* 0 = no heartbeat thread */
	uint64_t refused;             /* refused registrations */
	uint32_t flags;               /* SCALES_SHM_F_* bits of the header */
	uint16_t version_major, version_minor;
	uint32_t dir_capacity, dir_used;
	uint64_t data_capacity, data_used;
	uint64_t stripe_size, stripe_used;
	uint64_t strings_capacity, strings_used;
	int liveness;    /* enum scales_liveness */
	bool alive;      /* liveness == SCALES_LIVE_ALIVE */
	uint64_t pid_ns; /* inode of the writer's pid namespace, 0 = unknown */
	uint32_t uid;    /* owner of the segment file (st_uid at the last
	                    fstat); merged: the first member's */
};

/*
 * Fills *out from the header (atomics loaded with acquire) and decides
 * liveness (docs/format.md, "Liveness"): SCALES_SHM_F_CLOSED set -> CLOSED;
 * else, unless the header's pid_ns is known and differs from the reader's
 * pid namespace, if /proc/<pid>/stat exists: ALIVE if its start time
 * (field 22) equals the header's start_time, else PID_REUSED; if it does
 * not exist and pid_ns is known to be the reader's: DEAD; otherwise
 * (another pid namespace, pid_ns unknown, /proc unreadable) ALIVE iff
 * heartbeat_period_ns != 0 and the heartbeat is within
 * 3 * heartbeat_period_ns of CLOCK_MONOTONIC now, else DEAD. Re-fstats the
 * file; SCALES_RE_TRUNCATED if it shrank. Cheap (one fstat, one stat, one
 * small /proc read). Not concurrent with other calls on the same seg.
 */
SCALES_READER_API int scales_segment_info(scales_segment *seg,
                                          struct scales_process_info *out,
                                          char *err, size_t errlen);

/* ------------------------------------------------------ process selection */

/*
 * Process selection as the tools (scales-top, scales-export and its HTTP
 * server) take it from their command line. Positional arguments
 * ("selectors") name processes:
 *  - an argument containing "/" is a segment file path: that file is taken
 *    as it is (a copied, renamed or dead writer's segment too), whatever
 *    its name and liveness;
 *  - one of only digits (at least one) is a pid: the discovered segments
 *    whose file name has that pid, dead ones included;
 *  - anything else (also "") is an app name: the discovered segments whose
 *    file name has that app.
 * No selector at all selects every discovered segment. Selectors that are
 * all paths select nothing else: no directory is read. Segments are
 * discovered as scales_discover() does (dir, else $SCALES_DIR, else every
 * readable /dev/shm/scales-* directory and the writer's fallbacks).
 */
enum scales_selector_kind {
	SCALES_SELECTOR_PATH = 1,
	SCALES_SELECTOR_PID = 2,
	SCALES_SELECTOR_APP = 3,
};

/*
 * Classifies one selector as above. For a pid, *pid (if non-NULL)
 * receives it, or 0 if it exceeds INT32_MAX (a pid that matches nothing);
 * otherwise *pid is set to 0. Thread-safe.
 */
SCALES_READER_API enum scales_selector_kind
scales_selector_kind(const char *arg, int32_t *pid);

/* scales_selection.flags */
enum scales_select_flags {
	/* Discovered segments whose writer is not alive (liveness other than
	 * SCALES_LIVE_ALIVE: dead, pid reused, closed) are selected by app
	 * selectors and by "no selector" too. Without it they are selected
	 * only by a pid selector (or named by path). */
	SCALES_SEL_INCLUDE_DEAD = 1u << 0,
	/* File view: discovered files whose header names another process
	 * (app, pid or start time) than their file name (copies, or corrupt
	 * headers) are selected too, and two files of one process are two
	 * items. Without it such discovered files are skipped (with a
	 * warning naming the process the header names), and each
	 * process (header app, pid and start time) is one item: the first of
	 * its files in the result order (named before discovered); the `by`
	 * bits of the files left out are added to it. */
	SCALES_SEL_INCLUDE_COPIES = 1u << 1,
	/* A pid selector names one process: of the items selected by pid
	 * selectors alone (not named, not matched by an app selector) that
	 * have the same pid (the header's, else the file name's), keep the
	 * best: alive, then closed by a writer that still runs
	 * (scales_pid_running() != 0), then dead, then unreadable; among
	 * equals the most recent start time. */
	SCALES_SEL_ONE_PER_PID = 1u << 2,
	/* Files that cannot be opened or read stay in the result as items
	 * with seg NULL and error set (they are reported in errors too when
	 * named by path or selected by pid). Without it they are left out. */
	SCALES_SEL_KEEP_INVALID = 1u << 3,
	/* (1u << 4 and 1u << 5 were tool policy, now in tools/common: unused) */
};

/* scales_selected.by: why an item was selected (bits). */
enum scales_selected_by {
	SCALES_BY_PATH = 1u << 0, /* named by a path selector */
	SCALES_BY_PID = 1u << 1,  /* discovered, its pid selected */
	SCALES_BY_APP = 1u << 2,  /* discovered, its app selected */
	SCALES_BY_ALL = 1u << 3,  /* discovered, no selector at all */
};

/* One selected segment file. */
struct scales_selected {
	char *path; /* as named (the selector), or dir + "/" + name */
	/* Open, owned by the selection: valid until the next scales_select()
	 * or scales_selection_free() on it. NULL if error != 0. */
	scales_segment *seg;
	/* 0, or why the file cannot be opened or read (a SCALES_RE_* code or
	 * -errno) with errmsg, one line naming the file (the message of
	 * scales_segment_open() or scales_segment_info()); "" if error is 0.
	 * Only with SCALES_SEL_KEEP_INVALID. */
	int error;
	char errmsg[256];
	/* scales_segment_info() at the last scales_select(): valid if error
	 * is 0 (the caller may refresh it with scales_segment_info()). */
	struct scales_process_info info;
	/* What the file name says ("<app>.<pid>.<start>.seg"); for a named
	 * file not named so: app "?", pid and start_time 0. */
	char app[64];
	int32_t pid;
	uint64_t start_time;
	unsigned by;     /* enum scales_selected_by bits */
	size_t selector; /* index of the first selector that names it; SIZE_MAX
	                    if selected by no selector (SCALES_BY_ALL) */
	dev_t dev;       /* of the open file (fstat); 0 if error != 0 */
	ino_t ino;
};

/* A selector that failed. */
struct scales_select_error {
	size_t selector; /* index into selectors */
	/* a path selector: the file cannot be opened or read (SCALES_RE_UNSAFE
	 * for a symlink, SCALES_RE_NOT_SEGMENT, -ENOENT, -EACCES...); a pid
	 * selector: one of the files of that pid cannot be opened or read
	 * (one error per file), or SCALES_RE_NOT_FOUND: no segment file of
	 * that pid was found (or only copies, which are skipped) */
	int code;
	char msg[256]; /* one line naming the file or the pid */
};

/*
 * A selection: the caller zero-initialises it and sets the inputs; each
 * scales_select() fills the results. Keep the struct and call
 * scales_select() again to refresh: segments still selected stay open
 * (found again by path), new ones are opened, the others closed. Not
 * internally locked: one thread at a time per selection.
 */
struct scales_selection {
	/* inputs, read by every scales_select() (never modified by it) */
	const char *dir;              /* NULL: as scales_discover() */
	const char *const *selectors; /* positional arguments, as typed */
	size_t nselectors;
	unsigned flags;     /* enum scales_select_flags */
	scales_warn_f warn; /* discovery warnings (scales_discover()); may be
	                       NULL */
	void *warn_arg;

	/* results of the last scales_select(), owned by the selection */
	/* Named items first, in selector order, then the discovered ones in
	 * discovery order (app, pid, start time, path). Each file (same path,
	 * or a discovered file that is a named one: same device and inode)
	 * appears once. */
	struct scales_selected *items;
	size_t n;
	/* failed path and pid selectors, in selector order; an app selector
	 * never fails (matching nothing is not an error) */
	struct scales_select_error *errors;
	size_t nerrors;
};

/*
 * (Re)computes the selection: opens the segments named by path, discovers
 * the others (unless all selectors are paths), keeps those the selectors and flags select, reads each one's
 * scales_segment_info() (liveness) and records, per path or pid selector,
 * why it failed. A discovered file that cannot be opened or read, a dead
 * writer's segment (without SCALES_SEL_INCLUDE_DEAD and not selected by
 * pid) and a copy (without SCALES_SEL_INCLUDE_COPIES) are left out;
 * a named file never is, but a named file that cannot be opened or read
 * is an item only with SCALES_SEL_KEEP_INVALID. Items whose segment could
 * not be read last time are tried again.
 *
 * Returns 0, or:
 *  - the error of scales_discover() (with its message in err) if the
 *    directory cannot be read: the named items are up to date and the
 *    discovered items of the previous call are kept as they were (their
 *    info not refreshed), so a live view does not empty for a moment;
 *    callers that want only fresh items take those with SCALES_BY_PATH;
 *  - -ENOMEM: the result then holds what was selected so far.
 * A failed selector is not an error of the call: see errors. Pointers
 * into items and errors are invalidated by the next call.
 */
SCALES_READER_API int scales_select(struct scales_selection *sel, char *err,
                                    size_t errlen);

/* Closes every segment of the result, frees it and zeroes the results
 * (the inputs are kept). NULL-safe. */
SCALES_READER_API void scales_selection_free(struct scales_selection *sel);

/*
 * Is the process pid that started at start_time (clock ticks since boot,
 * /proc/<pid>/stat field 22) running, as seen from the reader's pid
 * namespace? 1 yes; 0 no (no such pid, or another process has it now);
 * -1 cannot be told (/proc unreadable). Thread-safe.
 */
SCALES_READER_API int scales_pid_running(int32_t pid, uint64_t start_time);

/* --------------------------------------------------------------- metrics */

/* enum scales_kind and enum scales_unit (kinds and units of metrics):
 * <scales/kinds.h>, shared with the writer and the segment layout. */

/* metric.agg: how the metric was produced. */
enum scales_agg {
	SCALES_AGG_NONE = 0,   /* a plain entry of the segment */
	SCALES_AGG_SUM = 6,    /* declared sum over the children's stat */
	SCALES_AGG_STATES = 7, /* declared count of children per state value */
};

/* metric.flags */
enum scales_metric_flags {
	/* not an entry of the segment but computed from one: the key sums of a
	 * dict aggregate (path/<key>) and the per-value counts of a state
	 * aggregate (path/<value>). entry and generation are the declaring
	 * entry's. */
	SCALES_MF_DERIVED = 1u << 0,
	/* produced by scales_snapshot_merge() from several processes */
	SCALES_MF_MERGED = 1u << 1,
	/* GAUGE, GAUGE_F64: how scales_snapshot_merge() combines the
	 * processes' values, as the writer declared it (none: a sum) */
	SCALES_MF_MERGE_SUM = 0u << 2,
	SCALES_MF_MERGE_MAX = 1u << 2,
	SCALES_MF_MERGE_MIN = 2u << 2,
	SCALES_MF_MERGE_MEAN = 3u << 2,
	SCALES_MF_MERGE_MASK = 3u << 2,
	/* a key of a dict or of a dict aggregate (path/<key>, set by
	 * scales_snapshot_aggregate()):
	 * its last component is the key escaped (docs/format.md, "Dict
	 * keys"); scales_derived_value() gives the key as written */
	SCALES_MF_KEY = 1u << 4,
	/* STATE with time in state (format 1.4): times[] holds it */
	SCALES_MF_TIMED = 1u << 5,
};
#define SCALES_MF_MERGE_SHIFT 2

/* A histogram's data, raw units; reported value = raw * scale. */
struct scales_histo {
	uint64_t count;      /* sum of the buckets */
	uint64_t sum;        /* bits 0..63 of the sum of the raw values (may
	                        lag count a little while a record is in
	                        flight); the exact sum is sum_hi * 2^64 + sum */
	uint64_t min, max;   /* raw; meaningful only if count > 0 */
	double scale;        /* e.g. 1e-9 for nanoseconds reported in seconds */
	uint32_t sub_bits;   /* log2 of sub-buckets per octave (5..10) */
	uint32_t unit_shift; /* raw values are bucketed after >> unit_shift */
	uint32_t nbuckets;
	uint32_t sum_hi; /* bits 64..95 of the sum: the stripes' sums added
	                    without wrapping (docs/format.md, section 8) */
	const uint64_t *buckets; /* nbuckets counts, owned by the snapshot */
};

/* A state value and how many processes (or children) have it. */
struct scales_state_count {
	const char *value;
	uint64_t count;
};

/* Time in state (format 1.4, docs/format.md 6.3): a value of a timed
 * state and the time spent in it, the current value's running time
 * included (up to the snapshot's mono_ns). The value "" (which no state
 * has) is "other": the values that found no room in the writer's table. */
struct scales_state_time {
	const char *value;
	uint64_t ns;
};

/*
 * What only some kinds of metric carry: a histogram's statistics, a merged
 * or timed state's values, a dict's key label. Kept out of struct
 * scales_metric, behind its `side` pointer, so that a metric is 56 bytes:
 * a snapshot of a million counters writes (and its users read) 56 MB, not
 * 152 (issue 17.4). Owned by the snapshot, like the metric.
 */
struct scales_metric_side {
	struct scales_histo hist; /* HISTOGRAM only (zeroed otherwise) */
	/* STATE in a merged snapshot: every value with the number of processes
	 * having it (v.state is then the most common value, ties broken by
	 * the smallest string). NULL/0 otherwise. */
	const struct scales_state_count *states;
	uint32_t nstates;
	uint32_t ntimes; /* the number of `times` */
	/* STATE with SCALES_MF_TIMED: the time spent in each value, sorted by
	 * value ("other", "", first); values of several processes (merged)
	 * or several slots (forked writers) with the same bytes add up.
	 * NULL/0 otherwise. */
	const struct scales_state_time *times;
	/* DICT: the name of its keys' label (format 1.2), NULL if none. */
	const char *key_label;
};

/* The side of every metric that has none (a counter, a gauge, a state that
 * is neither merged nor timed): all zeroes, never written. */
SCALES_READER_API extern const struct scales_metric_side scales_no_side;

struct scales_metric {
	const char *path;    /* full path, "/web/errors" */
	const char *help;    /* NULL if none */
	uint16_t kind;       /* enum scales_kind */
	uint16_t unit;       /* enum scales_unit */
	uint16_t agg;        /* enum scales_agg */
	uint16_t flags;      /* enum scales_metric_flags */
	uint32_t entry;      /* directory index (UINT32_MAX if merged) */
	uint32_t generation; /* entry generation at the copy (merged: a hash
	                         of the members' pids, starts and generations) */
	union {
		uint64_t u64;      /* COUNTER, DICT */
		int64_t i64;       /* GAUGE */
		double f64;        /* GAUGE_F64 */
		const char *state; /* STATE: current value, NULL if never set */
	} v;
	/* Labels (format 1.2; docs/format.md section 5, "Labels"): NULL if
	 * none, or if the entry's list is invalid (ignored, the metric is
	 * kept); else "K=name" items joined by ",": path component K
	 * (1-based) is the value of label `name`. An aggregate's results
	 * carry its declaration's. Read them with scales_metric_label(). */
	const char *labels;
	/* hist, states, times, key_label: never NULL, so m->side->hist.count
	 * needs no test of the kind; &scales_no_side if the metric has
	 * none. A metric built by hand must set it. */
	const struct scales_metric_side *side;
};

/* Room for a label name and its NUL (names have at most 63 bytes). */
#define SCALES_LABEL_NAME_BUF 64

/* One label of a metric (scales_metric_label()). */
struct scales_label {
	const char *name; /* name_len bytes, inside metric.labels */
	size_t name_len;
	const char *value; /* the path component: value_len bytes inside
	                      metric.path, as written there (a derived
	                      component decodes with scales_derived_value()) */
	size_t value_len;
	unsigned component; /* 1-based */
};

/* Whether the n bytes at s are a label name the segment's rules accept
 * (docs/format.md section 5, "Labels"): the one rule, for tools that take
 * label names from their users (scales-export's label rules). */
SCALES_READER_API bool scales_label_name_ok(const char *s, size_t n);

/* Fills *out with label i (0-based) of m: false if m has no label i. */
SCALES_READER_API bool scales_metric_label(const struct scales_metric *m,
                                           size_t i, struct scales_label *out);

/* snapshot flags */
enum scales_snapshot_flags {
	SCALES_SNAP_NO_AGGREGATES = 1u
	                            << 0, /* skip scales_snapshot_aggregate() */
};

struct scales_snapshot_priv;

/*
 * A consistent copy of a segment's live metrics. Allocated only by this
 * library (fields may be appended); free with scales_snapshot_free().
 */
struct scales_snapshot {
	struct scales_process_info proc; /* as scales_segment_info() */
	const char *segment_path;        /* own copy; NULL if merged */
	uint64_t mono_ns;                /* CLOCK_MONOTONIC at the copy */
	uint64_t real_ns;                /* CLOCK_REALTIME at the copy */
	size_t n;                        /* number of metrics */
	struct scales_metric *metrics;   /* sorted by path (strcmp), unique */
	uint32_t skipped;  /* entries that kept changing during the copy */
	uint32_t invalid;  /* entries that failed validation (hostile file) */
	uint32_t nmembers; /* merged: number of processes; else 1 */
	const int32_t *member_pids; /* merged: their pids; else &proc.pid */
	struct scales_snapshot_priv *priv;
};

/*
 * Copies every LIVE entry of seg. For each entry: load state and generation
 * (acquire); copy fields and values with relaxed atomic loads; acquire
 * fence; reload generation and state; an entry whose generation was odd or
 * changed is retried up to 4 times, then skipped (counted in skipped).
 * Counter stripes and histogram stripes are summed; string refs (help,
 * state values, aggregate child names) are resolved. An entry that fails
 * validation (kind, path, string refs, offsets, histogram parameters) is
 * counted in invalid and left out; a unit this library does not know is
 * kept (metric.unit holds its code; scales_unit_name() says "unknown"). Unless SCALES_SNAP_NO_AGGREGATES, aggregates are
 * then computed (scales_snapshot_aggregate()).
 *
 * A segment's first snapshot reads the file with pread() (a short read,
 * the file truncated, gives SCALES_RE_TRUNCATED); later ones map it. The
 * file is re-fstat'ed first (SCALES_RE_TRUNCATED if it shrank below the
 * validated layout; the mapping grows if the file grew), except by a first
 * snapshot right after a selection's fstat of the same pass; a mapped copy
 * runs under a SIGBUS guard, so a file truncated during the copy also
 * gives SCALES_RE_TRUNCATED. The guard installs a process-wide SIGBUS handler
 * once (chained to the previous handler for faults outside a copy) and uses
 * a thread-local jump buffer: snapshots of different segments may run
 * concurrently on different threads. A program that later installs its own
 * SIGBUS handler must chain to the previous one.
 *
 * Cost: about one pass over the bytes of the live entries, their values in
 * every stripe and the used string area. The segment remembers, per entry,
 * the path bytes the previous snapshots validated (with the entry's
 * generation) and the order of the metrics: an entry whose generation,
 * path_len and copied path bytes all equal the remembered ones is not
 * validated again (every other field is), and only metrics that are new or
 * changed are sorted. Any difference, even a path rewritten in place under
 * the same generation, means full validation. This costs about 24 bytes per
 * entry plus the paths, kept until scales_segment_close(); open the segment
 * once and keep it to benefit. The metrics array of the segment's last
 * freed snapshot, if 1 MiB or more, is kept for its next one (its pages
 * faulted in already), until that snapshot or scales_segment_close().
 * *out is owned by the caller.
 * Not concurrent with other calls on the same seg.
 */
SCALES_READER_API int scales_snapshot_take(scales_segment *seg, unsigned flags,
                                           struct scales_snapshot **out,
                                           char *err, size_t errlen);

/* Frees a snapshot and sets *snap to NULL. NULL-safe. */
SCALES_READER_API void scales_snapshot_free(struct scales_snapshot **snap);

/*
 * Computes the aggregates declared in the segment and adds them to snap
 * (scales_snapshot_take() does this unless told not to; call it at most
 * once per snapshot). Deepest aggregates first, so an aggregate of
 * aggregates sees its children's sums.
 *  - AGG_SUM at P/X with child name C: over the direct children P/<c> of P
 *    (one path component), the sum of the stats P/<c>/C. Counters sum to a
 *    counter, i64 gauges (and counters) to a GAUGE, anything with a double
 *    to a GAUGE_F64, dicts key by key (P/X becomes a DICT, and P/X/<key>
 *    derived counters are added), histograms bucket-wise into a HISTOGRAM.
 *    No children: a counter 0.
 *  - AGG_STATES at P/X with child name C: for each value s of the states
 *    P/<c>/C, a derived GAUGE P/X/<s> = the number of children in state s
 *    (s escaped into one path component, docs/format.md "Derived paths":
 *    bytes outside [A-Za-z0-9_-.:@+] as %XX; distinct values never merge)
 *    (children never set are not counted; values nobody has are absent).
 *    P/X itself becomes a GAUGE: the number of children counted.
 *  - DICT at P: v.u64 = the sum of the counters P/<key>.
 * A derived path that collides with an existing metric is not added.
 * Returns 0 or -ENOMEM (snap then holds the aggregates computed so far).
 */
SCALES_READER_API int scales_snapshot_aggregate(struct scales_snapshot *snap);

/* Binary search by path. Returns the metric or NULL. */
SCALES_READER_API const struct scales_metric *
scales_snapshot_find(const struct scales_snapshot *snap, const char *path);

/*
 * Globs: fnmatch(3) patterns with flags 0: "*" also matches "/", so the
 * glob "/web/" followed by "*" matches the whole /web subtree. A glob that
 * starts with "^" excludes: returns true if path matches none of the "^"
 * globs and one of the others (or there are no others; n == 0 keeps all).
 * So {"/web/" "*", "^" "/web/debug/" "*"} is /web without /web/debug.
 */
SCALES_READER_API bool scales_path_match(const char *const *globs, size_t n,
                                         const char *path);

/* Removes, in place and keeping the order, the metrics that
 * scales_path_match() rejects (n == 0 keeps all). Run it after
 * aggregation. */
SCALES_READER_API void scales_snapshot_filter(struct scales_snapshot *snap,
                                              const char *const *globs,
                                              size_t n);

/* Short names: "counter", "gauge", "gauge_f64", "state", "histogram",
 * "dict"; "" for unknown. And "", "seconds", "bytes", and "unknown" for a
 * unit code from a newer format minor. Static strings. */
SCALES_READER_API const char *scales_kind_name(unsigned kind);
SCALES_READER_API const char *scales_unit_name(unsigned unit);

/* ------------------------------------------------------------ histograms */

/* Statistics in the reported unit (scales_scale_value()). NaN where count == 0,
 * except count and sum (0). */
struct scales_hstats {
	uint64_t count;
	double sum, min, max, mean, stddev;
	double p50, p75, p95, p98, p99, p999;
};

/*
 * Computes count, sum (exact raw sum * scale), min and max (exact), mean
 * (sum / count) and stddev, and the nearest-rank quantiles.
 *
 * Quantile q: the smallest bucket b such that at least ceil(q * count)
 * values are in buckets <= b; reported as b's representative value: the
 * middle of the raw values the bucket holds, lo + (width - 1) / 2, clamped
 * to [min, max], times scale. The relative error against the exact
 * nearest-rank quantile is at most 2^-(sub_bits + 1) (1.6% for sub_bits 5)
 * above the linear range; below 2^(sub_bits + 1 + unit_shift) the absolute
 * error is at most 2^(unit_shift - 1) raw.
 *
 * stddev: population standard deviation of the bucket representative
 * values around the exact mean; each value is off by at most half its
 * bucket width, so stddev is off by at most about 2^-(sub_bits + 1) times
 * the root mean square of the values (documented in docs/json.md).
 */
SCALES_READER_API void scales_histo_stats(const struct scales_histo *h,
                                          struct scales_hstats *out);

/*
 * A raw value in the reported unit, "raw x scale" (docs/format.md, 6.1):
 * raw / N when 1 / scale is within 1e-9 of an integer N (so nanoseconds to
 * seconds give the double nearest the decimal value: 110794 ns is
 * 0.000110794, not 0.00011079400000000001), else raw * scale.
 */
SCALES_READER_API double scales_scale_value(double raw, double scale);

/* The exact raw sum, sum_hi * 2^64 + sum, as the nearest double. */
SCALES_READER_API double scales_histo_raw_sum(const struct scales_histo *h);

/* The nearest-rank quantile q (0 < q <= 1) as above; NaN if count == 0. */
SCALES_READER_API double scales_histo_quantile(const struct scales_histo *h,
                                               double q);

/* Bucket index b's raw range: first value lo and width (values lo to
 * lo + width - 1; a width that would overflow is cut at UINT64_MAX). */
SCALES_READER_API void scales_histo_bucket_range(const struct scales_histo *h,
                                                 uint32_t b, uint64_t *lo,
                                                 uint64_t *width);

/*
 * The histogram of the values recorded between two snapshots of the same
 * entry (same path and generation, same parameters): buckets and count are
 * differences, sum the difference of sums; min and max are the range of
 * the lowest and highest non-empty difference buckets, clamped to cur's
 * min and max. buckets must hold cur->nbuckets words and receives the
 * difference; out->buckets points to it. Returns 0, or -EINVAL if the
 * parameters differ or a bucket went down (a reset: use cur alone).
 */
SCALES_READER_API int scales_histo_delta(const struct scales_histo *prev,
                                         const struct scales_histo *cur,
                                         uint64_t *buckets,
                                         struct scales_histo *out);

/*
 * Adds src into dst bucket-wise: count, sum, min and max combined. If the
 * parameters or scales differ, each of src's buckets is re-filed at its
 * representative value converted to dst's raw unit (the conversion error
 * of one bucket width, documented above, applies once more). dst_buckets
 * holds dst->nbuckets words and is what dst->buckets points to; start from
 * zeroed buckets and count = sum = 0 (min and max are then taken from the
 * first non-empty src).
 */
SCALES_READER_API void scales_histo_add(struct scales_histo *dst,
                                        uint64_t *dst_buckets,
                                        const struct scales_histo *src);

/* ------------------------------------------------------- rates and meters */

/*
 * The value of a metric that rates and meters count: u64 of a COUNTER or
 * DICT, the count of a HISTOGRAM. Returns false for other kinds.
 */
SCALES_READER_API bool scales_metric_counter(const struct scales_metric *m,
                                             uint64_t *value);

/*
 * For each metric of cur (out[i] for cur->metrics[i]): the per-second rate
 * (counter delta / elapsed CLOCK_MONOTONIC seconds) against the metric of
 * the same path in prev, or NaN if there is none, its generation differs
 * (a reused slot), the counter went down, the metric is not a counter-like
 * kind (scales_metric_counter()) or no time elapsed. out has cur->n slots.
 */
SCALES_READER_API void scales_snapshot_rates(const struct scales_snapshot *prev,
                                             const struct scales_snapshot *cur,
                                             double *out);

/*
 * Time in state (SCALES_MF_TIMED): the rate of times[k] of m, a metric of
 * cur, in seconds per second since prev (the previous snapshot of the
 * same process or group): its ns delta against the same value of the same
 * path and generation in prev, over the CLOCK_MONOTONIC seconds between
 * them. NaN if prev is NULL or has no such metric or value, or no time
 * elapsed. A value new since prev counts from 0.
 */
SCALES_READER_API double
scales_state_time_rate(const struct scales_snapshot *prev,
                       const struct scales_snapshot *cur,
                       const struct scales_metric *m, uint32_t k);

/*
 * An exponentially weighted moving average meter with 1, 5 and 15 minute
 * rates, as the seed's (Coda Hale's) meter: every tick (5 s) the events of
 * the tick give instant = events / tick seconds; the first tick sets each
 * rate to instant, later ticks do rate += alpha * (instant - rate) with
 * alpha = 1 - exp(-tick / 60 / minutes). Rates are per second; NaN before
 * the first tick. Plain data: copy it freely.
 */
struct scales_meter {
	double m1, m5, m15;    /* per second, NaN until the first tick */
	double uncounted;      /* events since the last tick */
	uint64_t last_tick_ns; /* CLOCK_MONOTONIC of the last tick boundary */
	uint64_t tick_ns;      /* tick length */
	uint64_t count;        /* total events marked */
};

#define SCALES_METER_TICK_NS 5000000000ull

/* tick_ns for meters that tick at every mark instead: each mark ends a
 * tick as long as the time since the previous one (instant = events /
 * those seconds, alpha = 1 - exp(-seconds / 60 / minutes)); for a
 * caller that samples once a period (scales-export's Graphite output). */
#define SCALES_METER_EVERY_MARK UINT64_MAX

/* Starts a meter at now_ns with a tick of tick_ns (0: 5 s). */
SCALES_READER_API void scales_meter_init(struct scales_meter *m,
                                         uint64_t now_ns, uint64_t tick_ns);

/*
 * Adds n events seen at now_ns, then runs every tick that ended at or
 * before now_ns (the events observed by a tick's end belong to that tick;
 * later ticks are idle). now_ns going backwards ticks nothing.
 */
SCALES_READER_API void scales_meter_mark(struct scales_meter *m, uint64_t n,
                                         uint64_t now_ns);

/*
 * Rates and meters across successive snapshots of one process (or of one
 * merged app): keyed by path and entry generation. Feed it every snapshot,
 * in time order.
 */
typedef struct scales_rates scales_rates;

/* Per-metric results of scales_rates_update(); NaN means "none" (JSON
 * null). */
struct scales_rate {
	double rate;        /* per second since the previous snapshot */
	double m1, m5, m15; /* EWMA meters, per second */
};

/* Creates a tracker with meters ticking every tick_ns (0: 5 s). NULL on
 * ENOMEM. Owned by the caller: scales_rates_free(). */
SCALES_READER_API scales_rates *scales_rates_new(uint64_t tick_ns);

/* Frees the tracker and sets *r to NULL. NULL-safe. */
SCALES_READER_API void scales_rates_free(scales_rates **r);

/*
 * Feeds snap (at snap->mono_ns): for each counter-like metric, the delta
 * since the previous snapshot of the same path and generation is marked on
 * its meter; a new path, a new generation or a counter that went down
 * starts a new meter (and gives no rate this time). Metrics absent from
 * snap are forgotten. If out is non-NULL (snap->n slots) it receives the
 * results, NaN for kinds that are not counters. Returns 0 or -ENOMEM.
 */
SCALES_READER_API int scales_rates_update(scales_rates *r,
                                          const struct scales_snapshot *snap,
                                          struct scales_rate *out);

/* ------------------------------------------------------------------ merge */

/*
 * Merges the snapshots of several processes (normally of one app, for
 * --merge) into a new snapshot: metrics with the same path and kind are
 * combined: counters, dicts and i64 gauges summed (an i64 gauge with a
 * double gauge gives a double), histograms summed bucket-wise (re-bucketed
 * into the first one's parameters if they differ; min of mins, max of
 * maxes), states counted per value (metric.side->states). A path whose kinds
 * cannot be combined keeps the first snapshot's metric and counts the rest
 * in invalid. proc: app of the first, pid 0, alive if any is alive,
 * numbers summed; member_pids lists the pids. Generation of a merged metric
 * is a hash of its members' (pid, start time, generation), so a change of
 * membership resets rates. Inputs are not modified; *out is owned by the
 * caller. Returns 0, -EINVAL (n == 0) or -ENOMEM.
 */
SCALES_READER_API int
scales_snapshot_merge(const struct scales_snapshot *const *snaps, size_t n,
                      struct scales_snapshot **out);

/* -------------------------------------------------------------- collector */

/*
 * The collector: the one pipeline every tool runs. It selects the
 * processes (a scales_selection it owns), snapshots them, groups them (one
 * group per process, or per app and owner), merges each group
 * (scales_snapshot_merge()), and keeps the previous collection for rates,
 * EWMA meters (scales_rates, one per group) and per-interval histograms.
 * Copies (a file whose header names another process than its file name)
 * are skipped by the selection unless select_flags asks for them, with a
 * warning; the collector passes each distinct warning to warn once.
 */
typedef struct scales_collector scales_collector;

/* scales_collector_options.flags */
enum scales_collect_flags {
	/* One group per app and owner (the segment file's uid): the
	 * processes of one app run by one user are merged. Without it, one
	 * group per selected file. */
	SCALES_COLLECT_MERGE = 1u << 0,
	/* With SCALES_COLLECT_MERGE: one group per app whatever its owner
	 * (the operator asked for it: one user's processes then add to
	 * another's). */
	SCALES_COLLECT_ALL_OWNERS = 1u << 1,
	/* With SCALES_COLLECT_MERGE: each member snapshot of a group of
	 * several is merged as soon as it is taken and freed at once, so a
	 * pass over many processes holds one of them at a time, not all
	 * (issue 17.2). Such a group has members NULL (nmembers counts them)
	 * and scales_collector_interval() of it returns -EINVAL; the merged
	 * snapshot is the one scales_snapshot_merge() of them all gives. */
	SCALES_COLLECT_NO_MEMBERS = 1u << 2,
};

struct scales_collector_options {
	const char *dir;              /* as scales_selection.dir */
	const char *const *selectors; /* as scales_selection (kept, not
	                                 copied: must outlive the collector) */
	size_t nselectors;
	unsigned select_flags; /* enum scales_select_flags */
	scales_warn_f warn;    /* each distinct warning once; may be NULL */
	void *warn_arg;
	unsigned flags;           /* enum scales_collect_flags */
	const char *const *globs; /* scales_snapshot_filter() of every
	                             member snapshot (kept, not copied) */
	size_t nglobs;
	uint64_t tick_ns; /* meter tick (0: 5 s; SCALES_METER_EVERY_MARK) */
	/* Which selected files to sample (NULL: all). Called at every
	 * scales_collector_sample() for each readable item. */
	bool (*pick)(void *arg, const struct scales_selected *it);
	void *pick_arg;
};

/* One group of the last collection. */
struct scales_group {
	/* Identity across collections: "<path>" of a single file, or
	 * "<uid>:<app>" (merging; "*:<app>" across owners). */
	const char *key;
	char app[64];
	uint32_t uid;      /* owner (segment file's st_uid); across owners:
	                  the first member's */
	int liveness;      /* best member's: ALIVE, else CLOSED, else DEAD */
	uint32_t nmembers; /* files sampled */
	struct scales_snapshot *const *members; /* their snapshots, in
	                                          selection order (NULL:
	                                          SCALES_COLLECT_NO_MEMBERS) */
	/* The group's snapshot: the member's own, or their merge. */
	struct scales_snapshot *cur;
	/* The previous collection's snapshot of this group, or NULL. */
	const struct scales_snapshot *prev;
	/* cur->n results of scales_rates_update() (NaN: none). */
	const struct scales_rate *rates;
};

/*
 * Creates a collector; nothing is read yet. o is copied (its pointers
 * are kept). Returns 0 or -ENOMEM.
 */
SCALES_READER_API int
scales_collector_new(const struct scales_collector_options *o,
                     scales_collector **out);

/* Closes every segment and frees everything; sets *c to NULL. NULL-safe. */
SCALES_READER_API void scales_collector_free(scales_collector **c);

/*
 * The selection (inputs may be changed between calls, e.g. flags for a
 * first pass over the named files). Valid until scales_collector_free().
 */
SCALES_READER_API struct scales_selection *
scales_collector_selection(scales_collector *c);

/* Changes the options' flags (enum scales_collect_flags) from the next
 * collection on; groups whose key changes start their rates anew. */
SCALES_READER_API void scales_collector_set_flags(scales_collector *c,
                                                  unsigned flags);

/* scales_select() on the collector's selection; as scales_select(). */
SCALES_READER_API int scales_collector_select(scales_collector *c, char *err,
                                              size_t errlen);

/*
 * Snapshots the selected (and picked) readable files, groups and merges
 * them, and updates rates and meters; the previous collection becomes
 * prev. A file whose snapshot fails is left out, with a warning (once).
 * Returns 0 or -ENOMEM.
 */
SCALES_READER_API int scales_collector_sample(scales_collector *c);

/* scales_collector_select() then scales_collector_sample(): a directory
 * that cannot be read is reported (returned, err) after sampling what
 * was selected. */
SCALES_READER_API int scales_collector_collect(scales_collector *c, char *err,
                                               size_t errlen);

/*
 * As scales_collector_sample() from snapshots the caller took (ownership
 * of snaps[0..n-1] is taken; they are set to NULL): for readers of
 * memfds or in tests. Snapshots are grouped by their proc (app, uid, and
 * segment_path then pid when not merging).
 */
SCALES_READER_API int
scales_collector_sample_snapshots(scales_collector *c,
                                  struct scales_snapshot **snaps, size_t n);

/*
 * One collection that no one keeps (issue 17.2): the groups
 * scales_collector_sample() would make, in the order
 * scales_collector_groups() gives them, each built, passed to each() and
 * freed before the next is taken, so a pass over many processes holds one
 * group at a time (the members of a group are merged as they are taken,
 * as with SCALES_COLLECT_NO_MEMBERS). Each group has prev and rates NULL;
 * the collector's last collection (scales_collector_groups(), rates,
 * intervals) stays as it was. What the segments' caches learned is not
 * kept either (a pass over many processes would hold some 8 KB a process
 * to its end): the next snapshot of each is a first one again. A file
 * whose snapshot fails is left out,
 * with a warning (once). A non-zero return of each() ends the pass.
 * Returns 0, what each() returned, or -ENOMEM.
 */
SCALES_READER_API int
scales_collector_each(scales_collector *c,
                      int (*each)(void *arg, const struct scales_group *g),
                      void *arg);

/* The groups of the last collection, sorted by app, then uid, then key
 * (pointer valid until the next collection); *n receives their number. */
SCALES_READER_API const struct scales_group *
scales_collector_groups(const scales_collector *c, size_t *n);

/* Number of collections taken so far (scales_collector_sample() calls). */
SCALES_READER_API uint64_t scales_collector_count(const scales_collector *c);

/*
 * The histogram of the values recorded since the previous collection of
 * metric idx (a HISTOGRAM) of group g: for each member, its values since
 * its previous snapshot (an entry or a process first seen, or reset,
 * counts everything since its creation), added up (scales_histo_add())
 * in the layout of g->cur's metric. *out's buckets live in the collector
 * until the next call. *secs receives the interval's length. Returns 0,
 * -EAGAIN if there is no previous collection, -EINVAL if idx is not a
 * histogram of g->cur or g has no members (SCALES_COLLECT_NO_MEMBERS),
 * -ENOMEM.
 */
SCALES_READER_API int
scales_collector_interval(scales_collector *c, const struct scales_group *g,
                          size_t idx, struct scales_histo *out, double *secs);

/* ------------------------------------------------------------------ UTF-8 */

/*
 * Decodes the UTF-8 sequence at s (n bytes available): returns its length
 * (1 to 4) and, if cp is non-NULL, stores its code point; returns 0 if s
 * does not start the shortest encoding of a Unicode scalar value (overlong
 * forms, surrogates, values past U+10FFFF, truncated sequences) or n is 0.
 * Stops at the first byte that is not a continuation, so a NUL-terminated
 * string may be passed with n bounding only the sequence (e.g. 4).
 * Every escaper of the tools uses it: they all agree on what is text.
 */
/*
 * The state value or dict key that a path's last component stands for (a
 * state aggregate's per-value count, path/<value>; a dict key, path/<key>,
 * flagged SCALES_MF_KEY): the component decoded as
 * docs/format.md section 6 "Derived paths" says ("%XX" is byte XX, a lone
 * "%" the empty value). out has room for strlen(component) + 1 bytes; it
 * is NUL-terminated. Returns the value's length. Every output that shows or
 * names the value (Graphite names, Prometheus labels) decodes with this.
 */
SCALES_READER_API size_t scales_derived_value(const char *component, char *out);

/*
 * Untrusted text (file names, paths, apps, help, states) made printable for
 * a message or a terminal: "\\" becomes "\\\\", each byte that is not
 * printable ASCII nor part of valid UTF-8 text (C0/C1 controls, DEL,
 * invalid sequences) becomes "\\xHH", so a message stays one line and no
 * escape sequence reaches a terminal. Writes at most n - 1 bytes and a NUL
 * into dst (an escape is never cut in half; 4 * strlen(s) + 1 always
 * suffice) and returns dst. Every tool's messages use it.
 */
SCALES_READER_API char *scales_printable(char *dst, size_t n, const char *s);

SCALES_READER_API size_t scales_utf8_decode(const void *s, size_t n,
                                            uint32_t *cp);

/* ------------------------------------------------------------------- JSON */

/* A growable byte buffer for rendering. Zero-initialise; free with
 * scales_buf_free(). On allocation failure oom is set and later appends are
 * ignored. data is NUL-terminated when len > 0. */
struct scales_buf {
	char *data;
	size_t len, cap;
	bool oom;
};

SCALES_READER_API void scales_buf_free(struct scales_buf *b);
SCALES_READER_API void scales_buf_append(struct scales_buf *b,
                                         const void *bytes, size_t n);

/*
 * Appends s (n bytes) as a JSON string with quotes: '"' and '\\' escaped,
 * \b \f \n \r \t, other control bytes and DEL as \u00XX, valid UTF-8 kept,
 * every byte of an invalid UTF-8 sequence replaced by U+FFFD.
 */
SCALES_READER_API void scales_json_string(struct scales_buf *b, const char *s,
                                          size_t n);

/*
 * Formats v in the shortest form that reads back as the same double: the
 * fewest significant digits that do (5e-324, not 4.94065645841247e-324),
 * laid out as %g does; integral values within 2^53 print as integers
 * ("3", not "3.0"). The one formatter of doubles for machines: JSON,
 * Graphite, /metrics and the textfile use it. Non-finite: "NaN", "+Inf", "-Inf" (JSON
 * renders them as null). buf needs 32 bytes. Returns the length.
 */
SCALES_READER_API int scales_format_double(char *buf, size_t len, double v);

/* Room for any integer scales_format_u64() or scales_format_i64() writes
 * ("-9223372036854775808", "18446744073709551615") and its NUL. */
#define SCALES_FORMAT_INT_LEN 21

/*
 * Writes the decimal digits of v (with a '-' if negative), NUL-terminated,
 * into buf, which holds SCALES_FORMAT_INT_LEN bytes; returns the length.
 * The one formatter of integers for machines (JSON, Graphite, /metrics):
 * no printf, which costs more than the rest of a counter's line.
 */
SCALES_READER_API int scales_format_u64(char *buf, uint64_t v);
SCALES_READER_API int scales_format_i64(char *buf, int64_t v);

/* Appends v as a JSON number (null if not finite). */
SCALES_READER_API void scales_json_double(struct scales_buf *b, double v);

/* ----------------------------------------------------------- for people */

enum scales_human_flags {
	SCALES_HUMAN_RATE = 1u << 0,  /* a rate: "/s" after the unit */
	SCALES_HUMAN_ASCII = 1u << 1, /* "us", not "\u00b5s" (non-UTF-8) */
};

/* Room for any scales_human() string and its NUL. */
#define SCALES_HUMAN_LEN 32

/*
 * The one formatter for numbers that people read (scales-top's live view
 * and -1, the HTML stats pages; machines get scales_format_double()).
 * Writes v in unit (enum scales_unit) into buf and returns buf:
 *  - up to 3 significant digits, trailing zeros dropped; a space before a
 *    unit symbol, none before a bare decimal prefix;
 *  - no unit: integers below 100000 exact ("30259"), else powers of 1000
 *    ("1.23k", "6.4M", "0.5");
 *  - bytes: IEC ("512 B", "1.5 KiB", "12.3 MiB");
 *  - seconds: "50 ns", "25 \u00b5s", "50.5 ms", "1.25 s", "1.5 min",
 *    "3.12 h", "34.7 d"; from 1e9 to 1e10 s a point in time, as a UTC
 *    date "2026-12-06 07:34:21Z" (not for a rate);
 *  - SCALES_HUMAN_RATE appends "/s": "6.4k/s", "2.8 KiB/s", "0/s";
 *  - NaN (no value) "-", infinities "inf" and "-inf", whatever the unit.
 * Never longer than SCALES_HUMAN_LEN - 1 bytes; cut to len - 1 bytes.
 */
SCALES_READER_API char *scales_human(char *buf, size_t len, double v,
                                     unsigned unit, unsigned flags);

/* JSON rendering flags */
enum scales_json_flags {
	SCALES_JSON_PRETTY = 1u << 0, /* newlines and indentation */
};

/*
 * Renders n snapshots as the documented JSON (docs/json.md):
 * {"processes": [{"pid", "app", "alive", "start_time", "segment",
 *   "metrics": {"/path": {"kind", "unit", "help", "value" or the histogram
 *   fields "count", "sum", "min", "max", "mean", "stddev", "p50", "p75",
 *   "p95", "p98", "p99", "p999"; "rate", "m1", "m5", "m15"}}}]}
 * rates[i] may be NULL (one-shot: rate and meters are null) or point to
 * snaps[i]->n results of scales_rates_update(). Appends to b; returns 0 or
 * -ENOMEM.
 *
 * Reads only the public fields of the snapshots (proc, segment_path,
 * real_ns, n, metrics, nmembers, member_pids) and of their metrics, never
 * priv. So a caller may render a selection by passing shallow copies
 * (struct assignment) whose metrics and n hold a subset of the original's
 * metrics, in its order, in an array of the caller's (rates[i] then
 * matching that subset); the original snapshot must stay alive, as it owns
 * the strings. Guaranteed (test/reader/test_json.c).
 */
SCALES_READER_API int scales_json_render(
    struct scales_buf *b, const struct scales_snapshot *const *snaps,
    const struct scales_rate *const *rates, size_t n, unsigned flags);

/* As scales_json_render() into f, followed by a newline, written out in
 * pieces as it is rendered (scales_json_stream_open()). Returns 0, -ENOMEM
 * or -EIO (write error). */
SCALES_READER_API int
scales_json_write(FILE *f, const struct scales_snapshot *const *snaps,
                  const struct scales_rate *const *rates, size_t n,
                  unsigned flags);

/*
 * The same document written to f one process at a time, for a pass that
 * takes, renders and frees each snapshot in turn (scales_collector_each()):
 * what it holds is one process's rendering, whatever the number of
 * processes. _open() writes the opening, _add() one element of
 * "processes" (rates: s->n results, or NULL for null rates and meters),
 * _close() the end and a newline, flushes what is left, frees the stream
 * and sets *js to NULL. The bytes are those of scales_json_write() of the
 * same snapshots. Each returns 0, -ENOMEM or -EIO (write error); after an
 * error later _add() calls do nothing and _close() returns the first one.
 */
typedef struct scales_json_stream scales_json_stream;

SCALES_READER_API int scales_json_stream_open(FILE *f, unsigned flags,
                                              scales_json_stream **out);
SCALES_READER_API int scales_json_stream_add(scales_json_stream *js,
                                             const struct scales_snapshot *s,
                                             const struct scales_rate *rates);
SCALES_READER_API int scales_json_stream_close(scales_json_stream **js);

#ifdef __cplusplus
}
#endif

#endif /* SCALES_READER_H */
