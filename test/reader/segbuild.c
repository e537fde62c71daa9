/* SPDX-License-Identifier: MIT */
/*
 * segbuild.c: hand-made segment images for reader tests (see segbuild.h).
 */
#include "segbuild.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static void die(const char *what)
{
	fprintf(stderr, "segbuild: %s\n", what);
	abort();
}

static uint64_t up(uint64_t v, uint64_t a)
{
	return (v + a - 1) / a * a;
}

struct segbuild *sb_new(const char *app, int32_t pid, uint64_t start_time,
                        const struct sb_config *cfg)
{
	struct segbuild *b = calloc(1, sizeof(*b));
	if (!b)
		die("out of memory");
	if (cfg)
		b->cfg = *cfg;
	if (!b->cfg.nstripes)
		b->cfg.nstripes = 3;
	if (!b->cfg.dir_capacity)
		b->cfg.dir_capacity = 64;
	if (!b->cfg.data_capacity)
		b->cfg.data_capacity = 4096;
	if (!b->cfg.stripe_size)
		b->cfg.stripe_size = 16384;
	if (!b->cfg.strings_capacity)
		b->cfg.strings_capacity = 8192;
	struct scales_shm_header h;
	memset(&h, 0, sizeof(h));
	memcpy(h.magic, SCALES_SHM_MAGIC, 8);
	h.version_major = SCALES_SHM_VERSION_MAJOR;
	h.version_minor = SCALES_SHM_VERSION_MINOR;
	h.header_size = sizeof(h);
	h.byte_order = SCALES_SHM_BYTE_ORDER_LE;
	h.word_size = 8;
	h.entry_size = SCALES_SHM_ENTRY_SIZE;
	h.nstripes = b->cfg.nstripes;
	h.pid = pid;
	h.start_time = start_time;
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	h.creation_time_ns =
	    (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
	snprintf(h.app, sizeof(h.app), "%s", app);
	h.dir_offset = SCALES_SHM_HEADER_REGION;
	h.dir_capacity = b->cfg.dir_capacity;
	h.data_offset =
	    up(h.dir_offset + (uint64_t)h.dir_capacity * SCALES_SHM_ENTRY_SIZE,
	       64);
	h.data_capacity = b->cfg.data_capacity;
	h.strings_offset = up(h.data_offset + h.data_capacity, 64);
	h.strings_capacity = b->cfg.strings_capacity;
	h.strings_used = SCALES_SHM_STRINGS_FIRST;
	h.stripe_offset = up(h.strings_offset + h.strings_capacity, 4096);
	h.stripe_size = up(b->cfg.stripe_size, 64);
	h.capacity = h.stripe_offset + h.stripe_size * h.nstripes;
	b->size = h.capacity;
	b->img = calloc(1, b->size);
	if (!b->img)
		die("out of memory");
	memcpy(b->img, &h, sizeof(h));
	return b;
}

void sb_free(struct segbuild *b)
{
	if (b) {
		free(b->img);
		free(b);
	}
}

struct scales_shm_entry *sb_entry(struct segbuild *b, uint32_t idx)
{
	struct scales_shm_header *h = sb_header(b);
	return (struct scales_shm_entry *)(void *)(b->img + h->dir_offset +
	                                           (uint64_t)idx *
	                                               h->entry_size);
}

uint32_t sb_string(struct segbuild *b, const char *s)
{
	struct scales_shm_header *h = sb_header(b);
	/* same string, same ref (as the writer's interning) */
	for (uint64_t off = SCALES_SHM_STRINGS_FIRST; off < h->strings_used;) {
		uint32_t len;
		memcpy(&len, b->img + h->strings_offset + off, 4);
		if (len == strlen(s) &&
		    memcmp(b->img + h->strings_offset + off + 4, s, len) == 0)
			return (uint32_t)off;
		off += up(4 + len + 1, 4);
	}
	size_t len = strlen(s);
	uint64_t sz = up(4 + len + 1, 4);
	if (h->strings_used + sz > h->strings_capacity)
		die("string area full");
	unsigned char *p = b->img + h->strings_offset + h->strings_used;
	uint32_t l = (uint32_t)len;
	memcpy(p, &l, 4);
	memcpy(p + 4, s, len);
	p[4 + len] = 0;
	uint32_t ref = (uint32_t)h->strings_used;
	h->strings_used += sz;
	return ref;
}

static uint32_t new_entry(struct segbuild *b, const char *path, unsigned kind,
                          unsigned unit)
{
	struct scales_shm_header *h = sb_header(b);
	if (h->dir_used >= h->dir_capacity)
		die("directory full");
	uint32_t idx = h->dir_used++;
	struct scales_shm_entry *e = sb_entry(b, idx);
	memset(e, 0, sizeof(*e));
	e->kind = (uint16_t)kind;
	e->unit = (uint16_t)unit;
	size_t n = strlen(path);
	if (n >= SCALES_SHM_PATH_MAX)
		die("path too long");
	e->path_len = (uint32_t)n;
	memcpy(e->path, path, n + 1);
	e->generation = 2;
	e->state = SCALES_SHM_LIVE;
	e->scale = 1;
	h->generation++;
	h->live_entries++;
	return idx;
}

static uint64_t alloc_data(struct segbuild *b, uint32_t size)
{
	struct scales_shm_header *h = sb_header(b);
	uint64_t sz = up(size, 8);
	if (h->data_used + sz > h->data_capacity)
		die("data area full");
	uint64_t off = h->data_offset + h->data_used;
	h->data_used += sz;
	return off;
}

static uint64_t alloc_stripe(struct segbuild *b, uint32_t size)
{
	struct scales_shm_header *h = sb_header(b);
	if (h->stripe_used + size > h->stripe_size)
		die("stripes full");
	uint64_t off = h->stripe_used;
	h->stripe_used += size;
	return off;
}

uint32_t sb_counter(struct segbuild *b, const char *path, const char *help)
{
	uint32_t i = new_entry(b, path, SCALES_SHM_COUNTER, 0);
	struct scales_shm_entry *e = sb_entry(b, i);
	e->stripe_size = 8;
	e->stripe_offset = alloc_stripe(b, 8);
	if (help)
		e->help = sb_string(b, help);
	return i;
}

uint32_t sb_gauge(struct segbuild *b, const char *path, int64_t v)
{
	uint32_t i = new_entry(b, path, SCALES_SHM_GAUGE_I64, 0);
	struct scales_shm_entry *e = sb_entry(b, i);
	e->data_size = 8;
	e->data_offset = alloc_data(b, 8);
	memcpy(b->img + e->data_offset, &v, 8);
	return i;
}

uint32_t sb_gauge_f64(struct segbuild *b, const char *path, double v)
{
	uint32_t i = new_entry(b, path, SCALES_SHM_GAUGE_F64, 0);
	struct scales_shm_entry *e = sb_entry(b, i);
	e->data_size = 8;
	e->data_offset = alloc_data(b, 8);
	memcpy(b->img + e->data_offset, &v, 8);
	return i;
}

void sb_state_set(struct segbuild *b, uint32_t idx, const char *value)
{
	uint32_t ref = value ? sb_string(b, value) : 0;
	struct scales_shm_entry *e = sb_entry(b, idx);
	memcpy(b->img + e->data_offset, &ref, 4);
}

uint32_t sb_state(struct segbuild *b, const char *path, const char *value)
{
	uint32_t i = new_entry(b, path, SCALES_SHM_STATE, 0);
	struct scales_shm_entry *e = sb_entry(b, i);
	e->data_size = 8;
	e->data_offset = alloc_data(b, 8);
	sb_state_set(b, i, value);
	return i;
}

uint32_t sb_histogram(struct segbuild *b, const char *path, unsigned sub_bits,
                      unsigned unit_shift, uint32_t nbuckets, double scale,
                      unsigned unit)
{
	uint32_t i = new_entry(b, path, SCALES_SHM_HISTOGRAM, unit);
	struct scales_shm_entry *e = sb_entry(b, i);
	e->param[0] = sub_bits;
	e->param[1] = unit_shift;
	e->param[2] = nbuckets;
	e->scale = scale;
	e->stripe_size = 8 * (nbuckets + 1);
	e->stripe_offset = alloc_stripe(b, e->stripe_size);
	e->data_size = 16;
	e->data_offset = alloc_data(b, 16);
	uint64_t mm[2] = { UINT64_MAX, 0 };
	memcpy(b->img + e->data_offset, mm, 16);
	return i;
}

uint32_t sb_agg(struct segbuild *b, const char *path, unsigned kind,
                const char *child)
{
	uint32_t i = new_entry(b, path, kind, 0);
	sb_entry(b, i)->param[0] = sb_string(b, child);
	return i;
}

uint32_t sb_dict(struct segbuild *b, const char *path)
{
	return new_entry(b, path, SCALES_SHM_DICT, 0);
}

size_t sb_counter_offset(struct segbuild *b, uint32_t idx, uint32_t stripe)
{
	struct scales_shm_header *h = sb_header(b);
	struct scales_shm_entry *e = sb_entry(b, idx);
	return h->stripe_offset + stripe * h->stripe_size + e->stripe_offset;
}

void sb_counter_add(struct segbuild *b, uint32_t idx, uint32_t stripe,
                    uint64_t n)
{
	uint64_t *w =
	    (uint64_t *)(void *)(b->img + sb_counter_offset(b, idx, stripe));
	*w += n;
}

void sb_hist_record(struct segbuild *b, uint32_t idx, uint32_t stripe,
                    uint64_t v)
{
	struct scales_shm_entry *e = sb_entry(b, idx);
	uint64_t *w =
	    (uint64_t *)(void *)(b->img + sb_counter_offset(b, idx, stripe));
	unsigned sub_bits = e->param[0], unit_shift = e->param[1];
	uint32_t last = e->param[2] - 1;
	/* the writer's scales_histogram_bucket() */
	uint64_t x = v >> unit_shift;
	unsigned msb = 63u - (unsigned)__builtin_clzll(x | 1);
	unsigned shift = msb > sub_bits ? msb - sub_bits : 0;
	uint64_t bi = ((uint64_t)shift << sub_bits) + (x >> shift);
	if (bi > last)
		bi = last;
	w[0] += v;
	w[1 + bi]++;
	uint64_t *mm = (uint64_t *)(void *)(b->img + e->data_offset);
	if (v < mm[0])
		mm[0] = v;
	if (v > mm[1])
		mm[1] = v;
}

void sb_retire(struct segbuild *b, uint32_t idx)
{
	struct scales_shm_entry *e = sb_entry(b, idx);
	e->generation += 2;
	e->state = SCALES_SHM_RETIRED;
	sb_header(b)->live_entries--;
	sb_header(b)->generation++;
}

int sb_write_raw(const char *dir, const char *name, const void *bytes, size_t n,
                 char *path, size_t len)
{
	snprintf(path, len, "%s/%s", dir, name);
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		return -errno;
	const unsigned char *p = bytes;
	while (n) {
		ssize_t w = write(fd, p, n);
		if (w < 0) {
			int e = errno;
			close(fd);
			return -e;
		}
		p += w;
		n -= (size_t)w;
	}
	close(fd);
	return 0;
}

int sb_write(struct segbuild *b, const char *dir, char *path, size_t len)
{
	struct scales_shm_header *h = sb_header(b);
	char name[256];
	snprintf(name, sizeof(name), "%s.%" PRId32 ".%" PRIu64 ".seg", h->app,
	         h->pid, h->start_time);
	return sb_write_raw(dir, name, b->img, b->size, path, len);
}

char *sb_tmpdir(void)
{
	const char *t = getenv("TMPDIR");
	char tmpl[4096];
	snprintf(tmpl, sizeof(tmpl), "%s/scales-reader-test.XXXXXX",
	         t && *t ? t : "/tmp");
	char *d = mkdtemp(tmpl);
	if (!d)
		die("mkdtemp failed");
	setenv("SCALES_DIR", d, 1);
	char *r = strdup(d);
	if (!r)
		die("out of memory");
	return r;
}

void sb_rmdir(const char *dir)
{
	DIR *d = opendir(dir);
	if (d) {
		struct dirent *de;
		while ((de = readdir(d))) {
			if (!strcmp(de->d_name, ".") ||
			    !strcmp(de->d_name, ".."))
				continue;
			char p[4096];
			snprintf(p, sizeof(p), "%s/%s", dir, de->d_name);
			if (unlink(p) < 0)
				rmdir(p);
		}
		closedir(d);
	}
	rmdir(dir);
}

uint64_t sb_self_start_time(void)
{
	char buf[1024];
	int fd = open("/proc/self/stat", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		die("cannot open /proc/self/stat");
	ssize_t n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		die("cannot read /proc/self/stat");
	buf[n] = 0;
	char *p = strrchr(buf, ')');
	if (!p)
		die("bad /proc/self/stat");
	p++;
	for (int field = 3; field < 22; field++) {
		while (*p == ' ')
			p++;
		while (*p && *p != ' ')
			p++;
	}
	return strtoull(p, NULL, 10);
}
