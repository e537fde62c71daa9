/* SPDX-License-Identifier: MIT */
/*
 * tool_opts.c: the option module of scales-top and scales-export (see
 * tool_opts.h).
 */
#include "tool_opts.h"

#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define AT(args, off) ((void *)((char *)(args) + (off)))

int tool_opt_bad(const struct tool_opts *t, const char *where, const char *fmt,
                 const char *what)
{
	fprintf(stderr, "%s: %s", t->prog, where);
	fprintf(stderr, fmt, t->esc ? t->esc(what) : what);
	fprintf(stderr, "\nTry '%s --help'.\n", t->prog);
	return 2;
}

const struct tool_opt *tool_opt_by_name(const struct tool_opts *t,
                                        const char *name)
{
	for (size_t i = 0; i < t->n; i++)
		if (!strcmp(t->rows[i].long_name, name))
			return &t->rows[i];
	return NULL;
}

static bool parse_double(const char *s, double lo, double hi, double *out)
{
	char *end;
	errno = 0;
	double v = strtod(s, &end);
	if (errno || end == s || *end || !isfinite(v) || v < lo || v > hi)
		return false;
	*out = v;
	return true;
}

/* Decimal digits only: no sign, no space, no hex. */
static bool parse_uint(const char *s, double lo, double hi, unsigned *out)
{
	char *end;
	errno = 0;
	if (!isdigit((unsigned char)s[0]))
		return false;
	unsigned long v = strtoul(s, &end, 10);
	if (errno || *end || (double)v < lo || (double)v > hi)
		return false;
	*out = (unsigned)v;
	return true;
}

static int push(char ***v, size_t *n, const char *s)
{
	char *d = strdup(s);
	char **nv = d ? realloc(*v, (*n + 1) * sizeof(**v)) : NULL;
	if (!nv) {
		free(d);
		return -ENOMEM;
	}
	nv[(*n)++] = d;
	*v = nv;
	return 0;
}

int tool_opt_apply(const struct tool_opts *t, void *args,
                   const struct tool_opt *o, const char *val, const char *where)
{
	bool on = true;
	if (!o->arg && val) { /* a switch in a config file */
		if (!strcasecmp(val, "true") || !strcasecmp(val, "yes") ||
		    !strcasecmp(val, "on") || !strcmp(val, "1"))
			on = true;
		else if (!strcasecmp(val, "false") || !strcasecmp(val, "no") ||
		         !strcasecmp(val, "off") || !strcmp(val, "0"))
			on = false;
		else
			return tool_opt_bad(t, where,
			                    "'%s' wants true or false",
			                    o->long_name);
	}
	if (o->arg && (o->flags & TOPT_NONEMPTY) && !*val)
		return tool_opt_bad(t, where, o->bad, "");
	int rc = 0;
	switch (o->type) {
	case TOPT_ACTION:
		return t->action(args, o, o->arg ? val : NULL, where);
	case TOPT_FLAG:
		*(bool *)AT(args, o->target) = on;
		break;
	case TOPT_STRING: {
		char *d = strdup(val);
		if (!d) {
			rc = -ENOMEM;
			break;
		}
		char **dst = AT(args, o->target);
		free(*dst);
		*dst = d;
		break;
	}
	case TOPT_LIST:
		rc = push(AT(args, o->target), AT(args, o->target2), val);
		break;
	case TOPT_UINT:
		if (!parse_uint(val, o->lo, o->hi, AT(args, o->target)))
			return tool_opt_bad(t, where, o->bad, val);
		break;
	case TOPT_DOUBLE:
		if (!parse_double(val, o->lo, o->hi, AT(args, o->target)))
			return tool_opt_bad(t, where, o->bad, val);
		break;
	}
	if (rc)
		return tool_opt_bad(t, where, "out of memory%s", "");
	if (o->flags & TOPT_GIVEN)
		*(bool *)AT(args, o->target2) = true;
	return 0;
}

/* getopt_long() returns the short character, or 256 + id for long-only. */
static int opt_code(const struct tool_opt *o)
{
	return o->short_name ? o->short_name : 256 + o->id;
}

struct getopt_tables {
	char *optstring;
	struct option *longopts;
};

static int tables_make(const struct tool_opts *t, struct getopt_tables *g)
{
	g->optstring = malloc(2 * t->n + 2);
	g->longopts = calloc(t->n + 1, sizeof(*g->longopts));
	if (!g->optstring || !g->longopts) {
		free(g->optstring);
		free(g->longopts);
		return -ENOMEM;
	}
	size_t k = 0;
	for (size_t i = 0; i < t->n; i++) {
		const struct tool_opt *o = &t->rows[i];
		if (o->short_name) {
			g->optstring[k++] = (char)o->short_name;
			if (o->arg)
				g->optstring[k++] = ':';
		}
		g->longopts[i] =
		    (struct option){ o->long_name,
			             o->arg ? required_argument : no_argument,
			             NULL, opt_code(o) };
	}
	g->optstring[k] = '\0';
	return 0;
}

static void tables_free(struct getopt_tables *g)
{
	free(g->optstring);
	free(g->longopts);
}

static const struct tool_opt *row_of(const struct tool_opts *t, int c)
{
	for (size_t i = 0; i < t->n; i++)
		if (opt_code(&t->rows[i]) == c)
			return &t->rows[i];
	return NULL;
}

const char *tool_opts_peek(const struct tool_opts *t, int argc, char **argv,
                           int id)
{
	struct getopt_tables g;
	if (tables_make(t, &g))
		return NULL;
	const char *val = NULL;
	opterr = 0;
	optind = 1;
	int c;
	while ((c = getopt_long(argc, argv, g.optstring, g.longopts, NULL)) !=
	       -1) {
		const struct tool_opt *o = row_of(t, c);
		if (o && o->id == id)
			val = optarg;
	}
	tables_free(&g);
	return val;
}

int tool_opts_parse(const struct tool_opts *t, int argc, char **argv,
                    void *args, int skip_id, int *first)
{
	struct getopt_tables g;
	if (tables_make(t, &g))
		return tool_opt_bad(t, "", "out of memory%s", "");
	int rc = 0;
	opterr = 0;
	optind = 1;
	int c;
	while (!rc && (c = getopt_long(argc, argv, g.optstring, g.longopts,
	                               NULL)) != -1) {
		const struct tool_opt *o = row_of(t, c);
		if (o) {
			if (o->id != skip_id)
				rc = tool_opt_apply(t, args, o,
				                    o->arg ? optarg : NULL, "");
			continue;
		}
		char s[2] = { (char)optopt, 0 };
		if (optopt && optopt < 256 && strchr(g.optstring, optopt) &&
		    strchr(g.optstring, optopt)[1] == ':')
			rc = tool_opt_bad(t, "", "option -%s needs an argument",
			                  s);
		else if (optopt && optopt < 256)
			rc = tool_opt_bad(t, "", "unknown option -%s", s);
		else
			rc = tool_opt_bad(t, "",
			                  "unknown or incomplete option '%s'",
			                  argv[optind - 1]);
	}
	*first = optind;
	tables_free(&g);
	return rc;
}

int tool_opts_positional(const struct tool_opts *t, int argc, char **argv,
                         int first, char ***v, size_t *n)
{
	for (int i = first; i < argc; i++) {
		if (!*argv[i])
			return tool_opt_bad(t, "", "empty process selector%s",
			                    "");
		if (push(v, n, argv[i]))
			return tool_opt_bad(t, "", "out of memory%s", "");
	}
	return 0;
}

void tool_opts_free_list(char **v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

/* Prints text wrapped at width, each line indented by indent. */
static void wrap(FILE *f, const char *text, int indent, int first_col,
                 int width)
{
	int col = first_col;
	const char *p = text;
	while (*p) {
		const char *e = p;
		while (*e && *e != ' ')
			e++;
		int wl = (int)(e - p);
		if (col > indent && col + 1 + wl > width) {
			fprintf(f, "\n%*s", indent, "");
			col = indent;
		} else if (col > indent) {
			fputc(' ', f);
			col++;
		} else if (col < indent) {
			fprintf(f, "%*s", indent - col, "");
			col = indent;
		}
		fwrite(p, 1, (size_t)wl, f);
		col += wl;
		p = *e ? e + 1 : e;
	}
	fputc('\n', f);
}

void tool_opts_usage(const struct tool_opts *t, FILE *f, int col, int width)
{
	for (size_t i = 0; i < t->n; i++) {
		const struct tool_opt *o = &t->rows[i];
		if (o->flags & TOPT_HIDDEN)
			continue;
		char head[96];
		if (o->short_name)
			snprintf(head, sizeof(head), "  -%c, --%s%s%s",
			         o->short_name, o->long_name, o->arg ? " " : "",
			         o->arg ? o->arg : "");
		else
			snprintf(head, sizeof(head), "      --%s%s%s",
			         o->long_name, o->arg ? " " : "",
			         o->arg ? o->arg : "");
		if (!width) { /* one line an option */
			fprintf(f, "%-*s %s\n", col - 1, head, o->help);
			continue;
		}
		fputs(head, f);
		int hc = (int)strlen(head);
		if (hc >= col) {
			fputc('\n', f);
			hc = 0;
		}
		wrap(f, o->help, col, hc, width);
	}
}

/* roff-escapes s: "\" and "-" (and a leading "." or "'"). */
static void roff(FILE *f, const char *s)
{
	if (*s == '.' || *s == '\'')
		fputs("\\&", f);
	for (; *s; s++) {
		if (*s == '\\')
			fputs("\\e", f);
		else if (*s == '-')
			fputs("\\-", f);
		else
			fputc(*s, f);
	}
}

void tool_opts_man(const struct tool_opts *t, FILE *f)
{
	fputs(".SH OPTIONS\n", f);
	for (size_t i = 0; i < t->n; i++) {
		const struct tool_opt *o = &t->rows[i];
		if (o->flags & TOPT_HIDDEN)
			continue;
		fputs(".TP\n", f);
		if (o->short_name)
			fprintf(f, "\\fB\\-%c\\fR, ", o->short_name);
		fputs("\\fB\\-\\-", f);
		roff(f, o->long_name);
		fputs("\\fR", f);
		if (o->arg) {
			fputs(" \\fI", f);
			roff(f, o->arg);
			fputs("\\fR", f);
		}
		fputc('\n', f);
		roff(f, o->help);
		fputs(".\n", f);
	}
}
