/* miner-set.c: the known miners and the mining set, pulled from venus-auth (A.0, A.1). */
#define _GNU_SOURCE /* asprintf */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "miner-internal.h"
#include "vc/log.h"
#include "vc/util.h"

#define AUTH_LIST_MAX 20000

void miner_now_str(char out[32])
{
    time_t t = time(NULL);
    struct tm tm;
    localtime_r(&t, &tm);
    strftime(out, 32, "%Y-%m-%d %H:%M:%S", &tm);
}

static void entry_clear_errs(miner_entry_t *e)
{
    for (size_t i = 0; i < MINER_ERR_RING; i++) {
        free(e->errs[i]);
        e->errs[i] = NULL;
    }
    e->n_errs = e->err_head = 0;
}

static void entries_free(miner_entry_t *v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        entry_clear_errs(&v[i]);
    free(v);
}

void miner_set_free(miner_t *m);
void miner_set_free(miner_t *m)
{
    entries_free(m->miners, m->n_miners);
    m->miners = NULL;
    m->n_miners = 0;
}

/* Parses any spelling of an address; NULL-safe. */
static int parse_addr(const char *s, vc_address_t *a)
{
    return s ? vc_address_from_string(s, a) : -EINVAL;
}

static miner_entry_t *find_locked(miner_t *m, const vc_address_t *a)
{
    for (size_t i = 0; i < m->n_miners; i++)
        if (vc_address_equal(&m->miners[i].a, a))
            return &m->miners[i];
    return NULL;
}

static void ring_push(miner_entry_t *e, char *msg)
{
    size_t slot = (e->err_head + e->n_errs) % MINER_ERR_RING;
    if (e->n_errs == MINER_ERR_RING) {
        free(e->errs[e->err_head]);
        e->err_head = (e->err_head + 1) % MINER_ERR_RING;
        slot = (e->err_head + e->n_errs - 1) % MINER_ERR_RING;
    } else
        e->n_errs++;
    e->errs[slot] = msg;
}

void miner_add_error(miner_t *m, const char *addr, const char *fmt, ...)
{
    vc_address_t a;
    char ts[32], *text = NULL, *line = NULL;
    va_list ap;
    if (parse_addr(addr, &a) < 0)
        return;
    va_start(ap, fmt);
    int n = vasprintf(&text, fmt, ap);
    va_end(ap);
    if (n < 0)
        return;
    miner_now_str(ts);
    if (asprintf(&line, "%s %s", ts, text) < 0)
        line = NULL;
    free(text);
    if (!line)
        return;
    pthread_mutex_lock(&m->lock);
    miner_entry_t *e = find_locked(m, &a);
    if (e)
        ring_push(e, line);
    else
        free(line);
    pthread_mutex_unlock(&m->lock);
}

int miner_snapshot(miner_t *m, miner_ref_t **ret, size_t *ret_n)
{
    pthread_mutex_lock(&m->lock);
    miner_ref_t *v = calloc(m->n_miners ? m->n_miners : 1, sizeof(*v));
    size_t n = 0;
    for (size_t i = 0; v && i < m->n_miners; i++) {
        if (!m->miners[i].open)
            continue;
        memcpy(v[n].addr, m->miners[i].addr, sizeof(v[n].addr));
        v[n].a = m->miners[i].a;
        memcpy(v[n].user, m->miners[i].user, sizeof(v[n].user));
        n++;
    }
    pthread_mutex_unlock(&m->lock);
    if (!v)
        return -ENOMEM;
    *ret = v;
    *ret_n = n;
    return 0;
}

bool miner_in_set(miner_t *m, const char *addr, char *ret_user, size_t user_size)
{
    vc_address_t a;
    bool in = false;
    if (parse_addr(addr, &a) < 0)
        return false;
    pthread_mutex_lock(&m->lock);
    miner_entry_t *e = find_locked(m, &a);
    if (e && e->open) {
        in = true;
        if (ret_user)
            snprintf(ret_user, user_size, "%s", e->user);
    }
    pthread_mutex_unlock(&m->lock);
    return in;
}

bool miner_owned_by(miner_t *m, const char *addr, const char *user)
{
    vc_address_t a;
    bool own = false;
    if (parse_addr(addr, &a) < 0)
        return false;
    pthread_mutex_lock(&m->lock);
    miner_entry_t *e = find_locked(m, &a);
    own = e && vc_streq(e->user, user);
    pthread_mutex_unlock(&m->lock);
    return own;
}

static json_t *info_json(const miner_entry_t *e)
{
    return json_pack("{s:s, s:s, s:s, s:b}", "Addr", e->addr, "Id", e->id, "Name", e->user, "OpenMining", e->open);
}

json_t *miner_list_address(miner_t *m, const char *user)
{
    json_t *arr = json_array();
    pthread_mutex_lock(&m->lock);
    for (size_t i = 0; arr && i < m->n_miners; i++)
        if (!user || vc_streq(user, m->miners[i].user))
            json_array_append_new(arr, info_json(&m->miners[i]));
    pthread_mutex_unlock(&m->lock);
    return arr;
}

static json_t *state_json(const miner_entry_t *e)
{
    json_t *errs = e->n_errs ? json_array() : json_null();
    for (size_t k = 0; e->n_errs && errs && k < e->n_errs; k++)
        json_array_append_new(errs, json_string(e->errs[(e->err_head + k) % MINER_ERR_RING]));
    return json_pack("{s:s, s:b, s:o}", "Addr", e->addr, "IsMining", e->open, "Err", errs ? errs : json_null());
}

json_t *miner_states(miner_t *m, const char *const *addrs, size_t n, const char *user)
{
    json_t *arr = json_array();
    if (!arr)
        return NULL;
    pthread_mutex_lock(&m->lock);
    if (n == 0) {
        for (size_t i = 0; i < m->n_miners; i++)
            if (!user || vc_streq(user, m->miners[i].user))
                json_array_append_new(arr, state_json(&m->miners[i]));
    } else
        for (size_t k = 0; k < n; k++) {
            vc_address_t a;
            miner_entry_t *e = parse_addr(addrs[k], &a) == 0 ? find_locked(m, &a) : NULL;
            if (e && (!user || vc_streq(user, e->user)))
                json_array_append_new(arr, state_json(e));
        }
    pthread_mutex_unlock(&m->lock);
    return arr;
}

/* ---- venus-auth ---- */

static int auth_get(miner_t *m, const char *path, json_t **ret, char **ret_err)
{
    long status = 0;
    char *body = NULL;
    size_t len = 0;
    int r = vc_client_rest(m->o.auth, "GET", path, NULL, &status, &body, &len);
    if (r < 0) {
        if (ret_err && asprintf(ret_err, "venus-auth unreachable: %s", vc_strerror(r)) < 0)
            *ret_err = NULL;
        return r;
    }
    if (status != 200) {
        if (ret_err && asprintf(ret_err, "venus-auth %s: status %ld %.200s", path, status, body ? body : "") < 0)
            *ret_err = NULL;
        free(body);
        return VC_EHTTP;
    }
    json_error_t je;
    *ret = json_loadb(body ? body : "", len, 0, &je);
    free(body);
    if (!*ret) {
        if (ret_err && asprintf(ret_err, "venus-auth %s: invalid JSON", path) < 0)
            *ret_err = NULL;
        return VC_EPARSE;
    }
    return 0;
}

/* Appends the miners of user u (an OutputUser) to *v. */
static int pull_user(miner_t *m, const json_t *u, miner_entry_t **v, size_t *n, size_t *cap, char **ret_err)
{
    const char *name = json_string_value(json_object_get(u, "name"));
    const char *id = json_string_value(json_object_get(u, "id"));
    if (!name || json_integer_value(json_object_get(u, "state")) != 1)
        return 0;
    char *esc = vc_url_escape(name), *path = NULL;
    if (!esc || asprintf(&path, "/user/miner/list?user=%s", esc) < 0) {
        free(esc);
        return -ENOMEM;
    }
    free(esc);
    json_t *list = NULL;
    int r = auth_get(m, path, &list, ret_err);
    free(path);
    if (r < 0)
        return r;
    size_t i;
    json_t *x;
    json_array_foreach(list, i, x)
    {
        vc_address_t a;
        if (parse_addr(json_string_value(json_object_get(x, "Miner")), &a) < 0)
            continue;
        if (*n == *cap) {
            size_t nc = *cap ? *cap * 2 : 16;
            miner_entry_t *nv = realloc(*v, nc * sizeof(*nv));
            if (!nv) {
                json_decref(list);
                return -ENOMEM;
            }
            *v = nv;
            *cap = nc;
        }
        miner_entry_t *e = &(*v)[(*n)++];
        memset(e, 0, sizeof(*e));
        e->a = a;
        vc_address_to_string(&a, m->net, e->addr);
        snprintf(e->id, sizeof(e->id), "%s", id ? id : "");
        snprintf(e->user, sizeof(e->user), "%s", name);
        e->open = json_is_true(json_object_get(x, "OpenMining"));
    }
    json_decref(list);
    return 0;
}

int miner_update_address(miner_t *m, int64_t skip, int64_t limit, json_t **ret, char **ret_err)
{
    char path[128];
    json_t *users = NULL;
    miner_entry_t *v = NULL;
    size_t n = 0, cap = 0;
    if (skip < 0 || limit < 0) {
        if (ret_err && asprintf(ret_err, "skip and limit must not be negative") < 0)
            *ret_err = NULL;
        return -EINVAL;
    }
    snprintf(path, sizeof(path), "/user/list?skip=%lld&limit=%lld&state=0", (long long)skip,
             (long long)(limit == 0 || limit > AUTH_LIST_MAX ? AUTH_LIST_MAX : limit));
    int r = auth_get(m, path, &users, ret_err);
    if (r < 0)
        return r;
    size_t i;
    json_t *u;
    json_array_foreach(users, i, u)
    {
        if ((r = pull_user(m, u, &v, &n, &cap, ret_err)) < 0) {
            json_decref(users);
            entries_free(v, n);
            return r;
        }
    }
    json_decref(users);
    /* keep each miner's error ring across refreshes */
    pthread_mutex_lock(&m->lock);
    for (size_t k = 0; k < n; k++) {
        miner_entry_t *old = find_locked(m, &v[k].a);
        if (old) {
            memcpy(v[k].errs, old->errs, sizeof(v[k].errs));
            v[k].err_head = old->err_head;
            v[k].n_errs = old->n_errs;
            memset(old->errs, 0, sizeof(old->errs));
            old->n_errs = 0;
        }
    }
    miner_entry_t *prev = m->miners;
    size_t nprev = m->n_miners;
    m->miners = v;
    m->n_miners = n;
    size_t open = 0;
    json_t *out = ret ? json_array() : NULL;
    for (size_t k = 0; k < n; k++)
        if (v[k].open) {
            open++;
            if (out)
                json_array_append_new(out, info_json(&v[k]));
        }
    pthread_mutex_unlock(&m->lock);
    entries_free(prev, nprev);
    if (m->m_set) {
        vc_gauge_set(vc_metric_with(m->m_set, "open_for_mining", NULL), (double)open);
        vc_gauge_set(vc_metric_with(m->m_set, "close_for_mining", NULL), (double)(n - open));
    }
    char kn[24], on[24];
    snprintf(kn, sizeof(kn), "%zu", n);
    snprintf(on, sizeof(on), "%zu", open);
    vc_logkv(VC_LOG_DEBUG, "miner", "mining set refreshed", "known", kn, "open", on, NULL);
    if (ret) {
        if (!out)
            return -ENOMEM;
        *ret = out;
    }
    return 0;
}

int miner_set_mining(miner_t *m, const char *const *addrs, size_t n, bool open)
{
    for (size_t k = 0; k < n; k++) {
        vc_address_t a;
        char user[MINER_USER_MAX] = "", idaddr[VC_ADDRESS_STRLEN_MAX];
        if (parse_addr(addrs[k], &a) < 0) {
            vc_logkv(VC_LOG_WARNING, "miner", "start/stop: invalid address", "addr", addrs[k], NULL);
            continue;
        }
        pthread_mutex_lock(&m->lock);
        miner_entry_t *e = find_locked(m, &a);
        if (e)
            snprintf(user, sizeof(user), "%s", e->user);
        pthread_mutex_unlock(&m->lock);
        if (!*user) {
            vc_logkv(VC_LOG_WARNING, "miner", "start/stop: miner not bound to any venus-auth user", "addr", addrs[k],
                     NULL);
            continue;
        }
        vc_address_to_string(&a, 'f', idaddr);
        json_t *body = json_pack("{s:s, s:s, s:b}", "User", user, "Miner", idaddr, "OpenMining", open);
        char *text = body ? json_dumps(body, JSON_COMPACT) : NULL;
        json_decref(body);
        long status = 0;
        char *ans = NULL;
        int r = text ? vc_client_rest(m->o.auth, "POST", "/user/miner/add", text, &status, &ans, NULL) : -ENOMEM;
        free(text);
        if (r < 0 || status != 200) {
            miner_add_error(m, addrs[k], "%s mining: venus-auth UpsertMiner failed: %s", open ? "start" : "stop",
                            r < 0 ? vc_strerror(r) : (ans ? ans : "error"));
            vc_logkv(VC_LOG_WARNING, "miner", "UpsertMiner failed", "addr", addrs[k], NULL);
            free(ans);
            continue;
        }
        free(ans);
        pthread_mutex_lock(&m->lock);
        if ((e = find_locked(m, &a)))
            e->open = open;
        pthread_mutex_unlock(&m->lock);
        vc_logkv(VC_LOG_NOTICE, "miner", open ? "mining started" : "mining stopped", "miner", addrs[k], NULL);
    }
    return 0;
}
