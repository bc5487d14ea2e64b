/*
 * netaddr.h: listen addresses and endpoint URLs as Venus operators write them.
 *
 * Accepted listen forms: "127.0.0.1:8989", "[::1]:8989", ":8989" (all IPv4 interfaces),
 * "localhost:8989", and multiaddrs "/ip4/127.0.0.1/tcp/8989", "/ip6/::1/tcp/8989",
 * "/dns/host/tcp/8989" (optionally followed by "/http" or "/ws").
 */
#ifndef VC_NETADDR_H
#define VC_NETADDR_H

#include <stddef.h>
#include <sys/socket.h>

/* Resolves a listen address (numeric or a resolvable name) into *ret_addr / *ret_len. */
int vc_netaddr_parse_listen(const char *s, struct sockaddr_storage *ret_addr, socklen_t *ret_len);

/* Formats "ip:port" or "[ip6]:port" into out (at least 64 bytes). */
void vc_netaddr_format(const struct sockaddr *sa, char *out, size_t outlen);

/*
 * Turns an endpoint as configured (URL "http://h:p/path", "ws://...", bare "host:port", or a
 * multiaddr) into a URL with the given default scheme ("http" or "ws") and default path (used
 * when the input has none, e.g. "/rpc/v0"). ws<->http schemes are swapped to want_scheme when
 * want_scheme is not NULL. Returns a malloc'ed string in *ret.
 */
int vc_netaddr_to_url(const char *endpoint, const char *want_scheme, const char *default_path,
                      char **ret);

#endif
