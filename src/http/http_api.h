/*
 * http_api.h - a JSON API route on an HTTP listener: POST only, a bearer
 * token, a bounded body and a bounded number of requests being handled,
 * each handed to a handler passed in (the layer above answers it, now or
 * later), answered with a status, Retry-After when given, and counted by
 * method and status with a latency histogram:
 *
 *   keycastd_api_requests_total{method,status}
 *   keycastd_api_request_duration_seconds{method}
 *   keycastd_api_requests_in_flight
 *
 * Limits: the body (413 from the listener, before the handler), headers,
 * idle and request timeouts and connections are the listener's
 * (http_server.h); requests being handled at once are this route's
 * (max_inflight: 503 with Retry-After beyond it).
 *
 * Shutdown is the listener's: a request being handled is answered (with
 * Connection: close once shutting down); after stop-accepting a new one
 * gets 503; an abort cancels what is held (the handler's cancel is called,
 * the answer never sent) and counts it as dropped.
 */
#ifndef KC_HTTP_API_H
#define KC_HTTP_API_H

#include <stddef.h>
#include <stdint.h>

struct clock;
struct http_api;
struct http_api_req;
struct http_server;
struct metrics;

/*
 * Handle a request: token[0..toklen) after "Authorization: Bearer " (NULL
 * when none), the body. Answer with http_api_answer(), now or later.
 */
typedef void (*http_api_handler_fn)(void *arg, struct http_api_req *q, const char *token,
				    size_t toklen, const char *body, size_t len);

/* The request's client went away (or the listener aborted): forget q, do not answer it. */
typedef void (*http_api_cancel_fn)(void *arg, struct http_api_req *q);

/* The route's settings. */
struct http_api_config {
	const char *path;	     /* e.g. "/api/nostr" (borrowed) */
	size_t max_body;	     /* largest body taken (413 beyond) */
	size_t max_inflight;	     /* requests being handled at most (503 beyond) */
	http_api_handler_fn handler; /* required */
	http_api_cancel_fn cancel;   /* required */
	void *arg;		     /* their argument */
	struct clock *clock;	     /* latency (borrowed) */
	struct metrics *metrics;     /* the api families (borrowed), or NULL */
};

/* Add the route to srv. 0, or -1 (path taken, families clash, ENOMEM). */
int http_api_new(struct http_api **out, struct http_server *srv, const struct http_api_config *cfg)
	__attribute__((warn_unused_result));

/* Free the route's state (the listener keeps the route: free the listener first). NULL ok. */
void http_api_free(struct http_api *api);

/* Attach the handler's own pointer to q (for its cancel). */
void http_api_req_set_ctx(struct http_api_req *q, void *ctx);

/* The handler's pointer attached to q, or NULL. */
void *http_api_req_ctx(const struct http_api_req *q);

/*
 * Answer q: status, Retry-After seconds (0: none), the method label for
 * the metrics ("unknown" when none), the JSON body (copied). q is gone
 * afterwards.
 */
void http_api_answer(struct http_api_req *q, int status, int64_t retry_after_s, const char *method,
		     const char *json, size_t len);

/* Requests being handled now. */
size_t http_api_inflight(const struct http_api *api);

/* Requests dropped unanswered (client gone, listener aborted) since start. */
uint64_t http_api_dropped(const struct http_api *api);

#endif /* KC_HTTP_API_H */
