/*
 * devnet-chain.h: venus-devnet's chain (spec/miner-and-node-api.md part B, DESIGN.md §6):
 * genesis, persistent chain state in sqlite, message pool with Lotus push rules, message
 * execution (transfers), base fee, beacon, block production and validation, reorg hooks, and
 * head-change notifications.
 *
 * The JSON-RPC layer (devnet-api.c) is thin: it parses positional params, calls these
 * functions, and writes what they return. So functions that answer an API method return the
 * exact JSON value of spec B.1/B.2 (json_t, new reference) and take already-parsed arguments.
 * Every function is thread-safe (one chain lock; readers may share it). Errors: negative errno /
 * VC_E*; when a function has an `err` out-parameter it receives a malloc'ed, user-facing message
 * (the JSON-RPC error text), e.g. "actor not found", "message nonce too low: 3 < 5".
 *
 * Tipset keys (tsk) are arrays of CIDs; an empty key (n == 0) means "the current head".
 * Addresses are printed with the network letter of the genesis network name ('f' when the
 * name is "mainnet", 't' otherwise), as Lotus does.
 */
#ifndef DEVNET_CHAIN_H
#define DEVNET_CHAIN_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "vc/address.h"
#include "vc/bigint.h"
#include "vc/cid.h"
#include "vc/message.h"

typedef struct dn_chain dn_chain_t;

/* ---------------------------------------------------------------- genesis */

typedef struct dn_genesis_account {
    vc_address_t address; /* f1 (secp256k1) or f3; with a key file the address comes from the key */
    vc_bigint_t balance;  /* attoFIL */
} dn_genesis_account_t;

typedef struct dn_genesis_miner {
    uint64_t id;          /* ID address number, e.g. 1000 for f01000 */
    vc_address_t owner;   /* key address (must also be an account) */
    vc_address_t worker;  /* key address (f1 or f3) that signs tickets, elections and blocks */
    vc_bigint_t power;    /* raw = quality-adjusted power in bytes */
    uint64_t sectors;     /* sector count */
    uint64_t sector_size; /* bytes, e.g. 2048 */
} dn_genesis_miner_t;

typedef struct dn_genesis {
    char network_name[64];     /* default "devnet" */
    int64_t block_time_ms;     /* default 4000 */
    int64_t propagation_ms;    /* default 1000 */
    uint64_t timestamp;        /* genesis block time (unix s); 0 = now */
    dn_genesis_account_t *accounts;
    size_t n_accounts;
    dn_genesis_miner_t *miners;
    size_t n_miners;
} dn_genesis_t;

/* Parses genesis.toml (see devnet/README or the example in the tests):
 *   NetworkName = "devnet"  BlockTime = "4s"  PropagationDelay = "1s"  Timestamp = 0
 *   [[Accounts]] Address = "t1..." (or KeyFile = "path" in the lotus hex-JSON export format)
 *                Balance = "1000000000000000000000"
 *   [[Miners]]   ID = 1000  Owner = "t1..."  Worker = "t1..."  Power = "10995116277760"
 *                Sectors = 2  SectorSize = 2048
 * *err names the line/key on failure. */
int dn_genesis_load(const char *path, dn_genesis_t *ret, char **err);
void dn_genesis_done(dn_genesis_t *g);

/* ---------------------------------------------------------------- lifecycle */

/* Creates <repo>/devnet.db from the genesis (refuses an existing one: -EEXIST). */
int dn_chain_init(const char *repo, const dn_genesis_t *g, char **err);
/* Opens an initialised repo; state (chain, actors, mpool) is as it was at the last stop. */
int dn_chain_open(const char *repo, dn_chain_t **ret, char **err);
dn_chain_t *dn_chain_free(dn_chain_t *c);

const char *dn_chain_network_name(const dn_chain_t *c);
char dn_chain_network_letter(const dn_chain_t *c);
int64_t dn_chain_block_time_ms(const dn_chain_t *c);
void dn_chain_set_block_time_ms(dn_chain_t *c, int64_t ms); /* admin hook; not persisted */
int64_t dn_chain_propagation_ms(const dn_chain_t *c);

/* ---------------------------------------------------------------- chain reads (JSON shapes of B.2) */

/* TipSet {"Cids","Blocks","Height"} of the head. */
int dn_chain_head(dn_chain_t *c, json_t **ret);
int64_t dn_chain_height(dn_chain_t *c);
/* -ENOENT "tipset not found" */
int dn_chain_get_tipset(dn_chain_t *c, const vc_cid_t *tsk, size_t n, json_t **ret);
/* The tipset at height, or the nearest earlier non-null one, on the chain of tsk (n=0: head).
 * -EINVAL when height is above tsk's height. */
int dn_chain_get_tipset_by_height(dn_chain_t *c, int64_t height, const vc_cid_t *tsk, size_t n, json_t **ret);
/* BlockHeader JSON. */
int dn_chain_get_block(dn_chain_t *c, const vc_cid_t *blk, json_t **ret);
/* [{"Cid","Message"}] of the parent tipset of blk, in execution order (null for genesis). */
int dn_chain_parent_messages(dn_chain_t *c, const vc_cid_t *blk, json_t **ret);
/* [{"ExitCode","Return","GasUsed","EventsRoot"}] one-to-one with dn_chain_parent_messages. */
int dn_chain_parent_receipts(dn_chain_t *c, const vc_cid_t *blk, json_t **ret);
/* [{"Cid","Message"}] included by the tipset's blocks. */
int dn_chain_messages_in_tipset(dn_chain_t *c, const vc_cid_t *tsk, size_t n, json_t **ret);
/* Message JSON (unsigned form) by message CID or signed CID. */
int dn_chain_get_message(dn_chain_t *c, const vc_cid_t *msg, json_t **ret);

/* ---------------------------------------------------------------- state */

/* {"Code","Head","Nonce","Balance","DelegatedAddress"}; -ENOENT "actor not found". */
int dn_state_get_actor(dn_chain_t *c, const vc_address_t *a, const vc_cid_t *tsk, size_t n, json_t **ret);
/* Key address of an account (f0 -> f1/f3); the key address itself for f1/f3. */
int dn_state_account_key(dn_chain_t *c, const vc_address_t *a, const vc_cid_t *tsk, size_t n, json_t **ret);
int dn_state_lookup_id(dn_chain_t *c, const vc_address_t *a, const vc_cid_t *tsk, size_t n, json_t **ret);
/* MsgLookup {"Message","Receipt","ReturnDec","TipSet","Height"} or JSON null when not found
 * within limit epochs back (-1 = no limit) from tsk. allow_replaced: a message with the same
 * (from, nonce) but another CID counts, and "Message" is then its CID. */
int dn_state_search_msg(dn_chain_t *c, const vc_cid_t *tsk, size_t n, const vc_cid_t *msg, int64_t limit,
                        bool allow_replaced, json_t **ret);
int dn_state_miner_power(dn_chain_t *c, const vc_address_t *miner, const vc_cid_t *tsk, size_t n, json_t **ret);
int dn_state_miner_info(dn_chain_t *c, const vc_address_t *miner, const vc_cid_t *tsk, size_t n, json_t **ret);

/* Proving deadlines per proving period (WPoStPeriodDeadlines). */
#define DN_WPOST_PERIOD_DEADLINES 48

/*
 * A genesis miner's sectors, as venus-miner's warmup reads them (spec A.3.7, Lotus JSON
 * shapes). Devnet layout: sectors 0..Sectors-1 all sit active in deadline 0, partition 0, and
 * there is no window PoSt. Bitfields use go-bitfield's JSON: run lengths starting with a run of
 * unset bits, so sectors {0..n-1} are [0,n] and the empty set is [0].
 * Errors set *err: -ENOENT "tipset not found" or "failed to load miner actor <addr>: actor not
 * found" (only genesis miners exist).
 */
/* 48 x {"PostSubmissions":[0],"DisputableProofCount":0,"DailyFee":"0"}. */
int dn_state_miner_deadlines(dn_chain_t *c, const vc_address_t *miner, const vc_cid_t *tsk, size_t n, json_t **ret,
                             char **err);
/* [{"AllSectors","FaultySectors","RecoveringSectors","LiveSectors","ActiveSectors"}] of deadline
 * dl_idx; JSON null when it has no partitions (Lotus returns a nil slice). -EINVAL (*err set)
 * when dl_idx is outside 0..DN_WPOST_PERIOD_DEADLINES-1. */
int dn_state_miner_partitions(dn_chain_t *c, const vc_address_t *miner, int64_t dl_idx, const vc_cid_t *tsk,
                              size_t n, json_t **ret, char **err);
/* SectorOnChainInfo {"SectorNumber","SealProof","SealedCID","Activation","Expiration",
 * "DealWeight",...} (SealedCID as in MinerGetBaseInfo), or JSON null when the miner has no
 * such sector. */
int dn_state_sector_get_info(dn_chain_t *c, const vc_address_t *miner, uint64_t number, const vc_cid_t *tsk,
                             size_t n, json_t **ret, char **err);

int dn_state_network_version(dn_chain_t *c, json_t **ret);  /* a fixed version, e.g. 21 */
int dn_state_network_params(dn_chain_t *c, json_t **ret);   /* StateGetNetworkParams */
/* {"Round","Data"}: the mock beacon of B.3.6 (blake2b-256 of the big-endian round). */
int dn_beacon_entry(dn_chain_t *c, int64_t epoch, json_t **ret);
int dn_wallet_balance(dn_chain_t *c, const vc_address_t *a, json_t **ret); /* "0" for unknown */

/* ---------------------------------------------------------------- gas */

/* msg_json: Message JSON; spec_json: MessageSendSpec or null. Returns the Message with
 * GasLimit/GasPremium/GasFeeCap filled (rules of B.4). */
int dn_gas_estimate_message_gas(dn_chain_t *c, json_t *msg_json, json_t *spec_json, json_t **ret, char **err);
/* [{"Msg","Spec"}], fromNonce -> [{"Msg","Err"}] */
int dn_gas_batch_estimate(dn_chain_t *c, json_t *estimates, uint64_t from_nonce, json_t **ret, char **err);
int dn_gas_estimate_fee_cap(dn_chain_t *c, json_t *msg_json, int64_t maxqueueblks, json_t **ret, char **err);
int dn_gas_estimate_premium(dn_chain_t *c, uint64_t nblocksincl, json_t **ret);

/* ---------------------------------------------------------------- message pool */

/* Verifies and adds a signed message (signature and key, nonce not below the actor's, gap
 * rules: <= 4 ahead when trusted, none when untrusted, balance >= value + gaslimit*feecap,
 * size <= 64 KiB, RBF: same nonce needs premium >= old * 1.25). On error nothing changes and
 * *err says why. Returns the signed CID (secp) / message CID (bls). */
int dn_mpool_push(dn_chain_t *c, const vc_signed_message_t *sm, bool untrusted, vc_cid_t *ret_cid, char **err);
/* Pushes in order and stops at the first refused message (like Lotus MpoolBatchPush): the
 * ones before it are admitted and persisted in one transaction; *ret_done counts them and
 * ret_cids[0..done) are their CIDs. Returns 0 when all were admitted, else the refusal. */
int dn_mpool_push_batch(dn_chain_t *c, const vc_signed_message_t *sms, size_t n, bool untrusted, vc_cid_t *ret_cids,
                        size_t *ret_done, char **err);
/* Next nonce for addr counting pending messages. */
int dn_mpool_get_nonce(dn_chain_t *c, const vc_address_t *a, uint64_t *ret);
int dn_mpool_config(dn_chain_t *c, json_t **ret);
/* [SignedMessage] pending (tsk ignored: the pool is global). */
int dn_mpool_pending(dn_chain_t *c, json_t **ret);
/* One list of SignedMessage per ticket quality, best premium first, nonces in order per
 * sender, at most the block limits. */
int dn_mpool_selects(dn_chain_t *c, const vc_cid_t *tsk, size_t n, const double *tq, size_t ntq, json_t **ret);

/* ---------------------------------------------------------------- mining */

typedef enum dn_mine_mode {
    DN_MINE_SELF,     /* the node makes one block per epoch itself */
    DN_MINE_EXTERNAL, /* blocks only come from MinerCreateBlock + SyncSubmitBlock */
} dn_mine_mode_t;

/* MiningBaseInfo for miner at round on tsk, or JSON null when the miner is unknown. */
int dn_miner_get_base_info(dn_chain_t *c, const vc_address_t *miner, int64_t round, const vc_cid_t *tsk, size_t n,
                           json_t **ret);
/* BlockTemplate JSON -> BlockMsg JSON (header unsigned: BlockSig null). */
int dn_miner_create_block(dn_chain_t *c, json_t *template_json, json_t **ret, char **err);
/* Validates a BlockMsg (parents known, height, ticket/election by the win-count rule with a
 * secp256k1 or BLS-typed VRF, block signature by the worker when secp256k1, messages known and
 * valid) and adds it to the tipset being collected for its height. */
int dn_sync_submit_block(dn_chain_t *c, json_t *blockmsg_json, char **err);

/*
 * Runs the epoch clock: every block time, closes the epoch: in self mode makes a block from
 * the mpool (miner = the first genesis miner); in external mode takes the blocks submitted for
 * that epoch (none = null round); executes the parent tipset's messages, advances the head and
 * notifies subscribers. Returns after dn_chain_stop. Call from a dedicated thread.
 */
int dn_chain_run(dn_chain_t *c, dn_mine_mode_t mode);
/* Closes one epoch now (as the clock would), in the current mode; subscribers are notified
 * before it returns. For tests and admin calls. */
int dn_chain_step(dn_chain_t *c);
/* Mining mode used by dn_chain_step (dn_chain_run sets it too); default DN_MINE_SELF. */
void dn_chain_set_mode(dn_chain_t *c, dn_mine_mode_t mode);
/* The epoch being collected (the next one to close): head height + 1 plus null rounds. */
int64_t dn_chain_epoch(dn_chain_t *c);
void dn_chain_stop(dn_chain_t *c);
void dn_chain_pause(dn_chain_t *c, bool paused); /* admin hook */
/* Admin hook: reverts the head by n tipsets and builds an alternative chain of the same
 * length (different tickets/timestamps; messages go back to the mpool and are re-included),
 * notifying subscribers with reverts then applies. */
int dn_chain_revert(dn_chain_t *c, int n, char **err);

/* SyncState JSON with one ActiveSyncs entry (Stage 4 = complete, Base = Target = head). */
int dn_sync_state(dn_chain_t *c, json_t **ret);

/* ---------------------------------------------------------------- head changes */

/* Called (outside the chain lock, on the epoch thread) with a JSON array of HeadChange
 * {"Type":"revert"|"apply","Val":TipSet}: reverts first from the old head down, then applies
 * in ascending height. The callback must not block for long, nor subscribe or unsubscribe.
 * dn_chain_unsubscribe waits for a callback of that subscriber already under way: once it
 * returns, the subscriber's userdata may be freed. */
typedef void (*dn_head_fn)(json_t *changes, void *userdata);
int dn_chain_subscribe(dn_chain_t *c, dn_head_fn fn, void *userdata, uint64_t *ret_id);
void dn_chain_unsubscribe(dn_chain_t *c, uint64_t id);

#endif
