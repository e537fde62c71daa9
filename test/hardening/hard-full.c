/* SPDX-License-Identifier: MIT */
/*
 * hard-full.c: a full file system never kills the writer (issue 13, item 1).
 *
 * A page of a MAP_SHARED file that the file system has no room for raises
 * SIGBUS when the process touches it. libscales therefore reserves
 * (posix_fallocate) every byte before it writes it. This test checks that,
 * two ways:
 *
 *  1. Every N. This program defines posix_fallocate and ftruncate itself
 *     (it links libscales statically, so the library's calls bind to these
 *     definitions; no LD_PRELOAD). They count the calls and, from the Nth
 *     on, fail with ENOSPC as a full file system would. A forked child runs
 *     one workload (open; every kind of stat with help text; state
 *     interning; callback gauges; dicts; scopes, aggregates and bind;
 *     retirement and reuse of slots; enough strings to cross a reservation
 *     chunk) for N = 0 (never fail; counts the calls) and then for every N
 *     from 1 to the number of calls. Each time: the child must not die of a
 *     signal; every refused registration returns SCALES_E_FULL and a sink,
 *     and the header counts it; every page of the segment file that holds
 *     data (SEEK_DATA, on tmpfs) lies in a range that a successful
 *     posix_fallocate reserved, so that no write could have hit an
 *     unbacked page; a reader then sees every stat that was registered,
 *     with its exact value and help text; and once the space comes back, a
 *     registration succeeds again.
 *  2. A real full tmpfs (as root, where mount(2) is allowed; skipped with a
 *     message otherwise). In a private mount namespace, a 2 MiB tmpfs holds
 *     the segment; a filler file then takes every free block; the same
 *     workload must run without a signal, and a reader sees the segment
 *     whole. An open on the full tmpfs fails with an error.
 *
 * Before the fix the first 64 KiB of the string area were never reserved
 * (strings_used starts at 8), so (1) finds a data page outside any reserved
 * range and (2) dies of SIGBUS at the first help text.
 */
#include <dlfcn.h>
#include <sched.h>
#include <sys/mman.h>
#include <sys/mount.h>

#include "proc.h"

#include <scales/reader.h>
#include <scales/scales.h>

/* ------------------------------------------------------------ the shim */

struct range {
	uint64_t off, len;
};

static long shim_calls;     /* posix_fallocate and ftruncate calls */
static long shim_fail_from; /* 0: never fail; else calls >= it fail */
static struct range shim_ok[4096];
static int shim_nok;

/* Counts a call; true if it must fail as on a full file system. */
static bool shim_fails(void)
{
	long n = ++shim_calls;
	return shim_fail_from && n >= shim_fail_from;
}

typedef int (*fallocate_fn)(int, off_t, off_t);
typedef int (*ftruncate_fn)(int, off_t);

/* With _FILE_OFFSET_BITS=64 (as the library is built) <fcntl.h> and
 * <unistd.h> give these two the symbol names posix_fallocate64 and
 * ftruncate64: defining them here defines those, which the library calls. */
#if defined(_FILE_OFFSET_BITS) && _FILE_OFFSET_BITS == 64
#define REAL_FALLOCATE "posix_fallocate64"
#define REAL_FTRUNCATE "ftruncate64"
#else
#define REAL_FALLOCATE "posix_fallocate"
#define REAL_FTRUNCATE "ftruncate"
#endif

int posix_fallocate(int fd, off_t off, off_t len)
{
	static fallocate_fn real;
	if (!real)
		*(void **)&real = dlsym(RTLD_NEXT, REAL_FALLOCATE);
	if (shim_fails())
		return ENOSPC;
	int rc = real(fd, off, len);
	if (rc == 0 && shim_nok < (int)(sizeof shim_ok / sizeof shim_ok[0]))
		shim_ok[shim_nok++] =
		    (struct range){ (uint64_t)off, (uint64_t)len };
	return rc;
}

int ftruncate(int fd, off_t len)
{
	static ftruncate_fn real;
	if (!real)
		*(void **)&real = dlsym(RTLD_NEXT, REAL_FTRUNCATE);
	if (shim_fails()) {
		errno = ENOSPC;
		return -1;
	}
	return real(fd, len);
}

/* -------------------------------------------------------- the workload */

enum {
	W_COUNTER,
	W_GAUGE,
	W_F64,
	W_STATE,
	W_HIST,
	W_DICT
};

struct want {
	char path[128];
	int kind;
	int help; /* help text number, -1: none */
	uint64_t u;
	int64_t i;
	double f;
	const char *state;
	bool live;
};

static struct want wants[512];
static int nwants;
static long refusals;    /* registrations refused (SCALES_E_FULL) */
static bool failures_ok; /* the shim may fail: refusals are allowed */
static int child_failed; /* checks failed in this child */
static char state_vals[40][128];

__attribute__((format(printf, 2, 3))) static void fail(const char *cat,
                                                       const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	printf("FAIL %s ", cat);
	vprintf(fmt, ap);
	printf("\n");
	va_end(ap);
	fflush(stdout);
	child_failed++;
}

/* Help text number k: long enough that ~70 of them cross 64 KiB. */
static const char *help_text(int k)
{
	static char buf[1100];
	int n = snprintf(buf, sizeof buf, "help %d: ", k);
	for (int j = n; j < 1000; j++)
		buf[j] = (char)('a' + (j + k) % 26);
	buf[1000] = '\0';
	return buf;
}

static struct want *want_add(const char *path, int kind, int help)
{
	struct want *w = &wants[nwants++];
	memset(w, 0, sizeof *w);
	snprintf(w->path, sizeof w->path, "%s", path);
	w->kind = kind;
	w->help = help;
	w->live = true;
	return w;
}

/* A registration's result: 0, or SCALES_E_FULL when the shim may fail. */
static bool reg_result(const char *what, int rc)
{
	if (rc == 0)
		return true;
	if (rc == SCALES_E_FULL && failures_ok) {
		refusals++;
		return false;
	}
	fail("error", "%s: %d (%s)", what, rc, scales_strerror(rc));
	return false;
}

static void check_sink_counter(const char *what, const scales_counter *c)
{
	scales_counter sink;
	scales_counter_sink(&sink);
	if (c->base != sink.base)
		fail("sink", "%s: refused, but the handle is not a sink", what);
	scales_counter_add(c, 5); /* harmless */
}

static int64_t cb_value(void *arg)
{
	return (int64_t)(intptr_t)arg;
}

/* Counters only, so that a refusal shows as a sink handle. */
struct bound {
	scales_counter hits, misses;
};

static const struct scales_stat_desc bound_desc[] = {
	SCALES_DESC_COUNTER(struct bound, hits, "bound hits"),
	SCALES_DESC_COUNTER(struct bound, misses, "bound misses"),
	SCALES_DESC_END,
};

static void counter_step(scales_registry *reg, const char *path, int help,
                         uint64_t n)
{
	struct scales_info info = { .help =
		                        help >= 0 ? help_text(help) : NULL };
	scales_counter c;
	int rc = scales_counter_get(reg, path, &info, &c);
	if (!reg_result(path, rc)) {
		check_sink_counter(path, &c);
		return;
	}
	for (uint64_t k = 0; k < n; k++)
		scales_counter_inc(&c);
	struct want *w = want_add(path, W_COUNTER, help);
	w->u = n;
}

static void workload(scales_registry *reg)
{
	char p[128];
	int help = 0;
	/* Counters with help text. */
	for (int k = 0; k < 10; k++) {
		snprintf(p, sizeof p, "/c/%d", k);
		counter_step(reg, p, help++, (uint64_t)k + 1);
	}
	/* A gauge, a double gauge, a histogram, a state, with help. */
	struct scales_info info = { .help = help_text(help) };
	scales_gauge g;
	if (reg_result("/g", scales_gauge_get(reg, "/g", &info, &g))) {
		scales_gauge_set(&g, -42);
		want_add("/g", W_GAUGE, help)->i = -42;
	}
	info.help = help_text(++help);
	scales_gauge_f64 gf;
	if (reg_result("/gf", scales_gauge_f64_get(reg, "/gf", &info, &gf))) {
		scales_gauge_f64_set(&gf, 2.5);
		want_add("/gf", W_F64, help)->f = 2.5;
	}
	info.help = help_text(++help);
	info.unit = SCALES_UNIT_SECONDS;
	scales_histogram h;
	if (reg_result("/h",
	               scales_histogram_get(reg, "/h", &info, NULL, &h))) {
		for (uint64_t v = 1; v <= 100; v++)
			scales_histogram_record(&h, v * 1000);
		want_add("/h", W_HIST, help)->u = 100;
	} else {
		scales_histogram_record(&h, 7); /* a sink: harmless */
	}
	info.unit = SCALES_UNIT_NONE;
	info.help = help_text(++help);
	scales_state st;
	bool st_ok =
	    reg_result("/st", scales_state_get(reg, "/st", &info, &st));
	struct want *stw = st_ok ? want_add("/st", W_STATE, help) : NULL;
	/* State interning: 40 values of ~100 bytes. */
	for (int k = 0; k < 40; k++) {
		snprintf(state_vals[k], sizeof state_vals[k],
		         "state value %d %0*d", k, 90, k);
		uint32_t id;
		int rc = scales_state_intern(reg, state_vals[k], &id);
		if (rc && !(rc == SCALES_E_FULL && failures_ok))
			fail("error", "intern %d: %d (%s)", k, rc,
			     scales_strerror(rc));
		if (st_ok) {
			rc = scales_state_set_str(&st, state_vals[k]);
			if (rc == 0)
				stw->state = state_vals[k];
			else if (!(rc == SCALES_E_FULL && failures_ok))
				fail("error", "state_set_str %d: %d", k, rc);
		}
	}
	/* A callback gauge, sampled by hand (no sampler thread). */
	info.help = help_text(++help);
	if (reg_result("/cb",
	               scales_gauge_callback_i64(reg, "/cb", &info, cb_value,
	                                         (void *)(intptr_t)77))) {
		scales_sample(reg);
		want_add("/cb", W_GAUGE, help)->i = 77;
	}
	/* A dict with keys. */
	info.help = help_text(++help);
	scales_dict d;
	if (reg_result("/d", scales_dict_get(reg, "/d", &info, &d))) {
		want_add("/d", W_DICT, help);
		for (int k = 0; k < 6; k++) {
			char key[16];
			snprintf(key, sizeof key, "k%d", k);
			int rc = scales_dict_add(&d, key, (uint64_t)k + 10);
			if (reg_result(key, rc)) {
				snprintf(p, sizeof p, "/d/%s", key);
				want_add(p, W_COUNTER, -1)->u =
				    (uint64_t)k + 10;
			}
		}
	}
	/* Scopes: a counter, aggregates and a bound struct, then a release
	 * of a child scope (its slots are reused below). */
	scales_scope *root = NULL, *kid = NULL, *gone = NULL;
	if (scales_scope_root(reg, &root, "/s") != 0)
		fail("error", "scope_root");
	info.help = help_text(++help);
	int rc = scales_scope_sum(root, "n", &info);
	reg_result("/s/n sum", rc);
	if (scales_scope_child(root, &kid, "t-%d", 1) != 0 ||
	    scales_scope_child(root, &gone, "t-%d", 2) != 0)
		fail("error", "scope_child");
	info.help = help_text(++help);
	scales_counter sc;
	if (reg_result("/s/t-1/n",
	               scales_scope_counter(kid, "n", &info, &sc))) {
		scales_counter_add(&sc, 9);
		want_add("/s/t-1/n", W_COUNTER, help)->u = 9;
	} else {
		check_sink_counter("/s/t-1/n", &sc);
	}
	struct bound b;
	rc = scales_bind(kid, bound_desc, &b);
	if (rc && !(rc == SCALES_E_FULL && failures_ok))
		fail("error", "bind: %d", rc);
	scales_counter sink;
	scales_counter_sink(&sink);
	scales_counter *bc[] = { &b.hits, &b.misses };
	for (int k = 0; k < 2; k++) {
		if (bc[k]->base == sink.base) {
			refusals++;
			continue;
		}
		scales_counter_add(bc[k], 3);
		want_add(k ? "/s/t-1/misses" : "/s/t-1/hits", W_COUNTER, 1000)
		    ->u = 3;
	}
	for (int k = 0; k < 5; k++) {
		snprintf(p, sizeof p, "x%d", k);
		scales_counter x;
		rc = scales_scope_counter(gone, p, NULL, &x);
		if (!reg_result(p, rc))
			check_sink_counter(p, &x);
	}
	if (scales_scope_release(&gone) != 0)
		fail("error", "scope_release");
	/* Retire some counters; new ones reuse their slots. */
	for (int k = 0; k < 5; k++) {
		snprintf(p, sizeof p, "/c/%d", k);
		for (int j = 0; j < nwants; j++)
			if (wants[j].live && !strcmp(wants[j].path, p)) {
				if (scales_retire(reg, p) != 0)
					fail("error", "retire %s", p);
				wants[j].live = false;
			}
		snprintf(p, sizeof p, "/r/%d", k);
		counter_step(reg, p, -1, 100 + (uint64_t)k);
	}
	/* More help text: past the first 64 KiB chunk of strings. */
	for (int k = 0; k < 70; k++) {
		snprintf(p, sizeof p, "/more/%d", k);
		counter_step(reg, p, ++help, 1);
	}
	scales_scope_release(&root);
	/* The bound stats and the scope counter went with the scope. */
	for (int j = 0; j < nwants; j++)
		if (!strncmp(wants[j].path, "/s/", 3))
			wants[j].live = false;
}

/* ------------------------------------------------------------ checks */

static bool seek_data_works; /* tmpfs reports written pages as data */

/* Every page of the file that holds data must lie in a range that a
 * successful posix_fallocate reserved. */
static void check_pages(const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		fail("pages", "open %s: %s", path, strerror(errno));
		return;
	}
	struct stat sb;
	fstat(fd, &sb);
	long pg = sysconf(_SC_PAGESIZE);
	int bad = 0;
	off_t at = 0;
	while (at < sb.st_size) {
		off_t d = lseek(fd, at, SEEK_DATA);
		if (d < 0)
			break;
		off_t e = lseek(fd, d, SEEK_HOLE);
		if (e < 0)
			e = sb.st_size;
		for (off_t q = d / pg * pg; q < e; q += pg) {
			bool ok = false;
			for (int r = 0; r < shim_nok && !ok; r++)
				ok = shim_ok[r].off < (uint64_t)(q + pg) &&
				     shim_ok[r].off + shim_ok[r].len >
				         (uint64_t)q;
			if (!ok && bad++ < 3)
				fail("pages",
				     "page at offset %lld holds data but was "
				     "never reserved",
				     (long long)q);
		}
		at = e;
	}
	close(fd);
}

static void check_reader(const char *path)
{
	char err[512];
	scales_segment *seg = NULL;
	if (scales_segment_open(path, 0, &seg, err, sizeof err) != 0) {
		fail("reader", "open: %s", err);
		return;
	}
	struct scales_snapshot *snap = NULL;
	if (scales_snapshot_take(seg, 0, &snap, err, sizeof err) != 0) {
		fail("reader", "snapshot: %s", err);
		scales_segment_close(&seg);
		return;
	}
	if (snap->invalid || snap->skipped)
		fail("reader", "%u invalid, %u skipped entries", snap->invalid,
		     snap->skipped);
	if ((long)snap->proc.refused != refusals)
		fail("refused", "header counts %llu refusals, %ld seen",
		     (unsigned long long)snap->proc.refused, refusals);
	for (int j = 0; j < nwants; j++) {
		const struct want *w = &wants[j];
		const struct scales_metric *m =
		    scales_snapshot_find(snap, w->path);
		if (!w->live) {
			if (m)
				fail("values", "%s: retired but shown",
				     w->path);
			continue;
		}
		if (!m) {
			fail("values", "%s: registered but not shown", w->path);
			continue;
		}
		bool ok = true;
		switch (w->kind) {
		case W_COUNTER:
			ok = m->kind == SCALES_KIND_COUNTER && m->v.u64 == w->u;
			break;
		case W_GAUGE:
			ok = m->kind == SCALES_KIND_GAUGE && m->v.i64 == w->i;
			break;
		case W_F64:
			ok = m->kind == SCALES_KIND_GAUGE_F64 &&
			     m->v.f64 == w->f;
			break;
		case W_STATE:
			ok = m->kind == SCALES_KIND_STATE &&
			     (w->state ?
			          m->v.state && !strcmp(m->v.state, w->state) :
			          !m->v.state);
			break;
		case W_HIST:
			ok = m->kind == SCALES_KIND_HISTOGRAM &&
			     m->side->hist.count == w->u;
			break;
		case W_DICT:
			ok = m->kind == SCALES_KIND_DICT;
			break;
		}
		if (!ok)
			fail("values", "%s: wrong kind or value", w->path);
		if (w->help >= 0 && w->help < 1000 &&
		    (!m->help || strcmp(m->help, help_text(w->help))))
			fail("values", "%s: help text lost", w->path);
	}
	scales_snapshot_free(&snap);
	scales_segment_close(&seg);
}

static void small_opts(struct scales_options *o, const char *dir)
{
	scales_options_init(o);
	o->app = "full";
	o->dir = dir;
	o->flags = SCALES_NO_SAMPLER | SCALES_KEEP_SEGMENT;
	o->max_entries = 256;
	o->stripe_bytes = 32768; /* a default histogram takes ~10 KiB */
	o->data_bytes = 16384;
	o->string_bytes = 256 * 1024;
}

/*
 * The child of one round: the workload with the shim failing from call
 * fail_from on (0: never). Prints "CALLS <n>" and "FAIL <what> ..." lines;
 * exits 0 if every check passed.
 */
static int child_round(const char *dir, long fail_from)
{
	shim_calls = 0; /* the parent's own calls do not count */
	shim_nok = 0;
	shim_fail_from = fail_from;
	failures_ok = fail_from != 0;
	struct scales_options o;
	small_opts(&o, dir);
	scales_registry *reg = NULL;
	int rc = scales_open(&o, &reg);
	if (rc) {
		if (!failures_ok)
			fail("error", "open: %d (%s)", rc, scales_strerror(rc));
		if (reg)
			fail("error", "open failed but gave a registry");
		printf("CALLS %ld\n", shim_calls);
		return child_failed ? 1 : 0;
	}
	char path[4096];
	snprintf(path, sizeof path, "%s", scales_registry_path(reg));
	workload(reg);
	long calls = shim_calls;
	/* Before anything reads the file (a read fault allocates a page on
	 * tmpfs too). */
	if (seek_data_works)
		check_pages(path);
	check_reader(path);
	/* The space comes back: registration works again. */
	shim_fail_from = 0;
	scales_counter c;
	rc = scales_counter_get(reg, "/after", NULL, &c);
	if (rc)
		fail("recover", "registration after space came back: %d (%s)",
		     rc, scales_strerror(rc));
	scales_close(&reg);
	printf("CALLS %ld\n", calls);
	fflush(stdout);
	return child_failed ? 1 : 0;
}

static int tmpfs_child(const char *dir);

struct outcome {
	int status;
	long calls;
	char lines[8192];
};

/* Runs fn(dir, arg) in a forked child and collects its verdict. */
static void run_child(const char *dir, long fail_from, bool tmpfs,
                      struct outcome *out)
{
	int pfd[2];
	if (pipe(pfd) != 0)
		tap_bail("pipe: %s", strerror(errno));
	fflush(stdout);
	pid_t pid = fork();
	if (pid < 0)
		tap_bail("fork: %s", strerror(errno));
	if (pid == 0) {
		close(pfd[0]);
		dup2(pfd[1], 1);
		close(pfd[1]);
		int rc;
		if (tmpfs) {
			rc = tmpfs_child(dir);
		} else {
			rc = child_round(dir, fail_from);
		}
		fflush(stdout);
		_exit(rc);
	}
	close(pfd[1]);
	size_t n = 0;
	ssize_t r;
	char buf[4096];
	out->lines[0] = '\0';
	out->calls = -1;
	while ((r = read(pfd[0], buf, sizeof buf)) > 0) {
		size_t k = (size_t)r;
		if (n + k >= sizeof out->lines)
			k = sizeof out->lines - 1 - n;
		memcpy(out->lines + n, buf, k);
		n += k;
		out->lines[n] = '\0';
	}
	close(pfd[0]);
	while (waitpid(pid, &out->status, 0) < 0 && errno == EINTR)
		;
	const char *c = strstr(out->lines, "CALLS ");
	if (c)
		out->calls = strtol(c + 6, NULL, 10);
}

/* Probes whether the file system of dir reports pages written through a
 * shared mapping as data and untouched pages as holes. */
static bool probe_seek_data(const char *dir)
{
	char p[4096];
	snprintf(p, sizeof p, "%s/.probe", dir);
	int fd = open(p, O_RDWR | O_CREAT | O_EXCL, 0600);
	if (fd < 0)
		return false;
	unlink(p);
	bool ok = false;
	if (ftruncate(fd, 1 << 20) == 0) {
		char *m = mmap(NULL, 1 << 20, PROT_READ | PROT_WRITE,
		               MAP_SHARED, fd, 0);
		if (m != MAP_FAILED) {
			m[(1 << 19) + 5] = 1;
			ok = lseek(fd, 0, SEEK_DATA) == (1 << 19);
			munmap(m, 1 << 20);
		}
	}
	close(fd);
	return ok;
}

/* -------------------------------------------------- a real full tmpfs */

/* Fills the file system of dir until it has no free block. */
static void fill_up(const char *dir)
{
	char p[4096];
	snprintf(p, sizeof p, "%s/filler", dir);
	int fd = open(p, O_WRONLY | O_CREAT | O_APPEND, 0600);
	if (fd < 0)
		return;
	static char block[4096];
	memset(block, 0xff, sizeof block);
	while (write(fd, block, sizeof block) > 0)
		;
	close(fd);
}

/* In the child: a private 2 MiB tmpfs; open a segment, fill the file
 * system, run the workload. Exit 77: mount not permitted. */
static int tmpfs_child(const char *dir)
{
	if (unshare(CLONE_NEWNS) != 0 ||
	    mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) != 0 ||
	    mount("scales-full", dir, "tmpfs", 0, "size=2m,mode=0700") != 0) {
		printf("SKIP mount: %s\n", strerror(errno));
		return 77;
	}
	/* A full file system refuses an open with an error. */
	char sub[4096];
	snprintf(sub, sizeof sub, "%s/first", dir);
	mkdir(sub, 0700);
	fill_up(sub);
	struct scales_options o;
	small_opts(&o, sub);
	scales_registry *reg = NULL;
	int rc = scales_open(&o, &reg);
	if (rc == 0 || reg)
		fail("error", "open on a full tmpfs succeeded");
	if (reg)
		scales_close(&reg);
	char filler[4200];
	snprintf(filler, sizeof filler, "%s/filler", sub);
	unlink(filler);
	/* Open with room, fill, then the workload with no room at all. */
	shim_fail_from = 0;
	failures_ok = true;
	small_opts(&o, dir);
	rc = scales_open(&o, &reg);
	if (rc) {
		fail("error", "open on an empty tmpfs: %d (%s)", rc,
		     scales_strerror(rc));
		return 1;
	}
	char path[4096];
	snprintf(path, sizeof path, "%s", scales_registry_path(reg));
	/* Stats of a server that started while there was room. */
	for (int k = 0; k < 5; k++) {
		char p[32];
		snprintf(p, sizeof p, "/pre/%d", k);
		counter_step(reg, p, 500 + k, 1000 + (uint64_t)k);
	}
	fill_up(dir);
	workload(reg);
	if (refusals == 0)
		fail("error", "nothing was refused on a full tmpfs");
	check_pages(path);
	check_reader(path);
	scales_close(&reg);
	return child_failed ? 1 : 0;
}

/* ---------------------------------------------------------------- main */

int main(void)
{
	tap_plan(6);
	char base[] = "/dev/shm/scales-full-XXXXXX";
	char *dir = mkdtemp(base);
	if (!dir)
		dir = fresh_dir("full");
	seek_data_works = probe_seek_data(dir);
	if (!seek_data_works)
		tap_diag("%s does not report written pages (SEEK_DATA): the "
		         "page check is skipped",
		         dir);

	struct outcome o0;
	run_child(dir, 0, false, &o0);
	bool clean = WIFEXITED(o0.status) && WEXITSTATUS(o0.status) == 0;
	tap_ok(clean && o0.calls > 0,
	       "with room, the workload passes every check (%ld reservation "
	       "calls)",
	       o0.calls);
	if (!clean)
		tap_diag("%s", o0.lines);

	struct fails sig = { 0 }, err = { 0 }, pages = { 0 }, vals = { 0 };
	long total = o0.calls > 0 ? o0.calls : 0;
	for (long n = 1; n <= total; n++) {
		struct outcome o;
		run_child(dir, n, false, &o);
		char sbuf[64];
		if (!WIFEXITED(o.status))
			fail_add(&sig, "fail at call %ld: %s", n,
			         status_str(o.status, sbuf, sizeof sbuf));
		for (char *l = strtok(o.lines, "\n"); l;
		     l = strtok(NULL, "\n")) {
			struct fails *f =
			    !strncmp(l, "FAIL pages", 10) ? &pages :
			    !strncmp(l, "FAIL values", 11) ||
			            !strncmp(l, "FAIL reader", 11) ?
			                                    &vals :
			    !strncmp(l, "FAIL", 4) ? &err :
			                             NULL;
			if (f)
				fail_add(f, "fail at call %ld: %s", n, l + 5);
		}
		rm_rf(dir);
		mkdir(dir, 0700);
	}
	tap_fails(&sig, "no signal death, failing at each of the %ld calls",
	          total);
	tap_fails(&err,
	          "refusals are SCALES_E_FULL with a sink, counted in the "
	          "header; registration works once space is back");
	tap_fails(&pages, "every page holding data was reserved first");
	tap_fails(&vals, "readers see every registered stat, its value and "
	                 "its help");

	if (geteuid() != 0) {
		printf("ok 6 # SKIP a full tmpfs needs root (mount)\n");
	} else {
		struct outcome o;
		run_child(dir, 0, true, &o);
		char sbuf[64];
		if (WIFEXITED(o.status) && WEXITSTATUS(o.status) == 77) {
			printf("ok 6 # SKIP %s", o.lines);
		} else {
			tap_ok(WIFEXITED(o.status) &&
			           WEXITSTATUS(o.status) == 0,
			       "a real full tmpfs: no signal, errors, a whole "
			       "segment (%s)",
			       status_str(o.status, sbuf, sizeof sbuf));
			if (o.lines[0])
				tap_diag("%s", o.lines);
		}
	}
	rm_rf(dir);
	return tap_failed ? 1 : 0;
}
