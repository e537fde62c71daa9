/* SPDX-License-Identifier: MIT */
/*
 * memory.c: resident bytes in the segment directory per counter and per
 * default histogram (issue 17.1), for 8, 64, 192 and 1024 possible CPUs
 * (SCALES_TEST_POSSIBLE_CPUS makes the library believe in them) and a
 * process whose threads run on 2 CPUs or on all of them.
 *
 * Threads run on the CPUs of this machine (2 of them, pinned); "all"
 * hands the slots of every other possible CPU out at open
 * (SCALES_TEST_TAKEN_SLOTS), which reserves exactly what threads on those
 * CPUs would. The cost of a stat is the growth of the file's st_blocks
 * over a batch of stats registered and updated from every thread, after a
 * first stat of each kind took the fixed costs; its directory entry is
 * included. Sizes, not times: the load of the machine does not matter.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "bench.h"

#define MEM_COUNTERS 4096
#define MEM_HISTOS 64

static scales_counter m_counters[MEM_COUNTERS];
static scales_histogram m_histos[MEM_HISTOS];

struct mem_toucher {
	int cpu, nc, nh;
};

static void *mem_touch(void *arg)
{
	struct mem_toucher *t = arg;
	bench_pin_self(t->cpu);
	for (int i = 0; i < t->nc; i++)
		scales_counter_inc(&m_counters[i]);
	for (int i = 0; i < t->nh; i++)
		scales_histogram_record(&m_histos[i], 1000);
	return NULL;
}

/* Every stat updated once from a thread on each of the first 2 CPUs. */
static void mem_touch_all(int nc, int nh)
{
	int n = bench_ncpus() < 2 ? bench_ncpus() : 2;
	pthread_t th[2];
	struct mem_toucher a[2];
	for (int i = 0; i < n; i++) {
		a[i] = (struct mem_toucher){ bench_cpu(i), nc, nh };
		pthread_create(&th[i], NULL, mem_touch, &a[i]);
	}
	for (int i = 0; i < n; i++)
		pthread_join(th[i], NULL);
}

static uint64_t mem_resident(const char *path)
{
	struct stat st;
	if (stat(path, &st) != 0)
		bench_die("stat %s: %s", path, strerror(errno));
	return (uint64_t)st.st_blocks * 512;
}

static void mem_one(unsigned possible, bool all, double *per_counter,
                    double *per_histo)
{
	char v[32];
	snprintf(v, sizeof v, "%u", possible);
	setenv("SCALES_TEST_POSSIBLE_CPUS", v, 1);
	int used = bench_ncpus() < 2 ? bench_ncpus() : 2;
	if (all && possible > (unsigned)used) {
		snprintf(v, sizeof v, "%u", possible - (unsigned)used);
		setenv("SCALES_TEST_TAKEN_SLOTS", v, 1);
	}
	struct scales_options o;
	scales_options_init(&o);
	o.app = "bench-memory";
	o.flags = SCALES_NO_SAMPLER;
	o.max_entries = MEM_COUNTERS + MEM_HISTOS + 16;
	scales_registry *reg = NULL;
	int rc = scales_open(&o, &reg);
	unsetenv("SCALES_TEST_POSSIBLE_CPUS");
	unsetenv("SCALES_TEST_TAKEN_SLOTS");
	if (rc)
		bench_die("memory: scales_open: %s", scales_strerror(rc));
	const char *path = scales_registry_path(reg);

	if (scales_counter_get(reg, "/warm/c", NULL, &m_counters[0]) ||
	    scales_histogram_get(reg, "/warm/h", NULL, NULL, &m_histos[0]))
		bench_die("memory: registration failed");
	mem_touch_all(1, 1);
	uint64_t b0 = mem_resident(path);
	for (int i = 0; i < MEM_COUNTERS; i++) {
		char p[32];
		snprintf(p, sizeof p, "/c/%d", i);
		if (scales_counter_get(reg, p, NULL, &m_counters[i]))
			bench_die("memory: counter %d refused", i);
	}
	mem_touch_all(MEM_COUNTERS, 0);
	uint64_t b1 = mem_resident(path);
	for (int i = 0; i < MEM_HISTOS; i++) {
		char p[32];
		snprintf(p, sizeof p, "/h/%d", i);
		if (scales_histogram_get(reg, p, NULL, NULL, &m_histos[i]))
			bench_die("memory: histogram %d refused", i);
	}
	mem_touch_all(0, MEM_HISTOS);
	uint64_t b2 = mem_resident(path);
	scales_close(&reg);
	*per_counter = (double)(b1 - b0) / MEM_COUNTERS;
	*per_histo = (double)(b2 - b1) / MEM_HISTOS;
}

int bench_memory(void)
{
	static const unsigned possible[] = { 8, 64, 192, 1024 };
	printf("\nresident bytes per stat (st_blocks), by possible CPUs:\n");
	printf("%9s %20s %22s %20s %22s\n", "possible", "counter, 2 CPUs",
	       "histogram, 2 CPUs", "counter, all CPUs", "histogram, all CPUs");
	for (size_t i = 0; i < sizeof possible / sizeof possible[0]; i++) {
		double c2, h2, ca, ha;
		mem_one(possible[i], false, &c2, &h2);
		mem_one(possible[i], true, &ca, &ha);
		printf("%9u %20.0f %22.0f %20.0f %22.0f\n", possible[i], c2, h2,
		       ca, ha);
		char n[64];
		snprintf(n, sizeof n, "mem_counter_on2_of%u", possible[i]);
		result_add_bytes(n, c2, c2, c2, 1);
		snprintf(n, sizeof n, "mem_histogram_on2_of%u", possible[i]);
		result_add_bytes(n, h2, h2, h2, 1);
		snprintf(n, sizeof n, "mem_counter_onall_of%u", possible[i]);
		result_add_bytes(n, ca, ca, ca, 1);
		snprintf(n, sizeof n, "mem_histogram_onall_of%u", possible[i]);
		result_add_bytes(n, ha, ha, ha, 1);
	}
	return 0;
}
