/*
 * gw-api.c: the Gateway.* JSON-RPC methods (spec B3) on /rpc/v2 and /rpc/v1. The mount's
 * path_userdata is GW_API_V1 or GW_API_V2; only WalletHas and WalletSign differ.
 */
#include <stdio.h>

#include "gateway.h"
#include "vc/address.h"
#include "vc/log.h"
#include "vc/util.h"

#define ERRLEN 2048

static gw_ctx_t *ctx_of(vc_rpc_call_t *call)
{
    return vc_rpc_call_userdata(call);
}

static bool is_v1(vc_rpc_call_t *call)
{
    return (uintptr_t)vc_rpc_call_path_userdata(call) == 1;
}

static int decode_error(vc_rpc_call_t *call, int idx, const char *what)
{
    return vc_rpc_error(call, VC_RPC_PARSE_ERROR, "unmarshaling params for '%s' (param: %d): expected %s",
                        vc_rpc_call_method(call), idx, what);
}

/* accounts: a JSON array of strings (v2) or one string (v1); *ret borrowed pointers. */
static int accounts_of(vc_rpc_call_t *call, json_t *v, int idx, const char ***ret, size_t *ret_n)
{
    if (json_is_string(v)) {
        const char **a = malloc(sizeof(char *));
        if (!a)
            return -ENOMEM;
        a[0] = json_string_value(v);
        *ret = a;
        *ret_n = 1;
        return 0;
    }
    if (json_is_null(v)) {
        *ret = NULL;
        *ret_n = 0;
        return 0;
    }
    if (!json_is_array(v))
        return decode_error(call, idx, "[]string");
    size_t n = json_array_size(v);
    const char **a = calloc(n + 1, sizeof(char *));
    if (!a)
        return -ENOMEM;
    for (size_t i = 0; i < n; i++)
        if (!(a[i] = json_string_value(json_array_get(v, i)))) {
            free(a);
            return decode_error(call, idx, "[]string");
        }
    *ret = a;
    *ret_n = n;
    return 0;
}

static int check_addr(vc_rpc_call_t *call, json_t *v, int idx, const char **ret)
{
    vc_address_t a;
    const char *s = json_string_value(v);
    if (!s || vc_address_from_string(s, &a) < 0)
        return vc_rpc_error(call, VC_RPC_PARSE_ERROR,
                            "unmarshaling params for '%s' (param: %d): invalid address",
                            vc_rpc_call_method(call), idx);
    *ret = s;
    return 0;
}

/* ---- wallet (client side) ---- */

static int m_list_wallet_info(vc_rpc_call_t *call, json_t *params, json_t **ret)
{
    *ret = gw_list_wallets(ctx_of(call)->gw, NULL);
    return *ret ? 0 : -ENOMEM;
}

static int m_list_wallet_info_by_wallet(vc_rpc_call_t *call, json_t *params, json_t **ret)
{
    const char *w = json_string_value(json_array_get(params, 0));
    if (!w)
        return decode_error(call, 0, "string");
    json_t *d = gw_list_wallets(ctx_of(call)->gw, w);
    if (!d)
        return vc_rpc_error(call, 1, "wallet %s not exit", w);
    *ret = d;
    return 0;
}

static int m_wallet_has(vc_rpc_call_t *call, json_t *params, json_t **ret)
{
    int ia = is_v1(call) ? 1 : 0, iacc = is_v1(call) ? 0 : 1;
    const char *addr = NULL;
    const char **accounts = NULL;
    size_t n = 0;
    int r;
    if ((r = check_addr(call, json_array_get(params, ia), ia, &addr)) < 0)
        return r;
    if (is_v1(call) && !json_is_string(json_array_get(params, iacc)))
        return decode_error(call, iacc, "string");
    if ((r = accounts_of(call, json_array_get(params, iacc), iacc, &accounts, &n)) < 0)
        return r;
    *ret = json_boolean(gw_wallet_has(ctx_of(call)->gw, addr, accounts, n));
    free(accounts);
    return 0;
}

static int m_wallet_sign(vc_rpc_call_t *call, json_t *params, json_t **ret)
{
    int ia = is_v1(call) ? 1 : 0, iacc = is_v1(call) ? 0 : 1;
    const char *addr = NULL;
    const char **accounts = NULL;
    size_t n = 0;
    int r;
    if ((r = check_addr(call, json_array_get(params, ia), ia, &addr)) < 0)
        return r;
    if (is_v1(call) && !json_is_string(json_array_get(params, iacc)))
        return decode_error(call, iacc, "string");
    json_t *ts = json_array_get(params, 2), *meta = json_array_get(params, 3);
    uint8_t *raw = NULL;
    size_t rawlen = 0;
    if (!json_is_string(ts) ||
        vc_base64_decode(json_string_value(ts), json_string_length(ts), &raw, &rawlen) < 0)
        return decode_error(call, 2, "base64 []byte");
    free(raw);
    json_t *mt = json_object_get(meta, "Type"), *mx = json_object_get(meta, "Extra");
    if (!json_is_object(meta) || (mt && !json_is_string(mt)) ||
        (mx && !json_is_string(mx) && !json_is_null(mx)))
        return decode_error(call, 3, "MsgMeta {\"Type\":\"...\",\"Extra\":\"<base64>\"|null}");
    if ((r = accounts_of(call, json_array_get(params, iacc), iacc, &accounts, &n)) < 0)
        return r;
    json_t *m =
        json_pack("{s:s, s:O}", "Type", mt ? json_string_value(mt) : "", "Extra", mx ? mx : json_null());
    char err[ERRLEN];
    json_t *sig = NULL;
    r = m ? gw_wallet_sign(ctx_of(call)->gw, addr, accounts, n, json_string_value(ts), m, &sig, err,
                           sizeof(err))
          : -ENOMEM;
    json_decref(m);
    free(accounts);
    if (r < 0)
        return r == -ENOMEM ? r : vc_rpc_error(call, 1, "%s", err);
    if (!json_is_object(sig) || !json_is_integer(json_object_get(sig, "Type"))) {
        json_decref(sig);
        return vc_rpc_error(call, 1, "the wallet answered WalletSign with something that is not a signature");
    }
    *ret = sig;
    return 0;
}

/* ---- wallet (provider side) ---- */

static int m_listen_wallet_event(vc_rpc_call_t *call, json_t *params, json_t **ret)
{
    return gw_listen_wallet(ctx_of(call)->gw, call, json_array_get(params, 0));
}

static int respond(vc_rpc_call_t *call, json_t *params, gw_kind_t kind)
{
    char err[ERRLEN];
    int r = gw_respond(ctx_of(call)->gw, kind, vc_rpc_call_auth(call), json_array_get(params, 0), err,
                       sizeof(err));
    if (r == VC_EPARSE && !json_is_object(json_array_get(params, 0)))
        return vc_rpc_error(call, VC_RPC_PARSE_ERROR, "%s", err);
    return r < 0 ? vc_rpc_error(call, 1, "%s", err) : 0;
}

static int m_response_wallet_event(vc_rpc_call_t *call, json_t *params, json_t **ret)
{
    return respond(call, params, GW_WALLET);
}

static int chan_id_of(vc_rpc_call_t *call, json_t *params, const char **ret)
{
    const char *s = json_string_value(json_array_get(params, 0));
    if (!s || strlen(s) != 36)
        return decode_error(call, 0, "a channel id (uuid)");
    *ret = s;
    return 0;
}

static int m_support_new_account(vc_rpc_call_t *call, json_t *params, json_t **ret)
{
    const char *id = NULL, *acc = json_string_value(json_array_get(params, 1));
    int r;
    if ((r = chan_id_of(call, params, &id)) < 0)
        return r;
    if (!acc)
        return decode_error(call, 1, "string");
    char err[ERRLEN];
    r = gw_support_new_account(ctx_of(call)->gw, vc_rpc_call_auth(call)->name, id, acc, err, sizeof(err));
    return r < 0 ? vc_rpc_error(call, 1, "%s", err) : 0;
}

static int m_add_new_address(vc_rpc_call_t *call, json_t *params, json_t **ret)
{
    const char *id = NULL;
    int r;
    if ((r = chan_id_of(call, params, &id)) < 0)
        return r;
    char err[ERRLEN];
    r = gw_add_address(ctx_of(call)->gw, vc_rpc_call_auth(call)->name, id, json_array_get(params, 1), err,
                       sizeof(err));
    return r < 0 ? vc_rpc_error(call, r == VC_EPARSE ? VC_RPC_PARSE_ERROR : 1, "%s", err) : 0;
}

static int m_remove_address(vc_rpc_call_t *call, json_t *params, json_t **ret)
{
    const char *id = NULL;
    int r;
    if ((r = chan_id_of(call, params, &id)) < 0)
        return r;
    char err[ERRLEN];
    r = gw_remove_address(ctx_of(call)->gw, vc_rpc_call_auth(call)->name, id, json_array_get(params, 1), err,
                          sizeof(err));
    return r < 0 ? vc_rpc_error(call, r == VC_EPARSE ? VC_RPC_PARSE_ERROR : 1, "%s", err) : 0;
}

/* ---- proof ---- */

static int m_list_connected_miners(vc_rpc_call_t *call, json_t *params, json_t **ret)
{
    *ret = gw_list_miners(ctx_of(call)->gw, GW_PROOF);
    return 0;
}

static int m_list_miner_connection(vc_rpc_call_t *call, json_t *params, json_t **ret)
{
    const char *m = NULL;
    int r;
    if ((r = check_addr(call, json_array_get(params, 0), 0, &m)) < 0)
        return r;
    json_t *st = gw_miner_state(ctx_of(call)->gw, GW_PROOF, m);
    if (!st)
        return vc_rpc_error(call, 1, "miner %s not exit", m);
    *ret = st;
    return 0;
}

static int m_compute_proof(vc_rpc_call_t *call, json_t *params, json_t **ret)
{
    const char *m = NULL;
    int r;
    if ((r = check_addr(call, json_array_get(params, 0), 0, &m)) < 0)
        return r;
    json_t *infos = json_array_get(params, 1), *rnd = json_array_get(params, 2);
    json_t *h = json_array_get(params, 3), *nv = json_array_get(params, 4);
    if (!json_is_array(infos) && !json_is_null(infos))
        return decode_error(call, 1, "[]ExtendedSectorInfo");
    if (!json_is_string(rnd) && !json_is_null(rnd))
        return decode_error(call, 2, "base64 randomness");
    if (!json_is_integer(h))
        return decode_error(call, 3, "abi.ChainEpoch");
    if (!json_is_integer(nv))
        return decode_error(call, 4, "network.Version");
    json_t *payload =
        json_pack("{s:O, s:O, s:O, s:O}", "SectorInfos", infos, "Rand", rnd, "Height", h, "NWVersion", nv);
    char err[ERRLEN];
    json_t *res = NULL;
    r = payload
            ? gw_miner_request(ctx_of(call)->gw, GW_PROOF, m, "ComputeProof", payload, &res, err, sizeof(err))
            : -ENOMEM;
    json_decref(payload);
    if (r < 0)
        return r == -ENOMEM ? r : vc_rpc_error(call, 1, "%s", err);
    if (!json_is_array(res) && !json_is_null(res)) {
        json_decref(res);
        return vc_rpc_error(call, 1,
                            "the prover answered ComputeProof with something that is not a proof list");
    }
    *ret = res;
    return 0;
}

static int m_listen_proof_event(vc_rpc_call_t *call, json_t *params, json_t **ret)
{
    json_t *p = json_array_get(params, 0);
    if (!json_is_object(p))
        return decode_error(call, 0, "ProofRegisterPolicy {\"MinerAddress\":\"f0...\"}");
    return gw_listen_miner(ctx_of(call)->gw, GW_PROOF, call,
                           json_string_value(json_object_get(p, "MinerAddress")));
}

static int m_response_proof_event(vc_rpc_call_t *call, json_t *params, json_t **ret)
{
    return respond(call, params, GW_PROOF);
}

/* ---- market ---- */

static int m_list_market_connections_state(vc_rpc_call_t *call, json_t *params, json_t **ret)
{
    *ret = gw_market_states(ctx_of(call)->gw);
    return 0;
}

static int m_sectors_unseal_piece(vc_rpc_call_t *call, json_t *params, json_t **ret)
{
    const char *m = NULL;
    int r;
    if ((r = check_addr(call, json_array_get(params, 0), 0, &m)) < 0)
        return r;
    json_t *cid = json_array_get(params, 1);
    if (!json_is_object(cid) || !json_is_string(json_object_get(cid, "/")))
        return decode_error(call, 1, "cid.Cid {\"/\":\"...\"}");
    for (int i = 2; i <= 4; i++)
        if (!json_is_integer(json_array_get(params, (size_t)i)) ||
            json_integer_value(json_array_get(params, (size_t)i)) < 0)
            return decode_error(call, i, "uint64");
    if (!json_is_string(json_array_get(params, 5)))
        return decode_error(call, 5, "string");
    json_t *payload = json_pack("{s:O, s:s, s:O, s:O, s:O, s:O}", "PieceCid", cid, "Miner", m, "Sid",
                                json_array_get(params, 2), "Offset", json_array_get(params, 3), "Size",
                                json_array_get(params, 4), "Dest", json_array_get(params, 5));
    char err[ERRLEN];
    json_t *res = NULL;
    r = payload ? gw_miner_request(ctx_of(call)->gw, GW_MARKET, m, "SectorsUnsealPiece", payload, &res, err,
                                   sizeof(err))
                : -ENOMEM;
    json_decref(payload);
    if (r < 0)
        return r == -ENOMEM ? r : vc_rpc_error(call, 1, "%s", err);
    if (!json_is_string(res)) {
        json_decref(res);
        return vc_rpc_error(call, 1,
                            "the provider answered SectorsUnsealPiece with something that is not a state");
    }
    *ret = res;
    return 0;
}

static int m_listen_market_event(vc_rpc_call_t *call, json_t *params, json_t **ret)
{
    json_t *p = json_array_get(params, 0);
    if (!json_is_object(p))
        return decode_error(call, 0, "MarketRegisterPolicy {\"Miner\":\"f0...\"}");
    return gw_listen_miner(ctx_of(call)->gw, GW_MARKET, call, json_string_value(json_object_get(p, "Miner")));
}

static int m_response_market_event(vc_rpc_call_t *call, json_t *params, json_t **ret)
{
    return respond(call, params, GW_MARKET);
}

/* ---- misc ---- */

static int m_register_reverse(vc_rpc_call_t *call, json_t *params, json_t **ret)
{
    const char *key = json_string_value(json_array_get(params, 0));
    const char *url = json_string_value(json_array_get(params, 1));
    if (!key)
        return decode_error(call, 0, "HostKey string");
    if (!url && !json_is_null(json_array_get(params, 1)))
        return decode_error(call, 1, "string");
    int r = gw_proxy_set(ctx_of(call)->proxy, key, url);
    if (r == -EINVAL)
        return vc_rpc_error(
            call, 1, "invalid host key %s (use VENUS, DROPLET, MESSAGER, AUTH, MINER or GATEWAY)", key);
    if (r < 0)
        return vc_rpc_error(call, 1, "invalid address %s: %s", url, vc_strerror(r));
    vc_logkv(VC_LOG_NOTICE, "gateway", "reverse proxy changed", "host", key, "url",
             vc_strempty(url) ? "-" : url, NULL);
    return 0;
}

static int m_version(vc_rpc_call_t *call, json_t *params, json_t **ret)
{
    *ret = json_pack("{s:s, s:i}", "Version", GW_VERSION, "APIVersion", 0);
    return 0;
}

/* HaStatus (admin): gateways are active/active without a database (DESIGN.md section 5), so
 * there is no lease and no presence table: clients list every gateway themselves. */
static int m_ha_status(vc_rpc_call_t *call, json_t *params, json_t **ret)
{
    gw_ctx_t *g = ctx_of(call);
    *ret = json_pack("{s:b, s:s, s:s, s:n, s:{s:I, s:I, s:I}}", "Enabled", 0, "Role", "active", "Holder", g->holder,
                     "Peers", "Connections", "Wallets", (json_int_t)gw_count_conns(g->gw, GW_WALLET), "Provers",
                     (json_int_t)gw_count_conns(g->gw, GW_PROOF), "Markets",
                     (json_int_t)gw_count_conns(g->gw, GW_MARKET));
    return *ret ? 0 : -ENOMEM;
}

static const vc_rpc_method_t methods[] = {
    {"Gateway.ListWalletInfo", VC_PERM_ADMIN, 0, m_list_wallet_info, VC_RPC_FAST},
    {"Gateway.ListWalletInfoByWallet", VC_PERM_ADMIN, 1, m_list_wallet_info_by_wallet, VC_RPC_FAST},
    {"Gateway.WalletHas", VC_PERM_ADMIN, 2, m_wallet_has, VC_RPC_FAST},
    {"Gateway.WalletSign", VC_PERM_ADMIN, 4, m_wallet_sign, 0},
    {"Gateway.ListenWalletEvent", VC_PERM_READ, 1, m_listen_wallet_event, VC_RPC_CHANNEL},
    {"Gateway.ResponseWalletEvent", VC_PERM_READ, 1, m_response_wallet_event, VC_RPC_FAST},
    {"Gateway.SupportNewAccount", VC_PERM_READ, 2, m_support_new_account, 0},
    {"Gateway.AddNewAddress", VC_PERM_READ, 2, m_add_new_address, 0},
    {"Gateway.RemoveAddress", VC_PERM_READ, 2, m_remove_address, VC_RPC_FAST},
    {"Gateway.ListConnectedMiners", VC_PERM_ADMIN, 0, m_list_connected_miners, VC_RPC_FAST},
    {"Gateway.ListMinerConnection", VC_PERM_ADMIN, 1, m_list_miner_connection, VC_RPC_FAST},
    {"Gateway.ComputeProof", VC_PERM_ADMIN, 5, m_compute_proof, 0},
    {"Gateway.ListenProofEvent", VC_PERM_READ, 1, m_listen_proof_event, VC_RPC_CHANNEL},
    {"Gateway.ResponseProofEvent", VC_PERM_READ, 1, m_response_proof_event, VC_RPC_FAST},
    {"Gateway.ListMarketConnectionsState", VC_PERM_ADMIN, 0, m_list_market_connections_state, VC_RPC_FAST},
    {"Gateway.SectorsUnsealPiece", VC_PERM_ADMIN, 6, m_sectors_unseal_piece, 0},
    {"Gateway.ListenMarketEvent", VC_PERM_READ, 1, m_listen_market_event, VC_RPC_CHANNEL},
    {"Gateway.ResponseMarketEvent", VC_PERM_READ, 1, m_response_market_event, VC_RPC_FAST},
    {"Gateway.RegisterReverse", VC_PERM_ADMIN, 2, m_register_reverse, VC_RPC_FAST},
    {"Gateway.Version", VC_PERM_READ, 0, m_version, VC_RPC_FAST},
    {"Gateway.HaStatus", VC_PERM_ADMIN, 0, m_ha_status, VC_RPC_FAST},
};

int gw_api_register(vc_rpc_server_t *rpc)
{
    return vc_rpc_register(rpc, methods, VC_ELEMENTSOF(methods));
}
