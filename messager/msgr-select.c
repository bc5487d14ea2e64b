/* msgr-select.c: fee precedence, the selMsgNum gap rule, a round's candidates and appliedNonce
 * (spec 4.3-4.4, 5). */
#include "msgr-select.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "vc/util.h"

static double first_f(double a, double b, double c, double d)
{
    return a != 0 ? a : b != 0 ? b : c != 0 ? c : d;
}

static const vc_bigint_t *first_b(const vc_bigint_t *a, const vc_bigint_t *b, const vc_bigint_t *c,
                                  const vc_bigint_t *d)
{
    if (a && !vc_bigint_is_zero(a))
        return a;
    if (b && !vc_bigint_is_zero(b))
        return b;
    if (c && !vc_bigint_is_zero(c))
        return c;
    return d;
}

void msgr_fee_merge(const msgr_send_spec_t *meta, const msgr_fee_spec_t *addr, const msgr_fee_spec_t *actor,
                    const msgr_fee_spec_t *shared, msgr_merged_fee_t *ret)
{
    static const msgr_fee_spec_t zero_fee;
    static const msgr_send_spec_t zero_meta;
    if (!meta)
        meta = &zero_meta;
    if (!addr)
        addr = &zero_fee;
    if (!actor)
        actor = &zero_fee;
    if (!shared)
        shared = &zero_fee;
    memset(ret, 0, sizeof(*ret));
    ret->gas_over_estimation = first_f(meta->gas_over_estimation, addr->gas_over_estimation,
                                       actor->gas_over_estimation, shared->gas_over_estimation);
    ret->gas_over_premium =
        first_f(meta->gas_over_premium, addr->gas_over_premium, actor->gas_over_premium, shared->gas_over_premium);
    ret->max_fee = *first_b(&meta->max_fee, &addr->max_fee, &actor->max_fee, &shared->max_fee);
    ret->gas_fee_cap = *first_b(NULL, &addr->gas_fee_cap, &actor->gas_fee_cap, &shared->gas_fee_cap);
    ret->base_fee = *first_b(NULL, &addr->base_fee, &actor->base_fee, &shared->base_fee);
}

bool msgr_fee_gate_blocks(const msgr_merged_fee_t *f, const vc_bigint_t *parent_base_fee)
{
    return !vc_bigint_is_zero(&f->base_fee) && parent_base_fee && vc_bigint_cmp(parent_base_fee, &f->base_fee) > 0;
}

uint64_t msgr_select_want(uint64_t addr_sel_msg_num, uint64_t shared_sel_msg_num, uint64_t db_nonce,
                          uint64_t chain_nonce)
{
    uint64_t sel = addr_sel_msg_num > 0 ? addr_sel_msg_num : shared_sel_msg_num;
    uint64_t gap = db_nonce > chain_nonce ? db_nonce - chain_nonce : 0;
    if (gap >= sel)
        return 0;
    uint64_t want = sel - gap;
    return want > MSGR_SELECT_MAX_NEW ? MSGR_SELECT_MAX_NEW : want;
}

typedef struct applied_msg {
    char from[VC_ADDRESS_STRLEN_MAX];
    uint64_t nonce;
    size_t pos; /* in the tipset */
} applied_msg_t;

struct msgr_applied {
    applied_msg_t *v; /* by (from, pos) */
    size_t n;
};

static int applied_cmp(const void *a, const void *b)
{
    const applied_msg_t *x = a, *y = b;
    int c = strcmp(x->from, y->from);
    return c ? c : (x->pos > y->pos) - (x->pos < y->pos);
}

int msgr_applied_new(const json_t *msgs_in_tipset, msgr_applied_t **ret)
{
    size_t i;
    json_t *e;
    *ret = NULL;
    if (msgs_in_tipset && !json_is_array(msgs_in_tipset) && !json_is_null(msgs_in_tipset))
        return VC_ETYPE;
    msgr_applied_t *a = calloc(1, sizeof(*a));
    size_t cap = json_array_size(msgs_in_tipset);
    if (!a || (cap && !(a->v = calloc(cap, sizeof(*a->v))))) {
        msgr_applied_free(a);
        return -ENOMEM;
    }
    json_array_foreach(msgs_in_tipset, i, e)
    {
        json_t *m = json_object_get(e, "Message");
        const char *f = json_string_value(json_object_get(m, "From"));
        json_t *n = json_object_get(m, "Nonce");
        applied_msg_t *x = &a->v[a->n];
        if (!f || !json_is_integer(n) || msgr_addr_canon(f, x->from) < 0)
            continue;
        x->nonce = (uint64_t)json_integer_value(n);
        x->pos = i;
        a->n++;
    }
    if (a->n)
        qsort(a->v, a->n, sizeof(*a->v), applied_cmp);
    *ret = a;
    return 0;
}

bool msgr_applied_get(const msgr_applied_t *a, const char *from, uint64_t *ret_nonce)
{
    size_t lo = 0, hi = a ? a->n : 0;
    while (lo < hi) { /* the first message of from */
        size_t mid = lo + (hi - lo) / 2;
        if (strcmp(a->v[mid].from, from) < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (!a || lo == a->n || !vc_streq(a->v[lo].from, from))
        return false;
    uint64_t next = a->v[lo].nonce + 1;
    for (size_t i = lo + 1; i < a->n && vc_streq(a->v[i].from, from); i++)
        if (a->v[i].nonce == next)
            next++;
    *ret_nonce = next;
    return true;
}

void msgr_applied_free(msgr_applied_t *a)
{
    if (!a)
        return;
    free(a->v);
    free(a);
}

bool msgr_push_error_ignorable(const char *err)
{
    return err &&
           (strstr(err, "minimum expected nonce") || strstr(err, "message with nonce already exists") ||
            strstr(err, "already in mpool") || strstr(err, "nonce too low"));
}

/* ---- a round's candidates ---- */

typedef struct cand_sender {
    const char *addr;
    size_t index; /* in the caller's array */
    char *ids[MSGR_SELECT_MAX_NEW];
    size_t n;
} cand_sender_t;

struct msgr_cands {
    cand_sender_t *by_addr; /* sorted by addr */
    size_t *slot;           /* caller's index -> by_addr index */
    size_t n;
};

static int cand_cmp(const void *a, const void *b)
{
    return strcmp(((const cand_sender_t *)a)->addr, ((const cand_sender_t *)b)->addr);
}

msgr_cands_t *msgr_cands_new(const msgr_address_t *addrs, size_t n)
{
    msgr_cands_t *c = calloc(1, sizeof(*c));
    if (!c || (n && (!(c->by_addr = calloc(n, sizeof(*c->by_addr))) || !(c->slot = calloc(n, sizeof(size_t)))))) {
        msgr_cands_free(c);
        return NULL;
    }
    c->n = n;
    for (size_t i = 0; i < n; i++)
        c->by_addr[i] = (cand_sender_t){.addr = addrs[i].addr, .index = i};
    if (n)
        qsort(c->by_addr, n, sizeof(*c->by_addr), cand_cmp);
    for (size_t i = 0; i < n; i++)
        c->slot[c->by_addr[i].index] = i;
    return c;
}

int msgr_cands_add(const char *from, const char *id, void *cands)
{
    msgr_cands_t *c = cands;
    cand_sender_t key = {.addr = from};
    if (!from || !id || c->n == 0)
        return 0;
    cand_sender_t *e = bsearch(&key, c->by_addr, c->n, sizeof(*c->by_addr), cand_cmp);
    if (!e || e->n == MSGR_SELECT_MAX_NEW)
        return 0;
    if (!(e->ids[e->n] = strdup(id)))
        return -ENOMEM;
    e->n++;
    return 0;
}

const char *const *msgr_cands_of(const msgr_cands_t *c, size_t i, size_t *ret_n)
{
    const cand_sender_t *e = &c->by_addr[c->slot[i]];
    *ret_n = e->n;
    return (const char *const *)e->ids;
}

void msgr_cands_free(msgr_cands_t *c)
{
    if (!c)
        return;
    for (size_t i = 0; c->by_addr && i < c->n; i++)
        for (size_t k = 0; k < c->by_addr[i].n; k++)
            free(c->by_addr[i].ids[k]);
    free(c->by_addr);
    free(c->slot);
    free(c);
}
