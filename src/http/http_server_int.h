/*
 * http_server_int.h - what http_server.c, http_conn.c, http_admit.c and
 * http_body.c share: the server, its exchanges and its connections. Not
 * for other modules.
 */
#ifndef KC_HTTP_SERVER_INT_H
#define KC_HTTP_SERVER_INT_H

#include "core/component.h"
#include "core/metrics.h"
#include "core/ratelimit.h"
#include "http/http_server.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct bufferevent;
struct clock_timer;
struct event;
struct evbuffer;
struct evbuffer_cb_entry;
struct evhttp;
struct evhttp_bound_socket;
struct evhttp_connection;
struct metrics_family;

/* Connection admission of one listener (http_admit.c). */
struct http_admit {
	size_t max_conns;	    /* the cap */
	int64_t evict_after_ms;	    /* a connection this old may be evicted */
	struct event *adopt_ev;	    /* adopts the connections accepted this turn */
	struct bufferevent **fresh; /* their bufferevents, not yet adopted */
	size_t nfresh, freshcap;
	struct clock_timer *resume; /* re-enables accepting after a pause */
	bool paused;		    /* the listener is disabled */
	bool logged_pause;	    /* ... and that was logged */
	int64_t pause_ms;	    /* the next pause after an accept error */
	uint64_t evicted;	    /* connections evicted so far */
	struct ratelimit rl;	    /* of the admission log lines */
	struct metrics_family *m_conns, *m_evicted;
};

/* The request body budget of one listener (http_body.c). */
struct http_body {
	size_t budget;	     /* request bytes buffered at most before bodies are refused */
	size_t limit;	     /* the largest body a route takes (the evhttp limit) */
	size_t buffered;     /* request bytes buffered now, over every connection */
	uint64_t refused;    /* requests refused for want of room */
	struct ratelimit rl; /* of the refusal log lines */
	struct metrics_family *m_buffered, *m_budget, *m_refused;
};

#define HTTP_SERVER_MAX_ROUTES 32

/* One dispatched request until its reply is written or its connection is gone. */
struct http_exchange {
	struct http_server *srv;
	struct evhttp_request *req;
	const struct http_route *route; /* NULL for an unmatched path */
	int64_t start_ms;
	bool replied;
	bool last;   /* its connection's last request: the reply says Connection: close */
	size_t body; /* bytes of its request body, counted in the budget until it finishes */
	struct http_exchange *prev, *next;
};

/* An open connection, from its accept (http_admit.c) until it closes. */
struct http_conn {
	struct http_server *srv;
	struct evhttp_connection *evcon;
	int64_t since_ms;	   /* accepted (or first seen) */
	bool carried;		   /* it has carried a request */
	uint64_t requests;	   /* requests dispatched on it so far */
	size_t recv;		   /* bytes received for the request being read (http_body.c) */
	bool lowered;		   /* the budget held that request to a lower body limit */
	struct evbuffer *in, *out; /* its buffers, watched by http_body.c, or NULL */
	struct evbuffer_cb_entry *in_cb, *out_cb;
	struct http_conn *prev, *next; /* newest first */
	struct http_conn *hnext;       /* next in its hash bucket */
};

/* One listener: see http_server.h. */
struct http_server {
	struct event_base *base;
	struct clock *clk;
	char name[16]; /* "api", "probe" */
	http_live_fn live;
	void *live_arg;
	struct evhttp *http; /* NULL once torn down */
	struct evhttp_bound_socket *listener;
	int port;
	struct http_route routes[HTTP_SERVER_MAX_ROUTES];
	size_t nroutes;
	size_t max_body;		/* the configured bound on any route's body */
	uint64_t max_requests_per_conn; /* then Connection: close; 0: no cap */
	struct http_exchange *exchanges;
	struct http_conn *conns;
	struct http_conn **htab; /* conns by evcon: hcap buckets (a power of two) */
	size_t hcap, nconns;	 /* nconns: every open connection tracked */
	size_t conns_peak;	 /* the most open since the heap was last trimmed */
	size_t ncarried;	 /* ... of which have carried a request */
	struct http_admit admit; /* connection cap, accept pauses, evictions (http_admit.c) */
	struct http_body body;	 /* request body budget (http_body.c) */
	size_t inflight;
	bool started, shutting_down, draining;
	bool listened;		   /* it did bind: its teardown is worth a log line */
	bool refusing;		   /* stopped accepting: new requests get 503 */
	int dispatching;	   /* depth of HTTP callbacks on the stack */
	struct component *drain_c; /* a drain waiting for inflight == 0 */
	struct component *teardown_c[COMPONENT_OP_COUNT_]; /* deferred abort/close */
	struct clock_timer *teardown_timer;
	struct clock_timer *idle_timer; /* closes idle connections outside callbacks */
	struct clock_timer *trim_timer; /* gives memory back after a crowd has gone */
	struct metrics *metrics;
	bool own_metrics;
	struct metrics_family *m_requests, *m_inflight, *m_duration;
	struct component_registry *components;
};

/* The entry of evcon, added (with its close callback) on first use; NULL: no memory. */
struct http_conn *http_conn_track(struct http_server *srv, struct evhttp_connection *evcon);

/* Whether a request of conn is dispatched and not yet answered or written. */
bool http_conn_busy(const struct http_conn *conn);

/* Unlink and free a connection entry (its evhttp connection may be gone already). */
void http_conn_forget(struct http_conn *conn);

/*
 * The family name of type in m (histograms get the request-duration
 * buckets), registered now unless a listener sharing m did; NULL when one
 * of another type has the name, or on ENOMEM.
 */
struct metrics_family *http_server_family(struct metrics *m, enum metrics_type type,
					  const char *name, const char *help,
					  const char *const *labels);

/* The trim timer's callback: give the heap's free pages back (clock_timer_fn). */
void http_conn_trim_now(void *arg);

/* A connection is going away (http_conn.c's close callback): drop its exchanges. */
void http_server_conn_gone(struct http_server *srv, struct evhttp_connection *evcon);

/* Set up admission for srv from cfg (after its evhttp and metrics exist); 0 or -1. */
int http_admit_init(struct http_server *srv, const struct http_server_config *cfg);

/* The listener is bound: watch its accept errors. */
void http_admit_listening(struct http_server *srv);

/* A tracked connection closed: accepting may resume. */
void http_admit_closed(struct http_server *srv);

/* The listener closes for good: no pause, no resume. */
void http_admit_stop(struct http_server *srv);

/* Release what http_admit_init made (pending bufferevents are evhttp's). */
void http_admit_free(struct http_server *srv);

/* Set up the body budget for srv from cfg (after its metrics exist); 0 or -1. */
int http_body_init(struct http_server *srv, const struct http_server_config *cfg);

/* The routes changed: the largest body any takes becomes evhttp's limit. */
void http_body_routes(struct http_server *srv);

/* Count what a newly tracked connection receives (its evhttp connection is alive). */
void http_body_watch(struct http_server *srv, struct http_conn *conn);

/* The connection is closing (its evhttp connection still alive): stop watching, release. */
void http_body_unwatch(struct http_server *srv, struct http_conn *conn);

/* The connection entry goes: release what it still counts (its evhttp connection may be gone). */
void http_body_forget(struct http_server *srv, struct http_conn *conn);

/* x's request was read on conn (NULL: untracked): its body moves to x. */
void http_body_dispatched(struct http_server *srv, struct http_conn *conn, struct http_exchange *x);

/* x finished (answered, or its connection gone): its body leaves the budget. */
void http_body_finished(struct http_server *srv, struct http_exchange *x);

/* The route's own limit refuses x's body (413, answered); true if so. */
bool http_body_refused(struct http_server *srv, struct http_exchange *x);

#endif /* KC_HTTP_SERVER_INT_H */
