/*
 * msgr-select.h: the pure parts of the selection round (spec/messager.md 4.3, 4.4, 5), kept
 * apart from the service so they are unit-tested without a node.
 */
#ifndef MSGR_SELECT_H
#define MSGR_SELECT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "msgr-types.h"

/* Maximum new messages per address per round (spec 4.4 step 6). */
#define MSGR_SELECT_MAX_NEW 100

/* The fee spec a candidate is estimated with (spec 5). */
typedef struct msgr_merged_fee {
    double gas_over_estimation;
    vc_bigint_t max_fee;
    double gas_over_premium;
    vc_bigint_t gas_fee_cap; /* 0 = let the node estimate (used only when the message has none) */
    vc_bigint_t base_fee;    /* 0 = no gate */
} msgr_merged_fee_t;

/* Precedence: GasOverEstimation / MaxFee / GasOverPremium: meta > address > actor cfg > shared;
 * GasFeeCap and BaseFee: address > actor cfg > shared. Zero means unset at every level. meta,
 * addr and actor may be NULL. */
void msgr_fee_merge(const msgr_send_spec_t *meta, const msgr_fee_spec_t *addr, const msgr_fee_spec_t *actor,
                    const msgr_fee_spec_t *shared, msgr_merged_fee_t *ret);

/* The BaseFee gate: true when the message must wait (a gate is set and the parent base fee is
 * above it). */
bool msgr_fee_gate_blocks(const msgr_merged_fee_t *f, const vc_bigint_t *parent_base_fee);

/* How many new messages an address may get this round: selMsgNum (address value if > 0, else
 * shared) minus the gap between the DB nonce and the chain nonce, capped at
 * MSGR_SELECT_MAX_NEW; 0 when the gap is already >= selMsgNum. */
uint64_t msgr_select_want(uint64_t addr_sel_msg_num, uint64_t shared_sel_msg_num, uint64_t db_nonce,
                          uint64_t chain_nonce);

/* A round's candidates (spec 4.4 step 6): for each of the round's senders, the ids of its newest
 * unfilled messages, at most MSGR_SELECT_MAX_NEW, newest first. Filled from one scan of every
 * unfilled row (msgr_store_msg_unfilled_scan with msgr_cands_add), so that a round reads the
 * unfilled index once, not once per sender. */
typedef struct msgr_cands msgr_cands_t;
/* The round's addresses (their canonical "f..." addr strings are kept by reference while the
 * set lives). NULL on ENOMEM. */
msgr_cands_t *msgr_cands_new(const msgr_address_t *addrs, size_t n);
/* msgr_unfilled_fn: records id for from when from is a sender of the set and has fewer than
 * MSGR_SELECT_MAX_NEW; -ENOMEM on failure. */
int msgr_cands_add(const char *from, const char *id, void *cands);
/* Sender i's ids, newest first (*ret_n of them). */
const char *const *msgr_cands_of(const msgr_cands_t *c, size_t i, size_t *ret_n);
void msgr_cands_free(msgr_cands_t *c);

/* True for a MpoolBatchPushUntrusted error that only says the node has the message already or
 * is past its nonce (spec 4.5: ignored, not written to the messages). */
bool msgr_push_error_ignorable(const char *err);

/* appliedNonce (spec 4.3), for every sender of a tipset at once: from the messages of the
 * tipset (ChainGetMessagesInTipset result, [{Cid, Message}], NULL = none), each sender's nonce
 * after the consecutive run starting at its first message. Built once per round (each From is
 * parsed once), then read per sender. VC_ETYPE when the result is not an array. */
typedef struct msgr_applied msgr_applied_t;
int msgr_applied_new(const json_t *msgs_in_tipset, msgr_applied_t **ret);
/* false when from (canonical "f..." string) sent nothing in the tipset; a may be NULL. */
bool msgr_applied_get(const msgr_applied_t *a, const char *from, uint64_t *ret_nonce);
void msgr_applied_free(msgr_applied_t *a);

#endif
