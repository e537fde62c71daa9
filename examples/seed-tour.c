/* SPDX-License-Identifier: MIT */
/*
 * seed-tour: the examples of the Python scales README, in C, with fixed
 * numbers that the tests check:
 *
 *   /web/errors 7, /web/success 1000, /web/currentTime (a callback gauge);
 *   /handler/requests 100, /handler/latency fed 1 ms, 2 ms, ..., 100 ms;
 *   /processor/finished = sum of the children's finished (10 + 20 + 30),
 *   /processor/state/<value> = how many children are in each state.
 *
 * Prints "ready" once every update is done and every callback gauge has
 * been sampled, then waits for SIGTERM or SIGINT and removes its segment.
 * The app name is "seed-tour" unless $SCALES_APP says otherwise.
 */
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include <scales/scales.h>

/* "Simple use": a collection at /web. */
struct web_stats {
	scales_counter errors;
	scales_counter success;
};

static const struct scales_stat_desc web_desc[] = {
	SCALES_DESC_COUNTER(struct web_stats, errors, "requests that failed"),
	SCALES_DESC_COUNTER(struct web_stats, success, "requests that worked"),
	SCALES_DESC_END
};

/* "Class stats": a handler with requests and latency. */
struct handler {
	scales_counter requests;
	scales_histogram latency;
};

static const struct scales_stat_desc handler_desc[] = {
	SCALES_DESC_COUNTER(struct handler, requests, "requests handled"),
	SCALES_DESC_HISTOGRAM(struct handler, latency, SCALES_UNIT_SECONDS,
	                      "time to handle a request"),
	SCALES_DESC_END
};

/* "Hierarchical stats + aggregation": a processor and its threads. */
static const struct scales_stat_desc processor_desc[] = {
	SCALES_DESC_STATES("state", "threads in each state"),
	SCALES_DESC_SUM("finished", "tasks finished by all threads"),
	SCALES_DESC_END
};

struct some_thread {
	scales_state state;
	scales_counter finished;
};

static const struct scales_stat_desc thread_desc[] = {
	SCALES_DESC_STATE(struct some_thread, state, "what the thread does"),
	SCALES_DESC_COUNTER(struct some_thread, finished, "tasks finished"),
	SCALES_DESC_END
};

struct worker {
	scales_scope *processor;
	int id;
	int tasks;
	const char *final_state;
	int rc;
};

static double current_time(void *arg)
{
	(void)arg;
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void *processing_loop(void *arg)
{
	struct worker *w = arg;
	scales_scope *scope;
	struct some_thread t;
	w->rc = scales_scope_child(w->processor, &scope, "thread-%d", w->id);
	if (w->rc)
		return NULL;
	w->rc = scales_bind(scope, thread_desc, &t);
	if (w->rc)
		return NULL;
	uint32_t waiting, performing;
	scales_registry *reg = t.state.reg;
	if (scales_state_intern(reg, "waitingForTask", &waiting) ||
	    scales_state_intern(reg, "performingTask", &performing)) {
		w->rc = -1;
		return NULL;
	}
	for (int i = 0; i < w->tasks; i++) {
		scales_state_set(&t.state, waiting);
		scales_state_set(&t.state, performing);
		scales_counter_inc(&t.finished);
	}
	w->rc = scales_state_set_str(&t.state, w->final_state);
	/* The scope stays: the thread's stats are part of the tour. */
	return NULL;
}

static int fail(const char *what, int rc)
{
	fprintf(stderr, "seed-tour: %s: %s\n", what, scales_strerror(rc));
	return 1;
}

int main(void)
{
	sigset_t stop;
	sigemptyset(&stop);
	sigaddset(&stop, SIGTERM);
	sigaddset(&stop, SIGINT);
	pthread_sigmask(SIG_BLOCK, &stop, NULL); /* inherited by threads */

	struct scales_options opts;
	scales_options_init(&opts);
	if (!getenv("SCALES_APP"))
		opts.app = "seed-tour";
	scales_registry *reg;
	int rc = scales_open(&opts, &reg);
	if (rc)
		return fail("opening the segment", rc);

	scales_scope *web, *handler_scope, *processor;
	struct web_stats web_stats;
	struct handler handler;
	if ((rc = scales_scope_root(reg, &web, "/web")) ||
	    (rc = scales_bind(web, web_desc, &web_stats)))
		return fail("/web", rc);
	rc = scales_gauge_callback(reg, "/web/currentTime",
	                           &(struct scales_info){ "wall-clock time",
	                                                  SCALES_UNIT_SECONDS },
	                           current_time, NULL);
	if (rc)
		return fail("/web/currentTime", rc);
	for (int i = 0; i < 7; i++)
		scales_counter_inc(&web_stats.errors);
	for (int i = 0; i < 1000; i++)
		scales_counter_inc(&web_stats.success);

	if ((rc = scales_scope_root(reg, &handler_scope, "/handler")) ||
	    (rc = scales_bind(handler_scope, handler_desc, &handler)))
		return fail("/handler", rc);
	for (int ms = 1; ms <= 100; ms++) {
		scales_counter_inc(&handler.requests);
		scales_histogram_record(&handler.latency,
		                        (uint64_t)ms * 1000000u); /* ns */
	}

	if ((rc = scales_scope_root(reg, &processor, "/processor")) ||
	    (rc = scales_bind(processor, processor_desc, NULL)))
		return fail("/processor", rc);
	struct worker workers[3] = {
		{ processor, 0, 10, "waitingForTask", 0 },
		{ processor, 1, 20, "waitingForTask", 0 },
		{ processor, 2, 30, "performingTask", 0 },
	};
	pthread_t threads[3];
	for (int i = 0; i < 3; i++)
		if (pthread_create(&threads[i], NULL, processing_loop,
		                   &workers[i]))
			return fail("starting a thread", -1);
	for (int i = 0; i < 3; i++) {
		pthread_join(threads[i], NULL);
		if (workers[i].rc)
			return fail("a processor thread", workers[i].rc);
	}

	scales_sample(reg); /* every callback gauge has a value */
	printf("ready\n");
	fflush(stdout);

	int sig;
	sigwait(&stop, &sig);
	scales_scope_release(&processor); /* and its thread-N children */
	scales_scope_release(&handler_scope);
	scales_scope_release(&web);
	scales_close(&reg);
	return 0;
}
