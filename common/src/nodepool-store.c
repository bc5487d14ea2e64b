/*
 * nodepool-store.c: a node pool's settings in the database, operator changes and the follower
 * (contract in nodepool-store.h).
 *
 * The row holds the whole settings object (with tokens). A change edits a copy of the stored
 * object inside the transaction that locks the row, so two operators changing different things
 * at once on two instances both land (the second edits the first's result); the pool's own
 * validation runs before the write, and the pool is touched only after the commit. Versions
 * only grow: an instance applies a row only when its version is above the one it applied last,
 * so a follower step that read an older row never undoes a newer change.
 */
#include "vc/nodepool-store.h"

#include <inttypes.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <strings.h>

#include "vc/log.h"
#include "vc/util.h"

#define METHOD_NAME_MAX 256

static const char settings_table_sql[] = "CREATE TABLE IF NOT EXISTS vc_nodepool_settings ("
                                         "service TEXT PRIMARY KEY, "
                                         "version BIGINT NOT NULL CHECK (version > 0), "
                                         "settings TEXT NOT NULL, "
                                         "updated_at_ms BIGINT NOT NULL)";

static const vc_db_migration_t migrations[] = {
    {VC_DB_SQLITE, 1, "nodepool_settings", settings_table_sql},
    {VC_DB_POSTGRES, 1, "nodepool_settings", settings_table_sql},
};

struct vc_nodepool_store {
    vc_db_t *db;
    vc_nodepool_t *pool;
    char service[VC_NODEPOOL_STORE_SERVICE_MAX + 1];
    bool seeded;
    char *drift; /* how the configured nodes differ from the stored row (NULL: they agree) */
    /* the version applied last, the order of applies, the metrics' node names */
    pthread_mutex_t lock;
    int64_t applied;
    char **seen; /* node names given metrics so far */
    size_t n_seen;
    vc_metric_t *m_enabled, *m_height, *m_best, *m_version;
    /* follower */
    int follow_ms;
    pthread_t thread;
    bool started, stopping;
    pthread_cond_t cond;
};

static int set_err(char **reterr_msg, int r, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int set_err(char **reterr_msg, int r, const char *fmt, ...)
{
    if (reterr_msg) {
        char buf[768];
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(buf, sizeof(buf), fmt, ap);
        va_end(ap);
        free(*reterr_msg);
        *reterr_msg = strdup(buf);
    }
    return r;
}

static int db_err(char **reterr_msg, int r)
{
    const char *m = vc_db_last_errmsg();
    return set_err(reterr_msg, r, "database: %s", *m ? m : vc_strerror(r));
}

/* ------------------------------------------------------------------ the row */

/* The row of service: -ENOENT when absent, -EBADMSG when its settings are not a JSON object. */
static int read_row(vc_db_conn_t *c, const char *service, bool for_update, int64_t *ret_version,
                    json_t **ret_settings)
{
    bool pg = vc_db_conn_backend(c) == VC_DB_POSTGRES;
    const char *sql = for_update && pg
                          ? "SELECT version, settings FROM vc_nodepool_settings WHERE service = ? FOR UPDATE"
                          : "SELECT version, settings FROM vc_nodepool_settings WHERE service = ?";
    vc_db_rows_t *rows = NULL;
    int r = vc_db_query_row(c, sql, VC_DB_ARGS(VC_DB_TEXT(service)), &rows);
    if (r < 0)
        return r;
    size_t len = 0;
    const char *text = vc_db_col_text(rows, 1, &len);
    int64_t version = vc_db_col_int64(rows, 0);
    json_t *j = text ? json_loadb(text, len, 0, NULL) : NULL;
    vc_db_rows_free(rows);
    if (!json_is_object(j)) {
        json_decref(j);
        return -EBADMSG;
    }
    *ret_version = version;
    *ret_settings = j;
    return 0;
}

/* insert: inserts the row unless one exists (1 inserted, 0 there was one); else updates it (0,
 * or -EBUSY when it vanished under us: start over). Binds in the same order for both. */
static int write_row(vc_db_conn_t *c, bool insert, const char *service, int64_t version, const json_t *settings)
{
    int64_t now = 0;
    char *text = json_dumps(settings, JSON_COMPACT);
    if (!text)
        return -ENOMEM;
    const char *sql = insert ? "INSERT INTO vc_nodepool_settings (version, settings, updated_at_ms, service) "
                               "VALUES (?, ?, ?, ?) ON CONFLICT (service) DO NOTHING"
                             : "UPDATE vc_nodepool_settings SET version = ?, settings = ?, updated_at_ms = ? "
                               "WHERE service = ?";
    int r = vc_db_now_ms(c, &now);
    if (r >= 0)
        r = vc_db_exec(c, sql,
                       VC_DB_ARGS(VC_DB_INT64(version), VC_DB_TEXT(text), VC_DB_INT64(now), VC_DB_TEXT(service)));
    free(text);
    if (r < 0 || insert)
        return r;
    return r == 1 ? 0 : -EBUSY;
}

/* ------------------------------------------------------------------ applying and metrics */

/* Applies settings of version to the pool unless a version as new was applied already:
 * 1 applied, 0 skipped, -EINVAL refused by the pool. */
static int apply_version(vc_nodepool_store_t *s, int64_t version, const json_t *settings, char **reterr_msg)
{
    int r = 0;
    pthread_mutex_lock(&s->lock);
    if (version > s->applied) {
        r = vc_nodepool_apply_settings(s->pool, settings, reterr_msg);
        if (r >= 0) {
            s->applied = version;
            r = 1;
        }
    }
    pthread_mutex_unlock(&s->lock);
    return r;
}

/* The node object of a "Nodes" array whose key (Name, URL) is value; *ret_index (optional). */
static json_t *find_node_json(const json_t *nodes, const char *key, const char *value, size_t *ret_index)
{
    size_t i;
    json_t *n;
    json_array_foreach(nodes, i, n)
    {
        if (vc_streq(json_string_value(json_object_get(n, key)), value)) {
            if (ret_index)
                *ret_index = i;
            return n;
        }
    }
    return NULL;
}

static void update_metrics(vc_nodepool_store_t *s)
{
    json_t *st = NULL;
    if (!s->m_enabled || vc_nodepool_status(s->pool, &st) < 0)
        return;
    json_t *nodes = json_object_get(st, "Nodes"), *n;
    size_t i;
    pthread_mutex_lock(&s->lock);
    for (size_t k = 0; k < s->n_seen; k++)
        if (!find_node_json(nodes, "Name", s->seen[k], NULL)) { /* removed */
            vc_gauge_set(vc_metric_with(s->m_enabled, s->seen[k], NULL), 0);
            vc_gauge_set(vc_metric_with(s->m_height, s->seen[k], NULL), 0);
        }
    json_array_foreach(nodes, i, n)
    {
        const char *name = json_string_value(json_object_get(n, "Name"));
        bool known = false;
        for (size_t k = 0; k < s->n_seen && !known; k++)
            known = vc_streq(s->seen[k], name);
        char **grown = known ? NULL : realloc(s->seen, (s->n_seen + 1) * sizeof(*s->seen));
        if (grown) {
            s->seen = grown;
            if ((s->seen[s->n_seen] = strdup(name)))
                s->n_seen++;
        }
        vc_gauge_set(vc_metric_with(s->m_enabled, name, NULL), json_is_true(json_object_get(n, "Enabled")) ? 1 : 0);
        vc_gauge_set(vc_metric_with(s->m_height, name, NULL),
                     (double)json_integer_value(json_object_get(n, "Height")));
    }
    vc_gauge_set(vc_metric_with(s->m_best, NULL), (double)json_integer_value(json_object_get(st, "BestHeight")));
    vc_gauge_set(vc_metric_with(s->m_version, NULL), (double)s->applied);
    pthread_mutex_unlock(&s->lock);
    json_decref(st);
}

static int register_metrics(vc_nodepool_store_t *s, vc_metrics_t *m)
{
    static const char *const node_label[] = {"node", NULL};
    int r = vc_metrics_gauge(m, "node_pool_node_enabled", "1 while the chain node gets calls (healthy).", node_label,
                             &s->m_enabled);
    r = r ?: vc_metrics_gauge(m, "node_pool_node_height", "Chain head height of the node at its last heartbeat.",
                              node_label, &s->m_height);
    r = r ?: vc_metrics_gauge(m, "node_pool_best_height", "Highest chain head among the pool's nodes.", NULL,
                              &s->m_best);
    r = r ?: vc_metrics_gauge(m, "node_pool_settings_version", "Version of the node-pool settings applied.", NULL,
                              &s->m_version);
    return r;
}

/* ------------------------------------------------------------------ follower */

/* Reads the row; with seed, inserts it first unless it exists (inserted says which). */
typedef struct row_tx {
    const char *service;
    const json_t *seed;
    bool inserted;
    int64_t version;
    json_t *settings;
} row_tx_t;

static int row_fn(vc_db_conn_t *c, void *userdata)
{
    row_tx_t *x = userdata;
    json_decref(x->settings);
    x->settings = NULL;
    if (x->seed) {
        int r = write_row(c, true, x->service, 1, x->seed);
        if (r < 0)
            return r;
        x->inserted = r == 1;
    }
    return read_row(c, x->service, false, &x->version, &x->settings);
}

int vc_nodepool_store_sync(vc_nodepool_store_t *s)
{
    row_tx_t x = {.service = s->service};
    int r = vc_db_run(s->db, row_fn, &x);
    if (r == -ENOENT)
        return 0;
    if (r < 0) {
        vc_debug("node pool %s: cannot read the settings: %s", s->service, vc_strerror(r));
        return r;
    }
    char *err = NULL;
    r = apply_version(s, x.version, x.settings, &err);
    if (r < 0)
        vc_debug("node pool %s: stored settings version %" PRId64 " refused: %s", s->service, x.version,
                 err ? err : vc_strerror(r));
    free(err);
    json_decref(x.settings);
    return r;
}

static void *follow_main(void *arg)
{
    vc_nodepool_store_t *s = arg;
    pthread_mutex_lock(&s->lock);
    while (!s->stopping) {
        int64_t until = vc_now_mono_us() + (int64_t)s->follow_ms * 1000;
        struct timespec ts = {.tv_sec = until / 1000000, .tv_nsec = (until % 1000000) * 1000};
        while (!s->stopping && vc_now_mono_us() < until)
            pthread_cond_timedwait(&s->cond, &s->lock, &ts);
        if (s->stopping)
            break;
        pthread_mutex_unlock(&s->lock);
        (void)vc_nodepool_store_sync(s);
        update_metrics(s);
        pthread_mutex_lock(&s->lock);
    }
    pthread_mutex_unlock(&s->lock);
    return NULL;
}

/* ------------------------------------------------------------------ start: load or seed */

static int append_node(json_t *nodes, const vc_nodepool_node_conf_t *c)
{
    json_t *j = json_pack("{s:s?, s:s?, s:s}", "Name", c->name, "URL", c->url, "Token", c->token ? c->token : "");
    return j && json_array_append_new(nodes, j) == 0 ? 0 : -ENOMEM;
}

/* The seed: the pool's current settings, the configured nodes, then $FULLNODE_API_POOL_INFO. */
static int build_seed(vc_nodepool_store_t *s, const vc_nodepool_store_opts_t *o, json_t **ret, char **reterr_msg)
{
    json_t *set = NULL;
    int r = vc_nodepool_settings_json(s->pool, true, &set);
    if (r < 0)
        return r;
    json_t *nodes = json_object_get(set, "Nodes");
    for (size_t i = 0; i < o->n_seeds && r == 0; i++)
        r = append_node(nodes, &o->seeds[i]);
    const char *env = o->seed_from_env ? getenv(VC_NODEPOOL_ENV) : NULL;
    if (r == 0 && !vc_strempty(env)) {
        vc_nodepool_node_conf_t *confs = NULL;
        size_t n = 0;
        char *why = NULL;
        r = vc_nodepool_parse_info(env, &confs, &n, &why);
        if (r < 0)
            set_err(reterr_msg, r, "%s: %s", VC_NODEPOOL_ENV, why ? why : vc_strerror(r));
        for (size_t i = 0; i < n && r == 0; i++)
            if (!find_node_json(nodes, "URL", confs[i].url, NULL))
                r = append_node(nodes, &confs[i]);
        vc_nodepool_node_confs_free(confs, n);
        free(why);
    }
    char *why = NULL;
    if (r == 0 && (r = vc_nodepool_check_settings(set, &why)) < 0)
        set_err(reterr_msg, r, "node pool settings from the configuration%s: %s",
                vc_strempty(env) ? "" : " and " VC_NODEPOOL_ENV, why ? why : vc_strerror(r));
    free(why);
    if (r < 0) {
        json_decref(set);
        return r;
    }
    *ret = set;
    return 0;
}

/* How the configured nodes differ from the stored row's, said so that an operator sees that
 * the stored one is used and how to change it; NULL when they agree (or on ENOMEM). */
static char *seed_drift(const vc_nodepool_store_opts_t *o, const json_t *settings)
{
    const json_t *nodes = json_object_get(settings, "Nodes");
    char buf[1024];
    buf[0] = 0;
    for (size_t i = 0; i < o->n_seeds && !buf[0]; i++) {
        const vc_nodepool_node_conf_t *c = &o->seeds[i];
        if (vc_strempty(c->name) || vc_strempty(c->url))
            continue;
        const json_t *n = find_node_json(nodes, "Name", c->name, NULL);
        const char *url = json_string_value(json_object_get(n, "URL"));
        const char *tok = json_string_value(json_object_get(n, "Token"));
        if (!n)
            snprintf(buf, sizeof(buf),
                     "the configured node '%s' (%.256s) is not in the stored pool: the stored pool is used (add it "
                     "with `node-pool add %s %.256s`)",
                     c->name, c->url, c->name, c->url);
        else if (!vc_streq(url, c->url))
            snprintf(buf, sizeof(buf),
                     "the configured node '%s' is %.256s but the stored pool has %.256s: the stored one is used "
                     "(change it with `node-pool set %s --url %.256s`)",
                     c->name, c->url, url ? url : "", c->name, c->url);
        else if (!vc_streq(tok ? tok : "", c->token ? c->token : ""))
            snprintf(buf, sizeof(buf),
                     "the configured token of node '%s' differs from the stored one: the stored one is used "
                     "(change it with `node-pool set %s --token ...`)",
                     c->name, c->name);
    }
    return buf[0] ? strdup(buf) : NULL;
}

static int load_or_seed(vc_nodepool_store_t *s, const vc_nodepool_store_opts_t *o, char **reterr_msg)
{
    row_tx_t x = {.service = s->service};
    json_t *seed = NULL;
    int r = vc_db_run(s->db, row_fn, &x);
    if (r == -ENOENT) {
        if ((r = build_seed(s, o, &seed, reterr_msg)) < 0)
            return r;
        x.seed = seed;
        r = vc_db_tx(s->db, row_fn, &x);
        json_decref(seed);
        if (r < 0) {
            json_decref(x.settings);
            return db_err(reterr_msg, r);
        }
        s->seeded = x.inserted;
    } else if (r == -EBADMSG)
        return set_err(reterr_msg, r, "database: the stored node pool settings of '%s' are not a JSON object",
                       s->service);
    else if (r < 0)
        return db_err(reterr_msg, r);
    else
        s->drift = seed_drift(o, x.settings);
    char *why = NULL;
    r = apply_version(s, x.version, x.settings, &why);
    if (r < 0)
        set_err(reterr_msg, r, "stored node pool settings (version %" PRId64 "): %s", x.version,
                why ? why : vc_strerror(r));
    free(why);
    json_decref(x.settings);
    return r < 0 ? r : 0;
}

int vc_nodepool_store_new(vc_db_t *db, vc_nodepool_t *pool, const vc_nodepool_store_opts_t *opts,
                          vc_nodepool_store_t **ret, char **reterr_msg)
{
    if (!db || !pool || !opts || vc_strempty(opts->service) || strlen(opts->service) > VC_NODEPOOL_STORE_SERVICE_MAX)
        return set_err(reterr_msg, -EINVAL, "node pool store: bad arguments");
    char *why = NULL;
    int r = vc_db_migrate(db, "vc_nodepool", migrations, VC_ELEMENTSOF(migrations), &why);
    if (r < 0) {
        set_err(reterr_msg, r, "database: cannot create vc_nodepool_settings: %s", why ? why : vc_strerror(r));
        free(why);
        return r;
    }
    vc_nodepool_store_t *s = calloc(1, sizeof(*s));
    if (!s)
        return -ENOMEM;
    s->db = db;
    s->pool = pool;
    snprintf(s->service, sizeof(s->service), "%s", opts->service);
    s->follow_ms = opts->follow_ms ? opts->follow_ms : VC_NODEPOOL_STORE_FOLLOW_MS;
    pthread_mutex_init(&s->lock, NULL);
    vc_cond_init_monotonic(&s->cond);
    if (opts->metrics && (r = register_metrics(s, opts->metrics)) < 0) {
        set_err(reterr_msg, r, "node pool metrics: %s", vc_strerror(r));
        goto fail;
    }
    if ((r = load_or_seed(s, opts, reterr_msg)) < 0)
        goto fail;
    update_metrics(s);
    if (s->follow_ms > 0) {
        if ((r = -pthread_create(&s->thread, NULL, follow_main, s)) < 0) {
            set_err(reterr_msg, r, "node pool follower: %s", vc_strerror(r));
            goto fail;
        }
        s->started = true;
    }
    *ret = s;
    return 0;
fail:
    vc_nodepool_store_free(s);
    return r;
}

vc_nodepool_store_t *vc_nodepool_store_free(vc_nodepool_store_t *s)
{
    if (!s)
        return NULL;
    if (s->started) {
        pthread_mutex_lock(&s->lock);
        s->stopping = true;
        pthread_cond_broadcast(&s->cond);
        pthread_mutex_unlock(&s->lock);
        pthread_join(s->thread, NULL);
    }
    for (size_t i = 0; i < s->n_seen; i++)
        free(s->seen[i]);
    free(s->seen);
    free(s->drift);
    pthread_cond_destroy(&s->cond);
    pthread_mutex_destroy(&s->lock);
    free(s);
    return NULL;
}

bool vc_nodepool_store_seeded(const vc_nodepool_store_t *s)
{
    return s->seeded;
}

const char *vc_nodepool_store_seed_drift(const vc_nodepool_store_t *s)
{
    return s->drift;
}

int64_t vc_nodepool_store_version(vc_nodepool_store_t *s)
{
    pthread_mutex_lock(&s->lock);
    int64_t v = s->applied;
    pthread_mutex_unlock(&s->lock);
    return v;
}

/* ------------------------------------------------------------------ changes */

typedef enum op {
    OP_ADD,
    OP_SET,
    OP_REMOVE,
    OP_POLICY,
    OP_CONFIG,
} op_t;

typedef struct change {
    vc_nodepool_store_t *s;
    op_t op;
    const vc_nodepool_node_conf_t *node; /* ADD */
    const char *name, *url, *token;      /* SET, REMOVE */
    const char *method;                  /* POLICY: full name, or NULL for DefaultMethod */
    const vc_nodepool_method_t *m;       /* POLICY: NULL drops */
    const json_t *options;               /* CONFIG */
    /* the outcome of the last run of the transaction */
    char *err;
    json_t *settings;
    int64_t version;
} change_t;

static bool is_option_key(const char *key)
{
    return !vc_streq(key, "Nodes") && !vc_streq(key, "Methods") && !vc_streq(key, "DefaultMethod");
}

static void option_keys(const json_t *set, char *buf, size_t size)
{
    const char *k;
    json_t *v;
    size_t o = 0;
    buf[0] = 0;
    json_object_foreach((json_t *)set, k, v)
    {
        if (is_option_key(k) && o < size)
            o += (size_t)snprintf(buf + o, size - o, "%s%s", o ? ", " : "", k);
    }
}

static int edit_config(change_t *x, json_t *set)
{
    const char *key;
    json_t *val;
    json_object_foreach((json_t *)x->options, key, val)
    {
        const char *have_key = NULL, *k;
        json_t *have = NULL, *v;
        json_object_foreach(set, k, v) if (is_option_key(k) && strcasecmp(k, key) == 0)
        {
            have_key = k;
            have = v;
        }
        if (!have_key) {
            char keys[512];
            option_keys(set, keys, sizeof(keys));
            return set_err(&x->err, -EINVAL, "unknown option '%.64s' (options: %s)", key, keys);
        }
        json_t *nv = json_incref(val);
        if (json_is_integer(have) && json_is_string(val)) { /* from a command line */
            int64_t i = 0;
            json_decref(nv);
            if (vc_parse_i64(json_string_value(val), &i) < 0)
                return set_err(&x->err, -EINVAL, "%s: expected an integer, not '%.64s'", have_key,
                               json_string_value(val));
            nv = json_integer(i);
        }
        if (!nv || json_object_set_new(set, have_key, nv) < 0)
            return -ENOMEM;
    }
    return 0;
}

static int edit(change_t *x, json_t *set)
{
    json_t *nodes = json_object_get(set, "Nodes"), *n;
    size_t idx = 0;
    if (!json_is_array(nodes)) {
        if (json_object_set_new(set, "Nodes", json_array()) < 0)
            return -ENOMEM;
        nodes = json_object_get(set, "Nodes");
    }
    switch (x->op) {
    case OP_ADD:
        if (find_node_json(nodes, "Name", x->node->name, NULL))
            return set_err(&x->err, -EEXIST, "a node named '%s' exists already (node-pool set changes it)",
                           x->node->name);
        return append_node(nodes, x->node);
    case OP_SET:
        if (!(n = find_node_json(nodes, "Name", x->name, NULL)))
            return set_err(&x->err, -ENOENT, "no node named '%s'", x->name);
        if ((x->url && json_object_set_new(n, "URL", json_string(x->url)) < 0) ||
            (x->token && json_object_set_new(n, "Token", json_string(x->token)) < 0))
            return -ENOMEM;
        return 0;
    case OP_REMOVE:
        if (!find_node_json(nodes, "Name", x->name, &idx))
            return set_err(&x->err, -ENOENT, "no node named '%s'", x->name);
        if (json_array_size(nodes) == 1)
            return set_err(&x->err, -EINVAL, "'%s' is the last node of the pool: add another one first", x->name);
        return json_array_remove(nodes, idx) < 0 ? -ENOMEM : 0;
    case OP_POLICY: {
        json_t *mj = NULL;
        if (x->m) {
            char tmo[32];
            if (x->m->timeout_ms % 1000 == 0)
                snprintf(tmo, sizeof(tmo), "%ds", x->m->timeout_ms / 1000);
            else
                snprintf(tmo, sizeof(tmo), "%dms", x->m->timeout_ms);
            if (!(mj = json_pack("{s:s, s:s, s:b}", "Policy", vc_nodepool_policy_to_string(x->m->policy) ?: "?",
                                 "Timeout", tmo, "NoHang", x->m->no_hang)))
                return -ENOMEM;
        }
        if (!x->method)
            return json_object_set_new(set, "DefaultMethod", mj) < 0 ? -ENOMEM : 0;
        json_t *ms = json_object_get(set, "Methods");
        if (!json_is_object(ms)) {
            if (json_object_set_new(set, "Methods", json_object()) < 0) {
                json_decref(mj);
                return -ENOMEM;
            }
            ms = json_object_get(set, "Methods");
        }
        if (!mj)
            return json_object_del(ms, x->method) < 0 ? set_err(&x->err, -ENOENT,
                                                                "%s has no policy of its own to drop", x->method)
                                                      : 0;
        return json_object_set_new(ms, x->method, mj) < 0 ? -ENOMEM : 0;
    }
    case OP_CONFIG:
        return edit_config(x, set);
    }
    return -EINVAL;
}

/* The pool's verdict on the edited settings; "Nodes[2].URL: ..." about a node named in the
 * request becomes "node 'name': URL: ...". */
static void node_message(change_t *x, const json_t *set, const char *why, int r)
{
    unsigned long i = 0;
    int used = 0;
    const char *name = NULL;
    if (why && sscanf(why, "Nodes[%lu].%n", &i, &used) == 1 && used > 0)
        name = json_string_value(json_object_get(json_array_get(json_object_get(set, "Nodes"), i), "Name"));
    if (name && (x->op == OP_ADD || x->op == OP_SET))
        set_err(&x->err, r, "node '%s': %s", name, why + used);
    else
        set_err(&x->err, r, "%s", why ? why : vc_strerror(r));
}

static int change_fn(vc_db_conn_t *c, void *userdata)
{
    change_t *x = userdata;
    free(x->err);
    x->err = NULL;
    json_decref(x->settings);
    x->settings = NULL;
    int64_t version = 0;
    json_t *set = NULL;
    int r = read_row(c, x->s->service, true, &version, &set);
    bool absent = r == -ENOENT;
    if (absent) { /* deleted by hand: start over from what runs, after what was applied */
        version = vc_nodepool_store_version(x->s);
        r = vc_nodepool_settings_json(x->s->pool, true, &set);
    } else if (r == -EBADMSG)
        return set_err(&x->err, r, "database: the stored node pool settings are not a JSON object");
    if (r < 0)
        return r;
    r = edit(x, set);
    char *why = NULL;
    if (r == 0 && (r = vc_nodepool_check_settings(set, &why)) < 0)
        node_message(x, set, why, r);
    free(why);
    if (r == 0)
        r = write_row(c, absent, x->s->service, version + 1, set);
    if (r == 0 && absent)
        r = -EBUSY; /* someone else created it in the meantime: edit theirs */
    if (r < 0) {
        json_decref(set);
        return r;
    }
    x->settings = set;
    x->version = version + 1;
    return 0;
}

static int run_change(change_t *x, int64_t *ret_version, char **reterr_msg)
{
    vc_nodepool_store_t *s = x->s;
    int r = vc_db_tx(s->db, change_fn, x);
    if (r < 0) {
        if (x->err)
            set_err(reterr_msg, r, "%s", x->err);
        else if (r == -ENOMEM)
            set_err(reterr_msg, r, "out of memory");
        else
            db_err(reterr_msg, r);
    } else {
        char *why = NULL;
        r = apply_version(s, x->version, x->settings, &why);
        if (r < 0) /* validated before the write: only an allocation can fail here */
            set_err(reterr_msg, r, "stored as version %" PRId64 " but not applied: %s", x->version,
                    why ? why : vc_strerror(r));
        free(why);
        update_metrics(s);
        if (r >= 0 && ret_version)
            *ret_version = x->version;
        if (r >= 0)
            vc_debug("node pool %s: settings version %" PRId64 " stored and applied", s->service, x->version);
    }
    free(x->err);
    json_decref(x->settings);
    return r < 0 ? r : 0;
}

int vc_nodepool_store_add(vc_nodepool_store_t *s, const vc_nodepool_node_conf_t *node, int64_t *ret_version,
                          char **reterr_msg)
{
    if (!node || vc_strempty(node->name) || vc_strempty(node->url))
        return set_err(reterr_msg, -EINVAL, "a node needs a name and a URL");
    change_t x = {.s = s, .op = OP_ADD, .node = node};
    return run_change(&x, ret_version, reterr_msg);
}

int vc_nodepool_store_set(vc_nodepool_store_t *s, const char *name, const char *url, const char *token,
                          int64_t *ret_version, char **reterr_msg)
{
    if (vc_strempty(name))
        return set_err(reterr_msg, -EINVAL, "which node? give its name");
    if (!url && !token)
        return set_err(reterr_msg, -EINVAL, "nothing to change for '%s': give a URL or a token", name);
    change_t x = {.s = s, .op = OP_SET, .name = name, .url = url, .token = token};
    return run_change(&x, ret_version, reterr_msg);
}

int vc_nodepool_store_remove(vc_nodepool_store_t *s, const char *name, int64_t *ret_version, char **reterr_msg)
{
    if (vc_strempty(name))
        return set_err(reterr_msg, -EINVAL, "which node? give its name");
    change_t x = {.s = s, .op = OP_REMOVE, .name = name};
    return run_change(&x, ret_version, reterr_msg);
}

/* "default" / "DefaultMethod" -> NULL; "ChainHead" -> "Filecoin.ChainHead"; -EINVAL if bad. */
static int method_name(const char *in, char out[METHOD_NAME_MAX + 1], const char **ret, char **reterr_msg)
{
    if (vc_strempty(in))
        return set_err(reterr_msg, -EINVAL, "which method? give a name such as Filecoin.ChainHead, or default");
    if (strcasecmp(in, "default") == 0 || strcasecmp(in, "DefaultMethod") == 0) {
        *ret = NULL;
        return 0;
    }
    for (const char *p = in; *p; p++)
        if (!(*p >= 'a' && *p <= 'z') && !(*p >= 'A' && *p <= 'Z') && !(*p >= '0' && *p <= '9') && *p != '.' &&
            *p != '_')
            return set_err(reterr_msg, -EINVAL, "bad method name '%.64s'", in);
    int n = snprintf(out, METHOD_NAME_MAX + 1, "%s%s", strchr(in, '.') ? "" : "Filecoin.", in);
    if (n < 0 || n > METHOD_NAME_MAX)
        return set_err(reterr_msg, -EINVAL, "method name too long");
    *ret = out;
    return 0;
}

int vc_nodepool_store_policy(vc_nodepool_store_t *s, const char *method, const vc_nodepool_method_t *m,
                             int64_t *ret_version, char **reterr_msg)
{
    char buf[METHOD_NAME_MAX + 1];
    const char *full = NULL;
    int r = method_name(method, buf, &full, reterr_msg);
    if (r < 0)
        return r;
    if (!full && !m)
        return set_err(reterr_msg, -EINVAL, "the default policy cannot be dropped, only set");
    if (m && !vc_nodepool_policy_to_string(m->policy))
        return set_err(reterr_msg, -EINVAL, "bad policy value");
    change_t x = {.s = s, .op = OP_POLICY, .method = full, .m = m};
    return run_change(&x, ret_version, reterr_msg);
}

int vc_nodepool_store_config(vc_nodepool_store_t *s, const json_t *options, int64_t *ret_version,
                             char **reterr_msg)
{
    if (!json_is_object(options))
        return set_err(reterr_msg, -EINVAL, "options: expected an object such as {\"MaxSyncBehind\": 3}");
    if (json_object_size(options) == 0) {
        if (ret_version)
            *ret_version = vc_nodepool_store_version(s);
        return 0;
    }
    change_t x = {.s = s, .op = OP_CONFIG, .options = options};
    return run_change(&x, ret_version, reterr_msg);
}

/* ------------------------------------------------------------------ JSON shapes and RPC */

int vc_nodepool_store_list(vc_nodepool_store_t *s, json_t **ret)
{
    json_t *st = NULL, *set = NULL;
    int r = vc_nodepool_status(s->pool, &st);
    if (r == 0)
        r = vc_nodepool_settings_json(s->pool, false, &set);
    if (r == 0 && (json_object_set_new(st, "Version", json_integer(vc_nodepool_store_version(s))) < 0 ||
                   json_object_set_new(st, "Settings", set) < 0))
        r = -ENOMEM;
    else
        set = NULL;
    json_decref(set);
    if (r < 0) {
        json_decref(st);
        return r;
    }
    *ret = st;
    return 0;
}

static int change_result(vc_nodepool_store_t *s, int64_t version, json_t **ret)
{
    json_t *set = NULL;
    int r = vc_nodepool_settings_json(s->pool, false, &set);
    if (r < 0)
        return r;
    *ret = json_pack("{s:I, s:o}", "Version", (json_int_t)version, "Settings", set);
    return *ret ? 0 : -ENOMEM;
}

static const char *op_of(const char *method)
{
    const char *dot = method ? strrchr(method, '.') : NULL;
    return dot ? dot + 1 : method ? method : "";
}

bool vc_nodepool_store_rpc_writes(const char *method)
{
    const char *op = op_of(method);
    return strncmp(op, "NodePool", 8) == 0 && !vc_streq(op, "NodePoolList");
}

/* An optional string member: -EINVAL when present and not a string. */
static int opt_string(const json_t *obj, const char *key, const char **ret)
{
    json_t *v = json_object_get(obj, key);
    *ret = NULL;
    if (!v || json_is_null(v))
        return 0;
    if (!json_is_string(v))
        return -EINVAL;
    *ret = json_string_value(v);
    return 0;
}

static int rpc_policy(vc_nodepool_store_t *s, const json_t *p, int64_t *ret_version, char **reterr_msg)
{
    const char *method = NULL, *pol = NULL, *tmo = NULL;
    json_t *nh = json_object_get(p, "NoHang");
    if (!json_is_object(p) || opt_string(p, "Method", &method) < 0 || opt_string(p, "Policy", &pol) < 0 ||
        opt_string(p, "Timeout", &tmo) < 0 || (nh && !json_is_boolean(nh)))
        return set_err(reterr_msg, -EINVAL,
                       "expected {\"Method\": name, \"Policy\": name|null, \"Timeout\": \"10s\", \"NoHang\": bool}");
    if (!pol && (tmo || nh))
        return set_err(reterr_msg, -EINVAL, "Timeout and NoHang go with a Policy (without one the method's entry is "
                                            "dropped)");
    if (!pol)
        return vc_nodepool_store_policy(s, method, NULL, ret_version, reterr_msg);
    vc_nodepool_method_t m = {0};
    if (vc_nodepool_policy_from_string(pol, &m.policy) < 0) {
        char names[512];
        size_t o = 0;
        for (int i = 0; i < VC_NODEPOOL_POLICY_MAX; i++)
            o += (size_t)snprintf(names + o, sizeof(names) - o, "%s%s", i ? ", " : "",
                                  vc_nodepool_policy_to_string((vc_nodepool_policy_t)i));
        return set_err(reterr_msg, -EINVAL, "unknown policy '%.64s' (one of %s)", pol, names);
    }
    int64_t ms = 0;
    if (tmo && (vc_parse_duration_ms(tmo, &ms) < 0 || ms < 0 || ms > 3600000))
        return set_err(reterr_msg, -EINVAL, "Timeout: expected a duration up to 1h such as \"10s\", not '%.64s'", tmo);
    m.timeout_ms = (int)ms;
    m.no_hang = json_is_true(nh);
    return vc_nodepool_store_policy(s, method, &m, ret_version, reterr_msg);
}

int vc_nodepool_store_rpc(vc_nodepool_store_t *s, const char *method, const json_t *params, json_t **ret,
                          char **reterr_msg)
{
    const char *op = op_of(method);
    const json_t *p = json_array_get(params, 0);
    int64_t version = 0;
    int r;
    if (vc_streq(op, "NodePoolList"))
        return vc_nodepool_store_list(s, ret);
    if (vc_streq(op, "NodePoolAdd") || vc_streq(op, "NodePoolSet")) {
        const char *name = NULL, *url = NULL, *token = NULL;
        bool add = vc_streq(op, "NodePoolAdd");
        if (!json_is_object(p) || opt_string(p, "Name", &name) < 0 || opt_string(p, "URL", &url) < 0 ||
            opt_string(p, "Token", &token) < 0)
            return set_err(reterr_msg, -EINVAL, "expected {\"Name\": name, \"URL\": url, \"Token\": token}");
        if (add) {
            vc_nodepool_node_conf_t c = {.name = (char *)name, .url = (char *)url, .token = (char *)token};
            r = vc_nodepool_store_add(s, &c, &version, reterr_msg);
        } else
            r = vc_nodepool_store_set(s, name, url, token, &version, reterr_msg);
    } else if (vc_streq(op, "NodePoolRemove")) {
        if (!json_is_string(p))
            return set_err(reterr_msg, -EINVAL, "expected the name of a node");
        r = vc_nodepool_store_remove(s, json_string_value(p), &version, reterr_msg);
    } else if (vc_streq(op, "NodePoolPolicy"))
        r = rpc_policy(s, p, &version, reterr_msg);
    else if (vc_streq(op, "NodePoolConfig"))
        r = vc_nodepool_store_config(s, p, &version, reterr_msg);
    else
        return set_err(reterr_msg, -ENOSYS, "unknown method '%.64s'", method ? method : "");
    return r < 0 ? r : change_result(s, version, ret);
}

int vc_nodepool_open(vc_db_t *db, const char *base, const char *scope, const vc_nodepool_node_conf_t *seed,
                     int call_timeout_ms, vc_metrics_t *metrics, vc_nodepool_t **ret_pool,
                     vc_nodepool_store_t **ret_store, char **reterr_msg)
{
    vc_nodepool_opts_t po;
    char service[VC_NODEPOOL_STORE_SERVICE_MAX + 1];
    *ret_pool = NULL;
    *ret_store = NULL;
    if (!base || !*base || snprintf(service, sizeof(service), "%s%s%s", base, scope && *scope ? "/" : "",
                                    scope ? scope : "") >= (int)sizeof(service)) {
        if (reterr_msg)
            *reterr_msg = strdup("chain-node pool: the service name (with the HA scope) is too long");
        return -EINVAL;
    }
    vc_nodepool_opts_init(&po);
    if (call_timeout_ms > 0)
        po.call_timeout_ms = call_timeout_ms;
    int r = vc_nodepool_new(&po, ret_pool);
    if (r < 0) {
        if (reterr_msg)
            *reterr_msg = strdup("cannot start the chain-node pool");
        return r;
    }
    bool has_seed = seed && seed->url && *seed->url;
    vc_nodepool_store_opts_t so = {.service = service, .seeds = has_seed ? seed : NULL, .n_seeds = has_seed ? 1 : 0,
                                   .seed_from_env = true, .metrics = metrics};
    if ((r = vc_nodepool_store_new(db, *ret_pool, &so, ret_store, reterr_msg)) < 0)
        *ret_pool = vc_nodepool_free(*ret_pool);
    return r;
}

int vc_nodepool_store_rpc_answer(vc_nodepool_store_t *s, vc_rpc_call_t *call, json_t *params, json_t **ret,
                                 const char *subsystem)
{
    const char *method = vc_rpc_call_method(call);
    if (!s)
        return vc_rpc_error(call, VC_RPC_APP_ERROR, "this instance has no chain-node pool");
    char *err = NULL;
    int r = vc_nodepool_store_rpc(s, method, params, ret, &err);
    if (r < 0)
        r = vc_rpc_error(call, VC_RPC_APP_ERROR, "%s", err ? err : vc_strerror(r));
    else if (vc_nodepool_store_rpc_writes(method)) {
        char v[24];
        snprintf(v, sizeof(v), "%lld", (long long)vc_nodepool_store_version(s));
        vc_logkv(VC_LOG_NOTICE, subsystem, "chain-node pool settings changed", "method", method, "version", v, "by",
                 vc_rpc_call_auth(call)->name, NULL);
    }
    free(err);
    return r;
}
