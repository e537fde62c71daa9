/* SPDX-License-Identifier: MIT */
/*
 * prom.c: /metrics, the Prometheus text exposition format 0.0.4.
 *
 * Every metric becomes one family named after its path (prom_name()), so
 * that `promtool check metrics` has nothing to say: snake_case under
 * scales_, _total on counters, base units as suffixes, # HELP and # TYPE
 * for each family. Histograms get one cumulative le bucket per octave of
 * their log-linear layout (exact: the octave edges are bucket edges), plus
 * +Inf, _sum and _count. A dict stat is one counter family with a key
 * label; a state is a gauge family with a state label (value 1, or the
 * number of processes in that state when merged); a state aggregate
 * (/processor/state) is a gauge family with a state label whose values are
 * the number of children in each state. Labels: app, pid with
 * per_process, and those the writer declared (format 1.2): the labelled
 * path components leave the name and become labels, so that
 * /endpoint/home/latency and /endpoint/search/latency are the one family
 * scales_endpoint_latency_seconds with endpoint="home" and "search"; a
 * dict's keys take its key label's name (else "key").
 *
 * Two paths that map to the same name (/a.b and /a_b, /fooBar and
 * /foo_bar) would make one family of two metrics: the path whose name is
 * its plain spelling (/a_b, /foo_bar) keeps the name and the others get
 * "_p" and 8 hex digits of a hash of their path before the _total suffix.
 * A counter's name counts without its _total (scales_x_total and scales_x
 * are one family name to OpenMetrics readers), and one path of several
 * types (a counter in one process, a gauge in another) keeps its name for
 * the first type in the order counter, gauge, histogram.
 */
#include <errno.h>
#include <fnmatch.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "export.h"
#include "http_internal.h"

/* scales_buf_append() without the call while the bytes fit: a render
 * appends some 16 pieces per metric, and at 1,000,000 metrics the calls
 * (and memmove()'s for a few bytes) were a seventh of its time. */
static inline void pput(struct scales_buf *b, const void *bytes, size_t n)
{
	if (!b->oom && b->cap - b->len > n) {
		memcpy(b->data + b->len, bytes, n);
		b->len += n;
		b->data[b->len] = 0;
		return;
	}
	scales_buf_append(b, bytes, n);
}

/* strlen() of a literal folds once this is inlined */
static inline void pputs(struct scales_buf *b, const char *s)
{
	pput(b, s, strlen(s));
}

/* ---------------------------------------------------------------- naming */

#define MAX_TOKENS 160
#define PROM_PATH_MAX 256 /* a path and its NUL (docs/format.md) */

/* A word and its length: flagged() runs for every token of every name
 * (a /metrics render of 1,000,000 metrics called strlen() 48 times per
 * token). */
struct word {
	const char *s;
	size_t n;
};
/* clang-format off */
#define W(x) { x, sizeof(x) - 1 }
/* clang-format on */

/* Tokens promtool's linter flags when they stand alone between "_". */
static const struct word flagged_words[] = {
	/* abbreviated units */
	W("s"),
	W("ms"),
	W("us"),
	W("ns"),
	W("sec"),
	W("b"),
	W("kb"),
	W("mb"),
	W("gb"),
	W("tb"),
	W("pb"),
	W("m"),
	W("h"),
	W("d"),
	/* metric type names */
	W("counter"),
	W("gauge"),
	W("histogram"),
	W("summary"),
	/* non-base units without a prefix */
	W("minutes"),
	W("hours"),
	W("days"),
	W("weeks"),
	W("kelvins"),
	W("fahrenheit"),
	W("rankine"),
	W("inches"),
	W("yards"),
	W("miles"),
	W("bits"),
	W("calories"),
	W("pounds"),
	W("ounces"),
	{ NULL, 0 }
};

static const struct word unit_prefixes[] = {
	W("pico"), W("nano"), W("micro"), W("milli"), W("centi"),
	W("deci"), W("deca"), W("hecto"), W("kilo"),  W("kibi"),
	W("mega"), W("mibi"), W("giga"),  W("gibi"),  W("tera"),
	W("tebi"), W("peta"), W("pebi"),  { NULL, 0 }
};

static const struct word all_units[] = {
	W("amperes"), W("bytes"),    W("celsius"), W("grams"),
	W("joules"),  W("kelvin"),   W("meters"),  W("metres"),
	W("seconds"), W("volts"),    W("minutes"), W("hours"),
	W("days"),    W("weeks"),    W("kelvins"), W("fahrenheit"),
	W("rankine"), W("inches"),   W("yards"),   W("miles"),
	W("bits"),    W("calories"), W("pounds"),  W("ounces"),
	{ NULL, 0 }
};

static bool flagged(const char *t, size_t n)
{
	/* every word starts with a lower-case letter */
	if (!n || t[0] < 'a' || t[0] > 'z')
		return false;
	for (const struct word *w = flagged_words; w->s; w++)
		if (w->n == n && w->s[0] == t[0] && !memcmp(w->s, t, n))
			return true;
	/* a unit with a prefix ("milliseconds", "kilobytes") */
	for (const struct word *p = unit_prefixes; p->s; p++) {
		if (p->n >= n || p->s[0] != t[0] || memcmp(p->s, t, p->n))
			continue;
		for (const struct word *u = all_units; u->s; u++)
			if (u->n == n - p->n && !memcmp(u->s, t + p->n, u->n))
				return true;
	}
	return false;
}

static bool is_lower(int c)
{
	return c >= 'a' && c <= 'z';
}
static bool is_upper(int c)
{
	return c >= 'A' && c <= 'Z';
}
static bool is_digit(int c)
{
	return c >= '0' && c <= '9';
}

struct tokens {
	char buf[PROM_NAME_MAX * 2];
	size_t len;
	size_t start[MAX_TOKENS], n[MAX_TOKENS];
	size_t count;
};

static void tok_add(struct tokens *t, const char *s, size_t n)
{
	if (!n || t->count == MAX_TOKENS || t->len + n > sizeof(t->buf))
		return;
	memcpy(t->buf + t->len, s, n);
	t->start[t->count] = t->len;
	t->n[t->count] = n;
	t->len += n;
	t->count++;
}

/* Splits path into lower-case snake_case tokens after "scales". */
static void tokenize(struct tokens *t, const char *path)
{
	t->len = t->count = 0;
	tok_add(t, "scales", 6);
	char cur[PROM_NAME_MAX];
	size_t cn = 0;
	size_t pl = strlen(path);
	for (size_t i = 0; i <= pl; i++) {
		int c = i < pl ? (unsigned char)path[i] : 0;
		int prev = i ? (unsigned char)path[i - 1] : 0;
		int next = i + 1 < pl ? (unsigned char)path[i + 1] : 0;
		bool alnum = is_lower(c) || is_upper(c) || is_digit(c);
		bool split = !alnum;
		/* camelCase: aB, 1B; and the B in ABc */
		if (is_upper(c) && (is_lower(prev) || is_digit(prev) ||
		                    (is_upper(prev) && is_lower(next))))
			split = true;
		if (split && cn) {
			tok_add(t, cur, cn);
			cn = 0;
		}
		if (alnum && cn < sizeof(cur))
			cur[cn++] = (char)(is_upper(c) ? c - 'A' + 'a' : c);
	}
}

/* Glues every flagged token to the one before it (re-checking the result),
 * so that no token promtool complains about stands alone. The first token
 * after "scales" is glued to the one after it instead (the prefix stays
 * scales_), or, alone, gets "metric" appended ("/d" is scales_dmetric). */
static void glue(struct tokens *t)
{
	size_t i = 1;
	while (i < t->count) {
		if (!flagged(t->buf + t->start[i], t->n[i])) {
			i++;
			continue;
		}
		size_t into = i > 1 ? i - 1 : i; /* tokens are contiguous */
		if (i == 1 && t->count == 2) {
			if (t->len + 6 > sizeof(t->buf))
				return;
			memcpy(t->buf + t->len, "metric", 6);
			t->len += 6;
			t->n[1] += 6;
			return;
		}
		size_t gone = into + 1;
		t->n[into] += t->n[gone];
		memmove(&t->start[gone], &t->start[gone + 1],
		        (t->count - gone - 1) * sizeof(size_t));
		memmove(&t->n[gone], &t->n[gone + 1],
		        (t->count - gone - 1) * sizeof(size_t));
		t->count--;
		i = into; /* re-check the glued token */
	}
}

static bool last_is(const struct tokens *t, const char *w)
{
	size_t k = t->count - 1;
	return t->n[k] == strlen(w) &&
	       !memcmp(t->buf + t->start[k], w, t->n[k]);
}

/* The tokens after glue(), joined with "_", without "scales_" and without
 * the suffixes: compared with the path's plain spelling. */
static size_t join(const struct tokens *t, size_t first, char *out, size_t len)
{
	size_t o = 0;
	for (size_t i = first; i < t->count; i++) {
		if (i > first && o + 1 < len)
			out[o++] = '_';
		for (size_t k = 0; k < t->n[i] && o + 1 < len; k++)
			out[o++] = t->buf[t->start[i] + k];
	}
	if (len)
		out[o] = 0;
	return o;
}

static size_t append(char *out, size_t len, size_t o, const char *s)
{
	while (*s && o + 1 < len)
		out[o++] = *s++;
	if (len)
		out[o] = 0;
	return o;
}

/* prom_name() of the path tokenized into t (glued). */
static size_t name_of(const struct tokens *t, char *out, size_t len,
                      enum prom_type type, unsigned unit)
{
	size_t o = join(t, 0, out, len);
	const char *u = unit == SCALES_UNIT_SECONDS ? "seconds" :
	                unit == SCALES_UNIT_BYTES   ? "bytes" :
	                                              NULL;
	if (u && !last_is(t, u)) {
		o = append(out, len, o, "_");
		o = append(out, len, o, u);
	}
	bool reserved = !u && (last_is(t, "total") || last_is(t, "count") ||
	                       last_is(t, "sum") || last_is(t, "bucket"));
	if (type == PROM_COUNTER) {
		if (u || !last_is(t, "total"))
			o = append(out, len, o, "_total");
	} else if (reserved) {
		o = append(out, len, o, "_value");
	}
	return o;
}

size_t prom_name(char *out, size_t len, const char *path, enum prom_type type,
                 unsigned unit)
{
	struct tokens t;
	tokenize(&t, path);
	glue(&t);
	return name_of(&t, out, len, type, unit);
}

/* Is the name of path (tokenized into t, glued) its plain spelling (path
 * without the leading "/", "/" as "_")? */
static bool canonical(const struct tokens *t, const char *path)
{
	char core[PROM_NAME_MAX];
	join(t, 1, core, sizeof(core));
	const char *p = path[0] == '/' ? path + 1 : path;
	size_t i = 0;
	for (; p[i] && core[i]; i++)
		if (core[i] != (p[i] == '/' ? '_' : p[i]))
			return false;
	return !p[i] && !core[i];
}

/* -------------------------------------------------------------- escaping */

/* The text format escapes only \\, \n and (in a label value) \"; every
 * other UTF-8 character, control characters included, stands as itself,
 * so that a label value reads back as written. Only bytes that are not
 * UTF-8 (never in a dict key: the writer refuses them) become U+FFFD. */
static void escape(struct scales_buf *b, const char *str, bool quote)
{
	static const char fffd[] = "\xef\xbf\xbd";
	if (!str)
		return;
	const unsigned char *s = (const unsigned char *)str;
	size_t n = strlen(str);
	/* runs of bytes that stand as themselves go out in one append */
	size_t i = 0, from = 0;
	while (i < n) {
		unsigned char c = s[i];
		if (c >= 0x80) {
			size_t l = scales_utf8_decode(s + i, n - i, NULL);
			if (l) {
				i += l;
				continue;
			}
		} else if (c != '\\' && c != '\n' && (c != '"' || !quote)) {
			i++;
			continue;
		}
		pput(b, s + from, i - from);
		if (c == '\\')
			pputs(b, "\\\\");
		else if (c == '\n')
			pputs(b, "\\n");
		else if (c == '"')
			pputs(b, "\\\"");
		else
			pputs(b, fffd);
		from = ++i;
	}
	pput(b, s + from, i - from);
}

void prom_label_escape(struct scales_buf *b, const char *s)
{
	escape(b, s, true);
}

void prom_help_escape(struct scales_buf *b, const char *s)
{
	escape(b, s, false);
}

/* ------------------------------------------------------------- families */

enum plabel {
	PL_NONE,
	PL_KEY,
	PL_STATE,
	PL_STATE_TIME /* a timed state's seconds counter (format 1.4) */
};

/* ------------------------------------------------------------ the arena */

/* The items' strings: bump-allocated in chunks, freed at once. */
struct pchunk {
	struct pchunk *next;
	size_t used, cap;
	char data[];
};

#define PCHUNK_BYTES ((size_t)1 << 20)
#define PCHUNK_MAX ((size_t)32 << 20)
#define REGION_MIN ((size_t)4 << 20)

/*
 * Zeroed memory for a render's large arrays, freed with region_free() and
 * the same n. From REGION_MIN up, an anonymous mapping that asks for huge
 * pages: a render of 1,000,000 metrics allocates some 130 MB, and with 4
 * KiB pages the kernel took a fault per page, a fifth of the render's time.
 */
static void *region_alloc(size_t n)
{
	if (n < REGION_MIN)
		return calloc(1, n);
	void *p = mmap(NULL, n, PROT_READ | PROT_WRITE,
	               MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		return NULL;
#ifdef MADV_HUGEPAGE
	(void)madvise(p, n, MADV_HUGEPAGE); /* a hint: fine if refused */
#endif
	return p;
}

static void region_free(void *p, size_t n)
{
	if (n < REGION_MIN)
		free(p);
	else if (p)
		munmap(p, n);
}

static char *parena_alloc(struct pchunk **head, size_t n)
{
	struct pchunk *c = *head;
	if (!c || c->cap - c->used < n) {
		/* chunks grow: few of them for a million items */
		size_t cap =
		    c && c->cap < PCHUNK_MAX ? 2 * c->cap : PCHUNK_BYTES;
		if (cap < n)
			cap = n;
		c = region_alloc(sizeof(*c) + cap);
		if (!c)
			return NULL;
		c->next = *head;
		c->used = 0;
		c->cap = cap;
		*head = c;
	}
	char *p = c->data + c->used;
	c->used += n;
	return p;
}

static void parena_free(struct pchunk *c)
{
	while (c) {
		struct pchunk *next = c->next;
		region_free(c, sizeof(*c) + c->cap);
		c = next;
	}
}

/* An item's strings live in the rendering's arena: with them inline an
 * item took 1 KiB, and sorting a million of them most of a /metrics
 * render of 1,000,000 metrics (issue 17.4). */
struct pitem {
	char *name; /* under PROM_NAME_MAX bytes */
	const char *path;
	/* the family: the path without its labelled components, then the
	 * label list (positions included, so that distinct paths of one
	 * family always differ in a label value) */
	char *fam;
	const char *labels; /* the writer's, or a label rule's */
	uint32_t group;
	uint32_t mi;        /* metric index in the group's snapshot */
	uint16_t fpath_len; /* fam[0..fpath_len) is that path */
	uint16_t base;      /* base_len(), kept with name */
	uint8_t type;       /* enum prom_type */
	uint8_t label;      /* enum plabel */
	bool canonical;
};

/* The family's name as OpenMetrics and prometheus_client read it: a
 * counter's without its "_total" (prom_name() gives every counter that
 * suffix and no other type), so that a counter scales_x_total and a gauge
 * scales_x count as one name. */
static size_t base_len(const struct pitem *it)
{
	size_t n = strlen(it->name);
	if (it->type == PROM_COUNTER && n >= 6 &&
	    !strcmp(it->name + n - 6, "_total"))
		n -= 6;
	return n;
}

static bool same_base(const struct pitem *a, const struct pitem *b)
{
	return a->base == b->base && !memcmp(a->name, b->name, a->base);
}

/* By base name, then type: one name's items are next to each other. */
static int item_cmp(const struct pitem *x, const struct pitem *y)
{
	size_t xn = x->base, yn = y->base;
	int c = memcmp(x->name, y->name, xn < yn ? xn : yn);
	if (c)
		return c;
	if (xn != yn)
		return xn < yn ? -1 : 1;
	if (x->type != y->type)
		return (int)x->type - (int)y->type;
	if (x->label != y->label)
		return (int)x->label - (int)y->label;
	c = strcmp(x->fam, y->fam);
	if (c)
		return c;
	c = strcmp(x->path, y->path);
	if (c)
		return c;
	return (x->group > y->group) - (x->group < y->group);
}

static int item_pcmp(const void *a, const void *b)
{
	return item_cmp(*(const struct pitem *const *)a,
	                *(const struct pitem *const *)b);
}

/* Sorts the items by item_cmp(): pointers, not the items, and not at all
 * when they come sorted (the snapshots' path order often is the names'). */
static void sort_items(struct pitem **v, size_t n)
{
	for (size_t i = 1; i < n; i++)
		if (item_cmp(v[i - 1], v[i]) > 0) {
			qsort(v, n, sizeof(*v), item_pcmp);
			return;
		}
}

static uint32_t fnv1a(const char *s, unsigned salt)
{
	uint32_t h = 2166136261u ^ salt;
	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 16777619u;
	return h;
}

/* Gives it a name of its own: "_p" + hash before the _total suffix.
 * -ENOMEM or 0. */
static int rename_item(struct pitem *it, struct pchunk **arena)
{
	char tag[16], name[PROM_NAME_MAX];
	snprintf(tag, sizeof(tag), "_p%08" PRIx32,
	         fnv1a(it->fam, (unsigned)it->type * 3u + (unsigned)it->label));
	snprintf(name, sizeof(name), "%s", it->name);
	size_t n = strlen(name);
	bool total = it->type == PROM_COUNTER && n >= 6 &&
	             !strcmp(name + n - 6, "_total");
	if (total)
		name[n - 6] = 0;
	size_t room = sizeof(name) - strlen(name) - 1;
	strncat(name, tag, room);
	if (total) {
		room = sizeof(name) - strlen(name) - 1;
		strncat(name, "_total", room);
	}
	n = strlen(name);
	char *copy = parena_alloc(arena, n + 1);
	if (!copy)
		return -ENOMEM;
	memcpy(copy, name, n + 1);
	it->name = copy;
	it->base = (uint16_t)base_len(it);
	return 0;
}

static bool same_family(const struct pitem *a, const struct pitem *b)
{
	return a->type == b->type && a->label == b->label &&
	       !strcmp(a->fam, b->fam);
}

/* The item of v[i..k) (one base name, several families) that keeps
 * the name, or NULL: the only canonical family with labels, else the only
 * canonical one (a sum declared over labelled scopes yields), else the
 * only family path at all. Families that differ only in type (one path, a
 * counter here and a gauge there) count as one: the first in sort order
 * (counter, gauge, histogram) keeps the name, whatever process came
 * first. */
static const struct pitem *keeper(struct pitem *const *v, size_t i, size_t k)
{
	for (int pass = 0; pass < 3; pass++) {
		const struct pitem *keep = NULL;
		bool unique = true;
		for (size_t x = i; x < k; x++) {
			const struct pitem *y = v[x];
			bool labelled = y->fam[y->fpath_len + 1] != 0;
			if ((pass < 2 && !y->canonical) ||
			    (pass == 0 && !labelled))
				continue;
			if (!keep)
				keep = y;
			else if (strcmp(keep->fam, y->fam))
				unique = false;
		}
		if (keep)
			return unique ? keep : NULL;
	}
	return NULL;
}

/* Renames the items of each (base) name shared by different metrics; see
 * the comment at the top. v is sorted. Returns 1 if any was renamed, 0 if
 * none, -ENOMEM. */
static int resolve(struct pitem *const *v, size_t n, struct pchunk **arena)
{
	int renamed = 0;
	for (size_t i = 0; i < n;) {
		size_t k = i + 1;
		bool conflict = false;
		while (k < n && same_base(v[k], v[i])) {
			if (!same_family(v[k], v[i]))
				conflict = true;
			k++;
		}
		if (conflict) {
			const struct pitem *keep = keeper(v, i, k);
			/* renaming changes names only: keep stays valid */
			for (size_t x = i; x < k; x++)
				if (!keep || !same_family(v[x], keep)) {
					if (rename_item(v[x], arena))
						return -ENOMEM;
					renamed = 1;
				}
		}
		i = k;
	}
	return renamed;
}

/* ------------------------------------------------------------ label rules */

#define RULE_COMPS 64

struct label_rule {
	char *pat[RULE_COMPS]; /* one fnmatch pattern per component */
	size_t ncomp;
	char list[2 * PROM_PATH_MAX]; /* "K=name,...": metric.labels */
};

/* set once by export_prom_label_rules(), before any rendering */
static struct label_rule *rules;
static size_t nrules;

static int rule_parse(const char *text, struct label_rule *r)
{
	memset(r, 0, sizeof(*r));
	const char *sp = strchr(text, ' ');
	if (!sp || text[0] != '/')
		return -1;
	char glob[PROM_PATH_MAX];
	size_t gl = (size_t)(sp - text);
	if (gl >= sizeof(glob))
		return -1;
	memcpy(glob, text, gl);
	glob[gl] = 0;
	const char *names = sp;
	while (*names == ' ')
		names++;
	size_t o = 0, nl = 0;
	char *save = NULL;
	for (char *c = strtok_r(glob, "/", &save); c;
	     c = strtok_r(NULL, "/", &save)) {
		if (r->ncomp == RULE_COMPS)
			return -1;
		r->pat[r->ncomp] = strdup(c);
		if (!r->pat[r->ncomp])
			return -1;
		r->ncomp++;
		if (strcmp(c, "*"))
			continue;
		/* a capture: the next name */
		size_t n = strcspn(names, ",");
		if (!scales_label_name_ok(names, n))
			return -1;
		for (const char *p = r->list; *p;) { /* a name once */
			const char *e = strchr(p, '=') + 1;
			size_t el = strcspn(e, ",");
			if (el == n && !memcmp(e, names, n))
				return -1;
			p = e + el + (e[el] == ',');
		}
		int w = snprintf(r->list + o, sizeof(r->list) - o, "%s%zu=%.*s",
		                 o ? "," : "", r->ncomp, (int)n, names);
		if (w < 0 || (size_t)w >= sizeof(r->list) - o)
			return -1;
		o += (size_t)w;
		nl++;
		names += n + (names[n] == ',');
	}
	/* every name used, one component at least left for the name */
	return nl && !*names && nl < r->ncomp && nl <= 8 ? 0 : -1;
}

static void rules_free(void)
{
	for (size_t i = 0; i < nrules; i++)
		for (size_t k = 0; k < rules[i].ncomp; k++)
			free(rules[i].pat[k]);
	free(rules);
	rules = NULL;
	nrules = 0;
}

int export_prom_label_rules(char *const *texts, size_t n)
{
	rules_free();
	if (!n)
		return 0;
	rules = calloc(n, sizeof(*rules));
	if (!rules)
		return 2;
	for (size_t i = 0; i < n; i++, nrules++) {
		if (rule_parse(texts[i], &rules[i])) {
			nrules++;
			rules_free();
			fprintf(stderr,
			        "scales-export: bad --label-rule '%s': want "
			        "'/GLOB/* NAME[,NAME...]', one label name per "
			        "\"*\" component (docs/http.md, \"Label "
			        "rules\")\n",
			        texts[i]);
			return 2;
		}
	}
	return 0;
}

/* The labels of m: the writer's, else the first rule's that matches. */
static const char *rule_labels(const struct scales_metric *m)
{
	if (m->labels || (m->flags & SCALES_MF_DERIVED))
		return m->labels;
	for (size_t i = 0; i < nrules; i++) {
		const struct label_rule *r = &rules[i];
		const char *p = m->path;
		size_t k = 0;
		for (; *p == '/' && k < r->ncomp; k++) {
			char comp[PROM_PATH_MAX];
			size_t n = strcspn(p + 1, "/");
			snprintf(comp, sizeof(comp), "%.*s", (int)n, p + 1);
			if (fnmatch(r->pat[k], comp, 0))
				break;
			p += n + 1;
		}
		if (k == r->ncomp && !*p)
			return r->list;
	}
	return NULL;
}

/* The family of m into fam (2 * PROM_PATH_MAX bytes): its path without
 * the components that hold label values, then a NUL and m's label list
 * ("" if none) and, for a dict, its key label; the NUL becomes "{" once
 * the name is made. Returns the bytes used, the final NUL included. */
static size_t family(struct pitem *it, char *fam, const struct scales_metric *m)
{
	size_t o = 0, cap = 2 * PROM_PATH_MAX;
	const char *p = m->path;
	unsigned comp = 0;
	struct scales_label l;
	size_t next = 0;
	bool have = scales_metric_label(m, next, &l);
	while (*p == '/') {
		const char *e = strchr(p + 1, '/');
		size_t n = e ? (size_t)(e - p) : strlen(p);
		comp++;
		if (have && l.component == comp) {
			have = scales_metric_label(m, ++next, &l);
		} else if (o + n < cap / 2) {
			memcpy(fam + o, p, n);
			o += n;
		}
		p += n;
	}
	fam[o] = 0;
	it->fpath_len = (uint16_t)o; /* below cap / 2 */
	int w =
	    snprintf(fam + o + 1, cap - o - 1, "%s%s%s",
	             m->labels ? m->labels : "", m->side->key_label ? "+" : "",
	             m->side->key_label ? m->side->key_label : "");
	size_t lw = w < 0 ? 0 : (size_t)w;
	if (lw > cap - o - 2)
		lw = cap - o - 2; /* truncated */
	return o + 1 + lw + 1;
}

/* ------------------------------------------------------------- rendering */

/* The family's path in # HELP: each labelled component as <name>
 * (/endpoint/<endpoint>/latency). */
static void help_path(struct scales_buf *b, const struct scales_metric *m)
{
	struct scales_label l;
	const char *p = m->path;
	for (size_t i = 0; scales_metric_label(m, i, &l); i++) {
		char part[PROM_PATH_MAX];
		snprintf(part, sizeof part, "%.*s", (int)(l.value - p), p);
		prom_help_escape(b, part);
		buf_printf(b, "<%.*s>", (int)l.name_len, l.name);
		p = l.value + l.value_len;
	}
	prom_help_escape(b, p);
}

struct pctx {
	struct scales_buf *b;
	const struct hgroup *groups;
	bool per_process;
};

/* The labels the writer declared for m (format 1.2): each value is its
 * path component decoded (docs/format.md, "Derived paths"). */
static void metric_labels(struct scales_buf *b, const struct scales_metric *m)
{
	struct scales_label l;
	for (size_t i = 0; m && scales_metric_label(m, i, &l); i++) {
		char comp[PROM_PATH_MAX + 1], value[PROM_PATH_MAX + 1];
		snprintf(comp, sizeof comp, "%.*s", (int)l.value_len, l.value);
		scales_derived_value(comp, value);
		/* names passed the label rules: [A-Za-z0-9_] */
		buf_printf(b, ",%.*s=\"", (int)l.name_len, l.name);
		prom_label_escape(b, value);
		pputs(b, "\"");
	}
}

static void labels(struct pctx *c, const struct hgroup *g,
                   const struct scales_metric *m, const char *extra,
                   const char *value, const char *le)
{
	struct scales_buf *b = c->b;
	pputs(b, "{app=\"");
	prom_label_escape(b, g->snap->proc.app);
	pputs(b, "\"");
	if (c->per_process)
		buf_printf(b, ",pid=\"%" PRId32 "\"", g->snap->proc.pid);
	if (g->show_owner)
		buf_printf(b, ",uid=\"%" PRIu32 "\"", g->snap->proc.uid);
	metric_labels(b, m);
	if (extra) {
		buf_printf(b, ",%s=\"", extra);
		prom_label_escape(b, value);
		pputs(b, "\"");
	}
	if (le)
		buf_printf(b, ",le=\"%s\"", le);
	pputs(b, "}");
}

/* Appends the decimal digits of v (no printf: a sample per metric). */
static void put_u64(struct scales_buf *b, uint64_t v)
{
	char d[SCALES_FORMAT_INT_LEN];
	pput(b, d, (size_t)scales_format_u64(d, v));
}

static void value_u64(struct scales_buf *b, uint64_t v)
{
	pput(b, " ", 1);
	put_u64(b, v);
	pput(b, "\n", 1);
}

static void value_i64(struct scales_buf *b, int64_t v)
{
	char d[SCALES_FORMAT_INT_LEN];
	pput(b, " ", 1);
	pput(b, d, (size_t)scales_format_i64(d, v));
	pput(b, "\n", 1);
}

static void value_f64(struct scales_buf *b, double v)
{
	char s[40];
	scales_format_double(s, sizeof(s), v);
	buf_printf(b, " %s\n", s);
}

static void value_metric(struct scales_buf *b, const struct scales_metric *m)
{
	switch (m->kind) {
	case SCALES_KIND_GAUGE:
		value_i64(b, m->v.i64);
		break;
	case SCALES_KIND_GAUGE_F64:
		value_f64(b, m->v.f64);
		break;
	default:
		value_u64(b, m->v.u64);
		break;
	}
}

/*
 * Iterates over the descendants of the metric at i: in strcmp order every
 * path that starts with the parent's path follows it in one run ("/a/d",
 * "/a/d-x", "/a/d/k"); those with "/" after the prefix are descendants.
 * Returns the next descendant index > j, or s->n; *rest gets the part
 * after "parent/".
 */
static size_t next_child(const struct scales_snapshot *s, size_t i, size_t j,
                         const char **rest)
{
	const char *parent = s->metrics[i].path;
	size_t pl = strlen(parent);
	for (j++; j < s->n; j++) {
		const char *p = s->metrics[j].path;
		if (strncmp(p, parent, pl))
			return s->n;
		if (p[pl] == '/') {
			*rest = p + pl + 1;
			return j;
		}
	}
	return s->n;
}

static void histogram(struct pctx *c, const struct hgroup *g,
                      const struct scales_metric *m, const char *name)
{
	struct scales_buf *b = c->b;
	const struct scales_histo *h = &m->side->hist;
	uint64_t cum = 0;
	char le[40];
	for (uint32_t i = 0; h->buckets && i + 1 < h->nbuckets; i++) {
		cum += h->buckets[i];
		uint64_t lo, width;
		scales_histo_bucket_range(h, i, &lo, &width);
		uint64_t end = lo + width;
		if (width == 0 || end < lo || (end & (end - 1)))
			continue; /* not the last bucket of an octave */
		scales_format_double(le, sizeof(le),
		                     scales_scale_value((double)(end - 1),
		                                        h->scale));
		buf_printf(b, "%s_bucket", name);
		labels(c, g, m, NULL, NULL, le);
		value_u64(b, cum);
	}
	buf_printf(b, "%s_bucket", name);
	labels(c, g, m, NULL, NULL, "+Inf");
	value_u64(b, h->count);
	buf_printf(b, "%s_sum", name);
	labels(c, g, m, NULL, NULL, NULL);
	value_f64(b, scales_scale_value(scales_histo_raw_sum(h), h->scale));
	buf_printf(b, "%s_count", name);
	labels(c, g, m, NULL, NULL, NULL);
	value_u64(b, h->count);
}

static void samples(struct pctx *c, const struct pitem *it)
{
	struct scales_buf *b = c->b;
	const struct hgroup *g = &c->groups[it->group];
	const struct scales_snapshot *s = g->snap;
	struct scales_metric mm = s->metrics[it->mi];
	mm.labels = it->labels;
	const struct scales_metric *m = &mm;
	const char *rest;
	switch (m->kind) {
	case SCALES_KIND_COUNTER:
	case SCALES_KIND_GAUGE:
	case SCALES_KIND_GAUGE_F64:
		if (it->label == PL_STATE) { /* a state aggregate */
			for (size_t j = next_child(s, it->mi, it->mi, &rest);
			     j < s->n; j = next_child(s, it->mi, j, &rest)) {
				if (!(s->metrics[j].flags & SCALES_MF_DERIVED))
					continue;
				/* the label is the value, not its escaped path
				 * component (docs/format.md, "Derived paths") */
				char *val = malloc(strlen(rest) + 1);
				if (!val) {
					b->oom = true;
					return;
				}
				scales_derived_value(rest, val);
				pputs(b, it->name);
				labels(c, g, m, "state", val, NULL);
				free(val);
				value_metric(b, &s->metrics[j]);
			}
			break;
		}
		pputs(b, it->name);
		labels(c, g, m, NULL, NULL, NULL);
		value_metric(b, m);
		break;
	case SCALES_KIND_DICT:
		for (size_t j = next_child(s, it->mi, it->mi, &rest); j < s->n;
		     j = next_child(s, it->mi, j, &rest)) {
			if (strchr(rest, '/') ||
			    !(s->metrics[j].flags & SCALES_MF_KEY))
				continue;
			/* the label is the key as written, not its escaped
			 * path component (docs/format.md, "Dict keys") */
			char *key = malloc(strlen(rest) + 1);
			if (!key) {
				b->oom = true;
				return;
			}
			scales_derived_value(rest, key);
			pputs(b, it->name);
			labels(c, g, m,
			       m->side->key_label ? m->side->key_label : "key",
			       key, NULL);
			free(key);
			value_metric(b, &s->metrics[j]);
		}
		break;
	case SCALES_KIND_STATE:
		if (it->label == PL_STATE_TIME) {
			/* seconds per value; "other" is the value "" */
			for (uint32_t k = 0; k < m->side->ntimes; k++) {
				pputs(b, it->name);
				labels(c, g, m, "state",
				       m->side->times[k].value, NULL);
				value_f64(b,
				          (double)m->side->times[k].ns / 1e9);
			}
			break;
		}
		if (m->side->states && m->side->nstates) {
			for (uint32_t k = 0; k < m->side->nstates; k++) {
				pputs(b, it->name);
				labels(c, g, m, "state",
				       m->side->states[k].value, NULL);
				value_u64(b, m->side->states[k].count);
			}
		} else if (m->v.state) {
			pputs(b, it->name);
			labels(c, g, m, "state", m->v.state, NULL);
			pputs(b, " 1\n");
		}
		break;
	case SCALES_KIND_HISTOGRAM:
		histogram(c, g, m, it->name);
		break;
	default:
		break;
	}
}

static const char *type_name(enum prom_type t)
{
	return t == PROM_COUNTER ? "counter" :
	       t == PROM_GAUGE   ? "gauge" :
	                           "histogram";
}

/* Marks the metrics another family reports (dict keys, state counts). */
static void consume(const struct scales_snapshot *s, size_t i, bool *used)
{
	const struct scales_metric *m = &s->metrics[i];
	const char *rest;
	for (size_t j = next_child(s, i, i, &rest); j < s->n;
	     j = next_child(s, i, j, &rest)) {
		const struct scales_metric *x = &s->metrics[j];
		if (m->kind == SCALES_KIND_DICT) {
			if (!strchr(rest, '/') && (x->flags & SCALES_MF_KEY))
				used[j] = true;
		} else if (x->flags & SCALES_MF_DERIVED) {
			used[j] = true;
		}
	}
}

/* Whether a key of dict i is a gauge (the reader's SCALES_MF_KEY). */
static bool dict_has_gauge(const struct scales_snapshot *s, size_t i)
{
	const char *rest;
	for (size_t j = next_child(s, i, i, &rest); j < s->n;
	     j = next_child(s, i, j, &rest))
		if (!strchr(rest, '/') &&
		    (s->metrics[j].flags & SCALES_MF_KEY) &&
		    s->metrics[j].kind != SCALES_KIND_COUNTER)
			return true;
	return false;
}

int prom_render(struct scales_buf *b, const struct hgroup *groups, size_t n,
                bool per_process)
{
	size_t total = 0;
	for (size_t g = 0; g < n; g++)
		for (size_t i = 0; i < groups[g].snap->n; i++)
			/* a timed state makes two families */
			total += 1 + !!(groups[g].snap->metrics[i].flags &
			                SCALES_MF_TIMED);
	size_t items_bytes = (total ? total : 1) * sizeof(struct pitem);
	struct pitem *items = region_alloc(items_bytes);
	if (!items)
		return -ENOMEM;
	size_t ni = 0;
	int rc = 0;
	struct pchunk *arena = NULL;
	struct tokens tok;
	for (size_t g = 0; g < n && !rc; g++) {
		const struct scales_snapshot *s = groups[g].snap;
		bool *used = calloc(s->n ? s->n : 1, sizeof(bool));
		if (!used) {
			rc = -ENOMEM;
			break;
		}
		for (size_t i = 0; i < s->n; i++) {
			const struct scales_metric *m = &s->metrics[i];
			if (m->kind == SCALES_KIND_DICT ||
			    m->agg == SCALES_AGG_STATES)
				consume(s, i, used);
		}
		for (size_t i = 0, timed = 0; i < s->n; i += !timed) {
			const struct scales_metric *m = &s->metrics[i];
			if (used[i])
				continue;
			struct pitem *it = &items[ni];
			it->label = PL_NONE;
			/* a timed state: its state family, then (timed) its
			 * seconds counter, labelled by value */
			timed = !timed && (m->flags & SCALES_MF_TIMED);
			switch (m->kind) {
			case SCALES_KIND_COUNTER:
				it->type = PROM_COUNTER;
				break;
			case SCALES_KIND_DICT:
				/* keys that are gauges (a Python IntDictStat's
				 * go down too) make a gauge family */
				it->type = dict_has_gauge(s, i) ? PROM_GAUGE :
				                                  PROM_COUNTER;
				it->label = PL_KEY;
				break;
			case SCALES_KIND_GAUGE:
			case SCALES_KIND_GAUGE_F64:
				it->type = PROM_GAUGE;
				if (m->agg == SCALES_AGG_STATES)
					it->label = PL_STATE;
				break;
			case SCALES_KIND_STATE:
				it->type = timed ? PROM_GAUGE : PROM_COUNTER;
				it->label = timed ? PL_STATE : PL_STATE_TIME;
				if (!(m->flags & SCALES_MF_TIMED)) {
					it->type = PROM_GAUGE;
					it->label = PL_STATE;
				}
				break;
			case SCALES_KIND_HISTOGRAM:
				it->type = PROM_HISTOGRAM;
				break;
			default:
				continue;
			}
			it->path = m->path;
			it->group = (uint32_t)g;
			it->mi =
			    (uint32_t)i; /* entries are counted in 32 bits */
			it->labels = rule_labels(m);
			struct scales_metric mm = *m;
			mm.labels = it->labels;
			char fam[2 * PROM_PATH_MAX], name[PROM_NAME_MAX];
			size_t fl = family(it, fam, &mm);
			/* one tokenization for both */
			tokenize(&tok, fam);
			glue(&tok);
			it->canonical = canonical(&tok, fam);
			size_t nl =
			    name_of(&tok, name, sizeof(name), it->type,
			            it->label == PL_STATE_TIME ?
			                SCALES_UNIT_SECONDS :
			            m->kind == SCALES_KIND_STATE ? 0 :
			                                           m->unit);
			if (nl > sizeof(name) - 1)
				nl = sizeof(name) - 1;
			it->name = parena_alloc(&arena, nl + 1 + fl);
			if (!it->name) {
				rc = -ENOMEM;
				break;
			}
			memcpy(it->name, name, nl);
			it->name[nl] = 0;
			it->fam = it->name + nl + 1;
			memcpy(it->fam, fam, fl);
			it->base = (uint16_t)base_len(it);
			it->fam[it->fpath_len] = '{'; /* its list follows */
			ni++;
		}
		free(used);
	}
	if (rc) {
		parena_free(arena);
		region_free(items, items_bytes);
		return rc;
	}

	size_t v_bytes = (ni ? ni : 1) * sizeof(struct pitem *);
	struct pitem **v = region_alloc(v_bytes);
	if (!v) {
		parena_free(arena);
		region_free(items, items_bytes);
		return -ENOMEM;
	}
	for (size_t i = 0; i < ni; i++)
		v[i] = &items[i];
	sort_items(v, ni);
	rc = resolve(v, ni, &arena);
	if (rc < 0) {
		region_free(v, v_bytes);
		parena_free(arena);
		region_free(items, items_bytes);
		return rc;
	}
	if (rc)
		sort_items(v, ni);

	struct pctx c = { b, groups, per_process };
	for (size_t i = 0; i < ni;) {
		/* one family: same name; anything still different is left
		 * out (a hash collision) */
		size_t k = i;
		/* the family's header, taken back if no sample follows */
		size_t mark = b->len;
		const struct scales_metric *m =
		    &groups[v[i]->group].snap->metrics[v[i]->mi];
		pputs(b, "# HELP ");
		pputs(b, v[i]->name);
		if (m->help && *m->help) {
			pputs(b, " ");
			prom_help_escape(b, m->help);
			pputs(b, " (");
		} else {
			pputs(b, " scales ");
			pputs(b, scales_kind_name(m->kind));
			pputs(b, " ");
		}
		struct scales_metric hm = *m;
		hm.labels = v[i]->labels;
		help_path(b, &hm);
		if (m->help && *m->help)
			pputs(b, ")");
		pputs(b, "\n# TYPE ");
		pputs(b, v[i]->name);
		pputs(b, " ");
		pputs(b, type_name(v[i]->type));
		pputs(b, "\n");
		size_t body = b->len;
		for (; k < ni && !strcmp(v[k]->name, v[i]->name); k++) {
			if (!same_family(v[k], v[i]))
				continue;
			/* one family holds many paths of a group: the
			 * values of their labels differ (family()) */
			if (k > i && v[k]->group == v[k - 1]->group &&
			    !strcmp(v[k]->path, v[k - 1]->path))
				continue;
			samples(&c, v[k]);
		}
		if (b->len == body && !b->oom)
			b->len = mark;
		i = k;
	}
	/* each writer's refused registrations (docs/http.md); no stat's
	 * family is this one: a path's name never holds "__" */
	if (n)
		pputs(b, "# HELP scales__refused_registrations registrations "
		         "the writer refused (segment full, no memory)\n"
		         "# TYPE scales__refused_registrations gauge\n");
	for (size_t g = 0; g < n; g++) {
		pputs(b, "scales__refused_registrations");
		labels(&c, &groups[g], NULL, NULL, NULL, NULL);
		value_u64(b, groups[g].snap->proc.refused);
	}
	region_free(v, v_bytes);
	parena_free(arena);
	region_free(items, items_bytes);
	return b->oom ? -ENOMEM : 0;
}

/* --textfile: the run loop's collector groups as the sampler's entries
 * (snapshot, owner); prom_render() reads nothing else of them. */
int export_prom_render(struct scales_buf *b, const struct scales_group *g,
                       size_t n, bool per_process, bool all_owners)
{
	struct hgroup *hg = calloc(n ? n : 1, sizeof(*hg));
	if (!hg)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		hg[i].snap = g[i].cur;
		hg[i].rates = g[i].rates;
		hg[i].show_owner =
		    !all_owners && g[i].uid != (uint32_t)geteuid();
	}
	int rc = prom_render(b, hg, n, per_process);
	free(hg);
	return rc;
}
