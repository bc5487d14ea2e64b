/*
 * devnet-store.c: the sqlite mirror of the chain (sql/devnet/sqlite/001_init.sql).
 *
 * Writes: one vc_db_tx per change, built from objects the caller keeps alive until it returns
 * (the callback may be retried on SQLITE_BUSY, so it only reads them). Reads: everything is
 * loaded at open.
 */
#include <stdio.h>

#include "devnet-internal.h"
#include "devnet_migrations.h"

int dn_chain_load_params(dn_chain_t *c, const char *text);

int dn_store_open(dn_chain_t *c, const char *path, bool create, char **err)
{
    vc_db_options_t opts = {.max_conns = 2};
    _cleanup_free_ char *dsn = malloc(strlen(path) + sizeof("sqlite:"));
    char *msg = NULL;
    int r;

    (void)create;
    if (!dsn)
        return -ENOMEM;
    sprintf(dsn, "sqlite:%s", path);
    if ((r = vc_db_open(dsn, &opts, &c->db, &msg)) < 0 ||
        (r = vc_db_migrate(c->db, "devnet", devnet_migrations, devnet_migrations_count, &msg)) < 0) {
        dn_set_err(err, "%s: %s", path, msg ? msg : vc_strerror(r));
        free(msg);
        return r;
    }
    return 0;
}

static int tsk_bytes(const dn_tipset_t *ts, vc_buf_t *b)
{
    for (size_t i = 0; ts && i < ts->n; i++) {
        int r = vc_buf_append(b, ts->blocks[i]->cid.bytes, ts->blocks[i]->cid.len);
        if (r < 0)
            return r;
    }
    if (!b->data)
        return vc_buf_reserve(b, 1);
    return 0;
}

#define CIDB(c) VC_DB_BLOB((c)->bytes, (c)->len)

static int put_state(vc_db_conn_t *db, const dn_state_t *s)
{
    vc_buf_t b = {0};
    int r = dn_state_encode(s, &b);
    if (r >= 0)
        r = vc_db_exec(db, "INSERT OR IGNORE INTO states (root, cbor) VALUES (?, ?)",
                       VC_DB_ARGS(CIDB(&s->root), VC_DB_BLOB(b.data, b.len)));
    vc_buf_done(&b);
    return r;
}

static int put_msg(vc_db_conn_t *db, dn_chain_t *c, const dn_msg_t *m)
{
    char from[VC_ADDRESS_STRLEN_MAX];
    vc_buf_t b = {0};
    int r = vc_signed_message_encode(&m->sm, &b);
    if (r >= 0)
        r = vc_address_to_string(&m->sm.message.from, c->net, from);
    if (r >= 0)
        r = vc_db_exec(db, "INSERT OR IGNORE INTO messages (cid, signed_cid, cbor, from_addr, nonce) VALUES (?, ?, ?, ?, ?)",
                       VC_DB_ARGS(CIDB(&m->cid), CIDB(&m->scid), VC_DB_BLOB(b.data, b.len), VC_DB_TEXT(from),
                                  VC_DB_INT64((int64_t)m->sm.message.nonce)));
    vc_buf_done(&b);
    return r;
}

static int put_tipset(vc_db_conn_t *db, dn_chain_t *c, const dn_tipset_t *ts)
{
    vc_buf_t key = {0}, pkey = {0};
    char w[VC_BIGINT_STRLEN_MAX];
    int r;

    for (size_t i = 0; i < ts->n; i++) {
        const dn_block_t *b = ts->blocks[i];
        if ((r = vc_db_exec(db, "INSERT OR IGNORE INTO blocks (cid, height, cbor) VALUES (?, ?, ?)",
                            VC_DB_ARGS(CIDB(&b->cid), VC_DB_INT64(b->h.height), VC_DB_BLOB(b->cbor, b->cbor_len)))) < 0)
            goto out;
        for (size_t k = 0; k < b->n_bls + b->n_secp; k++) {
            const dn_msg_t *m = k < b->n_bls ? b->bls[k] : b->secp[k - b->n_bls];
            if ((r = put_msg(db, c, m)) < 0 ||
                (r = vc_db_exec(db, "INSERT OR IGNORE INTO block_messages (block, idx, msg, bls) VALUES (?, ?, ?, ?)",
                                VC_DB_ARGS(CIDB(&b->cid), VC_DB_INT64(k), CIDB(&m->cid), VC_DB_BOOL(k < b->n_bls)))) < 0)
                goto out;
        }
    }
    if ((r = put_state(db, ts->state)) < 0 || (r = tsk_bytes(ts, &key)) < 0 || (r = tsk_bytes(ts->parent, &pkey)) < 0 ||
        (r = vc_bigint_to_string(&ts->weight, w, sizeof(w))) < 0)
        goto out;
    r = vc_db_exec(db, "INSERT OR IGNORE INTO tipsets (key, height, parent_key, weight, on_main) VALUES (?, ?, ?, ?, ?)",
                   VC_DB_ARGS(VC_DB_BLOB(key.data, key.len), VC_DB_INT64(ts->height), VC_DB_BLOB(pkey.data, pkey.len),
                              VC_DB_TEXT(w), VC_DB_BOOL(ts->main)));
out:
    vc_buf_done(&key);
    vc_buf_done(&pkey);
    return r;
}

static int put_exec(vc_db_conn_t *db, const dn_tipset_t *ts)
{
    vc_buf_t key = {0}, rb = {0};
    vc_cid_t root;
    int r;

    if ((r = put_state(db, ts->exec_state)) < 0 || (r = dn_receipts_encode(ts->receipts, ts->n_msgs, &rb, &root)) < 0 ||
        (r = vc_db_exec(db, "INSERT OR IGNORE INTO receipts (root, cbor) VALUES (?, ?)",
                        VC_DB_ARGS(CIDB(&root), VC_DB_BLOB(rb.data, rb.len)))) < 0 ||
        (r = tsk_bytes(ts, &key)) < 0)
        goto out;
    r = vc_db_exec(db, "UPDATE tipsets SET exec_state = ?, exec_receipts = ? WHERE key = ?",
                   VC_DB_ARGS(CIDB(&ts->exec_state->root), CIDB(&root), VC_DB_BLOB(key.data, key.len)));
out:
    vc_buf_done(&key);
    vc_buf_done(&rb);
    return r;
}

static int set_main(vc_db_conn_t *db, const dn_tipset_t *ts, bool on)
{
    vc_buf_t key = {0};
    int r = tsk_bytes(ts, &key);
    if (r >= 0)
        r = vc_db_exec(db, "UPDATE tipsets SET on_main = ? WHERE key = ?",
                       VC_DB_ARGS(VC_DB_BOOL(on), VC_DB_BLOB(key.data, key.len)));
    vc_buf_done(&key);
    return r;
}

typedef struct write_ctx {
    dn_chain_t *c;
    const dn_write_t *w;
    const char *genesis_json;
} write_ctx_t;

static int write_tx(vc_db_conn_t *db, void *userdata)
{
    write_ctx_t *x = userdata;
    const dn_write_t *w = x->w;
    dn_chain_t *c = x->c;
    int r;

    if (x->genesis_json &&
        (r = vc_db_exec(db, "INSERT INTO meta (key, value) VALUES ('genesis', ?)",
                        VC_DB_ARGS(VC_DB_BLOB(x->genesis_json, strlen(x->genesis_json))))) < 0)
        return r;
    for (size_t i = 0; i < w->n_msgs_add; i++)
        if ((r = put_msg(db, c, w->msgs_add[i])) < 0)
            return r;
    for (size_t i = 0; i < w->n_new_ts; i++)
        if ((r = put_tipset(db, c, w->new_ts[i])) < 0)
            return r;
    for (size_t i = 0; i < w->n_exec_ts; i++)
        if ((r = put_exec(db, w->exec_ts[i])) < 0)
            return r;
    for (size_t i = 0; i < w->n_off_main; i++)
        if ((r = set_main(db, w->off_main[i], false)) < 0)
            return r;
    for (size_t i = 0; i < w->n_on_main; i++)
        if ((r = set_main(db, w->on_main[i], true)) < 0)
            return r;
    if (w->head) {
        vc_buf_t key = {0};
        if ((r = tsk_bytes(w->head, &key)) >= 0)
            r = vc_db_exec(db, "INSERT OR REPLACE INTO meta (key, value) VALUES ('head', ?)",
                           VC_DB_ARGS(VC_DB_BLOB(key.data, key.len)));
        vc_buf_done(&key);
        if (r < 0)
            return r;
    }
    for (size_t i = 0; i < w->n_pool_del; i++)
        if ((r = vc_db_exec(db, "DELETE FROM mpool WHERE signed_cid = ?", VC_DB_ARGS(CIDB(&w->pool_del[i]->scid)))) < 0)
            return r;
    for (size_t i = 0; i < w->n_pool_add; i++) {
        if ((r = put_msg(db, c, w->pool_add[i])) < 0 ||
            (r = vc_db_exec(db, "INSERT OR REPLACE INTO mpool (signed_cid, added_us) VALUES (?, ?)",
                            VC_DB_ARGS(CIDB(&w->pool_add[i]->scid), VC_DB_INT64(w->pool_add[i]->added_us)))) < 0)
            return r;
    }
    return 0;
}

int dn_store_write(dn_chain_t *c, const dn_write_t *w, char **err)
{
    write_ctx_t x = {.c = c, .w = w};
    int r = vc_db_tx(c->db, write_tx, &x);
    if (r < 0)
        dn_set_err(err, "chain store write failed: %s (%s)", vc_strerror(r), vc_db_last_errmsg());
    return r;
}

int dn_store_write_genesis(dn_chain_t *c, const char *genesis_json, const dn_tipset_t *ts, const dn_state_t *st,
                           char **err)
{
    dn_tipset_t *t = (dn_tipset_t *)ts;
    t->exec_state = (dn_state_t *)st; /* genesis has no messages: executing it keeps its state */
    dn_receipt_t none;
    t->receipts = &none;
    dn_write_t w = {.new_ts = &t, .n_new_ts = 1, .exec_ts = &t, .n_exec_ts = 1, .head = ts};
    write_ctx_t x = {.c = c, .w = &w, .genesis_json = genesis_json};
    int r = vc_db_tx(c->db, write_tx, &x);
    t->exec_state = NULL;
    t->receipts = NULL;
    if (r < 0)
        dn_set_err(err, "cannot write genesis: %s (%s)", vc_strerror(r), vc_db_last_errmsg());
    return r;
}

/* ---------------------------------------------------------------- load */

static int split_key(const uint8_t *p, size_t len, vc_cid_t **ret, size_t *ret_n)
{
    vc_cid_t *out = NULL;
    size_t n = 0, used;
    int r;

    while (len > 0) {
        vc_cid_t *no = realloc(out, (n + 1) * sizeof(*no));
        if (!no) {
            free(out);
            return -ENOMEM;
        }
        out = no;
        if ((r = vc_cid_read(p, len, &out[n], &used)) < 0) {
            free(out);
            return r;
        }
        p += used;
        len -= used;
        n++;
    }
    *ret = out;
    *ret_n = n;
    return 0;
}

typedef struct load_ctx {
    dn_chain_t *c;
    dn_cidmap_t blocks; /* loaded blocks not yet in a tipset */
    char **err;
} load_ctx_t;

static int load_receipts(vc_db_conn_t *db, dn_tipset_t *ts, const vc_cid_t *root)
{
    vc_db_rows_t *rows;
    size_t len, n;
    int r = vc_db_query_row(db, "SELECT cbor FROM receipts WHERE root = ?", VC_DB_ARGS(CIDB(root)), &rows);
    if (r < 0)
        return r;
    const void *p = vc_db_col_blob(rows, 0, &len);
    r = dn_receipts_decode(p, len, &ts->receipts, &n);
    vc_db_rows_free(rows);
    if (r >= 0 && n != ts->n_msgs) {
        free(ts->receipts);
        ts->receipts = NULL;
        r = VC_EPARSE;
    }
    if (r >= 0)
        ts->exec_receipts_root = *root;
    return r;
}

static int load_tx(vc_db_conn_t *db, void *userdata)
{
    load_ctx_t *x = userdata;
    dn_chain_t *c = x->c;
    vc_db_rows_t *rows = NULL;
    _cleanup_free_ char *gj = NULL;
    size_t len;
    int r;

    if ((r = vc_db_query_text(db, "SELECT value FROM meta WHERE key = 'genesis'", VC_DB_NONE, &gj)) < 0 ||
        (r = dn_chain_load_params(c, gj)) < 0) {
        dn_set_err(x->err, "devnet.db: missing or bad genesis parameters");
        return r;
    }
    /* states */
    if ((r = vc_db_query(db, "SELECT cbor FROM states", VC_DB_NONE, &rows)) < 0)
        return r;
    while ((r = vc_db_rows_next(rows)) > 0) {
        dn_state_t *s;
        const void *p = vc_db_col_blob(rows, 0, &len);
        if ((r = dn_state_decode(p, len, &s)) < 0 || !dn_state_intern(c, s, NULL)) {
            r = r < 0 ? r : -ENOMEM;
            break;
        }
    }
    rows = vc_db_rows_free(rows);
    if (r < 0)
        return r;
    /* messages */
    if ((r = vc_db_query(db, "SELECT cbor FROM messages", VC_DB_NONE, &rows)) < 0)
        return r;
    while ((r = vc_db_rows_next(rows)) > 0) {
        const void *p = vc_db_col_blob(rows, 0, &len);
        dn_msg_t *m = calloc(1, sizeof(*m));
        if (!m) {
            r = -ENOMEM;
            break;
        }
        if ((r = vc_signed_message_decode(p, len, &m->sm)) < 0 || (r = vc_message_cid(&m->sm.message, &m->cid)) < 0 ||
            (r = vc_signed_message_cid(&m->sm, &m->scid)) < 0 || (r = dn_cidmap_put(&c->msgs, &m->cid, m)) < 0) {
            dn_msg_free(m);
            break;
        }
        m->bls = m->sm.signature.type == VC_SIG_BLS;
        m->size = len;
        m->from_key = m->sm.message.from;
        if ((r = dn_cidmap_put(&c->msgs, &m->scid, m)) < 0)
            break;
    }
    rows = vc_db_rows_free(rows);
    if (r < 0)
        return r;
    /* blocks */
    if ((r = vc_db_query(db, "SELECT cid, cbor FROM blocks", VC_DB_NONE, &rows)) < 0)
        return r;
    while ((r = vc_db_rows_next(rows)) > 0) {
        const void *p = vc_db_col_blob(rows, 1, &len);
        dn_block_t *b = calloc(1, sizeof(*b));
        if (!b || !(b->cbor = malloc(len ? len : 1))) {
            free(b);
            r = -ENOMEM;
            break;
        }
        memcpy(b->cbor, p, len);
        b->cbor_len = len;
        vc_cid_sum_dagcbor(p, len, &b->cid);
        if ((r = vc_block_header_decode(b->cbor, len, &b->h)) < 0 || (r = dn_cidmap_put(&x->blocks, &b->cid, b)) < 0) {
            dn_block_free(b);
            break;
        }
    }
    rows = vc_db_rows_free(rows);
    if (r < 0)
        return r;
    /* block -> messages */
    if ((r = vc_db_query(db, "SELECT block, msg, bls FROM block_messages ORDER BY block, idx", VC_DB_NONE, &rows)) < 0)
        return r;
    while ((r = vc_db_rows_next(rows)) > 0) {
        vc_cid_t bc, mc;
        size_t bl, ml;
        const void *bp = vc_db_col_blob(rows, 0, &bl), *mp = vc_db_col_blob(rows, 1, &ml);
        if ((r = vc_cid_from_bytes(bp, bl, &bc)) < 0 || (r = vc_cid_from_bytes(mp, ml, &mc)) < 0)
            break;
        dn_block_t *b = dn_cidmap_get(&x->blocks, &bc);
        dn_msg_t *m = dn_cidmap_get(&c->msgs, &mc);
        if (!b || !m) {
            r = VC_EPARSE;
            break;
        }
        bool bls = vc_db_col_bool(rows, 2);
        dn_msg_t ***arr = bls ? &b->bls : &b->secp;
        size_t *n = bls ? &b->n_bls : &b->n_secp;
        dn_msg_t **na = realloc(*arr, (*n + 1) * sizeof(*na));
        if (!na) {
            r = -ENOMEM;
            break;
        }
        na[(*n)++] = m;
        *arr = na;
    }
    rows = vc_db_rows_free(rows);
    if (r < 0)
        return r;
    /* tipsets, parents first */
    if ((r = vc_db_query(db, "SELECT key, height, parent_key, weight, exec_state, exec_receipts FROM tipsets ORDER BY height",
                         VC_DB_NONE, &rows)) < 0)
        return r;
    while ((r = vc_db_rows_next(rows)) > 0) {
        vc_cid_t *k = NULL, *pk = NULL;
        size_t nk = 0, npk = 0, l2;
        const void *kp = vc_db_col_blob(rows, 0, &len), *pp = vc_db_col_blob(rows, 2, &l2);
        dn_tipset_t *ts = calloc(1, sizeof(*ts));
        if (!ts) {
            r = -ENOMEM;
            break;
        }
        if ((r = split_key(kp, len, &k, &nk)) < 0 || (r = split_key(pp, l2, &pk, &npk)) < 0 || nk == 0 ||
            !(ts->blocks = calloc(nk, sizeof(*ts->blocks)))) {
            r = r < 0 ? r : VC_EPARSE;
            goto bad;
        }
        ts->height = vc_db_col_int64(rows, 1);
        for (size_t i = 0; i < nk; i++) {
            dn_block_t *b = dn_cidmap_get(&x->blocks, &k[i]);
            if (!b || b->ts) {
                r = VC_EPARSE;
                goto bad;
            }
            ts->blocks[ts->n++] = b;
        }
        if (npk > 0 && !(ts->parent = dn_find_tipset(c, pk, npk))) {
            r = VC_EPARSE;
            goto bad;
        }
        if (!(ts->state = dn_cidmap_get(&c->states, &ts->blocks[0]->h.parent_state_root)) ||
            (r = vc_bigint_from_string(vc_db_col_text(rows, 3, NULL), &ts->weight)) < 0 ||
            (r = dn_tipset_collect_msgs(ts)) < 0) {
            r = r < 0 ? r : VC_EPARSE;
            goto bad;
        }
        if (!vc_db_col_is_null(rows, 4)) {
            vc_cid_t es, er;
            const void *p4 = vc_db_col_blob(rows, 4, &len);
            if ((r = vc_cid_from_bytes(p4, len, &es)) < 0)
                goto bad;
            const void *p5 = vc_db_col_blob(rows, 5, &len);
            if ((r = vc_cid_from_bytes(p5, len, &er)) < 0)
                goto bad;
            if (!(ts->exec_state = dn_cidmap_get(&c->states, &es))) {
                r = VC_EPARSE;
                goto bad;
            }
            if ((r = load_receipts(db, ts, &er)) < 0)
                goto bad;
        }
        if ((r = dn_register_tipset(c, ts)) < 0)
            goto bad;
        if (ts->height == 0 && !c->genesis)
            c->genesis = ts;
        free(k);
        free(pk);
        continue;
    bad:
        for (size_t i = 0; i < ts->n; i++)
            ts->blocks[i]->ts = NULL;
        dn_tipset_free(ts);
        free(k);
        free(pk);
        break;
    }
    rows = vc_db_rows_free(rows);
    if (r < 0)
        return r;
    /* head and the main chain */
    if ((r = vc_db_query_row(db, "SELECT value FROM meta WHERE key = 'head'", VC_DB_NONE, &rows)) < 0)
        return r;
    {
        vc_cid_t *k = NULL;
        size_t nk = 0;
        const void *p = vc_db_col_blob(rows, 0, &len);
        r = split_key(p, len, &k, &nk);
        if (r >= 0)
            c->head = dn_find_tipset(c, k, nk);
        free(k);
    }
    rows = vc_db_rows_free(rows);
    if (r < 0 || !c->head || !c->genesis)
        return r < 0 ? r : VC_EPARSE;
    c->cap_main = (size_t)c->head->height + 64;
    if (!(c->main = calloc(c->cap_main, sizeof(*c->main))))
        return -ENOMEM;
    for (dn_tipset_t *t = c->head; t; t = t->parent) {
        t->main = true;
        c->main[t->height] = t;
    }
    if (!c->head->exec_state && (r = dn_ensure_exec(c, c->head, NULL)) < 0)
        return r;
    /* mpool */
    if ((r = vc_db_query(db, "SELECT signed_cid, added_us FROM mpool ORDER BY added_us", VC_DB_NONE, &rows)) < 0)
        return r;
    while ((r = vc_db_rows_next(rows)) > 0) {
        vc_cid_t sc;
        const void *p = vc_db_col_blob(rows, 0, &len);
        if ((r = vc_cid_from_bytes(p, len, &sc)) < 0)
            break;
        dn_msg_t *m = dn_cidmap_get(&c->msgs, &sc);
        if (!m) {
            r = VC_EPARSE;
            break;
        }
        m->added_us = vc_db_col_int64(rows, 1);
        const dn_actor_t *a = dn_state_find(c->head->exec_state, &m->sm.message.from);
        if (a && !vc_address_is_undef(&a->key))
            m->from_key = a->key;
        if ((r = dn_pool_add(c, m)) < 0)
            break;
    }
    rows = vc_db_rows_free(rows);
    return r < 0 ? r : 0;
}

int dn_store_load(dn_chain_t *c, char **err)
{
    load_ctx_t x = {.c = c, .err = err};
    int r = vc_db_run(c->db, load_tx, &x);
    /* blocks that ended up in no tipset are dropped */
    for (size_t i = 0; i < x.blocks.cap; i++) {
        dn_block_t *b = x.blocks.e[i].val;
        if (b && !b->ts)
            dn_block_free(b);
    }
    dn_cidmap_done(&x.blocks);
    if (r < 0 && err && !*err)
        dn_set_err(err, "cannot load devnet.db: %s", vc_strerror(r));
    return r;
}
