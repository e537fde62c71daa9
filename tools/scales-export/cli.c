/* SPDX-License-Identifier: MIT */
/*
 * cli.c: command line, config file, --help and the man page's OPTIONS
 * section, all from the table in options.h, through the option module
 * both tools share (tools/common/tool_opts.c).
 */
#include "cli.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "options.h"
#include "tool_opts.h"

static int action(void *args, const struct tool_opt *o, const char *val,
                  const char *where);

static const struct tool_opt opt_rows[] = {
#define X(id, s, l, a, f, type, lo, hi, t1, t2, bad, help)                     \
	{ EXPORT_OPT_##id, s, l, a, f, type, lo, hi, t1, t2, bad, help },
	EXPORT_OPTIONS(X)
#undef X
};

#define NOPTS (sizeof(opt_rows) / sizeof(opt_rows[0]))

static const struct tool_opts opts = {
	.prog = "scales-export",
	.rows = opt_rows,
	.n = NOPTS,
	.action = action,
};

static int bad(const char *where, const char *fmt, const char *what)
{
	return tool_opt_bad(&opts, where, fmt, what);
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

/* The options the table's types do not cover: --allow/--forbid (the
 * rules keep their order) and the modes. */
static int action(void *args, const struct tool_opt *o, const char *val,
                  const char *where)
{
	struct export_args *a = args;
	switch (o->id) {
	case EXPORT_OPT_ALLOW:
	case EXPORT_OPT_FORBID:
		if (export_rules_add(&a->rules, o->id == EXPORT_OPT_ALLOW, val))
			return bad(where, "out of memory%s", "");
		return 0;
	case EXPORT_OPT_HELP:
		a->mode = EXPORT_MODE_HELP;
		return TOOL_OPT_STOP;
	case EXPORT_OPT_VERSION:
		a->mode = EXPORT_MODE_VERSION;
		return TOOL_OPT_STOP;
	case EXPORT_OPT_HELP_MAN:
		a->mode = EXPORT_MODE_HELP_MAN;
		return TOOL_OPT_STOP;
	default:
		return bad(where, "internal: unknown option%s", "");
	}
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
		const struct tool_opt *o = tool_opt_by_name(&opts, key);
		if (!o) {
			rc = bad(where, "unknown key '%s'", key);
			break;
		}
		if (o->flags & TOPT_NOCONF) {
			rc = bad(where, "'%s' is not allowed in a config file",
			         key);
			break;
		}
		rc = tool_opt_apply(&opts, a, o, val, where);
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

	/* pass 1: only --config, so that the file comes first */
	const char *config =
	    tool_opts_peek(&opts, argc, argv, EXPORT_OPT_CONFIG);
	if (config) {
		int rc = export_args_config(a, config);
		if (rc)
			return rc;
		if (set_str(&a->config, config))
			return bad("", "out of memory%s", "");
	}

	/* pass 2: everything else */
	int first;
	int rc =
	    tool_opts_parse(&opts, argc, argv, a, EXPORT_OPT_CONFIG, &first);
	if (rc == TOOL_OPT_STOP)
		return 0;
	if (rc)
		return rc;
	rc = tool_opts_positional(&opts, argc, argv, first, &a->selectors,
	                          &a->nselectors);
	if (rc)
		return rc;
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

void export_args_free(struct export_args *a)
{
	tool_opts_free_list(a->graphite, a->ngraphite);
	tool_opts_free_list(a->label_rules, a->nlabel_rules);
	tool_opts_free_list(a->selectors, a->nselectors);
	free(a->json_file);
	free(a->textfile);
	free(a->http);
	free(a->prefix);
	free(a->dir);
	free(a->config);
	export_rules_free(&a->rules);
	memset(a, 0, sizeof(*a));
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
	tool_opts_usage(&opts, f, 30, 79);
	fprintf(f,
	        "\nExit status: 0 success; 1 nothing matched, or (with --once) "
	        "a destination\n"
	        "did not accept every point; 2 bad usage or configuration.\n"
	        "Names and values: docs/graphite.md and scales-export(1).\n");
}

void export_man_options(FILE *f)
{
	tool_opts_man(&opts, f);
}
