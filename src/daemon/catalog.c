/*
 * catalog.c - the component kinds keycastd knows, with their dependencies.
 */
#include "daemon/catalog.h"

#include "core/component.h"

static const char *const catalog_signer_deps[] = {"db", NULL};

const struct component_desc catalog_http = {
	.name = "http",
	.depends = NULL,
	.summary = "HTTP server: health probes, metrics, admin API",
};

const struct component_desc catalog_relay_signer = {
	.name = "relay-signer",
	.depends = catalog_signer_deps,
	.summary = "relay connections and the NIP-46 signing pipeline",
};

const struct component_desc catalog_db = {
	.name = "db",
	.depends = NULL,
	.summary = "PostgreSQL connection pool",
};

static const struct component_desc *const catalog_all[] = {
	&catalog_http,
	&catalog_relay_signer,
	&catalog_db,
};

/* Every description, in registration order. */
const struct component_desc *const *catalog_descs(size_t *n)
{
	*n = sizeof(catalog_all) / sizeof(catalog_all[0]);
	return catalog_all;
}
