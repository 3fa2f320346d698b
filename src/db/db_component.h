/*
 * db_component.h - the `db` component: the pool under the shutdown plan.
 *
 * Register it with self = the struct db_pool:
 *
 *     component_register(reg, desc_db, &db_component_ops, pool);
 *
 * stop_accepting and drain are left to the pool's users (the signer stops
 * issuing queries); abort cancels what runs now; close refuses new
 * queries, waits up to the pool's close_timeout_ms (set it to the plan's
 * teardown margin, less a little for the final line) for checked-out
 * connections, then cancels what is stuck and drops it, and completes. A
 * stuck query therefore never holds the process past the margin; what a
 * close had to drop is counted (db_component_dropped), so the plan can
 * tell such a close from a clean one.
 */
#ifndef KC_DB_COMPONENT_H
#define KC_DB_COMPONENT_H

#include "core/component.h"

#include <stdint.h>

/* The operations of the db component; self is a struct db_pool. */
extern const struct component_ops db_component_ops;

/* Queries a close (or an abort) has cut so far, their connections dropped; self is the pool. */
uint64_t db_component_dropped(void *self);

#endif /* KC_DB_COMPONENT_H */
