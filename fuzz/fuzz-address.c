/* Fuzz address parsing (string and bytes) with round-trip checks. */
#include <stdlib.h>
#include <string.h>

#include "vc/address.h"
#include "vc/bigint.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_round_trip(const vc_address_t *a, char net)
{
    char s[VC_ADDRESS_STRLEN_MAX];
    vc_address_t back;
    char net2;
    int n = vc_address_to_string(a, net, s);
    if (n < 0 || (size_t)n != strlen(s))
        abort();
    if (vc_address_parse(s, (size_t)n, &back, &net2) < 0 || net2 != net || !vc_address_equal(a, &back))
        abort();
    if (vc_address_from_bytes(a->bytes, a->len, &back) < 0 || !vc_address_equal(a, &back))
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    vc_address_t a;
    char net;

    if (vc_address_parse((const char *)data, size, &a, &net) == 0) {
        check_round_trip(&a, net);
        /* canonical input (except ID/namespace leading zeros) re-encodes to itself */
        char s[VC_ADDRESS_STRLEN_MAX];
        int n = vc_address_to_string(&a, net, s);
        if ((size_t)n == size && memcmp(s, data, size) != 0)
            abort();
    }
    if (vc_address_from_bytes(data, size, &a) == 0)
        check_round_trip(&a, 't');
    /* big integers share the fuzzer: decimal and byte forms */
    vc_bigint_t x, y;
    if (vc_bigint_parse((const char *)data, size, &x) == 0) {
        char s[VC_BIGINT_STRLEN_MAX];
        if (vc_bigint_to_string(&x, s, sizeof(s)) < 0 || vc_bigint_from_string(s, &y) < 0 ||
            vc_bigint_cmp(&x, &y) != 0)
            abort();
    }
    if (vc_bigint_from_bytes(data, size, &x) == 0) {
        uint8_t b[VC_BIGINT_BYTES_MAX];
        int n = vc_bigint_to_bytes(&x, b);
        if (n < 0 || vc_bigint_from_bytes(b, (size_t)n, &y) < 0 || vc_bigint_cmp(&x, &y) != 0)
            abort();
    }
    return 0;
}
