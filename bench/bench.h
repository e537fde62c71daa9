/* SPDX-License-Identifier: MIT */
/*
 * bench.h: the scales benchmark program (bench/), shared declarations.
 *
 * One run measures the writer's hot path, its baselines, the readers and the
 * tools side by side, as medians of interleaved trials, and writes a table to
 * stdout and a JSON file (docs/performance.md explains every figure).
 */
#ifndef SCALES_BENCH_H
#define SCALES_BENCH_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <scales/scales.h>

#define BENCH_MAX_THREADS 64
#define BENCH_MAX_ROUNDS 101

/* Keeps the compiler from merging or hoisting memory accesses across
 * iterations of a measured loop; costs no instruction. */
#define BENCH_BARRIER() __asm__ __volatile__("" ::: "memory")

/* A worker thread of a pool, pinned to one CPU. */
struct worker {
	int id;
	int cpu; /* the CPU it is pinned to, -1 if not pinned */
	pthread_t th;
	struct pool *pool;
	uint64_t t0, t1; /* CLOCK_MONOTONIC around the measured loop */
	uint64_t cpu_ns; /* the thread's CPU time in the loop */
	uint64_t count;  /* operations done in the loop */
	uint64_t sink;   /* results the compiler must not discard */
	int udp_fd;      /* connected to the bench's UDP receiver */
	uint64_t *priv;  /* plain_add's private word, on its own line */
};

/* A measured loop: n iterations of one operation. */
typedef void (*bench_loop_f)(struct worker *w, uint64_t n);

/* A pool of nthreads pinned workers that run one loop at a time. */
struct pool {
	int nthreads;
	struct worker w[BENCH_MAX_THREADS];
	pthread_barrier_t go, done;
	bench_loop_f fn;
	uint64_t chunk;       /* iterations per call of fn */
	uint64_t duration_ns; /* 0: one call; else call fn until then */
	int arrive;           /* spin barrier, so that loops start together */
	bool quit;
};

/* ---------------------------------------------------------- harness.c */

/* Time, CPUs. */
uint64_t bench_now_ns(void);
int bench_ncpus(void);       /* CPUs this process may run on */
int bench_cpu(int i);        /* the i-th of them (wraps) */
int bench_pin_self(int cpu); /* 0 or -errno */
void bench_unpin_self(void); /* back to every allowed CPU */

int pool_start(struct pool *p, int nthreads);
void pool_stop(struct pool *p);
/*
 * Runs fn on every worker at once: each calls fn(w, chunk) again and again
 * until duration_ns have passed on its own clock (duration_ns 0: once), so
 * that every worker runs the whole time even if some are faster (a lock's
 * unfairness). Checking the clock once per chunk costs nothing measurable
 * if a chunk lasts about 100 us. Returns ns per operation per thread:
 * nthreads divided by the summed throughput of the workers.
 *
 * *disturbed (if not NULL) is set if a worker got less than 90% of a CPU
 * during its loop (it was preempted by another process: this machine is
 * shared; or it slept), or ran less than 90% of the wall time from the
 * first start to the last end (it was preempted before it started).
 */
double pool_run(struct pool *p, bench_loop_f fn, uint64_t chunk,
                uint64_t duration_ns, bool *disturbed);

/* CPU time of the calling thread, ns. */
uint64_t bench_thread_cpu_ns(void);
/* True if a thread that ran for wall_ns got less than 90% of a CPU. */
bool bench_disturbed(uint64_t cpu_ns, uint64_t wall_ns);

/* How many times a disturbed trial is run again before it is kept. */
#define BENCH_RETRIES 4

/* Sorting and medians. */
double bench_median(double *v, int n);
double bench_min(const double *v, int n);
double bench_max(const double *v, int n);

/* Results: name, threads, median ns per op (per thread), spread. */
void result_add(const char *name, int threads, double ns, double lo, double hi,
                int trials);
/* A size in bytes (the table says so; the JSON has "bytes" instead of
 * "ns_per_op"). */
void result_add_bytes(const char *name, double bytes, double lo, double hi,
                      int trials);
/* Counts trials run again because they were disturbed (for the table). */
void result_set_retried(const char *name, int threads, int retried);
/* The median recorded for name at threads, or NAN. */
double result_get(const char *name, int threads);
void results_print(void);
int results_write_json(const char *path, const char *machine);

/* A one-line description of this machine: CPU model, CPUs, kernel, glibc. */
void bench_machine(char *buf, size_t len);

/* Fatal error: message on stderr, exit 1 (the benchmark fails). */
void bench_die(const char *fmt, ...) __attribute__((format(printf, 1, 2)))
__attribute__((noreturn));
void bench_log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* ------------------------------------------------------- hot.c */

struct hot_config {
	const char *dir; /* segment directory */
	int rounds;      /* trials per benchmark and thread count */
	double trial_ms; /* target length of a trial */
};

/* The writer hot path and its baselines, plus cross_process. */
int bench_hot(const struct hot_config *cfg);

/* ------------------------------------------------------- readers.c */

struct reader_config {
	const char *dir;
	int rounds;
	bool big;            /* also snapshot_1m */
	bool snapshots_only; /* only snapshot_1k, snapshot_100k, memcpy_100k
	                        (for profiling) */
};

int bench_readers(const struct reader_config *cfg);

/* ------------------------------------------------------- top.c */

/* CPU ns per scales-top refresh of 10,000 metrics; top is the path of the
 * scales-top binary (NULL or missing: skipped). */
int bench_top(const char *dir, const char *top, int rounds);

/* ------------------------------------------------------- many.c */

/* Readers over 1,000 writer processes (issue 17.2): scales-top -1 --json,
 * scales-export --once and a live scales-top refresh, CPU and private
 * memory. Programs missing (NULL): skipped. */
struct many_config {
	const char *top, *export_, *crowd;
	int nproc;  /* writer processes */
	int rounds; /* runs of each one-shot tool */
};
int bench_many(const struct many_config *cfg);

/* ------------------------------------------------------- memory.c */
/* Resident bytes per counter and per default histogram at 8, 64, 192 and
 * 1024 possible CPUs, threads on 2 CPUs or all (`--only memory`). */
int bench_memory(void);
/* ------------------------------------------------------- sharing.c */

/* `--only sharing`: false sharing in the data area (not in the default
 * run; prints its own table). */
int bench_sharing(const char *dir, int rounds);

/* Shared helper: a registry of n counters named counter_path(i), each set
 * to a distinct value, for the readers and tools. */
scales_registry *bench_counters_registry(const char *dir, const char *app,
                                         uint32_t n);
/* The path of counter i (buf of at least 64 bytes); returns its length. */
size_t bench_counter_path(char *buf, size_t len, uint32_t i);

#endif /* SCALES_BENCH_H */
