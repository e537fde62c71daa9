/* SPDX-License-Identifier: MIT */
/*
 * _scales: the CPython binding of libscales. One registry per process,
 * opened on first use; handle objects whose methods run the inline hot path
 * of <scales/scales.h>; and IntStatBase, a data descriptor in C so that the
 * seed's `obj.countStat += 1` costs two slot calls and one atomic add
 * (greplin/scales/__init__.py builds the seed's API on these).
 *
 * Statistics and whole-segment reads go through the reader library
 * (<scales/reader.h>), so that what Python shows is computed as
 * docs/format.md says, exactly as scales-top and scales-export compute it.
 *
 * Nothing here aborts the host: library errors become Python exceptions
 * (scales.ScalesError, a subclass of ValueError for path errors).
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <structmember.h>

#include <math.h>
#include <string.h>

#include <scales/reader.h>
#include <scales/scales.h>

#include "scales_shm.h" /* the escaping rule of names and keys */

static scales_registry *g_reg;
/* Bumped by reset(): handles of an older generation are rebound before
 * use, since reset() retired the stats they point at. */
static uint64_t g_gen = 1;
static PyObject *ScalesError;
static PyObject *PathError;

static PyObject *raise_err(int rc, const char *what)
{
	PyObject *type = rc == SCALES_E_PATH ? PathError : ScalesError;
	PyErr_Format(type, "%s: %s", what, scales_strerror(rc));
	return NULL;
}

static int ensure_open(void)
{
	if (g_reg)
		return 0;
	struct scales_options o;
	scales_options_init(&o);
	int rc = scales_open(&o, &g_reg);
	if (rc < 0) {
		PyErr_Format(ScalesError, "scales_open: %s (%s)",
		             scales_strerror(rc), scales_error_detail());
		return -1;
	}
	return 0;
}

static PyObject *mod_open(PyObject *self, PyObject *args, PyObject *kw)
{
	static char *kwlist[] = { "app", "dir", "keep", NULL };
	const char *app = NULL, *dir = NULL;
	int keep = 0;
	if (!PyArg_ParseTupleAndKeywords(args, kw, "|zzp", kwlist, &app, &dir,
	                                 &keep))
		return NULL;
	if (g_reg) {
		PyErr_SetString(ScalesError,
		                "open(): the registry is already open (open() "
		                "must come before the first stat)");
		return NULL;
	}
	struct scales_options o;
	scales_options_init(&o);
	o.app = app;
	o.dir = dir;
	if (keep)
		o.flags |= SCALES_KEEP_SEGMENT;
	int rc = scales_open(&o, &g_reg);
	if (rc < 0) {
		PyErr_Format(ScalesError, "scales_open: %s (%s)",
		             scales_strerror(rc), scales_error_detail());
		return NULL;
	}
	return PyUnicode_FromString(scales_registry_path(g_reg));
}

static scales_segment *g_seg; /* this process's segment, read by mod_read */

static PyObject *mod_close(PyObject *self, PyObject *unused)
{
	scales_segment_close(&g_seg);
	if (g_reg) {
		scales_close(&g_reg);
		g_gen++;
	}
	Py_RETURN_NONE;
}

static PyObject *mod_path(PyObject *self, PyObject *unused)
{
	if (ensure_open() < 0)
		return NULL;
	return PyUnicode_FromString(scales_registry_path(g_reg));
}

static PyObject *mod_is_open(PyObject *self, PyObject *unused)
{
	return PyBool_FromLong(g_reg != NULL);
}

static PyObject *mod_reset(PyObject *self, PyObject *unused)
{
	if (g_reg) {
		int rc = scales_reset(g_reg);
		if (rc < 0)
			return raise_err(rc, "reset");
	}
	g_gen++;
	Py_RETURN_NONE;
}

static PyObject *mod_retire(PyObject *self, PyObject *args)
{
	const char *path;
	int tree = 0;
	if (!PyArg_ParseTuple(args, "s|p", &path, &tree))
		return NULL;
	if (!g_reg)
		Py_RETURN_FALSE;
	int rc =
	    tree ? scales_retire_tree(g_reg, path) : scales_retire(g_reg, path);
	if (rc == -ENOENT)
		Py_RETURN_FALSE;
	if (rc < 0)
		return raise_err(rc, path);
	Py_RETURN_TRUE;
}

static PyObject *mod_path_check(PyObject *self, PyObject *args)
{
	const char *path;
	if (!PyArg_ParseTuple(args, "s", &path))
		return NULL;
	return PyBool_FromLong(scales_path_check(path) == 0);
}

static PyObject *mod_component(PyObject *self, PyObject *arg)
{
	/* one path component for a name or dict key: the escaping of
	 * docs/format.md ("Dict keys"), the writer's own (shm/path.c) */
	if (!PyUnicode_Check(arg)) {
		PyErr_SetString(PyExc_TypeError, "component() takes a str");
		return NULL;
	}
	Py_ssize_t n;
	const char *u = PyUnicode_AsUTF8AndSize(arg, &n);
	if (!u) {
		PyErr_Clear(); /* a lone surrogate: no UTF-8 form */
		PyErr_Format(
		    PathError,
		    "%R is not valid UTF-8 (it holds a lone surrogate); "
		    "the segment holds UTF-8 names and dict keys only",
		    arg);
		return NULL;
	}
	if (memchr(u, 0, (size_t)n)) {
		PyErr_Format(PathError,
		             "%R holds a NUL character, which no name or dict "
		             "key of the segment can hold",
		             arg);
		return NULL;
	}
	if ((size_t)n >= SCALES_SHM_PATH_MAX) {
		PyErr_Format(PathError,
		             "%R is %zd bytes long; the segment holds paths of "
		             "at most 255 bytes (docs/migrating-from-python-"
		             "scales.md)",
		             arg, n);
		return NULL;
	}
	char out[SCALES_SHM_ESCAPED_MAX(SCALES_SHM_PATH_MAX)];
	size_t len = scales_shm_escape_component(u, (size_t)n, out);
	return PyUnicode_FromStringAndSize(out, (Py_ssize_t)len);
}

static PyObject *mod_dict(PyObject *self, PyObject *args)
{
	/* marks path as a dict, so that readers show its children as keys */
	const char *path;
	if (!PyArg_ParseTuple(args, "s", &path))
		return NULL;
	if (ensure_open() < 0)
		return NULL;
	scales_dict d;
	int rc = scales_dict_get(g_reg, path, NULL, &d);
	if (rc)
		return raise_err(rc, path);
	Py_RETURN_NONE;
}

static PyObject *mod_declare(PyObject *self, PyObject *args)
{
	/* Aggregates for readers: kind "sum" or "states" of child_stat
	 * under the root scope path. */
	const char *path, *kind, *child;
	if (!PyArg_ParseTuple(args, "sss", &path, &kind, &child))
		return NULL;
	if (ensure_open() < 0)
		return NULL;
	scales_scope *s = NULL;
	int rc = scales_scope_root(g_reg, &s, "%s", path);
	if (rc == 0)
		rc = strcmp(kind, "sum") == 0 ?
		         scales_scope_sum(s, child, NULL) :
		         scales_scope_states(s, child, NULL);
	/* The declaration lives in the segment; the scope object is only
	 * the means to write it. It is deliberately kept (releasing it would
	 * retire the declaration). */
	if (rc < 0)
		return raise_err(rc, path);
	Py_RETURN_NONE;
}

/* ------------------------------------------------------------- handles */

enum hkind {
	H_GAUGE,
	H_F64,
	H_STATE,
	H_HIST,
	H_COUNTER
};

typedef struct {
	PyObject_HEAD uint64_t gen;
	int kind;
	int64_t last; /* IntStatBase: the value the last __get__ returned */
	int have_last;
	PyObject *path;
	PyObject *state_str; /* H_STATE: what this process last set */
	union {
		scales_gauge g;
		scales_gauge_f64 f;
		scales_state s;
		scales_histogram h;
		scales_counter c;
	} u;
} Handle;

static PyTypeObject HandleType;

static int handle_bind(Handle *h)
{
	const char *path = PyUnicode_AsUTF8(h->path);
	if (!path || ensure_open() < 0)
		return -1;
	int rc = 0;
	struct scales_info secs = { NULL, SCALES_UNIT_SECONDS };
	switch (h->kind) {
	case H_GAUGE:
		rc = scales_gauge_get(g_reg, path, NULL, &h->u.g);
		break;
	case H_F64:
		rc = scales_gauge_f64_get(g_reg, path, NULL, &h->u.f);
		break;
	case H_STATE:
		rc = scales_state_get(g_reg, path, NULL, &h->u.s);
		break;
	case H_HIST:
		rc = scales_histogram_get(g_reg, path, &secs, NULL, &h->u.h);
		break;
	case H_COUNTER:
		rc = scales_counter_get(g_reg, path, NULL, &h->u.c);
		break;
	}
	if (rc < 0) {
		raise_err(rc, path);
		return -1;
	}
	h->gen = g_gen;
	h->have_last = 0;
	return 0;
}

/* Rebinds a handle of an older generation (after reset()). */
static inline int handle_ok(Handle *h)
{
	if (SCALES_LIKELY(h->gen == g_gen))
		return 0;
	return handle_bind(h);
}

static PyObject *make_handle(int kind, PyObject *path)
{
	if (!PyUnicode_Check(path)) {
		PyErr_SetString(PyExc_TypeError, "path must be a str");
		return NULL;
	}
	Handle *h = PyObject_New(Handle, &HandleType);
	if (!h)
		return NULL;
	h->kind = kind;
	h->gen = 0;
	h->have_last = 0;
	h->last = 0;
	h->state_str = NULL;
	Py_INCREF(path);
	h->path = path;
	if (handle_bind(h) < 0) {
		Py_DECREF(h);
		return NULL;
	}
	return (PyObject *)h;
}

#define MAKER(fn, kind)                                                        \
	static PyObject *fn(PyObject *self, PyObject *path)                    \
	{                                                                      \
		return make_handle(kind, path);                                \
	}
MAKER(mod_gauge, H_GAUGE)
MAKER(mod_gauge_f64, H_F64)
MAKER(mod_state, H_STATE)
MAKER(mod_histogram, H_HIST)
MAKER(mod_counter, H_COUNTER)

static void handle_dealloc(Handle *h)
{
	Py_XDECREF(h->path);
	Py_XDECREF(h->state_str);
	PyObject_Free(h);
}

static PyObject *handle_repr(Handle *h)
{
	static const char *names[] = { "gauge", "gauge_f64", "state",
		                       "histogram", "counter" };
	return PyUnicode_FromFormat("<scales %s %U>", names[h->kind], h->path);
}

static int need(Handle *h, int kind)
{
	if (h->kind != kind) {
		PyErr_SetString(PyExc_TypeError,
		                "operation not supported by this kind of stat");
		return -1;
	}
	return handle_ok(h);
}

/* The word at byte offset off from base. */
static uint64_t word_at(const uint64_t *base, uint64_t off)
{
	return __atomic_load_n(
	    (const uint64_t *)(const void *)((const char *)base + off),
	    __ATOMIC_RELAXED);
}

/* The sum of one striped word over the slots in use (each CPU's, through
 * the handle's slot map: a slot belongs to one CPU) and the shared
 * stripe; a slot at or past limit holds no such word (format.md 8). */
static uint64_t stripe_sum(const uint64_t *base, const uint64_t *slots,
                           uint16_t ncpu, uint64_t limit, uint64_t shared)
{
	uint64_t s = word_at(base, shared);
	for (uint32_t c = 0; slots && c < ncpu; c++) {
		/* Acquire: the slot's words were reserved before its entry. */
		uint64_t at = __atomic_load_n(&slots[c], __ATOMIC_ACQUIRE);
		if (at < limit)
			s += word_at(base, at);
	}
	return s;
}

static PyObject *h_get(Handle *h, PyObject *unused)
{
	if (handle_ok(h) < 0)
		return NULL;
	switch (h->kind) {
	case H_GAUGE:
		return PyLong_FromLongLong(
		    __atomic_load_n(h->u.g.value, __ATOMIC_RELAXED));
	case H_F64: {
		double d;
		__atomic_load(h->u.f.value, &d, __ATOMIC_RELAXED);
		return PyFloat_FromDouble(d);
	}
	case H_STATE:
		if (h->state_str) {
			Py_INCREF(h->state_str);
			return h->state_str;
		}
		return PyUnicode_FromString("");
	case H_COUNTER:
		return PyLong_FromUnsignedLongLong(
		    stripe_sum(h->u.c.base, h->u.c.slots, h->u.c.ncpu,
		               h->u.c.shared, h->u.c.shared));
	}
	PyErr_SetString(PyExc_TypeError, "use snapshot() on a histogram");
	return NULL;
}

static PyObject *h_set(Handle *h, PyObject *v)
{
	if (handle_ok(h) < 0)
		return NULL;
	switch (h->kind) {
	case H_GAUGE: {
		long long x = PyLong_AsLongLong(v);
		if (x == -1 && PyErr_Occurred())
			return NULL;
		scales_gauge_set(&h->u.g, x);
		break;
	}
	case H_F64: {
		double d = PyFloat_AsDouble(v);
		if (d == -1.0 && PyErr_Occurred())
			return NULL;
		scales_gauge_f64_set(&h->u.f, d);
		break;
	}
	case H_STATE: {
		const char *s = PyUnicode_AsUTF8(v);
		if (!s)
			return NULL;
		int rc = scales_state_set_str(&h->u.s, s);
		if (rc < 0)
			return raise_err(rc, "state value");
		Py_INCREF(v);
		Py_XSETREF(h->state_str, v);
		break;
	}
	default:
		PyErr_SetString(PyExc_TypeError,
		                "set() needs a gauge or state");
		return NULL;
	}
	Py_RETURN_NONE;
}

static PyObject *h_add(Handle *h, PyObject *v)
{
	if (handle_ok(h) < 0)
		return NULL;
	if (h->kind == H_F64) {
		double d = PyFloat_AsDouble(v);
		if (d == -1.0 && PyErr_Occurred())
			return NULL;
		scales_gauge_f64_add(&h->u.f, d);
		Py_RETURN_NONE;
	}
	long long x = PyLong_AsLongLong(v);
	if (x == -1 && PyErr_Occurred())
		return NULL;
	if (h->kind == H_GAUGE) {
		scales_gauge_add(&h->u.g, x);
	} else if (h->kind == H_COUNTER) {
		if (x < 0) {
			PyErr_SetString(PyExc_ValueError,
			                "a counter only goes up");
			return NULL;
		}
		scales_counter_add(&h->u.c, (uint64_t)x);
	} else {
		PyErr_SetString(PyExc_TypeError,
		                "add() needs a gauge or counter");
		return NULL;
	}
	Py_RETURN_NONE;
}

static PyObject *h_inc(Handle *h, PyObject *unused)
{
	if (need(h, H_COUNTER) < 0)
		return NULL;
	scales_counter_inc(&h->u.c);
	Py_RETURN_NONE;
}

/* Seconds (a float) to raw nanoseconds; negatives and NaN count as 0. */
static uint64_t secs_to_ns(double s)
{
	if (!(s > 0))
		return 0;
	if (s > 1.8e10)
		return UINT64_MAX;
	return (uint64_t)llround(s * 1e9);
}

static PyObject *h_record(Handle *h, PyObject *v)
{
	if (need(h, H_HIST) < 0)
		return NULL;
	double d = PyFloat_AsDouble(v);
	if (d == -1.0 && PyErr_Occurred())
		return NULL;
	scales_histogram_record(&h->u.h, secs_to_ns(d));
	Py_RETURN_NONE;
}

/* A double, or None for the reader's "no value" (NaN). */
static PyObject *num_or_none(double v)
{
	if (isnan(v))
		Py_RETURN_NONE;
	return PyFloat_FromDouble(v);
}

/* The reader's statistics of a histogram as a dict: count, sum, min, max,
 * mean, stddev, p50 ... p999 (None where count is 0). */
static PyObject *hstats_dict(const struct scales_histo *hs)
{
	struct scales_hstats st;
	scales_histo_stats(hs, &st);
	const struct {
		const char *k;
		double v;
	} f[] = { { "sum", st.sum },       { "min", st.min },
		  { "max", st.max },       { "mean", st.mean },
		  { "stddev", st.stddev }, { "p50", st.p50 },
		  { "p75", st.p75 },       { "p95", st.p95 },
		  { "p98", st.p98 },       { "p99", st.p99 },
		  { "p999", st.p999 } };
	PyObject *d =
	    Py_BuildValue("{s:K}", "count", (unsigned long long)st.count);
	for (size_t i = 0; d && i < sizeof f / sizeof f[0]; i++) {
		PyObject *v = num_or_none(f[i].v);
		if (!v || PyDict_SetItemString(d, f[i].k, v) < 0)
			Py_CLEAR(d);
		Py_XDECREF(v);
	}
	return d;
}

/*
 * This process's view of the histogram (the segment's words, every stripe
 * summed), as the reader library computes it from a snapshot
 * (docs/format.md, section 6.1): the stats of hstats_dict() and, for each
 * q asked for, the key q with the nearest-rank quantile.
 */
static PyObject *h_snapshot(Handle *h, PyObject *args)
{
	PyObject *qs = NULL;
	if (!PyArg_ParseTuple(args, "|O", &qs))
		return NULL;
	if (need(h, H_HIST) < 0)
		return NULL;
	const scales_histogram *hh = &h->u.h;
	uint32_t nb = hh->last_bucket + 1;
	uint64_t *counts = PyMem_Calloc(nb, sizeof *counts);
	if (!counts)
		return PyErr_NoMemory();
	struct scales_histo hs = { 0 };
	for (uint32_t i = 0; i < nb; i++) {
		counts[i] = stripe_sum(hh->base + 1 + i, hh->slots, hh->ncpu,
		                       hh->limit, hh->shared);
		hs.count += counts[i];
	}
	/* Word 0, the sum, added without wrapping (format.md, section 8). */
	hs.sum = word_at(hh->base, hh->shared);
	for (uint32_t c = 0; hh->slots && c < hh->ncpu; c++) {
		uint64_t at = __atomic_load_n(&hh->slots[c], __ATOMIC_ACQUIRE);
		if (at < hh->limit)
			hs.sum_hi +=
			    __builtin_add_overflow(hs.sum,
			                           word_at(hh->base, at),
			                           &hs.sum);
	}
	hs.min = __atomic_load_n(&hh->minmax[0], __ATOMIC_RELAXED);
	hs.max = __atomic_load_n(&hh->minmax[1], __ATOMIC_RELAXED);
	hs.scale = 1e-9; /* the writer's scale for a histogram in seconds */
	hs.sub_bits = hh->sub_bits;
	hs.unit_shift = hh->unit_shift;
	hs.nbuckets = nb;
	hs.buckets = counts;
	if (hs.count && hs.min > hs.max) {
		/* A record whose min or max has not landed yet: the range of
		 * the non-empty buckets (format.md, section 6.1, step 2). */
		uint32_t lo = 0, hi = 0;
		while (!counts[lo])
			lo++;
		for (uint32_t i = 0; i < nb; i++)
			if (counts[i])
				hi = i;
		uint64_t a, w;
		scales_histo_bucket_range(&hs, lo, &hs.min, &w);
		scales_histo_bucket_range(&hs, hi, &a, &w);
		hs.max = a + (w - 1);
	}
	PyObject *d = hstats_dict(&hs);
	if (d && qs && qs != Py_None) {
		PyObject *it = PyObject_GetIter(qs), *q;
		while (it && (q = PyIter_Next(it))) {
			double p = PyFloat_AsDouble(q);
			PyObject *pv = NULL;
			if (!(p == -1.0 && PyErr_Occurred()))
				pv = num_or_none(scales_histo_quantile(&hs, p));
			if (!pv || PyDict_SetItem(d, q, pv) < 0) {
				Py_XDECREF(pv);
				Py_DECREF(q);
				break;
			}
			Py_DECREF(pv);
			Py_DECREF(q);
		}
		Py_XDECREF(it);
		if (PyErr_Occurred())
			Py_CLEAR(d);
	}
	PyMem_Free(counts);
	return d;
}

/* ------------------------------------------------------------- reading */

static PyObject *metric_value(const struct scales_metric *m)
{
	switch (m->kind) {
	case SCALES_KIND_COUNTER:
	case SCALES_KIND_DICT:
		return PyLong_FromUnsignedLongLong(m->v.u64);
	case SCALES_KIND_GAUGE:
		return PyLong_FromLongLong(m->v.i64);
	case SCALES_KIND_GAUGE_F64:
		return PyFloat_FromDouble(m->v.f64);
	case SCALES_KIND_STATE:
		if (!m->v.state)
			Py_RETURN_NONE;
		return PyUnicode_DecodeUTF8(m->v.state, strlen(m->v.state),
		                            "replace");
	case SCALES_KIND_HISTOGRAM:
		return hstats_dict(&m->side->hist);
	}
	Py_RETURN_NONE;
}

static PyObject *snapshot_dict(const struct scales_snapshot *snap)
{
	PyObject *d = PyDict_New();
	for (size_t i = 0; d && i < snap->n; i++) {
		const struct scales_metric *m = &snap->metrics[i];
		PyObject *v = metric_value(m);
		PyObject *t =
		    v ? Py_BuildValue("(sN)", scales_kind_name(m->kind), v) :
		        NULL;
		if (!t || PyDict_SetItemString(d, m->path, t) < 0)
			Py_CLEAR(d);
		Py_XDECREF(t);
	}
	return d;
}

/*
 * The live processes of this process's app in its segment's directory,
 * merged as scales-top -m and scales-export merge them (a pre-forked
 * server whose workers each opened a segment); NULL without an exception
 * if this process's segment is not among them (then read() reads it
 * alone).
 */
static PyObject *read_app(void)
{
	const char *path = scales_registry_path(g_reg);
	const char *slash = strrchr(path, '/');
	char app[64], err[256];
	if (!slash ||
	    !scales_parse_seg_name(slash + 1, app, sizeof app, NULL, NULL))
		return NULL;
	char *dir = PyMem_Malloc((size_t)(slash - path) + 1);
	if (!dir)
		return PyErr_NoMemory();
	memcpy(dir, path, (size_t)(slash - path));
	dir[slash - path] = '\0';
	const char *sel[1] = { app };
	struct scales_collector_options o = {
		.dir = dir,
		.selectors = sel,
		.nselectors = 1,
		.flags = SCALES_COLLECT_MERGE,
	};
	scales_collector *c = NULL;
	PyObject *d = NULL;
	if (scales_collector_new(&o, &c)) {
		PyMem_Free(dir);
		return PyErr_NoMemory();
	}
	if (scales_collector_collect(c, err, sizeof err) == 0) {
		size_t n;
		const struct scales_group *g = scales_collector_groups(c, &n);
		for (size_t i = 0; i < n && !d && !PyErr_Occurred(); i++) {
			for (uint32_t k = 0; k < g[i].nmembers; k++) {
				const char *mp = g[i].members[k]->segment_path;
				const char *ms = mp ? strrchr(mp, '/') : NULL;
				if (ms && strcmp(ms, slash) == 0) {
					d = snapshot_dict(g[i].cur);
					break;
				}
			}
		}
	}
	scales_collector_free(&c);
	PyMem_Free(dir);
	return d;
}

/*
 * read(app=False): this process's segment as the reader library sees it,
 * aggregates computed: {path: (kind, value)}, kind as scales_kind_name(),
 * value an int, a float, a str (None: a state never set) or a
 * histogram's statistics (hstats_dict()). The segment is shared with
 * forked children, so this is what scales-top shows for the whole family.
 * With app=True: every live process of this process's app, merged
 * (scales-top -m, scales-export).
 */
static PyObject *mod_read(PyObject *self, PyObject *args, PyObject *kw)
{
	static char *kwlist[] = { "app", NULL };
	int app = 0;
	char err[256];
	if (!PyArg_ParseTupleAndKeywords(args, kw, "|p", kwlist, &app))
		return NULL;
	if (ensure_open() < 0)
		return NULL;
	if (app) {
		PyObject *d = read_app();
		if (d || PyErr_Occurred())
			return d;
	}
	if (!g_seg) {
		int rc = scales_segment_open(scales_registry_path(g_reg), 0,
		                             &g_seg, err, sizeof err);
		if (rc < 0) {
			PyErr_Format(ScalesError, "reading the segment: %s",
			             err);
			return NULL;
		}
	}
	struct scales_snapshot *snap = NULL;
	int rc = scales_snapshot_take(g_seg, 0, &snap, err, sizeof err);
	if (rc < 0) {
		PyErr_Format(ScalesError, "reading the segment: %s", err);
		return NULL;
	}
	PyObject *d = snapshot_dict(snap);
	scales_snapshot_free(&snap);
	return d;
}

/* ------------------------------------------------------------- timers */

typedef struct {
	PyObject_HEAD Handle *h;
	uint64_t t0;
	int discard;
} Timer;

static PyTypeObject TimerType;

static PyObject *h_time(Handle *h, PyObject *unused)
{
	if (need(h, H_HIST) < 0)
		return NULL;
	Timer *t = PyObject_New(Timer, &TimerType);
	if (!t)
		return NULL;
	Py_INCREF(h);
	t->h = h;
	t->t0 = 0;
	t->discard = 0;
	return (PyObject *)t;
}

static void timer_dealloc(Timer *t)
{
	Py_XDECREF(t->h);
	PyObject_Free(t);
}

static PyObject *timer_enter(Timer *t, PyObject *unused)
{
	t->discard = 0;
	t->t0 = scales_timer_start(&t->h->u.h);
	Py_INCREF(t);
	return (PyObject *)t;
}

/* METH_FASTCALL: `with` calls it with three arguments; no tuple. */
static PyObject *timer_exit(Timer *t, PyObject *const *args, Py_ssize_t nargs)
{
	if (!t->discard && handle_ok(t->h) == 0)
		scales_timer_stop(&t->h->u.h, t->t0);
	if (PyErr_Occurred())
		return NULL;
	Py_RETURN_FALSE;
}

static PyObject *timer_discard(Timer *t, PyObject *unused)
{
	t->discard = 1;
	Py_RETURN_NONE;
}

/* The seed's warn99(logger, msg, *args): accepted, never fires (the
 * writer keeps no percentiles; readers compute them). */
static PyObject *timer_warn99(Timer *t, PyObject *args)
{
	Py_RETURN_NONE;
}

static PyMethodDef timer_methods[] = {
	{ "__enter__", (PyCFunction)timer_enter, METH_NOARGS, NULL },
	{ "__exit__", (PyCFunction)(void (*)(void))timer_exit, METH_FASTCALL,
	  NULL },
	{ "discard", (PyCFunction)timer_discard, METH_NOARGS,
	  "Do not record this sample." },
	{ "warn99", (PyCFunction)timer_warn99, METH_VARARGS, NULL },
	{ NULL }
};

static PyTypeObject TimerType = {
	PyVarObject_HEAD_INIT(NULL, 0).tp_name = "_scales.Timer",
	.tp_basicsize = sizeof(Timer),
	.tp_dealloc = (destructor)timer_dealloc,
	.tp_flags = Py_TPFLAGS_DEFAULT,
	.tp_methods = timer_methods,
};

static PyMethodDef handle_methods[] = {
	{ "get", (PyCFunction)h_get, METH_NOARGS, "The value (this process)." },
	{ "set", (PyCFunction)h_set, METH_O, "Sets a gauge or state." },
	{ "add", (PyCFunction)h_add, METH_O, "Adds to a gauge or counter." },
	{ "inc", (PyCFunction)h_inc, METH_NOARGS, "Adds 1 to a counter." },
	{ "record", (PyCFunction)h_record, METH_O,
	  "Records a value in seconds into a histogram." },
	{ "time", (PyCFunction)h_time, METH_NOARGS,
	  "A context manager timing its block into the histogram." },
	{ "snapshot", (PyCFunction)h_snapshot, METH_VARARGS,
	  "count, sum, min, max and the given quantiles of a histogram." },
	{ NULL }
};

static PyMemberDef handle_members[] = {
	{ "path", T_OBJECT, offsetof(Handle, path), READONLY, NULL }, { NULL }
};

static PyTypeObject HandleType = {
	PyVarObject_HEAD_INIT(NULL, 0).tp_name = "_scales.Handle",
	.tp_basicsize = sizeof(Handle),
	.tp_dealloc = (destructor)handle_dealloc,
	.tp_repr = (reprfunc)handle_repr,
	.tp_flags = Py_TPFLAGS_DEFAULT,
	.tp_methods = handle_methods,
	.tp_members = handle_members,
};

/* --------------------------------------------------- IntStatBase (C) */

/*
 * A data descriptor: obj.stat reads the gauge of obj's stat, and
 * obj.stat = v writes it. The gauge handle lives in obj.__dict__ under
 * self->key; the first access calls self._bind(obj) (Python) to register
 * it. `obj.stat += n` is a read then a write: the write adds v - (the value
 * this handle last read) to the gauge, so that forked workers' += add up
 * instead of overwriting each other. A write without a read before it
 * stores v.
 */
typedef struct {
	PyObject_HEAD PyObject *name;
	PyObject *key;
	PyObject *dict; /* the Python subclass's instance __dict__ */
	/* The last instance seen, by a weak reference, and its handle:
	 * `obj.stat += 1` finds the handle by one pointer compare instead of
	 * two dict lookups. The reference is weak so that the cache keeps
	 * no instance (nor its attributes) alive, and a dead instance never
	 * matches a new one at its address. */
	PyObject *cref;
	Handle *ch;
	PyObject *cval; /* PmfStatBase: the value under key (a PmfStatDict) */
} StatBase;

static PyObject *str_bind;

static int statbase_init(StatBase *self, PyObject *args, PyObject *kw)
{
	PyObject *name;
	if (!PyArg_ParseTuple(args, "U|O", &name, &(PyObject *){ NULL }))
		return -1;
	Py_INCREF(name);
	Py_XSETREF(self->name, name);
	Py_XSETREF(self->key, PyUnicode_FromFormat("__scales_h_%U", name));
	if (!self->key)
		return -1;
	PyUnicode_InternInPlace(&self->key);
	return 0;
}

static void statbase_dealloc(StatBase *self)
{
	PyObject_GC_UnTrack(self);
	Py_XDECREF(self->name);
	Py_XDECREF(self->key);
	Py_XDECREF(self->dict);
	Py_XDECREF(self->cref);
	Py_XDECREF(self->ch);
	Py_XDECREF(self->cval);
	Py_TYPE(self)->tp_free((PyObject *)self);
}

static int statbase_traverse(StatBase *self, visitproc visit, void *arg)
{
	Py_VISIT(self->dict);
	Py_VISIT(self->cref);
	Py_VISIT(self->ch);
	Py_VISIT(self->cval);
	return 0;
}

static int statbase_clear(StatBase *self)
{
	Py_CLEAR(self->dict);
	Py_CLEAR(self->cref);
	Py_CLEAR(self->ch);
	Py_CLEAR(self->cval);
	return 0;
}

/* Whether obj is the instance the cache holds. */
static inline int cached(StatBase *self, PyObject *obj)
{
	if (!self->cref)
		return 0;
#if PY_VERSION_HEX >= 0x030D0000
	PyObject *o;
	if (PyWeakref_GetRef(self->cref, &o) <= 0)
		return 0;
	Py_DECREF(o);
	return o == obj;
#else
	return PyWeakref_GET_OBJECT(self->cref) == obj;
#endif
}

/* Caches obj's handle (and PmfStatBase's value). An object that takes no
 * weak reference is not cached (its lookups stay dict lookups). */
static void cache_set(StatBase *self, PyObject *obj, Handle *h, PyObject *val)
{
	PyObject *wr = PyWeakref_NewRef(obj, NULL);
	if (!wr) {
		PyErr_Clear();
		return;
	}
	/* All set before the old ones are released: a release may run
	 * Python code that uses this descriptor. */
	PyObject *oref = self->cref, *ov = self->cval;
	Handle *oh = self->ch;
	Py_INCREF(h);
	Py_XINCREF(val);
	self->cref = wr;
	self->ch = h;
	self->cval = val;
	Py_XDECREF(oref);
	Py_XDECREF(ov);
	Py_XDECREF(oh);
}

/* The handle for obj: from obj.__dict__, else self._bind(obj). Borrowed or
 * new reference in *out (new in *owned). */
static Handle *statbase_handle(StatBase *self, PyObject *obj, PyObject **owned)
{
	*owned = NULL;
	if (cached(self, obj))
		return self->ch;
	PyObject **dp = _PyObject_GetDictPtr(obj);
	if (dp && *dp) {
		PyObject *h = PyDict_GetItemWithError(*dp, self->key);
		if (h && Py_TYPE(h) == &HandleType) {
			Py_INCREF(h);
			*owned = h;
			cache_set(self, obj, (Handle *)h, NULL);
			return (Handle *)h;
		}
		if (PyErr_Occurred())
			return NULL;
	}
	PyObject *h =
	    PyObject_CallMethodOneArg((PyObject *)self, str_bind, obj);
	if (!h)
		return NULL;
	if (Py_TYPE(h) != &HandleType) {
		Py_DECREF(h);
		PyErr_SetString(PyExc_TypeError,
		                "_bind() must return a handle");
		return NULL;
	}
	*owned = h;
	return (Handle *)h;
}

static PyObject *statbase_get(StatBase *self, PyObject *obj, PyObject *type)
{
	if (!obj || obj == Py_None) {
		Py_INCREF(self);
		return (PyObject *)self;
	}
	PyObject *owned;
	Handle *h = statbase_handle(self, obj, &owned);
	if (!h || handle_ok(h) < 0) {
		Py_XDECREF(owned);
		return NULL;
	}
	int64_t v = __atomic_load_n(h->u.g.value, __ATOMIC_RELAXED);
	h->last = v;
	h->have_last = 1;
	Py_XDECREF(owned);
	return PyLong_FromLongLong(v);
}

static int statbase_set(StatBase *self, PyObject *obj, PyObject *value)
{
	if (!value) {
		PyErr_SetString(PyExc_AttributeError,
		                "a stat cannot be deleted");
		return -1;
	}
	/* The value first: its __index__ may run Python code, which must
	 * not run while a borrowed cached handle is held. */
	long long v = PyLong_AsLongLong(value);
	if (v == -1 && PyErr_Occurred()) {
		if (PyErr_ExceptionMatches(PyExc_TypeError)) {
			PyErr_Format(PyExc_TypeError,
			             "IntStat %U takes an int, not %.100s",
			             self->name, Py_TYPE(value)->tp_name);
		}
		return -1;
	}
	PyObject *owned;
	Handle *h = statbase_handle(self, obj, &owned);
	if (!h || handle_ok(h) < 0) {
		Py_XDECREF(owned);
		return -1;
	}
	if (h->have_last) {
		/* Unsigned arithmetic: the delta wraps like the gauge. */
		scales_gauge_add(&h->u.g,
		                 (int64_t)((uint64_t)v - (uint64_t)h->last));
		h->have_last = 0;
	} else {
		scales_gauge_set(&h->u.g, v);
	}
	Py_XDECREF(owned);
	return 0;
}

static PyObject *statbase_getname(StatBase *self, PyObject *unused)
{
	Py_INCREF(self->name);
	return self->name;
}

static PyMethodDef statbase_methods[] = {
	{ "getName", (PyCFunction)statbase_getname, METH_NOARGS, NULL },
	{ NULL }
};

static PyTypeObject StatBaseType = {
	PyVarObject_HEAD_INIT(NULL, 0).tp_name = "_scales.IntStatBase",
	.tp_basicsize = sizeof(StatBase),
	.tp_dictoffset = offsetof(StatBase, dict),
	.tp_dealloc = (destructor)statbase_dealloc,
	.tp_traverse = (traverseproc)statbase_traverse,
	.tp_clear = (inquiry)statbase_clear,
	.tp_flags =
	    Py_TPFLAGS_DEFAULT | Py_TPFLAGS_BASETYPE | Py_TPFLAGS_HAVE_GC,
	.tp_init = (initproc)statbase_init,
	.tp_new = PyType_GenericNew,
	.tp_descr_get = (descrgetfunc)statbase_get,
	.tp_descr_set = (descrsetfunc)statbase_set,
	.tp_methods = statbase_methods,
};

/* --------------------------------------------------- PmfStatBase (C) */

/*
 * The seed's PmfStat as a data descriptor: obj.stat is the stat's summary
 * dict (a PmfStatDict, kept in obj.__dict__ under self->key, made by
 * self._dict(obj) on first use), and obj.stat = v records v seconds into
 * its histogram (the dict's _h). The last instance's dict, summary and
 * handle are cached, as IntStatBase does.
 */
static PyObject *str_dict, *str_h;

/* The summary and the handle for obj, as new references. */
static int pmf_lookup(StatBase *self, PyObject *obj, PyObject **val, Handle **h)
{
	if (cached(self, obj)) {
		Py_INCREF(self->cval);
		Py_INCREF(self->ch);
		*val = self->cval;
		*h = self->ch;
		return 0;
	}
	PyObject **dp = _PyObject_GetDictPtr(obj);
	PyObject *v = NULL;
	if (dp && *dp) {
		v = PyDict_GetItemWithError(*dp, self->key);
		if (!v && PyErr_Occurred())
			return -1;
		Py_XINCREF(v);
	}
	if (!v) {
		v = PyObject_CallMethodOneArg((PyObject *)self, str_dict, obj);
		if (!v)
			return -1;
	}
	PyObject *hh = PyObject_GetAttr(v, str_h);
	if (!hh || Py_TYPE(hh) != &HandleType) {
		if (hh)
			PyErr_SetString(PyExc_TypeError,
			                "a PmfStat's summary has no histogram");
		Py_XDECREF(hh);
		Py_DECREF(v);
		return -1;
	}
	cache_set(self, obj, (Handle *)hh, v);
	*val = v;
	*h = (Handle *)hh;
	return 0;
}

static PyObject *pmfbase_get(StatBase *self, PyObject *obj, PyObject *type)
{
	if (!obj || obj == Py_None) {
		Py_INCREF(self);
		return (PyObject *)self;
	}
	PyObject *v;
	Handle *h;
	if (pmf_lookup(self, obj, &v, &h) < 0)
		return NULL;
	Py_DECREF(h);
	return v;
}

static int pmfbase_set(StatBase *self, PyObject *obj, PyObject *value)
{
	if (!value) {
		PyErr_SetString(PyExc_AttributeError,
		                "a stat cannot be deleted");
		return -1;
	}
	/* The value first: its __float__ may run Python code. */
	double d = PyFloat_AsDouble(value);
	if (d == -1.0 && PyErr_Occurred())
		return -1;
	PyObject *v;
	Handle *h;
	if (pmf_lookup(self, obj, &v, &h) < 0)
		return -1;
	int rc = need(h, H_HIST);
	if (rc == 0)
		scales_histogram_record(&h->u.h, secs_to_ns(d));
	Py_DECREF(v);
	Py_DECREF(h);
	return rc;
}

static PyTypeObject PmfBaseType = {
	PyVarObject_HEAD_INIT(NULL, 0).tp_name = "_scales.PmfStatBase",
	.tp_basicsize = sizeof(StatBase),
	.tp_dictoffset = offsetof(StatBase, dict),
	.tp_dealloc = (destructor)statbase_dealloc,
	.tp_traverse = (traverseproc)statbase_traverse,
	.tp_clear = (inquiry)statbase_clear,
	.tp_flags =
	    Py_TPFLAGS_DEFAULT | Py_TPFLAGS_BASETYPE | Py_TPFLAGS_HAVE_GC,
	.tp_init = (initproc)statbase_init,
	.tp_new = PyType_GenericNew,
	.tp_descr_get = (descrgetfunc)pmfbase_get,
	.tp_descr_set = (descrsetfunc)pmfbase_set,
	.tp_methods = statbase_methods,
};

/* ------------------------------------------------------------- module */

static PyMethodDef mod_methods[] = {
	{ "open", (PyCFunction)(void (*)(void))mod_open,
	  METH_VARARGS | METH_KEYWORDS,
	  "open(app=None, dir=None, keep=False): open this process's segment "
	  "(before the first stat); returns its path." },
	{ "close", mod_close, METH_NOARGS, "Close the segment (removes it)." },
	{ "segment_path", mod_path, METH_NOARGS, "The segment file's path." },
	{ "is_open", mod_is_open, METH_NOARGS, "Whether the segment is open." },
	{ "reset", mod_reset, METH_NOARGS, "Retire every stat (for tests)." },
	{ "retire", mod_retire, METH_VARARGS,
	  "retire(path, tree=False): retire a stat (or a subtree)." },
	{ "path_ok", mod_path_check, METH_VARARGS, "Whether path is valid." },
	{ "component", mod_component, METH_O,
	  "component(s): s as one escaped path component (PathError if "
	  "it cannot be one)." },
	{ "dict", mod_dict, METH_VARARGS,
	  "dict(path): mark path as a dict (its children are keys)." },
	{ "declare", mod_declare, METH_VARARGS,
	  "declare(scope, 'sum'|'states', child_stat): an aggregate for readers." },
	{ "gauge", mod_gauge, METH_O, "A signed 64-bit gauge at path." },
	{ "gauge_f64", mod_gauge_f64, METH_O, "A double gauge at path." },
	{ "state", mod_state, METH_O, "A string state at path." },
	{ "histogram", mod_histogram, METH_O,
	  "A histogram in seconds at path." },
	{ "counter", mod_counter, METH_O, "A counter at path." },
	{ "read", (PyCFunction)(void (*)(void))mod_read,
	  METH_VARARGS | METH_KEYWORDS,
	  "read(app=False): this process's segment as readers see it, "
	  "{path: (kind, value)}; app=True: its app's live processes merged." },
	{ NULL }
};

static struct PyModuleDef moddef = {
	PyModuleDef_HEAD_INIT,
	.m_name = "_scales",
	.m_doc = "CPython binding of libscales (shared-memory metrics).",
	.m_size = -1,
	.m_methods = mod_methods,
};

PyMODINIT_FUNC PyInit__scales(void);

PyMODINIT_FUNC PyInit__scales(void)
{
	if (PyType_Ready(&HandleType) < 0 || PyType_Ready(&TimerType) < 0 ||
	    PyType_Ready(&StatBaseType) < 0 || PyType_Ready(&PmfBaseType) < 0)
		return NULL;
	str_bind = PyUnicode_InternFromString("_bind");
	str_dict = PyUnicode_InternFromString("_dict");
	str_h = PyUnicode_InternFromString("_h");
	PyObject *m = PyModule_Create(&moddef);
	if (!m)
		return NULL;
	ScalesError =
	    PyErr_NewException("_scales.ScalesError", PyExc_ValueError, NULL);
	PathError = PyErr_NewException("_scales.PathError", ScalesError, NULL);
	Py_INCREF(&StatBaseType);
	Py_INCREF(&PmfBaseType);
	Py_INCREF(&HandleType);
	if (PyModule_AddObject(m, "ScalesError", ScalesError) < 0 ||
	    PyModule_AddObject(m, "PathError", PathError) < 0 ||
	    PyModule_AddObject(m, "IntStatBase", (PyObject *)&StatBaseType) <
	        0 ||
	    PyModule_AddObject(m, "PmfStatBase", (PyObject *)&PmfBaseType) <
	        0 ||
	    PyModule_AddObject(m, "Handle", (PyObject *)&HandleType) < 0 ||
	    PyModule_AddStringConstant(m, "LIB_VERSION", scales_version()) < 0)
		return NULL;
	return m;
}
