/*
 * db_cancel.h - cancelling a running query without blocking the loop.
 *
 * PQcancel blocks (it opens a connection of its own to the server, and
 * libpq 15 has no asynchronous cancel), so it never runs on the caller's
 * thread: a detached thread owns the PGcancel object, calls PQcancel
 * (documented thread-safe) and frees it. The thread runs with every
 * signal blocked and never logs; an unreachable server holds up that
 * thread, never the loop. Whether the cancel took effect is not reported:
 * the caller keeps its own deadline.
 */
#ifndef KC_DB_CANCEL_H
#define KC_DB_CANCEL_H

#include <libpq-fe.h>

/*
 * Send a cancel request for the query running on pg, from a detached
 * thread. 0 when the request is on its way, -1 when it could not be
 * started (nothing is left to free).
 */
int db_cancel_send(PGconn *pg) __attribute__((warn_unused_result));

#endif /* KC_DB_CANCEL_H */
