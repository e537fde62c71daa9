/* SPDX-License-Identifier: MIT */
/*
 * self.c: scales-export's own metrics, published through libscales under
 * the app name scales-export: periods, points, push duration, and per
 * Graphite destination the points sent and dropped, reconnects, failures
 * and whether it is up.
 */
#include <stdlib.h>
#include <string.h>

#include "main.h"

void self_open(struct self *s, const struct export_args *a, struct gdest *dests,
               size_t nd)
{
	memset(s, 0, sizeof(*s));
	s->d = calloc(nd ? nd : 1, sizeof(*s->d));
	if (!a->no_self_metrics) {
		struct scales_options o;
		scales_options_init(&o);
		o.app = "scales-export";
		o.max_entries = 1024;
		o.stripe_bytes = 64 * 1024;
		o.data_bytes = 64 * 1024;
		o.string_bytes = 64 * 1024;
		int rc = scales_open(&o, &s->reg);
		if (rc) {
			logmsg(false,
			       "own metrics not published (cannot open a "
			       "segment: %s)",
			       scales_strerror(rc));
			s->reg = NULL;
		}
	}
	/* a NULL registry hands out sinks */
	scales_registry *r = s->reg;
	scales_counter_get(r, "/export/periods",
	                   &(struct scales_info){ "periods pushed", 0 },
	                   &s->periods);
	scales_counter_get(r, "/export/points",
	                   &(struct scales_info){ "points rendered", 0 },
	                   &s->points);
	scales_counter_get(r, "/export/json_file_errors",
	                   &(struct scales_info){ "failed --json-file writes",
	                                          0 },
	                   &s->json_errors);
	scales_counter_get(r, "/export/textfile_errors",
	                   &(struct scales_info){ "failed --textfile writes",
	                                          0 },
	                   &s->textfile_errors);
	scales_histogram_get(r, "/export/push_duration",
	                     &(struct scales_info){
	                         "from the period's start until every "
	                         "connected destination has its points",
	                         SCALES_UNIT_SECONDS },
	                     NULL, &s->push_duration);
	scales_gauge_get(r, "/export/buffered_points",
	                 &(struct scales_info){ "points held for resending",
	                                        0 },
	                 &s->buffered);
	scales_gauge_get(r, "/export/metrics",
	                 &(struct scales_info){ "metrics in the last push", 0 },
	                 &s->metrics);
	scales_gauge_get(r, "/export/processes",
	                 &(struct scales_info){ "processes in the last push",
	                                        0 },
	                 &s->processes);
	if (!s->d)
		return;
	scales_scope *root = NULL;
	if (r && scales_scope_root(r, &root, "/export/graphite") == 0) {
		s->root = root;
		scales_scope_sum(root, "points_sent",
		                 &(struct scales_info){ "points sent", 0 });
		scales_scope_sum(root, "points_dropped",
		                 &(struct scales_info){ "points dropped", 0 });
		scales_scope_sum(root, "reconnects",
		                 &(struct scales_info){ "reconnects", 0 });
	}
	for (size_t i = 0; i < nd; i++) {
		struct self_dest *sd = &s->d[i];
		char comp[256];
		size_t w = 0;
		for (const char *p = dests[i].spec; *p && w < 200; p++) {
			char c = *p;
			bool ok = (c >= 'a' && c <= 'z') ||
			          (c >= 'A' && c <= 'Z') ||
			          (c >= '0' && c <= '9') || strchr("_-.:", c);
			comp[w++] = ok ? c : '_';
		}
		comp[w] = 0;
		if (!strcmp(comp, ".") || !strcmp(comp, ".."))
			comp[0] = '_';
		scales_scope *ds = NULL;
		if (root && scales_scope_child(root, &ds, "%s", comp) == 0) {
			scales_scope_counter(ds, "points_sent", NULL,
			                     &sd->sent);
			scales_scope_counter(ds, "points_dropped", NULL,
			                     &sd->dropped);
			scales_scope_counter(ds, "reconnects", NULL,
			                     &sd->reconnects);
			scales_scope_counter(ds, "failures", NULL,
			                     &sd->failures);
			scales_scope_gauge(ds, "up", NULL, &sd->up);
		} else {
			scales_counter_get(NULL, "/x", NULL, &sd->sent);
			scales_counter_get(NULL, "/x", NULL, &sd->dropped);
			scales_counter_get(NULL, "/x", NULL, &sd->reconnects);
			scales_counter_get(NULL, "/x", NULL, &sd->failures);
			scales_gauge_get(NULL, "/x", NULL, &sd->up);
		}
	}
}

static void add_delta(const scales_counter *c, uint64_t now, uint64_t *last)
{
	if (now > *last)
		scales_counter_add(c, now - *last);
	*last = now;
}

void self_update(struct self *s, struct gdest *dests, size_t nd,
                 const struct pointbuf *pb, const struct json_out *j,
                 const struct json_out *t)
{
	if (!s->d)
		return;
	for (size_t i = 0; i < nd; i++) {
		struct self_dest *sd = &s->d[i];
		add_delta(&sd->sent, dests[i].points_sent, &sd->l_sent);
		add_delta(&sd->dropped, dests[i].cur.dropped, &sd->l_dropped);
		add_delta(&sd->reconnects, dests[i].reconnects,
		          &sd->l_reconnects);
		add_delta(&sd->failures, dests[i].failures, &sd->l_failures);
		scales_gauge_set(&sd->up, dests[i].state == GD_UP);
	}
	scales_gauge_set(&s->buffered, (int64_t)pb->points);
	add_delta(&s->json_errors, j->errors, &s->l_json_errors);
	add_delta(&s->textfile_errors, t->errors, &s->l_textfile_errors);
}

void self_close(struct self *s)
{
	if (s->root)
		scales_scope_release(&s->root);
	if (s->reg)
		scales_close(&s->reg);
	free(s->d);
	s->d = NULL;
}
