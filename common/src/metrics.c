/* metrics.c: Prometheus registry with lock-free updates and the text exposition format. */
#include <dirent.h>
#include <inttypes.h>
#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include <jansson.h>

#include "vc/gofmt.h"
#include "vc/metrics.h"

#define NSLOTS 2048 /* power of two, >= 2 * VC_METRICS_MAX_CHILDREN */

const double vc_metrics_default_buckets[11] = {.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10};

struct vc_metric_child {
    struct vc_metric *fam;
    char *values[VC_METRICS_MAX_LABELS];
    uint64_t hash;
    _Atomic uint64_t val;      /* double bits: value, or histogram sum */
    _Atomic uint64_t *buckets; /* histogram: nbounds + 1 counts (last is +Inf), not cumulative */
    struct vc_metric_child *next;
};

struct vc_metric {
    vc_metrics_t *reg;
    char *name, *help;
    vc_metric_type_t type;
    size_t nlabels;
    char *labels[VC_METRICS_MAX_LABELS];
    double *bounds;
    size_t nbounds;
    double (*fn)(void *);
    void *ud;
    _Atomic(vc_metric_child_t *) *slots; /* labeled: insert-only hash table */
    size_t nchildren;                    /* under reg->lock */
    vc_metric_child_t *first, *last;     /* creation order, under reg->lock */
    vc_metric_child_t *overflow;
};

struct vc_metrics {
    char *prefix;
    pthread_mutex_t lock;
    vc_metric_t **fams; /* sorted by name */
    size_t n, cap;
};

/* ---------------------------------------------------------------------------------------------
 * Atomic doubles
 */

static double bits_to_d(uint64_t u)
{
    double d;
    memcpy(&d, &u, sizeof(d));
    return d;
}

static uint64_t d_to_bits(double d)
{
    uint64_t u;
    memcpy(&u, &d, sizeof(u));
    return u;
}

static void atomic_add_d(_Atomic uint64_t *p, double v)
{
    uint64_t old = atomic_load_explicit(p, memory_order_relaxed), nw;
    do
        nw = d_to_bits(bits_to_d(old) + v);
    while (!atomic_compare_exchange_weak_explicit(p, &old, nw, memory_order_relaxed, memory_order_relaxed));
}

/* ---------------------------------------------------------------------------------------------
 * Registry
 */

static bool valid_name(const char *s, bool metric)
{
    if (vc_strempty(s))
        return false;
    for (const char *p = s; *p; p++) {
        char c = *p;
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || (metric && c == ':') ||
                  (p > s && c >= '0' && c <= '9');
        if (!ok)
            return false;
    }
    return metric || strncmp(s, "__", 2) != 0;
}

vc_metrics_t *vc_metrics_new(const char *prefix)
{
    vc_metrics_t *m = calloc(1, sizeof(*m));
    if (!m)
        return NULL;
    if (!vc_strempty(prefix)) {
        if (!valid_name(prefix, true) || !(m->prefix = strdup(prefix))) {
            free(m);
            return NULL;
        }
    }
    pthread_mutex_init(&m->lock, NULL);
    return m;
}

static void child_free(vc_metric_child_t *c)
{
    for (size_t i = 0; i < VC_METRICS_MAX_LABELS; i++)
        free(c->values[i]);
    free((void *)c->buckets);
    free(c);
}

static void fam_free(vc_metric_t *f)
{
    if (!f)
        return;
    for (vc_metric_child_t *c = f->first, *n; c; c = n) {
        n = c->next;
        child_free(c);
    }
    for (size_t i = 0; i < f->nlabels; i++)
        free(f->labels[i]);
    free(f->name);
    free(f->help);
    free(f->bounds);
    free((void *)f->slots);
    free(f);
}

vc_metrics_t *vc_metrics_free(vc_metrics_t *m)
{
    if (!m)
        return NULL;
    for (size_t i = 0; i < m->n; i++)
        fam_free(m->fams[i]);
    free(m->fams);
    free(m->prefix);
    pthread_mutex_destroy(&m->lock);
    free(m);
    return NULL;
}

static vc_metric_child_t *child_new(vc_metric_t *f, const char *const *values, uint64_t hash)
{
    vc_metric_child_t *c = calloc(1, sizeof(*c));
    if (!c)
        return NULL;
    c->fam = f;
    c->hash = hash;
    for (size_t i = 0; i < f->nlabels; i++)
        if (!(c->values[i] = strdup(values[i]))) {
            child_free(c);
            return NULL;
        }
    if (f->type == VC_METRIC_HISTOGRAM && !(c->buckets = calloc(f->nbounds + 1, sizeof(uint64_t)))) {
        child_free(c);
        return NULL;
    }
    return c;
}

static void fam_append(vc_metric_t *f, vc_metric_child_t *c)
{
    if (f->last)
        f->last->next = c;
    else
        f->first = c;
    f->last = c;
    f->nchildren++;
}

static bool same_labels(const vc_metric_t *f, const char *const *labels)
{
    size_t n = 0;
    while (labels && labels[n])
        n++;
    if (n != f->nlabels)
        return false;
    for (size_t i = 0; i < n; i++)
        if (strcmp(f->labels[i], labels[i]) != 0)
            return false;
    return true;
}

static int fam_cmp(const void *a, const void *b)
{
    return strcmp((*(vc_metric_t *const *)a)->name, (*(vc_metric_t *const *)b)->name);
}

static int do_register(vc_metrics_t *m, bool prefixed, vc_metric_type_t type, const char *name,
                       const char *help, const char *const *labels, const double *buckets, size_t nbuckets,
                       double (*fn)(void *), void *ud, vc_metric_t **ret)
{
    vc_metric_t *f = NULL;
    char full[256];
    size_t nl = 0;
    int r;

    if (!m || !name)
        return -EINVAL;
    if (prefixed && m->prefix)
        r = snprintf(full, sizeof(full), "%s_%s", m->prefix, name);
    else
        r = snprintf(full, sizeof(full), "%s", name);
    if (r < 0 || (size_t)r >= sizeof(full) || !valid_name(full, true))
        return -EINVAL;
    while (labels && labels[nl]) {
        if (nl >= VC_METRICS_MAX_LABELS || !valid_name(labels[nl], false) ||
            (type == VC_METRIC_HISTOGRAM && strcmp(labels[nl], "le") == 0))
            return -EINVAL;
        for (size_t j = 0; j < nl; j++)
            if (strcmp(labels[j], labels[nl]) == 0)
                return -EINVAL;
        nl++;
    }
    if (type == VC_METRIC_HISTOGRAM) {
        if (!buckets) {
            buckets = vc_metrics_default_buckets;
            nbuckets = VC_ELEMENTSOF(vc_metrics_default_buckets);
        }
        if (nbuckets == 0 || nbuckets > VC_METRICS_MAX_BUCKETS)
            return -EINVAL;
        for (size_t i = 0; i < nbuckets; i++)
            if (!isfinite(buckets[i]) || (i > 0 && !(buckets[i] > buckets[i - 1])))
                return -EINVAL;
    }

    pthread_mutex_lock(&m->lock);
    for (size_t i = 0; i < m->n; i++)
        if (strcmp(m->fams[i]->name, full) == 0) {
            vc_metric_t *e = m->fams[i];
            bool same = e->type == type && !e->fn && !fn && same_labels(e, labels);
            pthread_mutex_unlock(&m->lock);
            if (!same)
                return -EEXIST;
            if (ret)
                *ret = e;
            return 0;
        }
    r = -ENOMEM;
    if (m->n >= VC_METRICS_MAX_FAMILIES) {
        r = -E2BIG;
        goto fail;
    }
    if (m->n == m->cap) {
        size_t cap = m->cap ? m->cap * 2 : 16;
        vc_metric_t **nf = realloc(m->fams, cap * sizeof(*nf));
        if (!nf)
            goto fail;
        m->fams = nf;
        m->cap = cap;
    }
    f = calloc(1, sizeof(*f));
    if (!f || !(f->name = strdup(full)) || !(f->help = strdup(help ? help : "")))
        goto fail;
    f->reg = m;
    f->type = type;
    f->fn = fn;
    f->ud = ud;
    for (size_t i = 0; i < nl; i++) {
        if (!(f->labels[i] = strdup(labels[i])))
            goto fail;
        f->nlabels++;
    }
    if (type == VC_METRIC_HISTOGRAM) {
        if (!(f->bounds = malloc(nbuckets * sizeof(double))))
            goto fail;
        memcpy(f->bounds, buckets, nbuckets * sizeof(double));
        f->nbounds = nbuckets;
    }
    if (nl > 0) {
        f->slots = calloc(NSLOTS, sizeof(*f->slots));
        if (!f->slots)
            goto fail;
    } else {
        vc_metric_child_t *c = child_new(f, NULL, 0);
        if (!c)
            goto fail;
        fam_append(f, c);
    }
    m->fams[m->n++] = f;
    qsort(m->fams, m->n, sizeof(*m->fams), fam_cmp);
    pthread_mutex_unlock(&m->lock);
    if (ret)
        *ret = f;
    return 0;
fail:
    pthread_mutex_unlock(&m->lock);
    fam_free(f);
    return r;
}

int vc_metrics_counter(vc_metrics_t *m, const char *name, const char *help, const char *const *labels,
                       vc_metric_t **ret)
{
    return do_register(m, true, VC_METRIC_COUNTER, name, help, labels, NULL, 0, NULL, NULL, ret);
}

int vc_metrics_gauge(vc_metrics_t *m, const char *name, const char *help, const char *const *labels,
                     vc_metric_t **ret)
{
    return do_register(m, true, VC_METRIC_GAUGE, name, help, labels, NULL, 0, NULL, NULL, ret);
}

int vc_metrics_histogram(vc_metrics_t *m, const char *name, const char *help, const char *const *labels,
                         const double *buckets, size_t nbuckets, vc_metric_t **ret)
{
    return do_register(m, true, VC_METRIC_HISTOGRAM, name, help, labels, buckets, nbuckets, NULL, NULL, ret);
}

int vc_metrics_gauge_func(vc_metrics_t *m, const char *name, const char *help, double (*fn)(void *), void *ud,
                          vc_metric_t **ret)
{
    if (!fn)
        return -EINVAL;
    return do_register(m, true, VC_METRIC_GAUGE, name, help, NULL, NULL, 0, fn, ud, ret);
}

int vc_metrics_counter_func(vc_metrics_t *m, const char *name, const char *help, double (*fn)(void *),
                            void *ud, vc_metric_t **ret)
{
    if (!fn)
        return -EINVAL;
    return do_register(m, true, VC_METRIC_COUNTER, name, help, NULL, NULL, 0, fn, ud, ret);
}

/* ---------------------------------------------------------------------------------------------
 * Children
 */

static uint64_t hash_values(const char *const *values, size_t n)
{
    uint64_t h = 1469598103934665603ull; /* FNV-1a */
    for (size_t i = 0; i < n; i++) {
        for (const char *p = values[i]; *p; p++) {
            h ^= (unsigned char)*p;
            h *= 1099511628211ull;
        }
        h ^= 0xff; /* separator */
        h *= 1099511628211ull;
    }
    return h;
}

static bool child_matches(const vc_metric_child_t *c, const char *const *values, size_t n, uint64_t h)
{
    if (c->hash != h)
        return false;
    for (size_t i = 0; i < n; i++)
        if (strcmp(c->values[i], values[i]) != 0)
            return false;
    return true;
}

/* Probes the slot table; returns the match or NULL, and the first empty slot in *ret_slot. */
static vc_metric_child_t *probe(vc_metric_t *f, const char *const *values, uint64_t h, size_t *ret_slot)
{
    size_t i = (size_t)h & (NSLOTS - 1);
    for (size_t k = 0; k < NSLOTS; k++, i = (i + 1) & (NSLOTS - 1)) {
        vc_metric_child_t *c = atomic_load_explicit(&f->slots[i], memory_order_acquire);
        if (!c) {
            *ret_slot = i;
            return NULL;
        }
        if (child_matches(c, values, f->nlabels, h))
            return c;
    }
    *ret_slot = SIZE_MAX;
    return NULL;
}

static bool valid_utf8(const char *s)
{
    json_t *j = json_string(s); /* jansson validates UTF-8 */
    json_decref(j);
    return j != NULL;
}

vc_metric_child_t *vc_metric_withv(vc_metric_t *f, const char *const *values)
{
    vc_metric_child_t *c;
    size_t slot;
    if (!f)
        return NULL;
    if (f->nlabels == 0)
        return (values && values[0]) ? NULL : f->first;
    for (size_t i = 0; i < f->nlabels; i++)
        if (!values || !values[i])
            return NULL;
    if (values[f->nlabels])
        return NULL;
    uint64_t h = hash_values(values, f->nlabels);
    c = probe(f, values, h, &slot);
    if (c)
        return c;

    for (size_t i = 0; i < f->nlabels; i++)
        if (!valid_utf8(values[i]))
            return NULL;
    pthread_mutex_lock(&f->reg->lock);
    c = probe(f, values, h, &slot); /* another thread may have added it meanwhile */
    if (!c) {
        if (f->nchildren >= VC_METRICS_MAX_CHILDREN || slot == SIZE_MAX) {
            if (!f->overflow) {
                const char *ov[VC_METRICS_MAX_LABELS];
                for (size_t i = 0; i < f->nlabels; i++)
                    ov[i] = VC_METRICS_OVERFLOW_VALUE;
                f->overflow = child_new(f, ov, 0);
                if (f->overflow)
                    fam_append(f, f->overflow);
            }
            c = f->overflow;
        } else {
            c = child_new(f, values, h);
            if (c) {
                fam_append(f, c);
                atomic_store_explicit(&f->slots[slot], c, memory_order_release);
            }
        }
    }
    pthread_mutex_unlock(&f->reg->lock);
    return c;
}

vc_metric_child_t *vc_metric_with(vc_metric_t *f, ...)
{
    const char *values[VC_METRICS_MAX_LABELS + 1] = {0};
    va_list ap;
    if (!f)
        return NULL;
    va_start(ap, f);
    for (size_t i = 0; i < f->nlabels + 1; i++) {
        values[i] = va_arg(ap, const char *);
        if (!values[i])
            break;
    }
    va_end(ap);
    return vc_metric_withv(f, values);
}

/* ---------------------------------------------------------------------------------------------
 * Updates
 */

void vc_counter_add(vc_metric_child_t *c, double v)
{
    if (!c || c->fam->type != VC_METRIC_COUNTER || c->fam->fn || !(v >= 0))
        return;
    atomic_add_d(&c->val, v);
}

void vc_counter_inc(vc_metric_child_t *c)
{
    vc_counter_add(c, 1);
}

void vc_gauge_set(vc_metric_child_t *c, double v)
{
    if (!c || c->fam->type != VC_METRIC_GAUGE || c->fam->fn)
        return;
    atomic_store_explicit(&c->val, d_to_bits(v), memory_order_relaxed);
}

void vc_gauge_add(vc_metric_child_t *c, double v)
{
    if (!c || c->fam->type != VC_METRIC_GAUGE || c->fam->fn)
        return;
    atomic_add_d(&c->val, v);
}

void vc_gauge_inc(vc_metric_child_t *c)
{
    vc_gauge_add(c, 1);
}

void vc_gauge_dec(vc_metric_child_t *c)
{
    vc_gauge_add(c, -1);
}

void vc_histogram_observe(vc_metric_child_t *c, double v)
{
    if (!c || c->fam->type != VC_METRIC_HISTOGRAM || isnan(v))
        return;
    const vc_metric_t *f = c->fam;
    size_t lo = 0, hi = f->nbounds; /* first bound >= v, else nbounds (+Inf) */
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (v <= f->bounds[mid])
            hi = mid;
        else
            lo = mid + 1;
    }
    atomic_fetch_add_explicit(&c->buckets[lo], 1, memory_order_relaxed);
    atomic_add_d(&c->val, v);
}

double vc_metric_value(const vc_metric_child_t *c)
{
    if (!c)
        return 0;
    if (c->fam->fn)
        return c->fam->fn(c->fam->ud);
    return bits_to_d(atomic_load_explicit(&((vc_metric_child_t *)c)->val, memory_order_relaxed));
}

uint64_t vc_histogram_count(const vc_metric_child_t *c)
{
    uint64_t n = 0;
    if (!c || c->fam->type != VC_METRIC_HISTOGRAM)
        return 0;
    for (size_t i = 0; i <= c->fam->nbounds; i++)
        n += atomic_load_explicit(&c->buckets[i], memory_order_relaxed);
    return n;
}

/* ---------------------------------------------------------------------------------------------
 * Rendering
 */

static int put_escaped(vc_buf_t *b, const char *s, bool quote)
{
    int r = 0;
    for (const char *p = s; *p && r >= 0; p++) {
        if (*p == '\\')
            r = vc_buf_append(b, "\\\\", 2);
        else if (*p == '\n')
            r = vc_buf_append(b, "\\n", 2);
        else if (quote && *p == '"')
            r = vc_buf_append(b, "\\\"", 2);
        else
            r = vc_buf_append(b, p, 1);
    }
    return r;
}

static int put_float(vc_buf_t *b, double v)
{
    char num[VC_GOFMT_FLOAT_MAX];
    int r = vc_format_float_go(v, 'g', num, sizeof(num));
    return r < 0 ? r : vc_buf_append(b, num, (size_t)r);
}

/* name{labels[,le="x"]} value\n */
static int put_sample(vc_buf_t *b, const vc_metric_t *f, const char *suffix, const vc_metric_child_t *c,
                      const char *le, double v)
{
    int r = vc_buf_append_str(b, f->name);
    if (r >= 0 && suffix)
        r = vc_buf_append_str(b, suffix);
    if (r >= 0 && (f->nlabels || le)) {
        r = vc_buf_append(b, "{", 1);
        for (size_t i = 0; r >= 0 && i < f->nlabels; i++) {
            r = vc_buf_appendf(b, "%s%s=\"", i ? "," : "", f->labels[i]);
            if (r >= 0)
                r = put_escaped(b, c->values[i], true);
            if (r >= 0)
                r = vc_buf_append(b, "\"", 1);
        }
        if (r >= 0 && le)
            r = vc_buf_appendf(b, "%sle=\"%s\"", f->nlabels ? "," : "", le);
        if (r >= 0)
            r = vc_buf_append(b, "}", 1);
    }
    if (r >= 0)
        r = vc_buf_append(b, " ", 1);
    if (r >= 0)
        r = put_float(b, v);
    return r < 0 ? r : vc_buf_append(b, "\n", 1);
}

static int render_family(vc_buf_t *b, const vc_metric_t *f)
{
    static const char *const tnames[] = {"counter", "gauge", "histogram"};
    int r;
    if (!f->first)
        return 0;
    r = vc_buf_appendf(b, "# HELP %s ", f->name);
    if (r >= 0)
        r = put_escaped(b, f->help, false);
    if (r >= 0)
        r = vc_buf_appendf(b, "\n# TYPE %s %s\n", f->name, tnames[f->type]);
    for (const vc_metric_child_t *c = f->first; r >= 0 && c; c = c->next) {
        if (f->type != VC_METRIC_HISTOGRAM) {
            r = put_sample(b, f, NULL, c, NULL, vc_metric_value(c));
            continue;
        }
        uint64_t cum = 0;
        for (size_t i = 0; r >= 0 && i <= f->nbounds; i++) {
            char le[VC_GOFMT_FLOAT_MAX];
            cum += atomic_load_explicit(&((vc_metric_child_t *)c)->buckets[i], memory_order_relaxed);
            if (i < f->nbounds)
                vc_format_float_go(f->bounds[i], 'g', le, sizeof(le));
            else
                strcpy(le, "+Inf");
            r = put_sample(b, f, "_bucket", c, le, (double)cum);
        }
        if (r >= 0)
            r = put_sample(b, f, "_sum", c, NULL, vc_metric_value(c));
        if (r >= 0)
            r = put_sample(b, f, "_count", c, NULL, (double)cum);
    }
    return r;
}

int vc_metrics_render(vc_metrics_t *m, vc_buf_t *out)
{
    int r = 0;
    if (!m || !out)
        return -EINVAL;
    if (vc_buf_reserve(out, 256) < 0)
        return -ENOMEM;
    out->data[out->len] = 0;
    pthread_mutex_lock(&m->lock);
    for (size_t i = 0; r >= 0 && i < m->n; i++)
        r = render_family(out, m->fams[i]);
    pthread_mutex_unlock(&m->lock);
    return r < 0 ? -ENOMEM : 0;
}

/* ---------------------------------------------------------------------------------------------
 * Process metrics (Linux /proc)
 */

/* Fields of /proc/self/stat after the command name: index 0 is field 3 (state). */
static int proc_stat_fields(unsigned long long *utime, unsigned long long *stime, unsigned long long *start)
{
    char buf[1024];
    FILE *f = fopen("/proc/self/stat", "re");
    if (!f)
        return -errno;
    size_t n = fread(buf, 1, sizeof(buf) - 1, f);
    fclose(f);
    buf[n] = 0;
    char *p = strrchr(buf, ')');
    if (!p)
        return -EIO;
    p++;
    unsigned long long vals[32] = {0};
    int idx = 0;
    char *save = NULL;
    for (char *tok = strtok_r(p, " ", &save); tok && idx < 32; tok = strtok_r(NULL, " ", &save), idx++)
        vals[idx] = strtoull(tok, NULL, 10);
    if (idx < 20)
        return -EIO;
    *utime = vals[11]; /* field 14 */
    *stime = vals[12]; /* field 15 */
    *start = vals[19]; /* field 22 */
    return 0;
}

static double proc_cpu_seconds(void *ud)
{
    unsigned long long u, s, st;
    long tck = sysconf(_SC_CLK_TCK);
    if (proc_stat_fields(&u, &s, &st) < 0 || tck <= 0)
        return 0;
    return (double)(u + s) / (double)tck;
}

static double proc_start_time(void *ud)
{
    unsigned long long u, s, st, btime = 0;
    long tck = sysconf(_SC_CLK_TCK);
    char line[256];
    if (proc_stat_fields(&u, &s, &st) < 0 || tck <= 0)
        return 0;
    FILE *f = fopen("/proc/stat", "re");
    if (!f)
        return 0;
    while (fgets(line, sizeof(line), f))
        if (strncmp(line, "btime ", 6) == 0) {
            btime = strtoull(line + 6, NULL, 10);
            break;
        }
    fclose(f);
    return (double)btime + (double)st / (double)tck;
}

static double proc_statm(int which)
{
    unsigned long long size = 0, rss = 0;
    FILE *f = fopen("/proc/self/statm", "re");
    if (!f)
        return 0;
    if (fscanf(f, "%llu %llu", &size, &rss) != 2)
        size = rss = 0;
    fclose(f);
    return (double)(which ? rss : size) * (double)sysconf(_SC_PAGESIZE);
}

static double proc_vsize(void *ud)
{
    return proc_statm(0);
}

static double proc_rss(void *ud)
{
    return proc_statm(1);
}

static double proc_open_fds(void *ud)
{
    DIR *d = opendir("/proc/self/fd");
    struct dirent *e;
    double n = 0;
    if (!d)
        return 0;
    while ((e = readdir(d)))
        if (e->d_name[0] != '.')
            n++;
    closedir(d);
    return n - 1; /* the directory stream's own fd */
}

static double proc_max_fds(void *ud)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) < 0)
        return 0;
    return rl.rlim_cur == RLIM_INFINITY ? INFINITY : (double)rl.rlim_cur;
}

int vc_metrics_add_process(vc_metrics_t *m)
{
    static const struct {
        vc_metric_type_t type;
        const char *name, *help;
        double (*fn)(void *);
    } defs[] = {
        {VC_METRIC_COUNTER, "process_cpu_seconds_total", "Total user and system CPU time spent in seconds.",
         proc_cpu_seconds},
        {VC_METRIC_GAUGE, "process_max_fds", "Maximum number of open file descriptors.", proc_max_fds},
        {VC_METRIC_GAUGE, "process_open_fds", "Number of open file descriptors.", proc_open_fds},
        {VC_METRIC_GAUGE, "process_resident_memory_bytes", "Resident memory size in bytes.", proc_rss},
        {VC_METRIC_GAUGE, "process_start_time_seconds",
         "Start time of the process since unix epoch in seconds.", proc_start_time},
        {VC_METRIC_GAUGE, "process_virtual_memory_bytes", "Virtual memory size in bytes.", proc_vsize},
    };
    for (size_t i = 0; i < VC_ELEMENTSOF(defs); i++) {
        int r = do_register(m, false, defs[i].type, defs[i].name, defs[i].help, NULL, NULL, 0, defs[i].fn,
                            NULL, NULL);
        if (r < 0)
            return r;
    }
    return 0;
}
