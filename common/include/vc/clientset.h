/*
 * clientset.h: one JSON-RPC call over several equivalent servers (active/active venus-gateway
 * instances, several venus-auth), failing over per request.
 *
 * A vc_clientset_t holds one vc_client_t per endpoint. A call goes to the endpoint after the
 * one that answered last (so load spreads and a dead server is skipped at once), and moves on
 * to the next endpoint when:
 *   - the endpoint could not be reached (transport error, VC_ETRANSPORT / VC_EHTTP 5xx), or
 *   - the server answered with an error whose message contains one of the opts'
 *     retry_messages (e.g. the gateway's "send request must have channel" when the wallet
 *     holding the key is connected to another gateway).
 * Any other answer, success or error, is final. When every endpoint failed, the last error is
 * returned.
 *
 * Thread-safe.
 */
#ifndef VC_CLIENTSET_H
#define VC_CLIENTSET_H

#include <jansson.h>
#include <stddef.h>

#include "vc/client.h"

typedef struct vc_clientset vc_clientset_t;

typedef struct vc_clientset_opts {
    vc_client_opts_t client;               /* endpoints: the set; each client gets one of them */
    const char *const *retry_messages;     /* NULL-terminated substrings, may be NULL */
} vc_clientset_opts_t;

int vc_clientset_new(const vc_clientset_opts_t *opts, vc_clientset_t **ret);
vc_clientset_t *vc_clientset_free(vc_clientset_t *s);
size_t vc_clientset_size(const vc_clientset_t *s);
/* As vc_client_call (params stolen). */
int vc_clientset_call(vc_clientset_t *s, const char *method, json_t *params, json_t **ret_result,
                      vc_rpc_err_t *ret_err);
/* The endpoint that answered last (for logs). */
const char *vc_clientset_current(vc_clientset_t *s);

#endif
