/* devnet-api.c: Filecoin.* JSON-RPC methods of venus-devnet over the chain core. */
#include "devnet-api.h"

#include <math.h>
#include <pthread.h>
#include <stdio.h>

#include "vc/log.h"
#include "vc/util.h"

#define MAX_TSK 64
#define MAX_BATCH_PUSH 10000

struct dn_api {
    dn_chain_t *chain;
    vc_rpc_server_t *rpc;
};

static dn_chain_t *chain_of(vc_rpc_call_t *call)
{
    return ((dn_api_t *)vc_rpc_call_userdata(call))->chain;
}

/* ------------------------------------------------------------------ param parsing */

/* The JSON-RPC "unmarshaling params" error, as go-jsonrpc reports a param of the wrong type. */
static int bad_param(vc_rpc_call_t *call, int idx, const char *what)
{
    return vc_rpc_error(call, VC_RPC_PARSE_ERROR, "unmarshaling params for '%s' (param: %d): %s",
                        vc_rpc_call_method(call), idx, what);
}

/* A TipSetKey: array of {"/":cid}, or null / [] for the head. */
static int param_tsk(vc_rpc_call_t *call, json_t *params, int idx, vc_cid_t *out, size_t *n)
{
    json_t *v = json_array_get(params, (size_t)idx), *e;
    size_t i;
    *n = 0;
    if (!v || json_is_null(v))
        return 0;
    if (!json_is_array(v) || json_array_size(v) > MAX_TSK)
        return bad_param(call, idx, "expected a tipset key (array of CIDs)");
    json_array_foreach(v, i, e)
    {
        if (vc_cid_from_json(e, &out[i]) < 0)
            return bad_param(call, idx, "invalid CID in tipset key");
    }
    *n = json_array_size(v);
    return 0;
}

static int param_cid(vc_rpc_call_t *call, json_t *params, int idx, vc_cid_t *out)
{
    if (vc_cid_from_json(json_array_get(params, (size_t)idx), out) < 0)
        return bad_param(call, idx, "expected a CID {\"/\":\"bafy...\"}");
    return 0;
}

static int param_addr(vc_rpc_call_t *call, json_t *params, int idx, vc_address_t *out)
{
    json_t *v = json_array_get(params, (size_t)idx);
    if (!json_is_string(v) || vc_address_from_string(json_string_value(v), out) < 0)
        return bad_param(call, idx, "expected a Filecoin address");
    return 0;
}

static int param_i64(vc_rpc_call_t *call, json_t *params, int idx, int64_t *out)
{
    json_t *v = json_array_get(params, (size_t)idx);
    if (!json_is_integer(v))
        return bad_param(call, idx, "expected an integer");
    *out = json_integer_value(v);
    return 0;
}

static int param_u64(vc_rpc_call_t *call, json_t *params, int idx, uint64_t *out)
{
    int64_t v = 0;
    int r = param_i64(call, params, idx, &v);
    if (r < 0)
        return r;
    if (v < 0)
        return bad_param(call, idx, "expected an unsigned integer");
    *out = (uint64_t)v;
    return 0;
}

static int param_bool(vc_rpc_call_t *call, json_t *params, int idx, bool *out)
{
    json_t *v = json_array_get(params, (size_t)idx);
    if (!json_is_boolean(v))
        return bad_param(call, idx, "expected a boolean");
    *out = json_is_true(v);
    return 0;
}

/* Chain errors: the core's message when it gave one, else the errno text; takes err. */
static int chain_err_code(vc_rpc_call_t *call, int code, int r, char *err)
{
    int rr = vc_rpc_error(call, code, "%s", err ? err : vc_strerror(r));
    free(err);
    return rr;
}

static int chain_err(vc_rpc_call_t *call, int r, char *err)
{
    return chain_err_code(call, VC_RPC_APP_ERROR, r, err);
}

/* For core reads without an err string. */
static int read_err(vc_rpc_call_t *call, int r, const char *what)
{
    if (r == -ENOENT)
        return vc_rpc_error(call, VC_RPC_APP_ERROR, "%s not found", what);
    return vc_rpc_error(call, VC_RPC_APP_ERROR, "%s: %s", what, vc_strerror(r));
}

/* ------------------------------------------------------------------ methods: chain */

static int m_version(vc_rpc_call_t *call, json_t *params, json_t **ret)
{
    *ret = json_pack("{s:s, s:i, s:I}", "Version", DEVNET_VERSION, "APIVersion", DEVNET_API_VERSION, "BlockDelay",
                     (json_int_t)(dn_chain_block_time_ms(chain_of(call)) / 1000));
    return *ret ? 0 : -ENOMEM;
}

static int m_chain_head(vc_rpc_call_t *call, json_t *params, json_t **ret)
{
    int r = dn_chain_head(chain_of(call), ret);
    return r < 0 ? read_err(call, r, "head") : 0;
}

static int m_chain_get_tipset(vc_rpc_call_t *call, json_t *params, json_t **ret)
{
    vc_cid_t tsk[MAX_TSK];
    size_t n;
    int r = param_tsk(call, params, 0, tsk, &n);
    if (r < 0)
        return r;
    r = dn_chain_get_tipset(chain_of(call), tsk, n, ret);
    return r < 0 ? read_err(call, r, "tipset") : 0;
}

static int m_chain_get_tipset_by_height(vc_rpc_call_t *call, json_t *params, json_t **ret)
{
    vc_cid_t tsk[MAX_TSK];
    size_t n;
    int64_t h = 0;
    int r = param_i64(call, params, 0, &h);
    if (r == 0)
        r = param_tsk(call, params, 1, tsk, &n);
    if (r < 0)
        return r;
    if (h < 0)
        return vc_rpc_error(call, 1, "looking for tipset with height less than start point");
    r = dn_chain_get_tipset_by_height(chain_of(call), h, tsk, n, ret);
    if (r == -EINVAL)
        return vc_rpc_error(call, 1, "looking for tipset with height greater than start point");
    return r < 0 ? read_err(call, r, "tipset") : 0;
}

/* Methods taking one block or message CID. */
static int cid_method(vc_rpc_call_t *call, json_t *params, json_t **ret,
                      int (*fn)(dn_chain_t *, const vc_cid_t *, json_t **), const char *what)
{
    vc_cid_t c;
    int r = param_cid(call, params, 0, &c);
    if (r < 0)
        return r;
    r = fn(chain_of(call), &c, ret);
    return r < 0 ? read_err(call, r, what) : 0;
}

static int m_chain_get_block(vc_rpc_call_t *call, json_t *params, json_t **ret)
{
    return cid_method(call, params, ret, dn_chain_get_block, "block");
}

static int m_chain_get_parent_messages(vc_rpc_call_t *call, json_t *params, json_t **ret)
{
    return cid_method(call, params, ret, dn_chain_parent_messages, "block");
}

static int m_chain_get_parent_receipts(vc_rpc_call_t *call, json_t *params, json_t **ret)
{
    return cid_method(call, params, ret, dn_chain_parent_receipts, "block");
}

static int m_chain_get_message(vc_rpc_call_t *call, json_t *params, json_t **ret)
{
    return cid_method(call, params, ret, dn_chain_get_message, "message");
}

static int m_chain_get_messages_in_tipset(vc_rpc_call_t *call, json_t *params, json_t **ret)
{
    vc_cid_t tsk[MAX_TSK];
    size_t n;
    int r = param_tsk(call, params, 0, tsk, &n);
    if (r < 0)
        return r;
    r = dn_chain_messages_in_tipset(chain_of(call), tsk, n, ret);
    return r < 0 ? read_err(call, r, "tipset") : 0;
}

/* ChainNotify: first [{"Type":"current","Val":head}], then the core's revert/apply batches. */
typedef struct notify {
    pthread_mutex_t lock;
    vc_rpc_chan_t *chan; /* NULL once closed */
    dn_chain_t *chain;
    uint64_t sub_id;
} notify_t;

static void notify_changes(json_t *changes, void *userdata)
{
    notify_t *n = userdata;
    pthread_mutex_lock(&n->lock);
    if (n->chan)
        vc_rpc_chan_send(n->chan, changes);
    pthread_mutex_unlock(&n->lock);
}

static void notify_closed(vc_rpc_chan_t *ch, void *userdata)
{
    notify_t *n = userdata;
    /* unsubscribe waits for a notify_changes under way; after it, none runs */
    dn_chain_unsubscribe(n->chain, n->sub_id);
    pthread_mutex_lock(&n->lock);
    vc_rpc_chan_t *c = n->chan;
    n->chan = NULL;
    pthread_mutex_unlock(&n->lock);
    vc_rpc_chan_unref(c);
    pthread_mutex_destroy(&n->lock);
    free(n);
}

static int m_chain_notify(vc_rpc_call_t *call, json_t *params, json_t **ret)
{
    dn_chain_t *chain = chain_of(call);
    notify_t *n = calloc(1, sizeof(*n));
    json_t *head = NULL;
    if (!n)
        return -ENOMEM;
    pthread_mutex_init(&n->lock, NULL);
    n->chain = chain;
    int r = vc_rpc_chan_open(call, notify_closed, n, &n->chan);
    if (r < 0) {
        pthread_mutex_destroy(&n->lock);
        free(n);
        return r;
    }
    /* hold the lock so no apply can overtake the "current" value */
    pthread_mutex_lock(&n->lock);
    r = dn_chain_subscribe(chain, notify_changes, n, &n->sub_id);
    if (r == 0)
        r = dn_chain_head(chain, &head);
    if (r == 0) {
        json_t *first = json_pack("[{s:s, s:o}]", "Type", "current", "Val", head);
        r = first ? vc_rpc_chan_send(n->chan, first) : -ENOMEM;
        json_decref(first);
    }
    pthread_mutex_unlock(&n->lock);
    if (r < 0) { /* the rpc layer drops the unannounced channel; undo our side */
        dn_chain_unsubscribe(chain, n->sub_id);
        vc_rpc_chan_unref(n->chan);
        pthread_mutex_destroy(&n->lock);
        free(n);
        return read_err(call, r, "head");
    }
    return 0;
}

/* ------------------------------------------------------------------ methods: state */

typedef int (*addr_tsk_fn)(dn_chain_t *, const vc_address_t *, const vc_cid_t *, size_t, json_t **);

static int addr_tsk_method(vc_rpc_call_t *call, json_t *params, json_t **ret, addr_tsk_fn fn, const char *what)
{
    vc_address_t a;
    vc_cid_t tsk[MAX_TSK];
    size_t n;
    int r = param_addr(call, params, 0, &a);
    if (r == 0)
        r = param_tsk(call, params, 1, tsk, &n);
    if (r < 0)
        return r;
    r = fn(chain_of(call), &a, tsk, n, ret);
    return r < 0 ? read_err(call, r, what) : 0;
}

static int m_state_get_actor(vc_rpc_call_t *call, json_t *params, json_t **ret)
{
    return addr_tsk_method(call, params, ret, dn_state_get_actor, "actor");
}

static int m_state_account_key(vc_rpc_call_t *call, json_t *params, json_t **ret)
{
    return addr_tsk_method(call, params, ret, dn_state_account_key, "actor");
}

static int m_state_lookup_id(vc_rpc_call_t *call, json_t *params, json_t **ret)
{
    return addr_tsk_method(call, params, ret, dn_state_lookup_id, "actor");
}

static int m_state_miner_power(vc_rpc_call_t *call, json_t *params, json_t **ret)
{
    return addr_tsk_method(call, params, ret, dn_state_miner_power, "miner");
}

static int m_state_miner_info(vc_rpc_call_t *call, json_t *params, json_t **ret)
{
    return addr_tsk_method(call, params, ret, dn_state_miner_info, "miner");
}

/* Warmup reads [miner, (dlIdx | sectorNumber,) tsk]: the core's own error texts. */
static int m_state_miner_deadlines(vc_rpc_call_t *call, json_t *params, json_t **ret)
{
    vc_address_t miner;
    vc_cid_t tsk[MAX_TSK];
    size_t n;
    char *err = NULL;
    int r = param_addr(call, params, 0, &miner);
    if (r == 0)
        r = param_tsk(call, params, 1, tsk, &n);
    if (r < 0)
        return r;
    r = dn_state_miner_deadlines(chain_of(call), &miner, tsk, n, ret, &err);
    return r < 0 ? chain_err(call, r, err) : 0;
}

/* Params [miner, integer, tsk]: the deadline index or sector number of the warmup reads. */
static int param_miner_int_tsk(vc_rpc_call_t *call, json_t *params, vc_address_t *miner, int64_t *v, vc_cid_t *tsk,
                               size_t *n)
{
    int r = param_addr(call, params, 0, miner);
    if (r == 0)
        r = param_i64(call, params, 1, v);
    if (r == 0)
        r = param_tsk(call, params, 2, tsk, n);
    return r;
}

static int m_state_miner_partitions(vc_rpc_call_t *call, json_t *params, json_t **ret)
{
    vc_address_t miner;
    int64_t dl = 0;
    vc_cid_t tsk[MAX_TSK];
    size_t n;
    char *err = NULL;
    int r = param_miner_int_tsk(call, params, &miner, &dl, tsk, &n);
    if (r < 0)
        return r;
    r = dn_state_miner_partitions(chain_of(call), &miner, dl, tsk, n, ret, &err);
    if (r == -EINVAL) /* the deadline index is out of range */
        return chain_err_code(call, VC_RPC_INVALID_PARAMS, r, err);
    return r < 0 ? chain_err(call, r, err) : 0;
}

static int m_state_sector_get_info(vc_rpc_call_t *call, json_t *params, json_t **ret)
{
    vc_address_t miner;
    int64_t number = 0;
    vc_cid_t tsk[MAX_TSK];
    size_t n;
    char *err = NULL;
    int r = param_miner_int_tsk(call, params, &miner, &number, tsk, &n);
    if (r < 0)
        return r;
    if (number < 0)
        return bad_param(call, 1, "expected a sector number (unsigned integer)");
    r = dn_state_sector_get_info(chain_of(call), &miner, (uint64_t)number, tsk, n, ret, &err);
    return r < 0 ? chain_err(call, r, err) : 0;
}

static int m_state_search_msg(vc_rpc_call_t *call, json_t *params, json_t **ret)
{
    vc_cid_t tsk[MAX_TSK], msg;
    size_t n;
    int64_t limit = 0;
    bool replaced = false;
    int r = param_tsk(call, params, 0, tsk, &n);
    if (r == 0)
        r = param_cid(call, params, 1, &msg);
    if (r == 0)
        r = param_i64(call, params, 2, &limit);
    if (r == 0)
        r = param_bool(call, params, 3, &replaced);
    if (r < 0)
        return r;
    r = dn_state_search_msg(chain_of(call), tsk, n, &msg, limit, replaced, ret);
    return r < 0 ? read_err(call, r, "message") : 0;
}

/* StateWaitMsg [cid, confidence, limit, allowReplaced]: blocks until the message executed
 * `confidence` epochs ago, or the caller goes away. */
static int m_state_wait_msg(vc_rpc_call_t *call, json_t *params, json_t **ret)
{
    vc_cid_t msg;
    uint64_t confidence = 0;
    int64_t limit = 0;
    bool replaced = false;
    int r = param_cid(call, params, 0, &msg);
    if (r == 0)
        r = param_u64(call, params, 1, &confidence);
    if (r == 0)
        r = param_i64(call, params, 2, &limit);
    if (r == 0)
        r = param_bool(call, params, 3, &replaced);
    if (r < 0)
        return r;
    dn_chain_t *chain = chain_of(call);
    while (!vc_rpc_call_canceled(call)) {
        json_t *lookup = NULL;
        r = dn_state_search_msg(chain, NULL, 0, &msg, limit, replaced, &lookup);
        if (r < 0)
            return read_err(call, r, "message");
        if (lookup && !json_is_null(lookup)) {
            int64_t h = json_integer_value(json_object_get(lookup, "Height"));
            if (dn_chain_height(chain) >= h + (int64_t)confidence) {
                *ret = lookup;
                return 0;
            }
        }
        json_decref(lookup);
        vc_sleep_ms(50);
    }
    return vc_rpc_error(call, 1, "context canceled");
}

static int m_state_network_name(vc_rpc_call_t *call, json_t *params, json_t **ret)
{
    *ret = json_string(dn_chain_network_name(chain_of(call)));
    return *ret ? 0 : -ENOMEM;
}

static int m_state_network_version(vc_rpc_call_t *call, json_t *params, json_t **ret)
{
    vc_cid_t tsk[MAX_TSK];
    size_t n;
    int r = param_tsk(call, params, 0, tsk, &n);
    if (r < 0)
        return r;
    r = dn_state_network_version(chain_of(call), ret);
    return r < 0 ? read_err(call, r, "network version") : 0;
}

static int m_state_get_network_params(vc_rpc_call_t *call, json_t *params, json_t **ret)
{
    int r = dn_state_network_params(chain_of(call), ret);
    return r < 0 ? read_err(call, r, "network params") : 0;
}

static int m_state_get_beacon_entry(vc_rpc_call_t *call, json_t *params, json_t **ret)
{
    int64_t epoch = 0;
    int r = param_i64(call, params, 0, &epoch);
    if (r < 0)
        return r;
    if (epoch < 0)
        return bad_param(call, 0, "epoch must not be negative");
    r = dn_beacon_entry(chain_of(call), epoch, ret);
    return r < 0 ? read_err(call, r, "beacon entry") : 0;
}

static int m_wallet_balance(vc_rpc_call_t *call, json_t *params, json_t **ret)
{
    vc_address_t a;
    int r = param_addr(call, params, 0, &a);
    if (r < 0)
        return r;
    r = dn_wallet_balance(chain_of(call), &a, ret);
    return r < 0 ? read_err(call, r, "balance") : 0;
}

/* ------------------------------------------------------------------ methods: gas */

static int m_gas_estimate_message_gas(vc_rpc_call_t *call, json_t *params, json_t **ret)
{
    vc_cid_t tsk[MAX_TSK];
    size_t n;
    char *err = NULL;
    json_t *msg = json_array_get(params, 0), *spec = json_array_get(params, 1);
    if (!json_is_object(msg))
        return bad_param(call, 0, "expected a Message object");
    if (!json_is_null(spec) && !json_is_object(spec))
        return bad_param(call, 1, "expected a MessageSendSpec object or null");
    int r = param_tsk(call, params, 2, tsk, &n);
    if (r < 0)
        return r;
    r = dn_gas_estimate_message_gas(chain_of(call), msg, spec, ret, &err);
    return r < 0 ? chain_err(call, r, err) : 0;
}

static int m_gas_batch_estimate(vc_rpc_call_t *call, json_t *params, json_t **ret)
{
    vc_cid_t tsk[MAX_TSK];
    size_t n;
    uint64_t from_nonce = 0;
    char *err = NULL;
    json_t *est = json_array_get(params, 0);
    if (!json_is_array(est) || json_array_size(est) > MAX_BATCH_PUSH)
        return bad_param(call, 0, "expected an array of {\"Msg\",\"Spec\"}");
    int r = param_u64(call, params, 1, &from_nonce);
    if (r == 0)
        r = param_tsk(call, params, 2, tsk, &n);
    if (r < 0)
        return r;
    r = dn_gas_batch_estimate(chain_of(call), est, from_nonce, ret, &err);
    return r < 0 ? chain_err(call, r, err) : 0;
}

static int m_gas_estimate_fee_cap(vc_rpc_call_t *call, json_t *params, json_t **ret)
{
    vc_cid_t tsk[MAX_TSK];
    size_t n;
    int64_t blks = 0;
    char *err = NULL;
    json_t *msg = json_array_get(params, 0);
    if (!json_is_object(msg))
        return bad_param(call, 0, "expected a Message object");
    int r = param_i64(call, params, 1, &blks);
    if (r == 0)
        r = param_tsk(call, params, 2, tsk, &n);
    if (r < 0)
        return r;
    if (blks < 0 || blks > 1000)
        return bad_param(call, 1, "maxqueueblks must be 0..1000");
    r = dn_gas_estimate_fee_cap(chain_of(call), msg, blks, ret, &err);
    return r < 0 ? chain_err(call, r, err) : 0;
}

static int m_gas_estimate_gas_premium(vc_rpc_call_t *call, json_t *params, json_t **ret)
{
    uint64_t nblocks = 0;
    vc_address_t sender;
    int64_t gaslimit = 0;
    vc_cid_t tsk[MAX_TSK];
    size_t n;
    int r = param_u64(call, params, 0, &nblocks);
    if (r == 0)
        r = param_addr(call, params, 1, &sender);
    if (r == 0)
        r = param_i64(call, params, 2, &gaslimit);
    if (r == 0)
        r = param_tsk(call, params, 3, tsk, &n);
    if (r < 0)
        return r;
    r = dn_gas_estimate_premium(chain_of(call), nblocks, ret);
    return r < 0 ? read_err(call, r, "premium") : 0;
}

/* ------------------------------------------------------------------ methods: mpool */

static int push_one(vc_rpc_call_t *call, json_t *j, bool untrusted, json_t **ret_cid)
{
    vc_signed_message_t sm = {0};
    vc_cid_t cid;
    char *err = NULL;
    int r = vc_signed_message_from_json(j, &sm);
    if (r < 0)
        return vc_rpc_error(call, VC_RPC_PARSE_ERROR, "unmarshaling params for '%s': invalid SignedMessage: %s",
                            vc_rpc_call_method(call), vc_strerror(r));
    r = dn_mpool_push(chain_of(call), &sm, untrusted, &cid, &err);
    vc_signed_message_done(&sm);
    if (r < 0)
        return chain_err(call, r, err);
    *ret_cid = vc_cid_to_json(&cid);
    return *ret_cid ? 0 : -ENOMEM;
}

static int m_mpool_push(vc_rpc_call_t *call, json_t *params, json_t **ret)
{
    return push_one(call, json_array_get(params, 0), false, ret);
}

/* Batch push: stops at the first refused message, like Lotus; earlier ones stay pushed (one
 * transaction for the batch). */
static int batch_push(vc_rpc_call_t *call, json_t *params, bool untrusted, json_t **ret)
{
    json_t *arr = json_array_get(params, 0), *e, *out = NULL;
    size_t i, n, done = 0;
    char *err = NULL;
    int r = 0;
    if (!json_is_array(arr) || json_array_size(arr) > MAX_BATCH_PUSH)
        return bad_param(call, 0, "expected an array of SignedMessage (at most 10000)");
    n = json_array_size(arr);
    vc_signed_message_t *sms = calloc(n ? n : 1, sizeof(*sms));
    vc_cid_t *cids = calloc(n ? n : 1, sizeof(*cids));
    if (!sms || !cids) {
        r = -ENOMEM;
        goto out;
    }
    json_array_foreach(arr, i, e)
    {
        if ((r = vc_signed_message_from_json(e, &sms[i])) < 0) {
            r = vc_rpc_error(call, VC_RPC_PARSE_ERROR,
                             "unmarshaling params for '%s': message %zu is not a valid SignedMessage: %s",
                             vc_rpc_call_method(call), i, vc_strerror(r));
            goto out;
        }
    }
    r = dn_mpool_push_batch(chain_of(call), sms, n, untrusted, cids, &done, &err);
    if (r < 0) {
        r = chain_err(call, r, err);
        goto out;
    }
    out = json_array();
    for (i = 0; out && i < done; i++)
        json_array_append_new(out, vc_cid_to_json(&cids[i]));
    r = out ? 0 : -ENOMEM;
    *ret = out;
out:
    for (i = 0; sms && i < n; i++)
        vc_signed_message_done(&sms[i]);
    free(sms);
    free(cids);
    return r;
}

static int m_mpool_batch_push(vc_rpc_call_t *call, json_t *params, json_t **ret)
{
    return batch_push(call, params, false, ret);
}

static int m_mpool_batch_push_untrusted(vc_rpc_call_t *call, json_t *params, json_t **ret)
{
    return batch_push(call, params, true, ret);
}

static int m_mpool_get_nonce(vc_rpc_call_t *call, json_t *params, json_t **ret)
{
    vc_address_t a;
    uint64_t nonce;
    int r = param_addr(call, params, 0, &a);
    if (r < 0)
        return r;
    r = dn_mpool_get_nonce(chain_of(call), &a, &nonce);
    if (r < 0)
        return read_err(call, r, "actor");
    *ret = json_integer((json_int_t)nonce);
    return *ret ? 0 : -ENOMEM;
}

static int m_mpool_get_config(vc_rpc_call_t *call, json_t *params, json_t **ret)
{
    int r = dn_mpool_config(chain_of(call), ret);
    return r < 0 ? read_err(call, r, "config") : 0;
}

static int m_mpool_pending(vc_rpc_call_t *call, json_t *params, json_t **ret)
{
    vc_cid_t tsk[MAX_TSK];
    size_t n;
    int r = param_tsk(call, params, 0, tsk, &n);
    if (r < 0)
        return r;
    r = dn_mpool_pending(chain_of(call), ret);
    return r < 0 ? read_err(call, r, "mpool") : 0;
}

static int m_mpool_selects(vc_rpc_call_t *call, json_t *params, json_t **ret)
{
    vc_cid_t tsk[MAX_TSK];
    size_t n, i;
    double tq[64];
    json_t *arr = json_array_get(params, 1), *e;
    int r = param_tsk(call, params, 0, tsk, &n);
    if (r < 0)
        return r;
    if (!json_is_array(arr) || json_array_size(arr) > 64)
        return bad_param(call, 1, "expected an array of ticket qualities (at most 64)");
    json_array_foreach(arr, i, e)
    {
        if (!json_is_number(e) || !isfinite(json_number_value(e)))
            return bad_param(call, 1, "ticket quality must be a number");
        tq[i] = json_number_value(e);
    }
    r = dn_mpool_selects(chain_of(call), tsk, n, tq, json_array_size(arr), ret);
    return r < 0 ? read_err(call, r, "tipset") : 0;
}

/* ------------------------------------------------------------------ methods: mining & sync */

static int m_miner_get_base_info(vc_rpc_call_t *call, json_t *params, json_t **ret)
{
    vc_address_t miner;
    int64_t round = 0;
    vc_cid_t tsk[MAX_TSK];
    size_t n;
    int r = param_addr(call, params, 0, &miner);
    if (r == 0)
        r = param_i64(call, params, 1, &round);
    if (r == 0)
        r = param_tsk(call, params, 2, tsk, &n);
    if (r < 0)
        return r;
    r = dn_miner_get_base_info(chain_of(call), &miner, round, tsk, n, ret);
    return r < 0 ? read_err(call, r, "base info") : 0;
}

static int m_miner_create_block(vc_rpc_call_t *call, json_t *params, json_t **ret)
{
    char *err = NULL;
    json_t *t = json_array_get(params, 0);
    if (!json_is_object(t))
        return bad_param(call, 0, "expected a BlockTemplate object");
    int r = dn_miner_create_block(chain_of(call), t, ret, &err);
    return r < 0 ? chain_err(call, r, err) : 0;
}

static int m_sync_submit_block(vc_rpc_call_t *call, json_t *params, json_t **ret)
{
    char *err = NULL;
    json_t *b = json_array_get(params, 0);
    if (!json_is_object(b))
        return bad_param(call, 0, "expected a BlockMsg object");
    int r = dn_sync_submit_block(chain_of(call), b, &err);
    return r < 0 ? chain_err(call, r, err) : 0;
}

static int m_sync_state(vc_rpc_call_t *call, json_t *params, json_t **ret)
{
    int r = dn_sync_state(chain_of(call), ret);
    return r < 0 ? read_err(call, r, "sync state") : 0;
}

static int m_net_peers(vc_rpc_call_t *call, json_t *params, json_t **ret)
{
    *ret = json_array(); /* a single local node: no peers */
    return *ret ? 0 : -ENOMEM;
}

/* ------------------------------------------------------------------ admin test hooks */

static int m_devnet_revert(vc_rpc_call_t *call, json_t *params, json_t **ret)
{
    int64_t n = 0;
    char *err = NULL;
    int r = param_i64(call, params, 0, &n);
    if (r < 0)
        return r;
    if (n < 1 || n > 900)
        return bad_param(call, 0, "revert depth must be 1..900");
    r = dn_chain_revert(chain_of(call), (int)n, &err);
    if (r < 0)
        return chain_err(call, r, err);
    return dn_chain_head(chain_of(call), ret);
}

static int m_devnet_pause(vc_rpc_call_t *call, json_t *params, json_t **ret)
{
    bool paused = false;
    int r = param_bool(call, params, 0, &paused);
    if (r < 0)
        return r;
    dn_chain_pause(chain_of(call), paused);
    vc_logkv(VC_LOG_NOTICE, "devnet", paused ? "block production paused" : "block production resumed", NULL);
    return 0;
}

static int m_devnet_set_block_time(vc_rpc_call_t *call, json_t *params, json_t **ret)
{
    int64_t ms = 0;
    int r = param_i64(call, params, 0, &ms);
    if (r < 0)
        return r;
    if (ms < 10 || ms > 3600000)
        return bad_param(call, 0, "block time must be 10 ms .. 1 h");
    dn_chain_set_block_time_ms(chain_of(call), ms);
    return 0;
}

/* ------------------------------------------------------------------ table */

#define R VC_PERM_READ
#define W VC_PERM_WRITE
#define A VC_PERM_ADMIN
#define F VC_RPC_FAST

static const vc_rpc_method_t methods[] = {
    {"Filecoin.Version", R, 0, m_version, F},
    {"Filecoin.ChainHead", R, 0, m_chain_head, F},
    {"Filecoin.ChainNotify", R, 0, m_chain_notify, VC_RPC_CHANNEL},
    {"Filecoin.ChainGetTipSet", R, 1, m_chain_get_tipset, F},
    {"Filecoin.ChainGetTipSetByHeight", R, 2, m_chain_get_tipset_by_height, F},
    {"Filecoin.ChainGetBlock", R, 1, m_chain_get_block, F},
    {"Filecoin.ChainGetParentMessages", R, 1, m_chain_get_parent_messages, F},
    {"Filecoin.ChainGetParentReceipts", R, 1, m_chain_get_parent_receipts, F},
    {"Filecoin.ChainGetMessagesInTipset", R, 1, m_chain_get_messages_in_tipset, F},
    {"Filecoin.ChainGetMessage", R, 1, m_chain_get_message, F},
    {"Filecoin.StateGetActor", R, 2, m_state_get_actor, F},
    {"Filecoin.StateAccountKey", R, 2, m_state_account_key, F},
    {"Filecoin.StateLookupID", R, 2, m_state_lookup_id, F},
    {"Filecoin.StateSearchMsg", R, 4, m_state_search_msg, F},
    {"Filecoin.StateWaitMsg", R, 4, m_state_wait_msg, 0},
    {"Filecoin.StateMinerPower", R, 2, m_state_miner_power, F},
    {"Filecoin.StateMinerInfo", R, 2, m_state_miner_info, F},
    {"Filecoin.StateMinerDeadlines", R, 2, m_state_miner_deadlines, F},
    {"Filecoin.StateMinerPartitions", R, 3, m_state_miner_partitions, F},
    {"Filecoin.StateSectorGetInfo", R, 3, m_state_sector_get_info, F},
    {"Filecoin.StateNetworkName", R, 0, m_state_network_name, F},
    {"Filecoin.StateNetworkVersion", R, 1, m_state_network_version, F},
    {"Filecoin.StateGetNetworkParams", R, 0, m_state_get_network_params, F},
    {"Filecoin.StateGetBeaconEntry", R, 1, m_state_get_beacon_entry, F},
    {"Filecoin.BeaconGetEntry", R, 1, m_state_get_beacon_entry, F},
    {"Filecoin.GasEstimateMessageGas", R, 3, m_gas_estimate_message_gas, F},
    {"Filecoin.GasBatchEstimateMessageGas", R, 3, m_gas_batch_estimate, F},
    {"Filecoin.GasEstimateFeeCap", R, 3, m_gas_estimate_fee_cap, F},
    {"Filecoin.GasEstimateGasPremium", R, 4, m_gas_estimate_gas_premium, F},
    {"Filecoin.MpoolPush", W, 1, m_mpool_push, F},
    {"Filecoin.MpoolBatchPush", W, 1, m_mpool_batch_push, F},
    {"Filecoin.MpoolBatchPushUntrusted", W, 1, m_mpool_batch_push_untrusted, F},
    {"Filecoin.MpoolGetNonce", R, 1, m_mpool_get_nonce, F},
    {"Filecoin.MpoolGetConfig", R, 0, m_mpool_get_config, F},
    {"Filecoin.MpoolPending", R, 1, m_mpool_pending, F},
    {"Filecoin.MpoolSelects", R, 2, m_mpool_selects, F},
    {"Filecoin.WalletBalance", R, 1, m_wallet_balance, F},
    {"Filecoin.MinerGetBaseInfo", R, 3, m_miner_get_base_info, F},
    {"Filecoin.MinerCreateBlock", W, 1, m_miner_create_block, F},
    {"Filecoin.SyncSubmitBlock", W, 1, m_sync_submit_block, F},
    {"Filecoin.SyncState", R, 0, m_sync_state, F},
    {"Filecoin.NetPeers", R, 0, m_net_peers, F},
    {"Filecoin.DevnetRevert", A, 1, m_devnet_revert, F},
    {"Filecoin.DevnetPause", A, 1, m_devnet_pause, F},
    {"Filecoin.DevnetSetBlockTime", A, 1, m_devnet_set_block_time, F},
};

int dn_api_new(dn_chain_t *chain, vc_authn_t *authn, dn_api_t **ret)
{
    dn_api_t *a = calloc(1, sizeof(*a));
    if (!a)
        return -ENOMEM;
    a->chain = chain;
    vc_rpc_opts_t o = {.userdata = a, .authn = authn};
    int r = vc_rpc_server_new(&o, &a->rpc);
    if (r == 0)
        r = vc_rpc_register(a->rpc, methods, VC_ELEMENTSOF(methods));
    if (r < 0) {
        dn_api_free(a);
        return r;
    }
    *ret = a;
    return 0;
}

int dn_api_mount(dn_api_t *api, vc_http_server_t *http)
{
    int r = vc_rpc_mount(api->rpc, http, "/rpc/v1", NULL);
    return r < 0 ? r : vc_rpc_mount(api->rpc, http, "/rpc/v0", NULL);
}

vc_rpc_server_t *dn_api_rpc(dn_api_t *api)
{
    return api->rpc;
}

dn_api_t *dn_api_free(dn_api_t *api)
{
    if (!api)
        return NULL;
    vc_rpc_server_free(api->rpc);
    free(api);
    return NULL;
}
