/* SPDX-License-Identifier: MIT */
/*
 * test_segment.c: opening and validating segments: truncated, garbage,
 * foreign, symlinked, out-of-bounds and hostile files give errors (never a
 * crash); a file that shrinks underneath a reader gives an error; liveness.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "common.h"
#include "internal.h"

static char *dir;
static char path[4096];

static void setup(void)
{
	dir = sb_tmpdir();
}

static void teardown(void)
{
	sb_rmdir(dir);
	free(dir);
}

TestSuite(segment, .init = setup, .fini = teardown, .timeout = 60);

static struct segbuild *valid_image(void)
{
	struct segbuild *b = sb_new("web", 4242, 99, NULL);
	uint32_t c = sb_counter(b, "/web/errors", "errors seen");
	sb_counter_add(b, c, 0, 3);
	sb_counter_add(b, c, 2, 4);
	sb_gauge(b, "/web/level", -5);
	sb_state(b, "/web/state", "idle");
	uint32_t h = sb_histogram(b, "/web/latency", 5, 0, 100, 1e-9, 1);
	sb_hist_record(b, h, 1, 17);
	return b;
}

static void write_image(struct segbuild *b)
{
	cr_assert_eq(sb_write(b, dir, path, sizeof(path)), 0);
}

Test(segment, valid_image_opens_and_reads)
{
	struct segbuild *b = valid_image();
	write_image(b);
	sb_free(b);
	scales_segment *seg = must_open(path);
	cr_assert_str_eq(scales_segment_path(seg), path);
	struct scales_snapshot *s = must_snap(seg, 0);
	cr_assert_eq(s->n, 4);
	cr_assert_eq(s->invalid, 0);
	cr_assert_eq(must_find(s, "/web/errors")->v.u64, 7);
	scales_snapshot_free(&s);
	cr_assert_null(s);
	scales_segment_close(&seg);
	cr_assert_null(seg);
	scales_segment_close(&seg); /* NULL-safe */
}

Test(segment, missing_file)
{
	snprintf(path, sizeof(path), "%s/none.1.1.seg", dir);
	must_refuse(path, -ENOENT);
}

Test(segment, empty_and_tiny_files)
{
	cr_assert_eq(sb_write_raw(dir, "a.1.1.seg", "", 0, path, sizeof(path)),
	             0);
	must_refuse(path, SCALES_RE_NOT_SEGMENT);
	cr_assert_eq(sb_write_raw(dir, "b.1.1.seg", "SCALESHM", 8, path,
	                          sizeof(path)),
	             0);
	must_refuse(path, SCALES_RE_NOT_SEGMENT);
}

Test(segment, garbage)
{
	unsigned char junk[65536];
	srand(7);
	for (int round = 0; round < 20; round++) {
		for (size_t i = 0; i < sizeof(junk); i++)
			junk[i] = (unsigned char)rand();
		cr_assert_eq(sb_write_raw(dir, "g.1.1.seg", junk, sizeof(junk),
		                          path, sizeof(path)),
		             0);
		must_refuse(path, SCALES_RE_NOT_SEGMENT);
	}
}

/* Random bytes behind a valid magic and version: any error, no crash;
 * or, if the header happens to pass, snapshots never crash. */
Test(segment, garbage_behind_valid_magic)
{
	struct segbuild *b = valid_image();
	srand(11);
	for (int round = 0; round < 300; round++) {
		unsigned char *img = malloc(b->size);
		memcpy(img, b->img, b->size);
		/* scramble some header bytes after the version, and some
		 * entry bytes */
		int nflip = 1 + rand() % 8;
		for (int k = 0; k < nflip; k++) {
			size_t off = rand() % 2 ?
			                 12 + (size_t)rand() % 244 :
			                 4096 + (size_t)rand() % (4 * 384);
			img[off] = (unsigned char)rand();
		}
		cr_assert_eq(sb_write_raw(dir, "h.1.1.seg", img, b->size, path,
		                          sizeof(path)),
		             0);
		free(img);
		char err[512];
		scales_segment *seg = NULL;
		int rc = scales_segment_open(path, 0, &seg, err, sizeof(err));
		if (rc) {
			cr_assert_lt(rc, 0);
			cr_assert_null(seg);
			continue;
		}
		struct scales_snapshot *s = NULL;
		rc = scales_snapshot_take(seg, 0, &s, err, sizeof(err));
		if (!rc) {
			struct scales_buf jb = { 0 };
			const struct scales_snapshot *ss[1] = { s };
			cr_assert_eq(scales_json_render(&jb, ss, NULL, 1, 0),
			             0);
			scales_buf_free(&jb);
			scales_snapshot_free(&s);
		}
		scales_segment_close(&seg);
	}
	sb_free(b);
}

Test(segment, wrong_version)
{
	struct segbuild *b = valid_image();
	sb_header(b)->version_major = 2;
	write_image(b);
	must_refuse(path, SCALES_RE_VERSION);
	sb_header(b)->version_major = 0;
	write_image(b);
	must_refuse(path, SCALES_RE_VERSION);
	/* a newer minor version is fine */
	sb_header(b)->version_major = 1;
	sb_header(b)->version_minor = 7;
	write_image(b);
	scales_segment *seg = must_open(path);
	scales_segment_close(&seg);
	sb_free(b);
}

Test(segment, wrong_byte_order_and_word_size)
{
	struct segbuild *b = valid_image();
	sb_header(b)->byte_order = 2;
	write_image(b);
	must_refuse(path, SCALES_RE_FOREIGN);
	sb_header(b)->byte_order = SCALES_SHM_BYTE_ORDER_LE;
	/* what a big-endian writer's version 1 looks like here */
	sb_header(b)->version_major = 0x0100;
	write_image(b);
	must_refuse(path, SCALES_RE_FOREIGN);
	sb_header(b)->version_major = 1;
	sb_header(b)->word_size = 4;
	write_image(b);
	must_refuse(path, SCALES_RE_FOREIGN);
	sb_free(b);
}

Test(segment, symlink_directory_fifo_refused)
{
	struct segbuild *b = valid_image();
	write_image(b);
	sb_free(b);
	char link[4096];
	snprintf(link, sizeof(link), "%s/link.1.1.seg", dir);
	cr_assert_eq(symlink(path, link), 0);
	must_refuse(link, SCALES_RE_UNSAFE);
	char sub[4096];
	snprintf(sub, sizeof(sub), "%s/sub.1.1.seg", dir);
	cr_assert_eq(mkdir(sub, 0700), 0);
	must_refuse(sub, SCALES_RE_UNSAFE);
	char fifo[4096];
	snprintf(fifo, sizeof(fifo), "%s/fifo.1.1.seg", dir);
	cr_assert_eq(mkfifo(fifo, 0600), 0);
	must_refuse(fifo, SCALES_RE_UNSAFE);
}

/* Every truncated prefix of a valid image is refused. */
Test(segment, truncated_prefixes)
{
	struct segbuild *b = valid_image();
	for (size_t len = 0; len < b->size; len += 509) {
		cr_assert_eq(sb_write_raw(dir, "t.1.1.seg", b->img, len, path,
		                          sizeof(path)),
		             0);
		char err[512];
		scales_segment *seg = NULL;
		int rc = scales_segment_open(path, 0, &seg, err, sizeof(err));
		cr_assert(rc == SCALES_RE_NOT_SEGMENT ||
		              rc == SCALES_RE_TRUNCATED ||
		              rc == SCALES_RE_CORRUPT,
		          "len %zu: rc %d %s", len, rc, err);
	}
	sb_free(b);
}

/* Each header field pointing outside the file is refused. */
Test(segment, offsets_outside)
{
	struct segbuild *b = valid_image();
	struct scales_shm_header save = *sb_header(b);
	struct scales_shm_header *h = sb_header(b);
#define BAD(field, value, code)                                                \
	do {                                                                   \
		*h = save;                                                     \
		h->field = (value);                                            \
		write_image(b);                                                \
		must_refuse(path, code);                                       \
	} while (0)
	BAD(dir_offset, save.capacity, SCALES_RE_CORRUPT);
	BAD(dir_offset, UINT64_MAX - 100, SCALES_RE_CORRUPT);
	BAD(dir_offset, 8, SCALES_RE_CORRUPT); /* inside the header */
	BAD(dir_offset, save.dir_offset + 4, SCALES_RE_CORRUPT); /* align */
	BAD(dir_capacity, UINT32_MAX, SCALES_RE_CORRUPT);
	BAD(data_offset, save.capacity - 8, SCALES_RE_CORRUPT);
	BAD(data_capacity, UINT64_MAX, SCALES_RE_CORRUPT);
	BAD(stripe_offset, UINT64_MAX - 4095, SCALES_RE_CORRUPT);
	BAD(stripe_size, UINT64_MAX / 2 + 8, SCALES_RE_CORRUPT);
	BAD(stripe_size, 12, SCALES_RE_CORRUPT);
	BAD(nstripes, 0, SCALES_RE_CORRUPT);
	BAD(nstripes, save.nstripes + 1, SCALES_RE_CORRUPT);
	BAD(nstripes, UINT32_MAX, SCALES_RE_CORRUPT);
	BAD(strings_offset, save.capacity, SCALES_RE_CORRUPT);
	BAD(strings_capacity, UINT64_MAX - 7, SCALES_RE_CORRUPT);
	BAD(header_size, 100, SCALES_RE_CORRUPT);
	BAD(header_size, UINT32_MAX, SCALES_RE_CORRUPT);
	BAD(entry_size, 100, SCALES_RE_CORRUPT);
	BAD(entry_size, 390, SCALES_RE_CORRUPT);
	BAD(capacity, 100, SCALES_RE_CORRUPT);
	BAD(capacity, UINT64_MAX, SCALES_RE_TRUNCATED);
	/* used counters beyond capacities */
	BAD(dir_used, save.dir_capacity + 1, SCALES_RE_CORRUPT);
	BAD(data_used, save.data_capacity + 8, SCALES_RE_CORRUPT);
	BAD(stripe_used, save.stripe_size + 8, SCALES_RE_CORRUPT);
	BAD(strings_used, save.strings_capacity + 4, SCALES_RE_CORRUPT);
#undef BAD
	/* a capacity larger than the file, regions inside the capacity but
	 * used regions past the end of the file: truncated */
	*h = save;
	h->capacity = save.capacity * 2;
	h->stripe_offset = save.capacity + 4096;
	write_image(b);
	must_refuse(path, SCALES_RE_TRUNCATED);
	sb_free(b);
}

/* Hostile entries are skipped (counted in invalid), never read past. */
Test(segment, hostile_entries)
{
	struct segbuild *b = sb_new("evil", 7, 7, NULL);
	uint32_t good = sb_counter(b, "/ok/counter", "fine");
	sb_counter_add(b, good, 1, 42);
	int nbad = 0;
#define HOSTILE(stmt)                                                          \
	do {                                                                   \
		uint32_t i = sb_counter(b, "/bad/c", NULL);                    \
		struct scales_shm_entry *e = sb_entry(b, i);                   \
		(void)e;                                                       \
		stmt;                                                          \
		nbad++;                                                        \
	} while (0)
	HOSTILE(e->kind = 0);
	HOSTILE(e->kind = 99);
	HOSTILE(e->path_len = 0);
	HOSTILE(e->path_len = 300);
	HOSTILE(e->path_len = 3); /* "/ba" then not NUL */
	HOSTILE(memset(e->path, 'x', sizeof(e->path)); e->path_len = 255);
	HOSTILE(strcpy(e->path, "/bad/\x01\n"); e->path_len = 7);
	HOSTILE(strcpy(e->path, "/bad//x"); e->path_len = 7);
	HOSTILE(strcpy(e->path, "/bad/../x"); e->path_len = 9);
	HOSTILE(strcpy(e->path, "no-slash"); e->path_len = 8);
	HOSTILE(e->help = 3);          /* below the first string */
	HOSTILE(e->help = 10);         /* misaligned */
	HOSTILE(e->help = 0x7ffffff0); /* past strings_used */
	HOSTILE(e->stripe_offset = sb_header(b)->stripe_size);
	HOSTILE(e->stripe_offset = UINT64_MAX - 3);
	HOSTILE(e->stripe_offset = 4); /* misaligned */
	HOSTILE(e->stripe_size = 16);
	/* a string whose length runs past strings_used */
	{
		uint32_t ref = sb_string(b, "abcd");
		uint32_t big = 1u << 30;
		memcpy(b->img + sb_header(b)->strings_offset + ref, &big, 4);
		HOSTILE(e->help = ref);
	}
	/* gauges and states with bad data offsets */
	{
		uint32_t i = sb_gauge(b, "/bad/g1", 1);
		sb_entry(b, i)->data_offset = sb_header(b)->capacity - 4;
		i = sb_gauge(b, "/bad/g2", 1);
		sb_entry(b, i)->data_offset = 8; /* the header */
		i = sb_gauge(b, "/bad/g3", 1);
		sb_entry(b, i)->data_size = 4;
		i = sb_state(b, "/bad/s1", "x");
		uint32_t badref = 0xfffffff0;
		memcpy(b->img + sb_entry(b, i)->data_offset, &badref, 4);
		i = sb_gauge(b, "/bad/g4", 1);
		sb_entry(b, i)->stripe_size = 8; /* a gauge has no stripes */
		i = sb_gauge(b, "/bad/g5", 1);
		/* inside the data area but past data_used */
		sb_entry(b, i)->data_offset =
		    sb_header(b)->data_offset + sb_header(b)->data_capacity - 8;
		nbad += 6;
	}
	/* histograms with absurd parameters */
	{
		struct {
			uint32_t sb, us, nb, stripe;
			double scale;
		} hp[] = {
			{ 4, 0, 100, 0, 1 },         { 11, 0, 100, 0, 1 },
			{ 5, 33, 100, 0, 1 },        { 5, 0, 0, 0, 1 },
			{ 5, 0, 64, 0, 1 },   /* not above the linear range */
			{ 5, 0, 3000, 0, 1 }, /* more than fit in u64 */
			{ 5, 0, 100, 8 * 100, 1 }, /* stripe size != 8 (nb + 1) */
			{ 5, 0, 100, 0, 0 },         { 5, 0, 100, 0, -1 },
			{ 5, 0, 100, 0, 1.0 / 0.0 },
		};
		for (size_t k = 0; k < sizeof(hp) / sizeof(hp[0]); k++) {
			uint32_t i = sb_histogram(b, "/bad/h", 5, 0, 100, 1, 0);
			struct scales_shm_entry *e = sb_entry(b, i);
			e->param[0] = hp[k].sb;
			e->param[1] = hp[k].us;
			e->param[2] = hp[k].nb;
			if (hp[k].stripe)
				e->stripe_size = hp[k].stripe;
			e->scale = hp[k].scale;
			nbad++;
		}
	}
	/* aggregates naming no string, or a bad one */
	{
		uint32_t i = sb_agg(b, "/bad/agg", SCALES_SHM_AGG_SUM, "x");
		sb_entry(b, i)->param[0] = 0;
		i = sb_agg(b, "/bad/agg2", SCALES_SHM_AGG_STATES, "x");
		sb_entry(b, i)->param[0] = 0xffff0000;
		nbad += 2;
	}
#undef HOSTILE
	struct scales_snapshot *s = build_snap(b, 0);
	for (size_t k = 0; k < s->n; k++)
		cr_log_info("shown: %s", s->metrics[k].path);
	cr_assert_eq(s->invalid, (uint32_t)nbad, "invalid %u, want %d",
	             s->invalid, nbad);
	cr_assert_eq(s->n, 1);
	cr_assert_str_eq(s->metrics[0].path, "/ok/counter");
	cr_assert_eq(s->metrics[0].v.u64, 42);
	cr_assert_str_eq(s->metrics[0].help, "fine");
	scales_snapshot_free(&s);
	sb_free(b);
}

Test(segment, app_name_is_sanitised)
{
	struct segbuild *b = valid_image();
	memset(sb_header(b)->app, 'A', SCALES_SHM_APP_MAX); /* no NUL */
	sb_header(b)->app[3] = '\n';
	write_image(b);
	scales_segment *seg = must_open(path);
	struct scales_process_info info;
	cr_assert_eq(scales_segment_info(seg, &info, NULL, 0), 0);
	cr_assert_eq(strlen(info.app), SCALES_SHM_APP_MAX - 1);
	cr_assert_eq(info.app[3], '_');
	scales_segment_close(&seg);
	sb_free(b);
}

/* The file shrinks after open: info and snapshot give an error. */
Test(segment, shrinks_after_open)
{
	struct segbuild *b = valid_image();
	write_image(b);
	scales_segment *seg = must_open(path);
	cr_assert_eq(truncate(path, 4096), 0);
	char err[512];
	struct scales_snapshot *s = NULL;
	int rc = scales_snapshot_take(seg, 0, &s, err, sizeof(err));
	cr_assert_eq(rc, SCALES_RE_TRUNCATED, "rc %d %s", rc, err);
	cr_assert_null(s);
	struct scales_process_info info;
	rc = scales_segment_info(seg, &info, err, sizeof(err));
	cr_assert_eq(rc, SCALES_RE_TRUNCATED);
	scales_segment_close(&seg);
	/* shrunk to its header page and grown back: the entries read as
	 * zeros (FREE), so nothing is shown, and nothing crashes */
	cr_assert_eq(truncate(path, (off_t)b->size), 0);
	seg = must_open(path);
	s = must_snap(seg, 0);
	cr_assert_eq(s->n, 0);
	scales_snapshot_free(&s);
	scales_segment_close(&seg);
	sb_free(b);
}

/* The SIGBUS guard itself: a load from a truncated mapping unwinds, every
 * time, with the mask not saved by sigsetjmp() (as the library's guards
 * do): the handler must leave SIGBUS unblocked, or the second fault kills
 * the process. */
Test(segment, sigbus_guard)
{
	struct segbuild *b = valid_image();
	write_image(b);
	int fd = open(path, O_RDONLY);
	cr_assert_geq(fd, 0);
	volatile const unsigned char *m =
	    mmap(NULL, b->size, PROT_READ, MAP_SHARED, fd, 0);
	cr_assert_neq((void *)m, MAP_FAILED);
	cr_assert_eq(truncate(path, 0), 0);
	volatile int faults = 0;
	for (int i = 0; i < 3; i++) {
		sigjmp_buf jb;
		if (sigsetjmp(jb, 0)) {
			r_guard_leave();
			faults++;
			continue;
		}
		r_guard_enter(&jb);
		(void)m[8192];
		r_guard_leave();
	}
	cr_assert_eq(faults, 3);
	munmap((void *)m, b->size);
	close(fd);
	sb_free(b);
}

/* A file truncated and restored over and over while being snapshotted:
 * every snapshot succeeds or reports an error; nothing crashes. */
struct flapper {
	const char *path;
	const unsigned char *img;
	size_t size;
	atomic_bool stop;
};

static void *flap(void *arg)
{
	struct flapper *f = arg;
	int fd = open(f->path, O_RDWR);
	while (!atomic_load(&f->stop)) {
		/* keep the header page, drop the rest, write it back */
		if (ftruncate(fd, 4096) ||
		    pwrite(fd, f->img + 4096, f->size - 4096, 4096) !=
		        (ssize_t)(f->size - 4096))
			break;
		sched_yield();
	}
	close(fd);
	return NULL;
}

Test(segment, shrinking_while_reading)
{
	struct sb_config cfg = { .dir_capacity = 4096,
		                 .stripe_size = 65536,
		                 .strings_capacity = 65536 };
	struct segbuild *b = sb_new("flap", 5, 5, &cfg);
	char p[64];
	for (int i = 0; i < 4000; i++) {
		snprintf(p, sizeof(p), "/c/%d", i);
		sb_counter_add(b, sb_counter(b, p, "help"), 1, (uint64_t)i);
	}
	write_image(b);
	scales_segment *seg = must_open(path);
	struct flapper f = { path, b->img, b->size, false };
	pthread_t t;
	pthread_create(&t, NULL, flap, &f);
	int ok = 0, errors = 0, sigbus = 0;
	for (int i = 0; i < 300; i++) {
		char err[512];
		struct scales_snapshot *s = NULL;
		int rc = scales_snapshot_take(seg, 0, &s, err, sizeof(err));
		if (rc == 0) {
			ok++;
			scales_snapshot_free(&s);
		} else {
			cr_assert(rc == SCALES_RE_TRUNCATED ||
			              rc == SCALES_RE_CORRUPT,
			          "rc %d %s", rc, err);
			errors++;
			sigbus += strstr(err, "SIGBUS") != NULL;
			/* reopen: the mapping of a shrunk file is stale */
			scales_segment_close(&seg);
			while (scales_segment_open(path, 0, &seg, NULL, 0))
				sched_yield();
		}
	}
	atomic_store(&f.stop, true);
	pthread_join(t, NULL);
	scales_segment_close(&seg);
	cr_log_info("shrinking: %d snapshots, %d errors (%d by SIGBUS)", ok,
	            errors, sigbus);
	cr_assert_eq(ok + errors, 300);
	sb_free(b);
}

/* ------------------------------------------------------------- liveness */

static int liveness_of(struct segbuild *b)
{
	write_image(b);
	scales_segment *seg = must_open(path);
	struct scales_process_info info;
	char err[256];
	cr_assert_eq(scales_segment_info(seg, &info, err, sizeof(err)), 0, "%s",
	             err);
	scales_segment_close(&seg);
	cr_assert_eq(info.alive, info.liveness == SCALES_LIVE_ALIVE);
	return info.liveness;
}

static uint64_t mono_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

Test(segment, liveness)
{
	/* ourselves, with our real start time */
	struct segbuild *b = sb_new("me", getpid(), sb_self_start_time(), NULL);
	cr_assert_eq(liveness_of(b), SCALES_LIVE_ALIVE);
	/* our pid with another start time: a dead writer, pid reused */
	sb_header(b)->start_time += 12345;
	cr_assert_eq(liveness_of(b), SCALES_LIVE_PID_REUSED);
	/* even with a fresh heartbeat: /proc decides when it can */
	sb_header(b)->heartbeat_period_ns = 1000000000;
	sb_header(b)->heartbeat_ns = mono_now();
	cr_assert_eq(liveness_of(b), SCALES_LIVE_PID_REUSED);
	/* our own pid namespace, recorded: same answers */
	struct stat ns;
	cr_assert_eq(stat("/proc/self/ns/pid", &ns), 0);
	sb_header(b)->pid_ns = ns.st_ino;
	cr_assert_eq(liveness_of(b), SCALES_LIVE_PID_REUSED);
	/* another pid namespace: our /proc means nothing, the heartbeat
	 * decides */
	sb_header(b)->pid_ns = ns.st_ino + 1;
	cr_assert_eq(liveness_of(b), SCALES_LIVE_ALIVE);
	sb_header(b)->heartbeat_ns = mono_now() - 60ull * 1000000000;
	cr_assert_eq(liveness_of(b), SCALES_LIVE_DEAD);
	sb_header(b)->heartbeat_ns = mono_now();
	/* closed cleanly */
	sb_header(b)->flags |= SCALES_SHM_F_CLOSED;
	cr_assert_eq(liveness_of(b), SCALES_LIVE_CLOSED);
	sb_free(b);

	/* a pid that does not exist here: the heartbeat decides */
	b = sb_new("ns", 0x7ffffff0, 1, NULL);
	cr_assert_eq(liveness_of(b), SCALES_LIVE_DEAD);
	sb_header(b)->heartbeat_period_ns = 1000000000;
	sb_header(b)->heartbeat_ns = mono_now();
	cr_assert_eq(liveness_of(b), SCALES_LIVE_ALIVE);
	sb_header(b)->heartbeat_ns = mono_now() - 10ull * 1000000000;
	cr_assert_eq(liveness_of(b), SCALES_LIVE_DEAD);
	sb_header(b)->heartbeat_ns = mono_now() - 2ull * 1000000000;
	cr_assert_eq(liveness_of(b), SCALES_LIVE_ALIVE); /* within 3 periods */
	/* the writer's pid namespace is ours: no such pid means dead, even
	 * with a fresh heartbeat (a writer that crashed a moment ago) */
	struct stat ns2;
	cr_assert_eq(stat("/proc/self/ns/pid", &ns2), 0);
	sb_header(b)->heartbeat_ns = mono_now();
	sb_header(b)->pid_ns = ns2.st_ino;
	cr_assert_eq(liveness_of(b), SCALES_LIVE_DEAD);
	sb_header(b)->pid_ns = 0;
	sb_header(b)->heartbeat_period_ns = 0; /* no heartbeat */
	cr_assert_eq(liveness_of(b), SCALES_LIVE_DEAD);
	sb_free(b);
}

Test(segment, info_fields)
{
	struct segbuild *b = valid_image();
	sb_header(b)->refused = 3;
	write_image(b);
	scales_segment *seg = must_open(path);
	struct scales_process_info info;
	cr_assert_eq(scales_segment_info(seg, &info, NULL, 0), 0);
	cr_assert_eq(info.pid, 4242);
	cr_assert_str_eq(info.app, "web");
	cr_assert_eq(info.start_time, 99);
	cr_assert_eq(info.file_size, b->size);
	cr_assert_eq(info.live_metrics, 4);
	cr_assert_eq(info.nstripes, 3);
	cr_assert_eq(info.refused, 3);
	cr_assert_eq(info.generation, 4);
	cr_assert_eq(info.version_major, 1);
	cr_assert_eq(info.dir_used, 4);
	cr_assert_gt(info.creation_time_ns, 0);
	scales_segment_close(&seg);
	sb_free(b);
}

Test(segment, strerror_names_every_code)
{
	int codes[] = { SCALES_RE_NOT_SEGMENT,
		        SCALES_RE_VERSION,
		        SCALES_RE_FOREIGN,
		        SCALES_RE_CORRUPT,
		        SCALES_RE_TRUNCATED,
		        SCALES_RE_UNSAFE,
		        SCALES_RE_NOT_FOUND,
		        -ENOENT,
		        0,
		        -99999 };
	for (size_t i = 0; i < sizeof(codes) / sizeof(codes[0]); i++) {
		const char *s = scales_reader_strerror(codes[i]);
		cr_assert_not_null(s);
		cr_assert_gt(strlen(s), 0);
	}
	cr_assert_str_eq(scales_reader_version(), "0.1.0");
}

Test(segment, open_fd_memfd_and_pipe)
{
	struct segbuild *b = valid_image();
	int fd = memfd_create("seg", MFD_CLOEXEC);
	cr_assert_geq(fd, 0);
	cr_assert_eq(write(fd, b->img, b->size), (ssize_t)b->size);
	scales_segment *seg = NULL;
	char err[512];
	cr_assert_eq(scales_segment_open_fd(fd, "memfd", 0, &seg, err,
	                                    sizeof(err)),
	             0, "%s", err);
	close(fd); /* the segment holds its own descriptor */
	cr_assert_str_eq(scales_segment_path(seg), "memfd");
	struct scales_snapshot *s = must_snap(seg, 0);
	cr_assert_eq(must_find(s, "/web/errors")->v.u64, 7);
	scales_snapshot_free(&s);
	scales_segment_close(&seg);

	int p[2];
	cr_assert_eq(pipe(p), 0);
	cr_assert_eq(scales_segment_open_fd(p[0], NULL, 0, &seg, err,
	                                    sizeof(err)),
	             SCALES_RE_UNSAFE);
	cr_assert_not_null(strstr(err, "fd "));
	close(p[0]);
	close(p[1]);
	cr_assert_eq(scales_segment_open_fd(-1, NULL, 0, &seg, err,
	                                    sizeof(err)),
	             -EBADF);
	sb_free(b);
}

/* A unit from a newer minor version (docs/format.md, section 13) keeps the
 * entry, shown with the unit "unknown". */
Test(segment, unknown_unit_shown)
{
	struct segbuild *b = sb_new("newer", 7, 7, NULL);
	uint32_t i = sb_counter(b, "/new/unit", NULL);
	sb_counter_add(b, i, 0, 5);
	sb_entry(b, i)->unit = 77;
	struct scales_snapshot *s = build_snap(b, 0);
	cr_assert_eq(s->invalid, 0);
	const struct scales_metric *m = must_find(s, "/new/unit");
	cr_assert_eq(m->v.u64, 5);
	cr_assert_eq(m->unit, 77);
	cr_assert_str_eq(scales_unit_name(m->unit), "unknown");
	scales_snapshot_free(&s);
	sb_free(b);
}
