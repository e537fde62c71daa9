/* SPDX-License-Identifier: MIT */
/*
 * scales-http: a standalone front end to the HTTP side of scales-export
 * (tools/scales-export/http), for the tests and for trying the pages:
 *
 *   scales-http [--http ADDR:PORT] [--allow-remote] [--per-process]
 *               [--history N] [--interval-ms N] [-d DIR] [SELECTOR...]
 *
 * Prints "listening http://HOST:PORT/" on stdout once it serves, then
 * waits for SIGTERM or SIGINT. Exit status: 0 after a signal, 2 for bad
 * usage, 1 if the server did not start.
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http.h"

static void usage(FILE *f)
{
	fprintf(f, "usage: scales-http [--http ADDR:PORT] [--allow-remote] "
	           "[--per-process]\n"
	           "                   [--history N] [--interval-ms N] "
	           "[-d DIR] [SELECTOR...]\n");
}

static int number(const char *s, unsigned *out)
{
	char *end;
	errno = 0;
	unsigned long v = strtoul(s, &end, 10);
	if (!*s || *end || errno || v > 1000000 || s[0] == '-')
		return -1;
	*out = (unsigned)v;
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "http", required_argument, NULL, 'H' },
		{ "allow-remote", no_argument, NULL, 'R' },
		{ "per-process", no_argument, NULL, 'P' },
		{ "history", required_argument, NULL, 'N' },
		{ "interval-ms", required_argument, NULL, 'I' },
		{ "dir", required_argument, NULL, 'd' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct export_http_options o = { 0 };
	o.listen = "127.0.0.1:0";
	o.quiet = true;
	int c;
	while ((c = getopt_long(argc, argv, "d:h", longopts, NULL)) != -1) {
		switch (c) {
		case 'H':
			o.listen = optarg;
			break;
		case 'R':
			o.allow_remote = true;
			break;
		case 'P':
			o.per_process = true;
			break;
		case 'N':
			if (number(optarg, &o.history)) {
				fprintf(stderr, "scales-http: bad --history\n");
				return 2;
			}
			break;
		case 'I':
			if (number(optarg, &o.interval_ms)) {
				fprintf(stderr,
				        "scales-http: bad --interval-ms\n");
				return 2;
			}
			break;
		case 'd':
			o.dir = optarg;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	o.selectors = (const char *const *)(argv + optind);
	o.nselectors = (size_t)(argc - optind);

	sigset_t stop;
	sigemptyset(&stop);
	sigaddset(&stop, SIGTERM);
	sigaddset(&stop, SIGINT);
	pthread_sigmask(SIG_BLOCK, &stop, NULL);

	int rc = export_http_start(&o);
	if (rc)
		return rc == -EINVAL || rc == -EACCES ? 2 : 1;
	const char *host = o.listen;
	/* print the address as given, with the real port */
	char h[300] = "127.0.0.1";
	if (host && *host) {
		const char *colon = strrchr(host, ':');
		if (host[0] == '[') {
			const char *close = strchr(host, ']');
			snprintf(h, sizeof(h), "%.*s", (int)(close - host + 1),
			         host);
		} else if (colon && colon > host) {
			snprintf(h, sizeof(h), "%.*s", (int)(colon - host),
			         host);
		}
	}
	printf("listening http://%s:%u/\n", h, export_http_port());
	fflush(stdout);
	int sig;
	sigwait(&stop, &sig);
	export_http_stop();
	return 0;
}
