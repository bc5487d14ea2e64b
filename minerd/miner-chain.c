/* miner-chain.c: upstream calls and the randomness/VRF helpers of A.3.2. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "miner-internal.h"
#include "vc/bigint.h"
#include "vc/blake2b.h"
#include "vc/cbor.h"
#include "vc/signature.h"
#include "vc/util.h"

static void rpc_err(const char *method, int r, const vc_rpc_err_t *e, const char *where, char *err, size_t errlen)
{
    if (!err)
        return;
    const char *short_m = strchr(method, '.') ? strchr(method, '.') + 1 : method;
    if (r == VC_EREMOTE || r == VC_EHTTP)
        snprintf(err, errlen, "%s: %s", short_m, *e->message ? e->message : vc_strerror(r));
    else
        snprintf(err, errlen, "%s: %s (%s)", short_m, vc_strerror(r), where);
}

int miner_rpc_report(miner_t *m, const char *method, json_t *params, const char *seed, vc_nodepool_report_t *ret_report,
                     json_t **ret, char *err, size_t errlen)
{
    vc_rpc_err_t e = {0};
    vc_nodepool_report_t rep;
    json_t *res = NULL;
    int r = vc_nodepool_call_report(m->o.pool, method, params, seed, &rep, &res, &e);
    if (ret_report)
        *ret_report = rep;
    if (r < 0) {
        /* the pool's own failures say which node, or that none is healthy */
        if (err && r != VC_EREMOTE && r != VC_EHTTP && *e.message)
            snprintf(err, errlen, "%s: %s", strchr(method, '.') ? strchr(method, '.') + 1 : method, e.message);
        else
            rpc_err(method, r, &e, rep.node[0] ? rep.node : "chain-node pool", err, errlen);
        return r;
    }
    if (ret)
        *ret = res;
    else
        json_decref(res);
    return 0;
}

int miner_rpc(miner_t *m, const char *method, json_t *params, const char *seed, json_t **ret, char *err, size_t errlen)
{
    return miner_rpc_report(m, method, params, seed, NULL, ret, err, errlen);
}

int miner_client_rpc(vc_client_t *c, const char *method, json_t *params, json_t **ret, char *err, size_t errlen)
{
    vc_rpc_err_t e = {0};
    json_t *res = NULL;
    int r = vc_client_call(c, method, params, &res, &e);
    if (r < 0) {
        rpc_err(method, r, &e, vc_client_current(c), err, errlen);
        return r;
    }
    if (ret)
        *ret = res;
    else
        json_decref(res);
    return 0;
}

int miner_gw_rpc(miner_t *m, const char *method, json_t *params, json_t **ret, char *err, size_t errlen)
{
    vc_rpc_err_t e = {0};
    json_t *res = NULL;
    int r = vc_clientset_call(m->o.gateway, method, params, &res, &e);
    if (r < 0) {
        rpc_err(method, r, &e, vc_clientset_current(m->o.gateway), err, errlen);
        return r;
    }
    if (ret)
        *ret = res;
    else
        json_decref(res);
    return 0;
}

static void put_be64(uint8_t *p, int64_t v)
{
    uint64_t u = (uint64_t)v;
    for (int i = 7; i >= 0; i--, u >>= 8)
        p[i] = (uint8_t)u;
}

void miner_draw_randomness(const uint8_t *rbase, size_t rlen, int64_t pers, int64_t round, const uint8_t *entropy,
                           size_t elen, uint8_t out[32])
{
    uint8_t hr[32], be[8];
    vc_blake2b_256(rbase, rlen, hr);
    vc_blake2b_t st;
    vc_blake2b_init(&st, 32);
    put_be64(be, pers);
    vc_blake2b_update(&st, be, 8);
    vc_blake2b_update(&st, hr, 32);
    put_be64(be, round);
    vc_blake2b_update(&st, be, 8);
    if (elen)
        vc_blake2b_update(&st, entropy, elen);
    vc_blake2b_final(&st, out);
}

int miner_addr_entropy(const vc_address_t *a, uint8_t *out, size_t size, size_t *ret_len)
{
    vc_buf_t b = {0};
    int r = vc_cbor_put_address(&b, a);
    if (r == 0 && b.len > size)
        r = VC_ETOOBIG;
    if (r == 0) {
        memcpy(out, b.data, b.len);
        *ret_len = b.len;
    }
    vc_buf_done(&b);
    return r;
}

/* DrawRandomParams as fxamacker/cbor encodes the Go struct: a map in declaration order. */
static int draw_params_cbor(const uint8_t *rbase, size_t rlen, int64_t pers, int64_t round, const uint8_t *entropy,
                            size_t elen, vc_buf_t *b)
{
    int r = vc_cbor_put_map(b, 4);
    r = r ?: vc_cbor_put_text(b, "Rbase", 5);
    r = r ?: vc_cbor_put_bytes(b, rbase, rlen);
    r = r ?: vc_cbor_put_text(b, "Pers", 4);
    r = r ?: vc_cbor_put_int(b, pers);
    r = r ?: vc_cbor_put_text(b, "Round", 5);
    r = r ?: vc_cbor_put_int(b, round);
    r = r ?: vc_cbor_put_text(b, "Entropy", 7);
    r = r ?: vc_cbor_put_bytes(b, entropy, elen);
    return r;
}

int miner_vrf(miner_t *m, const char *worker, const char *user, const uint8_t *rbase, size_t rlen, int64_t pers,
              int64_t round, const uint8_t *entropy, size_t elen, uint8_t **ret, size_t *ret_len, char *err,
              size_t errlen)
{
    vc_buf_t b = {0};
    int r = draw_params_cbor(rbase, rlen, pers, round, entropy, elen, &b);
    char *tosign = r == 0 ? vc_base64_encode((const uint8_t *)b.data, b.len) : NULL;
    vc_buf_done(&b);
    if (!tosign) {
        snprintf(err, errlen, "encode DrawRandomParams: %s", vc_strerror(r < 0 ? r : -ENOMEM));
        return r < 0 ? r : -ENOMEM;
    }
    json_t *res = NULL;
    r = miner_gw_rpc(m, "Gateway.WalletSign",
                  json_pack("[s, [s], s, {s:s, s:n}]", worker, user, tosign, "Type", "drawrandomparam", "Extra"), &res,
                  err, errlen);
    free(tosign);
    if (r < 0)
        return r;
    vc_signature_t sig;
    r = vc_signature_from_json(res, &sig);
    json_decref(res);
    if (r < 0 || sig.len == 0) {
        snprintf(err, errlen, "WalletSign: the gateway sent a malformed signature");
        return r < 0 ? r : VC_EPARSE;
    }
    if (!(*ret = malloc(sig.len)))
        return -ENOMEM;
    memcpy(*ret, sig.data, sig.len);
    *ret_len = sig.len;
    return 0;
}

int miner_rbase(const json_t *mbi, uint8_t **ret, size_t *ret_len)
{
    const json_t *be = json_object_get(mbi, "BeaconEntries");
    const json_t *e = json_array_size(be) ? json_array_get(be, json_array_size(be) - 1)
                                          : json_object_get(mbi, "PrevBeaconEntry");
    const json_t *d = json_object_get(e, "Data");
    if (!json_is_string(d))
        return VC_ETYPE;
    return vc_base64_decode(json_string_value(d), json_string_length(d), ret, ret_len);
}

int miner_json_bigint(const json_t *j, vc_bigint_t *ret)
{
    if (!json_is_string(j))
        return VC_ETYPE;
    return vc_bigint_from_string(json_string_value(j), ret);
}
