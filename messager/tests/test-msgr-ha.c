/*
 * test-msgr-ha: two venus-messager instances over one database (a sqlite file both open on
 * this host, or --pg one PostgreSQL database) with [HA] Lease 2s / RenewDeadline 1.4s /
 * Retry 0.4s, both configured with the same Holder name, against the real venus-auth,
 * venus-gateway, venus-wallet and venus-devnet (200 ms blocks):
 *   - a venus-auth that is down is listed first in every --auth-url (gateway, messagers): tokens
 *     and signer lookups go to the live one;
 *   - the chain-node pool: the CLI adds a second address of the devnet on one instance, the other
 *     follows; a bad policy changes nothing; during the fault cycles the first address goes
 *     down for six cycles (the pool disables it and moves calls and heads to the other) and
 *     comes back (enabled again);
 *   - exactly one instance leads, their holder ids differ although configured the same;
 *   - `venus-messager ha pause` moves the lease to the other instance, `ha promote` is refused
 *     while the holder is alive and `ha promote --force` takes it;
 *   - 5,000 messages from 10 addresses are pushed to either instance (a push that cannot reach
 *     one goes to the other, with the same id) while the leader is, cycle after cycle (20),
 *     killed with SIGKILL (then started again, as systemd would) or stopped with SIGSTOP for
 *     3 s (then SIGCONT): afterwards every message is OnChain, the nonces of each address are
 *     0..499 with no gap or duplicate, every (from, nonce) has one signed CID in the database
 *     and the chain executed exactly that CID (StateSearchMsg), and each sender's nonce on
 *     chain is 500 (no other message used a nonce). The failover times (fault -> the other
 *     instance leads) are printed: median and max.
 */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "msgr-stack.h"
#include "vc-test-db.h"
#include "vc-test-proc.h"
#include "vc-test-proxy.h"
#include "vc-test.h"
#include "vc/client.h"
#include "vc/util.h"

#define NADDR 10
#define PER_ADDR 500
#define TOTAL (NADDR * PER_ADDR)
#define CYCLES 20
#define STOP_MS 3000

typedef struct instance {
    const char *name; /* its repo <tmp>/<name>, logs <tmp>/<name>-<n>.log */
    pid_t pid;
    char url[160];
    char *token;
} instance_t;

static instance_t inst[2] = {{.name = "msgr-a"}, {.name = "msgr-b"}};
static pthread_mutex_t inst_lock = PTHREAD_MUTEX_INITIALIZER;
static char conf[4096];
static char ids[TOTAL][40];
static vc_test_proxy_t *px_main, *px_backup; /* two addresses of the one devnet */

static int start_instance(int i)
{
    pid_t pid = 0;
    char url[160];
    char *tok = NULL;
    int r = start_messager_in(inst[i].name, conf, &pid, url, &tok);
    pthread_mutex_lock(&inst_lock);
    inst[i].pid = pid;
    snprintf(inst[i].url, sizeof(inst[i].url), "%s", url);
    free(inst[i].token);
    inst[i].token = tok;
    pthread_mutex_unlock(&inst_lock);
    return r;
}

/* Message.<method> on instance i with token (NULL = its admin token), bounded by timeout_ms. */
static int icall(int i, const char *token, const char *method, json_t *params, json_t **ret, vc_rpc_err_t *err,
                 int timeout_ms)
{
    char url[160], tok[1024];
    pthread_mutex_lock(&inst_lock);
    snprintf(url, sizeof(url), "%s", inst[i].url);
    snprintf(tok, sizeof(tok), "%s", token ? token : inst[i].token ? inst[i].token : "");
    pthread_mutex_unlock(&inst_lock);
    return mcall_at(url, tok, method, params, ret, err, timeout_ms);
}

/* 1 leader, 0 standby or paused, -1 unreachable (killed, stopped). */
static int role_of(int i)
{
    json_t *st = NULL;
    if (icall(i, NULL, "HaStatus", NULL, &st, NULL, 400) < 0)
        return -1;
    int lead = vc_streq(json_string_value(json_object_get(st, "Role")), "leader");
    json_decref(st);
    return lead;
}

/*
 * The one leader other than not_this, waiting up to timeout_ms; -1 if none. Both reporting
 * leader is allowed only briefly (a forced promote: the old holder learns at its next renew,
 * within Retry; its writes are already refused by the fence): -2 when it lasts over 1 s.
 */
static int wait_leader(int timeout_ms, int not_this)
{
    int64_t two_since = 0;
    for (int64_t end = vc_now_mono_us() + (int64_t)timeout_ms * 1000; vc_now_mono_us() < end; vc_sleep_ms(50)) {
        int a = role_of(0), b = role_of(1);
        if (a == 1 && b == 1) {
            if (!two_since)
                two_since = vc_now_mono_us();
            if (vc_now_mono_us() - two_since > 1000000) {
                fprintf(stderr, "# two instances report leader for over 1 s\n");
                return -2;
            }
            continue;
        }
        two_since = 0;
        if (a == 1 && not_this != 0)
            return 0;
        if (b == 1 && not_this != 1)
            return 1;
    }
    return -1;
}

/* Why wait_leader found nobody: each instance's HaStatus (or the error), with time to answer. */
static void dump_roles(void)
{
    for (int i = 0; i < 2; i++) {
        json_t *st = NULL;
        vc_rpc_err_t err = {0};
        int r = icall(i, NULL, "HaStatus", NULL, &st, &err, 5000);
        char *d = st ? json_dumps(st, JSON_COMPACT) : NULL;
        fprintf(stderr, "# %s HaStatus: %s\n", inst[i].name, d ? d : r == VC_EREMOTE ? err.message : vc_strerror(r));
        free(d);
        json_decref(st);
    }
}

static json_t *transfer(const char *from)
{
    return json_pack("{s:i, s:s, s:s, s:i, s:s, s:i, s:s, s:s, s:i, s:n}", "Version", 0, "To", bob, "From", from,
                     "Nonce", 0, "Value", "1", "GasLimit", 0, "GasFeeCap", "0", "GasPremium", "0", "Method", 0,
                     "Params");
}

/* ---------------------------------------------------------------- the pusher */

static int push_failures, sqlite_blocked;
static atomic_bool pusher_stop; /* a failed fault cycle ends the pusher before the stack stops */

/* PushMessageWithId to either instance until one takes it (or says the id exists: an earlier
 * attempt was committed before its answer was lost). */
static int push_one(int k, const char *from, const char *id)
{
    for (int attempt = 0; attempt < 400 && !atomic_load(&pusher_stop); attempt++) {
        int i = (k + attempt) % 2;
        vc_rpc_err_t err = {0};
        int r = icall(i, wal_tok, "PushMessageWithId", json_pack("[s, o, n]", id, transfer(from)), NULL, &err, 1500);
        if (r == 0 || (r == VC_EREMOTE && strstr(err.message, "duplicate message id")))
            return 0;
        if (r == VC_EREMOTE) {
            fprintf(stderr, "# push %s refused: %s\n", id, err.message);
            return -1;
        }
        if (attempt % 2)
            vc_sleep_ms(100); /* both down for now */
    }
    return -1;
}

static void *pusher(void *arg)
{
    (void)arg;
    for (int n = 0; n < TOTAL && !atomic_load(&pusher_stop); n++) {
        if (push_one(n, addrs[n % NADDR], ids[n]) < 0)
            push_failures++;
        vc_sleep_ms(10);
    }
    return NULL;
}

/* ---------------------------------------------------------------- tests */

static void test_roles(void)
{
    int l = wait_leader(10000, -1);
    ASSERT_TRUE(l >= 0);
    if (l < 0)
        return;
    json_t *a = NULL, *b = NULL;
    ASSERT_OK(icall(0, NULL, "HaStatus", NULL, &a, NULL, 5000));
    ASSERT_OK(icall(1, NULL, "HaStatus", NULL, &b, NULL, 5000));
    const char *ha = json_string_value(json_object_get(a, "Holder")), *hb = json_string_value(json_object_get(b, "Holder"));
    ASSERT_TRUE(ha && hb && strncmp(ha, "msgr/", 5) == 0 && strncmp(hb, "msgr/", 5) == 0 && !vc_streq(ha, hb));
    ASSERT_TRUE(json_integer_value(json_object_get(l == 0 ? a : b, "Token")) > 0);
    ASSERT_EQ(json_integer_value(json_object_get(l == 0 ? b : a, "Token")), 0);
    /* presence: HaStatus lists both instances in "Peers" with their roles (a row's role follows
     * the elector at its next heartbeat, 3 s) */
    bool both = false;
    for (int k = 0; k < 100 && !both; k++) {
        json_t *st = NULL, *p;
        size_t i;
        int seen = 0;
        if (icall(1 - l, NULL, "HaStatus", NULL, &st, NULL, 5000) == 0)
            json_array_foreach(json_object_get(st, "Peers"), i, p)
            {
                const char *h = json_string_value(json_object_get(p, "Holder"));
                const char *role = json_string_value(json_object_get(p, "Role"));
                seen += vc_streq(h, ha) && vc_streq(role, l == 0 ? "leader" : "standby");
                seen += vc_streq(h, hb) && vc_streq(role, l == 1 ? "leader" : "standby");
            }
        both = seen == 2 && json_array_size(json_object_get(st, "Peers")) == 2;
        json_decref(st);
        if (!both)
            vc_sleep_ms(100);
    }
    ASSERT_TRUE(both);
    json_decref(a);
    json_decref(b);

    /* the CLI: pause the leader -> the other leads; promote is refused while it lives; --force */
    char repo[600];
    snprintf(repo, sizeof(repo), "%s/%s", vc_test_tmpdir(), inst[l].name);
    char *out = NULL, *err = NULL;
    const char *pause_argv[] = {msgr_bin, "--repo", repo, "ha", "pause", NULL};
    ASSERT_EQ(vc_test_run_cmd(pause_argv, &out, &err), 0);
    ASSERT_TRUE(out && strstr(out, "paused"));
    free(out);
    free(err);
    int other = wait_leader(10000, l);
    ASSERT_EQ(other, 1 - l);
    const char *status_argv[] = {msgr_bin, "--repo", repo, "ha", "status", NULL};
    ASSERT_EQ(vc_test_run_cmd(status_argv, &out, &err), 0);
    ASSERT_TRUE(out && strstr(out, "\"Role\": \"paused\""));
    free(out);
    free(err);
    const char *promote_argv[] = {msgr_bin, "--repo", repo, "ha", "promote", NULL};
    ASSERT_EQ(vc_test_run_cmd(promote_argv, &out, &err), 1);
    ASSERT_TRUE(err && strstr(err, "the lease holder is alive"));
    free(out);
    free(err);
    const char *force_argv[] = {msgr_bin, "--repo", repo, "ha", "promote", "--force", NULL};
    ASSERT_EQ(vc_test_run_cmd(force_argv, &out, &err), 0);
    free(out);
    free(err);
    ASSERT_EQ(wait_leader(10000, 1 - l), l);
}

/* A local port nothing listens on (bound then closed). */
static int dead_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof(a);
    int port = 1;
    if (fd >= 0 && bind(fd, (struct sockaddr *)&a, sizeof(a)) == 0 && getsockname(fd, (struct sockaddr *)&a, &len) == 0)
        port = ntohs(a.sin_port);
    if (fd >= 0)
        close(fd);
    return port;
}

static int pool_cli(int i, char **out, const char *a0, const char *a1, const char *a2, const char *a3, const char *a4,
                    const char *a5)
{
    return msgr_pool_cli(inst[i].name, out, a0, a1, a2, a3, a4, a5);
}

static json_t *pool_node(int i, const char *name, json_t **ret_list)
{
    return msgr_pool_node(inst[i].name, name, ret_list);
}

static bool wait_node(int i, const char *name, bool want, int timeout_ms)
{
    return msgr_pool_wait(inst[i].name, name, want, timeout_ms);
}

/*
 * The chain-node pool on both instances: seeded with [node] (the "node" address); the CLI on
 * one instance adds a second address of the devnet ("backup") and tunes the heartbeat for
 * 200 ms blocks; the other instance follows through the database; a bad policy is refused and
 * changes nothing.
 */
static void test_node_pool(void)
{
    char *out = NULL, url[64];
    snprintf(url, sizeof(url), "http://127.0.0.1:%u", vc_test_proxy_port(px_backup));
    ASSERT_EQ(pool_cli(0, &out, "add", "backup", url, "--token", node_token, NULL), 0);
    free(out);
    ASSERT_EQ(pool_cli(0, &out, "config", "HeartbeatInterval", "500ms", "MaxSyncBehind", "20", NULL), 0);
    free(out);
    ASSERT_TRUE(wait_node(1, "backup", true, 15000)); /* followed by the other instance */
    ASSERT_TRUE(wait_node(1, "node", true, 15000));
    json_t *l = NULL;
    pool_node(0, "node", &l);
    json_int_t v = json_integer_value(json_object_get(l, "Version"));
    json_decref(l);
    ASSERT_EQ(pool_cli(1, &out, "policy", "MpoolBatchPushUntrusted", "Fastest", NULL, NULL, NULL), 1);
    free(out);
    pool_node(1, "node", &l);
    ASSERT_EQ(json_integer_value(json_object_get(l, "Version")), v);
    json_decref(l);
}

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return x < y ? -1 : x > y;
}

/* The CYCLES faults, each failover's time in failover_ms (*n_fo of them). */
static void fault_cycles(int64_t *failover_ms, int *ret_n_fo)
{
    int n_fo = 0;
    *ret_n_fo = 0;
    for (int c = 0; c < CYCLES && !vc_test_failed; c++) {
        vc_sleep_ms(1500);
        int l = wait_leader(15000, -1);
        ASSERT_TRUE(l >= 0);
        if (l < 0)
            break;
        if (c == 5) {
            vc_test_proxy_down(px_main); /* a chain node that fails: the pool moves to "backup" */
            fprintf(stderr, "# chain node \"node\" down\n");
        } else if (c == 11) {
            VC_CHECK(wait_node(l, "node", false, 1)); /* seen disabled by the leader */
            ASSERT_OK(vc_test_proxy_up(px_main));
            fprintf(stderr, "# chain node \"node\" up\n");
        }
        bool kill9 = c % 2 == 0;
        int64_t t0 = vc_now_mono_us();
        kill(inst[l].pid, kill9 ? SIGKILL : SIGSTOP);
        /* On sqlite a process stopped inside a write transaction holds the file's write lock
         * until it runs again: no other instance can write (not even take the lease) before
         * the SIGCONT. PostgreSQL ends such a transaction at the lease's expiry: there the
         * other instance must lead while this one is still stopped. */
        int nl = wait_leader(kill9 || pg_dsn ? 15000 : STOP_MS, l);
        if (nl < 0 && !kill9 && !pg_dsn) {
            kill(inst[l].pid, SIGCONT);
            sqlite_blocked++;
            nl = wait_leader(15000, -1);
            fprintf(stderr, "# cycle %d: %s was stopped holding the sqlite write lock: %s leads after SIGCONT\n",
                    c + 1, inst[l].name, nl >= 0 ? inst[nl].name : "nobody");
            ASSERT_TRUE(nl >= 0);
            continue;
        }
        if (nl != 1 - l) {
            dump_roles();
            if (!kill9)
                kill(inst[l].pid, SIGCONT);
        }
        ASSERT_EQ(nl, 1 - l);
        failover_ms[n_fo++] = (vc_now_mono_us() - t0) / 1000;
        *ret_n_fo = n_fo;
        fprintf(stderr, "# cycle %d: %s %s, %s leads after %lld ms\n", c + 1, kill9 ? "killed" : "stopped",
                inst[l].name, nl >= 0 ? inst[nl].name : "nobody", (long long)failover_ms[n_fo - 1]);
        if (kill9) {
            waitpid(inst[l].pid, NULL, 0);
            ASSERT_OK(start_instance(l));
        } else {
            int64_t left = STOP_MS - (vc_now_mono_us() - t0) / 1000;
            if (left > 0)
                vc_sleep_ms(left);
            kill(inst[l].pid, SIGCONT);
        }
    }
}

static void test_faults(void)
{
    for (int n = 0; n < TOTAL; n++)
        vc_uuid4(ids[n]);
    pthread_t th;
    ASSERT_EQ(pthread_create(&th, NULL, pusher, NULL), 0);
    int64_t failover_ms[CYCLES];
    int n_fo = 0;
    fault_cycles(failover_ms, &n_fo);
    if (vc_test_failed)
        atomic_store(&pusher_stop, true);
    pthread_join(th, NULL);
    ASSERT_EQ(push_failures, 0);
    int lead = wait_leader(15000, -1);
    ASSERT_TRUE(lead >= 0);
    if (lead >= 0 && !wait_node(lead, "node", true, 30000)) { /* enabled again */
        json_t *l = NULL, *n = pool_node(lead, "node", &l);
        char *dump = n ? json_dumps(n, JSON_COMPACT) : NULL;
        VC_FAIL_("chain node \"node\" not enabled again on %s: %s", inst[lead].name, dump ? dump : "(not listed)");
        free(dump);
        json_decref(l);
    }
    qsort(failover_ms, (size_t)n_fo, sizeof(failover_ms[0]), cmp_i64);
    if (n_fo)
        fprintf(stderr, "# failover over %d faults: median %lld ms, max %lld ms (%d SIGSTOPs held the sqlite lock)\n",
                n_fo, (long long)failover_ms[n_fo / 2], (long long)failover_ms[n_fo - 1], sqlite_blocked);
    ASSERT_TRUE(n_fo >= CYCLES / 2); /* every kill -9 at least */

    /* every message OnChain */
    int l = wait_leader(15000, -1);
    ASSERT_TRUE(l >= 0);
    int next = 0;
    for (int64_t end = vc_now_mono_us() + 240 * 1000000LL; next < TOTAL && vc_now_mono_us() < end;) {
        json_t *m = NULL;
        if (icall(l, NULL, "GetMessageByUid", json_pack("[s]", ids[next]), &m, NULL, 5000) == 0 &&
            json_integer_value(json_object_get(m, "State")) == 3)
            next++;
        else
            vc_sleep_ms(200);
        json_decref(m);
    }
    ASSERT_EQ(next, TOTAL);

    /* nonces 0..PER_ADDR-1 per address, one signed CID each, the chain executed that CID */
    for (int a = 0; a < NADDR; a++) {
        json_t *list = NULL;
        ASSERT_OK(icall(l, NULL, "ListMessageByAddress", json_pack("[s]", addrs[a]), &list, NULL, 30000));
        int seen[PER_ADDR] = {0};
        size_t bad = 0, searched = 0;
        json_t *m;
        size_t i;
        json_array_foreach(list, i, m) {
            json_int_t nonce = json_integer_value(json_object_get(m, "Nonce"));
            if (json_integer_value(json_object_get(m, "State")) != 3 || nonce < 0 || nonce >= PER_ADDR ||
                seen[nonce]++) {
                bad++;
                continue;
            }
            json_t *found = NULL;
            if (dcall("Filecoin.StateSearchMsg", json_pack("[[], O, i, b]", json_object_get(m, "SignedCid"), -1, 0), &found) <
                    0 ||
                !json_equal(json_object_get(found, "Message"), json_object_get(m, "SignedCid")))
                bad++;
            searched++;
            json_decref(found);
        }
        ASSERT_EQ(json_array_size(list), (size_t)PER_ADDR);
        ASSERT_EQ(bad, 0u);
        ASSERT_EQ(searched, (size_t)PER_ADDR);
        json_decref(list);
        json_t *act = NULL;
        ASSERT_OK(dcall("Filecoin.StateGetActor", json_pack("[s, []]", addrs[a]), &act));
        ASSERT_EQ(json_integer_value(json_object_get(act, "Nonce")), PER_ADDR);
        json_decref(act);
    }
}

/* Occurrences of needle in the logs <tmp>/<prefix>-*.log. */
static int log_count(const char *prefix, const char *needle)
{
    int n = 0;
    for (int k = 0; k < 64; k++) {
        char path[700], *log = NULL;
        size_t len = 0;
        snprintf(path, sizeof(path), "%s/%s-%d.log", vc_test_tmpdir(), prefix, k);
        if (vc_read_file(path, 64 << 20, &log, &len) < 0)
            continue;
        for (const char *p = log; (p = strstr(p, needle)); p++)
            n++;
        free(log);
    }
    return n;
}

/*
 * Group mode: the two instances are replaced by two with [HA] Scope g1 / g2 and Addresses 0-4 /
 * 5-9 on the same database. Each leads its own scope and selects only its group's addresses;
 * one of them (the head lease) processes heads; 10 more messages per address land with nonces
 * 500..509; a replace for an address of the other group is refused.
 */
#define GROUP_PER_ADDR 10

static void test_groups(void)
{
    for (int i = 0; i < 2; i++) {
        kill(inst[i].pid, SIGCONT);
        stop_clean(inst[i].name, &inst[i].pid);
    }
    const char *names[2] = {"msgr-g1", "msgr-g2"};
    char base[4096];
    snprintf(base, sizeof(base), "%s", conf);
    for (int i = 0; i < 2; i++) {
        char group[4096] = "";
        size_t o = (size_t)snprintf(group, sizeof(group), "%s  Scope = \"g%d\"\n  Addresses = [", base, i + 1);
        for (int a = i * 5; a < i * 5 + 5; a++)
            o += (size_t)snprintf(group + o, sizeof(group) - o, "%s\"%s\"", a % 5 ? ", " : "", addrs[a]);
        snprintf(group + o, sizeof(group) - o, "]\n");
        inst[i].name = names[i];
        snprintf(conf, sizeof(conf), "%s", group);
        ASSERT_OK(start_instance(i));
    }
    snprintf(conf, sizeof(conf), "%s", base);
    for (int i = 0; i < 2; i++) { /* each leads its own scope */
        bool lead = false;
        for (int t = 0; t < 100 && !lead; t++, vc_sleep_ms(100))
            lead = role_of(i) == 1;
        ASSERT_TRUE(lead);
    }
    static char gids[NADDR * GROUP_PER_ADDR][40];
    for (int n = 0; n < NADDR * GROUP_PER_ADDR; n++) {
        vc_uuid4(gids[n]);
        ASSERT_OK(push_one(n, addrs[n % NADDR], gids[n]));
    }
    int next = 0;
    for (int64_t end = vc_now_mono_us() + 120 * 1000000LL; next < NADDR * GROUP_PER_ADDR && vc_now_mono_us() < end;) {
        json_t *m = NULL;
        if (icall(0, NULL, "GetMessageByUid", json_pack("[s]", gids[next]), &m, NULL, 5000) == 0 &&
            json_integer_value(json_object_get(m, "State")) == 3)
            next++;
        else
            vc_sleep_ms(200);
        json_decref(m);
    }
    ASSERT_EQ(next, NADDR * GROUP_PER_ADDR);
    for (int a = 0; a < NADDR; a++) {
        json_t *act = NULL;
        ASSERT_OK(dcall("Filecoin.StateGetActor", json_pack("[s, []]", addrs[a]), &act));
        ASSERT_EQ(json_integer_value(json_object_get(act, "Nonce")), PER_ADDR + GROUP_PER_ADDR);
        json_decref(act);
        /* only its group's instance selected for it */
        char needle[1400];
        snprintf(needle, sizeof(needle), "selected messages addr=%s", addrs[a]);
        int own = log_count(names[a / 5], needle), other = log_count(names[1 - a / 5], needle);
        VC_CHECK(own > 0 && other == 0);
    }
    /* one head processor for both groups */
    ASSERT_EQ(log_count("msgr-g1", "processing heads for every address group") +
                  log_count("msgr-g2", "processing heads for every address group"),
              1);
    /* a write for an address of the other group is refused */
    vc_rpc_err_t err = {0};
    ASSERT_TRUE(icall(0, NULL, "RecoverFailedMsg", json_pack("[s]", addrs[7]), NULL, &err, 5000) < 0);
    ASSERT_TRUE(strstr(err.message, "not in this venus-messager's [HA] Addresses") != NULL);
}

int main(int argc, char **argv)
{
    VC_TEST_INIT(argc, argv);
    vc_init();
    signal(SIGPIPE, SIG_IGN);
    if (msgr_stack_bins() < 0)
        return 2;
    const char *db;
    if (vc_test_has_flag("--pg")) {
        if (!(pg_dsn = vc_test_db_fresh_dsn(true)))
            die("no PostgreSQL server (the pg fixture)");
        db = "";
    } else {
        static char sq[800];
        snprintf(sq, sizeof(sq), "[db.sqlite]\n  file = \"%s/shared-message.db\"\n", vc_test_tmpdir());
        db = sq;
    }
    snprintf(conf, sizeof(conf),
             "%s[HA]\n  Enable = true\n  Holder = \"msgr\"\n  Lease = \"2s\"\n  RenewDeadline = \"1400ms\"\n"
             "  Retry = \"400ms\"\n",
             db);
    make_keys(NADDR);
    start_auth();
    /* a venus-auth that is down listed first: the gateway and the messagers fail over */
    static char urls[300];
    snprintf(urls, sizeof(urls), "http://127.0.0.1:%d,%s", dead_port(), auth_url);
    daemon_auth_urls = urls;
    start_gateway();
    start_wallet();
    start_devnet();
    static char main_url[64];
    if (!(px_main = vc_test_proxy_start(node_url)) || !(px_backup = vc_test_proxy_start(node_url)))
        die("cannot start the node forwarders");
    snprintf(main_url, sizeof(main_url), "http://127.0.0.1:%u", vc_test_proxy_port(px_main));
    daemon_node_url = main_url;
    if (start_instance(0) < 0 || start_instance(1) < 0)
        die("venus-messager did not start");
    VC_TEST_RUN(test_roles);
    VC_TEST_RUN(test_node_pool);
    VC_TEST_RUN(test_faults);
    VC_TEST_RUN(test_groups);
    for (int i = 0; i < 2; i++) {
        kill(inst[i].pid, SIGCONT);
        stop_clean(inst[i].name, &inst[i].pid);
        free(inst[i].token);
    }
    msgr_stack_stop_all();
    vc_test_proxy_free(px_main);
    vc_test_proxy_free(px_backup);
    return VC_TEST_DONE();
}
