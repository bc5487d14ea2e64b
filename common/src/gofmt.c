/* gofmt.c: Go-compatible float and duration formatting. */
#include <inttypes.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vc/gofmt.h"
#include "vc/util.h"

/* Shortest decimal digits of |v| (v finite, non-zero): digits without dot, exponent of the
 * first digit (v = 0.d1d2... * 10^(exp+1)). */
static void shortest_digits(double v, char digits[24], int *ret_exp)
{
    char tmp[40];
    for (int p = 1; p <= 17; p++) {
        snprintf(tmp, sizeof(tmp), "%.*e", p - 1, v);
        if (strtod(tmp, NULL) == v || p == 17)
            break;
    }
    /* tmp: d[.ddd]e[+-]XX */
    size_t n = 0;
    const char *s = tmp;
    for (; *s && *s != 'e'; s++)
        if (*s >= '0' && *s <= '9')
            digits[n++] = *s;
    /* strip trailing zeros (keep at least one digit) */
    while (n > 1 && digits[n - 1] == '0')
        n--;
    digits[n] = 0;
    *ret_exp = *s == 'e' ? atoi(s + 1) : 0;
}

static int put(char *out, size_t size, size_t *pos, const char *s, size_t n)
{
    if (*pos + n + 1 > size)
        return -ENOBUFS;
    memcpy(out + *pos, s, n);
    *pos += n;
    out[*pos] = 0;
    return 0;
}

static int put_zeros(char *out, size_t size, size_t *pos, int n)
{
    for (int i = 0; i < n; i++)
        if (put(out, size, pos, "0", 1) < 0)
            return -ENOBUFS;
    return 0;
}

int vc_format_float_go(double v, char fmt, char *out, size_t size)
{
    size_t pos = 0;
    char digits[24];
    int exp, r;

    if (size == 0)
        return -ENOBUFS;
    out[0] = 0;
    if (isnan(v))
        return put(out, size, &pos, "NaN", 3) < 0 ? -ENOBUFS : 3;
    if (isinf(v))
        return put(out, size, &pos, v > 0 ? "+Inf" : "-Inf", 4) < 0 ? -ENOBUFS : 4;
    if (signbit(v) && put(out, size, &pos, "-", 1) < 0)
        return -ENOBUFS;
    v = fabs(v);
    if (v == 0) {
        strcpy(digits, "0");
        exp = 0;
    } else
        shortest_digits(v, digits, &exp);
    int nd = (int)strlen(digits);

    if (fmt == 'g') {
        int eprec = 6;
        int dp = exp + 1;
        if (eprec > nd && nd >= dp)
            eprec = nd;
        fmt = (exp < -4 || exp >= eprec) ? 'e' : 'f';
    }
    if (fmt == 'e') {
        char e[16];
        if (put(out, size, &pos, digits, 1) < 0)
            return -ENOBUFS;
        if (nd > 1 &&
            (put(out, size, &pos, ".", 1) < 0 || put(out, size, &pos, digits + 1, (size_t)nd - 1) < 0))
            return -ENOBUFS;
        r = snprintf(e, sizeof(e), "e%c%02d", exp < 0 ? '-' : '+', abs(exp));
        return put(out, size, &pos, e, (size_t)r) < 0 ? -ENOBUFS : (int)pos;
    }
    /* 'f' */
    int dp = exp + 1;
    if (dp <= 0) {
        if (put(out, size, &pos, "0.", 2) < 0 || put_zeros(out, size, &pos, -dp) < 0 ||
            put(out, size, &pos, digits, (size_t)nd) < 0)
            return -ENOBUFS;
    } else if (dp >= nd) {
        if (put(out, size, &pos, digits, (size_t)nd) < 0 || put_zeros(out, size, &pos, dp - nd) < 0)
            return -ENOBUFS;
    } else {
        if (put(out, size, &pos, digits, (size_t)dp) < 0 || put(out, size, &pos, ".", 1) < 0 ||
            put(out, size, &pos, digits + dp, (size_t)(nd - dp)) < 0)
            return -ENOBUFS;
    }
    return (int)pos;
}

void vc_format_duration_go(int64_t ms, char out[32])
{
    uint64_t u;
    size_t pos = 0;
    bool neg = ms < 0;

    if (ms == 0) {
        strcpy(out, "0s");
        return;
    }
    u = neg ? (uint64_t)0 - (uint64_t)ms : (uint64_t)ms;
    if (neg)
        out[pos++] = '-';
    if (u < 1000) {
        snprintf(out + pos, 32 - pos, "%" PRIu64 "ms", u);
        return;
    }
    uint64_t h = u / 3600000, m = (u / 60000) % 60, s = (u / 1000) % 60, frac = u % 1000;
    if (h > 0)
        pos += (size_t)snprintf(out + pos, 32 - pos, "%" PRIu64 "h", h);
    if (h > 0 || m > 0)
        pos += (size_t)snprintf(out + pos, 32 - pos, "%" PRIu64 "m", m);
    if (frac) {
        char f[8];
        snprintf(f, sizeof(f), "%03" PRIu64, frac);
        for (int i = 2; i > 0 && f[i] == '0'; i--)
            f[i] = 0;
        snprintf(out + pos, 32 - pos, "%" PRIu64 ".%ss", s, f);
    } else
        snprintf(out + pos, 32 - pos, "%" PRIu64 "s", s);
}
