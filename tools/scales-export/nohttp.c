/* SPDX-License-Identifier: MIT */
/*
 * nohttp.c: export_http_start() for a build without the HTTP side (no
 * http.c, or no libmicrohttpd): --http and --textfile then fail with a
 * clear message.
 */
#include <errno.h>
#include <stdio.h>

#include "http.h"

int export_http_start(const struct export_http_options *o)
{
	fprintf(stderr,
	        "scales-export: --http %s: this build has no HTTP support "
	        "(libmicrohttpd missing)\n",
	        o && o->listen ? o->listen : "");
	return -ENOTSUP;
}

void export_http_stop(void)
{
}

unsigned export_http_port(void)
{
	return 0;
}

int export_prom_render(struct scales_buf *b, const struct scales_group *g,
                       size_t n, bool per_process, bool all_owners)
{
	return -ENOTSUP;
}

int export_prom_label_rules(char *const *rules, size_t n)
{
	(void)rules;
	return n ? 2 : 0; /* /metrics is not built */
}
