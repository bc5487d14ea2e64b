/* miner-api.h: venus-miner's Filecoin.* JSON-RPC API on /rpc/v0 (spec A.1). */
#ifndef MINER_API_H
#define MINER_API_H

#include "miner.h"
#include "vc/authn.h"
#include "vc/http.h"
#include "vc/rpc.h"

typedef struct miner_api miner_api_t;

int miner_api_new(miner_t *m, miner_store_t *store, vc_authn_t *authn, miner_api_t **ret);
miner_api_t *miner_api_free(miner_api_t *a);
int miner_api_mount(miner_api_t *a, vc_http_server_t *http);

#endif
