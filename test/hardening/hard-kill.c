/* SPDX-License-Identifier: MIT */
/*
 * hard-kill: writers SIGKILLed at random points during registration and
 * increments (hard-writer kill), ROUNDS times; then a forked writer that
 * shares its parent's segment killed at random points (hard-writer shared),
 * SHARED_ROUNDS times, after which the surviving writer must still register
 * (the robust registry lock is repaired).
 *
 * Checked after every kill, with the reader library in this process (a
 * separate process from every writer):
 *  - the reader never fails on the live writer's segment, nor on the dead
 *    one's; nothing half-published shows (no invalid entry; in a dead
 *    writer's segment at most one entry caught mid-retirement is skipped;
 *    in a surviving writer's, none);
 *  - a surviving writer (shared mode: its forked child was killed, maybe
 *    inside the registry lock, mid-publish) shows every stat it
 *    registered, including those published in slots the child left
 *    half-written;
 *  - every metric's path and kind is one the writer registers
 *    (workload.h), and its value is one the writer could have stored;
 *  - each counter's total lies between the increments the writer
 *    acknowledged on fd 3 and that number plus one batch.
 *
 * Usage: hard-kill HARD-WRITER [ROUNDS [SHARED_ROUNDS]]   (200, 50). Prints
 * TAP. $SCALES_HARD_SEED repeats a run.
 */
#include <dirent.h>
#include <scales/reader.h>
#include <scales/scales.h>

#include "proc.h"
#include "workload.h"

#define NIDX (KILL_CHILD_BASE + KILL_NC)

struct acks {
	uint64_t total[NIDX]; /* highest acknowledged total per counter */
	long n;               /* counter acks read */
	long parent_rounds;   /* of them, the rounds of the parent (shared) */
	pid_t child;          /* ACK_CHILD_PID */
	int final_ok;         /* ACK_FINAL, -1 until seen */
	uint64_t final_err;   /* last ACK_FINAL_ERR */
	size_t have;
	unsigned char buf[sizeof(struct ack)];
};

static void acks_init(struct acks *a)
{
	memset(a, 0, sizeof *a);
	a->final_ok = -1;
}

static void ack_take(struct acks *a, const struct ack *k)
{
	if (k->idx == ACK_CHILD_PID)
		a->child = (pid_t)k->total;
	else if (k->idx == ACK_FINAL)
		a->final_ok = (int)k->total;
	else if (k->idx == ACK_FINAL_ERR)
		a->final_err = k->total;
	else if (k->idx < NIDX) {
		if (k->total > a->total[k->idx])
			a->total[k->idx] = k->total;
		a->n++;
		if (k->idx < KILL_CHILD_BASE)
			a->parent_rounds++;
	}
}

/* Reads what is there (waiting at most timeout_ms for the first bytes).
 * Returns false at EOF. */
static bool acks_read(struct acks *a, int fd, int timeout_ms)
{
	if (!wait_readable(fd, timeout_ms))
		return true;
	unsigned char buf[64 * sizeof(struct ack)];
	ssize_t r = read(fd, buf, sizeof buf);
	if (r < 0 && errno == EINTR)
		return true;
	if (r <= 0)
		return false;
	for (ssize_t i = 0; i < r; i++) {
		a->buf[a->have++] = buf[i];
		if (a->have == sizeof(struct ack)) {
			struct ack k;
			memcpy(&k, a->buf, sizeof k);
			ack_take(a, &k);
			a->have = 0;
		}
	}
	return true;
}

/* Reads until at least n counter acks arrived (or EOF, or 30 s without
 * progress: the writer died or hangs). */
static bool acks_until(struct acks *a, int fd, long n)
{
	while (a->n < n) {
		long before = a->n;
		if (!acks_read(a, fd, 30000))
			return false;
		if (a->n == before && !wait_readable(fd, 0))
			return false;
	}
	return true;
}

static void acks_drain(struct acks *a, int fd)
{
	while (acks_read(a, fd, 30000))
		;
}

/* ----------------------------------------------------------- the checks */

/* What the rounds saw, for the diagnostics. */
static long st_tmp, st_early, st_acks, st_metrics, st_noseg, st_live_reads,
    st_dead_reads;

static struct fails f_sweep, f_live, f_dead, f_garbage, f_half, f_bounds,
    f_files, f_final, f_exit, f_survivor;

/* Parses "<prefix><decimal>" exactly; *n is the number. */
static bool num_after(const char *path, const char *prefix, unsigned *n)
{
	size_t l = strlen(prefix);
	if (strncmp(path, prefix, l) != 0)
		return false;
	const char *p = path + l;
	if (*p < '0' || *p > '9' || (p[0] == '0' && p[1]))
		return false;
	unsigned long v = 0;
	for (; *p; p++) {
		if (*p < '0' || *p > '9' || v > 100000)
			return false;
		v = v * 10 + (unsigned long)(*p - '0');
	}
	*n = (unsigned)v;
	return true;
}

static bool counter_idx_ok(unsigned n, unsigned span)
{
	return n < span || (n >= KILL_CHILD_BASE && n < KILL_CHILD_BASE + span);
}

/* Checks one metric's path, kind and value; returns false (and records why)
 * if it is something the writer never writes. */
static bool check_metric(const struct scales_metric *m, int round)
{
	unsigned n;
	const char *p = m->path;
	unsigned want = 0;
	bool value_ok = true;
	if (!strcmp(p, "/k/d")) {
		want = SCALES_KIND_DICT;
	} else if (num_after(p, "/k/d/k", &n) && n < 7) {
		want = SCALES_KIND_COUNTER;
	} else if (!strcmp(p, "/k/cb")) {
		want = SCALES_KIND_GAUGE_F64;
		value_ok = m->v.f64 == 0 || m->v.f64 == 7;
	} else if (num_after(p, "/k/c", &n) && counter_idx_ok(n, KILL_NC)) {
		want = SCALES_KIND_COUNTER;
	} else if (num_after(p, "/k/t", &n) && counter_idx_ok(n, 16)) {
		want = SCALES_KIND_COUNTER;
		value_ok = m->v.u64 <= 1;
	} else if (num_after(p, "/k/final", &n) && n < KILL_FINAL) {
		want = SCALES_KIND_COUNTER;
		value_ok = m->v.u64 == 0 || m->v.u64 == n;
	} else if (num_after(p, "/k/g", &n) && n < KILL_FIRST) {
		want = SCALES_KIND_GAUGE;
		value_ok = m->v.i64 == 0 || m->v.i64 == (int64_t)n;
	} else if (num_after(p, "/k/f", &n) && n < KILL_FIRST) {
		want = SCALES_KIND_GAUGE_F64;
		value_ok = m->v.f64 == 0 || m->v.f64 == n / 2.0;
	} else if (num_after(p, "/k/s", &n) && n < 4) {
		want = SCALES_KIND_STATE;
		const char *v = m->v.state;
		value_ok = !v || (strlen(v) == 3 && !strncmp(v, "st", 2) &&
		                  v[2] >= '0' && v[2] <= '4');
	} else if (num_after(p, "/k/h", &n) && n < 4) {
		want = SCALES_KIND_HISTOGRAM;
		/* the bucket is added before the sum: the sum may lag */
		value_ok =
		    m->side->hist.sum <= 999 * m->side->hist.count &&
		    (m->side->hist.count == 0 || m->side->hist.max <= 999);
	} else {
		fail_add(&f_garbage, "round %d: unexpected path [%.80s]", round,
		         p);
		return false;
	}
	if (m->kind != want) {
		fail_add(&f_garbage, "round %d: %s has kind %u, want %u", round,
		         p, m->kind, want);
		return false;
	}
	if (!value_ok) {
		fail_add(&f_garbage, "round %d: %s has an impossible value",
		         round, p);
		return false;
	}
	return true;
}

/*
 * Checks a snapshot. live: the writer may still run (only lower bounds);
 * exact: the counters below KILL_CHILD_BASE were acked exactly (their
 * writer finished its rounds).
 */
static void check_snap(const struct scales_snapshot *s, const struct acks *a,
                       int round, bool live, bool exact)
{
	/* exact: the writer survived and repaired the lock: nothing may be
	 * left half-written, so nothing is skipped */
	if (s->invalid || (exact && s->skipped) || (!live && s->skipped > 1))
		fail_add(&f_half, "round %d: %u invalid, %u skipped entries",
		         round, s->invalid, s->skipped);
	st_metrics += (long)s->n;
	for (size_t i = 0; i < s->n; i++) {
		const struct scales_metric *m = &s->metrics[i];
		unsigned n;
		if (!check_metric(m, round))
			continue;
		if (!num_after(m->path, "/k/c", &n) || n >= NIDX)
			continue;
		uint64_t lo = a->total[n], v = m->v.u64;
		uint64_t hi =
		    (exact && n < KILL_CHILD_BASE) ? lo : lo + KILL_BATCH;
		if (v < lo || (!live && v > hi))
			fail_add(&f_bounds,
			         "round %d: %s = %llu, acknowledged %llu "
			         "(batch %d)%s",
			         round, m->path, (unsigned long long)v,
			         (unsigned long long)lo, KILL_BATCH,
			         live ? " (live)" : "");
	}
	/* every acknowledged counter must be there */
	for (unsigned n = 0; n < NIDX; n++) {
		if (!a->total[n])
			continue;
		char p[32];
		snprintf(p, sizeof p, "/k/c%u", n);
		if (!scales_snapshot_find(s, p))
			fail_add(&f_bounds,
			         "round %d: %s acknowledged but "
			         "missing",
			         round, p);
	}
}

struct warns {
	int n;
	char first[256];
};

static void on_warn(void *arg, const char *path, const char *msg)
{
	struct warns *w = arg;
	if (!w->n++)
		snprintf(w->first, sizeof w->first, "%s: %s", path, msg);
}

/*
 * Opens every segment in dir and snapshots it. Returns the number of
 * segments; *snap gets the last one's snapshot (caller frees).
 */
static int read_dir(const char *dir, int round, struct fails *f,
                    struct scales_snapshot **snap)
{
	*snap = NULL;
	struct scales_seg_list l;
	struct warns w = { 0, "" };
	char err[512];
	int rc = scales_discover(dir, on_warn, &w, &l, err, sizeof err);
	if (rc) {
		fail_add(f, "round %d: discover: %s", round, err);
		return 0;
	}
	if (w.n)
		fail_add(&f_files, "round %d: %d discovery warnings: %s", round,
		         w.n, w.first);
	for (size_t i = 0; i < l.n; i++) {
		scales_segment *seg;
		rc = scales_segment_open(l.items[i].path, 0, &seg, err,
		                         sizeof err);
		if (rc) {
			fail_add(f, "round %d: open: %s", round, err);
			continue;
		}
		struct scales_process_info info;
		if (scales_segment_info(seg, &info, err, sizeof err))
			fail_add(f, "round %d: info: %s", round, err);
		struct scales_snapshot *s = NULL;
		if (scales_snapshot_take(seg, 0, &s, err, sizeof err))
			fail_add(f, "round %d: snapshot: %s", round, err);
		scales_segment_close(&seg);
		if (s) {
			/* render it too: no invalid string may reach JSON */
			struct scales_buf b = { 0 };
			const struct scales_snapshot *arr[1] = { s };
			if (scales_json_render(&b, arr, NULL, 1, 0))
				fail_add(f, "round %d: JSON render", round);
			scales_buf_free(&b);
			scales_snapshot_free(snap);
			*snap = s;
		}
	}
	int n = (int)l.n;
	scales_seg_list_free(&l);
	return n;
}

/*
 * The next writer to open a segment in dir sweeps the temporaries of
 * writers that died inside scales_open() (".<app>.<pid>.<start>.seg.<x>.tmp"
 * whose pid is gone or was reused), and nothing else: not a live writer's
 * temporary, not a symlink, not another dot file. Plants one of each next
 * to whatever the killed writer left, opens a registry, checks.
 */
static void check_sweep(const char *dir, int round, pid_t dead,
                        uint64_t dead_start)
{
	char p[4200];
	struct {
		char name[160];
		bool stays;
		bool link;
	} plant[4];
	snprintf(plant[0].name, sizeof plant[0].name,
	         ".hardkill.%d.%llu.seg.dead.tmp", (int)dead,
	         (unsigned long long)dead_start);
	plant[0].stays = false;
	snprintf(plant[1].name, sizeof plant[1].name,
	         ".hardkill.%d.%llu.seg.live.tmp", (int)getpid(),
	         (unsigned long long)self_start_time());
	plant[1].stays = true;
	snprintf(plant[2].name, sizeof plant[2].name,
	         ".hardkill.%d.1.seg.link.tmp", (int)dead);
	plant[2].stays = true;
	snprintf(plant[3].name, sizeof plant[3].name, ".notes");
	plant[3].stays = true;
	for (int i = 0; i < 4; i++) {
		plant[i].link = i == 2;
		snprintf(p, sizeof p, "%.4000s/%.150s", dir, plant[i].name);
		if (plant[i].link ? symlink("/nonexistent", p) :
		                    close(open(p, O_WRONLY | O_CREAT, 0600)))
			tap_bail("plant %s: %s", p, strerror(errno));
	}
	struct scales_options o;
	scales_options_init(&o);
	o.app = "sweeper";
	o.dir = dir;
	o.flags = SCALES_NO_SAMPLER;
	o.max_entries = 8;
	o.stripe_bytes = o.data_bytes = o.string_bytes = 4096;
	scales_registry *reg = NULL;
	int rc = scales_open(&o, &reg);
	if (rc) {
		fail_add(&f_sweep, "round %d: scales_open: %s", round,
		         scales_strerror(rc));
		return;
	}
	scales_close(&reg);
	for (int i = 0; i < 4; i++) {
		struct stat st;
		snprintf(p, sizeof p, "%.4000s/%.150s", dir, plant[i].name);
		bool there = lstat(p, &st) == 0;
		if (there != plant[i].stays)
			fail_add(&f_sweep, "round %d: %s %s", round,
			         plant[i].name,
			         there ? "was not swept" : "was swept");
	}
	/* and what the killed writer left: every temporary of it is gone */
	DIR *d = opendir(dir);
	struct dirent *de;
	char prefix[64];
	snprintf(prefix, sizeof prefix, ".hardkill.%d.", (int)dead);
	while (d && (de = readdir(d)))
		if (!strncmp(de->d_name, prefix, strlen(prefix)) &&
		    strstr(de->d_name, ".tmp") && !strstr(de->d_name, ".link."))
			fail_add(&f_sweep, "round %d: %s left", round,
			         de->d_name);
	if (d)
		closedir(d);
}

/* ------------------------------------------------------------- rounds */

static void kill_round(const char *writer, const char *top, int round,
                       uint64_t *rs)
{
	char dir[4096];
	snprintf(dir, sizeof dir, "%s/r%d", top, round);
	if (mkdir(dir, 0700))
		tap_bail("mkdir %s: %s", dir, strerror(errno));
	setenv("SCALES_DIR", dir, 1);
	char *argv[] = { (char *)writer, "kill", NULL };
	struct child c = spawn(argv, false, false, true);
	struct acks a;
	acks_init(&a);

	/* mostly during the first rounds, which register new stats; some
	 * later, when rounds only look their stats up */
	long want = rnd_below(rs, 4) ? (long)rnd_below(rs, KILL_FIRST) :
	                               (long)rnd_below(rs, 20 * KILL_FIRST);
	/* one round in 8: right after exec, inside scales_open() */
	bool early = rnd_below(rs, 8) == 0;
	if (early)
		want = 0;
	bool alive = acks_until(&a, c.ack, want);
	if (alive && want > 0 && rnd_below(rs, 2)) {
		/* a reader while the writer runs */
		struct scales_snapshot *s;
		struct acks seen = a; /* acks read before the snapshot */
		read_dir(dir, round, &f_live, &s);
		if (s) {
			st_live_reads++;
			check_snap(s, &seen, round, true, false);
		}
		scales_snapshot_free(&s);
	}
	switch (early ? 3 : rnd_below(rs, 3)) {
	case 3:
		sleep_us((long)rnd_below(rs, 4000));
		break;
	case 0:
		break;
	case 1:
		sleep_us((long)rnd_below(rs, 200));
		break;
	default:
		sleep_us((long)rnd_below(rs, 3000));
		break;
	}
	long acked_at_kill = a.n;
	kill(c.pid, SIGKILL);
	int st;
	while (waitpid(c.pid, &st, 0) < 0 && errno == EINTR)
		;
	acks_drain(&a, c.ack);
	close(c.ack);
	if (!WIFSIGNALED(st) || WTERMSIG(st) != SIGKILL) {
		char b[64];
		fail_add(&f_exit, "round %d: writer ended by itself: %s", round,
		         status_str(st, b, sizeof b));
	}

	struct scales_snapshot *s;
	int nseg = read_dir(dir, round, &f_dead, &s);
	st_acks += a.n;
	if (acked_at_kill < KILL_FIRST)
		st_early++;
	if (nseg == 0)
		st_noseg++;
	else
		st_dead_reads++;
	if (nseg > 1)
		fail_add(&f_files, "round %d: %d segments", round, nseg);
	if (nseg == 0 && a.n > 0)
		fail_add(&f_files,
		         "round %d: no segment after %ld acknowledgements",
		         round, a.n);
	uint64_t s_start = s ? s->proc.start_time : 1;
	if (s)
		check_snap(s, &a, round, false, false);
	scales_snapshot_free(&s);
	/* a kill inside scales_open() may leave its temporary (".name.tmp"):
	 * readers skip it; counted for the diagnostics */
	DIR *d = opendir(dir);
	struct dirent *de;
	while (d && (de = readdir(d)))
		if (de->d_name[0] == '.' && strcmp(de->d_name, ".") &&
		    strcmp(de->d_name, ".."))
			st_tmp++;
	if (d)
		closedir(d);
	check_sweep(dir, round, c.pid, s_start);
	rm_rf(dir);
}

/*
 * Shared mode: every stat that the surviving writer's completed rounds
 * registered and did not retire (workload.h) must be shown. Before the fix
 * of issue 13 item 6, a stat published in the slot that the killed child
 * had left half-written kept an odd generation and was skipped forever.
 */
static void check_survivor(const struct scales_snapshot *s,
                           const struct acks *a, int round)
{
	long r = a->parent_rounds;
	char p[32];
	for (long i = 0; i < r && i < KILL_FIRST; i++) {
		const char *fmt[] = { "/k/g%ld", "/k/f%ld", "/k/s%ld",
			              "/k/h%ld", "/k/d/k%ld" };
		long lim[] = { KILL_FIRST, KILL_FIRST, 4, 4, 7 };
		for (int k = 0; k < 5; k++) {
			if (i >= lim[k])
				continue;
			snprintf(p, sizeof p, fmt[k], i);
			if (!scales_snapshot_find(s, p))
				fail_add(&f_survivor,
				         "round %d: %s of the surviving writer "
				         "(%ld rounds) is not shown",
				         round, p, r);
		}
	}
	if (r > 0 && !scales_snapshot_find(s, "/k/d"))
		fail_add(&f_survivor, "round %d: /k/d is not shown", round);
	if (r > 1 && !scales_snapshot_find(s, "/k/cb"))
		fail_add(&f_survivor, "round %d: /k/cb is not shown", round);
}

static void shared_round(const char *writer, const char *top, int round,
                         uint64_t *rs)
{
	char dir[4096];
	snprintf(dir, sizeof dir, "%s/s%d", top, round);
	if (mkdir(dir, 0700))
		tap_bail("mkdir %s: %s", dir, strerror(errno));
	setenv("SCALES_DIR", dir, 1);
	char *argv[] = { (char *)writer, "shared", NULL };
	struct child c = spawn(argv, true, false, true);
	struct acks a;
	acks_init(&a);
	while (a.child == 0 && acks_read(&a, c.ack, 30000))
		if (!wait_readable(c.ack, 30000))
			break;
	if (a.child <= 0) {
		fail_add(&f_final, "round %d: no child pid from the writer",
		         round);
		kill(c.pid, SIGKILL);
		child_wait(&c);
		rm_rf(dir);
		return;
	}
	acks_until(&a, c.ack, a.n + (long)rnd_below(rs, 40));
	sleep_us((long)rnd_below(rs, 3000));
	kill(a.child, SIGKILL);
	/* the writer's child is its own to reap; give the kernel a moment
	 * to deliver the signal before the writer registers again */
	char line[] = "x\n";
	if (write(c.in, line, 2) != 2)
		fail_add(&f_final, "round %d: writer gone", round);
	uint64_t end = mono_ms() + 60000;
	while (a.final_ok < 0 && mono_ms() < end)
		if (!acks_read(&a, c.ack, 1000))
			break;
	if (a.final_ok != KILL_FINAL)
		fail_add(&f_final,
		         "round %d: %d of %d registrations after the child's "
		         "death succeeded (last error %s)",
		         round, a.final_ok, KILL_FINAL,
		         a.final_err ?
		             strerror((int)a.final_err) :
		             (a.final_ok < 0 ? "none: writer hung" : "none"));
	struct scales_snapshot *s;
	read_dir(dir, round, &f_dead, &s);
	if (s) {
		check_snap(s, &a, round, false, true);
		check_survivor(s, &a, round);
		for (int i = 0; i < KILL_FINAL; i++) {
			char p[32];
			snprintf(p, sizeof p, "/k/final%d", i);
			const struct scales_metric *m =
			    scales_snapshot_find(s, p);
			if (!m || m->v.u64 != (uint64_t)i)
				fail_add(&f_final, "round %d: %s %s", round, p,
				         m ? "has a wrong value" : "missing");
		}
	} else {
		fail_add(&f_dead, "round %d: no segment", round);
	}
	scales_snapshot_free(&s);
	bool hung;
	int st = child_wait_timeout(&c, 60000, &hung);
	if (hung || !WIFEXITED(st) || WEXITSTATUS(st) != 0) {
		char b[64];
		fail_add(&f_exit, "round %d: writer %s", round,
		         hung ? "hung at close" : status_str(st, b, sizeof b));
	}
	rm_rf(dir);
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "usage: hard-kill HARD-WRITER [ROUNDS "
		                "[SHARED_ROUNDS]]\n");
		return 2;
	}
	int rounds = argc > 2 ? atoi(argv[2]) : 200;
	int shared = argc > 3 ? atoi(argv[3]) : 50;
	signal(SIGPIPE, SIG_IGN);
	tap_plan(11);
	uint64_t rs = seed_init();
	char *top = fresh_dir("kill");

	for (int r = 0; r < rounds; r++)
		kill_round(argv[1], top, r, &rs);
	tap_diag(
	    "%ld acknowledged batches; %ld live and %ld dead segments "
	    "read (%ld metrics); %ld writers killed before their segment "
	    "existed, %ld with fewer than %d batches acknowledged (registering)",
	    st_acks, st_live_reads, st_dead_reads, st_metrics, st_noseg,
	    st_early, KILL_FIRST);
	tap_diag("%ld temporaries left by writers killed inside scales_open()",
	         st_tmp);
	tap_fails(&f_exit, "%d writers SIGKILLed at random points", rounds);
	tap_fails(&f_live, "readers of a live writer never fail");
	tap_fails(&f_dead, "every dead writer's segment opens and snapshots");

	for (int r = 0; r < shared; r++)
		shared_round(argv[1], top, r, &rs);
	tap_fails(&f_final,
	          "%d forked writers killed: the survivor repairs the lock "
	          "and registers",
	          shared);
	tap_fails(&f_garbage, "no garbage path, kind or value, ever");
	tap_fails(&f_half, "no half-published entry (none invalid; none "
	                   "skipped but for one of a dead writer)");
	tap_fails(&f_survivor, "a surviving writer shows every stat it "
	                       "registered");
	tap_fails(&f_bounds, "each counter between its acknowledged total "
	                     "and one batch more");
	tap_fails(&f_files, "one segment per writer, no stray files");
	tap_fails(&f_sweep, "the next writer sweeps dead writers' temporaries, "
	                    "and nothing else");
	rm_rf(top);
	tap_ok(access(top, F_OK) != 0, "test directory removed");
	free(top);
	return tap_failed ? 1 : 0;
}
