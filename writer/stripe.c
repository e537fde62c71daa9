/* SPDX-License-Identifier: MIT */
/*
 * stripe.c: per-CPU stripes: how many, whether rseq serves them, and the
 * out-of-line atomic add used where rseq cannot.
 */
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <ck_pr.h>

#include "internal.h"

/*
 * The highest CPU id in /sys/devices/system/cpu/possible, plus one: every
 * CPU the kernel may ever report, including hot-pluggable ones.
 * SCALES_TEST_POSSIBLE_CPUS=N (tests and benchmarks only) makes the
 * library believe in N instead, so that a small machine can measure the
 * cost of a large one; CPUs at or past N then update the shared stripe.
 */
uint32_t possible_cpus(void)
{
	uint32_t n = 0;
	const char *test = getenv("SCALES_TEST_POSSIBLE_CPUS");
	if (test && *test) {
		char *end;
		unsigned long v = strtoul(test, &end, 10);
		if (*end == 0 && v >= 1 && v <= 65534)
			return (uint32_t)v;
	}
	FILE *f = fopen("/sys/devices/system/cpu/possible", "re");
	if (f) {
		char buf[4096];
		if (fgets(buf, sizeof buf, f)) {
			/* "0-3,8-11": the last number is the highest id */
			char *p = buf, *end;
			while (*p) {
				if (*p >= '0' && *p <= '9') {
					unsigned long v = strtoul(p, &end, 10);
					if (v + 1 > n)
						n = (uint32_t)(v + 1);
					p = end;
				} else {
					p++;
				}
			}
		}
		fclose(f);
	}
	if (n == 0) {
		long c = sysconf(_SC_NPROCESSORS_CONF);
		n = c > 0 ? (uint32_t)c : 1;
	}
	if (n > 65534)
		n = 65534;
	return n;
}

/*
 * rseq serves the stripes when the header's asm is compiled in, glibc
 * registered an rseq area for this thread (it does so for every thread or
 * none: glibc.pthread.rseq=0 and valgrind give none) and its cpu id is
 * valid. SCALES_RSEQ=0 in the environment forces the fallback.
 */
bool rseq_usable(uint32_t ncpu)
{
#if SCALES_HAVE_RSEQ_ASM
	const char *env = getenv("SCALES_RSEQ");
	if (env && strcmp(env, "0") == 0)
		return false;
	if (__rseq_size < 20)
		return false;
	const volatile uint32_t *cpu_id =
	    (const volatile uint32_t *)((char *)__builtin_thread_pointer() +
	                                __rseq_offset + 4);
	return *cpu_id < ncpu;
#else
	(void)ncpu;
	return false;
#endif
}

/*
 * The atomic path (scales__slot_add() in <scales/scales.h>). A CPU with no
 * slot yet gets one here, if the registry's locks are free (never waited
 * for); this very add still goes to the shared stripe. In rseq mode
 * (rseq_cpus != 0) a thread gets here with no valid cpu id, no slot, or a
 * slot at or past limit, and adds to the shared stripe, which no rseq
 * sequence ever writes, so its locked add never races with a non-locked
 * one. Without rseq every writer uses locked adds, so the slot of
 * sched_getcpu() (possibly stale by now: that costs only sharing, not
 * correctness) is safe. ck_pr_add_64 is a full-barrier lock add on x86;
 * callers may rely only on its atomicity.
 */
SCALES_API void scales__slot_add_slow(uint64_t *base, const uint64_t *slots,
                                      uint16_t rseq_cpus, uint16_t ncpu,
                                      uint64_t limit, uint64_t shared,
                                      uint64_t n)
{
	if (!base)
		return; /* a zeroed handle, never registered: absorb */
	uint64_t at = shared;
	int cpu = slots ? sched_getcpu() : -1;
	if (cpu >= 0 && cpu < ncpu) {
		/* Acquire: pairs with alloc_slot()'s release of the entry. */
		uint64_t s = __atomic_load_n(&slots[cpu], __ATOMIC_ACQUIRE);
		if (s == SCALES_SHM_SLOT_NONE)
			reg_assign_slot(slots, (uint32_t)cpu);
		else if (rseq_cpus == 0 && s < limit)
			at = s;
	}
	ck_pr_add_64((uint64_t *)(void *)((char *)base + at), n);
}

SCALES_API void scales__histogram_extreme(uint64_t *minmax, uint64_t v)
{
	/* Relaxed, like the loads of the inline check: min and max are
	 * single words that order nothing; a failed CAS reloads and retries
	 * only while v is still a new extreme. */
	uint64_t m = __atomic_load_n(&minmax[1], __ATOMIC_RELAXED);
	while (v > m &&
	       !__atomic_compare_exchange_n(&minmax[1], &m, v, true,
	                                    __ATOMIC_RELAXED, __ATOMIC_RELAXED))
		;
	m = __atomic_load_n(&minmax[0], __ATOMIC_RELAXED);
	while (v < m &&
	       !__atomic_compare_exchange_n(&minmax[0], &m, v, true,
	                                    __ATOMIC_RELAXED, __ATOMIC_RELAXED))
		;
}

SCALES_API void scales__histogram_add_slow(uint64_t *base, uint32_t b,
                                           uint64_t v, int bucket_done,
                                           const uint64_t *slots,
                                           uint16_t rseq_cpus, uint16_t ncpu,
                                           uint64_t limit, uint64_t shared)
{
	if (!base)
		return; /* a zeroed handle, never registered: absorb */
	if (!bucket_done)
		scales__slot_add_slow(base + 1 + b, slots, rseq_cpus, ncpu,
		                      limit, shared, 1);
	scales__slot_add_slow(base, slots, rseq_cpus, ncpu, limit, shared, v);
}
