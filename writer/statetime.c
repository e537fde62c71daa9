/* SPDX-License-Identifier: MIT */
/*
 * statetime.c: time in state (the seed's StateTimeStat; format 1.4,
 * docs/format.md 6.3). A timed state's table follows its 8 data bytes:
 * the current word (slot + 1 in the top 8 bits, the CLOCK_MONOTONIC ns at
 * which it was entered in the low 56) and n + 1 slots of (value ref,
 * accumulated ns), the last one "other".
 *
 * A set claims the value's slot (a compare-and-swap on a free slot's ref,
 * once per value), reads the clock, swaps the current word for its own
 * (a compare-and-swap loop) and adds the interval it closed to the slot
 * the state left. The swaps form one chain: each closes exactly the
 * interval the previous one opened, whatever thread or forked process
 * made it, so every nanosecond is counted once. No lock, no syscall but
 * the vDSO clock read.
 */
#include <time.h>

#include "internal.h"

uint64_t (*test_hook_state_clock)(void);

static uint64_t state_clock(void)
{
	if (test_hook_state_clock)
		return test_hook_state_clock();
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* The slot of value id among the n value slots, claiming the first free
 * one; n ("other") if none is free. Slots are claimed in order and never
 * freed, so a value never gets two: a thread that passed slot i saw it
 * hold another value, and it keeps holding it. */
static uint32_t state_slot(struct scales_shm_state_slot *slots, uint32_t n,
                           uint32_t id)
{
	for (uint32_t i = 0; i < n; i++) {
		uint32_t r = __atomic_load_n(&slots[i].ref, __ATOMIC_RELAXED);
		/* Relaxed claim: the release of the current word's swap
		 * below publishes it before any reader can find the slot
		 * through that word or through time added to it. */
		if (r == 0 &&
		    __atomic_compare_exchange_n(&slots[i].ref, &r, id, false,
		                                __ATOMIC_RELAXED,
		                                __ATOMIC_RELAXED))
			return i;
		if (r == id)
			return i;
	}
	return n;
}

int state_set_timed(const scales_state *s, uint32_t id)
{
	uint32_t *w = s->value;
	uint32_t n = __atomic_load_n(&w[1], __ATOMIC_RELAXED);
	if (n > SCALES_SHM_STATE_SLOTS_MAX)
		n = SCALES_SHM_STATE_SLOTS_MAX; /* never written: defensive */
	uint64_t *cur = (uint64_t *)(void *)(w + 2);
	struct scales_shm_state_slot *slots = (void *)(cur + 1);
	/* id 0 ("no value") has no slot of its own: "other" */
	uint32_t k = id ? state_slot(slots, n, id) : n;
	uint64_t t = state_clock() & SCALES_SHM_STATE_NS_MASK;
	uint64_t old = __atomic_load_n(cur, __ATOMIC_RELAXED);
	uint64_t at, nw;
	do {
		/* Never before the time the state left behind was entered:
		 * another thread may have read its clock after ours and
		 * swapped first. Entering at that time gives the left state
		 * an interval of 0 and keeps the chain's times in order. */
		at = t;
		if (old &&
		    !scales_shm_state_interval(old & SCALES_SHM_STATE_NS_MASK,
		                               t))
			at = old & SCALES_SHM_STATE_NS_MASK;
		nw = ((uint64_t)(k + 1) << SCALES_SHM_STATE_NS_BITS) | at;
		/* acq_rel: acquire pairs with the release of the set that
		 * stored old (its slot claim happens before our add to that
		 * slot); release publishes our own claim of slot k. A failed
		 * swap retries with the word it found (relaxed: only the
		 * successful one's value is used). */
	} while (!__atomic_compare_exchange_n(cur, &old, nw, true,
	                                      __ATOMIC_ACQ_REL,
	                                      __ATOMIC_RELAXED));
	/* the current value for readers that show the ref (older ones);
	 * readers of 1.4 take it from the current word */
	__atomic_store_n(&w[0], id, __ATOMIC_RELAXED);
	if (old) {
		uint32_t left = (uint32_t)(old >> SCALES_SHM_STATE_NS_BITS) - 1;
		uint64_t d =
		    scales_shm_state_interval(old & SCALES_SHM_STATE_NS_MASK,
		                              at);
		/* Release: a reader that loads the sum (acquire) then
		 * reads the slot's ref sees the claim (the chain above). */
		if (d && left <= n)
			__atomic_fetch_add(&slots[left].ns, d,
			                   __ATOMIC_RELEASE);
	}
	return k == n && id ? SCALES_E_STATES : 0;
}

SCALES_API void scales__state_set_timed(const scales_state *s, uint32_t id)
{
	(void)state_set_timed(s, id);
}
