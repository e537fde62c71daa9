/* SPDX-License-Identifier: MIT */
/*
 * util.c: error strings, clocks, the per-snapshot arena and the SIGBUS
 * guard of the reader library.
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "internal.h"

const char *scales_reader_strerror(int err)
{
	switch (err) {
	case SCALES_RE_OK:
		return "success";
	case SCALES_RE_NOT_SEGMENT:
		return "not a scales segment";
	case SCALES_RE_VERSION:
		return "unsupported segment format version";
	case SCALES_RE_FOREIGN:
		return "segment of another byte order or word size";
	case SCALES_RE_CORRUPT:
		return "corrupt segment";
	case SCALES_RE_TRUNCATED:
		return "segment truncated";
	case SCALES_RE_UNSAFE:
		return "not a regular file (symlinks are refused)";
	case SCALES_RE_NOT_FOUND:
		return "no such segment";
	default:
		break;
	}
	if (err < 0 && err > -4096)
		return strerror(
		    -err); /* glibc: static strings for known codes */
	return "unknown error";
}

const char *scales_reader_version(void)
{
	return "0.1.0";
}

int r_fail(char *err, size_t errlen, int code, const char *fmt, ...)
{
	if (err && errlen) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
		/* one line: no control characters (a hostile path could hold
		 * some) */
		for (char *p = err; *p; p++)
			if ((unsigned char)*p < 0x20 || *p == 0x7f)
				*p = '?';
	}
	return code;
}

static uint64_t now_clock(clockid_t c)
{
	struct timespec ts;
	clock_gettime(c, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

uint64_t r_now_mono(void)
{
	return now_clock(CLOCK_MONOTONIC);
}

uint64_t r_now_real(void)
{
	return now_clock(CLOCK_REALTIME);
}

/* ---------------------------------------------------------------- arena */

#define R_CHUNK_MIN (64u * 1024)

void *r_arena_alloc(struct r_arena *a, size_t n)
{
	n = (n + 15) & ~(size_t)15;
	if (n == 0)
		n = 16;
	struct r_chunk *c = a->head;
	if (!c || c->cap - c->used < n) {
		size_t cap = n > R_CHUNK_MIN ? n : R_CHUNK_MIN;
		c = malloc(sizeof(*c) + cap);
		if (!c)
			return NULL;
		c->cap = cap;
		c->used = 0;
		c->next = a->head;
		a->head = c;
		/* the SIGBUS guard may unwind right after: the chunk must be
		 * reachable from memory for the cleanup */
		r_guard_publish();
	}
	void *p = (char *)c->data + c->used;
	c->used += n;
	return p;
}

char *r_arena_strndup(struct r_arena *a, const char *s, size_t n)
{
	char *p = r_arena_alloc(a, n + 1);
	if (p) {
		memcpy(p, s, n);
		p[n] = 0;
	}
	return p;
}

void r_arena_free(struct r_arena *a)
{
	struct r_chunk *c = a->head;
	while (c) {
		struct r_chunk *next = c->next;
		free(c);
		c = next;
	}
	a->head = NULL;
}

/* ---------------------------------------------------------- SIGBUS guard */

/*
 * Why a signal guard: values are read with atomic 64-bit loads from the
 * shared mapping (a copy by the kernel is whole words only at the words'
 * own alignment: docs/format.md, section 10), and
 * a file truncated while mapped turns those loads into SIGBUS. The handler
 * is installed once per process; the jump buffer is thread-local
 * (initial-exec TLS, so reading it in the handler is async-signal-safe), so
 * concurrent snapshots on different threads are fine. SIGBUS is synchronous:
 * it is delivered to the thread that touched the page. A fault outside a
 * guarded copy goes to the previous handler (or the default action).
 */
static __thread sigjmp_buf *r_tls_jb __attribute__((tls_model("initial-exec")));
static struct sigaction r_old_bus;
static pthread_once_t r_guard_once = PTHREAD_ONCE_INIT;

static void r_bus_handler(int sig, siginfo_t *si, void *uc)
{
	sigjmp_buf *jb = r_tls_jb;
	if (jb) {
		r_tls_jb = NULL;
		siglongjmp(*jb, 1);
	}
	if ((r_old_bus.sa_flags & SA_SIGINFO) && r_old_bus.sa_sigaction) {
		r_old_bus.sa_sigaction(sig, si, uc);
		return;
	}
	if (r_old_bus.sa_handler != SIG_DFL &&
	    r_old_bus.sa_handler != SIG_IGN) {
		r_old_bus.sa_handler(sig);
		return;
	}
	/* default action: restore it; the faulting access runs again */
	signal(SIGBUS, SIG_DFL);
}

static void r_guard_install(void)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = r_bus_handler;
	sa.sa_flags = SA_SIGINFO | SA_NODEFER;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGBUS, &sa, &r_old_bus);
}

void r_guard_enter(sigjmp_buf *jb)
{
	pthread_once(&r_guard_once, r_guard_install);
	r_tls_jb = jb;
	r_guard_publish();
}

void r_guard_leave(void)
{
	r_guard_publish();
	r_tls_jb = NULL;
}

SCALES_READER_API bool scales_label_name_ok(const char *s, size_t n)
{
	return s && scales_shm_label_name_ok(s, n);
}

SCALES_READER_API bool scales_metric_label(const struct scales_metric *m,
                                           size_t i, struct scales_label *out)
{
	/* m->labels passed scales_shm_labels_ok() against m->path */
	const char *l = m ? m->labels : NULL;
	for (; l && *l; i--) {
		char *end;
		unsigned long k = strtoul(l, &end, 10);
		const char *name = end + 1, *next = strchr(name, ',');
		size_t nl = next ? (size_t)(next - name) : strlen(name);
		if (i == 0) {
			const char *p = m->path;
			for (unsigned long c = 0; c < k && p; c++)
				p = strchr(p + (c > 0), '/');
			if (!p)
				return false;
			p++;
			const char *e = strchr(p, '/');
			*out = (struct scales_label){ name, nl, p,
				                      e ? (size_t)(e - p) :
				                          strlen(p),
				                      (unsigned)k };
			return true;
		}
		l = next ? next + 1 : name + nl;
	}
	return false;
}
