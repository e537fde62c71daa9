/* SPDX-License-Identifier: MIT */
/*
 * test_cache.c: what snapshots of one open segment remember from one to
 * the next (validated paths, their order) must never change what they
 * show. An entry rewritten under a reader, with or without a new
 * generation, is validated again; a long random history of registrations,
 * retirements, hostile rewrites and duplicates gives, at every step, the
 * same snapshot as a reader opening the segment afresh; snapshots outlive
 * their segment and the path blocks they share with it.
 */
#include <fcntl.h>
#include <pthread.h>
#include <sys/mman.h>
#include <unistd.h>

#include "common.h"
#include "internal.h"

TestSuite(cache, .timeout = 120);

/* A segment file mapped writable: the test plays a (hostile) writer. */
struct live {
	char *dir;
	char path[4096];
	int fd;
	unsigned char *map;
	size_t size;
	struct scales_shm_header *h;
	scales_segment *seg; /* the warm reader */
};

static void live_open(struct live *lv, struct segbuild *b)
{
	lv->dir = sb_tmpdir();
	cr_assert_eq(sb_write(b, lv->dir, lv->path, sizeof(lv->path)), 0);
	lv->fd = open(lv->path, O_RDWR);
	cr_assert_geq(lv->fd, 0);
	lv->size = b->size;
	lv->map =
	    mmap(NULL, lv->size, PROT_READ | PROT_WRITE, MAP_SHARED, lv->fd, 0);
	cr_assert_neq(lv->map, MAP_FAILED);
	lv->h = (struct scales_shm_header *)(void *)lv->map;
	lv->seg = must_open(lv->path);
}

static void live_close(struct live *lv)
{
	scales_segment_close(&lv->seg);
	munmap(lv->map, lv->size);
	close(lv->fd);
	sb_rmdir(lv->dir);
	free(lv->dir);
}

static struct scales_shm_entry *ent(struct live *lv, uint32_t i)
{
	return (struct scales_shm_entry *)(void *)(lv->map + lv->h->dir_offset +
	                                           (uint64_t)i *
	                                               lv->h->entry_size);
}

static uint64_t *counter_word(struct live *lv, uint32_t i, uint32_t stripe)
{
	return (uint64_t *)(void *)(lv->map + lv->h->stripe_offset +
	                            (uint64_t)stripe * lv->h->stripe_size +
	                            ent(lv, i)->stripe_offset);
}

/* Writes path p into entry i (path_len too), leaving the generation. */
static void set_path(struct live *lv, uint32_t i, const char *p)
{
	struct scales_shm_entry *e = ent(lv, i);
	size_t n = strlen(p);
	cr_assert_lt(n, SCALES_SHM_PATH_MAX);
	memmove(e->path, p, n + 1);
	e->path_len = (uint32_t)n;
}

/* The same segment, opened afresh: nothing remembered. */
static struct scales_snapshot *cold_snap(struct live *lv, unsigned flags)
{
	scales_segment *seg = must_open(lv->path);
	struct scales_snapshot *s = must_snap(seg, flags);
	scales_segment_close(&seg);
	return s;
}

static void same_snapshot(const struct scales_snapshot *w,
                          const struct scales_snapshot *c, int round)
{
	cr_assert_eq(w->n, c->n, "round %d: %zu metrics, fresh reader %zu",
	             round, w->n, c->n);
	cr_assert_eq(w->skipped, c->skipped, "round %d: skipped %u vs %u",
	             round, w->skipped, c->skipped);
	cr_assert_eq(w->invalid, c->invalid, "round %d: invalid %u vs %u",
	             round, w->invalid, c->invalid);
	for (size_t k = 0; k < w->n; k++) {
		const struct scales_metric *x = &w->metrics[k],
		                           *y = &c->metrics[k];
		cr_assert_str_eq(x->path, y->path, "round %d: metric %zu",
		                 round, k);
		cr_assert_eq(x->entry, y->entry, "round %d: %s", round,
		             x->path);
		cr_assert_eq(x->generation, y->generation);
		cr_assert_eq(x->kind, y->kind);
		cr_assert_eq(x->agg, y->agg);
		cr_assert_eq(x->v.u64, y->v.u64, "round %d: %s", round,
		             x->path);
		if (k)
			cr_assert_lt(strcmp(w->metrics[k - 1].path, x->path), 0,
			             "round %d: not sorted and unique", round);
	}
}

/* Takes a snapshot through the warm reader, checks it against a fresh
 * reader's, and returns it. */
static struct scales_snapshot *check(struct live *lv, int round)
{
	struct scales_snapshot *w = must_snap(lv->seg, 0);
	struct scales_snapshot *c = cold_snap(lv, 0);
	same_snapshot(w, c, round);
	scales_snapshot_free(&c);
	return w;
}

static void expect(struct live *lv, size_t n, uint32_t invalid,
                   const char *shown, const char *hidden)
{
	struct scales_snapshot *s = check(lv, -1);
	cr_assert_eq(s->n, n, "%zu metrics, want %zu", s->n, n);
	cr_assert_eq(s->invalid, invalid, "invalid %u, want %u", s->invalid,
	             invalid);
	if (shown)
		must_find(s, shown);
	if (hidden)
		cr_assert_null(scales_snapshot_find(s, hidden), "%s shown",
		               hidden);
	scales_snapshot_free(&s);
}

/* ------------------------------------------------- entries rewritten */

/* Counters /web/a to /web/d (10 to 13) in entries 0 to 3, opened in lv;
 * the builder, for sb_free(). */
static struct segbuild *four_counters(struct live *lv)
{
	struct segbuild *b = sb_new("web", 5, 5, NULL);
	const char *paths[] = { "/web/a", "/web/b", "/web/c", "/web/d" };
	for (uint32_t i = 0; i < 4; i++)
		sb_counter_add(b, sb_counter(b, paths[i], NULL), 0, 10 + i);
	live_open(lv, b);
	return b;
}

Test(cache, rewritten_entries_are_validated_again)
{
	struct live lv;
	struct segbuild *b = four_counters(&lv);
	struct scales_shm_entry *e = ent(&lv, 1);
	uint32_t gen = e->generation;

	/* twice: the second one is served from the cache */
	expect(&lv, 4, 0, "/web/b", NULL);
	expect(&lv, 4, 0, "/web/b", NULL);

	/* a hostile writer rewrites a cached path in place, same generation
	 * and length: a control byte, then an empty component, then ".." */
	set_path(&lv, 1, "/web/\x01");
	cr_assert_eq(e->generation, gen);
	expect(&lv, 3, 1, NULL, "/web/b");
	expect(&lv, 3, 1, NULL, "/web/b");
	set_path(&lv, 1, "/web//");
	expect(&lv, 3, 1, NULL, NULL);
	set_path(&lv, 1, "/web/.");
	expect(&lv, 3, 1, NULL, NULL);

	/* same generation, a valid new path: shown under it, in order */
	set_path(&lv, 1, "/web/z");
	expect(&lv, 4, 0, "/web/z", "/web/b");
	struct scales_snapshot *s = check(&lv, -1);
	cr_assert_str_eq(s->metrics[3].path, "/web/z");
	cr_assert_eq(s->metrics[3].v.u64, 11);
	scales_snapshot_free(&s);

	/* the cached bytes, but path_len shorter: no NUL at path_len */
	e->path_len = 5;
	expect(&lv, 3, 1, NULL, "/web/z");
	e->path_len = 6;
	expect(&lv, 4, 0, "/web/z", NULL);

	/* a new generation over the same, valid bytes: shown again; over
	 * invalid bytes of the cached length: refused */
	e->generation += 2;
	expect(&lv, 4, 0, "/web/z", NULL);
	memcpy(e->path, "/web/\x7f", 7);
	e->generation += 2;
	expect(&lv, 3, 1, NULL, "/web/z");

	/* bytes after the NUL are compared too (and do not matter) */
	set_path(&lv, 1, "/web/b");
	expect(&lv, 4, 0, "/web/b", NULL);
	e->path[7] = 'x';
	expect(&lv, 4, 0, "/web/b", NULL);

	/* a retired cached entry disappears; reused for another path */
	e->state = SCALES_SHM_RETIRED;
	e->generation += 2;
	expect(&lv, 3, 0, NULL, "/web/b");
	set_path(&lv, 1, "/web/0");
	e->generation += 2;
	e->state = SCALES_SHM_LIVE;
	expect(&lv, 4, 0, "/web/0", NULL);

	/* another entry takes the same path: the lower slot wins */
	set_path(&lv, 3, "/web/0");
	ent(&lv, 3)->generation += 2;
	s = check(&lv, -1);
	cr_assert_eq(s->n, 3);
	cr_assert_eq(s->skipped, 1);
	cr_assert_eq(must_find(s, "/web/0")->entry, 1);
	scales_snapshot_free(&s);
	live_close(&lv);
	sb_free(b);
}

/*
 * A warm snapshot takes a counter's path from the cache, but checks its
 * other words at every copy: each rewrite below, made between two warm
 * snapshots without a new generation, is refused (or, valid, shown) as a
 * fresh reader refuses or shows it; put back, the counter is shown again.
 */
Test(cache, counter_words_rewritten_are_checked_again)
{
	struct live lv;
	struct segbuild *b = four_counters(&lv);
	struct scales_shm_entry *e = ent(&lv, 1);
	const struct scales_shm_entry saved = *e;
	uint64_t used = lv.h->stripe_used;
	expect(&lv, 4, 0, "/web/b", NULL);
	expect(&lv, 4, 0, "/web/b", NULL); /* warm: the path from the cache */

	/* the stripe offset: past the used words, misaligned, wrapping */
	e->stripe_offset = used;
	expect(&lv, 3, 1, NULL, "/web/b");
	e->stripe_offset = saved.stripe_offset + 4;
	expect(&lv, 3, 1, NULL, "/web/b");
	e->stripe_offset = UINT64_MAX - 3;
	expect(&lv, 3, 1, NULL, "/web/b");
	e->stripe_offset = saved.stripe_offset;
	expect(&lv, 4, 0, "/web/b", NULL);

	/* another counter's words: shown, with that counter's value */
	e->stripe_offset = ent(&lv, 3)->stripe_offset;
	struct scales_snapshot *s = check(&lv, -1);
	cr_assert_eq(must_find(s, "/web/b")->v.u64, 13);
	scales_snapshot_free(&s);
	e->stripe_offset = saved.stripe_offset;

	/* sizes the kind does not have; another kind without its data */
	e->stripe_size = 16;
	expect(&lv, 3, 1, NULL, "/web/b");
	e->stripe_size = saved.stripe_size;
	e->data_size = 8;
	expect(&lv, 3, 1, NULL, "/web/b");
	e->data_size = saved.data_size;
	e->kind = SCALES_SHM_GAUGE_I64;
	expect(&lv, 3, 1, NULL, "/web/b");
	e->kind = saved.kind;
	expect(&lv, 4, 0, "/web/b", NULL);

	/* a hostile header: the used words end before the counter's */
	lv.h->stripe_used = saved.stripe_offset;
	s = check(&lv, -1);
	cr_assert_null(scales_snapshot_find(s, "/web/b"));
	cr_assert_geq(s->invalid, 1);
	scales_snapshot_free(&s);
	lv.h->stripe_used = used;
	expect(&lv, 4, 0, "/web/b", NULL);

	/* string refs: a bad help ref refuses it, a bad label list is
	 * dropped (the counter kept) */
	e->help = 3;
	expect(&lv, 3, 1, NULL, "/web/b");
	e->help = 0;
	e->labels = 5;
	s = check(&lv, -1);
	cr_assert_null(must_find(s, "/web/b")->labels);
	scales_snapshot_free(&s);
	e->labels = 0;

	*e = saved;
	s = check(&lv, -1);
	cr_assert_eq(s->n, 4);
	cr_assert_eq(must_find(s, "/web/b")->v.u64, 11);
	scales_snapshot_free(&s);
	live_close(&lv);
	sb_free(b);
}

/* Entries in reverse path order: the cached order is a permutation. */
Test(cache, directory_order_is_not_path_order)
{
	struct sb_config cfg = { 0 };
	cfg.dir_capacity = 256;
	struct segbuild *b = sb_new("rev", 5, 5, &cfg);
	for (int i = 0; i < 200; i++) {
		char p[32];
		snprintf(p, sizeof(p), "/rev/%03d", 199 - i);
		sb_counter_add(b, sb_counter(b, p, NULL), 1, (uint64_t)i);
	}
	struct live lv;
	live_open(&lv, b);
	for (int round = 0; round < 3; round++) {
		struct scales_snapshot *s = check(&lv, round);
		cr_assert_eq(s->n, 200);
		cr_assert_str_eq(s->metrics[0].path, "/rev/000");
		cr_assert_eq(s->metrics[0].entry, 199);
		scales_snapshot_free(&s);
	}
	/* a value changes, one entry goes, another gets a path between */
	*counter_word(&lv, 10, 2) += 1000;
	ent(&lv, 20)->state = SCALES_SHM_RETIRED;
	set_path(&lv, 30, "/rev/100a");
	ent(&lv, 30)->generation += 2;
	struct scales_snapshot *s = check(&lv, 3);
	cr_assert_eq(s->n, 199);
	cr_assert_eq(must_find(s, "/rev/189")->v.u64, 1010);
	cr_assert_eq(must_find(s, "/rev/100a")->entry, 30);
	scales_snapshot_free(&s);
	live_close(&lv);
	sb_free(b);
}

/* ------------------------------------------- a random, hostile history */

static uint64_t rng_state = 0x9e3779b97f4a7c15u;

static uint32_t rnd(uint32_t n)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return (uint32_t)(rng_state % n);
}

/* A random path, now and then an invalid one. */
static void random_path(char *p, size_t len)
{
	static const char ok[] = "abcdefghijklmnopqrstuvwxyz0123456789_-.:@+%";
	size_t n = 0;
	int comps = 1 + (int)rnd(3);
	for (int c = 0; c < comps && n + 2 < len; c++) {
		p[n++] = '/';
		size_t clen = 1 + rnd(c == comps - 1 ? 160 : 4);
		for (size_t k = 0; k < clen && n + 1 < len; k++)
			p[n++] = ok[rnd(c == 0 ? 2 : sizeof(ok) - 1)];
	}
	p[n] = 0;
	if (rnd(20) == 0)
		p[1 + rnd((uint32_t)n - 1)] = "!/\x01 "[rnd(4)];
}

Test(cache, random_history_matches_a_fresh_reader)
{
	struct sb_config cfg = { 0 };
	cfg.dir_capacity = 400;
	cfg.strings_capacity = 65536;
	struct segbuild *b = sb_new("rand", 9, 9, &cfg);
	char p[SCALES_SHM_PATH_MAX];
	for (uint32_t i = 0; i < 400; i++) {
		int n = snprintf(p, sizeof(p), "/i%u/", rnd(1000));
		for (uint32_t k = 0, len = 1 + rnd(60); k < len; k++)
			p[n++] = (char)('a' + rnd(26));
		p[n] = 0;
		uint32_t e = i % 7 == 3 ?
		                 sb_gauge(b, p, (int64_t)i) :
		                 sb_counter(b, p, i % 5 ? NULL : "help");
		if (i % 7 != 3)
			sb_counter_add(b, e, i % 3, i);
	}
	struct live lv;
	live_open(&lv, b);
	lv.h->dir_used = 150;
	uint64_t soff0[400], used0 = lv.h->stripe_used;
	for (uint32_t i = 0; i < 400; i++)
		soff0[i] = ent(&lv, i)->stripe_offset;

	/* snapshots kept alive for a while, with a copy of their paths */
	enum {
		KEEP = 6
	};
	struct scales_snapshot *kept[KEEP] = { 0 };
	char **names[KEEP] = { 0 };
	uint64_t prev_bytes = 0;
	int compactions = 0;
	for (int round = 0; round < 2000; round++) {
		int ops = 1 + (int)rnd(8);
		for (int o = 0; o < ops; o++) {
			uint32_t i = rnd(lv.h->dir_used);
			struct scales_shm_entry *e = ent(&lv, i);
			switch (rnd(14)) {
			case 0: /* retire */
				if (e->state == SCALES_SHM_LIVE) {
					e->state = SCALES_SHM_RETIRED;
					e->generation += 2;
				}
				break;
			case 1: /* (re)register under a new path */
				random_path(p, 200);
				set_path(&lv, i, p);
				e->generation += 2;
				e->state = SCALES_SHM_LIVE;
				break;
			case 2: /* rewrite in place, same generation */
				random_path(p, 200);
				set_path(&lv, i, p);
				break;
			case 3: /* one byte, same generation and length */
				e->path[1 + rnd(e->path_len - 1)] =
				    "xQ.!_"[rnd(5)];
				break;
			case 4: /* a new generation only */
				e->generation += 2;
				break;
			case 5: /* another entry's path: a duplicate */
				set_path(&lv, i,
				         ent(&lv, rnd(lv.h->dir_used))->path);
				e->generation += 2 * rnd(2);
				break;
			case 6: /* more entries in use */
				lv.h->dir_used += rnd(6);
				if (lv.h->dir_used > 400)
					lv.h->dir_used = 400;
				break;
			case 7: /* a value (in the counter's words) */
				if (e->kind == SCALES_SHM_COUNTER &&
				    e->stripe_offset % 8 == 0 &&
				    e->stripe_offset < used0)
					*counter_word(&lv, i, rnd(3)) +=
					    rnd(1000);
				break;
			case 8: /* caught in the middle of a rewrite */
				if (e->generation & 1)
					e->generation++;
				else if (rnd(3) == 0)
					e->generation++;
				break;
			case 9: /* a bad kind, or back to a good one */
				if (e->kind == 99)
					e->kind = e->stripe_size ?
					              SCALES_SHM_COUNTER :
					              SCALES_SHM_GAUGE_I64;
				else if (rnd(3) == 0)
					e->kind = 99;
				break;
			case 11: /* the stripe words moved, same generation:
			          * back, misaligned, past the used ones,
			          * another entry's, wrapping */
				switch (rnd(5)) {
				case 0:
					e->stripe_offset = soff0[i];
					break;
				case 1:
					e->stripe_offset = soff0[i] + 4;
					break;
				case 2:
					e->stripe_offset = used0;
					break;
				case 3:
					e->stripe_offset =
					    soff0[rnd(lv.h->dir_used)];
					break;
				default:
					e->stripe_offset = UINT64_MAX - 3;
					break;
				}
				break;
			case 12: /* data bytes where a counter has none, or
			          * none where a gauge has them */
				e->data_size ^= 8;
				break;
			case 13: /* a hostile header: fewer stripe words used,
			          * or all of them again */
				lv.h->stripe_used = lv.h->stripe_used == used0 ?
				                        used0 / 16 * 8 :
				                        used0;
				break;
			default: /* garbage after the NUL */
				if (e->path_len + 1 < SCALES_SHM_PATH_MAX)
					e->path[e->path_len + 1] ^= 0x55;
				break;
			}
		}
		bool reopened = rnd(500) == 0;
		if (reopened) { /* a new reader now and then */
			scales_segment_close(&lv.seg);
			lv.seg = must_open(lv.path);
		}
		struct scales_snapshot *s = check(&lv, round);
		/* the cache's blocks shrink only when compacted */
		uint64_t bytes = lv.seg->cache.bytes;
		if (!reopened && bytes < prev_bytes)
			compactions++;
		prev_bytes = bytes;

		/* the oldest kept snapshot still reads as it did */
		int slot = round % KEEP;
		if (kept[slot]) {
			for (size_t m = 0; m < kept[slot]->n; m++) {
				cr_assert_str_eq(kept[slot]->metrics[m].path,
				                 names[slot][m]);
				free(names[slot][m]);
			}
			free(names[slot]);
			scales_snapshot_free(&kept[slot]);
		}
		kept[slot] = s;
		names[slot] = calloc(s->n + 1, sizeof(char *));
		for (size_t m = 0; m < s->n; m++)
			names[slot][m] = strdup(s->metrics[m].path);
	}
	cr_log_info("random history: %d compactions of the path blocks "
	            "(%llu bytes, %llu live, %zu blocks), %zu metrics shown, "
	            "%u invalid, %u skipped at the end",
	            compactions, (unsigned long long)lv.seg->cache.bytes,
	            (unsigned long long)lv.seg->cache.live,
	            lv.seg->cache.nblocks, kept[0]->n, kept[0]->invalid,
	            kept[0]->skipped);
	live_close(&lv); /* the kept snapshots outlive the segment */
	for (int slot = 0; slot < KEEP; slot++) {
		for (size_t m = 0; kept[slot] && m < kept[slot]->n; m++) {
			cr_assert_str_eq(kept[slot]->metrics[m].path,
			                 names[slot][m]);
			free(names[slot][m]);
		}
		free(names[slot]);
		scales_snapshot_free(&kept[slot]);
	}
	sb_free(b);
}

/* ------------------------------------------------------------ lifetime */

/* Paths rewritten at every snapshot: the cache's blocks fill with paths no
 * entry has any more and are compacted, under snapshots still using them. */
Test(cache, path_blocks_compacted_under_live_snapshots)
{
	struct segbuild *b = sb_new("churn", 4, 4, NULL);
	for (int i = 0; i < 4; i++) {
		char p[32];
		snprintf(p, sizeof(p), "/churn/%d", i);
		sb_counter_add(b, sb_counter(b, p, NULL), 0, (uint64_t)i);
	}
	struct live lv;
	live_open(&lv, b);
	enum {
		KEEP = 8
	};
	struct scales_snapshot *kept[KEEP] = { 0 };
	char want[KEEP][SCALES_SHM_PATH_MAX];
	uint64_t prev_bytes = 0;
	int compactions = 0;
	for (int round = 0; round < 3000; round++) {
		char p[SCALES_SHM_PATH_MAX];
		int n = snprintf(p, sizeof(p), "/churn/1/%d/", round);
		memset(p + n, 'a' + round % 26, 200 - (size_t)n);
		p[200] = 0;
		set_path(&lv, 1, p);
		ent(&lv, 1)->generation += 2;
		struct scales_snapshot *s = must_snap(lv.seg, 0);
		cr_assert_eq(s->n, 4);
		cr_assert_str_eq(s->metrics[1].path, p);
		if (lv.seg->cache.bytes < prev_bytes)
			compactions++;
		prev_bytes = lv.seg->cache.bytes;
		cr_assert_leq(lv.seg->cache.bytes, 4 * 64 * 1024);
		int slot = round % KEEP;
		if (kept[slot]) {
			cr_assert_str_eq(kept[slot]->metrics[1].path,
			                 want[slot]);
			cr_assert_str_eq(kept[slot]->metrics[0].path,
			                 "/churn/0");
			scales_snapshot_free(&kept[slot]);
		}
		kept[slot] = s;
		strcpy(want[slot], p);
	}
	cr_log_info("churn: %d compactions", compactions);
	cr_assert_geq(compactions, 3);
	live_close(&lv);
	for (int slot = 0; slot < KEEP; slot++) {
		cr_assert_str_eq(kept[slot]->metrics[1].path, want[slot]);
		scales_snapshot_free(&kept[slot]);
	}
	sb_free(b);
}

/* A sampler thread takes snapshots (paths rewritten each time, so blocks
 * are added and compacted) and hands them to another thread, which checks
 * and frees them: block references are dropped from both threads. */
struct handoff {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct scales_snapshot *q[16];
	char want[16][64];
	size_t head, tail;
	bool done;
};

static void *consume(void *arg)
{
	struct handoff *h = arg;
	pthread_mutex_lock(&h->mu);
	for (;;) {
		while (h->head == h->tail && !h->done)
			pthread_cond_wait(&h->cv, &h->mu);
		if (h->head == h->tail)
			break;
		struct scales_snapshot *s = h->q[h->tail % 16];
		char want[64];
		strcpy(want, h->want[h->tail % 16]);
		h->tail++;
		pthread_cond_broadcast(&h->cv);
		pthread_mutex_unlock(&h->mu);
		cr_assert_str_eq(s->metrics[1].path, want);
		scales_snapshot_free(&s);
		pthread_mutex_lock(&h->mu);
	}
	pthread_mutex_unlock(&h->mu);
	return NULL;
}

Test(cache, snapshots_freed_on_another_thread)
{
	struct segbuild *b = sb_new("hand", 6, 6, NULL);
	sb_counter(b, "/hand/0", NULL);
	sb_counter(b, "/hand/1", NULL);
	struct live lv;
	live_open(&lv, b);
	struct handoff h = { .mu = PTHREAD_MUTEX_INITIALIZER,
		             .cv = PTHREAD_COND_INITIALIZER };
	pthread_t t;
	cr_assert_eq(pthread_create(&t, NULL, consume, &h), 0);
	for (int round = 0; round < 3000; round++) {
		char p[64];
		snprintf(p, sizeof(p), "/hand/1/%d/%040d", round, round);
		set_path(&lv, 1, p);
		ent(&lv, 1)->generation += 2;
		struct scales_snapshot *s = must_snap(lv.seg, 0);
		pthread_mutex_lock(&h.mu);
		while (h.head - h.tail == 16)
			pthread_cond_wait(&h.cv, &h.mu);
		h.q[h.head % 16] = s;
		strcpy(h.want[h.head % 16], p);
		h.head++;
		pthread_cond_broadcast(&h.cv);
		pthread_mutex_unlock(&h.mu);
		if (round == 2000) { /* the rest from another file */
			live_close(&lv);
			live_open(&lv, b);
		}
	}
	pthread_mutex_lock(&h.mu);
	h.done = true;
	pthread_cond_broadcast(&h.cv);
	pthread_mutex_unlock(&h.mu);
	pthread_join(t, NULL);
	live_close(&lv);
	sb_free(b);
}

Test(cache, snapshots_outlive_their_segment)
{
	struct segbuild *b = sb_new("life", 3, 3, NULL);
	sb_counter(b, "/life/a", "help a");
	sb_state(b, "/life/s", "running");
	sb_agg(b, "/life/sum", SCALES_SHM_AGG_SUM, "a");
	struct live lv;
	live_open(&lv, b);
	struct scales_snapshot *s1 = must_snap(lv.seg, 0);
	struct scales_snapshot *s2 = must_snap(lv.seg, 0); /* from the cache */
	cr_assert_neq(s1->segment_path, scales_segment_path(lv.seg));
	cr_assert_eq(s1->metrics[0].path, s2->metrics[0].path,
	             "a cached path is shared, not copied");
	live_close(&lv);
	for (int k = 0; k < 2; k++) {
		struct scales_snapshot *s = k ? s2 : s1;
		cr_assert_str_eq(s->segment_path, lv.path);
		cr_assert_str_eq(must_find(s, "/life/a")->help, "help a");
		cr_assert_str_eq(must_find(s, "/life/s")->v.state, "running");
		must_find(s, "/life/sum");
		if (k == 0) {
			scales_snapshot_free(&s1);
			continue;
		}
		cr_assert_str_eq(s->metrics[0].path, "/life/a");
	}
	scales_snapshot_free(&s2);
	sb_free(b);
}

/* A large snapshot's metrics array, freed, serves the segment's next
 * snapshot (no fresh pages to fault in), which shows what a fresh reader
 * shows; a snapshot freed on another thread after its segment is closed
 * still finds its spare. */
static void *free_later(void *arg)
{
	scales_snapshot_free(arg);
	return NULL;
}

Test(cache, large_metrics_array_reused)
{
	enum {
		N = 20000
	}; /* 2^15 slots, several MiB: kept */
	struct sb_config cfg = { .dir_capacity = N + 64,
		                 .stripe_size = 8 * N + 4096,
		                 .strings_capacity = 8192 };
	struct segbuild *b = sb_new("big", 7, 7, &cfg);
	for (uint32_t i = 0; i < N; i++) {
		char p[64];
		snprintf(p, sizeof(p), "/big/%05u", i);
		sb_counter_add(b, sb_counter(b, p, NULL), 0, i);
	}
	struct live lv;
	live_open(&lv, b);
	struct scales_snapshot *s1 = check(&lv, 0);
	const struct scales_metric *a1 = s1->metrics;
	scales_snapshot_free(&s1);
	cr_assert_eq(lv.seg->spare->metrics, a1, "the array is kept");
	/* changed values and a renamed entry: the reused array's old
	 * contents show nowhere */
	*counter_word(&lv, 5, 0) += 1000;
	set_path(&lv, 7, "/big/zz");
	ent(&lv, 7)->generation += 2;
	struct scales_snapshot *s2 = check(&lv, 1);
	cr_assert_eq(s2->metrics, a1, "the next snapshot reuses it");
	cr_assert_null(lv.seg->spare->metrics);
	cr_assert_eq(must_find(s2, "/big/00005")->v.u64, 1005);
	cr_assert_str_eq(s2->metrics[N - 1].path, "/big/zz");
	struct scales_snapshot *s3 = check(&lv, 2); /* a fresh array */
	cr_assert_neq(s3->metrics, s2->metrics);
	live_close(&lv);
	pthread_t t;
	cr_assert_eq(pthread_create(&t, NULL, free_later, &s2), 0);
	pthread_join(t, NULL);
	cr_assert_null(s2);
	cr_assert_eq(must_find(s3, "/big/00005")->v.u64, 1005);
	scales_snapshot_free(&s3); /* the last reference: frees the spare */
	sb_free(b);
}

/* The path blocks grow with the paths: a process of 100 metrics costs a
 * reader one small block, not 64 KiB (a reader of 1,000 such processes
 * kept 64 MB of blocks, mostly empty). */
Test(cache, path_blocks_sized_by_the_paths)
{
	struct sb_config cfg = { .dir_capacity = 128 };
	struct segbuild *b = sb_new("small", 1, 1, &cfg);
	uint64_t paths = 0;
	for (int i = 0; i < 100; i++) {
		char p[64];
		snprintf(p, sizeof p, "/crowd/requests-%03d", i);
		sb_counter(b, p, NULL);
		paths += (strlen(p) + 8) / 8 * 8;
	}
	struct live lv;
	live_open(&lv, b);
	struct scales_snapshot *s = NULL;
	char err[256];
	cr_assert_eq(scales_snapshot_take(lv.seg, 0, &s, err, sizeof(err)), 0,
	             "%s", err);
	cr_assert_eq(s->n, 100);
	const struct r_cache *c = &lv.seg->cache;
	cr_assert_eq(c->stored, paths);
	cr_assert_leq(c->bytes, 2 * paths + 4096, "%llu bytes for %llu",
	              (unsigned long long)c->bytes, (unsigned long long)paths);
	scales_snapshot_free(&s);
	live_close(&lv);
	sb_free(b);
}

/* Both histograms' words equal: a warm snapshot's and a fresh reader's. */
/* A warm snapshot's histograms take the bucket arrays of a freed one of
 * the same segment (struct r_hslab): a histogram given the array that
 * another one filled (here: the first histogram retired, the second
 * copied first) shows its own buckets only, as a fresh reader does; and
 * a histogram whose range grew shows the new buckets. */
Test(cache, histogram_arrays_reused_show_their_own_buckets)
{
	struct sb_config cfg = { .stripe_size = 65536 };
	struct segbuild *b = sb_new("hist", 8, 8, &cfg);
	uint32_t wide = sb_histogram(b, "/h/a-wide", 5, 0, 1024, 1e-9, 1);
	uint32_t narrow = sb_histogram(b, "/h/b-narrow", 5, 0, 1024, 1e-9, 1);
	for (uint64_t v = 1; v < (UINT64_C(1) << 28); v = v * 3 + 1)
		sb_hist_record(b, wide, 0, v);
	sb_hist_record(b, narrow, 0, 1000);
	sb_hist_record(b, narrow, 1, 1000);
	struct live lv;
	live_open(&lv, b);
	/* cold, then warm ones: the slabs fill and go round */
	struct scales_snapshot *s[4];
	for (int i = 0; i < 4; i++) {
		s[i] = must_snap(lv.seg, 0);
		if (i >= 2)
			scales_snapshot_free(&s[i - 2]);
	}
	struct scales_snapshot *c = cold_snap(&lv, 0);
	same_histogram(s[3], c, "/h/a-wide");
	same_histogram(s[3], c, "/h/b-narrow");
	scales_snapshot_free(&c);
	/* the wide one retired: the narrow one is the first copied */
	sb_retire(b, wide);
	memcpy(lv.map, b->img, b->size);
	for (int i = 0; i < 3; i++) {
		struct scales_snapshot *w = must_snap(lv.seg, 0);
		c = cold_snap(&lv, 0);
		cr_assert_null(scales_snapshot_find(w, "/h/a-wide"));
		same_histogram(w, c, "/h/b-narrow");
		scales_snapshot_free(&c);
		scales_snapshot_free(&s[2]);
		s[2] = s[3];
		s[3] = w;
	}
	/* the narrow one's range grows: the buckets past the old one */
	sb_hist_record(b, narrow, 0, 1);
	sb_hist_record(b, narrow, 2, UINT64_C(1) << 29);
	memcpy(lv.map, b->img, b->size);
	for (int i = 0; i < 3; i++) {
		struct scales_snapshot *w = must_snap(lv.seg, 0);
		c = cold_snap(&lv, 0);
		same_histogram(w, c, "/h/b-narrow");
		scales_snapshot_free(&c);
		scales_snapshot_free(&s[2]);
		s[2] = s[3];
		s[3] = w;
	}
	scales_snapshot_free(&s[2]);
	scales_snapshot_free(&s[3]);
	live_close(&lv);
	sb_free(b);
}
