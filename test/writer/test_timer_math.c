/* SPDX-License-Identifier: MIT */
/*
 * test_timer_math.c: the timers' tick-to-ns conversion without a 128-bit
 * type (32-bit targets, issue 13 item 9) gives the same result as the
 * 128-bit multiply. This file forces the portable form.
 */
#define SCALES__NO_INT128 1
#include <criterion/criterion.h>
#include <stdint.h>

#include <scales/scales.h>

#ifdef __SIZEOF_INT128__
static uint64_t reference(uint64_t a, uint64_t b)
{
	__extension__ typedef unsigned __int128 u128;
	return (uint64_t)(((u128)a * b) >> 32);
}

static uint64_t rnd(uint64_t *s)
{
	/* splitmix64 */
	uint64_t z = (*s += 0x9e3779b97f4a7c15u);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9u;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebu;
	return z ^ (z >> 31);
}
#endif

Test(timer_math, portable_mul_shr32_matches_128_bit)
{
#ifndef __SIZEOF_INT128__
	cr_skip_test("no 128-bit type on this host to compare with");
#else
	static const uint64_t edge[] = {
		0,
		1,
		2,
		0xffffffffu,
		0x100000000u,
		0x1ffffffffu,
		1ull << 63,
		UINT64_MAX,
		UINT64_MAX - 1,
		(1ull << 32) / 3, /* a 3 GHz TSC's ns_mult */
		10ull << 32,      /* 10 ns per tick */
	};
	size_t ne = sizeof edge / sizeof edge[0];
	for (size_t i = 0; i < ne; i++)
		for (size_t j = 0; j < ne; j++)
			cr_assert_eq(scales__mul_shr32(edge[i], edge[j]),
			             reference(edge[i], edge[j]),
			             "a %#llx b %#llx",
			             (unsigned long long)edge[i],
			             (unsigned long long)edge[j]);
	uint64_t s = 42;
	for (int i = 0; i < 1000000; i++) {
		/* random widths, so that small and large values both occur */
		uint64_t a = rnd(&s) >> (rnd(&s) & 63);
		uint64_t b = rnd(&s) >> (rnd(&s) & 63);
		cr_assert_eq(scales__mul_shr32(a, b), reference(a, b),
		             "a %#llx b %#llx", (unsigned long long)a,
		             (unsigned long long)b);
	}
#endif
}
