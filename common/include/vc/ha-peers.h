/*
 * ha-peers.h: presence of running instances, so `ha status` on any instance lists its peers
 * (issue 8 item 7; DESIGN.md section 5).
 *
 * Table vc_peers (a migration of component "vc_ha_peers" in the shared schema_version table,
 * sqlite and PostgreSQL) holds one row per running instance: (service, scope, instance) as the
 * key, the advertised API address, the role ("leader", "standby", "paused", "active"), the
 * heartbeat period the instance promised, started_at_ms and last_seen_ms. Every time is the
 * DATABASE's clock (vc_db_now_ms), so hosts with skewed clocks agree on who is live.
 *
 * Liveness: a row is live while last_seen_ms + VC_HA_PEER_MISSED x its own heartbeat_ms is
 * after the DB clock's now, so readers need no configuration. Rows unseen for
 * VC_HA_PEER_PRUNE_MS are deleted by any instance's heartbeat. A clean stop deletes its row.
 *
 * The instance id must be unique per running process: use the elector's holder id
 * (vc_ha_elector_holder) or vc_ha_holder_id(), which add a random suffix.
 *
 * Errors: -EINVAL bad argument (empty or oversized names, control characters, heartbeat out of
 * range), else the db module's. Library code: nothing here logs above debug.
 */
#ifndef VC_HA_PEERS_H
#define VC_HA_PEERS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vc/db.h"
#include "vc/ha.h"
#include "vc/metrics.h"
#include "vc/util.h"

#define VC_HA_PEER_ADDR_MAX 256 /* advertised address, NUL included */
#define VC_HA_PEER_ROLE_MAX 16  /* role, NUL included */
#define VC_HA_PEER_HEARTBEAT_MS_DEFAULT 3000
#define VC_HA_PEER_HEARTBEAT_MS_MIN 100
#define VC_HA_PEER_HEARTBEAT_MS_MAX 60000
#define VC_HA_PEER_MISSED 3         /* heartbeats missed before a row counts as gone */
#define VC_HA_PEER_PRUNE_MS 600000  /* rows unseen this long are deleted */
#define VC_HA_PEERS_MAX 256         /* vc_ha_peers_list returns at most this many rows */

/* One live row as read at db_now_ms (DB clock, unix ms). */
typedef struct vc_ha_peer {
    char instance[VC_HA_HOLDER_MAX];
    char addr[VC_HA_PEER_ADDR_MAX];
    char role[VC_HA_PEER_ROLE_MAX];
    int64_t heartbeat_ms;
    int64_t started_at_ms;
    int64_t last_seen_ms;
    int64_t age_ms; /* db now - last_seen_ms */
    int64_t up_ms;  /* db now - started_at_ms */
} vc_ha_peer_t;

/* What one heartbeat writes. scope NULL = "", addr NULL = "", heartbeat_ms 0 = default. */
typedef struct vc_ha_peer_beat {
    const char *service;
    const char *scope;
    const char *instance;
    const char *addr;
    const char *role;
    int64_t heartbeat_ms;
} vc_ha_peer_beat_t;

/* Creates table vc_peers if missing (idempotent, safe from several processes at once). */
int vc_ha_peers_ensure_schema(vc_db_t *db);

/*
 * One heartbeat, one transaction bounded by budget_ms (pool wait, sqlite busy wait, PostgreSQL
 * lock/statement timeouts; <= 0 = the beat's heartbeat_ms), never retried: upserts the row
 * (started_at_ms is kept while the row exists), deletes rows unseen for VC_HA_PEER_PRUNE_MS and
 * returns the number of live rows of (service, scope), this one included.
 */
int vc_ha_peer_beat(vc_db_t *db, const vc_ha_peer_beat_t *b, int64_t budget_ms);

/* Deletes the row of instance (a clean stop), bounded like a beat. 1 deleted, 0 absent. */
int vc_ha_peer_leave(vc_db_t *db, const char *service, const char *scope, const char *instance, int64_t budget_ms);

/* The live rows of (service, scope) ordered by instance, at most VC_HA_PEERS_MAX. *ret is
 * malloc'ed (NULL when none); returns the count. */
int vc_ha_peers_list(vc_db_t *db, const char *service, const char *scope, vc_ha_peer_t **ret, size_t *ret_n);

/*
 * Presence: a thread that beats every heartbeat_ms (the first beat at once), and deletes the
 * row when freed. The daemon never waits on the database for it: a slow or failed beat only
 * delays the next one (failures are logged at debug), and the count of live peers of the last
 * good beat is cached for /metrics.
 */
typedef struct vc_ha_presence vc_ha_presence_t;

typedef struct vc_ha_presence_options {
    const char *service;  /* required */
    const char *scope;    /* NULL = "" */
    const char *instance; /* required, unique per process */
    const char *addr;     /* advertised API address; NULL = "" until vc_ha_presence_set_addr */
    int64_t heartbeat_ms; /* 0 = VC_HA_PEER_HEARTBEAT_MS_DEFAULT */
    /* The role written by each beat, called from the presence thread (NULL = "active"). */
    const char *(*role)(void *userdata);
    void *userdata;
} vc_ha_presence_options_t;

/* Validates, creates vc_peers if needed (one bounded call on the caller's thread) and starts
 * the thread. db is borrowed and must outlive the presence. */
int vc_ha_presence_new(vc_db_t *db, const vc_ha_presence_options_t *opts, vc_ha_presence_t **ret);
/* Stops the thread and deletes the row (bounded by the heartbeat period). NULL is fine. */
vc_ha_presence_t *vc_ha_presence_free(vc_ha_presence_t *p);
VC_DEFINE_CLEANUP(vc_ha_presence_t *, vc_ha_presence_free)

/* Changes the advertised address (e.g. once the server knows its bound port) and beats soon.
 * -EINVAL when too long or with control characters. */
int vc_ha_presence_set_addr(vc_ha_presence_t *p, const char *addr);
const char *vc_ha_presence_instance(const vc_ha_presence_t *p);
/* The role the next beat writes. */
const char *vc_ha_presence_role(vc_ha_presence_t *p);
/* vc_ha_peers_list for this presence's service and scope. */
int vc_ha_presence_peers(vc_ha_presence_t *p, vc_ha_peer_t **ret, size_t *ret_n);
/* Live rows counted by the last successful beat, -1 before the first. */
int64_t vc_ha_presence_live(vc_ha_presence_t *p);

/* Registers the gauge ha_peers (live instances seen by the last beat, this one included);
 * nothing when p is NULL. */
void vc_ha_presence_metrics_register(vc_metrics_t *m, vc_ha_presence_t *p);

#endif
