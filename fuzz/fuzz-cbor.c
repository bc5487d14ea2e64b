/* Fuzz the CBOR decoders: Message, SignedMessage, generic skip, CID tag. Round trips must hold. */
#include <stdlib.h>

#include "vc/cbor.h"
#include "vc/cid.h"
#include "vc/message.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    vc_message_t m;
    vc_signed_message_t sm;
    vc_cbor_reader_t r;
    vc_cid_t c;

    if (vc_message_decode(data, size, &m) == 0) {
        /* a decoded message re-encodes and decodes to the same CID */
        vc_buf_t b = {0};
        vc_cid_t c1, c2;
        vc_message_t m2;
        if (vc_message_encode(&m, &b) < 0 || vc_message_decode((const uint8_t *)b.data, b.len, &m2) < 0)
            abort();
        if (vc_message_cid(&m, &c1) < 0 || vc_message_cid(&m2, &c2) < 0 || !vc_cid_equal(&c1, &c2))
            abort();
        json_t *j;
        if (vc_message_to_json(&m, 'f', true, &j) == 0) {
            vc_message_t m3;
            if (vc_message_from_json(j, &m3) < 0 || vc_message_cid(&m3, &c2) < 0 ||
                !vc_cid_equal(&c1, &c2))
                abort();
            vc_message_done(&m3);
            json_decref(j);
        }
        vc_message_done(&m2);
        vc_buf_done(&b);
        vc_message_done(&m);
    }
    if (vc_signed_message_decode(data, size, &sm) == 0) {
        vc_buf_t b = {0};
        vc_signed_message_t sm2;
        if (vc_signed_message_encode(&sm, &b) < 0 ||
            vc_signed_message_decode((const uint8_t *)b.data, b.len, &sm2) < 0)
            abort();
        (void)vc_signed_message_cid(&sm2, &c);
        vc_signed_message_done(&sm2);
        vc_buf_done(&b);
        vc_signed_message_done(&sm);
    }
    /* generic walk of a sequence of items */
    vc_cbor_reader_init(&r, data, size);
    while (vc_cbor_remaining(&r) > 0) {
        size_t before = r.pos;
        if (vc_cbor_skip(&r) < 0) {
            if (r.pos != before)
                abort();
            break;
        }
        if (r.pos <= before || r.pos > size)
            abort();
    }
    vc_cbor_reader_init(&r, data, size);
    (void)vc_cbor_read_cid(&r, &c);
    if (vc_cid_from_bytes(data, size, &c) == 0) {
        char s[VC_CID_STRLEN_MAX];
        vc_cid_t back;
        if (vc_cid_to_string(&c, s) < 0 || vc_cid_from_string(s, &back) < 0 || !vc_cid_equal(&c, &back))
            abort();
    }
    return 0;
}
