/* fuzz-ws.c: vc_ws_frame_parse on arbitrary bytes, as a server (masked frames expected) and as a
 * client, consuming frames in a loop; every parsed frame must re-encode to the same bytes when
 * its length encoding was minimal, and its unmasked payload feeds the UTF-8 validator. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "vc/util.h"
#include "vc/ws.h"

/* Not assert(): release builds define NDEBUG. */
#define CHECK(c)                                                                                             \
    do {                                                                                                     \
        if (!(c))                                                                                            \
            abort();                                                                                         \
    } while (0)

static void run(const uint8_t *data, size_t size, bool expect_masked, size_t max_payload)
{
    size_t off = 0;
    while (off < size) {
        vc_ws_frame_t f;
        size_t used = 0;
        int r = vc_ws_frame_parse(data + off, size - off, max_payload, expect_masked, &f, &used);
        if (r < 0) {
            CHECK(r == -EAGAIN || r == VC_EPARSE || r == VC_ETOOBIG);
            return;
        }
        CHECK(used == f.header_len + f.len && used <= size - off);
        CHECK(f.len <= max_payload && f.masked == expect_masked);
        CHECK(f.opcode < 8 || (f.fin && f.len <= VC_WS_MAX_CONTROL));

        uint8_t *p = malloc(f.len + 1);
        if (!p)
            return;
        memcpy(p, f.payload, f.len);
        if (f.masked)
            vc_ws_mask(p, f.len, f.mask, 0);
        (void)vc_ws_utf8_valid(p, f.len);

        vc_buf_t b = {0};
        r = vc_ws_frame_encode(&b, f.opcode, f.fin, p, f.len, f.masked ? f.mask : NULL);
        CHECK(r == 0);
        size_t minimal = (f.len < 126 ? 2 : f.len <= 0xffff ? 4 : 10) + (f.masked ? 4 : 0);
        if (minimal == f.header_len)
            CHECK(b.len == used && memcmp(b.data, data + off, used) == 0);
        vc_buf_done(&b);
        free(p);
        off += used;
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    run(data, size, true, 1 << 20);
    run(data, size, false, 1 << 20);
    run(data, size, true, 100); /* small limit: VC_ETOOBIG paths */
    return 0;
}
