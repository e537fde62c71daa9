/* SPDX-License-Identifier: MIT */
/*
 * path.c: the path rules (docs/format.md section 5, "Paths") and the
 * escaping of a value into one derived path component (section 6,
 * "Derived paths"). The writer refuses what scales_shm_path_ok() refuses;
 * readers drop entries it refuses.
 */
#include "scales_shm.h"

bool scales_shm_path_byte_ok(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c >= '0' && c <= '9') || c == '_' || c == '-' || c == '.' ||
	       c == ':' || c == '@' || c == '+' || c == '%';
}

bool scales_shm_path_ok(const char *p, size_t n)
{
	if (n < 2 || n > SCALES_SHM_PATH_MAX - 1 || p[0] != '/')
		return false;
	size_t comp = 0, dots = 0; /* bytes, and dots, of the component */
	for (size_t i = 1; i <= n; i++) {
		unsigned char c = i < n ? (unsigned char)p[i] : '/';
		if (c == '/') {
			/* empty (also "//" and a trailing "/"), "." or ".." */
			if (comp == 0 || (comp == dots && comp <= 2))
				return false;
			comp = dots = 0;
			continue;
		}
		if (!scales_shm_path_byte_ok(c))
			return false;
		comp++;
		dots += c == '.';
	}
	return true;
}

static const char hex[] = "0123456789ABCDEF";

size_t scales_shm_escape_component(const char *in, size_t n, char *out)
{
	size_t o = 0;
	if (n == 0) {
		out[o++] = '%'; /* no other value encodes to a lone '%' */
		out[o] = 0;
		return o;
	}
	/* "." and ".." are no component: their dots are encoded */
	bool dots = n <= 2 && in[0] == '.' && in[n - 1] == '.';
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)in[i];
		if (scales_shm_path_byte_ok(c) && c != '%' && !dots) {
			out[o++] = (char)c;
		} else {
			out[o++] = '%';
			out[o++] = hex[c >> 4];
			out[o++] = hex[c & 15];
		}
	}
	out[o] = 0;
	return o;
}
