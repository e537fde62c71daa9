/* SPDX-License-Identifier: MIT */
/*
 * unload_plugin.c: a plugin, a shared module that writer-unload dlopen()s.
 * It registers a counter and a histogram in the host's registry and updates
 * them from the calling thread, so the inlined rseq sequences (and their
 * descriptors) live in this module, which the host then dlclose()s.
 */
#include <scales/scales.h>

/* Adds n to /plugin/hits and records n values into /plugin/values. */
__attribute__((visibility("default"))) int
unload_plugin_work(scales_registry *reg, uint64_t n);

int unload_plugin_work(scales_registry *reg, uint64_t n)
{
	scales_counter c;
	scales_histogram h;
	int rc = scales_counter_get(reg, "/plugin/hits", NULL, &c);
	if (rc == 0)
		rc =
		    scales_histogram_get(reg, "/plugin/values", NULL, NULL, &h);
	if (rc != 0)
		return rc;
	for (uint64_t i = 0; i < n; i++) {
		scales_counter_inc(&c);
		scales_histogram_record(&h, i);
	}
	return 0;
}
