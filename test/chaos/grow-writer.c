/* SPDX-License-Identifier: MIT */
/*
 * grow-writer: a victim of the chaos test (chaos.py) whose segment keeps
 * growing: every millisecond it registers a new counter /g/<n> with a help
 * text and sets the state /g/state to a new value "v<n>", so that it writes
 * strings into pages of its string area that it has never touched, also
 * while the file system is full. Registrations that fail (a full segment,
 * a full file system) are expected and ignored: the process must only
 * never die. Prints "ready PATH", then runs until killed or until EOF on
 * stdin. App name "chaosgrow"; the segment directory is $SCALES_DIR.
 */
#include <poll.h>
#include <stdio.h>
#include <unistd.h>

#include <scales/scales.h>

int main(void)
{
	struct scales_options o;
	scales_options_init(&o);
	o.app = "chaosgrow";
	o.max_entries = 2048;
	o.string_bytes = 1 << 20;
	scales_registry *reg;
	int rc = scales_open(&o, &reg);
	if (rc) {
		fprintf(stderr, "grow-writer: scales_open: %s\n",
		        scales_strerror(rc));
		return 3;
	}
	scales_state st;
	scales_state_get(reg, "/g/state", NULL, &st);
	printf("ready %s\n", scales_registry_path(reg));
	fflush(stdout);
	char help[160], path[64], value[32];
	for (unsigned n = 0;; n++) {
		struct pollfd p = { 0, POLLIN, 0 };
		if (poll(&p, 1, 1) > 0) { /* EOF (or a line): stop */
			char buf[64];
			if (read(0, buf, sizeof buf) <= 0)
				break;
		}
		snprintf(path, sizeof path, "/g/%u", n);
		snprintf(help, sizeof help,
		         "counter number %u of a writer whose string area "
		         "grows into pages it never touched before, %u",
		         n, n);
		scales_counter c;
		scales_counter_get(reg, path,
		                   &(struct scales_info){ .help = help }, &c);
		scales_counter_inc(&c); /* a sink if refused */
		snprintf(value, sizeof value, "v%u", n);
		scales_state_set_str(&st, value);
	}
	scales_close(&reg);
	return 0;
}
