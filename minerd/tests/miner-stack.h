/*
 * miner-stack.h: the setup venus-miner's integration tests share, on top of msgr-stack.h (auth,
 * gateway, wallet, keys): venus-devnet in external-mining mode (1 s blocks) whose miners are
 * t01000.. owned by the first keys, one mock prover per miner, the miners bound to user "wal" in
 * venus-auth, a venus-miner repo and process, its CLI and API, and chain reads.
 */
#ifndef MINER_STACK_H
#define MINER_STACK_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "msgr-stack.h"
#include "vc/rpc.h"

#define MINER_STACK_MAX 3

extern const char *miner_bin;
extern int n_miners;
extern char mid[MINER_STACK_MAX][16]; /* "t01000".. */
extern pid_t prover_pid[MINER_STACK_MAX], miner_pid;
extern char miner_repo[600], miner_url[160], *miner_admin, miner_dsn[1024];

/* VENUS_*_BIN (msgr_stack_bins + VENUS_MINER_BIN), pg_dsn with --pg, n miners (<=
 * MINER_STACK_MAX) and their keys: 0, or -1 said. */
int miner_stack_init(int n);
/* venus-devnet in external mode: miner i has power_pct[i] % of the power; sets node_url, node_token. */
void start_devnet_external(const int *power_pct);
void start_prover_on(int i, const char *gw);
/* One prover process for miner i connected to both gateways (gw_url and gw2). */
void start_prover_both(int i, const char *gw2);
void start_prover(int i); /* on gw_url */
/* OpenMining for every miner, owned by "wal". */
void bind_miners(void);
/* `venus-miner init` against api (the devnet's URL or another address of it) with gw_url and,
 * when not NULL, gw2; sqlite in the repo, or a fresh PostgreSQL database with --pg (pg_dsn set).
 * Then 800 ms MinerOnceTimeout, the recorder on, a 2 s lease. */
void init_miner(const char *api, const char *gw2);
/* `venus-miner run --nosync` on miner_repo (log <tmp>/miner<N>.log): 0, or -1 when the api file
 * did not show up. Sets miner_url, miner_admin. */
int start_miner(void);
/* `venus-miner --repo miner_repo a0..a4` (NULL-terminated): exit code; stdout into *out; stderr
 * printed on failure, or into *err when err is not NULL. */
int run_cli(char **out, const char *a0, const char *a1, const char *a2, const char *a3, const char *a4);
int run_cli_err(char **out, char **err, const char *const *args);
/* Filecoin.<method> on the running venus-miner with the admin token; params stolen. */
int mcall_miner(const char *method, json_t *params, json_t **ret, vc_rpc_err_t *err);
/* GET /metrics of the running venus-miner (malloc'ed), NULL on failure. */
char *miner_metrics(void);

int64_t head_height(void);
bool wait_height(int64_t h, int timeout_s);
/* Blocks and summed WinCount per miner over heights [lo, hi]; per_height (optional, (hi-lo+1) *
 * n_miners entries) marks which heights had a block of which miner. */
void count_blocks(int64_t lo, int64_t hi, int blocks[MINER_STACK_MAX], int64_t wins[MINER_STACK_MAX],
                  bool *per_height);

#endif
