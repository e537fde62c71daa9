/* SPDX-License-Identifier: MIT */
/*
 * main.h: what the files of the scales-export program share (main.c: the
 * run loop; self.c: its own metrics; atomic.c: atomic file writing). Not
 * part of the export core library.
 */
#ifndef SCALES_EXPORT_MAIN_H
#define SCALES_EXPORT_MAIN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <scales/scales.h>

#include "cli.h"
#include "export.h"

#define PROG "scales-export"

/* "scales-export: MESSAGE" on standard error; with --quiet errors only */
void logmsg(bool error, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* ------------------------------------------- json file and textfile */

/* --json-file or --textfile: a file rewritten atomically every period */
struct json_out {
	const char *opt; /* "--json-file", "--textfile": for messages */
	const char *path;
	bool failing; /* the last write failed (reported once) */
	uint64_t errors;
};

/* Writes len bytes of data to path atomically: a temporary file in the
 * same directory, fsync, rename. Returns 0, or -1 with *why (a phrase) and
 * *err (an errno value, 0 if none applies) set; the temporary file is
 * removed. */
int atomic_write_file(const char *path, const char *data, size_t len,
                      const char **why, int *err);

/* ------------------------------------------------------- self metrics */

struct self_dest {
	scales_counter sent, dropped, reconnects, failures;
	scales_gauge up;
	uint64_t l_sent, l_dropped, l_reconnects, l_failures;
};

struct self {
	scales_registry *reg;
	scales_scope *root; /* /export/graphite */
	scales_counter periods, points, json_errors, textfile_errors;
	scales_histogram push_duration;
	scales_gauge buffered, metrics, processes;
	struct self_dest *d;
	uint64_t l_json_errors, l_textfile_errors;
};

/* Publishes the tool's own metrics (/export/...) unless
 * a->no_self_metrics; without a segment every handle is a sink. */
void self_open(struct self *s, const struct export_args *a, struct gdest *dests,
               size_t nd);
/* Copies the destinations', the JSON file's and the textfile's counters
 * in. */
void self_update(struct self *s, struct gdest *dests, size_t nd,
                 const struct pointbuf *pb, const struct json_out *j,
                 const struct json_out *t);
void self_close(struct self *s);

#endif
