/* SPDX-License-Identifier: MIT */
/*
 * filter.c: glob filtering of metric paths.
 */
#include <fnmatch.h>

#include "internal.h"

bool scales_path_match(const char *const *globs, size_t n, const char *path)
{
	/* varnishstat's -f and -X in one list: "^" marks an exclusion. A
	 * path never starts with "^", so such a glob used to match nothing:
	 * no list that worked before means something else now. */
	bool include = false, any_include = false;
	for (size_t i = 0; i < n; i++) {
		const char *g = globs[i];
		if (!g)
			continue;
		if (g[0] == '^') {
			if (fnmatch(g + 1, path, 0) == 0)
				return false;
		} else {
			any_include = true;
			include = include || fnmatch(g, path, 0) == 0;
		}
	}
	return include || !any_include;
}

void scales_snapshot_filter(struct scales_snapshot *snap,
                            const char *const *globs, size_t n)
{
	if (n == 0)
		return;
	size_t w = 0;
	for (size_t i = 0; i < snap->n; i++)
		if (scales_path_match(globs, n, snap->metrics[i].path))
			snap->metrics[w++] = snap->metrics[i];
	snap->n = w;
}
