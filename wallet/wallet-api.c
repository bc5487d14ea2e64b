/* wallet-api.c: Filecoin.Wallet* methods over the keystore. */
#include "wallet-api.h"

#include <sodium.h>

#include "vc/log.h"
#include "wallet-sign.h"

struct wallet_api {
    wallet_ks_t *ks;
    vc_rpc_server_t *rpc;
};

static wallet_ks_t *ks_of(vc_rpc_call_t *call)
{
    return ((wallet_api_t *)vc_rpc_call_userdata(call))->ks;
}

static int fail(vc_rpc_call_t *call, int r)
{
    return vc_rpc_error(call, VC_RPC_APP_ERROR, "%s", wallet_strerror(r));
}

static int param_addr(vc_rpc_call_t *call, json_t *params, size_t i, vc_address_t *ret)
{
    const char *s = json_string_value(json_array_get(params, i));
    if (!s)
        return vc_rpc_error(call, VC_RPC_PARSE_ERROR, "unmarshaling params for '%s' (param: %zu): expected an address string",
                            vc_rpc_call_method(call), i);
    int r = vc_address_from_string(s, ret);
    if (r < 0)
        return vc_rpc_error(call, VC_RPC_PARSE_ERROR, "unmarshaling params for '%s' (param: %zu): invalid address '%s': %s",
                            vc_rpc_call_method(call), i, s, vc_strerror(r));
    return 0;
}

static json_t *addr_json(wallet_ks_t *ks, const vc_address_t *a)
{
    char s[VC_ADDRESS_STRLEN_MAX];
    if (vc_address_to_string(a, wallet_ks_network(ks), s) < 0)
        return NULL;
    return json_string(s);
}

static int addr_result(wallet_ks_t *ks, const vc_address_t *a, json_t **ret)
{
    *ret = addr_json(ks, a);
    return *ret ? 0 : -ENOMEM;
}

static int m_new(vc_rpc_call_t *call, json_t *params, json_t **ret)
{
    const char *t = json_string_value(json_array_get(params, 0));
    vc_key_type_t type;
    vc_address_t a;
    if (!t)
        return vc_rpc_error(call, VC_RPC_PARSE_ERROR, "unmarshaling params for 'WalletNew': expected a key type string");
    if (vc_key_type_from_string(t, &type) < 0)
        return vc_rpc_error(call, VC_RPC_APP_ERROR, "unsupported key type: %s", t);
    int r = wallet_ks_new(ks_of(call), type, &a);
    return r < 0 ? fail(call, r) : addr_result(ks_of(call), &a, ret);
}

static int m_has(vc_rpc_call_t *call, json_t *params, json_t **ret)
{
    vc_address_t a;
    int r = param_addr(call, params, 0, &a);
    if (r < 0)
        return r;
    *ret = json_boolean(wallet_ks_has(ks_of(call), &a));
    return 0;
}

static int m_list(vc_rpc_call_t *call, json_t *params, json_t **ret)
{
    wallet_ks_t *ks = ks_of(call);
    vc_address_t *v = NULL;
    size_t n = 0;
    int r = wallet_ks_list(ks, &v, &n);
    if (r < 0)
        return r;
    json_t *arr = json_array();
    for (size_t i = 0; arr && i < n; i++)
        if (json_array_append_new(arr, addr_json(ks, &v[i])) < 0) {
            json_decref(arr);
            arr = NULL;
        }
    free(v);
    *ret = arr;
    return arr ? 0 : -ENOMEM;
}

static int m_sign(vc_rpc_call_t *call, json_t *params, json_t **ret)
{
    vc_address_t a;
    wallet_meta_t meta;
    vc_signature_t sig;
    _cleanup_free_ uint8_t *data = NULL;
    size_t len;
    char err[256];
    int r = param_addr(call, params, 0, &a);
    if (r < 0)
        return r;
    json_t *d = json_array_get(params, 1);
    if (!json_is_string(d) || json_string_length(d) > (size_t)WALLET_TOSIGN_MAX * 4 / 3 + 4 ||
        vc_base64_decode(json_string_value(d), json_string_length(d), &data, &len) < 0)
        return vc_rpc_error(call, VC_RPC_PARSE_ERROR, "unmarshaling params for 'WalletSign' (param: 1): expected base64 bytes");
    if (wallet_meta_from_json(json_array_get(params, 2), &meta) < 0)
        return vc_rpc_error(call, VC_RPC_PARSE_ERROR, "unmarshaling params for 'WalletSign' (param: 2): expected a MsgMeta");
    r = wallet_sign(ks_of(call), &a, data, len, &meta, NULL, &sig, err, sizeof(err));
    wallet_meta_done(&meta);
    if (r < 0)
        return vc_rpc_error(call, VC_RPC_APP_ERROR, "%s", err);
    *ret = vc_signature_to_json(&sig);
    return *ret ? 0 : -ENOMEM;
}

static int m_export(vc_rpc_call_t *call, json_t *params, json_t **ret)
{
    vc_address_t a;
    vc_key_info_t ki;
    int r = param_addr(call, params, 0, &a);
    if (r < 0)
        return r;
    if ((r = wallet_ks_export(ks_of(call), &a, &ki)) < 0)
        return fail(call, r);
    char *b64 = vc_base64_encode(ki.key, sizeof(ki.key));
    vc_key_info_wipe(&ki);
    if (!b64)
        return -ENOMEM;
    *ret = json_pack("{s:s,s:s}", "Type", "secp256k1", "PrivateKey", b64);
    sodium_memzero(b64, strlen(b64));
    free(b64);
    return *ret ? 0 : -ENOMEM;
}

static int m_import(vc_rpc_call_t *call, json_t *params, json_t **ret)
{
    json_t *o = json_array_get(params, 0);
    const char *t = json_string_value(json_object_get(o, "Type"));
    json_t *pk = json_object_get(o, "PrivateKey");
    vc_key_info_t ki = {0};
    uint8_t *key = NULL;
    size_t len = 0;
    vc_address_t a;
    if (!t || !json_is_string(pk))
        return vc_rpc_error(call, VC_RPC_PARSE_ERROR, "unmarshaling params for 'WalletImport': expected a KeyInfo {Type, PrivateKey}");
    if (vc_key_type_from_string(t, &ki.type) < 0)
        return vc_rpc_error(call, VC_RPC_APP_ERROR, "unsupported key type: %s", t);
    if (ki.type == VC_KEY_BLS)
        return fail(call, WALLET_EKEYTYPE);
    int r = vc_base64_decode(json_string_value(pk), json_string_length(pk), &key, &len);
    if (r == 0 && len == sizeof(ki.key))
        memcpy(ki.key, key, len);
    else
        r = -EINVAL;
    if (key) {
        sodium_memzero(key, len);
        free(key);
    }
    if (r < 0 || !vc_secp256k1_privkey_valid(ki.key)) {
        vc_key_info_wipe(&ki);
        return vc_rpc_error(call, VC_RPC_APP_ERROR, "invalid secp256k1 private key");
    }
    r = wallet_ks_import(ks_of(call), &ki, &a);
    vc_key_info_wipe(&ki);
    return r < 0 ? fail(call, r) : addr_result(ks_of(call), &a, ret);
}

static int m_delete(vc_rpc_call_t *call, json_t *params, json_t **ret)
{
    vc_address_t a;
    int r = param_addr(call, params, 0, &a);
    if (r < 0)
        return r;
    r = wallet_ks_delete(ks_of(call), &a);
    return r < 0 ? fail(call, r) : 0;
}

static int m_default(vc_rpc_call_t *call, json_t *params, json_t **ret)
{
    vc_address_t a;
    int r = wallet_ks_get_default(ks_of(call), &a);
    if (r == -ENOENT)
        return vc_rpc_error(call, VC_RPC_APP_ERROR, "no default address set");
    return r < 0 ? fail(call, r) : addr_result(ks_of(call), &a, ret);
}

static int m_set_default(vc_rpc_call_t *call, json_t *params, json_t **ret)
{
    vc_address_t a;
    int r = param_addr(call, params, 0, &a);
    if (r < 0)
        return r;
    r = wallet_ks_set_default(ks_of(call), &a);
    return r < 0 ? fail(call, r) : 0;
}

static int m_lock(vc_rpc_call_t *call, json_t *params, json_t **ret)
{
    wallet_ks_lock(ks_of(call));
    vc_logkv(VC_LOG_NOTICE, "wallet", "wallet locked", NULL);
    return 0;
}

static int m_unlock(vc_rpc_call_t *call, json_t *params, json_t **ret)
{
    json_t *p = json_array_get(params, 0);
    if (!json_is_string(p))
        return vc_rpc_error(call, VC_RPC_PARSE_ERROR, "unmarshaling params for 'WalletUnlock': expected a string");
    if (json_string_length(p) == 0)
        return vc_rpc_error(call, VC_RPC_APP_ERROR, "empty passphrase");
    bool first = !wallet_ks_initialised(ks_of(call));
    int r = wallet_ks_unlock(ks_of(call), json_string_value(p), json_string_length(p));
    if (r < 0)
        return fail(call, r);
    if (r > 0) {
        char n[16];
        snprintf(n, sizeof(n), "%d", r);
        vc_logkv(VC_LOG_WARNING, "wallet", "unlocked with corrupt key files left out", "refused", n, NULL);
    }
    vc_logkv(VC_LOG_NOTICE, "wallet", first ? "passphrase set, wallet unlocked" : "wallet unlocked", NULL);
    return 0;
}

static int m_state(vc_rpc_call_t *call, json_t *params, json_t **ret)
{
    wallet_ks_t *ks = ks_of(call);
    vc_address_t *v = NULL;
    size_t n = 0;
    int r = wallet_ks_list(ks, &v, &n);
    free(v);
    if (r < 0)
        return r;
    *ret = json_pack("{s:b,s:b,s:I}", "Initialised", wallet_ks_initialised(ks), "Locked", !wallet_ks_unlocked(ks),
                     "Keys", (json_int_t)n);
    return *ret ? 0 : -ENOMEM;
}

static int m_version(vc_rpc_call_t *call, json_t *params, json_t **ret)
{
    *ret = json_pack("{s:s,s:i}", "Version", WALLET_VERSION, "APIVersion", 0x010000);
    return *ret ? 0 : -ENOMEM;
}

#define R VC_PERM_READ
#define W VC_PERM_WRITE
#define S VC_PERM_SIGN
#define A VC_PERM_ADMIN
#define F VC_RPC_FAST

static const vc_rpc_method_t methods[] = {
    {"Filecoin.WalletNew", W, 1, m_new, F},
    {"Filecoin.WalletHas", W, 1, m_has, F},
    {"Filecoin.WalletList", W, 0, m_list, F},
    {"Filecoin.WalletSign", S, 3, m_sign, F},
    {"Filecoin.WalletExport", A, 1, m_export, F},
    {"Filecoin.WalletImport", A, 1, m_import, F},
    {"Filecoin.WalletDelete", A, 1, m_delete, 0}, /* notifies the gateways */
    {"Filecoin.WalletDefaultAddress", W, 0, m_default, F},
    {"Filecoin.WalletSetDefault", W, 1, m_set_default, F},
    {"Filecoin.WalletLock", A, 0, m_lock, F},
    {"Filecoin.WalletUnlock", A, 1, m_unlock, 0}, /* the KDF takes a while */
    {"Filecoin.WalletState", R, 0, m_state, F},
    {"Filecoin.Version", R, 0, m_version, F},
};

int wallet_api_new(wallet_ks_t *ks, vc_authn_t *authn, wallet_api_t **ret)
{
    wallet_api_t *a = calloc(1, sizeof(*a));
    if (!a)
        return -ENOMEM;
    a->ks = ks;
    vc_rpc_opts_t o = {.userdata = a, .authn = authn};
    int r = vc_rpc_server_new(&o, &a->rpc);
    if (r == 0)
        r = vc_rpc_register(a->rpc, methods, VC_ELEMENTSOF(methods));
    if (r < 0) {
        wallet_api_free(a);
        return r;
    }
    *ret = a;
    return 0;
}

int wallet_api_mount(wallet_api_t *api, vc_http_server_t *http)
{
    return vc_rpc_mount(api->rpc, http, "/rpc/v0", NULL);
}

wallet_api_t *wallet_api_free(wallet_api_t *api)
{
    if (!api)
        return NULL;
    vc_rpc_server_free(api->rpc);
    free(api);
    return NULL;
}
