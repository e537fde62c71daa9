/* SPDX-License-Identifier: MIT */
/*
 * test_slots.c: per-CPU slots (issue 17.1, docs/format.md section 8).
 * Memory per stat follows the CPUs a process runs on, not the CPUs the
 * machine may have (SCALES_TEST_POSSIBLE_CPUS makes the library believe in
 * 1024); totals stay exact while threads of two processes change their
 * affinity under the updates, in every mode of the update path.
 */
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "common.h"

/* ------------------------------------------------------------ helpers */

/* The CPUs this process may run on, at most max of them. */
static int online_cpus(int *cpus, int max)
{
	cpu_set_t set;
	cr_assert_eq(sched_getaffinity(0, sizeof set, &set), 0);
	int n = 0;
	for (int c = 0; c < CPU_SETSIZE && n < max; c++)
		if (CPU_ISSET(c, &set))
			cpus[n++] = c;
	return n;
}

static void pin(int cpu)
{
	cpu_set_t set;
	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	cr_assert_eq(sched_setaffinity(0, sizeof set, &set), 0);
}

static uint64_t resident(const char *path)
{
	struct stat st;
	cr_assert_eq(stat(path, &st), 0);
	return (uint64_t)st.st_blocks * 512;
}

/* ------------------------------------------------ memory per stat */

#define NCOUNTERS 16384
#define NHISTOS 64

static scales_counter counters[NCOUNTERS];
static scales_histogram histos[NHISTOS];

struct toucher {
	int cpu, ncounters, nhistos;
};

/* Pinned to one CPU: updates every stat once, so that the CPU takes its
 * slot and the stats' words in it are written. */
static void *touch(void *arg)
{
	struct toucher *t = arg;
	pin(t->cpu);
	for (int i = 0; i < t->ncounters; i++)
		scales_counter_inc(&counters[i]);
	for (int i = 0; i < t->nhistos; i++)
		scales_histogram_record(&histos[i], 1000);
	return NULL;
}

static void touch_on(const int *cpus, int ncpus, int nc, int nh)
{
	pthread_t t[2];
	struct toucher a[2];
	for (int i = 0; i < ncpus; i++) {
		a[i] = (struct toucher){ cpus[i], nc, nh };
		pthread_create(&t[i], NULL, touch, &a[i]);
	}
	for (int i = 0; i < ncpus; i++)
		pthread_join(t[i], NULL);
}

/*
 * 1,024 possible CPUs, threads on (at most) 2: a counter must cost at most
 * 512 bytes and a default histogram at most 64 KiB of the file's resident
 * space (its directory entry included), as measured by st_blocks.
 */
Test(slots, memory_follows_cpus_used, .timeout = 120)
{
	fresh_dir();
	setenv("SCALES_TEST_POSSIBLE_CPUS", "1024", 1);
	struct scales_options o;
	scales_options_init(&o);
	o.app = "slotmem";
	o.flags = SCALES_NO_SAMPLER;
	o.max_entries = NCOUNTERS + NHISTOS + 16;
	scales_registry *reg = NULL;
	cr_assert_eq(scales_open(&o, &reg), 0);
	const char *path = scales_registry_path(reg);
	int cpus[2];
	int ncpus = online_cpus(cpus, 2);

	/* the first stats of each kind take the fixed costs */
	cr_assert_eq(scales_counter_get(reg, "/warm/c", NULL, &counters[0]), 0);
	cr_assert_eq(scales_histogram_get(reg, "/warm/h", NULL, NULL,
	                                  &histos[0]),
	             0);
	touch_on(cpus, ncpus, 1, 1);

	uint64_t b0 = resident(path);
	for (int i = 0; i < NCOUNTERS; i++) {
		char p[64];
		snprintf(p, sizeof p, "/c/%d", i);
		cr_assert_eq(scales_counter_get(reg, p, NULL, &counters[i]), 0);
	}
	touch_on(cpus, ncpus, NCOUNTERS, 0);
	uint64_t b1 = resident(path);
	for (int i = 0; i < NHISTOS; i++) {
		char p[64];
		snprintf(p, sizeof p, "/h/%d", i);
		cr_assert_eq(scales_histogram_get(reg, p, NULL, NULL,
		                                  &histos[i]),
		             0);
	}
	touch_on(cpus, ncpus, 0, NHISTOS);
	uint64_t b2 = resident(path);

	double per_counter = (double)(b1 - b0) / NCOUNTERS;
	double per_histo = (double)(b2 - b1) / NHISTOS;
	cr_log_info("1024 possible CPUs, threads on %d: %.1f B per counter, "
	            "%.1f B per histogram",
	            ncpus, per_counter, per_histo);
	cr_assert_leq(per_counter, 512.0, "%.1f bytes per counter",
	              per_counter);
	cr_assert_leq(per_histo, 65536.0, "%.1f bytes per histogram",
	              per_histo);

	/* and the values are all there */
	struct scales_snapshot *s = snap(reg);
	cr_assert_eq(must_find(s, "/c/16383")->v.u64, (uint64_t)ncpus);
	cr_assert_eq(must_find(s, "/h/63")->side->hist.count, (uint64_t)ncpus);
	scales_snapshot_free(&s);
	scales_close(&reg);
}

/* ------------------------------------ exactness under affinity changes */

#define ROUNDS 200
#define PER_ROUND 1000
#define THREADS 4

static scales_counter g_count;
static scales_histogram g_hist;
static int g_cpus[2], g_ncpus;

/* Each round on another affinity: CPU a, CPU b, then every CPU (the
 * scheduler migrates the thread as it likes), so that updates run on
 * every CPU, through slots taken while others update, and through the
 * shared stripe. */
static void *churn(void *arg)
{
	int id = (int)(intptr_t)arg;
	cpu_set_t all;
	CPU_ZERO(&all);
	for (int i = 0; i < g_ncpus; i++)
		CPU_SET(g_cpus[i], &all);
	for (int r = 0; r < ROUNDS; r++) {
		int k = (r + id) % 3;
		if (k < 2)
			pin(g_cpus[k % g_ncpus]);
		else
			sched_setaffinity(0, sizeof all, &all);
		for (int i = 0; i < PER_ROUND; i++) {
			scales_counter_inc(&g_count);
			scales_histogram_record(&g_hist, (uint64_t)i + 1);
		}
	}
	return NULL;
}

static void run_churn(void)
{
	pthread_t t[THREADS];
	for (int i = 0; i < THREADS; i++)
		pthread_create(&t[i], NULL, churn, (void *)(intptr_t)i);
	for (int i = 0; i < THREADS; i++)
		pthread_join(t[i], NULL);
}

/* GCC 12's AddressSanitizer allocator has no fork handlers: a child forked
 * while another thread (the registry's sampler, liburcu's, Criterion's)
 * holds the allocator's lock deadlocks at its first malloc (seen in
 * make sanitize, a child stuck in SizeClassAllocator64::GetFromAllocator).
 * glibc's malloc has them, so the plain build keeps the real processes;
 * under ASan the same updates and reads run in this process instead. */
#if defined(__SANITIZE_ADDRESS__)
#define FORK_THEN_MALLOC_IS_SAFE 0
#else
#define FORK_THEN_MALLOC_IS_SAFE 1
#endif

static void read_totals_here(const char *path, uint64_t v[3])
{
	v[0] = v[1] = v[2] = UINT64_MAX;
	char err[256];
	scales_segment *seg;
	struct scales_snapshot *s;
	if (scales_segment_open(path, 0, &seg, err, sizeof err))
		return;
	if (scales_snapshot_take(seg, 0, &s, err, sizeof err) == 0) {
		const struct scales_metric *c =
		    scales_snapshot_find(s, "/churn/count");
		const struct scales_metric *h =
		    scales_snapshot_find(s, "/churn/hist");
		if (c && h && h->side->hist.sum_hi == 0) {
			v[0] = c->v.u64;
			v[1] = h->side->hist.count;
			v[2] = h->side->hist.sum;
		}
		scales_snapshot_free(&s);
	}
	scales_segment_close(&seg);
}

/* The totals, read by the reader library in a third process. */
static void read_totals(const char *path, uint64_t out[3])
{
	if (!FORK_THEN_MALLOC_IS_SAFE) {
		read_totals_here(path, out);
		return;
	}
	int fds[2];
	cr_assert_eq(pipe(fds), 0);
	pid_t p = fork();
	cr_assert_geq(p, 0);
	if (p == 0) {
		close(fds[0]);
		uint64_t v[3] = { UINT64_MAX, UINT64_MAX, UINT64_MAX };
		char err[256];
		scales_segment *seg;
		struct scales_snapshot *s;
		if (scales_segment_open(path, 0, &seg, err, sizeof err) == 0 &&
		    scales_snapshot_take(seg, 0, &s, err, sizeof err) == 0) {
			const struct scales_metric *c =
			    scales_snapshot_find(s, "/churn/count");
			const struct scales_metric *h =
			    scales_snapshot_find(s, "/churn/hist");
			if (c && h && h->side->hist.sum_hi == 0) {
				v[0] = c->v.u64;
				v[1] = h->side->hist.count;
				v[2] = h->side->hist.sum;
			}
		}
		_exit(write(fds[1], v, sizeof v) == sizeof v ? 0 : 2);
	}
	close(fds[1]);
	cr_assert_eq(read(fds[0], out, 3 * sizeof *out),
	             (ssize_t)(3 * sizeof *out));
	close(fds[0]);
	int st;
	waitpid(p, &st, 0);
	cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0);
}

/* THREADS threads here and THREADS in a forked child, every one changing
 * its affinity 200 times while it updates a counter and a histogram. */
static void exact_under_churn(unsigned flags)
{
	fresh_dir();
	g_ncpus = online_cpus(g_cpus, 2);
	scales_registry *reg = open_reg("churn", flags, 0);
	cr_assert_eq(scales_counter_get(reg, "/churn/count", NULL, &g_count),
	             0);
	cr_assert_eq(scales_histogram_get(reg, "/churn/hist", NULL, NULL,
	                                  &g_hist),
	             0);
	if (FORK_THEN_MALLOC_IS_SAFE) {
		pid_t child = fork();
		cr_assert_geq(child, 0);
		if (child == 0) {
			run_churn();
			_exit(0);
		}
		run_churn();
		int st;
		waitpid(child, &st, 0);
		cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	} else {
		run_churn(); /* the child's share, here */
		run_churn();
	}

	uint64_t v[3];
	read_totals(scales_registry_path(reg), v);
	uint64_t n = 2ull * THREADS * ROUNDS * PER_ROUND;
	/* each round records 1 .. PER_ROUND */
	uint64_t sum =
	    2ull * THREADS * ROUNDS * PER_ROUND * (PER_ROUND + 1) / 2;
	cr_assert_eq(v[0], n, "counter: %lu, want %lu", (unsigned long)v[0],
	             (unsigned long)n);
	cr_assert_eq(v[1], n, "histogram count: %lu, want %lu",
	             (unsigned long)v[1], (unsigned long)n);
	cr_assert_eq(v[2], sum, "histogram sum: %lu, want %lu",
	             (unsigned long)v[2], (unsigned long)sum);
	scales_close(&reg);
}

Test(slots, exact_under_affinity_changes_rseq, .timeout = 300)
{
	exact_under_churn(0);
}

Test(slots, exact_under_affinity_changes_fallback, .timeout = 300)
{
	exact_under_churn(SCALES_NO_RSEQ);
}

/* One possible CPU: CPU 1 has no slot (nor a map entry), its updates take
 * the shared stripe with locked adds while CPU 0's are rseq adds. */
Test(slots, exact_with_cpus_past_the_map, .timeout = 300)
{
	setenv("SCALES_TEST_POSSIBLE_CPUS", "1", 1);
	exact_under_churn(0);
}

/* Six slots taken before any thread runs: the real CPUs get slots 6 and
 * 7, past the histograms' six, so their histogram records take the shared
 * stripe while their counter adds take their slots. */
Test(slots, exact_with_histograms_on_the_shared_stripe, .timeout = 300)
{
	setenv("SCALES_TEST_POSSIBLE_CPUS", "16", 1);
	setenv("SCALES_TEST_TAKEN_SLOTS", "6", 1);
	exact_under_churn(0);
}

/* ------------------------------------ exactness under a signal storm */

/*
 * A signal delivered while a thread is inside a restartable sequence
 * aborts it: the kernel sends the thread to the sequence's abort handler
 * before the signal handler runs. A storm of signals at the recording
 * threads, with the affinity churn above, sends histogram records through
 * aborts of both sequences of scales__histogram_add() (the second one
 * restarts at its own arming, not at the first one's, which would add to
 * the bucket again) and through its slow path after a move between them.
 * The threads record until STORM_SIGNALS signals were handled (a count,
 * not a time), then each add must have landed exactly once.
 */
#define STORM_SIGNALS 50000
/* long rounds: few system calls, at whose return most signals would be
 * delivered, outside any sequence */
#define STORM_PER_ROUND 100000

static long g_sigs;
static int g_storm_stop, g_storm_done;
static uint64_t g_storm_n[THREADS], g_storm_sum[THREADS];

static void on_storm(int sig)
{
	(void)sig;
	__atomic_add_fetch(&g_sigs, 1, __ATOMIC_RELAXED);
}

static void *storm(void *arg)
{
	pthread_t *t = arg;
	while (!__atomic_load_n(&g_storm_stop, __ATOMIC_ACQUIRE))
		for (int i = 0; i < THREADS; i++)
			pthread_kill(t[i], SIGUSR1);
	return NULL;
}

static void *record_in_storm(void *arg)
{
	int id = (int)(intptr_t)arg;
	cpu_set_t all;
	CPU_ZERO(&all);
	for (int i = 0; i < g_ncpus; i++)
		CPU_SET(g_cpus[i], &all);
	uint64_t n = 0, sum = 0;
	for (int r = 0;
	     __atomic_load_n(&g_sigs, __ATOMIC_RELAXED) < STORM_SIGNALS; r++) {
		int k = (r + id) % 3;
		if (k < 2)
			pin(g_cpus[k % g_ncpus]);
		else
			sched_setaffinity(0, sizeof all, &all);
		for (int i = 0; i < STORM_PER_ROUND; i++) {
			scales_counter_inc(&g_count);
			scales_histogram_record(&g_hist, (uint64_t)i + 1);
		}
		n += STORM_PER_ROUND;
		sum += (uint64_t)STORM_PER_ROUND * (STORM_PER_ROUND + 1) / 2;
	}
	g_storm_n[id] = n;
	g_storm_sum[id] = sum;
	__atomic_add_fetch(&g_storm_done, 1, __ATOMIC_RELEASE);
	return NULL;
}

Test(slots, exact_under_signal_storm, .timeout = 300)
{
	fresh_dir();
	g_ncpus = online_cpus(g_cpus, 2);
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_storm;
	sa.sa_flags = SA_RESTART;
	sigemptyset(&sa.sa_mask);
	cr_assert_eq(sigaction(SIGUSR1, &sa, NULL), 0);
	scales_registry *reg = open_reg("storm", 0, 0);
	cr_assert_eq(scales_counter_get(reg, "/churn/count", NULL, &g_count),
	             0);
	cr_assert_eq(scales_histogram_get(reg, "/churn/hist", NULL, NULL,
	                                  &g_hist),
	             0);
	pthread_t t[THREADS], s;
	for (int i = 0; i < THREADS; i++)
		cr_assert_eq(pthread_create(&t[i], NULL, record_in_storm,
		                            (void *)(intptr_t)i),
		             0);
	cr_assert_eq(pthread_create(&s, NULL, storm, t), 0);
	/* the storm stops before any recording thread is joined, so that
	 * it never signals a thread that is gone */
	struct timespec ms = { 0, 1000000 };
	while (__atomic_load_n(&g_storm_done, __ATOMIC_ACQUIRE) < THREADS)
		nanosleep(&ms, NULL);
	__atomic_store_n(&g_storm_stop, 1, __ATOMIC_RELEASE);
	pthread_join(s, NULL);
	uint64_t n = 0, sum = 0;
	for (int i = 0; i < THREADS; i++) {
		pthread_join(t[i], NULL);
		n += g_storm_n[i];
		sum += g_storm_sum[i];
	}

	uint64_t v[3];
	read_totals(scales_registry_path(reg), v);
	cr_assert_eq(v[0], n, "counter: %lu, want %lu", (unsigned long)v[0],
	             (unsigned long)n);
	cr_assert_eq(v[1], n, "histogram count: %lu, want %lu",
	             (unsigned long)v[1], (unsigned long)n);
	cr_assert_eq(v[2], sum, "histogram sum: %lu, want %lu",
	             (unsigned long)v[2], (unsigned long)sum);
	scales_close(&reg);
}

/* ------------------------- a move between the two sequences of a record */

/*
 * scales__histogram_add() commits the bucket's add in its first sequence,
 * then arms the second and compares the cpu number with the first one's:
 * a thread that changed CPUs in between must add the sum through the slow
 * path (bucket_done set), not to the first CPU's slot. A signal storm
 * reaches that branch only by chance; here a breakpoint does, every time.
 * record_once() is alone in a section of its own, so its two descriptors
 * in __rseq_cs are found by address: the bucket sequence's end (its start
 * plus its post-commit offset) is the first instruction after its commit,
 * outside both sequences. An int3 written there traps; the handler moves
 * the thread to the other CPU, puts the byte back and resumes at that
 * instruction. Nothing of this is in the library: the hot path is
 * unchanged.
 */
#if SCALES_HAVE_RSEQ_ASM
#include <sys/mman.h>
#include <sys/ucontext.h>

__attribute__((noinline, section("scales_test_move"))) static void
record_once(const scales_histogram *h, uint64_t v)
{
	scales_histogram_record(h, v);
}

extern const char __start_scales_test_move[], __stop_scales_test_move[];
extern const struct rseq_cs __start___rseq_cs[], __stop___rseq_cs[];

#define MOVES 200

static volatile unsigned char *g_trap_at;
static unsigned char g_trap_byte;
static volatile int g_traps, g_trap_bad;
static volatile int g_trap_from;

static void on_trap(int sig, siginfo_t *si, void *ucv)
{
	(void)sig;
	(void)si;
	ucontext_t *uc = ucv;
	greg_t *ip = &uc->uc_mcontext.gregs[REG_RIP];
	if ((unsigned char *)*ip - 1 != g_trap_at) {
		g_trap_bad = 1; /* not our breakpoint: stop here */
		_exit(3);
	}
	*g_trap_at = g_trap_byte;
	*ip = (greg_t)(uintptr_t)g_trap_at;
	/* ecx holds the cpu the first sequence read: its slot took the
	 * bucket's add */
	int from = (int)(uint32_t)uc->uc_mcontext.gregs[REG_RCX];
	int to = g_cpus[0] == from ? g_cpus[1] : g_cpus[0];
	cpu_set_t set;
	CPU_ZERO(&set);
	CPU_SET(to, &set);
	if (sched_setaffinity(0, sizeof set, &set) || sched_getcpu() != to)
		g_trap_bad = 1;
	g_trap_from = from;
	g_traps++;
}

static uint64_t slot_word(const uint64_t *w, uint64_t slot_offset)
{
	return __atomic_load_n((const uint64_t *)((const char *)w +
	                                          slot_offset),
	                       __ATOMIC_RELAXED);
}

Test(slots, record_moved_between_its_two_sequences, .timeout = 120)
{
	fresh_dir();
	g_ncpus = online_cpus(g_cpus, 2);
	if (g_ncpus < 2)
		cr_skip_test("needs two CPUs");
	scales_registry *reg = open_reg("moved", SCALES_NO_SAMPLER, 0);
	cr_assert_eq(scales_histogram_get(reg, "/moved/hist", NULL, NULL,
	                                  &g_hist),
	             0);
	if (g_hist.rseq_cpus == 0)
		cr_skip_test("no rseq in this process");

	/* record_once's descriptors: two, the bucket's sequence first */
	const struct rseq_cs *d[2];
	int nd = 0;
	for (const struct rseq_cs *c = __start___rseq_cs; c < __stop___rseq_cs;
	     c++)
		if (c->start_ip >= (uintptr_t)__start_scales_test_move &&
		    c->start_ip < (uintptr_t)__stop_scales_test_move) {
			cr_assert_lt(nd, 2, "more than two sequences");
			d[nd++] = c;
		}
	cr_assert_eq(nd, 2, "record_once holds %d sequences, not 2", nd);
	if (d[0]->start_ip > d[1]->start_ip) {
		const struct rseq_cs *t = d[0];
		d[0] = d[1];
		d[1] = t;
	}
	uintptr_t gap = d[0]->start_ip + d[0]->post_commit_offset;
	cr_assert(gap <= d[1]->start_ip && d[1]->start_ip - gap < 32,
	          "the second sequence does not follow the first");
	g_trap_at = (unsigned char *)gap;
	g_trap_byte = *g_trap_at;

	long pg = sysconf(_SC_PAGESIZE);
	void *page = (void *)(gap & ~(uintptr_t)(pg - 1));
	cr_assert_eq(mprotect(page, (size_t)pg,
	                      PROT_READ | PROT_WRITE | PROT_EXEC),
	             0);
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_sigaction = on_trap;
	sa.sa_flags = SA_SIGINFO;
	sigemptyset(&sa.sa_mask);
	cr_assert_eq(sigaction(SIGTRAP, &sa, NULL), 0);

	/* both CPUs take their slots (the first record of a CPU without one
	 * takes the slow path); both must hold histograms */
	for (int i = 0; i < 2; i++) {
		pin(g_cpus[i]);
		record_once(&g_hist, 1);
		cr_assert_lt(g_hist.slots[g_cpus[i]], g_hist.limit);
	}
	uint64_t n = 2, sum = 2;

	for (int i = 1; i <= MOVES; i++) {
		uint64_t v = (uint64_t)i * 1000;
		uint32_t b = scales_histogram_bucket(v, g_hist.sub_bits,
		                                     g_hist.unit_shift,
		                                     g_hist.last_bucket);
		pin(g_cpus[i % 2]);
		uint64_t bucket[2], own_sum[2];
		for (int k = 0; k < 2; k++) {
			uint64_t o = g_hist.slots[g_cpus[k]];
			bucket[k] = slot_word(g_hist.base + 1 + b, o);
			own_sum[k] = slot_word(g_hist.base, o);
		}
		*g_trap_at = 0xcc; /* int3 */
		record_once(&g_hist, v);
		n++;
		sum += v;
		cr_assert_eq(g_traps, i, "the breakpoint was not reached");
		cr_assert_not(g_trap_bad, "the thread did not move");
		cr_assert_eq(*g_trap_at, g_trap_byte);
		int from = g_trap_from == g_cpus[0] ? 0 : 1;
		cr_assert_eq(g_cpus[from], g_trap_from);
		uint64_t o = g_hist.slots[g_cpus[from]];
		/* the bucket in the first CPU's slot, once; the sum not there */
		cr_assert_eq(slot_word(g_hist.base + 1 + b, o),
		             bucket[from] + 1);
		cr_assert_eq(slot_word(g_hist.base, o), own_sum[from],
		             "the sum was added to the slot of a CPU the "
		             "thread had left");
	}
	cr_assert_eq(mprotect(page, (size_t)pg, PROT_READ | PROT_EXEC), 0);
	signal(SIGTRAP, SIG_DFL);

	struct scales_snapshot *s = snap(reg);
	const struct scales_metric *m = must_find(s, "/moved/hist");
	cr_assert_eq(m->side->hist.count, n, "histogram count: %lu, want %lu",
	             (unsigned long)m->side->hist.count, (unsigned long)n);
	cr_assert_eq(m->side->hist.sum, sum, "histogram sum: %lu, want %lu",
	             (unsigned long)m->side->hist.sum, (unsigned long)sum);
	scales_snapshot_free(&s);
	scales_close(&reg);
}
#endif

/* ------------------------------------------- the map's page offsets */

#define PAGE_OFFSET(p) ((uintptr_t)(p)&4095u)

/*
 * Every update loads its CPU's slot map entry just after earlier updates
 * stored to stripe words; a load that matches a pending store's address
 * in bits 11..0 only waits for it (4K aliasing), which made a loop on the
 * first counter 2-6 times slower on CPU 0, whose entry shared that
 * counter's page offset. The map is placed so that no entry of a machine
 * with up to 64 possible CPUs shares its page offset with the word of
 * any of the first 384 counters or the sum of any of the first 64
 * default histograms (writer/registry.c, SLOT_MAP_SKIP). A layout, not a
 * timing, is asserted: the time it costs depends on the CPU.
 */
/* Word w (stat i of its kind) shares no page offset with a map entry
 * (entry_of: page offset -> its CPU + 1). */
static void clear_of_map(const uint32_t *entry_of, const uint64_t *w,
                         const char *possible, const char *kind, int i)
{
	uint32_t e = entry_of[PAGE_OFFSET(w)];
	cr_assert_eq(e, 0,
	             "%s possible CPUs: %s %d's word shares page offset %#lx "
	             "with CPU %u's map entry",
	             possible ? possible : "all", kind, i,
	             (unsigned long)PAGE_OFFSET(w), e - 1);
}

Test(slots, map_entries_share_no_page_offset_with_the_first_stats,
     .timeout = 60)
{
	static const char *possible[] = { NULL, "8", "64" };
	for (size_t k = 0; k < sizeof possible / sizeof possible[0]; k++) {
		fresh_dir();
		if (possible[k])
			setenv("SCALES_TEST_POSSIBLE_CPUS", possible[k], 1);
		else
			unsetenv("SCALES_TEST_POSSIBLE_CPUS");
		struct scales_options o;
		scales_options_init(&o);
		o.app = "slotmap";
		o.flags = SCALES_NO_SAMPLER;
		o.max_entries = 512;
		scales_registry *reg = NULL;
		cr_assert_eq(scales_open(&o, &reg), 0);
		/* an entry's page offset -> the CPU it belongs to, plus one */
		static uint32_t entry_of[4096];
		memset(entry_of, 0, sizeof entry_of);
		scales_counter c;
		for (int i = 0; i < 384; i++) {
			char p[64];
			snprintf(p, sizeof p, "/c/%d", i);
			cr_assert_eq(scales_counter_get(reg, p, NULL, &c), 0);
			if (i == 0)
				for (uint32_t cpu = 0; cpu < c.ncpu; cpu++)
					entry_of[PAGE_OFFSET(c.slots + cpu)] =
					    cpu + 1;
			/* a slot is a whole number of pages from stripe 0:
			 * the word has this page offset in every slot */
			clear_of_map(entry_of, c.base, possible[k], "counter",
			             i);
		}
		for (int i = 0; i < 64; i++) {
			char p[64];
			snprintf(p, sizeof p, "/h/%d", i);
			scales_histogram h;
			cr_assert_eq(scales_histogram_get(reg, p, NULL, NULL,
			                                  &h),
			             0);
			cr_assert_eq(h.slots, c.slots);
			clear_of_map(entry_of, h.base, possible[k], "histogram",
			             i);
		}
		scales_close(&reg);
	}
}
