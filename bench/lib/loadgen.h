/*
 * loadgen.h: a small HTTP/1.1 keep-alive load generator for the benchmarks: one thread, epoll,
 * N connections each with one request in flight, the same request over and over. Reports
 * requests/s, latency percentiles and non-200 answers.
 */
#ifndef VC_BENCH_LOADGEN_H
#define VC_BENCH_LOADGEN_H

#include <stddef.h>

typedef struct lg_opts {
    const char *host; /* IPv4 literal */
    unsigned port;
    const char *request; /* a complete HTTP/1.1 request (keep-alive) */
    size_t request_len;
    int conns;
    int seconds;
    int warmup_ms;
    /* Optional: when set, each request is written by next() into buf (cap bytes) and its length
     * returned; 0 retires the connection (the run ends early once every connection is retired).
     * conn is the connection's index; request/request_len are then unused. */
    size_t (*next)(void *userdata, int conn, char *buf, size_t cap);
    void *userdata;
} lg_opts_t;

typedef struct lg_result {
    long done;
    long errors; /* non-200 answers */
    double rps;
    double p50_ms, p90_ms, p99_ms, max_ms;
} lg_result_t;

int lg_run(const lg_opts_t *o, lg_result_t *ret);

/* Resident memory of a process in KiB (from /proc/<pid>/status), or -1. */
long lg_rss_kib(int pid);
/* CPU time (user + system) a process has used so far in seconds (from /proc/<pid>/stat), or -1. */
double lg_cpu_seconds(int pid);

#endif
