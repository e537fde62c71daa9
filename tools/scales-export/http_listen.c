/* SPDX-License-Identifier: MIT */
/*
 * http_listen.c: the listening address of scales-export --http: parsing
 * HOST:PORT, [IPV6]:PORT or PORT (loopback only unless remote serving is
 * asked for), and opening the listening socket.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "http_internal.h"

static bool loopback(const struct sockaddr *sa)
{
	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *in = (const void *)sa;
		return (ntohl(in->sin_addr.s_addr) >> 24) == 127;
	}
	if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *in6 = (const void *)sa;
		if (IN6_IS_ADDR_LOOPBACK(&in6->sin6_addr))
			return true;
		return IN6_IS_ADDR_V4MAPPED(&in6->sin6_addr) &&
		       in6->sin6_addr.s6_addr[12] == 127;
	}
	return false;
}

int http_parse_listen(const char *spec, bool allow_remote,
                      struct sockaddr_storage *out, socklen_t *outlen,
                      char *err, size_t errlen)
{
	char host[256] = "127.0.0.1", port[16] = "0";
	const char *s = spec ? spec : "";
	const char *colon = strrchr(s, ':');
	if (!*s) {
		/* defaults */
	} else if (s[0] == '[') {
		const char *close = strchr(s, ']');
		if (!close || close[1] != ':' || !close[2] ||
		    (size_t)(close - s - 1) >= sizeof(host)) {
			snprintf(err, errlen, "\"%s\": expected [IPV6]:PORT",
			         s);
			return -EINVAL;
		}
		memcpy(host, s + 1, (size_t)(close - s - 1));
		host[close - s - 1] = 0;
		snprintf(port, sizeof(port), "%.15s", close + 2);
		if (strlen(close + 2) >= sizeof(port))
			port[0] = 'x';
	} else if (!colon) {
		snprintf(port, sizeof(port), "%.15s", s);
		if (strlen(s) >= sizeof(port))
			port[0] = 'x';
	} else {
		size_t hl = (size_t)(colon - s);
		if (hl >= sizeof(host)) {
			snprintf(err, errlen, "\"%s\": host name too long", s);
			return -EINVAL;
		}
		if (hl) {
			memcpy(host, s, hl);
			host[hl] = 0;
		}
		if (strchr(host, ':')) {
			snprintf(err, errlen,
			         "\"%s\": write IPv6 addresses as [ADDR]:PORT",
			         s);
			return -EINVAL;
		}
		snprintf(port, sizeof(port), "%.15s", colon + 1);
		if (strlen(colon + 1) >= sizeof(port))
			port[0] = 'x';
	}
	char *end;
	errno = 0;
	unsigned long p = strtoul(port, &end, 10);
	if (!port[0] || *end || errno || p > 65535 || port[0] == '-' ||
	    port[0] == '+') {
		snprintf(err, errlen, "\"%s\": bad port (0 to 65535)", s);
		return -EINVAL;
	}
	struct addrinfo hints = { 0 }, *res = NULL;
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_NUMERICSERV | AI_PASSIVE;
	int rc = getaddrinfo(host, port, &hints, &res);
	if (rc || !res) {
		snprintf(err, errlen, "\"%s\": %s", s,
		         rc ? gai_strerror(rc) : "no address");
		return -EINVAL;
	}
	memcpy(out, res->ai_addr, res->ai_addrlen);
	*outlen = res->ai_addrlen;
	freeaddrinfo(res);
	if (!allow_remote && !loopback((struct sockaddr *)out)) {
		snprintf(err, errlen,
		         "refusing to listen on %s: not a loopback address "
		         "(serving other hosts must be asked for explicitly)",
		         s);
		return -EACCES;
	}
	return 0;
}

/* ------------------------------------------------------------ requests */

/* ------------------------------------------------------------- socket */

int http_listen_socket(const struct sockaddr_storage *ss, socklen_t len,
                       const char *spec)
{
	int fd = socket(ss->ss_family,
	                SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0) {
		int e = errno;
		fprintf(stderr, "scales-export: --http %s: socket: %s\n", spec,
		        strerror(e));
		return -e;
	}
	int one = 1;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (ss->ss_family == AF_INET6)
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
	if (bind(fd, (const struct sockaddr *)ss, len) || listen(fd, 64)) {
		int e = errno;
		fprintf(stderr, "scales-export: --http %s: %s\n", spec,
		        strerror(e));
		close(fd);
		return -e;
	}
	return fd;
}
