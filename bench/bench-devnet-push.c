/*
 * bench-devnet-push: signed messages pushed per second into venus-devnet over HTTP
 * (MpoolBatchPush, batches of 100), and messages included per block time.
 *
 *   bench-devnet-push [--bin path/to/venus-devnet] [--senders 20] [--per-sender 500]
 *
 * The messages are signed before the clock starts (signing is the client's cost, not the
 * node's). Target (issue "venus-devnet"): >= 5,000 msgs/s pushed on 2 cores.
 */
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include "vc/address.h"
#include "vc/client.h"
#include "vc/crypto.h"
#include "vc/message.h"
#include "vc/util.h"

#define TARGET 5000.0
#define BATCH 100

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

static char *default_bin(const char *argv0)
{
    char *self = realpath(argv0, NULL);
    if (!self)
        return NULL;
    char *slash = strrchr(self, '/');
    if (slash)
        *slash = 0;
    size_t n = strlen(self) + 40;
    char *p = malloc(n);
    if (p)
        snprintf(p, n, "%s/../devnet/venus-devnet", self);
    free(self);
    return p;
}

static int run_cmd(const char *const *argv)
{
    pid_t pid = fork();
    if (pid == 0) {
        int devnull = open("/dev/null", O_WRONLY);
        dup2(devnull, 1);
        execv(argv[0], (char *const *)argv);
        _exit(127);
    }
    int st;
    waitpid(pid, &st, 0);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

int main(int argc, char **argv)
{
    const char *bin = getenv("VENUS_DEVNET_BIN");
    char *dflt = NULL;
    int senders = 20, per = 500;
    for (int i = 1; i < argc; i++) {
        if (vc_streq(argv[i], "--bin") && i + 1 < argc)
            bin = argv[++i];
        else if (vc_streq(argv[i], "--senders") && i + 1 < argc)
            senders = atoi(argv[++i]);
        else if (vc_streq(argv[i], "--per-sender") && i + 1 < argc)
            per = atoi(argv[++i]);
        else {
            fprintf(stderr, "usage: %s [--bin venus-devnet] [--senders N] [--per-sender M]\n", argv[0]);
            return 1;
        }
    }
    if (senders < 1 || senders > 1000 || per < 1 || per > 1000) {
        fprintf(stderr, "senders 1..1000, per-sender 1..1000 (the pool keeps at most 1000 per sender)\n");
        return 1;
    }
    if (!bin)
        bin = dflt = default_bin(argv[0]);
    vc_init();
    signal(SIGPIPE, SIG_IGN);

    char dir[] = "/tmp/bench-devnet-XXXXXX";
    if (!mkdtemp(dir))
        return 1;
    char repo[128], genesis[128], api[160], tok[160];
    snprintf(repo, sizeof(repo), "%s/repo", dir);
    snprintf(genesis, sizeof(genesis), "%s/genesis.toml", dir);
    snprintf(api, sizeof(api), "%s/api", repo);
    snprintf(tok, sizeof(tok), "%s/token", repo);

    /* keys and a genesis funding them */
    uint8_t(*keys)[32] = calloc((size_t)senders, 32);
    vc_address_t *addrs = calloc((size_t)senders, sizeof(vc_address_t));
    vc_buf_t g = {0};
    vc_buf_appendf(&g, "NetworkName = \"devnet\"\nBlockTime = \"1s\"\n");
    for (int i = 0; i < senders; i++) {
        char a[VC_ADDRESS_STRLEN_MAX];
        vc_secp256k1_generate(keys[i]);
        vc_secp256k1_address(keys[i], &addrs[i]);
        vc_address_to_string(&addrs[i], 't', a);
        vc_buf_appendf(&g, "\n[[Accounts]]\nAddress = \"%s\"\nBalance = \"1000000000000000000000000\"\n", a);
    }
    char waddr[VC_ADDRESS_STRLEN_MAX];
    vc_address_to_string(&addrs[0], 't', waddr);
    vc_buf_appendf(&g,
                   "\n[[Miners]]\nID = 1000\nOwner = \"%s\"\nWorker = \"%s\"\nPower = \"10995116277760\"\n"
                   "Sectors = 2\nSectorSize = 2048\n",
                   waddr, waddr);
    vc_write_file_atomic(genesis, g.data, g.len, 0644);
    vc_buf_done(&g);
    const char *init[] = {bin, "--repo", repo, "init", "--genesis", genesis, NULL};
    if (run_cmd(init) != 0) {
        fprintf(stderr, "venus-devnet init failed (%s)\n", bin);
        return 1;
    }
    pid_t pid = fork();
    if (pid == 0) {
        int devnull = open("/dev/null", O_WRONLY);
        dup2(devnull, 1);
        dup2(devnull, 2);
        execl(bin, bin, "--repo", repo, "run", "--listen", "127.0.0.1:0", "--mine", "self", (char *)NULL);
        _exit(127);
    }
    for (int i = 0; i < 500 && access(api, R_OK) != 0; i++)
        vc_sleep_ms(20);
    char *bound = read_trim(api), *token = read_trim(tok);
    if (!bound || !token) {
        fprintf(stderr, "venus-devnet did not start\n");
        kill(pid, SIGKILL);
        return 1;
    }
    char url[160];
    snprintf(url, sizeof(url), "http://%s/rpc/v1", bound);
    const char *eps[] = {url};
    vc_client_opts_t co = {.endpoints = eps, .n_endpoints = 1, .token = token, .timeout_ms = 120000, .retries = -1};
    vc_client_t *c;
    vc_client_new(&co, &c);

    /* pre-sign every message as batch request bodies */
    int total = senders * per, nbatches = (total + BATCH - 1) / BATCH;
    json_t **batches = calloc((size_t)nbatches, sizeof(json_t *));
    vc_address_t to;
    vc_address_new_id(1000, &to);
    int k = 0;
    for (int b = 0; b < nbatches; b++)
        batches[b] = json_array();
    for (int n = 0; n < per; n++)
        for (int s = 0; s < senders; s++, k++) {
            vc_signed_message_t sm = {0};
            sm.message.to = to;
            sm.message.from = addrs[s];
            sm.message.nonce = (uint64_t)n;
            vc_bigint_from_i64(1, &sm.message.value);
            sm.message.gas_limit = 2000000;
            vc_bigint_from_i64(200000, &sm.message.gas_premium);
            vc_bigint_from_i64(1000000000, &sm.message.gas_fee_cap);
            vc_message_sign_secp256k1(&sm.message, keys[s], &sm.signature);
            json_t *j = NULL;
            vc_signed_message_to_json(&sm, 't', false, &j);
            json_array_append_new(batches[k / BATCH], j);
            vc_signed_message_done(&sm);
        }

    int64_t t0 = vc_now_mono_us();
    for (int b = 0; b < nbatches; b++) {
        json_t *res = NULL;
        vc_rpc_err_t err = {0};
        int r = vc_client_call(c, "Filecoin.MpoolBatchPush", json_pack("[O]", batches[b]), &res, &err);
        if (r < 0) {
            fprintf(stderr, "push failed at batch %d: %s\n", b, r == VC_EREMOTE ? err.message : vc_strerror(r));
            kill(pid, SIGKILL);
            return 1;
        }
        json_decref(res);
    }
    double secs = (double)(vc_now_mono_us() - t0) / 1e6;
    double rate = total / secs;

    /* inclusion: how many blocks until the pool is empty */
    json_t *head = NULL;
    vc_client_call(c, "Filecoin.ChainHead", NULL, &head, NULL);
    int64_t h0 = json_integer_value(json_object_get(head, "Height"));
    json_decref(head);
    int64_t t1 = vc_now_mono_us(), h1 = h0;
    for (int i = 0; i < 600; i++) {
        json_t *pend = NULL;
        vc_client_call(c, "Filecoin.MpoolPending", json_pack("[[]]"), &pend, NULL);
        size_t left = json_array_size(pend);
        json_decref(pend);
        if (left == 0)
            break;
        vc_sleep_ms(100);
    }
    vc_client_call(c, "Filecoin.ChainHead", NULL, &head, NULL);
    h1 = json_integer_value(json_object_get(head, "Height"));
    json_decref(head);
    double incl_secs = (double)(vc_now_mono_us() - t1) / 1e6;
    int64_t blocks = h1 - h0 > 0 ? h1 - h0 : 1;

    printf("bench-devnet-push: %d messages from %d senders, MpoolBatchPush x%d over HTTP\n", total, senders, BATCH);
    printf("push:      %.0f msgs/s (target >= %.0f) %s\n", rate, TARGET, rate >= TARGET ? "OK" : "BELOW TARGET");
    printf("inclusion: %d messages in %lld blocks (%.1f s at 1 s block time): %.0f msgs per block time\n", total,
           (long long)blocks, incl_secs, (double)total / (double)blocks);

    kill(pid, SIGTERM);
    waitpid(pid, NULL, 0);
    for (int b = 0; b < nbatches; b++)
        json_decref(batches[b]);
    free(batches);
    free(keys);
    free(addrs);
    vc_client_free(c);
    free(bound);
    free(token);
    free(dflt);
    char cmd[200];
    snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
    return system(cmd) == 0 ? 0 : 1;
}
