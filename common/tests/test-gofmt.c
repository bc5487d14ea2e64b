/* Tests for gofmt.c (Go strconv/time formatting). */
#include <math.h>

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

int main(int argc, char **argv)
{
    VC_TEST_INIT(argc, argv);
    VC_TEST_RUN(test_float);
    VC_TEST_RUN(test_duration);
    return VC_TEST_DONE();
}
