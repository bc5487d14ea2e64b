/* clientset.c: per-request failover over equivalent servers (see clientset.h). */
#include "vc/clientset.h"

#include <errno.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "vc/util.h"

struct vc_clientset {
    vc_client_t **c;
    size_t n;
    char **retry;            /* owned copies, NULL-terminated */
    int rounds;
    int backoff_ms;
    atomic_size_t last;      /* index that answered last */
};

vc_clientset_t *vc_clientset_free(vc_clientset_t *s)
{
    if (!s)
        return NULL;
    for (size_t i = 0; i < s->n; i++)
        vc_client_free(s->c[i]);
    free(s->c);
    for (size_t i = 0; s->retry && s->retry[i]; i++)
        free(s->retry[i]);
    free(s->retry);
    free(s);
    return NULL;
}

int vc_clientset_new(const vc_clientset_opts_t *opts, vc_clientset_t **ret)
{
    if (!opts || opts->client.n_endpoints == 0)
        return -EINVAL;
    vc_clientset_t *s = calloc(1, sizeof(*s));
    if (!s)
        return -ENOMEM;
    size_t nr = 0;
    while (opts->retry_messages && opts->retry_messages[nr])
        nr++;
    s->c = calloc(opts->client.n_endpoints, sizeof(*s->c));
    s->retry = calloc(nr + 1, sizeof(*s->retry));
    if (!s->c || !s->retry) {
        vc_clientset_free(s);
        return -ENOMEM;
    }
    for (size_t i = 0; i < nr; i++)
        if (!(s->retry[i] = strdup(opts->retry_messages[i]))) {
            vc_clientset_free(s);
            return -ENOMEM;
        }
    s->rounds = 1 + (opts->client.retries > 0 ? opts->client.retries : opts->client.retries < 0 ? 0 : 2);
    s->backoff_ms = opts->client.retry_backoff_ms > 0 ? opts->client.retry_backoff_ms : 200;
    for (size_t i = 0; i < opts->client.n_endpoints; i++) {
        vc_client_opts_t o = opts->client;
        o.endpoints = &opts->client.endpoints[i];
        o.n_endpoints = 1;
        o.retries = -1; /* the set moves on to the next server instead */
        int r = vc_client_new(&o, &s->c[i]);
        if (r < 0) {
            vc_clientset_free(s);
            return r;
        }
        s->n++;
    }
    *ret = s;
    return 0;
}

size_t vc_clientset_size(const vc_clientset_t *s)
{
    return s->n;
}

const char *vc_clientset_current(vc_clientset_t *s)
{
    return vc_client_current(s->c[atomic_load(&s->last) % s->n]);
}

static bool worth_another(const vc_clientset_t *s, int r, const vc_rpc_err_t *e)
{
    if (r == VC_ETRANSPORT || r == -ETIMEDOUT || r == -EIO)
        return true;
    if (r == VC_EHTTP)
        return e->code >= 500 || e->code == 0;
    if (r != VC_EREMOTE)
        return false;
    for (size_t i = 0; s->retry[i]; i++)
        if (strstr(e->message, s->retry[i]))
            return true;
    return false;
}

int vc_clientset_call(vc_clientset_t *s, const char *method, json_t *params, json_t **ret_result,
                      vc_rpc_err_t *ret_err)
{
    vc_rpc_err_t e = {0};
    int r = VC_ETRANSPORT;
    size_t start = atomic_load(&s->last);
    if (!params && !(params = json_array()))
        return -ENOMEM;
    for (int round = 0; round < s->rounds; round++) {
        if (round > 0)
            vc_sleep_ms((int64_t)s->backoff_ms << (round - 1));
        for (size_t k = 0; k < s->n; k++) {
            size_t i = (start + k) % s->n;
            memset(&e, 0, sizeof(e));
            r = vc_client_call(s->c[i], method, json_incref(params), ret_result, &e);
            if (!worth_another(s, r, &e)) {
                atomic_store(&s->last, i);
                goto out;
            }
        }
    }
out:
    json_decref(params);
    if (ret_err)
        *ret_err = e;
    return r;
}
