/* SPDX-License-Identifier: MIT */
/*
 * lock.c: the registry lock, serializing registrations and retirements of
 * every process that shares a segment (a parent and its forked children).
 *
 * It is a process-shared, robust pthread mutex in the header, taken with a
 * timeout: a holder that died leaves EOWNERDEAD (we repair and go on); a
 * holder that is stopped makes registration fail with -EBUSY after
 * lock_timeout_ms, so the caller gets a sink handle instead of hanging.
 * Only registration, retirement and interning take it; updates never do.
 */
#include <errno.h>
#include <string.h>
#include <time.h>

#include "internal.h"

static pthread_mutex_t *shm_mutex(struct scales_shm_header *hdr)
{
	_Static_assert(sizeof(pthread_mutex_t) <= SCALES_SHM_LOCK_SIZE,
	               "mutex fits the header's lock field");
	return (pthread_mutex_t *)(void *)hdr->lock;
}

int shm_lock_init(struct scales_shm_header *hdr, int pshared)
{
	pthread_mutexattr_t a;
	int rc = pthread_mutexattr_init(&a);
	if (rc)
		return -rc;
	rc = pthread_mutexattr_setpshared(&a, pshared);
	if (!rc)
		rc = pthread_mutexattr_setrobust(&a, PTHREAD_MUTEX_ROBUST);
	if (!rc)
		rc = pthread_mutex_init(shm_mutex(hdr), &a);
	pthread_mutexattr_destroy(&a);
	return -rc;
}

/*
 * A holder died inside the critical section. Entries it left half-written
 * (odd generation) are closed as retired, off the free list: their space is
 * lost, never reused, and readers skip them. Bump pointers may be ahead of
 * what was published; that space is lost too.
 */
static void repair(scales_registry *reg)
{
	struct scales_shm_header *h = reg->hdr;
	uint32_t used = __atomic_load_n(&h->dir_used, __ATOMIC_ACQUIRE);
	for (uint32_t i = 0; i < used && i < h->dir_capacity; i++) {
		struct scales_shm_entry *e = entry_at(reg, i);
		uint32_t g = __atomic_load_n(&e->generation, __ATOMIC_RELAXED);
		if (g & 1) {
			__atomic_store_n(&e->state, SCALES_SHM_RETIRED,
			                 __ATOMIC_RELAXED);
			__atomic_store_n(&e->generation, g + 1,
			                 __ATOMIC_RELEASE);
		}
	}
	/* The free list may have been cut mid-update: drop it (entries on it
	 * stay retired and unused). */
	h->free_head = 0;
	__atomic_fetch_add(&h->generation, 1, __ATOMIC_RELEASE);
}

int reg_lock(scales_registry *reg)
{
	/* Before any lock is touched: a stranger task must not own one. */
	int rc = reg_own_task(reg);
	if (rc)
		return rc;
	rc = pthread_mutex_lock(&reg->local_lock);
	if (rc)
		return -rc;
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	uint64_t ms = reg->lock_timeout_ms;
	ts.tv_sec += (time_t)(ms / 1000);
	ts.tv_nsec += (long)(ms % 1000) * 1000000L;
	if (ts.tv_nsec >= 1000000000L) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000L;
	}
	rc = pthread_mutex_timedlock(shm_mutex(reg->hdr), &ts);
	if (rc == EOWNERDEAD) {
		repair(reg);
		pthread_mutex_consistent(shm_mutex(reg->hdr));
		rc = 0;
	}
	if (rc) {
		pthread_mutex_unlock(&reg->local_lock);
		return rc == ETIMEDOUT ? -EBUSY : -rc;
	}
	return 0;
}

/* reg_lock() that never waits (the update path's slot assignment):
 * -EBUSY if either lock is held. */
int reg_trylock(scales_registry *reg)
{
	int rc = reg_own_task(reg);
	if (rc)
		return rc;
	if (pthread_mutex_trylock(&reg->local_lock))
		return -EBUSY;
	rc = pthread_mutex_trylock(shm_mutex(reg->hdr));
	if (rc == EOWNERDEAD) {
		repair(reg);
		pthread_mutex_consistent(shm_mutex(reg->hdr));
		rc = 0;
	}
	if (rc) {
		pthread_mutex_unlock(&reg->local_lock);
		return rc == EBUSY ? -EBUSY : -rc;
	}
	return 0;
}

void reg_unlock(scales_registry *reg)
{
	pthread_mutex_unlock(shm_mutex(reg->hdr));
	pthread_mutex_unlock(&reg->local_lock);
}
