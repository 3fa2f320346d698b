/*
 * daemon_api.h - POST /api/nostr on the API listener: the HTTP layer's
 * JSON route (http/http_api.h) answered by the signer (signer/signer_api.h).
 * The daemon joins them here, so neither layer knows the other's types.
 */
#ifndef KC_DAEMON_API_H
#define KC_DAEMON_API_H

#include <stddef.h>

struct clock;
struct config;
struct http_api;
struct http_server;
struct metrics;
struct signer;

/* The path of the signing API. */
#define DAEMON_API_PATH "/api/nostr"

/*
 * Add POST /api/nostr to the API listener srv, answered by signer s, with
 * c's limits (http_max_body_bytes, api_max_inflight). 0, or -1 (logged).
 * Free the listener before the route (http_api_free) and both before s.
 */
int daemon_api_start(struct http_api **out, struct http_server *srv, struct signer *s,
		     const struct config *c, struct clock *clk, struct metrics *m)
	__attribute__((warn_unused_result));

#endif /* KC_DAEMON_API_H */
