/* SPDX-License-Identifier: MIT */
/*
 * hard-writer: the writer process of the hardening tests (workload.h).
 *
 *   hard-writer kill     rounds of registrations and increments until
 *                        killed; acks on fd 3
 *   hard-writer shared   the same, plus a forked child writing into the
 *                        same segment; a line on stdin ends the rounds,
 *                        then KILL_FINAL registrations are acked
 *   hard-writer stop     prints "ready <path>", waits for "go", runs the
 *                        fixed multi-threaded workload, prints the totals
 *   hard-writer load     prints "ready <path>", runs LOAD_THREADS threads
 *                        until "stop", prints the totals
 *   hard-writer idle     prints "ready <path>" with a few stats
 *
 * Every mode but kill waits for EOF on stdin before closing its registry.
 * The segment directory is $SCALES_DIR.
 */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <scales/scales.h>

#include "workload.h"

static void die(const char *what, int rc)
{
	fprintf(stderr, "hard-writer: %s: %s\n", what, scales_strerror(rc));
	exit(3);
}

static scales_registry *open_reg(const char *app, uint32_t entries,
                                 uint64_t stripe, uint64_t data,
                                 uint64_t strings)
{
	struct scales_options o;
	scales_options_init(&o);
	o.app = app;
	o.max_entries = entries;
	o.stripe_bytes = stripe;
	o.data_bytes = data;
	o.string_bytes = strings;
	o.sampler_interval_ms = 50; /* heartbeats and callbacks run often */
	scales_registry *reg;
	int rc = scales_open(&o, &reg);
	if (rc)
		die("scales_open", rc);
	return reg;
}

static void ack(uint32_t idx, uint64_t total)
{
	struct ack a = { idx, 0, total };
	if (write(3, &a, sizeof a) != (ssize_t)sizeof a)
		_exit(4); /* the test went away */
}

static void wait_eof(void)
{
	char buf[256];
	while (read(0, buf, sizeof buf) > 0)
		;
}

/* Reads one line from stdin into buf (unbuffered: the rest stays in the
 * pipe). */
static bool read_line(char *buf, size_t n)
{
	size_t i = 0;
	while (i + 1 < n) {
		char ch;
		ssize_t r = read(0, &ch, 1);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return false;
		if (ch == '\n')
			break;
		buf[i++] = ch;
	}
	buf[i] = '\0';
	return true;
}

/* ------------------------------------------------------------ kill mode */

static double cb_value(void *arg)
{
	return (double)(uintptr_t)arg;
}

static void kill_round(scales_registry *reg, uint32_t r, uint32_t base,
                       bool full, uint64_t *totals)
{
	char p[64];
	int rc;
	uint32_t idx = base + r % KILL_NC;
	snprintf(p, sizeof p, "/k/c%u", idx);
	scales_counter c;
	if ((rc = scales_counter_get(reg, p, NULL, &c)))
		die(p, rc);
	if (full && r < KILL_FIRST) {
		struct scales_info info = { "a gauge", SCALES_UNIT_BYTES };
		scales_gauge g;
		snprintf(p, sizeof p, "/k/g%u", r);
		if ((rc = scales_gauge_get(reg, p, &info, &g)))
			die(p, rc);
		scales_gauge_set(&g, r);
		scales_gauge_f64 f;
		snprintf(p, sizeof p, "/k/f%u", r);
		if ((rc = scales_gauge_f64_get(reg, p, NULL, &f)))
			die(p, rc);
		scales_gauge_f64_set(&f, r / 2.0);
		scales_state st;
		snprintf(p, sizeof p, "/k/s%u", r % 4);
		if ((rc = scales_state_get(reg, p, NULL, &st)))
			die(p, rc);
		char v[16];
		snprintf(v, sizeof v, "st%u", r % 5);
		if ((rc = scales_state_set_str(&st, v)))
			die(v, rc);
		struct scales_histogram_config cfg = { 1u << 20, 5, 0, 0 };
		scales_histogram h;
		snprintf(p, sizeof p, "/k/h%u", r % 4);
		if ((rc = scales_histogram_get(reg, p, NULL, &cfg, &h)))
			die(p, rc);
		scales_histogram_record(&h, r % 1000);
		scales_dict d;
		if ((rc = scales_dict_get(reg, "/k/d", NULL, &d)))
			die("/k/d", rc);
		char key[16];
		snprintf(key, sizeof key, "k%u", r % 7);
		if ((rc = scales_dict_add(&d, key, 1)))
			die(key, rc);
		if (r == 1 &&
		    (rc = scales_gauge_callback(reg, "/k/cb", NULL, cb_value,
		                                (void *)(uintptr_t)7)))
			die("/k/cb", rc);
	}
	snprintf(p, sizeof p, "/k/t%u", base + r % 16);
	scales_counter t;
	if ((rc = scales_counter_get(reg, p, NULL, &t)))
		die(p, rc);
	scales_counter_inc(&t);
	if ((rc = scales_retire(reg, p)))
		die(p, rc);

	for (int i = 0; i < KILL_BATCH; i++)
		scales_counter_inc(&c);
	totals[idx] += KILL_BATCH;
	ack(idx, totals[idx]);
}

static bool stdin_ready(void)
{
	struct pollfd p = { 0, POLLIN, 0 };
	return poll(&p, 1, 0) > 0;
}

static int mode_kill(bool shared)
{
	scales_registry *reg = open_reg("hardkill", 512, 65536, 65536, 16384);
	static uint64_t totals[KILL_CHILD_BASE + KILL_NC];
	if (!shared) {
		for (uint32_t r = 0;; r++)
			kill_round(reg, r, 0, true, totals);
	}
	pid_t child = fork();
	if (child < 0)
		die("fork", -errno);
	if (child == 0) {
		for (uint32_t r = 0;; r++)
			kill_round(reg, r, KILL_CHILD_BASE, false, totals);
	}
	ack(ACK_CHILD_PID, (uint64_t)child);
	uint32_t r = 0;
	while (!stdin_ready())
		kill_round(reg, r++, 0, true, totals);
	/* the child is dead now (maybe inside the registry lock): register
	 * more, which must repair the lock and succeed */
	int ok = 0;
	for (int i = 0; i < KILL_FINAL; i++) {
		char p[64];
		snprintf(p, sizeof p, "/k/final%d", i);
		scales_counter c;
		int rc = scales_counter_get(reg, p, NULL, &c);
		if (rc) {
			fprintf(stderr, "hard-writer: %s: %s\n", p,
			        scales_strerror(rc));
			ack(ACK_FINAL_ERR, (uint64_t)-rc);
		} else {
			scales_counter_add(&c, (uint64_t)i);
			ok++;
		}
	}
	ack(ACK_FINAL, (uint64_t)ok);
	wait_eof();
	scales_close(&reg);
	return 0;
}

/* ---------------------------------------------------- stop, load modes */

struct worker {
	pthread_t tid;
	scales_registry *reg;
	int k;
	uint64_t iters; /* stop: fixed; load: until stop */
	uint64_t done;  /* updates made */
	int errors;
};

static atomic_bool stopping;
static scales_counter total;
static scales_histogram lat;

static void *work(void *arg)
{
	struct worker *w = arg;
	char p[64];
	int rc;
	scales_counter mine;
	snprintf(p, sizeof p, "/w/t%d", w->k);
	if ((rc = scales_counter_get(w->reg, p, NULL, &mine))) {
		fprintf(stderr, "hard-writer: %s: %s\n", p,
		        scales_strerror(rc));
		w->errors++;
	}
	scales_gauge g;
	snprintf(p, sizeof p, "/w/g%d", w->k);
	if ((rc = scales_gauge_get(w->reg, p, NULL, &g)))
		w->errors++;
	scales_state st;
	if ((rc = scales_state_get(w->reg, "/w/state", NULL, &st)))
		w->errors++;
	uint32_t ids[2];
	if (scales_state_intern(w->reg, "busy", &ids[0]) ||
	    scales_state_intern(w->reg, "idle", &ids[1]))
		w->errors++;
	uint64_t i = 0, j = 0;
	for (; w->iters ? i < w->iters : !atomic_load(&stopping); i++) {
		scales_counter_inc(&total);
		scales_counter_inc(&mine);
		scales_histogram_record(&lat, i % 1000);
		if (i % 1024 == 0) {
			scales_gauge_set(&g, (int64_t)i);
			scales_state_set(&st, ids[(i / 1024) & 1]);
		}
		if (i % DYN_EVERY == 0) {
			scales_counter d;
			snprintf(p, sizeof p, "/w/dyn/%d/%llu", w->k,
			         (unsigned long long)j);
			if ((rc = scales_counter_get(w->reg, p, NULL, &d))) {
				fprintf(stderr, "hard-writer: %s: %s\n", p,
				        scales_strerror(rc));
				w->errors++;
			}
			scales_counter_add(&d, j + 1);
			if (j >= DYN_KEEP) {
				snprintf(p, sizeof p, "/w/dyn/%d/%llu", w->k,
				         (unsigned long long)(j - DYN_KEEP));
				if ((rc = scales_retire(w->reg, p))) {
					fprintf(stderr,
					        "hard-writer: retire %s: %s\n",
					        p, scales_strerror(rc));
					w->errors++;
				}
			}
			j++;
		}
	}
	w->done = i;
	return NULL;
}

static int mode_threads(bool load)
{
	int nthreads = load ? LOAD_THREADS : STOP_THREADS;
	scales_registry *reg = open_reg(load ? "hardload" : "hardstop", 4096,
	                                1 << 20, 65536, 262144);
	int rc;
	if ((rc = scales_counter_get(reg, "/w/total", NULL, &total)))
		die("/w/total", rc);
	if ((rc = scales_histogram_get(reg, "/w/lat", NULL, NULL, &lat)))
		die("/w/lat", rc);
	/* many stats, so that a snapshot takes a while to copy */
	for (int i = 0; i < STOP_PRE; i++) {
		char p[64];
		snprintf(p, sizeof p, "/w/pre/%d", i);
		scales_counter c;
		if ((rc = scales_counter_get(reg, p, NULL, &c)))
			die(p, rc);
		scales_counter_add(&c, (uint64_t)i);
	}
	printf("ready %s\n", scales_registry_path(reg));
	fflush(stdout);
	char line[64];
	if (!load && (!read_line(line, sizeof line) || strcmp(line, "go")))
		die("waiting for go", -EPIPE);

	struct worker w[LOAD_THREADS];
	memset(w, 0, sizeof w);
	for (int k = 0; k < nthreads; k++) {
		w[k].reg = reg;
		w[k].k = k;
		w[k].iters = load ? 0 : STOP_ITERS;
		if ((rc = pthread_create(&w[k].tid, NULL, work, &w[k])))
			die("pthread_create", -rc);
	}
	if (load) {
		while (read_line(line, sizeof line) && strcmp(line, "stop"))
			;
		atomic_store(&stopping, true);
	}
	uint64_t sum = 0;
	int errors = 0;
	for (int k = 0; k < nthreads; k++) {
		pthread_join(w[k].tid, NULL);
		printf("count %d %llu\n", k, (unsigned long long)w[k].done);
		sum += w[k].done;
		errors += w[k].errors;
	}
	printf("total %llu\nerrors %d\ndone\n", (unsigned long long)sum,
	       errors);
	fflush(stdout);
	wait_eof();
	scales_close(&reg);
	return 0;
}

/* ------------------------------------------------------------ idle mode */

static int mode_idle(void)
{
	scales_registry *reg = open_reg("hardidle", 64, 65536, 4096, 8192);
	scales_counter c;
	scales_gauge g;
	int rc;
	if ((rc = scales_counter_get(reg, "/i/c", NULL, &c)) ||
	    (rc = scales_gauge_get(reg, "/i/g", NULL, &g)))
		die("idle", rc);
	scales_counter_add(&c, 42);
	scales_gauge_set(&g, -5);
	printf("ready %s\n", scales_registry_path(reg));
	fflush(stdout);
	wait_eof();
	scales_close(&reg);
	return 0;
}

int main(int argc, char **argv)
{
	const char *mode = argc > 1 ? argv[1] : "";
	if (!strcmp(mode, "kill"))
		return mode_kill(false);
	if (!strcmp(mode, "shared"))
		return mode_kill(true);
	if (!strcmp(mode, "stop"))
		return mode_threads(false);
	if (!strcmp(mode, "load"))
		return mode_threads(true);
	if (!strcmp(mode, "idle"))
		return mode_idle();
	fprintf(stderr, "usage: hard-writer kill|shared|stop|load|idle\n");
	return 2;
}
