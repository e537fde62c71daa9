/* SPDX-License-Identifier: MIT */
/*
 * sampler.c: the registry's background thread. Every sampler_interval_ms it
 * bumps the header's heartbeat (CLOCK_MONOTONIC ns), so that readers can
 * tell a live writer even from another pid namespace.
 *
 * Threading contract: one thread per registry, started by scales_open()
 * unless SCALES_NO_SAMPLER, stopped and joined by scales_close(). It blocks
 * every signal. It never takes the registry lock. It exists only in the
 * process that opened the registry: a forked child has no sampler.
 */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <time.h>

#include "internal.h"

struct sampler {
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t wake; /* CLOCK_MONOTONIC */
	bool stop;
};

static void heartbeat(scales_registry *reg)
{
	/* Relaxed: the heartbeat orders nothing; readers only compare it to
	 * their own clock. */
	__atomic_store_n(&reg->hdr->heartbeat_ns, now_ns(CLOCK_MONOTONIC),
	                 __ATOMIC_RELAXED);
}

static void *sampler_main(void *arg)
{
	scales_registry *reg = arg;
	struct sampler *s = reg->sampler;
	uint64_t period = (uint64_t)reg->sampler_interval_ms * 1000000u;
	uint64_t next = now_ns(CLOCK_MONOTONIC);
	pthread_mutex_lock(&s->lock);
	while (!s->stop) {
		pthread_mutex_unlock(&s->lock);
		heartbeat(reg);
		pthread_mutex_lock(&s->lock);
		next += period;
		uint64_t now = now_ns(CLOCK_MONOTONIC);
		if (next < now)
			next = now + period; /* we were stopped: no burst */
		struct timespec ts = { (time_t)(next / 1000000000u),
			               (long)(next % 1000000000u) };
		while (!s->stop && pthread_cond_timedwait(&s->wake, &s->lock,
		                                          &ts) != ETIMEDOUT)
			;
	}
	pthread_mutex_unlock(&s->lock);
	return NULL;
}

int sampler_start(scales_registry *reg)
{
	struct sampler *s = calloc(1, sizeof *s);
	if (!s)
		return -ENOMEM;
	pthread_condattr_t ca;
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&s->wake, &ca);
	pthread_condattr_destroy(&ca);
	pthread_mutex_init(&s->lock, NULL);
	reg->sampler = s;
	reg->hdr->heartbeat_period_ns =
	    (uint64_t)reg->sampler_interval_ms * 1000000u;
	heartbeat(reg);

	sigset_t all, old;
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	int rc = pthread_create(&s->thread, NULL, sampler_main, reg);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (rc) {
		reg->hdr->heartbeat_period_ns = 0;
		pthread_cond_destroy(&s->wake);
		pthread_mutex_destroy(&s->lock);
		free(s);
		reg->sampler = NULL;
		return -rc;
	}
	return 0;
}

void sampler_stop(scales_registry *reg)
{
	struct sampler *s = reg->sampler;
	if (!s)
		return;
	pthread_mutex_lock(&s->lock);
	s->stop = true;
	pthread_cond_signal(&s->wake);
	pthread_mutex_unlock(&s->lock);
	pthread_join(s->thread, NULL);
	pthread_cond_destroy(&s->wake);
	pthread_mutex_destroy(&s->lock);
	free(s);
	reg->sampler = NULL;
}
