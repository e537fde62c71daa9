/* SPDX-License-Identifier: MIT */
/*
 * clock.c: the timers' clock. The TSC is used only where the kernel itself
 * uses it as its clocksource (so it is invariant and synchronized across
 * CPUs); it is calibrated once against CLOCK_MONOTONIC. Elsewhere timers read
 * CLOCK_MONOTONIC in nanoseconds (ns_mult = 1 << 32).
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "internal.h"

static pthread_once_t clock_once = PTHREAD_ONCE_INIT;
static uint8_t clock_kind = SCALES_CLOCK_MONOTONIC;
static uint64_t clock_mult = (uint64_t)1 << 32;

#if defined(__x86_64__)
static uint64_t rdtsc(void)
{
	uint32_t lo, hi;
	__asm__ __volatile__("rdtsc" : "=a"(lo), "=d"(hi));
	return ((uint64_t)hi << 32) | lo;
}

static bool kernel_uses_tsc(void)
{
	char buf[64] = "";
	FILE *f = fopen(
	    "/sys/devices/system/clocksource/clocksource0/current_clocksource",
	    "re");
	if (!f)
		return false;
	bool ok = fgets(buf, sizeof buf, f) && strncmp(buf, "tsc", 3) == 0 &&
	          (buf[3] == '\n' || buf[3] == '\0');
	fclose(f);
	return ok;
}
#endif

static void clock_init(void)
{
#if defined(__x86_64__)
	const char *env = getenv("SCALES_CLOCK");
	if (env && strcmp(env, "monotonic") == 0)
		return;
	if (!kernel_uses_tsc())
		return;
	/* 5 ms against CLOCK_MONOTONIC: the reads cost tens of ns, so the
	 * ratio is good to about 1e-5. */
	uint64_t m0 = now_ns(CLOCK_MONOTONIC), t0 = rdtsc();
	struct timespec d = { 0, 5000000 };
	nanosleep(&d, NULL);
	uint64_t m1 = now_ns(CLOCK_MONOTONIC), t1 = rdtsc();
	if (t1 <= t0 || m1 <= m0)
		return;
	clock_mult = (uint64_t)(((scales__u128)(m1 - m0) << 32) / (t1 - t0));
	if (clock_mult == 0)
		return;
	clock_kind = SCALES_CLOCK_TSC;
#endif
}

void timer_clock(uint8_t *clock, uint64_t *ns_mult)
{
	pthread_once(&clock_once, clock_init);
	*clock = clock_kind;
	*ns_mult = clock_mult;
}
