/* SPDX-License-Identifier: MIT */
/*
 * cli.c: command-line parsing and --help, both generated from the option
 * table in options.h by the option module both tools share
 * (tools/common/tool_opts.c).
 */
#include "cli.h"

#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "escape.h"
#include "options.h"

/* What the table writes: the arguments and the mode switches, which
 * exclude each other. */
struct top_cli {
	struct top_args a;
	bool once, json, list, gc;
};

static int action(void *args, const struct tool_opt *o, const char *val,
                  const char *where);

static const struct tool_opt opt_rows[] = {
#define F(field) offsetof(struct top_cli, field)
#define X(id, s, l, a, f, type, lo, hi, t1, t2, bad, help)                     \
	{ TOP_OPT_##id, s, l, a, f, type, lo, hi, t1, t2, bad, help },
	TOP_OPTIONS(X)
#undef X
#undef F
};

#define NOPTS (sizeof(opt_rows) / sizeof(opt_rows[0]))

static const struct tool_opts opts = {
	.prog = "scales-top",
	.rows = opt_rows,
	.n = NOPTS,
	.esc = top_esc,
	.action = action,
};

/* --help and --version: the mode, and nothing more is parsed. */
static int action(void *args, const struct tool_opt *o, const char *val,
                  const char *where)
{
	struct top_cli *c = args;
	(void)val;
	if (o->id == TOP_OPT_HELP)
		c->a.mode = TOP_MODE_HELP;
	else if (o->id == TOP_OPT_VERSION)
		c->a.mode = TOP_MODE_VERSION;
	else
		return tool_opt_bad(&opts, where, "internal: unknown option%s",
		                    "");
	return TOOL_OPT_STOP;
}

int top_args_parse(int argc, char **argv, struct top_args *a)
{
	struct top_cli c;
	memset(&c, 0, sizeof(c));
	c.a.interval = 1.0;
	int first;
	int rc = tool_opts_parse(&opts, argc, argv, &c, -1, &first);
	if (!rc)
		rc = tool_opts_positional(&opts, argc, argv, first,
		                          &c.a.selectors, &c.a.nselectors);
	*a = c.a;
	if (rc == TOOL_OPT_STOP)
		return 0;
	if (rc)
		return rc;
	int modes = (c.once || c.json) + c.list + c.gc;
	if (modes > 1)
		return tool_opt_bad(&opts, "",
		                    "-1/-j, -l and --gc exclude each other%s",
		                    "");
	if (c.json)
		a->mode = TOP_MODE_JSON;
	else if (c.once)
		a->mode = TOP_MODE_ONCE;
	else if (c.list)
		a->mode = TOP_MODE_LIST;
	else if (c.gc)
		a->mode = TOP_MODE_GC;
	else
		a->mode = TOP_MODE_LIVE;
	return 0;
}

void top_args_free(struct top_args *a)
{
	tool_opts_free_list(a->globs, a->nglobs);
	tool_opts_free_list(a->selectors, a->nselectors);
	free(a->dir);
	free(a->banner);
	memset(a, 0, sizeof(*a));
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
	tool_opts_usage(&opts, f, 27, 0);
	fprintf(f, "\nKeys (live mode):\n");
#define X(id, label, help) fprintf(f, "  %-24s %s\n", label, help);
	TOP_KEYS(X)
#undef X
	fprintf(f, "\nExit status: 0 success; 1 nothing matched; 2 bad usage, "
	           "or a segment named\n"
	           "on the command line is unreadable, invalid or a "
	           "symlink.\n");
}
