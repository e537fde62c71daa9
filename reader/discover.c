/* SPDX-License-Identifier: MIT */
/*
 * discover.c: listing candidate segment files in the segment directories,
 * without following symlinks, and opening a segment by pid.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "internal.h"

#define SHM_ROOT "/dev/shm"

static bool app_char(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c >= '0' && c <= '9') || c == '_' || c == '-';
}

/* Parses decimal digits in [s, e): no sign, no empty, no overflow. */
static bool parse_dec(const char *s, const char *e, uint64_t max, uint64_t *out)
{
	if (s == e)
		return false;
	uint64_t v = 0;
	for (; s < e; s++) {
		if (*s < '0' || *s > '9')
			return false;
		unsigned d = (unsigned)(*s - '0');
		if (v > (max - d) / 10)
			return false;
		v = v * 10 + d;
	}
	*out = v;
	return true;
}

bool scales_parse_seg_name(const char *name, char *app, size_t appsz,
                           int32_t *pid, uint64_t *start_time)
{
	size_t n = strlen(name), sl = strlen(SCALES_SHM_SUFFIX);
	if (n <= sl || strcmp(name + n - sl, SCALES_SHM_SUFFIX) != 0)
		return false;
	const char *end = name + n - sl;
	const char *dot2 = NULL, *dot1 = NULL;
	for (const char *p = end - 1; p >= name; p--) {
		if (*p == '.') {
			if (!dot2)
				dot2 = p;
			else {
				dot1 = p;
				break;
			}
		}
	}
	if (!dot1 || dot1 == name)
		return false;
	uint64_t p64, st;
	if (!parse_dec(dot1 + 1, dot2, INT32_MAX, &p64) || p64 == 0 ||
	    !parse_dec(dot2 + 1, end, UINT64_MAX, &st))
		return false;
	size_t alen = (size_t)(dot1 - name);
	if (alen >= SCALES_SHM_APP_MAX)
		return false;
	for (size_t i = 0; i < alen; i++)
		if (!app_char((unsigned char)name[i]))
			return false;
	if (app) {
		if (alen >= appsz)
			return false;
		memcpy(app, name, alen);
		app[alen] = 0;
	}
	if (pid)
		*pid = (int32_t)p64;
	if (start_time)
		*start_time = st;
	return true;
}

static void warn_item(scales_warn_f warn, void *arg, const char *dir,
                      const char *name, const char *fmt, const char *detail)
{
	if (!warn)
		return;
	char path[4096], msg[256];
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	snprintf(msg, sizeof(msg), fmt, detail);
	warn(arg, path, msg);
}

static int list_push(struct scales_seg_list *l, size_t *cap,
                     struct scales_seg_ref *r)
{
	if (l->n == *cap) {
		size_t nc = *cap ? *cap * 2 : 16;
		void *p = realloc(l->items, nc * sizeof(*l->items));
		if (!p)
			return -ENOMEM;
		l->items = p;
		*cap = nc;
	}
	l->items[l->n++] = *r;
	return 0;
}

/* Scans one directory. Returns 0 or -errno for the directory itself. */
static int scan_dir(const char *dir, scales_warn_f warn, void *arg,
                    struct scales_seg_list *l, size_t *cap)
{
	int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (dfd < 0)
		return -errno;
	DIR *d = fdopendir(dfd);
	if (!d) {
		int e = errno;
		close(dfd);
		return -e;
	}
	int rc = 0;
	struct dirent *de;
	while ((de = readdir(d))) {
		const char *name = de->d_name;
		if (name[0] == '.')
			continue; /* ".", "..", temporaries */
		struct stat st;
		if (fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
			if (errno != ENOENT) /* gone meanwhile: not news */
				warn_item(warn, arg, dir, name,
				          "skipped: cannot stat: %s",
				          strerror(errno));
			continue;
		}
		if (!S_ISREG(st.st_mode)) {
			warn_item(warn, arg, dir, name,
			          "skipped: not a regular file (%s)",
			          r_file_type(st.st_mode));
			continue;
		}
		struct scales_seg_ref r;
		char app[SCALES_SHM_APP_MAX];
		memset(&r, 0, sizeof(r));
		if (!scales_parse_seg_name(name, app, sizeof(app), &r.pid,
		                           &r.start_time)) {
			warn_item(warn, arg, dir, name, "%s",
			          "skipped: not named <app>.<pid>.<start>.seg");
			continue;
		}
		r.size = (uint64_t)st.st_size;
		size_t plen = strlen(dir) + 1 + strlen(name) + 1;
		r.path = malloc(plen);
		r.app = strdup(app);
		if (!r.path || !r.app) {
			free(r.path);
			free(r.app);
			rc = -ENOMEM;
			break;
		}
		snprintf(r.path, plen, "%s/%s", dir, name);
		if (list_push(l, cap, &r)) {
			free(r.path);
			free(r.app);
			rc = -ENOMEM;
			break;
		}
	}
	closedir(d);
	return rc;
}

static int ref_cmp(const void *a, const void *b)
{
	const struct scales_seg_ref *x = a, *y = b;
	int c = strcmp(x->app, y->app);
	if (c)
		return c;
	if (x->pid != y->pid)
		return x->pid < y->pid ? -1 : 1;
	if (x->start_time != y->start_time)
		return x->start_time < y->start_time ? -1 : 1;
	return strcmp(x->path, y->path);
}

int scales_discover(const char *dir, scales_warn_f warn, void *warn_arg,
                    struct scales_seg_list *out, char *err, size_t errlen)
{
	memset(out, 0, sizeof(*out));
	size_t cap = 0;
	int rc = 0;
	if (!dir) {
		const char *env = getenv("SCALES_DIR");
		if (env && *env)
			dir = env;
	}
	if (dir) {
		rc = scan_dir(dir, warn, warn_arg, out, &cap);
		if (rc) {
			if (rc == -ELOOP || rc == -ENOTDIR)
				rc = r_fail(err, errlen, SCALES_RE_UNSAFE,
				            "%s: not a directory (symlinks are "
				            "refused)",
				            dir);
			else
				r_fail(err, errlen, rc, "%s: %s", dir,
				       strerror(-rc));
			scales_seg_list_free(out);
			return rc;
		}
	} else {
		/* the writer's fallbacks when /dev/shm is unusable: ours only
		 * (docs/format.md, "Where segments live") */
		char fb[2][4096];
		const char *xdg = getenv("XDG_RUNTIME_DIR");
		snprintf(fb[0], sizeof(fb[0]), "%s/scales",
		         xdg && *xdg ? xdg : "/nonexistent");
		snprintf(fb[1], sizeof(fb[1]), "/tmp/scales-%u",
		         (unsigned)geteuid());
		for (int i = 0; i < 2 && !rc; i++) {
			struct stat st;
			if (lstat(fb[i], &st) == 0 && S_ISDIR(st.st_mode) &&
			    scan_dir(fb[i], warn, warn_arg, out, &cap) ==
			        -ENOMEM)
				rc = -ENOMEM;
		}
		int rfd = open(SHM_ROOT, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		DIR *d = rfd >= 0 ? fdopendir(rfd) : NULL;
		if (!d) {
			if (rfd >= 0)
				close(rfd);
			d = NULL;
		}
		struct dirent *de;
		while (d && !rc && (de = readdir(d))) {
			if (strncmp(de->d_name, "scales-", 7) != 0)
				continue;
			struct stat st;
			if (fstatat(rfd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) <
			        0 ||
			    !S_ISDIR(st.st_mode))
				continue;
			char sub[512];
			snprintf(sub, sizeof(sub), SHM_ROOT "/%s", de->d_name);
			int r = scan_dir(sub, warn, warn_arg, out, &cap);
			if (r == -ENOMEM) {
				rc = r;
				break;
			}
			/* other users' directories are unreadable: skip */
		}
		if (d)
			closedir(d);
		if (rc) {
			scales_seg_list_free(out);
			return r_fail(err, errlen, rc, "out of memory");
		}
	}
	if (out->n > 1)
		qsort(out->items, out->n, sizeof(*out->items), ref_cmp);
	return 0;
}

void scales_seg_list_free(struct scales_seg_list *list)
{
	if (!list)
		return;
	for (size_t i = 0; i < list->n; i++) {
		free(list->items[i].path);
		free(list->items[i].app);
	}
	free(list->items);
	list->items = NULL;
	list->n = 0;
}

int scales_segment_open_pid(const char *dir, int32_t pid, scales_warn_f warn,
                            void *warn_arg, scales_segment **out, char *err,
                            size_t errlen)
{
	*out = NULL;
	struct scales_seg_list l;
	int rc = scales_discover(dir, warn, warn_arg, &l, err, errlen);
	if (rc)
		return rc;
	scales_segment *best = NULL;
	bool best_alive = false;
	uint64_t best_start = 0;
	rc = r_fail(err, errlen, SCALES_RE_NOT_FOUND,
	            "no segment of pid %" PRId32, pid);
	for (size_t i = 0; i < l.n; i++) {
		if (l.items[i].pid != pid)
			continue;
		scales_segment *s;
		char e2[256];
		int r =
		    scales_segment_open(l.items[i].path, 0, &s, e2, sizeof(e2));
		if (r) {
			if (!best) {
				rc = r;
				r_fail(err, errlen, r, "%s", e2);
			}
			continue;
		}
		struct scales_process_info info;
		if (scales_segment_info(s, &info, NULL, 0)) {
			scales_segment_close(&s);
			continue;
		}
		bool better =
		    !best || (info.alive && !best_alive) ||
		    (info.alive == best_alive && info.start_time > best_start);
		if (better) {
			scales_segment_close(&best);
			best = s;
			best_alive = info.alive;
			best_start = info.start_time;
		} else {
			scales_segment_close(&s);
		}
	}
	scales_seg_list_free(&l);
	if (!best)
		return rc;
	*out = best;
	return 0;
}
