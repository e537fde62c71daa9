/* SPDX-License-Identifier: MIT */
/* path.c: the path rules (docs/api.md, "Paths"), which are the format's
 * (shm/path.c): readers keep exactly what the writer accepts. */
#include <string.h>

#include "internal.h"

SCALES_API int scales_path_check(const char *path)
{
	if (!path)
		return SCALES_E_PATH;
	size_t len = strnlen(path, SCALES_PATH_MAX + 1);
	return scales_shm_path_ok(path, len) ? 0 : SCALES_E_PATH;
}
