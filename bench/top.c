/* SPDX-License-Identifier: MIT */
/*
 * top.c: top_refresh_10k, the CPU time scales-top spends per refresh of
 * 10,000 metrics in its curses UI. scales-top runs under a pseudo-terminal
 * with --refreshes N against this process's segment; its user + system
 * time comes from wait4(). Two values of N, so that start-up cancels out:
 * (cpu(N2) - cpu(N1)) / (N2 - N1). The terminal is 50 rows by 160
 * columns; scales-top refreshes every 10 ms.
 */
#include <errno.h>
#include <pthread.h>
#include <pty.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "bench.h"

#define TOP_METRICS 10000
#define TOP_N1 10
#define TOP_N2 60

/* Runs scales-top for n refreshes; returns its CPU time in ns, or -1. */
static double top_cpu_ns(const char *top, const char *dir, long n)
{
	char refreshes[32], pid[32];
	snprintf(refreshes, sizeof refreshes, "--refreshes=%ld", n);
	snprintf(pid, sizeof pid, "%d", (int)getpid());
	struct winsize ws = { .ws_row = 50, .ws_col = 160 };
	int master;
	fflush(NULL);
	pid_t child = forkpty(&master, NULL, NULL, &ws);
	if (child < 0) {
		bench_log("  top_refresh_10k: forkpty: %s\n", strerror(errno));
		return -1;
	}
	if (child == 0) {
		setenv("TERM", "xterm-256color", 1);
		unsetenv("SCALES_DIR");
		char *argv[] = {
			(char *)top,    (char *)"-d", (char *)dir, (char *)"-i",
			(char *)"0.01", refreshes,    pid,         NULL
		};
		execv(top, argv);
		_exit(127);
	}
	/* drain the terminal so that scales-top never blocks writing; keep
	 * what it drew if $SCALES_BENCH_TOP_LOG names a file */
	const char *logp = getenv("SCALES_BENCH_TOP_LOG");
	FILE *log = logp && *logp ? fopen(logp, "w") : NULL;
	char buf[65536];
	for (;;) {
		ssize_t r = read(master, buf, sizeof buf);
		if (r > 0) {
			if (log)
				fwrite(buf, 1, (size_t)r, log);
			continue;
		}
		if (r < 0 && errno == EINTR)
			continue;
		break; /* EIO: the child closed the terminal */
	}
	if (log)
		fclose(log);
	int st;
	struct rusage ru;
	pid_t w;
	while ((w = wait4(child, &st, 0, &ru)) < 0 && errno == EINTR)
		;
	close(master);
	if (w != child || !WIFEXITED(st) || WEXITSTATUS(st) != 0) {
		bench_log("  top_refresh_10k: %s exited with status %d\n", top,
		          WIFEXITED(st) ? WEXITSTATUS(st) : -1);
		return -1;
	}
	return (double)ru.ru_utime.tv_sec * 1e9 +
	       (double)ru.ru_utime.tv_usec * 1e3 +
	       (double)ru.ru_stime.tv_sec * 1e9 +
	       (double)ru.ru_stime.tv_usec * 1e3;
}

/* While scales-top runs, every counter changes every 5 ms, so that each
 * refresh has new values and rates to draw (0.2% of a CPU). */
struct churn {
	scales_registry *reg;
	scales_counter c[TOP_METRICS];
	volatile bool stop;
};

static void *churn_main(void *arg)
{
	struct churn *ch = arg;
	while (!ch->stop) {
		for (int i = 0; i < TOP_METRICS; i++)
			scales_counter_add(&ch->c[i], (uint64_t)i % 7 + 1);
		struct timespec ts = { 0, 5000000 };
		nanosleep(&ts, NULL);
	}
	return NULL;
}

int bench_top(const char *dir, const char *top, int rounds)
{
	struct stat st;
	if (!top || stat(top, &st) != 0 || !(st.st_mode & S_IXUSR)) {
		bench_log("top: top_refresh_10k skipped (no scales-top binary "
		          "at %s)\n",
		          top ? top : "(none)");
		return 0;
	}
	bench_log("top: %s, %d refreshes vs %d, %d rounds\n", top, TOP_N2,
	          TOP_N1, rounds);
	static struct churn ch;
	ch.reg = bench_counters_registry(dir, "bench-top", TOP_METRICS);
	for (uint32_t i = 0; i < TOP_METRICS; i++) {
		char p[64];
		bench_counter_path(p, sizeof p, i);
		if (scales_counter_get(ch.reg, p, NULL, &ch.c[i]))
			bench_die("lookup %s", p);
	}
	ch.stop = false;
	pthread_t th;
	if (pthread_create(&th, NULL, churn_main, &ch))
		bench_die("pthread_create");
	double v[BENCH_MAX_ROUNDS];
	int n = 0;
	for (int i = 0; i < rounds; i++) {
		double a = top_cpu_ns(top, dir, TOP_N1);
		double b = a < 0 ? -1 : top_cpu_ns(top, dir, TOP_N2);
		if (a < 0 || b < 0)
			break;
		v[n++] = (b - a) / (TOP_N2 - TOP_N1);
	}
	ch.stop = true;
	pthread_join(th, NULL);
	scales_close(&ch.reg);
	if (n == 0)
		return -1;
	result_add("top_refresh_10k", 1, bench_median(v, n), bench_min(v, n),
	           bench_max(v, n), n);
	return 0;
}
