/*
 * ha.h: leases with fencing tokens, for daemons that run as one leader plus standbys
 * (DESIGN.md section 5; spec/ha.md 1c, 1d, 1g).
 *
 * One row of table vc_leases per (service, scope) holds the holder id, a fencing token and an
 * expiry. Every time is the DATABASE's clock (vc_db_now_ms: PostgreSQL clock_timestamp(), sqlite
 * the host clock through julianday('now'), shared by every process on the host), in unix ms;
 * the local clock is never compared with a stored time.
 *
 * Tokens: a row starts at token 1; every new term adds 1 (an acquire, even by the previous
 * holder, and every promote); a renew keeps it. Tokens never decrease as long as rows are not
 * deleted (nothing here deletes them; do not either). So (holder, token) names one term, and
 * "the row still has my holder and token and is not expired by the DB clock" is the fencing
 * test that vc_ha_check_fence() runs inside the caller's transaction.
 *
 * Holder ids must be unique per running instance: vc_ha_holder_id() appends a random instance
 * suffix ("<base>/<8 hex>") and the elector always uses it, so two processes started with the
 * same configured name never share an id (and so never both pass the fence).
 *
 * Errors: -EINVAL bad argument, VC_ENOTLEADER the lease is held by another live holder,
 * VC_ESTALE our term is over (token/holder changed or the lease expired), -EBUSY promote refused
 * (live holder, no force), -ENOENT no row, else the db module's errors (VC_ETRANSPORT, -EIO,
 * -ETIMEDOUT, -EBUSY...). Library code: nothing here logs above debug.
 */
#ifndef VC_HA_H
#define VC_HA_H

#include <stdbool.h>
#include <stdint.h>

#include "vc/db.h"
#include "vc/util.h"

#define VC_HA_NAME_MAX 128   /* service and scope: at most this many bytes */
#define VC_HA_HOLDER_MAX 128 /* holder id, NUL included */

#define VC_HA_LEASE_MS_DEFAULT 15000
#define VC_HA_RENEW_DEADLINE_MS_DEFAULT 10000
#define VC_HA_RETRY_MS_DEFAULT 2000

/*
 * Timing, as client-go's leader election (spec/ha.md 1d):
 *   lease_ms           how long a lease lives after each acquire/renew, by the DB clock; a
 *                      standby can take over only after it expired;
 *   renew_deadline_ms  the leader stops acting when it has not renewed for this long (measured
 *                      locally from the start of its last successful renew, on CLOCK_BOOTTIME,
 *                      which also runs while the process is stopped or the host suspended);
 *   retry_ms           pause between tries (renews, acquires, with up to 20 % jitter for
 *                      acquires); also the bound on each elector database call.
 * 0 = the default. Valid when lease > renew deadline > 1.2 x retry > 0. The margin
 * lease - renew deadline (5 s by default) absorbs clock *rate* differences between the host and
 * the database and the time between the start of a renew and its statement.
 */
typedef struct vc_ha_config {
    int64_t lease_ms;
    int64_t renew_deadline_ms;
    int64_t retry_ms;
} vc_ha_config_t;

/* Fills the defaults of cfg (NULL = all defaults) into *ret and validates. -EINVAL when
 * invalid, with a static explanation in *reterr_why (optional). */
int vc_ha_config_validate(const vc_ha_config_t *cfg, vc_ha_config_t *ret, const char **reterr_why);

/* "<base>/<8 random hex digits>" into ret; base NULL or "" = "<hostname>:<pid>". -EINVAL when
 * base is too long for VC_HA_HOLDER_MAX. Needs vc_init() (randomness). */
int vc_ha_holder_id(const char *base, char ret[VC_HA_HOLDER_MAX]);

/* One lease row as seen at db_now_ms (all times DB clock, unix ms). */
typedef struct vc_ha_lease {
    char holder[VC_HA_HOLDER_MAX]; /* the last holder: it still holds it only if live */
    int64_t token;
    int64_t lease_ms;       /* duration written by the last acquire/renew */
    int64_t acquired_at_ms; /* start of the current term */
    int64_t renewed_at_ms;
    int64_t expires_at_ms;
    int64_t db_now_ms;    /* DB clock when read */
    int64_t age_ms;       /* db_now_ms - renewed_at_ms: time since the last renew */
    int64_t remaining_ms; /* expires_at_ms - db_now_ms (<= 0: expired) */
    bool live;            /* expires_at_ms > db_now_ms */
} vc_ha_lease_t;

/* Creates table vc_leases if missing, on either backend (a migration of component "vc_ha" in
 * the shared schema_version table, so it is idempotent and safe to run from several processes
 * at once). Call it once at start-up on every database that hosts leases. */
int vc_ha_ensure_schema(vc_db_t *db);

/*
 * Low-level calls; each is one transaction. vc_ha_acquire and vc_ha_renew are bounded by
 * cfg->retry_ms (pool wait, sqlite busy wait, PostgreSQL lock/statement timeouts) and never
 * retried inside; cfg NULL = defaults. Most daemons use the elector below instead.
 *
 * vc_ha_acquire starts a new term: it takes the row when it is expired, held by `holder`
 * already, or absent, in one guarded statement
 *   UPDATE vc_leases SET holder = $me, token = token + 1, ..., expires_at_ms = $now + $lease
 *    WHERE service = $s AND scope = $sc AND (holder = $me OR expires_at_ms <= $now)
 * followed, when no row matched, by INSERT ... ON CONFLICT (service, scope) DO NOTHING (the
 * primary key is the guard between two first acquirers). 0 and *ret (the new term) on success,
 * VC_ENOTLEADER when another holder's lease is live.
 *
 * vc_ha_renew extends our term: UPDATE ... WHERE holder = $me AND token = $token AND
 * expires_at_ms > $now. 0 and *ret, or VC_ESTALE when the term is over (nothing changed).
 */
int vc_ha_acquire(vc_db_t *db, const char *service, const char *scope, const char *holder,
                  const vc_ha_config_t *cfg, vc_ha_lease_t *ret);
int vc_ha_renew(vc_db_t *db, const char *service, const char *scope, const char *holder, int64_t token,
                const vc_ha_config_t *cfg, vc_ha_lease_t *ret);

/* Steps down: if holder holds a live lease, it expires now (the holder name is kept for
 * status). Returns 1 released, 0 holder did not hold it. Nobody's token changes; the next
 * acquire, by anyone, starts a new term. */
int vc_ha_release(vc_db_t *db, const char *service, const char *scope, const char *holder);

/* Operator view of the row (holder, token, expiry, age since the last renew, by the DB
 * clock). -ENOENT when nobody ever took this lease. */
int vc_ha_status(vc_db_t *db, const char *service, const char *scope, vc_ha_lease_t *ret);

/* Operator take-over for holder: when the lease is expired, absent or already holder's, it is
 * taken at once; while another holder's lease is live it is refused with -EBUSY, unless force.
 * Always a new term (token + 1), so with force the old holder's fenced writes fail from the
 * commit on (its elector also stops at its next renew, within retry_ms). 0 and *ret. */
int vc_ha_promote(vc_db_t *db, const char *service, const char *scope, const char *holder,
                  const vc_ha_config_t *cfg, bool force, vc_ha_lease_t *ret);

/*
 * Fencing for irreversible writes. Call it INSIDE the caller's write transaction (vc_db_tx fn,
 * before or after the writes, on that transaction's connection c):
 *
 *   static int fill(vc_db_conn_t *c, void *ud) {
 *       const job_t *j = ud;
 *       int r = vc_ha_check_fence(c, "messager", "", j->holder, j->token);
 *       if (r < 0)
 *           return r;                 // VC_ESTALE: vc_db_tx rolls the writes back
 *       return vc_db_exec(c, "INSERT ...", ...);
 *   }
 *
 * 0 when the row has this holder and token and is live by the DB clock; VC_ESTALE otherwise
 * (also when the row is absent). It is race-free with acquire/renew/promote:
 *   - sqlite: the caller's transaction is a write transaction (BEGIN IMMEDIATE, which vc_db_tx
 *     uses), so no other process can change the row before it commits;
 *   - PostgreSQL: the row is read FOR SHARE, which blocks every UPDATE of it (a take-over
 *     waits until the caller commits or rolls back; under SERIALIZABLE a concurrent change is
 *     a serialization failure, -EBUSY, which vc_db_tx retries and which then fails the check).
 *     Before taking that lock it sets the transaction's idle_in_transaction_session_timeout
 *     to the lease's remaining time: a caller that stalls inside the transaction (SIGSTOP, VM
 *     pause), even right after the lock was granted, past the
 *     expiry is disconnected by the server and its writes are rolled back instead of blocking
 *     the take-over. That failure surfaces as VC_ETRANSPORT on its next statement.
 * The token to pass is the one of the term the work belongs to (vc_ha_is_leader's token when
 * the work started); a write that spans a change of term then fails instead of running under
 * the new one. In autocommit mode the check means nothing: always use a transaction.
 */
int vc_ha_check_fence(vc_db_conn_t *c, const char *service, const char *scope, const char *holder,
                      int64_t token);

/*
 * Elector: a background thread that keeps trying to acquire the lease and, once leader,
 * renews it every retry_ms.
 *
 * - on_started_leading(token) runs when a term starts, on_stopped_leading() when it ends
 *   (lost, renew deadline passed, paused, promoted elsewhere, or the elector freed); always
 *   paired, never concurrently, from the elector thread, with no lock held. They may call
 *   vc_ha_is_leader / pause / resume, not vc_ha_elector_free or vc_ha_elector_promote.
 * - vc_ha_is_leader() is the authority for "may I act now": it answers false as soon as the
 *   renew deadline (start of the last successful renew + renew_deadline_ms, CLOCK_BOOTTIME)
 *   has passed, even when the elector thread is stuck in a database call or the whole
 *   process was stopped; on_stopped_leading may come later. A renew that succeeds after the
 *   deadline ends the term anyway; the next one gets a new token.
 * - Pause (an operator "ha pause", like EOS producer pause): the elector stops acting at once
 *   (is_leader false when pause returns), releases the lease from its thread and does not
 *   try to acquire until resumed.
 * - Promote: vc_ha_promote for this elector's holder (refused with -EBUSY while another live
 *   holder exists unless force), then a new term starts here (a term already running here
 *   ends first: its token is dead); a successful promote also resumes a paused elector.
 *   Waits for the elector thread, at most lease_ms + retry_ms (-ETIMEDOUT); -EDEADLK from
 *   the elector's own callbacks.
 * - Free: ends a running term (releasing the lease) and joins the thread.
 *
 * Database calls are bounded by retry_ms where the database lets us: pool wait, sqlite
 * busy_timeout (set per call), PostgreSQL lock_timeout, statement_timeout and
 * idle_in_transaction_session_timeout. A PostgreSQL connection that hangs in the network is
 * only bounded by libpq's TCP settings: add tcp_user_timeout / keepalives_* to the DSN.
 * A dedicated small pool (max_conns 2) keeps renews independent of the daemon's busy pool.
 */
typedef struct vc_ha_elector vc_ha_elector_t;

typedef struct vc_ha_elector_options {
    const char *service;     /* required */
    const char *scope;       /* NULL = "" */
    const char *holder_base; /* NULL = "<hostname>:<pid>"; a random suffix is always added */
    vc_ha_config_t config;   /* zeros = defaults */
    bool start_paused;
    void (*on_started_leading)(int64_t token, void *userdata);
    void (*on_stopped_leading)(void *userdata);
    void *userdata;
} vc_ha_elector_options_t;

/* Validates options, creates vc_leases if needed and starts the thread. db is borrowed and
 * must outlive the elector. */
int vc_ha_elector_new(vc_db_t *db, const vc_ha_elector_options_t *opts, vc_ha_elector_t **ret);
/* Stops the thread (see above); NULL is fine. Returns NULL. */
vc_ha_elector_t *vc_ha_elector_free(vc_ha_elector_t *e);
VC_DEFINE_CLEANUP(vc_ha_elector_t *, vc_ha_elector_free)

/* True while this instance leads and its renew deadline has not passed; *ret_token (optional)
 * gets the term's fencing token. */
bool vc_ha_is_leader(vc_ha_elector_t *e, int64_t *ret_token);
const char *vc_ha_elector_holder(const vc_ha_elector_t *e);
const char *vc_ha_elector_service(const vc_ha_elector_t *e);
const char *vc_ha_elector_scope(const vc_ha_elector_t *e);
void vc_ha_elector_pause(vc_ha_elector_t *e);
void vc_ha_elector_resume(vc_ha_elector_t *e);
bool vc_ha_elector_paused(vc_ha_elector_t *e);
int vc_ha_elector_promote(vc_ha_elector_t *e, bool force);

/* Fence with the elector's current term, shaped for callback hooks (msgr_fence_t.check):
 * VC_ENOTLEADER when vc_ha_is_leader is false, else vc_ha_check_fence with its token. */
int vc_ha_elector_fence(vc_db_conn_t *c, void *elector);

#endif
