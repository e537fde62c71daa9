/* SPDX-License-Identifier: MIT */
/*
 * replay.c: a main() for the fuzz target without libFuzzer: runs
 * LLVMFuzzerTestOneInput() on every file named on the command line (a
 * directory stands for the files in it, sorted), one TAP line each. Built
 * with gcc in the normal build, so that the seed corpus and every crash
 * found so far (test/data/corpus/) replay on every test run.
 *
 *   fuzz-replay FILE|DIR...
 */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char **files;
static size_t nfiles, capfiles;

static void add(const char *p)
{
	if (nfiles == capfiles) {
		capfiles = capfiles ? 2 * capfiles : 64;
		files = realloc(files, capfiles * sizeof *files);
		if (!files)
			abort();
	}
	files[nfiles++] = strdup(p);
}

static int cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int main(int argc, char **argv)
{
	for (int i = 1; i < argc; i++) {
		struct stat st;
		if (stat(argv[i], &st) != 0) {
			printf("Bail out! %s: cannot stat\n", argv[i]);
			return 1;
		}
		if (!S_ISDIR(st.st_mode)) {
			add(argv[i]);
			continue;
		}
		DIR *d = opendir(argv[i]);
		struct dirent *de;
		while (d && (de = readdir(d))) {
			if (de->d_name[0] == '.')
				continue;
			char p[4096];
			snprintf(p, sizeof p, "%s/%s", argv[i], de->d_name);
			if (stat(p, &st) == 0 && S_ISREG(st.st_mode))
				add(p);
		}
		if (d)
			closedir(d);
	}
	qsort(files, nfiles, sizeof *files, cmp);
	printf("1..%zu\n", nfiles);
	fflush(stdout);
	for (size_t i = 0; i < nfiles; i++) {
		FILE *f = fopen(files[i], "rb");
		if (!f) {
			printf("not ok %zu - %s: cannot open\n", i + 1,
			       files[i]);
			continue;
		}
		size_t cap = 1 << 16, len = 0, r;
		uint8_t *buf = malloc(cap);
		while (buf && (r = fread(buf + len, 1, cap - len, f)) > 0) {
			len += r;
			if (len == cap)
				buf = realloc(buf, cap *= 2);
		}
		fclose(f);
		if (!buf)
			abort();
		/* a crash or a failed check aborts: the plan is then short */
		LLVMFuzzerTestOneInput(buf, len);
		free(buf);
		const char *base = strrchr(files[i], '/');
		printf("ok %zu - %s (%zu bytes)\n", i + 1,
		       base ? base + 1 : files[i], len);
		fflush(stdout);
		free(files[i]);
	}
	free(files);
	return 0;
}
