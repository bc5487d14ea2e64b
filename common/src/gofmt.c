/* gofmt.c: Go-compatible float, duration and time formatting (strconv / time). */
#include <inttypes.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

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

/* ---- time.ParseDuration ---- */

static const struct {
    const char *name;
    uint64_t ns;
} duration_units[] = {
    {"ns", 1ULL},
    {"us", 1000ULL},
    {"\xc2\xb5s", 1000ULL}, /* U+00B5 micro sign */
    {"\xce\xbcs", 1000ULL}, /* U+03BC Greek mu */
    {"ms", 1000000ULL},
    {"s", 1000000000ULL},
    {"m", 60000000000ULL},
    {"h", 3600000000000ULL},
};

int vc_parse_duration_go(const char *s, int64_t *ret_ns)
{
    uint64_t total = 0;
    bool neg = false;

    if (!s)
        return -EINVAL;
    if (*s == '-' || *s == '+')
        neg = *s++ == '-';
    if (strcmp(s, "0") == 0) {
        *ret_ns = 0;
        return 0;
    }
    if (!*s)
        return -EINVAL;
    while (*s) {
        uint64_t v = 0, f = 0;
        double scale = 1;
        bool pre = false, post = false, f_overflow = false;

        if (!(*s == '.' || (*s >= '0' && *s <= '9')))
            return -EINVAL;
        for (; *s >= '0' && *s <= '9'; s++) {
            if (v > (UINT64_MAX - 9) / 10 || v * 10 + (uint64_t)(*s - '0') > (1ULL << 63))
                return -ERANGE;
            v = v * 10 + (uint64_t)(*s - '0');
            pre = true;
        }
        if (*s == '.') {
            for (s++; *s >= '0' && *s <= '9'; s++) {
                post = true;
                if (f_overflow)
                    continue;
                if (f > (UINT64_MAX / 2 - 9) / 10) { /* keep what we have, drop the rest */
                    f_overflow = true;
                    continue;
                }
                f = f * 10 + (uint64_t)(*s - '0');
                scale *= 10;
            }
        }
        if (!pre && !post)
            return -EINVAL;
        const char *u = s;
        while (*s && *s != '.' && !(*s >= '0' && *s <= '9'))
            s++;
        size_t ulen = (size_t)(s - u);
        if (ulen == 0)
            return -EINVAL; /* missing unit */
        uint64_t unit = 0;
        for (size_t i = 0; i < VC_ELEMENTSOF(duration_units); i++)
            if (strlen(duration_units[i].name) == ulen && memcmp(duration_units[i].name, u, ulen) == 0)
                unit = duration_units[i].ns;
        if (!unit)
            return -EINVAL; /* unknown unit */
        if (v > (1ULL << 63) / unit)
            return -ERANGE;
        v *= unit;
        if (f > 0) {
            v += (uint64_t)((double)f * ((double)unit / scale));
            if (v > (1ULL << 63))
                return -ERANGE;
        }
        total += v;
        if (total > (1ULL << 63))
            return -ERANGE;
    }
    if (neg) {
        *ret_ns = total == (1ULL << 63) ? INT64_MIN : -(int64_t)total;
        return 0;
    }
    if (total > (uint64_t)INT64_MAX)
        return -ERANGE;
    *ret_ns = (int64_t)total;
    return 0;
}

/* ---- time.Time ---- */

/* Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's algorithm). */
static int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    unsigned yoe = (unsigned)(y - era * 400);
    unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
    unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (int64_t)doe - 719468;
}

static void civil_from_days(int64_t z, int64_t *ret_y, unsigned *ret_m, unsigned *ret_d)
{
    z += 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    unsigned doe = (unsigned)(z - era * 146097);
    unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t y = (int64_t)yoe + era * 400;
    unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    unsigned mp = (5 * doy + 2) / 153;
    unsigned d = doy - (153 * mp + 2) / 5 + 1;
    unsigned m = mp < 10 ? mp + 3 : mp - 9;
    *ret_y = y + (m <= 2);
    *ret_m = m;
    *ret_d = d;
}

static int64_t floor_div(int64_t a, int64_t b)
{
    return a / b - (a % b != 0 && (a < 0) != (b < 0));
}

static bool is_leap(int64_t y)
{
    return y % 4 == 0 && (y % 100 != 0 || y % 400 == 0);
}

/* The local zone at unix second sec: offset and abbreviation. */
static void local_zone(int64_t sec, int32_t *ret_offset, char zone[16])
{
    time_t t = (time_t)sec;
    struct tm tm;
    if (!localtime_r(&t, &tm)) {
        *ret_offset = 0;
        snprintf(zone, 16, "UTC");
        return;
    }
    *ret_offset = (int32_t)tm.tm_gmtoff;
    snprintf(zone, 16, "%s", tm.tm_zone ? tm.tm_zone : "");
}

void vc_gotime_local(int64_t sec, int64_t nsec, vc_gotime_t *ret)
{
    sec += floor_div(nsec, 1000000000);
    nsec -= floor_div(nsec, 1000000000) * 1000000000;
    memset(ret, 0, sizeof(*ret));
    ret->sec = sec;
    ret->nsec = (int32_t)nsec;
    local_zone(sec, &ret->offset, ret->zone);
}

static int digits(const char **p, int n, int *ret)
{
    int v = 0;
    for (int i = 0; i < n; i++) {
        char c = (*p)[i];
        if (c < '0' || c > '9')
            return VC_EPARSE;
        v = v * 10 + (c - '0');
    }
    *p += n;
    *ret = v;
    return 0;
}

static int expect(const char **p, char c)
{
    if (**p != c)
        return VC_EPARSE;
    (*p)++;
    return 0;
}

int vc_gotime_parse_rfc3339(const char *s, vc_gotime_t *ret)
{
    static const unsigned mdays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    int year, mon, day, hour, min, sec, nsec = 0, offset = 0;
    const char *p = s;
    bool utc = false;
    vc_gotime_t t = {0};

    if (!s)
        return VC_EPARSE;
    if (digits(&p, 4, &year) < 0 || expect(&p, '-') < 0 || digits(&p, 2, &mon) < 0 || expect(&p, '-') < 0 ||
        digits(&p, 2, &day) < 0)
        return VC_EPARSE;
    if (*p != 'T' && *p != 't')
        return VC_EPARSE;
    p++;
    if (digits(&p, 2, &hour) < 0 || expect(&p, ':') < 0 || digits(&p, 2, &min) < 0 || expect(&p, ':') < 0 ||
        digits(&p, 2, &sec) < 0)
        return VC_EPARSE;
    if (*p == '.' || *p == ',') {
        int n = 0;
        for (p++; *p >= '0' && *p <= '9'; p++, n++)
            if (n < 9)
                nsec = nsec * 10 + (*p - '0');
        if (n == 0)
            return VC_EPARSE;
        for (; n < 9; n++)
            nsec *= 10;
    }
    if (*p == 'Z' || *p == 'z') {
        utc = true;
        p++;
    } else if (*p == '+' || *p == '-') {
        int sign = *p++ == '-' ? -1 : 1, oh, om;
        if (digits(&p, 2, &oh) < 0 || expect(&p, ':') < 0 || digits(&p, 2, &om) < 0)
            return VC_EPARSE;
        if (oh > 23 || om > 59)
            return -ERANGE;
        offset = sign * (oh * 3600 + om * 60);
    } else
        return VC_EPARSE;
    if (*p)
        return VC_EPARSE;
    if (mon < 1 || mon > 12 || day < 1 || hour > 23 || min > 59 || sec > 59)
        return -ERANGE;
    if ((unsigned)day > mdays[mon - 1] + (mon == 2 && is_leap(year)))
        return -ERANGE;

    t.sec = days_from_civil(year, (unsigned)mon, (unsigned)day) * 86400 + hour * 3600 + min * 60 + sec - offset;
    t.nsec = nsec;
    if (utc) {
        t.offset = 0;
        snprintf(t.zone, sizeof(t.zone), "UTC");
    } else {
        int32_t loff;
        char lzone[16];
        local_zone(t.sec, &loff, lzone);
        t.offset = offset;
        if (loff == offset)
            memcpy(t.zone, lzone, sizeof(t.zone));
    }
    *ret = t;
    return 0;
}

static const char *const weekdays[] = {"Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"};
static const char *const months[] = {"January", "February", "March",     "April",   "May",      "June",
                                     "July",    "August",   "September", "October", "November", "December"};

static bool has_prefix(const char *s, const char *prefix)
{
    return strncmp(s, prefix, strlen(prefix)) == 0;
}

static int put_offset(char *out, size_t size, size_t *pos, int32_t offset, bool colon, bool z)
{
    char b[16];
    if (z && offset == 0)
        return put(out, size, pos, "Z", 1);
    int32_t m = offset / 60;
    char sign = m < 0 ? '-' : '+';
    if (m < 0)
        m = -m;
    int n = snprintf(b, sizeof(b), colon ? "%c%02d:%02d" : "%c%02d%02d", sign, (int)(m / 60), (int)(m % 60));
    return put(out, size, pos, b, (size_t)n);
}

int vc_gotime_format(const vc_gotime_t *t, const char *layout, char *out, size_t size)
{
    size_t pos = 0;
    int64_t local = t->sec + t->offset;
    int64_t days = floor_div(local, 86400), secs = local - days * 86400, year;
    unsigned mon, day;
    int r = 0;
    char b[32];

    if (size == 0)
        return -ENOBUFS;
    out[0] = 0;
    civil_from_days(days, &year, &mon, &day);
    int wday = (int)(((days % 7) + 11) % 7); /* 1970-01-01 was a Thursday */
    int hour = (int)(secs / 3600), min = (int)(secs / 60 % 60), sec = (int)(secs % 60);

    for (const char *p = layout; *p && r >= 0;) {
        int n;
        if (has_prefix(p, "2006")) {
            n = snprintf(b, sizeof(b), "%04" PRId64, year);
            r = put(out, size, &pos, b, (size_t)n);
            p += 4;
        } else if (has_prefix(p, "January")) {
            r = put(out, size, &pos, months[mon - 1], strlen(months[mon - 1]));
            p += 7;
        } else if (has_prefix(p, "Jan")) {
            r = put(out, size, &pos, months[mon - 1], 3);
            p += 3;
        } else if (has_prefix(p, "Monday")) {
            r = put(out, size, &pos, weekdays[wday], strlen(weekdays[wday]));
            p += 6;
        } else if (has_prefix(p, "Mon")) {
            r = put(out, size, &pos, weekdays[wday], 3);
            p += 3;
        } else if (has_prefix(p, "MST")) {
            if (t->zone[0])
                r = put(out, size, &pos, t->zone, strlen(t->zone));
            else
                r = put_offset(out, size, &pos, t->offset, false, false);
            p += 3;
        } else if (has_prefix(p, "01") || has_prefix(p, "02") || has_prefix(p, "15") || has_prefix(p, "04") ||
                   has_prefix(p, "05")) {
            int v = p[0] == '1' ? hour : p[1] == '1' ? (int)mon : p[1] == '2' ? (int)day : p[1] == '4' ? min : sec;
            n = snprintf(b, sizeof(b), "%02d", v);
            r = put(out, size, &pos, b, (size_t)n);
            p += 2;
        } else if (has_prefix(p, "Z07:00") || has_prefix(p, "-07:00")) {
            r = put_offset(out, size, &pos, t->offset, true, *p == 'Z');
            p += 6;
        } else if (has_prefix(p, "Z0700") || has_prefix(p, "-0700")) {
            r = put_offset(out, size, &pos, t->offset, false, *p == 'Z');
            p += 5;
        } else if ((p[0] == '.' || p[0] == ',') && (p[1] == '0' || p[1] == '9')) {
            char d = p[1];
            size_t k = 1;
            while (p[k] == d)
                k++;
            if (p[k] >= '0' && p[k] <= '9') { /* not a fraction element: copy the separator */
                r = put(out, size, &pos, p, 1);
                p++;
                continue;
            }
            size_t want = k - 1;
            if (want > 9)
                want = 9;
            char frac[16];
            snprintf(frac, sizeof(frac), "%09d", (int)t->nsec);
            frac[want] = 0;
            if (d == '9') {
                while (want > 0 && frac[want - 1] == '0')
                    frac[--want] = 0;
                if (want == 0) {
                    p += k;
                    continue;
                }
            }
            r = put(out, size, &pos, p, 1);
            if (r >= 0)
                r = put(out, size, &pos, frac, want);
            p += k;
        } else {
            r = put(out, size, &pos, p, 1);
            p++;
        }
    }
    return r < 0 ? -ENOBUFS : (int)pos;
}

int vc_format_rfc3339nano_local(int64_t unix_ns, char out[VC_GOTIME_STRLEN_MAX])
{
    vc_gotime_t t;
    vc_gotime_local(0, unix_ns, &t);
    int n = vc_gotime_format(&t, VC_GOTIME_RFC3339NANO, out, VC_GOTIME_STRLEN_MAX);
    return n < 0 ? 0 : n;
}
