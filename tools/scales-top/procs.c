/* SPDX-License-Identifier: MIT */
/*
 * procs.c: discovering, selecting and opening segments; liveness.
 */
#include "procs.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Kinds of positional selectors. */
enum sel_kind {
	SEL_PATH,
	SEL_PID,
	SEL_APP
};

static enum sel_kind sel_kind(const char *s)
{
	if (strchr(s, '/'))
		return SEL_PATH;
	for (const char *c = s; *c; c++)
		if (!isdigit((unsigned char)*c))
			return SEL_APP;
	return SEL_PID;
}

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

int top_pid_running(int32_t pid, uint64_t start_time)
{
	char path[64], buf[1024];
	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT || errno == ESRCH ? 0 : -1;
	ssize_t n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return n == 0 ? 0 : -1;
	buf[n] = '\0';
	/* field 2 (comm) may hold spaces and parentheses: skip to its end */
	char *p = strrchr(buf, ')');
	if (!p)
		return -1;
	p++;
	/* fields 3..22: the start time is the 20th after comm */
	for (int field = 3; field < 22; field++) {
		p = strchr(p + 1, ' ');
		if (!p)
			return -1;
	}
	unsigned long long st = strtoull(p + 1, NULL, 10);
	return st == start_time ? 1 : 0;
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
	scales_segment_close(&e->seg);
	free(e->path);
	memset(e, 0, sizeof(*e));
}

static void proc_state(struct top_procs *p, struct top_proc *e)
{
	e->info_ok = false;
	e->pid_reused = false;
	if (!e->seg) {
		e->state = TOP_PS_INVALID;
		return;
	}
	char err[256];
	int rc = scales_segment_info(e->seg, &e->info, err, sizeof(err));
	if (rc) {
		snprintf(e->err, sizeof(e->err), "%s", err);
		e->state = TOP_PS_INVALID;
		if (p->warn) {
			char line[512];
			snprintf(line, sizeof(line), "skipping %s", err);
			p->warn(p->warn_arg, line);
		}
		return;
	}
	e->info_ok = true;
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

/* Opens path into a new entry of p (or finds it). */
static struct top_proc *proc_add(struct top_procs *p, const char *path,
                                 const char *app, int32_t pid, uint64_t start,
                                 bool named)
{
	struct stat st;
	bool have_st = lstat(path, &st) == 0;
	for (size_t i = 0; i < p->n; i++)
		if (strcmp(p->v[i].path, path) == 0 ||
		    /* a file named on the command line, found again in
		     * the directory under its own name */
		    (have_st && (named || p->v[i].named) && p->v[i].ino &&
		     p->v[i].dev == st.st_dev && p->v[i].ino == st.st_ino)) {
			p->v[i].present = true;
			p->v[i].named |= named;
			return &p->v[i];
		}
	struct top_proc *nv = realloc(p->v, (p->n + 1) * sizeof(*nv));
	if (!nv)
		return NULL;
	p->v = nv;
	struct top_proc *e = &p->v[p->n];
	memset(e, 0, sizeof(*e));
	e->path = strdup(path);
	if (!e->path)
		return NULL;
	p->n++;
	e->present = true;
	e->named = named;
	if (have_st) {
		e->dev = st.st_dev;
		e->ino = st.st_ino;
	}
	e->pid = pid;
	e->start_time = start;
	snprintf(e->app, sizeof(e->app), "%s", app ? app : "?");
	int rc = scales_segment_open(path, 0, &e->seg, e->err, sizeof(e->err));
	if (rc && !named && p->warn) {
		char line[512];
		snprintf(line, sizeof(line), "skipping %s", e->err);
		p->warn(p->warn_arg, line);
	}
	return e;
}

int top_procs_init(struct top_procs *p, const char *dir,
                   const char *const *selectors, size_t nselectors,
                   top_warn_f warn, void *warn_arg, char *err, size_t errlen)
{
	memset(p, 0, sizeof(*p));
	p->dir = dir;
	p->selectors = selectors;
	p->nselectors = nselectors;
	p->warn = warn;
	p->warn_arg = warn_arg;
	for (size_t i = 0; i < nselectors; i++) {
		if (sel_kind(selectors[i]) != SEL_PATH)
			continue;
		const char *path = selectors[i];
		const char *base = strrchr(path, '/') + 1;
		char app[64] = "?";
		int32_t pid = 0;
		uint64_t start = 0;
		scales_parse_seg_name(base, app, sizeof(app), &pid, &start);
		struct top_proc *e = proc_add(p, path, app, pid, start, true);
		if (!e) {
			snprintf(err, errlen, "%s: out of memory", path);
			return -1;
		}
		if (!e->seg) {
			snprintf(err, errlen, "%s", e->err);
			return -1;
		}
		proc_state(p, e);
		if (!e->info_ok) {
			snprintf(err, errlen, "%s", e->err);
			return -1;
		}
	}
	return 0;
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

/* Does a discovered segment match the selectors (pids: any match)? */
static bool selected(const struct top_procs *p, const struct scales_seg_ref *r)
{
	bool any = false;
	for (size_t i = 0; i < p->nselectors; i++) {
		const char *s = p->selectors[i];
		switch (sel_kind(s)) {
		case SEL_PATH:
			continue;
		case SEL_PID:
			any = true;
			if (strtoll(s, NULL, 10) == r->pid)
				return true;
			break;
		case SEL_APP:
			any = true;
			if (strcmp(s, r->app) == 0)
				return true;
			break;
		}
	}
	/* no selectors but paths: every process; only paths: none else */
	if (any)
		return false;
	for (size_t i = 0; i < p->nselectors; i++)
		if (sel_kind(p->selectors[i]) == SEL_PATH)
			return false;
	return true;
}

/* Is e selected by an app selector (not only by its pid)? */
static bool by_app(const struct top_procs *p, const struct top_proc *e)
{
	for (size_t i = 0; i < p->nselectors; i++)
		if (sel_kind(p->selectors[i]) == SEL_APP &&
		    strcmp(p->selectors[i], e->app) == 0)
			return true;
	return p->nselectors == 0;
}

static int state_rank(const struct top_proc *e)
{
	return e->state == TOP_PS_ALIVE  ? 0 :
	       e->state == TOP_PS_CLOSED ? 1 :
	       e->state == TOP_PS_DEAD   ? 2 :
	                                   3;
}

/*
 * A pid selector names one process: of several segments with that pid
 * (a dead writer whose pid was reused), keep the live one, else the most
 * recent start time.
 */
static void prune_pids(struct top_procs *p)
{
	for (size_t i = 0; i < p->n; i++) {
		struct top_proc *a = &p->v[i];
		if (!a->present || a->named || by_app(p, a))
			continue;
		for (size_t j = 0; j < p->n; j++) {
			struct top_proc *b = &p->v[j];
			if (j == i || !b->present || b->named ||
			    b->pid != a->pid || by_app(p, b))
				continue;
			int ra = state_rank(a), rb = state_rank(b);
			if (ra > rb ||
			    (ra == rb && a->start_time < b->start_time)) {
				a->present = false;
				break;
			}
		}
	}
}

int top_procs_refresh(struct top_procs *p, char *err, size_t errlen)
{
	struct scales_seg_list list = { 0 };
	int rc = scales_discover(p->dir, discover_warn, p, &list, err, errlen);
	if (rc)
		return -1;
	for (size_t i = 0; i < p->n; i++)
		p->v[i].present = p->v[i].named;
	for (size_t i = 0; i < list.n; i++) {
		const struct scales_seg_ref *r = &list.items[i];
		if (!selected(p, r))
			continue;
		if (!proc_add(p, r->path, r->app, r->pid, r->start_time,
		              false)) {
			scales_seg_list_free(&list);
			snprintf(err, errlen, "out of memory");
			return -1;
		}
	}
	scales_seg_list_free(&list);
	for (size_t i = 0; i < p->n; i++)
		if (p->v[i].present)
			proc_state(p, &p->v[i]);
	prune_pids(p);
	size_t w = 0;
	for (size_t i = 0; i < p->n; i++) {
		if (p->v[i].present)
			p->v[w++] = p->v[i];
		else
			proc_clear(&p->v[i]);
	}
	p->n = w;
	qsort(p->v, p->n, sizeof(*p->v), proc_cmp);
	return 0;
}

void top_procs_free(struct top_procs *p)
{
	for (size_t i = 0; i < p->n; i++)
		proc_clear(&p->v[i]);
	free(p->v);
	p->v = NULL;
	p->n = 0;
}
