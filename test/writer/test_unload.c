/* SPDX-License-Identifier: MIT */
/*
 * test_unload.c: a host dlopen()s a plugin that updates stats on several
 * threads, dlclose()s it, and must live on (issue 13, item 2).
 *
 * The plugin's inlined rseq sequence points the thread's rseq_cs at a
 * descriptor inside the plugin. If rseq_cs is still set when the plugin is
 * unmapped, the kernel reads the stale pointer at the thread's next
 * preemption or signal and the process dies of SIGSEGV. The scenario is
 * built so that this happens on every run without the fix: every thread
 * updates through the plugin and then makes no context switch until the
 * plugin is gone (the workers block in read() on a pipe that is written
 * only after dlclose(), and waking up is what makes the kernel look at
 * rseq_cs; the main thread unloads right after its own updates). Then, for
 * a second, every thread yields, takes timer and pthread_kill() signals and
 * increments host counters from its loop and its signal handler.
 *
 * Each case runs in a forked child so that a SIGSEGV is a clear failure.
 */
#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <semaphore.h>
#include <signal.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "common.h"

#ifndef UNLOAD_PLUGIN
#error "UNLOAD_PLUGIN (the plugin's path) must be defined by the build"
#endif

#define WORKERS 4
#define PER_CALL 100000u

typedef int (*work_fn)(scales_registry *, uint64_t);

static scales_registry *g_reg;
static work_fn g_work;
static int g_go[2];
static sem_t g_done;
static scales_counter g_host_signals, g_host_loops;
static uint64_t g_signals_seen;
static int g_stop;

static void on_signal(int sig)
{
	(void)sig;
	/* the host's own inlined sequence, from a signal handler */
	scales_counter_inc(&g_host_signals);
	__atomic_fetch_add(&g_signals_seen, 1, __ATOMIC_RELAXED);
}

struct worker {
	pthread_t tid;
	int rc;
	uint64_t loops;
};

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	w->rc = g_work(g_reg, PER_CALL);
	sem_post(&g_done);
	/* No context switch between the plugin's last update and this read:
	 * the thread sleeps here until the plugin is unmapped. */
	char b;
	while (read(g_go[0], &b, 1) < 0 && errno == EINTR)
		;
	while (!__atomic_load_n(&g_stop, __ATOMIC_RELAXED)) {
		sched_yield();
		scales_counter_inc(&g_host_loops);
		w->loops++;
	}
	return NULL;
}

static uint64_t ns_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

#define FAIL(...)                                                              \
	do {                                                                   \
		fprintf(stderr, __VA_ARGS__);                                  \
		fputc('\n', stderr);                                           \
		_exit(3);                                                      \
	} while (0)

/* The host, in a forked child: exits 0 if it lived and counted right. */
static void host(unsigned flags)
{
	struct scales_options o;
	scales_options_init(&o);
	o.app = "unload-host";
	o.flags = flags | SCALES_NO_SAMPLER;
	int rc = scales_open(&o, &g_reg);
	if (rc != 0)
		FAIL("scales_open: %s", scales_strerror(rc));
	if (scales_counter_get(g_reg, "/host/signals", NULL, &g_host_signals) !=
	        0 ||
	    scales_counter_get(g_reg, "/host/loops", NULL, &g_host_loops) != 0)
		FAIL("host counters");

	struct sigaction sa = { .sa_handler = on_signal,
		                .sa_flags = SA_RESTART };
	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGUSR1, &sa, NULL) != 0 ||
	    sigaction(SIGALRM, &sa, NULL) != 0)
		FAIL("sigaction: %s", strerror(errno));

	void *plugin = dlopen(UNLOAD_PLUGIN, RTLD_NOW | RTLD_LOCAL);
	if (!plugin)
		FAIL("dlopen: %s", dlerror());
	g_work = (work_fn)(uintptr_t)dlsym(plugin, "unload_plugin_work");
	if (!g_work)
		FAIL("dlsym: %s", dlerror());
	if (pipe(g_go) != 0 || sem_init(&g_done, 0, 0) != 0)
		FAIL("pipe, sem_init: %s", strerror(errno));

	struct worker w[WORKERS] = { 0 };
	for (int i = 0; i < WORKERS; i++)
		if (pthread_create(&w[i].tid, NULL, worker_main, &w[i]) != 0)
			FAIL("pthread_create");
	for (int i = 0; i < WORKERS; i++)
		while (sem_wait(&g_done) != 0 && errno == EINTR)
			;

	/* The main thread's updates come last, right before the unload. */
	rc = g_work(g_reg, PER_CALL);
	if (rc != 0)
		FAIL("plugin, main thread: %s", scales_strerror(rc));
	g_work = NULL;
	if (dlclose(plugin) != 0)
		FAIL("dlclose: %s", dlerror());
	/* The test means nothing unless the plugin's code is really gone. */
	if (dlopen(UNLOAD_PLUGIN, RTLD_NOW | RTLD_NOLOAD) != NULL)
		FAIL("the plugin is still loaded after dlclose()");

	char go[WORKERS] = { 0 };
	if (write(g_go[1], go, sizeof go) != (ssize_t)sizeof go)
		FAIL("write: %s", strerror(errno));

	/* A second of preemption and signals on every thread. The length
	 * only decides how many signals arrive, never the verdict. */
	struct itimerval it = { { 0, 1000 }, { 0, 1000 } };
	setitimer(ITIMER_REAL, &it, NULL);
	uint64_t end = ns_now() + 1000000000u;
	uint64_t sent = 0;
	while (ns_now() < end) {
		for (int i = 0; i < WORKERS; i++)
			if (pthread_kill(w[i].tid, SIGUSR1) == 0)
				sent++;
		raise(SIGUSR1);
		sched_yield();
		struct timespec ts = { 0, 200000 };
		nanosleep(&ts, NULL);
	}
	struct itimerval off = { { 0, 0 }, { 0, 0 } };
	setitimer(ITIMER_REAL, &off, NULL);
	__atomic_store_n(&g_stop, 1, __ATOMIC_RELAXED);
	uint64_t loops = 0;
	for (int i = 0; i < WORKERS; i++) {
		pthread_join(w[i].tid, NULL);
		if (w[i].rc != 0)
			FAIL("plugin, worker %d: %s", i,
			     scales_strerror(w[i].rc));
		loops += w[i].loops;
	}
	if (sent == 0)
		FAIL("no signal was sent");

	/* Every update counted: the plugin's, then the host's. */
	char err[256];
	scales_segment *seg = NULL;
	struct scales_snapshot *s = NULL;
	if (scales_segment_open(scales_registry_path(g_reg), 0, &seg, err,
	                        sizeof err) != 0 ||
	    scales_snapshot_take(seg, 0, &s, err, sizeof err) != 0)
		FAIL("reader: %s", err);
	const uint64_t want = (WORKERS + 1) * (uint64_t)PER_CALL;
	const struct scales_metric *m = scales_snapshot_find(s, "/plugin/hits");
	if (!m || m->v.u64 != want)
		FAIL("/plugin/hits: %llu, want %llu",
		     m ? (unsigned long long)m->v.u64 : 0ull,
		     (unsigned long long)want);
	m = scales_snapshot_find(s, "/plugin/values");
	if (!m || m->side->hist.count != want)
		FAIL("/plugin/values: count %llu, want %llu",
		     m ? (unsigned long long)m->side->hist.count : 0ull,
		     (unsigned long long)want);
	m = scales_snapshot_find(s, "/host/signals");
	uint64_t seen = __atomic_load_n(&g_signals_seen, __ATOMIC_RELAXED);
	if (!m || m->v.u64 != seen || seen == 0)
		FAIL("/host/signals: %llu, handled %llu",
		     m ? (unsigned long long)m->v.u64 : 0ull,
		     (unsigned long long)seen);
	m = scales_snapshot_find(s, "/host/loops");
	if (!m || m->v.u64 != loops)
		FAIL("/host/loops: %llu, want %llu",
		     m ? (unsigned long long)m->v.u64 : 0ull,
		     (unsigned long long)loops);
	scales_snapshot_free(&s);
	scales_segment_close(&seg);
	scales_close(&g_reg);
	_exit(0);
}

static void run_host(unsigned flags)
{
	fresh_dir();
	pid_t p = fork();
	cr_assert_geq(p, 0);
	if (p == 0)
		host(flags);
	int st;
	cr_assert_eq(waitpid(p, &st, 0), p);
	cr_assert(!WIFSIGNALED(st),
	          "the host died of signal %d (%s) after dlclose() of a "
	          "plugin that updated stats",
	          WTERMSIG(st), strsignal(WTERMSIG(st)));
	cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0,
	          "the host failed (status %d): see its message above", st);
}

/* Updates commit in the rseq sequence (the fast path). */
Test(unload, plugin_unloaded_after_rseq_updates, .timeout = 60)
{
	run_host(0);
}

/* Every update jumps from the sequence to the out-of-line path. */
Test(unload, plugin_unloaded_after_fallback_updates, .timeout = 60)
{
	run_host(SCALES_NO_RSEQ);
}
