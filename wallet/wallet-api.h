/*
 * wallet-api.h: the wallet's local JSON-RPC API on /rpc/v0 (Lotus/Venus shapes).
 *
 *   Filecoin.WalletNew [type]                 -> "f1..."       write
 *   Filecoin.WalletHas [addr]                 -> bool          write
 *   Filecoin.WalletList []                    -> ["f1..."]     write
 *   Filecoin.WalletSign [addr, b64, MsgMeta]  -> Signature     sign   (rules: wallet-sign.h)
 *   Filecoin.WalletExport [addr]              -> KeyInfo       admin  {"Type","PrivateKey"}
 *   Filecoin.WalletImport [KeyInfo]           -> "f1..."       admin
 *   Filecoin.WalletDelete [addr]              -> null          admin
 *   Filecoin.WalletDefaultAddress []          -> "f1..."       write
 *   Filecoin.WalletSetDefault [addr]          -> null          write
 *   Filecoin.WalletLock []                    -> null          admin
 *   Filecoin.WalletUnlock [passphrase]        -> null          admin  (first unlock sets it)
 *   Filecoin.WalletState []                   -> {"Initialised":b,"Locked":b,"Keys":n}  read
 *   Filecoin.Version []                       -> {"Version":"...","APIVersion":n}       read
 * Application errors use code 1 with messages such as "wallet is locked".
 */
#ifndef WALLET_API_H
#define WALLET_API_H

#include "vc/authn.h"
#include "vc/http.h"
#include "vc/rpc.h"
#include "wallet-keystore.h"

#define WALLET_VERSION "1.14.0+venus-c"

typedef struct wallet_api wallet_api_t;

int wallet_api_new(wallet_ks_t *ks, vc_authn_t *authn, wallet_api_t **ret);
int wallet_api_mount(wallet_api_t *api, vc_http_server_t *http);
wallet_api_t *wallet_api_free(wallet_api_t *api);

#endif
