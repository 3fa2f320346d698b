/*
 * db_component.c - the pool's component operations, behind db_component.h.
 */
#include "db/db_component.h"

#include "db/db_pool.h"

static void db_component_abort(void *self, struct component *c);
static void db_component_close(void *self, struct component *c);
static void db_component_abort_done(void *arg);
static void db_component_close_done(void *arg);
static size_t db_component_inflight(void *self);
static bool db_component_ready(void *self, const char **why);

const struct component_ops db_component_ops = {
	.abort = db_component_abort,
	.close = db_component_close,
	.inflight = db_component_inflight,
	.ready = db_component_ready,
};

/* The pool finished closing after an abort. */
static void db_component_abort_done(void *arg)
{
	component_complete(arg, COMPONENT_OP_ABORT);
}

/* The pool finished closing. */
static void db_component_close_done(void *arg)
{
	component_complete(arg, COMPONENT_OP_CLOSE);
}

/* Abort: cancel running queries now and drop their connections. */
static void db_component_abort(void *self, struct component *c)
{
	db_pool_close(self, 0, db_component_abort_done, c);
}

/* Close within the pool's close timeout (the teardown margin). */
static void db_component_close(void *self, struct component *c)
{
	db_pool_close(self, db_pool_close_timeout(self), db_component_close_done, c);
}

/* Queries running or waiting. */
static size_t db_component_inflight(void *self)
{
	return db_pool_inflight(self);
}

/* Queries a close (or an abort) has cut so far. */
uint64_t db_component_dropped(void *self)
{
	struct db_pool_stats st;

	db_pool_stats(self, &st);
	return st.dropped;
}

/* Ready when a connection is up. */
static bool db_component_ready(void *self, const char **why)
{
	return db_pool_ready(self, why);
}
