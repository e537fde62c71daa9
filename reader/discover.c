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

bool scales_parse_seg_name(const char *name, char *app, size_t appsz,
                           int32_t *pid, uint64_t *start_time)
{
	return scales_shm_parse_seg_name(name, strlen(name), app, appsz, pid,
	                                 start_time);
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
	dir = scales_shm_dir_given(dir);
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
		/* the writer's defaults after /dev/shm (shm/dir.c): ours
		 * only */
		char fb[4096];
		for (unsigned i = SCALES_SHM_DIR_SHM + 1;
		     i < SCALES_SHM_DIR_DEFAULTS && !rc; i++) {
			struct stat st;
			if (scales_shm_dir_default(i, (unsigned)geteuid(), fb,
			                           sizeof(fb)) == 1 &&
			    lstat(fb, &st) == 0 && S_ISDIR(st.st_mode) &&
			    scan_dir(fb, warn, warn_arg, out, &cap) == -ENOMEM)
				rc = -ENOMEM;
		}
		int rfd = open(SCALES_SHM_DIR_ROOT,
		               O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		DIR *d = rfd >= 0 ? fdopendir(rfd) : NULL;
		if (!d) {
			if (rfd >= 0)
				close(rfd);
			d = NULL;
		}
		struct dirent *de;
		while (d && !rc && (de = readdir(d))) {
			if (strncmp(de->d_name, SCALES_SHM_DIR_PREFIX,
			            sizeof(SCALES_SHM_DIR_PREFIX) - 1) != 0)
				continue;
			struct stat st;
			if (fstatat(rfd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) <
			        0 ||
			    !S_ISDIR(st.st_mode))
				continue;
			char sub[512];
			snprintf(sub, sizeof(sub), SCALES_SHM_DIR_ROOT "/%s",
			         de->d_name);
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
		if (r_segment_info_pass(s, &info, NULL, 0)) { /* just opened */
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
