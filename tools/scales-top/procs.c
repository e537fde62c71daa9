/* SPDX-License-Identifier: MIT */
/*
 * procs.c: the processes scales-top looks at: the reader library selects
 * and opens them (scales_select()); here, their state and the list.
 */
#include "procs.h"

#include "cli.h"
#include "tool_select.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* Every file (dead writers and unreadable files too, but not copies of
 * another process's segment: skipped with a warning, as scales-export
 * does), one segment per pid selector. */
#define TOP_SEL_FLAGS                                                          \
	(SCALES_SEL_INCLUDE_DEAD | SCALES_SEL_ONE_PER_PID |                    \
	 SCALES_SEL_KEEP_INVALID)

const char *top_pstate_name(enum top_pstate s)
{
	switch (s) {
	case TOP_PS_ALIVE:
		return "alive";
	case TOP_PS_DEAD:
		return "dead";
	case TOP_PS_CLOSED:
		return "closed";
	default:
		return "invalid";
	}
}

static void discover_warn(void *arg, const char *path, const char *msg)
{
	struct top_procs *p = arg;
	if (!p->warn)
		return;
	char line[1024];
	snprintf(line, sizeof(line), "skipping %s: %s", path, msg);
	p->warn(p->warn_arg, line);
}

static void proc_clear(struct top_proc *e)
{
	free(e->path);
	memset(e, 0, sizeof(*e));
}

/* e from the selected file it. */
static void proc_state(struct top_proc *e, const struct scales_selected *it)
{
	e->seg = it->seg;
	e->dev = it->dev;
	e->ino = it->ino;
	e->named = it->by & SCALES_BY_PATH;
	/* what its file name says, until its header says more */
	snprintf(e->app, sizeof(e->app), "%s", it->app);
	e->pid = it->pid;
	e->start_time = it->start_time;
	snprintf(e->err, sizeof(e->err), "%s", it->errmsg);
	e->info_ok = false;
	e->resident = 0;
	e->pid_reused = false;
	if (!it->seg) {
		e->state = TOP_PS_INVALID;
		return;
	}
	e->info = it->info;
	e->info_ok = true;
	struct stat st;
	e->resident = stat(e->path, &st) == 0 ? (uint64_t)st.st_blocks * 512u :
	                                        e->info.file_size;
	e->pid = e->info.pid;
	e->start_time = e->info.start_time;
	snprintf(e->app, sizeof(e->app), "%s", e->info.app);
	switch (e->info.liveness) {
	case SCALES_LIVE_ALIVE:
		e->state = TOP_PS_ALIVE;
		break;
	case SCALES_LIVE_PID_REUSED:
		e->state = TOP_PS_DEAD;
		e->pid_reused = true;
		break;
	case SCALES_LIVE_CLOSED:
		/* closed by its writer (kept for post-mortem reading): stale
		 * once the writer is gone */
		e->state = top_pid_running(e->pid, e->start_time) == 0 ?
		               TOP_PS_DEAD :
		               TOP_PS_CLOSED;
		break;
	default:
		e->state = TOP_PS_DEAD;
		break;
	}
}

static int proc_cmp(const void *a, const void *b)
{
	const struct top_proc *x = a, *y = b;
	int c = strcmp(x->app, y->app);
	if (c)
		return c;
	if (x->pid != y->pid)
		return x->pid < y->pid ? -1 : 1;
	if (x->start_time != y->start_time)
		return x->start_time < y->start_time ? -1 : 1;
	return strcmp(x->path, y->path);
}

static int bypath_cmp(const void *a, const void *b, void *arg)
{
	const struct top_proc *v = arg;
	return strcmp(v[*(const size_t *)a].path, v[*(const size_t *)b].path);
}

/* Indexes p->v by path; returns -1 if out of memory (no index). */
static int index_paths(struct top_procs *p)
{
	free(p->bypath);
	p->bypath = malloc((p->n ? p->n : 1) * sizeof(*p->bypath));
	if (!p->bypath)
		return -1;
	for (size_t i = 0; i < p->n; i++)
		p->bypath[i] = i;
	qsort_r(p->bypath, p->n, sizeof(*p->bypath), bypath_cmp, p->v);
	return 0;
}

struct top_proc *top_procs_find(const struct top_procs *p, const char *path)
{
	size_t lo = 0, hi = p->bypath ? p->n : 0;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		struct top_proc *e = &p->v[p->bypath[mid]];
		int c = strcmp(e->path, path);
		if (c == 0)
			return e;
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

/* The collector samples the picked processes only (when asked). */
static bool pick(void *arg, const struct scales_selected *it)
{
	const struct top_procs *p = arg;
	if (!p->use_picked)
		return true;
	const struct top_proc *e = top_procs_find(p, it->path);
	return e && e->picked;
}

/*
 * Makes the list anew from the selection (whose segments it borrows),
 * keeping what was picked; warns about the files that cannot be read.
 * Returns 0 or -1 (out of memory: the list is then empty).
 */
static int procs_rebuild(struct top_procs *p, bool warn)
{
	const struct scales_selection *sel = scales_collector_selection(p->col);
	struct top_proc *nv = calloc(sel->n ? sel->n : 1, sizeof(*nv));
	int rc = nv ? 0 : -1;
	for (size_t i = 0; nv && i < sel->n; i++) {
		const struct scales_selected *it = &sel->items[i];
		struct top_proc *e = &nv[i];
		if (!(e->path = strdup(it->path))) {
			rc = -1;
			break;
		}
		proc_state(e, it);
		const struct top_proc *old = top_procs_find(p, e->path);
		e->picked = old && old->picked;
		if (it->error && warn && p->warn) {
			char line[512];
			snprintf(line, sizeof(line), "skipping %s", it->errmsg);
			p->warn(p->warn_arg, line);
		}
	}
	for (size_t i = 0; i < p->n; i++)
		proc_clear(&p->v[i]);
	free(p->v);
	p->v = NULL;
	p->n = 0;
	free(p->bypath);
	p->bypath = NULL;
	if (rc) {
		for (size_t i = 0; nv && i < sel->n; i++)
			proc_clear(&nv[i]);
		free(nv);
		return -1;
	}
	p->v = nv;
	p->n = sel->n;
	if (p->n > 1)
		qsort(p->v, p->n, sizeof(*p->v), proc_cmp);
	return index_paths(p);
}

/* The first named file that cannot be read: the error of init. */
static void named_bad(void *arg, size_t selector, const char *msg)
{
	char **first = arg;
	if (!*first)
		*first = strdup(msg);
}

int top_procs_init(struct top_procs *p, const struct top_args *a,
                   top_warn_f warn, void *warn_arg, char *err, size_t errlen)
{
	memset(p, 0, sizeof(*p));
	p->warn = warn;
	p->warn_arg = warn_arg;
	p->dir = a->dir;
	p->all_paths =
	    tool_all_paths((const char *const *)a->selectors, a->nselectors);
	bool oneshot = a->mode == TOP_MODE_ONCE || a->mode == TOP_MODE_JSON;
	struct scales_collector_options o = {
		.dir = a->dir,
		.selectors = (const char *const *)a->selectors,
		.nselectors = a->nselectors,
		.select_flags = TOP_SEL_FLAGS,
		.warn = discover_warn,
		.warn_arg = p,
		.flags = a->merge ? SCALES_COLLECT_MERGE : 0,
		.globs = (const char *const *)a->globs,
		.nglobs = a->nglobs,
		/* -1/-j -i: one tick per interval, so the second snapshot
		 * fills the meters */
		.tick_ns = oneshot && a->interval_set ?
		               (uint64_t)(a->interval * 1e9) :
		               0,
		.pick = pick,
		.pick_arg = p,
	};
	if (scales_collector_new(&o, &p->col)) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	/* first the files named by path: any of them unreadable is fatal,
	 * before any discovery warning */
	char *first = NULL;
	int rc = tool_check_named((const char *const *)a->selectors,
	                          a->nselectors, named_bad, &first);
	if (rc)
		snprintf(err, errlen, "%s", first ? first : "out of memory");
	free(first);
	return rc ? -1 : 0;
}

/* Only files named: scales-top reads the directory all the same, for its
 * warnings (junk beside the segments) and its error. */
static int discover_anyway(struct top_procs *p, char *err, size_t errlen)
{
	struct scales_seg_list list;
	int rc = scales_discover(p->dir, discover_warn, p, &list, err, errlen);
	if (!rc)
		scales_seg_list_free(&list);
	return rc;
}

int top_procs_refresh(struct top_procs *p, char *err, size_t errlen)
{
	int rc = scales_collector_select(p->col, err, errlen);
	if (!rc && p->all_paths)
		rc = discover_anyway(p, err, errlen);
	/* the list borrows the selection's segments: rebuilt either way */
	if (procs_rebuild(p, rc == 0) && !rc) {
		snprintf(err, errlen, "out of memory");
		rc = -1;
	}
	return rc ? -1 : 0;
}

void top_procs_free(struct top_procs *p)
{
	for (size_t i = 0; i < p->n; i++)
		proc_clear(&p->v[i]);
	free(p->v);
	p->v = NULL;
	p->n = 0;
	free(p->bypath);
	p->bypath = NULL;
	scales_collector_free(&p->col);
}

long top_proc_metrics(struct top_proc *e)
{
	if (!e->seg)
		return -1;
	struct scales_snapshot *s = NULL;
	char err[256];
	if (scales_snapshot_take(e->seg, 0, &s, err, sizeof(err)))
		return -1;
	long n = (long)s->n;
	scales_snapshot_free(&s);
	return n;
}
