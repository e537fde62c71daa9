/* SPDX-License-Identifier: MIT */
/* error.c: error codes to messages, the library version. */
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
	default:
		break;
	}
	if (err < 0 && err > -4096)
		return strerrordesc_np(-err) ? strerrordesc_np(-err) :
		                               "unknown system error";
	return "unknown error";
}

SCALES_API const char *scales_version(void)
{
	return SCALES_VERSION_STRING;
}
