/* Tests for gofmt.c (Go strconv/time formatting). */
#include <math.h>
#include <stdlib.h>
#include <time.h>

#include "vc-test.h"
#include "vc/gofmt.h"
#include "vc/util.h"

static void check_float(double v, char fmt, const char *want)
{
    char buf[VC_GOFMT_FLOAT_MAX];
    if (vc_format_float_go(v, fmt, buf, sizeof(buf)) < 0 || strcmp(buf, want) != 0)
        VC_FAIL_("format %.17g '%c': got '%s' want '%s'", v, fmt, buf, want);
}

static void test_float(void)
{
    check_float(0, 'g', "0");
    check_float(-0.0, 'g', "-0");
    check_float(1, 'g', "1");
    check_float(100, 'g', "100");
    check_float(0.005, 'g', "0.005");
    check_float(2.5, 'g', "2.5");
    check_float(1e6, 'g', "1e+06");
    check_float(123456, 'g', "123456");
    check_float(1234567, 'g', "1.234567e+06");
    check_float(0.0001, 'g', "0.0001");
    check_float(0.00001, 'g', "1e-05");
    check_float(0.1 + 0.2, 'g', "0.30000000000000004");
    check_float(1e21, 'e', "1e+21");
    check_float(1.5e-7, 'e', "1.5e-07");
    check_float(1e20, 'f', "100000000000000000000");
    check_float(0.000123, 'f', "0.000123");
    check_float(-12.5, 'f', "-12.5");
    check_float(INFINITY, 'g', "+Inf");
    check_float(-INFINITY, 'f', "-Inf");
    check_float(NAN, 'g', "NaN");
    char small[4];
    ASSERT_EQ(vc_format_float_go(12345.0, 'f', small, sizeof(small)), -ENOBUFS);
}

static void test_duration(void)
{
    static const struct {
        int64_t ms;
        const char *s;
    } cases[] = {
        {0, "0s"},        {1, "1ms"},      {500, "500ms"},   {1000, "1s"},        {1500, "1.5s"},
        {15000, "15s"},   {60000, "1m0s"}, {90000, "1m30s"}, {3600000, "1h0m0s"}, {3661001, "1h1m1.001s"},
        {-1500, "-1.5s"}, {1010, "1.01s"},
    };
    char buf[32];
    for (size_t i = 0; i < VC_ELEMENTSOF(cases); i++) {
        vc_format_duration_go(cases[i].ms, buf);
        ASSERT_STREQ(buf, cases[i].s);
    }
}

static void check_parse_duration(const char *s, int64_t want)
{
    int64_t ns = -42;
    int r = vc_parse_duration_go(s, &ns);
    if (r < 0 || ns != want)
        VC_FAIL_("parse duration '%s': r=%d got %" PRId64 " want %" PRId64, s, r, ns, want);
}

static void test_parse_duration(void)
{
    const int64_t S = 1000000000LL;
    check_parse_duration("0", 0);
    check_parse_duration("-0", 0);
    check_parse_duration("2h", 2 * 3600 * S);
    check_parse_duration("1h20m", 80 * 60 * S);
    check_parse_duration("2m10s", 130 * S);
    check_parse_duration("1.5h", 5400 * S);
    check_parse_duration("-1.5h", -5400 * S);
    check_parse_duration("+30s", 30 * S);
    check_parse_duration("300ms", 300000000);
    check_parse_duration(".5s", S / 2);
    check_parse_duration("1.s", S);
    check_parse_duration("1us", 1000);
    check_parse_duration("1\xc2\xb5s", 1000);
    check_parse_duration("1\xce\xbcs", 1000);
    check_parse_duration("7ns", 7);
    check_parse_duration("1h1m1s1ms1us1ns", 3661001001001LL);
    check_parse_duration("9223372036854775807ns", INT64_MAX);
    check_parse_duration("-9223372036854775808ns", INT64_MIN);
    int64_t keep = 5;
    const char *bad[] = {"", "1", "1x", "h", ".", "-", "1.5", "s1", "1h 2m", "1hh", "--1s", "1e3s"};
    for (size_t i = 0; i < VC_ELEMENTSOF(bad); i++)
        if (vc_parse_duration_go(bad[i], &keep) != -EINVAL)
            VC_FAIL_("'%s' should be -EINVAL", bad[i]);
    ASSERT_EQ(keep, 5);
    ASSERT_EQ(vc_parse_duration_go("9223372036854775808ns", &keep), -ERANGE);
    ASSERT_EQ(vc_parse_duration_go("3000000h", &keep), -ERANGE);
}

static void set_tz(const char *tz)
{
    setenv("TZ", tz, 1);
    tzset();
}

static void check_fmt(const vc_gotime_t *t, const char *layout, const char *want)
{
    char buf[VC_GOTIME_STRLEN_MAX];
    if (vc_gotime_format(t, layout, buf, sizeof(buf)) < 0 || strcmp(buf, want) != 0)
        VC_FAIL_("format '%s': got '%s' want '%s'", layout, buf, want);
}

static void test_time_utc(void)
{
    char buf[VC_GOTIME_STRLEN_MAX];
    vc_gotime_t t;

    set_tz("UTC");
    ASSERT_EQ(vc_format_rfc3339nano_local(1617094952347018000LL, buf), 27);
    ASSERT_STREQ(buf, "2021-03-30T09:02:32.347018Z");
    vc_format_rfc3339nano_local(1617094952000000000LL, buf);
    ASSERT_STREQ(buf, "2021-03-30T09:02:32Z");
    vc_format_rfc3339nano_local(1617094952100000000LL, buf);
    ASSERT_STREQ(buf, "2021-03-30T09:02:32.1Z");
    vc_format_rfc3339nano_local(-1, buf);
    ASSERT_STREQ(buf, "1969-12-31T23:59:59.999999999Z");

    vc_gotime_local(1662605450, 0, &t);
    ASSERT_STREQ(t.zone, "UTC");
    check_fmt(&t, VC_GOTIME_RFC1123, "Thu, 08 Sep 2022 02:50:50 UTC");
    check_fmt(&t, VC_GOTIME_DATETIME, "2022-09-08 02:50:50");
    check_fmt(&t, "Monday January 2006 .000 ,9 Z0700 -07:00", "Thursday September 2022 .000  Z +00:00");
    vc_gotime_local(0, 0, &t);
    check_fmt(&t, VC_GOTIME_RFC1123, "Thu, 01 Jan 1970 00:00:00 UTC");
    vc_gotime_local(-86400, 0, &t);
    check_fmt(&t, VC_GOTIME_RFC1123, "Wed, 31 Dec 1969 00:00:00 UTC");
    vc_gotime_local(951782400, 0, &t); /* leap day */
    check_fmt(&t, VC_GOTIME_RFC1123, "Tue, 29 Feb 2000 00:00:00 UTC");

    /* "Z" -> UTC; a non-local offset -> nameless zone printed as a number */
    ASSERT_OK(vc_gotime_parse_rfc3339("2006-01-02T15:04:05Z", &t));
    ASSERT_EQ(t.sec, 1136214245);
    ASSERT_EQ(t.nsec, 0);
    check_fmt(&t, VC_GOTIME_RFC1123, "Mon, 02 Jan 2006 15:04:05 UTC");
    check_fmt(&t, VC_GOTIME_STRING, "2006-01-02 15:04:05 +0000 UTC");
    ASSERT_OK(vc_gotime_parse_rfc3339("2021-03-30T17:02:32.347018+08:00", &t));
    ASSERT_EQ(t.sec, 1617094952);
    ASSERT_EQ(t.nsec, 347018000);
    ASSERT_EQ(t.offset, 8 * 3600);
    ASSERT_STREQ(t.zone, "");
    check_fmt(&t, VC_GOTIME_DATETIME, "2021-03-30 17:02:32");
    check_fmt(&t, VC_GOTIME_STRING, "2021-03-30 17:02:32.347018 +0800 +0800");
    check_fmt(&t, VC_GOTIME_RFC3339NANO, "2021-03-30T17:02:32.347018+08:00");
    check_fmt(&t, VC_GOTIME_RFC1123, "Tue, 30 Mar 2021 17:02:32 +0800");
    ASSERT_OK(vc_gotime_parse_rfc3339("2021-03-30T05:32:32.123456789123-03:30", &t));
    ASSERT_EQ(t.sec, 1617094952);
    ASSERT_EQ(t.nsec, 123456789);
    check_fmt(&t, VC_GOTIME_RFC3339, "2021-03-30T05:32:32-03:30");
    check_fmt(&t, "15:04:05.000000", "05:32:32.123456");
    ASSERT_OK(vc_gotime_parse_rfc3339("2024-02-29T00:00:00+00:00", &t));
    ASSERT_STREQ(t.zone, "UTC"); /* same offset as the local zone: Local */

    ASSERT_EQ(vc_gotime_parse_rfc3339("2021-02-29T00:00:00Z", &t), -ERANGE);
    ASSERT_EQ(vc_gotime_parse_rfc3339("2021-13-01T00:00:00Z", &t), -ERANGE);
    ASSERT_EQ(vc_gotime_parse_rfc3339("2021-01-01T24:00:00Z", &t), -ERANGE);
    ASSERT_EQ(vc_gotime_parse_rfc3339("2021-03-30 17:02:32Z", &t), VC_EPARSE);
    ASSERT_EQ(vc_gotime_parse_rfc3339("2021-03-30T17:02:32", &t), VC_EPARSE);
    ASSERT_EQ(vc_gotime_parse_rfc3339("2021-03-30T17:02:32.Z", &t), VC_EPARSE);
    ASSERT_EQ(vc_gotime_parse_rfc3339("2021-03-30T17:02:32+0800", &t), VC_EPARSE);
    ASSERT_EQ(vc_gotime_parse_rfc3339("2021-03-30T17:02:32Zjunk", &t), VC_EPARSE);
    ASSERT_EQ(vc_gotime_parse_rfc3339("\"2021-03-30T17:02:32Z\"", &t), VC_EPARSE);
    char small[8];
    ASSERT_EQ(vc_gotime_format(&t, VC_GOTIME_DATETIME, small, sizeof(small)), -ENOBUFS);
}

static void test_time_offset_zone(void)
{
    char buf[VC_GOTIME_STRLEN_MAX];
    vc_gotime_t t;

    /* POSIX form: abbreviation CST, 8 hours east of UTC (works without tzdata) */
    set_tz("CST-8");
    vc_format_rfc3339nano_local(1617094952347018000LL, buf);
    ASSERT_STREQ(buf, "2021-03-30T17:02:32.347018+08:00");
    vc_gotime_local(1662605450, 0, &t);
    ASSERT_EQ(t.offset, 8 * 3600);
    check_fmt(&t, VC_GOTIME_RFC1123, "Thu, 08 Sep 2022 10:50:50 CST");
    check_fmt(&t, VC_GOTIME_DATETIME, "2022-09-08 10:50:50");
    ASSERT_OK(vc_gotime_parse_rfc3339("2021-03-30T17:02:32.347018+08:00", &t));
    ASSERT_STREQ(t.zone, "CST");
    check_fmt(&t, VC_GOTIME_STRING, "2021-03-30 17:02:32.347018 +0800 CST");
    ASSERT_OK(vc_gotime_parse_rfc3339("2021-03-30T09:02:32.347018Z", &t));
    check_fmt(&t, VC_GOTIME_DATETIME, "2021-03-30 09:02:32"); /* shown in its own zone, as Go */
    ASSERT_OK(vc_gotime_parse_rfc3339("2021-03-30T09:02:32+00:00", &t));
    check_fmt(&t, VC_GOTIME_STRING, "2021-03-30 09:02:32 +0000 +0000");

    /* West of UTC, with a half-hour offset */
    set_tz("NST+3:30");
    vc_format_rfc3339nano_local(1617094952000000001LL, buf);
    ASSERT_STREQ(buf, "2021-03-30T05:32:32.000000001-03:30");

    /* tzdata names, when installed */
    set_tz("Asia/Shanghai");
    vc_gotime_local(1662605450, 0, &t);
    if (t.offset == 8 * 3600) {
        check_fmt(&t, VC_GOTIME_RFC1123, "Thu, 08 Sep 2022 10:50:50 CST");
        vc_format_rfc3339nano_local(1617094952347018000LL, buf);
        ASSERT_STREQ(buf, "2021-03-30T17:02:32.347018+08:00");
    } else
        fprintf(stderr, "note: no tzdata for Asia/Shanghai, skipped\n");
    set_tz("UTC");
}

int main(int argc, char **argv)
{
    VC_TEST_INIT(argc, argv);
    VC_TEST_RUN(test_float);
    VC_TEST_RUN(test_duration);
    VC_TEST_RUN(test_parse_duration);
    VC_TEST_RUN(test_time_utc);
    VC_TEST_RUN(test_time_offset_zone);
    return VC_TEST_DONE();
}
