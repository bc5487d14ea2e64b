/* notify.c: the webhook notifier (vc/notify.h): a bounded FIFO and one libcurl delivery thread. */
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>
#include <jansson.h>

#include "vc/notify.h"
#include "vc/util.h"

typedef struct alert {
    struct alert *next;
    char *body; /* the JSON to POST */
} alert_t;

struct vc_notify {
    char *url, *service, *instance;
    unsigned timeout_ms, queue_max;
    pthread_mutex_t lock;
    pthread_cond_t cond;
    alert_t *head, *tail;
    unsigned queued;
    bool stop;
    pthread_t thread;
    uint64_t sent, failed, dropped;
};

static alert_t *alert_free(alert_t *a)
{
    if (a) {
        free(a->body);
        free(a);
    }
    return NULL;
}

static size_t discard(char *ptr, size_t size, size_t nmemb, void *userdata)
{
    (void)ptr;
    (void)userdata;
    return size * nmemb;
}

/* One POST of body, bounded by timeout_ms; true on a 2xx answer. */
static bool deliver(CURL *curl, const char *url, const char *body, long timeout_ms)
{
    struct curl_slist *hdr = curl_slist_append(NULL, "Content-Type: application/json");
    long status = 0;
    if (!hdr)
        return false;
    curl_easy_reset(curl);
    curl_easy_setopt(curl, CURLOPT_URL, url);
    curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body);
    curl_easy_setopt(curl, CURLOPT_HTTPHEADER, hdr);
    curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, timeout_ms);
    curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS, timeout_ms);
    curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, discard);
    curl_easy_setopt(curl, CURLOPT_USERAGENT, "venus-c-notify");
    CURLcode rc = curl_easy_perform(curl);
    if (rc == CURLE_OK)
        curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
    curl_slist_free_all(hdr);
    return rc == CURLE_OK && status >= 200 && status < 300;
}

static void *run(void *arg)
{
    vc_notify_t *n = arg;
    CURL *curl = curl_easy_init();
    int64_t deadline_us = 0; /* set once stopping: queued alerts get one timeout in all */
    pthread_mutex_lock(&n->lock);
    for (;;) {
        while (!n->head && !n->stop)
            pthread_cond_wait(&n->cond, &n->lock);
        if (!n->head)
            break;
        alert_t *a = n->head;
        n->head = a->next;
        if (!n->head)
            n->tail = NULL;
        n->queued--;
        long timeout = (long)n->timeout_ms;
        if (n->stop) {
            if (!deadline_us)
                deadline_us = vc_now_mono_us() + (int64_t)n->timeout_ms * 1000;
            timeout = (long)((deadline_us - vc_now_mono_us()) / 1000);
        }
        pthread_mutex_unlock(&n->lock);
        bool ok = false, tried = curl && timeout > 0;
        if (tried)
            ok = deliver(curl, n->url, a->body, timeout);
        alert_free(a);
        pthread_mutex_lock(&n->lock);
        if (ok)
            n->sent++;
        else if (tried)
            n->failed++;
        else
            n->dropped++;
    }
    pthread_mutex_unlock(&n->lock);
    if (curl)
        curl_easy_cleanup(curl);
    return NULL;
}

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static void curl_init_once(void)
{
    curl_global_init(CURL_GLOBAL_DEFAULT);
}

int vc_notify_new(const vc_notify_options_t *opts, vc_notify_t **ret)
{
    *ret = NULL;
    if (!opts->url || !opts->url[0])
        return 0;
    if (!opts->service || !opts->service[0])
        return -EINVAL;
    pthread_once(&curl_once, curl_init_once);
    vc_notify_t *n = calloc(1, sizeof(*n));
    if (!n)
        return -ENOMEM;
    char host[256] = "", inst[300];
    if (!opts->instance) {
        if (gethostname(host, sizeof(host) - 1) < 0)
            snprintf(host, sizeof(host), "localhost");
        snprintf(inst, sizeof(inst), "%s:%ld", host, (long)getpid());
    }
    n->url = strdup(opts->url);
    n->service = strdup(opts->service);
    n->instance = strdup(opts->instance ? opts->instance : inst);
    n->timeout_ms = opts->timeout_ms ? opts->timeout_ms : 5000;
    n->queue_max = opts->queue_max ? opts->queue_max : 64;
    if (!n->url || !n->service || !n->instance) {
        free(n->url);
        free(n->service);
        free(n->instance);
        free(n);
        return -ENOMEM;
    }
    pthread_mutex_init(&n->lock, NULL);
    pthread_cond_init(&n->cond, NULL);
    int r = pthread_create(&n->thread, NULL, run, n);
    if (r != 0) {
        pthread_mutex_destroy(&n->lock);
        pthread_cond_destroy(&n->cond);
        free(n->url);
        free(n->service);
        free(n->instance);
        free(n);
        return -r;
    }
    *ret = n;
    return 0;
}

int vc_notify_post(vc_notify_t *n, const char *event, const char *detail)
{
    if (!n)
        return 0;
    char ts[32];
    struct timespec now;
    struct tm tm;
    clock_gettime(CLOCK_REALTIME, &now);
    gmtime_r(&now.tv_sec, &tm);
    size_t k = strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(ts + k, sizeof(ts) - k, ".%03ldZ", now.tv_nsec / 1000000);

    json_t *j = json_pack("{s:s, s:s, s:s, s:s, s:s}", "service", n->service, "instance", n->instance, "event",
                          event ? event : "", "detail", detail ? detail : "", "time", ts);
    alert_t *a = calloc(1, sizeof(*a));
    if (!j || !a || !(a->body = json_dumps(j, JSON_COMPACT))) {
        json_decref(j);
        alert_free(a);
        return -ENOMEM;
    }
    json_decref(j);
    pthread_mutex_lock(&n->lock);
    if (n->queued >= n->queue_max || n->stop) {
        n->dropped++;
        pthread_mutex_unlock(&n->lock);
        alert_free(a);
        return -ENOBUFS;
    }
    if (n->tail)
        n->tail->next = a;
    else
        n->head = a;
    n->tail = a;
    n->queued++;
    pthread_cond_signal(&n->cond);
    pthread_mutex_unlock(&n->lock);
    return 0;
}

static uint64_t counter(vc_notify_t *n, const uint64_t *c)
{
    if (!n)
        return 0;
    pthread_mutex_lock(&n->lock);
    uint64_t v = *c;
    pthread_mutex_unlock(&n->lock);
    return v;
}

uint64_t vc_notify_sent(vc_notify_t *n)
{
    return n ? counter(n, &n->sent) : 0;
}

uint64_t vc_notify_failed(vc_notify_t *n)
{
    return n ? counter(n, &n->failed) : 0;
}

uint64_t vc_notify_dropped(vc_notify_t *n)
{
    return n ? counter(n, &n->dropped) : 0;
}

vc_notify_t *vc_notify_free(vc_notify_t *n)
{
    if (!n)
        return NULL;
    pthread_mutex_lock(&n->lock);
    n->stop = true;
    pthread_cond_signal(&n->cond);
    pthread_mutex_unlock(&n->lock);
    pthread_join(n->thread, NULL);
    pthread_mutex_destroy(&n->lock);
    pthread_cond_destroy(&n->cond);
    free(n->url);
    free(n->service);
    free(n->instance);
    free(n);
    return NULL;
}
