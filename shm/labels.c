/* SPDX-License-Identifier: MIT */
/*
 * labels.c: the label rules (docs/format.md section 5, "Labels", since
 * 1.2). The writer refuses a label name scales_shm_label_name_ok()
 * refuses and writes only label lists scales_shm_labels_ok() accepts;
 * readers ignore the labels of an entry whose list it refuses.
 */
#include <string.h>

#include "scales_shm.h"

/* Names the readers use themselves: a writer's label never shadows them. */
static const char *const taken[] = { "app",      "pid",   "uid",      "le",
	                             "key",      "state", "quantile", "job",
	                             "instance", NULL };

bool scales_shm_label_name_ok(const char *s, size_t n)
{
	if (n == 0 || n > SCALES_SHM_LABEL_MAX ||
	    (s[0] >= '0' && s[0] <= '9') || (n >= 2 && !memcmp(s, "__", 2)))
		return false;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		      (c >= '0' && c <= '9') || c == '_'))
			return false;
	}
	for (const char *const *t = taken; *t; t++)
		if (strlen(*t) == n && !memcmp(*t, s, n))
			return false;
	return true;
}

size_t scales_shm_components(const char *path, size_t n)
{
	size_t k = 0;
	for (size_t i = 0; i < n; i++)
		k += path[i] == '/';
	return k;
}

bool scales_shm_labels_ok(const char *l, size_t n, size_t ncomponents)
{
	size_t i = 0, last = 0, count = 0;
	const char *names[SCALES_SHM_LABELS_MAX];
	size_t lens[SCALES_SHM_LABELS_MAX];
	while (i < n) {
		/* K: decimal, no leading zero, increasing, <= ncomponents */
		size_t k = 0, d = i;
		while (i < n && l[i] >= '0' && l[i] <= '9' && i - d < 4)
			k = 10 * k + (size_t)(l[i++] - '0');
		if (i == d || l[d] == '0' || i >= n || l[i] != '=' ||
		    k <= last || k > ncomponents ||
		    count == SCALES_SHM_LABELS_MAX)
			return false;
		size_t s = ++i;
		while (i < n && l[i] != ',')
			i++;
		if (!scales_shm_label_name_ok(l + s, i - s))
			return false;
		for (size_t j = 0; j < count; j++)
			if (lens[j] == i - s && !memcmp(names[j], l + s, i - s))
				return false; /* a name twice */
		names[count] = l + s;
		lens[count++] = i - s;
		last = k;
		if (i < n && ++i == n)
			return false; /* a trailing "," */
	}
	/* at least one item, and one component left to name the metric */
	return count > 0 && count < ncomponents;
}
