/*
 * wallet-gateway.h: venus-wallet as a client of one or more venus-gateways (spec
 * auth-gateway.md B4.1).
 *
 * One thread and one WebSocket session per gateway endpoint (/rpc/v2, header
 * X-VENUS-API-NAMESPACE: gateway.IGateway, the configured token). Each session calls
 * Gateway.ListenWalletEvent({SupportAccounts, SignBytes}) and answers the channel's events on
 * the socket's reader, in order, without waiting for the gateway's acknowledgements (a refused
 * answer is logged):
 *   WalletList   -> ResponseWalletEvent{Id, Payload: base64(JSON [addr...])}
 *   WalletSign   -> WalletSignRequest{Signer, ToSign, Meta} signed by the rules of
 *                   wallet-sign.h (verifyaddress checked against this process's SignBytes);
 *                   Payload base64(JSON Signature) or Error
 *   InitConnect  -> records the ChannelId (no answer)
 *   anything else, undecodable payloads, unknown signers -> an Error answer
 * Events without an Id cannot be answered and are logged and dropped; an Id seen recently on a
 * session is not answered twice. When the channel or socket ends the session reconnects after
 * 1 s, doubling up to 30 s (reset once a session was registered). While the keystore is locked
 * no session is opened. Keys added or deleted while a session is registered are pushed with
 * Gateway.AddNewAddress / Gateway.RemoveAddress.
 */
#ifndef WALLET_GATEWAY_H
#define WALLET_GATEWAY_H

#include <stdbool.h>
#include <stddef.h>

#include "wallet-keystore.h"

typedef struct wallet_gw wallet_gw_t;

typedef struct wallet_gw_opts {
    const char *const *endpoints; /* multiaddrs or URLs; one session each */
    size_t n_endpoints;
    const char *token;
    const char *const *support_accounts;
    size_t n_accounts;
    int backoff_min_ms; /* default 1000 */
    int backoff_max_ms; /* default 30000 */
} wallet_gw_opts_t;

int wallet_gw_start(wallet_ks_t *ks, const wallet_gw_opts_t *opts, wallet_gw_t **ret);
/* Closes every session and joins the threads. */
wallet_gw_t *wallet_gw_free(wallet_gw_t *gw);
/* Keystore observer (wallet_ks_set_observer): queues AddNewAddress / RemoveAddress. */
void wallet_gw_address_changed(void *gw, const vc_address_t *a, bool added);
/* Sessions that received InitConnect and are still open. */
size_t wallet_gw_registered(wallet_gw_t *gw);

#endif
