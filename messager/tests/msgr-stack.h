/*
 * msgr-stack.h: the parts of a venus-messager integration test that every such test shares:
 * the binaries (from VENUS_*_BIN), the real venus-auth (users "wal" with a sign token and "mu"
 * with a write token) and venus-gateway, JSON-RPC calls to the messager and the devnet, and a
 * clean stop of every daemon, and the rest of the stack: sender keys, venus-wallet, venus-devnet
 * and venus-messager (restartable on the same repo and database).
 */
#ifndef MSGR_STACK_H
#define MSGR_STACK_H

#include <jansson.h>
#include <sys/types.h>

#include <stdbool.h>
#include <stdint.h>

#include "vc/address.h"
#include "vc/rpc.h"

extern const char *auth_bin, *gw_bin, *wallet_bin, *devnet_bin, *msgr_bin, *pg_dsn;
extern char auth_url[128], gw_url[128], gw_maddr[128], node_url[128], msgr_url[160];
extern char *auth_admin, *gw_admin, *node_token, *msgr_admin, *wal_tok, *mu_tok;
/* The --auth-url given to venus-gateway and venus-messager (NULL = auth_url): a test may list
 * a dead venus-auth first to exercise the failover. */
extern const char *daemon_auth_urls;
/* The --node-url and --gateway-url given to venus-messager (NULL = node_url, gw_url). */
extern const char *daemon_node_url, *daemon_gw_url;
extern pid_t auth_pid, gw_pid, wallet_pid, devnet_pid, msgr_pid;

/* The senders: n_keys secp256k1 keys (deterministic), their f-addresses, their key files (lotus
 * export format), all funded in the devnet's genesis and held by the wallet; bob is a fresh
 * address that receives the transfers. */
#define MSGR_STACK_KEYS 10
extern int n_keys;
extern uint8_t keys[MSGR_STACK_KEYS][32];
extern char addrs[MSGR_STACK_KEYS][VC_ADDRESS_STRLEN_MAX], bob[VC_ADDRESS_STRLEN_MAX];
extern char key_files[MSGR_STACK_KEYS][600];

/* Reads the VENUS_{AUTH,GATEWAY,WALLET,DEVNET,MESSAGER}_BIN environment: 0, or -1 said. */
int msgr_stack_bins(void);
/* Prints "setup failed: what" with the log directory and exits 2. */
_Noreturn void die(const char *what);
/* A small file, trailing newline/space trimmed; NULL if unreadable. */
char *read_trim(const char *path);
/* One REST call: the HTTP status (0 when unreachable); *ret_body (optional) gets the body. */
long rest(const char *base, const char *token, const char *method, const char *path, const char *body,
          char **ret_body);
/* A venus-auth token for user with perm, or NULL. */
char *gen_token(const char *user, const char *perm);
/* Message.<method> on the messager with token; params stolen. */
int mcall(const char *token, const char *method, json_t *params, json_t **ret, vc_rpc_err_t *err);
/* The same on the messager at url (".../rpc/v0"), bounded by timeout_ms. */
int mcall_at(const char *url, const char *token, const char *method, json_t *params, json_t **ret, vc_rpc_err_t *err,
             int timeout_ms);
/* <method> on the devnet (/rpc/v1, node_token); params stolen; the error is printed. */
int dcall(const char *method, json_t *params, json_t **ret);
/* The same on another node. */
int dcall_at(const char *url, const char *token, const char *method, json_t *params, json_t **ret);
/* Message.PushMessage of msg (stolen) with wal_tok; the new id into id. */
int push_id(json_t *msg, char id[64]);
void make_keys(int n); /* n <= MSGR_STACK_KEYS */
void start_auth(void);
void start_gateway(void);
/* venus-wallet holding every sender key, registered to the gateway as user "wal"; returns once
 * venus-auth knows each signer. */
void start_wallet(void);
/* venus-devnet: 200 ms blocks, every sender funded, miner t01000. */
void start_devnet(void);
/* Another venus-devnet from the same genesis (after start_devnet) on <tmp>/<name>: a chain of
 * its own where the senders are funded too. */
void start_devnet_copy(const char *name, char url[128], char **ret_token, pid_t *ret_pid);
/* Spawns venus-messager on <tmp>/messager with its log at <tmp>/log_name (path into log). */
pid_t spawn_messager(const char *log_name, char log[600]);
/* The same on <tmp>/<name>, extra_conf (may be NULL) appended to its config.toml. */
pid_t spawn_messager_in(const char *name, const char *extra_conf, const char *log_name, char log[600]);
/* spawn_messager and wait for its api file; sets msgr_url and msgr_admin. -1 if it did not start. */
int start_messager(void);
/* spawn_messager_in (log <tmp>/<name>-<n>.log) and wait for its api file: *ret_pid, its RPC URL
 * and its admin token (*ret_token is freed first). -1 if it did not start. */
int start_messager_in(const char *name, const char *extra_conf, pid_t *ret_pid, char url[160], char **ret_token);
/* SIGTERM and wait (a failure is counted if the daemon does not exit 0); *pid is cleared. */
void stop_clean(const char *name, pid_t *pid);
/* `venus-messager --repo <tmp>/<name> node-pool a0 ...` (NULL ends the args): the exit code,
 * stdout in *out (malloc'ed); stderr is printed on failure. */
int msgr_pool_cli(const char *name, char **out, const char *a0, const char *a1, const char *a2, const char *a3,
                  const char *a4, const char *a5);
/* Node `node` in the `node-pool list --json` of the instance <tmp>/<name> (NULL when absent);
 * *ret_list owns the answer. */
json_t *msgr_pool_node(const char *name, const char *node, json_t **ret_list);
/* Waits until that instance lists `node` with Enabled == want. */
bool msgr_pool_wait(const char *name, const char *node, bool want, int timeout_ms);
/* stop_clean of every daemon, then the tokens are freed. */
void msgr_stack_stop_all(void);

#endif
