/* election.c: Poisson sortition win count (see election.h). */
#include "vc/election.h"
#include "vc/blake2b.h"
#include "vc/util.h"

#define PRECISION 256

static const char *const expneg_num[] = {
    "-648770010757830093818553637600",
    "67469480939593786226847644286976",
    "-3197587544499098424029388939001856",
    "89244641121992890118377641805348864",
    "-1579656163641440567800982336819953664",
    "17685496037279256458459817590917169152",
    "-115682590513835356866803355398940131328",
    "340282366920938463463374607431768211456",
};

static const char *const expneg_den[] = {
    "1225524182432722209606361",
    "114095592300906098243859450",
    "5665570424063336070530214243",
    "194450132448609991765137938448",
    "5068267641632683791026134915072",
    "104716890604972796896895427629056",
    "1748338658439454459487681798864896",
    "23704654329841312470660182937960448",
    "259380097567996910282699886670381056",
    "2250336698853390384720606936038375424",
    "14978272436876548034486263159246028800",
    "72144088983913131323343765784380833792",
    "224599776407103106596571252037123047424",
    "340282366920938463463374607431768211456",
};

/* Horner in Q.256: res = ((res * x) >> 256) + (c << 128). */
static int polyval(const char *const *coefs, size_t n, const vc_bigint_t *x, vc_bigint_t *ret)
{
    vc_bigint_t res = VC_BIGINT_ZERO, c;
    int r;

    for (size_t i = 0; i < n; i++) {
        if ((r = vc_bigint_from_string(coefs[i], &c)) < 0 ||
            (r = vc_bigint_shl(&c, PRECISION - 128, &c)) < 0)
            return r;
        if (i == 0) {
            res = c;
            continue;
        }
        if ((r = vc_bigint_mul(&res, x, &res)) < 0 || (r = vc_bigint_shr(&res, PRECISION, &res)) < 0 ||
            (r = vc_bigint_add(&res, &c, &res)) < 0)
            return r;
    }
    *ret = res;
    return 0;
}

/* Floor division for a positive divisor (Go's Euclidean Div agrees for b > 0). */
static int div_floor(const vc_bigint_t *a, const vc_bigint_t *b, vc_bigint_t *ret)
{
    vc_bigint_t q, rem, one;
    int r = vc_bigint_divmod(a, b, &q, &rem);
    if (r < 0)
        return r;
    if (vc_bigint_sign(&rem) < 0) {
        vc_bigint_from_u64(1, &one);
        if ((r = vc_bigint_sub(&q, &one, &q)) < 0)
            return r;
    }
    *ret = q;
    return 0;
}

int vc_election_expneg(const vc_bigint_t *x, vc_bigint_t *ret)
{
    vc_bigint_t num, den;
    int r;

    if ((r = polyval(expneg_num, VC_ELEMENTSOF(expneg_num), x, &num)) < 0 ||
        (r = polyval(expneg_den, VC_ELEMENTSOF(expneg_den), x, &den)) < 0 ||
        (r = vc_bigint_shl(&num, PRECISION, &num)) < 0)
        return r;
    if (vc_bigint_sign(&den) <= 0)
        return -EDOM;
    return div_floor(&num, &den, ret);
}

int vc_election_lambda(const vc_bigint_t *power, const vc_bigint_t *total, vc_bigint_t *ret)
{
    vc_bigint_t lam, five;
    int r;

    if (vc_bigint_sign(power) < 0 || vc_bigint_sign(total) < 0)
        return -EINVAL;
    if (vc_bigint_is_zero(total))
        return -EDOM;
    vc_bigint_from_u64(VC_ELECTION_BLOCKS_PER_EPOCH, &five);
    if ((r = vc_bigint_mul(power, &five, &lam)) < 0 || (r = vc_bigint_shl(&lam, PRECISION, &lam)) < 0)
        return r;
    return vc_bigint_div(&lam, total, ret);
}

int vc_election_win_count(const uint8_t *vrf_proof, size_t len, const vc_bigint_t *power,
                          const vc_bigint_t *total, int64_t *ret)
{
    vc_bigint_t h, lam, pmf, icdf, kk;
    uint8_t digest[32];
    int64_t j = 0;
    int r;

    if (!vrf_proof && len > 0)
        return -EINVAL;
    vc_blake2b_256(vrf_proof, len, digest);
    if ((r = vc_bigint_from_be(digest, sizeof(digest), &h)) < 0 ||
        (r = vc_election_lambda(power, total, &lam)) < 0 || (r = vc_election_expneg(&lam, &pmf)) < 0)
        return r;
    vc_bigint_from_u64(1, &icdf);
    if ((r = vc_bigint_shl(&icdf, PRECISION, &icdf)) < 0 || (r = vc_bigint_sub(&icdf, &pmf, &icdf)) < 0)
        return r;
    while (vc_bigint_cmp(&h, &icdf) < 0 && j < VC_ELECTION_MAX_WIN_COUNT) {
        vc_bigint_from_u64((uint64_t)j + 1, &kk);
        if ((r = div_floor(&pmf, &kk, &pmf)) < 0 || (r = vc_bigint_mul(&pmf, &lam, &pmf)) < 0 ||
            (r = vc_bigint_shr(&pmf, PRECISION, &pmf)) < 0 || (r = vc_bigint_sub(&icdf, &pmf, &icdf)) < 0)
            return r;
        j++;
    }
    *ret = j;
    return 0;
}
