/* devnet-chain.c: lifecycle, genesis building, chain and state reads (JSON shapes of B.2). */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include "devnet-internal.h"
#include "vc/blake2b.h"
#include "vc/cbor.h"

/* ---------------------------------------------------------------- small helpers */

void dn_set_err(char **err, const char *fmt, ...)
{
    va_list ap;
    char buf[512];

    if (!err)
        return;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    free(*err);
    *err = strdup(buf);
}

int64_t dn_now_ms(void)
{
    return vc_now_real_us() / 1000;
}

static uint64_t cid_hash(const vc_cid_t *k)
{
    uint64_t h = 1469598103934665603ULL;
    for (size_t i = 0; i < k->len; i++)
        h = (h ^ k->bytes[i]) * 1099511628211ULL;
    return h;
}

void *dn_cidmap_get(const dn_cidmap_t *m, const vc_cid_t *k)
{
    if (!m->cap)
        return NULL;
    for (size_t i = cid_hash(k) & (m->cap - 1);; i = (i + 1) & (m->cap - 1)) {
        if (!m->e[i].val)
            return NULL;
        if (vc_cid_equal(&m->e[i].key, k))
            return m->e[i].val;
    }
}

int dn_cidmap_put(dn_cidmap_t *m, const vc_cid_t *k, void *val)
{
    if ((m->n + 1) * 2 > m->cap) {
        size_t ncap = m->cap ? m->cap * 2 : 64;
        dn_cidmap_entry_t *ne = calloc(ncap, sizeof(*ne));
        if (!ne)
            return -ENOMEM;
        for (size_t i = 0; i < m->cap; i++) {
            if (!m->e[i].val)
                continue;
            size_t j = cid_hash(&m->e[i].key) & (ncap - 1);
            while (ne[j].val)
                j = (j + 1) & (ncap - 1);
            ne[j] = m->e[i];
        }
        free(m->e);
        m->e = ne;
        m->cap = ncap;
    }
    size_t i = cid_hash(k) & (m->cap - 1);
    while (m->e[i].val && !vc_cid_equal(&m->e[i].key, k))
        i = (i + 1) & (m->cap - 1);
    if (!m->e[i].val)
        m->n++;
    m->e[i].key = *k;
    m->e[i].val = val;
    return 0;
}

void dn_cidmap_done(dn_cidmap_t *m)
{
    free(m->e);
    memset(m, 0, sizeof(*m));
}

json_t *dn_big_json(const vc_bigint_t *v)
{
    char s[VC_BIGINT_STRLEN_MAX];
    if (vc_bigint_to_string(v, s, sizeof(s)) < 0)
        return NULL;
    return json_string(s);
}

json_t *dn_addr_json(dn_chain_t *c, const vc_address_t *a)
{
    char s[VC_ADDRESS_STRLEN_MAX];
    if (vc_address_is_undef(a))
        return json_string("<empty>");
    if (vc_address_to_string(a, c->net, s) < 0)
        return NULL;
    return json_string(s);
}

json_t *dn_tsk_json(const dn_tipset_t *ts)
{
    json_t *a = json_array();
    for (size_t i = 0; a && i < ts->n; i++)
        if (json_array_append_new(a, vc_cid_to_json(&ts->blocks[i]->cid)) < 0) {
            json_decref(a);
            return NULL;
        }
    return a;
}

json_t *dn_tipset_json(dn_chain_t *c, const dn_tipset_t *ts)
{
    json_t *blocks = json_array(), *h;
    for (size_t i = 0; blocks && i < ts->n; i++) {
        if (vc_block_header_to_json(&ts->blocks[i]->h, c->net, &h) < 0 || json_array_append_new(blocks, h) < 0) {
            json_decref(blocks);
            return NULL;
        }
    }
    if (!blocks)
        return NULL;
    return json_pack("{s:o,s:o,s:I}", "Cids", dn_tsk_json(ts), "Blocks", blocks, "Height", (json_int_t)ts->height);
}

json_t *dn_msg_json(dn_chain_t *c, const dn_msg_t *m)
{
    json_t *j;
    if (vc_message_to_json(&m->sm.message, c->net, true, &j) < 0)
        return NULL;
    return j;
}

json_t *dn_signed_msg_json(dn_chain_t *c, const dn_msg_t *m)
{
    json_t *j;
    if (vc_signed_message_to_json(&m->sm, c->net, true, &j) < 0)
        return NULL;
    return j;
}

int dn_total_power(dn_chain_t *c, vc_bigint_t *ret)
{
    vc_bigint_t t = VC_BIGINT_ZERO;
    for (size_t i = 0; i < c->n_miners; i++) {
        int r = vc_bigint_add(&t, &c->miners[i].power, &t);
        if (r < 0)
            return r;
    }
    *ret = t;
    return 0;
}

const dn_genesis_miner_t *dn_find_miner(dn_chain_t *c, const vc_address_t *a)
{
    uint64_t id;
    if (vc_address_is_undef(a) || vc_address_id(a, &id) < 0)
        return NULL;
    for (size_t i = 0; i < c->n_miners; i++)
        if (c->miners[i].id == id)
            return &c->miners[i];
    return NULL;
}

void dn_msg_free(dn_msg_t *m)
{
    if (!m)
        return;
    vc_signed_message_done(&m->sm);
    free(m);
}

void dn_block_free(dn_block_t *b)
{
    if (!b)
        return;
    free(b->cbor);
    vc_block_header_done(&b->h);
    free(b->bls);
    free(b->secp);
    free(b);
}

void dn_tipset_free(dn_tipset_t *ts)
{
    if (!ts)
        return;
    free(ts->blocks);
    free(ts->msgs);
    free(ts->receipts);
    free(ts);
}

/* Links a new tipset (and its blocks) into the maps. Blocks must not be registered yet. */
int dn_register_tipset(dn_chain_t *c, dn_tipset_t *ts)
{
    int r;
    if (c->n_all_ts == c->cap_all_ts) {
        size_t ncap = c->cap_all_ts ? c->cap_all_ts * 2 : 256;
        dn_tipset_t **n = realloc(c->all_ts, ncap * sizeof(*n));
        if (!n)
            return -ENOMEM;
        c->all_ts = n;
        c->cap_all_ts = ncap;
    }
    if ((r = dn_cidmap_put(&c->tipsets, &ts->blocks[0]->cid, ts)) < 0)
        return r;
    for (size_t i = 0; i < ts->n; i++) {
        ts->blocks[i]->ts = ts;
        if ((r = dn_cidmap_put(&c->blocks, &ts->blocks[i]->cid, ts->blocks[i])) < 0)
            return r;
    }
    c->all_ts[c->n_all_ts++] = ts;
    return 0;
}

dn_tipset_t *dn_find_tipset(dn_chain_t *c, const vc_cid_t *tsk, size_t n)
{
    if (n == 0)
        return c->head;
    dn_block_t *b = dn_cidmap_get(&c->blocks, &tsk[0]);
    if (!b || !b->ts || b->ts->n != n)
        return NULL;
    for (size_t i = 0; i < n; i++)
        if (!vc_cid_equal(&b->ts->blocks[i]->cid, &tsk[i]))
            return NULL;
    return b->ts;
}

/* ---------------------------------------------------------------- code CIDs */

/* Legacy identity code CIDs ("fil/7/account"): go-state-types still recognises them. */
static void code_cid(dn_actor_kind_t kind, vc_cid_t *ret)
{
    const char *s = kind == DN_ACTOR_MINER ? "fil/7/storageminer" : "fil/7/account";
    (void)vc_cid_new(VC_CID_CODEC_RAW, VC_MH_IDENTITY, (const uint8_t *)s, strlen(s), ret);
}

/* Head: CID of a small devnet actor-state object ([key address] for accounts, [id] else). */
static void head_cid(const dn_actor_t *a, vc_cid_t *ret)
{
    vc_buf_t b = {0};
    int r = vc_cbor_put_array(&b, 1);
    if (r >= 0)
        r = vc_address_is_undef(&a->key) ? vc_cbor_put_uint(&b, a->id) : vc_cbor_put_address(&b, &a->key);
    if (r >= 0)
        vc_cid_sum_dagcbor(b.data, b.len, ret);
    else
        memset(ret, 0, sizeof(*ret));
    vc_buf_done(&b);
}

/* ---------------------------------------------------------------- genesis */

static int genesis_state(const dn_genesis_t *g, dn_state_t **ret, char **err)
{
    dn_state_t *s = calloc(1, sizeof(*s));
    vc_address_t a;

    if (!s)
        return -ENOMEM;
    /* f099 (burnt funds) first, then accounts 100.., then workers not listed, then miners */
    dn_actor_t burnt = {.id = DN_BURNT_FUNDS_ID, .kind = DN_ACTOR_BURNT};
    s->a = malloc(sizeof(dn_actor_t));
    if (!s->a)
        goto oom;
    s->a[0] = burnt;
    s->n = 1;
    for (size_t i = 0; i < g->n_accounts; i++) {
        dn_actor_t *x = dn_state_add_account(s, &g->accounts[i].address);
        if (!x)
            goto oom;
        x->balance = g->accounts[i].balance;
    }
    for (size_t i = 0; i < g->n_miners; i++)
        if (!dn_state_find(s, &g->miners[i].worker) && !dn_state_add_account(s, &g->miners[i].worker))
            goto oom;
    for (size_t i = 0; i < g->n_miners; i++) {
        (void)vc_address_new_id(g->miners[i].id, &a);
        if (dn_state_find(s, &a)) {
            dn_set_err(err, "miner f0%" PRIu64 ": ID already taken", g->miners[i].id);
            dn_state_free(s);
            return -EEXIST;
        }
        dn_actor_t *na = realloc(s->a, (s->n + 1) * sizeof(*na));
        if (!na)
            goto oom;
        s->a = na;
        size_t pos = s->n;
        while (pos > 0 && na[pos - 1].id > g->miners[i].id)
            pos--;
        memmove(&na[pos + 1], &na[pos], (s->n - pos) * sizeof(*na));
        memset(&na[pos], 0, sizeof(*na));
        na[pos].id = g->miners[i].id;
        na[pos].kind = DN_ACTOR_MINER;
        s->n++;
    }
    if (dn_state_seal(s) < 0)
        goto oom;
    *ret = s;
    return 0;
oom:
    dn_state_free(s);
    return -ENOMEM;
}

static json_t *genesis_json(const dn_genesis_t *g, uint64_t ts)
{
    json_t *miners = json_array();
    char o[VC_ADDRESS_STRLEN_MAX], w[VC_ADDRESS_STRLEN_MAX], p[VC_BIGINT_STRLEN_MAX];

    for (size_t i = 0; miners && i < g->n_miners; i++) {
        const dn_genesis_miner_t *m = &g->miners[i];
        if (vc_address_to_string(&m->owner, 'f', o) < 0 || vc_address_to_string(&m->worker, 'f', w) < 0 ||
            vc_bigint_to_string(&m->power, p, sizeof(p)) < 0 ||
            json_array_append_new(miners, json_pack("{s:I,s:s,s:s,s:s,s:I,s:I}", "ID", (json_int_t)m->id, "Owner", o,
                                                    "Worker", w, "Power", p, "Sectors", (json_int_t)m->sectors,
                                                    "SectorSize", (json_int_t)m->sector_size)) < 0) {
            json_decref(miners);
            return NULL;
        }
    }
    if (!miners)
        return NULL;
    return json_pack("{s:s,s:I,s:I,s:I,s:o}", "NetworkName", g->network_name, "BlockTimeMs",
                     (json_int_t)g->block_time_ms, "PropagationMs", (json_int_t)g->propagation_ms, "Timestamp",
                     (json_int_t)ts, "Miners", miners);
}

/* Fills the chain's genesis parameters from the stored JSON. */
int dn_chain_load_params(dn_chain_t *c, const char *text);
int dn_chain_load_params(dn_chain_t *c, const char *text)
{
    json_error_t je;
    json_t *j = json_loads(text, 0, &je), *m;
    const char *name;
    json_int_t bt, pd, ts;
    size_t i;
    int r = VC_EPARSE;

    if (!j)
        return VC_EPARSE;
    if (json_unpack(j, "{s:s,s:I,s:I,s:I,s:o}", "NetworkName", &name, "BlockTimeMs", &bt, "PropagationMs", &pd,
                    "Timestamp", &ts, "Miners", &m) < 0 ||
        strlen(name) >= sizeof(c->network_name) || !json_is_array(m) || json_array_size(m) == 0 || bt <= 0)
        goto out;
    strcpy(c->network_name, name);
    c->net = strcmp(name, "mainnet") == 0 ? 'f' : 't';
    c->block_time_ms = bt;
    c->propagation_ms = pd;
    c->genesis_ts = (uint64_t)ts;
    c->miners = calloc(json_array_size(m), sizeof(*c->miners));
    if (!c->miners) {
        r = -ENOMEM;
        goto out;
    }
    json_t *e;
    json_array_foreach(m, i, e) {
        const char *o, *w, *p;
        json_int_t id, ns, ss;
        dn_genesis_miner_t *x = &c->miners[i];
        if (json_unpack(e, "{s:I,s:s,s:s,s:s,s:I,s:I}", "ID", &id, "Owner", &o, "Worker", &w, "Power", &p, "Sectors",
                        &ns, "SectorSize", &ss) < 0 ||
            id < 0 || ns < 0 || ss < 0 || vc_address_from_string(o, &x->owner) < 0 ||
            vc_address_from_string(w, &x->worker) < 0 || vc_bigint_from_string(p, &x->power) < 0)
            goto out;
        x->id = (uint64_t)id;
        x->sectors = (uint64_t)ns;
        x->sector_size = (uint64_t)ss;
        c->n_miners++;
    }
    r = 0;
out:
    json_decref(j);
    return r;
}

static int build_genesis(dn_chain_t *c, dn_state_t *st, dn_tipset_t **ret)
{
    vc_block_header_t h = {0};
    uint8_t ticket[32], beacon[32];
    vc_beacon_entry_t be = {.round = 0, .data = beacon, .data_len = 32};
    vc_buf_t b = {0};
    int r;

    vc_blake2b_256(c->network_name, strlen(c->network_name), ticket);
    dn_beacon_data(0, beacon);
    (void)vc_address_new_id(0, &h.miner);
    h.has_ticket = true;
    h.ticket_vrf = ticket;
    h.ticket_vrf_len = sizeof(ticket);
    h.beacon_entries = &be;
    h.n_beacon_entries = 1;
    h.parent_state_root = st->root;
    dn_empty_amt_cid(&h.parent_message_receipts);
    dn_messages_root(NULL, 0, NULL, 0, &h.messages);
    h.timestamp = c->genesis_ts;
    vc_bigint_from_i64(DN_INITIAL_BASE_FEE, &h.parent_base_fee);

    dn_block_t *blk = calloc(1, sizeof(*blk));
    dn_tipset_t *ts = calloc(1, sizeof(*ts));
    if (!blk || !ts || !(ts->blocks = calloc(1, sizeof(*ts->blocks)))) {
        r = -ENOMEM;
        goto fail;
    }
    if ((r = vc_block_header_encode(&h, &b)) < 0 ||
        (r = vc_block_header_decode((const uint8_t *)b.data, b.len, &blk->h)) < 0)
        goto fail;
    vc_cid_sum_dagcbor(b.data, b.len, &blk->cid);
    blk->cbor_len = b.len;
    blk->cbor = (uint8_t *)vc_buf_steal(&b);
    ts->blocks[0] = blk;
    ts->n = 1;
    ts->height = 0;
    ts->state = st;
    ts->main = true;
    if ((r = dn_weight(c, ts, &ts->weight)) < 0)
        goto fail;
    *ret = ts;
    return 0;
fail:
    vc_buf_done(&b);
    dn_block_free(blk);
    dn_tipset_free(ts);
    return r;
}

static char *db_path(const char *repo)
{
    char *p = malloc(strlen(repo) + sizeof("/devnet.db"));
    if (p)
        sprintf(p, "%s/devnet.db", repo);
    return p;
}

static dn_chain_t *chain_new(void)
{
    dn_chain_t *c = calloc(1, sizeof(*c));
    if (!c)
        return NULL;
    pthread_mutex_init(&c->lock, NULL);
    pthread_mutex_init(&c->close_lock, NULL);
    pthread_mutex_init(&c->notify_lock, NULL);
    pthread_cond_init(&c->cond, NULL);
    c->next_sub_id = 1;
    c->mode = DN_MINE_SELF;
    return c;
}

int dn_chain_init(const char *repo, const dn_genesis_t *g, char **err)
{
    _cleanup_free_ char *path = NULL, *gj = NULL;
    dn_state_t *st = NULL;
    dn_tipset_t *ts = NULL;
    dn_chain_t *c;
    struct stat sb;
    int r;

    if ((r = vc_init()) < 0)
        return r;
    if (!g || g->n_miners == 0 || g->block_time_ms <= 0) {
        dn_set_err(err, "invalid genesis: at least one miner and a positive block time are required");
        return -EINVAL;
    }
    if ((r = vc_mkdir_p(repo, 0700)) < 0) {
        dn_set_err(err, "cannot create %s: %s", repo, vc_strerror(r));
        return r;
    }
    if (!(path = db_path(repo)))
        return -ENOMEM;
    if (stat(path, &sb) == 0) {
        dn_set_err(err, "%s already exists", path);
        return -EEXIST;
    }
    if (!(c = chain_new()))
        return -ENOMEM;
    strcpy(c->network_name, g->network_name[0] ? g->network_name : "devnet");
    c->net = strcmp(c->network_name, "mainnet") == 0 ? 'f' : 't';
    c->block_time_ms = g->block_time_ms;
    c->propagation_ms = g->propagation_ms;
    c->genesis_ts = g->timestamp ? g->timestamp : (uint64_t)(dn_now_ms() / 1000);
    json_t *j = genesis_json(g, c->genesis_ts);
    if (!j || !(gj = json_dumps(j, JSON_COMPACT))) {
        json_decref(j);
        r = -ENOMEM;
        goto out;
    }
    json_decref(j);
    if ((r = dn_chain_load_params(c, gj)) < 0)
        goto out;
    if ((r = genesis_state(g, &st, err)) < 0)
        goto out;
    if ((r = build_genesis(c, st, &ts)) < 0)
        goto out;
    if ((r = dn_store_open(c, path, true, err)) < 0)
        goto out;
    r = dn_store_write_genesis(c, gj, ts, st, err);
out:
    if (ts)
        dn_block_free(ts->blocks[0]);
    dn_tipset_free(ts);
    dn_state_free(st);
    if (r < 0 && c->db)
        (void)unlink(path);
    dn_chain_free(c);
    return r;
}

int dn_chain_open(const char *repo, dn_chain_t **ret, char **err)
{
    _cleanup_free_ char *path = NULL;
    struct stat sb;
    dn_chain_t *c;
    int r;

    if ((r = vc_init()) < 0)
        return r;
    if (!(path = db_path(repo)))
        return -ENOMEM;
    if (stat(path, &sb) < 0) {
        dn_set_err(err, "%s does not exist (run init first)", path);
        return -ENOENT;
    }
    if (!(c = chain_new()))
        return -ENOMEM;
    if (!(c->repo = strdup(repo))) {
        dn_chain_free(c);
        return -ENOMEM;
    }
    if ((r = dn_store_open(c, path, false, err)) < 0 || (r = dn_store_load(c, err)) < 0) {
        dn_chain_free(c);
        return r;
    }
    c->epoch = c->head->height + 1;
    c->clock_base_ms = dn_now_ms();
    c->clock_base_h = c->head->height;
    *ret = c;
    return 0;
}

dn_chain_t *dn_chain_free(dn_chain_t *c)
{
    if (!c)
        return NULL;
    for (size_t i = 0; i < c->n_all_ts; i++) {
        dn_tipset_t *ts = c->all_ts[i];
        for (size_t k = 0; k < ts->n; k++)
            dn_block_free(ts->blocks[k]);
        dn_tipset_free(ts);
    }
    for (size_t i = 0; i < c->n_pend; i++)
        dn_block_free(c->pend[i]);
    free(c->pend);
    /* messages are in the map twice (cid and scid): free on the cid entry only */
    dn_msg_t **owned = malloc((c->msgs.n ? c->msgs.n : 1) * sizeof(*owned));
    size_t nown = 0;
    for (size_t i = 0; owned && i < c->msgs.cap; i++) {
        dn_msg_t *m = c->msgs.e[i].val;
        if (m && vc_cid_equal(&c->msgs.e[i].key, &m->cid))
            owned[nown++] = m;
    }
    for (size_t i = 0; i < nown; i++)
        dn_msg_free(owned[i]);
    free(owned);
    for (size_t i = 0; i < c->states.cap; i++)
        dn_state_free(c->states.e[i].val);
    dn_cidmap_done(&c->blocks);
    dn_cidmap_done(&c->msgs);
    dn_cidmap_done(&c->tipsets);
    dn_cidmap_done(&c->states);
    free(c->all_ts);
    free(c->main);
    free(c->pool);
    dn_pool_index_free(c);
    free(c->subs);
    free(c->miners);
    free(c->repo);
    vc_db_free(c->db);
    pthread_mutex_destroy(&c->lock);
    pthread_mutex_destroy(&c->close_lock);
    pthread_mutex_destroy(&c->notify_lock);
    pthread_cond_destroy(&c->cond);
    free(c);
    return NULL;
}

const char *dn_chain_network_name(const dn_chain_t *c)
{
    return c->network_name;
}

char dn_chain_network_letter(const dn_chain_t *c)
{
    return c->net;
}

int64_t dn_chain_block_time_ms(const dn_chain_t *c)
{
    return __atomic_load_n(&c->block_time_ms, __ATOMIC_RELAXED);
}

int64_t dn_chain_propagation_ms(const dn_chain_t *c)
{
    return c->propagation_ms;
}

/* ---------------------------------------------------------------- chain reads */

int dn_chain_head(dn_chain_t *c, json_t **ret)
{
    pthread_mutex_lock(&c->lock);
    json_t *j = dn_tipset_json(c, c->head);
    pthread_mutex_unlock(&c->lock);
    if (!j)
        return -ENOMEM;
    *ret = j;
    return 0;
}

int64_t dn_chain_height(dn_chain_t *c)
{
    pthread_mutex_lock(&c->lock);
    int64_t h = c->head->height;
    pthread_mutex_unlock(&c->lock);
    return h;
}

int dn_chain_get_tipset(dn_chain_t *c, const vc_cid_t *tsk, size_t n, json_t **ret)
{
    int r = 0;
    pthread_mutex_lock(&c->lock);
    dn_tipset_t *ts = dn_find_tipset(c, tsk, n);
    json_t *j = ts ? dn_tipset_json(c, ts) : NULL;
    if (!ts)
        r = -ENOENT;
    else if (!j)
        r = -ENOMEM;
    pthread_mutex_unlock(&c->lock);
    if (r == 0)
        *ret = j;
    return r;
}

int dn_chain_get_tipset_by_height(dn_chain_t *c, int64_t height, const vc_cid_t *tsk, size_t n, json_t **ret)
{
    int r = 0;
    json_t *j = NULL;

    pthread_mutex_lock(&c->lock);
    dn_tipset_t *ts = dn_find_tipset(c, tsk, n);
    if (!ts)
        r = -ENOENT;
    else if (height < 0 || height > ts->height)
        r = -EINVAL;
    else {
        while (ts->height > height && ts->parent)
            ts = ts->parent;
        if (!(j = dn_tipset_json(c, ts)))
            r = -ENOMEM;
    }
    pthread_mutex_unlock(&c->lock);
    if (r == 0)
        *ret = j;
    return r;
}

int dn_chain_get_block(dn_chain_t *c, const vc_cid_t *blk, json_t **ret)
{
    int r;
    pthread_mutex_lock(&c->lock);
    dn_block_t *b = dn_cidmap_get(&c->blocks, blk);
    r = b ? vc_block_header_to_json(&b->h, c->net, ret) : -ENOENT;
    pthread_mutex_unlock(&c->lock);
    return r;
}

static json_t *msg_list_json(dn_chain_t *c, dn_msg_t *const *m, size_t n)
{
    json_t *a = json_array();
    for (size_t i = 0; a && i < n; i++) {
        json_t *e = json_pack("{s:o,s:o}", "Cid", vc_cid_to_json(&m[i]->scid), "Message", dn_msg_json(c, m[i]));
        if (!e || json_array_append_new(a, e) < 0) {
            json_decref(a);
            return NULL;
        }
    }
    return a;
}

int dn_chain_parent_messages(dn_chain_t *c, const vc_cid_t *blk, json_t **ret)
{
    int r = 0;
    json_t *j = NULL;

    pthread_mutex_lock(&c->lock);
    dn_block_t *b = dn_cidmap_get(&c->blocks, blk);
    if (!b)
        r = -ENOENT;
    else if (!b->ts->parent)
        j = json_null();
    else if (!(j = msg_list_json(c, b->ts->parent->msgs, b->ts->parent->n_msgs)))
        r = -ENOMEM;
    pthread_mutex_unlock(&c->lock);
    if (r == 0)
        *ret = j;
    return r;
}

static json_t *receipt_json(const dn_receipt_t *rc)
{
    return json_pack("{s:I,s:n,s:I,s:n}", "ExitCode", (json_int_t)rc->exit_code, "Return", "GasUsed",
                     (json_int_t)rc->gas_used, "EventsRoot");
}

int dn_chain_parent_receipts(dn_chain_t *c, const vc_cid_t *blk, json_t **ret)
{
    int r = 0;
    json_t *j = NULL;

    pthread_mutex_lock(&c->lock);
    dn_block_t *b = dn_cidmap_get(&c->blocks, blk);
    if (!b)
        r = -ENOENT;
    else if (!b->ts->parent)
        j = json_null();
    else {
        dn_tipset_t *p = b->ts->parent;
        if (!p->receipts && (r = dn_ensure_exec(c, p, NULL)) < 0)
            goto out;
        j = json_array();
        for (size_t i = 0; j && i < p->n_msgs; i++)
            if (json_array_append_new(j, receipt_json(&p->receipts[i])) < 0) {
                json_decref(j);
                j = NULL;
            }
        if (!j)
            r = -ENOMEM;
    }
out:
    pthread_mutex_unlock(&c->lock);
    if (r == 0)
        *ret = j;
    return r;
}

int dn_chain_messages_in_tipset(dn_chain_t *c, const vc_cid_t *tsk, size_t n, json_t **ret)
{
    int r = 0;
    json_t *j = NULL;

    pthread_mutex_lock(&c->lock);
    dn_tipset_t *ts = dn_find_tipset(c, tsk, n);
    if (!ts)
        r = -ENOENT;
    else if (!(j = msg_list_json(c, ts->msgs, ts->n_msgs)))
        r = -ENOMEM;
    pthread_mutex_unlock(&c->lock);
    if (r == 0)
        *ret = j;
    return r;
}

int dn_chain_get_message(dn_chain_t *c, const vc_cid_t *msg, json_t **ret)
{
    int r = 0;
    json_t *j = NULL;

    pthread_mutex_lock(&c->lock);
    dn_msg_t *m = dn_cidmap_get(&c->msgs, msg);
    if (!m)
        r = -ENOENT;
    else if (!(j = dn_msg_json(c, m)))
        r = -ENOMEM;
    pthread_mutex_unlock(&c->lock);
    if (r == 0)
        *ret = j;
    return r;
}

/* ---------------------------------------------------------------- state reads */

int dn_state_get_actor(dn_chain_t *c, const vc_address_t *a, const vc_cid_t *tsk, size_t n, json_t **ret)
{
    vc_cid_t code, head;
    json_t *j = NULL;
    int r = 0;

    pthread_mutex_lock(&c->lock);
    dn_tipset_t *ts = dn_find_tipset(c, tsk, n);
    const dn_actor_t *x = ts ? dn_state_find(ts->state, a) : NULL;
    if (!ts)
        r = -ENOENT;
    else if (!x)
        r = -ENOENT;
    else {
        code_cid(x->kind, &code);
        head_cid(x, &head);
        j = json_pack("{s:o,s:o,s:I,s:o,s:n}", "Code", vc_cid_to_json(&code), "Head", vc_cid_to_json(&head), "Nonce",
                      (json_int_t)x->nonce, "Balance", dn_big_json(&x->balance), "DelegatedAddress");
        if (!j)
            r = -ENOMEM;
    }
    pthread_mutex_unlock(&c->lock);
    if (r == 0)
        *ret = j;
    return r;
}

int dn_state_account_key(dn_chain_t *c, const vc_address_t *a, const vc_cid_t *tsk, size_t n, json_t **ret)
{
    json_t *j = NULL;
    int r = 0;

    if (vc_address_is_undef(a))
        return -EINVAL;
    pthread_mutex_lock(&c->lock);
    dn_tipset_t *ts = dn_find_tipset(c, tsk, n);
    if (!ts)
        r = -ENOENT;
    else if (vc_address_protocol(a) == VC_ADDR_SECP256K1 || vc_address_protocol(a) == VC_ADDR_BLS)
        j = dn_addr_json(c, a);
    else {
        const dn_actor_t *x = dn_state_find(ts->state, a);
        if (!x)
            r = -ENOENT;
        else if (x->kind != DN_ACTOR_ACCOUNT || vc_address_is_undef(&x->key))
            r = -EINVAL;
        else
            j = dn_addr_json(c, &x->key);
    }
    if (r == 0 && !j)
        r = -ENOMEM;
    pthread_mutex_unlock(&c->lock);
    if (r == 0)
        *ret = j;
    return r;
}

int dn_state_lookup_id(dn_chain_t *c, const vc_address_t *a, const vc_cid_t *tsk, size_t n, json_t **ret)
{
    vc_address_t id;
    json_t *j = NULL;
    int r = 0;

    pthread_mutex_lock(&c->lock);
    dn_tipset_t *ts = dn_find_tipset(c, tsk, n);
    const dn_actor_t *x = ts ? dn_state_find(ts->state, a) : NULL;
    if (!x)
        r = -ENOENT;
    else {
        (void)vc_address_new_id(x->id, &id);
        if (!(j = dn_addr_json(c, &id)))
            r = -ENOMEM;
    }
    pthread_mutex_unlock(&c->lock);
    if (r == 0)
        *ret = j;
    return r;
}

/* Nonce of the sender of m in state s (UINT64_MAX if absent). */
static uint64_t sender_nonce(const dn_state_t *s, const vc_address_t *from, uint64_t *ret_id)
{
    const dn_actor_t *x = dn_state_find(s, from);
    if (!x)
        return UINT64_MAX;
    *ret_id = x->id;
    return x->nonce;
}

int dn_state_search_msg(dn_chain_t *c, const vc_cid_t *tsk, size_t n, const vc_cid_t *msg, int64_t limit,
                        bool allow_replaced, json_t **ret)
{
    json_t *j = NULL;
    int r = 0;

    pthread_mutex_lock(&c->lock);
    dn_tipset_t *top = dn_find_tipset(c, tsk, n);
    dn_msg_t *m = dn_cidmap_get(&c->msgs, msg);
    if (!top) {
        r = -ENOENT;
        goto out;
    }
    if (!m) {
        j = json_null();
        goto out;
    }
    const vc_message_t *mm = &m->sm.message;
    /* Walk child -> parent: the message executed in parent P (receipt in child C) iff
     * nonce(P.state) <= nonce < nonce(C.state) and P holds a message with that (from, nonce). */
    for (dn_tipset_t *child = top; child->parent; child = child->parent) {
        dn_tipset_t *p = child->parent;
        uint64_t cid_from = 0, pid_from = 0;
        if (limit >= 0 && top->height - child->height > limit)
            break;
        uint64_t cn = sender_nonce(child->state, &mm->from, &cid_from);
        if (cn == UINT64_MAX || cn <= mm->nonce)
            break; /* not executed as of child */
        uint64_t pn = sender_nonce(p->state, &mm->from, &pid_from);
        if (pn != UINT64_MAX && pn > mm->nonce)
            continue; /* executed earlier */
        if (!p->receipts && (r = dn_ensure_exec(c, p, NULL)) < 0)
            goto out;
        for (size_t i = 0; i < p->n_msgs; i++) {
            dn_msg_t *x = p->msgs[i];
            uint64_t xid = 0;
            bool same = x == m;
            if (!same && allow_replaced && x->sm.message.nonce == mm->nonce &&
                sender_nonce(p->state, &x->sm.message.from, &xid) != UINT64_MAX && xid == cid_from)
                same = true;
            if (!same || p->receipts[i].exit_code == DN_EXIT_SENDER_STATE_INVALID ||
                p->receipts[i].exit_code == DN_EXIT_SENDER_INVALID)
                continue;
            /* like Lotus, the chain message's CID: the signed CID for secp256k1 messages */
            j = json_pack("{s:o,s:o,s:n,s:o,s:I}", "Message", vc_cid_to_json(&x->scid), "Receipt",
                          receipt_json(&p->receipts[i]), "ReturnDec", "TipSet", dn_tsk_json(child), "Height",
                          (json_int_t)child->height);
            if (!j)
                r = -ENOMEM;
            goto out;
        }
        break;
    }
    j = json_null();
out:
    pthread_mutex_unlock(&c->lock);
    if (r == 0)
        *ret = j;
    return r;
}

static json_t *power_json(const vc_bigint_t *p)
{
    return json_pack("{s:o,s:o}", "RawBytePower", dn_big_json(p), "QualityAdjPower", dn_big_json(p));
}

int dn_state_miner_power(dn_chain_t *c, const vc_address_t *miner, const vc_cid_t *tsk, size_t n, json_t **ret)
{
    vc_bigint_t total, min;
    int r = 0;
    json_t *j = NULL;

    pthread_mutex_lock(&c->lock);
    const dn_genesis_miner_t *m = dn_find_miner(c, miner);
    if (!dn_find_tipset(c, tsk, n) || !m)
        r = -ENOENT;
    else if ((r = dn_total_power(c, &total)) == 0) {
        vc_bigint_from_i64(2048, &min);
        j = json_pack("{s:o,s:o,s:b}", "MinerPower", power_json(&m->power), "TotalPower", power_json(&total),
                      "HasMinPower", vc_bigint_cmp(&m->power, &min) >= 0);
        if (!j)
            r = -ENOMEM;
    }
    pthread_mutex_unlock(&c->lock);
    if (r == 0)
        *ret = j;
    return r;
}

static int64_t window_post_type(uint64_t ss)
{
    switch (ss) {
    case 8ULL << 20: return 11;
    case 512ULL << 20: return 12;
    case 32ULL << 30: return 13;
    case 64ULL << 30: return 14;
    default: return 10;
    }
}

int64_t dn_seal_proof_type(uint64_t ss)
{
    return window_post_type(ss) - 5; /* V1_1 seal proofs 5..9 line up with window 10..14 */
}

int dn_state_miner_info(dn_chain_t *c, const vc_address_t *miner, const vc_cid_t *tsk, size_t n, json_t **ret)
{
    vc_address_t owner, worker;
    int r = 0;
    json_t *j = NULL;

    pthread_mutex_lock(&c->lock);
    dn_tipset_t *ts = dn_find_tipset(c, tsk, n);
    const dn_genesis_miner_t *m = dn_find_miner(c, miner);
    const dn_actor_t *o = ts && m ? dn_state_find(ts->state, &m->owner) : NULL;
    const dn_actor_t *w = ts && m ? dn_state_find(ts->state, &m->worker) : NULL;
    if (!o || !w)
        r = -ENOENT;
    else {
        (void)vc_address_new_id(o->id, &owner);
        (void)vc_address_new_id(w->id, &worker);
        uint64_t parts = m->sector_size >= (32ULL << 30) ? (m->sector_size == (32ULL << 30) ? 2349 : 2300) : 2;
        j = json_pack("{s:o,s:o,s:s,s:[],s:I,s:n,s:n,s:I,s:I,s:I,s:I,s:n,s:o,s:{s:s,s:s,s:I},s:n}", "Owner",
                      dn_addr_json(c, &owner), "Worker", dn_addr_json(c, &worker), "NewWorker", "<empty>",
                      "ControlAddresses", "WorkerChangeEpoch", (json_int_t)-1, "PeerId", "Multiaddrs",
                      "WindowPoStProofType", (json_int_t)window_post_type(m->sector_size), "SectorSize",
                      (json_int_t)m->sector_size, "WindowPoStPartitionSectors", (json_int_t)parts,
                      "ConsensusFaultElapsed", (json_int_t)-1, "PendingOwnerAddress", "Beneficiary",
                      dn_addr_json(c, &owner), "BeneficiaryTerm", "Quota", "0", "UsedQuota", "0", "Expiration",
                      (json_int_t)0, "PendingBeneficiaryTerm");
        if (!j)
            r = -ENOMEM;
    }
    pthread_mutex_unlock(&c->lock);
    if (r == 0)
        *ret = j;
    return r;
}

/* ---------------------------------------------------------------- sectors (warmup reads) */

/* Genesis sectors are activated at epoch 0 and live 540 days of 30 s epochs (Lotus' default
 * committed-capacity lifetime). */
#define DN_SECTOR_LIFETIME 1555200

/* The genesis miner `miner` when tsk names a known tipset; else -ENOENT with *err set. */
static int sector_owner(dn_chain_t *c, const vc_address_t *miner, const vc_cid_t *tsk, size_t n,
                        const dn_genesis_miner_t **ret, char **err)
{
    char a[VC_ADDRESS_STRLEN_MAX] = "";

    pthread_mutex_lock(&c->lock);
    bool known_ts = dn_find_tipset(c, tsk, n) != NULL;
    pthread_mutex_unlock(&c->lock);
    if (!known_ts) {
        dn_set_err(err, "tipset not found");
        return -ENOENT;
    }
    /* the miner table is fixed at open: no lock needed, the pointer stays valid */
    const dn_genesis_miner_t *m = dn_find_miner(c, miner);
    if (!m) {
        (void)vc_address_to_string(miner, c->net, a);
        dn_set_err(err, "failed to load miner actor %s: actor not found", a);
        return -ENOENT;
    }
    *ret = m;
    return 0;
}

/* go-bitfield JSON of the set {first .. first+count-1}: the run lengths, starting with the run
 * of unset bits (0 when the set starts at bit 0); the empty set is [0]. */
static json_t *bitfield_range_json(uint64_t first, uint64_t count)
{
    if (count == 0)
        return json_pack("[i]", 0);
    return json_pack("[I,I]", (json_int_t)first, (json_int_t)count);
}

int dn_state_miner_deadlines(dn_chain_t *c, const vc_address_t *miner, const vc_cid_t *tsk, size_t n, json_t **ret,
                             char **err)
{
    const dn_genesis_miner_t *m;
    int r = sector_owner(c, miner, tsk, n, &m, err);
    if (r < 0)
        return r;
    json_t *j = json_array();
    for (int i = 0; j && i < DN_WPOST_PERIOD_DEADLINES; i++) {
        json_t *dl = json_pack("{s:o,s:i,s:s}", "PostSubmissions", bitfield_range_json(0, 0), "DisputableProofCount",
                               0, "DailyFee", "0");
        if (json_array_append_new(j, dl) < 0) {
            json_decref(j);
            j = NULL;
        }
    }
    if (!j)
        return -ENOMEM;
    *ret = j;
    return 0;
}

int dn_state_miner_partitions(dn_chain_t *c, const vc_address_t *miner, int64_t dl_idx, const vc_cid_t *tsk,
                              size_t n, json_t **ret, char **err)
{
    const dn_genesis_miner_t *m;
    json_t *j;
    int r = sector_owner(c, miner, tsk, n, &m, err);
    if (r < 0)
        return r;
    if (dl_idx < 0 || dl_idx >= DN_WPOST_PERIOD_DEADLINES) {
        dn_set_err(err, "invalid deadline index %" PRId64 ": a proving period has %d deadlines (0..%d)", dl_idx,
                   DN_WPOST_PERIOD_DEADLINES, DN_WPOST_PERIOD_DEADLINES - 1);
        return -EINVAL;
    }
    if (dl_idx != 0 || m->sectors == 0)
        j = json_null();
    else
        j = json_pack("[{s:o,s:o,s:o,s:o,s:o}]", "AllSectors", bitfield_range_json(0, m->sectors), "FaultySectors",
                      bitfield_range_json(0, 0), "RecoveringSectors", bitfield_range_json(0, 0), "LiveSectors",
                      bitfield_range_json(0, m->sectors), "ActiveSectors", bitfield_range_json(0, m->sectors));
    if (!j)
        return -ENOMEM;
    *ret = j;
    return 0;
}

int dn_state_sector_get_info(dn_chain_t *c, const vc_address_t *miner, uint64_t number, const vc_cid_t *tsk,
                             size_t n, json_t **ret, char **err)
{
    const dn_genesis_miner_t *m;
    vc_cid_t sealed;
    json_t *j;
    int r = sector_owner(c, miner, tsk, n, &m, err);
    if (r < 0)
        return r;
    if (number >= m->sectors)
        j = json_null(); /* Lotus: nil, nil for a sector the miner does not have */
    else {
        dn_sector_sealed_cid(m, number, &sealed);
        j = json_pack("{s:I,s:I,s:o,s:i,s:I,s:s,s:s,s:s,s:s,s:s,s:i,s:s,s:n,s:i,s:s}", "SectorNumber",
                      (json_int_t)number, "SealProof", (json_int_t)dn_seal_proof_type(m->sector_size), "SealedCID",
                      vc_cid_to_json(&sealed), "Activation", 0, "Expiration", (json_int_t)DN_SECTOR_LIFETIME,
                      "DealWeight", "0", "VerifiedDealWeight", "0", "InitialPledge", "0", "ExpectedDayReward", "0",
                      "ExpectedStoragePledge", "0", "PowerBaseEpoch", 0, "ReplacedDayReward", "0", "SectorKeyCID",
                      "Flags", 0, "DailyFee", "0");
    }
    if (!j)
        return -ENOMEM;
    *ret = j;
    return 0;
}

int dn_state_network_version(dn_chain_t *c, json_t **ret)
{
    (void)c;
    json_t *j = json_integer(DN_NETWORK_VERSION);
    if (!j)
        return -ENOMEM;
    *ret = j;
    return 0;
}

int dn_state_network_params(dn_chain_t *c, json_t **ret)
{
    static const char *const upgrades[] = {
        "UpgradeSmokeHeight",     "UpgradeBreezeHeight",  "UpgradeIgnitionHeight", "UpgradeLiftoffHeight",
        "UpgradeAssemblyHeight",  "UpgradeRefuelHeight",  "UpgradeTapeHeight",     "UpgradeKumquatHeight",
        "UpgradeCalicoHeight",    "UpgradePersianHeight", "UpgradeOrangeHeight",   "UpgradeClausHeight",
        "UpgradeTrustHeight",     "UpgradeNorwegianHeight", "UpgradeTurboHeight",  "UpgradeHyperdriveHeight",
        "UpgradeChocolateHeight", "UpgradeOhSnapHeight",  "UpgradeSkyrHeight",     "UpgradeSharkHeight",
        "UpgradeHyggeHeight",     "UpgradeLightningHeight", "UpgradeThunderHeight", "UpgradeWatermelonHeight",
        "UpgradeDragonHeight",    "UpgradePhoenixHeight", "UpgradeWaffleHeight",
    };
    json_t *fu = json_object();
    for (size_t i = 0; fu && i < VC_ELEMENTSOF(upgrades); i++)
        if (json_object_set_new(fu, upgrades[i], json_integer(-1)) < 0) {
            json_decref(fu);
            fu = NULL;
        }
    if (!fu)
        return -ENOMEM;
    int64_t bt = dn_chain_block_time_ms(c);
    json_t *j = json_pack("{s:s,s:I,s:s,s:[i,i,i,i,i],s:I,s:o,s:I}", "NetworkName", c->network_name,
                          "BlockDelaySecs", (json_int_t)(bt < 1000 ? 1 : bt / 1000), "ConsensusMinerMinPower", "2048",
                          "SupportedProofTypes", 5, 6, 7, 8, 9, "PreCommitChallengeDelay", (json_int_t)10,
                          "ForkUpgradeParams", fu, "Eip155ChainID", (json_int_t)31415926);
    if (!j)
        return -ENOMEM;
    *ret = j;
    return 0;
}

json_t *dn_beacon_json(int64_t round);
json_t *dn_beacon_json(int64_t round)
{
    uint8_t d[32];
    dn_beacon_data(round, d);
    char *s = vc_base64_encode(d, 32);
    if (!s)
        return NULL;
    json_t *j = json_pack("{s:I,s:s}", "Round", (json_int_t)round, "Data", s);
    free(s);
    return j;
}

int dn_beacon_entry(dn_chain_t *c, int64_t epoch, json_t **ret)
{
    (void)c;
    if (epoch < 0)
        return -EINVAL;
    json_t *j = dn_beacon_json(epoch);
    if (!j)
        return -ENOMEM;
    *ret = j;
    return 0;
}

int dn_wallet_balance(dn_chain_t *c, const vc_address_t *a, json_t **ret)
{
    pthread_mutex_lock(&c->lock);
    const dn_actor_t *x = dn_state_find(c->head->state, a);
    vc_bigint_t b = x ? x->balance : VC_BIGINT_ZERO;
    pthread_mutex_unlock(&c->lock);
    json_t *j = dn_big_json(&b);
    if (!j)
        return -ENOMEM;
    *ret = j;
    return 0;
}

int dn_sync_state(dn_chain_t *c, json_t **ret)
{
    pthread_mutex_lock(&c->lock);
    json_t *j = json_pack("{s:[{s:i,s:o,s:o,s:i,s:I,s:s,s:s,s:s}],s:i}", "ActiveSyncs", "WorkerID", 0, "Base",
                          dn_tipset_json(c, c->head), "Target", dn_tipset_json(c, c->head), "Stage", 4, "Height",
                          (json_int_t)c->head->height, "Start", "0001-01-01T00:00:00Z", "End",
                          "0001-01-01T00:00:00Z", "Message", "", "VMApplied", 0);
    pthread_mutex_unlock(&c->lock);
    if (!j)
        return -ENOMEM;
    *ret = j;
    return 0;
}

/* ---------------------------------------------------------------- subscriptions */

int dn_chain_subscribe(dn_chain_t *c, dn_head_fn fn, void *userdata, uint64_t *ret_id)
{
    int r = 0;
    pthread_mutex_lock(&c->lock);
    dn_sub_t *n = realloc(c->subs, (c->n_subs + 1) * sizeof(*n));
    if (!n)
        r = -ENOMEM;
    else {
        c->subs = n;
        n[c->n_subs] = (dn_sub_t){.id = c->next_sub_id++, .fn = fn, .userdata = userdata};
        *ret_id = n[c->n_subs].id;
        c->n_subs++;
    }
    pthread_mutex_unlock(&c->lock);
    return r;
}

void dn_chain_unsubscribe(dn_chain_t *c, uint64_t id)
{
    pthread_mutex_lock(&c->notify_lock); /* waits out a dispatch that may still call id */
    pthread_mutex_lock(&c->lock);
    for (size_t i = 0; i < c->n_subs; i++)
        if (c->subs[i].id == id) {
            memmove(&c->subs[i], &c->subs[i + 1], (c->n_subs - i - 1) * sizeof(*c->subs));
            c->n_subs--;
            break;
        }
    pthread_mutex_unlock(&c->lock);
    pthread_mutex_unlock(&c->notify_lock);
}

void dn_notify(dn_chain_t *c, const dn_changes_t *ch)
{
    dn_sub_t *subs = NULL;
    size_t n = 0;
    json_t *arr;

    if (ch->n_rev + ch->n_app == 0)
        return;
    pthread_mutex_lock(&c->notify_lock);
    pthread_mutex_lock(&c->lock);
    arr = json_array();
    for (size_t i = 0; arr && i < ch->n_rev + ch->n_app; i++) {
        bool rev = i < ch->n_rev;
        dn_tipset_t *ts = rev ? ch->rev[i] : ch->app[i - ch->n_rev];
        json_t *e = json_pack("{s:s,s:o}", "Type", rev ? "revert" : "apply", "Val", dn_tipset_json(c, ts));
        if (!e || json_array_append_new(arr, e) < 0) {
            json_decref(arr);
            arr = NULL;
        }
    }
    if (c->n_subs && (subs = malloc(c->n_subs * sizeof(*subs)))) {
        memcpy(subs, c->subs, c->n_subs * sizeof(*subs));
        n = c->n_subs;
    }
    pthread_mutex_unlock(&c->lock);
    for (size_t i = 0; arr && i < n; i++)
        subs[i].fn(arr, subs[i].userdata);
    pthread_mutex_unlock(&c->notify_lock);
    json_decref(arr);
    free(subs);
}
