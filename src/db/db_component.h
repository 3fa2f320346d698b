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
 * stuck query therefore never holds the process past the margin.
 */
#ifndef KC_DB_COMPONENT_H
#define KC_DB_COMPONENT_H

#include "core/component.h"

/* The operations of the db component; self is a struct db_pool. */
extern const struct component_ops db_component_ops;

#endif /* KC_DB_COMPONENT_H */
