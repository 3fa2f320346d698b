/*
 * http_server.h - one HTTP listener: an evhttp server on the daemon's
 * event loop with a route table, and the component operations the
 * shutdown plan drives.
 *
 * The daemon runs two, built the same way: the API listener ("api", on
 * `port`, registered as the plan's "http" component and drained by it)
 * and the probe listener ("probe", on `probe_port`, with the built-in
 * routes /healthz/live, /healthz/startup, /healthz/ready and /metrics of
 * http_probes.h). The probe listener is no component: the plan never
 * stops it, so the probes and /metrics answer until the final line.
 * Other modules add routes with http_server_add_route(); a handler
 * answers at once or keeps the exchange and answers later with
 * http_server_reply() (a request is "in flight" from dispatch until its
 * reply is written). A route takes a request body of at most its
 * max_body (0: none); the listener refuses a larger one (413) from its
 * headers. The request bytes a listener buffers over all its connections
 * stay within max_body_total_bytes: a body that does not fit in what the
 * others leave is refused (413) from its headers, or at the read that
 * would pass the budget (http_body.c). Each listener caps its open
 * connections, evicting the slowest and pausing accept(2) rather than
 * spinning (http_admit.c).
 *
 * Component side (http_server_component_ops, self = the server):
 *   stop_accepting  closes the listener (new connections are refused) and
 *                   every connection that has carried a request and has
 *                   none dispatched and unanswered: an idle kept-alive
 *                   one, and also one partway through sending its next
 *                   request (that request is cut, unanswered). A
 *                   connection that has not yet carried a request is not
 *                   tracked and stays open; a request that then arrives on
 *                   it, or behind an answer still in flight, gets 503
 *                   "shutting down" with "Connection: close" instead of
 *                   being served;
 *   drain           answers what is in flight with "Connection: close" and
 *                   completes when nothing is left;
 *   abort           closes every connection and frees the evhttp object
 *                   (held exchanges are cancelled), then completes: after
 *                   it nothing of HTTP runs and the port is free;
 *   close           the same as abort for whatever is left, then completes.
 * The server object itself lives until http_server_free().
 */
#ifndef KC_HTTP_SERVER_H
#define KC_HTTP_SERVER_H

#include "core/component.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct clock;
struct config;
struct event_base;
struct evhttp_request;
struct metrics;
struct http_server;
struct http_exchange;

/* HTTP methods a route accepts (bit set). */
enum http_method {
	HTTP_METHOD_GET = 1 << 0,    /* GET */
	HTTP_METHOD_HEAD = 1 << 1,   /* HEAD (answered like GET, without body) */
	HTTP_METHOD_POST = 1 << 2,   /* POST */
	HTTP_METHOD_PUT = 1 << 3,    /* PUT */
	HTTP_METHOD_DELETE = 1 << 4, /* DELETE */
};

/* Handle a request; answer now or later with http_server_reply(). */
typedef void (*http_handler_fn)(void *arg, struct http_server *srv, struct http_exchange *x);

/* A held exchange is dropped (abort, close, free): forget it, do not reply. */
typedef void (*http_cancel_fn)(void *arg, struct http_exchange *x);

/* One entry of the route table (exact path match). */
struct http_route {
	const char *path; /* e.g. "/healthz/ready"; borrowed */
	unsigned methods; /* enum http_method bits */
	http_handler_fn handler;
	http_cancel_fn cancel; /* may be NULL if the handler always answers at once */
	void *arg;
	size_t max_body; /* the largest request body it takes; 0: none (413 on one) */
};

/* Whether the process is alive; false (with *why) makes /healthz/live answer 503. */
typedef bool (*http_live_fn)(void *arg, const char **why);

/* Server settings; start from http_server_config_default(). */
struct http_server_config {
	const char *name;		       /* "api" or "probe": logs, the listener label */
	bool probes;			       /* serve the built-in probes and /metrics */
	http_live_fn live;		       /* asked by /healthz/live; NULL: always alive */
	void *live_arg;			       /* its argument */
	const char *listen_addr;	       /* "0.0.0.0" */
	int port;			       /* 0 picks a free port */
	size_t max_connections;		       /* open connections at most (http_admit.c) */
	int64_t evict_after_ms;		       /* a slow connection this old may be evicted */
	size_t max_body_bytes;		       /* no route takes more (413); see max_body */
	size_t max_body_total_bytes;	       /* request bytes buffered at most (http_body.c) */
	size_t max_headers_bytes;	       /* larger headers get 400 (libevent 2.1) */
	int64_t timeout_ms;		       /* read/write timeout per connection */
	uint64_t max_requests_per_conn;	       /* then Connection: close; 0: no cap */
	const char *version;		       /* keycastd_build_info{version} */
	struct metrics *metrics;	       /* registry to register into (borrowed), or NULL */
	struct component_registry *components; /* asked by /healthz/ready (borrowed), or NULL */
};

/*
 * The defaults: "api" with the probes, 0.0.0.0:8080, 1024 connections
 * (slow ones evicted after 1 s), 64 KiB body, 4 MiB of bodies in all,
 * 16 KiB headers, 10 s timeout.
 */
struct http_server_config http_server_config_default(void);

/*
 * Copy listen_addr, port, http_max_body_bytes, http_max_body_total_bytes,
 * http_timeout_ms, http_max_connections, http_max_requests_per_connection.
 */
void http_server_config_apply(struct http_server_config *cfg, const struct config *c);

/*
 * Create the server on base, bind and listen. Timers come from clk (a
 * libevent clock on base). On failure returns -1 with a message in
 * err[0..errlen). The caller owns *out and frees it with http_server_free.
 */
int http_server_new(struct http_server **out, struct event_base *base, struct clock *clk,
		    const struct http_server_config *cfg, char *err, size_t errlen)
	__attribute__((warn_unused_result));

/* Free the server (closing whatever is still open). NULL is ignored. */
void http_server_free(struct http_server *srv);

/* The port actually bound (useful when the configuration said 0), or 0. */
int http_server_port(const struct http_server *srv);

/* Add a route (copied; strings borrowed). Returns 0, or -1 if full or taken. */
int http_server_add_route(struct http_server *srv, const struct http_route *route)
	__attribute__((warn_unused_result));

/* Boot finished (config, plan, migrations): /healthz/startup answers 200. */
void http_server_set_started(struct http_server *srv, bool started);

/*
 * Shutting down (the plan's "readiness: fail"): /healthz/ready answers 503
 * and every answer carries "Connection: close" from now on.
 */
void http_server_set_shutting_down(struct http_server *srv);

/* Whether boot has finished. */
bool http_server_started(const struct http_server *srv);

/* Whether the process is alive (the live hook; true without one), else *why says why not. */
bool http_server_live(const struct http_server *srv, const char **why);

/* The listener's name ("api", "probe"). */
const char *http_server_name(const struct http_server *srv);

/* Whether shutdown has begun. */
bool http_server_shutting_down(const struct http_server *srv);

/* The component registry /healthz/ready asks, or NULL. */
struct component_registry *http_server_components(const struct http_server *srv);

/* The metrics registry /metrics renders. */
struct metrics *http_server_metrics(const struct http_server *srv);

/* Requests dispatched and not yet fully answered. */
size_t http_server_inflight(const struct http_server *srv);

/* Open connections that have carried a request (those without one in flight close at
 * stop-accepting). */
size_t http_server_connections(const struct http_server *srv);

/* Every open connection, those still sending their first request included. */
size_t http_server_open_connections(const struct http_server *srv);

/* Request bytes buffered now (requests being received, bodies being answered). */
size_t http_server_body_buffered(const struct http_server *srv);

/* Requests refused (413) so far because the body budget had no room for their body. */
uint64_t http_server_body_refused(const struct http_server *srv);

/* Connections evicted so far to make room under the cap or after an accept error. */
uint64_t http_server_evicted(const struct http_server *srv);

/* Whether the listener is open. */
bool http_server_listening(const struct http_server *srv);

/* The libevent request of an exchange (valid until the reply). */
struct evhttp_request *http_server_exchange_request(struct http_exchange *x);

/*
 * Answer an exchange with status, content type and body[0..len) (copied),
 * adding "Connection: close" while draining. The exchange is the server's
 * and must not be used afterwards.
 */
void http_server_reply(struct http_server *srv, struct http_exchange *x, int status,
		       const char *content_type, const char *body, size_t len);

/* The component operations; register with self = the server. */
extern const struct component_ops http_server_component_ops;

#endif /* KC_HTTP_SERVER_H */
