/* SPDX-License-Identifier: MIT */
/*
 * name.c: the app name and the segment file name "<app>.<pid>.<start>.seg"
 * (docs/format.md section 2, "Names"): how the writer makes them and how
 * readers parse them.
 */
#include <stdio.h>
#include <string.h>

#include "scales_shm.h"

bool scales_shm_app_byte_ok(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c >= '0' && c <= '9') || c == '_' || c == '-';
}

void scales_shm_app_name(const char *in, char out[SCALES_SHM_APP_MAX])
{
	size_t i = 0;
	for (; in && in[i] && i < SCALES_SHM_APP_MAX - 1; i++)
		out[i] =
		    scales_shm_app_byte_ok((unsigned char)in[i]) ? in[i] : '_';
	if (i == 0)
		out[i++] = '_';
	out[i] = '\0';
}

int scales_shm_seg_name(char *out, size_t n, const char *app, int32_t pid,
                        uint64_t start)
{
	return snprintf(out, n, "%s.%d.%llu" SCALES_SHM_SUFFIX, app, (int)pid,
	                (unsigned long long)start);
}

/* Parses decimal digits in [s, e): no sign, no empty, no overflow. */
static bool parse_dec(const char *s, const char *e, uint64_t max, uint64_t *out)
{
	if (s == e)
		return false;
	uint64_t v = 0;
	for (; s < e; s++) {
		if (*s < '0' || *s > '9')
			return false;
		unsigned d = (unsigned)(*s - '0');
		if (v > (max - d) / 10)
			return false;
		v = v * 10 + d;
	}
	*out = v;
	return true;
}

bool scales_shm_parse_seg_name(const char *name, size_t n, char *app,
                               size_t appsz, int32_t *pid, uint64_t *start)
{
	size_t sl = sizeof(SCALES_SHM_SUFFIX) - 1;
	if (n <= sl || memcmp(name + n - sl, SCALES_SHM_SUFFIX, sl) != 0)
		return false;
	const char *end = name + n - sl;
	const char *dot2 = NULL, *dot1 = NULL;
	for (const char *p = end - 1; p >= name; p--) {
		if (*p == '.') {
			if (!dot2)
				dot2 = p;
			else {
				dot1 = p;
				break;
			}
		}
	}
	if (!dot1 || dot1 == name)
		return false;
	uint64_t p64, st;
	if (!parse_dec(dot1 + 1, dot2, INT32_MAX, &p64) || p64 == 0 ||
	    !parse_dec(dot2 + 1, end, UINT64_MAX, &st))
		return false;
	size_t alen = (size_t)(dot1 - name);
	if (alen >= SCALES_SHM_APP_MAX)
		return false;
	for (size_t i = 0; i < alen; i++)
		if (!scales_shm_app_byte_ok((unsigned char)name[i]))
			return false;
	if (app) {
		if (alen >= appsz)
			return false;
		memcpy(app, name, alen);
		app[alen] = 0;
	}
	if (pid)
		*pid = (int32_t)p64;
	if (start)
		*start = st;
	return true;
}
