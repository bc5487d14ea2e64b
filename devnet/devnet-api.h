/*
 * devnet-api.h: venus-devnet's JSON-RPC API (`Filecoin.*` on /rpc/v1 and /rpc/v0, HTTP and
 * WebSocket): the node methods of spec/miner-and-node-api.md B.1 over the chain core, plus the
 * admin-only test hooks Filecoin.DevnetRevert [n], Filecoin.DevnetPause [bool] and
 * Filecoin.DevnetSetBlockTime [ms].
 */
#ifndef DEVNET_API_H
#define DEVNET_API_H

#include "devnet-chain.h"
#include "vc/authn.h"
#include "vc/http.h"
#include "vc/rpc.h"

#define DEVNET_VERSION "1.19.0+venus-c-devnet"
#define DEVNET_API_VERSION 131840 /* v2.3.0: sophon-miner checks it */

typedef struct dn_api dn_api_t;

int dn_api_new(dn_chain_t *chain, vc_authn_t *authn, dn_api_t **ret);
/* Mounts /rpc/v1 and /rpc/v0 on http. */
int dn_api_mount(dn_api_t *api, vc_http_server_t *http);
/* Stop the HTTP server first. */
dn_api_t *dn_api_free(dn_api_t *api);
vc_rpc_server_t *dn_api_rpc(dn_api_t *api);

#endif
