/* SPDX-License-Identifier: MIT */
/*
 * cli.h: scales-top's command line, parsed into struct top_args (from the
 * table in options.h, by tools/common/tool_opts.c).
 */
#ifndef SCALES_TOP_CLI_H
#define SCALES_TOP_CLI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

/* What scales-top should do. */
enum top_mode {
	TOP_MODE_LIVE = 0, /* the curses UI */
	TOP_MODE_ONCE,     /* -1: one text snapshot */
	TOP_MODE_JSON,     /* -j: one JSON snapshot */
	TOP_MODE_LIST,     /* -l: the process list */
	TOP_MODE_GC,       /* --gc */
	TOP_MODE_HELP,     /* --help */
	TOP_MODE_VERSION,  /* --version */
};

struct top_args {
	enum top_mode mode;
	char *dir;          /* -d, or NULL */
	double interval;    /* -i seconds (default 1) */
	bool interval_set;  /* -i given */
	bool merge;         /* --merge */
	bool flat;          /* --flat */
	bool verbose;       /* -v: help texts in -1 */
	char *banner;       /* --banner TEXT, or NULL */
	unsigned refreshes; /* --refreshes N; 0: no limit */
	char **globs;       /* -f, in order */
	size_t nglobs;
	char **selectors; /* positional arguments, in order */
	size_t nselectors;
};

/*
 * Parses argv into *a. Returns 0, or 2 (bad usage) after printing a one-line
 * reason and a hint to stderr. Everything in *a is a copy: free with
 * top_args_free().
 */
int top_args_parse(int argc, char **argv, struct top_args *a);
void top_args_free(struct top_args *a);

/* Prints the --help text (generated from options.h) to f. */
void top_usage(FILE *f);

#endif /* SCALES_TOP_CLI_H */
