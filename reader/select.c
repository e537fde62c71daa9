/* SPDX-License-Identifier: MIT */
/*
 * select.c: process selection as the tools take it from their command
 * line (segment paths, pids, app names), with discovery, which dead
 * segments and which copies are taken, per-selector errors, and segments
 * kept open from one call to the next (see <scales/reader.h>).
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "internal.h"

enum scales_selector_kind scales_selector_kind(const char *arg, int32_t *pid)
{
	if (pid)
		*pid = 0;
	if (strchr(arg, '/'))
		return SCALES_SELECTOR_PATH;
	if (!*arg)
		return SCALES_SELECTOR_APP;
	uint64_t v = 0;
	for (const char *c = arg; *c; c++) {
		if (*c < '0' || *c > '9')
			return SCALES_SELECTOR_APP;
		if (v <= INT32_MAX)
			v = v * 10 + (uint64_t)(*c - '0');
	}
	if (pid && v <= INT32_MAX)
		*pid = (int32_t)v;
	return SCALES_SELECTOR_PID;
}

int scales_pid_running(int32_t pid, uint64_t start_time)
{
	uint64_t st;
	int found = r_proc_start_time(pid, &st);
	return found == 1 ? st == start_time : found;
}

/* ------------------------------------------------------------ the work */

/* What one scales_select() call builds. */
struct build {
	struct scales_selection *sel;
	struct scales_selected *old; /* the previous result (segs moved out) */
	size_t nold;
	struct scales_selected *v;
	size_t n, cap;
	struct scales_select_error *e;
	size_t ne, cape;
	enum scales_selector_kind *kinds;
	int32_t *pids;
	size_t nnamed;    /* items named by path: v[0] to v[nnamed - 1] */
	bool discovering; /* the named ones are done */
	size_t hint;      /* where take_old() looks first */
};

static int push_item(struct build *b, const struct scales_selected *it)
{
	if (b->n == b->cap) {
		size_t nc = b->cap ? 2 * b->cap : 16;
		void *p = realloc(b->v, nc * sizeof(*b->v));
		if (!p)
			return -ENOMEM;
		b->v = p;
		b->cap = nc;
	}
	b->v[b->n++] = *it;
	return 0;
}

static int push_error(struct build *b, size_t selector, int code,
                      const char *msg)
{
	if (b->ne == b->cape) {
		size_t nc = b->cape ? 2 * b->cape : 8;
		void *p = realloc(b->e, nc * sizeof(*b->e));
		if (!p)
			return -ENOMEM;
		b->e = p;
		b->cape = nc;
	}
	struct scales_select_error *x = &b->e[b->ne++];
	x->selector = selector;
	x->code = code;
	snprintf(x->msg, sizeof(x->msg), "%s", msg);
	return 0;
}

static void item_clear(struct scales_selected *it)
{
	scales_segment_close(&it->seg);
	free(it->path);
	it->path = NULL;
}

/* The previous call's open segment of path, moved out of it (NULL: none).
 * Files come in the order of the previous call: look after the last one
 * found first. */
static scales_segment *take_old(struct build *b, const char *path)
{
	for (size_t k = 0; k < b->nold; k++) {
		size_t i = (b->hint + k) % b->nold;
		if (b->old[i].seg && b->old[i].path &&
		    !strcmp(b->old[i].path, path)) {
			scales_segment *s = b->old[i].seg;
			b->old[i].seg = NULL;
			s->stat_fresh = false; /* a new pass: fstat again */
			b->hint = i + 1;
			return s;
		}
	}
	return NULL;
}

/* Opens (or takes again) it->path and reads its info; on failure sets
 * it->error and errmsg and leaves seg NULL. */
static void item_open(struct build *b, struct scales_selected *it)
{
	it->error = 0;
	it->errmsg[0] = 0;
	it->seg = take_old(b, it->path);
	int rc = 0;
	if (!it->seg)
		rc = scales_segment_open(it->path, 0, &it->seg, it->errmsg,
		                         sizeof(it->errmsg));
	if (!rc)
		rc = r_segment_info_pass(it->seg, &it->info, it->errmsg,
		                         sizeof(it->errmsg));
	if (rc) {
		scales_segment_close(&it->seg);
		memset(&it->info, 0, sizeof(it->info));
		it->error = rc;
		it->dev = 0;
		it->ino = 0;
		return;
	}
	it->dev = it->seg->dev;
	it->ino = it->seg->ino;
}

static bool same_process(const struct scales_process_info *a,
                         const struct scales_process_info *b)
{
	return a->pid == b->pid && a->start_time == b->start_time &&
	       !strcmp(a->app, b->app);
}

/*
 * Without SCALES_SEL_INCLUDE_COPIES: the readable item already listed for
 * its process, or NULL. Discovered items are not copies (their header is
 * their name) and come sorted by name: of them, only the last ones with
 * its name can be its process.
 */
static struct scales_selected *process_listed(struct build *b,
                                              const struct scales_selected *it)
{
	if ((b->sel->flags & SCALES_SEL_INCLUDE_COPIES) || it->error)
		return NULL;
	size_t named = b->discovering ? b->nnamed : b->n;
	for (size_t i = 0; i < named; i++)
		if (!b->v[i].error && same_process(&b->v[i].info, &it->info))
			return &b->v[i];
	for (size_t i = b->n; i > named; i--) {
		struct scales_selected *o = &b->v[i - 1];
		if (o->pid != it->pid || o->start_time != it->start_time ||
		    strcmp(o->app, it->app) != 0)
			break;
		if (!o->error && same_process(&o->info, &it->info))
			return o;
	}
	return NULL;
}

/* The path selectors, in order. */
static int select_named(struct build *b)
{
	struct scales_selection *sel = b->sel;
	for (size_t i = 0; i < sel->nselectors; i++) {
		if (b->kinds[i] != SCALES_SELECTOR_PATH)
			continue;
		const char *path = sel->selectors[i];
		/* the same file named twice (even spelt otherwise) */
		struct stat st;
		bool have_st = lstat(path, &st) == 0;
		bool dup = false;
		for (size_t k = 0; k < b->n && !dup; k++)
			dup = !strcmp(b->v[k].path, path) ||
			      (have_st && b->v[k].ino &&
			       b->v[k].ino == st.st_ino &&
			       b->v[k].dev == st.st_dev);
		if (dup)
			continue;
		struct scales_selected it;
		memset(&it, 0, sizeof(it));
		if (!(it.path = strdup(path)))
			return -ENOMEM;
		it.by = SCALES_BY_PATH;
		it.selector = i;
		const char *slash = strrchr(path, '/');
		if (!scales_parse_seg_name(slash + 1, it.app, sizeof(it.app),
		                           &it.pid, &it.start_time)) {
			snprintf(it.app, sizeof(it.app), "?");
			it.pid = 0;
			it.start_time = 0;
		}
		item_open(b, &it);
		if (it.error && push_error(b, i, it.error, it.errmsg)) {
			item_clear(&it);
			return -ENOMEM;
		}
		if (it.error && !(sel->flags & SCALES_SEL_KEEP_INVALID)) {
			item_clear(&it);
			continue;
		}
		struct scales_selected *same = process_listed(b, &it);
		if (same) {
			item_clear(&it);
			continue;
		}
		if (push_item(b, &it)) {
			item_clear(&it);
			return -ENOMEM;
		}
	}
	b->nnamed = b->n;
	b->discovering = true;
	return 0;
}

/* Which selectors pick the discovered ref: by bits and the first one. */
static unsigned match_ref(const struct build *b, const struct scales_seg_ref *r,
                          size_t *first, size_t *first_pid)
{
	const struct scales_selection *sel = b->sel;
	*first = *first_pid = SIZE_MAX;
	if (!sel->nselectors)
		return SCALES_BY_ALL;
	unsigned by = 0;
	for (size_t i = 0; i < sel->nselectors; i++) {
		unsigned m = 0;
		if (b->kinds[i] == SCALES_SELECTOR_PID && b->pids[i] &&
		    b->pids[i] == r->pid)
			m = SCALES_BY_PID;
		else if (b->kinds[i] == SCALES_SELECTOR_APP &&
		         !strcmp(sel->selectors[i], r->app))
			m = SCALES_BY_APP;
		if (!m)
			continue;
		if (*first == SIZE_MAX)
			*first = i;
		if (m == SCALES_BY_PID && *first_pid == SIZE_MAX)
			*first_pid = i;
		by |= m;
	}
	return by;
}

/* One discovered candidate. */
static int select_ref(struct build *b, const struct scales_seg_ref *r)
{
	unsigned flags = b->sel->flags;
	size_t first, first_pid;
	unsigned by = match_ref(b, r, &first, &first_pid);
	if (!by)
		return 0;
	/* a file named on the command line, found again in the directory
	 * (under its own name, or another spelling: same device and inode);
	 * discovery lists each file once */
	struct stat st;
	bool have_st = b->nnamed && lstat(r->path, &st) == 0;
	for (size_t k = 0; k < b->nnamed; k++)
		if (!strcmp(b->v[k].path, r->path) ||
		    (have_st && b->v[k].ino && b->v[k].ino == st.st_ino &&
		     b->v[k].dev == st.st_dev)) {
			b->v[k].by |= by;
			return 0;
		}
	struct scales_selected it;
	memset(&it, 0, sizeof(it));
	if (!(it.path = strdup(r->path)))
		return -ENOMEM;
	it.by = by;
	it.selector = first;
	snprintf(it.app, sizeof(it.app), "%s", r->app);
	it.pid = r->pid;
	it.start_time = r->start_time;
	item_open(b, &it);
	if (it.error == -ENOENT && !(by & SCALES_BY_PID)) {
		/* removed since the directory was read: its writer closed
		 * (scales_close() unlinks the segment), which is no error */
		item_clear(&it);
		return 0;
	}
	if (it.error) {
		int rc = 0;
		if (by & SCALES_BY_PID)
			rc = push_error(b, first_pid, it.error, it.errmsg);
		if (rc || !(flags & SCALES_SEL_KEEP_INVALID)) {
			item_clear(&it);
			return rc;
		}
	} else {
		/* a copy: its header names another process than its name */
		bool copy = it.info.pid != r->pid ||
		            it.info.start_time != r->start_time ||
		            strcmp(it.info.app, r->app) != 0;
		bool dead = it.info.liveness != SCALES_LIVE_ALIVE;
		struct scales_selected *same = NULL;
		if (copy && !(flags & SCALES_SEL_INCLUDE_COPIES) &&
		    b->sel->warn) {
			char msg[256];
			snprintf(msg, sizeof(msg),
			         "its header names %.64s pid %" PRId32
			         " started at %" PRIu64
			         ", not its file name: a copy, skipped",
			         it.info.app, it.info.pid, it.info.start_time);
			b->sel->warn(b->sel->warn_arg, r->path, msg);
		}
		if ((copy && !(flags & SCALES_SEL_INCLUDE_COPIES)) ||
		    (dead && !(flags & SCALES_SEL_INCLUDE_DEAD) &&
		     !(by & SCALES_BY_PID)) ||
		    (same = process_listed(b, &it))) {
			if (same)
				same->by |= by;
			item_clear(&it);
			return 0;
		}
	}
	if (push_item(b, &it)) {
		item_clear(&it);
		return -ENOMEM;
	}
	return 0;
}

/* SCALES_SEL_ONE_PER_PID: 0 alive, 1 closed by a running writer, 2 dead, 3
 * unreadable. */
static int rank(const struct scales_selected *it)
{
	if (it->error)
		return 3;
	switch (it->info.liveness) {
	case SCALES_LIVE_ALIVE:
		return 0;
	case SCALES_LIVE_CLOSED:
		return scales_pid_running(it->info.pid, it->info.start_time) ==
		               0 ?
		           2 :
		           1;
	default:
		return 2;
	}
}

static int32_t eff_pid(const struct scales_selected *it)
{
	return it->error ? it->pid : it->info.pid;
}

static uint64_t eff_start(const struct scales_selected *it)
{
	return it->error ? it->start_time : it->info.start_time;
}

/* Of the items only pid selectors selected, one per pid. */
static void one_per_pid(struct build *b)
{
	size_t n = b->n;
	bool *drop = calloc(n ? n : 1, sizeof(*drop));
	int *rk = calloc(n ? n : 1, sizeof(*rk));
	if (!drop || !rk) { /* keep them all */
		free(drop);
		free(rk);
		return;
	}
	for (size_t i = 0; i < n; i++)
		rk[i] = b->v[i].by == SCALES_BY_PID ? rank(&b->v[i]) : 0;
	for (size_t i = 0; i < n; i++) {
		const struct scales_selected *a = &b->v[i];
		if (a->by != SCALES_BY_PID)
			continue;
		for (size_t j = 0; j < n; j++) {
			const struct scales_selected *o = &b->v[j];
			if (j == i || drop[j] || o->by != SCALES_BY_PID ||
			    eff_pid(o) != eff_pid(a))
				continue;
			if (rk[i] > rk[j] ||
			    (rk[i] == rk[j] && eff_start(a) < eff_start(o))) {
				drop[i] = true;
				break;
			}
		}
	}
	size_t w = 0;
	for (size_t i = 0; i < n; i++) {
		if (drop[i])
			item_clear(&b->v[i]);
		else
			b->v[w++] = b->v[i];
	}
	b->n = w;
	free(drop);
	free(rk);
}

/* SCALES_RE_NOT_FOUND for each pid selector that found no file. */
static int pids_not_found(struct build *b)
{
	const struct scales_selection *sel = b->sel;
	for (size_t i = 0; i < sel->nselectors; i++) {
		if (b->kinds[i] != SCALES_SELECTOR_PID)
			continue;
		bool found = false;
		for (size_t k = 0; k < b->ne && !found; k++)
			found = b->e[k].selector == i;
		for (size_t k = 0; k < b->n && !found; k++)
			found = (b->v[k].by & SCALES_BY_PID) && b->pids[i] &&
			        (b->v[k].pid == b->pids[i] ||
			         (!b->v[k].error &&
			          b->v[k].info.pid == b->pids[i]));
		if (found)
			continue;
		char msg[256];
		snprintf(msg, sizeof(msg), "no segment of pid %.200s",
		         sel->selectors[i]);
		if (push_error(b, i, SCALES_RE_NOT_FOUND, msg))
			return -ENOMEM;
	}
	return 0;
}

/* Sorts the errors by selector, keeping the order they were found in. */
static void errors_sort(struct scales_select_error *e, size_t n)
{
	for (size_t i = 1; i < n; i++) {
		struct scales_select_error x = e[i];
		size_t j = i;
		for (; j > 0 && e[j - 1].selector > x.selector; j--)
			e[j] = e[j - 1];
		e[j] = x;
	}
}

int scales_select(struct scales_selection *sel, char *err, size_t errlen)
{
	struct build b;
	memset(&b, 0, sizeof(b));
	b.sel = sel;
	b.old = sel->items;
	b.nold = sel->n;
	size_t ns = sel->nselectors;
	b.kinds = calloc(ns ? ns : 1, sizeof(*b.kinds));
	b.pids = calloc(ns ? ns : 1, sizeof(*b.pids));
	int rc = 0;
	if (!b.kinds || !b.pids)
		rc = -ENOMEM;
	bool discover = ns == 0;
	for (size_t i = 0; !rc && i < ns; i++) {
		b.kinds[i] =
		    scales_selector_kind(sel->selectors[i], &b.pids[i]);
		if (b.kinds[i] != SCALES_SELECTOR_PATH)
			discover = true;
	}
	if (!rc)
		rc = select_named(&b);
	if (!rc && discover) {
		struct scales_seg_list list;
		char derr[512];
		int drc = scales_discover(sel->dir, sel->warn, sel->warn_arg,
		                          &list, derr, sizeof(derr));
		if (drc) {
			/* keep what was discovered last time, as it was */
			for (size_t i = 0; i < b.nold && !rc; i++) {
				struct scales_selected *o = &b.old[i];
				if ((o->by & SCALES_BY_PATH) ||
				    (!o->seg && !o->error))
					continue;
				bool dup = false;
				for (size_t k = 0; k < b.n && !dup; k++)
					dup = !strcmp(b.v[k].path, o->path);
				if (dup)
					continue;
				rc = push_item(&b, o);
				if (!rc) { /* moved */
					o->seg = NULL;
					o->path = NULL;
				}
			}
			if (!rc) {
				rc = drc;
				r_fail(err, errlen, drc, "%s", derr);
			}
		} else {
			for (size_t i = 0; i < list.n && !rc; i++)
				rc = select_ref(&b, &list.items[i]);
			scales_seg_list_free(&list);
			if (!rc && (sel->flags & SCALES_SEL_ONE_PER_PID))
				one_per_pid(&b);
			if (!rc)
				rc = pids_not_found(&b);
		}
	}
	if (rc == -ENOMEM)
		r_fail(err, errlen, rc, "out of memory");
	errors_sort(b.e, b.ne);

	/* the previous result: whatever was not taken again is closed */
	for (size_t i = 0; i < b.nold; i++)
		item_clear(&b.old[i]);
	free(b.old);
	free(sel->errors);
	sel->items = b.v;
	sel->n = b.n;
	sel->errors = b.e;
	sel->nerrors = b.ne;
	free(b.kinds);
	free(b.pids);
	return rc;
}

void scales_selection_free(struct scales_selection *sel)
{
	if (!sel)
		return;
	for (size_t i = 0; i < sel->n; i++)
		item_clear(&sel->items[i]);
	free(sel->items);
	free(sel->errors);
	sel->items = NULL;
	sel->n = 0;
	sel->errors = NULL;
	sel->nerrors = 0;
}
