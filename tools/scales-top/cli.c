/* SPDX-License-Identifier: MIT */
/*
 * cli.c: command-line parsing and --help, both generated from the option
 * table in options.h.
 */
#include "cli.h"

#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "escape.h"
#include "options.h"

struct opt_row {
	int id;
	int short_name;
	const char *long_name;
	const char *arg;
	int hidden;
	const char *help;
};

static const struct opt_row opt_rows[] = {
#define X(id, s, l, a, h, help) { TOP_OPT_##id, s, l, a, h, help },
	TOP_OPTIONS(X)
#undef X
};

#define NOPTS (sizeof(opt_rows) / sizeof(opt_rows[0]))

/* getopt_long() returns the short character, or 256 + id for long-only. */
static int opt_code(const struct opt_row *r)
{
	return r->short_name ? r->short_name : 256 + r->id;
}

static int bad_usage(const char *fmt, const char *what)
{
	fprintf(stderr, "scales-top: ");
	fprintf(stderr, fmt, top_esc(what));
	fprintf(stderr, "\nTry 'scales-top --help'.\n");
	return 2;
}

static int push(const char ***v, size_t *n, const char *s)
{
	const char **nv = realloc(*v, (*n + 1) * sizeof(**v));
	if (!nv)
		return -ENOMEM;
	nv[(*n)++] = s;
	*v = nv;
	return 0;
}

int top_args_parse(int argc, char **argv, struct top_args *a)
{
	memset(a, 0, sizeof(*a));
	a->interval = 1.0;

	char optstring[2 * NOPTS + 2];
	struct option longopts[NOPTS + 1];
	size_t k = 0;
	for (size_t i = 0; i < NOPTS; i++) {
		const struct opt_row *r = &opt_rows[i];
		if (r->short_name) {
			optstring[k++] = (char)r->short_name;
			if (r->arg)
				optstring[k++] = ':';
		}
		longopts[i] =
		    (struct option){ r->long_name,
			             r->arg ? required_argument : no_argument,
			             NULL, opt_code(r) };
	}
	optstring[k] = '\0';
	longopts[NOPTS] = (struct option){ NULL, 0, NULL, 0 };

	bool once = false, json = false, list = false, gc = false;
	opterr = 0;
	optind = 1;
	int c;
	while ((c = getopt_long(argc, argv, optstring, longopts, NULL)) != -1) {
		int id = -1;
		for (size_t i = 0; i < NOPTS; i++)
			if (opt_code(&opt_rows[i]) == c)
				id = opt_rows[i].id;
		char *end;
		switch (id) {
		case TOP_OPT_ONCE:
			once = true;
			break;
		case TOP_OPT_JSON:
			json = true;
			break;
		case TOP_OPT_FILTER:
			if (!*optarg)
				return bad_usage("empty filter glob%s", "");
			if (push(&a->globs, &a->nglobs, optarg))
				return bad_usage("out of memory%s", "");
			break;
		case TOP_OPT_LIST:
			list = true;
			break;
		case TOP_OPT_DIR:
			if (!*optarg)
				return bad_usage("empty directory name%s", "");
			a->dir = optarg;
			break;
		case TOP_OPT_INTERVAL:
			errno = 0;
			a->interval = strtod(optarg, &end);
			if (errno || end == optarg || *end ||
			    !isfinite(a->interval) || a->interval < 0.01 ||
			    a->interval > 3600)
				return bad_usage("bad interval '%s' (seconds, "
				                 "0.01 to 3600)",
				                 optarg);
			a->interval_set = true;
			break;
		case TOP_OPT_MERGE:
			a->merge = true;
			break;
		case TOP_OPT_FLAT:
			a->flat = true;
			break;
		case TOP_OPT_VERBOSE:
			a->verbose = true;
			break;
		case TOP_OPT_BANNER:
			a->banner = optarg;
			break;
		case TOP_OPT_GC:
			gc = true;
			break;
		case TOP_OPT_HELP:
			a->mode = TOP_MODE_HELP;
			return 0;
		case TOP_OPT_VERSION:
			a->mode = TOP_MODE_VERSION;
			return 0;
		case TOP_OPT_REFRESHES:
			errno = 0;
			a->refreshes = strtol(optarg, &end, 10);
			if (errno || end == optarg || *end || a->refreshes < 1)
				return bad_usage("bad --refreshes '%s'",
				                 optarg);
			break;
		default:
			if (optopt && optopt < 256 &&
			    strchr(optstring, optopt) &&
			    strchr(optstring, optopt)[1] == ':') {
				char s[2] = { (char)optopt, 0 };
				return bad_usage("option -%s needs an argument",
				                 s);
			}
			if (optopt && optopt < 256) {
				char s[2] = { (char)optopt, 0 };
				return bad_usage("unknown option -%s", s);
			}
			return bad_usage("unknown or incomplete option '%s'",
			                 argv[optind - 1]);
		}
	}
	for (int i = optind; i < argc; i++) {
		if (!*argv[i])
			return bad_usage("empty process selector%s", "");
		if (push(&a->selectors, &a->nselectors, argv[i]))
			return bad_usage("out of memory%s", "");
	}
	int modes = (once || json) + list + gc;
	if (modes > 1)
		return bad_usage("-1/-j, -l and --gc exclude each other%s", "");
	if (json)
		a->mode = TOP_MODE_JSON;
	else if (once)
		a->mode = TOP_MODE_ONCE;
	else if (list)
		a->mode = TOP_MODE_LIST;
	else if (gc)
		a->mode = TOP_MODE_GC;
	else
		a->mode = TOP_MODE_LIVE;
	return 0;
}

void top_args_free(struct top_args *a)
{
	free(a->globs);
	free(a->selectors);
	a->globs = a->selectors = NULL;
	a->nglobs = a->nselectors = 0;
}

void top_usage(FILE *f)
{
	fprintf(f, "Usage: scales-top [OPTION]... [SELECTOR]...\n"
	           "Show the metrics of the processes instrumented with "
	           "libscales: live (curses),\n"
	           "or once as text (-1) or JSON (-j).\n\n"
	           "A SELECTOR containing '/' is a segment file (also a copied "
	           "or dead one),\n"
	           "one of only digits a pid, anything else an app name. None: "
	           "every process.\n\n"
	           "Options:\n");
	for (size_t i = 0; i < NOPTS; i++) {
		const struct opt_row *r = &opt_rows[i];
		if (r->hidden)
			continue;
		char left[64];
		int n = 0;
		if (r->short_name)
			n = snprintf(left, sizeof(left), "-%c, ",
			             r->short_name);
		else
			n = snprintf(left, sizeof(left), "    ");
		snprintf(left + n, sizeof(left) - (size_t)n, "--%s%s%s",
		         r->long_name, r->arg ? " " : "", r->arg ? r->arg : "");
		fprintf(f, "  %-24s %s\n", left, r->help);
	}
	fprintf(f, "\nKeys (live mode):\n");
#define X(id, label, help) fprintf(f, "  %-24s %s\n", label, help);
	TOP_KEYS(X)
#undef X
	fprintf(f, "\nExit status: 0 success; 1 nothing matched; 2 bad usage, "
	           "or a segment named\n"
	           "on the command line is unreadable, invalid or a "
	           "symlink.\n");
}
