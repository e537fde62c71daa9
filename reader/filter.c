/* SPDX-License-Identifier: MIT */
/*
 * filter.c: glob filtering of metric paths.
 */
#include <fnmatch.h>

#include "internal.h"

bool scales_path_match(const char *const *globs, size_t n, const char *path)
{
	if (n == 0)
		return true;
	for (size_t i = 0; i < n; i++)
		if (globs[i] && fnmatch(globs[i], path, 0) == 0)
			return true;
	return false;
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
