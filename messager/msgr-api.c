/* msgr-api.c: Message.* JSON-RPC methods (spec section 2) over the service and the store. */
#include "msgr-api.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vc/ha-ops.h"
#include "vc/log.h"
#include "vc/util.h"

struct msgr_api {
    msgr_service_t *svc;
    vc_nodepool_store_t *pool_store;
    vc_rpc_server_t *rpc;
};

static msgr_service_t *svc_of(vc_rpc_call_t *call)
{
    return ((msgr_api_t *)vc_rpc_call_userdata(call))->svc;
}

static msgr_store_t *store_of(vc_rpc_call_t *call)
{
    return msgr_service_store(svc_of(call));
}

static bool is_admin(vc_rpc_call_t *call)
{
    return (vc_rpc_call_auth(call)->perms & VC_PERM_ADMIN) != 0;
}

/* ------------------------------------------------------------------ errors and params */

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

static int store_err(vc_rpc_call_t *call, int r)
{
    (void)r;
    return app_err(call, "%s", msgr_store_errmsg());
}

static int svc_err(vc_rpc_call_t *call)
{
    return app_err(call, "%s", msgr_service_errmsg());
}

static int bad_param(vc_rpc_call_t *call, int idx, const char *what)
{
    (void)vc_rpc_error(call, VC_RPC_PARSE_ERROR, "unmarshaling params for '%s' (param: %d): %s",
                       vc_rpc_call_method(call), idx, what);
    return VC_EREMOTE; /* what vc_rpc_error returns, visibly < 0 for the callers' flow analysis */
}

static int param_str(vc_rpc_call_t *call, json_t *params, int idx, const char **out)
{
    json_t *v = json_array_get(params, (size_t)idx);
    if (!json_is_string(v))
        return bad_param(call, idx, "expected a string");
    *out = json_string_value(v);
    return 0;
}

/* An address as the canonical "f..." string; allow_undef accepts "<empty>" / "" (out = ""). */
static int param_addr(vc_rpc_call_t *call, json_t *params, int idx, bool allow_undef,
                      char out[VC_ADDRESS_STRLEN_MAX])
{
    const char *s;
    int r = param_str(call, params, idx, &s);
    if (r < 0)
        return r;
    if (allow_undef && (!*s || vc_streq(s, "<empty>"))) {
        out[0] = 0;
        return 0;
    }
    if (msgr_addr_canon(s, out) < 0)
        return bad_param(call, idx, msgr_types_errmsg());
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

static int param_cid(vc_rpc_call_t *call, json_t *params, int idx, vc_cid_t *out)
{
    if (vc_cid_from_json(json_array_get(params, (size_t)idx), out) < 0)
        return bad_param(call, idx, "expected a CID {\"/\":\"bafy...\"}");
    return 0;
}

/* ------------------------------------------------------------------ signer checks (1) */

/* may_block false: from the lookup cache only (-EWOULDBLOCK when venus-auth must be asked). */
static int check_signer_maybe(vc_rpc_call_t *call, const char *addr, bool may_block)
{
    if (is_admin(call))
        return 0;
    const char *user = vc_rpc_call_auth(call)->name;
    bool ok = false;
    int r = may_block ? msgr_service_signer_exist(svc_of(call), user, addr, &ok)
                      : msgr_service_signer_exist_cached(svc_of(call), user, addr, &ok);
    if (r == -EWOULDBLOCK)
        return r;
    if (r < 0)
        return svc_err(call);
    if (!ok)
        return vc_rpc_error(call, VC_RPC_APP_ERROR, "signer %s not exist in user %s: permission deny", addr, user);
    return 0;
}

static int check_signer(vc_rpc_call_t *call, const char *addr)
{
    return check_signer_maybe(call, addr, true);
}

static int check_signer_a(vc_rpc_call_t *call, const vc_address_t *a)
{
    char s[VC_ADDRESS_STRLEN_MAX];
    vc_address_to_string(a, 'f', s);
    return check_signer(call, s);
}

/* The caller's signers (GET /user/signer/list?user=): a NULL-terminated vector (free() it). */
static int user_signers(vc_rpc_call_t *call, char ***ret, size_t *ret_n)
{
    const char *user = vc_rpc_call_auth(call)->name;
    char *esc = vc_url_escape(user), q[600];
    json_t *j = NULL, *e;
    size_t i, n = 0;
    if (!esc)
        return -ENOMEM;
    snprintf(q, sizeof(q), "/user/signer/list?user=%s", esc);
    free(esc);
    if (msgr_service_auth_get(svc_of(call), q, &j) < 0)
        return svc_err(call);
    size_t cnt = json_array_size(j);
    char **v = calloc(cnt + 1, sizeof(char *) + VC_ADDRESS_STRLEN_MAX);
    if (!v) {
        json_decref(j);
        return -ENOMEM;
    }
    char *p = (char *)(v + cnt + 1);
    json_array_foreach(j, i, e)
    {
        const char *sg = json_string_value(json_object_get(e, "Signer"));
        if (sg && msgr_addr_canon(sg, p) == 0) {
            v[n++] = p;
            p += VC_ADDRESS_STRLEN_MAX;
        }
    }
    json_decref(j);
    *ret = v;
    *ret_n = n;
    return 0;
}

/* ------------------------------------------------------------------ message output */

static int64_t confidence(vc_rpc_call_t *call, const msgr_message_t *m)
{
    if (m->state != MSGR_MSG_ONCHAIN && m->state != MSGR_MSG_NONCE_CONFLICT)
        return 0;
    int64_t h = msgr_service_head_height(svc_of(call));
    return h > m->height ? h - m->height : 0;
}

static int msg_out(vc_rpc_call_t *call, const msgr_message_t *m, json_t **ret)
{
    return msgr_message_to_json(m, confidence(call, m), ret);
}

static int msgs_out(vc_rpc_call_t *call, msgr_message_t *v, size_t n, json_t **ret)
{
    json_t *a = json_array();
    int r = a ? 0 : -ENOMEM;
    for (size_t i = 0; r == 0 && i < n; i++) {
        json_t *j = NULL;
        if ((r = msg_out(call, &v[i], &j)) == 0 && json_array_append_new(a, j) < 0)
            r = -ENOMEM;
    }
    msgr_messages_free(v, n);
    if (r < 0) {
        json_decref(a);
        return r;
    }
    *ret = a;
    return 0;
}

/* A single message read, then the signer check on its From. */
static int one_msg(vc_rpc_call_t *call, int r, msgr_message_t *m, json_t **ret)
{
    if (r == -ENOENT)
        return app_err(call, "get message by id error: %s", "record not found");
    if (r < 0)
        return store_err(call, r);
    r = check_signer_a(call, &m->msg.from);
    if (r == 0)
        r = msg_out(call, m, ret);
    msgr_message_done(m);
    return r;
}

/* ------------------------------------------------------------------ messages: reads */

static int m_has_message_by_uid(vc_rpc_call_t *call, json_t *params, json_t **ret)
{
    const char *id;
    bool has = false;
    int r = param_str(call, params, 0, &id);
    if (r < 0)
        return r;
    if ((r = msgr_store_msg_has(store_of(call), id, &has)) < 0)
        return store_err(call, r);
    *ret = json_boolean(has);
    return 0;
}

static int m_get_message_by_uid(vc_rpc_call_t *call, json_t *params, json_t **ret)
{
    const char *id;
    msgr_message_t m;
    int r = param_str(call, params, 0, &id);
    if (r < 0)
        return r;
    return one_msg(call, msgr_store_msg_get(store_of(call), id, &m), &m, ret);
}

static int m_get_message_by_signed_cid(vc_rpc_call_t *call, json_t *params, json_t **ret)
{
    vc_cid_t c;
    msgr_message_t m;
    int r = param_cid(call, params, 0, &c);
    if (r < 0)
        return r;
    return one_msg(call, msgr_store_msg_get_by_signed_cid(store_of(call), &c, &m), &m, ret);
}

static int m_get_message_by_unsigned_cid(vc_rpc_call_t *call, json_t *params, json_t **ret)
{
    vc_cid_t c;
    msgr_message_t m;
    int r = param_cid(call, params, 0, &c);
    if (r < 0)
        return r;
    return one_msg(call, msgr_store_msg_get_by_unsigned_cid(store_of(call), &c, &m), &m, ret);
}

static int m_get_message_by_from_and_nonce(vc_rpc_call_t *call, json_t *params, json_t **ret)
{
    char from[VC_ADDRESS_STRLEN_MAX];
    uint64_t nonce = 0;
    msgr_message_t m;
    int r = param_addr(call, params, 0, false, from);
    if (r == 0)
        r = param_u64(call, params, 1, &nonce);
    if (r < 0)
        return r;
    return one_msg(call, msgr_store_msg_get_by_from_nonce(store_of(call), from, nonce, &m), &m, ret);
}

static int m_list_message(vc_rpc_call_t *call, json_t *params, json_t **ret)
{
    msgr_query_params_t q = {0};
    msgr_message_t *v = NULL;
    size_t n = 0;
    char **mine = NULL;
    int r = 0;
    json_t *p = json_array_get(params, 0);
    if (!json_is_null(p) && msgr_query_params_from_json(p, &q) < 0)
        return bad_param(call, 0, msgr_types_errmsg());
    if (!is_admin(call)) {
        if (q.n_from == 0) {
            size_t nm = 0;
            if ((r = user_signers(call, &mine, &nm)) < 0)
                goto out;
            if (nm == 0) {
                *ret = json_null();
                goto out;
            }
            q.from = mine; /* borrowed for the query */
            q.n_from = nm;
        } else {
            for (size_t i = 0; i < q.n_from; i++)
                if ((r = check_signer(call, q.from[i])) < 0)
                    goto out;
        }
    }
    if ((r = msgr_store_msg_query(store_of(call), &q, &v, &n)) < 0) {
        r = store_err(call, r);
        goto out;
    }
    r = msgs_out(call, v, n, ret);
out:
    if (mine) {
        q.from = NULL;
        q.n_from = 0;
        free(mine);
    }
    msgr_query_params_done(&q);
    return r;
}

static int m_list_message_by_from_state(vc_rpc_call_t *call, json_t *params, json_t **ret)
{
    char from[VC_ADDRESS_STRLEN_MAX];
    int64_t state = 0, page = 0, size = 0, d = 0;
    json_t *asc = json_array_get(params, 2);
    int r = param_addr(call, params, 0, true, from);
    if (r == 0)
        r = param_i64(call, params, 1, &state);
    if (r == 0 && !json_is_boolean(asc))
        r = bad_param(call, 2, "expected a boolean");
    if (r == 0)
        r = param_i64(call, params, 3, &page);
    if (r == 0)
        r = param_i64(call, params, 4, &size);
    if (r == 0)
        r = param_i64(call, params, 5, &d);
    if (r < 0)
        return r;
    msgr_message_t *v = NULL;
    size_t n = 0;
    int64_t before = d != 0 ? vc_now_real_us() * 1000 - d : 0;
    r = msgr_store_msg_list_by_from_state(store_of(call), from, (int)state, json_is_true(asc), page, size, before, &v,
                                          &n);
    return r < 0 ? store_err(call, r) : msgs_out(call, v, n, ret);
}

static int m_list_message_by_address(vc_rpc_call_t *call, json_t *params, json_t **ret)
{
    char from[VC_ADDRESS_STRLEN_MAX];
    msgr_message_t *v = NULL;
    size_t n = 0;
    int r = param_addr(call, params, 0, false, from);
    if (r < 0)
        return r;
    r = msgr_store_msg_list_by_address(store_of(call), from, &v, &n);
    return r < 0 ? store_err(call, r) : msgs_out(call, v, n, ret);
}

static int m_list_failed_message(vc_rpc_call_t *call, json_t *params, json_t **ret)
{
    char **mine = NULL;
    size_t nm = 0;
    msgr_message_t *v = NULL;
    size_t n = 0;
    int r;
    if (!is_admin(call)) {
        if ((r = user_signers(call, &mine, &nm)) < 0)
            return r;
        if (nm == 0) {
            free(mine);
            *ret = json_array();
            return 0;
        }
    }
    r = msgr_store_msg_list_failed(store_of(call), (const char *const *)mine, nm, &v, &n);
    free(mine);
    return r < 0 ? store_err(call, r) : msgs_out(call, v, n, ret);
}

static int m_list_blocked_message(vc_rpc_call_t *call, json_t *params, json_t **ret)
{
    char from[VC_ADDRESS_STRLEN_MAX];
    int64_t d = 0;
    int r = param_addr(call, params, 0, true, from);
    if (r == 0)
        r = param_i64(call, params, 1, &d);
    if (r < 0)
        return r;
    if (*from && (r = check_signer(call, from)) < 0)
        return r;
    msgr_message_t *v = NULL;
    size_t n = 0;
    r = msgr_store_msg_list_blocked(store_of(call), *from ? from : NULL, vc_now_real_us() * 1000 - d, &v, &n);
    return r < 0 ? store_err(call, r) : msgs_out(call, v, n, ret);
}

/* WaitMessage (4.9): checks now and then every block delay; OnChain/NonceConflict with
 * Confidence > confidence, or FailedMsg, ends the wait. */
static int m_wait_message(vc_rpc_call_t *call, json_t *params, json_t **ret)
{
    const char *id;
    uint64_t want = 0;
    int r = param_str(call, params, 0, &id);
    if (r == 0)
        r = param_u64(call, params, 1, &want);
    if (r < 0)
        return r;
    bool checked = false;
    while (true) {
        msgr_message_t m;
        r = msgr_store_msg_get(store_of(call), id, &m);
        if (r == -ENOENT)
            return app_err(call, "get message by id error: %s", "record not found");
        if (r < 0)
            return store_err(call, r);
        if (!checked) {
            if ((r = check_signer_a(call, &m.msg.from)) < 0) {
                msgr_message_done(&m);
                return r;
            }
            checked = true;
        }
        int64_t c = confidence(call, &m);
        if (((m.state == MSGR_MSG_ONCHAIN || m.state == MSGR_MSG_NONCE_CONFLICT) && c > (int64_t)want) ||
            m.state == MSGR_MSG_FAILED) {
            r = msgr_message_to_json(&m, c, ret);
            msgr_message_done(&m);
            return r;
        }
        msgr_message_done(&m);
        int64_t wait = msgr_service_block_delay_ms(svc_of(call));
        for (int64_t t = 0; t < wait; t += 100) {
            if (vc_rpc_call_canceled(call))
                return app_err(call, "%s", "exit by client ");
            vc_sleep_ms(100);
        }
    }
}

/* ------------------------------------------------------------------ messages: writes */

/* The group commit wrote (or failed) a held push: answer its call. */
static void push_done(void *userdata, const msgr_message_t *m, int r, const char *errmsg)
{
    vc_rpc_call_t *call = userdata;
    if (r < 0)
        vc_rpc_complete_error(call, app_err(call, "%s", errmsg));
    else
        vc_rpc_complete(call, json_string(m->id));
}

/*
 * PushMessage / PushMessageWithId run on the HTTP thread or the WebSocket reader (VC_RPC_FAST):
 * with every lookup in the caches the push is checked there, queued for the group commit and
 * its call held, so the writer thread answers it once committed and no thread waits. A lookup
 * that needs venus-auth, the gateway or the node sends the call to the worker pool first.
 */
static int push_common(vc_rpc_call_t *call, const char *id, json_t *jmsg, json_t *jmeta, int idx,
                       json_t **ret)
{
    vc_message_t m = {0};
    msgr_send_spec_t meta = {0};
    bool has_meta = false, may_block = vc_rpc_call_may_block(call);
    char from[VC_ADDRESS_STRLEN_MAX];
    int r;
    if (msgr_chain_message_from_json(jmsg, &m) < 0)
        return bad_param(call, idx, msgr_types_errmsg());
    if (msgr_send_spec_from_json(jmeta, &meta, &has_meta) < 0) {
        vc_message_done(&m);
        return bad_param(call, idx + 1, msgr_types_errmsg());
    }
    if (!may_block && vc_address_protocol(&m.from) == VC_ADDR_ID) { /* StateAccountKey */
        r = -EWOULDBLOCK;
        goto out;
    }
    if (msgr_service_resolve_from(svc_of(call), &m.from) < 0) {
        r = svc_err(call);
        goto out;
    }
    vc_address_to_string(&m.from, 'f', from);
    if ((r = check_signer_maybe(call, from, may_block)) < 0)
        goto out;
    if ((r = msgr_service_push_check(svc_of(call), id, &m, may_block)) < 0) {
        if (r != -EWOULDBLOCK)
            r = svc_err(call);
        goto out;
    }
    vc_rpc_call_t *held = vc_rpc_call_hold(call);
    if (!held) {
        r = -ENOMEM;
        goto out;
    }
    r = msgr_service_push_queue(svc_of(call), id, &m, has_meta ? &meta : NULL, vc_rpc_call_auth(call)->name,
                                push_done, held);
    if (r < 0)
        vc_rpc_complete_error(held, svc_err(call));
    r = VC_RPC_PENDING;
out:
    vc_message_done(&m);
    return r == -EWOULDBLOCK ? vc_rpc_call_offload(call) : r;
}

static int m_push_message(vc_rpc_call_t *call, json_t *params, json_t **ret)
{
    return push_common(call, NULL, json_array_get(params, 0), json_array_get(params, 1), 0, ret);
}

static int m_push_message_with_id(vc_rpc_call_t *call, json_t *params, json_t **ret)
{
    const char *id;
    int r = param_str(call, params, 0, &id);
    if (r < 0)
        return r;
    return push_common(call, id, json_array_get(params, 1), json_array_get(params, 2), 1, ret);
}

/* Loads a message by id and checks the caller owns its From. */
static int msg_for_write(vc_rpc_call_t *call, const char *id, msgr_message_t *m)
{
    int r = msgr_store_msg_get(store_of(call), id, m);
    if (r == -ENOENT)
        return app_err(call, "%s", "record not found");
    if (r < 0)
        return store_err(call, r);
    if ((r = check_signer_a(call, &m->msg.from)) < 0)
        msgr_message_done(m);
    return r;
}

static int m_update_message_state_by_id(vc_rpc_call_t *call, json_t *params, json_t **ret)
{
    const char *id;
    int64_t state = 0;
    msgr_message_t m;
    int r = param_str(call, params, 0, &id);
    if (r == 0)
        r = param_i64(call, params, 1, &state);
    if (r < 0 || (r = msg_for_write(call, id, &m)) < 0)
        return r;
    msgr_message_done(&m);
    if (state < 0 || state >= MSGR_MSG_STATE_MAX)
        return app_err(call, "%s", "invalid message state");
    r = msgr_store_msg_set_state(store_of(call), id, (int)state);
    return r < 0 ? store_err(call, r) : 0;
}

static int m_mark_bad_message(vc_rpc_call_t *call, json_t *params, json_t **ret)
{
    const char *id;
    msgr_message_t m;
    int r = param_str(call, params, 0, &id);
    if (r < 0 || (r = msg_for_write(call, id, &m)) < 0)
        return r;
    msgr_message_done(&m);
    r = msgr_store_msg_mark_failed(store_of(call), id, NULL);
    return r < 0 ? store_err(call, r) : 0;
}

static int m_update_filled_message_by_id(vc_rpc_call_t *call, json_t *params, json_t **ret)
{
    const char *id;
    msgr_message_t m;
    int r = param_str(call, params, 0, &id);
    if (r < 0 || (r = msg_for_write(call, id, &m)) < 0)
        return r;
    msgr_message_done(&m);
    if (msgr_service_update_filled(svc_of(call), id) < 0)
        return svc_err(call);
    *ret = json_string(id);
    return 0;
}

static int m_update_all_filled_message(vc_rpc_call_t *call, json_t *params, json_t **ret)
{
    int n = msgr_service_update_all_filled(svc_of(call));
    if (n < 0)
        return svc_err(call);
    *ret = json_integer(n);
    return 0;
}

static int m_republish_message(vc_rpc_call_t *call, json_t *params, json_t **ret)
{
    const char *id;
    int r = param_str(call, params, 0, &id);
    if (r < 0)
        return r;
    /* upstream answers success for an unknown id (spec 10): we say so */
    if (msgr_service_republish(svc_of(call), id) < 0)
        return svc_err(call);
    return 0;
}

/* ReplaceMessage (4.7): signer check on the message's From, then the service. */
static int m_replace_message(vc_rpc_call_t *call, json_t *params, json_t **ret)
{
    msgr_replace_params_t p = {0};
    msgr_message_t m;
    vc_cid_t c;
    if (msgr_replace_params_from_json(json_array_get(params, 0), &p) < 0)
        return bad_param(call, 0, msgr_types_errmsg());
    int r = msg_for_write(call, p.id ? p.id : "", &m);
    if (r < 0)
        goto out;
    msgr_message_done(&m);
    if (msgr_service_replace(svc_of(call), &p, &c) < 0) {
        r = svc_err(call);
        goto out;
    }
    *ret = vc_cid_to_json(&c);
    r = *ret ? 0 : -ENOMEM;
out:
    msgr_replace_params_done(&p);
    return r;
}

/* RecoverFailedMsg (4.7): the recovered ids, [] when none. */
static int m_recover_failed_msg(vc_rpc_call_t *call, json_t *params, json_t **ret)
{
    char a[VC_ADDRESS_STRLEN_MAX], **ids = NULL;
    size_t n = 0;
    int r = param_addr(call, params, 0, false, a);
    if (r == 0)
        r = check_signer(call, a);
    if (r < 0)
        return r;
    if (msgr_service_recover_failed(svc_of(call), a, &ids, &n) < 0)
        return svc_err(call);
    json_t *arr = json_array();
    for (size_t i = 0; arr && i < n; i++)
        json_array_append_new(arr, json_string(ids[i]));
    msgr_strv_free(ids, n);
    *ret = arr;
    return arr ? 0 : -ENOMEM;
}

/* ClearUnFillMessage (4.7): done at once in one statement instead of waiting for the next
 * selection round (spec 10): the fill transaction only takes rows that are still UnFillMsg. */
static int m_clear_unfill_message(vc_rpc_call_t *call, json_t *params, json_t **ret)
{
    char a[VC_ADDRESS_STRLEN_MAX];
    int r = param_addr(call, params, 0, false, a);
    if (r == 0)
        r = check_signer(call, a);
    if (r < 0)
        return r;
    if ((r = msgr_store_msg_fail_unfilled(store_of(call), a, NULL)) < 0)
        return store_err(call, r);
    *ret = json_integer(r);
    return *ret ? 0 : -ENOMEM;
}

/* Send (4.1): sign permission, signer check on From (an ID From resolved first). */
static int m_send(vc_rpc_call_t *call, json_t *params, json_t **ret)
{
    msgr_quick_send_t q = {0};
    char id[MSGR_ID_MAX + 1];
    if (msgr_quick_send_from_json(json_array_get(params, 0), &q) < 0)
        return bad_param(call, 0, msgr_types_errmsg());
    int r = 0;
    if (msgr_service_resolve_from(svc_of(call), &q.from) < 0) {
        r = svc_err(call);
        goto out;
    }
    if ((r = check_signer_a(call, &q.from)) < 0)
        goto out;
    if (msgr_service_send(svc_of(call), &q, id) < 0) {
        r = svc_err(call);
        goto out;
    }
    *ret = json_string(id);
    r = *ret ? 0 : -ENOMEM;
out:
    msgr_quick_send_done(&q);
    return r;
}

/* ------------------------------------------------------------------ addresses */

static int addr_simple(vc_rpc_call_t *call, json_t *params, char addr[VC_ADDRESS_STRLEN_MAX])
{
    int r = param_addr(call, params, 0, false, addr);
    if (r == 0)
        r = check_signer(call, addr);
    return r;
}

static int m_get_address(vc_rpc_call_t *call, json_t *params, json_t **ret)
{
    char a[VC_ADDRESS_STRLEN_MAX];
    msgr_address_t ad;
    int r = addr_simple(call, params, a);
    if (r < 0)
        return r;
    if ((r = msgr_store_addr_get(store_of(call), a, &ad)) < 0)
        return store_err(call, r);
    r = msgr_address_to_json(&ad, ret);
    msgr_address_done(&ad);
    return r;
}

static int m_has_address(vc_rpc_call_t *call, json_t *params, json_t **ret)
{
    char a[VC_ADDRESS_STRLEN_MAX];
    bool has = false;
    int r = addr_simple(call, params, a);
    if (r < 0)
        return r;
    if ((r = msgr_store_addr_has(store_of(call), a, &has)) < 0)
        return store_err(call, r);
    *ret = json_boolean(has);
    return 0;
}

static int m_wallet_has(vc_rpc_call_t *call, json_t *params, json_t **ret)
{
    char a[VC_ADDRESS_STRLEN_MAX], **users = NULL;
    bool has = false, mine = false;
    int r = addr_simple(call, params, a);
    if (r < 0)
        return r;
    if (msgr_service_signer_users(svc_of(call), a, &users, NULL) < 0)
        return svc_err(call);
    for (size_t i = 0; users[i]; i++)
        mine = mine || vc_streq(users[i], vc_rpc_call_auth(call)->name);
    free(users);
    if (mine && msgr_service_wallet_has(svc_of(call), a, &has) < 0)
        return svc_err(call);
    *ret = json_boolean(has);
    return 0;
}

static int m_list_address(vc_rpc_call_t *call, json_t *params, json_t **ret)
{
    msgr_address_t *v = NULL;
    size_t n = 0;
    int r = msgr_store_addr_list(store_of(call), false, &v, &n);
    if (r < 0)
        return store_err(call, r);
    json_t *a = json_array();
    const char *user = vc_rpc_call_auth(call)->name;
    for (size_t i = 0; a && i < n; i++) {
        bool ok = true;
        if (!is_admin(call) && msgr_service_signer_exist(svc_of(call), user, v[i].addr, &ok) < 0)
            ok = false;
        json_t *j = NULL;
        if (ok && msgr_address_to_json(&v[i], &j) == 0)
            json_array_append_new(a, j);
    }
    msgr_addresses_free(v, n);
    *ret = a;
    return a ? 0 : -ENOMEM;
}

static int m_update_nonce(vc_rpc_call_t *call, json_t *params, json_t **ret)
{
    char a[VC_ADDRESS_STRLEN_MAX];
    uint64_t nonce = 0;
    int r = addr_simple(call, params, a);
    if (r == 0)
        r = param_u64(call, params, 1, &nonce);
    if (r < 0)
        return r;
    r = msgr_store_addr_set_nonce(store_of(call), a, nonce);
    return r < 0 ? store_err(call, r) : 0;
}

static int m_delete_address(vc_rpc_call_t *call, json_t *params, json_t **ret)
{
    char a[VC_ADDRESS_STRLEN_MAX];
    int r = addr_simple(call, params, a);
    if (r < 0)
        return r;
    r = msgr_store_addr_delete(store_of(call), a);
    return r < 0 ? store_err(call, r) : 0;
}

static int set_addr_state(vc_rpc_call_t *call, json_t *params, int state)
{
    char a[VC_ADDRESS_STRLEN_MAX];
    int r = addr_simple(call, params, a);
    if (r < 0)
        return r;
    r = msgr_store_addr_set_state(store_of(call), a, state);
    return r < 0 ? store_err(call, r) : 0;
}

static int m_forbidden_address(vc_rpc_call_t *call, json_t *params, json_t **ret)
{
    return set_addr_state(call, params, MSGR_ADDR_FORBIDDEN);
}

static int m_active_address(vc_rpc_call_t *call, json_t *params, json_t **ret)
{
    return set_addr_state(call, params, MSGR_ADDR_ALIVE);
}

static int m_set_select_msg_num(vc_rpc_call_t *call, json_t *params, json_t **ret)
{
    char a[VC_ADDRESS_STRLEN_MAX];
    uint64_t num = 0;
    int r = addr_simple(call, params, a);
    if (r == 0)
        r = param_u64(call, params, 1, &num);
    if (r < 0)
        return r;
    r = msgr_store_addr_set_sel_msg_num(store_of(call), a, num);
    return r < 0 ? store_err(call, r) : 0;
}

static int m_set_fee_params(vc_rpc_call_t *call, json_t *params, json_t **ret)
{
    msgr_address_spec_t sp = {0};
    if (msgr_address_spec_from_json(json_array_get(params, 0), &sp) < 0)
        return bad_param(call, 0, msgr_types_errmsg());
    int r = check_signer(call, sp.address ? sp.address : "");
    if (r == 0 && (r = msgr_store_addr_set_fee(store_of(call), &sp)) < 0)
        r = store_err(call, r);
    msgr_address_spec_done(&sp);
    return r;
}

/* ------------------------------------------------------------------ shared params, actor cfg */

static int m_get_shared_params(vc_rpc_call_t *call, json_t *params, json_t **ret)
{
    msgr_shared_spec_t sp;
    int r = msgr_store_shared_get(store_of(call), &sp);
    return r < 0 ? store_err(call, r) : msgr_shared_spec_to_json(&sp, ret);
}

static int m_set_shared_params(vc_rpc_call_t *call, json_t *params, json_t **ret)
{
    msgr_shared_spec_t sp;
    if (msgr_shared_spec_from_json(json_array_get(params, 0), &sp) < 0)
        return bad_param(call, 0, msgr_types_errmsg());
    int r = msgr_store_shared_set(store_of(call), &sp);
    return r < 0 ? store_err(call, r) : 0;
}

static int m_save_actor_cfg(vc_rpc_call_t *call, json_t *params, json_t **ret)
{
    msgr_actor_cfg_t a;
    if (msgr_actor_cfg_from_json(json_array_get(params, 0), &a) < 0)
        return bad_param(call, 0, msgr_types_errmsg());
    int r = msgr_store_actor_cfg_save(store_of(call), &a, NULL);
    return r < 0 ? store_err(call, r) : 0;
}

static int m_update_actor_cfg(vc_rpc_call_t *call, json_t *params, json_t **ret)
{
    const char *id;
    msgr_change_gas_spec_t c;
    int r = param_str(call, params, 0, &id);
    if (r < 0)
        return r;
    if (msgr_change_gas_spec_from_json(json_array_get(params, 1), &c) < 0)
        return bad_param(call, 1, msgr_types_errmsg());
    r = msgr_store_actor_cfg_update(store_of(call), id, &c);
    return r < 0 ? store_err(call, r) : 0;
}

static int m_list_actor_cfg(vc_rpc_call_t *call, json_t *params, json_t **ret)
{
    msgr_actor_cfg_t *v = NULL;
    size_t n = 0;
    int r = msgr_store_actor_cfg_list(store_of(call), &v, &n);
    if (r < 0)
        return store_err(call, r);
    json_t *a = json_array();
    for (size_t i = 0; a && i < n; i++) {
        json_t *j = NULL;
        if (msgr_actor_cfg_to_json(&v[i], &j) == 0)
            json_array_append_new(a, j);
    }
    free(v);
    *ret = a;
    return a ? 0 : -ENOMEM;
}

static int m_get_actor_cfg_by_id(vc_rpc_call_t *call, json_t *params, json_t **ret)
{
    const char *id;
    msgr_actor_cfg_t a;
    int r = param_str(call, params, 0, &id);
    if (r < 0)
        return r;
    if ((r = msgr_store_actor_cfg_get(store_of(call), id, &a)) < 0)
        return store_err(call, r);
    return msgr_actor_cfg_to_json(&a, ret);
}

/* ------------------------------------------------------------------ nodes */

static int m_save_node(vc_rpc_call_t *call, json_t *params, json_t **ret)
{
    msgr_node_t nd = {0};
    if (msgr_node_from_json(json_array_get(params, 0), &nd) < 0)
        return bad_param(call, 0, msgr_types_errmsg());
    /* dial the node first, as upstream does */
    const char *eps[] = {nd.url ? nd.url : ""};
    vc_client_opts_t o = {.endpoints = eps, .n_endpoints = 1, .default_path = "/rpc/v1", .token = nd.token,
                          .retries = -1, .timeout_ms = 5000};
    vc_client_t *c = NULL;
    json_t *res = NULL;
    vc_rpc_err_t e = {0};
    int r = vc_client_new(&o, &c);
    if (r == 0)
        r = vc_client_call(c, "Filecoin.Version", NULL, &res, &e);
    vc_client_free(c);
    json_decref(res);
    if (r < 0) {
        r = app_err(call, "dial node: %s", r == VC_EREMOTE ? e.message : vc_strerror(r));
    } else if ((r = msgr_store_node_save(store_of(call), &nd, NULL)) < 0) {
        r = store_err(call, r);
    }
    msgr_node_done(&nd);
    return r;
}

static int m_get_node(vc_rpc_call_t *call, json_t *params, json_t **ret)
{
    const char *name;
    msgr_node_t nd;
    int r = param_str(call, params, 0, &name);
    if (r < 0)
        return r;
    if ((r = msgr_store_node_get(store_of(call), name, &nd)) < 0)
        return store_err(call, r);
    r = msgr_node_to_json(&nd, ret);
    msgr_node_done(&nd);
    return r;
}

static int m_has_node(vc_rpc_call_t *call, json_t *params, json_t **ret)
{
    const char *name;
    bool has = false;
    int r = param_str(call, params, 0, &name);
    if (r < 0)
        return r;
    if ((r = msgr_store_node_has(store_of(call), name, &has)) < 0)
        return store_err(call, r);
    *ret = json_boolean(has);
    return 0;
}

static int m_list_node(vc_rpc_call_t *call, json_t *params, json_t **ret)
{
    msgr_node_t *v = NULL;
    size_t n = 0;
    int r = msgr_store_node_list(store_of(call), &v, &n);
    if (r < 0)
        return store_err(call, r);
    json_t *a = json_array();
    for (size_t i = 0; a && i < n; i++) {
        json_t *j = NULL;
        if (msgr_node_to_json(&v[i], &j) == 0)
            json_array_append_new(a, j);
    }
    msgr_nodes_free(v, n);
    *ret = a;
    return a ? 0 : -ENOMEM;
}

static int m_delete_node(vc_rpc_call_t *call, json_t *params, json_t **ret)
{
    const char *name;
    int r = param_str(call, params, 0, &name);
    if (r < 0)
        return r;
    r = msgr_store_node_delete(store_of(call), name);
    return r < 0 ? store_err(call, r) : 0;
}

/* ------------------------------------------------------------------ logs, net, version */

static const char *const subsystems[] = {"msg-select", "msg-state", "service", "publisher", "api", "db",
                                         "wallet-proxy", "msg-pubsub", NULL};

static int m_log_list(vc_rpc_call_t *call, json_t *params, json_t **ret)
{
    json_t *a = json_array();
    for (size_t i = 0; a && subsystems[i]; i++)
        json_array_append_new(a, json_string(subsystems[i]));
    *ret = a;
    return a ? 0 : -ENOMEM;
}

static int m_set_log_level(vc_rpc_call_t *call, json_t *params, json_t **ret)
{
    const char *sys, *level;
    vc_log_level_t l;
    int r = param_str(call, params, 0, &sys);
    if (r == 0)
        r = param_str(call, params, 1, &level);
    if (r < 0)
        return r;
    if (vc_log_level_from_string(level, &l) < 0)
        return app_err(call, "unrecognized level: \"%s\"", level);
    /* one process-wide level: every subsystem shares it */
    vc_log_set_level(l);
    return 0;
}

static int m_net_unsupported(vc_rpc_call_t *call, json_t *params, json_t **ret)
{
    return app_err(call, "%s is not supported: venus-c messager runs no libp2p host", vc_rpc_call_method(call));
}

static int m_version(vc_rpc_call_t *call, json_t *params, json_t **ret)
{
    *ret = json_pack("{s:s, s:i}", "Version", MSGR_VERSION, "APIVersion", 0);
    return *ret ? 0 : -ENOMEM;
}

/* ------------------------------------------------------------------ HA (vc/ha-ops.h) */

/* Message.HaStatus / HaPromote / HaPause / HaResume */
static int m_ha(vc_rpc_call_t *call, json_t *params, json_t **ret)
{
    msgr_service_t *svc = svc_of(call);
    return vc_ha_rpc(call, params, ret, msgr_service_elector(svc), msgr_service_presence(svc),
                     msgr_store_db(store_of(call)));
}

/* ------------------------------------------------------------------ chain-node pool */

/* NodePoolList (read) and NodePoolAdd / Set / Remove / Policy / Config (admin): shapes in
 * vc/nodepool-store.h. A change is stored in the database, then applied; the other instances
 * on the database follow within a few seconds. */
static int m_node_pool(vc_rpc_call_t *call, json_t *params, json_t **ret)
{
    msgr_api_t *api = vc_rpc_call_userdata(call);
    return vc_nodepool_store_rpc_answer(api->pool_store, call, params, ret, "service");
}

/* ------------------------------------------------------------------ table */

#define R VC_PERM_READ
#define W VC_PERM_WRITE
#define S VC_PERM_SIGN
#define A VC_PERM_ADMIN
#define F VC_RPC_FAST

static const vc_rpc_method_t methods[] = {
    {"Message.HasMessageByUid", R, 1, m_has_message_by_uid, F},
    {"Message.WaitMessage", R, 2, m_wait_message, 0},
    {"Message.PushMessage", W, 2, m_push_message, F | VC_RPC_ASYNC},
    {"Message.PushMessageWithId", W, 3, m_push_message_with_id, F | VC_RPC_ASYNC},
    {"Message.GetMessageByUid", R, 1, m_get_message_by_uid, 0},
    {"Message.GetMessageBySignedCid", R, 1, m_get_message_by_signed_cid, 0},
    {"Message.GetMessageByUnsignedCid", R, 1, m_get_message_by_unsigned_cid, 0},
    {"Message.GetMessageByFromAndNonce", R, 2, m_get_message_by_from_and_nonce, 0},
    {"Message.ListMessage", R, 1, m_list_message, 0},
    {"Message.ListMessageByFromState", A, 6, m_list_message_by_from_state, 0},
    {"Message.ListMessageByAddress", A, 1, m_list_message_by_address, 0},
    {"Message.ListFailedMessage", R, 0, m_list_failed_message, 0},
    {"Message.ListBlockedMessage", R, 2, m_list_blocked_message, 0},
    {"Message.UpdateMessageStateByID", W, 2, m_update_message_state_by_id, 0},
    {"Message.UpdateAllFilledMessage", A, 0, m_update_all_filled_message, 0},
    {"Message.UpdateFilledMessageByID", W, 1, m_update_filled_message_by_id, 0},
    {"Message.ReplaceMessage", W, 1, m_replace_message, 0},
    {"Message.RepublishMessage", A, 1, m_republish_message, 0},
    {"Message.MarkBadMessage", W, 1, m_mark_bad_message, 0},
    {"Message.RecoverFailedMsg", W, 1, m_recover_failed_msg, 0},
    {"Message.ClearUnFillMessage", W, 1, m_clear_unfill_message, 0},
    {"Message.Send", S, 1, m_send, 0},
    {"Message.SaveActorCfg", A, 1, m_save_actor_cfg, 0},
    {"Message.UpdateActorCfg", A, 2, m_update_actor_cfg, 0},
    {"Message.ListActorCfg", R, 0, m_list_actor_cfg, 0},
    {"Message.GetActorCfgByID", R, 1, m_get_actor_cfg_by_id, 0},
    {"Message.GetAddress", R, 1, m_get_address, 0},
    {"Message.HasAddress", R, 1, m_has_address, 0},
    {"Message.WalletHas", R, 1, m_wallet_has, 0},
    {"Message.ListAddress", R, 0, m_list_address, 0},
    {"Message.UpdateNonce", A, 2, m_update_nonce, 0},
    {"Message.DeleteAddress", W, 1, m_delete_address, 0},
    {"Message.ForbiddenAddress", W, 1, m_forbidden_address, 0},
    {"Message.ActiveAddress", W, 1, m_active_address, 0},
    {"Message.SetSelectMsgNum", W, 2, m_set_select_msg_num, 0},
    {"Message.SetFeeParams", W, 1, m_set_fee_params, 0},
    {"Message.GetSharedParams", R, 0, m_get_shared_params, 0},
    {"Message.SetSharedParams", A, 1, m_set_shared_params, 0},
    {"Message.SaveNode", A, 1, m_save_node, 0},
    {"Message.GetNode", A, 1, m_get_node, 0},
    {"Message.HasNode", A, 1, m_has_node, 0},
    {"Message.ListNode", A, 0, m_list_node, 0},
    {"Message.DeleteNode", A, 1, m_delete_node, 0},
    {"Message.SetLogLevel", A, 2, m_set_log_level, F},
    {"Message.LogList", A, 0, m_log_list, F},
    {"Message.NetFindPeer", A, 1, m_net_unsupported, F},
    {"Message.NetPeers", A, 0, m_net_unsupported, F},
    {"Message.NetConnect", A, 1, m_net_unsupported, F},
    {"Message.NetAddrsListen", A, 0, m_net_unsupported, F},
    {"Message.Version", R, 0, m_version, F},
    VC_HA_RPC_METHODS("Message", m_ha),
    VC_NODEPOOL_RPC_METHODS("Message", m_node_pool),
};

int msgr_api_new(msgr_service_t *svc, vc_nodepool_store_t *pool_store, vc_authn_t *authn, msgr_api_t **ret)
{
    msgr_api_t *a = calloc(1, sizeof(*a));
    if (!a)
        return -ENOMEM;
    a->svc = svc;
    a->pool_store = pool_store;
    vc_rpc_opts_t o = {.userdata = a, .authn = authn};
    int r = vc_rpc_server_new(&o, &a->rpc);
    if (r == 0)
        r = vc_rpc_register(a->rpc, methods, sizeof(methods) / sizeof(methods[0]));
    if (r < 0) {
        msgr_api_free(a);
        return r;
    }
    *ret = a;
    return 0;
}

msgr_api_t *msgr_api_free(msgr_api_t *a)
{
    if (!a)
        return NULL;
    vc_rpc_server_free(a->rpc);
    free(a);
    return NULL;
}

int msgr_api_mount(msgr_api_t *a, vc_http_server_t *http)
{
    return vc_rpc_mount(a->rpc, http, "/rpc/v0", NULL);
}

vc_rpc_server_t *msgr_api_rpc(msgr_api_t *a)
{
    return a->rpc;
}
