/* SPDX-License-Identifier: MIT */
/*
 * make-golden.c: writes the golden segment of the current format version,
 * test/data/golden-v<major>.<minor>.seg, which every later reader must keep
 * parsing (test/writer/test_golden.c checks its values). Run it only when a
 * new format version is released; never regenerate an existing one.
 *
 *   cc -I writer/include test/data/make-golden.c -L build/writer -lscales \
 *      -o /tmp/make-golden && SCALES_DIR=$(mktemp -d) /tmp/make-golden OUT
 */
#include <stdio.h>
#include <stdlib.h>

#include <scales/scales.h>

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: make-golden OUTPUT\n");
		return 2;
	}
	struct scales_options o;
	scales_options_init(&o);
	o.app = "golden";
	o.flags = SCALES_KEEP_SEGMENT | SCALES_NO_SAMPLER;
	o.max_entries = 32;
	o.stripe_bytes = 16384;
	o.data_bytes = 4096;
	o.string_bytes = 4096;
	scales_registry *reg;
	if (scales_open(&o, &reg))
		return 1;
	scales_counter c;
	scales_gauge g;
	scales_gauge_f64 f;
	scales_state s;
	scales_histogram h;
	struct scales_info help = { "a counter", SCALES_UNIT_NONE };
	struct scales_info lat = { "latency", SCALES_UNIT_SECONDS };
	struct scales_histogram_config cfg = { .highest = 1u << 30 };
	int rc = scales_counter_get(reg, "/golden/counter", &help, &c);
	rc |= scales_gauge_get(reg, "/golden/gauge", NULL, &g);
	rc |= scales_gauge_f64_get(reg, "/golden/ratio", NULL, &f);
	rc |= scales_state_get(reg, "/golden/state", NULL, &s);
	rc |= scales_histogram_get(reg, "/golden/latency", &lat, &cfg, &h);
	scales_counter_add(&c, 42);
	scales_gauge_set(&g, -7);
	scales_gauge_f64_set(&f, 2.5);
	rc |= scales_state_set_str(&s, "ready");
	for (uint64_t us = 1; us <= 1000; us++)
		scales_histogram_record(&h, us * 1000);
	scales_dict d;
	rc |= scales_dict_get(reg, "/golden/codes", NULL, &d);
	rc |= scales_dict_add(&d, "200", 5);
	rc |= scales_dict_add(&d, "404", 1);
	scales_scope *root, *w0, *w1;
	rc |= scales_scope_root(reg, &root, "/golden/workers");
	rc |= scales_scope_sum(root, "done", NULL);
	rc |= scales_scope_states(root, "state", NULL);
	rc |= scales_scope_child(root, &w0, "w0");
	rc |= scales_scope_child(root, &w1, "w1");
	scales_counter d0, d1;
	scales_state s0, s1;
	rc |= scales_scope_counter(w0, "done", NULL, &d0);
	rc |= scales_scope_counter(w1, "done", NULL, &d1);
	rc |= scales_scope_state(w0, "state", NULL, &s0);
	rc |= scales_scope_state(w1, "state", NULL, &s1);
	scales_counter_add(&d0, 1);
	scales_counter_add(&d1, 2);
	rc |= scales_state_set_str(&s0, "idle");
	rc |= scales_state_set_str(&s1, "idle");
	scales_counter gone;
	rc |= scales_counter_get(reg, "/golden/retired", NULL, &gone);
	rc |= scales_retire(reg, "/golden/retired");
	if (rc)
		return 1;
	char cmd[4096];
	snprintf(cmd, sizeof cmd, "cp --sparse=always '%s' '%s'",
	         scales_registry_path(reg), argv[1]);
	scales_close(&reg);
	return system(cmd) == 0 ? 0 : 1;
}
