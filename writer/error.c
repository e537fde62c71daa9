/* SPDX-License-Identifier: MIT */
/* error.c: error codes to messages, the details of the last failure of
 * scales_open(), the library version. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "internal.h"

SCALES_API const char *scales_strerror(int err)
{
	switch (err) {
	case SCALES_OK:
		return "success";
	case SCALES_E_PATH:
		return "invalid stat path (see the path rules in docs/api.md)";
	case SCALES_E_KIND:
		return "the path is already registered with another kind";
	case SCALES_E_FULL:
		return "the segment is full";
	case SCALES_E_LIVE:
		return "a live writer already owns this segment";
	case SCALES_E_CONFIG:
		return "invalid option or histogram range";
	case SCALES_E_CLOSED:
		return "no registry (closed, NULL or a sink)";
	case SCALES_E_UNSAFE:
		return "the segment directory or file fails the safety checks";
	case SCALES_E_FOREIGN:
		return "called from a task unknown to the library (a vfork "
		       "child, clone(CLONE_VM) or a raw fork system call)";
	case SCALES_E_KEY_UTF8:
		return "the dict key is not valid UTF-8";
	case SCALES_E_KEY_LONG:
		return "the dict key is too long: escaped, it must fit in the "
		       "255-byte path (see scales_dict_key() in docs/api.md)";
	case SCALES_E_LABEL:
		return "invalid or repeated label name (see the label rules in "
		       "docs/api.md)";
	case SCALES_E_STATES:
		return "the timed state's table of values is full: the value "
		       "is set, its time counts as \"other\"";
	default:
		break;
	}
	if (err < 0 && err > -4096)
		return strerrordesc_np(-err) ? strerrordesc_np(-err) :
		                               "unknown system error";
	return "unknown error";
}

/* The calling thread's last scales_open() failure, in words. Per thread, so
 * that concurrent opens never mix their stories; no allocation. */
static __thread char detail[1024];

void error_detail_clear(void)
{
	detail[0] = '\0';
}

void error_detail_add(const char *fmt, ...)
{
	size_t used = strlen(detail);
	if (used && used + 2 < sizeof detail) {
		memcpy(detail + used, "; ", 3);
		used += 2;
	}
	va_list ap;
	va_start(ap, fmt);
	/* Truncated when long: still NUL-terminated. */
	vsnprintf(detail + used, sizeof detail - used, fmt, ap);
	va_end(ap);
}

SCALES_API const char *scales_error_detail(void)
{
	return detail;
}

SCALES_API const char *scales_version(void)
{
	return SCALES_VERSION_STRING;
}
