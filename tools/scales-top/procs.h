/* SPDX-License-Identifier: MIT */
/*
 * procs.h: the processes scales-top looks at: segment files found in the
 * segment directory (or named on the command line), filtered by the
 * command-line selectors, opened once and kept open across refreshes,
 * with their writer's liveness.
 */
#ifndef SCALES_TOP_PROCS_H
#define SCALES_TOP_PROCS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <scales/reader.h>

/* What the process list says about a segment's writer. */
enum top_pstate {
	TOP_PS_ALIVE = 0,
	TOP_PS_DEAD,    /* no such process (or pid reused): stale */
	TOP_PS_CLOSED,  /* the writer closed the segment, still running */
	TOP_PS_INVALID, /* the file cannot be opened or read */
};

struct top_proc {
	char *path;
	char app[64];
	int32_t pid;
	uint64_t start_time;
	dev_t dev; /* of the file when opened, to find it again */
	ino_t ino;
	bool named;          /* named on the command line by path */
	scales_segment *seg; /* owned by the selection; NULL if the file
	                        could not be opened or read */
	char err[256];       /* why, if seg is NULL */
	struct scales_process_info info; /* valid if info_ok */
	bool info_ok;
	uint64_t resident; /* bytes the file occupies (st_blocks), as du
	                      says: a segment is sparse, its st_size is not
	                      what it costs */
	enum top_pstate state;
	bool pid_reused; /* dead because its pid is another process now */
	bool picked;     /* chosen in the process list (UI) */
};

/* Called with one-line warnings (skipped files, unreadable segments). */
typedef void (*top_warn_f)(void *arg, const char *msg);

/* The number of metrics a snapshot of e shows (aggregates included, as
 * the live tree counts them), or -1 if it cannot be read. Takes a
 * snapshot: call it for what is shown. */
long top_proc_metrics(struct top_proc *e);

struct top_procs {
	/* the reader library's collector: its selection is the command
	 * line's (every file, dead ones too, but not copies; one segment per
	 * pid selector; unreadable files kept as "invalid"), and it samples
	 * for sample.c */
	scales_collector *col;
	bool use_picked;    /* sample only the picked processes */
	struct top_proc *v; /* sorted by app, pid, start time, path */
	size_t n;
	size_t *bypath; /* v's indices sorted by path (top_procs_find()) */
	top_warn_f warn;
	void *warn_arg;
	/* only files named: the directory is read all the same */
	const char *dir;
	bool all_paths;
};

/*
 * Sets up p (and its collector: selectors, -f globs, the meter tick of
 * -i, --merge) and opens every segment named by path among the selectors.
 * Returns 0, or -1 with a one-line reason in err if one of them is
 * unreadable, invalid or a symlink (exit status 2).
 */
struct top_args;
int top_procs_init(struct top_procs *p, const struct top_args *a,
                   top_warn_f warn, void *warn_arg, char *err, size_t errlen);

/*
 * Discovers the segment files again and keeps those the selectors match
 * (all if there are none): new ones are opened, vanished ones dropped
 * (those named by path are kept), and every entry's liveness is refreshed.
 * Returns 0, or -1 with a reason in err if the directory cannot be read.
 */
int top_procs_refresh(struct top_procs *p, char *err, size_t errlen);

void top_procs_free(struct top_procs *p);

/* The entry of the segment file path, or NULL: a binary search, so a
 * refresh over many processes is not quadratic (issue 17.2). */
struct top_proc *top_procs_find(const struct top_procs *p, const char *path);

/* "alive", "dead", "closed", "invalid". */
const char *top_pstate_name(enum top_pstate s);

/*
 * 1 if the process pid started at start_time (clock ticks since boot, as in
 * /proc/<pid>/stat field 22) runs now, 0 if not (no such pid, or another
 * process has that pid), -1 if it cannot be told.
 */
static inline int top_pid_running(int32_t pid, uint64_t start_time)
{
	return scales_pid_running(pid, start_time);
}

#endif /* SCALES_TOP_PROCS_H */
