/*
 * msgr-api.h: the `Message.*` JSON-RPC API on /rpc/v0 (spec/messager.md sections 1-3):
 * method table with the upstream permissions, the signer-ownership check of section 1 (admin
 * bypass, else venus-auth /user/signer/exist), non-admin list filtering, exact wire JSON.
 */
#ifndef MSGR_API_H
#define MSGR_API_H

#include "msgr-service.h"
#include "vc/http.h"
#include "vc/nodepool-store.h"
#include "vc/rpc.h"

#define MSGR_VERSION "1.20.0+git.venus-c"

typedef struct msgr_api msgr_api_t;

/* pool_store (borrowed, may be NULL) serves the Message.NodePool* methods
 * (vc/nodepool-store.h). */
int msgr_api_new(msgr_service_t *svc, vc_nodepool_store_t *pool_store, vc_authn_t *authn, msgr_api_t **ret);
msgr_api_t *msgr_api_free(msgr_api_t *a);
/* Mounts /rpc/v0 (HTTP POST and WebSocket). */
int msgr_api_mount(msgr_api_t *a, vc_http_server_t *http);
vc_rpc_server_t *msgr_api_rpc(msgr_api_t *a);

#endif
