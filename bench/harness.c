/* SPDX-License-Identifier: MIT */
/*
 * harness.c: pinned worker pools, timing, medians, the results table and
 * its JSON file.
 */
#include <errno.h>
#include <gnu/libc-version.h>
#include <math.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include "bench.h"

/* ------------------------------------------------------------ messages */

void bench_die(const char *fmt, ...)
{
	va_list ap;
	fflush(stdout);
	fputs("scales-bench: FATAL: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(1);
}

void bench_log(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vfprintf(stdout, fmt, ap);
	va_end(ap);
	fflush(stdout);
}

/* ------------------------------------------------------------ time, CPUs */

uint64_t bench_thread_cpu_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

bool bench_disturbed(uint64_t cpu_ns, uint64_t wall_ns)
{
	return (double)cpu_ns < 0.9 * (double)wall_ns;
}

uint64_t bench_now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static cpu_set_t allowed;
static int nallowed;
static int allowed_list[CPU_SETSIZE];

static void cpus_init(void)
{
	if (nallowed)
		return;
	if (sched_getaffinity(0, sizeof allowed, &allowed) != 0) {
		nallowed = 1;
		allowed_list[0] = -1;
		return;
	}
	for (int c = 0; c < CPU_SETSIZE; c++)
		if (CPU_ISSET(c, &allowed))
			allowed_list[nallowed++] = c;
	if (nallowed == 0) {
		nallowed = 1;
		allowed_list[0] = -1;
	}
}

int bench_ncpus(void)
{
	cpus_init();
	return nallowed;
}

int bench_cpu(int i)
{
	cpus_init();
	return allowed_list[i % nallowed];
}

int bench_pin_self(int cpu)
{
	if (cpu < 0)
		return 0;
	cpu_set_t s;
	CPU_ZERO(&s);
	CPU_SET(cpu, &s);
	int rc = pthread_setaffinity_np(pthread_self(), sizeof s, &s);
	return -rc;
}

void bench_unpin_self(void)
{
	cpus_init();
	pthread_setaffinity_np(pthread_self(), sizeof allowed, &allowed);
}

/* ----------------------------------------------------------------- pools */

static void cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
	__builtin_ia32_pause();
#endif
}

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	struct pool *p = w->pool;
	if (w->cpu >= 0 && bench_pin_self(w->cpu) != 0)
		w->cpu = -1;
	for (;;) {
		pthread_barrier_wait(&p->go);
		if (p->quit)
			break;
		/* spin until every worker is awake, so the loops overlap */
		__atomic_add_fetch(&p->arrive, 1, __ATOMIC_ACQ_REL);
		while (__atomic_load_n(&p->arrive, __ATOMIC_ACQUIRE) <
		       p->nthreads)
			cpu_relax();
		uint64_t c0 = bench_thread_cpu_ns();
		uint64_t t0 = bench_now_ns(), t1;
		uint64_t end = t0 + p->duration_ns, count = 0;
		do {
			p->fn(w, p->chunk);
			count += p->chunk;
			t1 = bench_now_ns();
		} while (t1 < end);
		w->cpu_ns = bench_thread_cpu_ns() - c0;
		w->t0 = t0;
		w->t1 = t1;
		w->count = count;
		pthread_barrier_wait(&p->done);
	}
	return NULL;
}

int pool_start(struct pool *p, int nthreads)
{
	memset(p, 0, sizeof *p);
	if (nthreads < 1 || nthreads > BENCH_MAX_THREADS)
		return -EINVAL;
	p->nthreads = nthreads;
	pthread_barrier_init(&p->go, NULL, (unsigned)nthreads + 1);
	pthread_barrier_init(&p->done, NULL, (unsigned)nthreads + 1);
	for (int i = 0; i < nthreads; i++) {
		struct worker *w = &p->w[i];
		w->id = i;
		w->cpu = bench_cpu(i);
		w->pool = p;
		w->udp_fd = -1;
		/* a private cache line (two, against adjacent-line prefetch) */
		if (posix_memalign((void **)&w->priv, 128, 128) != 0)
			return -ENOMEM;
		memset(w->priv, 0, 128);
		int rc = pthread_create(&w->th, NULL, worker_main, w);
		if (rc)
			bench_die("pthread_create: %s", strerror(rc));
	}
	return 0;
}

void pool_stop(struct pool *p)
{
	p->quit = true;
	pthread_barrier_wait(&p->go);
	for (int i = 0; i < p->nthreads; i++) {
		pthread_join(p->w[i].th, NULL);
		free(p->w[i].priv);
	}
	pthread_barrier_destroy(&p->go);
	pthread_barrier_destroy(&p->done);
}

double pool_run(struct pool *p, bench_loop_f fn, uint64_t chunk,
                uint64_t duration_ns, bool *disturbed)
{
	p->fn = fn;
	p->chunk = chunk;
	p->duration_ns = duration_ns;
	__atomic_store_n(&p->arrive, 0, __ATOMIC_RELEASE);
	pthread_barrier_wait(&p->go);
	pthread_barrier_wait(&p->done);
	uint64_t t0 = UINT64_MAX, t1 = 0;
	double ops_per_ns = 0;
	for (int i = 0; i < p->nthreads; i++) {
		const struct worker *w = &p->w[i];
		if (w->t0 < t0)
			t0 = w->t0;
		if (w->t1 > t1)
			t1 = w->t1;
		ops_per_ns += (double)w->count / (double)(w->t1 - w->t0);
	}
	if (disturbed) {
		*disturbed = false;
		for (int i = 0; i < p->nthreads; i++) {
			uint64_t own = p->w[i].t1 - p->w[i].t0;
			if (bench_disturbed(p->w[i].cpu_ns, own) ||
			    bench_disturbed(own, t1 - t0))
				*disturbed = true;
		}
	}
	return (double)p->nthreads / ops_per_ns;
}

/* --------------------------------------------------------------- medians */

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

double bench_median(double *v, int n)
{
	if (n <= 0)
		return NAN;
	double *c = malloc(sizeof(double) * (size_t)n);
	if (!c)
		bench_die("out of memory");
	memcpy(c, v, sizeof(double) * (size_t)n);
	qsort(c, (size_t)n, sizeof(double), cmp_double);
	double m = n % 2 ? c[n / 2] : (c[n / 2 - 1] + c[n / 2]) / 2;
	free(c);
	return m;
}

double bench_min(const double *v, int n)
{
	double m = INFINITY;
	for (int i = 0; i < n; i++)
		if (v[i] < m)
			m = v[i];
	return m;
}

double bench_max(const double *v, int n)
{
	double m = -INFINITY;
	for (int i = 0; i < n; i++)
		if (v[i] > m)
			m = v[i];
	return m;
}

/* --------------------------------------------------------------- results */

struct result {
	char name[48];
	int threads;
	double ns, lo, hi;
	int trials;
	int retried;
	bool bytes; /* a size in bytes (result_add_bytes()), not ns per op */
};

static struct result results[256];
static int nresults;

void result_add(const char *name, int threads, double ns, double lo, double hi,
                int trials)
{
	if (nresults == (int)(sizeof results / sizeof results[0]))
		bench_die("too many results");
	struct result *r = &results[nresults++];
	snprintf(r->name, sizeof r->name, "%s", name);
	r->threads = threads;
	r->ns = ns;
	r->lo = lo;
	r->hi = hi;
	r->trials = trials;
}

void result_add_bytes(const char *name, double bytes, double lo, double hi,
                      int trials)
{
	result_add(name, 1, bytes, lo, hi, trials);
	results[nresults - 1].bytes = true;
}

void result_set_retried(const char *name, int threads, int retried)
{
	for (int i = 0; i < nresults; i++)
		if (results[i].threads == threads &&
		    strcmp(results[i].name, name) == 0)
			results[i].retried = retried;
}

double result_get(const char *name, int threads)
{
	for (int i = 0; i < nresults; i++)
		if (results[i].threads == threads &&
		    strcmp(results[i].name, name) == 0)
			return results[i].ns;
	return NAN;
}

/* ns with three significant digits, or as ms/s when large. */
static void fmt_ns(char *buf, size_t len, double ns)
{
	if (isnan(ns))
		snprintf(buf, len, "-");
	else if (ns < 10)
		snprintf(buf, len, "%.2f", ns);
	else if (ns < 100)
		snprintf(buf, len, "%.1f", ns);
	else
		snprintf(buf, len, "%.0f", ns);
}

void results_print(void)
{
	printf("\n%-26s %7s %14s %12s %12s %6s %7s\n", "benchmark", "threads",
	       "ns/op median", "min", "max", "trials", "retried");
	for (int i = 0; i < nresults; i++) {
		const struct result *r = &results[i];
		char a[32], b[32], c[32];
		fmt_ns(a, sizeof a, r->ns);
		fmt_ns(b, sizeof b, r->lo);
		fmt_ns(c, sizeof c, r->hi);
		printf("%-26s %7d %14s %12s %12s %6d %7d%s\n", r->name,
		       r->threads, a, b, c, r->trials, r->retried,
		       r->bytes ? "  (bytes)" : "");
	}
	fflush(stdout);
}

/* mkdir -p of path's directory part. */
static int mkdir_parents(const char *path)
{
	char buf[4096];
	if (snprintf(buf, sizeof buf, "%s", path) >= (int)sizeof buf)
		return -ENAMETOOLONG;
	char *slash = strrchr(buf, '/');
	if (!slash)
		return 0;
	*slash = 0;
	for (char *p = buf + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = 0;
		if (mkdir(buf, 0755) != 0 && errno != EEXIST)
			return -errno;
		*p = '/';
	}
	if (buf[0] && mkdir(buf, 0755) != 0 && errno != EEXIST)
		return -errno;
	return 0;
}

static void json_str(FILE *f, const char *s)
{
	fputc('"', f);
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		if (c == '"' || c == '\\')
			fprintf(f, "\\%c", c);
		else if (c < 0x20)
			fprintf(f, "\\u%04x", c);
		else
			fputc(c, f);
	}
	fputc('"', f);
}

int results_write_json(const char *path, const char *machine)
{
	int rc = mkdir_parents(path);
	if (rc)
		return rc;
	char tmp[4200];
	snprintf(tmp, sizeof tmp, "%s.tmp", path);
	FILE *f = fopen(tmp, "w");
	if (!f)
		return -errno;
	fputs("{\"machine\": ", f);
	json_str(f, machine);
	fputs(", \"results\": [", f);
	int first = 1;
	for (int i = 0; i < nresults; i++) {
		const struct result *r = &results[i];
		if (isnan(r->ns))
			continue;
		fprintf(f, "%s\n  {\"name\": ", first ? "" : ",");
		json_str(f, r->name);
		if (r->bytes)
			fprintf(f, ", \"threads\": %d, \"bytes\": %.4g}",
			        r->threads, r->ns);
		else
			fprintf(f, ", \"threads\": %d, \"ns_per_op\": %.4g}",
			        r->threads, r->ns);
		first = 0;
	}
	fputs("\n]}\n", f);
	if (fclose(f) != 0)
		return -errno;
	if (rename(tmp, path) != 0)
		return -errno;
	return 0;
}

/* ---------------------------------------------------------------- machine */

void bench_machine(char *buf, size_t len)
{
	char model[128] = "unknown CPU";
	bool virt = false;
	FILE *f = fopen("/proc/cpuinfo", "re");
	if (f) {
		char line[4096];
		bool have_model = false;
		while (fgets(line, sizeof line, f)) {
			if (!have_model &&
			    strncmp(line, "model name", 10) == 0) {
				char *c = strchr(line, ':');
				if (c) {
					c++;
					while (*c == ' ' || *c == '\t')
						c++;
					c[strcspn(c, "\n")] = 0;
					snprintf(model, sizeof model, "%s", c);
					have_model = true;
				}
			}
			if (strncmp(line, "flags", 5) == 0 &&
			    strstr(line, " hypervisor"))
				virt = true;
		}
		fclose(f);
	}
	struct utsname u;
	if (uname(&u) != 0)
		memset(&u, 0, sizeof u);
	long online = sysconf(_SC_NPROCESSORS_ONLN);
	snprintf(buf, len, "%s, %ld CPUs%s, Linux %s %s, glibc %s", model,
	         online, virt ? " (virtual machine)" : "", u.release, u.machine,
	         gnu_get_libc_version());
}
