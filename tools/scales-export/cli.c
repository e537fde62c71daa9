/* SPDX-License-Identifier: MIT */
/*
 * cli.c: command line, config file, --help and the man page's OPTIONS
 * section, all from the table in options.h.
 */
#include "cli.h"

#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "options.h"

struct opt_row {
	int id;
	int short_name;
	const char *long_name;
	const char *arg;
	int flags;
	const char *help;
};

static const struct opt_row opt_rows[] = {
#define X(id, s, l, a, f, help) { EXPORT_OPT_##id, s, l, a, f, help },
	EXPORT_OPTIONS(X)
#undef X
};

#define NOPTS (sizeof(opt_rows) / sizeof(opt_rows[0]))

static int opt_code(const struct opt_row *r)
{
	return r->short_name ? r->short_name : 256 + r->id;
}

/* "where" is "" for the command line, "FILE:LINE: " for a config file. */
static int bad(const char *where, const char *fmt, const char *what)
{
	fprintf(stderr, "scales-export: %s", where);
	fprintf(stderr, fmt, what);
	fprintf(stderr, "\nTry 'scales-export --help'.\n");
	return 2;
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

static int set_str(char **dst, const char *s)
{
	char *d = strdup(s);
	if (!d)
		return -ENOMEM;
	free(*dst);
	*dst = d;
	return 0;
}

static bool parse_seconds(const char *s, double lo, double hi, double *out)
{
	char *end;
	errno = 0;
	double v = strtod(s, &end);
	if (errno || end == s || *end || !isfinite(v) || v < lo || v > hi)
		return false;
	*out = v;
	return true;
}

static bool parse_uint(const char *s, unsigned long lo, unsigned long hi,
                       unsigned *out)
{
	char *end;
	errno = 0;
	if (!isdigit((unsigned char)s[0]))
		return false;
	unsigned long v = strtoul(s, &end, 10);
	if (errno || *end || v < lo || v > hi)
		return false;
	*out = (unsigned)v;
	return true;
}

/* Applies option id with value val (NULL for a switch given on the command
 * line; "true"/"false" etc. from a config file). */
static int apply(struct export_args *a, int id, const char *val,
                 const char *where)
{
	const struct opt_row *r = &opt_rows[id];
	bool on = true;
	if (!r->arg && val) {
		if (!strcasecmp(val, "true") || !strcasecmp(val, "yes") ||
		    !strcasecmp(val, "on") || !strcmp(val, "1"))
			on = true;
		else if (!strcasecmp(val, "false") || !strcasecmp(val, "no") ||
		         !strcasecmp(val, "off") || !strcmp(val, "0"))
			on = false;
		else
			return bad(where, "'%s' wants true or false",
			           r->long_name);
	}
	double d;
	int rc = 0;
	switch (id) {
	case EXPORT_OPT_GRAPHITE:
		if (!*val)
			return bad(where, "empty --graphite destination%s", "");
		rc = push(&a->graphite, &a->ngraphite, val);
		break;
	case EXPORT_OPT_STDOUT:
		a->to_stdout = on;
		break;
	case EXPORT_OPT_JSON_FILE:
		if (!*val)
			return bad(where, "empty --json-file path%s", "");
		rc = set_str(&a->json_file, val);
		break;
	case EXPORT_OPT_TEXTFILE:
		if (!*val)
			return bad(where, "empty --textfile path%s", "");
		rc = set_str(&a->textfile, val);
		break;
	case EXPORT_OPT_HTTP:
		if (!*val)
			return bad(where, "empty --http address%s", "");
		rc = set_str(&a->http, val);
		break;
	case EXPORT_OPT_HTTP_ALLOW_REMOTE:
		a->http_allow_remote = on;
		break;
	case EXPORT_OPT_HTTP_HISTORY:
		if (!parse_uint(val, 1, 3600, &a->http_history))
			return bad(where, "bad --http-history '%s' (1 to 3600)",
			           val);
		break;
	case EXPORT_OPT_PREFIX:
		rc = set_str(&a->prefix, val);
		break;
	case EXPORT_OPT_PERIOD:
		if (!parse_uint(val, 1, 86400, &a->period))
			return bad(where,
			           "bad --period '%s' (whole seconds, 1 to "
			           "86400)",
			           val);
		break;
	case EXPORT_OPT_ONCE:
		a->once = on;
		break;
	case EXPORT_OPT_ALLOW:
	case EXPORT_OPT_FORBID:
		if (!*val)
			return bad(where, "empty glob%s", "");
		rc = export_rules_add(&a->rules, id == EXPORT_OPT_ALLOW, val);
		break;
	case EXPORT_OPT_PER_PROCESS:
		a->per_process = on;
		break;
	case EXPORT_OPT_ALL_OWNERS:
		a->all_owners = on;
		break;
	case EXPORT_OPT_RATES:
		a->rates = on;
		break;
	case EXPORT_OPT_METERS:
		a->meters = on;
		break;
	case EXPORT_OPT_SEED_NAMES:
		a->seed_names = on;
		break;
	case EXPORT_OPT_DIR:
		if (!*val)
			return bad(where, "empty directory name%s", "");
		rc = set_str(&a->dir, val);
		break;
	case EXPORT_OPT_PROCESS:
		if (!*val)
			return bad(where, "empty process selector%s", "");
		rc = push(&a->selectors, &a->nselectors, val);
		break;
	case EXPORT_OPT_BUFFER:
		if (!parse_seconds(val, 0, 30 * 86400.0, &a->buffer_s))
			return bad(where, "bad --buffer '%s' (seconds)", val);
		break;
	case EXPORT_OPT_RESEND:
		if (!parse_uint(val, 0, 100000, &a->resend))
			return bad(where, "bad --resend '%s' (0 to 100000)",
			           val);
		a->resend_set = true;
		break;
	case EXPORT_OPT_BACKOFF_MAX:
		if (!parse_seconds(val, 0.5, 3600, &d))
			return bad(where,
			           "bad --backoff-max '%s' (0.5 to 3600 "
			           "seconds)",
			           val);
		a->backoff_max_s = d;
		break;
	case EXPORT_OPT_TIMEOUT:
		if (!parse_seconds(val, 0.1, 3600, &d))
			return bad(where,
			           "bad --timeout '%s' (0.1 to 3600 seconds)",
			           val);
		a->timeout_s = d;
		break;
	case EXPORT_OPT_NO_SELF_METRICS:
		a->no_self_metrics = on;
		break;
	case EXPORT_OPT_QUIET:
		a->quiet = on;
		break;
	case EXPORT_OPT_CONFIG:
		rc = set_str(&a->config, val);
		break;
	case EXPORT_OPT_HELP:
		a->mode = EXPORT_MODE_HELP;
		break;
	case EXPORT_OPT_VERSION:
		a->mode = EXPORT_MODE_VERSION;
		break;
	case EXPORT_OPT_HELP_MAN:
		a->mode = EXPORT_MODE_HELP_MAN;
		break;
	default:
		return bad(where, "internal: unknown option%s", "");
	}
	if (rc)
		return bad(where, "out of memory%s", "");
	return 0;
}

static void defaults(struct export_args *a)
{
	memset(a, 0, sizeof(*a));
	a->period = 60;
	a->buffer_s = 600;
	a->backoff_max_s = 30;
	a->timeout_s = 10;
}

static char *trim(char *s)
{
	while (isspace((unsigned char)*s))
		s++;
	size_t n = strlen(s);
	while (n && isspace((unsigned char)s[n - 1]))
		s[--n] = 0;
	return s;
}

int export_args_config(struct export_args *a, const char *file)
{
	FILE *f = fopen(file, "re");
	if (!f) {
		fprintf(stderr,
		        "scales-export: cannot read config file %s: %s\n", file,
		        strerror(errno));
		return 2;
	}
	/* a regular file (or a pipe: --config <(...)) of bounded size; not a
	 * device such as /dev/zero, which never ends */
	struct stat st;
	if (fstat(fileno(f), &st) < 0 ||
	    !(S_ISREG(st.st_mode) || S_ISFIFO(st.st_mode))) {
		fprintf(stderr,
		        "scales-export: cannot read config file %s: not a "
		        "regular file\n",
		        file);
		fclose(f);
		return 2;
	}
	char *line = NULL;
	size_t cap = 0;
	unsigned lineno = 0;
	int rc = 0;
	size_t total = 0;
	ssize_t len;
	while ((len = getline(&line, &cap, f)) >= 0) {
		lineno++;
		/* checked as read: a file may grow, a pipe has no size */
		total += (size_t)len;
		if (total > EXPORT_CONFIG_MAX_BYTES) {
			fprintf(stderr,
			        "scales-export: config file %s is larger than "
			        "%u bytes\n",
			        file, EXPORT_CONFIG_MAX_BYTES);
			rc = 2;
			break;
		}
		char where[512];
		snprintf(where, sizeof(where), "%s:%u: ", file, lineno);
		char *s = trim(line);
		if (!*s || *s == '#')
			continue;
		char *eq = strchr(s, '=');
		if (!eq) {
			rc = bad(where, "want 'key = value'%s", "");
			break;
		}
		*eq = 0;
		char *key = trim(s), *val = trim(eq + 1);
		size_t vl = strlen(val);
		if (vl >= 2 && val[0] == '"' && val[vl - 1] == '"') {
			val[vl - 1] = 0;
			val++;
		}
		int id = -1;
		for (size_t i = 0; i < NOPTS; i++)
			if (!strcmp(opt_rows[i].long_name, key))
				id = opt_rows[i].id;
		if (id < 0) {
			rc = bad(where, "unknown key '%s'", key);
			break;
		}
		if (opt_rows[id].flags & OPTF_NOCONF) {
			rc = bad(where, "'%s' is not allowed in a config file",
			         key);
			break;
		}
		rc = apply(a, id, val, where);
		if (rc)
			break;
	}
	if (!rc && ferror(f)) {
		fprintf(stderr, "scales-export: cannot read config file %s\n",
		        file);
		rc = 2;
	}
	free(line);
	fclose(f);
	return rc;
}

int export_args_parse(int argc, char **argv, struct export_args *a)
{
	defaults(a);

	char optstring[2 * NOPTS + 1];
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

	/* pass 1: only --config, so that the file comes first */
	opterr = 0;
	optind = 1;
	int c;
	const char *config = NULL;
	while ((c = getopt_long(argc, argv, optstring, longopts, NULL)) != -1)
		if (c == 'c')
			config = optarg;
	if (config) {
		int rc = export_args_config(a, config);
		if (rc)
			return rc;
		if (set_str(&a->config, config))
			return bad("", "out of memory%s", "");
	}

	/* pass 2: everything else */
	optind = 1;
	while ((c = getopt_long(argc, argv, optstring, longopts, NULL)) != -1) {
		int id = -1;
		for (size_t i = 0; i < NOPTS; i++)
			if (opt_code(&opt_rows[i]) == c)
				id = opt_rows[i].id;
		if (id == EXPORT_OPT_CONFIG)
			continue;
		if (id >= 0) {
			int rc =
			    apply(a, id, opt_rows[id].arg ? optarg : NULL, "");
			if (rc)
				return rc;
			if (a->mode != EXPORT_MODE_RUN)
				return 0;
			continue;
		}
		if (optopt && optopt < 256 && strchr(optstring, optopt) &&
		    strchr(optstring, optopt)[1] == ':') {
			char s[2] = { (char)optopt, 0 };
			return bad("", "option -%s needs an argument", s);
		}
		if (optopt && optopt < 256) {
			char s[2] = { (char)optopt, 0 };
			return bad("", "unknown option -%s", s);
		}
		return bad("", "unknown or incomplete option '%s'",
		           argv[optind - 1]);
	}
	for (int i = optind; i < argc; i++) {
		if (!*argv[i])
			return bad("", "empty process selector%s", "");
		if (push(&a->selectors, &a->nselectors, argv[i]))
			return bad("", "out of memory%s", "");
	}
	if (a->once && !a->ngraphite && !a->to_stdout && !a->json_file &&
	    !a->textfile)
		return bad("",
		           "--once needs --graphite, --stdout, --json-file or "
		           "--textfile%s",
		           "");
	if (a->once && a->http)
		return bad("",
		           "--http serves until stopped: it does not go with "
		           "--once%s",
		           "");
	if (!a->ngraphite && !a->to_stdout && !a->json_file && !a->http &&
	    !a->textfile)
		return bad("",
		           "nothing to do: give --graphite, --stdout, "
		           "--json-file, --textfile or --http%s",
		           "");
	/* the buffer holds what --buffer says, never more: the resend window
	 * (the batch being sent and the --resend ones before it) lies inside
	 * it, so a --resend that does not fit is refused, and the default one
	 * shrinks to fit */
	unsigned bufp = export_buffer_periods(a);
	if (a->resend_set && a->resend >= bufp && a->ngraphite) {
		char msg[256];
		snprintf(msg, sizeof(msg),
		         "--resend %u does not fit in --buffer %g (%u period%s "
		         "of %u s): give --buffer %.0f or more, or --resend "
		         "%u or less",
		         a->resend, a->buffer_s, bufp, bufp == 1 ? "" : "s",
		         a->period, ((double)a->resend + 1) * a->period,
		         bufp - 1);
		return bad("", "%s", msg);
	}
	if (!a->resend_set) {
		double d = ceil(300.0 / a->period);
		a->resend = d < 2 ? 2 : (unsigned)d;
		if (a->resend > bufp - 1)
			a->resend = bufp - 1;
	}
	return 0;
}

unsigned export_buffer_periods(const struct export_args *a)
{
	double p = ceil(a->buffer_s / a->period);
	return p < 1 ? 1 : (unsigned)p;
}

static void free_strv(char **v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

void export_args_free(struct export_args *a)
{
	free_strv(a->graphite, a->ngraphite);
	free_strv(a->selectors, a->nselectors);
	free(a->json_file);
	free(a->textfile);
	free(a->http);
	free(a->prefix);
	free(a->dir);
	free(a->config);
	export_rules_free(&a->rules);
	memset(a, 0, sizeof(*a));
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

void export_usage(FILE *f)
{
	fprintf(f,
	        "Usage: scales-export [OPTION]... [SELECTOR]...\n"
	        "Push the metrics of the processes instrumented with libscales "
	        "to Graphite\n"
	        "(plaintext protocol), print them, write them as JSON, or "
	        "serve them over HTTP.\n\n"
	        "A SELECTOR containing '/' is a segment file, one of only "
	        "digits a pid,\n"
	        "anything else an app name. None: every live process.\n\n"
	        "Options:\n");
	for (size_t i = 0; i < NOPTS; i++) {
		const struct opt_row *r = &opt_rows[i];
		if (r->flags & OPTF_HIDDEN)
			continue;
		char head[96];
		if (r->short_name)
			snprintf(head, sizeof(head), "  -%c, --%s%s%s",
			         r->short_name, r->long_name, r->arg ? " " : "",
			         r->arg ? r->arg : "");
		else
			snprintf(head, sizeof(head), "      --%s%s%s",
			         r->long_name, r->arg ? " " : "",
			         r->arg ? r->arg : "");
		fputs(head, f);
		int col = (int)strlen(head);
		if (col >= 30) {
			fputc('\n', f);
			col = 0;
		}
		wrap(f, r->help, 30, col, 79);
	}
	fprintf(f,
	        "\nExit status: 0 success; 1 nothing matched, or (with --once) "
	        "a destination\n"
	        "did not accept every point; 2 bad usage or configuration.\n"
	        "Names and values: docs/graphite.md and scales-export(1).\n");
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

void export_man_options(FILE *f)
{
	fputs(".SH OPTIONS\n", f);
	for (size_t i = 0; i < NOPTS; i++) {
		const struct opt_row *r = &opt_rows[i];
		if (r->flags & OPTF_HIDDEN)
			continue;
		fputs(".TP\n", f);
		if (r->short_name)
			fprintf(f, "\\fB\\-%c\\fR, ", r->short_name);
		fputs("\\fB\\-\\-", f);
		roff(f, r->long_name);
		fputs("\\fR", f);
		if (r->arg) {
			fputs(" \\fI", f);
			roff(f, r->arg);
			fputs("\\fR", f);
		}
		fputc('\n', f);
		roff(f, r->help);
		fputs(".\n", f);
	}
}
