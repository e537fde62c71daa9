/* SPDX-License-Identifier: MIT */
/*
 * dir.c: where segments live (docs/format.md section 2, "The directory"):
 * the order in which the writer tries directories, which readers follow.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>

#include "scales_shm.h"

const char *scales_shm_dir_given(const char *dir)
{
	if (dir && *dir)
		return dir;
	const char *env = getenv("SCALES_DIR");
	return env && *env ? env : NULL;
}

int scales_shm_dir_default(unsigned i, unsigned uid, char *out, size_t n)
{
	int len;
	switch (i) {
	case SCALES_SHM_DIR_SHM: {
		struct stat st;
		if (stat(SCALES_SHM_DIR_ROOT, &st) != 0 || !S_ISDIR(st.st_mode))
			return 0;
		len =
		    snprintf(out, n,
		             SCALES_SHM_DIR_ROOT "/" SCALES_SHM_DIR_PREFIX "%u",
		             uid);
		break;
	}
	case SCALES_SHM_DIR_XDG: {
		const char *xdg = getenv("XDG_RUNTIME_DIR");
		if (!xdg || !*xdg)
			return 0;
		len = snprintf(out, n, "%s/scales", xdg);
		break;
	}
	case SCALES_SHM_DIR_TMP:
		len = snprintf(out, n, "/tmp/" SCALES_SHM_DIR_PREFIX "%u", uid);
		break;
	default:
		return -EINVAL;
	}
	return len < 0 || (size_t)len >= n ? -ENAMETOOLONG : 1;
}
