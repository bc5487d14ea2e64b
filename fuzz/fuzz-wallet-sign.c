/*
 * fuzz-wallet-sign.c: venus-wallet's request parsers: the DrawRandomParams CBOR map, a MsgMeta
 * JSON object, and a gateway WalletSignRequest payload (base64 JSON). The wallet sources are
 * compiled in (they are not part of libvc).
 */
#include <stddef.h>
#include <stdint.h>

#include "../wallet/wallet-keystore.c"
#include "../wallet/wallet-sign.c"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uint8_t d[32];
    char err[256];
    (void)wallet_drawrandom_digest(data, size, d, err, sizeof(err));

    json_t *j = json_loadb((const char *)data, size, JSON_DECODE_ANY | JSON_REJECT_DUPLICATES, NULL);
    if (j) {
        wallet_meta_t m;
        if (wallet_meta_from_json(j, &m) == 0)
            wallet_meta_done(&m);
        if (wallet_meta_from_json(json_object_get(j, "Meta"), &m) == 0) {
            /* a message meta: the Extra must decode as a Message */
            vc_message_t msg = {0};
            if (m.extra && vc_message_decode(m.extra, m.extra_len, &msg) == 0)
                vc_message_done(&msg);
            wallet_meta_done(&m);
        }
        json_decref(j);
    }
    return 0;
}
