/*
 * metrics.h: Prometheus metrics registry and text exposition format 0.0.4.
 *
 *   vc_metrics_t *m = vc_metrics_new("sophon_auth");
 *   vc_metric_t *req;
 *   vc_metrics_counter(m, "requests_total", "RPC requests.", VC_LABELS("method", "code"), &req);
 *   vc_counter_inc(vc_metric_with(req, "Verify", "200", NULL));
 *   ...
 *   vc_metrics_render(m, &buf);   // GET /metrics, Content-Type VC_METRICS_CONTENT_TYPE
 *
 * Names get "<prefix>_" in front (process_* metrics from vc_metrics_add_process do not).
 * Families render sorted by full name, children in creation order; a labeled family with no
 * children yet is not rendered at all (as the Go client does).
 *
 * Threads: registration and child creation take the registry lock; finding an existing child
 * (vc_metric_with) is lock-free, and updates are C11 atomics (doubles are stored as bits in an
 * atomic uint64 and added with compare-and-swap). Keep the returned child pointers: they live
 * as long as the registry.
 *
 * Cardinality: at most VC_METRICS_MAX_CHILDREN label tuples per family. Beyond that, updates for
 * new tuples go to one overflow child whose label values are all VC_METRICS_OVERFLOW_VALUE
 * (those lookups take the registry lock each time; a daemon hitting this has a label bug).
 *
 * All update functions accept NULL (no-op), so an OOM in vc_metric_with never crashes.
 */
#ifndef VC_METRICS_H
#define VC_METRICS_H

#include <stddef.h>
#include <stdint.h>

#include "vc/util.h"

#define VC_METRICS_CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"
#define VC_METRICS_MAX_LABELS 4
#define VC_METRICS_MAX_CHILDREN 1000
#define VC_METRICS_MAX_BUCKETS 64
#define VC_METRICS_MAX_FAMILIES 4096
#define VC_METRICS_OVERFLOW_VALUE "_overflow"

/* Label-name list literal: VC_LABELS("method", "code"). NULL means no labels. */
#define VC_LABELS(...) ((const char *const[]){__VA_ARGS__, NULL})

typedef enum vc_metric_type {
    VC_METRIC_COUNTER,
    VC_METRIC_GAUGE,
    VC_METRIC_HISTOGRAM,
    VC_METRIC_TYPE_MAX,
} vc_metric_type_t;

typedef struct vc_metrics vc_metrics_t;
typedef struct vc_metric vc_metric_t;             /* a family */
typedef struct vc_metric_child vc_metric_child_t; /* one label-value tuple of a family */

/* Default histogram buckets (seconds), as the Go client's DefBuckets:
 * .005 .01 .025 .05 .1 .25 .5 1 2.5 5 10 */
extern const double vc_metrics_default_buckets[11];

/* prefix may be NULL or "". NULL on OOM or an invalid prefix. */
vc_metrics_t *vc_metrics_new(const char *prefix);
vc_metrics_t *vc_metrics_free(vc_metrics_t *m);
VC_DEFINE_CLEANUP(vc_metrics_t *, vc_metrics_free)

/*
 * Register a family. labels: NULL-terminated names (<= VC_METRICS_MAX_LABELS) or NULL.
 * Registering the same name again with the same type and labels returns the existing family;
 * otherwise -EEXIST. -EINVAL for bad names (metric: [a-zA-Z_:][a-zA-Z0-9_:]*, label:
 * [a-zA-Z_][a-zA-Z0-9_]* not starting "__", "le" reserved in histograms). ret may be NULL.
 */
int vc_metrics_counter(vc_metrics_t *m, const char *name, const char *help, const char *const *labels,
                       vc_metric_t **ret);
int vc_metrics_gauge(vc_metrics_t *m, const char *name, const char *help, const char *const *labels,
                     vc_metric_t **ret);
/* buckets: strictly increasing upper bounds (the +Inf bucket is implicit); NULL = default. */
int vc_metrics_histogram(vc_metrics_t *m, const char *name, const char *help, const char *const *labels,
                         const double *buckets, size_t nbuckets, vc_metric_t **ret);
/* Unlabeled gauge / counter whose value is fn(userdata), called at render time (under the
 * registry lock: fn must not call into this registry). */
int vc_metrics_gauge_func(vc_metrics_t *m, const char *name, const char *help, double (*fn)(void *userdata),
                          void *userdata, vc_metric_t **ret);
int vc_metrics_counter_func(vc_metrics_t *m, const char *name, const char *help, double (*fn)(void *userdata),
                            void *userdata, vc_metric_t **ret);

/* process_cpu_seconds_total, process_open_fds, process_max_fds, process_virtual_memory_bytes,
 * process_resident_memory_bytes, process_start_time_seconds (from /proc; not prefixed). */
int vc_metrics_add_process(vc_metrics_t *m);

/*
 * The child for a label-value tuple, created on first use: pass exactly as many values as the
 * family has labels, then NULL (unlabeled: vc_metric_with(f, NULL)). NULL on a count mismatch,
 * invalid UTF-8 or OOM.
 */
vc_metric_child_t *vc_metric_with(vc_metric_t *f, ...);
vc_metric_child_t *vc_metric_withv(vc_metric_t *f, const char *const *values);

/* Counters only go up: negative or NaN amounts are ignored. */
void vc_counter_inc(vc_metric_child_t *c);
void vc_counter_add(vc_metric_child_t *c, double v);
void vc_gauge_set(vc_metric_child_t *c, double v);
void vc_gauge_add(vc_metric_child_t *c, double v);
void vc_gauge_inc(vc_metric_child_t *c);
void vc_gauge_dec(vc_metric_child_t *c);
void vc_histogram_observe(vc_metric_child_t *c, double v);

/* Current value (counter/gauge) or sum (histogram); 0 for NULL. */
double vc_metric_value(const vc_metric_child_t *c);
/* Observations so far (histogram), 0 otherwise. */
uint64_t vc_histogram_count(const vc_metric_child_t *c);

/* Appends the whole exposition text to out. 0 or -ENOMEM. */
int vc_metrics_render(vc_metrics_t *m, vc_buf_t *out);

#endif
