/* SPDX-License-Identifier: MIT */
/*
 * segment.c: opening a segment file read-only, validating its header and
 * regions against the file's real size, and telling a live writer from a
 * dead one.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "internal.h"

#define LOAD_ACQ(p) __atomic_load_n((p), __ATOMIC_ACQUIRE)

/* What a non-regular file is, for messages. */
const char *r_file_type(mode_t m)
{
	if (S_ISLNK(m))
		return "symlink";
	if (S_ISDIR(m))
		return "directory";
	if (S_ISFIFO(m))
		return "fifo";
	if (S_ISSOCK(m))
		return "socket";
	if (S_ISCHR(m) || S_ISBLK(m))
		return "device";
	return "special file";
}

/* Checks a region [off, off + n * size) inside capacity, off aligned. */
static int check_region(const char *path, const char *what, uint64_t off,
                        uint64_t n, uint64_t size, uint64_t align,
                        const struct r_layout *l, char *err, size_t errlen)
{
	uint64_t end;
	if (!r_region_end(off, n, size, &end) || end > l->capacity ||
	    off < SCALES_SHM_HEADER_REGION)
		return r_fail(err, errlen, SCALES_RE_CORRUPT,
		              "%s: %s (offset %" PRIu64 ", %" PRIu64
		              " x %" PRIu64 " bytes) lies outside the segment "
		              "(%" PRIu64 " bytes)",
		              path, what, off, n, size, l->capacity);
	if (off % align)
		return r_fail(err, errlen, SCALES_RE_CORRUPT,
		              "%s: %s offset %" PRIu64 " is misaligned", path,
		              what, off);
	return 0;
}

/* Validates the header at map (len bytes) and copies its fixed part. */
static int validate_header(const char *path, const unsigned char *map,
                           size_t len, struct r_layout *l, char *err,
                           size_t errlen)
{
	struct scales_shm_header h;
	if (len < sizeof(h))
		return r_fail(err, errlen, SCALES_RE_NOT_SEGMENT,
		              "%s: too small for a segment (%zu bytes)", path,
		              len);
	memcpy(&h, map, sizeof(h));
	if (memcmp(h.magic, SCALES_SHM_MAGIC, 8) != 0)
		return r_fail(err, errlen, SCALES_RE_NOT_SEGMENT,
		              "%s: not a scales segment (bad magic)", path);
	if (h.byte_order != SCALES_SHM_BYTE_ORDER_LE ||
	    __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__) {
		/* a big-endian writer would store 1 in this byte too, but its
		 * version_major reads byte-swapped here */
		return r_fail(err, errlen, SCALES_RE_FOREIGN,
		              "%s: foreign byte order (%u)", path,
		              (unsigned)h.byte_order);
	}
	if (h.version_major == (uint16_t)(SCALES_SHM_VERSION_MAJOR << 8))
		return r_fail(err, errlen, SCALES_RE_FOREIGN,
		              "%s: foreign byte order (version reads swapped)",
		              path);
	if (h.version_major != SCALES_SHM_VERSION_MAJOR)
		return r_fail(
		    err, errlen, SCALES_RE_VERSION,
		    "%s: format version %u.%u, this reader reads %u.x", path,
		    (unsigned)h.version_major, (unsigned)h.version_minor,
		    (unsigned)SCALES_SHM_VERSION_MAJOR);
	if (h.word_size != 8)
		return r_fail(err, errlen, SCALES_RE_FOREIGN,
		              "%s: foreign word size (%u)", path,
		              (unsigned)h.word_size);
	if (h.header_size < SCALES_SHM_HEADER_1_0 ||
	    h.header_size > SCALES_SHM_HEADER_REGION || h.header_size % 8)
		return r_fail(err, errlen, SCALES_RE_CORRUPT,
		              "%s: bad header size %" PRIu32, path,
		              h.header_size);
	if (h.entry_size < SCALES_SHM_ENTRY_SIZE || h.entry_size % 8)
		return r_fail(err, errlen, SCALES_RE_CORRUPT,
		              "%s: bad entry size %u", path,
		              (unsigned)h.entry_size);
	if (h.nstripes < 1 || h.nstripes > 65536)
		return r_fail(err, errlen, SCALES_RE_CORRUPT,
		              "%s: bad number of stripes %" PRIu32, path,
		              h.nstripes);
	if (h.capacity < h.header_size || h.capacity > SIZE_MAX)
		return r_fail(err, errlen, SCALES_RE_CORRUPT,
		              "%s: bad capacity %" PRIu64, path, h.capacity);
	if (h.stripe_size % 8)
		return r_fail(err, errlen, SCALES_RE_CORRUPT,
		              "%s: stripe size %" PRIu64
		              " is not a multiple of 8",
		              path, h.stripe_size);

	/* fields a shorter header does not have read as zero: as before */
	if (h.header_size < sizeof(h))
		memset((char *)&h + h.header_size, 0,
		       sizeof(h) - h.header_size);

	memset(l, 0, sizeof(*l));
	/* slots (1.3): the flag is the creator's, set before the rename */
	l->slots = (h.flags & SCALES_SHM_F_SLOTS) && h.version_minor >= 3 &&
	           h.header_size >= SCALES_SHM_HEADER_1_3;
	l->top_slots =
	    h.top_slots < h.nstripes - 1 ? h.top_slots : h.nstripes - 1;
	l->version_major = h.version_major;
	l->version_minor = h.version_minor;
	l->header_size = h.header_size;
	l->entry_size = h.entry_size;
	l->nstripes = h.nstripes;
	l->pid = h.pid;
	l->start_time = h.start_time;
	l->creation_time_ns = h.creation_time_ns;
	/* app: NUL-terminated within 64 bytes, the app name's bytes only */
	char app[SCALES_SHM_APP_MAX];
	memcpy(app, h.app, sizeof(app));
	app[sizeof(app) - 1] = 0;
	scales_shm_app_name(app, l->app);
	l->capacity = h.capacity;
	l->dir_offset = h.dir_offset;
	l->dir_capacity = h.dir_capacity;
	l->data_offset = h.data_offset;
	l->data_capacity = h.data_capacity;
	l->stripe_offset = h.stripe_offset;
	l->stripe_size = h.stripe_size;
	l->strings_offset = h.strings_offset;
	l->strings_capacity = h.strings_capacity;
	l->heartbeat_period_ns = h.heartbeat_period_ns;
	l->pid_ns = h.pid_ns;

	int rc;
	if ((rc = check_region(path, "entry directory", l->dir_offset,
	                       l->dir_capacity, l->entry_size, 8, l, err,
	                       errlen)) ||
	    (rc = check_region(path, "data area", l->data_offset, 1,
	                       l->data_capacity, 8, l, err, errlen)) ||
	    (rc = check_region(path, "stripe area", l->stripe_offset,
	                       l->nstripes, l->stripe_size, 8, l, err,
	                       errlen)) ||
	    (rc = check_region(path, "string area", l->strings_offset, 1,
	                       l->strings_capacity, 8, l, err, errlen)))
		return rc;
	if (l->strings_capacity > UINT32_MAX)
		return r_fail(err, errlen, SCALES_RE_CORRUPT,
		              "%s: string area larger than 4 GiB", path);
	return 0;
}

const struct scales_shm_header *r_header_words(const scales_segment *seg,
                                               struct scales_shm_header *buf)
{
	if (seg->map)
		return (const struct scales_shm_header *)(const void *)seg->map;
	if (pread(seg->fd, buf, sizeof(*buf), 0) != (ssize_t)sizeof(*buf))
		return NULL;
	/* the kernel's loads are this thread's, in program order: the fence
	 * orders them before every later load, as the acquire loads below
	 * would through a mapping (docs/format.md, section 10) */
	__atomic_thread_fence(__ATOMIC_ACQUIRE);
	return buf;
}

/* Loads the header atomics from h (the mapping, or a copy whose loads an
 * acquire fence ordered) and checks them against the layout and the
 * file's length. */
static int used_from(const scales_segment *seg,
                     const struct scales_shm_header *h, struct r_used *u,
                     char *err, size_t errlen)
{
	const struct r_layout *l = &seg->lay;
	u->flags = LOAD_ACQ(&h->flags);
	u->dir_used = LOAD_ACQ(&h->dir_used);
	u->data_used = LOAD_ACQ(&h->data_used);
	u->stripe_used = LOAD_ACQ(&h->stripe_used);
	u->strings_used = LOAD_ACQ(&h->strings_used);
	u->generation = LOAD_ACQ(&h->generation);
	u->heartbeat_ns = LOAD_ACQ(&h->heartbeat_ns);
	u->refused = LOAD_ACQ(&h->refused);
	u->live_entries = LOAD_ACQ(&h->live_entries);
	u->slots_used = l->nstripes - 1;
	u->stripe_top = l->stripe_size;
	if (l->slots) {
		u->slots_used = LOAD_ACQ(&h->slots_used);
		u->stripe_top = LOAD_ACQ(&h->stripe_top);
	}

	const char *p = seg->path;
	if (u->dir_used > l->dir_capacity || u->data_used > l->data_capacity ||
	    u->stripe_used > u->stripe_top || u->stripe_top > l->stripe_size ||
	    u->slots_used > l->nstripes - 1 ||
	    u->strings_used > l->strings_capacity)
		return r_fail(
		    err, errlen, SCALES_RE_CORRUPT,
		    "%s: used sizes exceed capacities (entries %" PRIu32
		    "/%" PRIu32 ", data %" PRIu64 "/%" PRIu64
		    ", stripe %" PRIu64 "/%" PRIu64 ", strings %" PRIu64
		    "/%" PRIu64 ")",
		    p, u->dir_used, l->dir_capacity, u->data_used,
		    l->data_capacity, u->stripe_used, l->stripe_size,
		    u->strings_used, l->strings_capacity);
	if (u->live_entries > u->dir_used)
		u->live_entries = u->dir_used;
	/* the used part of each region must lie in the mapped file; the
	 * capacities were checked at open, so no overflow below */
	uint64_t need = l->header_size, end;
	end = l->dir_offset + (uint64_t)u->dir_used * l->entry_size;
	need = end > need ? end : need;
	end = l->data_offset + u->data_used;
	need = end > need ? end : need;
	if (u->stripe_used || u->stripe_top < l->stripe_size) {
		/* the shared stripe is the last one */
		end = l->stripe_offset +
		      (uint64_t)(l->nstripes - 1) * l->stripe_size +
		      (u->stripe_top < l->stripe_size ? l->stripe_size :
		                                        u->stripe_used);
		need = end > need ? end : need;
	}
	end = l->strings_offset + u->strings_used;
	need = end > need ? end : need;
	if (need > seg->len)
		return r_fail(err, errlen, SCALES_RE_TRUNCATED,
		              "%s: file (%" PRIu64
		              " bytes) is shorter than its "
		              "used regions (%" PRIu64 " bytes)",
		              p, seg->len, need);
	return 0;
}

int r_load_used(const scales_segment *seg, struct r_used *u, char *err,
                size_t errlen)
{
	struct scales_shm_header hb __attribute__((aligned(64)));
	const struct scales_shm_header *h = r_header_words(seg, &hb);
	if (!h)
		return r_fail(err, errlen, SCALES_RE_TRUNCATED,
		              "%s: cannot read the header", seg->path);
	return used_from(seg, h, u, err, errlen);
}

static int map_file(scales_segment *seg, size_t len, char *err, size_t errlen)
{
	void *m = mmap(NULL, len, PROT_READ, MAP_SHARED, seg->fd, 0);
	if (m == MAP_FAILED)
		return r_fail(err, errlen, -errno, "%s: mmap: %s", seg->path,
		              strerror(errno));
	if (seg->map)
		munmap((void *)seg->map, seg->map_len);
	seg->map = m;
	seg->map_len = len;
	return 0;
}

int r_segment_map(scales_segment *seg, char *err, size_t errlen)
{
	return seg->map ? 0 : map_file(seg, (size_t)seg->len, err, errlen);
}

int r_segment_refresh(scales_segment *seg, char *err, size_t errlen)
{
	struct stat st;
	if (fstat(seg->fd, &st) < 0)
		return r_fail(err, errlen, -errno, "%s: fstat: %s", seg->path,
		              strerror(errno));
	if (st.st_size < 0 || (uint64_t)st.st_size < seg->len)
		return r_fail(err, errlen, SCALES_RE_TRUNCATED,
		              "%s: file shrank from %" PRIu64 " to %lld bytes",
		              seg->path, seg->len, (long long)st.st_size);
	seg->file_size = (uint64_t)st.st_size;
	seg->uid = (uint32_t)st.st_uid;
	if ((uint64_t)st.st_size > seg->len && seg->len < seg->lay.capacity) {
		/* the writer grew the file: read (map) up to capacity */
		seg->len = (uint64_t)st.st_size < seg->lay.capacity ?
		               (uint64_t)st.st_size :
		               seg->lay.capacity;
		if (seg->map)
			return map_file(seg, (size_t)seg->len, err, errlen);
	}
	return 0;
}

int r_segment_refresh_pass(scales_segment *seg, char *err, size_t errlen)
{
	return seg->stat_fresh ? 0 : r_segment_refresh(seg, err, errlen);
}

/* Validates and maps the open file fd (owned: closed on failure). */
static int open_fd(int fd, const char *path, scales_segment **out, char *err,
                   size_t errlen)
{
	struct stat st;
	if (fstat(fd, &st) < 0) {
		int e = errno;
		close(fd);
		return r_fail(err, errlen, -e, "%s: fstat: %s", path,
		              strerror(e));
	}
	if (!S_ISREG(st.st_mode)) {
		close(fd);
		return r_fail(err, errlen, SCALES_RE_UNSAFE,
		              "%s: not a regular file (%s)", path,
		              r_file_type(st.st_mode));
	}
	if ((uint64_t)st.st_size < SCALES_SHM_HEADER_REGION) {
		close(fd);
		return r_fail(err, errlen, SCALES_RE_NOT_SEGMENT,
		              "%s: too small for a segment (%lld bytes)", path,
		              (long long)st.st_size);
	}
	scales_segment *seg = calloc(1, sizeof(*seg));
	if (!seg || !(seg->path = strdup(path))) {
		free(seg);
		close(fd);
		return r_fail(err, errlen, -ENOMEM, "%s: out of memory", path);
	}
	seg->fd = fd;
	seg->file_size = (uint64_t)st.st_size;
	seg->uid = (uint32_t)st.st_uid;
	seg->dev = st.st_dev;
	seg->ino = st.st_ino;
	seg->stat_fresh = true;

	/* read the header with pread first: a hostile size cannot make us
	 * map more than needed before the header is validated. At offset
	 * 0's alignment modulo 64: its atomics are copied whole and serve
	 * as the header words of this pass (seg->used) */
	unsigned char hb[sizeof(struct scales_shm_header)]
	    __attribute__((aligned(64)));
	ssize_t r = pread(fd, hb, sizeof(hb), 0);
	int rc;
	if (r != (ssize_t)sizeof(hb)) {
		rc = r_fail(err, errlen, SCALES_RE_TRUNCATED,
		            "%s: cannot read the header", path);
		goto fail;
	}
	rc = validate_header(path, hb, (size_t)st.st_size, &seg->lay, err,
	                     errlen);
	if (rc)
		goto fail;
	/* the writer sizes the file to capacity before publishing it */
	if ((uint64_t)st.st_size < seg->lay.capacity) {
		rc = r_fail(
		    err, errlen, SCALES_RE_TRUNCATED,
		    "%s: file (%lld bytes) is shorter than the segment's "
		    "capacity (%" PRIu64 " bytes)",
		    path, (long long)st.st_size, seg->lay.capacity);
		goto fail;
	}
	/* not mapped yet: a segment read once (scales-top -1, scales-export
	 * --once) is read with pread() only, its pages never mapped; the
	 * second snapshot maps it (r_segment_map()) */
	seg->len = seg->lay.capacity;
	/* the copy's loads before later ones, as acquire loads would be */
	__atomic_thread_fence(__ATOMIC_ACQUIRE);
	if ((rc = used_from(seg, (const struct scales_shm_header *)(void *)hb,
	                    &seg->used, err, errlen)))
		goto fail;
	*out = seg;
	return 0;
fail:
	scales_segment_close(&seg);
	return rc;
}

int scales_segment_open(const char *path, unsigned flags, scales_segment **out,
                        char *err, size_t errlen)
{
	(void)flags;
	*out = NULL;
	if (!path)
		return r_fail(err, errlen, -EINVAL, "no segment path");
	int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY |
	                        O_NONBLOCK);
	if (fd < 0) {
		int e = errno;
		if (e == ELOOP)
			return r_fail(err, errlen, SCALES_RE_UNSAFE,
			              "%s: is a symlink (refused)", path);
		return r_fail(err, errlen, -e, "%s: %s", path, strerror(e));
	}
	return open_fd(fd, path, out, err, errlen);
}

int scales_segment_open_fd(int fd, const char *name, unsigned flags,
                           scales_segment **out, char *err, size_t errlen)
{
	(void)flags;
	*out = NULL;
	char buf[32];
	if (!name) {
		snprintf(buf, sizeof(buf), "fd %d", fd);
		name = buf;
	}
	int own = fcntl(fd, F_DUPFD_CLOEXEC, 3);
	if (own < 0)
		return r_fail(err, errlen, -errno, "%s: %s", name,
		              strerror(errno));
	return open_fd(own, name, out, err, errlen);
}

void scales_segment_close(scales_segment **segp)
{
	if (!segp || !*segp)
		return;
	scales_segment *seg = *segp;
	if (seg->map)
		munmap((void *)seg->map, seg->map_len);
	if (seg->fd >= 0)
		close(seg->fd);
	free(seg->path);
	r_cache_reset(&seg->cache); /* snapshots keep their blocks */
	r_spare_unref(seg->spare);  /* and their spare */
	free(seg);
	*segp = NULL;
}

const char *scales_segment_path(const scales_segment *seg)
{
	return seg ? seg->path : NULL;
}

/* ------------------------------------------------------------- liveness */

/* The start time of pid (shm/proc.c): 1 found, 0 no such process visible,
 * -1 unreadable for another reason. */
int r_proc_start_time(int32_t pid, uint64_t *start)
{
	int rc = scales_shm_proc_start_time(pid, start);
	return rc == 0 ? 1 : rc == -ENOENT ? 0 : -1;
}

/* Our pid namespace's inode, 0 if it cannot be read. A process never
 * changes its pid namespace (pid_namespaces(7): unshare() and setns()
 * move its children only), but a child of fork() may be in another:
 * the stat is kept until a fork() (a pthread_atfork() handler forgets it
 * in the child), once per process instead of once per segment, and with
 * no getpid() per segment either. */
static _Atomic uint64_t ns_ino;
static _Atomic bool ns_known;
static pthread_once_t ns_once = PTHREAD_ONCE_INIT;

static void ns_forget(void)
{
	atomic_store_explicit(&ns_known, false, memory_order_relaxed);
}

static void ns_init(void)
{
	pthread_atfork(NULL, NULL, ns_forget);
}

static uint64_t own_pid_ns(void)
{
	pthread_once(&ns_once, ns_init);
	/* acquire: pairs with the release below, ns_ino is the one stored
	 * (the same for every thread of a process) */
	if (atomic_load_explicit(&ns_known, memory_order_acquire))
		return atomic_load_explicit(&ns_ino, memory_order_relaxed);
	struct stat st;
	if (stat("/proc/self/ns/pid", &st) < 0)
		return 0; /* not kept: /proc may be mounted later */
	atomic_store_explicit(&ns_ino, (uint64_t)st.st_ino,
	                      memory_order_relaxed);
	/* release: ns_ino is visible to whoever sees it known */
	atomic_store_explicit(&ns_known, true, memory_order_release);
	return (uint64_t)st.st_ino;
}

/* The writer's pid namespace against ours: 1 same, 0 unknown (pid_ns 0,
 * or ours cannot be read), -1 different. */
static int pid_ns_match(uint64_t pid_ns)
{
	if (!pid_ns)
		return 0;
	uint64_t own = own_pid_ns();
	if (!own)
		return 0;
	return own == pid_ns ? 1 : -1;
}

static bool heartbeat_recent(const struct r_layout *l, uint64_t hb)
{
	uint64_t period = l->heartbeat_period_ns;
	if (!period || !hb)
		return false;
	uint64_t win;
	if (__builtin_mul_overflow(period, 3, &win))
		win = UINT64_MAX;
	uint64_t now = r_now_mono();
	return hb >= now ? hb - now <= win : now - hb <= win;
}

void r_fill_info(const scales_segment *seg, const struct r_used *u,
                 struct scales_process_info *info)
{
	const struct r_layout *l = &seg->lay;
	memset(info, 0, sizeof(*info));
	info->pid = l->pid;
	memcpy(info->app, l->app, sizeof(info->app));
	info->start_time = l->start_time;
	info->creation_time_ns = l->creation_time_ns;
	info->file_size = seg->file_size;
	info->uid = seg->uid;
	info->live_metrics = u->live_entries;
	info->nstripes = l->nstripes;
	info->generation = u->generation;
	info->heartbeat_ns = u->heartbeat_ns;
	info->heartbeat_period_ns = l->heartbeat_period_ns;
	info->refused = u->refused;
	info->flags = u->flags;
	info->version_major = l->version_major;
	info->version_minor = l->version_minor;
	info->dir_capacity = l->dir_capacity;
	info->dir_used = u->dir_used;
	info->data_capacity = l->data_capacity;
	info->data_used = u->data_used;
	info->stripe_size = l->stripe_size;
	info->stripe_used = u->stripe_used;
	info->strings_capacity = l->strings_capacity;
	info->strings_used = u->strings_used;
	info->pid_ns = l->pid_ns;

	/* docs/format.md, "Liveness" */
	uint64_t st = 0;
	int live, ns = pid_ns_match(l->pid_ns);
	int found = l->pid > 0 && ns >= 0 ? r_proc_start_time(l->pid, &st) : 0;
	if (u->flags & SCALES_SHM_F_CLOSED) {
		live = SCALES_LIVE_CLOSED;
	} else if (found == 1) {
		/* same start time: our writer; else the pid was reused */
		live = st == l->start_time ? SCALES_LIVE_ALIVE :
		                             SCALES_LIVE_PID_REUSED;
	} else if (found == 0 && ns == 1) {
		/* our own pid namespace and no such process: gone */
		live = SCALES_LIVE_DEAD;
	} else {
		/* another pid namespace, or one we cannot tell: the
		 * heartbeat decides */
		live = heartbeat_recent(l, u->heartbeat_ns) ?
		           SCALES_LIVE_ALIVE :
		           SCALES_LIVE_DEAD;
	}
	info->liveness = live;
	info->alive = live == SCALES_LIVE_ALIVE;
}

/* The header's used words and the liveness, seg's stat refreshed. */
static int segment_info(scales_segment *seg, struct scales_process_info *out,
                        char *err, size_t errlen)
{
	struct r_used u;
	int rc;
	if (!seg->map) { /* a pread() copy: no SIGBUS to catch */
		if ((rc = r_load_used(seg, &u, err, errlen)))
			return rc;
		r_fill_info(seg, &u, out);
		return 0;
	}
	sigjmp_buf jb;
	if (sigsetjmp(jb, 0)) { /* no mask: see r_guard_enter() */
		r_guard_leave();
		return r_fail(err, errlen, SCALES_RE_TRUNCATED,
		              "%s: file truncated while reading (SIGBUS)",
		              seg->path);
	}
	r_guard_enter(&jb);
	rc = r_load_used(seg, &u, err, errlen);
	r_guard_leave();
	if (rc)
		return rc;
	r_fill_info(seg, &u, out);
	return 0;
}

int scales_segment_info(scales_segment *seg, struct scales_process_info *out,
                        char *err, size_t errlen)
{
	int rc = r_segment_refresh(seg, err, errlen);
	return rc ? rc : segment_info(seg, out, err, errlen);
}

int r_segment_info_pass(scales_segment *seg, struct scales_process_info *out,
                        char *err, size_t errlen)
{
	if (seg->stat_fresh) {
		/* opened in this pass: its header words read then serve, as
		 * its fstat does */
		r_fill_info(seg, &seg->used, out);
		return 0;
	}
	int rc = r_segment_refresh_pass(seg, err, errlen);
	return rc ? rc : segment_info(seg, out, err, errlen);
}
