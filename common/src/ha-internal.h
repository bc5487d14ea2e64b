/* ha-internal.h: what ha.c shares with ha-peers.c (not a public header). */
#ifndef VC_HA_INTERNAL_H
#define VC_HA_INTERNAL_H

#include <stdint.h>

#include "vc/db.h"

/* One transaction (READ COMMITTED on PostgreSQL), no retry, every wait bounded by budget_ms
 * where the database allows it (pool wait, sqlite busy_timeout, PostgreSQL lock_timeout,
 * statement_timeout, idle_in_transaction_session_timeout). Commits when fn returns >= 0. */
int vc_ha_run_bounded(vc_db_t *db, int64_t budget_ms, vc_db_fn_t fn, void *userdata);

#endif
