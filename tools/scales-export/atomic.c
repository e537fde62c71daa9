/* SPDX-License-Identifier: MIT */
/*
 * atomic.c: writing a whole file atomically (--json-file, --textfile):
 * readers see the previous file or the new one, never a part.
 */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "main.h"

/* The process's umask, read without changing it: umask(0) then umask(old)
 * would give files that another thread creates in between mode 0666.
 * Linux shows it in /proc/self/status (since 4.7). Returns -1 where it
 * cannot be read. */
static int umask_read(mode_t *out)
{
	FILE *f = fopen("/proc/self/status", "re");
	if (!f)
		return -1;
	char line[256];
	int rc = -1;
	while (rc && fgets(line, sizeof(line), f)) {
		unsigned m;
		if (sscanf(line, "Umask: %o", &m) == 1 && m <= 0777) {
			*out = (mode_t)m;
			rc = 0;
		}
	}
	fclose(f);
	return rc;
}

int atomic_write_file(const char *path, const char *data, size_t len,
                      const char **why, int *errp)
{
	char *tmp = NULL;
	int err = 0;
	*why = "out of memory";
	*errp = 0;
	char *dcopy = strdup(path), *bcopy = strdup(path);
	if (dcopy && bcopy) {
		size_t n = strlen(path) + 32;
		tmp = malloc(n);
		if (tmp)
			snprintf(tmp, n, "%s/.%s.XXXXXX", dirname(dcopy),
			         basename(bcopy));
	}
	free(dcopy);
	free(bcopy);
	if (!tmp)
		return -1;
	int fd = mkostemp(tmp, O_CLOEXEC);
	if (fd < 0) {
		*errp = errno;
		*why = "cannot create a temporary file";
		free(tmp);
		return -1;
	}
	/* mkostemp makes it 0600: give it the mode a plain open() would; an
	 * umask that cannot be read leaves 0600 (never more than asked) */
	mode_t um;
	if (!umask_read(&um) && fchmod(fd, 0666 & ~um) < 0) {
		*errp = errno;
		*why = "cannot set the file mode";
		close(fd);
		unlink(tmp);
		free(tmp);
		return -1;
	}
	size_t off = 0;
	while (off < len) {
		ssize_t w = write(fd, data + off, len - off);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			err = w < 0 ? errno : EIO;
			break;
		}
		off += (size_t)w;
	}
	if (off == len && fsync(fd) < 0)
		err = errno;
	if (close(fd) < 0 && !err)
		err = errno;
	if (!err && rename(tmp, path) < 0)
		err = errno;
	if (err) {
		*why = "cannot write";
		*errp = err;
		unlink(tmp);
	}
	free(tmp);
	return err ? -1 : 0;
}
