/* SPDX-License-Identifier: MIT */
/*
 * escape.h: making untrusted text printable. File names in the segment
 * directory, app names, paths, help texts and state values come from other
 * processes (possibly other users): before they reach a terminal, control
 * bytes, DEL, C1 controls and invalid UTF-8 become \xHH, and a backslash
 * becomes \\, so every message stays one line and no escape sequence gets
 * through.
 */
#ifndef SCALES_TOP_ESCAPE_H
#define SCALES_TOP_ESCAPE_H

#include <stddef.h>

/*
 * Writes the escaped form of s into dst (at most n - 1 bytes plus a NUL;
 * an escape is never cut in half). Returns dst.
 */
char *top_escape_to(char *dst, size_t n, const char *s);

/*
 * The escaped form of s in one of 8 rotating buffers (so up to 8 may be
 * used in one printf()); valid until 8 more calls. Never NULL: "(null)"
 * for NULL, "?" if out of memory. Not thread-safe (scales-top has one
 * thread).
 */
const char *top_esc(const char *s);

#endif /* SCALES_TOP_ESCAPE_H */
