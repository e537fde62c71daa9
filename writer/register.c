/* SPDX-License-Identifier: MIT */
/*
 * register.c: get-or-create registration, retirement, reset and sinks.
 *
 * Publication (docs/format.md, "Publication protocol"), registry lock held:
 *   1. generation := odd (relaxed store), then a release fence: a reader
 *      that copies any byte written below and then sees the generation
 *      (after its acquire fence) sees it changed.
 *   2. fields, path and zeroed data are written (relaxed stores).
 *   3. generation := even (release store): the entry is consistent.
 *   4. state := LIVE (release store): readers may show it.
 *   5. dir_used (new slots) and the header generation, release stores.
 * Retirement runs the same bracket around state := RETIRED.
 */
#include <errno.h>
#include <math.h>
#include <string.h>

#include "internal.h"

static uint64_t sink_counter_words[1];
static int64_t sink_gauge_word;
static double sink_f64_word;
/* the ref and the timed-state word (0: a plain state) */
static uint32_t sink_state_word[2];
static uint64_t sink_hist_words[2];
static uint64_t sink_hist_minmax[2] = { UINT64_MAX, 0 };

SCALES_API void scales_counter_sink(scales_counter *out)
{
	/* no slot map, stride 0, no rseq CPUs: every update is an atomic add
	 * to one word */
	*out = (scales_counter){ sink_counter_words, NULL, 0, 0, 0, 0 };
}

SCALES_API void scales_histogram_sink(scales_histogram *out)
{
	memset(out, 0, sizeof *out);
	out->base = sink_hist_words;
	out->minmax = sink_hist_minmax;
	out->clock = SCALES_CLOCK_MONOTONIC;
	out->ns_mult = (uint64_t)1 << 32;
	out->sub_bits = 5;
}

struct hist_params {
	uint32_t sub_bits, unit_shift, nbuckets;
	double scale;
};

static int hist_params(const struct scales_histogram_config *cfg,
                       enum scales_unit unit, struct hist_params *p)
{
	uint64_t highest =
	    cfg && cfg->highest ? cfg->highest : ((uint64_t)1 << 40) - 1;
	p->sub_bits = cfg && cfg->sub_bucket_bits ? cfg->sub_bucket_bits : 5;
	p->unit_shift = cfg ? cfg->lowest_shift : 0;
	p->scale = cfg && cfg->scale != 0 ?
	               cfg->scale :
	               (unit == SCALES_UNIT_SECONDS ? 1e-9 : 1.0);
	if (!isfinite(p->scale) || p->scale <= 0 ||
	    !scales_shm_histo_shape(highest, p->sub_bits, p->unit_shift,
	                            &p->nbuckets))
		return SCALES_E_CONFIG;
	return 0;
}

/* Relaxed word-by-word zeroing: readers may be reading these words. */
static void zero_words(uint64_t *p, size_t nwords)
{
	for (size_t i = 0; i < nwords; i++)
		__atomic_store_n(&p[i], 0, __ATOMIC_RELAXED);
}

void (*test_hook_publishing)(void);

static void publish(scales_registry *reg, uint32_t idx, bool reused,
                    uint16_t kind, const char *path, size_t len,
                    const struct scales_info *info, uint32_t help,
                    const struct hist_params *hp, uint32_t param0,
                    uint32_t labels)
{
	struct scales_shm_header *h = reg->hdr;
	struct scales_shm_entry *e = entry_at(reg, idx);
	/* A writer killed inside this function leaves the slot odd. A slot
	 * below dir_used is closed by repair(); the slot at dir_used (a new
	 * one, not counted yet) is handed out again as it is: start from the
	 * next even value, so that the bracket below ends even. */
	uint32_t g = e->generation;
	g += g & 1;
	__atomic_store_n(&e->generation, g + 1, __ATOMIC_RELAXED);
	/* Orders the odd generation before every store below. */
	__atomic_thread_fence(__ATOMIC_RELEASE);
	if (test_hook_publishing)
		test_hook_publishing();

	e->kind = kind;
	/* the unit alone; the merge bits went to param0 (stat_register) */
	e->unit = info ? (uint16_t)(info->unit & SCALES_UNIT_MASK) : 0;
	e->path_len = (uint32_t)len;
	e->help = help;
	memset(e->param, 0, sizeof e->param);
	e->scale = 1.0;
	e->labels = labels;
	e->reserved0 = 0;
	memset(e->reserved, 0, sizeof e->reserved);
	if (hp) {
		e->param[0] = hp->sub_bits;
		e->param[1] = hp->unit_shift;
		e->param[2] = hp->nbuckets;
		e->scale = hp->scale;
	} else {
		e->param[0] = param0;
	}
	memset(e->path, 0, sizeof e->path);
	memcpy(e->path, path, len);
	if (reused) {
		zero_stripes(reg, e);
		if (e->data_size)
			zero_words((uint64_t *)(void *)(reg->base +
			                                e->data_offset),
			           (e->data_size + entry_extra(e)) / 8);
	}
	if (kind == SCALES_SHM_STATE && param0)
		/* the slot count at data + 4, for the handle (format 6.3):
		 * relaxed, like the zeroing above; the handle is handed out
		 * after the lock is released */
		__atomic_store_n(
		    (uint32_t *)(void *)(reg->base + e->data_offset) + 1,
		    param0, __ATOMIC_RELAXED);
	if (kind == SCALES_SHM_HISTOGRAM)
		__atomic_store_n((uint64_t *)(void *)(reg->base +
		                                      e->data_offset),
		                 UINT64_MAX, __ATOMIC_RELAXED); /* min */

	__atomic_store_n(&e->generation, g + 2, __ATOMIC_RELEASE);
	__atomic_store_n(&e->state, SCALES_SHM_LIVE, __ATOMIC_RELEASE);
	if (!reused)
		__atomic_store_n(&h->dir_used, idx + 1, __ATOMIC_RELEASE);
	__atomic_fetch_add(&h->live_entries, 1, __ATOMIC_RELAXED);
}

/* Registry lock held. Retires entry idx and puts it on the free list. */
static void retire_entry(scales_registry *reg, uint32_t idx)
{
	struct scales_shm_entry *e = entry_at(reg, idx);
	uint32_t g = e->generation;
	__atomic_store_n(&e->generation, g + 1, __ATOMIC_RELAXED);
	__atomic_thread_fence(__ATOMIC_RELEASE);
	__atomic_store_n(&e->state, SCALES_SHM_RETIRED, __ATOMIC_RELAXED);
	__atomic_store_n(&e->generation, g + 2, __ATOMIC_RELEASE);
	__atomic_fetch_sub(&reg->hdr->live_entries, 1, __ATOMIC_RELAXED);
	free_entry(reg, idx);
}

/* Registry lock held: the header generation moved; if only by us, the
 * index still reflects everything. */
static void bump_generation(scales_registry *reg)
{
	uint64_t old =
	    __atomic_fetch_add(&reg->hdr->generation, 1, __ATOMIC_RELEASE);
	if (old == reg->synced_generation)
		reg->synced_generation = old + 1;
}

void (*test_hook_registering)(void);

/* Counts a registration refused for want of room or of the lock. */
int count_refused(scales_registry *reg, int rc)
{
	if (rc == SCALES_E_FULL || rc == -EBUSY || rc == -ENOMEM ||
	    rc == SCALES_E_FOREIGN)
		__atomic_fetch_add(&reg->hdr->refused, 1, __ATOMIC_RELAXED);
	return rc;
}

int stat_register(scales_registry *reg, const char *path, uint16_t kind,
                  const struct scales_info *info,
                  const struct scales_histogram_config *cfg, uint32_t param0,
                  struct index_node *n)
{
	return stat_register_labelled(reg, path, kind, info, cfg, param0, 0, n);
}

/*
 * The one registration path for every kind. On success *n holds the
 * stat's index node (header and handle). param0 carries an aggregate's
 * child-name ref or a dict's key label ref; labels the ref of the label
 * list (scope.c made it). A stat that exists keeps its labels.
 */
int stat_register_labelled(scales_registry *reg, const char *path,
                           uint16_t kind, const struct scales_info *info,
                           const struct scales_histogram_config *cfg,
                           uint32_t param0, uint32_t labels,
                           struct index_node *n)
{
	int rc = reg_check(reg);
	if (rc)
		return rc;
	if (!path)
		return -EINVAL;
	size_t len = strnlen(path, SCALES_PATH_MAX + 1);
	if (index_find(reg, path, len, n))
		return n->kind == kind ? 0 : SCALES_E_KIND;
	rc = scales_path_check(path);
	if (rc)
		return rc;
	if (info) {
		/* info->unit: the unit, OR'ed with a SCALES_MERGE_* for a
		 * gauge (docs/api.md); a gauge records it in param[0] */
		unsigned u = (unsigned)info->unit;
		unsigned merge = (u & SCALES_MERGE_MASK) >> 8;
		unsigned timed = (u & SCALES_STATE_TIMED_MASK) >> 16;
		bool gauge = kind == SCALES_SHM_GAUGE_I64 ||
		             kind == SCALES_SHM_GAUGE_F64;
		if ((u & SCALES_UNIT_MASK) > SCALES_SHM_UNIT_MAX ||
		    (u & ~(unsigned)(SCALES_UNIT_MASK | SCALES_MERGE_MASK |
		                     SCALES_STATE_TIMED_MASK)) ||
		    merge > SCALES_SHM_MERGE_LAST || (merge && !gauge) ||
		    (timed && kind != SCALES_SHM_STATE) ||
		    timed > SCALES_SHM_STATE_SLOTS_MAX)
			return SCALES_E_CONFIG;
		if (gauge)
			param0 = merge;
		if (kind == SCALES_SHM_STATE)
			param0 = timed; /* param[0]: its value slots (1.4) */
	}
	struct hist_params hp, *hpp = NULL;
	if (kind == SCALES_SHM_HISTOGRAM) {
		rc =
		    hist_params(cfg, info ? info->unit : SCALES_UNIT_NONE, &hp);
		if (rc)
			return rc;
		hpp = &hp;
	}
	uint32_t help = 0;
	if (info && info->help && info->help[0]) {
		rc = string_intern(reg, info->help,
		                   strnlen(info->help, HELP_MAX), &help);
		if (rc)
			return count_refused(reg, rc);
	}

	rc = reg_lock(reg);
	if (rc)
		return count_refused(reg, rc);
	index_sync(reg);
	if (index_find(reg, path, len, n)) {
		reg_unlock(reg);
		return n->kind == kind ? 0 : SCALES_E_KIND;
	}
	uint32_t dsz, ssz, idx;
	bool reused;
	scales_shm_kind_sizes(kind, hpp ? hpp->nbuckets : 0, &dsz, &ssz);
	/* histograms in the top region: fewer slots (docs/format.md 8) */
	uint32_t extra =
	    kind == SCALES_SHM_STATE ? scales_shm_state_table_size(param0) : 0;
	rc = alloc_entry(reg, dsz, extra, ssz, kind == SCALES_SHM_HISTOGRAM,
	                 &idx, &reused);
	if (!rc) {
		publish(reg, idx, reused, kind, path, len, info, help, hpp,
		        param0, labels);
		bump_generation(reg);
		if (test_hook_registering)
			test_hook_registering();
		rc = index_add(reg, idx);
	}
	if (!rc && !index_find(reg, path, len, n))
		rc = -ENOMEM;
	reg_unlock(reg);
	return count_refused(reg, rc);
}

/* Writes the handle of *n (or a sink, if rc != 0) to out, by kind. */
void handle_out(uint16_t kind, int rc, const struct index_node *n, void *out)
{
	switch (kind) {
	case SCALES_SHM_COUNTER:
		if (rc)
			scales_counter_sink(out);
		else
			*(scales_counter *)out = n->handle.counter;
		break;
	case SCALES_SHM_GAUGE_I64:
		((scales_gauge *)out)->value =
		    rc ? &sink_gauge_word : n->handle.gauge.value;
		break;
	case SCALES_SHM_GAUGE_F64:
		((scales_gauge_f64 *)out)->value =
		    rc ? &sink_f64_word : n->handle.gauge_f64.value;
		break;
	case SCALES_SHM_STATE:
		if (rc)
			*(scales_state *)out =
			    (scales_state){ sink_state_word, NULL };
		else
			*(scales_state *)out = n->handle.state;
		break;
	case SCALES_SHM_HISTOGRAM:
		if (rc)
			scales_histogram_sink(out);
		else
			*(scales_histogram *)out = n->handle.histogram;
		break;
	default:
		break;
	}
}

static int get_kind(scales_registry *reg, const char *path, uint16_t kind,
                    const struct scales_info *info,
                    const struct scales_histogram_config *cfg, void *out)
{
	struct index_node n;
	int rc = stat_register(reg, path, kind, info, cfg, 0, &n);
	if (out)
		handle_out(kind, rc, &n, out);
	return rc;
}

SCALES_API int scales_counter_get(scales_registry *reg, const char *path,
                                  const struct scales_info *info,
                                  scales_counter *out)
{
	return get_kind(reg, path, SCALES_SHM_COUNTER, info, NULL, out);
}

SCALES_API int scales_gauge_get(scales_registry *reg, const char *path,
                                const struct scales_info *info,
                                scales_gauge *out)
{
	return get_kind(reg, path, SCALES_SHM_GAUGE_I64, info, NULL, out);
}

SCALES_API int scales_gauge_f64_get(scales_registry *reg, const char *path,
                                    const struct scales_info *info,
                                    scales_gauge_f64 *out)
{
	return get_kind(reg, path, SCALES_SHM_GAUGE_F64, info, NULL, out);
}

SCALES_API int scales_state_get(scales_registry *reg, const char *path,
                                const struct scales_info *info,
                                scales_state *out)
{
	return get_kind(reg, path, SCALES_SHM_STATE, info, NULL, out);
}

SCALES_API int scales_histogram_get(scales_registry *reg, const char *path,
                                    const struct scales_info *info,
                                    const struct scales_histogram_config *cfg,
                                    scales_histogram *out)
{
	return get_kind(reg, path, SCALES_SHM_HISTOGRAM, info, cfg, out);
}

static bool state_value_ok(const char *v, size_t len)
{
	if (len == 0 || len > STATE_VALUE_MAX)
		return false;
	for (size_t i = 0; i < len; i++)
		if ((unsigned char)v[i] < 0x20 || v[i] == 0x7f)
			return false;
	return true;
}

SCALES_API int scales_state_intern(scales_registry *reg, const char *value,
                                   uint32_t *id)
{
	int rc = reg_check(reg);
	if (rc)
		return rc;
	if (!value || !id)
		return -EINVAL;
	size_t len = strnlen(value, STATE_VALUE_MAX + 1);
	if (!state_value_ok(value, len))
		return -EINVAL;
	return string_intern(reg, value, len, id);
}

SCALES_API int scales_state_set_str(const scales_state *s, const char *value)
{
	if (!s || !s->value)
		return -EINVAL;
	uint32_t id;
	int rc = scales_state_intern(s->reg, value, &id);
	if (rc)
		return rc;
	if (__atomic_load_n(&s->value[1], __ATOMIC_RELAXED))
		return state_set_timed(s, id);
	scales_state_set(s, id);
	return 0;
}

SCALES_API int scales_retire(scales_registry *reg, const char *path)
{
	int rc = reg_check(reg);
	if (rc)
		return rc;
	if (!path)
		return -EINVAL;
	size_t len = strnlen(path, SCALES_PATH_MAX + 1);
	rc = reg_lock(reg);
	if (rc)
		return rc;
	index_sync(reg);
	struct index_node n;
	if (!index_find(reg, path, len, &n)) {
		reg_unlock(reg);
		return -ENOENT;
	}
	callback_forget(reg, n.entry);
	retire_entry(reg, n.entry);
	index_remove(reg, path, len);
	bump_generation(reg);
	reg_unlock(reg);
	return 0;
}

SCALES_API int scales_retire_tree(scales_registry *reg, const char *path)
{
	int rc = reg_check(reg);
	if (rc)
		return rc;
	if (!path)
		return -EINVAL;
	rc = scales_path_check(path);
	if (rc)
		return rc;
	size_t len = strlen(path);
	rc = reg_lock(reg);
	if (rc)
		return rc;
	index_sync(reg);
	int found = 0;
	uint32_t used = reg->hdr->dir_used;
	for (uint32_t i = 0; i < used; i++) {
		struct scales_shm_entry *e = entry_at(reg, i);
		if (e->state != SCALES_SHM_LIVE ||
		    strncmp(e->path, path, len) != 0 ||
		    (e->path[len] != '\0' && e->path[len] != '/'))
			continue;
		callback_forget(reg, i);
		index_remove(reg, e->path, e->path_len);
		retire_entry(reg, i);
		found++;
	}
	if (found)
		bump_generation(reg);
	reg_unlock(reg);
	return found ? 0 : -ENOENT;
}

/* Retires entry idx if it still holds generation gen (the scope that
 * registered it may outlive a reset or a retirement by path). */
int retire_idx(scales_registry *reg, uint32_t idx, uint32_t gen)
{
	int rc = reg_lock(reg);
	if (rc)
		return rc;
	index_sync(reg);
	struct scales_shm_entry *e = entry_at(reg, idx);
	rc = -ENOENT;
	if (idx < reg->hdr->dir_used && e->state == SCALES_SHM_LIVE &&
	    e->generation == gen) {
		callback_forget(reg, idx);
		index_remove(reg, e->path, e->path_len);
		retire_entry(reg, idx);
		bump_generation(reg);
		rc = 0;
	}
	reg_unlock(reg);
	return rc;
}

SCALES_API int scales_reset(scales_registry *reg)
{
	int rc = reg_check(reg);
	if (rc)
		return rc;
	rc = reg_lock(reg);
	if (rc)
		return rc;
	index_sync(reg);
	uint32_t used = reg->hdr->dir_used;
	for (uint32_t i = 0; i < used; i++) {
		struct scales_shm_entry *e = entry_at(reg, i);
		if (e->state != SCALES_SHM_LIVE)
			continue;
		callback_forget(reg, i);
		index_remove(reg, e->path, e->path_len);
		retire_entry(reg, i);
	}
	bump_generation(reg);
	reg_unlock(reg);
	return 0;
}
