/* SPDX-License-Identifier: MIT */
/*
 * test_statetime.c: time in state (format 1.4, docs/format.md 6.3), written
 * by libscales from threads and forked children, read by the reader
 * library: exact per state with a controlled clock (the writer's test
 * hook), every nanosecond counted once under concurrent sets, the running
 * time of the current state, merging, and the error paths.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <scales/scales.h>

#include "common.h"
#include "scales_shm.h"

/* The writer's test hook (writer/internal.h): its clock of timed states. */
extern uint64_t (*test_hook_state_clock)(void);

static char *dir;

static void setup(void)
{
	dir = sb_tmpdir();
}

static void teardown(void)
{
	sb_rmdir(dir);
	free(dir);
}

TestSuite(statetime, .init = setup, .fini = teardown, .timeout = 120);

static scales_registry *open_reg(const char *app)
{
	struct scales_options o;
	scales_options_init(&o);
	o.app = app;
	o.flags = SCALES_NO_SAMPLER;
	o.dir = dir;
	scales_registry *reg = NULL;
	int rc = scales_open(&o, &reg);
	cr_assert_eq(rc, 0, "scales_open: %s", scales_strerror(rc));
	return reg;
}

static struct scales_snapshot *snap_reg(scales_registry *reg)
{
	scales_segment *seg = must_open(scales_registry_path(reg));
	struct scales_snapshot *s = must_snap(seg, 0);
	scales_segment_close(&seg);
	return s;
}

/* The ns of value v in m's times; UINT64_MAX if absent. */
static uint64_t time_of(const struct scales_metric *m, const char *v)
{
	for (uint32_t i = 0; i < m->side->ntimes; i++)
		if (strcmp(m->side->times[i].value, v) == 0)
			return m->side->times[i].ns;
	return UINT64_MAX;
}

static uint64_t mono(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* The controlled clock: a word shared with forked children. */
static uint64_t *clk;

static uint64_t read_clk(void)
{
	return __atomic_load_n(clk, __ATOMIC_SEQ_CST);
}

static void *shared_words(size_t n)
{
	void *p = mmap(NULL, n * 8, PROT_READ | PROT_WRITE,
	               MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	cr_assert_neq(p, MAP_FAILED);
	return p;
}

struct set_arg {
	const scales_state *st;
	const char *value;
	uint64_t at;
};

static void *set_at(void *p)
{
	struct set_arg *a = p;
	__atomic_store_n(clk, a->at, __ATOMIC_SEQ_CST);
	cr_assert_eq(scales_state_set_str(a->st, a->value), 0);
	return NULL;
}

/* Sets value at clock time at from a new thread of this process. */
static void set_in_thread(const scales_state *st, const char *value,
                          uint64_t at)
{
	struct set_arg a = { st, value, at };
	pthread_t t;
	cr_assert_eq(pthread_create(&t, NULL, set_at, &a), 0);
	pthread_join(t, NULL);
}

/* Sets value at clock time at from a forked child (one of its threads). */
static void set_in_child(const scales_state *st, const char *value, uint64_t at)
{
	pid_t pid = fork();
	cr_assert_geq(pid, 0);
	if (pid == 0) {
		struct set_arg a = { st, value, at };
		pthread_t t;
		if (pthread_create(&t, NULL, set_at, &a))
			_exit(2);
		pthread_join(t, NULL);
		_exit(0);
	}
	int status;
	cr_assert_eq(waitpid(pid, &status, 0), pid);
	cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

Test(statetime, exact_per_state_across_threads_and_processes)
{
	clk = shared_words(1);
	test_hook_state_clock = read_clk;
	scales_registry *reg = open_reg("stt-exact");
	scales_state st;
	struct scales_info info = { "worker state", SCALES_STATE_TIMED };
	cr_assert_eq(scales_state_get(reg, "/w/state", &info, &st), 0);

	/* the schedule: idle 1000..1500, busy 1500..2700 (a child),
	 * idle 2700..3000 (a thread), io 3000..4000 (a child's thread),
	 * end from 4000 */
	set_in_thread(&st, "idle", 1000);
	set_in_child(&st, "busy", 1500);
	set_in_thread(&st, "idle", 2700);
	set_in_child(&st, "io", 3000);
	__atomic_store_n(clk, 4000, __ATOMIC_SEQ_CST);
	cr_assert_eq(scales_state_set_str(&st, "end"), 0);
	test_hook_state_clock = NULL;

	struct scales_snapshot *s = snap_reg(reg);
	const struct scales_metric *m = must_find(s, "/w/state");
	cr_assert(m->flags & SCALES_MF_TIMED);
	cr_assert_str_eq(m->v.state, "end");
	cr_assert_eq(time_of(m, "idle"), 800);
	cr_assert_eq(time_of(m, "busy"), 1200);
	cr_assert_eq(time_of(m, "io"), 1000);
	/* end runs from 4000 to the snapshot's CLOCK_MONOTONIC */
	cr_assert_eq(time_of(m, "end"),
	             (s->mono_ns - 4000) & SCALES_SHM_STATE_NS_MASK);
	cr_assert_eq(time_of(m, ""), UINT64_MAX, "no \"other\" used");
	cr_assert_eq(m->side->ntimes, 4);
	scales_snapshot_free(&s);
	scales_close(&reg);
}

/* A clock every set reads a new tick of, and that yields between the
 * read and the swap now and then, so that a later tick often swaps first
 * (the race the swap loop's clamp handles). Its ticks lie 2^50 ns past
 * the real CLOCK_MONOTONIC: the reader adds no running time. */
static uint64_t tick_clk(void)
{
	uint64_t t = __atomic_fetch_add(clk, 3, __ATOMIC_SEQ_CST);
	if ((t / 3) % 16 == 0)
		sched_yield();
	return t;
}

#define SETTERS 3
#define SETS 10000

static const char *const values[] = { "a", "b", "c", "d", "e" };

static void *set_many(void *p)
{
	const scales_state *st = p;
	uint32_t ids[5];
	scales_registry *reg = st->reg;
	for (int i = 0; i < 5; i++)
		if (scales_state_intern(reg, values[i], &ids[i]))
			return (void *)1;
	unsigned x = (unsigned)(uintptr_t)&ids ^ (unsigned)getpid();
	for (int i = 0; i < SETS; i++) {
		x = x * 1103515245u + 12345u;
		scales_state_set(st, ids[(x >> 16) % 5]);
	}
	return NULL;
}

static void run_setters(const scales_state *st)
{
	pthread_t t[SETTERS];
	for (int i = 0; i < SETTERS; i++)
		cr_assert_eq(pthread_create(&t[i], NULL, set_many, (void *)st),
		             0);
	for (int i = 0; i < SETTERS; i++) {
		void *r;
		pthread_join(t[i], &r);
		cr_assert_null(r);
	}
}

Test(statetime, concurrent_sets_count_every_ns_once)
{
	clk = shared_words(1);
	uint64_t t0 = mono() + ((uint64_t)1 << 50);
	*clk = t0;
	test_hook_state_clock = tick_clk;
	scales_registry *reg = open_reg("stt-race");
	scales_state st;
	struct scales_info info = { NULL, SCALES_STATE_TIMED };
	cr_assert_eq(scales_state_get(reg, "/w/state", &info, &st), 0);
	cr_assert_eq(scales_state_set_str(&st, "start"), 0); /* at t0 */
	/* interned before the fork: one ref, one slot per value (a value
	 * each child interned on its own would take a slot per child) */
	for (int i = 0; i < 5; i++) {
		uint32_t id;
		cr_assert_eq(scales_state_intern(reg, values[i], &id), 0);
	}

	/* two forked children and this process, SETTERS threads each */
	pid_t kids[2];
	for (int k = 0; k < 2; k++) {
		kids[k] = fork();
		cr_assert_geq(kids[k], 0);
		if (kids[k] == 0) {
			run_setters(&st);
			_exit(0);
		}
	}
	run_setters(&st);
	for (int k = 0; k < 2; k++) {
		int status;
		cr_assert_eq(waitpid(kids[k], &status, 0), kids[k]);
		cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	}
	uint64_t end = *clk; /* the last set's tick */
	cr_assert_eq(scales_state_set_str(&st, "end"), 0);
	test_hook_state_clock = NULL;

	struct scales_snapshot *s = snap_reg(reg);
	const struct scales_metric *m = must_find(s, "/w/state");
	uint64_t sum = 0;
	for (uint32_t i = 0; i < m->side->ntimes; i++)
		sum += m->side->times[i].ns;
	/* every interval from the first set to the last, once; "end" has
	 * not run yet (its time is ahead of the real clock) */
	cr_assert_eq(sum, end - t0, "sum %llu, elapsed %llu",
	             (unsigned long long)sum, (unsigned long long)(end - t0));
	cr_assert_eq(time_of(m, "end"), 0);
	cr_assert_eq(m->side->ntimes, 7); /* start, a..e, end */
	scales_snapshot_free(&s);
	scales_close(&reg);
}

Test(statetime, running_time_with_the_real_clock)
{
	scales_registry *reg = open_reg("stt-real");
	scales_state st;
	struct scales_info info = { NULL, SCALES_STATE_TIMED_N(4) };
	cr_assert_eq(scales_state_get(reg, "/w/state", &info, &st), 0);
	uint64_t before = mono();
	cr_assert_eq(scales_state_set_str(&st, "a"), 0);
	uint64_t after = mono();
	for (int i = 0; i < 1000; i++)
		cr_assert_eq(scales_state_set_str(&st, i % 2 ? "a" : "b"), 0);
	struct scales_snapshot *s = snap_reg(reg);
	const struct scales_metric *m = must_find(s, "/w/state");
	uint64_t sum = 0;
	for (uint32_t i = 0; i < m->side->ntimes; i++)
		sum += m->side->times[i].ns;
	/* the sum runs from the first set to the snapshot's clock read */
	cr_assert_leq(sum, s->mono_ns - before);
	cr_assert_geq(sum, s->mono_ns - after);
	cr_assert_str_eq(m->v.state, "a");
	scales_snapshot_free(&s);
	scales_close(&reg);
}

Test(statetime, merged_processes_add_up)
{
	clk = shared_words(1);
	test_hook_state_clock = read_clk;
	scales_registry *r1 = open_reg("stt-merge");
	scales_state s1;
	struct scales_info info = { NULL, SCALES_STATE_TIMED };
	cr_assert_eq(scales_state_get(r1, "/w/state", &info, &s1), 0);
	pid_t pid = fork();
	cr_assert_geq(pid, 0);
	if (pid == 0) {
		/* a process of its own (not a forked writer): its own
		 * segment, where a runs 100 ns and b from 1100 */
		scales_registry *r2;
		scales_state s2;
		if (open_registry(dir, "stt-merge", SCALES_KEEP_SEGMENT, &r2) ||
		    scales_state_get(r2, "/w/state", &info, &s2))
			_exit(2);
		*clk = 1000;
		scales_state_set_str(&s2, "a");
		*clk = 1100;
		scales_state_set_str(&s2, "b");
		scales_close(&r2);
		_exit(0);
	}
	int status;
	cr_assert_eq(waitpid(pid, &status, 0), pid);
	cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	*clk = 5000;
	scales_state_set_str(&s1, "a");
	*clk = 5030;
	scales_state_set_str(&s1, "c");
	test_hook_state_clock = NULL;

	struct scales_snapshot *a = snap_reg(r1);
	scales_segment *seg = NULL;
	cr_assert_eq(scales_segment_open_pid(dir, pid, NULL, NULL, &seg, NULL,
	                                     0),
	             0);
	struct scales_snapshot *b = must_snap(seg, 0);
	scales_segment_close(&seg);
	const struct scales_snapshot *both[2] = { a, b };
	struct scales_snapshot *mg = NULL;
	cr_assert_eq(scales_snapshot_merge(both, 2, &mg), 0);
	const struct scales_metric *m = must_find(mg, "/w/state");
	cr_assert(m->flags & SCALES_MF_TIMED);
	cr_assert_eq(time_of(m, "a"), 130);
	cr_assert_geq(time_of(m, "b"), 1); /* runs: its writer is gone */
	cr_assert_neq(time_of(m, "c"), UINT64_MAX);
	scales_snapshot_free(&mg);
	scales_snapshot_free(&a);
	scales_snapshot_free(&b);
	scales_close(&r1);
}

Test(statetime, full_table_bad_arguments_and_hostile_segments)
{
	scales_registry *reg = open_reg("stt-hard");
	scales_state st;
	/* only states take SCALES_STATE_TIMED; 1 to 254 values */
	struct scales_info bad = { NULL, SCALES_STATE_TIMED };
	scales_counter c;
	cr_assert_eq(scales_counter_get(reg, "/c", &bad, &c), SCALES_E_CONFIG);
	bad.unit = SCALES_STATE_TIMED_N(255);
	cr_assert_eq(scales_state_get(reg, "/s255", &bad, &st),
	             SCALES_E_CONFIG);
	scales_state_set(&st, 8); /* a sink: nothing happens */
	cr_assert_eq(scales_state_set_str(&st, "x"), SCALES_E_CLOSED);

	/* two values: the third is set, its time counts as "other" */
	clk = shared_words(1);
	test_hook_state_clock = read_clk;
	struct scales_info two = { NULL, SCALES_STATE_TIMED_N(2) };
	cr_assert_eq(scales_state_get(reg, "/s", &two, &st), 0);
	*clk = 10;
	cr_assert_eq(scales_state_set_str(&st, "a"), 0);
	*clk = 20;
	cr_assert_eq(scales_state_set_str(&st, "b"), 0);
	*clk = 40;
	cr_assert_eq(scales_state_set_str(&st, "c"), SCALES_E_STATES);
	*clk = 80;
	scales_state_set(&st, 0); /* no value: "other" too */
	*clk = 160;
	cr_assert_eq(scales_state_set_str(&st, "a"), 0);
	test_hook_state_clock = NULL;
	cr_assert_eq(scales_state_set_str(&st, ""), -EINVAL);
	cr_assert_eq(scales_state_set_str(NULL, "a"), -EINVAL);
	struct scales_snapshot *s = snap_reg(reg);
	const struct scales_metric *m = must_find(s, "/s");
	cr_assert_eq(time_of(m, "b"), 20);
	cr_assert_eq(time_of(m, ""), 120); /* c 40, no value 80 */
	cr_assert_str_eq(m->v.state, "a");
	cr_assert_eq(s->invalid, 0);
	scales_snapshot_free(&s);

	/* a hostile slot count: the entry is left out, counted */
	int fd = open(scales_registry_path(reg), O_RDWR);
	cr_assert_geq(fd, 0);
	struct stat sb;
	cr_assert_eq(fstat(fd, &sb), 0);
	uint8_t *map = mmap(NULL, (size_t)sb.st_size, PROT_READ | PROT_WRITE,
	                    MAP_SHARED, fd, 0);
	cr_assert_neq(map, MAP_FAILED);
	const struct scales_shm_header *h = (const void *)map;
	struct scales_shm_entry *e = NULL;
	for (uint32_t i = 0; i < h->dir_used; i++) {
		struct scales_shm_entry *x =
		    (void *)(map + h->dir_offset + (uint64_t)i * h->entry_size);
		if (strcmp(x->path, "/s") == 0)
			e = x;
	}
	cr_assert_not_null(e);
	uint32_t keep = e->param[0];
	uint32_t hostile[] = { 255, UINT32_MAX, 254 };
	for (size_t i = 0; i < sizeof hostile / sizeof *hostile; i++) {
		e->param[0] = hostile[i];
		s = snap_reg(reg);
		cr_assert_eq(s->invalid, 1, "param[0] %u", hostile[i]);
		scales_snapshot_free(&s);
	}
	e->param[0] = keep;
	munmap(map, (size_t)sb.st_size);
	close(fd);
	scales_close(&reg);
}
