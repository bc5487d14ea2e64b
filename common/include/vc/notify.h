/*
 * notify.h: an optional webhook notifier (the eoskeeper pattern): a daemon posts its own alerts,
 * such as "became leader" / "stepped down", as JSON to an operator's URL, next to what
 * Prometheus alerting sees from /metrics. Off unless a URL is configured ([Notify] URL).
 *
 * Each alert is one POST of
 *   {"service": "...", "instance": "...", "event": "...", "detail": "...", "time": "<RFC 3339 UTC>"}
 * with Content-Type application/json. vc_notify_post never waits for the network: alerts go to
 * a bounded queue that one background thread delivers, one POST at a time, each bounded by a
 * timeout and tried once (a webhook receiver that is down loses alerts, it does not slow the
 * daemon). When the queue is full the new alert is dropped and counted.
 */
#ifndef VC_NOTIFY_H
#define VC_NOTIFY_H

#include <stdint.h>

typedef struct vc_notify vc_notify_t;

typedef struct vc_notify_options {
    const char *url;      /* http(s) URL; NULL or "" = notifier off */
    const char *service;  /* "messager", "miner", ... */
    const char *instance; /* this instance's id (e.g. the HA holder id); NULL = "<hostname>:<pid>" */
    unsigned timeout_ms;  /* per POST, connect included; 0 = 5000 */
    unsigned queue_max;   /* alerts waiting at most; 0 = 64 */
} vc_notify_options_t;

/* Starts the delivery thread. With no URL *ret is NULL and 0 is returned: every function below
 * accepts a NULL notifier and does nothing. -EINVAL (no service), -ENOMEM, or the
 * pthread_create error. */
int vc_notify_new(const vc_notify_options_t *opts, vc_notify_t **ret);
/* Queues one alert (event and detail are copied; detail may be NULL). 0 when queued (or n is
 * NULL), -ENOBUFS when the queue is full (the alert is dropped and counted), -ENOMEM. Never
 * blocks on the network; safe from any thread. */
int vc_notify_post(vc_notify_t *n, const char *event, const char *detail);
/* Counters: alerts delivered (the receiver answered 2xx), failed (transport error, timeout or
 * another status), dropped (queue full, or still queued when the notifier was freed). */
uint64_t vc_notify_sent(vc_notify_t *n);
uint64_t vc_notify_failed(vc_notify_t *n);
uint64_t vc_notify_dropped(vc_notify_t *n);
/* Stops the thread: alerts already queued are still tried during at most one timeout in all,
 * the rest are dropped. Returns NULL. */
vc_notify_t *vc_notify_free(vc_notify_t *n);

#endif
