/* wallet-cli.c: venus-wallet's commands (see wallet-cli.h for the client/offline rule). */
#include "wallet-cli.h"

#include <stdio.h>
#include <unistd.h>

#include <sodium.h>

#include "vc/address.h"
#include "vc/client.h"
#include "vc/crypto.h"
#include "vc/signature.h"
#include "vc/util.h"
#include "wallet-api.h"
#include "wallet-daemon.h"

static int open_client(vc_cli_ctx_t *ctx, vc_client_t **ret)
{
    _cleanup_free_ char *repo = wallet_repo_path(ctx);
    _cleanup_free_ char *api = NULL, *token = NULL, *p1 = NULL, *p2 = NULL;
    if (!repo)
        return -ENOMEM;
    if (vc_cli_is_set(ctx, "api"))
        api = strdup(vc_cli_string(ctx, "api"));
    else if ((p1 = vc_path_join(repo, "api")))
        api = vc_read_trimmed(p1, 4096);
    if (!api)
        api = strdup(WALLET_DEFAULT_LISTEN);
    if (vc_cli_is_set(ctx, "token"))
        token = strdup(vc_cli_string(ctx, "token"));
    else if ((p2 = vc_path_join(repo, "token")))
        token = vc_read_trimmed(p2, VC_TOKEN_MAX);
    if (!api)
        return -ENOMEM;
    const char *eps[] = {api};
    vc_client_opts_t o = {.endpoints = eps, .n_endpoints = 1, .default_path = "/rpc/v0", .token = token, .retries = -1};
    return vc_client_new(&o, ret);
}

/* Calls method (params stolen); *ret gets the result. Prints the error and returns 1. */
static int call(vc_cli_ctx_t *ctx, const char *method, json_t *params, json_t **ret)
{
    vc_client_t *c = NULL;
    json_t *res = NULL;
    vc_rpc_err_t err = {0};
    int r = open_client(ctx, &c);
    if (r < 0) {
        json_decref(params);
        return vc_cli_errorf(ctx, "bad wallet API address: %s", vc_strerror(r));
    }
    r = vc_client_call(c, method, params, &res, &err);
    if (r == 0) {
        if (ret)
            *ret = res;
        else
            json_decref(res);
    } else if (r == VC_EREMOTE || r == VC_EHTTP)
        r = vc_cli_errorf(ctx, "%s", err.code == 401 ? "unauthorized: check the token (<repo>/token or --token)"
                                                      : err.message);
    else
        r = vc_cli_errorf(ctx, "cannot reach venus-wallet at %s (is `venus-wallet run` running?): %s",
                          vc_client_current(c), vc_strerror(r));
    vc_client_free(c);
    return r == 0 ? 0 : 1;
}

static int check_addr(vc_cli_ctx_t *ctx, const char *s)
{
    vc_address_t a;
    if (!s || vc_address_from_string(s, &a) < 0)
        return vc_cli_errorf(ctx, "'%s' is not a Filecoin address", s ? s : "");
    return 0;
}

static int print_string_result(vc_cli_ctx_t *ctx, const char *method, json_t *params)
{
    json_t *res = NULL;
    int r = call(ctx, method, params, &res);
    if (r == 0)
        fprintf(vc_cli_out(ctx), "%s\n", json_string_value(res) ? json_string_value(res) : "");
    json_decref(res);
    return r;
}

static int cmd_new(vc_cli_ctx_t *ctx)
{
    const char *t = vc_cli_string(ctx, "type");
    if (vc_streq(t, "bls"))
        return vc_cli_errorf(ctx, "unsupported key type: bls (no BLS library in venus-c)");
    if (!vc_streq(t, "secp256k1"))
        return vc_cli_errorf(ctx, "unsupported key type: %s", t);
    return print_string_result(ctx, "Filecoin.WalletNew", json_pack("[s]", t));
}

static int cmd_list(vc_cli_ctx_t *ctx)
{
    json_t *res = NULL, *v;
    size_t i;
    int r = call(ctx, "Filecoin.WalletList", NULL, &res);
    if (r)
        return r;
    json_array_foreach(res, i, v) fprintf(vc_cli_out(ctx), "%s\n", json_string_value(v));
    json_decref(res);
    return 0;
}

static int cmd_import(vc_cli_ctx_t *ctx)
{
    const char *file = vc_cli_arg(ctx, 0);
    char *text = NULL;
    size_t len = 0;
    int r;
    if (file && !vc_streq(file, "-")) {
        if ((r = vc_read_file(file, 64 * 1024, &text, &len)) < 0)
            return vc_cli_errorf(ctx, "cannot read %s: %s", file, vc_strerror(r));
    } else {
        vc_buf_t b = {0};
        char chunk[4096];
        size_t n;
        while ((n = fread(chunk, 1, sizeof(chunk), stdin)) > 0 && b.len < 64 * 1024)
            if (vc_buf_append(&b, chunk, n) < 0)
                break;
        sodium_memzero(chunk, sizeof(chunk));
        text = vc_buf_steal(&b);
        len = text ? strlen(text) : 0;
    }
    if (!text)
        return vc_cli_errorf(ctx, "no key given (a file argument or the key on stdin)");
    /* trim whitespace around the hex */
    char *s = text;
    while (*s == ' ' || *s == '\n' || *s == '\r' || *s == '\t')
        s++;
    size_t n = strlen(s);
    while (n && (s[n - 1] == ' ' || s[n - 1] == '\n' || s[n - 1] == '\r' || s[n - 1] == '\t'))
        s[--n] = 0;
    vc_key_info_t ki;
    r = vc_key_info_import(s, &ki);
    sodium_memzero(text, len);
    free(text);
    if (r < 0)
        return vc_cli_errorf(ctx, "invalid key: expected the lotus export format (hex of {\"Type\",\"PrivateKey\"}): %s",
                             vc_strerror(r));
    if (ki.type == VC_KEY_BLS) {
        vc_key_info_wipe(&ki);
        return vc_cli_errorf(ctx, "unsupported key type: bls (no BLS library in venus-c)");
    }
    char *b64 = vc_base64_encode(ki.key, sizeof(ki.key));
    vc_key_info_wipe(&ki);
    if (!b64)
        return vc_cli_errorf(ctx, "out of memory");
    json_t *params = json_pack("[{s:s,s:s}]", "Type", "secp256k1", "PrivateKey", b64);
    sodium_memzero(b64, strlen(b64));
    free(b64);
    json_t *res = NULL;
    r = call(ctx, "Filecoin.WalletImport", params, &res);
    if (r == 0)
        fprintf(vc_cli_out(ctx), "imported key %s successfully!\n", json_string_value(res));
    json_decref(res);
    return r;
}

static int cmd_export(vc_cli_ctx_t *ctx)
{
    json_t *res = NULL;
    vc_key_info_t ki = {0};
    uint8_t *key = NULL;
    size_t len = 0;
    char *hex = NULL;
    if (check_addr(ctx, vc_cli_arg(ctx, 0)))
        return 1;
    int r = call(ctx, "Filecoin.WalletExport", json_pack("[s]", vc_cli_arg(ctx, 0)), &res);
    if (r)
        return r;
    json_t *pk = json_object_get(res, "PrivateKey");
    if (vc_key_type_from_string(json_string_value(json_object_get(res, "Type")), &ki.type) < 0 || !json_is_string(pk) ||
        vc_base64_decode(json_string_value(pk), json_string_length(pk), &key, &len) < 0 || len != sizeof(ki.key)) {
        free(key);
        json_decref(res);
        return vc_cli_errorf(ctx, "the daemon answered with a malformed KeyInfo");
    }
    memcpy(ki.key, key, len);
    sodium_memzero(key, len);
    free(key);
    json_decref(res);
    r = vc_key_info_export(&ki, &hex);
    vc_key_info_wipe(&ki);
    if (r < 0)
        return vc_cli_errorf(ctx, "%s", vc_strerror(r));
    fprintf(vc_cli_out(ctx), "%s\n", hex);
    sodium_memzero(hex, strlen(hex));
    free(hex);
    return 0;
}

static int cmd_sign(vc_cli_ctx_t *ctx)
{
    _cleanup_free_ uint8_t *data = NULL;
    _cleanup_free_ char *b64 = NULL;
    size_t len;
    json_t *res = NULL;
    vc_signature_t sig;
    if (check_addr(ctx, vc_cli_arg(ctx, 0)))
        return 1;
    if (vc_hex_decode_alloc(vc_cli_arg(ctx, 1), &data, &len) < 0)
        return vc_cli_errorf(ctx, "the data to sign must be hex");
    b64 = vc_base64_encode(data, len);
    if (!b64)
        return vc_cli_errorf(ctx, "out of memory");
    json_t *meta = json_pack("{s:s,s:n}", "Type", vc_cli_string(ctx, "meta-type"), "Extra");
    int r = call(ctx, "Filecoin.WalletSign", json_pack("[s,s,o]", vc_cli_arg(ctx, 0), b64, meta), &res);
    if (r)
        return r;
    if (vc_cli_bool(ctx, "json")) {
        vc_cli_print_json(ctx, res);
    } else if (vc_signature_from_json(res, &sig) == 0) {
        /* lotus prints hex(type byte || data) */
        char hex[2 * (VC_SIGNATURE_DATA_MAX + 1) + 1];
        uint8_t raw[VC_SIGNATURE_DATA_MAX + 1];
        raw[0] = sig.type;
        memcpy(raw + 1, sig.data, sig.len);
        vc_hex_encode(raw, (size_t)sig.len + 1, hex);
        fprintf(vc_cli_out(ctx), "%s\n", hex);
    } else
        r = vc_cli_errorf(ctx, "the daemon answered with a malformed Signature");
    json_decref(res);
    return r;
}

static int cmd_verify(vc_cli_ctx_t *ctx)
{
    _cleanup_free_ uint8_t *data = NULL, *raw = NULL;
    size_t dlen, slen;
    vc_address_t a;
    vc_signature_t sig;
    if (vc_address_from_string(vc_cli_arg(ctx, 0), &a) < 0)
        return vc_cli_errorf(ctx, "'%s' is not a Filecoin address", vc_cli_arg(ctx, 0));
    if (vc_hex_decode_alloc(vc_cli_arg(ctx, 1), &data, &dlen) < 0)
        return vc_cli_errorf(ctx, "the data must be hex");
    if (vc_hex_decode_alloc(vc_cli_arg(ctx, 2), &raw, &slen) < 0 || slen < 2)
        return vc_cli_errorf(ctx, "the signature must be hex (type byte || signature, as `sign` prints it)");
    /* hex(type || data) as lotus prints it; a bare 65-byte secp256k1 signature is accepted too */
    int r = slen == VC_SECP256K1_SIG_LEN ? vc_signature_set(&sig, VC_SIG_SECP256K1, raw, slen)
                                         : vc_signature_set(&sig, (vc_sig_type_t)raw[0], raw + 1, slen - 1);
    if (r < 0)
        return vc_cli_errorf(ctx, "the signature is too long");
    r = vc_signature_verify(&sig, data, dlen, &a);
    if (r == -EOPNOTSUPP)
        return vc_cli_errorf(ctx, "cannot verify this signature type (no BLS library in venus-c)");
    if (r < 0)
        return vc_cli_errorf(ctx, "CAUTION: invalid signature");
    fprintf(vc_cli_out(ctx), "valid\n");
    return 0;
}

static int cmd_delete(vc_cli_ctx_t *ctx)
{
    if (check_addr(ctx, vc_cli_arg(ctx, 0)))
        return 1;
    int r = call(ctx, "Filecoin.WalletDelete", json_pack("[s]", vc_cli_arg(ctx, 0)), NULL);
    if (r == 0)
        fprintf(vc_cli_out(ctx), "deleted %s\n", vc_cli_arg(ctx, 0));
    return r;
}

static int cmd_default(vc_cli_ctx_t *ctx)
{
    if (vc_cli_nargs(ctx) == 0)
        return print_string_result(ctx, "Filecoin.WalletDefaultAddress", NULL);
    if (vc_cli_nargs(ctx) > 1)
        return vc_cli_errorf(ctx, "default takes at most one address");
    if (check_addr(ctx, vc_cli_arg(ctx, 0)))
        return 1;
    return call(ctx, "Filecoin.WalletSetDefault", json_pack("[s]", vc_cli_arg(ctx, 0)), NULL);
}

static int cmd_unlock(vc_cli_ctx_t *ctx)
{
    json_t *st = NULL;
    char *pass = NULL;
    int r = call(ctx, "Filecoin.WalletState", NULL, &st);
    if (r)
        return r;
    bool initialised = json_is_true(json_object_get(st, "Initialised"));
    json_decref(st);
    r = wallet_read_passphrase(ctx, !initialised, &pass);
    if (r < 0)
        return 1;
    if (r == 0)
        return vc_cli_errorf(ctx, "no passphrase: use --password-file, env " WALLET_PASSWORD_ENV " or a terminal");
    json_t *params = json_pack("[s]", pass);
    wallet_passphrase_free(pass);
    r = call(ctx, "Filecoin.WalletUnlock", params, NULL);
    if (r == 0)
        fprintf(vc_cli_out(ctx), initialised ? "wallet unlocked\n" : "passphrase set, wallet unlocked\n");
    return r;
}

static int cmd_lock(vc_cli_ctx_t *ctx)
{
    int r = call(ctx, "Filecoin.WalletLock", NULL, NULL);
    if (r == 0)
        fprintf(vc_cli_out(ctx), "wallet locked\n");
    return r;
}

static int cmd_status(vc_cli_ctx_t *ctx)
{
    json_t *st = NULL;
    int r = call(ctx, "Filecoin.WalletState", NULL, &st);
    if (r == 0)
        vc_cli_print_json(ctx, st);
    json_decref(st);
    return r;
}

static const vc_cli_flag_t run_flags[] = {
    {.name = "listen", .type = VC_FLAG_STRING, .usage = "listen address (overrides API.ListenAddress)"},
    {.name = "gateway-api", .type = VC_FLAG_STRINGS, .usage = "gateway endpoints (overrides APIRegisterHub.RegisterAPI)"},
    {.name = "gateway-token", .type = VC_FLAG_STRING, .usage = "token for the gateways (overrides APIRegisterHub.Token)"},
    {.name = "support-accounts", .type = VC_FLAG_STRINGS,
     .usage = "accounts served through the gateways (overrides APIRegisterHub.SupportAccounts)"},
    {0},
};

static const vc_cli_flag_t new_flags[] = {
    {.name = "type", .type = VC_FLAG_STRING, .usage = "key type (secp256k1; bls is not supported)", .def = "secp256k1"},
    {0},
};

static const vc_cli_flag_t sign_flags[] = {
    {.name = "meta-type", .type = VC_FLAG_STRING, .usage = "MsgMeta.Type sent with the request", .def = "unknown"},
    {.name = "json", .type = VC_FLAG_BOOL, .usage = "print the Signature JSON instead of hex(type || data)"},
    {0},
};

static const vc_cli_cmd_t commands[] = {
    {.name = "run", .usage = "start the wallet daemon", .flags = run_flags, .nargs = VC_CLI_NO_ARGS, .run = wallet_cmd_run},
    {.name = "new", .usage = "create a new key", .flags = new_flags, .nargs = VC_CLI_NO_ARGS, .run = cmd_new},
    {.name = "list", .usage = "list the wallet's addresses", .nargs = VC_CLI_NO_ARGS, .run = cmd_list},
    {.name = "import", .usage = "import a key (lotus export format) from a file or stdin", .args_usage = "[<file>|-]",
     .run = cmd_import},
    {.name = "export", .usage = "export a key (lotus export format)", .args_usage = "<address>", .nargs = 1,
     .run = cmd_export},
    {.name = "sign", .usage = "sign hex data", .args_usage = "<address> <hex data>", .flags = sign_flags, .nargs = 2,
     .run = cmd_sign},
    {.name = "verify", .usage = "verify a signature (offline)", .args_usage = "<address> <hex data> <hex signature>",
     .nargs = 3, .run = cmd_verify},
    {.name = "delete", .usage = "delete a key", .args_usage = "<address>", .nargs = 1, .run = cmd_delete},
    {.name = "default", .usage = "show or set the default address", .args_usage = "[<address>]", .run = cmd_default},
    {.name = "unlock", .usage = "unlock the running wallet (the first unlock sets the passphrase)",
     .nargs = VC_CLI_NO_ARGS, .run = cmd_unlock},
    {.name = "lock", .usage = "lock the running wallet", .nargs = VC_CLI_NO_ARGS, .run = cmd_lock},
    {.name = "status", .usage = "show whether the wallet is initialised and locked", .nargs = VC_CLI_NO_ARGS,
     .run = cmd_status},
    {0},
};

static const vc_cli_flag_t global_flags[] = {
    {.name = "repo", .type = VC_FLAG_STRING, .usage = "repo directory", .def = "~/.venus_wallet",
     .env = "VENUS_WALLET_PATH"},
    {.name = "password-file", .type = VC_FLAG_STRING, .usage = "file holding the keystore passphrase"},
    {.name = "api", .type = VC_FLAG_STRING, .usage = "wallet API address for client commands (default <repo>/api)"},
    {.name = "token", .type = VC_FLAG_STRING, .usage = "API token for client commands (default <repo>/token)"},
    {0},
};

const vc_cli_cmd_t wallet_cli_root = {
    .name = "venus-wallet",
    .usage = "keeps Filecoin secp256k1 keys and signs for the gateway",
    .version = WALLET_VERSION,
    .flags = global_flags,
    .subcommands = commands,
};
