/* SPDX-License-Identifier: MIT */
/*
 * rules.c: --allow and --forbid, newest matching rule wins.
 */
#include <errno.h>
#include <fnmatch.h>
#include <stdlib.h>
#include <string.h>

#include "export.h"

int export_rules_add(struct export_rules *r, bool allow, const char *glob)
{
	if (r->n == r->cap) {
		size_t cap = r->cap ? 2 * r->cap : 8;
		struct export_rule *v = realloc(r->v, cap * sizeof(*v));
		if (!v)
			return -ENOMEM;
		r->v = v;
		r->cap = cap;
	}
	char *g = strdup(glob);
	if (!g)
		return -ENOMEM;
	r->v[r->n++] = (struct export_rule){ allow, g };
	return 0;
}

bool export_rules_allowed(const struct export_rules *r, const char *path)
{
	if (!r)
		return true;
	for (size_t i = r->n; i-- > 0;) {
		const char *g = r->v[i].glob;
		const char *p = path;
		if (g[0] != '/' && p[0] == '/')
			p++;
		if (fnmatch(g, p, 0) == 0)
			return r->v[i].allow;
	}
	return true;
}

void export_rules_free(struct export_rules *r)
{
	for (size_t i = 0; i < r->n; i++)
		free(r->v[i].glob);
	free(r->v);
	memset(r, 0, sizeof(*r));
}
