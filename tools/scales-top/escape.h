/* SPDX-License-Identifier: MIT */
/*
 * escape.h: making untrusted text printable (the reader library's
 * scales_printable() does the escaping). File names in the segment
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
 * The escaped form of s in one of 8 rotating buffers (so up to 8 may be
 * used in one printf()); valid until 8 more calls. Never NULL: "(null)"
 * for NULL, "?" if out of memory. Not thread-safe (scales-top has one
 * thread).
 */
const char *top_esc(const char *s);

struct scales_metric;

/*
 * The n bytes at s (m's path, or its last component) as top_esc() gives
 * them, except that a dict key (m flagged SCALES_MF_KEY) is shown as
 * written: its escaped last component decoded (scales_derived_value()).
 * m may be NULL.
 */
const char *top_name(const struct scales_metric *m, const char *s, size_t n);

#endif /* SCALES_TOP_ESCAPE_H */
