/*
 * gw-stream.c: one event stream (wallet, proof or market): the pending-request map keyed by
 * event Id, the per-channel bound on outstanding requests, delivery of ResponseEvents and the
 * timeout sweep (spec B4 "Common machinery").
 *
 * A request is completed exactly once, under the stream lock, by whichever comes first: its
 * response, the sweeper (timeout) or its channel closing; completion removes it from the map,
 * so a second answer for the same Id finds nothing ("request id <id> not exit").
 */
#include <inttypes.h>
#include <stdio.h>
#include <time.h>

#include "gateway.h"
#include "vc/cli.h"
#include "vc/log.h"
#include "vc/util.h"

#define NBUCKETS 256

typedef struct pending {
    struct pending *next;
    char id[37];
    char method[32];
    gw_chan_t *chan;
    int64_t created_us;   /* monotonic */
    int64_t created_real; /* for the timeout message */
    bool done;
    int status;
    char *error;
    uint8_t *payload;
    size_t payload_len;
    pthread_cond_t cond;
} pending_t;

struct gw_stream {
    gw_kind_t kind;
    int64_t timeout_ms;
    int queue_size;
    pthread_mutex_t lock;
    pthread_cond_t slot_cond; /* a channel got a free slot or closed */
    pending_t *buckets[NBUCKETS];
    size_t n_pending;
};

static unsigned bucket_of(const char *id)
{
    uint32_t h = 2166136261u;
    for (; *id; id++)
        h = (h ^ (uint8_t)*id) * 16777619u;
    return h % NBUCKETS;
}

int gw_stream_new(gw_kind_t kind, int64_t timeout_ms, int queue_size, gw_stream_t **ret)
{
    gw_stream_t *s = calloc(1, sizeof(*s));
    if (!s)
        return -ENOMEM;
    s->kind = kind;
    s->timeout_ms = timeout_ms;
    s->queue_size = queue_size > 0 ? queue_size : 30;
    pthread_mutex_init(&s->lock, NULL);
    pthread_cond_init(&s->slot_cond, NULL);
    *ret = s;
    return 0;
}

gw_stream_t *gw_stream_free(gw_stream_t *s)
{
    if (!s)
        return NULL;
    /* every waiter is gone by now (the RPC server was freed first) */
    pthread_cond_destroy(&s->slot_cond);
    pthread_mutex_destroy(&s->lock);
    free(s);
    return NULL;
}

static void unlink_pending(gw_stream_t *s, pending_t *p)
{
    for (pending_t **pp = &s->buckets[bucket_of(p->id)]; *pp; pp = &(*pp)->next)
        if (*pp == p) {
            *pp = p->next;
            s->n_pending--;
            return;
        }
}

/* Under s->lock. Takes ownership of error and payload. */
static void complete(gw_stream_t *s, pending_t *p, int status, char *error, uint8_t *payload, size_t len)
{
    unlink_pending(s, p);
    p->done = true;
    p->status = status;
    p->error = error;
    p->payload = payload;
    p->payload_len = len;
    p->chan->outstanding--;
    pthread_cond_signal(&p->cond);
    pthread_cond_broadcast(&s->slot_cond);
}

static json_t *make_event(const char *id, const char *method, const json_t *payload)
{
    json_t *ev = json_object();
    json_object_set_new(ev, "Id", json_string(id));
    json_object_set_new(ev, "Method", json_string(method));
    if (payload) {
        char *text = json_dumps(payload, JSON_COMPACT | JSON_ENCODE_ANY);
        char *b64 = text ? vc_base64_encode((const uint8_t *)text, strlen(text)) : NULL;
        free(text);
        if (!b64) {
            json_decref(ev);
            return NULL;
        }
        json_object_set_new(ev, "Payload", json_string(b64));
        free(b64);
    } else
        json_object_set_new(ev, "Payload", json_null());
    return ev;
}

int gw_stream_notify(gw_stream_t *s, gw_chan_t *ch, const char *method, const json_t *payload)
{
    char id[37];
    vc_uuid4(id);
    json_t *ev = make_event(id, method, payload);
    if (!ev)
        return -ENOMEM;
    int r = vc_rpc_chan_send(ch->rpc, ev);
    json_decref(ev);
    return r;
}

static void format_time(int64_t real_us, char *out, size_t n)
{
    time_t t = (time_t)(real_us / 1000000);
    struct tm tm;
    gmtime_r(&t, &tm);
    char base[32];
    strftime(base, sizeof(base), "%Y-%m-%d %H:%M:%S", &tm);
    snprintf(out, n, "%s.%06" PRId64 " +0000 UTC", base, real_us % 1000000);
}

int gw_stream_request(gw_stream_t *s, gw_chan_t *ch, const char *method, const json_t *payload,
                      json_t **ret_payload, char *errbuf, size_t errlen)
{
    pending_t *p = calloc(1, sizeof(*p));
    int r;
    if (!p)
        return -ENOMEM;
    vc_uuid4(p->id);
    snprintf(p->method, sizeof(p->method), "%s", method);
    p->chan = gw_chan_ref(ch);
    p->created_us = vc_now_mono_us();
    p->created_real = vc_now_real_us();
    pthread_cond_init(&p->cond, NULL);
    json_t *ev = make_event(p->id, method, payload);
    if (!ev) {
        r = -ENOMEM;
        snprintf(errbuf, errlen, "out of memory");
        goto out;
    }

    /* wait for a slot: at most queue_size requests outstanding per channel */
    int64_t deadline = p->created_us + s->timeout_ms * 1000;
    pthread_mutex_lock(&s->lock);
    while (!ch->closed && ch->outstanding >= s->queue_size) {
        int64_t left = deadline - vc_now_mono_us();
        if (left <= 0)
            break;
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        int64_t ns = (int64_t)ts.tv_nsec + VC_MIN(left, 1000000) * 1000;
        ts.tv_sec += ns / 1000000000;
        ts.tv_nsec = ns % 1000000000;
        pthread_cond_timedwait(&s->slot_cond, &s->lock, &ts);
    }
    if (ch->closed) {
        pthread_mutex_unlock(&s->lock);
        r = VC_ECLOSED;
        snprintf(errbuf, errlen, "channel closed");
        goto out;
    }
    if (ch->outstanding >= s->queue_size) {
        pthread_mutex_unlock(&s->lock);
        r = -ETIMEDOUT;
        snprintf(errbuf, errlen, "queue of channel %s full for longer than the request timeout", ch->id);
        goto out;
    }
    unsigned b = bucket_of(p->id);
    p->next = s->buckets[b];
    s->buckets[b] = p;
    s->n_pending++;
    ch->outstanding++;
    pthread_mutex_unlock(&s->lock);

    r = vc_rpc_chan_send(ch->rpc, ev);
    pthread_mutex_lock(&s->lock);
    if (r < 0 && !p->done)
        complete(s, p, VC_ECLOSED, strdup("channel closed"), NULL, 0);
    while (!p->done)
        pthread_cond_wait(&p->cond, &s->lock);
    pthread_mutex_unlock(&s->lock);

    r = p->status;
    if (r == GW_OK) {
        json_t *v = json_null();
        if (p->payload_len) {
            json_error_t e;
            v = json_loadb((const char *)p->payload, p->payload_len, JSON_DECODE_ANY, &e);
            if (!v) {
                r = VC_EPARSE;
                snprintf(errbuf, errlen, "cannot decode the %s response payload: %s", method, e.text);
                goto out;
            }
        }
        *ret_payload = v;
    } else
        snprintf(errbuf, errlen, "%s", p->error ? p->error : vc_strerror(r));
out:
    json_decref(ev);
    free(p->error);
    free(p->payload);
    pthread_cond_destroy(&p->cond);
    gw_chan_unref(p->chan);
    free(p);
    return r;
}

int gw_stream_respond(gw_stream_t *s, const char *id, const char *payload_b64, const char *error, const char *caller,
                      bool admin)
{
    uint8_t *payload = NULL;
    size_t len = 0;
    int r;
    if (payload_b64 && (r = vc_base64_decode(payload_b64, strlen(payload_b64), &payload, &len)) < 0)
        return VC_EPARSE;
    char *err = vc_strempty(error) ? NULL : strdup(error);
    pthread_mutex_lock(&s->lock);
    pending_t *p = s->buckets[bucket_of(id)];
    while (p && strcmp(p->id, id) != 0)
        p = p->next;
    if (!p || (!admin && strcmp(p->chan->account, caller) != 0)) {
        pthread_mutex_unlock(&s->lock);
        free(payload);
        free(err);
        return p ? VC_EPERM : -ENOENT;
    }
    if (err) {
        free(payload);
        complete(s, p, GW_RESP_ERROR, err, NULL, 0);
    } else
        complete(s, p, GW_OK, NULL, payload, len);
    pthread_mutex_unlock(&s->lock);
    return 0;
}

void gw_stream_chan_closed(gw_stream_t *s, gw_chan_t *ch)
{
    pthread_mutex_lock(&s->lock);
    ch->closed = true;
    for (unsigned b = 0; b < NBUCKETS; b++)
        for (pending_t *p = s->buckets[b], *next; p; p = next) {
            next = p->next;
            if (p->chan == ch)
                complete(s, p, VC_ECLOSED, strdup("channel closed"), NULL, 0);
        }
    pthread_cond_broadcast(&s->slot_cond);
    pthread_mutex_unlock(&s->lock);
}

int gw_stream_sweep(gw_stream_t *s)
{
    int n = 0;
    int64_t now = vc_now_mono_us();
    pthread_mutex_lock(&s->lock);
    for (unsigned b = 0; b < NBUCKETS; b++)
        for (pending_t *p = s->buckets[b], *next; p; p = next) {
            next = p->next;
            if (now - p->created_us < s->timeout_ms * 1000)
                continue;
            char ts[64], msg[256];
            format_time(p->created_real, ts, sizeof(ts));
            snprintf(msg, sizeof(msg), "timer clean this request due to exceed wait time %s method %s", ts,
                     p->method);
            complete(s, p, -ETIMEDOUT, strdup(msg), NULL, 0);
            n++;
        }
    pthread_mutex_unlock(&s->lock);
    return n;
}

int gw_stream_outstanding(gw_stream_t *s, gw_chan_t *ch)
{
    pthread_mutex_lock(&s->lock);
    int n = ch->outstanding;
    pthread_mutex_unlock(&s->lock);
    return n;
}

size_t gw_stream_pending(gw_stream_t *s)
{
    pthread_mutex_lock(&s->lock);
    size_t n = s->n_pending;
    pthread_mutex_unlock(&s->lock);
    return n;
}
