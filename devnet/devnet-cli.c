/* devnet-cli.c: the venus-devnet command tree and its client commands. */
#include "devnet-cli.h"

#include <stdio.h>
#include <string.h>

#include "devnet-api.h"
#include "devnet-daemon.h"
#include "devnet-prover.h"
#include "vc/address.h"
#include "vc/bigint.h"
#include "vc/cid.h"
#include "vc/client.h"
#include "vc/crypto.h"
#include "vc/message.h"
#include "vc/util.h"

/* A JSON-RPC client: --api (URL/host:port/multiaddr) or <repo>/api, token from --token or
 * <repo>/token. */
static int open_client(vc_cli_ctx_t *ctx, vc_client_t **ret)
{
    _cleanup_free_ char *repo = dn_repo_path(ctx);
    _cleanup_free_ char *api = NULL, *token = NULL, *p1 = NULL, *p2 = NULL;
    if (!repo)
        return -ENOMEM;
    if (vc_cli_is_set(ctx, "api"))
        api = strdup(vc_cli_string(ctx, "api"));
    else if ((p1 = vc_path_join(repo, "api")))
        api = vc_read_trimmed(p1, 4096);
    if (!api)
        api = strdup(DEVNET_DEFAULT_LISTEN);
    if (vc_cli_is_set(ctx, "token"))
        token = strdup(vc_cli_string(ctx, "token"));
    else if ((p2 = vc_path_join(repo, "token")))
        token = vc_read_trimmed(p2, VC_TOKEN_MAX);
    if (!api)
        return -ENOMEM;
    const char *eps[] = {api};
    vc_client_opts_t o = {.endpoints = eps, .n_endpoints = 1, .default_path = "/rpc/v1", .token = token,
                          .api_namespace = "v1.FullNode", .retries = -1};
    return vc_client_new(&o, ret);
}

/* Calls method and prints the result as indented JSON. params stolen. */
static int call_print(vc_cli_ctx_t *ctx, const char *method, json_t *params)
{
    vc_client_t *c = NULL;
    json_t *res = NULL;
    vc_rpc_err_t err = {0};
    int r = open_client(ctx, &c);
    if (r < 0) {
        json_decref(params);
        return vc_cli_errorf(ctx, "bad node address: %s", vc_strerror(r));
    }
    r = vc_client_call(c, method, params, &res, &err);
    if (r == 0) {
        vc_cli_print_json(ctx, res);
        json_decref(res);
    } else if (r == VC_EREMOTE || r == VC_EHTTP)
        r = vc_cli_errorf(ctx, "%s", err.code == 401 ? "unauthorized: check the token (<repo>/token or --token)"
                                                      : err.message);
    else
        r = vc_cli_errorf(ctx, "cannot reach venus-devnet at %s: %s", vc_client_current(c), vc_strerror(r));
    vc_client_free(c);
    return r < 0 ? 1 : r;
}

static int cmd_chain_head(vc_cli_ctx_t *ctx)
{
    return call_print(ctx, "Filecoin.ChainHead", NULL);
}

static int cmd_chain_get_block(vc_cli_ctx_t *ctx)
{
    vc_cid_t cid;
    if (vc_cid_from_string(vc_cli_arg(ctx, 0), &cid) < 0)
        return vc_cli_errorf(ctx, "'%s' is not a CID", vc_cli_arg(ctx, 0));
    return call_print(ctx, "Filecoin.ChainGetBlock", json_pack("[o]", vc_cid_to_json(&cid)));
}

static int cmd_state_actor(vc_cli_ctx_t *ctx)
{
    vc_address_t a;
    if (vc_address_from_string(vc_cli_arg(ctx, 0), &a) < 0)
        return vc_cli_errorf(ctx, "'%s' is not a Filecoin address", vc_cli_arg(ctx, 0));
    return call_print(ctx, "Filecoin.StateGetActor", json_pack("[s, []]", vc_cli_arg(ctx, 0)));
}

static int cmd_mpool_pending(vc_cli_ctx_t *ctx)
{
    return call_print(ctx, "Filecoin.MpoolPending", json_pack("[[]]"));
}

static int cmd_admin_revert(vc_cli_ctx_t *ctx)
{
    int64_t n;
    if (vc_parse_i64(vc_cli_arg(ctx, 0), &n) < 0 || n < 1)
        return vc_cli_errorf(ctx, "revert depth must be a positive integer");
    return call_print(ctx, "Filecoin.DevnetRevert", json_pack("[I]", (json_int_t)n));
}

/* wallet new: a secp256k1 key in the lotus export format (hex of {"Type","PrivateKey"}). */
static int cmd_wallet_new(vc_cli_ctx_t *ctx)
{
    vc_key_info_t ki = {.type = VC_KEY_SECP256K1};
    vc_address_t addr;
    char astr[VC_ADDRESS_STRLEN_MAX];
    char *hex = NULL;
    int r = vc_secp256k1_generate(ki.key);
    if (r == 0)
        r = vc_secp256k1_address(ki.key, &addr);
    if (r == 0)
        r = vc_key_info_export(&ki, &hex);
    vc_key_info_wipe(&ki);
    if (r < 0)
        return vc_cli_errorf(ctx, "cannot make a key: %s", vc_strerror(r));
    vc_address_to_string(&addr, vc_cli_bool(ctx, "mainnet") ? 'f' : 't', astr);
    const char *out = vc_cli_string(ctx, "out");
    if (vc_strempty(out)) {
        size_t n = strlen(astr) + 8;
        char *name = malloc(n);
        if (!name) {
            free(hex);
            return vc_cli_errorf(ctx, "out of memory");
        }
        snprintf(name, n, "%s.key", astr);
        r = vc_write_file_atomic(name, hex, strlen(hex), 0600);
        if (r == 0)
            fprintf(vc_cli_out(ctx), "%s\nkey written to %s\n", astr, name);
        free(name);
    } else {
        r = vc_write_file_atomic(out, hex, strlen(hex), 0600);
        if (r == 0)
            fprintf(vc_cli_out(ctx), "%s\nkey written to %s\n", astr, out);
    }
    free(hex);
    return r < 0 ? vc_cli_errorf(ctx, "cannot write the key: %s", vc_strerror(r)) : 0;
}

/* FIL amount "1.5" or attoFIL "1500000000000000000a"? Lotus accepts "1.5" FIL and "1 attofil";
 * we take FIL with up to 18 decimals, or an integer with the suffix "afil". */
static int parse_fil(const char *s, vc_bigint_t *ret)
{
    char digits[128];
    size_t n = strlen(s);
    if (n == 0 || n > 90)
        return VC_EPARSE;
    if (n > 4 && strcmp(s + n - 4, "afil") == 0) {
        memcpy(digits, s, n - 4);
        digits[n - 4] = 0;
        return vc_bigint_from_string(digits, ret);
    }
    const char *dot = strchr(s, '.');
    size_t ip = dot ? (size_t)(dot - s) : n, fp = dot ? n - ip - 1 : 0;
    if (fp > 18 || ip == 0)
        return VC_EPARSE;
    memcpy(digits, s, ip);
    if (dot)
        memcpy(digits + ip, dot + 1, fp);
    for (size_t i = 0; i < 18 - fp; i++)
        digits[ip + fp + i] = '0';
    digits[ip + 18] = 0;
    for (size_t i = 0; i < ip + 18; i++)
        if (digits[i] < '0' || digits[i] > '9')
            return VC_EPARSE;
    return vc_bigint_from_string(digits, ret);
}

/* send --from --to --value --key-file: nonce, gas estimate, sign, push. */
static int cmd_send(vc_cli_ctx_t *ctx)
{
    vc_key_info_t ki = {0};
    vc_message_t m = {0};
    vc_signed_message_t sm = {0};
    vc_client_t *c = NULL;
    json_t *res = NULL, *mj = NULL;
    vc_rpc_err_t err = {0};
    int rc = 1, r;
    char *hex = vc_read_trimmed(vc_cli_string(ctx, "key-file"), 64 * 1024);

    if (!hex)
        return vc_cli_errorf(ctx, "cannot read the key file '%s'", vc_cli_string(ctx, "key-file"));
    r = vc_key_info_import(hex, &ki);
    free(hex);
    if (r < 0 || ki.type != VC_KEY_SECP256K1)
        return vc_cli_errorf(ctx, "the key file does not hold a secp256k1 key in the lotus export format");
    if (vc_address_from_string(vc_cli_string(ctx, "from"), &m.from) < 0 ||
        vc_address_from_string(vc_cli_string(ctx, "to"), &m.to) < 0) {
        rc = vc_cli_errorf(ctx, "--from and --to must be Filecoin addresses");
        goto out;
    }
    vc_address_t keyaddr;
    if (vc_secp256k1_address(ki.key, &keyaddr) < 0 || !vc_address_equal(&keyaddr, &m.from)) {
        rc = vc_cli_errorf(ctx, "the key file does not belong to --from");
        goto out;
    }
    if (parse_fil(vc_cli_string(ctx, "value"), &m.value) < 0) {
        rc = vc_cli_errorf(ctx, "--value must be FIL (e.g. 1.5) or attoFIL with the suffix afil");
        goto out;
    }
    if ((r = open_client(ctx, &c)) < 0) {
        rc = vc_cli_errorf(ctx, "bad node address: %s", vc_strerror(r));
        goto out;
    }
    char from[VC_ADDRESS_STRLEN_MAX];
    vc_address_to_string(&m.from, 't', from);
    r = vc_client_call(c, "Filecoin.MpoolGetNonce", json_pack("[s]", from), &res, &err);
    if (r < 0)
        goto rpc_fail;
    m.nonce = (uint64_t)json_integer_value(res);
    json_decref(res);
    res = NULL;
    if ((r = vc_message_to_json(&m, 't', false, &mj)) < 0)
        goto rpc_fail;
    r = vc_client_call(c, "Filecoin.GasEstimateMessageGas", json_pack("[o, n, []]", mj), &res, &err);
    mj = NULL;
    if (r < 0)
        goto rpc_fail;
    vc_message_done(&m);
    if ((r = vc_message_from_json(res, &m)) < 0)
        goto rpc_fail;
    json_decref(res);
    res = NULL;
    if ((r = vc_message_sign_secp256k1(&m, ki.key, &sm.signature)) < 0)
        goto rpc_fail;
    sm.message = m; /* moved: m is emptied so it is freed once, with sm */
    memset(&m, 0, sizeof(m));
    json_t *smj = NULL;
    if ((r = vc_signed_message_to_json(&sm, 't', false, &smj)) < 0)
        goto rpc_fail;
    r = vc_client_call(c, "Filecoin.MpoolPush", json_pack("[o]", smj), &res, &err);
    if (r < 0)
        goto rpc_fail;
    fprintf(vc_cli_out(ctx), "%s\n", json_string_value(json_object_get(res, "/")));
    rc = 0;
    goto out;
rpc_fail:
    if (r == VC_EREMOTE || r == VC_EHTTP)
        rc = vc_cli_errorf(ctx, "%s", err.message);
    else
        rc = vc_cli_errorf(ctx, "%s", vc_strerror(r));
out:
    json_decref(res);
    json_decref(mj);
    vc_message_done(&m);
    vc_signed_message_done(&sm);
    vc_key_info_wipe(&ki);
    vc_client_free(c);
    return rc;
}

/* ------------------------------------------------------------------ tree */

static const vc_cli_flag_t client_flags[] = {
    {"api", NULL, VC_FLAG_STRING, "node address (default: <repo>/api, then " DEVNET_DEFAULT_LISTEN ")"},
    {"token", NULL, VC_FLAG_STRING, "JWT (default: <repo>/token)"},
    {0},
};

static const vc_cli_cmd_t chain_cmds[] = {
    {.name = "head", .usage = "print the head tipset", .flags = client_flags, .nargs = VC_CLI_NO_ARGS,
     .run = cmd_chain_head},
    {.name = "get-block", .usage = "print a block header", .args_usage = "<cid>", .flags = client_flags,
     .nargs = 1, .run = cmd_chain_get_block},
    {0},
};

static const vc_cli_cmd_t state_cmds[] = {
    {.name = "actor", .usage = "print an actor (code, nonce, balance)", .args_usage = "<address>",
     .flags = client_flags, .nargs = 1, .run = cmd_state_actor},
    {0},
};

static const vc_cli_cmd_t mpool_cmds[] = {
    {.name = "pending", .usage = "print the pending messages", .flags = client_flags, .nargs = VC_CLI_NO_ARGS,
     .run = cmd_mpool_pending},
    {0},
};

static const vc_cli_cmd_t admin_cmds[] = {
    {.name = "revert", .usage = "revert the head by N tipsets and build a fork", .args_usage = "<N>",
     .flags = client_flags, .nargs = 1, .run = cmd_admin_revert},
    {0},
};

static const vc_cli_flag_t wallet_new_flags[] = {
    {"out", NULL, VC_FLAG_STRING, "file to write the key to (default: <address>.key)"},
    {"mainnet", NULL, VC_FLAG_BOOL, "print the address with the f prefix"},
    {0},
};

static const vc_cli_cmd_t wallet_cmds[] = {
    {.name = "new", .usage = "make a secp256k1 key (lotus export format)", .flags = wallet_new_flags,
     .nargs = VC_CLI_NO_ARGS, .run = cmd_wallet_new},
    {0},
};

static const vc_cli_flag_t send_flags[] = {
    {"from", NULL, VC_FLAG_STRING, "sender address", .required = true},
    {"to", NULL, VC_FLAG_STRING, "recipient address", .required = true},
    {"value", NULL, VC_FLAG_STRING, "amount in FIL (e.g. 1.5) or attoFIL with the suffix afil", .required = true},
    {"key-file", NULL, VC_FLAG_STRING, "the sender's key (lotus export format)", .required = true},
    {"api", NULL, VC_FLAG_STRING, "node address (default: <repo>/api)"},
    {"token", NULL, VC_FLAG_STRING, "JWT (default: <repo>/token)"},
    {0},
};

static const vc_cli_flag_t init_flags[] = {
    {"genesis", NULL, VC_FLAG_STRING, "genesis file (TOML: accounts, miners, network)", .required = true},
    {0},
};

static const vc_cli_flag_t run_flags[] = {
    {"listen", NULL, VC_FLAG_STRING, "address to serve the API on", DEVNET_DEFAULT_LISTEN},
    {"mine", NULL, VC_FLAG_STRING, "self: make a block every epoch; external: blocks come from venus-miner",
     "self"},
    {"block-time", NULL, VC_FLAG_DURATION, "block time (overrides the genesis value)"},
    {"auth-url", NULL, VC_FLAG_STRINGS, "venus-auth URL(s) to verify tokens with (repeatable)"},
    {"auth-token", NULL, VC_FLAG_STRING, "this node's token for venus-auth"},
    {0},
};

static const vc_cli_flag_t prover_flags[] = {
    {"gateway", NULL, VC_FLAG_STRINGS, "venus-gateway address (URL, host:port or multiaddr); repeat it for every gateway",
     .required = true},
    {"token", NULL, VC_FLAG_STRING, "venus-auth token of the user the miner is bound to", .required = true},
    {"miner", NULL, VC_FLAG_STRING, "miner ID address, e.g. t01000", .required = true},
    {0},
};

static const vc_cli_cmd_t root_cmds[] = {
    {.name = "init", .usage = "create a chain from a genesis file", .flags = init_flags, .nargs = VC_CLI_NO_ARGS,
     .run = dn_cmd_init},
    {.name = "run", .usage = "run the node", .flags = run_flags, .nargs = VC_CLI_NO_ARGS, .run = dn_cmd_run},
    {.name = "chain", .usage = "chain reads", .subcommands = chain_cmds},
    {.name = "state", .usage = "state reads", .subcommands = state_cmds},
    {.name = "mpool", .usage = "message pool", .subcommands = mpool_cmds},
    {.name = "send", .usage = "send FIL (signs with a key file)", .flags = send_flags, .nargs = VC_CLI_NO_ARGS,
     .run = cmd_send},
    {.name = "wallet", .usage = "keys for tests and demos", .subcommands = wallet_cmds},
    {.name = "admin", .usage = "test hooks (admin token)", .subcommands = admin_cmds},
    {.name = "prover", .usage = "mock winning-PoSt prover: answers ComputeProof through a venus-gateway",
     .flags = prover_flags, .nargs = VC_CLI_NO_ARGS, .run = dn_cmd_prover},
    {0},
};

static const vc_cli_flag_t root_flags[] = {
    {"repo", NULL, VC_FLAG_STRING, "repo path", "~/.venus-devnet", "VENUS_DEVNET_PATH"},
    {0},
};

const vc_cli_cmd_t dn_cli_root = {
    .name = "venus-devnet",
    .usage = "a local Filecoin chain serving the node API venus-messager and venus-miner use",
    .version = DEVNET_VERSION,
    .flags = root_flags,
    .subcommands = root_cmds,
};
