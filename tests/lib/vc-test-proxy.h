/*
 * vc-test-proxy.h: a TCP forwarder on 127.0.0.1 for failover tests: a second address of one real
 * daemon (e.g. two "chain nodes" fed the same chain) that can be taken down (every connection
 * cut, the port refusing connections) and brought back on the same port.
 */
#ifndef VC_TEST_PROXY_H
#define VC_TEST_PROXY_H

typedef struct vc_test_proxy vc_test_proxy_t;

/* Listens on 127.0.0.1:<free port> and forwards each connection to target, "host:port" or a URL
 * "http://host:port[/...]". NULL on failure (message on stderr). */
vc_test_proxy_t *vc_test_proxy_start(const char *target);
unsigned vc_test_proxy_port(const vc_test_proxy_t *p);
/* Down: closes the listener and every connection; returns once done. Up: listens again on the
 * same port (0, or a negative errno). */
void vc_test_proxy_down(vc_test_proxy_t *p);
int vc_test_proxy_up(vc_test_proxy_t *p);
/* The most connections forwarded at the same time so far: clients that keep idle connections
 * for reuse open a second one only while the first is busy, so this shows how many requests
 * were in flight together. */
unsigned vc_test_proxy_max_conns(vc_test_proxy_t *p);
/* Stops and frees (accepts NULL). */
void vc_test_proxy_free(vc_test_proxy_t *p);

#endif
