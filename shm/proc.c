/* SPDX-License-Identifier: MIT */
/*
 * proc.c: a process's start time, field 22 of /proc/<pid>/stat, which with
 * the pid names a process for the life of the machine (docs/format.md
 * sections 2 and 11).
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "scales_shm.h"

bool scales_shm_parse_stat_start(const char *buf, uint64_t *start)
{
	/* comm (field 2) may hold spaces and ')': fields resume after the
	 * last ')' */
	const char *p = strrchr(buf, ')');
	if (!p)
		return false;
	p++;
	/* field 3 starts after p; field 22 is 19 fields further */
	for (int field = 3; field < 22; field++) {
		while (*p == ' ')
			p++;
		while (*p && *p != ' ')
			p++;
		if (!*p)
			return false;
	}
	while (*p == ' ')
		p++;
	uint64_t v = 0;
	const char *d = p;
	for (; *p >= '0' && *p <= '9'; p++) {
		unsigned c = (unsigned)(*p - '0');
		if (v > (UINT64_MAX - c) / 10)
			return false;
		v = v * 10 + c;
	}
	if (p == d || (*p && *p != ' ' && *p != '\n'))
		return false;
	*start = v;
	return true;
}

int scales_shm_proc_start_time(int32_t pid, uint64_t *start)
{
	char fn[64], buf[1024];
	snprintf(fn, sizeof(fn), "/proc/%" PRId32 "/stat", pid);
	int fd = open(fn, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT || errno == ESRCH ? -ENOENT : -errno;
	ssize_t n = read(fd, buf, sizeof(buf) - 1);
	int e = errno;
	close(fd);
	if (n <= 0) /* a process that exits while we read: gone */
		return n == 0 || e == ESRCH ? -ENOENT : -e;
	buf[n] = 0;
	return scales_shm_parse_stat_start(buf, start) ? 0 : -EIO;
}
