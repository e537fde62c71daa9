/* SPDX-License-Identifier: MIT */
/*
 * pointbuf.c: the bounded buffer of batches behind at-least-once delivery.
 *
 * Batches live in a ring in sequence order. Destinations keep cursors
 * (batch sequence number and byte offset), so one copy of the lines serves
 * every destination. Two things remove batches: pb_trim() drops what no
 * cursor can need again (not even after a rewind of `resend` batches), and
 * pb_push() drops the oldest batches when the total number of points
 * exceeds max_points, counting the points each lagging destination lost.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "export.h"

void pb_init(struct pointbuf *pb)
{
	memset(pb, 0, sizeof(*pb));
	pb->next_seq = 1;
}

void pb_free(struct pointbuf *pb)
{
	for (size_t i = 0; i < pb->count; i++)
		free(pb->b[(pb->head + i) % pb->cap].data);
	free(pb->b);
	pb_init(pb);
}

uint64_t pb_first_seq(const struct pointbuf *pb)
{
	return pb->count ? pb->b[pb->head].seq : pb->next_seq;
}

const struct pb_batch *pb_get(const struct pointbuf *pb, uint64_t seq)
{
	uint64_t first = pb_first_seq(pb);
	if (seq < first || seq >= pb->next_seq)
		return NULL;
	return &pb->b[(pb->head + (size_t)(seq - first)) % pb->cap];
}

/* Removes the oldest batch, moving the cursors past it. */
static void drop_oldest(struct pointbuf *pb, struct pb_cursor **curs, bool *cut,
                        size_t ncurs, bool count_drops)
{
	struct pb_batch *b = &pb->b[pb->head];
	for (size_t i = 0; i < ncurs; i++) {
		struct pb_cursor *c = curs[i];
		if (c->seq > b->seq)
			continue;
		if (count_drops)
			c->dropped += b->npoints;
		if (c->off && cut)
			cut[i] = true;
		c->seq = b->seq + 1;
		c->off = 0;
	}
	pb->points -= b->npoints;
	free(b->data);
	b->data = NULL;
	pb->head = (pb->head + 1) % pb->cap;
	pb->count--;
}

int pb_push(struct pointbuf *pb, int64_t ts, char *data, size_t len,
            size_t npoints, struct pb_cursor **curs, bool *cut, size_t ncurs)
{
	if (pb->count == pb->cap) {
		size_t cap = pb->cap ? 2 * pb->cap : 16;
		struct pb_batch *v = malloc(cap * sizeof(*v));
		if (!v) {
			free(data);
			return -ENOMEM;
		}
		for (size_t i = 0; i < pb->count; i++)
			v[i] = pb->b[(pb->head + i) % pb->cap];
		free(pb->b);
		pb->b = v;
		pb->cap = cap;
		pb->head = 0;
	}
	pb->b[(pb->head + pb->count) % pb->cap] = (struct pb_batch){
		.seq = pb->next_seq++,
		.ts = ts,
		.data = data,
		.len = len,
		.npoints = npoints,
	};
	pb->count++;
	pb->points += npoints;
	while (pb->count > 1 && pb->points > pb->max_points)
		drop_oldest(pb, curs, cut, ncurs, true);
	return 0;
}

void pb_rewind(const struct pointbuf *pb, struct pb_cursor *cur,
               unsigned resend)
{
	uint64_t first = pb_first_seq(pb);
	uint64_t s = cur->seq > resend ? cur->seq - resend : 0;
	cur->seq = s < first ? first : s;
	cur->off = 0;
}

void pb_trim(struct pointbuf *pb, struct pb_cursor *const *curs, size_t ncurs,
             unsigned resend)
{
	uint64_t need = pb->next_seq;
	for (size_t i = 0; i < ncurs; i++)
		if (curs[i]->seq < need)
			need = curs[i]->seq;
	need = need > resend ? need - resend : 0;
	while (pb->count && pb->b[pb->head].seq < need)
		drop_oldest(pb, NULL, NULL, 0, false);
}
