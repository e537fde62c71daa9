/* SPDX-License-Identifier: MIT */
/*
 * tool_select.c: the tools' check of the segment files they are named
 * (tool_select.h).
 */
#include "tool_select.h"

#include <errno.h>
#include <malloc.h>
#include <stdlib.h>

#include <scales/reader.h>

bool tool_all_paths(const char *const *selectors, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (scales_selector_kind(selectors[i], NULL) !=
		    SCALES_SELECTOR_PATH)
			return false;
	return n > 0;
}

int tool_check_named(const char *const *selectors, size_t n,
                     void (*bad)(void *arg, size_t selector, const char *msg),
                     void *arg)
{
	const char **paths = malloc((n ? n : 1) * sizeof(*paths));
	size_t *index = malloc((n ? n : 1) * sizeof(*index));
	size_t np = 0;
	int rc = paths && index ? 0 : -ENOMEM;
	for (size_t i = 0; !rc && i < n; i++)
		if (scales_selector_kind(selectors[i], NULL) ==
		    SCALES_SELECTOR_PATH) {
			index[np] = i;
			paths[np++] = selectors[i];
		}
	if (!rc && np) {
		/* paths alone: scales_select() reads no directory */
		struct scales_selection s = { .selectors = paths,
			                      .nselectors = np };
		char err[512];
		if (scales_select(&s, err, sizeof(err)) == -ENOMEM)
			rc = -ENOMEM;
		for (size_t k = 0; !rc && k < s.nerrors; k++)
			bad(arg, index[s.errors[k].selector], s.errors[k].msg);
		if (!rc)
			rc = (int)s.nerrors;
		scales_selection_free(&s);
	}
	free(paths);
	free(index);
	return rc;
}

void tool_keep_heap(void)
{
#ifdef M_TRIM_THRESHOLD
	mallopt(M_TRIM_THRESHOLD, 1 << 20);
#endif
}
