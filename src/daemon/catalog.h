/*
 * catalog.h - the static catalogue of component kinds keycastd knows.
 *
 * The plan validator checks plans against these descriptions (names and
 * dependencies), so validation works before, or without, live components;
 * the daemon registers the real components under the same descs.
 */
#ifndef KC_CATALOG_H
#define KC_CATALOG_H

#include <stddef.h>

struct component_desc;

/* The HTTP server: probes, metrics, API. */
extern const struct component_desc catalog_http;
/* The relay pool and NIP-46 signer pipeline; depends on db. */
extern const struct component_desc catalog_relay_signer;
/* The PostgreSQL pool. */
extern const struct component_desc catalog_db;

/* Every description, in registration order; *n receives the count. */
const struct component_desc *const *catalog_descs(size_t *n);

#endif /* KC_CATALOG_H */
