/* SPDX-License-Identifier: MIT */
/*
 * count_stat.c: fstat64() and stat64() of this test program, counted.
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

unsigned long count_fstat, count_ns_stat;

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
