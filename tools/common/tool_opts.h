/* SPDX-License-Identifier: MIT */
/*
 * tool_opts.h: the option module both tools share. A tool describes each
 * option once, in a table of struct tool_opt (its names, argument, type,
 * range and target field); this module builds the getopt tables from it,
 * parses the command line (and scales-export's config keys, which are the
 * long names), checks ranges, stores values, and prints --help and the man
 * page's OPTIONS section. What is the tool's own (modes, options that
 * combine) goes through its action() hook.
 */
#ifndef SCALES_TOOLS_OPTIONS_H
#define SCALES_TOOLS_OPTIONS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

enum tool_opt_type {
	TOPT_ACTION, /* no target: the tool's action() applies it */
	TOPT_FLAG,   /* bool; in a config file true/false, yes/no, on/off */
	TOPT_STRING, /* char *, a copy (the tool frees it) */
	TOPT_LIST,   /* char ** and its size_t count: copies, in order */
	TOPT_UINT,   /* unsigned, decimal digits, lo to hi */
	TOPT_DOUBLE, /* double, lo to hi */
};

#define TOPT_HIDDEN 1u   /* not in --help nor the man page */
#define TOPT_NOCONF 2u   /* not allowed in a config file */
#define TOPT_REPEAT 4u   /* may be given more than once (values add up) */
#define TOPT_NONEMPTY 8u /* an empty value is refused (message: bad) */
#define TOPT_GIVEN 16u   /* also sets the bool at target2 */

struct tool_opt {
	int id;
	int short_name;        /* or 0 */
	const char *long_name; /* without "--"; also the config key */
	const char *arg;       /* argument name; NULL: a switch */
	unsigned flags;        /* TOPT_* */
	enum tool_opt_type type;
	double lo, hi;  /* range of TOPT_UINT and TOPT_DOUBLE */
	size_t target;  /* offset of the value in the tool's args struct */
	size_t target2; /* TOPT_LIST: its count; TOPT_GIVEN: the bool */
	/* the message for a bad value: a format with one %s, the value (or
	 * "" for an empty one) */
	const char *bad;
	const char *help; /* one line; --help wraps it */
};

#define TOOL_OPT_STOP 1 /* action(): parsed enough (--help, --version) */

struct tool_opts {
	const char *prog;            /* "scales-top" */
	const struct tool_opt *rows; /* rows[i].id == i */
	size_t n;
	/* how messages show the user's text (NULL: as it is) */
	const char *(*esc)(const char *s);
	/* applies a TOPT_ACTION row (val NULL for a switch); returns 0,
	 * TOOL_OPT_STOP, or 2 after tool_opt_bad() */
	int (*action)(void *args, const struct tool_opt *o, const char *val,
	              const char *where);
};

/* "PROG: WHERE" + fmt with what + "\nTry 'PROG --help'."; returns 2.
 * where is "" for the command line, "FILE:LINE: " for a config file. */
int tool_opt_bad(const struct tool_opts *t, const char *where, const char *fmt,
                 const char *what);

/* The row whose long name is name, or NULL. */
const struct tool_opt *tool_opt_by_name(const struct tool_opts *t,
                                        const char *name);

/* Applies row o with val (NULL: a switch on the command line; a config
 * file's text otherwise) to args. Returns 0, TOOL_OPT_STOP or 2. */
int tool_opt_apply(const struct tool_opts *t, void *args,
                   const struct tool_opt *o, const char *val,
                   const char *where);

/*
 * Parses the options of argv into args (getopt_long, permuting), skipping
 * the row skip_id (-1: none). Returns 0 with *first set to the first
 * positional argument's index, TOOL_OPT_STOP, or 2 (reported).
 */
int tool_opts_parse(const struct tool_opts *t, int argc, char **argv,
                    void *args, int skip_id, int *first);

/* Finds the value of row id on the command line without applying
 * anything (the last one given), or NULL. */
const char *tool_opts_peek(const struct tool_opts *t, int argc, char **argv,
                           int id);

/* Appends copies of argv[first..argc) to the list at *v, *n, refusing an
 * empty one ("empty process selector"). Returns 0 or 2 (reported). */
int tool_opts_positional(const struct tool_opts *t, int argc, char **argv,
                         int first, char ***v, size_t *n);

/* The options part of --help: "  -s, --long ARG" then the help wrapped
 * from column col to width. */
void tool_opts_usage(const struct tool_opts *t, FILE *f, int col, int width);

/* The man page's OPTIONS section (roff), from the same rows. */
void tool_opts_man(const struct tool_opts *t, FILE *f);

/* Frees a TOPT_LIST's copies and array. */
void tool_opts_free_list(char **v, size_t n);

#endif /* SCALES_TOOLS_OPTIONS_H */
