/* SPDX-License-Identifier: MIT */
/*
 * hard-stop: a reader SIGSTOPped in the middle of a snapshot never blocks a
 * writer. Each round: a writer process (hard-writer stop) registers
 * STOP_PRE stats, a reader process (hard-reader) snapshots its segment back
 * to back (so it spends nearly all its time inside scales_snapshot_take()),
 * the reader is SIGSTOPped at a random moment, and only then the writer
 * runs its fixed multi-threaded workload: increments, histogram records,
 * registrations and retirements. The writer must finish (a watchdog of
 * several minutes turns a hang into a failure, it measures no speed) with
 * exact totals; then the reader is continued and must finish without error.
 *
 * Usage: hard-stop HARD-WRITER HARD-READER [ROUNDS]   (default 5). TAP.
 */
#include <scales/reader.h>

#include "proc.h"
#include "workload.h"

static int stopped_inside; /* rounds whose stop hit a snapshot */
static struct fails f_start, f_blocked, f_totals, f_reader, f_exit;

#define WATCHDOG_MS (300 * 1000)

/* The state letter of /proc/<pid>/stat ('T' when stopped). */
static char proc_state(pid_t pid)
{
	char p[64], buf[512];
	snprintf(p, sizeof p, "/proc/%d/stat", (int)pid);
	FILE *f = fopen(p, "r");
	if (!f)
		return '?';
	size_t n = fread(buf, 1, sizeof buf - 1, f);
	fclose(f);
	buf[n] = '\0';
	char *r = strrchr(buf, ')');
	return r && r[1] == ' ' ? r[2] : '?';
}

static void check_totals(const char *path, int round, uint64_t reported)
{
	char err[512];
	scales_segment *seg;
	if (scales_segment_open(path, 0, &seg, err, sizeof err)) {
		fail_add(&f_totals, "round %d: %s", round, err);
		return;
	}
	struct scales_snapshot *s;
	int rc = scales_snapshot_take(seg, 0, &s, err, sizeof err);
	scales_segment_close(&seg);
	if (rc) {
		fail_add(&f_totals, "round %d: %s", round, err);
		return;
	}
	uint64_t want = (uint64_t)STOP_THREADS * STOP_ITERS;
	const struct scales_metric *m = scales_snapshot_find(s, "/w/total");
	if (reported != want)
		fail_add(&f_totals, "round %d: writer reports %llu updates",
		         round, (unsigned long long)reported);
	if (!m || m->v.u64 != want)
		fail_add(&f_totals, "round %d: /w/total = %llu, want %llu",
		         round, m ? (unsigned long long)m->v.u64 : 0ull,
		         (unsigned long long)want);
	m = scales_snapshot_find(s, "/w/lat");
	if (!m || m->side->hist.count != want || m->side->hist.max != 999 ||
	    m->side->hist.min != 0)
		fail_add(&f_totals, "round %d: /w/lat count %llu", round,
		         m ? (unsigned long long)m->side->hist.count : 0ull);
	for (int k = 0; k < STOP_THREADS; k++) {
		char p[64];
		snprintf(p, sizeof p, "/w/t%d", k);
		m = scales_snapshot_find(s, p);
		if (!m || m->v.u64 != STOP_ITERS)
			fail_add(&f_totals, "round %d: %s = %llu", round, p,
			         m ? (unsigned long long)m->v.u64 : 0ull);
		/* the last DYN_KEEP dynamic stats live on, the rest retired */
		uint64_t nj = (STOP_ITERS + DYN_EVERY - 1) / DYN_EVERY;
		for (uint64_t j = 0; j < nj; j++) {
			snprintf(p, sizeof p, "/w/dyn/%d/%llu", k,
			         (unsigned long long)j);
			m = scales_snapshot_find(s, p);
			bool live = j + DYN_KEEP >= nj;
			if (live != (m != NULL) || (m && m->v.u64 != j + 1))
				fail_add(&f_totals, "round %d: %s %s", round, p,
				         live ? "missing or wrong" :
				                "not retired");
		}
	}
	for (int i = 0; i < STOP_PRE; i += 97) {
		char p[64];
		snprintf(p, sizeof p, "/w/pre/%d", i);
		m = scales_snapshot_find(s, p);
		if (!m || m->v.u64 != (uint64_t)i)
			fail_add(&f_totals, "round %d: %s", round, p);
	}
	if (s->invalid || s->skipped)
		fail_add(&f_totals, "round %d: %u invalid, %u skipped", round,
		         s->invalid, s->skipped);
	scales_snapshot_free(&s);
}

static void one_round(const char *writer, const char *reader, const char *top,
                      int round, uint64_t *rs)
{
	char dir[4096], line[4096], path[4096] = "";
	snprintf(dir, sizeof dir, "%s/r%d", top, round);
	if (mkdir(dir, 0700))
		tap_bail("mkdir %s: %s", dir, strerror(errno));
	setenv("SCALES_DIR", dir, 1);
	char *wargv[] = { (char *)writer, "stop", NULL };
	struct child w = spawn(wargv, true, true, false);
	if (!child_line(&w, line, sizeof line, 60000) ||
	    strncmp(line, "ready ", 6)) {
		fail_add(&f_start, "round %d: writer not ready: [%s]", round,
		         line);
		kill(w.pid, SIGKILL);
		child_wait(&w);
		return;
	}
	snprintf(path, sizeof path, "%s", line + 6);
	char *rargv[] = { (char *)reader, path, "0", "light", NULL };
	struct child r = spawn(rargv, true, true, false);
	if (!child_line(&r, line, sizeof line, 60000) ||
	    strcmp(line, "started")) {
		fail_add(&f_start, "round %d: reader did not start: [%s]",
		         round, line);
	}
	/* some snapshots in, then stop it wherever it is */
	sleep_us(1000 + (long)rnd_below(rs, 20000));
	kill(r.pid, SIGSTOP);
	int st;
	while (waitpid(r.pid, &st, WUNTRACED) < 0 && errno == EINTR)
		;
	if (!WIFSTOPPED(st) || proc_state(r.pid) != 'T')
		fail_add(&f_start, "round %d: reader not stopped (%c)", round,
		         proc_state(r.pid));

	child_say(&w, "go\n");
	uint64_t total = 0;
	int errors = -1;
	bool done = false;
	uint64_t end = mono_ms() + WATCHDOG_MS;
	while (!done && mono_ms() < end) {
		if (!child_line(&w, line, sizeof line, (int)(end - mono_ms())))
			break;
		unsigned long long v;
		int e;
		if (sscanf(line, "total %llu", &v) == 1)
			total = v;
		else if (sscanf(line, "errors %d", &e) == 1)
			errors = e;
		else if (!strcmp(line, "done"))
			done = true;
	}
	if (!done)
		fail_add(&f_blocked,
		         "round %d: the writer did not finish its workload "
		         "within %d s while the reader was stopped",
		         round, WATCHDOG_MS / 1000);
	else if (errors != 0)
		fail_add(&f_blocked, "round %d: %d writer errors", round,
		         errors);
	if (proc_state(r.pid) != 'T')
		fail_add(&f_start, "round %d: the reader ran meanwhile", round);
	if (done)
		check_totals(path, round, total);
	/* stay stopped a little longer, so that a stop inside a snapshot
	 * shows as one call much longer than the others */
	sleep_us(100000);

	kill(r.pid, SIGCONT);
	close(r.in);
	r.in = -1;
	char summary[256] = "", inside[256] = "";
	while (child_line(&r, line, sizeof line, 120000)) {
		if (!strncmp(line, "snapshots ", 10))
			snprintf(summary, sizeof summary, "%.200s", line);
		else if (!strncmp(line, "inside ", 7))
			snprintf(inside, sizeof inside, "%.200s", line);
		else
			fail_add(&f_reader, "round %d: reader: %s", round,
			         line);
	}
	bool hung;
	st = child_wait_timeout(&r, 60000, &hung);
	char b[64];
	if (hung || !WIFEXITED(st) || WEXITSTATUS(st) != 0)
		fail_add(&f_reader, "round %d: reader %s (%s)", round,
		         hung ? "hung" : status_str(st, b, sizeof b), summary);
	tap_diag("round %d: reader %s, %s", round, summary, inside);
	double longest = 0;
	const char *lp = strstr(inside, "longest ");
	if (lp && sscanf(lp, "longest %lf", &longest) == 1 && longest >= 100)
		stopped_inside++;

	st = child_wait_timeout(&w, 60000, &hung);
	if (hung || !WIFEXITED(st) || WEXITSTATUS(st) != 0)
		fail_add(&f_exit, "round %d: writer %s", round,
		         hung ? "hung at exit" : status_str(st, b, sizeof b));
	rm_rf(dir);
}

int main(int argc, char **argv)
{
	if (argc < 3) {
		fprintf(stderr,
		        "usage: hard-stop HARD-WRITER HARD-READER [ROUNDS]\n");
		return 2;
	}
	int rounds = argc > 3 ? atoi(argv[3]) : 5;
	signal(SIGPIPE, SIG_IGN);
	tap_plan(6);
	uint64_t rs = seed_init();
	char *top = fresh_dir("stop");
	/* the reader spends most of its time inside a snapshot: a few more
	 * rounds until one stop lands there */
	int r = 0;
	for (; r < rounds || (!stopped_inside && r < 4 * rounds); r++)
		one_round(argv[1], argv[2], top, r, &rs);
	tap_fails(&f_start, "%d readers SIGSTOPped", r);
	tap_ok(stopped_inside > 0,
	       "%d of them inside scales_snapshot_take() (their longest call "
	       "lasted the whole stop)",
	       stopped_inside);
	tap_fails(&f_blocked,
	          "writers finish %d threads x %d updates, registrations and "
	          "retirements while the reader is stopped",
	          STOP_THREADS, STOP_ITERS);
	tap_fails(&f_totals, "exact totals with the reader stopped");
	tap_fails(&f_reader, "the reader resumes and finishes without error");
	tap_fails(&f_exit, "writers exit cleanly");
	rm_rf(top);
	free(top);
	return tap_failed ? 1 : 0;
}
