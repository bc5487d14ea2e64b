/* Every vector in filecoin.json that the fil modules cover. */
#include "vc-test.h"
#include "vc/address.h"
#include "vc/bigint.h"
#include "vc/blockheader.h"
#include "vc/blake2b.h"
#include "vc/cbor.h"
#include "vc/cid.h"
#include "vc/crypto.h"
#include "vc/election.h"
#include "vc/message.h"
#include "vc/util.h"

static const char *jstr(const json_t *o, const char *key)
{
    return json_string_value(json_object_get(o, key));
}

static void hex_of(const void *p, size_t n, char *out)
{
    vc_hex_encode(p, n, out);
}

static void test_messages(void)
{
    json_t *list = json_object_get(vc_test_vectors(), "messages");
    size_t i;
    json_t *v;

    ASSERT_TRUE(json_array_size(list) >= 3);
    json_array_foreach(list, i, v)
    {
        vc_message_t m = {0};
        vc_buf_t b = {0};
        vc_cid_t cid;
        char s[VC_CID_STRLEN_MAX];
        char hex[4096];

        fprintf(stderr, "  vector %s\n", jstr(v, "name"));
        ASSERT_OK(vc_message_from_json(json_object_get(v, "message"), &m));
        ASSERT_OK(vc_message_encode(&m, &b));
        hex_of(b.data, b.len, hex);
        ASSERT_STREQ(hex, jstr(v, "cbor"));
        ASSERT_OK(vc_message_cid(&m, &cid));
        ASSERT_OK(vc_cid_to_string(&cid, s));
        ASSERT_STREQ(s, jstr(v, "cid"));

        /* decode back, re-encode identical */
        vc_message_t d;
        ASSERT_OK(vc_message_decode((const uint8_t *)b.data, b.len, &d));
        vc_buf_t b2 = {0};
        ASSERT_OK(vc_message_encode(&d, &b2));
        ASSERT_EQ(b2.len, b.len);
        ASSERT_MEMEQ(b2.data, b.data, b.len);
        vc_buf_done(&b2);

        /* JSON round trip with CID (Lotus writes the CID; input ignores it) */
        json_t *j;
        ASSERT_OK(vc_message_to_json(&d, 'f', true, &j));
        ASSERT_STREQ(json_string_value(json_object_get(json_object_get(j, "CID"), "/")),
                     jstr(v, "cid"));
        json_t *want = json_deep_copy(json_object_get(v, "message"));
        json_object_set_new(want, "CID", json_pack("{s:s}", "/", jstr(v, "cid")));
        if (json_string_length(json_object_get(want, "Params")) == 0)
            json_object_set_new(want, "Params", json_null());
        ASSERT_TRUE(json_equal(j, want));
        json_decref(want);
        json_decref(j);
        vc_message_done(&d);

        json_t *zs = json_object_get(v, "signedWithZeroSignature");
        if (zs) {
            vc_signed_message_t sm = {0};
            ASSERT_OK(vc_message_copy(&m, &sm.message));
            vc_buf_t sb = {0};
            ASSERT_OK(vc_signed_message_encode(&sm, &sb));
            hex_of(sb.data, sb.len, hex);
            ASSERT_STREQ(hex, jstr(zs, "cbor"));
            ASSERT_OK(vc_signed_message_cid(&sm, &cid));
            ASSERT_OK(vc_cid_to_string(&cid, s));
            ASSERT_STREQ(s, jstr(zs, "cid"));
            /* Lotus JSON of the zero signature: {"Type":0,"Data":null} */
            ASSERT_OK(vc_signed_message_to_json(&sm, 'f', true, &j));
            json_t *sig = json_object_get(j, "Signature");
            ASSERT_TRUE(json_integer_value(json_object_get(sig, "Type")) == 0);
            ASSERT_TRUE(json_is_null(json_object_get(sig, "Data")));
            ASSERT_STREQ(json_string_value(json_object_get(json_object_get(j, "CID"), "/")),
                         jstr(zs, "cid"));
            json_decref(j);
            /* Type 0 is not decodable (as in Go). */
            ASSERT_ERR(vc_signed_message_decode((const uint8_t *)sb.data, sb.len, &sm));
            vc_buf_done(&sb);
            vc_signed_message_done(&sm);
        }

        json_t *sg = json_object_get(v, "signed");
        if (sg) {
            uint8_t key[32];
            vc_address_t from;
            ASSERT_OK(vc_hex_decode(jstr(v, "privateKeyHex"), 64, key));
            ASSERT_OK(vc_secp256k1_address(key, &from));
            ASSERT_TRUE(vc_address_equal(&from, &m.from));

            vc_signed_message_t sm = {0};
            ASSERT_OK(vc_message_copy(&m, &sm.message));
            ASSERT_OK(vc_message_sign_secp256k1(&m, key, &sm.signature));
            char *b64 = vc_base64_encode(sm.signature.data, sm.signature.len);
            ASSERT_STREQ(b64, jstr(sg, "signatureBase64"));
            free(b64);
            ASSERT_OK(vc_signed_message_verify(&sm));
            ASSERT_OK(vc_signed_message_cid(&sm, &cid));
            ASSERT_OK(vc_cid_to_string(&cid, s));
            ASSERT_STREQ(s, jstr(sg, "signedCid"));

            /* CBOR and JSON round trips of the signed message */
            vc_buf_t sb = {0};
            ASSERT_OK(vc_signed_message_encode(&sm, &sb));
            vc_signed_message_t sd;
            ASSERT_OK(vc_signed_message_decode((const uint8_t *)sb.data, sb.len, &sd));
            ASSERT_OK(vc_signed_message_cid(&sd, &cid));
            ASSERT_OK(vc_cid_to_string(&cid, s));
            ASSERT_STREQ(s, jstr(sg, "signedCid"));
            ASSERT_OK(vc_signed_message_to_json(&sd, 'f', true, &j));
            ASSERT_STREQ(json_string_value(json_object_get(json_object_get(j, "CID"), "/")),
                         jstr(sg, "signedCid"));
            ASSERT_STREQ(json_string_value(json_object_get(json_object_get(j, "Signature"), "Data")),
                         jstr(sg, "signatureBase64"));
            vc_signed_message_t sj;
            ASSERT_OK(vc_signed_message_from_json(j, &sj));
            ASSERT_OK(vc_signed_message_verify(&sj));
            /* A tampered message no longer verifies. */
            sj.message.nonce++;
            ASSERT_EQ(vc_signed_message_verify(&sj), VC_EVERIFY);
            json_decref(j);
            vc_signed_message_done(&sj);
            vc_signed_message_done(&sd);
            vc_signed_message_done(&sm);
            vc_buf_done(&sb);
        }
        vc_buf_done(&b);
        vc_message_done(&m);
    }
}

static void test_keys(void)
{
    json_t *list = json_object_get(vc_test_vectors(), "keys");
    size_t i;
    json_t *v;

    ASSERT_TRUE(json_array_size(list) > 0);
    json_array_foreach(list, i, v)
    {
        uint8_t key[32];
        vc_address_t a;
        char s[VC_ADDRESS_STRLEN_MAX];
        ASSERT_OK(vc_hex_decode(jstr(v, "privateKeyHex"), 64, key));
        ASSERT_OK(vc_secp256k1_address(key, &a));
        ASSERT_OK(vc_address_to_string(&a, 'f', s));
        ASSERT_STREQ(s, jstr(v, "mainnet"));
        ASSERT_OK(vc_address_to_string(&a, 't', s));
        ASSERT_STREQ(s, jstr(v, "testnet"));
    }
}

static void check_addr_string(const vc_address_t *a, const char *want)
{
    char s[VC_ADDRESS_STRLEN_MAX];
    vc_address_t back;
    char net = 0;
    if (vc_address_to_string(a, want[0], s) <= 0 || strcmp(s, want) != 0) {
        VC_FAIL_("address to string: want %s", want);
        return;
    }
    if (vc_address_parse(want, strlen(want), &back, &net) != 0 || !vc_address_equal(&back, a) ||
        net != want[0])
        VC_FAIL_("address parse %s", want);
}

static void test_addresses(void)
{
    json_t *av = json_object_get(vc_test_vectors(), "addresses");
    uint8_t buf[128];
    char hex[256];
    vc_address_t a;
    json_t *v;
    size_t i;

    v = json_object_get(av, "secp256k1");
    ASSERT_OK(vc_hex_decode(jstr(v, "pubkeyHex"), 130, buf));
    ASSERT_OK(vc_address_new_secp256k1(buf, 65, &a));
    check_addr_string(&a, jstr(v, "testnet"));
    hex_of(a.bytes + 1, a.len - 1u, hex);
    ASSERT_STREQ(hex, jstr(v, "payloadHex"));

    v = json_object_get(av, "actor");
    ASSERT_OK(vc_hex_decode(jstr(v, "dataHex"), 40, buf));
    ASSERT_OK(vc_address_new_actor(buf, 20, &a));
    check_addr_string(&a, jstr(v, "testnet"));

    v = json_object_get(av, "bls");
    ASSERT_OK(vc_hex_decode(jstr(v, "pubkeyHex"), 96, buf));
    ASSERT_OK(vc_address_new_bls(buf, 48, &a));
    check_addr_string(&a, jstr(v, "testnet"));

    json_array_foreach(json_object_get(av, "id"), i, v)
    {
        uint64_t id, back;
        ASSERT_OK(vc_parse_u64(jstr(v, "id"), &id));
        ASSERT_OK(vc_address_new_id(id, &a));
        check_addr_string(&a, jstr(v, "testnet"));
        ASSERT_OK(vc_address_id(&a, &back));
        ASSERT_TRUE(back == id);
        if (jstr(v, "bytesHex")) {
            hex_of(a.bytes, a.len, hex);
            ASSERT_STREQ(hex, jstr(v, "bytesHex"));
            vc_address_t fb;
            ASSERT_OK(vc_address_from_bytes(a.bytes, a.len, &fb));
            ASSERT_TRUE(vc_address_equal(&fb, &a));
        }
    }

    v = json_object_get(av, "delegated");
    size_t sublen = json_string_length(json_object_get(v, "subHex")) / 2;
    ASSERT_OK(vc_hex_decode(jstr(v, "subHex"), 2 * sublen, buf));
    ASSERT_OK(vc_address_new_delegated((uint64_t)json_integer_value(json_object_get(v, "namespace")),
                                       buf, sublen, &a));
    check_addr_string(&a, jstr(v, "mainnet"));

    json_array_foreach(json_object_get(av, "mustReject"), i, v)
    {
        const char *s = json_string_value(v);
        int r = vc_address_from_string(s, &a);
        if (r >= 0)
            VC_FAIL_("address '%s' should be rejected", s);
    }
    ASSERT_EQ(vc_test_failed, 0);
}

static void test_bigint(void)
{
    json_t *list = json_object_get(vc_test_vectors(), "bigint");
    size_t i;
    json_t *v;

    json_array_foreach(list, i, v)
    {
        vc_bigint_t x, y;
        uint8_t b[VC_BIGINT_BYTES_MAX];
        char hex[2 * VC_BIGINT_BYTES_MAX + 1], s[VC_BIGINT_STRLEN_MAX];
        ASSERT_OK(vc_bigint_from_string(jstr(v, "value"), &x));
        int n = vc_bigint_to_bytes(&x, b);
        ASSERT_OK(n);
        hex_of(b, (size_t)n, hex);
        ASSERT_STREQ(hex, jstr(v, "cborBytesHex"));
        ASSERT_OK(vc_bigint_from_bytes(b, (size_t)n, &y));
        ASSERT_EQ(vc_bigint_cmp(&x, &y), 0);
        ASSERT_OK(vc_bigint_to_string(&y, s, sizeof(s)));
        ASSERT_STREQ(s, jstr(v, "value"));
    }
}

static void test_amt(void)
{
    json_t *v = json_object_get(vc_test_vectors(), "amt");
    const char *hex = jstr(v, "emptyRootCborHex");
    uint8_t buf[64];
    size_t n = strlen(hex) / 2;
    vc_cid_t c, root;
    char s[VC_CID_STRLEN_MAX];

    ASSERT_OK(vc_hex_decode(hex, 2 * n, buf));
    /* the generic decoder accepts it as one item */
    vc_cbor_reader_t r;
    vc_cbor_reader_init(&r, buf, n);
    ASSERT_OK(vc_cbor_skip(&r));
    ASSERT_OK(vc_cbor_expect_end(&r));
    vc_cid_sum_dagcbor(buf, n, &root);
    ASSERT_OK(vc_cid_to_string(&root, s));
    ASSERT_STREQ(s, jstr(v, "emptyRootCid"));

    /* TxMeta{BlsMessages, SecpkMessages} = [root, root] */
    vc_buf_t b = {0};
    ASSERT_OK(vc_cbor_put_array(&b, 2));
    ASSERT_OK(vc_cbor_put_cid(&b, &root));
    ASSERT_OK(vc_cbor_put_cid(&b, &root));
    vc_cid_sum_dagcbor(b.data, b.len, &c);
    ASSERT_OK(vc_cid_to_string(&c, s));
    ASSERT_STREQ(s, jstr(v, "emptyTxMetaCid"));
    vc_buf_done(&b);
}

static void test_block_header(void)
{
    json_t *v = json_object_get(vc_test_vectors(), "blockHeader");
    json_t *f = json_object_get(v, "fields");
    uint8_t payload[21], ticket[8], vrf[8], beacon[8], proof[8];
    vc_block_header_t h = {0};
    vc_beacon_entry_t be;
    vc_post_proof_t pp;
    vc_cid_t parent;
    vc_signature_t agg = {0};
    json_t *e;

    /* "secp256k1 address of blake2b-160("address0") payload" */
    payload[0] = VC_ADDR_SECP256K1;
    vc_blake2b_160("address0", 8, payload + 1);
    ASSERT_OK(vc_address_from_bytes(payload, 21, &h.miner));
    ASSERT_OK(vc_hex_decode(jstr(f, "Ticket"), 6, ticket));
    h.has_ticket = true;
    h.ticket_vrf = ticket;
    h.ticket_vrf_len = 3;
    e = json_object_get(f, "ElectionProof");
    h.has_election_proof = true;
    h.win_count = json_integer_value(json_object_get(e, "WinCount"));
    ASSERT_OK(vc_hex_decode(jstr(e, "VRFProof"), 4, vrf));
    h.election_vrf = vrf;
    h.election_vrf_len = 2;
    e = json_array_get(json_object_get(f, "BeaconEntries"), 0);
    be.round = (uint64_t)json_integer_value(json_object_get(e, "Round"));
    ASSERT_OK(vc_hex_decode(jstr(e, "Data"), 2, beacon));
    be.data = beacon;
    be.data_len = 1;
    h.beacon_entries = &be;
    h.n_beacon_entries = 1;
    e = json_array_get(json_object_get(f, "WinPoStProof"), 0);
    pp.proof_type = json_integer_value(json_object_get(e, "PoStProof"));
    ASSERT_OK(vc_hex_decode(jstr(e, "ProofBytes"), 2, proof));
    pp.proof = proof;
    pp.proof_len = 1;
    h.win_post_proof = &pp;
    h.n_win_post_proof = 1;
    ASSERT_OK(vc_cid_from_string(json_string_value(json_array_get(json_object_get(f, "Parents"), 0)),
                                 &parent));
    h.parents = &parent;
    h.n_parents = 1;
    ASSERT_OK(vc_bigint_from_string(jstr(f, "ParentWeight"), &h.parent_weight));
    h.height = json_integer_value(json_object_get(f, "Height"));
    ASSERT_OK(vc_cid_from_string(jstr(f, "ParentStateRoot"), &h.parent_state_root));
    ASSERT_OK(vc_cid_from_string(jstr(f, "ParentMessageReceipts"), &h.parent_message_receipts));
    ASSERT_OK(vc_cid_from_string(jstr(f, "Messages"), &h.messages));
    h.bls_aggregate = &agg; /* Go zero value: type byte 0, no data -> 4100 */
    h.timestamp = (uint64_t)json_integer_value(json_object_get(f, "Timestamp"));
    h.fork_signaling = (uint64_t)json_integer_value(json_object_get(f, "ForkSignaling"));
    ASSERT_OK(vc_bigint_from_string(jstr(f, "ParentBaseFee"), &h.parent_base_fee));

    vc_buf_t b = {0};
    ASSERT_OK(vc_block_header_signing_bytes(&h, &b));
    char *hex = malloc(2 * b.len + 1);
    ASSERT_NOTNULL(hex);
    vc_hex_encode((const uint8_t *)b.data, b.len, hex);
    ASSERT_STREQ(hex, jstr(v, "signingBytesHex"));
    free(hex);
    /* the generic decoder walks it */
    vc_cbor_reader_t r;
    vc_cbor_reader_init(&r, b.data, b.len);
    ASSERT_OK(vc_cbor_skip(&r));
    ASSERT_OK(vc_cbor_expect_end(&r));

    /* decode the signing bytes back, re-encode, compare */
    vc_block_header_t d, d2;
    ASSERT_OK(vc_block_header_decode((const uint8_t *)b.data, b.len, &d));
    ASSERT_TRUE(d.has_ticket && d.ticket_vrf_len == 3 && memcmp(d.ticket_vrf, ticket, 3) == 0);
    ASSERT_TRUE(d.has_election_proof && d.win_count == 0 && d.election_vrf_len == 2);
    ASSERT_EQ(d.n_beacon_entries, 1);
    ASSERT_EQ(d.beacon_entries[0].round, 5);
    ASSERT_EQ(d.n_win_post_proof, 1);
    ASSERT_EQ(d.n_parents, 1);
    ASSERT_TRUE(vc_cid_equal(&d.parents[0], &parent));
    ASSERT_EQ(d.height, 2);
    ASSERT_EQ(d.timestamp, 1);
    ASSERT_EQ(d.fork_signaling, 3);
    ASSERT_NOTNULL(d.bls_aggregate);
    ASSERT_EQ(d.bls_aggregate->type, 0);
    ASSERT_TRUE(d.block_sig == NULL);
    vc_buf_t b2 = {0};
    ASSERT_OK(vc_block_header_encode(&d, &b2));
    ASSERT_EQ(b2.len, b.len);
    ASSERT_MEMEQ(b2.data, b.data, b.len);
    /* JSON both ways */
    json_t *j;
    ASSERT_OK(vc_block_header_to_json(&d, 'f', &j));
    ASSERT_EQ(json_integer_value(json_object_get(j, "Height")), 2);
    ASSERT_STREQ(json_string_value(json_object_get(j, "ParentBaseFee")), "1000000000");
    ASSERT_STREQ(json_string_value(json_object_get(json_object_get(j, "Ticket"), "VRFProof")), "AQID");
    ASSERT_TRUE(json_is_null(json_object_get(j, "BlockSig")));
    ASSERT_OK(vc_block_header_from_json(j, &d2));
    json_decref(j);
    vc_buf_done(&b2);
    ASSERT_OK(vc_block_header_encode(&d2, &b2));
    ASSERT_EQ(b2.len, b.len);
    ASSERT_MEMEQ(b2.data, b.data, b.len);
    /* with a block signature: CID changes, signing bytes do not */
    vc_signature_t sig;
    ASSERT_OK(vc_signature_set(&sig, VC_SIG_SECP256K1, ticket, 3));
    d2.block_sig = &sig;
    vc_block_header_t d3;
    ASSERT_OK(vc_block_header_copy(&d2, &d3));
    ASSERT_NOTNULL(d3.block_sig);
    ASSERT_EQ(d3.block_sig->type, 1);
    vc_cid_t c1, c2;
    ASSERT_OK(vc_block_header_cid(&d3, &c1));
    ASSERT_OK(vc_block_header_cid(&d, &c2));
    ASSERT_FALSE(vc_cid_equal(&c1, &c2));
    /* truncations and trailing bytes are refused */
    for (size_t cut = 0; cut < b.len; cut++)
        ASSERT_TRUE(vc_block_header_decode((const uint8_t *)b.data, cut, &d3 /* untouched on error */) < 0 ||
                    (vc_block_header_done(&d3), false));
    ASSERT_OK(vc_buf_append(&b, "\x00", 1));
    vc_block_header_t bad;
    ASSERT_TRUE(vc_block_header_decode((const uint8_t *)b.data, b.len, &bad) < 0);
    vc_block_header_done(&d3);
    vc_block_header_done(&d2);
    vc_block_header_done(&d);
    vc_buf_done(&b2);
    vc_buf_done(&b);
}

static void test_win_count(void)
{
    json_t *v = json_object_get(vc_test_vectors(), "winCount");
    char s[VC_BIGINT_STRLEN_MAX];
    vc_bigint_t p, t, lam, pmf, icdf, k;
    size_t i;
    json_t *e;

    json_array_foreach(json_object_get(v, "lambda"), i, e)
    {
        ASSERT_OK(vc_bigint_from_string(jstr(e, "power"), &p));
        ASSERT_OK(vc_bigint_from_string(jstr(e, "total"), &t));
        ASSERT_OK(vc_election_lambda(&p, &t, &lam));
        ASSERT_OK(vc_bigint_to_string(&lam, s, sizeof(s)));
        ASSERT_STREQ(s, jstr(e, "q256"));
    }
    /* icdf sequence for lambda = 2 */
    vc_bigint_from_u64(2, &lam);
    ASSERT_OK(vc_bigint_shl(&lam, 256, &lam));
    ASSERT_OK(vc_election_expneg(&lam, &pmf));
    vc_bigint_from_u64(1, &icdf);
    ASSERT_OK(vc_bigint_shl(&icdf, 256, &icdf));
    ASSERT_OK(vc_bigint_sub(&icdf, &pmf, &icdf));
    json_array_foreach(json_object_get(v, "icdfLambda2"), i, e)
    {
        ASSERT_OK(vc_bigint_to_string(&icdf, s, sizeof(s)));
        ASSERT_STREQ(s, json_string_value(e));
        vc_bigint_from_u64(i + 1, &k);
        ASSERT_OK(vc_bigint_div(&pmf, &k, &pmf));
        ASSERT_OK(vc_bigint_mul(&pmf, &lam, &pmf));
        ASSERT_OK(vc_bigint_shr(&pmf, 256, &pmf));
        ASSERT_OK(vc_bigint_sub(&icdf, &pmf, &icdf));
    }
    json_array_foreach(json_object_get(v, "cases"), i, e)
    {
        uint8_t vrf[256];
        size_t n = json_string_length(json_object_get(e, "vrfProofHex")) / 2;
        int64_t wc;
        ASSERT_TRUE(n <= sizeof(vrf));
        ASSERT_OK(vc_hex_decode(jstr(e, "vrfProofHex"), 2 * n, vrf));
        vc_bigint_from_i64(json_integer_value(json_object_get(e, "power")), &p);
        vc_bigint_from_i64(json_integer_value(json_object_get(e, "total")), &t);
        ASSERT_OK(vc_election_win_count(vrf, n, &p, &t, &wc));
        ASSERT_EQ(wc, json_integer_value(json_object_get(e, "winCount")));
    }
}

int main(int argc, char **argv)
{
    VC_TEST_INIT(argc, argv);
    if (vc_init() < 0)
        return 1;
    VC_TEST_RUN(test_messages);
    VC_TEST_RUN(test_keys);
    VC_TEST_RUN(test_addresses);
    VC_TEST_RUN(test_bigint);
    VC_TEST_RUN(test_amt);
    VC_TEST_RUN(test_block_header);
    VC_TEST_RUN(test_win_count);
    return VC_TEST_DONE();
}
