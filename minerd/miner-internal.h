/* miner-internal.h: the service object shared by miner-set.c, miner-mine.c, miner-winners.c. */
#ifndef MINER_INTERNAL_H
#define MINER_INTERNAL_H

#include <pthread.h>
#include <stdarg.h>

#include "miner.h"
#include "vc/address.h"
#include "vc/bigint.h"
#include "vc/workq.h"

#define MINER_USER_MAX 128

typedef struct miner_entry {
    char addr[VC_ADDRESS_STRLEN_MAX]; /* as printed with the network prefix */
    vc_address_t a;
    char id[64];                      /* venus-auth user id */
    char user[MINER_USER_MAX];        /* venus-auth user name: accounts=[user] for WalletSign */
    bool open;                        /* OpenMining in venus-auth */
    char *errs[MINER_ERR_RING];       /* ring, oldest first from err_head */
    size_t err_head, n_errs;
} miner_entry_t;

struct miner {
    miner_opts_t o;
    /* network (miner_load_network) */
    char net;                         /* 'f' or 't' */
    char network_name[64];
    int64_t block_delay_s;
    int64_t smoke_height;
    /* the known miners (venus-auth) and the mining set (open ones) */
    pthread_mutex_t lock;
    miner_entry_t *miners;
    size_t n_miners;
    /* threads */
    pthread_t loop_thread, refresh_thread;
    bool loop_started, refresh_started;
    pthread_mutex_t stop_lock;
    pthread_cond_t stop_cond;
    bool stopping;
    vc_workq_t *workers;
    /* metrics */
    vc_metric_t *m_blocks, *m_wins, *m_timeouts, *m_forks, *m_errors, *m_step, *m_election, *m_set;
};

/* A snapshot of one mining-set member, taken under the lock. */
typedef struct miner_ref {
    char addr[VC_ADDRESS_STRLEN_MAX];
    vc_address_t a;
    char user[MINER_USER_MAX];
} miner_ref_t;

/* The open miners (malloc'ed array; *ret_n may be 0). */
int miner_snapshot(miner_t *m, miner_ref_t **ret, size_t *ret_n);

/* Sleeps up to ms; returns true when the service is stopping. */
bool miner_sleep(miner_t *m, int64_t ms);
bool miner_is_stopping(miner_t *m);

/* One chain-node call through the pool; seed (may be NULL: the miner address for per-miner calls)
 * keeps a miner's calls on one node under OneBySeedRound. On failure *err (size errlen) gets
 * "<method>: <reason>". params stolen. ret_report (may be NULL) as vc_nodepool_call_report. */
int miner_rpc(miner_t *m, const char *method, json_t *params, const char *seed, json_t **ret, char *err,
              size_t errlen);
int miner_rpc_report(miner_t *m, const char *method, json_t *params, const char *seed, vc_nodepool_report_t *ret_report,
                     json_t **ret, char *err, size_t errlen);
/* The same on one node of its own (a fallback submit node). */
int miner_client_rpc(vc_client_t *c, const char *method, json_t *params, json_t **ret, char *err, size_t errlen);

/* The same through the gateway set: per-request failover to the next gateway on transport
 * errors and on "no channel / no connections" (the wallet or prover is on another gateway). */
int miner_gw_rpc(miner_t *m, const char *method, json_t *params, json_t **ret, char *err, size_t errlen);
/* A.3.2 DrawRandomness: blake2b-256(BE64(pers) || blake2b-256(rbase) || BE64(round) || entropy). */
void miner_draw_randomness(const uint8_t *rbase, size_t rlen, int64_t pers, int64_t round, const uint8_t *entropy,
                           size_t elen, uint8_t out[32]);
/* A VRF through the gateway: WalletSign(worker, [user], CBOR(DrawRandomParams), drawrandomparam).
 * *ret = the signature bytes (malloc'ed). */
int miner_vrf(miner_t *m, const char *worker, const char *user, const uint8_t *rbase, size_t rlen, int64_t pers,
              int64_t round, const uint8_t *entropy, size_t elen, uint8_t **ret, size_t *ret_len, char *err,
              size_t errlen);
/* CBOR(address) as a byte string (DrawRandomness entropy). */
int miner_addr_entropy(const vc_address_t *a, uint8_t *out, size_t size, size_t *ret_len);
/* The data of the beacon to use for round: last of mbi.BeaconEntries, else PrevBeaconEntry. */
int miner_rbase(const json_t *mbi, uint8_t **ret, size_t *ret_len);
/* big int from a JSON string ("123"). */
int miner_json_bigint(const json_t *j, vc_bigint_t *ret);

/* "2006-01-02 15:04:05" local time of now. */
void miner_now_str(char out[32]);

#endif
