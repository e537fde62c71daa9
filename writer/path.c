/* SPDX-License-Identifier: MIT */
/* path.c: the path rules (docs/api.md, "Paths"). */
#include <string.h>

#include "internal.h"

static bool path_byte_ok(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c >= '0' && c <= '9') || c == '_' || c == '-' || c == '.' ||
	       c == ':' || c == '@' || c == '+' || c == '%';
}

SCALES_API int scales_path_check(const char *path)
{
	if (!path || path[0] != '/')
		return SCALES_E_PATH;
	size_t len = strnlen(path, SCALES_PATH_MAX + 1);
	if (len > SCALES_PATH_MAX || len < 2)
		return SCALES_E_PATH;
	const char *comp = path + 1;
	for (const char *p = path + 1;; p++) {
		if (*p == '/' || *p == '\0') {
			size_t clen = (size_t)(p - comp);
			if (clen == 0)
				return SCALES_E_PATH; /* empty or trailing */
			if ((clen == 1 && comp[0] == '.') ||
			    (clen == 2 && comp[0] == '.' && comp[1] == '.'))
				return SCALES_E_PATH;
			if (*p == '\0')
				return 0;
			comp = p + 1;
		} else if (!path_byte_ok((unsigned char)*p)) {
			return SCALES_E_PATH;
		}
	}
}
