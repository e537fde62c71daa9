/* SPDX-License-Identifier: MIT */
/*
 * registry.c: creating, opening and closing a segment; the default registry;
 * what happens at fork and at exit.
 *
 * Fork: the segment is MAP_SHARED, so a child keeps updating the same
 * counters (rseq registration and the mapping are inherited). The child has
 * no sampler thread; liburcu's fork handlers (registered here) keep its RCU
 * state usable, and the registry locks are re-initialised in the child, so
 * it may register and retire stats too, serialized with its parent by the
 * segment's process-shared lock. Only the creating process removes the file.
 *
 * Exit: registries still open at exit() have their file removed (unless
 * SCALES_KEEP_SEGMENT) but stay mapped, since other threads may still be
 * updating. A crash leaves the file in place, readable.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "internal.h"

#define DEFAULT_MAX_ENTRIES 16384u
#define DEFAULT_STRIPE_BYTES (4u << 20)
#define DEFAULT_DATA_BYTES (1u << 20)
#define DEFAULT_STRING_BYTES (1u << 20)
#define PAGE 4096u
/* Per-CPU slots of the top region (histograms): with the shared stripe,
 * 7 x 9,224 bytes, so a default histogram costs at most 64 KiB whatever
 * the number of CPUs; threads on further CPUs record on the shared stripe
 * (docs/format.md, section 8). */
#define TOP_SLOTS 6u
/*
 * Where the slot map's entries start in their area. Every update loads its
 * CPU's entry right after earlier updates stored to stripe words, and a
 * load whose address matches a pending store's in bits 11..0 but not in
 * full waits for that store (4K aliasing): a map at page offset 0 shares
 * CPU c's entry's offset with the c-th counter's word (counters fill the
 * bottom region from offset 0), so a loop on the first counter ran 2-6
 * times slower on CPU 0 than on CPU 1 (docs/performance.md). At 3072 the
 * entries (up to 64 CPUs) meet no counter word below the 384th and no
 * default histogram's sum (placed downwards from the top region, at page
 * offsets 0xbf8, 0x7f0, 0x3e8, 0xfe0, then every 32 bytes lower) below the
 * 64th. Some word always shares an entry's page offset; this keeps it away
 * from the first stats a process registers.
 */
#define SLOT_MAP_SKIP 3072u

static pthread_mutex_t open_lock = PTHREAD_MUTEX_INITIALIZER;
static scales_registry *open_list;

uint64_t now_ns(clockid_t clk)
{
	struct timespec ts;
	clock_gettime(clk, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

int reg_check(const scales_registry *reg)
{
	return reg && reg->magic == REGISTRY_MAGIC ? 0 : SCALES_E_CLOSED;
}

/*
 * Slow paths only (a system call): is the caller a thread of the process
 * this registry object belongs to? A vfork child or a raw clone(CLONE_VM)
 * task shares our memory without pthread_atfork handlers having run: it
 * would take the registry's locks and write the index as a stranger (its
 * robust-mutex list and rseq area are its parent thread's). The child of a
 * raw fork system call has a copy of locks held by threads that are gone.
 * Their pid differs from the one the fork handler records, so refuse.
 */
int reg_own_task(const scales_registry *reg)
{
	return getpid() == reg->pid ? 0 : SCALES_E_FOREIGN;
}

/* The start time of pid (shm/proc.c): 0 or -errno. */
int proc_start_time(pid_t pid, uint64_t *start)
{
	return scales_shm_proc_start_time((int32_t)pid, start);
}

/*
 * Creates dir if needed (0700, or 0750 with SCALES_GROUP_READABLE), opens
 * it without following a symlink and checks the opened directory: ours,
 * writable by no one else. This is what keeps another user from planting
 * files in it; checking the descriptor (not the path) leaves no window
 * between the check and its use. Returns the descriptor in *dirfd.
 */
static int dir_ensure(const char *dir, uint32_t flags, uint32_t group,
                      int *dirfd)
{
	bool want_group = flags & SCALES_GROUP_READABLE;
	mode_t mode = want_group ? 0750 : 0700;
	bool created = mkdir(dir, mode) == 0;
	if (!created && errno != EEXIST) {
		int e = errno;
		error_detail_add("%s: cannot create: %s", dir, strerror(e));
		return -e;
	}
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0) {
		int e = errno;
		if (e == ELOOP || e == ENOTDIR) {
			/* O_DIRECTORY|O_NOFOLLOW on a symlink gives either */
			struct stat ls;
			bool link = lstat(dir, &ls) == 0 && S_ISLNK(ls.st_mode);
			error_detail_add(
			    "%s: %s", dir,
			    link ? "a symbolic link, not a directory" :
			           "not a directory");
			return SCALES_E_UNSAFE;
		}
		error_detail_add("%s: cannot open: %s", dir, strerror(e));
		return -e;
	}
	struct stat st;
	int rc = 0;
	if (fstat(fd, &st) != 0) {
		rc = -errno;
		error_detail_add("%s: cannot stat: %s", dir, strerror(-rc));
	} else if (!S_ISDIR(st.st_mode)) {
		rc = SCALES_E_UNSAFE;
		error_detail_add("%s: not a directory", dir);
	} else if (st.st_uid != geteuid()) {
		rc = SCALES_E_UNSAFE;
		error_detail_add("%s: owned by uid %u, not by this process's "
		                 "uid %u",
		                 dir, (unsigned)st.st_uid, (unsigned)geteuid());
	} else if (st.st_mode & 0022) {
		rc = SCALES_E_UNSAFE;
		error_detail_add("%s: writable by %s (mode %04o)", dir,
		                 (st.st_mode & 0002) ? "others" : "its group",
		                 (unsigned)(st.st_mode & 07777));
	}
	/* The umask must not narrow a directory we created; an owner who
	 * asks for group access gets it on an existing directory too. */
	else if ((created || (want_group && (st.st_mode & 0050) != 0050)) &&
	         fchmod(fd, created ? mode : (st.st_mode & 07777) | 0050) !=
	             0) {
		rc = -errno;
		error_detail_add("%s: cannot set its mode: %s", dir,
		                 strerror(-rc));
	} else if (want_group && group && st.st_gid != group &&
	           fchown(fd, (uid_t)-1, (gid_t)group) != 0) {
		rc = -errno;
		error_detail_add("%s: cannot give it to group %u: %s", dir,
		                 (unsigned)group, strerror(-rc));
	}
	if (rc) {
		close(fd);
		return rc;
	}
	*dirfd = fd;
	return 0;
}

/* The given directory alone, else the defaults in the format's order
 * (shm/dir.c): the first one we can create and that is safe. */
static int dir_choose(const struct scales_options *o, char *out, size_t n,
                      int *dirfd)
{
	const char *given = scales_shm_dir_given(o->dir);
	if (given) {
		if (strlen(given) >= n) {
			error_detail_add("%s directory name too long",
			                 o->dir && *o->dir ? "opts.dir" :
			                                     "$SCALES_DIR");
			return -ENAMETOOLONG;
		}
		strcpy(out, given);
		return dir_ensure(out, o->flags, o->group, dirfd);
	}
	int rc = -ENOENT;
	for (unsigned i = 0; i < SCALES_SHM_DIR_DEFAULTS; i++) {
		int w = scales_shm_dir_default(i, (unsigned)geteuid(), out, n);
		if (w < 0)
			rc = w;
		if (w <= 0)
			continue;
		rc = dir_ensure(out, o->flags, o->group, dirfd);
		if (rc == 0)
			return 0;
	}
	return rc;
}

SCALES_API int scales_options_init(struct scales_options *opts)
{
	if (!opts)
		return -EINVAL;
	memset(opts, 0, sizeof *opts);
	opts->struct_size = sizeof *opts;
	return 0;
}

/*
 * An existing file at our final name: a dead writer's (replace it) or a live
 * one's (refuse). Only a regular file owned by us may be replaced.
 */
static int check_existing(int dirfd, const char *dir, const char *name)
{
	struct stat st;
	if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) != 0)
		return errno == ENOENT ? 0 : -errno;
	if (!S_ISREG(st.st_mode) || st.st_uid != geteuid()) {
		if (!S_ISREG(st.st_mode))
			error_detail_add("%s/%s: not a regular file", dir,
			                 name);
		else
			error_detail_add("%s/%s: owned by uid %u, not by this "
			                 "process's uid %u",
			                 dir, name, (unsigned)st.st_uid,
			                 (unsigned)geteuid());
		return SCALES_E_UNSAFE;
	}
	int fd = openat(dirfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0) {
		int e = errno;
		error_detail_add("%s/%s: cannot open: %s", dir, name,
		                 strerror(e));
		return -e;
	}
	struct scales_shm_header h;
	ssize_t n = pread(fd, &h, sizeof h, 0);
	close(fd);
	if (n != (ssize_t)sizeof h || memcmp(h.magic, SCALES_SHM_MAGIC, 8))
		return 0; /* not a segment we can judge: replace it */
	uint64_t start;
	if (proc_start_time(h.pid, &start) == 0 && start == h.start_time &&
	    !(__atomic_load_n(&h.flags, __ATOMIC_RELAXED) &
	      SCALES_SHM_F_CLOSED)) {
		error_detail_add("%s/%s: the segment of live pid %d", dir, name,
		                 (int)h.pid);
		return SCALES_E_LIVE;
	}
	return 0;
}

/*
 * Removes the temporaries (".<app>.<pid>.<start>.seg.<x>.tmp") that writers
 * killed inside scales_open() left behind: only regular files of ours whose
 * creator (pid and start time) is gone. Readers ignore them anyway; this
 * only keeps the directory from filling up across crashes.
 */
static void sweep_temporaries(int dirfd)
{
	int fd = openat(dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
	if (!d) {
		if (fd >= 0)
			close(fd);
		return;
	}
	struct dirent *de;
	while ((de = readdir(d)) != NULL) {
		const char *n = de->d_name;
		size_t len = strlen(n);
		const char *seg = strstr(n, SCALES_SHM_SUFFIX ".");
		if (n[0] != '.' || len < 6 ||
		    strcmp(n + len - 4, ".tmp") != 0 || !seg)
			continue;
		/* a segment's name "<app>.<pid>.<start>.seg" follows the
		 * '.' */
		int32_t pid;
		uint64_t start, now_start;
		if (!scales_shm_parse_seg_name(n + 1,
		                               (size_t)(seg - n) +
		                                   sizeof(SCALES_SHM_SUFFIX) -
		                                   2,
		                               NULL, 0, &pid, &start))
			continue;
		if (proc_start_time((pid_t)pid, &now_start) == 0 &&
		    now_start == start)
			continue; /* its writer lives: maybe opening right now */
		struct stat st;
		if (fstatat(dirfd, n, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
		    S_ISREG(st.st_mode) && st.st_uid == geteuid())
			unlinkat(dirfd, n, 0);
	}
	closedir(d);
}

static int layout(scales_registry *reg, const struct scales_options *o,
                  const char *app, uint64_t start)
{
	uint32_t ncpu = possible_cpus();
	bool rseq = !(o->flags & SCALES_NO_RSEQ) && rseq_usable(ncpu);
	uint64_t entries =
	    o->max_entries ? o->max_entries : DEFAULT_MAX_ENTRIES;
	uint64_t stripe =
	    o->stripe_bytes ? o->stripe_bytes : DEFAULT_STRIPE_BYTES;
	uint64_t data = o->data_bytes ? o->data_bytes : DEFAULT_DATA_BYTES;
	uint64_t strings =
	    o->string_bytes ? o->string_bytes : DEFAULT_STRING_BYTES;
	if (entries > (1u << 26) || stripe > (1ull << 34) ||
	    data > (1ull << 36) || strings > (1ull << 31) || strings < 64)
		return SCALES_E_CONFIG;
	stripe = (stripe + PAGE - 1) / PAGE * PAGE;
	data = (data + PAGE - 1) / PAGE * PAGE;
	strings = (strings + PAGE - 1) / PAGE * PAGE;
	uint64_t dir_bytes =
	    (entries * SCALES_SHM_ENTRY_SIZE + PAGE - 1) / PAGE * PAGE;

	struct scales_shm_header h;
	memset(&h, 0, sizeof h);
	memcpy(h.magic, SCALES_SHM_MAGIC, 8);
	h.version_major = SCALES_SHM_VERSION_MAJOR;
	h.version_minor = SCALES_SHM_VERSION_MINOR;
	h.header_size = sizeof h;
	/* The values are written in this CPU's byte order: the label is true
	 * only on a little-endian CPU (scales.h refuses the others too). */
	_Static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__,
	               "segments are little-endian");
	h.byte_order = SCALES_SHM_BYTE_ORDER_LE;
	h.word_size = 8;
	h.entry_size = SCALES_SHM_ENTRY_SIZE;
	h.nstripes = ncpu + 1;
	h.pid = (int32_t)getpid();
	h.flags = rseq ? SCALES_SHM_F_RSEQ : 0;
	h.start_time = start;
	struct stat ns;
	h.pid_ns =
	    stat("/proc/self/ns/pid", &ns) == 0 ? (uint64_t)ns.st_ino : 0;
	h.creation_time_ns = now_ns(CLOCK_REALTIME);
	memcpy(h.app, app, strlen(app) + 1);
	h.dir_offset = SCALES_SHM_HEADER_REGION;
	h.dir_capacity = (uint32_t)entries;
	h.data_offset = h.dir_offset + dir_bytes;
	h.data_capacity = data;
	h.strings_offset = h.data_offset + data;
	h.strings_capacity = strings;
	h.strings_used = SCALES_SHM_STRINGS_FIRST;
	/* The slot map: a u64 per possible CPU, the byte offset of its
	 * slot's stripe (what the hot path adds to a handle's base), or
	 * SLOT_NONE until the CPU first updates a stripe (stripe.c). */
	uint64_t map_bytes =
	    (SLOT_MAP_SKIP + (uint64_t)ncpu * 8 + PAGE - 1) / PAGE * PAGE;
	h.slot_map_offset = h.strings_offset + strings;
	h.stripe_offset = h.slot_map_offset + map_bytes;
	h.stripe_size = stripe;
	h.capacity = h.stripe_offset + stripe * h.nstripes;
	h.flags |= SCALES_SHM_F_SLOTS;
	h.top_slots = ncpu < TOP_SLOTS ? ncpu : TOP_SLOTS;
	h.stripe_top = stripe;

	if (ftruncate(reg->fd, (off_t)h.capacity) != 0)
		return -errno;
	/* The header page and the string area's first bytes (below the
	 * initial strings_used, which readers copy) now; the rest as
	 * allocations grow (alloc.c). */
	if (reserve_range(reg, 0, SCALES_SHM_HEADER_REGION) ||
	    reserve_range(reg, h.strings_offset, SCALES_SHM_STRINGS_FIRST) ||
	    reserve_range(reg, h.slot_map_offset, map_bytes))
		return SCALES_E_FULL;
	void *m = mmap(NULL, h.capacity, PROT_READ | PROT_WRITE, MAP_SHARED,
	               reg->fd, 0);
	if (m == MAP_FAILED)
		return -errno;
	reg->base = m;
	reg->size = h.capacity;
	reg->hdr = m;
	memcpy(reg->hdr, &h, sizeof h);
	int rc = shm_lock_init(reg->hdr, PTHREAD_PROCESS_SHARED);
	if (rc)
		return rc;
	reg->slot_map =
	    (uint64_t *)(void *)(reg->base + h.slot_map_offset + SLOT_MAP_SKIP);
	/* Before the rename: no other process sees the map yet. */
	for (uint32_t c = 0; c < ncpu; c++)
		reg->slot_map[c] = SCALES_SHM_SLOT_NONE;
	reg->reserved_top = stripe;
	reg->nstripes = h.nstripes;
	reg->shared = (uint16_t)ncpu;
	reg->rseq_cpus = rseq ? (uint16_t)ncpu : 0;
	/* Test hook (benchmarks): slots handed at once to the CPUs with the
	 * highest ids, as if they had updated, so that a small machine can
	 * measure the memory of threads on many CPUs. Before the rename:
	 * no lock needed yet. */
	const char *taken = getenv("SCALES_TEST_TAKEN_SLOTS");
	for (unsigned long k = taken ? strtoul(taken, NULL, 10) : 0, i = 0;
	     i < k && i < ncpu; i++)
		alloc_slot(reg, ncpu - 1 - (uint32_t)i);
	return 0;
}

static void registry_free(scales_registry *reg)
{
	callbacks_destroy(reg);
	if (reg->index || reg->strings)
		index_destroy(reg);
	if (reg->base)
		munmap(reg->base, reg->size);
	if (reg->fd >= 0)
		close(reg->fd);
	pthread_mutex_destroy(&reg->local_lock);
	free(reg->path);
	reg->magic = 0;
	free(reg);
}

SCALES_API int scales_open(const struct scales_options *opts,
                           scales_registry **out)
{
	if (!out)
		return -EINVAL;
	*out = NULL;
	error_detail_clear();
	struct scales_options o;
	scales_options_init(&o);
	if (opts) {
		size_t n = opts->struct_size && opts->struct_size < sizeof o ?
		               opts->struct_size :
		               sizeof o;
		memcpy(&o, opts, n);
	}
	if (o.sampler_interval_ms == 0)
		o.sampler_interval_ms = 1000;
	if (o.lock_timeout_ms == 0)
		o.lock_timeout_ms = 1000;

	char app[SCALES_SHM_APP_MAX];
	/* An empty name (SCALES_APP= in a unit file) counts as unset. */
	const char *app_in = o.app && *o.app ? o.app : getenv("SCALES_APP");
	if (!app_in || !*app_in)
		app_in = program_invocation_short_name;
	scales_shm_app_name(app_in, app);

	char dir[PATH_MAX];
	int dirfd = -1;
	int rc = dir_choose(&o, dir, sizeof dir, &dirfd);
	if (rc)
		return rc;
	/* A directory that failed before the one chosen was only a fallback;
	 * the detail speaks of failures only. */
	error_detail_clear();
	uint64_t start = 0;
	rc = proc_start_time(getpid(), &start);
	if (rc) {
		close(dirfd);
		return rc;
	}

	scales_registry *reg = calloc(1, sizeof *reg);
	if (!reg) {
		close(dirfd);
		return -ENOMEM;
	}
	reg->magic = REGISTRY_MAGIC;
	reg->fd = -1;
	reg->flags = o.flags;
	reg->creator = reg->pid = getpid();
	reg->lock_timeout_ms = o.lock_timeout_ms;
	reg->sampler_interval_ms = o.sampler_interval_ms;
	pthread_mutex_init(&reg->local_lock, NULL);

	char name[SCALES_SHM_APP_MAX + 64], tmp[SCALES_SHM_APP_MAX + 96];
	scales_shm_seg_name(name, sizeof name, app, (int32_t)getpid(), start);
	snprintf(tmp, sizeof tmp, ".%s.%lx.tmp", name,
	         (unsigned long)now_ns(CLOCK_MONOTONIC));
	if (asprintf(&reg->path, "%s/%s", dir, name) < 0) {
		reg->path = NULL;
		close(dirfd);
		registry_free(reg);
		return -ENOMEM;
	}
	mode_t mode = (o.flags & SCALES_GROUP_READABLE) ? 0640 : 0600;
	reg->fd =
	    openat(dirfd, tmp,
	           O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode);
	if (reg->fd < 0) {
		rc = -errno;
		error_detail_add("%s/%s: cannot create: %s", dir, tmp,
		                 strerror(-rc));
		close(dirfd);
		registry_free(reg);
		return rc;
	}
	/* the umask must not narrow it; a chosen group may read it */
	if (fchmod(reg->fd, mode) != 0 ||
	    ((o.flags & SCALES_GROUP_READABLE) && o.group &&
	     fchown(reg->fd, (uid_t)-1, (gid_t)o.group) != 0))
		rc = -errno;
	if (!rc)
		rc = layout(reg, &o, app, start);
	if (!rc)
		rc = check_existing(dirfd, dir, name);
	if (!rc && renameat(dirfd, tmp, dirfd, name) != 0)
		rc = -errno;
	if (!rc)
		sweep_temporaries(dirfd);
	if (rc) {
		unlinkat(dirfd, tmp, 0);
		close(dirfd);
		registry_free(reg);
		return rc;
	}
	close(dirfd);

	rc = index_init(reg);
	if (!rc)
		rc = callbacks_init(reg);
	if (!rc && !(o.flags & SCALES_NO_SAMPLER))
		rc = sampler_start(reg);
	if (rc) {
		unlink(reg->path);
		registry_free(reg);
		return rc;
	}
	pthread_mutex_lock(&open_lock);
	reg->next_open = open_list;
	open_list = reg;
	pthread_mutex_unlock(&open_lock);
	*out = reg;
	return 0;
}

SCALES_API int scales_close(scales_registry **regp)
{
	if (!regp || reg_check(*regp))
		return SCALES_E_CLOSED;
	scales_registry *reg = *regp;
	/* Freeing and unmapping from a task that shares our memory would pull
	 * the registry from under the process's own threads. */
	int rc = reg_own_task(reg);
	if (rc)
		return rc;
	*regp = NULL;
	pthread_mutex_lock(&open_lock);
	for (scales_registry **p = &open_list; *p; p = &(*p)->next_open) {
		if (*p == reg) {
			*p = reg->next_open;
			break;
		}
	}
	pthread_mutex_unlock(&open_lock);
	sampler_stop(reg);
	callbacks_destroy(reg);
	if (reg->creator == getpid()) {
		if (reg->flags & SCALES_KEEP_SEGMENT)
			__atomic_fetch_or(&reg->hdr->flags, SCALES_SHM_F_CLOSED,
			                  __ATOMIC_RELEASE);
		else
			unlink(reg->path);
	}
	registry_free(reg);
	return 0;
}

SCALES_API const char *scales_registry_path(const scales_registry *reg)
{
	return reg_check(reg) ? NULL : reg->path;
}

/*
 * The update path's slow path met a CPU without a slot (stripe.c): gives
 * it one in the registry whose map this is. Never waits: if the list or
 * a registry lock is busy (a fork, a registration), the caller's add goes
 * to the shared stripe and a later update tries again.
 */
void reg_assign_slot(const uint64_t *slot_map, uint32_t cpu)
{
	if (pthread_mutex_trylock(&open_lock))
		return;
	for (scales_registry *r = open_list; r; r = r->next_open) {
		if (r->slot_map != slot_map)
			continue;
		if (reg_trylock(r) == 0) {
			alloc_slot(r, cpu);
			reg_unlock(r);
		}
		break;
	}
	pthread_mutex_unlock(&open_lock);
}

/* ----------------------------------------------------- default registry */

static pthread_once_t default_once = PTHREAD_ONCE_INIT;
static scales_registry *default_reg;

static void default_open(void)
{
	if (scales_open(NULL, &default_reg) != 0)
		default_reg = NULL;
}

SCALES_API scales_registry *scales_default(void)
{
	pthread_once(&default_once, default_open);
	return default_reg;
}

/* ------------------------------------------------------- fork and exit */

static void at_exit(void)
{
	pthread_mutex_lock(&open_lock);
	for (scales_registry *r = open_list; r; r = r->next_open) {
		if (r->creator != getpid())
			continue;
		if (r->flags & SCALES_KEEP_SEGMENT)
			__atomic_fetch_or(&r->hdr->flags, SCALES_SHM_F_CLOSED,
			                  __ATOMIC_RELEASE);
		else
			unlink(r->path);
	}
	pthread_mutex_unlock(&open_lock);
}

static void before_fork(void)
{
	pthread_mutex_lock(&open_lock);
	call_rcu_before_fork();
	urcu_bp_before_fork();
}

static void after_fork_parent(void)
{
	urcu_bp_after_fork_parent();
	call_rcu_after_fork_parent();
	pthread_mutex_unlock(&open_lock);
}

static void after_fork_child(void)
{
	urcu_bp_after_fork_child();
	call_rcu_after_fork_child();
	/* Threads of the parent that held a local lock do not exist here. */
	for (scales_registry *r = open_list; r; r = r->next_open) {
		pthread_mutex_init(&r->local_lock, NULL);
		r->pid = getpid();
		/* A parent thread may have been inside a registration or a
		 * retirement: its segment changes may be done (or finish
		 * later) while our copy of the index lacks them, with a
		 * synced generation that claims it is up to date. The next
		 * locked operation rebuilds the index from the directory;
		 * lookups stay lock-free (a miss takes the locked path). */
		r->synced_generation = INDEX_UNSYNCED;
		r->sampler = NULL; /* the threads were not forked */
		callbacks_after_fork_child(r);
	}
	pthread_mutex_init(&open_lock, NULL);
}

__attribute__((constructor)) static void scales_init(void)
{
	pthread_atfork(before_fork, after_fork_parent, after_fork_child);
	atexit(at_exit);
}
