/* Tests for cbor.c and cid.c. */
#include "vc-test.h"
#include "vc/cbor.h"
#include "vc/cid.h"
#include "vc/util.h"

static void hexbuf(const char *hex, uint8_t *out, size_t *len)
{
    *len = strlen(hex) / 2;
    (void)vc_hex_decode(hex, 2 * *len, out);
}

static void test_encode_heads(void)
{
    static const struct {
        uint64_t v;
        const char *hex;
    } cases[] = {
        {0, "00"}, {23, "17"}, {24, "1818"}, {255, "18ff"}, {256, "190100"},
        {65535, "19ffff"}, {65536, "1a00010000"}, {4294967295ULL, "1affffffff"},
        {4294967296ULL, "1b0000000100000000"},
    };
    for (size_t i = 0; i < VC_ELEMENTSOF(cases); i++) {
        vc_buf_t b = {0};
        char hex[32];
        ASSERT_OK(vc_cbor_put_uint(&b, cases[i].v));
        vc_hex_encode((const uint8_t *)b.data, b.len, hex);
        ASSERT_STREQ(hex, cases[i].hex);
        vc_cbor_reader_t r;
        uint64_t v;
        vc_cbor_reader_init(&r, b.data, b.len);
        ASSERT_OK(vc_cbor_read_uint(&r, &v));
        ASSERT_TRUE(v == cases[i].v);
        ASSERT_OK(vc_cbor_expect_end(&r));
        vc_buf_done(&b);
    }
    vc_buf_t b = {0};
    char hex[64];
    ASSERT_OK(vc_cbor_put_int(&b, -1));
    ASSERT_OK(vc_cbor_put_int(&b, INT64_MIN));
    ASSERT_OK(vc_cbor_put_text(&b, "hi", 2));
    ASSERT_OK(vc_cbor_put_bool(&b, true));
    ASSERT_OK(vc_cbor_put_null(&b));
    ASSERT_OK(vc_cbor_put_map(&b, 0));
    vc_hex_encode((const uint8_t *)b.data, b.len, hex);
    ASSERT_STREQ(hex, "203b7fffffffffffffff626869f5f6a0");
    vc_cbor_reader_t r;
    int64_t i64;
    const char *t;
    size_t tl;
    bool bo;
    uint64_t cnt;
    vc_cbor_reader_init(&r, b.data, b.len);
    ASSERT_OK(vc_cbor_read_int(&r, &i64));
    ASSERT_EQ(i64, -1);
    ASSERT_OK(vc_cbor_read_int(&r, &i64));
    ASSERT_TRUE(i64 == INT64_MIN);
    ASSERT_EQ(vc_cbor_read_uint(&r, &cnt), VC_ETYPE); /* text is next */
    ASSERT_OK(vc_cbor_read_text(&r, &t, &tl));
    ASSERT_EQ(tl, 2);
    ASSERT_OK(vc_cbor_read_bool(&r, &bo));
    ASSERT_TRUE(bo);
    ASSERT_TRUE(vc_cbor_peek_null(&r));
    ASSERT_OK(vc_cbor_read_null(&r));
    ASSERT_OK(vc_cbor_read_map(&r, &cnt));
    ASSERT_EQ(cnt, 0);
    ASSERT_OK(vc_cbor_expect_end(&r));
    ASSERT_EQ(vc_cbor_read_null(&r), VC_ETRUNC);
    vc_buf_done(&b);
}

static int decode_one(const char *hex)
{
    uint8_t buf[256];
    size_t n;
    vc_cbor_reader_t r;
    hexbuf(hex, buf, &n);
    vc_cbor_reader_init(&r, buf, n);
    int rr = vc_cbor_skip(&r);
    if (rr < 0) {
        if (r.pos != 0)
            return -9999; /* cursor moved on error */
        return rr;
    }
    return vc_cbor_expect_end(&r);
}

static void test_strict_decode(void)
{
    ASSERT_OK(decode_one("8301820203820405"));
    ASSERT_OK(decode_one("a26161016162820203"));
    ASSERT_OK(decode_one("d82a5827000171a0e402202f84fef0d7cc2d7f9f00d22445f7bf7539fdd685fd9f284aa37f3822b57619cc"));
    ASSERT_EQ(decode_one("1817"), VC_EPARSE);           /* non-minimal uint */
    ASSERT_EQ(decode_one("190017"), VC_EPARSE);
    ASSERT_EQ(decode_one("1a0000ffff"), VC_EPARSE);
    ASSERT_EQ(decode_one("1b00000000ffffffff"), VC_EPARSE);
    ASSERT_EQ(decode_one("5801ff"), VC_EPARSE);         /* non-minimal length */
    ASSERT_EQ(decode_one("9f01ff"), VC_EPARSE);         /* indefinite array */
    ASSERT_EQ(decode_one("5f41ffff"), VC_EPARSE);       /* indefinite bytes */
    ASSERT_EQ(decode_one("1c"), VC_EPARSE);             /* reserved */
    ASSERT_EQ(decode_one("fb3ff0000000000000"), VC_EPARSE); /* float */
    ASSERT_EQ(decode_one("f7"), VC_EPARSE);             /* undefined */
    ASSERT_EQ(decode_one("c11a514b67b0"), VC_EPARSE);   /* tag 1 */
    ASSERT_EQ(decode_one("d82a4100"), VC_EPARSE);       /* tag 42 with a bad CID */
    ASSERT_EQ(decode_one("d82a01"), VC_EPARSE);         /* tag 42 on a non-bytes */
    ASSERT_EQ(decode_one("62c328"), VC_EPARSE);         /* invalid UTF-8 */
    ASSERT_EQ(decode_one("63eda080"), VC_EPARSE);       /* surrogate */
    ASSERT_EQ(decode_one("43010203ff"), VC_EPARSE);     /* trailing byte */
    ASSERT_EQ(decode_one("43"), VC_ETRUNC);
    ASSERT_EQ(decode_one("4301"), VC_ETRUNC);
    ASSERT_EQ(decode_one("5bffffffffffffffff00"), VC_ETRUNC); /* length beyond input */
    ASSERT_EQ(decode_one("9bffffffffffffffff00"), VC_ETRUNC); /* count beyond input */
    ASSERT_EQ(decode_one("bbffffffffffffffff00"), VC_ETRUNC);
    ASSERT_EQ(decode_one("8301"), VC_ETRUNC);
    ASSERT_EQ(decode_one(""), VC_ETRUNC);

    uint8_t buf[16];
    vc_cbor_reader_t r;
    int64_t i64;
    memcpy(buf, "\x1b\x80\x00\x00\x00\x00\x00\x00\x00", 9); /* 2^63 */
    vc_cbor_reader_init(&r, buf, 9);
    ASSERT_EQ(vc_cbor_read_int(&r, &i64), -ERANGE);
    ASSERT_EQ(r.pos, 0);
}

static void test_depth(void)
{
    uint8_t buf[200];
    vc_cbor_reader_t r;
    /* 65 nested arrays + a 0: depth 65 > 64 */
    memset(buf, 0x81, 100);
    buf[100] = 0x00;
    vc_cbor_reader_init(&r, buf, 101);
    ASSERT_EQ(vc_cbor_skip(&r), VC_EDEPTH);
    ASSERT_EQ(r.pos, 0);
    vc_cbor_reader_init(&r, buf + 100 - 64, 65);
    ASSERT_OK(vc_cbor_skip(&r));
    /* a lower limit set by the caller */
    vc_cbor_reader_init(&r, buf + 100 - 10, 11);
    r.max_depth = 5;
    ASSERT_EQ(vc_cbor_skip(&r), VC_EDEPTH);
}

static void test_cid(void)
{
    static const char *s = "bafy2bzaceaxyj7xq27gc2747adjcirpxx52tt7owqx6z6kckun7tqivvoym4y";
    vc_cid_t c, d;
    vc_cid_info_t info;
    char out[VC_CID_STRLEN_MAX];
    ASSERT_OK(vc_cid_from_string(s, &c));
    ASSERT_EQ(c.len, 38);
    ASSERT_OK(vc_cid_info(&c, &info));
    ASSERT_EQ(info.codec, VC_CID_CODEC_DAG_CBOR);
    ASSERT_EQ(info.mh_code, VC_MH_BLAKE2B_256);
    ASSERT_EQ(info.digest_len, 32);
    ASSERT_OK(vc_cid_to_string(&c, out));
    ASSERT_STREQ(out, s);
    /* CBOR tag 42 round trip */
    vc_buf_t b = {0};
    ASSERT_OK(vc_cbor_put_cid(&b, &c));
    vc_cbor_reader_t r;
    vc_cbor_reader_init(&r, b.data, b.len);
    ASSERT_OK(vc_cbor_read_cid(&r, &d));
    ASSERT_TRUE(vc_cid_equal(&c, &d));
    vc_buf_done(&b);
    /* JSON */
    json_t *j = vc_cid_to_json(&c);
    ASSERT_NOTNULL(j);
    ASSERT_OK(vc_cid_from_json(j, &d));
    ASSERT_TRUE(vc_cid_equal(&c, &d));
    json_decref(j);
    j = json_pack("{s:s,s:i}", "/", s, "x", 1);
    ASSERT_EQ(vc_cid_from_json(j, &d), VC_ETYPE);
    json_decref(j);
    j = json_string(s);
    ASSERT_EQ(vc_cid_from_json(j, &d), VC_ETYPE);
    json_decref(j);
    /* raw + identity CID */
    ASSERT_OK(vc_cid_new(VC_CID_CODEC_RAW, VC_MH_IDENTITY, (const uint8_t *)"hello", 5, &c));
    ASSERT_OK(vc_cid_to_string(&c, out));
    ASSERT_OK(vc_cid_from_string(out, &d));
    ASSERT_TRUE(vc_cid_equal(&c, &d));
    ASSERT_OK(vc_cid_info(&d, &info));
    ASSERT_EQ(info.codec, VC_CID_CODEC_RAW);
    ASSERT_MEMEQ(info.digest, "hello", 5);
    /* TipSetKey-style concatenation */
    uint8_t cat[2 * VC_CID_BYTES_MAX];
    vc_cid_t a;
    ASSERT_OK(vc_cid_from_string(s, &a));
    memcpy(cat, a.bytes, a.len);
    memcpy(cat + a.len, c.bytes, c.len);
    size_t used;
    ASSERT_OK(vc_cid_read(cat, a.len + c.len, &d, &used));
    ASSERT_EQ(used, a.len);
    ASSERT_EQ(vc_cid_from_bytes(cat, a.len + c.len, &d), VC_EPARSE);
    /* rejects */
    ASSERT_EQ(vc_cid_from_string("QmYwAPJzv5CZsnA625s3Xf2nemtYgPpHdWEz79ojWnPbdG", &d), -EOPNOTSUPP);
    ASSERT_EQ(vc_cid_from_string("zb2rhe5P4gXftAwvA4eXQ5HJwsER2owDyS9sKaQRRVQPn93bA", &d), -EOPNOTSUPP);
    ASSERT_ERR(vc_cid_from_string("BAFY2BZACEAXYJ7XQ27GC2747ADJCIRPXX52TT7OWQX6Z6KCKUN7TQIVVOYM4Y", &d));
    ASSERT_ERR(vc_cid_from_string("bafy2bzaceaxyj7xq27gc2747adjcirpxx52tt7owqx6z6kckun7tqivvoym4", &d));
    ASSERT_ERR(vc_cid_from_string("b", &d));
    ASSERT_ERR(vc_cid_from_string("", &d));
    ASSERT_EQ(vc_cid_from_bytes(a.bytes, a.len - 1, &d), VC_ETRUNC);
    for (size_t k = 0; k < a.len; k++)
        ASSERT_ERR(vc_cid_from_bytes(a.bytes, k, &d));
    uint8_t v2[] = {0x02, 0x71, 0x00, 0x00};
    ASSERT_EQ(vc_cid_from_bytes(v2, sizeof(v2), &d), -EOPNOTSUPP);
    uint8_t big[] = {0x01, 0x71, 0x00, 0x81, 0x01}; /* digest length 129 */
    ASSERT_EQ(vc_cid_from_bytes(big, sizeof(big), &d), VC_ETOOBIG);
    uint8_t nonmin[] = {0x01, 0xf1, 0x00, 0x00, 0x00};
    ASSERT_EQ(vc_cid_from_bytes(nonmin, sizeof(nonmin), &d), VC_EPARSE);
}

int main(int argc, char **argv)
{
    VC_TEST_INIT(argc, argv);
    VC_TEST_RUN(test_encode_heads);
    VC_TEST_RUN(test_strict_decode);
    VC_TEST_RUN(test_depth);
    VC_TEST_RUN(test_cid);
    return VC_TEST_DONE();
}
