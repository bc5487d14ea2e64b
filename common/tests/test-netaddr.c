/* Tests for netaddr: listen addresses, multiaddrs and endpoint URLs. */
#include <arpa/inet.h>
#include <netinet/in.h>

#include "vc-test.h"
#include "vc/netaddr.h"
#include "vc/util.h"

static void check_listen(const char *in, const char *want)
{
    struct sockaddr_storage ss;
    socklen_t len;
    char out[80];
    if (!VC_CHECK(vc_netaddr_parse_listen(in, &ss, &len) == 0))
        return;
    vc_netaddr_format((struct sockaddr *)&ss, out, sizeof(out));
    if (strcmp(out, want) != 0)
        VC_FAIL_("%s -> %s, want %s", in, out, want);
}

static void test_listen(void)
{
    check_listen("127.0.0.1:8989", "127.0.0.1:8989");
    check_listen("/ip4/127.0.0.1/tcp/45132", "127.0.0.1:45132");
    check_listen("[::1]:0", "[::1]:0");
    check_listen("/ip6/::1/tcp/3453", "[::1]:3453");
    check_listen(":12308", "0.0.0.0:12308");
    struct sockaddr_storage ss;
    socklen_t len;
    ASSERT_ERR(vc_netaddr_parse_listen("127.0.0.1", &ss, &len));
    ASSERT_ERR(vc_netaddr_parse_listen("127.0.0.1:65536", &ss, &len));
    ASSERT_ERR(vc_netaddr_parse_listen("127.0.0.1:-1", &ss, &len));
    ASSERT_ERR(vc_netaddr_parse_listen("/ip4/127.0.0.1/udp/1", &ss, &len));
    ASSERT_ERR(vc_netaddr_parse_listen("/ip4/127.0.0.1", &ss, &len));
    ASSERT_ERR(vc_netaddr_parse_listen("", &ss, &len));
    ASSERT_ERR(vc_netaddr_parse_listen("[::1:80", &ss, &len));
}

static void check_url(const char *in, const char *scheme, const char *path, const char *want)
{
    char *url = NULL;
    int r = vc_netaddr_to_url(in, scheme, path, &url);
    if (!VC_CHECK(r == 0))
        return;
    if (strcmp(url, want) != 0)
        VC_FAIL_("%s -> %s, want %s", in, url, want);
    free(url);
}

static void test_urls(void)
{
    check_url("http://127.0.0.1:8989", "http", NULL, "http://127.0.0.1:8989");
    check_url("/ip4/127.0.0.1/tcp/8989", "http", NULL, "http://127.0.0.1:8989");
    check_url("/ip4/10.0.0.2/tcp/45132", "ws", "/rpc/v2", "ws://10.0.0.2:45132/rpc/v2");
    check_url("/ip4/10.0.0.2/tcp/45132/http", "ws", "/rpc/v2", "ws://10.0.0.2:45132/rpc/v2");
    check_url("ws://node:3453/rpc/v1", "http", "/rpc/v0", "http://node:3453/rpc/v1");
    check_url("127.0.0.1:39812", "http", "/rpc/v0", "http://127.0.0.1:39812/rpc/v0");
    check_url("/ip6/::1/tcp/1234", "http", "/rpc/v1", "http://[::1]:1234/rpc/v1");
    check_url("/dns/messager/tcp/39812", "ws", "/rpc/v0", "ws://messager:39812/rpc/v0");
    char *url;
    ASSERT_ERR(vc_netaddr_to_url("ftp://x:1", "http", NULL, &url));
    ASSERT_ERR(vc_netaddr_to_url("just-a-host", "http", NULL, &url));
    ASSERT_ERR(vc_netaddr_to_url("/ip4/1.2.3.4/tcp/1/quic", "http", NULL, &url));
}

int main(int argc, char **argv)
{
    VC_TEST_INIT(argc, argv);
    VC_TEST_RUN(test_listen);
    VC_TEST_RUN(test_urls);
    return VC_TEST_DONE();
}
