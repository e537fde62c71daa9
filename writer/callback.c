/* SPDX-License-Identifier: MIT */
/*
 * callback.c: gauges computed by a function (the seed's lambdas).
 *
 * Threading contract:
 *  - Callbacks run on a callback thread of their own (started with the
 *    first callback gauge unless SCALES_NO_SAMPLER), once per
 *    sampler_interval_ms, or in the caller's thread in scales_sample().
 *    Rounds never overlap. A callback never runs on the heartbeat thread,
 *    so a slow or blocked callback delays only the callback gauges that
 *    follow it (they keep their last value); it never delays the
 *    heartbeat, registration (beyond the bound below) or any update.
 *  - No lock is held while a callback runs. Its result is stored under the
 *    registry lock, and only if the entry still holds this gauge: LIVE,
 *    with the generation it had at registration. Another process that
 *    shares the segment (a forked child) may have retired the gauge and
 *    reused its slot; the callback is then dropped, never written into
 *    another stat. A registry lock not obtained in lock_timeout_ms skips
 *    the store (the gauge keeps its last value).
 *  - Retiring a callback gauge (scales_retire, scope release, reset) waits
 *    until that gauge's callback is not running, so that its argument may
 *    be freed on return. That wait, with the registry lock held, is the
 *    bound: registration by other threads waits at most lock_timeout_ms,
 *    then fails with -EBUSY and a sink, however long the callback blocks.
 */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "internal.h"

struct callback {
	uint32_t id;
	uint32_t idx;        /* directory entry */
	uint32_t generation; /* the entry's, when the gauge was registered */
	uint16_t kind;       /* SCALES_SHM_GAUGE_F64 or SCALES_SHM_GAUGE_I64 */
	void *value;         /* the gauge's word in the segment */
	scales_gauge_fn fn_f64;
	scales_gauge_i64_fn fn_i64;
	void *arg;
};

struct callbacks {
	pthread_mutex_t lock;  /* the list and running_id */
	pthread_cond_t idle;   /* running_id changed */
	pthread_mutex_t round; /* one round at a time */
	struct callback *v;
	size_t n, cap;
	uint32_t next_id;
	uint32_t running_id; /* 0: none */
	uint32_t running_idx;

	pthread_t thread;
	bool started, stop;
	pthread_cond_t wake; /* CLOCK_MONOTONIC */
};

int callbacks_init(scales_registry *reg)
{
	struct callbacks *c = calloc(1, sizeof *c);
	if (!c)
		return -ENOMEM;
	pthread_mutex_init(&c->lock, NULL);
	pthread_mutex_init(&c->round, NULL);
	pthread_cond_init(&c->idle, NULL);
	pthread_condattr_t ca;
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&c->wake, &ca);
	pthread_condattr_destroy(&ca);
	c->next_id = 1;
	reg->callbacks = c;
	return 0;
}

/* In a forked child: the callback thread was not forked and no other
 * thread holds our locks any more. Callbacks run only via scales_sample(). */
void callbacks_after_fork_child(scales_registry *reg)
{
	struct callbacks *c = reg->callbacks;
	if (!c)
		return;
	pthread_mutex_init(&c->lock, NULL);
	pthread_mutex_init(&c->round, NULL);
	pthread_cond_init(&c->idle, NULL);
	c->started = false;
	c->running_id = 0;
}

void callbacks_destroy(scales_registry *reg)
{
	struct callbacks *c = reg->callbacks;
	if (!c)
		return;
	if (c->started) {
		pthread_mutex_lock(&c->lock);
		c->stop = true;
		pthread_cond_broadcast(&c->wake);
		pthread_mutex_unlock(&c->lock);
		pthread_join(c->thread, NULL);
	}
	pthread_cond_destroy(&c->wake);
	pthread_cond_destroy(&c->idle);
	pthread_mutex_destroy(&c->round);
	pthread_mutex_destroy(&c->lock);
	free(c->v);
	free(c);
	reg->callbacks = NULL;
}

/*
 * Stores a callback's result if its entry still holds the gauge. Every
 * retirement and reuse of an entry, in any process, runs under the registry
 * lock, so the check and the store under it cannot be overtaken. Returns
 * false if the gauge is gone (the caller drops the callback).
 */
static bool store_result(scales_registry *reg, const struct callback *cb,
                         double f, int64_t v)
{
	if (reg_lock(reg))
		return true; /* busy: skip this round's store */
	const struct scales_shm_entry *e = entry_at(reg, cb->idx);
	bool ours =
	    __atomic_load_n(&e->state, __ATOMIC_RELAXED) == SCALES_SHM_LIVE &&
	    __atomic_load_n(&e->generation, __ATOMIC_RELAXED) == cb->generation;
	/* Relaxed stores, as scales_gauge_*_set: the value orders nothing. */
	if (ours && cb->kind == SCALES_SHM_GAUGE_F64)
		__atomic_store((double *)cb->value, &f, __ATOMIC_RELAXED);
	else if (ours)
		__atomic_store_n((int64_t *)cb->value, v, __ATOMIC_RELAXED);
	reg_unlock(reg);
	return ours;
}

static void drop(struct callbacks *c, uint32_t id)
{
	pthread_mutex_lock(&c->lock);
	for (size_t j = 0; j < c->n; j++) {
		if (c->v[j].id == id) {
			c->v[j] = c->v[--c->n];
			break;
		}
	}
	pthread_mutex_unlock(&c->lock);
}

void callbacks_run(scales_registry *reg)
{
	struct callbacks *c = reg->callbacks;
	if (!c)
		return;
	pthread_mutex_lock(&c->round);
	pthread_mutex_lock(&c->lock);
	size_t n = c->n;
	struct callback *copy = n ? malloc(n * sizeof *copy) : NULL;
	if (copy)
		memcpy(copy, c->v, n * sizeof *copy);
	pthread_mutex_unlock(&c->lock);
	for (size_t i = 0; copy && i < n; i++) {
		struct callback *cb = &copy[i];
		pthread_mutex_lock(&c->lock);
		bool alive = false;
		for (size_t j = 0; j < c->n; j++)
			if (c->v[j].id == cb->id) {
				*cb = c->v[j]; /* fn may have been replaced */
				alive = true;
			}
		if (alive) {
			c->running_id = cb->id;
			c->running_idx = cb->idx;
		}
		pthread_mutex_unlock(&c->lock);
		if (!alive)
			continue;

		double f = 0;
		int64_t v = 0;
		if (cb->kind == SCALES_SHM_GAUGE_F64)
			f = cb->fn_f64(cb->arg);
		else
			v = cb->fn_i64(cb->arg);

		pthread_mutex_lock(&c->lock);
		bool listed = false;
		for (size_t j = 0; j < c->n; j++)
			listed |= c->v[j].id == cb->id;
		/* Not running any more: a retirement in this process may go
		 * on (it holds the registry lock and waits for this). */
		c->running_id = 0;
		c->running_idx = UINT32_MAX;
		pthread_cond_broadcast(&c->idle);
		pthread_mutex_unlock(&c->lock);
		if (listed && !store_result(reg, cb, f, v))
			drop(c, cb->id);
	}
	free(copy);
	pthread_mutex_unlock(&c->round);
}

static void *callback_main(void *arg)
{
	scales_registry *reg = arg;
	struct callbacks *c = reg->callbacks;
	uint64_t period = (uint64_t)reg->sampler_interval_ms * 1000000u;
	uint64_t next = now_ns(CLOCK_MONOTONIC);
	pthread_mutex_lock(&c->lock);
	while (!c->stop) {
		pthread_mutex_unlock(&c->lock);
		callbacks_run(reg);
		pthread_mutex_lock(&c->lock);
		next += period;
		uint64_t now = now_ns(CLOCK_MONOTONIC);
		if (next < now)
			next = now + period;
		struct timespec ts = { (time_t)(next / 1000000000u),
			               (long)(next % 1000000000u) };
		while (!c->stop && pthread_cond_timedwait(&c->wake, &c->lock,
		                                          &ts) != ETIMEDOUT)
			;
	}
	pthread_mutex_unlock(&c->lock);
	return NULL;
}

/* Registry lock held. Drops entry idx's callback, waiting until it is not
 * running (see the bound in the header comment). */
void callback_forget(scales_registry *reg, uint32_t idx)
{
	struct callbacks *c = reg->callbacks;
	if (!c)
		return;
	pthread_mutex_lock(&c->lock);
	for (size_t j = 0; j < c->n; j++) {
		if (c->v[j].idx == idx) {
			c->v[j] = c->v[--c->n];
			break;
		}
	}
	while (c->running_id != 0 && c->running_idx == idx)
		pthread_cond_wait(&c->idle, &c->lock);
	pthread_mutex_unlock(&c->lock);
}

int callback_add(scales_registry *reg, const struct index_node *n,
                 scales_gauge_fn f, scales_gauge_i64_fn i, void *arg)
{
	struct callbacks *c = reg->callbacks;
	int rc = 0;
	pthread_mutex_lock(&c->lock);
	struct callback *cb = NULL;
	for (size_t j = 0; j < c->n; j++)
		if (c->v[j].idx == n->entry)
			cb = &c->v[j];
	if (!cb) {
		if (c->n == c->cap) {
			size_t cap = c->cap ? 2 * c->cap : 8;
			struct callback *v = realloc(c->v, cap * sizeof *v);
			if (!v) {
				pthread_mutex_unlock(&c->lock);
				return -ENOMEM;
			}
			c->v = v;
			c->cap = cap;
		}
		cb = &c->v[c->n++];
		cb->id = c->next_id++;
		if (c->next_id == 0)
			c->next_id = 1;
	}
	cb->idx = n->entry;
	cb->generation = n->generation;
	cb->kind = n->kind;
	cb->value = n->kind == SCALES_SHM_GAUGE_F64 ?
	                (void *)n->handle.gauge_f64.value :
	                (void *)n->handle.gauge.value;
	cb->fn_f64 = f;
	cb->fn_i64 = i;
	cb->arg = arg;
	if (!c->started && !(reg->flags & SCALES_NO_SAMPLER) &&
	    reg->creator == getpid()) {
		sigset_t all, old;
		sigfillset(&all);
		pthread_sigmask(SIG_SETMASK, &all, &old);
		rc = -pthread_create(&c->thread, NULL, callback_main, reg);
		pthread_sigmask(SIG_SETMASK, &old, NULL);
		c->started = rc == 0;
	}
	pthread_mutex_unlock(&c->lock);
	return rc;
}

static int gauge_callback(scales_registry *reg, const char *path,
                          const struct scales_info *info, uint16_t kind,
                          scales_gauge_fn f, scales_gauge_i64_fn i, void *arg)
{
	if (!f && !i)
		return -EINVAL;
	struct index_node n;
	int rc = stat_register(reg, path, kind, info, NULL, 0, &n);
	if (rc)
		return rc;
	return callback_add(reg, &n, f, i, arg);
}

SCALES_API int scales_gauge_callback(scales_registry *reg, const char *path,
                                     const struct scales_info *info,
                                     scales_gauge_fn fn, void *arg)
{
	return gauge_callback(reg, path, info, SCALES_SHM_GAUGE_F64, fn, NULL,
	                      arg);
}

SCALES_API int scales_gauge_callback_i64(scales_registry *reg, const char *path,
                                         const struct scales_info *info,
                                         scales_gauge_i64_fn fn, void *arg)
{
	return gauge_callback(reg, path, info, SCALES_SHM_GAUGE_I64, NULL, fn,
	                      arg);
}

SCALES_API int scales_sample(scales_registry *reg)
{
	int rc = reg_check(reg);
	if (rc)
		return rc;
	callbacks_run(reg);
	return 0;
}
