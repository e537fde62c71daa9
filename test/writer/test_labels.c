/* SPDX-License-Identifier: MIT */
/*
 * test_labels.c: labels declared by the writer (issue 14, item 1): the
 * label rules, the label lists written into the segment, read back through
 * the reader library, and a hostile label list ignored by readers while
 * its metric is kept (docs/format.md section 5, "Labels").
 */
#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "common.h"
#include "scales_shm.h"

static scales_registry *reg;

static void setup(void)
{
	fresh_dir();
	reg = open_reg("labels", SCALES_NO_SAMPLER, 0);
}

static void teardown(void)
{
	scales_close(&reg);
}

TestSuite(labels, .init = setup, .fini = teardown);

/* "name=value,..." of m, values as in the path. */
static void labels_of(const struct scales_metric *m, char *out, size_t n)
{
	struct scales_label l;
	size_t o = 0;
	out[0] = 0;
	for (size_t i = 0; scales_metric_label(m, i, &l); i++)
		o += (size_t)snprintf(out + o, n - o, "%s%.*s=%.*s",
		                      i ? "," : "", (int)l.name_len, l.name,
		                      (int)l.value_len, l.value);
}

static void expect_labels(const struct scales_snapshot *s, const char *path,
                          const char *want)
{
	char got[512];
	labels_of(must_find(s, path), got, sizeof got);
	cr_expect_str_eq(got, want, "%s: labels %s, want %s", path, got, want);
}

Test(labels, names_follow_the_rules)
{
	cr_expect_eq(scales_label_check("endpoint"), 0);
	cr_expect_eq(scales_label_check("_a9"), 0);
	const char *bad[] = {
		"",
		"9a",
		"__x",
		"a-b",
		"a b",
		"app",
		"pid",
		"le",
		"key",
		"state",
		"job",
		"instance",
		"é",
		"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
		"aaaaaaaaaaaaa"
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		cr_expect_eq(scales_label_check(bad[i]), SCALES_E_LABEL, "%s",
		             bad[i]);
	cr_expect_eq(scales_label_check(NULL), SCALES_E_LABEL);

	scales_scope *ep = NULL, *c = NULL, *home = NULL;
	cr_assert_eq(scales_scope_root(reg, &ep, "/endpoint"), 0);
	cr_expect_eq(scales_scope_labelled(ep, &c, "le", "x"), SCALES_E_LABEL);
	cr_expect_null(c);
	cr_expect_eq(scales_scope_labelled(ep, &c, "e", "a/b"), SCALES_E_PATH);
	cr_assert_eq(scales_scope_labelled(ep, &home, "endpoint", "home"), 0);
	/* a name once per list */
	cr_expect_eq(scales_scope_labelled(home, &c, "endpoint", "x"),
	             SCALES_E_LABEL);
	scales_dict d;
	cr_expect_eq(scales_scope_labelled_dict(home, "status", "endpoint",
	                                        NULL, &d),
	             SCALES_E_LABEL);
	cr_expect_eq(scales_labelled_dict_get(reg, "/x", "9", NULL, &d),
	             SCALES_E_LABEL);
	/* at most 8 labels per entry */
	scales_scope *s = ep;
	char name[8];
	for (int i = 0; i < 8; i++) {
		snprintf(name, sizeof name, "l%d", i);
		cr_assert_eq(scales_scope_labelled(s, &s, name, "v%d", i), 0);
	}
	cr_expect_eq(scales_scope_labelled(s, &c, "l9", "v"), SCALES_E_LABEL);
	cr_expect_eq(scales_scope_labelled_dict(s, "d", "code", NULL, &d),
	             SCALES_E_LABEL);
	cr_expect_eq(scales_scope_release(&ep), 0);
}

Test(labels, lists_reach_the_reader)
{
	scales_scope *ep, *home, *search, *shard, *plain;
	cr_assert_eq(scales_scope_root(reg, &ep, "/endpoint"), 0);
	cr_assert_eq(scales_scope_labelled(ep, &home, "endpoint", "home"), 0);
	cr_assert_eq(scales_scope_labelled(ep, &search, "endpoint", "search"),
	             0);
	cr_assert_eq(scales_scope_labelled(search, &shard, "shard", "s%d", 1),
	             0);
	cr_assert_eq(scales_scope_child(shard, &plain, "pool"), 0);
	scales_histogram h;
	scales_counter c;
	cr_assert_eq(scales_scope_histogram(home, "latency", NULL, NULL, &h),
	             0);
	cr_assert_eq(scales_scope_counter(shard, "hits", NULL, &c), 0);
	cr_assert_eq(scales_scope_counter(plain, "threads", NULL, &c), 0);
	cr_assert_eq(scales_scope_counter(ep, "unlabelled", NULL, &c), 0);
	scales_dict codes, keys, bare;
	cr_assert_eq(scales_scope_labelled_dict(home, "status", "code", NULL,
	                                        &codes),
	             0);
	cr_assert_eq(scales_dict_add(&codes, "404", 2), 0);
	cr_assert_eq(scales_labelled_dict_get(reg, "/http/status", "code", NULL,
	                                      &keys),
	             0);
	cr_assert_eq(scales_dict_add(&keys, "200", 1), 0);
	cr_assert_eq(scales_scope_dict(home, "plain", NULL, &bare), 0);
	cr_assert_eq(scales_dict_add(&bare, "k", 1), 0);
	cr_assert_eq(scales_scope_sum(ep, "hits", NULL), 0);

	struct scales_snapshot *s = snap(reg);
	expect_labels(s, "/endpoint/home/latency", "endpoint=home");
	expect_labels(s, "/endpoint/search/s1/hits",
	              "endpoint=search,shard=s1");
	expect_labels(s, "/endpoint/search/s1/pool/threads",
	              "endpoint=search,shard=s1");
	expect_labels(s, "/endpoint/unlabelled", "");
	expect_labels(s, "/endpoint/home/status", "endpoint=home");
	expect_labels(s, "/endpoint/home/status/404", "endpoint=home,code=404");
	expect_labels(s, "/http/status", "");
	expect_labels(s, "/http/status/200", "code=200");
	expect_labels(s, "/endpoint/home/plain/k", "endpoint=home");
	expect_labels(s, "/endpoint/hits", ""); /* the sum: no endpoint */
	cr_expect_str_eq(must_find(s, "/endpoint/home/status")->side->key_label,
	                 "code");
	cr_expect_str_eq(must_find(s, "/http/status")->side->key_label, "code");
	cr_expect_null(must_find(s, "/endpoint/home/plain")->side->key_label);
	cr_expect_str_eq(must_find(s, "/endpoint/home/latency")->labels,
	                 "2=endpoint");
	scales_snapshot_free(&s);
	scales_scope_release(&ep);
}

/* Points the labels ref of the entry at path to the string at ref. */
static void poke_labels(const char *path, uint32_t ref)
{
	int fd = open(scales_registry_path(reg), O_RDWR);
	cr_assert_geq(fd, 0);
	off_t size = lseek(fd, 0, SEEK_END);
	unsigned char *m =
	    mmap(NULL, (size_t)size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	cr_assert_neq(m, MAP_FAILED);
	const struct scales_shm_header *h = (const void *)m;
	bool found = false;
	for (uint32_t i = 0; i < h->dir_used; i++) {
		struct scales_shm_entry *e =
		    (void *)(m + h->dir_offset + (uint64_t)i * h->entry_size);
		if (!strcmp(e->path, path)) {
			e->labels = ref;
			found = true;
		}
	}
	cr_assert(found, "no entry %s", path);
	munmap(m, (size_t)size);
	close(fd);
}

/* The string ref of the help text of the entry at path. */
static uint32_t help_ref(const char *path)
{
	int fd = open(scales_registry_path(reg), O_RDONLY);
	off_t size = lseek(fd, 0, SEEK_END);
	unsigned char *m =
	    mmap(NULL, (size_t)size, PROT_READ, MAP_SHARED, fd, 0);
	cr_assert_neq(m, MAP_FAILED);
	const struct scales_shm_header *h = (const void *)m;
	uint32_t ref = 0;
	for (uint32_t i = 0; i < h->dir_used; i++) {
		const struct scales_shm_entry *e =
		    (const void *)(m + h->dir_offset +
		                   (uint64_t)i * h->entry_size);
		if (!strcmp(e->path, path))
			ref = e->help;
	}
	munmap(m, (size_t)size);
	close(fd);
	return ref;
}

Test(labels, hostile_lists_are_ignored_metric_kept)
{
	/* strings a hostile or newer writer could point labels at */
	const char *lists[] = {
		"2=endpoint",  "1=a,1=b", "2=a,1=b", "4=a",
		"1=a,2=b,3=c", "02=a",    "2=app",   "2=a,",
		"2=a,2=a",     "x",       "2=a b",   "2=a,3=a"
	};
	bool valid[] = { true,  false, false, false, false, false,
		         false, false, false, false, false, false };
	scales_counter c;
	for (size_t i = 0; i < sizeof lists / sizeof lists[0]; i++) {
		char path[32];
		snprintf(path, sizeof path, "/a/v%zu/x", i);
		struct scales_info info = { lists[i], SCALES_UNIT_NONE };
		cr_assert_eq(scales_counter_get(reg, path, &info, &c), 0);
		scales_counter_add(&c, i + 1);
		poke_labels(path, help_ref(path));
	}
	/* a ref outside the string area, and a misaligned one */
	cr_assert_eq(scales_counter_get(reg, "/b/out/x", NULL, &c), 0);
	poke_labels("/b/out/x", 0x7ffffff0);
	cr_assert_eq(scales_counter_get(reg, "/b/odd/x", NULL, &c), 0);
	poke_labels("/b/odd/x", help_ref("/a/v0/x") + 2);

	struct scales_snapshot *s = snap(reg);
	cr_expect_eq(s->invalid, 0);
	for (size_t i = 0; i < sizeof lists / sizeof lists[0]; i++) {
		char path[32];
		snprintf(path, sizeof path, "/a/v%zu/x", i);
		const struct scales_metric *m = must_find(s, path);
		cr_expect_eq(m->v.u64, i + 1);
		cr_expect_eq(m->labels != NULL, valid[i], "%s: %s", lists[i],
		             m->labels ? m->labels : "(ignored)");
	}
	cr_expect_null(must_find(s, "/b/out/x")->labels);
	cr_expect_null(must_find(s, "/b/odd/x")->labels);
	expect_labels(s, "/a/v0/x", "endpoint=v0");
	scales_snapshot_free(&s);
}
