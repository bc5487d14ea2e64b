/*
 * bench-auth-verify: venus-auth's POST /verify throughput next to GET /version on the same
 * daemon, from a second process (this one) over 64 keep-alive connections, plus the daemon's
 * idle resident memory.
 *
 *   bench-auth-verify [--bin path/to/venus-auth] [--connections 64] [--seconds 5]
 *
 * Targets (issue "venus-auth"): verify >= 50% of /version requests/s, verify p99 < 5 ms at 64
 * connections on 2 cores, idle RSS < 10 MB.
 */
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include "loadgen.h"
#include "vc/client.h"
#include "vc/util.h"

static char *read_trim(const char *path)
{
    char *d = NULL;
    size_t n = 0;
    if (vc_read_file(path, 65536, &d, &n) < 0)
        return NULL;
    while (n && (d[n - 1] == '\n' || d[n - 1] == ' '))
        d[--n] = 0;
    return d;
}

static int wait_file(const char *path, int ms)
{
    for (int i = 0; i < ms / 20; i++) {
        if (access(path, R_OK) == 0)
            return 0;
        vc_sleep_ms(20);
    }
    return -ETIMEDOUT;
}

static char *default_bin(const char *argv0)
{
    char *self = realpath(argv0, NULL);
    if (!self)
        return NULL;
    char *slash = strrchr(self, '/');
    if (slash)
        *slash = 0;
    size_t n = strlen(self) + 32;
    char *p = malloc(n);
    if (p)
        snprintf(p, n, "%s/../auth/venus-auth", self);
    free(self);
    return p;
}

int main(int argc, char **argv)
{
    const char *bin = getenv("VENUS_AUTH_BIN");
    char *dflt = NULL;
    int conns = 64, seconds = 5;
    for (int i = 1; i < argc; i++) {
        if (vc_streq(argv[i], "--bin") && i + 1 < argc)
            bin = argv[++i];
        else if (vc_streq(argv[i], "--connections") && i + 1 < argc)
            conns = atoi(argv[++i]);
        else if (vc_streq(argv[i], "--seconds") && i + 1 < argc)
            seconds = atoi(argv[++i]);
        else {
            fprintf(stderr, "usage: %s [--bin venus-auth] [--connections N] [--seconds D]\n", argv[0]);
            return 1;
        }
    }
    if (conns < 1 || conns > 1000 || seconds < 1) {
        fprintf(stderr, "connections must be 1..1000 and seconds >= 1\n");
        return 1;
    }
    if (!bin)
        bin = dflt = default_bin(argv[0]);
    vc_init();
    signal(SIGPIPE, SIG_IGN);

    char repo[] = "/tmp/bench-auth-XXXXXX";
    if (!mkdtemp(repo))
        return 1;
    char api[128], tokpath[128];
    snprintf(api, sizeof(api), "%s/api", repo);
    snprintf(tokpath, sizeof(tokpath), "%s/token", repo);
    pid_t pid = fork();
    if (pid == 0) {
        int devnull = open("/dev/null", O_WRONLY);
        dup2(devnull, 1);
        dup2(devnull, 2);
        execl(bin, bin, "--repo", repo, "run", "--listen", "127.0.0.1:0", (char *)NULL);
        _exit(127);
    }
    if (wait_file(api, 15000) < 0) {
        fprintf(stderr, "venus-auth (%s) did not start\n", bin);
        kill(pid, SIGKILL);
        return 1;
    }
    vc_sleep_ms(200);
    char *bound = read_trim(api), *admin = read_trim(tokpath);
    char url[160];
    snprintf(url, sizeof(url), "http://%s", bound);
    const char *eps[] = {url};
    vc_client_opts_t co = {.endpoints = eps, .n_endpoints = 1, .token = admin};
    vc_client_t *c;
    long st;
    char *body = NULL;
    if (vc_client_new(&co, &c) < 0 ||
        vc_client_rest(c, "PUT", "/user/new", "{\"Name\":\"bench\",\"State\":1}", &st, &body, NULL) < 0 || st != 200) {
        fprintf(stderr, "cannot create the bench user\n");
        kill(pid, SIGKILL);
        return 1;
    }
    free(body);
    if (vc_client_rest(c, "POST", "/genToken", "{\"name\":\"bench\",\"perm\":\"sign\"}", &st, &body, NULL) < 0 ||
        st != 200) {
        fprintf(stderr, "cannot create the bench token\n");
        kill(pid, SIGKILL);
        return 1;
    }
    json_error_t e;
    json_t *j = json_loads(body, 0, &e);
    char *user_token = strdup(json_string_value(json_object_get(j, "token")));
    json_decref(j);
    free(body);
    vc_client_free(c);

    vc_sleep_ms(1000);
    long idle_kib = lg_rss_kib(pid);

    unsigned port = (unsigned)atoi(strrchr(bound, ':') + 1);
    char req_version[2048], req_verify[4096], vbody[1024];
    int nv = snprintf(req_version, sizeof(req_version),
                      "GET /version HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer %s\r\n\r\n", admin);
    int nb = snprintf(vbody, sizeof(vbody), "{\"Token\":\"%s\"}", user_token);
    int nr = snprintf(req_verify, sizeof(req_verify),
                      "POST /verify HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer %s\r\n"
                      "Content-Type: application/json\r\nContent-Length: %d\r\n\r\n%s",
                      admin, nb, vbody);
    lg_opts_t o = {.host = "127.0.0.1", .port = port, .conns = conns, .seconds = seconds, .warmup_ms = 500};
    lg_result_t rv, rf;
    o.request = req_version;
    o.request_len = (size_t)nv;
    int r1 = lg_run(&o, &rv);
    o.request = req_verify;
    o.request_len = (size_t)nr;
    int r2 = lg_run(&o, &rf);
    long busy_kib = lg_rss_kib(pid);
    kill(pid, SIGTERM);
    waitpid(pid, NULL, 0);
    if (r1 < 0 || r2 < 0) {
        fprintf(stderr, "load generation failed\n");
        return 1;
    }

    double ratio = rf.rps / rv.rps;
    printf("bench-auth-verify: venus-auth %s, %d keep-alive connections, %d s per endpoint\n", bin, conns, seconds);
    printf("GET /version:  %8.0f req/s  p50 %.2f ms  p99 %.2f ms  errors %ld\n", rv.rps, rv.p50_ms, rv.p99_ms,
           rv.errors);
    printf("POST /verify:  %8.0f req/s  p50 %.2f ms  p99 %.2f ms  errors %ld\n", rf.rps, rf.p50_ms, rf.p99_ms,
           rf.errors);
    printf("verify/version: %.0f%% (target >= 50%%) %s\n", ratio * 100, ratio >= 0.5 ? "OK" : "BELOW TARGET");
    printf("verify p99:     %.2f ms (target < 5 ms) %s\n", rf.p99_ms, rf.p99_ms < 5 ? "OK" : "ABOVE TARGET");
    printf("idle RSS:       %.1f MB (target < 10 MB) %s; after load %.1f MB\n", idle_kib / 1024.0,
           idle_kib >= 0 && idle_kib < 10 * 1024 ? "OK" : "ABOVE TARGET", busy_kib / 1024.0);

    char cmd[200];
    snprintf(cmd, sizeof(cmd), "rm -rf %s", repo);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", repo);
    free(bound);
    free(admin);
    free(user_token);
    free(dflt);
    return rf.errors || rv.errors ? 1 : 0;
}
