/* SPDX-License-Identifier: MIT */
/*
 * cli.h: scales-export's command line and config file, parsed into struct
 * export_args (from the table in options.h).
 */
#ifndef SCALES_EXPORT_CLI_H
#define SCALES_EXPORT_CLI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "export.h"

enum export_mode {
	EXPORT_MODE_RUN = 0,
	EXPORT_MODE_HELP,
	EXPORT_MODE_VERSION,
	EXPORT_MODE_HELP_MAN,
};

struct export_args {
	enum export_mode mode;
	char **graphite; /* --graphite, in order */
	size_t ngraphite;
	char **label_rules; /* --label-rule, in order */
	size_t nlabel_rules;
	bool to_stdout;
	char *json_file;
	char *textfile; /* --textfile */
	char *http;
	bool http_allow_remote;
	unsigned http_history;
	char *prefix; /* NULL: default (host name) */
	unsigned period;
	bool once;
	struct export_rules rules;
	bool per_process, all_owners, rates, meters, seed_names;
	char *dir;
	char **selectors; /* positional and --process, in order */
	size_t nselectors;
	double buffer_s; /* --buffer */
	unsigned resend; /* after parsing: --resend or its default */
	bool resend_set;
	double backoff_max_s;
	double timeout_s;
	bool no_self_metrics;
	bool quiet;
	char *config; /* the file read, if any */
};

/*
 * Parses the config file named by --config/-c (if any; read first) and then
 * argv into *a. Returns 0, or 2 (bad usage, or an unreadable or invalid
 * config file) after printing a one-line reason to stderr. Everything in
 * *a is owned by it: export_args_free().
 */
int export_args_parse(int argc, char **argv, struct export_args *a);
void export_args_free(struct export_args *a);

/* Reads one config file into *a (as if its options were given in order):
 * a regular file or a pipe, of at most EXPORT_CONFIG_MAX_BYTES. Returns 0
 * or 2 after printing "FILE:LINE: reason" (or why the file is refused). */
#define EXPORT_CONFIG_MAX_BYTES (1024u * 1024u)
int export_args_config(struct export_args *a, const char *file);

/* The point buffer's bound in periods: --buffer / --period rounded up, at
 * least 1 (the newest batch is always kept). --resend is less. */
unsigned export_buffer_periods(const struct export_args *a);

/* --help, generated from options.h. */
void export_usage(FILE *f);
/* The man page's OPTIONS section, generated from options.h. */
void export_man_options(FILE *f);

#endif /* SCALES_EXPORT_CLI_H */
