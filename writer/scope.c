/* SPDX-License-Identifier: MIT */
/*
 * scope.c: scopes (a path prefix bound to an object, the seed's init() and
 * initChild()), class-style binding of a struct of handles, aggregate
 * declarations, and dict stats.
 *
 * A scope remembers the entries registered through it (index and
 * generation), so that releasing it retires exactly those, in time
 * proportional to their number, not to the segment's size. Scope objects
 * are not shared-memory objects: the segment only sees paths.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

/* a label list: SCALES_SHM_LABELS_MAX items "K=name", K < 1000 */
#define LABELS_LEN (SCALES_SHM_LABELS_MAX * (SCALES_SHM_LABEL_MAX + 6))

/* dst = a "/" b, if it fits in cap bytes with its NUL; else SCALES_E_PATH. */
static int join_path(char *dst, size_t cap, const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	if (la + 1 + lb + 1 > cap)
		return SCALES_E_PATH;
	memcpy(dst, a, la);
	dst[la] = '/';
	memcpy(dst + la + 1, b, lb + 1);
	return 0;
}

struct scope_entry {
	uint32_t idx, gen;
};

struct scales_scope {
	scales_registry *reg;
	struct scales_scope *parent;
	struct scales_scope *children, *next_sibling, *prev_sibling;
	pthread_mutex_t lock; /* entries and children */
	struct scope_entry *entries;
	size_t n, cap;
	size_t path_len;
	char path[SCALES_SHM_PATH_MAX];
	/* the label list of the stats registered through it (docs/format.md
	 * section 5, "Labels"): "" and ref 0 if none; fixed at creation */
	uint32_t labels_ref;
	unsigned nlabels;
	char labels[LABELS_LEN];
};

/* Is name (n bytes) a label of the list l? */
static bool labels_have(const char *l, const char *name, size_t n)
{
	while (*l) {
		const char *s = strchr(l, '=') + 1, *e = strchr(s, ',');
		size_t len = e ? (size_t)(e - s) : strlen(s);
		if (len == n && !memcmp(s, name, n))
			return true;
		l = e ? e + 1 : s + len;
	}
	return false;
}

/*
 * out = the list l with label `label` added for component k (after l's
 * components), interned into the segment as *ref. SCALES_E_LABEL for a
 * bad or repeated name or too many labels.
 */
static int labels_add(scales_registry *reg, const char *l, unsigned nl,
                      const char *label, size_t k, char out[LABELS_LEN],
                      uint32_t *ref)
{
	size_t n = strnlen(label, SCALES_SHM_LABEL_MAX + 1);
	if (!scales_shm_label_name_ok(label, n) || labels_have(l, label, n) ||
	    nl + 1 >= SCALES_SHM_LABELS_MAX + 1)
		return SCALES_E_LABEL;
	char list[LABELS_LEN]; /* l may be out */
	int len = snprintf(list, sizeof list, "%s%s%zu=%s", l, *l ? "," : "", k,
	                   label);
	if (len < 0 || len >= LABELS_LEN)
		return SCALES_E_LABEL;
	int rc = string_intern(reg, list, (size_t)len, ref);
	if (rc)
		return count_refused(reg, rc);
	memcpy(out, list, (size_t)len + 1);
	return 0;
}

static int scope_new(scales_registry *reg, scales_scope *parent,
                     const char *label, const char *fmt, va_list ap,
                     scales_scope **out)
{
	*out = NULL;
	int rc = reg_check(reg);
	if (rc)
		return rc;
	if (!fmt)
		return -EINVAL;
	char name[SCALES_SHM_PATH_MAX];
	int len = vsnprintf(name, sizeof name, fmt, ap);
	if (len < 0 || (size_t)len >= sizeof name)
		return SCALES_E_PATH;
	scales_scope *s = calloc(1, sizeof *s);
	if (!s)
		return -ENOMEM;
	if (parent)
		rc = join_path(s->path, sizeof s->path, parent->path, name);
	else if ((size_t)len < sizeof s->path)
		memcpy(s->path, name, (size_t)len + 1);
	else
		rc = SCALES_E_PATH;
	len = (int)strlen(s->path);
	/* A scope's path must leave room for a stat name below it. */
	if (rc || (size_t)len >= SCALES_PATH_MAX - 1 ||
	    scales_path_check(s->path) != 0) {
		free(s);
		return SCALES_E_PATH;
	}
	s->path_len = (size_t)len;
	s->reg = reg;
	s->parent = parent;
	if (parent) { /* a child's stats have its parent's labels */
		memcpy(s->labels, parent->labels, sizeof s->labels);
		s->labels_ref = parent->labels_ref;
		s->nlabels = parent->nlabels;
	}
	if (label) {
		/* the value is one component: the last one of the path */
		rc = strchr(name, '/') ?
		         SCALES_E_PATH :
		         labels_add(reg, s->labels, s->nlabels, label,
		                    scales_shm_components(s->path, s->path_len),
		                    s->labels, &s->labels_ref);
		if (rc) {
			free(s);
			return rc;
		}
		s->nlabels++;
	}
	pthread_mutex_init(&s->lock, NULL);
	if (parent) {
		pthread_mutex_lock(&parent->lock);
		s->next_sibling = parent->children;
		if (parent->children)
			parent->children->prev_sibling = s;
		parent->children = s;
		pthread_mutex_unlock(&parent->lock);
	}
	*out = s;
	return 0;
}

SCALES_API int scales_scope_root(scales_registry *reg, scales_scope **out,
                                 const char *fmt, ...)
{
	if (!out)
		return -EINVAL;
	va_list ap;
	va_start(ap, fmt);
	int rc = scope_new(reg, NULL, NULL, fmt, ap, out);
	va_end(ap);
	return rc;
}

SCALES_API int scales_scope_child(scales_scope *parent, scales_scope **out,
                                  const char *fmt, ...)
{
	if (!out)
		return -EINVAL;
	*out = NULL;
	if (!parent)
		return -EINVAL;
	va_list ap;
	va_start(ap, fmt);
	int rc = scope_new(parent->reg, parent, NULL, fmt, ap, out);
	va_end(ap);
	return rc;
}

SCALES_API int scales_scope_labelled(scales_scope *parent, scales_scope **out,
                                     const char *label, const char *fmt, ...)
{
	if (!out)
		return -EINVAL;
	*out = NULL;
	if (!parent || !label)
		return -EINVAL;
	va_list ap;
	va_start(ap, fmt);
	int rc = scope_new(parent->reg, parent, label, fmt, ap, out);
	va_end(ap);
	return rc;
}

SCALES_API int scales_label_check(const char *label)
{
	return label && scales_shm_label_name_ok(
	                    label, strnlen(label, SCALES_SHM_LABEL_MAX + 1)) ?
	           0 :
	           SCALES_E_LABEL;
}

SCALES_API const char *scales_scope_path(const scales_scope *scope)
{
	return scope ? scope->path : NULL;
}

static int scope_remember(scales_scope *s, const struct index_node *n)
{
	int rc = 0;
	pthread_mutex_lock(&s->lock);
	for (size_t i = 0; i < s->n; i++)
		if (s->entries[i].idx == n->entry &&
		    s->entries[i].gen == n->generation)
			goto out;
	if (s->n == s->cap) {
		size_t cap = s->cap ? 2 * s->cap : 4;
		struct scope_entry *v = realloc(s->entries, cap * sizeof *v);
		if (!v) {
			rc = -ENOMEM;
			goto out;
		}
		s->entries = v;
		s->cap = cap;
	}
	s->entries[s->n++] = (struct scope_entry){ n->entry, n->generation };
out:
	pthread_mutex_unlock(&s->lock);
	return rc;
}

/* Registers <scope>/<name> of the given kind; remembers it in the scope. */
static int scope_register(scales_scope *s, const char *name, uint16_t kind,
                          const struct scales_info *info,
                          const struct scales_histogram_config *cfg,
                          uint32_t param0, struct index_node *n)
{
	if (!s || !name)
		return -EINVAL;
	char path[SCALES_SHM_PATH_MAX];
	int rc = join_path(path, sizeof path, s->path, name);
	if (rc)
		return rc;
	rc = stat_register_labelled(s->reg, path, kind, info, cfg, param0,
	                            s->labels_ref, n);
	if (!rc)
		rc = scope_remember(s, n);
	return rc;
}

static int scope_get(scales_scope *s, const char *name, uint16_t kind,
                     const struct scales_info *info,
                     const struct scales_histogram_config *cfg, void *out)
{
	struct index_node n;
	int rc = scope_register(s, name, kind, info, cfg, 0, &n);
	if (out)
		handle_out(kind, rc, &n, out);
	return rc;
}

SCALES_API int scales_scope_counter(scales_scope *s, const char *name,
                                    const struct scales_info *info,
                                    scales_counter *out)
{
	return scope_get(s, name, SCALES_SHM_COUNTER, info, NULL, out);
}

SCALES_API int scales_scope_gauge(scales_scope *s, const char *name,
                                  const struct scales_info *info,
                                  scales_gauge *out)
{
	return scope_get(s, name, SCALES_SHM_GAUGE_I64, info, NULL, out);
}

SCALES_API int scales_scope_gauge_f64(scales_scope *s, const char *name,
                                      const struct scales_info *info,
                                      scales_gauge_f64 *out)
{
	return scope_get(s, name, SCALES_SHM_GAUGE_F64, info, NULL, out);
}

SCALES_API int scales_scope_state(scales_scope *s, const char *name,
                                  const struct scales_info *info,
                                  scales_state *out)
{
	return scope_get(s, name, SCALES_SHM_STATE, info, NULL, out);
}

SCALES_API int scales_scope_histogram(scales_scope *s, const char *name,
                                      const struct scales_info *info,
                                      const struct scales_histogram_config *cfg,
                                      scales_histogram *out)
{
	return scope_get(s, name, SCALES_SHM_HISTOGRAM, info, cfg, out);
}

static int scope_callback(scales_scope *s, const char *name,
                          const struct scales_info *info, uint16_t kind,
                          scales_gauge_fn f, scales_gauge_i64_fn i, void *arg)
{
	if (!f && !i)
		return -EINVAL;
	struct index_node n;
	int rc = scope_register(s, name, kind, info, NULL, 0, &n);
	return rc ? rc : callback_add(s->reg, &n, f, i, arg);
}

SCALES_API int scales_scope_gauge_callback(scales_scope *s, const char *name,
                                           const struct scales_info *info,
                                           scales_gauge_fn fn, void *arg)
{
	return scope_callback(s, name, info, SCALES_SHM_GAUGE_F64, fn, NULL,
	                      arg);
}

SCALES_API int scales_scope_gauge_callback_i64(scales_scope *s,
                                               const char *name,
                                               const struct scales_info *info,
                                               scales_gauge_i64_fn fn,
                                               void *arg)
{
	return scope_callback(s, name, info, SCALES_SHM_GAUGE_I64, NULL, fn,
	                      arg);
}

/* Aggregates: an entry at <scope>/<child_stat> naming the children's stat. */
static int declare_agg(scales_scope *s, const char *child_stat, uint16_t kind,
                       const struct scales_info *info)
{
	if (!s || !child_stat)
		return -EINVAL;
	size_t len = strnlen(child_stat, SCALES_PATH_MAX + 1);
	if (len == 0 || len > SCALES_PATH_MAX || strchr(child_stat, '/'))
		return SCALES_E_PATH;
	uint32_t ref;
	int rc = string_intern(s->reg, child_stat, len, &ref);
	if (rc) /* the declaration is refused: count it as such */
		return count_refused(s->reg, rc);
	struct index_node n;
	return scope_register(s, child_stat, kind, info, NULL, ref, &n);
}

SCALES_API int scales_scope_sum(scales_scope *s, const char *child_stat,
                                const struct scales_info *info)
{
	return declare_agg(s, child_stat, SCALES_SHM_AGG_SUM, info);
}

SCALES_API int scales_scope_states(scales_scope *s, const char *child_stat,
                                   const struct scales_info *info)
{
	return declare_agg(s, child_stat, SCALES_SHM_AGG_STATES, info);
}

/* Registers one described stat and fills its handle in obj. */
static int bind_one(scales_scope *s, const struct scales_stat_desc *d,
                    void *obj, bool refuse)
{
	void *out = obj ? (char *)obj + d->offset : NULL;
	struct scales_info info = { d->help, (enum scales_unit)d->unit };
	switch (d->kind) {
	case SCALES_STAT_SUM:
		return refuse ? -ENOTSUP : scales_scope_sum(s, d->name, &info);
	case SCALES_STAT_STATES:
		return refuse ? -ENOTSUP :
		                scales_scope_states(s, d->name, &info);
	case SCALES_STAT_COUNTER:
	case SCALES_STAT_GAUGE:
	case SCALES_STAT_GAUGE_F64:
	case SCALES_STAT_STATE:
	case SCALES_STAT_HISTOGRAM:
		if (!out)
			return -EINVAL;
		if (refuse) {
			handle_out((uint16_t)d->kind, -ENOTSUP, NULL, out);
			return -ENOTSUP;
		}
		return scope_get(s, d->name, (uint16_t)d->kind, &info,
		                 d->histogram, out);
	default:
		return -EINVAL;
	}
}

/*
 * Binding: registers every described stat and fills the handles in obj.
 * The entries are desc_size bytes apart, the caller's struct (the growth
 * rule in scales.h): fields it lacks read as zero; fields this library
 * lacks must be zero, else the entry is refused.
 */
SCALES_API int scales_bind_sized(scales_scope *s,
                                 const struct scales_stat_desc *desc,
                                 size_t desc_size, void *obj)
{
	if (!desc || desc_size < SCALES_STAT_DESC_SIZE_0_1 ||
	    desc_size % _Alignof(struct scales_stat_desc))
		return -EINVAL;
	int first = s ? 0 : -EINVAL;
	const size_t ours = sizeof(struct scales_stat_desc);
	for (const unsigned char *p = (const unsigned char *)desc;;
	     p += desc_size) {
		struct scales_stat_desc d;
		memset(&d, 0, sizeof d);
		memcpy(&d, p, desc_size < ours ? desc_size : ours);
		if (d.kind == SCALES_STAT_END)
			break;
		bool newer = false;
		for (size_t k = ours; k < desc_size; k++)
			newer |= p[k] != 0;
		int rc = bind_one(s, &d, obj, newer);
		if (rc && !first)
			first = rc;
	}
	return first;
}

/* The symbol that programs built before scales_bind_sized() call: their
 * tables have the 0.1 layout. */
SCALES_API int(scales_bind)(scales_scope *s, const struct scales_stat_desc *d,
                            void *obj)
{
	return scales_bind_sized(s, d, SCALES_STAT_DESC_SIZE_0_1, obj);
}

static void scope_release(scales_scope *s)
{
	while (s->children)
		scope_release(s->children);
	for (size_t i = 0; i < s->n; i++)
		retire_idx(s->reg, s->entries[i].idx, s->entries[i].gen);
	if (s->parent) {
		pthread_mutex_lock(&s->parent->lock);
		if (s->prev_sibling)
			s->prev_sibling->next_sibling = s->next_sibling;
		else
			s->parent->children = s->next_sibling;
		if (s->next_sibling)
			s->next_sibling->prev_sibling = s->prev_sibling;
		pthread_mutex_unlock(&s->parent->lock);
	}
	pthread_mutex_destroy(&s->lock);
	free(s->entries);
	free(s);
}

SCALES_API int scales_scope_release(scales_scope **scope)
{
	if (!scope || !*scope)
		return -EINVAL;
	scope_release(*scope);
	*scope = NULL;
	return 0;
}

/* ------------------------------------------------------------ dict stats */

static int dict_init(scales_registry *reg, const char *path,
                     const char *key_label, const struct scales_info *info,
                     scales_dict *out, scales_scope *scope)
{
	memset(out, 0, sizeof *out);
	int rc;
	struct index_node n;
	uint32_t key_ref = 0;
	if (key_label) {
		/* the dict records its keys' label name (param[0]); each key's
		 * counter the list of its scope plus that one */
		scales_registry *r = scope ? scope->reg : reg;
		rc = reg_check(r);
		if (rc)
			return rc;
		if (!path)
			return -EINVAL;
		size_t kl = strnlen(key_label, SCALES_SHM_LABEL_MAX + 1);
		size_t pl = strnlen(path, SCALES_PATH_MAX + 1);
		if (!scales_shm_label_name_ok(key_label, kl))
			return SCALES_E_LABEL;
		rc = string_intern(r, key_label, kl, &key_ref);
		if (rc)
			return count_refused(r, rc);
		/* the key: the component after the dict's path (a scope's
		 * name is relative: one component more than its "/") */
		size_t k = scales_shm_components(path, pl) + 1;
		if (scope)
			k += scales_shm_components(scope->path,
			                           scope->path_len) +
			     1;
		char keys[LABELS_LEN];
		rc = labels_add(r, scope ? scope->labels : "",
		                scope ? scope->nlabels : 0, key_label, k, keys,
		                &out->labels);
		if (rc)
			return rc;
	} else if (scope) {
		out->labels = scope->labels_ref;
	}
	if (scope) {
		rc = scope_register(scope, path, SCALES_SHM_DICT, info, NULL,
		                    key_ref, &n);
		if (!rc)
			rc = join_path(out->path, sizeof out->path, scope->path,
			               path);
		reg = scope->reg;
	} else {
		rc = stat_register(reg, path, SCALES_SHM_DICT, info, NULL,
		                   key_ref, &n);
		if (!rc && strlen(path) < sizeof out->path)
			strcpy(out->path, path);
	}
	if (rc) {
		out->labels = 0;
		return rc;
	}
	out->reg = reg;
	out->scope = scope;
	out->path_len = (uint16_t)strlen(out->path);
	return 0;
}

SCALES_API int scales_dict_get(scales_registry *reg, const char *path,
                               const struct scales_info *info, scales_dict *out)
{
	return scales_labelled_dict_get(reg, path, NULL, info, out);
}

SCALES_API int scales_labelled_dict_get(scales_registry *reg, const char *path,
                                        const char *key_label,
                                        const struct scales_info *info,
                                        scales_dict *out)
{
	if (!out)
		return -EINVAL;
	return dict_init(reg, path, key_label, info, out, NULL);
}

SCALES_API int scales_scope_labelled_dict(scales_scope *s, const char *name,
                                          const char *key_label,
                                          const struct scales_info *info,
                                          scales_dict *out)
{
	if (!out)
		return -EINVAL;
	if (!s) {
		memset(out, 0, sizeof *out);
		return -EINVAL;
	}
	return dict_init(s->reg, name, key_label, info, out, s);
}

SCALES_API int scales_scope_dict(scales_scope *s, const char *name,
                                 const struct scales_info *info,
                                 scales_dict *out)
{
	if (!out)
		return -EINVAL;
	if (!s) {
		memset(out, 0, sizeof *out);
		return -EINVAL;
	}
	return dict_init(s->reg, name, NULL, info, out, s);
}

SCALES_API int scales_dict_key(scales_dict *d, const char *key,
                               scales_counter *out)
{
	if (!out)
		return -EINVAL;
	scales_counter_sink(out);
	if (!d || !d->reg || !key)
		return -EINVAL;
	/* the key as one escaped component (shm/path.c, the rule of derived
	 * paths, so readers decode both alike) right after "<dict path>/" */
	char path[SCALES_SHM_ESCAPED_MAX(SCALES_SHM_PATH_MAX)];
	size_t pl = d->path_len;
	if (pl + 2 > SCALES_SHM_PATH_MAX)
		return SCALES_E_PATH;
	memcpy(path, d->path, pl);
	path[pl] = '/';
	int kl = scales_shm_key_component(key, SCALES_SHM_PATH_MAX - 2 - pl,
	                                  path + pl + 1);
	if (kl == -1)
		return SCALES_E_KEY_UTF8;
	if (kl < 0)
		return SCALES_E_KEY_LONG;
	struct index_node n;
	int rc = stat_register_labelled(d->reg, path, SCALES_SHM_COUNTER, NULL,
	                                NULL, 0, d->labels, &n);
	if (!rc && d->scope)
		rc = scope_remember(d->scope, &n);
	handle_out(SCALES_SHM_COUNTER, rc, &n, out);
	return rc;
}

SCALES_API int scales_dict_add(scales_dict *d, const char *key, uint64_t n)
{
	scales_counter c;
	int rc = scales_dict_key(d, key, &c);
	if (!rc)
		scales_counter_add(&c, n);
	return rc;
}
