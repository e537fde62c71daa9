/* SPDX-License-Identifier: MIT */
/*
 * count_stat.c: fstat64(), stat64(), pread64() at offset 0 (a segment's
 * header) and getpid() of this test program, counted.
 * The reader library (linked in statically) calls these names (meson
 * builds with _FILE_OFFSET_BITS=64); defined here they take the place of
 * glibc's, and the calls go on to the kernel unchanged. No <sys/stat.h>:
 * its prototypes use struct stat64.
 */
#include <fcntl.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "count_stat.h"

unsigned long count_fstat, count_ns_stat, count_hdr_pread, count_getpid;

int fstat64(int fd, void *st);
int stat64(const char *path, void *st);

int fstat64(int fd, void *st)
{
	count_fstat++;
	return (int)syscall(SYS_newfstatat, fd, "", st, AT_EMPTY_PATH);
}

int stat64(const char *path, void *st)
{
	if (!strcmp(path, "/proc/self/ns/pid"))
		count_ns_stat++;
	return (int)syscall(SYS_newfstatat, AT_FDCWD, path, st, 0);
}

ssize_t pread64(int fd, void *buf, size_t n, __off64_t off)
{
	if (off == 0)
		count_hdr_pread++;
	return (ssize_t)syscall(SYS_pread64, fd, buf, n, off);
}

pid_t getpid(void)
{
	count_getpid++;
	return (pid_t)syscall(SYS_getpid);
}
