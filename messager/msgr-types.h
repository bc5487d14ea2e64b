/*
 * msgr-types.h: venus-messager's data types (sophon-messager `mtypes`) and their exact JSON,
 * spec/messager.md sections 1 and 3.
 *
 * Encoders build jansson values whose key order is the Go struct order. Print them with
 * vc_json_format_go(out, v, NULL, NULL) (vc/cli.h) to get Go's number formatting (floats
 * "1.25", "0"); json_dumps prints 0.0 for a zero float.
 *   - addresses always with the 'f' prefix ("<empty>" for an undefined one);
 *   - big ints as decimal strings; CIDs {"/":..} or null; bytes base64 or null;
 *   - times (unix nanoseconds) as RFC3339Nano in the local zone; 0 stands for Go's zero time
 *     and is written "0001-01-01T00:00:00Z" (and parsed back to 0).
 *
 * Decoders follow encoding/json: unknown keys are ignored, a missing key or a JSON null leaves
 * the field at its zero value, a value of the wrong JSON type is an error (VC_ETYPE), a string
 * that does not parse (address, big int, CID, base64, time) is VC_EPARSE, an integer out of the
 * field's range -ERANGE. On error nothing is written to *ret and msgr_types_errmsg() names the
 * field ("json: cannot unmarshal string into Go struct field Message.Nonce of type uint64").
 * Decoders check types only; value rules (negative amounts, absurd gas) are in
 * msgr_chain_message_check().
 *
 * Ownership: every struct owns its strings/arrays; release with the matching *_done(). A
 * zeroed struct is valid and empty (msgr_message_init gives the Receipt its -1 exit code).
 */
#ifndef MSGR_TYPES_H
#define MSGR_TYPES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "vc/address.h"
#include "vc/bigint.h"
#include "vc/cid.h"
#include "vc/message.h"
#include "vc/signature.h"

/* Longest message id accepted (PushMessageWithId: "any string up to 256 chars"). */
#define MSGR_ID_MAX 256
/* Upper bound for GasLimit that selection accepts (spec 4.4 step 8). */
#define MSGR_GAS_LIMIT_MAX 10000000000LL
/* Longest error_msg stored (the column is varchar(2048) upstream). */
#define MSGR_ERRMSG_MAX 2048

/* Reason for the last decode / check failure on this thread. */
const char *msgr_types_errmsg(void);
/* Sets this thread's msgr_types_errmsg() (the library's other modules, msgr-builtin, share it);
 * returns r. */
int msgr_types_seterr(int r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* ---- MessageState (spec 3.2) ---- */
typedef enum msgr_msg_state {
    MSGR_MSG_UNKNOWN = 0,
    MSGR_MSG_UNFILL = 1,
    MSGR_MSG_FILL = 2,
    MSGR_MSG_ONCHAIN = 3,
    MSGR_MSG_FAILED = 4,
    MSGR_MSG_NONCE_CONFLICT = 5,
    MSGR_MSG_STATE_MAX,
} msgr_msg_state_t;

/* Go's MessageState.String(): "UnKnown", "UnFillMsg", "FillMsg", "OnChainMsg", "Failed",
 * "NonceConflictMsg"; anything else "UnKnown". */
const char *msgr_msg_state_name(int state);

/* ---- AddressState (spec 3.4) ---- */
typedef enum msgr_addr_state {
    MSGR_ADDR_ALIVE = 1,
    MSGR_ADDR_REMOVING = 2,
    MSGR_ADDR_REMOVED = 3,
    MSGR_ADDR_FORBIDDEN = 4,
    MSGR_ADDR_STATE_MAX,
} msgr_addr_state_t;
/* "Alive", "Removing", "Removed", "Forbbiden" (sic), else "unknown state <n>" in buf. */
const char *msgr_addr_state_name(int state, char buf[32]);

/* ---- SendSpec: the push `meta` ---- */
typedef struct msgr_send_spec {
    int64_t expire_epoch; /* 0 = none; enforced by us (spec 10), see msgr_store_msg_fail_expired */
    double gas_over_estimation;
    vc_bigint_t max_fee;
    double gas_over_premium;
} msgr_send_spec_t;

/* ---- FeeSpec (flattened into SharedSpec, Address, ActorCfg) ---- */
typedef struct msgr_fee_spec {
    double gas_over_estimation;
    vc_bigint_t max_fee;
    vc_bigint_t gas_fee_cap;
    double gas_over_premium;
    vc_bigint_t base_fee;
} msgr_fee_spec_t;

/* ---- SharedSpec ---- */
typedef struct msgr_shared_spec {
    uint64_t id; /* always 1 */
    uint64_t sel_msg_num;
    msgr_fee_spec_t fee;
} msgr_shared_spec_t;

/* The defaults the migration inserts (spec 3.4): selMsgNum 20, gasOverEstimation 1.25,
 * maxFee 0.07 FIL. */
void msgr_shared_spec_default(msgr_shared_spec_t *ret);

/* ---- Receipt ---- */
typedef struct msgr_receipt {
    int64_t exit_code; /* -1 = not on chain */
    uint8_t *ret;      /* Return, NULL = null */
    size_t ret_len;
    int64_t gas_used;
} msgr_receipt_t;

/* ---- Message (mtypes.Message) ---- */
typedef struct msgr_message {
    char *id;
    vc_cid_t unsigned_cid; /* len 0 = null */
    vc_cid_t signed_cid;   /* len 0 = null */
    vc_message_t msg;      /* the chain message (owns params) */
    bool has_signature;
    vc_signature_t signature;
    int64_t height;
    msgr_receipt_t receipt;
    vc_cid_t *tsk; /* TipSetKey, n_tsk CIDs */
    size_t n_tsk;
    msgr_send_spec_t meta;
    char *wallet_name;
    int state; /* msgr_msg_state_t */
    char *error_msg;
    int64_t created_ns;
    int64_t updated_ns;
} msgr_message_t;

/* Zeroes m and sets receipt.exit_code = -1. */
void msgr_message_init(msgr_message_t *m);
void msgr_message_done(msgr_message_t *m);
void msgr_messages_free(msgr_message_t *v, size_t n);
int msgr_message_copy(const msgr_message_t *m, msgr_message_t *ret);
/* Setters that copy (NULL clears). */
int msgr_message_set_id(msgr_message_t *m, const char *id);
int msgr_message_set_wallet(msgr_message_t *m, const char *wallet_name);
int msgr_message_set_error(msgr_message_t *m, const char *error_msg);
int msgr_message_set_tsk(msgr_message_t *m, const vc_cid_t *cids, size_t n);
int msgr_message_set_return(msgr_message_t *m, const uint8_t *data, size_t len);

/* The wire JSON of spec 3.1 in its key order. confidence is computed by the caller (head
 * height - Height for OnChain / NonceConflict, else 0). */
int msgr_message_to_json(const msgr_message_t *m, int64_t confidence, json_t **ret);
/* Reads the wire JSON back (a client reading the server's answer). "CID" and "Confidence"
 * are ignored (*ret_confidence, optional, gets the latter). */
int msgr_message_from_json(const json_t *j, msgr_message_t *ret, int64_t *ret_confidence);
/* PushMessage input: a plain types.Message {"Version","To","From","Nonce","Value","GasLimit",
 * "GasFeeCap","GasPremium","Method","Params"[,"CID" ignored]}. To and From are required. */
int msgr_chain_message_from_json(const json_t *j, vc_message_t *ret);
/* Value rules for a pushed message: To/From defined, Value/GasFeeCap/GasPremium >= 0,
 * 0 <= GasLimit <= MSGR_GAS_LIMIT_MAX, Nonce/Method within int64 (-EINVAL + errmsg). */
int msgr_chain_message_check(const vc_message_t *m);

/* TipSetKey text form used in the messages.tipset_key column: "{ c1 c2 }" ("{ }" if empty). */
int msgr_tsk_to_text(const vc_cid_t *cids, size_t n, char **ret);
/* Accepts "", "{}", "{ }", "{ c1 c2 }". *ret malloc'ed (NULL when empty). */
int msgr_tsk_from_text(const char *s, vc_cid_t **ret, size_t *ret_n);
json_t *msgr_tsk_to_json(const vc_cid_t *cids, size_t n);
int msgr_tsk_from_json(const json_t *j, vc_cid_t **ret, size_t *ret_n);

/* ---- Address ---- */
typedef struct msgr_address {
    char id[37];     /* uuid */
    char *addr;      /* "f1..." */
    uint64_t nonce;  /* the next nonce to assign */
    int64_t weight;  /* unused, 0 */
    int state;       /* msgr_addr_state_t */
    uint64_t sel_msg_num; /* 0 = use the shared value */
    msgr_fee_spec_t fee;
    int is_deleted;  /* -1 live, 1 deleted */
    int64_t created_ns;
    int64_t updated_ns;
} msgr_address_t;
void msgr_address_done(msgr_address_t *a);
void msgr_addresses_free(msgr_address_t *v, size_t n);
int msgr_address_to_json(const msgr_address_t *a, json_t **ret);
int msgr_address_from_json(const json_t *j, msgr_address_t *ret);

/* ---- AddressSpec (SetFeeParams) ---- */
typedef struct msgr_address_spec {
    char *address; /* canonical "f..." */
    double gas_over_estimation; /* 0 = unchanged */
    double gas_over_premium;    /* 0 = unchanged */
    bool has_max_fee, has_gas_fee_cap, has_base_fee; /* the *Str fields were non-empty */
    vc_bigint_t max_fee, gas_fee_cap, base_fee;
} msgr_address_spec_t;
void msgr_address_spec_done(msgr_address_spec_t *a);
/* "maxFeeStr" etc. are decimal attoFIL strings parsed when non-empty. */
int msgr_address_spec_from_json(const json_t *j, msgr_address_spec_t *ret);
int msgr_address_spec_to_json(const msgr_address_spec_t *a, json_t **ret);

/* ---- ActorCfg ---- */
typedef struct msgr_actor_cfg {
    char id[37];
    int64_t actor_version; /* "version" */
    vc_cid_t code;
    uint64_t method;
    msgr_fee_spec_t fee;
    int64_t created_ns;
    int64_t updated_ns;
} msgr_actor_cfg_t;
int msgr_actor_cfg_to_json(const msgr_actor_cfg_t *a, json_t **ret);
int msgr_actor_cfg_from_json(const json_t *j, msgr_actor_cfg_t *ret);

/* ---- ChangeGasSpecParams (UpdateActorCfg): only present fields apply ---- */
typedef struct msgr_change_gas_spec {
    bool has_gas_over_estimation, has_max_fee, has_gas_fee_cap, has_gas_over_premium, has_base_fee;
    double gas_over_estimation;
    vc_bigint_t max_fee;
    vc_bigint_t gas_fee_cap;
    double gas_over_premium;
    vc_bigint_t base_fee;
} msgr_change_gas_spec_t;
int msgr_change_gas_spec_from_json(const json_t *j, msgr_change_gas_spec_t *ret);
int msgr_change_gas_spec_to_json(const msgr_change_gas_spec_t *c, json_t **ret);

int msgr_send_spec_to_json(const msgr_send_spec_t *s, json_t **ret);
/* null -> zeros (ret_present false). */
int msgr_send_spec_from_json(const json_t *j, msgr_send_spec_t *ret, bool *ret_present);
int msgr_shared_spec_to_json(const msgr_shared_spec_t *s, json_t **ret);
int msgr_shared_spec_from_json(const json_t *j, msgr_shared_spec_t *ret);

/* ---- ReplacMessageParams (sic) ---- */
typedef struct msgr_replace_params {
    char *id;
    bool auto_;
    vc_bigint_t max_fee;
    int64_t gas_limit;
    vc_bigint_t gas_premium;
    vc_bigint_t gas_fee_cap; /* "GasFeecap" */
    double gas_over_premium;
} msgr_replace_params_t;
void msgr_replace_params_done(msgr_replace_params_t *p);
int msgr_replace_params_from_json(const json_t *j, msgr_replace_params_t *ret);
int msgr_replace_params_to_json(const msgr_replace_params_t *p, json_t **ret);

/* ---- MsgQueryParams ---- */
typedef struct msgr_query_params {
    int *states;
    size_t n_states;
    char **from; /* canonical "f..." */
    size_t n_from;
    bool has_by_update_at;
    int64_t by_update_at_ns; /* updated_at >= this */
    bool asc;
    uint64_t limit;  /* 0 = none */
    uint64_t offset; /* 0 = none */
} msgr_query_params_t;
void msgr_query_params_done(msgr_query_params_t *q);
int msgr_query_params_from_json(const json_t *j, msgr_query_params_t *ret);
int msgr_query_params_to_json(const msgr_query_params_t *q, json_t **ret);

/* ---- QuickSendParams ---- */
typedef struct msgr_quick_send {
    vc_address_t to;
    vc_address_t from;
    vc_bigint_t val;
    char *account;
    bool has_gas_premium, has_gas_fee_cap, has_gas_limit;
    vc_bigint_t gas_premium;
    vc_bigint_t gas_fee_cap;
    int64_t gas_limit;
    uint64_t method;
    char *params;
    char *params_type; /* "json" | "hex" (checked by the service) */
} msgr_quick_send_t;
void msgr_quick_send_done(msgr_quick_send_t *q);
int msgr_quick_send_from_json(const json_t *j, msgr_quick_send_t *ret);
int msgr_quick_send_to_json(const msgr_quick_send_t *q, json_t **ret);

/* ---- Node ---- */
typedef enum msgr_node_type {
    MSGR_NODE_FULL = 1,
    MSGR_NODE_LIGHT = 2,
} msgr_node_type_t;
typedef struct msgr_node {
    char id[37];
    char *name;
    char *url;
    char *token;
    int type;
    int64_t created_ns;
    int64_t updated_ns;
} msgr_node_t;
void msgr_node_done(msgr_node_t *n);
void msgr_nodes_free(msgr_node_t *v, size_t n);
int msgr_node_to_json(const msgr_node_t *n, json_t **ret);
int msgr_node_from_json(const json_t *j, msgr_node_t *ret);

/* Shared JSON helpers (used by the RPC layer too). */
json_t *msgr_time_to_json(int64_t unix_ns);
json_t *msgr_bigint_to_json(const vc_bigint_t *v);
json_t *msgr_address_str_to_json(const vc_address_t *a); /* "f..." / "<empty>" */
/* Canonical 'f' string of an address string ("t1.." -> "f1.."); -EINVAL + errmsg if bad. */
int msgr_addr_canon(const char *s, char out[VC_ADDRESS_STRLEN_MAX]);

#endif
