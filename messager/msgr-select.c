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

int msgr_applied_nonce(const json_t *msgs_in_tipset, const char *from, uint64_t *ret_nonce, bool *ret_found)
{
    size_t i;
    json_t *e;
    bool found = false;
    uint64_t next = 0;
    if (msgs_in_tipset && !json_is_array(msgs_in_tipset) && !json_is_null(msgs_in_tipset))
        return VC_ETYPE;
    json_array_foreach(msgs_in_tipset, i, e)
    {
        json_t *m = json_object_get(e, "Message");
        const char *f = json_string_value(json_object_get(m, "From"));
        json_t *n = json_object_get(m, "Nonce");
        char canon[VC_ADDRESS_STRLEN_MAX];
        if (!f || !json_is_integer(n) || msgr_addr_canon(f, canon) < 0 || !vc_streq(canon, from))
            continue;
        uint64_t nonce = (uint64_t)json_integer_value(n);
        if (!found) {
            found = true;
            next = nonce + 1;
        } else if (nonce == next) {
            next++;
        }
    }
    *ret_found = found;
    if (found)
        *ret_nonce = next;
    return 0;
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

msgr_cands_t *msgr_cands_new(const char *const *senders, size_t n)
{
    msgr_cands_t *c = calloc(1, sizeof(*c));
    if (!c || (n && (!(c->by_addr = calloc(n, sizeof(*c->by_addr))) || !(c->slot = calloc(n, sizeof(size_t)))))) {
        msgr_cands_free(c);
        return NULL;
    }
    c->n = n;
    for (size_t i = 0; i < n; i++)
        c->by_addr[i] = (cand_sender_t){.addr = senders[i], .index = i};
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
