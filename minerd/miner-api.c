/* miner-api.c: Filecoin.* JSON-RPC methods of venus-miner (spec A.1). */
#include "miner-api.h"

#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "vc/address.h"
#include "vc/gofmt.h"
#include "vc/ha-ops.h"
#include "vc/log.h"
#include "vc/util.h"

#define MAX_ADDRS 20000

struct miner_api {
    miner_t *m;
    miner_store_t *store;
    vc_rpc_server_t *rpc;
    char session[37];
};

static miner_api_t *api_of(vc_rpc_call_t *call)
{
    return vc_rpc_call_userdata(call);
}

/* NULL for admins (no filter), else the caller's user name. */
static const char *caller_user(vc_rpc_call_t *call)
{
    const vc_auth_info_t *a = vc_rpc_call_auth(call);
    return (a->perms & VC_PERM_ADMIN) ? NULL : a->name;
}

static int app_err(vc_rpc_call_t *call, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int app_err(vc_rpc_call_t *call, const char *fmt, ...)
{
    char buf[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    return vc_rpc_error(call, VC_RPC_APP_ERROR, "%s", buf);
}

static int bad_param(vc_rpc_call_t *call, int idx, const char *what)
{
    return vc_rpc_error(call, VC_RPC_PARSE_ERROR, "unmarshaling params for '%s' (param: %d): %s",
                        vc_rpc_call_method(call), idx, what);
}

static int param_i64(vc_rpc_call_t *call, json_t *params, int idx, int64_t *out)
{
    json_t *v = json_array_get(params, (size_t)idx);
    if (!json_is_integer(v))
        return bad_param(call, idx, "expected an integer");
    *out = json_integer_value(v);
    return 0;
}

/* An address list (null = empty): every entry must parse. *ret is a malloc'ed vector of
 * borrowed strings. With user set, addresses the user does not own are dropped (A.1). */
static int param_addrs(vc_rpc_call_t *call, json_t *params, int idx, const char *user, const char ***ret,
                       size_t *ret_n)
{
    json_t *v = json_array_get(params, (size_t)idx), *x;
    size_t i, n = 0;
    if (!json_is_null(v) && !json_is_array(v))
        return bad_param(call, idx, "expected an array of addresses");
    if (json_array_size(v) > MAX_ADDRS)
        return bad_param(call, idx, "too many addresses");
    const char **out = calloc(json_array_size(v) + 1, sizeof(*out));
    if (!out)
        return -ENOMEM;
    json_array_foreach(v, i, x)
    {
        vc_address_t a;
        if (!json_is_string(x) || vc_address_from_string(json_string_value(x), &a) < 0) {
            free(out);
            return bad_param(call, idx, "invalid address");
        }
        if (user && !miner_owned_by(api_of(call)->m, json_string_value(x), user))
            continue;
        out[n++] = json_string_value(x);
    }
    *ret = out;
    *ret_n = n;
    return 0;
}

static int param_addr(vc_rpc_call_t *call, json_t *params, int idx, const char **out)
{
    json_t *v = json_array_get(params, (size_t)idx);
    vc_address_t a;
    if (!json_is_string(v) || vc_address_from_string(json_string_value(v), &a) < 0)
        return bad_param(call, idx, "invalid address");
    *out = json_string_value(v);
    return 0;
}

static int fail_with(vc_rpc_call_t *call, int r, char *err)
{
    int rr = app_err(call, "%s", err ? err : vc_strerror(r));
    free(err);
    return rr;
}

/* ------------------------------------------------------------------ methods */

static int m_version(vc_rpc_call_t *call, json_t *params, json_t **ret)
{
    *ret = json_pack("{s:s, s:i}", "Version", MINER_VERSION, "APIVersion", MINER_API_VERSION);
    return *ret ? 0 : -ENOMEM;
}

static int m_session(vc_rpc_call_t *call, json_t *params, json_t **ret)
{
    *ret = json_string(api_of(call)->session);
    return *ret ? 0 : -ENOMEM;
}

static int m_shutdown(vc_rpc_call_t *call, json_t *params, json_t **ret)
{
    vc_logkv(VC_LOG_NOTICE, "miner", "shutdown requested over the API", NULL);
    kill(getpid(), SIGTERM);
    return 0;
}

static int m_log_list(vc_rpc_call_t *call, json_t *params, json_t **ret)
{
    *ret = json_pack("[s, s, s, s]", "miner", "rpc", "http", "db");
    return *ret ? 0 : -ENOMEM;
}

static int m_log_set_level(vc_rpc_call_t *call, json_t *params, json_t **ret)
{
    json_t *lv = json_array_get(params, 1);
    vc_log_level_t l;
    if (!json_is_string(json_array_get(params, 0)))
        return bad_param(call, 0, "expected a string");
    if (!json_is_string(lv))
        return bad_param(call, 1, "expected a string");
    if (vc_log_level_from_string(json_string_value(lv), &l) < 0)
        return app_err(call, "unrecognized level: \"%s\"", json_string_value(lv));
    vc_log_set_level(l); /* one process-wide level: every subsystem shares it */
    return 0;
}

static int m_update_address(vc_rpc_call_t *call, json_t *params, json_t **ret)
{
    int64_t skip = 0, limit = 0;
    char *err = NULL;
    int r = param_i64(call, params, 0, &skip);
    if (r == 0)
        r = param_i64(call, params, 1, &limit);
    if (r < 0)
        return r;
    if ((r = miner_update_address(api_of(call)->m, skip, limit, ret, &err)) < 0)
        return fail_with(call, r, err);
    return 0;
}

static int m_list_address(vc_rpc_call_t *call, json_t *params, json_t **ret)
{
    *ret = miner_list_address(api_of(call)->m, caller_user(call));
    return *ret ? 0 : -ENOMEM;
}

static int m_states_for_mining(vc_rpc_call_t *call, json_t *params, json_t **ret)
{
    const char **v = NULL;
    size_t n = 0;
    const char *user = caller_user(call);
    int r = param_addrs(call, params, 0, user, &v, &n);
    if (r < 0)
        return r;
    if (n == 0 && json_array_size(json_array_get(params, 0)) > 0)
        *ret = json_array(); /* every requested address was someone else's */
    else
        *ret = miner_states(api_of(call)->m, v, n, user);
    free(v);
    return *ret ? 0 : -ENOMEM;
}

static int m_count_winners(vc_rpc_call_t *call, json_t *params, json_t **ret)
{
    const char **v = NULL;
    size_t n = 0;
    int64_t start = 0, end = 0;
    char *err = NULL;
    const char *user = caller_user(call);
    int r = param_addrs(call, params, 0, user, &v, &n);
    if (r == 0)
        r = param_i64(call, params, 1, &start);
    if (r == 0)
        r = param_i64(call, params, 2, &end);
    if (r < 0) {
        free(v);
        return r;
    }
    if (user && n == 0) {
        /* a non-admin without miners of its own counts nothing */
        free(v);
        *ret = json_array();
        return *ret ? 0 : -ENOMEM;
    }
    r = miner_count_winners(api_of(call)->m, v, n, start, end, ret, &err);
    free(v);
    return r < 0 ? fail_with(call, r, err) : 0;
}

static json_t *block_json(const miner_block_t *b)
{
    char when[VC_GOTIME_STRLEN_MAX] = "0001-01-01T00:00:00Z";
    if (b->winning_at_ms > 0)
        vc_format_rfc3339nano_local(b->winning_at_ms * 1000000, when);
    return json_pack("{s:I, s:s, s:I, s:s, s:s, s:s, s:i, s:I}", "ParentEpoch", (json_int_t)b->parent_epoch,
                     "ParentKey", b->parent_key ? b->parent_key : "", "Epoch", (json_int_t)b->epoch, "Miner",
                     b->miner ? b->miner : "", "Cid", b->cid ? b->cid : "", "WinningAt", when, "MineState",
                     b->mine_state, "Consuming", (json_int_t)b->consuming);
}

static int m_list_blocks(vc_rpc_call_t *call, json_t *params, json_t **ret)
{
    json_t *p = json_array_get(params, 0), *lim, *off;
    const char **v = NULL;
    size_t n = 0;
    const char *user = caller_user(call);
    if (!json_is_object(p))
        return bad_param(call, 0, "expected {Miners, Limit, Offset}");
    lim = json_object_get(p, "Limit");
    off = json_object_get(p, "Offset");
    if ((lim && !json_is_integer(lim)) || (off && !json_is_integer(off)) || json_integer_value(lim) < 0 ||
        json_integer_value(off) < 0)
        return bad_param(call, 0, "Limit and Offset must be non-negative integers");
    json_t *wrap = json_pack("[O]", json_object_get(p, "Miners") ?: json_null());
    int r = wrap ? param_addrs(call, wrap, 0, user, &v, &n) : -ENOMEM;
    if (r < 0) {
        json_decref(wrap);
        return r;
    }
    /* non-admin: only the caller's own miners, never "all" */
    json_t *own = NULL;
    if (user && n == 0) {
        own = miner_list_address(api_of(call)->m, user);
        free(v);
        v = calloc(json_array_size(own) + 1, sizeof(*v));
        for (size_t i = 0; v && i < json_array_size(own); i++)
            v[n++] = json_string_value(json_object_get(json_array_get(own, i), "Addr"));
        if (n == 0) {
            free(v);
            json_decref(own);
            json_decref(wrap);
            *ret = json_array();
            return 0;
        }
    }
    /* canonical spellings as stored */
    char (*canon)[VC_ADDRESS_STRLEN_MAX] = calloc(n + 1, sizeof(*canon));
    const char **cv = calloc(n + 1, sizeof(*cv));
    for (size_t i = 0; canon && cv && i < n; i++) {
        vc_address_t a;
        vc_address_from_string(v[i], &a);
        vc_address_to_string(&a, miner_net_prefix(api_of(call)->m), canon[i]);
        cv[i] = canon[i];
    }
    miner_block_t *bl = NULL;
    size_t nb = 0;
    r = (canon && cv) ? miner_store_list_blocks(api_of(call)->store, cv, n, json_integer_value(lim),
                                                json_integer_value(off), &bl, &nb)
                      : -ENOMEM;
    free(canon);
    free(cv);
    free(v);
    json_decref(own);
    json_decref(wrap);
    if (r < 0)
        return app_err(call, "list blocks: %s", vc_strerror(r));
    json_t *out = json_array();
    for (size_t i = 0; out && i < nb; i++)
        json_array_append_new(out, block_json(&bl[i]));
    miner_blocks_free(bl, nb);
    *ret = out;
    return out ? 0 : -ENOMEM;
}

static int m_warmup(vc_rpc_call_t *call, json_t *params, json_t **ret)
{
    const char *a = NULL;
    char *err = NULL;
    const char *user = caller_user(call);
    int r = param_addr(call, params, 0, &a);
    if (r < 0)
        return r;
    if (user && !miner_owned_by(api_of(call)->m, a, user))
        return app_err(call, "miner %s does not belong to %s", a, user);
    if (!miner_in_set(api_of(call)->m, a, NULL, 0))
        return app_err(call, "miner %s is not in the mining set", a);
    r = miner_warmup(api_of(call)->m, a, &err);
    return r < 0 ? fail_with(call, r, err) : 0;
}

static int start_stop(vc_rpc_call_t *call, json_t *params, bool open)
{
    const char **v = NULL;
    size_t n = 0;
    int r = param_addrs(call, params, 0, NULL, &v, &n);
    if (r < 0)
        return r;
    r = miner_set_mining(api_of(call)->m, v, n, open);
    /* A.3.7: warmup at start, in the background of the reply */
    for (size_t i = 0; open && i < n; i++) {
        char *err = NULL;
        if (miner_in_set(api_of(call)->m, v[i], NULL, 0) && miner_warmup(api_of(call)->m, v[i], &err) < 0)
            vc_logkv(VC_LOG_WARNING, "miner", "warmup failed", "miner", v[i], "error", err ? err : "?", NULL);
        free(err);
    }
    free(v);
    return r;
}

static int m_start(vc_rpc_call_t *call, json_t *params, json_t **ret)
{
    return start_stop(call, params, true);
}

static int m_stop(vc_rpc_call_t *call, json_t *params, json_t **ret)
{
    return start_stop(call, params, false);
}

static int m_query_record(vc_rpc_call_t *call, json_t *params, json_t **ret)
{
    json_t *p = json_array_get(params, 0), *mi, *ep, *lim;
    char *err = NULL;
    const char *user = caller_user(call);
    if (!json_is_object(p))
        return bad_param(call, 0, "expected {Miner, Epoch, Limit}");
    mi = json_object_get(p, "Miner");
    ep = json_object_get(p, "Epoch");
    lim = json_object_get(p, "Limit");
    vc_address_t a;
    if (!json_is_string(mi) || vc_address_from_string(json_string_value(mi), &a) < 0)
        return bad_param(call, 0, "Miner: invalid address");
    if (!json_is_integer(ep) || json_integer_value(ep) < 0 || (lim && !json_is_integer(lim)) ||
        json_integer_value(lim) < 0)
        return bad_param(call, 0, "Epoch and Limit must be non-negative integers");
    if (user && !miner_owned_by(api_of(call)->m, json_string_value(mi), user))
        return app_err(call, "miner %s does not belong to %s", json_string_value(mi), user);
    int r = miner_query_record(api_of(call)->m, json_string_value(mi), json_integer_value(ep), json_integer_value(lim),
                               ret, &err);
    return r < 0 ? fail_with(call, r, err) : 0;
}

/* ------------------------------------------------------------------ HA */

static vc_ha_elector_t *elector_of(vc_rpc_call_t *call)
{
    return miner_elector(api_of(call)->m);
}

/* Filecoin.HaStatus / HaPromote / HaPause / HaResume */
static int m_ha(vc_rpc_call_t *call, json_t *params, json_t **ret)
{
    return vc_ha_rpc(call, params, ret, elector_of(call), miner_presence(api_of(call)->m),
                     miner_store_db(api_of(call)->store));
}

/* ------------------------------------------------------------------ chain-node pool */

/* NodePoolList (read) and NodePoolAdd / Set / Remove / Policy / Config (admin): shapes in
 * vc/nodepool-store.h. A change is stored in the database, then applied; other instances on the
 * database follow within a few seconds. */
static int m_node_pool(vc_rpc_call_t *call, json_t *params, json_t **ret)
{
    return vc_nodepool_store_rpc_answer(miner_pool_store(api_of(call)->m), call, params, ret, "miner");
}

/* ------------------------------------------------------------------ table */

#define R VC_PERM_READ
#define W VC_PERM_WRITE
#define A VC_PERM_ADMIN
#define F VC_RPC_FAST

static const vc_rpc_method_t methods[] = {
    {"Filecoin.Version", R, 0, m_version, F},
    {"Filecoin.Session", R, 0, m_session, F},
    {"Filecoin.Shutdown", A, 0, m_shutdown, F},
    {"Filecoin.LogList", W, 0, m_log_list, F},
    {"Filecoin.LogSetLevel", W, 2, m_log_set_level, F},
    {"Filecoin.UpdateAddress", A, 2, m_update_address, 0},
    {"Filecoin.ListAddress", R, 0, m_list_address, F},
    {"Filecoin.StatesForMining", R, 1, m_states_for_mining, F},
    {"Filecoin.CountWinners", R, 3, m_count_winners, 0},
    {"Filecoin.ListBlocks", R, 1, m_list_blocks, 0},
    {"Filecoin.WarmupForMiner", W, 1, m_warmup, 0},
    {"Filecoin.Start", A, 1, m_start, 0},
    {"Filecoin.Stop", A, 1, m_stop, 0},
    {"Filecoin.QueryRecord", R, 1, m_query_record, 0},
    VC_HA_RPC_METHODS("Filecoin", m_ha),
    VC_NODEPOOL_RPC_METHODS("Filecoin", m_node_pool),
};

int miner_api_new(miner_t *m, miner_store_t *store, vc_authn_t *authn, miner_api_t **ret)
{
    miner_api_t *a = calloc(1, sizeof(*a));
    if (!a)
        return -ENOMEM;
    a->m = m;
    a->store = store;
    vc_uuid4(a->session);
    vc_rpc_opts_t o = {.userdata = a, .authn = authn};
    int r = vc_rpc_server_new(&o, &a->rpc);
    if (r == 0)
        r = vc_rpc_register(a->rpc, methods, VC_ELEMENTSOF(methods));
    if (r < 0) {
        miner_api_free(a);
        return r;
    }
    *ret = a;
    return 0;
}

miner_api_t *miner_api_free(miner_api_t *a)
{
    if (!a)
        return NULL;
    vc_rpc_server_free(a->rpc);
    free(a);
    return NULL;
}

int miner_api_mount(miner_api_t *a, vc_http_server_t *http)
{
    return vc_rpc_mount(a->rpc, http, "/rpc/v0", NULL);
}
