/* SPDX-License-Identifier: MIT */
/*
 * many.c: the readers over many processes (issue 17, item 2). scales-crowd
 * starts nproc writer processes (80 counters and 20 default histograms
 * each) with their segments in a private directory on tmpfs; then
 *
 *   many_top_json     one `scales-top -1 --json` over all of them
 *   many_export_once  one `scales-export --once --stdout` pass
 *   many_top_refresh  one refresh of the live scales-top (curses, under a
 *                     pseudo-terminal): the CPU of N2 refreshes minus that
 *                     of N1, divided by N2 - N1, as top.c does; the median
 *                     of rounds of such pairs
 *
 * CPU is user + system from wait4(). Private memory (the *_private rows,
 * bytes) is the largest "Anonymous" of the tool's /proc/PID/smaps_rollup,
 * sampled every 2 ms while it runs: what it allocated, not the shared
 * segment pages it maps (those count in its maximum RSS, which is logged
 * too). Sampling can miss a short peak: a lower bound.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pty.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "bench.h"

/* The refreshes of the live view from the fifth on: the first snapshot of
 * a segment is cold (pread()), the second maps it, the third and fourth
 * make the bucket arrays that later ones take again (snapshot.c), and
 * those are what a scales-top left running does. */
#define MANY_N1 5
#define MANY_N2 25

static double ru_ns(const struct rusage *ru)
{
	return (double)ru->ru_utime.tv_sec * 1e9 +
	       (double)ru->ru_utime.tv_usec * 1e3 +
	       (double)ru->ru_stime.tv_sec * 1e9 +
	       (double)ru->ru_stime.tv_usec * 1e3;
}

/* The "Anonymous:" line of /proc/pid/smaps_rollup in bytes, or -1. */
static double anon_bytes(pid_t pid)
{
	char p[64], line[256];
	snprintf(p, sizeof p, "/proc/%d/smaps_rollup", (int)pid);
	FILE *f = fopen(p, "re");
	if (!f)
		return -1;
	double v = -1;
	while (fgets(line, sizeof line, f)) {
		unsigned long kb;
		if (sscanf(line, "Anonymous: %lu kB", &kb) == 1) {
			v = (double)kb * 1024;
			break;
		}
	}
	fclose(f);
	return v;
}

struct run {
	double cpu_ns;  /* user + system */
	double anon;    /* largest sampled Anonymous, bytes */
	long maxrss_kb; /* ru_maxrss: includes the mapped segment pages */
};

/* Runs argv with stdout to /dev/null; false if it failed. */
static bool run_tool(char *const argv[], struct run *out)
{
	/* The child's memory is sampled only once it runs the tool: until
	 * execv() it is a copy of this process, whose anonymous memory (the
	 * million-metric segments' snapshots) would be counted as the
	 * tool's. The pipe's write end closes on exec. */
	int ex[2];
	if (pipe2(ex, O_CLOEXEC) != 0)
		bench_die("pipe2: %s", strerror(errno));
	fflush(NULL);
	pid_t child = fork();
	if (child < 0)
		bench_die("fork: %s", strerror(errno));
	if (child == 0) {
		close(ex[0]);
		int fd = open("/dev/null", O_WRONLY);
		if (fd >= 0)
			dup2(fd, 1);
		execv(argv[0], argv);
		_exit(127);
	}
	close(ex[1]);
	char c;
	while (read(ex[0], &c, 1) < 0 && errno == EINTR)
		;
	close(ex[0]);
	out->anon = 0;
	int st;
	struct rusage ru;
	pid_t w;
	for (;;) {
		w = wait4(child, &st, WNOHANG, &ru);
		if (w == child || (w < 0 && errno != EINTR))
			break;
		double a = anon_bytes(child);
		if (a > out->anon)
			out->anon = a;
		struct timespec ts = { 0, 2000000 };
		nanosleep(&ts, NULL);
	}
	if (w != child || !WIFEXITED(st) || WEXITSTATUS(st) != 0) {
		bench_log("  many: %s exited with status %d\n", argv[0],
		          w == child && WIFEXITED(st) ? WEXITSTATUS(st) : -1);
		return false;
	}
	out->cpu_ns = ru_ns(&ru);
	out->maxrss_kb = ru.ru_maxrss;
	return true;
}

/* Rounds of one one-shot tool: rows name (CPU ns) and name_private. */
static void one_shot(const char *name, char *const argv[], int rounds)
{
	double cpu[BENCH_MAX_ROUNDS], mem[BENCH_MAX_ROUNDS];
	int n = 0;
	long rss = 0;
	for (int i = 0; i < rounds; i++) {
		struct run r;
		if (!run_tool(argv, &r))
			return;
		cpu[n] = r.cpu_ns;
		mem[n++] = r.anon;
		if (r.maxrss_kb > rss)
			rss = r.maxrss_kb;
	}
	result_add(name, 1, bench_median(cpu, n), bench_min(cpu, n),
	           bench_max(cpu, n), n);
	char pname[64];
	snprintf(pname, sizeof pname, "%s_private", name);
	result_add_bytes(pname, bench_median(mem, n), bench_min(mem, n),
	                 bench_max(mem, n), n);
	bench_log("  %s: maximum RSS (with the shared segment pages, and this "
	          "process's own, which the fork copied before exec) %ld KiB\n",
	          name, rss);
}

/* CPU of scales-top's live view for n refreshes over dir, or -1. */
static double live_cpu_ns(const char *top, const char *dir, long n)
{
	char refreshes[32];
	snprintf(refreshes, sizeof refreshes, "--refreshes=%ld", n);
	struct winsize ws = { .ws_row = 50, .ws_col = 160 };
	int master;
	fflush(NULL);
	pid_t child = forkpty(&master, NULL, NULL, &ws);
	if (child < 0)
		return -1;
	if (child == 0) {
		setenv("TERM", "xterm-256color", 1);
		char *argv[] = { (char *)top,  (char *)"-d",   (char *)dir,
			         (char *)"-i", (char *)"0.01", refreshes,
			         NULL };
		execv(top, argv);
		_exit(127);
	}
	char buf[65536];
	for (;;) {
		ssize_t r = read(master, buf, sizeof buf);
		if (r > 0 || (r < 0 && errno == EINTR))
			continue;
		break; /* EIO: the child closed the terminal */
	}
	int st;
	struct rusage ru;
	pid_t w;
	while ((w = wait4(child, &st, 0, &ru)) < 0 && errno == EINTR)
		;
	close(master);
	if (w != child || !WIFEXITED(st) || WEXITSTATUS(st) != 0)
		return -1;
	return ru_ns(&ru);
}

/*
 * Row many_top_refresh: per round, a run of N1 refreshes and one of N2,
 * alternated, (N2 - N1) refreshes' worth of CPU each; the median of the
 * rounds. Two runs' start-ups differ by tens of milliseconds (the first
 * pass is cold), so one pair could even come out negative (it did, -52 ms,
 * with N2 = 15): twenty refreshes apart and several rounds.
 */
static void live_refresh(const char *top, const char *dir, int rounds)
{
	double v[BENCH_MAX_ROUNDS];
	int n = 0;
	for (int i = 0; i < rounds; i++) {
		double a = live_cpu_ns(top, dir, MANY_N1);
		double b = a < 0 ? -1 : live_cpu_ns(top, dir, MANY_N2);
		if (a < 0 || b < 0) {
			bench_log("  many_top_refresh: scales-top failed\n");
			return;
		}
		v[n++] = (b - a) / (MANY_N2 - MANY_N1);
	}
	if (n)
		result_add("many_top_refresh", 1, bench_median(v, n),
		           bench_min(v, n), bench_max(v, n), n);
}

static void remove_all(const char *dir)
{
	DIR *d = opendir(dir);
	if (d) {
		struct dirent *e;
		while ((e = readdir(d)) != NULL)
			if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
				unlinkat(dirfd(d), e->d_name, 0);
		closedir(d);
	}
	rmdir(dir);
}

static bool executable(const char *p)
{
	struct stat st;
	return p && stat(p, &st) == 0 && (st.st_mode & S_IXUSR);
}

int bench_many(const struct many_config *cfg)
{
	if (!executable(cfg->crowd)) {
		bench_log("many: skipped (no scales-crowd)\n");
		return 0;
	}
	char dir[64];
	snprintf(dir, sizeof dir, "/dev/shm/scales-many.XXXXXX");
	if (!mkdtemp(dir)) {
		bench_log("many: skipped (mkdtemp in /dev/shm: %s)\n",
		          strerror(errno));
		return 0;
	}
	uint64_t t0 = bench_now_ns();
	bench_log("many: starting %d writer processes\n", cfg->nproc);
	int in[2], out[2];
	if (pipe(in) || pipe(out))
		bench_die("pipe: %s", strerror(errno));
	fflush(NULL);
	pid_t crowd = fork();
	if (crowd < 0)
		bench_die("fork: %s", strerror(errno));
	if (crowd == 0) {
		dup2(in[0], 0);
		dup2(out[1], 1);
		close(in[1]);
		close(out[0]);
		setenv("SCALES_DIR", dir, 1);
		char n[32];
		snprintf(n, sizeof n, "%d", cfg->nproc);
		char *argv[] = { (char *)cfg->crowd, n, NULL };
		execv(cfg->crowd, argv);
		_exit(127);
	}
	close(in[0]);
	close(out[1]);
	char line[64] = "";
	FILE *f = fdopen(out[0], "r");
	if (!f || !fgets(line, sizeof line, f) || strncmp(line, "ready", 5)) {
		close(in[1]);
		waitpid(crowd, NULL, 0);
		remove_all(dir);
		bench_die("many: scales-crowd did not start its processes");
	}
	bench_log("many: %d processes ready in %.1f s\n", cfg->nproc,
	          (double)(bench_now_ns() - t0) / 1e9);

	if (executable(cfg->top)) {
		char *argv[] = { (char *)cfg->top, (char *)"-d",     dir,
			         (char *)"-1",     (char *)"--json", NULL };
		one_shot("many_top_json", argv, cfg->rounds);
	}
	if (executable(cfg->export_)) {
		char *argv[] = { (char *)cfg->export_,
			         (char *)"-d",
			         dir,
			         (char *)"--once",
			         (char *)"--stdout",
			         (char *)"-p",
			         (char *)"bench",
			         NULL };
		one_shot("many_export_once", argv, cfg->rounds);
	}
	if (executable(cfg->top))
		live_refresh(cfg->top, dir, cfg->rounds);

	close(in[1]); /* the crowd's processes end */
	fclose(f);
	waitpid(crowd, NULL, 0);
	remove_all(dir);
	bench_log("many: %.1f s\n", (double)(bench_now_ns() - t0) / 1e9);
	return 0;
}
