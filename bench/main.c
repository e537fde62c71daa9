/* SPDX-License-Identifier: MIT */
/*
 * main.c: scales-bench, the benchmark program of `make bench`.
 *
 *   scales-bench [--json PATH] [--top PATH] [--export PATH]
 *                [--crowd PATH] [--rounds N] [--quick] [--no-1m]
 *                [--only hot|readers|snapshots|top|many|sharing|memory]
 *
 * Runs every benchmark in one process, prints a table and the target
 * ratios of issue 7 (PASS or MISS: a miss is reported, not an error) and
 * writes the medians to PATH as {"machine": ..., "results": [...]}.
 * Exits non-zero only if something is wrong (a lost increment, a failed
 * call), never because a target was missed.
 */
#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bench.h"

static void usage(FILE *f)
{
	fputs("usage: scales-bench [--json PATH] [--top PATH] [--export PATH]\n"
	      "                    [--crowd PATH] [--rounds N] [--quick] "
	      "[--no-1m]\n"
	      "                    [--only "
	      "hot|readers|snapshots|top|many|sharing|memory]\n",
	      f);
}

static int targets_missed;

/* Prints one target line: value against limit. */
static void target(const char *what, double value, bool le, double limit)
{
	if (isnan(value)) {
		printf("  n/a   %-58s (not measured)\n", what);
		return;
	}
	bool ok = le ? value <= limit : value >= limit;
	if (!ok)
		targets_missed++;
	printf("  %-5s %-58s %10.3g  (target %s %g)\n", ok ? "PASS" : "MISS",
	       what, value, le ? "<=" : ">=", limit);
}

/* Aggregate throughput at 2 threads over throughput at 1 thread. */
static double scaling(const char *name)
{
	return 2.0 * result_get(name, 1) / result_get(name, 2);
}

static void print_targets(void)
{
	printf("\ntargets (ratios of medians from this run):\n");
	double plain1 = result_get("plain_add", 1);
	target("counter_inc / plain_add, 1 thread",
	       result_get("counter_inc", 1) / plain1, true, 3);
	double ps = scaling("plain_add");
	printf("        (2-thread scaling: plain_add %.3f, counter_inc %.3f, "
	       "histogram_record %.3f)\n",
	       ps, scaling("counter_inc"), scaling("histogram_record"));
	target("counter_inc 2-thread scaling / plain_add's",
	       scaling("counter_inc") / ps, false, 0.9);
	target("shared_atomic / counter_inc, 2 threads",
	       result_get("shared_atomic", 2) / result_get("counter_inc", 2),
	       false, 5);
	target("udp_datagram / counter_inc, 1 thread",
	       result_get("udp_datagram", 1) / result_get("counter_inc", 1),
	       false, 1000);
	target("histogram_record / plain_add, 1 thread",
	       result_get("histogram_record", 1) / plain1, true, 12);
	target("histogram_record 2-thread scaling / plain_add's",
	       scaling("histogram_record") / ps, false, 0.9);
	target("timer_pair / clock_gettime_pair, 1 thread (below 1)",
	       result_get("timer_pair", 1) /
	           result_get("clock_gettime_pair", 1),
	       true, 0.999);
	target("snapshot_100k / memcpy_100k",
	       result_get("snapshot_100k", 1) / result_get("memcpy_100k", 1),
	       true, 5);
	target("render_graphite_100k in ms",
	       result_get("render_graphite_100k", 1) / 1e6, true, 100);
	target("top_refresh_10k in ms (CPU per refresh)",
	       result_get("top_refresh_10k", 1) / 1e6, true, 20);
	/* issue 17 */
	target("counter_inc / plain_add, 1 thread (issue 17)",
	       result_get("counter_inc", 1) / plain1, true, 2);
	target("histogram_record / plain_add, 1 thread (issue 17)",
	       result_get("histogram_record", 1) / plain1, true, 5);
	target("timer_pair / tsc_pair_record, 1 thread",
	       result_get("timer_pair", 1) / result_get("tsc_pair_record", 1),
	       true, 1.3);
	target("snapshot_100k / memcpy_100k (issue 17)",
	       result_get("snapshot_100k", 1) / result_get("memcpy_100k", 1),
	       true, 2);
	target("snapshot_1m in ms", result_get("snapshot_1m", 1) / 1e6, true,
	       20);
	target("render_json_100k in ms",
	       result_get("render_json_100k", 1) / 1e6, true, 20);
	target("render_graphite_1m in ms",
	       result_get("render_graphite_1m", 1) / 1e6, true, 1000);
	target("render_prom_1m in ms", result_get("render_prom_1m", 1) / 1e6,
	       true, 1000);
	target("many_top_json in ms (CPU)",
	       result_get("many_top_json", 1) / 1e6, true, 100);
	target("many_top_json_private in MiB",
	       result_get("many_top_json_private", 1) / 1048576, true, 64);
	target("many_export_once in ms (CPU)",
	       result_get("many_export_once", 1) / 1e6, true, 100);
	target("many_export_once_private in MiB",
	       result_get("many_export_once_private", 1) / 1048576, true, 64);
	target("many_top_refresh in ms (CPU per refresh)",
	       result_get("many_top_refresh", 1) / 1e6, true, 50);
	target("default histogram, threads on 2 of 1024 possible CPUs, "
	       "bytes",
	       result_get("mem_histogram_on2_of1024", 1), true, 65536);
	target("counter, threads on 2 of 1024 possible CPUs, bytes",
	       result_get("mem_counter_on2_of1024", 1), true, 512);
	target("default histogram, threads on all of 8 possible CPUs, bytes",
	       result_get("mem_histogram_onall_of8", 1), true, 65536);
	target("counter, threads on all of 8 possible CPUs, bytes",
	       result_get("mem_counter_onall_of8", 1), true, 512);
	printf("%d target(s) missed\n", targets_missed);
}

static char seg_dir[64];

/* Removes the segment directory (segments left by a failed run too). */
static void remove_dir(void)
{
	if (!seg_dir[0])
		return;
	DIR *d = opendir(seg_dir);
	if (d) {
		struct dirent *e;
		while ((e = readdir(d)) != NULL)
			if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
				unlinkat(dirfd(d), e->d_name, 0);
		closedir(d);
	}
	if (rmdir(seg_dir) != 0)
		fprintf(stderr, "scales-bench: could not remove %s: %s\n",
		        seg_dir, strerror(errno));
	seg_dir[0] = 0;
}

int main(int argc, char **argv)
{
	const char *json = NULL, *top = NULL, *only = NULL;
	const char *export_ = NULL, *crowd = NULL;
	int rounds = 31;
	bool big = true, quick = false;
	static const struct option lo[] = {
		{ "json", required_argument, NULL, 'j' },
		{ "top", required_argument, NULL, 't' },
		{ "export", required_argument, NULL, 'e' },
		{ "crowd", required_argument, NULL, 'c' },
		{ "rounds", required_argument, NULL, 'r' },
		{ "quick", no_argument, NULL, 'q' },
		{ "no-1m", no_argument, NULL, 'n' },
		{ "only", required_argument, NULL, 'o' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c;
	while ((c = getopt_long(argc, argv, "j:t:e:c:r:qno:h", lo, NULL)) !=
	       -1) {
		switch (c) {
		case 'j':
			json = optarg;
			break;
		case 't':
			top = optarg;
			break;
		case 'e':
			export_ = optarg;
			break;
		case 'c':
			crowd = optarg;
			break;
		case 'r':
			rounds = atoi(optarg);
			if (rounds < 1 || rounds > BENCH_MAX_ROUNDS) {
				fprintf(stderr,
				        "scales-bench: rounds 1 to %d\n",
				        BENCH_MAX_ROUNDS);
				return 2;
			}
			break;
		case 'q':
			quick = true;
			break;
		case 'n':
			big = false;
			break;
		case 'o':
			only = optarg;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind != argc ||
	    (only && strcmp(only, "hot") && strcmp(only, "readers") &&
	     strcmp(only, "snapshots") && strcmp(only, "top") &&
	     strcmp(only, "many") && strcmp(only, "sharing") &&
	     strcmp(only, "memory"))) {
		usage(stderr);
		return 2;
	}
	if (quick) {
		rounds = rounds > 5 ? 5 : rounds;
		big = false;
	}

	char machine[512];
	bench_machine(machine, sizeof machine);
	printf("scales-bench: %s\n", machine);
	printf("pinned to CPUs:");
	for (int i = 0; i < bench_ncpus(); i++)
		printf(" %d", bench_cpu(i));
	printf("\n");

	/* segments go to a private directory, on tmpfs if possible */
	char *dir = seg_dir;
	snprintf(seg_dir, sizeof seg_dir, "/dev/shm/scales-bench.XXXXXX");
	if (!mkdtemp(seg_dir)) {
		snprintf(seg_dir, sizeof seg_dir, "/tmp/scales-bench.XXXXXX");
		if (!mkdtemp(seg_dir)) {
			fprintf(stderr, "scales-bench: mkdtemp: %s\n",
			        strerror(errno));
			return 1;
		}
	}
	atexit(remove_dir); /* also after bench_die() */
	setenv("SCALES_DIR", dir, 1);
	uint64_t t0 = bench_now_ns();

	if (!only || strcmp(only, "hot") == 0) {
		struct hot_config hc = { dir, rounds, quick ? 5.0 : 10.0 };
		uint64_t t = bench_now_ns();
		bench_hot(&hc);
		bench_log("hot path: %.1f s\n",
		          (double)(bench_now_ns() - t) / 1e9);
	}
	if (!only || strcmp(only, "readers") == 0) {
		struct reader_config rc = { dir, quick ? 3 : 15, big, false };
		uint64_t t = bench_now_ns();
		bench_readers(&rc);
		bench_log("readers: %.1f s\n",
		          (double)(bench_now_ns() - t) / 1e9);
	}
	if (only && strcmp(only, "snapshots") == 0) {
		struct reader_config rc = { dir, rounds, false, true };
		bench_readers(&rc);
	}
	if (only && strcmp(only, "sharing") == 0) {
		bench_sharing(dir, rounds > 15 ? 15 : rounds);
		return 0;
	}
	if (!only || strcmp(only, "top") == 0)
		bench_top(dir, top, quick ? 1 : 5);
	if (!only || strcmp(only, "many") == 0) {
		struct many_config mc = { top, export_, crowd, 1000,
			                  quick ? 1 : 3 };
		bench_many(&mc);
	}
	if (!only || strcmp(only, "memory") == 0)
		bench_memory();

	remove_dir();
	results_print();
	print_targets();
	printf("total time %.1f s\n", (double)(bench_now_ns() - t0) / 1e9);
	if (json) {
		int rc = results_write_json(json, machine);
		if (rc) {
			fprintf(stderr, "scales-bench: writing %s: %s\n", json,
			        strerror(-rc));
			return 1;
		}
		printf("results written to %s\n", json);
	}
	return 0;
}
