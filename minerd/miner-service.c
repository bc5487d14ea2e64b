/* miner-service.c: the service object's life: network parameters, threads, stop. */
#define _GNU_SOURCE /* asprintf */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "miner-internal.h"
#include "vc/ha-ops.h"
#include "vc/log.h"
#include "vc/util.h"

void miner_set_free(miner_t *m);
void *miner_loop_main(void *arg);

#define REFRESH_MS 60000

int miner_new(const miner_opts_t *o, miner_t **ret)
{
    miner_t *m = calloc(1, sizeof(*m));
    if (!m)
        return -ENOMEM;
    m->o = *o;
    m->net = 't';
    m->block_delay_s = 30;
    m->smoke_height = -1;
    if (m->o.once_timeout_ms <= 0)
        m->o.once_timeout_ms = 15000;
    if (m->o.record_expire_epochs <= 0)
        m->o.record_expire_epochs = 7 * 2880;
    if (m->o.record_max_query <= 0)
        m->o.record_max_query = 288;
    pthread_mutex_init(&m->lock, NULL);
    pthread_mutex_init(&m->stop_lock, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&m->stop_cond, &ca);
    pthread_condattr_destroy(&ca);
    int r = vc_workq_new(2, 256, &m->workers);
    if (r < 0) {
        miner_free(m);
        return r;
    }
    if (m->o.metrics) {
        static const char *const lbl[] = {"miner_id", NULL};
        static const char *const step[] = {"step", NULL};
        vc_metrics_counter(m->o.metrics, "number_of_block", "Blocks mined and submitted.", lbl, &m->m_blocks);
        vc_metrics_counter(m->o.metrics, "number_of_isroundwinner", "Rounds won (election).", lbl, &m->m_wins);
        vc_metrics_counter(m->o.metrics, "number_of_mining_timeout", "Rounds missed: timeout.", lbl, &m->m_timeouts);
        vc_metrics_counter(m->o.metrics, "number_of_mining_chain_fork", "Rounds on a forked chain.", lbl, &m->m_forks);
        vc_metrics_counter(m->o.metrics, "number_of_mining_error", "Rounds missed: error.", lbl, &m->m_errors);
        vc_metrics_histogram(m->o.metrics, "step_seconds", "Latency of each mining step.", step, NULL, 0, &m->m_step);
        vc_metrics_gauge(m->o.metrics, "election_seconds",
                         "Time the last epoch's elections took, every miner of the set (base info + VRF).", NULL,
                         &m->m_election);
        vc_metrics_gauge(m->o.metrics, "miners", "Miners known from venus-auth, by mining state.",
                         (const char *const[]){"state", NULL}, &m->m_set);
        vc_ha_metrics_register(m->o.metrics, m->o.elector);
        vc_ha_presence_metrics_register(m->o.metrics, m->o.presence);
    }
    *ret = m;
    return 0;
}

bool miner_is_stopping(miner_t *m)
{
    pthread_mutex_lock(&m->stop_lock);
    bool s = m->stopping;
    pthread_mutex_unlock(&m->stop_lock);
    return s;
}

bool miner_sleep(miner_t *m, int64_t ms)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    if (ms < 0)
        ms = 0;
    ts.tv_sec += ms / 1000;
    ts.tv_nsec += (ms % 1000) * 1000000;
    if (ts.tv_nsec >= 1000000000) {
        ts.tv_sec++;
        ts.tv_nsec -= 1000000000;
    }
    pthread_mutex_lock(&m->stop_lock);
    while (!m->stopping && pthread_cond_timedwait(&m->stop_cond, &m->stop_lock, &ts) != ETIMEDOUT)
        ;
    bool s = m->stopping;
    pthread_mutex_unlock(&m->stop_lock);
    return s;
}

miner_t *miner_free(miner_t *m)
{
    if (!m)
        return NULL;
    pthread_mutex_lock(&m->stop_lock);
    m->stopping = true;
    pthread_cond_broadcast(&m->stop_cond);
    pthread_mutex_unlock(&m->stop_lock);
    if (m->loop_started)
        pthread_join(m->loop_thread, NULL);
    if (m->refresh_started)
        pthread_join(m->refresh_thread, NULL);
    vc_workq_free(m->workers);
    miner_set_free(m);
    pthread_mutex_destroy(&m->lock);
    pthread_mutex_destroy(&m->stop_lock);
    pthread_cond_destroy(&m->stop_cond);
    free(m);
    return NULL;
}

vc_ha_elector_t *miner_elector(miner_t *m)
{
    return m->o.elector;
}

vc_nodepool_store_t *miner_pool_store(miner_t *m)
{
    return m->o.pool_store;
}

vc_ha_presence_t *miner_presence(miner_t *m)
{
    return m->o.presence;
}

char miner_net_prefix(const miner_t *m)
{
    return m->net;
}

const char *miner_network_name(const miner_t *m)
{
    return m->network_name;
}

int64_t miner_block_delay_s(const miner_t *m)
{
    return m->block_delay_s;
}

int miner_load_network(miner_t *m, char **ret_err)
{
    char err[512];
    json_t *p = NULL;
    int r = miner_rpc(m, "Filecoin.StateGetNetworkParams", NULL, NULL, &p, err, sizeof(err));
    if (r < 0) {
        if (ret_err)
            *ret_err = strdup(err);
        return r;
    }
    const char *name = json_string_value(json_object_get(p, "NetworkName"));
    json_t *bd = json_object_get(p, "BlockDelaySecs");
    if (!name || !json_is_integer(bd) || json_integer_value(bd) <= 0) {
        json_decref(p);
        if (ret_err)
            *ret_err = strdup("StateGetNetworkParams: NetworkName or BlockDelaySecs missing");
        return VC_EPARSE;
    }
    snprintf(m->network_name, sizeof(m->network_name), "%s", name);
    m->net = vc_streq(name, "mainnet") ? 'f' : 't';
    m->block_delay_s = json_integer_value(bd);
    json_t *smoke = json_object_get(json_object_get(p, "ForkUpgradeParams"), "UpgradeSmokeHeight");
    m->smoke_height = json_is_integer(smoke) ? json_integer_value(smoke) : -1;
    if (vc_streq(name, "2k"))
        m->o.once_timeout_ms = 2800;
    json_decref(p);
    return 0;
}

static void *refresh_main(void *arg)
{
    miner_t *m = arg;
    while (!miner_sleep(m, REFRESH_MS)) {
        char *err = NULL;
        if (miner_update_address(m, 0, 0, NULL, &err) < 0)
            vc_logkv(VC_LOG_WARNING, "miner", "cannot refresh the mining set", "error", err ? err : "?", NULL);
        free(err);
    }
    return NULL;
}

int miner_start(miner_t *m, char **ret_err)
{
    int r = miner_update_address(m, 0, 0, NULL, ret_err);
    if (r < 0)
        return r;
    if ((r = -pthread_create(&m->loop_thread, NULL, miner_loop_main, m)) < 0)
        return r;
    m->loop_started = true;
    if ((r = -pthread_create(&m->refresh_thread, NULL, refresh_main, m)) < 0)
        return r;
    m->refresh_started = true;
    return 0;
}

int miner_query_record(miner_t *m, const char *addr, int64_t epoch, int64_t limit, json_t **ret, char **ret_err)
{
    if (!m->o.recorder) {
        *ret_err = strdup("recorder disabled");
        return -ENOTSUP;
    }
    if (limit == 0)
        limit = 1;
    if (limit < 0 || limit > m->o.record_max_query) {
        if (asprintf(ret_err, "limit %lld is out of range: at most %lld records per query", (long long)limit,
                     (long long)m->o.record_max_query) < 0)
            *ret_err = NULL;
        return -EINVAL;
    }
    vc_address_t a;
    char s[VC_ADDRESS_STRLEN_MAX];
    if (vc_address_from_string(addr, &a) < 0) {
        if (asprintf(ret_err, "invalid miner address %s", addr) < 0)
            *ret_err = NULL;
        return -EINVAL;
    }
    vc_address_to_string(&a, m->net, s);
    int r = miner_store_record_query(m->o.store, s, epoch, limit, ret);
    if (r < 0)
        *ret_err = strdup(vc_strerror(r));
    return r;
}
