/*
 * http_body.c - request bodies on one listener: each route's own limit,
 * and a budget on the request bytes buffered over all its connections
 * (max_body_total_bytes).
 *
 * libevent 2.1 reads a request's body before the route sees the request,
 * and has no hook between a request's headers and its body (the one that
 * would, evhttp_set_newreqcb, came with 2.2). What it has is a body limit
 * per connection, checked against the declared length once the headers
 * are read and again at every read of the body; a body over it is
 * answered 413 (Connection: close) at once, before the rest is read. So
 * the input buffer of every tracked connection is watched (an evbuffer
 * callback, which runs after each read and before evhttp parses what was
 * read): the bytes received for the request being read (request line,
 * headers, body so far) are counted, and the connection's body limit is
 * set to the room the budget leaves next to every other connection's
 * bytes and the bodies of the requests being answered, and never above
 * the largest route's limit. A body whose declared length does not fit is
 * refused from its headers; one still arriving when the others have taken
 * the room it needs is refused at its next read. Either way the client
 * gets 413, the only answer libevent 2.1 can give before a body is read.
 *
 * Bytes leave the count when their request is dispatched (its body then
 * counts in its exchange until that finishes: answered, or dropped with
 * its connection) and when the connection closes, whatever the cause:
 * refused, timed out, evicted, reset by the client, torn down. Header
 * bytes count while they arrive but are not refused here (each
 * connection's headers have their own bound, max_headers_bytes), so the
 * count may pass the budget by headers still arriving; bodies may not.
 *
 * A refusal is counted when libevent starts a 413 of its own on a
 * connection whose request the budget held to a lower limit than the
 * routes take.
 */
#include "http/http_server_int.h"

#include "core/clock.h"
#include "core/log.h"
#include "core/metrics.h"

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/http.h>
#include <string.h>

/* Refusal log lines passed per window, and the window. */
#define HTTP_BODY_LOG_BURST	5
#define HTTP_BODY_LOG_WINDOW_MS 10000

static int http_body_metrics(struct http_server *srv);
static void http_body_on_input(struct evbuffer *buf, const struct evbuffer_cb_info *info,
			       void *arg);
static void http_body_on_output(struct evbuffer *buf, const struct evbuffer_cb_info *info,
				void *arg);
static void http_body_add(struct http_server *srv, struct http_conn *conn, size_t n);
static void http_body_clamp(struct http_server *srv, struct http_conn *conn);
static void http_body_count_refusal(struct http_server *srv);
static void http_body_gauge(struct http_server *srv);
static void http_body_budget_gauge(struct http_server *srv);

/* The budget, the log limiter, the families. */
int http_body_init(struct http_server *srv, const struct http_server_config *cfg)
{
	struct http_body *b = &srv->body;

	b->budget = cfg->max_body_total_bytes;
	ratelimit_init(&b->rl, HTTP_BODY_LOG_BURST, HTTP_BODY_LOG_WINDOW_MS);
	return http_body_metrics(srv);
}

/* The body families (shared by the listeners of one registry). */
static int http_body_metrics(struct http_server *srv)
{
	static const char *const listener[] = {"listener", NULL};
	const char *const me[] = {srv->name};
	struct metrics *m = srv->metrics;
	struct http_body *b = &srv->body;

	b->m_buffered = http_server_family(
		m, METRICS_GAUGE, "keycastd_http_body_buffered_bytes",
		"Request bytes an HTTP listener holds now: of requests being received "
		"(headers and body so far) and the bodies of requests being answered.",
		listener);
	b->m_budget = http_server_family(m, METRICS_GAUGE, "keycastd_http_body_budget_bytes",
					 "Request body bytes an HTTP listener buffers at most "
					 "(http_max_body_total_bytes on the API port; 0 where no "
					 "route takes a body).",
					 listener);
	b->m_refused = http_server_family(
		m, METRICS_COUNTER, "keycastd_http_body_refused_total",
		"HTTP requests refused (413) because the listener's body budget had no "
		"room for their body.",
		listener);
	if (b->m_buffered == NULL || b->m_budget == NULL || b->m_refused == NULL)
		return -1;
	(void)metrics_counter_add(b->m_refused, me, 0);
	http_body_gauge(srv);
	http_body_budget_gauge(srv);
	return 0;
}

/*
 * evhttp refuses (413) a body larger than any route takes, as soon as its
 * headers announce it and before buffering it: a listener whose routes
 * take none buffers no body at all.
 */
void http_body_routes(struct http_server *srv)
{
	size_t m = 0;

	for (size_t i = 0; i < srv->nroutes; i++)
		m = srv->routes[i].max_body > m ? srv->routes[i].max_body : m;
	srv->body.limit = m < srv->max_body ? m : srv->max_body;
	if (srv->http != NULL)
		evhttp_set_max_body_size(srv->http, (ev_ssize_t)srv->body.limit);
	http_body_budget_gauge(srv);
}

/* Watch what conn receives and what libevent answers on it; bytes already there count. */
void http_body_watch(struct http_server *srv, struct http_conn *conn)
{
	struct bufferevent *bev = evhttp_connection_get_bufferevent(conn->evcon);

	if (bev == NULL)
		return;
	conn->in = bufferevent_get_input(bev);
	conn->out = bufferevent_get_output(bev);
	conn->in_cb = evbuffer_add_cb(conn->in, http_body_on_input, conn);
	conn->out_cb = evbuffer_add_cb(conn->out, http_body_on_output, conn);
	if (conn->in_cb != NULL && evbuffer_get_length(conn->in) > 0)
		http_body_add(srv, conn, evbuffer_get_length(conn->in));
}

/* Stop watching conn (its buffers still exist) and release its bytes. */
void http_body_unwatch(struct http_server *srv, struct http_conn *conn)
{
	if (conn->in_cb != NULL)
		evbuffer_remove_cb_entry(conn->in, conn->in_cb);
	if (conn->out_cb != NULL)
		evbuffer_remove_cb_entry(conn->out, conn->out_cb);
	conn->in_cb = conn->out_cb = NULL;
	conn->in = conn->out = NULL;
	http_body_forget(srv, conn);
}

/* Release what conn still counts (its buffers may be gone: they are not touched). */
void http_body_forget(struct http_server *srv, struct http_conn *conn)
{
	if (conn->recv == 0)
		return;
	srv->body.buffered -= conn->recv;
	conn->recv = 0;
	http_body_gauge(srv);
}

/* The request is read: its body counts in x; what is left in the buffer is the next one's. */
void http_body_dispatched(struct http_server *srv, struct http_conn *conn, struct http_exchange *x)
{
	struct http_body *b = &srv->body;

	x->body = evbuffer_get_length(evhttp_request_get_input_buffer(x->req));
	b->buffered += x->body;
	if (conn != NULL) {
		b->buffered -= conn->recv;
		conn->recv = conn->in != NULL ? evbuffer_get_length(conn->in) : 0;
		b->buffered += conn->recv;
		conn->lowered = false;
	}
	http_body_gauge(srv);
}

/* x is done with its body. */
void http_body_finished(struct http_server *srv, struct http_exchange *x)
{
	if (x->body == 0)
		return;
	srv->body.buffered -= x->body;
	x->body = 0;
	http_body_gauge(srv);
}

/* A body larger than the route takes (another route's limit let it in): 413; true if so. */
bool http_body_refused(struct http_server *srv, struct http_exchange *x)
{
	size_t len = evbuffer_get_length(evhttp_request_get_input_buffer(x->req));

	if (len <= x->route->max_body)
		return false;
	if (x->route->max_body == 0)
		http_server_reply(srv, x, 413, "text/plain", "this path takes no request body\n",
				  32);
	else
		http_server_reply(srv, x, 413, "text/plain", "request body too large\n", 23);
	return true;
}

/* Bytes were read on a connection (the callback runs before evhttp parses them). */
static void http_body_on_input(struct evbuffer *buf, const struct evbuffer_cb_info *info, void *arg)
{
	struct http_conn *conn = arg;

	(void)buf;
	if (info->n_added > 0)
		http_body_add(conn->srv, conn, info->n_added);
}

/* n more bytes for conn's request: count them, then set its body limit. */
static void http_body_add(struct http_server *srv, struct http_conn *conn, size_t n)
{
	conn->recv += n;
	srv->body.buffered += n;
	http_body_clamp(srv, conn);
	http_body_gauge(srv);
}

/* conn's body limit: the room the others leave in the budget, at most the routes' limit. */
static void http_body_clamp(struct http_server *srv, struct http_conn *conn)
{
	const struct http_body *b = &srv->body;
	size_t others = b->buffered - conn->recv;
	size_t room = b->budget > others ? b->budget - others : 0;
	size_t limit = room < b->limit ? room : b->limit;

	conn->lowered = limit < b->limit;
	evhttp_connection_set_max_body_size(conn->evcon, (ev_ssize_t)limit);
}

/*
 * Output on a connection: a 413 that libevent starts on its own (the
 * request never reached a route, so it was not dispatched) while the
 * budget held that request to a lower limit is a refusal for want of room.
 */
static void http_body_on_output(struct evbuffer *buf, const struct evbuffer_cb_info *info,
				void *arg)
{
	struct http_conn *conn = arg;
	struct evbuffer_ptr at;
	char line[13];

	if (info->n_added < sizeof(line) || !conn->lowered || conn->recv == 0 ||
	    evbuffer_ptr_set(buf, &at, info->orig_size, EVBUFFER_PTR_SET) != 0 ||
	    evbuffer_copyout_from(buf, &at, line, sizeof(line)) != (ev_ssize_t)sizeof(line))
		return;
	if (memcmp(line, "HTTP/1.", 7) != 0 || memcmp(line + 8, " 413 ", 5) != 0)
		return;
	conn->lowered = false; /* once per request */
	http_body_count_refusal(conn->srv);
}

/* Count a refusal and say so (rate-limited, with a count of the lines left out). */
static void http_body_count_refusal(struct http_server *srv)
{
	struct http_body *b = &srv->body;
	uint64_t suppressed = 0;

	b->refused++;
	(void)metrics_counter_add(b->m_refused, (const char *const[]){srv->name}, 1);
	if (!ratelimit_allow(&b->rl, clock_now_ms(srv->clk), &suppressed))
		return;
	log_warn("http", "request body refused: the body budget is full",
		 log_str("listener", srv->name), log_uint("buffered_bytes", b->buffered),
		 log_uint("budget_bytes", b->budget), log_uint("refused_total", b->refused),
		 log_uint("lines_suppressed", suppressed));
}

/* The listener's budget: 0 while no route takes a body (it changes with the routes only). */
static void http_body_budget_gauge(struct http_server *srv)
{
	(void)metrics_gauge_set(srv->body.m_budget, (const char *const[]){srv->name},
				srv->body.limit > 0 ? (double)srv->body.budget : 0);
}

/* The listener's bytes counted now. */
static void http_body_gauge(struct http_server *srv)
{
	(void)metrics_gauge_set(srv->body.m_buffered, (const char *const[]){srv->name},
				(double)srv->body.buffered);
}
