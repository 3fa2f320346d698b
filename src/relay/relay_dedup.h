/*
 * relay_dedup.h - a bounded "seen it already?" set of event ids.
 *
 * The same event arrives from every relay; the pool hands it on once.
 * A key is 64 hex characters: the event id, or (a pool with defer_verify)
 * the SHA-256 of id and signature, relay_conn.c says why.
 * Memory is fixed at creation: the set remembers the last `capacity` ids
 * and forgets the oldest first (a ring plus a chained hash table).
 */
#ifndef KC_RELAY_DEDUP_H
#define KC_RELAY_DEDUP_H

#include <stdbool.h>
#include <stddef.h>

struct relay_dedup;

/* A set remembering up to capacity ids; NULL on ENOMEM. */
struct relay_dedup *relay_dedup_new(size_t capacity) __attribute__((warn_unused_result));

/* Free the set. NULL is ignored. */
void relay_dedup_free(struct relay_dedup *d);

/* Remember id (64 lowercase hex digits); true if it was new, false if seen or not such an id. */
bool relay_dedup_add(struct relay_dedup *d, const char *id) __attribute__((warn_unused_result));

/* Whether id is remembered. */
bool relay_dedup_has(const struct relay_dedup *d, const char *id);

/* The number of ids remembered (at most the capacity). */
size_t relay_dedup_count(const struct relay_dedup *d);

#endif /* KC_RELAY_DEDUP_H */
